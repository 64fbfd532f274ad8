/* Fuzz target "upgrade": the HTTP/1.1 parsers of the net layer (src/net/http.c, deflate.c),
 * called as the connection state machine calls them once a header block is complete. The
 * first input byte picks what the rest is:
 *   0: the server's answer to our upgrade request (client role; key "dGhlIHNhbXBsZSBub25jZQ=="
 *      so a seed can carry the right Sec-WebSocket-Accept), 1 the same without offering
 *      permessage-deflate, 2: a proxy's answer to CONNECT, 3: a client's upgrade request
 *      (server role), 4: a Sec-WebSocket-Extensions value, as an offer and as an answer.
 * Properties: success means 101 with sane deflate parameters; failure leaves a message; the
 * server's extension answer is one the client accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/internal.h"

#include "fuzz_check.h"

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="

/* Offset past the "\r\n\r\n" that ends the header block, or 0 (the state machine reads on). */
static size_t block_end(const uint8_t *d, size_t n)
{
    for (size_t i = 3; i < n; i++)
        if (d[i] == '\n' && d[i - 1] == '\r' && d[i - 2] == '\n' && d[i - 3] == '\r') return i + 1;
    return 0;
}

static void check_pmd(const tvk_pmd *p)
{
    if (!p->on) return;
    FUZZ_CHECK(p->server_bits >= 8 && p->server_bits <= 15);
    FUZZ_CHECK(p->client_bits >= 8 && p->client_bits <= 15);
    FUZZ_CHECK(p->server_no_ctx == 0 || p->server_no_ctx == 1);
    FUZZ_CHECK(p->client_no_ctx == 0 || p->client_no_ctx == 1);
}

static void check_failed(const tvk_ws *ws, int rc)
{
    FUZZ_CHECK(rc < 0 && rc == ws->err);
    FUZZ_CHECK(ws->errmsg[0] != '\0');
    FUZZ_CHECK(ws->state == TVK_WS_CLOSED);
}

/* A new handle whose header buffer is an exact-size copy of the input. */
static tvk_ws *handle(const uint8_t *data, size_t size, int compress)
{
    tvk_ws_opts o;
    tvk_ws_opts_init(&o);
    o.compress = compress;
    o.url = "ws://fuzz.invalid/socket";
    tvk_ws *ws = tvk_ws_new(&o);
    if (!ws) return NULL;
    ws->hbuf = malloc(size ? size : 1);
    if (!ws->hbuf) {
        tvk_ws_free(ws);
        return NULL;
    }
    memcpy(ws->hbuf, data, size);
    ws->hlen = size;
    snprintf(ws->u.host, sizeof ws->u.host, "fuzz.invalid");
    snprintf(ws->px.host, sizeof ws->px.host, "proxy.invalid");
    ws->px.port = 3128;
    snprintf(ws->key, sizeof ws->key, "%s", KEY);
    ws->state = TVK_WS_CONNECTING;
    return ws;
}

static void client_response(const uint8_t *data, size_t size, int compress)
{
    size_t end = block_end(data, size);
    if (!end || end > (16u << 10)) return; /* the state machine reads on, or gives up */
    tvk_ws *ws = handle(data, size, compress);
    if (!ws) return;
    int rc = tvk_upgrade_parse_response(ws, end);
    if (rc == 0) {
        FUZZ_CHECK(ws->info.http_status == 101);
        FUZZ_CHECK(ws->err == 0 && ws->state == TVK_WS_CONNECTING);
        FUZZ_CHECK(!ws->pmd.on || compress);
        check_pmd(&ws->pmd);
    } else {
        check_failed(ws, rc);
        FUZZ_CHECK(ws->info.retry_after_s >= -1);
    }
    tvk_ws_free(ws);
}

static void proxy_response(const uint8_t *data, size_t size)
{
    size_t end = block_end(data, size);
    if (!end || end > (16u << 10)) return;
    tvk_ws *ws = handle(data, size, 1);
    if (!ws) return;
    int rc = tvk_proxy_parse_response(ws, end);
    if (rc) check_failed(ws, rc);
    tvk_ws_free(ws);
}

/* The value of the Sec-WebSocket-Extensions line of the response in obuf, or NULL. */
static char *response_ext(tvk_ws *ws)
{
    static const char h[] = "\r\nSec-WebSocket-Extensions: ";
    char *resp = strndup(ws->obuf, ws->olen);
    if (!resp) return NULL;
    char *p = strstr(resp, h), *out = NULL;
    if (p) {
        p += sizeof h - 1;
        char *e = strstr(p, "\r\n");
        if (e) out = strndup(p, (size_t)(e - p));
    }
    free(resp);
    return out;
}

static void server_request(const uint8_t *data, size_t size)
{
    size_t end = block_end(data, size);
    if (!end || end > (16u << 10)) return;
    tvk_ws *ws = handle(data, size, 1);
    if (!ws) return;
    ws->server = 1;
    int rc = tvk_server_handle_request(ws, end);
    if (rc == 0) {
        FUZZ_CHECK(ws->phase == PH_RESP_SEND || ws->phase == PH_REJECT_SEND);
        FUZZ_CHECK(ws->olen > 12 && !memcmp(ws->obuf, "HTTP/1.1 ", 9));
        if (ws->phase == PH_RESP_SEND) {
            FUZZ_CHECK(!memcmp(ws->obuf + 9, "101 ", 4));
            check_pmd(&ws->pmd);
            char *ext = response_ext(ws);
            FUZZ_CHECK((ext != NULL) == (ws->pmd.on != 0));
            if (ext) {
                /* what the server answers, a client that offered it accepts as is */
                tvk_pmd cp;
                char err[200];
                memset(&cp, 0, sizeof cp);
                FUZZ_CHECK(tvk_pmd_parse_response(&cp, ext, err, sizeof err) == 0);
                FUZZ_CHECK(cp.server_no_ctx == ws->pmd.server_no_ctx &&
                           cp.client_no_ctx == ws->pmd.client_no_ctx &&
                           cp.server_bits == ws->pmd.server_bits &&
                           cp.client_bits == ws->pmd.client_bits);
                free(ext);
            }
        } else {
            FUZZ_CHECK(ws->obuf[9] == '4' || ws->obuf[9] == '5');
            FUZZ_CHECK(ws->reject_status >= 400);
        }
    } else {
        check_failed(ws, rc);
    }
    tvk_ws_free(ws);
}

static void extension_value(const uint8_t *data, size_t size)
{
    char *v = strndup((const char *)data, size);
    if (!v) return;
    tvk_pmd p;
    char resp[200], err[64];
    memset(&p, 0, sizeof p);
    if (tvk_pmd_accept_offer(&p, v, resp, sizeof resp) == 0) {
        check_pmd(&p);
        tvk_pmd c;
        memset(&c, 0, sizeof c);
        FUZZ_CHECK(tvk_pmd_parse_response(&c, resp, err, sizeof err) == 0);
    }
    memset(&p, 0, sizeof p);
    err[0] = '\0';
    if (tvk_pmd_parse_response(&p, v, err, sizeof err) == 0)
        check_pmd(&p);
    else
        FUZZ_CHECK(err[0] != '\0');
    free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    switch (data[0] % 5) {
    case 0:
        client_response(data + 1, size - 1, 1);
        break;
    case 1:
        client_response(data + 1, size - 1, 0);
        break;
    case 2:
        proxy_response(data + 1, size - 1);
        break;
    case 3:
        server_request(data + 1, size - 1);
        break;
    default:
        extension_value(data + 1, size - 1);
        break;
    }
    return 0;
}
