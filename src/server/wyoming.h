/* wyoming.h — Home Assistant's Wyoming protocol (TTS side) over TCP, on the public API.
 *
 * Framing (OHF-Voice/wyoming, wyoming/event.py): one JSON header line (`type`, optional `data`,
 * `data_length`, `payload_length`, `version`), then data_length bytes of a JSON object merged over
 * the header's data, then payload_length bytes of payload. Events served: describe → info (built
 * once at start, answered from memory), ping → pong, synthesize → audio-start, audio-chunk…,
 * audio-stop (s16le mono), synthesize-start / -chunk / -stop → audio as sentences complete, then
 * synthesize-stopped (a synthesize inside an open stream is ignored), errors as error {text, code};
 * unknown events are ignored. See docs/server.md, "Wyoming". */
#ifndef CHORUS_SERVER_WYOMING_H
#define CHORUS_SERVER_WYOMING_H

#include <stddef.h>

#include <jansson.h>

#include "chorus/chorus.h"

#define WY_MAX_LINE 65536          /* header line */
#define WY_MAX_DATA (1u << 20)     /* data block */
#define WY_MAX_PAYLOAD (16u << 20) /* payload (read and dropped: a TTS server takes none) */
#define WY_MAX_TEXT 100000         /* bytes of text in one synthesize, or one stream */

struct wy_options {
    const char *host;        /* default 127.0.0.1 */
    int port;                /* default 10200; 0 = any free */
    const char *backend;     /* default backend for voices without "backend:" */
    int sample_rate;         /* default 22050 */
    int max_connections;     /* default 32 */
    int idle_timeout_ms;     /* a peer silent this long is closed (default 120000) */
};

/* A parsed event header (wy_parse_header) with its data merged in (wy_merge_data). */
struct wy_event {
    char type[64];
    json_t *data; /* an object, never NULL after a successful parse */
    size_t data_length, payload_length;
};

/* Parse one header line (without its '\n'). Returns 0, or -1 with a message in err. */
int wy_parse_header(const char *line, size_t len, struct wy_event *ev, char *err, size_t cap);
/* Merge a data block over the header's data. Returns 0, or -1 with a message. */
int wy_merge_data(struct wy_event *ev, const char *buf, size_t len, char *err, size_t cap);
void wy_event_clear(struct wy_event *ev);

struct wy_server;
int wy_start(struct chorus_engine *e, const struct wy_options *o, struct wy_server **out,
             char *err, size_t cap);
int wy_port(const struct wy_server *s);
/* Stop listening, cancel every connection's synthesis, close and join. NULL is a no-op. */
void wy_stop(struct wy_server *s);

#endif
