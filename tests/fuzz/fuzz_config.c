/* fuzz_config.c — the config (TOML subset) parser on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[256];
    struct chorus_config *c = chorus_config_parse((const char *)data, size, "fuzz", err, sizeof err);
    if (c) {
        const char *k, *v;
        for (size_t i = 0; chorus_config_entry(c, "", i, &k, &v); i++) (void)k;
        (void)chorus_config_get(c, "openai", "api_key");
        (void)chorus_config_double(c, "chorus", "max_concurrent", 4);
    }
    chorus_config_free(c);
    return 0;
}
