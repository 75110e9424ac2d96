/* fuzz_provider_json_wav.c — the WAV stream reader that turns servers' wav answers (OpenAI-
 * compatible servers, AllTalk, Chatterbox) into PCM, fed in arbitrary pieces: integer and float
 * encodings, WAVE_FORMAT_EXTENSIBLE, many channels, streaming sizes (seeds in the corpus). Also
 * the format sniffer that picks the decoder from the first bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chorus/chorus.h"
#include "audio/audio.h"
#include "net/net.h"

static int on_pcm(void *ud, const short *x, size_t n, int rate) {
    size_t *total = ud;
    if (rate < 1000 || rate > 1000000) abort(); /* the decoders' limits (audio/decoder.c) */
    long acc = 0;
    for (size_t i = 0; i < n; i++) acc += x[i];
    (void)acc;
    *total += n;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct chorus_wavreader *w = malloc(sizeof *w);
    if (!w) return 0;
    size_t total = 0;
    chorus_wavreader_init(w, on_pcm, &total);
    size_t step = size ? 1 + data[size - 1] % 97 : 1;
    for (size_t i = 0; i < size; i += step) {
        size_t n = size - i < step ? size - i : step;
        if (chorus_wavreader_feed(w, data + i, n)) break;
    }
    chorus_wavreader_finish(w);
    if (total > size) abort(); /* never more samples than bytes */
    chorus_wavreader_release(w);
    free(w);
    enum chorus_format f = chorus_format_sniff(data, size < CHORUS_SNIFF_BYTES ? size : CHORUS_SNIFF_BYTES);
    if (f == CHORUS_FORMAT_WAV && (size < 12 || memcmp(data, "RIFF", 4) != 0)) abort();
    return 0;
}
