/*
 * test_audio_player.c — playback through libao. No sound card exists here: the null driver
 * exercises the live path, and libao's wav file driver captures what would have been heard,
 * which sox then reads back.
 */
#include <stdlib.h>

#include "audio/audio.h"
#include "test.h"
#include "test_audio_util.h"

TEST(null_driver_plays) {
    struct chorus_player *p = NULL;
    char err[256];
    CHECK_MSG(chorus_player_open(&p, 24000, "null", err, sizeof err) == CHORUS_OK, "%s", err);
    float *x = tsine(24000, 440, 24000, 0.5);
    for (size_t i = 0; i < 24000; i += 1000) CHECK_EQ_INT(chorus_player_write(p, x + i, 1000), CHORUS_OK);
    CHECK_EQ_INT(chorus_player_close(p), CHORUS_OK);
    free(x);
}

TEST(env_picks_the_device) {
    setenv("CHORUS_AUDIO_DEVICE", "null", 1);
    struct chorus_player *p = NULL;
    char err[256];
    CHECK_MSG(chorus_player_open(&p, 22050, NULL, err, sizeof err) == CHORUS_OK, "%s", err);
    CHECK_EQ_INT(chorus_player_close(p), CHORUS_OK);
    setenv("CHORUS_AUDIO_DEVICE", "nosuchdriver", 1);
    CHECK_EQ_INT(chorus_player_open(&p, 22050, NULL, err, sizeof err), CHORUS_E_INVALID);
    CHECK(strstr(err, "nosuchdriver") && strstr(err, "null"));
    unsetenv("CHORUS_AUDIO_DEVICE");
}

TEST(what_is_played_is_the_audio) {
    const char *path = ttmp("wav");
    char dev[300];
    snprintf(dev, sizeof dev, "wav:%s", path);
    struct chorus_player *p = NULL;
    char err[256];
    CHECK_MSG(chorus_player_open(&p, 16000, dev, err, sizeof err) == CHORUS_OK, "%s", err);
    float *x = tsine(16000, 300, 16000, 0.5);
    CHECK_EQ_INT(chorus_player_write(p, x, 16000), CHORUS_OK);
    CHECK_EQ_INT(chorus_player_close(p), CHORUS_OK);
    int rate = 0, ch = 0;
    CHECK(tprobe(path, &rate, &ch) == 0);
    CHECK_EQ_INT(rate, 16000);
    CHECK_EQ_INT(ch, 1);
    size_t n = 0;
    float *y = tdecode(path, NULL, &n);
    CHECK(y != NULL);
    CHECK_EQ_INT(n, 16000);
    for (size_t i = 0; i < n; i++) CHECK_NEAR(y[i], x[i], 1.5 / 32768);
    unlink(path);
    free(y);
    free(x);
}

TEST(bad_devices) {
    struct chorus_player *p = (void *)1;
    char err[256];
    CHECK_EQ_INT(chorus_player_open(&p, 24000, "bogus:thing", err, sizeof err), CHORUS_E_INVALID);
    CHECK(p == NULL);
    CHECK(strstr(err, "bogus") && strstr(err, "available"));
    CHECK_EQ_INT(chorus_player_open(&p, 24000, "wav", err, sizeof err), CHORUS_E_INVALID);
    CHECK(strstr(err, "wav:/path"));
    CHECK_EQ_INT(chorus_player_open(&p, 24000, "wav:/nonexistent-dir/x.wav", err, sizeof err), CHORUS_E_IO);
    CHECK(strstr(err, "/nonexistent-dir/x.wav"));
    CHECK_EQ_INT(chorus_player_open(&p, 5, "null", err, sizeof err), CHORUS_E_INVALID);
    CHECK_EQ_INT(chorus_player_open(&p, 24000, ":x", err, sizeof err), CHORUS_E_INVALID);
    /* no sound server here: a live driver fails with a message naming it */
    int rc = chorus_player_open(&p, 24000, "pulse", err, sizeof err);
    if (rc == CHORUS_OK) {
        chorus_player_close(p); /* a machine with a sound server */
    } else {
        CHECK_EQ_INT(rc, CHORUS_E_IO);
        CHECK(strstr(err, "pulse"));
    }
    CHECK_EQ_INT(chorus_player_close(NULL), CHORUS_OK);
}

int main(void) {
    RUN(null_driver_plays);
    RUN(env_picks_the_device);
    RUN(what_is_played_is_the_audio);
    RUN(bad_devices);
    return test_summary();
}
