/* Unit tests of the HTTP layer's pure parts: redaction, Retry-After, backoff, SSE/NDJSON
 * framing, the WAV stream reader, provider error envelopes, exactly-once delivery. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chorus/chorus.h"
#include "net/net.h"
#include "test.h"

TEST(redact_masks_key_and_fragments) {
    const char *key = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    char m[256];
    snprintf(m, sizeof m, "auth failed for %s (Incorrect API key provided: sk-proj-ABCD...6789)",
             key);
    chorus_net_redact(m, sizeof m, key);
    CHECK(strstr(m, key) == NULL);
    CHECK(strstr(m, "sk-proj-ABCD") == NULL);
    CHECK(strstr(m, "ABCDEFGH") == NULL);
    CHECK(strstr(m, "auth failed for ***") != NULL);
    /* text unrelated to the key survives */
    CHECK(strstr(m, "Incorrect API key provided") != NULL);
    /* short secrets: exact matches only */
    char s[64] = "key=abc; cab; abc";
    chorus_net_redact(s, sizeof s, "abc");
    CHECK_STR(s, "key=***; cab; ***");
    /* a secret that is shorter than the mask, at the end of a full buffer, never overflows */
    char t[8] = "xx ab x";
    chorus_net_redact(t, sizeof t, "ab");
    CHECK(strlen(t) < sizeof t);
    CHECK(strstr(t, "ab") == NULL);
    char u[32] = "nothing here";
    chorus_net_redact(u, sizeof u, NULL);
    CHECK_STR(u, "nothing here");
}

TEST(retry_after_values) {
    long long now = 1700000000;
    CHECK_EQ_INT(chorus_http_parse_retry_after("1", now), 1000);
    CHECK_EQ_INT(chorus_http_parse_retry_after(" 120 ", now), 120000);
    CHECK_EQ_INT(chorus_http_parse_retry_after("1.5", now), 1500);
    CHECK_EQ_INT(chorus_http_parse_retry_after("0", now), 0);
    /* Tue, 14 Nov 2023 22:13:20 GMT is 1700000000 */
    CHECK_EQ_INT(chorus_http_parse_retry_after("Tue, 14 Nov 2023 22:13:25 GMT", now), 5000);
    CHECK_EQ_INT(chorus_http_parse_retry_after("Tue, 14 Nov 2023 22:13:00 GMT", now), 0);
    CHECK_EQ_INT(chorus_http_parse_retry_after("", now), -1);
    CHECK_EQ_INT(chorus_http_parse_retry_after("soon", now), -1);
    CHECK_EQ_INT(chorus_http_parse_retry_after("-3", now), -1);
    CHECK_EQ_INT(chorus_http_parse_retry_after(NULL, now), -1);
}

TEST(backoff_grows_and_caps) {
    struct chorus_http_policy p = {0};
    p.backoff_initial_ms = 100;
    p.backoff_max_ms = 1000;
    CHECK_EQ_INT(chorus_http_backoff_ms(&p, 1, 0.999999), 99);
    CHECK_EQ_INT(chorus_http_backoff_ms(&p, 1, 0.0), 50);
    CHECK_EQ_INT(chorus_http_backoff_ms(&p, 3, 0.0), 200);
    CHECK_EQ_INT(chorus_http_backoff_ms(&p, 10, 0.0), 500);
    CHECK(chorus_http_backoff_ms(&p, 30, 0.5) <= 1000);
    /* defaults: 500 ms doubling to 8 s */
    CHECK_EQ_INT(chorus_http_backoff_ms(NULL, 1, 0.0), 250);
    CHECK_EQ_INT(chorus_http_backoff_ms(NULL, 20, 0.0), 4000);
}

struct frames {
    char got[8][128];
    int n;
};
static int on_frame(void *ud, const char *s, size_t n) {
    struct frames *f = ud;
    if (f->n < 8) snprintf(f->got[f->n], sizeof f->got[0], "%.*s", (int)n, s);
    f->n++;
    return 0;
}

TEST(sse_framing_byte_by_byte) {
    const char *in = ": comment\r\nevent: speech\r\ndata: {\"a\":1}\r\n\r\n"
                     "data: line1\ndata: line2\n\nid: 3\nretry: 10\n\n"
                     "data:nospace\r\rdata: tail";
    struct frames fr = {0};
    struct chorus_framer f;
    chorus_framer_init(&f, 1, 0, on_frame, &fr);
    for (size_t i = 0; in[i]; i++) CHECK_EQ_INT(chorus_framer_feed(&f, in + i, 1), 0);
    CHECK_EQ_INT(chorus_framer_finish(&f), 0);
    chorus_framer_release(&f);
    CHECK_EQ_INT(fr.n, 4);
    CHECK_STR(fr.got[0], "{\"a\":1}");
    CHECK_STR(fr.got[1], "line1\nline2");
    CHECK_STR(fr.got[2], "nospace");
    CHECK_STR(fr.got[3], "tail");
}

TEST(ndjson_framing_and_limit) {
    struct frames fr = {0};
    struct chorus_framer f;
    chorus_framer_init(&f, 0, 16, on_frame, &fr);
    CHECK_EQ_INT(chorus_framer_feed(&f, "{\"x\":1}\n\n{\"y\"", 13), 0);
    CHECK_EQ_INT(chorus_framer_feed(&f, ":2}", 3), 0);
    CHECK_EQ_INT(chorus_framer_finish(&f), 0);
    CHECK_EQ_INT(fr.n, 2);
    CHECK_STR(fr.got[1], "{\"y\":2}");
    CHECK_EQ_INT(chorus_framer_feed(&f, "0123456789abcdefXYZ", 19), CHORUS_E_TOO_LONG);
    chorus_framer_release(&f);
}

struct pcm_sink {
    short x[4096];
    size_t n;
    int rate, calls;
};
static int on_pcm(void *ud, const short *x, size_t n, int rate) {
    struct pcm_sink *s = ud;
    for (size_t i = 0; i < n && s->n < 4096; i++) s->x[s->n++] = x[i];
    s->rate = rate;
    s->calls++;
    return 0;
}

static size_t make_wav(unsigned char *b, int channels, int rate, int nframes, int streaming) {
    size_t data = (size_t)nframes * (size_t)channels * 2;
    uint32_t riff = streaming ? 0xFFFFFFFFu : (uint32_t)(36 + 8 + 4 + data);
    uint32_t dsz = streaming ? 0xFFFFFFFFu : (uint32_t)data;
    size_t o = 0;
#define PUT(s, n) (memcpy(b + o, s, n), o += n)
#define U32(v) do { uint32_t v_ = (v); for (int i_ = 0; i_ < 4; i_++) b[o++] = (unsigned char)(v_ >> (8 * i_)); } while (0)
#define U16(v) do { unsigned v_ = (v); b[o++] = (unsigned char)v_; b[o++] = (unsigned char)(v_ >> 8); } while (0)
    PUT("RIFF", 4); U32(riff); PUT("WAVE", 4);
    PUT("LIST", 4); U32(4); PUT("INFO", 4); /* an extra chunk to skip */
    PUT("fmt ", 4); U32(16); U16(1); U16((unsigned)channels); U32((uint32_t)rate);
    U32((uint32_t)(rate * channels * 2)); U16((unsigned)(channels * 2)); U16(16);
    PUT("data", 4); U32(dsz);
    for (int i = 0; i < nframes; i++)
        for (int c = 0; c < channels; c++) U16((unsigned)(uint16_t)(short)(i * 10 + c * 2));
    return o;
}

TEST(wav_reader_split_feeds_and_downmix) {
    static unsigned char b[20000];
    size_t n = make_wav(b, 2, 22050, 1000, 0);
    for (size_t step = 1; step < 40; step += 7) {
        struct pcm_sink s = {0};
        struct chorus_wavreader w;
        chorus_wavreader_init(&w, on_pcm, &s);
        for (size_t i = 0; i < n; i += step)
            CHECK_EQ_INT(chorus_wavreader_feed(&w, b + i, n - i < step ? n - i : step), 0);
        CHECK_EQ_INT(chorus_wavreader_finish(&w), 0);
        chorus_wavreader_release(&w);
        CHECK_EQ_INT(s.n, 1000);
        CHECK_EQ_INT(s.rate, 22050);
        CHECK_EQ_INT(s.x[7], 71); /* (70 + 72) / 2 */
    }
    /* streaming sizes, data running to the end, trailing junk after a sized chunk ignored */
    n = make_wav(b, 1, 24000, 500, 1);
    struct pcm_sink s = {0};
    struct chorus_wavreader w;
    chorus_wavreader_init(&w, on_pcm, &s);
    CHECK_EQ_INT(chorus_wavreader_feed(&w, b, n), 0);
    CHECK_EQ_INT(chorus_wavreader_finish(&w), 0);
    chorus_wavreader_release(&w);
    CHECK_EQ_INT(s.n, 500);
}

TEST(wav_reader_rejects_garbage) {
    struct pcm_sink s = {0};
    struct chorus_wavreader w;
    chorus_wavreader_init(&w, on_pcm, &s);
    CHECK_EQ_INT(chorus_wavreader_feed(&w, "ID3\x04garbage garbage", 19), CHORUS_E_BACKEND);
    CHECK_MSG(strstr(w.err, "not a RIFF/WAVE") != NULL, "%s", w.err);
    chorus_wavreader_release(&w);
    chorus_wavreader_init(&w, on_pcm, &s);
    CHECK_EQ_INT(chorus_wavreader_feed(&w, "RIFF", 4), 0);
    CHECK_EQ_INT(chorus_wavreader_finish(&w), CHORUS_E_BACKEND);
    chorus_wavreader_release(&w);
    /* an encoding that is neither PCM nor float (A-law, tag 6) is refused with its tag */
    unsigned char b[200];
    size_t n = make_wav(b, 1, 8000, 10, 0);
    b[12 + 12 + 8] = 6;
    chorus_wavreader_init(&w, on_pcm, &s);
    CHECK_EQ_INT(chorus_wavreader_feed(&w, b, n), CHORUS_E_BACKEND);
    CHECK_MSG(strstr(w.err, "format tag 6") != NULL, "%s", w.err);
    chorus_wavreader_release(&w);
    /* an empty answer */
    chorus_wavreader_init(&w, on_pcm, &s);
    CHECK_EQ_INT(chorus_wavreader_finish(&w), CHORUS_E_BACKEND);
    CHECK(strstr(w.err, "empty") != NULL);
    chorus_wavreader_release(&w);
}

/* ---- WAVs written by real tools (sox, ffmpeg): the encodings servers send ------------------ */

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(sz > 0 ? (size_t)sz : 1);
    *n = b ? fread(b, 1, (size_t)sz, f) : 0;
    fclose(f);
    return b;
}

struct big_sink {
    short *x;
    size_t n, cap;
    int rate;
};
static int on_big(void *ud, const short *x, size_t n, int rate) {
    struct big_sink *s = ud;
    if (s->n + n > s->cap) {
        s->cap = (s->n + n) * 2;
        s->x = realloc(s->x, s->cap * sizeof *s->x);
    }
    memcpy(s->x + s->n, x, n * sizeof *x);
    s->n += n;
    s->rate = rate;
    return 0;
}

/* Read `wav` through the reader in pieces of `step` bytes; compare with sox's own 16-bit mono
 * conversion of the same file (no dither) within 2 LSB. */
static void check_against_sox(const char *dir, const char *name, const unsigned char *wav,
                              size_t n, size_t step, int expect_rate) {
    struct big_sink s = {0};
    struct chorus_wavreader w;
    chorus_wavreader_init(&w, on_big, &s);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i += step) rc = chorus_wavreader_feed(&w, wav + i, n - i < step ? n - i : step);
    if (!rc) rc = chorus_wavreader_finish(&w);
    CHECK_MSG(rc == 0, "%s: rc %d: %s", name, rc, w.err);
    chorus_wavreader_release(&w);
    CHECK_EQ_INT(s.rate, expect_rate);
    char cmd[1024], ref[600];
    snprintf(ref, sizeof ref, "%s/%s.raw", dir, name);
    snprintf(cmd, sizeof cmd, "sox -D '%s/%s.wav' -t raw -e signed -b 16 -c 1 '%s'", dir, name, ref);
    CHECK_MSG(system(cmd) == 0, "%s", cmd);
    size_t rn = 0;
    unsigned char *rb = slurp(ref, &rn);
    CHECK(rb != NULL);
    CHECK_MSG(rn / 2 == s.n, "%s: %zu samples, sox %zu", name, s.n, rn / 2);
    size_t bad = 0;
    double energy = 0;
    for (size_t i = 0; i < s.n && i < rn / 2; i++) {
        int r = (short)(rb[2 * i] | rb[2 * i + 1] << 8);
        if (abs(r - s.x[i]) > 2) bad++;
        energy += (double)s.x[i] * s.x[i];
    }
    CHECK_MSG(bad == 0, "%s: %zu samples differ from sox's by more than 2 LSB", name, bad);
    CHECK_MSG(s.n && energy / (double)s.n > 1e4, "%s: silent", name); /* a real tone came out */
    free(rb);
    free(s.x);
}

/* Set the RIFF and data sizes to v, as streaming servers do (AllTalk: 0, others: 0xFFFFFFFF). */
static void streaming_sizes(unsigned char *b, size_t n, uint32_t v) {
    for (int i = 0; i < 4; i++) b[4 + i] = (unsigned char)(v >> (8 * i));
    for (size_t o = 12; o + 8 <= n;) {
        uint32_t sz = (uint32_t)b[o + 4] | (uint32_t)b[o + 5] << 8 | (uint32_t)b[o + 6] << 16 |
                      (uint32_t)b[o + 7] << 24;
        if (!memcmp(b + o, "data", 4)) {
            for (int i = 0; i < 4; i++) b[o + 4 + i] = (unsigned char)(v >> (8 * i));
            return;
        }
        o += 8 + sz + (sz & 1);
    }
}

TEST(wav_reader_reads_what_real_tools_write) {
    char dir[] = "/tmp/chorus-wavXXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    static const struct { const char *name, *cmd; int rate; } cases[] = {
        /* torchaudio's soundfile/sox backends save float32 (AllTalk XTTS, travisvn) */
        {"sox_f32", "sox -n -r 24000 -e floating-point -b 32 %s synth 0.3 sine 440 vol 0.5", 24000},
        {"sox_f64", "sox -n -r 22050 -e floating-point -b 64 %s synth 0.3 sine 440 vol 0.5", 22050},
        {"sox_s24", "sox -n -r 24000 -e signed -b 24 %s synth 0.3 sine 440 vol 0.5", 24000},
        {"sox_s32", "sox -n -r 16000 -e signed -b 32 %s synth 0.3 sine 440 vol 0.5", 16000},
        {"sox_u8", "sox -n -r 8000 -e unsigned -b 8 %s synth 0.3 sine 440 vol 0.5", 8000},
        {"sox_stereo", "sox -n -r 24000 -e signed -b 16 -c 2 %s synth 0.3 sine 440 sine 660 vol 0.5", 24000},
        /* ffmpeg writes WAVE_FORMAT_EXTENSIBLE for float and for more than 2 channels */
        {"ff_f32_ext", "ffmpeg -v error -f lavfi -i sine=f=440:r=24000:d=0.3 -c:a pcm_f32le -y %s", 24000},
        {"ff_s24_6ch", "ffmpeg -v error -f lavfi -i sine=f=440:r=48000:d=0.3 -ac 6 -c:a pcm_s24le -y %s", 48000},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char path[600], cmd[1200];
        snprintf(path, sizeof path, "%s/%s.wav", dir, cases[k].name);
        snprintf(cmd, sizeof cmd, cases[k].cmd, path);
        CHECK_MSG(system(cmd) == 0, "%s", cmd);
        size_t n = 0;
        unsigned char *b = slurp(path, &n);
        CHECK(b && n > 44);
        if (!b) continue;
        if (!strcmp(cases[k].name, "ff_f32_ext") || !strcmp(cases[k].name, "ff_s24_6ch"))
            CHECK_MSG(b[20] == 0xFE && b[21] == 0xFF, "%s: not WAVE_FORMAT_EXTENSIBLE", cases[k].name);
        check_against_sox(dir, cases[k].name, b, n, 1 + k * 61, cases[k].rate);
        free(b);
    }
    /* float32 with the streaming sizes of AllTalk (0) and of OpenAI/travisvn (0xFFFFFFFF) */
    char path[600];
    snprintf(path, sizeof path, "%s/sox_f32.wav", dir);
    size_t n = 0;
    unsigned char *b = slurp(path, &n);
    CHECK(b != NULL);
    for (int z = 0; z < 2 && b; z++) {
        streaming_sizes(b, n, z ? 0xFFFFFFFFu : 0);
        struct big_sink s = {0};
        struct chorus_wavreader w;
        chorus_wavreader_init(&w, on_big, &s);
        CHECK_EQ_INT(chorus_wavreader_feed(&w, b, n), 0);
        CHECK_EQ_INT(chorus_wavreader_finish(&w), 0);
        CHECK_EQ_INT(s.n, 7200); /* 0.3 s at 24 kHz: the data ran to the end */
        chorus_wavreader_release(&w);
        free(s.x);
    }
    free(b);
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    CHECK(system(path) == 0);
}

TEST(provider_error_envelopes) {
    struct chorus_provider_error e;
    const char *oa = "{\"error\":{\"message\":\"You exceeded your current quota.\","
                     "\"type\":\"insufficient_quota\",\"param\":null,\"code\":\"insufficient_quota\"}}";
    CHECK(chorus_provider_error_parse(oa, strlen(oa), &e));
    CHECK_STR(e.message, "You exceeded your current quota.");
    CHECK_STR(e.type, "insufficient_quota");
    CHECK_STR(e.code, "insufficient_quota");
    const char *el = "{\"detail\":{\"status\":\"quota_exceeded\",\"message\":\"This request "
                     "exceeds your quota of 10000.\"}}";
    CHECK(chorus_provider_error_parse(el, strlen(el), &e));
    CHECK_STR(e.code, "quota_exceeded");
    CHECK_STR(e.message, "This request exceeds your quota of 10000.");
    const char *val = "{\"detail\":[{\"loc\":[\"body\",\"voice_settings\",\"speed\"],"
                      "\"msg\":\"too big\",\"type\":\"value_error\"}]}";
    CHECK(chorus_provider_error_parse(val, strlen(val), &e));
    CHECK_STR(e.message, "voice_settings.speed: too big");
    const char *kk = "{\"detail\":{\"error\":\"invalid_model\",\"message\":\"Unsupported model\","
                     "\"type\":\"invalid_request_error\"}}";
    CHECK(chorus_provider_error_parse(kk, strlen(kk), &e));
    CHECK_STR(e.code, "invalid_model");
    CHECK_STR(e.message, "Unsupported model");
    const char *tv = "{\"detail\":{\"error\":{\"message\":\"bad voice\",\"type\":\"validation_error\"}}}";
    CHECK(chorus_provider_error_parse(tv, strlen(tv), &e));
    CHECK_STR(e.message, "bad voice");
    const char *at = "{\"status\":\"generate-failure\",\"error\":\"No such file\"}";
    CHECK(chorus_provider_error_parse(at, strlen(at), &e));
    CHECK_STR(e.message, "No such file");
    const char *fs = "{\"detail\":\"Not Found\"}";
    CHECK(chorus_provider_error_parse(fs, strlen(fs), &e));
    CHECK_STR(e.message, "Not Found");
    const char *html = "\n  <html><body>502 Bad Gateway</body></html>\nmore";
    CHECK(chorus_provider_error_parse(html, strlen(html), &e));
    CHECK_STR(e.message, "<html><body>502 Bad Gateway</body></html>");
    CHECK(!chorus_provider_error_parse("", 0, &e));
    /* control bytes are dropped, never copied into messages */
    const char *ctl = "{\"error\":{\"message\":\"a\\u0007b\\nc\"}}";
    CHECK(chorus_provider_error_parse(ctl, strlen(ctl), &e));
    CHECK_STR(e.message, "ab c");
}

struct outbuf {
    unsigned char b[256];
    size_t n;
};
static int deliver(void *ud, const unsigned char *p, size_t n) {
    struct outbuf *o = ud;
    memcpy(o->b + o->n, p, n);
    o->n += n;
    return 0;
}

TEST(once_stream_replay_dedupes) {
    struct outbuf out = {0};
    struct chorus_once o;
    chorus_once_init(&o, 0, deliver, &out);
    char msg[256];
    chorus_once_rewind(&o);
    CHECK_EQ_INT(chorus_once_write(&o, "abcdef", 6, msg, sizeof msg), 0); /* then it drops */
    chorus_once_rewind(&o);
    CHECK_EQ_INT(chorus_once_write(&o, "abc", 3, msg, sizeof msg), 0);
    CHECK_EQ_INT(chorus_once_write(&o, "defghi", 6, msg, sizeof msg), 0);
    CHECK_EQ_INT(chorus_once_write(&o, "jk", 2, msg, sizeof msg), 0);
    CHECK_EQ_INT(chorus_once_commit(&o, msg, sizeof msg), 0);
    CHECK_EQ_INT(out.n, 11);
    CHECK(memcmp(out.b, "abcdefghijk", 11) == 0);
    /* a replay that differs is refused, not spliced */
    chorus_once_rewind(&o);
    CHECK_EQ_INT(chorus_once_write(&o, "abX", 3, msg, sizeof msg), CHORUS_E_NETWORK);
    CHECK(strstr(msg, "retry_mode=buffer") != NULL);
    /* a replay that ends early is refused at commit */
    chorus_once_rewind(&o);
    CHECK_EQ_INT(chorus_once_write(&o, "abc", 3, msg, sizeof msg), 0);
    CHECK_EQ_INT(chorus_once_commit(&o, msg, sizeof msg), CHORUS_E_NETWORK);
    CHECK_EQ_INT(out.n, 11);
    chorus_once_release(&o);
}

TEST(once_hold_mode) {
    struct outbuf out = {0};
    struct chorus_once o;
    chorus_once_init(&o, 1, deliver, &out);
    chorus_once_rewind(&o);
    CHECK_EQ_INT(chorus_once_write(&o, "xyz", 3, NULL, 0), 0);
    CHECK_EQ_INT(out.n, 0); /* held */
    chorus_once_rewind(&o);   /* failed attempt: dropped */
    CHECK_EQ_INT(chorus_once_write(&o, "hello", 5, NULL, 0), 0);
    CHECK_EQ_INT(chorus_once_commit(&o, NULL, 0), 0);
    CHECK_EQ_INT(out.n, 5);
    CHECK(memcmp(out.b, "hello", 5) == 0);
    chorus_once_release(&o);
}

TEST(url_helpers) {
    char b[64] = "text=";
    CHECK_EQ_INT(chorus_net_urlencode_append(b, sizeof b, "a b&c=d/é"), 0);
    CHECK_STR(b, "text=a%20b%26c%3Dd%2F%C3%A9");
    char small[8] = "";
    CHECK_EQ_INT(chorus_net_urlencode_append(small, sizeof small, "&&&"), -1);
    CHECK(strlen(small) < sizeof small);
    char u[64];
    CHECK_EQ_INT(chorus_net_join_url(u, sizeof u, "http://h:1/v1/", "/audio/speech"), 0);
    CHECK_STR(u, "http://h:1/v1/audio/speech");
    CHECK_EQ_INT(chorus_net_join_url(u, 8, "http://h:1/v1/", "/audio/speech"), -1);
}

int main(void) {
    RUN(redact_masks_key_and_fragments);
    RUN(retry_after_values);
    RUN(backoff_grows_and_caps);
    RUN(sse_framing_byte_by_byte);
    RUN(ndjson_framing_and_limit);
    RUN(wav_reader_split_feeds_and_downmix);
    RUN(wav_reader_rejects_garbage);
    RUN(wav_reader_reads_what_real_tools_write);
    RUN(provider_error_envelopes);
    RUN(once_stream_replay_dedupes);
    RUN(once_hold_mode);
    RUN(url_helpers);
    return test_summary();
}
