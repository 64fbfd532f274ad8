/* The real captures: every "~m~"-framed file decodes with zero errors and the per-type packet
 * counts README.txt states; every message passes its typed view; re-framing the packets gives
 * each line back byte for byte. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tvkit/wire.h"

#include "wire_testutil.h"

static const char *captures;

typedef struct tally {
    long lines, packets, errors;
    long count[TVK_MSG__COUNT];
    long bars, bars_nan_volume;
    long snapshot_sizes[16];
    int nsnapshots;
    int saw_s2, saw_non_ascii;
} tally;

/* Runs every typed view that applies; any failure fails the test. */
static void check_views(const tvk_msg *m, tally *t)
{
    int rc = 0;
    switch (m->type) {
    case TVK_MSG_HELLO: {
        tvk_hello h;
        rc = tvk_msg_hello(m, &h);
        break;
    }
    case TVK_MSG_QSD: {
        tvk_qsd q;
        rc = tvk_msg_qsd(m, &q);
        for (int i = 0; !rc && i < q.nfields; i++) {
            tvk_str name;
            int v;
            rc = tvk_qsd_field(m, &q, i, &name, &v);
        }
        break;
    }
    case TVK_MSG_QUOTE_COMPLETED: {
        tvk_quote_completed q;
        rc = tvk_msg_quote_completed(m, &q);
        break;
    }
    case TVK_MSG_TIMESCALE_UPDATE:
    case TVK_MSG_DU: {
        tvk_series_update su;
        for (int i = 0; tvk_msg_series_at(m, i, &su) == 0; i++) {
            tvk_bar b;
            size_t n = 0;
            int r;
            while ((r = tvk_bar_next(&su.bars, &b)) == 1) {
                n++;
                t->bars++;
                t->bars_nan_volume += isnan(b.volume);
                if (!(b.time > 1e9 && b.time < 2e9))
                    fail_msg("bar %lld: time %f is not a recent unix time", (long long)b.index,
                             b.time);
            }
            if (r < 0) rc = r;
            assert_int_equal(n, su.nbars);
            if (m->type == TVK_MSG_TIMESCALE_UPDATE && n && t->nsnapshots < 16)
                t->snapshot_sizes[t->nsnapshots++] = (long)n;
        }
        break;
    }
    case TVK_MSG_SERIES_LOADING:
    case TVK_MSG_STUDY_LOADING:
    case TVK_MSG_STUDY_COMPLETED:
    case TVK_MSG_STUDY_DELETED: {
        tvk_series_loading s;
        rc = tvk_msg_series_loading(m, &s);
        if (!rc && m->type == TVK_MSG_SERIES_LOADING && s.turnaround.len == 2 &&
            !memcmp(s.turnaround.p, "s2", 2))
            t->saw_s2 = 1;
        break;
    }
    case TVK_MSG_SERIES_COMPLETED: {
        tvk_series_completed s;
        rc = tvk_msg_series_completed(m, &s);
        break;
    }
    case TVK_MSG_SERIES_TIMEFRAME: {
        tvk_series_timeframe s;
        rc = tvk_msg_series_timeframe(m, &s);
        break;
    }
    case TVK_MSG_SYMBOL_RESOLVED: {
        tvk_symbol_info s;
        rc = tvk_msg_symbol_resolved(m, &s);
        if (!rc) assert_true(s.name.len > 0 && s.pricescale > 0);
        break;
    }
    default:
        break;
    }
    if (rc)
        fail_msg("%s message at offset %zu fails its view: %d", tvk_msg_type_name(m->type),
                 m->pkt.offset, rc);
    for (size_t i = 0; i < m->pkt.len; i++)
        if ((unsigned char)m->pkt.data[i] >= 0x80) {
            t->saw_non_ascii = 1;
            break;
        }
}

typedef struct file_run {
    const char *name;
    tally *t;
    tvk_reader *r;
    tvk_buf again;
} file_run;

static int run_line(void *ctx, const char *line, size_t n)
{
    file_run *f = ctx;
    tally *t = f->t;
    tvk_reader *r = f->r;
    t->lines++;
    tvk_msg m;
    int rc;
    if (n >= 3 && !memcmp(line, "~m~", 3)) {
        tvk_buf_reset(&f->again);
        assert_int_equal(tvk_reader_feed(r, line, n), 0);
        while ((rc = tvk_reader_next_msg(r, &m)) != 0) {
            if (rc < 0) {
                print_error("%s:%ld: %s\n", f->name, t->lines, tvk_reader_errmsg(r));
                t->errors++;
                continue;
            }
            t->packets++;
            t->count[m.type]++;
            check_views(&m, t);
            assert_int_equal(tvk_frame(&f->again, m.pkt.data, m.pkt.len), 0);
        }
        /* The encoder reproduces the captured bytes. */
        assert_int_equal(f->again.len, n);
        assert_memory_equal(f->again.data, line, n);
    } else {
        rc = tvk_reader_parse_payload(r, line, n, &m);
        if (rc < 0) {
            print_error("%s:%ld: %s\n", f->name, t->lines, tvk_reader_errmsg(r));
            t->errors++;
            return 0;
        }
        t->packets++;
        t->count[m.type]++;
        check_views(&m, t);
    }
    return 0;
}

static void run_file(const char *name, tally *t)
{
    memset(t, 0, sizeof *t);
    file_run f = {name, t, tvk_reader_new(0), {0}};
    assert_non_null(f.r);
    tvk_buf_init(&f.again);
    if (wt_each_line(captures, name, run_line, &f)) fail_msg("cannot read capture %s", name);
    tvk_buf_free(&f.again);
    tvk_reader_free(f.r);
}

static int has_size(const tally *t, long n)
{
    for (int i = 0; i < t->nsnapshots; i++)
        if (t->snapshot_sizes[i] == n) return 1;
    return 0;
}

static void test_wire_captures_har_server(void **state)
{
    (void)state;
    tally t;
    run_file("stock-tools_trading-chart_har_server_to_client.txt", &t);
    assert_int_equal(t.errors, 0);
    assert_int_equal(t.lines, 37);
    assert_int_equal(t.packets, 1438);
    assert_int_equal(t.count[TVK_MSG_HELLO], 1);
    assert_int_equal(t.count[TVK_MSG_SERIES_LOADING], 2);
    assert_int_equal(t.count[TVK_MSG_SYMBOL_RESOLVED], 2);
    assert_int_equal(t.count[TVK_MSG_TIMESCALE_UPDATE], 5);
    assert_int_equal(t.count[TVK_MSG_SERIES_COMPLETED], 2);
    assert_int_equal(t.count[TVK_MSG_TICKMARK_UPDATE], 1);
    assert_int_equal(t.count[TVK_MSG_STUDY_LOADING], 12);
    assert_int_equal(t.count[TVK_MSG_DU], 11);
    assert_int_equal(t.count[TVK_MSG_STUDY_COMPLETED], 12);
    assert_int_equal(t.count[TVK_MSG_QSD], 736);
    assert_int_equal(t.count[TVK_MSG_QUOTE_COMPLETED], 652);
    assert_int_equal(t.count[TVK_MSG_HEARTBEAT], 2);
    assert_int_equal(t.count[TVK_MSG_OTHER], 0);
    assert_true(t.bars > 0);
}

static void test_wire_captures_tradingview_rs_split(void **state)
{
    (void)state;
    tally t;
    run_file("tradingview-rs_socket_messages_split.txt", &t);
    assert_int_equal(t.errors, 0);
    assert_int_equal(t.lines, 42);
    assert_int_equal(t.packets, 42);
    assert_int_equal(t.count[TVK_MSG_TIMESCALE_UPDATE], 6);
    assert_int_equal(t.count[TVK_MSG_SERIES_TIMEFRAME], 8);
    assert_int_equal(t.count[TVK_MSG_SERIES_COMPLETED], 6);
    assert_int_equal(t.count[TVK_MSG_DU], 5);
    assert_int_equal(t.count[TVK_MSG_STUDY_COMPLETED], 5);
    assert_int_equal(t.count[TVK_MSG_SYMBOL_RESOLVED], 2);
    assert_int_equal(t.count[TVK_MSG_QSD], 5);
    assert_int_equal(t.count[TVK_MSG_QUOTE_COMPLETED], 5);
    assert_true(has_size(&t, 2637) && has_size(&t, 3507) && has_size(&t, 368));
    assert_true(t.bars_nan_volume > 0); /* index bars with only 5 values */
}

static void test_wire_captures_har_client(void **state)
{
    (void)state;
    tally t;
    run_file("stock-tools_trading-chart_har_client_to_server.txt", &t);
    assert_int_equal(t.errors, 0);
    assert_int_equal(t.lines, 689);
    assert_true(t.packets >= 689);
    /* Client methods are unknown server messages: kept as OTHER with their name. */
    assert_true(t.count[TVK_MSG_OTHER] > 600);
}

static void test_wire_captures_jsonl(void **state)
{
    (void)state;
    tally t;
    run_file("tradingview-rs_events_reserialized.jsonl", &t);
    assert_int_equal(t.errors, 0);
    assert_int_equal(t.lines, 21);
    assert_int_equal(t.packets, 21);
    assert_int_equal(t.count[TVK_MSG_OTHER], 0);
    assert_true(t.saw_s2);
    assert_true(t.saw_non_ascii);
}

int main(int argc, char **argv)
{
    captures = wt_captures_dir(argc, argv);
    if (!captures) return 2;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_captures_har_server),
        cmocka_unit_test(test_wire_captures_tradingview_rs_split),
        cmocka_unit_test(test_wire_captures_har_client),
        cmocka_unit_test(test_wire_captures_jsonl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
