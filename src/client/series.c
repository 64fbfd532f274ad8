/* A chart series in its own chart session: the history assembler (count and range modes,
 * paging with request_more_data, completion on series_completed) and the live bar stream
 * (bar_update / bar_close, each bar closed once). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

/* Reconnects in a row that bring a loading history no new bar before it fails. */
#define TVK_MAX_STALLED_RESTORES 10

/* A hostile server cannot make a series grow without end. */
#define TVK_MAX_SERIES_BARS ((size_t)20 * 1000 * 1000)

void tvk_series_req_init(tvk_series_req *r)
{
    memset(r, 0, sizeof *r);
    r->count = 300;
}

static int is_range(const tvk_series *s)
{
    return s->to > 0;
}

static void push(tvk_series *s, tvk_event_type type, const tvk_ohlcv *bar)
{
    tvk_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.series = s;
    ev.user = s->user;
    ev.symbol = s->symbol;
    ev.interval = s->interval;
    if (bar) ev.bar = *bar;
    if (type == TVK_EV_ERROR) {
        ev.error = s->err;
        ev.errmsg = s->errmsg;
    }
    if (tvk__ev_push(s->c, &ev, NULL) < 0)
        tvk__conn_log(s->c, "%s: event dropped: out of memory", s->symbol);
}

void tvk__series_fail(tvk_series *s, int code, const char *fmt, ...)
{
    if (s->state == TVK_SERIES_FAILED) return;
    s->state = TVK_SERIES_FAILED;
    s->err = code;
    s->deadline = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
    va_end(ap);
    push(s, TVK_EV_ERROR, NULL);
}

static void arm(tvk_series *s)
{
    s->deadline = tvk_now_ms() + tvk__conn_timeout(s->c, &s->req.o);
}

/* ---------------------------------------------------------------- open / close */

/* resume: a range "r,FROM:TO" asked with create_series itself (after a reconnect: one answer
 * is the page); NULL = the request as tvkit sends it (a range request: modify_series after). */
static int send_open(tvk_series *s, int64_t first_count, const char *resume)
{
    tvk_conn *c = s->c;
    tvk_symbol_spec spec;
    tvk__req_spec(&s->req.o, s->symbol, &spec);
    tvk_buf_reset(&c->out);
    int rc = tvk_build_chart_create_session(&c->out, s->cs);
    if (rc == 0) rc = tvk__conn_send_out(c);
    if (rc == 0) rc = tvk_build_resolve_symbol(&c->out, s->cs, TVK_SYMREF, &spec);
    if (rc == 0) rc = tvk__conn_send_out(c);
    if (rc == 0)
        rc = tvk_build_create_series(&c->out, s->cs, TVK_SERIES_ID, TVK_TURNAROUND, TVK_SYMREF,
                                     s->interval, first_count, resume ? resume : "");
    if (rc == 0) rc = tvk__conn_send_out(c);
    if (rc == 0 && !resume && is_range(s)) {
        char range[64];
        snprintf(range, sizeof range, "r,%lld:%lld", (long long)s->from, (long long)s->to);
        rc = tvk_build_modify_series(&c->out, s->cs, TVK_SERIES_ID, TVK_TURNAROUND, TVK_SYMREF,
                                     s->interval, range);
        if (rc == 0) rc = tvk__conn_send_out(c);
    }
    tvk_buf_reset(&c->out);
    return rc;
}

void tvk__series_free(tvk_series *s)
{
    if (!s) return;
    free(s->symbol);
    free(s->bars);
    free(s->bf);
    tvk__req_free(&s->req);
    free(s);
}

int tvk_series_open(tvk_conn *c, const tvk_series_req *r, tvk_series **out)
{
    if (out) *out = NULL;
    if (!c || !r || !out) return TVK_EINVAL;
    char err[TVK_ERRMSG_CAP];
    int rc = tvk_symbol_validate(r->symbol, err, sizeof err);
    if (rc < 0) {
        tvk__conn_set_err(c, rc, "%s", err);
        return rc;
    }
    char interval[16];
    rc = tvk_interval_normalize(r->interval, interval, sizeof interval, err, sizeof err);
    if (rc < 0) {
        tvk__conn_set_err(c, rc, "%s", err);
        return rc;
    }
    if (r->to > 0) {
        if (r->from < 0 || r->from >= r->to) {
            tvk__conn_set_err(c, TVK_EINVAL, "invalid range [%lld, %lld): from must be before to",
                              (long long)r->from, (long long)r->to);
            return TVK_EINVAL;
        }
    } else if (r->count < 1) {
        tvk__conn_set_err(c, TVK_EINVAL, "invalid bar count %lld: must be at least 1",
                          (long long)r->count);
        return TVK_EINVAL;
    }
    rc = tvk__conn_ready(c, r->opts.token);
    if (rc < 0) return rc;

    tvk_series *s = calloc(1, sizeof *s);
    if (!s) return TVK_ENOMEM;
    s->c = c;
    s->symbol = tvk__strdup(r->symbol);
    if (!s->symbol || tvk__req_copy(&s->req, &r->opts) < 0) {
        tvk__series_free(s);
        tvk__conn_set_err(c, TVK_ENOMEM, "series %s: out of memory", r->symbol);
        return TVK_ENOMEM;
    }
    memcpy(s->interval, interval, sizeof s->interval);
    s->count = r->to > 0 ? 0 : r->count;
    s->from = r->from;
    s->to = r->to;
    s->live = r->live;
    s->user = r->user;
    s->last_closed = INT64_MIN;
    s->state = TVK_SERIES_LOADING;
    s->phase = TVK_PH_CREATE;
    rc = tvk_session_id(s->cs, sizeof s->cs, "cs_");
    s->cs_len = strlen(s->cs);
    if (rc < 0) {
        tvk__series_free(s);
        tvk__conn_set_err(c, rc, "series %s: no session id: %s", r->symbol, tvk_strerror(rc));
        return rc;
    }
    int64_t cap = c->o.max_bars_per_request;
    /* Range mode: the create_series answer is discarded (the range comes with modify_series),
     * so ask for few bars. */
    int64_t first = is_range(s) ? (cap < 10 ? cap : 10) : (s->count < cap ? s->count : cap);
    rc = send_open(s, first, NULL);
    if (rc < 0) {
        tvk__series_free(s);
        return rc;
    }
    arm(s);
    s->next = c->series;
    c->series = s;
    *out = s;
    return 0;
}

void tvk_series_close(tvk_series *s)
{
    if (!s) return;
    tvk_conn *c = s->c;
    if (c->state == TVK_CONN_CONNECTED && !c->fatal && !s->detached) {
        tvk_buf_reset(&c->out);
        if (tvk_build_chart_delete_session(&c->out, s->cs) == 0) tvk__conn_send_out(c);
        tvk_buf_reset(&c->out);
    }
    for (tvk_series **pp = &c->series; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    tvk__ev_drop_series(c, s);
    tvk__series_free(s);
}

/* ---------------------------------------------------------------- history */

typedef struct bar_key {
    int64_t time;
    size_t pos;
} bar_key;

static int cmp_key(const void *a, const void *b)
{
    const bar_key *x = a, *y = b;
    if (x->time != y->time) return x->time < y->time ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Sorts by time; of several bars with one time the last received wins (it is the newer update
 * of that bar). */
static int sort_bars(tvk_ohlcv **v, size_t *pn, size_t *pcap)
{
    size_t n = *pn;
    if (n < 2) return 0;
    bar_key *k = malloc(n * sizeof *k);
    tvk_ohlcv *nb = malloc(n * sizeof *nb);
    if (!k || !nb) {
        free(k);
        free(nb);
        return TVK_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        k[i].time = (*v)[i].time;
        k[i].pos = i;
    }
    qsort(k, n, sizeof *k, cmp_key);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && k[i + 1].time == k[i].time) continue;
        nb[m++] = (*v)[k[i].pos];
    }
    free(k);
    free(*v);
    *v = nb;
    *pn = m;
    *pcap = n; /* the allocation holds the old count, at least m */
    return 0;
}

static void start_backfill(tvk_series *s, int reopen);

static int sort_all(tvk_series *s)
{
    return sort_bars(&s->bars, &s->n, &s->cap);
}

/* The usual case costs no sort: a page (the bars since n_page_start) that is strictly ascending
 * and entirely older than what came before (request_more_data), or entirely newer, is moved into
 * place; anything else (overlaps, re-sent bars) takes the general sort. */
static int sort_unique(tvk_series *s)
{
    size_t old = s->n_page_start < s->n ? s->n_page_start : s->n, k = s->n - old;
    if (k == 0) return 0;
    for (size_t i = old + 1; i < s->n; i++)
        if (s->bars[i].time <= s->bars[i - 1].time) return sort_all(s);
    if (old == 0 || s->bars[old].time > s->bars[old - 1].time) return 0;
    if (s->bars[s->n - 1].time >= s->bars[0].time) return sort_all(s);
    tvk_ohlcv *page = malloc(k * sizeof *page);
    if (!page) return TVK_ENOMEM;
    memcpy(page, s->bars + old, k * sizeof *page);
    memmove(s->bars + k, s->bars, old * sizeof *page);
    memcpy(s->bars, page, k * sizeof *page);
    free(page);
    return 0;
}

static int push_bar(tvk_ohlcv **v, size_t *n, size_t *cap, const tvk_ohlcv *b)
{
    if (*n == *cap) {
        if (*n >= TVK_MAX_SERIES_BARS) return TVK_EBUFSIZE;
        size_t ncap = *cap ? *cap * 2 : 1024;
        tvk_ohlcv *nb = realloc(*v, ncap * sizeof *nb);
        if (!nb) return TVK_ENOMEM;
        *v = nb;
        *cap = ncap;
    }
    (*v)[(*n)++] = *b;
    return 0;
}

static int append_bar(tvk_series *s, const tvk_ohlcv *b)
{
    if (s->phase == TVK_PH_BACKFILL) return push_bar(&s->bf, &s->nbf, &s->capbf, b);
    /* A count request knows its size: one allocation instead of a chain of doublings, each
     * copying the bars and touching new pages (the server may send a bar or two more). */
    if (!s->cap && s->count > 1024) {
        size_t want = s->count < (1 << 20) ? (size_t)s->count + 2 : (size_t)1 << 20;
        tvk_ohlcv *nb = malloc(want * sizeof *nb);
        if (nb) {
            s->bars = nb;
            s->cap = want;
        }
    }
    return push_bar(&s->bars, &s->n, &s->cap, b);
}

static void progress(tvk_series *s)
{
    if (!s->req.o.progress) return;
    tvk_progress p;
    memset(&p, 0, sizeof p);
    p.symbol = s->symbol;
    p.pages = s->pages;
    if (is_range(s)) {
        p.bars = s->n;
        int64_t earliest = INT64_MAX;
        for (size_t i = s->n_page_start; i < s->n; i++)
            if (s->bars[i].time < earliest) earliest = s->bars[i].time;
        if (s->n_page_start > 0 && s->bars[0].time < earliest) earliest = s->bars[0].time;
        if (earliest == INT64_MAX)
            p.fraction = 0;
        else if (earliest <= s->from)
            p.fraction = 1;
        else
            p.fraction = (double)(s->to - earliest) / (double)(s->to - s->from);
        if (p.fraction < 0) p.fraction = 0;
        if (p.fraction > 1) p.fraction = 1;
    } else {
        p.target = (size_t)s->count;
        p.bars = s->n < (size_t)s->count ? s->n : (size_t)s->count;
        p.fraction = (double)p.bars / (double)s->count;
    }
    /* Duplicates seen before a page is sorted would otherwise make the count step back. */
    if (p.bars < s->reported) p.bars = s->reported;
    s->reported = p.bars;
    if (p.target && p.bars <= p.target) p.fraction = (double)p.bars / (double)p.target;
    s->req.o.progress(s->req.o.progress_user, &p);
}

static void finish(tvk_series *s)
{
    if (is_range(s)) {
        size_t m = 0;
        for (size_t i = 0; i < s->n; i++)
            if (s->bars[i].time >= s->from && s->bars[i].time < s->to) s->bars[m++] = s->bars[i];
        s->n = m;
        if (m == 0) {
            tvk__series_fail(s, TVK_ENODATA,
                             "%s %s: no data in range [%lld, %lld) (the server's history for it "
                             "may not reach that far back)",
                             s->symbol, s->interval, (long long)s->from, (long long)s->to);
            return;
        }
    } else {
        if (s->n == 0) {
            tvk__series_fail(s, TVK_ENODATA, "%s %s: the server sent no bars", s->symbol,
                             s->interval);
            return;
        }
        if (s->n > (size_t)s->count) {
            size_t drop = s->n - (size_t)s->count;
            memmove(s->bars, s->bars + drop, (size_t)s->count * sizeof *s->bars);
            s->n = (size_t)s->count;
        }
    }
    s->phase = TVK_PH_DONE;
    s->state = TVK_SERIES_READY;
    s->deadline = 0;
    if (s->live && s->n > 0) {
        s->forming = s->bars[s->n - 1];
        s->have_forming = 1;
        s->forming_close = s->last_bar_close_time > s->forming.time ? s->last_bar_close_time : 0;
        s->last_closed = s->n >= 2 ? s->bars[s->n - 2].time : INT64_MIN;
        /* A market that is closed: its last bar is already final, not forming. */
        if (s->forming_close && s->server_t > s->forming_close) {
            s->last_closed = s->forming.time;
            s->have_forming = 0;
        }
    }
    push(s, TVK_EV_HISTORY, NULL);
    /* History resumed after a loss ends where the first connection stood: the bars since come
     * by backfill before live updates. */
    if (s->live && s->resumed) start_backfill(s, 0);
}

static int request_more(tvk_series *s, int64_t k)
{
    tvk_conn *c = s->c;
    tvk_buf_reset(&c->out);
    int rc = tvk_build_request_more_data(&c->out, s->cs, TVK_SERIES_ID, k);
    if (rc == 0) rc = tvk__conn_send_out(c);
    tvk_buf_reset(&c->out);
    if (rc < 0) {
        tvk__series_fail(s, rc, "%s %s: request_more_data: %s", s->symbol, s->interval,
                         tvk_conn_errmsg(c));
        return rc;
    }
    if (s->phase != TVK_PH_BACKFILL) {
        s->phase = TVK_PH_PAGING;
        s->n_page_start = s->n;
        arm(s);
    }
    return 0;
}

static void backfill_done(tvk_series *s, const tvk_series_completed *sc);

static void on_completed(tvk_series *s, const tvk_series_completed *sc)
{
    if (s->phase == TVK_PH_DONE) return;
    if (s->phase == TVK_PH_BACKFILL) {
        backfill_done(s, sc);
        return;
    }
    s->pages++;
    if (s->phase == TVK_PH_CREATE && is_range(s)) {
        /* The create_series answer only opens the series; the range comes with modify. */
        s->n = 0;
        s->n_page_start = 0;
        s->phase = TVK_PH_MODIFY;
        arm(s);
        return;
    }
    if (sort_unique(s) < 0) {
        tvk__series_fail(s, TVK_ENOMEM, "%s: out of memory sorting %zu bars", s->symbol, s->n);
        return;
    }
    size_t added = s->n > s->n_page_start ? s->n - s->n_page_start : 0;
    int end = tvk__str_is(sc->data_completed, "end");
    int64_t cap = s->c->o.max_bars_per_request;
    progress(s);
    if (!is_range(s)) {
        if (s->n >= (size_t)s->count) {
            finish(s);
        } else if (added == 0 || end) {
            s->ended = 1;
            finish(s);
        } else {
            int64_t want = s->count - (int64_t)s->n;
            request_more(s, want < cap ? want : cap);
        }
        return;
    }
    /* Covered when the bar before the first one received must start before `from` (a bar
     * at or before `from`, or less than one bar length after it). */
    int64_t len = tvk_interval_seconds(s->interval);
    if (s->n > 0 && (s->bars[0].time <= s->from || s->bars[0].time - len < s->from)) {
        finish(s);
    } else if (added == 0 || end) {
        s->ended = 1;
        finish(s);
    } else {
        request_more(s, cap);
    }
}

/* ---------------------------------------------------------------- live */

static void close_forming(tvk_series *s)
{
    push(s, TVK_EV_BAR_CLOSE, &s->forming);
    s->last_closed = s->forming.time;
    s->have_forming = 0;
}

static void live_bar(tvk_series *s, const tvk_ohlcv *b, int64_t close_time)
{
    if (s->last_closed != INT64_MIN && b->time <= s->last_closed) return; /* closed: final */
    if (s->have_forming && b->time < s->forming.time) return;             /* stale */
    if (!s->have_forming || b->time > s->forming.time) {
        if (s->have_forming) close_forming(s);
        s->have_forming = 1;
        s->forming_close = 0;
    }
    s->forming = *b;
    if (close_time > b->time) s->forming_close = close_time;
    push(s, TVK_EV_BAR_UPDATE, &s->forming);
}

/* lbs.bar_close_time is the last second of the bar: once the server clock of this series'
 * own messages is past it, the bar is final even if no newer bar comes (a closing market).
 * Other sessions' clocks are not used: their messages may arrive before this series' final
 * update of the bar, and a bar is closed only once. */
static void on_server_time(tvk_series *s, int64_t t)
{
    if (s->state != TVK_SERIES_READY || s->phase != TVK_PH_DONE || !s->live || !s->have_forming)
        return;
    if (s->forming_close > 0 && t > s->forming_close) close_forming(s);
}

/* ---------------------------------------------------------------- reconnect */

/* A far end for "r,FROM:TO" ranges that must reach the newest bar (2100-01-01). */
#define TVK_FAR_FUTURE INT64_C(4102444800)

static int send_range(tvk_series *s, int reopen, int64_t from, int64_t to)
{
    char range[64];
    snprintf(range, sizeof range, "r,%lld:%lld", (long long)from, (long long)to);
    if (reopen) {
        s->n_page_start = s->n;
        s->phase = s->state == TVK_SERIES_READY ? TVK_PH_BACKFILL : TVK_PH_MODIFY;
        return send_open(s, s->c->o.max_bars_per_request, range);
    }
    tvk_conn *c = s->c;
    tvk_buf_reset(&c->out);
    int rc = tvk_build_modify_series(&c->out, s->cs, TVK_SERIES_ID, TVK_TURNAROUND, TVK_SYMREF,
                                     s->interval, range);
    if (rc == 0) rc = tvk__conn_send_out(c);
    tvk_buf_reset(&c->out);
    return rc;
}

/* Asks for every bar from the forming one (or the one after the last closed) to now; they are
 * delivered in order, deduplicated against what was delivered, before live updates resume. */
static void start_backfill(tvk_series *s, int reopen)
{
    s->resumed = 0;
    s->nbf = 0;
    s->bf_pages = 0;
    /* From the newest bar already known (asked again: the deduplication drops it if final). */
    s->bf_from = s->have_forming ? s->forming.time : s->last_closed;
    s->phase = TVK_PH_BACKFILL;
    int rc = send_range(s, reopen, s->bf_from == INT64_MIN ? 0 : s->bf_from, TVK_FAR_FUTURE);
    if (rc < 0 && s->c->state == TVK_CONN_CONNECTED)
        tvk__series_fail(s, rc, "%s %s: backfill request: %s", s->symbol, s->interval,
                         tvk_conn_errmsg(s->c));
}

static void backfill_done(tvk_series *s, const tvk_series_completed *sc)
{
    if (sort_bars(&s->bf, &s->nbf, &s->capbf) < 0) {
        tvk__series_fail(s, TVK_ENOMEM, "%s: out of memory sorting %zu backfill bars", s->symbol,
                         s->nbf);
        return;
    }
    /* The range answer holds at most the server's per-request cap, the newest ones: page back
     * until the first bar needed is covered. */
    if (s->nbf > 0 && s->bf[0].time > s->bf_from && !tvk__str_is(sc->data_completed, "end") &&
        s->bf_pages < 1000) {
        s->bf_pages++;
        if (request_more(s, s->c->o.max_bars_per_request) == 0) return;
    }
    s->phase = TVK_PH_DONE;
    for (size_t i = 0; i < s->nbf; i++)
        live_bar(s, &s->bf[i], i + 1 == s->nbf ? s->last_bar_close_time : 0);
    free(s->bf);
    s->bf = NULL;
    s->nbf = s->capbf = 0;
    if (s->server_t > 0) on_server_time(s, s->server_t);
}

void tvk__series_restore(tvk_series *s, int resub)
{
    tvk_conn *c = s->c;
    if (s->state == TVK_SERIES_FAILED) return;
    if (s->state == TVK_SERIES_READY && !s->live) return; /* nothing to keep alive */
    if (resub) {
        tvk_buf_reset(&c->out);
        if (tvk_build_chart_delete_session(&c->out, s->cs) == 0) tvk__conn_send_out(c);
        tvk_buf_reset(&c->out);
    }
    s->detached = 0;
    int rc = 0;
    if (s->state == TVK_SERIES_READY) {
        start_backfill(s, 1);
        return;
    }
    /* History in progress: what a page brought only partly is asked again. */
    if (s->n > s->n_page_start) s->n = s->n_page_start;
    /* A server that always drops the connection before a page completes must not keep a
     * download going forever: it fails after this many reconnects without a new bar. */
    if (s->n > s->restore_n) {
        s->restore_n = s->n;
        s->stalled = 0;
    } else if (++s->stalled > TVK_MAX_STALLED_RESTORES) {
        tvk__series_fail(s, TVK_ECONN_LOST,
                         "%s %s: the connection was lost %d times in a row before a page of the "
                         "history completed (%zu bars so far)",
                         s->symbol, s->interval, s->stalled, s->n);
        return;
    }
    int64_t cap = c->o.max_bars_per_request;
    if (s->n == 0 && is_range(s)) {
        /* the range asked with create_series itself: one answer, not two */
        rc = send_range(s, 1, s->from, s->to);
    } else if (s->n == 0) {
        s->n = s->n_page_start = 0;
        s->phase = TVK_PH_CREATE;
        rc = send_open(s, s->count < cap ? s->count : cap, NULL);
    } else {
        /* Resume below the oldest bar held: a range ending just before it (count mode: wide
         * enough for the bars still wanted across closed sessions), then paging as before. */
        int64_t to = s->bars[0].time - 1, from = s->from;
        if (!is_range(s)) {
            int64_t want = s->count - (int64_t)s->n, len = tvk_interval_seconds(s->interval);
            if (want < 10) want = 10;
            if (len <= 0) len = 60;
            int64_t span = want * len;
            from = span > (to - INT64_C(-4102444800)) / 10 ? INT64_C(-4102444800) : to - 10 * span;
        }
        s->resumed = 1;
        rc = send_range(s, 1, from, to);
    }
    if (rc < 0 && c->state == TVK_CONN_CONNECTED) {
        tvk__series_fail(s, rc, "%s %s: not restored: %s", s->symbol, s->interval,
                         tvk_conn_errmsg(c));
        return;
    }
    s->resumed = s->live ? 1 : s->resumed;
    arm(s);
}

/* ---------------------------------------------------------------- routing */

static void to_ohlcv(const tvk_bar *b, tvk_ohlcv *o)
{
    o->time = (int64_t)llround(b->time);
    o->open = b->open;
    o->high = b->high;
    o->low = b->low;
    o->close = b->close;
    o->volume = b->volume;
}

static void on_bars(tvk_series *s, const tvk_msg *m)
{
    tvk_series_update u;
    int rc = tvk_msg_series(m, TVK_SERIES_ID, &u);
    if (rc == TVK_ENOTFOUND) return;
    if (rc < 0) {
        tvk__series_fail(s, rc, "%s %s: malformed %s", s->symbol, s->interval,
                         tvk_msg_type_name(m->type));
        return;
    }
    if (u.bar_close_time > 0) s->last_bar_close_time = u.bar_close_time;
    tvk_bar b;
    size_t i = 0;
    while ((rc = tvk_bar_next(&u.bars, &b)) > 0) {
        tvk_ohlcv o;
        to_ohlcv(&b, &o);
        i++;
        if (s->phase == TVK_PH_DONE) {
            if (s->live) live_bar(s, &o, i == u.nbars ? u.bar_close_time : 0);
            continue;
        }
        if (s->phase == TVK_PH_CREATE && is_range(s)) continue;
        int arc = append_bar(s, &o);
        if (arc < 0) {
            tvk__series_fail(s, arc, "%s %s: more than %zu bars", s->symbol, s->interval,
                             TVK_MAX_SERIES_BARS);
            return;
        }
    }
    if (rc < 0) {
        tvk__series_fail(s, rc, "%s %s: malformed bar %zu in %s", s->symbol, s->interval, i + 1,
                         tvk_msg_type_name(m->type));
        return;
    }
    if (s->state == TVK_SERIES_LOADING && m->type == TVK_MSG_TIMESCALE_UPDATE) progress(s);
}

/* Live bars of one du wait here until the message is known good (they become events, which
 * cannot be taken back); a message with more goes the generic way. */
#define TVK_PLAIN_LIVE_MAX 64

typedef struct plain_ctx {
    tvk_series *s;
    size_t n0, nbf0; /* to take back the bars of a declined message */
    size_t nlive;
    tvk_ohlcv live[TVK_PLAIN_LIVE_MAX];
} plain_ctx;

/* on_bars' loop body for one bar of a message read without tokens. */
static int plain_bar(void *user, const tvk_bar *b)
{
    plain_ctx *x = user;
    tvk_series *s = x->s;
    tvk_ohlcv o;
    to_ohlcv(b, &o);
    if (s->phase == TVK_PH_DONE) {
        if (!s->live) return 0;
        if (x->nlive == TVK_PLAIN_LIVE_MAX) return TVK_EBUFSIZE;
        x->live[x->nlive++] = o;
        return 0;
    }
    if (s->phase == TVK_PH_CREATE && is_range(s)) return 0;
    /* A failure is the generic path's to report: it meets it again at the same bar. */
    return append_bar(s, &o);
}

int tvk__series_on_plain(tvk_series *s, const tvk_msg *m)
{
    if (s->state == TVK_SERIES_FAILED) return 0;
    plain_ctx x;
    x.s = s;
    x.n0 = s->n;
    x.nbf0 = s->nbf;
    x.nlive = 0;
    tvk_series_plain u;
    if (tvk_series_plain_parse(m->pkt.data, m->pkt.len, TVK_SERIES_ID, &u, plain_bar, &x) != 1) {
        s->n = x.n0;
        s->nbf = x.nbf0;
        return 0;
    }
    /* What tvk__series_on_msg and on_bars do, in their order (the bars are in place). */
    if (s->state == TVK_SERIES_LOADING) arm(s);
    int64_t t = u.has_time ? u.time : 0;
    if (t > 0) s->server_t = t;
    if (u.found) {
        if (u.bar_close_time > 0) s->last_bar_close_time = u.bar_close_time;
        for (size_t i = 0; i < x.nlive; i++)
            live_bar(s, &x.live[i], i + 1 == u.nbars ? u.bar_close_time : 0);
        if (s->state == TVK_SERIES_LOADING && m->type == TVK_MSG_TIMESCALE_UPDATE) progress(s);
    }
    if (t > 0) on_server_time(s, t);
    return 1;
}

static const char *phase_name(const tvk_series *s)
{
    switch (s->phase) {
    case TVK_PH_CREATE:
        return "the create_series answer";
    case TVK_PH_MODIFY:
        return "the modify_series (range) answer";
    case TVK_PH_PAGING:
        return "a request_more_data answer";
    case TVK_PH_BACKFILL:
        return "the backfill answer";
    case TVK_PH_DONE:
        break;
    }
    return "data";
}

void tvk__series_on_msg(tvk_series *s, const tvk_msg *m)
{
    if (s->state == TVK_SERIES_FAILED) return;
    if (s->state == TVK_SERIES_LOADING) arm(s);
    int tok = m->json ? tvk_json_member(m->json, 0, "t") : -1;
    int64_t t = 0;
    if (tok >= 0 && tvk_json_int64(m->json, tok, &t) == 0 && t > 0) s->server_t = t;
    tvk_error_info e;
    switch (m->type) {
    case TVK_MSG_TIMESCALE_UPDATE:
    case TVK_MSG_DU:
        on_bars(s, m);
        if (t > 0) on_server_time(s, t);
        return;
    case TVK_MSG_SERIES_COMPLETED: {
        tvk_series_completed sc;
        if (tvk_msg_series_completed(m, &sc) == 0 && tvk__str_is(sc.series_id, TVK_SERIES_ID))
            on_completed(s, &sc);
        return;
    }
    case TVK_MSG_SYMBOL_ERROR:
        memset(&e, 0, sizeof e);
        tvk_msg_error(m, &e);
        tvk__series_fail(s, TVK_ESYMBOL, "symbol_error for %s: %.*s", s->symbol, (int)e.reason.len,
                         e.reason.p ? e.reason.p : "");
        return;
    case TVK_MSG_SERIES_ERROR: {
        memset(&e, 0, sizeof e);
        tvk_msg_error(m, &e);
        int code = TVK_ESERIES;
        static const char res[] = "resolution";
        for (size_t i = 0; e.reason.p && i + sizeof res - 1 <= e.reason.len; i++)
            if (memcmp(e.reason.p + i, res, sizeof res - 1) == 0) code = TVK_EINTERVAL;
        tvk__series_fail(s, code, "series_error for %s %s: %.*s", s->symbol, s->interval,
                         (int)e.reason.len, e.reason.p ? e.reason.p : "");
        return;
    }
    case TVK_MSG_STUDY_ERROR:
    default:
        return;
    }
}

int64_t tvk__series_check_deadline(tvk_series *s, int64_t now)
{
    if (s->state != TVK_SERIES_LOADING || s->deadline <= 0) return -1;
    if (now < s->deadline) return s->deadline;
    tvk__series_fail(s, TVK_ETIMEDOUT,
                     "%s %s: no answer within %d ms (waiting for %s; %zu bars so far)", s->symbol,
                     s->interval, tvk__conn_timeout(s->c, &s->req.o), phase_name(s), s->n);
    return -1;
}

/* ---------------------------------------------------------------- accessors, waiting */

int tvk_series_wait(tvk_series *s, int timeout_ms)
{
    if (!s) return TVK_EINVAL;
    tvk_conn *c = s->c;
    int64_t deadline = timeout_ms < 0 ? -1 : tvk_now_ms() + timeout_ms;
    while (s->state == TVK_SERIES_LOADING) {
        tvk_msg m;
        int rc = tvk__conn_pump(c, &m, deadline, 0);
        if (s->state != TVK_SERIES_LOADING) break;
        if (rc < 0) return rc;
        if (rc == 0 && deadline >= 0 && tvk_now_ms() >= deadline) {
            tvk__conn_set_err(c, TVK_ETIMEDOUT, "%s %s: not complete within %d ms", s->symbol,
                              s->interval, timeout_ms);
            return TVK_ETIMEDOUT;
        }
        if (rc == 0 && tvk__conn_is_test(c)) return TVK_EAGAIN;
    }
    return s->state == TVK_SERIES_READY ? 0 : s->err;
}

tvk_series_state tvk_series_get_state(const tvk_series *s)
{
    return s->state;
}
int tvk_series_error(const tvk_series *s)
{
    return s->err;
}
const char *tvk_series_errmsg(const tvk_series *s)
{
    return s->errmsg;
}
const char *tvk_series_symbol(const tvk_series *s)
{
    return s->symbol;
}
const char *tvk_series_interval(const tvk_series *s)
{
    return s->interval;
}
const char *tvk_series_chart_session(const tvk_series *s)
{
    return s->cs;
}
void *tvk_series_user(const tvk_series *s)
{
    return s->user;
}

void tvk_series_bars(const tvk_series *s, const tvk_ohlcv **bars, size_t *n, int *ended)
{
    if (bars) *bars = s->bars;
    if (n) *n = s->n;
    if (ended) *ended = s->ended;
}

int tvk_series_take_bars(tvk_series *s, tvk_bars *out)
{
    if (!s || !out) return TVK_EINVAL;
    out->v = s->bars;
    out->n = s->n;
    out->ended = s->ended;
    out->pages = s->pages;
    s->bars = NULL;
    s->n = s->cap = 0;
    return 0;
}
