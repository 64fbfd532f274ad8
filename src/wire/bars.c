/* A history answer (timescale_update / du) read without tokens: the history download's hot path.
 *
 * A 5,000-bar answer is ~55,000 tokens (1.1 MB) when tokenized, and the bars are then walked a
 * second time through the views. Here the compact layout the server writes is read in one pass
 * with the tokenizer's own string and number scanners (scan.h), each bar handed to the caller as
 * soon as it is read, and every other part of the document (p[2], "ns", the root's "t_ms") is
 * validated without being stored. What is accepted, and every value read, is what the generic
 * path (tvk_json_parse, tvk_msg_series, tvk_bar_next, tvk_json_member(root, "t")) gives;
 * anything it does not know (whitespace, escaped keys, other bar shapes, deep nesting) is
 * declined and left to the generic path, which validates and reports. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "scan.h"

/* Nesting the validator follows before it declines (the tokenizer's own limit is 512). */
#define SKIP_MAX_DEPTH 32

/* "no value" sentinel of TradingView, NaN in a bar (as tvk_bar_next reads it). */
#define TV_NO_VALUE 1e100

static inline __attribute__((always_inline)) int at(const scan *sc, char c)
{
    return sc->p < sc->end && *sc->p == (unsigned char)c;
}

/* A short fixed text (n a constant up to 8, s padded to 8 bytes): the bars' keys and brackets
 * compared as one word, not by a libc call. */
static inline __attribute__((always_inline)) int lit8(scan *sc, const char s[8], size_t n)
{
    uint64_t a = 0, b;
    if ((size_t)(sc->end - sc->p) < n) return 0;
    memcpy(&a, sc->p, n < 8 ? n : 8);
    memcpy(&b, s, 8);
    if (a != b) return 0;
    sc->p += n;
    return 1;
}

/* A key and its ':'. Escaped keys are declined: they may stand for a key this reader looks for
 * (tvk_json_member unescapes), and the server never escapes one. */
static inline int key_at(scan *sc, tvk_str *k)
{
    if (!scan_str_at(sc, k) || memchr(k->p, '\\', k->len) || !at(sc, ':')) return 0;
    sc->p++;
    return 1;
}

static inline int key_is(tvk_str k, const char *s, size_t n)
{
    return k.len == n && !memcmp(k.p, s, n);
}

/* A number at sc->p into *t (start, end and the tokenizer's value). */
static inline __attribute__((always_inline)) int num_at(scan *sc, jtok *t)
{
    if (sc->p >= sc->end || (*sc->p != '-' && !is_digit(*sc->p))) return 0;
    t->type = TVK_J_NUMBER;
    t->start = (int)(sc->p - sc->s);
    if (scan_number(sc, t)) return 0;
    t->end = (int)(sc->p - sc->s);
    return 1;
}

/* A one-token document over a number, so that the integer readers are the generic path's own. */
static int num_int64(const scan *sc, const jtok *t, int64_t *v)
{
    jtok one = *t;
    tvk_json j = {(const char *)sc->s, (size_t)(sc->end - sc->s), &one, 1, 1, 0};
    return tvk_json_int64(&j, 0, v);
}

/* jt_double without a document: the scanned value, or the text converted. */
static inline __attribute__((always_inline)) int num_double(const scan *sc, const jtok *t,
                                                            double *v)
{
    if (!jt_is_later(t)) {
        *v = jt_num(t);
        return 0;
    }
    return tvk_parse_double((const char *)sc->s + t->start, (size_t)(t->end - t->start), v);
}

/* Any compact JSON value, validated as the tokenizer does and not stored. */
static int skip_value(scan *sc, int depth)
{
    if (sc->p >= sc->end) return 0;
    unsigned char c = *sc->p;
    if (c == '"') {
        tvk_str s;
        return scan_str_at(sc, &s);
    }
    if (c == '-' || is_digit(c)) {
        jtok t;
        return num_at(sc, &t);
    }
    if (c == 't') return scan_lit(sc, "true", 4);
    if (c == 'f') return scan_lit(sc, "false", 5);
    if (c == 'n') return scan_lit(sc, "null", 4);
    if (c != '{' && c != '[') return 0;
    if (depth >= SKIP_MAX_DEPTH) return 0;
    char close = c == '{' ? '}' : ']';
    sc->p++;
    if (at(sc, close)) {
        sc->p++;
        return 1;
    }
    for (;;) {
        if (c == '{') {
            tvk_str k;
            if (!scan_str_at(sc, &k) || !at(sc, ':')) return 0;
            sc->p++;
        }
        /* the elements of the time scale's arrays: numbers, without a call each */
        if (sc->p < sc->end && (*sc->p == '-' || is_digit(*sc->p))) {
            jtok t;
            if (scan_number(sc, &t)) return 0;
        } else if (!skip_value(sc, depth + 1)) {
            return 0;
        }
        if (at(sc, ',')) {
            sc->p++;
            continue;
        }
        if (!at(sc, close)) return 0;
        sc->p++;
        return 1;
    }
}

/* A bar value as tvk_bar_next reads it: a number (jt_double's value; the no-value sentinel as
 * NaN) or null (NaN). */
static inline __attribute__((always_inline)) int bar_value(scan *sc, double *v)
{
    const unsigned char *p = sc->p;
    if (p >= sc->end) return 0;
    if (*p == 'n') {
        static const char null8[8] = "null";
        if (!lit8(sc, null8, 4)) return 0;
        *v = NAN;
        return 1;
    }
    jtok t;
    if (scan_number(sc, &t)) return 0; /* it rejects what is not a number */
    if (!jt_is_later(&t))
        *v = jt_num(&t);
    else if (tvk_parse_double((const char *)p, (size_t)(sc->p - p), v))
        return 0;
    if (*v == TV_NO_VALUE) *v = NAN;
    return 1;
}

/* A value and the ',' after it. */
static inline __attribute__((always_inline)) int bar_value_comma(scan *sc, double *v)
{
    if (!bar_value(sc, v) || !at(sc, ',')) return 0;
    sc->p++;
    return 1;
}

/* {"i":N,"v":[5 or 6 numbers or nulls]}: the only bar shape read here. */
static inline __attribute__((always_inline)) int bar_at(scan *sc, tvk_bar *b)
{
    static const char head[8] = "{\"i\":", mid[8] = ",\"v\":[", tail[8] = "]}";
    jtok it;
    if (!lit8(sc, head, 5) || !num_at(sc, &it)) return 0;
    /* tvk_bar_next's index: an integral double in [0, 2^53), else what tvk_json_int64 takes. */
    double d;
    if (num_double(sc, &it, &d) == 0 && d >= 0 && d < 9007199254740992.0 && d == (double)(int64_t)d)
        b->index = (int64_t)d;
    else if (num_int64(sc, &it, &b->index))
        return 0;
    if (!lit8(sc, mid, 6) || !bar_value_comma(sc, &b->time) || !bar_value_comma(sc, &b->open) ||
        !bar_value_comma(sc, &b->high) || !bar_value_comma(sc, &b->low) ||
        !bar_value(sc, &b->close) || sc->p >= sc->end)
        return 0;
    if (*sc->p == ',') {
        sc->p++;
        if (!bar_value(sc, &b->volume)) return 0;
    } else {
        b->volume = NAN;
    }
    return lit8(sc, tail, 2);
}

/* The "s" array, each bar to cb as read. 1 = read; 0 = declined; < 0 = cb's code. */
static int bars_at(scan *sc, tvk_series_plain *out, tvk_bar_cb cb, void *user)
{
    if (!at(sc, '[')) return 0;
    sc->p++;
    if (at(sc, ']')) {
        sc->p++;
        return 1;
    }
    for (;;) {
        tvk_bar b;
        if (!bar_at(sc, &b)) return 0;
        out->nbars++;
        int rc = cb ? cb(user, &b) : 0;
        if (rc) return rc < 0 ? rc : TVK_EINVAL;
        if (at(sc, ',')) {
            sc->p++;
            continue;
        }
        if (!at(sc, ']')) return 0;
        sc->p++;
        return 1;
    }
}

/* lbs as the server writes it, {"bar_close_time":N}, read as tvk_msg_series reads it. */
static int lbs_at(scan *sc, int64_t *bct)
{
    static const char head[] = "{\"bar_close_time\":";
    jtok t;
    if (!scan_lit(sc, head, sizeof head - 1) || !num_at(sc, &t) || !at(sc, '}')) return 0;
    sc->p++;
    double d;
    if (num_int64(sc, &t, bct) == 0) return 1;
    *bct = num_double(sc, &t, &d) == 0 && fabs(d) < 9.2e18 ? (int64_t)d : 0;
    return 1;
}

/* The series object: members in any order; the first "s", "t" and "lbs" count, as with
 * tvk_json_member; "s" must be there. */
static int series_at(scan *sc, tvk_series_plain *out, tvk_bar_cb cb, void *user)
{
    int have_s = 0, have_t = 0, have_lbs = 0, rc;
    if (!at(sc, '{')) return 0;
    sc->p++;
    if (at(sc, '}')) return 0; /* no "s": not a price series */
    for (;;) {
        tvk_str k;
        if (!key_at(sc, &k)) return 0;
        if (!have_s && key_is(k, "s", 1)) {
            have_s = 1;
            if ((rc = bars_at(sc, out, cb, user)) != 1) return rc;
        } else if (!have_t && key_is(k, "t", 1)) {
            have_t = 1;
            if (at(sc, '"')) {
                if (!scan_str_at(sc, &out->turnaround)) return 0;
            } else if (!skip_value(sc, 3)) {
                return 0;
            }
        } else if (!have_lbs && key_is(k, "lbs", 3)) {
            have_lbs = 1;
            if (at(sc, '{') ? !lbs_at(sc, &out->bar_close_time) : !skip_value(sc, 3)) return 0;
        } else if (!skip_value(sc, 3)) {
            return 0;
        }
        if (at(sc, ',')) {
            sc->p++;
            continue;
        }
        if (!at(sc, '}') || !have_s) return 0;
        sc->p++;
        return 1;
    }
}

/* p[1]: the series map. The first member named series_id is the series (any other member is
 * validated and passed over, as tvk_msg_series does). */
static int map_at(scan *sc, const char *series_id, tvk_series_plain *out, tvk_bar_cb cb, void *user)
{
    size_t idl = strlen(series_id);
    if (!at(sc, '{')) return 0;
    sc->p++;
    if (at(sc, '}')) {
        sc->p++;
        return 1;
    }
    for (;;) {
        tvk_str k;
        int rc;
        if (!key_at(sc, &k)) return 0;
        if (!out->found && key_is(k, series_id, idl)) {
            out->found = 1;
            out->series_id = k;
            if (!at(sc, '{')) return 0; /* tvk_msg_series: not found; left to it */
            if ((rc = series_at(sc, out, cb, user)) != 1) return rc;
        } else if (!skip_value(sc, 2)) {
            return 0;
        }
        if (at(sc, ',')) {
            sc->p++;
            continue;
        }
        if (!at(sc, '}')) return 0;
        sc->p++;
        return 1;
    }
}

int tvk_series_plain_parse(const char *payload, size_t len, const char *series_id,
                           tvk_series_plain *out, tvk_bar_cb cb, void *user)
{
    static const char ts[] = "{\"m\":\"timescale_update\",\"p\":[", du[] = "{\"m\":\"du\",\"p\":[";
    if (!payload || !series_id || !out || len > INT32_MAX - 2) return 0; /* scanners count in int */
    memset(out, 0, sizeof *out);
    out->session.p = out->series_id.p = out->turnaround.p = "";
    const unsigned char *s = (const unsigned char *)payload;
    scan sc = scan_at(s, s, s + len);
    int rc;
    if (!scan_lit(&sc, ts, sizeof ts - 1) && !scan_lit(&sc, du, sizeof du - 1)) return 0;
    if (!scan_str_at(&sc, &out->session) || !at(&sc, ',')) return 0;
    sc.p++;
    if ((rc = map_at(&sc, series_id, out, cb, user)) != 1) return rc;
    /* p[2] (the time scale: "changes", "marks", ...) and anything after it */
    while (at(&sc, ',')) {
        sc.p++;
        if (!skip_value(&sc, 2)) return 0;
    }
    if (!at(&sc, ']')) return 0;
    sc.p++;
    /* The root's other members: the first "t" is the server time ("t_ms" and others pass). */
    int have_t = 0;
    while (at(&sc, ',')) {
        sc.p++;
        tvk_str k;
        if (!key_at(&sc, &k)) return 0;
        if (!have_t && key_is(k, "t", 1)) {
            have_t = 1;
            jtok t;
            if (sc.p < sc.end && (*sc.p == '-' || is_digit(*sc.p))) {
                if (!num_at(&sc, &t)) return 0;
                out->has_time = num_int64(&sc, &t, &out->time) == 0;
                if (!out->has_time) out->time = 0;
                continue;
            }
        }
        if (!skip_value(&sc, 1)) return 0;
    }
    if (!at(&sc, '}') || sc.p + 1 != sc.end) return 0;
    return 1;
}
