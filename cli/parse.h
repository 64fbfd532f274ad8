/* Pure parsers of the tvkit command line: no I/O, no clocks, no global state, so that unit tests
 * and the libFuzzer target (tests/fuzz) can call them on any bytes. Each returns 0, or -1 with a
 * message in err (NUL-terminated, cut to errcap) that names the input and says what is accepted.
 * s must be a NUL-terminated string; every function is safe on any content. */
#ifndef TVK_CLI_PARSE_H
#define TVK_CLI_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Largest accepted date: 9999-12-31T23:59:59Z. */
#define CLI_DATE_MAX INT64_C(253402300799)

/* A date as UTC Unix seconds. Accepted:
 *   YYYY-MM-DD                    (midnight UTC)
 *   YYYY-MM-DDTHH:MM[:SS][Z]      (UTC; 'T' may also be a space)
 *   digits                        Unix seconds
 * Years 1970-9999; the month, day (leap years included), hour, minute and second are checked. */
int cli_parse_date(const char *s, int64_t *out, char *err, size_t errcap);

/* An interval (tvk_interval_normalize's rules): writes the form sent to the server (cap >= 16). */
int cli_parse_interval(const char *s, char *out, size_t cap, char *err, size_t errcap);

/* A symbol "EXCHANGE:SYMBOL" (tvk_symbol_validate's rules). */
int cli_parse_symbol(const char *s, char *err, size_t errcap);

/* A whole number min..max (decimal digits only). what names the option in the message. */
int cli_parse_int(const char *s, const char *what, int64_t min, int64_t max, int64_t *out,
                  char *err, size_t errcap);

/* Seconds as a decimal number ("30", "2.5"), 0 < value <= max_s (zero allowed when allow_zero),
 * converted to milliseconds (rounded up so that a positive value is never 0 ms). */
int cli_parse_seconds(const char *s, const char *what, int allow_zero, int64_t max_s,
                      int64_t *out_ms, char *err, size_t errcap);

/* A currency id: 2 to 10 characters of A-Z and 0-9 ("USD", "EUR", "USDT"). */
int cli_parse_currency(const char *s, char *err, size_t errcap);

/* One of a NUL-terminated list of words: the index, or -1 with a message listing them. */
int cli_parse_choice(const char *s, const char *what, const char *const *words, char *err,
                     size_t errcap);

/* ---- time formatting (also pure) */

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t cli_days_from_civil(int64_t y, unsigned m, unsigned d);
void cli_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* "2024-01-02T14:30:00Z" (sep 'T') or "2024-01-02 14:30:00" (sep ' ', no Z) into out (cap >= 32).
 * Times outside years 0-9999 are written as Unix seconds. Returns the length. */
size_t cli_format_time(int64_t t, char sep, char *out, size_t cap);

#endif
