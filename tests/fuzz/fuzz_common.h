/* Helpers shared by the wire fuzz targets: the JSON number grammar (an independent statement of
 * RFC 8259 section 6) and the comparison of tvk_parse_double with strtod. */
#ifndef TVK_FUZZ_COMMON_H
#define TVK_FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tvkit/wire.h"

#include "fuzz_check.h"

static inline int fz_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* 1 when [s, s+n) is a JSON number. */
static inline int fz_json_number(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-') i++;
    if (i == n) return 0;
    if (s[i] == '0') {
        i++;
    } else if (s[i] >= '1' && s[i] <= '9') {
        while (i < n && fz_digit(s[i]))
            i++;
    } else {
        return 0;
    }
    if (i < n && s[i] == '.') {
        if (++i == n || !fz_digit(s[i])) return 0;
        while (i < n && fz_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (i == n || !fz_digit(s[i])) return 0;
        while (i < n && fz_digit(s[i]))
            i++;
    }
    return i == n;
}

/* tvk_parse_double accepts exactly the JSON number grammar, and what it accepts gives the same
 * bits as strtod (the process runs in the C locale: nothing calls setlocale). */
static inline void fz_check_number(const char *s, size_t n)
{
    double v = 0;
    int rc = tvk_parse_double(s, n, &v);
    if (rc == TVK_ENOMEM) return;
    FUZZ_CHECK((rc == 0) == fz_json_number(s, n));
    if (rc != 0) {
        FUZZ_CHECK(rc == TVK_ENUMBER);
        return;
    }
    char *copy = malloc(n + 1);
    if (!copy) return;
    memcpy(copy, s, n);
    copy[n] = '\0';
    char *end;
    double ref = strtod(copy, &end);
    FUZZ_CHECK(end == copy + n);
    FUZZ_CHECK(memcmp(&v, &ref, sizeof v) == 0);
    free(copy);
}

#endif
