/* See simproc.h. */
#define _GNU_SOURCE
#include "simproc.h"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tvkit/net.h"

extern char **environ;

/* Sims started and not yet stopped, for simproc_stop_all (a test-process registry). */
#define MAX_RUNNING 16
static simproc running[MAX_RUNNING];

int simproc_start(simproc *s, const char *bin, const char *const *args)
{
    memset(s, 0, sizeof *s);
    const char *tmp = getenv("TMPDIR");
    snprintf(s->log, sizeof s->log, "%s/tvk_client_sim_%d_%lld.log", tmp ? tmp : "/tmp",
             (int)getpid(), (long long)tvk_now_ms());
    unlink(s->log);
    const char *argv[64];
    int n = 0;
    argv[n++] = bin;
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--log";
    argv[n++] = s->log;
    argv[n++] = "--max-lifetime"; /* never outlive a test run that was killed */
    argv[n++] = "600";
    for (int i = 0; args && args[i] && n < 62; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    int pfd[2];
    if (pipe(pfd) != 0) return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_addclose(&fa, pfd[0]);
    int r = posix_spawn(&s->pid, bin, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (r != 0) {
        fprintf(stderr, "spawn %s: %s\n", bin, strerror(r));
        close(pfd[0]);
        s->pid = 0;
        return -1;
    }
    char line[512];
    size_t ll = 0;
    int64_t end = tvk_now_ms() + 10000;
    while (!s->url[0]) {
        int64_t left = end - tvk_now_ms();
        struct pollfd p = {pfd[0], POLLIN, 0};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) break;
        ssize_t k = read(pfd[0], line + ll, sizeof line - 1 - ll);
        if (k <= 0) break;
        ll += (size_t)k;
        line[ll] = '\0';
        char *nl = strchr(line, '\n');
        if (nl && !strncmp(line, "listening ", 10)) {
            *nl = '\0';
            if (strlen(line + 10) >= sizeof s->url) break; /* not a URL we can hold */
            memcpy(s->url, line + 10, strlen(line + 10) + 1);
        } else if (nl || ll >= sizeof line - 1) {
            break;
        }
    }
    close(pfd[0]);
    if (!s->url[0]) {
        fprintf(stderr, "tvkit-sim printed no ready line within 10 s\n");
        simproc_stop(s);
        return -1;
    }
    for (int i = 0; i < MAX_RUNNING; i++)
        if (running[i].pid == 0) {
            running[i] = *s;
            break;
        }
    return 0;
}

static int wait_exit(pid_t pid, int ms)
{
    int64_t end = tvk_now_ms() + ms;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid || r < 0) return 0;
        if (tvk_now_ms() >= end) return -1;
        /* a child's exit has no fd to wait on: poll its status */
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

void simproc_stop(simproc *s)
{
    for (int i = 0; i < MAX_RUNNING; i++)
        if (s->pid > 0 && running[i].pid == s->pid) running[i].pid = 0;
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        if (wait_exit(s->pid, 5000) < 0) {
            kill(s->pid, SIGKILL);
            wait_exit(s->pid, 5000);
        }
    }
    s->pid = 0;
    if (s->log[0]) unlink(s->log);
}

size_t simproc_lines(const simproc *s, char **lines, size_t max)
{
    FILE *f = fopen(s->log, "r");
    if (!f) return 0;
    size_t n = 0;
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    while (n < max && (len = getline(&buf, &cap, f)) > 0) {
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
            buf[--len] = '\0';
        const char *m = strstr(buf, ",\"msg\":");
        if (m && len > 0 && buf[len - 1] == '}') {
            m += 7;
            size_t k = (size_t)(buf + len - 1 - m);
            lines[n] = strndup(m, k);
            n++;
            continue;
        }
        const char *h = strstr(buf, ",\"heartbeat\":");
        if (h) {
            char tmp[64];
            snprintf(tmp, sizeof tmp, "~h~%lld", atoll(h + 13));
            lines[n++] = strdup(tmp);
        }
    }
    free(buf);
    fclose(f);
    return n;
}

void simproc_lines_free(char **lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
}

void simproc_stop_all(void)
{
    for (int i = 0; i < MAX_RUNNING; i++)
        if (running[i].pid > 0) {
            simproc copy = running[i];
            simproc_stop(&copy);
        }
}
