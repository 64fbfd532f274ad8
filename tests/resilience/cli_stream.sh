#!/usr/bin/env bash
# resilience_cli_stream: `tvkit stream` and `tvkit quotes` reconnect by default against a sim
# that drops every connection, report it on stderr (not with -q), and deliver each bar_close
# once, one minute after the other; --no-reconnect ends with exit status 3.
# Usage: cli_stream.sh TVKIT TVKIT_SIM
set -u
tvkit=$1 sim=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/tvk_res_cli.XXXXXX")
simpid=
cleanup() { [ -n "$simpid" ] && kill "$simpid" 2>/dev/null && wait "$simpid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$dir"/*.err; do echo "== $f" >&2; head -20 "$f" >&2; done; exit 1; }

"$sim" --port 0 --seed 7 --speed 600 --update-ms 10 --max-lifetime 120 -q \
  --fault close-every=40 >"$dir/ready" &
simpid=$!
for _ in $(seq 1 100); do grep -q '^listening ' "$dir/ready" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^listening //p' "$dir/ready")
[ -n "$url" ] || fail "the sim printed no ready line"

timeout 60 "$tvkit" --url "$url" stream BINANCE:BTCUSDT -i 1 --epoch --count 200 \
  >"$dir/stream.out" 2>"$dir/stream.err" || fail "stream exited $?"
grep -q 'stream: disconnected: connection lost' "$dir/stream.err" || fail "no disconnected notice"
grep -q 'stream: reconnecting: attempt 1 in' "$dir/stream.err" || fail "no reconnecting notice"
grep -q 'stream: reconnected.*to ws://.*after 1 attempt' "$dir/stream.err" || fail "no reconnected notice"
# bar_close times: strictly consecutive minutes, none twice
grep '"bar_close"' "$dir/stream.out" | sed 's/.*"time":\([0-9-]*\).*/\1/' >"$dir/closes"
[ "$(wc -l <"$dir/closes")" -ge 5 ] || fail "fewer than 5 bar_close lines"
awk 'NR > 1 && $1 != prev + 60 { print "bar_close " $1 " after " prev; bad = 1 } { prev = $1 }
     END { exit bad }' "$dir/closes" || fail "bar_close times not consecutive"

timeout 60 "$tvkit" -q --url "$url" quotes BINANCE:ETHUSDT SIM:CLIQ --count 300 \
  >"$dir/quotes.out" 2>"$dir/quotes.err" || fail "quotes exited $?"
[ ! -s "$dir/quotes.err" ] || fail "-q: notices printed"
[ "$(grep -c '"status":"ok"' "$dir/quotes.out")" -eq 300 ] || fail "quotes: not 300 lines"

timeout 60 "$tvkit" --url "$url" stream BINANCE:BTCUSDT -i 1 --no-reconnect \
  >"$dir/noreconn.out" 2>"$dir/noreconn.err"
rc=$?
[ "$rc" -eq 3 ] || fail "--no-reconnect: exit status $rc, expected 3"
grep -q 'TVK_ECONN_LOST' "$dir/noreconn.err" || fail "--no-reconnect: no TVK_ECONN_LOST message"
echo ok
