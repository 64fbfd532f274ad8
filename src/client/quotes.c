/* A quote set: one quote session with many symbols. qsd deltas are merged into a full snapshot
 * per symbol; a symbol the server rejects fails alone. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

/* Field names and values are a few bytes: copied by two overlapping moves of 16, 8, 4 or 2
 * bytes the compiler inlines, not a libc call each (compared so by tvk__eq_small, wire/bytes.h);
 * longer ones go to libc. The two sides never overlap. */
static inline void copy_small(char *d, const char *s, size_t n)
{
    if (n >= 8 && n <= 16) {
        memcpy(d, s, 8);
        memcpy(d + n - 8, s + n - 8, 8);
    } else if (n >= 4 && n < 8) {
        memcpy(d, s, 4);
        memcpy(d + n - 4, s + n - 4, 4);
    } else if (n > 16 && n <= 32) {
        memcpy(d, s, 16);
        memcpy(d + n - 16, s + n - 16, 16);
    } else if (n >= 2 && n < 4) {
        memcpy(d, s, 2);
        memcpy(d + n - 2, s + n - 2, 2);
    } else if (n == 1) {
        d[0] = s[0];
    } else if (n) {
        memcpy(d, s, n);
    }
}

/* A server cannot grow a snapshot without end: fields beyond this are dropped (logged). */
#define TVK_QUOTE_MAX_FIELDS 512
#define TVK_STR_(x) #x
#define TVK_STR(x) TVK_STR_(x)

/* ---------------------------------------------------------------- JSON string helpers */

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

static size_t put_utf8(char *d, unsigned cp)
{
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (char)(0xC0 | (cp >> 6));
        d[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (char)(0xE0 | (cp >> 12));
        d[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (char)(0xF0 | (cp >> 18));
    d[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    d[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    d[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int read_u4(const char *s, size_t n, size_t i, unsigned *cp)
{
    if (i + 4 > n) return -1;
    unsigned v = 0;
    for (size_t k = 0; k < 4; k++) {
        int h = hexval(s[i + k]);
        if (h < 0) return -1;
        v = v * 16 + (unsigned)h;
    }
    *cp = v;
    return 0;
}

/* Unescapes the inside of a JSON string into a new NUL-terminated buffer (UTF-8 is never longer
 * than its escape). NULL on ENOMEM or a bad escape. */
static char *json_unescape(const char *s, size_t n, size_t *outlen)
{
    char *d = malloc(n + 1);
    if (!d) return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            d[j++] = s[i];
            continue;
        }
        if (++i >= n) goto bad;
        switch (s[i]) {
        case '"':
            d[j++] = '"';
            break;
        case '\\':
            d[j++] = '\\';
            break;
        case '/':
            d[j++] = '/';
            break;
        case 'b':
            d[j++] = '\b';
            break;
        case 'f':
            d[j++] = '\f';
            break;
        case 'n':
            d[j++] = '\n';
            break;
        case 'r':
            d[j++] = '\r';
            break;
        case 't':
            d[j++] = '\t';
            break;
        case 'u': {
            unsigned cp, lo;
            if (read_u4(s, n, i + 1, &cp) < 0) goto bad;
            i += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < n + 0 && s[i + 1] == '\\' &&
                s[i + 2] == 'u' && read_u4(s, n, i + 3, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
            j += put_utf8(d + j, cp);
            break;
        }
        default:
            goto bad;
        }
    }
    d[j] = '\0';
    if (outlen) *outlen = j;
    return d;
bad:
    free(d);
    return NULL;
}

/* ---------------------------------------------------------------- index */

/* Symbols are a few words long: hashed a word at a time (multiply and fold), with the length
 * mixed in first. */
static uint64_t hash_bytes(const char *s, size_t n)
{
    const uint64_t k = 0x9e3779b97f4a7c15ull;
    uint64_t h = n * k;
    for (; n >= 8; s += 8, n -= 8) {
        h = (h ^ tvk__ld8(s)) * k;
        h ^= h >> 32;
    }
    if (n) {
        /* 1..7 bytes: two overlapping halves (which with the length fix the bytes), or bytes */
        uint64_t w = 0;
        if (n >= 4) {
            w = tvk__ld4(s) | (uint64_t)tvk__ld4(s + n - 4) << 32;
        } else {
            for (size_t i = 0; i < n; i++)
                w |= (uint64_t)(unsigned char)s[i] << (8 * i);
        }
        h = (h ^ w) * k;
    }
    /* the final mix brings the high bytes (where "SIM:F000" and "SIM:F001" differ) down to
     * the low bits the table uses (murmur3's finaliser) */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

static void index_put(tvk_quotes *q, const char *key, size_t n, int32_t idx)
{
    size_t mask = q->nslots - 1;
    for (size_t i = hash_bytes(key, n) & mask;; i = (i + 1) & mask)
        if (q->slots[i] < 0) {
            q->slots[i] = idx;
            return;
        }
}

static void index_entry(tvk_quotes *q, const tvk_quote_entry *e, int32_t idx)
{
    index_put(q, e->nkey, e->nkey_len, idx);
    if (strcmp(e->nkey, e->symbol)) index_put(q, e->symbol, e->symbol_len, idx);
}

/* The entries indexed again in the table as it is: after entries went (fewer keys than the
 * table held), so without an allocation that could fail and leave slots naming freed entries. */
static void index_refill(tvk_quotes *q)
{
    for (size_t i = 0; i < q->nslots; i++)
        q->slots[i] = -1;
    for (size_t i = 0; i < q->ne; i++)
        index_entry(q, q->e[i], (int32_t)i);
}

/* A table for want entries. An entry takes one or two keys (a spec and its symbol), so 4 slots
 * each keep it at most half full: a probe for a key it does not hold ends at a free slot. */
static int index_rebuild(tvk_quotes *q, size_t want)
{
    size_t n = 16;
    while (n < want * 4)
        n *= 2;
    int32_t *slots = malloc(n * sizeof *slots);
    if (!slots) return TVK_ENOMEM;
    free(q->slots);
    q->slots = slots;
    q->nslots = n;
    index_refill(q);
    return 0;
}

static tvk_quote_entry *index_get(const tvk_quotes *q, const char *key, size_t n)
{
    if (!q->nslots) return NULL;
    size_t mask = q->nslots - 1;
    for (size_t i = hash_bytes(key, n) & mask;; i = (i + 1) & mask) {
        int32_t idx = q->slots[i];
        if (idx < 0) return NULL;
        tvk_quote_entry *e = q->e[idx];
        if ((e->nkey_len == n && tvk__eq_small(e->nkey, key, n)) ||
            (e->symbol_len == n && tvk__eq_small(e->symbol, key, n)))
            return e;
    }
}

/* Whether the n bytes at p hold a backslash: a word test each side for 8 to 16 bytes (most
 * symbols), else libc. With x = word ^ backslashes, (x - ones) & ~x & high is nonzero exactly
 * when a byte of x is zero (a borrow can mark a byte above a zero one, never without one). */
static inline int has_backslash(const char *p, size_t n)
{
    const uint64_t ones = 0x0101010101010101ull, high = ones << 7, bs = ones * '\\';
    if (n >= 8 && n <= 16) {
        uint64_t a = tvk__ld8(p) ^ bs, b = tvk__ld8(p + n - 8) ^ bs;
        return ((((a - ones) & ~a) | ((b - ones) & ~b)) & high) != 0;
    }
    return memchr(p, '\\', n) != NULL;
}

/* The entry a qsd "n" names: the plain symbol, or the "="JSON key echoed compactly (falling back
 * to its "symbol" member, in case the server reorders keys). */
static tvk_quote_entry *find_entry(const tvk_quotes *q, tvk_str n)
{
    if (!n.len) return NULL;
    if (n.p[0] != '=' && !has_backslash(n.p, n.len)) return index_get(q, n.p, n.len);
    size_t ulen;
    char *u = json_unescape(n.p, n.len, &ulen);
    if (!u) return NULL;
    char *k = tvk__compact_json(u, ulen);
    free(u);
    if (!k) return NULL;
    tvk_quote_entry *e = index_get(q, k, strlen(k));
    if (!e) {
        const char *p = strstr(k, "\"symbol\":\"");
        if (p) {
            p += 10;
            const char *end = strchr(p, '"');
            if (end) e = index_get(q, p, (size_t)(end - p));
        }
    }
    free(k);
    return e;
}

/* ---------------------------------------------------------------- open / close */

static void entry_free(tvk_quote_entry *e)
{
    if (!e) return;
    for (size_t i = 0; i < e->nf; i++)
        free(e->f[i].name);
    free(e->f);
    free(e->pf);
    free(e->body);
    free(e->symbol);
    free(e->key);
    free(e->nkey);
    free(e->head);
    free(e);
}

void tvk__quotes_free(tvk_quotes *q)
{
    if (!q) return;
    for (size_t i = 0; i < q->ne; i++)
        entry_free(q->e[i]);
    free(q->e);
    free(q->slots);
    for (size_t i = 0; i < q->nfields; i++)
        free(q->fields[i]);
    free(q->fields);
    tvk__req_free(&q->req);
    free(q);
}

int tvk_quotes_open(tvk_conn *c, const tvk_req_opts *opts, const char *const *fields,
                    size_t nfields, void *user, tvk_quotes **out)
{
    if (out) *out = NULL;
    if (!c || !out || (nfields && !fields)) return TVK_EINVAL;
    int rc = tvk__conn_ready(c, opts ? opts->token : NULL);
    if (rc < 0) return rc;
    tvk_quotes *q = calloc(1, sizeof *q);
    if (!q) return TVK_ENOMEM;
    q->c = c;
    q->user = user;
    rc = tvk__req_copy(&q->req, opts);
    if (rc == 0 && fields && nfields) {
        q->fields = calloc(nfields, sizeof *q->fields);
        if (!q->fields) rc = TVK_ENOMEM;
        for (size_t i = 0; rc == 0 && i < nfields; i++) {
            q->fields[i] = tvk__strdup(fields[i]);
            q->nfields = i + 1;
            if (!q->fields[i]) rc = TVK_ENOMEM;
        }
    }
    if (rc == 0) rc = index_rebuild(q, 4);
    if (rc == 0) rc = tvk_session_id(q->qs, sizeof q->qs, "qs_");
    q->qs_len = strlen(q->qs);
    if (rc < 0) {
        tvk__conn_set_err(c, rc, "quotes: %s", tvk_strerror(rc));
        tvk__quotes_free(q);
        return rc;
    }
    tvk_buf_reset(&c->out);
    rc = tvk_build_quote_create_session(&c->out, q->qs);
    if (rc == 0) rc = tvk__conn_send_out(c);
    if (rc == 0)
        rc = tvk_build_quote_set_fields(&c->out, q->qs, (const char *const *)q->fields, q->nfields);
    if (rc == 0) rc = tvk__conn_send_out(c);
    tvk_buf_reset(&c->out);
    if (rc < 0) {
        tvk__quotes_free(q);
        return rc;
    }
    q->next = c->quotes;
    c->quotes = q;
    *out = q;
    return 0;
}

void tvk_quotes_close(tvk_quotes *q)
{
    if (!q) return;
    tvk_conn *c = q->c;
    if (c->state == TVK_CONN_CONNECTED && !c->fatal) {
        tvk_buf_reset(&c->out);
        if (tvk_build_quote_delete_session(&c->out, q->qs) == 0) tvk__conn_send_out(c);
        tvk_buf_reset(&c->out);
    }
    for (tvk_quotes **pp = &c->quotes; *pp; pp = &(*pp)->next)
        if (*pp == q) {
            *pp = q->next;
            break;
        }
    tvk__ev_drop_quotes(c, q);
    tvk__quotes_free(q);
}

static tvk_quote_entry *lookup_symbol(const tvk_quotes *q, const char *sym)
{
    tvk_quote_entry *e = index_get(q, sym, strlen(sym));
    return e && !strcmp(e->symbol, sym) ? e : NULL;
}

static tvk_quote_entry *entry_new(tvk_quotes *q, const char *sym)
{
    tvk_quote_entry *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->q = q;
    e->symbol = tvk__strdup(sym);
    if (!e->symbol) goto fail;
    if (tvk__req_needs_spec(&q->req.o)) {
        tvk_symbol_spec spec;
        tvk__req_spec(&q->req.o, sym, &spec);
        tvk_buf b;
        tvk_buf_init(&b);
        if (tvk_symbol_spec_write(&b, &spec) < 0 || !b.len) {
            tvk_buf_free(&b);
            goto fail;
        }
        e->key = tvk__strndup(b.data, b.len);
        tvk_buf_free(&b);
    } else {
        e->key = tvk__strdup(sym);
    }
    if (!e->key) goto fail;
    e->nkey = tvk__compact_json(e->key, strlen(e->key));
    if (!e->nkey) goto fail;
    e->nkey_len = strlen(e->nkey);
    e->symbol_len = strlen(e->symbol);
    tvk_buf h;
    tvk_buf_init(&h);
    if (tvk_buf_puts(&h, "{\"symbol\":") < 0 ||
        tvk_buf_json_str(&h, e->symbol, e->symbol_len) < 0) {
        tvk_buf_free(&h);
        goto fail;
    }
    e->head = h.data; /* owned now */
    e->head_len = h.len;
    e->pub.symbol = e->symbol;
    e->pub.status = TVK_QUOTE_PENDING;
    e->pub.errmsg = e->errmsg;
    return e;
fail:
    entry_free(e);
    return NULL;
}

int tvk__quotes_send_add(tvk_quotes *q, const char *const *keys, size_t nk)
{
    tvk_conn *c = q->c;
    tvk_buf_reset(&c->out);
    int rc = tvk_build_quote_add_symbols(&c->out, q->qs, keys, nk);
    if (rc == 0) rc = tvk__conn_send_out(c);
    if (rc == 0) rc = tvk_build_quote_fast_symbols(&c->out, q->qs, keys, nk);
    if (rc == 0) rc = tvk__conn_send_out(c);
    tvk_buf_reset(&c->out);
    return rc;
}

int tvk_quotes_add(tvk_quotes *q, const char *const *symbols, size_t n)
{
    if (!q || (n && !symbols)) return TVK_EINVAL;
    tvk_conn *c = q->c;
    char err[TVK_ERRMSG_CAP];
    for (size_t i = 0; i < n; i++) {
        int rc = tvk_symbol_validate(symbols[i], err, sizeof err);
        if (rc < 0) {
            tvk__conn_set_err(c, rc, "%s", err);
            return rc;
        }
    }
    const char **keys = calloc(n ? n : 1, sizeof *keys);
    if (!keys) return TVK_ENOMEM;
    size_t nk = 0;
    int rc = 0;
    size_t first_new = q->ne;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (lookup_symbol(q, symbols[i])) continue;
        if (q->ne == q->cape) {
            size_t ncap = q->cape ? q->cape * 2 : 16;
            tvk_quote_entry **ne = realloc(q->e, ncap * sizeof *ne);
            if (!ne) {
                rc = TVK_ENOMEM;
                break;
            }
            q->e = ne;
            q->cape = ncap;
        }
        tvk_quote_entry *e = entry_new(q, symbols[i]);
        if (!e) {
            rc = TVK_ENOMEM;
            break;
        }
        q->e[q->ne++] = e;
        keys[nk++] = e->key;
        if (q->ne * 4 > q->nslots) {
            rc = index_rebuild(q, q->ne);
        } else {
            index_entry(q, e, (int32_t)(q->ne - 1));
        }
    }
    if (rc == 0 && nk) rc = tvk__quotes_send_add(q, keys, nk);
    free(keys);
    if (rc < 0) {
        /* Nothing half-added: the new entries go again, with any event they queued (a lost
         * connection fails every symbol of the set, the new ones too). */
        for (size_t i = first_new; i < q->ne; i++) {
            tvk__ev_drop_quote(c, q->e[i]);
            entry_free(q->e[i]);
        }
        q->ne = first_new;
        index_refill(q); /* it held first_new entries before: room enough */
        if (rc == TVK_ENOMEM) tvk__conn_set_err(c, rc, "quotes: out of memory");
        return rc;
    }
    int64_t deadline = tvk_now_ms() + tvk__conn_timeout(c, &q->req.o);
    for (size_t i = first_new; i < q->ne; i++)
        q->e[i]->deadline = deadline;
    if (q->ne > first_new) q->maybe_pending = 1;
    return 0;
}

int tvk_quotes_remove(tvk_quotes *q, const char *const *symbols, size_t n)
{
    if (!q || (n && !symbols)) return TVK_EINVAL;
    tvk_conn *c = q->c;
    const char **keys = calloc(n ? n : 1, sizeof *keys);
    tvk_quote_entry **gone = calloc(n ? n : 1, sizeof *gone);
    if (!keys || !gone) {
        free(keys);
        free(gone);
        return TVK_ENOMEM;
    }
    size_t ng = 0;
    for (size_t i = 0; i < n; i++) {
        tvk_quote_entry *e = lookup_symbol(q, symbols[i]);
        int dup = 0;
        for (size_t k = 0; k < ng; k++)
            dup |= gone[k] == e;
        if (e && !dup) {
            gone[ng] = e;
            keys[ng++] = e->key;
        }
    }
    int rc = 0;
    if (ng && c->state == TVK_CONN_CONNECTED) {
        tvk_buf_reset(&c->out);
        rc = tvk_build_quote_remove_symbols(&c->out, q->qs, keys, ng);
        if (rc == 0) rc = tvk__conn_send_out(c);
        tvk_buf_reset(&c->out);
    }
    size_t m = 0;
    for (size_t i = 0; i < q->ne; i++) {
        int drop = 0;
        for (size_t k = 0; k < ng; k++)
            drop |= gone[k] == q->e[i];
        if (drop) {
            tvk__ev_drop_quote(c, q->e[i]);
            entry_free(q->e[i]);
        } else {
            q->e[m++] = q->e[i];
        }
    }
    q->ne = m;
    free(keys);
    free(gone);
    index_refill(q); /* fewer entries than before */
    return rc;
}

size_t tvk_quotes_count(const tvk_quotes *q)
{
    return q->ne;
}
const tvk_quote *tvk_quotes_at(const tvk_quotes *q, size_t i)
{
    return i < q->ne ? &q->e[i]->pub : NULL;
}
const tvk_quote *tvk_quotes_get(const tvk_quotes *q, const char *symbol)
{
    tvk_quote_entry *e = symbol ? lookup_symbol(q, symbol) : NULL;
    return e ? &e->pub : NULL;
}
const char *tvk_quotes_session(const tvk_quotes *q)
{
    return q->qs;
}
void *tvk_quotes_user(const tvk_quotes *q)
{
    return q->user;
}

/* ---------------------------------------------------------------- merging */

static void push_entry(tvk_quote_entry *e, tvk_event_type type)
{
    if (tvk__ev_push_quote(e->q->c, e, type) < 0)
        tvk__conn_log(e->q->c, "%s: quote event dropped: out of memory", e->symbol);
}

static void entry_fail(tvk_quote_entry *e, int code, const char *fmt, const char *a, size_t alen)
{
    if (e->pub.status == TVK_QUOTE_ERROR && e->pub.error == code) return;
    e->pub.status = TVK_QUOTE_ERROR;
    e->pub.error = code;
    e->deadline = 0;
    snprintf(e->errmsg, sizeof e->errmsg, fmt, e->symbol, (int)alen, a);
    push_entry(e, TVK_EV_ERROR);
}

void tvk__quotes_fail(tvk_quotes *q, int code, const char *why, int all)
{
    for (size_t i = 0; i < q->ne; i++) {
        tvk_quote_entry *e = q->e[i];
        if (e->pub.status == TVK_QUOTE_ERROR) continue;
        if (!all && e->pub.status != TVK_QUOTE_PENDING) continue;
        entry_fail(e, code, "%s: %.*s", why, strlen(why));
    }
}

int64_t tvk__quotes_check_deadlines(tvk_quotes *q, int64_t now)
{
    /* Runs for every message received: with thousands of symbols, scan only while some are
     * still waiting for their first snapshot. */
    if (!q->maybe_pending) return -1;
    int64_t earliest = -1;
    int pending = 0;
    for (size_t i = 0; i < q->ne; i++) {
        tvk_quote_entry *e = q->e[i];
        if (e->pub.status != TVK_QUOTE_PENDING || e->deadline <= 0) continue;
        pending = 1;
        if (now >= e->deadline) {
            char why[96];
            snprintf(why, sizeof why, "no quote within %d ms", tvk__conn_timeout(q->c, &q->req.o));
            entry_fail(e, TVK_ETIMEDOUT, "%s: %.*s", why, strlen(why));
        } else if (earliest < 0 || e->deadline < earliest) {
            earliest = e->deadline;
        }
    }
    if (!pending) q->maybe_pending = 0;
    return earliest;
}

static inline int set_field(tvk_quote_entry *e, tvk_str name, const char *json, size_t jlen,
                            int quoted, double num);

/* A string value with raw UTF-8 is stored \u-escaped, so snapshots serialise as ASCII by plain
 * copies (tvk_quote_to_json runs once per change on busy streams). */
static int set_string_field(tvk_quote_entry *e, tvk_str name, const char *raw, size_t len)
{
    int ascii = 1;
    for (size_t i = 0; i < len && ascii; i++)
        ascii = (unsigned char)raw[i] < 0x80;
    if (ascii) return set_field(e, name, raw, len, 1, NAN);
    size_t n;
    char *u = json_unescape(raw, len, &n);
    if (!u) return set_field(e, name, raw, len, 1, NAN);
    tvk_buf b;
    tvk_buf_init(&b);
    int rc = tvk_buf_json_str(&b, u, n);
    free(u);
    if (rc == 0 && b.len >= 2)
        rc = set_field(e, name, b.data + 1, b.len - 2, 1, NAN);
    else
        rc = set_field(e, name, raw, len, 1, NAN); /* invalid UTF-8: kept as sent */
    tvk_buf_free(&b);
    return rc;
}

/* The snapshot's fields are one text, e->body: every field's ',"name":value' in order, so that a
 * snapshot line is three copies whatever the number of fields. It is the only copy of the
 * values: each public field's json points at its value there, and a value is written in place
 * (once per field of every change on busy streams). A value of another length moves the fields
 * after it, and their json pointers with them. */

/* Room for extra more bytes in the body. On growth, the json pointers of the first cnt fields
 * move to the new block (copied, then the old one freed: no pointer into a freed block). A
 * snapshot is bounded like a message (max_message): a server cannot grow one without end by
 * sending large values for many fields (TVK_EMSG_TOOBIG: the field is dropped). */
static int body_reserve(tvk_quote_entry *e, size_t extra, size_t cnt)
{
    if (extra <= e->body_cap - e->body_len) return 0;
    size_t need = e->body_len + extra, lim = e->q->c->o.max_message;
    if (!lim) lim = TVK_DEFAULT_MAX_MESSAGE;
    if (need < e->body_len || need > lim) return TVK_EMSG_TOOBIG;
    size_t cap = need + need / 2 + 64; /* slack: a price gaining a digit does not reallocate */
    if (cap > lim) cap = lim;          /* the slack is used without this test */
    char *nb = malloc(cap);
    if (!nb) return TVK_ENOMEM;
    if (e->body_len) memcpy(nb, e->body, e->body_len);
    for (size_t k = 0; k < cnt; k++)
        e->pf[k].json = nb + (e->pf[k].json - e->body);
    free(e->body);
    e->body = nb;
    e->body_cap = cap;
    return 0;
}

/* Writes field i's value in the body and updates its public view. Field i is e->nf itself
 * while it is being added (its prefix already at the body's end, its value empty). */
static inline __attribute__((always_inline)) int
put_value(tvk_quote_entry *e, size_t i, const char *json, size_t jlen, int quoted, double num)
{
    tvk_quote_field *pf = &e->pf[i];
    size_t vlen = jlen + (quoted ? 2 : 0), old = pf->json_len;
    if (vlen != old) {
        size_t cnt = i < e->nf ? e->nf : i + 1;
        int rc = vlen > old ? body_reserve(e, vlen - old, cnt) : 0;
        if (rc < 0) return rc;
        char *v = (char *)pf->json; /* the entry's own body */
        memmove(v + vlen, v + old, (size_t)(e->body + e->body_len - (v + old)));
        e->body_len = e->body_len - old + vlen;
        ptrdiff_t d = (ptrdiff_t)vlen - (ptrdiff_t)old;
        for (size_t k = i + 1; k < cnt; k++)
            e->pf[k].json += d;
        pf->json_len = vlen;
    }
    char *o = (char *)pf->json;
    if (quoted) {
        o[0] = '"';
        copy_small(o + 1, json, jlen);
        o[jlen + 1] = '"';
    } else {
        copy_small(o, json, jlen);
    }
    pf->num = num;
    return 0;
}

/* ,"name": for a new field. name is the raw (escaped) JSON text of the key: printable ASCII is
 * valid JSON as it is; anything else is unescaped and written again as ASCII. */
static int make_prefix(tvk_buf *b, tvk_str name, int *verbatim)
{
    int plain = 1;
    for (size_t j = 0; j < name.len && plain; j++)
        plain = (unsigned char)name.p[j] >= 0x20 && (unsigned char)name.p[j] < 0x7f;
    *verbatim = plain;
    int rc = tvk_buf_append(b, ",", 1);
    if (plain) {
        if (rc == 0) rc = tvk_buf_append(b, "\"", 1);
        if (rc == 0) rc = tvk_buf_append(b, name.p, name.len);
        if (rc == 0) rc = tvk_buf_append(b, "\"", 1);
    } else {
        size_t n;
        char *u = json_unescape(name.p, name.len, &n);
        if (!u) return TVK_ESHAPE;
        if (rc == 0) rc = tvk_buf_json_str(b, u, n);
        free(u);
        if (rc == TVK_EINVAL) return TVK_ESHAPE; /* not UTF-8 */
    }
    if (rc == 0) rc = tvk_buf_append(b, ":", 1);
    return rc;
}

static int add_field(tvk_quote_entry *e, tvk_str name)
{
    if (e->nf >= TVK_QUOTE_MAX_FIELDS) return TVK_EBUFSIZE;
    if (e->nf == e->capf) {
        size_t ncap = e->capf ? e->capf * 2 : 32;
        tvk_qfield *nf = realloc(e->f, ncap * sizeof *nf);
        if (!nf) return TVK_ENOMEM;
        e->f = nf;
        tvk_quote_field *npf = realloc(e->pf, ncap * sizeof *npf);
        if (!npf) return TVK_ENOMEM;
        e->pf = npf;
        e->capf = ncap;
    }
    tvk_qfield *f = &e->f[e->nf];
    memset(f, 0, sizeof *f);
    tvk_buf b;
    tvk_buf_init(&b);
    int verbatim;
    int rc = make_prefix(&b, name, &verbatim);
    if (rc < 0) {
        tvk_buf_free(&b);
        return rc;
    }
    f->name = tvk__strndup(name.p, name.len);
    if (!f->name) {
        tvk_buf_free(&b);
        return TVK_ENOMEM;
    }
    /* The prefix at the body's end; the value (empty for now) after it. */
    rc = body_reserve(e, b.len, e->nf);
    if (rc < 0) {
        free(f->name);
        tvk_buf_free(&b);
        return rc;
    }
    memcpy(e->body + e->body_len, b.data, b.len);
    e->body_len += b.len;
    f->name_len = name.len;
    f->prefix_len = b.len;
    f->verbatim = verbatim;
    tvk_buf_free(&b);
    tvk_quote_field *pf = &e->pf[e->nf];
    pf->name = f->name;
    pf->json = e->body + e->body_len;
    pf->json_len = 0;
    pf->num = NAN;
    return 0;
}

/* Remembers that field i came after the previous one of this delta (the next delta of the
 * symbol likely has the same shape), and guesses the field after it. */
static void matched(tvk_quote_entry *e, size_t i)
{
    if (e->prev < 0)
        e->first_hint = (uint32_t)i;
    else
        e->f[e->prev].next = (uint32_t)i;
    e->prev = (int32_t)i;
    e->hint = e->f[i].next;
}

static inline __attribute__((always_inline)) int
set_field(tvk_quote_entry *e, tvk_str name, const char *json, size_t jlen, int quoted, double num)
{
    /* The guess first, then every field. */
    size_t nf = e->nf, i = e->hint < nf ? e->hint : 0;
    for (size_t k = 0; k < nf; k++) {
        const tvk_qfield *f = &e->f[i];
        /* A verbatim name is compared in the body, next to the value about to be written. */
        if (f->name_len == name.len &&
            tvk__eq_small(f->verbatim ? e->pf[i].json - f->prefix_len + 2 : f->name, name.p,
                          name.len)) {
            matched(e, i);
            return put_value(e, i, json, jlen, quoted, num);
        }
        if (++i == nf) i = 0;
    }
    int rc = add_field(e, name);
    if (rc < 0) return rc;
    rc = put_value(e, nf, json, jlen, quoted, num);
    if (rc < 0) { /* its prefix off the body's end again */
        e->body_len -= e->f[nf].prefix_len;
        free(e->f[nf].name);
        return rc;
    }
    e->f[nf].next = (uint32_t)nf + 1;
    e->nf = nf + 1;
    matched(e, nf);
    return 0;
}

/* One field of a qsd change; -1 = stop taking the change's fields. Inlined into the loops over
 * a change's fields: a call per field cost a fifth of the merge. */
static inline __attribute__((always_inline)) int qsd_field(tvk_quotes *q, tvk_quote_entry *e,
                                                           const tvk_jmember *mb)
{
    double num = mb->num == 1e100 ? NAN : mb->num;
    int rc = mb->type == TVK_J_STRING ? set_string_field(e, mb->key, mb->raw.p, mb->raw.len)
                                      : set_field(e, mb->key, mb->raw.p, mb->raw.len, 0, num);
    if (rc < 0) {
        /* Logged once per symbol and reason: a server repeating the field would flood the log. */
        unsigned bit = rc == TVK_ENOMEM        ? 1u
                       : rc == TVK_ESHAPE      ? 2u
                       : rc == TVK_EMSG_TOOBIG ? 4u
                                               : 8u;
        if (!(e->dropped_logged & bit)) {
            e->dropped_logged |= bit;
            tvk__conn_log(q->c, "%s: quote field %.*s dropped: %s (said once per symbol)",
                          e->symbol, (int)mb->key.len, mb->key.p,
                          rc == TVK_ENOMEM   ? "out of memory"
                          : rc == TVK_ESHAPE ? "bad name"
                          : rc == TVK_EMSG_TOOBIG
                              ? "snapshot over the message size limit"
                              : "over " TVK_STR(TVK_QUOTE_MAX_FIELDS) " fields");
        }
        /* Out of memory ends the change; the others drop this field only. */
        if (rc == TVK_ENOMEM) return -1;
    }
    return 0;
}

static void qsd_begin(tvk_quote_entry *e)
{
    e->hint = e->first_hint;
    e->prev = -1;
}

static void qsd_end(tvk_quote_entry *e)
{
    e->pub.fields = e->pf;
    e->pub.nfields = e->nf;
    e->pub.status = TVK_QUOTE_OK;
    e->pub.error = 0;
    e->errmsg[0] = '\0';
    e->deadline = 0;
    e->pub.updates++;
    push_entry(e, TVK_EV_QUOTE);
}

static void on_qsd(tvk_quotes *q, const tvk_msg *m)
{
    tvk_qsd d;
    if (tvk_msg_qsd(m, &d) < 0) {
        tvk__conn_log(q->c, "%s: skipped a malformed qsd", q->qs);
        return;
    }
    tvk_quote_entry *e = find_entry(q, d.symbol);
    if (!e) return; /* removed meanwhile, or not ours */
    if (!d.ok) {
        entry_fail(e, TVK_ESYMBOL, "quote error for %s: %.*s", d.errmsg.p ? d.errmsg.p : "",
                   d.errmsg.len);
        return;
    }
    qsd_begin(e);
    /* The "v" object's members walked once, one call each. */
    int cursor = 0;
    tvk_jmember mb;
    for (int i = 0; d.values >= 0 && i < d.nfields &&
                    tvk_json_next_member(m->json, d.values, &cursor, &mb) > 0;
         i++)
        if (qsd_field(q, e, &mb) < 0) break;
    qsd_end(e);
}

void tvk__quotes_on_plain(tvk_quotes *q, const tvk_qsd_plain *p)
{
    tvk_quote_entry *e = find_entry(q, p->symbol);
    if (!e) return;
    qsd_begin(e);
    for (int i = 0; i < p->nfields; i++)
        if (qsd_field(q, e, &p->fields[i]) < 0) break;
    qsd_end(e);
}

void tvk__quotes_on_msg(tvk_quotes *q, const tvk_msg *m)
{
    if (m->type == TVK_MSG_QSD) {
        on_qsd(q, m);
    } else if (m->type == TVK_MSG_QUOTE_COMPLETED) {
        tvk_quote_completed qc;
        if (tvk_msg_quote_completed(m, &qc) < 0) return;
        tvk_quote_entry *e = find_entry(q, qc.symbol);
        if (e) e->pub.complete = 1;
    }
}

/* ---------------------------------------------------------------- snapshot access */

const tvk_quote_field *tvk_quote_field_get(const tvk_quote *q, const char *field)
{
    if (!q || !field) return NULL;
    for (size_t i = 0; i < q->nfields; i++)
        if (!strcmp(q->fields[i].name, field)) return &q->fields[i];
    return NULL;
}

int tvk_quote_number(const tvk_quote *q, const char *field, double *v)
{
    const tvk_quote_field *f = tvk_quote_field_get(q, field);
    if (!f) return TVK_ENOTFOUND;
    if (!f->json_len || f->json[0] == '"' || f->json[0] == '{' || f->json[0] == '[' ||
        f->json[0] == 't' || f->json[0] == 'f' || f->json[0] == 'n')
        return TVK_ESHAPE;
    *v = f->num;
    return 0;
}

int tvk_quote_string(const tvk_quote *q, const char *field, char *buf, size_t cap)
{
    const tvk_quote_field *f = tvk_quote_field_get(q, field);
    if (!f) return TVK_ENOTFOUND;
    if (f->json_len < 2 || f->json[0] != '"') return TVK_ESHAPE;
    size_t n;
    char *u = json_unescape(f->json + 1, f->json_len - 2, &n);
    if (!u) return TVK_ESHAPE;
    int rc = 0;
    if (n + 1 > cap) {
        rc = TVK_EBUFSIZE;
    } else {
        memcpy(buf, u, n + 1);
    }
    free(u);
    return rc;
}

int tvk_quote_to_json(const tvk_quote *q, tvk_buf *out)
{
    if (!q || !out) return TVK_EINVAL;
    const tvk_quote_entry *e = (const tvk_quote_entry *)q; /* pub is its first member */
    if (q->status == TVK_QUOTE_ERROR) {
        size_t start = out->len;
        int rc = tvk_buf_append(out, e->head, e->head_len);
        if (rc == 0) rc = tvk_buf_puts(out, ",\"status\":\"error\",\"error\":");
        if (rc == 0) rc = tvk_buf_json_str(out, q->errmsg, strlen(q->errmsg));
        if (rc == 0) rc = tvk_buf_puts(out, "}");
        if (rc < 0 && out->data) { /* all or nothing: no half line before the next one */
            out->len = start;
            out->data[start] = '\0';
        }
        return rc;
    }
    static const char ok[] = ",\"status\":\"ok\"", pending[] = ",\"status\":\"pending\"";
    int is_ok = q->status == TVK_QUOTE_OK;
    size_t stlen = is_ok ? sizeof ok - 1 : sizeof pending - 1;
    size_t need = e->head_len + stlen + e->body_len + 1; /* tvk_buf_reserve adds the NUL's room */
    /* A line per change on busy streams: the call only when the buffer must grow or is bounded */
    if (out->limit || out->cap <= out->len || need >= out->cap - out->len) {
        int rc = tvk_buf_reserve(out, need);
        if (rc < 0) return rc;
    }
    char *o = out->data + out->len;
    memcpy(o, e->head, e->head_len);
    o += e->head_len;
    if (is_ok) /* constant sizes: two moves, not a copy loop */
        memcpy(o, ok, sizeof ok - 1);
    else
        memcpy(o, pending, sizeof pending - 1);
    o += stlen;
    if (e->body_len) memcpy(o, e->body, e->body_len); /* no body yet after an empty "v" */
    o += e->body_len;
    *o++ = '}';
    *o = '\0';
    out->len = (size_t)(o - out->data);
    return 0;
}
