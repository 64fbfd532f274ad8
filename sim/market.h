/* The simulator's synthetic market: a symbol universe and a deterministic price path per symbol.
 * Nothing is stored per bar: every bar is computed on demand from (seed, symbol name, bar time),
 * so thousands of SIM: symbols with 100,000 bars per resolution cost no memory, and every
 * connection (including a reconnecting one) sees exactly the same bars. */
#ifndef TVK_SIM_MARKET_H
#define TVK_SIM_MARKET_H

#include <stddef.h>
#include <stdint.h>

#define SIM_NAME_MAX 64

typedef struct sim_symbol {
    char name[SIM_NAME_MAX]; /* "EXCHANGE:TICKER" */
    char exchange[24];
    char ticker[SIM_NAME_MAX];
    char description[96];
    const char *type;     /* "stock", "index", "crypto", "forex", "futures", "commodity" */
    const char *currency; /* "USD" */
    const char *timezone; /* exchange time zone name, informational */
    const char *session;  /* "0930-1600" (exchange time), informational */
    double base;          /* typical price */
    double vol;           /* daily log-volatility */
    double volume_base;   /* typical volume per session; 0 = no volume (5-value bars) */
    int pricescale, minmov;
    int weekdays_only; /* trades Monday..Friday only */
    int open_s, len_s; /* session open (seconds after 00:00 UTC) and length */
    uint64_t h;        /* seed-mixed hash of the name: the symbol's randomness */
} sim_symbol;

/* Looks up "EX:TICKER" (or a bare ticker of a built-in symbol). 0, or -1 when the symbol is not
 * in the universe. Any ticker of exchange SIM exists (letters, digits, '_', '.', '!', '-'). */
int sim_symbol_lookup(uint64_t seed, const char *name, sim_symbol *out);
/* The built-in symbols, NULL-terminated list of names. */
const char *const *sim_builtin_symbols(void);

typedef enum sim_res_unit {
    SIM_RES_SECONDS = 1, /* intraday: duration in seconds */
    SIM_RES_DAYS,
    SIM_RES_WEEKS,
    SIM_RES_MONTHS,
} sim_res_unit;

typedef struct sim_res {
    sim_res_unit unit;
    int64_t n; /* seconds for intraday, else the count of days / weeks / months */
} sim_res;

/* "1".."1440" minutes, "1S".."60S", "1H".."168H", "D"/"1D".."365D", "W"/"1W".."52W",
 * "M"/"1M".."12M" (TradingView's forms, case-sensitive). 0, or -1 when invalid. */
int sim_res_parse(const char *s, sim_res *out);

/* Bar slots: every resolution divides a symbol's time into numbered slots (slot n+1 starts after
 * slot n). Slots cover trading time only (sessions, weekdays where applicable). */
int64_t sim_slot_of(const sim_symbol *s, const sim_res *r, int64_t t); /* last slot starting <= t */
int64_t sim_slot_start(const sim_symbol *s, const sim_res *r, int64_t n);
int64_t sim_slot_close(const sim_symbol *s, const sim_res *r, int64_t n); /* end of trading */

typedef struct sim_bar {
    int64_t time; /* slot start, UTC unix seconds */
    double open, high, low, close, volume;
    int has_volume;
} sim_bar;

/* The bar of slot n as it stands at time now: complete when now >= its close, forming (partial)
 * when inside it. now < slot start gives the bar as if complete (history). */
void sim_bar_at(const sim_symbol *s, const sim_res *r, int64_t n, int64_t now, sim_bar *out);
/* Bars of slots from .. from + count - 1, each exactly as sim_bar_at gives it, at a fraction of
 * the cost (the price terms are computed once, and an instant shared by two bars is priced
 * once): what history answers use. */
void sim_bars_at(const sim_symbol *s, const sim_res *r, int64_t from, size_t count, int64_t now,
                 sim_bar *out);

/* Last traded price at t (rounded to the price scale). */
double sim_price_at(const sim_symbol *s, int64_t t);
double sim_round_price(const sim_symbol *s, double p);
/* 1 when t is inside a trading session. */
int sim_in_session(const sim_symbol *s, int64_t t);

/* Quote state at t: what the qsd fields are computed from. */
typedef struct sim_quote {
    double lp, ch, chp, prev_close, open, high, low, volume;
    int64_t lp_time;
    int in_session;
} sim_quote;
void sim_quote_at(const sim_symbol *s, int64_t t, sim_quote *q);

uint64_t sim_hash64(uint64_t x);
uint64_t sim_hash_str(uint64_t seed, const char *s);

/* Floor division and civil-calendar helpers (exposed for tests). */
int64_t sim_fdiv(int64_t a, int64_t b);
int64_t sim_days_from_civil(int64_t y, unsigned m, unsigned d);
void sim_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif
