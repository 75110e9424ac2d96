/*
 * models.c — installing local engines' model files (chorus_model_pull) over the shared HTTP
 * layer: each file streams to NAME.XXXXXX.part beside its final name, is checked, then renamed.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <nettle/sha2.h>
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

/* The published files, pinned to one revision of hexgrad/Kokoro-82M, with their SHA-256. */
#define KOKORO_URL "https://huggingface.co/hexgrad/Kokoro-82M/resolve/f3ff3571791e39611d31c381e3a41a3af07b4987"

struct pinned {
    const char *path;
    const char *sha256;
};
static const struct pinned kokoro_pinned[] = {
    {"config.json", "5abb01e2403b072bf03d04fde160443e209d7a0dad49a423be15196b9b43c17f"},
    {"kokoro-v1_0.pth", "496dba118d1a58f5f3db2efc88dbdc216e0483fc89fe6e47ee1f2c53f18ad1e4"},
    {"voices/af_heart.pt", "0ab5709b8ffab19bfd849cd11d98f75b60af7733253ad0d67b12382a102cb4ff"},
    {"voices/af_bella.pt", "8cb64e02fcc8de0327a8e13817e49c76c945ecf0052ceac97d3081480e8e48d6"},
    {"voices/am_michael.pt", "9a443b79a4b22489a5b0ab7c651a0bcd1a30bef675c28333f06971abbd47bd37"},
    {"voices/am_fenrir.pt", "98e507eca1db08230ae3b6232d59c10aec9630022d19accac4f5d12fcec3c37a"},
    {"voices/bf_emma.pt", "d0a423deabf4a52b4f49318c51742c54e21bb89bbbe9a12141e7758ddb5da701"},
    {"voices/jf_alpha.pt", "1bf4c9dc69e45ee46183b071f4db766349aac5592acbcfeaf051018048a5d787"},
    {"voices/jf_gongitsune.pt", "1b171917f18f351e65f2bf9657700cd6bfec4e65589c297525b9cf3c20105770"},
    {"voices/jf_nezumi.pt", "d83f007a7f01783b77014561a7d493d327a0210e143440e91c9b697590d27661"},
    {"voices/jf_tebukuro.pt", "0d6917904438aec85f73a6fa1f7ac2be6481aae47c697834936930a91796c576"},
    {"voices/jm_kumo.pt", "98340afd68b1cee84fe0cd95528cfa6d4b39e416aa75a9df64049d52c8b55896"},
    /* misaki's English lexicons (Kokoro's G2P), from hexgrad/misaki at MISAKI_URL's commit */
    {"misaki/us_gold.json", "dc414872a49a28ae6c141463d502fd945f3b2fde040484fdc47d00cc4612686f"},
    {"misaki/us_silver.json", "de8f67be911bb6c659187b4a65fd966b6a30e56350e0f790d763210b053ac475"},
    {"misaki/gb_gold.json", "29e62f4b60261c88f7f3c2c7811ca3825978948090b72d2b27d565b729282f71"},
    {"misaki/gb_silver.json", "48131e2d92ccc41655f4543e87e0f938e71463eb5a54be7f0693bb712ebb6bce"},
    {NULL, NULL}};

/* misaki's lexicons (Apache-2.0), pinned to commit fba1236 of hexgrad/misaki (2025-08-10). A
 * mirror given with --from serves them as misaki/NAME under its base URL. */
#define MISAKI_URL "https://raw.githubusercontent.com/hexgrad/misaki/fba1236595f2d2bf21d414ba6e57d25256afada3/misaki/data/"
static const char *const misaki_files[] = {"us_gold.json", "us_silver.json", "gb_gold.json",
                                           "gb_silver.json", NULL};

static const char *const kokoro_default_voices[] = {"af_heart", "af_bella", "am_michael",
                                                    "am_fenrir", "bf_emma", NULL};
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

/* ---- checksums: the pinned table, or a manifest file in sha256sum's format ---- */

struct manifest {
    char (*path)[128];
    char (*sha)[65];
    size_t n;
};

static int manifest_load(const char *file, struct manifest *m, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    FILE *f = fopen(file, "r");
    if (!f) return chorus_fmt(err, errlen, "cannot read checksum manifest %s: %s", file, strerror(errno)), CHORUS_E_IO;
    char line[512];
    int lineno = 0, rc = CHORUS_OK;
    while (rc == CHORUS_OK && fgets(line, sizeof line, f)) {
        lineno++;
        char hex[80], path[200];
        if (line[0] == '#' || line[strspn(line, " \t\r\n")] == 0) continue;
        if (sscanf(line, "%79s %199s", hex, path) != 2 || strlen(hex) != 64 ||
            strspn(hex, "0123456789abcdefABCDEF") != 64 || strlen(path) >= 128) {
            chorus_fmt(err, errlen, "%s:%d: expected '<sha256> <path>'", file, lineno);
            rc = CHORUS_E_CONFIG;
            break;
        }
        char (*np)[128] = realloc(m->path, (m->n + 1) * sizeof *np);
        if (np) m->path = np;
        char (*ns)[65] = realloc(m->sha, (m->n + 1) * sizeof *ns);
        if (ns) m->sha = ns;
        if (!np || !ns) {
            rc = CHORUS_E_NOMEM;
            break;
        }
        const char *rel = path[0] == '*' ? path + 1 : path; /* sha256sum's binary marker */
        chorus_fmt(m->path[m->n], sizeof m->path[m->n], "%s", rel);
        for (int i = 0; i < 65; i++) m->sha[m->n][i] = (char)(hex[i] | (hex[i] >= 'A' && hex[i] <= 'F' ? 0x20 : 0));
        m->n++;
    }
    fclose(f);
    return rc;
}

static void manifest_free(struct manifest *m) {
    free(m->path);
    free(m->sha);
}

/* Expected SHA-256 of rel: the manifest's when one is given, else the pinned table's. */
static const char *expected_sha(const struct manifest *m, const char *rel) {
    if (m->n || m->path) {
        for (size_t i = 0; i < m->n; i++)
            if (!strcmp(m->path[i], rel)) return m->sha[i];
        return NULL;
    }
    for (size_t i = 0; kokoro_pinned[i].path; i++)
        if (!strcmp(kokoro_pinned[i].path, rel)) return kokoro_pinned[i].sha256;
    return NULL;
}

static int file_sha256(const char *path, char hex[65]) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    struct sha256_ctx c;
    sha256_init(&c);
    unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) sha256_update(&c, n, buf);
    int bad = ferror(f);
    fclose(f);
    if (bad) return -1;
    unsigned char d[SHA256_DIGEST_SIZE];
    sha256_digest(&c, sizeof d, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++) sprintf(hex + 2 * i, "%02x", d[i]);
    return 0;
}

/* ---- one file ---- */

struct dl {
    int fd;
    const char *file;
    uint64_t start; /* bytes already in the .part file when this attempt began */
    uint64_t done;
    chorus_download_fn fn;
    void *ud;
    int cancelled;
    int werr;
};

static int dl_response(void *ud, const struct chorus_http_result *r) {
    struct dl *d = ud;
    /* 206: the server continues where the .part file ends; anything else starts over */
    if (r->status != 206 && d->start) {
        if (lseek(d->fd, 0, SEEK_SET) < 0 || ftruncate(d->fd, 0) < 0) return CHORUS_E_IO;
        d->start = 0;
    }
    d->done = d->start;
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
    if (d->fn && d->fn(d->file, d->done, 0, d->ud)) {
        d->cancelled = 1;
        return CHORUS_E_CANCELLED;
    }
    return 0;
}

static int dl_cancelled(void *ud) {
    return ((struct dl *)ud)->cancelled;
}

/* Check a downloaded file is what its name says before it takes the final name. */
static int check_file(const char *rel, const char *path, const char *want_sha, char *err,
                      size_t errlen) {
    if (want_sha) {
        char got[65];
        if (file_sha256(path, got) < 0) return chorus_fmt(err, errlen, "cannot read back %s", path), CHORUS_E_IO;
        if (strcmp(got, want_sha)) {
            chorus_fmt(err, errlen,
                       "checksum mismatch for %s: expected sha256 %s, got %s; the download was deleted",
                       rel, want_sha, got);
            return CHORUS_E_MODEL;
        }
        return CHORUS_OK;
    }
    /* no pinned checksum: at least the file must be what its name says */
    FILE *f = fopen(path, "rb");
    if (!f) return chorus_fmt(err, errlen, "cannot read back %s", path), CHORUS_E_IO;
    unsigned char head[4] = {0};
    size_t n = fread(head, 1, 4, f);
    fclose(f);
    size_t rl = strlen(rel);
    if (rl > 3 && (!strcmp(rel + rl - 4, ".pth") || !strcmp(rel + rl - 3, ".pt"))) {
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

/* Fetch base/url_rel into dir/rel through dir/rel.part: a .part left by an interrupted pull is
 * resumed with a Range request; the file takes its final name only once complete and verified. */
static int fetch_as(const char *base, const char *url_rel, const char *dir, const char *rel,
                    const struct manifest *m, chorus_download_fn fn, void *ud, char *err,
                    size_t errlen) {
    char final[4096], url[4096], part[4200];
    chorus_fmt(final, sizeof final, "%s/%s", dir, rel);
    chorus_fmt(part, sizeof part, "%s.part", final);
    const char *want = expected_sha(m, rel);
    struct stat st;
    if (stat(final, &st) == 0 && st.st_size > 0) return CHORUS_OK; /* already installed */
    if (chorus_net_join_url(url, sizeof url, base, url_rel) < 0) {
        chorus_fmt(err, errlen, "model URL too long");
        return CHORUS_E_INVALID;
    }
    int fd = open(part, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        chorus_fmt(err, errlen, "cannot write %s: %s", part, strerror(errno));
        return CHORUS_E_IO;
    }
    int rc = CHORUS_E_NETWORK;
    char msg[1024] = "";
    /* a few attempts, each resuming where the last one stopped */
    for (int attempt = 0; attempt < 4; attempt++) {
        struct dl d = {fd, rel, 0, 0, fn, ud, 0, 0};
        off_t have = lseek(fd, 0, SEEK_END);
        d.start = have > 0 ? (uint64_t)have : 0;
        char range[64];
        const char *headers[2] = {NULL, NULL};
        if (d.start) {
            chorus_fmt(range, sizeof range, "Range: bytes=%llu-", (unsigned long long)d.start);
            headers[0] = range;
        }
        struct chorus_http_req req = {0};
        req.method = "GET";
        req.url = url;
        req.headers = headers;
        req.what = "model download";
        req.policy.idle_timeout_ms = 60000;
        req.policy.max_retries = 0; /* retried here, with a fresh Range each time */
        req.on_response = dl_response;
        req.on_body = dl_body;
        req.is_cancelled = dl_cancelled;
        req.ud = &d;
        struct chorus_http_result r;
        memset(&r, 0, sizeof r);
        rc = chorus_http_perform(&req, &r);
        if (d.werr) chorus_fmt(msg, sizeof msg, "cannot write %s: %s", part, strerror(d.werr));
        else if (rc == CHORUS_E_CANCELLED) chorus_fmt(msg, sizeof msg, "download of %s interrupted; run the pull again to resume", rel);
        else if (rc != CHORUS_OK) chorus_fmt(msg, sizeof msg, "cannot download %s from %s: %s", rel, url, r.msg[0] ? r.msg : chorus_strerror(rc));
        long status = r.status;
        chorus_http_result_release(&r);
        if (rc == CHORUS_OK || rc == CHORUS_E_CANCELLED || d.werr) break;
        if (status >= 400 && status < 500 && status != 408 && status != 429) break; /* not worth retrying */
        if (attempt < 3) usleep(200000u << attempt);
    }
    if (close(fd) < 0 && rc == CHORUS_OK) {
        chorus_fmt(msg, sizeof msg, "cannot write %s: %s", part, strerror(errno));
        rc = CHORUS_E_IO;
    }
    if (rc == CHORUS_OK) {
        rc = check_file(rel, part, want, msg, sizeof msg);
        if (rc != CHORUS_OK) unlink(part); /* a wrong file is never resumed */
    }
    if (rc == CHORUS_OK && rename(part, final) < 0) {
        chorus_fmt(msg, sizeof msg, "cannot install %s: %s", final, strerror(errno));
        rc = CHORUS_E_IO;
    }
    if (rc != CHORUS_OK) {
        if (stat(part, &st) == 0 && st.st_size == 0) unlink(part); /* nothing worth resuming */
        chorus_fmt(err, errlen, "%s", msg);
    }
    return rc;
}

static int fetch_one(const char *base, const char *dir, const char *rel, const struct manifest *m,
                     chorus_download_fn fn, void *ud, char *err, size_t errlen) {
    return fetch_as(base, rel, dir, rel, m, fn, ud, err, errlen);
}

int chorus_model_pull(struct chorus_engine *e, const char *model, const char *base_url,
                      const char *manifest, const char *const *voices,
                      chorus_download_fn progress, void *userdata, char *errbuf,
                      size_t errbuf_size) {
    char dir[4096];
    if (chorus_model_dir(model, dir, sizeof dir) != CHORUS_OK) {
        chorus_fmt(errbuf, errbuf_size, "unknown model '%s'; models chorus can install: kokoro",
                   model ? model : "");
        return CHORUS_E_NOT_FOUND;
    }
    const char *places[] = {"models", "kokoro_url", NULL};
    if (!base_url || !*base_url) base_url = chorus_config_find(e ? e->cfg : NULL, "CHORUS_MODELS_URL", places);
    int mirror = base_url && *base_url;
    if (!base_url || !*base_url) base_url = KOKORO_URL;
    if (!voices) voices = kokoro_default_voices;
    else if (voices[0] && !strcmp(voices[0], "all")) voices = kokoro_all_voices;
    for (size_t i = 0; voices[i]; i++)
        if (!safe_name(voices[i])) {
            chorus_fmt(errbuf, errbuf_size, "invalid voice name '%s': use names like af_heart", voices[i]);
            return CHORUS_E_INVALID;
        }
    struct manifest m;
    memset(&m, 0, sizeof m);
    int rc = CHORUS_OK;
    if (manifest && *manifest) {
        rc = manifest_load(manifest, &m, errbuf, errbuf_size);
        if (rc == CHORUS_OK && !m.path) m.path = calloc(1, sizeof *m.path); /* empty: nothing pinned */
        if (rc != CHORUS_OK) {
            manifest_free(&m);
            return rc;
        }
    }
    rc = chorus_net_global_init();
    char vdir[4200], ldir[4200];
    chorus_fmt(vdir, sizeof vdir, "%s/voices", dir);
    chorus_fmt(ldir, sizeof ldir, "%s/misaki", dir);
    if (rc != CHORUS_OK) {
        chorus_fmt(errbuf, errbuf_size, "cannot start the HTTP client");
    } else if (mkdirs(vdir) < 0 || mkdirs(ldir) < 0) {
        chorus_fmt(errbuf, errbuf_size, "cannot create %s: %s", vdir, strerror(errno));
        rc = CHORUS_E_IO;
    }
    if (rc == CHORUS_OK) rc = fetch_one(base_url, dir, "config.json", &m, progress, userdata, errbuf, errbuf_size);
    if (rc == CHORUS_OK) rc = fetch_one(base_url, dir, "kokoro-v1_0.pth", &m, progress, userdata, errbuf, errbuf_size);
    for (size_t i = 0; rc == CHORUS_OK && voices[i]; i++) {
        char rel[128];
        chorus_fmt(rel, sizeof rel, "voices/%s.pt", voices[i]);
        rc = fetch_one(base_url, dir, rel, &m, progress, userdata, errbuf, errbuf_size);
    }
    for (size_t i = 0; rc == CHORUS_OK && misaki_files[i]; i++) {
        char rel[128];
        chorus_fmt(rel, sizeof rel, "misaki/%s", misaki_files[i]);
        rc = fetch_as(mirror ? base_url : MISAKI_URL, mirror ? rel : misaki_files[i], dir, rel, &m,
                      progress, userdata, errbuf, errbuf_size);
    }
    manifest_free(&m);
    return rc;
}

int chorus_model_remove(const char *model, char *errbuf, size_t errbuf_size) {
    char dir[4096];
    if (chorus_model_dir(model, dir, sizeof dir) != CHORUS_OK) {
        chorus_fmt(errbuf, errbuf_size, "unknown model '%s'; models chorus can install: kokoro", model ? model : "");
        return CHORUS_E_NOT_FOUND;
    }
    /* only what a pull writes: the two model files, voice packs and partial downloads */
    static const char *const top[] = {"config.json", "config.json.part", "kokoro-v1_0.pth", "kokoro-v1_0.pth.part", NULL};
    char path[4300];
    int rc = CHORUS_OK;
    for (size_t i = 0; top[i]; i++) {
        chorus_fmt(path, sizeof path, "%s/%s", dir, top[i]);
        if (unlink(path) < 0 && errno != ENOENT) rc = CHORUS_E_IO;
    }
    for (size_t i = 0; misaki_files[i]; i++) {
        chorus_fmt(path, sizeof path, "%s/misaki/%s", dir, misaki_files[i]);
        if (unlink(path) < 0 && errno != ENOENT) rc = CHORUS_E_IO;
        chorus_fmt(path, sizeof path, "%s/misaki/%s.part", dir, misaki_files[i]);
        if (unlink(path) < 0 && errno != ENOENT) rc = CHORUS_E_IO;
    }
    chorus_fmt(path, sizeof path, "%s/misaki", dir);
    rmdir(path);
    chorus_fmt(path, sizeof path, "%s/voices", dir);
    DIR *d = opendir(path);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if ((l > 3 && !strcmp(de->d_name + l - 3, ".pt")) || (l > 8 && !strcmp(de->d_name + l - 8, ".pt.part"))) {
            char f[4600];
            chorus_fmt(f, sizeof f, "%s/%s", path, de->d_name);
            if (unlink(f) < 0 && errno != ENOENT) rc = CHORUS_E_IO;
        }
    }
    if (d) closedir(d);
    rmdir(path);
    rmdir(dir);
    if (rc != CHORUS_OK) chorus_fmt(errbuf, errbuf_size, "cannot remove every file of %s in %s", model, dir);
    return rc;
}
