/* The self-pipe behind cli/interrupt.h. A signal handler can only reach file-scope state, so this
 * file holds the one piece of mutable global state of the command; it is set up once by main()
 * before anything else runs. */
#define _GNU_SOURCE /* pipe2 */
#include "interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t armed;    /* a streaming loop watches the pipe */
static volatile sig_atomic_t received; /* first signal's number */
static int pipe_r = -1, pipe_w = -1;

static void restore_default(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void on_signal(int sig)
{
    /* Not streaming (a download, the connect): the default action, as without a handler. A
     * second signal while the first is being handled (the close handshake, up to 2 s): the user
     * insists, so the default action too. The signal is blocked while this runs and is
     * delivered again on return. */
    if (!armed || received) {
        restore_default(sig);
        raise(sig);
        return;
    }
    received = sig;
    int saved = errno;
    ssize_t n = write(pipe_w, "", 1); /* non-blocking: a full pipe already wakes the reader */
    (void)n;
    errno = saved;
}

void cli_interrupt_init(void)
{
    int p[2];
    if (pipe_r >= 0 || pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0) return;
    pipe_r = p[0];
    pipe_w = p[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    /* No SA_RESTART: a write(2) blocked on a stalled reader returns EINTR, and the loop that
     * retries it is the CLI's own. */
    sa.sa_flags = 0;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void cli_interrupt_arm(void)
{
    if (pipe_r < 0 || armed) return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
    armed = 1;
}

int cli_interrupt_fd(void)
{
    return armed ? pipe_r : -1;
}

int cli_interrupted(void)
{
    return received;
}
