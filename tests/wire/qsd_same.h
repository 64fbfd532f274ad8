/* Shared by the wire tests and the json fuzz target: does a packet read by the plain qsd reader
 * (tvk_qsd_plain_parse) read the same through the generic path (tokens, tvk_msg_qsd,
 * tvk_json_next_member)? */
#ifndef TVK_TEST_QSD_SAME_H
#define TVK_TEST_QSD_SAME_H

#include <string.h>

#include "tvkit/wire.h"

static int qsd_same_str(tvk_str a, tvk_str b)
{
    return a.len == b.len && (a.len == 0 || !memcmp(a.p, b.p, a.len));
}

static int qsd_same_num(double a, double b)
{
    return (a != a && b != b) || !memcmp(&a, &b, sizeof a);
}

/* 0 when payload p (n bytes), which the plain reader read into *q, is valid JSON and the
 * generic path gives the same session, symbol and members in order; else a number naming the
 * first difference. r: a reader to parse with. */
static int qsd_same(tvk_reader *r, const char *p, size_t n, const tvk_qsd_plain *q)
{
    tvk_msg m;
    tvk_qsd d;
    if (tvk_reader_parse_payload(r, p, n, &m) != 0) return 1;
    if (m.type != TVK_MSG_QSD || tvk_msg_qsd(&m, &d) != 0) return 2;
    if (!d.ok || !qsd_same_str(d.session, q->session) || !qsd_same_str(d.symbol, q->symbol))
        return 3;
    if (d.values < 0 || d.nfields != q->nfields) return 4;
    int cursor = 0;
    tvk_jmember mb;
    for (int i = 0; i < q->nfields; i++) {
        const tvk_jmember *f = &q->fields[i];
        if (tvk_json_next_member(m.json, d.values, &cursor, &mb) != 1) return 5;
        if (!qsd_same_str(mb.key, f->key) || !qsd_same_str(mb.raw, f->raw)) return 6;
        if (mb.type != f->type || !qsd_same_num(mb.num, f->num) || f->tok != -1) return 7;
    }
    if (tvk_json_next_member(m.json, d.values, &cursor, &mb) != 0) return 8;
    return 0;
}

#endif
