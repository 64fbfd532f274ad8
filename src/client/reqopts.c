/* Per-request options: owned copies (a reconnect must be able to resend every request exactly),
 * and the symbol specification they imply. */
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

char *tvk__strndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *tvk__strdup(const char *s)
{
    return s ? tvk__strndup(s, strlen(s)) : NULL;
}

static int dup_opt(char **dst, const char *src)
{
    *dst = NULL;
    if (!src) return 0;
    *dst = tvk__strdup(src);
    return *dst ? 0 : TVK_ENOMEM;
}

int tvk__req_copy(tvk_req_copy *d, const tvk_req_opts *src)
{
    memset(d, 0, sizeof *d);
    if (src) d->o = *src;
    if (dup_opt(&d->currency, d->o.currency) < 0 ||
        dup_opt(&d->backadjustment, d->o.backadjustment) < 0 ||
        dup_opt(&d->token, d->o.token) < 0) {
        tvk__req_free(d);
        return TVK_ENOMEM;
    }
    d->o.currency = d->currency;
    d->o.backadjustment = d->backadjustment;
    d->o.token = d->token;
    return 0;
}

void tvk__req_free(tvk_req_copy *r)
{
    free(r->currency);
    free(r->backadjustment);
    free(r->token);
    memset(r, 0, sizeof *r);
}

void tvk__req_spec(const tvk_req_opts *o, const char *symbol, tvk_symbol_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->symbol = symbol;
    spec->adjustment = o->adjustment;
    spec->backadjustment = o->backadjustment;
    spec->session = o->session;
    spec->currency_id = o->currency;
    spec->tvkit_spacing = 0;
}

int tvk__req_needs_spec(const tvk_req_opts *o)
{
    return o->adjustment != TVK_ADJ_SPLITS || o->session != TVK_SESSION_UNSET || o->currency ||
           o->backadjustment;
}

char *tvk__compact_json(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) return NULL;
    size_t j = 0;
    int in_str = 0, esc = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (in_str) {
            if (esc)
                esc = 0;
            else if (ch == '\\')
                esc = 1;
            else if (ch == '"')
                in_str = 0;
        } else if (ch == '"') {
            in_str = 1;
        } else if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
            continue;
        }
        d[j++] = ch;
    }
    d[j] = '\0';
    return d;
}
