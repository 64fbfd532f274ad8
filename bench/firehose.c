/* bench_firehose: how fast tvkit-sim produces its --firehose qsd stream, on one core.
 *
 *   bench_firehose [packets (1000000)] [symbols (100)] [runs (5)] [tvkit-sim path]
 *
 * Side by side, each the median of `runs`:
 *   produce   the sim's own path (sim_fh_fill_n): pre-encoded packets copied out 20 per
 *             message (the sim's --firehose-batch default), as the server hands them to the
 *             WebSocket layer
 *   encode    baseline: encoding every qsd packet afresh (sim_enc_qsd), what a naive server does
 *   memcpy    reference: copying the same number of bytes with nothing else
 *   sim-raw   end to end: tvkit-sim as a child process streams over loopback to a minimal
 *             raw-socket reader here (frames parsed by hand, packets framed by the wire
 *             reader), from the first firehose packet to the end marker: the sim's delivery
 *   sim-net   the same with the net client role (tvk_ws_recv) as the reader
 * The loopback rows use two processes (two cores), each side single-threaded.
 * The target is >= 2 M packets/s for `produce`. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "firehose.h"
#include "lib/stats.h"
#include "proto.h"
#include "tvkit/net.h"
#include "tvkit/wire.h"

#ifndef TVK_SIM_PATH
#define TVK_SIM_PATH "tvkit-sim"
#endif

#define BATCH ((size_t)256 * 1024)

typedef struct syms {
    char (*keys)[32];
    const char **kp;
    sim_symbol *s;
    size_t n;
} syms;

static int make_syms(syms *y, size_t n)
{
    y->keys = calloc(n, sizeof *y->keys);
    y->kp = calloc(n, sizeof *y->kp);
    y->s = calloc(n, sizeof *y->s);
    y->n = n;
    if (!y->keys || !y->kp || !y->s) return -1;
    for (size_t i = 0; i < n; i++) {
        snprintf(y->keys[i], sizeof y->keys[i], "SIM:F%03zu", i);
        y->kp[i] = y->keys[i];
        if (sim_symbol_lookup(1, y->keys[i], &y->s[i])) return -1;
    }
    return 0;
}

static volatile size_t sink; /* keeps the copies observable */

/* The sim's path: returns seconds for `packets`. */
static double run_produce(const syms *y, int64_t packets, size_t *bytes)
{
    sim_fh f;
    tvk_buf out;
    tvk_buf_init(&out);
    if (sim_fh_build(&f, "qs_bench", y->kp, y->s, y->n, 1717432200, packets)) return -1;
    tvk_buf_reserve(&out, BATCH * 2);
    *bytes = 0;
    int64_t got = 0;
    double t0 = bench_now_s();
    for (;;) {
        tvk_buf_reset(&out);
        int64_t n = sim_fh_fill_n(&f, &out, BATCH, 20);
        if (n <= 0) break;
        got += n;
        *bytes += out.len;
        sink += (unsigned char)out.data[out.len - 1];
    }
    double dt = bench_now_s() - t0;
    sim_fh_free(&f);
    tvk_buf_free(&out);
    return got == packets ? dt : -1;
}

static double run_encode(const syms *y, int64_t packets)
{
    static const char *const fields[] = {"lp", "ch", "chp", "lp_time", "volume"};
    tvk_buf out;
    tvk_buf_init(&out);
    sim_enc e;
    sim_enc_init(&e, &out);
    double t0 = bench_now_s();
    for (int64_t i = 0; i < packets; i++) {
        if (out.len >= BATCH) {
            sink += (unsigned char)out.data[out.len - 1];
            tvk_buf_reset(&out);
        }
        size_t k = (size_t)i % y->n;
        sim_quote q;
        sim_quote_at(&y->s[k], 1717432200 + i / (int64_t)y->n, &q);
        if (sim_enc_qsd(&e, "qs_bench", y->kp[k], &y->s[k], &q, NULL, fields, 5, NULL)) return -1;
    }
    double dt = bench_now_s() - t0;
    sim_enc_free(&e);
    tvk_buf_free(&out);
    return dt;
}

static double run_memcpy(size_t bytes)
{
    /* A source the size of the sim's pool (~1 MB), so both copy from cache alike. */
    size_t n = (size_t)1 << 20;
    char *src = malloc(n), *dst = malloc(BATCH);
    if (!src || !dst) return -1;
    memset(src, 'x', n);
    double t0 = bench_now_s();
    for (size_t done = 0; done < bytes; done += BATCH) {
        size_t k = bytes - done < BATCH ? bytes - done : BATCH;
        memcpy(dst, src + (done % (n - BATCH + 1)), k);
        sink += (unsigned char)dst[k - 1];
    }
    double dt = bench_now_s() - t0;
    free(src);
    free(dst);
    return dt;
}

/* ---------------------------------------------------------------- loopback */

extern char **environ;

static double raw_client(int port, int64_t packets, size_t nsyms);

static double run_loopback(const char *sim, int64_t packets, size_t nsyms, int raw)
{
    char np[32], ns[32];
    snprintf(np, sizeof np, "%lld", (long long)packets);
    snprintf(ns, sizeof ns, "%zu", nsyms);
    char *argv[] = {(char *)sim, "--port",         "0",   "--quiet", "--firehose", np, "--symbols",
                    ns,          "--max-lifetime", "300", NULL};
    int pfd[2];
    if (pipe(pfd)) return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_addclose(&fa, pfd[0]);
    pid_t pid;
    int r = posix_spawn(&pid, sim, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (r) {
        fprintf(stderr, "cannot start %s\n", sim);
        close(pfd[0]);
        return -1;
    }
    char line[256] = "";
    size_t ll = 0;
    struct pollfd p = {pfd[0], POLLIN, 0};
    while (!strchr(line, '\n') && ll < sizeof line - 1 && poll(&p, 1, 10000) > 0) {
        ssize_t k = read(pfd[0], line + ll, sizeof line - 1 - ll);
        if (k <= 0) break;
        ll += (size_t)k;
        line[ll] = 0;
    }
    close(pfd[0]);
    double dt = -1;
    char *nl = strchr(line, '\n');
    char *colon = strrchr(line, ':');
    if (raw && strncmp(line, "listening ", 10) == 0 && nl && colon) {
        dt = raw_client(atoi(colon + 1), packets, nsyms);
    } else if (strncmp(line, "listening ", 10) == 0 && nl) {
        *nl = 0;
        tvk_ws_opts o;
        tvk_ws_opts_init(&o);
        o.url = line + 10;
        o.compress = 0;
        o.proxy = "";
        o.ping_interval_ms = 0;
        tvk_ws *ws = tvk_ws_new(&o);
        tvk_reader *rd = tvk_reader_new(0);
        tvk_buf b;
        tvk_buf_init(&b);
        if (ws && rd && tvk_ws_connect(ws) == 0) {
            tvk_build_quote_create_session(&b, "qs_bench");
            const char **keys = calloc(nsyms, sizeof *keys);
            char(*kb)[32] = calloc(nsyms, sizeof *kb);
            for (size_t i = 0; keys && kb && i < nsyms; i++) {
                snprintf(kb[i], sizeof kb[i], "SIM:F%03zu", i);
                keys[i] = kb[i];
            }
            if (keys && kb) tvk_build_quote_add_symbols(&b, "qs_bench", keys, nsyms);
            free(keys);
            free(kb);
            tvk_ws_send_text(ws, b.data, b.len);
            int64_t qsd = 0, completed = 0;
            double t0 = 0;
            int done = 0;
            while (!done) {
                const char *data;
                size_t len;
                int rc = tvk_ws_recv(ws, &data, &len, 10000);
                if (rc <= 0) break;
                tvk_packet pk;
                tvk_reader_feed(rd, data, len);
                while (tvk_reader_next(rd, &pk) > 0) {
                    if (pk.kind != TVK_PKT_JSON) continue;
                    if (pk.len > 6 && !memcmp(pk.data, "{\"m\":\"q", 7)) {
                        if (pk.data[7] == 's') {
                            if (completed >= (int64_t)nsyms && qsd++ == 0) t0 = bench_now_s();
                        } else {
                            completed++;
                        }
                    } else if (pk.len > 10 && !memcmp(pk.data, "{\"m\":\"fireh", 11)) {
                        done = 1;
                    }
                }
            }
            if (done && qsd == packets)
                dt = bench_now_s() - t0;
            else
                fprintf(stderr, "loopback: got %lld of %lld packets\n", (long long)qsd,
                        (long long)packets);
        }
        tvk_buf_free(&b);
        tvk_reader_free(rd);
        if (ws) tvk_ws_free(ws);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return dt;
}

/* A minimal reader on a raw TCP socket: the upgrade by hand, unmasked server frames parsed here,
 * packets framed by the wire reader. It costs the sim's side nothing extra, so this row shows
 * what the sim itself delivers. */

static int read_full(int fd, char *p, size_t n)
{
    while (n) {
        ssize_t k = read(fd, p, n);
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int ws_text(int fd, const char *text)
{
    size_t n = strlen(text);
    unsigned char h[14];
    size_t hl = 0;
    h[hl++] = 0x81;
    if (n < 126) {
        h[hl++] = (unsigned char)(0x80 | n);
    } else {
        h[hl++] = 0x80 | 126;
        h[hl++] = (unsigned char)(n >> 8);
        h[hl++] = (unsigned char)n;
    }
    memset(h + hl, 0, 4); /* a zero mask: the payload goes as is */
    hl += 4;
    if (write(fd, h, hl) != (ssize_t)hl || write(fd, text, n) != (ssize_t)n) return -1;
    return 0;
}

static double raw_client(int port, int64_t packets, size_t nsyms)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) return -1;
    static const char req[] =
        "GET /socket.io/websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\nOrigin: https://www.tradingview.com\r\n\r\n";
    if (write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) return -1;
    char hdr[1024];
    size_t hl = 0;
    while (hl < 4 || memcmp(hdr + hl - 4, "\r\n\r\n", 4)) /* byte by byte: no over-read */
        if (hl >= sizeof hdr - 1 || read_full(fd, hdr + hl++, 1)) return -1;
    tvk_buf b;
    tvk_buf_init(&b);
    tvk_build_quote_create_session(&b, "qs_bench");
    char(*kb)[32] = calloc(nsyms, sizeof *kb);
    const char **keys = calloc(nsyms, sizeof *keys);
    for (size_t i = 0; kb && keys && i < nsyms; i++) {
        snprintf(kb[i], sizeof kb[i], "SIM:F%03zu", i);
        keys[i] = kb[i];
    }
    if (kb && keys) tvk_build_quote_add_symbols(&b, "qs_bench", keys, nsyms);
    free(kb);
    free(keys);
    int bad = ws_text(fd, b.data);
    tvk_buf_free(&b);
    tvk_reader *rd = tvk_reader_new(0);
    size_t cap = 1 << 20;
    char *msg = malloc(cap);
    int64_t qsd = 0, completed = 0;
    double t0 = 0, dt = -1;
    while (!bad && rd && msg) {
        unsigned char h[10];
        if (read_full(fd, (char *)h, 2)) break;
        uint64_t n = h[1] & 0x7f;
        if (n == 126) {
            if (read_full(fd, (char *)h + 2, 2)) break;
            n = (uint64_t)h[2] << 8 | h[3];
        } else if (n == 127) {
            if (read_full(fd, (char *)h + 2, 8)) break;
            n = 0;
            for (int i = 2; i < 10; i++)
                n = n << 8 | h[i];
        }
        if (n > cap) {
            char *m2 = n < ((uint64_t)1 << 30) ? realloc(msg, (size_t)n) : NULL;
            if (!m2) break;
            msg = m2;
            cap = (size_t)n;
        }
        if (read_full(fd, msg, (size_t)n)) break;
        if ((h[0] & 0x0f) != 1) continue; /* ping and friends: not counted */
        tvk_packet pk;
        int done = 0;
        tvk_reader_feed(rd, msg, (size_t)n);
        while (tvk_reader_next(rd, &pk) > 0) {
            if (pk.kind != TVK_PKT_JSON || pk.len < 12) continue;
            if (!memcmp(pk.data, "{\"m\":\"qsd\"", 10)) {
                if (completed >= (int64_t)nsyms && qsd++ == 0) t0 = bench_now_s();
            } else if (!memcmp(pk.data, "{\"m\":\"quote_c", 13)) {
                completed++;
            } else if (!memcmp(pk.data, "{\"m\":\"fireh", 11)) {
                done = 1;
            }
        }
        if (done) {
            if (qsd == packets) dt = bench_now_s() - t0;
            break;
        }
    }
    free(msg);
    tvk_reader_free(rd);
    close(fd);
    return dt;
}

int main(int argc, char **argv)
{
    int64_t packets = argc > 1 ? atoll(argv[1]) : 1000000;
    size_t nsyms = argc > 2 ? (size_t)atoll(argv[2]) : 100;
    int runs = argc > 3 ? atoi(argv[3]) : 5;
    const char *sim = argc > 4 ? argv[4] : TVK_SIM_PATH;
    if (packets < 1 || nsyms < 1 || nsyms > 1000 || runs < 1 || runs > 99) {
        fprintf(stderr,
                "usage: %s [packets (1000000)] [symbols 1-1000 (100)] [runs (5)] "
                "[tvkit-sim path]\n",
                argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    syms y;
    if (make_syms(&y, nsyms)) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    double tp[99], te[99], tm[99], tl[99], tr[99];
    size_t bytes = 0;
    int nl = 0, nr = 0;
    for (int i = 0; i < runs; i++) {
        tp[i] = run_produce(&y, packets, &bytes);
        te[i] = run_encode(&y, packets);
        tm[i] = run_memcpy(bytes);
        if (tp[i] < 0 || te[i] < 0 || tm[i] < 0) {
            fprintf(stderr, "run %d failed\n", i);
            return 1;
        }
        double l = run_loopback(sim, packets, nsyms, 0);
        if (l > 0) tl[nl++] = l;
        l = run_loopback(sim, packets, nsyms, 1);
        if (l > 0) tr[nr++] = l;
    }
    printf("sim firehose: %lld qsd packets over %zu symbols, %.1f MB, median of %d runs\n",
           (long long)packets, nsyms, bytes / 1e6, runs);
    struct {
        const char *name;
        double *t;
        int n;
        const char *what;
    } rows[] = {
        {"produce", tp, runs, "sim path: pre-encoded pool, 20 packets per message (one core)"},
        {"encode", te, runs, "baseline: encode every packet (one core)"},
        {"memcpy", tm, runs, "reference: memcpy the same bytes in 256 KiB batches (one core)"},
        {"sim-raw", tr, nr, "tvkit-sim process -> raw-socket reader, no deflate (two processes)"},
        {"sim-net", tl, nl, "tvkit-sim process -> tvkit net client + reader, no deflate"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (rows[i].n == 0) {
            printf("  %-9s       n/a                 %s (did not run)\n", rows[i].name,
                   rows[i].what);
            continue;
        }
        double m = bench_median(rows[i].t, rows[i].n);
        printf("  %-9s %8.2f M packets/s %8.1f MB/s  %s\n", rows[i].name, packets / m / 1e6,
               bytes / m / 1e6, rows[i].what);
    }
    free(y.keys);
    free(y.kp);
    free(y.s);
    return 0;
}
