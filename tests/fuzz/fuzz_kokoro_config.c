/* fuzz_kokoro_config.c — Kokoro's config.json reader (dimensions and vocab) on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>

#include "backends/kokoro/kokoro_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct kokoro_config c;
    char err[512];
    if (chorus_kokoro_config_parse(&c, (const char *)data, size, "fuzz", err, sizeof err) == 0)
        (void)chorus_kokoro_vocab_id(&c, 0x259);
    return 0;
}
