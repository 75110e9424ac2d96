/* estimate.c — chorus_estimate(): the public face of the remote layer's pricing table. */
#include <string.h>

#include "core/abi.h"
#include "core/engine.h"
#include "net/net.h"

int chorus_estimate(struct chorus_engine *e, const struct chorus_request *req,
                    struct chorus_estimate *out) {
    if (!e || !req || !out) return CHORUS_E_INVALID;
    struct chorus_request rq = chorus_request_default();
    char err[1024];
    int rc = chorus_abi_read(&rq, sizeof rq, req, CHORUS_REQUEST_MIN, "chorus_request", err,
                             sizeof err);
    struct chorus_estimate est;
    memset(&est, 0, sizeof est);
    est.size = sizeof est;
    if (rc == CHORUS_OK)
        rc = chorus_abi_write(out, &est, sizeof est, CHORUS_ESTIMATE_MIN, "chorus_estimate", err,
                              sizeof err);
    if (rc != CHORUS_OK) {
        chorus_engine_set_err("%s", err);
        return rc;
    }
    struct chorus_cost c;
    memset(&c, 0, sizeof c);
    rc = chorus_cost_estimate_request(e, &rq, &c);
    if (rc != CHORUS_OK) return rc;
    est.backend = rq.backend && *rq.backend ? rq.backend : chorus_engine_default_backend(e);
    est.provider = c.provider ? c.provider : "local";
    est.model = c.model;
    est.characters = c.characters;
    est.input_tokens = c.input_tokens;
    est.output_tokens = c.output_tokens;
    est.credits = c.credits;
    est.usd = c.usd;
    est.basis = c.basis;
    return chorus_abi_write(out, &est, sizeof est, CHORUS_ESTIMATE_MIN, "chorus_estimate", err,
                            sizeof err);
}
