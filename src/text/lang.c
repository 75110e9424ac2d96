/*
 * lang.c — language detection: the script decides for non-Latin text; Latin-script text is
 * scored against small stopword lists plus letters that only some languages use.
 */
#include "text/text.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

enum script {
    SC_LATIN, SC_CYRILLIC, SC_GREEK, SC_ARABIC, SC_HEBREW, SC_DEVANAGARI, SC_BENGALI, SC_TAMIL,
    SC_THAI, SC_GEORGIAN, SC_ARMENIAN, SC_HANGUL, SC_KANA, SC_HAN, SC_COUNT
};

static int script_of(uint32_t cp) {
    if ((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') || (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7))
        return SC_LATIN;
    if (cp >= 0x400 && cp <= 0x52F) return SC_CYRILLIC;
    if (cp >= 0x370 && cp <= 0x3FF) return SC_GREEK;
    if ((cp >= 0x600 && cp <= 0x6FF) || (cp >= 0x750 && cp <= 0x77F)) return SC_ARABIC;
    if (cp >= 0x590 && cp <= 0x5FF) return SC_HEBREW;
    if (cp >= 0x900 && cp <= 0x97F) return SC_DEVANAGARI;
    if (cp >= 0x980 && cp <= 0x9FF) return SC_BENGALI;
    if (cp >= 0xB80 && cp <= 0xBFF) return SC_TAMIL;
    if (cp >= 0xE00 && cp <= 0xE7F) return SC_THAI;
    if (cp >= 0x10A0 && cp <= 0x10FF) return SC_GEORGIAN;
    if (cp >= 0x530 && cp <= 0x58F) return SC_ARMENIAN;
    if ((cp >= 0xAC00 && cp <= 0xD7AF) || (cp >= 0x1100 && cp <= 0x11FF) ||
        (cp >= 0x3130 && cp <= 0x318F))
        return SC_HANGUL;
    if ((cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x31F0 && cp <= 0x31FF)) return SC_KANA;
    if ((cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
        (cp >= 0xF900 && cp <= 0xFAFF))
        return SC_HAN;
    return -1;
}

static const char *const script_lang[SC_COUNT] = {
    "en", "ru", "el", "ar", "he", "hi", "bn", "ta", "th", "ka", "hy", "ko", "ja", "zh"};

/* Latin-script languages and their most frequent short words */
struct latin {
    const char *code;
    const char *const *words;
};
static const char *const w_en[] = {"the", "and", "of", "to", "is", "in", "it", "that", "was",
    "for", "on", "are", "with", "as", "his", "they", "be", "at", "this", "have", "from", "or",
    "had", "by", "not", "but", "what", "were", "we", "when", "your", "can", "there", "an",
    "which", "she", "he", "you", "their", "will", "would", "been", "has", "who", "my", "i", NULL};
static const char *const w_es[] = {"el", "la", "de", "que", "y", "en", "los", "se", "del", "las",
    "un", "por", "con", "no", "una", "su", "para", "es", "al", "lo", "como", "m\xC3\xA1s",
    "pero", "sus", "le", "ya", "este", "porque", "esta", "entre", "cuando", "muy", "sin",
    "sobre", "tambi\xC3\xA9n", "hasta", "hay", "donde", "desde", "todo", "nos", "yo", "est\xC3\xA1",
    "son", "tiene", "hoy", NULL};
static const char *const w_fr[] = {"le", "la", "les", "de", "des", "et", "\xC3\xA0", "en", "un",
    "une", "du", "est", "que", "qui", "dans", "pour", "pas", "sur", "au", "avec", "ce", "il",
    "elle", "ne", "se", "plus", "par", "son", "sont", "mais", "nous", "vous", "ou", "cette",
    "aux", "ont", "\xC3\xA9t\xC3\xA9", "je", "tout", "comme", "leur", "bien", "c'est", "j'ai", "sommes",
    NULL};
static const char *const w_de[] = {"der", "die", "das", "und", "ist", "nicht", "ein", "eine",
    "zu", "den", "von", "mit", "sich", "des", "auf", "f\xC3\xBCr", "im", "dem", "es", "auch",
    "als", "an", "nach", "wie", "aus", "bei", "er", "sie", "wir", "ich", "oder", "aber", "noch",
    "wird", "sind", "hat", "haben", "war", "werden", "heute", "sehr", "kein", NULL};
static const char *const w_it[] = {"il", "la", "di", "che", "e", "\xC3\xA8", "un", "una", "per",
    "non", "in", "del", "della", "le", "si", "con", "sono", "da", "gli", "lo", "al", "come",
    "ma", "ho", "ha", "anche", "pi\xC3\xB9", "questo", "nel", "alla", "dei", "delle", "io", "mi",
    "ci", "oggi", "molto", "sempre", NULL};
static const char *const w_pt[] = {"o", "a", "os", "as", "de", "que", "e", "do", "da", "em", "um",
    "uma", "para", "com", "n\xC3\xA3o", "\xC3\xA9", "se", "na", "no", "por", "mais", "dos", "das",
    "como", "mas", "ao", "ele", "ela", "foi", "s\xC3\xA3o", "seu", "sua", "isso", "tamb\xC3\xA9m",
    "est\xC3\xA1", "muito", "hoje", "voc\xC3\xAA", "eu", NULL};
static const char *const w_nl[] = {"de", "het", "een", "en", "van", "is", "dat", "niet", "in",
    "op", "te", "zijn", "voor", "met", "die", "er", "aan", "ook", "als", "maar", "om", "bij",
    "of", "wat", "dan", "nog", "wordt", "door", "naar", "ik", "je", "we", "heeft", "vandaag",
    "zeer", "geen", NULL};
static const struct latin latins[] = {{"en", w_en}, {"es", w_es}, {"fr", w_fr}, {"de", w_de},
                                      {"it", w_it}, {"pt", w_pt}, {"nl", w_nl}};
#define NLATIN (sizeof latins / sizeof latins[0])

/* letters that point to languages: UTF-8 sequence, language index, weight */
static const struct {
    const char *seq;
    int lang;
    double w;
} hints[] = {
    {"\xC3\xB1", 1, 1.0},  /* ñ */      {"\xC3\xA7", 2, 0.5},  /* ç */
    {"\xC3\xA7", 5, 0.5},               {"\xC5\x93", 2, 1.0},  /* œ */
    {"\xC3\xAA", 2, 0.5},  /* ê */      {"\xC3\xA2", 2, 0.5},  /* â */
    {"\xC3\xAE", 2, 0.5},  /* î */      {"\xC3\xB9", 2, 0.5},  /* ù */
    {"\xC3\x9F", 3, 1.0},  /* ß */      {"\xC3\xA4", 3, 0.7},  /* ä */
    {"\xC3\xB6", 3, 0.5},  /* ö */      {"\xC3\xBC", 3, 0.5},  /* ü */
    {"\xC3\xAC", 4, 0.7},  /* ì */      {"\xC3\xB2", 4, 0.7},  /* ò */
    {"\xC3\xA3", 5, 1.0},  /* ã */      {"\xC3\xB5", 5, 1.0},  /* õ */
    {"\xC4\xB3", 6, 1.0},  /* ĳ */
};

/* lowercase a word of Latin letters (ASCII and Latin-1 capitals) into buf */
static size_t lower_word(const char *s, size_t n, char *buf, size_t cap) {
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0xC3 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
            (unsigned char)s[i + 1] <= 0x9E && (unsigned char)s[i + 1] != 0x97 && k + 2 < cap) {
            buf[k++] = (char)c;
            buf[k++] = (char)(s[i + 1] + 0x20);
            i++;
        } else {
            buf[k++] = (char)tolower(c);
        }
    }
    buf[k] = '\0';
    return k;
}

const char *chorus_text_detect_language(const char *s, size_t n, double *confidence) {
    double conf_dummy;
    if (!confidence) confidence = &conf_dummy;
    *confidence = 0;
    if (!s) return "und";
    if (n > CHORUS_LANG_SCAN_BYTES) {
        n = CHORUS_LANG_SCAN_BYTES;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--; /* whole characters */
    }
    size_t count[SC_COUNT] = {0}, letters = 0;
    int ukr = 0, farsi = 0;
    double score[NLATIN] = {0};
    size_t hits = 0;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        int k = chorus_utf8_decode(s + i, n - i, &cp);
        if (k <= 0) {
            i++;
            continue;
        }
        int sc = script_of(cp);
        if (sc < 0) {
            if (cp == 0xBF) score[1] += 2.0; /* ¿ and ¡ open Spanish questions and exclamations */
            if (cp == 0xA1) score[1] += 1.0;
            i += (size_t)k;
            continue;
        }
        if (sc != SC_LATIN) {
            count[sc]++;
            letters++;
            if (cp == 0x456 || cp == 0x457 || cp == 0x454 || cp == 0x491) ukr++; /* і ї є ґ */
            if (cp == 0x67E || cp == 0x686 || cp == 0x698 || cp == 0x6AF) farsi++; /* پ چ ژ گ */
            i += (size_t)k;
            continue;
        }
        /* a Latin word (letters and apostrophes) */
        size_t j = i;
        while (j < n) {
            uint32_t c2;
            int k2 = chorus_utf8_decode(s + j, n - j, &c2);
            if (k2 <= 0) break;
            if (script_of(c2) != SC_LATIN && c2 != '\'') break;
            if (script_of(c2) == SC_LATIN) count[SC_LATIN]++, letters++;
            j += (size_t)k2;
        }
        char w[64];
        if (j - i < 16) { /* stopwords are short; longer words only carry letter hints */
            lower_word(s + i, j - i, w, sizeof w);
            size_t in_langs = 0;
            int found[NLATIN] = {0};
            for (size_t l = 0; l < NLATIN; l++)
                for (const char *const *p = latins[l].words; *p; p++)
                    if ((*p)[0] == w[0] && strcmp(*p, w) == 0) {
                        found[l] = 1;
                        in_langs++;
                        break;
                    }
            if (in_langs) {
                hits++;
                for (size_t l = 0; l < NLATIN; l++)
                    if (found[l]) score[l] += 1.0 / (double)in_langs;
            }
            for (size_t h = 0; h < sizeof hints / sizeof hints[0]; h++)
                if (strstr(w, hints[h].seq)) score[hints[h].lang] += hints[h].w;
        } else if (j - i < sizeof w) {
            lower_word(s + i, j - i, w, sizeof w);
            for (size_t h = 0; h < sizeof hints / sizeof hints[0]; h++)
                if (strstr(w, hints[h].seq)) score[hints[h].lang] += hints[h].w;
        }
        i = j > i ? j : i + 1;
    }
    if (letters == 0) return "und";
    /* the dominant script */
    int best = 0;
    for (int sc = 1; sc < SC_COUNT; sc++)
        if (count[sc] > count[best]) best = sc;
    /* Japanese mixes kana with Han: any real share of kana makes it Japanese */
    if ((best == SC_HAN || best == SC_KANA) && count[SC_KANA] * 10 >= count[SC_HAN] &&
        count[SC_KANA] > 0)
        best = SC_KANA;
    double share = (double)(count[best] + (best == SC_KANA ? count[SC_HAN] : 0)) / (double)letters;
    if (share > 1) share = 1;
    if (best != SC_LATIN) {
        *confidence = share * (letters >= 4 ? 1.0 : 0.6);
        if (best == SC_CYRILLIC && ukr) return "uk";
        if (best == SC_ARABIC && farsi) return "fa";
        return script_lang[best];
    }
    size_t bl = 0;
    double total = 0;
    for (size_t l = 0; l < NLATIN; l++) {
        total += score[l];
        if (score[l] > score[bl]) bl = l;
    }
    if (total <= 0) return "und";
    double second = 0;
    for (size_t l = 0; l < NLATIN; l++)
        if (l != bl && score[l] > second) second = score[l];
    double margin = (score[bl] - second) / score[bl];
    double evidence = hits >= 6 ? 1.0 : 0.4 + 0.1 * (double)hits;
    *confidence = share * evidence * (0.5 + 0.5 * margin);
    return latins[bl].code;
}
