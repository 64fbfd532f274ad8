/* Interval and symbol validation: everything a user types is checked before anything is sent,
 * with a message that says what is accepted (the server's own answers are far less helpful:
 * critical_error "invalid parameters" or a silent series_error). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

#define TVK_INTERVAL_HELP                                                                          \
    "accepted: minutes 1-1440 (\"1\", \"5\", \"60\"), seconds 1S-60S, hours 1H-168H (sent as "     \
    "minutes up to 24H), days 1D-365D or D, weeks 1W-52W or W, months 1M-12M or M "                \
    "(case-sensitive)"

static int interval_fail(const char *in, const char *why, char *err, size_t errcap)
{
    if (err && errcap)
        snprintf(err, errcap, "invalid interval \"%.32s\": %s; %s", in ? in : "(null)", why,
                 TVK_INTERVAL_HELP);
    return TVK_EINTERVAL;
}

int tvk_interval_normalize(const char *in, char *out, size_t cap, char *err, size_t errcap)
{
    if (!in || !*in) return interval_fail(in, "empty", err, errcap);
    size_t len = strlen(in);
    if (len > 8) return interval_fail(in, "too long", err, errcap);

    size_t nd = 0;
    long v = 0;
    while (nd < len && in[nd] >= '0' && in[nd] <= '9') {
        v = v * 10 + (in[nd] - '0');
        nd++;
    }
    const char *suffix = in + nd;
    if (strlen(suffix) > 1) return interval_fail(in, "unknown unit", err, errcap);
    char unit = *suffix;
    if (nd == 0) {
        if (unit == 'D' || unit == 'W' || unit == 'M')
            v = 1;
        else if (unit == 'S' || unit == 'H')
            return interval_fail(in, "seconds and hours need a count", err, errcap);
        else
            return interval_fail(in, "unknown unit", err, errcap);
    }
    long lo = 1, hi;
    switch (unit) {
    case '\0':
        hi = 1440;
        break;
    case 'S':
        hi = 60;
        break;
    case 'H':
        hi = 168;
        break;
    case 'D':
        hi = 365;
        break;
    case 'W':
        hi = 52;
        break;
    case 'M':
        hi = 12;
        break;
    default:
        return interval_fail(in, "unknown unit", err, errcap);
    }
    if (v < lo || v > hi) return interval_fail(in, "count out of range", err, errcap);

    char tmp[32];
    if (unit == '\0')
        snprintf(tmp, sizeof tmp, "%ld", v);
    else if (unit == 'H' && v <= 24)
        snprintf(tmp, sizeof tmp, "%ld", v * 60);
    else
        snprintf(tmp, sizeof tmp, "%ld%c", v, unit);
    if (!out) return 0;
    if (strlen(tmp) + 1 > cap) {
        if (err && errcap) snprintf(err, errcap, "interval output buffer too small");
        return TVK_EBUFSIZE;
    }
    memcpy(out, tmp, strlen(tmp) + 1);
    return 0;
}

int64_t tvk_interval_seconds(const char *norm)
{
    char tmp[16], hours[24];
    /* Hours are normalised to minutes ("25H" -> "1500"), past the 1440 bare minutes a user
     * may type: read such a value by its hour form. */
    if (norm && norm[0] && strspn(norm, "0123456789") == strlen(norm) && strlen(norm) <= 5) {
        long m = strtol(norm, NULL, 10);
        if (m > 1440 && m % 60 == 0) {
            snprintf(hours, sizeof hours, "%ldH", m / 60);
            norm = hours;
        }
    }
    int rc = tvk_interval_normalize(norm, tmp, sizeof tmp, NULL, 0);
    if (rc < 0) return rc;
    int64_t v = 0;
    const char *p = tmp;
    while (*p >= '0' && *p <= '9')
        v = v * 10 + (*p++ - '0');
    switch (*p) {
    case '\0':
        return v * 60;
    case 'H':
        return v * 3600;
    case 'S':
        return v;
    case 'D':
        return v * 86400;
    case 'W':
        return v * 7 * 86400;
    case 'M':
        return v * 30 * 86400;
    }
    return TVK_EINTERVAL;
}

#define TVK_SYMBOL_HELP                                                                            \
    "expected EXCHANGE:SYMBOL, e.g. NASDAQ:AAPL, BINANCE:BTCUSDT, CME_MINI:NQ1! (exchange: "       \
    "letters, digits, '_'; symbol: letters, digits and . _ ! - / &; at most 64 characters)"

static int symbol_fail(const char *in, const char *why, char *err, size_t errcap)
{
    if (err && errcap)
        snprintf(err, errcap, "invalid symbol \"%.80s\": %s; %s", in ? in : "(null)", why,
                 TVK_SYMBOL_HELP);
    return TVK_ESYMBOL;
}

static int is_alnum(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

int tvk_symbol_validate(const char *s, char *err, size_t errcap)
{
    if (!s || !*s) return symbol_fail(s, "empty", err, errcap);
    size_t len = strlen(s);
    if (len > 64) return symbol_fail(s, "too long", err, errcap);
    const char *colon = strchr(s, ':');
    if (!colon) return symbol_fail(s, "no ':' between exchange and symbol", err, errcap);
    if (colon == s) return symbol_fail(s, "empty exchange", err, errcap);
    if (!colon[1]) return symbol_fail(s, "empty symbol", err, errcap);
    for (const char *p = s; p < colon; p++)
        if (!is_alnum(*p) && *p != '_')
            return symbol_fail(s, "bad character in the exchange", err, errcap);
    for (const char *p = colon + 1; *p; p++) {
        if (*p == ':') return symbol_fail(s, "more than one ':'", err, errcap);
        if (!is_alnum(*p) && !strchr("._!-/&", *p))
            return symbol_fail(s, "bad character in the symbol", err, errcap);
    }
    return 0;
}
