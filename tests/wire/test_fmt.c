/* tvk_fmt_double and tvk_fmt_int byte for byte against their definitions, over millions of
 * values: the shortest of printf's "%.15g", "%.16g", "%.17g" that reads back to the same double
 * (C locale), integers below 2^53 as integers, -0 as "-0.0", NaN and infinities as null; and
 * against the writer as it was before digit pairs (the previous session's algorithm, kept here
 * as a second reference), so the CLI's output stays byte-identical. */
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tvkit/wire.h"
#include "wire_testutil.h"

/* ------------------------------------------------------------------ references */

/* The definition: what the header promises, through printf and strtod. */
static void def_double(double v, char *out, size_t cap)
{
    if (!isfinite(v)) {
        snprintf(out, cap, "null");
    } else if (v == 0 && signbit(v)) {
        snprintf(out, cap, "-0.0");
    } else if (fabs(v) < 9007199254740992.0 && v == (double)(int64_t)v) {
        snprintf(out, cap, "%" PRId64, (int64_t)v);
    } else {
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(out, cap, "%.*g", prec, v);
            if (strtod(out, NULL) == v) break;
        }
    }
}

/* The writer of commit 7023734 (one digit per division, k from 1 up), for the values it
 * handled without printf: the short decimals. Returns 0 for the others. */
static size_t old_short_decimal(char *out, double v)
{
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,
                                 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19};
    double a = fabs(v);
    if (!(a >= 1e-4 && a < 1e15)) return 0;
    for (int k = 1; k < 20; k++) {
        double x = a * p10[k];
        if (x >= 1e15) return 0;
        uint64_t m = (uint64_t)(x + 0.5);
        if ((double)m / p10[k] != a) continue;
        char dig[24];
        int nd = 0;
        for (; m; m /= 10)
            dig[nd++] = (char)('0' + m % 10);
        size_t o = 0;
        if (v < 0) out[o++] = '-';
        if (nd <= k) {
            out[o++] = '0';
            out[o++] = '.';
            for (int z = nd; z < k; z++)
                out[o++] = '0';
            while (nd)
                out[o++] = dig[--nd];
        } else {
            while (nd > k)
                out[o++] = dig[--nd];
            out[o++] = '.';
            while (nd)
                out[o++] = dig[--nd];
        }
        out[o] = '\0';
        return o;
    }
    return 0;
}

/* ------------------------------------------------------------------ checks */

typedef struct tally {
    long values, short_decimals;
} tally;

/* Writes v into a canary-filled buffer: the text must be the definition's, NUL-terminated,
 * within TVK_FMT_MAX, and equal to the old writer's wherever that one did not use printf. */
static void check_double(tally *t, double v)
{
    char out[TVK_FMT_MAX + 16], want[64], old[64];
    memset(out, 0x5A, sizeof out);
    size_t n = tvk_fmt_double(v, out);
    def_double(v, want, sizeof want);
    if (n != strlen(want) || memcmp(out, want, n + 1)) {
        uint64_t bits;
        memcpy(&bits, &v, sizeof bits);
        fail_msg("%.17g (bits %016" PRIx64 "): wrote '%.*s' (%zu bytes), want '%s'", v, bits,
                 (int)(n < sizeof out ? n : sizeof out), out, n, want);
    }
    for (size_t i = TVK_FMT_MAX; i < sizeof out; i++)
        if ((unsigned char)out[i] != 0x5A)
            fail_msg("%.17g: byte %zu written past TVK_FMT_MAX", v, i);
    if (!(fabs(v) < 9007199254740992.0 && v == (double)(int64_t)v) && isfinite(v) &&
        old_short_decimal(old, v)) {
        t->short_decimals++;
        if (strcmp(old, out)) fail_msg("%.17g: wrote '%s', the old writer '%s'", v, out, old);
    }
    t->values++;
}

static void check_both_signs(tally *t, double v)
{
    check_double(t, v);
    check_double(t, -v);
}

static double pow10i(int k)
{
    double p = 1;
    while (k-- > 0)
        p *= 10;
    return p;
}

/* ------------------------------------------------------------------ tests */

/* Price shapes: m / 10^k as the parser reads "I.F" (one correctly rounded division), with 1 to
 * 15 significant digits and 1 to 10 fraction digits, so both the short-decimal path and its
 * edges (below 1e-4, from 1e15, 16 digits) are crossed; and texts with trailing zeros. */
static void test_wire_fmt_price_shapes(void **state)
{
    (void)state;
    tally t = {0, 0};
    uint64_t s = 0x243F6A8885A308D3ULL;
    for (int i = 0; i < 600000; i++) {
        unsigned digits = 1 + wt_rnd(&s, 16), k = 1 + wt_rnd(&s, 10);
        uint64_t m = 0;
        for (unsigned d = 0; d < digits; d++)
            m = m * 10 + wt_rnd(&s, 10);
        char txt[64];
        /* Via the text, as prices arrive: "%llu" with the point put k digits from the end. */
        int len = snprintf(txt, sizeof txt, "%0*" PRIu64, (int)k + 1, m);
        memmove(txt + len - k + 1, txt + len - k, k + 1);
        txt[len - k] = '.';
        double v;
        assert_int_equal(tvk_parse_double(txt, strlen(txt), &v), 0);
        check_both_signs(&t, v);
    }
    print_message("%ld price-shaped doubles as defined (%ld short decimals also as the old "
                  "writer wrote them)\n",
                  t.values, t.short_decimals);
    assert_true(t.short_decimals > t.values / 2);
}

/* Any bit pattern (subnormals, huge, tiny), arbitrary ratios, and the neighbours of integers,
 * of short decimals and of the path limits 1e-4, 1e15 and 2^53. */
static void test_wire_fmt_arbitrary(void **state)
{
    (void)state;
    tally t = {0, 0};
    uint64_t s = 0x13198A2E03707344ULL;
    for (int i = 0; i < 300000; i++) {
        uint64_t x = ((uint64_t)wt_rnd(&s, 1u << 31) << 33) ^
                     ((uint64_t)wt_rnd(&s, 1u << 31) << 2) ^ wt_rnd(&s, 4);
        double v;
        memcpy(&v, &x, sizeof v);
        check_double(&t, v); /* NaN and infinities included: null */
        v = (double)(int64_t)(x >> 3) / (double)(1 + (x & 0xFFFFF));
        check_both_signs(&t, v);
        /* One ulp either side of an integer or a two-decimal price. */
        double base = (double)(x >> (11 + wt_rnd(&s, 50))) / (wt_rnd(&s, 2) ? 1 : 100);
        check_both_signs(&t, nextafter(base, INFINITY));
        check_both_signs(&t, nextafter(base, -INFINITY));
    }
    const double lim[] = {1e-4, 1e15, 9007199254740992.0, 1e-5, 1e14, 1e16, 0.5, 1.0};
    for (size_t i = 0; i < sizeof lim / sizeof *lim; i++) {
        double up = lim[i], down = lim[i];
        for (int k = 0; k < 2000; k++) {
            check_both_signs(&t, up);
            check_both_signs(&t, down);
            up = nextafter(up, INFINITY);
            down = nextafter(down, 0);
        }
    }
    for (int e = 0; e <= 20; e++) { /* d.5, d.95, .. at every magnitude */
        const double frac[] = {0.5, 0.05, 0.95, 0.995, 0.9999, 0.0001, 0.1, 0.3};
        for (size_t f = 0; f < sizeof frac / sizeof *frac; f++)
            for (int d = 1; d < 10; d++)
                check_both_signs(&t, (d + frac[f]) * pow10i(e));
    }
    const double edge[] = {0.0,
                           -0.0,
                           5e-324,
                           2.2250738585072014e-308,
                           1.7976931348623157e308,
                           0.1,
                           0.1 + 0.2,
                           1e100,
                           1e21,
                           NAN,
                           INFINITY,
                           -INFINITY};
    for (size_t i = 0; i < sizeof edge / sizeof *edge; i++)
        check_double(&t, edge[i]);
    print_message("%ld doubles as defined (%ld short decimals also as the old writer wrote "
                  "them)\n",
                  t.values, t.short_decimals);
    assert_true(t.values > 1000000);
}

/* Exact cases the CLI writes (time, prices, volume), spelled out. */
static void test_wire_fmt_known(void **state)
{
    (void)state;
    const struct {
        double v;
        const char *s;
    } want[] = {{0, "0"},
                {-0.0, "-0.0"},
                {7, "7"},
                {-7, "-7"},
                {1748304000.0, "1748304000"},
                {236.05, "236.05"},
                {196.8, "196.8"},
                {0.99845, "0.99845"},
                {-0.0001, "-0.0001"},
                {0.00012, "0.00012"},
                {1.5e-7, "1.5e-07"},
                {13823925.0, "13823925"},
                {9007199254740991.0, "9007199254740991"},
                {9007199254740992.0, "9007199254740992"},
                {999999999999999.9, "999999999999999.9"},
                {123456789012.345, "123456789012.345"},
                {0.1 + 0.2, "0.30000000000000004"},
                {1e100, "1e+100"},
                {NAN, "null"}};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        char out[TVK_FMT_MAX];
        size_t n = tvk_fmt_double(want[i].v, out);
        assert_string_equal(out, want[i].s);
        assert_int_equal(n, strlen(want[i].s));
    }
}

static void check_int(int64_t v)
{
    char out[TVK_FMT_MAX + 8], want[32];
    memset(out, 0x5A, sizeof out);
    size_t n = tvk_fmt_int(v, out);
    snprintf(want, sizeof want, "%" PRId64, v);
    if (n != strlen(want) || memcmp(out, want, n + 1))
        fail_msg("%" PRId64 ": wrote '%.*s' (%zu bytes)", v, (int)(n < 24 ? n : 24), out, n);
    if (v != INT64_MIN && fabs((double)v) < 9007199254740992.0) { /* the double writer too */
        tvk_fmt_double((double)v, out);
        assert_string_equal(out, want);
    }
    tvk_buf b;
    tvk_buf_init(&b);
    assert_int_equal(tvk_buf_json_int(&b, v), 0);
    assert_string_equal(b.data, want);
    tvk_buf_free(&b);
}

/* Every power of ten and of two and their neighbours, both signs, the int64 limits, and
 * random values of every length. */
static void test_wire_fmt_int(void **state)
{
    (void)state;
    long n = 0;
    uint64_t p = 1;
    for (int e = 0; e <= 19; e++, p *= 10)
        for (int64_t d = -3; d <= 3; d++) {
            uint64_t u = p + (uint64_t)d;
            if (u > (uint64_t)INT64_MAX) continue;
            check_int((int64_t)u);
            check_int(-(int64_t)u);
            n += 2;
        }
    for (int e = 0; e < 63; e++)
        for (int64_t d = -2; d <= 2; d++) {
            int64_t v = (int64_t)(((uint64_t)1 << e) + (uint64_t)d);
            check_int(v);
            check_int(-v);
            n += 2;
        }
    const int64_t lim[] = {INT64_MIN, INT64_MIN + 1, INT64_MAX, INT64_MAX - 1, 0, -1, 1};
    for (size_t i = 0; i < sizeof lim / sizeof *lim; i++, n++)
        check_int(lim[i]);
    uint64_t s = 0xA4093822299F31D0ULL;
    for (int i = 0; i < 300000; i++, n++) {
        uint64_t x = ((uint64_t)wt_rnd(&s, 1u << 31) << 33) ^ ((uint64_t)wt_rnd(&s, 1u << 31) << 2);
        int64_t v = (int64_t)(x >> (1 + wt_rnd(&s, 63))); /* 0 .. INT64_MAX */
        check_int(wt_rnd(&s, 2) ? v : -v);
    }
    print_message("%ld integers as printf writes them\n", n);
}

int main(void)
{
    setlocale(LC_ALL, "C");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_fmt_known),
        cmocka_unit_test(test_wire_fmt_int),
        cmocka_unit_test(test_wire_fmt_price_shapes),
        cmocka_unit_test(test_wire_fmt_arbitrary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
