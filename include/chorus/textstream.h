/*
 * chorus/textstream.h — speak text while it is still being written (part of libchorus).
 *
 * An LLM answer arrives token by token; a text stream speaks each sentence as soon as its end is
 * certain, instead of waiting for the whole answer:
 *
 *     struct chorus_request r = chorus_request_default();
 *     r.format = CHORUS_FORMAT_PCM;  r.callback = on_event;  r.userdata = out;
 *     struct chorus_textstream *ts;
 *     if (chorus_textstream_open(engine, &r, &ts) != CHORUS_OK) ...;
 *     while ((piece = next_token()))                   // any fragment: half a word, half a
 *         chorus_textstream_append(ts, piece, n);      //   UTF-8 sequence
 *     chorus_textstream_finish(ts);                    // speaks what is left
 *     chorus_textstream_destroy(ts);
 *
 * A sentence ends at . ! ? … (with closing quotes or brackets) once the next non-space character
 * shows it was not an abbreviation or an initial ("Dr. Smith", "e.g. this", "J. R. R."), or at a
 * blank line. While nothing has been spoken yet, a long clause (past `first_clause_bytes`, at
 * , ; : or a dash) is spoken alone too, so the first audio comes early. append() speaks the
 * complete sentences it finds before returning, on the calling thread, delivering the request's
 * events: one STARTED before the first audio, CHUNK and WORD events whose text offsets point into
 * the concatenation of everything appended and whose times run on one clock, PROGRESS, and DONE
 * (or ERROR / CANCELLED) from finish(). Nothing is spoken twice or dropped. Memory is bounded: the
 * unspoken remainder is held (at most `max_pending_bytes`, then it is spoken at the last space),
 * not the text already spoken.
 *
 * Formats: pcm, wav (one header with the streaming "unknown length" size), mp3 and aac (frames
 * concatenate); opus and flac cannot be continued across sentences and are refused (E_FORMAT).
 * Every backend works: each sentence is one request to it.
 */
#ifndef CHORUS_TEXTSTREAM_H
#define CHORUS_TEXTSTREAM_H

#include <stddef.h>

#include "chorus.h"

#ifdef __cplusplus
extern "C" {
#endif

struct chorus_textstream;

/**
 * Open a text stream. `req` is copied (its text is ignored); its callback receives the events.
 * On failure other than E_NOMEM, *out holds the message (chorus_textstream_errmsg), then destroy.
 */
CHORUS_API int chorus_textstream_open(struct chorus_engine *e, const struct chorus_request *req,
                                      struct chorus_textstream **out);
/** Add text; speaks every sentence it completes. Returns CHORUS_OK, the failure of a sentence,
 *  E_CANCELLED, or E_BAD_UTF8 (text that can never be valid, e.g. a stray continuation byte). */
CHORUS_API int chorus_textstream_append(struct chorus_textstream *ts, const char *text,
                                        size_t len);
/** No more text: speak the remainder, then deliver DONE. */
CHORUS_API int chorus_textstream_finish(struct chorus_textstream *ts);
/** Stop: safe from any thread; the current sentence stops promptly. */
CHORUS_API void chorus_textstream_cancel(struct chorus_textstream *ts);
/** The message of the last failure, "" if none. */
CHORUS_API const char *chorus_textstream_errmsg(const struct chorus_textstream *ts);
/** Output sample rate (after the first sentence, or the request's sample_rate when given). */
CHORUS_API int chorus_textstream_sample_rate(const struct chorus_textstream *ts);
/** Bytes of text appended so far, and how many of them are spoken. */
CHORUS_API void chorus_textstream_position(const struct chorus_textstream *ts, size_t *appended,
                                           size_t *spoken);
/** Destroy (cancels first if needed). NULL is a no-op. */
CHORUS_API void chorus_textstream_destroy(struct chorus_textstream *ts);

#ifdef __cplusplus
}
#endif
#endif /* CHORUS_TEXTSTREAM_H */
