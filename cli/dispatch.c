/* The tvkit command line: global options, then COMMAND from the table below. */
#include <string.h>

#include "cli.h"
#include "commands.h"

static int run_decode(cli_ctx *g, int argc, char **argv)
{
    (void)g;
    return tvk_cmd_decode(argc, argv);
}

typedef struct cli_cmd {
    const char *name;
    int (*fn)(cli_ctx *g, int argc, char **argv);
    const char *help; /* one line */
} cli_cmd;

static const cli_cmd commands[] = {
    {"history", cli_history, "download historical bars (CSV, JSON lines or a table)"},
    {"stream", cli_stream, "stream live bars as JSON lines (bar_update, bar_close)"},
    {"quotes", cli_quotes, "stream live quote snapshots of many symbols as JSON lines"},
    {"decode", run_decode, "decode a capture (one WebSocket message per line) to JSON lines"},
    {"record", cli_record, "run a command and save every message received (capture format)"},
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: tvkit [global options] COMMAND [ARGS...]\n"
                 "TradingView chart-WebSocket client: historical bars, live bars and quotes.\n"
                 "Data goes to stdout, diagnostics to stderr.\n\nCommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(out,
            "\n%s"
            "  -h, --help       this text ('tvkit COMMAND --help' describes a command)\n"
            "  --version        print the version\n"
            "\nEnvironment: " TVK_TOKEN_ENV " (auth token), https_proxy, HTTPS_PROXY, no_proxy.\n"
            "\n%s\nExamples:\n"
            "  tvkit history NASDAQ:AAPL -i 1D -n 500 -o aapl.csv\n"
            "  tvkit history NASDAQ:AAPL NASDAQ:MSFT -i 60 --from 2024-01-01 --to 2024-02-01\n"
            "  tvkit stream BINANCE:BTCUSDT -i 1 --count 10\n"
            "  tvkit quotes NASDAQ:AAPL NYSE:IBM --duration 30\n"
            "See tvkit(1).\n",
            cli_global_help, cli_exit_help);
}

int cli_dispatch(cli_ctx *g, int argc, char **argv)
{
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[0], commands[i].name)) return commands[i].fn(g, argc, argv);
    cli_err(NULL,
            "unknown command '%s' (commands: history, stream, quotes, decode, record; "
            "see 'tvkit --help')",
            argv[0]);
    return CLI_EXIT_USAGE;
}

int cli_main(int argc, char **argv)
{
    cli_ctx g;
    cli_ctx_init(&g);
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return cli_flush(stdout, NULL, "standard output");
        }
        if (!strcmp(a, "--version")) {
            printf("tvkit %s\n", TVKIT_VERSION);
            return cli_flush(stdout, NULL, "standard output");
        }
        int r = cli_global_option(&g, argc, argv, &i);
        if (r == 1) continue;
        if (r == 0) cli_err(NULL, "unknown option '%s' (see 'tvkit --help')", a);
        return CLI_EXIT_USAGE;
    }
    if (i >= argc) {
        cli_err(NULL, "no COMMAND given (see 'tvkit --help')");
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[i], "help")) {
        usage(stdout);
        return cli_flush(stdout, NULL, "standard output");
    }
    int st = cli_dispatch(&g, argc - i, argv + i);
    if (st) {
        fflush(stdout); /* the command already reported its failure */
        return st;
    }
    return cli_flush(stdout, NULL, "standard output");
}
