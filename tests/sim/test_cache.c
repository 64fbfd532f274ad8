/* The history answer cache (--answer-cache-mb): answers served from it are byte for byte what
 * the sim's generator gives for the same request, with each request's own session, series and
 * turn ids and a fresh forming bar; the same holds with the cache off and with a bound too small
 * for the answers; the bound is kept. The expected packets are built here with the sim's
 * generator and encoder (sim_bars_at, sim_enc_timescale_update), whose text test_market pins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "answer_cache.h"
#include "harness.h"
#include "market.h"
#include "proto.h"
#include "tvkit/error.h"

/* Monday 2024-06-03 16:30 UTC: inside the US session and inside a SIM: day, so the newest daily
 * bar is forming. --speed 0.001 holds the market clock on that second for the test's length,
 * so the forming bar's values are known here. */
#define START 1717432200
#define START_S "1717432200"
#define SEED 1
#define WAIT 10000
#define HISTORY 100000

static void connect_ok(hs_sim *s, hs_client *c)
{
    assert_int_equal(hs_connect(c, s->url, NULL, 0, 1, 0), 0);
}

/* chart_create_session, resolve_symbol and create_series with the given ids. */
static void chart(hs_client *c, const char *cs, const char *sid, const char *turn, const char *sym,
                  const char *res, int count)
{
    char p[512];
    snprintf(p, sizeof p, "[\"%s\",\"\"]", cs);
    assert_int_equal(hs_send(c, "chart_create_session", p), 0);
    snprintf(p, sizeof p, "[\"%s\",\"ref_%s\",\"%s\"]", cs, sid, sym);
    assert_int_equal(hs_send(c, "resolve_symbol", p), 0);
    snprintf(p, sizeof p, "[\"%s\",\"%s\",\"%s\",\"ref_%s\",\"%s\",%d]", cs, sid, turn, sid, res,
             count);
    assert_int_equal(hs_send(c, "create_series", p), 0);
}

/* The next timescale_update's payload, copied into out (NUL-terminated); then reads on to the
 * series_completed that ends the answer. */
static void read_answer(hs_client *c, tvk_buf *out)
{
    tvk_msg m;
    assert_int_equal(hs_wait(c, "timescale_update", &m, WAIT), 1);
    tvk_buf_reset(out);
    assert_int_equal(tvk_buf_append(out, m.pkt.data, m.pkt.len), 0);
    assert_int_equal(hs_wait(c, "series_completed", &m, WAIT), 1);
}

static int64_t t_ms_of(const tvk_buf *pkt)
{
    const char *k = strstr(pkt->data, ",\"t_ms\":");
    assert_non_null(k);
    return strtoll(k + 8, NULL, 10);
}

typedef struct want {
    const char *sym, *res;
    int64_t from, to, base; /* slots; base = the slot at index 0 */
    int64_t scale_index, zoffset;
    const char *cs, *sid, *turn;
} want;

/* The payload the sim must send for w at market time START, stamped with the received
 * packet's own t_ms (the clock, not the bars, is what the stamp shows). */
static void expected(const want *w, int64_t t_ms, tvk_buf *out)
{
    sim_symbol sym;
    sim_res r;
    assert_int_equal(sim_symbol_lookup(SEED, w->sym, &sym), 0);
    assert_int_equal(sim_res_parse(w->res, &r), 0);
    size_t n = (size_t)(w->to - w->from + 1);
    sim_bar *bars = malloc(n * sizeof *bars);
    assert_non_null(bars);
    sim_bars_at(&sym, &r, w->from, n, START, bars);
    tvk_buf framed;
    tvk_buf_init(&framed);
    sim_enc e;
    sim_enc_init(&e, &framed);
    e.now_ms = t_ms;
    assert_int_equal(
        sim_enc_timescale_update(&e, w->cs, w->sid, w->turn, bars, (int)n, w->from - w->base,
                                 sim_slot_close(&sym, &r, w->to) - 1, w->scale_index, w->zoffset),
        0);
    const char *body = strstr(framed.data + 3, "~m~");
    assert_non_null(body);
    body += 3;
    tvk_buf_reset(out);
    assert_int_equal(tvk_buf_append(out, body, framed.len - (size_t)(body - framed.data)), 0);
    sim_enc_free(&e);
    tvk_buf_free(&framed);
    free(bars);
}

static void assert_answer(const tvk_buf *got, const want *w)
{
    tvk_buf exp;
    tvk_buf_init(&exp);
    expected(w, t_ms_of(got), &exp);
    assert_int_equal(got->len, exp.len);
    assert_memory_equal(got->data, exp.data, exp.len);
    tvk_buf_free(&exp);
}

/* A count-mode answer of count bars ending at the current slot. */
static want count_answer(const char *sym, const char *res, int count, const char *cs,
                         const char *sid, const char *turn)
{
    sim_symbol s;
    sim_res r;
    assert_int_equal(sim_symbol_lookup(SEED, sym, &s), 0);
    assert_int_equal(sim_res_parse(res, &r), 0);
    int64_t cur = sim_slot_of(&s, &r, START);
    want w = {sym, res, cur - count + 1, cur, cur - count + 1, 0, 0, cs, sid, turn};
    return w;
}

/* The request_more_data page of n bars before w. */
static want page_before(const want *w, int n, const char *cs, const char *sid, const char *turn)
{
    want p = *w;
    p.to = w->from - 1;
    p.from = p.to - n + 1;
    p.scale_index = p.from - p.base;
    p.zoffset = -p.scale_index;
    p.cs = cs;
    p.sid = sid;
    p.turn = turn;
    return p;
}

static int forming_at_start(const char *sym, const char *res)
{
    sim_symbol s;
    sim_res r;
    assert_int_equal(sim_symbol_lookup(SEED, sym, &s), 0);
    assert_int_equal(sim_res_parse(res, &r), 0);
    int64_t cur = sim_slot_of(&s, &r, START);
    return START >= sim_slot_start(&s, &r, cur) && START < sim_slot_close(&s, &r, cur);
}

typedef struct cache_line {
    int found;
    unsigned long long hits, misses, stored, evicted, too_big;
    size_t entries, bytes, max_bytes;
    unsigned long long deflated, spliced; /* pre-compressed texts made, and sent */
    size_t deflated_bytes;
} cache_line;

/* The sim's closing "answer cache: ..." diagnostic, from its stderr file. */
static cache_line read_cache_line(const char *path)
{
    cache_line cl;
    memset(&cl, 0, sizeof cl);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "answer cache: ");
        if (!p) continue;
        int n = sscanf(p,
                       "answer cache: %llu hits, %llu misses, %llu stored, %llu evicted, %llu "
                       "too big; %zu entries, %zu of %zu bytes",
                       &cl.hits, &cl.misses, &cl.stored, &cl.evicted, &cl.too_big, &cl.entries,
                       &cl.bytes, &cl.max_bytes);
        assert_int_equal(n, 8);
        const char *q = strstr(p, " bytes; ");
        assert_non_null(q);
        n = sscanf(q, " bytes; %llu pre-compressed (%zu bytes held), %llu spliced into answers",
                   &cl.deflated, &cl.deflated_bytes, &cl.spliced);
        assert_int_equal(n, 3);
        cl.found = 1;
    }
    fclose(f);
    return cl;
}

static void test_repeats_identical_with_own_ids(void **st)
{
    (void)st;
    char errf[256];
    hs_tmpname(errf, sizeof errf, "cache_err");
    hs_sim s;
    const char *args[] = {"--start", START_S, "--speed", "0.001", "--heartbeat", "60", NULL};
    assert_int_equal(hs_start_err(&s, args, errf), 0);
    hs_client a, b;
    connect_ok(&s, &a);
    connect_ok(&s, &b);
    tvk_buf got, other;
    tvk_buf_init(&got);
    tvk_buf_init(&other);
    /* The daily bar at START is forming: the cached complete bars and a fresh last bar. */
    assert_true(forming_at_start("SIM:M000", "1D"));
    assert_true(forming_at_start("NASDAQ:AAPL", "1D"));

    chart(&a, "cs_aaaaaaaaaaaa", "sds_1", "s1", "SIM:M000", "1D", 5000);
    read_answer(&a, &got);
    want w1 = count_answer("SIM:M000", "1D", 5000, "cs_aaaaaaaaaaaa", "sds_1", "s1");
    assert_answer(&got, &w1);

    /* The same bars for another session, series and turn: from the cache, with those ids. */
    chart(&b, "cs_second_sess", "sds_42", "s7", "SIM:M000", "1D", 5000);
    read_answer(&b, &other);
    want w2 = count_answer("SIM:M000", "1D", 5000, "cs_second_sess", "sds_42", "s7");
    assert_answer(&other, &w2);
    assert_null(strstr(other.data, "cs_aaaaaaaaaaaa"));
    assert_null(strstr(other.data, "\"sds_1\""));

    /* Paging: indexes before 0, the same on both connections. */
    assert_int_equal(hs_send(&b, "request_more_data", "[\"cs_second_sess\",\"sds_42\",3000]"), 0);
    read_answer(&b, &other);
    want p2 = page_before(&w2, 3000, "cs_second_sess", "sds_42", "s7");
    assert_answer(&other, &p2);
    assert_int_equal(hs_send(&a, "request_more_data", "[\"cs_aaaaaaaaaaaa\",\"sds_1\",3000]"), 0);
    read_answer(&a, &got);
    want p1 = page_before(&w1, 3000, "cs_aaaaaaaaaaaa", "sds_1", "s1");
    assert_answer(&got, &p1);

    /* A session-bound symbol, 300 bars, asked twice. */
    chart(&a, "cs_third_sessn", "sds_1", "s1", "NASDAQ:AAPL", "1D", 300);
    read_answer(&a, &got);
    want w3 = count_answer("NASDAQ:AAPL", "1D", 300, "cs_third_sessn", "sds_1", "s1");
    assert_answer(&got, &w3);
    chart(&b, "cs_fourth_sess", "sds_1", "s1", "NASDAQ:AAPL", "1D", 300);
    read_answer(&b, &other);
    want w4 = count_answer("NASDAQ:AAPL", "1D", 300, "cs_fourth_sess", "sds_1", "s1");
    assert_answer(&other, &w4);

    hs_close(&a);
    hs_close(&b);
    assert_int_equal(hs_stop(&s), 0);
    cache_line cl = read_cache_line(errf);
    assert_true(cl.found);
    /* Three distinct runs of complete bars, each asked for twice. */
    assert_int_equal(cl.misses, 3);
    assert_int_equal(cl.hits, 3);
    assert_int_equal(cl.stored, 3);
    assert_int_equal(cl.evicted, 0);
    assert_int_equal(cl.entries, 3);
    assert_int_equal(cl.max_bytes, (size_t)64 << 20);
    /* 5,000 bars (~390 KB of bars, ~65 KB of times) and the 3,000-bar page: both texts of each
     * pre-compressed once and spliced into both of its answers; the 300-bar run (< 32 KiB)
     * never */
    assert_int_equal(cl.deflated, 4);
    assert_int_equal(cl.spliced, 8);
    tvk_buf_free(&got);
    tvk_buf_free(&other);
    unlink(errf);
}

/* Four symbols' 5,000-bar answers twice over, with the cache off and with a small bound
 * two of them: every answer right, and the bound kept. */
static void run_small_bound(const char *mb, cache_line *cl)
{
    char errf[256];
    hs_tmpname(errf, sizeof errf, "cache_err");
    hs_sim s;
    const char *args[] = {"--start",           START_S, "--speed", "0.001", "--heartbeat", "60",
                          "--answer-cache-mb", mb,      NULL};
    assert_int_equal(hs_start_err(&s, args, errf), 0);
    hs_client c;
    connect_ok(&s, &c);
    tvk_buf got;
    tvk_buf_init(&got);
    for (int round = 0; round < 2; round++)
        for (int k = 0; k < 4; k++) {
            char sym[32], cs[32];
            snprintf(sym, sizeof sym, "SIM:M%03d", k);
            snprintf(cs, sizeof cs, "cs_round%d_sym%d", round, k);
            chart(&c, cs, "sds_1", "s1", sym, "1D", 5000);
            read_answer(&c, &got);
            want w = count_answer(sym, "1D", 5000, cs, "sds_1", "s1");
            assert_answer(&got, &w);
        }
    hs_close(&c);
    assert_int_equal(hs_stop(&s), 0);
    *cl = read_cache_line(errf);
    tvk_buf_free(&got);
    unlink(errf);
}

static void test_off_and_tiny_bound(void **st)
{
    (void)st;
    cache_line cl;
    run_small_bound("0", &cl);
    assert_false(cl.found); /* no cache at all */

    run_small_bound("1", &cl);
    assert_true(cl.found);
    assert_int_equal(cl.max_bytes, (size_t)1 << 20);
    assert_true(cl.bytes <= cl.max_bytes);
    /* ~390 KB per answer: two fit, so cycling through four evicts each before its repeat. */
    assert_int_equal(cl.hits, 0);
    assert_int_equal(cl.misses, 8);
    assert_int_equal(cl.stored, 8);
    /* ~390 KB of text and ~150 KB of its pre-compressed form (the client deflates) per answer:
     * a second answer's text fits, but making its compressed form evicts the first. Every
     * answer is still sent spliced (bars and times), and identical (checked above). */
    assert_int_equal(cl.evicted, 7);
    assert_int_equal(cl.entries, 1);
    assert_int_equal(cl.deflated, 16);
    assert_int_equal(cl.spliced, 16);
    assert_true(cl.deflated_bytes > 0 && cl.deflated_bytes < cl.bytes);
}

/* --latency holds answers with their pre-compressed pieces in the queue; a connection without
 * permessage-deflate gets the same text without them. */
static void test_latency_and_uncompressed(void **st)
{
    (void)st;
    char errf[256];
    hs_tmpname(errf, sizeof errf, "cache_err");
    hs_sim s;
    const char *args[] = {"--start", START_S,     "--speed", "0.001", "--heartbeat",
                          "60",      "--latency", "20",      NULL};
    assert_int_equal(hs_start_err(&s, args, errf), 0);
    hs_client a, b;
    connect_ok(&s, &a);
    assert_int_equal(hs_connect(&b, s.url, NULL, 0, 0, 0), 0);
    tvk_buf got;
    tvk_buf_init(&got);
    for (int round = 0; round < 2; round++)
        for (int k = 0; k < 2; k++) {
            hs_client *c = k ? &b : &a;
            char cs[32];
            snprintf(cs, sizeof cs, "cs_lat%d_conn%d", round, k);
            /* the answer waits 20 ms in the latency queue, holding its pieces */
            chart(c, cs, "sds_1", "s1", "SIM:M001", "1D", 5000);
            read_answer(c, &got);
            want w = count_answer("SIM:M001", "1D", 5000, cs, "sds_1", "s1");
            assert_answer(&got, &w);
        }
    hs_close(&a);
    hs_close(&b);
    assert_int_equal(hs_stop(&s), 0);
    cache_line cl = read_cache_line(errf);
    assert_true(cl.found);
    assert_int_equal(cl.misses, 1);
    assert_int_equal(cl.hits, 3);
    assert_int_equal(cl.deflated, 2); /* made once, for the first answer on the deflating one */
    assert_int_equal(cl.spliced, 4);  /* both of its answers; none on the other */
    tvk_buf_free(&got);
    unlink(errf);
}

/* ---------------------------------------------------------------- the cache itself */

static sim_answer_key key_of(const char *sym, int64_t from)
{
    sim_answer_key k = {sym, {SIM_RES_DAYS, 1}, from, 100, 0};
    return k;
}

static sim_bars_text text_of(const char *bars, const char *times)
{
    sim_bars_text t = {bars, strlen(bars), times, strlen(times)};
    return t;
}

/* The pre-compressed forms: made once per entry and window, counted in the bound, only for texts
 * of 32 KiB or more, and alive while a reference is held after their entry is evicted. */
static void test_deflated_forms(void **st)
{
    (void)st;
    size_t n = 40000;
    char *bars = malloc(n + 1);
    assert_non_null(bars);
    for (size_t i = 0; i < n; i++)
        bars[i] = (char)('0' + (i * 7 + i / 13) % 10);
    bars[n] = 0;
    sim_answer_cache *c = sim_answer_cache_new(120000);
    assert_non_null(c);
    sim_answer_key k1 = key_of("SIM:A", 1), k2 = key_of("SIM:B", 1), k3 = key_of("SIM:C", 1);
    sim_bars_text t = text_of(bars, "1.0,2.0");
    sim_zpiece *zb = NULL, *zt = NULL;
    assert_int_equal(sim_answer_cache_deflated(c, &k1, 1, 15, &zb, &zt), 0); /* no entry */
    assert_int_equal(sim_answer_cache_put(c, &k1, &t), 0);
    assert_int_equal(sim_answer_cache_deflated(c, &k1, 1, 15, &zb, &zt), 1);
    assert_non_null(zb);
    assert_null(zt); /* 7 bytes of times: never */
    assert_int_equal(zb->plain_len, n);
    assert_int_equal(zb->window_bits, 15);
    assert_true(zb->len > 4 && zb->len < n);
    sim_zpiece *again = NULL;
    assert_int_equal(sim_answer_cache_deflated(c, &k1, 1, 15, &again, &zt), 1);
    assert_ptr_equal(again, zb); /* made once */
    sim_answer_cache_stats s;
    sim_answer_cache_get_stats(c, &s);
    assert_int_equal(s.deflated, 1);
    assert_int_equal(s.deflated_bytes, sizeof *zb + zb->len);
    assert_true(s.bytes > n + zb->len && s.bytes <= 120000);
    /* a queued message keeps the piece; the entry goes */
    sim_zpiece *held = sim_zpiece_ref(zb);
    assert_int_equal(sim_answer_cache_put(c, &k2, &t), 0);
    assert_int_equal(sim_answer_cache_put(c, &k3, &t), 0);
    sim_answer_cache_get_stats(c, &s);
    assert_true(s.bytes <= 120000);
    sim_bars_text got;
    assert_int_equal(sim_answer_cache_get(c, &k1, &got), 0);
    assert_int_equal(held->plain_len, n); /* still valid (ASan would object otherwise) */
    sim_zpiece_unref(held);
    /* making k3's form keeps the bound (others make room, or the form is not kept) */
    assert_int_equal(sim_answer_cache_deflated(c, &k3, 1, 15, &zb, &zt), 1);
    sim_answer_cache_get_stats(c, &s);
    assert_true(s.bytes <= 120000);
    sim_answer_cache_free(c);
    free(bars);
}

static void test_lru_and_bound(void **st)
{
    (void)st;
    char big[1000];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = 0;
    /* Room for two entries of ~1.1 KB, not three. */
    sim_answer_cache *c = sim_answer_cache_new(2600);
    assert_non_null(c);
    sim_answer_key k1 = key_of("SIM:A", 1), k2 = key_of("SIM:B", 1), k3 = key_of("SIM:A", 2);
    sim_bars_text t = text_of(big, "1.0,2.0"), got;
    assert_int_equal(sim_answer_cache_get(c, &k1, &got), 0);
    assert_int_equal(sim_answer_cache_put(c, &k1, &t), 0);
    assert_int_equal(sim_answer_cache_put(c, &k2, &t), 0);
    /* k1 used last: k2 is the one dropped for k3. */
    assert_int_equal(sim_answer_cache_get(c, &k1, &got), 1);
    assert_int_equal(got.bars_len, strlen(big));
    assert_memory_equal(got.bars, big, got.bars_len);
    assert_int_equal(got.times_len, 7);
    assert_memory_equal(got.times, "1.0,2.0", 7);
    assert_int_equal(sim_answer_cache_put(c, &k3, &t), 0);
    assert_int_equal(sim_answer_cache_get(c, &k2, &got), 0);
    assert_int_equal(sim_answer_cache_get(c, &k1, &got), 1);
    assert_int_equal(sim_answer_cache_get(c, &k3, &got), 1);
    sim_answer_cache_stats s;
    sim_answer_cache_get_stats(c, &s);
    assert_int_equal(s.entries, 2);
    assert_true(s.bytes <= 2600);
    assert_int_equal(s.evicted, 1);
    assert_int_equal(s.hits, 3);
    assert_int_equal(s.misses, 2);

    /* Keys differ in every field. */
    sim_answer_key k = k1;
    k.count = 99;
    assert_int_equal(sim_answer_cache_get(c, &k, &got), 0);
    k = k1;
    k.first_index = -5;
    assert_int_equal(sim_answer_cache_get(c, &k, &got), 0);
    k = k1;
    k.res.n = 2;
    assert_int_equal(sim_answer_cache_get(c, &k, &got), 0);
    k = k1;
    k.res.unit = SIM_RES_WEEKS;
    assert_int_equal(sim_answer_cache_get(c, &k, &got), 0);

    /* Same key again: replaced, not duplicated. */
    sim_bars_text t2 = text_of("{\"i\":0}", "5.0");
    assert_int_equal(sim_answer_cache_put(c, &k1, &t2), 0);
    assert_int_equal(sim_answer_cache_get(c, &k1, &got), 1);
    assert_int_equal(got.bars_len, 7);
    assert_memory_equal(got.bars, "{\"i\":0}", 7);
    sim_answer_cache_get_stats(c, &s);
    assert_int_equal(s.entries, 2);

    /* Larger than the whole bound: not stored, nothing else dropped. */
    char huge[3000];
    memset(huge, 'h', sizeof huge - 1);
    huge[sizeof huge - 1] = 0;
    sim_bars_text th = text_of(huge, "");
    sim_answer_key k4 = key_of("SIM:C", 1);
    assert_int_equal(sim_answer_cache_put(c, &k4, &th), 1);
    assert_int_equal(sim_answer_cache_get(c, &k4, &got), 0);
    sim_answer_cache_get_stats(c, &s);
    assert_int_equal(s.entries, 2);
    assert_int_equal(s.too_big, 1);
    sim_answer_cache_free(c);
}

/* Many entries through a bound: it holds at every step. */
static void test_bound_under_churn(void **st)
{
    (void)st;
    sim_answer_cache *c = sim_answer_cache_new(50000);
    assert_non_null(c);
    char text[4000];
    for (int i = 0; i < 500; i++) {
        size_t len = 100 + (size_t)(i * 37) % 3800;
        memset(text, 'a' + i % 26, len);
        text[len] = 0;
        sim_answer_key k = key_of(i % 2 ? "SIM:ODD" : "SIM:EVEN", i % 40);
        sim_bars_text t = text_of(text, "1.0");
        assert_int_equal(sim_answer_cache_put(c, &k, &t), 0);
        sim_bars_text got;
        assert_int_equal(sim_answer_cache_get(c, &k, &got), 1);
        assert_int_equal(got.bars_len, len);
        assert_memory_equal(got.bars, text, len);
        sim_answer_cache_stats s;
        sim_answer_cache_get_stats(c, &s);
        assert_true(s.bytes <= 50000);
        assert_true(s.entries <= 40);
    }
    sim_answer_cache_free(c);
}

static void test_option(void **st)
{
    (void)st;
    char out[16384];
    const char *help[] = {"--help", NULL};
    assert_int_equal(hs_run(help, out, sizeof out), 0);
    assert_non_null(strstr(out, "--answer-cache-mb N"));
    const char *neg[] = {"--answer-cache-mb", "-1", NULL};
    assert_int_equal(hs_run(neg, out, sizeof out), 2);
    const char *word[] = {"--answer-cache-mb", "lots", NULL};
    assert_int_equal(hs_run(word, out, sizeof out), 2);
    const char *huge[] = {"--answer-cache-mb=99999999", NULL};
    assert_int_equal(hs_run(huge, out, sizeof out), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lru_and_bound),
        cmocka_unit_test(test_deflated_forms),
        cmocka_unit_test(test_bound_under_churn),
        cmocka_unit_test(test_option),
        cmocka_unit_test(test_repeats_identical_with_own_ids),
        cmocka_unit_test(test_off_and_tiny_bound),
        cmocka_unit_test(test_latency_and_uncompressed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
