/* Decodes one TradingView WebSocket message given on the command line (or a built-in sample)
 * and prints each packet's type, session and, for bars, the OHLCV values.
 * Build against an installed tvkit:  cc decode_message.c $(pkg-config --cflags --libs tvkit) */
#include <stdio.h>
#include <string.h>

#include <tvkit/tvkit.h>

static const char sample[] =
    "~m~4~m~~h~7"
    "~m~147~m~{\"m\":\"timescale_update\",\"p\":[\"cs_abcdefghijkl\",{\"sds_1\":{\"s\":[{\"i\":0,"
    "\"v\":[1728013500.0,356.1,363.6,355.0,361.4,207578.0]}],\"t\":\"s1\"}},{\"index\":0}]}";

int main(int argc, char **argv)
{
    const char *text = argc > 1 ? argv[1] : sample;
    tvk_reader *r = tvk_reader_new(0);
    if (!r) return 1;
    int rc = tvk_reader_feed(r, text, strlen(text));
    tvk_msg m;
    while (rc == 0 && (rc = tvk_reader_next_msg(r, &m)) > 0) {
        printf("%s", tvk_msg_type_name(m.type));
        if (m.session.len) printf(" session=%.*s", (int)m.session.len, m.session.p);
        if (m.type == TVK_MSG_HEARTBEAT) printf(" k=%lld", (long long)m.heartbeat);
        printf("\n");
        tvk_series_update su;
        for (int i = 0; tvk_msg_series_at(&m, i, &su) == 0; i++) {
            tvk_bar b;
            while (tvk_bar_next(&su.bars, &b) > 0)
                printf("  %.*s i=%lld t=%.0f o=%g h=%g l=%g c=%g v=%g\n", (int)su.series_id.len,
                       su.series_id.p, (long long)b.index, b.time, b.open, b.high, b.low, b.close,
                       b.volume);
        }
        rc = 0;
    }
    if (rc < 0) fprintf(stderr, "error: %s: %s\n", tvk_strerror(rc), tvk_reader_errmsg(r));
    tvk_reader_free(r);
    return rc < 0;
}
