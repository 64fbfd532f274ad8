/* resilience_*: the fault matrix end to end against tvkit-sim (started here on 127.0.0.1, port
 * 0) with its --fault modes. Every wait has a deadline; for the recoverable faults the bars
 * delivered are compared with the sim's own generator (sim/market.h, linked directly): no gap,
 * no duplicate, final values exact. argv[1] = tvkit-sim, argv[2] = a cmocka test filter. */
#define _GNU_SOURCE
#include <math.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "market.h"
#include "simproc.h"
#include "tvkit/tvkit.h"

static const char *sim_bin;

/* Saturday 2024-06-15 12:00 UTC: crypto trades, stocks are closed (stable daily history). */
#define START 1718452800
#define START_S "1718452800"
#define SEED 7
#define SEED_S "7"

static void start_sim(simproc *s, const char *const *extra)
{
    const char *args[48];
    int n = 0;
    args[n++] = "--seed";
    args[n++] = SEED_S;
    args[n++] = "--start";
    args[n++] = START_S;
    args[n++] = "-q";
    for (int i = 0; extra && extra[i] && n < 46; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    assert_int_equal(simproc_start(s, sim_bin, args), 0);
}

static void fast_opts(tvk_conn_opts *o, const char *url)
{
    tvk_conn_opts_init(o);
    o->url = url;
    o->proxy = "";
    o->reconnect = 1;
    o->reconnect_delay_ms = 5;
    o->reconnect_max_delay_ms = 40;
    o->request_timeout_ms = 10000;
    o->connect_timeout_ms = 5000;
    o->close_timeout_ms = 500;
}

static tvk_conn *open_conn(const tvk_conn_opts *o)
{
    tvk_conn *c = tvk_conn_new_opts(o);
    assert_non_null(c);
    int rc = tvk_conn_connect(c);
    if (rc) fprintf(stderr, "connect: %s\n", tvk_conn_errmsg(c));
    assert_int_equal(rc, 0);
    return c;
}

static void gen(const char *symbol, const char *interval, sim_symbol *sym, sim_res *res)
{
    assert_int_equal(sim_symbol_lookup(SEED, symbol, sym), 0);
    assert_int_equal(sim_res_parse(interval, res), 0);
}

static void assert_bar_is(const tvk_ohlcv *got, const sim_bar *want)
{
    assert_int_equal(got->time, want->time);
    assert_true(got->open == want->open);
    assert_true(got->high == want->high);
    assert_true(got->low == want->low);
    assert_true(got->close == want->close);
    if (want->has_volume)
        assert_true(got->volume == want->volume);
    else
        assert_true(isnan(got->volume));
}

/* The history bars equal the sim's complete bars, consecutive slots ending with `last`. */
static void assert_history(const char *symbol, const char *interval, const tvk_ohlcv *v, size_t n,
                           int64_t last)
{
    sim_symbol sym;
    sim_res res;
    gen(symbol, interval, &sym, &res);
    for (size_t i = 0; i < n; i++) {
        sim_bar want;
        sim_bar_at(&sym, &res, last - (int64_t)(n - 1 - i), START, &want);
        if (v[i].time != want.time) fprintf(stderr, "bar %zu of %zu: time differs\n", i, n);
        assert_bar_is(&v[i], &want);
    }
}

/* ---------------------------------------------------------------- a live stream checker */

typedef struct watch {
    sim_symbol sym;
    sim_res res;
    int64_t len;
    int history;
    int64_t last_close; /* time of the newest bar_close, 0 none */
    int64_t forming;
    int closes, updates;
} watch;

typedef struct run {
    tvk_conn *c;
    watch w[4];
    tvk_series *se[4];
    size_t nw;
    int disc, reconnecting, reconnected, resubscribed, quotes, errors;
    int last_error;
    int err429_delay; /* delay of the RECONNECTING event that followed a 429, -1 none */
    int updates_after_reconnect;
    char disc_msg[512], err_msg[512];
} run;

static void run_init(run *r, tvk_conn *c)
{
    memset(r, 0, sizeof *r);
    r->c = c;
    r->err429_delay = -1;
}

static void add_series(run *r, const char *symbol, const char *interval)
{
    watch *w = &r->w[r->nw];
    if (sim_symbol_lookup(SEED, symbol, &w->sym) == 0) /* else: a symbol the sim rejects */
        gen(symbol, interval, &w->sym, &w->res);
    tvk_series_req q;
    tvk_series_req_init(&q);
    q.symbol = symbol;
    q.interval = interval;
    q.count = 5;
    q.live = 1;
    q.user = w;
    assert_int_equal(tvk_series_open(r->c, &q, &r->se[r->nw]), 0);
    r->nw++;
}

static void on_bar_event(watch *w, const tvk_event *ev)
{
    switch (ev->type) {
    case TVK_EV_HISTORY:
        assert_int_equal(w->history, 0); /* once: a reconnect backfills, it does not re-send */
        w->history = 1;
        assert_true(ev->nbars >= 1);
        w->forming = ev->bars[ev->nbars - 1].time;
        break;
    case TVK_EV_BAR_UPDATE:
        assert_true(w->history);
        assert_true(ev->bar.time > w->last_close);
        assert_true(ev->bar.time >= w->forming);
        w->forming = ev->bar.time;
        w->updates++;
        break;
    case TVK_EV_BAR_CLOSE: {
        /* each bar closed once, in order, none missing, with the generator's final values */
        int64_t slot = sim_slot_of(&w->sym, &w->res, ev->bar.time);
        if (w->last_close) {
            int64_t prev = sim_slot_of(&w->sym, &w->res, w->last_close);
            if (slot != prev + 1)
                fprintf(stderr, "%s: bar_close %lld after %lld\n", w->sym.name,
                        (long long)ev->bar.time, (long long)w->last_close);
            assert_int_equal(slot, prev + 1);
        }
        sim_bar want;
        sim_bar_at(&w->sym, &w->res, slot, sim_slot_close(&w->sym, &w->res, slot) + 1, &want);
        if (ev->bar.close != want.close)
            fprintf(stderr, "%s: bar %lld closed with %.8g, final %.8g\n", w->sym.name,
                    (long long)ev->bar.time, ev->bar.close, want.close);
        assert_bar_is(&ev->bar, &want);
        w->last_close = ev->bar.time;
        w->closes++;
        break;
    }
    default:
        break;
    }
}

/* One event: 1, 0 (none within ms) or the connection's final error. */
static int step(run *r, int ms)
{
    tvk_event ev;
    int rc = tvk_conn_next_event(r->c, &ev, ms);
    if (rc <= 0) return rc;
    switch (ev.type) {
    case TVK_EV_DISCONNECTED:
        r->disc++;
        snprintf(r->disc_msg, sizeof r->disc_msg, "%s", ev.errmsg ? ev.errmsg : "");
        break;
    case TVK_EV_RECONNECTING:
        r->reconnecting++;
        assert_true(ev.attempt >= 1);
        if (ev.error == TVK_EHTTP_429) r->err429_delay = ev.delay_ms;
        break;
    case TVK_EV_RECONNECTED:
        if (ev.attempt == 0)
            r->resubscribed++;
        else
            r->reconnected++;
        r->updates_after_reconnect = 0;
        break;
    case TVK_EV_QUOTE:
        r->quotes++;
        break;
    case TVK_EV_ERROR:
        r->errors++;
        r->last_error = ev.error;
        snprintf(r->err_msg, sizeof r->err_msg, "%s", ev.errmsg ? ev.errmsg : "");
        break;
    case TVK_EV_BAR_UPDATE:
        r->updates_after_reconnect++;
        /* fall through */
    default:
        if (ev.series && ev.user) on_bar_event(ev.user, &ev);
        break;
    }
    return 1;
}

static void run_free(run *r)
{
    for (size_t i = 0; i < r->nw; i++)
        tvk_series_close(r->se[i]);
    tvk_conn_free(r->c);
}

/* ---------------------------------------------------------------- server closes mid-stream */

/* 100 forced disconnects in one run (the sim drops every connection after 40 data packets):
 * two live series and a quote set are restored each time, the bars missed are backfilled,
 * and every bar closes exactly once with the generator's values. */
static void test_close_mid_stream(void **st)
{
    (void)st;
    simproc s;
    const char *extra[] = {"--speed", "600",     "--update-ms",    "10", "--heartbeat",
                           "0.5",     "--fault", "close-every=40", NULL};
    start_sim(&s, extra);
    tvk_conn_opts o;
    fast_opts(&o, s.url);
    run r;
    run_init(&r, open_conn(&o));
    add_series(&r, "BINANCE:BTCUSDT", "1");
    add_series(&r, "SIM:RESILIENT", "1");
    tvk_quotes *q;
    assert_int_equal(tvk_quotes_open(r.c, NULL, NULL, 0, NULL, &q), 0);
    const char *syms[] = {"BINANCE:ETHUSDT", "SIM:QUOTED", "FOREX:EURUSD"};
    assert_int_equal(tvk_quotes_add(q, syms, 3), 0);

    int64_t end = tvk_now_ms() + 240000;
    while (r.reconnected < 100 && tvk_now_ms() < end)
        assert_true(step(&r, 1000) >= 0);
    /* after the last reconnect, live data flows again */
    int64_t end2 = tvk_now_ms() + 20000;
    while (r.updates_after_reconnect < 3 && tvk_now_ms() < end2)
        assert_true(step(&r, 1000) >= 0);
    tvk_conn_stats cst;
    tvk_conn_get_stats(r.c, &cst);
    fprintf(stderr, "reconnects %d, closes %d/%d, quotes %d\n", r.reconnected, r.w[0].closes,
            r.w[1].closes, r.quotes);
    assert_true(r.reconnected >= 100);
    assert_int_equal(r.disc, r.reconnected);
    assert_true(cst.reconnects >= 100);
    assert_true(r.updates_after_reconnect >= 3);
    assert_true(r.w[0].closes >= 20 && r.w[1].closes >= 20);
    assert_true(r.quotes >= 100);
    /* the rejected quote symbol failed once, and was not re-added on every reconnect */
    assert_int_equal(r.errors, 1);
    assert_int_equal(r.last_error, TVK_ESYMBOL);
    const tvk_quote *eth = tvk_quotes_get(q, "BINANCE:ETHUSDT");
    assert_non_null(eth);
    assert_int_equal(eth->status, TVK_QUOTE_OK);
    tvk_quotes_close(q);
    run_free(&r);
    simproc_stop(&s);
}

/* ---------------------------------------------------------------- server closes mid-history */

static void test_close_mid_history(void **st)
{
    (void)st;
    simproc s;
    /* 500 bars per answer, every connection dropped after 9 data packets: a few pages each */
    const char *extra[] = {"--max-bars", "500", "--fault", "close-every=9", NULL};
    start_sim(&s, extra);
    tvk_conn_opts o;
    fast_opts(&o, s.url);
    o.trace = getenv("TVK_TRACE") != NULL;
    tvk_conn *c = open_conn(&o);
    sim_symbol sym;
    sim_res res;
    gen("NASDAQ:AAPL", "1D", &sym, &res);
    int64_t last = sim_slot_of(&sym, &res, START);

    tvk_bars b;
    int rc = tvk_history(c, "NASDAQ:AAPL", "1D", 6000, NULL, &b);
    if (rc) fprintf(stderr, "history: %s\n", tvk_conn_errmsg(c));
    assert_int_equal(rc, 0);
    assert_int_equal(b.n, 6000);
    assert_history("NASDAQ:AAPL", "1D", b.v, b.n, last);
    tvk_bars_free(&b);

    /* by range, too */
    int64_t from = sim_slot_start(&sym, &res, last - 2999), to = sim_slot_start(&sym, &res, last);
    rc = tvk_history_range(c, "NASDAQ:AAPL", "1D", from, to, NULL, &b);
    if (rc) fprintf(stderr, "range: %s\n", tvk_conn_errmsg(c));
    assert_int_equal(rc, 0);
    assert_int_equal(b.n, 2999);
    assert_history("NASDAQ:AAPL", "1D", b.v, b.n, last - 1);
    tvk_bars_free(&b);

    tvk_conn_stats cst;
    tvk_conn_get_stats(c, &cst);
    fprintf(stderr, "history: %llu reconnects\n", (unsigned long long)cst.reconnects);
    assert_true(cst.reconnects >= 8);
    tvk_conn_free(c);
    simproc_stop(&s);

    /* a server that never lets a page complete: the download fails, it does not loop */
    const char *never[] = {"--fault", "close-every=4", NULL};
    start_sim(&s, never);
    fast_opts(&o, s.url);
    c = open_conn(&o);
    int64_t t0 = tvk_now_ms();
    rc = tvk_history(c, "NASDAQ:AAPL", "1D", 100, NULL, &b);
    assert_int_equal(rc, TVK_ECONN_LOST);
    assert_non_null(strstr(tvk_conn_errmsg(c), "before a page of the history completed"));
    assert_true(tvk_now_ms() - t0 < 10000);
    tvk_conn_free(c);
    simproc_stop(&s);
}

/* ---------------------------------------------------------------- stalls */

static void stream_until(run *r, int reconnects, int resubscribes, int64_t ms)
{
    int64_t end = tvk_now_ms() + ms;
    while ((r->reconnected < reconnects || r->resubscribed < resubscribes ||
            r->updates_after_reconnect < 2) &&
           tvk_now_ms() < end)
        assert_true(step(r, 500) >= 0);
}

/* Heartbeats go on but data stops: the watchdog resubscribes; when that brings nothing
 * either, it reconnects. The bars go on without a gap. */
static void test_stall_with_heartbeats(void **st)
{
    (void)st;
    simproc s;
    const char *extra[] = {"--speed", "600",     "--update-ms",    "10", "--heartbeat",
                           "0.05",    "--fault", "stall-after=60", NULL};
    start_sim(&s, extra);
    tvk_conn_opts o;
    fast_opts(&o, s.url);
    o.data_timeout_ms = 300;
    run r;
    run_init(&r, open_conn(&o));
    add_series(&r, "BINANCE:BTCUSDT", "1");
    stream_until(&r, 3, 3, 30000);
    assert_true(r.resubscribed >= 3);
    assert_true(r.reconnected >= 3);
    assert_non_null(strstr(r.disc_msg, "no data for 300 ms"));
    assert_true(r.w[0].closes >= 3);
    assert_int_equal(r.errors, 0);
    run_free(&r);
    simproc_stop(&s);
}

/* Nothing at all (not even heartbeats) on an open socket: the silence timeout reconnects. */
static void test_stall_without_heartbeats(void **st)
{
    (void)st;
    simproc s;
    const char *extra[] = {"--speed", "600",     "--update-ms",     "10", "--heartbeat",
                           "0.1",     "--fault", "silent-after=60", NULL};
    start_sim(&s, extra);
    tvk_conn_opts o;
    fast_opts(&o, s.url);
    o.silence_timeout_ms = 400;
    run r;
    run_init(&r, open_conn(&o));
    add_series(&r, "BINANCE:BTCUSDT", "1");
    stream_until(&r, 3, 0, 30000);
    assert_true(r.reconnected >= 3);
    assert_non_null(strstr(r.disc_msg, "not even a heartbeat"));
    assert_true(r.w[0].closes >= 3);
    assert_int_equal(r.errors, 0);
    run_free(&r);
    simproc_stop(&s);
}

/* When each message arrived (on_raw runs as it is taken off the socket). */
typedef struct arrivals {
    int64_t last;
    uint64_t n;
} arrivals;

static void on_arrival(void *user, const char *data, size_t len)
{
    (void)data;
    (void)len;
    arrivals *a = user;
    a->last = tvk_now_ms();
    a->n++;
}

/* The silence timeout in detail: the loss is declared silence_timeout_ms after the last message
 * (not before, not much later), as TVK_ETIMEDOUT on the DISCONNECTED event; with reconnect the
 * series is sent again on the new connection and bars go on; without, the series and the
 * connection end with TVK_ECONN_LOST naming the silence. */
static void test_silence_timeout(void **st)
{
    (void)st;
    simproc s;
    const char *extra[] = {"--speed", "600",     "--update-ms",     "10", "--heartbeat",
                           "0.1",     "--fault", "silent-after=40", NULL};
    start_sim(&s, extra);
    for (int reconnect = 1; reconnect >= 0; reconnect--) {
        tvk_conn_opts o;
        fast_opts(&o, s.url);
        o.reconnect = reconnect;
        o.silence_timeout_ms = 500;
        arrivals a = {0, 0};
        o.on_raw = on_arrival;
        o.raw_user = &a;
        run r;
        run_init(&r, open_conn(&o));
        add_series(&r, "BINANCE:BTCUSDT", "1");
        int64_t end = tvk_now_ms() + 20000, detected = -1;
        int lost = 0, series_lost = 0, updates_after = 0, reconnected = 0;
        while (tvk_now_ms() < end) {
            tvk_event ev;
            int rc = tvk_conn_next_event(r.c, &ev, 100);
            if (rc < 0) {
                /* without reconnect: after the series' ERROR event, the connection's error */
                assert_int_equal(reconnect, 0);
                assert_int_equal(rc, TVK_ECONN_LOST);
                assert_non_null(strstr(tvk_conn_errmsg(r.c), "not even a heartbeat"));
                lost = 1;
                break;
            }
            if (rc == 0) continue;
            if (ev.type == TVK_EV_DISCONNECTED) {
                assert_int_equal(reconnect, 1);
                assert_int_equal(ev.error, TVK_ETIMEDOUT);
                assert_non_null(strstr(ev.errmsg, "(not even a heartbeat) for 500 ms"));
                if (detected < 0) detected = tvk_now_ms() - a.last;
            } else if (ev.type == TVK_EV_RECONNECTED) {
                reconnected++;
            } else if (ev.type == TVK_EV_ERROR) {
                assert_int_equal(reconnect, 0);
                assert_int_equal(ev.error, TVK_ECONN_LOST);
                assert_non_null(strstr(ev.errmsg, "not even a heartbeat"));
                detected = tvk_now_ms() - a.last;
                series_lost = 1;
            } else {
                if (ev.type == TVK_EV_BAR_UPDATE && reconnected) updates_after++;
                on_bar_event(ev.user, &ev);
            }
            if (reconnect && updates_after >= 3) break;
        }
        /* the timer, not an early or a late guess (the wait wakes on it: a little slack) */
        fprintf(stderr, "reconnect %d: silence detected %lld ms after the last message\n",
                reconnect, (long long)detected);
        assert_true(detected >= 500 - 2 && detected < 500 + 1500);
        if (reconnect) {
            assert_true(reconnected >= 1);
            assert_true(updates_after >= 3);
        } else {
            assert_true(series_lost && lost);
            assert_int_equal(tvk_series_get_state(r.se[0]), TVK_SERIES_FAILED);
            assert_int_equal(tvk_conn_get_state(r.c), TVK_CONN_LOST);
        }
        run_free(&r);
    }
    /* the series was sent again on the reconnected connection: 2 creates, then 1 */
    char *lines[1024];
    size_t n = simproc_lines(&s, lines, 1024), creates = 0;
    for (size_t i = 0; i < n; i++)
        creates += strstr(lines[i], "\"create_series\"") != NULL;
    simproc_lines_free(lines, n);
    assert_true(creates >= 3);
    simproc_stop(&s);
}

/* The application stops calling the library (so heartbeats are not echoed) for longer than
 * the sim's heartbeat timeout: the sim drops it; the client notices once called again and
 * restores the stream without a gap. */
static void test_client_stops_echoing(void **st)
{
    (void)st;
    simproc s;
    const char *extra[] = {"--speed",     "600", "--update-ms",         "10",
                           "--heartbeat", "0.1", "--heartbeat-timeout", "1",
                           NULL};
    start_sim(&s, extra);
    tvk_conn_opts o;
    fast_opts(&o, s.url);
    run r;
    run_init(&r, open_conn(&o));
    add_series(&r, "BINANCE:BTCUSDT", "1");
    int64_t end = tvk_now_ms() + 10000;
    while (r.w[0].closes < 2 && tvk_now_ms() < end)
        assert_true(step(&r, 500) >= 0);
    assert_true(r.w[0].closes >= 2);
    int disc = r.disc, reconnected = r.reconnected;
    /* the fault itself: the application is busy for 2.5 s (2.5 heartbeat timeouts) */
    poll(NULL, 0, 2500);
    stream_until(&r, reconnected + 1, 0, 10000);
    assert_true(r.disc >= disc + 1);
    assert_true(r.reconnected >= reconnected + 1);
    assert_true(strstr(r.disc_msg, "TVK_ECLOSED") || strstr(r.disc_msg, "TVK_EIO"));
    int before = r.w[0].closes;
    end = tvk_now_ms() + 10000;
    while (r.w[0].closes < before + 3 && tvk_now_ms() < end)
        assert_true(step(&r, 500) >= 0);
    assert_true(r.w[0].closes >= before + 3);
    run_free(&r);
    simproc_stop(&s);
}

/* ---------------------------------------------------------------- bad framing */

/* A message that is not ~m~ framed, or whose length runs past its end, is skipped and
 * counted; the connection stays up and nothing else is lost. */
static void test_bad_framing(void **st)
{
    (void)st;
    static const char *faults[] = {"garbage=3", "bad-length=3"};
    for (int k = 0; k < 2; k++) {
        simproc s;
        const char *extra[] = {"--speed", "600", "--update-ms", "10", "--fault", faults[k], NULL};
        start_sim(&s, extra);
        tvk_conn_opts o;
        fast_opts(&o, s.url);
        run r;
        run_init(&r, open_conn(&o));
        tvk_bars b;
        sim_symbol sym;
        sim_res res;
        gen("NASDAQ:MSFT", "1D", &sym, &res);
        assert_int_equal(tvk_history(r.c, "NASDAQ:MSFT", "1D", 300, NULL, &b), 0);
        assert_int_equal(b.n, 300);
        assert_history("NASDAQ:MSFT", "1D", b.v, b.n, sim_slot_of(&sym, &res, START));
        tvk_bars_free(&b);
        add_series(&r, "BINANCE:BTCUSDT", "1");
        int64_t end = tvk_now_ms() + 10000;
        while (r.w[0].closes < 3 && tvk_now_ms() < end)
            assert_true(step(&r, 500) >= 0);
        assert_true(r.w[0].closes >= 3);
        tvk_conn_stats cst;
        tvk_conn_get_stats(r.c, &cst);
        assert_true(cst.parse_errors >= 1);
        assert_int_equal(cst.reconnects, 0);
        assert_int_equal(r.disc, 0);
        run_free(&r);
        simproc_stop(&s);
    }
}

/* A message over the client's limit ends that connection (it cannot be skipped without being
 * read); the client reconnects and the stream goes on without a gap. */
static void test_oversize(void **st)
{
    (void)st;
    simproc s;
    const char *extra[] = {"--speed", "600",         "--update-ms",      "10",
                           "--fault", "oversize=40", "--oversize-bytes", "2000000",
                           NULL};
    start_sim(&s, extra);
    tvk_conn_opts o;
    fast_opts(&o, s.url);
    o.max_message = 1 << 20;
    run r;
    run_init(&r, open_conn(&o));
    add_series(&r, "BINANCE:BTCUSDT", "1");
    stream_until(&r, 3, 0, 30000);
    assert_true(r.reconnected >= 3);
    assert_non_null(strstr(r.disc_msg, "TVK_EMSG_TOOBIG"));
    assert_true(r.w[0].closes >= 3);
    assert_int_equal(r.errors, 0);
    run_free(&r);
    simproc_stop(&s);
}

/* ---------------------------------------------------------------- server restarts */

static int url_port(const char *url)
{
    const char *p = strstr(url, "127.0.0.1:");
    assert_non_null(p);
    return atoi(p + 10);
}

/* The server goes away; when it is back it answers the first upgrade 429 with Retry-After: 1.
 * The next attempt waits at least that long, then everything is restored. */
static void test_429_retry_after(void **st)
{
    (void)st;
    simproc s;
    const char *extra[] = {"--speed", "600", "--update-ms", "10", NULL};
    int64_t born = tvk_now_ms();
    start_sim(&s, extra);
    tvk_conn_opts o;
    fast_opts(&o, s.url);
    run r;
    run_init(&r, open_conn(&o));
    add_series(&r, "BINANCE:BTCUSDT", "1");
    int64_t end = tvk_now_ms() + 10000;
    while (r.w[0].closes < 1 && tvk_now_ms() < end)
        assert_true(step(&r, 500) >= 0);
    char port[16], start[32];
    snprintf(port, sizeof port, "%d", url_port(s.url));
    simproc_stop(&s);
    /* wait until the client saw the loss (and failed at least one attempt on the closed port) */
    end = tvk_now_ms() + 10000;
    while (r.reconnecting < 2 && tvk_now_ms() < end)
        assert_true(step(&r, 500) >= 0);
    assert_int_equal(r.disc, 1);
    /* the same market, its clock where the first sim's would be now (plus a margin): the
     * backfill then fills the time the server was away */
    snprintf(start, sizeof start, "%lld",
             (long long)(START + (tvk_now_ms() - born) * 600 / 1000 + 120));
    const char *extra2[] = {"--port",      port, "--fault", "reject-429=1", "--speed", "600",
                            "--update-ms", "10", "--start", start,          NULL};
    start_sim(&s, extra2);
    int64_t t0 = tvk_now_ms();
    end = t0 + 15000;
    while ((r.reconnected < 1 || r.updates_after_reconnect < 2) && tvk_now_ms() < end)
        assert_true(step(&r, 500) >= 0);
    assert_true(r.err429_delay >= 1000);
    assert_int_equal(r.reconnected, 1);
    assert_true(r.updates_after_reconnect >= 2);
    run_free(&r);
    simproc_stop(&s);
}

static char pki[256], ca_pem[300], srv_pem[300], srv_key[300], self_pem[300], self_key[300];

static int make_pki(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(pki, sizeof pki, "%s/tvk_resilience_XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(pki)) return -1;
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && exec >openssl.log 2>&1 && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout ca.key -out ca.pem -days 2 -subj '/CN=tvkit resilience CA' && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout srv.key -out srv.csr -subj '/CN=tvkit resilience server' && "
             "printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' >ext.cnf && "
             "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
             "-out srv.pem -days 2 -extfile ext.cnf && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout self.key -out self.pem -days 2 -subj '/CN=127.0.0.1' "
             "-addext subjectAltName=IP:127.0.0.1",
             pki);
    if (system(cmd) != 0) return -1;
    snprintf(ca_pem, sizeof ca_pem, "%s/ca.pem", pki);
    snprintf(srv_pem, sizeof srv_pem, "%s/srv.pem", pki);
    snprintf(srv_key, sizeof srv_key, "%s/srv.key", pki);
    snprintf(self_pem, sizeof self_pem, "%s/self.pem", pki);
    snprintf(self_key, sizeof self_key, "%s/self.key", pki);
    return 0;
}

/* The server comes back with a certificate our CA did not sign: the reconnect fails
 * verification and that is the error the stream ends with (no silent continue, no retry
 * loop). */
static void test_tls_certificate_change(void **st)
{
    (void)st;
    if (make_pki() != 0) fail_msg("openssl could not make the test certificates (%s)", pki);
    simproc s;
    const char *extra[] = {"--speed", "600",       "--update-ms", "10", "--tls-cert",
                           srv_pem,   "--tls-key", srv_key,       NULL};
    start_sim(&s, extra);
    assert_non_null(strstr(s.url, "wss://"));
    tvk_conn_opts o;
    fast_opts(&o, s.url);
    o.ca_file = ca_pem;
    run r;
    run_init(&r, open_conn(&o));
    add_series(&r, "BINANCE:BTCUSDT", "1");
    int64_t end = tvk_now_ms() + 10000;
    while (r.w[0].closes < 1 && tvk_now_ms() < end)
        assert_true(step(&r, 500) >= 0);
    assert_true(r.w[0].closes >= 1);
    char port[16];
    snprintf(port, sizeof port, "%d", url_port(s.url));
    simproc_stop(&s);
    end = tvk_now_ms() + 10000;
    while (r.disc < 1 && tvk_now_ms() < end)
        assert_true(step(&r, 500) >= 0);
    const char *extra2[] = {"--port", port, "--tls-cert", self_pem, "--tls-key", self_key, NULL};
    start_sim(&s, extra2);
    end = tvk_now_ms() + 15000;
    int rc = 0;
    while (tvk_now_ms() < end && (rc = step(&r, 500)) >= 0) {
    }
    assert_int_equal(rc, TVK_ETLS_VERIFY);
    assert_non_null(strstr(tvk_conn_errmsg(r.c), "not retried"));
    assert_int_equal(r.errors, 1); /* the series ended with the same error */
    assert_int_equal(r.last_error, TVK_ETLS_VERIFY);
    assert_int_equal(r.reconnected, 0);
    run_free(&r);
    simproc_stop(&s);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", pki);
    assert_int_equal(system(cmd), 0);
}

/* ---------------------------------------------------------------- server-reported errors */

/* protocol_error ends the connection's use: surfaced as TVK_EPROTOCOL, never retried. */
static void test_protocol_error(void **st)
{
    (void)st;
    simproc s;
    const char *extra[] = {"--fault", "protocol-error=3", NULL};
    start_sim(&s, extra);
    tvk_conn_opts o;
    fast_opts(&o, s.url);
    run r;
    run_init(&r, open_conn(&o));
    tvk_bars b;
    int64_t t0 = tvk_now_ms();
    int rc = tvk_history(r.c, "NASDAQ:AAPL", "1D", 100, NULL, &b);
    assert_int_equal(rc, TVK_EPROTOCOL);
    assert_true(tvk_now_ms() - t0 < 5000);
    assert_non_null(strstr(tvk_conn_errmsg(r.c), "protocol_error"));
    /* no reconnect was tried, and new requests fail at once */
    tvk_event ev;
    while ((rc = tvk_conn_next_event(r.c, &ev, 0)) == 1)
        assert_true(ev.type != TVK_EV_RECONNECTING && ev.type != TVK_EV_DISCONNECTED);
    assert_int_equal(rc, TVK_EPROTOCOL);
    assert_int_equal(tvk_history(r.c, "NASDAQ:MSFT", "1D", 10, NULL, &b), TVK_EPROTOCOL);
    tvk_conn_stats cst;
    tvk_conn_get_stats(r.c, &cst);
    assert_int_equal(cst.reconnects, 0);
    run_free(&r);
    simproc_stop(&s);
}

/* critical_error, symbol_error and series_error end one series each with its own error; the
 * other series goes on, and a later reconnect does not retry the failed ones. */
static void test_series_errors(void **st)
{
    (void)st;
    simproc s;
    const char *extra[] = {"--speed",        "600", "--update-ms", "10", "--fault",
                           "close-after=60", NULL};
    start_sim(&s, extra);
    tvk_conn_opts o;
    fast_opts(&o, s.url);
    run r;
    run_init(&r, open_conn(&o));
    add_series(&r, "BINANCE:BTCUSDT", "1");
    add_series(&r, "BINANCE:ETHUSDT", "1");
    add_series(&r, "SIM:VICTIM", "1");
    add_series(&r, "FOREX:EURUSD", "1"); /* no such symbol */
    int64_t end = tvk_now_ms() + 10000;
    while ((!r.w[0].history || !r.w[1].history || !r.w[2].history || r.errors < 1) &&
           tvk_now_ms() < end)
        assert_true(step(&r, 500) >= 0);
    assert_int_equal(r.errors, 1);
    assert_int_equal(r.last_error, TVK_ESYMBOL);
    assert_int_equal(tvk_series_error(r.se[3]), TVK_ESYMBOL);

    /* critical_error on ETHUSDT's chart session (a time zone the server does not know) */
    char p[128];
    snprintf(p, sizeof p, "[\"%s\",\"Nowhere/Atlantis\"]", tvk_series_chart_session(r.se[1]));
    assert_int_equal(tvk_conn_send(r.c, "switch_timezone", p), 0);
    /* series_error on SIM:VICTIM's session: its series modified onto an unresolved symbol */
    snprintf(p, sizeof p, "[\"%s\",\"sds_1\",\"s2\",\"sds_sym_9\",\"1\",\"\"]",
             tvk_series_chart_session(r.se[2]));
    assert_int_equal(tvk_conn_send(r.c, "modify_series", p), 0);
    end = tvk_now_ms() + 10000;
    while (r.errors < 3 && tvk_now_ms() < end)
        assert_true(step(&r, 500) >= 0);
    assert_int_equal(r.errors, 3);
    assert_int_equal(tvk_series_error(r.se[1]), TVK_ECRITICAL);
    assert_non_null(strstr(tvk_series_errmsg(r.se[1]), "invalid timezone"));
    assert_int_equal(tvk_series_error(r.se[2]), TVK_ESERIES);
    assert_non_null(strstr(tvk_series_errmsg(r.se[2]), "resolve error"));

    /* the first connection is dropped (close-after): BTCUSDT alone comes back and streams */
    stream_until(&r, 1, 0, 15000);
    assert_int_equal(r.reconnected, 1);
    int before = r.w[0].closes;
    end = tvk_now_ms() + 10000;
    while (r.w[0].closes < before + 2 && tvk_now_ms() < end)
        assert_true(step(&r, 500) >= 0);
    assert_true(r.w[0].closes >= before + 2);
    assert_int_equal(r.errors, 3); /* nothing failed again */
    assert_int_equal(tvk_series_get_state(r.se[0]), TVK_SERIES_READY);
    run_free(&r);
    simproc_stop(&s);
}

/* A server that sends fewer bars than asked (throttled): paging continues until the count. */
static void test_throttled(void **st)
{
    (void)st;
    simproc s;
    const char *extra[] = {"--fault", "throttle=100", NULL};
    start_sim(&s, extra);
    tvk_conn_opts o;
    fast_opts(&o, s.url);
    tvk_conn *c = open_conn(&o);
    sim_symbol sym;
    sim_res res;
    gen("NYSE:IBM", "1D", &sym, &res);
    tvk_bars b;
    assert_int_equal(tvk_history(c, "NYSE:IBM", "1D", 1050, NULL, &b), 0);
    assert_int_equal(b.n, 1050);
    assert_int_equal(b.ended, 0);
    assert_true(b.pages >= 11);
    assert_history("NYSE:IBM", "1D", b.v, b.n, sim_slot_of(&sym, &res, START));
    tvk_bars_free(&b);
    tvk_conn_free(c);
    simproc_stop(&s);
}

/* ---------------------------------------------------------------- an attempt that hangs */

/* A listening socket on 127.0.0.1:port (the port a sim just left) whose connections are
 * accepted and held, never answered: a reconnect attempt into it hangs in the upgrade. */
static int black_hole(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    int one = 1;
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 16), 0);
    return fd;
}

static void hold_accepted(int lfd, int *held, int *n, int max)
{
    int fd;
    while (*n < max && (fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
        held[(*n)++] = fd;
}

static int local_port(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    return ntohs(a.sin_port);
}

static int peer_port(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    assert_int_equal(getpeername(fd, (struct sockaddr *)&a, &len), 0);
    return ntohs(a.sin_port);
}

/* Slack over the caller's timeout for a loaded machine (a blocking attempt takes 5,000 ms). */
#define WAIT_SLACK_MS 250

/* One tvk_conn_next_event(c, &ev, 200) that must return by its deadline. */
static int next_within(run *r, tvk_event *ev)
{
    int64_t t0 = tvk_now_ms();
    int rc = tvk_conn_next_event(r->c, ev, 200);
    int64_t took = tvk_now_ms() - t0;
    if (took > 200 + WAIT_SLACK_MS)
        fprintf(stderr, "tvk_conn_next_event(200) returned %d after %lld ms\n", rc,
                (long long)took);
    assert_true(took <= 200 + WAIT_SLACK_MS);
    assert_true(rc >= 0);
    if (rc == 1 && ev->type == TVK_EV_DISCONNECTED) r->disc++;
    if (rc == 1 && ev->type == TVK_EV_RECONNECTING) r->reconnecting++;
    if (rc == 1 && ev->type == TVK_EV_RECONNECTED) r->reconnected++;
    return rc;
}

/* The server is replaced by one that accepts TCP and never answers the upgrade: while the
 * reconnect attempt hangs (connect_timeout_ms 5000), tvk_conn_next_event(c, &ev, 200) returns
 * at its own deadline, again and again, and tvk_conn_fd / wants / deadline show the attempt's
 * socket; the attempt then fails at the connect timeout with the usual RECONNECTING event, the
 * next attempt starts, and tvk_conn_close during it releases its socket at once. */
static void test_connect_nonblocking(void **st)
{
    (void)st;
    simproc s;
    const char *extra[] = {"--speed", "600", "--update-ms", "10", NULL};
    start_sim(&s, extra);
    tvk_conn_opts o;
    fast_opts(&o, s.url);
    assert_int_equal(o.connect_timeout_ms, 5000);
    run r;
    run_init(&r, open_conn(&o));
    add_series(&r, "BINANCE:BTCUSDT", "1");
    int64_t end = tvk_now_ms() + 10000;
    while (!r.w[0].history && tvk_now_ms() < end)
        assert_true(step(&r, 500) >= 0);
    assert_true(r.w[0].history);
    int port = url_port(s.url);
    simproc_stop(&s);
    int lfd = black_hole(port), held[4], nheld = 0;

    /* the loss, then attempt 1 goes into the black hole */
    tvk_event ev;
    int64_t attempt_at = -1;
    end = tvk_now_ms() + 10000;
    while (nheld < 1 && tvk_now_ms() < end) {
        int rc = next_within(&r, &ev);
        if (rc == 1 && ev.type == TVK_EV_RECONNECTING) {
            assert_int_equal(ev.attempt, 1);
            attempt_at = tvk_now_ms() + ev.delay_ms;
        }
        hold_accepted(lfd, held, &nheld, 4);
    }
    assert_int_equal(r.disc, 1);
    assert_int_equal(r.reconnecting, 1);
    assert_int_equal(nheld, 1);
    assert_int_equal(tvk_conn_get_state(r.c), TVK_CONN_RECONNECTING);

    /* the attempt is in progress and every wait ends at the caller's deadline */
    for (int i = 0; i < 5; i++) {
        int64_t t0 = tvk_now_ms();
        assert_int_equal(next_within(&r, &ev), 0);
        assert_true(tvk_now_ms() - t0 >= 195);
        assert_int_equal(tvk_conn_get_state(r.c), TVK_CONN_RECONNECTING);
        int fd = tvk_conn_fd(r.c);
        assert_true(fd >= 0);
        assert_int_equal(local_port(fd), peer_port(held[0])); /* the black hole's connection */
        assert_true(tvk_conn_wants(r.c) & TVK_WANT_READ);     /* waiting for the upgrade answer */
        int64_t d = tvk_conn_deadline(r.c);
        assert_true(d >= attempt_at + 5000 - 50 && d <= attempt_at + 5000 + 250);
    }
    assert_int_equal(r.reconnecting, 1);

    /* it fails at the connect timeout with the event and message a blocking attempt gave */
    end = tvk_now_ms() + 10000;
    int failed = 0;
    while (!failed && tvk_now_ms() < end)
        if (next_within(&r, &ev) == 1 && ev.type == TVK_EV_RECONNECTING) {
            int64_t now = tvk_now_ms();
            char want[200];
            snprintf(want, sizeof want,
                     "(attempt 1: connect %s: connect to 127.0.0.1:%d timed out after 5000 ms",
                     o.url, port);
            if (!strstr(ev.errmsg, want)) fprintf(stderr, "event: %s\n", ev.errmsg);
            assert_non_null(strstr(ev.errmsg, want));
            assert_int_equal(ev.attempt, 2);
            assert_int_equal(ev.error, TVK_ETIMEDOUT);
            assert_true(now >= attempt_at + 5000 - 50 && now <= attempt_at + 5000 + 1000);
            attempt_at = now + ev.delay_ms;
            failed = 1;
        }
    assert_true(failed);

    /* attempt 2 hangs the same way; closing the handle during it releases its socket */
    end = tvk_now_ms() + 10000;
    while (nheld < 2 && tvk_now_ms() < end) {
        assert_int_equal(next_within(&r, &ev), 0);
        hold_accepted(lfd, held, &nheld, 4);
    }
    assert_int_equal(nheld, 2);
    assert_true(tvk_conn_fd(r.c) >= 0);
    assert_int_equal(tvk_conn_close(r.c), 0);
    assert_int_equal(tvk_conn_get_state(r.c), TVK_CONN_CLOSED);
    assert_int_equal(tvk_conn_fd(r.c), -1);
    /* the black hole reads the upgrade request, then EOF: the socket is closed already */
    char buf[4096];
    ssize_t k = -1;
    int64_t eof_end = tvk_now_ms() + 2000;
    for (;;) {
        int64_t left = eof_end - tvk_now_ms();
        struct pollfd p = {held[1], POLLIN, 0};
        if (left <= 0 || poll(&p, 1, (int)left) != 1) break;
        if ((k = read(held[1], buf, sizeof buf)) <= 0) break;
    }
    assert_int_equal(k, 0);
    assert_int_equal(r.reconnected, 0);
    for (int i = 0; i < nheld; i++)
        close(held[i]);
    close(lfd);
    run_free(&r);
}

/* Counts one handle's events into r (no assertions on bars: only whether they flow). */
static void drain(run *r)
{
    tvk_event ev;
    int rc;
    while ((rc = tvk_conn_next_event(r->c, &ev, 0)) == 1) {
        if (ev.type == TVK_EV_DISCONNECTED) r->disc++;
        if (ev.type == TVK_EV_RECONNECTING) r->reconnecting++;
        if (ev.type == TVK_EV_RECONNECTED) {
            r->reconnected++;
            r->updates_after_reconnect = 0;
        }
        if (ev.type == TVK_EV_BAR_UPDATE) r->updates_after_reconnect++;
    }
    assert_int_equal(rc, 0);
}

/* One round of an embedder's event loop over two handles: poll() on their tvk_conn_fd /
 * tvk_conn_wants until the earliest tvk_conn_deadline (at most 200 ms), then take every event
 * with timeout 0. Returns how long the round took. */
static int64_t loop_round(run *a, run *b)
{
    int64_t t0 = tvk_now_ms(), wake = t0 + 200;
    struct pollfd p[2];
    nfds_t n = 0;
    run *rs[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        int fd = tvk_conn_fd(rs[i]->c), w = tvk_conn_wants(rs[i]->c);
        int64_t d = tvk_conn_deadline(rs[i]->c);
        if (d >= 0 && d < wake) wake = d;
        if (fd >= 0 && w)
            p[n++] = (struct pollfd){
                fd, (short)((w & TVK_WANT_READ ? POLLIN : 0) | (w & TVK_WANT_WRITE ? POLLOUT : 0)),
                0};
    }
    int64_t wait = wake - tvk_now_ms();
    assert_true(poll(p, n, wait < 0 ? 0 : (int)wait) >= 0);
    drain(a);
    drain(b);
    return tvk_now_ms() - t0;
}

/* An event loop with two connections (the embedder's own poll() on tvk_conn_fd / wants /
 * deadline, tvk_conn_next_event(c, &ev, 0)): while B's reconnect attempt hangs in a black hole,
 * A's live bars keep flowing and no round of the loop takes longer than its 200 ms; when B's
 * server is back (the black hole closes the attempt's connection, a sim listens on the port
 * again), B reconnects through the same loop and its bars flow again. */
static void test_connect_nonblocking_loop(void **st)
{
    (void)st;
    simproc sa, sb;
    const char *extra[] = {"--speed", "600", "--update-ms", "10", NULL};
    start_sim(&sa, extra);
    start_sim(&sb, extra);
    tvk_conn_opts o;
    run a, b;
    fast_opts(&o, sa.url);
    run_init(&a, open_conn(&o));
    fast_opts(&o, sb.url);
    run_init(&b, open_conn(&o));
    add_series(&a, "BINANCE:BTCUSDT", "1");
    add_series(&b, "BINANCE:ETHUSDT", "1");
    int64_t end = tvk_now_ms() + 10000;
    while ((a.updates_after_reconnect < 3 || b.updates_after_reconnect < 3) && tvk_now_ms() < end)
        loop_round(&a, &b);
    assert_true(a.updates_after_reconnect >= 3 && b.updates_after_reconnect >= 3);

    int port = url_port(sb.url);
    simproc_stop(&sb);
    int lfd = black_hole(port), held[8], nheld = 0;
    end = tvk_now_ms() + 10000;
    while (nheld < 1 && tvk_now_ms() < end) {
        assert_true(loop_round(&a, &b) <= 200 + WAIT_SLACK_MS);
        hold_accepted(lfd, held, &nheld, 8);
    }
    assert_int_equal(nheld, 1);
    assert_int_equal(b.disc, 1);

    /* one second of B's attempt under way: A streams on, every round ends in time */
    a.updates_after_reconnect = 0;
    end = tvk_now_ms() + 1000;
    while (tvk_now_ms() < end) {
        assert_true(loop_round(&a, &b) <= 200 + WAIT_SLACK_MS);
        assert_int_equal(tvk_conn_get_state(b.c), TVK_CONN_RECONNECTING);
        assert_int_equal(local_port(tvk_conn_fd(b.c)), peer_port(held[0]));
    }
    fprintf(stderr, "A: %d bar updates during B's attempt\n", a.updates_after_reconnect);
    assert_true(a.updates_after_reconnect >= 10);
    assert_int_equal(b.reconnecting, 1);
    assert_int_equal(b.reconnected, 0);

    /* B's server is back */
    for (int i = 0; i < nheld; i++)
        close(held[i]);
    close(lfd);
    char port_s[16];
    snprintf(port_s, sizeof port_s, "%d", port);
    const char *extra2[] = {"--port", port_s, "--speed", "600", "--update-ms", "10", NULL};
    start_sim(&sb, extra2);
    b.updates_after_reconnect = 0;
    end = tvk_now_ms() + 10000;
    while ((b.reconnected < 1 || b.updates_after_reconnect < 3) && tvk_now_ms() < end)
        assert_true(loop_round(&a, &b) <= 200 + WAIT_SLACK_MS);
    assert_int_equal(b.reconnected, 1);
    assert_true(b.updates_after_reconnect >= 3);
    assert_int_equal(a.disc, 0);
    run_free(&a);
    run_free(&b);
    simproc_stop(&sa);
    simproc_stop(&sb);
}

/* ---------------------------------------------------------------- backoff */

/* The server is gone for good: attempt n waits in [d/2, d], d = 40 ms doubling up to 200 ms,
 * the waits really happen, and after reconnect_attempts failures the handle gives up with
 * TVK_ECONN_LOST (the series ends with it too). */
static void test_backoff(void **st)
{
    (void)st;
    simproc s;
    start_sim(&s, NULL);
    tvk_conn_opts o;
    fast_opts(&o, s.url);
    o.reconnect_delay_ms = 40;
    o.reconnect_max_delay_ms = 200;
    o.reconnect_attempts = 6;
    run r;
    run_init(&r, open_conn(&o));
    add_series(&r, "BINANCE:BTCUSDT", "1");
    int64_t end = tvk_now_ms() + 10000;
    while (!r.w[0].history && tvk_now_ms() < end)
        assert_true(step(&r, 500) >= 0);
    simproc_stop(&s);
    int delays[16], n = 0, rc = 0, saw_disc = 0, saw_error = 0;
    int64_t at[16];
    end = tvk_now_ms() + 10000;
    while (tvk_now_ms() < end) {
        tvk_event ev;
        rc = tvk_conn_next_event(r.c, &ev, 500);
        if (rc < 0) break;
        if (rc == 0) continue;
        if (ev.type == TVK_EV_DISCONNECTED) saw_disc = 1;
        if (ev.type == TVK_EV_ERROR) {
            assert_int_equal(ev.error, TVK_ECONN_LOST);
            saw_error = 1;
        }
        if (ev.type == TVK_EV_RECONNECTING) {
            assert_true(n < 16);
            assert_int_equal(ev.attempt, n + 1);
            if (n > 0) assert_int_equal(ev.error, TVK_ECONNECT);
            delays[n] = ev.delay_ms;
            at[n++] = tvk_now_ms();
        }
    }
    assert_int_equal(rc, TVK_ECONN_LOST);
    assert_non_null(strstr(tvk_conn_errmsg(r.c), "gave up after 6 reconnect attempts"));
    assert_true(saw_disc && saw_error);
    assert_int_equal(n, 6); /* attempts 1..6 announced; the 6th failure ends it */
    int d = 40;
    for (int i = 0; i < n; i++) {
        assert_true(delays[i] >= d / 2 && delays[i] <= d);
        if (i > 0)
            fprintf(stderr, "attempt %d: delay %d, %lld ms after the previous\n", i + 1, delays[i],
                    (long long)(at[i] - at[i - 1]));
        if (i > 0) assert_true(at[i] - at[i - 1] >= delays[i - 1] - 2); /* ms ticks */
        d = d * 2 > 200 ? 200 : d * 2;
    }
    assert_int_equal(tvk_conn_get_state(r.c), TVK_CONN_LOST);
    run_free(&r);
}

/* ---------------------------------------------------------------- bounded memory */

static long status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    assert_non_null(f);
    char line[256];
    long kb = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, n) && line[n] == ':') kb = atol(line + n + 1);
    fclose(f);
    assert_true(kb > 0);
    return kb;
}

#define NSYM 200

/* One hour of market time at 360x (10 s) on 200 symbols (a live 1-minute series and a quote
 * each, on one connection): the peak RSS at the end stays within 10% of the RSS after the
 * first minute of market time. Every bar closes once, in order, with its final values. */
static void test_memory_flat(void **st)
{
    (void)st;
    simproc s;
    const char *extra[] = {"--speed", "360", "--update-ms", "50", "--heartbeat", "1", NULL};
    start_sim(&s, extra);
    tvk_conn_opts o;
    fast_opts(&o, s.url);
    tvk_conn *c = open_conn(&o);
    static char names[NSYM][32];
    const char *syms[NSYM];
    watch *w = calloc(NSYM, sizeof *w);
    tvk_series **se = calloc(NSYM, sizeof *se);
    assert_true(w && se);
    for (int i = 0; i < NSYM; i++) {
        snprintf(names[i], sizeof names[i], "SIM:FLAT%03d", i);
        syms[i] = names[i];
        gen(names[i], "1", &w[i].sym, &w[i].res);
        tvk_series_req q;
        tvk_series_req_init(&q);
        q.symbol = names[i];
        q.interval = "1";
        q.count = 10;
        q.live = 1;
        q.user = &w[i];
        assert_int_equal(tvk_series_open(c, &q, &se[i]), 0);
    }
    tvk_quotes *qs;
    assert_int_equal(tvk_quotes_open(c, NULL, NULL, 0, NULL, &qs), 0);
    assert_int_equal(tvk_quotes_add(qs, syms, NSYM), 0);

    int histories = 0;
    long quotes = 0, base_kb = 0;
    int64_t t_ready = 0, end = tvk_now_ms() + 60000, stop = 0;
    for (;;) {
        int64_t now = tvk_now_ms();
        if (now >= end || (stop && now >= stop)) break;
        tvk_event ev;
        int rc = tvk_conn_next_event(c, &ev, 200);
        assert_true(rc >= 0);
        if (rc == 1) {
            if (ev.type == TVK_EV_QUOTE) quotes++;
            if (ev.type == TVK_EV_ERROR) fail_msg("%s", ev.errmsg);
            if (ev.type == TVK_EV_HISTORY) histories++;
            if (ev.series) on_bar_event(ev.user, &ev);
        }
        if (!t_ready && histories == NSYM) t_ready = tvk_now_ms();
        /* one minute of market time after everything is subscribed */
        if (t_ready && !base_kb && tvk_now_ms() >= t_ready + 60 * 1000 / 360) {
            base_kb = status_kb("VmRSS");
            stop = tvk_now_ms() + 3600 * 1000 / 360;
        }
    }
    assert_int_equal(histories, NSYM);
    assert_true(base_kb > 0);
    long peak_kb = status_kb("VmHWM");
    int closes = 0;
    for (int i = 0; i < NSYM; i++)
        closes += w[i].closes;
    fprintf(stderr, "RSS after 1 min %ld kB, peak after 60 min %ld kB; %d closes, %ld quotes\n",
            base_kb, peak_kb, closes, quotes);
    assert_true(closes >= NSYM * 50);
    assert_true(quotes >= NSYM * 50);
    assert_true(peak_kb * 10 <= base_kb * 11);
    tvk_quotes_close(qs);
    for (int i = 0; i < NSYM; i++)
        tvk_series_close(se[i]);
    tvk_conn_free(c);
    free(w);
    free(se);
    simproc_stop(&s);
}

/* The event queue has a bound: a caller that waits for one thing while events pile up gets
 * TVK_EBACKPRESSURE (the socket is not read meanwhile); bar events are never dropped. */
static void test_backpressure(void **st)
{
    (void)st;
    simproc s;
    start_sim(&s, NULL);
    tvk_conn_opts o;
    fast_opts(&o, s.url);
    o.max_events = 8;
    tvk_conn *c = open_conn(&o);
    tvk_series *se[20];
    for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf(name, sizeof name, "SIM:BP%02d", i);
        tvk_series_req q;
        tvk_series_req_init(&q);
        q.symbol = name;
        q.interval = "1D";
        q.count = 50;
        assert_int_equal(tvk_series_open(c, &q, &se[i]), 0);
    }
    assert_int_equal(tvk_series_wait(se[19], 10000), TVK_EBACKPRESSURE);
    assert_non_null(strstr(tvk_conn_errmsg(c), "event queue full"));
    int seen[20] = {0}, n = 0;
    int64_t end = tvk_now_ms() + 10000;
    while (n < 20 && tvk_now_ms() < end) {
        tvk_event ev;
        int rc = tvk_conn_next_event(c, &ev, 500);
        assert_true(rc >= 0);
        if (rc == 0) continue;
        assert_int_equal(ev.type, TVK_EV_HISTORY);
        assert_int_equal(ev.nbars, 50);
        for (int i = 0; i < 20; i++)
            if (ev.series == se[i]) {
                assert_int_equal(seen[i], 0);
                seen[i] = 1;
                n++;
            }
    }
    assert_int_equal(n, 20);
    for (int i = 0; i < 20; i++)
        tvk_series_close(se[i]);
    tvk_conn_free(c);
    simproc_stop(&s);
}

static int teardown(void **st)
{
    (void)st;
    simproc_stop_all();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s TVKIT_SIM_BINARY [TEST_FILTER]\n", argv[0]);
        return 2;
    }
    sim_bin = argv[1];
    unsetenv("TVKIT_AUTH_TOKEN");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_close_mid_stream, teardown),
        cmocka_unit_test_teardown(test_close_mid_history, teardown),
        cmocka_unit_test_teardown(test_stall_with_heartbeats, teardown),
        cmocka_unit_test_teardown(test_stall_without_heartbeats, teardown),
        cmocka_unit_test_teardown(test_silence_timeout, teardown),
        cmocka_unit_test_teardown(test_client_stops_echoing, teardown),
        cmocka_unit_test_teardown(test_bad_framing, teardown),
        cmocka_unit_test_teardown(test_oversize, teardown),
        cmocka_unit_test_teardown(test_429_retry_after, teardown),
        cmocka_unit_test_teardown(test_tls_certificate_change, teardown),
        cmocka_unit_test_teardown(test_protocol_error, teardown),
        cmocka_unit_test_teardown(test_series_errors, teardown),
        cmocka_unit_test_teardown(test_throttled, teardown),
        cmocka_unit_test_teardown(test_memory_flat, teardown),
        cmocka_unit_test_teardown(test_backpressure, teardown),
        cmocka_unit_test_teardown(test_backoff, teardown),
        cmocka_unit_test_teardown(test_connect_nonblocking, teardown),
        cmocka_unit_test_teardown(test_connect_nonblocking_loop, teardown),
    };
    if (argc > 2) {
        /* a filter that selects nothing would pass silently */
        size_t k = 0;
        while (k < sizeof tests / sizeof tests[0] && strcmp(tests[k].name, argv[2]))
            k++;
        if (k == sizeof tests / sizeof tests[0]) {
            fprintf(stderr, "no test named %s\n", argv[2]);
            return 2;
        }
    }
    if (argc > 2) cmocka_set_test_filter(argv[2]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
