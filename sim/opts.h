/* tvkit-sim command-line options. */
#ifndef TVK_SIM_OPTS_H
#define TVK_SIM_OPTS_H

#include <stddef.h>
#include <stdint.h>

typedef struct sim_faults {
    /* Packet counts are data packets sent on a connection (hello included, heartbeats not);
     * -1 = fault off. */
    int64_t close_after;  /* first connection only */
    int64_t close_every;  /* every connection */
    int64_t stall_after;  /* stop data, keep heartbeats */
    int64_t silent_after; /* stop everything */
    int64_t garbage_after;
    int64_t bad_length_after;
    int64_t oversize_after;
    int64_t protocol_error_at; /* n-th client JSON packet answered with protocol_error */
    int64_t reject_429;        /* first N upgrades get 429 */
    int64_t throttle;          /* at most N bars per answer */
    int custom_resolution;     /* non-standard minute resolutions get series_error */
    size_t oversize_bytes;
} sim_faults;

typedef struct sim_opts {
    const char *host;
    int port;
    uint64_t seed;
    int64_t history;  /* bars per symbol and resolution */
    int64_t max_bars; /* per request */
    int heartbeat_ms;
    int heartbeat_timeout_ms;
    double speed;
    int64_t start;             /* market clock at startup, unix s; 0 = wall clock */
    int update_ms;             /* live du / qsd cadence (wall time) */
    size_t answer_cache_bytes; /* bound of the history answer cache; 0 = no cache */
    int compress;
    size_t compress_threshold;
    int deflate_level; /* zlib level of what the sim compresses, 1..9 */
    const char *replay;
    int64_t firehose;
    int64_t firehose_symbols;
    int64_t firehose_batch; /* qsd packets per firehose WebSocket message */
    int latency_ms;
    sim_faults faults;
    const char *log;
    double max_lifetime_s; /* 0 = forever */
    const char *tls_cert, *tls_key;
    int max_conns;
    int quiet;
} sim_opts;

void sim_opts_init(sim_opts *o);
/* 0 = run; 1 = --help / --version printed, exit 0; -1 = error printed to err, exit 2. */
int sim_opts_parse(sim_opts *o, int argc, char **argv, char *err, size_t errcap);
/* The --help text. */
const char *sim_opts_usage(void);

#endif
