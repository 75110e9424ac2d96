/*
 * fuzz_decode.c — the streaming decoders on arbitrary bytes. The first byte picks the format
 * (wav, pcm, mp3, opus, flac, aac), the second the size of the pieces the rest is fed in (so
 * split headers and frames are exercised). Any result is fine but a crash, a leak or a hang.
 */
#include <stddef.h>
#include <stdint.h>

#include "audio/audio.h"

static int sink(void *ud, const float *x, size_t n, int rate) {
    /* touch the samples so bad pointers or lengths show up under ASan */
    volatile float acc = 0.0f;
    for (size_t i = 0; i < n; i++) acc += x[i];
    (void)acc;
    return (rate < 1000 || rate > 1000000) ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    static const enum chorus_format fs[] = {CHORUS_FORMAT_WAV, CHORUS_FORMAT_PCM, CHORUS_FORMAT_MP3,
                                            CHORUS_FORMAT_OPUS, CHORUS_FORMAT_FLAC, CHORUS_FORMAT_AAC};
    enum chorus_format f = fs[data[0] % 6];
    size_t piece = (size_t)data[1] * 37 + 1;
    data += 2;
    size -= 2;
    struct chorus_decoder *d;
    char err[256];
    if (chorus_decoder_create(&d, f, 24000, sink, NULL, err, sizeof err) != CHORUS_OK) return 0;
    int rc = CHORUS_OK;
    for (size_t i = 0; i < size && rc == CHORUS_OK; i += piece)
        rc = chorus_decoder_feed(d, data + i, size - i < piece ? size - i : piece);
    if (rc == CHORUS_OK) chorus_decoder_finish(d);
    (void)chorus_decoder_errmsg(d);
    chorus_decoder_destroy(d);
    return 0;
}
