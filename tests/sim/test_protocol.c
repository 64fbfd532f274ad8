/* tvkit-sim against a client made of the net client role + the wire reader: handshake, hello,
 * heartbeats, chart sessions (history, paging, ranges, limits, errors), quote sessions, live
 * data on the shared clock, batching and compression. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define START "1717432200" /* Monday 2024-06-03 16:30 UTC: US session open */
#define WAIT 5000

static void connect_ok(hs_sim *s, hs_client *c)
{
    assert_int_equal(hs_connect(c, s->url, NULL, 0, 1, 0), 0);
}

/* Sends the chart-session preamble and create_series. */
static void chart(hs_client *c, const char *cs, const char *sym, const char *res, int count,
                  const char *range)
{
    char p[512];
    assert_int_equal(hs_send(c, "set_auth_token", "[\"unauthorized_user_token\"]"), 0);
    snprintf(p, sizeof p, "[\"%s\",\"\"]", cs);
    assert_int_equal(hs_send(c, "chart_create_session", p), 0);
    snprintf(p, sizeof p,
             "[\"%s\",\"sds_sym_1\",\"={\\\"adjustment\\\": \\\"splits\\\", \\\"symbol\\\": "
             "\\\"%s\\\"}\"]",
             cs, sym);
    assert_int_equal(hs_send(c, "resolve_symbol", p), 0);
    snprintf(p, sizeof p, "[\"%s\",\"sds_1\",\"s1\",\"sds_sym_1\",\"%s\",%d,\"%s\"]", cs, res,
             count, range);
    assert_int_equal(hs_send(c, "create_series", p), 0);
}

typedef struct page {
    int nbars;
    int64_t first_index, last_index;
    double first_time, last_time;
    double times[6000];
    double close[6000];
    int five_values;
    char data_completed[16];
    int64_t rt;
} page;

/* Reads until series_completed, collecting the bars of timescale_updates for sds_1. */
static void read_page(hs_client *c, page *pg)
{
    memset(pg, 0, sizeof *pg);
    tvk_msg m;
    for (;;) {
        int rc = hs_next(c, &m, WAIT);
        assert_int_equal(rc, 1);
        if (m.type == TVK_MSG_TIMESCALE_UPDATE) {
            tvk_series_update su;
            assert_int_equal(tvk_msg_series(&m, "sds_1", &su), 0);
            tvk_bar b;
            while (tvk_bar_next(&su.bars, &b) == 1) {
                if (pg->nbars == 0) pg->first_index = b.index, pg->first_time = b.time;
                if (pg->nbars < 6000) {
                    pg->times[pg->nbars] = b.time;
                    pg->close[pg->nbars] = b.close;
                }
                pg->last_index = b.index;
                pg->last_time = b.time;
                pg->five_values += isnan(b.volume);
                pg->nbars++;
            }
        } else if (m.type == TVK_MSG_SERIES_COMPLETED) {
            tvk_series_completed sc;
            assert_int_equal(tvk_msg_series_completed(&m, &sc), 0);
            snprintf(pg->data_completed, sizeof pg->data_completed, "%.*s",
                     (int)sc.data_completed.len, sc.data_completed.p);
            pg->rt = sc.rt_update_period;
            return;
        } else if (m.type == TVK_MSG_CRITICAL_ERROR || m.type == TVK_MSG_PROTOCOL_ERROR ||
                   m.type == TVK_MSG_SERIES_ERROR || m.type == TVK_MSG_SYMBOL_ERROR) {
            fail_msg("unexpected %s", tvk_msg_type_name(m.type));
        }
    }
}

static void test_hello_and_history(void **st)
{
    (void)st;
    hs_sim s;
    hs_client c;
    const char *args[] = {"--start", START, "--seed", "5", NULL};
    assert_int_equal(hs_start(&s, args), 0);
    assert_non_null(strstr(s.url, "ws://127.0.0.1:"));
    assert_non_null(strstr(s.url, "/socket.io/websocket"));
    connect_ok(&s, &c);
    tvk_msg m;
    assert_int_equal(hs_next(&c, &m, WAIT), 1);
    assert_int_equal(m.type, TVK_MSG_HELLO); /* the very first packet */
    tvk_hello h;
    assert_int_equal(tvk_msg_hello(&m, &h), 0);
    assert_true(h.session_id.len > 0);
    chart(&c, "cs_abcdefghijkl", "NASDAQ:AAPL", "1D", 300, "");
    /* series_loading and symbol_resolved come before the bars. */
    assert_int_equal(hs_wait(&c, "symbol_resolved", &m, WAIT), 1);
    tvk_symbol_info si;
    assert_int_equal(tvk_msg_symbol_resolved(&m, &si), 0);
    assert_int_equal(si.pricescale, 100);
    assert_int_equal(si.has_intraday, 1);
    uint64_t msgs_before = c.messages;
    page pg;
    read_page(&c, &pg);
    assert_int_equal(pg.nbars, 300);
    assert_int_equal(pg.first_index, 0);
    assert_int_equal(pg.last_index, 299);
    assert_int_equal(pg.five_values, 0);
    assert_string_equal(pg.data_completed, "limit");
    assert_int_equal(pg.rt, 1);
    /* Batched: the whole answer came in at most one more WebSocket message. */
    assert_true(c.messages - msgs_before <= 1);
    for (int i = 0; i < 300; i++) {
        int64_t t = (int64_t)pg.times[i];
        assert_int_equal(t % 86400, 52200); /* 14:30 UTC, the session open */
        assert_true(((t / 86400 + 3) % 7) < 5);
        if (i) assert_true(pg.times[i] > pg.times[i - 1]);
    }
    assert_true(pg.last_time == 1717432200.0 - 7200); /* today's bar, opened at 14:30 */
    hs_close(&c);
    assert_int_equal(hs_stop(&s), 0);
}

/* The client's first message in the same TCP segment as the upgrade request: the hello must
 * still be the first packet (regression: the answer once went out before it). */
static void test_hello_first_when_pipelined(void **st)
{
    (void)st;
    hs_sim s;
    assert_int_equal(hs_start(&s, NULL), 0);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)s.port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    /* Answered at once (protocol_error: unknown session). */
    static const char pkt[] = "~m~43~m~{\"m\":\"quote_add_symbols\",\"p\":[\"q\",\"SIM:A\"]}";
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "GET /socket.io/websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                     "Origin: https://www.tradingview.com\r\n\r\n");
    req[n++] = (char)0x81;
    req[n++] = (char)(0x80 | (sizeof pkt - 1)); /* masked, key 0: payload as is */
    memset(req + n, 0, 4);
    n += 4;
    memcpy(req + n, pkt, sizeof pkt - 1);
    n += (int)sizeof pkt - 1;
    assert_int_equal(write(fd, req, (size_t)n), n);
    char buf[4096];
    size_t len = 0;
    int64_t end = tvk_now_ms() + WAIT;
    char *body = NULL;
    while (!body && tvk_now_ms() < end && len < sizeof buf - 1) {
        ssize_t k = read(fd, buf + len, sizeof buf - 1 - len);
        assert_true(k > 0);
        len += (size_t)k;
        buf[len] = 0;
        body = strstr(buf, "\r\n\r\n");
    }
    assert_non_null(body);
    assert_non_null(strstr(buf, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    body += 4;
    while ((size_t)(body - buf) + 8 > len) {
        ssize_t k = read(fd, buf + len, sizeof buf - 1 - len);
        assert_true(k > 0);
        len += (size_t)k;
    }
    /* First frame: a text frame whose payload is the hello packet. */
    assert_int_equal((unsigned char)body[0], 0x81);
    size_t hdr = ((unsigned char)body[1] & 0x7f) == 126 ? 4 : 2;
    assert_memory_equal(body + hdr, "~m~", 3);
    assert_non_null(memchr(body + hdr, '{', 12));
    assert_memory_equal(strchr(body + hdr, '{'), "{\"session_id\"", 13);
    close(fd);
    assert_int_equal(hs_stop(&s), 0);
}

static void test_origin_403(void **st)
{
    (void)st;
    hs_sim s;
    hs_client c;
    assert_int_equal(hs_start(&s, NULL), 0);
    tvk_header no_origin[] = {{"Origin", NULL}};
    assert_int_equal(hs_connect(&c, s.url, no_origin, 1, 1, 0), TVK_EHTTP_403);
    tvk_ws_info info;
    tvk_ws_get_info(c.ws, &info);
    assert_int_equal(info.http_status, 403);
    hs_close(&c);
    assert_int_equal(hs_stop(&s), 0);
}

static void test_paging_limits(void **st)
{
    (void)st;
    hs_sim s;
    hs_client c;
    const char *args[] = {"--start", START, "--history", "12000", "--max-bars", "5000", NULL};
    assert_int_equal(hs_start(&s, args), 0);
    connect_ok(&s, &c);
    chart(&c, "cs_paging", "BINANCE:BTCUSDT", "1D", 20000, "");
    page pg;
    read_page(&c, &pg);
    assert_int_equal(pg.nbars, 5000); /* --max-bars */
    assert_int_equal(pg.first_index, 0);
    assert_string_equal(pg.data_completed, "limit");
    double oldest = pg.first_time;
    assert_int_equal(hs_send(&c, "request_more_data", "[\"cs_paging\",\"sds_1\",5000]"), 0);
    read_page(&c, &pg);
    assert_int_equal(pg.nbars, 5000);
    assert_int_equal(pg.first_index, -5000);
    assert_int_equal(pg.last_index, -1);
    assert_true(pg.last_time == oldest - 86400); /* 24/7: the day before, no gap, no overlap */
    assert_int_equal(hs_send(&c, "request_more_data", "[\"cs_paging\",\"sds_1\",5000]"), 0);
    read_page(&c, &pg);
    assert_int_equal(pg.nbars, 2000); /* history ends at 12,000 bars */
    assert_int_equal(pg.first_index, -7000);
    assert_string_equal(pg.data_completed, "end");
    assert_int_equal(hs_send(&c, "request_more_data", "[\"cs_paging\",\"sds_1\",10]"), 0);
    read_page(&c, &pg);
    assert_int_equal(pg.nbars, 0);
    assert_string_equal(pg.data_completed, "end");
    hs_close(&c);
    assert_int_equal(hs_stop(&s), 0);
}

static void test_index_without_volume(void **st)
{
    (void)st;
    hs_sim s;
    hs_client c;
    const char *args[] = {"--start", START, NULL};
    assert_int_equal(hs_start(&s, args), 0);
    connect_ok(&s, &c);
    chart(&c, "cs_spx", "SP:SPX", "60", 100, "");
    page pg;
    read_page(&c, &pg);
    assert_int_equal(pg.nbars, 100);
    assert_int_equal(pg.five_values, 100);
    hs_close(&c);
    assert_int_equal(hs_stop(&s), 0);
}

/* Same seed, same clock: two connections (a reconnect) see identical bars; another seed does
 * not. */
static void test_shared_market(void **st)
{
    (void)st;
    hs_sim s, s2;
    hs_client a, b;
    static page pa, pb;
    const char *args[] = {"--start", START, "--seed", "11", NULL};
    assert_int_equal(hs_start(&s, args), 0);
    connect_ok(&s, &a);
    chart(&a, "cs_one", "SIM:SHARED", "15", 500, "");
    read_page(&a, &pa);
    hs_close(&a);
    connect_ok(&s, &b);
    chart(&b, "cs_two", "SIM:SHARED", "15", 500, "");
    read_page(&b, &pb);
    assert_int_equal(pa.nbars, 500);
    assert_int_equal(pb.nbars, 500);
    /* The clock may have entered a new 15-minute bar in between (it runs in real time). */
    int shift = (int)((pb.last_time - pa.last_time) / 900);
    assert_true(shift == 0 || shift == 1);
    for (int i = shift; i < 499; i++) {
        assert_true(pa.times[i] == pb.times[i - shift]);
        assert_true(pa.close[i] == pb.close[i - shift]);
    }
    hs_close(&b);
    assert_int_equal(hs_stop(&s), 0);
    const char *args2[] = {"--start", START, "--seed", "12", NULL};
    assert_int_equal(hs_start(&s2, args2), 0);
    connect_ok(&s2, &b);
    chart(&b, "cs_two", "SIM:SHARED", "15", 500, "");
    read_page(&b, &pb);
    int same = 0;
    for (int i = 0; i < 400; i++)
        same += pa.close[i] == pb.close[i];
    assert_true(same < 100);
    hs_close(&b);
    assert_int_equal(hs_stop(&s2), 0);
}

static void expect_error(hs_client *c, const char *name, const char *reason)
{
    tvk_msg m;
    assert_int_equal(hs_wait(c, name, &m, WAIT), 1);
    tvk_error_info e;
    assert_int_equal(tvk_msg_error(&m, &e), 0);
    if (reason) {
        char got[256];
        snprintf(got, sizeof got, "%.*s", (int)e.reason.len, e.reason.p);
        assert_string_equal(got, reason);
    }
}

static void test_errors(void **st)
{
    (void)st;
    hs_sim s;
    hs_client c;
    assert_int_equal(hs_start(&s, NULL), 0);
    connect_ok(&s, &c);
    /* Invalid resolution. */
    chart(&c, "cs_err", "NASDAQ:AAPL", "XX", 10, "");
    tvk_msg m;
    assert_int_equal(hs_wait(&c, "critical_error", &m, WAIT), 1);
    char buf[256];
    assert_string_equal(hs_pstr(&m, 0, buf, sizeof buf), "cs_err");
    assert_string_equal(hs_pstr(&m, 1, buf, sizeof buf), "invalid parameters");
    assert_string_equal(hs_pstr(&m, 2, buf, sizeof buf),
                        "method: create_series. args: \"[sds_1, s1, sds_sym_1, XX, 10, ]\"");
    /* One series per chart session. */
    assert_int_equal(
        hs_send(&c, "create_series", "[\"cs_err\",\"sds_1\",\"s1\",\"sds_sym_1\",\"1D\",10,\"\"]"),
        0);
    page pg;
    read_page(&c, &pg);
    assert_int_equal(pg.nbars, 10);
    assert_int_equal(
        hs_send(&c, "create_series", "[\"cs_err\",\"sds_2\",\"s1\",\"sds_sym_1\",\"1D\",10,\"\"]"),
        0);
    expect_error(&c, "critical_error", "exceed limit of series in the session");
    /* Unknown session. */
    assert_int_equal(
        hs_send(&c, "create_series", "[\"cs_nope\",\"sds_1\",\"s1\",\"sds_sym_1\",\"15m\",100]"),
        0);
    assert_int_equal(hs_wait(&c, "protocol_error", &m, WAIT), 1);
    assert_string_equal(hs_pstr(&m, 0, buf, sizeof buf),
                        "{unknown_session_id,<<\"create_series\">>,<<\"cs_nope\">>,[<<\"sds_1\">>,"
                        "<<\"s1\">>,<<\"sds_sym_1\">>,<<\"15m\">>,100]}");
    /* Invalid symbol; FOREX:EURUSD does not exist. */
    assert_int_equal(hs_send(&c, "chart_create_session", "[\"cs_sym\",\"\"]"), 0);
    assert_int_equal(hs_send(&c, "resolve_symbol", "[\"cs_sym\",\"sds_sym_1\",\"FOREX:EURUSD\"]"),
                     0);
    assert_int_equal(hs_wait(&c, "symbol_error", &m, WAIT), 1);
    assert_string_equal(hs_pstr(&m, 1, buf, sizeof buf), "sds_sym_1");
    assert_string_equal(hs_pstr(&m, 2, buf, sizeof buf), "invalid symbol");
    assert_int_equal(
        hs_send(&c, "create_series", "[\"cs_sym\",\"sds_1\",\"s1\",\"sds_sym_1\",\"1D\",10,\"\"]"),
        0);
    expect_error(&c, "series_error", "resolve error");
    /* Bad time zone. */
    assert_int_equal(hs_send(&c, "switch_timezone", "[\"cs_sym\",\"Nowhere/Nowhere\"]"), 0);
    expect_error(&c, "critical_error", "invalid timezone");
    assert_int_equal(hs_send(&c, "switch_timezone", "[\"cs_sym\",\"Etc/UTC\"]"), 0);
    /* Unknown methods and garbage-in are ignored; the connection stays usable. */
    assert_int_equal(hs_send(&c, "no_such_method", "[1,2,3]"), 0);
    assert_int_equal(hs_send_raw(&c, "~m~5~m~{oops"), 0);
    assert_int_equal(hs_send(&c, "chart_delete_session", "[\"cs_sym\"]"), 0);
    assert_int_equal(hs_send(&c, "resolve_symbol", "[\"cs_sym\",\"x\",\"NASDAQ:AAPL\"]"), 0);
    assert_int_equal(hs_wait(&c, "protocol_error", &m, WAIT), 1);
    hs_close(&c);
    assert_int_equal(hs_stop(&s), 0);
}

static void test_range(void **st)
{
    (void)st;
    hs_sim s;
    hs_client c;
    const char *args[] = {"--start", START, NULL};
    assert_int_equal(hs_start(&s, args), 0);
    connect_ok(&s, &c);
    chart(&c, "cs_range", "NASDAQ:MSFT", "1D", 10, "");
    page pg;
    read_page(&c, &pg);
    assert_int_equal(pg.nbars, 10);
    /* 2024-01-02 .. 2024-01-31 23:59:59: 22 trading days in this calendar (no holidays in the sim).
     */
    assert_int_equal(hs_send(&c, "modify_series",
                             "[\"cs_range\",\"sds_1\",\"s2\",\"sds_sym_1\",\"1D\","
                             "\"r,1704153600:1706745599\"]"),
                     0);
    tvk_msg m;
    assert_int_equal(hs_wait(&c, "series_loading", &m, WAIT), 1);
    char buf[64];
    assert_string_equal(hs_pstr(&m, 2, buf, sizeof buf), "s2");
    read_page(&c, &pg);
    assert_int_equal(pg.nbars, 22);
    assert_true(pg.first_time == 1704153600.0 + 52200);
    assert_true(pg.last_time == 1706659200.0 + 52200);
    assert_true(pg.last_index < 0); /* older than the first snapshot: negative indices */
    /* series_timeframe false then true came before the completion; check them on a fresh ask */
    assert_int_equal(hs_send(&c, "modify_series",
                             "[\"cs_range\",\"sds_1\",\"s3\",\"sds_sym_1\",\"1D\","
                             "\"r,1704153600:1706745599\"]"),
                     0);
    int finals[2] = {-1, -1}, n = 0;
    for (;;) {
        assert_int_equal(hs_next(&c, &m, WAIT), 1);
        if (m.type == TVK_MSG_SERIES_TIMEFRAME) {
            tvk_series_timeframe tf;
            assert_int_equal(tvk_msg_series_timeframe(&m, &tf), 0);
            assert_int_equal(tf.last_index - tf.first_index, 21);
            assert_int_equal(tf.range.len, strlen("r,1704153600:1706745599"));
            if (n < 2) finals[n++] = tf.final;
        }
        if (m.type == TVK_MSG_SERIES_COMPLETED) break;
    }
    assert_int_equal(n, 2);
    assert_int_equal(finals[0], 0);
    assert_int_equal(finals[1], 1);
    hs_close(&c);
    assert_int_equal(hs_stop(&s), 0);
}

static int field_count(const tvk_msg *m, tvk_qsd *q, const char *name)
{
    for (int i = 0;; i++) {
        tvk_str n;
        int vt;
        if (tvk_qsd_field(m, q, i, &n, &vt)) return 0;
        if (n.len == strlen(name) && !memcmp(n.p, name, n.len)) return 1;
    }
}

static void test_quotes(void **st)
{
    (void)st;
    hs_sim s;
    hs_client c;
    const char *args[] = {"--speed", "30", "--update-ms", "100", NULL};
    assert_int_equal(hs_start(&s, args), 0);
    connect_ok(&s, &c);
    assert_int_equal(hs_send(&c, "quote_create_session", "[\"qs_test\"]"), 0);
    tvk_buf b;
    tvk_buf_init(&b);
    assert_int_equal(tvk_build_quote_set_fields(&b, "qs_test", NULL, 0), 0);
    assert_int_equal(hs_send_raw(&c, b.data), 0);
    tvk_buf_free(&b);
    assert_int_equal(hs_send(&c, "quote_add_symbols",
                             "[\"qs_test\",\"BINANCE:BTCUSDT\",\"FOREX:EURUSD\","
                             "\"={\\\"adjustment\\\": \\\"splits\\\", \\\"symbol\\\": "
                             "\\\"SIM:QQ\\\"}\",{\"flags\":[\"force_permission\"]}]"),
                     0);
    tvk_msg m;
    tvk_qsd q;
    char sym[128];
    /* Snapshot: the seed's 23 fields. */
    assert_int_equal(hs_wait(&c, "qsd", &m, WAIT), 1);
    assert_int_equal(tvk_msg_qsd(&m, &q), 0);
    assert_true(q.ok);
    assert_int_equal(q.nfields, 23);
    assert_int_equal((int)tvk_quote_fields_count(), 23);
    for (const char *const *f = tvk_quote_fields(); *f; f++)
        assert_true(field_count(&m, &q, *f));
    assert_int_equal(hs_wait(&c, "quote_completed", &m, WAIT), 1);
    assert_string_equal(hs_pstr(&m, 1, sym, sizeof sym), "BINANCE:BTCUSDT");
    /* Unknown symbol: error form. */
    assert_int_equal(hs_wait(&c, "qsd", &m, WAIT), 1);
    assert_int_equal(tvk_msg_qsd(&m, &q), 0);
    assert_false(q.ok);
    assert_int_equal(q.errmsg.len, strlen("no_such_symbol"));
    assert_non_null(strstr(m.pkt.data, "{\"n\":\"FOREX:EURUSD\",\"s\":\"error\",\"errmsg\":"
                                       "\"no_such_symbol\",\"v\":{}}"));
    /* "=" JSON keys echoed compactly. */
    assert_int_equal(hs_wait(&c, "qsd", &m, WAIT), 1);
    assert_int_equal(tvk_msg_qsd(&m, &q), 0);
    assert_true(q.ok);
    assert_string_equal(hs_pstr(&m, 0, sym, sizeof sym), "qs_test");
    assert_non_null(
        strstr(m.pkt.data,
               "\"n\":\"={\\\"adjustment\\\":\\\"splits\\\",\\\"symbol\\\":\\\"SIM:QQ\\\"}\""));
    /* Deltas: only changed fields, never the static ones. */
    int deltas = 0;
    while (deltas < 3) {
        assert_int_equal(hs_wait(&c, "qsd", &m, WAIT), 1);
        assert_int_equal(tvk_msg_qsd(&m, &q), 0);
        assert_true(q.ok);
        assert_true(q.nfields >= 1 && q.nfields < 23);
        assert_false(field_count(&m, &q, "description"));
        assert_false(field_count(&m, &q, "pricescale"));
        deltas++;
    }
    hs_close(&c);
    assert_int_equal(hs_stop(&s), 0);
}

/* Live bars: du updates with lbs.bar_close_time, then a new bar by timescale_update. */
static void test_live(void **st)
{
    (void)st;
    hs_sim s;
    hs_client c;
    const char *args[] = {"--speed", "120", "--update-ms", "50", NULL};
    assert_int_equal(hs_start(&s, args), 0);
    connect_ok(&s, &c);
    chart(&c, "cs_live", "SIM:LIVE", "1", 300, "");
    page pg;
    read_page(&c, &pg);
    assert_int_equal(pg.nbars, 300);
    int64_t last = pg.last_index;
    int du = 0, newbar = 0;
    tvk_msg m;
    int64_t end = tvk_now_ms() + 10000;
    while ((!du || !newbar) && tvk_now_ms() < end) {
        int rc = hs_next(&c, &m, 2000);
        assert_true(rc >= 0);
        if (rc == 0) continue;
        tvk_series_update su;
        tvk_bar b;
        if (m.type == TVK_MSG_DU) {
            assert_int_equal(tvk_msg_series(&m, "sds_1", &su), 0);
            assert_true(su.bar_close_time > 0);
            assert_int_equal(tvk_bar_next(&su.bars, &b), 1);
            assert_true(b.index >= last);
            assert_true(su.bar_close_time == (int64_t)b.time + 59);
            du++;
        } else if (m.type == TVK_MSG_TIMESCALE_UPDATE) {
            assert_int_equal(tvk_msg_series(&m, "sds_1", &su), 0);
            while (tvk_bar_next(&su.bars, &b) == 1)
                if (b.index > last) newbar = 1, last = b.index;
        }
    }
    assert_true(du > 0);
    assert_true(newbar);
    hs_close(&c);
    assert_int_equal(hs_stop(&s), 0);
}

static void test_heartbeats(void **st)
{
    (void)st;
    hs_sim s;
    hs_client c;
    const char *args[] = {"--heartbeat", "0.1", "--heartbeat-timeout", "0.5", NULL};
    assert_int_equal(hs_start(&s, args), 0);
    connect_ok(&s, &c);
    tvk_msg m;
    /* Echoing: heartbeats keep coming, counting up from 1. */
    for (int k = 1; k <= 8; k++) {
        assert_int_equal(hs_wait(&c, "heartbeat", &m, WAIT), 1);
        assert_int_equal(m.heartbeat, k);
    }
    hs_close(&c);
    /* Not echoing: dropped after the timeout. */
    connect_ok(&s, &c);
    c.echo = 0;
    int rc;
    int64_t end = tvk_now_ms() + 5000;
    while ((rc = hs_next(&c, &m, 1000)) >= 0 && tvk_now_ms() < end)
        ;
    assert_true(rc < 0);
    assert_true(c.heartbeats >= 1);
    hs_close(&c);
    assert_int_equal(hs_stop(&s), 0);
}

static void test_compression(void **st)
{
    (void)st;
    hs_sim s;
    hs_client c;
    const char *args[] = {"--start", START, NULL};
    assert_int_equal(hs_start(&s, args), 0);
    connect_ok(&s, &c);
    tvk_ws_info info;
    tvk_ws_get_info(c.ws, &info);
    assert_int_equal(info.deflate, 1);
    chart(&c, "cs_z", "NYSE:IBM", "5", 5000, "");
    page pg;
    read_page(&c, &pg);
    assert_int_equal(pg.nbars, 5000);
    tvk_ws_get_info(c.ws, &info);
    assert_true(info.bytes_in * 2 < c.bytes); /* the bars arrived compressed */
    hs_close(&c);
    /* --deflate-level: the same answer, fewer bytes on the wire at 9 than at 1 (the default). */
    uint64_t wire[3];
    const char *levels[] = {"1", "9", NULL};
    static page ref, pl;
    for (int k = 0; k < 3; k++) {
        const char *la[] = {"--start", START, "--deflate-level", levels[k], NULL};
        if (!levels[k]) la[2] = NULL;
        assert_int_equal(hs_stop(&s), 0);
        assert_int_equal(hs_start(&s, la), 0);
        connect_ok(&s, &c);
        tvk_ws_info i0;
        tvk_ws_get_info(c.ws, &i0);
        chart(&c, "cs_z", "NYSE:IBM", "1D", 5000, "");
        read_page(&c, k ? &pl : &ref);
        tvk_ws_get_info(c.ws, &info);
        wire[k] = info.bytes_in - i0.bytes_in;
        assert_true(info.messages_in_deflated > i0.messages_in_deflated);
        hs_close(&c);
        if (k) {
            assert_int_equal(pl.nbars, ref.nbars);
            assert_memory_equal(pl.times, ref.times, sizeof ref.times);
            assert_memory_equal(pl.close, ref.close, sizeof ref.close);
        }
    }
    assert_int_equal(ref.nbars, 5000);
    assert_true(wire[1] < wire[0] * 0.95);
    assert_true(wire[2] > wire[1]); /* the default is the fast level */
    const char *args2[] = {"--start", START, "--no-compress", NULL};
    assert_int_equal(hs_stop(&s), 0);
    assert_int_equal(hs_start(&s, args2), 0);
    connect_ok(&s, &c);
    tvk_ws_get_info(c.ws, &info);
    assert_int_equal(info.deflate, 0);
    hs_close(&c);
    assert_int_equal(hs_stop(&s), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_and_history),
        cmocka_unit_test(test_hello_first_when_pipelined),
        cmocka_unit_test(test_origin_403),
        cmocka_unit_test(test_paging_limits),
        cmocka_unit_test(test_index_without_volume),
        cmocka_unit_test(test_shared_market),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_live),
        cmocka_unit_test(test_heartbeats),
        cmocka_unit_test(test_compression),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
