/* Quote sessions: quote_create_session / set_fields / add_symbols / remove_symbols, the qsd
 * snapshot + quote_completed answer, live qsd deltas, and the --firehose mode. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Byte cap of one firehose message whatever --firehose-batch says: a safety bound that the
 * largest batch (100,000 packets of ~150 bytes) stays under, and that keeps a message plus
 * FH_QUEUE below the 32 MiB message limit of clients and of the send queue. */
#define FH_BATCH ((size_t)24 * 1024 * 1024)
/* Refill only while less than this waits in the net layer (its write-at-once mark, 16 KiB):
 * past it every send tries a write(), and once the socket is full each try is a failed
 * syscall per message (a 4 MiB queue cost ~1,400 of them per wake-up with 20-packet
 * messages). The kernel's socket buffer is the real queue. */
#define FH_QUEUE ((size_t)16 * 1024)

static sim_qsess *find(sim_conn *c, const char *id)
{
    for (int i = 0; i < c->nquotes; i++)
        if (!strcmp(c->quotes[i]->id, id)) return c->quotes[i];
    return NULL;
}

static void free_fields(sim_qsess *q)
{
    for (size_t i = 0; i < q->nfields; i++)
        free(q->fields[i]);
    free(q->fields);
    q->fields = NULL;
    q->nfields = 0;
}

static void free_sess(sim_qsess *q)
{
    free_fields(q);
    for (size_t i = 0; i < q->nsyms; i++) {
        free(q->syms[i].key);
        free(q->syms[i].n);
    }
    free(q->syms);
    free(q);
}

void sim_quote_free_all(sim_conn *c)
{
    for (int i = 0; i < c->nquotes; i++)
        free_sess(c->quotes[i]);
    c->nquotes = 0;
    sim_fh_free(&c->fh.src);
}

static const char *const *fields_of(const sim_qsess *q, size_t *n)
{
    if (q->fields) {
        *n = q->nfields;
        return (const char *const *)q->fields;
    }
    *n = tvk_quote_fields_count();
    return tvk_quote_fields();
}

static void set_fields(sim_conn *c, const tvk_msg *m, sim_qsess *q)
{
    int np = sim_param_count(m);
    free_fields(q);
    if (np - 1 > SIM_MAX_FIELDS) np = SIM_MAX_FIELDS + 1;
    q->fields = calloc((size_t)(np > 1 ? np - 1 : 1), sizeof *q->fields);
    if (!q->fields) {
        sim_conn_fail(c, "out of memory for quote fields");
        return;
    }
    for (int i = 1; i < np; i++) {
        char f[128];
        if (sim_param_str(m, i, f, sizeof f)) continue;
        q->fields[q->nfields] = strdup(f);
        if (!q->fields[q->nfields]) {
            sim_conn_fail(c, "out of memory for quote fields");
            return;
        }
        q->nfields++;
    }
}

static void firehose_start(sim_conn *c, sim_qsess *q);

/* String param at token t into buf: 0, or -1 when not a string or too long. */
static int tok_str(const tvk_msg *m, int t, char *buf, size_t cap)
{
    size_t len;
    if (tvk_json_type(m->json, t) != TVK_J_STRING || tvk_json_str(m->json, t, buf, cap, &len) ||
        memchr(buf, 0, len))
        return -1;
    return 0;
}

static int qsyms_total(const sim_conn *c)
{
    size_t n = 0;
    for (int i = 0; i < c->nquotes; i++)
        n += c->quotes[i]->nsyms;
    return (int)n;
}

static void add_symbols(sim_conn *c, const tvk_msg *m, sim_qsess *q)
{
    int np = sim_param_count(m);
    int64_t now = sim_market_now(c->srv);
    size_t nf;
    const char *const *fields = fields_of(q, &nf);
    char key[SIM_KEY_MAX], n[SIM_KEY_MAX];
    /* Walk the params token by token: a list of thousands stays linear. */
    int t = np > 1 ? tvk_json_index(m->json, m->params, 1) : -1;
    for (int i = 1; i < np; i++, t = tvk_json_skip(m->json, t)) {
        if (tok_str(m, t, key, sizeof key)) {
            if (tvk_json_type(m->json, t) == TVK_J_STRING)
                EMIT(c, sim_enc_critical_error(&c->enc, q->id, "invalid_parameters",
                                               "quote_add_symbols: symbol key too long"));
            continue; /* the {"flags":[...]} object some clients append */
        }
        sim_qsym *s = NULL;
        for (size_t k = 0; k < q->nsyms && !s; k++)
            if (!strcmp(q->syms[k].key, key)) s = &q->syms[k];
        if (!s) {
            if (qsyms_total(c) >= SIM_MAX_QSYMS) {
                EMIT(c, sim_enc_critical_error(&c->enc, q->id, "invalid_parameters",
                                               "quote_add_symbols: too many symbols"));
                return;
            }
            if (q->nsyms == q->cap) {
                size_t cap = q->cap ? q->cap * 2 : 16;
                sim_qsym *ns = realloc(q->syms, cap * sizeof *ns);
                if (!ns) {
                    sim_conn_fail(c, "out of memory for quote symbols");
                    return;
                }
                q->syms = ns;
                q->cap = cap;
            }
            int ok = 0;
            if (sim_resolve_key(c->srv, key, &q->syms[q->nsyms].sym, &ok, n, sizeof n))
                snprintf(n, sizeof n, "%s", key);
            s = &q->syms[q->nsyms];
            s->key = strdup(key);
            s->n = strdup(n);
            if (!s->key || !s->n) {
                free(s->key);
                free(s->n);
                sim_conn_fail(c, "out of memory for quote symbols");
                return;
            }
            s->ok = ok;
            q->nsyms++;
        }
        if (!s->ok) {
            EMIT(c, sim_enc_qsd_error(&c->enc, q->id, s->n, "no_such_symbol"));
        } else {
            sim_quote_at(&s->sym, now, &s->last);
            EMIT(c, sim_enc_qsd(&c->enc, q->id, s->n, &s->sym, &s->last, NULL, fields, nf, NULL));
        }
        EMIT(c, sim_enc_quote_completed(&c->enc, q->id, s->n));
    }
    if (c->srv->o.firehose > 0 && !c->fh.active && !c->fh.done) {
        size_t ok = 0;
        for (size_t k = 0; k < q->nsyms; k++)
            ok += q->syms[k].ok;
        if ((int64_t)ok >= c->srv->o.firehose_symbols) firehose_start(c, q);
    }
}

static void remove_symbols(const tvk_msg *m, sim_qsess *q)
{
    int np = sim_param_count(m);
    char key[SIM_KEY_MAX];
    int t = np > 1 ? tvk_json_index(m->json, m->params, 1) : -1;
    for (int i = 1; i < np; i++, t = tvk_json_skip(m->json, t)) {
        if (tok_str(m, t, key, sizeof key)) continue;
        for (size_t k = 0; k < q->nsyms; k++)
            if (!strcmp(q->syms[k].key, key) || !strcmp(q->syms[k].n, key)) {
                free(q->syms[k].key);
                free(q->syms[k].n);
                q->syms[k] = q->syms[--q->nsyms];
                break;
            }
    }
}

int sim_quote_handle(sim_conn *c, const tvk_msg *m, const char *method)
{
    static const char *const known[] = {
        "quote_create_session", "quote_delete_session", "quote_set_fields",    "quote_add_symbols",
        "quote_remove_symbols", "quote_fast_symbols",   "quote_hibernate_all", NULL};
    int k = 0;
    while (known[k] && strcmp(known[k], method))
        k++;
    if (!known[k]) return 0;
    char qs[SIM_ID_MAX];
    if (sim_param_str(m, 0, qs, sizeof qs)) {
        sim_unknown_session(c, m, method, "");
        return 1;
    }
    sim_qsess *q = find(c, qs);
    if (k == 0) {
        if (q) return 1;
        if (c->ncharts + c->nquotes >= SIM_MAX_SESSIONS) {
            EMIT(c, sim_enc_critical_error(&c->enc, qs, "too many sessions",
                                           "method: quote_create_session"));
            return 1;
        }
        q = calloc(1, sizeof *q);
        if (!q) {
            sim_conn_fail(c, "out of memory for a quote session");
            return 1;
        }
        snprintf(q->id, sizeof q->id, "%s", qs);
        c->quotes[c->nquotes++] = q;
        return 1;
    }
    if (!q) {
        sim_unknown_session(c, m, method, qs);
        return 1;
    }
    switch (k) {
    case 1:
        for (int i = 0; i < c->nquotes; i++)
            if (c->quotes[i] == q) {
                c->quotes[i] = c->quotes[--c->nquotes];
                break;
            }
        free_sess(q);
        break;
    case 2:
        set_fields(c, m, q);
        break;
    case 3:
        add_symbols(c, m, q);
        break;
    case 4:
        remove_symbols(m, q);
        break;
    default:
        break; /* fast_symbols / hibernate_all change nothing here */
    }
    return 1;
}

void sim_quote_live(sim_conn *c, int64_t now)
{
    if (c->fh.active) return;
    for (int i = 0; i < c->nquotes; i++) {
        sim_qsess *q = c->quotes[i];
        size_t nf;
        const char *const *fields = fields_of(q, &nf);
        for (size_t k = 0; k < q->nsyms; k++) {
            sim_qsym *s = &q->syms[k];
            if (!s->ok || !sim_conn_can_emit(c)) continue;
            sim_quote nq;
            int written = 0;
            sim_quote_at(&s->sym, now, &nq);
            int rc =
                sim_enc_qsd(&c->enc, q->id, s->n, &s->sym, &nq, &s->last, fields, nf, &written);
            if (rc < 0 || written > 0) {
                sim_conn_emitted(c, rc);
                s->last = nq;
            }
        }
    }
}

/* ---------------------------------------------------------------- firehose */

static void firehose_start(sim_conn *c, sim_qsess *q)
{
    sim_firehose *f = &c->fh;
    size_t want = (size_t)c->srv->o.firehose_symbols, n = 0;
    const char **keys = malloc(want * sizeof *keys);
    sim_symbol *syms = malloc(want * sizeof *syms);
    int rc = keys && syms ? 0 : TVK_ENOMEM;
    for (size_t i = 0; i < q->nsyms && n < want && !rc; i++)
        if (q->syms[i].ok) {
            keys[n] = q->syms[i].n;
            syms[n++] = q->syms[i].sym;
        }
    if (!rc)
        rc =
            sim_fh_build(&f->src, q->id, keys, syms, n, sim_market_now(c->srv), c->srv->o.firehose);
    free(keys);
    free(syms);
    if (rc) {
        sim_conn_fail(c, "out of memory for the firehose");
        return;
    }
    snprintf(f->qs, sizeof f->qs, "%s", q->id);
    f->active = 1;
    sim_conn_flush(c); /* the snapshots go first */
}

void sim_firehose_pump(sim_conn *c)
{
    sim_firehose *f = &c->fh;
    if (!f->active || !c->ws) return;
    while (tvk_ws_pending(c->ws) < FH_QUEUE) {
        if (c->out.len == 0) {
            int64_t n = sim_fh_fill_n(&f->src, &c->out, FH_BATCH, c->srv->o.firehose_batch);
            if (n == 0) {
                if (sim_fh_marker(&c->out, f->qs, c->srv->o.firehose)) n = TVK_ENOMEM;
                f->active = 0;
                f->done = 1;
            }
            if (n < 0) {
                sim_conn_fail(c, "out of memory for a firehose batch");
                return;
            }
        }
        int rc = tvk_ws_send_text(c->ws, c->out.data, c->out.len);
        if (rc == TVK_EBACKPRESSURE) return; /* keep the batch for the next writable event */
        if (rc < 0) {
            sim_conn_fail(c, "firehose send failed");
            return;
        }
        c->data_pkts++;
        tvk_buf_reset(&c->out);
        sim_conn_splices_clear(c);
        if (f->done) return;
    }
}
