/* Typed views of server messages: each reads fields of an already classified tvk_msg and never
 * copies (strings come back as escaped slices of the packet). */
#include <math.h>
#include <string.h>

#include "internal.h"

static void str_of(const tvk_json *j, int tok, tvk_str *s)
{
    s->p = "";
    s->len = 0;
    if (tok >= 0 && tvk_json_type(j, tok) == TVK_J_STRING) tvk_json_raw(j, tok, &s->p, &s->len);
}

/* p[i] if it is a string; else TVK_ESHAPE. */
static int param_str(const tvk_msg *m, int i, tvk_str *s)
{
    int t = tvk_json_index(m->json, m->params, i);
    if (t < 0 || tvk_json_type(m->json, t) != TVK_J_STRING) return TVK_ESHAPE;
    tvk_json_raw(m->json, t, &s->p, &s->len);
    return 0;
}

static int has_params(const tvk_msg *m)
{
    return m->json && m->params >= 0;
}

/* A member that is a string, or empty when absent or of another type. */
static void member_str(const tvk_json *j, int obj, const char *key, tvk_str *s)
{
    str_of(j, tvk_json_member(j, obj, key), s);
}

int tvk_msg_hello(const tvk_msg *m, tvk_hello *out)
{
    memset(out, 0, sizeof *out);
    if (m->type != TVK_MSG_HELLO || !m->json) return TVK_ESHAPE;
    const tvk_json *j = m->json;
    int sid = tvk_json_member(j, 0, "session_id");
    if (sid < 0 || tvk_json_type(j, sid) != TVK_J_STRING) return TVK_ESHAPE;
    str_of(j, sid, &out->session_id);
    member_str(j, 0, "release", &out->release);
    int ts = tvk_json_member(j, 0, "timestamp");
    if (ts >= 0 && tvk_json_int64(j, ts, &out->timestamp)) out->timestamp = 0;
    return 0;
}

/* ---------------------------------------------------------------- bars */

static int series_view(const tvk_msg *m, int key, tvk_series_update *out)
{
    const tvk_json *j = m->json;
    int obj = key + 1;
    int s = tvk_json_member(j, obj, "s");
    if (s < 0 || tvk_json_type(j, s) != TVK_J_ARRAY) return TVK_ENOTFOUND;
    memset(out, 0, sizeof *out);
    out->session = m->session;
    str_of(j, key, &out->series_id);
    member_str(j, obj, "t", &out->turnaround);
    int lbs = tvk_json_member(j, obj, "lbs");
    if (lbs >= 0 && tvk_json_type(j, lbs) == TVK_J_OBJECT) {
        int bct = tvk_json_member(j, lbs, "bar_close_time");
        double d;
        if (bct >= 0 && tvk_json_int64(j, bct, &out->bar_close_time) &&
            tvk_json_double(j, bct, &d) == 0 && fabs(d) < 9.2e18)
            out->bar_close_time = (int64_t)d;
    }
    int n = tvk_json_size(j, s);
    out->nbars = (size_t)n;
    out->bars.json = j;
    out->bars.tok = s + 1;
    out->bars.remaining = n;
    return 0;
}

static int series_map(const tvk_msg *m)
{
    if ((m->type != TVK_MSG_TIMESCALE_UPDATE && m->type != TVK_MSG_DU) || !has_params(m))
        return TVK_ESHAPE;
    int map = tvk_json_index(m->json, m->params, 1);
    if (map < 0 || tvk_json_type(m->json, map) != TVK_J_OBJECT) return TVK_ESHAPE;
    return map;
}

int tvk_msg_series(const tvk_msg *m, const char *series_id, tvk_series_update *out)
{
    int map = series_map(m);
    if (map < 0) return map;
    int v = tvk_json_member(m->json, map, series_id);
    if (v < 0 || tvk_json_type(m->json, v) != TVK_J_OBJECT) return TVK_ENOTFOUND;
    return series_view(m, v - 1, out);
}

int tvk_msg_series_at(const tvk_msg *m, int idx, tvk_series_update *out)
{
    int map = series_map(m);
    if (map < 0) return map;
    const tvk_json *j = m->json;
    int n = tvk_json_size(j, map);
    int key = map + 1;
    for (int i = 0; i < n; i++) {
        if (tvk_json_type(j, key + 1) == TVK_J_OBJECT && series_view(m, key, out) == 0) {
            if (idx-- == 0) return 0;
        }
        key = tvk_json_skip(j, key + 1);
    }
    return TVK_ENOTFOUND;
}

/* "no value" sentinel of TradingView (study plots, quote volume). */
#define TV_NO_VALUE 1e100

/* The bar object's "i" and "v" (value tokens), or < 0. Keys are plain one-letter strings in
 * every capture: compared in place, with tvk_json_member (which unescapes) for anything else. */
static void bar_members(const tvk_json *j, int b, int *i, int *v)
{
    const jtok *tk = j->tok;
    *i = *v = -1;
    int k = b + 1, plain = 1;
    for (int m = 0; m < tk[b].size; m++, k = tk[k].skip) {
        const jtok *key = &tk[k];
        if (key->end - key->start != 1) {
            plain &= !memchr(j->js + key->start, '\\', (size_t)(key->end - key->start));
            continue;
        }
        char ch = j->js[key->start];
        if (ch == 'i' && *i < 0) *i = k + 1;
        if (ch == 'v' && *v < 0) *v = k + 1;
    }
    if (!plain && (*i < 0 || *v < 0)) {
        *i = tvk_json_member(j, b, "i");
        *v = tvk_json_member(j, b, "v");
    }
}

/* A bar value: a number (the no-value sentinel as NaN) or null (NaN); -1 for anything else. */
static inline int bar_value(const tvk_json *j, const jtok *t, double *out)
{
    if (t->type == TVK_J_NUMBER) {
        if (jt_double(j, t, out)) return -1;
        if (*out == TV_NO_VALUE) *out = NAN;
        return 0;
    }
    if (t->type != TVK_J_NULL) return -1;
    *out = NAN;
    return 0;
}

int tvk_bar_next(tvk_bar_iter *it, tvk_bar *bar)
{
    if (it->remaining <= 0) return 0;
    const tvk_json *j = it->json;
    int b = it->tok;
    if (jt_type(j, b) != TVK_J_OBJECT) goto bad;
    int i, v;
    const jtok *tk = j->tok;
    /* The server's layout, {"i":N,"v":[...]}: two one-letter keys in that order. */
    if (tk[b].size == 2 && tk[b + 2].type == TVK_J_NUMBER && tk[b + 1].end - tk[b + 1].start == 1 &&
        j->js[tk[b + 1].start] == 'i' && tk[b + 3].end - tk[b + 3].start == 1 &&
        j->js[tk[b + 3].start] == 'v') {
        i = b + 2;
        v = b + 4;
    } else {
        bar_members(j, b, &i, &v);
        if (i < 0 || v < 0) goto bad;
    }
    if (tk[v].type != TVK_J_ARRAY) goto bad;
    double d;
    if (j->tok[i].type == TVK_J_NUMBER && jt_double(j, &j->tok[i], &d) == 0 && d >= 0 &&
        d < 9007199254740992.0 && d == (double)(int64_t)d)
        bar->index = (int64_t)d;
    else if (tvk_json_int64(j, i, &bar->index))
        goto bad;
    int n = j->tok[v].size;
    if (n < 5) goto bad;
    /* Values past the sixth are not read; up to it each is a number or null (one token each:
     * anything else ends the walk), so value k is token v + 1 + k. */
    const jtok *t = &tk[v + 1];
    if (bar_value(j, t, &bar->time) || bar_value(j, t + 1, &bar->open) ||
        bar_value(j, t + 2, &bar->high) || bar_value(j, t + 3, &bar->low) ||
        bar_value(j, t + 4, &bar->close))
        goto bad;
    if (n < 6)
        bar->volume = NAN;
    else if (bar_value(j, t + 5, &bar->volume))
        goto bad;
    it->tok = j->tok[b].skip;
    it->remaining--;
    return 1;
bad:
    it->remaining = 0;
    return TVK_ESHAPE;
}

/* ---------------------------------------------------------------- series / study state */

int tvk_msg_series_completed(const tvk_msg *m, tvk_series_completed *out)
{
    memset(out, 0, sizeof *out);
    out->rt_update_period = -1;
    out->data_completed.p = "";
    if (m->type != TVK_MSG_SERIES_COMPLETED || !has_params(m)) return TVK_ESHAPE;
    if (param_str(m, 0, &out->session) || param_str(m, 1, &out->series_id) ||
        param_str(m, 2, &out->update_mode))
        return TVK_ESHAPE;
    /* Old fixtures omit the turnaround and extra; tolerate both. */
    if (param_str(m, 3, &out->turnaround)) out->turnaround.p = "", out->turnaround.len = 0;
    int extra = tvk_json_index(m->json, m->params, 4);
    if (extra >= 0 && tvk_json_type(m->json, extra) == TVK_J_OBJECT) {
        int rt = tvk_json_member(m->json, extra, "rt_update_period");
        if (rt >= 0 && tvk_json_int64(m->json, rt, &out->rt_update_period))
            out->rt_update_period = -1;
        member_str(m->json, extra, "data_completed", &out->data_completed);
    }
    return 0;
}

int tvk_msg_series_loading(const tvk_msg *m, tvk_series_loading *out)
{
    memset(out, 0, sizeof *out);
    switch (m->type) {
    case TVK_MSG_SERIES_LOADING:
    case TVK_MSG_STUDY_LOADING:
    case TVK_MSG_STUDY_COMPLETED:
    case TVK_MSG_STUDY_DELETED:
        break;
    default:
        return TVK_ESHAPE;
    }
    if (!has_params(m) || param_str(m, 0, &out->session) || param_str(m, 1, &out->series_id))
        return TVK_ESHAPE;
    if (param_str(m, 2, &out->turnaround)) out->turnaround.p = "", out->turnaround.len = 0;
    return 0;
}

int tvk_msg_series_timeframe(const tvk_msg *m, tvk_series_timeframe *out)
{
    memset(out, 0, sizeof *out);
    if (m->type != TVK_MSG_SERIES_TIMEFRAME || !has_params(m)) return TVK_ESHAPE;
    const tvk_json *j = m->json;
    if (param_str(m, 0, &out->session) || param_str(m, 1, &out->series_id) ||
        param_str(m, 2, &out->turnaround) ||
        tvk_json_int64(j, tvk_json_index(j, m->params, 3), &out->first_index) ||
        tvk_json_int64(j, tvk_json_index(j, m->params, 4), &out->last_index) ||
        param_str(m, 5, &out->range) ||
        tvk_json_bool(j, tvk_json_index(j, m->params, 6), &out->final))
        return TVK_ESHAPE;
    return 0;
}

int tvk_msg_symbol_resolved(const tvk_msg *m, tvk_symbol_info *out)
{
    memset(out, 0, sizeof *out);
    out->has_intraday = -1;
    out->info = -1;
    if (m->type != TVK_MSG_SYMBOL_RESOLVED || !has_params(m)) return TVK_ESHAPE;
    const tvk_json *j = m->json;
    int info = tvk_json_index(j, m->params, 2);
    if (param_str(m, 0, &out->session) || param_str(m, 1, &out->symref) || info < 0 ||
        tvk_json_type(j, info) != TVK_J_OBJECT)
        return TVK_ESHAPE;
    out->info = info;
    member_str(j, info, "name", &out->name);
    member_str(j, info, "pro_name", &out->pro_name);
    member_str(j, info, "full_name", &out->full_name);
    member_str(j, info, "description", &out->description);
    member_str(j, info, "exchange", &out->exchange);
    member_str(j, info, "listed_exchange", &out->listed_exchange);
    member_str(j, info, "type", &out->type);
    member_str(j, info, "currency_code", &out->currency_code);
    member_str(j, info, "timezone", &out->timezone);
    member_str(j, info, "session", &out->session_hours);
    int t = tvk_json_member(j, info, "pricescale");
    if (t >= 0 && tvk_json_int64(j, t, &out->pricescale)) out->pricescale = 0;
    t = tvk_json_member(j, info, "minmov");
    if (t >= 0 && tvk_json_int64(j, t, &out->minmov)) out->minmov = 0;
    t = tvk_json_member(j, info, "has_intraday");
    if (t >= 0 && tvk_json_bool(j, t, &out->has_intraday)) out->has_intraday = -1;
    return 0;
}

/* The reason may be a string or (study_error) an object: either way its raw text. */
static void any_raw(const tvk_json *j, int tok, tvk_str *s)
{
    s->p = "";
    s->len = 0;
    if (tok < 0) return;
    tvk_json_raw(j, tok, &s->p, &s->len);
}

int tvk_msg_error(const tvk_msg *m, tvk_error_info *out)
{
    memset(out, 0, sizeof *out);
    out->session.p = out->id.p = out->reason.p = out->detail.p = "";
    out->reason_tok = -1;
    if (!has_params(m)) return TVK_ESHAPE;
    const tvk_json *j = m->json;
    int id = -1, reason, detail;
    switch (m->type) {
    case TVK_MSG_PROTOCOL_ERROR:
        reason = 0;
        detail = -1;
        break;
    case TVK_MSG_CRITICAL_ERROR:
        reason = 1;
        detail = 2;
        break;
    case TVK_MSG_SYMBOL_ERROR:
        id = 1;
        reason = 2;
        detail = 3;
        break;
    case TVK_MSG_SERIES_ERROR:
    case TVK_MSG_STUDY_ERROR:
        id = 1;
        reason = 3;
        detail = 4;
        break;
    case TVK_MSG_REPLAY_ERROR:
        /* [rs, reqId, reason] or [rs, reason]: no capture settles which. */
        if (tvk_json_size(j, m->params) >= 3) {
            id = 1;
            reason = 2;
        } else {
            reason = 1;
        }
        detail = -1;
        break;
    default:
        return TVK_ESHAPE;
    }
    if (m->type != TVK_MSG_PROTOCOL_ERROR && param_str(m, 0, &out->session)) return TVK_ESHAPE;
    int rt = tvk_json_index(j, m->params, reason);
    if (rt < 0) return TVK_ESHAPE;
    out->reason_tok = rt;
    if (tvk_json_type(j, rt) == TVK_J_STRING)
        str_of(j, rt, &out->reason);
    else
        any_raw(j, rt, &out->reason);
    if (id >= 0) str_of(j, tvk_json_index(j, m->params, id), &out->id);
    if (detail >= 0) {
        int dt = tvk_json_index(j, m->params, detail);
        if (dt >= 0 && tvk_json_type(j, dt) == TVK_J_STRING)
            str_of(j, dt, &out->detail);
        else if (dt >= 0)
            any_raw(j, dt, &out->detail);
    }
    return 0;
}

/* ---------------------------------------------------------------- quotes */

int tvk_msg_qsd(const tvk_msg *m, tvk_qsd *out)
{
    out->session = m->session;
    out->symbol.p = out->errmsg.p = "";
    out->symbol.len = out->errmsg.len = 0;
    out->ok = 0;
    out->values = -1;
    out->nfields = 0;
    if (m->type != TVK_MSG_QSD || !has_params(m) || !m->session.len) return TVK_ESHAPE;
    const tvk_json *j = m->json;
    const jtok *tk = j->tok;
    const char *js = j->js;
    /* p[1], read directly: this is the hot path of a quote stream. */
    int pa = m->params;
    if (tk[pa].size < 2) return TVK_ESHAPE;
    int obj = jt_next(j, pa + 1);
    if (tk[obj].type != TVK_J_OBJECT) return TVK_ESHAPE;
    /* One pass over the members instead of a lookup per key. A key with an escape is longer
     * than the name it stands for, so comparing raw bytes misses none of "n", "s", "v". */
    int n = tk[obj].size, k = obj + 1, have_n = 0;
    for (int i = 0; i < n; i++) {
        const jtok *key = &tk[k];
        int v = k + 1, kl = key->end - key->start;
        int vt = tk[v].type;
        const char *kp = js + key->start;
        if (kl == 1) {
            if (kp[0] == 'n' && vt == TVK_J_STRING) {
                out->symbol = jt_str(j, v);
                have_n = 1;
            } else if (kp[0] == 's') {
                out->ok = vt == TVK_J_STRING && jt_is(j, v, "ok", 2);
            } else if (kp[0] == 'v' && vt == TVK_J_OBJECT) {
                out->values = v;
                out->nfields = tk[v].size;
            }
        } else if (kl == 6 && !memcmp(kp, "errmsg", 6)) {
            str_of(j, v, &out->errmsg);
        }
        k = key->skip;
    }
    return have_n ? 0 : TVK_ESHAPE;
}

int tvk_qsd_field(const tvk_msg *m, const tvk_qsd *q, int i, tvk_str *name, int *value_tok)
{
    if (q->values < 0 || i < 0 || i >= q->nfields) return TVK_ENOTFOUND;
    const tvk_json *j = m->json;
    int k = q->values + 1;
    while (i--)
        k = tvk_json_skip(j, k + 1);
    tvk_json_raw(j, k, &name->p, &name->len);
    *value_tok = k + 1;
    return 0;
}

int tvk_msg_quote_completed(const tvk_msg *m, tvk_quote_completed *out)
{
    memset(out, 0, sizeof *out);
    if (m->type != TVK_MSG_QUOTE_COMPLETED || !has_params(m)) return TVK_ESHAPE;
    if (param_str(m, 0, &out->session) || param_str(m, 1, &out->symbol)) return TVK_ESHAPE;
    return 0;
}
