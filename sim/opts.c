/* tvkit-sim option parsing: every option is documented once, in usage_text (and docs/SIM.md). */
#include "opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "Usage: tvkit-sim [options]\n"
    "A local TradingView chart-protocol WebSocket server for tests, demos and benchmarks.\n"
    "Prints 'listening ws://HOST:PORT/socket.io/websocket' (wss:// with TLS) on stdout once\n"
    "ready, then serves until killed or --max-lifetime passes.\n"
    "\n"
    "Network:\n"
    "  --host ADDR              IPv4 address to bind (default 127.0.0.1: loopback only)\n"
    "  --port N                 TCP port; 0 = any free port (default 0)\n"
    "  --tls-cert FILE          PEM certificate: serve wss:// (needs --tls-key)\n"
    "  --tls-key FILE           PEM private key for --tls-cert\n"
    "  --no-compress            refuse permessage-deflate offers\n"
    "  --compress-threshold N   send messages shorter than N bytes uncompressed (default 1024)\n"
    "  --deflate-level N        zlib level 1..9 of compressed messages (default 1: fastest;\n"
    "                           6 is zlib's default, ~5x the CPU for ~10% fewer bytes)\n"
    "  --max-conns N            connections served at once; more are refused (default 1024)\n"
    "  --latency MS             delay every message sent by MS milliseconds (default 0)\n"
    "  --max-lifetime SEC       exit 0 after SEC seconds (default: run until killed)\n"
    "\n"
    "Market:\n"
    "  --seed N                 seed of the synthetic market (default 1)\n"
    "  --history N              bars of history per symbol and resolution (default 100000)\n"
    "  --max-bars N             most bars in one answer (default 5000)\n"
    "  --start UNIX             market clock at startup, UTC seconds (default: now)\n"
    "  --speed X                market clock runs X times faster than real time (default 1)\n"
    "  --update-ms MS           live du / qsd delta period, wall time (default 1000)\n"
    "  --answer-cache-mb N      keep the encoded complete bars of history answers of 64 bars\n"
    "                           or more, up to N MiB shared by all connections, least\n"
    "                           recently used dropped first; 0 = off (default 64)\n"
    "\n"
    "Protocol:\n"
    "  --heartbeat SEC          send ~h~k every SEC seconds (default 10; fractions allowed)\n"
    "  --heartbeat-timeout SEC  drop a client that has not echoed a heartbeat within SEC\n"
    "                           seconds of it being sent (default 30)\n"
    "\n"
    "Modes:\n"
    "  --replay FILE            after the client's first message, send FILE's lines in order,\n"
    "                           one WebSocket message per line (capture format; lines without\n"
    "                           ~m~ framing are framed), then only heartbeat\n"
    "  --firehose N             after --symbols quote symbols are added, push N qsd packets\n"
    "                           round-robin as fast as the client reads, then a\n"
    "                           firehose_completed packet\n"
    "  --symbols K              symbols that start the firehose (default 1)\n"
    "  --firehose-batch N       qsd packets per firehose WebSocket message, 1..100000\n"
    "                           (default 20, as the real server batches)\n"
    "  --log FILE               append every client packet received as one JSON line\n"
    "  --fault NAME[=N]         inject a fault (repeatable):\n"
    "      close-after=N        drop the first connection after N data packets\n"
    "      close-every=N        drop every connection after N data packets\n"
    "      stall-after=N        after N data packets send no more data (heartbeats go on)\n"
    "      silent-after=N       after N data packets send nothing at all\n"
    "      garbage[=N]          after N data packets (default 1) send a message that is not\n"
    "                           ~m~ framed\n"
    "      bad-length[=N]       after N data packets (default 1) send a packet whose length\n"
    "                           prefix runs past the end of its message\n"
    "      oversize[=N]         after N data packets (default 1) send one message of\n"
    "                           --oversize-bytes bytes\n"
    "      reject-429=N         answer the first N upgrades 429 with Retry-After: 1\n"
    "      protocol-error[=N]   answer the N-th client JSON packet of each connection\n"
    "                           (default 1) with protocol_error instead of processing it\n"
    "      throttle=N           at most N bars per answer\n"
    "      custom-resolution    answer a series in minutes other than 1, 3, 5, 15, 30, 45,\n"
    "                           60, 120, 180, 240 with series_error custom_resolution, as\n"
    "                           the real server does without a paid plan\n"
    "  --oversize-bytes N       size of the oversize message (default 33554432 + 1048576)\n"
    "\n"
    "  -q, --quiet              no diagnostics on stderr\n"
    "  -h, --help               this text\n"
    "  --version                print the version\n"
    "\n"
    "Exit status: 0 on normal end, 1 on a runtime error, 2 on bad usage.\n";

const char *sim_opts_usage(void)
{
    return usage_text;
}

void sim_opts_init(sim_opts *o)
{
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->seed = 1;
    o->history = 100000;
    o->max_bars = 5000;
    o->heartbeat_ms = 10000;
    o->heartbeat_timeout_ms = 30000;
    o->speed = 1.0;
    o->update_ms = 1000;
    o->compress = 1;
    o->compress_threshold = 1024;
    o->deflate_level = 1;
    o->firehose_symbols = 1;
    o->firehose_batch = 20;
    o->max_conns = 1024;
    o->answer_cache_bytes = (size_t)64 << 20;
    sim_faults *f = &o->faults;
    f->close_after = f->close_every = f->stall_after = f->silent_after = -1;
    f->garbage_after = f->bad_length_after = f->oversize_after = f->protocol_error_at = -1;
    f->reject_429 = 0;
    f->throttle = 0;
    f->oversize_bytes = (size_t)33554432 + 1048576;
}

static int to_i64(const char *s, int64_t lo, int64_t hi, int64_t *v)
{
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || end == s || *end || x < lo || x > hi) return -1;
    *v = x;
    return 0;
}

static int to_dbl(const char *s, double lo, double hi, double *v)
{
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (errno || end == s || *end || !(x >= lo && x <= hi)) return -1;
    *v = x;
    return 0;
}

static int fault(sim_faults *f, const char *spec, char *err, size_t errcap)
{
    char name[32];
    const char *eq = strchr(spec, '=');
    size_t n = eq ? (size_t)(eq - spec) : strlen(spec);
    int64_t v = 1;
    if (n >= sizeof name) n = sizeof name - 1;
    memcpy(name, spec, n);
    name[n] = 0;
    if (eq && to_i64(eq + 1, 0, INT64_MAX / 2, &v)) {
        snprintf(err, errcap, "--fault %s: '%s' is not a count", name, eq + 1);
        return -1;
    }
    static const char *const need_n[] = {"close-after",  "close-every", "stall-after",
                                         "silent-after", "reject-429",  "throttle"};
    for (size_t i = 0; i < sizeof need_n / sizeof need_n[0]; i++)
        if (!strcmp(name, need_n[i]) && !eq) {
            snprintf(err, errcap, "--fault %s needs =N", name);
            return -1;
        }
    if (!strcmp(name, "close-after"))
        f->close_after = v;
    else if (!strcmp(name, "close-every"))
        f->close_every = v;
    else if (!strcmp(name, "stall-after"))
        f->stall_after = v;
    else if (!strcmp(name, "silent-after"))
        f->silent_after = v;
    else if (!strcmp(name, "garbage"))
        f->garbage_after = v;
    else if (!strcmp(name, "bad-length"))
        f->bad_length_after = v;
    else if (!strcmp(name, "oversize"))
        f->oversize_after = v;
    else if (!strcmp(name, "reject-429"))
        f->reject_429 = v;
    else if (!strcmp(name, "protocol-error")) {
        if (v < 1) {
            snprintf(err, errcap, "--fault protocol-error=N: N counts from 1");
            return -1;
        }
        f->protocol_error_at = v;
    } else if (!strcmp(name, "custom-resolution")) {
        if (eq) {
            snprintf(err, errcap, "--fault custom-resolution takes no =N");
            return -1;
        }
        f->custom_resolution = 1;
    } else if (!strcmp(name, "throttle")) {
        if (v < 1) {
            snprintf(err, errcap, "--fault throttle=N: N must be at least 1");
            return -1;
        }
        f->throttle = v;
    } else {
        snprintf(err, errcap,
                 "--fault: unknown fault '%s' (close-after, close-every, stall-after, "
                 "silent-after, garbage, bad-length, oversize, reject-429, protocol-error, "
                 "throttle, custom-resolution)",
                 name);
        return -1;
    }
    return 0;
}

int sim_opts_parse(sim_opts *o, int argc, char **argv, char *err, size_t errcap)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage_text, stdout);
            return 1;
        }
        if (!strcmp(a, "--version")) {
            puts("tvkit-sim 0.1.0");
            return 1;
        }
        if (!strcmp(a, "--no-compress")) {
            o->compress = 0;
            continue;
        }
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            o->quiet = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            snprintf(err, errcap, "unexpected argument '%s' (see --help)", a);
            return -1;
        }
        static const char *const valued[] = {"--host",
                                             "--port",
                                             "--seed",
                                             "--history",
                                             "--max-bars",
                                             "--heartbeat",
                                             "--heartbeat-timeout",
                                             "--speed",
                                             "--start",
                                             "--update-ms",
                                             "--answer-cache-mb",
                                             "--compress-threshold",
                                             "--deflate-level",
                                             "--max-conns",
                                             "--latency",
                                             "--max-lifetime",
                                             "--replay",
                                             "--firehose",
                                             "--symbols",
                                             "--firehose-batch",
                                             "--log",
                                             "--tls-cert",
                                             "--tls-key",
                                             "--oversize-bytes",
                                             "--fault",
                                             NULL};
        size_t nl = strcspn(a, "=");
        int known = 0;
        for (int k = 0; valued[k] && !known; k++)
            known = strlen(valued[k]) == nl && !strncmp(valued[k], a, nl);
        if (!known) {
            snprintf(err, errcap, "unknown option '%.*s' (see --help)", (int)nl, a);
            return -1;
        }
        /* Every other option takes a value: "--opt VALUE" or "--opt=VALUE". */
        char optname[40];
        const char *val;
        const char *eq = strchr(a, '=');
        if (eq) {
            size_t n = (size_t)(eq - a);
            if (n >= sizeof optname) n = sizeof optname - 1;
            memcpy(optname, a, n);
            optname[n] = 0;
            val = eq + 1;
        } else {
            snprintf(optname, sizeof optname, "%s", a);
            if (i + 1 >= argc) {
                snprintf(err, errcap, "%s needs a value (see --help)", a);
                return -1;
            }
            val = argv[++i];
        }
        const char *on = optname;
        int64_t v;
        double d;
        int bad = 0;
        if (!strcmp(on, "--host"))
            o->host = val;
        else if (!strcmp(on, "--port"))
            bad = to_i64(val, 0, 65535, &v) || (o->port = (int)v, 0);
        else if (!strcmp(on, "--seed"))
            bad = to_i64(val, 0, INT64_MAX, &v) || (o->seed = (uint64_t)v, 0);
        else if (!strcmp(on, "--history"))
            bad = to_i64(val, 1, 10000000, &o->history);
        else if (!strcmp(on, "--max-bars"))
            bad = to_i64(val, 1, 1000000, &o->max_bars);
        else if (!strcmp(on, "--heartbeat"))
            bad = to_dbl(val, 0.01, 86400, &d) || (o->heartbeat_ms = (int)(d * 1000), 0);
        else if (!strcmp(on, "--heartbeat-timeout"))
            bad = to_dbl(val, 0.01, 86400, &d) || (o->heartbeat_timeout_ms = (int)(d * 1000), 0);
        else if (!strcmp(on, "--speed"))
            bad = to_dbl(val, 0.001, 1e7, &o->speed);
        else if (!strcmp(on, "--start"))
            bad = to_i64(val, -62135596800LL, 253402300799LL, &o->start);
        else if (!strcmp(on, "--update-ms"))
            bad = to_i64(val, 1, 3600000, &v) || (o->update_ms = (int)v, 0);
        else if (!strcmp(on, "--answer-cache-mb"))
            bad = to_i64(val, 0, 1 << 20, &v) || (o->answer_cache_bytes = (size_t)v << 20, 0);
        else if (!strcmp(on, "--compress-threshold"))
            bad = to_i64(val, 0, INT32_MAX, &v) || (o->compress_threshold = (size_t)v, 0);
        else if (!strcmp(on, "--deflate-level"))
            bad = to_i64(val, 1, 9, &v) || (o->deflate_level = (int)v, 0);
        else if (!strcmp(on, "--max-conns"))
            bad = to_i64(val, 1, 100000, &v) || (o->max_conns = (int)v, 0);
        else if (!strcmp(on, "--latency"))
            bad = to_i64(val, 0, 600000, &v) || (o->latency_ms = (int)v, 0);
        else if (!strcmp(on, "--max-lifetime"))
            bad = to_dbl(val, 0.001, 1e9, &o->max_lifetime_s);
        else if (!strcmp(on, "--replay"))
            o->replay = val;
        else if (!strcmp(on, "--firehose"))
            bad = to_i64(val, 1, INT64_MAX / 2, &o->firehose);
        else if (!strcmp(on, "--symbols"))
            bad = to_i64(val, 1, 100000, &o->firehose_symbols);
        else if (!strcmp(on, "--firehose-batch"))
            bad = to_i64(val, 1, 100000, &o->firehose_batch);
        else if (!strcmp(on, "--log"))
            o->log = val;
        else if (!strcmp(on, "--tls-cert"))
            o->tls_cert = val;
        else if (!strcmp(on, "--tls-key"))
            o->tls_key = val;
        else if (!strcmp(on, "--oversize-bytes"))
            bad = to_i64(val, 1, (int64_t)1 << 31, &v) || (o->faults.oversize_bytes = (size_t)v, 0);
        else if (!strcmp(on, "--fault")) {
            if (fault(&o->faults, val, err, errcap)) return -1;
        } else {
            snprintf(err, errcap, "unknown option '%s' (see --help)", on);
            return -1;
        }
        if (bad) {
            snprintf(err, errcap, "%s: invalid value '%s' (see --help)", on, val);
            return -1;
        }
    }
    if (!o->tls_cert != !o->tls_key) {
        snprintf(err, errcap, "--tls-cert and --tls-key go together");
        return -1;
    }
    return 0;
}
