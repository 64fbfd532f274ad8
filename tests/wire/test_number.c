/* tvk_parse_double: the same bits as strtod in the C locale for every number in every capture,
 * for hard cases and for random inputs; JSON grammar only; independent of the global locale. */
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tvkit/wire.h"

#include "wire_testutil.h"

static const char *captures;

/* The tokenizer converts short numbers while it scans them: the same text inside a packet,
 * read back with tvk_json_double, tvk_json_next_member and tvk_json_int64. */
static tvk_reader *tok_reader;

static void check_token(const char *buf, size_t n, double want)
{
    char doc[1100];
    int dl = snprintf(doc, sizeof doc, "{\"m\":\"x\",\"p\":[%s,{\"v\":%s}]}", buf, buf);
    assert_true(dl > 0 && (size_t)dl < sizeof doc);
    tvk_msg m;
    if (tvk_reader_parse_payload(tok_reader, doc, (size_t)dl, &m) != 0)
        fail_msg("'%s' rejected in a packet", buf);
    int p = tvk_json_member(m.json, 0, "p");
    int t = tvk_json_index(m.json, p, 0);
    double got;
    assert_int_equal(tvk_json_double(m.json, t, &got), 0);
    if (memcmp(&got, &want, sizeof got))
        fail_msg("'%s' as a token: got %.17g, strtod %.17g", buf, got, want);
    int cursor = 0;
    tvk_jmember mb;
    assert_int_equal(tvk_json_next_member(m.json, tvk_json_index(m.json, p, 1), &cursor, &mb), 1);
    assert_int_equal(mb.type, TVK_J_NUMBER);
    assert_true(mb.raw.len == n && !memcmp(mb.raw.p, buf, n));
    if (memcmp(&mb.num, &want, sizeof want))
        fail_msg("'%s' as a member: got %.17g, strtod %.17g", buf, mb.num, want);
    int64_t iv;
    /* (Integers from 2^53 on are read exactly from the text by tvk_json_int64.) */
    if (fabs(want) < 9007199254740992.0 && want == (double)(int64_t)want) {
        assert_int_equal(tvk_json_int64(m.json, t, &iv), 0);
        assert_true(iv == (int64_t)want);
    }
}

static void check_same(const char *s, size_t n)
{
    char buf[512];
    assert_true(n < sizeof buf);
    memcpy(buf, s, n);
    buf[n] = 0;
    double want = strtod(buf, NULL), got;
    if (tvk_parse_double(s, n, &got) != 0) fail_msg("rejected '%s'", buf);
    if (memcmp(&got, &want, sizeof got)) fail_msg("'%s': got %.17g, strtod %.17g", buf, got, want);
    check_token(buf, n, want);
}

/* Calls fn for every number token of every packet of the capture files (framed files) and of
 * every JSON line (jsonl). */
typedef void (*number_fn)(void *ctx, const tvk_json *j, int tok);

typedef struct number_lines {
    tvk_reader *r;
    number_fn fn;
    void *ctx;
} number_lines;

static int number_line(void *ctx, const char *line, size_t n)
{
    number_lines *w = ctx;
    tvk_msg m;
    int framed = n >= 3 && !memcmp(line, "~m~", 3), rc;
    if (framed) assert_int_equal(tvk_reader_feed(w->r, line, n), 0);
    for (;;) {
        if (framed) {
            if ((rc = tvk_reader_next_msg(w->r, &m)) == 0) break;
        } else {
            rc = tvk_reader_parse_payload(w->r, line, n, &m);
        }
        assert_true(rc >= 0);
        for (int t = 0; m.json && t < tvk_json_count(m.json); t++)
            if (tvk_json_type(m.json, t) == TVK_J_NUMBER) w->fn(w->ctx, m.json, t);
        if (!framed) break;
    }
    return 0;
}

static void each_capture_number(const char *const *files, size_t nfiles, number_fn fn, void *ctx)
{
    number_lines w = {tvk_reader_new(0), fn, ctx};
    assert_non_null(w.r);
    for (size_t f = 0; f < nfiles; f++)
        if (wt_each_line(captures, files[f], number_line, &w))
            fail_msg("cannot read capture %s", files[f]);
    tvk_reader_free(w.r);
}

typedef struct counts {
    long numbers, slow;
} counts;

static void compare_one(void *ctx, const tvk_json *j, int t)
{
    counts *c = ctx;
    const char *p;
    size_t l;
    tvk_json_raw(j, t, &p, &l);
    check_same(p, l);
    c->numbers++;
    c->slow += memchr(p, 'e', l) != NULL || l > 17;
}

/* Every number token of every capture, against strtod. */
static void test_wire_number_captures(void **state)
{
    (void)state;
    const char *files[] = {"stock-tools_trading-chart_har_server_to_client.txt",
                           "stock-tools_trading-chart_har_client_to_server.txt",
                           "tradingview-rs_socket_messages_split.txt",
                           "tradingview-rs_events_reserialized.jsonl"};
    counts c = {0, 0};
    each_capture_number(files, sizeof files / sizeof *files, compare_one, &c);
    long numbers = c.numbers, slow = c.slow;
    print_message("compared %ld numbers from the captures (%ld with exponent or > 17 chars)\n",
                  numbers, slow);
    assert_true(numbers > 100000);
    assert_true(slow > 0);
}

static void test_wire_number_hard_cases(void **state)
{
    (void)state;
    const char *cases[] = {
        "0",
        "-0",
        "0.0",
        "-0.0",
        "1",
        "-1",
        "1e+100",
        "1E100",
        "1e-100",
        "0.1",
        "0.2",
        "0.3",
        "2.2250738585072011e-308",
        "2.2250738585072014e-308",
        "4.9e-324",
        "5e-324",
        "2e-324",
        "1.7976931348623157e308",
        "1.7976931348623158e308",
        "1.7976931348623159e308",
        "1e309",
        "-1e309",
        "1e-400",
        "9007199254740992",
        "9007199254740993",
        "9007199254740994",
        "9007199254740995",
        "18446744073709551615",
        "18446744073709551616",
        "123456789012345678901234567890",
        "0.000000000000000000000000000001",
        "1728013500.0",
        "356.1",
        "33019.3",
        "14324.2495",
        "1e22",
        "1e23",
        "9e22",
        "8.5e-5",
        "7.2057594037927933e16",
        "3.0000000000000004",
        "0.30000000000000004",
        "1.00000000000000011102230246251565404236316680908203125",
        "1.00000000000000011102230246251565404236316680908203124",
        "1.00000000000000011102230246251565404236316680908203126",
        "2.4703282292062327e-324",
        "2.4703282292062328e-324",
        "100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000001",
        "0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000001e"
        "300",
        "1e99999999999",
        "1e-99999999999",
        "45035996273704.96",
        "1234567890123456789e-10",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_same(cases[i], strlen(cases[i]));
    /* Powers of ten (a table for bare 1eN) and their neighbours, both signs, every exponent. */
    const char *forms[] = {"1e%d", "-1E+%d", "10e%d", "0.1e%d", "1.0e%d", "3e%d", "1e-%d"};
    for (size_t f = 0; f < sizeof forms / sizeof *forms; f++) {
        for (int k = 0; k <= 400; k++) {
            char buf[32];
            int n = snprintf(buf, sizeof buf, forms[f], k);
            check_same(buf, (size_t)n);
        }
    }
}

static void test_wire_number_random(void **state)
{
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    char buf[64];
    for (int i = 0; i < 300000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int n;
        switch (i % 4) {
        case 0: { /* any double, printed with 17 digits */
            double v;
            memcpy(&v, &x, sizeof v);
            if (!isfinite(v)) continue;
            n = snprintf(buf, sizeof buf, "%.17g", v);
            break;
        }
        case 1: /* prices: a few integer and fraction digits */
            n = snprintf(buf, sizeof buf, "%llu.%0*llu", (unsigned long long)(x % 100000),
                         (int)(x >> 60) % 9 + 1, (unsigned long long)((x >> 20) % 100000000));
            break;
        case 2: /* long mantissas with exponents */
            n = snprintf(buf, sizeof buf, "%llue%d", (unsigned long long)(x >> 1),
                         (int)((x >> 56) % 64) - 40);
            break;
        default: /* near halfway: 17-19 digit mantissas */
            n = snprintf(buf, sizeof buf, "0.%019llu",
                         (unsigned long long)(x % 10000000000000000000ULL));
            break;
        }
        check_same(buf, (size_t)n);
    }
}

/* Every capture number as a double (read once), for the writer's round trip. */
static double *cap_nums;
static size_t ncap_nums;

static void keep_double(void *ctx, const tvk_json *j, int t)
{
    size_t *cap = ctx;
    if (ncap_nums == *cap) {
        *cap = *cap ? *cap * 2 : 65536;
        cap_nums = realloc(cap_nums, *cap * sizeof *cap_nums);
        assert_non_null(cap_nums);
    }
    assert_int_equal(tvk_json_double(j, t, &cap_nums[ncap_nums]), 0);
    ncap_nums++;
}

static void load_capture_doubles(void)
{
    if (cap_nums) return;
    const char *files[] = {"stock-tools_trading-chart_har_server_to_client.txt",
                           "tradingview-rs_socket_messages_split.txt",
                           "tradingview-rs_events_reserialized.jsonl"};
    size_t cap = 0;
    each_capture_number(files, sizeof files / sizeof *files, keep_double, &cap);
    assert_true(ncap_nums > 100000);
}

/* tvk_buf_json_double then tvk_parse_double gives back the same bits; the text is at most 17
 * significant digits and a JSON number (tvk_parse_double accepts nothing else). */
static void check_write(double v)
{
    tvk_buf b;
    tvk_buf_init(&b);
    assert_int_equal(tvk_buf_json_double(&b, v), 0);
    double back;
    if (tvk_parse_double(b.data, b.len, &back) != 0)
        fail_msg("%.17g written as '%s', which does not parse", v, b.data);
    if (memcmp(&back, &v, sizeof v))
        fail_msg("%.17g written as '%s', read back as %.17g", v, b.data, back);
    /* In the C locale the text is what printf's "%.15g", "%.16g" or "%.17g" (the first that
     * reads back) prints: the writer's fast path for short decimals must not change it.
     * Integers below 2^53 are written as integers, -0 as "-0.0". */
    if (!strcmp(localeconv()->decimal_point, ".") && !(v == 0 && signbit(v)) &&
        !(fabs(v) < 9007199254740992.0 && v == (double)(int64_t)v)) {
        char ref[64];
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(ref, sizeof ref, "%.*g", prec, v);
            if (strtod(ref, NULL) == v) break;
        }
        if (strcmp(ref, b.data)) fail_msg("%.17g written as '%s', printf: '%s'", v, b.data, ref);
    }
    tvk_buf_free(&b);
}

/* Returns how many values were checked. */
static long write_roundtrip_all(void)
{
    load_capture_doubles();
    long checked = 0;
    for (size_t i = 0; i < ncap_nums; i++, checked++)
        check_write(cap_nums[i]);
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < 300000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double v;
        if (i % 3 == 0) {
            memcpy(&v, &x, sizeof v); /* any bit pattern: subnormals, huge, tiny */
            if (!isfinite(v)) continue;
        } else if (i % 3 == 1) {
            /* price-like decimals with 1-8 fraction digits */
            char t[64];
            snprintf(t, sizeof t, "%llu.%0*llu", (unsigned long long)(x >> 44), (int)(x % 8) + 1,
                     (unsigned long long)((x >> 8) % 100000000ULL) %
                         (unsigned long long)pow(10, (double)(x % 8) + 1));
            assert_int_equal(tvk_parse_double(t, strlen(t), &v), 0);
        } else {
            v = (double)(int64_t)(x >> 3) / (double)(1 + (x & 0xFFFFF)); /* arbitrary ratios */
        }
        check_write(v);
        check_write(-v);
        checked += 2;
    }
    const double edge[] = {
        0.0,      -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
        0.1,      0.3,  1e100,  1e21,    9007199254740993.0,      9007199254740992.0,
        0.1 + 0.2};
    for (size_t i = 0; i < sizeof edge / sizeof *edge; i++, checked++)
        check_write(edge[i]);
    return checked;
}

static void test_wire_number_write_roundtrip(void **state)
{
    (void)state;
    long n = write_roundtrip_all();
    print_message("%ld doubles written and read back bit-exactly\n", n);
    /* The shortest form where one exists below 17 digits. */
    const struct {
        double v;
        const char *s;
    } want[] = {{356.1, "356.1"},    {0.1 + 0.2, "0.30000000000000004"},
                {1e100, "1e+100"},   {-0.0, "-0.0"},
                {1.5e-7, "1.5e-07"}, {123.45, "123.45"}};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        tvk_buf b;
        tvk_buf_init(&b);
        assert_int_equal(tvk_buf_json_double(&b, want[i].v), 0);
        assert_string_equal(b.data, want[i].s);
        tvk_buf_free(&b);
    }
}

static void test_wire_number_rejects(void **state)
{
    (void)state;
    const char *bad[] = {"",   "-",   "01",   "-01", "1.",    ".5",       "+1",
                         "1e", "1e+", "0x10", "inf", "nan",   "Infinity", " 1",
                         "1 ", "1,5", "1.5.", "--1", "1e5.0", "0.e1"};
    double d = 42;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (tvk_parse_double(bad[i], strlen(bad[i]), &d) != TVK_ENUMBER)
            fail_msg("accepted '%s'", bad[i]);
    /* Only [s, s+n) is read: a longer buffer is not looked at past n. */
    assert_int_equal(tvk_parse_double("12345", 3, &d), 0);
    assert_true(d == 123);
}

/* Under a decimal-comma global locale strtod would read "1.5" as 1; tvk_parse_double and the
 * writer must not care. de_DE is compiled into a temporary directory with localedef when the
 * system has no such locale installed. */
static void test_wire_number_locale(void **state)
{
    (void)state;
    const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "de_DE", NULL};
    const char *got = NULL;
    for (int i = 0; names[i] && !got; i++)
        if (setlocale(LC_ALL, names[i])) got = names[i];
    char dir[] = "/tmp/tvk_locale_XXXXXX";
    int made = 0;
    if (!got && mkdtemp(dir)) {
        made = 1;
        char cmd[512];
        snprintf(cmd, sizeof cmd, "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1",
                 dir);
        if (system(cmd) == 0) {
            setenv("LOCPATH", dir, 1);
            if (setlocale(LC_ALL, "de_DE.UTF-8")) got = "de_DE.UTF-8 (localedef)";
        }
    }
    if (!got) {
        print_message("SKIPPED sub-assertion: no decimal-comma locale available "
                      "(none installed and localedef failed)\n");
    } else {
        /* Prove the locale is in effect, then that we ignore it. */
        assert_true(strtod("1.5", NULL) == 1.0);
        double d;
        assert_int_equal(tvk_parse_double("1.5", 3, &d), 0);
        assert_true(d == 1.5);
        assert_int_equal(tvk_parse_double("1e+100", 6, &d), 0);
        assert_true(d == 1e100);
        assert_int_equal(tvk_parse_double("123456789012345678901.25", 24, &d), 0);
        assert_true(d == 123456789012345678901.25);
        tvk_buf b;
        tvk_buf_init(&b);
        assert_int_equal(tvk_buf_json_double(&b, 356.1), 0);
        assert_string_equal(b.data, "356.1");
        tvk_buf_free(&b);
        /* The writer's whole round trip (captures and random doubles) under this locale. */
        char probe[32];
        snprintf(probe, sizeof probe, "%.1f", 1.5);
        assert_string_not_equal(probe, "1.5");
        long n = write_roundtrip_all();
        print_message("%ld doubles round-tripped under %s\n", n, got);
        print_message("checked under locale %s\n", got);
    }
    setlocale(LC_ALL, "C");
    if (made) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
        unsetenv("LOCPATH");
    }
}

int main(int argc, char **argv)
{
    captures = wt_captures_dir(argc, argv);
    if (!captures) return 2;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_number_captures),
        cmocka_unit_test(test_wire_number_hard_cases),
        cmocka_unit_test(test_wire_number_random),
        cmocka_unit_test(test_wire_number_rejects),
        cmocka_unit_test(test_wire_number_write_roundtrip),
        cmocka_unit_test(test_wire_number_locale),
    };
    tok_reader = tvk_reader_new(0);
    if (!tok_reader) return 2;
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tvk_reader_free(tok_reader);
    free(cap_nums);
    return rc;
}
