/* Loader tests: real torch.save archives (written by Debian's python3-torch), an np.savez
 * archive with ZIP64 local headers, corrupt and truncated files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chorus/chorus.h"
#include "nn/tensorfile.h"
#include "test.h"

static char path_buf[1024];
static const char *data_path(const char *name) {
    const char *d = getenv("CHORUS_TEST_DATA");
    snprintf(path_buf, sizeof path_buf, "%s/kokoro/%s", d ? d : "tests/data", name);
    return path_buf;
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)sz);
    if (b && fread(b, 1, (size_t)sz, f) != (size_t)sz) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *n = (size_t)sz;
    return b;
}

TEST(torch_state_dicts_load) {
    struct chorus_tensor_file f;
    char err[512];
    int rc = chorus_tensor_file_load(&f, data_path("tiny.pth"), err, sizeof err);
    CHECK_MSG(rc == 0, "load failed: %s", err);
    /* Five nested state dicts flattened with their DataParallel-style prefix. */
    const struct chorus_tensor *t =
        chorus_tensor_file_find(&f, "bert.module.embeddings.word_embeddings.weight");
    CHECK(t != NULL);
    CHECK_EQ_INT(t->ndim, 2);
    CHECK_EQ_INT(t->shape[0], 178);
    CHECK_EQ_INT(t->shape[1], 128);
    t = chorus_tensor_file_find(&f, "decoder.module.generator.ups.0.weight_v");
    CHECK(t != NULL);
    CHECK_EQ_INT(t->ndim, 3);
    CHECK_EQ_INT(t->shape[0], 32); /* ConvTranspose1d: [in, out, k] */
    CHECK_EQ_INT(t->shape[1], 16);
    CHECK_EQ_INT(t->shape[2], 20);
    /* LayerNorm gamma of the embeddings starts at ones in a fresh model. */
    t = chorus_tensor_file_find(&f, "bert.module.embeddings.LayerNorm.weight");
    CHECK(t != NULL && t->numel == 128);
    for (size_t i = 0; i < t->numel; i++) CHECK(t->data[i] == 1.0f);
    CHECK(f.n > 400);
    chorus_tensor_file_release(&f);
}

TEST(voice_pt_npz_and_raw_agree) {
    struct chorus_tensor_file a, b;
    char err[512];
    CHECK_MSG(chorus_tensor_file_load(&a, data_path("voice.pt"), err, sizeof err) == 0, "%s", err);
    CHECK_MSG(chorus_tensor_file_load(&b, data_path("voices.npz"), err, sizeof err) == 0, "%s",
              err);
    CHECK_EQ_INT(a.n, 1);
    CHECK_STR(a.t[0].name, "");
    CHECK_EQ_INT(a.t[0].numel, 510 * 256);
    const struct chorus_tensor *v = chorus_tensor_file_find(&b, "af_test");
    CHECK(v != NULL);
    CHECK_EQ_INT(v->ndim, 3);
    CHECK_EQ_INT(v->shape[0], 510);
    CHECK(memcmp(v->data, a.t[0].data, 510 * 256 * 4) == 0);
    CHECK(chorus_tensor_file_find(&b, "bm_other") != NULL);
    size_t n;
    unsigned char *raw = slurp(data_path("voice.bin"), &n);
    CHECK(raw && n == 510 * 256 * 4);
    CHECK(memcmp(raw, a.t[0].data, n) == 0);
    free(raw);
    chorus_tensor_file_release(&a);
    chorus_tensor_file_release(&b);
}

TEST(missing_and_foreign_files_are_clear_errors) {
    struct chorus_tensor_file f;
    char err[512];
    int rc = chorus_tensor_file_load(&f, "/nonexistent/kokoro.pth", err, sizeof err);
    CHECK(rc != 0);
    CHECK(strstr(err, "/nonexistent/kokoro.pth") != NULL);
    rc = chorus_tensor_file_load(&f, data_path("tiny-config.json"), err, sizeof err);
    CHECK_EQ_INT(rc, CHORUS_E_MODEL);
    CHECK(strstr(err, "tiny-config.json") && strstr(err, "not a pytorch") == NULL);
    CHECK(strstr(err, "not a PyTorch") != NULL);
}

TEST(every_truncation_fails_cleanly) {
    size_t n;
    unsigned char *full = slurp(data_path("voice.pt"), &n);
    CHECK(full != NULL);
    char err[512];
    /* Every prefix length in steps, plus the bytes near the end: never crash, always an error
     * (the central directory lives at the end). */
    for (size_t len = 0; len < n; len += (len < 4096 || len > n - 4096) ? 1 : 997) {
        struct chorus_tensor_file f;
        unsigned char *cut = malloc(len ? len : 1);
        memcpy(cut, full, len);
        int rc = chorus_tensor_file_load_mem(&f, cut, len, "cut.pt", err, sizeof err);
        free(cut);
        CHECK_MSG(rc != 0, "truncated to %zu bytes but loaded", len);
        CHECK(strncmp(err, "cut.pt: ", 8) == 0);
    }
    free(full);
}

TEST(corrupt_pickle_is_an_error) {
    size_t n;
    unsigned char *b = slurp(data_path("voice.pt"), &n);
    CHECK(b != NULL);
    /* Find the pickle (first member) and flip its opcodes one at a time. */
    struct chorus_zip z;
    char err[512];
    CHECK(chorus_zip_open(&z, b, n, err, sizeof err) == 0);
    const struct chorus_zip_entry *e = NULL;
    for (size_t i = 0; i < z.n; i++)
        if (strstr(z.entries[i].name, "data.pkl")) e = &z.entries[i];
    CHECK(e != NULL);
    size_t off = (size_t)e->offset, len = (size_t)e->size;
    chorus_zip_release(&z);
    int errors = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char save = b[off + i];
        b[off + i] = (unsigned char)(save ^ 0x5a);
        struct chorus_tensor_file f;
        int rc = chorus_tensor_file_load_mem(&f, b, n, "bad.pt", err, sizeof err);
        if (rc) errors++;
        else chorus_tensor_file_release(&f);
        b[off + i] = save;
    }
    CHECK(errors > (int)len / 2);
    free(b);
}

TEST(zip64_end_record_is_used) {
    /* torch writes a ZIP64 end record next to the classic one; saturate the classic fields so
     * that only the ZIP64 record can locate the directory. */
    size_t n;
    unsigned char *b = slurp(data_path("voice.pt"), &n);
    CHECK(b != NULL && n > 22);
    unsigned char *e = b + n - 22;
    CHECK(e[0] == 'P' && e[1] == 'K' && e[2] == 5 && e[3] == 6);
    memset(e + 8, 0xff, 4);  /* entry counts */
    memset(e + 12, 0xff, 8); /* directory size and offset */
    struct chorus_tensor_file f;
    char err[512];
    int rc = chorus_tensor_file_load_mem(&f, b, n, "z64.pt", err, sizeof err);
    CHECK_MSG(rc == 0, "%s", err);
    CHECK_EQ_INT(f.t[0].numel, 510 * 256);
    chorus_tensor_file_release(&f);
    free(b);
}

int main(void) {
    RUN(zip64_end_record_is_used);
    RUN(torch_state_dicts_load);
    RUN(voice_pt_npz_and_raw_agree);
    RUN(missing_and_foreign_files_are_clear_errors);
    RUN(every_truncation_fails_cleanly);
    RUN(corrupt_pickle_is_an_error);
    return test_summary();
}
