#!/usr/bin/env bash
# End-to-end tests of the tvkit command against a tvkit-sim started here on a free loopback port.
# usage: e2e.sh CASE TVKIT TVKIT_SIM PYTHON3 SOURCE_DIR
# Each CASE is one ctest test (cli_<case>). Every wait has a deadline (generous, so that a run
# under valgrind passes too); the sim is always stopped.
set -u
CASE=$1 TVKIT=$2 SIM=$3 PY=$4 SRC=$5
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tvkit-cli-e2e.XXXXXX")
SIM_PID=
MORE_SIMS= # sims a case keeps running while it starts another
cleanup() {
    local pid
    for pid in $SIM_PID $MORE_SIMS; do
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
    echo "FAIL [$CASE]: $*" >&2
    for f in "$TMP"/err "$TMP"/sim.err; do
        [ -s "$f" ] && { echo "--- $f:" >&2; head -c 3000 "$f" >&2; echo >&2; }
    done
    exit 1
}

# start_sim [sim options...]: sets URL (and PORT); waits for the ready line (deadline 10 s).
start_sim() {
    # A fresh file: the ready line of a previous sim must not be read for this one.
    rm -f "$TMP/sim.out"
    "$SIM" --port 0 -q "$@" >"$TMP/sim.out" 2>"$TMP/sim.err" &
    SIM_PID=$!
    local deadline=$((SECONDS + 30)) line=
    while :; do
        line=$(sed -n 's/^listening //p' "$TMP/sim.out" 2>/dev/null)
        [ -n "$line" ] && break
        kill -0 "$SIM_PID" 2>/dev/null || fail "tvkit-sim exited before it was ready"
        [ $SECONDS -ge $deadline ] && fail "tvkit-sim not ready within 30 s"
        sleep 0.05
    done
    URL=$line
    PORT=${URL#ws://127.0.0.1:}
    PORT=${PORT%%/*}
}

stop_sim() {
    kill "$SIM_PID" 2>/dev/null
    wait "$SIM_PID" 2>/dev/null
    SIM_PID=
}

# run EXPECTED_STATUS tvkit-args...: stdout in $TMP/out, stderr in $TMP/err.
run() {
    local want=$1
    shift
    timeout 250 "$TVKIT" "$@" >"$TMP/out" 2>"$TMP/err"
    local got=$?
    [ "$got" = "$want" ] || fail "tvkit $* exited $got, expected $want"
}

# Python checks read the file given as argv[1].
py() { "$PY" - "$@" || fail "check failed (see above)"; }

case_help() {
    run 0 --help
    for w in history stream quotes decode record --url --token --proxy --ca-file --insecure \
        --no-compress --timeout -v -q --version TVKIT_AUTH_TOKEN "Exit status"; do
        grep -q -e "$w" "$TMP/out" || fail "tvkit --help does not mention $w"
    done
    run 0 --version
    grep -q '^tvkit [0-9]' "$TMP/out" || fail "--version printed: $(cat "$TMP/out")"
    declare -A opts=(
        [history]="-i --interval -n --count --from --to -f --format -o --output --epoch --connections --parallel --adjustment --session --currency --help --url --timeout"
        [stream]="-i --interval --count --duration --epoch --no-reconnect --adjustment --session --currency --help --url --timeout"
        [quotes]="--count --duration --no-reconnect --help --url --timeout"
        [record]="FILE COMMAND --help"
        [decode]="FILE")
    for c in history stream quotes record decode; do
        run 0 "$c" --help
        for o in ${opts[$c]}; do
            grep -q -e "$o" "$TMP/out" || fail "tvkit $c --help does not document $o"
        done
    done
    # -h works everywhere too, and help goes to stdout.
    run 0 history -h
    [ -s "$TMP/out" ] || fail "tvkit history -h printed nothing on stdout"
}

case_usage() {
    # Nothing listens on the URL's port: a usage error must be reported before connecting
    # (status 2, not 3).
    start_sim
    stop_sim
    local u="--url ws://127.0.0.1:$PORT/socket.io/websocket"
    local bad=(
        ""
        "nosuchcommand"
        "--nosuchoption history NASDAQ:AAPL -i 1D -n 1"
        "history NASDAQ:AAPL -n 1"
        "history NASDAQ:AAPL -i 7X -n 1"
        "history NASDAQ:AAPL -i 1441 -n 1"
        "history AAPL -i 1D -n 1"
        "history -i 1D -n 1"
        "history NASDAQ:AAPL -i 1D"
        "history NASDAQ:AAPL -i 1D -n 0"
        "history NASDAQ:AAPL -i 1D -n abc"
        "history NASDAQ:AAPL -i 1D -n 5 --from 2024-01-01"
        "history NASDAQ:AAPL -i 1D --to 2024-01-01"
        "history NASDAQ:AAPL -i 1D --from 2024-13-01"
        "history NASDAQ:AAPL -i 1D --from 2023-02-29"
        "history NASDAQ:AAPL -i 1D --from yesterday"
        "history NASDAQ:AAPL -i 1D --from 2024-02-01 --to 2024-01-01"
        "history NASDAQ:AAPL -i 1D -n 5 -f xml"
        "history NASDAQ:AAPL -i 1D -n 5 --adjustment weird"
        "history NASDAQ:AAPL -i 1D -n 5 --session night"
        "history NASDAQ:AAPL -i 1D -n 5 --currency usd"
        "history NASDAQ:AAPL -i 1D -n 5 --timeout 0"
        "history NASDAQ:AAPL -i 1D -n 5 --bogus"
        "history NASDAQ:AAPL -i"
        "history NASDAQ:AAPL -i 1D -n 5 --connections 0"
        "history NASDAQ:AAPL -i 1D -n 5 --connections 9"
        "history NASDAQ:AAPL -i 1D -n 5 --connections two"
        "history NASDAQ:AAPL -i 1D -n 5 --parallel 0"
        "history NASDAQ:AAPL -i 1D -n 5 --parallel 33"
        "history NASDAQ:AAPL -i 1D -n 5 --parallel"
        "record $TMP/m.txt history NASDAQ:AAPL -i 1D -n 5 --connections 2"
        "stream NASDAQ:AAPL"
        "stream NASDAQ:AAPL -i 1 --count 0"
        "stream NASDAQ:AAPL -i 1 --duration soon"
        "quotes"
        "quotes NASDAQ:AAPL --count -1"
        "quotes NASDAQ:AAPL --timeout abc"
        "record"
        "record $TMP/x.txt"
        "record $TMP/x.txt decode"
        "--timeout"
    )
    for args in "${bad[@]}"; do
        # shellcheck disable=SC2086
        run 2 $u $args
        [ -s "$TMP/err" ] || fail "tvkit $args: no message on stderr"
        [ -s "$TMP/out" ] && fail "tvkit $args: wrote to stdout: $(head -c 200 "$TMP/out")"
        grep -q "cannot connect" "$TMP/err" && fail "tvkit $args: tried to connect"
    done
    [ -e "$TMP/x.txt" ] && fail "record created its file on a usage error"
    # The messages name the problem.
    run 2 $u history NASDAQ:AAPL -i 1D --from 2024-13-01
    grep -q "month" "$TMP/err" || fail "bad month message: $(cat "$TMP/err")"
    run 2 $u history NASDAQ:AAPL -i 7X -n 1
    grep -q "7X" "$TMP/err" || fail "bad interval message: $(cat "$TMP/err")"
    run 2 $u history AAPL -i 1D -n 1
    grep -q "AAPL" "$TMP/err" || fail "bad symbol message: $(cat "$TMP/err")"
    run 2 $u history NASDAQ:AAPL -i 1D -n 5 --connections 9
    grep -q -- "--connections.*1 to 8" "$TMP/err" || fail "--connections range: $(cat "$TMP/err")"
    run 2 $u history NASDAQ:AAPL -i 1D -n 5 --parallel 33
    grep -q -- "--parallel.*1 to 32" "$TMP/err" || fail "--parallel range: $(cat "$TMP/err")"
    run 2 $u record "$TMP/m.txt" history NASDAQ:AAPL -i 1D -n 5 --connections 2
    grep -q "record.*--connections must be 1" "$TMP/err" || fail "record + --connections: $(cat "$TMP/err")"
}

# The sim's market clock stands still (2026-01-01 00:00 UTC, markets closed, 1 ms per second)
# in the cases that compare the newest bars of two downloads: at real time, during a session
# the forming bar moves between them (seen failing at 14:40 UTC, NYSE open, on a loaded machine).
FROZEN_CLOCK="--start 1767225600 --speed 0.001"

case_history() {
    # shellcheck disable=SC2086
    start_sim $FROZEN_CLOCK
    local u="--url $URL"
    # 20,000 daily bars, paged: CSV by default on a pipe, sorted and unique.
    run 0 $u history NASDAQ:AAPL -i 1D -n 20000
    py "$TMP/out" <<'EOF'
import sys, csv, datetime
rows = list(csv.reader(open(sys.argv[1])))
assert rows[0] == ["symbol","time","open","high","low","close","volume"], rows[0]
rows = rows[1:]
assert len(rows) == 20000, len(rows)
ts = [datetime.datetime.strptime(r[1], "%Y-%m-%dT%H:%M:%SZ") for r in rows]
assert all(a < b for a, b in zip(ts, ts[1:])), "not strictly increasing"
for r in rows:
    assert r[0] == "NASDAQ:AAPL"
    o, h, l, c, v = map(float, r[2:])
    assert l <= min(o, c) and h >= max(o, c), r
EOF
    cp "$TMP/out" "$TMP/big.csv"
    # stderr is not a terminal: no progress bar, and nothing else to say.
    [ -s "$TMP/err" ] && fail "stderr of a plain download: $(head -c 300 "$TMP/err")"
    # The newest 5 bars are the last 5 of the big download; JSONL and --epoch carry the same.
    run 0 $u history NASDAQ:AAPL -i 1D -n 5 -f csv
    [ "$(tail -n 5 "$TMP/big.csv")" = "$(tail -n +2 "$TMP/out")" ] || fail "-n 5 is not the tail of -n 20000"
    run 0 $u history NASDAQ:AAPL -i 1D -n 5 -f jsonl --epoch
    cp "$TMP/out" "$TMP/j"
    py "$TMP/j" "$TMP/big.csv" <<'EOF'
import sys, json, csv, calendar, time
js = [json.loads(l) for l in open(sys.argv[1])]
rows = list(csv.reader(open(sys.argv[2])))[-5:]
assert len(js) == 5
for j, r in zip(js, rows):
    assert set(j) == {"symbol","time","open","high","low","close","volume"}, j
    assert isinstance(j["time"], int)
    assert j["time"] == calendar.timegm(time.strptime(r[1], "%Y-%m-%dT%H:%M:%SZ"))
    assert [j[k] for k in ("open","high","low","close","volume")] == list(map(float, r[2:])), (j, r)
EOF
    run 0 $u history NASDAQ:AAPL -i 1D -n 3 -f csv --epoch
    tail -n +2 "$TMP/out" | grep -qvE '^NASDAQ:AAPL,[0-9]+,' && fail "--epoch CSV: $(cat "$TMP/out")"
    # -o FILE: nothing on stdout, the file holds the CSV.
    run 0 $u history NASDAQ:AAPL -i 1D -n 5 -o "$TMP/o.csv"
    [ -s "$TMP/out" ] && fail "-o wrote to stdout"
    [ "$(tail -n 5 "$TMP/big.csv")" = "$(tail -n +2 "$TMP/o.csv")" ] || fail "-o file differs"
    run 0 $u history NASDAQ:AAPL -i 1D -n 5 -o "$TMP/o.jsonl" -f jsonl
    [ "$(wc -l <"$TMP/o.jsonl")" = 5 ] || fail "-o -f jsonl: $(cat "$TMP/o.jsonl")"
    # Table: aligned, a header per symbol.
    run 0 $u history NASDAQ:AAPL SP:SPX -i 1D -n 3 -f table
    py "$TMP/out" <<'EOF'
import sys
lines = open(sys.argv[1]).read().split("\n")
assert lines[0].split() == ["symbol","time","open","high","low","close","volume"], lines[0]
assert lines[1].startswith("NASDAQ:AAPL  "), lines[1]
assert lines[4] == "", lines[4]
assert lines[5].split() == lines[0].split()
assert all(l.startswith("SP:SPX ") for l in lines[6:9]), lines
# right-aligned numbers: every data row of a block has the same length
assert len({len(l) for l in lines[1:4]}) == 1 and len({len(l) for l in lines[6:9]}) == 1
EOF
    # An index has no volume: empty CSV field, null in JSON.
    run 0 $u history SP:SPX -i 1D -n 4
    [ "$(tail -n +2 "$TMP/out" | grep -c ',$')" = 4 ] || fail "SP:SPX volume not empty: $(cat "$TMP/out")"
    run 0 $u history SP:SPX -i 1D -n 2 -f jsonl
    [ "$(grep -c '"volume":null}' "$TMP/out")" = 2 ] || fail "SP:SPX JSON volume: $(cat "$TMP/out")"
    # Several symbols over one connection, in the order given (more than the pipeline window).
    local syms="NYSE:IBM NASDAQ:AAPL SP:SPX BINANCE:BTCUSDT FX:EURUSD NASDAQ:MSFT SIM:ZZZ NASDAQ:GOOGL"
    # shellcheck disable=SC2086
    run 0 $u history $syms -i 1D -n 7
    [ "$(tail -n +2 "$TMP/out" | cut -d, -f1 | uniq | tr '\n' ' ')" = "$syms " ] ||
        fail "order: $(tail -n +2 "$TMP/out" | cut -d, -f1 | uniq | tr '\n' ' ')"
    [ "$(wc -l <"$TMP/out")" = 57 ] || fail "8 x 7 bars + header: $(wc -l <"$TMP/out")"
    # The same bars as one symbol alone.
    grep '^NASDAQ:AAPL,' "$TMP/out" >"$TMP/multi"
    [ "$(tail -n 7 "$TMP/big.csv")" = "$(cat "$TMP/multi")" ] || fail "multi-symbol bars differ"
}

case_range() {
    # shellcheck disable=SC2086
    start_sim $FROZEN_CLOCK
    local u="--url $URL"
    run 0 $u history NYSE:IBM -i 60 -n 40 -f csv --epoch
    tail -n +2 "$TMP/out" >"$TMP/all"
    local from to
    from=$(sed -n 10p "$TMP/all" | cut -d, -f2)
    to=$(sed -n 30p "$TMP/all" | cut -d, -f2)
    # [from, to) is exactly rows 10..29, by Unix seconds and by ISO dates.
    run 0 $u history NYSE:IBM -i 60 --from "$from" --to "$to" -f csv --epoch
    [ "$(tail -n +2 "$TMP/out")" = "$(sed -n 10,29p "$TMP/all")" ] || fail "range by seconds"
    local fi ti
    fi=$("$PY" -c "import time,sys; print(time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime($from)))")
    ti=$("$PY" -c "import time,sys; print(time.strftime('%Y-%m-%dT%H:%M', time.gmtime($to)))")
    run 0 $u history NYSE:IBM -i 60 --from "$fi" --to "$ti" -f csv --epoch
    [ "$(tail -n +2 "$TMP/out")" = "$(sed -n 10,29p "$TMP/all")" ] || fail "range by ISO dates"
    # --to defaults to now: the range from row 30 on ends with the newest bar.
    run 0 $u history NYSE:IBM -i 60 --from "$to" -f csv --epoch
    [ "$(tail -n 1 "$TMP/out")" = "$(tail -n 1 "$TMP/all")" ] || fail "--to default (now)"
    [ "$(tail -n +2 "$TMP/out" | head -n 1)" = "$(sed -n 30p "$TMP/all")" ] || fail "--from only"
    # Daily range with dates only.
    run 0 $u history NASDAQ:AAPL -i 1D --from 2020-01-01 --to 2020-02-01
    py "$TMP/out" <<'EOF'
import sys, csv
rows = list(csv.reader(open(sys.argv[1])))[1:]
assert 15 <= len(rows) <= 23, len(rows)
assert all("2020-01-01" <= r[1] < "2020-02-01" for r in rows), rows
EOF
    # A range with no bars is an error (status 1), not an empty success.
    # (1970-01-03 was a Saturday: no daily bar of a stock.)
    run 1 $u history NASDAQ:AAPL -i 1D --from 1970-01-03 --to 1970-01-04T12:00
    grep -qi "no data" "$TMP/err" || fail "no-data message: $(cat "$TMP/err")"
}

# sim_log_check FROM_LINE MAX_PARALLEL CONNS SYMBOLS...: the sim's --log from line FROM_LINE on
# holds one run that requested every symbol exactly once, over CONNS connections (a number, or
# MIN-MAX), each connection with at most MAX_PARALLEL chart sessions open at once and at least
# one with exactly that many (so the parallelism was used, not only allowed).
sim_log_check() {
    py "$TMP/sim.log" "$@" <<'EOF'
import sys, json, collections
log, start, par, conns, syms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5:]
lo, _, hi = conns.partition("-")
lines = [json.loads(l) for l in open(log)][start:]
requested = collections.Counter()
open_now, peak = collections.Counter(), collections.Counter()
for l in lines:
    m = l.get("msg")
    if not m: continue
    c = l["conn"]
    if m["m"] == "chart_create_session":
        open_now[c] += 1
        peak[c] = max(peak[c], open_now[c])
    elif m["m"] == "chart_delete_session":
        open_now[c] -= 1
    elif m["m"] == "resolve_symbol":
        requested[json.loads(m["p"][2].lstrip("="))["symbol"]] += 1
assert sorted(requested) == sorted(syms) and set(requested.values()) == {1}, requested
assert int(lo) <= len(peak) <= int(hi or lo), ("connections used", conns, dict(peak))
assert max(peak.values()) == par and all(v <= par for v in peak.values()), ("open at once", dict(peak))
EOF
}

case_multi() {
    # The market clock stands (almost) still: the forming bar is the same in every run, so runs
    # can be compared byte for byte.
    # shellcheck disable=SC2086
    start_sim --log "$TMP/sim.log" $FROZEN_CLOCK
    local u="--url $URL" n0
    local syms="NYSE:IBM NASDAQ:AAPL SP:SPX BINANCE:BTCUSDT FX:EURUSD NASDAQ:MSFT SIM:ZZZ NASDAQ:GOOGL SIM:A SIM:B"
    # The default: one connection, 4 series at once.
    n0=$(wc -l <"$TMP/sim.log")
    # shellcheck disable=SC2086
    run 0 $u history $syms -i 1D -n 3000
    cp "$TMP/out" "$TMP/one.csv"
    [ "$(wc -l <"$TMP/one.csv")" = 30001 ] || fail "10 x 3000 bars + header: $(wc -l <"$TMP/one.csv")"
    # shellcheck disable=SC2086
    sim_log_check "$n0" 4 1 $syms
    # 3 connections x 2 series: the same bytes, all three connections used.
    n0=$(wc -l <"$TMP/sim.log")
    # shellcheck disable=SC2086
    run 0 $u history $syms -i 1D -n 3000 --connections 3 --parallel 2
    cmp -s "$TMP/out" "$TMP/one.csv" || fail "--connections 3 --parallel 2 output differs"
    [ -s "$TMP/err" ] && fail "stderr of a plain multi-connection run: $(head -c 300 "$TMP/err")"
    # shellcheck disable=SC2086
    sim_log_check "$n0" 2 3 $syms
    # One series at a time on one connection; 8 connections of 1 (a connection is opened only
    # while symbols wait for one: how many depends on how fast the first ones finish); the
    # widest setting (10 symbols over 2 connections: each takes its share of 5 as it opens).
    local opt want
    for opt in "--parallel 1:1 1" "--connections 8 --parallel 1:1 2-8" "--connections 2 --parallel 32:5 2"; do
        want=${opt#*:}
        opt=${opt%%:*}
        n0=$(wc -l <"$TMP/sim.log")
        # shellcheck disable=SC2086
        run 0 $u history $syms -i 1D -n 3000 $opt
        cmp -s "$TMP/out" "$TMP/one.csv" || fail "$opt: output differs"
        # shellcheck disable=SC2086
        sim_log_check "$n0" $want $syms
    done
    # The table (a header per block) comes out the same too.
    # shellcheck disable=SC2086
    run 0 $u history $syms -i 60 -n 7 -f table
    cp "$TMP/out" "$TMP/one.table"
    # shellcheck disable=SC2086
    run 0 $u history $syms -i 60 -n 7 -f table --connections 4 --parallel 3
    cmp -s "$TMP/out" "$TMP/one.table" || fail "table output differs"
    # -v names the connection that loaded each symbol (which one: the first may be free again
    # by the time the second is open).
    run 0 $u -v history NASDAQ:AAPL NYSE:IBM -i 1D -n 2 --connections 2 --parallel 1
    grep -q "NASDAQ:AAPL: 2 bars in 1 pages (connection 1)" "$TMP/err" || fail "-v: $(cat "$TMP/err")"
    grep -q "NYSE:IBM: 2 bars in 1 pages (connection [12])" "$TMP/err" || fail "-v: $(cat "$TMP/err")"
    # A symbol the server rejects among good ones: its error, the others' bars, status 4; the
    # same stdout, stderr and status as over one connection.
    local mixed="NASDAQ:AAPL NASDAQ:NOPE NYSE:IBM SIM:X SP:SPX FX:NOPE BINANCE:ETHUSDT"
    # shellcheck disable=SC2086
    run 4 $u history $mixed -i 1D -n 20 --epoch
    cp "$TMP/out" "$TMP/mixed.csv"
    cp "$TMP/err" "$TMP/mixed.err"
    grep -q "NASDAQ:NOPE" "$TMP/err" || fail "rejected symbol not named: $(cat "$TMP/err")"
    grep -q "FX:NOPE" "$TMP/err" || fail "rejected symbol not named: $(cat "$TMP/err")"
    [ "$(tail -n +2 "$TMP/out" | cut -d, -f1 | uniq | tr '\n' ' ')" = "NASDAQ:AAPL NYSE:IBM SIM:X SP:SPX BINANCE:ETHUSDT " ] ||
        fail "partial output: $(tail -n +2 "$TMP/out" | cut -d, -f1 | uniq | tr '\n' ' ')"
    # shellcheck disable=SC2086
    run 4 $u history $mixed -i 1D -n 20 --epoch --connections 3 --parallel 1
    cmp -s "$TMP/out" "$TMP/mixed.csv" || fail "several connections, a bad symbol: output differs"
    cmp -s "$TMP/err" "$TMP/mixed.err" || fail "several connections, a bad symbol: stderr $(cat "$TMP/err")"
    stop_sim
    # The first connection is dropped after the hello and one more packet: neither of its two
    # series (the first two symbols: each connection takes its share as it is opened) can
    # complete; they fail with the connection, and the others (the 7th on too) load over
    # connections 2 and 3. Exit 3.
    start_sim --fault close-after=2
    local twelve
    twelve=$(for i in $(seq 10 21); do printf 'SIM:S%s ' "$i"; done)
    # shellcheck disable=SC2086
    run 3 --url "$URL" history $twelve -i 1D -n 100 --connections 3 --parallel 2
    grep -q "connection 1 of 3 lost.*the others go on" "$TMP/err" || fail "no lost notice: $(cat "$TMP/err")"
    for s in SIM:S10 SIM:S11; do
        grep -q "history: $s: .*(TVK_ECONN_LOST\|TVK_ECLOSED)" "$TMP/err" || fail "$s not failed: $(cat "$TMP/err")"
    done
    [ "$(grep -c "^tvkit: history: SIM:" "$TMP/err")" = 2 ] || fail "errors: $(cat "$TMP/err")"
    [ "$(tail -n +2 "$TMP/out" | cut -d, -f1 | uniq -c | awk '{printf "%s:%s ", $2, $1}')" = \
        "SIM:S12:100 SIM:S13:100 SIM:S14:100 SIM:S15:100 SIM:S16:100 SIM:S17:100 SIM:S18:100 SIM:S19:100 SIM:S20:100 SIM:S21:100 " ] ||
        fail "the other symbols: $(tail -n +2 "$TMP/out" | cut -d, -f1 | uniq -c | tr '\n' ' ')"
    stop_sim
    # The first connection is dropped with SIM:A loading: the slot its failure frees is not offered
    # to that connection again (a request there would fail as "not connected" and the notice would
    # lose the cause); SIM:B, SIM:C, SIM:D load over connection 2. Exit 3.
    start_sim --fault close-after=3
    run 3 --url "$URL" history SIM:A SIM:B SIM:C SIM:D -i 1D -n 100 --connections 2 --parallel 1
    grep -q "connection 1 of 2 lost: connection lost (TVK_E[A-Z_]*): .*the others go on" "$TMP/err" ||
        fail "lost notice without its cause: $(cat "$TMP/err")"
    grep -q "history: SIM:A: .*(TVK_ECONN_LOST\|TVK_ECLOSED)" "$TMP/err" || fail "SIM:A: $(cat "$TMP/err")"
    [ "$(grep -c "^tvkit: history: SIM:" "$TMP/err")" = 1 ] || fail "errors: $(cat "$TMP/err")"
    [ "$(tail -n +2 "$TMP/out" | cut -d, -f1 | uniq -c | awk '{printf "%s:%s ", $2, $1}')" = \
        "SIM:B:100 SIM:C:100 SIM:D:100 " ] ||
        fail "the other symbols: $(tail -n +2 "$TMP/out" | cut -d, -f1 | uniq -c | tr '\n' ' ')"
    stop_sim
    # Every connection dropped: the symbols loading fail, one error names those never requested.
    start_sim --fault close-every=2
    run 3 --url "$URL" history SIM:A SIM:B SIM:C SIM:D SIM:E -i 1D -n 100 --connections 2 --parallel 1
    [ -s "$TMP/out" ] && fail "output although every connection was lost: $(head -c 300 "$TMP/out")"
    grep -q "history: SIM:A: .*(TVK_ECONN_LOST\|TVK_ECLOSED)" "$TMP/err" || fail "SIM:A: $(cat "$TMP/err")"
    grep -q "history: SIM:B: .*(TVK_ECONN_LOST\|TVK_ECLOSED)" "$TMP/err" || fail "SIM:B: $(cat "$TMP/err")"
    grep -q "3 symbols not requested (SIM:C and after): every connection was lost" "$TMP/err" ||
        fail "not-requested message: $(cat "$TMP/err")"
    stop_sim
    # Some connections cannot be opened (the sim serves one at a time): the run goes on over
    # the other, with a warning, and succeeds.
    start_sim --max-conns 1
    run 0 --url "$URL" history SIM:A SIM:B SIM:C -i 1D -n 10 --connections 3
    [ "$(wc -l <"$TMP/out")" = 31 ] || fail "--max-conns 1: $(cat "$TMP/out")"
    grep -q "going on with 1 of 3 connections" "$TMP/err" || fail "no warning: $(cat "$TMP/err")"
    stop_sim
    # Output that cannot be written ends the run there: status 1 with the reason, and no
    # connection is opened after it (finished series are written while the others load).
    if [ -w /dev/full ]; then
        start_sim
        local many i
        many=$(for i in $(seq 1 40); do printf "SIM:S%02d " "$i"; done)
        # shellcheck disable=SC2086
        timeout 250 "$TVKIT" --url "$URL" -v history $many -i 1D -n 100 --connections 4 \
            --parallel 1 >/dev/full 2>"$TMP/err"
        [ $? = 1 ] || fail "40 symbols >/dev/full: not status 1"
        grep -q "No space left" "$TMP/err" || fail "40 symbols >/dev/full: $(cat "$TMP/err")"
        sed -n '/cannot write/,$p' "$TMP/err" | grep -q "connecting to" &&
            fail "a connection opened after the write failed: $(cat "$TMP/err")"
    fi
}

case_stream() {
    # A 1-minute bar closes every 0.1 s of wall time.
    start_sim --speed 600 --update-ms 20
    local u="--url $URL"
    run 0 $u stream BINANCE:BTCUSDT -i 1 --count 60
    cp "$TMP/out" "$TMP/s"
    py "$TMP/s" <<'EOF'
import sys, json
ev = [json.loads(l) for l in open(sys.argv[1])]
assert len(ev) == 60, len(ev)
keys = ["event","symbol","time","open","high","low","close","volume"]
closes = []
for e in ev:
    assert list(e) == keys, e
    assert e["event"] in ("bar_update", "bar_close"), e
    assert e["symbol"] == "BINANCE:BTCUSDT"
    assert e["time"].endswith(":00Z"), e
    assert e["low"] <= min(e["open"], e["close"]) and e["high"] >= max(e["open"], e["close"])
    if e["event"] == "bar_close": closes.append(e["time"])
assert closes, "no bar_close in 60 events"
assert closes == sorted(set(closes)), closes
EOF
    run 0 $u stream BINANCE:BTCUSDT BINANCE:ETHUSDT -i 1 --count 40 --epoch
    grep -q '"symbol":"BINANCE:ETHUSDT","time":[0-9]' "$TMP/out" || fail "second symbol / --epoch"
    # --duration stops the stream (status 0); 2 s leaves room for slow runs (valgrind).
    run 0 $u stream BINANCE:BTCUSDT -i 1 --duration 2
    [ -s "$TMP/out" ] || fail "--duration 2: no events"
    # A symbol the server rejects: reported, the others go on, status 4.
    run 4 $u stream NASDAQ:NOPE BINANCE:BTCUSDT -i 1 --duration 2
    grep -q "NASDAQ:NOPE" "$TMP/err" || fail "rejected symbol not reported"
    grep -q '"symbol":"BINANCE:BTCUSDT"' "$TMP/out" || fail "the good symbol stopped"
    run 4 $u stream NASDAQ:NOPE -i 1
}

case_quotes() {
    start_sim --update-ms 20 --speed 60
    local u="--url $URL"
    local syms="BINANCE:BTCUSDT BINANCE:ETHUSDT NASDAQ:AAPL NYSE:IBM FX:EURUSD"
    # shellcheck disable=SC2086
    run 0 $u quotes $syms --count 30
    cp "$TMP/out" "$TMP/q"
    py "$TMP/q" $syms <<'EOF'
import sys, json
qs = [json.loads(l) for l in open(sys.argv[1])]
assert len(qs) == 30, len(qs)
syms = sys.argv[2:]
first = {}
for q in qs:
    assert q["status"] == "ok", q
    assert q["symbol"] in syms, q
    first.setdefault(q["symbol"], q)
# every symbol's first snapshot is complete (merged: later lines carry every field too)
assert set(first) == set(syms), first.keys()
for q in qs:
    for k in ("lp", "ch", "description", "exchange"):
        assert k in q, (k, q)
EOF
    # shellcheck disable=SC2086
    run 0 $u quotes $syms --duration 2
    [ "$(wc -l <"$TMP/out")" -ge 5 ] || fail "--duration 2: $(wc -l <"$TMP/out") lines"
    run 4 $u quotes NASDAQ:NOPE BINANCE:BTCUSDT --duration 2
    grep -q '"symbol":"NASDAQ:NOPE","status":"error"' "$TMP/out" || fail "error line: $(head -c 300 "$TMP/out")"
    grep -q '"symbol":"BINANCE:BTCUSDT","status":"ok"' "$TMP/out" || fail "good symbol stopped"
    grep -q "NASDAQ:NOPE" "$TMP/err" || fail "no message for the rejected symbol"
    run 4 $u quotes NASDAQ:NOPE
}

case_record() {
    start_sim
    local u="--url $URL"
    run 0 $u record "$TMP/h.txt" history NASDAQ:AAPL -i 1D -n 12000 -o "$TMP/h.csv"
    [ "$(wc -l <"$TMP/h.csv")" = 12001 ] || fail "recorded history output"
    grep -q '^~m~[0-9]*~m~{"session_id"' "$TMP/h.txt" || fail "capture lacks the hello"
    "$TVKIT" decode "$TMP/h.txt" >"$TMP/d" 2>"$TMP/err" || fail "decode of the capture failed"
    py "$TMP/d" "$TMP/h.csv" <<'EOF'
import sys, json
pk = [json.loads(l) for l in open(sys.argv[1])]
types = [p["type"] for p in pk]
assert types[0] == "hello", (types[:3], open(sys.argv[1]).read(300))
assert "symbol_resolved" in types and "series_completed" in types, set(types)
bars = {b["t"] for p in pk if p["type"] == "timescale_update" for s in p["series"] for b in s["bars"]}
assert len(bars) >= 12000, len(bars)
EOF
    run 0 $u record "$TMP/q.txt" quotes BINANCE:BTCUSDT NYSE:IBM --count 3
    "$TVKIT" decode "$TMP/q.txt" >"$TMP/d" 2>"$TMP/err" || fail "decode of the quotes capture"
    grep -q '"type":"qsd"' "$TMP/d" || fail "no qsd in the quotes capture"
    # Global options after record, and the command's status passes through.
    run 4 record $u "$TMP/bad.txt" history NASDAQ:NOPE -i 1D -n 2 --timeout 5
    grep -q "symbol_error" "$TMP/bad.txt" || fail "capture of a rejected symbol"
    run 1 $u record /nonexistent-dir/x.txt history NASDAQ:AAPL -i 1D -n 2
}

case_exit() {
    # 3: connection refused (a port on which the sim listened, now closed).
    start_sim
    local port=$PORT
    stop_sim
    run 3 --url "ws://127.0.0.1:$port/socket.io/websocket" history NASDAQ:AAPL -i 1D -n 2
    grep -q "cannot connect" "$TMP/err" || fail "refused message: $(cat "$TMP/err")"
    run 3 --url "ws://127.0.0.1:$port/socket.io/websocket" quotes NASDAQ:AAPL
    run 3 --url "ws://127.0.0.1:$port/socket.io/websocket" stream NASDAQ:AAPL -i 1
    # 4: the server rejects the symbol (valid syntax, unknown to the server).
    start_sim
    run 4 --url "$URL" history NASDAQ:NOPE -i 1D -n 2
    grep -q "NASDAQ:NOPE" "$TMP/err" || fail "rejected-symbol message: $(cat "$TMP/err")"
    # Several symbols: the good ones are still written, the status says one failed.
    run 4 --url "$URL" history NASDAQ:AAPL NASDAQ:NOPE NYSE:IBM -i 1D -n 2 --epoch
    [ "$(tail -n +2 "$TMP/out" | cut -d, -f1 | tr '\n' ' ')" = "NASDAQ:AAPL NASDAQ:AAPL NYSE:IBM NYSE:IBM " ] ||
        fail "partial output: $(cat "$TMP/out")"
    stop_sim
    # 5: the server stops answering (heartbeats go on) and the deadline passes.
    start_sim --fault stall-after=1
    run 5 --url "$URL" --timeout 1 history NASDAQ:AAPL -i 1D -n 2
    grep -q "TVK_ETIMEDOUT" "$TMP/err" || fail "timeout message: $(cat "$TMP/err")"
    run 5 --url "$URL" --timeout 0.5 quotes NASDAQ:AAPL
    run 5 --url "$URL" --timeout 0.5 stream NASDAQ:AAPL -i 1
    stop_sim
    # 5: every answer takes longer than the deadline.
    start_sim --latency 2000
    run 5 --url "$URL" --timeout 0.5 history NASDAQ:AAPL -i 1D -n 2
    stop_sim
    # 3 or 4 for a protocol_error answer (the server rejected the request): 4.
    start_sim --fault protocol-error=1
    run 4 --url "$URL" history NASDAQ:AAPL -i 1D -n 2
    stop_sim
    # 4: a minute resolution the plan does not allow (series_error custom_resolution), at once
    # and named; a standard one on the same server works.
    start_sim --fault custom-resolution
    local t0=$SECONDS
    run 4 --url "$URL" --timeout 30 history NASDAQ:AAPL -i 20 -n 10
    [ $((SECONDS - t0)) -lt 10 ] || fail "custom_resolution took $((SECONDS - t0)) s"
    grep -q "custom_resolution" "$TMP/err" || fail "custom_resolution message: $(cat "$TMP/err")"
    grep -q "TVK_EINTERVAL" "$TMP/err" || fail "custom_resolution code: $(cat "$TMP/err")"
    run 0 --url "$URL" history NASDAQ:AAPL -i 15 -n 10 --epoch
    [ "$(tail -n +2 "$TMP/out" | wc -l)" = 10 ] || fail "-i 15: $(cat "$TMP/out")"
}

case_reconnect() {
    # Every connection is dropped by the sim after 40 data packets: stream and quotes reconnect
    # (notices on stderr, none with -q) and go on; --no-reconnect ends with status 3.
    start_sim --speed 600 --update-ms 20 --fault close-every=40
    local u="--url $URL"
    run 0 $u stream BINANCE:BTCUSDT -i 1 --count 100
    cp "$TMP/out" "$TMP/s"
    grep -q "disconnected" "$TMP/err" || fail "no disconnected notice: $(cat "$TMP/err")"
    grep -q "reconnecting" "$TMP/err" || fail "no reconnecting notice"
    grep -q "reconnected" "$TMP/err" || fail "no reconnected notice"
    py "$TMP/s" <<'EOF2'
import sys, json
ev = [json.loads(l) for l in open(sys.argv[1])]
assert len(ev) == 100, len(ev)
closes = [e["time"] for e in ev if e["event"] == "bar_close"]
assert closes == sorted(set(closes)), closes
EOF2
    run 0 $u -q stream BINANCE:BTCUSDT -i 1 --count 100
    [ -s "$TMP/err" ] && fail "-q printed: $(cat "$TMP/err")"
    run 0 $u quotes BINANCE:BTCUSDT BINANCE:ETHUSDT --count 100
    grep -q "reconnected" "$TMP/err" || fail "quotes: no reconnected notice"
    grep -vq '"status":"ok"' "$TMP/out" && fail "quotes: a line not ok across reconnects"
    run 3 $u stream BINANCE:BTCUSDT -i 1 --no-reconnect
    grep -q "TVK_ECONN_LOST\|TVK_ECLOSED" "$TMP/err" || fail "--no-reconnect: $(cat "$TMP/err")"
    run 3 $u quotes BINANCE:BTCUSDT --no-reconnect
    # A download does not reconnect: it fails with status 3.
    stop_sim
    start_sim --fault close-every=3
    run 3 --url "$URL" history BINANCE:BTCUSDT -i 1 -n 20000
    grep -q "TVK_ECONN_LOST\|TVK_ECLOSED" "$TMP/err" || fail "history: $(cat "$TMP/err")"
}

case_signal() {
    # Ctrl-C (SIGINT) and SIGTERM end stream, quotes and record cleanly: every line received is
    # written whole, the exit status is 128 + the signal, promptly. A reader that goes away
    # (`| head`) ends the command quietly with 141. The firehose keeps the output buffer busy,
    # so the signal lands in the middle of a burst.
    start_sim --firehose 100000000 --symbols 2
    local fire=$URL
    MORE_SIMS="$MORE_SIMS $SIM_PID"
    start_sim --latency 5000
    local slow=$URL
    MORE_SIMS="$MORE_SIMS $SIM_PID"
    start_sim --update-ms 20 --speed 600
    local live=$URL
    "$PY" - "$TVKIT" "$TMP" "$fire" "$live" "$slow" <<'EOF' || fail "signal checks"
import json, os, select, signal, subprocess, sys, time
tvkit, tmp, fire, live, slow = sys.argv[1:6]

def read_until(p, buf, pred, deadline, what):
    while not pred(buf):
        left = deadline - time.monotonic()
        assert left > 0, "%s: deadline passed (%d bytes read)" % (what, len(buf))
        r, _, _ = select.select([p.stdout], [], [], left)
        if not r: continue
        chunk = os.read(p.stdout.fileno(), 1 << 20)
        if not chunk: return False
        buf += chunk
    return True

def check_lines(data, what, key):
    assert data, what + ": no output"
    assert data.endswith(b"\n"), what + ": torn last line: %r" % data[-200:]
    n = 0
    for line in data.split(b"\n")[:-1]:
        obj = json.loads(line)
        assert key in obj, (what, obj)
        n += 1
    return n

def interrupted(args, sig, key, min_lines=1):
    what = " ".join(args) + " <- " + signal.Signals(sig).name
    err = open(os.path.join(tmp, "err"), "wb")
    p = subprocess.Popen([tvkit] + args, stdout=subprocess.PIPE, stderr=err)
    buf = bytearray()
    try:
        assert read_until(p, buf, lambda b: b.count(b"\n") >= min_lines,
                          time.monotonic() + 60, what + ": output"), what + ": ended early"
        p.send_signal(sig)
        sent = time.monotonic()
        # every line the command holds, then EOF and the exit, within the deadline (the close
        # handshake is bounded by 2 s; valgrind is slow)
        read_until(p, buf, lambda b: False, sent + 20, what + ": EOF")
        rc = p.wait(timeout=max(0.1, sent + 20 - time.monotonic()))
    finally:
        if p.poll() is None: p.kill(); p.wait()
        err.close()
    took = time.monotonic() - sent
    msg = open(os.path.join(tmp, "err"), "rb").read()
    assert rc == 128 + sig, "%s: exit status %r, expected %d (stderr %r)" % (what, rc, 128 + sig, msg[:300])
    n = check_lines(bytes(buf), what, key)
    assert b"cannot write" not in msg and b"error" not in msg, (what, msg[:300])
    print("%s: %d lines, exit %d after %.2f s" % (what, n, rc, took))
    return n

# mid-burst (the firehose), then live quotes and live bars; SIGINT and SIGTERM
n = interrupted(["--url", fire, "quotes", "SIM:A", "SIM:B"], signal.SIGINT, "symbol", 2000)
interrupted(["--url", fire, "quotes", "SIM:A", "SIM:B"], signal.SIGTERM, "symbol", 2000)
interrupted(["--url", live, "quotes", "BINANCE:BTCUSDT", "NYSE:IBM"], signal.SIGINT, "symbol")
interrupted(["--url", live, "stream", "BINANCE:BTCUSDT", "-i", "1"], signal.SIGINT, "event", 3)
interrupted(["--url", live, "stream", "BINANCE:BTCUSDT", "-i", "1"], signal.SIGTERM, "event", 3)

# record: the capture is complete too (whole lines, readable by decode)
cap = os.path.join(tmp, "cap.txt")
interrupted(["--url", live, "record", cap, "quotes", "BINANCE:ETHUSDT"], signal.SIGINT, "symbol", 3)
data = open(cap, "rb").read()
assert data.endswith(b"\n") and data.count(b"\n") >= 3, data[-200:]
d = subprocess.run([tvkit, "decode", cap], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
assert d.returncode == 0, d.stderr[:300]
assert b'"type":"qsd"' in d.stdout

# the reader goes away: quiet, 141, promptly
for url, args in ((fire, ["quotes", "SIM:A", "SIM:B"]), (live, ["stream", "BINANCE:BTCUSDT", "-i", "1"])):
    p = subprocess.Popen([tvkit, "--url", url] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    buf = bytearray()
    try:
        assert read_until(p, buf, lambda b: b.count(b"\n") >= 3, time.monotonic() + 60, "pipe")
        p.stdout.close()
        out, msg = p.communicate(timeout=20)
    finally:
        if p.poll() is None: p.kill(); p.wait()
    assert p.returncode == 141, (args, p.returncode, msg[:300])
    assert not msg, (args, msg[:300])
    print("%s | head: exit 141, nothing on stderr" % " ".join(args))

# a download keeps the default action: it ends at once, killed by the signal
def has_socket(pid):
    for f in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, f)).startswith("socket:"): return True
        except OSError:
            pass
    return False

for sig in (signal.SIGINT, signal.SIGTERM):
    err = open(os.path.join(tmp, "err"), "wb")
    p = subprocess.Popen([tvkit, "--url", slow, "history", "NASDAQ:AAPL", "-i", "1D", "-n", "5"],
                         stdout=subprocess.DEVNULL, stderr=err)
    try:
        # running (its socket open) and waiting for the answer, 5 s away
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and p.poll() is None and not has_socket(p.pid):
            time.sleep(0.02)
        p.send_signal(sig)
        rc = p.wait(timeout=20)
    finally:
        if p.poll() is None: p.kill(); p.wait()
        err.close()
    assert rc == -sig, ("history", sig, rc)
print("history: killed by SIGINT / SIGTERM as before")
EOF
}

case_auth() {
    # The server rejects the token (critical_error ... unauthorized_access, replayed by the sim
    # after the client's first packet): status 4 at once (not after --timeout), a message that
    # says so, and one set_auth_token per run (no retry, no reconnect loop in stream/quotes).
    cat >"$TMP/reject.txt" <<'EOF'
{"session_id":"0.1.auth_sim","timestamp":1718452800,"release":"x"}
{"m":"critical_error","p":["",{"error_code":"unauthorized_access"},"method: set_auth_token"]}
EOF
    start_sim --replay "$TMP/reject.txt" --log "$TMP/sim.log"
    local u="--url $URL --timeout 60" args t0
    for args in "history NASDAQ:AAPL -i 1D -n 10" "stream BINANCE:BTCUSDT -i 1" \
        "quotes NASDAQ:AAPL NYSE:IBM" "record $TMP/rec.txt history NASDAQ:AAPL -i 1D -n 10"; do
        t0=$SECONDS
        # shellcheck disable=SC2086
        TVKIT_AUTH_TOKEN=expired-token-42 run 4 $u $args
        [ $((SECONDS - t0)) -lt 20 ] || fail "tvkit $args: $((SECONDS - t0)) s to report the rejection"
        grep -q "TVK_EAUTH.*rejected the auth token" "$TMP/err" || fail "tvkit $args: $(cat "$TMP/err")"
        grep -q "unauthorized_access" "$TMP/err" || fail "tvkit $args: server's reason missing"
        grep -q "reconnect" "$TMP/err" && fail "tvkit $args: reconnected: $(cat "$TMP/err")"
        if [ "${args%% *}" = quotes ]; then # one error line and message per symbol
            [ "$(grep -c '"status":"error"' "$TMP/out")" = 2 ] || fail "quotes: $(cat "$TMP/out")"
            [ "$(grep -c 'NYSE:IBM' "$TMP/err")" -ge 1 ] || fail "quotes: $(cat "$TMP/err")"
        fi
    done
    grep -q "unauthorized_access" "$TMP/rec.txt" || fail "the capture lacks the rejection"
    [ "$(grep -c '"set_auth_token","p":\["expired-token-42"\]' "$TMP/sim.log")" = 4 ] ||
        fail "set_auth_token sent $(grep -c set_auth_token "$TMP/sim.log") times for 4 runs"
    [ "$(grep -c '"create_series"' "$TMP/sim.log")" = 3 ] || fail "a request was sent again"
}

case_silence() {
    # The server goes silent (no data, no heartbeats): --silence-timeout declares the connection
    # dead after that long. --no-reconnect: status 3 naming the silence; otherwise stream and
    # quotes reconnect, subscribe again and go on.
    start_sim --speed 600 --update-ms 20 --heartbeat 0.1 --fault silent-after=40
    local u="--url $URL --silence-timeout 1" t0
    for args in "stream BINANCE:BTCUSDT -i 1 --no-reconnect" "quotes BINANCE:BTCUSDT --no-reconnect"; do
        t0=$SECONDS
        # shellcheck disable=SC2086
        run 3 $u $args
        [ $((SECONDS - t0)) -lt 30 ] || fail "tvkit $args: $((SECONDS - t0)) s to notice the silence"
        grep -q "not even a heartbeat) for 1000 ms (TVK_ECONN_LOST)" "$TMP/err" ||
            fail "tvkit $args: $(cat "$TMP/err")"
        [ -s "$TMP/out" ] || fail "tvkit $args: no output before the silence"
    done
    run 0 $u stream BINANCE:BTCUSDT -i 1 --count 100
    cp "$TMP/out" "$TMP/s"
    grep -q "disconnected: .*not even a heartbeat" "$TMP/err" || fail "no disconnected notice: $(cat "$TMP/err")"
    grep -q "reconnected to ws://.*1 series" "$TMP/err" || fail "no reconnected notice: $(cat "$TMP/err")"
    py "$TMP/s" <<'EOF'
import sys, json
ev = [json.loads(l) for l in open(sys.argv[1])]
assert len(ev) == 100, len(ev)
closes = [e["time"] for e in ev if e["event"] == "bar_close"]
assert len(closes) >= 3 and closes == sorted(set(closes)), closes
EOF
    run 0 $u quotes BINANCE:BTCUSDT --count 100
    grep -q "reconnected to ws://.*1 quote set" "$TMP/err" || fail "quotes: no reconnected notice: $(cat "$TMP/err")"
    run 2 $u --silence-timeout soon quotes BINANCE:BTCUSDT
    grep -q -- "--silence-timeout" "$TMP/err" || fail "bad --silence-timeout: $(cat "$TMP/err")"
}

case_tty() {
    # On a terminal: the table by default, and a progress bar on stderr (cleared at the end).
    # The same with two connections loading one series each.
    start_sim
    local extra
    for extra in "" "--connections 2 --parallel 1"; do
        # shellcheck disable=SC2086
        "$PY" - "$TVKIT" "$URL" $extra <<'EOF' || fail "terminal run $extra"
import os, pty, sys, select, time
tvkit, url = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execv(tvkit, [tvkit, "--url", url, "history", "NASDAQ:AAPL", "NYSE:IBM", "-i", "1D", "-n", "6000"] + sys.argv[3:])
out = bytearray()
deadline = time.time() + 250
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 1)
    if not r: continue
    try: chunk = os.read(fd, 65536)
    except OSError: break
    if not chunk: break
    out += chunk
_, st = os.waitpid(pid, 0)
assert os.WEXITSTATUS(st) == 0, st
text = out.decode()
assert "symbol       time" in text or "symbol  " in text, text[:300]
assert "NASDAQ:AAPL  " in text and "NYSE:IBM  " in text
assert "%" in text and "bars" in text and "\x1b[K" in text, "no progress bar"
assert "," not in text.split("\n")[1], "CSV on a terminal"
EOF
    done
}

case_options() {
    start_sim --history 300 --log "$TMP/sim.log"
    local u="--url $URL"
    # The history ends before the count: a success with fewer bars and a warning (none with -q).
    run 0 $u history NASDAQ:AAPL -i 1D -n 1000
    [ "$(wc -l <"$TMP/out")" = 301 ] || fail "ended history: $(wc -l <"$TMP/out") lines"
    grep -q "ended after 300 of 1000" "$TMP/err" || fail "no ended warning: $(cat "$TMP/err")"
    run 0 $u -q history NASDAQ:AAPL -i 1D -n 1000
    [ -s "$TMP/err" ] && fail "-q printed: $(cat "$TMP/err")"
    # -v logs the connection and the messages both ways.
    run 0 $u -v history NASDAQ:AAPL -i 1D -n 2
    grep -q "connecting to $URL" "$TMP/err" || fail "-v: no connect line"
    grep -q -- '-> .*create_series' "$TMP/err" || fail "-v: no sent message"
    grep -q -- '<- .*timescale_update' "$TMP/err" || fail "-v: no received message"
    # The token: the environment, overridden by --token (as the server received it).
    TVKIT_AUTH_TOKEN=env-token-123 run 0 $u history NASDAQ:AAPL -i 1D -n 1
    grep -q '"set_auth_token".*env-token-123' "$TMP/sim.log" || fail "TVKIT_AUTH_TOKEN not sent"
    TVKIT_AUTH_TOKEN=env-token-123 run 0 $u --token=opt-token-456 history NASDAQ:AAPL -i 1D -n 1
    grep -q '"set_auth_token".*opt-token-456' "$TMP/sim.log" || fail "--token not sent"
    # Options that change the transport, after COMMAND too.
    run 0 history NASDAQ:AAPL -i 1D -n 2 $u --no-compress --proxy "" --timeout 5
    [ "$(wc -l <"$TMP/out")" = 3 ] || fail "options after COMMAND"
    run 0 $u --insecure history NASDAQ:AAPL -i 1D -n 1
    grep -q "warning.*--insecure" "$TMP/err" || fail "--insecure gave no warning"
    # Output that cannot be written: status 1 with the reason.
    if [ -w /dev/full ]; then
        for args in "history NASDAQ:AAPL -i 1D -n 5" "history NASDAQ:AAPL -i 1D -n 5 -f table" \
            "quotes NASDAQ:AAPL --count 1" "stream BINANCE:BTCUSDT -i 1 --count 1"; do
            # shellcheck disable=SC2086
            timeout 250 "$TVKIT" $u $args >/dev/full 2>"$TMP/err"
            [ $? = 1 ] || fail "tvkit $args >/dev/full: not status 1"
            grep -q "No space left" "$TMP/err" || fail "tvkit $args >/dev/full: $(cat "$TMP/err")"
        done
        run 1 $u history NASDAQ:AAPL -i 1D -n 5 -o /dev/full
    fi
    run 1 $u history NASDAQ:AAPL -i 1D -n 5 -o "$TMP"
    grep -q "Is a directory" "$TMP/err" || fail "-o DIR: $(cat "$TMP/err")"
    # Request options reach the server.
    run 0 $u history NASDAQ:AAPL -i 1D -n 1 --adjustment dividends --session extended --currency EUR
    grep -q 'dividends' "$TMP/sim.log" || fail "--adjustment not sent"
    grep -q 'extended' "$TMP/sim.log" || fail "--session not sent"
    grep -q 'EUR' "$TMP/sim.log" || fail "--currency not sent"
}

case_demo() {
    # The README's demo, its stdout not a terminal; afterwards the sim must be gone.
    timeout 250 bash "$SRC/scripts/demo-run.sh" "$(dirname "$TVKIT")" >"$TMP/out" 2>"$TMP/err" ||
        fail "demo-run.sh failed: $(tail -n 20 "$TMP/out")"
    grep -q "^bars: 20000 (unique times: 20000)" "$TMP/out" || fail "demo history: $(cat "$TMP/out")"
    grep -q "^snapshots written: [1-9]" "$TMP/out" || fail "demo quotes"
    grep -q "^events: [0-9]* bar_update, [1-9][0-9]* bar_close" "$TMP/out" || fail "demo stream"
    local url
    url=$(sed -n 's/^tvkit-sim is listening on //p' "$TMP/out")
    [ -n "$url" ] || fail "demo did not say where the sim listened"
    run 3 --url "$url" --timeout 2 history NASDAQ:AAPL -i 1D -n 1
}

case_man() {
    local page="$SRC/docs/tvkit.1"
    [ -f "$page" ] || fail "no $page"
    local warn
    if command -v man >/dev/null; then
        warn=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
    elif command -v groff >/dev/null; then
        warn=$(groff -man -ww -z "$page" 2>&1)
    elif command -v nroff >/dev/null; then
        warn=$(nroff -man -ww "$page" 2>&1 >/dev/null)
    else
        echo "SKIP [$CASE]: neither man, groff nor nroff is installed"
        exit 0
    fi
    [ -z "$warn" ] || fail "docs/tvkit.1 renders with warnings: $warn"
    # Every option of every --help is documented in the man page.
    local text
    text=$(MANWIDTH=200 man -l "$page" 2>/dev/null || nroff -man "$page")
    for c in "" history stream quotes record; do
        # shellcheck disable=SC2086
        "$TVKIT" $c --help | grep -oE '(^| )--?[a-z][a-z-]*' | sed 's/^ //' | sort -u |
            while read -r o; do
                grep -qe "$o" <<<"$text" || { echo "man page lacks $o (from tvkit $c --help)"; exit 1; }
            done || fail "man page incomplete"
    done
    for s in "Exit status\|EXIT STATUS" TVKIT_AUTH_TOKEN https_proxy EXAMPLES; do
        grep -qi "$s" <<<"$text" || fail "man page lacks $s"
    done
}

"case_$CASE"
echo "PASS [$CASE]"
