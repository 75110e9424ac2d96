/* tensorfile.c — see tensorfile.h. */
#include "nn/tensorfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chorus/chorus.h"

static int setf(char *err, size_t errlen, int status, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return status;
}

/* ---------------------------------------------------------------------------------------- */
/* Pickle values                                                                              */

enum pv_kind {
    PV_NONE, PV_BOOL, PV_INT, PV_FLOAT, PV_STR, PV_TUPLE, PV_LIST, PV_DICT, PV_GLOBAL,
    PV_STORAGE, PV_TENSOR, PV_MARK, PV_OBJECT
};

struct pv {
    enum pv_kind kind;
    int64_t i;
    double f;
    char *s;           /* STR, GLOBAL ("module.name"), STORAGE (dtype global) */
    char *key;         /* STORAGE key */
    struct pv **items; /* TUPLE, LIST; DICT as key, value pairs */
    size_t n, cap;
    /* TENSOR */
    struct pv *storage;
    int64_t offset;
    int ndim;
    int64_t shape[CHORUS_TENSOR_MAXDIM], stride[CHORUS_TENSOR_MAXDIM];
    struct pv *next_alloc;
};

struct vm {
    const unsigned char *p, *end;
    struct pv *all; /* every allocated value, for freeing */
    struct pv **stack;
    size_t sp, scap;
    struct pv **memo;
    size_t nmemo;
    char *err;
    size_t errlen;
    const char *label;
};

static struct pv *pv_new(struct vm *m, enum pv_kind k) {
    struct pv *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->kind = k;
    v->next_alloc = m->all;
    m->all = v;
    return v;
}

static void vm_free(struct vm *m) {
    struct pv *v = m->all;
    while (v) {
        struct pv *n = v->next_alloc;
        free(v->s);
        free(v->key);
        free(v->items);
        free(v);
        v = n;
    }
    free(m->stack);
    free(m->memo);
}

static int pv_append(struct pv *c, struct pv *x) {
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 8;
        struct pv **ni = realloc(c->items, nc * sizeof *ni);
        if (!ni) return -1;
        c->items = ni;
        c->cap = nc;
    }
    c->items[c->n++] = x;
    return 0;
}

static int push(struct vm *m, struct pv *v) {
    if (!v) return -1;
    if (m->sp == m->scap) {
        size_t nc = m->scap ? m->scap * 2 : 64;
        struct pv **ns = realloc(m->stack, nc * sizeof *ns);
        if (!ns) return -1;
        m->stack = ns;
        m->scap = nc;
    }
    m->stack[m->sp++] = v;
    return 0;
}

static struct pv *pop(struct vm *m) { return m->sp ? m->stack[--m->sp] : NULL; }

/* Index of the topmost MARK, or -1. */
static long find_mark(struct vm *m) {
    for (size_t i = m->sp; i-- > 0;)
        if (m->stack[i]->kind == PV_MARK) return (long)i;
    return -1;
}

static int vm_fail(struct vm *m, const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    setf(m->err, m->errlen, CHORUS_E_MODEL, "%s: bad pickle in torch archive: %s", m->label, buf);
    return CHORUS_E_MODEL;
}

static int need(struct vm *m, size_t n) { return (size_t)(m->end - m->p) >= n; }

static uint64_t le(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static int memo_put(struct vm *m, uint64_t idx, struct pv *v) {
    if (idx > 10000000) return -1;
    if (idx >= m->nmemo) {
        size_t nn = (size_t)idx + 1 > m->nmemo * 2 ? (size_t)idx + 1 : m->nmemo * 2;
        struct pv **nm = realloc(m->memo, nn * sizeof *nm);
        if (!nm) return -1;
        memset(nm + m->nmemo, 0, (nn - m->nmemo) * sizeof *nm);
        m->memo = nm;
        m->nmemo = nn;
    }
    m->memo[idx] = v;
    return 0;
}

static int to_shape(struct vm *m, struct pv *t, int64_t *out, int *nd) {
    if (!t || t->kind != PV_TUPLE) return vm_fail(m, "tensor size/stride is not a tuple");
    if (t->n > CHORUS_TENSOR_MAXDIM) return vm_fail(m, "tensor has %zu dimensions", t->n);
    for (size_t i = 0; i < t->n; i++) {
        if (t->items[i]->kind != PV_INT || t->items[i]->i < 0)
            return vm_fail(m, "tensor size/stride entry is not a non-negative int");
        out[i] = t->items[i]->i;
    }
    *nd = (int)t->n;
    return 0;
}

/* REDUCE: call a whitelisted global. */
static struct pv *do_reduce(struct vm *m, struct pv *fn, struct pv *args, int *rc) {
    *rc = 0;
    if (fn->kind != PV_GLOBAL || args->kind != PV_TUPLE) {
        *rc = vm_fail(m, "REDUCE on something that is not a global");
        return NULL;
    }
    if (strcmp(fn->s, "collections.OrderedDict") == 0) return pv_new(m, PV_DICT);
    if (strcmp(fn->s, "torch._utils._rebuild_tensor_v2") == 0 ||
        strcmp(fn->s, "torch._utils._rebuild_tensor") == 0) {
        if (args->n < 4 || args->items[0]->kind != PV_STORAGE || args->items[1]->kind != PV_INT) {
            *rc = vm_fail(m, "_rebuild_tensor_v2 called with unexpected arguments");
            return NULL;
        }
        struct pv *t = pv_new(m, PV_TENSOR);
        if (!t) return NULL;
        t->storage = args->items[0];
        t->offset = args->items[1]->i;
        int nd1, nd2;
        if ((*rc = to_shape(m, args->items[2], t->shape, &nd1)) != 0) return NULL;
        if ((*rc = to_shape(m, args->items[3], t->stride, &nd2)) != 0) return NULL;
        if (nd1 != nd2) {
            *rc = vm_fail(m, "tensor size and stride disagree in rank");
            return NULL;
        }
        t->ndim = nd1;
        return t;
    }
    if (strcmp(fn->s, "torch._utils._rebuild_parameter") == 0) {
        if (args->n < 1 || args->items[0]->kind != PV_TENSOR) {
            *rc = vm_fail(m, "_rebuild_parameter without a tensor");
            return NULL;
        }
        return args->items[0];
    }
    *rc = vm_fail(m, "unsupported callable '%s' (not a plain state dict or tensor)", fn->s);
    return NULL;
}

static int vm_run(struct vm *m, struct pv **result) {
    for (;;) {
        if (!need(m, 1)) return vm_fail(m, "truncated (no STOP opcode)");
        unsigned op = *m->p++;
        struct pv *v = NULL, *a, *b;
        long mk;
        switch (op) {
        case 0x80: /* PROTO */
            if (!need(m, 1)) return vm_fail(m, "truncated");
            m->p++;
            continue;
        case '.': /* STOP */
            *result = pop(m);
            if (!*result) return vm_fail(m, "empty stack at STOP");
            return 0;
        case '}': v = pv_new(m, PV_DICT); break;
        case ']': v = pv_new(m, PV_LIST); break;
        case ')': v = pv_new(m, PV_TUPLE); break;
        case '(': v = pv_new(m, PV_MARK); break;
        case 'N': v = pv_new(m, PV_NONE); break;
        case 0x88: case 0x89: /* NEWTRUE NEWFALSE */
            v = pv_new(m, PV_BOOL);
            if (v) v->i = op == 0x88;
            break;
        case 'K': case 'M': case 'J': { /* BININT1 BININT2 BININT */
            int n = op == 'K' ? 1 : op == 'M' ? 2 : 4;
            if (!need(m, (size_t)n)) return vm_fail(m, "truncated int");
            v = pv_new(m, PV_INT);
            if (v) v->i = op == 'J' ? (int32_t)le(m->p, 4) : (int64_t)le(m->p, n);
            m->p += n;
            break;
        }
        case 0x8a: { /* LONG1 */
            if (!need(m, 1)) return vm_fail(m, "truncated long");
            unsigned n = *m->p++;
            if (n > 8 || !need(m, n)) return vm_fail(m, "long of %u bytes not supported", n);
            uint64_t u = n ? le(m->p, (int)n) : 0;
            if (n && n < 8 && (m->p[n - 1] & 0x80)) u |= ~(uint64_t)0 << (8 * n);
            m->p += n;
            v = pv_new(m, PV_INT);
            if (v) v->i = (int64_t)u;
            break;
        }
        case 'G': { /* BINFLOAT, big-endian double */
            if (!need(m, 8)) return vm_fail(m, "truncated float");
            uint64_t u = 0;
            for (int i = 0; i < 8; i++) u = (u << 8) | m->p[i];
            m->p += 8;
            v = pv_new(m, PV_FLOAT);
            if (v) memcpy(&v->f, &u, sizeof v->f);
            break;
        }
        case 'X': case 0x8c: case 'T': case 'U': case 'B': case 'C': { /* strings/bytes */
            int w = (op == 'X' || op == 'T' || op == 'B') ? 4 : 1;
            if (!need(m, (size_t)w)) return vm_fail(m, "truncated string length");
            uint64_t n = le(m->p, w);
            m->p += w;
            if (!need(m, n)) return vm_fail(m, "string of %llu bytes runs past the end",
                                            (unsigned long long)n);
            v = pv_new(m, PV_STR);
            if (v && !(v->s = strndup((const char *)m->p, n))) v = NULL;
            m->p += n;
            break;
        }
        case 'c': { /* GLOBAL "module\nname\n" */
            const unsigned char *nl1 = memchr(m->p, '\n', (size_t)(m->end - m->p));
            if (!nl1) return vm_fail(m, "truncated GLOBAL");
            const unsigned char *nl2 = memchr(nl1 + 1, '\n', (size_t)(m->end - nl1 - 1));
            if (!nl2) return vm_fail(m, "truncated GLOBAL");
            v = pv_new(m, PV_GLOBAL);
            if (v && (v->s = malloc((size_t)(nl2 - m->p) + 1))) {
                size_t l1 = (size_t)(nl1 - m->p), l2 = (size_t)(nl2 - nl1 - 1);
                memcpy(v->s, m->p, l1);
                v->s[l1] = '.';
                memcpy(v->s + l1 + 1, nl1 + 1, l2);
                v->s[l1 + 1 + l2] = 0;
            } else v = NULL;
            m->p = nl2 + 1;
            break;
        }
        case 'q': case 'r': { /* BINPUT LONG_BINPUT */
            int w = op == 'q' ? 1 : 4;
            if (!need(m, (size_t)w) || !m->sp) return vm_fail(m, "bad PUT");
            uint64_t idx = le(m->p, w);
            m->p += w;
            if (memo_put(m, idx, m->stack[m->sp - 1])) return vm_fail(m, "memo index too large");
            continue;
        }
        case 'h': case 'j': { /* BINGET LONG_BINGET */
            int w = op == 'h' ? 1 : 4;
            if (!need(m, (size_t)w)) return vm_fail(m, "bad GET");
            uint64_t idx = le(m->p, w);
            m->p += w;
            if (idx >= m->nmemo || !m->memo[idx]) return vm_fail(m, "GET of unset memo %llu",
                                                                   (unsigned long long)idx);
            v = m->memo[idx];
            break;
        }
        case 't': case 'l': { /* TUPLE LIST from mark */
            if ((mk = find_mark(m)) < 0) return vm_fail(m, "TUPLE/LIST without MARK");
            v = pv_new(m, op == 't' ? PV_TUPLE : PV_LIST);
            if (!v) break;
            for (size_t i = (size_t)mk + 1; i < m->sp; i++)
                if (pv_append(v, m->stack[i])) return setf(m->err, m->errlen, CHORUS_E_NOMEM,
                                                           "%s: out of memory", m->label);
            m->sp = (size_t)mk;
            break;
        }
        case 0x85: case 0x86: case 0x87: { /* TUPLE1..3 */
            size_t n = op - 0x84u;
            if (m->sp < n) return vm_fail(m, "stack underflow in TUPLE%zu", n);
            v = pv_new(m, PV_TUPLE);
            if (!v) break;
            for (size_t i = m->sp - n; i < m->sp; i++)
                if (pv_append(v, m->stack[i])) v = NULL;
            m->sp -= n;
            break;
        }
        case 'a': /* APPEND */
            if (m->sp < 2 || m->stack[m->sp - 2]->kind != PV_LIST) return vm_fail(m, "bad APPEND");
            a = pop(m);
            if (pv_append(m->stack[m->sp - 1], a)) return vm_fail(m, "out of memory");
            continue;
        case 'e': /* APPENDS */
            if ((mk = find_mark(m)) < 1 || m->stack[mk - 1]->kind != PV_LIST)
                return vm_fail(m, "bad APPENDS");
            for (size_t i = (size_t)mk + 1; i < m->sp; i++)
                if (pv_append(m->stack[mk - 1], m->stack[i])) return vm_fail(m, "out of memory");
            m->sp = (size_t)mk;
            continue;
        case 's': /* SETITEM */
            if (m->sp < 3 || m->stack[m->sp - 3]->kind != PV_DICT) return vm_fail(m, "bad SETITEM");
            b = pop(m);
            a = pop(m);
            if (pv_append(m->stack[m->sp - 1], a) || pv_append(m->stack[m->sp - 1], b))
                return vm_fail(m, "out of memory");
            continue;
        case 'u': /* SETITEMS */
            if ((mk = find_mark(m)) < 1 || m->stack[mk - 1]->kind != PV_DICT ||
                (m->sp - (size_t)mk - 1) % 2)
                return vm_fail(m, "bad SETITEMS");
            for (size_t i = (size_t)mk + 1; i < m->sp; i++)
                if (pv_append(m->stack[mk - 1], m->stack[i])) return vm_fail(m, "out of memory");
            m->sp = (size_t)mk;
            continue;
        case 'R': { /* REDUCE */
            if (m->sp < 2) return vm_fail(m, "stack underflow in REDUCE");
            b = pop(m);
            a = pop(m);
            int rc;
            v = do_reduce(m, a, b, &rc);
            if (rc) return rc;
            break;
        }
        case 'b': /* BUILD: state for the object below; ignored (OrderedDict _metadata) */
            if (m->sp < 2) return vm_fail(m, "stack underflow in BUILD");
            pop(m);
            continue;
        case 'Q': { /* BINPERSID */
            a = pop(m);
            if (!a || a->kind != PV_TUPLE || a->n < 5 || a->items[0]->kind != PV_STR ||
                strcmp(a->items[0]->s, "storage") != 0 || a->items[1]->kind != PV_GLOBAL ||
                a->items[2]->kind != PV_STR || a->items[4]->kind != PV_INT)
                return vm_fail(m, "unsupported persistent id (not a torch storage)");
            v = pv_new(m, PV_STORAGE);
            if (!v) break;
            if (!(v->s = strdup(a->items[1]->s)) || !(v->key = strdup(a->items[2]->s))) v = NULL;
            else v->i = a->items[4]->i;
            break;
        }
        case '0': /* POP */
            if (!pop(m)) return vm_fail(m, "stack underflow in POP");
            continue;
        case '2': /* DUP */
            if (!m->sp) return vm_fail(m, "stack underflow in DUP");
            v = m->stack[m->sp - 1];
            break;
        default:
            return vm_fail(m, "unsupported opcode 0x%02x", op);
        }
        if (push(m, v)) return setf(m->err, m->errlen, CHORUS_E_NOMEM, "%s: out of memory",
                                    m->label);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Building the tensor list                                                                   */

static int add_tensor(struct chorus_tensor_file *f, const char *name, int ndim,
                      const int64_t *shape, const unsigned char *src, size_t numel) {
    if (f->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 64;
        struct chorus_tensor *nt = realloc(f->t, nc * sizeof *nt);
        if (!nt) return CHORUS_E_NOMEM;
        f->t = nt;
        f->cap = nc;
    }
    struct chorus_tensor *t = &f->t[f->n];
    memset(t, 0, sizeof *t);
    if (!(t->name = strdup(name))) return CHORUS_E_NOMEM;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    t->numel = numel;
    if (((uintptr_t)src % sizeof(float)) == 0) {
        t->data = (const float *)(const void *)src;
    } else {
        t->owned = malloc(numel ? numel * sizeof(float) : 1);
        if (!t->owned) {
            free(t->name);
            return CHORUS_E_NOMEM;
        }
        memcpy(t->owned, src, numel * sizeof(float));
        t->data = t->owned;
    }
    f->n++;
    return 0;
}

struct pt_ctx {
    struct chorus_tensor_file *f;
    const char *prefix; /* archive folder, e.g. "model" */
    const char *label;
    char *err;
    size_t errlen;
};

static int pt_tensor(struct pt_ctx *c, const char *name, const struct pv *t) {
    const struct pv *st = t->storage;
    const char *dt = st->s;
    if (strcmp(dt, "torch.FloatStorage") != 0)
        return setf(c->err, c->errlen, CHORUS_E_MODEL,
                    "%s: tensor '%s' is stored as %s; only float32 (torch.FloatStorage) is "
                    "supported (convert the checkpoint with .float())",
                    c->label, name, dt);
    char member[512];
    snprintf(member, sizeof member, "%s/data/%s", c->prefix, st->key);
    const struct chorus_zip_entry *e = chorus_zip_find(&c->f->zip, member);
    if (!e)
        return setf(c->err, c->errlen, CHORUS_E_MODEL,
                    "%s: tensor '%s' refers to storage '%s', which the archive lacks (truncated "
                    "or corrupt file?)",
                    c->label, name, member);
    char zerr[256];
    const unsigned char *data = chorus_zip_data(&c->f->zip, e, zerr, sizeof zerr);
    if (!data) return setf(c->err, c->errlen, CHORUS_E_MODEL, "%s: %s", c->label, zerr);
    if (st->i < 0 || (uint64_t)st->i > e->size / 4)
        return setf(c->err, c->errlen, CHORUS_E_MODEL,
                    "%s: storage of tensor '%s' holds %llu bytes, fewer than its %lld floats",
                    c->label, name, (unsigned long long)e->size, (long long)st->i);
    /* Contiguity and bounds. */
    uint64_t numel = 1, expect = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->stride[i] != (int64_t)expect)
            return setf(c->err, c->errlen, CHORUS_E_MODEL,
                        "%s: tensor '%s' is not contiguous; save it with .contiguous()",
                        c->label, name);
        if (t->shape[i] && numel > UINT64_MAX / (uint64_t)t->shape[i])
            return setf(c->err, c->errlen, CHORUS_E_MODEL, "%s: tensor '%s' is too large",
                        c->label, name);
        numel *= (uint64_t)t->shape[i];
        expect *= (uint64_t)(t->shape[i] ? t->shape[i] : 1);
    }
    if (t->offset < 0 || (uint64_t)t->offset > (uint64_t)st->i ||
        numel > (uint64_t)st->i - (uint64_t)t->offset)
        return setf(c->err, c->errlen, CHORUS_E_MODEL,
                    "%s: tensor '%s' (%llu floats at offset %lld) overruns its storage (%lld)",
                    c->label, name, (unsigned long long)numel, (long long)t->offset,
                    (long long)st->i);
    int rc = add_tensor(c->f, name, t->ndim, t->shape, data + 4 * (uint64_t)t->offset,
                        (size_t)numel);
    if (rc) return setf(c->err, c->errlen, rc, "%s: out of memory", c->label);
    return 0;
}

static int pt_walk(struct pt_ctx *c, const char *prefix, const struct pv *v, int depth) {
    if (depth > 8)
        return setf(c->err, c->errlen, CHORUS_E_MODEL, "%s: dictionaries nested too deeply",
                    c->label);
    if (v->kind == PV_TENSOR) return pt_tensor(c, prefix, v);
    if (v->kind != PV_DICT) return 0;
    for (size_t i = 0; i + 1 < v->n; i += 2) {
        const struct pv *k = v->items[i], *x = v->items[i + 1];
        if (k->kind != PV_STR) continue;
        size_t need_len = strlen(prefix) + strlen(k->s) + 2;
        char *name = malloc(need_len);
        if (!name) return setf(c->err, c->errlen, CHORUS_E_NOMEM, "%s: out of memory", c->label);
        snprintf(name, need_len, "%s%s%s", prefix, *prefix ? "." : "", k->s);
        int rc = pt_walk(c, name, x, depth + 1);
        free(name);
        if (rc) return rc;
    }
    return 0;
}

static int load_torch(struct chorus_tensor_file *f, const struct chorus_zip_entry *pkl,
                      const char *label, char *err, size_t errlen) {
    char prefix[256];
    size_t plen = strlen(pkl->name) - strlen("/data.pkl");
    if (plen >= sizeof prefix)
        return setf(err, errlen, CHORUS_E_MODEL, "%s: archive prefix too long", label);
    memcpy(prefix, pkl->name, plen);
    prefix[plen] = 0;
    char zerr[256];
    const unsigned char *d = chorus_zip_data(&f->zip, pkl, zerr, sizeof zerr);
    if (!d) return setf(err, errlen, CHORUS_E_MODEL, "%s: %s", label, zerr);
    struct vm m = {.p = d, .end = d + pkl->size, .err = err, .errlen = errlen, .label = label};
    struct pv *root = NULL;
    int rc = vm_run(&m, &root);
    if (rc == 0) {
        struct pt_ctx c = {f, prefix, label, err, errlen};
        rc = pt_walk(&c, "", root, 0);
        if (rc == 0 && f->n == 0)
            rc = setf(err, errlen, CHORUS_E_MODEL, "%s: the archive holds no tensors", label);
    }
    vm_free(&m);
    return rc;
}

/* NPY: magic, version, header length, a Python dict literal, data. */
static int load_npy(struct chorus_tensor_file *f, const char *name, const unsigned char *p,
                    size_t size, const char *label, char *err, size_t errlen) {
    if (size < 10 || memcmp(p, "\x93NUMPY", 6) != 0)
        return setf(err, errlen, CHORUS_E_MODEL, "%s: '%s' is not an npy array (bad magic)",
                    label, name);
    size_t hl, ho;
    if (p[6] == 1) hl = (size_t)p[8] | ((size_t)p[9] << 8), ho = 10;
    else if (size >= 12) hl = (size_t)p[8] | ((size_t)p[9] << 8) | ((size_t)p[10] << 16) |
                              ((size_t)p[11] << 24), ho = 12;
    else return setf(err, errlen, CHORUS_E_MODEL, "%s: '%s': truncated npy header", label, name);
    if (hl > size - ho)
        return setf(err, errlen, CHORUS_E_MODEL, "%s: '%s': npy header runs past the data",
                    label, name);
    char hdr[1024];
    if (hl >= sizeof hdr)
        return setf(err, errlen, CHORUS_E_MODEL, "%s: '%s': npy header too long", label, name);
    memcpy(hdr, p + ho, hl);
    hdr[hl] = 0;
    if (!strstr(hdr, "'descr': '<f4'"))
        return setf(err, errlen, CHORUS_E_MODEL,
                    "%s: '%s' is not little-endian float32 ('<f4'); header: %s", label, name, hdr);
    if (!strstr(hdr, "'fortran_order': False"))
        return setf(err, errlen, CHORUS_E_MODEL, "%s: '%s' is in Fortran order; save it in C "
                                                 "order", label, name);
    const char *sh = strstr(hdr, "'shape': (");
    if (!sh) return setf(err, errlen, CHORUS_E_MODEL, "%s: '%s': npy header has no shape",
                         label, name);
    sh += strlen("'shape': (");
    int64_t shape[CHORUS_TENSOR_MAXDIM];
    int nd = 0;
    uint64_t numel = 1;
    while (*sh && *sh != ')') {
        while (*sh == ' ' || *sh == ',') sh++;
        if (*sh == ')') break;
        char *endp;
        errno = 0;
        long long v = strtoll(sh, &endp, 10);
        if (endp == sh || v < 0 || errno || nd == CHORUS_TENSOR_MAXDIM ||
            (v && numel > UINT64_MAX / (uint64_t)v))
            return setf(err, errlen, CHORUS_E_MODEL, "%s: '%s': bad npy shape", label, name);
        shape[nd++] = v;
        numel *= (uint64_t)v;
        sh = endp;
    }
    if (numel > (size - ho - hl) / 4)
        return setf(err, errlen, CHORUS_E_MODEL,
                    "%s: '%s' declares %llu floats but holds %zu bytes (truncated?)", label, name,
                    (unsigned long long)numel, size - ho - hl);
    int rc = add_tensor(f, name, nd, shape, p + ho + hl, (size_t)numel);
    return rc ? setf(err, errlen, rc, "%s: out of memory", label) : 0;
}

int chorus_tensor_file_load_mem(struct chorus_tensor_file *f, const void *data, size_t size,
                                const char *label, char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    const unsigned char *b = data;
    if (size >= 6 && memcmp(b, "\x93NUMPY", 6) == 0) return load_npy(f, "", b, size, label,
                                                                     err, errlen);
    if (size < 4 || memcmp(b, "PK\x03\x04", 4) != 0)
        return setf(err, errlen, CHORUS_E_MODEL,
                    "%s: not a PyTorch (.pt/.pth) or NumPy (.npz/.npy) file (no zip or npy "
                    "signature)",
                    label);
    char zerr[256];
    if (chorus_zip_open(&f->zip, data, size, zerr, sizeof zerr) != 0)
        return setf(err, errlen, CHORUS_E_MODEL, "%s: %s", label, zerr);
    int rc = 0;
    const struct chorus_zip_entry *pkl = NULL;
    for (size_t i = 0; i < f->zip.n; i++) {
        const char *n = f->zip.entries[i].name;
        size_t l = strlen(n);
        const char *slash = strchr(n, '/');
        (void)l;
        if (slash && strcmp(slash, "/data.pkl") == 0) {
            pkl = &f->zip.entries[i];
            break;
        }
    }
    if (pkl) {
        rc = load_torch(f, pkl, label, err, errlen);
    } else {
        for (size_t i = 0; i < f->zip.n && rc == 0; i++) {
            const struct chorus_zip_entry *e = &f->zip.entries[i];
            size_t l = strlen(e->name);
            if (l < 5 || strcmp(e->name + l - 4, ".npy") != 0) continue;
            const unsigned char *d = chorus_zip_data(&f->zip, e, zerr, sizeof zerr);
            if (!d) {
                rc = setf(err, errlen, CHORUS_E_MODEL, "%s: %s", label, zerr);
                break;
            }
            char *nm = strndup(e->name, l - 4);
            if (!nm) {
                rc = setf(err, errlen, CHORUS_E_NOMEM, "%s: out of memory", label);
                break;
            }
            rc = load_npy(f, nm, d, e->size, label, err, errlen);
            free(nm);
        }
        if (rc == 0 && f->n == 0)
            rc = setf(err, errlen, CHORUS_E_MODEL,
                      "%s: zip archive is neither a torch.save file (no data.pkl) nor an npz "
                      "(no .npy members)",
                      label);
    }
    if (rc) chorus_tensor_file_release(f);
    return rc;
}

int chorus_tensor_file_load(struct chorus_tensor_file *f, const char *path, char *err,
                            size_t errlen) {
    memset(f, 0, sizeof *f);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return setf(err, errlen, errno == ENOENT ? CHORUS_E_MODEL : CHORUS_E_IO,
                    "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return setf(err, errlen, CHORUS_E_IO, "%s: not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    if (size == 0) {
        close(fd);
        return setf(err, errlen, CHORUS_E_MODEL, "%s: file is empty", path);
    }
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return setf(err, errlen, CHORUS_E_IO, "%s: cannot map: %s", path, strerror(errno));
    int rc = chorus_tensor_file_load_mem(f, map, size, path, err, errlen);
    if (rc) {
        munmap(map, size);
        return rc;
    }
    f->map = map;
    f->map_size = size;
    f->map_is_mmap = 1;
    return 0;
}

const struct chorus_tensor *chorus_tensor_file_find(const struct chorus_tensor_file *f,
                                                    const char *name) {
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->t[i].name, name) == 0) return &f->t[i];
    return NULL;
}

void chorus_tensor_file_release(struct chorus_tensor_file *f) {
    if (!f) return;
    for (size_t i = 0; i < f->n; i++) {
        free(f->t[i].name);
        free(f->t[i].owned);
    }
    free(f->t);
    chorus_zip_release(&f->zip);
    if (f->map_is_mmap && f->map) munmap(f->map, f->map_size);
    memset(f, 0, sizeof *f);
}
