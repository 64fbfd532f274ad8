/* cli_unit: the tvkit command's pure parts: date, interval, symbol, number and choice parsers,
 * time formatting, the bar output formats and the exit-status mapping; the global options; the
 * streaming output on a closed pipe and on a signal. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli.h"
#include "interrupt.h"
#include "output.h"
#include "parse.h"

static int64_t date_ok(const char *s)
{
    int64_t t = -1;
    char err[256] = "";
    int rc = cli_parse_date(s, &t, err, sizeof err);
    if (rc != 0) fail_msg("'%s' rejected: %s", s, err);
    return t;
}

static void date_bad(const char *s, const char *needle)
{
    int64_t t = 12345;
    char err[256] = "";
    assert_int_equal(cli_parse_date(s, &t, err, sizeof err), -1);
    assert_int_equal(t, 12345);
    if (!strstr(err, needle)) fail_msg("'%s': message '%s' lacks '%s'", s, err, needle);
}

/* timegm is the independent reference for the civil-date arithmetic. */
static int64_t ref(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return (int64_t)timegm(&tm);
}

static void test_date_forms(void **st)
{
    (void)st;
    assert_int_equal(date_ok("2024-01-02"), ref(2024, 1, 2, 0, 0, 0));
    assert_int_equal(date_ok("2024-01-02T14:30"), ref(2024, 1, 2, 14, 30, 0));
    assert_int_equal(date_ok("2024-01-02T14:30Z"), ref(2024, 1, 2, 14, 30, 0));
    assert_int_equal(date_ok("2024-01-02T14:30:59"), ref(2024, 1, 2, 14, 30, 59));
    assert_int_equal(date_ok("2024-01-02T14:30:59Z"), ref(2024, 1, 2, 14, 30, 59));
    assert_int_equal(date_ok("2024-01-02 14:30:59"), ref(2024, 1, 2, 14, 30, 59));
    assert_int_equal(date_ok("2024-02-29"), ref(2024, 2, 29, 0, 0, 0));
    assert_int_equal(date_ok("2000-02-29"), ref(2000, 2, 29, 0, 0, 0));
    assert_int_equal(date_ok("1970-01-01"), 0);
    assert_int_equal(date_ok("9999-12-31T23:59:59Z"), CLI_DATE_MAX);
    assert_int_equal(date_ok("0"), 0);
    assert_int_equal(date_ok("1700000000"), 1700000000);
    assert_int_equal(date_ok("253402300799"), CLI_DATE_MAX);
    assert_int_equal(date_ok("0000000000000000000001700000000"), 1700000000);
    assert_int_equal(date_ok("000"), 0);
}

static void test_date_every_day(void **st)
{
    (void)st;
    /* Every day from 1970 to 2100 round-trips against timegm. */
    for (int64_t t = 0; t < ref(2101, 1, 1, 0, 0, 0); t += 86400) {
        char s[40];
        cli_format_time(t, 'T', s, sizeof s);
        assert_int_equal(date_ok(s), t);
        s[10] = '\0';
        assert_int_equal(date_ok(s), t);
    }
}

static void test_date_bad(void **st)
{
    (void)st;
    date_bad("", "empty");
    date_bad("yesterday", "expected YYYY-MM-DD");
    date_bad("2024-1-2", "expected YYYY-MM-DD");
    date_bad("2024/01/02", "expected YYYY-MM-DD");
    date_bad("2024-13-01", "month");
    date_bad("2024-00-10", "month");
    date_bad("2023-02-29", "no such day");
    date_bad("2100-02-29", "no such day");
    date_bad("2024-04-31", "no such day");
    date_bad("2024-01-00", "no such day");
    date_bad("2024-01-02T24:00", "time must be");
    date_bad("2024-01-02T12:60", "time must be");
    date_bad("2024-01-02T12:00:60", "time must be");
    date_bad("2024-01-02T12", "invalid time");
    date_bad("2024-01-02T12:3", "invalid time");
    date_bad("2024-01-02T12:30:5", "invalid seconds");
    date_bad("2024-01-02T12:30+02:00", "unexpected text");
    date_bad("2024-01-02Z", "unexpected text");
    date_bad("2024-01-02x", "unexpected text");
    date_bad("1969-12-31", "before 1970");
    date_bad("253402300800", "after 9999");
    date_bad("99999999999999999999999", "after 9999");
    date_bad("0000000253402300800", "after 9999");
    date_bad("-5", "expected");
    date_bad("17e8", "expected");
    /* Non-printable input is shown safely. */
    char bin[] = "\x01\xff\n2024";
    int64_t t;
    char err[256];
    assert_int_equal(cli_parse_date(bin, &t, err, sizeof err), -1);
    for (const char *p = err; *p; p++)
        assert_true(*p >= 0x20 && *p < 0x7f);
    /* A tiny error buffer is cut, not overrun. */
    char small[8];
    memset(small, 'x', sizeof small);
    assert_int_equal(cli_parse_date("nope", &t, small, sizeof small), -1);
    assert_int_equal(small[7], '\0');
}

static void test_format_time(void **st)
{
    (void)st;
    char s[40];
    assert_int_equal(cli_format_time(0, 'T', s, sizeof s), 20);
    assert_string_equal(s, "1970-01-01T00:00:00Z");
    cli_format_time(1704205800, 'T', s, sizeof s);
    assert_string_equal(s, "2024-01-02T14:30:00Z");
    cli_format_time(1704205800, ' ', s, sizeof s);
    assert_string_equal(s, "2024-01-02 14:30:00");
    cli_format_time(-1, 'T', s, sizeof s);
    assert_string_equal(s, "1969-12-31T23:59:59Z");
    cli_format_time(INT64_MAX, 'T', s, sizeof s);
    assert_string_equal(s, "9223372036854775807");
    cli_format_time(INT64_MIN, 'T', s, sizeof s);
    assert_string_equal(s, "-9223372036854775808");
    /* Random times against gmtime_r. */
    srand(7);
    for (int i = 0; i < 20000; i++) {
        int64_t t = ((int64_t)rand() << 16 ^ rand()) % CLI_DATE_MAX;
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        char want[64];
        strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm);
        cli_format_time(t, 'T', s, sizeof s);
        assert_string_equal(s, want);
    }
}

static void test_interval_symbol(void **st)
{
    (void)st;
    char out[32], err[256];
    assert_int_equal(cli_parse_interval("4H", out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "240");
    assert_int_equal(cli_parse_interval("D", out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "1D");
    assert_int_equal(cli_parse_interval("1441", out, sizeof out, err, sizeof err), -1);
    assert_non_null(strstr(err, "1441"));
    assert_int_equal(cli_parse_interval("", out, sizeof out, err, sizeof err), -1);
    assert_int_equal(cli_parse_interval("1d", out, sizeof out, err, sizeof err), -1);
    assert_int_equal(cli_parse_symbol("NASDAQ:AAPL", err, sizeof err), 0);
    assert_int_equal(cli_parse_symbol("CME_MINI:NQ1!", err, sizeof err), 0);
    assert_int_equal(cli_parse_symbol("AAPL", err, sizeof err), -1);
    assert_non_null(strstr(err, "AAPL"));
    assert_int_equal(cli_parse_symbol("NASDAQ:", err, sizeof err), -1);
    assert_int_equal(cli_parse_symbol("NAS DAQ:X", err, sizeof err), -1);
}

static void test_numbers(void **st)
{
    (void)st;
    int64_t v = 0;
    char err[256];
    assert_int_equal(cli_parse_int("20000", "-n", 1, 100000, &v, err, sizeof err), 0);
    assert_int_equal(v, 20000);
    assert_int_equal(cli_parse_int("0", "-n", 1, 10, &v, err, sizeof err), -1);
    assert_non_null(strstr(err, "out of range"));
    assert_int_equal(cli_parse_int("11", "-n", 1, 10, &v, err, sizeof err), -1);
    assert_int_equal(cli_parse_int("99999999999999999999999999", "-n", 1, 10, &v, err, sizeof err),
                     -1);
    assert_int_equal(cli_parse_int("-1", "-n", 1, 10, &v, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a whole number"));
    assert_int_equal(cli_parse_int("1x", "-n", 1, 10, &v, err, sizeof err), -1);
    assert_int_equal(cli_parse_int("", "-n", 1, 10, &v, err, sizeof err), -1);

    assert_int_equal(cli_parse_seconds("30", "--timeout", 0, 100, &v, err, sizeof err), 0);
    assert_int_equal(v, 30000);
    assert_int_equal(cli_parse_seconds("2.5", "--timeout", 0, 100, &v, err, sizeof err), 0);
    assert_int_equal(v, 2500);
    assert_int_equal(cli_parse_seconds(".25", "--timeout", 0, 100, &v, err, sizeof err), 0);
    assert_int_equal(v, 250);
    assert_int_equal(cli_parse_seconds("0.0001", "--timeout", 0, 100, &v, err, sizeof err), 0);
    assert_int_equal(v, 1); /* rounded up, never 0 */
    assert_int_equal(cli_parse_seconds("0", "--timeout", 0, 100, &v, err, sizeof err), -1);
    assert_int_equal(cli_parse_seconds("0", "--duration", 1, 100, &v, err, sizeof err), 0);
    assert_int_equal(v, 0);
    assert_int_equal(cli_parse_seconds("101", "--timeout", 0, 100, &v, err, sizeof err), -1);
    assert_int_equal(cli_parse_seconds("100.001", "--timeout", 0, 100, &v, err, sizeof err), -1);
    assert_int_equal(cli_parse_seconds("100", "--timeout", 0, 100, &v, err, sizeof err), 0);
    assert_int_equal(
        cli_parse_seconds("99999999999999999999999", "--timeout", 0, 100, &v, err, sizeof err), -1);
    assert_int_equal(cli_parse_seconds(".", "--timeout", 0, 100, &v, err, sizeof err), -1);
    assert_int_equal(cli_parse_seconds("1s", "--timeout", 0, 100, &v, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a number of seconds"));
    assert_int_equal(cli_parse_seconds("-1", "--timeout", 0, 100, &v, err, sizeof err), -1);

    assert_int_equal(cli_parse_currency("USD", err, sizeof err), 0);
    assert_int_equal(cli_parse_currency("USDT", err, sizeof err), 0);
    assert_int_equal(cli_parse_currency("usd", err, sizeof err), -1);
    assert_int_equal(cli_parse_currency("U", err, sizeof err), -1);
    assert_int_equal(cli_parse_currency("U\"SD", err, sizeof err), -1);

    static const char *const words[] = {"csv", "jsonl", "table", NULL};
    assert_int_equal(cli_parse_choice("jsonl", "--format", words, err, sizeof err), 1);
    assert_int_equal(cli_parse_choice("xml", "--format", words, err, sizeof err), -1);
    assert_string_equal(err, "--format: 'xml' is not one of csv, jsonl, table");
}

static void test_exit_status(void **st)
{
    (void)st;
    assert_int_equal(cli_exit_status(0), 0);
    assert_int_equal(cli_exit_status(TVK_EINVAL), 2);
    assert_int_equal(cli_exit_status(TVK_EURL), 2);
    const int net[] = {TVK_EDNS,      TVK_ECONNECT,   TVK_ETLS,     TVK_ETLS_VERIFY, TVK_EHANDSHAKE,
                       TVK_EHTTP_403, TVK_EHTTP_429,  TVK_EHTTP,    TVK_EPROXY,      TVK_ECLOSED,
                       TVK_EIO,       TVK_ECONN_LOST, TVK_EINFLATE, TVK_EACCEPT_KEY};
    for (size_t i = 0; i < sizeof net / sizeof *net; i++)
        assert_int_equal(cli_exit_status(net[i]), 3);
    const int rej[] = {TVK_ESYMBOL,   TVK_EINTERVAL, TVK_EAUTH, TVK_ECRITICAL,
                       TVK_EPROTOCOL, TVK_ESERIES,   TVK_ESTUDY};
    for (size_t i = 0; i < sizeof rej / sizeof *rej; i++)
        assert_int_equal(cli_exit_status(rej[i]), 4);
    assert_int_equal(cli_exit_status(TVK_ETIMEDOUT), 5);
    assert_int_equal(cli_exit_status(TVK_EPING_TIMEOUT), 5);
    assert_int_equal(cli_exit_status(TVK_ENODATA), 1);
    assert_int_equal(cli_exit_status(TVK_ENOMEM), 1);
    /* Every code maps to one of the documented statuses. */
    for (int e = -200; e <= 0; e++) {
        int s = cli_exit_status(e);
        assert_true(s >= 0 && s <= 5);
        assert_true(e == 0 || s != 0);
    }
}

/* Writes bars to a temporary file with cli_write_bars and returns its content (caller frees). */
static char *render(cli_fmt fmt, int epoch, int first, const char *sym, const tvk_ohlcv *v,
                    size_t n)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(cli_write_bars(f, fmt, epoch, first, sym, v, n), 0);
    long len = ftell(f);
    rewind(f);
    char *s = calloc(1, (size_t)len + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    return s;
}

static void test_output_formats(void **st)
{
    (void)st;
    const tvk_ohlcv bars[2] = {
        {1704205800, 189.5, 190.25, 188.0, 189.75, 1234567},
        {1704292200, 0.1, 0.30000000000000004, 1e-7, 12345678.9, NAN},
    };
    char *s = render(CLI_FMT_CSV, 0, 1, "SP:SPX", bars, 2);
    assert_string_equal(s, "symbol,time,open,high,low,close,volume\n"
                           "SP:SPX,2024-01-02T14:30:00Z,189.5,190.25,188,189.75,1234567\n"
                           "SP:SPX,2024-01-03T14:30:00Z,0.1,0.30000000000000004,1e-07,"
                           "12345678.9,\n");
    free(s);
    s = render(CLI_FMT_CSV, 1, 0, "SP:SPX", bars, 1);
    assert_string_equal(s, "SP:SPX,1704205800,189.5,190.25,188,189.75,1234567\n");
    free(s);
    s = render(CLI_FMT_JSONL, 0, 1, "SP:SPX", bars, 2);
    assert_string_equal(s,
                        "{\"symbol\":\"SP:SPX\",\"time\":\"2024-01-02T14:30:00Z\",\"open\":189.5,"
                        "\"high\":190.25,\"low\":188,\"close\":189.75,\"volume\":1234567}\n"
                        "{\"symbol\":\"SP:SPX\",\"time\":\"2024-01-03T14:30:00Z\",\"open\":0.1,"
                        "\"high\":0.30000000000000004,\"low\":1e-07,\"close\":12345678.9,"
                        "\"volume\":null}\n");
    free(s);
    s = render(CLI_FMT_JSONL, 1, 1, "SP:SPX", bars, 1);
    assert_non_null(strstr(s, "\"time\":1704205800,"));
    free(s);
    s = render(CLI_FMT_TABLE, 0, 1, "SP:SPX", bars, 2);
    /* Text columns left-aligned, numbers right-aligned, a missing volume blank (and the line
     * not padded after it). */
    assert_string_equal(s, "symbol  time                  open                 high    low       "
                           "close   volume\n"
                           "SP:SPX  2024-01-02 14:30:00  189.5               190.25    188      "
                           "189.75  1234567\n"
                           "SP:SPX  2024-01-03 14:30:00    0.1  0.30000000000000004  1e-07  "
                           "12345678.9\n");
    free(s);
    /* A later table block is separated by a blank line; an empty block has just its header. */
    s = render(CLI_FMT_TABLE, 0, 0, "NYSE:IBM", bars, 0);
    assert_string_equal(s, "\nsymbol    time  open  high  low  close  volume\n");
    free(s);
    s = render(CLI_FMT_CSV, 0, 0, "NYSE:IBM", bars, 0);
    assert_string_equal(s, "");
    free(s);
}

static void test_bar_event(void **st)
{
    (void)st;
    tvk_buf b;
    tvk_buf_init(&b);
    const tvk_ohlcv bar = {60, 1, 2, 0.5, 1.5, NAN};
    assert_int_equal(cli_bar_event_json(&b, "bar_close", "SP:SPX", &bar, 1), 0);
    assert_string_equal(b.data,
                        "{\"event\":\"bar_close\",\"symbol\":\"SP:SPX\",\"time\":60,"
                        "\"open\":1,\"high\":2,\"low\":0.5,\"close\":1.5,\"volume\":null}\n");
    tvk_buf_reset(&b);
    assert_int_equal(cli_bar_event_json(&b, "bar_update", "X:Y", &bar, 0), 0);
    assert_non_null(strstr(b.data, "\"time\":\"1970-01-01T00:01:00Z\","));
    tvk_buf_free(&b);
}

/* One global option from a command line: cli_global_option's result. */
static int global_opt(cli_ctx *g, const char *a, const char *b)
{
    char *argv[] = {(char *)"tvkit", (char *)a, (char *)b, NULL};
    int i = 1;
    return cli_global_option(g, b ? 3 : 2, argv, &i);
}

static void test_silence_option(void **st)
{
    (void)st;
    cli_ctx g;
    cli_ctx_init(&g);
    assert_true(g.silence_ms < 0); /* the library's default */
    assert_int_equal(global_opt(&g, "--silence-timeout", "2.5"), 1);
    assert_int_equal(g.silence_ms, 2500);
    assert_int_equal(global_opt(&g, "--silence-timeout=0", NULL), 1);
    assert_int_equal(g.silence_ms, 0); /* off */
    assert_int_equal(global_opt(&g, "--silence-timeout", "soon"), CLI_EXIT_USAGE);
    assert_int_equal(global_opt(&g, "--silence-timeout", "-1"), CLI_EXIT_USAGE);
    assert_int_equal(global_opt(&g, "--silence-timeout", NULL), CLI_EXIT_USAGE);
    assert_int_equal(g.silence_ms, 0);
}

/* stdout replaced by the write end of a pipe for one check; restore_stdout puts it back. */
static int redirect_stdout(int *saved, int *rd)
{
    int p[2];
    fflush(stdout);
    if (pipe(p) != 0) return -1;
    *saved = dup(STDOUT_FILENO);
    dup2(p[1], STDOUT_FILENO);
    close(p[1]);
    *rd = p[0];
    return 0;
}

static void restore_stdout(int saved)
{
    fflush(stdout);
    clearerr(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
}

/* The reader of stdout went away: the lines cannot go out, and that ends the stream quietly
 * with 141 (SIGPIPE ignored, as cli_interrupt_arm does). */
static void test_closed_stdout(void **st)
{
    (void)st;
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    int saved = -1, rd = -1; /* set by redirect_stdout (-O3 cannot see it) */
    assert_int_equal(redirect_stdout(&saved, &rd), 0);
    close(rd);
    tvk_buf pend;
    tvk_buf_init(&pend);
    assert_int_equal(tvk_buf_puts(&pend, "{\"symbol\":\"X:Y\"}\n"), 0);
    int st1 = cli_out_write(&pend, "quotes");
    assert_int_equal(pend.len, 0);
    restore_stdout(saved);
    signal(SIGPIPE, old);
    tvk_buf_free(&pend);
    assert_int_equal(st1, CLI_EXIT_SIGPIPE);
}

/* A signal during a stream: the lines held in the output buffer are written out whole before
 * the command ends with 128 + the signal, and the wake-up fd is readable. Last test: the
 * handler's state is process-wide and stays set. */
static void test_interrupt(void **st)
{
    (void)st;
    cli_interrupt_init();
    assert_int_equal(cli_interrupt_fd(), -1); /* not armed: default actions */
    cli_interrupt_arm();
    int fd = cli_interrupt_fd();
    assert_true(fd >= 0);
    assert_int_equal(cli_interrupted(), 0);
    assert_int_equal(raise(SIGINT), 0);
    assert_int_equal(cli_interrupted(), SIGINT);
    struct pollfd p = {fd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 0), 1);

    /* the handle is never connected: an interrupt is noticed before it is used */
    tvk_conn *c = tvk_conn_new("ws://127.0.0.1:1/");
    assert_non_null(c);
    tvk_buf pend;
    tvk_buf_init(&pend);
    /* ~45 KB: less than a pipe holds, so the write does not wait for the read below */
    for (int i = 0; i < 1000; i++)
        assert_int_equal(tvk_buf_puts(&pend, "{\"event\":\"bar_update\",\"symbol\":\"X:Y\"}\n"), 0);
    size_t want = pend.len;
    int saved = -1, rd = -1;
    assert_int_equal(redirect_stdout(&saved, &rd), 0);
    tvk_event ev;
    int status = 0;
    int rc = cli_next_event(c, &ev, -1, &pend, &status, "stream");
    restore_stdout(saved);
    char *got = malloc(want + 1);
    assert_non_null(got);
    size_t n = 0;
    ssize_t k;
    while (n < want && (k = read(rd, got + n, want + 1 - n)) > 0)
        n += (size_t)k;
    close(rd);
    assert_int_equal(rc, 0);
    assert_int_equal(status, 128 + SIGINT);
    assert_int_equal(pend.len, 0);
    assert_int_equal(n, want);
    assert_true(got[n - 1] == '\n');
    free(got);
    tvk_buf_free(&pend);
    tvk_conn_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_date_forms),      cmocka_unit_test(test_date_every_day),
        cmocka_unit_test(test_date_bad),        cmocka_unit_test(test_format_time),
        cmocka_unit_test(test_interval_symbol), cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_exit_status),     cmocka_unit_test(test_output_formats),
        cmocka_unit_test(test_bar_event),       cmocka_unit_test(test_silence_option),
        cmocka_unit_test(test_closed_stdout),   cmocka_unit_test(test_interrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
