/* estimate.c — chorus_estimate(): the public face of the remote layer's pricing table. */
#include <string.h>

#include "core/engine.h"
#include "net/net.h"

int chorus_estimate(struct chorus_engine *e, const struct chorus_request *req,
                    struct chorus_estimate *out) {
    chorus_engine_clear_err(e);
    if (!e || !req || !out) return CHORUS_E_INVALID;
    memset(out, 0, sizeof *out);
    struct chorus_cost c;
    memset(&c, 0, sizeof c);
    int rc = chorus_cost_estimate_request(e, req, &c);
    if (rc != CHORUS_OK) return rc;
    out->backend = req->backend && *req->backend ? req->backend : chorus_engine_default_backend(e);
    out->provider = c.provider ? c.provider : "local";
    out->model = c.model;
    out->characters = c.characters;
    out->input_tokens = c.input_tokens;
    out->output_tokens = c.output_tokens;
    out->credits = c.credits;
    out->usd = c.usd;
    out->basis = c.basis;
    return CHORUS_OK;
}
