/*
 * zip.h — a read-only view of a ZIP archive held in memory (usually an mmap).
 *
 * Enough of the format for the model containers we load: PyTorch's torch.save archives and
 * NumPy's .npz files. Both store their members uncompressed (method 0, "stored"), and both may
 * use ZIP64 (end-of-central-directory record and per-entry extra fields). Compressed members
 * are reported as an error when a caller asks for them. Every offset and size is bounds-checked
 * against the buffer, so a truncated or hostile file yields an error, never an out-of-range read.
 */
#ifndef CHORUS_NN_ZIP_H
#define CHORUS_NN_ZIP_H

#include <stddef.h>
#include <stdint.h>

struct chorus_zip_entry {
    char *name;         /**< NUL-terminated copy of the member name */
    uint64_t offset;    /**< offset of the member's data in the buffer */
    uint64_t size;      /**< uncompressed size (== stored size) */
    unsigned method;    /**< 0 = stored; anything else can be listed but not read */
};

struct chorus_zip {
    const unsigned char *base;
    size_t size;
    struct chorus_zip_entry *entries;
    size_t n;
};

/** Parse the central directory of the archive in [data, data+size). The buffer must outlive
 *  the zip. Returns 0, or -1 with a lowercase message in err ("zip: ...", no file name). */
int chorus_zip_open(struct chorus_zip *z, const void *data, size_t size, char *err,
                    size_t errlen);
/** The entry with this exact name, or NULL. */
const struct chorus_zip_entry *chorus_zip_find(const struct chorus_zip *z, const char *name);
/** Pointer to a stored entry's bytes, or NULL (with err) if the entry is compressed. */
const unsigned char *chorus_zip_data(const struct chorus_zip *z, const struct chorus_zip_entry *e,
                                     char *err, size_t errlen);
void chorus_zip_release(struct chorus_zip *z);

#endif
