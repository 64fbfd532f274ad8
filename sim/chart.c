/* Chart sessions: resolve_symbol, create/modify/remove_series, request_more_data,
 * switch_timezone, and the live bars (du / timescale_update) of their series. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

sim_chart *sim_chart_find(sim_conn *c, const char *id)
{
    for (int i = 0; i < c->ncharts; i++)
        if (!strcmp(c->charts[i]->id, id)) return c->charts[i];
    return NULL;
}

void sim_chart_free_all(sim_conn *c)
{
    for (int i = 0; i < c->ncharts; i++)
        free(c->charts[i]);
    c->ncharts = 0;
}

/* critical_error [cs, reason, "method: NAME. args: \"[a, b, c]\""] — the args echo omits the
 * session id, as the real server's does. */
static void critical(sim_conn *c, const tvk_msg *m, const char *cs, const char *method,
                     const char *reason)
{
    tvk_buf d;
    tvk_buf_init(&d);
    int rc = tvk_buf_printf(&d, "method: %s. args: \"", method);
    if (!rc) rc = sim_params_echo(m, 1, &d, 0);
    if (!rc) rc = tvk_buf_puts(&d, "\"");
    EMIT(c, rc ? rc : sim_enc_critical_error(&c->enc, cs, reason, d.data));
    tvk_buf_free(&d);
}

static int64_t history_first(sim_conn *c, const sim_symbol *sym, const sim_res *r)
{
    sim_server *s = c->srv;
    return sim_slot_of(sym, r, s->start_s) - (s->o.history - 1);
}

static int64_t cap_bars(sim_conn *c, int64_t want)
{
    const sim_opts *o = &c->srv->o;
    if (want > o->max_bars) want = o->max_bars;
    if (o->faults.throttle > 0 && want > o->faults.throttle) want = o->faults.throttle;
    return want;
}

/* The window the answer cache's pre-compressed texts are made with, when this connection
 * compresses what the sim sends with a window that large (the peer must hold 32 KiB); else 0. */
static int deflate_bits(sim_conn *c)
{
    if (!c->ws) return 0;
    tvk_ws_info in;
    tvk_ws_get_info(c->ws, &in);
    return in.deflate && in.server_max_window_bits >= 15 ? 15 : 0;
}

/* timescale_update of slots [from, to] of the series. The newest bar may be forming (its values
 * move with the clock): it is encoded afresh each time, and the complete ones before it come
 * from the answer cache when they are there. */
static void send_bars(sim_conn *c, sim_chart *ch, int64_t from, int64_t to, int64_t now,
                      int64_t scale_index, int64_t zoffset)
{
    sim_series *se = &ch->series;
    sim_server *s = c->srv;
    sim_enc *e = &c->enc;
    if (to < from || !sim_conn_can_emit(c)) return;
    size_t n = (size_t)(to - from + 1);
    int64_t first_index = from - se->base_slot;
    int forming = now >= sim_slot_start(&se->sym, &se->res, to) &&
                  now < sim_slot_close(&se->sym, &se->res, to);
    size_t done = n - (forming ? 1 : 0);
    sim_answer_key key = {se->sym.name, se->res, from, (int64_t)done, first_index};
    sim_bars_text parts[2] = {{0}};
    int cached = s->answers && done >= SIM_CACHE_MIN_BARS &&
                 sim_answer_cache_get(s->answers, &key, &parts[0]);
    size_t todo = cached ? n - done : n;
    sim_bar *bars = sim_scratch(s, todo ? todo : 1);
    if (!bars) {
        sim_conn_fail(c, "out of memory for bars");
        return;
    }
    sim_bars_at(&se->sym, &se->res, to - (int64_t)todo + 1, todo, now, bars);
    tvk_buf_reset(&e->bars);
    tvk_buf_reset(&e->times);
    int rc = 0;
    if (cached) {
        /* Only the forming bar, if any, is new; the join puts the comma before it. */
        rc = sim_enc_bars_text(&e->bars, &e->times, bars, todo, first_index + (int64_t)done);
        parts[1] = (sim_bars_text){e->bars.data, e->bars.len, e->times.data, e->times.len};
    } else {
        rc = sim_enc_bars_text(&e->bars, &e->times, bars, done, first_index);
        sim_bars_text complete = {e->bars.data, e->bars.len, e->times.data, e->times.len};
        /* A put that fails for memory only means the next request encodes them again. */
        if (!rc && s->answers && done >= SIM_CACHE_MIN_BARS)
            (void)sim_answer_cache_put(s->answers, &key, &complete);
        if (!rc && forming)
            rc =
                sim_enc_bars_text(&e->bars, &e->times, bars + done, 1, first_index + (int64_t)done);
        parts[0] = (sim_bars_text){e->bars.data, e->bars.len, e->times.data, e->times.len};
    }
    int64_t bct = sim_slot_close(&se->sym, &se->res, to) - 1;
    if (!rc)
        rc = sim_enc_timescale_update_text(e, ch->id, se->id, se->turn, parts, 2, bct, scale_index,
                                           zoffset);
    /* The cached texts lead the joined ones: on a deflating connection they go out in their
     * pre-compressed form, made once for all connections. */
    int bits = s->answers && done >= SIM_CACHE_MIN_BARS && !rc ? deflate_bits(c) : 0;
    sim_zpiece *zb = NULL, *zt = NULL;
    if (bits &&
        sim_answer_cache_deflated(s->answers, &key, s->o.deflate_level ? s->o.deflate_level : -1,
                                  bits, &zb, &zt)) {
        sim_conn_splice(c, e->bars_at, zb);
        sim_conn_splice(c, e->times_at, zt);
    }
    sim_conn_emitted(c, rc);
}

/* The answer to create_series / modify_series. range: "" (count mode), "r,FROM:TO", or a
 * preset name (answered like count mode, with series_timeframe naming it). */
static void answer_series(sim_conn *c, sim_chart *ch, const char *range, int keep_base)
{
    sim_series *se = &ch->series;
    int64_t now = sim_market_now(c->srv);
    int64_t cur = sim_slot_of(&se->sym, &se->res, now);
    int64_t first = se->first_slot;
    int64_t from, to;
    long long rfrom, rto;
    int ranged = 0, nread = 0;
    if (range[0] == 'r' && range[1] == ',' &&
        sscanf(range + 2, "%lld:%lld%n", &rfrom, &rto, &nread) == 2 && range[2 + nread] == 0) {
        ranged = 1;
        from = sim_slot_of(&se->sym, &se->res, rfrom);
        if (sim_slot_start(&se->sym, &se->res, from) < rfrom) from++;
        to = sim_slot_of(&se->sym, &se->res, rto);
        if (from < first) from = first;
        if (to > cur) to = cur;
        int64_t cap = cap_bars(c, to - from + 1);
        if (to - from + 1 > cap) from = to - cap + 1;
    } else {
        to = cur;
        int64_t want = cap_bars(c, se->count);
        from = cur - want + 1;
        if (from < first) from = first;
    }
    int empty = to < from;
    if (!keep_base) se->base_slot = empty ? cur : from;
    EMIT(c, sim_enc_series_loading(&c->enc, ch->id, se->id, se->turn));
    if (!empty) {
        int64_t idx = from - se->base_slot;
        send_bars(c, ch, from, to, now, idx < 0 ? idx : 0, idx < 0 ? -idx : 0);
        if (!keep_base || from < se->earliest) se->earliest = from;
    } else if (!keep_base) {
        se->earliest = cur;
    }
    se->last = cur;
    se->have_du = 0;
    if (ranged || range[0]) {
        int64_t fi = empty ? 0 : from - se->base_slot, li = empty ? 0 : to - se->base_slot;
        EMIT(c, sim_enc_series_timeframe(&c->enc, ch->id, se->id, se->turn, fi, li, range, 0));
        EMIT(c, sim_enc_series_timeframe(&c->enc, ch->id, se->id, se->turn, fi, li, range, 1));
    }
    int rt = (c->srv->o.update_ms + 500) / 1000;
    EMIT(c, sim_enc_series_completed(&c->enc, ch->id, se->id, se->turn, "streaming", rt,
                                     (!empty && from <= first) || empty ? "end" : "limit"));
}

static sim_symref *find_ref(sim_chart *ch, const char *id)
{
    for (int i = 0; i < ch->nrefs; i++)
        if (!strcmp(ch->refs[i].id, id)) return &ch->refs[i];
    return NULL;
}

static void resolve_symbol(sim_conn *c, const tvk_msg *m, sim_chart *ch)
{
    char symref[SIM_ID_MAX], key[SIM_KEY_MAX];
    if (sim_param_str(m, 1, symref, sizeof symref) || sim_param_str(m, 2, key, sizeof key)) {
        critical(c, m, ch->id, "resolve_symbol", "invalid parameters");
        return;
    }
    sim_symref *r = find_ref(ch, symref);
    if (!r) {
        if (ch->nrefs >= SIM_MAX_REFS) {
            critical(c, m, ch->id, "resolve_symbol", "too many symbols in the session");
            return;
        }
        r = &ch->refs[ch->nrefs++];
        memset(r, 0, sizeof *r);
        snprintf(r->id, sizeof r->id, "%s", symref);
    }
    int ok = 0;
    if (sim_resolve_key(c->srv, key, &r->sym, &ok, NULL, 0) || !ok) {
        r->ok = 0;
        EMIT(c, sim_enc_symbol_error(&c->enc, ch->id, symref, "invalid symbol"));
        return;
    }
    r->ok = 1;
    EMIT(c, sim_enc_symbol_resolved(&c->enc, ch->id, symref, &r->sym));
}

/* count: an integer, or TradingView-API's ["bar_count", <to>, <count>]. */
static int param_count(const tvk_msg *m, int i, int64_t *count)
{
    const tvk_json *j = m->json;
    int t = tvk_json_index(j, m->params, i);
    if (t < 0) return -1;
    if (tvk_json_type(j, t) == TVK_J_ARRAY && tvk_json_size(j, t) == 3) t = tvk_json_index(j, t, 2);
    if (t < 0 || tvk_json_type(j, t) != TVK_J_NUMBER || tvk_json_int64(j, t, count) || *count < 1)
        return -1;
    return 0;
}

/* The minute resolutions of TradingView's interval menu: anything else in minutes ("20",
 * "188") is a custom resolution, which needs a paid plan (PROTOCOL.md §6, series_error). */
static int custom_minutes(const char *res)
{
    static const char *const standard[] = {"1",  "3",   "5",   "15",  "30", "45",
                                           "60", "120", "180", "240", NULL};
    if (!res[0] || strspn(res, "0123456789") != strlen(res)) return 0;
    for (int i = 0; standard[i]; i++)
        if (!strcmp(res, standard[i])) return 0;
    return 1;
}

static void create_series(sim_conn *c, const tvk_msg *m, sim_chart *ch, int modify)
{
    const char *method = modify ? "modify_series" : "create_series";
    char sid[SIM_ID_MAX], turn[SIM_ID_MAX], symref[SIM_ID_MAX], res[32], range[SIM_ID_MAX];
    int np = sim_param_count(m);
    int64_t count = 0;
    sim_res r;
    range[0] = 0;
    int bad = np < 6 || sim_param_str(m, 1, sid, sizeof sid) ||
              sim_param_str(m, 2, turn, sizeof turn) ||
              sim_param_str(m, 3, symref, sizeof symref) || sim_param_str(m, 4, res, sizeof res) ||
              sim_res_parse(res, &r);
    if (!bad && !modify)
        bad = param_count(m, 5, &count) || (np > 6 && sim_param_str(m, 6, range, sizeof range));
    if (!bad && modify) bad = sim_param_str(m, 5, range, sizeof range);
    if (bad) {
        critical(c, m, ch->id, method, "invalid parameters");
        return;
    }
    sim_series *se = &ch->series;
    if (modify && (!ch->has_series || strcmp(se->id, sid))) {
        critical(c, m, ch->id, method, "invalid parameters");
        return;
    }
    if (!modify && ch->has_series) {
        critical(c, m, ch->id, method, "exceed limit of series in the session");
        return;
    }
    sim_symref *ref = find_ref(ch, symref);
    if (!ref || !ref->ok) {
        EMIT(c, sim_enc_series_error(&c->enc, ch->id, sid, turn, "resolve error"));
        return;
    }
    if (c->srv->o.faults.custom_resolution && custom_minutes(res)) {
        /* No series is made (a modified one stays as it was); the session can ask again. */
        EMIT(c, sim_enc_series_error(&c->enc, ch->id, sid, turn, "custom_resolution"));
        return;
    }
    int same = modify && !strcmp(se->sym.name, ref->sym.name) && se->res.unit == r.unit &&
               se->res.n == r.n;
    if (!modify) {
        memset(se, 0, sizeof *se);
        se->count = count;
        ch->has_series = 1;
    }
    snprintf(se->id, sizeof se->id, "%s", sid);
    snprintf(se->turn, sizeof se->turn, "%s", turn);
    snprintf(se->symref, sizeof se->symref, "%s", symref);
    se->sym = ref->sym;
    se->res = r;
    se->first_slot = history_first(c, &se->sym, &se->res);
    answer_series(c, ch, range, same);
}

static void request_more_data(sim_conn *c, const tvk_msg *m, sim_chart *ch)
{
    char sid[SIM_ID_MAX];
    int64_t n = 0;
    int t = tvk_json_index(m->json, m->params, 2);
    sim_series *se = &ch->series;
    if (sim_param_str(m, 1, sid, sizeof sid) || t < 0 || tvk_json_int64(m->json, t, &n) || n < 1 ||
        !ch->has_series || strcmp(se->id, sid)) {
        critical(c, m, ch->id, "request_more_data", "invalid parameters");
        return;
    }
    int64_t now = sim_market_now(c->srv);
    int64_t to = se->earliest - 1, from = to - cap_bars(c, n) + 1;
    if (from < se->first_slot) from = se->first_slot;
    EMIT(c, sim_enc_series_loading(&c->enc, ch->id, se->id, se->turn));
    if (to >= from) {
        int64_t idx = from - se->base_slot;
        send_bars(c, ch, from, to, now, idx, -idx);
        se->earliest = from;
    }
    int rt = (c->srv->o.update_ms + 500) / 1000;
    EMIT(c, sim_enc_series_completed(&c->enc, ch->id, se->id, se->turn, "streaming", rt,
                                     from <= se->first_slot ? "end" : "limit"));
}

static int tz_ok(const char *tz)
{
    if (!strcmp(tz, "exchange") || !strcmp(tz, "Etc/UTC") || !strcmp(tz, "UTC")) return 1;
    if (!tz[0] || tz[0] == '/' || strstr(tz, "..")) return 0;
    char path[256];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", tz);
    return access(path, R_OK) == 0;
}

int sim_chart_handle(sim_conn *c, const tvk_msg *m, const char *method)
{
    static const char *const known[] = {
        "chart_create_session", "chart_delete_session", "switch_timezone",
        "resolve_symbol",       "create_series",        "modify_series",
        "remove_series",        "request_more_data",    NULL};
    int k = 0;
    while (known[k] && strcmp(known[k], method))
        k++;
    if (!known[k]) return 0;
    char cs[SIM_ID_MAX];
    if (sim_param_str(m, 0, cs, sizeof cs)) {
        sim_unknown_session(c, m, method, "");
        return 1;
    }
    sim_chart *ch = sim_chart_find(c, cs);
    if (k == 0) {
        if (ch) return 1;
        if (c->ncharts + c->nquotes >= SIM_MAX_SESSIONS) {
            EMIT(c, sim_enc_critical_error(&c->enc, cs, "too many sessions",
                                           "method: chart_create_session"));
            return 1;
        }
        ch = calloc(1, sizeof *ch);
        if (!ch) {
            sim_conn_fail(c, "out of memory for a chart session");
            return 1;
        }
        snprintf(ch->id, sizeof ch->id, "%s", cs);
        c->charts[c->ncharts++] = ch;
        return 1;
    }
    if (!ch) {
        sim_unknown_session(c, m, method, cs);
        return 1;
    }
    switch (k) {
    case 1:
        for (int i = 0; i < c->ncharts; i++)
            if (c->charts[i] == ch) {
                c->charts[i] = c->charts[--c->ncharts];
                break;
            }
        free(ch);
        break;
    case 2: {
        char tz[128];
        if (sim_param_str(m, 1, tz, sizeof tz) || !tz_ok(tz))
            critical(c, m, cs, "switch_timezone", "invalid timezone");
        break;
    }
    case 3:
        resolve_symbol(c, m, ch);
        break;
    case 4:
    case 5:
        create_series(c, m, ch, k == 5);
        break;
    case 6: {
        char sid[SIM_ID_MAX];
        if (!sim_param_str(m, 1, sid, sizeof sid) && ch->has_series && !strcmp(sid, ch->series.id))
            ch->has_series = 0;
        break;
    }
    default:
        request_more_data(c, m, ch);
        break;
    }
    return 1;
}

void sim_chart_live(sim_conn *c, int64_t now)
{
    for (int i = 0; i < c->ncharts; i++) {
        sim_chart *ch = c->charts[i];
        sim_series *se = &ch->series;
        if (!ch->has_series) continue;
        int64_t cur = sim_slot_of(&se->sym, &se->res, now);
        if (cur > se->last) {
            /* Closed bar(s) in their final state plus the new forming bar. */
            int64_t from = se->last;
            if (cur - from + 1 > SIM_LIVE_CATCHUP) from = cur - SIM_LIVE_CATCHUP + 1;
            send_bars(c, ch, from, cur, now, cur - se->base_slot, 0);
            se->last = cur;
            se->have_du = 0;
            continue;
        }
        if (now >= sim_slot_close(&se->sym, &se->res, cur))
            continue; /* market closed: the last bar is final */
        sim_bar b;
        sim_bar_at(&se->sym, &se->res, cur, now, &b);
        if (se->have_du && b.open == se->last_du.open && b.high == se->last_du.high &&
            b.low == se->last_du.low && b.close == se->last_du.close &&
            b.volume == se->last_du.volume)
            continue;
        se->last_du = b;
        se->have_du = 1;
        EMIT(c, sim_enc_du(&c->enc, ch->id, se->id, se->turn, &b, cur - se->base_slot,
                           sim_slot_close(&se->sym, &se->res, cur) - 1));
    }
}
