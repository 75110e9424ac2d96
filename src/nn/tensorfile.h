/*
 * tensorfile.h — named float32 tensors from model files, without Python.
 *
 * Formats, detected from content:
 *  - PyTorch `torch.save` archives (.pt/.pth): a ZIP (stored, ZIP64) holding `<prefix>/data.pkl`
 *    and one member per storage, `<prefix>/data/<key>`. data.pkl is interpreted by a small pickle
 *    machine for the subset torch writes (protocol 2: dicts, OrderedDict, tuples, lists, ints,
 *    floats, strings, GLOBAL + REDUCE of `torch._utils._rebuild_tensor_v2` and
 *    `_rebuild_parameter`, persistent ids naming storages). Nested dicts are flattened with '.',
 *    so Kokoro's {"bert": {"module.x": t}} becomes "bert.module.x". A file holding one tensor
 *    (a voice pack) yields one tensor named "".
 *  - NumPy .npz archives (np.savez, stored): each `<name>.npy` member (NPY v1/v2/v3, '<f4',
 *    C order) becomes tensor `<name>`.
 *  - A bare .npy file: one tensor named "".
 * Data stays in the read-only file mapping when aligned (no copy); it is copied otherwise.
 * Only float32 storages are accepted; anything else is an error naming the tensor and dtype.
 * All errors are one lowercase line naming the file and what is wrong.
 */
#ifndef CHORUS_NN_TENSORFILE_H
#define CHORUS_NN_TENSORFILE_H

#include <stddef.h>
#include <stdint.h>

#include "nn/zip.h"

#define CHORUS_TENSOR_MAXDIM 8

struct chorus_tensor {
    char *name;
    int ndim;
    int64_t shape[CHORUS_TENSOR_MAXDIM];
    size_t numel;
    const float *data; /**< row-major (C-contiguous) */
    float *owned;      /**< non-NULL if data was copied (then data == owned) */
};

struct chorus_tensor_file {
    void *map;
    size_t map_size;
    int map_is_mmap;
    struct chorus_zip zip;
    struct chorus_tensor *t;
    size_t n, cap;
};

/** Load a file (mmap). Returns 0, or CHORUS_E_MODEL / CHORUS_E_IO / CHORUS_E_NOMEM with a
 *  message "PATH: what is wrong" in err. */
int chorus_tensor_file_load(struct chorus_tensor_file *f, const char *path, char *err,
                            size_t errlen);
/** Same from a caller's buffer (not copied; must outlive f). `label` names it in errors. */
int chorus_tensor_file_load_mem(struct chorus_tensor_file *f, const void *data, size_t size,
                                const char *label, char *err, size_t errlen);
/** Tensor by exact name, or NULL. */
const struct chorus_tensor *chorus_tensor_file_find(const struct chorus_tensor_file *f,
                                                    const char *name);
void chorus_tensor_file_release(struct chorus_tensor_file *f);

#endif
