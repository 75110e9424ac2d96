/*
 * fake_spawn.h — start and stop the loopback fake providers (fake_tts.py) from C tests.
 *
 *   struct fake f;
 *   if (fake_start(&f, "openai", "--key", "sk-test", "--plan", "429:1", NULL) != 0) ...
 *   ... requests to f.base ("http://127.0.0.1:PORT") ...
 *   fake_requests(&f) -> the JSONL log text (caller frees); fake_stop(&f);
 *
 * The fake binds 127.0.0.1 on port 0 and prints "PORT n"; we read that line from a pipe.
 * Header-only (static functions) so each test program includes it directly.
 */
#ifndef CHORUS_FAKE_SPAWN_H
#define CHORUS_FAKE_SPAWN_H

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

struct fake {
    pid_t pid;
    int port;
    char base[64];
    char log[256];
};

/* Path of a fake script in tests/fakes: $CHORUS_FAKES/NAME, else beside this header. */
static __attribute__((unused)) const char *fake_script_path(const char *name) {
    static char path[1024];
    const char *env = getenv("CHORUS_FAKES");
    if (env && *env) {
        snprintf(path, sizeof path, "%s/%s", env, name);
        return path;
    }
    snprintf(path, sizeof path, "%s", __FILE__);
    char *slash = strrchr(path, '/');
    if (slash)
        snprintf(slash + 1, sizeof path - (size_t)(slash + 1 - path), "%s", name);
    else
        snprintf(path, sizeof path, "%s", name);
    return path;
}

static __attribute__((unused)) const char *fake_script(void) {
    return fake_script_path("fake_tts.py");
}

/* Fakes still running when the test exits (a failed CHECK returns before fake_stop). */
static pid_t fake_live_[16];
static __attribute__((unused)) void fake_reap_all_(void) {
    for (int i = 0; i < 16; i++)
        if (fake_live_[i] > 0) {
            kill(fake_live_[i], SIGTERM);
            waitpid(fake_live_[i], NULL, 0);
            fake_live_[i] = 0;
        }
}
static __attribute__((unused)) void fake_track_(pid_t pid, int add) {
    static int registered;
    if (!registered) registered = atexit(fake_reap_all_) == 0;
    for (int i = 0; i < 16; i++) {
        if (add && fake_live_[i] == 0) {
            fake_live_[i] = pid;
            return;
        }
        if (!add && fake_live_[i] == pid) {
            fake_live_[i] = 0;
            return;
        }
    }
}

/* Start python3 SCRIPT KIND_FLAG KIND --log LOG [args from ap...]: any fake of tests/fakes that
 * prints "PORT n" once it listens. Returns 0 on success. */
static __attribute__((unused)) int fake_spawn(struct fake *f, const char *script, const char *kind_flag,
                                              const char *kind, va_list ap) {
    memset(f, 0, sizeof *f);
    snprintf(f->log, sizeof f->log, "/tmp/chorus-fake-%d-%ld.jsonl", (int)getpid(),
             (long)random());
    unlink(f->log);
    const char *argv[40];
    int n = 0;
    argv[n++] = "python3";
    argv[n++] = script;
    argv[n++] = kind_flag;
    argv[n++] = kind;
    argv[n++] = "--log";
    argv[n++] = f->log;
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < 38) argv[n++] = a;
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
    fake_track_(pid, 1);
    FILE *in = fdopen(pfd[0], "r");
    char line[128] = "";
    if (!in || !fgets(line, sizeof line, in) || sscanf(line, "PORT %d", &f->port) != 1) {
        if (in) fclose(in);
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        fake_track_(pid, 0);
        f->pid = 0;
        return -1;
    }
    fclose(in);
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%d", f->port);
    return 0;
}

/* provider, then extra arguments, NULL-terminated. Returns 0 on success. */
static __attribute__((unused)) int fake_start(struct fake *f, const char *provider, ...) {
    va_list ap;
    va_start(ap, provider);
    int rc = fake_spawn(f, fake_script(), "--provider", provider, ap);
    va_end(ap);
    return rc;
}

static __attribute__((unused)) void fake_stop(struct fake *f) {
    if (f->pid > 0) {
        kill(f->pid, SIGTERM);
        waitpid(f->pid, NULL, 0);
        fake_track_(f->pid, 0);
        f->pid = 0;
    }
    if (f->log[0]) unlink(f->log);
}

/* The request log so far (JSON lines), malloc'd; "" if none. */
static __attribute__((unused)) char *fake_requests(const struct fake *f) {
    FILE *fp = fopen(f->log, "rb");
    if (!fp) return strdup("");
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (!s) {
        fclose(fp);
        return NULL;
    }
    size_t got = fread(s, 1, (size_t)n, fp);
    s[got] = '\0';
    fclose(fp);
    return s;
}

/* Number of logged requests whose line contains `needle` (NULL: all). */
static __attribute__((unused)) int fake_count(const struct fake *f, const char *needle) {
    char *s = fake_requests(f);
    int c = 0;
    for (char *line = s; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        if (*line && (!needle || strstr(line, needle))) c++;
        if (!nl) break;
        line = nl + 1;
    }
    free(s);
    return c;
}

#endif
