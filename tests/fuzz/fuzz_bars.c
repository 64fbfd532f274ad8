/* Differential target for the history answer read without tokens (src/wire/bars.c): whatever
 * tvk_series_plain_parse accepts, the generic path (tvk_reader_parse_payload, tvk_msg_series,
 * tvk_bar_next, the root's "t" by tvk_json_member + tvk_json_int64) accepts too and reads the
 * same, field by field and bit for bit; a declined document gives 0, never anything else.
 * Input: a framed message (every packet is checked) or, when it does not start with "~m~", one
 * payload. Each payload is checked for the series "sds_1" and for the first price series the
 * generic path finds. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tvkit/wire.h"

#include "fuzz_check.h"

#define MAX_BARS 4096

typedef struct got {
    tvk_bar v[MAX_BARS];
    size_t n;
} got;

static int collect(void *user, const tvk_bar *b)
{
    got *g = user;
    if (g->n == MAX_BARS) return TVK_EBUFSIZE;
    g->v[g->n++] = *b;
    return 0;
}

static int same_double(double a, double b)
{
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return !memcmp(&a, &b, sizeof a);
}

static int same_str(tvk_str a, tvk_str b)
{
    return a.len == b.len && (!a.len || !memcmp(a.p, b.p, a.len));
}

static void check(tvk_reader *r, const char *p, size_t n, const char *id, got *g)
{
    tvk_series_plain u;
    g->n = 0;
    int rc = tvk_series_plain_parse(p, n, id, &u, collect, g);
    if (rc == TVK_EBUFSIZE) return; /* more bars than this target keeps */
    FUZZ_CHECK(rc == 0 || rc == 1);
    if (rc == 0) return;
    tvk_msg m;
    FUZZ_CHECK(tvk_reader_parse_payload(r, p, n, &m) == 0);
    FUZZ_CHECK(m.type == TVK_MSG_TIMESCALE_UPDATE || m.type == TVK_MSG_DU);
    FUZZ_CHECK(same_str(m.session, u.session));
    int tt = tvk_json_member(m.json, 0, "t");
    int64_t t = 0;
    int has_t = tt >= 0 && tvk_json_int64(m.json, tt, &t) == 0;
    FUZZ_CHECK(has_t == u.has_time && (!has_t || t == u.time));
    tvk_series_update s;
    int src = tvk_msg_series(&m, id, &s);
    if (src == TVK_ENOTFOUND) {
        FUZZ_CHECK(!u.found && g->n == 0);
        return;
    }
    FUZZ_CHECK(src == 0 && u.found);
    FUZZ_CHECK(same_str(s.series_id, u.series_id) && same_str(s.turnaround, u.turnaround));
    FUZZ_CHECK(s.bar_close_time == u.bar_close_time && s.nbars == u.nbars && g->n == u.nbars);
    tvk_bar b;
    size_t i = 0;
    int brc;
    while ((brc = tvk_bar_next(&s.bars, &b)) > 0) {
        FUZZ_CHECK(i < g->n);
        const tvk_bar *a = &g->v[i++];
        FUZZ_CHECK(a->index == b.index && same_double(a->time, b.time) &&
                   same_double(a->open, b.open) && same_double(a->high, b.high) &&
                   same_double(a->low, b.low) && same_double(a->close, b.close) &&
                   same_double(a->volume, b.volume));
    }
    FUZZ_CHECK(brc == 0 && i == g->n);
}

static void payload(tvk_reader *r, const char *p, size_t n, got *g)
{
    check(r, p, n, "sds_1", g);
    tvk_msg m;
    tvk_series_update s;
    char id[64];
    if (tvk_reader_parse_payload(r, p, n, &m) == 0 && tvk_msg_series_at(&m, 0, &s) == 0 &&
        s.series_id.len < sizeof id && !memchr(s.series_id.p, '\0', s.series_id.len)) {
        memcpy(id, s.series_id.p, s.series_id.len);
        id[s.series_id.len] = '\0';
        check(r, p, n, id, g);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    got *g = malloc(sizeof *g); /* 200 KB: not on the stack */
    tvk_reader *r = tvk_reader_new(0), *f = tvk_reader_new(0);
    if (!g || !r || !f) abort();
    const char *s = (const char *)data;
    if (size >= 3 && !memcmp(s, "~m~", 3)) {
        tvk_packet pkt;
        int k;
        if (tvk_reader_feed(f, s, size) == 0)
            while ((k = tvk_reader_next(f, &pkt)) > 0 || k == TVK_ENUMBER)
                if (k > 0 && pkt.kind == TVK_PKT_JSON) payload(r, pkt.data, pkt.len, g);
    } else {
        payload(r, s, size, g);
    }
    tvk_reader_free(f);
    tvk_reader_free(r);
    free(g);
    return 0;
}
