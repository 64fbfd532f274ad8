/* sim_* test helpers; see harness.h. */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Sims still running: killed at exit, so that a failed assertion (which skips hs_stop) leaves
 * no process holding the test's output pipes open. */
static pid_t live[64];

static void kill_live(void)
{
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
        if (live[i] > 0) kill(live[i], SIGKILL);
}

static void track(pid_t pid, int add)
{
    static int registered;
    if (!registered && atexit(kill_live) == 0) registered = 1;
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
        if (add ? live[i] == 0 : live[i] == pid) {
            live[i] = add ? pid : 0;
            return;
        }
}

static const char *sim_bin(void)
{
    const char *b = getenv("TVK_SIM_BIN");
    return b ? b : "tvkit-sim";
}

static pid_t spawn_sim(const char *const *args, int with_port, int *outfd, const char *err_path)
{
    const char *argv[64];
    int n = 0;
    argv[n++] = sim_bin();
    if (with_port) {
        /* A sim left behind by a failed test ends by itself. */
        argv[n++] = "--port";
        argv[n++] = "0";
        argv[n++] = "--max-lifetime";
        argv[n++] = "120";
    }
    for (int i = 0; args && args[i] && n < 62; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    int pfd[2];
    if (pipe(pfd) != 0) return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_addclose(&fa, pfd[0]);
    if (err_path)
        posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = -1;
    int r = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (r != 0) {
        fprintf(stderr, "spawn %s: %s\n", argv[0], strerror(r));
        close(pfd[0]);
        return -1;
    }
    *outfd = pfd[0];
    return pid;
}

static int wait_exit(pid_t pid, int ms)
{
    int st;
    int64_t end = tvk_now_ms() + ms;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (r < 0) return -1;
        if (tvk_now_ms() >= end) return -2;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL); /* polling a child's exit: there is no fd to wait on */
    }
}

int hs_start(hs_sim *s, const char *const *args)
{
    return hs_start_err(s, args, NULL);
}

int hs_start_err(hs_sim *s, const char *const *args, const char *err_path)
{
    int fd;
    memset(s, 0, sizeof *s);
    s->pid = spawn_sim(args, 1, &fd, err_path);
    if (s->pid < 0) return -1;
    track(s->pid, 1);
    char line[512];
    size_t ll = 0;
    int64_t end = tvk_now_ms() + 10000;
    while (!s->port) {
        int64_t left = end - tvk_now_ms();
        struct pollfd p = {fd, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) break;
        ssize_t n = read(fd, line + ll, sizeof line - 1 - ll);
        if (n <= 0) break;
        ll += (size_t)n;
        line[ll] = 0;
        char *nl = strchr(line, '\n');
        if (nl && !strncmp(line, "listening ", 10)) {
            *nl = 0;
            snprintf(s->url, sizeof s->url, "%s", line + 10);
            char *colon = strrchr(s->url, ':');
            s->port = colon ? atoi(colon + 1) : 0;
        } else if (nl || ll >= sizeof line - 1) {
            break;
        }
    }
    close(fd);
    if (!s->port) {
        fprintf(stderr, "tvkit-sim printed no ready line within the deadline\n");
        hs_stop(s);
        return -1;
    }
    return 0;
}

int hs_stop(hs_sim *s)
{
    if (s->pid <= 0) return -1;
    kill(s->pid, SIGTERM);
    int st = wait_exit(s->pid, 5000);
    if (st == -2) {
        kill(s->pid, SIGKILL);
        st = wait_exit(s->pid, 5000);
    }
    track(s->pid, 0);
    s->pid = 0;
    return st;
}

int hs_wait_exit(hs_sim *s, int ms)
{
    int st = wait_exit(s->pid, ms);
    if (st != -2) {
        track(s->pid, 0);
        s->pid = 0;
    }
    return st;
}

int hs_run(const char *const *args, char *out, size_t cap)
{
    int fd;
    pid_t pid = spawn_sim(args, 0, &fd, NULL);
    if (pid < 0) return -1;
    size_t len = 0;
    int64_t end = tvk_now_ms() + 10000;
    for (;;) {
        int64_t left = end - tvk_now_ms();
        struct pollfd p = {fd, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) break;
        char tmp[4096];
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n <= 0) break;
        size_t k = (size_t)n < cap - 1 - len ? (size_t)n : cap - 1 - len;
        memcpy(out + len, tmp, k);
        len += k;
    }
    out[len] = 0;
    close(fd);
    int st = wait_exit(pid, 5000);
    if (st == -2) {
        kill(pid, SIGKILL);
        wait_exit(pid, 5000);
    }
    return st;
}

int hs_connect(hs_client *c, const char *url, const tvk_header *headers, size_t nheaders,
               int compress, size_t max_message)
{
    memset(c, 0, sizeof *c);
    c->echo = 1;
    tvk_buf_init(&c->out);
    c->rd = tvk_reader_new(0);
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    o.url = url;
    o.connect_timeout_ms = 5000;
    o.compress = compress;
    o.insecure = 1;
    o.proxy = "";
    o.ping_interval_ms = 0;
    if (max_message) o.max_message = max_message;
    o.headers = headers;
    o.nheaders = nheaders;
    c->ws = tvk_ws_new(&o);
    if (!c->ws || !c->rd) return TVK_ENOMEM;
    return tvk_ws_connect(c->ws);
}

void hs_close(hs_client *c)
{
    if (c->ws) tvk_ws_free(c->ws);
    tvk_reader_free(c->rd);
    free(c->msg);
    tvk_buf_free(&c->out);
    memset(c, 0, sizeof *c);
}

int hs_send_raw(hs_client *c, const char *text)
{
    int rc = tvk_ws_send_text(c->ws, text, strlen(text));
    return rc ? rc : tvk_ws_flush(c->ws, 5000);
}

int hs_send(hs_client *c, const char *method, const char *params_json)
{
    tvk_buf_reset(&c->out);
    int rc = tvk_build(&c->out, method, params_json);
    if (rc) return rc;
    rc = tvk_ws_send_text(c->ws, c->out.data, c->out.len);
    return rc ? rc : tvk_ws_flush(c->ws, 5000);
}

/* The next packet of the current message: 1, 0 when exhausted, < 0 on a reader error. */
static int take(hs_client *c, tvk_msg *m)
{
    if (!c->in_msg) return 0;
    int rc = tvk_reader_next_msg(c->rd, m);
    if (rc > 0) {
        c->packets++;
        if (m->type == TVK_MSG_HEARTBEAT) {
            c->heartbeats++;
            if (c->echo) {
                tvk_buf hb;
                tvk_buf_init(&hb);
                tvk_frame_heartbeat(&hb, m->heartbeat);
                tvk_ws_send_text(c->ws, hb.data, hb.len);
                tvk_buf_free(&hb);
            }
        }
        return 1;
    }
    if (rc == 0) {
        c->in_msg = 0;
        return 0;
    }
    c->last_err = rc;
    if (rc != TVK_EJSON && rc != TVK_ESHAPE && rc != TVK_ENUMBER) c->in_msg = 0;
    return rc;
}

int hs_next(hs_client *c, tvk_msg *m, int timeout_ms)
{
    int64_t end = tvk_now_ms() + timeout_ms;
    for (;;) {
        int rc = take(c, m);
        if (rc != 0) return rc;
        int64_t left = end - tvk_now_ms();
        if (left < 0) left = 0;
        const char *data;
        size_t len;
        rc = tvk_ws_recv(c->ws, &data, &len, (int)left);
        if (rc < 0) return rc;
        if (rc == 0) return 0;
        char *copy = realloc(c->msg, len + 1);
        if (!copy) return TVK_ENOMEM;
        memcpy(copy, data, len);
        copy[len] = 0;
        c->msg = copy;
        c->msglen = len;
        c->messages++;
        c->bytes += len;
        rc = tvk_reader_feed(c->rd, c->msg, len);
        if (rc < 0) {
            c->last_err = rc;
            return rc;
        }
        c->in_msg = 1;
    }
}

int hs_next_in_msg(hs_client *c, tvk_msg *m)
{
    return take(c, m);
}

int hs_is(const tvk_msg *m, const char *name)
{
    if (!strcmp(name, "heartbeat")) return m->type == TVK_MSG_HEARTBEAT;
    if (!strcmp(name, "hello")) return m->type == TVK_MSG_HELLO;
    return m->method.len == strlen(name) && !memcmp(m->method.p, name, m->method.len);
}

int hs_wait(hs_client *c, const char *name, tvk_msg *m, int timeout_ms)
{
    int64_t end = tvk_now_ms() + timeout_ms;
    for (;;) {
        int64_t left = end - tvk_now_ms();
        if (left <= 0) return 0;
        int rc = hs_next(c, m, (int)left);
        if (rc == 0) return 0;
        if (rc < 0) {
            if (rc == TVK_EJSON || rc == TVK_ESHAPE || rc == TVK_ENUMBER ||
                (rc <= -20 && rc >= -31))
                continue;
            return rc;
        }
        if (hs_is(m, name)) return 1;
    }
}

const char *hs_pstr(const tvk_msg *m, int i, char *buf, size_t cap)
{
    buf[0] = 0;
    if (!m->json || m->params < 0) return buf;
    int t = tvk_json_index(m->json, m->params, i);
    size_t len;
    if (t >= 0 && tvk_json_type(m->json, t) == TVK_J_STRING)
        tvk_json_str(m->json, t, buf, cap, &len);
    return buf;
}

void hs_tmpname(char *out, size_t cap, const char *tag)
{
    const char *d = getenv("TMPDIR");
    static int seq;
    snprintf(out, cap, "%s/tvk-sim-%s-%d-%d", d ? d : "/tmp", tag, (int)getpid(), ++seq);
}
