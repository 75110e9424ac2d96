/* consumer.c — a program an embedder would write, built by tests/install/install_test.sh
 * against an installed copy of libchorus (pkg-config and find_package(chorus)) with nothing but
 * <chorus/chorus.h>. It speaks a sentence into the WAV file named by argv[1] and checks the
 * header's version against the library it runs with. */
#include <chorus/chorus.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: consumer OUT.wav\n");
        return 2;
    }
    if (chorus_version_number() != CHORUS_VERSION_NUMBER ||
        strcmp(chorus_version(), CHORUS_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s (%u) but library %s (%u)\n", CHORUS_VERSION_STRING,
                (unsigned)CHORUS_VERSION_NUMBER, chorus_version(), chorus_version_number());
        return 1;
    }
    struct chorus_engine_options o = chorus_engine_options_default();
    o.no_config = 1;
    struct chorus_engine *e;
    char err[1024] = "";
    if (chorus_engine_create2(&e, &o, err, sizeof err) != CHORUS_OK) {
        fprintf(stderr, "engine: %s\n", err);
        return 1;
    }
    struct chorus_request r = chorus_request_default();
    r.backend = "espeak";
    r.text = "An installed library speaks.";
    int rc = chorus_synthesize_file(e, &r, argv[1], err, sizeof err);
    if (rc != CHORUS_OK) fprintf(stderr, "synthesize: %s: %s\n", chorus_status_name(rc), err);
    struct chorus_engine_stats st = {.size = sizeof st};
    if (rc == CHORUS_OK && (chorus_engine_get_stats(e, &st) != CHORUS_OK || st.started_total != 1)) {
        fprintf(stderr, "stats: %llu generations, expected 1\n",
                (unsigned long long)st.started_total);
        rc = CHORUS_E_BACKEND;
    }
    chorus_engine_destroy(e);
    printf("chorus %s (SOVERSION %d)\n", chorus_version(), CHORUS_SOVERSION);
    return rc == CHORUS_OK ? 0 : 1;
}
