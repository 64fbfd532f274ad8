/* Events queued while the connection is lost: an ERROR item refers to its quote entry (symbol,
 * snapshot, text). tvk_quotes_add sends quote_add_symbols after its new entries exist; when that
 * send finds the connection gone (no reconnect), every quote symbol fails, the new ones too, and
 * tvk_quotes_add then frees the new entries ("nothing half-added"): their queued ERROR items
 * must go with them, or the user reads freed memory through the event. Against tvkit-sim started
 * here on 127.0.0.1 (port 0); the connection is cut by shutting down our own socket's writes,
 * so the next send fails at once (EPIPE), without timing. argv[1]: the tvkit-sim binary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "simproc.h"
#include "tvkit/tvkit.h"

static const char *sim_bin;

/* Starts a sim and a connection to it with the options *o (url and proxy set here). */
static tvk_conn *sim_conn(simproc *s, tvk_conn_opts *o)
{
    const char *args[] = {"--seed", "7", "-q", NULL};
    assert_int_equal(simproc_start(s, sim_bin, args), 0);
    o->url = s->url;
    o->proxy = "";
    tvk_conn *c = tvk_conn_new_opts(o);
    assert_non_null(c);
    if (tvk_conn_connect(c) != 0) fail_msg("connect: %s", tvk_conn_errmsg(c));
    return c;
}

static void test_events_add_on_lost_connection(void **st)
{
    (void)st;
    simproc s;
    tvk_conn_opts o;
    tvk_conn_opts_init(&o);
    o.reconnect = 0;
    o.compress = 0; /* the add message's size is what reaches the socket */
    tvk_conn *c = sim_conn(&s, &o);
    tvk_quotes *q;
    assert_int_equal(tvk_quotes_open(c, NULL, NULL, 0, NULL, &q), 0);
    const char *old[] = {"SIM:OLD"};
    assert_int_equal(tvk_quotes_add(q, old, 1), 0);

    int fd = tvk_conn_fd(c);
    assert_true(fd >= 0);
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    /* Enough symbols that quote_add_symbols passes the transport's write-at-once mark
     * (TVK_FLUSH_AT, 16 KiB): the send writes, and finds the socket shut. */
    enum { NADD = 2000 };
    static char names[NADD][24];
    static const char *added[NADD];
    for (int i = 0; i < NADD; i++) {
        snprintf(names[i], sizeof names[i], "SIM:NEW%05d", i);
        added[i] = names[i];
    }
    int rc = tvk_quotes_add(q, added, NADD);
    if (rc >= 0) fail_msg("tvk_quotes_add on a shut socket: %d (%s)", rc, tvk_conn_errmsg(c));
    /* nothing half-added */
    assert_int_equal(tvk_quotes_count(q), 1);
    assert_null(tvk_quotes_get(q, "SIM:NEW00000"));

    /* Every queued quote event must refer to an entry that still exists (compared as
     * pointers; then the symbol of one that does not is read, as a user would: ASan sees it). */
    tvk_event ev;
    int n = 0, bad = 0;
    while (tvk_conn_next_event(c, &ev, 0) == 1) {
        n++;
        if (ev.type != TVK_EV_QUOTE && ev.type != TVK_EV_ERROR) continue;
        if (ev.quotes != q) continue;
        int live = 0;
        for (size_t i = 0; i < tvk_quotes_count(q); i++)
            live |= ev.quote == tvk_quotes_at(q, i);
        if (!live) {
            /* what a user does with an ERROR event: ASan reports the freed entry here */
            bad += strlen(ev.symbol) > 0;
            continue;
        }
        assert_string_equal(ev.symbol, "SIM:OLD");
    }
    if (bad)
        fail_msg("%d of %d queued events refer to quote entries tvk_quotes_add freed (the "
                 "symbols it could not add): a use after free for whoever reads them",
                 bad, n);
    assert_true(n >= 1); /* SIM:OLD's ERROR (connection lost) */
    tvk_quotes_close(q);
    tvk_conn_free(c);
    simproc_stop(&s);
}

/* Connection events queue while a blocking call waits ("whose events stay queued"): the sim
 * stops, every reconnect attempt is refused, and the user takes the events afterwards. Each
 * RECONNECTING event must say its own attempt ("attempt N in D ms", N = ev.attempt, D =
 * ev.delay_ms), not the text of the last one queued (reconnect.c writes them all into one
 * buffer, c->ev_msg[MSG_RECONNECTING]). */
static void test_events_reconnecting_texts(void **st)
{
    (void)st;
    simproc s;
    tvk_conn_opts o;
    tvk_conn_opts_init(&o);
    o.reconnect = 1;
    o.reconnect_attempts = 3;
    o.reconnect_delay_ms = 10;
    o.reconnect_max_delay_ms = 20;
    o.request_timeout_ms = 5000;
    tvk_conn *c = sim_conn(&s, &o);
    simproc_stop(&s); /* the port now refuses: every attempt fails at once */
    tvk_bars bars;
    int rc = tvk_history(c, "SIM:GONE", "1D", 10, NULL, &bars);
    assert_true(rc < 0);
    tvk_event ev;
    int reconnecting = 0;
    char report[2048] = "";
    size_t rl = 0;
    while (tvk_conn_next_event(c, &ev, 0) == 1) {
        if (ev.type != TVK_EV_RECONNECTING) continue;
        reconnecting++;
        char want[64];
        snprintf(want, sizeof want, "attempt %d in %d ms", ev.attempt, ev.delay_ms);
        if (strncmp(ev.errmsg, want, strlen(want)) && rl < sizeof report - 300)
            rl += (size_t)snprintf(report + rl, sizeof report - rl,
                                   "\n  RECONNECTING attempt %d (delay %d ms) reads \"%.200s\"",
                                   ev.attempt, ev.delay_ms, ev.errmsg);
    }
    assert_int_equal(reconnecting, 3);
    tvk_conn_free(c);
    if (rl) fail_msg("queued connection events show another event's text:%s", report);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s TVKIT_SIM [TEST_FILTER]\n", argv[0]);
        return 2;
    }
    sim_bin = argv[1];
    if (argc > 2) cmocka_set_test_filter(argv[2]); /* one ctest per defect */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_add_on_lost_connection),
        cmocka_unit_test(test_events_reconnecting_texts),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    simproc_stop_all();
    return rc;
}
