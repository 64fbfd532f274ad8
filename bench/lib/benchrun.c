/* tvk-benchrun: run one or more client commands at once and report what they cost.
 *
 *   tvk-benchrun [--first] [--cpu N] -- CMD ARGS... [::: CMD ARGS...]...
 *
 * Prints one line on stdout:
 *   wall_s user_s sys_s maxrss_kb first_out_s exit_status
 * user_s/sys_s are summed over the commands (wait4 rusage of each child only: the benchmark
 * server and this wrapper are not counted); maxrss_kb is the sum of each command's peak RSS (an
 * upper bound on the footprint of commands that run side by side); wall_s is from the first
 * spawn to the last exit. With --first, each command's stdout goes to a pipe and first_out_s is
 * the time from spawn to the first byte any command writes (the rest is read and discarded);
 * without it, stdout goes to /dev/null as in the benchmark cases and first_out_s is -1.
 * exit_status is the first non-zero exit status (128+signal for a signal), 0 if all succeeded.
 * --cpu N pins the commands to CPU N (sched_setaffinity) so the server can have the other one.
 * --timeout S kills the commands after S seconds (default 600) and reports status 124.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stats.h"

#define MAX_CMDS 64

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static int usage(void)
{
    fputs("usage: tvk-benchrun [--first] [--cpu N] [--timeout S] -- CMD ARGS... [::: CMD "
          "ARGS...]...\n",
          stderr);
    return 2;
}

int main(int argc, char **argv)
{
    int first = 0, cpu = -1;
    double timeout_s = 600;
    int i = 1;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--first"))
            first = 1;
        else if (!strcmp(argv[i], "--cpu") && i + 1 < argc)
            cpu = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
            timeout_s = atof(argv[++i]);
        else if (!strcmp(argv[i], "--")) {
            i++;
            break;
        } else
            return usage();
    }
    if (i >= argc) return usage();

    /* Split the remaining arguments into commands at each ":::". */
    char **cmds[MAX_CMDS];
    int ncmd = 0;
    cmds[ncmd++] = &argv[i];
    for (int k = i; k < argc; k++)
        if (!strcmp(argv[k], ":::")) {
            argv[k] = NULL;
            if (k + 1 >= argc || ncmd == MAX_CMDS) return usage();
            cmds[ncmd++] = &argv[k + 1];
        }

    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old);

    pid_t pids[MAX_CMDS];
    int outfd[MAX_CMDS];
    double t0 = bench_now_s(), first_at = -1;
    for (int c = 0; c < ncmd; c++) {
        int p[2] = {-1, -1};
        if (first && pipe2(p, O_CLOEXEC)) {
            perror("tvk-benchrun: pipe");
            return 1;
        }
        pid_t pid = fork();
        if (pid < 0) {
            perror("tvk-benchrun: fork");
            return 1;
        }
        if (pid == 0) {
            sigprocmask(SIG_SETMASK, &old, NULL);
            if (cpu >= 0) {
                cpu_set_t set;
                CPU_ZERO(&set);
                CPU_SET(cpu, &set);
                sched_setaffinity(0, sizeof set, &set); /* best effort: noisier if it fails */
            }
            int fd = first ? p[1] : open("/dev/null", O_WRONLY);
            if (fd < 0 || dup2(fd, 1) < 0) _exit(127);
            execvp(cmds[c][0], cmds[c]);
            fprintf(stderr, "tvk-benchrun: cannot run %s: %s\n", cmds[c][0], strerror(errno));
            _exit(127);
        }
        pids[c] = pid;
        outfd[c] = -1;
        if (first) {
            close(p[1]);
            outfd[c] = p[0];
        }
    }

    /* Drain the pipes (when --first) until every writer has closed its end. */
    int open_fds = first ? ncmd : 0;
    char buf[65536];
    while (open_fds > 0) {
        struct pollfd pf[MAX_CMDS];
        int map[MAX_CMDS], n = 0;
        for (int c = 0; c < ncmd; c++)
            if (outfd[c] >= 0) {
                pf[n].fd = outfd[c];
                pf[n].events = POLLIN;
                map[n++] = c;
            }
        double left = timeout_s - (bench_now_s() - t0);
        if (left <= 0) break;
        int r = poll(pf, (nfds_t)n, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        for (int k = 0; k < n; k++) {
            if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t got = read(pf[k].fd, buf, sizeof buf);
            if (got > 0 && first_at < 0) first_at = bench_now_s() - t0;
            if (got <= 0 && !(got < 0 && errno == EINTR)) {
                close(pf[k].fd);
                outfd[map[k]] = -1;
                open_fds--;
            }
        }
    }

    double user = 0, sys = 0;
    long rss = 0;
    int status_out = 0, timed_out = 0, left_cmds = ncmd;
    int done[MAX_CMDS] = {0};
    while (left_cmds > 0) {
        for (int c = 0; c < ncmd; c++) {
            if (done[c]) continue;
            int st;
            struct rusage ru;
            pid_t r = wait4(pids[c], &st, WNOHANG, &ru);
            if (r < 0 && errno == EINTR) continue;
            if (r == 0) continue;
            done[c] = 1;
            left_cmds--;
            if (r < 0) {
                if (!status_out) status_out = 1;
                continue;
            }
            user += tv_s(ru.ru_utime);
            sys += tv_s(ru.ru_stime);
            rss += ru.ru_maxrss;
            int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            if (code && !status_out) status_out = code;
        }
        if (left_cmds == 0) break;
        if (bench_now_s() - t0 > timeout_s && !timed_out) {
            timed_out = 1;
            for (int c = 0; c < ncmd; c++)
                if (!done[c]) kill(pids[c], SIGKILL);
        }
        /* Sleep until a child exits (SIGCHLD is blocked, so none is missed) or 100 ms pass. */
        struct timespec ts = {0, 100000000};
        sigtimedwait(&chld, NULL, &ts);
    }
    double wall = bench_now_s() - t0;
    if (timed_out) status_out = 124;
    printf("%.6f %.6f %.6f %ld %.6f %d\n", wall, user, sys, rss, first_at, status_out);
    return 0;
}
