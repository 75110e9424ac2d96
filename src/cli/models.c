/* models.c — `chorus models`: where local engines' models live, and installing them. */
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char models_usage[] =
    "usage: chorus models [list]\n"
    "       chorus models path NAME\n"
    "       chorus models pull NAME [--voices LIST|all] [--from URL] [--manifest FILE]\n"
    "       chorus models rm NAME\n"
    "Local engines' model files. Models: kokoro.\n"
    "\n"
    "  list          each model, its folder and whether its backend can run\n"
    "  path NAME     the folder NAME is installed into and looked up in\n"
    "  pull NAME     download NAME's files into that folder: each one verified against its\n"
    "                SHA-256 and installed atomically; an interrupted pull resumes\n"
    "    --voices LIST  comma-separated voice packs (default: af_heart, af_bella, am_michael,\n"
    "                   am_fenrir, bf_emma; 'all' for all 54)\n"
    "    --from URL     download from this base URL instead of the published files (pinned to\n"
    "                   one revision; $CHORUS_MODELS_URL or [models] kokoro_url also set it)\n"
    "    --manifest F   checksums to verify against, sha256sum format (for a mirror or your own\n"
    "                   weights; default: the published files' pinned checksums)\n"
    "                kokoro also gets misaki's English lexicons (hexgrad/misaki, pinned; a\n"
    "                mirror serves them as misaki/us_gold.json...), which its G2P reads first\n"
    "  rm NAME       remove NAME's files\n";

static atomic_int interrupted;
static void on_signal(int sig) {
    (void)sig;
    atomic_store(&interrupted, 1);
}

struct pull_ctx {
    int bar;
    char last[128];
};

static int on_progress(const char *file, uint64_t done, uint64_t total, void *ud) {
    struct pull_ctx *c = ud;
    if (c->bar) {
        if (total) fprintf(stderr, "\r%-28s %6.1f / %.1f MB ", file, done / 1e6, total / 1e6);
        else fprintf(stderr, "\r%-28s %6.1f MB ", file, done / 1e6);
    }
    if (strcmp(c->last, file)) snprintf(c->last, sizeof c->last, "%s", file);
    return atomic_load(&interrupted);
}

int cli_models(int argc, char **argv) {
    const char *what = argc > 1 ? argv[1] : "list";
    if (!strcmp(what, "--help") || !strcmp(what, "-h")) {
        fputs(models_usage, stdout);
        return 0;
    }
    if (!strcmp(what, "list")) {
        struct chorus_engine *e = cli_engine();
        if (!e) return 1;
        /* the engines with a downloadable model (their descriptor's, named as the engine) */
        char dir[4096];
        struct chorus_backend_info *b;
        size_t n;
        if (chorus_list_backends(e, &b, &n) == CHORUS_OK) {
            for (size_t i = 0; i < n; i++) {
                if (chorus_model_dir(b[i].name, dir, sizeof dir) != CHORUS_OK) continue;
                printf("%-8s %s\n", b[i].name, dir);
                if (b[i].available)
                    printf("         installed: the %s backend can run\n", b[i].name);
                else
                    printf("         %s\n", b[i].reason);
            }
            chorus_backend_infos_free(b, n);
        }
        chorus_engine_destroy(e);
        return 0;
    }
    if (strcmp(what, "path") && strcmp(what, "pull") && strcmp(what, "rm")) {
        cli_err("unknown models command '%s': use list, path, pull or rm", what);
        return EXIT_USAGE;
    }
    static const struct option opts[] = {{"voices", required_argument, 0, 'v'},
                                         {"from", required_argument, 0, 'f'},
                                         {"manifest", required_argument, 0, 'm'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *voices = NULL, *from = NULL, *manifest = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'v': voices = optarg; break;
        case 'f': from = optarg; break;
        case 'm': manifest = optarg; break;
        case 'h': fputs(models_usage, stdout); return 0;
        default: cli_err("run 'chorus models --help' for its options"); return EXIT_USAGE;
        }
    }
    if (optind + 1 != argc - 1) {
        cli_err("give one model name, e.g. 'chorus models %s kokoro'", what);
        return EXIT_USAGE;
    }
    const char *name = argv[1 + optind];
    char dir[4096];
    if (chorus_model_dir(name, dir, sizeof dir) != CHORUS_OK) {
        cli_err("unknown model '%s'; models chorus can install: kokoro", name);
        return 1;
    }
    if (!strcmp(what, "path")) {
        puts(dir);
        return 0;
    }
    if (!strcmp(what, "rm")) {
        char err[1024] = "";
        if (chorus_model_remove(name, err, sizeof err) != CHORUS_OK) {
            cli_err("%s", err);
            return 1;
        }
        fprintf(stderr, "chorus: removed %s from %s\n", name, dir);
        return 0;
    }
    /* voices list: split on commas */
    const char *vlist[128];
    size_t nv = 0;
    char *vcopy = voices ? strdup(voices) : NULL;
    for (char *tok = vcopy ? strtok(vcopy, ",") : NULL; tok && nv < 127; tok = strtok(NULL, ","))
        vlist[nv++] = tok;
    vlist[nv] = NULL;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct chorus_engine *e = cli_engine();
    if (!e) {
        free(vcopy);
        return 1;
    }
    struct pull_ctx ctx = {isatty(2), ""};
    char err[1024] = "";
    int rc = chorus_model_pull(e, name, from, manifest, voices ? vlist : NULL, on_progress, &ctx, err, sizeof err);
    if (ctx.bar) fputs("\r\033[K", stderr);
    int status = 0;
    if (atomic_load(&interrupted)) {
        cli_err("interrupted; files already complete were kept, no partial file was left");
        status = 130;
    } else if (rc != CHORUS_OK) {
        cli_err("%s", err[0] ? err : chorus_strerror(rc));
        status = 1;
    } else {
        fprintf(stderr, "chorus: %s installed in %s\n", name, dir);
    }
    chorus_engine_destroy(e);
    free(vcopy);
    return status;
}
