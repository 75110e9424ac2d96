/*
 * models.c — installing local engines' model files (chorus_model_pull) over the shared HTTP
 * layer: each file streams to NAME.part beside its final name, is checked, then renamed. What
 * a model consists of (files, voices, URL, checksums) is its backend descriptor's `model`.
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

/* The downloadable model named `name`: a backend descriptor's model (struct chorus_model_desc). */
static const struct chorus_model_desc *model_find(const char *name) {
    const struct chorus_backend_desc *const *reg = chorus_registry();
    for (size_t i = 0; name && reg[i]; i++)
        if (reg[i]->model && !strcmp(reg[i]->model->name, name)) return reg[i]->model;
    return NULL;
}

/* "unknown model 'x'; models chorus can install: kokoro, ..." */
static int unknown_model(const char *name, char *err, size_t errlen) {
    char list[256] = "";
    size_t off = 0;
    const struct chorus_backend_desc *const *reg = chorus_registry();
    for (size_t i = 0; reg[i]; i++) {
        if (!reg[i]->model) continue;
        int n = snprintf(list + off, sizeof list - off, "%s%s", off ? ", " : "", reg[i]->model->name);
        if (n < 0 || (size_t)n >= sizeof list - off) break;
        off += (size_t)n;
    }
    chorus_fmt(err, errlen, "unknown model '%s'; models chorus can install: %s", name ? name : "",
               off ? list : "none");
    return CHORUS_E_NOT_FOUND;
}

int chorus_model_dir(const char *model, char *buf, size_t cap) {
    if (!model_find(model)) return CHORUS_E_NOT_FOUND;
    const char *x = getenv("XDG_DATA_HOME"), *h = getenv("HOME");
    if (x && *x) chorus_fmt(buf, cap, "%s/chorus/models/%s", x, model);
    else chorus_fmt(buf, cap, "%s/.local/share/chorus/models/%s", h && *h ? h : ".", model);
    return CHORUS_OK;
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
static const char *expected_sha(const struct manifest *m, const struct chorus_model_file *pinned,
                                const char *rel) {
    if (m->n || m->path) {
        for (size_t i = 0; i < m->n; i++)
            if (!strcmp(m->path[i], rel)) return m->sha[i];
        return NULL;
    }
    for (size_t i = 0; pinned && pinned[i].path; i++)
        if (!strcmp(pinned[i].path, rel)) return pinned[i].sha256;
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

/* Fetch rel into dir/rel through dir/rel.part: a .part left by an interrupted pull is resumed
 * with a Range request; the file takes its final name only once complete and verified. */
static int fetch_one(const struct chorus_model_desc *md, const char *base, const char *dir,
                     const char *rel, const struct manifest *m, chorus_download_fn fn, void *ud,
                     char *err, size_t errlen) {
    char final[4096], url[4096], part[4200];
    chorus_fmt(final, sizeof final, "%s/%s", dir, rel);
    chorus_fmt(part, sizeof part, "%s.part", final);
    const char *want = expected_sha(m, md->pinned, rel);
    struct stat st;
    if (stat(final, &st) == 0 && st.st_size > 0) return CHORUS_OK; /* already installed */
    if (chorus_net_join_url(url, sizeof url, base, rel) < 0) {
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

/* The voices a pull asks for: the caller's, "all", or the model's defaults; each name safe. */
static int pick_voices(const struct chorus_model_desc *md, const char *const **voices, char *err,
                       size_t errlen) {
    if (!*voices) *voices = md->default_voices;
    else if ((*voices)[0] && !strcmp((*voices)[0], "all")) *voices = md->all_voices;
    for (size_t i = 0; *voices && (*voices)[i]; i++)
        if (!safe_name((*voices)[i])) {
            chorus_fmt(err, errlen, "invalid voice name '%s': use names like %s", (*voices)[i],
                       md->default_voices && md->default_voices[0] ? md->default_voices[0] : "x");
            return CHORUS_E_INVALID;
        }
    return CHORUS_OK;
}

static int fetch_all(const struct chorus_model_desc *md, const char *base_url, const char *dir,
                     const struct manifest *m, const char *const *voices,
                     chorus_download_fn progress, void *ud, char *err, size_t errlen) {
    int rc = CHORUS_OK;
    for (size_t i = 0; rc == CHORUS_OK && md->files[i]; i++)
        rc = fetch_one(md, base_url, dir, md->files[i], m, progress, ud, err, errlen);
    for (size_t i = 0; rc == CHORUS_OK && voices && voices[i]; i++) {
        char rel[160];
        chorus_fmt(rel, sizeof rel, "%s/%s%s", md->voice_dir, voices[i], md->voice_ext);
        rc = fetch_one(md, base_url, dir, rel, m, progress, ud, err, errlen);
    }
    return rc;
}

int chorus_model_pull(struct chorus_engine *e, const char *model, const char *base_url,
                      const char *manifest, const char *const *voices,
                      chorus_download_fn progress, void *userdata, char *errbuf,
                      size_t errbuf_size) {
    const struct chorus_model_desc *md = model_find(model);
    char dir[4096];
    if (!md || chorus_model_dir(model, dir, sizeof dir) != CHORUS_OK)
        return unknown_model(model, errbuf, errbuf_size);
    const char *places[] = {"models", md->url_key, NULL};
    if (!base_url || !*base_url) base_url = chorus_config_find(e ? e->cfg : NULL, "CHORUS_MODELS_URL", places);
    if (!base_url || !*base_url) base_url = md->url;
    int rc = pick_voices(md, &voices, errbuf, errbuf_size);
    if (rc != CHORUS_OK) return rc;
    struct manifest m;
    memset(&m, 0, sizeof m);
    if (manifest && *manifest) {
        rc = manifest_load(manifest, &m, errbuf, errbuf_size);
        if (rc == CHORUS_OK && !m.path) m.path = calloc(1, sizeof *m.path); /* empty: nothing pinned */
        if (rc != CHORUS_OK) {
            manifest_free(&m);
            return rc;
        }
    }
    rc = chorus_net_global_init();
    char vdir[4200];
    chorus_fmt(vdir, sizeof vdir, "%s/%s", dir, md->voice_dir);
    if (rc != CHORUS_OK) {
        chorus_fmt(errbuf, errbuf_size, "cannot start the HTTP client");
    } else if (chorus_mkdir_p(vdir, 0755) < 0) {
        chorus_fmt(errbuf, errbuf_size, "cannot create %s: %s", vdir, strerror(errno));
        rc = CHORUS_E_IO;
    }
    if (rc == CHORUS_OK)
        rc = fetch_all(md, base_url, dir, &m, voices, progress, userdata, errbuf, errbuf_size);
    manifest_free(&m);
    return rc;
}

/* 1 if name is NAME.ext or NAME.ext.part */
static int has_ext(const char *name, const char *ext) {
    size_t l = strlen(name), el = strlen(ext);
    if (l > el && !strcmp(name + l - el, ext)) return 1;
    return l > el + 5 && !strncmp(name + l - el - 5, ext, el) && !strcmp(name + l - 5, ".part");
}

static int unlink_one(const char *dir, const char *rel, const char *suffix) {
    char path[4400];
    chorus_fmt(path, sizeof path, "%s/%s%s", dir, rel, suffix);
    return unlink(path) < 0 && errno != ENOENT ? CHORUS_E_IO : CHORUS_OK;
}

int chorus_model_remove(const char *model, char *errbuf, size_t errbuf_size) {
    const struct chorus_model_desc *md = model_find(model);
    char dir[4096];
    if (!md || chorus_model_dir(model, dir, sizeof dir) != CHORUS_OK)
        return unknown_model(model, errbuf, errbuf_size);
    /* only what a pull writes: the model's files, voice packs and partial downloads */
    int rc = CHORUS_OK;
    for (size_t i = 0; md->files[i]; i++) {
        if (unlink_one(dir, md->files[i], "") != CHORUS_OK) rc = CHORUS_E_IO;
        if (unlink_one(dir, md->files[i], ".part") != CHORUS_OK) rc = CHORUS_E_IO;
    }
    char path[4300];
    chorus_fmt(path, sizeof path, "%s/%s", dir, md->voice_dir);
    DIR *d = opendir(path);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        if (has_ext(de->d_name, md->voice_ext) && unlink_one(path, de->d_name, "") != CHORUS_OK)
            rc = CHORUS_E_IO;
    if (d) closedir(d);
    rmdir(path);
    rmdir(dir);
    if (rc != CHORUS_OK) chorus_fmt(errbuf, errbuf_size, "cannot remove every file of %s in %s", model, dir);
    return rc;
}
