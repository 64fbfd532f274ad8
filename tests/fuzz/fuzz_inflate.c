/* Fuzz target "inflate": the permessage-deflate receive path of the net layer (src/net/deflate.c:
 * tvk_pmd_inflate_begin / tvk_pmd_inflate / tvk_pmd_inflate_end, as ws.c calls them per frame
 * chunk and per message), and its round trip with tvk_pmd_compress.
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

typedef struct side {
    tvk_pmd pmd;
    char *buf;
    size_t len, cap;
    int dead; /* the connection would be closed after an error */
} side;

static void side_init(side *s, int no_ctx, int bits)
{
    memset(s, 0, sizeof *s);
    s->pmd.on = 1;
    s->pmd.server_no_ctx = s->pmd.client_no_ctx = no_ctx;
    s->pmd.server_bits = s->pmd.client_bits = bits;
}

static void side_free(side *s)
{
    tvk_pmd_free(&s->pmd);
    free(s->buf);
}

/* One message as ws.c receives it: begin, a chunk per frame piece, end. */
static int receive(side *s, int server, const uint8_t *m, size_t n, size_t chunk, size_t max)
{
    char err[160];
    err[0] = '\0';
    s->len = 0;
    int rc = tvk_pmd_inflate_begin(&s->pmd);
    if (rc) return rc;
    for (size_t off = 0; off < n && rc == 0;) {
        size_t k = n - off < chunk ? n - off : chunk;
        rc = tvk_pmd_inflate(&s->pmd, m + off, k, &s->buf, &s->len, &s->cap, max, err, sizeof err);
        off += k;
    }
    if (rc == 0)
        rc = tvk_pmd_inflate_end(&s->pmd, server, &s->buf, &s->len, &s->cap, max, err, sizeof err);
    if (rc == 0) FUZZ_CHECK(s->len <= max);
    if (rc) {
        FUZZ_CHECK(rc == TVK_EINFLATE || rc == TVK_EMSG_TOOBIG || rc == TVK_ENOMEM);
        FUZZ_CHECK(err[0] != '\0');
        s->dead = 1;
    }
    return rc;
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
    side_init(&whole, no_ctx, bits);
    side_init(&pieces, no_ctx, bits);
    for (size_t i = 0; i < nmsg && !whole.dead && !pieces.dead; i++) {
        int a = receive(&whole, server, msgs[i], lens[i], lens[i] ? lens[i] : 1, max);
        int b = receive(&pieces, server, msgs[i], lens[i], chunk, max);
        FUZZ_CHECK((a == 0) == (b == 0));
        if (a == 0)
            FUZZ_CHECK(whole.len == pieces.len && !memcmp(whole.buf, pieces.buf, whole.len));
    }
    side_free(&whole);
    side_free(&pieces);

    /* The same bytes as plain text: what our deflater sends, our inflater gives back. The
     * sender has the other role: a server inflates what a client deflated. */
    side tx, rx;
    side_init(&tx, no_ctx, bits);
    side_init(&rx, no_ctx, bits);
    for (size_t i = 0; i < nmsg; i++) {
        if (lens[i] == 0) continue; /* ws.c sends empty messages uncompressed */
        unsigned char *z = NULL;
        size_t zl = 0;
        int rc = tvk_pmd_compress(&tx.pmd, !server, (const char *)msgs[i], lens[i], &z, &zl);
        if (rc == TVK_ENOMEM) break;
        FUZZ_CHECK(rc == 0);
        rc = receive(&rx, server, z, zl, chunk, max);
        free(z);
        if (lens[i] > max) {
            FUZZ_CHECK(rc == TVK_EMSG_TOOBIG || rc == TVK_ENOMEM);
            break;
        }
        if (rc == TVK_ENOMEM) break;
        FUZZ_CHECK(rc == 0);
        FUZZ_CHECK(rx.len == lens[i] && !memcmp(rx.buf, msgs[i], lens[i]));
    }
    side_free(&tx);
    side_free(&rx);
    return 0;
}
