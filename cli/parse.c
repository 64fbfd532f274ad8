/* Pure command-line parsers (see parse.h). Messages quote the input through show(), which cuts
 * it and replaces non-printable bytes, so that any bytes give a readable one-line error. */
#include "parse.h"

#include <stdio.h>
#include <string.h>

#include "tvkit/conn.h"

/* A printable, bounded copy of user input for error messages. */
static const char *show(const char *s, char *buf, size_t cap)
{
    size_t n = 0;
    for (; *s && n + 4 < cap; s++)
        buf[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    if (*s && n + 4 >= cap) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

static int fail(char *err, size_t errcap, const char *fmt, const char *a, const char *b)
{
    if (err && errcap) snprintf(err, errcap, fmt, a, b);
    return -1;
}

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

static unsigned num(const char *s, size_t n)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (unsigned)(s[i] - '0');
    return v;
}

/* Howard Hinnant's days_from_civil, restated for int64_t. */
int64_t cli_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void cli_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return dm[m - 1];
}

#define DATE_FORMS "YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z] (UTC) or Unix seconds"

int cli_parse_date(const char *s, int64_t *out, char *err, size_t errcap)
{
    char sb[64];
    size_t n = strlen(s);
    if (n == 0) return fail(err, errcap, "empty date: expected %s%s", DATE_FORMS, "");
    if (digits(s, n)) {
        /* 13 significant digits exceed CLI_DATE_MAX; checking the length first keeps the sum
         * in range. Leading zeros are not significant ("0000000000001" is 1). */
        size_t z = 0;
        while (z + 1 < n && s[z] == '0')
            z++;
        if (n - z > 12) goto too_late;
        int64_t v = 0;
        for (size_t i = z; i < n; i++)
            v = v * 10 + (s[i] - '0');
        if (v > CLI_DATE_MAX) goto too_late;
        *out = v;
        return 0;
    }
    /* YYYY-MM-DD, then optionally [T ]HH:MM, :SS, Z */
    if (n < 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
        !digits(s + 8, 2))
        return fail(err, errcap, "invalid date '%s': expected %s", show(s, sb, sizeof sb),
                    DATE_FORMS);
    unsigned y = num(s, 4), mo = num(s + 5, 2), d = num(s + 8, 2), h = 0, mi = 0, sec = 0;
    const char *p = s + 10;
    if (*p == 'T' || *p == ' ') {
        if (!digits(p + 1, 2) || p[3] != ':' || !digits(p + 4, 2))
            return fail(err, errcap, "invalid time in date '%s': expected %s",
                        show(s, sb, sizeof sb), DATE_FORMS);
        h = num(p + 1, 2);
        mi = num(p + 4, 2);
        p += 6;
        if (*p == ':') {
            if (!digits(p + 1, 2))
                return fail(err, errcap, "invalid seconds in date '%s': expected %s",
                            show(s, sb, sizeof sb), DATE_FORMS);
            sec = num(p + 1, 2);
            p += 3;
        }
        if (*p == 'Z') p++;
    }
    if (*p)
        return fail(err, errcap, "invalid date '%s': unexpected text after the date; expected %s",
                    show(s, sb, sizeof sb), DATE_FORMS);
    if (y < 1970)
        return fail(err, errcap, "date '%s' is before 1970%s", show(s, sb, sizeof sb), "");
    if (mo < 1 || mo > 12)
        return fail(err, errcap, "date '%s': month must be 01-12%s", show(s, sb, sizeof sb), "");
    if (d < 1 || d > days_in_month(y, mo))
        return fail(err, errcap, "date '%s': no such day in that month%s", show(s, sb, sizeof sb),
                    "");
    if (h > 23 || mi > 59 || sec > 59)
        return fail(err, errcap, "date '%s': time must be 00:00:00-23:59:59%s",
                    show(s, sb, sizeof sb), "");
    *out = cli_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    return 0;
too_late:
    return fail(err, errcap, "date '%s' is after 9999-12-31 (as Unix seconds: %s)",
                show(s, sb, sizeof sb), "at most 253402300799");
}

int cli_parse_interval(const char *s, char *out, size_t cap, char *err, size_t errcap)
{
    return tvk_interval_normalize(s, out, cap, err, errcap) < 0 ? -1 : 0;
}

int cli_parse_symbol(const char *s, char *err, size_t errcap)
{
    return tvk_symbol_validate(s, err, errcap) < 0 ? -1 : 0;
}

int cli_parse_int(const char *s, const char *what, int64_t min, int64_t max, int64_t *out,
                  char *err, size_t errcap)
{
    char sb[64], range[64];
    size_t n = strlen(s);
    snprintf(range, sizeof range, "a whole number from %lld to %lld", (long long)min,
             (long long)max);
    if (n == 0 || !digits(s, n)) {
        if (err && errcap)
            snprintf(err, errcap, "%s: '%s' is not %s", what, show(s, sb, sizeof sb), range);
        return -1;
    }
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (v > (INT64_MAX - 9) / 10) {
            v = INT64_MAX;
            break;
        }
        v = v * 10 + (s[i] - '0');
    }
    if (v < min || v > max) {
        if (err && errcap)
            snprintf(err, errcap, "%s: %s is out of range: expected %s", what,
                     show(s, sb, sizeof sb), range);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_seconds(const char *s, const char *what, int allow_zero, int64_t max_s,
                      int64_t *out_ms, char *err, size_t errcap)
{
    char sb[64];
    const char *p = s;
    int64_t whole = 0, frac_ms = 0;
    int nd = 0, nf = 0, frac_rest = 0;
    for (; *p >= '0' && *p <= '9'; p++, nd++)
        if (whole <= max_s) whole = whole * 10 + (*p - '0');
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, nf++) {
            if (nf < 3)
                frac_ms = frac_ms * 10 + (*p - '0');
            else if (*p != '0')
                frac_rest = 1;
        }
    }
    if (*p || (nd == 0 && nf == 0)) {
        if (err && errcap)
            snprintf(err, errcap, "%s: '%s' is not a number of seconds (e.g. 30 or 2.5)", what,
                     show(s, sb, sizeof sb));
        return -1;
    }
    for (int i = nf; i < 3; i++)
        frac_ms *= 10;
    int64_t ms = whole * 1000 + frac_ms + frac_rest;
    if ((!allow_zero && ms == 0) || whole > max_s || ms > max_s * 1000) {
        if (err && errcap)
            snprintf(err, errcap, "%s: %s is out of range: expected %s0 to %lld seconds", what,
                     show(s, sb, sizeof sb), allow_zero ? "" : "more than ", (long long)max_s);
        return -1;
    }
    *out_ms = ms;
    return 0;
}

int cli_parse_currency(const char *s, char *err, size_t errcap)
{
    char sb[64];
    size_t n = strlen(s);
    int ok = n >= 2 && n <= 10;
    for (size_t i = 0; ok && i < n; i++)
        ok = (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9');
    if (ok) return 0;
    return fail(err, errcap, "invalid currency '%s': expected 2 to 10 of A-Z and 0-9 (e.g. USD)%s",
                show(s, sb, sizeof sb), "");
}

int cli_parse_choice(const char *s, const char *what, const char *const *words, char *err,
                     size_t errcap)
{
    char sb[64];
    for (int i = 0; words[i]; i++)
        if (!strcmp(s, words[i])) return i;
    if (err && errcap) {
        int n = snprintf(err, errcap, "%s: '%s' is not one of ", what, show(s, sb, sizeof sb));
        for (int i = 0; words[i] && n >= 0 && (size_t)n < errcap; i++)
            n += snprintf(err + n, errcap - (size_t)n, "%s%s", i ? ", " : "", words[i]);
    }
    return -1;
}

size_t cli_format_time(int64_t t, char sep, char *out, size_t cap)
{
    if (t < -CLI_DATE_MAX || t > CLI_DATE_MAX) {
        int n = snprintf(out, cap, "%lld", (long long)t);
        return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
    }
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t rem = t - days * 86400;
    int64_t y;
    unsigned m, d;
    cli_civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        int n = snprintf(out, cap, "%lld", (long long)t);
        return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
    }
    /* YYYY-MM-DD?HH:MM:SS[Z] written digit by digit: history output formats one per bar, and
     * snprintf was most of its CPU. */
    char tmp[24];
    unsigned v[6] = {(unsigned)y,         m, d, (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60),
                     (unsigned)(rem % 60)};
    static const char after[6] = {'-', '-', 0, ':', ':', 0};
    size_t o = 0;
    for (int k = 0; k < 6; k++) {
        if (k == 0) {
            tmp[o++] = (char)('0' + v[0] / 1000);
            tmp[o++] = (char)('0' + v[0] / 100 % 10);
        }
        tmp[o++] = (char)('0' + v[k] / 10 % 10);
        tmp[o++] = (char)('0' + v[k] % 10);
        if (k == 2)
            tmp[o++] = sep;
        else if (after[k])
            tmp[o++] = after[k];
    }
    if (sep == 'T') tmp[o++] = 'Z';
    if (cap == 0) return 0;
    if (o >= cap) o = cap - 1;
    memcpy(out, tmp, o);
    out[o] = '\0';
    return o;
}
