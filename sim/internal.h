/* Shared state of the sim server, its connections and their sessions (server.c, chart.c,
 * quote.c). */
#ifndef TVK_SIM_INTERNAL_H
#define TVK_SIM_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "answer_cache.h"
#include "firehose.h"
#include "market.h"
#include "opts.h"
#include "proto.h"
#include "server.h"
#include "tvkit/net.h"
#include "tvkit/wire.h"

#define SIM_ID_MAX 128       /* session / series / symref ids */
#define SIM_KEY_MAX 1024     /* quote symbol keys ("=" + JSON) */
#define SIM_MAX_SESSIONS 256 /* chart + quote sessions per connection */
#define SIM_MAX_REFS 64      /* resolved symbols per chart session */
#define SIM_MAX_QSYMS 20000  /* symbols per quote session */
#define SIM_MAX_FIELDS 256
#define SIM_DELAY_LIMIT ((size_t)64 << 20) /* bytes held back by --latency per connection */
#define SIM_BATCH_LIMIT ((size_t)1 << 20)  /* split outgoing batches at packet ends past this */
#define SIM_LIVE_CATCHUP 50 /* most bars in one live timescale_update after a pause */

typedef struct sim_symref {
    char id[SIM_ID_MAX];
    int ok;
    sim_symbol sym;
} sim_symref;

typedef struct sim_series {
    char id[SIM_ID_MAX], turn[SIM_ID_MAX], symref[SIM_ID_MAX];
    sim_symbol sym;
    sim_res res;
    int64_t count;      /* bars asked for by create_series */
    int64_t first_slot; /* first bar of the symbol's history */
    int64_t base_slot;  /* the slot at index 0 */
    int64_t earliest;   /* oldest slot sent */
    int64_t last;       /* newest slot sent (the forming bar) */
    sim_bar last_du;
    int have_du;
} sim_series;

typedef struct sim_chart {
    char id[SIM_ID_MAX];
    sim_symref refs[SIM_MAX_REFS];
    int nrefs;
    int has_series;
    sim_series series;
} sim_chart;

typedef struct sim_qsym {
    char *key; /* as the client sent it */
    char *n;   /* as echoed in "n" */
    int ok;
    sim_symbol sym;
    sim_quote last;
} sim_qsym;

typedef struct sim_qsess {
    char id[SIM_ID_MAX];
    char **fields; /* NULL = tvk_quote_fields() */
    size_t nfields;
    sim_qsym *syms;
    size_t nsyms, cap;
} sim_qsess;

#define SIM_MAX_SPLICES 8 /* pre-compressed texts in one outgoing batch; more go as text */

/* A stretch of c->out whose text a pre-compressed piece stands for (answer cache). */
typedef struct sim_splice {
    size_t off;
    sim_zpiece *z; /* a reference held until the message is sent or dropped */
} sim_splice;

typedef struct sim_delayed {
    struct sim_delayed *next;
    int64_t due_ms;
    size_t len;
    sim_splice *sp; /* NULL when nsp is 0 */
    int nsp;
    char data[];
} sim_delayed;

typedef struct sim_firehose {
    int active, done;
    char qs[SIM_ID_MAX];
    sim_fh src;
} sim_firehose;

typedef struct sim_conn {
    struct sim_server *srv;
    struct sim_conn *next;
    tvk_ws *ws;
    int id;
    int opened, first;
    int64_t opened_ms;
    tvk_reader *rd;
    tvk_buf out;
    sim_splice splices[SIM_MAX_SPLICES]; /* in c->out, in order */
    int nsplices;
    sim_enc enc;
    int64_t data_pkts, in_pkts;
    /* heartbeats */
    int64_t hb_k, hb_next_ms, hb_wait_k, hb_wait_since;
    /* faults */
    int stalled, silent, closing;
    /* sessions */
    sim_chart *charts[SIM_MAX_SESSIONS];
    int ncharts;
    sim_qsess *quotes[SIM_MAX_SESSIONS];
    int nquotes;
    /* modes */
    sim_delayed *delay_head, *delay_tail;
    size_t delay_bytes;
    int replay_started;
    sim_firehose fh;
    int dead;
} sim_conn;

struct sim_server {
    sim_opts o;
    int lfd, port;
    char url[128];
    void *ssl_ctx;
    sim_conn *conns;
    int nconns, next_id, opened_total;
    int64_t upgrades, rejected_429;
    int64_t mono0_ms, start_s;
    int64_t next_tick_ms;
    FILE *log;
    char **replay_lines;
    size_t *replay_lens;
    size_t nreplay;
    sim_bar *scratch;
    size_t scratch_cap;
    sim_answer_cache *answers; /* NULL = --answer-cache-mb 0 */
    tvk_reader *spec_rd;       /* parses "=" JSON symbol specs */
    tvk_buf spec_buf;
    uint64_t spliced; /* pre-compressed pieces handed to the net layer */
};

/* Market clock. */
int64_t sim_market_ms(const sim_server *s, int64_t mono_ms);
int64_t sim_market_now(const sim_server *s); /* unix seconds */

/* Packet emission with fault accounting: returns 1 when a data packet may be emitted now. */
int sim_conn_can_emit(sim_conn *c);
/* Call after each packet encoded into c->out (rc from the encoder). */
void sim_conn_emitted(sim_conn *c, int rc);
/* Encodes one data packet into c->out unless faults or the firehose mute the connection. */
#define EMIT(c, call)                                                                              \
    do {                                                                                           \
        if (sim_conn_can_emit(c)) sim_conn_emitted((c), (call));                                   \
    } while (0)
/* Sends c->out as one WebSocket message (through the latency queue). */
void sim_conn_flush(sim_conn *c);
/* Marks c->out[off, off + z->plain_len) as the text of z (a reference is taken): that stretch
 * is sent pre-compressed when the connection's deflate allows. Only for the packet just
 * encoded, and in order. */
void sim_conn_splice(sim_conn *c, size_t off, sim_zpiece *z);
/* Drops the marks after c->out was sent or emptied another way. */
void sim_conn_splices_clear(sim_conn *c);
void sim_conn_fail(sim_conn *c, const char *why);
sim_bar *sim_scratch(sim_server *s, size_t n);

/* Helpers over the message params. */
int sim_param_count(const tvk_msg *m);
/* String param i into buf: 0, or -1 when absent / not a string / too long. */
int sim_param_str(const tvk_msg *m, int i, char *buf, size_t cap);
/* Erlang-style echo of the params for protocol_error / critical_error details. */
int sim_params_echo(const tvk_msg *m, int from, tvk_buf *b, int erlang);
/* Resolves a symbol key ("EX:SYM" or "=" JSON); fills the compact echo in n when non-NULL.
 * 0 when the text parsed (ok tells whether the symbol exists), -1 when malformed. */
int sim_resolve_key(sim_server *s, const char *key, sim_symbol *sym, int *ok, char *n, size_t ncap);

void sim_unknown_session(sim_conn *c, const tvk_msg *m, const char *method, const char *sess);

/* chart.c */
sim_chart *sim_chart_find(sim_conn *c, const char *id);
int sim_chart_handle(sim_conn *c, const tvk_msg *m, const char *method); /* 1 = handled */
void sim_chart_live(sim_conn *c, int64_t now);
void sim_chart_free_all(sim_conn *c);

/* quote.c */
int sim_quote_handle(sim_conn *c, const tvk_msg *m, const char *method); /* 1 = handled */
void sim_quote_live(sim_conn *c, int64_t now);
void sim_quote_free_all(sim_conn *c);
/* Pushes firehose batches while the socket takes them. */
void sim_firehose_pump(sim_conn *c);

#endif
