/* Every --fault kind of tvkit-sim, observed from a net + wire client. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define WAIT 5000

static void start(hs_sim *s, const char *a1, const char *a2, const char *a3, const char *a4)
{
    const char *args[] = {a1, a2, a3, a4, NULL};
    assert_int_equal(hs_start(s, args), 0);
}

static void stop(hs_sim *s)
{
    assert_int_equal(hs_stop(s), 0);
}

/* Asks for enough to produce many packets: 3 quote symbols (snapshot + completed each) and a
 * 10-bar series. */
static void ask_a_lot(hs_client *c)
{
    /* Send errors are not checked: some faults close the connection while we send. */
    hs_send(c, "quote_create_session", "[\"qs_f\"]");
    hs_send(c, "quote_add_symbols", "[\"qs_f\",\"SIM:A\",\"SIM:B\",\"SIM:C\"]");
    hs_send(c, "chart_create_session", "[\"cs_f\",\"\"]");
    hs_send(c, "resolve_symbol", "[\"cs_f\",\"r1\",\"SIM:A\"]");
    hs_send(c, "create_series", "[\"cs_f\",\"s\",\"s1\",\"r1\",\"1D\",10,\"\"]");
}

/* Data packets received until the connection ends (< 0) or the window passes. */
static int count_until_closed(hs_client *c, int window_ms, int *closed)
{
    int n = 0;
    tvk_msg m;
    int64_t end = tvk_now_ms() + window_ms;
    *closed = 0;
    while (tvk_now_ms() < end) {
        int rc = hs_next(c, &m, 200);
        if (rc == 1 && m.type != TVK_MSG_HEARTBEAT) n++;
        if (rc < 0 && c->last_err != rc) {
            *closed = 1;
            break;
        }
    }
    return n;
}

static void test_close_after(void **st)
{
    (void)st;
    hs_sim s;
    hs_client c;
    int closed;
    start(&s, "--fault", "close-after=5", NULL, NULL);
    assert_int_equal(hs_connect(&c, s.url, NULL, 0, 1, 0), 0);
    ask_a_lot(&c);
    assert_int_equal(count_until_closed(&c, WAIT, &closed), 5);
    assert_true(closed);
    hs_close(&c);
    /* Only the first connection: the next one gets everything. */
    assert_int_equal(hs_connect(&c, s.url, NULL, 0, 1, 0), 0);
    ask_a_lot(&c);
    tvk_msg m;
    assert_int_equal(hs_wait(&c, "series_completed", &m, WAIT), 1);
    assert_true(c.packets > 5);
    hs_close(&c);
    stop(&s);
}

static void test_close_every(void **st)
{
    (void)st;
    hs_sim s;
    hs_client c;
    int closed;
    start(&s, "--fault", "close-every=3", NULL, NULL);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(hs_connect(&c, s.url, NULL, 0, 1, 0), 0);
        ask_a_lot(&c);
        assert_int_equal(count_until_closed(&c, WAIT, &closed), 3);
        assert_true(closed);
        hs_close(&c);
    }
    stop(&s);
}

static void test_reject_429(void **st)
{
    (void)st;
    hs_sim s;
    hs_client c;
    start(&s, "--fault", "reject-429=2", NULL, NULL);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(hs_connect(&c, s.url, NULL, 0, 1, 0), TVK_EHTTP_429);
        tvk_ws_info info;
        tvk_ws_get_info(c.ws, &info);
        assert_int_equal(info.http_status, 429);
        assert_int_equal(info.retry_after_s, 1);
        hs_close(&c);
    }
    assert_int_equal(hs_connect(&c, s.url, NULL, 0, 1, 0), 0);
    tvk_msg m;
    assert_int_equal(hs_wait(&c, "hello", &m, WAIT), 1);
    hs_close(&c);
    stop(&s);
}

static void test_stall_and_silent(void **st)
{
    (void)st;
    hs_sim s;
    hs_client c;
    int closed;
    /* stall: the hello, then heartbeats only. */
    start(&s, "--fault", "stall-after=1", "--heartbeat", "0.1");
    assert_int_equal(hs_connect(&c, s.url, NULL, 0, 1, 0), 0);
    ask_a_lot(&c);
    assert_int_equal(count_until_closed(&c, 1000, &closed), 1);
    assert_false(closed);
    assert_true(c.heartbeats >= 3);
    hs_close(&c);
    stop(&s);
    /* silent: nothing at all, and the socket stays open. */
    start(&s, "--fault", "silent-after=1", "--heartbeat", "0.1");
    assert_int_equal(hs_connect(&c, s.url, NULL, 0, 1, 0), 0);
    ask_a_lot(&c);
    assert_int_equal(count_until_closed(&c, 1000, &closed), 1);
    assert_false(closed);
    assert_int_equal(c.heartbeats, 0);
    hs_close(&c);
    stop(&s);
}

/* A broken message yields a reader error; the connection and the next messages are fine. */
static void broken_then_fine(const char *fault, int want_err)
{
    hs_sim s;
    hs_client c;
    start(&s, "--fault", fault, NULL, NULL);
    assert_int_equal(hs_connect(&c, s.url, NULL, 0, 1, 0), 0);
    tvk_msg m;
    assert_int_equal(hs_next(&c, &m, WAIT), 1);
    assert_int_equal(m.type, TVK_MSG_HELLO);
    assert_int_equal(hs_next(&c, &m, WAIT), want_err);
    ask_a_lot(&c);
    assert_int_equal(hs_wait(&c, "series_completed", &m, WAIT), 1);
    hs_close(&c);
    stop(&s);
}

static void test_garbage(void **st)
{
    (void)st;
    broken_then_fine("garbage", TVK_EFRAME_NOMARK);
}

static void test_bad_length(void **st)
{
    (void)st;
    broken_then_fine("bad-length=1", TVK_EFRAME_LENPAST);
}

static void test_oversize(void **st)
{
    (void)st;
    hs_sim s;
    hs_client c;
    start(&s, "--fault", "oversize", "--oversize-bytes", "300000");
    tvk_msg m;
    /* The hello and the (small, compressed) oversize message can arrive in the same read as
     * the 101 response: the net layer then meets the limit while still connecting. */
    int rc = hs_connect(&c, s.url, NULL, 0, 1, 200000);
    if (rc == 0) {
        assert_int_equal(hs_next(&c, &m, WAIT), 1); /* hello */
        assert_int_equal(hs_next(&c, &m, WAIT), TVK_EMSG_TOOBIG);
    } else {
        assert_int_equal(rc, TVK_EMSG_TOOBIG);
    }
    hs_close(&c);
    /* A client with room for it gets one well-formed packet of that size. */
    assert_int_equal(hs_connect(&c, s.url, NULL, 0, 1, 0), 0);
    assert_int_equal(hs_next(&c, &m, WAIT), 1);
    assert_int_equal(hs_next(&c, &m, WAIT), 1);
    assert_true(m.pkt.len > 290000 && c.msglen <= 300000);
    hs_close(&c);
    stop(&s);
}

static void test_protocol_error(void **st)
{
    (void)st;
    hs_sim s;
    hs_client c;
    start(&s, "--fault", "protocol-error=2", NULL, NULL);
    assert_int_equal(hs_connect(&c, s.url, NULL, 0, 1, 0), 0);
    assert_int_equal(hs_send(&c, "set_auth_token", "[\"unauthorized_user_token\"]"), 0);
    ask_a_lot(&c); /* the quote session is never created: its add gets protocol_error too */
    tvk_msg m;
    char buf[256];
    assert_int_equal(hs_wait(&c, "protocol_error", &m, WAIT), 1);
    assert_non_null(strstr(hs_pstr(&m, 0, buf, sizeof buf), "quote_create_session"));
    assert_int_equal(hs_wait(&c, "protocol_error", &m, WAIT), 1);
    assert_non_null(strstr(hs_pstr(&m, 0, buf, sizeof buf), "unknown_session_id"));
    assert_int_equal(hs_wait(&c, "series_completed", &m, WAIT), 1); /* the rest works */
    hs_close(&c);
    stop(&s);
}

static void test_throttle(void **st)
{
    (void)st;
    hs_sim s;
    hs_client c;
    start(&s, "--fault", "throttle=100", NULL, NULL);
    assert_int_equal(hs_connect(&c, s.url, NULL, 0, 1, 0), 0);
    assert_int_equal(hs_send(&c, "chart_create_session", "[\"cs_t\",\"\"]"), 0);
    assert_int_equal(hs_send(&c, "resolve_symbol", "[\"cs_t\",\"r1\",\"NASDAQ:AAPL\"]"), 0);
    assert_int_equal(
        hs_send(&c, "create_series", "[\"cs_t\",\"s\",\"s1\",\"r1\",\"1D\",1000,\"\"]"), 0);
    tvk_msg m;
    assert_int_equal(hs_wait(&c, "timescale_update", &m, WAIT), 1);
    tvk_series_update su;
    assert_int_equal(tvk_msg_series(&m, "s", &su), 0);
    assert_int_equal(su.nbars, 100);
    assert_int_equal(hs_send(&c, "request_more_data", "[\"cs_t\",\"s\",500]"), 0);
    assert_int_equal(hs_wait(&c, "timescale_update", &m, WAIT), 1);
    assert_int_equal(tvk_msg_series(&m, "s", &su), 0);
    assert_int_equal(su.nbars, 100);
    hs_close(&c);
    stop(&s);
}

/* The next series answer: 1 = bars (their count in *nbars), 0 = series_error (its reason in
 * reason). */
static int series_answer(hs_client *c, const char *sid, int *nbars, char *reason, size_t cap)
{
    tvk_msg m;
    for (;;) {
        assert_int_equal(hs_next(c, &m, WAIT), 1);
        if (m.type == TVK_MSG_TIMESCALE_UPDATE) {
            tvk_series_update su;
            assert_int_equal(tvk_msg_series(&m, sid, &su), 0);
            *nbars = su.nbars;
            assert_int_equal(hs_wait(c, "series_completed", &m, WAIT), 1);
            return 1;
        }
        if (m.type == TVK_MSG_SERIES_ERROR) {
            char buf[64];
            assert_string_equal(hs_pstr(&m, 1, buf, sizeof buf), sid);
            assert_string_equal(hs_pstr(&m, 2, buf, sizeof buf), "s1");
            hs_pstr(&m, 3, reason, cap);
            assert_non_null(strstr(hs_pstr(&m, 4, buf, sizeof buf), "charts")); /* the node */
            return 0;
        }
        assert_false(m.type == TVK_MSG_SERIES_COMPLETED || m.type == TVK_MSG_CRITICAL_ERROR ||
                     m.type == TVK_MSG_PROTOCOL_ERROR);
    }
}

static void test_custom_resolution(void **st)
{
    (void)st;
    hs_sim s;
    hs_client c;
    char reason[64];
    int n = 0;
    start(&s, "--fault", "custom-resolution", NULL, NULL);
    assert_int_equal(hs_connect(&c, s.url, NULL, 0, 1, 0), 0);
    assert_int_equal(hs_send(&c, "chart_create_session", "[\"cs_c\",\"\"]"), 0);
    assert_int_equal(hs_send(&c, "resolve_symbol", "[\"cs_c\",\"r1\",\"SIM:CUSTOM\"]"), 0);
    /* Non-standard minutes: an error and no series, so the session may ask again. */
    const char *custom[] = {"20", "188", "2", "1440"};
    for (size_t i = 0; i < sizeof custom / sizeof custom[0]; i++) {
        char p[128];
        snprintf(p, sizeof p, "[\"cs_c\",\"s\",\"s1\",\"r1\",\"%s\",10,\"\"]", custom[i]);
        assert_int_equal(hs_send(&c, "create_series", p), 0);
        assert_int_equal(series_answer(&c, "s", &n, reason, sizeof reason), 0);
        assert_string_equal(reason, "custom_resolution");
    }
    /* Standard minutes and the other units are served. */
    assert_int_equal(hs_send(&c, "create_series", "[\"cs_c\",\"s\",\"s1\",\"r1\",\"15\",10,\"\"]"),
                     0);
    assert_int_equal(series_answer(&c, "s", &n, reason, sizeof reason), 1);
    assert_int_equal(n, 10);
    /* modify_series to custom minutes: the error, the series kept (it still pages). */
    assert_int_equal(hs_send(&c, "modify_series", "[\"cs_c\",\"s\",\"s1\",\"r1\",\"20\",\"\"]"), 0);
    assert_int_equal(series_answer(&c, "s", &n, reason, sizeof reason), 0);
    assert_string_equal(reason, "custom_resolution");
    assert_int_equal(hs_send(&c, "request_more_data", "[\"cs_c\",\"s\",5]"), 0);
    assert_int_equal(series_answer(&c, "s", &n, reason, sizeof reason), 1);
    assert_int_equal(n, 5);
    const char *fine[] = {"1D", "1W", "1M", "240", "1S", "2H"};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        char p[128];
        snprintf(p, sizeof p, "[\"cs_c\",\"s\",\"s1\",\"r1\",\"%s\",\"\"]", fine[i]);
        assert_int_equal(hs_send(&c, "modify_series", p), 0);
        assert_int_equal(series_answer(&c, "s", &n, reason, sizeof reason), 1);
        assert_true(n > 0);
    }
    hs_close(&c);
    stop(&s);

    /* Without the fault the same custom minutes are served. */
    start(&s, NULL, NULL, NULL, NULL);
    assert_int_equal(hs_connect(&c, s.url, NULL, 0, 1, 0), 0);
    assert_int_equal(hs_send(&c, "chart_create_session", "[\"cs_c\",\"\"]"), 0);
    assert_int_equal(hs_send(&c, "resolve_symbol", "[\"cs_c\",\"r1\",\"SIM:CUSTOM\"]"), 0);
    assert_int_equal(hs_send(&c, "create_series", "[\"cs_c\",\"s\",\"s1\",\"r1\",\"20\",10,\"\"]"),
                     0);
    assert_int_equal(series_answer(&c, "s", &n, reason, sizeof reason), 1);
    assert_int_equal(n, 10);
    hs_close(&c);
    stop(&s);

    char out[4096];
    const char *bad[] = {"--fault", "custom-resolution=3", NULL};
    assert_int_equal(hs_run(bad, out, sizeof out), 2);
}

/* A hostile client: wrong types, missing and surplus params, oversized ids, huge counts,
 * nesting, unknown sessions. The sim answers errors or nothing, stays up, and then serves a
 * normal request; under ASan this also checks that none of it touches memory it should not. */
static void test_hostile_client(void **st)
{
    (void)st;
    hs_sim s;
    hs_client c;
    start(&s, NULL, NULL, NULL, NULL);
    assert_int_equal(hs_connect(&c, s.url, NULL, 0, 1, 0), 0);
    char big[3000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    char p[4000];
    static const char *const bad[][2] = {
        {"chart_create_session", "[]"},
        {"chart_create_session", "[42]"},
        {"chart_create_session", "[\"cs_h\",\"\"]"},
        {"resolve_symbol", "[\"cs_h\"]"},
        {"resolve_symbol", "[\"cs_h\",1,2]"},
        {"resolve_symbol", "[\"cs_h\",\"r\",\"={\\\"symbol\\\":42}\"]"},
        {"resolve_symbol", "[\"cs_h\",\"r\",\"={not json\"]"},
        {"resolve_symbol",
         "[\"cs_h\",\"r\",\"={\\\"symbol\\\":{\\\"symbol\\\":{\\\"a\\\":[[[[1]]]]}}}\"]"},
        {"resolve_symbol", "[\"cs_h\",\"r\",\"SIM:OK\"]"},
        {"create_series", "[\"cs_h\",\"s\",\"s1\",\"r\",\"1D\",\"ten\",\"\"]"},
        {"create_series", "[\"cs_h\",\"s\",\"s1\",\"r\",\"1D\",-5,\"\"]"},
        {"create_series", "[\"cs_h\",\"s\",\"s1\",\"r\",\"1D\",1e300,\"\"]"},
        {"create_series", "[\"cs_h\",\"s\",\"s1\",\"r\",\"1D\",[\"bar_count\"],\"\"]"},
        {"create_series", "[\"cs_h\",\"s\",\"s1\",\"r\",\"99999999D\",10,\"\"]"},
        {"create_series", "[\"cs_h\",\"s\",\"s1\",\"r\",\"1D\",10,\"r,9:1\"]"},
        {"remove_series", "[\"cs_h\",\"s\"]"},
        {"create_series", "[\"cs_h\",\"s\",\"s1\",\"r\",\"1D\",10,\"r,-99999999999:99999999999\"]"},
        {"request_more_data", "[\"cs_h\",\"s\",0]"},
        {"request_more_data", "[\"cs_h\",\"s\",\"x\"]"},
        {"request_more_data", "[\"cs_h\",\"nope\",10]"},
        {"request_more_data", "[\"cs_h\",\"s\",9223372036854775807]"},
        {"modify_series", "[\"cs_h\",\"other\",\"s2\",\"r\",\"1D\",\"\"]"},
        {"modify_series", "[\"cs_h\",\"s\",\"s2\",\"r\",\"1D\",\"r,abc\"]"},
        {"switch_timezone", "[\"cs_h\",\"../../../etc/passwd\"]"},
        {"switch_timezone", "[\"cs_h\",\"/etc/passwd\"]"},
        {"quote_create_session", "[\"qs_h\"]"},
        {"quote_set_fields", "[\"qs_h\",1,null,{},\"lp\"]"},
        {"quote_add_symbols", "[\"qs_h\",1,null,{},\"=[]\",\"={}\",\"=\",\"\"]"},
        {"quote_remove_symbols", "[\"qs_h\",\"x\",7]"},
        {"quote_add_symbols", "[\"nope\",\"SIM:A\"]"},
        {"chart_delete_session", "[\"nope\"]"},
        {"", "[]"},
        {"x", "{\"not\":\"an array\"}"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* Framed by hand: tvk_build rightly refuses some of these. */
        tvk_buf f;
        tvk_buf_init(&f);
        snprintf(p, sizeof p, "{\"m\":\"%s\",\"p\":%s}", bad[i][0], bad[i][1]);
        assert_int_equal(tvk_frame(&f, p, strlen(p)), 0);
        assert_int_equal(hs_send_raw(&c, f.data), 0);
        tvk_buf_free(&f);
    }
    snprintf(p, sizeof p, "[\"%s\",\"\"]", big); /* session id far past any limit */
    assert_int_equal(hs_send(&c, "chart_create_session", p), 0);
    snprintf(p, sizeof p, "[\"qs_h\",\"%s\"]", big);
    assert_int_equal(hs_send(&c, "quote_add_symbols", p), 0);
    assert_int_equal(hs_send_raw(&c, "~m~2~m~[]~m~4~m~null~m~1~m~1~m~3~m~~h~"), 0);
    /* Still serving. */
    tvk_msg m;
    assert_int_equal(hs_send(&c, "chart_create_session", "[\"cs_ok\",\"\"]"), 0);
    assert_int_equal(hs_send(&c, "resolve_symbol", "[\"cs_ok\",\"r\",\"SIM:OK\"]"), 0);
    assert_int_equal(hs_send(&c, "create_series", "[\"cs_ok\",\"s\",\"s1\",\"r\",\"1D\",10,\"\"]"),
                     0);
    for (;;) {
        assert_int_equal(hs_wait(&c, "series_completed", &m, WAIT), 1);
        char buf[64];
        if (!strcmp(hs_pstr(&m, 0, buf, sizeof buf), "cs_ok")) break;
    }
    hs_close(&c);
    stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_after),       cmocka_unit_test(test_close_every),
        cmocka_unit_test(test_reject_429),        cmocka_unit_test(test_stall_and_silent),
        cmocka_unit_test(test_garbage),           cmocka_unit_test(test_bad_length),
        cmocka_unit_test(test_oversize),          cmocka_unit_test(test_protocol_error),
        cmocka_unit_test(test_throttle),          cmocka_unit_test(test_hostile_client),
        cmocka_unit_test(test_custom_resolution),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
