/* fuzz_server_stream_input.c — the client messages of the text-stream WebSocket
 * (src/server/streamin_msg.c, compiled in: the server is not part of the library): the first
 * byte picks the parser (a message, an output_format, a Sec-WebSocket-Key), the rest is its
 * input. Invariants: no crash or leak; a parsed message has NUL-terminated text of its length,
 * eos exactly when it is empty; a parsed format is one chorus knows, with a rate in range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/streamin_msg.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!size) return 0;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    char err[300];
    if (data[0] % 3 == 0) {
        struct si_msg m;
        if (si_parse_message(p, n, &m, err, sizeof err) == 0) {
            if (!m.text || m.text[m.len] != 0 || m.eos != (m.len == 0)) abort();
            free(m.text);
        } else if (!err[0]) {
            abort();
        }
        return 0;
    }
    char *s = malloc(n + 1);
    if (!s) return 0;
    memcpy(s, p, n);
    s[n] = 0;
    if (data[0] % 3 == 1) {
        enum chorus_format f;
        int rate;
        if (si_parse_format(s, &f, &rate) == 0 &&
            (f <= CHORUS_FORMAT_DEFAULT || f >= CHORUS_FORMAT_COUNT_ || (rate && (rate < 8000 || rate > 192000))))
            abort();
    } else if (si_key_ok(s) && strlen(s) != 24) {
        abort();
    }
    free(s);
    return 0;
}
