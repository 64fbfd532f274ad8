/* tvkit net layer: WebSocket over TCP or TLS, with the HTTP/1.1 upgrade, permessage-deflate,
 * ping/pong/close timers and an optional HTTP CONNECT proxy. It knows nothing of TradingView:
 * it delivers whole text messages up and sends text messages down.
 *
 * Event-loop agnostic: a tvk_ws exposes its fd, what it wants (read/write) and its next timer
 * deadline; the caller calls tvk_ws_on_readable / on_writable / on_timer. tvk_ws_poll() is a
 * built-in poll() driver for the blocking API. Sockets are non-blocking throughout; DNS
 * resolution (getaddrinfo) is blocking and happens inside tvk_ws_connect_start.
 *
 * All times are milliseconds on the monotonic clock (tvk_now_ms). */
#ifndef TVKIT_NET_H
#define TVKIT_NET_H

#include <stddef.h>
#include <stdint.h>

#include "tvkit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TVK_DEFAULT_URL "wss://data.tradingview.com/socket.io/websocket?from=chart%2F"

int64_t tvk_now_ms(void); /* CLOCK_MONOTONIC in ms */

typedef struct tvk_header {
    const char *name;
    const char *value; /* NULL removes a default header of that name */
} tvk_header;

typedef struct tvk_ws tvk_ws;

/* Called once per complete text message (after inflate). data is valid only during the call. */
typedef void (*tvk_ws_message_fn)(void *user, const char *data, size_t len);

typedef struct tvk_ws_opts {
    const char *url;             /* ws:// or wss://host[:port]/path[?query]; IPv6 as [::1] */
    int connect_timeout_ms;      /* TCP + TLS + proxy + upgrade; default 10000 */
    int ping_interval_ms;        /* RFC 6455 ping period; default 20000; 0 = off */
    int ping_timeout_ms;         /* no pong within this -> TVK_EPING_TIMEOUT; default 10000 */
    int close_timeout_ms;        /* close handshake deadline; default 10000 */
    int compress;                /* offer permessage-deflate; default 1 */
    size_t max_message;          /* after inflate; default 32 MiB */
    size_t max_header;           /* HTTP response header block; default 16 KiB */
    const char *ca_file;         /* PEM bundle; NULL = system trust store */
    int insecure;                /* 1 = skip certificate and host verification (warns); default 0 */
    const char *proxy;           /* "http://[user:pass@]host:port"; NULL = from https_proxy /
                                    HTTPS_PROXY / no_proxy; "" = never use a proxy */
    const tvk_header *headers;   /* overrides / additions to the default headers */
    size_t nheaders;
    tvk_ws_message_fn on_message; /* NULL: messages queue up for tvk_ws_recv */
    void *user;
    /* Log sink for warnings (e.g. insecure mode); NULL = stderr. */
    void (*log)(void *user, const char *line);
    /* Receive flow control; default 256 KiB (0 = default). Queue mode: the socket is not read
     * while this many bytes of complete messages wait for tvk_ws_recv, so a fast server is
     * held back by TCP instead of growing our memory. Callback mode: one on_readable call
     * takes at most about this many bytes from the socket, then returns. */
    size_t max_queued;
} tvk_ws_opts;

void tvk_ws_opts_init(tvk_ws_opts *o); /* fills the defaults above; url = TVK_DEFAULT_URL */

/* Default upgrade headers (Origin https://www.tradingview.com, Chrome User-Agent,
 * Accept-Encoding gzip, deflate, br, zstd, Accept-Language, Cache-Control, Pragma). */
const tvk_header *tvk_ws_default_headers(size_t *n);

typedef enum tvk_ws_state {
    TVK_WS_IDLE = 0,
    TVK_WS_CONNECTING, /* TCP / proxy / TLS / upgrade in progress */
    TVK_WS_OPEN,
    TVK_WS_CLOSING,
    TVK_WS_CLOSED, /* cleanly or not: see tvk_ws_error */
} tvk_ws_state;

enum { TVK_WANT_READ = 1, TVK_WANT_WRITE = 2 };

/* Copies everything it needs from o. NULL on ENOMEM. */
tvk_ws *tvk_ws_new(const tvk_ws_opts *o);
void tvk_ws_free(tvk_ws *ws); /* closes the socket without a handshake if still open */

/* Non-blocking start: parses the URL, resolves, starts the TCP connect. */
int tvk_ws_connect_start(tvk_ws *ws);
/* Blocking connect using the built-in poll driver: returns 0 once OPEN, or the error. */
int tvk_ws_connect(tvk_ws *ws);

int tvk_ws_fd(const tvk_ws *ws);             /* -1 when there is no socket */
int tvk_ws_wants(const tvk_ws *ws);          /* TVK_WANT_READ | TVK_WANT_WRITE */
int64_t tvk_ws_deadline(const tvk_ws *ws);   /* next timer in tvk_now_ms() time, or -1 */
int tvk_ws_on_readable(tvk_ws *ws);
int tvk_ws_on_writable(tvk_ws *ws);
int tvk_ws_on_timer(tvk_ws *ws, int64_t now_ms);
/* Built-in driver: waits up to timeout_ms (-1 = until the next own deadline) for the socket,
 * then runs the handlers. Returns 0, or the connection's error once it has failed. */
int tvk_ws_poll(tvk_ws *ws, int timeout_ms);

tvk_ws_state tvk_ws_get_state(const tvk_ws *ws);

/* Queues a text message (compressed when negotiated). Bounded: fails with TVK_EBACKPRESSURE when
 * more than max_message bytes are waiting to be written. */
int tvk_ws_send_text(tvk_ws *ws, const char *data, size_t len);
/* One piece of a text message for tvk_ws_send_parts. deflated, when not NULL, is the same text
 * compressed once as a raw deflate stream (RFC 1951) from an empty window of window_bits
 * (9..15), ending in a sync flush (00 00 ff ff), never a final block: tvk_ws_deflate_part makes
 * it. It is sent as is when permessage-deflate allows (window_bits <= the peer's window for our
 * side, len >= the smaller of 32 KiB and our compressor's window); otherwise the text is
 * compressed as usual. Either way the peer receives the same text. */
typedef struct tvk_ws_part {
    const char *text;
    size_t len;
    const unsigned char *deflated;
    size_t deflated_len;
    int window_bits;
} tvk_ws_part;

/* Queues one text message made of the parts in order, as tvk_ws_send_text would send their
 * joined text (same limits: the total plain length counts), reusing their pre-compressed forms
 * where it can: a large text deflated once can then go to many connections for a copy. */
int tvk_ws_send_parts(tvk_ws *ws, const tvk_ws_part *parts, size_t n);
/* Makes a part's pre-compressed form: raw deflate of text at level (0..9, -1 = zlib's default)
 * from an empty window of window_bits (9..15), ended by a sync flush. *out is malloc'd.
 * 0, TVK_EINVAL or TVK_ENOMEM. */
int tvk_ws_deflate_part(const char *text, size_t len, int level, int window_bits,
                        unsigned char **out, size_t *outlen);
/* Bytes queued but not yet written to the socket. */
size_t tvk_ws_pending(const tvk_ws *ws);
/* Blocking: write everything queued, within timeout_ms. */
int tvk_ws_flush(tvk_ws *ws, int timeout_ms);

/* Queue mode (on_message == NULL): 1 = *data and *len hold the oldest message (valid until the
 * next call on ws), 0 = none yet (timeout_ms 0) / timeout, < 0 = connection error. */
int tvk_ws_recv(tvk_ws *ws, const char **data, size_t *len, int timeout_ms);

/* Starts the close handshake (code 1000); tvk_ws_poll until CLOSED, bounded by the close
 * timeout. Safe to call in any state, and twice. */
int tvk_ws_close(tvk_ws *ws);
/* Non-blocking close for event loops (and tvkit-sim): queues a close frame with this code (0 =
 * 1000) and reason (NULL or up to 123 bytes), state CLOSING; drive the fd / timers until CLOSED.
 * In IDLE or CONNECTING it drops the socket at once. */
int tvk_ws_close_start(tvk_ws *ws, int code, const char *reason);

/* The error that ended the connection (0 while healthy) and a message that says what and
 * where ("TLS: certificate verify failed: self-signed certificate"). */
int tvk_ws_error(const tvk_ws *ws);
const char *tvk_ws_errmsg(const tvk_ws *ws);

typedef struct tvk_ws_info {
    int http_status;         /* status of the upgrade response (101 on success) */
    char http_reason[64];
    int retry_after_s;       /* Retry-After in seconds when present, else -1 */
    int deflate;             /* permessage-deflate negotiated */
    int server_no_context_takeover, client_no_context_takeover;
    int server_max_window_bits, client_max_window_bits;
    int close_code;          /* from the peer's close frame, or 0 */
    uint64_t bytes_in, bytes_out, messages_in, messages_out;
    int via_proxy;
    int tls;
    uint64_t messages_in_deflated; /* of messages_in, how many arrived compressed (RSV1) */
    /* Receive side memory: bytes of complete messages waiting for tvk_ws_recv now and at
     * most so far, and the largest size the receive buffer has had. */
    size_t rx_queued, rx_queued_peak, rx_buffer_peak;
    uint64_t messages_dropped; /* data messages that ended after we sent a close (not queued:
                                  reading goes on only to find the peer's close reply) */
    uint64_t parts_spliced;    /* pre-compressed parts (tvk_ws_send_parts) sent as they were */
} tvk_ws_info;
void tvk_ws_get_info(const tvk_ws *ws, tvk_ws_info *info);

/* ---------------------------------------------------------------- server role (tvkit-sim) */

typedef struct tvk_http_request {
    const char *method, *path; /* path includes the query */
    const tvk_header *headers;
    size_t nheaders;
} tvk_http_request;

/* Decides on an upgrade request: return 101 to accept, or an HTTP status to reject (403, 429,
 * ...). *retry_after_s (initially -1) adds a Retry-After header when >= 0. */
typedef int (*tvk_ws_upgrade_fn)(void *user, const tvk_http_request *req, int *retry_after_s);

typedef struct tvk_ws_server_opts {
    int compress;              /* accept permessage-deflate offers; default 1 */
    size_t compress_threshold; /* send messages shorter than this uncompressed; default 1024 */
    size_t max_message;        /* default 32 MiB */
    size_t max_header;         /* request header block; default 16 KiB */
    int handshake_timeout_ms;  /* default 10000 */
    int ping_interval_ms;      /* default 0 (off) */
    int ping_timeout_ms;
    int close_timeout_ms;      /* default 10000 */
    void *ssl_ctx;             /* an SSL_CTX * for wss, or NULL for plain ws */
    tvk_ws_upgrade_fn on_upgrade; /* NULL = accept everything */
    tvk_ws_message_fn on_message;
    void *user;
    size_t max_queued; /* as for the client; default 256 KiB */
    /* zlib level (1..9) for the messages this side compresses; 0 = zlib's default (6). A
     * test server sending large answers may trade size for speed: 1 deflates ~5x faster. */
    int compress_level;
} tvk_ws_server_opts;

void tvk_ws_server_opts_init(tvk_ws_server_opts *o);
/* Takes ownership of an accepted socket; the handshake then runs through the same
 * fd / wants / on_readable / on_writable / on_timer entry points. */
tvk_ws *tvk_ws_accept(int fd, const tvk_ws_server_opts *o);
/* Creates an SSL_CTX for the server role from PEM files (returned as void *). */
void *tvk_ws_server_tls_ctx(const char *cert_file, const char *key_file, char *err, size_t errcap);
void tvk_ws_server_tls_ctx_free(void *ctx);
/* Drops the connection without a close handshake (fault injection). */
void tvk_ws_abort(tvk_ws *ws);

#ifdef __cplusplus
}
#endif
#endif
