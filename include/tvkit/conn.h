/* tvkit connection: the ConnectionService of tvkit v0.1.4 (../shared/seed/connection_service.md),
 * method for method, on one handle that also carries the high-level API of tvkit/ohlcv.h.
 *
 *   seed (Python)                      C
 *   ConnectionService(ws_url)          tvk_conn_new(ws_url)  (tvk_conn_new_opts: options)
 *   connect()                          tvk_conn_connect(c)
 *   close()                            tvk_conn_close(c)     (then tvk_conn_free(c))
 *   initialize_sessions(qs, cs, f)     tvk_conn_initialize_sessions(c, qs, cs, f, user)
 *   _get_quote_fields()                tvk_quote_fields()    (tvkit/wire.h)
 *   add_symbol_to_sessions(...)        tvk_conn_add_symbol_to_sessions(c, qs, cs, sym, tf, n,
 *                                                                      f, user)
 *   add_multiple_symbols_to_sessions   tvk_conn_add_multiple_symbols_to_sessions(c, qs, syms,
 *                                                                                n, f, user)
 *   get_data_stream()                  while ((rc = tvk_conn_next(c, &msg, ms)) > 0) ...
 *   send_message_func(method, params)  tvk_send_fn; default tvk_conn_send
 *
 * One handle is used from one thread; it starts no threads and keeps no global state. Every call
 * that waits takes (or inherits from the options) a deadline. Errors are negative TVK_E* codes
 * (tvkit/error.h) with a detail string from tvk_conn_errmsg(). */
#ifndef TVKIT_CONN_H
#define TVKIT_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "tvkit/error.h"
#include "tvkit/wire.h"
#include "tvkit/net.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TVK_DEFAULT_TOKEN "unauthorized_user_token"
#define TVK_TOKEN_ENV "TVKIT_AUTH_TOKEN"
#define TVK_DEFAULT_REQUEST_TIMEOUT_MS 30000
#define TVK_DEFAULT_MAX_BARS_PER_REQUEST 5000

typedef struct tvk_conn tvk_conn;

/* Log sink: one line without a trailing newline. */
typedef void (*tvk_log_fn)(void *user, const char *line);
/* Called with every WebSocket text message received, before it is parsed (for `tvkit record`).
 * data is valid only during the call. */
typedef void (*tvk_raw_fn)(void *user, const char *data, size_t len);

typedef struct tvk_conn_opts {
    const char *url;        /* default TVK_DEFAULT_URL */
    const char *token;      /* auth token; NULL = $TVKIT_AUTH_TOKEN, or "unauthorized_user_token" */
    const char *proxy;      /* "http://[user:pass@]host:port"; NULL = from the environment;
                               "" = never use a proxy */
    const char *ca_file;    /* PEM bundle; NULL = system trust store */
    int insecure;           /* 1 = skip TLS verification (a warning is logged) */
    int compress;           /* offer permessage-deflate; default 1 */
    int connect_timeout_ms; /* TCP + TLS + proxy + upgrade; default 10000 */
    int request_timeout_ms; /* deadline of each server round trip of a request (a history page,
                               a first quote snapshot); default 30000 */
    int ping_interval_ms;   /* RFC 6455 ping; default 20000 (seed), 0 = off */
    int ping_timeout_ms;    /* default 10000 (seed) */
    int close_timeout_ms;   /* default 10000 (seed) */
    size_t max_message;     /* largest WebSocket message accepted; default 32 MiB */
    int max_bars_per_request;  /* per-request cap used when paging; default 5000 */
    const tvk_header *headers; /* added to / overriding the default upgrade headers */
    size_t nheaders;
    tvk_log_fn log; /* NULL = stderr ("tvkit: " + line) */
    void *log_user;
    int trace;         /* 1 = log every message sent ("-> ...") and received ("<- ...") */
    tvk_raw_fn on_raw; /* NULL = none */
    void *raw_user;

    /* Reliability (docs/RELIABILITY.md). Reconnect is off by default (the seed does not
     * reconnect); `tvkit stream` and `tvkit quotes` turn it on. */
    int reconnect;              /* 1 = on connection loss reconnect with backoff, re-send auth,
                                   restore every series and quote set, backfill live bars */
    int reconnect_attempts;     /* failed attempts per outage before giving up; 0 = unlimited */
    int reconnect_delay_ms;     /* first backoff delay; default 1000; doubles per attempt */
    int reconnect_max_delay_ms; /* backoff ceiling; default 30000 (a 429's Retry-After wins) */
    int silence_timeout_ms;     /* nothing received (not even a ~h~ heartbeat) for this long:
                                   the connection is dead; default 60000, 0 = off */
    int data_timeout_ms;        /* watchdog: heartbeats arrive but no data on a subscribed live
                                   series or quote set for this long: resubscribe (then, if still
                                   nothing, reconnect); default 0 = off */
    size_t max_events;          /* event queue bound; default 65536 (see tvk_conn_next_event) */

    /* Memory. */
    int release_idle_buffers; /* 1 = once a message is consumed, free its text copy and JSON
                                 tokens when above 256 KiB (a 5,000-bar answer: ~0.5 MB), so
                                 idle connections hold little; worth it with an allocator that
                                 keeps freed memory (docs/API.md), else each big message faults
                                 its pages in again; default 0 */
} tvk_conn_opts;

/* Fills the defaults above. */
void tvk_conn_opts_init(tvk_conn_opts *o);

/* Seed constructor: ws_url (NULL = TVK_DEFAULT_URL), everything else default. NULL on ENOMEM.
 * Nothing is connected yet. The options' strings are copied. */
tvk_conn *tvk_conn_new(const char *ws_url);
tvk_conn *tvk_conn_new_opts(const tvk_conn_opts *o);
/* Closes (as tvk_conn_close) and frees, including every series and quote set still open. */
void tvk_conn_free(tvk_conn *c);

/* Connects (blocking, bounded by connect_timeout_ms) with the seed's settings: browser-like
 * headers with Origin https://www.tradingview.com, permessage-deflate, ping 20 s, ping/close
 * timeouts 10 s. TVK_ESTATE if already connected. On failure the net error code (TVK_ECONNECT,
 * TVK_EHTTP_403, TVK_ETIMEDOUT, ...) with tvk_conn_errmsg() saying where. */
int tvk_conn_connect(tvk_conn *c);
/* Closes the WebSocket (close handshake bounded by close_timeout_ms). Safe to call twice and on
 * a handle that never connected. Open series/quote sets fail with TVK_ECONN_LOST. */
int tvk_conn_close(tvk_conn *c);

typedef enum tvk_conn_state {
    TVK_CONN_IDLE = 0, /* never connected */
    TVK_CONN_CONNECTED,
    TVK_CONN_CLOSED,       /* closed by tvk_conn_close */
    TVK_CONN_LOST,         /* the connection failed or the server closed it: tvk_conn_error() */
    TVK_CONN_RECONNECTING, /* lost, and being restored (opts.reconnect): requests made now are
                              sent once the connection is back */
} tvk_conn_state;
tvk_conn_state tvk_conn_get_state(const tvk_conn *c);

/* The last error on this handle (0 if none) and its detail ("connect 127.0.0.1:1: connection
 * refused", "critical_error on cs_abc: invalid parameters (method: create_series ...)"). */
int tvk_conn_error(const tvk_conn *c);
const char *tvk_conn_errmsg(const tvk_conn *c);

/* The underlying WebSocket (NULL before connect), e.g. for tvk_ws_get_info() statistics; while
 * a reconnect attempt connects, the attempt's (its statistics start from zero). */
tvk_ws *tvk_conn_ws(tvk_conn *c);
/* The session id of the server's hello packet, "" until it arrived. */
const char *tvk_conn_server_session(const tvk_conn *c);

/* ---------------------------------------------------------------- seed methods */

/* The seed's injectable send function: sends {"m":method,"p":params_json} as one framed
 * WebSocket message. params_json is a JSON array text (ASCII). 0 or a negative TVK_E* code. */
typedef int (*tvk_send_fn)(void *user, const char *method, const char *params_json);

/* The default send function: user must be the tvk_conn *. TVK_ESTATE when not connected,
 * TVK_EBACKPRESSURE when the send queue is full. The message is queued and written while the
 * handle waits (tvk_conn_next, tvk_conn_flush, ...). */
int tvk_conn_send(void *conn, const char *method, const char *params_json);
/* Writes everything queued, within timeout_ms. */
int tvk_conn_flush(tvk_conn *c, int timeout_ms);

/* The six messages of initialize_sessions, in the seed's order:
 *   set_auth_token [token]  (the handle's token: "unauthorized_user_token" by default)
 *   set_locale ["en","US"]
 *   chart_create_session [chart_session,""]
 *   quote_create_session [quote_session]
 *   quote_set_fields [quote_session, <the 23 fields of tvk_quote_fields()>]
 *   quote_hibernate_all [quote_session]
 * send_fn NULL = tvk_conn_send with user = c. Stops at the first send error. */
int tvk_conn_initialize_sessions(tvk_conn *c, const char *quote_session, const char *chart_session,
                                 tvk_send_fn send_fn, void *user);

/* The seven operations of add_symbol_to_sessions (tvkit v0.1.4, byte-exact, PROTOCOL.md 5.4):
 * builds the symbol JSON {"adjustment": "splits", "symbol": S} (Python spacing), then sends
 *   quote_add_symbols [qs,"={...}"]
 *   resolve_symbol [cs,"sds_sym_1","={...}"]
 *   create_series [cs,"sds_1","s1","sds_sym_1",timeframe,bars_count,""]
 *   quote_fast_symbols [qs,S]
 *   create_study [cs,"st1","st1","sds_1","Volume@tv-basicstudies-246",
 *                 {"length":20,"col_prev_close":"false"}]
 *   quote_hibernate_all [qs]
 * exchange_symbol is checked with tvk_symbol_validate (TVK_ESYMBOL) and timeframe with
 * tvk_interval_normalize (TVK_EINTERVAL) before anything is sent; the timeframe is sent as given.
 * bars_count must be >= 1 (TVK_EINVAL). */
int tvk_conn_add_symbol_to_sessions(tvk_conn *c, const char *quote_session,
                                    const char *chart_session, const char *exchange_symbol,
                                    const char *timeframe, int64_t bars_count, tvk_send_fn send_fn,
                                    void *user);

/* add_multiple_symbols_to_sessions (tvkit v0.1.4): with F = {"adjustment": "splits",
 * "currency-id": "USD", "session": "regular", "symbol": symbols[0]} (Python spacing), sends
 *   quote_add_symbols [qs,"=F"]
 *   quote_fast_symbols [qs,"=F"]
 *   quote_add_symbols [qs,sym1,sym2,...]
 *   quote_fast_symbols [qs,sym1,sym2,...]
 * Every symbol is validated first (TVK_ESYMBOL names the bad one); n must be >= 1. */
int tvk_conn_add_multiple_symbols_to_sessions(tvk_conn *c, const char *quote_session,
                                              const char *const *symbols, size_t n,
                                              tvk_send_fn send_fn, void *user);

/* get_data_stream: the next parsed packet. Returns 1 with *msg filled (valid until the next
 * call on c), 0 when timeout_ms passed without one (0 = do not wait, -1 = wait forever), or a
 * negative code: TVK_ESTATE (never connected / closed), TVK_ECONN_LOST (connection lost; the
 * net code and where are in tvk_conn_errmsg), TVK_EPROTOCOL after a server protocol_error.
 * Every heartbeat, wherever it is in a WebSocket message, is echoed before the call returns and
 * is not yielded (as the seed). A packet that fails to parse is skipped and logged, as the seed
 * does; framing errors drop the rest of that WebSocket message. The hello packet is yielded
 * (type TVK_MSG_HELLO). Messages are also routed to the series and quote sets of tvkit/ohlcv.h,
 * so the two APIs can be mixed. */
int tvk_conn_next(tvk_conn *c, tvk_msg *msg, int timeout_ms);

/* Counters over the handle's life. */
typedef struct tvk_conn_stats {
    uint64_t messages_in;  /* WebSocket messages received */
    uint64_t packets_in;   /* packets parsed (heartbeats included) */
    uint64_t heartbeats;   /* heartbeats echoed */
    uint64_t parse_errors; /* packets / messages skipped because they did not parse */
    uint64_t messages_out; /* messages sent */
    uint64_t reconnects;   /* connections restored after a loss */
    uint64_t resubscribes; /* watchdog resubscriptions on a live connection */
    size_t buffer_bytes;   /* now: bytes held for parsing messages (the message's text copy
                              and its JSON tokens; see release_idle_buffers) */
} tvk_conn_stats;
void tvk_conn_get_stats(const tvk_conn *c, tvk_conn_stats *st);

/* ---------------------------------------------------------------- validation */

/* Checks an interval and writes the form sent to the server into out (cap >= 16):
 *   "1".."1440"      minutes, as is ("60", "240")
 *   "1S".."60S"      seconds, as is
 *   "1H".."168H"     hours, sent as minutes up to 24H ("4H" -> "240"; minutes stop at 1440,
 *                    so "48H" stays "48H")
 *   "1D".."365D", "1W".."52W", "1M".."12M", and bare "D", "W", "M" (sent as "1D", "1W", "1M")
 * Case-sensitive, as tvkit's validator. TVK_EINTERVAL with a message in err (may be NULL)
 * that names the input and says what is accepted. */
int tvk_interval_normalize(const char *interval, char *out, size_t cap, char *err, size_t errcap);
/* Nominal length in seconds of a normalised interval (months as 30 days), or a negative code. */
int64_t tvk_interval_seconds(const char *normalized);

/* Checks "EXCHANGE:SYMBOL": exchange of letters, digits and '_' (NASDAQ, CME_MINI), symbol of
 * letters, digits and . _ ! - / & (AAPL, BRK.B, NQ1!), 64 bytes at most. TVK_ESYMBOL with a
 * message in err (may be NULL) that names the input and says what is accepted. */
int tvk_symbol_validate(const char *symbol, char *err, size_t errcap);

#ifdef __cplusplus
}
#endif
#endif
