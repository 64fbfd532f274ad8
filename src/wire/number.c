/* Exact decimal-to-double conversion for JSON numbers. Clinger's fast path covers what the
 * server sends (prices, unix times, small integers); everything else goes to strtod_l with
 * the C locale object, so the result is correctly rounded and never depends on the global
 * locale. */
/* strtod_l is a GNU extension (also in the BSDs and macOS). */
#define _GNU_SOURCE
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tvkit/wire.h"

/* Exactly representable powers of ten: 10^0..10^22 fit in 53 bits of mantissa. */
static const double exact_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int slow_path(const char *s, size_t n, double *out)
{
    char small[128];
    char *buf = small;
    if (n >= sizeof small) {
        buf = malloc(n + 1);
        if (!buf) return TVK_ENOMEM;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    /* glibc hands back its static C locale object for this request: no allocation. */
    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    int rc = TVK_ENUMBER;
    if (c != (locale_t)0) {
        char *end;
        double v = strtod_l(buf, &end, c);
        freelocale(c);
        if (end == buf + n) {
            *out = v;
            rc = 0;
        }
    } else {
        rc = TVK_ENOMEM;
    }
    if (buf != small) free(buf);
    return rc;
}

int tvk_parse_double(const char *s, size_t n, double *out)
{
    const char *p = s, *end = s + n;
    int neg = 0;
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    /* JSON grammar: int part "0" or [1-9][0-9]*, optional .[0-9]+, optional [eE][+-]?[0-9]+ */
    if (p == end || (unsigned)(*p - '0') > 9) return TVK_ENUMBER;
    uint64_t mant = 0;
    int ndig = 0;      /* significant digits accumulated in mant */
    int dropped = 0;   /* nonzero digits that did not fit in mant */
    int64_t exp10 = 0; /* decimal exponent adjustment */
    if (*p == '0') {
        p++;
        if (p < end && (unsigned)(*p - '0') <= 9) return TVK_ENUMBER; /* leading zero */
    } else {
        while (p < end && (unsigned)(*p - '0') <= 9) {
            if (ndig < 19) {
                mant = mant * 10 + (uint64_t)(*p - '0');
                if (mant) ndig++;
            } else {
                exp10++;
                dropped |= *p != '0';
            }
            p++;
        }
    }
    if (p < end && *p == '.') {
        p++;
        if (p == end || (unsigned)(*p - '0') > 9) return TVK_ENUMBER;
        while (p < end && (unsigned)(*p - '0') <= 9) {
            if (ndig < 19) {
                mant = mant * 10 + (uint64_t)(*p - '0');
                if (mant) ndig++;
                exp10--;
            } else {
                dropped |= *p != '0';
            }
            p++;
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < end && (*p == '+' || *p == '-')) {
            eneg = *p == '-';
            p++;
        }
        if (p == end || (unsigned)(*p - '0') > 9) return TVK_ENUMBER;
        int64_t e = 0;
        while (p < end && (unsigned)(*p - '0') <= 9) {
            if (e < 100000000) e = e * 10 + (*p - '0');
            p++;
        }
        exp10 += eneg ? -e : e;
    }
    if (p != end) return TVK_ENUMBER;
    if (!dropped) {
        double v;
        if (mant == 0) {
            *out = neg ? -0.0 : 0.0;
            return 0;
        }
        if (mant <= (1ULL << 53) && exp10 >= -22 && exp10 <= 22) {
            /* Clinger: both operands exact, so one IEEE operation rounds correctly. */
            v = (double)mant;
            v = exp10 < 0 ? v / exact_pow10[-exp10] : v * exact_pow10[exp10];
            *out = neg ? -v : v;
            return 0;
        }
        if (mant <= (1ULL << 53) && exp10 > 22 && exp10 <= 22 + 15) {
            /* m * 10^k is still an exact integer below 2^53, then one rounding by 10^22. */
            uint64_t m = mant;
            int64_t k = exp10 - 22;
            int ok = 1;
            for (int64_t i = 0; i < k; i++) {
                if (m > (1ULL << 53) / 10) {
                    ok = 0;
                    break;
                }
                m *= 10;
            }
            if (ok) {
                v = (double)m * 1e22;
                *out = neg ? -v : v;
                return 0;
            }
        }
    }
    return slow_path(s, n, out);
}
