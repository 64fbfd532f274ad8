/* tvkit history: historical bars of one or more symbols, by count or by date range, over one
 * connection. Up to PIPELINE series load at once (each in its own chart session); output is
 * written symbol by symbol in the order given, each as soon as it and those before it are done. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "output.h"
#include "parse.h"
#include "progress.h"

#define CMD "history"
#define PIPELINE 4
#define MAX_COUNT 10000000

static const char help[] =
    "Usage: tvkit history SYMBOL... -i INTERVAL (-n COUNT | --from DATE [--to DATE]) [options]\n"
    "Downloads historical OHLCV bars of each SYMBOL (EXCHANGE:SYMBOL, e.g. NASDAQ:AAPL) over one\n"
    "connection and writes them in the order given.\n"
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
    "%s"
    "  -h, --help         this text\n"
    "\n"
    "CSV columns: symbol,time,open,high,low,close,volume (volume empty when the symbol has\n"
    "none, e.g. an index). A progress bar is shown on stderr when it is a terminal.\n"
    "\n"
    "%s\n%s";

typedef struct job {
    const char *symbol;
    tvk_series *s;
    cli_progress_slot slot;
} job;

typedef struct args {
    const char **symbols;
    size_t nsym;
    char interval[32];
    int64_t count, from, to;
    int have_count, have_from, have_to;
    cli_fmt fmt;
    const char *output;
    int epoch;
    tvk_req_opts ro;
} args;

static int usage_error(const char *fmt_msg, const char *a)
{
    fprintf(stderr, "tvkit: " CMD ": ");
    fprintf(stderr, fmt_msg, a);
    fprintf(stderr, "\n(see 'tvkit " CMD " --help')\n");
    return CLI_EXIT_USAGE;
}

/* 0, -1 after --help, or a usage exit status. */
static int parse(cli_ctx *g, int argc, char **argv, args *a)
{
    static const char *const fmts[] = {"csv", "jsonl", "table", NULL};
    char err[256];
    const char *v;
    int r, only_symbols = 0;
    a->fmt = CLI_FMT_AUTO;
    a->symbols = calloc((size_t)argc, sizeof *a->symbols);
    if (!a->symbols) {
        cli_err(CMD, "out of memory");
        return CLI_EXIT_OTHER;
    }
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (only_symbols || s[0] != '-' || !s[1]) {
            if (cli_parse_symbol(s, err, sizeof err) < 0) return usage_error("%s", err);
            a->symbols[a->nsym++] = s;
            continue;
        }
        if (!strcmp(s, "--")) {
            only_symbols = 1;
        } else if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            printf(help, cli_req_help, cli_global_help, cli_exit_help);
            return -1;
        } else if (!strcmp(s, "--epoch")) {
            a->epoch = 1;
        } else if ((r = cli_opt(argc, argv, &i, "-i", &v)) != 0 ||
                   (r = cli_opt(argc, argv, &i, "--interval", &v)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            if (cli_parse_interval(v, a->interval, sizeof a->interval, err, sizeof err) < 0)
                return usage_error("%s", err);
        } else if ((r = cli_opt(argc, argv, &i, "-n", &v)) != 0 ||
                   (r = cli_opt(argc, argv, &i, "--count", &v)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            if (cli_parse_int(v, "-n", 1, MAX_COUNT, &a->count, err, sizeof err) < 0)
                return usage_error("%s", err);
            a->have_count = 1;
        } else if ((r = cli_opt(argc, argv, &i, "--from", &v)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            if (cli_parse_date(v, &a->from, err, sizeof err) < 0)
                return usage_error("--from: %s", err);
            a->have_from = 1;
        } else if ((r = cli_opt(argc, argv, &i, "--to", &v)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            if (cli_parse_date(v, &a->to, err, sizeof err) < 0) return usage_error("--to: %s", err);
            a->have_to = 1;
        } else if ((r = cli_opt(argc, argv, &i, "-f", &v)) != 0 ||
                   (r = cli_opt(argc, argv, &i, "--format", &v)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            int k = cli_parse_choice(v, "--format", fmts, err, sizeof err);
            if (k < 0) return usage_error("%s", err);
            a->fmt = (cli_fmt)k;
        } else if ((r = cli_opt(argc, argv, &i, "-o", &v)) != 0 ||
                   (r = cli_opt(argc, argv, &i, "--output", &v)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            if (!*v) return usage_error("--output: empty file name%s", "");
            a->output = v;
        } else if ((r = cli_req_option(&a->ro, argc, argv, &i)) != 0) {
            if (r != 1) return r;
        } else if ((r = cli_global_option(g, argc, argv, &i)) != 0) {
            if (r != 1) return r;
        } else {
            return usage_error("unknown option '%s'", s);
        }
    }
    if (!a->nsym) return usage_error("no SYMBOL given (e.g. NASDAQ:AAPL)%s", "");
    if (!a->interval[0]) return usage_error("no interval given (-i, e.g. -i 1D)%s", "");
    if (a->have_count && a->have_from)
        return usage_error("-n and --from exclude each other: give a count or a range%s", "");
    if (!a->have_count && !a->have_from) return usage_error("give -n COUNT or --from DATE%s", "");
    if (a->have_to && !a->have_from) return usage_error("--to needs --from%s", "");
    if (a->have_from) {
        if (!a->have_to) a->to = (int64_t)time(NULL);
        if (a->from >= a->to) return usage_error("empty range: --from must be before --to%s", "");
    }
    if (a->fmt == CLI_FMT_AUTO)
        a->fmt = (!a->output && isatty(STDOUT_FILENO)) ? CLI_FMT_TABLE : CLI_FMT_CSV;
    return 0;
}

static int open_job(tvk_conn *c, const args *a, job *j)
{
    tvk_series_req r;
    tvk_series_req_init(&r);
    r.symbol = j->symbol;
    r.interval = a->interval;
    if (a->have_from) {
        r.from = a->from;
        r.to = a->to;
    } else {
        r.count = a->count;
    }
    r.opts = a->ro;
    if (j->slot.p->enabled) {
        r.opts.progress = cli_progress_cb;
        r.opts.progress_user = &j->slot;
    }
    return tvk_series_open(c, &r, &j->s);
}

static int run(cli_ctx *g, tvk_conn *c, const args *a, job *jobs, cli_progress *pg, FILE *out,
               int *written)
{
    int status = 0;
    size_t opened = 0;
    for (size_t i = 0; i < a->nsym; i++) {
        while (opened < a->nsym && opened < i + PIPELINE) {
            int rc = open_job(c, a, &jobs[opened]);
            if (rc < 0) {
                cli_progress_clear(pg);
                int st = cli_fail(CMD, rc, tvk_conn_errmsg(c));
                /* The connection is gone or unusable: nothing after this can load. */
                return status ? status : st;
            }
            opened++;
        }
        job *j = &jobs[i];
        int rc = tvk_series_wait(j->s, -1);
        cli_progress_done(pg, i);
        cli_progress_clear(pg);
        if (rc < 0) {
            cli_symbol_err(CMD, j->symbol, rc, tvk_series_errmsg(j->s));
            if (!status) status = cli_exit_status(rc);
            if (tvk_conn_get_state(c) != TVK_CONN_CONNECTED) {
                if (!status) status = CLI_EXIT_NETWORK;
                return status;
            }
            continue;
        }
        tvk_bars bars = {0};
        rc = tvk_series_take_bars(j->s, &bars);
        tvk_series_close(j->s);
        j->s = NULL;
        if (rc < 0) {
            tvk_bars_free(&bars);
            return cli_fail(CMD, rc, NULL);
        }
        if (a->have_count && bars.ended && (int64_t)bars.n < a->count)
            cli_warn(g, CMD, "%s: the history ended after %zu of %lld bars", j->symbol, bars.n,
                     (long long)a->count);
        cli_info(g, CMD, "%s: %zu bars in %d pages", j->symbol, bars.n, bars.pages);
        rc = cli_write_bars(out, a->fmt, a->epoch, !*written, j->symbol, bars.v, bars.n);
        tvk_bars_free(&bars);
        *written = 1;
        if (rc < 0) {
            cli_err(CMD, "cannot write %s: %s", a->output ? a->output : "standard output",
                    rc == TVK_EIO ? strerror(errno) : tvk_strerror(rc));
            return CLI_EXIT_OTHER;
        }
        if ((rc = cli_flush(out, CMD, a->output ? a->output : "standard output")) != 0) return rc;
    }
    return status;
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
    FILE *out = stdout;
    if (a.output && !(out = fopen(a.output, "w"))) {
        cli_err(CMD, "cannot open %s for writing: %s", a.output, strerror(errno));
        free(a.symbols);
        return CLI_EXIT_OTHER;
    }
    job *jobs = calloc(a.nsym, sizeof *jobs);
    cli_progress pg;
    int show = !g->quiet && isatty(STDERR_FILENO);
    int written = 0;
    tvk_conn *c = NULL;
    if (!jobs || cli_progress_init(&pg, show, a.nsym) < 0) {
        cli_err(CMD, "out of memory");
        st = CLI_EXIT_OTHER;
        if (jobs) cli_progress_free(&pg);
        goto done;
    }
    for (size_t i = 0; i < a.nsym; i++) {
        jobs[i].symbol = a.symbols[i];
        jobs[i].slot.p = &pg;
        jobs[i].slot.index = i;
    }
    st = cli_connect(g, &c);
    if (!st) st = run(g, c, &a, jobs, &pg, out, &written);
    for (size_t i = 0; i < a.nsym; i++)
        tvk_series_close(jobs[i].s);
    cli_progress_free(&pg);
    tvk_conn_free(c);
done:
    if (a.output) {
        if (fclose(out) != 0 && !st) {
            cli_err(CMD, "cannot write %s: %s", a.output, strerror(errno));
            st = CLI_EXIT_OTHER;
        }
        /* Leave no empty file behind a failed download. */
        if (st && !written) unlink(a.output);
    } else if (!st) {
        st = cli_flush(stdout, CMD, "standard output");
    }
    free(jobs);
    free(a.symbols);
    return st;
}
