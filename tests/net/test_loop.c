/* net_loop: our client against our own server role, both driven by one poll() loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "net/internal.h"
#include "util.h"

typedef struct rx {
    int n;
    size_t total;
    char *last;
    size_t lastlen;
} rx;

static void on_msg(void *user, const char *data, size_t len)
{
    rx *r = user;
    r->n++;
    r->total += len;
    free(r->last);
    r->last = malloc(len + 1);
    memcpy(r->last, data, len);
    r->last[len] = 0;
    r->lastlen = len;
}

typedef struct env {
    tu_pump p;
    int port;
    tvk_ws *c;
    rx crx, srx;
} env;

static void env_start(env *e, tvk_ws_server_opts *so, tvk_ws_opts *co, const char *url_fmt)
{
    memset(e, 0, sizeof *e);
    int lfd = tu_listen(&e->port);
    assert_true(lfd >= 0);
    so->on_message = on_msg;
    so->user = &e->srx;
    tu_pump_init(&e->p, lfd, so);
    char url[200];
    snprintf(url, sizeof url, url_fmt ? url_fmt : "ws://127.0.0.1:%d/socket.io/websocket?x=1",
             e->port);
    co->url = url;
    co->proxy = "";
    if (!co->on_message && co->user != (void *)-1) {
        co->on_message = on_msg;
        co->user = &e->crx;
    }
    if (co->user == (void *)-1) co->user = NULL;
    e->c = tvk_ws_new(co);
    assert_non_null(e->c);
    e->p.cli[e->p.ncli++] = e->c;
}

static void env_free(env *e)
{
    tvk_ws_free(e->c);
    tu_pump_free(&e->p);
    free(e->crx.last);
    free(e->srx.last);
}

static int settled(void *arg)
{
    env *e = arg;
    int s = tvk_ws_get_state(e->c);
    return s == TVK_WS_OPEN || s == TVK_WS_CLOSED;
}
static int srv_open(void *arg)
{
    env *e = arg;
    return e->p.nsrv > 0 && tvk_ws_get_state(e->p.srv[0]) == TVK_WS_OPEN;
}
static int both_closed(void *arg)
{
    env *e = arg;
    return tvk_ws_get_state(e->c) == TVK_WS_CLOSED && e->p.nsrv > 0 &&
           tvk_ws_get_state(e->p.srv[0]) == TVK_WS_CLOSED;
}
static int client_closed(void *arg)
{
    env *e = arg;
    return tvk_ws_get_state(e->c) == TVK_WS_CLOSED;
}

static int want_crx, want_srx;
static int got_msgs(void *arg)
{
    env *e = arg;
    return (e->crx.n >= want_crx && e->srx.n >= want_srx) ||
           tvk_ws_get_state(e->c) == TVK_WS_CLOSED;
}

static void open_pair(env *e, tvk_ws_server_opts *so, tvk_ws_opts *co)
{
    env_start(e, so, co, NULL);
    assert_int_equal(tvk_ws_connect_start(e->c), 0);
    tu_pump_until(&e->p, settled, e, 5000);
    assert_int_equal(tvk_ws_get_state(e->c), TVK_WS_OPEN);
    tu_pump_until(&e->p, srv_open, e, 5000);
    assert_true(srv_open(e));
}

static void test_text_and_close(void **state)
{
    (void)state;
    env e;
    tvk_ws_server_opts so;
    tvk_ws_server_opts_init(&so);
    tvk_ws_opts co;
    tvk_ws_opts_init(&co);
    co.compress = 0;
    open_pair(&e, &so, &co);
    tvk_ws_info ci;
    tvk_ws_get_info(e.c, &ci);
    assert_int_equal(ci.http_status, 101);
    assert_int_equal(ci.deflate, 0);

    assert_int_equal(tvk_ws_send_text(e.c, "hello server", 12), 0);
    assert_int_equal(tvk_ws_send_text(e.p.srv[0], "hello client", 12), 0);
    want_crx = 1, want_srx = 1;
    assert_true(tu_pump_until(&e.p, got_msgs, &e, 5000));
    assert_string_equal(e.srx.last, "hello server");
    assert_string_equal(e.crx.last, "hello client");
    /* an empty message is a message */
    assert_int_equal(tvk_ws_send_text(e.c, "", 0), 0);
    want_srx = 2;
    assert_true(tu_pump_until(&e.p, got_msgs, &e, 5000));
    assert_int_equal(e.srx.lastlen, 0);

    assert_int_equal(tvk_ws_close_start(e.c, 1000, "bye"), 0);
    assert_int_equal(tvk_ws_get_state(e.c), TVK_WS_CLOSING);
    assert_true(tu_pump_until(&e.p, both_closed, &e, 5000));
    assert_int_equal(tvk_ws_error(e.c), 0);
    assert_int_equal(tvk_ws_error(e.p.srv[0]), TVK_ECLOSED); /* the peer closed it */
    tvk_ws_info si;
    tvk_ws_get_info(e.p.srv[0], &si);
    assert_int_equal(si.close_code, 1000);
    tvk_ws_get_info(e.c, &ci);
    assert_int_equal(ci.close_code, 1000);
    assert_int_equal(tvk_ws_send_text(e.c, "late", 4), TVK_ESTATE);
    assert_int_equal(tvk_ws_close(e.c), 0); /* twice is fine */
    env_free(&e);
}

static void test_deflate_threshold(void **state)
{
    (void)state;
    env e;
    tvk_ws_server_opts so;
    tvk_ws_server_opts_init(&so);
    so.compress_threshold = 1024;
    tvk_ws_opts co;
    tvk_ws_opts_init(&co);
    open_pair(&e, &so, &co);
    tvk_ws_info ci;
    tvk_ws_get_info(e.c, &ci);
    assert_int_equal(ci.deflate, 1);
    assert_int_equal(ci.server_max_window_bits, 15);

    char *big = tu_text(300000, 1);
    /* small, big, small, big: compressed and plain messages mixed on one connection */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(tvk_ws_send_text(e.p.srv[0], "tiny", 4), 0);
        assert_int_equal(tvk_ws_send_text(e.p.srv[0], big, 300000), 0);
    }
    assert_int_equal(tvk_ws_send_text(e.c, big, 300000), 0);
    want_crx = 4, want_srx = 1;
    assert_true(tu_pump_until(&e.p, got_msgs, &e, 10000));
    assert_int_equal(e.crx.n, 4);
    assert_int_equal(e.crx.lastlen, 300000);
    assert_memory_equal(e.crx.last, big, 300000);
    assert_int_equal(e.srx.lastlen, 300000);
    assert_memory_equal(e.srx.last, big, 300000);
    tvk_ws_get_info(e.c, &ci);
    assert_int_equal(ci.messages_in, 4);
    assert_int_equal(ci.messages_in_deflated, 2);
    assert_true(ci.bytes_in < 300000); /* it really was compressed on the wire */
    tvk_ws_info si;
    tvk_ws_get_info(e.p.srv[0], &si);
    assert_int_equal(si.messages_in_deflated, 1);
    free(big);
    env_free(&e);
}

static int reject_status;
static int on_upgrade(void *user, const tvk_http_request *req, int *retry_after)
{
    (void)user;
    assert_string_equal(req->method, "GET");
    assert_string_equal(req->path, "/socket.io/websocket?x=1");
    int origin = 0;
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcmp(req->headers[i].name, "Origin") == 0 &&
            strcmp(req->headers[i].value, "https://www.tradingview.com") == 0)
            origin = 1;
    assert_true(origin);
    if (reject_status == 429) *retry_after = 7;
    return reject_status;
}

static void test_reject(void **state)
{
    (void)state;
    int codes[] = {403, 429, 503};
    int want[] = {TVK_EHTTP_403, TVK_EHTTP_429, TVK_EHTTP};
    for (int i = 0; i < 3; i++) {
        env e;
        tvk_ws_server_opts so;
        tvk_ws_server_opts_init(&so);
        so.on_upgrade = on_upgrade;
        reject_status = codes[i];
        tvk_ws_opts co;
        tvk_ws_opts_init(&co);
        env_start(&e, &so, &co, NULL);
        assert_int_equal(tvk_ws_connect_start(e.c), 0);
        assert_true(tu_pump_until(&e.p, settled, &e, 5000));
        assert_int_equal(tvk_ws_error(e.c), want[i]);
        tvk_ws_info ci;
        tvk_ws_get_info(e.c, &ci);
        assert_int_equal(ci.http_status, codes[i]);
        assert_int_equal(ci.retry_after_s, codes[i] == 429 ? 7 : -1);
        char needle[16];
        snprintf(needle, sizeof needle, "HTTP %d", codes[i]);
        assert_non_null(strstr(tvk_ws_errmsg(e.c), needle));
        if (codes[i] == 429) assert_non_null(strstr(tvk_ws_errmsg(e.c), "Retry-After: 7"));
        env_free(&e);
    }
}

static int has_queued(void *arg)
{
    env *e = arg;
    return e->c->qcount > 0 || tvk_ws_get_state(e->c) == TVK_WS_CLOSED;
}

static void test_queue_mode(void **state)
{
    (void)state;
    env e;
    tvk_ws_server_opts so;
    tvk_ws_server_opts_init(&so);
    tvk_ws_opts co;
    tvk_ws_opts_init(&co);
    co.user = (void *)-1; /* no on_message: queue mode */
    open_pair(&e, &so, &co);
    const char *data;
    size_t len;
    assert_int_equal(tvk_ws_recv(e.c, &data, &len, 0), 0);
    for (int i = 0; i < 50; i++) {
        char m[32];
        int n = snprintf(m, sizeof m, "msg %d", i);
        assert_int_equal(tvk_ws_send_text(e.p.srv[0], m, (size_t)n), 0);
    }
    for (int i = 0; i < 50; i++) {
        if (!e.c->qcount) assert_true(tu_pump_until(&e.p, has_queued, &e, 5000));
        assert_int_equal(tvk_ws_recv(e.c, &data, &len, 0), 1);
        char m[32];
        snprintf(m, sizeof m, "msg %d", i);
        assert_int_equal(len, strlen(m));
        assert_string_equal(data, m);
    }
    /* the server goes away: queued messages first, then the error */
    assert_int_equal(tvk_ws_send_text(e.p.srv[0], "last", 4), 0);
    assert_int_equal(tvk_ws_close_start(e.p.srv[0], 1001, "going away"), 0);
    assert_true(tu_pump_until(&e.p, both_closed, &e, 5000));
    assert_int_equal(tvk_ws_recv(e.c, &data, &len, 0), 1);
    assert_string_equal(data, "last");
    assert_int_equal(tvk_ws_recv(e.c, &data, &len, 0), TVK_ECLOSED);
    assert_non_null(strstr(tvk_ws_errmsg(e.c), "1001"));
    env_free(&e);
}

static void test_backpressure(void **state)
{
    (void)state;
    env e;
    tvk_ws_server_opts so;
    tvk_ws_server_opts_init(&so);
    tvk_ws_opts co;
    tvk_ws_opts_init(&co);
    co.compress = 0;
    co.max_message = 64 * 1024;
    open_pair(&e, &so, &co);
    char *chunk = tu_text(16 * 1024, 2);
    int r = 0, i;
    /* the server is not pumped: the kernel buffers fill, then our bounded queue */
    for (i = 0; i < 20000; i++) {
        r = tvk_ws_send_text(e.c, chunk, 16 * 1024);
        if (r) break;
    }
    assert_int_equal(r, TVK_EBACKPRESSURE);
    /* tvk_ws_pending counts the message wslay is framing twice (its framed part in our
     * output buffer, all of it in wslay's queue) until its last byte is framed: so it may
     * read up to one message more than is really queued, depending on where the kernel
     * stopped taking bytes (seen in the sanitizer build) */
    assert_true(tvk_ws_pending(e.c) <= 64 * 1024 + 16 * 1024);
    assert_true(tvk_ws_pending(e.c) + 16 * 1024 > 64 * 1024);
    assert_int_equal(tvk_ws_send_text(e.c, chunk, 70 * 1024 > 16 * 1024 ? 16 * 1024 : 0),
                     TVK_EBACKPRESSURE);
    free(chunk);
    env_free(&e);
}

static void test_too_big(void **state)
{
    (void)state;
    for (int deflate = 0; deflate < 2; deflate++) {
        env e;
        tvk_ws_server_opts so;
        tvk_ws_server_opts_init(&so);
        so.compress_threshold = 0;
        tvk_ws_opts co;
        tvk_ws_opts_init(&co);
        co.compress = deflate;
        co.max_message = 100000;
        open_pair(&e, &so, &co);
        /* with deflate this is a bomb: 4 MB of one letter is a few KB on the wire */
        size_t n = deflate ? 4u << 20 : 100001;
        char *m = malloc(n);
        memset(m, 'a', n);
        assert_int_equal(tvk_ws_send_text(e.p.srv[0], m, n), 0);
        free(m);
        assert_true(tu_pump_until(&e.p, client_closed, &e, 5000));
        assert_int_equal(tvk_ws_error(e.c), TVK_EMSG_TOOBIG);
        assert_non_null(strstr(tvk_ws_errmsg(e.c), "100000"));
        assert_true(e.c->rqcap <= 100000 + 64); /* one message and its record header */
        tvk_ws_info ci;
        tvk_ws_get_info(e.c, &ci);
        if (deflate) assert_true(ci.bytes_in < 200000);
        env_free(&e);
    }
}

static void test_connect_errors(void **state)
{
    (void)state;
    tvk_ws_opts co;
    tvk_ws_opts_init(&co);
    co.proxy = "";
    struct {
        const char *url;
        int code;
    } cases[] = {
        {"http://127.0.0.1/", TVK_EURL},       {"ws://127.0.0.1:0/", TVK_EURL},
        {"ws://127.0.0.1:99999/", TVK_EURL},   {"ws://[::1/", TVK_EURL},
        {"ws://user:pw@127.0.0.1/", TVK_EURL}, {"ws://no-such-host.invalid/", TVK_EDNS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        co.url = cases[i].url;
        tvk_ws *ws = tvk_ws_new(&co);
        assert_non_null(ws);
        assert_int_equal(tvk_ws_connect(ws), cases[i].code);
        assert_int_equal(tvk_ws_get_state(ws), TVK_WS_CLOSED);
        assert_true(strlen(tvk_ws_errmsg(ws)) > 10);
        tvk_ws_free(ws);
    }
    /* refused: a port we just closed */
    int port;
    int fd = tu_listen(&port);
    close(fd);
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
    co.url = url;
    tvk_ws *ws = tvk_ws_new(&co);
    assert_int_equal(tvk_ws_connect(ws), TVK_ECONNECT);
    assert_non_null(strstr(tvk_ws_errmsg(ws), "refused"));
    tvk_ws_free(ws);
    /* a listener that never answers: the connect timeout covers the upgrade */
    fd = tu_listen(&port);
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
    co.connect_timeout_ms = 300;
    ws = tvk_ws_new(&co);
    int64_t t0 = tvk_now_ms();
    assert_int_equal(tvk_ws_connect(ws), TVK_ETIMEDOUT);
    int64_t el = tvk_now_ms() - t0;
    assert_true(el >= 290 && el < 3000);
    assert_non_null(strstr(tvk_ws_errmsg(ws), "upgrade response"));
    tvk_ws_free(ws);
    close(fd);
    /* header injection is refused */
    tvk_header bad[] = {{"X-Evil", "a\r\nHost: other"}};
    co.headers = bad;
    co.nheaders = 1;
    ws = tvk_ws_new(&co);
    assert_int_equal(tvk_ws_connect(ws), TVK_EINVAL);
    tvk_ws_free(ws);
}

static void test_url_parse(void **state)
{
    (void)state;
    tvk_net_url u;
    char err[200];
    assert_int_equal(tvk_net_url_parse(TVK_DEFAULT_URL, 0, &u, err, sizeof err), 0);
    assert_int_equal(u.tls, 1);
    assert_string_equal(u.host, "data.tradingview.com");
    assert_int_equal(u.port, 443);
    assert_string_equal(u.path, "/socket.io/websocket?from=chart%2F");
    tvk_net_url_free(&u);
    assert_int_equal(tvk_net_url_parse("ws://[::1]:8080?a=b", 0, &u, err, sizeof err), 0);
    assert_int_equal(u.ipv6, 1);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 8080);
    assert_string_equal(u.path, "/?a=b");
    char hp[64];
    tvk_net_url_hostport(&u, 0, hp, sizeof hp);
    assert_string_equal(hp, "[::1]:8080");
    tvk_net_url_free(&u);
    assert_int_equal(
        tvk_net_url_parse("http://us%40r:p%3Ass@proxy.lan:3128", 1, &u, err, sizeof err), 0);
    assert_string_equal(u.user, "us@r");
    assert_string_equal(u.pass, "p:ss");
    assert_int_equal(u.port, 3128);
    tvk_net_url_free(&u);
    char acc[32];
    tvk_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", acc); /* the example of RFC 6455 1.3 */
    assert_string_equal(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_int_equal(tvk_net_url_parse("ws://host/a b", 0, &u, err, sizeof err), TVK_EURL);
    assert_int_equal(tvk_net_url_parse("ws://:80/", 0, &u, err, sizeof err), TVK_EURL);
    assert_int_equal(tvk_net_url_parse("ws://h:8a/", 0, &u, err, sizeof err), TVK_EURL);
}

static void hex(const unsigned char *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

/* The handshake's own SHA-1 and base64 (ws:// does not touch OpenSSL): FIPS 180 and RFC 4648
 * vectors, RFC 6455's accept example, and OpenSSL's SHA-1 over every length to 300 bytes
 * (one, two and more blocks and every padding case). */
static void test_sha1_b64(void **state)
{
    (void)state;
    static const struct {
        const char *in, *sha;
    } v[] = {
        {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
    };
    unsigned char md[20];
    char h[41];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        tvk_net_sha1(v[i].in, strlen(v[i].in), md);
        hex(md, 20, h);
        assert_string_equal(h, v[i].sha);
    }
    char *million = malloc(1000000);
    assert_non_null(million);
    memset(million, 'a', 1000000);
    tvk_net_sha1(million, 1000000, md);
    hex(md, 20, h);
    assert_string_equal(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    for (size_t n = 0; n <= 300; n++) {
        unsigned char ref[EVP_MAX_MD_SIZE];
        unsigned int rl = 0;
        for (size_t k = 0; k < n; k++)
            million[k] = (char)(k * 7 + n);
        tvk_net_sha1(million, n, md);
        assert_int_equal(EVP_Digest(million, n, ref, &rl, EVP_sha1(), NULL), 1);
        assert_int_equal(rl, 20);
        assert_memory_equal(md, ref, 20);
    }
    free(million);
    static const char *b[][2] = {{"", ""},
                                 {"f", "Zg=="},
                                 {"fo", "Zm8="},
                                 {"foo", "Zm9v"},
                                 {"foob", "Zm9vYg=="},
                                 {"fooba", "Zm9vYmE="},
                                 {"foobar", "Zm9vYmFy"}};
    char out[16];
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) {
        assert_int_equal(
            tvk_net_b64((const unsigned char *)b[i][0], strlen(b[i][0]), out, sizeof out),
            (int)strlen(b[i][1]));
        assert_string_equal(out, b[i][1]);
    }
    assert_int_equal(tvk_net_b64((const unsigned char *)"foobar", 6, out, 8), -1); /* no room */
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    char mine[400], ref[400];
    assert_int_equal(tvk_net_b64(all, 256, mine, sizeof mine), 344);
    assert_int_equal(EVP_EncodeBlock((unsigned char *)ref, all, 256), 344);
    assert_string_equal(mine, ref);
    char acc[32];
    tvk_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", acc);
    assert_string_equal(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    /* the random source works and is not constant */
    unsigned char r1[16], r2[16];
    assert_int_equal(tvk_net_random(r1, sizeof r1), 0);
    assert_int_equal(tvk_net_random(r2, sizeof r2), 0);
    assert_memory_not_equal(r1, r2, sizeof r1);
}

static void test_utf8_check(void **state)
{
    (void)state;
    struct {
        const char *s;
        size_t bad;
    } c[] = {
        {"plain ascii text, long enough for the 8-byte path", 49},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 Vi\xe1\xbb\x87t", 20},
        {"\xc0\xaf", 0},         /* overlong slash */
        {"ab\xe0\x80\xaf", 2},   /* overlong, 3 bytes */
        {"abc\xed\xa0\x80", 3},  /* surrogate */
        {"\xf4\x90\x80\x80", 0}, /* above U+10FFFF */
        {"12345678\xe2\x82", 8}, /* truncated */
        {"\x80", 0},             /* stray continuation */
        {"\xf5\x80\x80\x80", 0},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        size_t len = strlen(c[i].s);
        size_t want = c[i].bad == 49 || c[i].bad == 20 ? len : c[i].bad;
        assert_int_equal(tvk_net_utf8_check((const unsigned char *)c[i].s, len), want);
    }
}

/* Bytewise reference: the length of the valid prefix, as RFC 3629's table 3-7 reads. */
static size_t utf8_ref(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i], n, lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            n = 1;
        else if (c >= 0xE0 && c <= 0xEF)
            n = 2, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        else if (c >= 0xF0 && c <= 0xF4)
            n = 3, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        else
            return i;
        if (i + n >= len || s[i + 1] < lo || s[i + 1] > hi) return i;
        for (unsigned k = 2; k <= n; k++)
            if ((s[i + k] & 0xC0) != 0x80) return i;
        i += n + 1;
    }
    return len;
}

/* The word-at-a-time paths against the reference: mostly ASCII texts of every length up to
 * 200 with a sequence (valid, bad or cut) at every kind of offset from the word boundaries. */
static void test_utf8_check_random(void **state)
{
    (void)state;
    static const char *const seq[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                      "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                      "\x80",     "\xff",         "\xe2\x82",
                                      "\xf0\x9f"};
    uint64_t x = 0x9e3779b97f4a7c15ull;
    unsigned char buf[256];
    size_t checked = 0, bad = 0;
    for (int round = 0; round < 200000; round++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t len = (size_t)(x % 200);
        for (size_t i = 0; i < len; i++)
            buf[i] = (unsigned char)(' ' + (x >> (i % 48)) % 90);
        int nseq = (int)((x >> 20) % 3);
        for (int k = 0; k < nseq && len; k++) {
            const char *q = seq[(x >> (24 + 4 * k)) % (sizeof seq / sizeof seq[0])];
            size_t at = (size_t)((x >> (33 + 9 * k)) % len), ql = strlen(q);
            if (at + ql > len) ql = len - at; /* cut at the end */
            memcpy(buf + at, q, ql);
        }
        size_t want = utf8_ref(buf, len);
        assert_int_equal(tvk_net_utf8_check(buf, len), want);
        checked++;
        bad += want < len;
    }
    /* both outcomes were exercised */
    assert_true(bad > checked / 10 && bad < checked - checked / 10);
}

static void test_ipv6(void **state)
{
    (void)state;
    /* skipped where the machine has no IPv6 loopback */
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a = {0};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    socklen_t al = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        if (fd >= 0) close(fd);
        skip();
    }
    env e;
    tvk_ws_server_opts so;
    tvk_ws_server_opts_init(&so);
    tvk_ws_opts co;
    tvk_ws_opts_init(&co);
    memset(&e, 0, sizeof e);
    so.on_message = on_msg;
    so.user = &e.srx;
    tu_pump_init(&e.p, fd, &so);
    char url[64];
    snprintf(url, sizeof url, "ws://[::1]:%d/v6", ntohs(a.sin6_port));
    co.url = url;
    co.proxy = "";
    e.c = tvk_ws_new(&co);
    e.p.cli[e.p.ncli++] = e.c;
    assert_int_equal(tvk_ws_connect_start(e.c), 0);
    assert_true(tu_pump_until(&e.p, settled, &e, 5000));
    assert_int_equal(tvk_ws_get_state(e.c), TVK_WS_OPEN);
    assert_int_equal(tvk_ws_send_text(e.c, "six", 3), 0);
    want_srx = 1, want_crx = 0;
    assert_true(tu_pump_until(&e.p, got_msgs, &e, 5000));
    assert_string_equal(e.srx.last, "six");
    env_free(&e);
}

static int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static int srv_closed(void *arg)
{
    tu_pump *p = arg;
    return p->nsrv > 0 && tvk_ws_get_state(p->srv[0]) == TVK_WS_CLOSED;
}

static void test_server_bad_request(void **state)
{
    (void)state;
    int port;
    tu_pump p;
    tvk_ws_server_opts so;
    tvk_ws_server_opts_init(&so);
    tu_pump_init(&p, tu_listen(&port), &so);
    int fd = raw_connect(port);
    const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(write(fd, req, sizeof req - 1), (ssize_t)(sizeof req - 1));
    assert_true(tu_pump_until(&p, srv_closed, &p, 5000));
    char buf[512] = "";
    ssize_t n = read(fd, buf, sizeof buf - 1);
    assert_true(n > 0);
    assert_memory_equal(buf, "HTTP/1.1 400 Bad Request\r\n", 26);
    tvk_ws_info in;
    tvk_ws_get_info(p.srv[0], &in);
    assert_int_equal(in.http_status, 400);
    assert_non_null(strstr(tvk_ws_errmsg(p.srv[0]), "not a WebSocket upgrade request"));
    close(fd);
    tu_pump_free(&p);
}

static void test_server_handshake_timeout(void **state)
{
    (void)state;
    int port;
    tu_pump p;
    tvk_ws_server_opts so;
    tvk_ws_server_opts_init(&so);
    so.handshake_timeout_ms = 200;
    tu_pump_init(&p, tu_listen(&port), &so);
    int fd = raw_connect(port);
    int64_t t0 = tvk_now_ms();
    assert_true(tu_pump_until(&p, srv_closed, &p, 5000));
    int64_t el = tvk_now_ms() - t0;
    assert_true(el >= 150 && el < 2000);
    assert_int_equal(tvk_ws_error(p.srv[0]), TVK_ETIMEDOUT);
    assert_non_null(strstr(tvk_ws_errmsg(p.srv[0]), "upgrade request"));
    close(fd);
    tu_pump_free(&p);
}

static void test_server_header_limit(void **state)
{
    (void)state;
    int port;
    tu_pump p;
    tvk_ws_server_opts so;
    tvk_ws_server_opts_init(&so);
    so.max_header = 1024;
    tu_pump_init(&p, tu_listen(&port), &so);
    int fd = raw_connect(port);
    char req[4096];
    memset(req, 'a', sizeof req);
    memcpy(req, "GET / HTTP/1.1\r\nX: ", 19);
    assert_int_equal(write(fd, req, sizeof req), (ssize_t)sizeof req);
    assert_true(tu_pump_until(&p, srv_closed, &p, 5000));
    assert_int_equal(tvk_ws_error(p.srv[0]), TVK_EHEADER_TOOBIG);
    close(fd);
    tu_pump_free(&p);
}

static void test_server_pings_dead_client(void **state)
{
    (void)state;
    int port;
    tu_pump p;
    tvk_ws_server_opts so;
    tvk_ws_server_opts_init(&so);
    so.ping_interval_ms = 100;
    so.ping_timeout_ms = 200;
    tu_pump_init(&p, tu_listen(&port), &so);
    int fd = raw_connect(port);
    const char req[] = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\n\r\n";
    assert_int_equal(write(fd, req, sizeof req - 1), (ssize_t)(sizeof req - 1));
    /* the client completes the handshake and then never answers the pings */
    int64_t t0 = tvk_now_ms();
    assert_true(tu_pump_until(&p, srv_closed, &p, 5000));
    int64_t el = tvk_now_ms() - t0;
    assert_int_equal(tvk_ws_error(p.srv[0]), TVK_EPING_TIMEOUT);
    assert_true(el >= 280 && el < 2000);
    char buf[512] = "";
    assert_true(read(fd, buf, sizeof buf - 1) > 0);
    assert_non_null(strstr(buf, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    close(fd);
    tu_pump_free(&p);
}

static void test_abort(void **state)
{
    (void)state;
    env e;
    tvk_ws_server_opts so;
    tvk_ws_server_opts_init(&so);
    tvk_ws_opts co;
    tvk_ws_opts_init(&co);
    open_pair(&e, &so, &co);
    tvk_ws_abort(e.p.srv[0]);
    assert_int_equal(tvk_ws_get_state(e.p.srv[0]), TVK_WS_CLOSED);
    assert_int_equal(tvk_ws_fd(e.p.srv[0]), -1);
    assert_true(tu_pump_until(&e.p, client_closed, &e, 5000));
    assert_int_equal(tvk_ws_error(e.c), TVK_ECLOSED);
    assert_non_null(strstr(tvk_ws_errmsg(e.c), "without a close frame"));
    env_free(&e);
}

/* Writing to a peer that is gone is an error code, never SIGPIPE (which would kill the test). */
static void test_no_sigpipe(void **state)
{
    (void)state;
    env e;
    tvk_ws_server_opts so;
    tvk_ws_server_opts_init(&so);
    tvk_ws_opts co;
    tvk_ws_opts_init(&co);
    co.compress = 0;
    open_pair(&e, &so, &co);
    tvk_ws_abort(e.p.srv[0]);
    char *chunk = tu_text(32 * 1024, 3);
    int r = 0;
    for (int i = 0; i < 2000 && r == 0; i++) {
        r = tvk_ws_send_text(e.c, chunk, 32 * 1024);
        if (r == TVK_EBACKPRESSURE) r = tvk_ws_flush(e.c, 5000);
    }
    assert_true(r == TVK_EIO || r == TVK_ECLOSED);
    assert_int_equal(tvk_ws_get_state(e.c), TVK_WS_CLOSED);
    free(chunk);
    env_free(&e);
}

static int check_headers(void *user, const tvk_http_request *req, int *retry_after)
{
    (void)user, (void)retry_after;
    int ua = 0, pragma = 0, extra = 0, origin = 0;
    for (size_t i = 0; i < req->nheaders; i++) {
        const tvk_header *h = &req->headers[i];
        if (strcmp(h->name, "User-Agent") == 0) ua += strcmp(h->value, "tvkit-test/1") == 0;
        if (strcmp(h->name, "Pragma") == 0) pragma++;
        if (strcmp(h->name, "X-Test") == 0) extra += strcmp(h->value, "yes") == 0;
        if (strcmp(h->name, "Origin") == 0) origin++;
        if (strcmp(h->name, "Host") == 0) assert_non_null(strstr(h->value, "127.0.0.1:"));
    }
    return ua == 1 && pragma == 0 && extra == 1 && origin == 1 ? 101 : 400;
}

static void test_header_overrides(void **state)
{
    (void)state;
    env e;
    tvk_ws_server_opts so;
    tvk_ws_server_opts_init(&so);
    so.on_upgrade = check_headers;
    tvk_ws_opts co;
    tvk_ws_opts_init(&co);
    tvk_header hs[] = {{"user-agent", "tvkit-test/1"},
                       {"Pragma", NULL},
                       {"X-Test", "yes"},
                       {"Host", "ignored.example"}};
    co.headers = hs;
    co.nheaders = 4;
    open_pair(&e, &so, &co);
    env_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_parse),
        cmocka_unit_test(test_text_and_close),
        cmocka_unit_test(test_deflate_threshold),
        cmocka_unit_test(test_reject),
        cmocka_unit_test(test_queue_mode),
        cmocka_unit_test(test_backpressure),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_connect_errors),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_utf8_check),
        cmocka_unit_test(test_utf8_check_random),
        cmocka_unit_test(test_sha1_b64),
        cmocka_unit_test(test_server_bad_request),
        cmocka_unit_test(test_server_handshake_timeout),
        cmocka_unit_test(test_server_header_limit),
        cmocka_unit_test(test_server_pings_dead_client),
        cmocka_unit_test(test_abort),
        cmocka_unit_test(test_no_sigpipe),
        cmocka_unit_test(test_header_overrides),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
