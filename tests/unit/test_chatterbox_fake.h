/*
 * test_chatterbox_fake.h — start and stop tests/fakes/fake_chatterbox.py from C tests, and read
 * its request log. Header-only (static functions), included by tests/unit/test_chatterbox*.c.
 *
 *   struct fake f;                                              // fake_spawn.h
 *   cbfake_start(&f, "devnen", "--garble-seeds", "101", NULL);   // 0 on success
 *   ... CHATTERBOX_URL=f.base ...
 *   json_t *reqs = cbfake_requests(&f);   // array of logged requests (json_decref it)
 *   fake_stop(&f);
 */
#ifndef CHORUS_TEST_CHATTERBOX_FAKE_H
#define CHORUS_TEST_CHATTERBOX_FAKE_H

#include <fcntl.h>
#include <jansson.h>

#include "../fakes/fake_spawn.h"
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* api ("devnen" | "travisvn"), then extra arguments, NULL-terminated. 0 on success. */
static int cbfake_start(struct fake *f, const char *api, ...) {
    va_list ap;
    va_start(ap, api);
    int rc = fake_spawn(f, fake_script_path("fake_chatterbox.py"), "--api", api, ap);
    va_end(ap);
    return rc;
}

/* The logged requests as a JSON array (never NULL). */
static json_t *cbfake_requests(const struct fake *f) {
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
__attribute__((unused)) static int cbfake_count(const struct fake *f, const char *method, const char *path) {
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
