/* Client unit tests without a network: outgoing messages are captured by a send hook, server
 * messages are built from strings and fed through the same path a received WebSocket message
 * takes (framing, heartbeat echo, parse, route). */
#define _GNU_SOURCE /* vasprintf */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/client.h"
#include "feed.h"

/* ---------------------------------------------------------------- capture */

typedef struct capture {
    char *msg[512];
    size_t n;
} capture;

static int hook(void *user, const char *data, size_t len)
{
    capture *cap = user;
    if (cap->n == sizeof cap->msg / sizeof cap->msg[0]) return TVK_EBACKPRESSURE;
    cap->msg[cap->n] = malloc(len + 1);
    memcpy(cap->msg[cap->n], data, len);
    cap->msg[cap->n][len] = '\0';
    cap->n++;
    return 0;
}

static void cap_clear(capture *cap)
{
    for (size_t i = 0; i < cap->n; i++)
        free(cap->msg[i]);
    cap->n = 0;
}

/* The payload of a framed message (after "~m~N~m~"), with N checked. */
static const char *payload(const char *framed)
{
    assert_memory_equal(framed, "~m~", 3);
    char *end;
    long n = strtol(framed + 3, &end, 10);
    assert_memory_equal(end, "~m~", 3);
    assert_int_equal((long)strlen(end + 3), n);
    return end + 3;
}

static tvk_conn *test_conn(capture *cap, int max_bars, int timeout_ms)
{
    tvk_conn_opts o;
    tvk_conn_opts_init(&o);
    o.token = "unauthorized_user_token";
    if (max_bars) o.max_bars_per_request = max_bars;
    if (timeout_ms) o.request_timeout_ms = timeout_ms;
    tvk_conn *c = tvk_conn_new_opts(&o);
    assert_non_null(c);
    tvk__conn_set_send_hook(c, hook, cap);
    return c;
}

/* ---------------------------------------------------------------- validation */

static void test_interval(void **st)
{
    (void)st;
    static const char *ok[][2] = {
        {"1", "1"},       {"5", "5"},   {"60", "60"},   {"1440", "1440"}, {"1S", "1S"},
        {"60S", "60S"},   {"1H", "60"}, {"4H", "240"},  {"24H", "1440"},  {"25H", "25H"},
        {"168H", "168H"}, {"D", "1D"},  {"1D", "1D"},   {"365D", "365D"}, {"W", "1W"},
        {"52W", "52W"},   {"M", "1M"},  {"12M", "12M"}, {"007", "7"},
    };
    char out[16], err[512];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(tvk_interval_normalize(ok[i][0], out, sizeof out, err, sizeof err), 0);
        assert_string_equal(out, ok[i][1]);
    }
    static const char *bad[] = {"",    "0",   "1441", "61S", "0S",  "169H",        "366D",
                                "53W", "13M", "1d",   "1h",  "15m", "XX",          "S",
                                "H",   "1DD", "-1",   "1.5", " 1",  "999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(tvk_interval_normalize(bad[i], out, sizeof out, err, sizeof err),
                         TVK_EINTERVAL);
        assert_non_null(strstr(err, "accepted: minutes 1-1440"));
        assert_non_null(strstr(err, "invalid interval"));
    }
    assert_int_equal(tvk_interval_normalize(NULL, out, sizeof out, NULL, 0), TVK_EINTERVAL);
    assert_int_equal(tvk_interval_normalize("1440", out, 4, NULL, 0), TVK_EBUFSIZE);
    assert_int_equal(tvk_interval_seconds("1"), 60);
    assert_int_equal(tvk_interval_seconds("1D"), 86400);
    assert_int_equal(tvk_interval_seconds("30S"), 30);
    assert_int_equal(tvk_interval_seconds("1W"), 7 * 86400);
    assert_int_equal(tvk_interval_seconds("48H"), 48 * 3600);
    assert_int_equal(tvk_interval_seconds("nope"), TVK_EINTERVAL);
}

static void test_symbol(void **st)
{
    (void)st;
    static const char *ok[] = {"NASDAQ:AAPL", "BINANCE:BTCUSDT", "CME_MINI:NQ1!", "NYSE:BRK.B",
                               "FX:EURUSD",   "SIM:ANYTHING",    "SP:SPX",        "X:A-B/C&D"};
    char err[512];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_int_equal(tvk_symbol_validate(ok[i], err, sizeof err), 0);
    static const char *bad[] = {
        "",
        "AAPL",
        ":AAPL",
        "NASDAQ:",
        "NAS DAQ:X",
        "NASDAQ:AA PL",
        "A:B:C",
        "NASDAQ:\"x",
        "NASDAQ:\xc3\xa9",
        "A-B:C",
        "X:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(tvk_symbol_validate(bad[i], err, sizeof err), TVK_ESYMBOL);
        assert_non_null(strstr(err, "expected EXCHANGE:SYMBOL"));
    }
    assert_int_equal(tvk_symbol_validate(NULL, NULL, 0), TVK_ESYMBOL);
}

/* ---------------------------------------------------------------- seed methods */

typedef struct sent {
    char method[64];
    char params[4096];
} sent;

typedef struct sendlog {
    sent s[32];
    int n;
    int fail_at; /* fail the n-th call (1-based); 0 never */
} sendlog;

static int log_send(void *user, const char *method, const char *params)
{
    sendlog *l = user;
    if (l->fail_at && l->n + 1 == l->fail_at) return TVK_EIO;
    assert_true(l->n < 32);
    snprintf(l->s[l->n].method, sizeof l->s[l->n].method, "%s", method);
    snprintf(l->s[l->n].params, sizeof l->s[l->n].params, "%s", params);
    l->n++;
    return 0;
}

#define FIELDS                                                                                     \
    "\"ch\",\"chp\",\"current_session\",\"description\",\"local_description\",\"language\","       \
    "\"exchange\",\"fractional\",\"is_tradable\",\"lp\",\"lp_time\",\"minmov\",\"minmove2\","      \
    "\"original_name\",\"pricescale\",\"pro_name\",\"short_name\",\"type\",\"update_mode\","       \
    "\"volume\",\"currency_code\",\"rchp\",\"rtc\""

static void test_seed_initialize(void **st)
{
    (void)st;
    capture cap = {0};
    tvk_conn *c = test_conn(&cap, 0, 0);
    sendlog l = {0};
    assert_int_equal(
        tvk_conn_initialize_sessions(c, "qs_abcdefghijkl", "cs_abcdefghijkl", log_send, &l), 0);
    assert_int_equal(l.n, 6);
    static const char *want[6][2] = {
        {"set_auth_token", "[\"unauthorized_user_token\"]"},
        {"set_locale", "[\"en\",\"US\"]"},
        {"chart_create_session", "[\"cs_abcdefghijkl\",\"\"]"},
        {"quote_create_session", "[\"qs_abcdefghijkl\"]"},
        {"quote_set_fields", "[\"qs_abcdefghijkl\"," FIELDS "]"},
        {"quote_hibernate_all", "[\"qs_abcdefghijkl\"]"},
    };
    for (int i = 0; i < 6; i++) {
        assert_string_equal(l.s[i].method, want[i][0]);
        assert_string_equal(l.s[i].params, want[i][1]);
    }
    /* the default send function frames each as one message */
    assert_int_equal(
        tvk_conn_initialize_sessions(c, "qs_abcdefghijkl", "cs_abcdefghijkl", NULL, NULL), 0);
    assert_int_equal(cap.n, 6);
    assert_string_equal(payload(cap.msg[1]), "{\"m\":\"set_locale\",\"p\":[\"en\",\"US\"]}");
    /* a failing send function stops the sequence and its code comes back */
    sendlog f = {.fail_at = 3};
    assert_int_equal(tvk_conn_initialize_sessions(c, "qs_a", "cs_a", log_send, &f), TVK_EIO);
    assert_int_equal(f.n, 2);
    cap_clear(&cap);
    tvk_conn_free(c);
}

static void test_seed_add_symbol(void **st)
{
    (void)st;
    capture cap = {0};
    tvk_conn *c = test_conn(&cap, 0, 0);
    sendlog l = {0};
    assert_int_equal(tvk_conn_add_symbol_to_sessions(c, "qs_abcdefghijkl", "cs_abcdefghijkl",
                                                     "NASDAQ:AAPL", "1D", 100, log_send, &l),
                     0);
    assert_int_equal(l.n, 6);
#define SPEC "\"={\\\"adjustment\\\": \\\"splits\\\", \\\"symbol\\\": \\\"NASDAQ:AAPL\\\"}\""
    static const char *want[6][2] = {
        {"quote_add_symbols", "[\"qs_abcdefghijkl\"," SPEC "]"},
        {"resolve_symbol", "[\"cs_abcdefghijkl\",\"sds_sym_1\"," SPEC "]"},
        {"create_series", "[\"cs_abcdefghijkl\",\"sds_1\",\"s1\",\"sds_sym_1\",\"1D\",100,\"\"]"},
        {"quote_fast_symbols", "[\"qs_abcdefghijkl\",\"NASDAQ:AAPL\"]"},
        {"create_study", "[\"cs_abcdefghijkl\",\"st1\",\"st1\",\"sds_1\","
                         "\"Volume@tv-basicstudies-246\",{\"length\":20,\"col_prev_close\":"
                         "\"false\"}]"},
        {"quote_hibernate_all", "[\"qs_abcdefghijkl\"]"},
    };
    for (int i = 0; i < 6; i++) {
        assert_string_equal(l.s[i].method, want[i][0]);
        assert_string_equal(l.s[i].params, want[i][1]);
    }
    /* PROTOCOL.md 5.4's wire example, byte for byte */
    assert_int_equal(tvk_conn_add_symbol_to_sessions(c, "qs_abcdefghijkl", "cs_abcdefghijkl",
                                                     "NASDAQ:AAPL", "1D", 100, NULL, NULL),
                     0);
    assert_int_equal(cap.n, 6);
    assert_string_equal(cap.msg[1],
                        "~m~119~m~{\"m\":\"resolve_symbol\",\"p\":[\"cs_abcdefghijkl\","
                        "\"sds_sym_1\",\"={\\\"adjustment\\\": \\\"splits\\\", \\\"symbol\\\": "
                        "\\\"NASDAQ:AAPL\\\"}\"]}");
    /* validation before anything is sent */
    sendlog none = {0};
    assert_int_equal(
        tvk_conn_add_symbol_to_sessions(c, "qs_a", "cs_a", "AAPL", "1D", 10, log_send, &none),
        TVK_ESYMBOL);
    assert_non_null(strstr(tvk_conn_errmsg(c), "EXCHANGE:SYMBOL"));
    assert_int_equal(tvk_conn_add_symbol_to_sessions(c, "qs_a", "cs_a", "NASDAQ:AAPL", "1d", 10,
                                                     log_send, &none),
                     TVK_EINTERVAL);
    assert_int_equal(
        tvk_conn_add_symbol_to_sessions(c, "qs_a", "cs_a", "NASDAQ:AAPL", "1D", 0, log_send, &none),
        TVK_EINVAL);
    assert_int_equal(none.n, 0);
    cap_clear(&cap);
    tvk_conn_free(c);
}

static void test_seed_add_multiple(void **st)
{
    (void)st;
    capture cap = {0};
    tvk_conn *c = test_conn(&cap, 0, 0);
    sendlog l = {0};
    const char *syms[] = {"BINANCE:BTCUSDT", "NASDAQ:AAPL", "FX:EURUSD"};
    assert_int_equal(
        tvk_conn_add_multiple_symbols_to_sessions(c, "qs_abcdefghijkl", syms, 3, log_send, &l), 0);
    assert_int_equal(l.n, 4);
#define MSPEC                                                                                      \
    "\"={\\\"adjustment\\\": \\\"splits\\\", \\\"currency-id\\\": \\\"USD\\\", \\\"session\\\": "  \
    "\\\"regular\\\", \\\"symbol\\\": \\\"BINANCE:BTCUSDT\\\"}\""
    assert_string_equal(l.s[0].method, "quote_add_symbols");
    assert_string_equal(l.s[0].params, "[\"qs_abcdefghijkl\"," MSPEC "]");
    assert_string_equal(l.s[1].method, "quote_fast_symbols");
    assert_string_equal(l.s[1].params, "[\"qs_abcdefghijkl\"," MSPEC "]");
    assert_string_equal(l.s[2].method, "quote_add_symbols");
    assert_string_equal(l.s[2].params,
                        "[\"qs_abcdefghijkl\",\"BINANCE:BTCUSDT\",\"NASDAQ:AAPL\",\"FX:EURUSD\"]");
    assert_string_equal(l.s[3].method, "quote_fast_symbols");
    assert_string_equal(l.s[3].params, l.s[2].params);
    const char *bad[] = {"NASDAQ:AAPL", "oops"};
    sendlog none = {0};
    assert_int_equal(tvk_conn_add_multiple_symbols_to_sessions(c, "qs_a", bad, 2, log_send, &none),
                     TVK_ESYMBOL);
    assert_non_null(strstr(tvk_conn_errmsg(c), "\"oops\""));
    assert_int_equal(tvk_conn_add_multiple_symbols_to_sessions(c, "qs_a", syms, 0, log_send, &none),
                     TVK_EINVAL);
    assert_int_equal(none.n, 0);
    tvk_conn_free(c);
}

/* ---------------------------------------------------------------- stream: heartbeats, next */

static void test_heartbeat_echo_anywhere(void **st)
{
    (void)st;
    capture cap = {0};
    tvk_conn *c = test_conn(&cap, 0, 0);
    /* heartbeats before, between and after data packets, in one WebSocket message */
    const char *m = "~m~4~m~~h~7~m~42~m~{\"m\":\"quote_completed\",\"p\":[\"qs_x\",\"A:B\"]}"
                    "~m~5~m~~h~10~m~42~m~{\"m\":\"quote_completed\",\"p\":[\"qs_x\",\"A:C\"]}"
                    "~m~5~m~~h~11";
    assert_int_equal(tvk__conn_feed(c, m, strlen(m)), 2);
    assert_int_equal(cap.n, 3);
    assert_string_equal(cap.msg[0], "~m~4~m~~h~7");
    assert_string_equal(cap.msg[1], "~m~5~m~~h~10");
    assert_string_equal(cap.msg[2], "~m~5~m~~h~11");
    tvk_conn_stats stv;
    tvk_conn_get_stats(c, &stv);
    assert_int_equal(stv.heartbeats, 3);
    assert_int_equal(stv.packets_in, 5);
    /* a packet that is not JSON is skipped, the rest of the message still read */
    cap_clear(&cap);
    const char *m2 = "~m~5~m~{oops~m~4~m~~h~8";
    assert_int_equal(tvk__conn_feed(c, m2, strlen(m2)), 0);
    assert_int_equal(cap.n, 1);
    tvk_conn_get_stats(c, &stv);
    assert_int_equal(stv.parse_errors, 1);
    cap_clear(&cap);
    tvk_conn_free(c);
}

static void test_next_not_connected(void **st)
{
    (void)st;
    tvk_conn *c = tvk_conn_new(NULL);
    tvk_msg m;
    assert_int_equal(tvk_conn_next(c, &m, 0), TVK_ESTATE);
    assert_non_null(strstr(tvk_conn_errmsg(c), "not connected"));
    assert_int_equal(tvk_conn_close(c), 0);
    assert_int_equal(tvk_conn_close(c), 0);
    assert_int_equal(tvk_conn_send(c, "set_locale", "[\"en\",\"US\"]"), TVK_ESTATE);
    tvk_conn_free(c);
    tvk_conn_free(NULL);
}

/* ---------------------------------------------------------------- history assembler */

/* timescale_update with bars t0 + k*step for k in [a, b), index base idx0. */
static void feed_bars(tvk_conn *c, const char *cs, int64_t t0, int64_t step, int a, int b, int idx0,
                      int64_t close_time)
{
    tvk_buf p;
    tvk_buf_init(&p);
    tvk_buf_printf(&p,
                   "{\"m\":\"timescale_update\",\"p\":[\"%s\",{\"sds_1\":{\"node\":\"n1\","
                   "\"s\":[",
                   cs);
    for (int k = a; k < b; k++)
        tvk_buf_printf(&p, "%s{\"i\":%d,\"v\":[%lld.0,%d.5,%d.0,%d.0,%d.25,%d.0]}",
                       k > a ? "," : "", idx0 + (k - a), (long long)(t0 + k * step), k, k + 2,
                       k - 1, k, 1000 + k);
    tvk_buf_printf(&p,
                   "],\"ns\":{\"d\":\"\",\"indexes\":[]},\"t\":\"s1\",\"lbs\":{"
                   "\"bar_close_time\":%lld}}},{\"index\":0,\"zoffset\":0,\"changes\":[],"
                   "\"marks\":[],\"index_diff\":[]}],\"t\":1700000000,\"t_ms\":1700000000000}",
                   (long long)close_time);
    feedf(c, "%s", p.data);
    tvk_buf_free(&p);
}

static void feed_completed(tvk_conn *c, const char *cs, const char *dc)
{
    if (dc)
        feedf(c,
              "{\"m\":\"series_completed\",\"p\":[\"%s\",\"sds_1\",\"streaming\",\"s1\","
              "{\"rt_update_period\":5,\"data_completed\":\"%s\"}],\"t\":1,\"t_ms\":1}",
              cs, dc);
    else
        feedf(c, "{\"m\":\"series_completed\",\"p\":[\"%s\",\"sds_1\",\"streaming\",\"s1\"]}", cs);
}

static const char *find_sent(capture *cap, const char *needle, size_t from)
{
    for (size_t i = from; i < cap->n; i++)
        if (strstr(cap->msg[i], needle)) return cap->msg[i];
    return NULL;
}

static int next_ev(tvk_conn *c, tvk_event *ev)
{
    return tvk__ev_pop(c, ev);
}

typedef struct prog {
    int calls;
    size_t last_bars;
    double last_fraction;
} prog;

static void on_progress(void *user, const tvk_progress *p)
{
    prog *pr = user;
    pr->calls++;
    assert_true(p->bars >= pr->last_bars || p->target == 0);
    pr->last_bars = p->bars;
    pr->last_fraction = p->fraction;
    assert_true(p->fraction >= 0 && p->fraction <= 1);
}

static void test_history_paging(void **st)
{
    (void)st;
    capture cap = {0};
    tvk_conn *c = test_conn(&cap, 5000, 0);
    prog pr = {0};
    tvk_series_req r;
    tvk_series_req_init(&r);
    r.symbol = "NASDAQ:AAPL";
    r.interval = "D";
    r.count = 12000;
    r.opts.progress = on_progress;
    r.opts.progress_user = &pr;
    tvk_series *s;
    assert_int_equal(tvk_series_open(c, &r, &s), 0);
    char cs[32];
    snprintf(cs, sizeof cs, "%s", tvk_series_chart_session(s));
    assert_int_equal(cap.n, 4);
    assert_string_equal(payload(cap.msg[0]),
                        "{\"m\":\"set_auth_token\",\"p\":[\"unauthorized_user_token\"]}");
    char want[256];
    snprintf(want, sizeof want, "{\"m\":\"chart_create_session\",\"p\":[\"%s\",\"\"]}", cs);
    assert_string_equal(payload(cap.msg[1]), want);
    snprintf(want, sizeof want,
             "{\"m\":\"resolve_symbol\",\"p\":[\"%s\",\"sds_sym_1\","
             "\"={\\\"adjustment\\\":\\\"splits\\\",\\\"symbol\\\":\\\"NASDAQ:AAPL\\\"}\"]}",
             cs);
    assert_string_equal(payload(cap.msg[2]), want);
    snprintf(want, sizeof want,
             "{\"m\":\"create_series\",\"p\":[\"%s\",\"sds_1\",\"s1\",\"sds_sym_1\",\"1D\",5000,"
             "\"\"]}",
             cs);
    assert_string_equal(payload(cap.msg[3]), want);

    /* history of 11,000 bars in all: pages of 5000, 5000 (with a duplicate at the seam), 1000 */
    const int64_t t0 = 1000000000, day = 86400;
    feed_bars(c, cs, t0, day, 6000, 11000, 0, 0);
    feed_completed(c, cs, "limit");
    assert_int_equal(tvk_series_get_state(s), TVK_SERIES_LOADING);
    snprintf(want, sizeof want, "{\"m\":\"request_more_data\",\"p\":[\"%s\",\"sds_1\",5000]}", cs);
    assert_string_equal(payload(cap.msg[4]), want);
    feed_bars(c, cs, t0, day, 1000, 6001, -5000, 0);
    feed_completed(c, cs, NULL);
    snprintf(want, sizeof want, "{\"m\":\"request_more_data\",\"p\":[\"%s\",\"sds_1\",2000]}", cs);
    assert_string_equal(payload(cap.msg[5]), want);
    feed_bars(c, cs, t0, day, 0, 1000, -6000, 0);
    feed_completed(c, cs, NULL);
    /* not enough yet and the last page added bars: ask again; an empty page ends it */
    assert_int_equal(tvk_series_get_state(s), TVK_SERIES_LOADING);
    assert_non_null(find_sent(&cap, "request_more_data", 6));
    feed_completed(c, cs, NULL);
    assert_int_equal(tvk_series_get_state(s), TVK_SERIES_READY);
    tvk_event ev;
    assert_int_equal(next_ev(c, &ev), 1);
    assert_int_equal(ev.type, TVK_EV_HISTORY);
    assert_ptr_equal(ev.series, s);
    assert_int_equal(ev.nbars, 11000);
    assert_int_equal(ev.ended, 1);
    for (size_t i = 0; i < ev.nbars; i++) {
        assert_int_equal(ev.bars[i].time, t0 + (int64_t)i * day);
        assert_true(ev.bars[i].open == (double)i + 0.5);
        assert_true(ev.bars[i].volume == 1000.0 + (double)i);
    }
    assert_int_equal(next_ev(c, &ev), 0);
    assert_true(pr.calls >= 4);
    assert_int_equal(pr.last_bars, 11000);
    tvk_series_close(s);
    snprintf(want, sizeof want, "{\"m\":\"chart_delete_session\",\"p\":[\"%s\"]}", cs);
    assert_string_equal(payload(cap.msg[cap.n - 1]), want);
    cap_clear(&cap);
    tvk_conn_free(c);
}

/* release_idle_buffers: after a 5,000-bar page the connection holds the message's text (~400 KB;
 * the bars are read without tokens) unless the option gives it back; either way the history is
 * whole and right, including a page parsed after the buffers were given back. */
static void test_release_idle_buffers(void **st)
{
    (void)st;
    for (int release = 0; release <= 1; release++) {
        capture cap = {0};
        tvk_conn_opts o;
        tvk_conn_opts_init(&o);
        assert_int_equal(o.release_idle_buffers, 0);
        o.token = "unauthorized_user_token";
        o.release_idle_buffers = release;
        tvk_conn *c = tvk_conn_new_opts(&o);
        assert_non_null(c);
        tvk__conn_set_send_hook(c, hook, &cap);
        tvk_series *s = open_series(c, "NASDAQ:AAPL", "D", 10000, 0);
        char cs[32];
        snprintf(cs, sizeof cs, "%s", tvk_series_chart_session(s));
        const int64_t t0 = 1000000000, day = 86400;
        tvk_conn_stats stv;
        feed_bars(c, cs, t0, day, 5000, 10000, 0, 0);
        tvk_conn_get_stats(c, &stv);
        if (release)
            assert_true(stv.buffer_bytes <= 16 << 10);
        else
            assert_true(stv.buffer_bytes >= 256 << 10);
        feed_completed(c, cs, "limit");
        feed_bars(c, cs, t0, day, 0, 5001, -5000, 0);
        feed_completed(c, cs, NULL);
        tvk_conn_get_stats(c, &stv);
        assert_true(release ? stv.buffer_bytes <= 16 << 10 : stv.buffer_bytes >= 256 << 10);
        assert_int_equal(tvk_series_get_state(s), TVK_SERIES_READY);
        tvk_event ev;
        assert_int_equal(next_ev(c, &ev), 1);
        assert_int_equal(ev.type, TVK_EV_HISTORY);
        assert_int_equal(ev.nbars, 10000);
        for (size_t i = 0; i < ev.nbars; i++) {
            assert_int_equal(ev.bars[i].time, t0 + (int64_t)i * day);
            assert_true(ev.bars[i].close == (double)i + 0.25);
        }
        if (release) {
            /* a big message cut short by a framing error gives its buffers back too */
            tvk_buf pl, m;
            tvk_buf_init(&pl);
            tvk_buf_init(&m);
            tvk_buf_puts(&pl, "{\"m\":\"x\",\"p\":[");
            for (int i = 0; i < 60000; i++)
                tvk_buf_printf(&pl, "%s%d.5", i ? "," : "", i);
            tvk_buf_puts(&pl, "]}");
            assert_int_equal(tvk_frame(&m, pl.data, pl.len), 0);
            tvk_buf_puts(&m, "~m~99~m~x");
            uint64_t errors = stv.parse_errors;
            tvk__conn_feed(c, m.data, m.len);
            tvk_conn_get_stats(c, &stv);
            assert_true(stv.parse_errors > errors);
            assert_true(stv.buffer_bytes <= 16 << 10);
            tvk_buf_free(&pl);
            tvk_buf_free(&m);
        }
        tvk_series_close(s);
        cap_clear(&cap);
        tvk_conn_free(c);
    }
}

static void test_history_exact_count(void **st)
{
    (void)st;
    capture cap = {0};
    tvk_conn *c = test_conn(&cap, 5000, 0);
    tvk_series *s = open_series(c, "SIM:X", "60", 7, 0);
    assert_non_null(find_sent(&cap, "\"60\",7,\"\"]", 0));
    const char *cs = tvk_series_chart_session(s);
    /* the server sends more than asked, out of order, with a re-sent bar: newest 7, sorted */
    feed_bars(c, cs, 3600, 3600, 10, 20, 0, 0);
    feed_bars(c, cs, 3600, 3600, 0, 10, -10, 0);
    feed_bars(c, cs, 3600, 3600, 19, 20, 9, 0);
    feed_completed(c, cs, NULL);
    tvk_bars b;
    assert_int_equal(tvk_series_get_state(s), TVK_SERIES_READY);
    assert_int_equal(tvk_series_take_bars(s, &b), 0);
    assert_int_equal(b.n, 7);
    assert_int_equal(b.ended, 0);
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(b.v[i].time, 3600 + (13 + (int64_t)i) * 3600);
    tvk_bars_free(&b);
    tvk_bars_free(&b);
    tvk_series_close(s);
    cap_clear(&cap);
    tvk_conn_free(c);
}

static void test_history_range(void **st)
{
    (void)st;
    capture cap = {0};
    tvk_conn *c = test_conn(&cap, 100, 0);
    tvk_series_req r;
    tvk_series_req_init(&r);
    r.symbol = "NASDAQ:AAPL";
    r.interval = "1D";
    const int64_t t0 = 1000000000, day = 86400;
    r.from = t0 + 50 * day;
    r.to = t0 + 250 * day; /* 200 bars, two pages of 100 */
    tvk_series *s;
    assert_int_equal(tvk_series_open(c, &r, &s), 0);
    const char *cs = tvk_series_chart_session(s);
    char want[256];
    snprintf(want, sizeof want,
             "{\"m\":\"modify_series\",\"p\":[\"%s\",\"sds_1\",\"s1\",\"sds_sym_1\",\"1D\","
             "\"r,%lld:%lld\"]}",
             cs, (long long)r.from, (long long)r.to);
    assert_string_equal(payload(cap.msg[cap.n - 1]), want);
    size_t sent0 = cap.n;
    /* create_series answer: discarded */
    feed_bars(c, cs, t0, day, 900, 1000, 0, 0);
    feed_completed(c, cs, NULL);
    /* modify answer: the newest 100 of the range plus one bar past it */
    feed_bars(c, cs, t0, day, 150, 251, 0, 0);
    feed_completed(c, cs, NULL);
    assert_int_equal(tvk_series_get_state(s), TVK_SERIES_LOADING);
    assert_non_null(find_sent(&cap, "request_more_data", sent0));
    feed_bars(c, cs, t0, day, 40, 150, -110, 0);
    feed_completed(c, cs, NULL);
    assert_int_equal(tvk_series_get_state(s), TVK_SERIES_READY);
    const tvk_ohlcv *bars;
    size_t n;
    int ended;
    tvk_series_bars(s, &bars, &n, &ended);
    tvk_event ev;
    assert_int_equal(next_ev(c, &ev), 1);
    assert_int_equal(n, 200);
    assert_int_equal(ended, 0);
    assert_int_equal(bars[0].time, r.from);
    assert_int_equal(bars[199].time, r.to - day);
    tvk_series_close(s);

    /* a range starting between two bars is covered without another page */
    r.from = t0 + 50 * day - 3600;
    r.to = t0 + 80 * day;
    assert_int_equal(tvk_series_open(c, &r, &s), 0);
    cs = tvk_series_chart_session(s);
    feed_bars(c, cs, t0, day, 990, 1000, 0, 0);
    feed_completed(c, cs, NULL);
    sent0 = cap.n;
    feed_bars(c, cs, t0, day, 50, 80, -950, 0);
    feed_completed(c, cs, "limit");
    assert_int_equal(cap.n, sent0);
    assert_int_equal(tvk_series_get_state(s), TVK_SERIES_READY);
    tvk_series_bars(s, &bars, &n, &ended);
    assert_int_equal(n, 30);
    assert_int_equal(next_ev(c, &ev), 1);
    assert_int_equal(ev.type, TVK_EV_HISTORY);
    tvk_series_close(s);

    /* a range older than the history: explicit no-data */
    r.from = t0 - 500 * day;
    r.to = t0 - 400 * day;
    assert_int_equal(tvk_series_open(c, &r, &s), 0);
    cs = tvk_series_chart_session(s);
    feed_bars(c, cs, t0, day, 900, 1000, 0, 0);
    feed_completed(c, cs, NULL);
    feed_completed(c, cs, "end");
    assert_int_equal(tvk_series_get_state(s), TVK_SERIES_FAILED);
    assert_int_equal(tvk_series_error(s), TVK_ENODATA);
    assert_non_null(strstr(tvk_series_errmsg(s), "no data in range"));
    assert_int_equal(next_ev(c, &ev), 1);
    assert_int_equal(ev.type, TVK_EV_ERROR);
    assert_int_equal(ev.error, TVK_ENODATA);
    tvk_series_close(s);
    /* bad ranges never reach the server */
    size_t before = cap.n;
    r.from = r.to;
    assert_int_equal(tvk_series_open(c, &r, &s), TVK_EINVAL);
    assert_int_equal(cap.n, before);
    cap_clear(&cap);
    tvk_conn_free(c);
}

static void expect_error(tvk_conn *c, tvk_series *s, int code, const char *text)
{
    assert_int_equal(tvk_series_get_state(s), TVK_SERIES_FAILED);
    assert_int_equal(tvk_series_error(s), code);
    assert_non_null(strstr(tvk_series_errmsg(s), text));
    tvk_event ev;
    assert_int_equal(next_ev(c, &ev), 1);
    assert_int_equal(ev.type, TVK_EV_ERROR);
    assert_int_equal(ev.error, code);
    assert_ptr_equal(ev.series, s);
    assert_string_equal(ev.errmsg, tvk_series_errmsg(s));
    assert_int_equal(next_ev(c, &ev), 0);
}

/* A series opened, one server packet (fmt with the chart session) fed, and the series' error
 * checked. */
static void series_error_case(tvk_conn *c, const char *sym, const char *interval, const char *fmt,
                              int code, const char *text)
{
    tvk_series *s = open_series(c, sym, interval, 10, 0);
    feedf(c, fmt, tvk_series_chart_session(s));
    expect_error(c, s, code, text);
    tvk_series_close(s);
}

static void test_history_errors(void **st)
{
    (void)st;
    capture cap = {0};
    tvk_conn *c = test_conn(&cap, 0, 0);
    series_error_case(c, "NASDAQ:NOPE", "1D",
                      "{\"m\":\"symbol_error\",\"p\":[\"%s\",\"sds_sym_1\",\"invalid symbol\"]}",
                      TVK_ESYMBOL, "invalid symbol");
    series_error_case(c, "NASDAQ:AAPL", "7",
                      "{\"m\":\"series_error\",\"p\":[\"%s\",\"sds_1\",\"s1\",\"custom_"
                      "resolution\",\"node-1\"]}",
                      TVK_EINTERVAL, "custom_resolution");
    series_error_case(c, "NASDAQ:AAPL", "1D",
                      "{\"m\":\"critical_error\",\"p\":[\"%s\",\"invalid parameters\",\"method: "
                      "create_series. args: \\\"[sds_1]\\\"\"]}",
                      TVK_ECRITICAL, "invalid parameters");
    series_error_case(c, "NASDAQ:AAPL", "1D",
                      "{\"m\":\"timescale_update\",\"p\":[\"%s\",{\"sds_1\":{\"s\":[{\"i\":0,"
                      "\"v\":[1,\"x\"]}],\"t\":\"s1\"}},{}]}",
                      TVK_ESHAPE, "malformed bar 1");
    series_error_case(c, "NASDAQ:AAPL", "1D",
                      "{\"m\":\"critical_error\",\"p\":[\"%s\",{\"error_code\":\"unauthorized_"
                      "access\"},\"method: set_auth_token\"]}",
                      TVK_EAUTH, "critical_error");

    tvk_series *s = open_series(c, "NASDAQ:AAPL", "1D", 10, 0);
    tvk_series *s2 = open_series(c, "NASDAQ:MSFT", "1D", 10, 0);
    feedf(c, "{\"m\":\"protocol_error\",\"p\":[\"{unknown_session_id,<<\\\"x\\\">>}\"]}");
    assert_int_equal(tvk_series_error(s), TVK_EPROTOCOL);
    assert_int_equal(tvk_series_error(s2), TVK_EPROTOCOL);
    assert_non_null(strstr(tvk_series_errmsg(s2), "unknown_session_id"));
    tvk_event ev;
    assert_int_equal(next_ev(c, &ev), 1);
    assert_int_equal(next_ev(c, &ev), 1);
    assert_int_equal(next_ev(c, &ev), 0);
    /* after protocol_error nothing more is sent */
    tvk_series *s3;
    tvk_series_req r;
    tvk_series_req_init(&r);
    r.symbol = "NASDAQ:AAPL";
    r.interval = "1D";
    assert_int_equal(tvk_series_open(c, &r, &s3), TVK_EPROTOCOL);
    tvk_series_close(s);
    tvk_series_close(s2);
    cap_clear(&cap);
    tvk_conn_free(c);
}

static void test_history_timeout(void **st)
{
    (void)st;
    capture cap = {0};
    tvk_conn *c = test_conn(&cap, 0, 30);
    /* The deadline runs from the request's send, inside open_series: start the clock before it
     * (under valgrind the open alone can take longer than the 30 ms). */
    int64_t start = tvk_now_ms();
    tvk_series *s = open_series(c, "NASDAQ:AAPL", "1D", 10, 0);
    tvk_event ev;
    int rc = 0;
    /* waits on the request's own deadline (the handle has no socket, so poll it) */
    while (rc == 0 && tvk_now_ms() - start < 5000)
        rc = tvk_conn_next_event(c, &ev, 0);
    assert_int_equal(rc, 1);
    assert_int_equal(ev.type, TVK_EV_ERROR);
    assert_int_equal(ev.error, TVK_ETIMEDOUT);
    assert_true(tvk_now_ms() - start >= 30);
    assert_non_null(strstr(ev.errmsg, "create_series"));
    tvk_series_close(s);
    cap_clear(&cap);
    tvk_conn_free(c);
}

/* ---------------------------------------------------------------- live bars */

static void feed_du(tvk_conn *c, const char *cs, int idx, int64_t t, double close, int64_t bct)
{
    feedf(c,
          "{\"m\":\"du\",\"p\":[\"%s\",{\"sds_1\":{\"s\":[{\"i\":%d,\"v\":[%lld,1,2,0.5,%g,10]}],"
          "\"ns\":{\"d\":\"\",\"indexes\":\"nochange\"},\"t\":\"s1\",\"lbs\":{\"bar_close_time\":"
          "%lld}}}]}",
          cs, idx, (long long)t, close, (long long)bct);
}

static void test_live_bars(void **st)
{
    (void)st;
    capture cap = {0};
    tvk_conn *c = test_conn(&cap, 0, 0);
    tvk_series *s = open_series(c, "BINANCE:BTCUSDT", "1", 3, 1);
    const char *cs = tvk_series_chart_session(s);
    /* after the server time the history messages carry (1700000000) */
    const int64_t t0 = 1700000000 - 1700000000 % 60 + 6000;
    feed_bars(c, cs, t0, 60, 0, 3, 0, t0 + 3 * 60);
    feed_completed(c, cs, NULL);
    tvk_event ev;
    assert_int_equal(next_ev(c, &ev), 1);
    assert_int_equal(ev.type, TVK_EV_HISTORY);
    assert_int_equal(ev.nbars, 3);
    /* forming bar t0+120 updated twice */
    feed_du(c, cs, 2, t0 + 120, 5.0, t0 + 180);
    feed_du(c, cs, 2, t0 + 120, 6.0, t0 + 180);
    /* an update of an already closed bar is ignored */
    feed_du(c, cs, 1, t0 + 60, 99.0, t0 + 120);
    /* new bar: the forming one closes with its last values */
    feed_du(c, cs, 3, t0 + 180, 7.0, t0 + 240);
    /* the closed bar again: never closed twice, never updated */
    feed_du(c, cs, 2, t0 + 120, 8.0, t0 + 180);
    feed_du(c, cs, 3, t0 + 180, 7.5, t0 + 240);
    static const struct {
        tvk_event_type t;
        int64_t time;
        double close;
    } want[] = {
        {TVK_EV_BAR_UPDATE, 0, 5.0},  {TVK_EV_BAR_UPDATE, 0, 6.0},  {TVK_EV_BAR_CLOSE, 0, 6.0},
        {TVK_EV_BAR_UPDATE, 60, 7.0}, {TVK_EV_BAR_UPDATE, 60, 7.5},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(next_ev(c, &ev), 1);
        assert_int_equal(ev.type, want[i].t);
        assert_int_equal(ev.bar.time, t0 + 120 + want[i].time);
        assert_true(ev.bar.close == want[i].close);
        assert_string_equal(ev.symbol, "BINANCE:BTCUSDT");
        assert_string_equal(ev.interval, "1");
    }
    assert_int_equal(next_ev(c, &ev), 0);
    /* the server clock passing lbs.bar_close_time closes the bar without a newer one */
    feedf(c, "{\"m\":\"timescale_update\",\"p\":[\"cs_other\",{}],\"t\":%lld}",
          (long long)(t0 + 400));
    assert_int_equal(next_ev(c, &ev), 0); /* another session's clock does not close it */
    feedf(c, "{\"m\":\"timescale_update\",\"p\":[\"%s\",{}],\"t\":%lld}", cs,
          (long long)(t0 + 240));
    assert_int_equal(next_ev(c, &ev), 0); /* bar_close_time is the bar's last second */
    feedf(c, "{\"m\":\"timescale_update\",\"p\":[\"%s\",{}],\"t\":%lld}", cs,
          (long long)(t0 + 241));
    assert_int_equal(next_ev(c, &ev), 1);
    assert_int_equal(ev.type, TVK_EV_BAR_CLOSE);
    assert_int_equal(ev.bar.time, t0 + 180);
    assert_true(ev.bar.close == 7.5);
    /* ... and the bar that arrives next for that time is not closed again */
    feed_du(c, cs, 3, t0 + 180, 9.0, t0 + 240);
    feed_du(c, cs, 4, t0 + 240, 10.0, t0 + 300);
    assert_int_equal(next_ev(c, &ev), 1);
    assert_int_equal(ev.type, TVK_EV_BAR_UPDATE);
    assert_int_equal(ev.bar.time, t0 + 240);
    assert_int_equal(next_ev(c, &ev), 0);
    /* closing the series drops its queued events */
    feed_du(c, cs, 4, t0 + 240, 11.0, t0 + 300);
    tvk_series_close(s);
    assert_int_equal(next_ev(c, &ev), 0);
    cap_clear(&cap);
    tvk_conn_free(c);
}

/* ---------------------------------------------------------------- quotes */

static void test_quotes(void **st)
{
    (void)st;
    capture cap = {0};
    tvk_conn *c = test_conn(&cap, 0, 0);
    tvk_quotes *q;
    int tag;
    assert_int_equal(tvk_quotes_open(c, NULL, NULL, 0, &tag, &q), 0);
    const char *qs = tvk_quotes_session(q);
    char want[1024];
    snprintf(want, sizeof want, "{\"m\":\"quote_create_session\",\"p\":[\"%s\"]}", qs);
    assert_string_equal(payload(cap.msg[1]), want);
    snprintf(want, sizeof want, "{\"m\":\"quote_set_fields\",\"p\":[\"%s\"," FIELDS "]}", qs);
    assert_string_equal(payload(cap.msg[2]), want);
    const char *syms[] = {"NASDAQ:AAPL", "FOREX:EURUSD", "BINANCE:BTCUSDT", "NASDAQ:AAPL"};
    assert_int_equal(tvk_quotes_add(q, syms, 4), 0);
    assert_int_equal(tvk_quotes_count(q), 3);
    snprintf(want, sizeof want,
             "{\"m\":\"quote_add_symbols\",\"p\":[\"%s\",\"NASDAQ:AAPL\",\"FOREX:EURUSD\","
             "\"BINANCE:BTCUSDT\"]}",
             qs);
    assert_string_equal(payload(cap.msg[3]), want);
    assert_non_null(strstr(payload(cap.msg[4]), "quote_fast_symbols"));
    const char *bad[] = {"NASDAQ:MSFT", "nope"};
    assert_int_equal(tvk_quotes_add(q, bad, 2), TVK_ESYMBOL);
    assert_int_equal(tvk_quotes_count(q), 3);

    feedf(c,
          "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"NASDAQ:AAPL\",\"s\":\"ok\",\"v\":{\"lp\":189.5,"
          "\"ch\":1.25,\"description\":\"Apple Inc.\",\"volume\":1e+100}}]}",
          qs);
    feedf(c,
          "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"FOREX:EURUSD\",\"s\":\"error\",\"errmsg\":"
          "\"no_such_symbol\",\"v\":{}}]}",
          qs);
    feedf(c, "{\"m\":\"quote_completed\",\"p\":[\"%s\",\"NASDAQ:AAPL\"]}", qs);
    feedf(c,
          "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"BINANCE:BTCUSDT\",\"s\":\"ok\",\"v\":{\"lp\":"
          "50000}}]}",
          qs);
    /* a delta for AAPL: merged, and coalesced with the queued event */
    feedf(c,
          "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"NASDAQ:AAPL\",\"s\":\"ok\",\"v\":{\"lp\":190}}]}",
          qs);
    tvk_event ev;
    assert_int_equal(next_ev(c, &ev), 1);
    assert_int_equal(ev.type, TVK_EV_QUOTE);
    assert_ptr_equal(ev.user, &tag);
    assert_string_equal(ev.quote->symbol, "NASDAQ:AAPL");
    assert_int_equal(ev.quote->updates, 2);
    assert_int_equal(ev.quote->complete, 1);
    double v;
    assert_int_equal(tvk_quote_number(ev.quote, "lp", &v), 0);
    assert_true(v == 190.0);
    assert_int_equal(tvk_quote_number(ev.quote, "ch", &v), 0);
    assert_true(v == 1.25);
    assert_int_equal(tvk_quote_number(ev.quote, "volume", &v), 0);
    assert_true(isnan(v));
    char buf[64];
    assert_int_equal(tvk_quote_string(ev.quote, "description", buf, sizeof buf), 0);
    assert_string_equal(buf, "Apple Inc.");
    assert_int_equal(tvk_quote_number(ev.quote, "description", &v), TVK_ESHAPE);
    assert_int_equal(tvk_quote_number(ev.quote, "bid", &v), TVK_ENOTFOUND);
    tvk_buf j;
    tvk_buf_init(&j);
    assert_int_equal(tvk_quote_to_json(ev.quote, &j), 0);
    assert_string_equal(j.data, "{\"symbol\":\"NASDAQ:AAPL\",\"status\":\"ok\",\"lp\":190,\"ch\":"
                                "1.25,\"description\":\"Apple Inc.\",\"volume\":1e+100}");
    tvk_buf_free(&j);

    assert_int_equal(next_ev(c, &ev), 1);
    assert_int_equal(ev.type, TVK_EV_ERROR);
    assert_int_equal(ev.error, TVK_ESYMBOL);
    assert_string_equal(ev.symbol, "FOREX:EURUSD");
    assert_non_null(strstr(ev.errmsg, "no_such_symbol"));
    assert_int_equal(ev.quote->status, TVK_QUOTE_ERROR);
    assert_int_equal(next_ev(c, &ev), 1);
    assert_int_equal(ev.type, TVK_EV_QUOTE);
    assert_string_equal(ev.symbol, "BINANCE:BTCUSDT");
    assert_int_equal(next_ev(c, &ev), 0);
    /* other symbols keep going after one failed */
    feedf(c,
          "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"BINANCE:BTCUSDT\",\"s\":\"ok\",\"v\":{\"lp\":"
          "50001}}]}",
          qs);
    assert_int_equal(next_ev(c, &ev), 1);
    assert_int_equal(tvk_quote_number(tvk_quotes_get(q, "BINANCE:BTCUSDT"), "lp", &v), 0);
    assert_true(v == 50001.0);

    /* raw UTF-8 from the server: kept as text, serialised as ASCII */
    feedf(c,
          "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"BINANCE:BTCUSDT\",\"s\":\"ok\",\"v\":{"
          "\"local_description\":\"Vi\xe1\xbb\x87t \\\"q\\\"\"}}]}",
          qs);
    const tvk_quote *bq = tvk_quotes_get(q, "BINANCE:BTCUSDT");
    assert_int_equal(tvk_quote_string(bq, "local_description", buf, sizeof buf), 0);
    assert_string_equal(buf, "Vi\xe1\xbb\x87t \"q\"");
    tvk_buf_init(&j);
    assert_int_equal(tvk_quote_to_json(bq, &j), 0);
    assert_string_equal(j.data, "{\"symbol\":\"BINANCE:BTCUSDT\",\"status\":\"ok\",\"lp\":50001,"
                                "\"local_description\":\"Vi\\u1ec7t \\\"q\\\"\"}");
    tvk_buf_free(&j);
    assert_int_equal(next_ev(c, &ev), 1);

    const char *rm[] = {"BINANCE:BTCUSDT"};
    assert_int_equal(tvk_quotes_remove(q, rm, 1), 0);
    assert_null(tvk_quotes_get(q, "BINANCE:BTCUSDT"));
    assert_non_null(tvk_quotes_get(q, "NASDAQ:AAPL"));
    assert_non_null(strstr(payload(cap.msg[cap.n - 1]), "quote_remove_symbols"));
    tvk_quotes_close(q);
    assert_non_null(strstr(payload(cap.msg[cap.n - 1]), "quote_delete_session"));
    cap_clear(&cap);
    tvk_conn_free(c);
}

/* The snapshot line after thousands of deltas that change values to longer and shorter texts
 * (first, middle and last fields), skip fields and add new ones: always exactly what the public
 * field view says, in order. */
static void test_quote_line_after_deltas(void **state)
{
    (void)state;
    capture cap = {0};
    tvk_conn *c = test_conn(&cap, 0, 0);
    tvk_quotes *q;
    assert_int_equal(tvk_quotes_open(c, NULL, NULL, 0, NULL, &q), 0);
    const char *qs = tvk_quotes_session(q);
    const char *syms[] = {"NASDAQ:AAPL"};
    assert_int_equal(tvk_quotes_add(q, syms, 1), 0);
    tvk_buf line, want;
    tvk_buf_init(&line);
    tvk_buf_init(&want);
    /* An "ok" change with no fields: a line with none (the snapshot text is still empty). */
    feedf(c, "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"NASDAQ:AAPL\",\"s\":\"ok\",\"v\":{}}]}", qs);
    assert_int_equal(tvk_quote_to_json(tvk_quotes_get(q, "NASDAQ:AAPL"), &line), 0);
    assert_string_equal(line.data, "{\"symbol\":\"NASDAQ:AAPL\",\"status\":\"ok\"}");
    static const char *const names[] = {"lp", "ch", "description", "volume", "lp_time", "x9"};
    uint64_t x = 0x243F6A8885A308D3ULL;
    int nnames = 3; /* fields beyond these appear as the test goes */
    for (int round = 0; round < 3000; round++) {
        char v[512];
        size_t vl = 0;
        int any = 0;
        for (int k = 0; k < nnames; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            if (round && (x & 3) == 0) continue; /* not in this delta */
            char val[64];
            if (k == 2)
                snprintf(val, sizeof val, "\"%.*s\"", (int)((x >> 8) % 20), "abcdefghijklmnopqrst");
            else
                snprintf(val, sizeof val, "%llu.%llu", (unsigned long long)((x >> 4) % 100000),
                         (unsigned long long)((x >> 24) % 1000));
            vl += (size_t)snprintf(v + vl, sizeof v - vl, "%s\"%s\":%s", any ? "," : "", names[k],
                                   val);
            any = 1;
        }
        if (nnames < 6 && round % 700 == 699) nnames++;
        if (!any) continue;
        feedf(c, "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"NASDAQ:AAPL\",\"s\":\"ok\",\"v\":{%s}}]}",
              qs, v);
        tvk_event ev;
        while (next_ev(c, &ev))
            ;
        const tvk_quote *qt = tvk_quotes_get(q, "NASDAQ:AAPL");
        tvk_buf_reset(&line);
        assert_int_equal(tvk_quote_to_json(qt, &line), 0);
        tvk_buf_reset(&want);
        assert_int_equal(tvk_buf_puts(&want, "{\"symbol\":\"NASDAQ:AAPL\",\"status\":\"ok\""), 0);
        for (size_t i = 0; i < qt->nfields; i++) {
            assert_int_equal(tvk_buf_printf(&want, ",\"%s\":", qt->fields[i].name), 0);
            assert_int_equal(tvk_buf_append(&want, qt->fields[i].json, qt->fields[i].json_len), 0);
        }
        assert_int_equal(tvk_buf_puts(&want, "}"), 0);
        if (strcmp(line.data, want.data))
            fail_msg("round %d:\n got  %s\n want %s", round, line.data, want.data);
    }
    assert_int_equal(tvk_quotes_get(q, "NASDAQ:AAPL")->nfields, 6);
    tvk_buf_free(&line);
    tvk_buf_free(&want);
    tvk_quotes_close(q);
    cap_clear(&cap);
    tvk_conn_free(c);
}

/* The quote book reads plain qsd packets without tokens (event API) and every packet through
 * tokens for tvk_conn_next: the same random stream (numbers of every form, 1e100, escaped and
 * raw UTF-8 strings, literals, and now and then a form the plain reader leaves alone) gives
 * the same snapshot lines either way. */
static void test_quotes_plain_same_as_tokens(void **state)
{
    (void)state;
    static const char *const vals[] = {"1",
                                       "-0",
                                       "1e100",
                                       "2.5E+3",
                                       "123456789012345678901234",
                                       "0.1",
                                       "864.61",
                                       "1e999",
                                       "-12.5e-3",
                                       "\"market\"",
                                       "\"caf\\u00e9\"",
                                       "\"\xc3\xa9t\xc3\xa9\"",
                                       "\"a\\\"b\"",
                                       "true",
                                       "false",
                                       "null",
                                       "\"\""};
    static const char *const names[] = {"lp",          "ch",        "chp",        "volume",
                                        "description", "k\\u0065y", "is_tradable"};
    capture cap[2];
    memset(cap, 0, sizeof cap);
    tvk_conn *c[2];
    tvk_quotes *q[2];
    const char *syms[] = {"NASDAQ:AAPL", "SIM:B"};
    for (int k = 0; k < 2; k++) {
        c[k] = test_conn(&cap[k], 0, 0);
        assert_int_equal(tvk_quotes_open(c[k], NULL, NULL, 0, NULL, &q[k]), 0);
        assert_int_equal(tvk_quotes_add(q[k], syms, 2), 0);
    }
    uint64_t x = 0x3C6EF372FE94F82BULL;
    tvk_buf v, pkt, framed, line[2];
    tvk_buf_init(&v);
    tvk_buf_init(&pkt);
    tvk_buf_init(&framed);
    tvk_buf_init(&line[0]);
    tvk_buf_init(&line[1]);
    int plain = 0, other = 0;
    for (int round = 0; round < 4000; round++) {
        tvk_buf_reset(&v);
        int nf = 1 + (int)(round % 5);
        for (int i = 0; i < nf; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            tvk_buf_printf(&v, "%s\"%s\":%s", i ? "," : "",
                           names[x % (sizeof names / sizeof *names)],
                           vals[(x >> 8) % (sizeof vals / sizeof *vals)]);
        }
        if ((x >> 20) % 9 == 0) tvk_buf_puts(&v, ",\"o\":{\"a\":[1,2]}"); /* not plain */
        const char *sym = syms[(x >> 30) & 1];
        for (int k = 0; k < 2; k++) {
            tvk_buf_reset(&pkt);
            tvk_buf_printf(&pkt,
                           "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"%s\",\"s\":\"ok\",\"v\":{%s}}]}",
                           tvk_quotes_session(q[k]), sym, v.data);
            if (k == 0) {
                tvk_qsd_plain qp;
                if (tvk_qsd_plain_parse(pkt.data, pkt.len, &qp))
                    plain++;
                else
                    other++;
            }
            tvk_buf_reset(&framed);
            assert_int_equal(tvk_frame(&framed, pkt.data, pkt.len), 0);
            assert_int_equal(k ? tvk__conn_feed_tokens(c[k], framed.data, framed.len)
                               : tvk__conn_feed(c[k], framed.data, framed.len),
                             1);
            tvk_event ev;
            while (next_ev(c[k], &ev))
                ;
            tvk_buf_reset(&line[k]);
            assert_int_equal(tvk_quote_to_json(tvk_quotes_get(q[k], sym), &line[k]), 0);
        }
        if (strcmp(line[0].data, line[1].data))
            fail_msg("round %d (%s):\n plain  %s\n tokens %s", round, v.data, line[0].data,
                     line[1].data);
        const tvk_quote *a = tvk_quotes_get(q[0], sym), *b = tvk_quotes_get(q[1], sym);
        assert_int_equal(a->nfields, b->nfields);
        for (size_t i = 0; i < a->nfields; i++) {
            double na = a->fields[i].num, nb = b->fields[i].num;
            assert_true((na != na && nb != nb) || !memcmp(&na, &nb, sizeof na));
        }
    }
    assert_true(plain > 3000 && other > 100);
    for (int k = 0; k < 2; k++) {
        tvk_conn_stats st;
        tvk_conn_get_stats(c[k], &st);
        assert_int_equal(st.packets_in, 4000);
        assert_int_equal(st.parse_errors, 0);
        tvk_quotes_close(q[k]);
        cap_clear(&cap[k]);
        tvk_conn_free(c[k]);
    }
    tvk_buf_free(&v);
    tvk_buf_free(&pkt);
    tvk_buf_free(&framed);
    tvk_buf_free(&line[0]);
    tvk_buf_free(&line[1]);
}

/* A quote set whose options (currency USD, session) make every symbol an "=" spec. */
static tvk_quotes *open_spec_quotes(tvk_conn *c, tvk_session_kind session)
{
    tvk_req_opts o;
    memset(&o, 0, sizeof o);
    o.currency = "USD";
    o.session = session;
    tvk_quotes *q;
    assert_int_equal(tvk_quotes_open(c, &o, NULL, 0, NULL, &q), 0);
    return q;
}

static void test_quotes_spec_keys(void **st)
{
    (void)st;
    capture cap = {0};
    tvk_conn *c = test_conn(&cap, 0, 0);
    tvk_quotes *q = open_spec_quotes(c, TVK_SESSION_REGULAR);
    const char *syms[] = {"BINANCE:BTCUSDT"};
    assert_int_equal(tvk_quotes_add(q, syms, 1), 0);
    assert_non_null(strstr(cap.msg[cap.n - 2], "\"={\\\"adjustment\\\":\\\"splits\\\""));
    /* the server echoes the key compactly; it still finds its symbol */
    feedf(
        c,
        "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"={\\\"adjustment\\\":\\\"splits\\\",\\\"currency-"
        "id\\\":\\\"USD\\\",\\\"session\\\":\\\"regular\\\",\\\"symbol\\\":\\\"BINANCE:BTCUSDT\\\""
        "}\",\"s\":\"ok\",\"v\":{\"lp\":1}}]}",
        tvk_quotes_session(q));
    tvk_event ev;
    assert_int_equal(next_ev(c, &ev), 1);
    assert_int_equal(ev.type, TVK_EV_QUOTE);
    assert_string_equal(ev.symbol, "BINANCE:BTCUSDT");
    tvk_quotes_close(q);
    cap_clear(&cap);
    tvk_conn_free(c);
}

/* Symbols added as "=" specs are indexed under two keys (the spec and the symbol): the index
 * must keep free slots for them too, or a lookup of a key it does not hold never ends. 8 such
 * symbols filled a 16-slot table; alarm() turns a hang into a failure. */
static void test_quotes_spec_keys_index_room(void **st)
{
    (void)st;
    capture cap = {0};
    tvk_conn *c = test_conn(&cap, 0, 0);
    tvk_quotes *q = open_spec_quotes(c, TVK_SESSION_UNSET);
    char names[40][16];
    const char *syms[40];
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "SIM:K%d", i);
        syms[i] = names[i];
    }
    alarm(20);
    for (int n = 1; n <= 40; n++) {
        assert_int_equal(tvk_quotes_add(q, syms + n - 1, 1), 0);
        feedf(c,
              "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"SIM:NOPE\",\"s\":\"ok\",\"v\":{\"lp\":1}}]}",
              tvk_quotes_session(q));
        assert_null(tvk_quotes_get(q, "SIM:NOPE"));
        assert_non_null(tvk_quotes_get(q, names[n - 1]));
    }
    alarm(0);
    tvk_event ev;
    while (next_ev(c, &ev))
        assert_int_not_equal(ev.type, TVK_EV_QUOTE);
    tvk_quotes_close(q);
    cap_clear(&cap);
    tvk_conn_free(c);
}

static void test_many_quotes_index(void **st)
{
    (void)st;
    capture cap = {0};
    tvk_conn *c = test_conn(&cap, 0, 0);
    tvk_quotes *q;
    assert_int_equal(tvk_quotes_open(c, NULL, NULL, 0, NULL, &q), 0);
    char names[300][16];
    const char *syms[300];
    for (int i = 0; i < 300; i++) {
        snprintf(names[i], sizeof names[i], "SIM:S%d", i);
        syms[i] = names[i];
    }
    assert_int_equal(tvk_quotes_add(q, syms, 150), 0);
    assert_int_equal(tvk_quotes_add(q, syms + 100, 200), 0);
    assert_int_equal(tvk_quotes_count(q), 300);
    for (int i = 299; i >= 0; i--)
        feedf(c, "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"%s\",\"s\":\"ok\",\"v\":{\"lp\":%d}}]}",
              tvk_quotes_session(q), names[i], i);
    for (int i = 0; i < 300; i++) {
        double v;
        assert_int_equal(tvk_quote_number(tvk_quotes_get(q, names[i]), "lp", &v), 0);
        assert_true(v == (double)i);
    }
    tvk_event ev;
    int n = 0;
    while (next_ev(c, &ev))
        n++;
    assert_int_equal(n, 300);
    tvk_quotes_close(q);
    cap_clear(&cap);
    tvk_conn_free(c);
}

/* A server may escape any character of a name ("\u003a" for ':'): such a name is unescaped
 * before the lookup, wherever its backslash lies (the check reads 8 to 16 bytes as two
 * overlapping words, shorter and longer names byte by byte); names without one are looked up
 * as they are, and one that names nothing subscribed is ignored. */
static void test_quotes_escaped_names(void **st)
{
    (void)st;
    capture cap = {0};
    tvk_conn *c = test_conn(&cap, 0, 0);
    tvk_quotes *q;
    assert_int_equal(tvk_quotes_open(c, NULL, NULL, 0, NULL, &q), 0);
    const char *syms[] = {"SIM:F000", "NASDAQ:AAPL", "A:B/C", "NYSE:BRK.B", "BINANCE:BTCUSDT.P"};
    assert_int_equal(tvk_quotes_add(q, syms, 5), 0);
    static const struct {
        const char *wire; /* the "n" as sent (JSON string body) */
        const char *sym;  /* the symbol it names, NULL = none */
    } cases[] = {
        {"SIM:F000", "SIM:F000"},                         /* 8 bytes, plain */
        {"\\u0053IM:F000", "SIM:F000"},                   /* 13: backslash in the first word only */
        {"NASDAQ:AAP\\u004c", "NASDAQ:AAPL"},             /* 16: in the second word only */
        {"NASDAQ\\u003aAAPL", "NASDAQ:AAPL"},             /* 16: in both */
        {"A:B\\/C", "A:B/C"},                             /* 6: below the word test */
        {"NYSE:BRK\\/B", NULL},                           /* 11: "NYSE:BRK/B", not subscribed */
        {"NYSE:BRK\\u002eB", "NYSE:BRK.B"},               /* 15 */
        {"BINANCE:BTCUSDT\\u002eP", "BINANCE:BTCUSDT.P"}, /* 22: above the word test */
        {"SIM:F00\\\\", NULL},                            /* "SIM:F00\" */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        feedf(c, "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"%s\",\"s\":\"ok\",\"v\":{\"lp\":%zu}}]}",
              tvk_quotes_session(q), cases[i].wire, i + 1);
        tvk_event ev;
        if (!cases[i].sym) {
            assert_int_equal(next_ev(c, &ev), 0);
            continue;
        }
        if (next_ev(c, &ev) != 1) fail_msg("\"%s\": no event", cases[i].wire);
        assert_int_equal(ev.type, TVK_EV_QUOTE);
        if (strcmp(ev.symbol, cases[i].sym))
            fail_msg("\"%s\": routed to %s, not %s", cases[i].wire, ev.symbol, cases[i].sym);
        double v;
        assert_int_equal(tvk_quote_number(ev.quote, "lp", &v), 0);
        assert_true(v == (double)(i + 1));
        assert_int_equal(next_ev(c, &ev), 0);
    }
    tvk_quotes_close(q);
    cap_clear(&cap);
    tvk_conn_free(c);
}

static void test_request_options(void **st)
{
    (void)st;
    capture cap = {0};
    tvk_conn *c = test_conn(&cap, 0, 0);
    tvk_series_req r;
    tvk_series_req_init(&r);
    r.symbol = "NASDAQ:AAPL";
    r.interval = "4H";
    r.count = 10;
    r.opts.adjustment = TVK_ADJ_DIVIDENDS;
    r.opts.session = TVK_SESSION_EXTENDED;
    r.opts.currency = "EUR";
    r.opts.backadjustment = "default";
    r.opts.token = "jwt.token.x";
    tvk_series *s;
    assert_int_equal(tvk_series_open(c, &r, &s), 0);
    const char *cs = tvk_series_chart_session(s);
    assert_string_equal(payload(cap.msg[0]), "{\"m\":\"set_auth_token\",\"p\":[\"jwt.token.x\"]}");
    char want[512];
    snprintf(want, sizeof want,
             "{\"m\":\"resolve_symbol\",\"p\":[\"%s\",\"sds_sym_1\",\"={\\\"adjustment\\\":"
             "\\\"dividends\\\",\\\"backadjustment\\\":\\\"default\\\",\\\"currency-id\\\":"
             "\\\"EUR\\\",\\\"session\\\":\\\"extended\\\",\\\"symbol\\\":\\\"NASDAQ:AAPL\\\"}\"]}",
             cs);
    assert_string_equal(payload(cap.msg[2]), want);
    assert_non_null(strstr(cap.msg[3], "\"240\",10,\"\"]"));
    tvk_series_close(s);
    /* the same token is not sent again; the handle's own token is, when it differs */
    size_t before = cap.n;
    assert_int_equal(tvk_series_open(c, &r, &s), 0);
    assert_null(strstr(cap.msg[before], "set_auth_token"));
    tvk_series_close(s);
    r.opts.token = NULL;
    before = cap.n;
    assert_int_equal(tvk_series_open(c, &r, &s), 0);
    assert_string_equal(payload(cap.msg[before]),
                        "{\"m\":\"set_auth_token\",\"p\":[\"unauthorized_user_token\"]}");
    tvk_series_close(s);
    cap_clear(&cap);
    tvk_conn_free(c);
}

static void test_quote_timeout(void **st)
{
    (void)st;
    capture cap = {0};
    tvk_conn *c = test_conn(&cap, 0, 40);
    tvk_quotes *q;
    assert_int_equal(tvk_quotes_open(c, NULL, NULL, 0, NULL, &q), 0);
    const char *syms[] = {"SIM:A", "SIM:B"};
    assert_int_equal(tvk_quotes_add(q, syms, 2), 0);
    feedf(c, "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"SIM:A\",\"s\":\"ok\",\"v\":{\"lp\":1}}]}",
          tvk_quotes_session(q));
    tvk_event ev;
    assert_int_equal(tvk_conn_next_event(c, &ev, 0), 1);
    assert_int_equal(ev.type, TVK_EV_QUOTE);
    int64_t start = tvk_now_ms();
    int rc = 0;
    while (rc == 0 && tvk_now_ms() - start < 5000)
        rc = tvk_conn_next_event(c, &ev, 0);
    assert_int_equal(rc, 1);
    assert_int_equal(ev.type, TVK_EV_ERROR);
    assert_int_equal(ev.error, TVK_ETIMEDOUT);
    assert_string_equal(ev.symbol, "SIM:B");
    assert_int_equal(tvk_quotes_get(q, "SIM:A")->status, TVK_QUOTE_OK);
    assert_int_equal(tvk_quotes_get(q, "SIM:B")->status, TVK_QUOTE_ERROR);
    tvk_quotes_close(q);
    cap_clear(&cap);
    tvk_conn_free(c);
}

typedef struct runlog {
    int n;
    tvk_event_type types[8];
} runlog;

static int on_event(void *user, const tvk_event *ev)
{
    runlog *l = user;
    l->types[l->n++] = ev->type;
    return l->n == 2;
}

/* Reliability options: defaults, normalisation, and the state of a test handle. */
static void test_reconnect_options(void **st)
{
    (void)st;
    tvk_conn_opts o;
    tvk_conn_opts_init(&o);
    assert_int_equal(o.reconnect, 0); /* the seed does not reconnect */
    assert_int_equal(o.reconnect_attempts, 0);
    assert_int_equal(o.reconnect_delay_ms, 1000);
    assert_int_equal(o.reconnect_max_delay_ms, 30000);
    assert_int_equal(o.silence_timeout_ms, 60000);
    assert_int_equal(o.data_timeout_ms, 0);
    assert_int_equal(o.max_events, 65536);
    o.reconnect = 1;
    o.reconnect_delay_ms = 0;      /* -> 1000 */
    o.reconnect_max_delay_ms = 10; /* below the first delay -> 30000 */
    o.reconnect_attempts = -3;     /* -> unlimited */
    o.silence_timeout_ms = -1;     /* -> off */
    o.max_events = 0;              /* -> 65536 */
    tvk_conn *c = tvk_conn_new_opts(&o);
    assert_non_null(c);
    assert_int_equal(c->o.reconnect_delay_ms, 1000);
    assert_int_equal(c->o.reconnect_max_delay_ms, 30000);
    assert_int_equal(c->o.reconnect_attempts, 0);
    assert_int_equal(c->o.silence_timeout_ms, 0);
    assert_int_equal(c->o.max_events, 65536);
    /* never connected: no deadline, no reconnect to wait for */
    assert_int_equal(tvk_conn_deadline(c), -1);
    assert_int_equal(tvk_conn_get_state(c), TVK_CONN_IDLE);
    tvk_conn_free(c);
    assert_string_equal(tvk_event_type_name(TVK_EV_DISCONNECTED), "disconnected");
    assert_string_equal(tvk_event_type_name(TVK_EV_RECONNECTING), "reconnecting");
    assert_string_equal(tvk_event_type_name(TVK_EV_RECONNECTED), "reconnected");
}

static void test_run_callback(void **st)
{
    (void)st;
    capture cap = {0};
    tvk_conn *c = test_conn(&cap, 0, 0);
    tvk_series *s = open_series(c, "SIM:X", "1", 2, 1);
    const char *cs = tvk_series_chart_session(s);
    const int64_t t0 = 1800000000;
    feed_bars(c, cs, t0, 60, 0, 2, 0, t0 + 120 - 1);
    feed_completed(c, cs, NULL);
    feed_du(c, cs, 2, t0 + 120, 3.0, t0 + 179);
    feed_du(c, cs, 3, t0 + 180, 4.0, t0 + 239);
    runlog l = {0};
    /* stops when the callback says so, with the rest still queued */
    assert_int_equal(tvk_conn_run(c, 0, on_event, &l), 1);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.types[0], TVK_EV_HISTORY);
    assert_int_equal(l.types[1], TVK_EV_BAR_CLOSE);
    l.n = 0;
    assert_int_equal(tvk_conn_run(c, 0, on_event, &l), 1);
    assert_int_equal(l.types[0], TVK_EV_BAR_UPDATE);
    assert_int_equal(l.types[1], TVK_EV_BAR_CLOSE);
    tvk_series_close(s);
    cap_clear(&cap);
    tvk_conn_free(c);
}

/* ---------------------------------------------------------------- real traffic */

static const char *captures_dir;

/* The browser capture (prodata, NSE:JUNIPER 1D in chart session cs_68z3mne9l3wQ): the client's
 * history and live bars of that series, fed every captured message, against the sds_1 bars
 * collected independently with the wire reader. */
static void test_capture_series(void **st)
{
    (void)st;
    if (!captures_dir) skip();
    char path[1024];
    snprintf(path, sizeof path, "%s/stock-tools_trading-chart_har_server_to_client.txt",
             captures_dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    capture cap = {0};
    tvk_conn *c = test_conn(&cap, 0, 0);
    tvk_series *s = open_series(c, "NSE:JUNIPER", "1D", 100000, 1);
    snprintf(s->cs, sizeof s->cs, "%s", "cs_68z3mne9l3wQ"); /* the capture's session */

    tvk_reader *rd = tvk_reader_new(0);
    int64_t *want = calloc(100000, sizeof *want);
    size_t nwant = 0;
    int history_done = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    tvk_event ev;
    size_t nbars = 0, updates = 0;
    while ((len = getline(&line, &lcap, f)) > 0) {
        if (line[len - 1] == '\n') line[--len] = '\0';
        /* independent path: sds_1 bars of the first completion, straight from the views */
        assert_int_equal(tvk_reader_feed(rd, line, (size_t)len), 0);
        tvk_msg m;
        while (tvk_reader_next_msg(rd, &m) > 0) {
            if (history_done || m.type != TVK_MSG_TIMESCALE_UPDATE) continue;
            if (m.session.len != 15 || memcmp(m.session.p, "cs_68z3mne9l3wQ", 15)) continue;
            tvk_series_update u;
            if (tvk_msg_series(&m, "sds_1", &u) != 0) continue;
            tvk_bar b;
            while (tvk_bar_next(&u.bars, &b) > 0)
                want[nwant++] = (int64_t)llround(b.time);
        }
        tvk__conn_feed(c, line, (size_t)len);
        while (next_ev(c, &ev)) {
            if (ev.type == TVK_EV_HISTORY) {
                history_done = 1;
                nbars = ev.nbars;
                assert_int_equal(ev.ended, 1); /* 100000 asked, one page, then none */
            } else {
                assert_int_equal(ev.type, TVK_EV_BAR_UPDATE);
                assert_true(history_done);
                updates++;
            }
        }
        /* the one page it had was answered by nothing more: the capture ends, so the client's
         * request_more_data for more history is answered here with an empty completion */
        if (!history_done && find_sent(&cap, "request_more_data", 0) && cap.n) {
            feed_completed(c, "cs_68z3mne9l3wQ", NULL);
            while (next_ev(c, &ev)) {
                assert_int_equal(ev.type, TVK_EV_HISTORY);
                history_done = 1;
                nbars = ev.nbars;
            }
        }
    }
    assert_true(nwant > 100);
    assert_int_equal(nbars, nwant);
    const tvk_ohlcv *bars;
    size_t n;
    int ended;
    tvk_series_bars(s, &bars, &n, &ended);
    assert_int_equal(n, nwant);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(bars[i].time, want[i]); /* the capture's bars were already ascending */
    /* the capture's later du and timescale_update of that session carry studies only: no bar */
    assert_int_equal(updates, 0);
    free(line);
    free(want);
    fclose(f);
    tvk_reader_free(rd);
    tvk_series_close(s);
    cap_clear(&cap);
    tvk_conn_free(c);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interval),
        cmocka_unit_test(test_symbol),
        cmocka_unit_test(test_seed_initialize),
        cmocka_unit_test(test_seed_add_symbol),
        cmocka_unit_test(test_seed_add_multiple),
        cmocka_unit_test(test_heartbeat_echo_anywhere),
        cmocka_unit_test(test_next_not_connected),
        cmocka_unit_test(test_history_paging),
        cmocka_unit_test(test_release_idle_buffers),
        cmocka_unit_test(test_history_exact_count),
        cmocka_unit_test(test_history_range),
        cmocka_unit_test(test_history_errors),
        cmocka_unit_test(test_history_timeout),
        cmocka_unit_test(test_live_bars),
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_quote_line_after_deltas),
        cmocka_unit_test(test_quotes_plain_same_as_tokens),
        cmocka_unit_test(test_quotes_spec_keys),
        cmocka_unit_test(test_many_quotes_index),
        cmocka_unit_test(test_quotes_spec_keys_index_room),
        cmocka_unit_test(test_quotes_escaped_names),
        cmocka_unit_test(test_request_options),
        cmocka_unit_test(test_quote_timeout),
        cmocka_unit_test(test_run_callback),
        cmocka_unit_test(test_reconnect_options),
        cmocka_unit_test(test_capture_series),
    };
    captures_dir = argc > 1 ? argv[1] : NULL;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
