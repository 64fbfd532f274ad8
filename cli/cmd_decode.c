/* tvkit decode [FILE]: one WebSocket message per input line ("~m~"-framed, or a bare JSON
 * payload), one JSON line per packet on stdout. A line that fails prints {"line":L,"error":..}
 * on stdout and a diagnostic on stderr; decoding goes on; the exit status is 1 if any line
 * failed, 2 on a usage or I/O error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "tvkit/tvkit.h"

typedef struct out {
    tvk_buf b;
    int rc;
} out;

static void o_raw(out *o, const char *s, size_t n)
{
    if (!o->rc) o->rc = tvk_buf_append(&o->b, s, n);
}

static void o_lit(out *o, const char *s)
{
    o_raw(o, s, strlen(s));
}

/* A key and a string value that is already JSON-escaped (a slice of the packet). */
static void o_kstr(out *o, const char *key, tvk_str v)
{
    if (!o->rc) o->rc = tvk_buf_printf(&o->b, ",\"%s\":\"", key);
    o_raw(o, v.p, v.len);
    o_lit(o, "\"");
}

static void o_kstr_opt(out *o, const char *key, tvk_str v)
{
    if (v.len) o_kstr(o, key, v);
}

static void o_kint(out *o, const char *key, int64_t v)
{
    if (!o->rc) o->rc = tvk_buf_printf(&o->b, ",\"%s\":%lld", key, (long long)v);
}

static void o_kdbl(out *o, const char *key, double v)
{
    if (!o->rc) o->rc = tvk_buf_printf(&o->b, "\"%s\":", key);
    if (!o->rc) o->rc = tvk_buf_json_double(&o->b, v);
}

/* Plain text (an error message) as a JSON string; bytes that are not valid UTF-8 become '?'. */
static void o_text(out *o, const char *s)
{
    if (o->rc) return;
    size_t mark = o->b.len;
    if (tvk_buf_json_str(&o->b, s, strlen(s)) == 0) return;
    o->b.len = mark;
    o_lit(o, "\"");
    for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
        char c = (*u >= 0x20 && *u < 0x7f && *u != '"' && *u != '\\') ? (char)*u : '?';
        o_raw(o, &c, 1);
    }
    o_lit(o, "\"");
}

static int o_series(out *o, const tvk_msg *m)
{
    int bad = 0;
    o_lit(o, ",\"series\":[");
    tvk_series_update su;
    for (int i = 0; tvk_msg_series_at(m, i, &su) == 0; i++) {
        o_lit(o, i ? ",{" : "{");
        o_lit(o, "\"id\":\"");
        o_raw(o, su.series_id.p, su.series_id.len);
        o_lit(o, "\"");
        o_kstr_opt(o, "turnaround", su.turnaround);
        if (su.bar_close_time) o_kint(o, "bar_close_time", su.bar_close_time);
        o_lit(o, ",\"bars\":[");
        tvk_bar bar;
        int rc, k = 0;
        while ((rc = tvk_bar_next(&su.bars, &bar)) == 1) {
            if (!o->rc)
                o->rc =
                    tvk_buf_printf(&o->b, "%s{\"i\":%lld,", k++ ? "," : "", (long long)bar.index);
            o_kdbl(o, "t", bar.time);
            o_lit(o, ",");
            o_kdbl(o, "o", bar.open);
            o_lit(o, ",");
            o_kdbl(o, "h", bar.high);
            o_lit(o, ",");
            o_kdbl(o, "l", bar.low);
            o_lit(o, ",");
            o_kdbl(o, "c", bar.close);
            o_lit(o, ",");
            o_kdbl(o, "v", bar.volume);
            o_lit(o, "}");
        }
        o_lit(o, "]}");
        if (rc < 0) bad = rc;
    }
    o_lit(o, "]");
    return bad;
}

/* Appends the fields of one message; a nonzero return means the shape was wrong. */
static int o_msg(out *o, const tvk_msg *m)
{
    int rc = 0;
    switch (m->type) {
    case TVK_MSG_HELLO: {
        tvk_hello h;
        if ((rc = tvk_msg_hello(m, &h))) break;
        o_kstr(o, "session_id", h.session_id);
        o_kstr_opt(o, "release", h.release);
        if (h.timestamp) o_kint(o, "timestamp", h.timestamp);
        break;
    }
    case TVK_MSG_HEARTBEAT:
        o_kint(o, "k", m->heartbeat);
        break;
    case TVK_MSG_QSD: {
        tvk_qsd q;
        if ((rc = tvk_msg_qsd(m, &q))) break;
        o_kstr(o, "session", q.session);
        o_kstr(o, "symbol", q.symbol);
        o_lit(o, q.ok ? ",\"ok\":true" : ",\"ok\":false");
        o_kstr_opt(o, "errmsg", q.errmsg);
        if (q.values >= 0) {
            const char *p;
            size_t n;
            tvk_json_raw(m->json, q.values, &p, &n);
            o_lit(o, ",\"v\":");
            o_raw(o, p, n);
        }
        break;
    }
    case TVK_MSG_QUOTE_COMPLETED: {
        tvk_quote_completed q;
        if ((rc = tvk_msg_quote_completed(m, &q))) break;
        o_kstr(o, "session", q.session);
        o_kstr(o, "symbol", q.symbol);
        break;
    }
    case TVK_MSG_TIMESCALE_UPDATE:
    case TVK_MSG_DU:
        o_kstr(o, "session", m->session);
        rc = o_series(o, m);
        break;
    case TVK_MSG_SERIES_LOADING:
    case TVK_MSG_STUDY_LOADING:
    case TVK_MSG_STUDY_COMPLETED:
    case TVK_MSG_STUDY_DELETED: {
        tvk_series_loading s;
        if ((rc = tvk_msg_series_loading(m, &s))) break;
        o_kstr(o, "session", s.session);
        o_kstr(o, "id", s.series_id);
        o_kstr_opt(o, "turnaround", s.turnaround);
        break;
    }
    case TVK_MSG_SERIES_COMPLETED: {
        tvk_series_completed s;
        if ((rc = tvk_msg_series_completed(m, &s))) break;
        o_kstr(o, "session", s.session);
        o_kstr(o, "series_id", s.series_id);
        o_kstr(o, "update_mode", s.update_mode);
        o_kstr_opt(o, "turnaround", s.turnaround);
        if (s.rt_update_period >= 0) o_kint(o, "rt_update_period", s.rt_update_period);
        o_kstr_opt(o, "data_completed", s.data_completed);
        break;
    }
    case TVK_MSG_SERIES_TIMEFRAME: {
        tvk_series_timeframe s;
        if ((rc = tvk_msg_series_timeframe(m, &s))) break;
        o_kstr(o, "session", s.session);
        o_kstr(o, "series_id", s.series_id);
        o_kstr(o, "turnaround", s.turnaround);
        o_kint(o, "first_index", s.first_index);
        o_kint(o, "last_index", s.last_index);
        o_kstr(o, "range", s.range);
        o_lit(o, s.final ? ",\"final\":true" : ",\"final\":false");
        break;
    }
    case TVK_MSG_SYMBOL_RESOLVED: {
        tvk_symbol_info s;
        if ((rc = tvk_msg_symbol_resolved(m, &s))) break;
        o_kstr(o, "session", s.session);
        o_kstr(o, "symref", s.symref);
        o_kstr_opt(o, "name", s.name);
        o_kstr_opt(o, "pro_name", s.pro_name);
        o_kstr_opt(o, "full_name", s.full_name);
        o_kstr_opt(o, "description", s.description);
        o_kstr_opt(o, "exchange", s.exchange);
        o_kstr_opt(o, "listed_exchange", s.listed_exchange);
        o_kstr_opt(o, "symbol_type", s.type);
        o_kstr_opt(o, "currency_code", s.currency_code);
        o_kstr_opt(o, "timezone", s.timezone);
        o_kstr_opt(o, "session_hours", s.session_hours);
        if (s.pricescale) o_kint(o, "pricescale", s.pricescale);
        if (s.minmov) o_kint(o, "minmov", s.minmov);
        if (s.has_intraday >= 0)
            o_lit(o, s.has_intraday ? ",\"has_intraday\":true" : ",\"has_intraday\":false");
        break;
    }
    case TVK_MSG_CRITICAL_ERROR:
    case TVK_MSG_PROTOCOL_ERROR:
    case TVK_MSG_SYMBOL_ERROR:
    case TVK_MSG_SERIES_ERROR:
    case TVK_MSG_STUDY_ERROR:
    case TVK_MSG_REPLAY_ERROR: {
        tvk_error_info e;
        if ((rc = tvk_msg_error(m, &e))) break;
        o_kstr_opt(o, "session", e.session);
        o_kstr_opt(o, "id", e.id);
        if (tvk_json_type(m->json, e.reason_tok) == TVK_J_STRING) {
            o_kstr(o, "reason", e.reason);
        } else {
            o_lit(o, ",\"reason\":");
            o_raw(o, e.reason.p, e.reason.len);
        }
        o_kstr_opt(o, "detail", e.detail);
        break;
    }
    default:
        o_kstr_opt(o, "session", m->session);
        if (m->type == TVK_MSG_OTHER) o_kstr_opt(o, "method", m->method);
        break;
    }
    return rc;
}

typedef struct decoder {
    tvk_reader *r;
    out o;
    const char *name;
    int failed_lines;
} decoder;

static void emit_error(decoder *d, unsigned long line, int code, const char *msg)
{
    out *o = &d->o;
    if (!o->rc) o->rc = tvk_buf_printf(&o->b, "{\"line\":%lu,\"error\":", line);
    o_text(o, msg);
    if (!o->rc) o->rc = tvk_buf_printf(&o->b, ",\"code\":\"%s\"}\n", tvk_errname(code));
    fprintf(stderr, "tvkit decode: %s:%lu: %s (%s)\n", d->name, line, msg, tvk_errname(code));
}

/* Returns 1 when the message did not have its type's shape (reported as an error line). */
static int emit_msg(decoder *d, unsigned long line, const tvk_msg *m)
{
    out *o = &d->o;
    size_t mark = o->b.len;
    if (!o->rc)
        o->rc = tvk_buf_printf(&o->b, "{\"line\":%lu,\"type\":\"%s\"", line,
                               tvk_msg_type_name(m->type));
    int rc = o_msg(o, m);
    o_lit(o, "}\n");
    if (rc && !o->rc) {
        o->b.len = mark;
        char why[160];
        snprintf(why, sizeof why, "packet at offset %zu: %s message does not have its usual shape",
                 m->pkt.offset, tvk_msg_type_name(m->type));
        emit_error(d, line, rc, why);
        return 1;
    }
    return 0;
}

/* Returns 1 if the line failed. */
static int decode_line(decoder *d, unsigned long line, const char *s, size_t n)
{
    tvk_msg m;
    int rc, failed = 0;
    if (n >= 3 && !memcmp(s, "~m~", 3)) {
        rc = tvk_reader_feed(d->r, s, n);
        if (rc < 0) {
            emit_error(d, line, rc, tvk_reader_errmsg(d->r));
            return 1;
        }
        while ((rc = tvk_reader_next_msg(d->r, &m)) != 0) {
            if (rc < 0) {
                failed = 1;
                emit_error(d, line, rc, tvk_reader_errmsg(d->r));
                continue; /* after a framing error the reader reports 0 next */
            }
            failed |= emit_msg(d, line, &m);
        }
        return failed;
    }
    rc = tvk_reader_parse_payload(d->r, s, n, &m);
    if (rc < 0) {
        char why[400];
        snprintf(why, sizeof why, "line is neither \"~m~\"-framed nor a JSON payload: %s",
                 tvk_reader_errmsg(d->r));
        emit_error(d, line, rc, why);
        return 1;
    }
    return emit_msg(d, line, &m);
}

/* Buffered line reader that tolerates NUL bytes and bounds a line's length. */
typedef struct lines {
    FILE *in;
    char buf[65536];
    size_t pos, len;
    int eof;
} lines;

/* 1 = a line is in *line (without '\n'), *too_long set if it was cut; 0 = end of input. */
static int next_line(lines *l, tvk_buf *line, int *too_long)
{
    tvk_buf_reset(line);
    *too_long = 0;
    int got = 0;
    for (;;) {
        if (l->pos == l->len) {
            if (l->eof) return got;
            l->len = fread(l->buf, 1, sizeof l->buf, l->in);
            l->pos = 0;
            if (l->len == 0) {
                l->eof = 1;
                return got;
            }
        }
        got = 1;
        char *start = l->buf + l->pos;
        char *nl = memchr(start, '\n', l->len - l->pos);
        size_t n = nl ? (size_t)(nl - start) : l->len - l->pos;
        if (!*too_long && tvk_buf_append(line, start, n)) *too_long = 1;
        l->pos += n + (nl != NULL);
        if (nl) return 1;
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: tvkit decode [FILE]\n"
               "Decodes a capture with one WebSocket message per line (\"~m~\"-framed packets, or\n"
               "one bare JSON payload) from FILE or stdin, and prints one JSON line per packet.\n"
               "Exit status: 0 all lines decoded, 1 some line failed, 2 usage or I/O error.\n");
}

int tvk_cmd_decode(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "tvkit decode: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
        if (path) {
            fprintf(stderr, "tvkit decode: more than one FILE\n");
            usage(stderr);
            return 2;
        }
        path = argv[i];
    }
    FILE *in = stdin;
    if (path && strcmp(path, "-")) {
        in = fopen(path, "rb");
        if (!in) {
            fprintf(stderr, "tvkit decode: cannot open '%s': %m\n", path);
            return 2;
        }
    }
    decoder d = {0};
    d.name = path ? path : "<stdin>";
    d.r = tvk_reader_new(0);
    tvk_buf line;
    tvk_buf_init(&line);
    tvk_buf_init(&d.o.b);
    /* A line may be one whole message: bound it by the reader's limit plus its newline. */
    line.limit = TVK_DEFAULT_MAX_MESSAGE + 1; /* + a '\r' */
    int status = 0, io_err = 0, too_long;
    unsigned long lineno = 0;
    lines *rd = calloc(1, sizeof *rd);
    if (rd) rd->in = in;
    if (!d.r || !rd) {
        free(rd);
        tvk_reader_free(d.r);
        if (in != stdin) fclose(in);
        fprintf(stderr, "tvkit decode: out of memory\n");
        return 2;
    }
    while (next_line(rd, &line, &too_long)) {
        lineno++;
        if (too_long) {
            char why[128];
            snprintf(why, sizeof why, "line longer than %zu bytes",
                     (size_t)TVK_DEFAULT_MAX_MESSAGE);
            emit_error(&d, lineno, TVK_EFRAME_TOOBIG, why);
            status = 1;
        } else {
            size_t n = line.len;
            while (n && line.data[n - 1] == '\r')
                n--;
            if (n && decode_line(&d, lineno, line.data, n)) status = 1;
        }
        if (d.o.rc) {
            fprintf(stderr, "tvkit decode: %s:%lu: out of memory\n", d.name, lineno);
            io_err = 1;
            break;
        }
        if (d.o.b.len && fwrite(d.o.b.data, 1, d.o.b.len, stdout) != d.o.b.len) {
            io_err = 1;
            break;
        }
        tvk_buf_reset(&d.o.b);
    }
    if (ferror(in)) {
        fprintf(stderr, "tvkit decode: read error on %s\n", d.name);
        io_err = 1;
    }
    if (fflush(stdout)) io_err = 1;
    if (in != stdin) fclose(in);
    tvk_buf_free(&line);
    tvk_buf_free(&d.o.b);
    tvk_reader_free(d.r);
    free(rd);
    return io_err ? 2 : status;
}
