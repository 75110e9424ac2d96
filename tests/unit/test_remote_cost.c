/* Cost estimates: the price rows of the openai, elevenlabs and alltalk descriptors
 * (providers.md §1.4, §2.7) and config overrides. */
#include <math.h>

#include "chorus/chorus.h"
#include "core/backend.h"
#include "core/config.h"
#include "test.h"

extern const struct chorus_backend_desc chorus_backend_openai, chorus_backend_elevenlabs,
    chorus_backend_alltalk, chorus_backend_espeak;

TEST(openai_per_character_models) {
    struct chorus_estimate c;
    const char *text = "Hello, world.";
    CHECK_EQ_INT(chorus_price_estimate(&chorus_backend_openai, NULL, "tts-1", text, strlen(text), &c), 0);
    CHECK_EQ_INT(c.characters, 13);
    CHECK_NEAR(c.usd, 13 * 15.0 / 1e6, 1e-12);
    CHECK_EQ_INT(chorus_price_estimate(&chorus_backend_openai, NULL, "tts-1-hd", text, strlen(text), &c), 0);
    CHECK_NEAR(c.usd, 13 * 30.0 / 1e6, 1e-12);
    /* characters, not bytes: "héllo wörld" is 11 characters in 13 bytes */
    const char *u = "h\xc3\xa9llo w\xc3\xb6rld";
    CHECK_EQ_INT(chorus_price_estimate(&chorus_backend_openai, NULL, "tts-1", u, strlen(u), &c), 0);
    CHECK_EQ_INT(c.characters, 11);
}

TEST(openai_token_model) {
    struct chorus_estimate c;
    static char text[9001];
    memset(text, 'a', 9000);
    text[9000] = 0;
    CHECK_EQ_INT(chorus_price_estimate(&chorus_backend_openai, NULL, "gpt-4o-mini-tts", text, 9000, &c), 0);
    CHECK_NEAR(c.input_tokens, 2250, 1e-9);
    /* 9000 characters ~ 10 minutes of speech ~ $0.15 of audio at $0.015 / minute */
    CHECK_NEAR(c.output_tokens, 12500, 1e-6);
    CHECK_NEAR(c.usd, 2250 * 0.6 / 1e6 + 12500 * 12.0 / 1e6, 1e-12);
    CHECK_NEAR(c.usd, 0.15 + 0.00135, 1e-9);
}

TEST(elevenlabs_credits_by_model) {
    struct chorus_estimate c;
    const char *t = "Twenty characters!!!";
    CHECK_EQ_INT(chorus_price_estimate(&chorus_backend_elevenlabs, NULL, "eleven_multilingual_v2", t, 20, &c), 0);
    CHECK_NEAR(c.credits, 20, 1e-12);
    CHECK_EQ_INT(chorus_price_estimate(&chorus_backend_elevenlabs, NULL, "eleven_flash_v2_5", t, 20, &c), 0);
    CHECK_NEAR(c.credits, 10, 1e-12);
    CHECK_EQ_INT(chorus_price_estimate(&chorus_backend_elevenlabs, NULL, "eleven_turbo_v2", t, 20, &c), 0);
    CHECK_NEAR(c.credits, 10, 1e-12);
    CHECK_NEAR(c.usd, 10 * 0.00022, 1e-12);
}

TEST(local_is_free_unknown_provider_is_an_error) {
    struct chorus_estimate c;
    CHECK_EQ_INT(chorus_price_estimate(&chorus_backend_alltalk, NULL, NULL, "abc", 3, &c), 0);
    CHECK_NEAR(c.usd, 0, 0);
    CHECK_STR(c.provider, "alltalk");
    /* a local engine has no price rows: free, priced as "local" */
    CHECK_EQ_INT(chorus_price_estimate(&chorus_backend_espeak, NULL, NULL, "abc", 3, &c), 0);
    CHECK_STR(c.provider, "local");
    CHECK_NEAR(c.usd, 0, 0);
    CHECK_EQ_INT(chorus_price_estimate(NULL, NULL, NULL, "abc", 3, &c), CHORUS_E_INVALID);
    /* an unknown openai model is priced as tts-1 and says so */
    CHECK_EQ_INT(chorus_price_estimate(&chorus_backend_openai, NULL, "tts-9", "abc", 3, &c), 0);
    CHECK(strstr(c.basis, "tts-1") != NULL);
}

TEST(config_overrides_prices) {
    const char *toml = "[pricing.openai.tts-1]\nusd_per_million_chars = 20\n"
                       "[pricing.elevenlabs.eleven_v3]\ncredits_per_char = 2\nusd_per_credit = 0.001\n";
    char err[256];
    struct chorus_config *cfg = chorus_config_parse(toml, strlen(toml), "t.toml", err, sizeof err);
    CHECK_MSG(cfg != NULL, "%s", err);
    struct chorus_estimate c;
    CHECK_EQ_INT(chorus_price_estimate(&chorus_backend_openai, cfg, "tts-1", "abcd", 4, &c), 0);
    CHECK_NEAR(c.usd, 4 * 20.0 / 1e6, 1e-12);
    CHECK_EQ_INT(chorus_price_estimate(&chorus_backend_elevenlabs, cfg, "eleven_v3", "abcd", 4, &c), 0);
    CHECK_NEAR(c.credits, 8, 1e-12);
    CHECK_NEAR(c.usd, 0.008, 1e-12);
    chorus_config_free(cfg);
}

TEST(request_estimate_uses_backend_and_default_model) {
    struct chorus_engine_options o = chorus_engine_options_default();
    o.no_config = 1;
    struct chorus_engine *e = NULL;
    CHECK(chorus_engine_create(&e, &o) == CHORUS_OK);
    struct chorus_request r = chorus_request_default();
    r.backend = "openai";
    r.text = "Estimate me, please.";
    struct chorus_estimate c = {.size = sizeof c};
    unsetenv("OPENAI_TTS_MODEL");
    CHECK_EQ_INT(chorus_estimate(e, &r, &c), 0);
    CHECK_STR(c.provider, "openai");
    CHECK_STR(c.model, "tts-1");
    CHECK_NEAR(c.usd, 20 * 15.0 / 1e6, 1e-12);
    r.backend = "alltalk_narrator";
    CHECK_EQ_INT(chorus_estimate(e, &r, &c), 0);
    CHECK_STR(c.provider, "alltalk");
    CHECK_NEAR(c.usd, 0, 0);
    r.backend = "elevenlabs";
    r.model = "eleven_flash_v2_5";
    CHECK_EQ_INT(chorus_estimate(e, &r, &c), 0);
    CHECK_NEAR(c.credits, 10, 1e-12);
    r.backend = NULL; /* the default local engine is free */
    r.model = NULL;
    CHECK_EQ_INT(chorus_estimate(e, &r, &c), 0);
    CHECK_STR(c.provider, "local");
    chorus_engine_destroy(e);
}

int main(void) {
    RUN(request_estimate_uses_backend_and_default_model);
    RUN(openai_per_character_models);
    RUN(openai_token_model);
    RUN(elevenlabs_credits_by_model);
    RUN(local_is_free_unknown_provider_is_an_error);
    RUN(config_overrides_prices);
    return test_summary();
}
