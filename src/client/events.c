/* The event queue of a handle: bar events are kept in order and never dropped; quote events
 * are coalesced per symbol (one queued event shows the latest merged snapshot), which bounds
 * the queue by the number of symbols however fast quotes arrive. */
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

const char *tvk_event_type_name(tvk_event_type t)
{
    switch (t) {
    case TVK_EV_NONE:
        return "none";
    case TVK_EV_HISTORY:
        return "history";
    case TVK_EV_BAR_UPDATE:
        return "bar_update";
    case TVK_EV_BAR_CLOSE:
        return "bar_close";
    case TVK_EV_QUOTE:
        return "quote";
    case TVK_EV_ERROR:
        return "error";
    case TVK_EV_DISCONNECTED:
        return "disconnected";
    case TVK_EV_RECONNECTING:
        return "reconnecting";
    case TVK_EV_RECONNECTED:
        return "reconnected";
    }
    return "unknown";
}

/* The next free item at the queue's end (type and qe still to be written), or NULL when out of
 * memory. */
static tvk_evq_item *ev_append(tvk_conn *c)
{
    if (c->evlen == c->evcap) {
        if (c->evhead > 0) {
            memmove(c->evq, c->evq + c->evhead, (c->evlen - c->evhead) * sizeof *c->evq);
            c->evlen -= c->evhead;
            c->evhead = 0;
        }
        if (c->evlen == c->evcap) {
            size_t ncap = c->evcap ? c->evcap * 2 : 64;
            tvk_evq_item *n = realloc(c->evq, ncap * sizeof *n);
            if (!n) return NULL;
            c->evq = n;
            c->evcap = ncap;
        }
    }
    return &c->evq[c->evlen++];
}

/* The event's text is copied: its producer writes the same buffer again (the next reconnect
 * attempt, the series' next error) while the event may still wait in the queue. */
int tvk__ev_push(tvk_conn *c, const tvk_event *ev, tvk_quote_entry *qe)
{
    if (qe && ev->type == TVK_EV_QUOTE && qe->queued) return 0;
    char *msg = NULL;
    if (ev->errmsg && !(msg = tvk__strdup(ev->errmsg))) return TVK_ENOMEM;
    tvk_evq_item *it = ev_append(c);
    if (!it) {
        free(msg);
        return TVK_ENOMEM;
    }
    if (qe && ev->type == TVK_EV_QUOTE) qe->queued = 1;
    it->ev = *ev;
    it->ev.errmsg = msg;
    it->qe = qe;
    it->msg = msg;
    return 0;
}

/* Drops item it (its type NONE from now on), with the text it owns. */
static void item_drop(tvk_evq_item *it)
{
    it->ev.type = TVK_EV_NONE;
    it->qe = NULL;
    free(it->msg);
    it->msg = NULL;
}

/* The event a quote entry's QUOTE or ERROR item stands for: all of it comes from the entry. */
static void quote_event(tvk_event *ev, tvk_quote_entry *qe, tvk_event_type type)
{
    memset(ev, 0, sizeof *ev);
    ev->type = type;
    ev->quotes = qe->q;
    ev->user = qe->q->user;
    ev->symbol = qe->symbol;
    ev->quote = &qe->pub;
}

/* A QUOTE item is only its type, entry and quote set (what the drop functions look at): it
 * shows the entry's snapshot when taken, and is made an event then (one queued per entry, one
 * per change on busy streams). An ERROR item is made at once with its own copy of the text:
 * the entry's errmsg is cleared by its next snapshot, or replaced by its next error. */
int tvk__ev_push_quote(tvk_conn *c, tvk_quote_entry *qe, tvk_event_type type)
{
    if (type == TVK_EV_QUOTE && qe->queued) return 0;
    char *msg = NULL;
    if (type != TVK_EV_QUOTE && !(msg = tvk__strdup(qe->errmsg))) return TVK_ENOMEM;
    tvk_evq_item *it = ev_append(c);
    if (!it) {
        free(msg);
        return TVK_ENOMEM;
    }
    it->qe = qe;
    it->msg = msg;
    if (type == TVK_EV_QUOTE) {
        qe->queued = 1;
        it->ev.type = type;
        it->ev.series = NULL;
        it->ev.quotes = qe->q;
    } else {
        quote_event(&it->ev, qe, type);
        it->ev.error = qe->pub.error;
        it->ev.errmsg = msg;
    }
    return 0;
}

int tvk__ev_full(const tvk_conn *c)
{
    return c->evlen - c->evhead >= c->o.max_events;
}

int tvk__ev_pop(tvk_conn *c, tvk_event *ev)
{
    while (c->evhead < c->evlen) {
        tvk_evq_item *it = &c->evq[c->evhead++];
        if (it->ev.type == TVK_EV_NONE) continue;
        if (it->qe && it->ev.type == TVK_EV_QUOTE) {
            it->qe->queued = 0;
            quote_event(ev, it->qe, TVK_EV_QUOTE);
        } else {
            *ev = it->ev;
        }
        /* The text goes with the event: kept until the next one is taken. */
        free(c->ev_taken_msg);
        c->ev_taken_msg = it->msg;
        it->msg = NULL;
        if (ev->type == TVK_EV_HISTORY && ev->series) {
            ev->bars = ev->series->bars;
            ev->nbars = ev->series->n;
            ev->ended = ev->series->ended;
        }
        if (c->evhead == c->evlen) c->evhead = c->evlen = 0;
        return 1;
    }
    c->evhead = c->evlen = 0;
    return 0;
}

void tvk__ev_drop_series(tvk_conn *c, const tvk_series *s)
{
    for (size_t i = c->evhead; i < c->evlen; i++)
        if (c->evq[i].ev.series == s) item_drop(&c->evq[i]);
}

void tvk__ev_drop_quote(tvk_conn *c, const tvk_quote_entry *qe)
{
    for (size_t i = c->evhead; i < c->evlen; i++)
        if (c->evq[i].qe == qe) item_drop(&c->evq[i]);
}

void tvk__ev_drop_quotes(tvk_conn *c, const tvk_quotes *q)
{
    for (size_t i = c->evhead; i < c->evlen; i++)
        if (c->evq[i].ev.quotes == q) item_drop(&c->evq[i]);
}

void tvk__ev_free(tvk_conn *c)
{
    for (size_t i = c->evhead; i < c->evlen; i++)
        free(c->evq[i].msg);
    free(c->evq);
    c->evq = NULL;
    c->evhead = c->evlen = c->evcap = 0;
    free(c->ev_taken_msg);
    c->ev_taken_msg = NULL;
}

int tvk_conn_next_event(tvk_conn *c, tvk_event *ev, int timeout_ms)
{
    if (!c || !ev) return TVK_EINVAL;
    /* Neither a queued event nor a packet already received needs the clock: busy streams come
     * here once per event, and on some virtual machines reading the clock costs more than
     * decoding the packet. */
    if (tvk__ev_pop(c, ev)) return 1;
    tvk_msg m;
    while (tvk__conn_next_buffered(c, &m) > 0)
        if (tvk__ev_pop(c, ev)) return 1;
    int64_t deadline = timeout_ms < 0 ? -1 : tvk_now_ms() + timeout_ms;
    for (;;) {
        if (tvk__ev_pop(c, ev)) return 1;
        int rc = tvk__conn_pump(c, &m, deadline, TVK__PUMP_STOP_ON_EVENT);
        if (rc < 0) {
            if (tvk__ev_pop(c, ev)) return 1;
            return rc;
        }
        if (rc == 0 && c->evlen == c->evhead) {
            if (deadline >= 0 && tvk_now_ms() >= deadline) return 0;
            if (tvk__conn_is_test(c)) return 0;
        }
    }
}

int tvk_conn_run(tvk_conn *c, int timeout_ms, tvk_event_fn fn, void *user)
{
    if (!c || !fn) return TVK_EINVAL;
    int64_t deadline = timeout_ms < 0 ? -1 : tvk_now_ms() + timeout_ms;
    for (;;) {
        int wait = -1;
        if (deadline >= 0) {
            int64_t d = deadline - tvk_now_ms();
            wait = d < 0 ? 0 : d > 0x7fffffff ? 0x7fffffff : (int)d;
        }
        tvk_event ev;
        int rc = tvk_conn_next_event(c, &ev, wait);
        if (rc < 0) return rc;
        if (rc == 0) {
            if (deadline >= 0 && tvk_now_ms() >= deadline) return 0;
            if (tvk__conn_is_test(c)) return 0;
            continue;
        }
        if (fn(user, &ev)) return 1;
    }
}

/* The WebSocket the handle waits on: the connection's, or a reconnect attempt's (connecting). */
static const tvk_ws *waited_ws(const tvk_conn *c)
{
    if (!c || !c->ws) return NULL;
    if (c->state == TVK_CONN_CONNECTED || tvk__conn_connecting(c)) return c->ws;
    return NULL;
}

int tvk_conn_fd(const tvk_conn *c)
{
    const tvk_ws *ws = waited_ws(c);
    return ws ? tvk_ws_fd(ws) : -1;
}

int tvk_conn_wants(const tvk_conn *c)
{
    const tvk_ws *ws = waited_ws(c);
    return ws ? tvk_ws_wants(ws) : 0;
}

int64_t tvk_conn_deadline(const tvk_conn *c)
{
    if (!c) return -1;
    /* Reconnecting: the attempt's handshake deadline while it connects, else its start. */
    if (c->state == TVK_CONN_RECONNECTING)
        return tvk__conn_connecting(c) ? tvk_ws_deadline(c->ws) : c->retry_at;
    int64_t d = c->ws && c->state == TVK_CONN_CONNECTED ? tvk_ws_deadline(c->ws) : -1;
    if (c->ws && c->state == TVK_CONN_CONNECTED && c->o.silence_timeout_ms > 0) {
        int64_t t = c->last_rx + c->o.silence_timeout_ms;
        if (d < 0 || t < d) d = t;
    }
    if (c->ws && c->state == TVK_CONN_CONNECTED && c->o.data_timeout_ms > 0 &&
        tvk__conn_subscribed(c)) {
        int64_t t = c->last_data + c->o.data_timeout_ms;
        if (d < 0 || t < d) d = t;
    }
    for (const tvk_series *s = c->series; s; s = s->next)
        if (s->state == TVK_SERIES_LOADING && s->deadline > 0 && (d < 0 || s->deadline < d))
            d = s->deadline;
    for (const tvk_quotes *q = c->quotes; q; q = q->next)
        for (size_t i = 0; q->maybe_pending && i < q->ne; i++) {
            int64_t e = q->e[i]->deadline;
            if (q->e[i]->pub.status == TVK_QUOTE_PENDING && e > 0 && (d < 0 || e < d)) d = e;
        }
    return d;
}
