/* fuzz_kokoro_lexicon.c — misaki's lexicon reader on arbitrary bytes; a lexicon that loads is
 * then used by the English word rules (no espeak: unknown words stay empty). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/kokoro/kokoro_en.h"
#include "backends/kokoro/kokoro_lexicon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct kokoro_lexicon *l;
    char err[512];
    if (chorus_kokoro_lexicon_parse(&l, (const char *)data, size, "fuzz", err, sizeof err) != 0)
        return 0;
    static const char *const words[] = {"The", "U.S.", "read", "records", "wound", "well-known",
                                        "NASA", "am", "to", "in", "John's", "stopped", "Hoping",
                                        "there", "by", "I", "a", "used", "to", "x-y", "FBI"};
    enum { N = sizeof words / sizeof *words };
    struct kokoro_en_tok t[N + 1];
    for (size_t i = 0; i < N; i++) t[i] = (struct kokoro_en_tok){words[i], strlen(words[i]), 1, 1, NULL, 0, KOKORO_EN_NO_STRESS};
    t[N] = (struct kokoro_en_tok){".", 1, 0, 0, strdup("."), 0, KOKORO_EN_NO_STRESS};
    struct kokoro_en_lex lex = {l, l, NULL};
    for (int gb = 0; gb < 2; gb++) {
        (void)chorus_kokoro_en_g2p(t, N + 1, gb, &lex, NULL, NULL);
        for (size_t i = 0; i < N; i++) {
            free(t[i].ps);
            t[i].ps = NULL;
        }
    }
    free(t[N].ps);
    /* every key and every tag of every value */
    for (size_t i = 0; i < l->n; i++) {
        const char *k = l->pool + l->keys[i];
        const char *raw = chorus_kokoro_lexicon_raw(l, k, strlen(k));
        size_t n;
        if (raw) (void)chorus_kokoro_lexicon_pick(raw, "VERB", &n);
    }
    chorus_kokoro_lexicon_free(l);
    return 0;
}
