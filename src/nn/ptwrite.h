/*
 * ptwrite.h — write one float32 tensor as a PyTorch torch.save() archive, in memory.
 *
 * The format torch.load() reads (PyTorch's "zip" serialization, version 3): a stored (not
 * compressed) ZIP holding ARCHIVE/data.pkl (a protocol-2 pickle that rebuilds the tensor with
 * torch._utils._rebuild_tensor_v2 from persistent storage "0"), ARCHIVE/byteorder ("little"),
 * ARCHIVE/data/0 (the raw little-endian floats, aligned to 64 bytes in the file as torch aligns
 * them) and ARCHIVE/version ("3"). Kokoro voice packs ship in this form ([510, 1, 256]), and
 * Kokoro-FastAPI's /v1/audio/voices/combine answers with one; chorus_tensor_file reads it back.
 */
#ifndef CHORUS_NN_PTWRITE_H
#define CHORUS_NN_PTWRITE_H

#include <stddef.h>
#include <stdint.h>

/** Serialize data (contiguous, row-major, shape[0..ndim), 1 <= ndim <= 4) under the archive
 *  folder name `archive` ([A-Za-z0-9_.+-], 1-64 bytes). *out is malloc'd, *len its size.
 *  Returns 0, or -1 on a bad argument or out of memory. */
int chorus_pt_write_f32(const char *archive, const float *data, const int64_t *shape, int ndim,
                        unsigned char **out, size_t *len);

#endif
