/*
 * fuzz_ssml.c — SSML documents through the parser and the segment iterator (emulated and
 * native). Invariants: no crash or leak, every segment within the size limit, every map entry
 * inside the document.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    for (int native = 0; native < 2; native++) {
        struct chorus_text_config cfg = {0};
        cfg.normalize = 1;
        cfg.max_chars = 64;
        cfg.first_chars = 16;
        cfg.ssml_native = native;
        cfg.paragraph_pause = -1;
        struct chorus_textiter *it;
        char err[256];
        if (chorus_textiter_create(&it, s, size, CHORUS_INPUT_SSML, &cfg, err, sizeof err) != 0) {
            if (!err[0]) abort(); /* every failure explains itself */
            continue;
        }
        struct chorus_textseg seg;
        int rc;
        while ((rc = chorus_textiter_next(it, &seg)) == 1) {
            if (!native && seg.len > cfg.max_chars) abort();
            if (seg.text[seg.len] != '\0') abort();
            for (size_t i = 0; i <= seg.len; i++)
                if (seg.map[i] > size) abort();
            if (!chorus_utf8_valid(seg.text, seg.len, NULL)) abort();
            if (seg.rate <= 0 || seg.pitch <= 0 || seg.volume < 0 || seg.pause_before < 0) abort();
        }
        if (rc < 0) abort();
        chorus_textiter_destroy(it);
    }
    return 0;
}
