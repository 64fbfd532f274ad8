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

/* Texts shorter than this are never pre-compressed: the net layer splices a piece only when it
 * can give the live compressor the piece's last 32 KiB as its dictionary. */
#define SIM_ZPIECE_MIN ((size_t)32 << 10)

/* A cached text compressed once (tvk_ws_deflate_part: raw deflate from an empty window, sync
 * flush at the end), so each answer sends it as is instead of deflating ~400 KB again. Shared
 * by the cache entry and by the messages waiting to be sent that splice it (--latency), so it
 * outlives an eviction until those are sent. */
typedef struct sim_zpiece {
    size_t refs;
    size_t plain_len; /* the text it stands for */
    int window_bits;
    size_t len;
    unsigned char data[];
} sim_zpiece;

sim_zpiece *sim_zpiece_ref(sim_zpiece *z);
void sim_zpiece_unref(sim_zpiece *z); /* NULL is fine */

typedef struct sim_answer_cache_stats {
    uint64_t hits, misses, stored, evicted, too_big;
    size_t bytes, max_bytes, entries;
    uint64_t deflated;     /* pre-compressed forms made */
    size_t deflated_bytes; /* of bytes: those held by entries now */
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
/* The pre-compressed forms of the entry's bars and times texts (NULL for a text below
 * SIM_ZPIECE_MIN), made at level with window_bits the first time they are asked for and counted
 * in the bound like the texts (the least recently used other entries make room; when there is
 * none, or on ENOMEM, both stay NULL and are not tried again). Borrowed pointers: take a
 * reference to keep one past the next put. Returns 1 when the entry exists, else 0. */
int sim_answer_cache_deflated(sim_answer_cache *c, const sim_answer_key *k, int level,
                              int window_bits, sim_zpiece **bars, sim_zpiece **times);
void sim_answer_cache_get_stats(const sim_answer_cache *c, sim_answer_cache_stats *st);

#endif
