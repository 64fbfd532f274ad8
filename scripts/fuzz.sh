#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, ASan+UBSan, coverage into the library layers) in their
# own build directory and runs each for a bounded time, starting from seed corpora made from the
# captures plus the regression inputs in tests/fuzz/regress/<target>/. `make fuzz` runs this.
#
# Environment:
#   FUZZ_SECONDS   seconds per target (default 30; with CI=true at least 60)
#   FUZZ_TARGETS   space-separated subset (default: all of them)
#   FUZZ_BUILD     build directory (default build-libfuzzer)
#   FUZZ_MAX_LEN   largest input libFuzzer makes, bytes (default 16384)
#   TVK_CAPTURES   the captures directory (default ../shared/protocol/captures)
#   CC             a clang (default clang-14)
# Exit status: 0 when every target ran its time without a finding, 1 otherwise. A finding is
# written to $FUZZ_BUILD/fuzz-crashes/<target>/ (see docs/FUZZING.md for what to do with it).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

all_targets="reader json bars number upgrade inflate ws cliparse"
targets=${FUZZ_TARGETS:-$all_targets}
secs=${FUZZ_SECONDS:-30}
if [ "${CI:-}" = "true" ] && [ "$secs" -lt 60 ]; then secs=60; fi
build=${FUZZ_BUILD:-build-libfuzzer}
max_len=${FUZZ_MAX_LEN:-16384}
captures=${TVK_CAPTURES:-$here/../shared/protocol/captures}
cc=${CC:-clang-14}
python=/usr/bin/python3 # Debian's, as the test suite uses
[ -x "$python" ] || python=python3

if ! command -v "$cc" >/dev/null 2>&1; then
  echo "fuzz: $cc not found (scripts/install-deps.sh installs clang-14)" >&2
  exit 1
fi

echo "== fuzz: building $targets in $build ($cc, ASan+UBSan)"
CC=$cc cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTVK_FUZZ=ON \
  -DTVK_SANITIZE=ON -DTVK_WERROR=OFF -DTVK_CAPTURES="$captures" >/dev/null
build_targets=()
for t in $targets; do build_targets+=("fuzz_$t"); done
cmake --build "$build" -j2 --target "${build_targets[@]}" >/dev/null

echo "== fuzz: seed corpora from $captures"
"$python" tests/fuzz/seeds.py "$captures" "$build/fuzz-seeds" $targets

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
summary=()
for t in $targets; do
  corpus="$build/fuzz-corpus/$t"
  crashes="$build/fuzz-crashes/$t"
  mkdir -p "$corpus" "$crashes" "tests/fuzz/regress/$t"
  log="$build/fuzz-$t.log"
  echo "== fuzz: $t for ${secs}s (log $log)"
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=("-dict=tests/fuzz/$t.dict")
  set +e
  "$build/fuzz_$t" -max_total_time="$secs" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$crashes/" "${dict[@]}" \
    "$corpus" "$build/fuzz-seeds/$t" "tests/fuzz/regress/$t" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1 || true)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1 || true)
  cov=$( (grep -o 'cov: [0-9]*' "$log" || true) | tail -1 | cut -d' ' -f2)
  line=$(printf '%-9s %10s execs %8s exec/s  cov %6s  corpus %5s' "$t" "${execs:-?}" \
    "${rate:-?}" "${cov:-?}" "$(ls "$corpus" | wc -l)")
  if [ "$rc" -ne 0 ]; then
    failed+=("$t")
    line="$line  FOUND: $(ls -t "$crashes" | head -1 || true)"
    grep -E "^(==[0-9]+==ERROR|SUMMARY|.*fuzz property failed|.*error in line)" "$log" | head -5 >&2 || true
  else
    line="$line  ok"
  fi
  summary+=("$line")
done

echo "== fuzz: summary (${secs}s each)"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: findings in: ${failed[*]} (inputs in $build/fuzz-crashes/<target>/;" \
    "reproduce with $build/fuzz_<target> <file>)" >&2
  exit 1
fi
