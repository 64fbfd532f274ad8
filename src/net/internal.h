/* Private to src/net: the tvk_ws handle and the helpers its files share. */
#ifndef TVK_NET_INTERNAL_H
#define TVK_NET_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>
#include <wslay/wslay.h>
#include <zlib.h>

#include "tvkit/net.h"

#define TVK_WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define TVK_OBUF_CAP (64 * 1024)   /* socket-side write buffer: wslay output lands here */
#define TVK_FLUSH_AT (16 * 1024)   /* send_text writes at once only from this much queued */
#define TVK_IBUF_CAP (64 * 1024)   /* socket-side read buffer: wslay asks for 4 KiB at a time */
#define TVK_TLS_IN_CAP (64 * 1024) /* what one recv reads for OpenSSL (io.c bio_read) */
#define TVK_TLS_IN_CAP_SERVER (17 * 1024) /* a server's clients send little: one record */
#define TVK_RX_MIN (16 * 1024)            /* first size of the receive buffer */
#define TVK_RX_KEEP (512u << 10)          /* a larger receive buffer is freed once it is empty */
#define TVK_DEFAULT_MAX_QUEUED (256u << 10)

/* A parsed ws://, wss:// or http:// (proxy) URL. */
typedef struct tvk_net_url {
    int tls;
    char host[256]; /* without the brackets of an IPv6 literal */
    int port;
    int port_given;
    int ipv6;
    char *path; /* malloc'd, starts with '/', includes the query */
    char user[128], pass[128];
    int has_auth;
} tvk_net_url;

int tvk_net_url_parse(const char *s, int proxy, tvk_net_url *u, char *err, size_t errcap);
void tvk_net_url_free(tvk_net_url *u);
/* "host:port" with brackets for IPv6 */
void tvk_net_url_hostport(const tvk_net_url *u, int always_port, char *out, size_t cap);

/* permessage-deflate (RFC 7692) parameters and streams. */
typedef struct tvk_pmd {
    int on;
    int server_no_ctx, client_no_ctx;
    int server_bits, client_bits; /* 8..15; 15 when not given */
    int deflate_ready, inflate_ready;
    int inflate_done; /* the peer's final block ended this message's stream: the rest is ignored */
    int level;        /* deflate level; 0 = Z_DEFAULT_COMPRESSION */
    int def_bits;     /* window of our live compressor (may be below what was negotiated) */
    z_stream def, inf;
} tvk_pmd;

/* Client: checks a Sec-WebSocket-Extensions response value against our offer. */
int tvk_pmd_parse_response(tvk_pmd *p, const char *value, char *err, size_t errcap);
/* Server: picks the first acceptable offer from a request value; writes the response value. */
int tvk_pmd_accept_offer(tvk_pmd *p, const char *value, char *resp, size_t respcap);
/* Compresses one message into *out (malloc'd); strips the 00 00 ff ff tail. */
int tvk_pmd_compress(tvk_pmd *p, int server, const char *in, size_t len, unsigned char **out,
                     size_t *outlen);
/* Compresses one message made of parts, splicing their pre-compressed forms where allowed
 * (*spliced counts them); strips the tail as tvk_pmd_compress does. */
int tvk_pmd_compress_parts(tvk_pmd *p, int server, const tvk_ws_part *parts, size_t n,
                           unsigned char **out, size_t *outlen, size_t *spliced);
/* Opens the inflater for a new message. */
int tvk_pmd_inflate_begin(tvk_pmd *p);
/* Inflates a chunk straight into the message being assembled (tvk_rx_room);
 * TVK_EMSG_TOOBIG past max_message. */
int tvk_pmd_inflate(tvk_ws *ws, const unsigned char *in, size_t len, char *err, size_t errcap);
int tvk_pmd_inflate_end(tvk_ws *ws, char *err, size_t errcap);
void tvk_pmd_free(tvk_pmd *p);

/* Receive buffer (rx.c): waiting messages, then the one being assembled. */
/* Free space after the message being assembled: at least min(want, what max_message still
 * allows) bytes, and never more than one byte past max_message. */
int tvk_rx_room(tvk_ws *ws, size_t want, char **dst, size_t *room);
int tvk_rx_append(tvk_ws *ws, const void *data, size_t len); /* TVK_EMSG_TOOBIG, TVK_ENOMEM */
char *tvk_rx_msg(tvk_ws *ws);                                /* the message being assembled */
/* Completes it: on_message is called, or it joins the queue. */
int tvk_rx_finish(tvk_ws *ws);
/* Drops the message being assembled. */
void tvk_rx_discard(tvk_ws *ws);
/* Queue mode: 1 with the oldest message (valid until the next tvk_rx_pop), or 0. */
int tvk_rx_pop(tvk_ws *ws, const char **data, size_t *len);
size_t tvk_rx_queued(const tvk_ws *ws); /* bytes of complete messages not yet handed out */
void tvk_rx_free(tvk_ws *ws);

/* Offset of the first byte that is not valid UTF-8 (RFC 3629), or len when all is valid. */
size_t tvk_net_utf8_check(const unsigned char *s, size_t len);

/* hash.c: SHA-1, base64 and getrandom, so ws:// never initialises OpenSSL */
void tvk_net_sha1(const void *data, size_t len, unsigned char out[20]);
int tvk_net_b64(const unsigned char *in, size_t len, char *out, size_t cap); /* length or -1 */
int tvk_net_random(void *buf, size_t len);                                   /* 0 or TVK_EIO */

/* HTTP helpers */
void tvk_ws_accept_key(const char *key, char out[32]);
int tvk_net_headers_valid(const tvk_header *h, size_t n);
int tvk_net_hdr_token(const char *value, const char *token); /* comma list contains token */
/* Finds the end of an HTTP header block: offset past "\r\n\r\n", or 0. */
size_t tvk_net_http_end(const char *buf, size_t len);
/* Iterates header lines: returns 1 with name/value (NUL-terminated in place), 0 at the end. */
int tvk_net_http_next_header(char **cursor, char **name, char **value);

enum tvk_phase {
    PH_NONE = 0,
    PH_TCP,         /* non-blocking connect in progress */
    PH_PROXY_SEND,  /* CONNECT request being written */
    PH_PROXY_RECV,  /* reading the proxy's answer */
    PH_TLS,         /* TLS handshake (client or server) */
    PH_UPG_SEND,    /* client: upgrade request being written */
    PH_UPG_RECV,    /* client: reading the 101 */
    PH_REQ_RECV,    /* server: reading the upgrade request */
    PH_RESP_SEND,   /* server: writing 101 (then OPEN) */
    PH_REJECT_SEND, /* server: writing a rejection (then CLOSED) */
    PH_OPEN,
    PH_DONE,
};

struct tvk_ws {
    int server;
    tvk_ws_state state;
    int phase;
    int fd;

    /* configuration (owned copies) */
    char *url;
    tvk_header *headers;
    size_t nheaders;
    char *ca_file, *proxy_opt;
    int connect_timeout_ms, ping_interval_ms, ping_timeout_ms, close_timeout_ms;
    int compress, insecure;
    size_t compress_threshold, max_message, max_header;
    tvk_ws_message_fn on_message;
    void *user;
    void (*log)(void *user, const char *line);
    tvk_ws_upgrade_fn on_upgrade;

    tvk_net_url u, px;
    int use_proxy;
    struct addrinfo *ai, *ai_cur;
    int64_t hs_deadline;

    SSL_CTX *ssl_ctx;
    int own_ctx;
    SSL *ssl;
    BIO_METHOD *biometh;
    int tls_want; /* TVK_WANT_* the TLS layer is waiting for */
    int tls_read_wants_write, tls_write_wants_read;
    int tls_rx_starved;    /* the last SSL_read wanted socket bytes (see tvk_ws_deadline) */
    unsigned char *tls_in; /* socket bytes read for OpenSSL, not yet taken by it (io.c bio_read) */
    size_t tls_in_off, tls_in_len;

    char *hbuf; /* incoming header block, max_header + 1 bytes */
    size_t hlen;
    size_t loff, llen; /* bytes after the header block, still to feed wslay */
    char *ibuf;        /* bytes read from the socket, not yet taken by wslay */
    size_t ioff, ilen;
    char *obuf; /* outgoing bytes not yet on the socket */
    size_t ooff, olen;
    char key[32];
    int reject_status;

    wslay_event_context_ptr wctx;
    tvk_pmd pmd;

    /* receive buffer (rx.c): records [rqhead, rqtail), then the message being assembled */
    char *rq;
    size_t rqcap, rqhead, rqtail;
    size_t mlen;   /* bytes of the message being assembled */
    size_t handed; /* record handed out by tvk_ws_recv, released at the next call */
    size_t qcount; /* complete messages waiting */
    size_t max_queued;
    size_t burst; /* bytes taken from the socket in this on_readable call (callback mode) */
    uint64_t mwire;
    int m_active, m_compressed, m_ctrl, m_fin, m_text;

    /* frame being read (frame.c) */
    size_t ibufcap;
    unsigned char fh[14]; /* header bytes so far */
    size_t fhlen;
    int f_inframe, f_op, f_masked;
    uint64_t f_len, f_off;
    unsigned char fmask[4];
    unsigned char ctl[125]; /* control frame payload */
    int rd_on;              /* frames are read (off after a close frame or a peer error) */
    int close_rcvd;

    unsigned char rnd[256]; /* random bytes for frame masks (client role) */
    size_t rndleft;

    int64_t next_ping, pong_deadline, close_deadline;
    uint64_t ping_seq;
    int64_t last_ping;
    int close_initiated;
    int in_recv;
    int eof;
    int fail_pending, fail_wscode;

    int err;
    char errmsg[256];
    tvk_ws_info info;
};

/* Records the first error, closes the socket, state CLOSED. Returns code. */
int tvk_ws_fail(tvk_ws *ws, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void tvk_ws_logf(tvk_ws *ws, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tvk_ws_close_socket(tvk_ws *ws);

/* Transport I/O (plain or TLS): > 0 bytes, 0 EOF, TVK_EAGAIN, or a failure code (ws failed). */
ssize_t tvk_net_io_read(tvk_ws *ws, void *buf, size_t len);
ssize_t tvk_net_io_write(tvk_ws *ws, const void *buf, size_t len);
/* Writes ws->obuf out; 0 when empty, TVK_EAGAIN when some remains, < 0 on failure. */
int tvk_net_io_flush(tvk_ws *ws);
/* Appends to ws->obuf; TVK_EAGAIN when full. */
int tvk_net_io_queue(tvk_ws *ws, const void *buf, size_t len, int all_or_nothing);

int tvk_tls_client_setup(tvk_ws *ws);
int tvk_tls_server_setup(tvk_ws *ws);
/* Drives the handshake: 0 done, TVK_EAGAIN (ws->tls_want set), < 0 failed. */
int tvk_tls_handshake(tvk_ws *ws);
void tvk_tls_free(tvk_ws *ws);

/* Proxy */
int tvk_proxy_resolve(tvk_ws *ws); /* sets ws->use_proxy and ws->px */
int tvk_proxy_build_request(tvk_ws *ws);
int tvk_proxy_parse_response(tvk_ws *ws, size_t end);

/* Upgrade, client and server */
int tvk_upgrade_build_request(tvk_ws *ws);
int tvk_upgrade_parse_response(tvk_ws *ws, size_t end);
int tvk_server_handle_request(tvk_ws *ws, size_t end);

/* A peer error found while reading: recorded, the close frame (wscode) goes out and the socket
 * closes once the read loop returns. */
void tvk_ws_peer_error(tvk_ws *ws, int code, int wscode, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* frame.c: reads and handles frames until the socket has nothing, flow control says stop,
 * or the connection fails. 0, or a failure code. */
int tvk_ws_read_frames(tvk_ws *ws);

/* Called once the handshake is done (either role). */
int tvk_ws_open(tvk_ws *ws);
/* Runs reads and writes for the OPEN/CLOSING phases. */
int tvk_ws_io_open(tvk_ws *ws);
int tvk_ws_progress(tvk_ws *ws);

#endif
