/*
 * voicelib.c — the local library of cloned-voice reference clips, and its public API
 * (chorus_cloned_voice_add/remove/list). See voicelib.h for the layout.
 *
 * Clips are read with libsndfile (wav, flac, ogg/vorbis, opus, mp3), downmixed to mono,
 * checked (3-60 s, 7-20 s recommended, not silent) and stored as 16-bit WAV.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <nettle/sha2.h>
#include <sndfile.h>

#include "chorus/chorus.h"
#include "core/config.h"
#include "core/engine.h"
#include "core/log.h"
#include "core/util.h"
#include "core/voicelib.h"

int chorus_voicelib_name_ok(const char *name) {
    if (!name || !*name) return 0;
    size_t n = strlen(name);
    if (n > 64) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '_' && c != '-'))) return 0;
    }
    return 1;
}

int chorus_voicelib_dir(const struct chorus_config *cfg, char *buf, size_t cap) {
    const char *places[] = {"voices", "dir", NULL};
    const char *d = cfg ? chorus_config_find(cfg, NULL, places) : NULL;
    int n;
    if (d && *d) {
        n = snprintf(buf, cap, "%s", d);
    } else {
        const char *x = getenv("XDG_DATA_HOME");
        const char *home = getenv("HOME");
        if (x && *x == '/')
            n = snprintf(buf, cap, "%s/chorus/voices", x);
        else if (home && *home)
            n = snprintf(buf, cap, "%s/.local/share/chorus/voices", home);
        else
            return -1;
    }
    if (n < 0 || (size_t)n >= cap) return -1;
    while (n > 1 && buf[n - 1] == '/') buf[--n] = '\0';
    return 0;
}


void chorus_voicelib_entry_release(struct chorus_voicelib_entry *e) {
    if (!e) return;
    free(e->description);
    free(e->path);
    e->description = NULL;
    e->path = NULL;
}

void chorus_voicelib_entries_free(struct chorus_voicelib_entry *v, size_t n) {
    if (!v) return;
    for (size_t i = 0; i < n; i++) chorus_voicelib_entry_release(&v[i]);
    free(v);
}

static int copy_str(json_t *o, const char *key, char *dst, size_t cap, int required, char *err,
                    size_t errlen) {
    json_t *v = json_object_get(o, key);
    if (!v) {
        if (required) chorus_fmt(err, errlen, "\"%s\" is missing", key);
        dst[0] = '\0';
        return required ? -1 : 0;
    }
    if (!json_is_string(v) || json_string_length(v) >= cap) {
        chorus_fmt(err, errlen, "\"%s\" is not a string of at most %zu bytes", key, cap - 1);
        return -1;
    }
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

int chorus_voicelib_parse_meta(const char *json, size_t len, struct chorus_voicelib_entry *e,
                               char *err, size_t errlen) {
    memset(e, 0, sizeof *e);
    json_error_t je;
    json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!o) {
        chorus_fmt(err, errlen, "not valid JSON (line %d: %s)", je.line, je.text);
        return -1;
    }
    int rc = -1;
    if (!json_is_object(o)) {
        chorus_fmt(err, errlen, "not a JSON object");
        goto out;
    }
    if (copy_str(o, "name", e->name, sizeof e->name, 1, err, errlen)) goto out;
    if (!chorus_voicelib_name_ok(e->name)) {
        chorus_fmt(err, errlen, "\"name\" is not a valid voice name");
        goto out;
    }
    if (copy_str(o, "created", e->created, sizeof e->created, 0, err, errlen)) goto out;
    if (copy_str(o, "source", e->source, sizeof e->source, 0, err, errlen)) goto out;
    if (copy_str(o, "sha256", e->sha256, sizeof e->sha256, 1, err, errlen)) goto out;
    if (strlen(e->sha256) != 64 || strspn(e->sha256, "0123456789abcdef") != 64) {
        chorus_fmt(err, errlen, "\"sha256\" is not a hex SHA-256 digest");
        goto out;
    }
    json_t *d = json_object_get(o, "description");
    if (d && !json_is_string(d) && !json_is_null(d)) {
        chorus_fmt(err, errlen, "\"description\" is not a string");
        goto out;
    }
    e->description = strdup(json_is_string(d) ? json_string_value(d) : "");
    if (!e->description) {
        chorus_fmt(err, errlen, "out of memory");
        goto out;
    }
    json_t *du = json_object_get(o, "duration");
    json_t *sr = json_object_get(o, "sample_rate");
    json_t *ch = json_object_get(o, "channels");
    if (!json_is_number(du) || !json_is_integer(sr)) {
        chorus_fmt(err, errlen, "\"duration\" or \"sample_rate\" is missing or not a number");
        goto out;
    }
    e->duration = json_number_value(du);
    json_int_t rate = json_integer_value(sr);
    json_int_t chans = json_is_integer(ch) ? json_integer_value(ch) : 1;
    if (!(e->duration > 0 && e->duration <= 3600) || rate < 1000 || rate > 384000 || chans < 1 ||
        chans > 64) {
        chorus_fmt(err, errlen, "duration, sample_rate or channels out of range");
        goto out;
    }
    e->sample_rate = (int)rate;
    e->channels = (int)chans;
    rc = 0;
out:
    json_decref(o);
    if (rc) chorus_voicelib_entry_release(e);
    return rc;
}

static char *read_small_file(const char *path, size_t max, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    fclose(f);
    if (!buf || n > max) {
        free(buf);
        errno = EFBIG;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int load_entry(const char *dir, const char *name, struct chorus_voicelib_entry *e,
                      char *err, size_t errlen) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    size_t len = 0;
    char *text = read_small_file(path, 1 << 16, &len);
    if (!text) {
        chorus_fmt(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return errno == ENOENT ? CHORUS_E_UNKNOWN_VOICE : CHORUS_E_IO;
    }
    char why[256];
    int rc = chorus_voicelib_parse_meta(text, len, e, why, sizeof why);
    free(text);
    if (rc) {
        chorus_fmt(err, errlen, "voice metadata %s is damaged: %s; remove the voice with "
                   "'chorus voices rm %s' and add it again", path, why, name);
        return CHORUS_E_IO;
    }
    if (strcmp(e->name, name) != 0) {
        chorus_fmt(err, errlen, "voice metadata %s names another voice ('%s'); remove it and "
                   "add the voice again", path, e->name);
        chorus_voicelib_entry_release(e);
        return CHORUS_E_IO;
    }
    snprintf(path, sizeof path, "%s/%s.wav", dir, name);
    if (access(path, R_OK) != 0) {
        chorus_fmt(err, errlen, "the reference clip %s of voice '%s' is missing or unreadable "
                   "(%s); add the voice again", path, name, strerror(errno));
        chorus_voicelib_entry_release(e);
        return CHORUS_E_IO;
    }
    e->path = strdup(path);
    if (!e->path) {
        chorus_voicelib_entry_release(e);
        return CHORUS_E_NOMEM;
    }
    return CHORUS_OK;
}

int chorus_voicelib_find(const struct chorus_config *cfg, const char *name,
                         struct chorus_voicelib_entry *e, char *err, size_t errlen) {
    memset(e, 0, sizeof *e);
    if (!chorus_voicelib_name_ok(name)) {
        chorus_fmt(err, errlen, "invalid voice name '%.80s': use 1-64 letters, digits, '_' or "
                   "'-', starting with a letter or digit", name ? name : "");
        return CHORUS_E_INVALID;
    }
    char dir[1024];
    if (chorus_voicelib_dir(cfg, dir, sizeof dir)) {
        chorus_fmt(err, errlen, "no voice library directory: set XDG_DATA_HOME or HOME, or "
                   "[voices] dir in config.toml");
        return CHORUS_E_CONFIG;
    }
    int rc = load_entry(dir, name, e, err, errlen);
    if (rc == CHORUS_E_UNKNOWN_VOICE)
        chorus_fmt(err, errlen, "unknown cloned voice '%s': it is not in the voice library %s; "
                   "add it with 'chorus voices add %s FILE' or list them with 'chorus voices "
                   "--cloned'", name, dir, name);
    return rc;
}

static int cmp_entry(const void *a, const void *b) {
    return strcmp(((const struct chorus_voicelib_entry *)a)->name,
                  ((const struct chorus_voicelib_entry *)b)->name);
}

int chorus_voicelib_list(const struct chorus_config *cfg, struct chorus_voicelib_entry **out,
                         size_t *n, char *err, size_t errlen) {
    *out = NULL;
    *n = 0;
    char dir[1024];
    if (chorus_voicelib_dir(cfg, dir, sizeof dir)) {
        chorus_fmt(err, errlen, "no voice library directory: set XDG_DATA_HOME or HOME, or "
                   "[voices] dir in config.toml");
        return CHORUS_E_CONFIG;
    }
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) return CHORUS_OK;
        chorus_fmt(err, errlen, "cannot open the voice library %s: %s", dir, strerror(errno));
        return CHORUS_E_IO;
    }
    struct chorus_voicelib_entry *v = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *de;
    int rc = CHORUS_OK;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0) continue;
        char name[80];
        if (l - 5 >= sizeof name) continue;
        memcpy(name, de->d_name, l - 5);
        name[l - 5] = '\0';
        if (!chorus_voicelib_name_ok(name)) continue;
        if (cnt == cap) {
            size_t nc = cap ? cap * 2 : 16;
            struct chorus_voicelib_entry *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                rc = CHORUS_E_NOMEM;
                break;
            }
            v = nv;
            cap = nc;
        }
        char why[1400];
        int r = load_entry(dir, name, &v[cnt], why, sizeof why);
        if (r == CHORUS_E_NOMEM) {
            rc = r;
            break;
        }
        if (r) {
            CHORUS_LOGW("voice library: skipping '%s': %s", name, why);
            continue;
        }
        cnt++;
    }
    closedir(d);
    if (rc) {
        chorus_voicelib_entries_free(v, cnt);
        chorus_fmt(err, errlen, "out of memory");
        return rc;
    }
    if (cnt) qsort(v, cnt, sizeof *v, cmp_entry);
    *out = v;
    *n = cnt;
    return CHORUS_OK;
}

static void hex_sha256_file(const char *path, char out[65]) {
    struct sha256_ctx c;
    sha256_init(&c);
    FILE *f = fopen(path, "rb");
    unsigned char buf[65536];
    size_t k;
    while (f && (k = fread(buf, 1, sizeof buf, f)) > 0) sha256_update(&c, k, buf);
    if (f) fclose(f);
    uint8_t dg[SHA256_DIGEST_SIZE];
    sha256_digest(&c, sizeof dg, dg);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++) snprintf(out + 2 * i, 3, "%02x", dg[i]);
}

/* Read `file`, downmix, and write mono 16-bit WAV to `tmp`. Fills duration/rate/channels. */
static int convert_clip(const char *file, const char *tmp, double *dur, int *rate, int *chans,
                        char *err, size_t errlen) {
    SF_INFO in_info;
    memset(&in_info, 0, sizeof in_info);
    SNDFILE *in = sf_open(file, SFM_READ, &in_info);
    if (!in) {
        chorus_fmt(err, errlen, "cannot read the reference clip %s as audio: %s; use a wav, "
                   "flac, ogg or mp3 file", file, sf_strerror(NULL));
        return CHORUS_E_IO;
    }
    if (in_info.frames <= 0 || in_info.samplerate < 8000 || in_info.channels < 1 ||
        in_info.channels > 64) {
        chorus_fmt(err, errlen, "the reference clip %s has no usable audio (%lld frames at %d Hz,"
                   " %d channels); record at least 3 s at 8 kHz or more", file,
                   (long long)in_info.frames, in_info.samplerate, in_info.channels);
        sf_close(in);
        return CHORUS_E_INVALID;
    }
    double d = (double)in_info.frames / in_info.samplerate;
    *dur = d;
    *rate = in_info.samplerate;
    *chans = in_info.channels;
    if (d < CHORUS_VOICELIB_MIN_S || d > CHORUS_VOICELIB_MAX_S) {
        chorus_fmt(err, errlen, "the reference clip %s is %.1f s long: voice cloning needs %g to "
                   "%g s of speech (%g-%g s works best)", file, d, CHORUS_VOICELIB_MIN_S,
                   CHORUS_VOICELIB_MAX_S, CHORUS_VOICELIB_REC_MIN_S, CHORUS_VOICELIB_REC_MAX_S);
        sf_close(in);
        return CHORUS_E_INVALID;
    }
    SF_INFO out_info;
    memset(&out_info, 0, sizeof out_info);
    out_info.samplerate = in_info.samplerate;
    out_info.channels = 1;
    out_info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE *out = sf_open(tmp, SFM_WRITE, &out_info);
    if (!out) {
        chorus_fmt(err, errlen, "cannot write %s: %s", tmp, sf_strerror(NULL));
        sf_close(in);
        return CHORUS_E_IO;
    }
    enum { FR = 4096 };
    float *buf = malloc(sizeof(float) * FR * (size_t)in_info.channels);
    float mono[FR];
    double peak = 0;
    int rc = buf ? CHORUS_OK : CHORUS_E_NOMEM;
    sf_count_t got;
    while (rc == CHORUS_OK && (got = sf_readf_float(in, buf, FR)) > 0) {
        for (sf_count_t i = 0; i < got; i++) {
            double acc = 0;
            for (int c = 0; c < in_info.channels; c++) acc += buf[i * in_info.channels + c];
            float m = (float)(acc / in_info.channels);
            if (!isfinite(m)) m = 0;
            mono[i] = m;
            if (fabs(m) > peak) peak = fabs(m);
        }
        if (sf_writef_float(out, mono, got) != got) {
            chorus_fmt(err, errlen, "cannot write %s: %s", tmp, sf_strerror(out));
            rc = CHORUS_E_IO;
        }
    }
    free(buf);
    if (rc == CHORUS_OK && sf_error(in)) {
        chorus_fmt(err, errlen, "cannot decode the reference clip %s: %s", file, sf_strerror(in));
        rc = CHORUS_E_IO;
    }
    if (rc == CHORUS_OK && peak < 1e-3) {
        chorus_fmt(err, errlen, "the reference clip %s is silent; record the voice to clone",
                   file);
        rc = CHORUS_E_INVALID;
    }
    sf_close(in);
    if (sf_close(out) != 0 && rc == CHORUS_OK) {
        chorus_fmt(err, errlen, "cannot finish writing %s", tmp);
        rc = CHORUS_E_IO;
    }
    return rc;
}

static int write_text_file(const char *path, const char *text, char *err, size_t errlen) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        chorus_fmt(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return CHORUS_E_IO;
    }
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    ok &= fflush(f) == 0;
    ok &= fsync(fileno(f)) == 0;
    ok &= fclose(f) == 0;
    if (!ok) {
        chorus_fmt(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return CHORUS_E_IO;
    }
    return CHORUS_OK;
}

int chorus_voicelib_add(const struct chorus_config *cfg, const char *name, const char *file,
                        const char *description, char *warn, size_t warnlen, char *err,
                        size_t errlen) {
    if (warn && warnlen) warn[0] = '\0';
    if (!chorus_voicelib_name_ok(name)) {
        chorus_fmt(err, errlen, "invalid voice name '%.80s': use 1-64 letters, digits, '_' or "
                   "'-', starting with a letter or digit", name ? name : "");
        return CHORUS_E_INVALID;
    }
    if (!file || !*file) {
        chorus_fmt(err, errlen, "no reference clip given for voice '%s'", name);
        return CHORUS_E_INVALID;
    }
    if (description && strlen(description) > 1000) {
        chorus_fmt(err, errlen, "the description of voice '%s' is longer than 1000 bytes", name);
        return CHORUS_E_INVALID;
    }
    char dir[1024];
    if (chorus_voicelib_dir(cfg, dir, sizeof dir)) {
        chorus_fmt(err, errlen, "no voice library directory: set XDG_DATA_HOME or HOME, or "
                   "[voices] dir in config.toml");
        return CHORUS_E_CONFIG;
    }
    char wav[1200], meta[1200], twav[1300], tmeta[1300];
    snprintf(wav, sizeof wav, "%s/%s.wav", dir, name);
    snprintf(meta, sizeof meta, "%s/%s.json", dir, name);
    if (access(meta, F_OK) == 0 || access(wav, F_OK) == 0) {
        chorus_fmt(err, errlen, "voice '%s' is already in the library %s; remove it first with "
                   "'chorus voices rm %s'", name, dir, name);
        return CHORUS_E_INVALID;
    }
    struct stat st;
    if (stat(file, &st) != 0 || !S_ISREG(st.st_mode)) {
        chorus_fmt(err, errlen, "cannot read the reference clip %s: %s", file,
                   errno ? strerror(errno) : "not a regular file");
        return CHORUS_E_IO;
    }
    if (chorus_mkdir_p(dir, 0755) != 0) {
        chorus_fmt(err, errlen, "cannot create the voice library %s: %s", dir, strerror(errno));
        return CHORUS_E_IO;
    }
    snprintf(twav, sizeof twav, "%s/.%s.%d.wav.tmp", dir, name, (int)getpid());
    snprintf(tmeta, sizeof tmeta, "%s/.%s.%d.json.tmp", dir, name, (int)getpid());
    double dur = 0;
    int rate = 0, chans = 0;
    int rc = convert_clip(file, twav, &dur, &rate, &chans, err, errlen);
    if (rc) {
        unlink(twav);
        return rc;
    }
    char sha[65];
    hex_sha256_file(twav, sha);
    char created[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, "description", json_string(description ? description : ""));
    json_object_set_new(o, "duration", json_real(round(dur * 1000.0) / 1000.0));
    json_object_set_new(o, "sample_rate", json_integer(rate));
    json_object_set_new(o, "channels", json_integer(chans));
    json_object_set_new(o, "created", json_string(created));
    char src[256];
    snprintf(src, sizeof src, "%s", base);
    json_t *js = json_string(src);
    json_object_set_new(o, "source", js ? js : json_string(""));
    json_object_set_new(o, "sha256", json_string(sha));
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(o);
    if (!text) {
        /* a description that is not UTF-8 makes json_string fail */
        unlink(twav);
        chorus_fmt(err, errlen, "cannot store the metadata of voice '%s': is the description "
                   "valid UTF-8?", name);
        return CHORUS_E_INVALID;
    }
    rc = write_text_file(tmeta, text, err, errlen);
    free(text);
    if (rc == CHORUS_OK && rename(twav, wav) != 0) {
        chorus_fmt(err, errlen, "cannot store %s: %s", wav, strerror(errno));
        rc = CHORUS_E_IO;
    }
    if (rc == CHORUS_OK && rename(tmeta, meta) != 0) {
        chorus_fmt(err, errlen, "cannot store %s: %s", meta, strerror(errno));
        unlink(wav);
        rc = CHORUS_E_IO;
    }
    if (rc) {
        unlink(twav);
        unlink(tmeta);
        return rc;
    }
    if (dur < CHORUS_VOICELIB_REC_MIN_S || dur > CHORUS_VOICELIB_REC_MAX_S) {
        char w[512];
        chorus_fmt(w, sizeof w, "the reference clip of voice '%s' is %.1f s long; %g-%g s "
                   "clones best", name, dur, CHORUS_VOICELIB_REC_MIN_S, CHORUS_VOICELIB_REC_MAX_S);
        CHORUS_LOGI("%s", w);
        if (warn && warnlen) chorus_fmt(warn, warnlen, "%s", w);
    }
    return CHORUS_OK;
}

int chorus_voicelib_remove(const struct chorus_config *cfg, const char *name, char *err,
                           size_t errlen) {
    if (!chorus_voicelib_name_ok(name)) {
        chorus_fmt(err, errlen, "invalid voice name '%.80s': use 1-64 letters, digits, '_' or "
                   "'-', starting with a letter or digit", name ? name : "");
        return CHORUS_E_INVALID;
    }
    char dir[1024];
    if (chorus_voicelib_dir(cfg, dir, sizeof dir)) {
        chorus_fmt(err, errlen, "no voice library directory: set XDG_DATA_HOME or HOME, or "
                   "[voices] dir in config.toml");
        return CHORUS_E_CONFIG;
    }
    char wav[1200], meta[1200];
    snprintf(wav, sizeof wav, "%s/%s.wav", dir, name);
    snprintf(meta, sizeof meta, "%s/%s.json", dir, name);
    int a = unlink(meta) == 0 ? 1 : (errno == ENOENT ? 0 : -1);
    int ea = errno;
    int b = unlink(wav) == 0 ? 1 : (errno == ENOENT ? 0 : -1);
    if (a < 0 || b < 0) {
        chorus_fmt(err, errlen, "cannot remove voice '%s' from %s: %s", name, dir,
                   strerror(a < 0 ? ea : errno));
        return CHORUS_E_IO;
    }
    if (!a && !b) {
        chorus_fmt(err, errlen, "no cloned voice '%s' in the voice library %s; list them with "
                   "'chorus voices --cloned'", name, dir);
        return CHORUS_E_NOT_FOUND;
    }
    return CHORUS_OK;
}

/* ---- public API ------------------------------------------------------------------------- */

int chorus_cloned_voice_add(struct chorus_engine *e, const char *name, const char *file,
                            const char *description, char *warning, size_t warning_size) {
    chorus_engine_clear_err(e);
    if (!e) return CHORUS_E_INVALID;
    char err[1536];
    int rc = chorus_voicelib_add(e->cfg, name, file, description, warning, warning_size, err,
                                 sizeof err);
    if (rc) chorus_engine_set_err(e, "%s", err);
    return rc;
}

int chorus_cloned_voice_remove(struct chorus_engine *e, const char *name) {
    chorus_engine_clear_err(e);
    if (!e) return CHORUS_E_INVALID;
    char err[1536];
    int rc = chorus_voicelib_remove(e->cfg, name, err, sizeof err);
    if (rc) chorus_engine_set_err(e, "%s", err);
    return rc;
}

int chorus_cloned_voice_list(struct chorus_engine *e, struct chorus_cloned_voice **out,
                             size_t *n) {
    chorus_engine_clear_err(e);
    if (!out || !n) return CHORUS_E_INVALID;
    *out = NULL;
    *n = 0;
    if (!e) return CHORUS_E_INVALID;
    char err[1536];
    struct chorus_voicelib_entry *v;
    size_t cnt;
    int rc = chorus_voicelib_list(e->cfg, &v, &cnt, err, sizeof err);
    if (rc) {
        chorus_engine_set_err(e, "%s", err);
        return rc;
    }
    if (!cnt) return CHORUS_OK;
    struct chorus_cloned_voice *r = calloc(cnt, sizeof *r);
    if (!r) {
        chorus_voicelib_entries_free(v, cnt);
        chorus_engine_set_err(e, "out of memory");
        return CHORUS_E_NOMEM;
    }
    size_t k;
    for (k = 0; k < cnt; k++) {
        r[k].name = strdup(v[k].name);
        r[k].description = strdup(v[k].description ? v[k].description : "");
        r[k].created = strdup(v[k].created);
        r[k].path = strdup(v[k].path);
        r[k].duration = v[k].duration;
        r[k].sample_rate = v[k].sample_rate;
        r[k].channels = v[k].channels;
        if (!r[k].name || !r[k].description || !r[k].created || !r[k].path) {
            chorus_cloned_voices_free(r, k + 1);
            chorus_voicelib_entries_free(v, cnt);
            chorus_engine_set_err(e, "out of memory");
            return CHORUS_E_NOMEM;
        }
    }
    chorus_voicelib_entries_free(v, cnt);
    *out = r;
    *n = cnt;
    return CHORUS_OK;
}

void chorus_cloned_voices_free(struct chorus_cloned_voice *v, size_t n) {
    if (!v) return;
    for (size_t i = 0; i < n; i++) {
        free((char *)v[i].name);
        free((char *)v[i].description);
        free((char *)v[i].created);
        free((char *)v[i].path);
    }
    free(v);
}
