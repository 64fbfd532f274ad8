/* Shared by the wire tests: a seeded random source, the one-byte mutations of a document, and
 * the packets of the framed capture files. */
#ifndef TVK_WIRE_TESTUTIL_H
#define TVK_WIRE_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tvkit/wire.h"

/* xorshift64: a fixed sequence, so a failure reproduces. */
static inline unsigned wt_rnd(uint64_t *s, unsigned n)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (unsigned)(*s % n);
}

/* Calls fn with every deletion of one byte of doc and every replacement and insertion of one
 * byte from subst, at every position. Returns how many variants there were. */
static inline long wt_each_mutation(const char *doc, size_t n, const unsigned char *subst,
                                    size_t nsubst, void (*fn)(void *ctx, const char *p, size_t n),
                                    void *ctx)
{
    tvk_buf v;
    tvk_buf_init(&v);
    long variants = 0;
    for (size_t i = 0; i <= n; i++)
        for (int op = 0; op < 3; op++) /* delete, replace, insert */
            for (size_t c = 0; c < (op == 0 ? 1 : nsubst); c++) {
                if (op != 2 && i == n) continue;
                tvk_buf_reset(&v);
                tvk_buf_append(&v, doc, i);
                if (op) tvk_buf_append(&v, &subst[c], 1);
                size_t from = op == 2 ? i : i + 1;
                tvk_buf_append(&v, doc + from, n - from);
                fn(ctx, v.data ? v.data : "", v.len);
                variants++;
            }
    tvk_buf_free(&v);
    return variants;
}

/* Calls fn with every packet of the framed capture files (one message per line). 0, or -1 when
 * a file cannot be opened or a line does not frame (*bad names the file). */
static inline int wt_each_capture_packet(const char *dir, const char *const *files, size_t nfiles,
                                         void (*fn)(void *ctx, const tvk_packet *p), void *ctx,
                                         const char **bad)
{
    tvk_reader *r = tvk_reader_new(0);
    int rc = r ? 0 : -1;
    for (size_t f = 0; f < nfiles && rc == 0; f++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, files[f]);
        *bad = files[f];
        FILE *fp = fopen(path, "rb");
        if (!fp) {
            rc = -1;
            break;
        }
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while (rc == 0 && (n = getline(&line, &cap, fp)) > 0) {
            while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                n--;
            if (n < 3 || memcmp(line, "~m~", 3)) continue;
            tvk_packet pkt;
            int k;
            if (tvk_reader_feed(r, line, (size_t)n)) rc = -1;
            while (rc == 0 && (k = tvk_reader_next(r, &pkt)) == 1)
                fn(ctx, &pkt);
            if (rc == 0 && k != 0) rc = -1;
        }
        free(line);
        fclose(fp);
    }
    tvk_reader_free(r);
    return rc;
}

#endif
