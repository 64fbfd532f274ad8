/* HTTP CONNECT proxy selection: the proxy option, else https_proxy / HTTPS_PROXY (wss) or
 * http_proxy (ws, lower case only, as curl does), minus no_proxy / NO_PROXY. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/internal.h"

/* no_proxy: comma or space separated host suffixes; "*" matches everything. */
static int no_proxy_match(const char *list, const char *host)
{
    size_t hl = strlen(host);
    const char *p = list;
    while (*p) {
        while (*p == ',' || *p == ' ')
            p++;
        const char *s = p;
        while (*p && *p != ',' && *p != ' ')
            p++;
        size_t n = (size_t)(p - s);
        if (n == 0) continue;
        if (n == 1 && *s == '*') return 1;
        if (*s == '.') s++, n--;
        const char *colon = memchr(s, ':', n);
        if (colon && !memchr(colon + 1, ':', n - (size_t)(colon + 1 - s))) n = (size_t)(colon - s);
        if (n == 0) continue;
        if (hl == n && strncasecmp(host, s, n) == 0) return 1;
        if (hl > n && host[hl - n - 1] == '.' && strncasecmp(host + hl - n, s, n) == 0) return 1;
    }
    return 0;
}

int tvk_proxy_resolve(tvk_ws *ws)
{
    const char *p = ws->proxy_opt;
    ws->use_proxy = 0;
    if (!p) {
        p = ws->u.tls ? getenv("https_proxy") : getenv("http_proxy");
        if ((!p || !*p) && ws->u.tls) p = getenv("HTTPS_PROXY");
        if (!p || !*p) return 0;
        const char *np = getenv("no_proxy");
        if (!np || !*np) np = getenv("NO_PROXY");
        if (np && no_proxy_match(np, ws->u.host)) return 0;
    }
    if (!*p) return 0;
    char err[200];
    int r = tvk_net_url_parse(p, 1, &ws->px, err, sizeof err);
    if (r) return tvk_ws_fail(ws, r, "%s", err);
    ws->use_proxy = 1;
    ws->info.via_proxy = 1;
    return 0;
}
