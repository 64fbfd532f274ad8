/* Wire-layer internals shared between its files (not installed). */
#ifndef TVK_WIRE_INTERNAL_H
#define TVK_WIRE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tvkit/wire.h"

/* A NaN payload that no conversion produces (they never return NaN). */
#define TVK_NUM_LATER 0x7ff4c0ffee5eed00ULL

/* A token (json.c explains the layout). Defined here so that the wire layer's own hot paths
 * (classification, views) read tokens inline instead of through the public accessors. */
typedef struct jtok {
    int type;  /* tvk_jtype */
    int start; /* first byte (after the quote for strings) */
    int end;   /* one past the last byte (at the closing quote for strings) */
    /* Containers and keys: size (members of an object, elements of an array, 1 for a key) and
     * skip (index of the token after the subtree; for a key: after its value). A number holds
     * its value in these 8 bytes instead (jt_num): converted while its digits were scanned, or
     * the TVK_NUM_LATER pattern when the text needs tvk_parse_double (exponent, more than 19
     * digits, above 2^53). Any scalar's next token is its index + 1 (jt_next). 20 bytes a
     * token: a 5,000-bar answer has ~55,000. */
    int size;
    int skip;
} jtok;

_Static_assert(offsetof(jtok, skip) == offsetof(jtok, size) + sizeof(int),
               "a number's value spans size and skip");

struct tvk_json {
    const char *js;
    size_t len;
    jtok *tok;
    unsigned cap;
    int n;
    int no_shortcut; /* tests: tokenize bars the generic way too, to compare the tokens */
};

static inline double jt_num(const jtok *t)
{
    double v;
    memcpy(&v, (const char *)t + offsetof(jtok, size), sizeof v);
    return v;
}

static inline void jt_set_num(jtok *t, double v)
{
    memcpy((char *)t + offsetof(jtok, size), &v, sizeof v);
}

static inline int jt_is_later(const jtok *t)
{
    uint64_t bits;
    memcpy(&bits, (const char *)t + offsetof(jtok, size), sizeof bits);
    return bits == TVK_NUM_LATER;
}

/* The value of number token t: the tokenizer's conversion, or tvk_parse_double of its text for
 * the forms it left (exponent, long mantissa). 0 or a TVK_E* code. */
static inline int jt_double(const tvk_json *j, const jtok *t, double *v)
{
    if (!jt_is_later(t)) {
        *v = jt_num(t);
        return 0;
    }
    return tvk_parse_double(j->js + t->start, (size_t)(t->end - t->start), v);
}

/* json.c: gives back a token store larger than keep_bytes (the tokens are then gone). */
void tvk__json_trim(tvk_json *j, size_t keep_bytes);
size_t tvk__json_buffer_bytes(const tvk_json *j);

/* Token i must exist. */
static inline int jt_next(const tvk_json *j, int i)
{
    return j->tok[i].type == TVK_J_NUMBER ? i + 1 : j->tok[i].skip;
}

/* number.c: 10^0..10^22, exactly representable. */
extern const double tvk__pow10[23];

static inline tvk_jtype jt_type(const tvk_json *j, int i)
{
    return (i >= 0 && i < j->n) ? (tvk_jtype)j->tok[i].type : TVK_J_INVALID;
}

/* Raw bytes of token i, which must exist. */
static inline tvk_str jt_str(const tvk_json *j, int i)
{
    tvk_str s = {j->js + j->tok[i].start, (size_t)(j->tok[i].end - j->tok[i].start)};
    return s;
}

static inline int jt_is(const tvk_json *j, int i, const char *lit, size_t n)
{
    return (size_t)(j->tok[i].end - j->tok[i].start) == n &&
           !memcmp(j->js + j->tok[i].start, lit, n);
}

/* Eight bytes at a time (SWAR) where a 64-bit little-endian load and ctz are available. */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define TVK_SWAR 1
#define ONES 0x0101010101010101ULL
#define HIGH 0x8080808080808080ULL

#else
#define TVK_SWAR 0
#endif

/* Decodes one UTF-8 sequence strictly (no overlongs, no surrogates, <= U+10FFFF).
 * Returns its length, or 0 when invalid. */
static inline size_t tvk_utf8_decode(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        len = 2, min = 0x80, c &= 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, min = 0x800, c &= 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, min = 0x10000, c &= 0x07;
    } else {
        return 0;
    }
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    *cp = c;
    return len;
}

/* json.c: a token store that grows to the largest packet seen and is then reused. */
tvk_json *tvk_json_new(void);
void tvk_json_free(tvk_json *j);
/* Tokenizes and validates [s, s+n) as one strict JSON value. 0, TVK_EJSON (*err_at = byte
 * offset of the problem) or TVK_ENOMEM. */
int tvk_json_parse(tvk_json *j, const char *s, size_t n, size_t *err_at, const char **why);

struct tvk_reader {
    size_t max_message;
    const char *msg; /* the fed message; not owned */
    size_t len;
    size_t pos; /* next unread byte */
    int active; /* 0 once the message is exhausted or dropped after an error */
    tvk_json *json;
    tvk_reader_stats st;
    char err[256];
};

/* reader.c: records a detail message for the handle. */
void tvk_reader_set_err(tvk_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
