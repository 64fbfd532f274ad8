/* The receive buffer of a tvk_ws: one allocation that holds the complete messages waiting for
 * tvk_ws_recv followed by the message being assembled, kept with its capacity from message to
 * message. Payload bytes (plain or inflated) land directly at their final place; a message is
 * never copied again after that, and the buffer is only moved (compacted or grown) while it
 * needs more room.
 *
 * Layout: [rqhead, rqtail) are records { size_t len; char data[len]; NUL; padding to 8 };
 * the message being assembled starts at rqtail + TVK_RX_HDR and has mlen bytes so far. */
#include <stdlib.h>
#include <string.h>

#include "net/internal.h"

#define TVK_RX_HDR sizeof(size_t)

static size_t rec_size(size_t len)
{
    return (TVK_RX_HDR + len + 1 + 7) & ~(size_t)7;
}

size_t tvk_rx_queued(const tvk_ws *ws)
{
    return ws->rqtail - ws->rqhead - ws->handed;
}

/* Makes room for want more payload bytes (+ the NUL and padding) after the current message.
 * Compacts first (the waiting records move to the front), then grows by doubling. */
static int rx_reserve(tvk_ws *ws, size_t want)
{
    size_t used = ws->rqtail + TVK_RX_HDR + ws->mlen;
    if (used + want + 8 <= ws->rqcap) return 0;
    if (ws->rqhead > 0) {
        memmove(ws->rq, ws->rq + ws->rqhead, used - ws->rqhead);
        ws->rqtail -= ws->rqhead;
        used -= ws->rqhead;
        ws->rqhead = 0;
        if (used + want + 8 <= ws->rqcap) return 0;
    }
    size_t need = used + want + 8;
    size_t nc = ws->rqcap ? ws->rqcap * 2 : TVK_RX_MIN;
    if (nc < need) nc = need;
    /* never more than the waiting records plus one message of max_message */
    size_t limit = ws->rqtail + TVK_RX_HDR + ws->max_message + 16;
    if (nc > limit && need <= limit) nc = limit;
    char *nb = realloc(ws->rq, nc);
    if (!nb) return TVK_ENOMEM;
    ws->rq = nb;
    ws->rqcap = nc;
    if (nc > ws->info.rx_buffer_peak) ws->info.rx_buffer_peak = nc;
    return 0;
}

int tvk_rx_room(tvk_ws *ws, size_t want, char **dst, size_t *room)
{
    if (ws->mlen >= ws->max_message + 1) return TVK_EMSG_TOOBIG;
    size_t left = ws->max_message + 1 - ws->mlen; /* one past the limit shows an overflow */
    if (want > left) want = left;
    if (want == 0) want = 1;
    if (rx_reserve(ws, want)) return TVK_ENOMEM;
    size_t at = ws->rqtail + TVK_RX_HDR + ws->mlen;
    size_t r = ws->rqcap - at - 8;
    *dst = ws->rq + at;
    *room = r < left ? r : left;
    return 0;
}

int tvk_rx_append(tvk_ws *ws, const void *data, size_t len)
{
    if (len > ws->max_message - ws->mlen || ws->mlen > ws->max_message) return TVK_EMSG_TOOBIG;
    if (rx_reserve(ws, len)) return TVK_ENOMEM;
    memcpy(ws->rq + ws->rqtail + TVK_RX_HDR + ws->mlen, data, len);
    ws->mlen += len;
    return 0;
}

char *tvk_rx_msg(tvk_ws *ws)
{
    return ws->rq ? ws->rq + ws->rqtail + TVK_RX_HDR : NULL;
}

/* A buffer grown by one large message is not kept once nothing waits in it. */
static void rx_trim(tvk_ws *ws)
{
    if (ws->rqhead != ws->rqtail || ws->mlen || ws->rqcap <= TVK_RX_KEEP) return;
    free(ws->rq);
    ws->rq = NULL;
    ws->rqcap = ws->rqhead = ws->rqtail = 0;
}

void tvk_rx_discard(tvk_ws *ws)
{
    ws->mlen = 0;
    rx_trim(ws);
}

int tvk_rx_finish(tvk_ws *ws)
{
    if (rx_reserve(ws, 0)) return TVK_ENOMEM;
    char *m = ws->rq + ws->rqtail + TVK_RX_HDR;
    size_t len = ws->mlen;
    m[len] = 0;
    if (ws->on_message) {
        ws->mlen = 0;
        ws->on_message(ws->user, m, len);
        rx_trim(ws);
        return 0;
    }
    memcpy(ws->rq + ws->rqtail, &len, TVK_RX_HDR);
    ws->rqtail += rec_size(len);
    ws->mlen = 0;
    ws->qcount++;
    size_t q = tvk_rx_queued(ws);
    if (q > ws->info.rx_queued_peak) ws->info.rx_queued_peak = q;
    return 0;
}

/* Releases the message handed out by the previous tvk_rx_pop. */
static void rx_release(tvk_ws *ws)
{
    if (!ws->handed) return;
    ws->rqhead += ws->handed;
    ws->handed = 0;
    /* nothing waits and nothing is half assembled: start again at the front (a half message
     * stays where it is; rx_reserve moves it only if it needs the room) */
    if (ws->rqhead == ws->rqtail && ws->mlen == 0) {
        ws->rqhead = ws->rqtail = 0;
        rx_trim(ws);
    }
}

int tvk_rx_pop(tvk_ws *ws, const char **data, size_t *len)
{
    rx_release(ws);
    if (ws->rqhead == ws->rqtail) return 0;
    size_t n;
    memcpy(&n, ws->rq + ws->rqhead, TVK_RX_HDR);
    *data = ws->rq + ws->rqhead + TVK_RX_HDR;
    *len = n;
    ws->handed = rec_size(n);
    ws->qcount--;
    return 1;
}

void tvk_rx_free(tvk_ws *ws)
{
    free(ws->rq);
    ws->rq = NULL;
    ws->rqcap = ws->rqhead = ws->rqtail = ws->mlen = ws->handed = 0;
    ws->qcount = 0;
}
