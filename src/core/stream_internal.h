/* stream_internal.h — struct chorus_stream, shared by stream.c, pull.c and file.c. */
#ifndef CHORUS_CORE_STREAM_INTERNAL_H
#define CHORUS_CORE_STREAM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "chorus/chorus.h"
#include "core/backend.h"
#include "core/util.h"
#include "text/pron.h"
#include "text/text.h"

#define QUEUE_MAX_ALLOC 16

struct chorus_output;
struct chorus_limiter;

struct seg_word {
    size_t a, b;        /* span in the request's text */
    double start, end;  /* seconds into the segment's engine audio */
};

struct chorus_stream {
    struct chorus_engine *engine;
    struct chorus_backend *backend;
    /* the request, copied */
    char *text;
    size_t text_len;
    enum chorus_input_kind input;
    char *voice, *model, *language, *normalize_options;
    float speed;
    enum chorus_format format;
    int req_rate, out_rate;
    unsigned flags;
    struct chorus_kv *options;
    size_t n_options;
    chorus_callback callback;
    void *userdata;
    float volume;
    struct chorus_pron pron_req;   /* the request's pronunciations (n 0: none) */
    struct chorus_textbuf pron_buf; /* the current segment as the engine speaks it */
    /* state */
    int opened, ran;
    atomic_int cancel;
    int status;
    char err[1024];
    struct chorus_textiter *iter;
    struct chorus_output *out;
    const struct chorus_textseg *cur_seg;
    int engine_rate;
    float speed_time_div;
    double t_start;
    size_t chars_done, word_done;
    double last_word_start;
    int passthrough_used;
    /* the chunk being built */
    unsigned chunk_index;
    uint64_t samples_out;
    float *pend;
    size_t pend_n, pend_cap;
    struct chorus_buf pend_bytes;
    struct chorus_word *pend_words;
    size_t pend_nwords, pend_wcap;
    /* the current segment's words, in engine time, until the output has placed them (and the
     * next word or the segment's end has bounded them) */
    struct seg_word *segw;
    size_t segw_n, segw_cap;
    int last_join; /* what the last segment's text ends with: a sentence, a clause, a word */
    /* pull mode */
    pthread_t worker;
    int worker_started, worker_done, worker_rc;
    pthread_mutex_t qmu;
    pthread_cond_t qcv;
    struct chorus_chunk *queue[QUEUE_MAX_ALLOC];
    size_t qhead, qn;
};

/* Stream flags only the library sets (the public ones are enum chorus_request_flags). */
#define CHORUS_SFLAG_FILE_OUTPUT (1u << 31) /* output goes to a seekable file (file.c) */
#define CHORUS_SFLAG_NO_PROBE (1u << 30)    /* phonemize: the G2P needs no model files */
#define CHORUS_FLAG_PUBLIC_MASK                                                                   \
    (CHORUS_FLAG_NO_CACHE | CHORUS_FLAG_NO_SAMPLES | CHORUS_FLAG_NO_NORMALIZE |                   \
     CHORUS_FLAG_SEEKABLE_OUTPUT)

/* chorus_stream_open() with internal stream flags (CHORUS_SFLAG_*) added to the request's. */
int chorus_stream_open_internal(struct chorus_engine *e, const struct chorus_request *req,
                                unsigned sflags, struct chorus_stream **out);

int chorus_stream_emit_raw_chunk(struct chorus_stream *s);

/* A segment copied out of the iterator (which owns its storage only until the next call). */
struct seg_copy {
    struct chorus_textseg seg;
    char *text;
    size_t *map;
    char *voice;
    char **marks;
};
int chorus_seg_copy_take(struct seg_copy *c, const struct chorus_textseg *src);
/** *out = seg with the pronunciations (the request's, the engine's, SSML <phoneme> spans)
 *  applied in the backend's notation; its text and map may live in buf. 0 or CHORUS_E_NOMEM. */
int chorus_stream_pronounce(struct chorus_stream *s, const struct chorus_textseg *seg,
                            struct chorus_textbuf *buf, struct chorus_textseg *out);
void chorus_seg_copy_release(struct seg_copy *c);

#endif
