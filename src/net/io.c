/* Socket and TLS I/O for a tvk_ws: non-blocking reads and writes, the output buffer, and the
 * OpenSSL glue (a socket BIO that writes with MSG_NOSIGNAL so a dead peer never raises SIGPIPE). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "net/internal.h"

static int again(int e)
{
    return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

/* The last OpenSSL error as text, or the socket error, or a fallback. */
static void ssl_reason(int ret, int sslerr, int saved_errno, char *out, size_t cap)
{
    unsigned long e = ERR_peek_last_error();
    if (e) {
        const char *r = ERR_reason_error_string(e);
        if (r)
            snprintf(out, cap, "%s", r);
        else
            ERR_error_string_n(e, out, cap);
    } else if (sslerr == SSL_ERROR_SYSCALL && saved_errno)
        snprintf(out, cap, "%s", strerror(saved_errno));
    else if (sslerr == SSL_ERROR_SYSCALL || sslerr == SSL_ERROR_ZERO_RETURN || ret == 0)
        snprintf(out, cap, "connection closed by peer");
    else
        snprintf(out, cap, "error %d", sslerr);
    ERR_clear_error();
}

ssize_t tvk_net_io_read(tvk_ws *ws, void *buf, size_t len)
{
    if (ws->fd < 0) return ws->err ? ws->err : TVK_ECLOSED;
    if (len > (1u << 30)) len = 1u << 30;
    if (ws->ssl) {
        ERR_clear_error();
        errno = 0;
        int n = SSL_read(ws->ssl, buf, (int)len);
        int se = errno;
        if (n > 0) {
            ws->tls_read_wants_write = 0;
            ws->tls_rx_starved = 0;
            ws->info.bytes_in += (uint64_t)n;
            return n;
        }
        int e = SSL_get_error(ws->ssl, n);
        if (e == SSL_ERROR_WANT_READ) {
            ws->tls_read_wants_write = 0;
            /* What OpenSSL holds now (if anything) is part of a record: only the socket can
             * complete it, so poll() may sleep (tvk_ws_deadline). */
            ws->tls_rx_starved = 1;
            return TVK_EAGAIN;
        }
        if (e == SSL_ERROR_WANT_WRITE) {
            ws->tls_read_wants_write = 1;
            return TVK_EAGAIN;
        }
        if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && se == 0 && !ERR_peek_error()))
            return 0;
        char why[160];
        ssl_reason(n, e, se, why, sizeof why);
        return tvk_ws_fail(ws, e == SSL_ERROR_SYSCALL ? TVK_EIO : TVK_ETLS, "TLS read from %s: %s",
                           ws->u.host[0] ? ws->u.host : "peer", why);
    }
    ssize_t n = recv(ws->fd, buf, len, 0);
    if (n > 0) {
        ws->info.bytes_in += (uint64_t)n;
        return n;
    }
    if (n == 0) return 0;
    if (again(errno)) return TVK_EAGAIN;
    return tvk_ws_fail(ws, TVK_EIO, "read from %s: %s", ws->u.host[0] ? ws->u.host : "peer",
                       strerror(errno));
}

ssize_t tvk_net_io_write(tvk_ws *ws, const void *buf, size_t len)
{
    if (ws->fd < 0) return ws->err ? ws->err : TVK_ECLOSED;
    if (len > (1u << 30)) len = 1u << 30;
    if (ws->ssl) {
        ERR_clear_error();
        errno = 0;
        int n = SSL_write(ws->ssl, buf, (int)len);
        int se = errno;
        if (n > 0) {
            ws->tls_write_wants_read = 0;
            ws->info.bytes_out += (uint64_t)n;
            return n;
        }
        int e = SSL_get_error(ws->ssl, n);
        if (e == SSL_ERROR_WANT_WRITE) {
            ws->tls_write_wants_read = 0;
            return TVK_EAGAIN;
        }
        if (e == SSL_ERROR_WANT_READ) {
            ws->tls_write_wants_read = 1;
            return TVK_EAGAIN;
        }
        char why[160];
        ssl_reason(n, e, se, why, sizeof why);
        return tvk_ws_fail(ws, e == SSL_ERROR_SYSCALL ? TVK_EIO : TVK_ETLS, "TLS write to %s: %s",
                           ws->u.host[0] ? ws->u.host : "peer", why);
    }
    ssize_t n = send(ws->fd, buf, len, MSG_NOSIGNAL);
    if (n >= 0) {
        ws->info.bytes_out += (uint64_t)n;
        return n;
    }
    if (again(errno)) return TVK_EAGAIN;
    return tvk_ws_fail(ws, TVK_EIO, "write to %s: %s", ws->u.host[0] ? ws->u.host : "peer",
                       strerror(errno));
}

int tvk_net_io_flush(tvk_ws *ws)
{
    while (ws->ooff < ws->olen) {
        ssize_t n = tvk_net_io_write(ws, ws->obuf + ws->ooff, ws->olen - ws->ooff);
        if (n < 0) return (int)n;
        ws->ooff += (size_t)n;
    }
    ws->ooff = ws->olen = 0;
    return 0;
}

int tvk_net_io_queue(tvk_ws *ws, const void *buf, size_t len, int all_or_nothing)
{
    if (ws->ooff > 0 && TVK_OBUF_CAP - ws->olen < len) {
        memmove(ws->obuf, ws->obuf + ws->ooff, ws->olen - ws->ooff);
        ws->olen -= ws->ooff;
        ws->ooff = 0;
    }
    size_t room = TVK_OBUF_CAP - ws->olen;
    if (room == 0 || (all_or_nothing && room < len)) return TVK_EAGAIN;
    if (len > room) len = room;
    memcpy(ws->obuf + ws->olen, buf, len);
    ws->olen += len;
    return (int)len;
}

/* ---- a socket BIO that never raises SIGPIPE */

static int bio_write(BIO *b, const char *data, size_t len, size_t *written)
{
    const tvk_ws *ws = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t n = send(ws->fd, data, len, MSG_NOSIGNAL);
    if (n >= 0) {
        *written = (size_t)n;
        return 1;
    }
    if (again(errno)) BIO_set_retry_write(b);
    return 0;
}

/* OpenSSL reads a record's 5-byte header and then its body, each through here (read-ahead is
 * off): both come out of ws->tls_in, which one recv fills with whatever the socket has. With
 * OpenSSL's own read-ahead, every record taken from its buffer moved all the bytes after it to
 * the buffer's start (to align the next payload): a stream's bytes several times over with a
 * 64 KiB buffer; here each byte is copied once, into the record OpenSSL decrypts in place. */
/* The size of ws->tls_in: a server's clients send little. */
static size_t tls_in_cap(const tvk_ws *ws)
{
    return ws->server ? TVK_TLS_IN_CAP_SERVER : TVK_TLS_IN_CAP;
}

static int bio_read(BIO *b, char *data, size_t len, size_t *readbytes)
{
    tvk_ws *ws = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (ws->tls_in_len == 0) {
        ssize_t n = recv(ws->fd, ws->tls_in, tls_in_cap(ws), 0);
        if (n <= 0) {
            if (n < 0 && again(errno)) BIO_set_retry_read(b);
            if (n == 0) errno = 0;
            return 0;
        }
        ws->tls_in_off = 0;
        ws->tls_in_len = (size_t)n;
    }
    size_t k = len < ws->tls_in_len ? len : ws->tls_in_len;
    memcpy(data, ws->tls_in + ws->tls_in_off, k);
    ws->tls_in_off += k;
    ws->tls_in_len -= k;
    *readbytes = k;
    return 1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b, (void)num, (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* The read buffer (bio_read) is allocated here, so that running out of memory for it is
 * TVK_ENOMEM at set-up rather than an I/O error in the middle of a handshake or a read. */
static int tls_attach(tvk_ws *ws)
{
    if (!ws->tls_in && !(ws->tls_in = malloc(tls_in_cap(ws))))
        return tvk_ws_fail(ws, TVK_ENOMEM, "TLS: cannot allocate the read buffer");
    /* a fixed type: BIO_get_new_index() would bump a process-wide counter per connection */
    ws->biometh = BIO_meth_new(0xE5 | BIO_TYPE_SOURCE_SINK, "tvk_socket");
    if (!ws->biometh || !BIO_meth_set_write_ex(ws->biometh, bio_write) ||
        !BIO_meth_set_read_ex(ws->biometh, bio_read) || !BIO_meth_set_ctrl(ws->biometh, bio_ctrl) ||
        !BIO_meth_set_create(ws->biometh, bio_create))
        return tvk_ws_fail(ws, TVK_ENOMEM, "TLS: cannot create the socket BIO");
    BIO *bio = BIO_new(ws->biometh);
    if (!bio) return tvk_ws_fail(ws, TVK_ENOMEM, "TLS: cannot create the socket BIO");
    BIO_set_data(bio, ws);
    SSL_set_bio(ws->ssl, bio, bio);
    return 0;
}

int tvk_tls_client_setup(tvk_ws *ws)
{
    char why[200];
    ERR_clear_error();
    ws->ssl_ctx = SSL_CTX_new(TLS_client_method());
    ws->own_ctx = 1;
    if (!ws->ssl_ctx) return tvk_ws_fail(ws, TVK_ENOMEM, "TLS: cannot create a context");
    SSL_CTX_set_min_proto_version(ws->ssl_ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ws->ssl_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ws->ssl_ctx,
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (ws->insecure) {
        SSL_CTX_set_verify(ws->ssl_ctx, SSL_VERIFY_NONE, NULL);
    } else {
        SSL_CTX_set_verify(ws->ssl_ctx, SSL_VERIFY_PEER, NULL);
        if (ws->ca_file) {
            if (SSL_CTX_load_verify_locations(ws->ssl_ctx, ws->ca_file, NULL) != 1) {
                ssl_reason(0, SSL_ERROR_SSL, 0, why, sizeof why);
                return tvk_ws_fail(ws, TVK_ETLS, "TLS: cannot load CA file \"%s\": %s", ws->ca_file,
                                   why);
            }
        } else if (SSL_CTX_set_default_verify_paths(ws->ssl_ctx) != 1) {
            ssl_reason(0, SSL_ERROR_SSL, 0, why, sizeof why);
            return tvk_ws_fail(ws, TVK_ETLS, "TLS: cannot load the system trust store: %s", why);
        }
    }
    ws->ssl = SSL_new(ws->ssl_ctx);
    if (!ws->ssl) return tvk_ws_fail(ws, TVK_ENOMEM, "TLS: cannot create a session");
    int r = tls_attach(ws);
    if (r) return r;
    static const unsigned char alpn[] = "\x08http/1.1";
    SSL_set_alpn_protos(ws->ssl, alpn, sizeof alpn - 1);
    unsigned char ip[16];
    int literal =
        inet_pton(AF_INET, ws->u.host, ip) == 1 || inet_pton(AF_INET6, ws->u.host, ip) == 1;
    if (literal) {
        if (!ws->insecure &&
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ws->ssl), ws->u.host) != 1)
            return tvk_ws_fail(ws, TVK_ETLS, "TLS: cannot set the IP address to verify");
    } else {
        /* SNI, and the name the certificate must carry */
        SSL_set_tlsext_host_name(ws->ssl, ws->u.host);
        if (!ws->insecure && SSL_set1_host(ws->ssl, ws->u.host) != 1)
            return tvk_ws_fail(ws, TVK_ETLS, "TLS: cannot set the host name to verify");
    }
    ws->info.tls = 1;
    return 0;
}

int tvk_tls_server_setup(tvk_ws *ws)
{
    ws->ssl = SSL_new(ws->ssl_ctx);
    if (!ws->ssl) return tvk_ws_fail(ws, TVK_ENOMEM, "TLS: cannot create a session");
    ws->info.tls = 1;
    return tls_attach(ws);
}

int tvk_tls_handshake(tvk_ws *ws)
{
    ERR_clear_error();
    errno = 0;
    int r = ws->server ? SSL_accept(ws->ssl) : SSL_connect(ws->ssl);
    int se = errno;
    if (r == 1) {
        ws->tls_want = 0;
        return 0;
    }
    int e = SSL_get_error(ws->ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
        ws->tls_want = TVK_WANT_READ;
        return TVK_EAGAIN;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        ws->tls_want = TVK_WANT_WRITE;
        return TVK_EAGAIN;
    }
    long vr = SSL_get_verify_result(ws->ssl);
    if (!ws->server && !ws->insecure && vr != X509_V_OK) {
        ERR_clear_error();
        return tvk_ws_fail(ws, TVK_ETLS_VERIFY, "TLS: certificate verify failed: %s (%s:%d)",
                           X509_verify_cert_error_string(vr), ws->u.host, ws->u.port);
    }
    char why[200];
    ssl_reason(r, e, se, why, sizeof why);
    if (ws->server)
        return tvk_ws_fail(ws, TVK_ETLS, "TLS: handshake with the client failed: %s", why);
    return tvk_ws_fail(ws, TVK_ETLS, "TLS: handshake with %s:%d failed: %s", ws->u.host, ws->u.port,
                       why);
}

void tvk_tls_free(tvk_ws *ws)
{
    if (ws->ssl) SSL_free(ws->ssl);
    ws->ssl = NULL;
    if (ws->biometh) BIO_meth_free(ws->biometh);
    ws->biometh = NULL;
    free(ws->tls_in);
    ws->tls_in = NULL;
    ws->tls_in_off = ws->tls_in_len = 0;
    if (ws->own_ctx && ws->ssl_ctx) SSL_CTX_free(ws->ssl_ctx);
    ws->ssl_ctx = NULL;
}

void *tvk_ws_server_tls_ctx(const char *cert_file, const char *key_file, char *err, size_t errcap)
{
    char why[200];
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        if (err) snprintf(err, errcap, "TLS: cannot create a server context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    const char *what = cert_file;
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) goto fail;
    what = key_file;
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) goto fail;
    if (SSL_CTX_check_private_key(ctx) != 1) goto fail;
    return ctx;
fail:
    ssl_reason(0, SSL_ERROR_SSL, 0, why, sizeof why);
    if (err) snprintf(err, errcap, "TLS: cannot load \"%s\": %s", what ? what : "(null)", why);
    SSL_CTX_free(ctx);
    return NULL;
}

void tvk_ws_server_tls_ctx_free(void *ctx)
{
    if (ctx) SSL_CTX_free(ctx);
}
