/* Loads the history of many symbols over several connections at once (tvkit history): one
 * poll() loop over every connection, up to `parallel` series in flight on each, a new symbol
 * started on the least busy connection as soon as one of its series finishes. Connections are
 * opened one by one, each after the requests of the ones before it were sent, and only while
 * symbols are left for them. Results are handed over in the order of the symbols, each as soon
 * as it and every one before it are done. */
#ifndef TVK_CLI_FETCH_H
#define TVK_CLI_FETCH_H

#include <stddef.h>

#include "cli.h"
#include "progress.h"

#define CLI_FETCH_MAX_CONNECTIONS 8
#define CLI_FETCH_MAX_PARALLEL 32

/* One symbol's outcome, handed to the callback in symbol order. */
typedef struct cli_fetch_result {
    size_t index;
    const char *symbol;
    int error;          /* 0, or the TVK_E* code of the failure */
    const char *errmsg; /* with error: what and where (may be empty) */
    tvk_bars *bars;     /* without error: the bars (the callback may move them out) */
    int conn;           /* 1-based connection that loaded it; 0 if never requested */
} cli_fetch_result;

/* Returns 0 to go on, or an exit status to stop the whole run (e.g. the output failed). */
typedef int (*cli_fetch_fn)(void *user, const cli_fetch_result *r);

typedef struct cli_fetch {
    cli_ctx *g;
    const char *cmd; /* for messages */
    const char *const *symbols;
    size_t n;
    const tvk_series_req *req; /* all but symbol, user and the progress callback */
    int connections;           /* 1..CLI_FETCH_MAX_CONNECTIONS */
    int parallel;              /* series in flight per connection, 1..CLI_FETCH_MAX_PARALLEL */
    cli_progress *progress;    /* n slots; may be disabled */
    cli_fetch_fn deliver;
    void *user;
} cli_fetch;

/* Connects, loads everything, closes. Returns the exit status: that of the callback if it
 * stopped the run, else of the first symbol that failed, else of the connections (the first
 * could not be opened; every one was lost before all symbols were requested), else 0.
 * Connection problems are reported on stderr here; the symbols' own errors go to the callback. */
int cli_fetch_run(const cli_fetch *f);

#endif
