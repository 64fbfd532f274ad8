/* net_parts: tvk_ws_send_parts, messages made of parts some of which carry their text
 * pre-compressed (tvk_ws_deflate_part). Whatever the path, the peer must receive exactly the
 * joined text: our own client and python3-websockets (an independent inflater) check it over
 * many messages on one connection (context takeover), with parts above and below 32 KiB and
 * ordinary tvk_ws_send_text messages between them, with server_no_context_takeover, and with a
 * smaller server window (where the pre-compressed form must not be used). That the
 * pre-compressed path is really taken shows in the server's wire bytes: the big part is
 * pre-compressed at level 0 (stored, larger than its text), so a connection that splices it
 * writes more bytes than that text's total, and one that compresses it afresh far fewer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/sha.h>
#include <zlib.h>

#include "util.h"

#define ROUNDS 10
#define BIG_A 80000 /* spliced where allowed (stored: level 0) */
#define BIG_B 40000 /* spliced where allowed (level 9) */
#define SMALL 5000  /* pre-compressed but below 32 KiB: always compressed afresh */
#define MAXMSG 64

typedef struct rig {
    tu_pump p;
    tvk_ws *c;
    char *got[MAXMSG]; /* messages the C client received */
    size_t gotlen[MAXMSG];
    int ngot;
    char reply[MAXMSG][100]; /* "LEN SHA256" lines the python client sent back */
    int nreply;
    char *head, *a, *b, *small, *plain;
    unsigned char *za, *zb, *zsmall;
    size_t za_len, zb_len, zsmall_len;
} rig;

static void on_cli(void *user, const char *data, size_t len)
{
    rig *r = user;
    if (r->ngot >= MAXMSG) return;
    r->got[r->ngot] = malloc(len + 1);
    if (r->got[r->ngot]) memcpy(r->got[r->ngot], data, len);
    r->gotlen[r->ngot++] = len;
}

static void on_srv(void *user, const char *data, size_t len)
{
    rig *r = user;
    if (r->nreply >= MAXMSG || len >= sizeof r->reply[0]) return;
    memcpy(r->reply[r->nreply], data, len);
    r->reply[r->nreply++][len] = 0;
}

static void texts(rig *r)
{
    r->head = tu_text(300, 1);
    r->a = tu_text(BIG_A, 2);
    r->b = tu_text(BIG_B, 3);
    r->small = tu_text(SMALL, 4);
    r->plain = tu_text(3000, 1); /* shares its start with head: matches across messages */
    assert_non_null(r->head);
    assert_non_null(r->a);
    assert_non_null(r->b);
    assert_non_null(r->small);
    assert_non_null(r->plain);
    assert_int_equal(tvk_ws_deflate_part(r->a, BIG_A, 0, 15, &r->za, &r->za_len), 0);
    assert_int_equal(tvk_ws_deflate_part(r->b, BIG_B, 9, 15, &r->zb, &r->zb_len), 0);
    assert_int_equal(tvk_ws_deflate_part(r->small, SMALL, 1, 15, &r->zsmall, &r->zsmall_len), 0);
    assert_true(r->za_len > BIG_A);
}

/* Message 2k: parts; message 2k+1: a plain send_text. The joined text goes to want. */
static size_t build(rig *r, int k, tvk_ws_part *pt, size_t *npt, char **want)
{
    static char pre[32], post[32];
    snprintf(pre, sizeof pre, "round %d ", k);
    snprintf(post, sizeof post, " end %d", k);
    tvk_ws_part p[] = {
        {pre, strlen(pre), NULL, 0, 0},
        {r->a, BIG_A, r->za, r->za_len, 15},
        {r->head, 300, NULL, 0, 0}, /* repeats text from before the spliced part */
        {r->b, BIG_B, r->zb, r->zb_len, 15},
        {r->small, SMALL, r->zsmall, r->zsmall_len, 15},
        {r->a + BIG_A - 2000, 2000, NULL, 0, 0}, /* refers back into a spliced text */
        {post, strlen(post), NULL, 0, 0},
    };
    size_t n = sizeof p / sizeof p[0], total = 0;
    memcpy(pt, p, sizeof p);
    *npt = n;
    for (size_t i = 0; i < n; i++)
        total += p[i].len;
    char *w = malloc(total);
    assert_non_null(w);
    for (size_t i = 0, o = 0; i < n; o += p[i].len, i++)
        memcpy(w + o, p[i].text, p[i].len);
    *want = w;
    return total;
}

static int both_open(void *arg)
{
    rig *r = arg;
    return r->p.nsrv > 0 && tvk_ws_get_state(r->p.srv[0]) == TVK_WS_OPEN &&
           (!r->c || tvk_ws_get_state(r->c) == TVK_WS_OPEN);
}

static void rig_open(rig *r, int with_client, int client_compress)
{
    int port;
    int lfd = tu_listen(&port);
    assert_true(lfd >= 0);
    tvk_ws_server_opts so;
    tvk_ws_server_opts_init(&so);
    so.on_message = on_srv;
    so.user = r;
    tu_pump_init(&r->p, lfd, &so);
    if (!with_client) return;
    char url[100];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
    tvk_ws_opts co;
    tvk_ws_opts_init(&co);
    co.url = url;
    co.proxy = "";
    co.compress = client_compress;
    co.ping_interval_ms = 0;
    co.on_message = on_cli;
    co.user = r;
    r->c = tvk_ws_new(&co);
    assert_non_null(r->c);
    r->p.cli[r->p.ncli++] = r->c;
    assert_int_equal(tvk_ws_connect_start(r->c), 0);
    assert_true(tu_pump_until(&r->p, both_open, r, 5000));
}

static void rig_free(rig *r)
{
    tvk_ws_free(r->c);
    tu_pump_free(&r->p);
    for (int i = 0; i < r->ngot; i++)
        free(r->got[i]);
    free(r->head);
    free(r->a);
    free(r->b);
    free(r->small);
    free(r->plain);
    free(r->za);
    free(r->zb);
    free(r->zsmall);
}

static int got_all(void *arg)
{
    rig *r = arg;
    return r->ngot >= 2 * ROUNDS;
}

static uint64_t srv_bytes_out(rig *r)
{
    tvk_ws_info si;
    tvk_ws_get_info(r->p.srv[0], &si);
    return si.bytes_out;
}

static uint64_t srv_spliced(rig *r)
{
    tvk_ws_info si;
    tvk_ws_get_info(r->p.srv[0], &si);
    return si.parts_spliced;
}

/* Sends ROUNDS x (parts message, plain message) from the server; returns the joined texts. */
static void send_rounds(rig *r, char **want, size_t *wlen, int wait_replies)
{
    tvk_ws *s = r->p.srv[0];
    for (int k = 0; k < ROUNDS; k++) {
        tvk_ws_part pt[8];
        size_t n;
        wlen[2 * k] = build(r, k, pt, &n, &want[2 * k]);
        assert_int_equal(tvk_ws_send_parts(s, pt, n), 0);
        wlen[2 * k + 1] = 3000;
        want[2 * k + 1] = malloc(3000);
        assert_non_null(want[2 * k + 1]);
        memcpy(want[2 * k + 1], r->plain, 3000);
        assert_int_equal(tvk_ws_send_text(s, r->plain, 3000), 0);
        if (wait_replies) { /* one at a time: the python peer answers each */
            int64_t end = tvk_now_ms() + 20000;
            while (r->nreply < 2 * k + 2 && tvk_now_ms() < end &&
                   tvk_ws_get_state(s) == TVK_WS_OPEN)
                tu_pump_once(&r->p, 50);
            assert_int_equal(r->nreply, 2 * k + 2);
        }
    }
}

static void free_want(char **want)
{
    for (int i = 0; i < 2 * ROUNDS; i++)
        free(want[i]);
}

static void run_c_client(int compress)
{
    rig r;
    memset(&r, 0, sizeof r);
    texts(&r);
    rig_open(&r, 1, compress);
    tvk_ws_info ci;
    tvk_ws_get_info(r.c, &ci);
    assert_int_equal(ci.deflate, compress);
    char *want[2 * ROUNDS];
    size_t wlen[2 * ROUNDS];
    send_rounds(&r, want, wlen, 0);
    assert_true(tu_pump_until(&r.p, got_all, &r, 20000));
    assert_int_equal(r.ngot, 2 * ROUNDS);
    for (int i = 0; i < 2 * ROUNDS; i++) {
        assert_int_equal(r.gotlen[i], wlen[i]);
        assert_non_null(r.got[i]);
        assert_memory_equal(r.got[i], want[i], wlen[i]);
    }
    tvk_ws_get_info(r.c, &ci);
    uint64_t out = srv_bytes_out(&r);
    if (compress) {
        assert_int_equal(ci.messages_in_deflated, 2 * ROUNDS);
        /* the stored form of A went out every round: only splicing writes that much */
        assert_true(out > (uint64_t)ROUNDS * BIG_A);
        assert_int_equal(srv_spliced(&r), 2 * ROUNDS); /* A and B; the small one never */
    } else {
        assert_int_equal(ci.messages_in_deflated, 0);
        assert_true(out >= (uint64_t)ROUNDS * (BIG_A + BIG_B + SMALL + 3000));
        assert_int_equal(srv_spliced(&r), 0);
    }
    free_want(want);
    rig_free(&r);
}

static void test_c_client_takeover(void **st)
{
    (void)st;
    run_c_client(1);
}

static void test_c_client_uncompressed(void **st)
{
    (void)st;
    run_c_client(0);
}

/* The python client: flags for its offer; spliced says whether the stored A must have gone out. */
static void run_python(const char *flag, const char *bits, int spliced, int want_no_ctx,
                       int want_bits)
{
    const char *py = getenv("TVK_PYTHON3"), *dir = getenv("TVK_NET_DIR");
    if (!py || !py[0] || access(py, X_OK) != 0 || !dir) skip();
    rig r;
    memset(&r, 0, sizeof r);
    texts(&r);
    rig_open(&r, 0, 0);
    char script[512], port[16];
    snprintf(script, sizeof script, "%s/parts_client.py", dir);
    int pn = 0;
    {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        assert_int_equal(getsockname(r.p.lfd, (struct sockaddr *)&ss, &sl), 0);
        pn = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    snprintf(port, sizeof port, "%d", pn);
    char *argv[8] = {(char *)py, script, port, NULL, NULL, NULL};
    int a = 3;
    if (flag) argv[a++] = (char *)flag;
    if (bits) argv[a++] = (char *)bits;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execv(py, argv);
        _exit(127);
    }
    int opened = tu_pump_until(&r.p, both_open, &r, 10000);
    if (!opened) kill(pid, SIGKILL);
    assert_true(opened);
    tvk_ws *s = r.p.srv[0];
    tvk_ws_info si;
    tvk_ws_get_info(s, &si);
    assert_int_equal(si.deflate, 1);
    assert_int_equal(si.server_no_context_takeover, want_no_ctx);
    assert_int_equal(si.server_max_window_bits, want_bits);
    char *want[2 * ROUNDS];
    size_t wlen[2 * ROUNDS];
    send_rounds(&r, want, wlen, 1);
    for (int i = 0; i < 2 * ROUNDS; i++) {
        unsigned char md[SHA256_DIGEST_LENGTH];
        SHA256((const unsigned char *)want[i], wlen[i], md);
        char line[100];
        int o = snprintf(line, sizeof line, "%zu ", wlen[i]);
        for (int j = 0; j < SHA256_DIGEST_LENGTH; j++)
            o += snprintf(line + o, sizeof line - (size_t)o, "%02x", md[j]);
        assert_string_equal(r.reply[i], line);
    }
    uint64_t out = srv_bytes_out(&r);
    if (spliced)
        assert_true(out > (uint64_t)ROUNDS * BIG_A);
    else
        assert_true(out < (uint64_t)ROUNDS * BIG_A / 2);
    assert_int_equal(srv_spliced(&r), spliced ? 2 * ROUNDS : 0);
    assert_int_equal(tvk_ws_close_start(s, 1000, NULL), 0);
    int64_t end = tvk_now_ms() + 10000;
    int status = -1;
    while (tvk_now_ms() < end) {
        tu_pump_once(&r.p, 20);
        if (waitpid(pid, &status, WNOHANG) == pid) break;
    }
    if (status == -1) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        fail_msg("python client did not exit");
    }
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    free_want(want);
    rig_free(&r);
}

static void test_python_takeover(void **st)
{
    (void)st;
    run_python(NULL, NULL, 1, 0, 15);
}

static void test_python_no_context_takeover(void **st)
{
    (void)st;
    run_python("--server-no-context-takeover", NULL, 1, 1, 15);
}

static void test_python_small_window_falls_back(void **st)
{
    (void)st;
    run_python("--server-max-window-bits=10", NULL, 0, 0, 10);
}

/* The pre-compressed form: a raw stream ending in a sync flush that inflates to the text. */
static void test_deflate_part(void **st)
{
    (void)st;
    unsigned char *z = NULL;
    size_t zl = 0;
    assert_int_equal(tvk_ws_deflate_part("x", 1, 1, 8, &z, &zl), TVK_EINVAL);
    assert_int_equal(tvk_ws_deflate_part("x", 1, 1, 16, &z, &zl), TVK_EINVAL);
    assert_int_equal(tvk_ws_deflate_part("x", 1, 10, 15, &z, &zl), TVK_EINVAL);
    assert_int_equal(tvk_ws_deflate_part(NULL, 1, 1, 15, &z, &zl), TVK_EINVAL);
    char *t = tu_text(100000, 9);
    assert_non_null(t);
    assert_int_equal(tvk_ws_deflate_part(t, 100000, 1, 12, &z, &zl), 0);
    assert_true(zl > 4 && zl < 100000);
    static const unsigned char tail[4] = {0, 0, 0xff, 0xff};
    assert_memory_equal(z + zl - 4, tail, 4);
    z_stream in;
    memset(&in, 0, sizeof in);
    assert_int_equal(inflateInit2(&in, -12), Z_OK);
    char *back = malloc(100001);
    assert_non_null(back);
    in.next_in = z;
    in.avail_in = (uInt)zl;
    in.next_out = (Bytef *)back;
    in.avail_out = 100001;
    int rc = inflate(&in, Z_SYNC_FLUSH);
    assert_true(rc == Z_OK || rc == Z_BUF_ERROR); /* no final block: the stream goes on */
    assert_int_equal(in.total_out, 100000);
    assert_memory_equal(back, t, 100000);
    inflateEnd(&in);
    free(back);
    free(t);
    free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deflate_part),
        cmocka_unit_test(test_c_client_takeover),
        cmocka_unit_test(test_c_client_uncompressed),
        cmocka_unit_test(test_python_takeover),
        cmocka_unit_test(test_python_no_context_takeover),
        cmocka_unit_test(test_python_small_window_falls_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
