/* The plain qsd packet read without tokens: the quote stream's hot path.
 *
 * Nearly every packet of a quote stream is a change of a few fields in one fixed shape. The
 * generic path tokenizes it (~100 instructions a token, 23 tokens), classifies it, then walks
 * the tokens again; here the shape's fixed parts are compared by word loads and the members read in
 * the same pass, with the tokenizer's own string and number scanners (scan.h), so what is accepted
 * and the values read are the same. Anything else, valid or not, is left to the generic path. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "scan.h"

static inline uint64_t ld8(const void *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static inline uint32_t ld4(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static inline uint16_t ld2(const void *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

/* The fixed parts of the shape (n is a constant: 3 to 16 bytes), compared inline by two
 * overlapping loads of 8, 4 or 2 bytes a side; memcmp was a libc call. */
static inline __attribute__((always_inline)) int lit(scan *sc, const char *s, size_t n)
{
    const unsigned char *p = sc->p;
    if ((size_t)(sc->end - p) < n) return 0;
    int eq = n > 16   ? !memcmp(p, s, n)
             : n >= 8 ? ld8(p) == ld8(s) && ld8(p + n - 8) == ld8(s + n - 8)
             : n >= 4 ? ld4(p) == ld4(s) && ld4(p + n - 4) == ld4(s + n - 4)
             : n >= 2 ? ld2(p) == ld2(s) && ld2(p + n - 2) == ld2(s + n - 2)
                      : !n || p[0] == (unsigned char)s[0];
    if (!eq) return 0;
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
    scan sc = scan_at(s, s, s + len);
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
