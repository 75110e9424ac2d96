/* fuzz_kokoro_packfile.c — the packed-weights file reader (nn/packfile.h) on arbitrary bytes:
 * it must reject the file or return entries whose arrays lie inside the buffer. The bytes are
 * copied to a 64-byte-aligned buffer first, as a mapping would be. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn/packfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    unsigned char *buf = aligned_alloc(64, (size + 63) / 64 * 64 + 64);
    if (!buf) return 0;
    memcpy(buf, data, size);
    struct chorus_packfile pf;
    char err[256];
    if (chorus_packfile_open_mem(&pf, buf, size, NULL, err, sizeof err) == 0) {
        volatile float sink = 0;
        for (size_t i = 0; i < pf.n; i++)
            if (pf.e[i].count) sink = sink + pf.e[i].data[0] + pf.e[i].data[pf.e[i].count - 1];
        (void)sink;
        (void)chorus_packfile_find(&pf, "decoder.generator.conv_post");
        chorus_packfile_release(&pf);
    }
    free(buf);
    return 0;
}
