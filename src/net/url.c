/* URL parsing for ws://, wss:// and the http:// proxy URL. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/internal.h"

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Percent-decodes [s, s+n) into out; -1 when it does not fit or is malformed. */
static int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n) return -1;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0) return -1;
            c = h * 16 + l;
            i += 2;
        }
        if (o + 1 >= cap || c == 0) return -1;
        out[o++] = (char)c;
    }
    out[o] = 0;
    return 0;
}

static int parse(const char *s, int proxy, tvk_net_url *u, char *err, size_t errcap);

int tvk_net_url_parse(const char *s, int proxy, tvk_net_url *u, char *err, size_t errcap)
{
    memset(u, 0, sizeof *u);
    int r = parse(s, proxy, u, err, errcap);
    if (r) tvk_net_url_free(u);
    return r;
}

static int parse(const char *s, int proxy, tvk_net_url *u, char *err, size_t errcap)
{
    /* a proxy URL may carry a password: name it without echoing it */
    const char *shown = proxy ? "(proxy)" : s;
    if (!s) {
        snprintf(err, errcap, "URL: missing");
        return TVK_EURL;
    }
    const char *p;
    if (!proxy && strncasecmp(s, "ws://", 5) == 0) {
        p = s + 5;
    } else if (!proxy && strncasecmp(s, "wss://", 6) == 0) {
        p = s + 6;
        u->tls = 1;
    } else if (proxy && strncasecmp(s, "http://", 7) == 0) {
        p = s + 7;
    } else if (proxy && !strstr(s, "://")) {
        p = s; /* "host:port" as curl accepts it */
    } else {
        snprintf(err, errcap, "URL \"%.80s\": scheme must be %s", shown,
                 proxy ? "http:// (proxy)" : "ws:// or wss://");
        return TVK_EURL;
    }
    for (const char *q = s; *q; q++) {
        if ((unsigned char)*q <= 0x20 || *q == 0x7f) {
            snprintf(err, errcap, "URL \"%.80s\": space or control character at offset %d", shown,
                     (int)(q - s));
            return TVK_EURL;
        }
    }
    size_t alen = strcspn(p, "/?#");
    const char *auth = p, *rest = p + alen;
    const char *at = memchr(auth, '@', alen);
    if (at) {
        if (!proxy) {
            snprintf(err, errcap, "URL \"%.80s\": credentials are not supported in a ws URL",
                     shown);
            return TVK_EURL;
        }
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        size_t ulen = colon ? (size_t)(colon - auth) : (size_t)(at - auth);
        if (pct_decode(auth, ulen, u->user, sizeof u->user) != 0 ||
            (colon &&
             pct_decode(colon + 1, (size_t)(at - colon - 1), u->pass, sizeof u->pass) != 0)) {
            snprintf(err, errcap, "proxy URL: malformed or too long user:password");
            return TVK_EURL;
        }
        u->has_auth = 1;
        alen -= (size_t)(at + 1 - auth);
        auth = at + 1;
    }
    const char *hend, *portp = NULL;
    if (alen > 0 && auth[0] == '[') {
        const char *rb = memchr(auth, ']', alen);
        if (!rb) {
            snprintf(err, errcap, "URL \"%.80s\": unterminated IPv6 literal", shown);
            return TVK_EURL;
        }
        if ((size_t)(rb - auth - 1) >= sizeof u->host || rb == auth + 1) goto badhost;
        memcpy(u->host, auth + 1, (size_t)(rb - auth - 1));
        u->host[rb - auth - 1] = 0;
        u->ipv6 = 1;
        hend = rb + 1;
        if (hend < auth + alen) {
            if (*hend != ':') goto badhost;
            portp = hend + 1;
        }
    } else {
        const char *colon = memchr(auth, ':', alen);
        hend = colon ? colon : auth + alen;
        if (hend == auth || (size_t)(hend - auth) >= sizeof u->host) goto badhost;
        memcpy(u->host, auth, (size_t)(hend - auth));
        u->host[hend - auth] = 0;
        if (colon) portp = colon + 1;
    }
    u->port = proxy ? 1080 : (u->tls ? 443 : 80);
    if (portp) {
        const char *pe = auth + alen;
        long port = 0;
        if (portp == pe) goto badport;
        for (const char *q = portp; q < pe; q++) {
            if (!isdigit((unsigned char)*q) || port > 65535) goto badport;
            port = port * 10 + (*q - '0');
        }
        if (port < 1 || port > 65535) goto badport;
        u->port = (int)port;
        u->port_given = 1;
    }
    size_t plen = strcspn(rest, "#");
    u->path = malloc(plen + 2);
    if (!u->path) {
        snprintf(err, errcap, "URL: out of memory");
        return TVK_ENOMEM;
    }
    if (plen == 0 || rest[0] != '/') {
        u->path[0] = '/';
        memcpy(u->path + 1, rest, plen);
        u->path[plen + 1] = 0;
    } else {
        memcpy(u->path, rest, plen);
        u->path[plen] = 0;
    }
    return 0;
badhost:
    snprintf(err, errcap, "URL \"%.80s\": missing or malformed host", shown);
    return TVK_EURL;
badport:
    snprintf(err, errcap, "URL \"%.80s\": port must be 1..65535", shown);
    return TVK_EURL;
}

void tvk_net_url_free(tvk_net_url *u)
{
    free(u->path);
    u->path = NULL;
}

void tvk_net_url_hostport(const tvk_net_url *u, int always_port, char *out, size_t cap)
{
    int def = u->tls ? 443 : 80;
    const char *l = u->ipv6 ? "[" : "", *r = u->ipv6 ? "]" : "";
    if (always_port || u->port != def)
        snprintf(out, cap, "%s%s%s:%d", l, u->host, r, u->port);
    else
        snprintf(out, cap, "%s%s%s", l, u->host, r);
}
