/* tvkit-sim: parse options, bind, print the ready line, serve. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "opts.h"
#include "server.h"

static volatile int stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

int main(int argc, char **argv)
{
    sim_opts o;
    char err[512] = "";
    sim_opts_init(&o);
    int rc = sim_opts_parse(&o, argc, argv, err, sizeof err);
    if (rc > 0) return 0;
    if (rc < 0) {
        fprintf(stderr, "tvkit-sim: %s\n", err);
        return 2;
    }
#ifdef __GLIBC__
    /* Every large answer passes through a few buffers of its size (the latency queue, the
     * WebSocket send queue) that are freed right after. Above glibc's default thresholds each
     * one is a fresh mmap whose pages fault in on first touch: ~10% of the sim's CPU for
     * 5,000-bar answers. Kept in the heap, the same pages are reused. */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
#endif
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sim_server *s = sim_server_new(&o, err, sizeof err);
    if (!s) {
        fprintf(stderr, "tvkit-sim: %s\n", err);
        return 1;
    }
    printf("listening %s\n", sim_server_url(s));
    fflush(stdout);
    rc = sim_server_run(s, &stop_flag);
    sim_server_free(s);
    return rc ? 1 : 0;
}
