/* tvkit wire layer: the pure codec of TradingView's chart protocol (no I/O, no clocks, no
 * global state). Feed it one WebSocket text message at a time, then take packets/messages out
 * until it says the message is exhausted, hiredis-style.
 *
 *   tvk_reader *r = tvk_reader_new(0);
 *   tvk_reader_feed(r, text, len);           // one whole WebSocket message; not copied
 *   tvk_msg m;
 *   while ((rc = tvk_reader_next_msg(r, &m)) > 0) { ... m.type ... }
 *   if (rc < 0) fprintf(stderr, "%s\n", tvk_reader_errmsg(r));
 */
#ifndef TVKIT_WIRE_H
#define TVKIT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "tvkit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TVK_DEFAULT_MAX_MESSAGE ((size_t)32 * 1024 * 1024)

/* ---------------------------------------------------------------- growable output buffer */

typedef struct tvk_buf {
    char *data;   /* NUL-terminated when len > 0 */
    size_t len;
    size_t cap;
    size_t limit; /* 0 = no limit; appends that would pass it fail with TVK_ENOMEM */
} tvk_buf;

void tvk_buf_init(tvk_buf *b);
void tvk_buf_free(tvk_buf *b);
void tvk_buf_reset(tvk_buf *b); /* len = 0, memory kept */
int tvk_buf_reserve(tvk_buf *b, size_t extra);
int tvk_buf_append(tvk_buf *b, const void *p, size_t n);
int tvk_buf_puts(tvk_buf *b, const char *s);
int tvk_buf_printf(tvk_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* JSON writers (ASCII-only output: every non-ASCII code point becomes \uXXXX, surrogate pairs
 * above U+FFFF, so a framed length is the same in bytes, code points and UTF-16 units).
 * Invalid UTF-8 input fails with TVK_EINVAL. */
int tvk_buf_json_str(tvk_buf *b, const char *s, size_t n);   /* writes "..." */
int tvk_buf_json_double(tvk_buf *b, double v); /* shortest text that round-trips; NaN/inf -> null */
int tvk_buf_json_int(tvk_buf *b, int64_t v);
/* The same texts written to out (at least TVK_FMT_MAX bytes; NUL-terminated), returning the
 * length: for callers that build a line in place. */
#define TVK_FMT_MAX 32
size_t tvk_fmt_double(double v, char *out);
size_t tvk_fmt_int(int64_t v, char *out);

/* ---------------------------------------------------------------- framing */

/* Appends "~m~<len>~m~<payload>" to b. */
int tvk_frame(tvk_buf *b, const char *payload, size_t len);
/* Appends a heartbeat packet "~m~<n>~m~~h~<k>". */
int tvk_frame_heartbeat(tvk_buf *b, int64_t k);

typedef enum tvk_pkt_kind {
    TVK_PKT_JSON = 1,      /* a JSON payload (object with "m", or the hello object) */
    TVK_PKT_HEARTBEAT = 2, /* "~h~<k>" */
} tvk_pkt_kind;

/* Which convention the length prefix matched. */
typedef enum tvk_len_unit {
    TVK_LEN_BYTES = 0,
    TVK_LEN_CODEPOINTS = 1,
    TVK_LEN_UTF16 = 2,
} tvk_len_unit;

typedef struct tvk_packet {
    tvk_pkt_kind kind;
    const char *data;   /* payload, pointing into the fed message (not NUL-terminated) */
    size_t len;         /* payload length in bytes */
    size_t offset;      /* byte offset of the packet's "~m~" within the message */
    int64_t heartbeat;  /* k, for TVK_PKT_HEARTBEAT */
    tvk_len_unit unit;  /* how the length prefix was counted */
} tvk_packet;

typedef struct tvk_reader tvk_reader;

/* max_message: largest message accepted (0 = TVK_DEFAULT_MAX_MESSAGE). NULL on ENOMEM. */
tvk_reader *tvk_reader_new(size_t max_message);
void tvk_reader_free(tvk_reader *r);
/* Starts a new message. The bytes are NOT copied: they must stay valid and unchanged until the
 * next feed or free. A message over the limit fails with TVK_EFRAME_TOOBIG (and yields nothing). */
int tvk_reader_feed(tvk_reader *r, const char *msg, size_t len);
/* 1 = *pkt filled; 0 = message exhausted; < 0 = framing error: the rest of the message is
 * dropped, tvk_reader_errmsg() names the offset, and the next feed starts clean.
 * Exception: a heartbeat whose k is not 1-18 digits gives TVK_ENUMBER for that packet only
 * (*pkt is filled, the framing was intact) and the next call goes on with the message. */
int tvk_reader_next(tvk_reader *r, tvk_packet *pkt);
const char *tvk_reader_errmsg(const tvk_reader *r);
/* Counters over the reader's life. */
typedef struct tvk_reader_stats {
    uint64_t messages, packets, heartbeats, errors, bytes;
} tvk_reader_stats;
void tvk_reader_stats_get(const tvk_reader *r, tvk_reader_stats *st);
/* Frees the token store when it is larger than keep_bytes (a 5,000-bar answer needs ~1 MB):
 * call it when done with the packets of a message, so an idle reader does not hold the store
 * of the largest packet it ever parsed. The next packet's parse allocates again. */
void tvk_reader_trim(tvk_reader *r, size_t keep_bytes);
/* Bytes the reader holds for tokens now. */
size_t tvk_reader_buffer_bytes(const tvk_reader *r);

/* ---------------------------------------------------------------- JSON access */

/* A tokenized JSON document: tokens in jsmn's layout over the packet bytes, from our own
 * validating single-pass tokenizer (src/wire/json.c says why not jsmn itself). Tokens are
 * addressed by index; the root is token 0. Accessors return a negative TVK_E* code on a wrong type. */
typedef struct tvk_json tvk_json;

typedef enum tvk_jtype {
    TVK_J_INVALID = 0,
    TVK_J_OBJECT = 1,
    TVK_J_ARRAY = 2,
    TVK_J_STRING = 3,
    TVK_J_NUMBER = 4,
    TVK_J_TRUE = 5,
    TVK_J_FALSE = 6,
    TVK_J_NULL = 7,
} tvk_jtype;

tvk_jtype tvk_json_type(const tvk_json *j, int tok);
int tvk_json_count(const tvk_json *j);                 /* number of tokens */
int tvk_json_size(const tvk_json *j, int tok);         /* members of an object, elements of an array */
int tvk_json_member(const tvk_json *j, int obj, const char *key); /* token of the value, or < 0 */
int tvk_json_index(const tvk_json *j, int arr, int i); /* token of element i, or < 0 */
int tvk_json_skip(const tvk_json *j, int tok);         /* token after tok and all its children */
/* Raw bytes of a token (strings without quotes, still escaped). */
int tvk_json_raw(const tvk_json *j, int tok, const char **p, size_t *len);
/* String value unescaped into buf (NUL-terminated); TVK_EBUFSIZE if it does not fit. */
int tvk_json_str(const tvk_json *j, int tok, char *buf, size_t cap, size_t *outlen);
/* 1 if the string token equals s (after unescaping), else 0. */
int tvk_json_str_eq(const tvk_json *j, int tok, const char *s);
int tvk_json_int64(const tvk_json *j, int tok, int64_t *v);
int tvk_json_double(const tvk_json *j, int tok, double *v);
int tvk_json_bool(const tvk_json *j, int tok, int *v);

/* Exact decimal-to-double conversion (same bits as strtod in the C locale; locale-independent).
 * Parses the whole of [s, s+n); returns 0 or TVK_ENUMBER. */
int tvk_parse_double(const char *s, size_t n, double *out);

/* ---------------------------------------------------------------- server messages */

typedef enum tvk_msg_type {
    TVK_MSG_OTHER = 0, /* an "m" we do not know: kept with its name */
    TVK_MSG_HELLO,
    TVK_MSG_HEARTBEAT,
    TVK_MSG_QSD,
    TVK_MSG_QUOTE_COMPLETED,
    TVK_MSG_DU,
    TVK_MSG_TIMESCALE_UPDATE,
    TVK_MSG_SERIES_LOADING,
    TVK_MSG_SERIES_COMPLETED,
    TVK_MSG_SERIES_TIMEFRAME,
    TVK_MSG_SERIES_ERROR,
    TVK_MSG_SYMBOL_RESOLVED,
    TVK_MSG_SYMBOL_ERROR,
    TVK_MSG_STUDY_LOADING,
    TVK_MSG_STUDY_COMPLETED,
    TVK_MSG_STUDY_ERROR,
    TVK_MSG_STUDY_DELETED,
    TVK_MSG_TICKMARK_UPDATE,
    TVK_MSG_CRITICAL_ERROR,
    TVK_MSG_PROTOCOL_ERROR,
    TVK_MSG_REPLAY_OK,
    TVK_MSG_REPLAY_INSTANCE_ID,
    TVK_MSG_REPLAY_POINT,
    TVK_MSG_REPLAY_RESOLUTIONS,
    TVK_MSG_REPLAY_DATA_END,
    TVK_MSG_REPLAY_ERROR,
    TVK_MSG__COUNT
} tvk_msg_type;

/* "qsd", "timescale_update", ... ("hello", "heartbeat" for those two; "other" for OTHER). */
const char *tvk_msg_type_name(tvk_msg_type t);

/* A slice of the packet bytes (not NUL-terminated; JSON-escaped for string tokens). */
typedef struct tvk_str {
    const char *p;
    size_t len;
} tvk_str;

/* One member of an object, as tvk_json_next_member hands it out. */
typedef struct tvk_jmember {
    tvk_str key;    /* raw key text (escaped, without quotes) */
    tvk_str raw;    /* raw value text (strings without quotes, still escaped) */
    tvk_jtype type; /* of the value */
    int tok;        /* the value's token */
    double num;     /* the value when it is a number, else NaN */
} tvk_jmember;

/* Walks the members of object obj in order, one call per member (the busy paths' loop: qsd
 * fields). *cursor starts at 0. Returns 1 with *m filled, 0 after the last member, or
 * TVK_EINVAL / TVK_ESHAPE when obj is not an object token. */
int tvk_json_next_member(const tvk_json *j, int obj, int *cursor, tvk_jmember *m);

typedef struct tvk_msg {
    tvk_msg_type type;
    tvk_packet pkt;        /* the packet this message came from */
    tvk_str method;        /* the "m" value; empty for hello and heartbeat */
    tvk_str session;       /* p[0] when it is a string (cs_/qs_/rs_ id), else empty */
    int64_t heartbeat;     /* for TVK_MSG_HEARTBEAT */
    const tvk_json *json;  /* tokens of the payload (NULL for heartbeats); valid until next call */
    int params;            /* token of the "p" array, or -1 */
} tvk_msg;

/* Next packet of the current message, tokenized and classified. Same return convention as
 * tvk_reader_next. A packet that is not valid JSON gives TVK_EJSON for that packet only (the
 * rest of the message is still read). Zero allocations per packet in the steady state: the
 * token array is owned by the reader and grows only when a packet needs more. */
int tvk_reader_next_msg(tvk_reader *r, tvk_msg *msg);
typedef struct tvk_qsd_plain tvk_qsd_plain; /* below, with the views */
/* tvk_reader_next_msg, except that a plain qsd packet (tvk_qsd_plain_parse) is read into *q
 * without tokens: returns 2 with msg->type TVK_MSG_QSD, method, session and pkt set, msg->json
 * NULL and msg->params -1. For consumers that do not need the tokens (the quote book). */
int tvk_reader_next_fast(tvk_reader *r, tvk_msg *msg, tvk_qsd_plain *q);
/* tvk_reader_next_fast, except that a timescale_update or du packet, recognized by its first
 * bytes ({"m":"timescale_update","p":[" or {"m":"du","p":[" and a string), is not tokenized
 * either: returns 3 with msg->type, method, session and pkt set, msg->json NULL and
 * msg->params -1. Read it with tvk_series_plain_parse, or complete it with tvk_reader_tokenize.
 * For consumers that route history answers themselves (the client's series). */
int tvk_reader_next_lazy(tvk_reader *r, tvk_msg *msg, tvk_qsd_plain *q);
/* Tokenizes and classifies msg->pkt of a message that tvk_reader_next_lazy returned with 3 (before
 * the next call on r): 1, or the error tvk_reader_next_msg would have given for that packet
 * (msg->json NULL, tvk_reader_errmsg says where). */
int tvk_reader_tokenize(tvk_reader *r, tvk_msg *msg);
/* Tokenize and classify a lone payload (no framing), e.g. a line of a JSONL capture.
 * Returns 0 (not 1) on success, or a negative code as tvk_reader_next_msg. */
int tvk_reader_parse_payload(tvk_reader *r, const char *payload, size_t len, tvk_msg *msg);

/* ---- typed views. Each returns 0, or TVK_ESHAPE when the message is not of that shape. */

typedef struct tvk_hello {
    tvk_str session_id;
    tvk_str release;
    int64_t timestamp; /* unix s, 0 if absent */
} tvk_hello;
int tvk_msg_hello(const tvk_msg *m, tvk_hello *out);

/* A bar. time is UTC unix seconds. volume is NaN when the bar has 5 values; any value equal to
 * 1e+100 ("no value") is NaN too. */
typedef struct tvk_bar {
    int64_t index;
    double time, open, high, low, close, volume;
} tvk_bar;

/* Iterates the bars of one series in a timescale_update or du. */
typedef struct tvk_bar_iter {
    const tvk_json *json;
    int tok;       /* next bar token */
    int remaining; /* bars left */
} tvk_bar_iter;

typedef struct tvk_series_update {
    tvk_str session;
    tvk_str series_id;
    tvk_str turnaround;      /* the series object's "t" */
    int64_t bar_close_time;  /* lbs.bar_close_time, or 0 when absent */
    size_t nbars;
    tvk_bar_iter bars;
} tvk_series_update;

/* Finds series_id in p[1] of a timescale_update or du. TVK_ENOTFOUND when that series is not in
 * the message; study objects ("st") never match. */
int tvk_msg_series(const tvk_msg *m, const char *series_id, tvk_series_update *out);
/* Every price series ("s" key) in the message, in order: call with idx = 0, 1, ... until
 * TVK_ENOTFOUND. */
int tvk_msg_series_at(const tvk_msg *m, int idx, tvk_series_update *out);
/* 1 = *bar filled; 0 = done; < 0 = malformed bar (TVK_ESHAPE), iteration stops. */
int tvk_bar_next(tvk_bar_iter *it, tvk_bar *bar);

typedef struct tvk_series_completed {
    tvk_str session, series_id, update_mode, turnaround;
    int64_t rt_update_period; /* -1 when absent */
    tvk_str data_completed;   /* "end" / "limit" or empty */
} tvk_series_completed;
int tvk_msg_series_completed(const tvk_msg *m, tvk_series_completed *out);

typedef struct tvk_series_loading {
    tvk_str session, series_id, turnaround;
} tvk_series_loading;
/* series_loading, study_loading, study_completed, study_deleted share this shape. */
int tvk_msg_series_loading(const tvk_msg *m, tvk_series_loading *out);

typedef struct tvk_series_timeframe {
    tvk_str session, series_id, turnaround, range;
    int64_t first_index, last_index;
    int final;
} tvk_series_timeframe;
int tvk_msg_series_timeframe(const tvk_msg *m, tvk_series_timeframe *out);

typedef struct tvk_symbol_info {
    tvk_str session, symref;
    tvk_str name, pro_name, full_name, description, exchange, listed_exchange, type,
        currency_code, timezone, session_hours;
    int64_t pricescale, minmov;
    int has_intraday; /* -1 absent */
    int info;         /* token of the whole info object */
} tvk_symbol_info;
int tvk_msg_symbol_resolved(const tvk_msg *m, tvk_symbol_info *out);

/* critical_error, protocol_error, symbol_error, series_error, study_error, replay_error. */
typedef struct tvk_error_info {
    tvk_str session; /* empty for protocol_error */
    tvk_str id;      /* symref / series id / study id, when the message has one */
    tvk_str reason;  /* "invalid symbol", "invalid parameters", the protocol_error text ... */
    tvk_str detail;  /* "method: create_series. args: ...", the server node, ... */
    int reason_tok;  /* the reason token (may be an object for study_error) */
} tvk_error_info;
int tvk_msg_error(const tvk_msg *m, tvk_error_info *out);

typedef struct tvk_qsd {
    tvk_str session;
    tvk_str symbol;  /* "n", exactly as the server sent it (escaped) */
    int ok;          /* "s" == "ok" */
    tvk_str errmsg;  /* when !ok */
    int values;      /* token of the "v" object (the delta), or -1 */
    int nfields;
} tvk_qsd;
int tvk_msg_qsd(const tvk_msg *m, tvk_qsd *out);
/* The i-th field of the delta: name token and value token. TVK_ENOTFOUND past the end. */
int tvk_qsd_field(const tvk_msg *m, const tvk_qsd *q, int i, tvk_str *name, int *value_tok);

/* A qsd packet of the plain form, in which the server sends every quote change:
 *   {"m":"qsd","p":["<session>",{"n":"<symbol>","s":"ok","v":{<members>}}]}
 * compact, in that order, with at most TVK_QSD_PLAIN_MAX members whose values are strings or
 * numbers; read in one pass without tokens. Only documents the tokenizer accepts are accepted,
 * and they give what tvk_msg_qsd and tvk_json_next_member give (fields[i].tok is -1). 1 = read;
 * 0 = any other form, valid or not (use the generic path: it validates and reports). */
#define TVK_QSD_PLAIN_MAX 64
struct tvk_qsd_plain {
    tvk_str session;
    tvk_str symbol; /* "n", as sent (escaped) */
    int nfields;
    tvk_jmember fields[TVK_QSD_PLAIN_MAX];
};
int tvk_qsd_plain_parse(const char *payload, size_t len, tvk_qsd_plain *out);

/* A timescale_update or du read without tokens, for one series, each bar handed to a callback
 * as it is read (no array of the message's bars, no token store). Only the compact layout the
 * server writes is read:
 *   {"m":"timescale_update"|"du","p":["<session>",{"<series_id>":{...,"s":[{"i":N,"v":[t,o,h,
 *    l,c(,v)]},...],...,"t":"<turnaround>","lbs":{"bar_close_time":N}},...},...],"t":N,...}
 * (p[1] may also be {} or hold other members; values are numbers or null). Everything read is
 * what tvk_reader_next_msg + tvk_msg_series + tvk_bar_next + tvk_json_int64 of the root's "t"
 * give, and only documents the tokenizer accepts are accepted. Returns 1 = read (every bar went
 * to cb, in order); 0 = any other form, valid or not: the bars cb was given so far are to be
 * discarded and the generic path used (it validates and reports); < 0 = cb returned that code
 * (the scan stopped there). cb may be NULL (then only *out is filled). */
typedef int (*tvk_bar_cb)(void *user, const tvk_bar *bar); /* 0 = go on, < 0 = stop */
typedef struct tvk_series_plain {
    tvk_str session;
    int found;              /* p[1] held series_id; the fields below are of that series */
    tvk_str series_id;      /* the key, as sent */
    tvk_str turnaround;     /* the series object's "t" (empty when absent or not a string) */
    int64_t bar_close_time; /* lbs.bar_close_time, or 0 */
    size_t nbars;
    int has_time; /* the root's "t" is an integer (tvk_json_int64): the server time in time */
    int64_t time;
} tvk_series_plain;
int tvk_series_plain_parse(const char *payload, size_t len, const char *series_id,
                           tvk_series_plain *out, tvk_bar_cb cb, void *user);

typedef struct tvk_quote_completed {
    tvk_str session, symbol;
} tvk_quote_completed;
int tvk_msg_quote_completed(const tvk_msg *m, tvk_quote_completed *out);

/* ---------------------------------------------------------------- client messages */

/* The seed's quote field list (23 fields, in the seed's order), NULL-terminated. */
const char *const *tvk_quote_fields(void);
size_t tvk_quote_fields_count(void);

typedef enum tvk_adjustment {
    TVK_ADJ_SPLITS = 0, TVK_ADJ_DIVIDENDS, TVK_ADJ_NONE
} tvk_adjustment;
typedef enum tvk_session_kind {
    TVK_SESSION_UNSET = 0, TVK_SESSION_REGULAR, TVK_SESSION_EXTENDED
} tvk_session_kind;

/* The "=" + JSON symbol specification. Fields left NULL/UNSET are not emitted. */
typedef struct tvk_symbol_spec {
    const char *symbol;          /* "EXCHANGE:SYMBOL" (required) */
    tvk_adjustment adjustment;   /* default splits */
    const char *backadjustment;  /* e.g. "default", or NULL */
    tvk_session_kind session;
    const char *currency_id;     /* "USD", or NULL */
    int tvkit_spacing;           /* 1 = Python json.dumps separators (", " ": ") as tvkit v0.1.4 */
} tvk_symbol_spec;
/* Appends the spec string itself ("={...}") — not JSON-quoted — to b. */
int tvk_symbol_spec_write(tvk_buf *b, const tvk_symbol_spec *spec);

/* Generic: appends the framed packet {"m":method,"p":params_json}; params_json must be a JSON
 * array text (ASCII). */
int tvk_build(tvk_buf *b, const char *method, const char *params_json);

/* Each builder appends one framed packet to b. Strings are JSON-escaped ASCII-only. */
int tvk_build_set_auth_token(tvk_buf *b, const char *token);
int tvk_build_set_locale(tvk_buf *b, const char *lang, const char *country);
int tvk_build_set_data_quality(tvk_buf *b, const char *quality);
int tvk_build_chart_create_session(tvk_buf *b, const char *cs);
int tvk_build_chart_delete_session(tvk_buf *b, const char *cs);
int tvk_build_switch_timezone(tvk_buf *b, const char *cs, const char *tz);
int tvk_build_resolve_symbol(tvk_buf *b, const char *cs, const char *symref,
                             const tvk_symbol_spec *spec);
/* range: NULL or "" for none, or "r,<from>:<to>", or a preset. */
int tvk_build_create_series(tvk_buf *b, const char *cs, const char *series_id,
                            const char *turnaround, const char *symref, const char *resolution,
                            int64_t count, const char *range);
int tvk_build_modify_series(tvk_buf *b, const char *cs, const char *series_id,
                            const char *turnaround, const char *symref, const char *resolution,
                            const char *range);
int tvk_build_remove_series(tvk_buf *b, const char *cs, const char *series_id);
int tvk_build_request_more_data(tvk_buf *b, const char *cs, const char *series_id, int64_t n);
/* inputs_json: a JSON object text. */
int tvk_build_create_study(tvk_buf *b, const char *cs, const char *study_id,
                           const char *turnaround, const char *series_id, const char *script,
                           const char *inputs_json);
int tvk_build_remove_study(tvk_buf *b, const char *cs, const char *study_id);
int tvk_build_quote_create_session(tvk_buf *b, const char *qs);
int tvk_build_quote_delete_session(tvk_buf *b, const char *qs);
/* fields == NULL: tvk_quote_fields(). */
int tvk_build_quote_set_fields(tvk_buf *b, const char *qs, const char *const *fields, size_t n);
int tvk_build_quote_add_symbols(tvk_buf *b, const char *qs, const char *const *syms, size_t n);
int tvk_build_quote_remove_symbols(tvk_buf *b, const char *qs, const char *const *syms, size_t n);
int tvk_build_quote_fast_symbols(tvk_buf *b, const char *qs, const char *const *syms, size_t n);
int tvk_build_quote_hibernate_all(tvk_buf *b, const char *qs);

/* Session ids: prefix ("cs_" / "qs_") + 12 random lowercase letters from the OS CSPRNG
 * (getrandom). out must hold at least strlen(prefix) + 13 bytes. */
int tvk_session_id(char *out, size_t cap, const char *prefix);

#ifdef __cplusplus
}
#endif
#endif
