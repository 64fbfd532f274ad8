/* bench_decode: packets/s and MB/s of the wire layer over the real captures and a synthetic
 * 1 M-packet quote stream, each next to a memchr-only framing baseline on the same bytes in the
 * same run. Every figure is the median of N runs (default 5), as wall-clock rates and as rates
 * per CPU-second of this process.
 *
 *   bench_decode CAPTURES_DIR|- [runs] [packets] [only-level]   (only-level 0-4, for perf)
 *
 * Levels: "memchr"  finds packet boundaries with memchr and the length digits only;
 *         "frame"   tvk_reader_next (framing with the length checks);
 *         "tokens"  tvk_reader_next_msg (framing, strict JSON tokens, classification);
 *         "views"   tokens + the typed view of each message (qsd fields, every bar);
 *         "plain"   the same typed decode as the client's quote book does it:
 *                   tvk_reader_next_fast (plain qsd packets without tokens, every field's
 *                   value read; other packets as "views"). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tvkit/wire.h"
#include "lib/stats.h"

typedef struct corpus {
    const char *name;
    char *data;
    size_t *off, *len; /* messages */
    size_t n, cap, bytes;
} corpus;

static void add_msg(corpus *c, size_t off, size_t len)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1024;
        c->off = realloc(c->off, c->cap * sizeof *c->off);
        c->len = realloc(c->len, c->cap * sizeof *c->len);
        if (!c->off || !c->len) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
    }
    c->off[c->n] = off;
    c->len[c->n++] = len;
    c->bytes += len;
}

/* The "~m~"-framed lines of a capture file, one message per line. */
static int load_capture(corpus *c, const char *dir, const char *file)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    c->data = malloc((size_t)sz + 1);
    if (!c->data || fread(c->data, 1, (size_t)sz, f) != (size_t)sz) {
        fclose(f);
        return -1;
    }
    fclose(f);
    size_t pos = 0;
    while (pos < (size_t)sz) {
        char *nl = memchr(c->data + pos, '\n', (size_t)sz - pos);
        size_t end = nl ? (size_t)(nl - c->data) : (size_t)sz;
        if (end - pos >= 3 && !memcmp(c->data + pos, "~m~", 3)) add_msg(c, pos, end - pos);
        pos = end + 1;
    }
    return 0;
}

/* Live quote deltas shaped like the captured ones: one packet per WebSocket message, 1-5 fields,
 * prices with 1-4 decimals, now and then the 1e+100 "no value" volume. */
static void make_quotes(corpus *c, size_t npackets)
{
    static const char *syms[] = {"NASDAQ:AAPL",   "BINANCE:BTCUSDT", "NSE:JUNIPER",  "FX:EURUSD",
                                 "CME_MINI:NQ1!", "NYSE:YPF",        "OANDA:XAUUSD", "SET:AOT"};
    size_t cap = npackets * 200;
    c->data = malloc(cap);
    if (!c->data) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    uint64_t x = 0x2545F4914F6CDD1DULL;
    size_t pos = 0;
    char payload[256];
    for (size_t i = 0; i < npackets; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int n = snprintf(payload, sizeof payload,
                         "{\"m\":\"qsd\",\"p\":[\"qs_abcdefghijkl\",{\"n\":\"%s\",\"s\":\"ok\","
                         "\"v\":{\"lp\":%llu.%02llu",
                         syms[x % 8], (unsigned long long)(x >> 40) % 90000 + 10,
                         (unsigned long long)(x >> 20) % 100);
        int fields = (int)((x >> 8) % 5);
        if (fields >= 1)
            n +=
                snprintf(payload + n, sizeof payload - (size_t)n, ",\"ch\":-%llu.%03llu",
                         (unsigned long long)(x >> 30) % 500, (unsigned long long)(x >> 12) % 1000);
        if (fields >= 2)
            n += snprintf(payload + n, sizeof payload - (size_t)n, ",\"chp\":%llu.%02llu",
                          (unsigned long long)(x >> 33) % 20, (unsigned long long)(x >> 3) % 100);
        if (fields >= 3)
            n += (x >> 5) % 7 == 0
                     ? snprintf(payload + n, sizeof payload - (size_t)n, ",\"volume\":1e+100")
                     : snprintf(payload + n, sizeof payload - (size_t)n, ",\"volume\":%llu",
                                (unsigned long long)(x >> 17) % 100000000);
        if (fields >= 4)
            n += snprintf(payload + n, sizeof payload - (size_t)n, ",\"lp_time\":%llu",
                          1765958640ULL + i / 10);
        n += snprintf(payload + n, sizeof payload - (size_t)n, "}}]}");
        int h = snprintf(c->data + pos, cap - pos, "~m~%d~m~", n);
        memcpy(c->data + pos + h, payload, (size_t)n);
        add_msg(c, pos, (size_t)(h + n));
        pos += (size_t)(h + n);
    }
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* CPU time of this process: on a shared machine it leaves out the time other jobs had the core,
 * so it shows what one core does when it is ours. */
static double cpu(void)
{
    return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

/* Counts packets by finding each "~m~<digits>~m~" header with memchr and skipping N bytes:
 * the least work any framing can do. */
static size_t baseline(const char *m, size_t len)
{
    const char *p = m, *end = m + len;
    size_t pk = 0;
    while (p < end) {
        const char *t = memchr(p, '~', (size_t)(end - p));
        if (!t || end - t < 3 || t[1] != 'm' || t[2] != '~') break;
        const char *d = t + 3;
        size_t n = 0;
        while (d < end && *d >= '0' && *d <= '9')
            n = n * 10 + (size_t)(*d++ - '0');
        p = d + 3 + n;
        pk++;
    }
    return pk;
}

static volatile double sink;

static size_t run_level(const corpus *c, tvk_reader *r, int level)
{
    size_t packets = 0;
    double acc = 0;
    for (size_t i = 0; i < c->n; i++) {
        const char *m = c->data + c->off[i];
        size_t len = c->len[i];
        if (level == 0) {
            packets += baseline(m, len);
            continue;
        }
        tvk_reader_feed(r, m, len);
        if (level == 1) {
            tvk_packet p;
            while (tvk_reader_next(r, &p) > 0)
                packets++;
            continue;
        }
        tvk_msg msg;
        tvk_qsd_plain plain;
        int rc;
        while ((rc = level == 4 ? tvk_reader_next_fast(r, &msg, &plain)
                                : tvk_reader_next_msg(r, &msg)) != 0) {
            if (rc < 0) continue;
            packets++;
            if (level < 3) continue;
            if (rc == 2) {
                for (int f = 0; f < plain.nfields; f++)
                    if (plain.fields[f].type == TVK_J_NUMBER) acc += plain.fields[f].num;
                continue;
            }
            if (msg.type == TVK_MSG_QSD) {
                tvk_qsd q;
                if (tvk_msg_qsd(&msg, &q) == 0) {
                    /* Walk the delta once, reading every number (what a quote book does). */
                    int k = q.values + 1;
                    for (int f = 0; f < q.nfields; f++) {
                        double d;
                        if (tvk_json_double(msg.json, k + 1, &d) == 0) acc += d;
                        k = tvk_json_skip(msg.json, k + 1);
                    }
                }
            } else if (msg.type == TVK_MSG_TIMESCALE_UPDATE || msg.type == TVK_MSG_DU) {
                tvk_series_update su;
                for (int s = 0; tvk_msg_series_at(&msg, s, &su) == 0; s++) {
                    tvk_bar b;
                    while (tvk_bar_next(&su.bars, &b) == 1)
                        acc += b.close;
                }
            }
        }
    }
    sink = acc;
    return packets;
}

static void bench(const corpus *c_, int runs, int only)
{
    static const char *names[] = {"memchr", "frame", "tokens", "views", "plain"};
    tvk_reader *r = tvk_reader_new(0);
    printf("%s: %zu messages, %.1f MB\n", c_->name, c_->n, (double)c_->bytes / 1e6);
    for (int level = 0; level < 5; level++) {
        if (only >= 0 && level != only) continue;
        double t[64];
        /* Warm-up (and token-array growth); it also sizes a sample to >= 50 ms so that the small
         * captures are timed over many passes. */
        double t0 = now();
        size_t packets = run_level(c_, r, level);
        double once = now() - t0;
        int reps = once >= 0.05 ? 1 : (int)(0.05 / (once > 1e-7 ? once : 1e-7)) + 1;
        double c[64];
        for (int k = 0; k < runs; k++) {
            t0 = now();
            double c0 = cpu();
            for (int i = 0; i < reps; i++)
                packets = run_level(c_, r, level);
            t[k] = (now() - t0) / reps;
            c[k] = (cpu() - c0) / reps;
        }
        qsort(t, (size_t)runs, sizeof *t, bench_cmp_double);
        qsort(c, (size_t)runs, sizeof *c, bench_cmp_double);
        double med = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
        double cmed = runs % 2 ? c[runs / 2] : (c[runs / 2 - 1] + c[runs / 2]) / 2;
        printf("  %-7s %9zu packets  %8.2f M packets/s  %8.1f MB/s  | per CPU-second %8.2f M "
               "packets  %8.1f MB  (median of %d x %d passes)\n",
               names[level], packets, (double)packets / med / 1e6, (double)c_->bytes / med / 1e6,
               (double)packets / cmed / 1e6, (double)c_->bytes / cmed / 1e6, runs, reps);
    }
    tvk_reader_free(r);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CAPTURES_DIR [runs (5)] [synthetic packets (1000000)]\n",
                argv[0]);
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    size_t npk = argc > 3 ? (size_t)strtoull(argv[3], NULL, 10) : 1000000;
    int only = argc > 4 ? atoi(argv[4]) : -1;
    if (runs < 1 || runs > 64) runs = 5;
    const char *files[] = {"stock-tools_trading-chart_har_server_to_client.txt",
                           "tradingview-rs_socket_messages_split.txt"};
    /* "-" skips the captures (profiling the synthetic stream alone). */
    for (size_t i = 0; strcmp(argv[1], "-") && i < sizeof files / sizeof *files; i++) {
        corpus c = {.name = files[i]};
        if (load_capture(&c, argv[1], files[i])) {
            fprintf(stderr, "cannot read %s/%s\n", argv[1], files[i]);
            return 2;
        }
        bench(&c, runs, only);
        free(c.data), free(c.off), free(c.len);
    }
    corpus q = {.name = "synthetic quote stream (1 qsd packet per message)"};
    make_quotes(&q, npk);
    bench(&q, runs, only);
    free(q.data), free(q.off), free(q.len);
    return 0;
}
