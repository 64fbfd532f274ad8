/* Fuzz target "cliparse": what a user types on the command line. The input (cut at its first
 * NUL) goes through the interval and symbol validators (tvk_interval_normalize,
 * tvk_interval_seconds, tvk_symbol_validate) and, when cli/parse.c exists, the CLI's parsers
 * (cli_parse_date and the others in cli/parse.h), each checked against an independent reading
 * of its documented grammar (dates against timegm); error messages go into small exact-size
 * buffers so that any overflow shows. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tvkit/conn.h"
#ifdef TVK_FUZZ_CLI_PARSE
#include <time.h>

#include "parse.h"
#endif

#include "fuzz_check.h"

/* The documented interval grammar: the seconds it stands for, or -1 when it is not accepted. */
static int64_t ref_interval(const char *s)
{
    size_t n = strlen(s), d = 0;
    if (n == 0 || n > 8) return -1;
    int64_t v = 0;
    while (d < n && s[d] >= '0' && s[d] <= '9')
        v = v * 10 + (s[d++] - '0');
    if (n - d > 1) return -1;
    char u = s[d];
    if (d == 0) {
        if (u != 'D' && u != 'W' && u != 'M') return -1;
        v = 1;
    }
    switch (u) {
    case '\0':
        return v >= 1 && v <= 1440 ? v * 60 : -1;
    case 'S':
        return v >= 1 && v <= 60 ? v : -1;
    case 'H':
        return v >= 1 && v <= 168 ? v * 3600 : -1;
    case 'D':
        return v >= 1 && v <= 365 ? v * 86400 : -1;
    case 'W':
        return v >= 1 && v <= 52 ? v * 7 * 86400 : -1;
    case 'M':
        return v >= 1 && v <= 12 ? v * 30 * 86400 : -1;
    default:
        return -1;
    }
}

static int exch_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static int ref_symbol(const char *s)
{
    size_t n = strlen(s);
    const char *colon = strchr(s, ':');
    if (n == 0 || n > 64 || !colon || colon == s || !colon[1]) return 0;
    for (const char *p = s; p < colon; p++)
        if (!exch_char(*p)) return 0;
    for (const char *p = colon + 1; *p; p++)
        if (!(exch_char(*p) || strchr("._!-/&", *p))) return 0;
    return 1;
}

static void check_interval(const char *s)
{
    int64_t want = ref_interval(s);
    char out[16], *err = malloc(24);
    if (!err) return;
    int rc = tvk_interval_normalize(s, out, sizeof out, err, 24);
    if (want < 0) {
        FUZZ_CHECK(rc == TVK_EINTERVAL);
        FUZZ_CHECK(err[0] != '\0' && strlen(err) < 24);
    } else {
        FUZZ_CHECK(rc == 0);
        /* digits, then at most one of S H D W M (hours only past 24: minutes stop at 1440) */
        size_t n = strlen(out), d = strspn(out, "0123456789");
        FUZZ_CHECK(d >= 1 && n - d <= 1 && (d == n || strchr("SHDWM", out[d])));
        if (d < n && out[d] == 'H') FUZZ_CHECK(atol(out) > 24);
        /* the normalised form is a fixed point */
        char again[16];
        FUZZ_CHECK(tvk_interval_normalize(out, again, sizeof again, NULL, 0) == 0);
        FUZZ_CHECK(strcmp(again, out) == 0);
        FUZZ_CHECK(tvk_interval_seconds(out) == want);
        /* the normalised form of the input, and the buffer bound */
        char tiny[3];
        rc = tvk_interval_normalize(s, tiny, sizeof tiny, NULL, 0);
        FUZZ_CHECK(n + 1 <= sizeof tiny ? rc == 0 && !strcmp(tiny, out) : rc == TVK_EBUFSIZE);
        FUZZ_CHECK(tvk_interval_normalize(s, NULL, 0, NULL, 0) == 0);
    }
    free(err);
}

static void check_symbol(const char *s)
{
    char *err = malloc(20);
    if (!err) return;
    err[0] = '\0';
    int rc = tvk_symbol_validate(s, err, 20);
    if (ref_symbol(s)) {
        FUZZ_CHECK(rc == 0);
    } else {
        FUZZ_CHECK(rc == TVK_ESYMBOL);
        FUZZ_CHECK(err[0] != '\0' && strlen(err) < 20);
    }
    FUZZ_CHECK(tvk_symbol_validate(s, NULL, 0) == rc);
    free(err);
}

#ifdef TVK_FUZZ_CLI_PARSE
static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

/* The documented date forms, read independently (calendar by timegm): 1 with *t, or 0. */
static int ref_date(const char *s, int64_t *t)
{
    size_t n = strlen(s);
    if (n > 0 && all_digits(s, n)) {
        size_t z = strspn(s, "0"); /* leading zeros do not change the number of seconds */
        if (n - z > 12) return 0;
        int64_t v = 0;
        for (size_t i = z; i < n; i++)
            v = v * 10 + (s[i] - '0');
        *t = v;
        return v <= CLI_DATE_MAX;
    }
    if (n < 10 || !all_digits(s, 4) || s[4] != '-' || !all_digits(s + 5, 2) || s[7] != '-' ||
        !all_digits(s + 8, 2))
        return 0;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = atoi((char[]){s[0], s[1], s[2], s[3], 0}) - 1900;
    tm.tm_mon = atoi((char[]){s[5], s[6], 0}) - 1;
    tm.tm_mday = atoi((char[]){s[8], s[9], 0});
    const char *p = s + 10;
    if (*p == 'T' || *p == ' ') {
        if (strlen(p) < 6 || !all_digits(p + 1, 2) || p[3] != ':' || !all_digits(p + 4, 2))
            return 0;
        tm.tm_hour = atoi((char[]){p[1], p[2], 0});
        tm.tm_min = atoi((char[]){p[4], p[5], 0});
        p += 6;
        if (*p == ':') {
            if (strlen(p) < 3 || !all_digits(p + 1, 2)) return 0;
            tm.tm_sec = atoi((char[]){p[1], p[2], 0});
            p += 3;
        }
        if (*p == 'Z') p++;
    }
    if (*p) return 0;
    struct tm want = tm;
    time_t v = timegm(&tm);
    /* timegm normalises out-of-range fields: a real date comes back unchanged */
    if (tm.tm_year != want.tm_year || tm.tm_mon != want.tm_mon || tm.tm_mday != want.tm_mday ||
        tm.tm_hour != want.tm_hour || tm.tm_min != want.tm_min || tm.tm_sec != want.tm_sec)
        return 0;
    if (want.tm_year < 70) return 0;
    *t = (int64_t)v;
    return 1;
}

static void check_date(const char *s)
{
    int64_t want = 0, got = -1;
    char *err = malloc(32);
    if (!err) return;
    err[0] = '\0';
    int ok = ref_date(s, &want);
    int rc = cli_parse_date(s, &got, err, 32);
    if (ok) {
        FUZZ_CHECK(rc == 0 && got == want);
        FUZZ_CHECK(got >= 0 && got <= CLI_DATE_MAX);
        /* formatted back, it reads the same */
        char text[32];
        int64_t again = -1;
        cli_format_time(got, 'T', text, sizeof text);
        FUZZ_CHECK(cli_parse_date(text, &again, NULL, 0) == 0 && again == got);
        int64_t y;
        unsigned m, d;
        cli_civil_from_days(got / 86400, &y, &m, &d);
        FUZZ_CHECK(cli_days_from_civil(y, m, d) == got / 86400);
    } else {
        FUZZ_CHECK(rc == -1);
        FUZZ_CHECK(err[0] != '\0' && strlen(err) < 32);
    }
    free(err);
}

static void check_cli_others(const char *s)
{
    char *err = malloc(16);
    if (!err) return;
    int64_t v = -1;
    size_t n = strlen(s);
    int rc = cli_parse_int(s, "--count", 1, 5000000, &v, err, 16);
    if (rc == 0) FUZZ_CHECK(n > 0 && all_digits(s, n) && v >= 1 && v <= 5000000);
    if (rc == 0 && n < 19) FUZZ_CHECK(v == strtoll(s, NULL, 10));
    if (n > 0 && n < 19 && all_digits(s, n)) {
        long long r = strtoll(s, NULL, 10);
        FUZZ_CHECK((rc == 0) == (r >= 1 && r <= 5000000));
    }
    int64_t ms = -1;
    rc = cli_parse_seconds(s, "--timeout", 0, 86400, &ms, err, 16);
    if (rc == 0) {
        FUZZ_CHECK(ms > 0 && ms <= 86400 * 1000);
        double d = strtod(s, NULL); /* digits and one '.' only: strtod reads it all */
        /* rounded up to whole ms; the slack covers the rounding of d itself */
        FUZZ_CHECK(strspn(s, "0123456789.") == n);
        FUZZ_CHECK(d * 1000 - 1e-6 <= (double)ms && (double)ms < d * 1000 + 1 + 1e-6);
    } else {
        FUZZ_CHECK(rc == -1);
    }
    rc = cli_parse_currency(s, err, 16);
    FUZZ_CHECK((rc == 0) ==
               (n >= 2 && n <= 10 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == n));
    static const char *const words[] = {"csv", "jsonl", "table", "sqlite", NULL};
    rc = cli_parse_choice(s, "--format", words, err, 16);
    FUZZ_CHECK(rc >= -1 && rc < 4);
    if (rc >= 0) FUZZ_CHECK(!strcmp(s, words[rc]));
    char out[16];
    FUZZ_CHECK((cli_parse_interval(s, out, sizeof out, err, 16) == 0) ==
               (tvk_interval_normalize(s, out, sizeof out, NULL, 0) == 0));
    FUZZ_CHECK((cli_parse_symbol(s, err, 16) == 0) == (tvk_symbol_validate(s, NULL, 0) == 0));
    free(err);
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    check_interval(s);
    check_symbol(s);
#ifdef TVK_FUZZ_CLI_PARSE
    check_date(s);
    check_cli_others(s);
#endif
    free(s);
    return 0;
}
