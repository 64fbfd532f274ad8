/* The quote book (a quote symbol's values live only in its body text, quotes.c) under
 * allocation failure at every allocation of a change (each field's json is inside the body,
 * the line equals the fields, every value is its old or its new one, and the next change puts
 * every field right), edge values (empty strings, values of megabytes growing and shrinking,
 * raw UTF-8 re-escaped, escaped and non-ASCII names) on the plain and the tokenized paths, the
 * 512-field bound, and queued events of removed or closed sets. No network: packets are fed as
 * strings. Allocation failure is injected by wrapping malloc, calloc and realloc at link time
 * (client_quote_faults.cmake): only the library's own calls go through the wrappers. */
#define _GNU_SOURCE /* vasprintf */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/client.h"
#include "feed.h"

/* ---------------------------------------------------------------- allocation failure */

/* Test-only: the allocation that fails (1 = the first after arming), 0 = none; with
 * fail_rest, every one after it too. */
static long fail_at, alloc_calls;
static int fail_rest;

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);

static int should_fail(void)
{
    return fail_at && (++alloc_calls == fail_at || (fail_rest && alloc_calls > fail_at));
}
void *__wrap_malloc(size_t n)
{
    return should_fail() ? NULL : __real_malloc(n);
}
void *__wrap_calloc(size_t k, size_t n)
{
    return should_fail() ? NULL : __real_calloc(k, n);
}
void *__wrap_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : __real_realloc(p, n);
}

static void arm(long n)
{
    alloc_calls = 0;
    fail_at = n;
}
static void disarm(void)
{
    fail_at = 0;
    fail_rest = 0;
}

/* ---------------------------------------------------------------- helpers */

static uint64_t rnd(uint64_t *x)
{
    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    return *x;
}

static int hook(void *user, const char *data, size_t len)
{
    (void)user, (void)data, (void)len;
    return 0;
}

static void quiet(void *user, const char *line)
{
    (void)line;
    if (user) ++*(int *)user;
}

typedef struct fixture {
    tvk_conn *c;
    tvk_quotes *q;
    const char *qs;
    int logs;
} fixture;

static void fx_open(fixture *fx)
{
    memset(fx, 0, sizeof *fx);
    tvk_conn_opts o;
    tvk_conn_opts_init(&o);
    o.token = "unauthorized_user_token";
    o.log = quiet;
    o.log_user = &fx->logs;
    fx->c = tvk_conn_new_opts(&o);
    assert_non_null(fx->c);
    tvk__conn_set_send_hook(fx->c, hook, NULL);
    assert_int_equal(tvk_quotes_open(fx->c, NULL, NULL, 0, NULL, &fx->q), 0);
    const char *sym = "SIM:R8";
    assert_int_equal(tvk_quotes_add(fx->q, &sym, 1), 0);
    fx->qs = tvk_quotes_session(fx->q);
}

static void fx_close(fixture *fx)
{
    tvk_quotes_close(fx->q);
    tvk_conn_free(fx->c);
}

static void drain(tvk_conn *c)
{
    tvk_event ev;
    while (tvk_conn_next_event(c, &ev, 0) > 0)
        ;
}

/* One qsd of symbol SIM:R8 with the "v" members vals (raw JSON text, without braces), through
 * the plain reader or, tokens = 1, the tokenized path. */
static void qsd_armed(fixture *fx, const char *vals, int tokens, long fail)
{
    char *p = NULL;
    int n =
        asprintf(&p, "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"SIM:R8\",\"s\":\"ok\",\"v\":{%s}}]}",
                 fx->qs, vals);
    assert_true(n > 0);
    tvk_buf b;
    tvk_buf_init(&b);
    assert_int_equal(tvk_frame(&b, p, (size_t)n), 0);
    if (fail) arm(fail);
    if (tokens)
        tvk__conn_feed_tokens(fx->c, b.data, b.len);
    else
        tvk__conn_feed(fx->c, b.data, b.len);
    disarm();
    tvk_buf_free(&b);
    free(p);
}

static void qsd(fixture *fx, const char *vals, int tokens)
{
    qsd_armed(fx, vals, tokens, 0);
}

static const tvk_quote *snap(fixture *fx)
{
    const tvk_quote *qt = tvk_quotes_get(fx->q, "SIM:R8");
    assert_non_null(qt);
    return qt;
}

/* A field of the model: the name as sent (raw JSON text), as the line shows it, and its
 * value's JSON text as stored (up to 3 accepted forms: old, new, new kept as sent). */
typedef struct mfield {
    const char *raw, *shown;
    const char *val[3];
} mfield;

/* The snapshot's structure: the line is head, status and ',"shown":json' of every field in
 * order, each field's json lies inside the entry's body, and the values follow one another
 * there (each after its own prefix). */
static void check_structure(const tvk_quote *qt, const mfield *m, size_t nm)
{
    const tvk_quote_entry *e = (const tvk_quote_entry *)qt;
    tvk_buf want, line;
    tvk_buf_init(&want);
    tvk_buf_init(&line);
    assert_int_equal(tvk_buf_printf(&want, "{\"symbol\":\"SIM:R8\",\"status\":\"%s\"",
                                    qt->status == TVK_QUOTE_OK ? "ok" : "pending"),
                     0);
    size_t off = 0;
    for (size_t i = 0; i < qt->nfields; i++) {
        const tvk_quote_field *f = &qt->fields[i];
        const char *shown = NULL;
        for (size_t k = 0; k < nm; k++)
            if (!strcmp(m[k].raw, f->name)) shown = m[k].shown;
        if (!shown && f->name[0] == 'z') shown = f->name; /* the fillers */
        if (!shown) fail_msg("field %zu: unexpected name %s", i, f->name);
        assert_true(f->json >= e->body && f->json + f->json_len <= e->body + e->body_len);
        off += e->f[i].prefix_len;
        if ((size_t)(f->json - e->body) != off)
            fail_msg("field %zu (%s): json at %td of the body, want %zu", i, f->name,
                     f->json - e->body, off);
        off += f->json_len;
        assert_int_equal(tvk_buf_printf(&want, ",\"%s\":", shown), 0);
        assert_int_equal(tvk_buf_append(&want, f->json, f->json_len), 0);
    }
    assert_int_equal(off, e->body_len);
    assert_int_equal(tvk_buf_puts(&want, "}"), 0);
    assert_int_equal(tvk_quote_to_json(qt, &line), 0);
    if (line.len != want.len || memcmp(line.data, want.data, want.len))
        fail_msg("line\n got  %.300s\n want %.300s", line.data, want.data);
    tvk_buf_free(&want);
    tvk_buf_free(&line);
}

/* Each model field is in the snapshot with one of its accepted values (val[0] NULL: may be
 * absent), and nothing else is. */
static void check_values(const tvk_quote *qt, const mfield *m, size_t nm, const char *where)
{
    size_t present = 0;
    for (size_t k = 0; k < nm; k++) {
        const tvk_quote_field *f = tvk_quote_field_get(qt, m[k].raw);
        if (!f) {
            if (m[k].val[0]) fail_msg("%s: %s missing", where, m[k].raw);
            continue;
        }
        present++;
        int ok = 0;
        for (int v = 0; v < 3; v++)
            ok |= m[k].val[v] && f->json_len == strlen(m[k].val[v]) &&
                  !memcmp(f->json, m[k].val[v], f->json_len);
        if (!ok)
            fail_msg("%s: %s = %.*s, want %s or %s or %s", where, m[k].raw,
                     (int)(f->json_len > 200 ? 200 : f->json_len), f->json,
                     m[k].val[0] ? m[k].val[0] : "(absent)", m[k].val[1] ? m[k].val[1] : "-",
                     m[k].val[2] ? m[k].val[2] : "-");
    }
    size_t fillers = 0;
    for (size_t i = 0; i < qt->nfields; i++)
        if (qt->fields[i].name[0] == 'z') {
            char want[8];
            snprintf(want, sizeof want, "%d", atoi(qt->fields[i].name + 1));
            assert_int_equal(qt->fields[i].json_len, strlen(want));
            assert_memory_equal(qt->fields[i].json, want, strlen(want));
            fillers++;
        }
    assert_int_equal(qt->nfields, present + fillers);
}

/* ---------------------------------------------------------------- tests */

/* Every allocation of a change that grows values, adds fields in the middle, empties a value,
 * re-escapes raw UTF-8 and adds non-verbatim names fails in turn, on both paths: the entry stays
 * consistent, and the next change sets every field exactly. */
static void test_quote_alloc_fail(void **st)
{
    (void)st;
    /* 32 fields: the first new one grows the field arrays (f, then pf) too */
    char base[600];
    int bn = sprintf(base, "\"lp\":1.5,\"ch\":\"abc\",\"volume\":100,\"description\":"
                           "\"hello\",\"x\":\"\"");
    for (int i = 0; i < 27; i++)
        bn += sprintf(base + bn, ",\"z%d\":%d", i, i);
    /* description grows past the body's slack (the body moves with every json in it) */
    size_t big = 70000;
    size_t big3 = 4 * big; /* a new field's value past the body's slack: its insertion fails */
    char *change = malloc(big + big3 + 512);
    assert_non_null(change);
    int n = sprintf(change, "\"lp\":123456.789,\"n1\":\"mid\",\"ch\":\"\",\"caf\xc3\xa9\":"
                            "\"d\xc3\xa9j\xc3\xa0\",\"description\":\"");
    memset(change + n, 'D', big);
    n += (int)big;
    n += sprintf(change + n, "\",\"x\":\"grown\",\"a\\/b\":null,\"volume\":1e+100,\"n2\":7,"
                             "\"n3\":\"");
    memset(change + n, 'E', big3);
    n += (int)big3;
    sprintf(change + n, "\"");
    char *bigval3 = malloc(big3 + 3);
    assert_non_null(bigval3);
    bigval3[0] = '"';
    memset(bigval3 + 1, 'E', big3);
    bigval3[big3 + 1] = '"';
    bigval3[big3 + 2] = '\0';
    char *bigval = malloc(big + 3);
    assert_non_null(bigval);
    bigval[0] = '"';
    memset(bigval + 1, 'D', big);
    bigval[big + 1] = '"';
    bigval[big + 2] = '\0';
    static const char final_vals[] =
        "\"x\":12,\"n2\":\"\",\"a\\/b\":\"q\",\"lp\":2,\"caf\xc3\xa9\":true,\"ch\":\"zz\","
        "\"description\":\"s\",\"n1\":-1,\"volume\":3,\"n3\":0";

    for (int tokens = 0; tokens < 2; tokens++) {
        long hits = 0;
        int saw_n3_fail = 0;
        for (long k = 1;; k++) {
            fixture fx;
            fx_open(&fx);
            qsd(&fx, base, tokens);
            drain(fx.c);
            qsd_armed(&fx, change, tokens, k);
            long calls = alloc_calls;
            drain(fx.c);
            const tvk_quote *qt = snap(&fx);
            mfield m[] = {
                {"lp", "lp", {"1.5", "123456.789", NULL}},
                {"ch", "ch", {"\"abc\"", "\"\"", NULL}},
                {"volume", "volume", {"100", "1e+100", NULL}},
                {"description", "description", {"\"hello\"", bigval, NULL}},
                {"x", "x", {"\"\"", "\"grown\"", NULL}},
                {"n1", "n1", {NULL, "\"mid\"", NULL}},
                {"caf\xc3\xa9",
                 "caf\\u00e9",
                 {NULL, "\"d\\u00e9j\\u00e0\"", "\"d\xc3\xa9j\xc3\xa0\""}},
                {"a\\/b", "a\\/b", {NULL, "null", NULL}},
                {"n2", "n2", {NULL, "7", NULL}},
                {"n3", "n3", {NULL, bigval3, NULL}},
            };
            size_t nm = sizeof m / sizeof m[0];
            char where[64];
            snprintf(where, sizeof where, "tokens %d, allocation %ld failed", tokens, k);
            check_structure(qt, m, nm);
            check_values(qt, m, nm, where);
            /* n2 in and n3 out: n3's insertion failed after its prefix went in (its value does
             * not fit the body's slack), and was taken out again */
            saw_n3_fail |= tvk_quote_field_get(qt, "n2") && !tvk_quote_field_get(qt, "n3");
            /* Numbers and strings read from the body. */
            double v;
            const tvk_quote_field *f = tvk_quote_field_get(qt, "lp");
            assert_non_null(f);
            assert_int_equal(tvk_quote_number(qt, "lp", &v), 0);
            assert_true(v == (f->json_len == 3 ? 1.5 : 123456.789));
            char s[16];
            int rc = tvk_quote_string(qt, "ch", s, sizeof s);
            assert_int_equal(rc, 0);
            assert_true(!strcmp(s, "abc") || !strcmp(s, ""));
            /* The next change puts everything right (it may add what the failed one did not). */
            unsigned updates = (unsigned)qt->updates;
            qsd(&fx, final_vals, tokens);
            drain(fx.c);
            qt = snap(&fx);
            assert_int_equal((unsigned)qt->updates, updates + 1);
            mfield m2[] = {
                {"lp", "lp", {"2", NULL, NULL}},
                {"ch", "ch", {"\"zz\"", NULL, NULL}},
                {"volume", "volume", {"3", NULL, NULL}},
                {"description", "description", {"\"s\"", NULL, NULL}},
                {"x", "x", {"12", NULL, NULL}},
                {"n1", "n1", {"-1", NULL, NULL}},
                {"caf\xc3\xa9", "caf\\u00e9", {"true", NULL, NULL}},
                {"a\\/b", "a\\/b", {"\"q\"", NULL, NULL}},
                {"n2", "n2", {"\"\"", NULL, NULL}},
                {"n3", "n3", {"0", NULL, NULL}},
            };
            snprintf(where, sizeof where, "tokens %d, after allocation %ld failed", tokens, k);
            check_structure(qt, m2, nm);
            check_values(qt, m2, nm, where);
            assert_int_equal(tvk_quote_string(qt, "n2", s, sizeof s), 0);
            assert_string_equal(s, "");
            assert_int_equal(tvk_quote_number(qt, "x", &v), 0);
            assert_true(v == 12);
            fx_close(&fx);
            if (calls < k) break; /* the change made fewer allocations: all were failed once */
            hits++;
        }
        print_message("tokens %d: %ld allocations failed in turn\n", tokens, hits);
        assert_true(hits >= 5); /* the change did allocate: the sweep is not empty */
        assert_true(saw_n3_fail);
    }
    free(change);
    free(bigval);
    free(bigval3);
}

/* Values to and from "", to and from megabytes, in the first, a middle and the last field,
 * with raw UTF-8 and escapes, on both paths; tvk_quote_string/number/to_json on each. */
static void test_quote_edge_values(void **st)
{
    (void)st;
    size_t mb = 3u << 20;
    char *huge = malloc(mb + 64);
    assert_non_null(huge);
    for (int tokens = 0; tokens < 2; tokens++) {
        fixture fx;
        fx_open(&fx);
        qsd(&fx, "\"a\":\"\",\"b\":\"\",\"c\":\"\"", tokens);
        drain(fx.c);
        const tvk_quote *qt = snap(&fx);
        assert_int_equal(qt->nfields, 3);
        char s[64];
        assert_int_equal(tvk_quote_string(qt, "b", s, sizeof s), 0);
        assert_string_equal(s, "");
        double v;
        assert_int_equal(tvk_quote_number(qt, "b", &v), TVK_ESHAPE);
        for (int which = 0; which < 3; which++) {
            const char name = (char)('a' + which);
            /* to megabytes */
            int n = sprintf(huge, "\"%c\":\"", name);
            memset(huge + n, 'a' + which, mb);
            n += (int)mb;
            sprintf(huge + n, "\"");
            qsd(&fx, huge, tokens);
            drain(fx.c);
            qt = snap(&fx);
            mfield m[3] = {{"a", "a", {"\"\""}}, {"b", "b", {"\"\""}}, {"c", "c", {"\"\""}}};
            check_structure(qt, m, 3);
            const tvk_quote_field *f = &qt->fields[which];
            assert_int_equal(f->json_len, mb + 2);
            assert_true(f->json[0] == '"' && f->json[mb + 1] == '"' && f->json[1] == name &&
                        f->json[mb] == name);
            char *big = malloc(mb + 1);
            assert_non_null(big);
            char nm[2] = {name, 0};
            assert_int_equal(tvk_quote_string(qt, nm, big, mb + 1), 0);
            assert_int_equal(strlen(big), mb);
            assert_int_equal(tvk_quote_string(qt, nm, big, mb), TVK_EBUFSIZE);
            free(big);
            /* back to "", then raw UTF-8 (stored escaped), then a number */
            sprintf(huge, "\"%c\":\"\"", name);
            qsd(&fx, huge, tokens);
            drain(fx.c);
            check_structure(snap(&fx), m, 3);
            sprintf(huge, "\"%c\":\"\xe2\x82\xac\\n\xf0\x9f\x98\x80\"", name);
            qsd(&fx, huge, tokens);
            drain(fx.c);
            qt = snap(&fx);
            check_structure(qt, m, 3);
            f = &qt->fields[which];
            const char want[] = "\"\\u20ac\\n\\ud83d\\ude00\"";
            if (f->json_len != strlen(want) || memcmp(f->json, want, f->json_len))
                fail_msg("tokens %d field %c: %.*s, want %s", tokens, name, (int)f->json_len,
                         f->json, want);
            assert_int_equal(tvk_quote_string(qt, nm, s, sizeof s), 0);
            assert_string_equal(s, "\xe2\x82\xac\n\xf0\x9f\x98\x80");
            sprintf(huge, "\"%c\":-12.5", name);
            qsd(&fx, huge, tokens);
            drain(fx.c);
            qt = snap(&fx);
            check_structure(qt, m, 3);
            assert_int_equal(tvk_quote_number(qt, nm, &v), 0);
            assert_true(v == -12.5);
            sprintf(huge, "\"%c\":\"\"", name);
            qsd(&fx, huge, tokens);
            drain(fx.c);
            check_structure(snap(&fx), m, 3);
        }
        fx_close(&fx);
    }
    free(huge);
}

/* Names: the verbatim ones are compared in the body, the others (non-ASCII) by their stored
 * name. The same name sent twice in one change, names differing only after an escape, an
 * empty name, a long name. */
static void test_quote_names(void **st)
{
    (void)st;
    for (int tokens = 0; tokens < 2; tokens++) {
        fixture fx;
        fx_open(&fx);
        static const char first[] =
            "\"\":1,\"lp\":2,\"\\u006cp\":3,\"caf\xc3\xa9\":4,\"caf\\u00e9\":5,"
            "\"a_very_long_field_name_of_more_than_thirty_two_bytes_x\":6,\"lp\":7";
        qsd(&fx, first, tokens);
        drain(fx.c);
        const tvk_quote *qt = snap(&fx);
        mfield m[] = {
            {"", "", {"1"}},
            {"lp", "lp", {"7"}},
            {"\\u006cp", "\\u006cp", {"3"}},
            {"caf\xc3\xa9", "caf\\u00e9", {"4"}},
            {"caf\\u00e9", "caf\\u00e9", {"5"}},
            {"a_very_long_field_name_of_more_than_thirty_two_bytes_x",
             "a_very_long_field_name_of_more_than_thirty_two_bytes_x",
             {"6"}},
        };
        check_structure(qt, m, 6);
        check_values(qt, m, 6, "first");
        static const char second[] =
            "\"caf\xc3\xa9\":\"x\",\"a_very_long_field_name_of_more_than_thirty_two_bytes_x\":"
            "\"yy\",\"\\u006cp\":\"\",\"\":\"zzzz\",\"caf\\u00e9\":8,\"lp\":9";
        qsd(&fx, second, tokens);
        drain(fx.c);
        qt = snap(&fx);
        mfield m2[] = {
            {"", "", {"\"zzzz\""}},
            {"lp", "lp", {"9"}},
            {"\\u006cp", "\\u006cp", {"\"\""}},
            {"caf\xc3\xa9", "caf\\u00e9", {"\"x\""}},
            {"caf\\u00e9", "caf\\u00e9", {"8"}},
            {"a_very_long_field_name_of_more_than_thirty_two_bytes_x",
             "a_very_long_field_name_of_more_than_thirty_two_bytes_x",
             {"\"yy\""}},
        };
        check_structure(qt, m2, 6);
        check_values(qt, m2, 6, "second");
        fx_close(&fx);
    }
}

/* The 512-field bound: a change that brings a field beyond it still updates the fields the
 * snapshot has (the one beyond is dropped, not the rest of the change). */
static void test_quote_field_bound(void **st)
{
    (void)st;
    for (int tokens = 0; tokens < 2; tokens++) {
        fixture fx;
        fx_open(&fx);
        tvk_buf b;
        tvk_buf_init(&b);
        for (int i = 0; i < 512; i++)
            assert_int_equal(tvk_buf_printf(&b, "%s\"f%d\":%d", i ? "," : "", i, i), 0);
        qsd(&fx, b.data, tokens);
        drain(fx.c);
        const tvk_quote *qt = snap(&fx);
        assert_int_equal(qt->nfields, 512);
        /* all of them again, values grown, the body moving: still consistent */
        tvk_buf_reset(&b);
        for (int i = 511; i >= 0; i--)
            assert_int_equal(
                tvk_buf_printf(&b, "%s\"f%d\":\"%0*d\"", i < 511 ? "," : "", i, i % 40 + 1, i), 0);
        qsd(&fx, b.data, tokens);
        drain(fx.c);
        qt = snap(&fx);
        assert_int_equal(qt->nfields, 512);
        for (int i = 0; i < 512; i++) {
            char nm[8], want[64];
            snprintf(nm, sizeof nm, "f%d", i);
            snprintf(want, sizeof want, "\"%0*d\"", i % 40 + 1, i);
            const tvk_quote_field *f = tvk_quote_field_get(qt, nm);
            assert_non_null(f);
            if (f->json_len != strlen(want) || memcmp(f->json, want, f->json_len))
                fail_msg("%s = %.*s, want %s", nm, (int)f->json_len, f->json, want);
        }
        /* a 513th field first, then known ones */
        qsd(&fx, "\"f512\":1,\"f0\":-5,\"f511\":-6", tokens);
        drain(fx.c);
        qt = snap(&fx);
        assert_int_equal(qt->nfields, 512);
        assert_null(tvk_quote_field_get(qt, "f512"));
        const tvk_quote_field *f0 = tvk_quote_field_get(qt, "f0"),
                              *f511 = tvk_quote_field_get(qt, "f511");
        assert_non_null(f0);
        assert_non_null(f511);
        if (f0->json_len != 2 || memcmp(f0->json, "-5", 2) || f511->json_len != 2 ||
            memcmp(f511->json, "-6", 2))
            fail_msg("tokens %d: after {f512:1,f0:-5,f511:-6} beyond the bound: f0 = %.*s, "
                     "f511 = %.*s, want -5 and -6 (the known fields of the change are lost)",
                     tokens, (int)f0->json_len, f0->json, (int)f511->json_len, f511->json);
        tvk_buf_free(&b);
        fx_close(&fx);
    }
}

/* Events queued for symbols that are removed, or a set that is closed, before they are taken:
 * dropped, and nothing of the freed entries is read (ASan build). */
static void test_quote_queued_then_removed(void **st)
{
    (void)st;
    fixture fx;
    fx_open(&fx);
    const char *syms[] = {"SIM:A", "SIM:B"};
    assert_int_equal(tvk_quotes_add(fx.q, syms, 2), 0);
    feedf(fx.c, "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"SIM:A\",\"s\":\"ok\",\"v\":{\"lp\":1}}]}",
          fx.qs);
    feedf(fx.c, "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"SIM:B\",\"s\":\"ok\",\"v\":{\"lp\":2}}]}",
          fx.qs);
    feedf(fx.c, "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"SIM:A\",\"s\":\"error\",\"errmsg\":\"x\"}]}",
          fx.qs);
    assert_int_equal(tvk_quotes_remove(fx.q, syms, 1), 0);
    tvk_event ev;
    int seen_b = 0;
    while (tvk_conn_next_event(fx.c, &ev, 0) > 0) {
        assert_non_null(ev.quote);
        assert_string_equal(ev.symbol, "SIM:B");
        seen_b++;
        char buf[8];
        assert_int_equal(tvk_quote_number(ev.quote, "lp", &(double){0}), 0);
        (void)buf;
    }
    assert_int_equal(seen_b, 1);
    feedf(fx.c, "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"SIM:B\",\"s\":\"ok\",\"v\":{\"lp\":3}}]}",
          fx.qs);
    tvk_quotes_close(fx.q);
    assert_int_equal(tvk_conn_next_event(fx.c, &ev, 0), 0);
    tvk_conn_free(fx.c);
}

/* tvk_quotes_remove under allocation failure at each of its allocations: whatever it returns,
 * the set's lookups stay consistent with its list (a symbol found is one of the set's entries,
 * and the removed ones are not found), and nothing freed is read (ASan build). The index rebuilt
 * after the entries went is the last allocation: when it fails, the old index still holds the
 * positions of the freed entries. */
static void test_quote_remove_alloc_fail(void **st)
{
    (void)st;
    static const char *const all[] = {"SIM:R8", "SIM:A", "SIM:B", "SIM:C", "SIM:D"};
    long hits = 0;
    for (long k = 1;; k++) {
        fixture fx;
        fx_open(&fx);
        assert_int_equal(tvk_quotes_add(fx.q, (const char *const *)all + 1, 4), 0);
        const char *gone[] = {"SIM:C", "SIM:D"}; /* the last two: the list keeps their pointers */
        arm(k);
        int rc = tvk_quotes_remove(fx.q, gone, 2);
        long calls = alloc_calls;
        disarm();
        size_t n = tvk_quotes_count(fx.q);
        assert_true(rc == 0 ? n == 3 : (n == 3 || n == 5));
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
            const tvk_quote *qt = tvk_quotes_get(fx.q, all[i]);
            int listed = 0;
            for (size_t j = 0; j < n; j++)
                listed |= tvk_quotes_at(fx.q, j) == qt;
            if (qt && (!listed || strcmp(qt->symbol, all[i])))
                fail_msg("allocation %ld failed, remove gave %d: %s found, not in the set's list",
                         k, rc, all[i]);
            int removed = n == 3 && i >= 3;
            if ((qt == NULL) != removed)
                fail_msg("allocation %ld failed, remove gave %d: %s %sfound", k, rc, all[i],
                         qt ? "" : "not ");
        }
        /* and the set goes on: a change of each remaining symbol reaches it */
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            feedf(fx.c,
                  "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"%s\",\"s\":\"ok\",\"v\":{\"lp\":%zu}}]}",
                  fx.qs, all[i], i + 1);
        drain(fx.c);
        for (size_t j = 0; j < n; j++) {
            const tvk_quote *qt = tvk_quotes_at(fx.q, j);
            double v;
            if (tvk_quote_number(qt, "lp", &v) != 0)
                fail_msg("allocation %ld failed, remove gave %d: %s got no change", k, rc,
                         qt->symbol);
        }
        fx_close(&fx);
        if (calls < k) break;
        hits++;
    }
    assert_true(hits >= 2); /* keys and gone; the index is rebuilt after them */
}

/* tvk_quotes_add of many symbols (the index grows on the way) with every allocation failing
 * from the k-th on: the call undoes what it added, and the set's lookups stay consistent with
 * its list (its undo rebuilds the index, which fails too then: the old index must not keep the
 * new, freed entries). */
static void test_quote_add_alloc_fail(void **st)
{
    (void)st;
    char names[40][16];
    const char *syms[40];
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "SIM:N%02d", i);
        syms[i] = names[i];
    }
    long hits = 0;
    for (long k = 1;; k++) {
        fixture fx;
        fx_open(&fx);
        arm(k);
        fail_rest = 1;
        int rc = tvk_quotes_add(fx.q, syms, 40);
        long calls = alloc_calls;
        disarm();
        size_t n = tvk_quotes_count(fx.q);
        assert_int_equal(n, rc == 0 ? 41u : 1u);
        for (int i = 0; i < 40; i++) {
            const tvk_quote *qt = tvk_quotes_get(fx.q, syms[i]);
            if ((qt != NULL) != (rc == 0))
                fail_msg("allocations from %ld failed, add gave %d: %s %sfound", k, rc, syms[i],
                         qt ? "" : "not ");
        }
        assert_non_null(tvk_quotes_get(fx.q, "SIM:R8"));
        fx_close(&fx);
        if (calls < k) break;
        hits++;
    }
    assert_true(hits >= 40);
}

/* A snapshot's text is bounded by max_message. The body's slack (half as much again
 * as it needed when it last grew) must not let it pass the bound: values that fit in the slack
 * are taken without the test. */
static void test_quote_bound_slack(void **st)
{
    (void)st;
    fixture fx;
    memset(&fx, 0, sizeof fx);
    tvk_conn_opts o;
    tvk_conn_opts_init(&o);
    o.token = "unauthorized_user_token";
    o.max_message = 4096;
    o.log = quiet;
    o.log_user = &fx.logs;
    fx.c = tvk_conn_new_opts(&o);
    assert_non_null(fx.c);
    tvk__conn_set_send_hook(fx.c, hook, NULL);
    assert_int_equal(tvk_quotes_open(fx.c, NULL, NULL, 0, NULL, &fx.q), 0);
    const char *sym = "SIM:R8";
    assert_int_equal(tvk_quotes_add(fx.q, &sym, 1), 0);
    fx.qs = tvk_quotes_session(fx.q);
    static const struct {
        char name;
        size_t len;
    } steps[] = {{'a', 2500}, {'b', 1200}, {'c', 1300}, {'d', 300}, {'e', 300}};
    char v[4000];
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        int n = sprintf(v, "\"%c\":\"", steps[i].name);
        memset(v + n, steps[i].name, steps[i].len);
        sprintf(v + n + steps[i].len, "\"");
        qsd(&fx, v, 0);
        drain(fx.c);
        const tvk_quote_entry *e = (const tvk_quote_entry *)snap(&fx);
        if (e->body_len > o.max_message)
            fail_msg("after \"%c\" (%zu bytes): the snapshot's text is %zu bytes, over "
                     "max_message %zu (%zu fields)",
                     steps[i].name, steps[i].len, e->body_len, o.max_message, e->nf);
    }
    fx_close(&fx);
}

/* The plain reader and the tokenized path give the same snapshots (line, every json and num)
 * for random changes with escaped, non-ASCII and empty names, numbers of every form, strings
 * with escapes and raw UTF-8, literals, arrays and objects. */
static void test_quote_paths_agree(void **st)
{
    (void)st;
    static const char *const names[] = {
        "lp",          "ch",     "",    "a\\\"b", "\\u00e9x",
        "caf\xc3\xa9", "x\\\\y", "\\/", "volume", "a_name_that_is_much_longer_than_sixteen_bytes",
        "\\u0000",     "q"};
    static const char *const vals[] = {"0",
                                       "-0",
                                       "1.5",
                                       "-12.25",
                                       "1e5",
                                       "1E+2",
                                       "2.5e-3",
                                       "1e+100",
                                       "123456789012345678901234",
                                       "0.000001",
                                       "1e400",
                                       "true",
                                       "false",
                                       "null",
                                       "\"\"",
                                       "\"abc\"",
                                       "\"a\\\"b\\\\c\"",
                                       "\"\\u00e9\\n\"",
                                       "\"\xc3\xa9t\xc3\xa9\"",
                                       "\"\xf0\x9f\x98\x80\"",
                                       "[1,2,{\"a\":null}]",
                                       "{\"k\":\"v\",\"n\":[]}",
                                       "\"0123456789abcdef0123456789abcdef0123456789\"",
                                       "3.14159265358979323846"};
    fixture a, b;
    fx_open(&a);
    fx_open(&b);
    uint64_t x = 0x1234567887654321ULL;
    tvk_buf v, la, lb;
    tvk_buf_init(&v);
    tvk_buf_init(&la);
    tvk_buf_init(&lb);
    for (int round = 0; round < 3000; round++) {
        tvk_buf_reset(&v);
        int nf = 1 + (int)(rnd(&x) % 6);
        for (int i = 0; i < nf; i++)
            assert_int_equal(tvk_buf_printf(&v, "%s\"%s\":%s", i ? "," : "",
                                            names[rnd(&x) % (sizeof names / sizeof *names)],
                                            vals[rnd(&x) % (sizeof vals / sizeof *vals)]),
                             0);
        /* both sessions' ids differ: each gets its own packet */
        qsd(&a, v.data, 0);
        qsd(&b, v.data, 1);
        drain(a.c);
        drain(b.c);
        const tvk_quote *qa = snap(&a), *qb = snap(&b);
        assert_int_equal(qa->nfields, qb->nfields);
        for (size_t i = 0; i < qa->nfields; i++) {
            const tvk_quote_field *fa = &qa->fields[i], *fb = &qb->fields[i];
            if (strcmp(fa->name, fb->name) || fa->json_len != fb->json_len ||
                memcmp(fa->json, fb->json, fa->json_len) ||
                (isnan(fa->num) ? !isnan(fb->num) : fa->num != fb->num))
                fail_msg("round %d (%s) field %zu: plain %s = %.*s (%g), tokens %s = %.*s (%g)",
                         round, v.data, i, fa->name, (int)fa->json_len, fa->json, fa->num, fb->name,
                         (int)fb->json_len, fb->json, fb->num);
        }
        tvk_buf_reset(&la);
        tvk_buf_reset(&lb);
        assert_int_equal(tvk_quote_to_json(qa, &la), 0);
        assert_int_equal(tvk_quote_to_json(qb, &lb), 0);
        assert_string_equal(la.data, lb.data);
    }
    tvk_buf_free(&v);
    tvk_buf_free(&la);
    tvk_buf_free(&lb);
    fx_close(&a);
    fx_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote_edge_values),
        cmocka_unit_test(test_quote_names),
        cmocka_unit_test(test_quote_queued_then_removed),
        cmocka_unit_test(test_quote_alloc_fail),
        cmocka_unit_test(test_quote_paths_agree),
        cmocka_unit_test(test_quote_field_bound),
        cmocka_unit_test(test_quote_remove_alloc_fail),
        cmocka_unit_test(test_quote_add_alloc_fail),
        cmocka_unit_test(test_quote_bound_slack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
