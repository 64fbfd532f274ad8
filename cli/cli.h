/* Shared state and helpers of the tvkit subcommands: the global options, the connection they
 * open, diagnostics on stderr, and the one mapping from TVK_E* codes to exit statuses. */
#ifndef TVK_CLI_CLI_H
#define TVK_CLI_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "tvkit/tvkit.h"

/* Exit statuses (documented in --help and docs/tvkit.1). */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_OTHER = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_NETWORK = 3,
    CLI_EXIT_REJECTED = 4,
    CLI_EXIT_TIMEOUT = 5,
};

/* The exit status for a TVK_E* code (0 for 0). The only place codes become statuses. */
int cli_exit_status(int tvk_err);

/* Global options, and what one run of a command needs besides its own arguments. */
typedef struct cli_ctx {
    const char *url;   /* NULL = the library default */
    const char *token; /* NULL = $TVKIT_AUTH_TOKEN or the anonymous token */
    const char *proxy; /* NULL = from the environment */
    const char *ca_file;
    int insecure;
    int compress;       /* 1 unless --no-compress */
    int64_t timeout_ms; /* 0 = library defaults */
    int64_t silence_ms; /* --silence-timeout; -1 = library default, 0 = off */
    int verbose;        /* -v */
    int quiet;          /* -q */
    int reconnect;      /* stream, quotes: reconnect and restore on connection loss */
    int release_idle;   /* history --connections N: a connection waiting between answers
                           frees their big buffers (tvk_conn_opts.release_idle_buffers) */
    FILE *record;       /* tvkit record: every received WebSocket message is appended here */
    const char *record_path;
    uint64_t recorded;   /* messages written */
    int record_newlines; /* messages in which a line break had to be replaced */
} cli_ctx;

void cli_ctx_init(cli_ctx *g);

/* Option with a value, as "--name VALUE" or "--name=VALUE": 1 with *val set (and *i advanced),
 * 0 if argv[*i] is not this option, -1 (message printed) if the value is missing. */
int cli_opt(int argc, char **argv, int *i, const char *name, const char **val);

/* A whole-number option NAME with its value in [min, max]: 1 when argv[*i] was it (the value in
 * *out), 0 when not, CLI_EXIT_USAGE after a message naming the option and the range. */
int cli_int_opt(const char *cmd, int argc, char **argv, int *i, const char *name, int64_t min,
                int64_t max, int64_t *out);

/* -i / --interval VALUE (validated into out): same returns as cli_int_opt. */
int cli_interval_opt(const char *cmd, int argc, char **argv, int *i, char *out, size_t cap);

/* --duration S (seconds, 0 allowed, at most max_s) into *ms, *have set: same returns as
 * cli_int_opt. */
int cli_duration_opt(const char *cmd, int argc, char **argv, int *i, int64_t max_s, int64_t *ms,
                     int *have);

/* The SYMBOL array of a command's parse(), with room for every argument (cli_symbol_arg); NULL
 * after an "out of memory" message. */
const char **cli_symbols_new(const char *cmd, int argc);

/* "tvkit: CMD: <fmt with a>" and "(see 'tvkit CMD --help')" on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, const char *a);

/* The positional SYMBOL arguments of history, stream and quotes: s is a symbol (validated, then
 * appended to syms, which has room for argc entries) when it does not start with '-', is "-",
 * or comes after "--"; "--" itself switches to symbols only. Returns 1 when s was taken, 0 when
 * it is an option for the caller, or CLI_EXIT_USAGE after a message naming a bad symbol. */
int cli_symbol_arg(const char *cmd, const char *s, int *only_symbols, const char **syms, size_t *n);

/* The request options shared by history and stream (--adjustment, --session, --currency):
 * 1 if argv[*i] was one (consumed), 0 if not, CLI_EXIT_USAGE after a message. */
int cli_req_option(tvk_req_opts *o, int argc, char **argv, int *i);
extern const char cli_req_help[];

/* If argv[*i] is a global option, consumes it (and its value) and returns 1; returns 0 if it is
 * not one, CLI_EXIT_USAGE (with a message printed) if its value is missing or wrong. */
int cli_global_option(cli_ctx *g, int argc, char **argv, int *i);

/* The global options' help lines (shared by every command's --help). */
extern const char cli_global_help[];
/* The exit status table (for --help). */
extern const char cli_exit_help[];

/* Creates the connection from the global options and connects. On failure prints the error and
 * returns its exit status (the handle is freed); 0 with *out set on success. */
int cli_connect(cli_ctx *g, tvk_conn **out);

/* "tvkit: <cmd>: message" on stderr. cli_warn and cli_info print nothing under -q; cli_info only
 * under -v. */
void cli_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_warn(const cli_ctx *g, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cli_info(const cli_ctx *g, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prints the error of a failed library call and returns its exit status. */
int cli_fail(const char *cmd, int rc, const char *detail);

/* The error of one symbol: "tvkit: cmd: SYMBOL: message (TVK_E...)", the symbol left out when
 * the library's message already names it. */
void cli_symbol_err(const char *cmd, const char *symbol, int err, const char *msg);

/* Reports reconnect-layer events (disconnected, reconnecting, reconnected) on stderr unless -q.
 * Returns 1 if ev was one of them. */
int cli_conn_event(const cli_ctx *g, const char *cmd, const tvk_event *ev);

/* Writes data and checks it was written: 0, or CLI_EXIT_OTHER after a message (disk full, closed
 * pipe). */
int cli_flush(FILE *f, const char *cmd, const char *what);

/* Output lines of the streaming commands are built in a buffer (pend) and written out (and
 * flushed) in pieces of about CLI_OUT_CHUNK, or before blocking: one write(2) per piece instead of
 * stdio's per-line copies. A quote firehose writes ~470 MB per million quotes: 256 KiB pieces
 * (rather than 64) cost ~3 % less CPU (A/B, pinned); live lines are not held by it, since
 * everything pending is written before each wait. Returns 0, or CLI_EXIT_OTHER after a message. */
#define CLI_OUT_CHUNK ((size_t)256 * 1024)
int cli_out_write(tvk_buf *pend, const char *cmd);

/* The wait of the streaming commands: the next event, waiting until deadline (tvk_now_ms time;
 * -1 = no limit). Lines built since the last flush (pend) are written and flushed only when no
 * event is ready, just before blocking, so a burst costs few writes and no line is held back
 * while waiting. Returns 1 with *ev filled; 0 when the deadline passed or a write failed (then
 * *status is set, after a message); or the connection's negative TVK_E* code. */
int cli_next_event(tvk_conn *c, tvk_event *ev, int64_t deadline, tvk_buf *pend, int *status,
                   const char *cmd);

/* Subcommands that use the connection (argv[0] is the command name). */
int cli_history(cli_ctx *g, int argc, char **argv);
int cli_stream(cli_ctx *g, int argc, char **argv);
int cli_quotes(cli_ctx *g, int argc, char **argv);
int cli_record(cli_ctx *g, int argc, char **argv);

/* Runs COMMAND (argv[0]) with the global options already parsed into g. */
int cli_dispatch(cli_ctx *g, int argc, char **argv);

/* The whole command line (main() calls this): the exit status. */
int cli_main(int argc, char **argv);

#endif
