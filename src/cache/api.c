/* api.c — the cache's part of the public API (chorus.h): stats and clear on an engine. */
#include <string.h>

#include "cache/cache.h"
#include "core/abi.h"
#include "core/engine.h"

int chorus_engine_cache_stats(struct chorus_engine *e, struct chorus_cache_stats *out) {
    if (!e || !out) return CHORUS_E_INVALID;
    char err[1024] = "";
    struct chorus_cache_stats st;
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    int rc = chorus_cache_get_stats(e->cache, &st, err, sizeof err);
    if (rc == CHORUS_OK)
        rc = chorus_abi_write(out, &st, sizeof st, CHORUS_CACHE_STATS_MIN, "chorus_cache_stats",
                              err, sizeof err);
    if (rc) chorus_engine_set_err("%s", err);
    return rc;
}

int chorus_engine_cache_clear(struct chorus_engine *e, uint64_t *entries, uint64_t *bytes) {
    if (entries) *entries = 0;
    if (bytes) *bytes = 0;
    if (!e) return CHORUS_E_INVALID;
    if (!e->cache) {
        chorus_engine_set_err("this engine has no cache directory (no config, or HOME unset)");
        return CHORUS_E_NOT_FOUND;
    }
    char err[1024] = "";
    int rc = chorus_cache_clear(e->cache, entries, bytes, err, sizeof err);
    if (rc) chorus_engine_set_err("%s", err);
    return rc;
}
