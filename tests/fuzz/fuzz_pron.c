/* fuzz_pron.c — the pronunciation dictionary parser (text/pron.h) on arbitrary bytes; a
 * dictionary that parses is applied, in every notation, to the input itself (as text, with a
 * map and a <phoneme> span), and the rewritten map must stay inside the text's span. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text/pron.h"
#include "text/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct chorus_pron d;
    chorus_pron_init(&d);
    char err[256];
    const char *s = (const char *)data;
    if (chorus_pron_parse(&d, s, size, "fuzz", err, sizeof err) != 0 || size > 4096 ||
        !chorus_utf8_valid(s, size, NULL)) {
        chorus_pron_free(&d);
        return 0;
    }
    size_t *map = malloc((size + 1) * sizeof *map);
    if (!map) abort();
    for (size_t i = 0; i <= size; i++) map[i] = i;
    struct chorus_pron_span sp = {size / 3, size / 2, "t@m", CHORUS_PRON_ESPEAK};
    const struct chorus_pron *ds[2] = {&d, &d};
    for (int nt = CHORUS_NOTATION_NONE; nt <= CHORUS_NOTATION_MISAKI; nt++) {
        struct chorus_textbuf b;
        chorus_textbuf_init(&b);
        int k = chorus_pron_rewrite(&b, s, size, map, ds, 2, &sp, 1, (enum chorus_pron_notation)nt);
        if (k < 0) abort();
        for (size_t i = 0; b.map && i <= b.len; i++)
            if (b.map[i] > size) abort();
        chorus_textbuf_free(&b);
    }
    free(map);
    chorus_pron_free(&d);
    return 0;
}
