/* Differential target for the history answer read without tokens (src/wire/bars.c): whatever
 * tvk_series_plain_parse accepts, the generic path (tvk_reader_parse_payload, tvk_msg_series,
 * tvk_bar_next, the root's "t" by tvk_json_member + tvk_json_int64) accepts too and reads the
 * same, field by field and bit for bit (tests/wire/bars_same.h); a declined document gives 0, never
 * anything else. Input: a framed message (every packet is checked) or, when it does not start with
 * "~m~", one payload. Each payload is checked for the series "sds_1" and for the first price series
 * the generic path finds. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tvkit/wire.h"

#include "../wire/bars_same.h"
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

static void check(tvk_reader *r, const char *p, size_t n, const char *id, got *g)
{
    tvk_series_plain u;
    g->n = 0;
    int rc = tvk_series_plain_parse(p, n, id, &u, collect, g);
    if (rc == TVK_EBUFSIZE) return; /* more bars than this target keeps */
    FUZZ_CHECK(rc == 0 || rc == 1);
    if (rc == 0) return;
    char why[256];
    bool same = bars_same(r, p, n, id, &u, g->v, g->n, why, sizeof why);
    if (!same) fprintf(stderr, "fuzz_bars: %s\n", why);
    FUZZ_CHECK(same);
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
