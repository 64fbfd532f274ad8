#!/usr/bin/env bash
# ctest bench_smoke: runs bench/run.sh end to end in quick mode with tiny sizes and one run per
# case, then checks only that RESULTS is well formed and that every case has figures for both
# clients. It never looks at the timings themselves. Exit 77 (skip) when node or the package
# is missing, or when a benchmarked binary is not built.
set -euo pipefail
build=${1:?usage: smoke.sh BUILD_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
root=$(cd "$here/.." && pwd)
if ! command -v node >/dev/null 2>&1; then
    echo "bench_smoke: SKIPPED: node is not installed (the peer benchmark needs it)"; exit 77
fi
if [ ! -d "$root/tests/node/node_modules/@mathieuc/tradingview" ]; then
    echo "bench_smoke: SKIPPED: tests/node/node_modules/@mathieuc/tradingview missing (scripts/install-deps.sh)"; exit 77
fi
for b in tvkit tvkit-sim tvk-benchrun; do
    if [ ! -x "$build/$b" ]; then echo "bench_smoke: SKIPPED: $build/$b is not built"; exit 77; fi
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tvkit-bench-smoke.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
out=$tmp/RESULTS.md
BUILD=$build BENCH_QUICK=1 BENCH_RUNS=1 BENCH_FIREHOSE=2000 BENCH_SYMBOLS=10 \
    BENCH_HIST_SMALL=300 BENCH_HIST_BIG=1200 BENCH_MULTI_SYMBOLS=4 BENCH_MULTI_BARS=200 \
    BENCH_CONNS=2 BENCH_LATENCY=5 BENCH_TIMEOUT=60 BENCH_CASES='^(startup|fh-|ttfq|hist-|multi-)' \
    BENCH_OUT=$out bash "$here/run.sh"
fail() { echo "bench_smoke: FAILED: $*"; echo "---- $out"; cat "$out" 2>/dev/null || true; exit 1; }
[ -s "$out" ] || fail "no results file written"
for h in '# tvkit benchmark results' '## Machine' '## Results (medians)' '## Targets (issue 7)' '## Commands'; do
    grep -qxF "$h" "$out" || fail "heading '$h' missing"
done
grep -q 'Failed or missing runs' "$out" && fail "some runs failed"
# The results table: one row per case, every figure a number (no n/a).
rows=$(awk '/^## Results/{t=1; next} /^##/{t=0} t && /^\| / && !/^\| case/ && !/^\|---/' "$out" | sed -n '/^| start-up\|^| firehose\|^| first quote\|^| history/p')
n=$(printf '%s\n' "$rows" | grep -c . || true)
[ "$n" -eq 12 ] || fail "expected 12 case rows in the results table, found $n"
if printf '%s\n' "$rows" | grep -q 'n/a'; then fail "a figure is missing (n/a) in the results table"; fi
echo "bench_smoke: ok ($n cases, results well formed)"
