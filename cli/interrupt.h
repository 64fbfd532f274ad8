/* SIGINT / SIGTERM / SIGPIPE for the streaming commands (stream, quotes, and record of them):
 * instead of dying with lines still held in the output buffer, they write what they hold, close
 * the connection and exit with 128 + the signal's number (130, 143; 141 when the reader of
 * standard output went away). The library installs no handler (it is embeddable): the command
 * does, through a self-pipe that its own poll() watches next to the connection's socket. */
#ifndef TVK_CLI_INTERRUPT_H
#define TVK_CLI_INTERRUPT_H

/* Exit status when standard output's reader went away (a process killed by SIGPIPE shows the
 * same in the shell, so `set -o pipefail` scripts see what they see for any other tool). */
#define CLI_EXIT_SIGPIPE (128 + 13)

/* Called once by main(): creates the self-pipe and installs the SIGINT and SIGTERM handlers.
 * Until cli_interrupt_arm() a signal still has its default action (a download dies at once, as
 * before). Without this call (the command line run in-process by tests) nothing is installed:
 * cli_interrupt_fd() is -1 and cli_interrupted() 0. */
void cli_interrupt_init(void);

/* A streaming loop starts: from now on SIGINT / SIGTERM are recorded and wake
 * cli_interrupt_fd(), and SIGPIPE is ignored (a closed stdout becomes EPIPE, handled quietly).
 * A second signal after the first has its default action (a forced stop). No-op without init. */
void cli_interrupt_arm(void);

/* The self-pipe's read end (readable once a signal was recorded), or -1. */
int cli_interrupt_fd(void);

/* The number of the first signal recorded since cli_interrupt_arm(), or 0. */
int cli_interrupted(void);

#endif
