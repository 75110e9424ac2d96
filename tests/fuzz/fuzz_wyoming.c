/* fuzz_wyoming.c — Wyoming event framing (src/server/wyoming.c, compiled in: the server is not
 * part of the library): a header line, then the data block its data_length announces, merged over
 * the header's data, for every event in the input. Invariants: no crash or leak, lengths within
 * the limits, data always an object. */
#include <stdint.h>
#include <stdlib.h>

#include "server/wyoming.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        struct wy_event ev;
        char err[256];
        if (wy_parse_header(p, len, &ev, err, sizeof err) == 0) {
            if (!json_is_object(ev.data)) abort();
            if (ev.data_length > WY_MAX_DATA || ev.payload_length > WY_MAX_PAYLOAD) abort();
            const char *d = nl ? nl + 1 : end;
            size_t avail = (size_t)(end - d);
            if (ev.data_length && ev.data_length <= avail) {
                if (wy_merge_data(&ev, d, ev.data_length, err, sizeof err) == 0 &&
                    !json_is_object(ev.data))
                    abort();
                d += ev.data_length;
            }
            wy_event_clear(&ev);
            p = d;
        } else {
            if (!err[0]) abort();
            p = nl ? nl + 1 : end;
        }
    }
    return 0;
}
