/* The --firehose packet source; see firehose.h. */
#include "firehose.h"

#include <stdlib.h>
#include <string.h>

#include "proto.h"

int sim_fh_build(sim_fh *f, const char *qs, const char *const *keys, const sim_symbol *syms,
                 size_t n, int64_t now, int64_t total)
{
    static const char *const fields[] = {"lp", "ch", "chp", "lp_time", "volume"};
    memset(f, 0, sizeof *f);
    tvk_buf_init(&f->pool);
    if (n == 0) return TVK_EINVAL;
    /* Enough variants that consecutive packets of one symbol differ, within ~64k packets. */
    size_t variants = 65536 / n;
    if (variants < 1) variants = 1;
    if (variants > 64) variants = 64;
    f->offs = malloc((n * variants + 1) * sizeof *f->offs);
    if (!f->offs) return TVK_ENOMEM;
    sim_enc e;
    sim_enc_init(&e, &f->pool);
    int rc = 0;
    for (size_t v = 0; v < variants && !rc; v++)
        for (size_t i = 0; i < n && !rc; i++) {
            sim_quote q;
            sim_quote_at(&syms[i], now + (int64_t)v, &q);
            f->offs[f->npool++] = f->pool.len;
            rc = sim_enc_qsd(&e, qs, keys[i], &syms[i], &q, NULL, fields, 5, NULL);
        }
    sim_enc_free(&e);
    if (rc) {
        sim_fh_free(f);
        return rc;
    }
    f->offs[f->npool] = f->pool.len;
    f->remaining = total;
    return 0;
}

int64_t sim_fh_fill_n(sim_fh *f, tvk_buf *out, size_t max_bytes, int64_t max_packets)
{
    int64_t produced = 0;
    size_t start_len = out->len;
    if (max_packets < 1) max_packets = 1;
    while (f->remaining > 0 && produced < max_packets &&
           (produced == 0 || out->len - start_len < max_bytes)) {
        /* The longest contiguous run of the pool that fits: one memcpy. */
        size_t used = out->len - start_len, room = used < max_bytes ? max_bytes - used : 0;
        int64_t want = max_packets - produced;
        if (want > f->remaining) want = f->remaining;
        size_t end = f->next;
        while (end < f->npool && (int64_t)(end - f->next) < want &&
               f->offs[end + 1] - f->offs[f->next] <= room)
            end++;
        if (end == f->next) {
            if (produced) break;
            end++; /* one packet larger than the byte cap still goes */
        }
        int rc =
            tvk_buf_append(out, f->pool.data + f->offs[f->next], f->offs[end] - f->offs[f->next]);
        if (rc) return rc;
        produced += (int64_t)(end - f->next);
        f->remaining -= (int64_t)(end - f->next);
        f->next = end == f->npool ? 0 : end;
    }
    return produced;
}

int64_t sim_fh_fill(sim_fh *f, tvk_buf *out, size_t limit)
{
    return sim_fh_fill_n(f, out, limit, INT64_MAX);
}

int sim_fh_marker(tvk_buf *out, const char *qs, int64_t total)
{
    tvk_buf tmp;
    tvk_buf_init(&tmp);
    int rc = tvk_buf_puts(&tmp, "{\"m\":\"firehose_completed\",\"p\":[");
    if (!rc) rc = tvk_buf_json_str(&tmp, qs, strlen(qs));
    if (!rc) rc = tvk_buf_printf(&tmp, ",%lld]}", (long long)total);
    if (!rc) rc = tvk_frame(out, tmp.data, tmp.len);
    tvk_buf_free(&tmp);
    return rc;
}

void sim_fh_free(sim_fh *f)
{
    tvk_buf_free(&f->pool);
    free(f->offs);
    f->offs = NULL;
    f->npool = 0;
}
