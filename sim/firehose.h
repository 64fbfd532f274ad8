/* The --firehose packet source: a pool of pre-encoded qsd packets (a few variants per symbol,
 * round-robin over the symbols) copied out in batches (one memcpy per contiguous run of the
 * pool), so producing a packet costs a memcpy share rather than an encoding. Used by the server
 * and by bench/firehose. */
#ifndef TVK_SIM_FIREHOSE_H
#define TVK_SIM_FIREHOSE_H

#include <stddef.h>
#include <stdint.h>

#include "market.h"
#include "tvkit/wire.h"

typedef struct sim_fh {
    tvk_buf pool; /* framed qsd packets back to back */
    size_t *offs; /* packet start offsets in pool, npool + 1 entries */
    size_t npool;
    size_t next; /* next pool packet to copy */
    int64_t remaining;
} sim_fh;

/* Encodes the pool for n symbols (keys as echoed in "n") at market time now, and sets the
 * number of packets to produce. 0 or a negative TVK_E* code. */
int sim_fh_build(sim_fh *f, const char *qs, const char *const *keys, const sim_symbol *syms,
                 size_t n, int64_t now, int64_t total);
/* Appends whole packets to out: at most max_packets (>= 1) of them and at most max_bytes bytes
 * (a safety cap; one packet larger than it still goes). Returns the number of packets appended
 * (0 once all are produced) or a negative TVK_E* code. */
int64_t sim_fh_fill_n(sim_fh *f, tvk_buf *out, size_t max_bytes, int64_t max_packets);
/* sim_fh_fill_n without a packet-count limit (bench/firehose's 256 KiB batches). */
int64_t sim_fh_fill(sim_fh *f, tvk_buf *out, size_t limit);
/* Appends the end marker {"m":"firehose_completed","p":[qs,total]}. */
int sim_fh_marker(tvk_buf *out, const char *qs, int64_t total);
void sim_fh_free(sim_fh *f);

#endif
