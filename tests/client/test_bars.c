/* History answers read without tokens by the series (tvk__series_on_plain) against the tokenized
 * path (tvk__conn_feed_tokens): two connections fed the same answers, one each way, end with the
 * same events, bars (bit for bit), states, errors and counters, through paging, live updates,
 * server-time closes, answers the fast reader declines, invalid JSON and a malformed bar; and
 * the fast one never builds a token store for the bars. No network: a send hook captures what
 * is sent. */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/client.h"

static int hook(void *user, const char *data, size_t len)
{
    (void)data;
    (void)len;
    (*(size_t *)user)++;
    return 0;
}

static tvk_conn *conn_new(size_t *sent)
{
    tvk_conn_opts o;
    tvk_conn_opts_init(&o);
    o.token = "unauthorized_user_token";
    o.max_bars_per_request = 5000;
    tvk_conn *c = tvk_conn_new_opts(&o);
    assert_non_null(c);
    tvk__conn_set_send_hook(c, hook, sent);
    return c;
}

static unsigned rnd(uint64_t *s, unsigned n)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (unsigned)(*s % n);
}

static void value(tvk_buf *b, uint64_t *rs)
{
    switch (rnd(rs, 10)) {
    case 0:
        tvk_buf_puts(b, "null");
        break;
    case 1:
        tvk_buf_puts(b, "1e+100");
        break;
    case 2:
        tvk_buf_printf(b, "%u.%u5e-%u", rnd(rs, 100), rnd(rs, 1000), rnd(rs, 40));
        break;
    case 3:
        tvk_buf_printf(b, "-%u.%012u", rnd(rs, 1000), rnd(rs, 1000000000));
        break;
    default:
        tvk_buf_printf(b, "%u.%02u", rnd(rs, 100000), rnd(rs, 100));
    }
}

/* n bars from time t0 (step s), index from idx0, in the server's layout; bad: the last bar has
 * four values (malformed). */
static void answer(tvk_buf *b, const char *m, const char *cs, uint64_t seed, int n, int64_t t0,
                   int64_t step, int idx0, int64_t bct, int64_t t, int bad)
{
    uint64_t rs = seed;
    tvk_buf_reset(b);
    tvk_buf_printf(b, "{\"m\":\"%s\",\"p\":[\"%s\",{\"sds_1\":{\"node\":\"n1\",\"s\":[", m, cs);
    for (int k = 0; k < n; k++) {
        tvk_buf_printf(b, "%s{\"i\":%d,\"v\":[%lld.0", k ? "," : "", idx0 + k,
                       (long long)(t0 + k * step));
        int nv = bad && k == n - 1 ? 4 : rnd(&rs, 5) ? 6 : 5;
        for (int j = 1; j < nv; j++) {
            tvk_buf_puts(b, ",");
            value(b, &rs);
        }
        tvk_buf_puts(b, "]}");
    }
    tvk_buf_printf(b, "],\"ns\":{\"d\":\"\",\"indexes\":[]},\"t\":\"s1\"");
    if (bct) tvk_buf_printf(b, ",\"lbs\":{\"bar_close_time\":%lld}", (long long)bct);
    tvk_buf_puts(b, "}}");
    if (!strcmp(m, "timescale_update"))
        tvk_buf_puts(b,
                     ",{\"index\":0,\"zoffset\":0,\"changes\":[],\"marks\":[],\"index_diff\":[]}");
    tvk_buf_puts(b, "]");
    if (t) tvk_buf_printf(b, ",\"t\":%lld,\"t_ms\":%lld000", (long long)t, (long long)t);
    tvk_buf_puts(b, "}");
}

typedef struct pair {
    tvk_conn *c[2];
    tvk_series *s[2];
    size_t sent[2];
    tvk_buf text, framed;
    long events;
} pair;

static int same_double(double a, double b)
{
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return !memcmp(&a, &b, sizeof a);
}

static void same_ohlcv(const tvk_ohlcv *a, const tvk_ohlcv *b, const char *what, size_t i)
{
    if (a->time != b->time || !same_double(a->open, b->open) || !same_double(a->high, b->high) ||
        !same_double(a->low, b->low) || !same_double(a->close, b->close) ||
        !same_double(a->volume, b->volume))
        fail_msg("%s bar %zu differs: time %lld/%lld close %.17g/%.17g volume %.17g/%.17g", what, i,
                 (long long)a->time, (long long)b->time, a->close, b->close, a->volume, b->volume);
}

/* Both connections' events so far are the same. */
static void same_events(pair *p)
{
    for (;;) {
        tvk_event a, b;
        int ra = tvk__ev_pop(p->c[0], &a), rb = tvk__ev_pop(p->c[1], &b);
        assert_int_equal(ra, rb);
        if (!ra) break;
        p->events++;
        assert_int_equal(a.type, b.type);
        same_ohlcv(&a.bar, &b.bar, tvk_event_type_name(a.type), 0);
        assert_int_equal(a.nbars, b.nbars);
        assert_int_equal(a.ended, b.ended);
        for (size_t i = 0; i < a.nbars; i++)
            same_ohlcv(&a.bars[i], &b.bars[i], "history", i);
        assert_int_equal(a.error, b.error);
        if (a.errmsg || b.errmsg) assert_string_equal(a.errmsg, b.errmsg);
    }
    tvk_conn_stats sa, sb;
    tvk_conn_get_stats(p->c[0], &sa);
    tvk_conn_get_stats(p->c[1], &sb);
    assert_int_equal(sa.packets_in, sb.packets_in);
    assert_int_equal(sa.parse_errors, sb.parse_errors);
    assert_int_equal(p->sent[0], p->sent[1]);
    assert_int_equal(tvk_series_get_state(p->s[0]), tvk_series_get_state(p->s[1]));
    assert_int_equal(tvk_series_error(p->s[0]), tvk_series_error(p->s[1]));
    assert_string_equal(tvk_series_errmsg(p->s[0]), tvk_series_errmsg(p->s[1]));
    const tvk_ohlcv *ba, *bb;
    size_t na, nb;
    int ea, eb;
    tvk_series_bars(p->s[0], &ba, &na, &ea);
    tvk_series_bars(p->s[1], &bb, &nb, &eb);
    assert_int_equal(na, nb);
    assert_int_equal(ea, eb);
    for (size_t i = 0; i < na; i++)
        same_ohlcv(&ba[i], &bb[i], "held", i);
}

/* Feeds fmt (with "%s" for the chart session first) to both, the first connection by the
 * usual path, the second with every packet tokenized. */
static void feed_text(pair *p, int k, const char *text, size_t n)
{
    tvk_buf_reset(&p->framed);
    assert_int_equal(tvk_frame(&p->framed, text, n), 0);
    if (k == 0)
        tvk__conn_feed(p->c[0], p->framed.data, p->framed.len);
    else
        tvk__conn_feed_tokens(p->c[1], p->framed.data, p->framed.len);
}

static void feedf(pair *p, const char *fmt, ...)
{
    for (int k = 0; k < 2; k++) {
        char *t = NULL;
        va_list ap;
        va_start(ap, fmt);
        char f2[1024];
        snprintf(f2, sizeof f2, "%s", fmt);
        char *s = strstr(f2, "%s");
        assert_non_null(s);
        /* the chart session goes where the first %s is */
        char head[1024];
        snprintf(head, sizeof head, "%.*s%s%s", (int)(s - f2), f2,
                 tvk_series_chart_session(p->s[k]), s + 2);
        int n = vasprintf(&t, head, ap);
        va_end(ap);
        assert_true(n > 0);
        feed_text(p, k, t, (size_t)n);
        free(t);
    }
    same_events(p);
}

static void feed_answer(pair *p, const char *m, uint64_t seed, int n, int64_t t0, int64_t step,
                        int idx0, int64_t bct, int64_t t, int bad)
{
    for (int k = 0; k < 2; k++) {
        answer(&p->text, m, tvk_series_chart_session(p->s[k]), seed, n, t0, step, idx0, bct, t,
               bad);
        feed_text(p, k, p->text.data, p->text.len);
    }
    same_events(p);
}

static void completed(pair *p)
{
    feedf(p, "{\"m\":\"series_completed\",\"p\":[\"%s\",\"sds_1\",\"streaming\",\"s1\"]}");
}

static void pair_open(pair *p, int64_t count, int live)
{
    memset(p, 0, sizeof *p);
    tvk_buf_init(&p->text);
    tvk_buf_init(&p->framed);
    for (int k = 0; k < 2; k++) {
        p->c[k] = conn_new(&p->sent[k]);
        tvk_series_req r;
        tvk_series_req_init(&r);
        r.symbol = "SIM:A";
        r.interval = "1";
        r.count = count;
        r.live = live;
        assert_int_equal(tvk_series_open(p->c[k], &r, &p->s[k]), 0);
    }
}

static void pair_close(pair *p)
{
    for (int k = 0; k < 2; k++) {
        tvk_series_close(p->s[k]);
        tvk_conn_free(p->c[k]);
    }
    tvk_buf_free(&p->text);
    tvk_buf_free(&p->framed);
}

static void test_client_bars_history_live(void **state)
{
    (void)state;
    pair p;
    pair_open(&p, 7000, 1);
    const int64_t t0 = 1700000040, step = 60, now = t0 + 7000 * step;
    /* 5,000 bars, then a page of 2,000 older ones overlapping by one */
    feed_answer(&p, "timescale_update", 1, 5000, t0 + 2000 * step, step, 0, now, 1700000000, 0);
    /* the fast connection built no token store for them (the other one did: ~1 MB) */
    assert_true(tvk_reader_buffer_bytes(p.c[0]->reader) < 64 * 1024);
    assert_true(tvk_reader_buffer_bytes(p.c[1]->reader) > 512 * 1024);
    completed(&p);
    feed_answer(&p, "timescale_update", 2, 2001, t0, step, -2001, now, 0, 0);
    completed(&p);
    assert_int_equal(tvk_series_get_state(p.s[0]), TVK_SERIES_READY);
    /* live: updates of the forming bar, new bars, a server clock past the close time */
    int64_t t = now;
    for (int i = 0; i < 40; i++) {
        int64_t bt = t0 + (6999 + i / 3) * step;
        feed_answer(&p, "du", 100 + (uint64_t)i, 1 + i % 2, bt, step, 6999 + i / 3, bt + step - 1,
                    i % 4 ? 0 : t + i, 0);
        if (i % 7 == 6)
            feedf(&p, "{\"m\":\"timescale_update\",\"p\":[\"%s\",{}],\"t\":%lld}",
                  (long long)(bt + 2 * step));
    }
    /* more bars in one du than the fast path holds back: the generic path takes it */
    feed_answer(&p, "du", 200, 100, t0 + 7020 * step, step, 7020, 0, 0, 0);
    /* not valid JSON: skipped by both, counted as a parse error */
    feedf(&p, "{\"m\":\"du\",\"p\":[\"%s\",{\"sds_1\":{\"s\":[1 2]}}]}");
    /* another series id, an empty map, a study: nothing for this series */
    feedf(&p, "{\"m\":\"du\",\"p\":[\"%s\",{\"sds_2\":{\"s\":[{\"i\":1,\"v\":[1,2,3,4,5]}]}}]}");
    feedf(&p, "{\"m\":\"du\",\"p\":[\"%s\",{\"st1\":{\"st\":[],\"t\":\"s1_st1\"}}],\"t\":%lld}",
          (long long)(now + 9999));
    /* a bar of four values: the series fails the same way */
    feed_answer(&p, "du", 300, 3, t0 + 7200 * step, step, 7200, 0, 0, 1);
    assert_int_equal(tvk_series_get_state(p.s[0]), TVK_SERIES_FAILED);
    /* a failed series reads nothing more */
    feed_answer(&p, "du", 301, 2, t0 + 7300 * step, step, 7300, 0, 0, 0);
    print_message("%ld events the same on both paths\n", p.events);
    assert_true(p.events > 40);
    pair_close(&p);
}

/* Range mode: the create_series answer is discarded, the range answer kept; a non-live series
 * ignores later updates. */
static void test_client_bars_range(void **state)
{
    (void)state;
    pair p;
    memset(&p, 0, sizeof p);
    tvk_buf_init(&p.text);
    tvk_buf_init(&p.framed);
    const int64_t t0 = 1700000040, step = 60;
    for (int k = 0; k < 2; k++) {
        p.c[k] = conn_new(&p.sent[k]);
        tvk_series_req r;
        tvk_series_req_init(&r);
        r.symbol = "SIM:A";
        r.interval = "1";
        r.from = t0;
        r.to = t0 + 300 * step;
        assert_int_equal(tvk_series_open(p.c[k], &r, &p.s[k]), 0);
    }
    feed_answer(&p, "timescale_update", 7, 10, t0 + 290 * step, step, 0, 0, 1700000000, 0);
    completed(&p);
    feed_answer(&p, "timescale_update", 8, 400, t0 - 100 * step, step, 0, 0, 1700000001, 0);
    completed(&p);
    assert_int_equal(tvk_series_get_state(p.s[0]), TVK_SERIES_READY);
    feed_answer(&p, "du", 9, 2, t0 + 400 * step, step, 400, 0, 0, 0);
    assert_true(p.events >= 1);
    pair_close(&p);
}

/* An answer the fast reader declines after its bars (whitespace before the root's end): the
 * bars it had taken are given back, and the generic path's reading is the only one kept. */
static void test_client_bars_declined(void **state)
{
    (void)state;
    pair p;
    pair_open(&p, 300, 0);
    const int64_t t0 = 1700000040, step = 60;
    for (int k = 0; k < 2; k++) {
        answer(&p.text, "timescale_update", tvk_series_chart_session(p.s[k]), 11, 300, t0, step, 0,
               0, 1700000000, 0);
        assert_true(p.text.len > 1);
        p.text.data[p.text.len - 1] = ' ';
        assert_int_equal(tvk_buf_puts(&p.text, "}"), 0);
        tvk_series_plain u;
        assert_int_equal(tvk_series_plain_parse(p.text.data, p.text.len, "sds_1", &u, NULL, NULL),
                         0);
        feed_text(&p, k, p.text.data, p.text.len);
    }
    same_events(&p);
    completed(&p);
    assert_int_equal(tvk_series_get_state(p.s[0]), TVK_SERIES_READY);
    assert_int_equal(p.events, 1);
    pair_close(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_bars_history_live),
        cmocka_unit_test(test_client_bars_range),
        cmocka_unit_test(test_client_bars_declined),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
