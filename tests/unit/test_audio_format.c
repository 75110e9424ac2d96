/* test_audio_format.c — the format table and rate rules (format.c). */
#include "audio/audio.h"
#include "test.h"

TEST(names_mimes_extensions) {
    CHECK_STR(chorus_format_name(CHORUS_FORMAT_WAV), "wav");
    CHECK_STR(chorus_format_mime(CHORUS_FORMAT_WAV), "audio/wav");
    CHECK_STR(chorus_format_mime(CHORUS_FORMAT_PCM), "audio/pcm");
    CHECK_STR(chorus_format_mime(CHORUS_FORMAT_MP3), "audio/mpeg");
    CHECK_STR(chorus_format_mime(CHORUS_FORMAT_OPUS), "audio/ogg");
    CHECK_STR(chorus_format_extension(CHORUS_FORMAT_OPUS), "opus");
    CHECK_STR(chorus_format_mime(CHORUS_FORMAT_FLAC), "audio/flac");
    CHECK_STR(chorus_format_mime(CHORUS_FORMAT_AAC), "audio/aac");
    CHECK_STR(chorus_format_extension(CHORUS_FORMAT_AAC), "aac");
    CHECK(chorus_format_name(CHORUS_FORMAT_DEFAULT) == NULL);
    CHECK(chorus_format_name(CHORUS_FORMAT_COUNT_) == NULL);
    CHECK(chorus_format_mime((enum chorus_format)99) == NULL);
    CHECK(chorus_format_extension((enum chorus_format)-1) == NULL);
    /* every real format round-trips through its name and extension */
    for (int f = CHORUS_FORMAT_WAV; f < CHORUS_FORMAT_COUNT_; f++) {
        CHECK_EQ_INT(chorus_format_from_name(chorus_format_name(f)), f);
        char path[64];
        snprintf(path, sizeof path, "dir.x/out.%s", chorus_format_extension(f));
        CHECK_EQ_INT(chorus_format_from_path(path), f);
    }
}

TEST(from_name_and_path) {
    CHECK_EQ_INT(chorus_format_from_name("MP3"), CHORUS_FORMAT_MP3);
    CHECK_EQ_INT(chorus_format_from_name("ogg"), CHORUS_FORMAT_OPUS);
    CHECK_EQ_INT(chorus_format_from_name("Opus"), CHORUS_FORMAT_OPUS);
    CHECK_EQ_INT(chorus_format_from_name("mp4"), CHORUS_FORMAT_DEFAULT);
    CHECK_EQ_INT(chorus_format_from_name(""), CHORUS_FORMAT_DEFAULT);
    CHECK_EQ_INT(chorus_format_from_name(NULL), CHORUS_FORMAT_DEFAULT);
    CHECK_EQ_INT(chorus_format_from_path("a/b/speech.FLAC"), CHORUS_FORMAT_FLAC);
    CHECK_EQ_INT(chorus_format_from_path("speech.ogg"), CHORUS_FORMAT_OPUS);
    CHECK_EQ_INT(chorus_format_from_path("dir.mp3/speech"), CHORUS_FORMAT_DEFAULT);
    CHECK_EQ_INT(chorus_format_from_path(".wav"), CHORUS_FORMAT_DEFAULT);
    CHECK_EQ_INT(chorus_format_from_path("speech."), CHORUS_FORMAT_DEFAULT);
    CHECK_EQ_INT(chorus_format_from_path("-"), CHORUS_FORMAT_DEFAULT);
    CHECK_EQ_INT(chorus_format_from_path(NULL), CHORUS_FORMAT_DEFAULT);
}

TEST(supported) {
    CHECK(chorus_format_supported(CHORUS_FORMAT_WAV));
    CHECK(chorus_format_supported(CHORUS_FORMAT_PCM));
    CHECK(!chorus_format_supported(CHORUS_FORMAT_DEFAULT));
    CHECK(!chorus_format_supported((enum chorus_format)42));
}

TEST(pick_rate) {
    char err[256];
    int r = -1;
    /* nothing requested: the engine's rate where allowed */
    CHECK_EQ_INT(chorus_format_pick_rate(CHORUS_FORMAT_WAV, 0, 22050, &r, err, sizeof err), CHORUS_OK);
    CHECK_EQ_INT(r, 22050);
    CHECK_EQ_INT(chorus_format_pick_rate(CHORUS_FORMAT_MP3, 0, 22050, &r, err, sizeof err), CHORUS_OK);
    CHECK_EQ_INT(r, 22050);
    /* ... else the format's default */
    CHECK_EQ_INT(chorus_format_pick_rate(CHORUS_FORMAT_MP3, 0, 96000, &r, err, sizeof err), CHORUS_OK);
    CHECK_EQ_INT(r, 24000);
    CHECK_EQ_INT(chorus_format_pick_rate(CHORUS_FORMAT_AAC, 0, 0, &r, err, sizeof err), CHORUS_OK);
    CHECK_EQ_INT(r, 24000);
    /* pcm has no header: OpenAI's 24 kHz whatever the engine's rate */
    CHECK_EQ_INT(chorus_format_pick_rate(CHORUS_FORMAT_PCM, 0, 22050, &r, err, sizeof err), CHORUS_OK);
    CHECK_EQ_INT(r, 24000);
    CHECK_EQ_INT(chorus_format_pick_rate(CHORUS_FORMAT_PCM, 16000, 22050, &r, err, sizeof err), CHORUS_OK);
    CHECK_EQ_INT(r, 16000);
    CHECK_EQ_INT(chorus_format_pick_rate(CHORUS_FORMAT_OPUS, 44100, 22050, &r, err, sizeof err), CHORUS_OK);
    CHECK_EQ_INT(r, 44100);
    /* impossible requests: E_FORMAT, naming the rate and listing what is allowed */
    CHECK_EQ_INT(chorus_format_pick_rate(CHORUS_FORMAT_MP3, 96000, 24000, &r, err, sizeof err), CHORUS_E_FORMAT);
    CHECK(strstr(err, "96000") && strstr(err, "mp3") && strstr(err, "44100") && strstr(err, "8000"));
    CHECK_EQ_INT(chorus_format_pick_rate(CHORUS_FORMAT_AAC, 7000, 24000, &r, err, sizeof err), CHORUS_E_FORMAT);
    CHECK(strstr(err, "7000") && strstr(err, "96000"));
    CHECK_EQ_INT(chorus_format_pick_rate(CHORUS_FORMAT_WAV, 500000, 24000, &r, err, sizeof err), CHORUS_E_FORMAT);
    CHECK(strstr(err, "8000") && strstr(err, "192000"));
    CHECK_EQ_INT(chorus_format_pick_rate(CHORUS_FORMAT_WAV, -5, 24000, &r, err, sizeof err), CHORUS_E_FORMAT);
    CHECK_EQ_INT(chorus_format_pick_rate(CHORUS_FORMAT_DEFAULT, 0, 24000, &r, err, sizeof err), CHORUS_E_FORMAT);
    CHECK(strstr(err, "format") != NULL);
    /* a tiny error buffer is never overrun */
    char small[8];
    memset(small, 'x', sizeof small);
    CHECK_EQ_INT(chorus_format_pick_rate(CHORUS_FORMAT_MP3, 1, 0, &r, small, sizeof small), CHORUS_E_FORMAT);
    CHECK(memchr(small, 0, sizeof small) != NULL);
}

TEST(every_rate_listed_is_allowed) {
    for (int f = CHORUS_FORMAT_WAV; f < CHORUS_FORMAT_COUNT_; f++) {
        const struct chorus_format_info *fi = chorus_format_info(f);
        CHECK(fi != NULL);
        CHECK(chorus_format_rate_allowed(f, fi->default_rate));
        if (fi->rates)
            for (const int *p = fi->rates; *p; p++) CHECK(chorus_format_rate_allowed(f, *p));
    }
}

int main(void) {
    RUN(names_mimes_extensions);
    RUN(from_name_and_path);
    RUN(supported);
    RUN(pick_rate);
    RUN(every_rate_listed_is_allowed);
    return test_summary();
}
