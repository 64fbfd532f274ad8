/* Names and descriptions of the TVK_E* codes (include/tvkit/error.h). */
#include "tvkit/error.h"

const char *tvk_strerror(int code)
{
    switch (code) {
    case TVK_OK: return "success";
    case TVK_EINVAL: return "invalid argument from the caller";
    case TVK_ENOMEM: return "allocation failed";
    case TVK_EBUFSIZE: return "caller's buffer too small";
    case TVK_ENOTFOUND: return "key / series / symbol not present";
    case TVK_ESTATE: return "call not valid in this state (e.g. not connected)";
    case TVK_EAGAIN: return "nothing available yet (non-blocking)";
    case TVK_EFRAME_LENDIGITS: return "length prefix has more than 10 digits";
    case TVK_EFRAME_LENPAST: return "length prefix runs past the end of the message";
    case TVK_EFRAME_NOMARK: return "\"~m~\" expected but missing";
    case TVK_EFRAME_EMPTY: return "packet with an empty payload";
    case TVK_EFRAME_TOOBIG: return "message larger than the configured limit";
    case TVK_EFRAME_LENGTH: return "length fits none of bytes, code points, UTF-16 units";
    case TVK_EJSON: return "payload is not valid JSON";
    case TVK_ESHAPE: return "valid JSON, but not the shape this message must have";
    case TVK_ENUMBER: return "a number that does not parse or does not fit";
    case TVK_EURL: return "malformed or unsupported URL";
    case TVK_EDNS: return "host name did not resolve";
    case TVK_ECONNECT: return "TCP connect failed (refused, unreachable)";
    case TVK_ETIMEDOUT: return "a deadline passed (connect, handshake, read, close)";
    case TVK_ETLS: return "TLS handshake or I/O failed";
    case TVK_ETLS_VERIFY: return "certificate or host name verification failed";
    case TVK_EHANDSHAKE: return "malformed or truncated HTTP upgrade response";
    case TVK_EHTTP_403: return "upgrade answered 403 Forbidden";
    case TVK_EHTTP_429: return "upgrade answered 429 Too Many Requests (see Retry-After)";
    case TVK_EHTTP: return "upgrade answered another non-101 status";
    case TVK_EACCEPT_KEY: return "Sec-WebSocket-Accept does not match the key";
    case TVK_EHEADER_TOOBIG: return "HTTP header block larger than the limit";
    case TVK_EPROXY: return "the HTTP CONNECT proxy refused or failed";
    case TVK_ECLOSED: return "the peer closed the connection";
    case TVK_EPING_TIMEOUT: return "no pong within the ping timeout: connection dead";
    case TVK_EMSG_TOOBIG: return "WebSocket message (after inflate) over the size limit";
    case TVK_EWS_PROTOCOL: return "WebSocket protocol violation by the peer";
    case TVK_EINFLATE: return "permessage-deflate data could not be inflated";
    case TVK_EIO: return "socket read/write error (reset, broken pipe)";
    case TVK_ESYMBOL: return "invalid symbol (client check or server symbol_error)";
    case TVK_EINTERVAL: return "invalid interval (client check or server rejection)";
    case TVK_ENODATA: return "no data (e.g. nothing in the requested range)";
    case TVK_EAUTH: return "authentication rejected";
    case TVK_ECRITICAL: return "server critical_error";
    case TVK_EPROTOCOL: return "server protocol_error";
    case TVK_ESERIES: return "server series_error";
    case TVK_ESTUDY: return "server study_error";
    case TVK_ECONN_LOST: return "connection lost (and not, or not yet, restored)";
    case TVK_EBACKPRESSURE: return "a bounded queue is full and its policy is to report";
    case TVK_ECANCELED: return "stopped by the caller";
    }
    return "unknown error";
}

const char *tvk_errname(int code)
{
    switch (code) {
    case TVK_OK: return "TVK_OK";
    case TVK_EINVAL: return "TVK_EINVAL";
    case TVK_ENOMEM: return "TVK_ENOMEM";
    case TVK_EBUFSIZE: return "TVK_EBUFSIZE";
    case TVK_ENOTFOUND: return "TVK_ENOTFOUND";
    case TVK_ESTATE: return "TVK_ESTATE";
    case TVK_EAGAIN: return "TVK_EAGAIN";
    case TVK_EFRAME_LENDIGITS: return "TVK_EFRAME_LENDIGITS";
    case TVK_EFRAME_LENPAST: return "TVK_EFRAME_LENPAST";
    case TVK_EFRAME_NOMARK: return "TVK_EFRAME_NOMARK";
    case TVK_EFRAME_EMPTY: return "TVK_EFRAME_EMPTY";
    case TVK_EFRAME_TOOBIG: return "TVK_EFRAME_TOOBIG";
    case TVK_EFRAME_LENGTH: return "TVK_EFRAME_LENGTH";
    case TVK_EJSON: return "TVK_EJSON";
    case TVK_ESHAPE: return "TVK_ESHAPE";
    case TVK_ENUMBER: return "TVK_ENUMBER";
    case TVK_EURL: return "TVK_EURL";
    case TVK_EDNS: return "TVK_EDNS";
    case TVK_ECONNECT: return "TVK_ECONNECT";
    case TVK_ETIMEDOUT: return "TVK_ETIMEDOUT";
    case TVK_ETLS: return "TVK_ETLS";
    case TVK_ETLS_VERIFY: return "TVK_ETLS_VERIFY";
    case TVK_EHANDSHAKE: return "TVK_EHANDSHAKE";
    case TVK_EHTTP_403: return "TVK_EHTTP_403";
    case TVK_EHTTP_429: return "TVK_EHTTP_429";
    case TVK_EHTTP: return "TVK_EHTTP";
    case TVK_EACCEPT_KEY: return "TVK_EACCEPT_KEY";
    case TVK_EHEADER_TOOBIG: return "TVK_EHEADER_TOOBIG";
    case TVK_EPROXY: return "TVK_EPROXY";
    case TVK_ECLOSED: return "TVK_ECLOSED";
    case TVK_EPING_TIMEOUT: return "TVK_EPING_TIMEOUT";
    case TVK_EMSG_TOOBIG: return "TVK_EMSG_TOOBIG";
    case TVK_EWS_PROTOCOL: return "TVK_EWS_PROTOCOL";
    case TVK_EINFLATE: return "TVK_EINFLATE";
    case TVK_EIO: return "TVK_EIO";
    case TVK_ESYMBOL: return "TVK_ESYMBOL";
    case TVK_EINTERVAL: return "TVK_EINTERVAL";
    case TVK_ENODATA: return "TVK_ENODATA";
    case TVK_EAUTH: return "TVK_EAUTH";
    case TVK_ECRITICAL: return "TVK_ECRITICAL";
    case TVK_EPROTOCOL: return "TVK_EPROTOCOL";
    case TVK_ESERIES: return "TVK_ESERIES";
    case TVK_ESTUDY: return "TVK_ESTUDY";
    case TVK_ECONN_LOST: return "TVK_ECONN_LOST";
    case TVK_EBACKPRESSURE: return "TVK_EBACKPRESSURE";
    case TVK_ECANCELED: return "TVK_ECANCELED";
    }
    return "TVK_EUNKNOWN";
}
