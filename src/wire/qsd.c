/* The plain qsd packet read without tokens: the quote stream's hot path.
 *
 * Nearly every packet of a quote stream is a change of a few fields in one fixed shape. The
 * generic path tokenizes it (~100 instructions a token, 23 tokens), classifies it, then walks
 * the tokens again; here the shape is matched byte by byte and the members are read in the same
 * pass, with the tokenizer's own string and number scanners (scan.h), so what is accepted and
 * the values read are the same. Anything else, valid or not, is left to the generic path. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "scan.h"

/* The fixed parts of the shape (n is a constant: 3 to 16 bytes), inline by two overlapping
 * loads of 2, 4 or 8 bytes each side; memcmp was a libc call. */
static inline __attribute__((always_inline)) int lit(scan *sc, const char *s, size_t n)
{
    if ((size_t)(sc->end - sc->p) < n) return 0;
    if (n >= 8 && n <= 16) {
        uint64_t a, b, c, d;
        memcpy(&a, sc->p, 8);
        memcpy(&b, s, 8);
        memcpy(&c, sc->p + n - 8, 8);
        memcpy(&d, s + n - 8, 8);
        if (a != b || c != d) return 0;
    } else if (n >= 4 && n < 8) {
        uint32_t a, b, c, d;
        memcpy(&a, sc->p, 4);
        memcpy(&b, s, 4);
        memcpy(&c, sc->p + n - 4, 4);
        memcpy(&d, s + n - 4, 4);
        if (a != b || c != d) return 0;
    } else if (n >= 2 && n < 4) {
        uint16_t a, b, c, d;
        memcpy(&a, sc->p, 2);
        memcpy(&b, s, 2);
        memcpy(&c, sc->p + n - 2, 2);
        memcpy(&d, s + n - 2, 2);
        if (a != b || c != d) return 0;
    } else if (memcmp(sc->p, s, n)) {
        return 0;
    }
    sc->p += n;
    return 1;
}

/* A string at sc->p into *out (raw, without the quotes). */
static inline __attribute__((always_inline)) int str_at(scan *sc, tvk_str *out)
{
    int a, b;
    if (sc->p >= sc->end || *sc->p != '"' || scan_string(sc, &a, &b)) return 0;
    out->p = (const char *)sc->s + a;
    out->len = (size_t)(b - a);
    return 1;
}

int tvk_qsd_plain_parse(const char *payload, size_t len, tvk_qsd_plain *q)
{
    static const char head[] = "{\"m\":\"qsd\",\"p\":[";
    static const char mid[] = ",{\"n\":";
    static const char ok[] = ",\"s\":\"ok\",\"v\":{";
    static const char tail[] = "}]}";
    if (!payload || !q || len > INT32_MAX - 2) return 0; /* the scanners count in int */
    const unsigned char *s = (const unsigned char *)payload;
    scan sc = {s, s, s + len, ""};
    if (!lit(&sc, head, sizeof head - 1) || !str_at(&sc, &q->session) || !q->session.len ||
        !lit(&sc, mid, sizeof mid - 1) || !str_at(&sc, &q->symbol) || !lit(&sc, ok, sizeof ok - 1))
        return 0;
    int n = 0;
    if (sc.p < sc.end && *sc.p == '}') {
        sc.p++;
    } else {
        for (;;) {
            if (n == TVK_QSD_PLAIN_MAX) return 0;
            tvk_jmember *m = &q->fields[n];
            if (!str_at(&sc, &m->key) || sc.p >= sc.end || *sc.p != ':') return 0;
            if (++sc.p >= sc.end) return 0;
            const unsigned char *v = sc.p;
            m->tok = -1;
            if (*v == '"') {
                if (!str_at(&sc, &m->raw)) return 0;
                m->type = TVK_J_STRING;
                m->num = NAN;
            } else if (*v == '-' || (unsigned)(*v - '0') <= 9) {
                jtok t;
                if (scan_number(&sc, &t)) return 0;
                m->raw.p = (const char *)v;
                m->raw.len = (size_t)(sc.p - v);
                m->type = TVK_J_NUMBER;
                if (jt_is_later(&t)) {
                    if (tvk_parse_double(m->raw.p, m->raw.len, &m->num)) m->num = NAN;
                } else {
                    m->num = jt_num(&t);
                }
            } else {
                /* true, false, null; objects and arrays are left to the generic path */
                size_t l = *v == 'f' ? 5 : 4;
                if ((*v == 't' && lit(&sc, "true", 4)) || (*v == 'f' && lit(&sc, "false", 5)))
                    m->type = *v == 't' ? TVK_J_TRUE : TVK_J_FALSE;
                else if (*v == 'n' && lit(&sc, "null", 4))
                    m->type = TVK_J_NULL;
                else
                    return 0;
                m->raw.p = (const char *)v;
                m->raw.len = l;
                m->num = NAN;
            }
            n++;
            if (sc.p >= sc.end) return 0;
            if (*sc.p == ',') {
                sc.p++;
                continue;
            }
            if (*sc.p != '}') return 0;
            sc.p++;
            break;
        }
    }
    if (!lit(&sc, tail, sizeof tail - 1) || sc.p != sc.end) return 0;
    q->nfields = n;
    return 1;
}
