/* The quote book's one text per symbol (quotes.c: the body holds every field's ',"name":value'
 * and is the only copy of the values): after each of thousands of random changes, every
 * field's json, json_len and num equal a model of what the server sent, and the snapshot line
 * equals the one built from the model. The changes give values of every length (across the
 * small-copy sizes, and long ones that make the body grow while other fields point into it),
 * new fields at any point of a change, names of 1..30 bytes and with an escape, numbers,
 * strings, true/false/null and 1e+100, through the plain reader and the generic one (a space
 * after a name's colon sends a packet to the generic one); the bound of that text
 * (max_message), and of the number of fields. No network. */
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

static int hook(void *user, const char *data, size_t len)
{
    (void)user, (void)data, (void)len;
    return 0;
}

static const char *const sym = "SIM:BODY";
static const char qsd_fmt[] =
    "{\"m\":\"qsd\",\"p\":[\"%s\",{\"n\":\"%s\",\"s\":\"ok\",\"v\":{%s}}]}";

/* A connection (no network: sends go to a hook) with one quote set holding sym. */
typedef struct fixture {
    tvk_conn *c;
    tvk_quotes *q;
    const char *qs;
} fixture;

static fixture fx_open(size_t max_message, tvk_log_fn log, void *log_user)
{
    tvk_conn_opts o;
    tvk_conn_opts_init(&o);
    o.token = "unauthorized_user_token";
    if (max_message) o.max_message = max_message;
    o.log = log;
    o.log_user = log_user;
    fixture f = {tvk_conn_new_opts(&o), NULL, NULL};
    assert_non_null(f.c);
    tvk__conn_set_send_hook(f.c, hook, NULL);
    assert_int_equal(tvk_quotes_open(f.c, NULL, NULL, 0, NULL, &f.q), 0);
    assert_int_equal(tvk_quotes_add(f.q, &sym, 1), 0);
    f.qs = tvk_quotes_session(f.q);
    return f;
}

/* The events taken (the quote book merges on receipt; the queue only has to be emptied). */
static void fx_drain(fixture *f)
{
    tvk_event ev;
    while (tvk_conn_next_event(f->c, &ev, 0) > 0)
        ;
}

static void fx_close(fixture *f)
{
    fx_drain(f);
    tvk_quotes_close(f->q);
    tvk_conn_free(f->c);
}

#define NNAMES 14

/* Raw JSON text of each name, and what the snapshot line shows for it: printable ASCII as it
 * is (escapes included), other bytes unescaped and written again as ASCII. */
static const char *const raw_names[NNAMES] = {
    "a",           "lp",
    "chp",         "lp_time",
    "volume",      "currency_code",
    "description", "x\\/y",
    "caf\xc3\xa9", "short_name",
    "b",           "original_name",
    "update_mode", "a_name_of_thirty_bytes_long_xy",
};
static const char *const shown_names[NNAMES] = {
    "a",           "lp",
    "chp",         "lp_time",
    "volume",      "currency_code",
    "description", "x\\/y",
    "caf\\u00e9",  "short_name",
    "b",           "original_name",
    "update_mode", "a_name_of_thirty_bytes_long_xy",
};

typedef struct model {
    char *val[NNAMES]; /* the value's JSON text as sent, NULL before the name's first change */
    int order[NNAMES]; /* names in the order they first came */
    int n;
} model;

static uint64_t rnd(uint64_t *x)
{
    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    return *x;
}

/* A random value: digits with or without a fraction (1..40 bytes, or a few thousand now and
 * then), an ASCII string (0..40 letters, or a few thousand), true, false, null or 1e+100. */
static char *random_value(uint64_t *x)
{
    uint64_t r = rnd(x);
    size_t len = (r >> 8) % 41;
    if ((r >> 20) % 97 == 0) len = 1000 + (r >> 32) % 3000;
    char *v = malloc(len + 8);
    assert_non_null(v);
    switch (r % 8) {
    case 0:
    case 1:
    case 2: { /* a number: "7", "123.45", long digit runs */
        size_t n = len ? len : 1;
        v[0] = (char)('1' + (rnd(x) % 9));
        for (size_t i = 1; i < n; i++)
            v[i] = (char)('0' + rnd(x) % 10);
        if (n >= 3 && (r >> 40) % 2) v[1 + (r >> 44) % (n - 2)] = '.';
        v[n] = '\0';
        break;
    }
    case 3:
    case 4:
        v[0] = '"';
        for (size_t i = 0; i < len; i++)
            v[1 + i] = (char)('a' + rnd(x) % 26);
        v[1 + len] = '"';
        v[2 + len] = '\0';
        break;
    case 5:
        strcpy(v, (r >> 12) % 2 ? "true" : "false");
        break;
    case 6:
        strcpy(v, "null");
        break;
    default:
        strcpy(v, (r >> 12) % 2 ? "1e+100" : "-0.5");
        break;
    }
    return v;
}

static void check(const tvk_quote *qt, const model *m, int round)
{
    assert_non_null(qt);
    assert_int_equal(qt->status, TVK_QUOTE_OK);
    assert_int_equal(qt->nfields, (size_t)m->n);
    tvk_buf want, line;
    tvk_buf_init(&want);
    tvk_buf_init(&line);
    assert_int_equal(tvk_buf_puts(&want, "{\"symbol\":\"SIM:BODY\",\"status\":\"ok\""), 0);
    for (int i = 0; i < m->n; i++) {
        int k = m->order[i];
        const tvk_quote_field *f = &qt->fields[i];
        const char *v = m->val[k];
        size_t vl = strlen(v);
        if (strcmp(f->name, raw_names[k]) || f->json_len != vl || memcmp(f->json, v, vl))
            fail_msg("round %d field %d: %s = %.*s, want %s = %s", round, i, f->name,
                     (int)f->json_len, f->json, raw_names[k], v);
        int number = v[0] == '-' || (v[0] >= '0' && v[0] <= '9');
        double want_num = number && strcmp(v, "1e+100") ? strtod(v, NULL) : NAN;
        if (isnan(want_num) ? !isnan(f->num) : f->num != want_num)
            fail_msg("round %d field %s: num %.17g, want %.17g", round, v, f->num, want_num);
        assert_int_equal(tvk_buf_printf(&want, ",\"%s\":%s", shown_names[k], v), 0);
    }
    assert_int_equal(tvk_buf_puts(&want, "}"), 0);
    assert_int_equal(tvk_quote_to_json(qt, &line), 0);
    if (strcmp(line.data, want.data))
        fail_msg("round %d:\n got  %s\n want %s", round, line.data, want.data);
    tvk_buf_free(&want);
    tvk_buf_free(&line);
}

static void test_quote_body_values(void **st)
{
    (void)st;
    fixture fx = fx_open(0, NULL, NULL);
    model m;
    memset(&m, 0, sizeof m);
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    int avail = 3, generic = 0; /* names that may come so far; changes read the generic way */
    tvk_buf v;
    tvk_buf_init(&v);
    for (int round = 0; round < 4000; round++) {
        if (avail < NNAMES && round % 250 == 249) avail++;
        tvk_buf_reset(&v);
        int any = 0, spaced = (int)(rnd(&x) % 4 == 0);
        /* Each name at most once per change, in a random order. */
        int pick[NNAMES], np = 0;
        for (int k = 0; k < avail; k++)
            if (rnd(&x) % 3) pick[np++] = k;
        for (int i = np - 1; i > 0; i--) {
            int j = (int)(rnd(&x) % (uint64_t)(i + 1)), t = pick[i];
            pick[i] = pick[j], pick[j] = t;
        }
        for (int i = 0; i < np; i++) {
            int k = pick[i];
            char *val = random_value(&x);
            assert_int_equal(tvk_buf_printf(&v, "%s\"%s\":%s%s", any ? "," : "", raw_names[k],
                                            spaced && i == 0 ? " " : "", val),
                             0);
            any = 1;
            if (!m.val[k]) m.order[m.n++] = k;
            free(m.val[k]);
            m.val[k] = val;
        }
        if (!any) continue;
        generic += spaced;
        feedf(fx.c, qsd_fmt, fx.qs, sym, v.data);
        fx_drain(&fx);
        check(tvk_quotes_get(fx.q, sym), &m, round);
    }
    assert_int_equal(m.n, NNAMES);
    assert_true(generic > 500);
    for (int k = 0; k < NNAMES; k++)
        free(m.val[k]);
    tvk_buf_free(&v);
    fx_close(&fx);
}

static char *letters(char ch, size_t n)
{
    char *p = malloc(n + 1);
    assert_non_null(p);
    memset(p, ch, n);
    p[n] = '\0';
    return p;
}

/* A symbol's snapshot text is bounded by max_message: a value that would pass it is dropped
 * (the other fields of the change are taken), and fits again once other values shrank. */
static void test_quote_body_bounded(void **st)
{
    (void)st;
    fixture fx = fx_open(4096, NULL, NULL);
    char *a = letters('a', 3000), *b = letters('b', 2000);
    tvk_buf v;
    tvk_buf_init(&v);

    assert_int_equal(tvk_buf_printf(&v, "\"a\":\"%s\"", a), 0);
    feedf(fx.c, qsd_fmt, fx.qs, sym, v.data);
    tvk_buf_reset(&v);
    assert_int_equal(tvk_buf_printf(&v, "\"b\":\"%s\",\"lp\":1.5", b), 0);
    feedf(fx.c, qsd_fmt, fx.qs, sym, v.data);
    fx_drain(&fx);
    const tvk_quote *qt = tvk_quotes_get(fx.q, sym);
    assert_int_equal(qt->nfields, 2);
    assert_string_equal(qt->fields[0].name, "a");
    assert_int_equal(qt->fields[0].json_len, 3002);
    assert_string_equal(qt->fields[1].name, "lp");
    assert_true(qt->fields[1].num == 1.5);

    feedf(fx.c, qsd_fmt, fx.qs, sym, "\"a\":\"short\"");
    feedf(fx.c, qsd_fmt, fx.qs, sym, v.data);
    fx_drain(&fx);
    qt = tvk_quotes_get(fx.q, sym);
    assert_int_equal(qt->nfields, 3);
    assert_string_equal(qt->fields[2].name, "b");
    assert_int_equal(qt->fields[2].json_len, 2002);
    tvk_buf line;
    tvk_buf_init(&line);
    assert_int_equal(tvk_quote_to_json(qt, &line), 0);
    tvk_buf_reset(&v);
    assert_int_equal(tvk_buf_printf(&v,
                                    "{\"symbol\":\"SIM:BODY\",\"status\":\"ok\",\"a\":\"short\","
                                    "\"lp\":1.5,\"b\":\"%s\"}",
                                    b),
                     0);
    assert_string_equal(line.data, v.data);
    tvk_buf_free(&line);
    tvk_buf_free(&v);
    free(a);
    free(b);
    fx_close(&fx);
}

static void count_dropped(void *user, const char *line)
{
    if (strstr(line, "dropped")) (*(int *)user)++;
}

/* A field beyond the 512-field bound is dropped on every change that brings it, said once per
 * symbol, and the change's other fields are taken. */
static void test_quote_body_field_bound_logged_once(void **st)
{
    (void)st;
    int dropped = 0;
    fixture fx = fx_open(0, count_dropped, &dropped);
    tvk_buf v;
    tvk_buf_init(&v);
    for (int k = 0; k < 512; k++)
        assert_int_equal(tvk_buf_printf(&v, "%s\"f%d\":%d", k ? "," : "", k, k), 0);
    feedf(fx.c, qsd_fmt, fx.qs, sym, v.data);
    for (int round = 1; round <= 5; round++) {
        tvk_buf_reset(&v);
        assert_int_equal(tvk_buf_printf(&v, "\"f0\":%d,\"extra\":1,\"f511\":%d", -round, -round),
                         0);
        feedf(fx.c, qsd_fmt, fx.qs, sym, v.data);
        const tvk_quote *qt = tvk_quotes_get(fx.q, sym);
        assert_int_equal(qt->nfields, 512);
        assert_true(qt->fields[0].num == -round);
        assert_true(qt->fields[511].num == -round);
    }
    assert_int_equal(dropped, 1);
    tvk_buf_free(&v);
    fx_close(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote_body_values),
        cmocka_unit_test(test_quote_body_bounded),
        cmocka_unit_test(test_quote_body_field_bound_logged_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
