/* Builders: the byte-exact tvkit v0.1.4 sequence of PROTOCOL.md section 5.4, and every builder's
 * output parsed back through the reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tvkit/wire.h"

/* Expected framing of a payload literal, computed independently of tvk_frame. */
static char *framed(const char *payload)
{
    size_t n = strlen(payload);
    char *s = malloc(n + 32);
    snprintf(s, n + 32, "~m~%zu~m~%s", n, payload);
    return s;
}

static void expect_packet(tvk_buf *b, const char *payload)
{
    char *want = framed(payload);
    if (strcmp(b->data, want)) fail_msg("\n got: %s\nwant: %s", b->data, want);
    free(want);
    tvk_buf_reset(b);
}

static void test_wire_build_tvkit_sequence(void **state)
{
    (void)state;
    const char *cs = "cs_abcdefghijkl", *qs = "qs_abcdefghijkl";
    tvk_buf b;
    tvk_buf_init(&b);
    tvk_symbol_spec spec = {.symbol = "NASDAQ:AAPL", .tvkit_spacing = 1};

    /* The 119-character wire example of PROTOCOL.md 5.4, verbatim. */
    assert_int_equal(tvk_build_resolve_symbol(&b, cs, "sds_sym_1", &spec), 0);
    assert_string_equal(
        b.data, "~m~119~m~{\"m\":\"resolve_symbol\",\"p\":[\"cs_abcdefghijkl\",\"sds_sym_1\","
                "\"={\\\"adjustment\\\": \\\"splits\\\", \\\"symbol\\\": \\\"NASDAQ:AAPL\\\"}\"]}");
    tvk_buf_reset(&b);

    assert_int_equal(tvk_build_set_auth_token(&b, "unauthorized_user_token"), 0);
    expect_packet(&b, "{\"m\":\"set_auth_token\",\"p\":[\"unauthorized_user_token\"]}");
    assert_int_equal(tvk_build_set_locale(&b, "en", "US"), 0);
    expect_packet(&b, "{\"m\":\"set_locale\",\"p\":[\"en\",\"US\"]}");
    assert_int_equal(tvk_build_chart_create_session(&b, cs), 0);
    expect_packet(&b, "{\"m\":\"chart_create_session\",\"p\":[\"cs_abcdefghijkl\",\"\"]}");
    assert_int_equal(tvk_build_quote_create_session(&b, qs), 0);
    expect_packet(&b, "{\"m\":\"quote_create_session\",\"p\":[\"qs_abcdefghijkl\"]}");
    assert_int_equal(tvk_build_quote_set_fields(&b, qs, NULL, 0), 0);
    expect_packet(&b, "{\"m\":\"quote_set_fields\",\"p\":[\"qs_abcdefghijkl\",\"ch\",\"chp\","
                      "\"current_session\",\"description\",\"local_description\",\"language\","
                      "\"exchange\",\"fractional\",\"is_tradable\",\"lp\",\"lp_time\",\"minmov\","
                      "\"minmove2\",\"original_name\",\"pricescale\",\"pro_name\",\"short_name\","
                      "\"type\",\"update_mode\",\"volume\",\"currency_code\",\"rchp\",\"rtc\"]}");
    assert_int_equal(tvk_build_quote_hibernate_all(&b, qs), 0);
    expect_packet(&b, "{\"m\":\"quote_hibernate_all\",\"p\":[\"qs_abcdefghijkl\"]}");

    tvk_buf s;
    tvk_buf_init(&s);
    spec.symbol = "EX:SYM";
    assert_int_equal(tvk_symbol_spec_write(&s, &spec), 0);
    assert_string_equal(s.data, "={\"adjustment\": \"splits\", \"symbol\": \"EX:SYM\"}");
    const char *one[] = {s.data};
    assert_int_equal(tvk_build_quote_add_symbols(&b, qs, one, 1), 0);
    expect_packet(&b,
                  "{\"m\":\"quote_add_symbols\",\"p\":[\"qs_abcdefghijkl\","
                  "\"={\\\"adjustment\\\": \\\"splits\\\", \\\"symbol\\\": \\\"EX:SYM\\\"}\"]}");
    assert_int_equal(tvk_build_resolve_symbol(&b, cs, "sds_sym_1", &spec), 0);
    expect_packet(&b,
                  "{\"m\":\"resolve_symbol\",\"p\":[\"cs_abcdefghijkl\",\"sds_sym_1\","
                  "\"={\\\"adjustment\\\": \\\"splits\\\", \\\"symbol\\\": \\\"EX:SYM\\\"}\"]}");
    assert_int_equal(tvk_build_create_series(&b, cs, "sds_1", "s1", "sds_sym_1", "1", 10, ""), 0);
    expect_packet(&b, "{\"m\":\"create_series\",\"p\":[\"cs_abcdefghijkl\",\"sds_1\",\"s1\","
                      "\"sds_sym_1\",\"1\",10,\"\"]}");
    const char *plain[] = {"EX:SYM"};
    assert_int_equal(tvk_build_quote_fast_symbols(&b, qs, plain, 1), 0);
    expect_packet(&b, "{\"m\":\"quote_fast_symbols\",\"p\":[\"qs_abcdefghijkl\",\"EX:SYM\"]}");
    assert_int_equal(tvk_build_create_study(&b, cs, "st1", "st1", "sds_1",
                                            "Volume@tv-basicstudies-246",
                                            "{\"length\":20,\"col_prev_close\":\"false\"}"),
                     0);
    expect_packet(&b,
                  "{\"m\":\"create_study\",\"p\":[\"cs_abcdefghijkl\",\"st1\",\"st1\",\"sds_1\","
                  "\"Volume@tv-basicstudies-246\",{\"length\":20,\"col_prev_close\":\"false\"}]}");

    /* get_latest_trade_info's first symbol. */
    tvk_buf_reset(&s);
    tvk_symbol_spec multi = {.symbol = "BINANCE:BTCUSDT",
                             .currency_id = "USD",
                             .session = TVK_SESSION_REGULAR,
                             .tvkit_spacing = 1};
    assert_int_equal(tvk_symbol_spec_write(&s, &multi), 0);
    assert_string_equal(s.data, "={\"adjustment\": \"splits\", \"currency-id\": \"USD\", "
                                "\"session\": \"regular\", \"symbol\": \"BINANCE:BTCUSDT\"}");
    tvk_buf_free(&s);
    tvk_buf_free(&b);
}

static void test_wire_build_symbol_spec(void **state)
{
    (void)state;
    tvk_buf s;
    tvk_buf_init(&s);
    tvk_symbol_spec sp = {.symbol = "NYSE:YPF"};
    assert_int_equal(tvk_symbol_spec_write(&s, &sp), 0);
    assert_string_equal(s.data, "={\"adjustment\":\"splits\",\"symbol\":\"NYSE:YPF\"}");
    tvk_buf_reset(&s);
    sp.adjustment = TVK_ADJ_DIVIDENDS;
    sp.backadjustment = "default";
    sp.session = TVK_SESSION_EXTENDED;
    sp.currency_id = "EUR";
    assert_int_equal(tvk_symbol_spec_write(&s, &sp), 0);
    assert_string_equal(s.data, "={\"adjustment\":\"dividends\",\"backadjustment\":\"default\","
                                "\"currency-id\":\"EUR\",\"session\":\"extended\","
                                "\"symbol\":\"NYSE:YPF\"}");
    tvk_buf_reset(&s);
    sp = (tvk_symbol_spec){.symbol = "A:B", .adjustment = TVK_ADJ_NONE};
    assert_int_equal(tvk_symbol_spec_write(&s, &sp), 0);
    assert_string_equal(s.data, "={\"adjustment\":\"none\",\"symbol\":\"A:B\"}");
    tvk_buf_reset(&s);
    sp.symbol = NULL;
    assert_int_equal(tvk_symbol_spec_write(&s, &sp), TVK_EINVAL);
    sp.symbol = "";
    assert_int_equal(tvk_symbol_spec_write(&s, &sp), TVK_EINVAL);
    sp.symbol = "A:B";
    sp.adjustment = (tvk_adjustment)7;
    assert_int_equal(tvk_symbol_spec_write(&s, &sp), TVK_EINVAL);
    assert_int_equal(s.len, 0);
    tvk_buf_free(&s);
}

/* ---- parse-back: each builder's packet, read by the reader, has the method and params. */

typedef struct param {
    int is_int;
    const char *s;
    int64_t i;
} param;

#define S(x)                                                                                       \
    {                                                                                              \
        0, (x), 0                                                                                  \
    }
#define I(x)                                                                                       \
    {                                                                                              \
        1, NULL, (x)                                                                               \
    }

static void parse_back(tvk_buf *b, const char *method, const param *ps, int n)
{
    tvk_reader *r = tvk_reader_new(0);
    assert_int_equal(tvk_reader_feed(r, b->data, b->len), 0);
    tvk_msg m;
    assert_int_equal(tvk_reader_next_msg(r, &m), 1);
    assert_int_equal(m.pkt.kind, TVK_PKT_JSON);
    assert_int_equal(m.pkt.len + m.pkt.offset + 3 + 3 + snprintf(NULL, 0, "%zu", m.pkt.len),
                     b->len);
    assert_int_equal(m.method.len, strlen(method));
    assert_memory_equal(m.method.p, method, m.method.len);
    assert_int_equal(tvk_json_size(m.json, m.params), n);
    for (int k = 0; k < n; k++) {
        int t = tvk_json_index(m.json, m.params, k);
        if (ps[k].is_int) {
            int64_t v;
            assert_int_equal(tvk_json_int64(m.json, t, &v), 0);
            assert_true(v == ps[k].i);
        } else if (ps[k].s) {
            char buf[1024];
            size_t l;
            assert_int_equal(tvk_json_str(m.json, t, buf, sizeof buf, &l), 0);
            assert_string_equal(buf, ps[k].s);
        } else {
            assert_int_equal(tvk_json_type(m.json, t), TVK_J_OBJECT);
        }
    }
    assert_int_equal(tvk_reader_next_msg(r, &m), 0);
    /* ASCII only, so N is the same in bytes, code points and UTF-16 units. */
    for (size_t i = 0; i < b->len; i++)
        assert_true((unsigned char)b->data[i] < 0x80);
    tvk_reader_free(r);
    tvk_buf_reset(b);
}

static void test_wire_build_parse_back(void **state)
{
    (void)state;
    tvk_buf b;
    tvk_buf_init(&b);
    const char *cs = "cs_x", *qs = "qs_y";
    const char *uni = "caf\xc3\xa9 \xf0\x9f\x98\x80"; /* non-ASCII round-trips via \u escapes */

    assert_int_equal(tvk_build_set_auth_token(&b, uni), 0);
    parse_back(&b, "set_auth_token", (param[]){S(uni)}, 1);
    assert_int_equal(tvk_build_set_locale(&b, "fa", "IR"), 0);
    parse_back(&b, "set_locale", (param[]){S("fa"), S("IR")}, 2);
    assert_int_equal(tvk_build_set_data_quality(&b, "low"), 0);
    parse_back(&b, "set_data_quality", (param[]){S("low")}, 1);
    assert_int_equal(tvk_build_chart_create_session(&b, cs), 0);
    parse_back(&b, "chart_create_session", (param[]){S(cs), S("")}, 2);
    assert_int_equal(tvk_build_chart_delete_session(&b, cs), 0);
    parse_back(&b, "chart_delete_session", (param[]){S(cs)}, 1);
    assert_int_equal(tvk_build_switch_timezone(&b, cs, "Asia/Kolkata"), 0);
    parse_back(&b, "switch_timezone", (param[]){S(cs), S("Asia/Kolkata")}, 2);
    tvk_symbol_spec sp = {.symbol = "HOSE:VCB", .currency_id = "VND"};
    assert_int_equal(tvk_build_resolve_symbol(&b, cs, "sds_sym_1", &sp), 0);
    parse_back(&b, "resolve_symbol",
               (param[]){S(cs), S("sds_sym_1"),
                         S("={\"adjustment\":\"splits\",\"currency-id\":\"VND\",\"symbol\":"
                           "\"HOSE:VCB\"}")},
               3);
    assert_int_equal(tvk_build_create_series(&b, cs, "sds_1", "s1", "sds_sym_1", "1D", 300,
                                             "r,1732838400:1766016000"),
                     0);
    parse_back(&b, "create_series",
               (param[]){S(cs), S("sds_1"), S("s1"), S("sds_sym_1"), S("1D"), I(300),
                         S("r,1732838400:1766016000")},
               7);
    assert_int_equal(tvk_build_create_series(&b, cs, "sds_1", "s1", "sds_sym_1", "60", 5000, NULL),
                     0);
    parse_back(&b, "create_series",
               (param[]){S(cs), S("sds_1"), S("s1"), S("sds_sym_1"), S("60"), I(5000), S("")}, 7);
    assert_int_equal(tvk_build_modify_series(&b, cs, "sds_1", "s2", "sds_sym_1", "188",
                                             "r,1732838400:1766016000"),
                     0);
    parse_back(&b, "modify_series",
               (param[]){S(cs), S("sds_1"), S("s2"), S("sds_sym_1"), S("188"),
                         S("r,1732838400:1766016000")},
               6);
    assert_int_equal(tvk_build_remove_series(&b, cs, "sds_1"), 0);
    parse_back(&b, "remove_series", (param[]){S(cs), S("sds_1")}, 2);
    assert_int_equal(tvk_build_request_more_data(&b, cs, "sds_2", 232), 0);
    parse_back(&b, "request_more_data", (param[]){S(cs), S("sds_2"), I(232)}, 3);
    assert_int_equal(tvk_build_create_study(&b, cs, "st1", "st1", "sds_1", "Script@tv-x!",
                                            "{\"in_0\":{\"v\":14,\"f\":true,\"t\":\"integer\"}}"),
                     0);
    parse_back(&b, "create_study",
               (param[]){S(cs), S("st1"), S("st1"), S("sds_1"), S("Script@tv-x!"), {0, NULL, 0}},
               6);
    assert_int_equal(tvk_build_remove_study(&b, cs, "st1"), 0);
    parse_back(&b, "remove_study", (param[]){S(cs), S("st1")}, 2);
    assert_int_equal(tvk_build_quote_create_session(&b, qs), 0);
    parse_back(&b, "quote_create_session", (param[]){S(qs)}, 1);
    assert_int_equal(tvk_build_quote_delete_session(&b, qs), 0);
    parse_back(&b, "quote_delete_session", (param[]){S(qs)}, 1);
    const char *fields[] = {"lp", "ch"};
    assert_int_equal(tvk_build_quote_set_fields(&b, qs, fields, 2), 0);
    parse_back(&b, "quote_set_fields", (param[]){S(qs), S("lp"), S("ch")}, 3);
    const char *syms[] = {"NASDAQ:AAPL", "={\"symbol\":\"X\"}", uni};
    assert_int_equal(tvk_build_quote_add_symbols(&b, qs, syms, 3), 0);
    parse_back(&b, "quote_add_symbols", (param[]){S(qs), S(syms[0]), S(syms[1]), S(uni)}, 4);
    assert_int_equal(tvk_build_quote_remove_symbols(&b, qs, syms, 1), 0);
    parse_back(&b, "quote_remove_symbols", (param[]){S(qs), S(syms[0])}, 2);
    assert_int_equal(tvk_build_quote_fast_symbols(&b, qs, syms, 2), 0);
    parse_back(&b, "quote_fast_symbols", (param[]){S(qs), S(syms[0]), S(syms[1])}, 3);
    assert_int_equal(tvk_build_quote_hibernate_all(&b, qs), 0);
    parse_back(&b, "quote_hibernate_all", (param[]){S(qs)}, 1);
    assert_int_equal(tvk_build(&b, "replay_step", "[\"rs_1\",\"req\",5]"), 0);
    parse_back(&b, "replay_step", (param[]){S("rs_1"), S("req"), I(5)}, 3);
    assert_int_equal(tvk_build(&b, "request_more_tickmarks", " [ \"cs_x\" , \"sds_1\" , 10 ] "), 0);
    parse_back(&b, "request_more_tickmarks", (param[]){S("cs_x"), S("sds_1"), I(10)}, 3);
    tvk_buf_free(&b);
}

static void test_wire_build_rejects(void **state)
{
    (void)state;
    tvk_buf b;
    tvk_buf_init(&b);
    assert_int_equal(tvk_buf_puts(&b, "keep"), 0);
    /* Invalid input fails and leaves what was in the buffer untouched. */
    assert_int_equal(tvk_build_set_auth_token(&b, "bad\xff"), TVK_EINVAL);
    assert_int_equal(tvk_build_set_auth_token(&b, NULL), TVK_EINVAL);
    assert_int_equal(tvk_build_chart_create_session(&b, NULL), TVK_EINVAL);
    assert_int_equal(tvk_build(&b, "m", "{\"not\":\"array\"}"), TVK_EINVAL);
    assert_int_equal(tvk_build(&b, "m", "[1,]"), TVK_EINVAL);
    assert_int_equal(tvk_build(&b, "m", "[\"caf\xc3\xa9\"]"), TVK_EINVAL);
    assert_int_equal(tvk_build(&b, "m", NULL), TVK_EINVAL);
    assert_int_equal(tvk_build_create_study(&b, "cs", "st", "st", "s", "x", "[1]"), TVK_EINVAL);
    assert_int_equal(tvk_build_create_study(&b, "cs", "st", "st", "s", "x", "{bad}"), TVK_EINVAL);
    assert_int_equal(tvk_build_quote_add_symbols(&b, "qs", NULL, 2), TVK_EINVAL);
    const char *syms[] = {"A:B", NULL};
    assert_int_equal(tvk_build_quote_add_symbols(&b, "qs", syms, 2), TVK_EINVAL);
    assert_string_equal(b.data, "keep");
    /* A bounded buffer: the packet does not fit, nothing is appended. */
    b.limit = 20;
    assert_int_equal(tvk_build_set_auth_token(&b, "unauthorized_user_token"), TVK_ENOMEM);
    assert_int_equal(b.len, 4);
    assert_string_equal(b.data, "keep");
    tvk_buf_free(&b);
}

static void test_wire_build_quote_fields(void **state)
{
    (void)state;
    const char *want[] = {"ch",
                          "chp",
                          "current_session",
                          "description",
                          "local_description",
                          "language",
                          "exchange",
                          "fractional",
                          "is_tradable",
                          "lp",
                          "lp_time",
                          "minmov",
                          "minmove2",
                          "original_name",
                          "pricescale",
                          "pro_name",
                          "short_name",
                          "type",
                          "update_mode",
                          "volume",
                          "currency_code",
                          "rchp",
                          "rtc"};
    const char *const *f = tvk_quote_fields();
    assert_int_equal(tvk_quote_fields_count(), 23);
    for (size_t i = 0; i < 23; i++)
        assert_string_equal(f[i], want[i]);
    assert_null(f[23]);
}

static void test_wire_build_session_id(void **state)
{
    (void)state;
    char a[32], b[32];
    assert_int_equal(tvk_session_id(a, sizeof a, "cs_"), 0);
    assert_int_equal(tvk_session_id(b, sizeof b, "cs_"), 0);
    assert_int_equal(strlen(a), 15);
    assert_memory_equal(a, "cs_", 3);
    for (int i = 3; i < 15; i++)
        assert_true(a[i] >= 'a' && a[i] <= 'z');
    assert_string_not_equal(a, b); /* 26^12 ids: a collision means no randomness */
    char small[16];
    assert_int_equal(tvk_session_id(small, sizeof small, "qs_"), 0);
    assert_int_equal(tvk_session_id(small, 15, "qs_"), TVK_EBUFSIZE);
    /* Letters are all used (a crude check that the mapping covers a-z). */
    int seen[26] = {0};
    for (int k = 0; k < 200; k++) {
        assert_int_equal(tvk_session_id(a, sizeof a, "qs_"), 0);
        for (int i = 3; i < 15; i++)
            seen[a[i] - 'a'] = 1;
    }
    for (int i = 0; i < 26; i++)
        assert_true(seen[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_build_tvkit_sequence),
        cmocka_unit_test(test_wire_build_symbol_spec),
        cmocka_unit_test(test_wire_build_parse_back),
        cmocka_unit_test(test_wire_build_rejects),
        cmocka_unit_test(test_wire_build_quote_fields),
        cmocka_unit_test(test_wire_build_session_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
