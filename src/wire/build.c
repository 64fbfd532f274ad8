/* Client-message builders: each appends one framed {"m":..,"p":[..]} packet, ASCII-only, so the
 * length prefix is the same under every convention the server might use. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "internal.h"

static const char *const quote_fields[] = {
    "ch",
    "chp",
    "current_session",
    "description",
    "local_description",
    "language",
    "exchange",
    "fractional",
    "is_tradable",
    "lp",
    "lp_time",
    "minmov",
    "minmove2",
    "original_name",
    "pricescale",
    "pro_name",
    "short_name",
    "type",
    "update_mode",
    "volume",
    "currency_code",
    "rchp",
    "rtc",
    NULL,
};

const char *const *tvk_quote_fields(void)
{
    return quote_fields;
}
size_t tvk_quote_fields_count(void)
{
    return sizeof quote_fields / sizeof *quote_fields - 1;
}

/* A packet under construction: the payload is written in place, then the "~m~N~m~" prefix is
 * slid in front of it once N is known, so no temporary buffer is needed. */
typedef struct pkt {
    tvk_buf *b;
    size_t start;
    int rc;
    int n; /* params written so far */
} pkt;

static void put(pkt *k, const char *s, size_t n)
{
    if (!k->rc) k->rc = tvk_buf_append(k->b, s, n);
}

static void begin(pkt *k, tvk_buf *b, const char *method)
{
    k->b = b;
    k->start = b->len;
    k->rc = 0;
    k->n = 0;
    put(k, "{\"m\":", 5);
    if (!k->rc) k->rc = tvk_buf_json_str(b, method, strlen(method));
    put(k, ",\"p\":[", 6);
}

static void sep(pkt *k)
{
    if (k->n++) put(k, ",", 1);
}

static void p_str(pkt *k, const char *s)
{
    sep(k);
    if (!s) {
        if (!k->rc) k->rc = TVK_EINVAL;
        return;
    }
    if (!k->rc) k->rc = tvk_buf_json_str(k->b, s, strlen(s));
}

static void p_int(pkt *k, int64_t v)
{
    sep(k);
    if (!k->rc) k->rc = tvk_buf_json_int(k->b, v);
}

/* A caller-supplied JSON text: it must be ASCII (the length prefix depends on it) and one valid
 * JSON value of the expected type. */
static int check_json(const char *s, tvk_jtype want)
{
    for (const unsigned char *u = (const unsigned char *)s; *u; u++)
        if (*u >= 0x80) return TVK_EINVAL;
    tvk_json *j = tvk_json_new();
    if (!j) return TVK_ENOMEM;
    size_t at;
    const char *why;
    int rc = tvk_json_parse(j, s, strlen(s), &at, &why);
    if (rc == 0 && tvk_json_type(j, 0) != want) rc = TVK_EINVAL;
    tvk_json_free(j);
    return rc == TVK_EJSON ? TVK_EINVAL : rc;
}

static void p_raw_json(pkt *k, const char *s, tvk_jtype want)
{
    sep(k);
    if (!s) {
        if (!k->rc) k->rc = TVK_EINVAL;
        return;
    }
    if (!k->rc) k->rc = check_json(s, want);
    put(k, s, strlen(s));
}

static int close_and_frame(pkt *k, const char *tail)
{
    tvk_buf *b = k->b;
    put(k, tail, strlen(tail));
    if (!k->rc) {
        size_t plen = b->len - k->start;
        char hdr[48];
        int h = snprintf(hdr, sizeof hdr, "~m~%zu~m~", plen);
        k->rc = tvk_buf_reserve(b, (size_t)h);
        if (!k->rc) {
            memmove(b->data + k->start + h, b->data + k->start, plen);
            memcpy(b->data + k->start, hdr, (size_t)h);
            b->len += (size_t)h;
            b->data[b->len] = '\0';
            return 0;
        }
    }
    /* All or nothing: a failed builder leaves b as it was. */
    b->len = k->start;
    if (b->data) b->data[b->len] = '\0';
    return k->rc;
}

static int finish(pkt *k)
{
    return close_and_frame(k, "]}");
}

int tvk_build(tvk_buf *b, const char *method, const char *params_json)
{
    if (!method || !params_json) return TVK_EINVAL;
    int rc = check_json(params_json, TVK_J_ARRAY);
    if (rc) return rc;
    pkt k;
    k.b = b;
    k.start = b->len;
    k.rc = 0;
    k.n = 0;
    put(&k, "{\"m\":", 5);
    if (!k.rc) k.rc = tvk_buf_json_str(b, method, strlen(method));
    put(&k, ",\"p\":", 5);
    put(&k, params_json, strlen(params_json));
    return close_and_frame(&k, "}");
}

/* ---------------------------------------------------------------- symbol spec */

int tvk_symbol_spec_write(tvk_buf *b, const tvk_symbol_spec *spec)
{
    if (!spec || !spec->symbol || !*spec->symbol) return TVK_EINVAL;
    static const char *const adj[] = {"splits", "dividends", "none"};
    if ((unsigned)spec->adjustment > TVK_ADJ_NONE || (unsigned)spec->session > TVK_SESSION_EXTENDED)
        return TVK_EINVAL;
    /* Keys in sorted order: what both tvkit (json.dumps of an insertion-ordered dict that happens
     * to be sorted) and the browser send. */
    const char *kv_sep = spec->tvkit_spacing ? ": " : ":";
    const char *item_sep = spec->tvkit_spacing ? ", " : ",";
    struct {
        const char *key, *val;
    } kv[5];
    int n = 0;
    kv[n].key = "adjustment", kv[n++].val = adj[spec->adjustment];
    if (spec->backadjustment) kv[n].key = "backadjustment", kv[n++].val = spec->backadjustment;
    if (spec->currency_id) kv[n].key = "currency-id", kv[n++].val = spec->currency_id;
    if (spec->session != TVK_SESSION_UNSET)
        kv[n].key = "session",
        kv[n++].val = spec->session == TVK_SESSION_REGULAR ? "regular" : "extended";
    kv[n].key = "symbol", kv[n++].val = spec->symbol;
    size_t start = b->len;
    int rc = tvk_buf_puts(b, "={");
    for (int i = 0; i < n && !rc; i++) {
        if (i) rc = tvk_buf_puts(b, item_sep);
        if (!rc) rc = tvk_buf_json_str(b, kv[i].key, strlen(kv[i].key));
        if (!rc) rc = tvk_buf_puts(b, kv_sep);
        if (!rc) rc = tvk_buf_json_str(b, kv[i].val, strlen(kv[i].val));
    }
    if (!rc) rc = tvk_buf_puts(b, "}");
    if (rc) {
        b->len = start;
        if (b->data) b->data[start] = '\0';
    }
    return rc;
}

/* ---------------------------------------------------------------- builders */

int tvk_build_set_auth_token(tvk_buf *b, const char *token)
{
    pkt k;
    begin(&k, b, "set_auth_token");
    p_str(&k, token);
    return finish(&k);
}

int tvk_build_set_locale(tvk_buf *b, const char *lang, const char *country)
{
    pkt k;
    begin(&k, b, "set_locale");
    p_str(&k, lang);
    p_str(&k, country);
    return finish(&k);
}

int tvk_build_set_data_quality(tvk_buf *b, const char *quality)
{
    pkt k;
    begin(&k, b, "set_data_quality");
    p_str(&k, quality);
    return finish(&k);
}

int tvk_build_chart_create_session(tvk_buf *b, const char *cs)
{
    pkt k;
    begin(&k, b, "chart_create_session");
    p_str(&k, cs);
    p_str(&k, "");
    return finish(&k);
}

static int one_id(tvk_buf *b, const char *method, const char *id)
{
    pkt k;
    begin(&k, b, method);
    p_str(&k, id);
    return finish(&k);
}

static int two_ids(tvk_buf *b, const char *method, const char *a, const char *c)
{
    pkt k;
    begin(&k, b, method);
    p_str(&k, a);
    p_str(&k, c);
    return finish(&k);
}

int tvk_build_chart_delete_session(tvk_buf *b, const char *cs)
{
    return one_id(b, "chart_delete_session", cs);
}

int tvk_build_switch_timezone(tvk_buf *b, const char *cs, const char *tz)
{
    return two_ids(b, "switch_timezone", cs, tz);
}

int tvk_build_resolve_symbol(tvk_buf *b, const char *cs, const char *symref,
                             const tvk_symbol_spec *spec)
{
    tvk_buf s;
    tvk_buf_init(&s);
    int rc = tvk_symbol_spec_write(&s, spec);
    if (rc) {
        tvk_buf_free(&s);
        return rc;
    }
    pkt k;
    begin(&k, b, "resolve_symbol");
    p_str(&k, cs);
    p_str(&k, symref);
    p_str(&k, s.data);
    tvk_buf_free(&s);
    return finish(&k);
}

int tvk_build_create_series(tvk_buf *b, const char *cs, const char *series_id,
                            const char *turnaround, const char *symref, const char *resolution,
                            int64_t count, const char *range)
{
    pkt k;
    begin(&k, b, "create_series");
    p_str(&k, cs);
    p_str(&k, series_id);
    p_str(&k, turnaround);
    p_str(&k, symref);
    p_str(&k, resolution);
    p_int(&k, count);
    p_str(&k, range ? range : "");
    return finish(&k);
}

int tvk_build_modify_series(tvk_buf *b, const char *cs, const char *series_id,
                            const char *turnaround, const char *symref, const char *resolution,
                            const char *range)
{
    pkt k;
    begin(&k, b, "modify_series");
    p_str(&k, cs);
    p_str(&k, series_id);
    p_str(&k, turnaround);
    p_str(&k, symref);
    p_str(&k, resolution);
    p_str(&k, range ? range : "");
    return finish(&k);
}

int tvk_build_remove_series(tvk_buf *b, const char *cs, const char *series_id)
{
    return two_ids(b, "remove_series", cs, series_id);
}

int tvk_build_request_more_data(tvk_buf *b, const char *cs, const char *series_id, int64_t n)
{
    pkt k;
    begin(&k, b, "request_more_data");
    p_str(&k, cs);
    p_str(&k, series_id);
    p_int(&k, n);
    return finish(&k);
}

int tvk_build_create_study(tvk_buf *b, const char *cs, const char *study_id, const char *turnaround,
                           const char *series_id, const char *script, const char *inputs_json)
{
    pkt k;
    begin(&k, b, "create_study");
    p_str(&k, cs);
    p_str(&k, study_id);
    p_str(&k, turnaround);
    p_str(&k, series_id);
    p_str(&k, script);
    p_raw_json(&k, inputs_json, TVK_J_OBJECT);
    return finish(&k);
}

int tvk_build_remove_study(tvk_buf *b, const char *cs, const char *study_id)
{
    return two_ids(b, "remove_study", cs, study_id);
}

int tvk_build_quote_create_session(tvk_buf *b, const char *qs)
{
    return one_id(b, "quote_create_session", qs);
}

int tvk_build_quote_delete_session(tvk_buf *b, const char *qs)
{
    return one_id(b, "quote_delete_session", qs);
}

static int id_list(tvk_buf *b, const char *method, const char *qs, const char *const *v, size_t n)
{
    if (n && !v) return TVK_EINVAL;
    pkt k;
    begin(&k, b, method);
    p_str(&k, qs);
    for (size_t i = 0; i < n; i++)
        p_str(&k, v[i]);
    return finish(&k);
}

int tvk_build_quote_set_fields(tvk_buf *b, const char *qs, const char *const *fields, size_t n)
{
    if (!fields) {
        fields = quote_fields;
        n = tvk_quote_fields_count();
    }
    return id_list(b, "quote_set_fields", qs, fields, n);
}

int tvk_build_quote_add_symbols(tvk_buf *b, const char *qs, const char *const *syms, size_t n)
{
    return id_list(b, "quote_add_symbols", qs, syms, n);
}

int tvk_build_quote_remove_symbols(tvk_buf *b, const char *qs, const char *const *syms, size_t n)
{
    return id_list(b, "quote_remove_symbols", qs, syms, n);
}

int tvk_build_quote_fast_symbols(tvk_buf *b, const char *qs, const char *const *syms, size_t n)
{
    return id_list(b, "quote_fast_symbols", qs, syms, n);
}

int tvk_build_quote_hibernate_all(tvk_buf *b, const char *qs)
{
    return one_id(b, "quote_hibernate_all", qs);
}

/* ---------------------------------------------------------------- session ids */

int tvk_session_id(char *out, size_t cap, const char *prefix)
{
    if (!out || !prefix) return TVK_EINVAL;
    size_t pl = strlen(prefix);
    if (cap < pl + 13) return TVK_EBUFSIZE;
    memcpy(out, prefix, pl);
    int have = 0;
    while (have < 12) {
        unsigned char rnd[32];
        ssize_t got = getrandom(rnd, sizeof rnd, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            return TVK_EINVAL;
        }
        /* 234 = 9 * 26: rejecting bytes above it keeps the 26 letters equally likely. */
        for (ssize_t i = 0; i < got && have < 12; i++)
            if (rnd[i] < 234) out[pl + have++] = (char)('a' + rnd[i] % 26);
    }
    out[pl + 12] = '\0';
    return 0;
}
