/* Client message parameters: typed access, the error echoes of the real server, and symbol
 * keys ("EX:SYM" or "=" + JSON) with their compact re-serialization for qsd "n". */
#include <stdio.h>
#include <string.h>

#include "internal.h"

int sim_param_count(const tvk_msg *m)
{
    if (!m->json || m->params < 0) return 0;
    int n = tvk_json_size(m->json, m->params);
    return n < 0 ? 0 : n;
}

int sim_param_str(const tvk_msg *m, int i, char *buf, size_t cap)
{
    if (!m->json || m->params < 0) return -1;
    int t = tvk_json_index(m->json, m->params, i);
    if (t < 0 || tvk_json_type(m->json, t) != TVK_J_STRING) return -1;
    size_t len;
    if (tvk_json_str(m->json, t, buf, cap, &len) || memchr(buf, 0, len)) return -1;
    return 0;
}

int sim_params_echo(const tvk_msg *m, int from, tvk_buf *b, int erlang)
{
    int np = sim_param_count(m), rc = tvk_buf_puts(b, "[");
    for (int i = from; i < np && !rc; i++) {
        int t = tvk_json_index(m->json, m->params, i);
        const char *p;
        size_t len;
        tvk_json_raw(m->json, t, &p, &len);
        if (i > from) rc = tvk_buf_puts(b, erlang ? "," : ", ");
        if (rc) break;
        if (tvk_json_type(m->json, t) == TVK_J_STRING && erlang)
            rc = tvk_buf_printf(b, "<<\"%.*s\">>", (int)len, p);
        else
            rc = tvk_buf_append(b, p, len);
    }
    return rc ? rc : tvk_buf_puts(b, "]");
}

void sim_unknown_session(sim_conn *c, const tvk_msg *m, const char *method, const char *sess)
{
    tvk_buf t;
    tvk_buf_init(&t);
    int rc = tvk_buf_printf(&t, "{unknown_session_id,<<\"%s\">>,<<\"%s\">>,", method, sess);
    if (!rc) rc = sim_params_echo(m, 1, &t, 1);
    if (!rc) rc = tvk_buf_puts(&t, "}");
    if (sim_conn_can_emit(c))
        sim_conn_emitted(c, rc ? rc : sim_enc_protocol_error(&c->enc, t.data));
    tvk_buf_free(&t);
}

/* Compact re-serialization of a JSON value, key order kept (the real server echoes "="JSON
 * symbol keys this way in qsd "n"). */
static int compact(const tvk_json *j, int tok, tvk_buf *b, int depth)
{
    const char *p;
    size_t len;
    if (depth > 16) return TVK_ESHAPE;
    tvk_jtype ty = tvk_json_type(j, tok);
    tvk_json_raw(j, tok, &p, &len);
    if (ty == TVK_J_STRING) {
        int rc = tvk_buf_puts(b, "\"");
        if (!rc) rc = tvk_buf_append(b, p, len);
        return rc ? rc : tvk_buf_puts(b, "\"");
    }
    if (ty != TVK_J_OBJECT && ty != TVK_J_ARRAY) return tvk_buf_append(b, p, len);
    int n = tvk_json_size(j, tok), t = tok + 1,
        rc = tvk_buf_puts(b, ty == TVK_J_OBJECT ? "{" : "[");
    for (int i = 0; i < n && !rc; i++) {
        if (i) rc = tvk_buf_puts(b, ",");
        if (!rc && ty == TVK_J_OBJECT) {
            rc = compact(j, t, b, depth + 1);
            if (!rc) rc = tvk_buf_puts(b, ":");
            if (!rc) rc = compact(j, t + 1, b, depth + 1);
            t = tvk_json_skip(j, t);
        } else if (!rc) {
            rc = compact(j, t, b, depth + 1);
            t = tvk_json_skip(j, t);
        }
    }
    return rc ? rc : tvk_buf_puts(b, ty == TVK_J_OBJECT ? "}" : "]");
}

int sim_resolve_key(sim_server *s, const char *key, sim_symbol *sym, int *ok, char *n, size_t ncap)
{
    *ok = 0;
    if (key[0] != '=') {
        if (n) snprintf(n, ncap, "%s", key);
        *ok = sim_symbol_lookup(s->o.seed, key, sym) == 0;
        return 0;
    }
    tvk_msg m;
    const char *spec = key + 1;
    if (tvk_reader_parse_payload(s->spec_rd, spec, strlen(spec), &m) < 0 || !m.json) return -1;
    const tvk_json *j = m.json;
    if (n) {
        tvk_buf_reset(&s->spec_buf);
        if (tvk_buf_puts(&s->spec_buf, "=") || compact(j, 0, &s->spec_buf, 0) ||
            s->spec_buf.len >= ncap)
            return -1;
        memcpy(n, s->spec_buf.data, s->spec_buf.len + 1);
    }
    int t = tvk_json_member(j, 0, "symbol");
    /* TradingView-API wraps chart types as {"symbol":{"symbol":"EX:SYM",...},"type":...}. */
    if (t >= 0 && tvk_json_type(j, t) == TVK_J_OBJECT) t = tvk_json_member(j, t, "symbol");
    char name[SIM_NAME_MAX];
    size_t len;
    if (t < 0 || tvk_json_type(j, t) != TVK_J_STRING || tvk_json_str(j, t, name, sizeof name, &len))
        return 0;
    *ok = sim_symbol_lookup(s->o.seed, name, sym) == 0;
    return 0;
}
