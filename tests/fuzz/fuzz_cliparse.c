/* Fuzz target "cliparse": what a user types on the command line. The input (cut at its first
 * NUL) goes through the interval and symbol validators (tvk_interval_normalize,
 * tvk_interval_seconds, tvk_symbol_validate) and is checked against an independent reading of
 * their documented grammar; error messages go into small exact-size buffers so that any
 * overflow shows. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tvkit/conn.h"

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
        /* digits, then at most one of S D W M */
        size_t n = strlen(out), d = strspn(out, "0123456789");
        FUZZ_CHECK(d >= 1 && n - d <= 1 && (d == n || strchr("SDWM", out[d])));
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    check_interval(s);
    check_symbol(s);
    free(s);
    return 0;
}
