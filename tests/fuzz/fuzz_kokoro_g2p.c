/* fuzz_kokoro_g2p.c — Kokoro's English G2P on arbitrary text: the tokenizer, misaki's inline
 * [word](/phonemes/) markup, acronyms, compounds and the word rules, then the chunk cuts; with a
 * small lexicon and a stand-in for espeak-ng (whose own allocations are not ours to fuzz:
 * libespeak-ng 1.51 keeps some memory across calls that LeakSanitizer reports after many
 * different inputs). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/kokoro/kokoro_en.h"
#include "backends/kokoro/kokoro_g2p.h"
#include "backends/kokoro/kokoro_lexicon.h"

static const char lexicon[] =
    "{\"the\": \"ði\", \"a\": \"ɐ\", \"to\": \"tu\", \"A\": \"ˈA\", \"B\": \"bˈi\", \"S\": \"ˈɛs\","
    " \"U\": \"jˈu\", \"read\": {\"DEFAULT\": \"ɹˈid\", \"VBD\": \"ɹˈɛd\"}, \"well\": \"wˈɛl\","
    " \"known\": \"nˈOn\", \"there\": {\"DEFAULT\": \"ðɛɹ\", \"None\": \"ðˈɛɹ\"}, \"cat\": \"kˈæt\"}";

/* unknown words: a fixed pronunciation, or none for words starting with z */
static char *fallback(void *ud, const char *word) {
    (void)ud;
    return word[0] == 'z' ? NULL : strdup("wˈɜɹd");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static struct kokoro_lexicon *l;
    char err[256];
    if (!l && chorus_kokoro_lexicon_parse(&l, lexicon, strlen(lexicon), "fuzz", err, sizeof err)) abort();
    if (size > 2000) return 0; /* jobs are cut at 1,000 characters before the G2P */
    struct kokoro_en_lex lex = {l, l, NULL};
    for (int gb = 0; gb < 2; gb++) {
        struct kokoro_tokens t;
        if (chorus_kokoro_g2p_english((const char *)data, size, gb, NULL, &lex, fallback, NULL, &t))
            continue;
        for (size_t i = 0; i < t.n; i++)
            if (t.t[i].text_off + t.t[i].text_len > size || t.t[i].ph_off + t.t[i].ph_len > t.ncp) abort();
        free(chorus_kokoro_tokens_ps_utf8(&t, 0, t.n));
        /* the backend's chunks: they tile the tokens and fit max (a lone longer token aside) */
        size_t target = 16 + (size ? data[0] : 0), max = 40 + (size > 1 ? data[1] : 0);
        for (size_t a = 0; a < t.n;) {
            size_t b = chorus_kokoro_chunk_end_target(&t, a, target, max);
            if (b <= a || b > t.n || (b > a + 1 && chorus_kokoro_tokens_ps_len(&t, a, b) > max))
                abort();
            a = b;
        }
        chorus_kokoro_tokens_release(&t);
    }
    return 0;
}
