/* abi.c — the sized-struct rules of chorus.h's ABI policy (see abi.h). */
#include "core/abi.h"

#include <string.h>

#include "core/util.h"

static size_t min_sz(size_t a, size_t b) {
    return a < b ? a : b;
}

static int bad_size(size_t got, size_t min_size, size_t max_size, const char *what, char *err,
                    size_t err_size) {
    chorus_fmt(err, err_size,
               "%s.size is %zu, but this libchorus %s takes %zu to %zu bytes (or more with the "
               "fields it does not know left zero): initialise the struct as chorus.h says "
               "(%s) and rebuild against the chorus.h of the library you run",
               what, got, chorus_version(), min_size, max_size,
               strcmp(what, "chorus_request") == 0 ? "chorus_request_default()"
               : strcmp(what, "chorus_engine_options") == 0 ? "chorus_engine_options_default()"
                                                            : "size = sizeof the struct");
    return CHORUS_E_INVALID;
}

int chorus_abi_read(void *dst, size_t dst_size, const void *src, size_t min_size,
                    const char *what, char *err, size_t err_size) {
    size_t got;
    memcpy(&got, src, sizeof got);
    if (got < min_size) return bad_size(got, min_size, dst_size, what, err, err_size);
    const unsigned char *p = src;
    for (size_t i = dst_size; i < got; i++)
        if (p[i]) return bad_size(got, min_size, dst_size, what, err, err_size);
    size_t n = min_sz(got, dst_size);
    memcpy((unsigned char *)dst + sizeof got, p + sizeof got, n - sizeof got);
    memcpy(dst, &dst_size, sizeof dst_size);
    return CHORUS_OK;
}

int chorus_abi_write(void *dst, const void *src, size_t src_size, size_t min_size,
                     const char *what, char *err, size_t err_size) {
    size_t want;
    memcpy(&want, dst, sizeof want);
    if (want < min_size) return bad_size(want, min_size, src_size, what, err, err_size);
    size_t n = min_sz(want, src_size);
    memcpy((unsigned char *)dst + sizeof want, (const unsigned char *)src + sizeof want,
           n - sizeof want);
    return CHORUS_OK;
}

void chorus_abi_init(void *dst, size_t size, const void *def, size_t def_size) {
    if (!dst || size < sizeof size) return;
    memset(dst, 0, size);
    memcpy(dst, def, min_sz(size, def_size));
    memcpy(dst, &size, sizeof size);
}
