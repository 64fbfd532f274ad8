/* The history answer cache: a chained hash table of entries threaded on one LRU list. */
#include "answer_cache.h"

#include <stdlib.h>
#include <string.h>

#include "tvkit/error.h"
#include "tvkit/net.h"

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
    sim_zpiece *zbars, *ztimes; /* pre-compressed forms, counted in size */
    int zbits;                  /* their window; 0 = not made yet */
    int zfailed;                /* no room or no memory for them: not tried again */
    char *symbol;               /* points into data */
    char data[];                /* symbol NUL, bars, times */
} entry;

struct sim_answer_cache {
    entry *buckets[NBUCKETS];
    entry *newest, *oldest;
    size_t bytes, max_bytes, entries;
    uint64_t hits, misses, stored, evicted, too_big, deflated;
    size_t deflated_bytes;
};

sim_zpiece *sim_zpiece_ref(sim_zpiece *z)
{
    if (z) z->refs++;
    return z;
}

void sim_zpiece_unref(sim_zpiece *z)
{
    if (z && --z->refs == 0) free(z);
}

static size_t zsize(const sim_zpiece *z)
{
    return z ? sizeof *z + z->len : 0;
}

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
        sim_zpiece_unref(e->zbars);
        sim_zpiece_unref(e->ztimes);
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
    c->deflated_bytes -= zsize(e->zbars) + zsize(e->ztimes);
    c->entries--;
    sim_zpiece_unref(e->zbars);
    sim_zpiece_unref(e->ztimes);
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

static sim_zpiece *zmake(const char *text, size_t len, int level, int window_bits)
{
    if (len < SIM_ZPIECE_MIN) return NULL;
    unsigned char *z = NULL;
    size_t zl = 0;
    if (tvk_ws_deflate_part(text, len, level, window_bits, &z, &zl) != 0) return NULL;
    sim_zpiece *p = malloc(sizeof *p + zl);
    if (p) {
        p->refs = 1;
        p->plain_len = len;
        p->window_bits = window_bits;
        p->len = zl;
        memcpy(p->data, z, zl);
    }
    free(z);
    return p;
}

int sim_answer_cache_deflated(sim_answer_cache *c, const sim_answer_key *k, int level,
                              int window_bits, sim_zpiece **bars, sim_zpiece **times)
{
    *bars = *times = NULL;
    entry *e = find(c, key_hash(k), k);
    if (!e) return 0;
    if (e->zbits == window_bits || e->zfailed) {
        *bars = e->zbars;
        *times = e->ztimes;
        return 1;
    }
    if (e->zbits) { /* another window: the forms are remade for the new one */
        c->bytes -= zsize(e->zbars) + zsize(e->ztimes);
        c->deflated_bytes -= zsize(e->zbars) + zsize(e->ztimes);
        e->size -= zsize(e->zbars) + zsize(e->ztimes);
        sim_zpiece_unref(e->zbars);
        sim_zpiece_unref(e->ztimes);
        e->zbars = e->ztimes = NULL;
        e->zbits = 0;
    }
    size_t sl = strlen(e->symbol) + 1;
    int want_b = e->bars_len >= SIM_ZPIECE_MIN, want_t = e->times_len >= SIM_ZPIECE_MIN;
    sim_zpiece *zb = zmake(e->data + sl, e->bars_len, level, window_bits);
    sim_zpiece *zt = zmake(e->data + sl + e->bars_len, e->times_len, level, window_bits);
    size_t add = zsize(zb) + zsize(zt);
    /* this entry is the newest (it was just used): only others make room */
    lru_unlink(c, e);
    lru_push(c, e);
    while (c->bytes + add > c->max_bytes && c->oldest != e) {
        drop(c, c->oldest);
        c->evicted++;
    }
    if ((want_b && !zb) || (want_t && !zt) || c->bytes + add > c->max_bytes) {
        sim_zpiece_unref(zb);
        sim_zpiece_unref(zt);
        e->zfailed = 1;
        return 1;
    }
    e->zbars = zb;
    e->ztimes = zt;
    e->zbits = window_bits;
    e->size += add;
    c->bytes += add;
    c->deflated_bytes += add;
    c->deflated += (zb != NULL) + (zt != NULL);
    *bars = zb;
    *times = zt;
    return 1;
}

void sim_answer_cache_get_stats(const sim_answer_cache *c, sim_answer_cache_stats *st)
{
    st->deflated = c->deflated;
    st->deflated_bytes = c->deflated_bytes;
    st->hits = c->hits;
    st->misses = c->misses;
    st->stored = c->stored;
    st->evicted = c->evicted;
    st->too_big = c->too_big;
    st->bytes = c->bytes;
    st->max_bytes = c->max_bytes;
    st->entries = c->entries;
}
