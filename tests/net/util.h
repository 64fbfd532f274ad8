/* Helpers for the net_* tests: a listening socket, a poll() pump over client and server
 * handles, and test servers started as child processes that print "ready port N". */
#ifndef TVK_TEST_NET_UTIL_H
#define TVK_TEST_NET_UTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "tvkit/net.h"

#define TU_MAXWS 8

/* Listens on 127.0.0.1, port 0; returns the fd and sets *port. */
int tu_listen(int *port);

/* Drives clients and accepted server connections together in one thread. */
typedef struct tu_pump {
    int lfd;                  /* listening socket, or -1 */
    tvk_ws_server_opts sopts; /* for accepted connections */
    tvk_ws *srv[TU_MAXWS];
    int nsrv;
    tvk_ws *cli[TU_MAXWS];
    int ncli;
} tu_pump;

void tu_pump_init(tu_pump *p, int lfd, const tvk_ws_server_opts *sopts);
/* One round: poll up to timeout_ms, run the handlers and timers of every handle. */
void tu_pump_once(tu_pump *p, int timeout_ms);
/* Pumps until cond(arg) is true or timeout_ms passes; returns cond's last value. */
int tu_pump_until(tu_pump *p, int (*cond)(void *), void *arg, int timeout_ms);
void tu_pump_free(tu_pump *p); /* frees the server handles and closes lfd */

/* Starts argv (argv[0] a full path) with stdout on a pipe and waits (deadline) for a line
 * "ready port N". cwd may be NULL. Returns the pid or -1. */
pid_t tu_spawn(char *const argv[], const char *cwd, int *port, int timeout_ms);
void tu_stop(pid_t pid);

/* A temporary directory (mkdtemp), removed by tu_rmdir. */
int tu_tmpdir(char *out, size_t cap);
void tu_rmdir(const char *dir);
/* Runs a shell command; 0 on exit status 0. */
int tu_sh(const char *cmd);

/* Deterministic test text of n bytes (seeded), ASCII, compressible but not trivial. */
char *tu_text(size_t n, unsigned seed);

/* Starts tests/net/<script> with the interpreter named by env var interp_env (TVK_PYTHON3 or
 * TVK_NODE, set by ctest); NULL-terminated extra args. -1 when unavailable. */
pid_t tu_spawn_script(const char *interp_env, const char *script, const char *const *args,
                      int *port);
#endif
