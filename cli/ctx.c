/* Global options, the connection built from them, and diagnostics. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "interrupt.h"
#include "parse.h"

/* A close handshake at exit should not keep the user waiting for the library's 10 s default. */
#define CLI_CLOSE_TIMEOUT_MS 2000
#define CLI_TIMEOUT_MAX_S 86400
/* Longest wait when the connection offers nothing to watch (see wait_conn). */
#define CLI_IDLE_SLICE_MS 1000

const char cli_global_help[] =
    "Global options (before or after COMMAND):\n"
    "  --url URL        WebSocket URL (default " TVK_DEFAULT_URL ")\n"
    "  --token T        auth token (default $" TVK_TOKEN_ENV ", else " TVK_DEFAULT_TOKEN ")\n"
    "  --proxy URL      HTTP CONNECT proxy http://[user:pass@]host:port (default: https_proxy,\n"
    "                   HTTPS_PROXY and no_proxy from the environment; \"\" = no proxy)\n"
    "  --ca-file F      PEM file of trusted CA certificates (default: the system store)\n"
    "  --insecure       do not verify the server's TLS certificate and host name (unsafe)\n"
    "  --no-compress    do not offer permessage-deflate compression\n"
    "  --timeout S      deadline in seconds for connecting and for each server answer\n"
    "                   (default 10 s to connect, 30 s per answer)\n"
    "  --silence-timeout S\n"
    "                   nothing received, not even a heartbeat, for S seconds: the connection\n"
    "                   is dead (stream and quotes reconnect; default 60, 0 = never)\n"
    "  -v, --verbose    log connection details and every message sent and received to stderr\n"
    "  -q, --quiet      no progress bar, warnings or reconnect notices (errors still shown)\n";

const char cli_exit_help[] =
    "Exit status:\n"
    "  0  success (also when --count or --duration ends a stream)\n"
    "  1  any other error (no data in the range, output file, out of memory)\n"
    "  2  usage: bad option, symbol, interval or date (nothing was sent)\n"
    "  3  network: connect, DNS, proxy, TLS, WebSocket handshake, connection lost\n"
    "  4  rejected by the server: invalid symbol or interval, auth, critical/protocol error\n"
    "  5  timeout: no connection or no answer within the deadline\n"
    "  130, 143  stream, quotes: ended by SIGINT (Ctrl-C) or SIGTERM, after writing every\n"
    "     line received and closing the connection\n"
    "  141  stream, quotes: standard output was closed by its reader (e.g. | head)\n";

void cli_ctx_init(cli_ctx *g)
{
    memset(g, 0, sizeof *g);
    g->compress = 1;
    g->silence_ms = -1;
}

void cli_err(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "tvkit: %s%s", cmd ? cmd : "", cmd ? ": " : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_warn(const cli_ctx *g, const char *cmd, const char *fmt, ...)
{
    if (g->quiet) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "tvkit: %s%swarning: ", cmd ? cmd : "", cmd ? ": " : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_info(const cli_ctx *g, const char *cmd, const char *fmt, ...)
{
    if (!g->verbose) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "tvkit: %s%s", cmd ? cmd : "", cmd ? ": " : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* What the user can do about an error, when the code alone does not say it. */
static const char *hint(int err)
{
    if (err == TVK_EAUTH)
        return ": the server rejected the auth token (--token, $" TVK_TOKEN_ENV ")";
    return "";
}

int cli_fail(const char *cmd, int rc, const char *detail)
{
    if (detail && *detail)
        cli_err(cmd, "%s (%s%s)", detail, tvk_errname(rc), hint(rc));
    else
        cli_err(cmd, "%s (%s%s)", tvk_strerror(rc), tvk_errname(rc), hint(rc));
    return cli_exit_status(rc);
}

int cli_global_option(cli_ctx *g, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *v;
    char err[256];
    int r;
    if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
        g->verbose = 1;
        g->quiet = 0;
        return 1;
    }
    if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
        g->quiet = 1;
        g->verbose = 0;
        return 1;
    }
    if (!strcmp(a, "--insecure")) {
        g->insecure = 1;
        return 1;
    }
    if (!strcmp(a, "--no-compress")) {
        g->compress = 0;
        return 1;
    }
#define STR_OPT(name, field)                                                                       \
    if ((r = cli_opt(argc, argv, i, name, &v)) != 0) {                                             \
        if (r < 0) return CLI_EXIT_USAGE;                                                          \
        g->field = v;                                                                              \
        return 1;                                                                                  \
    }
    STR_OPT("--url", url)
    STR_OPT("--token", token)
    STR_OPT("--proxy", proxy)
    STR_OPT("--ca-file", ca_file)
#undef STR_OPT
    if ((r = cli_opt(argc, argv, i, "--timeout", &v)) != 0) {
        if (r < 0) return CLI_EXIT_USAGE;
        if (cli_parse_seconds(v, "--timeout", 0, CLI_TIMEOUT_MAX_S, &g->timeout_ms, err,
                              sizeof err) < 0) {
            cli_err(NULL, "%s", err);
            return CLI_EXIT_USAGE;
        }
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--silence-timeout", &v)) != 0) {
        if (r < 0) return CLI_EXIT_USAGE;
        if (cli_parse_seconds(v, "--silence-timeout", 1, CLI_TIMEOUT_MAX_S, &g->silence_ms, err,
                              sizeof err) < 0) {
            cli_err(NULL, "%s", err);
            return CLI_EXIT_USAGE;
        }
        return 1;
    }
    return 0;
}

void cli_symbol_err(const char *cmd, const char *symbol, int err, const char *msg)
{
    if (!msg || !*msg) msg = tvk_strerror(err);
    if (symbol && *symbol && !strstr(msg, symbol))
        cli_err(cmd, "%s: %s (%s%s)", symbol, msg, tvk_errname(err), hint(err));
    else
        cli_err(cmd, "%s (%s%s)", msg, tvk_errname(err), hint(err));
}

static void log_line(void *user, const char *line)
{
    const cli_ctx *g = user;
    if (g->quiet) return;
    fprintf(stderr, "tvkit: %s\n", line);
}

/* Capture format (../shared/protocol/captures): one WebSocket message per line. A message with a
 * raw line break is not valid protocol JSON; it is kept on one line with the break replaced by a
 * space, which keeps every byte length (and so every ~m~ length prefix) intact. */
static void record_raw(void *user, const char *data, size_t len)
{
    cli_ctx *g = user;
    const char *p = data, *end = data + len;
    int replaced = 0;
    while (p < end) {
        const char *q = p;
        while (q < end && *q != '\n' && *q != '\r')
            q++;
        fwrite(p, 1, (size_t)(q - p), g->record);
        if (q < end) {
            fputc(' ', g->record);
            replaced = 1;
            q++;
        }
        p = q;
    }
    fputc('\n', g->record);
    g->recorded++;
    g->record_newlines += replaced;
}

int cli_connect(cli_ctx *g, tvk_conn **out)
{
    tvk_conn_opts o;
    tvk_conn_opts_init(&o);
    if (g->url) o.url = g->url;
    o.token = g->token;
    o.proxy = g->proxy;
    o.ca_file = g->ca_file;
    o.insecure = g->insecure;
    o.compress = g->compress;
    if (g->timeout_ms > 0) {
        o.connect_timeout_ms = (int)g->timeout_ms;
        o.request_timeout_ms = (int)g->timeout_ms;
    }
    if (g->silence_ms >= 0) o.silence_timeout_ms = (int)g->silence_ms;
    o.close_timeout_ms =
        o.connect_timeout_ms < CLI_CLOSE_TIMEOUT_MS ? o.connect_timeout_ms : CLI_CLOSE_TIMEOUT_MS;
    o.log = log_line;
    o.log_user = g;
    o.trace = g->verbose;
    /* Streams reconnect without limit (backoff 1 s doubling to 30 s, with jitter). */
    o.reconnect = g->reconnect;
    o.release_idle_buffers = g->release_idle;
    if (g->record) {
        o.on_raw = record_raw;
        o.raw_user = g;
    }
    if (g->insecure)
        cli_warn(g, NULL, "--insecure: the server's certificate and host name are NOT verified");
    tvk_conn *c = tvk_conn_new_opts(&o);
    if (!c) {
        cli_err(NULL, "out of memory");
        return CLI_EXIT_OTHER;
    }
    cli_info(g, NULL, "connecting to %s", o.url);
    int rc = tvk_conn_connect(c);
    if (rc < 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", tvk_conn_errmsg(c));
        tvk_conn_free(c);
        cli_err(NULL, "cannot connect to %s: %s (%s)", o.url, *msg ? msg : tvk_strerror(rc),
                tvk_errname(rc));
        return cli_exit_status(rc);
    }
    cli_info(g, NULL, "connected (server session %s)", tvk_conn_server_session(c));
    *out = c;
    return 0;
}

int cli_conn_event(const cli_ctx *g, const char *cmd, const tvk_event *ev)
{
    const char *what = ev->errmsg && *ev->errmsg ? ev->errmsg : "";
    switch (ev->type) {
    case TVK_EV_DISCONNECTED:
        if (!g->quiet) cli_err(cmd, "disconnected%s%s", *what ? ": " : "", what);
        return 1;
    case TVK_EV_RECONNECTING:
        if (!g->quiet) cli_err(cmd, "reconnecting%s%s", *what ? ": " : "", what);
        return 1;
    case TVK_EV_RECONNECTED:
        /* The library's text may already say it ("reconnected to ..."), continue the sentence
         * ("to URL after 2 attempts") or be a reason (a watchdog resubscribe). */
        if (g->quiet) return 1;
        if (!strncmp(what, "reconnected", 11) || !strncmp(what, "resubscribed", 12))
            cli_err(cmd, "%s", what);
        else if (!strncmp(what, "to ", 3))
            cli_err(cmd, "reconnected %s", what);
        else
            cli_err(cmd, "reconnected%s%s", *what ? ": " : "", what);
        return 1;
    default:
        return 0;
    }
}

int cli_flush(FILE *f, const char *cmd, const char *what)
{
    errno = 0;
    if (fflush(f) != 0 || ferror(f)) {
        /* The reader of a pipe went away (`| head`): the end it asked for, not an error. */
        if (errno == EPIPE && f == stdout) return CLI_EXIT_SIGPIPE;
        cli_err(cmd, "cannot write %s%s%s", what, errno ? ": " : "", errno ? strerror(errno) : "");
        return CLI_EXIT_OTHER;
    }
    return 0;
}

int cli_out_write(tvk_buf *pend, const char *cmd)
{
    /* Whatever stdio holds goes first; then the lines with write(2) directly: fwrite would
     * split a large piece into two writes (block-aligned part, then the rest on fflush). */
    int st = cli_flush(stdout, cmd, "standard output");
    const char *p = pend->data;
    size_t left = pend->len;
    while (!st && left) {
        ssize_t n = write(STDOUT_FILENO, p, left);
        if (n < 0 && errno == EINTR) continue; /* a signal: what is pending still goes out */
        if (n < 0 && errno == EPIPE) {
            st = CLI_EXIT_SIGPIPE;
            break;
        }
        if (n <= 0) {
            cli_err(cmd, "cannot write standard output: %s",
                    n < 0 ? strerror(errno) : "no progress");
            st = CLI_EXIT_OTHER;
            break;
        }
        p += n;
        left -= (size_t)n;
    }
    tvk_buf_reset(pend);
    return st;
}

/* Blocks until the connection has something to do (its socket, its next timer), the caller's
 * deadline, or a signal: the library's own wait cannot be interrupted (its poll retries on
 * EINTR until its timeout), so the CLI waits in its own poll() on the socket and the signal
 * self-pipe together, and then lets the library work without waiting. 0, or -1 when poll()
 * itself failed (errno set). */
static int wait_conn(tvk_conn *c, int64_t deadline)
{
    int64_t now = tvk_now_ms(), wake = tvk_conn_deadline(c);
    if (deadline >= 0 && (wake < 0 || deadline < wake)) wake = deadline;
    int wait = -1;
    if (wake >= 0) {
        int64_t d = wake - now;
        wait = d <= 0 ? 0 : d > 0x7fffffff ? 0x7fffffff : (int)d;
    }
    struct pollfd p[2];
    nfds_t n = 0;
    int fd = tvk_conn_fd(c), w = tvk_conn_wants(c), sfd = cli_interrupt_fd();
    if (fd >= 0 && w)
        p[n++] = (struct pollfd){
            fd, (short)((w & TVK_WANT_READ ? POLLIN : 0) | (w & TVK_WANT_WRITE ? POLLOUT : 0)), 0};
    /* No socket to watch (a reconnect's backoff): the wait goes in slices, so that a surprise
     * (no socket and no timer either) cannot become a hang. */
    if (n == 0 && (wait < 0 || wait > CLI_IDLE_SLICE_MS)) wait = CLI_IDLE_SLICE_MS;
    if (sfd >= 0) p[n++] = (struct pollfd){sfd, POLLIN, 0};
    /* Ready, a timeout or EINTR: the caller looks at everything again. */
    return poll(p, n, wait) < 0 && errno != EINTR ? -1 : 0;
}

int cli_next_event(tvk_conn *c, tvk_event *ev, int64_t deadline, tvk_buf *pend, int *status,
                   const char *cmd)
{
    cli_interrupt_arm();
    for (;;) {
        /* Checked before each event, not only when idle: a fast stream always has one ready. */
        int sig = cli_interrupted();
        if (sig) {
            if (pend->len) cli_out_write(pend, cmd);
            *status = 128 + sig;
            return 0;
        }
        int rc = tvk_conn_next_event(c, ev, 0);
        if (rc != 0) return rc;
        if (pend->len) {
            int st = cli_out_write(pend, cmd);
            if (st) {
                *status = st;
                return 0;
            }
        }
        if (deadline >= 0 && tvk_now_ms() >= deadline) return 0;
        if (wait_conn(c, deadline) < 0) {
            cli_err(cmd, "cannot wait for the connection: poll: %s", strerror(errno));
            *status = CLI_EXIT_OTHER;
            return 0;
        }
    }
}
