/* A byte-bounded cache of the encoded bars of history answers, shared by all connections of a
 * sim. A bar that is complete depends only on (seed, symbol, resolution, slot), so the text of a
 * run of complete bars, with its "i" indexes, can be reused by every later request for the same
 * run: repeated benchmark runs against one sim then cost only the envelope and compression.
 * The session, series and turn ids and the forming bar are never cached: the encoder puts them
 * around the cached text per answer. Least recently used entries are dropped to stay within the
 * bound. */
#ifndef TVK_SIM_ANSWER_CACHE_H
#define TVK_SIM_ANSWER_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "market.h"

/* Runs shorter than this are encoded afresh each time: cheap, and live updates would churn. */
#define SIM_CACHE_MIN_BARS 64

typedef struct sim_answer_key {
    const char *symbol; /* "EX:TICKER": with the sim's seed it fixes every bar of the symbol */
    sim_res res;
    int64_t from;        /* first slot */
    int64_t count;       /* complete bars from there */
    int64_t first_index; /* the first bar's "i" */
} sim_answer_key;

/* The pieces of a timescale_update's series that depend on the bars: the "s" array's items
 * ({"i":..,"v":[..]},...) and the "changes" list's times (1717027200.0,...). */
typedef struct sim_bars_text {
    const char *bars;
    size_t bars_len;
    const char *times;
    size_t times_len;
} sim_bars_text;

typedef struct sim_answer_cache sim_answer_cache;

typedef struct sim_answer_cache_stats {
    uint64_t hits, misses, stored, evicted, too_big;
    size_t bytes, max_bytes, entries;
} sim_answer_cache_stats;

/* max_bytes bounds the entries' memory (text, key and bookkeeping). NULL on ENOMEM. */
sim_answer_cache *sim_answer_cache_new(size_t max_bytes);
void sim_answer_cache_free(sim_answer_cache *c);
/* 1 and *t filled (valid until the next put) when cached, else 0. Counts a hit or a miss. */
int sim_answer_cache_get(sim_answer_cache *c, const sim_answer_key *k, sim_bars_text *t);
/* Stores a copy of t under k, replacing an entry of the same key and dropping the least
 * recently used ones until it fits. 0 = stored, 1 = not stored (larger than the whole bound),
 * TVK_ENOMEM. */
int sim_answer_cache_put(sim_answer_cache *c, const sim_answer_key *k, const sim_bars_text *t);
void sim_answer_cache_get_stats(const sim_answer_cache *c, sim_answer_cache_stats *st);

#endif
