/* Packets to messages: tokenize a JSON payload with the reader's token store and classify it
 * by its "m" (or as the hello object). */
#include <string.h>

#include "internal.h"
#include "scan.h"

static const char *const type_names[TVK_MSG__COUNT] = {
    [TVK_MSG_OTHER] = "other",
    [TVK_MSG_HELLO] = "hello",
    [TVK_MSG_HEARTBEAT] = "heartbeat",
    [TVK_MSG_QSD] = "qsd",
    [TVK_MSG_QUOTE_COMPLETED] = "quote_completed",
    [TVK_MSG_DU] = "du",
    [TVK_MSG_TIMESCALE_UPDATE] = "timescale_update",
    [TVK_MSG_SERIES_LOADING] = "series_loading",
    [TVK_MSG_SERIES_COMPLETED] = "series_completed",
    [TVK_MSG_SERIES_TIMEFRAME] = "series_timeframe",
    [TVK_MSG_SERIES_ERROR] = "series_error",
    [TVK_MSG_SYMBOL_RESOLVED] = "symbol_resolved",
    [TVK_MSG_SYMBOL_ERROR] = "symbol_error",
    [TVK_MSG_STUDY_LOADING] = "study_loading",
    [TVK_MSG_STUDY_COMPLETED] = "study_completed",
    [TVK_MSG_STUDY_ERROR] = "study_error",
    [TVK_MSG_STUDY_DELETED] = "study_deleted",
    [TVK_MSG_TICKMARK_UPDATE] = "tickmark_update",
    [TVK_MSG_CRITICAL_ERROR] = "critical_error",
    [TVK_MSG_PROTOCOL_ERROR] = "protocol_error",
    [TVK_MSG_REPLAY_OK] = "replay_ok",
    [TVK_MSG_REPLAY_INSTANCE_ID] = "replay_instance_id",
    [TVK_MSG_REPLAY_POINT] = "replay_point",
    [TVK_MSG_REPLAY_RESOLUTIONS] = "replay_resolutions",
    [TVK_MSG_REPLAY_DATA_END] = "replay_data_end",
    [TVK_MSG_REPLAY_ERROR] = "replay_error",
};

const char *tvk_msg_type_name(tvk_msg_type t)
{
    if ((unsigned)t >= TVK_MSG__COUNT) return "other";
    return type_names[t];
}

/* qsd and du by length and bytes; the rest only when the first letter starts a known name. This
 * runs for every packet. */
static tvk_msg_type classify(const char *m, size_t l)
{
#define FIRST(c) (1u << ((c) - 'a'))
    static const unsigned firsts =
        FIRST('c') | FIRST('d') | FIRST('p') | FIRST('q') | FIRST('r') | FIRST('s') | FIRST('t');
#undef FIRST
    if (l == 3 && m[0] == 'q' && m[1] == 's' && m[2] == 'd') return TVK_MSG_QSD;
    if (l == 2 && m[0] == 'd' && m[1] == 'u') return TVK_MSG_DU;
    unsigned f = (unsigned)(unsigned char)m[0] - 'a';
    if (l < 2 || f >= 26 || !(firsts >> f & 1)) return TVK_MSG_OTHER;
    for (int t = TVK_MSG_QUOTE_COMPLETED; t < TVK_MSG__COUNT; t++) {
        const char *n = type_names[t];
        /* m holds no NUL (the tokenizer rejects raw control bytes), so a match of l bytes
         * means n is at least l long and n[l] can be read. */
        if (n[0] == m[0] && !strncmp(n, m, l) && n[l] == '\0') return (tvk_msg_type)t;
    }
    return TVK_MSG_OTHER;
}

/* A key token that is exactly the one byte c (keys with escapes are longer than 1 byte). */
static inline int key1(const jtok *t, const char *js, char c)
{
    return t->end - t->start == 1 && js[t->start] == c;
}

static void msg_init(tvk_msg *msg, const tvk_packet *pkt)
{
    msg->type = TVK_MSG_OTHER;
    msg->pkt = *pkt;
    msg->method.p = msg->session.p = "";
    msg->method.len = msg->session.len = 0;
    msg->heartbeat = 0;
    msg->json = NULL;
    msg->params = -1;
}

static int fill_msg(tvk_reader *r, const tvk_packet *pkt, tvk_msg *msg)
{
    msg_init(msg, pkt);
    if (pkt->kind == TVK_PKT_HEARTBEAT) {
        msg->type = TVK_MSG_HEARTBEAT;
        msg->heartbeat = pkt->heartbeat;
        return 1;
    }
    size_t at;
    const char *why;
    int rc = tvk_json_parse(r->json, pkt->data, pkt->len, &at, &why);
    if (rc) {
        r->st.errors++;
        if (rc == TVK_ENOMEM)
            tvk_reader_set_err(r, "packet at offset %zu: out of memory for JSON tokens",
                               pkt->offset);
        else
            tvk_reader_set_err(r, "packet at offset %zu: invalid JSON at payload byte %zu: %s",
                               pkt->offset, at, why);
        return rc;
    }
    const tvk_json *j = r->json;
    const jtok *tk = j->tok;
    const char *js = j->js;
    msg->json = j;
    if (tk[0].type != TVK_J_OBJECT) {
        r->st.errors++;
        tvk_reader_set_err(r, "packet at offset %zu: payload is JSON but not an object",
                           pkt->offset);
        return TVK_ESHAPE;
    }
    /* One pass over the root's members ("m" and "p" come first in practice) instead of a
     * lookup per key: this runs for every packet. */
    int m = -1, p = -1, hello = 0;
    int nk = tk[0].size, k = 1;
    for (int i = 0; i < nk && (m < 0 || p < 0); i++) {
        if (key1(&tk[k], js, 'm'))
            m = k + 1;
        else if (key1(&tk[k], js, 'p'))
            p = k + 1;
        else if (tvk_json_str_eq(j, k, "session_id"))
            hello = 1;
        k = tk[k].skip;
    }
    if (m < 0) {
        msg->type =
            hello || tvk_json_member(j, 0, "session_id") >= 0 ? TVK_MSG_HELLO : TVK_MSG_OTHER;
        return 1;
    }
    if (tk[m].type != TVK_J_STRING) {
        r->st.errors++;
        tvk_reader_set_err(r, "packet at offset %zu: \"m\" is not a string", pkt->offset);
        return TVK_ESHAPE;
    }
    msg->method = jt_str(j, m);
    msg->type = classify(msg->method.p, msg->method.len);
    if (p >= 0 && tk[p].type == TVK_J_ARRAY) {
        msg->params = p;
        if (tk[p].size > 0 && tk[p + 1].type == TVK_J_STRING) msg->session = jt_str(j, p + 1);
    }
    return 1;
}

/* The session string after the opening of a history answer, or 0: enough to route it. */
static int lazy_bars(const tvk_packet *pkt, tvk_msg *msg)
{
    static const char ts[] = "{\"m\":\"timescale_update\",\"p\":[\"",
                      du[] = "{\"m\":\"du\",\"p\":[\"";
    const char *p = pkt->data;
    size_t n = pkt->len, h;
    tvk_msg_type type;
    if (n > sizeof ts && !memcmp(p, ts, sizeof ts - 1)) {
        h = sizeof ts - 2, type = TVK_MSG_TIMESCALE_UPDATE;
    } else if (n > sizeof du && !memcmp(p, du, sizeof du - 1)) {
        h = sizeof du - 2, type = TVK_MSG_DU;
    } else {
        return 0;
    }
    if (n > INT32_MAX - 2) return 0; /* the scanner counts in int */
    const unsigned char *s = (const unsigned char *)p;
    scan sc = scan_at(s, s + h, s + n);
    int a, b;
    if (scan_string(&sc, &a, &b)) return 0;
    msg_init(msg, pkt);
    msg->type = type;
    msg->method.p = type == TVK_MSG_DU ? "du" : "timescale_update";
    msg->method.len = type == TVK_MSG_DU ? 2 : 16;
    msg->session.p = p + a;
    msg->session.len = (size_t)(b - a);
    return 1;
}

/* lazy: 0 = tokenize everything; 1 = plain qsd without tokens (q); 2 = history answers too. */
static int next_msg(tvk_reader *r, tvk_msg *msg, tvk_qsd_plain *q, int lazy)
{
    tvk_packet pkt;
    int rc = tvk_reader_next(r, &pkt);
    if (rc <= 0) {
        if (rc == TVK_ENUMBER) {
            memset(msg, 0, sizeof *msg);
            msg_init(msg, &pkt);
        }
        return rc;
    }
    if (q && pkt.kind == TVK_PKT_JSON && tvk_qsd_plain_parse(pkt.data, pkt.len, q)) {
        msg_init(msg, &pkt);
        msg->type = TVK_MSG_QSD;
        msg->method.p = "qsd";
        msg->method.len = 3;
        msg->session = q->session;
        return 2;
    }
    if (lazy && pkt.kind == TVK_PKT_JSON && lazy_bars(&pkt, msg)) return 3;
    rc = fill_msg(r, &pkt, msg);
    if (rc < 0) msg->json = NULL;
    return rc;
}

int tvk_reader_next_msg(tvk_reader *r, tvk_msg *msg)
{
    return next_msg(r, msg, NULL, 0);
}

int tvk_reader_next_fast(tvk_reader *r, tvk_msg *msg, tvk_qsd_plain *q)
{
    return next_msg(r, msg, q, 0);
}

int tvk_reader_next_lazy(tvk_reader *r, tvk_msg *msg, tvk_qsd_plain *q)
{
    return next_msg(r, msg, q, 1);
}

int tvk_reader_tokenize(tvk_reader *r, tvk_msg *msg)
{
    tvk_packet pkt = msg->pkt;
    int rc = fill_msg(r, &pkt, msg);
    if (rc < 0) msg->json = NULL;
    return rc;
}

int tvk_reader_parse_payload(tvk_reader *r, const char *payload, size_t len, tvk_msg *msg)
{
    r->err[0] = '\0';
    if (len > r->max_message) {
        r->st.errors++;
        tvk_reader_set_err(r, "payload of %zu bytes exceeds the limit of %zu bytes", len,
                           r->max_message);
        return TVK_EFRAME_TOOBIG;
    }
    tvk_packet pkt = {TVK_PKT_JSON, payload, len, 0, 0, TVK_LEN_BYTES};
    int rc = fill_msg(r, &pkt, msg);
    if (rc < 0) {
        msg->json = NULL;
        return rc;
    }
    return 0;
}
