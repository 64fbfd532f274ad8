/* Classification and typed views, on packets taken from PROTOCOL.md's real examples plus
 * edge cases (5-value bars, 1e+100, negative indices, study objects, missing extras). */
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

typedef struct fx {
    tvk_reader *r;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->r = tvk_reader_new(0);
    *state = f;
    return f->r ? 0 : -1;
}

static int teardown(void **state)
{
    fx *f = *state;
    tvk_reader_free(f->r);
    free(f);
    return 0;
}

static tvk_msg parse(void **state, const char *payload)
{
    fx *f = *state;
    tvk_msg m;
    int rc = tvk_reader_parse_payload(f->r, payload, strlen(payload), &m);
    if (rc) fail_msg("parse failed (%d): %s", rc, tvk_reader_errmsg(f->r));
    return m;
}

static void eq(tvk_str s, const char *want)
{
    if (s.len != strlen(want) || memcmp(s.p, want, s.len))
        fail_msg("got '%.*s', want '%s'", (int)s.len, s.p, want);
}

static void test_wire_views_classify(void **state)
{
    for (int t = TVK_MSG_QSD; t < TVK_MSG__COUNT; t++) {
        char buf[128];
        snprintf(buf, sizeof buf, "{\"m\":\"%s\",\"p\":[\"cs_1\"]}", tvk_msg_type_name(t));
        tvk_msg m = parse(state, buf);
        assert_int_equal(m.type, t);
        eq(m.method, tvk_msg_type_name(t));
        eq(m.session, "cs_1");
    }
    tvk_msg m = parse(state, "{\"m\":\"replay_something_new\",\"p\":[1]}");
    assert_int_equal(m.type, TVK_MSG_OTHER);
    eq(m.method, "replay_something_new");
    assert_int_equal(m.session.len, 0);
    m = parse(state, "{\"foo\":1}");
    assert_int_equal(m.type, TVK_MSG_OTHER);
    m = parse(state, "{\"m\":\"qsd\"}");
    assert_int_equal(m.params, -1);
    assert_string_equal(tvk_msg_type_name(TVK_MSG__COUNT), "other");
    assert_string_equal(tvk_msg_type_name(TVK_MSG_HEARTBEAT), "heartbeat");
    fx *f = *state;
    tvk_msg bad;
    assert_int_equal(tvk_reader_parse_payload(f->r, "[1,2]", 5, &bad), TVK_ESHAPE);
    assert_int_equal(tvk_reader_parse_payload(f->r, "{\"m\":1}", 7, &bad), TVK_ESHAPE);
    assert_int_equal(tvk_reader_parse_payload(f->r, "{\"m\":", 5, &bad), TVK_EJSON);
    assert_non_null(strstr(tvk_reader_errmsg(f->r), "invalid JSON"));
    /* A bad packet in a message does not stop the others. */
    const char *msg = "~m~5~m~{bad}~m~17~m~{\"m\":\"du\",\"p\":[]}";
    assert_int_equal(tvk_reader_feed(f->r, msg, strlen(msg)), 0);
    assert_int_equal(tvk_reader_next_msg(f->r, &bad), TVK_EJSON);
    assert_non_null(strstr(tvk_reader_errmsg(f->r), "offset 0"));
    assert_int_equal(tvk_reader_next_msg(f->r, &bad), 1);
    assert_int_equal(bad.type, TVK_MSG_DU);
    assert_int_equal(tvk_reader_next_msg(f->r, &bad), 0);
}

static void test_wire_views_hello(void **state)
{
    tvk_msg m = parse(state, "{\"session_id\":\"0.28583.1563_mum1-charts-pro-4-tvbs-dr7ok-3\","
                             "\"timestamp\":1765958639,\"timestampMs\":1765958639992,\"release\":"
                             "\"release_208-91\",\"studies_metadata_hash\":\"b714b2\","
                             "\"auth_scheme_vsn\":2,\"protocol\":\"json\",\"via\":"
                             "\"109.61.45.169:443\",\"javastudies\":[\"3.66\"]}");
    assert_int_equal(m.type, TVK_MSG_HELLO);
    tvk_hello h;
    assert_int_equal(tvk_msg_hello(&m, &h), 0);
    eq(h.session_id, "0.28583.1563_mum1-charts-pro-4-tvbs-dr7ok-3");
    eq(h.release, "release_208-91");
    assert_int_equal(h.timestamp, 1765958639);
    m = parse(state, "{\"javastudies\":\"javastudies-3.61_2654\",\"session_id\":"
                     "\"<0.20865.1202>_sfo-charts-33-webchart-7@sfo-compute-33_x\"}");
    assert_int_equal(tvk_msg_hello(&m, &h), 0);
    assert_int_equal(h.timestamp, 0);
    assert_int_equal(h.release.len, 0);
    m = parse(state, "{\"m\":\"qsd\",\"p\":[]}");
    assert_int_equal(tvk_msg_hello(&m, &h), TVK_ESHAPE);
}

static void test_wire_views_bars(void **state)
{
    const char *tsu =
        "{\"m\":\"timescale_update\",\"p\":[\"cs_68z3mne9l3wQ\",{"
        "\"j5VbCX\":{\"node\":\"n\",\"st\":[{\"i\":-1000100,\"v\":[1.0,1e+100]}],\"t\":\"s1_st1\"},"
        "\"sds_1\":{\"node\":\"mum1\",\"s\":["
        "{\"i\":-232,\"v\":[1728013500.0,356.1,363.6,355.0,361.4,207578.0]},"
        "{\"i\":-1,\"v\":[1728099900.0,361.5,363.7,351,354.1]},"
        "{\"i\":0,\"v\":[1728186300.0,1e+100,2,1,1.5,1e+100,99]}],"
        "\"ns\":{\"d\":\"\",\"indexes\":[]},\"t\":\"s1\",\"lbs\":{\"bar_close_time\":1765965599}},"
        "\"sds_2\":{\"s\":[],\"t\":\"s3\"}},"
        "{\"index\":0,\"zoffset\":0,\"changes\":[],\"marks\":[[40,1728000000,0]]}],"
        "\"t\":1765958640,\"t_ms\":1765958640123}";
    tvk_msg m = parse(state, tsu);
    assert_int_equal(m.type, TVK_MSG_TIMESCALE_UPDATE);
    tvk_series_update su;
    assert_int_equal(tvk_msg_series(&m, "j5VbCX", &su), TVK_ENOTFOUND); /* a study */
    assert_int_equal(tvk_msg_series(&m, "nope", &su), TVK_ENOTFOUND);
    assert_int_equal(tvk_msg_series(&m, "sds_1", &su), 0);
    eq(su.session, "cs_68z3mne9l3wQ");
    eq(su.series_id, "sds_1");
    eq(su.turnaround, "s1");
    assert_int_equal(su.bar_close_time, 1765965599);
    assert_int_equal(su.nbars, 3);
    tvk_bar bar;
    assert_int_equal(tvk_bar_next(&su.bars, &bar), 1);
    assert_int_equal(bar.index, -232);
    assert_true(bar.time == 1728013500.0 && bar.open == 356.1 && bar.high == 363.6 &&
                bar.low == 355.0 && bar.close == 361.4 && bar.volume == 207578.0);
    assert_int_equal(tvk_bar_next(&su.bars, &bar), 1);
    assert_int_equal(bar.index, -1);
    assert_true(bar.close == 354.1);
    assert_true(isnan(bar.volume)); /* 5 values: no volume, not 0 */
    assert_int_equal(tvk_bar_next(&su.bars, &bar), 1);
    assert_int_equal(bar.index, 0);
    assert_true(isnan(bar.open) && isnan(bar.volume)); /* 1e+100 = no value */
    assert_true(bar.high == 2 && bar.close == 1.5);
    assert_int_equal(tvk_bar_next(&su.bars, &bar), 0);
    assert_int_equal(tvk_bar_next(&su.bars, &bar), 0);
    /* Enumeration: price series only, in order. */
    assert_int_equal(tvk_msg_series_at(&m, 0, &su), 0);
    eq(su.series_id, "sds_1");
    assert_int_equal(tvk_msg_series_at(&m, 1, &su), 0);
    eq(su.series_id, "sds_2");
    eq(su.turnaround, "s3");
    assert_int_equal(su.nbars, 0);
    assert_int_equal(su.bar_close_time, 0);
    assert_int_equal(tvk_bar_next(&su.bars, &bar), 0);
    assert_int_equal(tvk_msg_series_at(&m, 2, &su), TVK_ENOTFOUND);

    /* du: the current bar re-sent; a scale-only update has no series. */
    m = parse(state, "{\"m\":\"du\",\"p\":[\"cs_a\",{\"sds_1\":{\"s\":[{\"i\":300,\"v\":[1,2,3,"
                     "4,5,6]}],\"ns\":{\"d\":\"\",\"indexes\":\"nochange\"},\"t\":\"s1\","
                     "\"lbs\":{\"bar_close_time\":1765965599.0}}}]}");
    assert_int_equal(tvk_msg_series(&m, "sds_1", &su), 0);
    assert_int_equal(su.bar_close_time, 1765965599);
    assert_int_equal(tvk_bar_next(&su.bars, &bar), 1);
    assert_int_equal(bar.index, 300);
    assert_true(bar.volume == 6);
    m = parse(state, "{\"m\":\"timescale_update\",\"p\":[\"cs_a\",{},{\"index\":0}]}");
    assert_int_equal(tvk_msg_series_at(&m, 0, &su), TVK_ENOTFOUND);
    m = parse(state, "{\"m\":\"qsd\",\"p\":[\"qs_a\",{}]}");
    assert_int_equal(tvk_msg_series(&m, "sds_1", &su), TVK_ESHAPE);
    m = parse(state, "{\"m\":\"du\",\"p\":[\"cs_a\",[]]}");
    assert_int_equal(tvk_msg_series_at(&m, 0, &su), TVK_ESHAPE);

    /* Keys in another order, extra keys, escaped key names, null values, an integral "i"
     * written as a decimal. */
    m = parse(state, "{\"m\":\"du\",\"p\":[\"c\",{\"s1\":{\"s\":["
                     "{\"v\":[10,1,2,0.5,1.5,null],\"x\":{\"i\":9},\"i\":7},"
                     "{\"\\u0069\":8.0,\"\\u0076\":[11,2,3,1,2.5,100]},"
                     "{\"ii\":1,\"i\":-3,\"v\":[12,null,3,1,2,7]}]}}]}");
    assert_int_equal(tvk_msg_series(&m, "s1", &su), 0);
    assert_int_equal(tvk_bar_next(&su.bars, &bar), 1);
    assert_true(bar.index == 7 && bar.time == 10 && bar.low == 0.5 && isnan(bar.volume));
    assert_int_equal(tvk_bar_next(&su.bars, &bar), 1);
    assert_true(bar.index == 8 && bar.time == 11 && bar.close == 2.5 && bar.volume == 100);
    assert_int_equal(tvk_bar_next(&su.bars, &bar), 1);
    assert_true(bar.index == -3 && bar.time == 12 && isnan(bar.open) && bar.volume == 7);
    assert_int_equal(tvk_bar_next(&su.bars, &bar), 0);

    /* Malformed bars stop the iteration with TVK_ESHAPE. */
    const char *bad[] = {
        "{\"m\":\"du\",\"p\":[\"c\",{\"s1\":{\"s\":[{\"i\":1,\"v\":[1,2,3,4]}]}}]}",
        "{\"m\":\"du\",\"p\":[\"c\",{\"s1\":{\"s\":[{\"v\":[1,2,3,4,5]}]}}]}",
        "{\"m\":\"du\",\"p\":[\"c\",{\"s1\":{\"s\":[{\"i\":1,\"v\":[1,\"2\",3,4,5]}]}}]}",
        "{\"m\":\"du\",\"p\":[\"c\",{\"s1\":{\"s\":[{\"i\":1.5,\"v\":[1,2,3,4,5]}]}}]}",
        "{\"m\":\"du\",\"p\":[\"c\",{\"s1\":{\"s\":[[1,2,3,4,5]]}}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        m = parse(state, bad[i]);
        assert_int_equal(tvk_msg_series(&m, "s1", &su), 0);
        assert_int_equal(tvk_bar_next(&su.bars, &bar), TVK_ESHAPE);
        assert_int_equal(tvk_bar_next(&su.bars, &bar), 0);
    }
}

static void test_wire_views_series_state(void **state)
{
    tvk_msg m = parse(state, "{\"m\":\"series_completed\",\"p\":[\"cs_68z3mne9l3wQ\",\"sds_1\","
                             "\"streaming\",\"s1\",{\"rt_update_period\":0,\"data_completed\":"
                             "\"end\"}],\"t\":1,\"t_ms\":2}");
    tvk_series_completed sc;
    assert_int_equal(tvk_msg_series_completed(&m, &sc), 0);
    eq(sc.session, "cs_68z3mne9l3wQ");
    eq(sc.series_id, "sds_1");
    eq(sc.update_mode, "streaming");
    eq(sc.turnaround, "s1");
    assert_int_equal(sc.rt_update_period, 0);
    eq(sc.data_completed, "end");
    m = parse(state, "{\"m\":\"series_completed\",\"p\":[\"cs_1\",\"sds_1\","
                     "\"delayed_streaming_900\",\"s1\"]}");
    assert_int_equal(tvk_msg_series_completed(&m, &sc), 0);
    eq(sc.update_mode, "delayed_streaming_900");
    assert_int_equal(sc.rt_update_period, -1);
    assert_int_equal(sc.data_completed.len, 0);
    m = parse(state, "{\"m\":\"series_completed\",\"p\":[\"cs_1\",2]}");
    assert_int_equal(tvk_msg_series_completed(&m, &sc), TVK_ESHAPE);

    tvk_series_loading sl;
    const char *kinds[] = {"series_loading", "study_loading", "study_completed", "study_deleted"};
    for (int i = 0; i < 4; i++) {
        char buf[160];
        snprintf(buf, sizeof buf,
                 "{\"m\":\"%s\",\"p\":[\"cs_68z3mne9l3wQ\",\"j5VbCX\",\"s1_st1\"]}", kinds[i]);
        m = parse(state, buf);
        assert_int_equal(tvk_msg_series_loading(&m, &sl), 0);
        eq(sl.session, "cs_68z3mne9l3wQ");
        eq(sl.series_id, "j5VbCX");
        eq(sl.turnaround, "s1_st1");
    }
    assert_int_equal(tvk_msg_series_loading(&m, &sl), 0);
    m = parse(state, "{\"m\":\"du\",\"p\":[\"cs\",\"x\",\"y\"]}");
    assert_int_equal(tvk_msg_series_loading(&m, &sl), TVK_ESHAPE);

    m = parse(state, "{\"m\":\"series_timeframe\",\"p\":[\"cs_1EScFq71Fjjf\",\"sds_2\",\"s1\","
                     "-224,299,\"r,1732838400:1766016000\",true]}");
    tvk_series_timeframe tf;
    assert_int_equal(tvk_msg_series_timeframe(&m, &tf), 0);
    eq(tf.series_id, "sds_2");
    assert_int_equal(tf.first_index, -224);
    assert_int_equal(tf.last_index, 299);
    eq(tf.range, "r,1732838400:1766016000");
    assert_int_equal(tf.final, 1);
    m = parse(state, "{\"m\":\"series_timeframe\",\"p\":[\"cs\",\"sds_2\",\"s1\",-224,299,"
                     "\"LASTSESSION\",\"no\"]}");
    assert_int_equal(tvk_msg_series_timeframe(&m, &tf), TVK_ESHAPE);
}

static void test_wire_views_symbol_resolved(void **state)
{
    tvk_msg m =
        parse(state, "{\"m\":\"symbol_resolved\",\"p\":[\"cs_68z3mne9l3wQ\",\"sds_sym_1\",{"
                     "\"source2\":{\"name\":\"NSE\"},\"name\":\"JUNIPER\",\"pro_name\":"
                     "\"NSE:JUNIPER\",\"full_name\":\"NSE:JUNIPER\",\"description\":\"Juniper "
                     "Hotels\",\"exchange\":\"NSE\",\"listed_exchange\":\"NSE\",\"type\":"
                     "\"stock\",\"currency_code\":\"INR\",\"pricescale\":100,\"minmov\":5,"
                     "\"session\":\"0915-1530\",\"timezone\":\"Asia/Kolkata\",\"has_intraday\":"
                     "true}],\"t\":1}");
    tvk_symbol_info si;
    assert_int_equal(tvk_msg_symbol_resolved(&m, &si), 0);
    eq(si.session, "cs_68z3mne9l3wQ");
    eq(si.symref, "sds_sym_1");
    eq(si.name, "JUNIPER");
    eq(si.pro_name, "NSE:JUNIPER");
    eq(si.full_name, "NSE:JUNIPER");
    eq(si.description, "Juniper Hotels");
    eq(si.exchange, "NSE");
    eq(si.listed_exchange, "NSE");
    eq(si.type, "stock");
    eq(si.currency_code, "INR");
    eq(si.timezone, "Asia/Kolkata");
    eq(si.session_hours, "0915-1530");
    assert_int_equal(si.pricescale, 100);
    assert_int_equal(si.minmov, 5);
    assert_int_equal(si.has_intraday, 1);
    assert_int_equal(tvk_json_type(m.json, si.info), TVK_J_OBJECT);
    m = parse(state, "{\"m\":\"symbol_resolved\",\"p\":[\"cs\",\"sym\",{}]}");
    assert_int_equal(tvk_msg_symbol_resolved(&m, &si), 0);
    assert_int_equal(si.has_intraday, -1);
    assert_int_equal(si.name.len, 0);
    m = parse(state, "{\"m\":\"symbol_resolved\",\"p\":[\"cs\",\"sym\"]}");
    assert_int_equal(tvk_msg_symbol_resolved(&m, &si), TVK_ESHAPE);
}

static void test_wire_views_errors(void **state)
{
    tvk_error_info e;
    tvk_msg m = parse(state, "{\"m\":\"critical_error\",\"p\":[\"cs_casjcotuguzl\",\"invalid "
                             "parameters\",\"method: create_series. args: \\\"[sds_1, s1, "
                             "sds_sym_1, s1, 1, ]\\\"\"]}");
    assert_int_equal(tvk_msg_error(&m, &e), 0);
    eq(e.session, "cs_casjcotuguzl");
    eq(e.reason, "invalid parameters");
    eq(e.detail, "method: create_series. args: \\\"[sds_1, s1, sds_sym_1, s1, 1, ]\\\"");
    assert_int_equal(e.id.len, 0);
    m = parse(state, "{\"m\":\"protocol_error\",\"p\":[\"{unknown_session_id,<<\\\"create_series"
                     "\\\">>}\"]}");
    assert_int_equal(tvk_msg_error(&m, &e), 0);
    assert_int_equal(e.session.len, 0);
    eq(e.reason, "{unknown_session_id,<<\\\"create_series\\\">>}");
    m = parse(state, "{\"m\":\"symbol_error\",\"p\":[\"cs_a\",\"sds_sym_1\",\"invalid symbol\"]}");
    assert_int_equal(tvk_msg_error(&m, &e), 0);
    eq(e.id, "sds_sym_1");
    eq(e.reason, "invalid symbol");
    assert_int_equal(e.detail.len, 0);
    m = parse(state, "{\"m\":\"series_error\",\"p\":[\"cs_a\",\"sds_1\",\"s1\",\"resolve error\","
                     "\"sin1-charts-free-4-tvbs-pojul-5@x\"]}");
    assert_int_equal(tvk_msg_error(&m, &e), 0);
    eq(e.id, "sds_1");
    eq(e.reason, "resolve error");
    eq(e.detail, "sin1-charts-free-4-tvbs-pojul-5@x");
    m = parse(state, "{\"m\":\"study_error\",\"p\":[\"cs_a\",\"st1\",\"s1_st1\",{\"error\":"
                     "\"Error on bar 5\",\"ctx\":{}},\"extra\"]}");
    assert_int_equal(tvk_msg_error(&m, &e), 0);
    eq(e.id, "st1");
    assert_int_equal(tvk_json_type(m.json, e.reason_tok), TVK_J_OBJECT);
    eq(e.reason, "{\"error\":\"Error on bar 5\",\"ctx\":{}}");
    eq(e.detail, "extra");
    m = parse(state, "{\"m\":\"replay_error\",\"p\":[\"rs_1\",\"req_1\",\"no data\"]}");
    assert_int_equal(tvk_msg_error(&m, &e), 0);
    eq(e.session, "rs_1");
    eq(e.id, "req_1");
    eq(e.reason, "no data");
    m = parse(state, "{\"m\":\"critical_error\",\"p\":[\"cs\"]}");
    assert_int_equal(tvk_msg_error(&m, &e), TVK_ESHAPE);
    m = parse(state, "{\"m\":\"qsd\",\"p\":[\"a\",\"b\",\"c\"]}");
    assert_int_equal(tvk_msg_error(&m, &e), TVK_ESHAPE);
}

static void test_wire_views_quotes(void **state)
{
    tvk_msg m = parse(state, "{\"m\":\"qsd\",\"p\":[\"qs_x\",{\"n\":\"={\\\"adjustment\\\":"
                             "\\\"splits\\\",\\\"symbol\\\":\\\"BINANCE:BTCUSDT\\\"}\",\"s\":"
                             "\"ok\",\"v\":{\"lp\":87000.5,\"ch\":-12.5,\"volume\":1e+100,"
                             "\"description\":\"Bitcoin\"}}]}");
    tvk_qsd q;
    assert_int_equal(tvk_msg_qsd(&m, &q), 0);
    eq(q.session, "qs_x");
    eq(q.symbol, "={\\\"adjustment\\\":\\\"splits\\\",\\\"symbol\\\":\\\"BINANCE:BTCUSDT\\\"}");
    assert_int_equal(q.ok, 1);
    assert_int_equal(q.nfields, 4);
    const char *names[] = {"lp", "ch", "volume", "description"};
    for (int i = 0; i < 4; i++) {
        tvk_str name;
        int v;
        assert_int_equal(tvk_qsd_field(&m, &q, i, &name, &v), 0);
        eq(name, names[i]);
        if (i == 1) {
            double d;
            assert_int_equal(tvk_json_double(m.json, v, &d), 0);
            assert_true(d == -12.5);
        }
        if (i == 3) assert_int_equal(tvk_json_str_eq(m.json, v, "Bitcoin"), 1);
    }
    tvk_str name;
    int v;
    assert_int_equal(tvk_qsd_field(&m, &q, 4, &name, &v), TVK_ENOTFOUND);
    assert_int_equal(tvk_qsd_field(&m, &q, -1, &name, &v), TVK_ENOTFOUND);
    m = parse(state, "{\"m\":\"qsd\",\"p\":[\"qs_x\",{\"n\":\"FOREX:EURUSD\",\"s\":\"error\","
                     "\"errmsg\":\"no_such_symbol\",\"v\":{}}]}");
    assert_int_equal(tvk_msg_qsd(&m, &q), 0);
    assert_int_equal(q.ok, 0);
    eq(q.symbol, "FOREX:EURUSD");
    eq(q.errmsg, "no_such_symbol");
    assert_int_equal(q.nfields, 0);
    assert_int_equal(tvk_qsd_field(&m, &q, 0, &name, &v), TVK_ENOTFOUND);
    m = parse(state, "{\"m\":\"qsd\",\"p\":[\"qs_x\",{\"s\":\"ok\"}]}");
    assert_int_equal(tvk_msg_qsd(&m, &q), TVK_ESHAPE);
    m = parse(state, "{\"m\":\"qsd\",\"p\":[\"qs_x\",{\"n\":\"A:B\",\"s\":\"ok\"}]}");
    assert_int_equal(tvk_msg_qsd(&m, &q), 0);
    assert_int_equal(q.values, -1);

    m = parse(state, "{\"m\":\"quote_completed\",\"p\":[\"qs_x\",\"NSE:JUNIPER\"]}");
    tvk_quote_completed qc;
    assert_int_equal(tvk_msg_quote_completed(&m, &qc), 0);
    eq(qc.session, "qs_x");
    eq(qc.symbol, "NSE:JUNIPER");
    m = parse(state, "{\"m\":\"quote_completed\",\"p\":[\"qs_x\"]}");
    assert_int_equal(tvk_msg_quote_completed(&m, &qc), TVK_ESHAPE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wire_views_classify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wire_views_hello, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wire_views_bars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wire_views_series_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wire_views_symbol_resolved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wire_views_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wire_views_quotes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
