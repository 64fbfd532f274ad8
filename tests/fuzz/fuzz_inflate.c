/* Fuzz target "inflate": the permessage-deflate receive path of the net layer (src/net/deflate.c:
 * tvk_pmd_inflate_begin / tvk_pmd_inflate / tvk_pmd_inflate_end, as ws.c calls them per frame
 * chunk and per message, inflating into the receive buffer of src/net/rx.c), and its round trip
 * with tvk_pmd_compress.
 * Input: byte 0 = flags (bit 0: we are the server, bit 1: the sender resets its context per
 * message, bits 2-4: the sender's window bits - 8), byte 1 = the message limit (1 KiB << (b % 8))
 * and how the frames are chunked, then messages, each a 2-byte little-endian length and that
 * many bytes (the last one takes what is left).
 * Properties: output never passes the limit; errors leave a message and end the connection;
 * chunking does not change the result; what tvk_pmd_compress sends inflates back exactly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/internal.h"

#include "fuzz_check.h"

#define MAX_MSGS 16

/* One receiving (or sending) end: a handle as the upgrade leaves it, used only for its pmd
 * streams and its receive buffer (src/net/rx.c), where inflated bytes land. */
typedef struct side {
    tvk_ws *ws;
    const char *msg; /* the last message received, valid until the next receive */
    size_t len;
    int dead; /* the connection would be closed after an error */
} side;

static int side_init(side *s, int server, int no_ctx, int bits, size_t max)
{
    memset(s, 0, sizeof *s);
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    o.url = "ws://fuzz.invalid/";
    o.max_message = max;
    s->ws = tvk_ws_new(&o);
    if (!s->ws) return -1;
    s->ws->server = server;
    tvk_pmd *p = &s->ws->pmd;
    p->on = 1;
    p->server_no_ctx = p->client_no_ctx = no_ctx;
    p->server_bits = p->client_bits = bits;
    return 0;
}

static void side_free(side *s)
{
    tvk_ws_free(s->ws);
}

/* One message as ws.c receives it: begin, a chunk per frame piece, end, then it is queued and
 * taken out as tvk_ws_recv does. */
static int receive(side *s, const uint8_t *m, size_t n, size_t chunk, size_t max)
{
    char err[160];
    err[0] = '\0';
    tvk_ws *ws = s->ws;
    ws->mlen = 0;
    int rc = tvk_pmd_inflate_begin(&ws->pmd);
    if (rc) return rc;
    for (size_t off = 0; off < n && rc == 0;) {
        size_t k = n - off < chunk ? n - off : chunk;
        rc = tvk_pmd_inflate(ws, m + off, k, err, sizeof err);
        off += k;
    }
    if (rc == 0) rc = tvk_pmd_inflate_end(ws, err, sizeof err);
    if (rc) {
        FUZZ_CHECK(rc == TVK_EINFLATE || rc == TVK_EMSG_TOOBIG || rc == TVK_ENOMEM);
        FUZZ_CHECK(err[0] != '\0');
        s->dead = 1;
        return rc;
    }
    FUZZ_CHECK(ws->mlen <= max);
    size_t len = ws->mlen;
    if ((rc = tvk_rx_finish(ws)) != 0) return rc;
    FUZZ_CHECK(tvk_rx_pop(ws, &s->msg, &s->len) == 1);
    FUZZ_CHECK(s->len == len && s->msg[len] == '\0');
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    int server = data[0] & 1, no_ctx = (data[0] >> 1) & 1, bits = 8 + ((data[0] >> 2) & 7);
    size_t max = (size_t)1024 << (data[1] % 8);
    size_t chunk = 1 + (size_t)(data[1] >> 4) * 37;

    const uint8_t *msgs[MAX_MSGS];
    size_t lens[MAX_MSGS], nmsg = 0;
    for (size_t off = 2; off < size && nmsg < MAX_MSGS;) {
        size_t n = size - off >= 2 ? (size_t)data[off] | (size_t)data[off + 1] << 8 : 0;
        off += size - off >= 2 ? 2 : size - off;
        if (n > size - off) n = size - off;
        msgs[nmsg] = data + off;
        lens[nmsg++] = n;
        off += n;
    }

    /* Arbitrary bytes as compressed messages: whole, and in chunks, must agree. */
    side whole, pieces;
    if (side_init(&whole, server, no_ctx, bits, max) == 0) {
        if (side_init(&pieces, server, no_ctx, bits, max) == 0) {
            for (size_t i = 0; i < nmsg && !whole.dead && !pieces.dead; i++) {
                int a = receive(&whole, msgs[i], lens[i], lens[i] ? lens[i] : 1, max);
                int b = receive(&pieces, msgs[i], lens[i], chunk, max);
                FUZZ_CHECK((a == 0) == (b == 0));
                if (a == 0)
                    FUZZ_CHECK(whole.len == pieces.len &&
                               !memcmp(whole.msg, pieces.msg, whole.len));
            }
            side_free(&pieces);
        }
        side_free(&whole);
    }

    /* The same bytes as plain text: what our deflater sends, our inflater gives back. The
     * sender has the other role: a server inflates what a client deflated. */
    side tx, rx;
    if (side_init(&tx, !server, no_ctx, bits, max) != 0) return 0;
    if (side_init(&rx, server, no_ctx, bits, max) != 0) {
        side_free(&tx);
        return 0;
    }
    for (size_t i = 0; i < nmsg; i++) {
        if (lens[i] == 0) continue; /* ws.c sends empty messages uncompressed */
        unsigned char *z = NULL;
        size_t zl = 0;
        int rc = tvk_pmd_compress(&tx.ws->pmd, !server, (const char *)msgs[i], lens[i], &z, &zl);
        if (rc == TVK_ENOMEM) break;
        FUZZ_CHECK(rc == 0);
        rc = receive(&rx, z, zl, chunk, max);
        free(z);
        if (lens[i] > max) {
            FUZZ_CHECK(rc == TVK_EMSG_TOOBIG || rc == TVK_ENOMEM);
            break;
        }
        if (rc == TVK_ENOMEM) break;
        FUZZ_CHECK(rc == 0);
        FUZZ_CHECK(rx.len == lens[i] && !memcmp(rx.msg, msgs[i], lens[i]));
    }
    side_free(&tx);
    side_free(&rx);
    return 0;
}
