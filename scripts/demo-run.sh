#!/usr/bin/env bash
# The offline demo (run by scripts/demo.sh after the build): starts tvkit-sim on a free loopback
# port and runs tvkit history, quotes and stream against it. usage: demo-run.sh BUILD_DIR
set -euo pipefail
B=${1:?usage: demo-run.sh BUILD_DIR}
TVKIT=$B/tvkit
SIM=$B/tvkit-sim
for f in "$TVKIT" "$SIM"; do
    [ -x "$f" ] || { echo "demo: $f not found: build first (make build)" >&2; exit 1; }
done
PY=$(command -v /usr/bin/python3 || command -v python3 || true)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tvkit-demo.XXXXXX")
SIM_PID=
cleanup() {
    if [ -n "$SIM_PID" ]; then
        kill "$SIM_PID" 2>/dev/null || true
        wait "$SIM_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# CSV as aligned columns (column(1) is in bsdextrautils, which a minimal system may lack).
cols() {
    if command -v column >/dev/null; then column -t -s,; else tr ',' '\t'; fi
}
head_line() { printf '\n== %s ==\n' "$*"; }
show_cmd() { printf '$ tvkit %s\n' "$*"; }

# The market clock runs 60x: a 1-minute bar closes every second; quotes and bars update every
# 250 ms.
"$SIM" --port 0 --speed 60 --update-ms 250 -q >"$TMP/sim.out" 2>"$TMP/sim.err" &
SIM_PID=$!
deadline=$((SECONDS + 10))
URL=
while [ -z "$URL" ]; do
    URL=$(sed -n 's/^listening //p' "$TMP/sim.out")
    [ -n "$URL" ] && break
    kill -0 "$SIM_PID" 2>/dev/null || { echo "demo: tvkit-sim exited:" >&2; cat "$TMP/sim.err" >&2; exit 1; }
    [ $SECONDS -lt $deadline ] || { echo "demo: tvkit-sim not ready within 10 s" >&2; exit 1; }
    sleep 0.05
done
U=(--url "$URL")

echo "tvkit demo: everything below runs offline against tvkit-sim, a local server that speaks"
echo "TradingView's chart protocol with a deterministic synthetic market."
echo "tvkit-sim is listening on $URL"

# ---------------------------------------------------------------------------- history
head_line "1. history: the newest 20,000 daily bars of NASDAQ:AAPL (paged, 5,000 per request)"
show_cmd "history NASDAQ:AAPL -i 1D -n 20000 -o aapl.csv"
t0=$(date +%s%N)
"$TVKIT" "${U[@]}" -q history NASDAQ:AAPL -i 1D -n 20000 -o "$TMP/aapl.csv"
t1=$(date +%s%N)
rows=$(($(wc -l <"$TMP/aapl.csv") - 1))
echo "first rows:"
head -n 4 "$TMP/aapl.csv" | cols | sed 's/^/  /'
echo "last rows:"
{ head -n 1 "$TMP/aapl.csv"; tail -n 3 "$TMP/aapl.csv"; } | cols | sed 's/^/  /'
printf 'bars: %d (unique times: %d) in %d ms\n' "$rows" \
    "$(tail -n +2 "$TMP/aapl.csv" | cut -d, -f2 | sort -u | wc -l)" $(((t1 - t0) / 1000000))

echo
echo "An index has no volume (the column stays empty):"
show_cmd "history SP:SPX NYSE:IBM -i 1D -n 3 -f table"
"$TVKIT" "${U[@]}" -q history SP:SPX NYSE:IBM -i 1D -n 3 -f table | sed 's/^/  /'

# ---------------------------------------------------------------------------- quotes
SYMS=(BINANCE:BTCUSDT BINANCE:ETHUSDT FX:EURUSD OANDA:XAUUSD NASDAQ:AAPL)
head_line "2. quotes: five symbols on one connection for 3 seconds"
show_cmd "quotes ${SYMS[*]} --duration 3"
"$TVKIT" "${U[@]}" quotes "${SYMS[@]}" --duration 3 >"$TMP/quotes.jsonl"
echo "first line (JSON, cut):"
head -n 1 "$TMP/quotes.jsonl" | cut -c1-150 | sed 's/^/  /'
if [ -n "$PY" ]; then
    echo "latest snapshot of each symbol:"
    "$PY" - "$TMP/quotes.jsonl" <<'EOF'
import json, sys
last, n = {}, {}
for line in open(sys.argv[1]):
    q = json.loads(line)
    last[q["symbol"]] = q
    n[q["symbol"]] = n.get(q["symbol"], 0) + 1
print("  %-16s %12s %10s %8s %-15s %8s" % ("symbol", "last", "change", "chg%", "session", "updates"))
for s, q in last.items():
    f = lambda k: q.get(k) if q.get(k) is not None else ""
    print("  %-16s %12s %10s %8s %-15s %8d" % (s, f("lp"), f("ch"), f("chp"), f("current_session"), n[s]))
EOF
fi
echo "snapshots written: $(wc -l <"$TMP/quotes.jsonl")"

# ---------------------------------------------------------------------------- stream
head_line "3. stream: live 1-minute bars of BINANCE:BTCUSDT (sim clock at 60x: one bar a second)"
show_cmd "stream BINANCE:BTCUSDT -i 1 --duration 4"
"$TVKIT" "${U[@]}" stream BINANCE:BTCUSDT -i 1 --duration 4 >"$TMP/stream.jsonl"
grep '"bar_close"' "$TMP/stream.jsonl" | head -n 4 | sed 's/^/  /' || true
echo "  ..."
printf 'events: %d bar_update, %d bar_close\n' "$(grep -c '"bar_update"' "$TMP/stream.jsonl" || true)" \
    "$(grep -c '"bar_close"' "$TMP/stream.jsonl" || true)"

echo
echo "Done. 'tvkit --help' and 'man -l docs/tvkit.1' describe every option."
