/* tvkit quotes: live quotes of many symbols on one connection, as JSON lines of each symbol's
 * merged snapshot (every field received so far, latest values) whenever it changes. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "parse.h"

#define CMD "quotes"
#define MAX_EVENTS INT64_C(1000000000000)
#define MAX_DURATION_S (86400 * 366)

static const char help[] =
    "Usage: tvkit quotes SYMBOL... [--count N] [--duration S] [options]\n"
    "Streams live quotes of every SYMBOL (EXCHANGE:SYMBOL) over one connection: one JSON line\n"
    "on stdout with the symbol's merged snapshot each time it changes, the first full\n"
    "snapshots included:\n"
    "  {\"symbol\":\"NASDAQ:AAPL\",\"status\":\"ok\",\"lp\":189.5,\"ch\":1.2,...}\n"
    "A symbol the server rejects gives one line {\"symbol\":..,\"status\":\"error\",...} and a\n"
    "message on stderr; the others go on, and the exit status is then 4.\n"
    "\n"
    "  --count N          stop after N snapshots with status ok (exit 0)\n"
    "  --duration S       stop after S seconds (fractions allowed; exit 0)\n"
    "  --no-reconnect     end (exit 3) when the connection is lost, instead of reconnecting\n"
    "  -h, --help         this text\n"
    "\n"
    "Without --count or --duration it runs until interrupted.\n"
    "A lost connection is restored (backoff 1 s doubling to 30 s) with every symbol, and the\n"
    "snapshots go on. Connection notices (disconnected, reconnecting, reconnected) go to stderr\n"
    "unless -q.\n"
    "\n"
    "%s\n%s";

typedef struct args {
    const char **symbols;
    size_t nsym;
    int64_t count, duration_ms;
    int have_duration; /* --duration 0 is valid: subscribe, then stop */
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
            printf(help, cli_global_help, cli_exit_help);
            return -1;
        } else if (!strcmp(s, "--no-reconnect")) {
            g->reconnect = 0;
        } else if ((r = cli_int_opt(CMD, argc, argv, &i, "--count", 1, MAX_EVENTS, &a->count)) !=
                   0) {
            if (r != 1) return r;
        } else if ((r = cli_duration_opt(CMD, argc, argv, &i, MAX_DURATION_S, &a->duration_ms,
                                         &a->have_duration)) != 0) {
            if (r != 1) return r;
        } else if ((r = cli_global_option(g, argc, argv, &i)) != 0) {
            if (r != 1) return r;
        } else {
            return cli_usage_error(CMD, "unknown option '%s'", s);
        }
    }
    if (!a->nsym) return cli_usage_error(CMD, "no SYMBOL given (e.g. NASDAQ:AAPL)%s", "");
    return 0;
}

/* 1 when every symbol of the set has failed (nothing more can come). */
static int all_failed(const tvk_quotes *q)
{
    size_t n = tvk_quotes_count(q);
    for (size_t i = 0; i < n; i++) {
        const tvk_quote *x = tvk_quotes_at(q, i);
        if (x && x->status != TVK_QUOTE_ERROR) return 0;
    }
    return 1;
}

/* Appends the snapshot's line to pend; written out by the caller's wait, or here in chunks. */
static int emit(const tvk_quote *q, tvk_buf *pend)
{
    int rc = tvk_quote_to_json(q, pend);
    /* The newline in place when the NUL's room allows (an "ok" line always leaves it, short of
     * a buffer limit): once per line on streams of millions. */
    if (!rc && pend->len + 2 <= pend->cap && !pend->limit) {
        pend->data[pend->len++] = '\n';
        pend->data[pend->len] = '\0';
    } else if (!rc) {
        rc = tvk_buf_append(pend, "\n", 1);
    }
    if (rc < 0) return cli_fail(CMD, rc, NULL);
    return pend->len >= CLI_OUT_CHUNK ? cli_out_write(pend, CMD) : 0;
}

static int run(cli_ctx *g, tvk_conn *c, const args *a, tvk_quotes **qp)
{
    int rc = tvk_quotes_open(c, NULL, NULL, 0, NULL, qp);
    if (rc == 0) rc = tvk_quotes_add(*qp, a->symbols, a->nsym);
    if (rc < 0) return cli_fail(CMD, rc, tvk_conn_errmsg(c));
    int64_t deadline = a->have_duration ? tvk_now_ms() + a->duration_ms : -1;
    int64_t events = 0;
    int status = 0;
    tvk_buf pend; /* lines not yet written out */
    tvk_buf_init(&pend);
    for (;;) {
        tvk_event ev;
        rc = cli_next_event(c, &ev, deadline, &pend, &status, CMD);
        if (rc == 0) break;
        if (rc < 0) {
            if (!status) status = cli_fail(CMD, rc, tvk_conn_errmsg(c));
            break;
        }
        if (cli_conn_event(g, CMD, &ev)) continue;
        if (ev.type == TVK_EV_ERROR) {
            const char *sym = ev.quote ? ev.quote->symbol : ev.symbol;
            cli_symbol_err(CMD, sym, ev.error, ev.errmsg);
            if (!status) status = cli_exit_status(ev.error);
            if (ev.quote) {
                int st = emit(ev.quote, &pend);
                if (st) {
                    status = st;
                    break;
                }
            }
            /* Nothing more can come; the other symbols' errors (one critical_error fails them
             * all at once) are already queued: take them, then stop. */
            if (all_failed(*qp)) deadline = tvk_now_ms();
            continue;
        }
        if (ev.type != TVK_EV_QUOTE || !ev.quote) continue;
        int st = emit(ev.quote, &pend);
        if (st) {
            status = st;
            break;
        }
        if (a->count && ++events >= a->count) break;
    }
    int st = cli_out_write(&pend, CMD);
    if (st && !status) status = st;
    tvk_buf_free(&pend);
    return status;
}

int cli_quotes(cli_ctx *g, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof a);
    g->reconnect = 1;
    int st = parse(g, argc, argv, &a);
    if (st) {
        free(a.symbols);
        return st < 0 ? 0 : st;
    }
    tvk_conn *c = NULL;
    tvk_quotes *q = NULL;
    st = cli_connect(g, &c);
    if (!st) st = run(g, c, &a, &q);
    tvk_quotes_close(q);
    tvk_conn_free(c);
    free(a.symbols);
    return st;
}
