/* net_faults: servers that misbehave (raw_server.py), each failure a distinct clear error;
 * keepalive against a server that stops answering; the HTTP CONNECT proxy (connect_proxy.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

/* One raw_server.py for the whole program; the request path picks the misbehaviour. */
static pid_t g_raw = -1, g_proxy = -1;
static int g_port;

static int start_raw_server(void **state)
{
    (void)state;
    g_raw = tu_spawn_script("TVK_PYTHON3", "raw_server.py", NULL, &g_port);
    return g_raw > 0 ? 0 : -1;
}

static int stop_raw_server(void **state)
{
    (void)state;
    tu_stop(g_raw);
    return 0;
}

static int stop_servers(void **state)
{
    (void)state;
    tu_stop(g_proxy);
    g_proxy = -1;
    unsetenv("http_proxy");
    unsetenv("https_proxy");
    unsetenv("HTTPS_PROXY");
    unsetenv("no_proxy");
    return 0;
}

static tvk_ws *client_path(const char *mode, tvk_ws_opts *o)
{
    static char url[96];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/mode/%s", g_port, mode);
    o->url = url;
    tvk_ws *ws = tvk_ws_new(o);
    assert_non_null(ws);
    return ws;
}

/* Connects to a raw_server mode; returns the handle after connect (or failure). */
static tvk_ws *run_mode(const char *mode, tvk_ws_opts *o, int *rc)
{
    if (!o->proxy) o->proxy = "";
    tvk_ws *ws = client_path(mode, o);
    *rc = tvk_ws_connect(ws);
    return ws;
}

static void expect_err(tvk_ws *ws, int rc, int code, const char *needle)
{
    if (rc != code || !strstr(tvk_ws_errmsg(ws), needle))
        fail_msg("got %d (%s) \"%s\", want %d (%s) with \"%s\"", rc, tvk_errname(rc),
                 tvk_ws_errmsg(ws), code, tvk_errname(code), needle);
    assert_int_equal(tvk_ws_error(ws), code);
    assert_int_equal(tvk_ws_get_state(ws), TVK_WS_CLOSED);
}

static void test_403(void **state)
{
    (void)state;
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    int rc;
    tvk_ws *ws = run_mode("403", &o, &rc);
    expect_err(ws, rc, TVK_EHTTP_403, "HTTP 403 Forbidden");
    tvk_ws_info in;
    tvk_ws_get_info(ws, &in);
    assert_int_equal(in.http_status, 403);
    assert_int_equal(in.retry_after_s, -1);
    tvk_ws_free(ws);
}

static void test_429(void **state)
{
    (void)state;
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    int rc;
    tvk_ws *ws = run_mode("429", &o, &rc);
    expect_err(ws, rc, TVK_EHTTP_429, "HTTP 429 Too Many Requests (Retry-After: 30 s)");
    tvk_ws_info in;
    tvk_ws_get_info(ws, &in);
    assert_int_equal(in.retry_after_s, 30);
    tvk_ws_free(ws);
}

static void test_429_date(void **state)
{
    (void)state;
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    int rc;
    tvk_ws *ws = run_mode("429date", &o, &rc);
    expect_err(ws, rc, TVK_EHTTP_429, "HTTP 429");
    tvk_ws_info in;
    tvk_ws_get_info(ws, &in);
    assert_in_range(in.retry_after_s, 50, 61);
    tvk_ws_free(ws);
}

static void test_fragments(void **state)
{
    (void)state;
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    int rc;
    tvk_ws *ws = run_mode("frag", &o, &rc);
    assert_int_equal(rc, 0);
    const char *d;
    size_t n;
    assert_int_equal(tvk_ws_recv(ws, &d, &n, 5000), 1);
    assert_string_equal(d, "frag-mented");
    assert_int_equal(tvk_ws_recv(ws, &d, &n, 5000), 1);
    assert_string_equal(d, "compressed and fragmented");
    assert_int_equal(tvk_ws_recv(ws, &d, &n, 5000), 1);
    assert_string_equal(d, "pong seen");
    tvk_ws_free(ws);
}

static void test_close_timeout(void **state)
{
    (void)state;
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    o.close_timeout_ms = 300;
    int rc;
    tvk_ws *ws = run_mode("silent", &o, &rc);
    assert_int_equal(rc, 0);
    int64_t t0 = tvk_now_ms();
    assert_int_equal(tvk_ws_close(ws), TVK_ETIMEDOUT);
    int64_t el = tvk_now_ms() - t0;
    if (el < 290 || el > 2000) fail_msg("close gave up after %lld ms", (long long)el);
    assert_int_equal(tvk_ws_get_state(ws), TVK_WS_CLOSED);
    assert_non_null(strstr(tvk_ws_errmsg(ws), "close handshake timed out after 300 ms"));
    tvk_ws_free(ws);
}

static void test_bad_accept(void **state)
{
    (void)state;
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    int rc;
    tvk_ws *ws = run_mode("badaccept", &o, &rc);
    expect_err(ws, rc, TVK_EACCEPT_KEY, "Sec-WebSocket-Accept \"dGhlIHNhbXBsZSBub25jZQ==\"");
    tvk_ws_free(ws);
}

static void test_truncated(void **state)
{
    (void)state;
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    int rc;
    tvk_ws *ws = run_mode("truncated", &o, &rc);
    expect_err(ws, rc, TVK_EHANDSHAKE, "truncated");
    tvk_ws_free(ws);
}

static void test_big_header(void **state)
{
    (void)state;
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    int rc;
    tvk_ws *ws = run_mode("bigheader", &o, &rc);
    expect_err(ws, rc, TVK_EHEADER_TOOBIG, "exceeds 16384 bytes");
    tvk_ws_free(ws);
}

/* The error may surface during connect already (the frame came with the 101) or later. */
static void recv_until_error(tvk_ws *ws, int rc, int code, const char *needle)
{
    const char *d;
    size_t n;
    if (rc == 0)
        while ((rc = tvk_ws_recv(ws, &d, &n, 10000)) == 1) {
        }
    expect_err(ws, rc, code, needle);
}

static void test_big_message(void **state)
{
    (void)state;
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    int rc;
    tvk_ws *ws = run_mode("bigmsg", &o, &rc);
    recv_until_error(ws, rc, TVK_EMSG_TOOBIG, "limit of 33554432 bytes");
    tvk_ws_info in;
    tvk_ws_get_info(ws, &in);
    assert_true(in.bytes_in < (1u << 20)); /* refused on the frame header, not after reading */
    tvk_ws_free(ws);
}

static void test_bomb(void **state)
{
    (void)state;
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    o.max_message = 1u << 20;
    int rc;
    tvk_ws *ws = run_mode("bomb", &o, &rc);
    recv_until_error(ws, rc, TVK_EMSG_TOOBIG, "inflated message exceeds limit 1048576");
    tvk_ws_free(ws);
}

static void test_protocol_errors(void **state)
{
    (void)state;
    const char *modes[] = {"badrsv", "badopcode"};
    for (int i = 0; i < 2; i++) {
        tvk_ws_opts o;
        tvk_ws_opts_init(&o);
        o.compress = 0;
        int rc;
        tvk_ws *ws = run_mode(modes[i], &o, &rc);
        recv_until_error(ws, rc, TVK_EWS_PROTOCOL, "close 1002 sent");
        tvk_ws_free(ws);
    }
}

static void test_bad_utf8_compressed(void **state)
{
    (void)state;
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    int rc;
    tvk_ws *ws = run_mode("badutf8z", &o, &rc);
    recv_until_error(ws, rc, TVK_EWS_PROTOCOL, "invalid UTF-8 at byte 3 of a compressed text");
    tvk_ws_free(ws);
}

static void test_ping_timeout(void **state)
{
    (void)state;
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    o.ping_interval_ms = 200;
    o.ping_timeout_ms = 300;
    int rc;
    tvk_ws *ws = run_mode("silent", &o, &rc);
    assert_int_equal(rc, 0);
    int64_t t0 = tvk_now_ms();
    const char *d;
    size_t n;
    rc = tvk_ws_recv(ws, &d, &n, 10000);
    int64_t el = tvk_now_ms() - t0;
    expect_err(ws, rc, TVK_EPING_TIMEOUT, "no pong within 300 ms");
    /* declared dead within interval + timeout (plus scheduling slack), not before */
    if (el < 490 || el > 1500) fail_msg("declared dead after %lld ms", (long long)el);
    tvk_ws_free(ws);
}

static void test_mixed_deflate(void **state)
{
    (void)state;
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    int rc;
    tvk_ws *ws = run_mode("hello", &o, &rc);
    assert_int_equal(rc, 0);
    const char *d;
    size_t n;
    assert_int_equal(tvk_ws_recv(ws, &d, &n, 5000), 1);
    assert_string_equal(d, "hello plain");
    assert_int_equal(tvk_ws_recv(ws, &d, &n, 5000), 1);
    assert_string_equal(d, "hello compressed");
    tvk_ws_info in;
    tvk_ws_get_info(ws, &in);
    assert_int_equal(in.messages_in_deflated, 1);
    assert_int_equal(in.server_no_context_takeover, 1);
    /* python's zlib inflates what we compress */
    char *t = tu_text(100000, 9);
    assert_int_equal(tvk_ws_send_text(ws, t, 100000), 0);
    assert_int_equal(tvk_ws_recv(ws, &d, &n, 5000), 1);
    assert_int_equal(n, 100000);
    assert_memory_equal(d, t, n);
    free(t);
    assert_int_equal(tvk_ws_close(ws), 0);
    tvk_ws_free(ws);
}

static int start_proxy(const char *auth)
{
    int port = 0;
    const char *args[] = {auth, NULL};
    g_proxy = tu_spawn_script("TVK_PYTHON3", "connect_proxy.py", auth ? args : NULL, &port);
    assert_true(g_proxy > 0);
    return port;
}

static void test_proxy(void **state)
{
    (void)state;
    int pport = start_proxy("user:s3cret");
    char purl[128];
    tvk_ws_opts o;
    const char *d;
    size_t n;
    tvk_ws_info in;

    /* the option, with credentials */
    tvk_ws_opts_init(&o);
    snprintf(purl, sizeof purl, "http://user:s3cret@127.0.0.1:%d", pport);
    o.proxy = purl;
    tvk_ws *ws = client_path("hello", &o);
    int rc = tvk_ws_connect(ws);
    if (rc) fail_msg("via proxy: %s", tvk_ws_errmsg(ws));
    tvk_ws_get_info(ws, &in);
    assert_int_equal(in.via_proxy, 1);
    assert_int_equal(tvk_ws_recv(ws, &d, &n, 5000), 1);
    assert_string_equal(d, "hello plain");
    tvk_ws_free(ws);

    /* wrong credentials: the proxy's answer, named */
    snprintf(purl, sizeof purl, "http://user:wrong@127.0.0.1:%d", pport);
    o.proxy = purl;
    ws = client_path("hello", &o);
    rc = tvk_ws_connect(ws);
    expect_err(ws, rc, TVK_EPROXY, "407 Proxy Authentication Required");
    tvk_ws_free(ws);

    /* from the environment (ws:// uses http_proxy), and no_proxy turning it off */
    snprintf(purl, sizeof purl, "http://user:s3cret@127.0.0.1:%d", pport);
    setenv("http_proxy", purl, 1);
    tvk_ws_opts_init(&o);
    o.proxy = NULL;
    ws = client_path("hello", &o);
    assert_int_equal(tvk_ws_connect(ws), 0);
    tvk_ws_get_info(ws, &in);
    assert_int_equal(in.via_proxy, 1);
    tvk_ws_free(ws);
    setenv("no_proxy", "example.com, 127.0.0.1", 1);
    tvk_ws_opts_init(&o);
    o.proxy = NULL;
    ws = client_path("hello", &o);
    assert_int_equal(tvk_ws_connect(ws), 0);
    tvk_ws_get_info(ws, &in);
    assert_int_equal(in.via_proxy, 0);
    tvk_ws_free(ws);

    /* a proxy that is not there */
    tvk_ws_opts_init(&o);
    o.proxy = "http://127.0.0.1:1";
    ws = client_path("hello", &o);
    rc = tvk_ws_connect(ws);
    expect_err(ws, rc, TVK_ECONNECT, "proxy 127.0.0.1:1");
    tvk_ws_free(ws);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_403, stop_servers),
        cmocka_unit_test_teardown(test_429, stop_servers),
        cmocka_unit_test_teardown(test_429_date, stop_servers),
        cmocka_unit_test_teardown(test_bad_accept, stop_servers),
        cmocka_unit_test_teardown(test_fragments, stop_servers),
        cmocka_unit_test_teardown(test_close_timeout, stop_servers),
        cmocka_unit_test_teardown(test_truncated, stop_servers),
        cmocka_unit_test_teardown(test_big_header, stop_servers),
        cmocka_unit_test_teardown(test_big_message, stop_servers),
        cmocka_unit_test_teardown(test_bomb, stop_servers),
        cmocka_unit_test_teardown(test_protocol_errors, stop_servers),
        cmocka_unit_test_teardown(test_bad_utf8_compressed, stop_servers),
        cmocka_unit_test_teardown(test_ping_timeout, stop_servers),
        cmocka_unit_test_teardown(test_mixed_deflate, stop_servers),
        cmocka_unit_test_teardown(test_proxy, stop_servers),
    };
    return cmocka_run_group_tests(tests, start_raw_server, stop_raw_server);
}
