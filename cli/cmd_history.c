/* tvkit history: historical bars of one or more symbols, by count or by date range, over one or
 * more connections (cli/fetch.c loads them). Output is written symbol by symbol in the order
 * given, each as soon as it and those before it are done. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fetch.h"
#include "output.h"
#include "parse.h"
#include "progress.h"

#define CMD "history"
#define DEFAULT_PARALLEL 4
#define MAX_COUNT 10000000

static const char help[] =
    "Usage: tvkit history SYMBOL... -i INTERVAL (-n COUNT | --from DATE [--to DATE]) [options]\n"
    "Downloads historical OHLCV bars of each SYMBOL (EXCHANGE:SYMBOL, e.g. NASDAQ:AAPL) and\n"
    "writes them in the order given, each as soon as it and those before it are done.\n"
    "\n"
    "  -i, --interval I   bar interval: minutes 1-1440, 1S-60S, 1H-168H, 1D-365D, 1W-52W,\n"
    "                     1M-12M, or D, W, M\n"
    "  -n, --count N      the newest N bars (1-10000000; fewer when the history ends first)\n"
    "  --from DATE        bars with time >= DATE (instead of -n)\n"
    "  --to DATE          bars with time < DATE (default: now)\n"
    "                     DATE: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z] (UTC) or Unix seconds\n"
    "  -f, --format F     csv, jsonl or table (default: table when stdout is a terminal,\n"
    "                     else csv)\n"
    "  -o, --output FILE  write to FILE instead of stdout (default format csv)\n"
    "  --epoch            times as Unix seconds instead of ISO-8601 UTC\n"
    "  --connections N    use up to N connections (1-8, default 1; one is opened only while\n"
    "                     symbols wait for it) and spread the symbols over them, each to the\n"
    "                     least busy one as a slot frees up; TradingView allows only a few\n"
    "                     connections per IP address\n"
    "  --parallel N       series loading at once on each connection (1-32, default 4);\n"
    "                     TradingView's limit per connection is not published, and more may\n"
    "                     be refused\n"
    "%s"
    "  -h, --help         this text\n"
    "\n"
    "CSV columns: symbol,time,open,high,low,close,volume (volume empty when the symbol has\n"
    "none, e.g. an index). A progress bar is shown on stderr when it is a terminal.\n"
    "\n"
    "%s\n%s";

typedef struct args {
    const char **symbols;
    size_t nsym;
    char interval[32];
    int64_t count, from, to;
    int have_count, have_from, have_to;
    cli_fmt fmt;
    const char *output;
    int epoch;
    int64_t connections, parallel;
    tvk_req_opts ro;
} args;

/* 0, -1 after --help, or a usage exit status. */
static int parse(cli_ctx *g, int argc, char **argv, args *a)
{
    static const char *const fmts[] = {"csv", "jsonl", "table", NULL};
    char err[256];
    const char *v;
    int r, only_symbols = 0;
    a->fmt = CLI_FMT_AUTO;
    a->connections = 1;
    a->parallel = DEFAULT_PARALLEL;
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
        } else if ((r = cli_interval_opt(CMD, argc, argv, &i, a->interval, sizeof a->interval)) !=
                   0) {
            if (r != 1) return r;
        } else if ((r = cli_int_opt(CMD, argc, argv, &i, "-n", 1, MAX_COUNT, &a->count)) != 0 ||
                   (r = cli_int_opt(CMD, argc, argv, &i, "--count", 1, MAX_COUNT, &a->count)) !=
                       0) {
            if (r != 1) return r;
            a->have_count = 1;
        } else if ((r = cli_opt(argc, argv, &i, "--from", &v)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            if (cli_parse_date(v, &a->from, err, sizeof err) < 0)
                return cli_usage_error(CMD, "--from: %s", err);
            a->have_from = 1;
        } else if ((r = cli_opt(argc, argv, &i, "--to", &v)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            if (cli_parse_date(v, &a->to, err, sizeof err) < 0)
                return cli_usage_error(CMD, "--to: %s", err);
            a->have_to = 1;
        } else if ((r = cli_opt(argc, argv, &i, "-f", &v)) != 0 ||
                   (r = cli_opt(argc, argv, &i, "--format", &v)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            int k = cli_parse_choice(v, "--format", fmts, err, sizeof err);
            if (k < 0) return cli_usage_error(CMD, "%s", err);
            a->fmt = (cli_fmt)k;
        } else if ((r = cli_opt(argc, argv, &i, "-o", &v)) != 0 ||
                   (r = cli_opt(argc, argv, &i, "--output", &v)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            if (!*v) return cli_usage_error(CMD, "--output: empty file name%s", "");
            a->output = v;
        } else if ((r = cli_int_opt(CMD, argc, argv, &i, "--connections", 1,
                                    CLI_FETCH_MAX_CONNECTIONS, &a->connections)) != 0 ||
                   (r = cli_int_opt(CMD, argc, argv, &i, "--parallel", 1, CLI_FETCH_MAX_PARALLEL,
                                    &a->parallel)) != 0) {
            if (r != 1) return r;
        } else if ((r = cli_req_option(&a->ro, argc, argv, &i)) != 0) {
            if (r != 1) return r;
        } else if ((r = cli_global_option(g, argc, argv, &i)) != 0) {
            if (r != 1) return r;
        } else {
            return cli_usage_error(CMD, "unknown option '%s'", s);
        }
    }
    if (!a->nsym) return cli_usage_error(CMD, "no SYMBOL given (e.g. NASDAQ:AAPL)%s", "");
    if (!a->interval[0]) return cli_usage_error(CMD, "no interval given (-i, e.g. -i 1D)%s", "");
    if (a->have_count && a->have_from)
        return cli_usage_error(CMD, "-n and --from exclude each other: give a count or a range%s",
                               "");
    if (!a->have_count && !a->have_from)
        return cli_usage_error(CMD, "give -n COUNT or --from DATE%s", "");
    if (a->have_to && !a->have_from) return cli_usage_error(CMD, "--to needs --from%s", "");
    if (a->have_from) {
        if (!a->have_to) a->to = (int64_t)time(NULL);
        if (a->from >= a->to)
            return cli_usage_error(CMD, "empty range: --from must be before --to%s", "");
    }
    /* A capture holds the messages of one connection (tvkit decode and tvkit-sim --replay read
     * it as one). */
    if (g->record && a->connections > 1)
        return cli_usage_error(CMD, "tvkit record saves one connection: --connections must be 1%s",
                               "");
    if (a->fmt == CLI_FMT_AUTO)
        a->fmt = (!a->output && isatty(STDOUT_FILENO)) ? CLI_FMT_TABLE : CLI_FMT_CSV;
    return 0;
}

/* What the results are written to, in symbol order. */
typedef struct sink {
    cli_ctx *g;
    const args *a;
    FILE *out;
    int written; /* something was written (the CSV header comes once) */
} sink;

static int deliver(void *user, const cli_fetch_result *r)
{
    sink *k = user;
    const args *a = k->a;
    const char *where = a->output ? a->output : "standard output";
    if (r->error) {
        cli_symbol_err(CMD, r->symbol, r->error, r->errmsg);
        return 0;
    }
    const tvk_bars *b = r->bars;
    if (a->have_count && b->ended && (int64_t)b->n < a->count)
        cli_warn(k->g, CMD, "%s: the history ended after %zu of %lld bars", r->symbol, b->n,
                 (long long)a->count);
    if (a->connections > 1)
        cli_info(k->g, CMD, "%s: %zu bars in %d pages (connection %d)", r->symbol, b->n, b->pages,
                 r->conn);
    else
        cli_info(k->g, CMD, "%s: %zu bars in %d pages", r->symbol, b->n, b->pages);
    int rc = cli_write_bars(k->out, a->fmt, a->epoch, !k->written, r->symbol, b->v, b->n);
    k->written = 1;
    if (rc < 0) {
        cli_err(CMD, "cannot write %s: %s", where,
                rc == TVK_EIO ? strerror(errno) : tvk_strerror(rc));
        return CLI_EXIT_OTHER;
    }
    return cli_flush(k->out, CMD, where);
}

int cli_history(cli_ctx *g, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof a);
    int st = parse(g, argc, argv, &a);
    if (st) {
        free(a.symbols);
        return st < 0 ? 0 : st;
    }
    sink k = {g, &a, stdout, 0};
    if (a.output && !(k.out = fopen(a.output, "w"))) {
        cli_err(CMD, "cannot open %s for writing: %s", a.output, strerror(errno));
        free(a.symbols);
        return CLI_EXIT_OTHER;
    }
    cli_progress pg;
    int show = !g->quiet && isatty(STDERR_FILENO);
    if (cli_progress_init(&pg, show, a.nsym) < 0) {
        cli_err(CMD, "out of memory");
        st = CLI_EXIT_OTHER;
    } else {
        tvk_series_req req;
        tvk_series_req_init(&req);
        req.interval = a.interval;
        if (a.have_from) {
            req.from = a.from;
            req.to = a.to;
        } else {
            req.count = a.count;
        }
        req.opts = a.ro;
        cli_fetch f = {g,   CMD,     a.symbols, a.nsym, &req, (int)a.connections, (int)a.parallel,
                       &pg, deliver, &k};
        st = cli_fetch_run(&f);
        cli_progress_free(&pg);
    }
    if (a.output) {
        if (fclose(k.out) != 0 && !st) {
            cli_err(CMD, "cannot write %s: %s", a.output, strerror(errno));
            st = CLI_EXIT_OTHER;
        }
        /* Leave no empty file behind a failed download. */
        if (st && !k.written) unlink(a.output);
    } else if (!st) {
        st = cli_flush(stdout, CMD, "standard output");
    }
    free(a.symbols);
    return st;
}
