/* client_e2e helpers: run tvkit-sim as a child process on 127.0.0.1 port 0 (its ready line is
 * read with a deadline) and read back the client messages it logged (--log). */
#ifndef TVK_TEST_CLIENT_SIMPROC_H
#define TVK_TEST_CLIENT_SIMPROC_H

#include <stddef.h>
#include <sys/types.h>

typedef struct simproc {
    pid_t pid;
    char url[160];
    char log[256]; /* the --log file (removed by simproc_stop) */
} simproc;

/* Starts `bin --port 0 --log <tmp> args...` (args NULL-terminated). 0, or -1 with a message on
 * stderr when the sim did not print its ready line within 10 s. */
int simproc_start(simproc *s, const char *bin, const char *const *args);
/* SIGTERM, wait (5 s, then SIGKILL); removes the log. */
void simproc_stop(simproc *s);
/* Stops every sim still running (a failed assertion leaves the test before its own stop). */
void simproc_stop_all(void);

/* The logged client packets, in order: each line's "msg" payload (heartbeat echoes become
 * "~h~<k>"). Returns the count (<= max); lines are malloc'd, free with simproc_lines_free. */
size_t simproc_lines(const simproc *s, char **lines, size_t max);
void simproc_lines_free(char **lines, size_t n);

#endif
