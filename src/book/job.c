/* job.c — chorus_book_render(): a resumable audiobook job.
 *
 * The job folder holds one finished audio file per chapter (written atomically by
 * chorus_synthesize_file, so a killed run leaves no half chapter), its word timings
 * (chNNNN.words, for subtitles), and manifest.json, rewritten atomically after each chapter with
 * the chapters done. The manifest carries a key — SHA-256 of the book's bytes and of the voice
 * settings — so a folder made for another book or voice is refused rather than mixed in. A rerun
 * skips the chapters the manifest lists (and whose files exist), speaks the rest, and assembles
 * the output (mux.c) into a temp file renamed into place. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <jansson.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "book/book_internal.h"

size_t chorus_book_chapter_chars(const struct chorus_book *b, size_t i);

struct job {
    struct chorus_engine *e;
    struct chorus_book *b;
    const struct chorus_book_render_options *o;
    char *dir;
    char key[65];
    const char *codec_ext; /* chapter files: "aac", "mp3", or the split format's */
    enum chorus_format codec;
    json_t *manifest; /* {"key":..., "chapters": {"N": {...}}} */
    unsigned char *sel; /* chapters selected */
    size_t n_sel, nth;
    size_t chars_total, chars_before;
    double audio_before;
    /* the chapter being spoken */
    size_t cur;
    struct chorus_word *words;
    size_t n_words, cap_words;
    int cancelled, cb_rc;
};

/* ---- small helpers ---- */

static char *path_join(const char *dir, const char *name) {
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    if (p) sprintf(p, "%s/%s", dir, name);
    return p;
}

static int file_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

static int write_atomic(const char *path, const char *data, size_t n) {
    char *tmp = malloc(strlen(path) + 32);
    if (!tmp) return -1;
    sprintf(tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    int ok = f && fwrite(data, 1, n, f) == n && fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (f && fclose(f) != 0) ok = 0;
    if (ok && rename(tmp, path) != 0) ok = 0;
    if (!ok) unlink(tmp);
    free(tmp);
    return ok ? 0 : -1;
}

static int fail(struct job *j, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct job *j, int rc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->b->err, sizeof j->b->err, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- the job key ---- */

static void hex(const uint8_t *d, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

static int job_key(struct job *j) {
    struct sha256_ctx c;
    sha256_init(&c);
    FILE *f = fopen(j->b->path, "rb");
    if (!f) return fail(j, CHORUS_E_IO, "cannot read %s: %s", j->b->path, strerror(errno));
    unsigned char buf[65536];
    size_t r;
    while ((r = fread(buf, 1, sizeof buf, f)) > 0) sha256_update(&c, r, buf);
    fclose(f);
    const struct chorus_book_render_options *o = j->o;
    char settings[1024];
    int n = snprintf(settings, sizeof settings, "\n%s\n%s\n%s\n%s\n%.3f\n%d\n%s\n%zu\n",
                     o->backend ? o->backend : "", o->voice ? o->voice : "",
                     o->model ? o->model : "", o->dialogue_voice ? o->dialogue_voice : "",
                     (double)o->speed, o->sample_rate, j->codec_ext, j->b->n_ch);
    sha256_update(&c, (size_t)n, (const uint8_t *)settings);
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(&c, sizeof d, d);
    hex(d, sizeof d, j->key);
    return CHORUS_OK;
}

/* ---- the manifest ---- */

static int manifest_load(struct job *j) {
    char *p = path_join(j->dir, "manifest.json");
    if (!p) return CHORUS_E_NOMEM;
    json_error_t je;
    json_t *m = file_exists(p) ? json_load_file(p, 0, &je) : NULL;
    int rc = CHORUS_OK;
    if (m) {
        const char *key = json_string_value(json_object_get(m, "key"));
        if (!key || strcmp(key, j->key) != 0 || !json_is_object(json_object_get(m, "chapters")))
            rc = fail(j, CHORUS_E_INVALID,
                      "the job folder %s holds chapters of another book or of other voice "
                      "settings; remove it, or choose another with --job-dir",
                      j->dir);
    } else if (file_exists(p)) {
        rc = fail(j, CHORUS_E_IO, "%s is damaged (%s); remove the job folder to start over", p,
                  je.text);
    }
    free(p);
    if (rc) {
        json_decref(m);
        return rc;
    }
    if (!m) {
        m = json_pack("{s:i, s:s, s:s, s:{}}", "chorus_book_job", 1, "key", j->key, "title",
                      chorus_book_title(j->b), "chapters");
        if (!m) return CHORUS_E_NOMEM;
    }
    j->manifest = m;
    return CHORUS_OK;
}

static int manifest_save(struct job *j) {
    char *s = json_dumps(j->manifest, JSON_INDENT(1) | JSON_SORT_KEYS);
    char *p = path_join(j->dir, "manifest.json");
    int ok = s && p && write_atomic(p, s, strlen(s)) == 0;
    free(s);
    free(p);
    return ok ? CHORUS_OK : fail(j, CHORUS_E_IO, "cannot write the manifest in %s: %s", j->dir,
                                 strerror(errno));
}

static json_t *manifest_chapter(struct job *j, size_t i) {
    char k[32];
    snprintf(k, sizeof k, "%zu", i + 1);
    return json_object_get(json_object_get(j->manifest, "chapters"), k);
}

/* ---- file names ---- */

static char *chapter_file(struct job *j, size_t i) {
    char name[300];
    if (!j->o->split) {
        snprintf(name, sizeof name, "ch%04zu.%s", i + 1, j->codec_ext);
        return path_join(j->dir, name);
    }
    /* "003 - The Title.mp3", the title made safe for any file system */
    char t[200];
    size_t n = 0;
    for (const char *s = chorus_book_chapter_title(j->b, i); *s && n < sizeof t - 1; s++) {
        unsigned char c = (unsigned char)*s;
        t[n++] = c < 0x20 || strchr("/\\:*?\"<>|", c) ? '_' : (char)c;
    }
    while (n && (t[n - 1] == ' ' || t[n - 1] == '.')) n--;
    t[n] = 0;
    snprintf(name, sizeof name, "%03zu - %s.%s", i + 1, t, j->codec_ext);
    return path_join(j->o->output, name);
}

static char *words_file(struct job *j, size_t i) {
    char name[64];
    snprintf(name, sizeof name, "ch%04zu.words", i + 1);
    return path_join(j->dir, name);
}


/* ---- speaking one chapter ---- */

static int add_word(struct job *j, const struct chorus_word *w) {
    if (j->n_words == j->cap_words) {
        size_t cap = j->cap_words ? j->cap_words * 2 : 1024;
        struct chorus_word *n = realloc(j->words, cap * sizeof *n);
        if (!n) return CHORUS_E_NOMEM;
        j->words = n;
        j->cap_words = cap;
    }
    j->words[j->n_words++] = *w;
    return CHORUS_OK;
}

struct speak {
    struct job *j;
    size_t chars, bytes; /* the chapter's characters and its request text's bytes */
    double seconds;
    int nomem;
};

static int emit(struct job *j, enum chorus_book_event_type t, size_t chars_done, double audio,
                int skipped) {
    if (!j->o->callback) return 0;
    struct chorus_book_event ev = {.type = t, .chapter = j->cur, .nth = j->nth, .of = j->n_sel,
                                   .title = chorus_book_chapter_title(j->b, j->cur),
                                   .skipped = skipped, .chars_done = chars_done,
                                   .chars_total = j->chars_total, .audio_seconds = audio};
    int r = j->o->callback(&ev, j->o->userdata);
    if (r) j->cancelled = 1;
    return r;
}

static int on_event(const struct chorus_event *ev, void *ud) {
    struct speak *sp = ud;
    struct job *j = sp->j;
    if (ev->type == CHORUS_EVENT_WORD && ev->word && add_word(j, ev->word)) {
        sp->nomem = 1;
        return 1;
    }
    if (ev->type == CHORUS_EVENT_CHUNK && ev->chunk && ev->chunk->sample_rate > 0) {
        double end = ev->chunk->start_time + (double)ev->chunk->n_samples / ev->chunk->sample_rate;
        if (end > sp->seconds) sp->seconds = end;
    }
    if (ev->type == CHORUS_EVENT_PROGRESS && ev->progress) {
        const struct chorus_progress *p = ev->progress;
        size_t done = p->chars_total ? (size_t)((double)sp->chars * p->chars_done / p->chars_total)
                                     : 0;
        if (p->audio_seconds > sp->seconds) sp->seconds = p->audio_seconds;
        return emit(j, CHORUS_BOOK_CHAPTER_PROGRESS, j->chars_before + done,
                    j->audio_before + sp->seconds, 0);
    }
    return 0;
}

/* Narration with quoted dialogue in a second voice, as SSML <voice> spans. */
static int dialogue_ssml(const char *text, const char *voice, struct chorus_buf *out) {
    int rc = chorus_buf_append(out, "<speak>", 7);
    int in_quote = 0;
    for (const char *p = text; !rc && *p; p++) {
        int open = !in_quote && (!strncmp(p, "\xe2\x80\x9c", 3) || *p == '"');
        int close = in_quote && (!strncmp(p, "\xe2\x80\x9d", 3) || *p == '"');
        if (open) {
            rc = chorus_buf_printf(out, "<voice name=\"%s\">", voice);
            in_quote = 1;
        }
        const char *rep = *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : *p == '&' ? "&amp;" : NULL;
        if (!rc) rc = chorus_buf_append(out, rep ? rep : p, rep ? strlen(rep) : 1);
        if (!rc && close) {
            /* the closing mark itself is spoken (silently) inside the quote */
            if ((unsigned char)*p == 0xe2) rc = chorus_buf_append(out, p + 1, 2), p += 2;
            if (!rc) rc = chorus_buf_append(out, "</voice>", 8);
            in_quote = 0;
        } else if (!rc && open && (unsigned char)*p == 0xe2) {
            rc = chorus_buf_append(out, p + 1, 2);
            p += 2;
        }
    }
    if (!rc && in_quote) rc = chorus_buf_append(out, "</voice>", 8);
    if (!rc) rc = chorus_buf_append(out, "</speak>", 9); /* with the NUL */
    return rc ? CHORUS_E_NOMEM : CHORUS_OK;
}

static int save_words(struct job *j, size_t i, const char *text, size_t tlen) {
    struct chorus_buf b = {0};
    int rc = CHORUS_OK;
    size_t prev_end = 0;
    for (size_t k = 0; !rc && k < j->n_words; k++) {
        const struct chorus_word *w = &j->words[k];
        if (w->text_offset > tlen || w->text_len > tlen - w->text_offset) continue;
        size_t beg = w->text_offset, end = beg + w->text_len;
        size_t next = k + 1 < j->n_words && j->words[k + 1].text_offset >= end
                          ? j->words[k + 1].text_offset
                          : tlen;
        if (next > tlen) next = tlen;
        if (beg < prev_end) continue; /* overlapping spans: keep the first */
        int se = chorus_sub_sentence_end(text + end, next - end);
        chorus_sub_span(text, prev_end, next, &beg, &end);
        prev_end = end;
        rc = chorus_buf_printf(&b, "%.3f\t%.3f\t%d\t", w->start, w->end, se);
        for (size_t c = beg; !rc && c < end; c++) {
            char ch = text[c] == '\t' || text[c] == '\n' || text[c] == '\r' ? ' ' : text[c];
            rc = chorus_buf_append(&b, &ch, 1);
        }
        if (!rc) rc = chorus_buf_append(&b, "\n", 1);
    }
    char *p = rc ? NULL : words_file(j, i);
    if (!rc && (!p || write_atomic(p, b.p ? b.p : "", b.len) != 0))
        rc = fail(j, CHORUS_E_IO, "cannot write the word timings of chapter %zu in %s", i + 1,
                  j->dir);
    free(p);
    chorus_buf_release(&b);
    return rc;
}

static const char *default_voice(struct job *j) {
    if (j->o->voice) return j->o->voice;
    const char *be = j->o->backend ? j->o->backend : chorus_engine_default_backend(j->e);
    const char *lang = chorus_book_language(j->b);
    return be && !strcmp(be, "espeak") && *lang ? lang : NULL;
}

static int synthesize(struct job *j, size_t i, const char *text, int ssml, const char *path,
                      struct speak *sp) {
    struct chorus_request r = chorus_request_default();
    r.backend = j->o->backend;
    r.model = j->o->model;
    r.voice = default_voice(j);
    r.language = *chorus_book_language(j->b) ? chorus_book_language(j->b) : NULL;
    r.text = text;
    r.input = ssml ? CHORUS_INPUT_SSML : CHORUS_INPUT_TEXT;
    r.speed = j->o->speed;
    r.format = j->codec;
    r.sample_rate = j->o->sample_rate ? j->o->sample_rate : 24000;
    r.callback = on_event;
    r.userdata = sp;
    char err[1024] = "";
    int rc = chorus_synthesize_file(j->e, &r, path, err, sizeof err);
    if (rc == CHORUS_E_UNKNOWN_VOICE && !j->o->voice && r.voice) { /* the book's language */
        r.voice = NULL;
        j->n_words = 0;
        sp->seconds = 0;
        rc = chorus_synthesize_file(j->e, &r, path, err, sizeof err);
    }
    if (sp->nomem) return CHORUS_E_NOMEM;
    if (rc == CHORUS_E_CANCELLED || j->cancelled)
        return fail(j, CHORUS_E_CANCELLED, "cancelled during chapter %zu; run again to continue",
                    i + 1);
    if (rc) return fail(j, rc, "chapter %zu (%s): %s", i + 1, chorus_book_chapter_title(j->b, i), err);
    return CHORUS_OK;
}

static int speak_chapter(struct job *j, size_t i, double *seconds) {
    char *text = NULL, *path = NULL;
    size_t tlen = 0;
    int rc = chorus_book_chapter_text(j->b, i, &text, &tlen);
    if (rc) return rc;
    struct chorus_buf ssml = {0};
    const char *req_text = text;
    if (j->o->dialogue_voice) {
        rc = dialogue_ssml(text, j->o->dialogue_voice, &ssml);
        req_text = ssml.p;
    }
    struct speak sp = {.j = j, .chars = chorus_book_chapter_chars(j->b, i)};
    j->n_words = 0;
    path = rc ? NULL : chapter_file(j, i);
    if (!rc && !path) rc = CHORUS_E_NOMEM;
    if (!rc) rc = synthesize(j, i, req_text, j->o->dialogue_voice != NULL, path, &sp);
    if (!rc) rc = save_words(j, i, req_text, strlen(req_text));
    if (!rc) {
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        json_t *c = json_pack("{s:s, s:s, s:f, s:I}", "file", base, "title",
                              chorus_book_chapter_title(j->b, i), "seconds", sp.seconds, "chars",
                              (json_int_t)sp.chars);
        char k[32];
        snprintf(k, sizeof k, "%zu", i + 1);
        if (!c || json_object_set_new(json_object_get(j->manifest, "chapters"), k, c))
            rc = CHORUS_E_NOMEM;
        if (!rc) rc = manifest_save(j);
    }
    *seconds = sp.seconds;
    chorus_buf_release(&ssml);
    free(text);
    free(path);
    return rc;
}

/* ---- selection ---- */

static int parse_selection(struct job *j) {
    size_t n = chorus_book_chapter_count(j->b);
    j->sel = calloc(n ? n : 1, 1);
    if (!j->sel) return CHORUS_E_NOMEM;
    const char *s = j->o->chapters;
    if (!s || !*s) {
        memset(j->sel, 1, n);
    } else {
        while (*s) {
            char *end;
            unsigned long a = strtoul(s, &end, 10), b = a;
            if (end == s) goto bad;
            s = end;
            if (*s == '-') {
                s++;
                b = *s && *s != ',' ? strtoul(s, &end, 10) : n;
                if (*s && *s != ',' && end == s) goto bad;
                if (*s && *s != ',') s = end;
            }
            if (a < 1 || b < a || b > n) goto bad;
            for (unsigned long k = a; k <= b; k++) j->sel[k - 1] = 1;
            if (*s == ',') s++;
            else if (*s) goto bad;
        }
    }
    if (j->o->redo && (j->o->redo > n))
        return fail(j, CHORUS_E_INVALID, "--redo %zu: the book has %zu chapters", j->o->redo, n);
    for (size_t i = 0; i < n; i++)
        if (j->sel[i]) j->n_sel++, j->chars_total += chorus_book_chapter_chars(j->b, i);
    return CHORUS_OK;
bad:
    return fail(j, CHORUS_E_INVALID,
                "chapters '%s': give numbers from 1 to %zu as a list of ranges, e.g. 3-7,9",
                j->o->chapters, n);
}

/* ---- assembly ---- */

static char *replace_ext(const char *path, const char *ext) {
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    size_t base = dot && (!slash || dot > slash) ? (size_t)(dot - path) : strlen(path);
    char *p = malloc(base + strlen(ext) + 2);
    if (p) sprintf(p, "%.*s.%s", (int)base, path, ext);
    return p;
}

/* Append chapter i's word timings (its words file) to a subtitle writer at `offset` seconds. */
static int add_subtitles(struct job *j, struct sub_writer *w, size_t i, double offset) {
    char *p = words_file(j, i);
    FILE *f = p ? fopen(p, "r") : NULL;
    free(p);
    if (!f) return CHORUS_OK; /* a chapter spoken before word timings were kept */
    char line[4096];
    int rc = CHORUS_OK;
    while (!rc && fgets(line, sizeof line, f)) {
        double s, e;
        int se, off = 0;
        if (sscanf(line, "%lf\t%lf\t%d\t%n", &s, &e, &se, &off) < 3 || !off) continue;
        size_t n = strcspn(line + off, "\n");
        struct sub_word sw = {.start = s, .end = e, .text = line + off, .len = n,
                              .sentence_end = se};
        rc = chorus_sub_add(w, &sw, offset);
    }
    fclose(f);
    chorus_sub_break(w);
    return rc;
}

static int write_subtitles(struct job *j, const char *path, const size_t *idx, const double *at,
                           size_t n) {
    struct sub_writer *w;
    char err[512] = "";
    int rc = chorus_sub_open(&w, path, j->o->subtitles, j->o->subtitle_words, err, sizeof err);
    for (size_t k = 0; !rc && k < n; k++) rc = add_subtitles(j, w, idx[k], at[k]);
    if (w) {
        int rc2 = chorus_sub_close(w, !rc, err, sizeof err);
        rc = rc ? rc : rc2;
    }
    return rc ? fail(j, rc, "subtitles: %s", err[0] ? err : chorus_strerror(rc)) : CHORUS_OK;
}

static int assemble_single(struct job *j, const size_t *idx, size_t n) {
    struct book_mux_chapter *mc = calloc(n, sizeof *mc);
    char **files = calloc(n, sizeof *files);
    double *dur = calloc(n, sizeof *dur), *at = calloc(n, sizeof *at);
    int rc = mc && files && dur && at ? CHORUS_OK : CHORUS_E_NOMEM;
    for (size_t k = 0; !rc && k < n; k++) {
        files[k] = chapter_file(j, idx[k]);
        if (!files[k]) rc = CHORUS_E_NOMEM;
        mc[k].file = files[k];
        mc[k].title = chorus_book_chapter_title(j->b, idx[k]);
    }
    const unsigned char *cover = NULL;
    size_t cover_len = 0;
    const char *mime = NULL;
    if (!rc && chorus_book_cover(j->b, &cover, &cover_len, &mime) != CHORUS_OK) j->b->err[0] = 0;
    struct book_mux_meta meta = {.title = chorus_book_title(j->b),
                                 .author = chorus_book_author(j->b),
                                 .language = chorus_book_language(j->b), .cover = cover,
                                 .cover_len = cover_len, .cover_mime = mime};
    char err[1024] = "";
    if (!rc) rc = chorus_book_mux(j->o->output, mc, n, &meta, dur, err, sizeof err);
    if (rc && rc != CHORUS_E_NOMEM) fail(j, rc, "%s", err);
    for (size_t k = 1; !rc && k < n; k++) at[k] = at[k - 1] + dur[k - 1];
    if (!rc && j->o->subtitles) {
        char *sp = replace_ext(j->o->output, j->o->subtitles);
        rc = sp ? write_subtitles(j, sp, idx, at, n) : CHORUS_E_NOMEM;
        free(sp);
    }
    for (size_t k = 0; files && k < n; k++) free(files[k]);
    free(files);
    free(mc);
    free(dur);
    free(at);
    return rc;
}

static int assemble_split(struct job *j, const size_t *idx, size_t n) {
    for (size_t k = 0; j->o->subtitles && k < n; k++) {
        char *f = chapter_file(j, idx[k]);
        char *sp = f ? replace_ext(f, j->o->subtitles) : NULL;
        double zero = 0;
        int rc = sp ? write_subtitles(j, sp, &idx[k], &zero, 1) : CHORUS_E_NOMEM;
        free(f);
        free(sp);
        if (rc) return rc;
    }
    return CHORUS_OK;
}

/* ---- the render ---- */

static int choose_codec(struct job *j) {
    const struct chorus_book_render_options *o = j->o;
    if (o->split) {
        j->codec = o->format ? o->format : CHORUS_FORMAT_MP3;
        j->codec_ext = chorus_format_extension(j->codec);
        if (!j->codec_ext) return fail(j, CHORUS_E_FORMAT, "unknown format for --split files");
        return CHORUS_OK;
    }
    enum chorus_format f = chorus_format_from_path(o->output);
    const char *dot = strrchr(o->output, '.');
    int mp4 = dot && (!strcasecmp(dot, ".m4b") || !strcasecmp(dot, ".m4a") ||
                      !strcasecmp(dot, ".mp4"));
    if (mp4) j->codec = CHORUS_FORMAT_AAC;
    else if (f == CHORUS_FORMAT_MP3) j->codec = CHORUS_FORMAT_MP3;
    else
        return fail(j, CHORUS_E_FORMAT,
                    "%s: a whole audiobook is written as .m4b (or .m4a) or .mp3; for other "
                    "formats use --split with a folder",
                    o->output);
    j->codec_ext = chorus_format_extension(j->codec);
    return CHORUS_OK;
}

/* A run killed mid-chapter leaves chorus_synthesize_file's temp file (NAME.XXXXXX.tmp) and
 * perhaps a manifest temp: ours alone, so removed before speaking again. */
static void remove_stale_temps(const char *dir, int split_names) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        const char *nm = de->d_name;
        int ours = split_names ? n > 10 && isdigit((unsigned char)nm[0]) &&
                                     isdigit((unsigned char)nm[1]) &&
                                     isdigit((unsigned char)nm[2]) && !strncmp(nm + 3, " - ", 3)
                               : 1;
        if (ours && n > 4 && !strcmp(nm + n - 4, ".tmp")) {
            char *p = path_join(dir, nm);
            if (p) unlink(p);
            free(p);
        }
    }
    closedir(d);
}

static int setup(struct job *j) {
    const struct chorus_book_render_options *o = j->o;
    if (!o->output || !*o->output) return fail(j, CHORUS_E_INVALID, "no output given");
    if (o->struct_size && o->struct_size < offsetof(struct chorus_book_render_options, userdata))
        return fail(j, CHORUS_E_INVALID, "render options from an incompatible chorus version");
    if (o->subtitles && strcmp(o->subtitles, "srt") && strcmp(o->subtitles, "vtt"))
        return fail(j, CHORUS_E_INVALID, "subtitles '%s': use srt or vtt", o->subtitles);
    if (o->dialogue_voice && strpbrk(o->dialogue_voice, "\"<>&"))
        return fail(j, CHORUS_E_INVALID, "dialogue voice '%s' has characters no voice name has",
                    o->dialogue_voice);
    int rc = choose_codec(j);
    if (!rc) rc = parse_selection(j);
    if (rc) return rc;
    if (o->split && chorus_mkdir_p(o->output, 0777) != 0)
        return fail(j, CHORUS_E_IO, "cannot create the folder %s: %s", o->output, strerror(errno));
    if (o->job_dir) j->dir = chorus_strdup(o->job_dir);
    else if (o->split) j->dir = path_join(o->output, ".chorus-job");
    else {
        j->dir = malloc(strlen(o->output) + 16);
        if (j->dir) sprintf(j->dir, "%s.chorus-job", o->output);
    }
    if (!j->dir) return CHORUS_E_NOMEM;
    if (chorus_mkdir_p(j->dir, 0777) != 0)
        return fail(j, CHORUS_E_IO, "cannot create the job folder %s: %s", j->dir,
                    strerror(errno));
    rc = job_key(j);
    if (!rc) rc = manifest_load(j);
    if (!rc) {
        remove_stale_temps(j->dir, 0);
        if (o->split) remove_stale_temps(o->output, 1);
    }
    return rc;
}

static int chapter_done(struct job *j, size_t i) {
    json_t *c = manifest_chapter(j, i);
    if (!c) return 0;
    char *p = chapter_file(j, i);
    int ok = p && file_exists(p);
    free(p);
    return ok;
}

static int speak_all(struct job *j, size_t *idx) {
    size_t n = chorus_book_chapter_count(j->b), k = 0;
    int rc = CHORUS_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        if (!j->sel[i]) continue;
        j->cur = i;
        j->nth = ++k;
        idx[k - 1] = i;
        size_t chars = chorus_book_chapter_chars(j->b, i);
        if (chapter_done(j, i) && j->o->redo != i + 1) {
            json_t *c = manifest_chapter(j, i);
            double s = json_number_value(json_object_get(c, "seconds"));
            if (emit(j, CHORUS_BOOK_CHAPTER_START, j->chars_before, j->audio_before, 1))
                return fail(j, CHORUS_E_CANCELLED, "cancelled");
            j->chars_before += chars;
            j->audio_before += s;
            continue;
        }
        if (emit(j, CHORUS_BOOK_CHAPTER_START, j->chars_before, j->audio_before, 0))
            return fail(j, CHORUS_E_CANCELLED, "cancelled");
        double s = 0;
        rc = speak_chapter(j, i, &s);
        if (rc) break;
        j->chars_before += chars;
        j->audio_before += s;
        if (emit(j, CHORUS_BOOK_CHAPTER_DONE, j->chars_before, j->audio_before, 0))
            return fail(j, CHORUS_E_CANCELLED, "cancelled after chapter %zu; run again to continue",
                        i + 1);
    }
    return rc;
}

struct chorus_book_render_options chorus_book_render_default(void) {
    struct chorus_book_render_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    return o;
}

int chorus_book_render(struct chorus_engine *e, struct chorus_book *b,
                       const struct chorus_book_render_options *opts) {
    if (!b) return CHORUS_E_INVALID;
    b->err[0] = 0;
    if (!e || !opts) return chorus_book_fail(b, CHORUS_E_INVALID, "no engine or options given");
    struct job j = {.e = e, .b = b, .o = opts};
    int rc = setup(&j);
    size_t *idx = rc ? NULL : calloc(j.n_sel ? j.n_sel : 1, sizeof *idx);
    if (!rc && !idx) rc = CHORUS_E_NOMEM;
    if (!rc) rc = speak_all(&j, idx);
    if (!rc) {
        j.cur = idx[j.n_sel ? j.n_sel - 1 : 0];
        emit(&j, CHORUS_BOOK_ASSEMBLING, j.chars_before, j.audio_before, 0);
        rc = opts->split ? assemble_split(&j, idx, j.n_sel) : assemble_single(&j, idx, j.n_sel);
    }
    if (rc == CHORUS_E_NOMEM && !b->err[0]) chorus_book_fail(b, rc, "out of memory");
    free(idx);
    free(j.sel);
    free(j.dir);
    free(j.words);
    json_decref(j.manifest);
    return rc;
}
