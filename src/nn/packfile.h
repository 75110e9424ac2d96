/*
 * packfile.h — a ready-to-map file of packed weights, written once beside a checkpoint.
 *
 * Loading a checkpoint repacks every convolution's weights (and folds weight norm); on an
 * 82M-parameter model that is seconds of CPU on every start. A packfile keeps the result: a
 * header, a table of named float arrays (each with up to three dimensions) and the arrays
 * themselves, 64-byte aligned, in native byte order. A start maps it and points the model at
 * the arrays instead of recomputing them.
 *
 * It is tied to its source: the header holds the source's size, modification time and a hash
 * of its first and last MiB (where a torch.save archive keeps its pickle and its directory).
 * A packfile whose source differs, whose format version differs, or which is truncated or
 * malformed is rejected (the caller rebuilds it). A packfile is written to a temporary name
 * and renamed into place, so readers never see half a file and concurrent writers do not mix.
 *
 * Layout (little-endian on the machines we run on; written and read natively):
 *   header  (64 bytes): "CHORUSPK", u32 version, u32 entry count, u64 source size,
 *           u64 source mtime (ns), u64 source hash, u64 file size, u64 reserved
 *   entries (128 bytes each): char name[96] (NUL-terminated), i32 dims[3], u32 reserved,
 *           u64 offset (from the file start, multiple of 64), u64 count (floats)
 *   data    (each array at its offset)
 */
#ifndef CHORUS_NN_PACKFILE_H
#define CHORUS_NN_PACKFILE_H

#include <stddef.h>
#include <stdint.h>

#define CHORUS_PACK_NAME_MAX 96

/** What a packfile was made from. */
struct chorus_pack_source {
    uint64_t size, mtime_ns, hash;
};

/** Fingerprint of a source file: its size and mtime from fstat-like data, and a hash of its
 *  mapped bytes' first and last MiB. */
void chorus_pack_source_id(struct chorus_pack_source *s, uint64_t size, uint64_t mtime_ns,
                           const void *data);

struct chorus_pack_entry {
    char name[CHORUS_PACK_NAME_MAX];
    int32_t dims[3];
    const float *data;
    uint64_t count;
};

struct chorus_packfile {
    void *map;
    size_t map_size;
    struct chorus_pack_entry *e;
    size_t n;
};

/** Check a packfile held in memory against `want` (NULL: any source). 0, or -1 with a
 *  lowercase reason in err ("packfile: ..."). The buffer must outlive pf and be 64-byte
 *  aligned (a mapping is). */
int chorus_packfile_open_mem(struct chorus_packfile *pf, const void *data, size_t size,
                             const struct chorus_pack_source *want, char *err, size_t errlen);
/** Map and check a packfile. 0, or -1 with err (a missing file says so). */
int chorus_packfile_open(struct chorus_packfile *pf, const char *path,
                         const struct chorus_pack_source *want, char *err, size_t errlen);
/** The entry with this name, or NULL. */
const struct chorus_pack_entry *chorus_packfile_find(const struct chorus_packfile *pf,
                                                     const char *name);
void chorus_packfile_release(struct chorus_packfile *pf);

/** Collects arrays (by pointer: they must live until chorus_pack_writer_write) to write. */
struct chorus_pack_writer {
    struct chorus_pack_entry *e;
    size_t n, cap;
    int failed;
};
/** Adds one array (a name longer than the limit, or no memory, makes the write fail). */
void chorus_pack_writer_add(struct chorus_pack_writer *w, const char *name, const int dims[3],
                            const float *data, uint64_t count);
/** Writes path (via a temporary file in the same directory, then rename). 0, or -1 with err. */
int chorus_pack_writer_write(struct chorus_pack_writer *w, const char *path,
                             const struct chorus_pack_source *src, char *err, size_t errlen);
void chorus_pack_writer_release(struct chorus_pack_writer *w);

#endif
