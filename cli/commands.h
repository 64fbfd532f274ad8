/* The tvkit subcommands: each is int fn(int argc, char **argv) with argv[0] = its name, and
 * returns the process exit status. main.c dispatches through the table in main.c. */
#ifndef TVK_CLI_COMMANDS_H
#define TVK_CLI_COMMANDS_H

typedef int (*tvk_cmd_fn)(int argc, char **argv);

typedef struct tvk_cmd {
    const char *name;
    tvk_cmd_fn fn;
    const char *help; /* one line */
} tvk_cmd;

int tvk_cmd_decode(int argc, char **argv);

#endif
