/* Option helpers shared by the subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "parse.h"

const char cli_req_help[] =
    "  --adjustment A   splits (default), dividends or none\n"
    "  --session S      regular or extended (default: the server's)\n"
    "  --currency CUR   convert prices to this currency id (e.g. USD, EUR)\n";

int cli_opt(int argc, char **argv, int *i, const char *name, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0') return 0;
    if (*i + 1 >= argc) {
        cli_err(NULL, "option %s needs a value", name);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

int cli_int_opt(const char *cmd, int argc, char **argv, int *i, const char *name, int64_t min,
                int64_t max, int64_t *out)
{
    const char *v;
    int r = cli_opt(argc, argv, i, name, &v);
    if (r <= 0) return r < 0 ? CLI_EXIT_USAGE : 0;
    char err[256];
    if (cli_parse_int(v, name, min, max, out, err, sizeof err) < 0)
        return cli_usage_error(cmd, "%s", err);
    return 1;
}

int cli_interval_opt(const char *cmd, int argc, char **argv, int *i, char *out, size_t cap)
{
    const char *v;
    int r = cli_opt(argc, argv, i, "-i", &v);
    if (r == 0) r = cli_opt(argc, argv, i, "--interval", &v);
    if (r <= 0) return r < 0 ? CLI_EXIT_USAGE : 0;
    char err[256];
    if (cli_parse_interval(v, out, cap, err, sizeof err) < 0)
        return cli_usage_error(cmd, "%s", err);
    return 1;
}

int cli_duration_opt(const char *cmd, int argc, char **argv, int *i, int64_t max_s, int64_t *ms,
                     int *have)
{
    const char *v;
    int r = cli_opt(argc, argv, i, "--duration", &v);
    if (r <= 0) return r < 0 ? CLI_EXIT_USAGE : 0;
    char err[256];
    if (cli_parse_seconds(v, "--duration", 0, max_s, ms, err, sizeof err) < 0)
        return cli_usage_error(cmd, "%s", err);
    *have = 1;
    return 1;
}

const char **cli_symbols_new(const char *cmd, int argc)
{
    const char **syms = calloc(argc > 0 ? (size_t)argc : 1, sizeof *syms);
    if (!syms) cli_err(cmd, "out of memory");
    return syms;
}

int cli_usage_error(const char *cmd, const char *fmt, const char *a)
{
    fprintf(stderr, "tvkit: %s: ", cmd);
    fprintf(stderr, fmt, a);
    fprintf(stderr, "\n(see 'tvkit %s --help')\n", cmd);
    return CLI_EXIT_USAGE;
}

int cli_symbol_arg(const char *cmd, const char *s, int *only_symbols, const char **syms, size_t *n)
{
    if (!*only_symbols && !strcmp(s, "--")) {
        *only_symbols = 1;
        return 1;
    }
    if (!*only_symbols && s[0] == '-' && s[1]) return 0;
    char err[256];
    if (cli_parse_symbol(s, err, sizeof err) < 0) return cli_usage_error(cmd, "%s", err);
    syms[(*n)++] = s;
    return 1;
}

int cli_req_option(tvk_req_opts *o, int argc, char **argv, int *i)
{
    static const char *const adj[] = {"splits", "dividends", "none", NULL};
    static const char *const ses[] = {"regular", "extended", NULL};
    const char *v;
    char err[256];
    int r, k;
    if ((r = cli_opt(argc, argv, i, "--adjustment", &v)) != 0) {
        if (r < 0) return CLI_EXIT_USAGE;
        if ((k = cli_parse_choice(v, "--adjustment", adj, err, sizeof err)) < 0) goto bad;
        o->adjustment = k == 0 ? TVK_ADJ_SPLITS : k == 1 ? TVK_ADJ_DIVIDENDS : TVK_ADJ_NONE;
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--session", &v)) != 0) {
        if (r < 0) return CLI_EXIT_USAGE;
        if ((k = cli_parse_choice(v, "--session", ses, err, sizeof err)) < 0) goto bad;
        o->session = k == 0 ? TVK_SESSION_REGULAR : TVK_SESSION_EXTENDED;
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--currency", &v)) != 0) {
        if (r < 0) return CLI_EXIT_USAGE;
        if (cli_parse_currency(v, err, sizeof err) < 0) goto bad;
        o->currency = v;
        return 1;
    }
    return 0;
bad:
    cli_err(NULL, "%s", err);
    return CLI_EXIT_USAGE;
}
