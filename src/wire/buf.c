/* tvk_buf: a growable, optionally bounded byte buffer, and the ASCII-only JSON writers. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void tvk_buf_init(tvk_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = 0;
}

void tvk_buf_free(tvk_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void tvk_buf_reset(tvk_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

int tvk_buf_reserve(tvk_buf *b, size_t extra)
{
    /* +1 keeps room for the terminating NUL the header promises. */
    if (extra > SIZE_MAX - b->len - 1) return TVK_ENOMEM;
    size_t need = b->len + extra + 1;
    if (b->limit && need - 1 > b->limit) return TVK_ENOMEM;
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (b->limit && cap > b->limit + 1) cap = b->limit + 1;
    char *p = realloc(b->data, cap);
    if (!p) return TVK_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int tvk_buf_append(tvk_buf *b, const void *p, size_t n)
{
    int rc = tvk_buf_reserve(b, n);
    if (rc) return rc;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int tvk_buf_puts(tvk_buf *b, const char *s)
{
    return tvk_buf_append(b, s, strlen(s));
}

int tvk_buf_printf(tvk_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return TVK_EINVAL;
    if ((size_t)n < sizeof small) return tvk_buf_append(b, small, (size_t)n);
    int rc = tvk_buf_reserve(b, (size_t)n);
    if (rc) return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

static const char hexdig[] = "0123456789abcdef";

static void put_u4(char *o, unsigned u)
{
    o[0] = '\\';
    o[1] = 'u';
    o[2] = hexdig[(u >> 12) & 15];
    o[3] = hexdig[(u >> 8) & 15];
    o[4] = hexdig[(u >> 4) & 15];
    o[5] = hexdig[u & 15];
}

int tvk_buf_json_str(tvk_buf *b, const char *s, size_t n)
{
    /* Worst case: 4 input bytes -> 12 output bytes, 1 byte -> 6 (\u00XX). */
    if (n > (SIZE_MAX - 2) / 6) return TVK_ENOMEM;
    int rc = tvk_buf_reserve(b, n * 6 + 2);
    if (rc && b->limit) {
        /* The worst case passes the limit: encoded apart, the text may still fit. */
        tvk_buf t;
        tvk_buf_init(&t);
        rc = tvk_buf_json_str(&t, s, n);
        if (rc == 0) rc = tvk_buf_append(b, t.data, t.len);
        tvk_buf_free(&t);
        return rc;
    }
    if (rc) return rc;
    size_t start = b->len;
    char *o = b->data + b->len;
    const unsigned char *u = (const unsigned char *)s;
    *o++ = '"';
    size_t i = 0;
    while (i < n) {
        unsigned c = u[i];
        /* Same escaping as Python's json.dumps(ensure_ascii=True): only ' '..'~' pass raw. */
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
            *o++ = (char)c;
            i++;
            continue;
        }
        if (c < 0x80) {
            const char *e = NULL;
            switch (c) {
            case '"':
                e = "\\\"";
                break;
            case '\\':
                e = "\\\\";
                break;
            case '\n':
                e = "\\n";
                break;
            case '\r':
                e = "\\r";
                break;
            case '\t':
                e = "\\t";
                break;
            case '\b':
                e = "\\b";
                break;
            case '\f':
                e = "\\f";
                break;
            }
            if (e) {
                *o++ = e[0];
                *o++ = e[1];
            } else {
                put_u4(o, c);
                o += 6;
            }
            i++;
            continue;
        }
        unsigned cp;
        size_t l = tvk_utf8_decode(u + i, n - i, &cp);
        if (!l) {
            b->len = start;
            b->data[start] = '\0';
            return TVK_EINVAL;
        }
        i += l;
        if (cp < 0x10000) {
            put_u4(o, cp);
            o += 6;
        } else {
            cp -= 0x10000;
            put_u4(o, 0xD800 + (cp >> 10));
            put_u4(o + 6, 0xDC00 + (cp & 0x3FF));
            o += 12;
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return 0;
}

/* "00" "01" .. "99": two digits per division by 100 halves the dependent divisions of a
 * number's conversion (a 10-digit time takes 5 instead of 10). */
static const char dig2[200] = {
    /* clang-format off */
    '0','0','0','1','0','2','0','3','0','4','0','5','0','6','0','7','0','8','0','9',
    '1','0','1','1','1','2','1','3','1','4','1','5','1','6','1','7','1','8','1','9',
    '2','0','2','1','2','2','2','3','2','4','2','5','2','6','2','7','2','8','2','9',
    '3','0','3','1','3','2','3','3','3','4','3','5','3','6','3','7','3','8','3','9',
    '4','0','4','1','4','2','4','3','4','4','4','5','4','6','4','7','4','8','4','9',
    '5','0','5','1','5','2','5','3','5','4','5','5','5','6','5','7','5','8','5','9',
    '6','0','6','1','6','2','6','3','6','4','6','5','6','6','6','7','6','8','6','9',
    '7','0','7','1','7','2','7','3','7','4','7','5','7','6','7','7','7','8','7','9',
    '8','0','8','1','8','2','8','3','8','4','8','5','8','6','8','7','8','8','8','9',
    '9','0','9','1','9','2','9','3','9','4','9','5','9','6','9','7','9','8','9','9',
    /* clang-format on */
};

static const uint64_t pow10u[20] = {
    /* clang-format off */
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL, 100000000ULL,
    1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL, 10000000000000ULL,
    100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
    1000000000000000000ULL, 10000000000000000000ULL,
    /* clang-format on */
};

/* Number of decimal digits of u (1 for 0): the bit length times log10(2) (1233 / 4096) is the
 * digit count or one less, and one comparison with the power of ten tells which. */
static inline size_t count_digits(uint64_t u)
{
#if defined(__GNUC__)
    unsigned t = ((unsigned)(64 - __builtin_clzll(u | 1)) * 1233) >> 12;
    return (size_t)t + ((u | 1) >= pow10u[t]);
#else
    size_t n = 1;
    while (n < 20 && u >= pow10u[n])
        n++;
    return n;
#endif
}

/* The n low digits of u written backwards ending at end, two at a time (leading zeros kept);
 * u < 10^n. The last pair or digit needs no division. */
static inline void put_digits(char *end, uint64_t u, size_t n)
{
    /* 32-bit divisions where the value allows: a multiply by a smaller reciprocal. */
    while (n > 2 && u > UINT32_MAX) {
        unsigned r = (unsigned)(u % 100);
        u /= 100;
        end -= 2;
        memcpy(end, dig2 + 2 * r, 2);
        n -= 2;
    }
    uint32_t w = (uint32_t)u;
    /* Four digits a step: the two divisions of a step do not wait for each other. */
    while (n > 4) {
        uint32_t q = w / 10000, r = w - q * 10000, h = r / 100;
        end -= 4;
        memcpy(end, dig2 + 2 * h, 2);
        memcpy(end + 2, dig2 + 2 * (r - h * 100), 2);
        w = q;
        n -= 4;
    }
    if (n > 2) {
        uint32_t q = w / 100;
        end -= 2;
        memcpy(end, dig2 + 2 * (w - q * 100), 2);
        w = q;
        n -= 2;
    }
    if (n == 2)
        memcpy(end - 2, dig2 + 2 * w, 2);
    else if (n)
        end[-1] = (char)('0' + w);
}

/* Decimal digits of v at o (at most 20 bytes); returns the length. */
static inline size_t put_int(char *o, int64_t v)
{
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    size_t neg = v < 0, n = count_digits(u);
    o[0] = '-'; /* overwritten by a digit when v >= 0 */
    put_digits(o + neg + n, u, n);
    return neg + n;
}

int tvk_buf_json_int(tvk_buf *b, int64_t v)
{
    /* No printf per volume and per time. */
    char tmp[24];
    return tvk_buf_append(b, tmp, put_int(tmp, v));
}

size_t tvk_fmt_int(int64_t v, char *out)
{
    size_t n = put_int(out, v);
    out[n] = '\0';
    return n;
}

/* "%.*g" of a finite v as the C locale writes it, without touching the locale: printf's
 * decimal separator follows LC_NUMERIC (',' in de_DE, several bytes in some locales), so
 * every byte that is not part of C's output alphabet is collapsed into one '.'. %g never
 * groups thousands (that needs the ' flag). Returns the length, or 0 if it does not fit. */
static size_t g_c_locale(char *out, size_t cap, int prec, double v)
{
    char raw[64];
    int n = snprintf(raw, sizeof raw, "%.*g", prec, v);
    if (n < 0 || (size_t)n >= sizeof raw) return 0;
    size_t o = 0;
    int sep = 0;
    for (int i = 0; i < n; i++) {
        char c = raw[i];
        int keep = (c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e';
        if (!keep && sep) continue;
        if (o + 1 >= cap) return 0;
        out[o++] = keep ? c : '.';
        sep = !keep;
    }
    out[o] = '\0';
    return o;
}

/* m / 10^k written as a decimal with k fraction digits, m / 10^k reading back as v (not an
 * integer), a = |v|. */
static inline size_t put_decimal(char *out, double v, double a, uint64_t m, int k)
{
    /* The integer part is a's: an integer strictly between a and m / 10^k would be nearer to
     * m / 10^k than a, which is that quotient correctly rounded (and a is no integer). So m
     * splits into a's integer part and k fraction digits without a division. */
    uint64_t ip = (uint64_t)a, fp = m - ip * pow10u[k];
    size_t neg = v < 0, ni = count_digits(ip), n = neg + ni + 1 + (size_t)k;
    out[0] = '-'; /* overwritten by a digit when v > 0 */
    put_digits(out + n, fp, (size_t)k);
    out[neg + ni] = '.';
    put_digits(out + neg + ni, ip, ni);
    out[n] = '\0';
    return n;
}

static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,
                             1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19};

/* The fewest fraction digits k >= k_from for which m / 10^k (m an integer below 10^15) reads
 * back as v; 0 when there is none. */
static __attribute__((noinline)) size_t any_decimal(char *out, double v, double a, int k_from)
{
    for (int k = k_from; k < 20; k++) {
        double x = a * p10[k];
        if (x >= 1e15) return 0;
        uint64_t m = (uint64_t)(x + 0.5);
        if ((double)m / p10[k] == a) return put_decimal(out, v, a, m, k);
    }
    return 0;
}

/* Prices and changes are short decimals: the fewest fraction digits k for which m / 10^k (m an
 * integer below 10^15) reads back as v. tvk_parse_double reads that text with the same single
 * correctly rounded division, so the check is exact; and within [1e-4, 1e15) with at most 15
 * significant digits the text is what "%.15g" prints, without the cost of printf's
 * multi-precision conversion. 0 when v is not such a decimal. a = |v|, not an integer. */
static inline size_t short_decimal(char *out, double v, double a)
{
    if (!(a >= 1e-4 && a < 1e13)) return a >= 1e-4 && a < 1e15 ? any_decimal(out, v, a, 1) : 0;
    /* Most prices have two decimals (cents, ticks of 0.01): try k = 2 first. Candidates are
     * exact from here on, so the k that pass are k0, k0 + 1, .. with m growing by a factor 10
     * each: k = 2 passing with a last digit 0 means k0 = 1, and failing means k0 > 2. */
    uint64_t m = (uint64_t)(a * 100 + 0.5);
    if ((double)m / 100 != a) return any_decimal(out, v, a, 3);
    int k = 2;
    if (m % 10 == 0) {
        m /= 10;
        k = 1;
    }
    return put_decimal(out, v, a, m, k);
}

/* Shortest of 15, 16, 17 significant digits that reads back to the same bits (15 digits
 * always suffice for the short decimals of prices, so one attempt is the common case).
 * %.17g of a finite double is at most 24 bytes: it always fits TVK_FMT_MAX. Kept out of line:
 * its 64-byte buffer and calls would otherwise cost every call of the fast path a larger frame. */
static __attribute__((noinline)) size_t fmt_double_printf(double v, char *out)
{
    size_t n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = g_c_locale(out, TVK_FMT_MAX, prec, v);
        double back;
        if (n && tvk_parse_double(out, n, &back) == 0 && back == v) break;
    }
    return n;
}

size_t tvk_fmt_double(double v, char *out)
{
    size_t n;
    double a = fabs(v);
    /* Prices, times and volumes first: both tests below fail for NaN and infinities. */
    if (a < 9007199254740992.0) {
        int64_t i = (int64_t)v;
        /* Integral values in the exact-integer range print as integers: plus ".0" would change
         * the JSON type for readers that care; plain integers are what the server sends. */
        if ((double)i == v) {
            if (i == 0 && signbit(v)) {
                memcpy(out, "-0.0", 5);
                return 4;
            }
            n = put_int(out, i);
            out[n] = '\0';
            return n;
        }
        if ((n = short_decimal(out, v, a)) != 0) return n;
    } else if (!isfinite(v)) {
        memcpy(out, "null", 5);
        return 4;
    }
    return fmt_double_printf(v, out);
}

int tvk_buf_json_double(tvk_buf *b, double v)
{
    /* Written straight into the buffer (history output writes five numbers per bar); near a
     * buffer limit through tmp and an exact append. */
    char tmp[TVK_FMT_MAX];
    int direct = tvk_buf_reserve(b, TVK_FMT_MAX) == 0;
    size_t n = tvk_fmt_double(v, direct ? b->data + b->len : tmp);
    if (!n) return TVK_EINVAL;
    if (!direct) return tvk_buf_append(b, tmp, n);
    b->len += n;
    return 0;
}
