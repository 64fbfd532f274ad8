/* Fuzz target "reader": the framing reader (tvk_reader_feed / tvk_reader_next) on one
 * WebSocket message. Properties: packets tile the message in order with no gap, every payload
 * lies inside it, errors leave a message, and re-framing the payloads by bytes reads back the
 * same packets. */
#include <stdint.h>
#include <string.h>

#include "tvkit/wire.h"

#include "fuzz_check.h"

#define MAX_PACKETS 100000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *msg = (const char *)data;
    tvk_reader *r = tvk_reader_new(0);
    if (!r) return 0;
    tvk_buf again;
    tvk_buf_init(&again);
    FUZZ_CHECK(tvk_reader_feed(r, msg, size) == 0);

    size_t expect_off = 0, npk = 0, nheart = 0, nframed = 0;
    tvk_packet p;
    int rc;
    while ((rc = tvk_reader_next(r, &p)) != 0) {
        FUZZ_CHECK(++npk <= size); /* each packet consumes at least 5 bytes */
        if (rc < 0 && rc != TVK_ENUMBER) {
            FUZZ_CHECK(tvk_reader_errmsg(r)[0] != '\0');
            /* the rest of the message is dropped */
            FUZZ_CHECK(tvk_reader_next(r, &p) == 0);
            break;
        }
        FUZZ_CHECK(p.offset == expect_off);
        FUZZ_CHECK(p.data > msg + p.offset && p.len > 0);
        FUZZ_CHECK(p.data + p.len <= msg + size);
        FUZZ_CHECK(p.unit == TVK_LEN_BYTES || p.unit == TVK_LEN_CODEPOINTS ||
                   p.unit == TVK_LEN_UTF16);
        size_t end = (size_t)(p.data + p.len - msg);
        /* the next packet starts right after the payload, or the message ends there */
        FUZZ_CHECK(end == size || (size - end >= 3 && !memcmp(msg + end, "~m~", 3)));
        expect_off = end;
        if (rc == TVK_ENUMBER) {
            FUZZ_CHECK(p.kind == TVK_PKT_HEARTBEAT);
            FUZZ_CHECK(tvk_reader_errmsg(r)[0] != '\0');
        } else if (p.kind == TVK_PKT_HEARTBEAT) {
            FUZZ_CHECK(p.len > 3 && p.heartbeat >= 0);
            nheart++;
        } else {
            FUZZ_CHECK(p.kind == TVK_PKT_JSON);
        }
        if (tvk_frame(&again, p.data, p.len) != 0) goto out;
        nframed++;
        if (npk > MAX_PACKETS) break;
    }

    /* Re-framed by bytes, the same payloads come back, all counted in bytes. */
    if (again.len) {
        tvk_reader_stats st0, st1;
        tvk_reader_stats_get(r, &st0);
        FUZZ_CHECK(tvk_reader_feed(r, again.data, again.len) == 0);
        size_t n2 = 0, h2 = 0;
        while ((rc = tvk_reader_next(r, &p)) != 0) {
            FUZZ_CHECK(rc == 1 || rc == TVK_ENUMBER);
            FUZZ_CHECK(p.unit == TVK_LEN_BYTES);
            if (rc == 1 && p.kind == TVK_PKT_HEARTBEAT) h2++;
            n2++;
        }
        FUZZ_CHECK(n2 == nframed && h2 == nheart);
        tvk_reader_stats_get(r, &st1);
        FUZZ_CHECK(st1.messages == st0.messages + 1);
        FUZZ_CHECK(st1.packets == st0.packets + n2);
    }

    /* A message over the limit yields nothing and says so. */
    if (size > 1) {
        tvk_reader *small = tvk_reader_new(size - 1);
        if (small) {
            FUZZ_CHECK(tvk_reader_feed(small, msg, size) == TVK_EFRAME_TOOBIG);
            FUZZ_CHECK(tvk_reader_next(small, &p) == 0);
            FUZZ_CHECK(tvk_reader_errmsg(small)[0] != '\0');
            tvk_reader_free(small);
        }
    }
out:
    tvk_buf_free(&again);
    tvk_reader_free(r);
    return 0;
}
