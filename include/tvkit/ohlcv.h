/* tvkit high-level API: history (by count or by time range), live bars and quotes, all
 * multiplexed on one tvk_conn (tvkit/conn.h).
 *
 * Blocking, one request at a time:
 *   tvk_bars bars;
 *   rc = tvk_history(c, "NASDAQ:AAPL", "1D", 20000, NULL, &bars);   // newest 20,000 daily bars
 *   ... bars.v[i].time, .open ...; tvk_bars_free(&bars);
 *
 * Pipelined / streaming (many series and quote sets on one connection):
 *   tvk_series_req r; tvk_series_req_init(&r);
 *   r.symbol = "BINANCE:BTCUSDT"; r.interval = "1"; r.count = 100; r.live = 1;
 *   tvk_series *s; tvk_series_open(c, &r, &s);          // sends, does not wait
 *   tvk_quotes *q; tvk_quotes_open(c, NULL, NULL, 0, NULL, &q); tvk_quotes_add(q, syms, n);
 *   tvk_event ev;
 *   while ((rc = tvk_conn_next_event(c, &ev, 1000)) >= 0)
 *       if (rc == 1) switch (ev.type) { case TVK_EV_BAR_CLOSE: ... }
 *
 * Each series has its own chart session (one series per chart session: the server's limit for
 * anonymous users); it is created by tvk_series_open and deleted by tvk_series_close. The handle
 * keeps every open series' and quote set's full request so that a reconnect can restore them.
 * Times are UTC Unix seconds. */
#ifndef TVKIT_OHLCV_H
#define TVKIT_OHLCV_H

#include <stddef.h>
#include <stdint.h>

#include "tvkit/error.h"
#include "tvkit/wire.h"
#include "tvkit/conn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One bar. volume is NaN when the server sent none (indices) or sent 1e+100 ("no value"). */
typedef struct tvk_ohlcv {
    int64_t time; /* bar open, UTC Unix seconds (daily bars: the session open) */
    double open, high, low, close, volume;
} tvk_ohlcv;

/* A history result: bars sorted by time ascending, unique by time. */
typedef struct tvk_bars {
    tvk_ohlcv *v;
    size_t n;
    int ended; /* 1 = the server's history ended before the requested count/range start */
    int pages; /* server round trips used (create/modify/request_more_data answers) */
} tvk_bars;
void tvk_bars_free(tvk_bars *b); /* safe on a zeroed struct and twice */

/* Progress of a history download (for a progress bar). */
typedef struct tvk_progress {
    const char *symbol;
    size_t bars;     /* unique bars so far */
    size_t target;   /* count requested; 0 for a range request */
    double fraction; /* 0..1: bars/target, or for a range the share of [from,to) covered */
    int pages;
} tvk_progress;
typedef void (*tvk_progress_fn)(void *user, const tvk_progress *p);

/* Options of one request (series or quote set). Zero-initialised = all defaults. */
typedef struct tvk_req_opts {
    tvk_adjustment adjustment;  /* TVK_ADJ_SPLITS (default), TVK_ADJ_DIVIDENDS, TVK_ADJ_NONE */
    tvk_session_kind session;   /* TVK_SESSION_UNSET (not sent), _REGULAR, _EXTENDED */
    const char *currency;       /* "USD", ...; NULL = not sent */
    const char *backadjustment; /* "default" for futures back-adjustment; NULL = not sent */
    const char *token;          /* auth token for this request; NULL = the handle's. A different
                                   token is sent with set_auth_token before the request. */
    int timeout_ms;             /* per server round trip; 0 = the handle's request_timeout_ms */
    tvk_progress_fn progress;   /* history downloads; called from inside the waiting calls */
    void *progress_user;
} tvk_req_opts;

/* ---------------------------------------------------------------- blocking history */

/* The newest `count` bars (count >= 1), paging with request_more_data past the per-request cap
 * until enough bars or series_completed brings no more (then out->ended = 1 and out->n < count
 * is a success). Validates symbol and interval before sending anything (TVK_ESYMBOL,
 * TVK_EINTERVAL). Connects first if the handle never connected. Errors: TVK_ESYMBOL
 * (symbol_error), TVK_EINTERVAL, TVK_ESERIES, TVK_ECRITICAL, TVK_EPROTOCOL, TVK_EAUTH,
 * TVK_ETIMEDOUT (no answer within the round-trip deadline), TVK_ECONN_LOST, TVK_ENODATA (the
 * symbol has no bars at all); tvk_conn_errmsg() has the server's text. out is zeroed on error. */
int tvk_history(tvk_conn *c, const char *symbol, const char *interval, int64_t count,
                const tvk_req_opts *opts, tvk_bars *out);
/* Bars with from <= time < to, via modify_series "r,from:to", paging back as needed. A range
 * with no bars (e.g. older than what the server keeps) is TVK_ENODATA, not an empty success.
 * from < to required (TVK_EINVAL). */
int tvk_history_range(tvk_conn *c, const char *symbol, const char *interval, int64_t from,
                      int64_t to, const tvk_req_opts *opts, tvk_bars *out);

/* ---------------------------------------------------------------- series (async) */

typedef struct tvk_series tvk_series;

typedef struct tvk_series_req {
    const char *symbol;   /* "EXCHANGE:SYMBOL" */
    const char *interval; /* see tvk_interval_normalize */
    int64_t count;        /* history by count: the newest count bars (>= 1) */
    int64_t from, to;     /* history by range [from, to) when to > 0 (count is then ignored) */
    int live;             /* 1 = after the history, stream bar_update / bar_close events */
    tvk_req_opts opts;
    void *user; /* returned in every event of this series */
} tvk_series_req;
void tvk_series_req_init(tvk_series_req *r); /* zero, count = 300 */

typedef enum tvk_series_state {
    TVK_SERIES_LOADING = 0, /* history in progress */
    TVK_SERIES_READY,       /* history complete (and streaming when live) */
    TVK_SERIES_FAILED,      /* tvk_series_error() */
} tvk_series_state;

/* Creates a chart session for the series and sends its request; does not wait. Validation
 * errors (TVK_ESYMBOL, TVK_EINTERVAL, TVK_EINVAL) are returned here, with the message in
 * tvk_conn_errmsg. Connects first if the handle never connected. */
int tvk_series_open(tvk_conn *c, const tvk_series_req *r, tvk_series **out);
/* Deletes the chart session (when still connected) and frees the series; events of it still
 * queued are dropped. NULL is fine. Series (and quote sets) still open when tvk_conn_free runs
 * are freed by it: do not close them afterwards. */
void tvk_series_close(tvk_series *s);
/* Waits (processing everything else on the connection, whose events stay queued) until the
 * history is complete: 0, or the series' error. timeout_ms -1 = only the round-trip deadlines. */
int tvk_series_wait(tvk_series *s, int timeout_ms);

tvk_series_state tvk_series_get_state(const tvk_series *s);
int tvk_series_error(const tvk_series *s);
const char *tvk_series_errmsg(const tvk_series *s);
const char *tvk_series_symbol(const tvk_series *s);
const char *tvk_series_interval(const tvk_series *s); /* normalised, as sent */
const char *tvk_series_chart_session(const tvk_series *s);
void *tvk_series_user(const tvk_series *s);
/* The history (once READY: sorted, unique by time; while loading: as received); valid until the
 * next call on the connection. Live bars are not appended (memory stays flat on long streams). */
void tvk_series_bars(const tvk_series *s, const tvk_ohlcv **bars, size_t *n, int *ended);
/* Moves the history out into out (the series keeps streaming). */
int tvk_series_take_bars(tvk_series *s, tvk_bars *out);

/* ---------------------------------------------------------------- quotes */

typedef struct tvk_quotes tvk_quotes;

typedef struct tvk_quote_field {
    const char *name;
    const char *json; /* the value's JSON text as the server sent it (strings with quotes): */
    size_t json_len;  /* json_len bytes, not NUL-terminated (print with "%.*s") */
    double num;       /* numeric value, NaN if not a number or 1e+100 */
} tvk_quote_field;

typedef enum tvk_quote_status {
    TVK_QUOTE_PENDING = 0, /* added, nothing received yet */
    TVK_QUOTE_OK,
    TVK_QUOTE_ERROR, /* error/errmsg: e.g. TVK_ESYMBOL "no_such_symbol", TVK_ETIMEDOUT */
} tvk_quote_status;

/* The merged snapshot of one symbol: every field received so far, latest value each. */
typedef struct tvk_quote {
    const char *symbol; /* as added ("NASDAQ:AAPL") */
    tvk_quote_status status;
    int error;
    const char *errmsg;
    int complete;     /* quote_completed seen: the first full snapshot arrived */
    uint64_t updates; /* qsd packets merged */
    size_t nfields;
    const tvk_quote_field *fields; /* in order of first appearance */
} tvk_quote;

/* Creates a quote session (quote_create_session, quote_set_fields) on c; does not wait.
 * opts: adjustment/session/currency make each symbol be added as "="JSON; fields NULL = the
 * seed's 23 (tvk_quote_fields()). */
int tvk_quotes_open(tvk_conn *c, const tvk_req_opts *opts, const char *const *fields,
                    size_t nfields, void *user, tvk_quotes **out);
/* Adds symbols (quote_add_symbols, quote_fast_symbols). All are validated before anything is
 * sent (TVK_ESYMBOL names the first bad one); duplicates are ignored. A symbol the server
 * rejects becomes TVK_QUOTE_ERROR with an event; the others go on. */
int tvk_quotes_add(tvk_quotes *q, const char *const *symbols, size_t n);
int tvk_quotes_remove(tvk_quotes *q, const char *const *symbols, size_t n);
/* Deletes the quote session (when still connected) and frees; NULL is fine. */
void tvk_quotes_close(tvk_quotes *q);
size_t tvk_quotes_count(const tvk_quotes *q);
const tvk_quote *tvk_quotes_at(const tvk_quotes *q, size_t i);
const tvk_quote *tvk_quotes_get(const tvk_quotes *q, const char *symbol); /* NULL if absent */
const char *tvk_quotes_session(const tvk_quotes *q);
void *tvk_quotes_user(const tvk_quotes *q);

/* Field access on a snapshot: 0, or TVK_ENOTFOUND (field absent), TVK_ESHAPE (wrong type). */
int tvk_quote_number(const tvk_quote *q, const char *field, double *v);
int tvk_quote_string(const tvk_quote *q, const char *field, char *buf, size_t cap);
const tvk_quote_field *tvk_quote_field_get(const tvk_quote *q, const char *field);
/* Appends the snapshot as one JSON object (ASCII), no newline:
 * {"symbol":"NASDAQ:AAPL","status":"ok","lp":189.5,...fields...}
 * or {"symbol":"X:Y","status":"error","error":"no_such_symbol"}. */
int tvk_quote_to_json(const tvk_quote *q, tvk_buf *out);

/* ---------------------------------------------------------------- events */

typedef enum tvk_event_type {
    TVK_EV_NONE = 0,
    TVK_EV_HISTORY,    /* a series' history is complete: bars/nbars/ended */
    TVK_EV_BAR_UPDATE, /* the forming bar changed: bar */
    TVK_EV_BAR_CLOSE,  /* a bar finished (lbs.bar_close_time passed on the server's clock, or a
                          newer bar arrived): bar holds its final values; never twice per bar */
    TVK_EV_QUOTE,      /* a symbol's merged snapshot changed (status ok): quote */
    TVK_EV_ERROR,      /* a series failed (it is dead), or one quote symbol failed (the others
                          go on): error, errmsg, and series or quote */
    /* Connection events (tvk_conn_opts.reconnect; docs/RELIABILITY.md): */
    TVK_EV_DISCONNECTED, /* the connection was lost: error (net code), errmsg (where, why) */
    TVK_EV_RECONNECTING, /* attempt `attempt` starts in delay_ms; error/errmsg: why (the loss,
                            or the previous attempt's failure, e.g. TVK_EHTTP_429) */
    TVK_EV_RECONNECTED,  /* connected again and every series / quote set re-sent; live series
                            backfill the bars missed before their live updates resume. Also
                            after a watchdog resubscribe (attempt 0, errmsg says so). */
} tvk_event_type;

const char *tvk_event_type_name(tvk_event_type t); /* "history", "bar_update", ... */

/* Pointers are valid until the next call on the connection (or the close of the series or
 * quote set it belongs to). */
typedef struct tvk_event {
    tvk_event_type type;
    tvk_series *series; /* series events, else NULL */
    tvk_quotes *quotes; /* quote events, else NULL */
    void *user;         /* the series' or quote set's user pointer */
    const char *symbol;
    const char *interval;  /* series events */
    tvk_ohlcv bar;         /* BAR_UPDATE, BAR_CLOSE */
    const tvk_ohlcv *bars; /* HISTORY */
    size_t nbars;
    int ended;              /* HISTORY: the server's history ended first */
    const tvk_quote *quote; /* QUOTE, and ERROR of a quote symbol */
    int error;              /* ERROR: a TVK_E* code */
    const char *errmsg;     /* ERROR: what and where, with the server's text */
    int attempt;            /* RECONNECTING / RECONNECTED: attempt number (1, 2, ...) */
    int delay_ms;           /* RECONNECTING: backoff before this attempt */
} tvk_event;

/* Pull: 1 = *ev filled; 0 = no event within timeout_ms (0 = do not wait, -1 = forever);
 * < 0 = the connection failed (TVK_ECONN_LOST, TVK_EPROTOCOL, TVK_ESTATE), returned after the
 * ERROR events of every series and quote symbol it ended have been delivered. Deadlines of
 * pending requests are enforced while waiting (their ERROR events carry TVK_ETIMEDOUT).
 * Heartbeats are echoed. Events of several series and quote sets come interleaved, in order.
 * The queue holds at most opts.max_events events: when full, the socket is not read until events
 * are taken, and waits for something else (tvk_series_wait, tvk_history, tvk_conn_next) return
 * TVK_EBACKPRESSURE; bar events are never dropped, quote events are coalesced per symbol. With
 * opts.reconnect a lost connection gives DISCONNECTED / RECONNECTING / RECONNECTED events instead
 * of an error; the error comes only when reconnecting gives up (its cause: TVK_ETLS_VERIFY,
 * TVK_EHTTP_403, or TVK_ECONN_LOST after opts.reconnect_attempts). */
int tvk_conn_next_event(tvk_conn *c, tvk_event *ev, int timeout_ms);

/* Event-loop integration (instead of blocking in tvk_conn_next_event): watch tvk_conn_fd() for
 * tvk_conn_wants() (TVK_WANT_READ | TVK_WANT_WRITE), wake up by tvk_conn_deadline() (tvk_now_ms()
 * time, -1 = none: request deadlines and the WebSocket's timers), then call
 * tvk_conn_next_event(c, &ev, 0) until it returns 0. -1 / 0 when not connected. While
 * reconnecting they show the attempt in progress (its socket, its wants, its handshake deadline;
 * during the backoff -1, 0 and the attempt's start): the attempt never blocks a call. */
int tvk_conn_fd(const tvk_conn *c);
int tvk_conn_wants(const tvk_conn *c);
int64_t tvk_conn_deadline(const tvk_conn *c);

/* Callback: return non-zero to stop tvk_conn_run. */
typedef int (*tvk_event_fn)(void *user, const tvk_event *ev);
/* Delivers events to fn until timeout_ms passes (-1 = no limit), fn returns non-zero, or the
 * connection fails. Returns 0 on timeout, 1 when stopped by fn, or the error. */
int tvk_conn_run(tvk_conn *c, int timeout_ms, tvk_event_fn fn, void *user);

#ifdef __cplusplus
}
#endif
#endif
