/* Subcommands with the plain signature int fn(int argc, char **argv), argv[0] = its name,
 * returning the exit status; they take no global options (see cli.h for those that do). */
#ifndef TVK_CLI_COMMANDS_H
#define TVK_CLI_COMMANDS_H

int tvk_cmd_decode(int argc, char **argv);

#endif
