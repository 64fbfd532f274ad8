/* Server-message encoders; shapes follow the real captures (PROTOCOL.md §6). */
#include "proto.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void sim_enc_init(sim_enc *e, tvk_buf *out)
{
    e->out = out;
    tvk_buf_init(&e->tmp);
    tvk_buf_init(&e->bars);
    tvk_buf_init(&e->times);
    e->now_ms = 0;
}

void sim_enc_free(sim_enc *e)
{
    tvk_buf_free(&e->tmp);
    tvk_buf_free(&e->bars);
    tvk_buf_free(&e->times);
}

/* Decimal text of v at p (at most 20 bytes); returns the end. printf's cost per call is most of
 * a 5,000-bar answer's encoding otherwise; two digits per step halve the divisions. */
static char *put_i64(char *p, int64_t v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930"
                                "31323334353637383940414243444546474849505152535455565758596061"
                                "6263646566676869707172737475767778798081828384858687888990919293"
                                "949596979899";
    char d[20];
    int n = 20;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    while (u >= 100) {
        unsigned k = (unsigned)(u % 100) * 2;
        u /= 100;
        d[--n] = pairs[k + 1];
        d[--n] = pairs[k];
    }
    if (u >= 10) {
        d[--n] = pairs[u * 2 + 1];
        d[--n] = pairs[u * 2];
    } else {
        d[--n] = (char)('0' + u);
    }
    if (v < 0) *p++ = '-';
    memcpy(p, d + n, (size_t)(20 - n));
    return p + (20 - n);
}

/* "<v>.0": how the server writes integral numbers (times, volumes, whole prices). */
static int put_i64_dot0(tvk_buf *b, int64_t v)
{
    char t[24], *e = put_i64(t, v);
    *e++ = '.';
    *e++ = '0';
    return tvk_buf_append(b, t, (size_t)(e - t));
}

int sim_put_num(tvk_buf *b, double v)
{
    if (v >= 1e100) return tvk_buf_puts(b, "1e+100");
    if (isfinite(v) && v == trunc(v) && fabs(v) < 1e15) return put_i64_dot0(b, (int64_t)v);
    return tvk_buf_json_double(b, v);
}

static int str(tvk_buf *b, const char *s)
{
    return tvk_buf_json_str(b, s, strlen(s));
}

/* Starts {"m":"<name>","p":[ in tmp. */
static int begin(sim_enc *e, const char *m)
{
    tvk_buf_reset(&e->tmp);
    return tvk_buf_printf(&e->tmp, "{\"m\":\"%s\",\"p\":[", m);
}

/* Closes the params array (and the object, with "t"/"t_ms" when stamped) and frames it. */
static int end(sim_enc *e, int stamped, int rc)
{
    if (rc < 0) return rc;
    if (stamped)
        rc = tvk_buf_printf(&e->tmp, "],\"t\":%" PRId64 ",\"t_ms\":%" PRId64 "}", e->now_ms / 1000,
                            e->now_ms);
    else
        rc = tvk_buf_puts(&e->tmp, "]}");
    if (rc < 0) return rc;
    return tvk_frame(e->out, e->tmp.data, e->tmp.len);
}

/* "a","b","c" — the leading string params shared by most messages. */
static int strs(tvk_buf *b, const char *const *v, int n)
{
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        if (i) rc = tvk_buf_puts(b, ",");
        if (rc == 0) rc = str(b, v[i]);
    }
    return rc;
}

int sim_enc_hello(sim_enc *e, const char *session_id)
{
    tvk_buf *b = &e->tmp;
    tvk_buf_reset(b);
    int rc = tvk_buf_puts(b, "{\"session_id\":");
    if (!rc) rc = str(b, session_id);
    if (!rc)
        rc = tvk_buf_printf(b,
                            ",\"timestamp\":%" PRId64 ",\"timestampMs\":%" PRId64
                            ",\"release\":\"tvkit-sim_1\",\"studies_metadata_hash\":"
                            "\"0000000000000000000000000000000000000000\",\"auth_scheme_vsn\":2,"
                            "\"protocol\":\"json\",\"via\":\"127.0.0.1:0\",\"javastudies\":"
                            "[\"3.66\"]}",
                            e->now_ms / 1000, e->now_ms);
    return rc < 0 ? rc : tvk_frame(e->out, b->data, b->len);
}

int sim_enc_symbol_resolved(sim_enc *e, const char *cs, const char *symref, const sim_symbol *s)
{
    tvk_buf *b = &e->tmp;
    const char *head[] = {cs, symref};
    int rc = begin(e, "symbol_resolved");
    if (!rc) rc = strs(b, head, 2);
    if (!rc) rc = tvk_buf_puts(b, ",{\"name\":");
    if (!rc) rc = str(b, s->ticker);
    if (!rc) rc = tvk_buf_puts(b, ",\"pro_name\":");
    if (!rc) rc = str(b, s->name);
    if (!rc) rc = tvk_buf_puts(b, ",\"full_name\":");
    if (!rc) rc = str(b, s->name);
    if (!rc) rc = tvk_buf_puts(b, ",\"description\":");
    if (!rc) rc = str(b, s->description);
    if (!rc) rc = tvk_buf_puts(b, ",\"exchange\":");
    if (!rc) rc = str(b, s->exchange);
    if (!rc) rc = tvk_buf_puts(b, ",\"listed_exchange\":");
    if (!rc) rc = str(b, s->exchange);
    if (!rc)
        rc = tvk_buf_printf(b,
                            ",\"type\":\"%s\",\"currency_code\":\"%s\",\"pricescale\":%d,"
                            "\"minmov\":%d,\"minmove2\":0,\"fractional\":false,\"session\":\"%s\","
                            "\"timezone\":\"%s\",\"session_holidays\":\"\",\"subsessions\":[],"
                            "\"has_intraday\":true,\"has_daily\":true,\"has_weekly_and_monthly\":"
                            "true,\"is-tickbars-available\":false,\"visible_plots_set\":\"%s\","
                            "\"volume_type\":\"%s\",\"data_status\":\"streaming\"}",
                            s->type, s->currency, s->pricescale, s->minmov, s->session, s->timezone,
                            s->volume_base > 0 ? "ohlcv" : "ohlc",
                            s->volume_base > 0 ? "base" : "none");
    return end(e, 1, rc);
}

int sim_enc_series_loading(sim_enc *e, const char *cs, const char *sid, const char *turn)
{
    const char *v[] = {cs, sid, turn};
    int rc = begin(e, "series_loading");
    return end(e, 1, rc ? rc : strs(&e->tmp, v, 3));
}

static int bar_json(tvk_buf *b, const sim_bar *bar, int64_t index)
{
    char t[64], *e = t;
    memcpy(e, "{\"i\":", 5);
    e = put_i64(e + 5, index);
    memcpy(e, ",\"v\":[", 6);
    e = put_i64(e + 6, bar->time);
    memcpy(e, ".0,", 3);
    int rc = tvk_buf_append(b, t, (size_t)(e + 3 - t));
    if (!rc) rc = sim_put_num(b, bar->open);
    if (!rc) rc = tvk_buf_append(b, ",", 1);
    if (!rc) rc = sim_put_num(b, bar->high);
    if (!rc) rc = tvk_buf_append(b, ",", 1);
    if (!rc) rc = sim_put_num(b, bar->low);
    if (!rc) rc = tvk_buf_append(b, ",", 1);
    if (!rc) rc = sim_put_num(b, bar->close);
    if (!rc && bar->has_volume) {
        rc = tvk_buf_append(b, ",", 1);
        if (!rc) rc = sim_put_num(b, bar->volume);
    }
    return rc ? rc : tvk_buf_append(b, "]}", 2);
}

/* A du's series: {"<sid>":{"s":[bar],"ns":{"d":"","indexes":"nochange"},"t":turn,"lbs":{..}}} */
static int du_series(tvk_buf *b, const char *sid, const char *turn, const sim_bar *bar,
                     int64_t index, int64_t bar_close_time)
{
    int rc = tvk_buf_puts(b, "{");
    if (!rc) rc = str(b, sid);
    if (!rc) rc = tvk_buf_puts(b, ":{\"s\":[");
    if (!rc) rc = bar_json(b, bar, index);
    if (!rc) rc = tvk_buf_puts(b, "],\"ns\":{\"d\":\"\",\"indexes\":\"nochange\"},\"t\":");
    if (!rc) rc = str(b, turn);
    if (!rc && bar_close_time)
        rc = tvk_buf_printf(b, ",\"lbs\":{\"bar_close_time\":%" PRId64 "}", bar_close_time);
    return rc ? rc : tvk_buf_puts(b, "}}");
}

int sim_enc_bars_text(tvk_buf *bars, tvk_buf *times, const sim_bar *b, size_t n,
                      int64_t first_index)
{
    if (n == 0) return 0;
    /* Bars are ~70 bytes of text, times 12: one reservation each instead of doublings. */
    int rc = tvk_buf_reserve(bars, n * 96 + 1);
    if (!rc) rc = tvk_buf_reserve(times, n * 24 + 1);
    for (size_t i = 0; i < n && !rc; i++) {
        if (bars->len) rc = tvk_buf_append(bars, ",", 1);
        if (!rc) rc = bar_json(bars, &b[i], first_index + (int64_t)i);
        if (!rc && times->len) rc = tvk_buf_append(times, ",", 1);
        if (!rc) rc = put_i64_dot0(times, b[i].time);
    }
    return rc;
}

/* Length of the parts' bar (or time) texts joined with commas. */
static size_t join_len(const sim_bars_text *parts, int n, int times)
{
    size_t len = 0;
    int any = 0;
    for (int i = 0; i < n; i++) {
        size_t l = times ? parts[i].times_len : parts[i].bars_len;
        if (!l) continue;
        len += l + (any ? 1 : 0);
        any = 1;
    }
    return len;
}

/* Appends the parts' bar (or time) texts joined with commas. */
static int join(tvk_buf *dst, const sim_bars_text *parts, int n, int times)
{
    int rc = 0, any = 0;
    for (int i = 0; i < n && !rc; i++) {
        size_t l = times ? parts[i].times_len : parts[i].bars_len;
        if (!l) continue;
        if (any) rc = tvk_buf_append(dst, ",", 1);
        if (!rc) rc = tvk_buf_append(dst, times ? parts[i].times : parts[i].bars, l);
        any = 1;
    }
    return rc;
}

int sim_enc_timescale_update_text(sim_enc *e, const char *cs, const char *sid, const char *turn,
                                  const sim_bars_text *parts, int nparts, int64_t bar_close_time,
                                  int64_t scale_index, int64_t zoffset)
{
    /* The envelope goes to tmp in three pieces; the bar texts, often 400 KB from the cache, are
     * copied once, straight into the framed packet. */
    tvk_buf *b = &e->tmp;
    int rc = begin(e, "timescale_update");
    if (!rc) rc = str(b, cs);
    if (!rc) rc = tvk_buf_puts(b, ",{");
    if (!rc) rc = str(b, sid);
    if (!rc) rc = tvk_buf_puts(b, ":{\"node\":\"sim-charts-free-1-series-1\",\"s\":[");
    size_t head = b->len;
    if (!rc) rc = tvk_buf_puts(b, "],\"ns\":{\"d\":\"\",\"indexes\":[]},\"t\":");
    if (!rc) rc = str(b, turn);
    if (!rc && bar_close_time)
        rc = tvk_buf_printf(b, ",\"lbs\":{\"bar_close_time\":%" PRId64 "}", bar_close_time);
    if (!rc)
        rc = tvk_buf_printf(b, "}},{\"index\":%" PRId64 ",\"zoffset\":%" PRId64 ",\"changes\":[",
                            scale_index, zoffset);
    size_t mid = b->len;
    if (!rc)
        rc = tvk_buf_printf(
            b, "],\"marks\":[],\"index_diff\":[]}],\"t\":%" PRId64 ",\"t_ms\":%" PRId64 "}",
            e->now_ms / 1000, e->now_ms);
    if (rc) return rc;
    size_t total = b->len + join_len(parts, nparts, 0) + join_len(parts, nparts, 1);
    char hdr[48];
    int hn = snprintf(hdr, sizeof hdr, "~m~%zu~m~", total);
    rc = tvk_buf_reserve(e->out, (size_t)hn + total);
    if (!rc) rc = tvk_buf_append(e->out, hdr, (size_t)hn);
    if (!rc) rc = tvk_buf_append(e->out, b->data, head);
    e->bars_at = e->out->len;
    if (!rc) rc = join(e->out, parts, nparts, 0);
    if (!rc) rc = tvk_buf_append(e->out, b->data + head, mid - head);
    e->times_at = e->out->len;
    if (!rc) rc = join(e->out, parts, nparts, 1);
    if (!rc) rc = tvk_buf_append(e->out, b->data + mid, b->len - mid);
    return rc;
}

int sim_enc_timescale_update(sim_enc *e, const char *cs, const char *sid, const char *turn,
                             const sim_bar *bars, int n, int64_t first_index,
                             int64_t bar_close_time, int64_t scale_index, int64_t zoffset)
{
    tvk_buf_reset(&e->bars);
    tvk_buf_reset(&e->times);
    int rc = sim_enc_bars_text(&e->bars, &e->times, bars, n > 0 ? (size_t)n : 0, first_index);
    sim_bars_text t = {e->bars.data, e->bars.len, e->times.data, e->times.len};
    return rc ? rc
              : sim_enc_timescale_update_text(e, cs, sid, turn, &t, 1, bar_close_time, scale_index,
                                              zoffset);
}

int sim_enc_du(sim_enc *e, const char *cs, const char *sid, const char *turn, const sim_bar *bar,
               int64_t index, int64_t bar_close_time)
{
    tvk_buf *b = &e->tmp;
    int rc = begin(e, "du");
    if (!rc) rc = str(b, cs);
    if (!rc) rc = tvk_buf_puts(b, ",");
    if (!rc) rc = du_series(b, sid, turn, bar, index, bar_close_time);
    return end(e, 0, rc);
}

int sim_enc_series_completed(sim_enc *e, const char *cs, const char *sid, const char *turn,
                             const char *update_mode, int rt_update_period,
                             const char *data_completed)
{
    tvk_buf *b = &e->tmp;
    const char *v[] = {cs, sid, update_mode, turn};
    int rc = begin(e, "series_completed");
    if (!rc) rc = strs(b, v, 4);
    if (!rc) rc = tvk_buf_printf(b, ",{\"rt_update_period\":%d", rt_update_period);
    if (!rc && data_completed) rc = tvk_buf_printf(b, ",\"data_completed\":\"%s\"", data_completed);
    if (!rc) rc = tvk_buf_puts(b, "}");
    return end(e, 1, rc);
}

int sim_enc_series_timeframe(sim_enc *e, const char *cs, const char *sid, const char *turn,
                             int64_t first, int64_t last, const char *range, int final)
{
    tvk_buf *b = &e->tmp;
    const char *v[] = {cs, sid, turn};
    int rc = begin(e, "series_timeframe");
    if (!rc) rc = strs(b, v, 3);
    if (!rc) rc = tvk_buf_printf(b, ",%" PRId64 ",%" PRId64 ",", first, last);
    if (!rc) rc = str(b, range);
    if (!rc) rc = tvk_buf_puts(b, final ? ",true" : ",false");
    return end(e, 0, rc);
}

int sim_enc_symbol_error(sim_enc *e, const char *cs, const char *symref, const char *reason)
{
    const char *v[] = {cs, symref, reason};
    int rc = begin(e, "symbol_error");
    return end(e, 1, rc ? rc : strs(&e->tmp, v, 3));
}

int sim_enc_series_error(sim_enc *e, const char *cs, const char *sid, const char *turn,
                         const char *reason)
{
    const char *v[] = {cs, sid, turn, reason, "sim-charts-free-1-tvbs-sim-1@sim-charts-free-1"};
    int rc = begin(e, "series_error");
    return end(e, 1, rc ? rc : strs(&e->tmp, v, 5));
}

int sim_enc_critical_error(sim_enc *e, const char *session, const char *reason, const char *detail)
{
    const char *v[] = {session, reason, detail};
    int rc = begin(e, "critical_error");
    return end(e, 0, rc ? rc : strs(&e->tmp, v, 3));
}

int sim_enc_protocol_error(sim_enc *e, const char *text)
{
    int rc = begin(e, "protocol_error");
    return end(e, 0, rc ? rc : str(&e->tmp, text));
}

int sim_enc_qsd_error(sim_enc *e, const char *qs, const char *key, const char *errmsg)
{
    tvk_buf *b = &e->tmp;
    int rc = begin(e, "qsd");
    if (!rc) rc = str(b, qs);
    if (!rc) rc = tvk_buf_puts(b, ",{\"n\":");
    if (!rc) rc = str(b, key);
    if (!rc) rc = tvk_buf_puts(b, ",\"s\":\"error\",\"errmsg\":");
    if (!rc) rc = str(b, errmsg);
    if (!rc) rc = tvk_buf_puts(b, ",\"v\":{}}");
    return end(e, 0, rc);
}

int sim_enc_quote_completed(sim_enc *e, const char *qs, const char *key)
{
    const char *v[] = {qs, key};
    int rc = begin(e, "quote_completed");
    return end(e, 0, rc ? rc : strs(&e->tmp, v, 2));
}

/* ---------------------------------------------------------------- quote fields */

typedef enum fkind { F_NUM, F_INT, F_STR, F_BOOL, F_NULL } fkind;

typedef struct fval {
    fkind kind;
    double num;
    const char *s;
    int dynamic; /* changes over time: compared for deltas */
} fval;

/* The value of a quote field; 0 when the sim does not know the field. */
static int field_value(const char *name, const sim_symbol *s, const sim_quote *q, fval *v)
{
    double tick = (double)s->minmov / s->pricescale;
    memset(v, 0, sizeof *v);
#define NUM(x) (v->kind = F_NUM, v->num = (x), v->dynamic = 1, 1)
#define STR(x) (v->kind = F_STR, v->s = (x), 1)
    if (!strcmp(name, "lp")) return NUM(q->lp);
    if (!strcmp(name, "ch")) return NUM(q->ch);
    if (!strcmp(name, "chp")) return NUM(q->chp);
    if (!strcmp(name, "lp_time"))
        return v->kind = F_INT, v->num = (double)q->lp_time, v->dynamic = 1, 1;
    if (!strcmp(name, "volume")) return NUM(q->volume);
    if (!strcmp(name, "open_price")) return NUM(q->open);
    if (!strcmp(name, "high_price")) return NUM(q->high);
    if (!strcmp(name, "low_price")) return NUM(q->low);
    if (!strcmp(name, "prev_close_price")) return NUM(q->prev_close);
    if (!strcmp(name, "bid")) return NUM(sim_round_price(s, q->lp - tick));
    if (!strcmp(name, "ask")) return NUM(sim_round_price(s, q->lp + tick));
    if (!strcmp(name, "current_session"))
        return v->kind = F_STR, v->s = q->in_session ? "market" : "out_of_session", v->dynamic = 1,
               1;
    if (!strcmp(name, "description") || !strcmp(name, "local_description"))
        return STR(s->description);
    if (!strcmp(name, "exchange") || !strcmp(name, "listed_exchange")) return STR(s->exchange);
    if (!strcmp(name, "original_name") || !strcmp(name, "pro_name")) return STR(s->name);
    if (!strcmp(name, "short_name")) return STR(s->ticker);
    if (!strcmp(name, "type")) return STR(s->type);
    if (!strcmp(name, "currency_code") || !strcmp(name, "currency_id")) return STR(s->currency);
    if (!strcmp(name, "update_mode")) return STR("streaming");
    if (!strcmp(name, "language")) return STR("en");
    if (!strcmp(name, "timezone")) return STR(s->timezone);
    if (!strcmp(name, "format")) return STR("price");
    if (!strcmp(name, "fractional")) return v->kind = F_BOOL, v->num = 0, 1;
    if (!strcmp(name, "is_tradable")) return v->kind = F_BOOL, v->num = 1, 1;
    if (!strcmp(name, "minmov")) return v->kind = F_INT, v->num = s->minmov, 1;
    if (!strcmp(name, "minmove2")) return v->kind = F_INT, v->num = 0, 1;
    if (!strcmp(name, "pricescale")) return v->kind = F_INT, v->num = s->pricescale, 1;
    if (!strcmp(name, "rch") || !strcmp(name, "rchp") || !strcmp(name, "rtc"))
        return v->kind = F_NULL, 1;
#undef NUM
#undef STR
    return 0;
}

int sim_quote_field_known(const char *name)
{
    sim_symbol s;
    sim_quote q;
    fval v;
    memset(&s, 0, sizeof s);
    memset(&q, 0, sizeof q);
    s.pricescale = s.minmov = 1;
    s.type = s.currency = s.timezone = "";
    return field_value(name, &s, &q, &v);
}

static int put_field(tvk_buf *b, const char *name, const fval *v)
{
    int rc = str(b, name);
    if (!rc) rc = tvk_buf_puts(b, ":");
    if (rc) return rc;
    switch (v->kind) {
    case F_NUM:
        return sim_put_num(b, v->num);
    case F_INT:
        return tvk_buf_json_int(b, (int64_t)v->num);
    case F_STR:
        return str(b, v->s);
    case F_BOOL:
        return tvk_buf_puts(b, v->num ? "true" : "false");
    default:
        return tvk_buf_puts(b, "null");
    }
}

static int fval_eq(const fval *a, const fval *b)
{
    if (a->kind != b->kind) return 0;
    if (a->kind == F_STR) return strcmp(a->s, b->s) == 0;
    return a->num == b->num;
}

int sim_enc_qsd(sim_enc *e, const char *qs, const char *key, const sim_symbol *s,
                const sim_quote *q, const sim_quote *prev, const char *const *fields,
                size_t nfields, int *written)
{
    tvk_buf *b = &e->tmp;
    int rc = begin(e, "qsd"), count = 0;
    if (!rc) rc = str(b, qs);
    if (!rc) rc = tvk_buf_puts(b, ",{\"n\":");
    if (!rc) rc = str(b, key);
    if (!rc) rc = tvk_buf_puts(b, ",\"s\":\"ok\",\"v\":{");
    for (size_t i = 0; i < nfields && !rc; i++) {
        fval v, pv;
        if (!field_value(fields[i], s, q, &v)) continue;
        if (prev) {
            if (!v.dynamic) continue;
            field_value(fields[i], s, prev, &pv);
            if (fval_eq(&v, &pv)) continue;
        }
        if (count++) rc = tvk_buf_puts(b, ",");
        if (!rc) rc = put_field(b, fields[i], &v);
    }
    if (written) *written = count;
    if (rc) return rc;
    if (prev && count == 0) return 0;
    rc = tvk_buf_puts(b, "}}");
    return end(e, 0, rc);
}
