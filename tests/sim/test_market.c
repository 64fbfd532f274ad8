/* The synthetic market: calendar maths, slots per resolution, bar shapes, determinism, quotes,
 * and the server-message encoders (checked by decoding them with the wire reader). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "market.h"
#include "opts.h"
#include "proto.h"
#include "tvkit/wire.h"

#define T_2024_06_03 1717372800 /* Monday 2024-06-03 00:00 UTC */

static void test_civil(void **st)
{
    (void)st;
    assert_int_equal(sim_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(sim_days_from_civil(2024, 6, 3) * 86400, T_2024_06_03);
    for (int64_t z = -800000; z < 800000; z += 997) {
        int64_t y;
        unsigned m, d;
        sim_civil_from_days(z, &y, &m, &d);
        assert_int_equal(sim_days_from_civil(y, m, d), z);
    }
    assert_int_equal(sim_fdiv(-1, 86400), -1);
    assert_int_equal(sim_fdiv(-86400, 86400), -1);
    assert_int_equal(sim_fdiv(86399, 86400), 0);
}

static void test_res_parse(void **st)
{
    (void)st;
    sim_res r;
    assert_int_equal(sim_res_parse("1", &r), 0);
    assert_int_equal(r.unit, SIM_RES_SECONDS);
    assert_int_equal(r.n, 60);
    assert_int_equal(sim_res_parse("240", &r), 0);
    assert_int_equal(r.n, 240 * 60);
    assert_int_equal(sim_res_parse("1D", &r), 0);
    assert_int_equal(r.unit, SIM_RES_DAYS);
    assert_int_equal(sim_res_parse("D", &r), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(sim_res_parse("2H", &r), 0);
    assert_int_equal(r.n, 7200);
    assert_int_equal(sim_res_parse("12M", &r), 0);
    assert_int_equal(r.unit, SIM_RES_MONTHS);
    assert_int_equal(sim_res_parse("W", &r), 0);
    assert_int_equal(sim_res_parse("30S", &r), 0);
    assert_int_equal(r.n, 30);
    const char *bad[] = {"", "XX", "15m", "1d", "0", "1441", "13M", "0D", "61S", "S", "H", "1.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(sim_res_parse(bad[i], &r), -1);
}

static void test_universe(void **st)
{
    (void)st;
    sim_symbol s;
    const char *const *b = sim_builtin_symbols();
    const char *must[] = {"NASDAQ:AAPL",     "NASDAQ:GOOGL",    "NASDAQ:MSFT", "NYSE:IBM",
                          "BINANCE:BTCUSDT", "BINANCE:ETHUSDT", "FX:EURUSD",   "OANDA:XAUUSD",
                          "CME_MINI:NQ1!",   "SP:SPX"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) {
        int found = 0;
        for (size_t k = 0; b[k]; k++)
            found |= !strcmp(b[k], must[i]);
        assert_true(found);
        assert_int_equal(sim_symbol_lookup(1, must[i], &s), 0);
        assert_string_equal(s.name, must[i]);
    }
    assert_int_equal(sim_symbol_lookup(1, "SP:SPX", &s), 0);
    assert_true(s.volume_base == 0);
    assert_int_equal(sim_symbol_lookup(1, "FOREX:EURUSD", &s), -1);
    assert_int_equal(sim_symbol_lookup(1, "NASDAQ:NOPE", &s), -1);
    assert_int_equal(sim_symbol_lookup(1, "SIM:", &s), -1);
    assert_int_equal(sim_symbol_lookup(1, "SIM:A B", &s), -1);
    assert_int_equal(sim_symbol_lookup(1, "SIM:ANYTHING", &s), 0);
    assert_string_equal(s.ticker, "ANYTHING");
    assert_int_equal(sim_symbol_lookup(1, "AAPL", &s), 0); /* bare ticker of a built-in */
    assert_string_equal(s.name, "NASDAQ:AAPL");
    /* Different SIM names (and seeds) give different markets. */
    sim_symbol a, c, d;
    sim_symbol_lookup(1, "SIM:A", &a);
    sim_symbol_lookup(1, "SIM:C", &c);
    sim_symbol_lookup(2, "SIM:A", &d);
    assert_true(a.h != c.h && a.h != d.h);
    assert_true(sim_price_at(&a, T_2024_06_03) != sim_price_at(&c, T_2024_06_03));
}

/* US stocks: daily bars at the 14:30 UTC session open, Monday to Friday only. */
static void test_daily_stock(void **st)
{
    (void)st;
    sim_symbol s;
    sim_res r;
    sim_symbol_lookup(7, "NASDAQ:AAPL", &s);
    sim_res_parse("1D", &r);
    int64_t now = T_2024_06_03 + 4 * 86400 + 20 * 3600; /* Friday 20:00 UTC */
    int64_t n = sim_slot_of(&s, &r, now);
    assert_int_equal(sim_slot_start(&s, &r, n), T_2024_06_03 + 4 * 86400 + 52200);
    assert_int_equal(sim_slot_close(&s, &r, n), T_2024_06_03 + 4 * 86400 + 75600);
    /* Saturday and Sunday map to Friday's bar. */
    assert_int_equal(sim_slot_of(&s, &r, now + 86400), n);
    assert_int_equal(sim_slot_of(&s, &r, now + 2 * 86400), n);
    /* Before Monday's open: still Friday. */
    assert_int_equal(sim_slot_of(&s, &r, T_2024_06_03 + 7 * 86400 + 3600), n);
    for (int64_t k = n - 3000; k <= n; k++) {
        int64_t t = sim_slot_start(&s, &r, k);
        assert_int_equal(((t % 86400) + 86400) % 86400, 52200);
        int64_t wd = ((t / 86400 + 3) % 7 + 7) % 7; /* 0 = Monday */
        assert_true(wd < 5);
        assert_int_equal(sim_slot_of(&s, &r, t), k);
        assert_true(sim_slot_start(&s, &r, k + 1) > t);
    }
    /* 100,000 bars back is still well-defined (before 1970). */
    int64_t old = sim_slot_start(&s, &r, n - 99999);
    assert_true(old < 0);
    assert_int_equal(sim_slot_of(&s, &r, old), n - 99999);
}

static void test_intraday_and_crypto(void **st)
{
    (void)st;
    sim_symbol s;
    sim_res r;
    sim_symbol_lookup(1, "NASDAQ:MSFT", &s);
    sim_res_parse("60", &r);            /* 6.5 h session: 7 bars, the last half an hour */
    int64_t day = T_2024_06_03 + 86400; /* Tuesday */
    int64_t n = sim_slot_of(&s, &r, day + 52200);
    assert_int_equal(sim_slot_start(&s, &r, n), day + 52200);
    assert_int_equal(sim_slot_start(&s, &r, n + 6), day + 52200 + 6 * 3600);
    assert_int_equal(sim_slot_close(&s, &r, n + 6), day + 75600);
    assert_int_equal(sim_slot_start(&s, &r, n + 7), day + 86400 + 52200);
    sim_symbol_lookup(1, "BINANCE:BTCUSDT", &s);
    sim_res_parse("1D", &r);
    int64_t sat = T_2024_06_03 + 5 * 86400 + 100;
    n = sim_slot_of(&s, &r, sat);
    assert_int_equal(sim_slot_start(&s, &r, n), T_2024_06_03 + 5 * 86400); /* 24/7, 00:00 */
    sim_res_parse("W", &r);
    n = sim_slot_of(&s, &r, sat);
    assert_int_equal(sim_slot_start(&s, &r, n), T_2024_06_03);
    sim_res_parse("M", &r);
    n = sim_slot_of(&s, &r, sat);
    assert_int_equal(sim_slot_start(&s, &r, n), sim_days_from_civil(2024, 6, 1) * 86400);
    assert_int_equal(sim_slot_start(&s, &r, n + 1), sim_days_from_civil(2024, 7, 1) * 86400);
}

static void test_bars(void **st)
{
    (void)st;
    sim_symbol s, s2;
    sim_res r;
    sim_symbol_lookup(3, "SIM:BARS", &s);
    sim_symbol_lookup(3, "SIM:BARS", &s2);
    sim_res_parse("5", &r);
    int64_t now = T_2024_06_03 + 12345;
    int64_t n = sim_slot_of(&s, &r, now);
    for (int64_t k = n - 500; k < n; k++) {
        sim_bar b, b2;
        sim_bar_at(&s, &r, k, now, &b);
        sim_bar_at(&s2, &r, k, now + 99999, &b2); /* complete bars do not depend on now */
        assert_true(b.open == b2.open && b.high == b2.high && b.low == b2.low &&
                    b.close == b2.close && b.volume == b2.volume);
        assert_true(b.high >= b.open && b.high >= b.close && b.low <= b.open && b.low <= b.close);
        assert_true(b.low > 0 && b.has_volume && b.volume >= 0);
        assert_true(fabs(b.close * 100 - round(b.close * 100)) < 1e-6); /* on the price scale */
    }
    /* The forming bar grows into the complete one. */
    sim_bar f, c;
    int64_t start = sim_slot_start(&s, &r, n), close = sim_slot_close(&s, &r, n);
    sim_bar_at(&s, &r, n, start + 60, &f);
    sim_bar_at(&s, &r, n, close, &c);
    assert_true(f.open == c.open && f.volume <= c.volume);
    sim_bar_at(&s, &r, n, close - 1, &f);
    assert_true(fabs(f.close - c.close) < c.close * 0.01);
    /* Indices have no volume. */
    sim_symbol_lookup(3, "SP:SPX", &s);
    sim_bar b;
    sim_res_parse("1D", &r);
    sim_bar_at(&s, &r, sim_slot_of(&s, &r, now) - 1, now, &b);
    assert_false(b.has_volume);
}

/* Field by field, the doubles bit for bit (a memcmp of the structs would read their padding). */
static int same_bar(const sim_bar *a, const sim_bar *b)
{
    const double x[5] = {a->open, a->high, a->low, a->close, a->volume};
    const double y[5] = {b->open, b->high, b->low, b->close, b->volume};
    return a->time == b->time && a->has_volume == b->has_volume && !memcmp(x, y, sizeof x);
}

/* sim_bars_at is the batch form of sim_bar_at: bit-for-bit the same bars, for every kind of
 * market (sessions, weekends, 24/7), resolution, and a forming last bar. */
static void test_bars_batch(void **st)
{
    (void)st;
    const char *syms[] = {"NASDAQ:AAPL", "SP:SPX",        "BINANCE:BTCUSDT",
                          "FX:EURUSD",   "CME_MINI:NQ1!", "SIM:BATCH"};
    const char *res[] = {"1", "7", "60", "240", "1S", "4H", "1D", "3D", "1W", "1M", "12M"};
    const int64_t nows[] = {T_2024_06_03 + 12345, T_2024_06_03 + 86400 * 5 + 3600, -86400 * 400};
    enum { N = 700 };
    static sim_bar batch[N];
    for (size_t si = 0; si < sizeof syms / sizeof *syms; si++)
        for (size_t ri = 0; ri < sizeof res / sizeof *res; ri++)
            for (size_t ni = 0; ni < sizeof nows / sizeof *nows; ni++) {
                sim_symbol s;
                sim_res r;
                assert_int_equal(sim_symbol_lookup(7, syms[si], &s), 0);
                assert_int_equal(sim_res_parse(res[ri], &r), 0);
                int64_t from = sim_slot_of(&s, &r, nows[ni]) - N + 2; /* the last one forms */
                sim_bars_at(&s, &r, from, N, nows[ni], batch);
                for (int i = 0; i < N; i++) {
                    sim_bar one;
                    sim_bar_at(&s, &r, from + i, nows[ni], &one);
                    if (!same_bar(&one, &batch[i]))
                        fail_msg("%s %s now %lld: bar %d differs", syms[si], res[ri],
                                 (long long)nows[ni], i);
                }
            }
}

static void test_quote(void **st)
{
    (void)st;
    sim_symbol s;
    sim_quote q;
    sim_symbol_lookup(1, "NASDAQ:AAPL", &s);
    sim_quote_at(&s, T_2024_06_03 + 15 * 3600, &q);
    assert_true(q.in_session);
    assert_true(fabs(q.lp - q.prev_close - q.ch) < 0.011);
    sim_quote_at(&s, T_2024_06_03 + 22 * 3600, &q);
    assert_false(q.in_session);
    assert_true(q.lp_time < T_2024_06_03 + 22 * 3600);
    sim_symbol_lookup(1, "SP:SPX", &s);
    sim_quote_at(&s, T_2024_06_03 + 15 * 3600, &q);
    assert_true(q.volume >= 1e100);
}

/* Encoders, decoded by the wire layer's typed views. */
static void test_encoders(void **st)
{
    (void)st;
    tvk_buf out;
    tvk_buf_init(&out);
    sim_enc e;
    sim_enc_init(&e, &out);
    e.now_ms = 1717372800123;
    sim_symbol s;
    sim_res r;
    sim_symbol_lookup(1, "SP:SPX", &s);
    sim_res_parse("1D", &r);
    sim_bar bars[3];
    int64_t n = sim_slot_of(&s, &r, T_2024_06_03 + 86400 * 3);
    for (int i = 0; i < 3; i++)
        sim_bar_at(&s, &r, n - 2 + i, T_2024_06_03 + 86400 * 3, &bars[i]);
    assert_int_equal(sim_enc_series_loading(&e, "cs_a", "sds_1", "s1"), 0);
    assert_int_equal(
        sim_enc_timescale_update(&e, "cs_a", "sds_1", "s1", bars, 3, -3, 1717444799, -3, 3), 0);
    assert_int_equal(sim_enc_series_completed(&e, "cs_a", "sds_1", "s1", "streaming", 5, "end"), 0);
    assert_int_equal(sim_enc_du(&e, "cs_a", "sds_1", "s1", &bars[2], 7, 1717444799), 0);
    const char *f[] = {"lp", "volume", "nonsense", "description"};
    sim_quote q;
    sim_quote_at(&s, T_2024_06_03 + 86400 * 3, &q);
    assert_int_equal(sim_enc_qsd(&e, "qs_a", "SP:SPX", &s, &q, NULL, f, 4, NULL), 0);
    assert_int_equal(sim_enc_qsd_error(&e, "qs_a", "FOREX:EURUSD", "no_such_symbol"), 0);
    assert_int_equal(sim_enc_critical_error(&e, "cs_a", "invalid parameters", "method: x"), 0);

    tvk_reader *rd = tvk_reader_new(0);
    tvk_msg m;
    assert_int_equal(tvk_reader_feed(rd, out.data, out.len), 0);
    assert_int_equal(tvk_reader_next_msg(rd, &m), 1);
    assert_int_equal(m.type, TVK_MSG_SERIES_LOADING);
    assert_int_equal(tvk_reader_next_msg(rd, &m), 1);
    assert_int_equal(m.type, TVK_MSG_TIMESCALE_UPDATE);
    tvk_series_update su;
    assert_int_equal(tvk_msg_series(&m, "sds_1", &su), 0);
    assert_int_equal(su.nbars, 3);
    assert_int_equal(su.bar_close_time, 1717444799);
    tvk_bar b;
    assert_int_equal(tvk_bar_next(&su.bars, &b), 1);
    assert_int_equal(b.index, -3);
    assert_true(isnan(b.volume)); /* 5-value bar */
    assert_true(b.time == (double)bars[0].time && b.close == bars[0].close);
    assert_int_equal(tvk_reader_next_msg(rd, &m), 1);
    tvk_series_completed sc;
    assert_int_equal(tvk_msg_series_completed(&m, &sc), 0);
    assert_int_equal(sc.rt_update_period, 5);
    assert_int_equal(sc.data_completed.len, 3);
    assert_int_equal(tvk_reader_next_msg(rd, &m), 1);
    assert_int_equal(m.type, TVK_MSG_DU);
    assert_int_equal(tvk_msg_series(&m, "sds_1", &su), 0);
    assert_int_equal(su.bar_close_time, 1717444799);
    assert_int_equal(tvk_reader_next_msg(rd, &m), 1);
    tvk_qsd qd;
    assert_int_equal(tvk_msg_qsd(&m, &qd), 0);
    assert_true(qd.ok);
    assert_int_equal(qd.nfields, 3); /* the unknown field is skipped */
    assert_non_null(strstr(m.pkt.data, "\"volume\":1e+100"));
    assert_int_equal(tvk_reader_next_msg(rd, &m), 1);
    assert_int_equal(tvk_msg_qsd(&m, &qd), 0);
    assert_false(qd.ok);
    assert_int_equal(tvk_reader_next_msg(rd, &m), 1);
    assert_int_equal(m.type, TVK_MSG_CRITICAL_ERROR);
    assert_int_equal(tvk_reader_next_msg(rd, &m), 0);
    /* Exact shapes of the real server. */
    assert_non_null(strstr(out.data, "{\"m\":\"series_loading\",\"p\":[\"cs_a\",\"sds_1\",\"s1\"],"
                                     "\"t\":1717372800,\"t_ms\":1717372800123}"));
    assert_non_null(strstr(out.data, "\"ns\":{\"d\":\"\",\"indexes\":\"nochange\"},\"t\":\"s1\","
                                     "\"lbs\":{\"bar_close_time\":1717444799}}}]}"));
    assert_non_null(strstr(out.data, "[\"cs_a\",\"sds_1\",\"streaming\",\"s1\","
                                     "{\"rt_update_period\":5,\"data_completed\":\"end\"}]"));
    assert_non_null(strstr(out.data, "{\"n\":\"FOREX:EURUSD\",\"s\":\"error\",\"errmsg\":"
                                     "\"no_such_symbol\",\"v\":{}}"));
    tvk_reader_free(rd);
    sim_enc_free(&e);
    tvk_buf_free(&out);
}

static void test_numbers(void **st)
{
    (void)st;
    tvk_buf b;
    tvk_buf_init(&b);
    sim_put_num(&b, 356.0);
    tvk_buf_puts(&b, " ");
    sim_put_num(&b, 367.35);
    tvk_buf_puts(&b, " ");
    sim_put_num(&b, 1e100);
    tvk_buf_puts(&b, " ");
    sim_put_num(&b, -2.5);
    assert_string_equal(b.data, "356.0 367.35 1e+100 -2.5");
    /* Bars before 1970 and negative indices (request_more_data), exactly as written. */
    sim_bar bar = {-86400, 1.5, 2.0, 0.25, 1.0, 1234567.0, 1};
    tvk_buf_reset(&b);
    sim_enc e;
    sim_enc_init(&e, &b);
    assert_int_equal(sim_enc_timescale_update(&e, "cs", "sds_1", "s1", &bar, 1, -3, 0, -3, 3), 0);
    assert_non_null(
        strstr(b.data, "\"s\":[{\"i\":-3,\"v\":[-86400.0,1.5,2.0,0.25,1.0,1234567.0]}]"));
    assert_non_null(strstr(b.data, "\"changes\":[-86400.0]"));
    sim_enc_free(&e);
    tvk_buf_free(&b);
}

static void test_opts(void **st)
{
    (void)st;
    sim_opts o;
    char err[256];
    sim_opts_init(&o);
    char *ok[] = {"x",       "--port",  "0",  "--seed=9",    "--fault", "close-after=3", "--fault",
                  "garbage", "--speed", "60", "--heartbeat", "0.5",     "--no-compress"};
    assert_int_equal(sim_opts_parse(&o, 13, ok, err, sizeof err), 0);
    assert_int_equal(o.seed, 9);
    assert_int_equal(o.faults.close_after, 3);
    assert_int_equal(o.faults.garbage_after, 1);
    assert_int_equal(o.heartbeat_ms, 500);
    assert_int_equal(o.compress, 0);
    char *bad1[] = {"x", "--fault", "nope"};
    sim_opts_init(&o);
    assert_int_equal(sim_opts_parse(&o, 3, bad1, err, sizeof err), -1);
    assert_non_null(strstr(err, "nope"));
    char *bad2[] = {"x", "--port", "70000"};
    assert_int_equal(sim_opts_parse(&o, 3, bad2, err, sizeof err), -1);
    char *bad3[] = {"x", "--fault", "close-after"};
    assert_int_equal(sim_opts_parse(&o, 3, bad3, err, sizeof err), -1);
    char *bad4[] = {"x", "--tls-cert", "a.pem"};
    assert_int_equal(sim_opts_parse(&o, 3, bad4, err, sizeof err), -1);
    /* --firehose-batch: 20 by default, 1..100000. */
    sim_opts_init(&o);
    assert_int_equal(o.firehose_batch, 20);
    char *fb[] = {"x", "--firehose-batch", "1", "--firehose-batch=100000"};
    assert_int_equal(sim_opts_parse(&o, 4, fb, err, sizeof err), 0);
    assert_int_equal(o.firehose_batch, 100000);
    char *fb0[] = {"x", "--firehose-batch", "0"};
    assert_int_equal(sim_opts_parse(&o, 3, fb0, err, sizeof err), -1);
    assert_non_null(strstr(err, "--firehose-batch"));
    char *fbbig[] = {"x", "--firehose-batch=100001"};
    assert_int_equal(sim_opts_parse(&o, 2, fbbig, err, sizeof err), -1);
    /* --help names every option the parser knows. */
    const char *u = sim_opts_usage();
    const char *all[] = {"--host",
                         "--port",
                         "--tls-cert",
                         "--tls-key",
                         "--no-compress",
                         "--compress-threshold",
                         "--max-conns",
                         "--latency",
                         "--max-lifetime",
                         "--seed",
                         "--history",
                         "--max-bars",
                         "--start",
                         "--speed",
                         "--update-ms",
                         "--heartbeat",
                         "--heartbeat-timeout",
                         "--replay",
                         "--firehose",
                         "--symbols",
                         "--firehose-batch",
                         "--log",
                         "--fault",
                         "close-after",
                         "close-every",
                         "stall-after",
                         "silent-after",
                         "garbage",
                         "bad-length",
                         "oversize",
                         "reject-429",
                         "protocol-error",
                         "throttle",
                         "--oversize-bytes",
                         "--quiet",
                         "--help",
                         "--version"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        assert_non_null(strstr(u, all[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_civil),
        cmocka_unit_test(test_res_parse),
        cmocka_unit_test(test_universe),
        cmocka_unit_test(test_daily_stock),
        cmocka_unit_test(test_intraday_and_crypto),
        cmocka_unit_test(test_bars),
        cmocka_unit_test(test_bars_batch),
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_encoders),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_opts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
