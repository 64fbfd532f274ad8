/* The JSON scanner's primitives (strings, numbers, whitespace), shared by the generic tokenizer
 * (json.c) and the token-free readers of plain qsd packets (qsd.c) and history answers (bars.c,
 * msg.c's lazy reader), so all accept exactly the same bytes and convert numbers to the same
 * doubles. Included by those files only. */
#ifndef TVK_WIRE_SCAN_H
#define TVK_WIRE_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bytes.h"
#include "internal.h"

/* SSE2 is part of x86-64: the string scan takes 16 bytes a step there. */
#if TVK_SWAR && defined(__SSE2__)
#include <emmintrin.h>
#define TVK_SSE2 1
#else
#define TVK_SSE2 0
#endif

/* Bytes that end the fast scan of a string body: the quote, a backslash, control characters,
 * and non-ASCII bytes (whose UTF-8 is then checked). */
static const unsigned char str_stop[256] = {
    /* clang-format off */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    ['"'] = 1, ['\\'] = 1,
    [0x80] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* clang-format on */
};

static inline int is_ws(unsigned char c)
{
    /* Compact JSON has no whitespace: one comparison rejects every other byte. */
    return c <= ' ' && (c == ' ' || c == '\n' || c == '\r' || c == '\t');
}
static inline int is_digit(unsigned char c)
{
    return (unsigned)(c - '0') <= 9;
}
static inline int is_hex(unsigned char c)
{
    return is_digit(c) || (unsigned)((c | 0x20) - 'a') <= 5;
}

typedef struct scan {
    const unsigned char *s, *p, *end;
    const char *why;
    const unsigned char *num_fast; /* number_short may read a number (past its sign) before this */
} scan;

/* A scan of the document [s, end) from p. number_short reads up to 26 bytes without testing for
 * the end, so it takes the numbers that start 26 bytes or more before it, or every number when
 * the document's last byte is neither a digit nor '.' (a digit run then stops at a byte inside
 * the document, and so does the fraction after a '.'): JSON objects and arrays end so, and
 * their last number (a packet's "volume", a bar's last value) is read fast too. */
static inline scan scan_at(const unsigned char *s, const unsigned char *p, const unsigned char *end)
{
    size_t n = (size_t)(end - s);
    scan sc = {s, p, end, "", n >= 26 ? end - 25 : s};
    if (n && !is_digit(end[-1]) && end[-1] != '.') sc.num_fast = end;
    return sc;
}

#if TVK_SWAR
/* High bit set in the bytes of v that end the fast scan of a string ('"', '\\', below 0x20,
 * 0x80 and above), valid up to the lowest such byte, which is all the scan uses: a borrow only
 * travels upwards from a byte that is itself a hit, and x - 1 of a byte x = b ^ '"' has its
 * high bit set for x = 0 (the quote) or for b >= 0x80, which is a hit anyway. */
static inline uint64_t str_stop8(uint64_t v)
{
    uint64_t q = v ^ (ONES * '"'), b = v ^ (ONES * '\\');
    return ((q - ONES) | (b - ONES) | (v - ONES * 0x20) | v) & HIGH;
}

#endif

/* p at the opening quote; on success p is past the closing quote. */
static inline __attribute__((always_inline)) int scan_string(scan *sc, int *start, int *end)
{
    const unsigned char *p = sc->p + 1, *e = sc->end;
    *start = (int)(p - sc->s);
    for (;;) {
        /* Sixteen or eight bytes at a time, straight to the first byte that needs a look;
         * bytewise only within the last eight bytes of the document. */
#if TVK_SSE2
        while (e - p >= 16) {
            /* Signed, the bytes below 0x20 and from 0x80 up are both less than 0x20. */
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
            __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                                    _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                                       _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
            unsigned mask = (unsigned)_mm_movemask_epi8(hit);
            if (mask) {
                p += __builtin_ctz(mask);
                goto stop;
            }
            p += 16;
        }
#endif
#if TVK_SWAR
        while (e - p >= 8) {
            uint64_t v;
            memcpy(&v, p, 8);
            uint64_t hit = str_stop8(v);
            if (hit) {
                p += __builtin_ctzll(hit) >> 3;
                goto stop;
            }
            p += 8;
        }
#endif
        while (p < e && !str_stop[*p])
            p++;
        if (p >= e) {
            sc->p = p;
            sc->why = "unterminated string";
            return -1;
        }
#if TVK_SWAR
    stop:
#endif
        if (*p == '"') break;
        if (*p >= 0x80) {
            unsigned cp;
            size_t l = tvk_utf8_decode(p, (size_t)(e - p), &cp);
            if (!l) {
                sc->p = p;
                sc->why = "invalid UTF-8 in string";
                return -1;
            }
            p += l;
            continue;
        }
        if (*p != '\\') {
            sc->p = p;
            sc->why = "control character in string";
            return -1;
        }
        if (e - p < 2) {
            sc->p = p;
            sc->why = "unterminated string";
            return -1;
        }
        switch (p[1]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            p += 2;
            break;
        case 'u':
            if (e - p < 6 || !is_hex(p[2]) || !is_hex(p[3]) || !is_hex(p[4]) || !is_hex(p[5])) {
                sc->p = p;
                sc->why = "invalid \\u escape";
                return -1;
            }
            p += 6;
            break;
        default:
            sc->p = p;
            sc->why = "invalid escape";
            return -1;
        }
    }
    *end = (int)(p - sc->s);
    sc->p = p + 1;
    return 0;
}

/* End of the run of digits at p; the digits are accumulated into *mant (which wraps beyond 19
 * digits: the caller counts them). Byte by byte, with the end-of-input test: what is left to it
 * after number_short (below) is near the end of the document, long, or not a plain number. */
static inline const unsigned char *digit_run(const unsigned char *p, const unsigned char *e,
                                             uint64_t *mant)
{
    uint64_t m = *mant;
    unsigned d;
    while (p < e && (d = (unsigned)(*p - '0')) <= 9) {
        m = m * 10 + d;
        p++;
    }
    *mant = m;
    return p;
}

/* The numbers of bars and quotes ("1748304000.0", "236.05", "13823925.0") far from the end of
 * the document: at most 16 integer and 8 fraction digits, each loop unrolled (a digit costs a
 * load, a compare and two address computations, without the end-of-input test of digit_run).
 * Only [digits][.digits] followed by ',', ']' or '}' is taken, with at most 15 digits in all
 * (exact in a double: always converted here); 0 leaves everything else, errors included, to
 * the general scan. p is past the sign, before sc->num_fast (scan_at). */
static inline __attribute__((always_inline)) int number_short(scan *sc, const unsigned char *p,
                                                              int neg, jtok *t)
{
    uint64_t m = 0, d; /* d 64-bit: no extension before the add */
    unsigned i;
#pragma GCC unroll 16
    for (i = 0; i < 16; i++) {
        if ((d = (uint64_t)p[i] - '0') > 9) break;
        m = m * 10 + d;
    }
    if (i - 1 >= 15) return 0;        /* no digit, or 16 of them */
    if (*p == '0' && i > 1) return 0; /* "01" */
    const unsigned char *q = p + i;
    unsigned nfrac = 0;
    if (d == (uint64_t)'.' - '0') { /* the byte that ended the run, without keeping it */
        q++;
#pragma GCC unroll 8
        for (nfrac = 0; nfrac < 8; nfrac++) {
            if ((d = (uint64_t)q[nfrac] - '0') > 9) break;
            m = m * 10 + d;
        }
        if (nfrac - 1 >= 8 || i + nfrac > 15) return 0; /* "1.", 9+ decimals, 16+ digits */
        q += nfrac;
    }
    if (*q != ',' && (*q | 0x20) != '}') return 0; /* ',', ']' or '}' */
    double v = nfrac ? (double)m / tvk__pow10[nfrac] : (double)m;
    jt_set_num(t, neg ? -v : v);
    sc->p = q;
    return 1;
}

/* JSON number grammar; p before the end, at the value (a byte other than '-' or a digit is an
 * invalid number). The token gets the value when the short form allows an exact conversion
 * here (Clinger: at most 19 digits, mantissa <= 2^53, no exponent, at most 22 decimals, one
 * correctly rounded division), else the TVK_NUM_LATER pattern. */
static inline __attribute__((always_inline)) int scan_number(scan *sc, jtok *t)
{
    const unsigned char *p = sc->p, *e = sc->end;
    int neg = *p == '-';
    p += neg;
    if (p < sc->num_fast && number_short(sc, p, neg, t)) return 0;
    const unsigned char *ds = p;
    uint64_t mant = 0;
    p = digit_run(p, e, &mant);
    if (p == ds) {
        sc->why = "invalid number";
        return -1;
    }
    if (*ds == '0' && p - ds > 1) { /* "01" */
        sc->p = ds + 1;
        sc->why = "invalid number";
        return -1;
    }
    size_t ndig = (size_t)(p - ds), nfrac = 0;
    int later = 0;
    if (p < e && *p == '.') {
        const unsigned char *fs = ++p;
        p = digit_run(p, e, &mant);
        if (p == fs) {
            sc->p = p;
            sc->why = "invalid number";
            return -1;
        }
        nfrac = (size_t)(p - fs);
        ndig += nfrac;
    }
    if (p < e && (*p | 0x20) == 'e') {
        later = 1;
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (p >= e || !is_digit(*p)) {
            sc->p = p;
            sc->why = "invalid number";
            return -1;
        }
        while (p < e && is_digit(*p))
            p++;
    }
    /* "1x", "1.5.": a number must be followed by a structural character or whitespace. */
    if (p < e && !(is_ws(*p) || *p == ',' || *p == ']' || *p == '}')) {
        sc->p = p;
        sc->why = "invalid number";
        return -1;
    }
    sc->p = p;
    if (later || ndig > 19 || mant > (1ULL << 53) || nfrac > 22) {
        uint64_t bits = TVK_NUM_LATER; /* copied as bits: never through a floating register */
        memcpy((char *)t + offsetof(jtok, size), &bits, sizeof bits);
    } else {
        double v = nfrac ? (double)mant / tvk__pow10[nfrac] : (double)mant;
        jt_set_num(t, neg ? -v : v);
    }
    return 0;
}

/* The fixed text s of n bytes at sc->p (n a constant in the readers, so compared by a word
 * load or two, tvk__eq_small): 1 and past it, or 0. */
static inline __attribute__((always_inline)) int scan_lit(scan *sc, const char *s, size_t n)
{
    if ((size_t)(sc->end - sc->p) < n || !tvk__eq_small(sc->p, s, n)) return 0;
    sc->p += n;
    return 1;
}

/* A string at sc->p into *out (raw, without the quotes): 1 and past it, or 0 when there is
 * none or it is invalid. */
static inline __attribute__((always_inline)) int scan_str_at(scan *sc, tvk_str *out)
{
    int a, b;
    if (sc->p >= sc->end || *sc->p != '"' || scan_string(sc, &a, &b)) return 0;
    out->p = (const char *)sc->s + a;
    out->len = (size_t)(b - a);
    return 1;
}

#endif
