/* fuzz_kokoro_loader.c — the model/voice file loader (torch zip + pickle, npz, npy) on
 * arbitrary bytes: it must return an error or tensors whose data lies inside the buffer. */
#include <stdint.h>
#include <stdlib.h>

#include "nn/tensorfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct chorus_tensor_file f;
    char err[512];
    if (chorus_tensor_file_load_mem(&f, data, size, "fuzz", err, sizeof err) == 0) {
        /* touch the first and last element of every tensor: ASan checks they are in bounds */
        volatile float sink = 0;
        for (size_t i = 0; i < f.n; i++)
            if (f.t[i].numel) sink = sink + f.t[i].data[0] + f.t[i].data[f.t[i].numel - 1];
        (void)sink;
        (void)chorus_tensor_file_find(&f, "bert.module.x");
        chorus_tensor_file_release(&f);
    }
    return 0;
}
