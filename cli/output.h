/* Output of bars and events: CSV, JSON lines and an aligned table. Numbers are written as the
 * shortest text that reads back to the same double; a missing value (NaN, e.g. an index's
 * volume) is empty in CSV and the table, null in JSON. */
#ifndef TVK_CLI_OUTPUT_H
#define TVK_CLI_OUTPUT_H

#include <stdio.h>

#include "tvkit/tvkit.h"

typedef enum cli_fmt { CLI_FMT_AUTO = -1, CLI_FMT_CSV = 0, CLI_FMT_JSONL, CLI_FMT_TABLE } cli_fmt;

/* Appends a number (shortest round-trip text); NaN/inf append missing ("" or "null"). */
int cli_put_num(tvk_buf *b, double v, const char *missing);
/* Appends a time: ISO-8601 UTC ("2024-01-02T14:30:00Z"), or Unix seconds when epoch. */
int cli_put_time(tvk_buf *b, int64_t t, int epoch, int json);

/* Writes one symbol's bars. first = 1 for the first block of the output (CSV writes its header
 * once; the table writes a header per block and a blank line between blocks). 0, or a
 * TVK_E* code (ENOMEM, or TVK_EIO when the write failed). */
int cli_write_bars(FILE *f, cli_fmt fmt, int epoch, int first, const char *symbol,
                   const tvk_ohlcv *v, size_t n);

/* One bar event as a JSON line (with '\n'):
 * {"event":"bar_close","symbol":"NASDAQ:AAPL","time":...,"open":...,...,"volume":...} */
int cli_bar_event_json(tvk_buf *b, const char *event, const char *symbol, const tvk_ohlcv *bar,
                       int epoch);

#endif
