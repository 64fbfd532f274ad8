/* Fuzz target "ws": the receive path of an open tvk_ws (src/net/ws.c on wslay: frame parsing,
 * fragmentation, control frames, the message limit, RSV1 and inflate), fed the peer's bytes.
 * The handle is made as the upgrade leaves it: the bytes that followed the header block are
 * still in its header buffer (the input goes there), and the socket is one end of a socketpair
 * whose other end has shut down writing, so the peer's stream ends after the input.
 * Input: byte 0 = flags (bit 0: we are the server, so the peer's frames must be masked; bit 1:
 * permessage-deflate negotiated; bit 2: the peer resets its context per message; bit 3:
 * messages through the callback instead of the queue), byte 1 = the message limit
 * (256 << (b % 16)), then the peer's bytes.
 * Properties: the connection always ends (the stream is finite), with an error code and a
 * message; no delivered message passes the limit and each is NUL-terminated. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/internal.h"

#include "fuzz_check.h"

#define MAX_ROUNDS 10000

typedef struct seen {
    size_t max, count;
} seen;

static void check_message(seen *s, const char *data, size_t len)
{
    FUZZ_CHECK(len <= s->max);
    FUZZ_CHECK(data[len] == '\0');
    s->count++;
}

static void on_message(void *user, const char *data, size_t len)
{
    check_message(user, data, len);
}

static void drain(int fd)
{
    char sink[4096];
    while (read(fd, sink, sizeof sink) > 0) {
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    int server = data[0] & 1, deflate = (data[0] >> 1) & 1, no_ctx = (data[0] >> 2) & 1,
        callback = (data[0] >> 3) & 1;
    seen s = {(size_t)256 << (data[1] % 16), 0};
    data += 2;
    size -= 2;

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) return 0;
    shutdown(sv[1], SHUT_WR);
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    o.url = "ws://fuzz.invalid/";
    o.ping_interval_ms = 0;
    o.max_message = s.max;
    o.on_message = callback ? on_message : NULL;
    o.user = &s;
    tvk_ws *ws = tvk_ws_new(&o);
    if (!ws) {
        close(sv[0]);
        close(sv[1]);
        return 0;
    }
    ws->server = server;
    ws->fd = sv[0];
    ws->state = TVK_WS_CONNECTING;
    ws->hbuf = malloc(size ? size : 1);
    if (!ws->hbuf) goto out;
    memcpy(ws->hbuf, data, size);
    ws->hlen = ws->llen = size;
    ws->loff = 0;
    if (deflate) {
        ws->pmd.on = 1;
        ws->pmd.server_no_ctx = ws->pmd.client_no_ctx = no_ctx;
        ws->pmd.server_bits = ws->pmd.client_bits = 15;
    }

    int rc = tvk_ws_open(ws);
    for (int round = 0; tvk_ws_get_state(ws) != TVK_WS_CLOSED; round++) {
        FUZZ_CHECK(round < MAX_ROUNDS); /* a finite stream must end the connection */
        drain(sv[1]);
        const char *m;
        size_t len;
        while (!callback && tvk_ws_recv(ws, &m, &len, 0) == 1)
            check_message(&s, m, len);
        rc = tvk_ws_on_readable(ws);
        if (rc) FUZZ_CHECK(tvk_ws_get_state(ws) == TVK_WS_CLOSED);
    }
    const char *m;
    size_t len;
    while (!callback && tvk_ws_recv(ws, &m, &len, 0) == 1)
        check_message(&s, m, len);
    FUZZ_CHECK(tvk_ws_error(ws) < 0);
    FUZZ_CHECK(tvk_ws_errmsg(ws)[0] != '\0');
    tvk_ws_info info;
    tvk_ws_get_info(ws, &info);
    FUZZ_CHECK(info.messages_in >= s.count);
out:
    tvk_ws_free(ws); /* closes sv[0] */
    close(sv[1]);
    return 0;
}
