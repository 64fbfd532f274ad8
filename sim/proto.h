/* Encoders for the server side of TradingView's chart protocol: each appends one framed packet
 * ("~m~<len>~m~<json>") to out, shaped exactly like the real server's (see PROTOCOL.md §6 and the
 * captures). tmp is scratch space reused between calls. Return 0 or a negative TVK_E* code. */
#ifndef TVK_SIM_PROTO_H
#define TVK_SIM_PROTO_H

#include <stdint.h>

#include "answer_cache.h"
#include "market.h"
#include "tvkit/wire.h"

typedef struct sim_enc {
    tvk_buf *out;
    tvk_buf tmp;
    tvk_buf bars, times; /* bar texts being encoded (sim_enc_bars_text) */
    int64_t now_ms;      /* market clock, for the "t"/"t_ms" stamps */
    /* where the last timescale_update's joined bar and time texts start in out: an answer's
     * cached texts are spliced there pre-compressed */
    size_t bars_at, times_at;
} sim_enc;

void sim_enc_init(sim_enc *e, tvk_buf *out);
void sim_enc_free(sim_enc *e);

/* Numbers the way the real server prints them: integral values as "123.0", 1e100 as "1e+100". */
int sim_put_num(tvk_buf *b, double v);

int sim_enc_hello(sim_enc *e, const char *session_id);
int sim_enc_symbol_resolved(sim_enc *e, const char *cs, const char *symref, const sim_symbol *s);
int sim_enc_series_loading(sim_enc *e, const char *cs, const char *sid, const char *turn);

/* timescale_update with bars[0..n) at indices first_index.. ; scale_index/zoffset describe the
 * visible range as the server does ({"index":..,"zoffset":..}). bar_close_time 0 = no lbs. */
int sim_enc_timescale_update(sim_enc *e, const char *cs, const char *sid, const char *turn,
                             const sim_bar *bars, int n, int64_t first_index,
                             int64_t bar_close_time, int64_t scale_index, int64_t zoffset);
/* Appends bars[0..n) at indices first_index.. as the "s" items to bars and their times as the
 * "changes" items to times, comma-separated (a leading comma when the buffer is not empty). */
int sim_enc_bars_text(tvk_buf *bars, tvk_buf *times, const sim_bar *b, size_t n,
                      int64_t first_index);
/* The same timescale_update from bar texts: parts[0..nparts) are joined with commas (empty
 * ones skipped), so a cached run of complete bars and a fresh forming bar make one answer. */
int sim_enc_timescale_update_text(sim_enc *e, const char *cs, const char *sid, const char *turn,
                                  const sim_bars_text *parts, int nparts, int64_t bar_close_time,
                                  int64_t scale_index, int64_t zoffset);
int sim_enc_du(sim_enc *e, const char *cs, const char *sid, const char *turn, const sim_bar *bar,
               int64_t index, int64_t bar_close_time);
/* data_completed NULL = key omitted. */
int sim_enc_series_completed(sim_enc *e, const char *cs, const char *sid, const char *turn,
                             const char *update_mode, int rt_update_period,
                             const char *data_completed);
int sim_enc_series_timeframe(sim_enc *e, const char *cs, const char *sid, const char *turn,
                             int64_t first, int64_t last, const char *range, int final);
int sim_enc_symbol_error(sim_enc *e, const char *cs, const char *symref, const char *reason);
int sim_enc_series_error(sim_enc *e, const char *cs, const char *sid, const char *turn,
                         const char *reason);
int sim_enc_critical_error(sim_enc *e, const char *session, const char *reason, const char *detail);
int sim_enc_protocol_error(sim_enc *e, const char *text);

/* Quote data. key is the symbol key exactly as it must appear in "n". */
int sim_enc_qsd_error(sim_enc *e, const char *qs, const char *key, const char *errmsg);
int sim_enc_quote_completed(sim_enc *e, const char *qs, const char *key);
/* A qsd carrying the listed fields (unknown names are skipped). prev == NULL: all of them (a
 * snapshot); otherwise only those whose value differs from prev (a delta). *written counts the
 * fields emitted; a delta with nothing to say emits no packet. */
int sim_enc_qsd(sim_enc *e, const char *qs, const char *key, const sim_symbol *s,
                const sim_quote *q, const sim_quote *prev, const char *const *fields,
                size_t nfields, int *written);
/* 1 when the sim knows how to fill the quote field name. */
int sim_quote_field_known(const char *name);

#endif
