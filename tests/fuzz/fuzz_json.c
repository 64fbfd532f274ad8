/* Fuzz target "json": the JSON decoder of server messages. The input is one WebSocket message
 * (framed "~m~N~m~..." packets, through tvk_reader_next_msg) or, when it does not start with
 * "~m~", a lone payload (tvk_reader_parse_payload). Every message is walked with every accessor
 * and every typed view; properties: no view reads outside the packet, tokens form a consistent
 * tree, strings unescape into a small buffer or say TVK_EBUFSIZE, numbers agree with strtod,
 * and a packet the plain qsd reader accepts is valid and reads the same through the tokens. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "tvkit/wire.h"

#include "fuzz_common.h"
#include "../wire/qsd_same.h"

typedef struct ctx {
    const tvk_msg *m;
    const tvk_json *j;
    int n; /* tokens */
} ctx;

static void check_str(const ctx *c, tvk_str s)
{
    FUZZ_CHECK(s.p != NULL);
    if (s.len == 0) return;
    const char *lo = c->m->pkt.data, *hi = c->m->pkt.data + c->m->pkt.len;
    FUZZ_CHECK(s.p >= lo && s.p + s.len <= hi);
}

static void check_tok(const ctx *c, int tok)
{
    FUZZ_CHECK(tok >= 0 && tok < c->n);
}

static void check_string_tok(const ctx *c, int t)
{
    const char *raw;
    size_t rawlen;
    FUZZ_CHECK(tvk_json_raw(c->j, t, &raw, &rawlen) == 0);
    /* Unescaping never lengthens a string: \uXXXX is 6 bytes for at most 3, a pair 12 for 4. */
    char *big = malloc(rawlen + 1);
    if (!big) return;
    size_t bl = 0;
    FUZZ_CHECK(tvk_json_str(c->j, t, big, rawlen + 1, &bl) == 0);
    FUZZ_CHECK(bl <= rawlen && big[bl] == '\0');
    char small[8];
    size_t sl = 12345;
    int rc = tvk_json_str(c->j, t, small, sizeof small, &sl);
    if (bl < sizeof small) {
        FUZZ_CHECK(rc == 0 && sl == bl && memcmp(small, big, bl + 1) == 0);
    } else {
        FUZZ_CHECK(rc == TVK_EBUFSIZE && small[0] == '\0');
    }
    FUZZ_CHECK(tvk_json_str(c->j, t, small, 0, NULL) == TVK_EBUFSIZE);
    /* str_eq compares after unescaping (keys that long are never looked up) */
    if (bl < 200 && memchr(big, '\0', bl) == NULL) FUZZ_CHECK(tvk_json_str_eq(c->j, t, big) == 1);
    free(big);
}

static void check_number_tok(const ctx *c, int t)
{
    const char *raw;
    size_t rawlen;
    FUZZ_CHECK(tvk_json_raw(c->j, t, &raw, &rawlen) == 0);
    fz_check_number(raw, rawlen);
    double d;
    int rc = tvk_json_double(c->j, t, &d);
    if (rc == TVK_ENOMEM) return;
    FUZZ_CHECK(rc == 0); /* the validator let only JSON numbers through */
    /* The value the tokenizer converted while scanning is the reference conversion's, bit for
     * bit. */
    double ref;
    if (tvk_parse_double(raw, rawlen, &ref) == 0) FUZZ_CHECK(memcmp(&ref, &d, sizeof d) == 0);
    int64_t v;
    rc = tvk_json_int64(c->j, t, &v);
    if (rc == 0) {
        FUZZ_CHECK((double)v == d);
    } else {
        FUZZ_CHECK(rc == TVK_ENUMBER || rc == TVK_ENOMEM);
        FUZZ_CHECK(!(d > -9.2e18 && d < 9.2e18 && d == floor(d)) || rc == TVK_ENOMEM);
    }
}

/* Walks the whole token tree, checking each accessor against the walk. */
static void walk(const ctx *c)
{
    const tvk_json *j = c->j;
    for (int t = 0; t < c->n; t++) {
        tvk_jtype ty = tvk_json_type(j, t);
        FUZZ_CHECK(ty != TVK_J_INVALID);
        int after = tvk_json_skip(j, t);
        FUZZ_CHECK(after > t && after <= c->n);
        int b;
        switch (ty) {
        case TVK_J_STRING:
            check_string_tok(c, t);
            FUZZ_CHECK(tvk_json_size(j, t) == TVK_ESHAPE);
            break;
        case TVK_J_NUMBER:
            check_number_tok(c, t);
            break;
        case TVK_J_TRUE:
        case TVK_J_FALSE:
            FUZZ_CHECK(tvk_json_bool(j, t, &b) == 0 && b == (ty == TVK_J_TRUE));
            break;
        case TVK_J_NULL:
            FUZZ_CHECK(tvk_json_bool(j, t, &b) == TVK_ESHAPE);
            break;
        case TVK_J_ARRAY: {
            int size = tvk_json_size(j, t), k = t + 1;
            FUZZ_CHECK(size >= 0);
            /* tvk_json_index is linear in i: check the first elements and the last one, so
             * that a 3,000-bar array stays linear here */
            for (int i = 0; i < size; i++) {
                if (i < 8 || i == size - 1) FUZZ_CHECK(tvk_json_index(j, t, i) == k);
                k = tvk_json_skip(j, k);
            }
            FUZZ_CHECK(k == after);
            FUZZ_CHECK(tvk_json_index(j, t, size) == TVK_ENOTFOUND);
            FUZZ_CHECK(tvk_json_index(j, t, -1) == TVK_ENOTFOUND);
            FUZZ_CHECK(tvk_json_member(j, t, "m") == TVK_ESHAPE);
            break;
        }
        case TVK_J_OBJECT: {
            int size = tvk_json_size(j, t), k = t + 1, cursor = 0;
            FUZZ_CHECK(size >= 0);
            for (int i = 0; i < size; i++) {
                /* tvk_json_next_member hands out the same members in the same order */
                tvk_jmember mb;
                FUZZ_CHECK(tvk_json_next_member(j, t, &cursor, &mb) == 1);
                FUZZ_CHECK(mb.tok == k + 1 && mb.type == tvk_json_type(j, k + 1));
                const char *kp, *vp;
                size_t kn, vn;
                FUZZ_CHECK(tvk_json_raw(j, k, &kp, &kn) == 0 &&
                           tvk_json_raw(j, k + 1, &vp, &vn) == 0);
                FUZZ_CHECK(mb.key.p == kp && mb.key.len == kn && mb.raw.p == vp &&
                           mb.raw.len == vn);
                if (mb.type == TVK_J_NUMBER) {
                    double dv;
                    int r2 = tvk_json_double(j, k + 1, &dv);
                    FUZZ_CHECK(r2 == 0 || r2 == TVK_ENOMEM);
                    /* (NaN only when the long form's conversion ran out of memory) */
                    if (r2 == 0 && !isnan(mb.num)) FUZZ_CHECK(memcmp(&dv, &mb.num, sizeof dv) == 0);
                } else {
                    FUZZ_CHECK(isnan(mb.num));
                }
                FUZZ_CHECK(tvk_json_type(j, k) == TVK_J_STRING);
                char key[64];
                size_t kl;
                if (i < 16 && tvk_json_str(j, k, key, sizeof key, &kl) == 0 &&
                    !memchr(key, '\0', kl)) {
                    /* the first member with this key: here or earlier */
                    int v = tvk_json_member(j, t, key);
                    FUZZ_CHECK(v > t && v <= k + 1);
                    FUZZ_CHECK(tvk_json_str_eq(j, v - 1, key) == 1);
                }
                k = tvk_json_skip(j, k + 1);
            }
            FUZZ_CHECK(k == after);
            tvk_jmember end;
            FUZZ_CHECK(tvk_json_next_member(j, t, &cursor, &end) == 0);
            FUZZ_CHECK(tvk_json_index(j, t, 0) == TVK_ESHAPE);
            break;
        }
        default:
            FUZZ_CHECK(0);
        }
    }
    FUZZ_CHECK(tvk_json_type(j, c->n) == TVK_J_INVALID);
    FUZZ_CHECK(tvk_json_type(j, -1) == TVK_J_INVALID);
}

static void check_bars(const ctx *c, tvk_series_update *u)
{
    check_str(c, u->session);
    check_str(c, u->series_id);
    check_str(c, u->turnaround);
    size_t got = 0;
    tvk_bar bar;
    int rc;
    while ((rc = tvk_bar_next(&u->bars, &bar)) == 1) {
        FUZZ_CHECK(++got <= u->nbars);
    }
    FUZZ_CHECK(rc == 0 || rc == TVK_ESHAPE);
    if (rc == 0) FUZZ_CHECK(got == u->nbars);
    FUZZ_CHECK(tvk_bar_next(&u->bars, &bar) == 0);
}

static void views(const ctx *c)
{
    const tvk_msg *m = c->m;
    int rc;

    tvk_hello h;
    rc = tvk_msg_hello(m, &h);
    FUZZ_CHECK(rc == 0 || rc == TVK_ESHAPE);
    FUZZ_CHECK((rc == 0) ==
               (m->type == TVK_MSG_HELLO && m->json &&
                tvk_json_type(m->json, tvk_json_member(m->json, 0, "session_id")) == TVK_J_STRING));
    if (rc == 0) {
        check_str(c, h.session_id);
        check_str(c, h.release);
    }

    tvk_series_update u;
    int idx = 0;
    while ((rc = tvk_msg_series_at(m, idx, &u)) == 0) {
        FUZZ_CHECK(idx < c->n);
        check_bars(c, &u);
        idx++;
        /* the same series by its id (the first with that id, which may come earlier) */
        char id[128];
        tvk_series_update u2;
        if (u.series_id.len < sizeof id && memchr(u.series_id.p, '\\', u.series_id.len) == NULL &&
            memchr(u.series_id.p, '\0', u.series_id.len) == NULL) {
            memcpy(id, u.series_id.p, u.series_id.len);
            id[u.series_id.len] = '\0';
            rc = tvk_msg_series(m, id, &u2);
            FUZZ_CHECK(rc == 0 || rc == TVK_ENOTFOUND);
            if (rc == 0) {
                FUZZ_CHECK(u2.series_id.len == u.series_id.len &&
                           !memcmp(u2.series_id.p, id, u.series_id.len));
                check_bars(c, &u2);
            }
        }
    }
    FUZZ_CHECK(rc == TVK_ENOTFOUND || rc == TVK_ESHAPE);
    if (m->type != TVK_MSG_TIMESCALE_UPDATE && m->type != TVK_MSG_DU) FUZZ_CHECK(idx == 0);
    rc = tvk_msg_series(m, "sds_1", &u);
    FUZZ_CHECK(rc == 0 || rc == TVK_ENOTFOUND || rc == TVK_ESHAPE);
    if (rc == 0) check_bars(c, &u);

    tvk_series_completed sc;
    rc = tvk_msg_series_completed(m, &sc);
    FUZZ_CHECK(rc == 0 || rc == TVK_ESHAPE);
    if (rc == 0) {
        FUZZ_CHECK(m->type == TVK_MSG_SERIES_COMPLETED);
        check_str(c, sc.session);
        check_str(c, sc.series_id);
        check_str(c, sc.update_mode);
        check_str(c, sc.turnaround);
        check_str(c, sc.data_completed);
    }

    tvk_series_loading sl;
    rc = tvk_msg_series_loading(m, &sl);
    FUZZ_CHECK(rc == 0 || rc == TVK_ESHAPE);
    if (rc == 0) {
        check_str(c, sl.session);
        check_str(c, sl.series_id);
        check_str(c, sl.turnaround);
    }

    tvk_series_timeframe tf;
    rc = tvk_msg_series_timeframe(m, &tf);
    FUZZ_CHECK(rc == 0 || rc == TVK_ESHAPE);
    if (rc == 0) {
        FUZZ_CHECK(tf.final == 0 || tf.final == 1);
        check_str(c, tf.session);
        check_str(c, tf.series_id);
        check_str(c, tf.turnaround);
        check_str(c, tf.range);
    }

    tvk_symbol_info si;
    rc = tvk_msg_symbol_resolved(m, &si);
    FUZZ_CHECK(rc == 0 || rc == TVK_ESHAPE);
    if (rc == 0) {
        check_tok(c, si.info);
        FUZZ_CHECK(tvk_json_type(m->json, si.info) == TVK_J_OBJECT);
        FUZZ_CHECK(si.has_intraday >= -1 && si.has_intraday <= 1);
        tvk_str all[] = {si.session,   si.symref,        si.name,     si.pro_name,
                         si.full_name, si.description,   si.exchange, si.listed_exchange,
                         si.type,      si.currency_code, si.timezone, si.session_hours};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            check_str(c, all[i]);
    }

    tvk_error_info e;
    rc = tvk_msg_error(m, &e);
    FUZZ_CHECK(rc == 0 || rc == TVK_ESHAPE);
    if (rc == 0) {
        check_tok(c, e.reason_tok);
        check_str(c, e.session);
        check_str(c, e.id);
        check_str(c, e.reason);
        check_str(c, e.detail);
    }

    tvk_qsd q;
    rc = tvk_msg_qsd(m, &q);
    FUZZ_CHECK(rc == 0 || rc == TVK_ESHAPE);
    if (rc == 0) {
        check_str(c, q.session);
        check_str(c, q.symbol);
        check_str(c, q.errmsg);
        FUZZ_CHECK(q.ok == 0 || q.ok == 1);
        FUZZ_CHECK(q.nfields >= 0 && (q.values >= 0 || q.nfields == 0));
        for (int i = 0; i < q.nfields; i++) {
            tvk_str name;
            int vt = -1;
            FUZZ_CHECK(tvk_qsd_field(m, &q, i, &name, &vt) == 0);
            check_str(c, name);
            check_tok(c, vt);
            FUZZ_CHECK(tvk_json_type(m->json, vt - 1) == TVK_J_STRING);
        }
        tvk_str name;
        int vt;
        FUZZ_CHECK(tvk_qsd_field(m, &q, q.nfields, &name, &vt) == TVK_ENOTFOUND);
        FUZZ_CHECK(tvk_qsd_field(m, &q, -1, &name, &vt) == TVK_ENOTFOUND);
    }

    tvk_quote_completed qc;
    rc = tvk_msg_quote_completed(m, &qc);
    FUZZ_CHECK(rc == 0 || rc == TVK_ESHAPE);
    if (rc == 0) {
        check_str(c, qc.session);
        check_str(c, qc.symbol);
    }
}

static void check_msg(const tvk_msg *m)
{
    FUZZ_CHECK((unsigned)m->type < TVK_MSG__COUNT);
    FUZZ_CHECK(tvk_msg_type_name(m->type) != NULL);
    ctx c = {m, m->json, m->json ? tvk_json_count(m->json) : 0};
    check_str(&c, m->method);
    check_str(&c, m->session);
    if (m->type == TVK_MSG_HEARTBEAT) {
        FUZZ_CHECK(m->json == NULL && m->heartbeat >= 0);
    } else {
        FUZZ_CHECK(m->json != NULL && c.n > 0);
        FUZZ_CHECK(tvk_json_type(m->json, 0) == TVK_J_OBJECT);
        if (m->params >= 0) FUZZ_CHECK(tvk_json_type(m->json, m->params) == TVK_J_ARRAY);
        walk(&c);
    }
    views(&c);
}

static void check_plain(tvk_reader *r2, const char *p, size_t n)
{
    tvk_qsd_plain q;
    if (r2 && tvk_qsd_plain_parse(p, n, &q)) FUZZ_CHECK(qsd_same(r2, p, n, &q) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    tvk_reader *r = tvk_reader_new(0), *r2 = tvk_reader_new(0);
    if (!r) {
        tvk_reader_free(r2);
        return 0;
    }
    tvk_msg m;
    int rc;
    if (size >= 3 && !memcmp(in, "~m~", 3)) {
        FUZZ_CHECK(tvk_reader_feed(r, in, size) == 0);
        size_t n = 0;
        while ((rc = tvk_reader_next_msg(r, &m)) != 0) {
            FUZZ_CHECK(++n <= size);
            if (rc == 1 || rc == TVK_EJSON || rc == TVK_ESHAPE)
                check_plain(r2, m.pkt.data, m.pkt.len);
            if (rc == 1) {
                check_msg(&m);
            } else {
                FUZZ_CHECK(tvk_reader_errmsg(r)[0] != '\0');
                /* a bad packet (JSON, shape, heartbeat) or a framing error that ends it */
                FUZZ_CHECK(rc == TVK_EJSON || rc == TVK_ESHAPE || rc == TVK_ENUMBER ||
                           rc == TVK_ENOMEM ||
                           (rc <= TVK_EFRAME_LENDIGITS && rc >= TVK_EFRAME_LENGTH));
            }
        }
    } else {
        check_plain(r2, in, size);
        rc = tvk_reader_parse_payload(r, in, size, &m);
        if (rc == 0) {
            check_msg(&m);
        } else {
            FUZZ_CHECK(m.json == NULL);
            FUZZ_CHECK(tvk_reader_errmsg(r)[0] != '\0');
        }
    }
    tvk_reader_free(r);
    tvk_reader_free(r2);
    return 0;
}
