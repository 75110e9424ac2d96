/* say.c — `chorus say`: speak text to a file, to standard output as it is generated, or both. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chorus/book.h"
#include "chorus/textstream.h"
#include "cli.h"

static const char say_usage[] =
    "usage: chorus say [options] [TEXT...]\n"
    "Speak TEXT (or the contents of -f FILE, or standard input).\n"
    "\n"
    "  -b, --backend NAME       engine: espeak, kokoro, openai, elevenlabs, alltalk_*, ...\n"
    "                           (default: config, else the best local engine that can run)\n"
    "  -v, --voice NAME         voice id, name or language code (chorus voices lists them)\n"
    "  -m, --model NAME         the backend's model (e.g. tts-1-hd)\n"
    "  -l, --lang CODE          language hint (e.g. en-us)\n"
    "  -f, --file FILE          read the text from FILE ('-' = standard input)\n"
    "  -o, --output PATH        write audio to PATH atomically; '-' streams to standard output\n"
    "  -F, --format FMT         wav, pcm, mp3, opus, flac or aac (default: from the output\n"
    "                           file's extension, else wav)\n"
    "  -s, --speed X            speaking rate, 0.25 to 4.0 (default 1.0)\n"
    "  -r, --sample-rate HZ     output sample rate (default: the format's or the engine's)\n"
    "      --stream-input       read standard input as it arrives and speak each sentence as\n"
    "                           soon as it is complete (llm | chorus say --stream-input --play);\n"
    "                           output to standard output or --play; pcm, wav, mp3 or aac\n"
    "      --ssml               the text is an SSML document\n"
    "      --phonemes           the text is phonemes in the engine's notation\n"
    "      --no-normalize       speak the text as written (no number/abbreviation expansion)\n"
    "      --pronunciations FILE  a pronunciation dictionary for this run, instead of the\n"
    "                           config's [pronunciations] file: WORD = /kokoro ipa/,\n"
    "                           WORD = [[espeak mnemonics]] or WORD = respelling, one a line\n"
    "                           (docs/text.md)\n"
    "      --timestamps FILE    write word timings as JSON: [{word, start, end, offset, length}]\n"
    "      --subtitles FILE     write read-along subtitles, one cue per sentence: SubRip, or\n"
    "                           WebVTT when FILE ends in .vtt\n"
    "      --opt KEY=VALUE      a backend option (repeatable; chorus backends --options)\n"
    "      --estimate           print what the request would cost and exit (sends nothing)\n"
    "      --no-cache           neither read nor write the audio cache for this request\n"
    "      --play               play the audio as it is generated (with or without -o)\n"
    "      --device DEV         sound device for --play: pulse, alsa[:hw:N], null, wav:FILE...\n"
    "                           (default: $CHORUS_AUDIO_DEVICE, else the system's)\n"
    "  -q, --quiet              no progress bar\n"
    "\n"
    "Without -o or --play, audio streams to standard output when it is not a terminal.\n"
    "Exit status: 0 success, 1 failure, 2 usage error, 130 interrupted.\n";

static atomic_int interrupted;

static void on_signal(int sig) {
    (void)sig;
    atomic_store(&interrupted, 1);
}

/* Ctrl-C and SIGTERM stop the run cleanly; a closed output pipe is a write error, not a kill. */
static void catch_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

struct say_ctx {
    const char *text;
    int progress_bar;
    int to_stdout;
    int write_errno;
    json_t *words; /* NULL unless --timestamps */
    double audio_seconds;
    int play;
    const char *device;
    struct chorus_player *player;
    int play_status;
    char play_err[512];
};

static void draw_progress(const struct chorus_progress *p) {
    int width = 30;
    int fill = (int)(p->percent / 100.0 * width + 0.5);
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '-';
    bar[width] = 0;
    if (p->eta_seconds >= 0)
        fprintf(stderr, "\r[%s] %3.0f%%  %6.1fs audio  eta %4.1fs ", bar, p->percent,
                p->audio_seconds, p->eta_seconds);
    else
        fprintf(stderr, "\r[%s] %3.0f%%  %6.1fs audio           ", bar, p->percent, p->audio_seconds);
}

static int say_cb(const struct chorus_event *ev, void *ud) {
    struct say_ctx *c = ud;
    switch (ev->type) {
    case CHORUS_EVENT_CHUNK:
        c->audio_seconds = ev->chunk->start_time + (ev->chunk->sample_rate ? (double)ev->chunk->n_samples / ev->chunk->sample_rate : 0);
        if (c->play && ev->chunk->n_samples && ev->chunk->samples) {
            if (!c->player) {
                c->play_status = chorus_player_open(&c->player, ev->chunk->sample_rate, c->device,
                                                    c->play_err, sizeof c->play_err);
                if (c->play_status != CHORUS_OK) return 1;
            }
            c->play_status = chorus_player_write(c->player, ev->chunk->samples, ev->chunk->n_samples);
            if (c->play_status != CHORUS_OK) {
                snprintf(c->play_err, sizeof c->play_err, "playback failed on %s",
                         c->device ? c->device : "the default device");
                return 1;
            }
        }
        if (c->to_stdout && ev->chunk->data_len) {
            if (fwrite(ev->chunk->data, 1, ev->chunk->data_len, stdout) != ev->chunk->data_len ||
                fflush(stdout) != 0) {
                c->write_errno = errno ? errno : EIO;
                return 1;
            }
        }
        break;
    case CHORUS_EVENT_WORD:
        if (c->words) {
            const struct chorus_word *w = ev->word;
            json_t *o = json_object();
            json_object_set_new(o, "word", json_stringn(c->text + w->text_offset, w->text_len));
            json_object_set_new(o, "start", json_real(w->start));
            json_object_set_new(o, "end", json_real(w->end));
            json_object_set_new(o, "offset", json_integer((json_int_t)w->text_offset));
            json_object_set_new(o, "length", json_integer((json_int_t)w->text_len));
            json_array_append_new(c->words, o);
        }
        break;
    case CHORUS_EVENT_PROGRESS:
        if (c->progress_bar) draw_progress(ev->progress);
        break;
    case CHORUS_EVENT_DONE:
    case CHORUS_EVENT_ERROR:
    case CHORUS_EVENT_CANCELLED:
        if (c->progress_bar) fputs("\r\033[K", stderr);
        break;
    default:
        break;
    }
    return atomic_load(&interrupted) ? 1 : 0;
}

/* The file a symlink leads to, even one that does not exist yet (then one level of the link,
 * relative to its folder); NULL if path is no link. Free it. */
static char *link_target(const char *path) {
    struct stat lst;
    if (lstat(path, &lst) != 0 || !S_ISLNK(lst.st_mode)) return NULL;
    char *real = realpath(path, NULL);
    if (real) return real;
    char buf[PATH_MAX];
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    if (n <= 0) return NULL;
    buf[n] = 0;
    const char *slash = strrchr(path, '/');
    size_t dl = buf[0] == '/' || !slash ? 0 : (size_t)(slash - path + 1);
    char *out = malloc(dl + (size_t)n + 1);
    if (!out) return NULL;
    memcpy(out, path, dl);
    memcpy(out + dl, buf, (size_t)n + 1);
    return out;
}

/* Write all of s to fd. */
static int write_str(int fd, const char *s, size_t n) {
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A new file beside path (this process's id makes the name ours), mode 0666 less the umask as
 * the kernel applies it: umask() itself would change it for every thread. The fd, and its name
 * in *tmp (free it), or -1 with errno. */
static int create_beside(const char *path, char **tmp) {
    size_t pl = strlen(path);
    *tmp = malloc(pl + 40);
    if (!*tmp) return -1;
    int fd = -1;
    for (unsigned i = 0; i < 100 && fd < 0; i++) {
        snprintf(*tmp, pl + 40, "%s.%ld.%u.tmp", path, (long)getpid(), i);
        fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    return fd;
}

/* Write the timestamps JSON: in place to a device or FIFO that exists, else atomically (a temp
 * file renamed over the real target, symlinks followed). */
static int write_timestamps(const char *path, json_t *words) {
    char *s = json_dumps(words, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    if (!s) return -1;
    size_t n = strlen(s);
    s[n] = '\n'; /* json_dumps's NUL becomes the final newline; write n + 1 bytes */
    struct stat st;
    int ok;
    char *target = NULL, *tmp = NULL;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        ok = fd >= 0 && write_str(fd, s, n + 1) == 0;
        if (fd >= 0 && close(fd) < 0) ok = 0;
    } else {
        target = link_target(path);
        if (!target) target = strdup(path);
        int fd = target ? create_beside(target, &tmp) : -1;
        ok = fd >= 0 && write_str(fd, s, n + 1) == 0;
        if (fd >= 0 && close(fd) < 0) ok = 0;
        if (ok && rename(tmp, target) < 0) ok = 0;
        if (!ok && fd >= 0) {
            int e = errno;
            unlink(tmp);
            errno = e;
        }
    }
    if (!ok) cli_err("cannot write timestamps to %s: %s", path, strerror(errno ? errno : EIO));
    free(s);
    free(tmp);
    free(target);
    return ok ? 0 : -1;
}

/* --subtitles FILE: the collected word timings as SubRip or (for .vtt) WebVTT. */
static int write_subtitles(const char *path, const char *text, json_t *words) {
    size_t n = json_array_size(words);
    struct chorus_word *w = calloc(n ? n : 1, sizeof *w);
    if (!w) return -1;
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(words, i);
        w[i].text_offset = (size_t)json_integer_value(json_object_get(o, "offset"));
        w[i].text_len = (size_t)json_integer_value(json_object_get(o, "length"));
        w[i].start = json_real_value(json_object_get(o, "start"));
        w[i].end = json_real_value(json_object_get(o, "end"));
    }
    size_t pl = strlen(path);
    const char *kind = pl > 4 && !strcmp(path + pl - 4, ".vtt") ? "vtt" : "srt";
    char err[512] = "";
    int rc = chorus_subtitles_write(path, kind, text, w, n, 0, err, sizeof err);
    free(w);
    if (rc != CHORUS_OK) cli_err("cannot write subtitles: %s", err[0] ? err : chorus_strerror(rc));
    return rc == CHORUS_OK ? 0 : -1;
}

/* --stream-input: append standard input to a text stream as it arrives. */
static int say_stream_input(struct chorus_request *r, int play, const char *device, int quiet,
                            const char *ts_path) {
    if (!play && isatty(1)) {
        cli_err("no output: --stream-input writes to standard output (redirect it) or --play");
        return EXIT_USAGE;
    }
    if (r->format == CHORUS_FORMAT_DEFAULT) r->format = CHORUS_FORMAT_WAV;
    struct say_ctx ctx = {0};
    ctx.to_stdout = !play;
    ctx.progress_bar = 0;
    ctx.play = play;
    ctx.device = device;
    (void)quiet;
    if (ts_path) ctx.words = json_array();
    r->callback = say_cb;
    r->userdata = &ctx;
    catch_signals();
    struct chorus_engine *e = cli_engine();
    if (!e) {
        json_decref(ctx.words);
        return 1;
    }
    struct chorus_textstream *ts = NULL;
    int rc = chorus_textstream_open(e, r, &ts);
    char *all = NULL; /* everything read, for --timestamps' words */
    size_t all_len = 0;
    char buf[4096];
    while (rc == CHORUS_OK && !atomic_load(&interrupted)) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            cli_err("cannot read standard input: %s", strerror(errno));
            rc = CHORUS_E_IO;
            break;
        }
        if (n == 0) {
            rc = chorus_textstream_finish(ts);
            break;
        }
        if (ts_path) {
            char *a = realloc(all, all_len + (size_t)n + 1);
            if (!a) {
                rc = CHORUS_E_NOMEM;
                break;
            }
            all = a;
            memcpy(all + all_len, buf, (size_t)n);
            all_len += (size_t)n;
            all[all_len] = 0;
            ctx.text = all;
        }
        rc = chorus_textstream_append(ts, buf, (size_t)n);
    }
    if (ctx.player && chorus_player_close(ctx.player) != CHORUS_OK && rc == CHORUS_OK) rc = CHORUS_E_IO;
    int status = 0;
    if (atomic_load(&interrupted)) {
        cli_err("interrupted");
        status = 130;
    } else if (ctx.write_errno) {
        status = ctx.write_errno == EPIPE ? 0 : 1; /* a reader that stops early is a normal end */
        if (status) cli_err("cannot write audio to standard output: %s", strerror(ctx.write_errno));
    } else if (rc != CHORUS_OK) {
        cli_err("%s", ts ? chorus_textstream_errmsg(ts) : chorus_strerror(rc));
        status = 1;
    } else if (ts_path && write_timestamps(ts_path, ctx.words) < 0) {
        status = 1;
    }
    chorus_textstream_destroy(ts);
    json_decref(ctx.words);
    free(all);
    chorus_engine_destroy(e);
    return status;
}

struct say_args {
    struct chorus_request r;
    const char *file, *out, *ts_path, *fmt, *subs, *device;
    int quiet, play, estimate, stream_input;
    struct chorus_option kv[64];
    size_t nkv;
};

static int parse_opt_kv(struct say_args *a, char *arg) {
    char *eq = strchr(arg, '=');
    if (!eq || eq == arg) {
        cli_err("invalid --opt '%s': use KEY=VALUE", arg);
        return EXIT_USAGE;
    }
    if (a->nkv == sizeof a->kv / sizeof a->kv[0]) {
        cli_err("too many --opt options");
        return EXIT_USAGE;
    }
    *eq = 0;
    a->kv[a->nkv].key = arg;
    a->kv[a->nkv].value = eq + 1;
    a->nkv++;
    return 0;
}

static int parse_number_opt(int c, const char *arg, struct chorus_request *r) {
    char *end;
    if (c == 's') {
        r->speed = strtof(arg, &end);
        if (end == arg || *end || !(r->speed >= 0.25f && r->speed <= 4.0f)) {
            cli_err("invalid --speed '%s': use a number from 0.25 to 4.0", arg);
            return EXIT_USAGE;
        }
        return 0;
    }
    long v = strtol(arg, &end, 10);
    if (end == arg || *end || v < 1000 || v > 384000) {
        cli_err("invalid --sample-rate '%s': use a rate in Hz, e.g. 24000", arg);
        return EXIT_USAGE;
    }
    r->sample_rate = (int)v;
    return 0;
}

/* The options into a; returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct say_args *a) {
    enum { OPT_SSML = 256, OPT_TS, OPT_OPT, OPT_PHON, OPT_NONORM, OPT_PLAY, OPT_DEVICE, OPT_ESTIMATE, OPT_NOCACHE,
           OPT_STREAMIN, OPT_SUBS, OPT_PRON };
    static const struct option opts[] = {
        {"backend", required_argument, 0, 'b'}, {"voice", required_argument, 0, 'v'},
        {"model", required_argument, 0, 'm'},   {"lang", required_argument, 0, 'l'},
        {"file", required_argument, 0, 'f'},    {"output", required_argument, 0, 'o'},
        {"format", required_argument, 0, 'F'},  {"speed", required_argument, 0, 's'},
        {"sample-rate", required_argument, 0, 'r'}, {"ssml", no_argument, 0, OPT_SSML},
        {"phonemes", no_argument, 0, OPT_PHON}, {"no-normalize", no_argument, 0, OPT_NONORM},
        {"timestamps", required_argument, 0, OPT_TS}, {"opt", required_argument, 0, OPT_OPT},
        {"estimate", no_argument, 0, OPT_ESTIMATE}, {"play", no_argument, 0, OPT_PLAY},
        {"device", required_argument, 0, OPT_DEVICE},
        {"quiet", no_argument, 0, 'q'},         {"help", no_argument, 0, 'h'},
        {"no-cache", no_argument, 0, OPT_NOCACHE}, {"stream-input", no_argument, 0, OPT_STREAMIN},
        {"subtitles", required_argument, 0, OPT_SUBS},
        {"pronunciations", required_argument, 0, OPT_PRON},
        {0, 0, 0, 0}};
    struct chorus_request *r = &a->r;
    int c, st = 0;
    optind = 1;
    while (!st && (c = getopt_long(argc, argv, "b:v:m:l:f:o:F:s:r:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'b': r->backend = optarg; break;
        case 'v': r->voice = optarg; break;
        case 'm': r->model = optarg; break;
        case 'l': r->language = optarg; break;
        case 'f': a->file = optarg; break;
        case 'o': a->out = optarg; break;
        case 'F': a->fmt = optarg; break;
        case 's':
        case 'r': st = parse_number_opt(c, optarg, r); break;
        case OPT_SSML: r->input = CHORUS_INPUT_SSML; break;
        case OPT_PHON: r->input = CHORUS_INPUT_PHONEMES; break;
        case OPT_NONORM: r->flags |= CHORUS_FLAG_NO_NORMALIZE; break;
        case OPT_PRON: cli_pronunciations = optarg; break;
        case OPT_NOCACHE: r->flags |= CHORUS_FLAG_NO_CACHE; break;
        case OPT_TS: a->ts_path = optarg; break;
        case OPT_STREAMIN: a->stream_input = 1; break;
        case OPT_SUBS: a->subs = optarg; break;
        case OPT_OPT: st = parse_opt_kv(a, optarg); break;
        case OPT_PLAY: a->play = 1; break;
        case OPT_ESTIMATE: a->estimate = 1; break;
        case OPT_DEVICE: a->device = optarg; break;
        case 'q': a->quiet = 1; break;
        case 'h': fputs(say_usage, stdout); return 0;
        default: cli_err("run 'chorus say --help' for its options"); return EXIT_USAGE;
        }
    }
    if (st) return st;
    r->options = a->kv;
    r->n_options = a->nkv;
    if (a->fmt) {
        r->format = chorus_format_from_name(a->fmt);
        if (r->format == CHORUS_FORMAT_DEFAULT) {
            cli_err("unknown format '%s': use wav, pcm, mp3, opus, flac or aac", a->fmt);
            return EXIT_USAGE;
        }
    }
    if (a->file && optind < argc) {
        cli_err("give the text either as arguments or with -f, not both");
        return EXIT_USAGE;
    }
    return -1;
}

/* The text: the arguments, -f FILE, or standard input. Returns 0, or the exit status. */
static int read_text(const struct say_args *a, int argc, char **argv, char **text, size_t *len) {
    const char *file = a->file;
    *text = NULL;
    *len = 0;
    if (optind < argc) {
        size_t total = 0;
        for (int i = optind; i < argc; i++) total += strlen(argv[i]) + 1;
        if (!(*text = malloc(total + 1))) return 1;
        (*text)[0] = 0;
        for (int i = optind; i < argc; i++) {
            if (i > optind) strcat(*text, " ");
            strcat(*text, argv[i]);
        }
        *len = strlen(*text);
    } else if (file && strcmp(file, "-")) {
        FILE *f = fopen(file, "rb");
        if (!f) {
            cli_err("cannot read %s: %s", file, strerror(errno));
            return 1;
        }
        *text = cli_read_all(f, len);
        int e = errno;
        fclose(f);
        if (!*text) {
            cli_err("cannot read %s: %s", file, strerror(e));
            return 1;
        }
    } else {
        if (!file && isatty(0)) {
            cli_err("no text: give it as arguments, with -f FILE, or on standard input");
            return EXIT_USAGE;
        }
        if (!(*text = cli_read_all(stdin, len))) {
            cli_err("cannot read standard input: %s", strerror(errno));
            return 1;
        }
    }
    if (*len == 0) { /* text_len 0 means strlen: make "empty" explicit */
        cli_err("text is empty: nothing to speak");
        free(*text);
        *text = NULL;
        return 1;
    }
    return 0;
}

/* --estimate: what the request would cost, without sending it. */
static int print_estimate(const struct chorus_request *r) {
    struct chorus_engine *ee = cli_engine();
    if (!ee) return 1;
    struct chorus_estimate est = {.size = sizeof est};
    int erc = chorus_estimate(ee, r, &est);
    if (erc != CHORUS_OK) {
        cli_err("cannot estimate: %s", chorus_engine_errmsg(ee)[0] ? chorus_engine_errmsg(ee) : chorus_strerror(erc));
    } else {
        printf("backend %s, provider %s, model %s\n", est.backend, est.provider, est.model && *est.model ? est.model : "-");
        printf("%zu characters", est.characters);
        if (est.input_tokens > 0) printf(", ~%.0f input tokens", est.input_tokens);
        if (est.output_tokens > 0) printf(", ~%.0f audio tokens", est.output_tokens);
        if (est.credits > 0) printf(", %.0f credits", est.credits);
        printf("\nestimated cost: $%.4f%s%s%s\n", est.usd, est.basis ? " (" : "", est.basis ? est.basis : "", est.basis ? ")" : "");
    }
    chorus_engine_destroy(ee);
    return erc == CHORUS_OK ? 0 : 1;
}

/* Where the audio goes: 1 standard output, 0 a file or the player only, -1 nowhere (usage). */
static int choose_stdout(const struct say_args *a) {
    if (!a->out && a->play) return 0;
    if (!a->out) {
        if (isatty(1)) {
            cli_err("no output: use -o FILE, or -o - to stream to standard output");
            return -1;
        }
        return 1;
    }
    return !strcmp(a->out, "-");
}

/* Stream to standard output; one redirected to a regular file, at its start and not in append
 * mode (pwrite appends there on Linux), gets the file -o would make: the stream is opened as
 * seekable output (an MP3's Info frame) and the exact header is written over the start. */
static int run_to_stdout(struct chorus_engine *e, struct chorus_request *r, struct say_ctx *ctx,
                         char *err, size_t errlen) {
    struct stat st;
    int fl = fcntl(1, F_GETFL);
    int seekable = ctx->to_stdout && fstat(1, &st) == 0 && S_ISREG(st.st_mode) &&
                   lseek(1, 0, SEEK_CUR) == 0 && fl >= 0 && !(fl & O_APPEND);
    if (seekable) r->flags |= CHORUS_FLAG_SEEKABLE_OUTPUT;
    if (r->format == CHORUS_FORMAT_DEFAULT) r->format = CHORUS_FORMAT_WAV;
    struct chorus_stream *s = NULL;
    int rc = chorus_stream_open(e, r, &s);
    if (rc == CHORUS_OK) rc = chorus_stream_run(s);
    if (rc != CHORUS_OK) snprintf(err, errlen, "%s", s ? chorus_stream_errmsg(s) : chorus_strerror(rc));
    unsigned char hdr[CHORUS_FINAL_HEADER_MAX];
    size_t hl = 0;
    if (rc == CHORUS_OK && seekable) {
        rc = chorus_stream_final_header(s, hdr, sizeof hdr, &hl);
        if (rc != CHORUS_OK) snprintf(err, errlen, "%s", chorus_stream_errmsg(s));
        else if (hl && pwrite(1, hdr, hl, 0) != (ssize_t)hl) ctx->write_errno = errno;
    }
    chorus_stream_destroy(s);
    return rc;
}

/* The outcome after the stream: playback and write errors, then the exit status. */
static int say_status(const struct say_args *a, struct say_ctx *ctx, int rc, char *err, size_t errlen) {
    if (ctx->player && chorus_player_close(ctx->player) != CHORUS_OK && rc == CHORUS_OK) {
        snprintf(err, errlen, "playback failed on %s", a->device ? a->device : "the default device");
        rc = CHORUS_E_IO;
    }
    if (ctx->play_status != CHORUS_OK && !atomic_load(&interrupted)) {
        snprintf(err, errlen, "%s", ctx->play_err);
        rc = ctx->play_status;
    }
    /* a reader that stops early (say -o - | head) is a normal, quiet end */
    if (ctx->write_errno == EPIPE) rc = CHORUS_OK, ctx->write_errno = 0;
    if (ctx->write_errno && !atomic_load(&interrupted)) {
        snprintf(err, errlen, "cannot write audio to standard output: %s", strerror(ctx->write_errno));
        rc = CHORUS_E_IO;
    }
    if (atomic_load(&interrupted)) {
        cli_err("interrupted%s", ctx->to_stdout ? "" : "; no file was written");
        return 130;
    }
    if (rc != CHORUS_OK) {
        cli_err("%s", err[0] ? err : chorus_strerror(rc));
        return 1;
    }
    if (a->ts_path && write_timestamps(a->ts_path, ctx->words) < 0) return 1;
    if (a->subs && write_subtitles(a->subs, ctx->text, ctx->words) < 0) return 1;
    return 0;
}

int cli_say(int argc, char **argv) {
    struct say_args a;
    memset(&a, 0, sizeof a);
    a.r = chorus_request_default();
    int st = parse_args(argc, argv, &a);
    if (st >= 0) return st;
    struct chorus_request *r = &a.r;
    if (a.stream_input) {
        if (optind < argc || (a.file && strcmp(a.file, "-")) || (a.out && strcmp(a.out, "-")) ||
            a.estimate || a.subs || r->input != CHORUS_INPUT_TEXT) {
            cli_err("--stream-input reads standard input and writes standard output or --play; "
                    "it takes no TEXT, -f FILE, -o FILE, --ssml, --phonemes or --estimate");
            return EXIT_USAGE;
        }
        return say_stream_input(r, a.play, a.device, a.quiet, a.ts_path);
    }
    char *text;
    size_t len;
    if ((st = read_text(&a, argc, argv, &text, &len)) != 0) return st;
    r->text = text;
    r->text_len = len;
    if (a.estimate) {
        st = print_estimate(r);
        free(text);
        return st;
    }
    /* nobody looks at the samples: let a remote engine's bytes pass through untouched */
    if (!a.play) r->flags |= CHORUS_FLAG_NO_SAMPLES;
    int to_stdout = choose_stdout(&a);
    if (to_stdout < 0) {
        free(text);
        return EXIT_USAGE;
    }
    struct say_ctx ctx = {0};
    ctx.text = text;
    ctx.to_stdout = to_stdout;
    ctx.progress_bar = !a.quiet && isatty(2);
    ctx.play = a.play;
    ctx.device = a.device;
    if (a.ts_path || a.subs) ctx.words = json_array();
    r->callback = say_cb;
    r->userdata = &ctx;
    catch_signals();
    struct chorus_engine *e = cli_engine();
    if (!e) {
        free(text);
        json_decref(ctx.words);
        return 1;
    }
    char err[1024] = "";
    int rc = a.out && !to_stdout ? chorus_synthesize_file(e, r, a.out, err, sizeof err)
                                 : run_to_stdout(e, r, &ctx, err, sizeof err);
    st = say_status(&a, &ctx, rc, err, sizeof err);
    json_decref(ctx.words);
    chorus_engine_destroy(e);
    free(text);
    return st;
}
