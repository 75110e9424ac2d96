/* book.c — `chorus book`: a book (EPUB, Markdown, HTML, text) in, a chaptered audiobook out,
 * resumable. The work is chorus_book_render() (chorus/book.h); this file reads options, draws
 * progress and prints the summary. */
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "chorus/book.h"
#include "cli.h"

static const char book_usage[] =
    "usage: chorus book [options] INPUT -o OUTPUT\n"
    "Read a book aloud into a chaptered audiobook. INPUT: .epub (EPUB 2 or 3), .md, .html or\n"
    ".txt. OUTPUT: .m4b (AAC with chapters, tags and cover) or .mp3 (ID3 chapters); with\n"
    "--split, a folder getting one file per chapter.\n"
    "\n"
    "  -o, --output PATH        the audiobook file (or folder with --split)\n"
    "      --list               show the chapters and their sizes, speak nothing\n"
    "      --text N             print the text chapter N will be read from, speak nothing\n"
    "      --chapters LIST      only these chapters, as --list numbers them: 3-7,9\n"
    "      --split              one file per chapter into the folder OUTPUT\n"
    "  -F, --format FMT         format of --split files: mp3 (default), wav, flac, opus, aac\n"
    "  -b, --backend NAME       engine (default: config, else the best local engine)\n"
    "  -v, --voice NAME         voice (default: from the book's language where the engine\n"
    "                           takes language codes)\n"
    "      --dialogue-voice NAME  a second voice for text in quotation marks\n"
    "  -m, --model NAME         the backend's model\n"
    "  -s, --speed X            speaking rate (default 1.0)\n"
    "  -r, --sample-rate HZ     output sample rate (default 24000)\n"
    "      --subtitles srt|vtt  also write subtitles beside the output (read-along)\n"
    "      --subtitle-words     one subtitle cue per word (default: per sentence)\n"
    "      --image-alt          read images' alt text\n"
    "      --job-dir DIR        where finished chapters are kept (default: OUTPUT.chorus-job)\n"
    "      --redo N             speak chapter N again even if it is done\n"
    "  -q, --quiet              no progress display\n"
    "\n"
    "Interrupted (Ctrl-C, a crash, a reboot)? Run the same command again: it continues with\n"
    "the first unfinished chapter. Exit status: 0 success, 1 failure, 2 usage error,\n"
    "130 interrupted.\n";

static atomic_int interrupted;

static void on_signal(int sig) {
    (void)sig;
    atomic_store(&interrupted, 1);
}

struct book_ui {
    int tty, quiet;
    double t0;
    size_t chapters;
    double audio; /* seconds of audio in the book (earlier runs' chapters too) */
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void hms(double s, char *buf, size_t cap) {
    long t = (long)(s + 0.5);
    snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

static int on_book(const struct chorus_book_event *ev, void *ud) {
    struct book_ui *ui = ud;
    if (atomic_load(&interrupted)) return 1;
    ui->chapters = ev->of;
    ui->audio = ev->audio_seconds;
    if (ui->quiet) return 0;
    char audio[32], eta[32] = "?";
    hms(ev->audio_seconds, audio, sizeof audio);
    double el = now() - ui->t0;
    if (ev->chars_done > 0 && el > 1) {
        /* characters per second of this run (skipped chapters excluded would be better; fine) */
        double rate = ev->chars_done / el;
        hms((double)(ev->chars_total - ev->chars_done) / rate, eta, sizeof eta);
    }
    if (ev->type == CHORUS_BOOK_CHAPTER_START && !ui->tty)
        fprintf(stderr, "chapter %zu of %zu: %s%s\n", ev->nth, ev->of, ev->title,
                ev->skipped ? " (done earlier)" : "");
    if (ui->tty && ev->type != CHORUS_BOOK_ASSEMBLING)
        fprintf(stderr, "\r\033[Kchapter %zu of %zu  %zu/%zu chars  %s of audio  ETA %s  %.40s",
                ev->nth, ev->of, ev->chars_done, ev->chars_total, audio, eta, ev->title);
    if (ev->type == CHORUS_BOOK_ASSEMBLING)
        fprintf(stderr, "%sassembling the audiobook\n", ui->tty ? "\r\033[K" : "");
    return 0;
}

static int list_chapters(struct chorus_book *b) {
    printf("%s%s%s (%s, %s)\n", chorus_book_title(b), *chorus_book_author(b) ? " — " : "",
           chorus_book_author(b), chorus_book_format(b),
           *chorus_book_language(b) ? chorus_book_language(b) : "language not given");
    size_t total = 0;
    for (size_t i = 0; i < chorus_book_chapter_count(b); i++) {
        char *t = NULL;
        size_t len = 0;
        if (chorus_book_chapter_text(b, i, &t, &len) != CHORUS_OK) {
            cli_err("%s", chorus_book_errmsg(b));
            return 1;
        }
        size_t chars = 0;
        for (size_t k = 0; k < len; k++) chars += ((unsigned char)t[k] & 0xC0) != 0x80;
        chorus_free(t);
        total += chars;
        /* ~15 characters a second is an ordinary reading pace */
        char d[32];
        hms(chars / 15.0, d, sizeof d);
        printf("%4zu  %8zu chars  ~%s  %s\n", i + 1, chars, d, chorus_book_chapter_title(b, i));
    }
    char d[32];
    hms(total / 15.0, d, sizeof d);
    printf("%zu chapters, %zu characters, about %s of audio\n", chorus_book_chapter_count(b),
           total, d);
    return 0;
}

struct book_args {
    struct chorus_book_render_options o;
    const char *input;
    int list, quiet, image_alt;
    size_t text; /* --text N */
};

static int parse_args(int argc, char **argv, struct book_args *a) {
    enum { O_LIST = 256, O_CHAPTERS, O_SPLIT, O_DIALOGUE, O_SUBS, O_SUBWORDS, O_ALT, O_JOB, O_REDO, O_TEXT };
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},     {"list", no_argument, 0, O_LIST},
        {"chapters", required_argument, 0, O_CHAPTERS}, {"split", no_argument, 0, O_SPLIT},
        {"format", required_argument, 0, 'F'},     {"backend", required_argument, 0, 'b'},
        {"voice", required_argument, 0, 'v'},      {"dialogue-voice", required_argument, 0, O_DIALOGUE},
        {"model", required_argument, 0, 'm'},      {"speed", required_argument, 0, 's'},
        {"sample-rate", required_argument, 0, 'r'}, {"subtitles", required_argument, 0, O_SUBS},
        {"subtitle-words", no_argument, 0, O_SUBWORDS}, {"image-alt", no_argument, 0, O_ALT},
        {"job-dir", required_argument, 0, O_JOB},  {"redo", required_argument, 0, O_REDO},
        {"text", required_argument, 0, O_TEXT},    {"quiet", no_argument, 0, 'q'},            {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "o:F:b:v:m:s:r:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': a->o.output = optarg; break;
        case O_LIST: a->list = 1; break;
        case O_CHAPTERS: a->o.chapters = optarg; break;
        case O_SPLIT: a->o.split = 1; break;
        case 'F':
            a->o.format = chorus_format_from_name(optarg);
            if (!a->o.format) {
                cli_err("unknown format '%s': use mp3, wav, flac, opus or aac", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'b': a->o.backend = optarg; break;
        case 'v': a->o.voice = optarg; break;
        case O_DIALOGUE: a->o.dialogue_voice = optarg; break;
        case 'm': a->o.model = optarg; break;
        case 's':
            a->o.speed = strtof(optarg, &end);
            if (*end || a->o.speed < 0.25f || a->o.speed > 4.0f) {
                cli_err("--speed %s: give a number from 0.25 to 4.0", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'r':
            a->o.sample_rate = (int)strtol(optarg, &end, 10);
            if (*end || a->o.sample_rate < 8000 || a->o.sample_rate > 48000) {
                cli_err("--sample-rate %s: give a rate from 8000 to 48000 Hz", optarg);
                return EXIT_USAGE;
            }
            break;
        case O_SUBS:
            if (strcmp(optarg, "srt") && strcmp(optarg, "vtt")) {
                cli_err("--subtitles %s: use srt or vtt", optarg);
                return EXIT_USAGE;
            }
            a->o.subtitles = optarg;
            break;
        case O_SUBWORDS: a->o.subtitle_words = 1; break;
        case O_ALT: a->image_alt = 1; break;
        case O_JOB: a->o.job_dir = optarg; break;
        case O_REDO:
            a->o.redo = strtoul(optarg, &end, 10);
            if (*end || !a->o.redo) {
                cli_err("--redo %s: give a chapter number as --list shows it", optarg);
                return EXIT_USAGE;
            }
            break;
        case O_TEXT:
            a->text = strtoul(optarg, &end, 10);
            if (*end || !a->text) {
                cli_err("--text %s: give a chapter number as --list shows it", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'q': a->quiet = 1; break;
        case 'h': fputs(book_usage, stdout); return -1;
        default: fputs(book_usage, stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_err("give one book file (run 'chorus book --help')");
        return EXIT_USAGE;
    }
    a->input = argv[optind];
    if (!a->list && !a->text && !a->o.output) {
        cli_err("no output: add -o book.m4b (or --list to see the chapters)");
        return EXIT_USAGE;
    }
    return 0;
}

static void summary(const struct book_args *a, const struct book_ui *ui, double wall) {
    char w[32], d[32];
    hms(wall, w, sizeof w);
    hms(ui->audio, d, sizeof d);
    fprintf(stderr, "wrote %s: %zu chapters, %s of audio in %s (%.1fx real time)\n",
            a->o.output, ui->chapters, d, w, wall > 0 ? ui->audio / wall : 0.0);
}

int cli_book(int argc, char **argv) {
    struct book_args a = {.o = chorus_book_render_default()};
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;
    struct chorus_book *b = NULL;
    rc = chorus_book_open(a.input, &b);
    if (rc != CHORUS_OK) {
        cli_err("%s", b ? chorus_book_errmsg(b) : chorus_strerror(rc));
        chorus_book_close(b);
        return 1;
    }
    chorus_book_set_image_alt(b, a.image_alt);
    if (a.text) {
        char *t = NULL;
        rc = chorus_book_chapter_text(b, a.text - 1, &t, NULL);
        if (rc == CHORUS_OK) printf("%s\n", t);
        else cli_err("%s", chorus_book_errmsg(b));
        chorus_free(t);
        chorus_book_close(b);
        return rc == CHORUS_OK ? 0 : 1;
    }
    if (a.list) {
        rc = list_chapters(b);
        chorus_book_close(b);
        return rc;
    }
    struct chorus_engine *e = cli_engine();
    if (!e) {
        chorus_book_close(b);
        return 1;
    }
    /* the callback runs in quiet mode too: it stops the render on a signal */
    struct book_ui ui = {.tty = !a.quiet && isatty(2), .quiet = a.quiet, .t0 = now()};
    a.o.callback = on_book;
    a.o.userdata = &ui;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    rc = chorus_book_render(e, b, &a.o);
    if (ui.tty) fputs("\r\033[K", stderr);
    int status = 0;
    if (rc == CHORUS_E_CANCELLED || atomic_load(&interrupted)) {
        cli_err("interrupted; the finished chapters are kept: run the same command to continue");
        status = 130;
    } else if (rc != CHORUS_OK) {
        cli_err("%s", chorus_book_errmsg(b));
        status = 1;
    } else if (!a.quiet) {
        summary(&a, &ui, now() - ui.t0);
    }
    chorus_book_close(b);
    chorus_engine_destroy(e);
    return status;
}
