/*
 * metrics.c — the counters behind GET /metrics and their Prometheus text form.
 */
#include "server_internal.h"

#include <stdio.h>
#include <stdlib.h>

/* ------------------------------------------------------------------ metrics ---- */

static const char *const endpoint_names[SRV_EP_COUNT] = {
    "/v1/audio/speech", "/v1/audio/speech/captioned", "/v1/audio/voices", "/v1/models",
    "/v1/backends", "/health", "/metrics", "/", "/v1/audio/models", "/v1/download",
    "/dev/phonemize", "/dev/generate_from_phonemes", "/v1/audio/voices/combine", "/v1/text-to-speech/stream-input",
    "OPTIONS", "other"};

const double srv_ttfb_buckets[SRV_TTFB_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                   0.5,   1,    2.5,   5,    10};
const double srv_rtf_buckets[SRV_RTF_BUCKETS] = {0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5};

void srv_metrics_count(struct srv *s, int ep, int status) {
    pthread_mutex_lock(&s->mmu);
    struct srv_status_count *sc = s->m.requests[ep];
    for (int i = 0; i < SRV_STATUS_SLOTS; i++) {
        if (sc[i].status == status || sc[i].status == 0) {
            sc[i].status = status;
            sc[i].count++;
            break;
        }
    }
    pthread_mutex_unlock(&s->mmu);
}

void srv_metrics_generation(struct srv *s, int outcome, double ttfb, double wall, double audio,
                            uint64_t bytes) {
    pthread_mutex_lock(&s->mmu);
    s->m.generations[outcome]++;
    s->m.bytes_out += bytes;
    s->m.audio_seconds += audio;
    if (ttfb >= 0) {
        for (int i = 0; i < SRV_TTFB_BUCKETS; i++)
            if (ttfb <= srv_ttfb_buckets[i]) s->m.ttfb_bucket[i]++;
        s->m.ttfb_sum += ttfb;
        s->m.ttfb_count++;
    }
    if (outcome == SRV_GEN_DONE && audio > 0) {
        double rtf = wall / audio;
        for (int i = 0; i < SRV_RTF_BUCKETS; i++)
            if (rtf <= srv_rtf_buckets[i]) s->m.rtf_bucket[i]++;
        s->m.rtf_sum += rtf;
        s->m.rtf_count++;
    }
    pthread_mutex_unlock(&s->mmu);
}

char *srv_metrics_text(struct srv *s) {
    struct chorus_engine_stats es = {.size = sizeof es};
    chorus_engine_get_stats(s->engine, &es);
    int active = es.active, queued = es.queued, max_active = es.max_concurrent;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    pthread_mutex_lock(&s->mmu);
    struct srv_metrics m = s->m;
    pthread_mutex_unlock(&s->mmu);
    fputs("# HELP chorus_http_requests_total HTTP requests answered, by endpoint and status.\n"
          "# TYPE chorus_http_requests_total counter\n", f);
    for (int ep = 0; ep < SRV_EP_COUNT; ep++)
        for (int i = 0; i < SRV_STATUS_SLOTS && m.requests[ep][i].status; i++)
            fprintf(f, "chorus_http_requests_total{endpoint=\"%s\",status=\"%d\"} %llu\n",
                    endpoint_names[ep], m.requests[ep][i].status,
                    (unsigned long long)m.requests[ep][i].count);
    fputs("# HELP chorus_time_to_first_byte_seconds Time from a speech request to its first audio byte.\n"
          "# TYPE chorus_time_to_first_byte_seconds histogram\n", f);
    for (int i = 0; i < SRV_TTFB_BUCKETS; i++)
        fprintf(f, "chorus_time_to_first_byte_seconds_bucket{le=\"%g\"} %llu\n", srv_ttfb_buckets[i],
                (unsigned long long)m.ttfb_bucket[i]);
    fprintf(f, "chorus_time_to_first_byte_seconds_bucket{le=\"+Inf\"} %llu\n",
            (unsigned long long)m.ttfb_count);
    fprintf(f, "chorus_time_to_first_byte_seconds_sum %.6f\n", m.ttfb_sum);
    fprintf(f, "chorus_time_to_first_byte_seconds_count %llu\n", (unsigned long long)m.ttfb_count);
    fputs("# HELP chorus_real_time_factor Generation wall time divided by audio duration (lower is faster).\n"
          "# TYPE chorus_real_time_factor histogram\n", f);
    for (int i = 0; i < SRV_RTF_BUCKETS; i++)
        fprintf(f, "chorus_real_time_factor_bucket{le=\"%g\"} %llu\n", srv_rtf_buckets[i],
                (unsigned long long)m.rtf_bucket[i]);
    fprintf(f, "chorus_real_time_factor_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)m.rtf_count);
    fprintf(f, "chorus_real_time_factor_sum %.6f\n", m.rtf_sum);
    fprintf(f, "chorus_real_time_factor_count %llu\n", (unsigned long long)m.rtf_count);
    fprintf(f,
            "# HELP chorus_generations_active Speech generations holding a slot now.\n"
            "# TYPE chorus_generations_active gauge\nchorus_generations_active %d\n"
            "# HELP chorus_generations_queued Speech requests waiting for a slot now.\n"
            "# TYPE chorus_generations_queued gauge\nchorus_generations_queued %d\n"
            "# HELP chorus_generations_max Slots for concurrent generations.\n"
            "# TYPE chorus_generations_max gauge\nchorus_generations_max %d\n"
            "# HELP chorus_engine_generations_active Generations running in the library's limiter.\n"
            "# TYPE chorus_engine_generations_active gauge\nchorus_engine_generations_active %d\n"
            "# HELP chorus_engine_generations_queued Generations waiting in the library's limiter.\n"
            "# TYPE chorus_engine_generations_queued gauge\nchorus_engine_generations_queued %d\n",
            active, queued, max_active, es.active, es.queued);
    fprintf(f,
            "# HELP chorus_held_bytes Bytes of request bodies and unsent whole responses held now.\n"
            "# TYPE chorus_held_bytes gauge\nchorus_held_bytes %zu\n"
            "# HELP chorus_held_refused_total Requests refused (503) because too many bytes were held.\n"
            "# TYPE chorus_held_refused_total counter\nchorus_held_refused_total %llu\n"
            "# HELP chorus_connections_cut_total Connections shut down past a deadline.\n"
            "# TYPE chorus_connections_cut_total counter\n"
            "chorus_connections_cut_total{reason=\"slow_request\"} %llu\n"
            "chorus_connections_cut_total{reason=\"stalled_response\"} %llu\n",
            atomic_load(&s->held), (unsigned long long)m.refused_held,
            (unsigned long long)m.reaped_slow_requests, (unsigned long long)m.reaped_stalled_responses);
    fputs("# HELP chorus_generations_total Speech generations by outcome.\n"
          "# TYPE chorus_generations_total counter\n", f);
    static const char *const outcomes[SRV_GEN_OUTCOMES] = {"done", "error", "cancelled"};
    for (int i = 0; i < SRV_GEN_OUTCOMES; i++)
        fprintf(f, "chorus_generations_total{outcome=\"%s\"} %llu\n", outcomes[i],
                (unsigned long long)m.generations[i]);
    fprintf(f,
            "# HELP chorus_bytes_out_total Audio and event bytes sent by the speech endpoints.\n"
            "# TYPE chorus_bytes_out_total counter\nchorus_bytes_out_total %llu\n"
            "# HELP chorus_audio_seconds_total Seconds of audio generated.\n"
            "# TYPE chorus_audio_seconds_total counter\nchorus_audio_seconds_total %.3f\n",
            (unsigned long long)m.bytes_out, m.audio_seconds);
    struct chorus_cache_stats cs = {.size = sizeof cs};
    if (chorus_engine_cache_stats(s->engine, &cs) == CHORUS_OK) {
        fprintf(f,
                "# HELP chorus_cache_enabled 1 if generations read and write the audio cache.\n"
                "# TYPE chorus_cache_enabled gauge\nchorus_cache_enabled %d\n"
                "# HELP chorus_cache_hits_total Segments served from the audio cache.\n"
                "# TYPE chorus_cache_hits_total counter\nchorus_cache_hits_total %llu\n"
                "# HELP chorus_cache_misses_total Segments looked up in the cache and generated.\n"
                "# TYPE chorus_cache_misses_total counter\nchorus_cache_misses_total %llu\n"
                "# HELP chorus_cache_stores_total Entries written to the cache.\n"
                "# TYPE chorus_cache_stores_total counter\nchorus_cache_stores_total %llu\n"
                "# HELP chorus_cache_entries Entries in the cache now.\n"
                "# TYPE chorus_cache_entries gauge\nchorus_cache_entries %llu\n"
                "# HELP chorus_cache_bytes Bytes in the cache now.\n"
                "# TYPE chorus_cache_bytes gauge\nchorus_cache_bytes %llu\n",
                cs.enabled, (unsigned long long)cs.hits, (unsigned long long)cs.misses,
                (unsigned long long)cs.stores, (unsigned long long)cs.entries,
                (unsigned long long)cs.bytes);
    }
    fclose(f);
    return buf;
}

