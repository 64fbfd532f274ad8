/* Shared by the wire tests: a seeded random source, the one-byte mutations of a document, the
 * captures directory argument, the lines of a capture file and the packets of the framed ones. */
#ifndef TVK_WIRE_TESTUTIL_H
#define TVK_WIRE_TESTUTIL_H

#include <errno.h>
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

/* The captures directory: argv[1], else $TVK_CAPTURES; NULL (after a usage line) when neither. */
static inline const char *wt_captures_dir(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : getenv("TVK_CAPTURES");
    if (!dir) fprintf(stderr, "usage: %s CAPTURES_DIR (or TVK_CAPTURES set)\n", argv[0]);
    return dir;
}

/* Longer than any capture line (the longest is 451 KB); a longer one is an error, not a test
 * that eats the machine's memory. */
#define WT_LINE_MAX ((size_t)64 << 20)

/* One line of a file, without its line end; n may be 0. Nonzero stops the reading. */
typedef int (*wt_line_fn)(void *ctx, const char *line, size_t n);

/* Calls fn with each line of the file dir/file in order, "\n" or "\r\n" ended or not ended at
 * the end of the file, the ending stripped. Returns 0 after the last line, fn's first nonzero
 * return, or -1 with a line on stderr naming the file (and the line) when it cannot be opened or
 * read, a line is longer than WT_LINE_MAX, or memory runs out. Holds one line at a time. */
static inline int wt_each_line(const char *dir, const char *file, wt_line_fn fn, void *ctx)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, file) >= sizeof path) {
        fprintf(stderr, "%s/%s: path too long\n", dir, file);
        return -1;
    }
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t n = 0, cap = 0;
    long lineno = 1;
    int rc = 0, c;
    while (rc == 0 && ((c = getc_unlocked(fp)) != EOF || n)) {
        if (c != '\n' && c != EOF) {
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 4096;
                char *p = ncap <= WT_LINE_MAX ? realloc(line, ncap) : NULL;
                if (!p) {
                    fprintf(stderr, "%s:%ld: %s\n", path, lineno,
                            ncap > WT_LINE_MAX ? "line too long" : "out of memory");
                    rc = -1;
                    break;
                }
                line = p;
                cap = ncap;
            }
            line[n++] = (char)c;
            continue;
        }
        while (n && line[n - 1] == '\r')
            n--;
        rc = fn(ctx, n ? line : "", n);
        n = 0;
        lineno++;
    }
    if (rc == 0 && ferror(fp)) {
        fprintf(stderr, "%s:%ld: read error: %s\n", path, lineno, strerror(errno));
        rc = -1;
    }
    free(line);
    fclose(fp);
    return rc;
}

typedef struct wt_packets {
    tvk_reader *r;
    void (*fn)(void *ctx, const tvk_packet *p);
    void *ctx;
} wt_packets;

static inline int wt_packets_line(void *ctx, const char *line, size_t n)
{
    wt_packets *w = ctx;
    if (n < 3 || memcmp(line, "~m~", 3)) return 0;
    tvk_packet pkt;
    int k;
    if (tvk_reader_feed(w->r, line, n)) return -1;
    while ((k = tvk_reader_next(w->r, &pkt)) == 1)
        w->fn(w->ctx, &pkt);
    return k == 0 ? 0 : -1;
}

/* Calls fn with every packet of the framed capture files (one message per line). 0, or -1 when
 * a file cannot be read or a line does not frame (*bad names the file). */
static inline int wt_each_capture_packet(const char *dir, const char *const *files, size_t nfiles,
                                         void (*fn)(void *ctx, const tvk_packet *p), void *ctx,
                                         const char **bad)
{
    wt_packets w = {tvk_reader_new(0), fn, ctx};
    int rc = w.r ? 0 : -1;
    *bad = "(no reader: out of memory)";
    for (size_t f = 0; f < nfiles && rc == 0; f++) {
        *bad = files[f];
        rc = wt_each_line(dir, files[f], wt_packets_line, &w) ? -1 : 0;
    }
    tvk_reader_free(w.r);
    return rc;
}

#endif
