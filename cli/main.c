/* tvkit: dispatches to a subcommand from the table below. Exit status: that of the subcommand,
 * 2 for a usage error. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "tvkit/tvkit.h"

static const tvk_cmd commands[] = {
    {"decode", tvk_cmd_decode, "decode a capture (one WebSocket message per line) to JSON lines"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: tvkit <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "\n'tvkit <command> --help' describes a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("tvkit %s\n", TVKIT_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "tvkit: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
