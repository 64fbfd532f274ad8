/* The history answer read without tokens (tvk_series_plain_parse, tvk_reader_next_lazy): what it
 * accepts the generic path accepts and reads the same, field by field and bit for bit (captures,
 * generated answers of 0 to 6,000 bars), and every variant of the usual layout (each byte
 * mutated, each cut, escaped keys, reordered members, whitespace) is either read the same or
 * declined. Each document is parsed from an allocation of its exact size, so that the sanitizer
 * build catches a read past its end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tvkit/wire.h"

#include "bars_same.h"
#include "wire_testutil.h"

static const char *captures;

typedef struct bars {
    tvk_bar *v;
    size_t n, cap;
    size_t stop_at; /* the callback fails at this bar (0 = never) */
} bars;

static int collect(void *user, const tvk_bar *b)
{
    bars *x = user;
    if (x->stop_at && x->n + 1 == x->stop_at) return TVK_ECANCELED;
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 256;
        tvk_bar *v = realloc(x->v, cap * sizeof *v);
        if (!v) return TVK_ENOMEM;
        x->v = v;
        x->cap = cap;
    }
    x->v[x->n++] = *b;
    return 0;
}

#define SHOW(p, n) (int)((n) > 200 ? 200 : (n)), (p)

/* Parses [p, p+n) with the plain reader from an exact-size copy; when accepted, asserts that the
 * generic path accepts it and reads the same. Returns whether it was accepted. */
static int plain_checked(tvk_reader *r, const char *p, size_t n, const char *id)
{
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, p, n);
    tvk_series_plain u;
    bars got = {0};
    int rc = tvk_series_plain_parse(copy, n, id, &u, collect, &got);
    if (rc != 1) {
        assert_int_equal(rc, 0);
        free(got.v);
        free(copy);
        return 0;
    }
    char why[256];
    if (!bars_same(r, copy, n, id, &u, got.v, got.n, why, sizeof why))
        fail_msg("%s: %.*s", why, SHOW(copy, n));
    free(got.v);
    free(copy);
    return 1;
}

/* ---------------------------------------------------------------- captures */

typedef struct cap_counts {
    tvk_reader *r;
    long answers, with_bars, plain, plain_bars;
} cap_counts;

static void capture_packet(void *ctx, const tvk_packet *pkt)
{
    cap_counts *c = ctx;
    if (pkt->kind != TVK_PKT_JSON) return;
    tvk_msg m;
    if (tvk_reader_parse_payload(c->r, pkt->data, pkt->len, &m) != 0) return;
    if (m.type != TVK_MSG_TIMESCALE_UPDATE && m.type != TVK_MSG_DU) return;
    c->answers++;
    char id[64] = "sds_1";
    tvk_series_update g;
    int found = tvk_msg_series_at(&m, 0, &g) == 0 && g.series_id.len < sizeof id;
    if (found) {
        memcpy(id, g.series_id.p, g.series_id.len);
        id[g.series_id.len] = '\0';
        c->with_bars++;
    }
    int ok = plain_checked(c->r, pkt->data, pkt->len, id);
    c->plain += ok;
    c->plain_bars += ok && found;
    /* Every price series answer of the captures is of the usual layout. */
    if (found && !ok) fail_msg("capture answer declined: %.*s", SHOW(pkt->data, pkt->len));
}

static int capture_line(void *ctx, const char *line, size_t n)
{
    tvk_packet pkt = {TVK_PKT_JSON, line, n, 0, 0, TVK_LEN_BYTES};
    if (n) capture_packet(ctx, &pkt);
    return 0;
}

static void test_wire_bars_captures(void **state)
{
    (void)state;
    const char *files[] = {"stock-tools_trading-chart_har_server_to_client.txt",
                           "tradingview-rs_socket_messages_split.txt"};
    cap_counts c = {tvk_reader_new(0), 0, 0, 0, 0};
    assert_non_null(c.r);
    const char *bad;
    if (wt_each_capture_packet(captures, files, 2, capture_packet, &c, &bad))
        fail_msg("capture %s: cannot open or frame", bad);
    /* the reserialized JSONL capture: one payload a line */
    assert_int_equal(
        wt_each_line(captures, "tradingview-rs_events_reserialized.jsonl", capture_line, &c), 0);
    print_message("captures: %ld answers (%ld with a price series); plain read %ld (%ld)\n",
                  c.answers, c.with_bars, c.plain, c.plain_bars);
    assert_true(c.with_bars >= 10);
    assert_int_equal(c.plain_bars, c.with_bars);
    tvk_reader_free(c.r);
}

/* ---------------------------------------------------------------- generated answers */

/* A random JSON number of the forms the server and others write. */
static void put_number(tvk_buf *b, uint64_t *rs)
{
    char s[80];
    switch (wt_rnd(rs, 12)) {
    case 0: /* an integer, maybe negative, up to 19 digits */
        snprintf(s, sizeof s, "%s%llu", wt_rnd(rs, 3) ? "" : "-",
                 (unsigned long long)wt_rnd(rs, 1000000000) * wt_rnd(rs, 1000000000));
        break;
    case 1: /* many decimals */
        snprintf(s, sizeof s, "%u.%09u%09u", wt_rnd(rs, 100000), wt_rnd(rs, 1000000000),
                 wt_rnd(rs, 1000000000));
        break;
    case 2: /* an exponent */
        snprintf(s, sizeof s, "%s%u.%u%c%s%u", wt_rnd(rs, 2) ? "" : "-", wt_rnd(rs, 10),
                 wt_rnd(rs, 100000), wt_rnd(rs, 2) ? 'e' : 'E', wt_rnd(rs, 2) ? "+" : "-",
                 wt_rnd(rs, 330));
        break;
    case 3:
        snprintf(s, sizeof s, "1e+100");
        break;
    case 4: /* longer than 19 digits */
        snprintf(s, sizeof s, "%u%09u%09u.5", 1 + wt_rnd(rs, 999), wt_rnd(rs, 1000000000),
                 wt_rnd(rs, 1000000000));
        break;
    case 5:
        snprintf(s, sizeof s, "%s", wt_rnd(rs, 2) ? "-0" : "0.0");
        break;
    case 6: /* near 2^53 */
        snprintf(s, sizeof s, "%llu", 9007199254740990ULL + wt_rnd(rs, 6));
        break;
    default: /* the usual price: up to 8 decimals */
        snprintf(s, sizeof s, "%s%u.%0*u", wt_rnd(rs, 8) ? "" : "-", wt_rnd(rs, 100000),
                 1 + (int)wt_rnd(rs, 8), wt_rnd(rs, 100000000));
    }
    tvk_buf_puts(b, s);
}

/* An answer in the server's layout, with nbars random bars, the optional parts at random. */
static void gen_answer(tvk_buf *b, uint64_t *rs, size_t nbars)
{
    int du = wt_rnd(rs, 3) == 0;
    tvk_buf_reset(b);
    tvk_buf_printf(b, "{\"m\":\"%s\",\"p\":[\"cs_%012u\",{\"sds_1\":{",
                   du ? "du" : "timescale_update", wt_rnd(rs, 1000000000));
    if (wt_rnd(rs, 2)) tvk_buf_puts(b, "\"node\":\"mum1-charts-pro-4-series-x4ur6-2\",");
    tvk_buf_puts(b, "\"s\":[");
    for (size_t i = 0; i < nbars; i++) {
        if (i) tvk_buf_puts(b, ",");
        unsigned form = wt_rnd(rs, 20);
        if (form == 0)
            tvk_buf_printf(b, "{\"i\":%zu.0,\"v\":[", i); /* integral with a fraction */
        else
            tvk_buf_printf(b, "{\"i\":%zu,\"v\":[", i);
        tvk_buf_printf(b, "%u.0", 1700000000u + (unsigned)i * 60u);
        int nv = wt_rnd(rs, 4) == 0 ? 5 : 6;
        for (int k = 1; k < nv; k++) {
            tvk_buf_puts(b, ",");
            if (wt_rnd(rs, 30) == 0)
                tvk_buf_puts(b, "null");
            else
                put_number(b, rs);
        }
        tvk_buf_puts(b, "]}");
    }
    tvk_buf_puts(b, "],\"ns\":{\"d\":\"\",\"indexes\":[]},\"t\":\"s1\"");
    if (wt_rnd(rs, 4))
        tvk_buf_printf(b, ",\"lbs\":{\"bar_close_time\":%u}", 1700000000u + wt_rnd(rs, 99));
    tvk_buf_puts(b, "}}");
    if (!du && wt_rnd(rs, 3)) {
        tvk_buf_puts(b, ",{\"index\":0,\"zoffset\":0,\"changes\":[");
        for (size_t i = 0; i < nbars; i++)
            tvk_buf_printf(b, "%s%u.0", i ? "," : "", 1700000000u + (unsigned)i * 60u);
        tvk_buf_puts(b, "],\"marks\":[[40,1766016000,300],[33,1766102400,301]],\"index_diff\":[]}");
    }
    tvk_buf_puts(b, "]");
    if (wt_rnd(rs, 3)) tvk_buf_printf(b, ",\"t\":%u,\"t_ms\":%u123", 1750870230u, 1750870230u);
    tvk_buf_puts(b, "}");
}

static void test_wire_bars_generated(void **state)
{
    (void)state;
    tvk_reader *r = tvk_reader_new(0);
    assert_non_null(r);
    tvk_buf b;
    tvk_buf_init(&b);
    uint64_t rs = 0x9e3779b97f4a7c15ULL;
    size_t total = 0;
    for (int k = 0; k < 60; k++) {
        size_t nbars = k == 0 ? 0 : k == 1 ? 6000 : k < 10 ? (size_t)k : (size_t)wt_rnd(&rs, 6001);
        gen_answer(&b, &rs, nbars);
        if (!plain_checked(r, b.data, b.len, "sds_1"))
            fail_msg("generated answer %d (%zu bars) declined: %.*s", k, nbars,
                     SHOW(b.data, b.len));
        /* another series id: the series is not found, the document still checked */
        assert_true(plain_checked(r, b.data, b.len, "sds_2"));
        total += nbars;
    }
    print_message("generated: 60 answers, %zu bars, all read the same\n", total);
    tvk_buf_free(&b);
    tvk_reader_free(r);
}

/* ---------------------------------------------------------------- variants */

static const char small[] =
    "{\"m\":\"timescale_update\",\"p\":[\"cs_68z3mne9l3wQ\",{\"sds_1\":{\"node\":\"n-1\",\"s\":["
    "{\"i\":0,\"v\":[1748304000.0,236.05,237.5,-235.1,1e+100,13823925.0]},"
    "{\"i\":1,\"v\":[1748390400.0,2.5E3,null,235.1,236.8]}],"
    "\"ns\":{\"d\":\"\",\"indexes\":[]},\"t\":\"s1\",\"lbs\":{\"bar_close_time\":1765965599}}},"
    "{\"index\":0,\"zoffset\":0,\"changes\":[1748304000.0],\"marks\":[[40,1766016000,300]],"
    "\"index_diff\":[]}],\"t\":1750870230,\"t_ms\":1750870230451}";

typedef struct var_ctx {
    tvk_reader *r;
    long accepted, variants;
} var_ctx;

static void variant(void *ctx, const char *p, size_t n)
{
    var_ctx *v = ctx;
    v->variants++;
    v->accepted += plain_checked(v->r, p, n, "sds_1");
}

static void test_wire_bars_mutations(void **state)
{
    (void)state;
    var_ctx v = {tvk_reader_new(0), 0, 0};
    assert_non_null(v.r);
    size_t n = sizeof small - 1;
    assert_true(plain_checked(v.r, small, n, "sds_1"));
    static const unsigned char subst[] = {' ', '\n', '"',  '\\', ',',  ':',  '[',  ']', '{',
                                          '}', '0',  '5',  '-',  '.',  'e',  'n',  'i', 'v',
                                          's', 't',  0x00, 0x1f, 0x7f, 0x80, 0xc3, 0xff};
    wt_each_mutation(small, n, subst, sizeof subst, variant, &v);
    /* every cut, and every bit flipped */
    for (size_t i = 0; i < n; i++)
        variant(&v, small, i);
    char *flip = malloc(n);
    assert_non_null(flip);
    for (size_t i = 0; i < n; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(flip, small, n);
            flip[i] = (char)(flip[i] ^ (1 << bit));
            variant(&v, flip, n);
        }
    free(flip);
    print_message("mutations: %ld variants, %ld read (each the same as the generic path)\n",
                  v.variants, v.accepted);
    /* a mutation inside a number or a string is still the usual layout */
    assert_true(v.accepted > 100);
    tvk_reader_free(v.r);
}

/* Replaces the i-th occurrence of needle in small with repl. */
static size_t replaced(char *out, size_t cap, const char *needle, int nth, const char *repl)
{
    const char *p = small;
    for (;;) {
        p = strstr(p, needle);
        if (!p) return 0;
        if (nth-- == 0) break;
        p++;
    }
    int w = snprintf(out, cap, "%.*s%s%s", (int)(p - small), small, repl, p + strlen(needle));
    return w > 0 && (size_t)w < cap ? (size_t)w : 0;
}

static void test_wire_bars_other_forms(void **state)
{
    (void)state;
    tvk_reader *r = tvk_reader_new(0);
    assert_non_null(r);
    char buf[2048];
    size_t n;
    /* each key escaped: declined (or, where nothing reads the key, read the same) */
    static const char *const keys[] = {
        "\"m\"",  "\"p\"", "\"sds_1\"", "\"node\"",           "\"s\"",     "\"i\"",   "\"v\"",
        "\"ns\"", "\"t\"", "\"lbs\"",   "\"bar_close_time\"", "\"index\"", "\"t_ms\""};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
        for (int nth = 0; nth < 3; nth++) {
            const char *key = keys[k];
            char esc[64];
            snprintf(esc, sizeof esc, "\"\\u%04x%s", (unsigned char)key[1], key + 2);
            if (!(n = replaced(buf, sizeof buf, key, nth, esc))) continue;
            if (plain_checked(r, buf, n, "sds_1") && k < 11)
                fail_msg("escaped key %s (%d) read: %.*s", key, nth, SHOW(buf, n));
        }
    /* members reordered, duplicated, added, missing: read the same or declined */
    static const char *const forms[][2] = {
        {"\"t\":\"s1\",\"lbs\":{\"bar_close_time\":1765965599}",
         "\"lbs\":{\"bar_close_time\":1765965599},\"t\":\"s1\""},
        {"{\"i\":0,\"v\":", "{\"v\":"},
        {"\"node\":\"n-1\",", "\"t\":\"s0\",\"lbs\":7,"},
        {"\"ns\":{\"d\":\"\",\"indexes\":[]},", "\"s\":[],\"t\":5,"},
        {"{\"sds_1\":{", "{\"sds_2\":{\"s\":[]},\"sds_1\":{"},
        {"{\"sds_1\":{", "{\"sds_1\":[],\"sds_1\":{"},
        {"{\"sds_1\":{", "{\"sds_1\":{\"st\":[],\"x\":{"},
        {"\"t\":1750870230,", "\"t\":\"1750870230\",\"t\":5,"},
        {"\"t\":1750870230,", "\"t\":-3.0,"},
        {"\"t\":1750870230,", "\"t\":1.5e3,"},
        {"\"t\":1750870230,", "\"t\":99999999999999999999,"},
        {"1765965599", "1765965599.5"},
        {"1765965599", "-1e300"},
        {"1765965599", "null"},
        {"13823925.0", "13823925.0,7"},
        {",236.8]", "]"},
        {"{\"i\":1,", "{\"i\":-1,"},
        {"{\"i\":1,", "{\"i\":1e2,"},
        {"{\"i\":1,", "{\"i\":null,"},
        {"{\"i\":1,", "{\"i\":9007199254740993,"},
        {"{\"i\":1,", "{\"i\":99999999999999999999,"},
        {"236.05", "\"236.05\""},
        {"236.05", "[]"},
        {"\"index_diff\":[]",
         "\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"},
        {",\"t\":1750870230,\"t_ms\":1750870230451}", "}"},
        {",\"t\":1750870230,\"t_ms\":1750870230451}", "} "},
        {"[\"cs_68z3mne9l3wQ\",", "[7,"},
    };
    long read = 0;
    for (size_t k = 0; k < sizeof forms / sizeof *forms; k++) {
        if (!(n = replaced(buf, sizeof buf, forms[k][0], 0, forms[k][1])))
            fail_msg("form %zu: %s not in the sample", k, forms[k][0]);
        read += plain_checked(r, buf, n, "sds_1");
    }
    print_message("other forms: %ld of %zu read the same, the rest declined\n", read,
                  sizeof forms / sizeof *forms);
    assert_true(read > 5);
    /* qsd and other messages are not answers */
    static const char qsd[] =
        "{\"m\":\"qsd\",\"p\":[\"qs_x\",{\"n\":\"A\",\"s\":\"ok\",\"v\":{}}]}";
    assert_false(plain_checked(r, qsd, sizeof qsd - 1, "sds_1"));
    tvk_reader_free(r);
}

/* A callback that stops: its code comes back and the scan stops there. */
static void test_wire_bars_callback_stop(void **state)
{
    (void)state;
    tvk_series_plain u;
    bars got = {0};
    got.stop_at = 2;
    assert_int_equal(tvk_series_plain_parse(small, sizeof small - 1, "sds_1", &u, collect, &got),
                     TVK_ECANCELED);
    assert_int_equal(got.n, 1);
    assert_int_equal(tvk_series_plain_parse(small, sizeof small - 1, "sds_1", &u, NULL, NULL), 1);
    assert_int_equal(u.nbars, 2);
    assert_int_equal(u.bar_close_time, 1765965599);
    assert_true(u.has_time);
    assert_int_equal(u.time, 1750870230);
    free(got.v);
}

/* tvk_reader_next_lazy: answers come back untokenized (3), qsd plain (2), the rest tokenized;
 * tvk_reader_tokenize then gives what tvk_reader_next_msg gives, errors included. */
static void test_wire_bars_reader_lazy(void **state)
{
    (void)state;
    tvk_buf msg;
    tvk_buf_init(&msg);
    static const char qsd[] =
        "{\"m\":\"qsd\",\"p\":[\"qs_x\",{\"n\":\"A\",\"s\":\"ok\",\"v\":{}}]}";
    static const char bad[] = "{\"m\":\"du\",\"p\":[\"cs_x\",{\"sds_1\":{\"s\":[1 2]}}]}";
    static const char done[] = "{\"m\":\"series_completed\",\"p\":[\"cs_x\",\"sds_1\",\"s\"]}";
    assert_int_equal(tvk_frame(&msg, small, sizeof small - 1), 0);
    assert_int_equal(tvk_frame(&msg, qsd, sizeof qsd - 1), 0);
    assert_int_equal(tvk_frame(&msg, bad, sizeof bad - 1), 0);
    assert_int_equal(tvk_frame(&msg, done, sizeof done - 1), 0);
    assert_int_equal(tvk_frame_heartbeat(&msg, 3), 0);
    tvk_reader *a = tvk_reader_new(0), *b = tvk_reader_new(0);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(tvk_reader_feed(a, msg.data, msg.len), 0);
    assert_int_equal(tvk_reader_feed(b, msg.data, msg.len), 0);
    static const int want[] = {3, 2, 3, 1, 1};
    for (int i = 0; i < 5; i++) {
        tvk_msg ml, mg;
        tvk_qsd_plain q;
        int rl = tvk_reader_next_lazy(a, &ml, &q);
        int rg = tvk_reader_next_msg(b, &mg);
        assert_int_equal(rl, want[i]);
        if (rl == 3) {
            /* routed by its first bytes: type and session before the tokens */
            assert_null(ml.json);
            assert_true(ml.type == TVK_MSG_DU || ml.type == TVK_MSG_TIMESCALE_UPDATE);
            assert_true(ml.session.len > 3 && !memcmp(ml.session.p, "cs_", 3));
            int rt = tvk_reader_tokenize(a, &ml);
            assert_int_equal(rt, rg);
        }
        assert_int_equal(ml.type, mg.type);
        assert_true(bars_same_str(ml.session, mg.session));
        assert_true(bars_same_str(ml.method, mg.method));
        if (rl != 3) continue;
        if (rg < 0) {
            assert_null(ml.json);
            assert_string_equal(tvk_reader_errmsg(a), tvk_reader_errmsg(b));
            continue;
        }
        assert_non_null(ml.json);
        assert_int_equal(ml.params, mg.params);
        assert_int_equal(tvk_json_count(ml.json), tvk_json_count(mg.json));
    }
    tvk_msg m;
    tvk_qsd_plain q;
    assert_int_equal(tvk_reader_next_lazy(a, &m, &q), 0);
    tvk_reader_stats sa, sb;
    tvk_reader_stats_get(a, &sa);
    tvk_reader_stats_get(b, &sb);
    assert_int_equal(sa.errors, sb.errors);
    assert_int_equal(sa.packets, sb.packets);
    tvk_reader_free(a);
    tvk_reader_free(b);
    tvk_buf_free(&msg);
}

int main(int argc, char **argv)
{
    captures = wt_captures_dir(argc, argv);
    if (!captures) return 2;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_bars_captures),
        cmocka_unit_test(test_wire_bars_generated),
        cmocka_unit_test(test_wire_bars_mutations),
        cmocka_unit_test(test_wire_bars_other_forms),
        cmocka_unit_test(test_wire_bars_callback_stop),
        cmocka_unit_test(test_wire_bars_reader_lazy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
