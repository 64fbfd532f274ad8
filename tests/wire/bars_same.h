/* Shared by the wire tests and the bars fuzz target: does a history answer read by the plain
 * reader (tvk_series_plain_parse) read the same through the generic path (tokens,
 * tvk_msg_series, tvk_bar_next, the root's "t" by tvk_json_member + tvk_json_int64), field by
 * field and bit for bit? Each caller reports a difference its own way (cmocka, abort). */
#ifndef TVK_TEST_BARS_SAME_H
#define TVK_TEST_BARS_SAME_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tvkit/wire.h"

/* Bit-identical, or both NaN. */
static inline bool bars_same_double(double a, double b)
{
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return !memcmp(&a, &b, sizeof a);
}

static inline bool bars_same_str(tvk_str a, tvk_str b)
{
    return a.len == b.len && (!a.len || !memcmp(a.p, b.p, a.len));
}

static inline bool bars_same_bar(const tvk_bar *a, const tvk_bar *b)
{
    return a->index == b->index && bars_same_double(a->time, b->time) &&
           bars_same_double(a->open, b->open) && bars_same_double(a->high, b->high) &&
           bars_same_double(a->low, b->low) && bars_same_double(a->close, b->close) &&
           bars_same_double(a->volume, b->volume);
}

/* Payload p (n bytes) was accepted by tvk_series_plain_parse for series id, which filled *u and
 * handed out the bars v[0..nv). True when the generic path accepts it as an answer and reads the
 * same session, root "t", series (found or not), fields and bars; else false, and why (cap
 * bytes) says what differs first. r: a reader to parse with. */
static inline bool bars_same(tvk_reader *r, const char *p, size_t n, const char *id,
                             const tvk_series_plain *u, const tvk_bar *v, size_t nv, char *why,
                             size_t cap)
{
    tvk_msg m;
    int grc = tvk_reader_parse_payload(r, p, n, &m);
    if (grc != 0) {
        snprintf(why, cap, "plain accepted what the generic path rejects (%d: %s)", grc,
                 tvk_reader_errmsg(r));
        return false;
    }
    if (m.type != TVK_MSG_TIMESCALE_UPDATE && m.type != TVK_MSG_DU) {
        snprintf(why, cap, "plain accepted a %s", tvk_msg_type_name(m.type));
        return false;
    }
    if (!bars_same_str(m.session, u->session)) {
        snprintf(why, cap, "session differs");
        return false;
    }
    /* the root's "t", as tvk__series_on_msg reads it */
    int tt = tvk_json_member(m.json, 0, "t");
    int64_t t = 0;
    int has_t = tt >= 0 && tvk_json_int64(m.json, tt, &t) == 0;
    if (has_t != u->has_time || (has_t && t != u->time)) {
        snprintf(why, cap, "root t differs (%d %lld, plain %d %lld)", has_t, (long long)t,
                 u->has_time, (long long)u->time);
        return false;
    }
    tvk_series_update g;
    int src = tvk_msg_series(&m, id, &g);
    if (src == TVK_ENOTFOUND) {
        if (!u->found && nv == 0) return true;
        snprintf(why, cap, "plain found a series the generic path does not");
        return false;
    }
    if (src != 0) {
        snprintf(why, cap, "tvk_msg_series failed (%d) on what plain accepted", src);
        return false;
    }
    if (!u->found) {
        snprintf(why, cap, "plain missed the series");
        return false;
    }
    if (!bars_same_str(g.series_id, u->series_id) || !bars_same_str(g.turnaround, u->turnaround) ||
        g.bar_close_time != u->bar_close_time || g.nbars != u->nbars || nv != u->nbars) {
        snprintf(why, cap, "series fields differ (bct %lld/%lld, nbars %zu/%zu/%zu)",
                 (long long)g.bar_close_time, (long long)u->bar_close_time, g.nbars, u->nbars, nv);
        return false;
    }
    tvk_bar b;
    size_t i = 0;
    int brc;
    while ((brc = tvk_bar_next(&g.bars, &b)) > 0) {
        if (i >= nv || !bars_same_bar(&b, &v[i])) {
            snprintf(why, cap,
                     "bar %zu differs (index %lld/%lld, time %.17g/%.17g, volume %.17g/%.17g)", i,
                     (long long)b.index, i < nv ? (long long)v[i].index : -1LL, b.time,
                     i < nv ? v[i].time : 0.0, b.volume, i < nv ? v[i].volume : 0.0);
            return false;
        }
        i++;
    }
    if (brc < 0) {
        snprintf(why, cap, "plain read a bar tvk_bar_next rejects (%d)", brc);
        return false;
    }
    if (i != nv) {
        snprintf(why, cap, "tvk_bar_next gave %zu bars, plain %zu", i, nv);
        return false;
    }
    return true;
}

#endif
