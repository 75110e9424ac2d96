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

/* The engine whose descriptor describes downloadable files named `model`, or NULL. */
static const struct chorus_model_desc *model_of(const char *model) {
    const struct chorus_backend_desc *const *r = chorus_registry();
    for (size_t i = 0; model && r[i]; i++)
        if (r[i]->model && !strcmp(r[i]->name, model)) return r[i]->model;
    return NULL;
}

/* "kokoro" or "kokoro, other": the names chorus_model_pull knows, for messages. */
static const char *model_names(char *buf, size_t cap) {
    const struct chorus_backend_desc *const *r = chorus_registry();
    size_t off = 0;
    buf[0] = 0;
    for (size_t i = 0; r[i] && off + 1 < cap; i++)
        if (r[i]->model) {
            int n = snprintf(buf + off, cap - off, "%s%s", off ? ", " : "", r[i]->name);
            off += n > 0 ? (size_t)n : 0;
        }
    return buf[0] ? buf : "none in this build";
}

int chorus_model_dir(const char *model, char *buf, size_t cap) {
    if (!model_of(model)) return CHORUS_E_NOT_FOUND;
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
    const char *const (*pinned)[2]; /* the engine's table, used when no manifest is given */
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
    for (size_t i = 0; m->pinned && m->pinned[i][0]; i++)
        if (!strcmp(m->pinned[i][0], rel)) return m->pinned[i][1];
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

/* The base URL of a pull: the caller's, $CHORUS_MODELS_URL, [models] NAME_url, else the
 * published files (*mirror 0). */
static const char *pull_base(struct chorus_engine *e, const char *model, const char *given,
                             const struct chorus_model_desc *md, int *mirror) {
    char key[96];
    chorus_fmt(key, sizeof key, "%s_url", model);
    const char *places[] = {"models", key, NULL};
    const char *b = given && *given ? given : chorus_config_find(e ? e->cfg : NULL, "CHORUS_MODELS_URL", places);
    *mirror = b && *b;
    return *mirror ? b : md->base_url;
}

/* Fetch one group of files. A group with a source of its own comes from there, unless a mirror
 * was given: a mirror serves every file under its base as SUBDIR/NAME. */
static int fetch_set(const struct chorus_model_fileset *fs, const char *base, int mirror,
                     const char *dir, const struct manifest *m, chorus_download_fn fn, void *ud,
                     char *err, size_t errlen) {
    int rc = CHORUS_OK;
    for (size_t i = 0; rc == CHORUS_OK && fs->files[i]; i++) {
        char rel[256];
        chorus_fmt(rel, sizeof rel, "%s%s%s", fs->subdir, *fs->subdir ? "/" : "", fs->files[i]);
        int own = fs->base_url && !mirror;
        rc = fetch_as(own ? fs->base_url : base, own ? fs->files[i] : rel, dir, rel, m, fn, ud, err, errlen);
    }
    return rc;
}

/* Create dir/sub for every group and the voices. */
static int make_dirs(const char *dir, const struct chorus_model_desc *md, char *err, size_t errlen) {
    char p[4400];
    for (size_t i = 0; md->sets[i].files; i++) {
        chorus_fmt(p, sizeof p, "%s/%s", dir, md->sets[i].subdir);
        if (mkdirs(p) < 0) return chorus_fmt(err, errlen, "cannot create %s: %s", p, strerror(errno)), CHORUS_E_IO;
    }
    chorus_fmt(p, sizeof p, "%s/%s", dir, md->voice_subdir);
    if (mkdirs(p) < 0) return chorus_fmt(err, errlen, "cannot create %s: %s", p, strerror(errno)), CHORUS_E_IO;
    return CHORUS_OK;
}

int chorus_model_pull(struct chorus_engine *e, const char *model, const char *base_url,
                      const char *manifest, const char *const *voices,
                      chorus_download_fn progress, void *userdata, char *errbuf,
                      size_t errbuf_size) {
    const struct chorus_model_desc *md = model_of(model);
    char dir[4096], names[256];
    if (!md || chorus_model_dir(model, dir, sizeof dir) != CHORUS_OK) {
        chorus_fmt(errbuf, errbuf_size, "unknown model '%s'; models chorus can install: %s",
                   model ? model : "", model_names(names, sizeof names));
        return CHORUS_E_NOT_FOUND;
    }
    int mirror;
    base_url = pull_base(e, model, base_url, md, &mirror);
    if (!voices) voices = md->default_voices;
    else if (voices[0] && !strcmp(voices[0], "all")) voices = md->all_voices;
    for (size_t i = 0; voices[i]; i++)
        if (!safe_name(voices[i])) {
            chorus_fmt(errbuf, errbuf_size, "invalid voice name '%s': use names like %s", voices[i],
                       md->default_voices[0]);
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
    } else {
        m.pinned = md->sha256;
    }
    rc = chorus_net_global_init();
    if (rc != CHORUS_OK) chorus_fmt(errbuf, errbuf_size, "cannot start the HTTP client");
    if (rc == CHORUS_OK) rc = make_dirs(dir, md, errbuf, errbuf_size);
    for (size_t i = 0; rc == CHORUS_OK && md->sets[i].files && !md->sets[i].base_url; i++)
        rc = fetch_set(&md->sets[i], base_url, mirror, dir, &m, progress, userdata, errbuf, errbuf_size);
    for (size_t i = 0; rc == CHORUS_OK && voices[i]; i++) {
        char rel[160];
        chorus_fmt(rel, sizeof rel, "%s/%s%s", md->voice_subdir, voices[i], md->voice_ext);
        rc = fetch_as(base_url, rel, dir, rel, &m, progress, userdata, errbuf, errbuf_size);
    }
    for (size_t i = 0; rc == CHORUS_OK && md->sets[i].files; i++)
        if (md->sets[i].base_url)
            rc = fetch_set(&md->sets[i], base_url, mirror, dir, &m, progress, userdata, errbuf, errbuf_size);
    manifest_free(&m);
    return rc;
}

static int unlink_both(const char *path) { /* the file and its partial download */
    char part[4400];
    chorus_fmt(part, sizeof part, "%s.part", path);
    int bad = unlink(path) < 0 && errno != ENOENT;
    bad |= unlink(part) < 0 && errno != ENOENT;
    return bad ? CHORUS_E_IO : CHORUS_OK;
}

/* Remove dir's files ending in ext or ext.part, then dir if empty. */
static int remove_voices(const char *dir, const char *ext) {
    int rc = CHORUS_OK;
    size_t el = strlen(ext);
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        size_t l = strlen(nm);
        int voice = l > el && !strcmp(nm + l - el, ext);
        int part = l > el + 5 && !strcmp(nm + l - 5, ".part") && !strncmp(nm + l - 5 - el, ext, el);
        if (!voice && !part) continue;
        char f[4600];
        chorus_fmt(f, sizeof f, "%s/%s", dir, nm);
        if (unlink(f) < 0 && errno != ENOENT) rc = CHORUS_E_IO;
    }
    if (d) closedir(d);
    rmdir(dir);
    return rc;
}

int chorus_model_remove(const char *model, char *errbuf, size_t errbuf_size) {
    const struct chorus_model_desc *md = model_of(model);
    char dir[4096], names[256], path[4400];
    if (!md || chorus_model_dir(model, dir, sizeof dir) != CHORUS_OK) {
        chorus_fmt(errbuf, errbuf_size, "unknown model '%s'; models chorus can install: %s",
                   model ? model : "", model_names(names, sizeof names));
        return CHORUS_E_NOT_FOUND;
    }
    /* only what a pull writes: the groups' files, voice files and partial downloads */
    int rc = CHORUS_OK;
    for (size_t i = 0; md->sets[i].files; i++) {
        const struct chorus_model_fileset *fs = &md->sets[i];
        for (size_t k = 0; fs->files[k]; k++) {
            chorus_fmt(path, sizeof path, "%s/%s%s%s", dir, fs->subdir, *fs->subdir ? "/" : "", fs->files[k]);
            if (unlink_both(path) != CHORUS_OK) rc = CHORUS_E_IO;
        }
        chorus_fmt(path, sizeof path, "%s/%s", dir, fs->subdir);
        if (*fs->subdir) rmdir(path);
    }
    chorus_fmt(path, sizeof path, "%s/%s", dir, md->voice_subdir);
    if (remove_voices(path, md->voice_ext) != CHORUS_OK) rc = CHORUS_E_IO;
    rmdir(dir);
    if (rc != CHORUS_OK) chorus_fmt(errbuf, errbuf_size, "cannot remove every file of %s in %s", model, dir);
    return rc;
}
