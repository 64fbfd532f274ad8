/* The ConnectionService methods of tvkit v0.1.4 that send messages, byte for byte as tvkit does
 * (PROTOCOL.md 5.4): each builds the params JSON and hands (method, params) to the injectable
 * send function, so a test or a caller can capture or reroute every message. */
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

#define TVK_VOLUME_STUDY "Volume@tv-basicstudies-246"
#define TVK_VOLUME_INPUTS "{\"length\":20,\"col_prev_close\":\"false\"}"

typedef struct params {
    tvk_buf b;
    int rc;
} params;

static void p_begin(params *p)
{
    tvk_buf_reset(&p->b);
    p->rc = tvk_buf_puts(&p->b, "[");
}

static void p_sep(params *p)
{
    if (p->rc == 0 && p->b.len > 1) p->rc = tvk_buf_puts(&p->b, ",");
}

static void p_str(params *p, const char *s)
{
    p_sep(p);
    if (p->rc == 0) p->rc = tvk_buf_json_str(&p->b, s, strlen(s));
}

static void p_raw(params *p, const char *s)
{
    p_sep(p);
    if (p->rc == 0) p->rc = tvk_buf_puts(&p->b, s);
}

static void p_int(params *p, int64_t v)
{
    p_sep(p);
    if (p->rc == 0) p->rc = tvk_buf_json_int(&p->b, v);
}

static void p_end(params *p)
{
    if (p->rc == 0) p->rc = tvk_buf_puts(&p->b, "]");
}

typedef struct sender {
    tvk_conn *c;
    tvk_send_fn fn;
    void *user;
    params p;
} sender;

static void sender_init(sender *s, tvk_conn *c, tvk_send_fn fn, void *user)
{
    s->c = c;
    s->fn = fn ? fn : tvk_conn_send;
    s->user = fn ? user : c;
    tvk_buf_init(&s->p.b);
    s->p.rc = 0;
}

static int sender_send(sender *s, const char *method)
{
    p_end(&s->p);
    if (s->p.rc < 0) {
        tvk__conn_set_err(s->c, s->p.rc, "%s: cannot build params: %s", method,
                          tvk_strerror(s->p.rc));
        return s->p.rc;
    }
    int rc = s->fn(s->user, method, s->p.b.data);
    if (rc < 0 && s->fn != tvk_conn_send)
        tvk__conn_set_err(s->c, rc, "%s: send function failed: %s", method, tvk_strerror(rc));
    return rc;
}

static int sender_done(sender *s, int rc)
{
    tvk_buf_free(&s->p.b);
    return rc;
}

int tvk_conn_initialize_sessions(tvk_conn *c, const char *qs, const char *cs, tvk_send_fn fn,
                                 void *user)
{
    if (!c || !qs || !cs) return TVK_EINVAL;
    sender s;
    sender_init(&s, c, fn, user);
    int rc;
    p_begin(&s.p);
    p_str(&s.p, c->token);
    if ((rc = sender_send(&s, "set_auth_token")) < 0) return sender_done(&s, rc);
    if (s.fn == tvk_conn_send) {
        free(c->sent_token);
        c->sent_token = tvk__strdup(c->token);
    }
    p_begin(&s.p);
    p_str(&s.p, "en");
    p_str(&s.p, "US");
    if ((rc = sender_send(&s, "set_locale")) < 0) return sender_done(&s, rc);
    p_begin(&s.p);
    p_str(&s.p, cs);
    p_str(&s.p, "");
    if ((rc = sender_send(&s, "chart_create_session")) < 0) return sender_done(&s, rc);
    p_begin(&s.p);
    p_str(&s.p, qs);
    if ((rc = sender_send(&s, "quote_create_session")) < 0) return sender_done(&s, rc);
    p_begin(&s.p);
    p_str(&s.p, qs);
    for (const char *const *f = tvk_quote_fields(); *f; f++)
        p_str(&s.p, *f);
    if ((rc = sender_send(&s, "quote_set_fields")) < 0) return sender_done(&s, rc);
    p_begin(&s.p);
    p_str(&s.p, qs);
    rc = sender_send(&s, "quote_hibernate_all");
    return sender_done(&s, rc);
}

/* "={...}" with Python's default json.dumps separators, as tvkit builds it. */
static int spec_string(tvk_buf *out, const char *symbol, int multi)
{
    tvk_symbol_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.symbol = symbol;
    spec.adjustment = TVK_ADJ_SPLITS;
    spec.tvkit_spacing = 1;
    if (multi) {
        spec.currency_id = "USD";
        spec.session = TVK_SESSION_REGULAR;
    }
    tvk_buf_reset(out);
    return tvk_symbol_spec_write(out, &spec);
}

int tvk_conn_add_symbol_to_sessions(tvk_conn *c, const char *qs, const char *cs,
                                    const char *exchange_symbol, const char *timeframe,
                                    int64_t bars_count, tvk_send_fn fn, void *user)
{
    if (!c || !qs || !cs) return TVK_EINVAL;
    char err[TVK_ERRMSG_CAP];
    int rc = tvk_symbol_validate(exchange_symbol, err, sizeof err);
    if (rc == 0) rc = tvk_interval_normalize(timeframe, NULL, 0, err, sizeof err);
    if (rc < 0) {
        tvk__conn_set_err(c, rc, "%s", err);
        return rc;
    }
    if (bars_count < 1) {
        tvk__conn_set_err(c, TVK_EINVAL, "bars_count %lld: must be at least 1",
                          (long long)bars_count);
        return TVK_EINVAL;
    }
    tvk_buf spec;
    tvk_buf_init(&spec);
    rc = spec_string(&spec, exchange_symbol, 0);
    if (rc < 0) {
        tvk_buf_free(&spec);
        tvk__conn_set_err(c, rc, "symbol spec for %s: %s", exchange_symbol, tvk_strerror(rc));
        return rc;
    }
    sender s;
    sender_init(&s, c, fn, user);
    /* 1. symbol resolution JSON (above); 2. quote subscription */
    p_begin(&s.p);
    p_str(&s.p, qs);
    p_str(&s.p, spec.data);
    if ((rc = sender_send(&s, "quote_add_symbols")) < 0) goto out;
    /* 3. chart resolution */
    p_begin(&s.p);
    p_str(&s.p, cs);
    p_str(&s.p, TVK_SYMREF);
    p_str(&s.p, spec.data);
    if ((rc = sender_send(&s, "resolve_symbol")) < 0) goto out;
    /* 4. series */
    p_begin(&s.p);
    p_str(&s.p, cs);
    p_str(&s.p, TVK_SERIES_ID);
    p_str(&s.p, TVK_TURNAROUND);
    p_str(&s.p, TVK_SYMREF);
    p_str(&s.p, timeframe);
    p_int(&s.p, bars_count);
    p_str(&s.p, "");
    if ((rc = sender_send(&s, "create_series")) < 0) goto out;
    /* 5. fast symbols */
    p_begin(&s.p);
    p_str(&s.p, qs);
    p_str(&s.p, exchange_symbol);
    if ((rc = sender_send(&s, "quote_fast_symbols")) < 0) goto out;
    /* 6. volume study */
    p_begin(&s.p);
    p_str(&s.p, cs);
    p_str(&s.p, "st1");
    p_str(&s.p, "st1");
    p_str(&s.p, TVK_SERIES_ID);
    p_str(&s.p, TVK_VOLUME_STUDY);
    p_raw(&s.p, TVK_VOLUME_INPUTS);
    if ((rc = sender_send(&s, "create_study")) < 0) goto out;
    /* 7. hibernation */
    p_begin(&s.p);
    p_str(&s.p, qs);
    rc = sender_send(&s, "quote_hibernate_all");
out:
    tvk_buf_free(&spec);
    return sender_done(&s, rc);
}

int tvk_conn_add_multiple_symbols_to_sessions(tvk_conn *c, const char *qs,
                                              const char *const *symbols, size_t n, tvk_send_fn fn,
                                              void *user)
{
    if (!c || !qs || !symbols || n < 1) {
        if (c) tvk__conn_set_err(c, TVK_EINVAL, "add_multiple_symbols: need at least one symbol");
        return TVK_EINVAL;
    }
    char err[TVK_ERRMSG_CAP];
    for (size_t i = 0; i < n; i++) {
        int rc = tvk_symbol_validate(symbols[i], err, sizeof err);
        if (rc < 0) {
            tvk__conn_set_err(c, rc, "%s", err);
            return rc;
        }
    }
    tvk_buf spec;
    tvk_buf_init(&spec);
    int rc = spec_string(&spec, symbols[0], 1);
    if (rc < 0) {
        tvk_buf_free(&spec);
        tvk__conn_set_err(c, rc, "symbol spec for %s: %s", symbols[0], tvk_strerror(rc));
        return rc;
    }
    sender s;
    sender_init(&s, c, fn, user);
    p_begin(&s.p);
    p_str(&s.p, qs);
    p_str(&s.p, spec.data);
    if ((rc = sender_send(&s, "quote_add_symbols")) < 0) goto out;
    p_begin(&s.p);
    p_str(&s.p, qs);
    p_str(&s.p, spec.data);
    if ((rc = sender_send(&s, "quote_fast_symbols")) < 0) goto out;
    p_begin(&s.p);
    p_str(&s.p, qs);
    for (size_t i = 0; i < n; i++)
        p_str(&s.p, symbols[i]);
    if ((rc = sender_send(&s, "quote_add_symbols")) < 0) goto out;
    p_begin(&s.p);
    p_str(&s.p, qs);
    for (size_t i = 0; i < n; i++)
        p_str(&s.p, symbols[i]);
    rc = sender_send(&s, "quote_fast_symbols");
out:
    tvk_buf_free(&spec);
    return sender_done(&s, rc);
}
