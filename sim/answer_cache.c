/* The history answer cache: a chained hash table of entries threaded on one LRU list. */
#include "answer_cache.h"

#include <stdlib.h>
#include <string.h>

#include "tvkit/error.h"

/* Entries are at least SIM_CACHE_MIN_BARS bars (~4.5 KB): 64 MiB holds ~15,000 of them, a few
 * per chain. */
#define NBUCKETS 4096

typedef struct entry {
    struct entry *chain;         /* next in the bucket */
    struct entry *newer, *older; /* LRU list */
    uint64_t hash;
    sim_res res;
    int64_t from, count, first_index;
    size_t bars_len, times_len, size;
    char *symbol; /* points into data */
    char data[];  /* symbol NUL, bars, times */
} entry;

struct sim_answer_cache {
    entry *buckets[NBUCKETS];
    entry *newest, *oldest;
    size_t bytes, max_bytes, entries;
    uint64_t hits, misses, stored, evicted, too_big;
};

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v;
    h *= 0x100000001b3ULL;
    return h ^ (h >> 29);
}

static uint64_t key_hash(const sim_answer_key *k)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)k->symbol; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    h = mix(h, (uint64_t)k->res.unit);
    h = mix(h, (uint64_t)k->res.n);
    h = mix(h, (uint64_t)k->from);
    h = mix(h, (uint64_t)k->count);
    return mix(h, (uint64_t)k->first_index);
}

static int key_eq(const entry *e, uint64_t h, const sim_answer_key *k)
{
    return e->hash == h && e->res.unit == k->res.unit && e->res.n == k->res.n &&
           e->from == k->from && e->count == k->count && e->first_index == k->first_index &&
           !strcmp(e->symbol, k->symbol);
}

sim_answer_cache *sim_answer_cache_new(size_t max_bytes)
{
    sim_answer_cache *c = calloc(1, sizeof *c);
    if (c) c->max_bytes = max_bytes;
    return c;
}

void sim_answer_cache_free(sim_answer_cache *c)
{
    if (!c) return;
    for (entry *e = c->newest; e;) {
        entry *o = e->older;
        free(e);
        e = o;
    }
    free(c);
}

static void lru_unlink(sim_answer_cache *c, entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void lru_push(sim_answer_cache *c, entry *e)
{
    e->newer = NULL;
    e->older = c->newest;
    if (c->newest) c->newest->newer = e;
    c->newest = e;
    if (!c->oldest) c->oldest = e;
}

static void drop(sim_answer_cache *c, entry *e)
{
    entry **pp = &c->buckets[e->hash % NBUCKETS];
    while (*pp != e)
        pp = &(*pp)->chain;
    *pp = e->chain;
    lru_unlink(c, e);
    c->bytes -= e->size;
    c->entries--;
    free(e);
}

static entry *find(sim_answer_cache *c, uint64_t h, const sim_answer_key *k)
{
    for (entry *e = c->buckets[h % NBUCKETS]; e; e = e->chain)
        if (key_eq(e, h, k)) return e;
    return NULL;
}

int sim_answer_cache_get(sim_answer_cache *c, const sim_answer_key *k, sim_bars_text *t)
{
    entry *e = find(c, key_hash(k), k);
    if (!e) {
        c->misses++;
        return 0;
    }
    c->hits++;
    lru_unlink(c, e);
    lru_push(c, e);
    size_t sl = strlen(e->symbol) + 1;
    t->bars = e->data + sl;
    t->bars_len = e->bars_len;
    t->times = e->data + sl + e->bars_len;
    t->times_len = e->times_len;
    return 1;
}

int sim_answer_cache_put(sim_answer_cache *c, const sim_answer_key *k, const sim_bars_text *t)
{
    uint64_t h = key_hash(k);
    size_t sl = strlen(k->symbol) + 1;
    size_t size = sizeof(entry) + sl + t->bars_len + t->times_len;
    entry *old = find(c, h, k);
    if (old) drop(c, old);
    if (size > c->max_bytes) {
        c->too_big++;
        return 1;
    }
    while (c->bytes + size > c->max_bytes && c->oldest) {
        drop(c, c->oldest);
        c->evicted++;
    }
    entry *e = malloc(size);
    if (!e) return TVK_ENOMEM;
    memset(e, 0, sizeof *e);
    e->hash = h;
    e->res = k->res;
    e->from = k->from;
    e->count = k->count;
    e->first_index = k->first_index;
    e->bars_len = t->bars_len;
    e->times_len = t->times_len;
    e->size = size;
    e->symbol = e->data;
    memcpy(e->data, k->symbol, sl);
    if (t->bars_len) memcpy(e->data + sl, t->bars, t->bars_len);
    if (t->times_len) memcpy(e->data + sl + t->bars_len, t->times, t->times_len);
    e->chain = c->buckets[h % NBUCKETS];
    c->buckets[h % NBUCKETS] = e;
    lru_push(c, e);
    c->bytes += size;
    c->entries++;
    c->stored++;
    return 0;
}

void sim_answer_cache_get_stats(const sim_answer_cache *c, sim_answer_cache_stats *st)
{
    st->hits = c->hits;
    st->misses = c->misses;
    st->stored = c->stored;
    st->evicted = c->evicted;
    st->too_big = c->too_big;
    st->bytes = c->bytes;
    st->max_bytes = c->max_bytes;
    st->entries = c->entries;
}
