/*
 * cache.h — the audio cache: one entry per backend job (a text segment's engine output),
 * content-addressed by a SHA-256 key over everything that changes that output.
 *
 * What an entry holds is exactly what the backend handed to the sink for one job: PCM blocks
 * (float or 16-bit, at the engine's rate), encoded blocks (remote engines), word events
 * (segment-relative offsets and times) and marks, in order. A hit replays those calls into the
 * same sink, so the output format, rate and chunking downstream are unchanged and a cached
 * request streams chunk by chunk with the same word timestamps.
 *
 * Storage (docs/cache.md): DIR/index.db (SQLite, WAL) lists every entry with its size, creation
 * and last-use times, hit count and payload checksum; DIR/entries/XX/<key>.ent holds the data;
 * DIR/tmp/ holds entries being written. Writes go to a temporary file that is renamed into place
 * inside the index's write transaction, so several processes can share one directory without
 * lost or torn entries. An entry whose file fails its checks is evicted and never served.
 *
 * Threading: a struct chorus_cache may be used by any number of threads (one mutex guards the
 * SQLite connection; entry files are read and written outside it). A writer or a segment handle
 * belongs to one thread.
 *
 * Failures of the cache never fail a generation: they are logged (warn) and the cache steps
 * aside for that job.
 */
#ifndef CHORUS_CACHE_CACHE_H
#define CHORUS_CACHE_CACHE_H

#include <nettle/sha2.h>
#include <stddef.h>
#include <stdint.h>

#include "chorus/chorus.h"

struct chorus_backend;
struct chorus_config;
struct chorus_job;
struct chorus_sink;

/* ---- keys ---- */

#define CHORUS_CACHE_KEY_SIZE 32

struct chorus_cache_key {
    unsigned char b[CHORUS_CACHE_KEY_SIZE];
    char hex[2 * CHORUS_CACHE_KEY_SIZE + 1];
};

/** Incremental key builder: each field is hashed with its name and length, so no two different
 *  field lists can collide by concatenation, and NULL differs from "". */
struct chorus_cache_keyb {
    struct sha256_ctx sha;
};
void chorus_cache_key_init(struct chorus_cache_keyb *kb);
void chorus_cache_key_add(struct chorus_cache_keyb *kb, const char *field, const void *value,
                          size_t len);
void chorus_cache_key_add_str(struct chorus_cache_keyb *kb, const char *field, const char *value);
void chorus_cache_key_finish(struct chorus_cache_keyb *kb, struct chorus_cache_key *out);
/** The key of one job: backend and instance, its config section (minus secrets and knobs that do
 *  not change audio), model, resolved voice, language, input kind, speed, pitch, volume, options
 *  sorted by key, for remote engines the wanted rate and, when their bytes may pass through
 *  untouched, the wanted format (what they ask the provider for depends on those),
 *  the library and entry-format versions, and the job's exact text. */
int chorus_cache_key_for_job(const struct chorus_backend *b, const struct chorus_job *job,
                             struct chorus_cache_key *out);
/** Hex (64 lowercase digits) to a key; 0 on success, -1 if malformed. */
int chorus_cache_key_from_hex(const char *hex, struct chorus_cache_key *out);

/* ---- entry files (entry.c) ---- */

#define CHORUS_CACHE_HEADER_SIZE 96
/** Largest entry file accepted (a segment is bounded by the backend's input limit). */
#define CHORUS_CACHE_MAX_ENTRY ((uint64_t)512 << 20)

/** What a replay calls for each record of an entry; return non-zero to stop the walk. */
struct chorus_cache_visitor {
    int (*pcm_f32)(void *ud, const float *x, size_t n, int rate);
    int (*pcm_s16)(void *ud, const int16_t *x, size_t n, int rate);
    int (*encoded)(void *ud, enum chorus_format fmt, const void *data, size_t n);
    int (*word)(void *ud, size_t off, size_t len, double start, double end);
    int (*mark)(void *ud, const char *name, double time);
};

/**
 * Check an entry file held in memory: header, version, its key against `key` (NULL: any),
 * payload length, SHA-256 of the payload, and every record's structure (types, lengths, one
 * sample rate, finite times). Returns 0 if it may be served, else -1 with the reason in err.
 * If `sum` is non-NULL it receives the payload checksum from the header.
 */
int chorus_cache_entry_check(const unsigned char *p, size_t n, const struct chorus_cache_key *key,
                             unsigned char sum[32], char *err, size_t errlen);
/** Replay a checked entry's records in order through the visitor (NULL members skip their
 *  records). Returns 0, or the first non-zero a visitor returned. */
int chorus_cache_entry_walk(const unsigned char *p, size_t n, const struct chorus_cache_visitor *v,
                            void *ud);

/* ---- the cache (cache.c) ---- */

struct chorus_cache;

/**
 * Build the engine's cache settings from the config and the environment (docs/cache.md):
 * CHORUS_CACHE (0/1) over [cache] enabled (default on); CHORUS_CACHE_DIR over [cache] dir over
 * $XDG_CACHE_HOME/chorus over ~/.cache/chorus; [cache] max_bytes (default 1 GiB; suffixes K M G
 * T, 0 disables). `no_config` engines (tests, sandboxes) get no cache at all: *out = NULL.
 * Nothing is touched on disk until the first use. Returns CHORUS_E_CONFIG with a message on a
 * malformed value.
 */
int chorus_cache_from_config(const struct chorus_config *cfg, int no_config,
                             struct chorus_cache **out, char *err, size_t errlen);
/** A cache on `dir` (created on first use) with a size cap; `enabled` says whether streams use
 *  it (stats and clear work either way). */
struct chorus_cache *chorus_cache_create(const char *dir, uint64_t max_bytes, int enabled);
void chorus_cache_destroy(struct chorus_cache *c);
int chorus_cache_enabled(const struct chorus_cache *c);
const char *chorus_cache_dir(const struct chorus_cache *c);
/** Parse a size ("1073741824", "512M", "1GiB"); 0 on success, -1 if malformed. */
int chorus_cache_parse_size(const char *s, uint64_t *out);

/** An entry's bytes, read and verified. */
struct chorus_cache_blob {
    unsigned char *p;
    size_t n;
};
/**
 * Look up `key`: CHORUS_OK with *out (free with chorus_cache_blob_free) on a verified hit, which
 * is counted and marks the entry used; CHORUS_E_NOT_FOUND on a miss. An entry that fails its
 * checks (truncated, corrupt, checksum differing from the index) is evicted and is a miss.
 */
int chorus_cache_get(struct chorus_cache *c, const struct chorus_cache_key *key,
                     struct chorus_cache_blob **out);
void chorus_cache_blob_free(struct chorus_cache_blob *b);
/** Remove key's entry: CHORUS_OK, or CHORUS_E_NOT_FOUND if there was none. */
int chorus_cache_evict(struct chorus_cache *c, const struct chorus_cache_key *key);
/** 1 if the index lists `key` (no checks, no counting) — for tests and tools. */
int chorus_cache_contains(struct chorus_cache *c, const struct chorus_cache_key *key);
/** The path of key's entry file into buf. */
char *chorus_cache_entry_path(const struct chorus_cache *c, const struct chorus_cache_key *key,
                              char *buf, size_t cap);

/** Writes one entry: records go to a temporary file as they come; commit renames it into place
 *  and indexes it (evicting least-recently-used entries down to the cap); abort removes it. */
struct chorus_cache_writer;
int chorus_cache_writer_begin(struct chorus_cache *c, const struct chorus_cache_key *key,
                              struct chorus_cache_writer **out);
int chorus_cache_writer_pcm_f32(struct chorus_cache_writer *w, const float *x, size_t n, int rate);
int chorus_cache_writer_pcm_s16(struct chorus_cache_writer *w, const int16_t *x, size_t n,
                                int rate);
int chorus_cache_writer_encoded(struct chorus_cache_writer *w, enum chorus_format fmt,
                                const void *data, size_t n);
int chorus_cache_writer_word(struct chorus_cache_writer *w, size_t off, size_t len, double start,
                             double end);
int chorus_cache_writer_mark(struct chorus_cache_writer *w, const char *name, double time);
/** Finish, rename into place, index, evict to the cap. Frees w. CHORUS_OK or an error (the
 *  entry is then not stored and nothing is left behind). */
int chorus_cache_writer_commit(struct chorus_cache_writer *w);
/** Drop the entry being written (temporary file removed). Frees w; NULL is a no-op. */
void chorus_cache_writer_abort(struct chorus_cache_writer *w);

/** Snapshot for chorus_engine_cache_stats (reads the shared index; zeros if it does not exist). */
int chorus_cache_get_stats(struct chorus_cache *c, struct chorus_cache_stats *out, char *err,
                           size_t errlen);
/** Remove every entry (index rows and files, including orphans left by a crash). */
int chorus_cache_clear(struct chorus_cache *c, uint64_t *entries, uint64_t *bytes, char *err,
                       size_t errlen);

/* ---- the job filter (filter.c): how streams use the cache ---- */

/** The cache as a job filter (listed in src/filters.def); its engine state is the engine's
 *  struct chorus_cache (chorus_engine_filter_state(e, &chorus_cache_filter)). */
struct chorus_job_filter_desc;
extern const struct chorus_job_filter_desc chorus_cache_filter;
/**
 * Run one job through cache `c`: off (NULL or disabled cache, CHORUS_FLAG_NO_CACHE in flags):
 * produce(ctx, sink). A verified hit: the entry replayed into sink, as the backend would have
 * made those calls. A miss: produce(ctx, tee) where the tee records every call and passes it on
 * to sink; the entry is committed if produce returned CHORUS_OK, else dropped. A cache failure
 * never fails the job (the cache steps aside). Returns produce's or the replay's status.
 */
int chorus_cache_run_job(struct chorus_cache *c, const struct chorus_backend *b,
                         const struct chorus_job *job, unsigned flags, struct chorus_sink *sink,
                         int (*produce)(void *ctx, struct chorus_sink *out), void *ctx);
/** Replay a verified entry into a sink. Returns what the sink returned. */
int chorus_cache_replay(const struct chorus_cache_blob *hit, struct chorus_sink *sink);

#endif
