/*
 * test_espeak_no_audio.c — the library never opens an audio device through libespeak-ng.
 *
 * libespeak-ng links libpcaudio, which speaks to PulseAudio (or ALSA) when espeak-ng is
 * initialised for playback (espeak-ng src/libespeak-ng/speech.c, espeak_ng_InitializeOutput:
 * create_audio_device_object only with ENOUTPUT_MODE_SPEAK_AUDIO; espeak_api.c maps
 * AUDIO_OUTPUT_PLAYBACK and AUDIO_OUTPUT_SYNCH_PLAYBACK to that mode, AUDIO_OUTPUT_SYNCHRONOUS
 * not). A library embedded in a server must not start PulseAudio's client thread, connect to a
 * sound server, or open /dev/snd.
 *
 * The check, without strace: PULSE_SERVER points at a Unix socket this test listens on (a
 * stand-in sound server: libpulse connects to the address PULSE_SERVER names, pulsecore's
 * client-conf). A forked child that initialises espeak-ng for playback shows the stand-in
 * works (it does connect); before it, the library speaks with espeak and the stand-in must
 * see no connection, and this process must hold no socket and no /dev/snd file afterwards.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <espeak-ng/speak_lib.h>

#include "chorus/chorus.h"
#include "test.h"

static char dir[] = "/tmp/chorus-nopulse-XXXXXX";
static char sock_path[256];
static int listener = -1;

/* A listening Unix socket standing in for a PulseAudio server. */
static int listen_stand_in(void) {
    if (!mkdtemp(dir)) return -1;
    snprintf(sock_path, sizeof sock_path, "%s/native", dir);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", sock_path);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 8) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* 1 if a client connected within ms (the connection is accepted and closed), else 0. */
static int connected_within(int ms) {
    struct pollfd p = {.fd = listener, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0) return 0;
    int c = accept(listener, NULL, NULL);
    if (c < 0) return 0;
    close(c);
    return 1;
}

/* What this process holds: sockets other than the stand-in, files under /dev/snd. */
static void open_files(int *sockets, int *snd) {
    *sockets = *snd = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || atoi(de->d_name) == listener || atoi(de->d_name) == dirfd(d))
            continue;
        char p[64], t[256];
        snprintf(p, sizeof p, "/proc/self/fd/%s", de->d_name);
        ssize_t n = readlink(p, t, sizeof t - 1);
        if (n <= 0) continue;
        t[n] = 0;
        if (!strncmp(t, "socket:", 7)) (*sockets)++;
        if (!strncmp(t, "/dev/snd/", 9)) (*snd)++;
    }
    closedir(d);
}

/* This process's threads, their names appended to names (for the message). */
static int threads(char *names, size_t cap) {
    int n = 0;
    if (cap) names[0] = 0;
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        n++;
        char p[300], comm[64] = "";
        snprintf(p, sizeof p, "/proc/self/task/%s/comm", de->d_name);
        FILE *f = fopen(p, "r");
        if (f) {
            if (!fgets(comm, sizeof comm, f)) comm[0] = 0;
            fclose(f);
        }
        comm[strcspn(comm, "\n")] = 0;
        size_t l = strlen(names);
        snprintf(names + l, cap - l, "%s%s", l ? ", " : "", comm);
    }
    closedir(d);
    return n;
}

/* The control: espeak-ng initialised for playback does reach the stand-in. */
TEST(playback_mode_reaches_the_stand_in) {
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(20);
        if (espeak_Initialize(AUDIO_OUTPUT_SYNCH_PLAYBACK, 100, NULL, espeakINITIALIZE_DONT_EXIT) > 0)
            espeak_Synth("hello", 6, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, NULL);
        _exit(0);
    }
    int seen = connected_within(15000);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    while (connected_within(0)) { /* libpulse may have queued more than one attempt */
    }
    CHECK_MSG(seen, "espeak-ng in playback mode never connected to PULSE_SERVER=unix:%s: the "
                    "stand-in cannot tell whether the library opens an audio device",
              sock_path);
}

static int count_chunks(const struct chorus_event *ev, void *ud) {
    if (ev->type == CHORUS_EVENT_CHUNK) *(size_t *)ud += ev->chunk->n_samples;
    return 0;
}

TEST(library_speaks_without_an_audio_device) {
    char before[512], after[512];
    int nbefore = threads(before, sizeof before); /* the sanitizers may run threads of their own */
    struct chorus_engine_options o = chorus_engine_options_default();
    o.no_config = 1;
    struct chorus_engine *e = NULL;
    CHECK_EQ_INT(chorus_engine_create(&e, &o), CHORUS_OK);
    struct chorus_request r = chorus_request_default();
    r.backend = "espeak";
    r.text = "The library speaks without a sound card.";
    size_t samples = 0;
    r.callback = count_chunks;
    r.userdata = &samples;
    struct chorus_stream *s = NULL;
    int rc = chorus_stream_open(e, &r, &s);
    if (rc == CHORUS_OK) rc = chorus_stream_run(s);
    CHECK_MSG(rc == CHORUS_OK, "speak: %s", chorus_stream_errmsg(s));
    chorus_stream_destroy(s);
    CHECK(samples > 22050); /* over a second of speech at espeak's 22.05 kHz */
    int sockets, snd;
    open_files(&sockets, &snd);
    chorus_engine_destroy(e);
    int nafter = threads(after, sizeof after);
    CHECK_MSG(!connected_within(500), "the library connected to the sound server at %s",
              sock_path);
    CHECK_EQ_INT(sockets, 0);
    CHECK_EQ_INT(snd, 0);
    /* nothing left behind but libespeak-ng's own event thread, which 1.51 starts in every output
     * mode (an idle condition wait; no PulseAudio mainloop, whose pa_simple_free joins it) */
    CHECK_MSG(nafter <= nbefore + 1, "threads before: %d (%s), after: %d (%s)", nbefore, before,
              nafter, after);
}

int main(void) {
    listener = listen_stand_in();
    if (listener < 0) {
        perror("stand-in sound server socket");
        return 1;
    }
    /* before any thread exists: where libpulse looks for its server and its runtime folder */
    char v[300];
    snprintf(v, sizeof v, "unix:%s", sock_path);
    setenv("PULSE_SERVER", v, 1);
    setenv("PULSE_RUNTIME_PATH", dir, 1);
    setenv("XDG_RUNTIME_DIR", dir, 1);
    RUN(library_speaks_without_an_audio_device);
    RUN(playback_mode_reaches_the_stand_in);
    close(listener);
    unlink(sock_path);
    rmdir(dir);
    return test_summary();
}
