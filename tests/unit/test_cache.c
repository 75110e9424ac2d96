/* test_cache.c — the audio cache: keys, hits and misses through real streams on espeak (output
 * decoded with libsndfile), identical bytes and word timings on a hit, LRU eviction and the cap,
 * corruption recovery, cancelled jobs, concurrent processes, settings. Every test works in its
 * own temporary directory and never touches the user's cache. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache/cache.h"
#include "chorus/chorus.h"
#include "core/backend.h"
#include "sndcheck.h"
#include "test.h"

static char tmproot[512];
static int ndirs;

/* A fresh directory under the run's temporary root. */
static void fresh_dir(char *out, size_t cap) {
    snprintf(out, cap, "%s/d%d", tmproot, ndirs++);
    mkdir(out, 0700);
}

static void rm_rf(const char *path) {
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", path);
}

/* An engine whose config points the cache at `dir` (max_bytes as text, NULL = default). */
static struct chorus_engine *cache_engine(const char *dir, const char *max_bytes, const char *extra) {
    char cfg[PATH_MAX];
    snprintf(cfg, sizeof cfg, "%s.toml", dir);
    FILE *f = fopen(cfg, "w");
    if (!f) return NULL;
    fprintf(f, "[cache]\ndir = \"%s/cache\"\n", dir);
    if (max_bytes) fprintf(f, "max_bytes = \"%s\"\n", max_bytes);
    if (extra) fputs(extra, f);
    fclose(f);
    struct chorus_engine_options o = chorus_engine_options_default();
    o.config_path = cfg;
    struct chorus_engine *e = NULL;
    char err[512] = "";
    if (chorus_engine_create2(&e, &o, err, sizeof err) != CHORUS_OK) {
        fprintf(stderr, "engine: %s\n", err);
        return NULL;
    }
    return e;
}

struct collect {
    unsigned char *bytes;
    size_t n, cap;
    struct chorus_word words[512];
    size_t nwords;
    size_t chunks, samples;
    int cancel_at_chunk; /* cancel when this many chunks arrived (0: never) */
};

static int collect_cb(const struct chorus_event *ev, void *ud) {
    struct collect *c = ud;
    if (ev->type == CHORUS_EVENT_CHUNK) {
        c->chunks++;
        c->samples += ev->chunk->n_samples;
        if (c->n + ev->chunk->data_len > c->cap) {
            c->cap = (c->n + ev->chunk->data_len) * 2 + 1024;
            c->bytes = realloc(c->bytes, c->cap);
        }
        memcpy(c->bytes + c->n, ev->chunk->data, ev->chunk->data_len);
        c->n += ev->chunk->data_len;
        if (c->cancel_at_chunk && (int)c->chunks >= c->cancel_at_chunk) return 1;
    } else if (ev->type == CHORUS_EVENT_WORD && c->nwords < 512) {
        c->words[c->nwords++] = *ev->word;
    }
    return 0;
}

static int speak_rate; /* output rate asked for (0: the format's default) */

static int speak(struct chorus_engine *e, const char *text, enum chorus_format fmt, unsigned flags,
                 struct collect *c) {
    int cancel_at = c->cancel_at_chunk;
    free(c->bytes); /* a collect may be reused: start it afresh */
    memset(c, 0, sizeof *c);
    c->cancel_at_chunk = cancel_at;
    struct chorus_request r = chorus_request_default();
    r.backend = "espeak";
    r.text = text;
    r.format = fmt;
    r.sample_rate = speak_rate;
    r.flags = flags;
    r.callback = collect_cb;
    r.userdata = c;
    struct chorus_stream *s;
    int rc = chorus_stream_open(e, &r, &s);
    if (rc == CHORUS_OK) rc = chorus_stream_run(s);
    if (rc != CHORUS_OK && rc != CHORUS_E_CANCELLED)
        fprintf(stderr, "speak: %s\n", chorus_stream_errmsg(s));
    chorus_stream_destroy(s);
    return rc;
}

static struct chorus_cache_stats stats(struct chorus_engine *e) {
    struct chorus_cache_stats st = {.size = sizeof st};
    if (chorus_engine_cache_stats(e, &st) != CHORUS_OK) memset(&st, 0xff, sizeof st);
    return st;
}

/* Count files with `suffix` under dir (recursively). */
static int count_files(const char *dir, const char *suffix, char *first, size_t cap) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(p, &st) < 0) continue;
        if (S_ISDIR(st.st_mode)) {
            n += count_files(p, suffix, first, cap);
        } else {
            size_t l = strlen(de->d_name), sl = strlen(suffix);
            if (l >= sl && !strcmp(de->d_name + l - sl, suffix)) {
                if (first && !first[0]) snprintf(first, cap, "%s", p);
                n++;
            }
        }
    }
    closedir(d);
    return n;
}

/* Offset of a WAV's data chunk payload, 0 if none. */
static size_t wav_data_offset(const unsigned char *p, size_t n) {
    size_t off = 12;
    while (off + 8 <= n) {
        uint32_t len = (uint32_t)p[off + 4] | (uint32_t)p[off + 5] << 8 | (uint32_t)p[off + 6] << 16 |
                       (uint32_t)p[off + 7] << 24;
        if (!memcmp(p + off, "data", 4)) return off + 8;
        off += 8 + len;
    }
    return 0;
}

static const char two_paras[] = "The cache keeps this first paragraph.\n\n"
                                 "And this second paragraph is stored on its own.";

/* ------------------------------------------------------------------ keys ---- */

static const struct chorus_backend_ops no_ops = {0};
static const struct chorus_backend_desc local_desc = {.name = "fakelocal", .caps = CHORUS_CAP_LOCAL, .ops = &no_ops};
static const struct chorus_backend_desc remote_desc = {.name = "fakeremote", .caps = CHORUS_CAP_REMOTE, .ops = &no_ops};

static struct chorus_cache_key job_key(const struct chorus_backend_desc *d, struct chorus_job j) {
    struct chorus_backend b = {0};
    b.desc = d;
    b.name = (char *)d->name;
    struct chorus_cache_key k;
    memset(&k, 0, sizeof k);
    chorus_cache_key_for_job(&b, &j, &k);
    return k;
}

TEST(test_key_covers_every_field) {
    struct chorus_kv o1[] = {{"a", "1"}, {"b", "2"}}, o2[] = {{"b", "2"}, {"a", "1"}},
                     o3[] = {{"a", "1"}, {"b", "3"}};
    struct chorus_job base = {.text = "Hello.", .len = 6, .voice = "en", .speed = 1, .pitch = 1,
                              .volume = 1, .options = o1, .n_options = 2};
    struct chorus_cache_key k0 = job_key(&local_desc, base);
    struct chorus_cache_key again = job_key(&local_desc, base);
    CHECK(!memcmp(k0.b, again.b, 32));
    CHECK_EQ_INT(strlen(k0.hex), 64);
    struct chorus_job j = base;
    j.options = o2;
    CHECK_MSG(!memcmp(job_key(&local_desc, j).b, k0.b, 32), "option order changed the key");
    struct chorus_job v[9];
    for (int i = 0; i < 9; i++) v[i] = base;
    v[0].text = "Hello!";
    v[1].voice = "en-gb";
    v[2].speed = 1.25f;
    v[3].pitch = 0.9f;
    v[4].model = "m";
    v[5].options = o3;
    v[6].input = CHORUS_INPUT_SSML;
    v[7].language = "en-us";
    v[8].len = 5; /* a prefix of the same text */
    for (int i = 0; i < 9; i++)
        CHECK_MSG(memcmp(job_key(&local_desc, v[i]).b, k0.b, 32), "variant %d kept the key", i);
    CHECK(memcmp(job_key(&remote_desc, base).b, k0.b, 32));
    /* output format: irrelevant to a local engine's audio; for a remote engine part of the
     * request only when the provider's bytes pass through (else it is asked for its default) */
    j = base;
    j.want_format = CHORUS_FORMAT_MP3;
    CHECK(!memcmp(job_key(&local_desc, j).b, k0.b, 32));
    CHECK(!memcmp(job_key(&remote_desc, j).b, job_key(&remote_desc, base).b, 32));
    struct chorus_job pt = base, pt_mp3 = j;
    pt.passthrough_ok = pt_mp3.passthrough_ok = 1;
    CHECK(memcmp(job_key(&remote_desc, pt).b, job_key(&remote_desc, base).b, 32));
    CHECK(memcmp(job_key(&remote_desc, pt_mp3).b, job_key(&remote_desc, pt).b, 32));
    CHECK(!memcmp(job_key(&local_desc, pt_mp3).b, k0.b, 32));
    j.want_format = CHORUS_FORMAT_DEFAULT;
    j.want_rate = 16000;
    CHECK(memcmp(job_key(&remote_desc, j).b, job_key(&remote_desc, base).b, 32));
    struct chorus_cache_key back;
    CHECK_EQ_INT(chorus_cache_key_from_hex(k0.hex, &back), 0);
    CHECK(!memcmp(back.b, k0.b, 32));
    CHECK_EQ_INT(chorus_cache_key_from_hex("zz", &back), -1);
}

TEST(test_parse_size) {
    uint64_t v = 0;
    CHECK(chorus_cache_parse_size("1073741824", &v) == 0 && v == 1073741824ull);
    CHECK(chorus_cache_parse_size("512M", &v) == 0 && v == 512ull << 20);
    CHECK(chorus_cache_parse_size("1GiB", &v) == 0 && v == 1ull << 30);
    CHECK(chorus_cache_parse_size("64 KB", &v) == 0 && v == 64ull << 10);
    CHECK(chorus_cache_parse_size("0", &v) == 0 && v == 0);
    CHECK(chorus_cache_parse_size("", &v) < 0);
    CHECK(chorus_cache_parse_size("-5", &v) < 0);
    CHECK(chorus_cache_parse_size("12Q", &v) < 0);
    CHECK(chorus_cache_parse_size("99999999999999999999", &v) < 0);
    CHECK(chorus_cache_parse_size("99999999999T", &v) < 0);
}

/* ------------------------------------------------------------------ streams ---- */

TEST(test_hit_gives_identical_bytes_and_words) {
    char dir[1024];
    fresh_dir(dir, sizeof dir);
    struct chorus_engine *e = cache_engine(dir, NULL, NULL);
    CHECK(e);
    struct collect a = {0}, b = {0};
    CHECK_EQ_INT(speak(e, two_paras, CHORUS_FORMAT_WAV, 0, &a), CHORUS_OK);
    struct chorus_cache_stats st = stats(e);
    CHECK_EQ_INT(st.enabled, 1);
    CHECK_EQ_INT(st.hits, 0);
    CHECK_EQ_INT(st.misses, 2); /* two paragraphs: two jobs */
    CHECK_EQ_INT(st.stores, 2);
    CHECK_EQ_INT(st.entries, 2);
    CHECK(st.bytes > 10000);
    CHECK_EQ_INT(speak(e, two_paras, CHORUS_FORMAT_WAV, 0, &b), CHORUS_OK);
    st = stats(e);
    CHECK_EQ_INT(st.hits, 2);
    CHECK_EQ_INT(st.misses, 2);
    CHECK_EQ_INT(st.hits_total, 2);
    CHECK_EQ_INT(a.n, b.n);
    CHECK_MSG(!memcmp(a.bytes, b.bytes, a.n), "cached audio differs from the original");
    CHECK_EQ_INT(a.chunks, b.chunks);
    CHECK(a.nwords >= 10);
    CHECK_EQ_INT(a.nwords, b.nwords);
    for (size_t i = 0; i < a.nwords; i++) {
        CHECK_EQ_INT(a.words[i].text_offset, b.words[i].text_offset);
        CHECK_EQ_INT(a.words[i].text_len, b.words[i].text_len);
        CHECK(a.words[i].start == b.words[i].start && a.words[i].end == b.words[i].end);
    }
    /* the replayed audio is real speech: decode it independently */
    size_t frames;
    int rate, ch;
    float *x = snd_decode(b.bytes, b.n, &frames, &rate, &ch);
    CHECK(x);
    CHECK_EQ_INT(rate, 22050);
    CHECK((double)frames / rate > 2.0);
    CHECK(snd_rms(x, frames) > 0.01);
    CHECK(b.words[b.nwords - 1].end <= (double)frames / rate + 0.05);
    free(x);
    free(a.bytes);
    free(b.bytes);
    chorus_engine_destroy(e);
}

TEST(test_hit_serves_other_formats) {
    /* the entry holds engine PCM: a PCM request after a WAV one is a hit with the same samples */
    char dir[1024];
    fresh_dir(dir, sizeof dir);
    struct chorus_engine *e = cache_engine(dir, NULL, NULL);
    CHECK(e);
    struct collect w = {0}, p = {0};
    speak_rate = 24000; /* resampled from espeak's 22050 Hz, both times */
    CHECK_EQ_INT(speak(e, two_paras, CHORUS_FORMAT_WAV, 0, &w), CHORUS_OK);
    CHECK_EQ_INT(speak(e, two_paras, CHORUS_FORMAT_PCM, 0, &p), CHORUS_OK);
    speak_rate = 0;
    CHECK_EQ_INT(stats(e).hits, 2);
    size_t off = wav_data_offset(w.bytes, w.n);
    CHECK(off > 0);
    CHECK_EQ_INT(w.n - off, p.n);
    CHECK_MSG(!memcmp(w.bytes + off, p.bytes, p.n), "PCM from the cache differs from the WAV's samples");
    free(w.bytes);
    free(p.bytes);
    chorus_engine_destroy(e);
}

TEST(test_repeated_paragraph_in_new_text_hits) {
    char dir[1024];
    fresh_dir(dir, sizeof dir);
    struct chorus_engine *e = cache_engine(dir, NULL, NULL);
    CHECK(e);
    struct collect a = {0};
    CHECK_EQ_INT(speak(e, "Alpha comes first.\n\nThe shared paragraph is here.", CHORUS_FORMAT_WAV, 0, &a), CHORUS_OK);
    const char *second = "Gamma is new, longer than alpha.\n\nThe shared paragraph is here.";
    CHECK_EQ_INT(speak(e, second, CHORUS_FORMAT_WAV, 0, &a), CHORUS_OK);
    struct chorus_cache_stats st = stats(e);
    CHECK_EQ_INT(st.hits, 1);
    /* the replayed paragraph's words point into the new text, where it now sits */
    const char *at = strstr(second, "shared");
    int found = 0;
    for (size_t i = 0; i < a.nwords; i++) {
        const struct chorus_word *w = &a.words[i];
        CHECK(w->text_offset + w->text_len <= strlen(second));
        if (w->text_offset == (size_t)(at - second) && w->text_len == 6) found = 1;
        if (i) CHECK(w->start >= a.words[i - 1].start);
    }
    CHECK_MSG(found, "no word event points at 'shared' in the new text");
    CHECK_EQ_INT(st.misses, 3);
    CHECK_EQ_INT(st.entries, 3);
    /* a different voice or speed is a different entry */
    struct chorus_request r = chorus_request_default();
    r.backend = "espeak";
    r.text = "Gamma is new.";
    r.speed = 1.5f;
    struct chorus_stream *s;
    CHECK_EQ_INT(chorus_stream_open(e, &r, &s), CHORUS_OK);
    CHECK_EQ_INT(chorus_stream_run(s), CHORUS_OK);
    chorus_stream_destroy(s);
    CHECK_EQ_INT(stats(e).hits, 1);
    CHECK_EQ_INT(stats(e).entries, 4);
    free(a.bytes);
    chorus_engine_destroy(e);
}

TEST(test_no_cache_flag_and_disabled) {
    char dir[1024];
    fresh_dir(dir, sizeof dir);
    struct chorus_engine *e = cache_engine(dir, NULL, NULL);
    CHECK(e);
    struct collect a = {0};
    CHECK_EQ_INT(speak(e, "Not for the cache.", CHORUS_FORMAT_WAV, CHORUS_FLAG_NO_CACHE, &a), CHORUS_OK);
    CHECK(a.n > 1000);
    struct chorus_cache_stats st = stats(e);
    CHECK_EQ_INT(st.hits + st.misses + st.stores + st.entries, 0);
    chorus_engine_destroy(e);

    /* [cache] enabled = false: nothing read or written, no directory made */
    fresh_dir(dir, sizeof dir);
    e = cache_engine(dir, NULL, "enabled = false\n");
    CHECK(e);
    CHECK_EQ_INT(speak(e, "Not for the cache.", CHORUS_FORMAT_WAV, 0, &a), CHORUS_OK);
    st = stats(e);
    CHECK_EQ_INT(st.enabled, 0);
    CHECK(st.dir && strstr(st.dir, dir));
    CHECK_EQ_INT(st.misses + st.entries, 0);
    char cdir[PATH_MAX];
    snprintf(cdir, sizeof cdir, "%s/cache", dir);
    CHECK_MSG(access(cdir, F_OK) < 0, "a disabled cache created %s", cdir);
    chorus_engine_destroy(e);

    /* CHORUS_CACHE=0 wins over the file; =1 over enabled = false */
    setenv("CHORUS_CACHE", "0", 1);
    fresh_dir(dir, sizeof dir);
    e = cache_engine(dir, NULL, NULL);
    CHECK(e);
    CHECK_EQ_INT(stats(e).enabled, 0);
    chorus_engine_destroy(e);
    setenv("CHORUS_CACHE", "1", 1);
    e = cache_engine(dir, NULL, "enabled = false\n");
    CHECK(e);
    CHECK_EQ_INT(stats(e).enabled, 1);
    chorus_engine_destroy(e);
    unsetenv("CHORUS_CACHE");

    /* engines without config (the other subsystems' tests) have no cache at all */
    struct chorus_engine_options o = chorus_engine_options_default();
    o.no_config = 1;
    CHECK_EQ_INT(chorus_engine_create(&e, &o), CHORUS_OK);
    st = stats(e);
    CHECK_EQ_INT(st.enabled, 0);
    CHECK(st.dir == NULL);
    CHECK_EQ_INT(chorus_engine_cache_clear(e, NULL, NULL), CHORUS_E_NOT_FOUND);
    chorus_engine_destroy(e);
    free(a.bytes);
}

TEST(test_bad_settings_are_reported) {
    char dir[1024];
    fresh_dir(dir, sizeof dir);
    char cfg[PATH_MAX];
    snprintf(cfg, sizeof cfg, "%s/bad.toml", dir);
    FILE *f = fopen(cfg, "w");
    CHECK(f);
    fputs("[cache]\nmax_bytes = \"lots\"\n", f);
    fclose(f);
    struct chorus_engine_options o = chorus_engine_options_default();
    o.config_path = cfg;
    struct chorus_engine *e = NULL;
    char err[512] = "";
    CHECK_EQ_INT(chorus_engine_create2(&e, &o, err, sizeof err), CHORUS_E_CONFIG);
    CHECK(e == NULL);
    CHECK_MSG(strstr(err, "max_bytes") && strstr(err, "lots"), "message: %s", err);
    setenv("CHORUS_CACHE", "maybe", 1);
    e = cache_engine(dir, NULL, NULL);
    unsetenv("CHORUS_CACHE");
    CHECK(e == NULL);
    CHECK_MSG(strstr(chorus_engine_errmsg(NULL), "CHORUS_CACHE"), "message: %s", chorus_engine_errmsg(NULL));
    /* a cache directory that cannot be created: speech still works, the cache steps aside */
    char filedir[1100];
    snprintf(filedir, sizeof filedir, "%s/file", dir);
    f = fopen(filedir, "w");
    CHECK(f);
    fclose(f);
    e = cache_engine(filedir, NULL, NULL); /* dir = FILE/cache: under a regular file */
    CHECK(e);
    struct collect a = {0};
    setenv("CHORUS_LOG", "error", 1);
    CHECK_EQ_INT(speak(e, "Still speaks.", CHORUS_FORMAT_WAV, 0, &a), CHORUS_OK);
    CHECK(a.n > 1000);
    struct chorus_cache_stats st = {.size = sizeof st};
    CHECK_EQ_INT(chorus_engine_cache_stats(e, &st), CHORUS_E_IO);
    CHECK_EQ_INT(st.enabled, 0);
    CHECK_MSG(strstr(chorus_engine_errmsg(e), "cannot create cache directory") && strstr(chorus_engine_errmsg(e), filedir),
              "message: %s", chorus_engine_errmsg(e));
    free(a.bytes);
    chorus_engine_destroy(e);
}

TEST(test_corrupt_entry_is_evicted_and_regenerated) {
    char dir[1024], cdir[PATH_MAX];
    fresh_dir(dir, sizeof dir);
    snprintf(cdir, sizeof cdir, "%s/cache", dir);
    struct chorus_engine *e = cache_engine(dir, NULL, NULL);
    CHECK(e);
    const char *text = "A sentence to damage on disk.";
    struct collect a = {0}, b = {0}, c = {0};
    CHECK_EQ_INT(speak(e, text, CHORUS_FORMAT_WAV, 0, &a), CHORUS_OK);
    char path[PATH_MAX] = "";
    CHECK_EQ_INT(count_files(cdir, ".ent", path, sizeof path), 1);
    /* flip one byte in the middle of the audio */
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size > 2000);
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    unsigned char byte;
    off_t mid = st.st_size / 2;
    CHECK(pread(fd, &byte, 1, mid) == 1);
    byte ^= 0x40;
    CHECK(pwrite(fd, &byte, 1, mid) == 1);
    close(fd);
    CHECK_EQ_INT(speak(e, text, CHORUS_FORMAT_WAV, 0, &b), CHORUS_OK);
    struct chorus_cache_stats s1 = stats(e);
    CHECK_EQ_INT(s1.corrupt, 1);
    CHECK_EQ_INT(s1.hits, 0);
    CHECK_EQ_INT(s1.misses, 2);
    CHECK_EQ_INT(s1.entries, 1); /* regenerated and stored again */
    /* the regenerated audio is sound speech of the same length */
    size_t fa, fb;
    int ra, rb, ch;
    float *xa = snd_decode(a.bytes, a.n, &fa, &ra, &ch), *xb = snd_decode(b.bytes, b.n, &fb, &rb, &ch);
    CHECK(xa && xb);
    CHECK_NEAR((double)fb, (double)fa, fa * 0.01); /* espeak keeps some state between runs */
    CHECK(snd_rms(xb, fb) > 0.01);
    free(xa);
    free(xb);
    /* truncated: also caught, never served */
    CHECK(truncate(path, 500) == 0);
    CHECK_EQ_INT(speak(e, text, CHORUS_FORMAT_WAV, 0, &c), CHORUS_OK);
    CHECK_EQ_INT(stats(e).corrupt, 2);
    CHECK_NEAR((double)c.n, (double)b.n, b.n * 0.01);
    /* and now it is whole again: a hit */
    CHECK_EQ_INT(speak(e, text, CHORUS_FORMAT_WAV, 0, &c), CHORUS_OK);
    CHECK_EQ_INT(stats(e).hits, 1);
    /* an entry file removed behind the index's back is a miss, not an error */
    CHECK(unlink(path) == 0);
    CHECK_EQ_INT(speak(e, text, CHORUS_FORMAT_WAV, 0, &c), CHORUS_OK);
    CHECK_EQ_INT(stats(e).hits, 1);
    CHECK_EQ_INT(stats(e).entries, 1);
    CHECK(access(path, F_OK) == 0);
    free(a.bytes);
    free(b.bytes);
    free(c.bytes);
    chorus_engine_destroy(e);
}

TEST(test_cancelled_job_leaves_no_entry) {
    char dir[1024], cdir[PATH_MAX];
    fresh_dir(dir, sizeof dir);
    snprintf(cdir, sizeof cdir, "%s/cache", dir);
    struct chorus_engine *e = cache_engine(dir, NULL, NULL);
    CHECK(e);
    struct collect a = {0};
    a.cancel_at_chunk = 1; /* cancel inside the first (only) job */
    CHECK_EQ_INT(speak(e, "This generation is cancelled before it ends, so nothing is kept.", CHORUS_FORMAT_WAV, 0, &a),
                 CHORUS_E_CANCELLED);
    struct chorus_cache_stats st = stats(e);
    CHECK_EQ_INT(st.entries, 0);
    CHECK_EQ_INT(st.stores, 0);
    CHECK_EQ_INT(count_files(cdir, ".ent", NULL, 0), 0);
    CHECK_EQ_INT(count_files(cdir, ".tmp", NULL, 0), 0);
    /* cancelled in the second job: the first, complete one is kept, the second is not */
    struct collect b = {0};
    CHECK_EQ_INT(speak(e, "Short first.", CHORUS_FORMAT_WAV, 0, &b), CHORUS_OK);
    size_t first_chunks = b.chunks;
    CHECK_EQ_INT(speak(e, "Short first.\n\nA second paragraph that never finishes because the listener hangs up.",
                       CHORUS_FORMAT_WAV, CHORUS_FLAG_NO_CACHE, &b), CHORUS_OK);
    CHECK(b.chunks > first_chunks + 1);
    struct collect c = {0};
    c.cancel_at_chunk = (int)first_chunks + 1;
    CHECK_EQ_INT(speak(e, "Short first.\n\nA second paragraph that never finishes because the listener hangs up.",
                       CHORUS_FORMAT_WAV, 0, &c), CHORUS_E_CANCELLED);
    st = stats(e);
    CHECK_EQ_INT(st.hits, 1);    /* the first paragraph came from the cache */
    CHECK_EQ_INT(st.entries, 1); /* and the cancelled second left nothing */
    CHECK_EQ_INT(count_files(cdir, ".ent", NULL, 0), 1);
    CHECK_EQ_INT(count_files(cdir, ".tmp", NULL, 0), 0);
    /* cancelling while a hit replays leaves the entry as it was */
    struct collect d = {0}, full = {0};
    CHECK_EQ_INT(speak(e, "Short first.", CHORUS_FORMAT_WAV, 0, &full), CHORUS_OK);
    d.cancel_at_chunk = 1;
    CHECK_EQ_INT(speak(e, "Short first.", CHORUS_FORMAT_WAV, 0, &d), CHORUS_E_CANCELLED);
    CHECK(d.n < full.n);
    d.cancel_at_chunk = 0;
    CHECK_EQ_INT(speak(e, "Short first.", CHORUS_FORMAT_WAV, 0, &d), CHORUS_OK);
    CHECK_EQ_INT(stats(e).hits, 4);
    CHECK_EQ_INT(stats(e).corrupt, 0);
    CHECK(d.n == full.n && !memcmp(d.bytes, full.bytes, d.n));
    free(d.bytes);
    free(full.bytes);
    free(a.bytes);
    free(b.bytes);
    free(c.bytes);
    chorus_engine_destroy(e);
}

TEST(test_clear) {
    char dir[1024], cdir[PATH_MAX];
    fresh_dir(dir, sizeof dir);
    snprintf(cdir, sizeof cdir, "%s/cache", dir);
    struct chorus_engine *e = cache_engine(dir, NULL, NULL);
    CHECK(e);
    struct collect a = {0};
    CHECK_EQ_INT(speak(e, two_paras, CHORUS_FORMAT_WAV, 0, &a), CHORUS_OK);
    uint64_t n = 0, bytes = 0, before = stats(e).bytes;
    CHECK_EQ_INT(chorus_engine_cache_clear(e, &n, &bytes), CHORUS_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(bytes, before);
    CHECK_EQ_INT(stats(e).entries, 0);
    CHECK_EQ_INT(count_files(cdir, ".ent", NULL, 0), 0);
    CHECK_EQ_INT(speak(e, two_paras, CHORUS_FORMAT_WAV, 0, &a), CHORUS_OK);
    CHECK_EQ_INT(stats(e).hits, 0);
    free(a.bytes);
    chorus_engine_destroy(e);
}

TEST(test_damaged_index_is_replaced) {
    char dir[1024], cdir[1100], idx[1200];
    fresh_dir(dir, sizeof dir);
    snprintf(cdir, sizeof cdir, "%s/cache", dir);
    snprintf(idx, sizeof idx, "%s/index.db", cdir);
    mkdir(cdir, 0700);
    FILE *f = fopen(idx, "w");
    CHECK(f);
    for (int i = 0; i < 200; i++) fputs("this is not an SQLite database. ", f);
    fclose(f);
    struct chorus_engine *e = cache_engine(dir, NULL, NULL);
    CHECK(e);
    setenv("CHORUS_LOG", "error", 1);
    struct collect a = {0};
    CHECK_EQ_INT(speak(e, "The index was garbage.", CHORUS_FORMAT_WAV, 0, &a), CHORUS_OK);
    CHECK_EQ_INT(speak(e, "The index was garbage.", CHORUS_FORMAT_WAV, 0, &a), CHORUS_OK);
    struct chorus_cache_stats st = stats(e);
    CHECK_EQ_INT(st.entries, 1);
    CHECK_EQ_INT(st.hits, 1);
    free(a.bytes);
    chorus_engine_destroy(e);
}

/* ------------------------------------------------------------------ the store ---- */

static struct chorus_cache_key key_of(const char *name) {
    struct chorus_cache_keyb kb;
    struct chorus_cache_key k;
    chorus_cache_key_init(&kb);
    chorus_cache_key_add_str(&kb, "test", name);
    chorus_cache_key_finish(&kb, &k);
    return k;
}

/* Store an entry of `n` samples whose values derive from `seed`, with a word and a mark. */
static int put_entry(struct chorus_cache *c, const char *name, size_t n, int seed) {
    struct chorus_cache_key k = key_of(name);
    struct chorus_cache_writer *w;
    int rc = chorus_cache_writer_begin(c, &k, &w);
    if (rc) return rc;
    int16_t *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = (int16_t)((i * 31 + (size_t)seed * 977) % 20000 - 10000);
    chorus_cache_writer_mark(w, "start", 0.0);
    chorus_cache_writer_pcm_s16(w, x, n / 2, 16000);
    chorus_cache_writer_word(w, 0, 4, 0.0, 0.25);
    chorus_cache_writer_pcm_s16(w, x + n / 2, n - n / 2, 16000);
    free(x);
    return chorus_cache_writer_commit(w);
}

struct verify {
    size_t samples, words, marks;
    int seed, bad; /* seed < 0: any seed, as long as the entry is consistent with its first sample */
    size_t base;
};
static int v_s16(void *ud, const int16_t *x, size_t n, int rate) {
    struct verify *v = ud;
    if (rate != 16000) v->bad = 1;
    if (v->samples == 0 && n) v->base = v->seed < 0 ? (size_t)(x[0] + 10000) : ((size_t)v->seed * 977) % 20000;
    for (size_t i = 0; i < n; i++, v->samples++)
        if (x[i] != (int16_t)((v->samples * 31 + v->base) % 20000 - 10000)) v->bad = 1;
    return 0;
}
static int v_word(void *ud, size_t off, size_t len, double s, double e) {
    struct verify *v = ud;
    if (off != 0 || len != 4 || s != 0.0 || e != 0.25) v->bad = 1;
    v->words++;
    return 0;
}
static int v_mark(void *ud, const char *name, double t) {
    struct verify *v = ud;
    if (strcmp(name, "start") || t != 0.0) v->bad = 1;
    v->marks++;
    return 0;
}

/* 1 if `name` is a hit holding exactly what put_entry(n, seed) stored. */
static int get_entry(struct chorus_cache *c, const char *name, size_t n, int seed) {
    struct chorus_cache_key k = key_of(name);
    struct chorus_cache_blob *b;
    if (chorus_cache_get(c, &k, &b) != CHORUS_OK) return 0;
    struct chorus_cache_visitor vis = {0};
    vis.pcm_s16 = v_s16;
    vis.word = v_word;
    vis.mark = v_mark;
    struct verify v = {0};
    v.seed = seed;
    chorus_cache_entry_walk(b->p, b->n, &vis, &v);
    chorus_cache_blob_free(b);
    return !v.bad && v.samples == n && v.words == 1 && v.marks == 1;
}

TEST(test_eviction_is_lru_and_respects_the_cap) {
    char dir[1024];
    fresh_dir(dir, sizeof dir);
    /* each entry: 96 header + 3 records; 5000 samples = ~10 KB; the cap holds three */
    struct chorus_cache *c = chorus_cache_create(dir, 35000, 1);
    CHECK(c);
    CHECK_EQ_INT(put_entry(c, "A", 5000, 1), CHORUS_OK);
    CHECK_EQ_INT(put_entry(c, "B", 5000, 2), CHORUS_OK);
    CHECK_EQ_INT(put_entry(c, "C", 5000, 3), CHORUS_OK);
    struct chorus_cache_stats st = {.size = sizeof st};
    chorus_cache_get_stats(c, &st, NULL, 0);
    CHECK_EQ_INT(st.entries, 3);
    CHECK(get_entry(c, "A", 5000, 1)); /* A is now the most recently used */
    CHECK_EQ_INT(put_entry(c, "D", 5000, 4), CHORUS_OK);
    struct chorus_cache_key kb = key_of("B");
    CHECK_MSG(!chorus_cache_contains(c, &kb), "B (least recently used) was not evicted");
    char path[PATH_MAX];
    CHECK_MSG(access(chorus_cache_entry_path(c, &kb, path, sizeof path), F_OK) < 0, "B's file remains");
    struct chorus_cache_key ka = key_of("A"), kc = key_of("C"), kd = key_of("D");
    CHECK(chorus_cache_contains(c, &ka) && chorus_cache_contains(c, &kc) && chorus_cache_contains(c, &kd));
    chorus_cache_get_stats(c, &st, NULL, 0);
    CHECK(st.bytes <= 35000);
    CHECK_EQ_INT(st.entries, 3);
    /* next to go is C, then A */
    CHECK_EQ_INT(put_entry(c, "E", 5000, 5), CHORUS_OK);
    CHECK(!chorus_cache_contains(c, &kc));
    CHECK(chorus_cache_contains(c, &ka));
    CHECK_EQ_INT(put_entry(c, "F", 5000, 6), CHORUS_OK);
    CHECK(!chorus_cache_contains(c, &ka));
    CHECK(get_entry(c, "D", 5000, 4) && get_entry(c, "E", 5000, 5) && get_entry(c, "F", 5000, 6));
    /* one entry bigger than the whole cap is not kept (and evicts nothing) */
    CHECK(put_entry(c, "huge", 40000, 7) != CHORUS_OK);
    struct chorus_cache_key kh = key_of("huge");
    CHECK(!chorus_cache_contains(c, &kh));
    chorus_cache_get_stats(c, &st, NULL, 0);
    CHECK_EQ_INT(st.entries, 3);
    char tdir[PATH_MAX];
    snprintf(tdir, sizeof tdir, "%s/tmp", dir);
    CHECK_EQ_INT(count_files(tdir, ".tmp", NULL, 0), 0);
    chorus_cache_destroy(c);
}

TEST(test_entry_checks_catch_damage) {
    char dir[1024];
    fresh_dir(dir, sizeof dir);
    struct chorus_cache *c = chorus_cache_create(dir, 1 << 20, 1);
    CHECK(c);
    CHECK_EQ_INT(put_entry(c, "X", 300, 9), CHORUS_OK);
    struct chorus_cache_key k = key_of("X"), other = key_of("Y");
    char path[PATH_MAX];
    FILE *f = fopen(chorus_cache_entry_path(c, &k, path, sizeof path), "rb");
    CHECK(f);
    unsigned char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    CHECK(n > CHORUS_CACHE_HEADER_SIZE);
    char err[256];
    CHECK_EQ_INT(chorus_cache_entry_check(buf, n, &k, NULL, err, sizeof err), 0);
    CHECK_EQ_INT(chorus_cache_entry_check(buf, n, &other, NULL, err, sizeof err), -1);
    CHECK(strstr(err, "another key"));
    for (size_t len = 0; len < n; len += 7)
        CHECK_MSG(chorus_cache_entry_check(buf, len, &k, NULL, err, sizeof err) == -1, "truncated to %zu accepted", len);
    for (size_t i = 0; i < n; i += 5) {
        buf[i] ^= 0x01;
        CHECK_MSG(chorus_cache_entry_check(buf, n, &k, NULL, err, sizeof err) == -1, "flip at %zu accepted", i);
        buf[i] ^= 0x01;
    }
    chorus_cache_destroy(c);
}

/* Two processes hammer the same directory: the same key and their own keys, with a cap small
 * enough that evictions run concurrently. Afterwards every indexed entry is whole. */
static int child_work(const char *dir, int id) {
    struct chorus_cache *c = chorus_cache_create(dir, 120000, 1);
    if (!c) return 1;
    int bad = 0;
    for (int i = 0; i < 40; i++) {
        /* the same key with different content each time, like a nondeterministic engine */
        if (put_entry(c, "shared", 3000, id * 1000 + i) != CHORUS_OK) bad++;
        char name[32];
        snprintf(name, sizeof name, "p%d-%d", id, i);
        if (put_entry(c, name, 2000 + (size_t)i * 10, i) != CHORUS_OK) bad++;
        /* a hit must always be whole; a miss (just evicted by the other) is allowed */
        struct chorus_cache_key k = key_of("shared");
        struct chorus_cache_blob *b;
        if (chorus_cache_get(c, &k, &b) == CHORUS_OK) {
            chorus_cache_blob_free(b);
            if (!get_entry(c, "shared", 3000, -1) && chorus_cache_contains(c, &k)) bad++;
        }
    }
    struct chorus_cache_stats st = {.size = sizeof st};
    chorus_cache_get_stats(c, &st, NULL, 0);
    if (st.corrupt) bad++;
    chorus_cache_destroy(c);
    return bad ? 1 : 0;
}

TEST(test_two_processes_share_a_directory) {
    char dir[1024];
    fresh_dir(dir, sizeof dir);
    pid_t pids[2];
    for (int i = 0; i < 2; i++) {
        pids[i] = fork();
        CHECK(pids[i] >= 0);
        if (pids[i] == 0) _exit(child_work(dir, i));
    }
    for (int i = 0; i < 2; i++) {
        int status = 0;
        CHECK(waitpid(pids[i], &status, 0) == pids[i]);
        CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "process %d saw a lost or torn entry", i);
    }
    struct chorus_cache *c = chorus_cache_create(dir, 120000, 1);
    CHECK(c);
    struct chorus_cache_stats st = {.size = sizeof st};
    CHECK_EQ_INT(chorus_cache_get_stats(c, &st, NULL, 0), CHORUS_OK);
    CHECK(st.entries > 0);
    CHECK(st.bytes <= 120000);
    /* every indexed entry is whole; files on disk match the index */
    int whole = 0;
    for (int p = 0; p < 2; p++)
        for (int i = 0; i < 40; i++) {
            char name[32];
            snprintf(name, sizeof name, "p%d-%d", p, i);
            struct chorus_cache_key k = key_of(name);
            if (!chorus_cache_contains(c, &k)) continue;
            CHECK_MSG(get_entry(c, name, 2000 + (size_t)i * 10, i), "entry %s is damaged", name);
            whole++;
        }
    CHECK(get_entry(c, "shared", 3000, -1));
    CHECK_EQ_INT((uint64_t)whole + 1, st.entries);
    char edir[PATH_MAX], tdir[PATH_MAX];
    snprintf(edir, sizeof edir, "%s/entries", dir);
    snprintf(tdir, sizeof tdir, "%s/tmp", dir);
    CHECK_EQ_INT(count_files(edir, ".ent", NULL, 0), (int)st.entries);
    CHECK_EQ_INT(count_files(tdir, ".tmp", NULL, 0), 0);
    chorus_cache_get_stats(c, &st, NULL, 0);
    CHECK_EQ_INT(st.corrupt, 0);
    chorus_cache_destroy(c);
}

TEST(test_store_evict) {
    char dir[1024];
    fresh_dir(dir, sizeof dir);
    struct chorus_cache *c = chorus_cache_create(dir, 1 << 20, 1);
    CHECK(c);
    CHECK_EQ_INT(put_entry(c, "A", 1000, 1), CHORUS_OK);
    struct chorus_cache_key ka = key_of("A");
    CHECK(get_entry(c, "A", 1000, 1));
    CHECK_EQ_INT(chorus_cache_evict(c, &ka), CHORUS_OK);
    CHECK(!chorus_cache_contains(c, &ka));
    char path[PATH_MAX];
    CHECK_MSG(access(chorus_cache_entry_path(c, &ka, path, sizeof path), F_OK) < 0, "A's file remains");
    CHECK(!get_entry(c, "A", 1000, 1));
    CHECK_EQ_INT(chorus_cache_evict(c, &ka), CHORUS_E_NOT_FOUND);
    chorus_cache_destroy(c);
}

/* A sink that records what reaches it (the stream's sink stand-in). */
struct rec_sink {
    struct chorus_sink base;
    size_t samples, words, marks;
    double sum;
};
static int rs_f32(struct chorus_sink *k, const float *x, size_t n, int rate) {
    struct rec_sink *r = (struct rec_sink *)k;
    for (size_t i = 0; i < n; i++) r->sum += x[i];
    r->samples += n;
    return rate == 22050 ? 0 : CHORUS_E_BACKEND;
}
static int rs_s16(struct chorus_sink *k, const int16_t *x, size_t n, int rate) {
    return CHORUS_E_BACKEND; /* this test's backend only gives floats */
}
static int rs_enc(struct chorus_sink *k, enum chorus_format f, const void *d, size_t n) {
    return CHORUS_E_BACKEND;
}
static int rs_word(struct chorus_sink *k, size_t off, size_t len, double s, double e) {
    ((struct rec_sink *)k)->words++;
    return 0;
}
static int rs_mark(struct chorus_sink *k, const char *name, double t) {
    ((struct rec_sink *)k)->marks++;
    return 0;
}
static const struct chorus_sink_ops rec_ops = {rs_f32, rs_s16, rs_enc, rs_word, rs_mark};

/* The backend stand-in: 3000 samples of a ramp, a word, a mark; `fail` makes it fail at the end. */
struct producer {
    int calls, fail;
};
static int produce(void *ctx, struct chorus_sink *out) {
    struct producer *p = ctx;
    p->calls++;
    float x[1000];
    for (int b = 0; b < 3; b++) {
        for (int i = 0; i < 1000; i++) x[i] = (float)(b * 1000 + i) / 3000.0f;
        int rc = chorus_sink_pcm_f32(out, x, 1000, 22050);
        if (rc) return rc;
    }
    chorus_sink_word(out, 0, 5, 0.0, 0.1);
    chorus_sink_mark(out, "m", 0.05);
    return p->fail ? CHORUS_E_BACKEND : CHORUS_OK;
}

TEST(test_job_filter_tees_a_miss_and_replays_a_hit) {
    char dir[1024];
    fresh_dir(dir, sizeof dir);
    struct chorus_cache *c = chorus_cache_create(dir, 1 << 20, 1);
    CHECK(c);
    struct chorus_job j = {.text = "hello", .len = 5, .voice = "v", .speed = 1, .pitch = 1,
                           .volume = 1};
    struct chorus_backend b = {.desc = &local_desc, .name = "fakelocal", .variant = ""};
    struct chorus_cache_key k = job_key(&local_desc, j);
    /* a failed job passes everything on but leaves no entry */
    struct producer p = {0, 1};
    struct rec_sink r = {{&rec_ops}, 0, 0, 0, 0};
    CHECK_EQ_INT(chorus_cache_run_job(c, &b, &j, 0, &r.base, produce, &p), CHORUS_E_BACKEND);
    CHECK_EQ_INT(r.samples, 3000);
    CHECK(!chorus_cache_contains(c, &k));
    /* a miss: the backend runs once, the sink sees its calls, the entry is committed */
    p.fail = 0;
    p.calls = 0;
    r = (struct rec_sink){{&rec_ops}, 0, 0, 0, 0};
    CHECK_EQ_INT(chorus_cache_run_job(c, &b, &j, 0, &r.base, produce, &p), CHORUS_OK);
    CHECK_EQ_INT(p.calls, 1);
    CHECK(chorus_cache_contains(c, &k));
    double sum = r.sum;
    CHECK_EQ_INT(r.samples, 3000);
    /* a hit: the same calls reach the sink, and the backend is not asked */
    r = (struct rec_sink){{&rec_ops}, 0, 0, 0, 0};
    CHECK_EQ_INT(chorus_cache_run_job(c, &b, &j, 0, &r.base, produce, &p), CHORUS_OK);
    CHECK_EQ_INT(p.calls, 1);
    CHECK_EQ_INT(r.samples, 3000);
    CHECK_EQ_INT(r.words, 1);
    CHECK_EQ_INT(r.marks, 1);
    CHECK(r.sum == sum);
    /* CHORUS_FLAG_NO_CACHE: straight to the backend */
    CHECK_EQ_INT(chorus_cache_run_job(c, &b, &j, CHORUS_FLAG_NO_CACHE, &r.base, produce, &p),
                 CHORUS_OK);
    CHECK_EQ_INT(p.calls, 2);
    chorus_cache_destroy(c);
}

int main(void) {
    unsetenv("CHORUS_CACHE");
    unsetenv("CHORUS_CACHE_DIR");
    snprintf(tmproot, sizeof tmproot, "%s/chorus-test-cache-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmproot)) {
        perror("mkdtemp");
        return 1;
    }
    /* nothing here may reach the user's cache even by accident */
    setenv("XDG_CACHE_HOME", tmproot, 1);
    RUN(test_key_covers_every_field);
    RUN(test_store_evict);
    RUN(test_job_filter_tees_a_miss_and_replays_a_hit);
    RUN(test_parse_size);
    RUN(test_hit_gives_identical_bytes_and_words);
    RUN(test_hit_serves_other_formats);
    RUN(test_repeated_paragraph_in_new_text_hits);
    RUN(test_no_cache_flag_and_disabled);
    RUN(test_bad_settings_are_reported);
    RUN(test_corrupt_entry_is_evicted_and_regenerated);
    RUN(test_cancelled_job_leaves_no_entry);
    RUN(test_clear);
    RUN(test_damaged_index_is_replaced);
    RUN(test_eviction_is_lru_and_respects_the_cap);
    RUN(test_entry_checks_catch_damage);
    RUN(test_two_processes_share_a_directory);
    rm_rf(tmproot);
    return test_summary();
}
