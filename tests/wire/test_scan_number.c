/* The tokenizer's number scan has two paths: a short-number one with unrolled digit loops,
 * taken when at least 26 bytes follow the number's start or when the document's last byte ends
 * every digit run (neither a digit nor '.': every object and array), and the byte-by-byte one
 * (a document that ends in the number itself, and what the short path declines). Every number
 * text here (valid, invalid, every length of integer and fraction part, exponents, leading
 * zeros, stray bytes) is parsed in several positions: inside a plain array and inside a bar
 * ({"i":..,"v":[..]}, the tokenizer's bar shortcut), near the document's end and far from it,
 * and alone as the whole document: the verdict, the error message with its offset, and the
 * value must be the same everywhere, the verdict the JSON grammar's, and the value strtod's. */
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tvkit/wire.h"
#include "wire/internal.h"
#include "wire_testutil.h"

/* JSON's number grammar within optional whitespace: what the tokenizer must accept. */
static int json_number(const char *s)
{
    const char *p = s + strspn(s, " ");
    if (*p == '-') p++;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (*p >= '0' && *p <= '9')
            p++;
    } else {
        return 0;
    }
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9')) return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(*p >= '0' && *p <= '9')) return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    while (*p == ' ')
        p++;
    return *p == '\0';
}

typedef struct result {
    int rc;
    char err[256];
    uint64_t bits; /* of the number's value when rc == 0 */
} result;

/* Parses prefix NUM suffix and reads the number token (the first number after the prefix). */
static void parse_one(tvk_reader *r, const char *prefix, const char *num, const char *suffix,
                      int in_bar, result *out)
{
    char doc[512];
    int n = snprintf(doc, sizeof doc, "%s%s%s", prefix, num, suffix);
    assert_true(n > 0 && (size_t)n < sizeof doc);
    tvk_msg m;
    memset(out, 0, sizeof *out);
    out->rc = tvk_reader_parse_payload(r, doc, (size_t)n, &m);
    if (out->rc) {
        const char *e = tvk_reader_errmsg(r);
        snprintf(out->err, sizeof out->err, "%s", e);
        return;
    }
    int a = tvk_json_member(m.json, 0, "a");
    assert_true(a >= 0);
    int t = in_bar ? tvk_json_index(m.json,
                                    tvk_json_member(m.json, tvk_json_index(m.json, a, 0), "v"), 0)
                   : tvk_json_index(m.json, a, 0);
    assert_int_equal(tvk_json_type(m.json, t), TVK_J_NUMBER);
    const char *raw;
    size_t len;
    assert_int_equal(tvk_json_raw(m.json, t, &raw, &len), 0);
    num += strspn(num, " ");
    size_t want = strlen(num);
    while (want && num[want - 1] == ' ')
        want--;
    if (len != want || memcmp(raw, num, len))
        fail_msg("'%s': token text '%.*s'", num, (int)len, raw);
    double v;
    assert_int_equal(tvk_json_double(m.json, t, &v), 0);
    memcpy(&out->bits, &v, sizeof v);
}

/* The number text alone as the whole document, in a heap block of exactly its size: it ends in
 * its last byte, so the byte-by-byte path reads it (ASan sees any read past the block). */
static void parse_alone(tvk_json *j, const char *num, result *out)
{
    size_t n = strlen(num);
    char *doc = malloc(n ? n : 1);
    assert_non_null(doc);
    memcpy(doc, num, n);
    size_t at;
    const char *why;
    memset(out, 0, sizeof *out);
    out->rc = tvk_json_parse(j, doc, n, &at, &why);
    if (out->rc) {
        snprintf(out->err, sizeof out->err, "%s at %zu", why, at);
    } else {
        assert_int_equal(tvk_json_type(j, 0), TVK_J_NUMBER);
        double v;
        assert_int_equal(tvk_json_double(j, 0, &v), 0);
        memcpy(&out->bits, &v, sizeof v);
    }
    free(doc);
}

typedef struct tally {
    long texts, valid;
} tally;

static const char *const far_tail =
    ",0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}";
static const char *const bar_far_tail =
    ",1,2,3,4,5]},{\"i\":1,\"v\":[1,2,3,4,5,6]},{\"i\":2,\"v\":[1,2,3,4,5,6]}]}";

static void check_text(tvk_reader *r, tvk_json *j, tally *tl, const char *num)
{
    if (num[strspn(num, " ")] == '\0') return; /* no value at all: an empty array is valid */
    result near, far, bar_near, bar_far, alone;
    parse_one(r, "{\"a\":[", num, "]}", 0, &near);
    parse_one(r, "{\"a\":[", num, far_tail, 0, &far);
    parse_one(r, "{\"a\":[{\"i\":0,\"v\":[", num, "]}]}", 1, &bar_near);
    parse_one(r, "{\"a\":[{\"i\":0,\"v\":[", num, bar_far_tail, 1, &bar_far);
    parse_alone(j, num, &alone);
    int valid = json_number(num);
    const result *all[5] = {&near, &far, &bar_near, &bar_far, &alone};
    for (int k = 0; k < 5; k++) {
        if ((all[k]->rc == 0) != valid)
            fail_msg("'%s' (position %d): rc %d, the grammar says %s (%s)", num, k, all[k]->rc,
                     valid ? "valid" : "invalid", all[k]->err);
    }
    /* The same error at the same offset, whichever path read the number. */
    if (near.rc != far.rc || strcmp(near.err, far.err))
        fail_msg("'%s': near the end '%s', far from it '%s'", num, near.err, far.err);
    if (bar_near.rc != bar_far.rc || strcmp(bar_near.err, bar_far.err))
        fail_msg("'%s' in a bar: near the end '%s', far from it '%s'", num, bar_near.err,
                 bar_far.err);
    if (valid) {
        double want = strtod(num, NULL);
        uint64_t wb;
        memcpy(&wb, &want, sizeof wb);
        for (int k = 0; k < 5; k++)
            if (all[k]->bits != wb) {
                double got;
                memcpy(&got, &all[k]->bits, sizeof got);
                fail_msg("'%s' (position %d): %.17g, strtod %.17g", num, k, got, want);
            }
        tl->valid++;
    }
    tl->texts++;
}

/* Every combination of sign, integer part (none, 0, 00, 01, 1 to 20 digits), fraction (none,
 * bare point, 1 to 12 digits), exponent (none, valid, incomplete) and trailing byte. */
static void test_wire_scan_number_shapes(void **state)
{
    (void)state;
    tvk_reader *r = tvk_reader_new(0);
    assert_non_null(r);
    tvk_json *j = tvk_json_new();
    assert_non_null(j);
    tally tl = {0, 0};
    const char *ints[24] = {"", "0", "00", "01", "10"};
    char intbuf[20][24];
    for (int l = 1; l <= 19; l++) {
        for (int i = 0; i < l; i++)
            intbuf[l][i] = (char)('1' + (l + i * 7) % 9);
        intbuf[l][l] = '\0';
        ints[4 + l] = intbuf[l];
    }
    const char *fracs[15] = {"", "."};
    char fracbuf[13][16];
    for (int l = 1; l <= 12; l++) {
        fracbuf[l][0] = '.';
        for (int i = 0; i < l; i++)
            fracbuf[l][1 + i] = (char)('0' + (l * 3 + i * 5) % 10);
        fracbuf[l][l + 1] = '\0';
        fracs[1 + l] = fracbuf[l];
    }
    fracs[14] = ".0";
    const char *exps[] = {"", "e5", "E-3", "e+22", "e", "e+", "E"};
    const char *trails[] = {"", " ", "x", ".", "-", "0", ".5"};
    const char *signs[] = {"", "-"};
    for (size_t sg = 0; sg < 2; sg++)
        for (size_t i = 0; i < 24; i++)
            for (size_t f = 0; f < 15; f++)
                for (size_t x = 0; x < sizeof exps / sizeof *exps; x++)
                    for (size_t t = 0; t < sizeof trails / sizeof *trails; t++) {
                        char num[96];
                        snprintf(num, sizeof num, "%s%s%s%s%s", signs[sg], ints[i], fracs[f],
                                 exps[x], trails[t]);
                        check_text(r, j, &tl, num);
                    }
    print_message("%ld number texts in five positions each (%ld valid)\n", tl.texts, tl.valid);
    assert_true(tl.valid > 1000 && tl.texts - tl.valid > 1000);
    tvk_json_free(j);
    tvk_reader_free(r);
}

/* Random texts over the bytes numbers are made of (and a few others), and random valid numbers
 * of the prices' and times' shapes. */
static void test_wire_scan_number_random(void **state)
{
    (void)state;
    tvk_reader *r = tvk_reader_new(0);
    assert_non_null(r);
    tvk_json *j = tvk_json_new();
    assert_non_null(j);
    tally tl = {0, 0};
    uint64_t s = 0x452821E638D01377ULL;
    static const char alpha[] = "0123456789012345678901234567890123456789.-eE+ x";
    for (int i = 0; i < 60000; i++) {
        char num[40];
        unsigned n = 1 + wt_rnd(&s, 24);
        for (unsigned k = 0; k < n; k++)
            num[k] = alpha[wt_rnd(&s, sizeof alpha - 1)];
        num[n] = '\0';
        check_text(r, j, &tl, num);
        /* d..d.dd: 1-16 integer digits (no leading zero), 0-10 decimals */
        unsigned ni = 1 + wt_rnd(&s, 16), nf = wt_rnd(&s, 11), o = 0;
        if (wt_rnd(&s, 4) == 0) num[o++] = '-';
        num[o++] = (char)('1' + wt_rnd(&s, 9));
        for (unsigned k = 1; k < ni; k++)
            num[o++] = (char)('0' + wt_rnd(&s, 10));
        if (nf) {
            num[o++] = '.';
            for (unsigned k = 0; k < nf; k++)
                num[o++] = (char)('0' + wt_rnd(&s, 10));
        }
        num[o] = '\0';
        check_text(r, j, &tl, num);
    }
    print_message("%ld random number texts in five positions each (%ld valid)\n", tl.texts,
                  tl.valid);
    assert_true(tl.valid > 60000);
    tvk_json_free(j);
    tvk_reader_free(r);
}

/* Each terminator the short path takes (',', ']', '}') right after the number, with the
 * number starting every distance from 0 to 80 bytes before the end of the document (padding is
 * whitespace after the terminator), each document in a heap block of exactly its size (ASan sees
 * any read past it): the value is strtod's, sign of zero included, on both sides of the 26-byte
 * line between the paths; and every cut of each document (digits up to the end of the block)
 * is refused without a read past it. */
static void test_wire_scan_number_ends(void **state)
{
    (void)state;
    static const char *const nums[] = {"0",
                                       "-0",
                                       "7",
                                       "123.45",
                                       "-0.5",
                                       "236.05",
                                       "13823925.0",
                                       "1748304000.0",
                                       "123456789012345",
                                       "1234567890123456",
                                       "1.12345678",
                                       "1.123456789",
                                       "99999999999999.9",
                                       "-4.25"};
    /* prefix, what comes between the number and the padding, what closes the document */
    static const char *const forms[][3] = {
        {"{\"a\":[", ",0", "]}"},     /* ',' */
        {"{\"a\":[", "]", "}"},       /* ']' */
        {"{\"a\":{\"b\":", "}", "}"}, /* '}' */
    };
    tvk_reader *r = tvk_reader_new(0);
    assert_non_null(r);
    long checked = 0;
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++)
        for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
            for (size_t d = 0; d <= 80; d++) {
                size_t pl = strlen(forms[f][0]), nl = strlen(nums[k]), ml = strlen(forms[f][1]),
                       cl = strlen(forms[f][2]);
                if (d < nl + ml + cl) continue; /* the number cannot start that close */
                size_t pad = d - nl - ml - cl, n = pl + d;
                char *doc = malloc(n);
                assert_non_null(doc);
                char *o = doc;
                memcpy(o, forms[f][0], pl), o += pl;
                memcpy(o, nums[k], nl), o += nl;
                memcpy(o, forms[f][1], ml), o += ml;
                memset(o, ' ', pad), o += pad;
                memcpy(o, forms[f][2], cl), o += cl;
                assert_true((size_t)(o - doc) == n);
                tvk_msg m;
                int rc = tvk_reader_parse_payload(r, doc, n, &m);
                if (rc) fail_msg("'%.*s': %s", (int)n, doc, tvk_reader_errmsg(r));
                int a = tvk_json_member(m.json, 0, "a");
                int t = f == 2 ? tvk_json_member(m.json, a, "b") : tvk_json_index(m.json, a, 0);
                double got, want = strtod(nums[k], NULL);
                assert_int_equal(tvk_json_double(m.json, t, &got), 0);
                if (memcmp(&got, &want, sizeof got))
                    fail_msg("'%.*s': %.17g, strtod %.17g", (int)n, doc, got, want);
                /* every cut of the document, which ends it inside or right after the number:
                 * refused, and nothing read past the block */
                for (size_t cut = pl; cut < n; cut++) {
                    char *part = malloc(cut);
                    assert_non_null(part);
                    memcpy(part, doc, cut);
                    assert_true(tvk_reader_parse_payload(r, part, cut, &m) < 0);
                    free(part);
                }
                free(doc);
                checked++;
            }
    print_message("%ld documents\n", checked);
    assert_true(checked > 2500);
    tvk_reader_free(r);
}

int main(void)
{
    setlocale(LC_ALL, "C");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_scan_number_shapes),
        cmocka_unit_test(test_wire_scan_number_random),
        cmocka_unit_test(test_wire_scan_number_ends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
