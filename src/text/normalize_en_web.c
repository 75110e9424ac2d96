/*
 * normalize_en_web.c — things read character by character or digit by digit: e-mail addresses,
 * URLs (host:port too), phone and social-security style numbers, IPv4 addresses.
 * Every scan to the end of a run goes through chorus_tn_run_end(), which memoizes it: a text of a million
 * dots costs one pass, not a million.
 */
#include "text/normalize_int.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* the spoken form of a URL or address punctuation character, or NULL */
static const char *web_symbol(int c) {
    switch (c) {
    case '.': return "dot";
    case '/': return "slash";
    case ':': return "colon";
    case '-': return "dash";
    case '_': return "underscore";
    case '?': return "question mark";
    case '=': return "equals";
    case '&': return "and";
    case '#': return "hash";
    case '%': return "percent";
    case '~': return "tilde";
    case '+': return "plus";
    case '@': return "at";
    default: return NULL;
    }
}

/* Speak s[i..p) as an address: letter runs as words, digit runs as a number (up to four digits,
 * `digits_max`) or digit by digit, punctuation by name. */
static void sb_address(struct sb *b, const struct nw *w, size_t i, size_t p, size_t digits_max) {
    for (size_t k = i; k < p;) {
        int c = (unsigned char)w->s[k];
        const char *word = web_symbol(c);
        size_t d = 0, l = 0;
        if (word) {
            chorus_tn_sb_word(b, word);
            k++;
        } else if ((d = chorus_tn_digits_at(w, k)) > 0) {
            while (k + d < p && isdigit((unsigned char)w->s[k + d])) d++;
            if (d > p - k) d = p - k;
            if (d <= digits_max && w->s[k] != '0') chorus_tn_sb_cardinal(b, w->s + k, d);
            else chorus_tn_sb_digits(b, w->s + k, d);
            k += d;
        } else {
            while (k + l < p && !isdigit((unsigned char)w->s[k + l]) &&
                   !web_symbol((unsigned char)w->s[k + l]))
                l++;
            char piece[65];
            for (size_t q = 0; q < l; q += 64) {
                size_t m = l - q > 64 ? 64 : l - q;
                memcpy(piece, w->s + k + q, m);
                piece[m] = '\0';
                if (q == 0) chorus_tn_sb_word(b, piece);
                else chorus_tn_sb_add(b, piece);
            }
            k += l;
        }
    }
}

/* the last '.' in [i, e) within 64 bytes of e (a top-level domain is shorter), or e if none */
static size_t last_dot(const struct nw *w, size_t i, size_t e) {
    for (size_t k = e; k > i && e - k < 64; k--)
        if (w->s[k - 1] == '.') return k - 1;
    return e;
}

size_t chorus_tn_rule_email(struct nw *w, size_t i) {
    if (!w->o->email) return 0;
    size_t at = chorus_tn_run_end(w, RUN_EMAIL_LOCAL, i);
    if (at == i || chorus_tn_char_at(w, at) != '@') return 0;
    if (w->email_at != at + 1) { /* check each '@' once, whatever the number of starts */
        w->email_at = at + 1;
        w->email_end = 0;
        size_t p = chorus_tn_run_end(w, RUN_EMAIL_DOMAIN, at + 1);
        while (p > at + 1 && (w->s[p - 1] == '.' || w->s[p - 1] == '-')) p--;
        size_t dot = last_dot(w, at + 1, p);
        /* the domain: a label, a dot, and a top-level domain of two or more letters */
        if (dot < p && dot > at + 1 && p - dot > 2 && chorus_tn_alphas_at(w, dot + 1) >= p - dot - 1)
            w->email_end = p;
    }
    if (!w->email_end) return 0;
    struct sb b = SB_INIT;
    sb_address(&b, w, i, w->email_end, 0);
    chorus_tn_put_sb(w, &b, i);
    return w->email_end - i;
}

static const char *const tlds[] = {
    "com", "org", "net", "io",   "edu", "gov", "co",   "uk",  "de",  "fr", "info", "dev",
    "ai",  "app", "us",  "ca",   "eu",  "me",  "tv",   "ly",  "gg",  "it", "es",   "nl",
    "ru",  "cn",  "jp",  "in",   "au",  "br",  "ch",   "se",  "no",  "fi", "dk",   "pl",
    "be",  "at",  "cz",  "sm",   "xyz", "biz", "online", "site", "tech", "store", "blog",
    "cloud", "ie", "nz", "za",  "mx",  "kr",  "tw",   "hk",  "sg",  "il", "gr",   "pt",
    "ro",  "hu",  "ua",  "mil",  "int", "museum", "name", "pro", "sh", "so", "to", NULL};

static int known_tld(const struct nw *w, size_t i, size_t n) {
    for (const char *const *t = tlds; *t; t++)
        if (chorus_tn_ci_word(w, i, n, *t)) return 1;
    return 0;
}

/* ":8080" at i: its length, 0 if none */
static size_t port_at(const struct nw *w, size_t i) {
    size_t d = chorus_tn_char_at(w, i) == ':' ? chorus_tn_digits_at(w, i + 1) : 0;
    return d >= 1 && d <= 5 && !chorus_tn_is_alpha_at(w, i + 1 + d) ? d + 1 : 0;
}

/* a bare host at i (example.com, sub.example.co.uk, localhost:8080): where it ends, 0 if none.
 * Asks only memoized run ends, so failing from every start of a long run stays linear. */
static size_t bare_host(struct nw *w, size_t i) {
    size_t he = chorus_tn_run_end(w, RUN_HOST, i);
    while (he > i && (w->s[he - 1] == '.' || w->s[he - 1] == '-')) he--;
    if (he - i == 9 && chorus_tn_ci_prefix(w, i, "localhost") && port_at(w, he)) return he;
    size_t dot = last_dot(w, i, he);
    if (dot >= he || dot == i) return 0;
    /* "e.g" or "U.S" are not domains: the first label has two or more characters */
    if (chorus_tn_run_end(w, RUN_LABEL, i) - i < 2 || chorus_tn_char_at(w, i) == '-') return 0;
    size_t tl = he - dot - 1;
    int port = port_at(w, he) > 0, path = chorus_tn_char_at(w, he) == '/';
    /* a known top-level domain, or any letters with a port or a path after */
    if (tl < 2 || chorus_tn_alphas_at(w, dot + 1) < tl) return 0;
    if (!known_tld(w, dot + 1, tl) && !(tl <= 6 && (port || path))) return 0;
    return he;
}

size_t chorus_tn_rule_url(struct nw *w, size_t i) {
    if (!w->o->url) return 0;
    size_t scheme = 0;
    if (chorus_tn_ci_prefix(w, i, "https://")) scheme = 8;
    else if (chorus_tn_ci_prefix(w, i, "http://")) scheme = 7;
    else if (chorus_tn_ci_prefix(w, i, "ftp://")) scheme = 6;
    int www = chorus_tn_ci_prefix(w, i + scheme, "www.");
    if (!scheme && !www && !bare_host(w, i)) return 0;
    /* the URL runs to the next white space, less trailing punctuation */
    size_t p = chorus_tn_run_end(w, RUN_CHUNK, i);
    while (p > i && strchr(".,;:!?)]'", w->s[p - 1])) p--;
    if (p <= i + scheme) return 0;
    struct sb b = SB_INIT;
    size_t k = i;
    /* http(s):// goes unsaid, as people read URLs aloud */
    if (scheme == 6) chorus_tn_sb_word(&b, "f t p colon slash slash");
    k += scheme;
    if (chorus_tn_ci_prefix(w, k, "www.")) {
        chorus_tn_sb_word(&b, "w w w dot");
        k += 4;
    }
    sb_address(&b, w, k, p, 4);
    chorus_tn_put_sb(w, &b, i);
    return p - i;
}

/* 192.168.0.1 (with an optional :port) */
size_t chorus_tn_rule_ip(struct nw *w, size_t i) {
    size_t p = i;
    for (int part = 0; part < 4; part++) {
        size_t d = chorus_tn_digits_at(w, p);
        if (d < 1 || d > 3 || chorus_tn_uint_at(w, p) > 255) return 0;
        p += d;
        if (part < 3) {
            if (chorus_tn_char_at(w, p) != '.') return 0;
            p++;
        }
    }
    p += port_at(w, p);
    if (chorus_tn_is_alnum_at(w, p) || (chorus_tn_char_at(w, p) == '.' && chorus_tn_is_digit_at(w, p + 1))) return 0;
    struct sb b = SB_INIT;
    for (size_t k = i; k < p; k++) {
        if (w->s[k] == '.') chorus_tn_sb_word(&b, "dot");
        else if (w->s[k] == ':') chorus_tn_sb_word(&b, "colon");
        else chorus_tn_sb_digit(&b, w->s[k]);
    }
    chorus_tn_put_sb(w, &b, i);
    return p - i;
}

struct phone {
    char g[6][8];
    size_t gl[6], ng, total;
    int plus, paren, strong_sep;
};

/* the groups of a phone-like number at i; returns where it ends */
static size_t phone_groups(const struct nw *w, size_t i, struct phone *ph) {
    size_t p = i;
    memset(ph, 0, sizeof *ph);
    if (chorus_tn_char_at(w, p) == '+') ph->plus = 1, p++;
    while (ph->ng < 6 && p < w->n) {
        int open = chorus_tn_char_at(w, p) == '(';
        p += (size_t)open;
        size_t k = chorus_tn_digits_at(w, p);
        if (k == 0 || k > 4) return 0;
        memcpy(ph->g[ph->ng], w->s + p, k);
        ph->gl[ph->ng++] = k;
        ph->total += k;
        p += k;
        if (open) {
            if (chorus_tn_char_at(w, p) != ')') return 0;
            p++;
            ph->paren = 1;
            if (chorus_tn_is_digit_at(w, p)) continue; /* (555)555-5555 */
        } else if (chorus_tn_char_at(w, p) == '(' && ph->ng == 1 && ph->plus) {
            continue; /* +1(123) */
        }
        int c = chorus_tn_char_at(w, p), next = chorus_tn_char_at(w, p + 1);
        if ((c == '-' || c == '.') && (isdigit(next) || next == '(')) {
            ph->strong_sep = 1;
            p++;
            continue;
        }
        if (c == ' ' && (isdigit(next) || next == '(') &&
            (ph->paren || ph->plus || ph->strong_sep || ph->ng == 1)) {
            /* spaces separate groups only in a number that looks like a phone number */
            size_t k2 = chorus_tn_digits_at(w, p + 1 + (next == '('));
            if (k2 < 2 || k2 > 4) break;
            p++;
            continue;
        }
        break;
    }
    return p;
}

static int phone_shape_ok(const struct phone *ph) {
    const size_t *gl = ph->gl;
    if (ph->ng >= 3 && ph->total >= 10 && ph->total <= 15 && gl[ph->ng - 1] == 4) return 1;
    if (ph->plus && ph->ng >= 2 && ph->total >= 8 && ph->total <= 15) return 1;
    if (ph->ng == 2 && gl[0] == 3 && gl[1] == 4 && ph->strong_sep && !ph->plus) return 1;
    if (ph->ng == 3 && gl[0] == 3 && gl[1] == 2 && gl[2] == 4 && ph->strong_sep) return 1; /* SSN */
    return 0;
}

/* (555) 123-4567, (555)555-5555, 555-123-4567, 555.123.4567, +1 555 123 4567, 555-1234,
 * 111-11-1111: digit by digit, a pause (comma) between groups */
size_t chorus_tn_rule_phone(struct nw *w, size_t i) {
    if (!w->o->phone) return 0;
    struct phone ph;
    size_t p = phone_groups(w, i, &ph);
    if (!p || !chorus_tn_word_ends(w, p) || (chorus_tn_char_at(w, p) == '.' && chorus_tn_is_digit_at(w, p + 1))) return 0;
    if (!phone_shape_ok(&ph)) return 0;
    struct sb b = SB_INIT;
    if (ph.plus) chorus_tn_sb_word(&b, "plus");
    for (size_t g = 0; g < ph.ng; g++) {
        chorus_tn_sb_digits(&b, ph.g[g], ph.gl[g]);
        if (g + 1 < ph.ng) chorus_tn_sb_add(&b, ",");
    }
    chorus_tn_put_sb(w, &b, i);
    return p - i;
}
