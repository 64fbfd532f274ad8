/* The receive side of an open connection: RFC 6455 frames parsed straight out of the socket
 * read buffer, payloads written once into the receive buffer (rx.c) or inflated into it,
 * text checked as UTF-8 a message at a time (tvk_net_utf8_check, 64 ASCII bytes per step),
 * and ping, pong and close handled here. wslay still frames what we send; reading through it
 * cost a byte-at-a-time UTF-8 automaton and an extra copy of every payload (4 KiB at a time).
 *
 * Flow control: the loop stops at a message boundary once max_queued bytes wait (queue mode) or
 * once this call delivered max_queued bytes (callback mode), and never reads the socket again
 * in one call after max_queued + one read buffer have come in. Bytes already read stay in
 * ibuf; tvk_ws_deadline then says "now". */
#include <stdio.h>
#include <string.h>

#include "net/internal.h"

static int proto(tvk_ws *ws, int wscode, const char *what)
{
    tvk_ws_peer_error(ws, TVK_EWS_PROTOCOL, wscode,
                      "WebSocket protocol violation by the peer after message %llu (%s; close %d "
                      "sent)",
                      (unsigned long long)ws->info.messages_in, what, wscode);
    return 0;
}

static int valid_close_code(unsigned c)
{
    return (c >= 1000 && c <= 1011 && c != 1004 && c != 1005 && c != 1006) ||
           (c >= 3000 && c <= 4999);
}

static void unmask(unsigned char *p, size_t n, const unsigned char key[4], uint64_t off)
{
    for (size_t i = 0; i < n; i++)
        p[i] ^= key[(off + i) & 3];
}

/* A complete header is in ws->fh: checks it and starts the frame. */
static int frame_start(tvk_ws *ws)
{
    const unsigned char *h = ws->fh;
    int fin = h[0] >> 7, rsv = (h[0] >> 4) & 7 /* RSV1 = 4 */, op = h[0] & 0xf, masked = h[1] >> 7;
    unsigned len7 = h[1] & 0x7f;
    uint64_t len = len7;
    size_t at = 2;
    if (len7 == 126) {
        len = (uint64_t)h[2] << 8 | h[3];
        at = 4;
        if (len < 126) return proto(ws, 1002, "bad frame header: non-minimal 16-bit length");
    } else if (len7 == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | h[2 + i];
        at = 10;
        if (len < 65536 || (len >> 63))
            return proto(ws, 1002, "bad frame header: invalid 64-bit length");
    }
    if (masked) memcpy(ws->fmask, h + at, 4);
    if (rsv & 3) return proto(ws, 1002, "bad frame header: RSV2 or RSV3 set");
    if ((op >= 3 && op <= 7) || op > 10)
        return proto(ws, 1002, "bad frame header: reserved opcode");
    if ((rsv & 4) && (!ws->pmd.on || op == 0 || op >= 8))
        return proto(ws, 1002, "bad frame header: RSV1 not negotiated or on a non-first frame");
    if (op >= 8 && (!fin || len > 125))
        return proto(ws, 1002, "bad control frame: fragmented or over 125 bytes");
    if (masked != ws->server)
        return proto(ws, 1002,
                     ws->server ? "bad frame header: unmasked client frame"
                                : "bad frame header: masked server frame");
    ws->f_op = op;
    ws->f_masked = masked;
    ws->f_len = len;
    ws->f_off = 0;
    if (op >= 8) {
        ws->m_ctrl = 1;
        return 0;
    }
    ws->m_ctrl = 0;
    if (op == 0 && !ws->m_active)
        return proto(ws, 1002, "continuation frame without a message to continue");
    if (op != 0 && ws->m_active)
        return proto(ws, 1002, "new data frame inside a fragmented message");
    if (op != 0) {
        ws->m_active = 1;
        ws->mlen = 0;
        ws->mwire = 0;
        ws->m_compressed = (rsv & 4) != 0;
        ws->m_text = op == 1;
        if (ws->m_compressed && tvk_pmd_inflate_begin(&ws->pmd) != 0)
            return (tvk_ws_peer_error(ws, TVK_ENOMEM, 1011, "inflate: out of memory"), 0);
    }
    ws->m_fin = fin;
    ws->mwire += len;
    /* Refuse before the bytes arrive: a compressed frame may be slightly larger than its text */
    uint64_t wire_max = ws->m_compressed ? (uint64_t)ws->max_message + ws->max_message / 8 + 4096
                                         : (uint64_t)ws->max_message;
    if (ws->mwire > wire_max)
        tvk_ws_peer_error(
            ws, TVK_EMSG_TOOBIG, 1009,
            "message %llu: %sframe of %llu bytes takes it past the limit of %zu bytes",
            (unsigned long long)ws->info.messages_in + 1, ws->m_compressed ? "compressed " : "",
            (unsigned long long)len, ws->max_message);
    return 0;
}

static void payload(tvk_ws *ws, const unsigned char *p, size_t n)
{
    if (ws->m_ctrl) {
        memcpy(ws->ctl + ws->f_off, p, n);
        return;
    }
    if (n == 0) return;
    int r;
    if (ws->m_compressed) {
        char err[160];
        r = tvk_pmd_inflate(ws, p, n, err, sizeof err);
        if (r)
            tvk_ws_peer_error(ws, r,
                              r == TVK_EMSG_TOOBIG ? 1009
                              : r == TVK_EINFLATE  ? 1007
                                                   : 1011,
                              "message %llu: %s", (unsigned long long)ws->info.messages_in + 1,
                              err);
        return;
    }
    r = tvk_rx_append(ws, p, n);
    if (r)
        tvk_ws_peer_error(ws, r, r == TVK_ENOMEM ? 1011 : 1009, "message %llu: %s",
                          (unsigned long long)ws->info.messages_in + 1,
                          r == TVK_ENOMEM ? "out of memory" : "exceeds the size limit");
}

static int message_end(tvk_ws *ws)
{
    ws->m_active = 0;
    if (ws->m_compressed) {
        char err[160];
        int r = tvk_pmd_inflate_end(ws, err, sizeof err);
        if (r)
            return (tvk_ws_peer_error(ws, r, r == TVK_EMSG_TOOBIG ? 1009 : 1007, "message %llu: %s",
                                      (unsigned long long)ws->info.messages_in + 1, err),
                    0);
    }
    if (ws->m_text && ws->mlen) {
        size_t bad = tvk_net_utf8_check((const unsigned char *)tvk_rx_msg(ws), ws->mlen);
        if (bad < ws->mlen) {
            if (ws->m_compressed)
                return (tvk_ws_peer_error(
                            ws, TVK_EWS_PROTOCOL, 1007,
                            "message %llu: invalid UTF-8 at byte %zu of a compressed text message",
                            (unsigned long long)ws->info.messages_in + 1, bad),
                        0);
            return proto(ws, 1007, "invalid UTF-8 in a text message");
        }
    }
    if (ws->close_initiated) {
        /* Nobody takes messages after close: reading on is only to find the close reply. */
        tvk_rx_discard(ws);
        ws->info.messages_dropped++;
        return 0;
    }
    ws->info.messages_in++;
    if (ws->m_compressed) ws->info.messages_in_deflated++;
    size_t len = ws->mlen;
    if (tvk_rx_finish(ws) != 0)
        return (tvk_ws_peer_error(ws, TVK_ENOMEM, 1011, "out of memory"), 0);
    ws->burst += len + 16;
    return 0;
}

static int control_end(tvk_ws *ws)
{
    size_t n = (size_t)ws->f_len;
    ws->burst += n + 16;
    if (ws->f_op == 9) { /* ping: the pong carries the same bytes */
        struct wslay_event_msg m = {WSLAY_PONG, ws->ctl, n};
        int r = wslay_event_queue_msg(ws->wctx, &m);
        if (r == WSLAY_ERR_NOMEM) tvk_ws_peer_error(ws, TVK_ENOMEM, 1011, "out of memory");
        return 0;
    }
    if (ws->f_op == 10) {
        unsigned char want[8];
        for (int i = 0; i < 8; i++)
            want[i] = (unsigned char)(ws->ping_seq >> (56 - 8 * i));
        if (ws->pong_deadline >= 0 && n == 8 && memcmp(ws->ctl, want, 8) == 0) {
            ws->pong_deadline = -1;
            int64_t now = tvk_now_ms(), next = ws->last_ping + ws->ping_interval_ms;
            ws->next_ping = next > now ? next : now;
        }
        return 0;
    }
    /* close */
    unsigned code = 0;
    if (n == 1) return proto(ws, 1002, "bad close frame: one-byte body");
    if (n >= 2) {
        code = (unsigned)ws->ctl[0] << 8 | ws->ctl[1];
        if (!valid_close_code(code)) return proto(ws, 1002, "bad close frame: invalid close code");
        if (tvk_net_utf8_check(ws->ctl + 2, n - 2) < n - 2)
            return proto(ws, 1007, "invalid UTF-8 in a close reason");
    }
    ws->close_rcvd = 1;
    ws->rd_on = 0;
    ws->info.close_code = code ? (int)code : 1005;
    if (ws->state == TVK_WS_OPEN) ws->state = TVK_WS_CLOSING;
    if (ws->close_deadline < 0) ws->close_deadline = tvk_now_ms() + ws->close_timeout_ms;
    /* the reply echoes the code and reason (nothing is queued once our own close is) */
    wslay_event_queue_close(ws->wctx, (uint16_t)code, n > 2 ? ws->ctl + 2 : NULL,
                            n > 2 ? n - 2 : 0);
    return 0;
}

static int stop_here(const tvk_ws *ws)
{
    if (ws->on_message || ws->close_initiated) return ws->burst >= ws->max_queued;
    return tvk_rx_queued(ws) >= ws->max_queued;
}

int tvk_ws_read_frames(tvk_ws *ws)
{
    ws->burst = 0;
    size_t readin = 0;
    while (ws->rd_on && !ws->fail_pending && !ws->err) {
        if (ws->ilen == 0) {
            if (stop_here(ws) || readin >= ws->max_queued + TVK_IBUF_CAP) return 0;
            ssize_t n = tvk_net_io_read(ws, ws->ibuf, ws->ibufcap);
            if (n == TVK_EAGAIN) return 0;
            if (n == 0) {
                ws->eof = 1;
                return 0;
            }
            if (n < 0) return (int)n;
            ws->ioff = 0;
            ws->ilen = (size_t)n;
            readin += (size_t)n;
        }
        unsigned char *p = (unsigned char *)ws->ibuf + ws->ioff;
        if (!ws->f_inframe) {
            /* header: 2 bytes, then the extended length and the mask key they announce */
            size_t need = 2;
            if (ws->fhlen >= 2) {
                unsigned l7 = ws->fh[1] & 0x7f;
                need += (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + (ws->fh[1] & 0x80 ? 4 : 0);
            }
            size_t k = need - ws->fhlen < ws->ilen ? need - ws->fhlen : ws->ilen;
            memcpy(ws->fh + ws->fhlen, p, k);
            ws->fhlen += k;
            ws->ioff += k;
            ws->ilen -= k;
            if (ws->fhlen < need) continue;
            if (need == 2 && ((ws->fh[1] & 0x7f) >= 126 || (ws->fh[1] & 0x80))) continue;
            ws->fhlen = 0;
            frame_start(ws);
            if (ws->fail_pending) break;
            ws->f_inframe = 1;
            p = (unsigned char *)ws->ibuf + ws->ioff;
        }
        uint64_t left = ws->f_len - ws->f_off;
        size_t k = left < ws->ilen ? (size_t)left : ws->ilen;
        if (k) {
            if (ws->f_masked) unmask(p, k, ws->fmask, ws->f_off);
            payload(ws, p, k);
            ws->f_off += k;
            ws->ioff += k;
            ws->ilen -= k;
            if (ws->fail_pending) break;
        }
        if (ws->f_off < ws->f_len) continue;
        ws->f_inframe = 0;
        if (ws->m_ctrl)
            control_end(ws);
        else if (ws->m_fin)
            message_end(ws);
        if (!ws->fail_pending && stop_here(ws)) return 0;
    }
    return 0;
}
