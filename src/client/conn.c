/* The connection handle: lifecycle, sending, the receive pump (heartbeat echo, parse, route to
 * series and quote sets) and tvk_conn_next, the seed's get_data_stream. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

#define TVK_TRACE_MAX 400

/* With release_idle_buffers, a connection between messages holds no buffers of a big one: a
 * 5,000-bar answer needs ~0.5 MB for its text (its bars are read without tokens; other big
 * messages, and answers the fast reader declines, also grow the token store), which a program
 * downloading over several connections would otherwise keep per connection while it waits. Off by
 * default: with glibc's default settings the freed memory goes back to the system and every
 * big message faults it in again (measured: 10x the page faults, 2.5x the CPU of a 4-connection
 * download). Ordinary messages (quotes, live bars) stay far below the bound either way. */
#define CONN_KEEP_BYTES (256u << 10)

void tvk__conn_drop_message(tvk_conn *c)
{
    c->in_message = 0;
    if (!c->o.release_idle_buffers) return;
    tvk_reader_trim(c->reader, CONN_KEEP_BYTES);
    if (c->in.cap > CONN_KEEP_BYTES) tvk_buf_free(&c->in);
}

void tvk_conn_opts_init(tvk_conn_opts *o)
{
    memset(o, 0, sizeof *o);
    o->url = TVK_DEFAULT_URL;
    o->compress = 1;
    o->connect_timeout_ms = 10000;
    o->request_timeout_ms = TVK_DEFAULT_REQUEST_TIMEOUT_MS;
    o->ping_interval_ms = 20000;
    o->ping_timeout_ms = 10000;
    o->close_timeout_ms = 10000;
    o->max_message = TVK_DEFAULT_MAX_MESSAGE;
    o->max_bars_per_request = TVK_DEFAULT_MAX_BARS_PER_REQUEST;
    o->reconnect_delay_ms = 1000;
    o->reconnect_max_delay_ms = 30000;
    o->silence_timeout_ms = 60000;
    o->max_events = 65536;
}

static void free_headers(tvk_conn *c)
{
    for (size_t i = 0; i < c->o.nheaders && c->headers; i++) {
        free((char *)c->headers[i].name);
        free((char *)c->headers[i].value);
    }
    free(c->headers);
    c->headers = NULL;
}

static int copy_headers(tvk_conn *c, const tvk_header *h, size_t n)
{
    c->o.headers = NULL;
    c->o.nheaders = 0;
    if (!h || !n) return 0;
    c->headers = calloc(n, sizeof *c->headers);
    if (!c->headers) return TVK_ENOMEM;
    c->o.nheaders = n;
    for (size_t i = 0; i < n; i++) {
        c->headers[i].name = tvk__strdup(h[i].name);
        c->headers[i].value = h[i].value ? tvk__strdup(h[i].value) : NULL;
        if (!c->headers[i].name || (h[i].value && !c->headers[i].value)) return TVK_ENOMEM;
    }
    c->o.headers = c->headers;
    return 0;
}

tvk_conn *tvk_conn_new_opts(const tvk_conn_opts *o)
{
    tvk_conn_opts def;
    if (!o) {
        tvk_conn_opts_init(&def);
        o = &def;
    }
    tvk_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->o = *o;
    const char *token = o->token;
    if (!token) token = getenv(TVK_TOKEN_ENV);
    if (!token || !*token) token = TVK_DEFAULT_TOKEN;
    c->url = tvk__strdup(o->url ? o->url : TVK_DEFAULT_URL);
    c->token = tvk__strdup(token);
    c->proxy = o->proxy ? tvk__strdup(o->proxy) : NULL;
    c->ca_file = o->ca_file ? tvk__strdup(o->ca_file) : NULL;
    c->reader = tvk_reader_new(o->max_message);
    tvk_buf_init(&c->in);
    tvk_buf_init(&c->out);
    tvk_buf_init(&c->params);
    if (!c->url || !c->token || (o->proxy && !c->proxy) || (o->ca_file && !c->ca_file) ||
        !c->reader || copy_headers(c, o->headers, o->nheaders) < 0) {
        tvk_conn_free(c);
        return NULL;
    }
    c->o.url = c->url;
    c->o.token = c->token;
    c->o.proxy = c->proxy;
    c->o.ca_file = c->ca_file;
    if (c->o.request_timeout_ms <= 0) c->o.request_timeout_ms = TVK_DEFAULT_REQUEST_TIMEOUT_MS;
    if (c->o.max_bars_per_request <= 0)
        c->o.max_bars_per_request = TVK_DEFAULT_MAX_BARS_PER_REQUEST;
    if (c->o.connect_timeout_ms <= 0) c->o.connect_timeout_ms = 10000;
    if (c->o.close_timeout_ms <= 0) c->o.close_timeout_ms = 10000;
    if (c->o.reconnect_delay_ms <= 0) c->o.reconnect_delay_ms = 1000;
    if (c->o.reconnect_max_delay_ms < c->o.reconnect_delay_ms)
        c->o.reconnect_max_delay_ms =
            c->o.reconnect_delay_ms > 30000 ? c->o.reconnect_delay_ms : 30000;
    if (c->o.reconnect_attempts < 0) c->o.reconnect_attempts = 0;
    if (c->o.silence_timeout_ms < 0) c->o.silence_timeout_ms = 0;
    if (c->o.data_timeout_ms < 0) c->o.data_timeout_ms = 0;
    if (!c->o.max_events) c->o.max_events = 65536;
    c->retry_after_ms = -1;
    /* Jitter only has to differ between clients that lost the same server at once. */
    c->rng = (uint64_t)tvk_now_ms() ^ ((uint64_t)(uintptr_t)c << 16) ^ 0x9e3779b97f4a7c15u;
    c->state = TVK_CONN_IDLE;
    return c;
}

tvk_conn *tvk_conn_new(const char *ws_url)
{
    tvk_conn_opts o;
    tvk_conn_opts_init(&o);
    if (ws_url) o.url = ws_url;
    return tvk_conn_new_opts(&o);
}

void tvk_conn_free(tvk_conn *c)
{
    if (!c) return;
    tvk_conn_close(c);
    while (c->series) {
        tvk_series *s = c->series;
        c->series = s->next;
        tvk__series_free(s);
    }
    while (c->quotes) {
        tvk_quotes *q = c->quotes;
        c->quotes = q->next;
        tvk__quotes_free(q);
    }
    if (c->ws) tvk_ws_free(c->ws);
    if (c->reader) tvk_reader_free(c->reader);
    tvk_buf_free(&c->in);
    tvk_buf_free(&c->out);
    tvk_buf_free(&c->params);
    free_headers(c);
    free(c->url);
    free(c->token);
    free(c->proxy);
    free(c->ca_file);
    free(c->sent_token);
    tvk__ev_free(c);
    free(c);
}

void tvk__conn_set_err(tvk_conn *c, int code, const char *fmt, ...)
{
    c->err = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->errmsg, sizeof c->errmsg, fmt, ap);
    va_end(ap);
}

void tvk__conn_log(tvk_conn *c, const char *fmt, ...)
{
    char line[TVK_ERRMSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (c->o.log)
        c->o.log(c->o.log_user, line);
    else
        fprintf(stderr, "tvkit: %s\n", line);
}

int tvk_conn_error(const tvk_conn *c)
{
    return c ? c->err : TVK_EINVAL;
}
const char *tvk_conn_errmsg(const tvk_conn *c)
{
    return c ? c->errmsg : "no handle";
}
tvk_conn_state tvk_conn_get_state(const tvk_conn *c)
{
    return c->state;
}
tvk_ws *tvk_conn_ws(tvk_conn *c)
{
    return c->ws;
}
const char *tvk_conn_server_session(const tvk_conn *c)
{
    return c->server_session;
}
void tvk_conn_get_stats(const tvk_conn *c, tvk_conn_stats *st)
{
    *st = c->stats;
    st->buffer_bytes = c->in.cap + tvk_reader_buffer_bytes(c->reader);
}

void tvk__conn_set_send_hook(tvk_conn *c, tvk_conn_send_hook fn, void *user)
{
    c->send_hook = fn;
    c->send_hook_user = user;
    c->state = fn ? TVK_CONN_CONNECTED : TVK_CONN_IDLE;
}

int tvk__conn_timeout(const tvk_conn *c, const tvk_req_opts *o)
{
    return o && o->timeout_ms > 0 ? o->timeout_ms : c->o.request_timeout_ms;
}

/* ---------------------------------------------------------------- connect / close */

/* The connect failed with rc: says where, keeps a 429's Retry-After, drops the socket. */
static int open_failed(tvk_conn *c, int rc)
{
    tvk__conn_set_err(c, rc, "connect %s: %s", c->url, tvk_ws_errmsg(c->ws));
    tvk_ws_info info;
    tvk_ws_get_info(c->ws, &info);
    if (rc == TVK_EHTTP_429 && info.retry_after_s >= 0)
        c->retry_after_ms = info.retry_after_s > 86400 ? 86400000 : info.retry_after_s * 1000;
    tvk_ws_free(c->ws);
    c->ws = NULL;
    return rc;
}

int tvk_conn_connect(tvk_conn *c)
{
    if (!c) return TVK_EINVAL;
    if (c->state == TVK_CONN_CONNECTED || c->state == TVK_CONN_RECONNECTING) {
        tvk__conn_set_err(c, TVK_ESTATE, "connect: already %s %s",
                          c->state == TVK_CONN_CONNECTED ? "connected to" : "reconnecting to",
                          c->url);
        return TVK_ESTATE;
    }
    int rc = tvk__conn_open(c);
    if (rc < 0) return rc;
    c->attempt = 0;
    return 0;
}

int tvk__conn_open_start(tvk_conn *c)
{
    c->retry_after_ms = -1;
    if (c->ws) {
        tvk_ws_free(c->ws);
        c->ws = NULL;
    }
    tvk_ws_opts wo;
    tvk_ws_opts_init(&wo);
    wo.url = c->url;
    wo.connect_timeout_ms = c->o.connect_timeout_ms;
    wo.ping_interval_ms = c->o.ping_interval_ms;
    wo.ping_timeout_ms = c->o.ping_timeout_ms;
    wo.close_timeout_ms = c->o.close_timeout_ms;
    wo.compress = c->o.compress;
    if (c->o.max_message) wo.max_message = c->o.max_message;
    wo.ca_file = c->ca_file;
    wo.insecure = c->o.insecure;
    wo.proxy = c->proxy;
    wo.headers = c->o.headers;
    wo.nheaders = c->o.nheaders;
    wo.on_message = NULL;
    wo.user = c->o.log_user;
    wo.log = c->o.log;
    c->ws = tvk_ws_new(&wo);
    if (!c->ws) {
        tvk__conn_set_err(c, TVK_ENOMEM, "connect %s: out of memory", c->url);
        return TVK_ENOMEM;
    }
    int rc = tvk_ws_connect_start(c->ws);
    return rc < 0 ? open_failed(c, rc) : 0;
}

int tvk__conn_connecting(const tvk_conn *c)
{
    return c->ws && tvk_ws_get_state(c->ws) == TVK_WS_CONNECTING;
}

int tvk__conn_open_poll(tvk_conn *c, int64_t deadline)
{
    /* One round even when the deadline has passed: a caller polling with timeout 0 (an event
     * loop woken by the socket) must see the handshake advance. */
    for (int first = 1; tvk__conn_connecting(c); first = 0) {
        int64_t now = tvk_now_ms();
        if (!first && deadline >= 0 && now >= deadline) return 0;
        int wait = -1; /* bounded all the same: the handshake has its own deadline */
        if (deadline >= 0) {
            int64_t d = deadline - now;
            wait = d < 0 ? 0 : d > 0x7fffffff ? 0x7fffffff : (int)d;
        }
        tvk_ws_poll(c->ws, wait);
    }
    if (!c->ws) {
        tvk__conn_set_err(c, TVK_ESTATE, "connect %s: no connect in progress", c->url);
        return TVK_ESTATE;
    }
    if (tvk_ws_get_state(c->ws) != TVK_WS_OPEN) {
        int rc = tvk_ws_error(c->ws);
        return open_failed(c, rc < 0 ? rc : TVK_ECLOSED);
    }
    c->state = TVK_CONN_CONNECTED;
    c->err = 0;
    c->errmsg[0] = '\0';
    c->fatal = 0;
    tvk__conn_drop_message(c);
    c->server_session[0] = '\0';
    free(c->sent_token);
    c->sent_token = NULL;
    c->last_rx = c->last_data = tvk_now_ms();
    c->watchdog_fired = 0;
    return 1;
}

int tvk__conn_open(tvk_conn *c)
{
    int rc = tvk__conn_open_start(c);
    if (rc == 0) rc = tvk__conn_open_poll(c, -1);
    return rc < 0 ? rc : 0;
}

int tvk_conn_close(tvk_conn *c)
{
    if (!c) return 0;
    if (c->state == TVK_CONN_RECONNECTING) {
        /* An attempt in progress ends here: its socket is closed, no handshake to wait for. */
        if (c->ws) {
            tvk_ws_free(c->ws);
            c->ws = NULL;
        }
        c->state = TVK_CONN_CLOSED;
        tvk__conn_fail_all(c, TVK_ECONN_LOST, "connection closed by tvk_conn_close");
        return 0;
    }
    if (c->state != TVK_CONN_CONNECTED) return 0;
    if (c->ws) {
        tvk_ws_flush(c->ws, c->o.close_timeout_ms);
        tvk_ws_close(c->ws);
    }
    c->state = TVK_CONN_CLOSED;
    tvk__conn_drop_message(c);
    tvk__conn_fail_all(c, TVK_ECONN_LOST, "connection closed by tvk_conn_close");
    return 0;
}

void tvk__conn_fail_all(tvk_conn *c, int code, const char *why)
{
    for (tvk_series *s = c->series; s; s = s->next)
        if (s->state == TVK_SERIES_LOADING || (s->state == TVK_SERIES_READY && s->live))
            tvk__series_fail(s, code, "%s: %s", s->symbol, why);
    for (tvk_quotes *q = c->quotes; q; q = q->next)
        tvk__quotes_fail(q, code, why, 1);
}

static void conn_lost(tvk_conn *c, int rc)
{
    const char *detail = c->ws ? tvk_ws_errmsg(c->ws) : "";
    if (tvk__reconn_lost(c, rc, detail && *detail ? detail : tvk_strerror(rc))) return;
    tvk__conn_set_err(c, TVK_ECONN_LOST, "connection lost (%s): %s", tvk_errname(rc),
                      detail && *detail ? detail : tvk_strerror(rc));
    c->state = TVK_CONN_LOST;
    c->lost_code = TVK_ECONN_LOST;
    tvk__conn_drop_message(c);
    char why[TVK_ERRMSG_CAP];
    snprintf(why, sizeof why, "%s", c->errmsg);
    tvk__conn_fail_all(c, TVK_ECONN_LOST, why);
}

/* ---------------------------------------------------------------- sending */

static void trace(tvk_conn *c, const char *dir, const char *data, size_t len)
{
    if (!c->o.trace) return;
    int n = len > TVK_TRACE_MAX ? TVK_TRACE_MAX : (int)len;
    tvk__conn_log(c, "%s %.*s%s", dir, n, data, len > TVK_TRACE_MAX ? "..." : "");
}

int tvk__conn_send_raw(tvk_conn *c, const char *data, size_t len)
{
    int rc;
    if (c->send_hook) {
        rc = c->send_hook(c->send_hook_user, data, len);
        if (rc < 0) {
            tvk__conn_set_err(c, rc, "send: %s", tvk_strerror(rc));
            return rc;
        }
    } else {
        /* Dropped while reconnecting: the restore re-sends every session from its state. */
        if (c->state == TVK_CONN_RECONNECTING) return 0;
        if (c->state != TVK_CONN_CONNECTED || !c->ws) {
            rc = c->state == TVK_CONN_LOST ? TVK_ECONN_LOST : TVK_ESTATE;
            tvk__conn_set_err(c, rc, "send: not connected%s",
                              c->state == TVK_CONN_LOST ? " (connection lost)" : "");
            return rc;
        }
        rc = tvk_ws_send_text(c->ws, data, len);
        if (rc < 0) {
            if (rc != TVK_EBACKPRESSURE && tvk_ws_get_state(c->ws) == TVK_WS_CLOSED) {
                conn_lost(c, rc);
                return c->state == TVK_CONN_RECONNECTING ? 0 : TVK_ECONN_LOST;
            }
            tvk__conn_set_err(c, rc, "send %zu bytes: %s", len, tvk_ws_errmsg(c->ws));
            return rc;
        }
    }
    c->stats.messages_out++;
    trace(c, "->", data, len);
    return 0;
}

int tvk__conn_send_out(tvk_conn *c)
{
    int rc = tvk__conn_send_raw(c, c->out.data, c->out.len);
    tvk_buf_reset(&c->out);
    return rc;
}

int tvk__conn_send_msg(tvk_conn *c, const char *method, const char *params_json)
{
    tvk_buf_reset(&c->out);
    int rc = tvk_build(&c->out, method, params_json);
    if (rc < 0) {
        tvk__conn_set_err(c, rc, "build %s: %s", method, tvk_strerror(rc));
        tvk_buf_reset(&c->out);
        return rc;
    }
    return tvk__conn_send_out(c);
}

int tvk_conn_send(void *conn, const char *method, const char *params_json)
{
    tvk_conn *c = conn;
    if (!c || !method || !params_json) return TVK_EINVAL;
    if (c->state == TVK_CONN_RECONNECTING) {
        /* Only the sessions of tvkit/ohlcv.h are restored; a raw message would be lost. */
        tvk__conn_set_err(c, TVK_ECONN_LOST, "send %s: reconnecting (connection lost)", method);
        return TVK_ECONN_LOST;
    }
    return tvk__conn_send_msg(c, method, params_json);
}

int tvk_conn_flush(tvk_conn *c, int timeout_ms)
{
    if (c->send_hook) return 0;
    if (c->state != TVK_CONN_CONNECTED || !c->ws) return TVK_ESTATE;
    int rc = tvk_ws_flush(c->ws, timeout_ms);
    if (rc < 0) tvk__conn_set_err(c, rc, "flush: %s", tvk_ws_errmsg(c->ws));
    return rc;
}

int tvk__conn_ready(tvk_conn *c, const char *token)
{
    if (c->fatal) {
        tvk__conn_set_err(c, c->fatal, "the server sent protocol_error earlier; reconnect first");
        return c->fatal;
    }
    if (c->state == TVK_CONN_IDLE && !c->send_hook) {
        int rc = tvk_conn_connect(c);
        if (rc < 0) return rc;
    }
    /* Requests made while reconnecting are sent by the restore. */
    if (c->state == TVK_CONN_RECONNECTING) return 0;
    if (c->state != TVK_CONN_CONNECTED) {
        int rc = c->state == TVK_CONN_LOST ? TVK_ECONN_LOST : TVK_ESTATE;
        tvk__conn_set_err(c, rc, "not connected (%s)",
                          c->state == TVK_CONN_LOST ? "connection lost" : "closed");
        return rc;
    }
    if (!token) token = c->token;
    if (c->sent_token && !strcmp(c->sent_token, token)) return 0;
    tvk_buf_reset(&c->out);
    int rc = tvk_build_set_auth_token(&c->out, token);
    if (rc < 0) {
        tvk__conn_set_err(c, rc, "set_auth_token: %s", tvk_strerror(rc));
        return rc;
    }
    rc = tvk__conn_send_out(c);
    if (rc < 0) return rc;
    free(c->sent_token);
    c->sent_token = tvk__strdup(token);
    return c->sent_token ? 0 : TVK_ENOMEM;
}

/* ---------------------------------------------------------------- routing */

static tvk_series *find_series(tvk_conn *c, tvk_str sess)
{
    if (!sess.len) return NULL;
    for (tvk_series *s = c->series; s; s = s->next)
        if (tvk__str_is_n(sess, s->cs, s->cs_len)) return s;
    return NULL;
}

static tvk_quotes *find_quotes(tvk_conn *c, tvk_str sess)
{
    if (!sess.len) return NULL;
    for (tvk_quotes *q = c->quotes; q; q = q->next)
        if (tvk__str_is_n(sess, q->qs, q->qs_len)) return q;
    return NULL;
}

static int packet_has(const tvk_msg *m, const char *needle)
{
    size_t n = strlen(needle);
    const char *p = m->pkt.data;
    size_t len = m->pkt.len;
    for (size_t i = 0; i + n <= len; i++)
        if (p[i] == needle[0] && memcmp(p + i, needle, n) == 0) return 1;
    return 0;
}

static void on_critical(tvk_conn *c, const tvk_msg *m)
{
    tvk_error_info e;
    memset(&e, 0, sizeof e);
    tvk_msg_error(m, &e);
    int code = packet_has(m, "unauthorized_access") ? TVK_EAUTH : TVK_ECRITICAL;
    char why[TVK_ERRMSG_CAP];
    snprintf(why, sizeof why, "critical_error on %.*s: %.*s (%.*s)", (int)e.session.len,
             e.session.p ? e.session.p : "", (int)e.reason.len, e.reason.p ? e.reason.p : "",
             (int)e.detail.len, e.detail.p ? e.detail.p : "");
    tvk__conn_set_err(c, code, "%s", why);
    tvk_series *s = find_series(c, e.session);
    if (s) {
        tvk__series_fail(s, code, "%s", why);
        return;
    }
    tvk_quotes *q = find_quotes(c, e.session);
    if (q) {
        tvk__quotes_fail(q, code, why, 0);
        return;
    }
    /* Not addressed to one of our sessions: every request still waiting may be the cause. */
    for (s = c->series; s; s = s->next)
        if (s->state == TVK_SERIES_LOADING) tvk__series_fail(s, code, "%s", why);
    for (q = c->quotes; q; q = q->next)
        tvk__quotes_fail(q, code, why, 0);
}

static void route(tvk_conn *c, const tvk_msg *m)
{
    switch (m->type) {
    case TVK_MSG_HELLO: {
        tvk_hello h;
        if (tvk_msg_hello(m, &h) == 0) {
            size_t n = h.session_id.len < sizeof c->server_session - 1
                           ? h.session_id.len
                           : sizeof c->server_session - 1;
            if (n) memcpy(c->server_session, h.session_id.p, n);
            c->server_session[n] = '\0';
        }
        return;
    }
    case TVK_MSG_QSD:
    case TVK_MSG_QUOTE_COMPLETED: {
        tvk_quotes *q = find_quotes(c, m->session);
        if (q) {
            c->last_data = c->last_rx; /* the message's arrival: no clock read per packet */
            c->watchdog_fired = 0;
            tvk__quotes_on_msg(q, m);
        }
        return;
    }
    case TVK_MSG_CRITICAL_ERROR:
        on_critical(c, m);
        return;
    case TVK_MSG_PROTOCOL_ERROR: {
        tvk_error_info e;
        memset(&e, 0, sizeof e);
        tvk_msg_error(m, &e);
        char why[TVK_ERRMSG_CAP];
        snprintf(why, sizeof why, "protocol_error: %.*s", (int)e.reason.len,
                 e.reason.p ? e.reason.p : "");
        tvk__conn_set_err(c, TVK_EPROTOCOL, "%s", why);
        c->fatal = TVK_EPROTOCOL;
        tvk__conn_fail_all(c, TVK_EPROTOCOL, why);
        return;
    }
    default:
        break;
    }
    tvk_series *s = find_series(c, m->session);
    if (!s) return;
    if (m->type == TVK_MSG_DU || m->type == TVK_MSG_TIMESCALE_UPDATE ||
        m->type == TVK_MSG_SERIES_COMPLETED) {
        c->last_data = c->last_rx;
        c->watchdog_fired = 0;
    }
    tvk__series_on_msg(s, m);
}

/* ---------------------------------------------------------------- receiving */

static void take_message(tvk_conn *c, const char *data, size_t len)
{
    c->stats.messages_in++;
    if (c->o.on_raw) c->o.on_raw(c->o.raw_user, data, len);
    trace(c, "<-", data, len);
    if (!len) return;
    tvk_buf_reset(&c->in);
    if (tvk_buf_append(&c->in, data, len) < 0) {
        c->stats.parse_errors++;
        tvk__conn_log(c, "dropped a %zu-byte message: out of memory", len);
        return;
    }
    int rc = tvk_reader_feed(c->reader, c->in.data, len);
    if (rc < 0) {
        c->stats.parse_errors++;
        tvk__conn_log(c, "dropped a %zu-byte message: %s", len, tvk_reader_errmsg(c->reader));
        tvk__conn_drop_message(c);
        return;
    }
    c->in_message = 1;
}

static void route_plain_qsd(tvk_conn *c, const tvk_qsd_plain *p)
{
    tvk_quotes *q = find_quotes(c, p->session);
    if (!q) return;
    c->last_data = c->last_rx;
    c->watchdog_fired = 0;
    tvk__quotes_on_plain(q, p);
}

/* A history answer read without tokens by its series: 1 = routed. */
static int route_plain_bars(tvk_conn *c, const tvk_msg *m)
{
    tvk_series *s = find_series(c, m->session);
    if (!s || !tvk__series_on_plain(s, m)) return 0;
    c->last_data = c->last_rx;
    c->watchdog_fired = 0;
    return 1;
}

/* 1 = a routed packet in *msg; 0 = the current message is exhausted. raw: tokenize every
 * packet (the caller hands *msg to the user), else plain qsd packets and history answers skip
 * the tokens (those the fast readers decline are tokenized as before). */
static int next_packet(tvk_conn *c, tvk_msg *msg, int raw)
{
    tvk_qsd_plain plain;
    /* Bars are never dropped: at the queue's bound the rest of the message waits. */
    while (c->in_message && !tvk__ev_full(c)) {
        int rc = raw ? tvk_reader_next_msg(c->reader, msg)
                     : tvk_reader_next_lazy(c->reader, msg, &plain);
        if (rc == 3) {
            if (route_plain_bars(c, msg)) {
                c->stats.packets_in++;
                return 1;
            }
            rc = tvk_reader_tokenize(c->reader, msg);
        }
        if (rc == 0) {
            tvk__conn_drop_message(c);
            break;
        }
        if (rc < 0) {
            c->stats.parse_errors++;
            tvk__conn_log(c, "skipped a packet: %s", tvk_reader_errmsg(c->reader));
            if (rc != TVK_EJSON && rc != TVK_ESHAPE && rc != TVK_ENUMBER) tvk__conn_drop_message(c);
            continue;
        }
        c->stats.packets_in++;
        if (rc == 2) {
            route_plain_qsd(c, &plain);
            return 1;
        }
        if (msg->type == TVK_MSG_HEARTBEAT) {
            /* Echo the packet's exact text, as the browser does. */
            const char *start = c->in.data + msg->pkt.offset;
            size_t n = (size_t)(msg->pkt.data + msg->pkt.len - start);
            if (tvk__conn_send_raw(c, start, n) == 0) c->stats.heartbeats++;
            continue;
        }
        route(c, msg);
        return 1;
    }
    return 0;
}

static int feed(tvk_conn *c, const char *data, size_t len, int raw)
{
    tvk_msg m;
    take_message(c, data, len);
    int n = 0;
    while (next_packet(c, &m, raw) > 0)
        n++;
    return n;
}

int tvk__conn_feed(tvk_conn *c, const char *data, size_t len)
{
    return feed(c, data, len, 0);
}

int tvk__conn_feed_tokens(tvk_conn *c, const char *data, size_t len)
{
    return feed(c, data, len, 1);
}

int tvk__conn_next_buffered(tvk_conn *c, tvk_msg *msg)
{
    return next_packet(c, msg, 0);
}

int64_t tvk__conn_check_deadlines(tvk_conn *c, int64_t now)
{
    int64_t earliest = -1;
    for (tvk_series *s = c->series; s; s = s->next) {
        int64_t d = tvk__series_check_deadline(s, now);
        if (d >= 0 && (earliest < 0 || d < earliest)) earliest = d;
    }
    for (tvk_quotes *q = c->quotes; q; q = q->next) {
        int64_t d = tvk__quotes_check_deadlines(q, now);
        if (d >= 0 && (earliest < 0 || d < earliest)) earliest = d;
    }
    return earliest;
}

int tvk__conn_pump(tvk_conn *c, tvk_msg *msg, int64_t deadline, int flags)
{
    int stop_on_event = flags & TVK__PUMP_STOP_ON_EVENT, raw = flags & TVK__PUMP_RAW;
    for (;;) {
        if (next_packet(c, msg, raw) > 0) return 1;
        if (tvk__ev_full(c)) {
            if (stop_on_event) return 0;
            tvk__conn_set_err(c, TVK_EBACKPRESSURE,
                              "event queue full (%zu events): take events with "
                              "tvk_conn_next_event before waiting again",
                              c->evlen - c->evhead);
            return TVK_EBACKPRESSURE;
        }
        if (c->fatal) return c->fatal;
        if (c->state == TVK_CONN_RECONNECTING) {
            /* The user sees DISCONNECTED / RECONNECTING before the backoff is waited. */
            if (stop_on_event && c->evlen > c->evhead) return 0;
            size_t queued = c->evlen - c->evhead;
            int rc = tvk__reconn_step(c, deadline);
            if (rc < 0) return rc;
            if (rc == 0) return 0;
            if (c->evlen - c->evhead > queued && stop_on_event) return 0;
            continue;
        }
        if (c->state != TVK_CONN_CONNECTED)
            return c->state == TVK_CONN_LOST ? c->lost_code : TVK_ESTATE;

        int64_t now = tvk_now_ms();
        size_t queued = c->evlen - c->evhead;
        int64_t wake = tvk__conn_check_deadlines(c, now);
        if (c->evlen - c->evhead > queued) return 0;
        if (stop_on_event && c->evlen > c->evhead) return 0;
        if (tvk__conn_is_test(c)) return 0; /* nothing to read */
        /* The timers act only after a read found nothing: after a long pause of the caller,
         * what waits in the socket counts first. */
        tvk__reconn_timers(c, now, &wake, 0);

        int64_t until = deadline;
        if (wake >= 0 && (until < 0 || wake < until)) until = wake;
        int wait = -1;
        if (until >= 0) {
            int64_t d = until - now;
            wait = d < 0 ? 0 : d > 0x7fffffff ? 0x7fffffff : (int)d;
        }
        const char *data = NULL;
        size_t len = 0;
        int rc = tvk_ws_recv(c->ws, &data, &len, wait);
        if (rc < 0) {
            conn_lost(c, rc);
            if (c->state == TVK_CONN_RECONNECTING) continue;
            return TVK_ECONN_LOST;
        }
        if (rc > 0) {
            c->last_rx = tvk_now_ms();
            take_message(c, data, len);
            continue;
        }
        if (tvk__reconn_timers(c, tvk_now_ms(), &wake, 1)) {
            if (stop_on_event && c->evlen > c->evhead) return 0;
            continue;
        }
        if (deadline >= 0 && tvk_now_ms() >= deadline) return 0;
    }
}

int tvk_conn_next(tvk_conn *c, tvk_msg *msg, int timeout_ms)
{
    if (!c || !msg) return TVK_EINVAL;
    if (c->state == TVK_CONN_IDLE && !c->send_hook) {
        tvk__conn_set_err(c, TVK_ESTATE, "get_data_stream: not connected (call tvk_conn_connect)");
        return TVK_ESTATE;
    }
    int64_t deadline = timeout_ms < 0 ? -1 : tvk_now_ms() + timeout_ms;
    for (;;) {
        int rc = tvk__conn_pump(c, msg, deadline, TVK__PUMP_RAW);
        if (rc != 0) return rc;
        if (deadline >= 0 && tvk_now_ms() >= deadline) return 0;
        if (tvk__conn_is_test(c)) return 0;
    }
}
