/* Framing: the encoder, packets of one message, the three length conventions, every framing
 * error and recovery after it, and truncation at every byte (run under ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tvkit/wire.h"

static size_t count_codepoints(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static size_t count_utf16(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char u = (unsigned char)s[i];
        if ((u & 0xC0) != 0x80) c += u >= 0xF0 ? 2 : 1;
    }
    return c;
}

static void frame_with(tvk_buf *b, size_t n, const char *payload)
{
    assert_int_equal(tvk_buf_printf(b, "~m~%zu~m~%s", n, payload), 0);
}

static void test_wire_frame_encode(void **state)
{
    (void)state;
    tvk_buf b;
    tvk_buf_init(&b);
    assert_int_equal(tvk_frame(&b, "abc", 3), 0);
    assert_string_equal(b.data, "~m~3~m~abc");
    assert_int_equal(tvk_frame_heartbeat(&b, 7), 0);
    assert_string_equal(b.data, "~m~3~m~abc~m~4~m~~h~7");
    tvk_buf_reset(&b);
    assert_int_equal(tvk_frame_heartbeat(&b, 10), 0);
    assert_string_equal(b.data, "~m~5~m~~h~10");
    tvk_buf_free(&b);
}

static void test_wire_frame_packets(void **state)
{
    (void)state;
    const char *msg = "~m~4~m~~h~1~m~9~m~{\"m\":\"x\"}~m~11~m~{\"a\":[1,2]}~m~5~m~~h~12";
    tvk_reader *r = tvk_reader_new(0);
    assert_non_null(r);
    assert_int_equal(tvk_reader_feed(r, msg, strlen(msg)), 0);
    tvk_packet p;
    assert_int_equal(tvk_reader_next(r, &p), 1);
    assert_int_equal(p.kind, TVK_PKT_HEARTBEAT);
    assert_int_equal(p.heartbeat, 1);
    assert_int_equal(p.offset, 0);
    assert_int_equal(p.len, 4);
    assert_memory_equal(p.data, "~h~1", 4);
    assert_int_equal(tvk_reader_next(r, &p), 1);
    assert_int_equal(p.kind, TVK_PKT_JSON);
    assert_int_equal(p.offset, 11);
    assert_int_equal(p.len, 9);
    assert_memory_equal(p.data, "{\"m\":\"x\"}", 9);
    assert_int_equal(p.unit, TVK_LEN_BYTES);
    assert_int_equal(tvk_reader_next(r, &p), 1);
    assert_int_equal(p.len, 11);
    assert_int_equal(tvk_reader_next(r, &p), 1);
    assert_int_equal(p.kind, TVK_PKT_HEARTBEAT);
    assert_int_equal(p.heartbeat, 12);
    assert_int_equal(tvk_reader_next(r, &p), 0);
    assert_int_equal(tvk_reader_next(r, &p), 0);
    tvk_reader_stats st;
    tvk_reader_stats_get(r, &st);
    assert_int_equal(st.messages, 1);
    assert_int_equal(st.packets, 4);
    assert_int_equal(st.heartbeats, 2);
    assert_int_equal(st.errors, 0);
    assert_int_equal(st.bytes, strlen(msg));
    /* An empty message yields nothing. */
    assert_int_equal(tvk_reader_feed(r, "", 0), 0);
    assert_int_equal(tvk_reader_next(r, &p), 0);
    tvk_reader_free(r);
}

/* Non-ASCII payloads framed with N counted in bytes, code points and UTF-16 units, each as the
 * only packet, followed by another packet, and preceded by one. */
static void test_wire_frame_length_units(void **state)
{
    (void)state;
    const char *payloads[] = {
        "{\"m\":\"x\",\"p\":[\"caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac\"]}",
        "{\"d\":\"Ng\xc3\xa2n h\xc3\xa0ng TMCP Ngo\xe1\xba\xa1i th\xc6\xb0\xc6\xa1ng\"}",
        "{\"e\":\"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\"}",
    };
    tvk_reader *r = tvk_reader_new(0);
    for (size_t k = 0; k < sizeof payloads / sizeof *payloads; k++) {
        const char *pl = payloads[k];
        size_t bytes = strlen(pl);
        size_t counts[3] = {bytes, count_codepoints(pl, bytes), count_utf16(pl, bytes)};
        /* The three conventions must differ for the test to mean anything. */
        assert_true(counts[0] != counts[1] && counts[0] != counts[2]);
        for (int unit = 0; unit < 3; unit++) {
            if (unit == 2 && counts[2] == counts[1])
                continue; /* no character above U+FFFF: UTF-16 equals code points */
            for (int layout = 0; layout < 3; layout++) {
                tvk_buf b;
                tvk_buf_init(&b);
                if (layout == 2) assert_int_equal(tvk_frame_heartbeat(&b, 3), 0);
                frame_with(&b, counts[unit], pl);
                if (layout == 1) assert_int_equal(tvk_frame_heartbeat(&b, 4), 0);
                assert_int_equal(tvk_reader_feed(r, b.data, b.len), 0);
                tvk_msg m;
                if (layout == 2) {
                    assert_int_equal(tvk_reader_next_msg(r, &m), 1);
                    assert_int_equal(m.type, TVK_MSG_HEARTBEAT);
                }
                assert_int_equal(tvk_reader_next_msg(r, &m), 1);
                assert_int_equal(m.pkt.unit, (tvk_len_unit)unit);
                assert_int_equal(m.pkt.len, bytes);
                assert_memory_equal(m.pkt.data, pl, bytes);
                assert_non_null(m.json);
                if (layout == 1) {
                    assert_int_equal(tvk_reader_next_msg(r, &m), 1);
                    assert_int_equal(m.type, TVK_MSG_HEARTBEAT);
                    assert_int_equal(m.heartbeat, 4);
                }
                assert_int_equal(tvk_reader_next_msg(r, &m), 0);
                tvk_buf_free(&b);
            }
        }
    }
    tvk_reader_free(r);
}

typedef struct bad_case {
    const char *msg;
    int code;
    const char *where; /* substring of errmsg */
} bad_case;

static void test_wire_frame_errors(void **state)
{
    (void)state;
    const bad_case cases[] = {
        {"~m~12345678901~m~x", TVK_EFRAME_LENDIGITS, "offset 3"},
        {"~m~4~m~~h~1~m~99999999999~m~x", TVK_EFRAME_LENDIGITS, "offset 14"},
        {"~m~10~m~abc", TVK_EFRAME_LENPAST, "offset 8"},
        {"~m~9999999999~m~abc", TVK_EFRAME_LENPAST, "offset 16"},
        {"xx~m~1~m~a", TVK_EFRAME_NOMARK, "offset 0"},
        {"~m~4~m~~h~1garbage", TVK_EFRAME_LENGTH, "offset 7"},
        {"~m~4~m~~h~1~m~", TVK_EFRAME_NOMARK, "offset 14"},
        {"~m~~m~abc", TVK_EFRAME_NOMARK, "offset 3"},
        {"~m~3~x~abc", TVK_EFRAME_NOMARK, "offset 4"},
        {"~m~3", TVK_EFRAME_NOMARK, "offset 4"},
        {"~m~0~m~", TVK_EFRAME_EMPTY, "offset 7"},
        {"~m~0~m~~m~1~m~a", TVK_EFRAME_EMPTY, "offset 7"},
        {"~m~2~m~abc~m~1~m~x", TVK_EFRAME_LENGTH, "offset 7"},
        {"~m~2~m~\xc3\xa9xyz", TVK_EFRAME_LENGTH, "offset 7"},
    };
    tvk_reader *r = tvk_reader_new(0);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const bad_case *c = &cases[i];
        size_t n = strlen(c->msg);
        /* An exact-size copy, so ASan sees any read past the end. */
        char *copy = malloc(n);
        memcpy(copy, c->msg, n);
        assert_int_equal(tvk_reader_feed(r, copy, n), 0);
        tvk_packet p;
        int rc;
        while ((rc = tvk_reader_next(r, &p)) == 1)
            ;
        if (rc != c->code)
            fail_msg("case %zu (%s): got %d (%s), want %d", i, c->msg, rc, tvk_errname(rc),
                     c->code);
        if (!strstr(tvk_reader_errmsg(r), c->where))
            fail_msg("case %zu: errmsg '%s' lacks '%s'", i, tvk_reader_errmsg(r), c->where);
        /* The rest of the message is dropped ... */
        assert_int_equal(tvk_reader_next(r, &p), 0);
        free(copy);
        /* ... and the next message starts clean. */
        assert_int_equal(tvk_reader_feed(r, "~m~4~m~~h~9", 11), 0);
        assert_int_equal(tvk_reader_next(r, &p), 1);
        assert_int_equal(p.heartbeat, 9);
        assert_int_equal(tvk_reader_next(r, &p), 0);
    }
    tvk_reader_stats st;
    tvk_reader_stats_get(r, &st);
    assert_int_equal(st.errors, sizeof cases / sizeof *cases);
    tvk_reader_free(r);
}

static void test_wire_frame_too_big(void **state)
{
    (void)state;
    tvk_reader *r = tvk_reader_new(16);
    const char *ok = "~m~9~m~{\"m\":\"x\"}"; /* 16 bytes */
    assert_int_equal(tvk_reader_feed(r, ok, 16), 0);
    tvk_packet p;
    assert_int_equal(tvk_reader_next(r, &p), 1);
    const char *big = "~m~10~m~{\"m\":\"xy\"}"; /* 18 bytes */
    assert_int_equal(tvk_reader_feed(r, big, strlen(big)), TVK_EFRAME_TOOBIG);
    assert_non_null(strstr(tvk_reader_errmsg(r), "18 bytes exceeds the limit of 16"));
    assert_int_equal(tvk_reader_next(r, &p), 0);
    tvk_reader_free(r);
    /* The default limit is 32 MiB. */
    r = tvk_reader_new(0);
    assert_int_equal(tvk_reader_feed(r, ok, TVK_DEFAULT_MAX_MESSAGE + 1), TVK_EFRAME_TOOBIG);
    tvk_reader_free(r);
}

static void test_wire_frame_heartbeat_bad(void **state)
{
    (void)state;
    const char *msg = "~m~5~m~~h~ab~m~4~m~~h~2~m~3~m~~h~";
    tvk_reader *r = tvk_reader_new(0);
    assert_int_equal(tvk_reader_feed(r, msg, strlen(msg)), 0);
    tvk_packet p;
    assert_int_equal(tvk_reader_next(r, &p), TVK_ENUMBER);
    assert_non_null(strstr(tvk_reader_errmsg(r), "offset 0"));
    assert_int_equal(tvk_reader_next(r, &p), 1);
    assert_int_equal(p.heartbeat, 2);
    assert_int_equal(tvk_reader_next(r, &p), TVK_ENUMBER);
    assert_int_equal(tvk_reader_next(r, &p), 0);
    tvk_reader_free(r);
}

/* Every prefix of a valid message either frames cleanly or fails with a framing error; an
 * exact-size copy makes any read past the end an ASan error. */
static void test_wire_frame_truncation(void **state)
{
    (void)state;
    const char *msg = "~m~4~m~~h~1~m~24~m~{\"m\":\"x\",\"p\":[\"\xc3\xa9\xf0\x9f\x98\x80\"]}"
                      "~m~16~m~{\"m\":\"du\",\"p\":1}";
    size_t n = strlen(msg);
    tvk_reader *r = tvk_reader_new(0);
    for (size_t cut = 0; cut <= n; cut++) {
        char *copy = malloc(cut ? cut : 1);
        memcpy(copy, msg, cut);
        assert_int_equal(tvk_reader_feed(r, copy, cut), 0);
        tvk_msg m;
        int rc, good = 0;
        while ((rc = tvk_reader_next_msg(r, &m)) != 0) {
            if (rc > 0)
                good++;
            else if (rc <= TVK_EFRAME_LENDIGITS && rc >= TVK_EFRAME_LENGTH)
                break;
        }
        if (cut == n) assert_int_equal(good, 3);
        free(copy);
    }
    tvk_reader_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_frame_encode),
        cmocka_unit_test(test_wire_frame_packets),
        cmocka_unit_test(test_wire_frame_length_units),
        cmocka_unit_test(test_wire_frame_errors),
        cmocka_unit_test(test_wire_frame_too_big),
        cmocka_unit_test(test_wire_frame_heartbeat_bad),
        cmocka_unit_test(test_wire_frame_truncation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
