/* net_interop: our client against independent servers (python3-websockets and Node's ws),
 * permessage-deflate on with a threshold: big messages arrive compressed, small ones plain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

#define BIG (2u << 20)

static pid_t g_pid = -1;

static int stop_server(void **state)
{
    (void)state;
    tu_stop(g_pid);
    g_pid = -1;
    return 0;
}

static void expect(tvk_ws *ws, const char *want)
{
    const char *d;
    size_t n;
    int r = tvk_ws_recv(ws, &d, &n, 10000);
    if (r != 1) fail_msg("recv: %d %s (waiting for \"%s\")", r, tvk_ws_errmsg(ws), want);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(d, want, n);
}

static void exchange(pid_t pid, int port, int python, int want_sbits, int want_cbits, int sno,
                     int cno)
{
    assert_true(pid > 0);
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/interop?x=1", port);
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    o.url = url;
    o.proxy = "";
    tvk_ws *ws = tvk_ws_new(&o);
    assert_non_null(ws);
    int r = tvk_ws_connect(ws);
    if (r) fail_msg("connect: %s", tvk_ws_errmsg(ws));
    tvk_ws_info in;
    tvk_ws_get_info(ws, &in);
    assert_int_equal(in.deflate, 1);
    assert_int_equal(in.server_max_window_bits, want_sbits);
    assert_int_equal(in.client_max_window_bits, want_cbits);
    assert_int_equal(in.server_no_context_takeover, sno);
    assert_int_equal(in.client_no_context_takeover, cno);

    /* 2 MB each way, twice (the second one exercises context takeover) */
    for (unsigned seed = 1; seed <= 2; seed++) {
        char *big = tu_text(BIG, seed);
        assert_int_equal(tvk_ws_send_text(ws, big, BIG), 0);
        const char *d;
        size_t n;
        r = tvk_ws_recv(ws, &d, &n, 30000);
        if (r != 1) fail_msg("recv big: %d %s", r, tvk_ws_errmsg(ws));
        assert_int_equal(n, BIG);
        assert_memory_equal(d, big, BIG);
        free(big);
    }
    tvk_ws_get_info(ws, &in);
    assert_int_equal(in.messages_in_deflated, 2);
    assert_true(in.bytes_in < BIG); /* two 2 MB messages in under 2 MB: compressed */

    /* a stream of small ones, our sends echoed, then the server's own burst */
    char m[32];
    for (int i = 0; i < 300; i++) {
        int k = snprintf(m, sizeof m, "m%d", i);
        assert_int_equal(tvk_ws_send_text(ws, m, (size_t)k), 0);
    }
    for (int i = 0; i < 300; i++) {
        snprintf(m, sizeof m, "m%d", i);
        expect(ws, m);
    }
    assert_int_equal(tvk_ws_send_text(ws, "small 500", 9), 0);
    for (int i = 0; i < 500; i++) {
        snprintf(m, sizeof m, "s%d", i);
        expect(ws, m);
    }
    tvk_ws_get_info(ws, &in);
    assert_int_equal(in.messages_in, 802);
    assert_int_equal(in.messages_in_deflated, 2); /* small ones came uncompressed */

    /* the server pings; wslay's automatic pong must reach it */
    assert_int_equal(tvk_ws_send_text(ws, "ping-me", 7), 0);
    expect(ws, "pong-ok");
    if (python) {
        assert_int_equal(tvk_ws_send_text(ws, "stats", 5), 0);
        /* everything we sent was compressed: 2 big + 300 + "small 500" + "ping-me" + "stats" */
        expect(ws, "deflated 305");
    }
    assert_int_equal(tvk_ws_close(ws), 0);
    assert_int_equal(tvk_ws_get_state(ws), TVK_WS_CLOSED);
    assert_int_equal(tvk_ws_error(ws), 0);
    tvk_ws_get_info(ws, &in);
    assert_int_equal(in.close_code, 1000);
    tvk_ws_free(ws);
}

static void test_python(void **state)
{
    (void)state;
    int port;
    const char *args[] = {"--threshold", "1024", NULL};
    pid_t pid = g_pid = tu_spawn_script("TVK_PYTHON3", "ws_server.py", args, &port);
    exchange(pid, port, 1, 15, 15, 0, 0);
}

static void test_python_params(void **state)
{
    (void)state;
    int port;
    const char *args[] = {"--threshold",
                          "1024",
                          "--server-no-context-takeover",
                          "--client-no-context-takeover",
                          "--server-max-window-bits",
                          "10",
                          "--client-max-window-bits",
                          "9",
                          NULL};
    pid_t pid = g_pid = tu_spawn_script("TVK_PYTHON3", "ws_server.py", args, &port);
    exchange(pid, port, 1, 10, 9, 1, 1);
}

static void test_node(void **state)
{
    (void)state;
    const char *nd = getenv("TVK_NODE_DIR");
    char np[1024];
    snprintf(np, sizeof np, "%s/node_modules", nd ? nd : ".");
    setenv("NODE_PATH", np, 1);
    int port;
    const char *args[] = {"1024", NULL};
    pid_t pid = g_pid = tu_spawn_script("TVK_NODE", "ws_server.js", args, &port);
    exchange(pid, port, 0, 15, 15, 1, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_python, stop_server),
        cmocka_unit_test_teardown(test_python_params, stop_server),
        cmocka_unit_test_teardown(test_node, stop_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
