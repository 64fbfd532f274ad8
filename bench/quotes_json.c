/* bench_quotes_json: the client's quote path in process, without a socket: qsd packets fed
 * through the same route a received WebSocket message takes (framing, parse, merge into the
 * snapshot, event queue), and the merged snapshot serialised with tvk_quote_to_json once per
 * change, as `tvkit quotes` does. Every figure is the median of N runs (default 7), in process
 * CPU time (the machine is shared: wall time would count other processes).
 *
 *   bench_quotes_json [runs] [packets] [symbols] [phase]    (phase: all|merge|json, for perf)
 *
 * Phases: "merge"  feed + merge + event pop, one packet per message (ns per packet);
 *         "json"   tvk_quote_to_json alone over the merged snapshots (ns per call);
 *         "e2e"    merge + one tvk_quote_to_json per event (ns per packet).
 * The stream mirrors tvkit-sim --firehose: a full 23-field snapshot per symbol first, then
 * deltas of lp, ch, chp, lp_time and volume. The last line is a checksum of the final
 * snapshots' JSON, so that two builds (bench/quotes_json.sh runs the old and the new side by
 * side) can be checked to produce the same output. Links the client internals (src/client) for
 * the test hooks: the send hook and tvk__conn_feed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/client.h"
#include "lib/stats.h"

static int discard(void *user, const char *data, size_t len)
{
    (void)user;
    (void)data;
    (void)len;
    return 0;
}

/* Process CPU time, not the wall clock: the figures are CPU cost per packet. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_quotes_json: %s\n", what);
    exit(2);
}

/* A framed one-packet message, appended to pool; its offset recorded. */
typedef struct stream {
    tvk_buf pool;
    size_t *off;
    size_t n, cap;
} stream;

static void add_packet(stream *s, const char *json)
{
    if (s->n + 1 >= s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->off = realloc(s->off, s->cap * sizeof *s->off);
        if (!s->off) die("out of memory");
    }
    s->off[s->n++] = s->pool.len;
    if (tvk_frame(&s->pool, json, strlen(json)) < 0) die("out of memory");
    s->off[s->n] = s->pool.len;
}

static void snapshot_json(char *out, size_t cap, const char *qs, const char *sym, int i)
{
    snprintf(out, cap,
             "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"%s\",\"s\":\"ok\",\"v\":{"
             "\"ch\":%.2f,\"chp\":%.2f,\"current_session\":\"market\","
             "\"description\":\"Firehose test symbol %d\",\"local_description\":"
             "\"Firehose \\u00e9 %d\",\"language\":\"en\",\"exchange\":\"SIM\","
             "\"fractional\":false,\"is_tradable\":true,\"lp\":%.2f,\"lp_time\":%d,"
             "\"minmov\":1,\"minmove2\":0,\"original_name\":\"%s\",\"pricescale\":100,"
             "\"pro_name\":\"%s\",\"short_name\":\"F%03d\",\"type\":\"stock\","
             "\"update_mode\":\"streaming\",\"volume\":%d,\"currency_code\":\"USD\","
             "\"rchp\":null,\"rtc\":1e+100}}]}",
             qs, sym, 0.25 * i, 0.1 * i, i, i, 100.0 + i, 1700000000 + i, sym, sym, i, 1000 + i);
}

/* A delta like the sim's firehose: prices with two decimals, a time, a volume. */
static void delta_json(char *out, size_t cap, const char *qs, const char *sym, int i, int v)
{
    double lp = 100.0 + i + (v % 97) * 0.01;
    snprintf(out, cap,
             "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"%s\",\"s\":\"ok\",\"v\":{"
             "\"lp\":%.2f,\"ch\":%.2f,\"chp\":%.2f,\"lp_time\":%d,\"volume\":%d}}]}",
             qs, sym, lp, lp - 100.0 - i, (lp - 100.0 - i) / (100.0 + i) * 100.0, 1700000000 + v,
             1000 + v * 7 + i);
}

typedef struct ctx {
    tvk_conn *c;
    tvk_quotes *q;
    stream deltas;
    tvk_buf line;
    uint64_t bytes_out;
} ctx;

/* Feeds `packets` deltas (cycling through the pool); with json, serialises each event. */
static void run_stream(ctx *x, long packets, int json)
{
    size_t k = 0;
    for (long p = 0; p < packets; p++) {
        tvk__conn_feed(x->c, x->deltas.pool.data + x->deltas.off[k],
                       x->deltas.off[k + 1] - x->deltas.off[k]);
        if (++k == x->deltas.n) k = 0;
        tvk_event ev;
        while (tvk__ev_pop(x->c, &ev) == 1) {
            if (ev.type != TVK_EV_QUOTE) die("unexpected event");
            if (json) {
                tvk_buf_reset(&x->line);
                if (tvk_quote_to_json(ev.quote, &x->line) < 0) die("tvk_quote_to_json failed");
                x->bytes_out += x->line.len;
            }
        }
    }
}

static void run_json_only(ctx *x, long calls)
{
    size_t n = tvk_quotes_count(x->q);
    for (long p = 0; p < calls; p++) {
        tvk_buf_reset(&x->line);
        if (tvk_quote_to_json(tvk_quotes_at(x->q, (size_t)p % n), &x->line) < 0)
            die("tvk_quote_to_json failed");
        x->bytes_out += x->line.len;
    }
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 7;
    long packets = argc > 2 ? atol(argv[2]) : 1000000;
    int nsym = argc > 3 ? atoi(argv[3]) : 100;
    const char *phase = argc > 4 ? argv[4] : "all";
    if (runs < 1 || runs > 101 || packets < 1 || nsym < 1 || nsym > 10000) {
        fprintf(stderr, "usage: bench_quotes_json [runs] [packets] [symbols] [all|merge|json]\n");
        return 2;
    }
    int do_merge = !strcmp(phase, "all") || !strcmp(phase, "merge");
    int do_json = !strcmp(phase, "all") || !strcmp(phase, "json");
    int do_e2e = !strcmp(phase, "all");

    ctx x;
    memset(&x, 0, sizeof x);
    tvk_buf_init(&x.line);
    tvk_buf_init(&x.deltas.pool);
    tvk_conn_opts o;
    tvk_conn_opts_init(&o);
    o.token = "unauthorized_user_token";
    x.c = tvk_conn_new_opts(&o);
    if (!x.c) die("tvk_conn_new_opts failed");
    tvk__conn_set_send_hook(x.c, discard, NULL);
    if (tvk_quotes_open(x.c, NULL, NULL, 0, NULL, &x.q) < 0) die("tvk_quotes_open failed");
    char **syms = calloc((size_t)nsym, sizeof *syms);
    if (!syms) die("out of memory");
    for (int i = 0; i < nsym; i++) {
        syms[i] = malloc(16);
        if (!syms[i]) die("out of memory");
        snprintf(syms[i], 16, "SIM:F%03d", i);
    }
    if (tvk_quotes_add(x.q, (const char *const *)syms, (size_t)nsym) < 0)
        die("tvk_quotes_add failed");
    const char *qs = tvk_quotes_session(x.q);

    char pkt[4096];
    stream snaps;
    memset(&snaps, 0, sizeof snaps);
    tvk_buf_init(&snaps.pool);
    for (int i = 0; i < nsym; i++) {
        snapshot_json(pkt, sizeof pkt, qs, syms[i], i);
        add_packet(&snaps, pkt);
    }
    /* Enough variants that consecutive packets of one symbol differ (as the sim's pool). */
    int variants = 65536 / nsym < 1 ? 1 : 65536 / nsym > 64 ? 64 : 65536 / nsym;
    for (int v = 0; v < variants; v++)
        for (int i = 0; i < nsym; i++) {
            delta_json(pkt, sizeof pkt, qs, syms[i], i, v);
            add_packet(&x.deltas, pkt);
        }
    for (size_t k = 0; k < snaps.n; k++)
        tvk__conn_feed(x.c, snaps.pool.data + snaps.off[k], snaps.off[k + 1] - snaps.off[k]);
    tvk_event ev;
    while (tvk__ev_pop(x.c, &ev) == 1)
        if (ev.type != TVK_EV_QUOTE) die("a snapshot was not accepted");

    double *t_merge = calloc((size_t)runs, sizeof(double));
    double *t_json = calloc((size_t)runs, sizeof(double));
    double *t_e2e = calloc((size_t)runs, sizeof(double));
    if (!t_merge || !t_json || !t_e2e) die("out of memory");
    run_stream(&x, 20000, 1); /* warm-up: caches, buffers at their working size */
    for (int r = 0; r < runs; r++) {
        double t0;
        if (do_merge) {
            t0 = cpu_s();
            run_stream(&x, packets, 0);
            t_merge[r] = (cpu_s() - t0) / (double)packets * 1e9;
        }
        if (do_json) {
            t0 = cpu_s();
            run_json_only(&x, packets);
            t_json[r] = (cpu_s() - t0) / (double)packets * 1e9;
        }
        if (do_e2e) {
            t0 = cpu_s();
            run_stream(&x, packets, 1);
            t_e2e[r] = (cpu_s() - t0) / (double)packets * 1e9;
        }
    }
    printf("symbols %d, %ld packets per run, median of %d runs\n", nsym, packets, runs);
    if (do_merge)
        printf("merge  %8.1f ns/packet (feed, parse, merge, event pop)\n",
               bench_median(t_merge, runs));
    if (do_json)
        printf("json   %8.1f ns/call   (tvk_quote_to_json alone)\n", bench_median(t_json, runs));
    if (do_e2e)
        printf("e2e    %8.1f ns/packet (merge + tvk_quote_to_json per event)\n",
               bench_median(t_e2e, runs));

    /* Checksum (FNV-1a) of every final snapshot's JSON: equal across builds = same output. */
    uint64_t h = 1469598103934665603ull;
    size_t total = 0;
    for (size_t i = 0; i < tvk_quotes_count(x.q); i++) {
        tvk_buf_reset(&x.line);
        if (tvk_quote_to_json(tvk_quotes_at(x.q, i), &x.line) < 0) die("tvk_quote_to_json failed");
        for (size_t k = 0; k < x.line.len; k++) {
            h ^= (unsigned char)x.line.data[k];
            h *= 1099511628211ull;
        }
        total += x.line.len;
    }
    tvk_buf_reset(&x.line);
    tvk_quote_to_json(tvk_quotes_at(x.q, 0), &x.line);
    printf("checksum %016llx over %zu bytes; first: %s\n", (unsigned long long)h, total,
           x.line.data);

    tvk_quotes_close(x.q);
    tvk_conn_free(x.c);
    for (int i = 0; i < nsym; i++)
        free(syms[i]);
    free(syms);
    free(t_merge);
    free(t_json);
    free(t_e2e);
    tvk_buf_free(&x.line);
    tvk_buf_free(&x.deltas.pool);
    free(x.deltas.off);
    tvk_buf_free(&snaps.pool);
    free(snaps.off);
    return 0;
}
