/* words.h — espeak-ng's word events turned into one timestamp per written word (words.c). */
#ifndef CHORUS_ESPEAK_WORDS_H
#define CHORUS_ESPEAK_WORDS_H

#include <stddef.h>

struct chorus_sink;

struct chorus_ew_event {
    size_t a, len;     /* the event's span in the job text, in bytes */
    double t;          /* where espeak says the word starts, in seconds */
    size_t loud_before; /* samples up to (and including) the last loud one before t */
};

struct espeak_words {
    const char *text;
    size_t len;
    int by_token; /* plain text: every written word gets one entry, whatever the events say */
    int rate;
    struct chorus_ew_event *ev;
    size_t n, cap;
    size_t scanned;   /* audio samples seen */
    size_t last_loud; /* samples up to the last loud one (0 = none yet) */
};

void chorus_ew_init(struct espeak_words *w, const char *text, size_t len, int by_token, int rate);
/** Audio in order, to find where speech stops. */
void chorus_ew_audio(struct espeak_words *w, const short *x, size_t n);
/** A word event; the audio before t must have been given. <0 when out of memory. */
int chorus_ew_event(struct espeak_words *w, size_t a, size_t len, double t);
/** After the job: the words, to the sink. Returns its status. */
int chorus_ew_finish(struct espeak_words *w, struct chorus_sink *sink);
void chorus_ew_release(struct espeak_words *w);

#endif
