/* Framing: "~m~<N>~m~<payload>" packets out of one WebSocket message (tvk_reader), and the
 * encoder (tvk_frame). N is taken as bytes first; when the byte after the payload is neither the
 * end nor "~m~", it is retried as code points, then as UTF-16 units (PROTOCOL.md section 2). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "internal.h"

#define MAX_LEN_DIGITS 10

int tvk_frame(tvk_buf *b, const char *payload, size_t len)
{
    char hdr[48];
    int n = snprintf(hdr, sizeof hdr, "~m~%zu~m~", len);
    int rc = tvk_buf_reserve(b, (size_t)n + len);
    if (rc) return rc;
    tvk_buf_append(b, hdr, (size_t)n);
    return tvk_buf_append(b, payload, len);
}

int tvk_frame_heartbeat(tvk_buf *b, int64_t k)
{
    char body[32];
    int n = snprintf(body, sizeof body, "~h~%lld", (long long)k);
    return tvk_frame(b, body, (size_t)n);
}

void tvk_reader_set_err(tvk_reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
}

tvk_reader *tvk_reader_new(size_t max_message)
{
    tvk_reader *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->max_message = max_message ? max_message : TVK_DEFAULT_MAX_MESSAGE;
    r->json = tvk_json_new();
    if (!r->json) {
        free(r);
        return NULL;
    }
    return r;
}

void tvk_reader_free(tvk_reader *r)
{
    if (!r) return;
    tvk_json_free(r->json);
    free(r);
}

void tvk_reader_trim(tvk_reader *r, size_t keep_bytes)
{
    if (r) tvk__json_trim(r->json, keep_bytes);
}

size_t tvk_reader_buffer_bytes(const tvk_reader *r)
{
    return r ? tvk__json_buffer_bytes(r->json) : 0;
}

int tvk_reader_feed(tvk_reader *r, const char *msg, size_t len)
{
    r->msg = msg;
    r->len = len;
    r->pos = 0;
    r->active = 0;
    r->err[0] = '\0';
    r->st.messages++;
    if (len > r->max_message) {
        r->st.errors++;
        tvk_reader_set_err(r, "message of %zu bytes exceeds the limit of %zu bytes", len,
                           r->max_message);
        return TVK_EFRAME_TOOBIG;
    }
    if (len && !msg) return TVK_EINVAL;
    r->st.bytes += len;
    r->active = len > 0;
    return 0;
}

const char *tvk_reader_errmsg(const tvk_reader *r)
{
    return r->err;
}

void tvk_reader_stats_get(const tvk_reader *r, tvk_reader_stats *st)
{
    *st = r->st;
}

static inline int mark_at(const char *p, const char *end)
{
    return end - p >= 3 && tvk__ld2(p) == tvk__ld2("~m") && p[2] == '~';
}

/* The usual head "~m~<1..5 digits>~m~" with 16 bytes or more left from p (so read without end
 * tests): its length into *n and the payload's start, or NULL for anything else, which the
 * byte-wise reading below then takes or reports. */
static inline const char *head_fast(const char *p, unsigned long long *n)
{
    if (!mark_at(p, p + 3)) return NULL;
    const unsigned char *d = (const unsigned char *)p + 3;
    unsigned long long v = 0;
    unsigned k = 0, c;
    while (k < 5 && (c = (unsigned)(d[k] - '0')) <= 9) {
        v = v * 10 + c;
        k++;
    }
    if (!k || !mark_at(p + 3 + k, p + 6 + k)) return NULL;
    *n = v;
    return p + 6 + k;
}

/* Byte position after `units` characters from p, counting a 4-byte UTF-8 sequence as
 * `wide` units; NULL when the message ends first. Invalid bytes count as one character each,
 * so malformed text still advances. */
static const char *walk(const char *p, const char *end, uint64_t units, unsigned wide)
{
    const unsigned char *u = (const unsigned char *)p, *e = (const unsigned char *)end;
    while (units) {
        if (u >= e) return NULL;
        unsigned c = *u;
        size_t l = c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF8 ? 4 : 1;
        unsigned w = l == 4 ? wide : 1;
        if (w > units) return NULL; /* N ends inside a surrogate pair */
        size_t k = 1;
        while (k < l && u + k < e && (u[k] & 0xC0) == 0x80)
            k++;
        u += k;
        units -= w;
    }
    return (const char *)u;
}

static int fail(tvk_reader *r, int code, size_t at, const char *what, unsigned long long n)
{
    r->active = 0;
    r->st.errors++;
    switch (code) {
    case TVK_EFRAME_LENDIGITS:
        tvk_reader_set_err(r, "offset %zu: length prefix has more than %d digits", at,
                           MAX_LEN_DIGITS);
        break;
    case TVK_EFRAME_LENPAST:
        tvk_reader_set_err(
            r, "offset %zu: length %llu runs past the end of the message (%zu bytes left)", at, n,
            r->len - at);
        break;
    case TVK_EFRAME_LENGTH:
        tvk_reader_set_err(r,
                           "offset %zu: length %llu fits none of bytes, code points, UTF-16 units "
                           "(no \"~m~\" or end after the payload)",
                           at, n);
        break;
    default:
        tvk_reader_set_err(r, "offset %zu: %s", at, what);
        break;
    }
    return code;
}

int tvk_reader_next(tvk_reader *r, tvk_packet *pkt)
{
    if (!r->active || r->pos >= r->len) {
        r->active = 0;
        return 0;
    }
    const char *base = r->msg, *end = r->msg + r->len;
    const char *p = base + r->pos, *ph;
    size_t off = r->pos;
    unsigned long long n = 0;
    if (end - p >= 16 && (ph = head_fast(p, &n)) != NULL) {
        p = ph;
    } else {
        if (!mark_at(p, end))
            return fail(r, TVK_EFRAME_NOMARK, off, "expected \"~m~\" at the start of a packet", 0);
        p += 3;
        const char *d = p;
        while (p < end && (unsigned)(*p - '0') <= 9) {
            if (p - d == MAX_LEN_DIGITS) return fail(r, TVK_EFRAME_LENDIGITS, off + 3, NULL, 0);
            n = n * 10 + (unsigned)(*p - '0');
            p++;
        }
        if (p == d)
            return fail(r, TVK_EFRAME_NOMARK, off + 3, "expected length digits after \"~m~\"", 0);
        if (!mark_at(p, end))
            return fail(r, TVK_EFRAME_NOMARK, (size_t)(p - base),
                        "expected \"~m~\" after the length prefix", 0);
        p += 3;
    }
    size_t poff = (size_t)(p - base);
    if (n == 0) return fail(r, TVK_EFRAME_EMPTY, poff, "packet with an empty payload", 0);
    if (n > (unsigned long long)(end - p)) return fail(r, TVK_EFRAME_LENPAST, poff, NULL, n);
    const char *q = p + n;
    tvk_len_unit unit = TVK_LEN_BYTES;
    if (q != end && !mark_at(q, end)) {
        q = walk(p, end, n, 1);
        unit = TVK_LEN_CODEPOINTS;
        if (!q || (q != end && !mark_at(q, end))) {
            q = walk(p, end, n, 2);
            unit = TVK_LEN_UTF16;
            if (!q || (q != end && !mark_at(q, end)))
                return fail(r, TVK_EFRAME_LENGTH, poff, NULL, n);
        }
    }
    pkt->data = p;
    pkt->len = (size_t)(q - p);
    pkt->offset = off;
    pkt->unit = unit;
    pkt->heartbeat = 0;
    r->pos = (size_t)(q - base);
    r->st.packets++;
    if (pkt->len >= 3 && p[0] == '~' && p[1] == 'h' && p[2] == '~') {
        pkt->kind = TVK_PKT_HEARTBEAT;
        const char *h = p + 3;
        int64_t k = 0;
        int nd = 0;
        while (h < q && (unsigned)(*h - '0') <= 9 && nd < 18) {
            k = k * 10 + (*h - '0');
            h++;
            nd++;
        }
        r->st.heartbeats++;
        if (h != q || nd == 0) {
            /* The framing is intact, so only this packet is bad: the reader goes on. */
            r->st.errors++;
            tvk_reader_set_err(r, "offset %zu: heartbeat \"%.*s\" is not ~h~<1-18 digits>", off,
                               (int)(pkt->len > 40 ? 40 : pkt->len), p);
            return TVK_ENUMBER;
        }
        pkt->heartbeat = k;
    } else {
        pkt->kind = TVK_PKT_JSON;
    }
    return 1;
}
