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

int tvk_qsd_plain_parse(const char *payload, size_t len, tvk_qsd_plain *q)
{
    static const char head[] = "{\"m\":\"qsd\",\"p\":[";
    static const char mid[] = ",{\"n\":";
    static const char ok[] = ",\"s\":\"ok\",\"v\":{";
    static const char tail[] = "}]}";
    if (!payload || !q || len > INT32_MAX - 2) return 0; /* the scanners count in int */
    const unsigned char *s = (const unsigned char *)payload;
    scan sc = scan_at(s, s, s + len);
    if (!scan_lit(&sc, head, sizeof head - 1) || !scan_str_at(&sc, &q->session) ||
        !q->session.len || !scan_lit(&sc, mid, sizeof mid - 1) || !scan_str_at(&sc, &q->symbol) ||
        !scan_lit(&sc, ok, sizeof ok - 1))
        return 0;
    int n = 0;
    if (sc.p < sc.end && *sc.p == '}') {
        sc.p++;
    } else {
        for (;;) {
            if (n == TVK_QSD_PLAIN_MAX) return 0;
            tvk_jmember *m = &q->fields[n];
            if (!scan_str_at(&sc, &m->key) || sc.p >= sc.end || *sc.p != ':') return 0;
            if (++sc.p >= sc.end) return 0;
            const unsigned char *v = sc.p;
            m->tok = -1;
            if (*v == '"') {
                if (!scan_str_at(&sc, &m->raw)) return 0;
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
                if ((*v == 't' && scan_lit(&sc, "true", 4)) ||
                    (*v == 'f' && scan_lit(&sc, "false", 5)))
                    m->type = *v == 't' ? TVK_J_TRUE : TVK_J_FALSE;
                else if (*v == 'n' && scan_lit(&sc, "null", 4))
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
    if (!scan_lit(&sc, tail, sizeof tail - 1) || sc.p != sc.end) return 0;
    q->nfields = n;
    return 1;
}
