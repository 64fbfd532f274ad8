#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int tu_listen(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

void tu_pump_init(tu_pump *p, int lfd, const tvk_ws_server_opts *sopts)
{
    memset(p, 0, sizeof *p);
    p->lfd = lfd;
    if (sopts)
        p->sopts = *sopts;
    else
        tvk_ws_server_opts_init(&p->sopts);
}

static void add_fd(struct pollfd *pf, tvk_ws **who, int *n, tvk_ws *ws)
{
    int w = tvk_ws_wants(ws);
    if (tvk_ws_fd(ws) < 0) return;
    pf[*n].fd = tvk_ws_fd(ws);
    pf[*n].events = (short)((w & TVK_WANT_READ ? POLLIN : 0) | (w & TVK_WANT_WRITE ? POLLOUT : 0));
    pf[*n].revents = 0;
    who[*n] = ws;
    (*n)++;
}

void tu_pump_once(tu_pump *p, int timeout_ms)
{
    struct pollfd pf[2 * TU_MAXWS + 1];
    tvk_ws *who[2 * TU_MAXWS + 1];
    int n = 0;
    if (p->lfd >= 0 && p->nsrv < TU_MAXWS) {
        pf[n].fd = p->lfd;
        pf[n].events = POLLIN;
        who[n++] = NULL;
    }
    int64_t now = tvk_now_ms(), dl = -1;
    tvk_ws *all[2 * TU_MAXWS];
    int na = 0;
    for (int i = 0; i < p->ncli; i++)
        all[na++] = p->cli[i];
    for (int i = 0; i < p->nsrv; i++)
        all[na++] = p->srv[i];
    for (int i = 0; i < na; i++) {
        add_fd(pf, who, &n, all[i]);
        int64_t d = tvk_ws_deadline(all[i]);
        if (d >= 0 && (dl < 0 || d < dl)) dl = d;
    }
    int wait = timeout_ms;
    if (dl >= 0 && (wait < 0 || dl - now < wait)) wait = dl > now ? (int)(dl - now) : 0;
    int r = poll(pf, (nfds_t)n, wait);
    for (int i = 0; r > 0 && i < n; i++) {
        if (!pf[i].revents) continue;
        if (!who[i]) {
            int c = accept(p->lfd, NULL, NULL);
            if (c >= 0) {
                tvk_ws *s = tvk_ws_accept(c, &p->sopts);
                if (s) p->srv[p->nsrv++] = s;
            }
            continue;
        }
        if (pf[i].revents & (POLLIN | POLLERR | POLLHUP)) tvk_ws_on_readable(who[i]);
        if (pf[i].revents & POLLOUT) tvk_ws_on_writable(who[i]);
    }
    now = tvk_now_ms();
    for (int i = 0; i < na; i++) {
        int64_t d = tvk_ws_deadline(all[i]);
        if (d >= 0 && now >= d) tvk_ws_on_timer(all[i], now);
    }
}

int tu_pump_until(tu_pump *p, int (*cond)(void *), void *arg, int timeout_ms)
{
    int64_t end = tvk_now_ms() + timeout_ms;
    while (!cond(arg)) {
        int64_t left = end - tvk_now_ms();
        if (left <= 0) return cond(arg);
        tu_pump_once(p, left > 50 ? 50 : (int)left);
    }
    return 1;
}

void tu_pump_free(tu_pump *p)
{
    for (int i = 0; i < p->nsrv; i++)
        tvk_ws_free(p->srv[i]);
    p->nsrv = 0;
    if (p->lfd >= 0) close(p->lfd);
    p->lfd = -1;
}

pid_t tu_spawn(char *const argv[], const char *cwd, int *port, int timeout_ms)
{
    int pfd[2];
    if (pipe(pfd) != 0) return -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        /* a server must not outlive a test that crashed or failed an assertion */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(127);
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        if (cwd && chdir(cwd) != 0) _exit(127);
        execv(argv[0], argv);
        _exit(127);
    }
    close(pfd[1]);
    char line[256];
    size_t ll = 0;
    int64_t end = tvk_now_ms() + timeout_ms;
    *port = 0;
    while (!*port) {
        int64_t left = end - tvk_now_ms();
        struct pollfd p = {pfd[0], POLLIN, 0};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) break;
        ssize_t n = read(pfd[0], line + ll, sizeof line - 1 - ll);
        if (n <= 0) break;
        ll += (size_t)n;
        line[ll] = 0;
        char *rp = strstr(line, "ready port ");
        if (rp && strchr(rp, '\n')) *port = atoi(rp + 11);
        if (ll >= sizeof line - 1) break;
    }
    close(pfd[0]);
    if (!*port) {
        fprintf(stderr, "spawn %s: no \"ready port N\" line within %d ms\n", argv[0], timeout_ms);
        tu_stop(pid);
        return -1;
    }
    return pid;
}

void tu_stop(pid_t pid)
{
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    int st;
    int64_t end = tvk_now_ms() + 3000;
    while (waitpid(pid, &st, WNOHANG) == 0) {
        if (tvk_now_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return;
        }
        struct pollfd none;
        poll(&none, 0, 10); /* waitpid has no timeout; check again shortly */
    }
}

int tu_tmpdir(char *out, size_t cap)
{
    const char *t = getenv("TMPDIR");
    snprintf(out, cap, "%s/tvk-net-XXXXXX", t && *t ? t : "/tmp");
    return mkdtemp(out) ? 0 : -1;
}

void tu_rmdir(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    tu_sh(cmd);
}

int tu_sh(const char *cmd)
{
    int st = system(cmd);
    return st == 0 ? 0 : -1;
}

char *tu_text(size_t n, unsigned seed)
{
    static const char *const words[] = {
        "open", "high",    "low",     "close",  "volume",      "~m~",
        "qsd",  "{\"m\":", "\"p\":[", "1.2345", "NASDAQ:AAPL", "du"};
    char *s = malloc(n + 1);
    if (!s) return NULL;
    unsigned x = seed * 2654435761u + 1;
    size_t i = 0;
    while (i < n) {
        x = x * 1103515245u + 12345u;
        const char *w = words[(x >> 16) % 12];
        for (; *w && i < n; w++)
            s[i++] = *w;
        if (i < n) s[i++] = (char)('0' + (x >> 8) % 10);
        if (i < n) s[i++] = ' ';
    }
    s[n] = 0;
    return s;
}

pid_t tu_spawn_script(const char *interp_env, const char *script, const char *const *args,
                      int *port)
{
    const char *interp = getenv(interp_env), *dir = getenv("TVK_NET_DIR");
    if (!interp || !*interp || !dir) {
        fprintf(stderr, "%s or TVK_NET_DIR not set\n", interp_env);
        return -1;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, script);
    char *argv[16];
    int n = 0;
    argv[n++] = (char *)interp;
    argv[n++] = path;
    for (int i = 0; args && args[i] && n < 15; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    return tu_spawn(argv, NULL, port, 15000);
}
