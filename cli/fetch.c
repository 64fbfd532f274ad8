/* Many histories over several connections (see fetch.h). */
#include "fetch.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

/* The longest poll() sleep: the connections' own deadlines (request timeouts, WebSocket timers)
 * normally wake the loop sooner; this only bounds a wait on a handle that reports none. */
#define MAX_SLEEP_MS 1000
/* Series may be started at most WINDOW x connections x parallel symbols after the oldest one
 * not yet handed over: finished ones wait in memory for their turn, and this bounds them. */
#define WINDOW 2

enum { JOB_WAITING = 0, JOB_LOADING, JOB_DONE };

typedef struct job {
    tvk_series *s;
    int state;
    int conn; /* index into run.conns, -1 before it is requested */
    int error;
    char *errmsg; /* copied: the series (and its message) is freed when it finishes */
    tvk_bars bars;
    cli_progress_slot slot;
} job;

typedef struct conn {
    tvk_conn *c;
    int loading; /* series in flight */
    int dead;    /* lost (or never connected): no more requests */
} conn;

typedef struct run {
    const cli_fetch *f;
    job *jobs;
    conn conns[CLI_FETCH_MAX_CONNECTIONS];
    int nconn;   /* connections opened */
    int tried;   /* connections attempted (at most f->connections) */
    int live;    /* opened and not lost */
    int share;   /* series per connection while more are still to be opened */
    int status;  /* of the first failure */
    size_t out;  /* jobs handed over so far, in order */
    size_t next; /* the next symbol to request */
    int stop;    /* the deliver callback's non-zero status: the run ends with it */
} run;

static void set_status(run *r, int st)
{
    if (!r->status) r->status = st;
}

/* The series of j ended (history complete, or failed with err): keep what it left and free it,
 * which also deletes its chart session on the server. */
static void finish(run *r, job *j, int err, const char *msg)
{
    if (j->state != JOB_LOADING) return;
    if (!err && tvk_series_take_bars(j->s, &j->bars) < 0) err = TVK_ENOMEM;
    if (err) {
        j->error = err;
        /* Without the copy the symbol still gets the generic text of its code. */
        j->errmsg = strdup(msg && *msg ? msg : tvk_strerror(err));
    }
    tvk_series_close(j->s);
    j->s = NULL;
    j->state = JOB_DONE;
    r->conns[j->conn].loading--;
    cli_progress_done(r->f->progress, j->slot.index);
}

/* Connection k failed (rc): its series that are still loading fail with it; the next symbols go
 * to the other connections. */
static void conn_lost(run *r, int k, int rc)
{
    conn *cn = &r->conns[k];
    if (cn->dead) return;
    cn->dead = 1;
    r->live--;
    const char *msg = tvk_conn_errmsg(cn->c);
    if (!rc) rc = TVK_ECONN_LOST;
    for (size_t i = 0; i < r->f->n; i++) {
        job *j = &r->jobs[i];
        if (j->state != JOB_LOADING || j->conn != k) continue;
        int e = tvk_series_error(j->s);
        finish(r, j, e ? e : rc, e ? tvk_series_errmsg(j->s) : msg);
    }
    if (r->f->connections > 1) {
        cli_progress_clear(r->f->progress);
        cli_err(r->f->cmd, "connection %d of %d lost: %s (%s); %s", k + 1, r->f->connections,
                msg && *msg ? msg : tvk_strerror(rc), tvk_errname(rc),
                r->live || r->tried < r->f->connections
                    ? "the symbols loading on it failed, the others go on"
                    : "no connection left");
    }
}

static void on_event(run *r, const tvk_event *ev)
{
    job *j = ev->series ? ev->user : NULL;
    if (!j) return;
    if (ev->type == TVK_EV_HISTORY)
        finish(r, j, 0, NULL);
    else if (ev->type == TVK_EV_ERROR)
        finish(r, j, ev->error ? ev->error : TVK_ESERIES, ev->errmsg);
}

static int deliver(run *r, size_t i);
static void start_more(run *r);

/* Hands over, in order, the jobs finished so far: a symbol's bars leave memory as soon as every
 * earlier symbol's have, not once the connection has nothing more ready (a fast server answers
 * a whole window of series in one burst: 32 held answers were 7 MB). */
static void deliver_ready(run *r)
{
    while (!r->stop && r->out < r->f->n && r->jobs[r->out].state == JOB_DONE)
        r->stop = deliver(r, r->out++);
}

/* Takes everything connection k has ready, without blocking. */
static void pump(run *r, int k)
{
    conn *cn = &r->conns[k];
    tvk_event ev;
    int rc = 0;
    while (!r->stop && (rc = tvk_conn_next_event(cn->c, &ev, 0)) > 0) {
        int loading = cn->loading;
        on_event(r, &ev);
        /* A slot came free: the next request leaves before this answer's rows are written and
         * before the other answers already here are read, so the server works on it meanwhile
         * (otherwise each slot also waited for the rest of its batch: docs/CLI.md). */
        if (cn->loading < loading) start_more(r);
        deliver_ready(r);
    }
    if (rc < 0)
        conn_lost(r, k, rc);
    else if (tvk_conn_get_state(cn->c) != TVK_CONN_CONNECTED)
        conn_lost(r, k, tvk_conn_error(cn->c));
}

/* The live connection with a free slot and the fewest series in flight, or -1. While more
 * connections are still to be opened, each takes only its share of the symbols, so that the
 * first ones do not take everything before the others exist. A connection the library already
 * knows to be lost is passed over although pump() has not marked it dead yet (its failing
 * series free their slots first, from inside pump): a request there would fail, and replace the
 * loss's own cause with "not connected" in the notice; the symbol goes to a live one instead. */
static int pick(const run *r)
{
    int cap = r->tried < r->f->connections ? r->share : r->f->parallel;
    int best = -1;
    for (int k = 0; k < r->nconn; k++) {
        const conn *cn = &r->conns[k];
        if (cn->dead || cn->loading >= cap || tvk_conn_get_state(cn->c) != TVK_CONN_CONNECTED)
            continue;
        if (best < 0 || cn->loading < r->conns[best].loading) best = k;
    }
    return best;
}

/* Requests symbol i on connection k: 0, or -1 when the connection turned out to be gone (the
 * symbol then waits for another one). */
static int start(run *r, size_t i, int k)
{
    const cli_fetch *f = r->f;
    job *j = &r->jobs[i];
    conn *cn = &r->conns[k];
    tvk_series_req q = *f->req;
    q.symbol = f->symbols[i];
    q.user = j;
    if (f->progress->enabled) {
        q.opts.progress = cli_progress_cb;
        q.opts.progress_user = &j->slot;
    }
    int rc = tvk_series_open(cn->c, &q, &j->s);
    if (rc < 0) {
        j->s = NULL;
        if (tvk_conn_get_state(cn->c) != TVK_CONN_CONNECTED) {
            conn_lost(r, k, rc);
            return -1;
        }
        /* Refused before anything was sent (out of memory, send queue full): this symbol only. */
        j->conn = k;
        j->error = rc;
        j->errmsg = strdup(tvk_conn_errmsg(cn->c));
        j->state = JOB_DONE;
        cli_progress_done(f->progress, i);
        return 0;
    }
    j->conn = k;
    j->state = JOB_LOADING;
    cn->loading++;
    return 0;
}

/* One wait: poll() every live connection for what it wants, until the earliest of their
 * deadlines, then pump those that are ready or due. */
static int wait_and_pump(run *r)
{
    struct pollfd p[CLI_FETCH_MAX_CONNECTIONS];
    int idx[CLI_FETCH_MAX_CONNECTIONS], np = 0;
    int64_t now = tvk_now_ms(), wake = -1;
    for (int k = 0; k < r->nconn; k++) {
        conn *cn = &r->conns[k];
        if (cn->dead) continue;
        int fd = tvk_conn_fd(cn->c);
        if (fd < 0) {
            /* Not connected any more: pumping it yields its error. */
            pump(r, k);
            if (!cn->dead) conn_lost(r, k, TVK_ECONN_LOST);
            return 0;
        }
        int w = tvk_conn_wants(cn->c);
        p[np].fd = fd;
        p[np].events =
            (short)((w & TVK_WANT_READ ? POLLIN : 0) | (w & TVK_WANT_WRITE ? POLLOUT : 0));
        p[np].revents = 0;
        idx[np++] = k;
        int64_t d = tvk_conn_deadline(cn->c);
        if (d >= 0 && (wake < 0 || d < wake)) wake = d;
    }
    if (!np) return 0;
    int timeout = MAX_SLEEP_MS;
    if (wake >= 0)
        timeout = wake <= now ? 0 : wake - now < MAX_SLEEP_MS ? (int)(wake - now) : MAX_SLEEP_MS;
    if (poll(p, (nfds_t)np, timeout) < 0) {
        if (errno == EINTR) return 0;
        cli_err(r->f->cmd, "poll: %s", strerror(errno));
        return CLI_EXIT_OTHER;
    }
    now = tvk_now_ms();
    for (int i = 0; i < np; i++) {
        conn *cn = &r->conns[idx[i]];
        if (cn->dead) continue;
        int64_t d = tvk_conn_deadline(cn->c);
        if (p[i].revents || (d >= 0 && d <= now)) pump(r, idx[i]);
    }
    return 0;
}

/* Hands job i to the callback and frees what it held. */
static int deliver(run *r, size_t i)
{
    const cli_fetch *f = r->f;
    job *j = &r->jobs[i];
    cli_fetch_result res = {
        i,          f->symbols[i], j->error, j->errmsg ? j->errmsg : "", j->error ? NULL : &j->bars,
        j->conn + 1};
    if (j->error) set_status(r, cli_exit_status(j->error));
    cli_progress_clear(f->progress);
    int st = f->deliver(f->user, &res);
    tvk_bars_free(&j->bars);
    free(j->errmsg);
    j->errmsg = NULL;
    return st;
}

/* Opens the next connection. Connecting blocks, so the requests already made on the others are
 * sent first: the server works on them meanwhile. 0, or the exit status when not even the first
 * connection could be opened. */
static int connect_next(run *r)
{
    const cli_fetch *f = r->f;
    for (int k = 0; k < r->nconn; k++)
        if (!r->conns[k].dead) pump(r, k);
    if (r->stop) return 0; /* a delivery failed: loop() ends the run, no new connection */
    r->tried++;
    int st = cli_connect(f->g, &r->conns[r->nconn].c);
    if (!st) {
        r->nconn++;
        r->live++;
    } else if (r->nconn) {
        st = 0;
    }
    if (r->tried == f->connections && r->nconn && r->nconn < f->connections)
        cli_warn(f->g, f->cmd, "going on with %d of %d connections", r->nconn, f->connections);
    return st;
}

/* Requests the next symbols while a connection has a free slot and the window allows. */
static void start_more(run *r)
{
    const cli_fetch *f = r->f;
    size_t window = (size_t)WINDOW * (size_t)f->connections * (size_t)f->parallel;
    while (r->next < f->n && r->next < r->out + window) {
        int k = pick(r);
        if (k < 0) break;
        if (start(r, r->next, k) == 0) r->next++;
    }
}

static int loop(run *r)
{
    const cli_fetch *f = r->f;
    for (;;) {
        deliver_ready(r);
        if (r->stop) return r->stop;
        if (r->out == f->n) return 0;
        start_more(r);
        /* A connection is opened only when there are symbols for it. */
        if (r->tried < f->connections && r->next < f->n) {
            int st = connect_next(r);
            if (st) return st;
            continue;
        }
        if (!r->live) {
            /* Every symbol before r->out was handed over and none is loading: the rest cannot be
             * requested. */
            size_t left = f->n - r->out;
            cli_progress_clear(f->progress);
            cli_err(f->cmd, "%zu symbol%s not requested (%s%s): every connection was lost", left,
                    left == 1 ? "" : "s", f->symbols[r->out], left > 1 ? " and after" : "");
            set_status(r, CLI_EXIT_NETWORK);
            return 0;
        }
        /* Jobs finished while starting (refused requests) are handed over before blocking. */
        if (r->out < f->n && r->jobs[r->out].state == JOB_DONE) continue;
        int st = wait_and_pump(r);
        if (st) return st;
    }
}

int cli_fetch_run(const cli_fetch *f)
{
    run r;
    memset(&r, 0, sizeof r);
    r.f = f;
    r.jobs = calloc(f->n ? f->n : 1, sizeof *r.jobs);
    if (!r.jobs) {
        cli_err(f->cmd, "out of memory");
        return CLI_EXIT_OTHER;
    }
    for (size_t i = 0; i < f->n; i++) {
        r.jobs[i].conn = -1;
        r.jobs[i].slot.p = f->progress;
        r.jobs[i].slot.index = i;
    }
#ifdef __GLIBC__
    /* Only one connection parses at a time, so with several each would otherwise hold the
     * ~0.5 MB text copy of its last answer (its bars are read without tokens). main() keeps
     * freed memory in the heap, so giving it back costs no page faults; with one connection
     * there is nothing to gain (the same buffers are reused) and re-growing them fragments the
     * heap (+1.5 MB measured while the tokens were built too). */
    f->g->release_idle = f->connections > 1;
#endif
    size_t share = (f->n + (size_t)f->connections - 1) / (size_t)f->connections;
    r.share = share < (size_t)f->parallel ? (int)share : f->parallel;
    int st = connect_next(&r);
    if (!st) st = loop(&r);
    for (size_t i = 0; i < f->n; i++) {
        tvk_series_close(r.jobs[i].s);
        tvk_bars_free(&r.jobs[i].bars);
        free(r.jobs[i].errmsg);
    }
    cli_progress_clear(f->progress);
    for (int k = 0; k < r.nconn; k++)
        tvk_conn_free(r.conns[k].c);
    free(r.jobs);
    return st ? st : r.status;
}
