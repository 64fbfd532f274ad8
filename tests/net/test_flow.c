/* net_flow: receive-side flow control. A server that pushes far more than the client takes
 * must not grow the client's memory: queue mode stops reading at max_queued (TCP holds the
 * server back), callback mode returns from on_readable after about max_queued bytes. Checked
 * through the handle's own counters (tvk_ws_info.rx_queued*, rx_buffer_peak), never timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

#define MSG (64 * 1024)
#define WSLAY_CHUNK 4096 /* slack (reading stops at a message boundary) */

typedef struct flow {
    tu_pump p;
    tvk_ws *c;
    long next;    /* sequence number expected next */
    long got;     /* messages received and checked */
    size_t burst; /* bytes delivered by on_message in the current on_readable call */
    int bad;
} flow;

/* "%08ld" sequence number, then filler that depends on it */
static void fill(char *m, long seq)
{
    snprintf(m, 9, "%08ld", seq);
    for (size_t i = 8; i < MSG; i++)
        m[i] = (char)('a' + (seq + (long)i) % 26);
}

static void check(flow *f, const char *data, size_t len)
{
    char want[MSG];
    fill(want, f->next);
    if (len != MSG || memcmp(data, want, MSG) != 0) f->bad++;
    f->next++;
    f->got++;
}

static void on_cli_msg(void *user, const char *data, size_t len)
{
    flow *f = user;
    check(f, data, len);
    f->burst += len;
}

static int srv_open(void *arg)
{
    flow *f = arg;
    return f->p.nsrv > 0 && tvk_ws_get_state(f->p.srv[0]) == TVK_WS_OPEN &&
           tvk_ws_get_state(f->c) == TVK_WS_OPEN;
}

static void open_flow(flow *f, tvk_ws_opts *co)
{
    memset(f, 0, sizeof *f);
    int port;
    int lfd = tu_listen(&port);
    assert_true(lfd >= 0);
    tvk_ws_server_opts so;
    tvk_ws_server_opts_init(&so);
    so.compress = 0;
    tu_pump_init(&f->p, lfd, &so);
    char url[100];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
    co->url = url;
    co->proxy = "";
    co->compress = 0;
    co->ping_interval_ms = 0;
    f->c = tvk_ws_new(co);
    assert_non_null(f->c);
    f->p.cli[f->p.ncli++] = f->c;
    assert_int_equal(tvk_ws_connect_start(f->c), 0);
    assert_true(tu_pump_until(&f->p, srv_open, f, 5000));
}

static void close_flow(flow *f)
{
    tvk_ws_free(f->c);
    tu_pump_free(&f->p);
}

/* The server sends while less than 512 KiB wait on its side, up to total messages. */
static void feed(flow *f, long *sent, long total)
{
    static char m[MSG];
    tvk_ws *s = f->p.srv[0];
    while (*sent < total && tvk_ws_pending(s) < 512 * 1024) {
        fill(m, *sent);
        assert_int_equal(tvk_ws_send_text(s, m, MSG), 0);
        (*sent)++;
    }
}

/* Queue mode: 200 MB pushed as fast as the server can; the client takes one message per loop
 * round. Its queue never passes max_queued + one message (reading stops at a message end). */
static void test_queue_bounded(void **state)
{
    (void)state;
    tvk_ws_opts co;
    tvk_ws_opts_init(&co);
    assert_int_equal(co.max_queued, 256u << 10); /* the documented default */
    flow f;
    open_flow(&f, &co);
    const long total = 200L * 1000 * 1000 / MSG;
    const size_t qmax = co.max_queued + MSG + WSLAY_CHUNK + 64;
    long sent = 0;
    int rounds_full = 0;
    int64_t end = tvk_now_ms() + 100000;
    while (f.got < total && tvk_now_ms() < end && !f.bad) {
        feed(&f, &sent, total);
        tu_pump_once(&f.p, 10);
        tvk_ws_info ci;
        tvk_ws_get_info(f.c, &ci);
        assert_true(ci.rx_queued <= qmax);
        if (ci.rx_queued >= co.max_queued) {
            rounds_full++;
            /* a full queue means the socket is left alone */
            assert_false(tvk_ws_wants(f.c) & TVK_WANT_READ);
        }
        const char *data;
        size_t len;
        int r = tvk_ws_recv(f.c, &data, &len, 0);
        assert_true(r >= 0);
        if (r == 1) check(&f, data, len);
    }
    assert_int_equal(f.bad, 0);
    assert_int_equal(f.got, total);
    /* the server really was faster than the client: the bound was reached and held */
    assert_true(rounds_full > 0);
    tvk_ws_info ci;
    tvk_ws_get_info(f.c, &ci);
    assert_true(ci.rx_queued_peak >= co.max_queued);
    assert_true(ci.rx_queued_peak <= qmax);
    /* one buffer for queue and message, grown by doubling at most past what it held */
    assert_true(ci.rx_buffer_peak <= 2 * (co.max_queued + 2 * MSG + 2 * WSLAY_CHUNK));
    assert_int_equal(ci.messages_in, total);
    close_flow(&f);
}

/* A smaller bound is honoured too. */
static void test_queue_small_bound(void **state)
{
    (void)state;
    tvk_ws_opts co;
    tvk_ws_opts_init(&co);
    co.max_queued = 100 * 1024;
    flow f;
    open_flow(&f, &co);
    const long total = 400; /* 26 MB */
    const size_t qmax = co.max_queued + MSG + WSLAY_CHUNK + 64;
    long sent = 0;
    int64_t end = tvk_now_ms() + 60000;
    while (f.got < total && tvk_now_ms() < end && !f.bad) {
        feed(&f, &sent, total);
        tu_pump_once(&f.p, 10);
        const char *data;
        size_t len;
        if (tvk_ws_recv(f.c, &data, &len, 0) == 1) check(&f, data, len);
    }
    assert_int_equal(f.bad, 0);
    assert_int_equal(f.got, total);
    tvk_ws_info ci;
    tvk_ws_get_info(f.c, &ci);
    assert_true(ci.rx_queued_peak >= co.max_queued);
    assert_true(ci.rx_queued_peak <= qmax);
    assert_true(ci.rx_buffer_peak <= 2 * (co.max_queued + 2 * MSG + 2 * WSLAY_CHUNK));
    close_flow(&f);
}

/* Callback mode: with megabytes waiting in the socket, one on_readable call delivers about
 * max_queued bytes and returns; the rest comes with later calls, in order. */
static void test_callback_yields(void **state)
{
    (void)state;
    tvk_ws_opts co;
    tvk_ws_opts_init(&co);
    co.max_queued = 128 * 1024;
    flow f;
    co.on_message = on_cli_msg;
    co.user = &f;
    open_flow(&f, &co);
    /* 4 MB into the kernel buffers while the client is not driven */
    static char m[MSG];
    tvk_ws *s = f.p.srv[0];
    for (long i = 0; i < 64; i++) {
        fill(m, i);
        assert_int_equal(tvk_ws_send_text(s, m, MSG), 0);
    }
    int64_t end = tvk_now_ms() + 10000;
    while (tvk_ws_pending(s) > 0 && tvk_now_ms() < end) {
        tvk_ws_on_writable(s);
        if (tvk_ws_pending(s) > 0) {
            /* the kernel took all it would: let the client read a little, then go on */
            break;
        }
    }
    f.burst = 0;
    assert_int_equal(tvk_ws_on_readable(f.c), 0);
    assert_true(f.burst > 0);
    assert_true(f.burst <= co.max_queued + MSG + WSLAY_CHUNK);
    assert_true(f.got < 64);
    int calls = 1;
    /* each call on its own (a poll loop may add a timer call when bytes are buffered) */
    while (f.got < 64 && tvk_now_ms() < end && !f.bad && tvk_ws_get_state(f.c) == TVK_WS_OPEN) {
        if (tvk_ws_pending(s) > 0) tvk_ws_on_writable(s);
        f.burst = 0;
        assert_int_equal(tvk_ws_on_readable(f.c), 0);
        assert_true(f.burst <= co.max_queued + MSG + WSLAY_CHUNK);
        calls++;
    }
    assert_int_equal(f.bad, 0);
    assert_int_equal(f.got, 64);
    assert_true(calls > 1);
    close_flow(&f);
}

/* Closing while the server floods: the queue is full and nobody takes messages any more, yet
 * the client reads on (dropping data) until the server's close reply, so the close ends by the
 * handshake, not by close_timeout_ms, and the queue stays within its bound. */
static int closed(void *arg)
{
    flow *f = arg;
    static char m[MSG];
    tvk_ws *s = f->p.srv[0];
    while (tvk_ws_get_state(s) == TVK_WS_OPEN && tvk_ws_pending(s) < 512 * 1024) {
        fill(m, 0);
        if (tvk_ws_send_text(s, m, MSG) != 0) break;
    }
    return tvk_ws_get_state(f->c) == TVK_WS_CLOSED;
}

static void test_close_while_flooded(void **state)
{
    (void)state;
    tvk_ws_opts co;
    tvk_ws_opts_init(&co);
    co.close_timeout_ms = 20000;
    flow f;
    open_flow(&f, &co);
    long sent = 0;
    int64_t end = tvk_now_ms() + 10000;
    tvk_ws_info ci;
    do { /* fill the client's queue without taking anything */
        feed(&f, &sent, 1L << 30);
        tu_pump_once(&f.p, 10);
        tvk_ws_get_info(f.c, &ci);
    } while (ci.rx_queued < co.max_queued && tvk_now_ms() < end);
    assert_true(ci.rx_queued >= co.max_queued);
    int64_t t0 = tvk_now_ms();
    assert_int_equal(tvk_ws_close_start(f.c, 1000, NULL), 0);
    assert_true(tu_pump_until(&f.p, closed, &f, 10000));
    /* well before the 20 s close timeout: ended by the server's reply */
    assert_true(tvk_now_ms() - t0 < 10000);
    assert_int_not_equal(tvk_ws_error(f.c), TVK_ETIMEDOUT);
    tvk_ws_get_info(f.c, &ci);
    assert_int_equal(ci.close_code, 1000);
    assert_true(ci.messages_dropped > 0);
    assert_true(ci.rx_queued_peak <= co.max_queued + MSG + WSLAY_CHUNK + 64);
    close_flow(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_bounded),
        cmocka_unit_test(test_queue_small_bound),
        cmocka_unit_test(test_callback_yields),
        cmocka_unit_test(test_close_while_flooded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
