/* The reader's fast packet head (reader.c head_fast, taken when 16 bytes or
 * more are left) and the 16-byte SSE2 step of the string scan (scan.h scan_string) against
 * byte-wise models of what the reader and the JSON scanner must accept and reject, with the same
 * error codes and the same offsets and texts in the errors. Messages and documents are copied
 * into blocks of their exact size, so that a read past the end shows in the ASan build. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tvkit/error.h"
#include "tvkit/wire.h"
#include "wire/internal.h" /* tvk_utf8_decode: the model's UTF-8 rule */

/* ---------------------------------------------------------------- reader */

typedef struct mres {
    int rc;
    char err[256];
    size_t off, dlen, doff;
    int hb;
    int64_t k;
} mres;

static int mark(const char *m, size_t len, size_t p)
{
    return len - p >= 3 && p <= len && m[p] == '~' && m[p + 1] == 'm' && m[p + 2] == '~';
}

/* The reader's rules for ASCII messages (bytes, code points and UTF-16 units agree), one
 * packet from *pos. rc as tvk_reader_next; *stop = the reader is done after it. */
static void model_next(const char *m, size_t len, size_t *pos, mres *o, int *stop)
{
    memset(o, 0, sizeof *o);
    *stop = 1;
    if (*pos >= len) return;
    size_t off = *pos, p = off;
    if (!mark(m, len, p)) {
        o->rc = TVK_EFRAME_NOMARK;
        snprintf(o->err, sizeof o->err, "offset %zu: expected \"~m~\" at the start of a packet",
                 off);
        return;
    }
    p += 3;
    size_t d = p;
    unsigned long long n = 0;
    while (p < len && m[p] >= '0' && m[p] <= '9') {
        if (p - d == 10) {
            o->rc = TVK_EFRAME_LENDIGITS;
            snprintf(o->err, sizeof o->err, "offset %zu: length prefix has more than 10 digits",
                     off + 3);
            return;
        }
        n = n * 10 + (unsigned)(m[p] - '0');
        p++;
    }
    if (p == d) {
        o->rc = TVK_EFRAME_NOMARK;
        snprintf(o->err, sizeof o->err, "offset %zu: expected length digits after \"~m~\"",
                 off + 3);
        return;
    }
    if (!mark(m, len, p)) {
        o->rc = TVK_EFRAME_NOMARK;
        snprintf(o->err, sizeof o->err, "offset %zu: expected \"~m~\" after the length prefix", p);
        return;
    }
    p += 3;
    if (n == 0) {
        o->rc = TVK_EFRAME_EMPTY;
        snprintf(o->err, sizeof o->err, "offset %zu: packet with an empty payload", p);
        return;
    }
    if (n > len - p) {
        o->rc = TVK_EFRAME_LENPAST;
        snprintf(o->err, sizeof o->err,
                 "offset %zu: length %llu runs past the end of the message (%zu bytes left)", p, n,
                 len - p);
        return;
    }
    size_t q = p + (size_t)n;
    if (q != len && !mark(m, len, q)) {
        o->rc = TVK_EFRAME_LENGTH;
        snprintf(o->err, sizeof o->err,
                 "offset %zu: length %llu fits none of bytes, code points, UTF-16 units (no "
                 "\"~m~\" or end after the payload)",
                 p, n);
        return;
    }
    *stop = 0;
    *pos = q;
    o->rc = 1;
    o->off = off;
    o->doff = p;
    o->dlen = (size_t)n;
    if (n >= 3 && m[p] == '~' && m[p + 1] == 'h' && m[p + 2] == '~') {
        size_t h = p + 3;
        int nd = 0;
        int64_t k = 0;
        while (h < q && m[h] >= '0' && m[h] <= '9' && nd < 18) {
            k = k * 10 + (m[h] - '0');
            h++;
            nd++;
        }
        if (h != q || nd == 0) {
            o->rc = TVK_ENUMBER;
            snprintf(o->err, sizeof o->err,
                     "offset %zu: heartbeat \"%.*s\" is not ~h~<1-18 digits>", off,
                     (int)(n > 40 ? 40 : n), m + p);
            return;
        }
        o->hb = 1;
        o->k = k;
    }
}

static uint64_t rnd(uint64_t *x)
{
    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    return *x;
}

static void put(char *m, size_t *n, size_t cap, const char *s, size_t len)
{
    if (*n + len > cap) len = cap - *n;
    memcpy(m + *n, s, len);
    *n += len;
}

/* A random message: packets well-formed or broken in the head (marks missing or cut, no
 * digits, 1..12 digits with leading zeros, length 0, lengths off by one), heartbeats, garbage,
 * 0..~70 bytes, so heads start with fewer and with more than 16 bytes left. */
static size_t gen(uint64_t *x, char *m, size_t cap)
{
    static const char *const marks[] = {"~m~", "~m~", "~m~", "~m~", "~m",   "~",
                                        "m~",  "~h~", "~M~", "",    "~mm~", "~m~~"};
    size_t n = 0;
    int parts = 1 + (int)(rnd(x) % 4);
    for (int i = 0; i < parts; i++) {
        uint64_t r = rnd(x);
        char payload[40];
        size_t pl = (r >> 8) % 24;
        int hb = (r >> 16) % 5 == 0;
        if (hb) {
            int nd = (int)((r >> 20) % 21);
            pl = (size_t)snprintf(payload, sizeof payload, "~h~");
            for (int k = 0; k < nd && pl < sizeof payload - 1; k++)
                payload[pl++] = (char)((r >> 28) % 7 == 0 && k == nd / 2 ? 'x' : '0' + k % 10);
        } else {
            for (size_t k = 0; k < pl; k++)
                payload[k] = "x{}~m0"[(rnd(x) >> 5) % ((r >> 40) % 3 ? 1 : 6)];
        }
        const char *m1 = marks[(r >> 24) % 12 < 8 ? 0 : (r >> 24) % 12];
        const char *m2 = marks[(r >> 32) % 12 < 8 ? 0 : (r >> 32) % 12];
        char digits[24];
        size_t dl;
        switch ((r >> 44) % 8) {
        case 0: /* leading zeros */
            dl = (size_t)snprintf(digits, sizeof digits, "%0*zu", (int)(2 + (r >> 50) % 10), pl);
            break;
        case 1: /* many digits */
            dl = (size_t)snprintf(digits, sizeof digits, "%llu",
                                  (unsigned long long)(rnd(x) % 10000000000000ull));
            break;
        case 2: /* none */
            dl = 0;
            break;
        case 3: /* off by one */
            dl = (size_t)snprintf(digits, sizeof digits, "%zu",
                                  pl + ((r >> 50) % 2 ? 1 : 0) - 1 + ((r >> 52) % 2));
            break;
        default:
            dl = (size_t)snprintf(digits, sizeof digits, "%zu", pl);
            break;
        }
        put(m, &n, cap, m1, strlen(m1));
        put(m, &n, cap, digits, dl);
        put(m, &n, cap, m2, strlen(m2));
        put(m, &n, cap, payload, pl);
    }
    return n;
}

static void test_reader_head(void **st)
{
    (void)st;
    tvk_reader *r = tvk_reader_new(0);
    assert_non_null(r);
    uint64_t x = 0x2545f4914f6cdd1dULL;
    char buf[256];
    long fast = 0, errors = 0;
    for (long it = 0; it < 400000; it++) {
        size_t len = gen(&x, buf, sizeof buf);
        char *m = malloc(len ? len : 1);
        assert_non_null(m);
        memcpy(m, buf, len);
        assert_int_equal(tvk_reader_feed(r, m, len), 0);
        size_t pos = 0;
        for (int k = 0;; k++) {
            mres want;
            int stop;
            size_t before = pos;
            model_next(m, len, &pos, &want, &stop);
            if (len - before >= 16 && want.rc) fast++;
            tvk_packet pkt;
            memset(&pkt, 0, sizeof pkt);
            int rc = tvk_reader_next(r, &pkt);
            if (rc != want.rc)
                fail_msg("message \"%.*s\" packet %d: rc %d (%s), want %d (%s)", (int)len, m, k, rc,
                         tvk_reader_errmsg(r), want.rc, want.err);
            if (rc < 0) {
                errors++;
                if (strcmp(tvk_reader_errmsg(r), want.err))
                    fail_msg("message \"%.*s\" packet %d: \"%s\", want \"%s\"", (int)len, m, k,
                             tvk_reader_errmsg(r), want.err);
            }
            if (rc == 1) {
                assert_int_equal(pkt.offset, want.off);
                assert_ptr_equal(pkt.data, m + want.doff);
                assert_int_equal(pkt.len, want.dlen);
                assert_int_equal(pkt.kind, want.hb ? TVK_PKT_HEARTBEAT : TVK_PKT_JSON);
                if (want.hb) assert_true(pkt.heartbeat == want.k);
            }
            if (rc == TVK_ENUMBER) continue; /* a bad heartbeat: the reader goes on */
            if (stop || rc <= 0) break;
        }
        free(m);
    }
    print_message("%ld packet heads with 16 bytes or more left, %ld errors\n", fast, errors);
    assert_true(fast > 100000 && errors > 100000);
    tvk_reader_free(r);
}

/* ---------------------------------------------------------------- string scan */

/* The JSON string rule byte by byte, from the byte after the opening quote at q: 0 and *at at
 * the closing quote, or -1 with *at and *why. */
static int model_string(const unsigned char *d, size_t n, size_t q, size_t *at, const char **why)
{
    size_t p = q + 1;
    for (;;) {
        if (p >= n) {
            *at = p;
            *why = "unterminated string";
            return -1;
        }
        unsigned char c = d[p];
        if (c == '"') {
            *at = p;
            return 0;
        }
        if (c >= 0x80) {
            unsigned cp;
            size_t l = tvk_utf8_decode(d + p, n - p, &cp);
            if (!l) {
                *at = p;
                *why = "invalid UTF-8 in string";
                return -1;
            }
            p += l;
        } else if (c < 0x20) {
            *at = p;
            *why = "control character in string";
            return -1;
        } else if (c == '\\') {
            if (n - p < 2) {
                *at = p;
                *why = "unterminated string";
                return -1;
            }
            unsigned char e = d[p + 1];
            if (e == 'u') {
                int ok = n - p >= 6;
                for (int k = 2; ok && k < 6; k++) {
                    unsigned char h = d[p + k];
                    ok = (h >= '0' && h <= '9') || ((h | 0x20) >= 'a' && (h | 0x20) <= 'f');
                }
                if (!ok) {
                    *at = p;
                    *why = "invalid \\u escape";
                    return -1;
                }
                p += 6;
            } else if (strchr("\"\\/bfnrt", e) && e) {
                p += 2;
            } else {
                *at = p;
                *why = "invalid escape";
                return -1;
            }
        } else {
            p++;
        }
    }
}

/* Every byte value and a set of sequences at every position of strings of 0..50 bytes, the
 * string far from the document's end (the 16-byte step over all of it), close to it (the last
 * blocks byte-wise) and cut by it. */
static void test_string_scan(void **st)
{
    (void)st;
    tvk_json *j = tvk_json_new();
    assert_non_null(j);
    static const char *const seqs[] = {
        "\\\"",
        "\\\\",
        "\\/",
        "\\b",
        "\\n",
        "\\u00e9",
        "\\u12",
        "\\uzzzz",
        "\\x",
        "\\",
        "\xc3\xa9",
        "\xc3",
        "\xe2\x82\xac",
        "\xe2\x82",
        "\xf0\x9f\x98\x80",
        "\xf0\x9f\x98",
        "\xed\xa0\x80",
        "\xc0\x80",
        "\xf4\x90\x80\x80",
        "\x7f",
        "\x80",
        "\xff",
    };
    size_t nseq = sizeof seqs / sizeof seqs[0];
    static const char *const tails[] = {
        "\"]",                                                   /* near the end */
        "\",                                          1]",       /* far from it */
        "",                                                      /* cut: unterminated */
        "\"                ,\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"]", /* a second string after */
    };
    char ins[8], doc[160];
    long parsed = 0, rejected = 0;
    for (size_t s = 0; s < 256 + nseq; s++) {
        size_t il;
        if (s < 256) {
            if (s == '"' || s == '\\') continue; /* as sequences above */
            ins[0] = (char)s;
            il = 1;
        } else {
            il = strlen(seqs[s - 256]);
            memcpy(ins, seqs[s - 256], il);
        }
        for (size_t len = 0; len <= 50; len++) {
            for (size_t pos = 0; pos <= len; pos++) {
                for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
                    size_t n = 0;
                    doc[n++] = '[';
                    doc[n++] = '"';
                    for (size_t k = 0; k < pos; k++)
                        doc[n++] = (char)('a' + k % 26);
                    memcpy(doc + n, ins, il);
                    n += il;
                    for (size_t k = pos; k < len; k++)
                        doc[n++] = (char)('A' + k % 26);
                    size_t tl = strlen(tails[t]);
                    memcpy(doc + n, tails[t], tl);
                    n += tl;
                    char *d = malloc(n);
                    assert_non_null(d);
                    memcpy(d, doc, n);
                    size_t at = 0, wat = 0;
                    const char *why = "", *wwhy = "";
                    int want = model_string((const unsigned char *)d, n, 1, &wat, &wwhy);
                    size_t close = 2 + len + il; /* where the tail's quote is */
                    int skip = 0;
                    if (want == 0 && (t == 2 || wat != close))
                        skip = 1; /* the insert closes the string itself, or escapes the quote:
                                     another document, the existing tests' business */
                    if (want == 0 && t == 3)
                        want = model_string((const unsigned char *)d, n, n - 33, &wat, &wwhy);
                    int rc = tvk_json_parse(j, d, n, &at, &why);
                    if (!skip &&
                        ((rc == 0) != (want == 0) || (rc != 0 && (at != wat || strcmp(why, wwhy)))))
                        fail_msg("insert %zu at %zu of %zu, tail %zu: \"%.*s\": rc %d at %zu "
                                 "(%s), want %s at %zu (%s)",
                                 s, pos, len, t, (int)n, d, rc, at, why, want == 0 ? "ok" : "error",
                                 wat, wwhy);
                    if (skip) {
                        free(d);
                        continue;
                    }
                    parsed++;
                    rejected += rc != 0;
                    free(d);
                }
            }
        }
    }
    print_message("%ld documents, %ld rejected\n", parsed, rejected);
    tvk_json_free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_head),
        cmocka_unit_test(test_string_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
