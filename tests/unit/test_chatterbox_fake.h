/*
 * test_chatterbox_fake.h — start and stop tests/fakes/fake_chatterbox.py from C tests, and read
 * its request log. Header-only (static functions), included by tests/unit/test_chatterbox*.c.
 *
 *   struct cbfake f;
 *   cbfake_start(&f, "devnen", "--garble-seeds", "101", NULL);   // 0 on success
 *   ... CHATTERBOX_URL=f.base ...
 *   json_t *reqs = cbfake_requests(&f);   // array of logged requests (json_decref it)
 *   cbfake_stop(&f);
 */
#ifndef CHORUS_TEST_CHATTERBOX_FAKE_H
#define CHORUS_TEST_CHATTERBOX_FAKE_H

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

struct cbfake {
    pid_t pid;
    int port;
    char base[64];
    char log[256];
};

static pid_t cbfake_live_[8];
static void cbfake_reap_all_(void) {
    for (int i = 0; i < 8; i++)
        if (cbfake_live_[i] > 0) {
            kill(cbfake_live_[i], SIGTERM);
            waitpid(cbfake_live_[i], NULL, 0);
            cbfake_live_[i] = 0;
        }
}
static void cbfake_track_(pid_t pid, int add) {
    static int registered;
    if (!registered) registered = atexit(cbfake_reap_all_) == 0;
    for (int i = 0; i < 8; i++) {
        if (add && cbfake_live_[i] == 0) {
            cbfake_live_[i] = pid;
            return;
        }
        if (!add && cbfake_live_[i] == pid) {
            cbfake_live_[i] = 0;
            return;
        }
    }
}

static const char *cbfake_script(void) {
    static char path[1024];
    const char *env = getenv("CHORUS_FAKES");
    if (env && *env) {
        snprintf(path, sizeof path, "%s/fake_chatterbox.py", env);
        return path;
    }
    snprintf(path, sizeof path, "%s", __FILE__);
    char *slash = strrchr(path, '/');
    if (slash) *slash = '\0';
    size_t l = strlen(path);
    snprintf(path + l, sizeof path - l, "/../fakes/fake_chatterbox.py");
    return path;
}

/* api ("devnen" | "travisvn"), then extra arguments, NULL-terminated. 0 on success. */
static int cbfake_start(struct cbfake *f, const char *api, ...) {
    memset(f, 0, sizeof *f);
    snprintf(f->log, sizeof f->log, "/tmp/chorus-cbfake-%d-%ld.jsonl", (int)getpid(),
             (long)random());
    unlink(f->log);
    const char *argv[40];
    int n = 0;
    argv[n++] = "python3";
    argv[n++] = cbfake_script();
    argv[n++] = "--api";
    argv[n++] = api;
    argv[n++] = "--log";
    argv[n++] = f->log;
    va_list ap;
    va_start(ap, api);
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < 38) argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    int pfd[2];
    if (pipe(pfd) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(pfd[1], 1);
        if (!getenv("CHORUS_FAKE_DEBUG")) {
            int nul = open("/dev/null", O_WRONLY);
            if (nul >= 0) dup2(nul, 2);
        }
        close(pfd[0]);
        close(pfd[1]);
        execvp("python3", (char *const *)argv);
        _exit(127);
    }
    close(pfd[1]);
    f->pid = pid;
    cbfake_track_(pid, 1);
    FILE *in = fdopen(pfd[0], "r");
    char line[128] = "";
    if (!in || !fgets(line, sizeof line, in) || sscanf(line, "PORT %d", &f->port) != 1) {
        if (in) fclose(in);
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        cbfake_track_(pid, 0);
        f->pid = 0;
        return -1;
    }
    fclose(in);
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%d", f->port);
    return 0;
}

static void cbfake_stop(struct cbfake *f) {
    if (f->pid > 0) {
        kill(f->pid, SIGTERM);
        waitpid(f->pid, NULL, 0);
        cbfake_track_(f->pid, 0);
        f->pid = 0;
    }
    if (f->log[0]) unlink(f->log);
}

/* The logged requests as a JSON array (never NULL). */
static json_t *cbfake_requests(const struct cbfake *f) {
    json_t *arr = json_array();
    FILE *fp = fopen(f->log, "rb");
    if (!fp) return arr;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, fp) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        if (o) json_array_append_new(arr, o);
    }
    free(line);
    fclose(fp);
    return arr;
}

/* Requests whose method and path match. */
__attribute__((unused)) static int cbfake_count(const struct cbfake *f, const char *method, const char *path) {
    json_t *arr = cbfake_requests(f);
    int c = 0;
    size_t i;
    json_t *r;
    json_array_foreach(arr, i, r) {
        const char *m = json_string_value(json_object_get(r, "method"));
        const char *p = json_string_value(json_object_get(r, "path"));
        if (m && p && !strcmp(m, method) && !strcmp(p, path)) c++;
    }
    json_decref(arr);
    return c;
}

#endif
