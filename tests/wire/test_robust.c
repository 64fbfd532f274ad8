/* Mutated real traffic through the reader and every view: whatever the bytes, each call returns
 * one of the documented codes, the packet loop ends, and (under ASan) nothing is read outside
 * the message. Deterministic: a fixed seed. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tvkit/wire.h"

#include "wire_testutil.h"

static const char *captures;

typedef struct lines {
    char **v;
    size_t *len;
    size_t n;
} lines;

/* Keeps each line in an allocation of its own (exact size, for ASan). */
static int keep_line(void *ctx, const char *line, size_t n)
{
    lines *L = ctx;
    char **v = realloc(L->v, (L->n + 1) * sizeof *L->v);
    if (v) L->v = v;
    size_t *len = realloc(L->len, (L->n + 1) * sizeof *L->len);
    if (len) L->len = len;
    char *copy = malloc(n + 1);
    if (!v || !len || !copy) {
        free(copy);
        fprintf(stderr, "out of memory keeping capture line %zu\n", L->n + 1);
        return -1;
    }
    memcpy(copy, line, n);
    L->v[L->n] = copy;
    L->len[L->n++] = n;
    return 0;
}

static void load(lines *L, const char *file)
{
    if (wt_each_line(captures, file, keep_line, L)) fail_msg("cannot load capture %s", file);
}

static int known(int rc)
{
    switch (rc) {
    case 0:
    case 1:
    case TVK_EFRAME_LENDIGITS:
    case TVK_EFRAME_LENPAST:
    case TVK_EFRAME_NOMARK:
    case TVK_EFRAME_EMPTY:
    case TVK_EFRAME_LENGTH:
    case TVK_EJSON:
    case TVK_ESHAPE:
    case TVK_ENUMBER:
        return 1;
    }
    return 0;
}

static void all_views(const tvk_msg *m)
{
    tvk_hello h;
    tvk_qsd q;
    tvk_quote_completed qc;
    tvk_series_update su;
    tvk_series_completed sc;
    tvk_series_loading sl;
    tvk_series_timeframe tf;
    tvk_symbol_info si;
    tvk_error_info e;
    tvk_msg_hello(m, &h);
    if (tvk_msg_qsd(m, &q) == 0) {
        tvk_str name;
        int v;
        for (int i = 0; tvk_qsd_field(m, &q, i, &name, &v) == 0; i++) {
            double d;
            char buf[64];
            tvk_json_double(m->json, v, &d);
            tvk_json_str(m->json, v, buf, sizeof buf, NULL);
        }
    }
    tvk_msg_quote_completed(m, &qc);
    for (int i = 0; tvk_msg_series_at(m, i, &su) == 0; i++) {
        tvk_bar b;
        int rc;
        while ((rc = tvk_bar_next(&su.bars, &b)) == 1)
            ;
        assert_true(rc == 0 || rc == TVK_ESHAPE);
    }
    tvk_msg_series(m, "sds_1", &su);
    tvk_msg_series_completed(m, &sc);
    tvk_msg_series_loading(m, &sl);
    tvk_msg_series_timeframe(m, &tf);
    tvk_msg_symbol_resolved(m, &si);
    tvk_msg_error(m, &e);
}

static void test_wire_robust_mutations(void **state)
{
    (void)state;
    lines L = {0};
    load(&L, "stock-tools_trading-chart_har_server_to_client.txt");
    load(&L, "tradingview-rs_socket_messages_split.txt");
    load(&L, "tradingview-rs_events_reserialized.jsonl");
    static const char alphabet[] = "~m~0123456789{}[]\":,\\h-.eE \x01\xc3\xa9\xff";
    uint64_t x = 0x1234567887654321ULL;
    tvk_reader *r = tvk_reader_new(1 << 20);
    long packets = 0, errors = 0;
    for (int it = 0; it < 4000; it++) {
        size_t li = wt_rnd(&x, (unsigned)L.n);
        size_t len = L.len[li];
        /* A window of at most 2 KiB, starting at a packet boundary when there is one. */
        size_t start = 0;
        if (len > 2048) {
            start = wt_rnd(&x, (unsigned)(len - 2048));
            const char *mk = memmem(L.v[li] + start, len - start, "~m~", 3);
            if (mk && wt_rnd(&x, 4)) start = (size_t)(mk - L.v[li]);
            len = len - start < 2048 ? len - start : 2048;
        }
        char *buf = malloc(len + 8);
        memcpy(buf, L.v[li] + start, len);
        int muts = (int)wt_rnd(&x, 5);
        for (int k = 0; k < muts; k++) {
            size_t pos = len ? wt_rnd(&x, (unsigned)len) : 0;
            char c = alphabet[wt_rnd(&x, sizeof alphabet - 1)];
            switch (wt_rnd(&x, 3)) {
            case 0:
                if (len) buf[pos] = c;
                break;
            case 1:
                memmove(buf + pos + 1, buf + pos, len - pos);
                buf[pos] = c;
                len++;
                break;
            default:
                if (len) {
                    memmove(buf + pos, buf + pos + 1, len - pos - 1);
                    len--;
                }
            }
            if (len > 2048 + 4) break;
        }
        /* Exact size, so ASan flags any read past the end. */
        char *msg = malloc(len ? len : 1);
        memcpy(msg, buf, len);
        free(buf);
        tvk_msg m;
        int rc;
        if (len >= 3 && !memcmp(msg, "~m~", 3)) {
            assert_int_equal(tvk_reader_feed(r, msg, len), 0);
            size_t guard = 0;
            while ((rc = tvk_reader_next_msg(r, &m)) != 0) {
                if (!known(rc)) fail_msg("unexpected code %d (%s)", rc, tvk_reader_errmsg(r));
                assert_true(++guard <= len + 1);
                if (rc < 0) {
                    errors++;
                    assert_true(tvk_reader_errmsg(r)[0] != '\0');
                    continue;
                }
                packets++;
                if (m.json) all_views(&m);
            }
        } else {
            rc = tvk_reader_parse_payload(r, msg, len, &m);
            if (!known(rc)) fail_msg("unexpected code %d", rc);
            if (rc == 0) all_views(&m);
        }
        free(msg);
    }
    print_message("mutated messages: %ld packets decoded, %ld errors reported\n", packets, errors);
    assert_true(packets > 0 && errors > 0);
    tvk_reader_free(r);
    for (size_t i = 0; i < L.n; i++)
        free(L.v[i]);
    free(L.v);
    free(L.len);
}

int main(int argc, char **argv)
{
    captures = wt_captures_dir(argc, argv);
    if (!captures) return 2;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_robust_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
