/* Client-layer internals shared between its files (not installed). */
#ifndef TVK_CLIENT_INTERNAL_H
#define TVK_CLIENT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tvkit/conn.h"
#include "tvkit/ohlcv.h"
#include "wire/bytes.h"

#define TVK_ERRMSG_CAP 512
#define TVK_SESSION_ID_CAP 32

/* The fixed ids every series uses inside its own chart session (as tvkit does). */
#define TVK_SERIES_ID "sds_1"
#define TVK_SYMREF "sds_sym_1"
#define TVK_TURNAROUND "s1"

/* s holds exactly the text z (routing by session id, comparing fields to known values). */
static inline int tvk__str_is_n(tvk_str s, const char *z, size_t n)
{
    return s.len == n && tvk__eq_small(s.p, z, n);
}

static inline int tvk__str_is(tvk_str s, const char *z)
{
    return tvk__str_is_n(s, z, strlen(z));
}

/* A queued event. The pointers to snapshot data are resolved when it is popped, so a quote event
 * always shows the latest merged snapshot (per-symbol coalescing). */
typedef struct tvk_evq_item {
    tvk_event ev;
    struct tvk_quote_entry *qe; /* QUOTE / quote ERROR */
    char *msg; /* owned copy of ev.errmsg (a quote ERROR: the entry's text changes later) */
} tvk_evq_item;

/* Owned copy of the strings of a tvk_req_opts (kept to restore sessions after a reconnect). */
typedef struct tvk_req_copy {
    tvk_req_opts o; /* string members point at the owned copies below */
    char *currency, *backadjustment, *token;
} tvk_req_copy;

/* Series life: what the history assembler waits for next. */
typedef enum tvk_series_phase {
    TVK_PH_CREATE = 0, /* waiting for the create_series answer */
    TVK_PH_MODIFY,     /* range mode: waiting for the modify_series answer */
    TVK_PH_PAGING,     /* waiting for a request_more_data answer */
    TVK_PH_BACKFILL,   /* live series after a reconnect: collecting the bars missed */
    TVK_PH_DONE,       /* history complete (live streaming, or idle) */
} tvk_series_phase;

struct tvk_series {
    tvk_conn *c;
    struct tvk_series *next; /* in c->series */
    char *symbol;
    char interval[16];
    int64_t count, from, to;
    int live;
    tvk_req_copy req;
    void *user;
    char cs[TVK_SESSION_ID_CAP];
    size_t cs_len; /* strlen(cs): every du / timescale_update packet is routed by it */

    tvk_series_state state;
    tvk_series_phase phase;
    int err;
    char errmsg[TVK_ERRMSG_CAP];
    int64_t deadline; /* monotonic ms of the pending round trip, 0 = none */

    /* history */
    tvk_ohlcv *bars;
    size_t n, cap;
    size_t n_page_start; /* unique bars before the pending page */
    int ended, pages;
    size_t reported;             /* bars last reported to the progress callback (never decreases) */
    int64_t last_bar_close_time; /* lbs.bar_close_time of the last update */

    /* live */
    int have_forming;
    tvk_ohlcv forming;
    int64_t forming_close; /* lbs.bar_close_time of the forming bar, 0 unknown */
    int64_t last_closed;   /* time of the newest closed bar, INT64_MIN none */
    int64_t server_t;      /* "t" of this series' last message that carried one */

    /* reconnect */
    int detached;  /* its chart session does not exist on the current connection */
    int resumed;   /* history resumed after a loss: a live series backfills when done */
    tvk_ohlcv *bf; /* backfill: bars since the last one delivered, collected then delivered */
    size_t nbf, capbf;
    int64_t bf_from; /* the oldest bar time the backfill must reach */
    int bf_pages;
    size_t restore_n; /* bars held at the last restore; stalled: restores since without more */
    int stalled;
};

/* A field of a snapshot. Its text is in the entry's body: the escaped ',"name":' prefix, then the
 * value's JSON text (ASCII: string values with non-ASCII bytes are stored \u-escaped); the
 * public json (tvk_quote_field) points at the value there. */
typedef struct tvk_qfield {
    char *name;
    size_t name_len;
    size_t prefix_len; /* of ,"name": in the body, before the value (tvk_quote_field.json) */
    uint32_t next;     /* the field that followed this one in the last delta (lookup guess) */
    int verbatim;      /* the prefix holds the raw name as is: names are compared there */
} tvk_qfield;

typedef struct tvk_quote_entry {
    tvk_quote pub;
    struct tvk_quotes *q;
    char *symbol; /* as the user gave it */
    char *key;    /* as sent in quote_add_symbols (plain, or "="JSON) */
    char *nkey;   /* key without whitespace outside strings: what the server echoes in "n" */
    size_t symbol_len, nkey_len;
    char *head; /* {"symbol":"..." : the start of every tvk_quote_to_json */
    size_t head_len;
    tvk_qfield *f;
    tvk_quote_field *pf; /* the public view of f */
    size_t nf, capf;
    char *body; /* every field's ,"name":value in order: the values' only copy (quotes.c) */
    size_t body_len, body_cap;
    /* Field lookup guesses: deltas of one symbol tend to repeat the same fields in the same
     * order, so each field remembers the one that followed it (tvk_qfield.next). */
    uint32_t hint, first_hint; /* guess for the next field; the first of the last delta */
    int32_t prev;              /* field matched last in the current delta, -1 none */
    int queued;                /* a QUOTE event for it is in the queue */
    unsigned dropped_logged;   /* why fields were dropped, logged once each (quotes.c) */
    int64_t deadline;          /* first snapshot deadline, 0 = none */
    char errmsg[TVK_ERRMSG_CAP];
} tvk_quote_entry;

struct tvk_quotes {
    tvk_conn *c;
    struct tvk_quotes *next;
    char qs[TVK_SESSION_ID_CAP];
    size_t qs_len; /* strlen(qs): every qsd packet is routed by it */
    tvk_req_copy req;
    char **fields; /* NULL = the seed's */
    size_t nfields;
    void *user;
    tvk_quote_entry **e;
    size_t ne, cape;
    int maybe_pending; /* some symbol may still wait for its first snapshot */
    /* open-addressing index over e by nkey and by symbol */
    int32_t *slots;
    size_t nslots;
};

/* Test hook: outgoing WebSocket messages go here instead of the socket. */
typedef int (*tvk_conn_send_hook)(void *user, const char *data, size_t len);

struct tvk_conn {
    tvk_conn_opts o; /* string members point at owned copies */
    char *url, *token, *proxy, *ca_file;
    tvk_header *headers;
    tvk_ws *ws;
    tvk_conn_state state;
    int err;
    char errmsg[TVK_ERRMSG_CAP];
    char server_session[128];

    tvk_reader *reader;
    tvk_buf in;       /* copy of the WebSocket message being read */
    int in_message;   /* the reader has packets left */
    tvk_buf out;      /* scratch: a framed outgoing message */
    tvk_buf params;   /* scratch: params JSON */
    char *sent_token; /* the token last sent with set_auth_token, NULL none */
    tvk_conn_stats stats;
    int fatal; /* protocol_error: every request fails with this */

    struct tvk_series *series;
    struct tvk_quotes *quotes;

    tvk_evq_item *evq;
    size_t evhead, evlen, evcap;
    char *ev_taken_msg; /* the msg of the event taken last: valid until the next is taken */

    tvk_conn_send_hook send_hook;
    void *send_hook_user;

    /* reliability (reconnect.c) */
    int lost_code;      /* state LOST: what waiting calls return (TVK_ECONN_LOST, or why the
                           reconnect gave up: TVK_ETLS_VERIFY, TVK_EHTTP_403, ...) */
    int attempt;        /* failed attempts in the current outage */
    int64_t retry_at;   /* monotonic ms of the next attempt while RECONNECTING */
    int retry_after_ms; /* the last 429's Retry-After, -1 none */
    int64_t last_rx;    /* monotonic ms of the last message received */
    int64_t last_data;  /* monotonic ms of the last data for a live series or quote set */
    int watchdog_fired; /* resubscribed once without data since */
    uint64_t rng;       /* jitter */
    char ev_msg[3][TVK_ERRMSG_CAP]; /* texts of the DISCONNECTED/RECONNECTING/RECONNECTED events */
};

/* conn.c */
void tvk__conn_set_err(tvk_conn *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void tvk__conn_log(tvk_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sends one whole WebSocket text message (already framed). */
int tvk__conn_send_raw(tvk_conn *c, const char *data, size_t len);
/* Frames {"m":method,"p":params} and sends it. */
int tvk__conn_send_msg(tvk_conn *c, const char *method, const char *params_json);
/* Sends c->out (built with the wire builders) and resets it. */
int tvk__conn_send_out(tvk_conn *c);
/* Connects when never connected, and sends set_auth_token when token (NULL = the handle's)
 * differs from the last one sent. */
int tvk__conn_ready(tvk_conn *c, const char *token);
int tvk__conn_timeout(const tvk_conn *c, const tvk_req_opts *o);
/* Processes one whole WebSocket message as if received: heartbeats echoed, packets routed
 * (tests feed server messages built from strings through this). */
/* The current message is done with (consumed, dropped, or its connection gone): no more
 * packets from it, and with release_idle_buffers its big buffers are given back. */
void tvk__conn_drop_message(tvk_conn *c);
int tvk__conn_feed(tvk_conn *c, const char *data, size_t len);
/* The same with every packet tokenized (the path of tvk_conn_next), for comparing the paths. */
int tvk__conn_feed_tokens(tvk_conn *c, const char *data, size_t len);
/* Reads and routes one packet; waits until deadline (monotonic ms; -1 = forever). 1 = a packet
 * (in *msg); 0 = deadline passed, or a request deadline failed something, or
 * (TVK__PUMP_STOP_ON_EVENT) events are queued; < 0 = error. Without TVK__PUMP_RAW plain qsd
 * packets go to the quote book without tokens (tvk_reader_next_fast) and *msg then has no
 * json: only tvk_conn_next, which hands *msg to the user, needs every packet tokenized. */
#define TVK__PUMP_STOP_ON_EVENT 1
#define TVK__PUMP_RAW 2
int tvk__conn_pump(tvk_conn *c, tvk_msg *msg, int64_t deadline, int flags);
/* Routes the next packet of what has been received already, without reading the socket or the
 * clock: 1 = a packet (in *msg), 0 = none buffered. */
int tvk__conn_next_buffered(tvk_conn *c, tvk_msg *msg);
/* Fails every request of the handle with code (connection lost, protocol_error, ...). */
void tvk__conn_fail_all(tvk_conn *c, int code, const char *why);
void tvk__conn_set_send_hook(tvk_conn *c, tvk_conn_send_hook fn, void *user);
/* Runs request deadlines against now (monotonic ms); returns the earliest one still pending,
 * or -1. */
int64_t tvk__conn_check_deadlines(tvk_conn *c, int64_t now);

/* reconnect.c */
/* 1 when the handle is a test handle (send hook, no socket). */
int tvk__conn_is_test(const tvk_conn *c);
/* The connection failed with code rc (detail: where): reconnect when enabled and rc allows it
 * (1), else 0 (the caller fails everything). */
int tvk__reconn_lost(tvk_conn *c, int rc, const char *detail);
/* While RECONNECTING: waits for the next attempt and starts it, or advances the attempt in
 * progress, until deadline (-1 = no limit; the attempt's connect is not blocking: it goes on at
 * the next call). 1 = progress (events may be queued: the attempt failed or succeeded), 0 =
 * deadline passed (backoff or the attempt still under way), < 0 = gave up (state LOST). */
int tvk__reconn_step(tvk_conn *c, int64_t deadline);
/* Timers of the connection (silence, watchdog): their next time into *wake; with act, the
 * ones due fire: 1 = something was done (reconnect, resubscribe), else 0. */
int tvk__reconn_timers(tvk_conn *c, int64_t now, int64_t *wake, int act);
/* Opens the WebSocket (c->ws), blocking up to connect_timeout_ms; on failure c->ws is NULL,
 * errmsg says where and a 429's Retry-After is kept. */
int tvk__conn_open(tvk_conn *c);
/* The same in steps: _start begins the connect (0, or the failure as above); _poll advances it
 * until deadline (monotonic ms, -1 = until it ends; one round even when already passed): 0 =
 * still connecting, 1 = open (state CONNECTED, per-connection state reset), < 0 = failed. */
int tvk__conn_open_start(tvk_conn *c);
int tvk__conn_open_poll(tvk_conn *c, int64_t deadline);
/* 1 while a connect begun by tvk__conn_open_start is under way (c->ws is CONNECTING). */
int tvk__conn_connecting(const tvk_conn *c);
/* A live series or quote set is subscribed (the watchdog applies). */
int tvk__conn_subscribed(const tvk_conn *c);

/* events.c */
/* 1 when the queue is at its bound: stop reading until the user takes events. */
int tvk__ev_full(const tvk_conn *c);
/* Queues a copy of ev, with its own copy of ev->errmsg (valid until the next event is taken). */
int tvk__ev_push(tvk_conn *c, const tvk_event *ev, tvk_quote_entry *qe);
/* Queues a QUOTE or ERROR event of quote entry qe (busy streams queue one per packet): 0, also
 * when a QUOTE of qe is already queued (coalesced: it shows the latest snapshot), or
 * TVK_ENOMEM (then qe->queued stays 0). */
int tvk__ev_push_quote(tvk_conn *c, tvk_quote_entry *qe, tvk_event_type type);
int tvk__ev_pop(tvk_conn *c, tvk_event *ev);
void tvk__ev_drop_series(tvk_conn *c, const tvk_series *s);
void tvk__ev_drop_quote(tvk_conn *c, const tvk_quote_entry *qe);
void tvk__ev_drop_quotes(tvk_conn *c, const tvk_quotes *q);
/* Frees the queue and the texts its items and the last taken event own. */
void tvk__ev_free(tvk_conn *c);

/* series.c */
void tvk__series_on_msg(tvk_series *s, const tvk_msg *m);
/* A timescale_update / du that tvk_reader_next_lazy left untokenized (m->json NULL): read with
 * tvk_series_plain_parse. 1 = handled, exactly as tvk__series_on_msg would have; 0 = the series
 * is as it was (bars already appended are taken back; another layout, or the series failed):
 * tokenize it and use tvk__series_on_msg. */
int tvk__series_on_plain(tvk_series *s, const tvk_msg *m);
void tvk__series_fail(tvk_series *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Returns the deadline still pending, or -1. */
int64_t tvk__series_check_deadline(tvk_series *s, int64_t now);
void tvk__series_free(tvk_series *s);
/* Re-sends the series on a new connection (or, resub, after deleting its chart session):
 * history resumes where it stopped, a live series backfills. */
void tvk__series_restore(tvk_series *s, int resub);

/* quotes.c */
void tvk__quotes_on_msg(tvk_quotes *q, const tvk_msg *m);
/* A plain qsd packet read without tokens (the same effect as the QSD message through
 * tvk__quotes_on_msg). */
void tvk__quotes_on_plain(tvk_quotes *q, const tvk_qsd_plain *p);
/* Fails the symbols still waiting for a first snapshot (all = every symbol not failed yet). */
void tvk__quotes_fail(tvk_quotes *q, int code, const char *why, int all);
/* quote_add_symbols then quote_fast_symbols for keys (as sent: plain or "="JSON). */
int tvk__quotes_send_add(tvk_quotes *q, const char *const *keys, size_t nk);
/* Returns the earliest pending deadline, or -1. */
int64_t tvk__quotes_check_deadlines(tvk_quotes *q, int64_t now);
void tvk__quotes_free(tvk_quotes *q);

/* reqopts.c */
int tvk__req_copy(tvk_req_copy *dst, const tvk_req_opts *src);
void tvk__req_free(tvk_req_copy *r);
/* Fills a symbol spec from the request options (tvkit_spacing 0). */
void tvk__req_spec(const tvk_req_opts *o, const char *symbol, tvk_symbol_spec *spec);
/* 1 when the options need the "="JSON symbol form (anything but plain splits). */
int tvk__req_needs_spec(const tvk_req_opts *o);
/* Copies s without JSON whitespace outside strings (the server echoes "="JSON keys compactly). */
char *tvk__compact_json(const char *s, size_t n);

char *tvk__strdup(const char *s);
char *tvk__strndup(const char *s, size_t n);

#endif
