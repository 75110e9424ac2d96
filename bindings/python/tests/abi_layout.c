/* SPDX-License-Identifier: GPL-3.0-or-later
 * abi_layout.c — prints the C compiler's layout of chorus.h's structs as JSON
 * ({"struct": {"size": N, "fields": {"name": offset}}}), which test_abi.py compares with the
 * ctypes mirrors in chorus/_lib.py. Built by tests/CMakeLists.txt as py_abi_layout. */
#include <chorus/chorus.h>
#include <stddef.h>
#include <stdio.h>

static int first_struct = 1, first_field;

static void open_struct(const char *name, size_t size) {
    printf("%s\"%s\": {\"size\": %zu, \"fields\": {", first_struct ? "" : ", ", name, size);
    first_struct = 0;
    first_field = 1;
}
static void field(const char *name, size_t off) {
    printf("%s\"%s\": %zu", first_field ? "" : ", ", name, off);
    first_field = 0;
}
static void close_struct(void) { printf("}}"); }

#define S(t) open_struct(#t, sizeof(struct t))
#define F(t, f) field(#f, offsetof(struct t, f))

int main(void) {
    printf("{");
    S(chorus_engine_options); F(chorus_engine_options, size); F(chorus_engine_options, config_path);
    F(chorus_engine_options, no_config); F(chorus_engine_options, max_concurrent);
    F(chorus_engine_options, max_queue); F(chorus_engine_options, queue_timeout_ms);
    F(chorus_engine_options, pronunciations_file); close_struct();
    S(chorus_engine_stats); F(chorus_engine_stats, size); F(chorus_engine_stats, max_concurrent);
    F(chorus_engine_stats, active); F(chorus_engine_stats, queued);
    F(chorus_engine_stats, started_total); close_struct();
    S(chorus_cache_stats); F(chorus_cache_stats, size); F(chorus_cache_stats, enabled);
    F(chorus_cache_stats, dir); F(chorus_cache_stats, hits); F(chorus_cache_stats, misses);
    F(chorus_cache_stats, corrupt); F(chorus_cache_stats, stores); F(chorus_cache_stats, entries);
    F(chorus_cache_stats, bytes); F(chorus_cache_stats, max_bytes);
    F(chorus_cache_stats, hits_total); close_struct();
    S(chorus_backend_info); F(chorus_backend_info, name); F(chorus_backend_info, pattern);
    F(chorus_backend_info, description); F(chorus_backend_info, caps);
    F(chorus_backend_info, available); F(chorus_backend_info, reason);
    F(chorus_backend_info, max_input_chars); F(chorus_backend_info, sample_rate); close_struct();
    S(chorus_option_desc); F(chorus_option_desc, key); F(chorus_option_desc, type);
    field("def_", offsetof(struct chorus_option_desc, def)); F(chorus_option_desc, min);
    F(chorus_option_desc, max); F(chorus_option_desc, values); F(chorus_option_desc, help);
    close_struct();
    S(chorus_voice); F(chorus_voice, id); F(chorus_voice, name); F(chorus_voice, language);
    F(chorus_voice, gender); F(chorus_voice, backend); F(chorus_voice, description); close_struct();
    S(chorus_option); F(chorus_option, key); F(chorus_option, value); close_struct();
    S(chorus_word); F(chorus_word, text_offset); F(chorus_word, text_len); F(chorus_word, start);
    F(chorus_word, end); close_struct();
    S(chorus_chunk); F(chorus_chunk, index); F(chorus_chunk, samples); F(chorus_chunk, n_samples);
    F(chorus_chunk, sample_rate); F(chorus_chunk, data); F(chorus_chunk, data_len);
    F(chorus_chunk, text_offset); F(chorus_chunk, text_len); F(chorus_chunk, start_time);
    F(chorus_chunk, words); F(chorus_chunk, n_words); close_struct();
    S(chorus_progress); F(chorus_progress, chars_done); F(chorus_progress, chars_total);
    F(chorus_progress, percent); F(chorus_progress, eta_seconds); F(chorus_progress, audio_seconds);
    F(chorus_progress, current_text); F(chorus_progress, current_len); close_struct();
    S(chorus_event); F(chorus_event, type); F(chorus_event, chunk); F(chorus_event, word);
    F(chorus_event, progress); F(chorus_event, mark_name); F(chorus_event, mark_time);
    F(chorus_event, status); F(chorus_event, message); close_struct();
    S(chorus_request); F(chorus_request, size); F(chorus_request, backend); F(chorus_request, model);
    F(chorus_request, voice); F(chorus_request, language); F(chorus_request, text);
    F(chorus_request, text_len); F(chorus_request, input); F(chorus_request, speed);
    F(chorus_request, format); F(chorus_request, sample_rate); F(chorus_request, options);
    F(chorus_request, n_options); F(chorus_request, flags); F(chorus_request, callback);
    F(chorus_request, userdata); F(chorus_request, volume); F(chorus_request, normalize_options);
    F(chorus_request, pronunciations); F(chorus_request, n_pronunciations);
    close_struct();
    S(chorus_estimate); F(chorus_estimate, size); F(chorus_estimate, backend);
    F(chorus_estimate, provider); F(chorus_estimate, model); F(chorus_estimate, characters);
    F(chorus_estimate, input_tokens); F(chorus_estimate, output_tokens); F(chorus_estimate, credits);
    F(chorus_estimate, usd); F(chorus_estimate, basis); close_struct();
    printf("}\n");
    return 0;
}
