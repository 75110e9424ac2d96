/* api.c — the cache's part of the public API (chorus.h): stats and clear on an engine. */
#include <string.h>

#include "cache/cache.h"
#include "core/abi.h"
#include "core/engine.h"
#include "core/job_filter.h"

static struct chorus_cache *engine_cache(const struct chorus_engine *e) {
    return chorus_engine_filter_state(e, &chorus_cache_filter);
}

int chorus_engine_cache_stats(struct chorus_engine *e, struct chorus_cache_stats *out) {
    chorus_engine_clear_err(e);
    if (!e || !out) return CHORUS_E_INVALID;
    char err[1024] = "";
    struct chorus_cache_stats st;
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    int rc = chorus_cache_get_stats(engine_cache(e), &st, err, sizeof err);
    if (rc == CHORUS_OK)
        rc = chorus_abi_write(out, &st, sizeof st, CHORUS_CACHE_STATS_MIN, "chorus_cache_stats",
                              err, sizeof err);
    if (rc) chorus_engine_set_err(e, "%s", err);
    return rc;
}

int chorus_engine_cache_clear(struct chorus_engine *e, uint64_t *entries, uint64_t *bytes) {
    chorus_engine_clear_err(e);
    if (entries) *entries = 0;
    if (bytes) *bytes = 0;
    if (!e) return CHORUS_E_INVALID;
    struct chorus_cache *c = engine_cache(e);
    if (!c) {
        chorus_engine_set_err(e, "this engine has no cache directory (no config, or HOME unset)");
        return CHORUS_E_NOT_FOUND;
    }
    char err[1024] = "";
    int rc = chorus_cache_clear(c, entries, bytes, err, sizeof err);
    if (rc) chorus_engine_set_err(e, "%s", err);
    return rc;
}
