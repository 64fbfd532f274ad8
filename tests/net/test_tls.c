/* net_tls: wss against our own server role, with a CA and certificates made at test time by
 * the openssl CLI: verification success with ca_file, failures with the OpenSSL reason,
 * insecure mode (and its warning), TLS through a CONNECT proxy from HTTPS_PROXY. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "net/internal.h"
#include "util.h"

static char dir[256];
static char ca[300], cert[300], key[300], self_cert[300], self_key[300];
static pid_t g_child = -1;

static int make_pki(void **state)
{
    (void)state;
    if (tu_tmpdir(dir, sizeof dir) != 0) return -1;
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && exec >openssl.log 2>&1 && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout ca.key -out ca.pem -days 2 -subj '/CN=tvkit test CA' && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout srv.key -out srv.csr -subj '/CN=tvkit test server' && "
             "printf 'subjectAltName=IP:127.0.0.1,DNS:tvkit.test\\nbasicConstraints=CA:FALSE\\n' "
             ">ext.cnf && "
             "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
             "-out srv.pem -days 2 -extfile ext.cnf && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout self.key -out self.pem -days 2 -subj '/CN=127.0.0.1' "
             "-addext subjectAltName=IP:127.0.0.1",
             dir);
    if (tu_sh(cmd) != 0) {
        fprintf(stderr, "openssl failed; see %s/openssl.log\n", dir);
        return -1;
    }
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    snprintf(cert, sizeof cert, "%s/srv.pem", dir);
    snprintf(key, sizeof key, "%s/srv.key", dir);
    snprintf(self_cert, sizeof self_cert, "%s/self.pem", dir);
    snprintf(self_key, sizeof self_key, "%s/self.key", dir);
    return 0;
}

static int drop_pki(void **state)
{
    (void)state;
    tu_rmdir(dir);
    return 0;
}

typedef struct env {
    tu_pump p;
    int port;
    tvk_ws *c;
    void *sctx;
    int smsgs;
    char log[512];
} env;

static void srv_msg(void *user, const char *d, size_t n)
{
    env *e = user;
    e->smsgs++;
    /* echo from the accepted connection */
    for (int i = 0; i < e->p.nsrv; i++)
        tvk_ws_send_text(e->p.srv[i], d, n);
}

static void log_line(void *user, const char *line)
{
    env *e = user;
    snprintf(e->log, sizeof e->log, "%s", line);
}

static int settled(void *arg)
{
    env *e = arg;
    int s = tvk_ws_get_state(e->c);
    return s == TVK_WS_OPEN || s == TVK_WS_CLOSED;
}

/* Starts our TLS server (cert/key) and a client for url_fmt; pumps until the client settles. */
static void run(env *e, const char *cf, const char *kf, const char *url_fmt, tvk_ws_opts *o)
{
    memset(e, 0, sizeof *e);
    char err[256] = "";
    e->sctx = tvk_ws_server_tls_ctx(cf, kf, err, sizeof err);
    if (!e->sctx) fail_msg("server ctx: %s", err);
    tvk_ws_server_opts so;
    tvk_ws_server_opts_init(&so);
    so.ssl_ctx = e->sctx;
    so.on_message = srv_msg;
    so.user = e;
    int lfd = tu_listen(&e->port);
    assert_true(lfd >= 0);
    tu_pump_init(&e->p, lfd, &so);
    char url[128];
    snprintf(url, sizeof url, url_fmt, e->port);
    o->url = url;
    o->user = e;
    o->log = log_line;
    e->c = tvk_ws_new(o);
    assert_non_null(e->c);
    e->p.cli[e->p.ncli++] = e->c;
    assert_int_equal(tvk_ws_connect_start(e->c), 0);
    tu_pump_until(&e->p, settled, e, 10000);
}

static void done(env *e)
{
    tvk_ws_free(e->c);
    tu_pump_free(&e->p);
    tvk_ws_server_tls_ctx_free(e->sctx);
}

static void expect_fail(env *e, int code, const char *needle)
{
    if (tvk_ws_error(e->c) != code || !strstr(tvk_ws_errmsg(e->c), needle))
        fail_msg("got %s \"%s\", want %s with \"%s\"", tvk_errname(tvk_ws_error(e->c)),
                 tvk_ws_errmsg(e->c), tvk_errname(code), needle);
}

static int echoed(void *arg)
{
    env *e = arg;
    return e->c->qcount > 0 || tvk_ws_get_state(e->c) == TVK_WS_CLOSED;
}

static void echo_check(env *e)
{
    assert_int_equal(tvk_ws_send_text(e->c, "over tls", 8), 0);
    assert_true(tu_pump_until(&e->p, echoed, e, 5000));
    const char *d;
    size_t n;
    assert_int_equal(tvk_ws_recv(e->c, &d, &n, 0), 1);
    assert_string_equal(d, "over tls");
}

static void test_ca_file_ok(void **state)
{
    (void)state;
    env e;
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    o.proxy = "";
    o.ca_file = ca;
    run(&e, cert, key, "wss://127.0.0.1:%d/tls", &o);
    if (tvk_ws_get_state(e.c) != TVK_WS_OPEN) fail_msg("%s", tvk_ws_errmsg(e.c));
    o.on_message = NULL;
    tvk_ws_info in;
    tvk_ws_get_info(e.c, &in);
    assert_int_equal(in.tls, 1);
    assert_int_equal(in.deflate, 1);
    echo_check(&e);
    assert_string_equal(e.log, ""); /* verified: no warning */
    done(&e);
}

static void test_no_sigpipe(void **state)
{
    (void)state;
    env e;
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    o.proxy = "";
    o.ca_file = ca;
    o.compress = 0;
    run(&e, cert, key, "wss://127.0.0.1:%d/", &o);
    assert_int_equal(tvk_ws_get_state(e.c), TVK_WS_OPEN);
    assert_true(e.p.nsrv == 1);
    tvk_ws_abort(e.p.srv[0]);
    char buf[32 * 1024];
    memset(buf, 'x', sizeof buf);
    int r = 0;
    for (int i = 0; i < 2000 && r == 0; i++) {
        r = tvk_ws_send_text(e.c, buf, sizeof buf);
        if (r == TVK_EBACKPRESSURE) r = tvk_ws_flush(e.c, 5000);
    }
    assert_true(r == TVK_EIO || r == TVK_ECLOSED);
    done(&e);
}

static void test_unknown_ca(void **state)
{
    (void)state;
    env e;
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    o.proxy = "";
    run(&e, cert, key, "wss://127.0.0.1:%d/", &o); /* system store: our CA is not in it */
    expect_fail(&e, TVK_ETLS_VERIFY, "certificate verify failed: unable to get local issuer");
    done(&e);
}

static void test_self_signed(void **state)
{
    (void)state;
    env e;
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    o.proxy = "";
    run(&e, self_cert, self_key, "wss://127.0.0.1:%d/", &o);
    expect_fail(&e, TVK_ETLS_VERIFY, "TLS: certificate verify failed: self-signed certificate");
    done(&e);
}

static void test_wrong_host(void **state)
{
    (void)state;
    env e;
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    o.proxy = "";
    o.ca_file = ca;
    /* the certificate names 127.0.0.1 and tvkit.test, not localhost */
    run(&e, cert, key, "wss://localhost:%d/", &o);
    expect_fail(&e, TVK_ETLS_VERIFY, "certificate verify failed: hostname mismatch");
    done(&e);
}

static void test_insecure_warns(void **state)
{
    (void)state;
    env e;
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    o.proxy = "";
    o.insecure = 1;
    run(&e, self_cert, self_key, "wss://localhost:%d/", &o);
    if (tvk_ws_get_state(e.c) != TVK_WS_OPEN) fail_msg("%s", tvk_ws_errmsg(e.c));
    assert_non_null(strstr(e.log, "warning"));
    assert_non_null(strstr(e.log, "insecure"));
    echo_check(&e);
    done(&e);
}

static void test_bad_ca_file_and_ctx(void **state)
{
    (void)state;
    env e;
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    o.proxy = "";
    o.ca_file = "/nonexistent/ca.pem";
    run(&e, cert, key, "wss://127.0.0.1:%d/", &o);
    expect_fail(&e, TVK_ETLS, "cannot load CA file \"/nonexistent/ca.pem\"");
    done(&e);
    char err[256];
    assert_null(tvk_ws_server_tls_ctx("/nonexistent.pem", key, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent.pem"));
    assert_null(tvk_ws_server_tls_ctx(cert, self_key, err, sizeof err)); /* key mismatch */
}

static void test_plain_to_tls(void **state)
{
    (void)state;
    env e;
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    o.proxy = "";
    o.connect_timeout_ms = 3000;
    run(&e, cert, key, "ws://127.0.0.1:%d/", &o);
    /* the TLS server sees an HTTP request as a bad ClientHello and drops it */
    assert_int_equal(tvk_ws_get_state(e.c), TVK_WS_CLOSED);
    assert_true(tvk_ws_error(e.c) == TVK_EHANDSHAKE || tvk_ws_error(e.c) == TVK_EIO);
    done(&e);
}

static void test_tls_via_proxy(void **state)
{
    (void)state;
    int pport;
    g_child = tu_spawn_script("TVK_PYTHON3", "connect_proxy.py", NULL, &pport);
    assert_true(g_child > 0);
    char purl[64];
    snprintf(purl, sizeof purl, "127.0.0.1:%d", pport);
    setenv("HTTPS_PROXY", purl, 1);
    unsetenv("https_proxy");
    unsetenv("no_proxy");
    unsetenv("NO_PROXY");
    env e;
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    o.ca_file = ca;
    run(&e, cert, key, "wss://127.0.0.1:%d/proxied", &o);
    unsetenv("HTTPS_PROXY");
    if (tvk_ws_get_state(e.c) != TVK_WS_OPEN) fail_msg("%s", tvk_ws_errmsg(e.c));
    tvk_ws_info in;
    tvk_ws_get_info(e.c, &in);
    assert_int_equal(in.via_proxy, 1);
    assert_int_equal(in.tls, 1);
    echo_check(&e);
    done(&e);
}

/* Starts a Python TLS peer (g_child, stopped by the teardown) and connects to it with our CA;
 * compress 0 also turns pings off. */
static tvk_ws *python_peer(const char *script, const char *const *args, int compress)
{
    int port;
    g_child = tu_spawn_script("TVK_PYTHON3", script, args, &port);
    assert_true(g_child > 0);
    char url[64];
    snprintf(url, sizeof url, "wss://127.0.0.1:%d/", port);
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    o.url = url;
    o.proxy = "";
    o.ca_file = ca;
    if (!compress) o.compress = o.ping_interval_ms = 0;
    tvk_ws *ws = tvk_ws_new(&o);
    if (tvk_ws_connect(ws) != 0) fail_msg("%s", tvk_ws_errmsg(ws));
    return ws;
}

/* An independent TLS server: python3-websockets with the ssl module, our CA. */
static void test_python_tls(void **state)
{
    (void)state;
    const char *args[] = {"--tls", cert, key, NULL};
    tvk_ws *ws = python_peer("ws_server.py", args, 1);
    char *big = tu_text(1u << 20, 4);
    assert_int_equal(tvk_ws_send_text(ws, big, 1u << 20), 0);
    const char *d;
    size_t n;
    assert_int_equal(tvk_ws_recv(ws, &d, &n, 20000), 1);
    assert_int_equal(n, 1u << 20);
    assert_memory_equal(d, big, n);
    free(big);
    assert_int_equal(tvk_ws_send_text(ws, "ping-me", 7), 0);
    assert_int_equal(tvk_ws_recv(ws, &d, &n, 5000), 1);
    assert_string_equal(d, "pong-ok");
    assert_int_equal(tvk_ws_close(ws), 0);
    tvk_ws_free(ws);
}

/* A TLS record that arrives in pieces (a slow link): while it is incomplete the client waits in
 * poll(), it does not spin. Its CPU while waiting ~1.5 s for the message stays a small part of
 * the wait (a spinning client uses all of it). */
static double cpu_s(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
           (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

static void test_record_in_pieces(void **state)
{
    (void)state;
    const char *args[] = {cert, key, "500", "0.05", NULL};
    tvk_ws *ws = python_peer("tls_dribble.py", args, 0);
    double c0 = cpu_s();
    int64_t t0 = tvk_now_ms();
    const char *d;
    size_t n;
    assert_int_equal(tvk_ws_recv(ws, &d, &n, 20000), 1);
    double waited = (double)(tvk_now_ms() - t0) / 1000, used = cpu_s() - c0;
    assert_int_equal(n, 15000);
    assert_true(d[0] == 'x' && d[n - 1] == 'x');
    assert_true(waited > 0.5); /* the pieces did arrive over time */
    if (used > waited / 4) fail_msg("%.2f s of CPU while waiting %.2f s", used, waited);
    tvk_ws_free(ws);
}

/* A burst of records (one message each) that one recv reads at once, taken by a client that
 * stops reading after every message (max_queued 1): the rest waits in the handle's TLS read
 * buffer while the socket is empty, and tvk_ws_deadline must say "now" for it (poll() would
 * sleep until the server's next byte, which never comes). Messages are taken from the queue
 * without a read (tvk_rx_pop), so only the pump's poll and timers can bring the rest in. */
enum { BURST = 300, BURST_LEN = 100 };

typedef struct burst {
    env *e;
    int got, bad;
} burst;

static int burst_taken(void *arg)
{
    burst *b = arg;
    const char *d;
    size_t n;
    while (tvk_rx_pop(b->e->c, &d, &n)) {
        char head[16];
        int hl = snprintf(head, sizeof head, "%05d:", b->got);
        if (n != BURST_LEN || memcmp(d, head, (size_t)hl) != 0 || d[n - 1] != 'a' + b->got % 26)
            b->bad++;
        b->got++;
    }
    return b->got == BURST || b->bad || tvk_ws_get_state(b->e->c) == TVK_WS_CLOSED;
}

static void test_burst_in_read_buffer(void **state)
{
    (void)state;
    env e;
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    o.proxy = "";
    o.ca_file = ca;
    o.compress = 0;
    o.ping_interval_ms = 0;
    o.max_queued = 1;
    run(&e, cert, key, "wss://127.0.0.1:%d/tls", &o);
    if (tvk_ws_get_state(e.c) != TVK_WS_OPEN) fail_msg("%s", tvk_ws_errmsg(e.c));
    assert_int_equal(e.p.nsrv, 1);
    char msg[BURST_LEN];
    for (int i = 0; i < BURST; i++) {
        int hl = snprintf(msg, sizeof msg, "%05d:", i);
        memset(msg + hl, 'a' + i % 26, sizeof msg - (size_t)hl);
        assert_int_equal(tvk_ws_send_text(e.p.srv[0], msg, sizeof msg), 0);
        assert_int_equal(tvk_ws_flush(e.p.srv[0], 5000), 0); /* a record of its own */
    }
    burst b = {&e, 0, 0};
    int ok = tu_pump_until(&e.p, burst_taken, &b, 10000);
    if (!ok || b.got != BURST || b.bad)
        fail_msg("%d of %d messages in 10 s (%d wrong), client %s", b.got, BURST, b.bad,
                 tvk_ws_errmsg(e.c));
    done(&e);
}

static int stop_child(void **state)
{
    (void)state;
    tu_stop(g_child);
    g_child = -1;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ca_file_ok),
        cmocka_unit_test(test_no_sigpipe),
        cmocka_unit_test(test_unknown_ca),
        cmocka_unit_test(test_self_signed),
        cmocka_unit_test(test_wrong_host),
        cmocka_unit_test(test_insecure_warns),
        cmocka_unit_test(test_bad_ca_file_and_ctx),
        cmocka_unit_test(test_plain_to_tls),
        cmocka_unit_test_teardown(test_tls_via_proxy, stop_child),
        cmocka_unit_test_teardown(test_python_tls, stop_child),
        cmocka_unit_test_teardown(test_record_in_pieces, stop_child),
        cmocka_unit_test(test_burst_in_read_buffer),
    };
    return cmocka_run_group_tests(tests, make_pki, drop_pki);
}
