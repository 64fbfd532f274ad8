/* Bar output formats (see output.h). Lines are built in a tvk_buf and written whole. */
#include "output.h"

#include <math.h>
#include <string.h>

#include "parse.h"

int cli_put_num(tvk_buf *b, double v, const char *missing)
{
    if (!isfinite(v)) return tvk_buf_puts(b, missing);
    return tvk_buf_json_double(b, v);
}

int cli_put_time(tvk_buf *b, int64_t t, int epoch, int json)
{
    if (epoch) return tvk_buf_json_int(b, t);
    char ts[40];
    size_t n = cli_format_time(t, 'T', ts, sizeof ts);
    int rc = 0;
    if (json) rc = tvk_buf_puts(b, "\"");
    if (!rc) rc = tvk_buf_append(b, ts, n);
    if (!rc && json) rc = tvk_buf_puts(b, "\"");
    return rc;
}

/* ,"open":..,"volume":.. of a JSON line; null for no value. */
static int put_bar_fields(tvk_buf *b, const tvk_ohlcv *bar)
{
    const double vals[5] = {bar->open, bar->high, bar->low, bar->close, bar->volume};
    static const char *const keys[5] = {
        ",\"open\":", ",\"high\":", ",\"low\":", ",\"close\":", ",\"volume\":"};
    static const unsigned char klen[5] = {8, 8, 7, 9, 10};
    int rc = 0;
    for (int k = 0; k < 5 && !rc; k++) {
        rc = tvk_buf_append(b, keys[k], klen[k]);
        if (!rc) rc = cli_put_num(b, vals[k], "null");
    }
    return rc;
}

int cli_bar_event_json(tvk_buf *b, const char *event, const char *symbol, const tvk_ohlcv *bar,
                       int epoch)
{
    int rc = tvk_buf_puts(b, "{\"event\":");
    if (!rc) rc = tvk_buf_json_str(b, event, strlen(event));
    if (!rc) rc = tvk_buf_puts(b, ",\"symbol\":");
    if (!rc) rc = tvk_buf_json_str(b, symbol, strlen(symbol));
    if (!rc) rc = tvk_buf_puts(b, ",\"time\":");
    if (!rc) rc = cli_put_time(b, bar->time, epoch, 1);
    if (!rc) rc = put_bar_fields(b, bar);
    if (!rc) rc = tvk_buf_puts(b, "}\n");
    return rc;
}

static int flush_buf(FILE *f, tvk_buf *b)
{
    if (b->len && fwrite(b->data, 1, b->len, f) != b->len) return TVK_EIO;
    tvk_buf_reset(b);
    return 0;
}

/* Symbols are validated (printable ASCII, no comma or quote), so CSV needs no quoting. prefix is
 * "SYMBOL," (for CSV) or {"symbol":"SYMBOL","time": (for JSON lines), made once per symbol. */
static int csv_row(tvk_buf *b, const tvk_str *prefix, const tvk_ohlcv *bar, int epoch)
{
    /* Room for the longest row, then every part written in place (a download writes millions):
     * the buffer is flushed at 64 KiB, so after the first rows the room is there and the
     * reservation call is skipped. */
    size_t need = prefix->len + 40 + 5 * (TVK_FMT_MAX + 1) + 2;
    if (b->limit || b->cap - b->len <= need) {
        int rc = tvk_buf_reserve(b, need);
        if (rc) return rc;
    }
    char *o = b->data + b->len;
    memcpy(o, prefix->p, prefix->len);
    o += prefix->len;
    o += epoch ? tvk_fmt_int(bar->time, o) : cli_format_time(bar->time, 'T', o, 40);
    const double vals[5] = {bar->open, bar->high, bar->low, bar->close, bar->volume};
    for (int k = 0; k < 5; k++) {
        *o++ = ',';
        if (isfinite(vals[k])) o += tvk_fmt_double(vals[k], o); /* else empty */
    }
    *o++ = '\n';
    *o = '\0';
    b->len = (size_t)(o - b->data);
    return 0;
}

static int jsonl_row(tvk_buf *b, const tvk_str *prefix, const tvk_ohlcv *bar, int epoch)
{
    int rc = tvk_buf_append(b, prefix->p, prefix->len);
    if (!rc) rc = cli_put_time(b, bar->time, epoch, 1);
    if (!rc) rc = put_bar_fields(b, bar);
    if (!rc) rc = tvk_buf_append(b, "}\n", 2);
    return rc;
}

/* The table: cells are formatted into one buffer (NUL-separated), widths measured, then
 * written padded: text left-aligned, numbers right-aligned. */
static int table(FILE *f, int epoch, int first, const char *symbol, const tvk_ohlcv *v, size_t n)
{
    static const char *const head[7] = {"symbol", "time", "open", "high", "low", "close", "volume"};
    size_t w[7];
    for (int k = 0; k < 7; k++)
        w[k] = strlen(head[k]);
    tvk_buf cells;
    tvk_buf_init(&cells);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        char ts[40];
        size_t tl = epoch ? (size_t)snprintf(ts, sizeof ts, "%lld", (long long)v[i].time)
                          : cli_format_time(v[i].time, ' ', ts, sizeof ts);
        if (tl > w[1]) w[1] = tl;
        const double vals[5] = {v[i].open, v[i].high, v[i].low, v[i].close, v[i].volume};
        for (int k = 0; k < 5 && !rc; k++) {
            size_t start = cells.len;
            rc = cli_put_num(&cells, vals[k], "");
            if (!rc) rc = tvk_buf_append(&cells, "", 1);
            if (!rc && cells.len - start - 1 > w[k + 2]) w[k + 2] = cells.len - start - 1;
        }
    }
    size_t sl = strlen(symbol);
    if (sl > w[0]) w[0] = sl;
    tvk_buf line;
    tvk_buf_init(&line);
    if (!rc && !first) rc = tvk_buf_puts(&line, "\n");
    for (int k = 0; k < 7 && !rc; k++)
        rc = tvk_buf_printf(&line, k < 2 ? "%s%-*s" : "%s%*s", k ? "  " : "", (int)w[k], head[k]);
    if (!rc) rc = tvk_buf_puts(&line, "\n");
    const char *cell = cells.data;
    for (size_t i = 0; i < n && !rc; i++) {
        char ts[40];
        if (epoch)
            snprintf(ts, sizeof ts, "%lld", (long long)v[i].time);
        else
            cli_format_time(v[i].time, ' ', ts, sizeof ts);
        rc = tvk_buf_printf(&line, "%-*s  %-*s", (int)w[0], symbol, (int)w[1], ts);
        for (int k = 0; k < 5 && !rc; k++) {
            rc = tvk_buf_printf(&line, "  %*s", (int)w[k + 2], cell);
            cell += strlen(cell) + 1;
        }
        while (!rc && line.len && line.data[line.len - 1] == ' ') /* blank volume */
            line.len--;
        if (!rc) rc = tvk_buf_puts(&line, "\n");
        if (!rc && line.len > 65536) rc = flush_buf(f, &line);
    }
    if (!rc) rc = flush_buf(f, &line);
    tvk_buf_free(&line);
    tvk_buf_free(&cells);
    return rc;
}

int cli_write_bars(FILE *f, cli_fmt fmt, int epoch, int first, const char *symbol,
                   const tvk_ohlcv *v, size_t n)
{
    if (fmt == CLI_FMT_TABLE) return table(f, epoch, first, symbol, v, n);
    tvk_buf b, pre;
    tvk_buf_init(&b);
    tvk_buf_init(&pre);
    int rc = 0;
    if (fmt == CLI_FMT_CSV) {
        if (first) rc = tvk_buf_puts(&b, "symbol,time,open,high,low,close,volume\n");
        if (!rc) rc = tvk_buf_puts(&pre, symbol);
        if (!rc) rc = tvk_buf_puts(&pre, ",");
    } else {
        rc = tvk_buf_puts(&pre, "{\"symbol\":");
        if (!rc) rc = tvk_buf_json_str(&pre, symbol, strlen(symbol));
        if (!rc) rc = tvk_buf_puts(&pre, ",\"time\":");
    }
    tvk_str prefix = {pre.data, pre.len};
    for (size_t i = 0; i < n && !rc; i++) {
        rc = fmt == CLI_FMT_CSV ? csv_row(&b, &prefix, &v[i], epoch)
                                : jsonl_row(&b, &prefix, &v[i], epoch);
        if (!rc && b.len > 65536) rc = flush_buf(f, &b);
    }
    if (!rc) rc = flush_buf(f, &b);
    tvk_buf_free(&b);
    tvk_buf_free(&pre);
    return rc;
}
