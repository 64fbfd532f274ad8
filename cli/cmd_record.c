/* tvkit record FILE COMMAND ...: runs a network command and saves every WebSocket message it
 * receives to FILE in the capture format (one message per line, as received, heartbeats and
 * framing included), which 'tvkit decode' and 'tvkit-sim --replay' read. */
#include <errno.h>
#include <string.h>

#include "cli.h"

#define CMD "record"

static const char help[] =
    "Usage: tvkit record FILE COMMAND [ARGS...]\n"
    "Runs COMMAND (history, stream or quotes, with its arguments) and saves every WebSocket\n"
    "message received to FILE, one message per line exactly as received (~m~ framing and\n"
    "heartbeats included): the capture format read by 'tvkit decode FILE' and\n"
    "'tvkit-sim --replay FILE'. FILE is overwritten. The exit status is COMMAND's.\n"
    "\n"
    "  -h, --help         this text\n"
    "\n"
    "Example: tvkit record aapl.txt history NASDAQ:AAPL -i 1D -n 100 -o /dev/null\n"
    "\n"
    "%s\n%s";

int cli_record(cli_ctx *g, int argc, char **argv)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        int r;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf(help, cli_global_help, cli_exit_help);
            return 0;
        }
        if ((r = cli_global_option(g, argc, argv, &i)) != 1) {
            if (r == 0) cli_err(CMD, "unknown option '%s' (see 'tvkit record --help')", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (i + 1 >= argc) {
        cli_err(CMD, "usage: tvkit record FILE COMMAND [ARGS...] (see 'tvkit record --help')");
        return CLI_EXIT_USAGE;
    }
    const char *path = argv[i];
    const char *cmd = argv[i + 1];
    if (strcmp(cmd, "history") && strcmp(cmd, "stream") && strcmp(cmd, "quotes")) {
        cli_err(CMD, "cannot record '%s': COMMAND must be history, stream or quotes", cmd);
        return CLI_EXIT_USAGE;
    }
    if (g->record) {
        cli_err(CMD, "already recording");
        return CLI_EXIT_USAGE;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        cli_err(CMD, "cannot open %s for writing: %s", path, strerror(errno));
        return CLI_EXIT_OTHER;
    }
    /* Line-buffered: a stream recorded until Ctrl-C keeps every message received so far. */
    setvbuf(f, NULL, _IOLBF, 1 << 16);
    g->record = f;
    g->record_path = path;
    int st = cli_dispatch(g, argc - i - 1, argv + i + 1);
    g->record = NULL;
    if (ferror(f) | fclose(f)) {
        cli_err(CMD, "cannot write %s", path);
        if (!st) st = CLI_EXIT_OTHER;
    }
    if (g->record_newlines)
        cli_warn(g, CMD, "%d messages contained line breaks; each was saved as a space",
                 g->record_newlines);
    cli_info(g, CMD, "%llu messages saved to %s", (unsigned long long)g->recorded, path);
    return st;
}
