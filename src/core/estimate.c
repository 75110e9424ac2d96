/*
 * estimate.c — what a request would cost, from the price rows of the backend's descriptor
 * (struct chorus_price) and the config's [pricing.BACKEND.MODEL] overrides. Nothing is sent.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/abi.h"
#include "core/engine.h"
#include "core/util.h"

#define CHARS_PER_INPUT_TOKEN 4.0

/* The row pricing `model`: the first whose prefix matches, else the NULL-model default. */
static const struct chorus_price *price_row(const struct chorus_price *rows, const char *model) {
    for (const struct chorus_price *p = rows;; p++) {
        if (!p->model) return p;
        if (model && !strncasecmp(model, p->model, strlen(p->model))) return p;
    }
}

static double override(const struct chorus_config *cfg, const char *backend, const char *model,
                       const char *key, double def) {
    if (!cfg || !model) return def;
    char section[192];
    chorus_fmt(section, sizeof section, "pricing.%s.%s", backend, model);
    return chorus_config_double(cfg, section, key, def);
}

int chorus_price_estimate(const struct chorus_backend_desc *d, const struct chorus_config *cfg,
                          const char *model, const char *text, size_t len,
                          struct chorus_estimate *out) {
    memset(out, 0, sizeof *out);
    if (!d) return CHORUS_E_INVALID;
    out->characters = text ? chorus_utf8_chars(text, len) : 0;
    if (!d->prices) {
        out->provider = "local";
        out->model = model ? model : "";
        out->basis = "local engine: free";
        return CHORUS_OK;
    }
    const struct chorus_price *p = price_row(d->prices, model);
    out->provider = d->name;
    out->model = model ? model : "";
    out->basis = p->basis;
    double chars = (double)out->characters;
    double upc = override(cfg, d->name, model, "usd_per_million_chars", p->usd_per_million_chars);
    double uin = override(cfg, d->name, model, "usd_per_million_input_tokens",
                          p->usd_per_million_input_tokens);
    double uout = override(cfg, d->name, model, "usd_per_million_output_tokens",
                           p->usd_per_million_output_tokens);
    double apc = override(cfg, d->name, model, "audio_tokens_per_char", p->audio_tokens_per_char);
    double cpc = override(cfg, d->name, model, "credits_per_char", p->credits_per_char);
    double upcr = override(cfg, d->name, model, "usd_per_credit", p->usd_per_credit);
    if (uin > 0 || uout > 0) {
        out->input_tokens = chars / CHARS_PER_INPUT_TOKEN;
        out->output_tokens = chars * apc;
    }
    out->credits = chars * cpc;
    out->usd = chars * upc / 1e6 + out->input_tokens * uin / 1e6 +
               out->output_tokens * uout / 1e6 + out->credits * upcr;
    return CHORUS_OK;
}

int chorus_estimate(struct chorus_engine *e, const struct chorus_request *req,
                    struct chorus_estimate *out) {
    chorus_engine_clear_err(e);
    if (!e || !req || !out) return CHORUS_E_INVALID;
    struct chorus_request rq = chorus_request_default();
    char err[1024] = "";
    int rc = chorus_abi_read(&rq, sizeof rq, req, CHORUS_REQUEST_MIN, "chorus_request", err,
                             sizeof err);
    struct chorus_estimate est;
    memset(&est, 0, sizeof est);
    est.size = sizeof est;
    if (rc == CHORUS_OK)
        rc = chorus_abi_write(out, &est, sizeof est, CHORUS_ESTIMATE_MIN, "chorus_estimate", err,
                              sizeof err);
    if (rc == CHORUS_OK && !rq.text) {
        chorus_fmt(err, sizeof err, "chorus_estimate: the request has no text");
        rc = CHORUS_E_INVALID;
    }
    const char *name = rq.backend && *rq.backend ? rq.backend : chorus_engine_default_backend(e);
    struct chorus_backend *b = NULL;
    if (rc == CHORUS_OK) rc = chorus_engine_backend(e, name, &b, err, sizeof err);
    if (rc != CHORUS_OK) {
        chorus_engine_set_err(e, "%s", err[0] ? err : chorus_strerror(rc));
        return rc;
    }
    /* the request's model, else the one the backend would use (its config), else the
     * descriptor's default price row */
    const char *model = rq.model && *rq.model ? rq.model : NULL;
    if (!model && b->open_status == CHORUS_OK && b->desc->ops->default_model)
        model = b->desc->ops->default_model(b);
    size_t len = rq.text_len ? rq.text_len : strlen(rq.text);
    chorus_price_estimate(b->desc, e->cfg, model, rq.text, len, &est);
    est.size = sizeof est;
    est.backend = name;
    return chorus_abi_write(out, &est, sizeof est, CHORUS_ESTIMATE_MIN, "chorus_estimate", err,
                            sizeof err);
}
