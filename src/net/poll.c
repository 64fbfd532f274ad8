/* The built-in poll() driver and the blocking calls built on it. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "net/internal.h"

int tvk_ws_poll(tvk_ws *ws, int timeout_ms)
{
    if (!ws) return TVK_EINVAL;
    if (ws->state == TVK_WS_IDLE) return TVK_ESTATE;
    if (ws->state == TVK_WS_CLOSED) return ws->err;
    int64_t now = tvk_now_ms(), d = tvk_ws_deadline(ws);
    int wait = timeout_ms;
    if (d >= 0) {
        int64_t until = d > now ? d - now : 0;
        if (wait < 0 || until < wait) wait = until > 0x7fffffff ? 0x7fffffff : (int)until;
    }
    int w = tvk_ws_wants(ws);
    /* nothing to wait for (receive queue full, nothing to send, no timer): do not block */
    if (w == 0 && d < 0 && wait < 0) return 0;
    struct pollfd p = {
        ws->fd, (short)((w & TVK_WANT_READ ? POLLIN : 0) | (w & TVK_WANT_WRITE ? POLLOUT : 0)), 0};
    int n = poll(&p, p.fd >= 0 ? 1 : 0, wait);
    if (n < 0 && errno != EINTR) return tvk_ws_fail(ws, TVK_EIO, "poll failed");
    if (n > 0 && (p.revents & (POLLIN | POLLERR | POLLHUP | POLLNVAL))) tvk_ws_on_readable(ws);
    if (n > 0 && ws->state != TVK_WS_CLOSED && (p.revents & POLLOUT)) tvk_ws_on_writable(ws);
    if (ws->state != TVK_WS_CLOSED) {
        now = tvk_now_ms();
        d = tvk_ws_deadline(ws);
        if (d >= 0 && now >= d) tvk_ws_on_timer(ws, now);
    }
    return ws->state == TVK_WS_CLOSED ? ws->err : 0;
}

int tvk_ws_connect(tvk_ws *ws)
{
    int r = tvk_ws_connect_start(ws);
    if (r) return r;
    while (ws->state == TVK_WS_CONNECTING)
        tvk_ws_poll(ws, -1);
    if (ws->state == TVK_WS_OPEN) return 0;
    return ws->err ? ws->err : TVK_ECLOSED;
}

static int remaining(int64_t end)
{
    if (end < 0) return -1;
    int64_t left = end - tvk_now_ms();
    return left <= 0 ? 0 : left > 0x7fffffff ? 0x7fffffff : (int)left;
}

int tvk_ws_recv(tvk_ws *ws, const char **data, size_t *len, int timeout_ms)
{
    if (!ws || !data || !len) return TVK_EINVAL;
    if (ws->on_message) return TVK_ESTATE;
    /* A message already here needs no clock: busy streams come here once per message. */
    if (tvk_rx_pop(ws, data, len)) return 1;
    int64_t end = timeout_ms >= 0 ? tvk_now_ms() + timeout_ms : -1;
    for (int first = 1;; first = 0) {
        if (!first && tvk_rx_pop(ws, data, len)) return 1;
        if (ws->state == TVK_WS_CLOSED) return ws->err ? ws->err : TVK_ECLOSED;
        if (ws->state == TVK_WS_IDLE) return TVK_ESTATE;
        int left = remaining(end);
        if (!first && left == 0) return 0;
        tvk_ws_poll(ws, left);
    }
}

int tvk_ws_flush(tvk_ws *ws, int timeout_ms)
{
    if (!ws) return TVK_EINVAL;
    int64_t end = timeout_ms >= 0 ? tvk_now_ms() + timeout_ms : -1;
    while (tvk_ws_pending(ws) > 0) {
        if (ws->state == TVK_WS_CLOSED) return ws->err ? ws->err : TVK_ECLOSED;
        int left = remaining(end);
        if (left == 0) return TVK_ETIMEDOUT;
        tvk_ws_poll(ws, left);
    }
    return ws->err;
}

int tvk_ws_close(tvk_ws *ws)
{
    if (!ws) return TVK_EINVAL;
    int was_open = ws->state == TVK_WS_OPEN || ws->state == TVK_WS_CLOSING;
    tvk_ws_close_start(ws, 1000, NULL);
    while (ws->state != TVK_WS_CLOSED)
        tvk_ws_poll(ws, -1);
    return was_open && ws->err == TVK_ETIMEDOUT && ws->close_initiated ? TVK_ETIMEDOUT : 0;
}
