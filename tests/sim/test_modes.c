/* tvkit-sim modes: --log, --replay (real captures, byte-exact), --latency, --firehose,
 * --max-lifetime, wss with --tls-cert/--tls-key, --help / bad usage, many connections and
 * thousands of SIM: symbols. argv[1] is the captures directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define WAIT 5000

static const char *captures;

static void test_log(void **st)
{
    (void)st;
    char path[256];
    hs_tmpname(path, sizeof path, "log");
    hs_sim s;
    hs_client c;
    const char *args[] = {"--log", path, "--heartbeat", "0.1", NULL};
    assert_int_equal(hs_start(&s, args), 0);
    assert_int_equal(hs_connect(&c, s.url, NULL, 0, 1, 0), 0);
    assert_int_equal(hs_send(&c, "set_auth_token", "[\"unauthorized_user_token\"]"), 0);
    assert_int_equal(hs_send(&c, "quote_create_session", "[\"qs_log\"]"), 0);
    assert_int_equal(hs_send(&c, "quote_add_symbols", "[\"qs_log\",\"NYSE:IBM\"]"), 0);
    tvk_msg m;
    assert_int_equal(hs_wait(&c, "quote_completed", &m, WAIT), 1);
    assert_int_equal(hs_wait(&c, "heartbeat", &m, WAIT), 1); /* echoed by the harness */
    assert_int_equal(hs_wait(&c, "heartbeat", &m, WAIT), 1); /* ... and the echo is read */
    hs_close(&c);
    assert_int_equal(hs_stop(&s), 0);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096];
    const char *want[] = {"set_auth_token", "quote_create_session", "quote_add_symbols"};
    int n = 0, hb = 0;
    tvk_reader *rd = tvk_reader_new(0);
    while (fgets(line, sizeof line, f)) {
        tvk_msg lm;
        assert_int_equal(tvk_reader_parse_payload(rd, line, strlen(line) - 1, &lm), 0);
        const tvk_json *j = lm.json;
        int64_t conn;
        assert_int_equal(tvk_json_int64(j, tvk_json_member(j, 0, "conn"), &conn), 0);
        assert_int_equal(conn, 1);
        assert_true(tvk_json_member(j, 0, "t_ms") > 0);
        if (tvk_json_member(j, 0, "heartbeat") > 0) {
            hb++;
            continue;
        }
        int msg = tvk_json_member(j, 0, "msg");
        assert_true(msg > 0);
        assert_true(n < 3);
        assert_true(tvk_json_str_eq(j, tvk_json_member(j, msg, "m"), want[n]));
        n++;
    }
    assert_int_equal(n, 3);
    assert_true(hb >= 1);
    tvk_reader_free(rd);
    fclose(f);
    unlink(path);
}

/* The capture's lines come back byte-exact, in order, after the first client message. */
static void replay(const char *file, int framed, uint64_t want_packets)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", captures, file);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    hs_sim s;
    hs_client c;
    const char *args[] = {"--replay", path, NULL};
    assert_int_equal(hs_start(&s, args), 0);
    assert_int_equal(hs_connect(&c, s.url, NULL, 0, 1, 0), 0);
    tvk_msg m;
    assert_int_equal(hs_next(&c, &m, 300), 0); /* nothing before the client speaks */
    assert_int_equal(hs_send(&c, "set_auth_token", "[\"unauthorized_user_token\"]"), 0);
    size_t cap = 4 << 20;
    char *line = malloc(cap);
    uint64_t lines = 0;
    while (fgets(line, (int)cap, f)) {
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (!len) continue;
        lines++;
        /* The first packet of the next message, then the rest of that message. */
        int rc = hs_next(&c, &m, WAIT);
        if (rc == 0)
            fail_msg("%s: message %llu (%zu bytes) never came", file, (unsigned long long)lines,
                     len);
        assert_true(rc > 0 || c.last_err == rc); /* reader errors only, never the socket */
        while ((rc = hs_next_in_msg(&c, &m)) != 0)
            assert_true(rc > 0 || c.last_err == rc);
        if (framed) {
            assert_int_equal(c.msglen, len);
            assert_memory_equal(c.msg, line, len);
        } else {
            assert_int_equal(c.msglen, len + strlen("~m~~m~") +
                                           (len > 9999  ? 5
                                            : len > 999 ? 4
                                            : len > 99  ? 3
                                            : len > 9   ? 2
                                                        : 1));
            assert_memory_equal(strstr(c.msg + 3, "~m~") + 3, line, len);
        }
    }
    assert_int_equal(c.messages, lines);
    assert_int_equal(c.packets, want_packets);
    free(line);
    fclose(f);
    hs_close(&c);
    assert_int_equal(hs_stop(&s), 0);
}

static void test_replay(void **st)
{
    (void)st;
    replay("stock-tools_trading-chart_har_server_to_client.txt", 1, 1438);
    replay("tradingview-rs_socket_messages_split.txt", 1, 42);
    replay("tradingview-rs_events_reserialized.jsonl", 0, 21);
}

static void test_latency(void **st)
{
    (void)st;
    hs_sim s;
    hs_client c;
    const char *args[] = {"--latency", "300", NULL};
    assert_int_equal(hs_start(&s, args), 0);
    int64_t t0 = tvk_now_ms();
    assert_int_equal(hs_connect(&c, s.url, NULL, 0, 1, 0), 0);
    tvk_msg m;
    assert_int_equal(hs_wait(&c, "hello", &m, WAIT), 1);
    assert_true(tvk_now_ms() - t0 >= 300);
    t0 = tvk_now_ms();
    assert_int_equal(hs_send(&c, "quote_create_session", "[\"qs_l\"]"), 0);
    assert_int_equal(hs_send(&c, "quote_add_symbols", "[\"qs_l\",\"SIM:L\"]"), 0);
    assert_int_equal(hs_wait(&c, "quote_completed", &m, WAIT), 1);
    assert_true(tvk_now_ms() - t0 >= 300);
    hs_close(&c);
    assert_int_equal(hs_stop(&s), 0);
}

static void test_firehose(void **st)
{
    (void)st;
    hs_sim s;
    hs_client c;
    const char *args[] = {"--firehose", "20000", "--symbols", "3", "--update-ms", "100000", NULL};
    assert_int_equal(hs_start(&s, args), 0);
    assert_int_equal(hs_connect(&c, s.url, NULL, 0, 0, 0), 0);
    assert_int_equal(hs_send(&c, "quote_create_session", "[\"qs_fh\"]"), 0);
    assert_int_equal(hs_send(&c, "quote_add_symbols", "[\"qs_fh\",\"SIM:F1\",\"SIM:F2\"]"), 0);
    tvk_msg m;
    assert_int_equal(hs_wait(&c, "quote_completed", &m, WAIT), 1);
    assert_int_equal(hs_wait(&c, "quote_completed", &m, WAIT), 1);
    assert_int_equal(hs_next(&c, &m, 300), 0); /* 2 of 3 symbols: no firehose yet */
    assert_int_equal(hs_send(&c, "quote_add_symbols", "[\"qs_fh\",\"SIM:F3\"]"), 0);
    assert_int_equal(hs_wait(&c, "quote_completed", &m, WAIT), 1);
    uint64_t qsd = 0;
    const char *order[] = {"SIM:F1", "SIM:F2", "SIM:F3"};
    for (;;) {
        assert_int_equal(hs_next(&c, &m, WAIT), 1);
        if (hs_is(&m, "firehose_completed")) break;
        if (m.type == TVK_MSG_HEARTBEAT) continue;
        tvk_qsd q;
        assert_int_equal(tvk_msg_qsd(&m, &q), 0);
        assert_true(q.ok);
        assert_int_equal(q.symbol.len, 6);
        assert_memory_equal(q.symbol.p, order[qsd % 3], 6); /* round-robin */
        qsd++;
    }
    assert_int_equal(qsd, 20000);
    assert_true(c.messages < 20000 / 10); /* batched */
    hs_close(&c);
    assert_int_equal(hs_stop(&s), 0);
}

/* Firehose message boundaries as a client reads them: every firehose message holds at most
 * batch packets (all but the last exactly batch), the total is exact, and the end marker comes
 * alone after them. extra: more sim arguments (NULL = the default batch). */
static void firehose_batches(int64_t total, int64_t batch, const char *extra)
{
    char ntot[32];
    snprintf(ntot, sizeof ntot, "%lld", (long long)total);
    const char *args[] = {"--firehose",
                          ntot,
                          "--symbols",
                          "2",
                          "--update-ms",
                          "100000",
                          extra ? "--firehose-batch" : NULL,
                          extra,
                          NULL};
    hs_sim s;
    hs_client c;
    assert_int_equal(hs_start(&s, args), 0);
    assert_int_equal(hs_connect(&c, s.url, NULL, 0, 0, 0), 0);
    assert_int_equal(hs_send(&c, "quote_create_session", "[\"qs_b\"]"), 0);
    assert_int_equal(hs_send(&c, "quote_add_symbols", "[\"qs_b\",\"SIM:B1\",\"SIM:B2\"]"), 0);
    tvk_msg m;
    assert_int_equal(hs_wait(&c, "quote_completed", &m, WAIT), 1);
    assert_int_equal(hs_wait(&c, "quote_completed", &m, WAIT), 1);
    assert_int_equal(hs_next_in_msg(&c, &m), 0); /* the snapshots' message ends there */
    int64_t qsd = 0, msgs = 0, short_msgs = 0;
    int done = 0;
    while (!done) {
        int rc = hs_next(&c, &m, WAIT); /* the first packet of the next message */
        assert_int_equal(rc, 1);
        if (m.type == TVK_MSG_HEARTBEAT) continue;
        int64_t in_msg = 0;
        do {
            if (hs_is(&m, "firehose_completed")) {
                assert_int_equal(in_msg, 0); /* alone in its message */
                assert_int_equal(hs_next_in_msg(&c, &m), 0);
                done = 1;
                break;
            }
            assert_true(hs_is(&m, "qsd"));
            in_msg++;
        } while ((rc = hs_next_in_msg(&c, &m)) == 1);
        assert_true(rc >= 0);
        if (done) break;
        assert_true(in_msg >= 1);
        assert_true(in_msg <= batch);
        if (in_msg < batch) short_msgs++;
        qsd += in_msg;
        msgs++;
    }
    assert_int_equal(qsd, total);
    assert_int_equal(msgs, (total + batch - 1) / batch);
    assert_int_equal(short_msgs, total % batch ? 1 : 0);
    hs_close(&c);
    assert_int_equal(hs_stop(&s), 0);
}

static void test_firehose_batch(void **st)
{
    (void)st;
    firehose_batches(1007, 20, NULL); /* the default, as the real server batches */
    firehose_batches(1000, 7, "7");
    firehose_batches(1000, 1, "1");
    firehose_batches(30000, 100000, "100000"); /* all of it in one message */
}

static void test_max_lifetime(void **st)
{
    (void)st;
    hs_sim s;
    const char *args[] = {"--max-lifetime", "0.3", NULL};
    assert_int_equal(hs_start(&s, args), 0);
    assert_int_equal(hs_wait_exit(&s, 5000), 0);
}

static void test_tls(void **st)
{
    (void)st;
    char dir[256], cmd[1024], cert[300], key[300];
    hs_tmpname(dir, sizeof dir, "tls");
    snprintf(cert, sizeof cert, "%s-cert.pem", dir);
    snprintf(key, sizeof key, "%s-key.pem", dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
             "-addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s >/dev/null 2>&1",
             key, cert);
    if (system(cmd) != 0) {
        skip(); /* no openssl command to make a certificate */
    }
    hs_sim s;
    hs_client c;
    const char *args[] = {"--tls-cert", cert, "--tls-key", key, NULL};
    assert_int_equal(hs_start(&s, args), 0);
    assert_non_null(strstr(s.url, "wss://127.0.0.1:"));
    assert_int_equal(hs_connect(&c, s.url, NULL, 0, 1, 0), 0);
    tvk_ws_info info;
    tvk_ws_get_info(c.ws, &info);
    assert_int_equal(info.tls, 1);
    tvk_msg m;
    assert_int_equal(hs_wait(&c, "hello", &m, WAIT), 1);
    hs_close(&c);
    assert_int_equal(hs_stop(&s), 0);
    unlink(cert);
    unlink(key);
    /* A key that does not exist: a clear error and exit status 1. */
    const char *bad[] = {"--tls-cert", cert, "--tls-key", key, NULL};
    char out[256];
    assert_int_equal(hs_run(bad, out, sizeof out), 1);
}

static void test_usage(void **st)
{
    (void)st;
    static char out[16384];
    const char *help[] = {"--help", NULL};
    assert_int_equal(hs_run(help, out, sizeof out), 0);
    assert_non_null(strstr(out, "Usage: tvkit-sim"));
    assert_non_null(strstr(out, "--fault NAME[=N]"));
    const char *bad[] = {"--no-such-option", NULL};
    assert_int_equal(hs_run(bad, out, sizeof out), 2);
    const char *bad2[] = {"--fault", "close-after", NULL};
    assert_int_equal(hs_run(bad2, out, sizeof out), 2);
    const char *bad3[] = {"--replay", "/nonexistent/file", NULL};
    assert_int_equal(hs_run(bad3, out, sizeof out), 1);
}

/* Many connections at once, and thousands of SIM: symbols in one quote session. */
static void test_scale(void **st)
{
    (void)st;
    hs_sim s;
    enum { N = 40 };
    static hs_client c[N];
    assert_int_equal(hs_start(&s, NULL), 0);
    for (int i = 0; i < N; i++) {
        char p[256];
        assert_int_equal(hs_connect(&c[i], s.url, NULL, 0, i % 2, 0), 0);
        snprintf(p, sizeof p, "[\"cs_%d\",\"\"]", i);
        assert_int_equal(hs_send(&c[i], "chart_create_session", p), 0);
        snprintf(p, sizeof p, "[\"cs_%d\",\"r\",\"SIM:C%d\"]", i, i);
        assert_int_equal(hs_send(&c[i], "resolve_symbol", p), 0);
        snprintf(p, sizeof p, "[\"cs_%d\",\"s\",\"s1\",\"r\",\"5\",1000,\"\"]", i);
        assert_int_equal(hs_send(&c[i], "create_series", p), 0);
    }
    for (int i = 0; i < N; i++) {
        tvk_msg m;
        assert_int_equal(hs_wait(&c[i], "timescale_update", &m, WAIT), 1);
        tvk_series_update su;
        assert_int_equal(tvk_msg_series(&m, "s", &su), 0);
        assert_int_equal(su.nbars, 1000);
        assert_int_equal(hs_wait(&c[i], "series_completed", &m, WAIT), 1);
    }
    for (int i = 1; i < N; i++)
        hs_close(&c[i]);
    /* 3000 symbols in one quote_add_symbols. */
    tvk_buf p;
    tvk_buf_init(&p);
    tvk_buf_puts(&p, "[\"qs_big\"");
    for (int i = 0; i < 3000; i++)
        tvk_buf_printf(&p, ",\"SIM:S%d\"", i);
    tvk_buf_puts(&p, "]");
    assert_int_equal(hs_send(&c[0], "quote_create_session", "[\"qs_big\"]"), 0);
    assert_int_equal(hs_send(&c[0], "quote_add_symbols", p.data), 0);
    tvk_buf_free(&p);
    int done = 0;
    tvk_msg m;
    while (done < 3000) {
        assert_int_equal(hs_wait(&c[0], "quote_completed", &m, WAIT), 1);
        done++;
    }
    hs_close(&c[0]);
    assert_int_equal(hs_stop(&s), 0);
}

int main(int argc, char **argv)
{
    captures = argc > 1 ? argv[1] : getenv("TVK_CAPTURES");
    if (!captures) {
        fprintf(stderr, "usage: %s CAPTURES_DIR\n", argv[0]);
        return 2;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log),
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_latency),
        cmocka_unit_test(test_firehose),
        cmocka_unit_test(test_firehose_batch),
        cmocka_unit_test(test_max_lifetime),
        cmocka_unit_test(test_tls),
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
