#!/usr/bin/env bash
# tvkit decode: the captures decode cleanly into valid JSON lines; a bad line gives an error line
# on stdout, a diagnostic on stderr, decoding continues, exit 1; usage errors exit 2.
set -uo pipefail
tvkit=$1 captures=$2 py=${3:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# 1. The HAR server capture: exit 0, 1438 JSON lines, nothing on stderr, counts per type.
"$tvkit" decode "$captures/stock-tools_trading-chart_har_server_to_client.txt" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || fail "HAR capture: exit $rc"
[ ! -s "$tmp/err" ] || fail "HAR capture: stderr not empty: $(head -c 300 "$tmp/err")"
[ "$(wc -l <"$tmp/out")" -eq 1438 ] || fail "HAR capture: $(wc -l <"$tmp/out") lines, want 1438"
"$py" - "$tmp/out" <<'PY' || fail "HAR capture: output check"
import json, sys, collections
c = collections.Counter()
for n, line in enumerate(open(sys.argv[1]), 1):
    o = json.loads(line)
    assert "error" not in o, line
    c[o["type"]] += 1
    if o["type"] == "timescale_update":
        for s in o["series"]:
            for b in s["bars"]:
                assert set(b) == {"i", "t", "o", "h", "l", "c", "v"}, b
want = {"hello": 1, "series_loading": 2, "symbol_resolved": 2, "timescale_update": 5,
        "series_completed": 2, "tickmark_update": 1, "study_loading": 12, "du": 11,
        "study_completed": 12, "qsd": 736, "quote_completed": 652, "heartbeat": 2}
assert dict(c) == want, dict(c)
PY

# 2. stdin, a good line, a framing error, a non-JSON line, a bad packet among good ones.
printf '%s\n' '~m~4~m~~h~1' '~m~10~m~abc' "{'m': 'qsd'}" \
  '~m~5~m~{bad}~m~17~m~{"m":"du","p":[]}' '' '{"m":"quote_completed","p":["qs_a","X:Y"]}' \
  >"$tmp/in"
"$tvkit" decode <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] || fail "bad lines: exit $rc, want 1"
"$py" - "$tmp/out" <<'PY' || fail "bad lines: stdout check"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines[0] == {"line": 1, "type": "heartbeat", "k": 1}, lines[0]
assert lines[1]["line"] == 2 and lines[1]["code"] == "TVK_EFRAME_LENPAST", lines[1]
assert "offset 8" in lines[1]["error"], lines[1]
assert lines[2]["line"] == 3 and lines[2]["code"] == "TVK_EJSON", lines[2]
assert lines[3]["line"] == 4 and lines[3]["code"] == "TVK_EJSON", lines[3]
assert lines[4] == {"line": 4, "type": "du", "session": "", "series": []}, lines[4]
assert lines[5] == {"line": 6, "type": "quote_completed", "session": "qs_a", "symbol": "X:Y"}, lines[5]
assert len(lines) == 6, lines
PY
grep -q '<stdin>:2: .*offset 8' "$tmp/err" || fail "bad lines: stderr lacks line 2: $(cat "$tmp/err")"
[ "$(wc -l <"$tmp/err")" -eq 3 ] || fail "bad lines: want 3 diagnostics, got $(cat "$tmp/err")"

# 3. The jsonl capture (bare payloads) decodes cleanly; the pyrepr file fails line by line.
"$tvkit" decode "$captures/tradingview-rs_events_reserialized.jsonl" >"$tmp/out" 2>"$tmp/err" ||
  fail "jsonl capture: exit $?"
[ "$(wc -l <"$tmp/out")" -eq 21 ] || fail "jsonl capture: $(wc -l <"$tmp/out") lines"
"$tvkit" decode "$captures/tvkit_docs_fixture_outputs_pyrepr.txt" >"$tmp/out" 2>/dev/null
rc=$?
[ $rc -eq 1 ] || fail "pyrepr capture: exit $rc, want 1"
[ "$(grep -c '"error"' "$tmp/out")" -eq 7 ] || fail "pyrepr capture: want 7 error lines"

# 4. Usage and I/O errors.
"$tvkit" decode "$tmp/does-not-exist" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || fail "missing file: want exit 2"
grep -q "cannot open" "$tmp/err" || fail "missing file: no diagnostic"
"$tvkit" decode --bogus >/dev/null 2>&1
[ $? -eq 2 ] || fail "unknown option: want exit 2"
"$tvkit" decode a b >/dev/null 2>&1
[ $? -eq 2 ] || fail "two files: want exit 2"
grep -q "usage: tvkit decode" <<<"$("$tvkit" decode --help)" || fail "--help"
"$tvkit" nosuchcommand >/dev/null 2>&1
[ $? -eq 2 ] || fail "unknown command: want exit 2"
grep -q "decode" <<<"$("$tvkit" --help)" || fail "tvkit --help does not list decode"

[ $fails -eq 0 ] && echo "PASS" || { echo "$fails failure(s)"; exit 1; }
