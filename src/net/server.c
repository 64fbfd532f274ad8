/* Server role: a tvk_ws over an accepted socket (used by tvkit-sim). The opening handshake is
 * read and answered in http.c; from OPEN on, both roles share ws.c. */
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/internal.h"

void tvk_ws_server_opts_init(tvk_ws_server_opts *o)
{
    memset(o, 0, sizeof *o);
    o->compress = 1;
    o->compress_threshold = 1024;
    o->max_message = 32u << 20;
    o->max_header = 16u << 10;
    o->max_queued = TVK_DEFAULT_MAX_QUEUED;
    o->handshake_timeout_ms = 10000;
    o->ping_timeout_ms = 10000;
    o->close_timeout_ms = 10000;
}

tvk_ws *tvk_ws_accept(int fd, const tvk_ws_server_opts *o)
{
    tvk_ws_server_opts d;
    if (!o) {
        tvk_ws_server_opts_init(&d);
        o = &d;
    }
    tvk_ws *ws = fd >= 0 ? calloc(1, sizeof *ws) : NULL;
    if (ws) {
        ws->obuf = malloc(TVK_OBUF_CAP);
        ws->max_header = o->max_header ? o->max_header : 16u << 10;
        ws->hbuf = malloc(ws->max_header + 1);
    }
    if (!ws || !ws->obuf || !ws->hbuf) {
        if (ws) {
            free(ws->obuf);
            free(ws->hbuf);
            free(ws);
        }
        if (fd >= 0) close(fd);
        return NULL;
    }
    ws->server = 1;
    ws->fd = fd;
    ws->info.retry_after_s = -1;
    ws->next_ping = ws->pong_deadline = ws->close_deadline = -1;
    ws->compress = o->compress;
    ws->compress_threshold = o->compress_threshold;
    ws->pmd.level = o->compress_level;
    ws->max_message = o->max_message ? o->max_message : 32u << 20;
    ws->max_queued = o->max_queued ? o->max_queued : TVK_DEFAULT_MAX_QUEUED;
    ws->connect_timeout_ms = o->handshake_timeout_ms > 0 ? o->handshake_timeout_ms : 10000;
    ws->ping_interval_ms = o->ping_interval_ms > 0 ? o->ping_interval_ms : 0;
    ws->ping_timeout_ms = o->ping_timeout_ms > 0 ? o->ping_timeout_ms : 10000;
    ws->close_timeout_ms = o->close_timeout_ms > 0 ? o->close_timeout_ms : 10000;
    ws->on_upgrade = o->on_upgrade;
    ws->on_message = o->on_message;
    ws->user = o->user;
    snprintf(ws->u.host, sizeof ws->u.host, "client");

    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ws->state = TVK_WS_CONNECTING;
    ws->hs_deadline = tvk_now_ms() + ws->connect_timeout_ms;
    if (o->ssl_ctx) {
        ws->ssl_ctx = o->ssl_ctx;
        ws->own_ctx = 0;
        if (tvk_tls_server_setup(ws) != 0) return ws; /* CLOSED with the error recorded */
        ws->phase = PH_TLS;
    } else {
        ws->phase = PH_REQ_RECV;
    }
    return ws;
}
