/* Unaligned word loads and the equality of short texts, for the hot paths of the wire layer's
 * readers and of the client's quote book (session ids, symbols, field names, the fixed parts of
 * a packet: a few bytes each, once or more per packet). Two overlapping loads of 8, 4 or 2
 * bytes a side compare n bytes without a libc call; longer texts go to memcmp. */
#ifndef TVK_WIRE_BYTES_H
#define TVK_WIRE_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t tvk__ld8(const void *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static inline uint32_t tvk__ld4(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static inline uint16_t tvk__ld2(const void *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

/* The n bytes at a and b are the same. */
static inline int tvk__eq_small(const void *a, const void *b, size_t n)
{
    const char *p = a, *q = b;
    if (n >= 8 && n <= 16)
        return tvk__ld8(p) == tvk__ld8(q) && tvk__ld8(p + n - 8) == tvk__ld8(q + n - 8);
    if (n >= 4 && n < 8)
        return tvk__ld4(p) == tvk__ld4(q) && tvk__ld4(p + n - 4) == tvk__ld4(q + n - 4);
    if (n >= 2 && n < 4)
        return tvk__ld2(p) == tvk__ld2(q) && tvk__ld2(p + n - 2) == tvk__ld2(q + n - 2);
    if (n < 2) return !n || p[0] == q[0];
    return !memcmp(p, q, n);
}

#endif
