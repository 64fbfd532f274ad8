/* The tvk_ws handle: connection state machine (TCP, proxy, TLS, upgrade), the wslay glue for
 * the open connection, ping/pong and close timers. Both roles share everything after the
 * handshake; server.c holds the accept side, poll.c the blocking driver. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/internal.h"

int64_t tvk_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void tvk_ws_opts_init(tvk_ws_opts *o)
{
    memset(o, 0, sizeof *o);
    o->url = TVK_DEFAULT_URL;
    o->connect_timeout_ms = 10000;
    o->ping_interval_ms = 20000;
    o->ping_timeout_ms = 10000;
    o->close_timeout_ms = 10000;
    o->compress = 1;
    o->max_message = 32u << 20;
    o->max_header = 16u << 10;
    o->max_queued = TVK_DEFAULT_MAX_QUEUED;
}

void tvk_ws_logf(tvk_ws *ws, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (ws->log)
        ws->log(ws->user, line);
    else
        fprintf(stderr, "tvkit: %s\n", line);
}

void tvk_ws_close_socket(tvk_ws *ws)
{
    tvk_tls_free(ws);
    if (ws->fd >= 0) close(ws->fd);
    ws->fd = -1;
}

int tvk_ws_fail(tvk_ws *ws, int code, const char *fmt, ...)
{
    if (!ws->err) {
        ws->err = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ws->errmsg, sizeof ws->errmsg, fmt, ap);
        va_end(ap);
    }
    tvk_ws_close_socket(ws);
    ws->state = TVK_WS_CLOSED;
    ws->phase = PH_DONE;
    return ws->err;
}

/* A peer error noticed while reading frames: remember it; the close frame goes out and the
 * socket closes once the read loop has returned. */
void tvk_ws_peer_error(tvk_ws *ws, int code, int wscode, const char *fmt, ...)
{
    if (!ws->err) {
        ws->err = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ws->errmsg, sizeof ws->errmsg, fmt, ap);
        va_end(ap);
    }
    ws->fail_wscode = wscode;
    ws->fail_pending = 1;
    ws->rd_on = 0;
}

static char *dupstr(const char *s)
{
    return s ? strdup(s) : NULL;
}

static tvk_ws *ws_alloc(void)
{
    tvk_ws *ws = calloc(1, sizeof *ws);
    if (!ws) return NULL;
    ws->fd = -1;
    ws->info.retry_after_s = -1;
    ws->next_ping = ws->pong_deadline = ws->close_deadline = -1;
    ws->obuf = malloc(TVK_OBUF_CAP);
    if (!ws->obuf) {
        free(ws);
        return NULL;
    }
    return ws;
}

tvk_ws *tvk_ws_new(const tvk_ws_opts *o)
{
    tvk_ws_opts d;
    if (!o) {
        tvk_ws_opts_init(&d);
        o = &d;
    }
    tvk_ws *ws = ws_alloc();
    if (!ws) return NULL;
    ws->url = dupstr(o->url ? o->url : TVK_DEFAULT_URL);
    ws->ca_file = dupstr(o->ca_file);
    ws->proxy_opt = dupstr(o->proxy);
    int bad = !ws->url || (o->ca_file && !ws->ca_file) || (o->proxy && !ws->proxy_opt);
    if (o->nheaders && o->headers) {
        ws->headers = calloc(o->nheaders, sizeof *ws->headers);
        bad |= !ws->headers;
        for (size_t i = 0; !bad && i < o->nheaders; i++) {
            ws->headers[i].name = dupstr(o->headers[i].name);
            ws->headers[i].value = dupstr(o->headers[i].value);
            ws->nheaders = i + 1;
            bad |= (o->headers[i].name && !ws->headers[i].name) ||
                   (o->headers[i].value && !ws->headers[i].value);
        }
    }
    ws->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000;
    ws->ping_interval_ms = o->ping_interval_ms > 0 ? o->ping_interval_ms : 0;
    ws->ping_timeout_ms = o->ping_timeout_ms > 0 ? o->ping_timeout_ms : 10000;
    ws->close_timeout_ms = o->close_timeout_ms > 0 ? o->close_timeout_ms : 10000;
    ws->compress = o->compress;
    ws->max_message = o->max_message ? o->max_message : 32u << 20;
    ws->max_header = o->max_header ? o->max_header : 16u << 10;
    ws->max_queued = o->max_queued ? o->max_queued : TVK_DEFAULT_MAX_QUEUED;
    ws->insecure = o->insecure;
    ws->on_message = o->on_message;
    ws->user = o->user;
    ws->log = o->log;
    if (bad) {
        tvk_ws_free(ws);
        return NULL;
    }
    return ws;
}

void tvk_ws_free(tvk_ws *ws)
{
    if (!ws) return;
    tvk_ws_close_socket(ws);
    if (ws->wctx) wslay_event_context_free(ws->wctx);
    tvk_pmd_free(&ws->pmd);
    tvk_rx_free(ws);
    free(ws->hbuf);
    free(ws->ibuf);
    free(ws->obuf);
    if (ws->ai) freeaddrinfo(ws->ai);
    tvk_net_url_free(&ws->u);
    tvk_net_url_free(&ws->px);
    for (size_t i = 0; i < ws->nheaders; i++) {
        free((char *)ws->headers[i].name);
        free((char *)ws->headers[i].value);
    }
    free(ws->headers);
    free(ws->url);
    free(ws->ca_file);
    free(ws->proxy_opt);
    free(ws);
}

/* ---------------------------------------------------------------- TCP connect */

static const char *target_name(tvk_ws *ws, char *buf, size_t cap)
{
    if (ws->use_proxy)
        snprintf(buf, cap, "proxy %s:%d", ws->px.host, ws->px.port);
    else
        snprintf(buf, cap, "%s:%d", ws->u.host, ws->u.port);
    return buf;
}

/* Starts a connect to ws->ai_cur, moving on to the next address on immediate failure. */
static int tcp_start(tvk_ws *ws)
{
    int last = 0;
    for (; ws->ai_cur; ws->ai_cur = ws->ai_cur->ai_next) {
        struct addrinfo *a = ws->ai_cur;
        int fd =
            socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 || errno == EINPROGRESS || errno == EINTR) {
            ws->fd = fd;
            ws->phase = PH_TCP;
            return 0;
        }
        last = errno;
        close(fd);
    }
    char t[300];
    return tvk_ws_fail(ws, TVK_ECONNECT, "connect to %s failed: %s", target_name(ws, t, sizeof t),
                       strerror(last ? last : ECONNREFUSED));
}

/* 1 connected, 0 still in progress, < 0 failed for good. */
static int tcp_check(tvk_ws *ws)
{
    struct pollfd p = {ws->fd, POLLOUT, 0};
    if (poll(&p, 1, 0) <= 0) return 0;
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(ws->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0) soerr = errno;
    if (soerr == 0) return 1;
    close(ws->fd);
    ws->fd = -1;
    ws->ai_cur = ws->ai_cur->ai_next;
    if (!ws->ai_cur) {
        char t[300];
        return tvk_ws_fail(ws, TVK_ECONNECT, "connect to %s failed: %s",
                           target_name(ws, t, sizeof t), strerror(soerr));
    }
    int r = tcp_start(ws);
    return r < 0 ? r : 0;
}

int tvk_ws_connect_start(tvk_ws *ws)
{
    if (!ws) return TVK_EINVAL;
    if (ws->state != TVK_WS_IDLE) return TVK_ESTATE;
    ws->state = TVK_WS_CONNECTING;
    ws->hs_deadline = tvk_now_ms() + ws->connect_timeout_ms;
    if (!tvk_net_headers_valid(ws->headers, ws->nheaders))
        return tvk_ws_fail(ws, TVK_EINVAL, "headers: empty name, or CR/LF/colon in a header");
    char err[200];
    int r = tvk_net_url_parse(ws->url, 0, &ws->u, err, sizeof err);
    if (r) return tvk_ws_fail(ws, r, "%s", err);
    if ((r = tvk_proxy_resolve(ws))) return r;
    if (ws->u.tls && ws->insecure)
        tvk_ws_logf(ws,
                    "warning: TLS certificate and host name verification disabled "
                    "(insecure) for %s",
                    ws->u.host);
    ws->hbuf = malloc(ws->max_header + 1);
    if (!ws->hbuf) return tvk_ws_fail(ws, TVK_ENOMEM, "connect: out of memory");
    const tvk_net_url *t = ws->use_proxy ? &ws->px : &ws->u;
    char port[8];
    snprintf(port, sizeof port, "%d", t->port);
    struct addrinfo hints = {0};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int g = getaddrinfo(t->host, port, &hints, &ws->ai);
    if (g != 0)
        return tvk_ws_fail(ws, TVK_EDNS, "DNS: cannot resolve %s\"%s\": %s",
                           ws->use_proxy ? "proxy " : "", t->host, gai_strerror(g));
    ws->ai_cur = ws->ai;
    return tcp_start(ws);
}

/* ---------------------------------------------------------------- handshake phases */

/* Reads into hbuf until a full header block; returns its end offset, 0 for not yet, < 0. */
static ssize_t read_header(tvk_ws *ws, const char *what)
{
    for (;;) {
        size_t end = tvk_net_http_end(ws->hbuf, ws->hlen);
        if (end) return (ssize_t)end;
        if (ws->hlen >= ws->max_header)
            return tvk_ws_fail(ws, TVK_EHEADER_TOOBIG, "%s: header block exceeds %zu bytes", what,
                               ws->max_header);
        ssize_t n = tvk_net_io_read(ws, ws->hbuf + ws->hlen, ws->max_header - ws->hlen);
        if (n == TVK_EAGAIN) return 0;
        if (n < 0) return n;
        if (n == 0)
            return tvk_ws_fail(ws, TVK_EHANDSHAKE,
                               "%s: connection closed after %zu bytes (truncated header block)",
                               what, ws->hlen);
        ws->hlen += (size_t)n;
    }
}

static int after_transport(tvk_ws *ws)
{
    if (ws->u.tls && !ws->ssl) {
        int r = tvk_tls_client_setup(ws);
        if (r) return r;
        ws->phase = PH_TLS;
        return 0;
    }
    ws->olen = ws->ooff = 0;
    int r = tvk_upgrade_build_request(ws);
    if (r) return r;
    ws->phase = PH_UPG_SEND;
    return 0;
}

int tvk_ws_progress(tvk_ws *ws)
{
    for (;;) {
        int phase = ws->phase;
        int r = 0;
        ssize_t end;
        switch (phase) {
        case PH_TCP:
            r = tcp_check(ws);
            if (r <= 0) return r;
            if (ws->use_proxy) {
                ws->olen = ws->ooff = 0;
                if ((r = tvk_proxy_build_request(ws))) return r;
                ws->phase = PH_PROXY_SEND;
            } else if ((r = after_transport(ws))) {
                return r;
            }
            break;
        case PH_PROXY_SEND:
        case PH_UPG_SEND:
            r = tvk_net_io_flush(ws);
            if (r == TVK_EAGAIN) return 0;
            if (r) return r;
            ws->hlen = 0;
            ws->phase = phase == PH_PROXY_SEND ? PH_PROXY_RECV : PH_UPG_RECV;
            break;
        case PH_PROXY_RECV:
            end = read_header(ws, "proxy CONNECT answer");
            if (end <= 0) return (int)end;
            if ((r = tvk_proxy_parse_response(ws, (size_t)end))) return r;
            if ((size_t)end != ws->hlen)
                return tvk_ws_fail(ws, TVK_EPROXY, "proxy sent data before the tunnel was used");
            if ((r = after_transport(ws))) return r;
            break;
        case PH_TLS:
            r = tvk_tls_handshake(ws);
            if (r == TVK_EAGAIN) return 0;
            if (r) return r;
            if (ws->server) {
                ws->hlen = 0;
                ws->phase = PH_REQ_RECV;
            } else if ((r = after_transport(ws))) {
                return r;
            }
            break;
        case PH_UPG_RECV:
            end = read_header(ws, "upgrade response");
            if (end <= 0) return (int)end;
            if ((r = tvk_upgrade_parse_response(ws, (size_t)end))) return r;
            ws->loff = (size_t)end;
            ws->llen = ws->hlen - (size_t)end;
            return tvk_ws_open(ws);
        case PH_REQ_RECV:
            end = read_header(ws, "upgrade request");
            if (end <= 0) return (int)end;
            if ((r = tvk_server_handle_request(ws, (size_t)end))) return r;
            ws->loff = (size_t)end;
            ws->llen = ws->hlen - (size_t)end;
            break;
        case PH_RESP_SEND:
            r = tvk_net_io_flush(ws);
            if (r == TVK_EAGAIN) return 0;
            if (r) return r;
            return tvk_ws_open(ws);
        case PH_REJECT_SEND:
            r = tvk_net_io_flush(ws);
            if (r == TVK_EAGAIN) return 0;
            if (r) return r;
            tvk_ws_close_socket(ws);
            ws->state = TVK_WS_CLOSED;
            ws->phase = PH_DONE;
            return 0;
        case PH_OPEN:
            return tvk_ws_io_open(ws);
        default:
            return ws->err;
        }
    }
}

/* ---------------------------------------------------------------- open connection (wslay) */

static ssize_t cb_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    (void)flags;
    tvk_ws *ws = user;
    int n = tvk_net_io_queue(ws, data, len, 0);
    if (n == TVK_EAGAIN) {
        int r = tvk_net_io_flush(ws);
        if (r < 0 && r != TVK_EAGAIN) {
            wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
            return -1;
        }
        n = tvk_net_io_queue(ws, data, len, 0);
    }
    if (n == TVK_EAGAIN) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    return n;
}

static int cb_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
    /* masks come from a small per-handle pool: one getrandom call per 64 frames */
    tvk_ws *ws = user;
    for (size_t i = 0; i < len; i++) {
        if (ws->rndleft == 0) {
            if (tvk_net_random(ws->rnd, sizeof ws->rnd) != 0) {
                wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
                return -1;
            }
            ws->rndleft = sizeof ws->rnd;
        }
        buf[i] = ws->rnd[--ws->rndleft];
    }
    return 0;
}

int tvk_ws_open(tvk_ws *ws)
{
    static const struct wslay_event_callbacks cbs = {
        NULL, cb_send, cb_genmask, NULL, NULL, NULL, NULL, /* frame.c reads, wslay only sends */
    };
    /* bytes that came after the header block are the first frames */
    ws->ibufcap = ws->llen > TVK_IBUF_CAP ? ws->llen : TVK_IBUF_CAP;
    ws->ibuf = malloc(ws->ibufcap);
    if (!ws->ibuf) return tvk_ws_fail(ws, TVK_ENOMEM, "WebSocket: out of memory");
    if (ws->llen) memcpy(ws->ibuf, ws->hbuf + ws->loff, ws->llen);
    ws->ioff = 0;
    ws->ilen = ws->llen;
    ws->llen = 0;
    ws->rd_on = 1;
    int r = ws->server ? wslay_event_context_server_init(&ws->wctx, &cbs, ws)
                       : wslay_event_context_client_init(&ws->wctx, &cbs, ws);
    if (r != 0) {
        ws->wctx = NULL;
        return tvk_ws_fail(ws, TVK_ENOMEM, "WebSocket: out of memory");
    }
    /* wslay checks the RSV1 bit of what we send against this */
    if (ws->pmd.on) wslay_event_config_set_allowed_rsv_bits(ws->wctx, WSLAY_RSV1_BIT);
    ws->info.deflate = ws->pmd.on;
    ws->info.server_no_context_takeover = ws->pmd.server_no_ctx;
    ws->info.client_no_context_takeover = ws->pmd.client_no_ctx;
    ws->info.server_max_window_bits = ws->pmd.on ? ws->pmd.server_bits : 0;
    ws->info.client_max_window_bits = ws->pmd.on ? ws->pmd.client_bits : 0;
    ws->state = TVK_WS_OPEN;
    ws->phase = PH_OPEN;
    ws->olen = ws->ooff = 0;
    if (ws->ping_interval_ms > 0) ws->next_ping = tvk_now_ms() + ws->ping_interval_ms;
    return tvk_ws_io_open(ws);
}

static int can_read(const tvk_ws *ws)
{
    /* Once we sent a close, data messages are dropped as they end (frame.c), so reading goes
     * on until the peer's close reply however full the queue is. */
    return ws->wctx && ws->rd_on &&
           (ws->on_message || ws->close_initiated || tvk_rx_queued(ws) < ws->max_queued);
}

/* Sends what wslay has queued, then our buffer; EAGAIN is not an error. With lazy, a small
 * remainder waits in the buffer for on_writable, so a burst of sends shares one write. */
static int pump_out_lazy(tvk_ws *ws, int lazy)
{
    if (wslay_event_want_write(ws->wctx)) {
        int r = wslay_event_send(ws->wctx);
        if (ws->err) return ws->err;
        if (r == WSLAY_ERR_NOMEM) return tvk_ws_fail(ws, TVK_ENOMEM, "WebSocket: out of memory");
        if (r != 0) return tvk_ws_fail(ws, TVK_EIO, "WebSocket: send failed (%d)", r);
    }
    if (lazy && ws->olen - ws->ooff < TVK_FLUSH_AT) return 0;
    int r = tvk_net_io_flush(ws);
    return r == TVK_EAGAIN ? 0 : r;
}

static int pump_out(tvk_ws *ws)
{
    return pump_out_lazy(ws, 0);
}

/* Finishes a peer error: the close frame goes out if the socket takes it now, then we drop. */
static int finish_peer_error(tvk_ws *ws)
{
    if (ws->fd >= 0 && wslay_event_get_write_enabled(ws->wctx)) {
        wslay_event_queue_close(ws->wctx, (uint16_t)ws->fail_wscode, NULL, 0);
        wslay_event_send(ws->wctx);
        tvk_net_io_flush(ws);
    }
    ws->fail_pending = 0;
    int code = ws->err;
    tvk_ws_close_socket(ws);
    ws->state = TVK_WS_CLOSED;
    ws->phase = PH_DONE;
    return code;
}

int tvk_ws_io_open(tvk_ws *ws)
{
    if (can_read(ws)) {
        ws->in_recv = 1;
        int r = tvk_ws_read_frames(ws);
        ws->in_recv = 0;
        if (ws->fail_pending) return finish_peer_error(ws);
        if (ws->err) return ws->err;
        if (r) return r;
    }
    /* EOF first: writing the close reply to a socket the peer has shut would only add EPIPE */
    if (ws->eof) {
        if (ws->close_initiated && wslay_event_get_close_sent(ws->wctx)) {
            tvk_ws_close_socket(ws);
            ws->state = TVK_WS_CLOSED;
            ws->phase = PH_DONE;
            return ws->err;
        }
        if (ws->close_rcvd)
            return tvk_ws_fail(ws, TVK_ECLOSED, "peer closed the connection (close code %d)",
                               ws->info.close_code);
        return tvk_ws_fail(ws, TVK_ECLOSED,
                           "connection closed by peer without a close frame (after %llu messages)",
                           (unsigned long long)ws->info.messages_in);
    }
    int r = pump_out(ws);
    if (r) return r;
    int both = ws->close_rcvd && wslay_event_get_close_sent(ws->wctx);
    if (both && ws->olen == ws->ooff) {
        tvk_ws_close_socket(ws);
        ws->state = TVK_WS_CLOSED;
        ws->phase = PH_DONE;
        if (!ws->close_initiated && !ws->err) {
            ws->err = TVK_ECLOSED;
            snprintf(ws->errmsg, sizeof ws->errmsg, "peer closed the connection (close code %d)",
                     ws->info.close_code);
        }
        return ws->err;
    }
    return 0;
}

/* ---------------------------------------------------------------- event-loop entry points */

int tvk_ws_fd(const tvk_ws *ws)
{
    return ws ? ws->fd : -1;
}
tvk_ws_state tvk_ws_get_state(const tvk_ws *ws)
{
    return ws ? ws->state : TVK_WS_CLOSED;
}
int tvk_ws_error(const tvk_ws *ws)
{
    return ws ? ws->err : TVK_EINVAL;
}
const char *tvk_ws_errmsg(const tvk_ws *ws)
{
    return ws ? ws->errmsg : "no handle";
}

int tvk_ws_wants(const tvk_ws *ws)
{
    if (!ws || ws->fd < 0) return 0;
    switch (ws->phase) {
    case PH_TCP:
        return TVK_WANT_WRITE;
    case PH_PROXY_SEND:
    case PH_UPG_SEND:
    case PH_RESP_SEND:
    case PH_REJECT_SEND:
        return TVK_WANT_WRITE | (ws->tls_write_wants_read ? TVK_WANT_READ : 0);
    case PH_PROXY_RECV:
    case PH_UPG_RECV:
    case PH_REQ_RECV:
        return TVK_WANT_READ | (ws->tls_read_wants_write ? TVK_WANT_WRITE : 0);
    case PH_TLS:
        return ws->tls_want ? ws->tls_want : TVK_WANT_READ;
    case PH_OPEN: {
        int w = 0;
        if (can_read(ws)) w |= TVK_WANT_READ;
        if (ws->olen > ws->ooff || wslay_event_want_write(ws->wctx)) w |= TVK_WANT_WRITE;
        if (ws->tls_read_wants_write) w |= TVK_WANT_WRITE;
        if (ws->tls_write_wants_read) w |= TVK_WANT_READ;
        return w;
    }
    default:
        return 0;
    }
}

int64_t tvk_ws_deadline(const tvk_ws *ws)
{
    if (!ws || ws->state == TVK_WS_CLOSED || ws->state == TVK_WS_IDLE) return -1;
    if (ws->state == TVK_WS_CONNECTING) return ws->hs_deadline;
    int64_t d = -1;
#define TVK_MIN_DEADLINE(x)                                                                        \
    do {                                                                                           \
        int64_t x_ = (x);                                                                          \
        if (x_ >= 0 && (d < 0 || x_ < d)) d = x_;                                                  \
    } while (0)
    if (ws->state == TVK_WS_OPEN) {
        TVK_MIN_DEADLINE(ws->pong_deadline >= 0 ? ws->pong_deadline : ws->next_ping);
    }
    TVK_MIN_DEADLINE(ws->close_deadline);
    /* Bytes already read (past the header, socket bytes read for OpenSSL, records inside it) do
     * not wake poll(). SSL_has_pending also counts a record still arriving, which only the
     * socket can complete: after SSL_read asked for more bytes, poll() waits for them. */
    if (can_read(ws) && (ws->llen > 0 || ws->ilen > 0 || ws->tls_in_len > 0 ||
                         (ws->ssl && !ws->tls_rx_starved && SSL_has_pending(ws->ssl))))
        TVK_MIN_DEADLINE(tvk_now_ms());
#undef TVK_MIN_DEADLINE
    return d;
}

int tvk_ws_on_readable(tvk_ws *ws)
{
    if (!ws) return TVK_EINVAL;
    if (ws->state == TVK_WS_CLOSED || ws->state == TVK_WS_IDLE) return ws->err;
    int r = tvk_ws_progress(ws);
    return r == TVK_EAGAIN ? 0 : (ws->err ? ws->err : (r < 0 ? r : 0));
}

int tvk_ws_on_writable(tvk_ws *ws)
{
    return tvk_ws_on_readable(ws);
}

static const char *phase_name(int phase)
{
    switch (phase) {
    case PH_TCP:
        return "TCP connect";
    case PH_PROXY_SEND:
    case PH_PROXY_RECV:
        return "proxy CONNECT";
    case PH_TLS:
        return "TLS handshake";
    case PH_UPG_SEND:
    case PH_UPG_RECV:
        return "upgrade response";
    case PH_REQ_RECV:
        return "upgrade request";
    default:
        return "handshake";
    }
}

int tvk_ws_on_timer(tvk_ws *ws, int64_t now)
{
    if (!ws) return TVK_EINVAL;
    if (ws->state == TVK_WS_CLOSED || ws->state == TVK_WS_IDLE) return ws->err;
    if (ws->state == TVK_WS_CONNECTING) {
        if (now < ws->hs_deadline) return 0;
        char t[300];
        if (ws->server)
            return tvk_ws_fail(ws, TVK_ETIMEDOUT, "handshake timed out after %d ms (%s)",
                               ws->connect_timeout_ms, phase_name(ws->phase));
        return tvk_ws_fail(ws, TVK_ETIMEDOUT, "connect to %s timed out after %d ms (%s)",
                           target_name(ws, t, sizeof t), ws->connect_timeout_ms,
                           phase_name(ws->phase));
    }
    if (ws->close_deadline >= 0 && now >= ws->close_deadline) {
        if (ws->close_initiated)
            return tvk_ws_fail(ws, TVK_ETIMEDOUT, "close handshake timed out after %d ms",
                               ws->close_timeout_ms);
        return tvk_ws_fail(ws, TVK_ECLOSED,
                           "peer closed the connection (close code %d; reply not delivered)",
                           ws->info.close_code);
    }
    if (ws->state == TVK_WS_OPEN && ws->pong_deadline >= 0 && now >= ws->pong_deadline)
        return tvk_ws_fail(ws, TVK_EPING_TIMEOUT,
                           "no pong within %d ms of ping %llu: connection dead",
                           ws->ping_timeout_ms, (unsigned long long)ws->ping_seq);
    if (ws->state == TVK_WS_OPEN && ws->pong_deadline < 0 && ws->next_ping >= 0 &&
        now >= ws->next_ping) {
        unsigned char p[8];
        ws->ping_seq++;
        for (int i = 0; i < 8; i++)
            p[i] = (unsigned char)(ws->ping_seq >> (56 - 8 * i));
        struct wslay_event_msg m = {WSLAY_PING, p, sizeof p};
        if (wslay_event_queue_msg(ws->wctx, &m) == 0) {
            ws->last_ping = now;
            ws->pong_deadline = now + ws->ping_timeout_ms;
            ws->next_ping = -1;
        }
    }
    int r = tvk_ws_io_open(ws);
    return r == TVK_EAGAIN ? 0 : r;
}

/* ---------------------------------------------------------------- sending and closing */

size_t tvk_ws_pending(const tvk_ws *ws)
{
    if (!ws) return 0;
    size_t n = ws->olen - ws->ooff;
    if (ws->wctx) n += wslay_event_get_queued_msg_length(ws->wctx);
    return n;
}

/* What every text send checks before it queues len bytes: 0, or the error (nothing queued). */
static int send_allowed(tvk_ws *ws, size_t len)
{
    if (ws->err) return ws->err;
    if (ws->state != TVK_WS_OPEN) return TVK_ESTATE;
    if (len > ws->max_message) {
        snprintf(ws->errmsg, sizeof ws->errmsg, "send: message of %zu bytes exceeds limit %zu", len,
                 ws->max_message);
        return TVK_EMSG_TOOBIG;
    }
    if (tvk_ws_pending(ws) + len > ws->max_message) return TVK_EBACKPRESSURE;
    return 0;
}

/* Queues one text message's payload (compressed: RSV1 set) and starts writing it. */
static int queue_text(tvk_ws *ws, const uint8_t *payload, size_t len, int compressed)
{
    struct wslay_event_msg m = {WSLAY_TEXT_FRAME, payload, len};
    int r = wslay_event_queue_msg_ex(ws->wctx, &m, compressed ? WSLAY_RSV1_BIT : WSLAY_RSV_NONE);
    if (r != 0) {
        int code = r == WSLAY_ERR_NOMEM ? TVK_ENOMEM : TVK_ESTATE;
        /* Our compressor has taken the text in: with context takeover the next messages may
         * refer to it, so the peer must never get them without it. */
        if (compressed)
            return tvk_ws_fail(ws, code, "send: a compressed message could not be queued");
        return code;
    }
    ws->info.messages_out++;
    if (ws->in_recv) return 0; /* on_readable sends it when the read loop returns */
    r = pump_out_lazy(ws, 1);
    return r == TVK_EAGAIN ? 0 : r;
}

static int deflates(const tvk_ws *ws, size_t len)
{
    return ws->pmd.on && len > 0 && (!ws->server || len >= ws->compress_threshold);
}

int tvk_ws_send_text(tvk_ws *ws, const char *data, size_t len)
{
    if (!ws || (!data && len)) return TVK_EINVAL;
    int r = send_allowed(ws, len);
    if (r) return r;
    if (!deflates(ws, len)) return queue_text(ws, (const uint8_t *)data, len, 0);
    unsigned char *z = NULL;
    size_t zl = 0;
    r = tvk_pmd_compress(&ws->pmd, ws->server, data, len, &z, &zl);
    if (r) return tvk_ws_fail(ws, r, "send: deflate failed");
    r = queue_text(ws, z, zl, 1);
    free(z);
    return r;
}

int tvk_ws_send_parts(tvk_ws *ws, const tvk_ws_part *parts, size_t n)
{
    if (!ws || (!parts && n)) return TVK_EINVAL;
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if ((!parts[i].text && parts[i].len) || parts[i].len > SIZE_MAX - len) return TVK_EINVAL;
        len += parts[i].len;
    }
    if (n == 1 && !parts[0].deflated) return tvk_ws_send_text(ws, parts[0].text, parts[0].len);
    int r = send_allowed(ws, len);
    if (r) return r;
    int deflate = deflates(ws, len);
    unsigned char *b = NULL;
    size_t bl = 0, spliced = 0;
    if (deflate) {
        r = tvk_pmd_compress_parts(&ws->pmd, ws->server, parts, n, &b, &bl, &spliced);
        if (r) return tvk_ws_fail(ws, r, "send: deflate of a %zu-part message failed", n);
    } else {
        /* uncompressed, wslay wants the message in one piece */
        b = malloc(len ? len : 1);
        if (!b) return TVK_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            if (parts[i].len) memcpy(b + bl, parts[i].text, parts[i].len);
            bl += parts[i].len;
        }
    }
    r = queue_text(ws, b, bl, deflate);
    free(b);
    if (r == 0) ws->info.parts_spliced += spliced;
    return r;
}

int tvk_ws_close_start(tvk_ws *ws, int code, const char *reason)
{
    if (!ws) return TVK_EINVAL;
    switch (ws->state) {
    case TVK_WS_IDLE:
    case TVK_WS_CONNECTING:
        tvk_ws_close_socket(ws);
        ws->state = TVK_WS_CLOSED;
        ws->phase = PH_DONE;
        return 0;
    case TVK_WS_OPEN: {
        size_t rl = reason ? strlen(reason) : 0;
        if (rl > 123) rl = 123;
        ws->close_initiated = 1;
        ws->state = TVK_WS_CLOSING;
        ws->close_deadline = tvk_now_ms() + ws->close_timeout_ms;
        wslay_event_queue_close(ws->wctx, (uint16_t)(code ? code : 1000), (const uint8_t *)reason,
                                rl);
        if (!ws->in_recv) {
            int r = pump_out(ws);
            if (r && r != TVK_EAGAIN) return r;
        }
        return 0;
    }
    default:
        return 0;
    }
}

void tvk_ws_abort(tvk_ws *ws)
{
    if (!ws || ws->state == TVK_WS_CLOSED) return;
    tvk_ws_close_socket(ws);
    ws->state = TVK_WS_CLOSED;
    ws->phase = PH_DONE;
    if (!ws->errmsg[0]) snprintf(ws->errmsg, sizeof ws->errmsg, "aborted");
}

void tvk_ws_get_info(const tvk_ws *ws, tvk_ws_info *info)
{
    if (!ws || !info) return;
    *info = ws->info;
    info->rx_queued = tvk_rx_queued(ws);
}
