/* tvkit error codes: every function returns 0 (or a count) on success and a negative TVK_E*
 * code on failure. tvk_strerror() names the code; each handle also keeps a detail string
 * that says what and where (tvk_reader_errmsg, tvk_ws_errmsg, tvk_conn_errmsg). */
#ifndef TVKIT_ERROR_H
#define TVKIT_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum tvk_error {
    TVK_OK = 0,
    /* general */
    TVK_EINVAL = -1,  /* invalid argument from the caller */
    TVK_ENOMEM = -2,  /* allocation failed */
    TVK_EBUFSIZE = -3, /* caller's buffer too small */
    TVK_ENOTFOUND = -4, /* key / series / symbol not present */
    TVK_ESTATE = -5,   /* call not valid in this state (e.g. not connected) */
    TVK_EAGAIN = -6,   /* nothing available yet (non-blocking) */

    /* wire: framing (tvk_reader) */
    TVK_EFRAME_LENDIGITS = -20, /* length prefix has more than 10 digits */
    TVK_EFRAME_LENPAST = -21,   /* length prefix runs past the end of the message */
    TVK_EFRAME_NOMARK = -22,    /* "~m~" expected but missing */
    TVK_EFRAME_EMPTY = -23,     /* packet with an empty payload */
    TVK_EFRAME_TOOBIG = -24,    /* message larger than the configured limit */
    TVK_EFRAME_LENGTH = -25,    /* length fits none of bytes, code points, UTF-16 units */
    /* wire: JSON and message shapes */
    TVK_EJSON = -30,    /* payload is not valid JSON */
    TVK_ESHAPE = -31,   /* valid JSON, but not the shape this message must have */
    TVK_ENUMBER = -32,  /* a number that does not parse or does not fit */

    /* net */
    TVK_EURL = -40,         /* malformed or unsupported URL */
    TVK_EDNS = -41,         /* host name did not resolve */
    TVK_ECONNECT = -42,     /* TCP connect failed (refused, unreachable) */
    TVK_ETIMEDOUT = -43,    /* a deadline passed (connect, handshake, read, close) */
    TVK_ETLS = -44,         /* TLS handshake or I/O failed */
    TVK_ETLS_VERIFY = -45,  /* certificate or host name verification failed */
    TVK_EHANDSHAKE = -46,   /* malformed or truncated HTTP upgrade response */
    TVK_EHTTP_403 = -47,    /* upgrade answered 403 Forbidden */
    TVK_EHTTP_429 = -48,    /* upgrade answered 429 Too Many Requests (see Retry-After) */
    TVK_EHTTP = -49,        /* upgrade answered another non-101 status */
    TVK_EACCEPT_KEY = -50,  /* Sec-WebSocket-Accept does not match the key */
    TVK_EHEADER_TOOBIG = -51, /* HTTP header block larger than the limit */
    TVK_EPROXY = -52,       /* the HTTP CONNECT proxy refused or failed */
    TVK_ECLOSED = -53,      /* the peer closed the connection */
    TVK_EPING_TIMEOUT = -54, /* no pong within the ping timeout: connection dead */
    TVK_EMSG_TOOBIG = -55,  /* WebSocket message (after inflate) over the size limit */
    TVK_EWS_PROTOCOL = -56, /* WebSocket protocol violation by the peer */
    TVK_EINFLATE = -57,     /* permessage-deflate data could not be inflated */
    TVK_EIO = -58,          /* socket read/write error (reset, broken pipe) */

    /* client / server-reported */
    TVK_ESYMBOL = -70,      /* invalid symbol (client check or server symbol_error) */
    TVK_EINTERVAL = -71,    /* invalid interval (client check or server rejection) */
    TVK_ENODATA = -72,      /* no data (e.g. nothing in the requested range) */
    TVK_EAUTH = -73,        /* authentication rejected */
    TVK_ECRITICAL = -74,    /* server critical_error */
    TVK_EPROTOCOL = -75,    /* server protocol_error */
    TVK_ESERIES = -76,      /* server series_error */
    TVK_ESTUDY = -77,       /* server study_error */
    TVK_ECONN_LOST = -78,   /* connection lost (and not, or not yet, restored) */
    TVK_EBACKPRESSURE = -79, /* a bounded queue is full and its policy is to report */
    TVK_ECANCELED = -80,    /* stopped by the caller */
};

/* A short, static description of a code ("frame length past end of message"). */
const char *tvk_strerror(int code);
/* The name of a code ("TVK_EFRAME_LENPAST"), for logs and JSON output. */
const char *tvk_errname(int code);

#ifdef __cplusplus
}
#endif
#endif
