/* permessage-deflate (RFC 7692): negotiation and the per-message raw deflate streams. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/internal.h"

static const unsigned char tail[4] = {0x00, 0x00, 0xff, 0xff};

/* Splits "name[=value]" params of one extension; calls fn for each. Returns -1 on bad syntax. */
typedef int (*param_fn)(void *ctx, const char *name, const char *val, char *err, size_t cap);

static int each_param(char *ext, void *p, param_fn fn, char *err, size_t errcap)
{
    char *save = NULL;
    char *tok = strtok_r(ext, ";", &save);
    if (!tok) {
        snprintf(err, errcap, "empty extension");
        return -1;
    }
    while (*tok == ' ' || *tok == '\t')
        tok++;
    char *e = tok + strlen(tok);
    while (e > tok && (e[-1] == ' ' || e[-1] == '\t'))
        *--e = 0;
    if (strcasecmp(tok, "permessage-deflate") != 0) {
        snprintf(err, errcap, "unsupported extension \"%.60s\"", tok);
        return -1;
    }
    while ((tok = strtok_r(NULL, ";", &save))) {
        while (*tok == ' ' || *tok == '\t')
            tok++;
        e = tok + strlen(tok);
        while (e > tok && (e[-1] == ' ' || e[-1] == '\t'))
            *--e = 0;
        char *eq = strchr(tok, '=');
        const char *val = NULL;
        if (eq) {
            *eq = 0;
            val = eq + 1;
            while (*val == ' ')
                val++;
            if (*val == '"') { /* quoted-string form allowed by RFC 7692 section 7.1 */
                val++;
                char *q = strchr(val, '"');
                if (q) *q = 0;
            }
            for (char *k = eq; k > tok && (k[-1] == ' ' || k[-1] == '\t'); k--)
                k[-1] = 0;
        }
        if (fn(p, tok, val, err, errcap) != 0) return -1;
    }
    return 0;
}

static int bits_value(const char *v)
{
    if (!v || !v[0] || (v[1] && v[2]) || v[0] < '0' || v[0] > '9') return -1;
    int n = v[1] ? (v[0] - '0') * 10 + (v[1] - '0') : v[0] - '0';
    if (v[1] && (v[1] < '0' || v[1] > '9')) return -1;
    return n >= 8 && n <= 15 ? n : -1;
}

static int resp_param(void *ctx, const char *name, const char *val, char *err, size_t cap)
{
    tvk_pmd *p = ctx;
    int *flag = NULL, *bits = NULL;
    if (strcasecmp(name, "server_no_context_takeover") == 0)
        flag = &p->server_no_ctx;
    else if (strcasecmp(name, "client_no_context_takeover") == 0)
        flag = &p->client_no_ctx;
    else if (strcasecmp(name, "server_max_window_bits") == 0)
        bits = &p->server_bits;
    else if (strcasecmp(name, "client_max_window_bits") == 0)
        bits = &p->client_bits;
    else {
        snprintf(err, cap, "permessage-deflate: unknown parameter \"%.40s\"", name);
        return -1;
    }
    if (flag) {
        if (val || *flag) goto bad;
        *flag = 1;
        return 0;
    }
    int b = bits_value(val);
    if (b < 0 || *bits != 0) goto bad;
    *bits = b;
    return 0;
bad:
    snprintf(err, cap, "permessage-deflate: bad or repeated parameter \"%.40s\"", name);
    return -1;
}

int tvk_pmd_parse_response(tvk_pmd *p, const char *value, char *err, size_t errcap)
{
    if (strchr(value, ',')) {
        snprintf(err, errcap, "server accepted more than one extension (\"%.80s\")", value);
        return -1;
    }
    char *copy = strdup(value);
    if (!copy) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    p->server_bits = p->client_bits = 0;
    int rc = each_param(copy, p, resp_param, err, errcap);
    free(copy);
    if (rc != 0) return -1;
    if (!p->server_bits) p->server_bits = 15;
    if (!p->client_bits) p->client_bits = 15;
    p->on = 1;
    return 0;
}

/* Offer parameters, as the server reads them: client_max_window_bits may come without a value. */
typedef struct {
    int sno, cno, sbits, cbits, cbits_flag;
} offer;

static int offer_param(void *ctx, const char *name, const char *val, char *err, size_t cap)
{
    offer *o = ctx;
    if (strcasecmp(name, "server_no_context_takeover") == 0 && !val)
        o->sno = 1;
    else if (strcasecmp(name, "client_no_context_takeover") == 0 && !val)
        o->cno = 1;
    else if (strcasecmp(name, "server_max_window_bits") == 0 && bits_value(val) > 0)
        o->sbits = bits_value(val);
    else if (strcasecmp(name, "client_max_window_bits") == 0 && (!val || bits_value(val) > 0))
        o->cbits = val ? bits_value(val) : 0, o->cbits_flag = 1;
    else
        return -1;
    return 0;
}

int tvk_pmd_accept_offer(tvk_pmd *p, const char *value, char *resp, size_t respcap)
{
    char *copy = strdup(value);
    if (!copy) return -1;
    char *save = NULL, err[128]; /* the reason a refused offer is skipped is not reported */
    for (char *ext = strtok_r(copy, ",", &save); ext; ext = strtok_r(NULL, ",", &save)) {
        offer o = {0};
        if (each_param(ext, &o, offer_param, err, sizeof err) != 0) continue;
        p->on = 1;
        p->server_no_ctx = o.sno;
        p->client_no_ctx = o.cno;
        p->server_bits = o.sbits ? o.sbits : 15;
        p->client_bits = o.cbits ? o.cbits : 15;
        snprintf(resp, respcap, "permessage-deflate%s%s",
                 o.sno ? "; server_no_context_takeover" : "",
                 o.cno ? "; client_no_context_takeover" : "");
        if (o.sbits) {
            size_t l = strlen(resp);
            snprintf(resp + l, respcap - l, "; server_max_window_bits=%d", o.sbits);
        }
        if (o.cbits) {
            size_t l = strlen(resp);
            snprintf(resp + l, respcap - l, "; client_max_window_bits=%d", o.cbits);
        }
        break;
    }
    free(copy);
    return p->on ? 0 : -1;
}

/* Opens the live compressor of our side once, with the window it keeps for the connection. */
static int deflate_open(tvk_pmd *p, int server, int bits)
{
    if (!p->deflate_ready) {
        memset(&p->def, 0, sizeof p->def);
        /* zlib refuses a raw window of 8; 9 never emits distances past 256 (MAX_DIST). */
        int level = p->level >= 1 && p->level <= 9 ? p->level : Z_DEFAULT_COMPRESSION;
        /* A client sends only short requests: a 1 KiB window and a small hash table compress
         * them as well, in ~10 KB instead of ~512 KB per connection. A smaller window than
         * negotiated is always valid (the peer's window only has to be large enough). */
        int wbits = bits < 9 ? 9 : bits, mem = 8;
        if (!server) {
            if (wbits > 10) wbits = 10;
            mem = 2;
        }
        if (deflateInit2(&p->def, level, Z_DEFLATED, -wbits, mem, Z_DEFAULT_STRATEGY) != Z_OK)
            return TVK_ENOMEM;
        p->deflate_ready = 1;
        p->def_bits = wbits;
    }
    return 0;
}

int tvk_pmd_compress(tvk_pmd *p, int server, const char *in, size_t len, unsigned char **out,
                     size_t *outlen)
{
    int bits = server ? p->server_bits : p->client_bits;
    int no_ctx = server ? p->server_no_ctx : p->client_no_ctx;
    int r0 = deflate_open(p, server, bits);
    if (r0) return r0;
    size_t cap = deflateBound(&p->def, len) + 64;
    unsigned char *b = malloc(cap);
    if (!b) return TVK_ENOMEM;
    p->def.next_in = (Bytef *)(uintptr_t)in;
    p->def.avail_in = (uInt)len;
    size_t used = 0;
    for (;;) {
        p->def.next_out = b + used;
        p->def.avail_out = (uInt)(cap - used);
        int r = deflate(&p->def, Z_SYNC_FLUSH);
        used = cap - p->def.avail_out;
        if (r != Z_OK && r != Z_BUF_ERROR) {
            free(b);
            return TVK_EINFLATE;
        }
        if (p->def.avail_out != 0) break;
        unsigned char *nb = realloc(b, cap * 2);
        if (!nb) {
            free(b);
            return TVK_ENOMEM;
        }
        b = nb;
        cap *= 2;
    }
    if (used >= 4 && memcmp(b + used - 4, tail, 4) == 0) used -= 4;
    if (no_ctx) deflateReset(&p->def);
    *out = b;
    *outlen = used;
    return 0;
}

int tvk_pmd_inflate_begin(tvk_pmd *p)
{
    p->inflate_done = 0;
    if (p->inflate_ready) return 0;
    memset(&p->inf, 0, sizeof p->inf);
    /* a 15-bit window decodes whatever window the peer compressed with */
    if (inflateInit2(&p->inf, -15) != Z_OK) return TVK_ENOMEM;
    p->inflate_ready = 1;
    return 0;
}

int tvk_pmd_inflate(tvk_ws *ws, const unsigned char *in, size_t len, char *err, size_t errcap)
{
    tvk_pmd *p = &ws->pmd;
    /* Bytes after a final block are not deflate data. Dropping them whatever the frame
     * boundaries keeps the result independent of how the message was fragmented. */
    if (p->inflate_done) return 0;
    p->inf.next_in = (Bytef *)(uintptr_t)in;
    p->inf.avail_in = (uInt)len;
    for (;;) {
        /* output goes straight into the receive buffer; when it must grow, it doubles */
        char *dst;
        size_t room;
        int r = tvk_rx_room(ws, ws->mlen < 16384 ? 16384 : ws->mlen, &dst, &room);
        if (r == TVK_EMSG_TOOBIG) {
            snprintf(err, errcap, "inflated message exceeds limit %zu", ws->max_message);
            return r;
        }
        if (r) {
            snprintf(err, errcap, "out of memory inflating a message");
            return r;
        }
        if (room > (1u << 30)) room = 1u << 30;
        p->inf.next_out = (Bytef *)dst;
        p->inf.avail_out = (uInt)room;
        r = inflate(&p->inf, Z_SYNC_FLUSH);
        ws->mlen += room - p->inf.avail_out;
        if (ws->mlen > ws->max_message) {
            snprintf(err, errcap, "inflated message exceeds limit %zu", ws->max_message);
            return TVK_EMSG_TOOBIG;
        }
        if (r == Z_STREAM_END) {
            /* the peer ended the deflate stream (BFINAL); the next message starts afresh */
            inflateReset(&p->inf);
            p->inflate_done = 1;
            return 0;
        }
        if (r != Z_OK && r != Z_BUF_ERROR) {
            snprintf(err, errcap, "inflate: %s", p->inf.msg ? p->inf.msg : "corrupt data");
            return TVK_EINFLATE;
        }
        if (p->inf.avail_in == 0 && p->inf.avail_out != 0) return 0;
        if (r == Z_BUF_ERROR && p->inf.avail_out != 0) return 0;
    }
}

int tvk_pmd_inflate_end(tvk_ws *ws, char *err, size_t errcap)
{
    tvk_pmd *p = &ws->pmd;
    int r = tvk_pmd_inflate(ws, tail, sizeof tail, err, errcap);
    p->inflate_done = 0;
    if (r) return r;
    /* the sender's context: client messages when we are the server, and vice versa */
    if (ws->server ? p->client_no_ctx : p->server_no_ctx) inflateReset(&p->inf);
    return 0;
}

void tvk_pmd_free(tvk_pmd *p)
{
    if (p->deflate_ready) deflateEnd(&p->def);
    if (p->inflate_ready) inflateEnd(&p->inf);
    p->deflate_ready = p->inflate_ready = 0;
}

/* ---------------------------------------------------------------- messages made of parts */

/* Deflates in (sync flush) onto the end of a growing buffer. */
static int deflate_append(z_stream *z, const char *in, size_t len, unsigned char **b, size_t *cap,
                          size_t *used)
{
    size_t need = *used + deflateBound(z, len) + 64;
    if (need > *cap) {
        unsigned char *nb = realloc(*b, need);
        if (!nb) return TVK_ENOMEM;
        *b = nb;
        *cap = need;
    }
    z->next_in = (Bytef *)(uintptr_t)in;
    z->avail_in = (uInt)len;
    for (;;) {
        z->next_out = *b + *used;
        z->avail_out = (uInt)(*cap - *used);
        int r = deflate(z, Z_SYNC_FLUSH);
        *used = *cap - z->avail_out;
        if (r != Z_OK && r != Z_BUF_ERROR) return TVK_EINFLATE;
        if (z->avail_out != 0) return 0;
        unsigned char *nb = realloc(*b, *cap * 2);
        if (!nb) return TVK_ENOMEM;
        *b = nb;
        *cap *= 2;
    }
}

int tvk_ws_deflate_part(const char *text, size_t len, int level, int window_bits,
                        unsigned char **out, size_t *outlen)
{
    if (!out || !outlen || (!text && len) || level < -1 || level > 9 || window_bits < 9 ||
        window_bits > 15 || len > (size_t)UINT32_MAX)
        return TVK_EINVAL;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level, Z_DEFLATED, -window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return TVK_ENOMEM;
    unsigned char *b = NULL;
    size_t cap = 0, used = 0;
    int r = deflate_append(&z, text ? text : "", len, &b, &cap, &used);
    deflateEnd(&z);
    if (r) {
        free(b);
        return r == TVK_EINFLATE ? TVK_ENOMEM : r;
    }
    *out = b;
    *outlen = used;
    return 0;
}

/* A pre-compressed part may be spliced into the live stream when the peer's window holds what
 * it refers to and what follows can be given the text's tail as its dictionary. */
static int can_splice(const tvk_pmd *p, int bits, const tvk_ws_part *pt)
{
    size_t dict = (size_t)1 << p->def_bits;
    if (dict > 32768) dict = 32768;
    return pt->deflated && pt->deflated_len >= 4 &&
           memcmp(pt->deflated + pt->deflated_len - 4, tail, 4) == 0 && pt->window_bits >= 9 &&
           pt->window_bits <= bits && pt->len >= dict;
}

int tvk_pmd_compress_parts(tvk_pmd *p, int server, const tvk_ws_part *parts, size_t n,
                           unsigned char **out, size_t *outlen, size_t *spliced)
{
    int bits = server ? p->server_bits : p->client_bits;
    int no_ctx = server ? p->server_no_ctx : p->client_no_ctx;
    int r = deflate_open(p, server, bits);
    if (r) return r;
    unsigned char *b = NULL;
    size_t cap = 0, used = 0;
    *spliced = 0;
    for (size_t i = 0; i < n && !r; i++) {
        const tvk_ws_part *pt = &parts[i];
        if (pt->len == 0) continue;
        if (!can_splice(p, bits, pt)) {
            r = deflate_append(&p->def, pt->text, pt->len, &b, &cap, &used);
            continue;
        }
        /* The live stream was sync-flushed: the piece starts on a byte boundary, at a block. */
        if (used + pt->deflated_len > cap) {
            size_t ncap = used + pt->deflated_len + 4096;
            unsigned char *nb = realloc(b, ncap);
            if (!nb) {
                r = TVK_ENOMEM;
                break;
            }
            b = nb;
            cap = ncap;
        }
        memcpy(b + used, pt->deflated, pt->deflated_len);
        used += pt->deflated_len;
        (*spliced)++;
        /* The live compressor's window must become what the peer's inflater now holds, or its
         * next matches would point into text the peer never saw at those distances. */
        size_t dict = (size_t)1 << p->def_bits;
        if (dict > 32768) dict = 32768;
        if (deflateReset(&p->def) != Z_OK ||
            deflateSetDictionary(&p->def, (const Bytef *)pt->text + pt->len - dict, (uInt)dict) !=
                Z_OK)
            r = TVK_EINFLATE;
    }
    if (r) {
        free(b);
        /* the peer's stream and ours may disagree now: only a new stream is safe, and the
         * caller fails the connection anyway */
        deflateReset(&p->def);
        return r;
    }
    if (used >= 4 && memcmp(b + used - 4, tail, 4) == 0) used -= 4;
    if (no_ctx) deflateReset(&p->def);
    *out = b;
    *outlen = used;
    return 0;
}
