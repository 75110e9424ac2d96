/*
 * models.c — installing local engines' model files (chorus_model_pull) over the shared HTTP
 * layer: each file streams to NAME.XXXXXX.part beside its final name, is checked, then renamed.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/engine.h"
#include "core/util.h"
#include "net/net.h"

#define KOKORO_URL "https://huggingface.co/hexgrad/Kokoro-82M/resolve/main"

static const char *const kokoro_default_voices[] = {"af_heart", "af_bella", "af_nicole", "af_sky",
                                                    "am_adam",  "am_michael", "bf_emma", "bm_george",
                                                    NULL};
static const char *const kokoro_all_voices[] = {
    "af_heart", "af_alloy", "af_aoede", "af_bella", "af_jessica", "af_kore", "af_nicole", "af_nova",
    "af_river", "af_sarah", "af_sky", "am_adam", "am_echo", "am_eric", "am_fenrir", "am_liam",
    "am_michael", "am_onyx", "am_puck", "am_santa", "bf_alice", "bf_emma", "bf_isabella", "bf_lily",
    "bm_daniel", "bm_fable", "bm_george", "bm_lewis", "jf_alpha", "jf_gongitsune", "jf_nezumi",
    "jf_tebukuro", "jm_kumo", "zf_xiaobei", "zf_xiaoni", "zf_xiaoxiao", "zf_xiaoyi", "zm_yunjian",
    "zm_yunxi", "zm_yunxia", "zm_yunyang", "ef_dora", "em_alex", "em_santa", "ff_siwis", "hf_alpha",
    "hf_beta", "hm_omega", "hm_psi", "if_sara", "im_nicola", "pf_dora", "pm_alex", "pm_santa", NULL};

int chorus_model_dir(const char *model, char *buf, size_t cap) {
    if (!model || strcmp(model, "kokoro")) return CHORUS_E_NOT_FOUND;
    const char *x = getenv("XDG_DATA_HOME"), *h = getenv("HOME");
    if (x && *x) chorus_fmt(buf, cap, "%s/chorus/models/%s", x, model);
    else chorus_fmt(buf, cap, "%s/.local/share/chorus/models/%s", h && *h ? h : ".", model);
    return CHORUS_OK;
}

static int mkdirs(const char *path) {
    char tmp[4096];
    chorus_fmt(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* A valid voice or name: letters, digits, '_' and '-' only (no path can escape the folder). */
static int safe_name(const char *s) {
    if (!*s || strlen(s) > 64) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-'))
            return 0;
    return 1;
}

struct dl {
    int fd;
    const char *file;
    uint64_t done, total;
    chorus_download_fn fn;
    void *ud;
    int cancelled;
    int werr;
};

static int dl_response(void *ud, const struct chorus_http_result *r) {
    struct dl *d = ud;
    (void)r;
    /* a retried attempt starts over */
    if (d->done && (lseek(d->fd, 0, SEEK_SET) < 0 || ftruncate(d->fd, 0) < 0)) return CHORUS_E_IO;
    d->done = 0;
    return 0;
}

static int dl_body(void *ud, const void *data, size_t n) {
    struct dl *d = ud;
    const char *p = data;
    while (n) {
        ssize_t w = write(d->fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            d->werr = errno;
            return CHORUS_E_IO;
        }
        p += w;
        n -= (size_t)w;
        d->done += (uint64_t)w;
    }
    if (d->fn && d->fn(d->file, d->done, d->total, d->ud)) {
        d->cancelled = 1;
        return CHORUS_E_CANCELLED;
    }
    return 0;
}

static int dl_cancelled(void *ud) {
    return ((struct dl *)ud)->cancelled;
}

/* Check a downloaded file is what its name says before it takes the final name. */
static int check_file(const char *rel, const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) return chorus_fmt(err, errlen, "cannot read back %s", path), CHORUS_E_IO;
    unsigned char head[4] = {0};
    size_t n = fread(head, 1, 4, f);
    fclose(f);
    size_t rl = strlen(rel);
    if (rl > 4 && (!strcmp(rel + rl - 4, ".pth") || !strcmp(rel + rl - 3, ".pt"))) {
        /* torch.save files are zip archives */
        if (n < 4 || memcmp(head, "PK\x03\x04", 4)) {
            chorus_fmt(err, errlen, "%s is not a PyTorch file (no zip header): the server sent something else", rel);
            return CHORUS_E_MODEL;
        }
    } else if (rl > 5 && !strcmp(rel + rl - 5, ".json")) {
        json_error_t je;
        json_t *j = json_load_file(path, 0, &je);
        if (!j || !json_is_object(j)) {
            json_decref(j);
            chorus_fmt(err, errlen, "%s is not a JSON object (line %d: %s)", rel, je.line, je.text);
            return CHORUS_E_MODEL;
        }
        json_decref(j);
    }
    return CHORUS_OK;
}

static int fetch_one(const char *base, const char *dir, const char *rel, chorus_download_fn fn,
                     void *ud, char *err, size_t errlen) {
    char final[4096], url[4096];
    chorus_fmt(final, sizeof final, "%s/%s", dir, rel);
    struct stat st;
    if (stat(final, &st) == 0 && st.st_size > 0) return CHORUS_OK; /* already installed */
    if (chorus_net_join_url(url, sizeof url, base, rel) < 0) {
        chorus_fmt(err, errlen, "model URL too long");
        return CHORUS_E_INVALID;
    }
    char tmp[4200];
    chorus_fmt(tmp, sizeof tmp, "%s.XXXXXX.part", final);
    int fd = mkstemps(tmp, 5);
    if (fd < 0) {
        chorus_fmt(err, errlen, "cannot write %s: %s", final, strerror(errno));
        return CHORUS_E_IO;
    }
    struct dl d = {fd, rel, 0, 0, fn, ud, 0, 0};
    struct chorus_http_req req = {0};
    req.method = "GET";
    req.url = url;
    req.what = "model download";
    req.policy.idle_timeout_ms = 60000;
    req.on_response = dl_response;
    req.on_body = dl_body;
    req.is_cancelled = dl_cancelled;
    req.ud = &d;
    struct chorus_http_result r;
    memset(&r, 0, sizeof r);
    int rc = chorus_http_perform(&req, &r);
    if (rc != CHORUS_OK) {
        if (d.werr) chorus_fmt(err, errlen, "cannot write %s: %s", final, strerror(d.werr));
        else if (rc == CHORUS_E_CANCELLED) chorus_fmt(err, errlen, "download of %s cancelled", rel);
        else chorus_fmt(err, errlen, "cannot download %s from %s: %s", rel, url, r.msg[0] ? r.msg : chorus_strerror(rc));
    }
    chorus_http_result_release(&r);
    mode_t m = umask(0);
    umask(m);
    fchmod(fd, 0666 & ~m);
    if (close(fd) < 0 && rc == CHORUS_OK) {
        chorus_fmt(err, errlen, "cannot write %s: %s", final, strerror(errno));
        rc = CHORUS_E_IO;
    }
    if (rc == CHORUS_OK) rc = check_file(rel, tmp, err, errlen);
    if (rc == CHORUS_OK && rename(tmp, final) < 0) {
        chorus_fmt(err, errlen, "cannot install %s: %s", final, strerror(errno));
        rc = CHORUS_E_IO;
    }
    if (rc != CHORUS_OK) unlink(tmp);
    return rc;
}

int chorus_model_pull(struct chorus_engine *e, const char *model, const char *base_url,
                      const char *const *voices, chorus_download_fn progress, void *userdata,
                      char *errbuf, size_t errbuf_size) {
    char dir[4096];
    if (chorus_model_dir(model, dir, sizeof dir) != CHORUS_OK) {
        chorus_fmt(errbuf, errbuf_size, "unknown model '%s'; models chorus can install: kokoro",
                   model ? model : "");
        return CHORUS_E_NOT_FOUND;
    }
    const char *places[] = {"models", "kokoro_url", NULL};
    if (!base_url || !*base_url) base_url = chorus_config_find(e ? e->cfg : NULL, "CHORUS_MODELS_URL", places);
    if (!base_url || !*base_url) base_url = KOKORO_URL;
    if (!voices) voices = kokoro_default_voices;
    else if (voices[0] && !strcmp(voices[0], "all")) voices = kokoro_all_voices;
    for (size_t i = 0; voices[i]; i++)
        if (!safe_name(voices[i])) {
            chorus_fmt(errbuf, errbuf_size, "invalid voice name '%s': use names like af_heart", voices[i]);
            return CHORUS_E_INVALID;
        }
    int rc = chorus_net_global_init();
    if (rc != CHORUS_OK) {
        chorus_fmt(errbuf, errbuf_size, "cannot start the HTTP client");
        return rc;
    }
    char vdir[4200];
    chorus_fmt(vdir, sizeof vdir, "%s/voices", dir);
    if (mkdirs(vdir) < 0) {
        chorus_fmt(errbuf, errbuf_size, "cannot create %s: %s", vdir, strerror(errno));
        return CHORUS_E_IO;
    }
    rc = fetch_one(base_url, dir, "config.json", progress, userdata, errbuf, errbuf_size);
    if (rc == CHORUS_OK)
        rc = fetch_one(base_url, dir, "kokoro-v1_0.pth", progress, userdata, errbuf, errbuf_size);
    for (size_t i = 0; rc == CHORUS_OK && voices[i]; i++) {
        char rel[128];
        chorus_fmt(rel, sizeof rel, "voices/%s.pt", voices[i]);
        rc = fetch_one(base_url, dir, rel, progress, userdata, errbuf, errbuf_size);
    }
    return rc;
}
