/* kokoro_voice.c — see kokoro_voice.h. */
#include "backends/kokoro/kokoro_voice.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chorus/chorus.h"

#define KV_DIM 256
#define KV_MAX_TERMS 16

int chorus_kokoro_voices_open(struct kokoro_voices *v, const char *path, char *err, size_t errlen) {
    memset(v, 0, sizeof *v);
    snprintf(v->path, sizeof v->path, "%s", path);
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: kokoro voices not found: %s", path, strerror(errno));
        return CHORUS_E_MODEL;
    }
    if (S_ISDIR(st.st_mode)) {
        v->is_dir = 1;
        return 0;
    }
    return chorus_tensor_file_load(&v->npz, path, err, errlen);
}

void chorus_kokoro_voices_close(struct kokoro_voices *v) {
    if (!v) return;
    chorus_tensor_file_release(&v->npz);
    memset(v, 0, sizeof *v);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with(const char *s, const char *sfx) {
    size_t a = strlen(s), b = strlen(sfx);
    return a > b && strcmp(s + a - b, sfx) == 0;
}

void chorus_kokoro_voices_list_free(char **names, int n) {
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

int chorus_kokoro_voices_list(const struct kokoro_voices *v, char ***names) {
    size_t n = 0, cap = 64;
    char **o = malloc(cap * sizeof *o);
    if (!o) return -1;
    if (v->is_dir) {
        DIR *d = opendir(v->path);
        if (!d) {
            free(o);
            return -1;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.' || !(ends_with(e->d_name, ".pt") || ends_with(e->d_name, ".bin")))
                continue;
            size_t l = strlen(e->d_name) - (ends_with(e->d_name, ".pt") ? 3 : 4);
            int dup = 0;
            for (size_t i = 0; i < n; i++)
                dup |= strlen(o[i]) == l && strncmp(o[i], e->d_name, l) == 0;
            if (dup) continue;
            if (n == cap) {
                char **nn = realloc(o, 2 * cap * sizeof *o);
                if (!nn) break;
                o = nn;
                cap *= 2;
            }
            if (!(o[n] = strndup(e->d_name, l))) break;
            n++;
        }
        closedir(d);
    } else {
        for (size_t i = 0; i < v->npz.n; i++) {
            if (n == cap) {
                char **nn = realloc(o, 2 * cap * sizeof *o);
                if (!nn) break;
                o = nn;
                cap *= 2;
            }
            if (!(o[n] = strdup(v->npz.t[i].name))) break;
            n++;
        }
    }
    qsort(o, n, sizeof *o, cmp_str);
    *names = o;
    return (int)n;
}

/* One named pack into *out ([rows][256], malloc'd). */
static int load_one(const struct kokoro_voices *v, const char *name, float **out, int *rows,
                    char *err, size_t errlen) {
    const float *data = NULL;
    size_t numel = 0;
    char path[1300];
    struct chorus_tensor_file tf;
    int have_tf = 0, rc = 0;
    float *raw = NULL;
    for (const char *p = name; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '.') || (p == name && *p == '.')) {
            snprintf(err, errlen, "kokoro: invalid voice name '%s'", name);
            return CHORUS_E_UNKNOWN_VOICE;
        }
    if (!v->is_dir) {
        const struct chorus_tensor *t = chorus_tensor_file_find(&v->npz, name);
        if (!t) {
            snprintf(err, errlen, "kokoro: unknown voice '%s' (not in %s; run 'chorus voices -b "
                                  "kokoro' to list them)", name, v->path);
            return CHORUS_E_UNKNOWN_VOICE;
        }
        data = t->data;
        numel = t->numel;
    } else {
        struct stat st;
        snprintf(path, sizeof path, "%.1000s/%.250s.pt", v->path, name);
        if (stat(path, &st) == 0) {
            if ((rc = chorus_tensor_file_load(&tf, path, err, errlen))) return rc;
            have_tf = 1;
            if (tf.n != 1) {
                chorus_tensor_file_release(&tf);
                snprintf(err, errlen, "%s: a voice file must hold one tensor, this one has %zu",
                         path, tf.n);
                return CHORUS_E_MODEL;
            }
            data = tf.t[0].data;
            numel = tf.t[0].numel;
        } else {
            snprintf(path, sizeof path, "%.1000s/%.250s.bin", v->path, name);
            FILE *f = fopen(path, "rb");
            if (!f) {
                snprintf(err, errlen, "kokoro: unknown voice '%s' (no %s.pt or %s.bin in %s; run "
                                      "'chorus voices -b kokoro' to list them)",
                         name, name, name, v->path);
                return CHORUS_E_UNKNOWN_VOICE;
            }
            if (fstat(fileno(f), &st) != 0 || st.st_size <= 0 || st.st_size % (KV_DIM * 4) != 0 ||
                st.st_size > 4096 * KV_DIM * 4) {
                fclose(f);
                snprintf(err, errlen, "%s: size %lld is not a whole number of 256-float rows "
                                      "(expected 522240 bytes for 510x1x256 float32)",
                         path, (long long)st.st_size);
                return CHORUS_E_MODEL;
            }
            numel = (size_t)st.st_size / 4;
            raw = malloc((size_t)st.st_size);
            if (!raw || fread(raw, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
                fclose(f);
                free(raw);
                snprintf(err, errlen, "%s: cannot read the voice", path);
                return CHORUS_E_IO;
            }
            fclose(f);
            data = raw;
        }
    }
    if (numel == 0 || numel % KV_DIM != 0) {
        snprintf(err, errlen, "kokoro voice '%s' has %zu floats, not rows of 256", name, numel);
        rc = CHORUS_E_MODEL;
    } else if (!(*out = malloc(numel * sizeof(float)))) {
        rc = CHORUS_E_NOMEM;
    } else {
        memcpy(*out, data, numel * sizeof(float));
        *rows = (int)(numel / KV_DIM);
    }
    if (have_tf) chorus_tensor_file_release(&tf);
    free(raw);
    return rc;
}

int chorus_kokoro_voices_load(const struct kokoro_voices *v, const char *spec, float **pack, int *rows,
                       char *err, size_t errlen) {
    char names[KV_MAX_TERMS][128];
    double w[KV_MAX_TERMS], sign[KV_MAX_TERMS], total = 0;
    int n = 0;
    const char *p = spec;
    *pack = NULL;
    int comma = strchr(spec, ',') != NULL;
    double sg = 1;
    while (*p) {
        if (n == KV_MAX_TERMS) {
            snprintf(err, errlen, "kokoro: voice mix '%s' has more than %d voices", spec, KV_MAX_TERMS);
            return CHORUS_E_INVALID;
        }
        while (*p == ' ') p++;
        size_t l = strcspn(p, "+-,( ");
        if (l == 0 || l >= sizeof names[0]) {
            snprintf(err, errlen, "kokoro: cannot parse voice '%s' (expected name, name(weight), "
                                  "and + or - between voices)", spec);
            return CHORUS_E_INVALID;
        }
        memcpy(names[n], p, l);
        names[n][l] = 0;
        p += l;
        w[n] = 1;
        if (*p == '(') {
            char *end;
            w[n] = strtod(p + 1, &end);
            if (end == p + 1 || *end != ')' || !(w[n] > 0) || w[n] > 1e6) {
                snprintf(err, errlen, "kokoro: bad weight in voice mix '%s' (use name(2.5) with a "
                                      "positive number)", spec);
                return CHORUS_E_INVALID;
            }
            p = end + 1;
        }
        sign[n] = sg;
        total += w[n];
        n++;
        while (*p == ' ') p++;
        if (!*p) break;
        if (*p != '+' && *p != '-' && *p != ',') {
            snprintf(err, errlen, "kokoro: unexpected '%c' in voice mix '%s'", *p, spec);
            return CHORUS_E_INVALID;
        }
        sg = *p == '-' ? -1 : 1;
        p++;
        if (!*p) {
            snprintf(err, errlen, "kokoro: voice mix '%s' ends with an operator", spec);
            return CHORUS_E_INVALID;
        }
    }
    if (n == 0) {
        snprintf(err, errlen, "kokoro: empty voice name");
        return CHORUS_E_UNKNOWN_VOICE;
    }
    (void)comma;
    float *acc = NULL;
    int acc_rows = 0;
    for (int i = 0; i < n; i++) {
        float *one;
        int r;
        int rc = load_one(v, names[i], &one, &r, err, errlen);
        if (rc) {
            free(acc);
            return rc;
        }
        if (n == 1) {
            *pack = one;
            *rows = r;
            return 0;
        }
        if (!acc) {
            acc = calloc((size_t)r * KV_DIM, sizeof *acc);
            acc_rows = r;
            if (!acc) {
                free(one);
                return CHORUS_E_NOMEM;
            }
        } else if (r != acc_rows) {
            free(one);
            free(acc);
            snprintf(err, errlen, "kokoro: voices in '%s' have different row counts (%d vs %d)",
                     spec, acc_rows, r);
            return CHORUS_E_INVALID;
        }
        float k = (float)(sign[i] * w[i] / total);
        for (size_t q = 0; q < (size_t)r * KV_DIM; q++) acc[q] += k * one[q];
        free(one);
    }
    *pack = acc;
    *rows = acc_rows;
    return 0;
}
