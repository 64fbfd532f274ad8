/* Shared helpers of the client tests without a network: server packets fed as strings (each goes
 * through the path of a received WebSocket message: framing, parse, route), and a series opened
 * in one call. Include after cmocka.h and client/client.h, with _GNU_SOURCE defined
 * (vasprintf). */
#ifndef TVK_TESTS_CLIENT_FEED_H
#define TVK_TESTS_CLIENT_FEED_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One WebSocket message holding one packet, the payload formatted as printf does. */
static inline void feedf(tvk_conn *c, const char *fmt, ...)
{
    char *p = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&p, fmt, ap);
    va_end(ap);
    assert_true(n > 0);
    tvk_buf b;
    tvk_buf_init(&b);
    assert_int_equal(tvk_frame(&b, p, (size_t)n), 0);
    tvk__conn_feed(c, b.data, b.len);
    tvk_buf_free(&b);
    free(p);
}

/* A series of n bars of sym at interval iv (live: keep streaming after the history). */
static inline tvk_series *open_series(tvk_conn *c, const char *sym, const char *iv, int64_t n,
                                      int live)
{
    tvk_series_req r;
    tvk_series_req_init(&r);
    r.symbol = sym;
    r.interval = iv;
    r.count = n;
    r.live = live;
    tvk_series *s;
    assert_int_equal(tvk_series_open(c, &r, &s), 0);
    return s;
}

#endif
