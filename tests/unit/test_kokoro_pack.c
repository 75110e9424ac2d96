/*
 * The packed-weights file (nn/packfile.h) through chorus_kokoro_model_load_packed, on the tiny
 * test model: the first load writes it, the next maps it and gives bit-identical audio; a
 * changed source (new mtime), a truncated or foreign packfile, or an unwritable place make the
 * load pack again (and rewrite where it can), never fail or crash.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backends/kokoro/kokoro_model.h"
#include "chorus/chorus.h"
#include "nn/packfile.h"
#include "test.h"

static char dir[256], cfg[1024], src[1024], pth[512], pack[512];

static int copy_file(const char *from, const char *to) {
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    char buf[65536];
    size_t n;
    int ok = a && b;
    while (ok && (n = fread(buf, 1, sizeof buf, a)) > 0) ok = fwrite(buf, 1, n, b) == n;
    if (a) fclose(a);
    if (b && fclose(b) != 0) ok = 0;
    return ok ? 0 : -1;
}

static void setup(void) {
    const char *d = getenv("CHORUS_TEST_DATA");
    snprintf(cfg, sizeof cfg, "%s/kokoro/tiny-config.json", d ? d : "tests/data");
    snprintf(src, sizeof src, "%s/kokoro/tiny.pth", d ? d : "tests/data");
    snprintf(dir, sizeof dir, "/tmp/chorus-pack-test-XXXXXX");
    if (!mkdtemp(dir)) abort();
    snprintf(pth, sizeof pth, "%s/tiny.pth", dir);
    snprintf(pack, sizeof pack, "%s/tiny.pth.chorus-pack", dir);
    if (copy_file(src, pth)) abort();
}

/* Load with the packfile; returns *mapped, or -1 on a failed load. */
static int load(struct kokoro_model **m, const char *pk) {
    char err[512] = "";
    int mapped = -7;
    int rc = chorus_kokoro_model_load_packed(m, cfg, pth, pk, &mapped, err, sizeof err);
    if (rc) {
        fprintf(stderr, "  load: %s\n", err);
        return -1;
    }
    return mapped;
}

static float *speak(const struct kokoro_model *m, size_t *n) {
    static const int ids[] = {0, 50, 83, 54, 156, 57, 135, 16, 102, 4, 0};
    float ref[256];
    for (int i = 0; i < 256; i++) ref[i] = 0.1f * (float)((i * 37) % 11 - 5);
    struct kokoro_rng rng;
    chorus_kokoro_rng_seed(&rng, 3);
    struct kokoro_hooks h = {&rng, NULL, chorus_kokoro_rng_normal, NULL, NULL};
    float *audio = NULL;
    int *dur = NULL;
    char err[256];
    if (chorus_kokoro_model_forward(m, ids, 11, ref, 1.0f, &h, &audio, n, &dur, err, sizeof err))
        return NULL;
    free(dur);
    return audio;
}

static off_t file_size(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? st.st_size : -1;
}

TEST(second_load_maps_and_speaks_the_same) {
    struct kokoro_model *plain, *first, *second;
    CHECK(load(&plain, NULL) == 0);
    CHECK(file_size(pack) < 0); /* no packfile asked for, none written */
    CHECK_EQ_INT(load(&first, pack), 0);
    CHECK(file_size(pack) > 64);
    CHECK_EQ_INT(load(&second, pack), 1);
    size_t n0 = 0, n1 = 0, n2 = 0;
    float *a0 = speak(plain, &n0), *a1 = speak(first, &n1), *a2 = speak(second, &n2);
    CHECK(a0 && a1 && a2 && n0 > 0 && n0 == n1 && n0 == n2);
    CHECK(memcmp(a0, a1, n0 * sizeof *a0) == 0);
    CHECK(memcmp(a0, a2, n0 * sizeof *a0) == 0);
    free(a0);
    free(a1);
    free(a2);
    chorus_kokoro_model_free(plain);
    chorus_kokoro_model_free(first);
    chorus_kokoro_model_free(second); /* releases the mapping after the convs that borrow it */
}

TEST(changed_source_rebuilds) {
    struct kokoro_model *m;
    CHECK(load(&m, pack) >= 0);
    chorus_kokoro_model_free(m);
    struct timespec ts[2] = {{1000000000, 5}, {1000000000, 5}};
    CHECK(utimensat(AT_FDCWD, pth, ts, 0) == 0); /* same bytes, another mtime */
    CHECK_EQ_INT(load(&m, pack), 0);
    chorus_kokoro_model_free(m);
    CHECK_EQ_INT(load(&m, pack), 1); /* rewritten for the new mtime */
    chorus_kokoro_model_free(m);
}

TEST(damaged_packfile_rebuilds) {
    struct kokoro_model *m;
    CHECK(load(&m, pack) >= 0);
    chorus_kokoro_model_free(m);
    off_t full = file_size(pack);
    CHECK(truncate(pack, full / 2) == 0);
    CHECK_EQ_INT(load(&m, pack), 0);
    chorus_kokoro_model_free(m);
    CHECK(file_size(pack) == full);
    FILE *f = fopen(pack, "wb");
    CHECK(f != NULL);
    fputs("CHORUSPK garbage that is not a packfile at all, but starts like one..............", f);
    fclose(f);
    CHECK_EQ_INT(load(&m, pack), 0);
    chorus_kokoro_model_free(m);
    CHECK_EQ_INT(load(&m, pack), 1);
    size_t n;
    float *a = speak(m, &n);
    CHECK(a && n > 0);
    free(a);
    chorus_kokoro_model_free(m);
}

TEST(unwritable_place_still_loads) {
    char bad[600];
    snprintf(bad, sizeof bad, "%s/no/such/dir/tiny.chorus-pack", dir);
    struct kokoro_model *m;
    CHECK_EQ_INT(load(&m, bad), 0);
    size_t n;
    float *a = speak(m, &n);
    CHECK(a && n > 0);
    free(a);
    chorus_kokoro_model_free(m);
}

TEST(reader_rejects_foreign_sources) {
    struct kokoro_model *m;
    CHECK(load(&m, pack) >= 0);
    chorus_kokoro_model_free(m);
    struct chorus_packfile pf;
    char err[256];
    struct chorus_pack_source other = {1, 2, 3};
    CHECK(chorus_packfile_open(&pf, pack, &other, err, sizeof err) == -1);
    CHECK(strstr(err, "different version") != NULL);
    CHECK(chorus_packfile_open(&pf, pack, NULL, err, sizeof err) == 0);
    const struct chorus_pack_entry *e = chorus_packfile_find(&pf, "decoder.generator.conv_post");
    CHECK(e && e->count > 0 && ((uintptr_t)e->data % 64) == 0);
    CHECK(pf.n > 10);
    chorus_packfile_release(&pf);
}

static int convert(struct kokoro_model *m, int int8) {
    return int8 ? chorus_kokoro_model_to_int8(m) : chorus_kokoro_model_to_bf16(m);
}

/* bf16 (int8) through a packfile: the first conversion writes NAME-bf16 (-int8).chorus-pack
 * beside the float32 one, the next load maps it and speaks exactly as the converted model; a
 * damaged or foreign file is converted again (and rewritten), never trusted. *size: the
 * file's. */
static void reduced_kept_beside_and_mapped(int int8, off_t *size) {
    *size = -1;
    char bpack[600];
    snprintf(bpack, sizeof bpack, "%s/tiny.pth-%s.chorus-pack", dir, int8 ? "int8" : "bf16");
    unlink(bpack);
    struct kokoro_model *plain, *first, *second;
    CHECK(load(&plain, NULL) == 0);
    CHECK_EQ_INT(convert(plain, int8), 0);
    CHECK(file_size(bpack) < 0); /* loaded without packfiles: none written */
    CHECK(load(&first, pack) >= 0);
    CHECK_EQ_INT(convert(first, int8), 0);
    off_t full = file_size(bpack);
    CHECK(full > 64);
    CHECK(load(&second, pack) == 1);
    CHECK_EQ_INT(convert(second, int8), 0);
    CHECK_EQ_INT(chorus_kokoro_model_is_bf16(second), int8 ? 2 : 1);
    size_t n0 = 0, n1 = 0, n2 = 0;
    float *a0 = speak(plain, &n0), *a1 = speak(first, &n1), *a2 = speak(second, &n2);
    CHECK(a0 && a1 && a2 && n0 > 0 && n0 == n1 && n0 == n2);
    CHECK(a0 && a1 && memcmp(a0, a1, n0 * sizeof *a0) == 0);
    CHECK(a0 && a2 && memcmp(a0, a2, n0 * sizeof *a0) == 0);
    free(a1);
    free(a2);
    chorus_kokoro_model_free(first);
    chorus_kokoro_model_free(second); /* releases the mapping after the convs that borrow it */
    /* damaged: half the file -> converted again, rewritten whole, same audio */
    CHECK(truncate(bpack, full / 2) == 0);
    struct kokoro_model *third;
    CHECK(load(&third, pack) == 1);
    CHECK_EQ_INT(convert(third, int8), 0);
    CHECK(file_size(bpack) == full);
    float *a3 = speak(third, &n2);
    CHECK(a0 && a3 && n2 == n0 && memcmp(a0, a3, n0 * sizeof *a0) == 0);
    free(a3);
    chorus_kokoro_model_free(third);
    free(a0);
    chorus_kokoro_model_free(plain);
    unlink(bpack);
    *size = full;
}

TEST(reduced_weights_are_kept_beside_and_mapped) {
    off_t b, q;
    reduced_kept_beside_and_mapped(0, &b);
    reduced_kept_beside_and_mapped(1, &q);
    /* int8 keeps the direct kernel's convolutions in half of bf16's bytes (plus a scale per
     * output channel), the others as bf16 */
    CHECK_MSG(q > b / 3 && q < b * 2 / 3, "int8 pack %lld bytes, bf16 %lld", (long long)q,
              (long long)b);
}

int main(void) {
    setup();
    RUN(second_load_maps_and_speaks_the_same);
    RUN(changed_source_rebuilds);
    RUN(damaged_packfile_rebuilds);
    RUN(unwritable_place_still_loads);
    RUN(reader_rejects_foreign_sources);
    RUN(reduced_weights_are_kept_beside_and_mapped);
    unlink(pack);
    unlink(pth);
    rmdir(dir);
    return test_summary();
}
