/* The plain qsd reader (tvk_qsd_plain_parse, tvk_reader_next_fast): whatever it accepts is valid
 * JSON that reads the same through the tokens (captures, random packets, every one-byte
 * mutation), every other form is left to the generic path, and the reader routes each packet
 * of a message to the right path. */
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

#include "qsd_same.h"
#include "wire_testutil.h"

static const char *captures;

/* Parses p with the plain reader; when accepted, asserts the generic path reads the same.
 * Returns whether it was accepted. */
static int plain_checked(tvk_reader *r, const char *p, size_t n)
{
    tvk_qsd_plain q;
    if (!tvk_qsd_plain_parse(p, n, &q)) return 0;
    int d = qsd_same(r, p, n, &q);
    if (d) fail_msg("plain and generic differ (%d) on: %.*s", d, (int)(n > 300 ? 300 : n), p);
    return 1;
}

typedef struct cap_counts {
    tvk_reader *r;
    long qsd, plain;
} cap_counts;

static void capture_packet(void *ctx, const tvk_packet *pkt)
{
    cap_counts *c = ctx;
    if (pkt->kind != TVK_PKT_JSON) return;
    tvk_msg m;
    if (tvk_reader_parse_payload(c->r, pkt->data, pkt->len, &m) == 0 && m.type == TVK_MSG_QSD)
        c->qsd++;
    c->plain += plain_checked(c->r, pkt->data, pkt->len);
}

static void test_wire_qsd_captures(void **state)
{
    (void)state;
    const char *files[] = {"stock-tools_trading-chart_har_server_to_client.txt",
                           "tradingview-rs_socket_messages_split.txt"};
    cap_counts c = {tvk_reader_new(0), 0, 0};
    assert_non_null(c.r);
    const char *bad;
    if (wt_each_capture_packet(captures, files, 2, capture_packet, &c, &bad))
        fail_msg("capture %s: cannot open or frame", bad);
    print_message("captures: %ld qsd packets, %ld of the plain form\n", c.qsd, c.plain);
    assert_true(c.plain > 0);
    assert_true(c.plain <= c.qsd);
    tvk_reader_free(c.r);
}

/* ---------------------------------------------------------------- random plain packets */

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static unsigned rnd(unsigned n)
{
    return wt_rnd(&rng, n);
}

static const char *const numbers[] = {"0",
                                      "-0",
                                      "1e100",
                                      "1E+2",
                                      "123456789012345678901234",
                                      "0.1",
                                      "-12.5e-3",
                                      "9007199254740993",
                                      "1.7976931348623157e308",
                                      "5e-324",
                                      "864.61",
                                      "4974433.0",
                                      "1795691197",
                                      "-0.000001",
                                      "1e999",
                                      "0.30000000000000004",
                                      "12345678901234567890",
                                      "2.2250738585072011e-308",
                                      "100000000000000000000000.5",
                                      "7"};
static const char *const strings[] = {"",
                                      "ok",
                                      "market",
                                      "Simulated F000",
                                      "caf\\u00e9",
                                      "\\\"q\\\"",
                                      "a\\\\b\\/c",
                                      "\xc3\xa9t\xc3\xa9",
                                      "\xe2\x82\xac 5",
                                      "\\ud83d\\ude00 x",
                                      "tab\\there"};
static const char *const literals[] = {"true", "false", "null"};
static const char *const keys[] = {"lp",  "ch",  "chp",         "volume",    "lp_time",
                                   "bid", "ask", "description", "k\\u0065y", "\xc3\xa9"};

static void random_plain(tvk_buf *b, int nfields)
{
    tvk_buf_reset(b);
    tvk_buf_printf(b, "{\"m\":\"qsd\",\"p\":[\"qs_%u\",{\"n\":\"%s%u\",\"s\":\"ok\",\"v\":{",
                   rnd(100000), rnd(4) ? "SIM:F" : "caf\\u00e9:", rnd(1000));
    for (int i = 0; i < nfields; i++) {
        tvk_buf_printf(b, "%s\"%s\":", i ? "," : "", keys[rnd(sizeof keys / sizeof *keys)]);
        if (!rnd(8))
            tvk_buf_puts(b, literals[rnd(3)]);
        else if (rnd(3))
            tvk_buf_puts(b, numbers[rnd(sizeof numbers / sizeof *numbers)]);
        else
            tvk_buf_printf(b, "\"%s\"", strings[rnd(sizeof strings / sizeof *strings)]);
    }
    tvk_buf_puts(b, "}}]}");
}

static void test_wire_qsd_random(void **state)
{
    (void)state;
    tvk_reader *r = tvk_reader_new(0);
    tvk_buf b;
    tvk_buf_init(&b);
    for (int k = 0; k < 5000; k++) {
        int nf = (int)rnd(TVK_QSD_PLAIN_MAX + 1);
        random_plain(&b, nf);
        if (!plain_checked(r, b.data, b.len)) fail_msg("not read as plain: %s", b.data);
    }
    tvk_buf_free(&b);
    tvk_reader_free(r);
}

typedef struct mut {
    tvk_reader *r;
    long accepted;
} mut;

static void mutation(void *ctx, const char *p, size_t n)
{
    mut *m = ctx;
    m->accepted += plain_checked(m->r, p, n);
}

/* Every deletion, replacement and insertion of one byte at every position of plain packets:
 * whatever the plain reader still accepts must be valid and read the same. */
static void test_wire_qsd_mutations(void **state)
{
    (void)state;
    static const unsigned char subst[] = {'"', '\\', ',', ':', '}',  ']',  '{',  '[', ' ',
                                          '0', 'e',  '.', '-', '+',  'x',  'u',  't', 'f',
                                          'n', 'l',  1,   0,   0x7f, 0xc3, 0xa9, 0xff};
    mut m = {tvk_reader_new(0), 0};
    tvk_buf b;
    tvk_buf_init(&b);
    long variants = 0;
    for (int k = 0; k < 12; k++) {
        random_plain(&b, 1 + (int)rnd(4));
        variants += wt_each_mutation(b.data, b.len, subst, sizeof subst, mutation, &m);
    }
    print_message("mutations: %ld variants, %ld still plain\n", variants, m.accepted);
    assert_true(m.accepted > 0 && m.accepted < variants);
    tvk_buf_free(&b);
    tvk_reader_free(m.r);
}

/* Valid packets of other forms go to the generic path; so does the member above the bound. */
static void test_wire_qsd_other_forms(void **state)
{
    (void)state;
    static const char *const other[] = {
        "{\"m\": \"qsd\",\"p\":[\"qs_1\",{\"n\":\"A\",\"s\":\"ok\",\"v\":{\"lp\":1}}]}",
        "{\"p\":[\"qs_1\",{\"n\":\"A\",\"s\":\"ok\",\"v\":{\"lp\":1}}],\"m\":\"qsd\"}",
        "{\"m\":\"qsd\",\"p\":[\"qs_1\",{\"n\":\"A\",\"s\":\"error\",\"v\":{}}]}",
        "{\"m\":\"qsd\",\"p\":[\"qs_1\",{\"n\":\"A\",\"s\":\"ok\",\"v\":{\"o\":{\"a\":1}}}]}",
        "{\"m\":\"qsd\",\"p\":[\"qs_1\",{\"n\":\"A\",\"s\":\"ok\",\"v\":{\"a\":[1]}}]}",
        "{\"m\":\"qsd\",\"p\":[\"qs_1\",{\"n\":\"A\",\"s\":\"ok\",\"v\":{\"lp\":1}}]} ",
        "{\"m\":\"qsd\",\"p\":[\"\",{\"n\":\"A\",\"s\":\"ok\",\"v\":{\"lp\":1}}]}",
        "{\"m\":\"qsd\",\"p\":[\"qs_1\",{\"n\":\"A\",\"s\":\"ok\",\"v\":{\"lp\":1}}],\"t\":1}",
        "{\"m\":\"qsd\",\"p\":[\"qs_1\",{\"s\":\"ok\",\"n\":\"A\",\"v\":{\"lp\":1}}]}",
        "{\"m\":\"qsd\",\"p\":[\"qs_1\",{\"n\":\"A\",\"s\":\"ok\",\"v\":{\"lp\":1}},2]}",
        "{\"m\":\"du\",\"p\":[\"qs_1\",{\"n\":\"A\",\"s\":\"ok\",\"v\":{\"lp\":1}}]}",
    };
    tvk_reader *r = tvk_reader_new(0);
    tvk_qsd_plain q;
    for (size_t i = 0; i < sizeof other / sizeof *other; i++) {
        tvk_msg m;
        assert_int_equal(tvk_reader_parse_payload(r, other[i], strlen(other[i]), &m), 0);
        if (tvk_qsd_plain_parse(other[i], strlen(other[i]), &q))
            fail_msg("read as plain: %s", other[i]);
    }
    /* the bound: TVK_QSD_PLAIN_MAX members are plain, one more is not */
    tvk_buf b;
    tvk_buf_init(&b);
    for (int extra = 0; extra <= 1; extra++) {
        tvk_buf_reset(&b);
        tvk_buf_puts(&b, "{\"m\":\"qsd\",\"p\":[\"qs_1\",{\"n\":\"A\",\"s\":\"ok\",\"v\":{");
        for (int i = 0; i < TVK_QSD_PLAIN_MAX + extra; i++)
            tvk_buf_printf(&b, "%s\"f%d\":%d", i ? "," : "", i, i);
        tvk_buf_puts(&b, "}}]}");
        assert_int_equal(plain_checked(r, b.data, b.len), !extra);
    }
    /* an empty change is plain, with no members */
    const char *empty = "{\"m\":\"qsd\",\"p\":[\"qs_1\",{\"n\":\"A\",\"s\":\"ok\",\"v\":{}}]}";
    assert_int_equal(plain_checked(r, empty, strlen(empty)), 1);
    assert_int_equal(tvk_qsd_plain_parse(empty, strlen(empty), &q), 1);
    assert_int_equal(q.nfields, 0);
    assert_int_equal(tvk_qsd_plain_parse(NULL, 0, &q), 0);
    tvk_buf_free(&b);
    tvk_reader_free(r);
}

/* tvk_reader_next_fast: each packet of a message to its path, errors as tvk_reader_next_msg. */
static void test_wire_qsd_reader_fast(void **state)
{
    (void)state;
    const char *pk[] = {
        "~h~7",
        "{\"m\":\"qsd\",\"p\":[\"qs_1\",{\"n\":\"SIM:A\",\"s\":\"ok\",\"v\":{\"lp\":1.5}}]}",
        "{\"m\": \"qsd\",\"p\":[\"qs_1\",{\"n\":\"SIM:A\",\"s\":\"ok\",\"v\":{\"lp\":2}}]}",
        "{\"m\":\"qsd\",\"p\":[\"qs_1\",{\"n\":\"SIM:A\",\"s\":\"ok\",\"v\":{\"lp\":1.}}]}",
        "{\"m\":\"du\",\"p\":[\"cs_1\",{}]}",
    };
    tvk_buf msg;
    tvk_buf_init(&msg);
    for (size_t i = 0; i < sizeof pk / sizeof *pk; i++)
        assert_int_equal(tvk_frame(&msg, pk[i], strlen(pk[i])), 0);
    tvk_reader *r = tvk_reader_new(0);
    tvk_qsd_plain q;
    tvk_msg m;
    assert_int_equal(tvk_reader_feed(r, msg.data, msg.len), 0);
    assert_int_equal(tvk_reader_next_fast(r, &m, &q), 1);
    assert_int_equal(m.type, TVK_MSG_HEARTBEAT);
    assert_int_equal(m.heartbeat, 7);
    assert_int_equal(tvk_reader_next_fast(r, &m, &q), 2);
    assert_int_equal(m.type, TVK_MSG_QSD);
    assert_null(m.json);
    assert_int_equal(m.params, -1);
    assert_true(m.session.len == 4 && !memcmp(m.session.p, "qs_1", 4));
    assert_true(m.method.len == 3 && !memcmp(m.method.p, "qsd", 3));
    assert_true(q.symbol.len == 5 && !memcmp(q.symbol.p, "SIM:A", 5));
    assert_int_equal(q.nfields, 1);
    assert_true(q.fields[0].num == 1.5);
    assert_int_equal(tvk_reader_next_fast(r, &m, &q), 1); /* whitespace: tokens */
    assert_int_equal(m.type, TVK_MSG_QSD);
    assert_non_null(m.json);
    assert_int_equal(tvk_reader_next_fast(r, &m, &q), TVK_EJSON); /* "1." */
    assert_non_null(strstr(tvk_reader_errmsg(r), "invalid number"));
    assert_int_equal(tvk_reader_next_fast(r, &m, &q), 1);
    assert_int_equal(m.type, TVK_MSG_DU);
    assert_int_equal(tvk_reader_next_fast(r, &m, &q), 0);
    tvk_reader_stats st;
    tvk_reader_stats_get(r, &st);
    assert_int_equal(st.packets, 5);
    tvk_buf_free(&msg);
    tvk_reader_free(r);
}

int main(int argc, char **argv)
{
    captures = wt_captures_dir(argc, argv);
    if (!captures) return 2;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_qsd_captures),    cmocka_unit_test(test_wire_qsd_random),
        cmocka_unit_test(test_wire_qsd_mutations),   cmocka_unit_test(test_wire_qsd_other_forms),
        cmocka_unit_test(test_wire_qsd_reader_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
