/*
 * streamin.h — the text-stream WebSocket endpoint of `chorus serve`, modelled on ElevenLabs'
 * stream-input (GET /v1/text-to-speech/{voice}/stream-input, docs/server.md): the client sends
 * JSON text messages {"text": "..."} as its text is written, the server answers with JSON
 * messages {"audio": base64, ...} as sentences complete, and {"isFinal": true} after the
 * message {"text": ""} that ends the text.
 *
 * Why a WebSocket and not a chunked POST body: libmicrohttpd 0.9 refuses a response queued
 * while the request body is still arriving (MHD_queue_response returns MHD_NO until the upload
 * is complete; src/microhttpd/connection.c), so audio could only start after the whole body.
 *
 * The parsers here are pure (no engine, no I/O) and fuzzed (tests/fuzz/fuzz_server_stream_input.c).
 */
#ifndef CHORUS_SERVER_STREAMIN_H
#define CHORUS_SERVER_STREAMIN_H

#include <stddef.h>

#include "chorus/chorus.h"

/** One client message. `text` is malloc'ed (free it), NUL-terminated, valid UTF-8. */
struct si_msg {
    char *text;
    size_t len;
    int eos;   /**< "text": "" — no more text */
    int flush; /**< "flush": true (accepted; a sentence is spoken when its end is certain) */
    double speed; /**< voice_settings.speed or "speed", 0 when absent */
};

/** Parse one text message. 0, or -1 with the reason in err. */
int si_parse_message(const char *buf, size_t n, struct si_msg *m, char *err, size_t cap);

/** An output_format: a chorus format name ("pcm", "mp3", "wav", "aac") or ElevenLabs' form
 *  "pcm_24000", "mp3_44100_128" (codec_rate[_bitrate]; the bitrate is the encoder's). Sets the
 *  format and the rate (0: the format's default). 0, or -1 when it is not one. */
int si_parse_format(const char *s, enum chorus_format *f, int *rate);

/** 1 if a Sec-WebSocket-Key is acceptable: 24 base64 characters encoding 16 bytes (RFC 6455
 *  section 4.2.1, item 5). */
int si_key_ok(const char *key);

#endif
