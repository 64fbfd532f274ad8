/* HTTP/1.1 pieces of the WebSocket opening handshake (RFC 6455 section 4), both roles. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "net/internal.h"

static const tvk_header default_headers[] = {
    {"Origin", "https://www.tradingview.com"},
    {"User-Agent", "Mozilla/5.0 (Windows NT 6.3; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                   "Gecko) Chrome/107.0.0.0 Safari/537.36"},
    {"Accept-Encoding", "gzip, deflate, br, zstd"},
    {"Accept-Language", "en-US,en;q=0.9,fa;q=0.8"},
    {"Cache-Control", "no-cache"},
    {"Pragma", "no-cache"},
};

const tvk_header *tvk_ws_default_headers(size_t *n)
{
    if (n) *n = sizeof default_headers / sizeof default_headers[0];
    return default_headers;
}

/* Headers the handshake itself owns: the caller may not replace them. */
static int reserved_header(const char *name)
{
    static const char *const r[] = {"Host",
                                    "Upgrade",
                                    "Connection",
                                    "Sec-WebSocket-Key",
                                    "Sec-WebSocket-Version",
                                    "Sec-WebSocket-Extensions",
                                    "Content-Length",
                                    "Transfer-Encoding"};
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
        if (strcasecmp(name, r[i]) == 0) return 1;
    return 0;
}

void tvk_ws_accept_key(const char *key, char out[32])
{
    unsigned char md[20];
    char buf[128];
    int n = snprintf(buf, sizeof buf, "%s%s", key, TVK_WS_GUID);
    out[0] = 0;
    if (n < 0 || (size_t)n >= sizeof buf) return;
    tvk_net_sha1(buf, (size_t)n, md);
    tvk_net_b64(md, sizeof md, out, 32);
}

int tvk_net_hdr_token(const char *value, const char *token)
{
    size_t tl = strlen(token);
    const char *p = value;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *s = p;
        while (*p && *p != ',')
            p++;
        const char *e = p;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if ((size_t)(e - s) == tl && strncasecmp(s, token, tl) == 0) return 1;
    }
    return 0;
}

size_t tvk_net_http_end(const char *buf, size_t len)
{
    for (size_t i = 3; i < len; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')
            return i + 1;
    return 0;
}

int tvk_net_http_next_header(char **cursor, char **name, char **value)
{
    for (;;) {
        char *line = *cursor;
        char *eol = strstr(line, "\r\n");
        if (!eol) return 0;
        *eol = 0;
        *cursor = eol + 2;
        if (line[0] == 0) return 0;
        char *colon = strchr(line, ':');
        if (!colon || colon == line) return -1;
        *colon = 0;
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        char *e = v + strlen(v);
        while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
            *--e = 0;
        for (char *q = line; *q; q++)
            if (*q == ' ' || *q == '\t') return -1;
        *name = line;
        *value = v;
        return 1;
    }
}

static int valid_header_text(const char *s)
{
    for (; *s; s++)
        if (*s == '\r' || *s == '\n') return 0;
    return 1;
}

/* Appends to ws->obuf; used while building a request (the buffer is empty then). */
static int put(tvk_ws *ws, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int put(tvk_ws *ws, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = TVK_OBUF_CAP - ws->olen;
    int n = vsnprintf(ws->obuf + ws->olen, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room) return -1;
    ws->olen += (size_t)n;
    return 0;
}

int tvk_upgrade_build_request(tvk_ws *ws)
{
    unsigned char raw[16];
    char hostport[300];
    if (tvk_net_random(raw, sizeof raw) != 0)
        return tvk_ws_fail(ws, TVK_EIO, "upgrade: no random bytes for the key (getrandom)");
    tvk_net_b64(raw, sizeof raw, ws->key, sizeof ws->key);
    tvk_net_url_hostport(&ws->u, 0, hostport, sizeof hostport);
    int bad = put(ws,
                  "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n",
                  ws->u.path, hostport, ws->key);
    if (ws->compress)
        bad |= put(ws, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");
    size_t nd;
    const tvk_header *d = tvk_ws_default_headers(&nd);
    for (size_t i = 0; i < nd; i++) {
        const char *v = d[i].value;
        for (size_t j = 0; j < ws->nheaders; j++)
            if (strcasecmp(ws->headers[j].name, d[i].name) == 0) v = ws->headers[j].value;
        if (v) bad |= put(ws, "%s: %s\r\n", d[i].name, v);
    }
    for (size_t j = 0; j < ws->nheaders; j++) {
        const tvk_header *h = &ws->headers[j];
        int is_default = 0;
        for (size_t i = 0; i < nd; i++)
            if (strcasecmp(h->name, d[i].name) == 0) is_default = 1;
        /* a later entry with the same name wins */
        for (size_t k = j + 1; k < ws->nheaders; k++)
            if (strcasecmp(h->name, ws->headers[k].name) == 0) is_default = 1;
        if (!is_default && h->value && !reserved_header(h->name))
            bad |= put(ws, "%s: %s\r\n", h->name, h->value);
    }
    bad |= put(ws, "\r\n");
    if (bad)
        return tvk_ws_fail(ws, TVK_EINVAL, "upgrade: request headers exceed %d bytes",
                           TVK_OBUF_CAP);
    return 0;
}

/* Parses "HTTP/1.x NNN reason"; returns the status or -1. */
static int status_line(char *line, char *reason, size_t rcap)
{
    if (strncmp(line, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)line[7]) || line[8] != ' ')
        return -1;
    const char *c = line + 9;
    if (!isdigit((unsigned char)c[0]) || !isdigit((unsigned char)c[1]) ||
        !isdigit((unsigned char)c[2]) || (c[3] != ' ' && c[3] != 0))
        return -1;
    int st = (c[0] - '0') * 100 + (c[1] - '0') * 10 + (c[2] - '0');
    snprintf(reason, rcap, "%s", c[3] ? c + 4 : "");
    return st;
}

/* Copies the header block [0, end) of ws->hbuf into a NUL-terminated heap string. */
static char *block_copy(tvk_ws *ws, size_t end)
{
    char *b = malloc(end + 1);
    if (!b) return NULL;
    memcpy(b, ws->hbuf, end);
    b[end] = 0;
    return b;
}

static void printable(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    for (; *s && o + 1 < cap; s++)
        out[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    out[o] = 0;
}

int tvk_proxy_parse_response(tvk_ws *ws, size_t end)
{
    char *b = block_copy(ws, end);
    if (!b) return tvk_ws_fail(ws, TVK_ENOMEM, "proxy: out of memory");
    if (memchr(b, 0, end)) {
        free(b);
        return tvk_ws_fail(ws, TVK_EPROXY, "proxy %s:%d: NUL byte in the answer's header block",
                           ws->px.host, ws->px.port);
    }
    char *eol = strstr(b, "\r\n");
    *eol = 0;
    char reason[64], shown[80];
    int st = status_line(b, reason, sizeof reason);
    printable(b, shown, sizeof shown);
    free(b);
    if (st < 0)
        return tvk_ws_fail(ws, TVK_EPROXY, "proxy %s:%d: malformed status line \"%s\"", ws->px.host,
                           ws->px.port, shown);
    if (st < 200 || st > 299)
        return tvk_ws_fail(ws, TVK_EPROXY, "proxy %s:%d refused CONNECT: HTTP %d %s", ws->px.host,
                           ws->px.port, st, reason);
    return 0;
}

/* Retry-After: delay-seconds, or an HTTP-date (then seconds from now, at least 0). */
static int parse_retry_after(const char *v)
{
    long n = 0;
    if (!*v) return -1;
    if (!isdigit((unsigned char)*v)) {
        /* IMF-fixdate, parsed by hand: strptime's %b would follow the caller's locale */
        static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
        struct tm tm;
        char mon[4];
        int used = 0;
        memset(&tm, 0, sizeof tm);
        if (sscanf(v, "%*3s, %2d %3s %4d %2d:%2d:%2d GMT%n", &tm.tm_mday, mon, &tm.tm_year,
                   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6 ||
            v[used] != 0)
            return -1;
        const char *m = strstr(months, mon);
        if (!m || (m - months) % 3 != 0 || strlen(mon) != 3) return -1;
        tm.tm_mon = (int)((m - months) / 3);
        tm.tm_year -= 1900;
        time_t at = timegm(&tm), now = time(NULL);
        if (at == (time_t)-1) return -1;
        return at <= now ? 0 : at - now > 100000000 ? 100000000 : (int)(at - now);
    }
    for (const char *p = v; *p; p++) {
        if (!isdigit((unsigned char)*p)) return -1;
        if (n > 100000000) return -1;
        n = n * 10 + (*p - '0');
    }
    return (int)n;
}

int tvk_upgrade_parse_response(tvk_ws *ws, size_t end)
{
    char *b = block_copy(ws, end);
    if (!b) return tvk_ws_fail(ws, TVK_ENOMEM, "upgrade: out of memory");
    /* the parsing below works on C strings: a NUL would hide the line ends after it */
    if (memchr(b, 0, end)) {
        free(b);
        return tvk_ws_fail(ws, TVK_EHANDSHAKE, "upgrade response: NUL byte in the header block");
    }
    char *cur = strstr(b, "\r\n");
    *cur = 0;
    cur += 2;
    char shown[80];
    printable(b, shown, sizeof shown);
    int st = status_line(b, ws->info.http_reason, sizeof ws->info.http_reason);
    int rc = 0;
    if (st < 0) {
        rc = tvk_ws_fail(ws, TVK_EHANDSHAKE, "upgrade response: malformed status line \"%s\"",
                         shown);
        goto out;
    }
    ws->info.http_status = st;
    char *name, *value;
    int r, upgrade = 0, connection = 0, ext_seen = 0;
    const char *accept = NULL, *proto = NULL;
    char ext[512] = "";
    while ((r = tvk_net_http_next_header(&cur, &name, &value)) == 1) {
        if (strcasecmp(name, "Retry-After") == 0)
            ws->info.retry_after_s = parse_retry_after(value);
        else if (strcasecmp(name, "Upgrade") == 0)
            upgrade |= tvk_net_hdr_token(value, "websocket");
        else if (strcasecmp(name, "Connection") == 0)
            connection |= tvk_net_hdr_token(value, "upgrade");
        else if (strcasecmp(name, "Sec-WebSocket-Accept") == 0)
            accept = value;
        else if (strcasecmp(name, "Sec-WebSocket-Protocol") == 0)
            proto = value;
        else if (strcasecmp(name, "Sec-WebSocket-Extensions") == 0) {
            size_t l = strlen(ext);
            snprintf(ext + l, sizeof ext - l, "%s%s", ext_seen ? ", " : "", value);
            ext_seen = 1;
        }
    }
    if (r < 0) {
        rc = tvk_ws_fail(ws, TVK_EHANDSHAKE, "upgrade response: malformed header line");
        goto out;
    }
    if (st != 101) {
        char ra[48] = "";
        if (ws->info.retry_after_s >= 0)
            snprintf(ra, sizeof ra, " (Retry-After: %d s)", ws->info.retry_after_s);
        int code = st == 403 ? TVK_EHTTP_403 : st == 429 ? TVK_EHTTP_429 : TVK_EHTTP;
        rc = tvk_ws_fail(ws, code, "upgrade rejected by %s: HTTP %d %s%s", ws->u.host, st,
                         ws->info.http_reason, ra);
        goto out;
    }
    if (!upgrade || !connection) {
        rc = tvk_ws_fail(ws, TVK_EHANDSHAKE, "upgrade response: 101 without %s",
                         !upgrade ? "\"Upgrade: websocket\"" : "\"Connection: Upgrade\"");
        goto out;
    }
    char want[32];
    tvk_ws_accept_key(ws->key, want);
    if (!accept || strcmp(accept, want) != 0) {
        char got[48];
        printable(accept ? accept : "", got, sizeof got);
        rc = tvk_ws_fail(ws, TVK_EACCEPT_KEY,
                         "upgrade response: Sec-WebSocket-Accept %s%s%s does not match the key "
                         "(expected \"%s\")",
                         accept ? "\"" : "", accept ? got : "missing", accept ? "\"" : "", want);
        goto out;
    }
    int offered_proto = 0;
    for (size_t j = 0; j < ws->nheaders; j++)
        if (strcasecmp(ws->headers[j].name, "Sec-WebSocket-Protocol") == 0 && ws->headers[j].value)
            offered_proto = 1;
    if (proto && !offered_proto) {
        rc = tvk_ws_fail(ws, TVK_EHANDSHAKE,
                         "upgrade response: server chose a subprotocol we did not offer");
        goto out;
    }
    if (ext_seen) {
        char err[200];
        if (!ws->compress) {
            rc = tvk_ws_fail(ws, TVK_EHANDSHAKE,
                             "upgrade response: server accepted an extension we did not offer "
                             "(\"%.100s\")",
                             ext);
            goto out;
        }
        if (tvk_pmd_parse_response(&ws->pmd, ext, err, sizeof err) != 0) {
            rc = tvk_ws_fail(ws, TVK_EHANDSHAKE, "upgrade response: %s", err);
            goto out;
        }
    }
out:
    free(b);
    return rc;
}

static const char *reason_phrase(int st)
{
    switch (st) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 426:
        return "Upgrade Required";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

static int reject(tvk_ws *ws, int st, int retry_after, const char *why)
{
    char ra[40] = "";
    if (retry_after >= 0) snprintf(ra, sizeof ra, "Retry-After: %d\r\n", retry_after);
    ws->olen = ws->ooff = 0;
    put(ws,
        "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
        "Connection: close\r\n%s\r\n%s\n",
        st, reason_phrase(st), strlen(why) + 1, ra, why);
    ws->reject_status = st;
    ws->info.http_status = st;
    snprintf(ws->info.http_reason, sizeof ws->info.http_reason, "%s", reason_phrase(st));
    ws->info.retry_after_s = retry_after;
    snprintf(ws->errmsg, sizeof ws->errmsg, "upgrade request rejected with %d: %s", st, why);
    ws->phase = PH_REJECT_SEND;
    return 0;
}

int tvk_server_handle_request(tvk_ws *ws, size_t end)
{
    char *b = block_copy(ws, end);
    if (!b) return tvk_ws_fail(ws, TVK_ENOMEM, "upgrade: out of memory");
    size_t maxh = 0;
    for (size_t i = 0; i < end; i++)
        maxh += b[i] == '\n';
    tvk_header *hs = calloc(maxh + 1, sizeof *hs);
    if (!hs) {
        free(b);
        return tvk_ws_fail(ws, TVK_ENOMEM, "upgrade: out of memory");
    }
    int rc = 0;
    if (memchr(b, 0, end)) {
        rc = reject(ws, 400, -1, "NUL byte in the request header");
        goto out;
    }
    char *cur = strstr(b, "\r\n");
    *cur = 0;
    cur += 2;
    char *sp1 = strchr(b, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp1 || !sp2 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
        rc = reject(ws, 400, -1, "malformed request line");
        goto out;
    }
    *sp1 = *sp2 = 0;
    tvk_http_request req = {b, sp1 + 1, hs, 0};
    char *name, *value;
    int r, upgrade = 0, connection = 0, version = 0;
    const char *key = NULL, *ext = NULL;
    while ((r = tvk_net_http_next_header(&cur, &name, &value)) == 1) {
        hs[req.nheaders].name = name;
        hs[req.nheaders++].value = value;
        if (strcasecmp(name, "Upgrade") == 0)
            upgrade |= tvk_net_hdr_token(value, "websocket");
        else if (strcasecmp(name, "Connection") == 0)
            connection |= tvk_net_hdr_token(value, "upgrade");
        else if (strcasecmp(name, "Sec-WebSocket-Version") == 0)
            version = strcmp(value, "13") == 0;
        else if (strcasecmp(name, "Sec-WebSocket-Key") == 0)
            key = value;
        else if (strcasecmp(name, "Sec-WebSocket-Extensions") == 0 && !ext)
            ext = value;
    }
    if (r < 0) {
        rc = reject(ws, 400, -1, "malformed header line");
        goto out;
    }
    if (strcmp(b, "GET") != 0 || !upgrade || !connection || !key || strlen(key) != 24) {
        rc = reject(ws, 400, -1, "not a WebSocket upgrade request");
        goto out;
    }
    if (!version) {
        rc = reject(ws, 426, -1, "Sec-WebSocket-Version must be 13");
        goto out;
    }
    int retry_after = -1;
    int st = ws->on_upgrade ? ws->on_upgrade(ws->user, &req, &retry_after) : 101;
    if (st != 101) {
        rc = reject(ws, st < 100 || st > 599 ? 500 : st, retry_after, "upgrade refused");
        goto out;
    }
    char accept[32], extresp[200] = "";
    tvk_ws_accept_key(key, accept);
    if (ws->compress && ext) tvk_pmd_accept_offer(&ws->pmd, ext, extresp, sizeof extresp);
    ws->olen = ws->ooff = 0;
    put(ws,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: %s\r\n",
        accept);
    if (ws->pmd.on) put(ws, "Sec-WebSocket-Extensions: %s\r\n", extresp);
    put(ws, "\r\n");
    ws->info.http_status = 101;
    snprintf(ws->info.http_reason, sizeof ws->info.http_reason, "Switching Protocols");
    ws->phase = PH_RESP_SEND;
out:
    free(hs);
    free(b);
    return rc;
}

int tvk_proxy_build_request(tvk_ws *ws)
{
    char hp[300];
    tvk_net_url_hostport(&ws->u, 1, hp, sizeof hp);
    int bad = put(ws, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", hp, hp);
    if (ws->px.has_auth) {
        char cred[300], b64[420];
        int n = snprintf(cred, sizeof cred, "%s:%s", ws->px.user, ws->px.pass);
        if (n < 0 || (size_t)n >= sizeof cred)
            bad = 1;
        else if (tvk_net_b64((unsigned char *)cred, (size_t)n, b64, sizeof b64) < 0)
            bad = 1;
        else
            bad |= put(ws, "Proxy-Authorization: Basic %s\r\n", b64);
    }
    for (size_t j = 0; j < ws->nheaders; j++)
        if (strcasecmp(ws->headers[j].name, "User-Agent") == 0 && ws->headers[j].value)
            bad |= put(ws, "User-Agent: %s\r\n", ws->headers[j].value);
    bad |= put(ws, "\r\n");
    if (bad) return tvk_ws_fail(ws, TVK_EINVAL, "proxy: CONNECT request too large");
    return 0;
}

int tvk_net_headers_valid(const tvk_header *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!h[i].name || !h[i].name[0] || !valid_header_text(h[i].name) ||
            strchr(h[i].name, ':') || strchr(h[i].name, ' ') ||
            (h[i].value && !valid_header_text(h[i].value)))
            return 0;
    }
    return 1;
}
