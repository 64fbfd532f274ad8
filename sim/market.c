/* Deterministic synthetic market; see market.h. Prices follow a sum of sinusoids (periods from
 * years down to minutes, amplitudes scaled like a random walk) plus interpolated per-minute
 * noise: any instant can be priced in O(1), without replaying a path from the beginning. */
#include "market.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define DAY 86400
#define US_OPEN (14 * 3600 + 1800) /* 09:30 New York (EST), fixed: the sim ignores DST */
#define US_LEN (6 * 3600 + 1800)

typedef struct builtin {
    const char *name, *description, *type, *currency, *timezone, *session;
    double base, vol, volume;
    int pricescale, minmov, weekdays_only, open_s, len_s;
} builtin;

static const builtin builtins[] = {
    {"NASDAQ:AAPL", "Apple Inc.", "stock", "USD", "America/New_York", "0930-1600", 190.0, 0.017,
     55e6, 100, 1, 1, US_OPEN, US_LEN},
    {"NASDAQ:GOOGL", "Alphabet Inc.", "stock", "USD", "America/New_York", "0930-1600", 170.0, 0.019,
     25e6, 100, 1, 1, US_OPEN, US_LEN},
    {"NASDAQ:MSFT", "Microsoft Corporation", "stock", "USD", "America/New_York", "0930-1600", 420.0,
     0.015, 20e6, 100, 1, 1, US_OPEN, US_LEN},
    {"NYSE:IBM", "International Business Machines Corporation", "stock", "USD", "America/New_York",
     "0930-1600", 220.0, 0.013, 4e6, 100, 1, 1, US_OPEN, US_LEN},
    {"BINANCE:BTCUSDT", "Bitcoin / TetherUS", "crypto", "USDT", "Etc/UTC", "24x7", 65000.0, 0.03,
     25000, 100, 1, 0, 0, DAY},
    {"BINANCE:ETHUSDT", "Ethereum / TetherUS", "crypto", "USDT", "Etc/UTC", "24x7", 3200.0, 0.035,
     400000, 100, 1, 0, 0, DAY},
    {"FX:EURUSD", "Euro / U.S. Dollar", "forex", "USD", "Etc/UTC", "24x5", 1.09, 0.005, 150000,
     100000, 1, 1, 0, DAY},
    {"OANDA:XAUUSD", "Gold Spot / U.S. Dollar", "commodity", "USD", "Etc/UTC", "24x5", 2300.0, 0.01,
     80000, 1000, 1, 1, 0, DAY},
    {"CME_MINI:NQ1!", "E-mini Nasdaq-100 Futures", "futures", "USD", "Etc/UTC", "24x5", 18000.0,
     0.015, 500000, 100, 25, 1, 0, DAY},
    {"SP:SPX", "S&P 500", "index", "USD", "America/New_York", "0930-1600", 5200.0, 0.011, 0, 100, 1,
     1, US_OPEN, US_LEN},
};
#define NBUILTIN (sizeof builtins / sizeof builtins[0])

static const char *const builtin_names[] = {
    "NASDAQ:AAPL",     "NASDAQ:GOOGL",    "NASDAQ:MSFT", "NYSE:IBM",
    "BINANCE:BTCUSDT", "BINANCE:ETHUSDT", "FX:EURUSD",   "OANDA:XAUUSD",
    "CME_MINI:NQ1!",   "SP:SPX",          NULL,
};

const char *const *sim_builtin_symbols(void)
{
    return builtin_names;
}

uint64_t sim_hash64(uint64_t x) /* splitmix64 finalizer */
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t sim_hash_str(uint64_t seed, const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ sim_hash64(seed);
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return sim_hash64(h);
}

/* Uniform in [0, 1) from a hash. */
static double unit(uint64_t h)
{
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

static int ticker_ok(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n >= 40) return 0;
    for (; *t; t++) {
        char c = *t;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '!' || c == '-'))
            return 0;
    }
    return 1;
}

static void fill_from_builtin(const builtin *b, uint64_t seed, sim_symbol *o)
{
    const char *colon = strchr(b->name, ':');
    memset(o, 0, sizeof *o);
    snprintf(o->name, sizeof o->name, "%s", b->name);
    snprintf(o->exchange, sizeof o->exchange, "%.*s", (int)(colon - b->name), b->name);
    snprintf(o->ticker, sizeof o->ticker, "%s", colon + 1);
    snprintf(o->description, sizeof o->description, "%s", b->description);
    o->type = b->type;
    o->currency = b->currency;
    o->timezone = b->timezone;
    o->session = b->session;
    o->base = b->base;
    o->vol = b->vol;
    o->volume_base = b->volume;
    o->pricescale = b->pricescale;
    o->minmov = b->minmov;
    o->weekdays_only = b->weekdays_only;
    o->open_s = b->open_s;
    o->len_s = b->len_s;
    o->h = sim_hash_str(seed, b->name);
}

int sim_symbol_lookup(uint64_t seed, const char *name, sim_symbol *o)
{
    if (!name) return -1;
    const char *colon = strchr(name, ':');
    for (size_t i = 0; i < NBUILTIN; i++) {
        const char *bn = builtins[i].name;
        if (colon ? strcmp(bn, name) == 0 : strcmp(strchr(bn, ':') + 1, name) == 0) {
            fill_from_builtin(&builtins[i], seed, o);
            return 0;
        }
    }
    if (!colon || colon - name != 3 || strncmp(name, "SIM", 3) != 0 || !ticker_ok(colon + 1))
        return -1;
    /* SIM: symbols trade around the clock so that live tests never wait for a session. */
    memset(o, 0, sizeof *o);
    snprintf(o->name, sizeof o->name, "%s", name);
    snprintf(o->exchange, sizeof o->exchange, "SIM");
    snprintf(o->ticker, sizeof o->ticker, "%s", colon + 1);
    snprintf(o->description, sizeof o->description, "Simulated %s", colon + 1);
    o->h = sim_hash_str(seed, name);
    o->type = "stock";
    o->currency = "USD";
    o->timezone = "Etc/UTC";
    o->session = "24x7";
    o->base = 5.0 + 995.0 * unit(sim_hash64(o->h ^ 1));
    o->vol = 0.01 + 0.03 * unit(sim_hash64(o->h ^ 2));
    o->volume_base = 1e5 + 1e7 * unit(sim_hash64(o->h ^ 3));
    o->pricescale = 100;
    o->minmov = 1;
    o->weekdays_only = 0;
    o->open_s = 0;
    o->len_s = DAY;
    return 0;
}

/* ---------------------------------------------------------------- calendar */

int64_t sim_fdiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}
static int64_t fmodi(int64_t a, int64_t b)
{
    return a - sim_fdiv(a, b) * b;
}

/* Howard Hinnant's civil calendar algorithms (proleptic Gregorian, any year). */
int64_t sim_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = sim_fdiv(y, 400);
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void sim_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = sim_fdiv(z, 146097);
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Trading days are numbered: for weekday markets td 0 is Monday 1970-01-05 and weekends are
 * skipped; for 24/7 markets td is the day number itself. */
static int is_trading(const sim_symbol *s, int64_t day)
{
    return !s->weekdays_only || fmodi(day - 4, 7) < 5;
}
static int64_t td_floor(const sim_symbol *s, int64_t day) /* last trading day <= day */
{
    if (!s->weekdays_only) return day;
    int64_t w = sim_fdiv(day - 4, 7), r = fmodi(day - 4, 7);
    return w * 5 + (r < 4 ? r : 4);
}
static int64_t day_of_td(const sim_symbol *s, int64_t td)
{
    if (!s->weekdays_only) return td;
    return 4 + 7 * sim_fdiv(td, 5) + fmodi(td, 5);
}
static int64_t first_td_from(const sim_symbol *s, int64_t day) /* first trading day >= day */
{
    return is_trading(s, day) ? td_floor(s, day) : td_floor(s, day) + 1;
}
static int64_t sess_open(const sim_symbol *s, int64_t td)
{
    return day_of_td(s, td) * DAY + s->open_s;
}
static int64_t sess_close(const sim_symbol *s, int64_t td)
{
    return sess_open(s, td) + s->len_s;
}
static int64_t td_at(const sim_symbol *s, int64_t t) /* last trading day opened at or before t */
{
    int64_t day = sim_fdiv(t, DAY);
    int64_t td = td_floor(s, day);
    if (is_trading(s, day) && t < sess_open(s, td)) td--;
    return td;
}

int sim_in_session(const sim_symbol *s, int64_t t)
{
    int64_t td = td_at(s, t);
    return t >= sess_open(s, td) && t < sess_close(s, td);
}

/* ---------------------------------------------------------------- resolutions and slots */

static int parse_uint(const char *p, size_t n, int64_t *v)
{
    if (n == 0 || n > 6) return -1;
    int64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        x = x * 10 + (p[i] - '0');
    }
    *v = x;
    return 0;
}

int sim_res_parse(const char *s, sim_res *out)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0) return -1;
    char suf = s[n - 1];
    int64_t v = 1;
    if (suf >= '0' && suf <= '9') {
        if (parse_uint(s, n, &v) || v < 1 || v > 1440) return -1;
        out->unit = SIM_RES_SECONDS;
        out->n = v * 60;
        return 0;
    }
    if (n > 1 && parse_uint(s, n - 1, &v)) return -1;
    switch (suf) {
    case 'S':
        if (n == 1 || v < 1 || v > 60) return -1;
        out->unit = SIM_RES_SECONDS, out->n = v;
        return 0;
    case 'H':
        if (n == 1 || v < 1 || v > 168) return -1;
        out->unit = SIM_RES_SECONDS, out->n = v * 3600;
        return 0;
    case 'D':
        if (v < 1 || v > 365) return -1;
        out->unit = SIM_RES_DAYS, out->n = v;
        return 0;
    case 'W':
        if (v < 1 || v > 52) return -1;
        out->unit = SIM_RES_WEEKS, out->n = v;
        return 0;
    case 'M':
        if (v < 1 || v > 12) return -1;
        out->unit = SIM_RES_MONTHS, out->n = v;
        return 0;
    default:
        return -1;
    }
}

/* Intraday bars per trading day: the session cut into pieces, the last one possibly short. */
static int64_t bars_per_day(const sim_symbol *s, const sim_res *r)
{
    return (s->len_s + r->n - 1) / r->n;
}

static int64_t month_of_day(int64_t day)
{
    int64_t y;
    unsigned m, d;
    sim_civil_from_days(day, &y, &m, &d);
    return (y - 1970) * 12 + (m - 1);
}

/* The first trading day of slot n for D/W/M resolutions. */
static int64_t slot_first_td(const sim_symbol *s, const sim_res *r, int64_t n)
{
    switch (r->unit) {
    case SIM_RES_DAYS:
        return n * r->n;
    case SIM_RES_WEEKS:
        return first_td_from(s, 4 + 7 * n * r->n);
    default: {
        int64_t m = n * r->n;
        int64_t y = 1970 + sim_fdiv(m, 12);
        return first_td_from(s, sim_days_from_civil(y, (unsigned)fmodi(m, 12) + 1, 1));
    }
    }
}

int64_t sim_slot_of(const sim_symbol *s, const sim_res *r, int64_t t)
{
    int64_t td = td_at(s, t);
    switch (r->unit) {
    case SIM_RES_SECONDS: {
        int64_t b = bars_per_day(s, r);
        int64_t j = sim_fdiv(t - sess_open(s, td), r->n);
        return td * b + (j < b - 1 ? j : b - 1);
    }
    case SIM_RES_DAYS:
        return sim_fdiv(td, r->n);
    case SIM_RES_WEEKS:
        return sim_fdiv(sim_fdiv(day_of_td(s, td) - 4, 7), r->n);
    default:
        return sim_fdiv(month_of_day(day_of_td(s, td)), r->n);
    }
}

int64_t sim_slot_start(const sim_symbol *s, const sim_res *r, int64_t n)
{
    if (r->unit == SIM_RES_SECONDS) {
        int64_t b = bars_per_day(s, r);
        return sess_open(s, sim_fdiv(n, b)) + fmodi(n, b) * r->n;
    }
    return sess_open(s, slot_first_td(s, r, n));
}

int64_t sim_slot_close(const sim_symbol *s, const sim_res *r, int64_t n)
{
    if (r->unit == SIM_RES_SECONDS) {
        int64_t b = bars_per_day(s, r);
        int64_t start = sim_slot_start(s, r, n);
        int64_t c = sess_close(s, sim_fdiv(n, b));
        return start + r->n < c ? start + r->n : c;
    }
    return sess_close(s, slot_first_td(s, r, n + 1) - 1);
}

/* ---------------------------------------------------------------- prices */

static const double periods_days[] = {1461, 365, 91, 21, 5, 1, 1.0 / 6, 1.0 / 32, 1.0 / 200};
#define NPER (sizeof periods_days / sizeof periods_days[0])

/* The sinusoids of one symbol: amplitudes and phases depend only on its hash and volatility,
 * so a run of bars computes them once. */
typedef struct price_terms {
    double amp[NPER], phase[NPER];
} price_terms;

static void terms_of(const sim_symbol *s, price_terms *pt)
{
    for (size_t i = 0; i < NPER; i++) {
        uint64_t h = sim_hash64(s->h + i * 7919);
        pt->amp[i] = s->vol * sqrt(periods_days[i]) * (0.35 + 0.3 * unit(h));
        pt->phase[i] = 6.283185307179586 * unit(sim_hash64(h));
    }
}

static double raw_price_terms(const sim_symbol *s, const price_terms *pt, int64_t t)
{
    double x = (double)t / DAY, lp = 0;
    for (size_t i = 0; i < NPER; i++)
        lp += pt->amp[i] * sin(6.283185307179586 * x / periods_days[i] + pt->phase[i]);
    /* Per-minute noise, linearly interpolated so the path is continuous. */
    int64_t m = sim_fdiv(t, 60);
    double f = (double)(t - m * 60) / 60.0;
    double a = unit(sim_hash64(s->h ^ (uint64_t)m)) - 0.5;
    double b = unit(sim_hash64(s->h ^ (uint64_t)(m + 1))) - 0.5;
    lp += (a + (b - a) * f) * s->vol * 0.08;
    return s->base * exp(lp);
}

static double raw_price(const sim_symbol *s, int64_t t)
{
    price_terms pt;
    terms_of(s, &pt);
    return raw_price_terms(s, &pt, t);
}

double sim_round_price(const sim_symbol *s, double p)
{
    double ps = s->pricescale / (double)s->minmov;
    return round(p * ps) / ps;
}

double sim_price_at(const sim_symbol *s, int64_t t)
{
    return sim_round_price(s, raw_price(s, t));
}

/* The price at t, remembering the last one: a bar's close instant is often the next bar's open
 * (24/7 markets, daily and longer bars), so a run of bars prices each instant once. */
typedef struct price_memo {
    price_terms pt;
    int64_t t;
    double p;
    int have;
} price_memo;

static double memo_price(const sim_symbol *s, price_memo *pm, int64_t t)
{
    if (!pm->have || pm->t != t) {
        pm->p = raw_price_terms(s, &pm->pt, t);
        pm->t = t;
        pm->have = 1;
    }
    return pm->p;
}

static void bar_at(const sim_symbol *s, const sim_res *r, int64_t n, int64_t now, price_memo *pm,
                   sim_bar *o)
{
    int64_t start = sim_slot_start(s, r, n), close = sim_slot_close(s, r, n);
    int64_t end = now >= start && now < close ? now : close;
    double f = close > start ? (double)(end - start) / (double)(close - start) : 1.0;
    double dur_days = (double)(close - start) / DAY;
    uint64_t h = sim_hash64(s->h ^ sim_hash64((uint64_t)start ^ 0x5bd1e995ULL));
    double wick = s->vol * sqrt(dur_days) * 0.6;
    double op = memo_price(s, pm, start), cl = memo_price(s, pm, end);
    double hi = (op > cl ? op : cl) * (1.0 + wick * unit(h) * f);
    double lo = (op < cl ? op : cl) * (1.0 - wick * unit(sim_hash64(h)) * f);
    o->time = start;
    o->open = sim_round_price(s, op);
    o->close = sim_round_price(s, cl);
    o->high = sim_round_price(s, hi);
    o->low = sim_round_price(s, lo);
    if (o->high < o->open || o->high < o->close) o->high = o->open > o->close ? o->open : o->close;
    if (o->low > o->open || o->low > o->close) o->low = o->open < o->close ? o->open : o->close;
    o->has_volume = s->volume_base > 0;
    o->volume = 0;
    if (o->has_volume) {
        double share = (double)(close - start) / (double)s->len_s;
        o->volume = round(s->volume_base * share * (0.4 + 1.2 * unit(sim_hash64(h ^ 77))) * f);
    }
}

void sim_bar_at(const sim_symbol *s, const sim_res *r, int64_t n, int64_t now, sim_bar *o)
{
    price_memo pm;
    terms_of(s, &pm.pt);
    pm.have = 0;
    bar_at(s, r, n, now, &pm, o);
}

void sim_bars_at(const sim_symbol *s, const sim_res *r, int64_t from, size_t count, int64_t now,
                 sim_bar *out)
{
    price_memo pm;
    terms_of(s, &pm.pt);
    pm.have = 0;
    for (size_t i = 0; i < count; i++)
        bar_at(s, r, from + (int64_t)i, now, &pm, &out[i]);
}

void sim_quote_at(const sim_symbol *s, int64_t t, sim_quote *q)
{
    sim_res day = {SIM_RES_DAYS, 1};
    int64_t n = sim_slot_of(s, &day, t);
    sim_bar cur, prev;
    sim_bar_at(s, &day, n, t, &cur);
    sim_bar_at(s, &day, n - 1, t, &prev);
    q->in_session = sim_in_session(s, t);
    q->lp = cur.close;
    q->lp_time = t < sim_slot_close(s, &day, n) ? t : sim_slot_close(s, &day, n) - 1;
    q->prev_close = prev.close;
    q->open = cur.open;
    q->high = cur.high;
    q->low = cur.low;
    q->volume = cur.has_volume ? cur.volume : 1e100;
    double ps = s->pricescale / (double)s->minmov;
    q->ch = round((q->lp - prev.close) * ps) / ps;
    q->chp = prev.close != 0 ? round((q->lp - prev.close) / prev.close * 10000.0) / 100.0 : 0;
}
