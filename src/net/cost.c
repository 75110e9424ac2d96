/*
 * cost.c — cost estimates per provider and model (see net.h and docs/net.md).
 *
 * Figures from ../shared/specs/providers.md (§1.4 OpenAI, §2.7 ElevenLabs), as of 2026:
 *   openai tts-1            $15.00 / 1M characters
 *   openai tts-1-hd         $30.00 / 1M characters
 *   openai gpt-4o-mini-tts  $0.60 / 1M input tokens + $12.00 / 1M audio output tokens
 *   elevenlabs              1 credit / character; flash and turbo models 0.5 credit / character;
 *                           USD per credit from the Creator plan ($22 for 100k credits)
 * Every figure can be overridden in the config, per model:
 *   [pricing.openai.tts-1]  usd_per_million_chars = 15
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "chorus/chorus.h"
#include "core/config.h"
#include "core/engine.h"
#include "net/net.h"

/* gpt-4o-mini-tts: ~1250 audio tokens per minute of speech ($0.015/min at $12/1M), and about
 * 900 characters of English are spoken per minute (150 words of ~6 characters). */
#define AUDIO_TOKENS_PER_MIN 1250.0
#define CHARS_PER_MIN 900.0
#define CHARS_PER_INPUT_TOKEN 4.0

double chorus_cost_openai_audio_tokens_per_char(void) {
    return AUDIO_TOKENS_PER_MIN / CHARS_PER_MIN;
}

struct price {
    const char *provider;
    const char *model; /* prefix match; NULL = provider default */
    double usd_per_million_chars;
    double usd_per_million_input_tokens;
    double usd_per_million_output_tokens;
    double credits_per_char;
    double usd_per_credit;
    const char *basis;
};

static const struct price prices[] = {
    {"openai", "tts-1-hd", 30.0, 0, 0, 0, 0, "$30.00 / 1M characters"},
    {"openai", "tts-1", 15.0, 0, 0, 0, 0, "$15.00 / 1M characters"},
    {"openai", "gpt-4o-mini-tts", 0, 0.60, 12.0, 0, 0,
     "$0.60 / 1M input tokens + $12.00 / 1M audio tokens (estimated from characters)"},
    {"openai", NULL, 15.0, 0, 0, 0, 0, "$15.00 / 1M characters (priced as tts-1)"},
    {"elevenlabs", "eleven_flash", 0, 0, 0, 0.5, 0.00022,
     "0.5 credit / character, $22 / 100k credits"},
    {"elevenlabs", "eleven_turbo", 0, 0, 0, 0.5, 0.00022,
     "0.5 credit / character, $22 / 100k credits"},
    {"elevenlabs", NULL, 0, 0, 0, 1.0, 0.00022, "1 credit / character, $22 / 100k credits"},
    {"alltalk", NULL, 0, 0, 0, 0, 0, "local server: free"},
    {"local", NULL, 0, 0, 0, 0, 0, "local engine: free"},
};

static size_t utf8_chars(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) c++;
    return c;
}

static double override(const struct chorus_config *cfg, const char *provider, const char *model,
                       const char *key, double def) {
    if (!cfg || !model) return def;
    char section[160];
    snprintf(section, sizeof section, "pricing.%s.%s", provider, model);
    return chorus_config_double(cfg, section, key, def);
}

int chorus_cost_estimate(const struct chorus_config *cfg, const char *provider,
                         const char *model, const char *text, size_t len,
                         struct chorus_cost *out) {
    memset(out, 0, sizeof *out);
    if (!provider) return CHORUS_E_INVALID;
    const struct price *p = NULL;
    for (size_t i = 0; i < sizeof prices / sizeof prices[0]; i++) {
        if (strcasecmp(prices[i].provider, provider) != 0) continue;
        if (!prices[i].model ||
            (model && strncasecmp(model, prices[i].model, strlen(prices[i].model)) == 0)) {
            p = &prices[i];
            break;
        }
    }
    if (!p) return CHORUS_E_NOT_FOUND;
    out->provider = p->provider;
    out->model = model ? model : (p->model ? p->model : "");
    out->basis = p->basis;
    out->characters = text ? utf8_chars(text, len) : 0;
    double chars = (double)out->characters;
    double upc = override(cfg, provider, model, "usd_per_million_chars", p->usd_per_million_chars);
    double uin = override(cfg, provider, model, "usd_per_million_input_tokens",
                          p->usd_per_million_input_tokens);
    double uout = override(cfg, provider, model, "usd_per_million_output_tokens",
                           p->usd_per_million_output_tokens);
    double cpc = override(cfg, provider, model, "credits_per_char", p->credits_per_char);
    double upcr = override(cfg, provider, model, "usd_per_credit", p->usd_per_credit);
    if (uin > 0 || uout > 0) {
        out->input_tokens = chars / CHARS_PER_INPUT_TOKEN;
        out->output_tokens = chars * chorus_cost_openai_audio_tokens_per_char();
    }
    out->credits = chars * cpc;
    out->usd = chars * upc / 1e6 + out->input_tokens * uin / 1e6 +
               out->output_tokens * uout / 1e6 + out->credits * upcr;
    return CHORUS_OK;
}

/* The provider a backend name is priced as, and its default model. */
static const char *provider_of(const char *backend) {
    if (!strcasecmp(backend, "openai")) return "openai";
    if (!strcasecmp(backend, "elevenlabs")) return "elevenlabs";
    if (!strncasecmp(backend, "alltalk", 7)) return "alltalk";
    return "local";
}

int chorus_cost_estimate_request(struct chorus_engine *e, const struct chorus_request *req,
                                 struct chorus_cost *out) {
    memset(out, 0, sizeof *out);
    if (!e || !req || !req->text) return CHORUS_E_INVALID;
    const char *backend = req->backend && *req->backend ? req->backend
                                                        : chorus_engine_default_backend(e);
    if (!backend) return CHORUS_E_UNKNOWN_BACKEND;
    const char *provider = provider_of(backend);
    const char *model = req->model && *req->model ? req->model : NULL;
    if (!model && !strcmp(provider, "openai")) {
        const char *places[] = {"openai", "model", NULL};
        model = chorus_config_find(e->cfg, "OPENAI_TTS_MODEL", places);
        if (!model) model = "tts-1";
    } else if (!model && !strcmp(provider, "elevenlabs")) {
        const char *places[] = {"elevenlabs", "model", "app_tts", "ELEVENLABS_DEFAULT_MODEL",
                                NULL};
        model = chorus_config_find(e->cfg, NULL, places);
        if (!model) model = "eleven_multilingual_v2";
    }
    size_t len = req->text_len ? req->text_len : strlen(req->text);
    return chorus_cost_estimate(e->cfg, provider, model, req->text, len, out);
}
