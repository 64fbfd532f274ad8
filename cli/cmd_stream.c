/* tvkit stream: live bars of one or more symbols as JSON lines, one per bar_update (the forming
 * bar changed) and bar_close (a bar finished), until --count events, --duration seconds, or an
 * interrupt. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"
#include "parse.h"

#define CMD "stream"
#define MAX_EVENTS INT64_C(1000000000000)
#define MAX_DURATION_S (86400 * 366)

static const char help[] =
    "Usage: tvkit stream SYMBOL... -i INTERVAL [--count N] [--duration S] [options]\n"
    "Streams live bars of each SYMBOL (EXCHANGE:SYMBOL) over one connection, one JSON line per\n"
    "event on stdout:\n"
    "  {\"event\":\"bar_update\"|\"bar_close\",\"symbol\":\"NASDAQ:AAPL\",\"time\":\"...\",\n"
    "   \"open\":...,\"high\":...,\"low\":...,\"close\":...,\"volume\":...}\n"
    "bar_update: the forming bar changed; bar_close: a bar finished (its final values, once).\n"
    "\n"
    "  -i, --interval I   bar interval (as for tvkit history: 1, 5, 1H, 1D, ...)\n"
    "  --count N          stop after N bar events (exit 0)\n"
    "  --duration S       stop after S seconds (fractions allowed; exit 0)\n"
    "  --epoch            times as Unix seconds instead of ISO-8601 UTC\n"
    "  --no-reconnect     end (exit 3) when the connection is lost, instead of reconnecting\n"
    "%s"
    "  -h, --help         this text\n"
    "\n"
    "Without --count or --duration it runs until interrupted. A symbol the server rejects is\n"
    "reported on stderr and the others go on; the exit status is then 4.\n"
    "A lost connection is restored (backoff 1 s doubling to 30 s) with every subscription;\n"
    "bars missed meanwhile are delivered before live ones. Connection notices (disconnected,\n"
    "reconnecting, reconnected) go to stderr unless -q.\n"
    "\n"
    "%s\n%s";

typedef struct args {
    const char **symbols;
    size_t nsym;
    char interval[32];
    int64_t count, duration_ms;
    int have_duration; /* --duration 0 is valid: subscribe, then stop */
    int epoch;
    tvk_req_opts ro;
} args;

static int parse(cli_ctx *g, int argc, char **argv, args *a)
{
    int r, only_symbols = 0;
    if (!(a->symbols = cli_symbols_new(CMD, argc))) return CLI_EXIT_OTHER;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        int took = cli_symbol_arg(CMD, s, &only_symbols, a->symbols, &a->nsym);
        if (took == 1) continue;
        if (took) return took;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            printf(help, cli_req_help, cli_global_help, cli_exit_help);
            return -1;
        } else if (!strcmp(s, "--epoch")) {
            a->epoch = 1;
        } else if (!strcmp(s, "--no-reconnect")) {
            g->reconnect = 0;
        } else if ((r = cli_interval_opt(CMD, argc, argv, &i, a->interval, sizeof a->interval)) !=
                   0) {
            if (r != 1) return r;
        } else if ((r = cli_int_opt(CMD, argc, argv, &i, "--count", 1, MAX_EVENTS, &a->count)) !=
                   0) {
            if (r != 1) return r;
        } else if ((r = cli_duration_opt(CMD, argc, argv, &i, MAX_DURATION_S, &a->duration_ms,
                                         &a->have_duration)) != 0) {
            if (r != 1) return r;
        } else if ((r = cli_req_option(&a->ro, argc, argv, &i)) != 0) {
            if (r != 1) return r;
        } else if ((r = cli_global_option(g, argc, argv, &i)) != 0) {
            if (r != 1) return r;
        } else {
            return cli_usage_error(CMD, "unknown option '%s'", s);
        }
    }
    if (!a->nsym) return cli_usage_error(CMD, "no SYMBOL given (e.g. BINANCE:BTCUSDT)%s", "");
    if (!a->interval[0]) return cli_usage_error(CMD, "no interval given (-i, e.g. -i 1)%s", "");
    return 0;
}

static int run(cli_ctx *g, tvk_conn *c, const args *a, tvk_series **series)
{
    for (size_t i = 0; i < a->nsym; i++) {
        tvk_series_req r;
        tvk_series_req_init(&r);
        r.symbol = a->symbols[i];
        r.interval = a->interval;
        r.count = 1; /* only the forming bar: the stream is what is asked for */
        r.live = 1;
        r.opts = a->ro;
        int rc = tvk_series_open(c, &r, &series[i]);
        if (rc < 0) return cli_fail(CMD, rc, tvk_conn_errmsg(c));
    }
    int64_t deadline = a->have_duration ? tvk_now_ms() + a->duration_ms : -1;
    int64_t events = 0;
    size_t failed = 0;
    int status = 0;
    tvk_buf pend; /* lines not yet written out */
    tvk_buf_init(&pend);
    for (;;) {
        tvk_event ev;
        int rc = cli_next_event(c, &ev, deadline, &pend, &status, CMD);
        if (rc == 0) break;
        if (rc < 0) {
            if (!status) status = cli_fail(CMD, rc, tvk_conn_errmsg(c));
            break;
        }
        if (cli_conn_event(g, CMD, &ev)) continue;
        if (ev.type == TVK_EV_ERROR) {
            cli_symbol_err(CMD, ev.symbol, ev.error, ev.errmsg);
            if (!status) status = cli_exit_status(ev.error);
            if (++failed == a->nsym) break;
            continue;
        }
        if (ev.type == TVK_EV_HISTORY) {
            cli_info(g, CMD, "%s: streaming %s", ev.symbol, ev.interval ? ev.interval : "");
            continue;
        }
        if (ev.type != TVK_EV_BAR_UPDATE && ev.type != TVK_EV_BAR_CLOSE) continue;
        rc = cli_bar_event_json(&pend, tvk_event_type_name(ev.type), ev.symbol, &ev.bar, a->epoch);
        if (rc < 0) {
            status = cli_fail(CMD, rc, NULL);
            break;
        }
        /* Written out before the loop blocks (above), in chunks, and at the end. */
        if (pend.len >= CLI_OUT_CHUNK && (status = cli_out_write(&pend, CMD)) != 0) break;
        if (a->count && ++events >= a->count) break;
    }
    int st = cli_out_write(&pend, CMD);
    if (st && !status) status = st;
    tvk_buf_free(&pend);
    return status;
}

int cli_stream(cli_ctx *g, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof a);
    g->reconnect = 1;
    int st = parse(g, argc, argv, &a);
    if (st) {
        free(a.symbols);
        return st < 0 ? 0 : st;
    }
    tvk_series **series = calloc(a.nsym, sizeof *series);
    tvk_conn *c = NULL;
    if (!series) {
        cli_err(CMD, "out of memory");
        st = CLI_EXIT_OTHER;
    } else {
        st = cli_connect(g, &c);
        if (!st) st = run(g, c, &a, series);
        for (size_t i = 0; i < a.nsym; i++)
            tvk_series_close(series[i]);
        tvk_conn_free(c);
    }
    free(series);
    free(a.symbols);
    return st;
}
