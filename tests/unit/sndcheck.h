/* sndcheck.h — decode audio bytes with libsndfile (an independent decoder) for tests. */
#ifndef CHORUS_TEST_SNDCHECK_H
#define CHORUS_TEST_SNDCHECK_H

#include <math.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>

struct snd_mem {
    const unsigned char *p;
    sf_count_t n, pos;
};
static sf_count_t sm_len(void *ud) { return ((struct snd_mem *)ud)->n; }
static sf_count_t sm_seek(sf_count_t off, int whence, void *ud) {
    struct snd_mem *m = ud;
    sf_count_t np = whence == SEEK_SET ? off : whence == SEEK_CUR ? m->pos + off : m->n + off;
    if (np < 0 || np > m->n) return -1;
    m->pos = np;
    return np;
}
static sf_count_t sm_read(void *ptr, sf_count_t count, void *ud) {
    struct snd_mem *m = ud;
    if (count > m->n - m->pos) count = m->n - m->pos;
    memcpy(ptr, m->p + m->pos, (size_t)count);
    m->pos += count;
    return count;
}
static sf_count_t sm_write(const void *ptr, sf_count_t count, void *ud) {
    (void)ptr, (void)count, (void)ud;
    return 0;
}
static sf_count_t sm_tell(void *ud) { return ((struct snd_mem *)ud)->pos; }

/* Decode; returns malloc'd mono float samples (channel 0) or NULL. */
static float *snd_decode(const unsigned char *data, size_t n, size_t *frames, int *rate,
                         int *channels) {
    struct snd_mem m = {data, (sf_count_t)n, 0};
    SF_VIRTUAL_IO io = {sm_len, sm_seek, sm_read, sm_write, sm_tell};
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open_virtual(&io, SFM_READ, &info, &m);
    if (!f) return NULL;
    float *all = malloc((size_t)(info.frames ? info.frames : 1) * (size_t)info.channels * sizeof *all);
    sf_count_t got = sf_readf_float(f, all, info.frames);
    sf_close(f);
    float *mono = malloc((size_t)(got ? got : 1) * sizeof *mono);
    for (sf_count_t i = 0; i < got; i++) mono[i] = all[i * info.channels];
    free(all);
    *frames = (size_t)got;
    *rate = info.samplerate;
    *channels = info.channels;
    return mono;
}

static double snd_rms(const float *x, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return n ? sqrt(s / (double)n) : 0;
}

#endif
