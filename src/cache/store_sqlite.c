/*
 * store_sqlite.c — the cache's store (store.h) on a directory: DIR/index.db (SQLite, WAL)
 * lists every entry with its size, times, hits and payload checksum; DIR/entries/XX/KEY.ent
 * holds the data; DIR/tmp/ holds entries being written. Look-ups are verified before they are
 * served, inserts evict least-recently-used entries down to the cap. See docs/cache.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache_internal.h"
#include "core/log.h"
#include "core/util.h"

#define BUSY_TIMEOUT_MS 15000
#define STALE_TMP_SECONDS 3600

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* the cache's folders are private to the user */
static int mkdir_p(const char *path) {
    return chorus_mkdir_p(path, 0700);
}

static int exec_sql(sqlite3 *db, const char *sql, char *err, size_t errlen) {
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        chorus_fmt(err, errlen, "%s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
    }
    return rc;
}

/* Remove temporary files that crashed writers left (older than an hour: live writers finish a
 * job long before that). */
static void sweep_tmp(const struct chorus_cache *c) {
    char path[PATH_MAX];
    chorus_fmt(path, sizeof path, "%s/tmp", c->dir);
    DIR *d = opendir(path);
    if (!d) return;
    time_t now = time(NULL);
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".tmp")) continue;
        char f[PATH_MAX];
        chorus_fmt(f, sizeof f, "%s/%s", path, de->d_name);
        struct stat st;
        if (lstat(f, &st) == 0 && S_ISREG(st.st_mode) && now - st.st_mtime > STALE_TMP_SECONDS)
            unlink(f);
    }
    closedir(d);
}

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS entries("
    " key TEXT PRIMARY KEY,"         /* hex SHA-256 */
    " size INTEGER NOT NULL,"        /* bytes of the entry file */
    " created INTEGER NOT NULL,"     /* unix ms */
    " last_used INTEGER NOT NULL,"   /* unix ms */
    " use_seq INTEGER NOT NULL,"     /* LRU order, shared by every process */
    " hits INTEGER NOT NULL DEFAULT 0,"
    " checksum TEXT NOT NULL);"      /* hex SHA-256 of the payload */
    "CREATE INDEX IF NOT EXISTS entries_lru ON entries(use_seq);";

static int open_index(struct chorus_cache *c, int create, int retry, char *err, size_t errlen);

int chorus_cache_open_locked(struct chorus_cache *c, int create, char *err, size_t errlen) {
    return open_index(c, create, 1, err, errlen);
}

static int open_index(struct chorus_cache *c, int create, int retry, char *err, size_t errlen) {
    if (c->opened > 0) return 0;
    if (c->opened < 0) {
        chorus_fmt(err, errlen, "%s", c->open_err);
        return -1;
    }
    char path[PATH_MAX];
    chorus_fmt(path, sizeof path, "%s/index.db", c->dir);
    if (!create && access(path, F_OK) < 0) {
        chorus_fmt(err, errlen, "no cache index in %s", c->dir);
        return 1; /* nothing there yet: not an error */
    }
    char sub[PATH_MAX];
    if (mkdir_p(c->dir) < 0 || mkdir_p(chorus_fmt(sub, sizeof sub, "%s/tmp", c->dir)) < 0 ||
        mkdir_p(chorus_fmt(sub, sizeof sub, "%s/entries", c->dir)) < 0) {
        chorus_fmt(c->open_err, sizeof c->open_err, "cannot create cache directory %s: %s", c->dir, strerror(errno));
        chorus_fmt(err, errlen, "%s", c->open_err);
        c->opened = -1;
        return -1;
    }
    int rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
        /* another process may be switching the journal mode at the same moment */
        for (int i = 0; i < 50; i++) {
            rc = exec_sql(c->db, "PRAGMA journal_mode=WAL", err, errlen);
            if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
            usleep(20000);
        }
        if (rc == SQLITE_OK) rc = exec_sql(c->db, "PRAGMA synchronous=NORMAL", err, errlen);
        if (rc == SQLITE_OK) rc = exec_sql(c->db, "BEGIN IMMEDIATE", err, errlen);
        if (rc == SQLITE_OK) {
            rc = exec_sql(c->db, schema, err, errlen);
            if (rc == SQLITE_OK) rc = exec_sql(c->db, "COMMIT", err, errlen);
            else exec_sql(c->db, "ROLLBACK", NULL, 0);
        }
    } else {
        chorus_fmt(err, errlen, "%s", c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
    }
    if ((rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT) && retry) {
        /* a damaged index: start a new one (the entries it listed become orphans that the next
         * write of their key or `chorus cache clear` replaces) */
        sqlite3_close(c->db);
        c->db = NULL;
        char aside[PATH_MAX + 8];
        snprintf(aside, sizeof aside, "%s-wal", path);
        unlink(aside);
        snprintf(aside, sizeof aside, "%s-shm", path);
        unlink(aside);
        unlink(path);
        chorus_cache_warn(c, "index %s was damaged; started a new one", path);
        return open_index(c, create, 0, err, errlen);
    }
    if (rc != SQLITE_OK) {
        char msg[512];
        chorus_fmt(msg, sizeof msg, "%s", err && errlen ? err : "");
        chorus_fmt(c->open_err, sizeof c->open_err, "cannot open cache index %s: %s", path, msg);
        chorus_fmt(err, errlen, "%s", c->open_err);
        sqlite3_close(c->db);
        c->db = NULL;
        c->opened = -1;
        return -1;
    }
    sweep_tmp(c);
    c->opened = 1;
    return 0;
}

char *chorus_cache_entry_path(const struct chorus_cache *c, const struct chorus_cache_key *key,
                              char *buf, size_t cap) {
    return chorus_fmt(buf, cap, "%s/entries/%.2s/%s.ent", c->dir, key->hex, key->hex);
}

static void hex32(const unsigned char *b, char out[65]) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[64] = 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s) {
    sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

/* Read a whole entry file (bounded) and the identity of what was read. */
static int read_file(const char *path, struct chorus_cache_blob *b, struct stat *st) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || (uint64_t)st->st_size > CHORUS_CACHE_MAX_ENTRY) {
        close(fd);
        errno = EFBIG;
        return -1;
    }
    size_t n = (size_t)st->st_size;
    b->p = malloc(n ? n : 1);
    if (!b->p) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, b->p + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    b->n = got; /* a file that shrank under us is simply short: the checks catch it */
    return 0;
}

/* 1 if key's row still carries checksum `sum_hex` (the one the caller judged against). */
static int row_unchanged(struct chorus_cache *c, const struct chorus_cache_key *key,
                         const char *sum_hex) {
    sqlite3_stmt *st = NULL;
    int same = 0;
    if (sqlite3_prepare_v2(c->db, "SELECT checksum FROM entries WHERE key=?", -1, &st, NULL) == SQLITE_OK) {
        bind_text(st, 1, key->hex);
        if (sqlite3_step(st) == SQLITE_ROW) {
            const unsigned char *t = sqlite3_column_text(st, 0);
            same = t && !strcmp((const char *)t, sum_hex);
        }
    }
    sqlite3_finalize(st);
    return same;
}

/* Evict one damaged entry — only if its row is still the one we judged and the file in place is
 * still the one we read: another process may have rewritten both meanwhile (its rename comes
 * before its commit, so a reader can see a new file under an old row for a moment). */
static int evict_damaged(struct chorus_cache *c, const struct chorus_cache_key *key,
                         const struct stat *seen, const char *sum_hex) {
    int evicted = 0;
    char path[PATH_MAX], err[256];
    chorus_cache_entry_path(c, key, path, sizeof path);
    pthread_mutex_lock(&c->mu);
    if (chorus_cache_open_locked(c, 1, err, sizeof err) == 0 &&
        exec_sql(c->db, "BEGIN IMMEDIATE", err, sizeof err) == SQLITE_OK) {
        struct stat now;
        int same = seen == NULL ? (stat(path, &now) < 0)
                                : (stat(path, &now) == 0 && now.st_ino == seen->st_ino &&
                                   now.st_dev == seen->st_dev);
        same = same && row_unchanged(c, key, sum_hex);
        if (same) {
            evicted = 1;
            if (seen) unlink(path);
            sqlite3_stmt *st = NULL;
            if (sqlite3_prepare_v2(c->db, "DELETE FROM entries WHERE key=?", -1, &st, NULL) == SQLITE_OK) {
                bind_text(st, 1, key->hex);
                sqlite3_step(st);
            }
            sqlite3_finalize(st);
        }
        exec_sql(c->db, "COMMIT", err, sizeof err);
    }
    pthread_mutex_unlock(&c->mu);
    return evicted;
}

static int sqlite_contains(struct chorus_cache *c, const struct chorus_cache_key *key) {
    char err[256];
    int found = 0;
    pthread_mutex_lock(&c->mu);
    if (chorus_cache_open_locked(c, 0, err, sizeof err) == 0) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(c->db, "SELECT 1 FROM entries WHERE key=?", -1, &st, NULL) == SQLITE_OK) {
            bind_text(st, 1, key->hex);
            found = sqlite3_step(st) == SQLITE_ROW;
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&c->mu);
    return found;
}

/* One look-up. *again is set when the entry changed under us (another process rewrote it
 * between our index read and our file read): the caller looks once more. */
static int get_once(struct chorus_cache *c, const struct chorus_cache_key *key,
                    struct chorus_cache_blob **out, int *again) {
    *out = NULL;
    *again = 0;
    char err[512] = "";
    int64_t size = -1;
    char sum_hex[65] = "";
    pthread_mutex_lock(&c->mu);
    int orc = chorus_cache_open_locked(c, 1, err, sizeof err);
    if (orc == 0) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(c->db, "SELECT size, checksum FROM entries WHERE key=?", -1, &st, NULL);
        if (rc == SQLITE_OK) {
            bind_text(st, 1, key->hex);
            rc = sqlite3_step(st);
            if (rc == SQLITE_ROW) {
                size = sqlite3_column_int64(st, 0);
                const unsigned char *t = sqlite3_column_text(st, 1);
                if (t) chorus_fmt(sum_hex, sizeof sum_hex, "%s", (const char *)t);
            } else if (rc != SQLITE_DONE) {
                chorus_fmt(err, sizeof err, "%s", sqlite3_errmsg(c->db));
            }
        } else {
            chorus_fmt(err, sizeof err, "%s", sqlite3_errmsg(c->db));
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&c->mu);
    if (orc < 0) chorus_cache_warn(c, "%s", err);
    atomic_fetch_add(&c->misses, 1); /* undone below on a hit */
    if (size < 0) return CHORUS_E_NOT_FOUND;

    char path[PATH_MAX];
    chorus_cache_entry_path(c, key, path, sizeof path);
    struct chorus_cache_blob *b = calloc(1, sizeof *b);
    if (!b) return CHORUS_E_NOMEM;
    struct stat st;
    if (read_file(path, b, &st) < 0) {
        int e = errno;
        chorus_cache_blob_free(b);
        if (e == ENOENT) { /* indexed but gone (removed by hand, or a race): drop the row */
            *again = !evict_damaged(c, key, NULL, sum_hex);
        } else {
            chorus_cache_warn(c, "cannot read entry %s: %s", path, strerror(e));
        }
        return CHORUS_E_NOT_FOUND;
    }
    unsigned char sum[32];
    char got_hex[65];
    int ok = chorus_cache_entry_check(b->p, b->n, key, sum, err, sizeof err) == 0;
    if (ok) {
        hex32(sum, got_hex);
        if (strcmp(got_hex, sum_hex) || (int64_t)b->n != size) {
            ok = 0;
            chorus_fmt(err, sizeof err, "entry differs from its index record");
        }
    }
    if (!ok) {
        chorus_cache_blob_free(b);
        if (evict_damaged(c, key, &st, sum_hex)) {
            CHORUS_LOGI("cache: evicted damaged entry %s: %s", path, err);
            atomic_fetch_add(&c->corrupt, 1);
        } else {
            *again = 1;
        }
        return CHORUS_E_NOT_FOUND;
    }
    atomic_fetch_sub(&c->misses, 1);
    atomic_fetch_add(&c->hits, 1);
    pthread_mutex_lock(&c->mu);
    sqlite3_stmt *up = NULL;
    if (sqlite3_prepare_v2(c->db,
                           "UPDATE entries SET hits=hits+1, last_used=?, "
                           "use_seq=(SELECT COALESCE(MAX(use_seq),0)+1 FROM entries) WHERE key=?",
                           -1, &up, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(up, 1, now_ms());
        bind_text(up, 2, key->hex);
        if (sqlite3_step(up) != SQLITE_DONE)
            chorus_cache_warn(c, "cannot record a hit in %s: %s", c->dir, sqlite3_errmsg(c->db));
    }
    sqlite3_finalize(up);
    pthread_mutex_unlock(&c->mu);
    *out = b;
    return CHORUS_OK;
}

static int sqlite_get(struct chorus_cache *c, const struct chorus_cache_key *key,
                      struct chorus_cache_blob **out) {
    int again = 0;
    int rc = get_once(c, key, out, &again);
    if (rc == CHORUS_E_NOT_FOUND && again) {
        atomic_fetch_sub(&c->misses, 1); /* the first try is not a look-up of its own */
        rc = get_once(c, key, out, &again);
    }
    return rc;
}

/* Delete least-recently-used entries (never `keep`) until the total is within the cap. Runs
 * inside the caller's write transaction. */
static int evict_locked(struct chorus_cache *c, const char *keep) {
    sqlite3_stmt *sum = NULL, *pick = NULL, *del = NULL;
    int rc = sqlite3_prepare_v2(c->db, "SELECT COALESCE(SUM(size),0) FROM entries", -1, &sum, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(c->db, "SELECT key, size FROM entries WHERE key<>? ORDER BY use_seq LIMIT 1",
                                -1, &pick, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(c->db, "DELETE FROM entries WHERE key=?", -1, &del, NULL);
    if (rc != SQLITE_OK) goto out;
    rc = sqlite3_step(sum) == SQLITE_ROW ? SQLITE_OK : SQLITE_ERROR;
    if (rc != SQLITE_OK) goto out;
    int64_t total = sqlite3_column_int64(sum, 0);
    bind_text(pick, 1, keep);
    while (total > 0 && (uint64_t)total > c->max_bytes) {
        sqlite3_reset(pick);
        if (sqlite3_step(pick) != SQLITE_ROW) break;
        struct chorus_cache_key k;
        const char *hex = (const char *)sqlite3_column_text(pick, 0);
        int64_t sz = sqlite3_column_int64(pick, 1);
        sqlite3_reset(del);
        bind_text(del, 1, hex);
        if (sqlite3_step(del) != SQLITE_DONE) {
            rc = SQLITE_ERROR;
            break;
        }
        if (hex && chorus_cache_key_from_hex(hex, &k) == 0) {
            char path[PATH_MAX];
            unlink(chorus_cache_entry_path(c, &k, path, sizeof path));
        }
        total -= sz;
    }
out:
    sqlite3_finalize(sum);
    sqlite3_finalize(pick);
    sqlite3_finalize(del);
    return rc;
}

static int sqlite_put(struct chorus_cache *c, const struct chorus_cache_key *key,
                       const char *tmp_path, uint64_t size, const unsigned char sum[32]) {
    char err[512] = "", path[PATH_MAX], sub[PATH_MAX], sum_hex[65];
    hex32(sum, sum_hex);
    chorus_cache_entry_path(c, key, path, sizeof path);
    chorus_fmt(sub, sizeof sub, "%s/entries/%.2s", c->dir, key->hex);
    pthread_mutex_lock(&c->mu);
    int rc = chorus_cache_open_locked(c, 1, err, sizeof err) == 0 ? SQLITE_OK : SQLITE_ERROR;
    if (rc == SQLITE_OK) rc = exec_sql(c->db, "BEGIN IMMEDIATE", err, sizeof err);
    if (rc != SQLITE_OK) goto fail;
    /* the rename happens under the index's write lock, so an eviction or a clear in another
     * process cannot interleave between the file appearing and its row */
    if (mkdir_p(sub) < 0 || rename(tmp_path, path) < 0) {
        chorus_fmt(err, sizeof err, "cannot move the entry into %s: %s", sub, strerror(errno));
        exec_sql(c->db, "ROLLBACK", NULL, 0);
        rc = SQLITE_ERROR;
        goto fail;
    }
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(c->db,
                            "INSERT INTO entries(key,size,created,last_used,use_seq,hits,checksum) "
                            "VALUES(?1,?2,?3,?3,(SELECT COALESCE(MAX(use_seq),0)+1 FROM entries),0,?4) "
                            "ON CONFLICT(key) DO UPDATE SET size=excluded.size, "
                            "checksum=excluded.checksum, last_used=excluded.last_used, "
                            "use_seq=excluded.use_seq",
                            -1, &st, NULL);
    if (rc == SQLITE_OK) {
        bind_text(st, 1, key->hex);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)size);
        sqlite3_bind_int64(st, 3, now_ms());
        bind_text(st, 4, sum_hex);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_OK) rc = evict_locked(c, key->hex);
    if (rc == SQLITE_OK) rc = exec_sql(c->db, "COMMIT", err, sizeof err);
    if (rc != SQLITE_OK) {
        if (!err[0]) chorus_fmt(err, sizeof err, "%s", sqlite3_errmsg(c->db));
        exec_sql(c->db, "ROLLBACK", NULL, 0);
        unlink(path);
        pthread_mutex_unlock(&c->mu);
        chorus_cache_warn(c, "cannot index entry %s: %s", key->hex, err);
        return CHORUS_E_IO;
    }
    pthread_mutex_unlock(&c->mu);
    atomic_fetch_add(&c->stores, 1);
    return CHORUS_OK;
fail:
    pthread_mutex_unlock(&c->mu);
    unlink(tmp_path);
    chorus_cache_warn(c, "%s", err[0] ? err : "cannot store an entry");
    return CHORUS_E_IO;
}

/* ------------------------------------------------------------------ stats, clear ---- */

static int sqlite_stats(struct chorus_cache *c, struct chorus_cache_stats *out, char *errbuf,
                        size_t errlen) {
    char err[512] = "";
    int rc = CHORUS_OK;
    pthread_mutex_lock(&c->mu);
    int orc = chorus_cache_open_locked(c, 0, err, sizeof err);
    if (orc == 0) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(c->db, "SELECT COUNT(*), COALESCE(SUM(size),0), COALESCE(SUM(hits),0) FROM entries",
                               -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW) {
            out->entries = (uint64_t)sqlite3_column_int64(st, 0);
            out->bytes = (uint64_t)sqlite3_column_int64(st, 1);
            out->hits_total = (uint64_t)sqlite3_column_int64(st, 2);
        } else {
            chorus_fmt(err, sizeof err, "cannot read cache index in %s: %s", c->dir, sqlite3_errmsg(c->db));
            rc = CHORUS_E_IO;
        }
        sqlite3_finalize(st);
    } else if (orc < 0) {
        rc = CHORUS_E_IO;
    }
    pthread_mutex_unlock(&c->mu);
    if (rc) chorus_fmt(errbuf, errlen, "%s", err);
    return rc;
}

/* Remove every *.ent file under entries/ (rows and orphans alike). */
static void remove_entry_files(const struct chorus_cache *c) {
    char top[PATH_MAX];
    chorus_fmt(top, sizeof top, "%s/entries", c->dir);
    DIR *d = opendir(top);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strlen(de->d_name) != 2 || de->d_name[0] == '.') continue;
        char sub[PATH_MAX];
        chorus_fmt(sub, sizeof sub, "%s/%s", top, de->d_name);
        DIR *d2 = opendir(sub);
        if (!d2) continue;
        struct dirent *e2;
        while ((e2 = readdir(d2))) {
            size_t l = strlen(e2->d_name);
            if (l < 5 || strcmp(e2->d_name + l - 4, ".ent")) continue;
            char f[PATH_MAX];
            chorus_fmt(f, sizeof f, "%s/%s", sub, e2->d_name);
            unlink(f);
        }
        closedir(d2);
        rmdir(sub);
    }
    closedir(d);
}

static int sqlite_clear(struct chorus_cache *c, uint64_t *entries, uint64_t *bytes, char *errbuf,
                        size_t errlen) {
    char err[512] = "";
    pthread_mutex_lock(&c->mu);
    int orc = chorus_cache_open_locked(c, 0, err, sizeof err);
    if (orc > 0) { /* no index: at most orphan files */
        pthread_mutex_unlock(&c->mu);
        remove_entry_files(c);
        return CHORUS_OK;
    }
    int rc = orc == 0 ? exec_sql(c->db, "BEGIN IMMEDIATE", err, sizeof err) : SQLITE_ERROR;
    if (rc == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(c->db, "SELECT COUNT(*), COALESCE(SUM(size),0) FROM entries", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW) {
            if (entries) *entries = (uint64_t)sqlite3_column_int64(st, 0);
            if (bytes) *bytes = (uint64_t)sqlite3_column_int64(st, 1);
        }
        sqlite3_finalize(st);
        rc = exec_sql(c->db, "DELETE FROM entries", err, sizeof err);
        if (rc == SQLITE_OK) remove_entry_files(c); /* under the write lock: no writer can rename now */
        if (rc == SQLITE_OK) rc = exec_sql(c->db, "COMMIT", err, sizeof err);
        else exec_sql(c->db, "ROLLBACK", NULL, 0);
    }
    pthread_mutex_unlock(&c->mu);
    if (rc != SQLITE_OK) {
        chorus_fmt(errbuf, errlen, "cannot clear the cache in %s: %s", c->dir, err);
        return CHORUS_E_IO;
    }
    return CHORUS_OK;
}

/* Evict key's entry whatever its state (file and row, in one write transaction). */
static int sqlite_evict(struct chorus_cache *c, const struct chorus_cache_key *key) {
    char path[PATH_MAX], err[256];
    chorus_cache_entry_path(c, key, path, sizeof path);
    int rc = CHORUS_E_IO;
    pthread_mutex_lock(&c->mu);
    if (chorus_cache_open_locked(c, 0, err, sizeof err) == 0 &&
        exec_sql(c->db, "BEGIN IMMEDIATE", err, sizeof err) == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(c->db, "DELETE FROM entries WHERE key=?", -1, &st, NULL) == SQLITE_OK) {
            bind_text(st, 1, key->hex);
            if (sqlite3_step(st) == SQLITE_DONE)
                rc = sqlite3_changes(c->db) > 0 ? CHORUS_OK : CHORUS_E_NOT_FOUND;
        }
        sqlite3_finalize(st);
        if (unlink(path) == 0 && rc == CHORUS_E_NOT_FOUND) rc = CHORUS_OK; /* an orphan file */
        exec_sql(c->db, "COMMIT", err, sizeof err);
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static void sqlite_close(struct chorus_cache *c) {
    if (c->db) sqlite3_close(c->db);
    c->db = NULL;
}

const struct chorus_cache_store_ops chorus_cache_store_sqlite = {
    .name = "sqlite",
    .get = sqlite_get,
    .put = sqlite_put,
    .evict = sqlite_evict,
    .contains = sqlite_contains,
    .stats = sqlite_stats,
    .clear = sqlite_clear,
    .close = sqlite_close,
};
