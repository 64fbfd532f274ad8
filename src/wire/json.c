/* JSON tokens (jsmn, strict, with parent links) plus a validation pass that closes the gaps jsmn
 * leaves even in strict mode (separators, literals, number grammar, control characters, trailing
 * bytes), and the typed accessors. This is the only file that includes jsmn.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JSMN_STATIC
#define JSMN_STRICT
/* Without parent links every closing bracket rescans the tokens back to its opener, which is
 * quadratic over a 3,500-bar array. */
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "internal.h"

/* After validation, jsmntok_t.parent is no longer needed and holds the index of the token that
 * follows this one's subtree, so skipping a value is O(1). */
#define SKIP parent

#define MAX_DEPTH 512

struct tvk_json {
    const char *js;
    size_t len;
    jsmntok_t *tok;
    unsigned cap;
    int n;
};

tvk_json *tvk_json_new(void)
{
    tvk_json *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->cap = 256;
    j->tok = malloc(j->cap * sizeof *j->tok);
    if (!j->tok) {
        free(j);
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

static inline int ext_start(const jsmntok_t *t)
{
    return t->type == JSMN_STRING ? t->start - 1 : t->start;
}
static inline int ext_end(const jsmntok_t *t)
{
    return t->type == JSMN_STRING ? t->end + 1 : t->end;
}

static inline int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The bytes between two values: whitespace, at most the one separator sep (or none if sep is
 * 0), whitespace. */
static int gap_ok(const char *js, int a, int b, char sep)
{
    int seen = 0;
    for (int i = a; i < b; i++) {
        char c = js[i];
        if (is_ws(c)) continue;
        if (sep && c == sep && !seen) {
            seen = 1;
            continue;
        }
        return i;
    }
    if (sep && !seen) return b;
    return -1;
}

static int number_ok(const char *p, const char *end)
{
    if (p < end && *p == '-') p++;
    if (p == end) return 0;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < end && (unsigned)(*p - '0') <= 9)
            p++;
    } else {
        return 0;
    }
    if (p < end && *p == '.') {
        p++;
        if (p == end || (unsigned)(*p - '0') > 9) return 0;
        while (p < end && (unsigned)(*p - '0') <= 9)
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p == end || (unsigned)(*p - '0') > 9) return 0;
        while (p < end && (unsigned)(*p - '0') <= 9)
            p++;
    }
    return p == end;
}

typedef struct vstate {
    const char *js;
    jsmntok_t *tok;
    int n;
    int err_at;
    const char *why;
} vstate;

static int fail(vstate *v, int at, const char *why)
{
    v->err_at = at;
    v->why = why;
    return -1;
}

/* Returns the index after token i's subtree, or -1. */
static int validate(vstate *v, int i, int depth)
{
    if (i >= v->n) return fail(v, 0, "missing value");
    jsmntok_t *t = &v->tok[i];
    const char *js = v->js;
    int next = i + 1;
    switch (t->type) {
    case JSMN_PRIMITIVE: {
        const char *p = js + t->start;
        int l = t->end - t->start;
        if (t->size) return fail(v, t->start, "value used as a key");
        if (!((l == 4 && !memcmp(p, "true", 4)) || (l == 5 && !memcmp(p, "false", 5)) ||
              (l == 4 && !memcmp(p, "null", 4)) || number_ok(p, p + l)))
            return fail(v, t->start, "invalid literal or number");
        break;
    }
    case JSMN_STRING:
        for (int k = t->start; k < t->end; k++)
            if ((unsigned char)js[k] < 0x20) return fail(v, k, "control character in string");
        break;
    case JSMN_ARRAY:
    case JSMN_OBJECT: {
        if (depth >= MAX_DEPTH) return fail(v, t->start, "nesting deeper than 512");
        int obj = t->type == JSMN_OBJECT;
        int pos = t->start + 1, at;
        for (int k = 0; k < t->size; k++) {
            if (next >= v->n) return fail(v, pos, "missing value");
            jsmntok_t *c = &v->tok[next];
            if ((at = gap_ok(js, pos, ext_start(c), k ? ',' : 0)) >= 0)
                return fail(v, at, k ? "expected ','" : "unexpected character");
            if (obj) {
                if (c->type != JSMN_STRING || c->size != 1)
                    return fail(v, ext_start(c), "object key must be a string followed by ':'");
                int val = next + 1;
                if (val >= v->n) return fail(v, ext_end(c), "missing value");
                for (int q = c->start; q < c->end; q++)
                    if ((unsigned char)js[q] < 0x20)
                        return fail(v, q, "control character in string");
                if ((at = gap_ok(js, ext_end(c), ext_start(&v->tok[val]), ':')) >= 0)
                    return fail(v, at, "expected ':'");
                c->SKIP = val + 1; /* provisional; fixed below after the value */
                int after = validate(v, val, depth + 1);
                if (after < 0) return -1;
                c->SKIP = after;
                pos = ext_end(&v->tok[val]);
                next = after;
            } else {
                if (c->type == JSMN_STRING && c->size)
                    return fail(v, ext_end(c), "':' inside an array");
                int after = validate(v, next, depth + 1);
                if (after < 0) return -1;
                pos = ext_end(c);
                next = after;
            }
        }
        if ((at = gap_ok(js, pos, t->end - 1, 0)) >= 0)
            return fail(v, at, obj ? "expected ',' or '}'" : "expected ',' or ']'");
        break;
    }
    default:
        return fail(v, t->start, "undefined token");
    }
    t->SKIP = next;
    return next;
}

int tvk_json_parse(tvk_json *j, const char *s, size_t n, size_t *err_at, const char **why)
{
    j->js = s;
    j->len = n;
    j->n = 0;
    *err_at = 0;
    *why = "";
    if (n > INT32_MAX / 2) {
        *why = "document too large";
        return TVK_EJSON;
    }
    jsmn_parser p;
    jsmn_init(&p);
    int r;
    for (;;) {
        r = jsmn_parse(&p, s, n, j->tok, j->cap);
        if (r != JSMN_ERROR_NOMEM) break;
        /* jsmn resumes where it stopped once it has room for more tokens. */
        if (j->cap > (unsigned)INT32_MAX / 2 / sizeof *j->tok) return TVK_ENOMEM;
        unsigned cap = j->cap * 2;
        jsmntok_t *t = realloc(j->tok, cap * sizeof *t);
        if (!t) return TVK_ENOMEM;
        j->tok = t;
        j->cap = cap;
    }
    if (r < 0) {
        *err_at = p.pos;
        *why = r == JSMN_ERROR_PART ? "truncated JSON" : "invalid character";
        return TVK_EJSON;
    }
    if (r == 0) {
        *why = "empty document";
        return TVK_EJSON;
    }
    j->n = r;
    vstate v = {s, j->tok, r, 0, ""};
    int at = gap_ok(s, 0, ext_start(&j->tok[0]), 0);
    if (at >= 0) {
        *err_at = (size_t)at;
        *why = "unexpected character before the value";
        j->n = 0;
        return TVK_EJSON;
    }
    int after = validate(&v, 0, 0);
    if (after < 0) {
        *err_at = (size_t)v.err_at;
        *why = v.why;
        j->n = 0;
        return TVK_EJSON;
    }
    if (after != r || (at = gap_ok(s, ext_end(&j->tok[0]), (int)n, 0)) >= 0) {
        *err_at = after != r ? (size_t)ext_start(&j->tok[after]) : (size_t)at;
        *why = "trailing data after the value";
        j->n = 0;
        return TVK_EJSON;
    }
    return 0;
}

/* ---------------------------------------------------------------- accessors */

static inline const jsmntok_t *T(const tvk_json *j, int tok)
{
    return (j && tok >= 0 && tok < j->n) ? &j->tok[tok] : NULL;
}

tvk_jtype tvk_json_type(const tvk_json *j, int tok)
{
    const jsmntok_t *t = T(j, tok);
    if (!t) return TVK_J_INVALID;
    switch (t->type) {
    case JSMN_OBJECT:
        return TVK_J_OBJECT;
    case JSMN_ARRAY:
        return TVK_J_ARRAY;
    case JSMN_STRING:
        return TVK_J_STRING;
    case JSMN_PRIMITIVE:
        switch (j->js[t->start]) {
        case 't':
            return TVK_J_TRUE;
        case 'f':
            return TVK_J_FALSE;
        case 'n':
            return TVK_J_NULL;
        default:
            return TVK_J_NUMBER;
        }
    default:
        return TVK_J_INVALID;
    }
}

int tvk_json_count(const tvk_json *j)
{
    return j ? j->n : 0;
}

int tvk_json_size(const tvk_json *j, int tok)
{
    const jsmntok_t *t = T(j, tok);
    if (!t) return TVK_EINVAL;
    if (t->type != JSMN_OBJECT && t->type != JSMN_ARRAY) return TVK_ESHAPE;
    return t->size;
}

int tvk_json_skip(const tvk_json *j, int tok)
{
    const jsmntok_t *t = T(j, tok);
    return t ? t->SKIP : TVK_EINVAL;
}

/* Compares a raw (escaped) string token with s without allocating. */
static int raw_eq(const tvk_json *j, const jsmntok_t *t, const char *s, size_t sl)
{
    size_t l = (size_t)(t->end - t->start);
    const char *p = j->js + t->start;
    if (l == sl && !memcmp(p, s, sl)) return 1;
    if (!memchr(p, '\\', l)) return 0;
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
    const jsmntok_t *t = T(j, obj);
    if (!t) return TVK_EINVAL;
    if (t->type != JSMN_OBJECT) return TVK_ESHAPE;
    size_t kl = strlen(key);
    int k = obj + 1;
    for (int i = 0; i < t->size; i++) {
        const jsmntok_t *kt = &j->tok[k];
        if (raw_eq(j, kt, key, kl)) return k + 1;
        k = kt->SKIP;
    }
    return TVK_ENOTFOUND;
}

int tvk_json_index(const tvk_json *j, int arr, int i)
{
    const jsmntok_t *t = T(j, arr);
    if (!t) return TVK_EINVAL;
    if (t->type != JSMN_ARRAY) return TVK_ESHAPE;
    if (i < 0 || i >= t->size) return TVK_ENOTFOUND;
    int k = arr + 1;
    while (i--)
        k = j->tok[k].SKIP;
    return k;
}

int tvk_json_raw(const tvk_json *j, int tok, const char **p, size_t *len)
{
    const jsmntok_t *t = T(j, tok);
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
    const jsmntok_t *t = T(j, tok);
    if (!t) return TVK_EINVAL;
    if (t->type != JSMN_STRING) return TVK_ESHAPE;
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
    const jsmntok_t *t = T(j, tok);
    if (!t || t->type != JSMN_STRING) return 0;
    return raw_eq(j, t, s, strlen(s));
}

static int number_tok(const tvk_json *j, int tok, const char **p, size_t *l)
{
    const jsmntok_t *t = T(j, tok);
    if (!t) return TVK_EINVAL;
    if (t->type != JSMN_PRIMITIVE) return TVK_ESHAPE;
    char c = j->js[t->start];
    if (c != '-' && (c < '0' || c > '9')) return TVK_ESHAPE;
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
    while (q < end && (unsigned)(*q - '0') <= 9) {
        unsigned d = (unsigned)(*q - '0');
        if (acc > (UINT64_MAX - d) / 10) return TVK_ENUMBER;
        acc = acc * 10 + d;
        q++;
    }
    if (q == end) {
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
    const char *p;
    size_t l;
    int rc = number_tok(j, tok, &p, &l);
    if (rc) return rc;
    return tvk_parse_double(p, l, v);
}

int tvk_json_bool(const tvk_json *j, int tok, int *v)
{
    tvk_jtype ty = tvk_json_type(j, tok);
    if (ty == TVK_J_INVALID) return TVK_EINVAL;
    if (ty != TVK_J_TRUE && ty != TVK_J_FALSE) return TVK_ESHAPE;
    *v = ty == TVK_J_TRUE;
    return 0;
}
