/* Client end-to-end tests against tvkit-sim (started here on 127.0.0.1, port 0). Expected bars
 * come from the sim's deterministic market generator called directly (sim/market.h), an
 * independent path from the protocol; expected client messages are compared byte for byte
 * with what the sim logged. argv[1] = the tvkit-sim binary. */
#define _GNU_SOURCE
#include <math.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "market.h"
#include "simproc.h"
#include "tvkit/tvkit.h"

static const char *sim_bin;

/* Saturday 2024-06-15 12:00 UTC: stock markets closed, so daily history is complete and stable
 * for the whole test. */
#define START 1718452800
#define START_S "1718452800"
#define SEED 7
#define SEED_S "7"

static void start_sim(simproc *s, const char *const *extra)
{
    const char *args[40];
    int n = 0;
    args[n++] = "--seed";
    args[n++] = SEED_S;
    args[n++] = "--start";
    args[n++] = START_S;
    args[n++] = "-q";
    for (int i = 0; extra && extra[i] && n < 38; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    assert_int_equal(simproc_start(s, sim_bin, args), 0);
}

static tvk_conn *connect_to(const simproc *s, int timeout_ms)
{
    tvk_conn_opts o;
    tvk_conn_opts_init(&o);
    o.url = s->url;
    o.proxy = "";
    if (timeout_ms) o.request_timeout_ms = timeout_ms;
    tvk_conn *c = tvk_conn_new_opts(&o);
    assert_non_null(c);
    int rc = tvk_conn_connect(c);
    if (rc) fprintf(stderr, "connect: %s\n", tvk_conn_errmsg(c));
    assert_int_equal(rc, 0);
    return c;
}

/* The sim's bars n in [first, last] of symbol/interval, complete. */
static void expected_bars_at(const char *symbol, const char *interval, int64_t first, int64_t last,
                             int64_t now, sim_bar *out)
{
    sim_symbol sym;
    sim_res r;
    assert_int_equal(sim_symbol_lookup(SEED, symbol, &sym), 0);
    assert_int_equal(sim_res_parse(interval, &r), 0);
    for (int64_t n = first; n <= last; n++)
        sim_bar_at(&sym, &r, n, now, &out[n - first]);
}

static void expected_bars(const char *symbol, const char *interval, int64_t first, int64_t last,
                          sim_bar *out)
{
    expected_bars_at(symbol, interval, first, last, START, out);
}

static int64_t slot_now(const char *symbol, const char *interval)
{
    sim_symbol sym;
    sim_res r;
    assert_int_equal(sim_symbol_lookup(SEED, symbol, &sym), 0);
    assert_int_equal(sim_res_parse(interval, &r), 0);
    return sim_slot_of(&sym, &r, START);
}

static void assert_same_bars(const tvk_ohlcv *got, const sim_bar *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (got[i].time != want[i].time) fprintf(stderr, "bar %zu: time differs\n", i);
        assert_int_equal(got[i].time, want[i].time);
        assert_true(got[i].open == want[i].open);
        assert_true(got[i].high == want[i].high);
        assert_true(got[i].low == want[i].low);
        assert_true(got[i].close == want[i].close);
        if (want[i].has_volume)
            assert_true(got[i].volume == want[i].volume);
        else
            assert_true(isnan(got[i].volume));
    }
}

/* Waits (serving the connection, so heartbeats are echoed) until the sim logged at least n
 * JSON client packets; returns the count of all lines read. */
static size_t wait_log(tvk_conn *c, const simproc *s, size_t n, char **lines, size_t max)
{
    int64_t end = tvk_now_ms() + 10000;
    for (;;) {
        size_t k = simproc_lines(s, lines, max), json = 0;
        for (size_t i = 0; i < k; i++)
            json += lines[i][0] == '{';
        if (json >= n || tvk_now_ms() >= end) return k;
        simproc_lines_free(lines, k);
        if (c) {
            tvk_msg m;
            int rc = tvk_conn_next(c, &m, 20);
            assert_true(rc >= 0);
        } else {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
}

/* ---------------------------------------------------------------- seed parity */

static void test_seed_methods(void **st)
{
    (void)st;
    simproc s;
    const char *extra[] = {"--heartbeat", "0.2", "--heartbeat-timeout", "2", NULL};
    start_sim(&s, extra);

    tvk_conn *c = tvk_conn_new(s.url);
    assert_non_null(c);
    tvk_msg m;
    assert_int_equal(tvk_conn_next(c, &m, 0), TVK_ESTATE);
    assert_int_equal(tvk_conn_close(c), 0); /* never connected: fine */
    assert_int_equal(tvk_conn_connect(c), 0);
    assert_int_equal(tvk_conn_connect(c), TVK_ESTATE);
    assert_int_equal(tvk_conn_next(c, &m, 5000), 1);
    assert_int_equal(m.type, TVK_MSG_HELLO);
    assert_true(strlen(tvk_conn_server_session(c)) > 0);

    const char *qs = "qs_abcdefghijkl", *cs = "cs_abcdefghijkl";
    assert_int_equal(tvk_conn_initialize_sessions(c, qs, cs, NULL, NULL), 0);
    assert_int_equal(
        tvk_conn_add_symbol_to_sessions(c, qs, cs, "NASDAQ:AAPL", "1D", 100, NULL, NULL), 0);
    const char *multi[] = {"NASDAQ:GOOGL", "NASDAQ:MSFT", "FOREX:EURUSD"};
    assert_int_equal(tvk_conn_add_multiple_symbols_to_sessions(c, qs, multi, 3, NULL, NULL), 0);

    /* the data stream: bars, completion, quotes (with the per-symbol error) */
    int bars = 0, completed = 0, resolved = 0, eurusd_error = 0, aapl_ok = 0;
    int64_t end = tvk_now_ms() + 10000;
    tvk_conn_stats cst;
    do {
        int rc = tvk_conn_next(c, &m, 200);
        assert_true(rc >= 0);
        tvk_conn_get_stats(c, &cst);
        if (rc == 0) continue;
        assert_int_not_equal(m.type, TVK_MSG_HEARTBEAT); /* echoed, not yielded */
        if (m.type == TVK_MSG_SYMBOL_RESOLVED) resolved = 1;
        if (m.type == TVK_MSG_TIMESCALE_UPDATE) {
            tvk_series_update u;
            if (tvk_msg_series(&m, "sds_1", &u) == 0) bars += (int)u.nbars;
        }
        if (m.type == TVK_MSG_SERIES_COMPLETED) completed = 1;
        if (m.type == TVK_MSG_QSD) {
            tvk_qsd q;
            assert_int_equal(tvk_msg_qsd(&m, &q), 0);
            if (q.symbol.len == 12 && !memcmp(q.symbol.p, "FOREX:EURUSD", 12) && !q.ok)
                eurusd_error = 1;
            if (q.symbol.len == 11 && !memcmp(q.symbol.p, "NASDAQ:AAPL", 11) && q.ok) aapl_ok = 1;
        }
    } while ((!completed || !resolved || !eurusd_error || !aapl_ok || cst.heartbeats < 3) &&
             tvk_now_ms() < end);
    assert_int_equal(resolved, 1);
    assert_int_equal(bars, 100);
    assert_int_equal(completed, 1);
    assert_int_equal(eurusd_error, 1);
    assert_true(cst.heartbeats >= 3);

    char *lines[256];
    size_t n = wait_log(c, &s, 16, lines, 256);
    const char *want[16];
    char buf[16][1024];
    static const char fields[] =
        "\"ch\",\"chp\",\"current_session\",\"description\",\"local_description\",\"language\","
        "\"exchange\",\"fractional\",\"is_tradable\",\"lp\",\"lp_time\",\"minmov\",\"minmove2\","
        "\"original_name\",\"pricescale\",\"pro_name\",\"short_name\",\"type\",\"update_mode\","
        "\"volume\",\"currency_code\",\"rchp\",\"rtc\"";
    static const char spec[] =
        "\"={\\\"adjustment\\\": \\\"splits\\\", \\\"symbol\\\": \\\"NASDAQ:AAPL\\\"}\"";
    static const char mspec[] =
        "\"={\\\"adjustment\\\": \\\"splits\\\", \\\"currency-id\\\": \\\"USD\\\", "
        "\\\"session\\\": \\\"regular\\\", \\\"symbol\\\": \\\"NASDAQ:GOOGL\\\"}\"";
    want[0] = "{\"m\":\"set_auth_token\",\"p\":[\"unauthorized_user_token\"]}";
    want[1] = "{\"m\":\"set_locale\",\"p\":[\"en\",\"US\"]}";
    want[2] = "{\"m\":\"chart_create_session\",\"p\":[\"cs_abcdefghijkl\",\"\"]}";
    want[3] = "{\"m\":\"quote_create_session\",\"p\":[\"qs_abcdefghijkl\"]}";
    snprintf(buf[4], sizeof buf[4], "{\"m\":\"quote_set_fields\",\"p\":[\"%s\",%s]}", qs, fields);
    want[4] = buf[4];
    want[5] = "{\"m\":\"quote_hibernate_all\",\"p\":[\"qs_abcdefghijkl\"]}";
    snprintf(buf[6], sizeof buf[6], "{\"m\":\"quote_add_symbols\",\"p\":[\"%s\",%s]}", qs, spec);
    want[6] = buf[6];
    snprintf(buf[7], sizeof buf[7], "{\"m\":\"resolve_symbol\",\"p\":[\"%s\",\"sds_sym_1\",%s]}",
             cs, spec);
    want[7] = buf[7];
    want[8] = "{\"m\":\"create_series\",\"p\":[\"cs_abcdefghijkl\",\"sds_1\",\"s1\",\"sds_sym_1\","
              "\"1D\",100,\"\"]}";
    want[9] = "{\"m\":\"quote_fast_symbols\",\"p\":[\"qs_abcdefghijkl\",\"NASDAQ:AAPL\"]}";
    want[10] = "{\"m\":\"create_study\",\"p\":[\"cs_abcdefghijkl\",\"st1\",\"st1\",\"sds_1\","
               "\"Volume@tv-basicstudies-246\",{\"length\":20,\"col_prev_close\":\"false\"}]}";
    want[11] = want[5];
    snprintf(buf[12], sizeof buf[12], "{\"m\":\"quote_add_symbols\",\"p\":[\"%s\",%s]}", qs, mspec);
    want[12] = buf[12];
    snprintf(buf[13], sizeof buf[13], "{\"m\":\"quote_fast_symbols\",\"p\":[\"%s\",%s]}", qs,
             mspec);
    want[13] = buf[13];
    want[14] = "{\"m\":\"quote_add_symbols\",\"p\":[\"qs_abcdefghijkl\",\"NASDAQ:GOOGL\","
               "\"NASDAQ:MSFT\",\"FOREX:EURUSD\"]}";
    want[15] = "{\"m\":\"quote_fast_symbols\",\"p\":[\"qs_abcdefghijkl\",\"NASDAQ:GOOGL\","
               "\"NASDAQ:MSFT\",\"FOREX:EURUSD\"]}";
    size_t j = 0, hb = 0;
    for (size_t i = 0; i < n; i++) {
        if (lines[i][0] != '{') {
            hb++;
            continue;
        }
        if (j < 16) assert_string_equal(lines[i], want[j]);
        j++;
    }
    assert_int_equal(j, 16);
    assert_true(hb >= 1); /* the echoes reached the sim (and it kept the connection) */
    simproc_lines_free(lines, n);

    assert_int_equal(tvk_conn_close(c), 0);
    assert_int_equal(tvk_conn_close(c), 0);
    assert_int_equal(tvk_conn_next(c, &m, 0), TVK_ESTATE);
    tvk_conn_free(c);
    simproc_stop(&s);
}

/* ---------------------------------------------------------------- history */

typedef struct prog {
    int calls;
    size_t last;
} prog;

static void on_progress(void *user, const tvk_progress *p)
{
    prog *pr = user;
    assert_true(p->bars >= pr->last);
    assert_true(p->fraction >= 0.0 && p->fraction <= 1.0);
    pr->last = p->bars;
    pr->calls++;
}

static void test_history_20000(void **st)
{
    (void)st;
    simproc s;
    start_sim(&s, NULL);
    tvk_conn *c = connect_to(&s, 0);
    prog pr = {0};
    tvk_req_opts o;
    memset(&o, 0, sizeof o);
    o.progress = on_progress;
    o.progress_user = &pr;
    tvk_bars b;
    int rc = tvk_history(c, "NASDAQ:AAPL", "1D", 20000, &o, &b);
    if (rc) fprintf(stderr, "%s\n", tvk_conn_errmsg(c));
    assert_int_equal(rc, 0);
    assert_int_equal(b.n, 20000);
    assert_int_equal(b.ended, 0);
    assert_int_equal(b.pages, 4);
    assert_int_equal(pr.last, 20000);
    assert_true(pr.calls >= 4);
    int64_t cur = slot_now("NASDAQ:AAPL", "1D");
    sim_bar *want = calloc(20000, sizeof *want);
    expected_bars("NASDAQ:AAPL", "1D", cur - 19999, cur, want);
    assert_same_bars(b.v, want, 20000);
    for (size_t i = 1; i < b.n; i++)
        assert_true(b.v[i].time > b.v[i - 1].time);
    free(want);
    tvk_bars_free(&b);

    /* what went over the wire: one create_series of 5000, three request_more_data of 5000 */
    char *lines[64];
    size_t n = wait_log(c, &s, 8, lines, 64);
    int creates = 0, mores = 0, deletes = 0;
    for (size_t i = 0; i < n; i++) {
        if (strstr(lines[i], "\"create_series\"")) {
            creates++;
            assert_non_null(strstr(lines[i], ",\"sds_1\",\"s1\",\"sds_sym_1\",\"1D\",5000,\"\"]}"));
        }
        if (strstr(lines[i], "\"request_more_data\"")) {
            mores++;
            assert_non_null(strstr(lines[i], "\",\"sds_1\",5000]}"));
        }
        deletes += strstr(lines[i], "\"chart_delete_session\"") != NULL;
    }
    assert_int_equal(creates, 1);
    assert_int_equal(mores, 3);
    assert_int_equal(deletes, 1);
    simproc_lines_free(lines, n);

    /* every interval form, normalised, against the generator at that resolution */
    static const char *ivs[][2] = {{"4H", "240"},  {"48H", "48H"}, {"W", "1W"},  {"M", "1M"},
                                   {"30S", "30S"}, {"D", "1D"},    {"15", "15"}, {"3M", "3M"}};
    for (size_t k = 0; k < sizeof ivs / sizeof ivs[0]; k++) {
        rc = tvk_history(c, "BINANCE:ETHUSDT", ivs[k][0], 50, NULL, &b);
        if (rc) fprintf(stderr, "%s: %s\n", ivs[k][0], tvk_conn_errmsg(c));
        assert_int_equal(rc, 0);
        assert_int_equal(b.n, 50);
        /* a 24/7 market's clock moves during the test: locate the first bar by its time, and
         * leave out the newest bar (still forming) */
        sim_symbol sym;
        sim_res res;
        assert_int_equal(sim_symbol_lookup(SEED, "BINANCE:ETHUSDT", &sym), 0);
        assert_int_equal(sim_res_parse(ivs[k][1], &res), 0);
        int64_t n0 = sim_slot_of(&sym, &res, b.v[0].time);
        want = calloc(50, sizeof *want);
        expected_bars_at("BINANCE:ETHUSDT", ivs[k][1], n0, n0 + 48, START + 86400 * 400, want);
        assert_same_bars(b.v, want, 49);
        free(want);
        tvk_bars_free(&b);
    }

    /* an index: 5-value bars, no volume */
    rc = tvk_history(c, "SP:SPX", "1D", 300, NULL, &b);
    assert_int_equal(rc, 0);
    assert_int_equal(b.n, 300);
    cur = slot_now("SP:SPX", "1D");
    want = calloc(300, sizeof *want);
    expected_bars("SP:SPX", "1D", cur - 299, cur, want);
    assert_int_equal(want[0].has_volume, 0);
    assert_same_bars(b.v, want, 300);
    free(want);
    tvk_bars_free(&b);
    tvk_conn_free(c);
    simproc_stop(&s);
}

static void test_history_ended(void **st)
{
    (void)st;
    simproc s;
    const char *extra[] = {"--history", "12000", NULL};
    start_sim(&s, extra);
    tvk_conn *c = connect_to(&s, 0);
    tvk_bars b;
    assert_int_equal(tvk_history(c, "NASDAQ:MSFT", "1D", 20000, NULL, &b), 0);
    assert_int_equal(b.n, 12000);
    assert_int_equal(b.ended, 1);
    int64_t cur = slot_now("NASDAQ:MSFT", "1D");
    sim_bar *want = calloc(12000, sizeof *want);
    expected_bars("NASDAQ:MSFT", "1D", cur - 11999, cur, want);
    assert_same_bars(b.v, want, 12000);
    free(want);
    tvk_bars_free(&b);
    tvk_conn_free(c);
    simproc_stop(&s);
}

static void test_history_range(void **st)
{
    (void)st;
    simproc s;
    start_sim(&s, NULL);
    tvk_conn *c = connect_to(&s, 0);
    sim_symbol sym;
    sim_res r;
    assert_int_equal(sim_symbol_lookup(SEED, "NYSE:IBM", &sym), 0);
    assert_int_equal(sim_res_parse("1D", &r), 0);
    int64_t cur = sim_slot_of(&sym, &r, START);
    /* 7001 bars: more than one answer holds, and 'from' falls between two bars */
    int64_t first = cur - 8000, last = cur - 1000;
    int64_t from = sim_slot_start(&sym, &r, first) - 3600;
    int64_t to = sim_slot_start(&sym, &r, last) + 1;
    tvk_bars b;
    int rc = tvk_history_range(c, "NYSE:IBM", "D", from, to, NULL, &b);
    if (rc) fprintf(stderr, "%s\n", tvk_conn_errmsg(c));
    assert_int_equal(rc, 0);
    assert_int_equal(b.n, 7001);
    sim_bar *want = calloc(7001, sizeof *want);
    expected_bars("NYSE:IBM", "1D", first, last, want);
    assert_same_bars(b.v, want, 7001);
    free(want);
    tvk_bars_free(&b);
    char *lines[64];
    size_t n = wait_log(c, &s, 6, lines, 64);
    int modify = 0, more = 0;
    char range[64];
    snprintf(range, sizeof range, "\"1D\",\"r,%lld:%lld\"]}", (long long)from, (long long)to);
    for (size_t i = 0; i < n; i++) {
        if (strstr(lines[i], "\"modify_series\"")) {
            modify++;
            assert_non_null(strstr(lines[i], range));
        }
        more += strstr(lines[i], "\"request_more_data\"") != NULL;
    }
    assert_int_equal(modify, 1);
    assert_int_equal(more, 1);
    simproc_lines_free(lines, n);

    /* a range before the symbol's history: an explicit no-data result */
    rc = tvk_history_range(c, "NYSE:IBM", "1D", 1000, 2000, NULL, &b);
    assert_int_equal(rc, TVK_ENODATA);
    assert_non_null(strstr(tvk_conn_errmsg(c), "no data in range"));
    assert_null(b.v);
    assert_int_equal(b.n, 0);
    tvk_conn_free(c);
    simproc_stop(&s);
}

/* ---------------------------------------------------------------- typed errors */

static void test_errors(void **st)
{
    (void)st;
    simproc s;
    start_sim(&s, NULL);
    tvk_conn *c = connect_to(&s, 0);
    tvk_bars b;
    /* invalid symbol, from the server */
    assert_int_equal(tvk_history(c, "NASDAQ:NOPE", "1D", 10, NULL, &b), TVK_ESYMBOL);
    assert_non_null(strstr(tvk_conn_errmsg(c), "invalid symbol"));
    /* invalid symbol and interval, caught before sending */
    char *lines[64];
    size_t n0 = wait_log(c, &s, 4, lines, 64);
    simproc_lines_free(lines, n0);
    assert_int_equal(tvk_history(c, "AAPL", "1D", 10, NULL, &b), TVK_ESYMBOL);
    assert_non_null(strstr(tvk_conn_errmsg(c), "EXCHANGE:SYMBOL"));
    assert_int_equal(tvk_history(c, "NASDAQ:AAPL", "15m", 10, NULL, &b), TVK_EINTERVAL);
    assert_non_null(strstr(tvk_conn_errmsg(c), "accepted: minutes 1-1440"));
    assert_int_equal(tvk_history(c, "NASDAQ:AAPL", "1D", 0, NULL, &b), TVK_EINVAL);
    /* the connection is still good for the next request */
    assert_int_equal(tvk_history(c, "NASDAQ:AAPL", "1D", 10, NULL, &b), 0);
    assert_int_equal(b.n, 10);
    tvk_bars_free(&b);
    size_t n1 = wait_log(c, &s, n0 + 4, lines, 64);
    int creates = 0;
    for (size_t i = 0; i < n1; i++)
        creates += strstr(lines[i], "\"create_series\"") != NULL;
    assert_int_equal(creates, 2); /* NASDAQ:NOPE and the good one; nothing for the bad input */
    simproc_lines_free(lines, n1);

    /* critical_error: the sim allows 256 sessions per connection */
    tvk_quotes *qs[256];
    for (int i = 0; i < 256; i++)
        assert_int_equal(tvk_quotes_open(c, NULL, NULL, 0, NULL, &qs[i]), 0);
    assert_int_equal(tvk_history(c, "NASDAQ:AAPL", "1D", 10, NULL, &b), TVK_ECRITICAL);
    assert_non_null(strstr(tvk_conn_errmsg(c), "too many sessions"));
    for (int i = 0; i < 256; i++)
        tvk_quotes_close(qs[i]);
    tvk_conn_free(c);
    simproc_stop(&s);

    /* protocol_error (the sim answers the 3rd client packet with one) */
    const char *pe[] = {"--fault", "protocol-error=3", NULL};
    start_sim(&s, pe);
    c = connect_to(&s, 0);
    assert_int_equal(tvk_history(c, "NASDAQ:AAPL", "1D", 10, NULL, &b), TVK_EPROTOCOL);
    assert_non_null(strstr(tvk_conn_errmsg(c), "protocol_error"));
    tvk_msg m;
    int rc;
    while ((rc = tvk_conn_next(c, &m, 100)) > 0)
        ;
    assert_int_equal(rc, TVK_EPROTOCOL);
    tvk_conn_free(c);
    simproc_stop(&s);

    /* timeout: the sim stops answering after its hello */
    const char *stall[] = {"--fault", "stall-after=1", NULL};
    start_sim(&s, stall);
    c = connect_to(&s, 300);
    int64_t t0 = tvk_now_ms();
    assert_int_equal(tvk_history(c, "NASDAQ:AAPL", "1D", 10, NULL, &b), TVK_ETIMEDOUT);
    int64_t took = tvk_now_ms() - t0;
    assert_true(took >= 300 && took < 5000);
    assert_non_null(strstr(tvk_conn_errmsg(c), "no answer within 300 ms"));
    tvk_conn_free(c);
    simproc_stop(&s);

    /* connection lost in the middle of a paged download */
    const char *drop[] = {"--fault", "close-after=5", NULL};
    start_sim(&s, drop);
    c = connect_to(&s, 0);
    assert_int_equal(tvk_history(c, "NASDAQ:AAPL", "1D", 20000, NULL, &b), TVK_ECONN_LOST);
    assert_non_null(strstr(tvk_conn_errmsg(c), "connection lost"));
    assert_int_equal(tvk_conn_get_state(c), TVK_CONN_LOST);
    assert_int_equal(tvk_conn_next(c, &m, 100), TVK_ECONN_LOST);
    assert_int_equal(tvk_history(c, "NASDAQ:AAPL", "1D", 10, NULL, &b), TVK_ECONN_LOST);
    tvk_conn_free(c);
    simproc_stop(&s);

    /* nobody listening */
    tvk_conn_opts o;
    tvk_conn_opts_init(&o);
    o.url = "ws://127.0.0.1:1/socket.io/websocket";
    o.proxy = "";
    c = tvk_conn_new_opts(&o);
    rc = tvk_conn_connect(c);
    assert_true(rc == TVK_ECONNECT);
    assert_non_null(strstr(tvk_conn_errmsg(c), "127.0.0.1"));
    tvk_conn_free(c);
}

/* ---------------------------------------------------------------- live bars */

static void test_bar_close(void **st)
{
    (void)st;
    simproc s;
    const char *extra[] = {"--speed", "600", "--update-ms", "30", NULL};
    start_sim(&s, extra);
    tvk_conn *c = connect_to(&s, 0);
    tvk_series_req r;
    tvk_series_req_init(&r);
    r.symbol = "BINANCE:BTCUSDT";
    r.interval = "1";
    r.count = 5;
    r.live = 1;
    tvk_series *se;
    assert_int_equal(tvk_series_open(c, &r, &se), 0);
    sim_symbol sym;
    sim_res res;
    assert_int_equal(sim_symbol_lookup(SEED, "BINANCE:BTCUSDT", &sym), 0);
    assert_int_equal(sim_res_parse("1", &res), 0);
    int history = 0, closes = 0, updates = 0;
    int64_t last_close = 0, forming = 0;
    int64_t end = tvk_now_ms() + 20000;
    while (closes < 8 && tvk_now_ms() < end) {
        tvk_event ev;
        int rc = tvk_conn_next_event(c, &ev, 500);
        assert_true(rc >= 0);
        if (rc == 0) continue;
        assert_ptr_equal(ev.series, se);
        switch (ev.type) {
        case TVK_EV_HISTORY:
            assert_int_equal(ev.nbars, 5);
            forming = ev.bars[4].time;
            history = 1;
            break;
        case TVK_EV_BAR_UPDATE:
            assert_int_equal(history, 1);
            assert_true(ev.bar.time > last_close);
            assert_true(ev.bar.time >= forming);
            forming = ev.bar.time;
            updates++;
            break;
        case TVK_EV_BAR_CLOSE: {
            assert_true(ev.bar.time > last_close); /* each bar closed once, in order */
            if (last_close) assert_int_equal(ev.bar.time, last_close + 60);
            /* the final values: the generator's complete bar */
            int64_t slot = sim_slot_of(&sym, &res, ev.bar.time);
            sim_bar want;
            sim_bar_at(&sym, &res, slot, sim_slot_close(&sym, &res, slot) + 1, &want);
            assert_int_equal(want.time, ev.bar.time);
            assert_true(ev.bar.open == want.open);
            assert_true(ev.bar.high == want.high);
            assert_true(ev.bar.low == want.low);
            assert_true(ev.bar.close == want.close);
            assert_true(ev.bar.volume == want.volume);
            last_close = ev.bar.time;
            closes++;
            break;
        }
        default:
            fail_msg("unexpected event %s: %s", tvk_event_type_name(ev.type),
                     ev.errmsg ? ev.errmsg : "");
        }
    }
    assert_int_equal(closes, 8);
    assert_true(updates >= 8);
    tvk_series_close(se);
    tvk_conn_free(c);
    simproc_stop(&s);
}

/* ---------------------------------------------------------------- quotes */

static void test_quotes_50(void **st)
{
    (void)st;
    simproc s;
    const char *extra[] = {"--update-ms", "50", "--speed", "60", NULL};
    start_sim(&s, extra);
    tvk_conn *c = connect_to(&s, 0);
    tvk_quotes *q;
    int tag = 0;
    assert_int_equal(tvk_quotes_open(c, NULL, NULL, 0, &tag, &q), 0);
    char names[50][16];
    const char *syms[51];
    for (int i = 0; i < 50; i++) {
        snprintf(names[i], sizeof names[i], "SIM:Q%02d", i);
        syms[i] = names[i];
    }
    syms[50] = "FOREX:EURUSD"; /* does not exist: fails alone */
    assert_int_equal(tvk_quotes_add(q, syms, 51), 0);
    int errors = 0, ok_with_delta = 0;
    int64_t end = tvk_now_ms() + 15000;
    for (;;) {
        int complete = 0;
        ok_with_delta = 0;
        for (size_t i = 0; i < tvk_quotes_count(q); i++) {
            const tvk_quote *qt = tvk_quotes_at(q, i);
            complete += qt->status == TVK_QUOTE_OK && qt->complete;
            ok_with_delta += qt->status == TVK_QUOTE_OK && qt->updates >= 2;
        }
        if ((complete == 50 && errors == 1 && ok_with_delta >= 10) || tvk_now_ms() > end) break;
        tvk_event ev;
        int rc = tvk_conn_next_event(c, &ev, 200);
        assert_true(rc >= 0);
        if (rc == 0) continue;
        assert_ptr_equal(ev.quotes, q);
        assert_ptr_equal(ev.user, &tag);
        if (ev.type == TVK_EV_ERROR) {
            assert_string_equal(ev.symbol, "FOREX:EURUSD");
            assert_int_equal(ev.error, TVK_ESYMBOL);
            assert_non_null(strstr(ev.errmsg, "no_such_symbol"));
            errors++;
        } else {
            assert_int_equal(ev.type, TVK_EV_QUOTE);
            assert_int_equal(ev.quote->status, TVK_QUOTE_OK);
        }
    }
    assert_int_equal(errors, 1);
    assert_true(ok_with_delta >= 10);
    /* every snapshot is full (the seed's 23 fields), however many deltas were merged in */
    for (int i = 0; i < 50; i++) {
        const tvk_quote *qt = tvk_quotes_get(q, names[i]);
        assert_non_null(qt);
        assert_int_equal(qt->status, TVK_QUOTE_OK);
        assert_int_equal(qt->nfields, tvk_quote_fields_count());
        for (const char *const *f = tvk_quote_fields(); *f; f++)
            assert_non_null(tvk_quote_field_get(qt, *f));
        char pro[64];
        assert_int_equal(tvk_quote_string(qt, "pro_name", pro, sizeof pro), 0);
        assert_string_equal(pro, names[i]);
        double lp;
        assert_int_equal(tvk_quote_number(qt, "lp", &lp), 0);
        assert_true(lp > 0);
    }
    assert_int_equal(tvk_quotes_get(q, "FOREX:EURUSD")->status, TVK_QUOTE_ERROR);
    tvk_quotes_close(q);
    tvk_conn_free(c);
    simproc_stop(&s);
}

/* ---------------------------------------------------------------- many series, one socket */

static void test_pipelined_series(void **st)
{
    (void)st;
    simproc s;
    start_sim(&s, NULL);
    tvk_conn *c = connect_to(&s, 0);
    enum { N = 30, BARS = 1500 };
    tvk_series *se[N];
    char names[N][16];
    for (int i = 0; i < N; i++) {
        tvk_series_req r;
        tvk_series_req_init(&r);
        snprintf(names[i], sizeof names[i], "SIM:P%02d", i);
        r.symbol = names[i];
        r.interval = "1D";
        r.count = BARS;
        r.user = names[i];
        assert_int_equal(tvk_series_open(c, &r, &se[i]), 0);
    }
    int done = 0;
    int64_t end = tvk_now_ms() + 30000;
    sim_bar *want = calloc(BARS, sizeof *want);
    while (done < N && tvk_now_ms() < end) {
        tvk_event ev;
        int rc = tvk_conn_next_event(c, &ev, 500);
        assert_true(rc >= 0);
        if (rc == 0) continue;
        assert_int_equal(ev.type, TVK_EV_HISTORY);
        assert_string_equal(ev.symbol, (const char *)ev.user);
        assert_int_equal(ev.nbars, BARS);
        /* SIM: trades around the clock, so the newest bar is still forming: compare the
         * closed ones, and that the newest is the current slot */
        int64_t cur = slot_now(ev.symbol, "1D");
        expected_bars_at(ev.symbol, "1D", cur - BARS + 1, cur, START + 86400 * 400, want);
        assert_same_bars(ev.bars, want, BARS - 1);
        assert_int_equal(ev.bars[BARS - 1].time, want[BARS - 1].time);
        done++;
    }
    free(want);
    assert_int_equal(done, N);
    for (int i = 0; i < N; i++)
        tvk_series_close(se[i]);
    /* one chart session per series, each created and deleted */
    char *lines[512];
    size_t n = wait_log(c, &s, 1 + 4 * N, lines, 512);
    int created = 0, deleted = 0;
    for (size_t i = 0; i < n; i++) {
        created += strstr(lines[i], "\"chart_create_session\"") != NULL;
        deleted += strstr(lines[i], "\"chart_delete_session\"") != NULL;
    }
    assert_int_equal(created, N);
    assert_int_equal(deleted, N);
    simproc_lines_free(lines, n);
    tvk_conn_free(c);
    simproc_stop(&s);
}

/* ---------------------------------------------------------------- caller's event loop */

static void test_event_loop(void **st)
{
    (void)st;
    simproc s;
    start_sim(&s, NULL);
    tvk_conn *c = connect_to(&s, 0);
    tvk_series_req r;
    tvk_series_req_init(&r);
    r.symbol = "NASDAQ:GOOGL";
    r.interval = "1D";
    r.count = 6000;
    tvk_series *se;
    assert_int_equal(tvk_series_open(c, &r, &se), 0);
    int got = 0, polls = 0;
    int64_t end = tvk_now_ms() + 20000;
    while (!got && tvk_now_ms() < end) {
        int fd = tvk_conn_fd(c);
        assert_true(fd >= 0);
        int w = tvk_conn_wants(c);
        struct pollfd p = {
            fd, (short)((w & TVK_WANT_READ ? POLLIN : 0) | (w & TVK_WANT_WRITE ? POLLOUT : 0)), 0};
        int64_t d = tvk_conn_deadline(c), now = tvk_now_ms();
        int wait = d < 0 ? 1000 : d <= now ? 0 : (int)(d - now < 1000 ? d - now : 1000);
        assert_true(poll(&p, 1, wait) >= 0);
        polls++;
        tvk_event ev;
        int rc;
        while ((rc = tvk_conn_next_event(c, &ev, 0)) > 0) {
            assert_int_equal(ev.type, TVK_EV_HISTORY);
            assert_int_equal(ev.nbars, 6000);
            got = 1;
        }
        assert_true(rc >= 0);
    }
    assert_int_equal(got, 1);
    assert_true(polls >= 2);
    tvk_series_close(se);
    tvk_conn_free(c);
    simproc_stop(&s);
}

/* ---------------------------------------------------------------- bad server data */

static void test_bad_frames(void **st)
{
    (void)st;
    static const char *faults[] = {"garbage=2", "bad-length=3"};
    for (size_t k = 0; k < 2; k++) {
        simproc s;
        const char *extra[] = {"--fault", faults[k], NULL};
        start_sim(&s, extra);
        tvk_conn_opts o;
        tvk_conn_opts_init(&o);
        o.url = s.url;
        o.proxy = "";
        o.request_timeout_ms = 2000;
        o.log = NULL;
        tvk_conn *c = tvk_conn_new_opts(&o);
        assert_int_equal(tvk_conn_connect(c), 0);
        tvk_bars b;
        /* a message that cannot be read is skipped (and counted); what it carried is lost, so
         * the request either completes or times out, never crashes or hangs */
        int64_t t0 = tvk_now_ms();
        int rc = tvk_history(c, "NASDAQ:AAPL", "1D", 100, NULL, &b);
        assert_true(rc == 0 || rc == TVK_ETIMEDOUT);
        assert_true(tvk_now_ms() - t0 < 10000);
        if (rc == 0) assert_int_equal(b.n, 100);
        tvk_bars_free(&b);
        tvk_conn_stats cst;
        tvk_conn_get_stats(c, &cst);
        assert_true(cst.parse_errors >= 1);
        /* the connection is still usable */
        rc = tvk_history(c, "NASDAQ:MSFT", "1D", 50, NULL, &b);
        assert_int_equal(rc, 0);
        assert_int_equal(b.n, 50);
        tvk_bars_free(&b);
        tvk_conn_free(c);
        simproc_stop(&s);
    }
}

/* ---------------------------------------------------------------- auth rejection */

/* How many logged client packets contain needle. */
static size_t log_count(const simproc *s, const char *needle)
{
    char *lines[512];
    size_t n = simproc_lines(s, lines, 512), k = 0;
    for (size_t i = 0; i < n; i++)
        k += strstr(lines[i], needle) != NULL;
    simproc_lines_free(lines, n);
    return k;
}

/* The server answers a rejected token with critical_error ... unauthorized_access (PROTOCOL.md,
 * *Errors, per peer*; the sim's --replay sends it after the client's first packet, which is
 * set_auth_token). It is TVK_EAUTH for the request, long before the request's own deadline,
 * with no retry: set_auth_token went out once per connection, and a handle that reconnects
 * does not reconnect for it. */
static void test_auth_rejected(void **st)
{
    (void)st;
    const char *tmp = getenv("TMPDIR");
    char path[256];
    snprintf(path, sizeof path, "%s/tvk_e2e_auth_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char replay[] =
        "{\"session_id\":\"0.1.auth_sim\",\"timestamp\":" START_S ",\"release\":\"x\"}\n"
        "{\"m\":\"critical_error\",\"p\":[\"\",{\"error_code\":\"unauthorized_access\"},"
        "\"method: set_auth_token\"]}\n";
    assert_int_equal(write(fd, replay, sizeof replay - 1), (ssize_t)(sizeof replay - 1));
    close(fd);
    simproc s;
    const char *extra[] = {"--replay", path, NULL};
    start_sim(&s, extra);

    /* a download: the request fails with TVK_EAUTH at once (its deadline is 20 s) */
    tvk_conn_opts o;
    tvk_conn_opts_init(&o);
    o.url = s.url;
    o.proxy = "";
    o.token = "expired-token-123";
    o.request_timeout_ms = 20000;
    tvk_conn *c = tvk_conn_new_opts(&o);
    assert_non_null(c);
    assert_int_equal(tvk_conn_connect(c), 0);
    int64_t t0 = tvk_now_ms();
    tvk_bars b;
    assert_int_equal(tvk_history(c, "NASDAQ:AAPL", "1D", 10, NULL, &b), TVK_EAUTH);
    assert_true(tvk_now_ms() - t0 < 5000);
    assert_int_equal(tvk_conn_error(c), TVK_EAUTH);
    assert_non_null(strstr(tvk_conn_errmsg(c), "unauthorized_access"));
    tvk_conn_free(c);

    /* a live series and quotes with reconnect on: ERROR events with TVK_EAUTH, the connection
     * stays up, nothing is retried */
    o.reconnect = 1;
    o.reconnect_delay_ms = 50;
    c = tvk_conn_new_opts(&o);
    assert_non_null(c);
    assert_int_equal(tvk_conn_connect(c), 0);
    tvk_series_req r;
    tvk_series_req_init(&r);
    r.symbol = "BINANCE:BTCUSDT";
    r.interval = "1";
    r.count = 10;
    r.live = 1;
    tvk_series *se;
    assert_int_equal(tvk_series_open(c, &r, &se), 0);
    tvk_quotes *q;
    const char *syms[] = {"NASDAQ:AAPL"};
    assert_int_equal(tvk_quotes_open(c, NULL, NULL, 0, NULL, &q), 0);
    assert_int_equal(tvk_quotes_add(q, syms, 1), 0);
    int series_err = 0, quote_err = 0, conn_events = 0;
    t0 = tvk_now_ms();
    while ((!series_err || !quote_err) && tvk_now_ms() - t0 < 5000) {
        tvk_event ev;
        int rc = tvk_conn_next_event(c, &ev, 100);
        assert_true(rc >= 0);
        if (rc == 0) continue;
        if (ev.type == TVK_EV_DISCONNECTED || ev.type == TVK_EV_RECONNECTING ||
            ev.type == TVK_EV_RECONNECTED)
            conn_events++;
        if (ev.type != TVK_EV_ERROR) continue;
        assert_int_equal(ev.error, TVK_EAUTH);
        assert_non_null(strstr(ev.errmsg, "unauthorized_access"));
        if (ev.series == se) series_err = 1;
        if (ev.quotes == q) quote_err = 1;
    }
    assert_true(series_err && quote_err);
    assert_int_equal(tvk_series_get_state(se), TVK_SERIES_FAILED);
    assert_int_equal(tvk_series_error(se), TVK_EAUTH);
    assert_int_equal(tvk_quotes_get(q, "NASDAQ:AAPL")->status, TVK_QUOTE_ERROR);
    /* a while longer (several reconnect delays): no reconnect and no second try */
    int64_t end = tvk_now_ms() + 500;
    while (tvk_now_ms() < end) {
        tvk_event ev;
        int rc = tvk_conn_next_event(c, &ev, 100);
        assert_true(rc >= 0);
        if (rc == 1 && ev.type >= TVK_EV_DISCONNECTED) conn_events++;
    }
    assert_int_equal(conn_events, 0);
    assert_int_equal(tvk_conn_get_state(c), TVK_CONN_CONNECTED);
    tvk_conn_stats cst;
    tvk_conn_get_stats(c, &cst);
    assert_int_equal(cst.reconnects, 0);
    assert_int_equal(cst.resubscribes, 0);
    tvk_conn_free(c);
    /* two connections, each sent its token once and each request once */
    assert_int_equal(log_count(&s, "\"set_auth_token\",\"p\":[\"expired-token-123\"]"), 2);
    assert_int_equal(log_count(&s, "\"create_series\""), 2);
    assert_int_equal(log_count(&s, "\"quote_add_symbols\""), 1);
    simproc_stop(&s);
    unlink(path);
}

static int teardown(void **st)
{
    (void)st;
    simproc_stop_all();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s TVKIT_SIM_BINARY\n", argv[0]);
        return 2;
    }
    sim_bin = argv[1];
    unsetenv("TVKIT_AUTH_TOKEN");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_seed_methods, teardown),
        cmocka_unit_test_teardown(test_history_20000, teardown),
        cmocka_unit_test_teardown(test_history_ended, teardown),
        cmocka_unit_test_teardown(test_history_range, teardown),
        cmocka_unit_test_teardown(test_errors, teardown),
        cmocka_unit_test_teardown(test_bar_close, teardown),
        cmocka_unit_test_teardown(test_quotes_50, teardown),
        cmocka_unit_test_teardown(test_pipelined_series, teardown),
        cmocka_unit_test_teardown(test_event_loop, teardown),
        cmocka_unit_test_teardown(test_bad_frames, teardown),
        cmocka_unit_test_teardown(test_auth_rejected, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
