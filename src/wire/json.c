/* JSON: a single-pass strict tokenizer and the typed accessors.
 *
 * Tokens follow jsmn's layout (type, start, end, size; string tokens exclude the quotes; a key
 * token has size 1 and its value follows it) plus a skip index. jsmn itself was measured and
 * dropped (see docs/WIRE.md): even in strict mode it accepts invalid documents ("[1 2]",
 * "{\"a\":tru}", control characters, trailing bytes), so it needed a second validation pass,
 * and jsmn alone already capped the quote stream below 5 M packets/s on our machines. This
 * tokenizer validates while it scans, in one pass. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "scan.h"

#define MAX_DEPTH 512

tvk_json *tvk_json_new(void)
{
    tvk_json *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->cap = 256;
    j->tok = malloc(j->cap * sizeof *j->tok);
    if (!j->tok) {
        tvk_json_free(j);
        return NULL;
    }
    return j;
}

void tvk_json_free(tvk_json *j)
{
    if (!j) return;
    free(j->tok);
    free(j);
}

void tvk__json_trim(tvk_json *j, size_t keep_bytes)
{
    if (j->cap * sizeof *j->tok <= keep_bytes || j->cap <= 256) return;
    /* A failed shrink keeps the larger store, which is still valid. */
    jtok *t = realloc(j->tok, 256 * sizeof *t);
    if (!t) return;
    j->tok = t;
    j->cap = 256;
    j->n = 0;
}

size_t tvk__json_buffer_bytes(const tvk_json *j)
{
    return (size_t)j->cap * sizeof *j->tok;
}

static int grow(tvk_json *j)
{
    if (j->cap > (unsigned)INT32_MAX / 2 / sizeof *j->tok) return TVK_ENOMEM;
    unsigned cap = j->cap * 2;
    jtok *t = realloc(j->tok, cap * sizeof *t);
    if (!t) return TVK_ENOMEM;
    j->tok = t;
    j->cap = cap;
    return 0;
}

/* A bar as the server writes it, {"i":<number>,"v":[<numbers>]}, at sc->p: its 11 or so tokens
 * written at tk[nt...] exactly as the generic path would write them (keys' and containers' skip
 * and size included), without its dispatch and container stack. Anything else (whitespace,
 * another key, a null, a nested value, more than 8 values) returns 0 with sc->p unchanged and
 * the generic path takes the object; 1 = done, *nt past the bar, sc->p past its '}'. The
 * caller made room for BAR_MAX_TOKENS tokens. */
#define BAR_MAX_VALUES 8
#define BAR_MAX_TOKENS (5 + BAR_MAX_VALUES)
static inline __attribute__((always_inline)) int bar_shortcut(scan *sc, jtok *tk, int *ntp)
{
    const unsigned char *p0 = sc->p, *e = sc->end;
    if (e - p0 < 14 || memcmp(p0, "{\"i\":", 5)) return 0;
    int nt = *ntp;
    jtok *o = &tk[nt], *ki = o + 1, *vi = o + 2, *kv = o + 3, *arr = o + 4;
    const int off = (int)(p0 - sc->s);
    sc->p = p0 + 5;
    if (*sc->p != '-' && (unsigned)(*sc->p - '0') > 9) goto no;
    vi->type = TVK_J_NUMBER;
    vi->start = (int)(sc->p - sc->s);
    if (scan_number(sc, vi)) goto no;
    vi->end = (int)(sc->p - sc->s);
    if (e - sc->p < 7 || memcmp(sc->p, ",\"v\":[", 6)) goto no;
    arr->start = (int)(sc->p + 5 - sc->s);
    sc->p += 6;
    int k = 0;
    for (;;) {
        /* Anything but a number (null, a string, a nested value) fails scan_number. */
        if (sc->p >= e || k == BAR_MAX_VALUES) goto no;
        jtok *t = arr + 1 + k;
        t->type = TVK_J_NUMBER;
        t->start = (int)(sc->p - sc->s);
        if (scan_number(sc, t)) goto no;
        t->end = (int)(sc->p - sc->s);
        k++;
        if (sc->p < e && *sc->p == ',') {
            sc->p++;
            continue;
        }
        break;
    }
    if (e - sc->p < 2 || sc->p[0] != ']' || sc->p[1] != '}') goto no;
    sc->p += 2;
    int after = nt + 5 + k;
    o->type = TVK_J_OBJECT;
    o->start = off;
    o->end = (int)(sc->p - sc->s);
    o->size = 2;
    o->skip = after;
    ki->type = TVK_J_STRING;
    ki->start = off + 2;
    ki->end = off + 3;
    ki->size = 1;
    ki->skip = nt + 3;
    kv->type = TVK_J_STRING;
    kv->start = vi->end + 2;
    kv->end = vi->end + 3;
    kv->size = 1;
    kv->skip = after;
    arr->type = TVK_J_ARRAY;
    arr->end = o->end - 1;
    arr->size = k;
    arr->skip = after;
    *ntp = after;
    return 1;
no:
    sc->p = p0;
    return 0;
}

#define SKIP_WS()                                                                                  \
    while (sc.p < e && is_ws(*sc.p))                                                               \
    sc.p++
#define FAIL(msg)                                                                                  \
    do {                                                                                           \
        sc.why = (msg);                                                                            \
        goto fail;                                                                                 \
    } while (0)
/* The token array lives in locals (tk, nt, cap) during the scan; grow() goes through j. */
#define NEW_TOKEN(t)                                                                               \
    do {                                                                                           \
        if ((unsigned)nt == j->cap) {                                                              \
            if ((rc = grow(j))) {                                                                  \
                j->n = 0;                                                                          \
                return rc;                                                                         \
            }                                                                                      \
            tk = j->tok;                                                                           \
        }                                                                                          \
        (t) = &tk[nt];                                                                             \
    } while (0)

int tvk_json_parse(tvk_json *j, const char *s, size_t n, size_t *err_at, const char **why)
{
    j->js = s;
    j->len = n;
    j->n = 0;
    *err_at = 0;
    *why = "";
    if (n > INT32_MAX - 2) {
        *why = "document too large";
        return TVK_EJSON;
    }
    const unsigned char *us = (const unsigned char *)s;
    scan sc = scan_at(us, us, us + n);
    const unsigned char *e = sc.end;
    jtok *tk = j->tok, *t;
    int nt = 0, rc;
    /* The innermost open container (cur, -1 at the top), whether it is an object, and its
     * current key; the enclosing ones are saved on the stack while a nested one is open. */
    int cur = -1, in_obj = 0, curkey = -1;
    struct {
        int cur, key;
    } stack[MAX_DEPTH];
    int depth = 0;

value:
    if (sc.p >= e) FAIL(nt ? "truncated JSON" : "empty document");
    if (is_ws(*sc.p)) {
        SKIP_WS();
        goto value;
    }
    NEW_TOKEN(t);
    switch (*sc.p) {
    case '{':
        if (depth + 2 <= MAX_DEPTH && !j->no_shortcut) {
            while (j->cap - (unsigned)nt < BAR_MAX_TOKENS) {
                if ((rc = grow(j))) {
                    j->n = 0;
                    return rc;
                }
                tk = j->tok;
            }
            if (bar_shortcut(&sc, tk, &nt)) goto after_value;
            t = &tk[nt]; /* the store may have moved */
        }
        /* fall through */
    case '[': {
        if (depth == MAX_DEPTH) FAIL("nesting deeper than 512");
        in_obj = *sc.p == '{';
        t->type = in_obj ? TVK_J_OBJECT : TVK_J_ARRAY;
        t->start = (int)(sc.p - sc.s);
        t->size = 0;
        stack[depth].cur = cur;
        stack[depth].key = curkey;
        depth++;
        cur = nt++;
        sc.p++;
        SKIP_WS();
        if (sc.p < e && *sc.p == (in_obj ? '}' : ']')) goto close;
        if (in_obj) goto key;
        goto value;
    }
    case '"':
        t->type = TVK_J_STRING;
        if (scan_string(&sc, &t->start, &t->end)) goto fail;
        break;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        t->type = TVK_J_NUMBER;
        t->start = (int)(sc.p - sc.s);
        if (scan_number(&sc, t)) goto fail; /* the value goes in place of size and skip */
        t->end = (int)(sc.p - sc.s);
        nt++;
        goto after_value;
    case 't':
    case 'f':
    case 'n': {
        static const char *const lit[] = {"true", "false", "null"};
        int k = *sc.p == 't' ? 0 : *sc.p == 'f' ? 1 : 2;
        size_t l = k == 1 ? 5 : 4;
        if ((size_t)(e - sc.p) < l || memcmp(sc.p, lit[k], l)) FAIL("invalid literal");
        t->type = k == 0 ? TVK_J_TRUE : k == 1 ? TVK_J_FALSE : TVK_J_NULL;
        t->start = (int)(sc.p - sc.s);
        sc.p += l;
        t->end = (int)(sc.p - sc.s);
        break;
    }
    default:
        FAIL("expected a value");
    }
    t->size = 0;
    t->skip = ++nt;

after_value:
    if (cur < 0) {
        SKIP_WS();
        if (sc.p != e) FAIL("trailing data after the value");
        j->n = nt;
        return 0;
    }
    if (in_obj)
        tk[curkey].skip = nt;
    else
        tk[cur].size++;
    /* Compact JSON: the separator comes next, without whitespace to skip. */
    if (sc.p < e && *sc.p == ',') {
        sc.p++;
        if (in_obj) goto key;
        goto value;
    }
    SKIP_WS();
    if (sc.p >= e) FAIL("truncated JSON");
    if (*sc.p == ',') {
        sc.p++;
        if (in_obj) goto key;
        goto value;
    }
    if (*sc.p == (in_obj ? '}' : ']')) goto close;
    FAIL(in_obj ? "expected ',' or '}'" : "expected ',' or ']'");

close:
    sc.p++;
    tk[cur].end = (int)(sc.p - sc.s);
    tk[cur].skip = nt;
    depth--;
    cur = stack[depth].cur;
    curkey = stack[depth].key;
    in_obj = cur >= 0 && tk[cur].type == TVK_J_OBJECT;
    goto after_value;

key:
    if (sc.p < e && is_ws(*sc.p)) SKIP_WS();
    if (sc.p >= e || *sc.p != '"') FAIL("expected a string key");
    NEW_TOKEN(t);
    t->type = TVK_J_STRING;
    if (scan_string(&sc, &t->start, &t->end)) goto fail;
    t->size = 1;
    curkey = nt++;
    tk[cur].size++;
    if (sc.p < e && *sc.p == ':') {
        sc.p++;
        goto value;
    }
    SKIP_WS();
    if (sc.p >= e || *sc.p != ':') FAIL("expected ':'");
    sc.p++;
    goto value;

fail:
    *err_at = (size_t)(sc.p - sc.s);
    *why = sc.why;
    j->n = 0;
    return TVK_EJSON;
}

/* ---------------------------------------------------------------- accessors */

static inline const jtok *T(const tvk_json *j, int i)
{
    return (j && i >= 0 && i < j->n) ? &j->tok[i] : NULL;
}

tvk_jtype tvk_json_type(const tvk_json *j, int tok)
{
    const jtok *t = T(j, tok);
    return t ? (tvk_jtype)t->type : TVK_J_INVALID;
}

int tvk_json_count(const tvk_json *j)
{
    return j ? j->n : 0;
}

int tvk_json_size(const tvk_json *j, int tok)
{
    const jtok *t = T(j, tok);
    if (!t) return TVK_EINVAL;
    if (t->type != TVK_J_OBJECT && t->type != TVK_J_ARRAY) return TVK_ESHAPE;
    return t->size;
}

int tvk_json_skip(const tvk_json *j, int tok)
{
    const jtok *t = T(j, tok);
    return t ? jt_next(j, tok) : TVK_EINVAL;
}

/* Compares a raw (escaped) string token with s without allocating. */
static int raw_eq(const tvk_json *j, const jtok *t, const char *s, size_t sl)
{
    size_t l = (size_t)(t->end - t->start);
    const char *p = j->js + t->start;
    if (l == sl) return !memcmp(p, s, sl);
    /* An escape only makes the raw text longer than what it stands for, so only a longer raw
     * string that has a backslash can still match. */
    if (l < sl || !memchr(p, '\\', l)) return 0;
    char small[256];
    if (sl >= sizeof small)
        return 0; /* keys we look up are short; longer escaped keys never match them */
    size_t ol;
    int tok = (int)(t - j->tok);
    if (tvk_json_str(j, tok, small, sizeof small, &ol) != 0) return 0;
    return ol == sl && !memcmp(small, s, sl);
}

int tvk_json_member(const tvk_json *j, int obj, const char *key)
{
    const jtok *t = T(j, obj);
    if (!t) return TVK_EINVAL;
    if (t->type != TVK_J_OBJECT) return TVK_ESHAPE;
    size_t kl = strlen(key);
    int k = obj + 1;
    for (int i = 0; i < t->size; i++) {
        const jtok *kt = &j->tok[k];
        if (raw_eq(j, kt, key, kl)) return k + 1;
        k = kt->skip;
    }
    return TVK_ENOTFOUND;
}

int tvk_json_next_member(const tvk_json *j, int obj, int *cursor, tvk_jmember *m)
{
    const jtok *o = T(j, obj);
    if (!o || !cursor || !m) return TVK_EINVAL;
    if (o->type != TVK_J_OBJECT) return TVK_ESHAPE;
    int k = *cursor > obj ? *cursor : obj + 1;
    if (k >= o->skip) return 0;
    const jtok *kt = &j->tok[k], *vt = kt + 1;
    m->key.p = j->js + kt->start;
    m->key.len = (size_t)(kt->end - kt->start);
    m->raw.p = j->js + vt->start;
    m->raw.len = (size_t)(vt->end - vt->start);
    m->type = (tvk_jtype)vt->type;
    m->tok = k + 1;
    m->num = NAN;
    if (vt->type == TVK_J_NUMBER && jt_double(j, vt, &m->num)) m->num = NAN;
    *cursor = kt->skip;
    return 1;
}

int tvk_json_index(const tvk_json *j, int arr, int i)
{
    const jtok *t = T(j, arr);
    if (!t) return TVK_EINVAL;
    if (t->type != TVK_J_ARRAY) return TVK_ESHAPE;
    if (i < 0 || i >= t->size) return TVK_ENOTFOUND;
    int k = arr + 1;
    while (i--)
        k = jt_next(j, k);
    return k;
}

int tvk_json_raw(const tvk_json *j, int tok, const char **p, size_t *len)
{
    const jtok *t = T(j, tok);
    if (!t) return TVK_EINVAL;
    *p = j->js + t->start;
    *len = (size_t)(t->end - t->start);
    return 0;
}

static int hex4(const char *p, unsigned *u)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *u = v;
    return 0;
}

int tvk_json_str(const tvk_json *j, int tok, char *buf, size_t cap, size_t *outlen)
{
    const jtok *t = T(j, tok);
    if (!t) return TVK_EINVAL;
    if (t->type != TVK_J_STRING) return TVK_ESHAPE;
    const char *p = j->js + t->start, *end = j->js + t->end;
    size_t o = 0;
    while (p < end) {
        char tmp[4];
        size_t tl = 1;
        if (*p != '\\') {
            tmp[0] = *p++;
        } else {
            /* The validator guarantees a complete escape here. */
            char e = p[1];
            p += 2;
            switch (e) {
            case 'b':
                tmp[0] = '\b';
                break;
            case 'f':
                tmp[0] = '\f';
                break;
            case 'n':
                tmp[0] = '\n';
                break;
            case 'r':
                tmp[0] = '\r';
                break;
            case 't':
                tmp[0] = '\t';
                break;
            case 'u': {
                unsigned u, lo;
                if (end - p < 4 || hex4(p, &u)) return TVK_ESHAPE;
                p += 4;
                if (u >= 0xD800 && u <= 0xDBFF && end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
                    !hex4(p + 2, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                    u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                } else if (u >= 0xD800 && u <= 0xDFFF) {
                    u = 0xFFFD; /* a lone surrogate has no UTF-8 form */
                }
                if (u < 0x80) {
                    tmp[0] = (char)u;
                } else if (u < 0x800) {
                    tmp[0] = (char)(0xC0 | (u >> 6));
                    tmp[1] = (char)(0x80 | (u & 0x3F));
                    tl = 2;
                } else if (u < 0x10000) {
                    tmp[0] = (char)(0xE0 | (u >> 12));
                    tmp[1] = (char)(0x80 | ((u >> 6) & 0x3F));
                    tmp[2] = (char)(0x80 | (u & 0x3F));
                    tl = 3;
                } else {
                    tmp[0] = (char)(0xF0 | (u >> 18));
                    tmp[1] = (char)(0x80 | ((u >> 12) & 0x3F));
                    tmp[2] = (char)(0x80 | ((u >> 6) & 0x3F));
                    tmp[3] = (char)(0x80 | (u & 0x3F));
                    tl = 4;
                }
                break;
            }
            default:
                tmp[0] = e;
                break; /* '"', '\\', '/' */
            }
        }
        if (o + tl >= cap) {
            if (cap) buf[0] = '\0';
            return TVK_EBUFSIZE;
        }
        memcpy(buf + o, tmp, tl);
        o += tl;
    }
    if (o >= cap) return TVK_EBUFSIZE;
    buf[o] = '\0';
    if (outlen) *outlen = o;
    return 0;
}

int tvk_json_str_eq(const tvk_json *j, int tok, const char *s)
{
    const jtok *t = T(j, tok);
    if (!t || t->type != TVK_J_STRING) return 0;
    return raw_eq(j, t, s, strlen(s));
}

static int number_tok(const tvk_json *j, int tok, const char **p, size_t *l)
{
    const jtok *t = T(j, tok);
    if (!t) return TVK_EINVAL;
    if (t->type != TVK_J_NUMBER) return TVK_ESHAPE;
    *p = j->js + t->start;
    *l = (size_t)(t->end - t->start);
    return 0;
}

int tvk_json_int64(const tvk_json *j, int tok, int64_t *v)
{
    const char *p;
    size_t l;
    int rc = number_tok(j, tok, &p, &l);
    if (rc) return rc;
    const char *q = p, *end = p + l;
    int neg = *q == '-';
    q += neg;
    uint64_t acc = 0;
    int overflow = 0;
    while (q < end && (unsigned)(*q - '0') <= 9) {
        unsigned d = (unsigned)(*q - '0');
        if (acc > (UINT64_MAX - d) / 10) {
            overflow = 1; /* "100000000000000000000e-10" may still be an int64: see below */
            break;
        }
        acc = acc * 10 + d;
        q++;
    }
    if (q == end && !overflow) {
        if (neg ? acc > (uint64_t)INT64_MAX + 1 : acc > (uint64_t)INT64_MAX) return TVK_ENUMBER;
        *v = neg ? (int64_t)(0 - acc) : (int64_t)acc;
        return 0;
    }
    /* "1728013500.0" style: accept when the value is integral and in range. */
    double d;
    if ((rc = tvk_parse_double(p, l, &d))) return rc;
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != (double)(int64_t)d)
        return TVK_ENUMBER;
    *v = (int64_t)d;
    return 0;
}

int tvk_json_double(const tvk_json *j, int tok, double *v)
{
    if (!j || tok < 0 || tok >= j->n) return TVK_EINVAL;
    const jtok *t = &j->tok[tok];
    if (t->type != TVK_J_NUMBER) return TVK_ESHAPE;
    return jt_double(j, t, v);
}

int tvk_json_bool(const tvk_json *j, int tok, int *v)
{
    tvk_jtype ty = tvk_json_type(j, tok);
    if (ty == TVK_J_INVALID) return TVK_EINVAL;
    if (ty != TVK_J_TRUE && ty != TVK_J_FALSE) return TVK_ESHAPE;
    *v = ty == TVK_J_TRUE;
    return 0;
}
