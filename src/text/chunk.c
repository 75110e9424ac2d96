/*
 * chunk.c — where to cut text: sentence > clause > word > character boundaries.
 */
#include "text/text.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Words that end with a period without ending a sentence ("Dr. Smith", "e.g. this"). */
static const char *const abbrevs[] = {
    "mr", "mrs", "ms", "dr", "st", "prof", "sr", "jr", "vs", "etc", "e.g", "i.e", "mt", "no",
    "fig", "approx", "dept", "est", "gen", "gov", "lt", "col", "sgt", "capt", "rev", "hon",
    "ave", "blvd", "rd", "vol", "ch", "p", "pp", "op", "cf", "al", "inc", "ltd", "co", "corp",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", NULL};

int chorus_text_is_abbrev(const char *w, size_t n) {
    if (n == 1 && isalpha((unsigned char)w[0])) return 1; /* an initial: "J. R. R. Tolkien" */
    for (const char *const *a = abbrevs; *a; a++)
        if (strlen(*a) == n && strncasecmp(*a, w, n) == 0) return 1;
    return 0;
}

/* BRK_WEAK: a word break that splits a unit of speech ("Dr. | Smith", "3:30 | pm",
 * "10 | km", "$5 | million"), taken only when no plain word break will do */
enum brk { BRK_NONE, BRK_WEAK, BRK_WORD, BRK_CLAUSE, BRK_SENTENCE };

/* Is s[i-len..i) the UTF-8 sequence `seq`? */
static int ends_with(const char *s, size_t i, const char *seq) {
    size_t k = strlen(seq);
    return i >= k && memcmp(s + i - k, seq, k) == 0;
}

/* Classify a break before the white space at s[p] (p > 0, s[p-1] not white space). */
static enum brk classify_space(const char *s, size_t n, size_t p) {
    size_t i = p;
    /* step back over closing quotes and brackets */
    for (;;) {
        if (i > 0 && strchr(")]}\"'", s[i - 1]) && s[i - 1]) {
            i--;
        } else if (ends_with(s, i, "\xE2\x80\x9D") || ends_with(s, i, "\xE2\x80\x99")) {
            i -= 3;
        } else if (ends_with(s, i, "\xC2\xBB")) {
            i -= 2;
        } else {
            break;
        }
    }
    if (i == 0) return BRK_WORD;
    char c = s[i - 1];
    if (c == '!' || c == '?' || ends_with(s, i, "\xE2\x80\xA6")) return BRK_SENTENCE;
    if (c == '.') {
        /* "..." is an ellipsis: a sentence end */
        if (i >= 2 && s[i - 2] == '.') return BRK_SENTENCE;
        size_t w = i - 1;
        while (w > 0 && (isalpha((unsigned char)s[w - 1]) || s[w - 1] == '.')) w--;
        if (w < i - 1 && chorus_text_is_abbrev(s + w, i - 1 - w)) return BRK_WEAK;
        /* a lowercase word next: not a sentence end ("approx. five") */
        size_t q = p;
        while (q < n) {
            size_t k = chorus_text_space_len(s + q, n - q);
            if (!k) break;
            q += k;
        }
        if (q < n && islower((unsigned char)s[q])) return BRK_CLAUSE;
        return BRK_SENTENCE;
    }
    if (c == ',' || c == ';' || c == ':' || ends_with(s, i, "\xE2\x80\x94") ||
        ends_with(s, i, "\xE2\x80\x93"))
        return BRK_CLAUSE;
    /* a free-standing dash: "this - that" */
    if (c == '-' && (i < 2 || chorus_text_space_len(s + i - 2, 1))) return BRK_CLAUSE;
    if (c >= '0' && c <= '9') return BRK_WEAK; /* a number and what it counts */
    return BRK_WORD;
}

/* Break right after CJK punctuation ending at s[p) (no white space needed). */
static enum brk classify_cjk(const char *s, size_t p) {
    if (ends_with(s, p, "\xE3\x80\x82") || ends_with(s, p, "\xEF\xBC\x81") ||
        ends_with(s, p, "\xEF\xBC\x9F"))
        return BRK_SENTENCE;
    if (ends_with(s, p, "\xE3\x80\x81") || ends_with(s, p, "\xEF\xBC\x8C") ||
        ends_with(s, p, "\xEF\xBC\x9B"))
        return BRK_CLAUSE;
    return BRK_NONE;
}

/* One step of a scan: the break at *p (BRK_NONE if none; *prev_space says whether white space
 * came just before), and *p moved past the character or white-space run there. */
static enum brk scan_step(const char *s, size_t n, size_t *p, int *prev_space) {
    size_t q = *p;
    unsigned char c = (unsigned char)s[q];
    if (c > ' ' && c < 0x80 && (q == 0 || (unsigned char)s[q - 1] < 0x80)) {
        /* the common case: printable ASCII after ASCII (no break possible before it) */
        *prev_space = 0;
        *p = q + 1;
        return BRK_NONE;
    }
    enum brk b = BRK_NONE;
    size_t k = chorus_text_space_len(s + q, n - q);
    if (k) {
        if (!*prev_space && q > 0) b = classify_space(s, n, q);
        *prev_space = 1;
        *p = q + k;
        return b;
    }
    if (q > 0 && !*prev_space) b = classify_cjk(s, q);
    *prev_space = 0;
    *p = q + chorus_utf8_char_len(s + q, n - q);
    return b;
}

size_t chorus_text_first_clause_end(const char *s, size_t n, size_t min, size_t limit) {
    int prev_space = 1;
    for (size_t p = 0; p <= limit && p < n;) {
        size_t at = p;
        enum brk b = scan_step(s, n, &p, &prev_space);
        if (at >= min && (b == BRK_CLAUSE || b == BRK_SENTENCE)) return at;
    }
    /* the text ends within the limit: its end is no cut */
    return 0;
}

size_t chorus_text_chunk_end(const char *s, size_t n, size_t limit) {
    if (n == 0) return 0;
    if (limit == 0) limit = 1;
    if (n <= limit) return n;
    size_t best[5] = {0, 0, 0, 0, 0};
    int prev_space = 1; /* a leading space run is no break */
    for (size_t p = 0; p <= limit && p < n;) {
        size_t at = p;
        enum brk b = scan_step(s, n, &p, &prev_space);
        if (b != BRK_NONE) best[b] = at;
    }
    size_t sent = best[BRK_SENTENCE], clause = best[BRK_CLAUSE], word = best[BRK_WORD],
           weak = best[BRK_WEAK];
    if (sent && sent * 10 >= limit * 3) return sent;
    if (clause && clause * 2 >= limit) return clause;
    if (sent) return sent;
    if (clause && clause * 4 >= limit) return clause;
    if (word && (word * 4 >= limit || word > weak)) return word > clause ? word : clause;
    if (weak > word) word = weak;
    if (word) return word > clause ? word : clause;
    if (clause) return clause;
    /* one word longer than the limit: the last character boundary that fits */
    size_t q = limit;
    while (q > 0 && ((unsigned char)s[q] & 0xC0) == 0x80) q--;
    if (q == 0) q = chorus_utf8_char_len(s, n);
    return q;
}
