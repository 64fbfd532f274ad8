/* The sim's poll() loop: accepting, the WebSocket server role of the net layer, hello and
 * heartbeats, batching of outgoing packets, latency, faults, replay, the --log file, and the
 * live tick that drives du / timescale_update / qsd for every connection from one clock. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static void logf_(const sim_server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(const sim_server *s, const char *fmt, ...)
{
    if (s->o.quiet) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("tvkit-sim: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---------------------------------------------------------------- clock */

int64_t sim_market_ms(const sim_server *s, int64_t mono_ms)
{
    return s->start_s * 1000 + (int64_t)((double)(mono_ms - s->mono0_ms) * s->o.speed);
}

int64_t sim_market_now(const sim_server *s)
{
    return sim_fdiv(sim_market_ms(s, tvk_now_ms()), 1000);
}

sim_bar *sim_scratch(sim_server *s, size_t n)
{
    if (n > s->scratch_cap) {
        sim_bar *p = realloc(s->scratch, n * sizeof *p);
        if (!p) return NULL;
        s->scratch = p;
        s->scratch_cap = n;
    }
    return s->scratch;
}

/* ---------------------------------------------------------------- sending */

static void conn_close_now(sim_conn *c, const char *why)
{
    if (c->dead) return;
    if (why) logf_(c->srv, "connection %d: %s", c->id, why);
    /* The socket is dropped when the loop reaps the connection: this may run inside one of the
     * ws handle's own callbacks. */
    c->dead = 1;
}

void sim_conn_fail(sim_conn *c, const char *why)
{
    conn_close_now(c, why);
}

static void splices_release(sim_splice *sp, int n)
{
    for (int i = 0; i < n; i++)
        sim_zpiece_unref(sp[i].z);
}

void sim_conn_splices_clear(sim_conn *c)
{
    splices_release(c->splices, c->nsplices);
    c->nsplices = 0;
}

void sim_conn_splice(sim_conn *c, size_t off, sim_zpiece *z)
{
    if (!z || c->nsplices >= SIM_MAX_SPLICES) return;
    if (c->nsplices &&
        off < c->splices[c->nsplices - 1].off + c->splices[c->nsplices - 1].z->plain_len)
        return;
    c->splices[c->nsplices].off = off;
    c->splices[c->nsplices++].z = sim_zpiece_ref(z);
}

/* With pieces, the message goes as parts: the text between them, and each piece's text with
 * its pre-compressed form, which the net layer sends as is when the connection allows. */
static void ws_send(sim_conn *c, const char *data, size_t len, const sim_splice *sp, int nsp)
{
    if (c->dead || !c->ws) return;
    int rc;
    if (nsp == 0) {
        rc = tvk_ws_send_text(c->ws, data, len);
    } else {
        tvk_ws_part parts[2 * SIM_MAX_SPLICES + 1];
        size_t n = 0, pos = 0;
        for (int i = 0; i < nsp; i++) {
            const sim_zpiece *z = sp[i].z;
            parts[n++] = (tvk_ws_part){data + pos, sp[i].off - pos, NULL, 0, 0};
            parts[n++] =
                (tvk_ws_part){data + sp[i].off, z->plain_len, z->data, z->len, z->window_bits};
            pos = sp[i].off + z->plain_len;
        }
        parts[n++] = (tvk_ws_part){data + pos, len - pos, NULL, 0, 0};
        /* what the net layer really spliced (it falls back where the connection does not allow) */
        tvk_ws_info in;
        tvk_ws_get_info(c->ws, &in);
        uint64_t before = in.parts_spliced;
        rc = tvk_ws_send_parts(c->ws, parts, n);
        tvk_ws_get_info(c->ws, &in);
        c->srv->spliced += in.parts_spliced - before;
    }
    if (rc == TVK_EBACKPRESSURE)
        conn_close_now(c, "client does not read: send queue full, dropped");
    else if (rc < 0)
        conn_close_now(c, tvk_ws_errmsg(c->ws));
}

/* Every message leaves through here, so --latency delays all of them alike. The splices'
 * references pass to the queue (or are released once sent). */
static void send_message_sp(sim_conn *c, const char *data, size_t len, sim_splice *sp, int nsp)
{
    if (c->srv->o.latency_ms <= 0) {
        ws_send(c, data, len, sp, nsp);
        splices_release(sp, nsp);
        return;
    }
    if (c->delay_bytes + len > SIM_DELAY_LIMIT) {
        splices_release(sp, nsp);
        conn_close_now(c, "client does not read: latency queue full, dropped");
        return;
    }
    sim_delayed *d = malloc(sizeof *d + len);
    sim_splice *dsp = nsp ? malloc((size_t)nsp * sizeof *dsp) : NULL;
    if (!d || (nsp && !dsp)) {
        free(d);
        free(dsp);
        splices_release(sp, nsp);
        conn_close_now(c, "out of memory for the latency queue");
        return;
    }
    d->next = NULL;
    d->due_ms = tvk_now_ms() + c->srv->o.latency_ms;
    d->len = len;
    d->sp = dsp;
    d->nsp = nsp;
    if (nsp) memcpy(dsp, sp, (size_t)nsp * sizeof *dsp);
    c->delay_bytes += len;
    memcpy(d->data, data, len);
    if (c->delay_tail)
        c->delay_tail->next = d;
    else
        c->delay_head = d;
    c->delay_tail = d;
}

static void send_message(sim_conn *c, const char *data, size_t len)
{
    send_message_sp(c, data, len, NULL, 0);
}

static void delayed_free(sim_delayed *d)
{
    splices_release(d->sp, d->nsp);
    free(d->sp);
    free(d);
}

static void run_delayed(sim_conn *c, int64_t now)
{
    while (c->delay_head && c->delay_head->due_ms <= now && !c->dead) {
        sim_delayed *d = c->delay_head;
        c->delay_head = d->next;
        if (!c->delay_head) c->delay_tail = NULL;
        c->delay_bytes -= d->len;
        ws_send(c, d->data, d->len, d->sp, d->nsp);
        delayed_free(d);
    }
}

void sim_conn_flush(sim_conn *c)
{
    if (c->out.len == 0) {
        sim_conn_splices_clear(c);
        return;
    }
    send_message_sp(c, c->out.data, c->out.len, c->splices, c->nsplices);
    c->nsplices = 0; /* the references went with the message */
    tvk_buf_reset(&c->out);
}

int sim_conn_can_emit(sim_conn *c)
{
    return !c->dead && !c->closing && !c->stalled && !c->silent && !c->fh.active;
}

static void send_fault_message(sim_conn *c, const char *what)
{
    const sim_faults *f = &c->srv->o.faults;
    sim_conn_flush(c);
    if (!strcmp(what, "garbage")) {
        static const char g[] = "tvkit-sim garbage: this message is not ~m~ framed";
        send_message(c, g, sizeof g - 1);
    } else if (!strcmp(what, "bad-length")) {
        static const char g[] = "~m~9999~m~{\"m\":\"qsd\",\"p\":[]}";
        send_message(c, g, sizeof g - 1);
    } else {
        /* One well-formed packet whose message is bigger than a client's default limit. */
        size_t total = f->oversize_bytes < 64 ? 64 : f->oversize_bytes;
        tvk_buf b, p;
        tvk_buf_init(&b);
        tvk_buf_init(&p);
        int rc = tvk_buf_reserve(&p, total);
        if (!rc) rc = tvk_buf_puts(&p, "{\"m\":\"sim_padding\",\"p\":[\"");
        while (!rc && p.len + 20 < total - 4) {
            size_t k = total - 4 - 20 - p.len;
            char chunk[4096];
            memset(chunk, 'x', sizeof chunk);
            rc = tvk_buf_append(&p, chunk, k < sizeof chunk ? k : sizeof chunk);
        }
        if (!rc) rc = tvk_buf_puts(&p, "\"]}");
        if (!rc) rc = tvk_frame(&b, p.data, p.len);
        if (rc)
            conn_close_now(c, "out of memory for the oversize message");
        else
            send_message(c, b.data, b.len);
        tvk_buf_free(&b);
        tvk_buf_free(&p);
    }
}

/* Applies the packet-count faults once c->data_pkts has its new value. */
static void check_faults(sim_conn *c)
{
    const sim_faults *f = &c->srv->o.faults;
    int64_t n = c->data_pkts;
    if (f->garbage_after == n) send_fault_message(c, "garbage");
    if (f->bad_length_after == n) send_fault_message(c, "bad-length");
    if (f->oversize_after == n) send_fault_message(c, "oversize");
    if (f->stall_after >= 0 && n >= f->stall_after && !c->stalled) {
        sim_conn_flush(c);
        c->stalled = 1;
    }
    if (f->silent_after >= 0 && n >= f->silent_after && !c->silent) {
        sim_conn_flush(c);
        c->silent = 1;
    }
    if (((f->close_every >= 0 && n >= f->close_every) ||
         (c->first && f->close_after >= 0 && n >= f->close_after)) &&
        !c->closing) {
        sim_conn_flush(c);
        c->closing = 1;
        logf_(c->srv, "connection %d: fault: closing after %" PRId64 " packets", c->id, n);
    }
}

void sim_conn_emitted(sim_conn *c, int rc)
{
    if (rc < 0) {
        conn_close_now(c, "could not encode a packet (out of memory)");
        return;
    }
    c->data_pkts++;
    check_faults(c);
    if (c->out.len >= SIM_BATCH_LIMIT) sim_conn_flush(c);
}

/* ---------------------------------------------------------------- client messages */

static void log_packet(sim_conn *c, const tvk_msg *m, int rc)
{
    sim_server *s = c->srv;
    if (!s->log) return;
    int64_t t = sim_market_ms(s, tvk_now_ms());
    tvk_buf b;
    tvk_buf_init(&b);
    int r = tvk_buf_printf(&b, "{\"conn\":%d,\"t_ms\":%" PRId64 ",", c->id, t);
    if (!r && rc > 0 && m->type == TVK_MSG_HEARTBEAT)
        r = tvk_buf_printf(&b, "\"heartbeat\":%" PRId64 "}\n", m->heartbeat);
    else if (!r && rc > 0 && m->json) {
        r = tvk_buf_puts(&b, "\"msg\":");
        if (!r) r = tvk_buf_append(&b, m->pkt.data, m->pkt.len);
        if (!r) r = tvk_buf_puts(&b, "}\n");
    } else if (!r) {
        r = tvk_buf_puts(&b, "\"error\":");
        if (!r)
            r = tvk_buf_json_str(&b, tvk_reader_errmsg(c->rd), strlen(tvk_reader_errmsg(c->rd)));
        if (!r) r = tvk_buf_puts(&b, "}\n");
    }
    if (!r) {
        fwrite(b.data, 1, b.len, s->log);
        fflush(s->log);
    }
    tvk_buf_free(&b);
}

static void start_replay(sim_conn *c)
{
    sim_server *s = c->srv;
    c->replay_started = 1;

    for (size_t i = 0; i < s->nreplay && !c->dead; i++) {
        if (strncmp(s->replay_lines[i], "~m~", 3) == 0) {
            send_message(c, s->replay_lines[i], s->replay_lens[i]);
        } else {
            tvk_buf b;
            tvk_buf_init(&b);
            if (tvk_frame(&b, s->replay_lines[i], s->replay_lens[i]) == 0)
                send_message(c, b.data, b.len);
            tvk_buf_free(&b);
        }
        c->data_pkts++;
    }
}

static void handle_packet(sim_conn *c, const tvk_msg *m)
{
    sim_server *s = c->srv;
    if (m->type == TVK_MSG_HEARTBEAT) {
        if (c->hb_wait_k && m->heartbeat >= c->hb_wait_k) c->hb_wait_k = 0;
        return;
    }
    c->in_pkts++;
    if (s->o.replay) {
        if (!c->replay_started) start_replay(c);
        return;
    }
    if (s->o.faults.protocol_error_at == c->in_pkts) {
        char text[256];
        snprintf(text, sizeof text, "{fault_injected,<<\"%.*s\">>,packet,%" PRId64 "}",
                 (int)(m->method.len > 64 ? 64 : m->method.len), m->method.p, c->in_pkts);
        if (sim_conn_can_emit(c)) sim_conn_emitted(c, sim_enc_protocol_error(&c->enc, text));
        return;
    }
    char method[64];
    if (m->method.len == 0 || m->method.len >= sizeof method) return;
    memcpy(method, m->method.p, m->method.len);
    method[m->method.len] = 0;
    c->enc.now_ms = sim_market_ms(s, tvk_now_ms());
    if (sim_chart_handle(c, m, method) || sim_quote_handle(c, m, method)) return;
    /* set_auth_token, set_locale, studies, replay_*, unknown methods: no answer. */
}

static void conn_opened(sim_conn *c, int64_t now);

static void on_message(void *user, const char *data, size_t len)
{
    sim_conn *c = user;
    if (c->dead) return;
    /* The client's first message can arrive in the same read that completed the upgrade:
     * the hello must still go out first. */
    if (!c->opened) conn_opened(c, tvk_now_ms());
    if (c->dead) return;
    if (tvk_reader_feed(c->rd, data, len) < 0) {
        tvk_msg m;
        memset(&m, 0, sizeof m);
        log_packet(c, &m, -1);
        return;
    }
    for (;;) {
        tvk_msg m;
        int rc = tvk_reader_next_msg(c->rd, &m);
        if (rc == 0) break;
        log_packet(c, &m, rc);
        if (rc > 0)
            handle_packet(c, &m);
        else if (rc != TVK_EJSON && rc != TVK_ESHAPE && rc != TVK_ENUMBER)
            break; /* framing error: the rest of the message is gone */
        if (c->dead) return;
    }
    sim_conn_flush(c);
}

/* ---------------------------------------------------------------- connections */

static int on_upgrade(void *user, const tvk_http_request *req, int *retry_after_s)
{
    sim_conn *c = user;
    sim_server *s = c->srv;
    const char *origin = NULL;
    for (size_t i = 0; i < req->nheaders; i++)
        if (!strcasecmp(req->headers[i].name, "origin")) origin = req->headers[i].value;
    s->upgrades++;
    if (!origin || !origin[0]) {
        logf_(s, "connection %d: upgrade without Origin: 403", c->id);
        return 403;
    }
    if (s->rejected_429 < s->o.faults.reject_429) {
        s->rejected_429++;
        *retry_after_s = 1;
        logf_(s, "connection %d: fault: upgrade answered 429", c->id);
        return 429;
    }
    return 101;
}

static void conn_opened(sim_conn *c, int64_t now)
{
    sim_server *s = c->srv;
    c->opened = 1;
    c->opened_ms = now;
    c->first = ++s->opened_total == 1;
    c->hb_next_ms = now + s->o.heartbeat_ms;
    check_faults(c);
    if (!s->o.replay && sim_conn_can_emit(c)) {
        char sid[96];
        snprintf(sid, sizeof sid, "0.%d.%d_sim-charts-free-1-tvbs-sim-%d",
                 (int)(s->mono0_ms % 100000), c->id, c->id);
        c->enc.now_ms = sim_market_ms(s, now);
        sim_conn_emitted(c, sim_enc_hello(&c->enc, sid));
    }
    sim_conn_flush(c);
}

static void conn_free(sim_conn *c)
{
    if (c->ws) {
        tvk_ws_abort(c->ws);
        tvk_ws_free(c->ws);
    }
    tvk_reader_free(c->rd);
    tvk_buf_free(&c->out);
    sim_enc_free(&c->enc);
    sim_chart_free_all(c);
    sim_quote_free_all(c);
    while (c->delay_head) {
        sim_delayed *d = c->delay_head;
        c->delay_head = d->next;
        delayed_free(d);
    }
    sim_conn_splices_clear(c);
    free(c);
}

static void accept_new(sim_server *s)
{
    for (;;) {
        int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                logf_(s, "accept: %s", strerror(errno));
            return;
        }
        if (s->nconns >= s->o.max_conns) {
            logf_(s, "refusing a connection: --max-conns %d reached", s->o.max_conns);
            close(fd);
            continue;
        }
        sim_conn *c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->srv = s;
        c->id = ++s->next_id;
        tvk_buf_init(&c->out);
        sim_enc_init(&c->enc, &c->out);
        tvk_buf_init(&c->fh.src.pool);
        c->rd = tvk_reader_new(0);
        tvk_ws_server_opts wo;
        tvk_ws_server_opts_init(&wo);
        wo.compress = s->o.compress;
        wo.compress_threshold = s->o.compress_threshold;
        wo.compress_level = s->o.deflate_level;
        if (s->o.faults.oversize_after >= 0)
            wo.max_message = s->o.faults.oversize_bytes + ((size_t)4 << 20);
        wo.ssl_ctx = s->ssl_ctx;
        wo.on_upgrade = on_upgrade;
        wo.on_message = on_message;
        wo.user = c;
        c->ws = c->rd ? tvk_ws_accept(fd, &wo) : NULL;
        if (!c->ws) {
            if (c->rd)
                logf_(s, "connection %d: could not set up the WebSocket", c->id);
            else
                close(fd);
            c->dead = 1;
            conn_free(c);
            continue;
        }
        c->next = s->conns;
        s->conns = c;
        s->nconns++;
    }
}

static void heartbeat(sim_conn *c, int64_t now)
{
    sim_server *s = c->srv;
    if (!c->opened || c->dead || c->silent || c->closing) return;
    if (c->hb_wait_k && now - c->hb_wait_since > s->o.heartbeat_timeout_ms) {
        char why[128];
        snprintf(why, sizeof why, "heartbeat %" PRId64 " not echoed within %d ms: dropped",
                 c->hb_wait_k, s->o.heartbeat_timeout_ms);
        conn_close_now(c, why);
        return;
    }
    if (now < c->hb_next_ms) return;
    c->hb_next_ms = now + s->o.heartbeat_ms;
    sim_conn_flush(c);
    tvk_buf b;
    tvk_buf_init(&b);
    if (tvk_frame_heartbeat(&b, ++c->hb_k) == 0) send_message(c, b.data, b.len);
    tvk_buf_free(&b);
    if (!c->hb_wait_k) {
        c->hb_wait_k = c->hb_k;
        c->hb_wait_since = now;
    }
}

static int64_t conn_deadline(const sim_conn *c)
{
    int64_t d = tvk_ws_deadline(c->ws);
    if (c->opened && !c->silent && !c->closing) {
        if (d < 0 || c->hb_next_ms < d) d = c->hb_next_ms;
        int64_t to = c->hb_wait_since + c->srv->o.heartbeat_timeout_ms + 1;
        if (c->hb_wait_k && to < d) d = to;
    }
    if (c->delay_head && (d < 0 || c->delay_head->due_ms < d)) d = c->delay_head->due_ms;
    return d;
}

static int has_live(const sim_conn *c)
{
    for (int i = 0; i < c->ncharts; i++)
        if (c->charts[i]->has_series) return 1;
    for (int i = 0; i < c->nquotes; i++)
        if (c->quotes[i]->nsyms) return 1;
    return 0;
}

static void tick(sim_server *s)
{
    int64_t now = sim_market_now(s);
    for (sim_conn *c = s->conns; c; c = c->next) {
        if (!c->opened || c->dead || s->o.replay || !has_live(c)) continue;
        c->enc.now_ms = sim_market_ms(s, tvk_now_ms());
        sim_chart_live(c, now);
        sim_quote_live(c, now);
        sim_conn_flush(c);
    }
}

/* ---------------------------------------------------------------- setup */

static int load_replay(sim_server *s, char *err, size_t errcap)
{
    FILE *f = fopen(s->o.replay, "rb");
    if (!f) {
        snprintf(err, errcap, "--replay %s: %s", s->o.replay, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0, n = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (len == 0) continue;
        if (n == s->nreplay) {
            size_t nc = n ? n * 2 : 64;
            char **nl = realloc(s->replay_lines, nc * sizeof *nl);
            size_t *ll = nl ? realloc(s->replay_lens, nc * sizeof *ll) : NULL;
            if (nl) s->replay_lines = nl;
            if (!ll) {
                free(line);
                fclose(f);
                snprintf(err, errcap, "--replay %s: out of memory", s->o.replay);
                return -1;
            }
            s->replay_lens = ll;
            n = nc;
        }
        s->replay_lines[s->nreplay] = line;
        s->replay_lens[s->nreplay++] = (size_t)len;
        line = NULL;
        cap = 0;
    }
    free(line);
    fclose(f);
    return 0;
}

sim_server *sim_server_new(const sim_opts *o, char *err, size_t errcap)
{
    sim_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    s->o = *o;
    s->lfd = -1;
    tvk_buf_init(&s->spec_buf);
    s->spec_rd = tvk_reader_new(64 * 1024);
    if (!s->spec_rd) {
        snprintf(err, errcap, "out of memory");
        goto fail;
    }
    if (o->answer_cache_bytes && !(s->answers = sim_answer_cache_new(o->answer_cache_bytes))) {
        snprintf(err, errcap, "out of memory");
        goto fail;
    }
    s->mono0_ms = tvk_now_ms();
    s->start_s = o->start ? o->start : (int64_t)time(NULL);
    if (o->log && !(s->log = fopen(o->log, "a"))) {
        snprintf(err, errcap, "--log %s: %s", o->log, strerror(errno));
        goto fail;
    }
    if (o->replay && load_replay(s, err, errcap)) goto fail;
    if (o->tls_cert) {
        char e[256] = "";
        s->ssl_ctx = tvk_ws_server_tls_ctx(o->tls_cert, o->tls_key, e, sizeof e);
        if (!s->ssl_ctx) {
            snprintf(err, errcap, "--tls-cert %s / --tls-key %s: %s", o->tls_cert, o->tls_key, e);
            goto fail;
        }
    }
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)o->port);
    if (inet_pton(AF_INET, o->host, &a.sin_addr) != 1) {
        snprintf(err, errcap, "--host %s: not an IPv4 address", o->host);
        goto fail;
    }
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (s->lfd < 0 || setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(s->lfd, (struct sockaddr *)&a, sizeof a) || listen(s->lfd, 128)) {
        snprintf(err, errcap, "listen on %s:%d: %s", o->host, o->port, strerror(errno));
        goto fail;
    }
    socklen_t al = sizeof a;
    getsockname(s->lfd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    snprintf(s->url, sizeof s->url, "%s://%s:%d/socket.io/websocket", s->ssl_ctx ? "wss" : "ws",
             o->host, s->port);
    return s;
fail:
    sim_server_free(s);
    return NULL;
}

void sim_server_free(sim_server *s)
{
    if (!s) return;
    while (s->conns) {
        sim_conn *c = s->conns;
        s->conns = c->next;
        conn_free(c);
    }
    if (s->lfd >= 0) close(s->lfd);
    if (s->log) fclose(s->log);
    for (size_t i = 0; i < s->nreplay; i++)
        free(s->replay_lines[i]);
    free(s->replay_lines);
    free(s->replay_lens);
    if (s->ssl_ctx) tvk_ws_server_tls_ctx_free(s->ssl_ctx);
    free(s->scratch);
    sim_answer_cache_free(s->answers);
    tvk_reader_free(s->spec_rd);
    tvk_buf_free(&s->spec_buf);
    free(s);
}

int sim_server_port(const sim_server *s)
{
    return s->port;
}
const char *sim_server_url(const sim_server *s)
{
    return s->url;
}

/* ---------------------------------------------------------------- the loop */

static void service(sim_conn *c, short revents, int64_t now)
{
    int rc = 0;
    if (revents & (POLLIN | POLLHUP | POLLERR)) rc = tvk_ws_on_readable(c->ws);
    if (rc >= 0 && !c->dead && (revents & POLLOUT)) rc = tvk_ws_on_writable(c->ws);
    if (rc >= 0 && !c->dead) {
        int64_t d = tvk_ws_deadline(c->ws);
        if (d >= 0 && d <= now) rc = tvk_ws_on_timer(c->ws, now);
    }
    if (c->dead) return;
    if (rc < 0 || tvk_ws_get_state(c->ws) == TVK_WS_CLOSED) {
        if (c->opened && rc < 0 && rc != TVK_ECLOSED)
            logf_(c->srv, "connection %d: %s", c->id, tvk_ws_errmsg(c->ws));
        c->dead = 1;
        return;
    }
    if (!c->opened && tvk_ws_get_state(c->ws) == TVK_WS_OPEN) conn_opened(c, now);
    if (!c->opened) return;
    run_delayed(c, now);
    heartbeat(c, now);
    sim_firehose_pump(c);
    if (c->closing && !c->delay_head && tvk_ws_pending(c->ws) == 0) conn_close_now(c, NULL);
}

int sim_server_run(sim_server *s, volatile int *stop)
{
    struct pollfd *pfd = NULL;
    sim_conn **pc = NULL;
    size_t cap = 0;
    int64_t end_ms =
        s->o.max_lifetime_s > 0 ? s->mono0_ms + (int64_t)(s->o.max_lifetime_s * 1000.0) : -1;
    s->next_tick_ms = tvk_now_ms() + s->o.update_ms;
    while (!(stop && *stop)) {
        int64_t now = tvk_now_ms();
        if (end_ms >= 0 && now >= end_ms) break;
        size_t need = (size_t)s->nconns + 1;
        if (need > cap) {
            size_t nc = need * 2;
            struct pollfd *np = realloc(pfd, nc * sizeof *np);
            if (np) pfd = np;
            sim_conn **npc = np ? realloc(pc, nc * sizeof *npc) : NULL;
            if (!np || !npc) {
                logf_(s, "out of memory for the poll set");
                free(pfd);
                free(pc);
                return -1;
            }
            pc = npc;
            cap = nc;
        }
        size_t n = 0;
        int64_t dl = s->next_tick_ms;
        pfd[n].fd = s->lfd;
        pfd[n].events = POLLIN;
        pc[n++] = NULL;
        for (sim_conn *c = s->conns; c; c = c->next) {
            int w = tvk_ws_wants(c->ws);
            pfd[n].fd = tvk_ws_fd(c->ws);
            pfd[n].events =
                (short)((w & TVK_WANT_READ ? POLLIN : 0) | (w & TVK_WANT_WRITE ? POLLOUT : 0));
            pc[n++] = c;
            int64_t d = conn_deadline(c);
            if (d >= 0 && d < dl) dl = d;
        }
        if (end_ms >= 0 && end_ms < dl) dl = end_ms;
        int timeout = dl <= now ? 0 : (int)(dl - now > 1000 ? 1000 : dl - now);
        int pr = poll(pfd, n, timeout);
        if (pr < 0 && errno != EINTR) {
            logf_(s, "poll: %s", strerror(errno));
            break;
        }
        now = tvk_now_ms();
        if (pr > 0 && (pfd[0].revents & POLLIN)) accept_new(s);
        for (size_t i = 1; i < n; i++)
            if (!pc[i]->dead) service(pc[i], pr > 0 ? pfd[i].revents : 0, now);
        if (now >= s->next_tick_ms) {
            s->next_tick_ms = now + s->o.update_ms;
            tick(s);
        }
        /* Reap closed connections. */
        for (sim_conn **pp = &s->conns; *pp;) {
            sim_conn *c = *pp;
            if (c->dead) {
                *pp = c->next;
                s->nconns--;
                conn_free(c);
            } else {
                pp = &c->next;
            }
        }
    }
    free(pfd);
    free(pc);
    if (s->answers) {
        sim_answer_cache_stats st;
        sim_answer_cache_get_stats(s->answers, &st);
        logf_(s,
              "answer cache: %" PRIu64 " hits, %" PRIu64 " misses, %" PRIu64 " stored, %" PRIu64
              " evicted, %" PRIu64 " too big; %zu entries, %zu of %zu bytes; %" PRIu64
              " pre-compressed (%zu bytes held), %" PRIu64 " spliced into answers",
              st.hits, st.misses, st.stored, st.evicted, st.too_big, st.entries, st.bytes,
              st.max_bytes, st.deflated, st.deflated_bytes, s->spliced);
    }
    return 0;
}
