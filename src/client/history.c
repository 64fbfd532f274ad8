/* Blocking history downloads: one series opened, waited for and closed. */
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

void tvk_bars_free(tvk_bars *b)
{
    if (!b) return;
    free(b->v);
    memset(b, 0, sizeof *b);
}

static int fetch(tvk_conn *c, tvk_series_req *r, tvk_bars *out)
{
    tvk_series *s;
    int rc = tvk_series_open(c, r, &s);
    if (rc < 0) return rc;
    rc = tvk_series_wait(s, -1);
    if (rc == 0) {
        tvk_series_take_bars(s, out);
    } else if (s->state == TVK_SERIES_FAILED) {
        tvk__conn_set_err(c, s->err, "%s", s->errmsg);
    }
    tvk_series_close(s);
    return rc;
}

int tvk_history(tvk_conn *c, const char *symbol, const char *interval, int64_t count,
                const tvk_req_opts *opts, tvk_bars *out)
{
    if (!out) return TVK_EINVAL;
    memset(out, 0, sizeof *out);
    if (!c) return TVK_EINVAL;
    tvk_series_req r;
    tvk_series_req_init(&r);
    r.symbol = symbol;
    r.interval = interval;
    r.count = count;
    if (opts) r.opts = *opts;
    return fetch(c, &r, out);
}

int tvk_history_range(tvk_conn *c, const char *symbol, const char *interval, int64_t from,
                      int64_t to, const tvk_req_opts *opts, tvk_bars *out)
{
    if (!out) return TVK_EINVAL;
    memset(out, 0, sizeof *out);
    if (!c) return TVK_EINVAL;
    if (to <= 0 || from >= to || from < 0) {
        tvk__conn_set_err(c, TVK_EINVAL, "invalid range [%lld, %lld): need 0 <= from < to",
                          (long long)from, (long long)to);
        return TVK_EINVAL;
    }
    tvk_series_req r;
    tvk_series_req_init(&r);
    r.symbol = symbol;
    r.interval = interval;
    r.from = from;
    r.to = to;
    if (opts) r.opts = *opts;
    return fetch(c, &r, out);
}
