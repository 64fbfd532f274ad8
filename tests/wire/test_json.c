#define _GNU_SOURCE /* memmem */
/* JSON: strict tokenizing (what jsmn alone would accept is rejected), accessors, unescaping,
 * token-array growth and reuse, and the ASCII-only writers. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tvkit/wire.h"
#include "wire/internal.h"
#include "wire_testutil.h"

static int parse(tvk_json *j, const char *s)
{
    size_t at;
    const char *why;
    return tvk_json_parse(j, s, strlen(s), &at, &why);
}

static void test_wire_json_rejects_invalid(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "   ",
        "{",
        "}",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "{\"a\":1 \"b\":2}",
        "[1 2]",
        "[1,,2]",
        "[,1]",
        "[1,]",
        "{\"a\":tru}",
        "{\"a\":nul}",
        "{\"a\":truex}",
        "{\"a\":01}",
        "{\"a\":1.}",
        "{\"a\":.5}",
        "{\"a\":-}",
        "{\"a\":+1}",
        "{\"a\":1e}",
        "{\"a\":1e+}",
        "{\"a\":0x1}",
        "{\"a\":1.2.3}",
        "{\"a\":\"x\\u12\"}",
        "{\"a\":\"\\q\"}",
        "{\"a\":\"\x01\"}",
        "{\"a\":\"tab\there\"}",
        "{\"a\":1}}",
        "{\"a\":1} x",
        "{} {}",
        "{1:2}",
        "[\"a\":1]",
        "{\"a\":[}",
        "{\"a\"}",
        "{,}",
        "[,]",
        "{\"a\":1,\"b\"}",
        "{'a':1}",
        "{\"a\":\"abc",
        "{\"a\":1:2}",
        "{\"a\"::1}",
        "{:1}",
        "[1]]",
        "{\"a\":{\"b\":1}",
        "{\"a\":[1,2}",
        "{\"a\":NaN}",
        "{\"a\":\"\xff\"}",
        "{\"a\":1}\xc3\xa9",
        "{\xc3\xa9:1}",
        "{\"a\":Infinity}",
        "{\"a\":-Infinity}",
    };
    tvk_json *j = tvk_json_new();
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = parse(j, bad[i]);
        if (rc != TVK_EJSON) fail_msg("accepted invalid JSON #%zu: %s (rc %d)", i, bad[i], rc);
        assert_int_equal(tvk_json_count(j), 0);
    }
    /* A NUL byte inside the document is not JSON. */
    const char nul[] = "{\"a\":\"x\0y\"}";
    size_t at;
    const char *why;
    assert_int_equal(tvk_json_parse(j, nul, sizeof nul - 1, &at, &why), TVK_EJSON);
    const char nul2[] = "{\"a\":1}\0";
    assert_int_equal(tvk_json_parse(j, nul2, sizeof nul2 - 1, &at, &why), TVK_EJSON);
    tvk_json_free(j);
}

static void test_wire_json_accepts_valid(void **state)
{
    (void)state;
    const char *good[] = {
        "{}",
        "[]",
        " { } ",
        "{\"a\":1}",
        "{\"a\":-0.5e-3,\"b\":[true,false,null]}",
        "\r\n\t[ 1 , 2 ]\n",
        "{\"a\":{\"b\":{\"c\":[[],{}]}}}",
        "{\"\":\"\"}",
        "{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"}",
        "[0,-0,1E5,1e-5,2.5E+3]",
        "{\"u\":\"caf\xc3\xa9\"}",
    };
    tvk_json *j = tvk_json_new();
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        if (parse(j, good[i]) != 0) fail_msg("rejected valid JSON #%zu: %s", i, good[i]);
    tvk_json_free(j);
}

/* Every position of a special byte in strings of every length up to 40, so the 8-byte fast
 * scan and the byte loop are both exercised at every alignment. */
static void test_wire_json_string_scan(void **state)
{
    (void)state;
    tvk_json *j = tvk_json_new();
    const struct {
        const char *ins;
        int ok;
    } kinds[] = {
        {"\x01", 0},     {"\x1f", 0}, {"\\n", 1},      {"\\u00e9", 1},      {"\\x", 0},
        {"\xc3\xa9", 1}, {"\xff", 0}, {"\xc0\x80", 0}, {"\xed\xa0\x80", 0}, {"\xf0\x9f\x98\x80", 1},
        {"\xe2\x82", 0}, {"\"", 0}};
    char doc[128];
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        for (int len = 0; len <= 40; len++) {
            for (int pos = 0; pos <= len; pos++) {
                int n = snprintf(doc, sizeof doc, "[\"%.*s%s%.*s\",1]", pos,
                                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", kinds[k].ins,
                                 len - pos, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
                size_t at;
                const char *why;
                int rc = tvk_json_parse(j, doc, (size_t)n, &at, &why);
                if ((rc == 0) != kinds[k].ok)
                    fail_msg("kind %zu len %d pos %d: rc %d (%s)", k, len, pos, rc, why);
                if (rc == 0) {
                    assert_int_equal(tvk_json_count(j), 3);
                    assert_int_equal(tvk_json_type(j, 2), TVK_J_NUMBER);
                }
            }
        }
    }
    tvk_json_free(j);
}

static void test_wire_json_depth(void **state)
{
    (void)state;
    tvk_json *j = tvk_json_new();
    for (int depth = 500; depth <= 520; depth += 20) {
        char *s = malloc((size_t)depth * 2 + 1);
        memset(s, '[', (size_t)depth);
        memset(s + depth, ']', (size_t)depth);
        s[depth * 2] = 0;
        int rc = parse(j, s);
        assert_int_equal(rc, depth <= 512 ? 0 : TVK_EJSON);
        free(s);
    }
    tvk_json_free(j);
}

static void test_wire_json_accessors(void **state)
{
    (void)state;
    const char *doc = "{\"m\":\"qsd\",\"p\":[\"qs_a\",{\"n\":\"X:Y\",\"v\":{\"lp\":1.5}}],"
                      "\"k\\u0065y\":\"esc\",\"i\":-9223372036854775808,"
                      "\"big\":9223372036854775808,\"t\":1728013500.0,\"f\":1.5,"
                      "\"b\":true,\"z\":null,\"s\":\"a\\nb\\u00e9\\ud83d\\ude00\\ud800x\"}";
    tvk_json *j = tvk_json_new();
    assert_int_equal(parse(j, doc), 0);
    assert_int_equal(tvk_json_type(j, 0), TVK_J_OBJECT);
    assert_int_equal(tvk_json_size(j, 0), 10);
    int m = tvk_json_member(j, 0, "m");
    assert_true(m > 0);
    assert_int_equal(tvk_json_type(j, m), TVK_J_STRING);
    assert_int_equal(tvk_json_str_eq(j, m, "qsd"), 1);
    assert_int_equal(tvk_json_str_eq(j, m, "qs"), 0);
    int p = tvk_json_member(j, 0, "p");
    assert_int_equal(tvk_json_type(j, p), TVK_J_ARRAY);
    assert_int_equal(tvk_json_size(j, p), 2);
    int p1 = tvk_json_index(j, p, 1);
    assert_int_equal(tvk_json_type(j, p1), TVK_J_OBJECT);
    assert_int_equal(tvk_json_index(j, p, 2), TVK_ENOTFOUND);
    assert_int_equal(tvk_json_index(j, p, -1), TVK_ENOTFOUND);
    assert_int_equal(tvk_json_index(j, 0, 0), TVK_ESHAPE);
    assert_int_equal(tvk_json_member(j, p, "x"), TVK_ESHAPE);
    assert_int_equal(tvk_json_member(j, 0, "missing"), TVK_ENOTFOUND);
    /* skip jumps over the whole subtree of p. */
    assert_int_equal(tvk_json_skip(j, p), tvk_json_member(j, 0, "key") - 1);
    /* A key written with an escape still matches. */
    int key = tvk_json_member(j, 0, "key");
    assert_true(key > 0);
    assert_int_equal(tvk_json_str_eq(j, key, "esc"), 1);
    int64_t iv;
    assert_int_equal(tvk_json_int64(j, tvk_json_member(j, 0, "i"), &iv), 0);
    assert_true(iv == INT64_MIN);
    assert_int_equal(tvk_json_int64(j, tvk_json_member(j, 0, "big"), &iv), TVK_ENUMBER);
    assert_int_equal(tvk_json_int64(j, tvk_json_member(j, 0, "t"), &iv), 0);
    assert_true(iv == 1728013500);
    assert_int_equal(tvk_json_int64(j, tvk_json_member(j, 0, "f"), &iv), TVK_ENUMBER);
    assert_int_equal(tvk_json_int64(j, m, &iv), TVK_ESHAPE);
    /* Digits that overflow on their own but an exponent brings back into range. */
    tvk_json *k = tvk_json_new();
    assert_int_equal(parse(k, "[100000000000000000000e-10,-99999999999999999999999e-5,"
                              "18446744073709551616,1e-400,123456789012345678901234567890.5e-20]"),
                     0);
    assert_int_equal(tvk_json_int64(k, 1, &iv), 0);
    assert_true(iv == 10000000000LL);
    /* -999999999999999999.99 has no double of its own: it is -1e18, an integer. */
    assert_int_equal(tvk_json_int64(k, 2, &iv), 0);
    assert_true(iv == -1000000000000000000LL);
    assert_int_equal(tvk_json_int64(k, 3, &iv), TVK_ENUMBER);
    assert_int_equal(tvk_json_int64(k, 4, &iv), 0);
    assert_true(iv == 0);
    assert_int_equal(tvk_json_int64(k, 5, &iv), TVK_ENUMBER); /* 1234567890.12345... */
    tvk_json_free(k);
    double d;
    assert_int_equal(tvk_json_double(j, tvk_json_member(j, 0, "f"), &d), 0);
    assert_true(d == 1.5);
    assert_int_equal(tvk_json_double(j, tvk_json_member(j, 0, "z"), &d), TVK_ESHAPE);
    int bv;
    assert_int_equal(tvk_json_bool(j, tvk_json_member(j, 0, "b"), &bv), 0);
    assert_int_equal(bv, 1);
    assert_int_equal(tvk_json_bool(j, tvk_json_member(j, 0, "z"), &bv), TVK_ESHAPE);
    assert_int_equal(tvk_json_type(j, tvk_json_member(j, 0, "z")), TVK_J_NULL);
    assert_int_equal(tvk_json_type(j, tvk_json_member(j, 0, "b")), TVK_J_TRUE);
    assert_int_equal(tvk_json_type(j, tvk_json_member(j, 0, "f")), TVK_J_NUMBER);
    /* Unescaping: \n, \u00e9, a surrogate pair, a lone surrogate (U+FFFD). */
    int s = tvk_json_member(j, 0, "s");
    char buf[64];
    size_t ol;
    assert_int_equal(tvk_json_str(j, s, buf, sizeof buf, &ol), 0);
    const char want[] = "a\nb\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdx";
    assert_int_equal(ol, sizeof want - 1);
    assert_memory_equal(buf, want, sizeof want);
    assert_int_equal(tvk_json_str(j, s, buf, sizeof want - 1, &ol), TVK_EBUFSIZE);
    assert_int_equal(tvk_json_str(j, s, buf, sizeof want, &ol), 0);
    assert_int_equal(tvk_json_str(j, p, buf, sizeof buf, &ol), TVK_ESHAPE);
    const char *raw;
    size_t rl;
    assert_int_equal(tvk_json_raw(j, key - 1, &raw, &rl), 0);
    assert_int_equal(rl, 8);
    assert_memory_equal(raw, "k\\u0065y", 8);
    /* Tokens out of range. */
    assert_int_equal(tvk_json_type(j, -1), TVK_J_INVALID);
    assert_int_equal(tvk_json_type(j, tvk_json_count(j)), TVK_J_INVALID);
    assert_int_equal(tvk_json_size(j, 10000), TVK_EINVAL);
    assert_int_equal(tvk_json_raw(j, 10000, &raw, &rl), TVK_EINVAL);
    tvk_json_free(j);
}

/* The token array grows for a big document and is reused (and still correct) afterwards. */
/* tvk_json_next_member: every member once, in order, with its raw text, type and number;
 * nested values are skipped whole; the end and the wrong shapes. */
static void test_wire_json_next_member(void **state)
{
    (void)state;
    tvk_json *j = tvk_json_new();
    assert_non_null(j);
    assert_int_equal(parse(j, "{\"lp\":123.45,\"s\":\"a\\\"b\",\"o\":{\"x\":[1,{\"y\":2}]},"
                              "\"big\":1e+100,\"n\":null,\"neg\":-0.5,\"long\":"
                              "12345678901234567890123,\"t\":true}"),
                     0);
    static const struct {
        const char *key, *raw;
        tvk_jtype type;
        double num;
    } want[] = {
        {"lp", "123.45", TVK_J_NUMBER, 123.45},
        {"s", "a\\\"b", TVK_J_STRING, NAN},
        {"o", "{\"x\":[1,{\"y\":2}]}", TVK_J_OBJECT, NAN},
        {"big", "1e+100", TVK_J_NUMBER, 1e100},
        {"n", "null", TVK_J_NULL, NAN},
        {"neg", "-0.5", TVK_J_NUMBER, -0.5},
        {"long", "12345678901234567890123", TVK_J_NUMBER, 12345678901234567890123.0},
        {"t", "true", TVK_J_TRUE, NAN},
    };
    int cursor = 0;
    tvk_jmember m;
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        assert_int_equal(tvk_json_next_member(j, 0, &cursor, &m), 1);
        assert_true(m.key.len == strlen(want[i].key) && !memcmp(m.key.p, want[i].key, m.key.len));
        assert_true(m.raw.len == strlen(want[i].raw) && !memcmp(m.raw.p, want[i].raw, m.raw.len));
        assert_int_equal(m.type, want[i].type);
        assert_int_equal(tvk_json_type(j, m.tok), want[i].type);
        if (isnan(want[i].num))
            assert_true(isnan(m.num));
        else
            assert_true(m.num == want[i].num);
    }
    assert_int_equal(tvk_json_next_member(j, 0, &cursor, &m), 0);
    assert_int_equal(tvk_json_next_member(j, 0, &cursor, &m), 0);
    /* The nested object on its own; an array, a scalar and a bad index are not objects. */
    int o = tvk_json_member(j, 0, "o");
    cursor = 0;
    assert_int_equal(tvk_json_next_member(j, o, &cursor, &m), 1);
    assert_true(m.key.len == 1 && m.key.p[0] == 'x' && m.type == TVK_J_ARRAY);
    assert_int_equal(tvk_json_next_member(j, o, &cursor, &m), 0);
    cursor = 0;
    assert_int_equal(tvk_json_next_member(j, tvk_json_member(j, o, "x"), &cursor, &m), TVK_ESHAPE);
    assert_int_equal(tvk_json_next_member(j, tvk_json_member(j, 0, "lp"), &cursor, &m), TVK_ESHAPE);
    assert_int_equal(tvk_json_next_member(j, 9999, &cursor, &m), TVK_EINVAL);
    assert_int_equal(tvk_json_next_member(NULL, 0, &cursor, &m), TVK_EINVAL);
    /* An empty object ends at once. */
    assert_int_equal(parse(j, "{}"), 0);
    cursor = 0;
    assert_int_equal(tvk_json_next_member(j, 0, &cursor, &m), 0);
    tvk_json_free(j);
}

static void test_wire_json_growth(void **state)
{
    (void)state;
    tvk_buf b;
    tvk_buf_init(&b);
    tvk_buf_puts(&b, "{\"s\":[");
    for (int i = 0; i < 20000; i++)
        tvk_buf_printf(&b, "%s{\"i\":%d,\"v\":[%d.5,1,2,3,4,5]}", i ? "," : "", i - 5, i);
    tvk_buf_puts(&b, "]}");
    tvk_json *j = tvk_json_new();
    assert_int_equal(parse(j, b.data), 0);
    assert_int_equal(tvk_json_count(j), 3 + 20000 * 11);
    int s = tvk_json_member(j, 0, "s");
    int last = tvk_json_index(j, s, 19999);
    int64_t iv;
    assert_int_equal(tvk_json_int64(j, tvk_json_member(j, last, "i"), &iv), 0);
    assert_int_equal(iv, 19994);
    assert_int_equal(parse(j, "{\"a\":[1]}"), 0);
    assert_int_equal(tvk_json_count(j), 4);
    tvk_json_free(j);
    tvk_buf_free(&b);
}

/* The reader's token store: kept across packets, given back by tvk_reader_trim only above
 * the bound, and parsing after a trim is as before. */
static void test_wire_reader_trim(void **state)
{
    (void)state;
    tvk_buf big, framed;
    tvk_buf_init(&big);
    tvk_buf_init(&framed);
    tvk_buf_puts(&big, "{\"m\":\"x\",\"p\":[");
    for (int i = 0; i < 20000; i++)
        tvk_buf_printf(&big, "%s{\"i\":%d,\"v\":[%d.5,1,2,3,4,5]}", i ? "," : "", i, i);
    tvk_buf_puts(&big, "]}");
    assert_int_equal(tvk_frame(&framed, big.data, big.len), 0);
    tvk_reader *r = tvk_reader_new(0);
    assert_non_null(r);
    size_t small = tvk_reader_buffer_bytes(r);
    assert_true(small > 0 && small <= 8192);
    for (int round = 0; round < 2; round++) {
        tvk_msg m;
        assert_int_equal(tvk_reader_feed(r, framed.data, framed.len), 0);
        assert_int_equal(tvk_reader_next_msg(r, &m), 1);
        assert_int_equal(tvk_json_count(m.json), 5 + 20000 * 11);
        int last = tvk_json_index(m.json, m.params, 19999);
        int64_t iv;
        assert_int_equal(tvk_json_int64(m.json, tvk_json_member(m.json, last, "i"), &iv), 0);
        assert_int_equal(iv, 19999);
        size_t held = tvk_reader_buffer_bytes(r);
        assert_true(held >= (size_t)(5 + 20000 * 11) * 16);
        assert_int_equal(tvk_reader_next_msg(r, &m), 0);
        tvk_reader_trim(r, held); /* not above the bound: kept */
        assert_int_equal(tvk_reader_buffer_bytes(r), held);
        tvk_reader_trim(r, 256 << 10);
        assert_int_equal(tvk_reader_buffer_bytes(r), small);
        tvk_reader_trim(r, 0); /* already at the minimum */
        assert_int_equal(tvk_reader_buffer_bytes(r), small);
    }
    tvk_reader_trim(NULL, 0);
    assert_int_equal(tvk_reader_buffer_bytes(NULL), 0);
    tvk_reader_free(r);
    tvk_buf_free(&big);
    tvk_buf_free(&framed);
}

/* ---------------------------------------------------------------- the bar shortcut */

/* The tokenizer reads {"i":N,"v":[...]} bars by a shortcut: the same document must give the
 * same result, error position and message, and the same tokens byte for byte, with it and
 * without it. */
static long shortcut_taken;

static void same_tokens(const char *doc, size_t n)
{
    tvk_json *a = tvk_json_new(), *b = tvk_json_new();
    assert_non_null(a);
    assert_non_null(b);
    b->no_shortcut = 1;
    size_t at_a, at_b;
    const char *why_a, *why_b;
    int ra = tvk_json_parse(a, doc, n, &at_a, &why_a);
    int rb = tvk_json_parse(b, doc, n, &at_b, &why_b);
    if (ra != rb || (ra && (at_a != at_b || strcmp(why_a, why_b))))
        fail_msg("results differ (%d at %zu '%s' / %d at %zu '%s') on: %.*s", ra, at_a, why_a, rb,
                 at_b, why_b, (int)(n > 200 ? 200 : n), doc);
    if (!ra) {
        assert_int_equal(a->n, b->n);
        if (memcmp(a->tok, b->tok, (size_t)a->n * sizeof *a->tok))
            fail_msg("tokens differ on: %.*s", (int)(n > 200 ? 200 : n), doc);
        shortcut_taken += memmem(doc, n, "{\"i\":", 5) != NULL;
    }
    tvk_json_free(a);
    tvk_json_free(b);
}

static void same_tokens_cb(void *ctx, const char *doc, size_t n)
{
    (void)ctx;
    same_tokens(doc, n);
}

static uint64_t bar_rng = 0x2545F4914F6CDD1DULL;
static unsigned bar_rnd(unsigned n)
{
    return wt_rnd(&bar_rng, n);
}

/* A timescale_update-like document of bars, mostly in the server's form, some not. */
static void random_bars(tvk_buf *b, int nbars)
{
    static const char *const num[] = {"1795651200.0",
                                      "51.19",
                                      "-0.5",
                                      "0",
                                      "1e100",
                                      "1E-7",
                                      "123456789012345678901",
                                      "461679",
                                      "9007199254740993",
                                      "-12"};
    static const char *const odd[] = {"null", "\"x\"", "true", "[1]", "{}",
                                      "01",   "1.",    "-",    " 1",  "1 "};
    tvk_buf_reset(b);
    tvk_buf_puts(b, "{\"m\":\"timescale_update\",\"p\":[\"cs_1\",{\"sds_1\":{\"s\":[");
    for (int k = 0; k < nbars; k++) {
        int form = (int)bar_rnd(12);
        tvk_buf_printf(b, "%s{%s\"i\":%s%d,\"v\":[", k ? "," : "", form == 0 ? " " : "",
                       form == 1 ? "-" : "", k);
        int nv = form == 2 ? (int)bar_rnd(11) : 5 + (int)bar_rnd(2);
        for (int v = 0; v < nv; v++)
            tvk_buf_printf(b, "%s%s", v ? "," : "",
                           form == 3 && v == 2 ? odd[bar_rnd(sizeof odd / sizeof *odd)]
                                               : num[bar_rnd(sizeof num / sizeof *num)]);
        tvk_buf_puts(b, form == 4 ? "],\"x\":1}" : form == 5 ? "] }" : "]}");
    }
    tvk_buf_puts(b, "]}}]}");
}

static void test_wire_json_bar_shortcut(void **state)
{
    (void)state;
    tvk_buf b;
    tvk_buf_init(&b);
    shortcut_taken = 0;
    for (int k = 0; k < 3000; k++) {
        random_bars(&b, (int)bar_rnd(40));
        same_tokens(b.data, b.len);
    }
    /* every deletion, replacement and insertion of one byte in small documents */
    static const unsigned char subst[] = {'{', '}', '[', ']', '"', ':', ',', ' ',  '0',
                                          '9', '-', '.', 'e', 'i', 'v', 'n', '\\', 1};
    long variants = 0;
    for (int k = 0; k < 6; k++) {
        random_bars(&b, 1 + (int)bar_rnd(3));
        variants += wt_each_mutation(b.data, b.len, subst, sizeof subst, same_tokens_cb, NULL);
    }
    /* a bar as the whole document, at the end, and deep down near the nesting limit */
    same_tokens("{\"i\":1,\"v\":[1,2,3,4,5]}", 23);
    same_tokens("[{\"i\":1,\"v\":[1]}]", 17);
    for (int depth = 509; depth <= 511; depth++) { /* 512 levels are allowed */
        tvk_buf_reset(&b);
        for (int d = 0; d < depth; d++)
            tvk_buf_puts(&b, "[");
        tvk_buf_puts(&b, "{\"i\":1,\"v\":[1,2,3,4,5]}");
        for (int d = 0; d < depth; d++)
            tvk_buf_puts(&b, "]");
        same_tokens(b.data, b.len);
    }
    print_message("bar shortcut: %ld variants, %ld documents with bars parsed\n", variants,
                  shortcut_taken);
    assert_true(shortcut_taken > 1000);
    tvk_buf_free(&b);
}

static void test_wire_json_writers(void **state)
{
    (void)state;
    tvk_buf b;
    tvk_buf_init(&b);
    const char in[] = "q\"b\\s/\n\r\t\b\f\x01\x7f caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
    assert_int_equal(tvk_buf_json_str(&b, in, sizeof in - 1), 0);
    assert_string_equal(b.data, "\"q\\\"b\\\\s/\\n\\r\\t\\b\\f\\u0001\\u007f caf\\u00e9 "
                                "\\u20ac \\ud83d\\ude00\"");
    for (size_t i = 0; i < b.len; i++)
        assert_true((unsigned char)b.data[i] < 0x80);
    /* Integers, the extremes included, as printf writes them. */
    const int64_t ints[] = {0, 7, -7, 10, -10, 1795680813, INT64_MAX, INT64_MIN, INT64_MIN + 1};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
        tvk_buf n;
        tvk_buf_init(&n);
        char want[32];
        snprintf(want, sizeof want, "%lld", (long long)ints[i]);
        assert_int_equal(tvk_buf_json_int(&n, ints[i]), 0);
        assert_string_equal(n.data, want);
        char f[TVK_FMT_MAX];
        assert_int_equal(tvk_fmt_int(ints[i], f), strlen(want));
        assert_string_equal(f, want);
        tvk_buf_free(&n);
    }
    /* tvk_fmt_double writes what tvk_buf_json_double appends, the longest forms included. */
    const double fmtv[] = {0.0,
                           -0.0,
                           356.1,
                           -0.000123,
                           1e-300,
                           -1.7976931348623157e308,
                           NAN,
                           INFINITY,
                           2.2250738585072014e-308,
                           123456789.123456789,
                           1e100,
                           9007199254740993.0};
    for (size_t i = 0; i < sizeof fmtv / sizeof *fmtv; i++) {
        tvk_buf n;
        tvk_buf_init(&n);
        assert_int_equal(tvk_buf_json_double(&n, fmtv[i]), 0);
        char f[TVK_FMT_MAX];
        size_t fl = tvk_fmt_double(fmtv[i], f);
        assert_true(fl > 0 && fl < TVK_FMT_MAX && fl == n.len);
        assert_string_equal(f, n.data);
        tvk_buf_free(&n);
    }
    /* Parsing the output back gives the input bytes. */
    tvk_json *j = tvk_json_new();
    tvk_buf doc;
    tvk_buf_init(&doc);
    tvk_buf_puts(&doc, "[");
    tvk_buf_append(&doc, b.data, b.len);
    tvk_buf_puts(&doc, "]");
    assert_int_equal(parse(j, doc.data), 0);
    char out[128];
    size_t ol;
    assert_int_equal(tvk_json_str(j, 1, out, sizeof out, &ol), 0);
    assert_int_equal(ol, sizeof in - 1);
    assert_memory_equal(out, in, ol);
    /* Invalid UTF-8 fails and leaves the buffer as it was. */
    const char *invalid[] = {"\xc0\x80", "\xed\xa0\x80",     "\xe2\x82", "\xf5\x80\x80\x80",
                             "\x80",     "\xf0\x8f\xbf\xbf", "ab\xff"};
    for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++) {
        size_t before = b.len;
        assert_int_equal(tvk_buf_json_str(&b, invalid[i], strlen(invalid[i])), TVK_EINVAL);
        assert_int_equal(b.len, before);
    }
    tvk_buf_reset(&b);
    assert_int_equal(tvk_buf_json_int(&b, INT64_MIN), 0);
    assert_string_equal(b.data, "-9223372036854775808");
    const struct {
        double v;
        const char *s;
    } dbl[] = {{0.1, "0.1"},
               {1728013500.0, "1728013500"},
               {356.1, "356.1"},
               {-2.5, "-2.5"},
               {1e100, "1e+100"},
               {NAN, "null"},
               {INFINITY, "null"},
               {0.0, "0"},
               {1.0 / 3, "0.3333333333333333"}};
    for (size_t i = 0; i < sizeof dbl / sizeof *dbl; i++) {
        tvk_buf_reset(&b);
        assert_int_equal(tvk_buf_json_double(&b, dbl[i].v), 0);
        assert_string_equal(b.data, dbl[i].s);
    }
    /* Shortest round-trip over many values. */
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double v;
        memcpy(&v, &x, sizeof v);
        if (!isfinite(v)) continue;
        tvk_buf_reset(&b);
        assert_int_equal(tvk_buf_json_double(&b, v), 0);
        double back;
        assert_int_equal(tvk_parse_double(b.data, b.len, &back), 0);
        assert_memory_equal(&back, &v, sizeof v);
    }
    tvk_json_free(j);
    tvk_buf_free(&doc);
    tvk_buf_free(&b);
}

static void test_wire_buf_limit(void **state)
{
    (void)state;
    tvk_buf b;
    tvk_buf_init(&b);
    b.limit = 10;
    assert_int_equal(tvk_buf_puts(&b, "0123456789"), 0);
    assert_int_equal(b.len, 10);
    assert_int_equal(tvk_buf_puts(&b, "x"), TVK_ENOMEM);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "0123456789");
    tvk_buf_reset(&b);
    assert_int_equal(tvk_buf_printf(&b, "%s", "this is longer than ten"), TVK_ENOMEM);
    b.limit = 0;
    char big[1000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    assert_int_equal(tvk_buf_printf(&b, "<%s>", big), 0);
    assert_int_equal(b.len, 1001);
    assert_int_equal(b.data[1000], '>');
    assert_int_equal(b.data[1001], '\0');
    tvk_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_json_rejects_invalid),
        cmocka_unit_test(test_wire_json_accepts_valid),
        cmocka_unit_test(test_wire_json_string_scan),
        cmocka_unit_test(test_wire_json_depth),
        cmocka_unit_test(test_wire_json_accessors),
        cmocka_unit_test(test_wire_json_next_member),
        cmocka_unit_test(test_wire_json_growth),
        cmocka_unit_test(test_wire_json_bar_shortcut),
        cmocka_unit_test(test_wire_reader_trim),
        cmocka_unit_test(test_wire_json_writers),
        cmocka_unit_test(test_wire_buf_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
