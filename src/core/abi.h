/* abi.h — reading and filling the public API's "sized" structs (chorus.h, ABI policy): a struct
 * whose first field is `size_t size`, the sizeof the caller was compiled with. */
#ifndef CHORUS_CORE_ABI_H
#define CHORUS_CORE_ABI_H

#include <stddef.h>

#include "chorus/chorus.h"

/* One past the last byte of a member: the size of the struct as it was when `m` was its last
 * field. The *_MIN sizes are the first published (SOVERSION 1) layouts; never change them. */
#define CHORUS_OFFSETOFEND(type, m) (offsetof(type, m) + sizeof(((type *)0)->m))
#define CHORUS_REQUEST_MIN CHORUS_OFFSETOFEND(struct chorus_request, normalize_options)
#define CHORUS_ENGINE_OPTIONS_MIN CHORUS_OFFSETOFEND(struct chorus_engine_options, max_concurrent)
#define CHORUS_ENGINE_STATS_MIN CHORUS_OFFSETOFEND(struct chorus_engine_stats, started_total)
#define CHORUS_CACHE_STATS_MIN CHORUS_OFFSETOFEND(struct chorus_cache_stats, hits_total)
#define CHORUS_ESTIMATE_MIN CHORUS_OFFSETOFEND(struct chorus_estimate, basis)

/*
 * Read the caller's struct `src` (its size in its first field) into `dst` (this library's
 * struct, `dst_size` bytes, already holding the defaults). Fields the caller's older struct lacks
 * keep their defaults; a newer, larger struct is accepted when every byte this library does not
 * know is zero (Linux's copy_struct_from_user rule). Sets dst's size to dst_size. Returns
 * CHORUS_OK or CHORUS_E_INVALID with a message naming `what` in err.
 */
int chorus_abi_read(void *dst, size_t dst_size, const void *src, size_t min_size,
                    const char *what, char *err, size_t err_size);

/*
 * Fill the caller's struct `dst` (its size in its first field, left as it is) from `src`, this
 * library's complete struct of `src_size` bytes: only the bytes both know are written. Returns
 * CHORUS_OK or CHORUS_E_INVALID (size below min_size) with a message in err.
 */
int chorus_abi_write(void *dst, const void *src, size_t src_size, size_t min_size,
                     const char *what, char *err, size_t err_size);

/* Initialise a sized struct of `size` bytes from the library's defaults `def` (`def_size`
 * bytes): zero, copy what both know, set the size field to `size`. */
void chorus_abi_init(void *dst, size_t size, const void *def, size_t def_size);

#endif
