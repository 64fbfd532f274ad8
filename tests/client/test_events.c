/* The event queue and the quote book's side of it: the compact QUOTE items of the event queue
 * (events.c), the ERROR items of quote entries, dropping queued items of removed/closed quote
 * sets, the queue bound, the word-wise backslash test of find_entry (quotes.c), routing by the
 * stored session-id lengths, and tvk_quote_to_json's inline room check. No network: a send hook
 * captures what is sent, server packets are fed as strings. */
#define _GNU_SOURCE /* vasprintf */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/client.h"
#include "feed.h"

static int hook(void *user, const char *data, size_t len)
{
    (void)data, (void)len;
    (*(size_t *)user)++;
    return 0;
}

static tvk_conn *conn(size_t *sent, int timeout_ms, size_t max_events)
{
    tvk_conn_opts o;
    tvk_conn_opts_init(&o);
    o.token = "unauthorized_user_token";
    if (timeout_ms) o.request_timeout_ms = timeout_ms;
    if (max_events) o.max_events = max_events;
    tvk_conn *c = tvk_conn_new_opts(&o);
    assert_non_null(c);
    tvk__conn_set_send_hook(c, hook, sent);
    return c;
}

static void qsd_ok(tvk_conn *c, tvk_quotes *q, const char *n, double lp)
{
    feedf(c, "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"%s\",\"s\":\"ok\",\"v\":{\"lp\":%.17g}}]}",
          tvk_quotes_session(q), n, lp);
}

static void qsd_err(tvk_conn *c, tvk_quotes *q, const char *n, const char *why)
{
    feedf(c,
          "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"%s\",\"s\":\"error\",\"errmsg\":\"%s\","
          "\"v\":{}}]}",
          tvk_quotes_session(q), n, why);
}

static void feed_history(tvk_conn *c, const char *cs, int nbars)
{
    tvk_buf p;
    tvk_buf_init(&p);
    tvk_buf_printf(&p, "{\"m\":\"timescale_update\",\"p\":[\"%s\",{\"sds_1\":{\"s\":[", cs);
    for (int k = 0; k < nbars; k++)
        tvk_buf_printf(&p, "%s{\"i\":%d,\"v\":[%d.0,1.5,2.0,1.0,1.25,100.0]}", k ? "," : "", k,
                       1700000000 + 60 * k);
    tvk_buf_puts(&p, "],\"t\":\"s1\",\"lbs\":{\"bar_close_time\":0}}}],\"t\":1700000000}");
    feedf(c, "%s", p.data);
    tvk_buf_free(&p);
    feedf(c,
          "{\"m\":\"series_completed\",\"p\":[\"%s\",\"sds_1\",\"streaming\",\"s1\","
          "{\"rt_update_period\":5,\"data_completed\":\"end\"}],\"t\":1,\"t_ms\":1}",
          cs);
}

/* ---------------------------------------------------------------- ERROR items keep their text */

/* A symbol the server rejects, then a snapshot of it (the server changed its mind, or a late
 * one) before the user takes events: the ERROR event reports TVK_ESYMBOL and must carry the
 * text it was made with ("what and where, with the server's text"), not the entry's current
 * errmsg buffer, which the snapshot cleared. */
static void test_events_error_text_after_snapshot(void **st)
{
    (void)st;
    size_t sent = 0;
    tvk_conn *c = conn(&sent, 0, 0);
    tvk_quotes *q;
    assert_int_equal(tvk_quotes_open(c, NULL, NULL, 0, NULL, &q), 0);
    const char *syms[] = {"SIM:AAAA"};
    assert_int_equal(tvk_quotes_add(q, syms, 1), 0);
    qsd_err(c, q, "SIM:AAAA", "no_such_symbol");
    qsd_ok(c, q, "SIM:AAAA", 5);
    tvk_event ev;
    assert_int_equal(tvk__ev_pop(c, &ev), 1);
    assert_int_equal(ev.type, TVK_EV_ERROR);
    assert_int_equal(ev.error, TVK_ESYMBOL);
    assert_non_null(ev.errmsg);
    if (!strstr(ev.errmsg, "no_such_symbol"))
        fail_msg("ERROR event of SIM:AAAA (TVK_ESYMBOL) has errmsg \"%s\": the server's text "
                 "\"no_such_symbol\" was lost when a later snapshot cleared the entry's errmsg",
                 ev.errmsg);
    assert_int_equal(tvk__ev_pop(c, &ev), 1);
    assert_int_equal(ev.type, TVK_EV_QUOTE);
    assert_int_equal(tvk__ev_pop(c, &ev), 0);
    tvk_quotes_close(q);
    tvk_conn_free(c);
}

/* Two failures of one symbol queued (its first snapshot timed out, then the server rejected
 * it): each ERROR event must carry its own text, the first the timeout's. */
static void test_events_error_text_two_errors(void **st)
{
    (void)st;
    size_t sent = 0;
    tvk_conn *c = conn(&sent, 40, 0);
    tvk_quotes *q;
    assert_int_equal(tvk_quotes_open(c, NULL, NULL, 0, NULL, &q), 0);
    const char *syms[] = {"SIM:BBBB"};
    assert_int_equal(tvk_quotes_add(q, syms, 1), 0);
    /* the deadline passed (a time far ahead, no sleeping) */
    tvk__conn_check_deadlines(c, tvk_now_ms() + 3600 * 1000);
    assert_int_equal(tvk_quotes_get(q, "SIM:BBBB")->error, TVK_ETIMEDOUT);
    qsd_err(c, q, "SIM:BBBB", "no_such_symbol");
    tvk_event ev;
    assert_int_equal(tvk__ev_pop(c, &ev), 1);
    assert_int_equal(ev.type, TVK_EV_ERROR);
    assert_int_equal(ev.error, TVK_ETIMEDOUT);
    if (!strstr(ev.errmsg, "no quote within"))
        fail_msg("the TVK_ETIMEDOUT event of SIM:BBBB reads \"%s\" (the later error's text)",
                 ev.errmsg);
    assert_int_equal(tvk__ev_pop(c, &ev), 1);
    assert_int_equal(ev.type, TVK_EV_ERROR);
    assert_int_equal(ev.error, TVK_ESYMBOL);
    assert_non_null(strstr(ev.errmsg, "no_such_symbol"));
    assert_int_equal(tvk__ev_pop(c, &ev), 0);
    tvk_quotes_close(q);
    tvk_conn_free(c);
}

/* ---------------------------------------------------------------- compact QUOTE items */

/* Many changes of two symbols: one QUOTE event each (in the order of their first change),
 * showing the latest snapshot; taken, a symbol queues again. */
static void test_events_queue_coalesce(void **st)
{
    (void)st;
    size_t sent = 0;
    int tag = 7;
    tvk_conn *c = conn(&sent, 0, 0);
    tvk_quotes *q;
    assert_int_equal(tvk_quotes_open(c, NULL, NULL, 0, &tag, &q), 0);
    const char *syms[] = {"SIM:CCCC", "SIM:DDDD"};
    assert_int_equal(tvk_quotes_add(q, syms, 2), 0);
    for (int i = 1; i <= 50; i++) {
        qsd_ok(c, q, "SIM:DDDD", 1000 + i);
        qsd_ok(c, q, "SIM:CCCC", i);
    }
    assert_int_equal(c->evlen - c->evhead, 2);
    tvk_event ev;
    double v;
    assert_int_equal(tvk__ev_pop(c, &ev), 1);
    assert_int_equal(ev.type, TVK_EV_QUOTE);
    assert_null(ev.series);
    assert_ptr_equal(ev.quotes, q);
    assert_ptr_equal(ev.user, &tag);
    assert_string_equal(ev.symbol, "SIM:DDDD");
    assert_ptr_equal(ev.quote, tvk_quotes_get(q, "SIM:DDDD"));
    assert_null(ev.errmsg);
    assert_int_equal(ev.error, 0);
    assert_int_equal(ev.quote->updates, 50);
    assert_int_equal(tvk_quote_number(ev.quote, "lp", &v), 0);
    assert_true(v == 1050);
    qsd_ok(c, q, "SIM:DDDD", 2000); /* taken: queued again, after CCCC */
    assert_int_equal(tvk__ev_pop(c, &ev), 1);
    assert_string_equal(ev.symbol, "SIM:CCCC");
    assert_int_equal(tvk_quote_number(ev.quote, "lp", &v), 0);
    assert_true(v == 50);
    assert_int_equal(tvk__ev_pop(c, &ev), 1);
    assert_string_equal(ev.symbol, "SIM:DDDD");
    assert_int_equal(tvk_quote_number(ev.quote, "lp", &v), 0);
    assert_true(v == 2000);
    assert_int_equal(tvk__ev_pop(c, &ev), 0);
    tvk_quotes_close(q);
    tvk_conn_free(c);
}

/* Queued QUOTE and ERROR items of removed symbols and of a closed quote set go, with no access
 * to the freed entries (ASan); the series' events and the other symbols' stay, in order; a
 * connection freed with QUOTE items queued leaks nothing. */
static void test_events_queue_drops(void **st)
{
    (void)st;
    size_t sent = 0;
    tvk_conn *c = conn(&sent, 0, 0);
    tvk_quotes *q, *q2;
    assert_int_equal(tvk_quotes_open(c, NULL, NULL, 0, NULL, &q), 0);
    assert_int_equal(tvk_quotes_open(c, NULL, NULL, 0, NULL, &q2), 0);
    const char *syms[] = {"SIM:EEEE", "SIM:FFFF", "SIM:GGGG"};
    assert_int_equal(tvk_quotes_add(q, syms, 3), 0);
    const char *syms2[] = {"SIM:HHHH"};
    assert_int_equal(tvk_quotes_add(q2, syms2, 1), 0);
    tvk_series *s = open_series(c, "SIM:SER", "1", 3, 0);
    char cs[64];
    snprintf(cs, sizeof cs, "%s", tvk_series_chart_session(s));

    qsd_ok(c, q, "SIM:EEEE", 1);
    qsd_err(c, q, "SIM:FFFF", "no_such_symbol");
    qsd_ok(c, q2, "SIM:HHHH", 4);
    feed_history(c, cs, 3);
    qsd_ok(c, q, "SIM:GGGG", 3);
    qsd_ok(c, q, "SIM:FFFF", 2); /* FFFF: an ERROR and a QUOTE queued */
    qsd_ok(c, q, "SIM:EEEE", 11);
    assert_int_equal(c->evlen - c->evhead, 6);

    const char *gone[] = {"SIM:FFFF", "SIM:EEEE"};
    assert_int_equal(tvk_quotes_remove(q, gone, 2), 0);
    tvk_event ev;
    assert_int_equal(tvk__ev_pop(c, &ev), 1);
    assert_int_equal(ev.type, TVK_EV_QUOTE);
    assert_string_equal(ev.symbol, "SIM:HHHH");
    assert_ptr_equal(ev.quotes, q2);
    assert_int_equal(tvk__ev_pop(c, &ev), 1);
    assert_int_equal(ev.type, TVK_EV_HISTORY);
    assert_ptr_equal(ev.series, s);
    assert_int_equal(ev.nbars, 3);
    assert_null(ev.quote);
    assert_int_equal(tvk__ev_pop(c, &ev), 1);
    assert_int_equal(ev.type, TVK_EV_QUOTE);
    assert_string_equal(ev.symbol, "SIM:GGGG");
    assert_int_equal(tvk__ev_pop(c, &ev), 0);

    /* a symbol removed and added again: a new entry, its own events */
    const char *again[] = {"SIM:EEEE"};
    assert_int_equal(tvk_quotes_add(q, again, 1), 0);
    qsd_ok(c, q, "SIM:EEEE", 12);
    assert_int_equal(tvk__ev_pop(c, &ev), 1);
    assert_string_equal(ev.symbol, "SIM:EEEE");
    assert_int_equal(ev.quote->updates, 1);

    /* the whole set closed with items of it queued, between the series' and q2's */
    qsd_ok(c, q, "SIM:EEEE", 13);
    qsd_err(c, q, "SIM:GGGG", "gone");
    tvk_series_close(s);
    qsd_ok(c, q2, "SIM:HHHH", 5);
    qsd_ok(c, q, "SIM:GGGG", 14);
    tvk_quotes_close(q);
    assert_int_equal(tvk__ev_pop(c, &ev), 1);
    assert_int_equal(ev.type, TVK_EV_QUOTE);
    assert_ptr_equal(ev.quotes, q2);
    double v;
    assert_int_equal(tvk_quote_number(ev.quote, "lp", &v), 0);
    assert_true(v == 5);
    assert_int_equal(tvk__ev_pop(c, &ev), 0);

    /* freed with a QUOTE item queued */
    qsd_ok(c, q2, "SIM:HHHH", 6);
    assert_int_equal(c->evlen - c->evhead, 1);
    tvk_conn_free(c);
}

/* Compact items count toward opts.max_events: a message of 12 changes of 12 symbols stops at
 * the bound, the rest is read as events are taken, and every symbol gets its event. */
static void test_events_queue_bound(void **st)
{
    (void)st;
    size_t sent = 0;
    tvk_conn *c = conn(&sent, 0, 4);
    tvk_quotes *q;
    assert_int_equal(tvk_quotes_open(c, NULL, NULL, 0, NULL, &q), 0);
    char names[12][16];
    const char *syms[12];
    for (int i = 0; i < 12; i++) {
        snprintf(names[i], sizeof names[i], "SIM:B%02d", i);
        syms[i] = names[i];
    }
    assert_int_equal(tvk_quotes_add(q, syms, 12), 0);
    tvk_buf m;
    tvk_buf_init(&m);
    for (int i = 0; i < 12; i++) {
        char p[256];
        int n =
            snprintf(p, sizeof p,
                     "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"%s\",\"s\":\"ok\",\"v\":{\"lp\":%d}}]}",
                     tvk_quotes_session(q), names[i], i);
        assert_int_equal(tvk_frame(&m, p, (size_t)n), 0);
    }
    tvk__conn_feed(c, m.data, m.len);
    tvk_buf_free(&m);
    assert_int_equal(c->evlen - c->evhead, 4);
    int seen = 0;
    tvk_event ev;
    tvk_msg msg;
    for (int guard = 0; guard < 100 && seen < 12; guard++) {
        if (tvk__ev_pop(c, &ev)) {
            assert_int_equal(ev.type, TVK_EV_QUOTE);
            assert_string_equal(ev.symbol, names[seen]);
            double v;
            assert_int_equal(tvk_quote_number(ev.quote, "lp", &v), 0);
            assert_true(v == seen);
            seen++;
        } else {
            tvk__conn_next_buffered(c, &msg);
        }
        assert_true(c->evlen - c->evhead <= 4);
    }
    assert_int_equal(seen, 12);
    assert_int_equal(tvk__ev_pop(c, &ev), 0);
    tvk_quotes_close(q);
    tvk_conn_free(c);
}

/* ---------------------------------------------------------------- routing */

/* The backslash test of a qsd "n" (two words for 8-16 bytes): a name of every length 3..24 with
 * any one of its bytes escaped as \u00XX routes to its symbol; a name that escapes the
 * backslash of a symbol that does not exist routes nowhere. */
static void test_events_routing_escaped(void **st)
{
    (void)st;
    size_t sent = 0;
    tvk_conn *c = conn(&sent, 0, 0);
    tvk_quotes *q;
    assert_int_equal(tvk_quotes_open(c, NULL, NULL, 0, NULL, &q), 0);
    char names[25][32];
    for (int len = 3; len <= 24; len++) {
        /* "X:" then letters, distinct per length */
        names[len][0] = 'X';
        names[len][1] = ':';
        for (int k = 2; k < len; k++)
            names[len][k] = (char)('A' + (k + len) % 26);
        names[len][len] = '\0';
        const char *one[] = {names[len]};
        assert_int_equal(tvk_quotes_add(q, one, 1), 0);
    }
    int count = 0;
    for (int len = 3; len <= 24; len++)
        for (int at = -1; at < len; at++) {
            char wire[64];
            size_t w = 0;
            for (int k = 0; k < len; k++) {
                if (k == at)
                    w += (size_t)snprintf(wire + w, sizeof wire - w, "\\u%04x",
                                          (unsigned char)names[len][k]);
                else
                    wire[w++] = names[len][k];
            }
            wire[w] = '\0';
            qsd_ok(c, q, wire, ++count);
            tvk_event ev;
            if (tvk__ev_pop(c, &ev) != 1)
                fail_msg("\"%s\" (%zu bytes, escape at %d): routed nowhere", wire, w, at);
            assert_int_equal(ev.type, TVK_EV_QUOTE);
            if (strcmp(ev.symbol, names[len]))
                fail_msg("\"%s\": routed to %s, not %s", wire, ev.symbol, names[len]);
            double v;
            assert_int_equal(tvk_quote_number(ev.quote, "lp", &v), 0);
            assert_true(v == count);
            assert_int_equal(tvk__ev_pop(c, &ev), 0);
            /* an escaped backslash at the same place names a symbol nobody added */
            if (at >= 2) {
                char bad[64];
                memcpy(bad, names[len], (size_t)at);
                memcpy(bad + at, "\\\\", 2);
                memcpy(bad + at + 2, names[len] + at + 1, (size_t)(len - at - 1));
                bad[len + 1] = '\0';
                qsd_ok(c, q, bad, -1);
                assert_int_equal(tvk__ev_pop(c, &ev), 0);
            }
        }
    tvk_quotes_close(q);
    tvk_conn_free(c);
}

/* du / timescale_update / series_completed route by the chart session's stored length: a
 * session id one byte shorter or longer than the series', or differing in its last byte,
 * reaches no series. */
static void test_events_routing_series(void **st)
{
    (void)st;
    size_t sent = 0;
    tvk_conn *c = conn(&sent, 0, 0);
    tvk_series *s = open_series(c, "SIM:RT", "1", 3, 0);
    const char *cs = tvk_series_chart_session(s);
    size_t n = strlen(cs);
    assert_int_equal(n, s->cs_len);
    char other[3][64];
    snprintf(other[0], sizeof other[0], "%.*s", (int)(n - 1), cs);
    snprintf(other[1], sizeof other[1], "%sa", cs);
    snprintf(other[2], sizeof other[2], "%s", cs);
    other[2][n - 1] = other[2][n - 1] == 'a' ? 'b' : 'a';
    tvk_event ev;
    for (int i = 0; i < 3; i++) {
        feed_history(c, other[i], 3);
        assert_int_equal(tvk_series_get_state(s), TVK_SERIES_LOADING);
        assert_int_equal(tvk__ev_pop(c, &ev), 0);
    }
    feed_history(c, cs, 3);
    assert_int_equal(tvk_series_get_state(s), TVK_SERIES_READY);
    assert_int_equal(tvk__ev_pop(c, &ev), 1);
    assert_int_equal(ev.type, TVK_EV_HISTORY);
    assert_int_equal(ev.nbars, 3);
    tvk_series_close(s);
    tvk_conn_free(c);
}

/* ---------------------------------------------------------------- tvk_quote_to_json */

/* The snapshot line appended to buffers of every capacity and fill around the line's size
 * (the inline room check): the same text as into an empty buffer, the prefix kept, never a
 * write past the block (ASan). */
static void test_events_json_room(void **st)
{
    (void)st;
    size_t sent = 0;
    tvk_conn *c = conn(&sent, 0, 0);
    tvk_quotes *q;
    assert_int_equal(tvk_quotes_open(c, NULL, NULL, 0, NULL, &q), 0);
    const char *syms[] = {"SIM:JSON", "SIM:PEND"};
    assert_int_equal(tvk_quotes_add(q, syms, 2), 0);
    feedf(c,
          "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"SIM:JSON\",\"s\":\"ok\",\"v\":{\"lp\":1.5,"
          "\"description\":\"x\"}}]}",
          tvk_quotes_session(q));
    const tvk_quote *qt[2] = {tvk_quotes_get(q, "SIM:JSON"), tvk_quotes_get(q, "SIM:PEND")};
    for (int k = 0; k < 2; k++) {
        tvk_buf ref;
        tvk_buf_init(&ref);
        assert_int_equal(tvk_quote_to_json(qt[k], &ref), 0);
        assert_int_equal(strlen(ref.data), ref.len);
        size_t L = ref.len;
        for (size_t cap = 1; cap <= L + 8; cap++)
            for (size_t len = 0; len < cap; len++) {
                tvk_buf b;
                tvk_buf_init(&b);
                b.data = malloc(cap);
                assert_non_null(b.data);
                memset(b.data, 'p', len);
                b.data[len] = '\0';
                b.len = len;
                b.cap = cap;
                assert_int_equal(tvk_quote_to_json(qt[k], &b), 0);
                assert_int_equal(b.len, len + L);
                assert_true(b.cap > b.len);
                assert_int_equal(b.data[b.len], '\0');
                for (size_t i = 0; i < len; i++)
                    assert_int_equal(b.data[i], 'p');
                assert_memory_equal(b.data + len, ref.data, L);
                tvk_buf_free(&b);
            }
        tvk_buf_free(&ref);
    }
    tvk_quotes_close(q);
    tvk_conn_free(c);
}

/* tvk_buf.limit: "appends that would pass it fail". A snapshot line that ends exactly at the
 * limit does not pass it: it must be written (as tvk_buf_append writes such text, and as the
 * error line of an ERROR snapshot is written); one byte less room fails with TVK_ENOMEM and
 * leaves the buffer as it was (as the ok line does), not a partial object. */
static void test_events_json_limit(void **st)
{
    (void)st;
    size_t sent = 0;
    tvk_conn *c = conn(&sent, 0, 0);
    tvk_quotes *q;
    assert_int_equal(tvk_quotes_open(c, NULL, NULL, 0, NULL, &q), 0);
    const char *syms[] = {"SIM:LIMA", "SIM:LIMB", "SIM:LIMC"};
    assert_int_equal(tvk_quotes_add(q, syms, 3), 0);
    qsd_ok(c, q, "SIM:LIMA", 2.5);
    qsd_err(c, q, "SIM:LIMB", "no_such_symbol"); /* LIMC stays pending */
    char report[2048] = "";
    size_t rl = 0;
    for (int k = 0; k < 3; k++) {
        const tvk_quote *qt = tvk_quotes_get(q, syms[k]);
        const char *kind = qt->status == TVK_QUOTE_OK      ? "ok"
                           : qt->status == TVK_QUOTE_ERROR ? "error"
                                                           : "pending";
        tvk_buf ref;
        tvk_buf_init(&ref);
        assert_int_equal(tvk_quote_to_json(qt, &ref), 0);
        for (size_t pre = 0; pre < 3; pre++)
            for (int fits = 0; fits <= 1; fits++) {
                tvk_buf b;
                tvk_buf_init(&b);
                b.limit = pre + ref.len - (fits ? 0 : 1);
                for (size_t i = 0; i < pre; i++)
                    assert_int_equal(tvk_buf_append(&b, "p", 1), 0);
                int rc = tvk_quote_to_json(qt, &b);
                int good = fits ? rc == 0 && b.len == pre + ref.len &&
                                      !memcmp(b.data + pre, ref.data, ref.len)
                                : rc == TVK_ENOMEM && b.len == pre;
                if (!good && rl < sizeof report - 200)
                    rl += (size_t)snprintf(report + rl, sizeof report - rl,
                                           "\n  %s line (%zu bytes) after %zu, limit %zu: rc %d, "
                                           "len %zu (want %s)",
                                           kind, ref.len, pre, b.limit, rc, b.len,
                                           fits ? "written" : "TVK_ENOMEM, len unchanged");
                tvk_buf_free(&b);
            }
        tvk_buf_free(&ref);
    }
    tvk_quotes_close(q);
    tvk_conn_free(c);
    if (rl) fail_msg("tvk_quote_to_json at a tvk_buf limit:%s", report);
}

/* argv[1]: a cmocka test filter (a pattern such as "*error_text*"), so that ctest names each
 * defect on its own. */
int main(int argc, char **argv)
{
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_queue_coalesce),
        cmocka_unit_test(test_events_queue_drops),
        cmocka_unit_test(test_events_queue_bound),
        cmocka_unit_test(test_events_routing_escaped),
        cmocka_unit_test(test_events_routing_series),
        cmocka_unit_test(test_events_json_room),
        cmocka_unit_test(test_events_error_text_after_snapshot),
        cmocka_unit_test(test_events_error_text_two_errors),
        cmocka_unit_test(test_events_json_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
