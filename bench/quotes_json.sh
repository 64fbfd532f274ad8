#!/usr/bin/env bash
# Side by side: bench_quotes_json built from an older commit (the baseline) and from this tree,
# run alternately (base, new, new, base, ...) so that the load of a shared machine hits both
# alike. Prints each phase's median over the runs and the median of the per-pair ratios, and
# checks that both builds serialise the final snapshots identically (same checksum).
#
#   bench/quotes_json.sh BASE_REV [pairs=5] [packets=300000] [symbols=100]
#
# The baseline is exported with `git archive` into a temporary directory (the work tree is not
# touched), given this tree's bench/quotes_json.{c,cmake}, and built there (RelWithDebInfo).
# This tree is built in build-bench-quotes/ unless NEW_BIN names a binary already built.
set -euo pipefail
rev=${1:?usage: bench/quotes_json.sh BASE_REV [pairs] [packets] [symbols]}
pairs=${2:-5}
packets=${3:-300000}
symbols=${4:-100}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

git -C "$root" archive "$rev" | tar -x -C "$tmp"
cp "$root/bench/quotes_json.c" "$root/bench/quotes_json.cmake" "$tmp/bench/"
cmake -S "$tmp" -B "$tmp/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTVK_BUILD_TESTS=OFF >/dev/null
cmake --build "$tmp/build" --target bench_quotes_json -j2 >/dev/null
base="$tmp/build/bench_quotes_json"
new=${NEW_BIN:-}
if [ -z "$new" ]; then
    cmake -S "$root" -B "$root/build-bench-quotes" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DTVK_BUILD_TESTS=OFF >/dev/null
    cmake --build "$root/build-bench-quotes" --target bench_quotes_json -j2 >/dev/null
    new="$root/build-bench-quotes/bench_quotes_json"
fi

for ((i = 0; i < pairs; i++)); do
    if ((i % 2)); then order="new base"; else order="base new"; fi
    for who in $order; do
        bin=$base
        [ "$who" = new ] && bin=$new
        "$bin" 1 "$packets" "$symbols" | sed "s/^/$i $who /" >>"$tmp/out"
    done
done

python3 - "$tmp/out" "$rev" "$pairs" "$packets" "$symbols" <<'EOF'
import statistics, sys
path, rev, pairs, packets, symbols = sys.argv[1:]
vals, sums = {}, {}
for line in open(path):
    f = line.split()
    i, who, key = int(f[0]), f[1], f[2]
    if key in ("merge", "json", "e2e"):
        vals.setdefault((key, who), {})[i] = float(f[3])
    elif key == "checksum":
        sums.setdefault(who, set()).add(f[3])
print(f"bench_quotes_json: baseline {rev} vs this tree, {pairs} pairs, {packets} packets, "
      f"{symbols} symbols (process CPU time, ns)")
print(f"{'phase':8}{'base':>10}{'new':>10}{'new/base':>10}")
for key in ("merge", "json", "e2e"):
    b, n = vals[(key, "base")], vals[(key, "new")]
    ratio = statistics.median(n[i] / b[i] for i in b)
    print(f"{key:8}{statistics.median(b.values()):10.1f}{statistics.median(n.values()):10.1f}"
          f"{ratio:10.3f}")
same = sums.get("base") == sums.get("new") and len(sums.get("new", ())) == 1
print("output identical (checksum):", "yes" if same else f"NO {sums}")
sys.exit(0 if same else 1)
EOF
