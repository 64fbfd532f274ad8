/* Connection reliability: reconnect with exponential backoff and jitter after a loss, restore of
 * every quote set and series (re-sent from the handle's own state), the silence timer (nothing
 * received, not even a heartbeat) and the data watchdog (heartbeats but no data: resubscribe). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/client.h"

enum { MSG_DISC = 0, MSG_RECONNECTING = 1, MSG_RECONNECTED = 2 };

int tvk__conn_is_test(const tvk_conn *c)
{
    return c->send_hook != NULL && c->ws == NULL;
}

static void push_conn_event(tvk_conn *c, tvk_event_type type, int code, int attempt, int delay,
                            int slot)
{
    tvk_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.error = code;
    ev.errmsg = c->ev_msg[slot];
    ev.attempt = attempt;
    ev.delay_ms = delay;
    if (tvk__ev_push(c, &ev, NULL) < 0) tvk__conn_log(c, "%s", c->ev_msg[slot]);
}

/* Errors a new attempt cannot fix: the server refused us (403: origin or auth), the certificate
 * does not verify (a changed certificate must not be accepted silently), a bad URL. */
static int retryable_connect(int rc)
{
    return rc != TVK_EHTTP_403 && rc != TVK_ETLS_VERIFY && rc != TVK_EURL && rc != TVK_ENOMEM &&
           rc != TVK_EINVAL;
}

static uint64_t next_rand(tvk_conn *c)
{
    uint64_t x = c->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c->rng = x;
    return x;
}

/* Backoff of attempt n (1-based): delay * 2^(n-1) up to the ceiling, then "equal jitter" (half
 * fixed, half random) so clients that lost one server do not return in step. A 429's
 * Retry-After is a floor. */
static int backoff(tvk_conn *c, int n)
{
    int64_t d = c->o.reconnect_delay_ms;
    for (int i = 1; i < n && d < c->o.reconnect_max_delay_ms; i++)
        d *= 2;
    if (d > c->o.reconnect_max_delay_ms) d = c->o.reconnect_max_delay_ms;
    int64_t half = d / 2;
    d = half + (half > 0 ? (int64_t)(next_rand(c) % (uint64_t)(half + 1)) : 0);
    if (c->retry_after_ms >= 0 && d < c->retry_after_ms) d = c->retry_after_ms;
    return (int)d;
}

static void schedule(tvk_conn *c, int code, const char *why)
{
    int delay = backoff(c, c->attempt + 1);
    c->retry_at = tvk_now_ms() + delay;
    if (c->attempt == 0)
        snprintf(c->ev_msg[MSG_RECONNECTING], TVK_ERRMSG_CAP, "attempt 1 in %d ms", delay);
    else
        snprintf(c->ev_msg[MSG_RECONNECTING], TVK_ERRMSG_CAP,
                 "attempt %d in %d ms (attempt %d: %s)", c->attempt + 1, delay, c->attempt, why);
    push_conn_event(c, TVK_EV_RECONNECTING, code, c->attempt + 1, delay, MSG_RECONNECTING);
}

int tvk__reconn_lost(tvk_conn *c, int rc, const char *detail)
{
    if (!c->o.reconnect || c->fatal || c->state != TVK_CONN_CONNECTED || tvk__conn_is_test(c))
        return 0;
    tvk__conn_set_err(c, TVK_ECONN_LOST, "connection lost (%s): %s", tvk_errname(rc), detail);
    snprintf(c->ev_msg[MSG_DISC], TVK_ERRMSG_CAP, "%s", c->errmsg);
    if (c->ws) {
        tvk_ws_free(c->ws);
        c->ws = NULL;
    }
    c->state = TVK_CONN_RECONNECTING;
    tvk__conn_drop_message(c);
    c->attempt = 0;
    c->retry_after_ms = -1;
    for (tvk_series *s = c->series; s; s = s->next)
        s->detached = 1;
    push_conn_event(c, TVK_EV_DISCONNECTED, rc, 0, 0, MSG_DISC);
    schedule(c, rc, c->errmsg);
    return 1;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static void give_up(tvk_conn *c, int code, const char *why)
{
    c->state = TVK_CONN_LOST;
    c->lost_code = code;
    tvk__conn_set_err(c, code, "%s", why);
    char msg[TVK_ERRMSG_CAP];
    snprintf(msg, sizeof msg, "%s", why);
    tvk__conn_fail_all(c, code, msg);
}

/* ---------------------------------------------------------------- restore */

static int restore_quotes(tvk_quotes *q, int resub)
{
    tvk_conn *c = q->c;
    int rc = 0;
    tvk_buf_reset(&c->out);
    if (resub) {
        rc = tvk_build_quote_delete_session(&c->out, q->qs);
        if (rc == 0) rc = tvk__conn_send_out(c);
    }
    if (rc == 0) rc = tvk_build_quote_create_session(&c->out, q->qs);
    if (rc == 0) rc = tvk__conn_send_out(c);
    if (rc == 0)
        rc = tvk_build_quote_set_fields(&c->out, q->qs, (const char *const *)q->fields, q->nfields);
    if (rc == 0) rc = tvk__conn_send_out(c);
    if (rc < 0 || q->ne == 0) {
        tvk_buf_reset(&c->out);
        return rc;
    }
    const char **keys = malloc(q->ne * sizeof *keys);
    if (!keys) return TVK_ENOMEM;
    size_t nk = 0;
    int64_t deadline = tvk_now_ms() + tvk__conn_timeout(c, &q->req.o);
    for (size_t i = 0; i < q->ne; i++) {
        tvk_quote_entry *e = q->e[i];
        if (e->pub.status == TVK_QUOTE_ERROR) continue; /* the server said no: not again */
        keys[nk++] = e->key;
        if (e->pub.status == TVK_QUOTE_PENDING) {
            e->deadline = deadline;
            q->maybe_pending = 1;
        }
    }
    if (nk) rc = tvk__quotes_send_add(q, keys, nk);
    tvk_buf_reset(&c->out);
    free(keys);
    return rc;
}

/* Each session goes out after the token it was opened with (its own, or the handle's), as
 * when it was opened: set_auth_token is sent again only when the token changes. */
static void restore(tvk_conn *c, int resub)
{
    if (!resub && tvk__conn_ready(c, NULL) < 0) return;
    for (tvk_quotes *q = c->quotes; q && c->state == TVK_CONN_CONNECTED; q = q->next) {
        if (tvk__conn_ready(c, q->req.o.token) < 0) continue;
        if (restore_quotes(q, resub) < 0)
            tvk__conn_log(c, "quotes %s: not restored: %s", q->qs, tvk_conn_errmsg(c));
    }
    for (tvk_series *s = c->series; s && c->state == TVK_CONN_CONNECTED; s = s->next) {
        if (tvk__conn_ready(c, s->req.o.token) < 0) continue;
        tvk__series_restore(s, resub);
    }
}

/* Attempt c->attempt failed with rc (errmsg says why): the next one is scheduled (1), or the
 * handle gives up (rc). */
static int attempt_failed(tvk_conn *c, int rc)
{
    char why[TVK_ERRMSG_CAP];
    snprintf(why, sizeof why, "%s", c->errmsg);
    if (!retryable_connect(rc)) {
        char msg[TVK_ERRMSG_CAP];
        snprintf(msg, sizeof msg, "reconnect attempt %d failed, not retried: %.400s", c->attempt,
                 why);
        give_up(c, rc, msg);
        return rc;
    }
    if (c->o.reconnect_attempts > 0 && c->attempt >= c->o.reconnect_attempts) {
        char msg[TVK_ERRMSG_CAP];
        snprintf(msg, sizeof msg, "gave up after %d reconnect attempts: %.400s", c->attempt, why);
        give_up(c, TVK_ECONN_LOST, msg);
        return TVK_ECONN_LOST;
    }
    schedule(c, rc, why);
    return 1;
}

static void reconnected(tvk_conn *c)
{
    c->stats.reconnects++;
    int attempts = c->attempt;
    c->attempt = 0;
    size_t ns = 0, nq = 0;
    for (tvk_series *s = c->series; s; s = s->next)
        ns += s->state != TVK_SERIES_FAILED;
    for (tvk_quotes *q = c->quotes; q; q = q->next)
        nq++;
    snprintf(c->ev_msg[MSG_RECONNECTED], TVK_ERRMSG_CAP,
             "to %s after %d attempt%s; %zu series and %zu quote set%s sent again", c->url,
             attempts, attempts == 1 ? "" : "s", ns, nq, nq == 1 ? "" : "s");
    push_conn_event(c, TVK_EV_RECONNECTED, 0, attempts, 0, MSG_RECONNECTED);
    restore(c, 0);
}

/* The attempt's connect runs in steps (tvk__conn_open_poll) so that a caller's timeout, and an
 * event loop's own wake-ups (a signal), act while it is under way: the handshake can take up to
 * connect_timeout_ms. */
int tvk__reconn_step(tvk_conn *c, int64_t deadline)
{
    int rc;
    if (!tvk__conn_connecting(c)) {
        int64_t now = tvk_now_ms();
        if (now < c->retry_at) {
            if (deadline >= 0 && deadline <= now) return 0;
            int64_t until = c->retry_at;
            if (deadline >= 0 && deadline < until) until = deadline;
            /* Nothing to read while disconnected: the wait is the backoff itself. */
            sleep_ms(until - now);
            if (tvk_now_ms() < c->retry_at) return 0;
        }
        c->attempt++;
        rc = tvk__conn_open_start(c);
        if (rc < 0) return attempt_failed(c, rc);
    }
    rc = tvk__conn_open_poll(c, deadline);
    if (rc == 0) return 0;
    if (rc < 0) return attempt_failed(c, rc);
    reconnected(c);
    return 1;
}

/* ---------------------------------------------------------------- timers */

int tvk__conn_subscribed(const tvk_conn *c)
{
    for (const tvk_series *s = c->series; s; s = s->next)
        if (s->live && s->state == TVK_SERIES_READY) return 1;
    for (const tvk_quotes *q = c->quotes; q; q = q->next)
        for (size_t i = 0; i < q->ne; i++)
            if (q->e[i]->pub.status != TVK_QUOTE_ERROR) return 1;
    return 0;
}

static void wake_at(int64_t *wake, int64_t t)
{
    if (*wake < 0 || t < *wake) *wake = t;
}

int tvk__reconn_timers(tvk_conn *c, int64_t now, int64_t *wake, int act)
{
    if (c->state != TVK_CONN_CONNECTED) return 0;
    if (c->o.silence_timeout_ms > 0) {
        int64_t t = c->last_rx + c->o.silence_timeout_ms;
        if (now >= t && act) {
            char why[128];
            snprintf(why, sizeof why, "nothing received (not even a heartbeat) for %d ms",
                     c->o.silence_timeout_ms);
            if (c->ws) tvk_ws_free(c->ws);
            c->ws = NULL;
            if (!tvk__reconn_lost(c, TVK_ETIMEDOUT, why)) {
                tvk__conn_set_err(c, TVK_ECONN_LOST, "connection lost (TVK_ETIMEDOUT): %s", why);
                c->state = TVK_CONN_LOST;
                c->lost_code = TVK_ECONN_LOST;
                tvk__conn_drop_message(c);
                tvk__conn_fail_all(c, TVK_ECONN_LOST, c->errmsg);
            }
            return 1;
        }
        wake_at(wake, t);
    }
    if (c->o.data_timeout_ms > 0 && tvk__conn_subscribed(c)) {
        int64_t t = c->last_data + c->o.data_timeout_ms;
        if (now < t || !act) {
            wake_at(wake, t);
            return 0;
        }
        char why[160];
        if (c->watchdog_fired && c->o.reconnect) {
            snprintf(why, sizeof why, "no data for %d ms after a resubscribe (heartbeats only)",
                     c->o.data_timeout_ms);
            tvk__reconn_lost(c, TVK_ETIMEDOUT, why);
            return 1;
        }
        c->watchdog_fired = 1;
        c->last_data = now;
        c->stats.resubscribes++;
        snprintf(c->ev_msg[MSG_RECONNECTED], TVK_ERRMSG_CAP,
                 "no data for %d ms (heartbeats only): resubscribed every session",
                 c->o.data_timeout_ms);
        tvk__conn_log(c, "%s", c->ev_msg[MSG_RECONNECTED]);
        push_conn_event(c, TVK_EV_RECONNECTED, 0, 0, 0, MSG_RECONNECTED);
        restore(c, 1);
        return 1;
    }
    return 0;
}
