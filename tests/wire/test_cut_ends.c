/* Documents cut at every byte (src/wire/scan.h scan_at): number_short reads up to 26 bytes past a
 * number's start without end tests, and now runs anywhere in a document whose last byte is
 * neither a digit nor '.'. Every reader that scans with it (the tokenizer, the plain qsd reader,
 * the plain history reader, the lazy reader of framed messages) is given documents made from
 * real-shaped packets cut at every byte and then ended by every kind of byte ('-', 'e', '+',
 * ' ', '"', digits, '.', brackets, ','), each in a heap block of exactly its size (ASan sees any
 * read past it). What is accepted must agree: the plain readers with the generic path, and
 * every number token with strtod on its text. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bars_same.h"
#include "qsd_same.h"
#include "tvkit/wire.h"
#include "wire/internal.h" /* tvk_json_parse */

static const char *const templates[] = {
    /* a quote change as the server sends it, numbers of every shape near its end */
    "{\"m\":\"qsd\",\"p\":[\"qs_abcdefghijkl\",{\"n\":\"NASDAQ:AAPL\",\"s\":\"ok\",\"v\":{"
    "\"lp\":236.05,\"ch\":-0.5,\"chp\":-0.21,\"lp_time\":1748304000,\"volume\":13823925.0,"
    "\"a\":0,\"b\":-0,\"c\":1234567.12345678,\"d\":123456789012345,\"e\":1234567890123456,"
    "\"f\":0.000000001,\"g\":1e5,\"h\":-2.5E-3,\"i\":\"x\",\"j\":9}}]}",
    /* a history answer (plain layout), a bar with and without volume, the root's "t" last */
    "{\"m\":\"timescale_update\",\"p\":[\"cs_abcdefghijkl\",{\"sds_1\":{\"node\":\"n1\",\"s\":["
    "{\"i\":0,\"v\":[1748304000.0,236.05,237.1,235.0,236.5,13823925.0]},"
    "{\"i\":1,\"v\":[1748390400.0,-1.5,2,3,4]}],\"ns\":{\"d\":\"\",\"indexes\":[]},"
    "\"t\":\"s1\",\"lbs\":{\"bar_close_time\":1748476800}}},{\"index\":1,\"zoffset\":0}],"
    "\"t\":1748304000,\"t_ms\":1748304000123}",
    "{\"m\":\"du\",\"p\":[\"cs_abcdefghijkl\",{\"sds_1\":{\"s\":[{\"i\":7,\"v\":[1748304000.0,1,"
    "2,3,4.12345678,5]}],\"t\":\"s1\",\"lbs\":{\"bar_close_time\":1748304060}}}]}",
    /* plain arrays of numbers of every length */
    "[1,-2,3.5,-0.25,123456789012345,1234567890123456,1.5e3,0,-0,12.345678901,99999999.99999999]",
    "{\"x\":[0.1,22.22,333.333,4444.4444,55555.55555,666666.666666,7777777.7777777]}",
};

static const char enders[] = "-eE+ \"09.}],x:";

typedef struct bars {
    tvk_bar v[16];
    size_t n;
} bars;

static int take_bar(void *user, const tvk_bar *b)
{
    bars *bs = user;
    if (bs->n == 16) return -1;
    bs->v[bs->n++] = *b;
    return 0;
}

typedef struct tally {
    long docs, json_ok, qsd_ok, bars_ok, numbers;
} tally;

/* Every number token of an accepted document against strtod on its text. */
static void check_numbers(tvk_json *j, const char *doc, size_t n, tally *tl)
{
    int nt = tvk_json_count(j);
    for (int t = 0; t < nt; t++) {
        if (tvk_json_type(j, t) != TVK_J_NUMBER) continue;
        const char *p;
        size_t len;
        assert_int_equal(tvk_json_raw(j, t, &p, &len), 0);
        assert_true(p >= doc && p + len <= doc + n);
        char text[64];
        assert_true(len < sizeof text);
        memcpy(text, p, len);
        text[len] = '\0';
        double got, want = strtod(text, NULL);
        assert_int_equal(tvk_json_double(j, t, &got), 0);
        if (memcmp(&got, &want, sizeof got))
            fail_msg("number \"%s\" read as %.17g, strtod says %.17g (document of %zu bytes)", text,
                     got, want, n);
        tl->numbers++;
    }
}

static void check_doc(tvk_reader *r, tvk_reader *r2, tvk_json *j, const char *src, size_t n,
                      tally *tl)
{
    char *doc = malloc(n);
    assert_non_null(doc);
    memcpy(doc, src, n);
    tl->docs++;

    size_t at;
    const char *why;
    if (tvk_json_parse(j, doc, n, &at, &why) == 0) {
        tl->json_ok++;
        check_numbers(j, doc, n, tl);
    }

    tvk_qsd_plain q;
    if (tvk_qsd_plain_parse(doc, n, &q) == 1) {
        tl->qsd_ok++;
        int d = qsd_same(r, doc, n, &q);
        if (d) fail_msg("plain qsd differs from the generic path (%d): %.*s", d, (int)n, doc);
    }

    tvk_series_plain u;
    bars bs = {.n = 0};
    if (tvk_series_plain_parse(doc, n, "sds_1", &u, take_bar, &bs) == 1) {
        tl->bars_ok++;
        char whyb[256];
        if (!bars_same(r, doc, n, "sds_1", &u, bs.v, bs.n, whyb, sizeof whyb))
            fail_msg("plain bars differ: %s: %.*s", whyb, (int)n, doc);
    }
    tvk_msg m;
    (void)tvk_reader_parse_payload(r, doc, n, &m);
    free(doc);

    /* framed, in a block that ends with the payload: the lazy reader's scan of its session and
     * the readers it hands the packet to */
    char head[32];
    int hl = snprintf(head, sizeof head, "~m~%zu~m~", n);
    char *msg = malloc((size_t)hl + n);
    assert_non_null(msg);
    memcpy(msg, head, (size_t)hl);
    memcpy(msg + hl, src, n);
    assert_int_equal(tvk_reader_feed(r2, msg, (size_t)hl + n), 0);
    tvk_qsd_plain q2;
    int rc;
    while ((rc = tvk_reader_next_lazy(r2, &m, &q2)) != 0) {
        if (rc == 3) {
            tvk_series_plain u2;
            bars bs2 = {.n = 0};
            (void)tvk_series_plain_parse(m.pkt.data, m.pkt.len, "sds_1", &u2, take_bar, &bs2);
            (void)tvk_reader_tokenize(r2, &m);
        }
        if (rc < 0 && rc != TVK_EJSON && rc != TVK_ESHAPE && rc != TVK_ENUMBER) break;
    }
    free(msg);
}

static void test_wire_cut_ends(void **state)
{
    (void)state;
    tvk_reader *r = tvk_reader_new(0), *r2 = tvk_reader_new(0);
    tvk_json *j = tvk_json_new();
    assert_non_null(r);
    assert_non_null(r2);
    assert_non_null(j);
    tally tl = {0};
    for (size_t t = 0; t < sizeof templates / sizeof templates[0]; t++) {
        const char *tp = templates[t];
        size_t len = strlen(tp);
        /* the whole template is accepted by the readers it is meant for */
        tally before = tl;
        check_doc(r, r2, j, tp, len, &tl);
        assert_int_equal(tl.json_ok, before.json_ok + 1);
        if (t == 0) assert_int_equal(tl.qsd_ok, before.qsd_ok + 1);
        if (t == 1 || t == 2) assert_int_equal(tl.bars_ok, before.bars_ok + 1);
        char buf[1024];
        assert_true(len + 2 <= sizeof buf);
        for (size_t k = 1; k <= len; k++) {
            memcpy(buf, tp, k);
            check_doc(r, r2, j, buf, k, &tl);
            for (size_t e = 0; e < sizeof enders - 1; e++) {
                buf[k] = enders[e];
                check_doc(r, r2, j, buf, k + 1, &tl);
                /* the cut template closed again after the ender ("...12e}]}") */
                size_t rest = len - k < 4 ? len - k : 4;
                memcpy(buf + k + 1, tp + len - rest, rest);
                check_doc(r, r2, j, buf, k + 1 + rest, &tl);
            }
        }
    }
    print_message("%ld documents: %ld JSON, %ld plain qsd, %ld plain bars; %ld numbers checked\n",
                  tl.docs, tl.json_ok, tl.qsd_ok, tl.bars_ok, tl.numbers);
    assert_true(tl.numbers > 10000);
    tvk_json_free(j);
    tvk_reader_free(r);
    tvk_reader_free(r2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_cut_ends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
