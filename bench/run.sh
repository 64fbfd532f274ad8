#!/usr/bin/env bash
# bench/run.sh — tvkit side by side with the npm client @mathieuc/tradingview, against tvkit-sim
# over loopback; writes bench/RESULTS.md. Called by `make bench` after the normal build.
# See bench/README.md for the cases, the method and the knobs. Loopback only.
#
# Knobs (environment):
#   BUILD=build           build directory with tvkit, tvkit-sim, tvk-benchrun (and the decode
#                         and firehose benchmarks when built)
#   BENCH_RUNS=5          timed runs per client and case (medians; at least 5 for RESULTS.md)
#   BENCH_QUICK=1         small sizes (firehose 100k packets, 20 symbols in the multi case)
#   BENCH_FIREHOSE=N      firehose packets (default 1000000; quick 100000)
#   BENCH_SYMBOLS=K       firehose symbols (default 100)
#   BENCH_MULTI_SYMBOLS=N symbols of the multi-symbol history case (default 100; quick 20)
#   BENCH_CONNS=K         connections of the "several connections" cases (default 4)
#   BENCH_PARALLEL=N      tvkit history --parallel of the one-connection multi case (default 32, the CLI's most)
#   BENCH_PARALLEL_CONNS=N  tvkit history --parallel per connection of the several-connections
#                         case (default 4: 16 series in flight over BENCH_CONNS sockets)
#   BENCH_LATENCY=MS      sim latency of the multi-symbol and first-quote cases (default 50)
#   BENCH_CASES=REGEX     run only the cases whose name matches (e.g. 'fh-|ttfq')
#   BENCH_PEER=0          skip the Node peer (ratios are then n/a)
#   BENCH_OUT=FILE        where to write the results (default bench/RESULTS.md)
#   BENCH_PIN=1           pin the sim to CPU 0 and the clients to CPU 1
#   BENCH_KEEP=1          keep the work directory (raw rows, logs) and print its path
#   BENCH_TIMEOUT=S       per-run limit (default 300)
#   BENCH_VALIDATE_ALL=1  validate the output of every firehose variant, not only fh-ws
#   BENCH_TVKIT, BENCH_SIM  other tvkit / tvkit-sim binaries than those in BUILD
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
BUILD=${BUILD:-$root/build}
case "$BUILD" in /*) ;; *) BUILD=$root/$BUILD ;; esac
QUICK=${BENCH_QUICK:-0}
RUNS=${BENCH_RUNS:-5}
if [ "$QUICK" = 1 ]; then
    FH_N=${BENCH_FIREHOSE:-100000}
    MULTI_SYMS=${BENCH_MULTI_SYMBOLS:-20}
else
    FH_N=${BENCH_FIREHOSE:-1000000}
    MULTI_SYMS=${BENCH_MULTI_SYMBOLS:-100}
fi
FH_SYMS=${BENCH_SYMBOLS:-100}
CONNS=${BENCH_CONNS:-4}
PAR1=${BENCH_PARALLEL:-32}
PARC=${BENCH_PARALLEL_CONNS:-4}
LATENCY=${BENCH_LATENCY:-50}
CASES_RE=${BENCH_CASES:-.}
OUT=${BENCH_OUT:-$here/RESULTS.md}
TIMEOUT=${BENCH_TIMEOUT:-300}
HIST_SMALL=${BENCH_HIST_SMALL:-5000}
HIST_BIG=${BENCH_HIST_BIG:-20000}
MULTI_BARS=${BENCH_MULTI_BARS:-5000}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

TVKIT=${BENCH_TVKIT:-$BUILD/tvkit}
SIM=${BENCH_SIM:-$BUILD/tvkit-sim}
RUNNER=$BUILD/tvk-benchrun
NODE_MODULES=$root/tests/node/node_modules
for b in "$TVKIT" "$SIM" "$RUNNER"; do
    [ -x "$b" ] || { echo "bench: $b is missing; build first (make build)" >&2; exit 1; }
done
PEER=${BENCH_PEER:-1}
if [ "$PEER" = 1 ]; then
    if ! command -v node >/dev/null 2>&1; then
        echo "bench: node not found: the peer is skipped (ratios n/a)" >&2; PEER=0
    elif [ ! -d "$NODE_MODULES/@mathieuc/tradingview" ]; then
        echo "bench: $NODE_MODULES/@mathieuc/tradingview missing (run scripts/install-deps.sh): peer skipped" >&2
        PEER=0
    fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tvkit-bench.XXXXXX")
sim_pids=()
cleanup() {
    for p in "${sim_pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${sim_pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: work directory kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# BENCH_PIN=1: the sim gets CPU 0, the measured client CPU 1. Off by default: on a shared
# machine a pinned process waits for its core while the other one is idle.
SIM_PIN=()
CLIENT_CPU=()
if [ "${BENCH_PIN:-0}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null 2>&1; then
    SIM_PIN=(taskset -c 0)
    CLIENT_CPU=(--cpu 1)
fi

log() { echo "bench: $*" >&2; }

# start_sim VAR ARGS...: starts tvkit-sim, waits for its "listening" line, sets VAR to the URL.
start_sim() {
    local var=$1; shift
    local n=${#sim_pids[@]}
    local outf=$work/sim$n.out
    "${SIM_PIN[@]}" "$SIM" --quiet --heartbeat 30 --heartbeat-timeout 120 "$@" >"$outf" 2>"$work/sim$n.err" &
    sim_pids+=("$!")
    local u="" i
    for i in $(seq 1 200); do
        u=$(grep -o 'wss\?://[^ ]*' "$outf" 2>/dev/null | tail -n 1 || true)
        [ -n "$u" ] && break
        kill -0 "${sim_pids[$n]}" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$u" ]; then
        log "tvkit-sim $* did not start:"; cat "$work/sim$n.err" >&2; exit 1
    fi
    printf -v "$var" '%s' "$u"
}

# CPU seconds (user+sys) the running sims have used so far, from /proc: shows when the server,
# not the client, bounds a case's wall time.
sim_cpu() {
    local p t=0 f
    for p in "${sim_pids[@]}"; do
        f=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue
        t=$((t + ${f% *} + ${f#* }))
    done
    awk -v t="$t" -v hz="$CLK_TCK" 'BEGIN { printf "%.3f", t / hz }'
}
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

stop_sims() {
    for p in "${sim_pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${sim_pids[@]}"; do wait "$p" 2>/dev/null || true; done
    sim_pids=()
}

echo -e "case\tclient\trun\twall_s\tuser_s\tsys_s\tmaxrss_kb\tfirst_out_s\tstatus\tinproc_first_ms\tsim_cpu_s" >"$work/rows.tsv"
: >"$work/cases.tsv"
: >"$work/commands.txt"

want() { [[ $1 =~ $CASES_RE ]]; }

# record CASE CLIENT RUN FIRSTFLAG CMD... : one timed run through tvk-benchrun.
record() {
    local case=$1 client=$2 run=$3 first=$4; shift 4
    local errf=$work/$case.$client.$run.err
    local flags=("${CLIENT_CPU[@]}" --timeout "$TIMEOUT")
    [ "$first" = 1 ] && flags+=(--first)
    local line s0 s1
    s0=$(sim_cpu)
    line=$("$RUNNER" "${flags[@]}" -- "$@" 2>"$errf")
    s1=$(sim_cpu)
    local inproc
    inproc=$(grep -o 'first_quote_ms=[0-9.]*' "$errf" | head -n 1 | cut -d= -f2 || true)
    # shellcheck disable=SC2086
    set -- $line
    # The peer reports how many quotes it got; fewer than the case needs is a failed run.
    local got_q
    got_q=$(grep -o 'quotes=[0-9]*' "$errf" | head -n 1 | cut -d= -f2 || true)
    if [ -n "$got_q" ] && [ "$got_q" -lt "$EXPECT" ] && [ "${6:-1}" = 0 ]; then
        log "$case/$client run $run: $got_q quotes, expected $EXPECT"
        set -- "$1" "$2" "$3" "$4" "$5" 1
    fi
    if [ "${6:-1}" != 0 ]; then
        log "$case/$client run $run failed (status ${6:-?}):"; tail -n 5 "$errf" >&2
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$case" "$client" "$run" "$1" "$2" "$3" "$4" "$5" "$6" "${inproc:--}" \
        "$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.3f", b - a }')" >>"$work/rows.tsv"
}

# validate CASE CLIENT EXPECT_LINES CMD... [::: CMD...]: one untimed run of each command with
# stdout kept; together they must write at least EXPECT_LINES lines (so a client that silently
# does less is caught).
validate() {
    local case=$1 client=$2 expect=$3; shift 3
    local outf=$work/$case.$client.validate cmd=() got=0 n
    : >"$outf.err"
    while [ $# -gt 0 ]; do
        cmd=()
        while [ $# -gt 0 ] && [ "$1" != ::: ]; do cmd+=("$1"); shift; done
        [ $# -gt 0 ] && shift
        # Counted through a pipe: a million JSON lines need not land on disk.
        if ! n=$(timeout "$TIMEOUT" "${cmd[@]}" 2>>"$outf.err" | wc -l); then
            log "$case/$client validation run failed:"; tail -n 5 "$outf.err" >&2
            echo -e "$case\t$client\t0\t0\t0\t0\t0\t-1\t1\t-\t0" >>"$work/rows.tsv"
            return 1
        fi
        got=$((got + n))
    done
    if [ "$got" -lt "$expect" ]; then
        log "$case/$client wrote $got lines, expected at least $expect"; tail -n 5 "$outf.err" >&2
        echo -e "$case\t$client\t0\t0\t0\t0\t0\t-1\t1\t-\t0" >>"$work/rows.tsv"
        return 1
    fi
}

# pair CASE KIND SIZE TITLE EXPECT FIRST -- TVKIT_CMD... --- PEER_CMD...
# The two clients alternate (t p p t t p ...) so that drift on the machine hits both alike.
pair() {
    local case=$1 kind=$2 size=$3 title=$4 expect=$5 first=$6; shift 6
    [ "$1" = -- ] && shift
    local tcmd=() pcmd=()
    while [ $# -gt 0 ] && [ "$1" != --- ]; do tcmd+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    pcmd=("$@")
    echo -e "$case\t$kind\t$size\t$title" >>"$work/cases.tsv"
    echo "# $title" >>"$work/commands.txt"
    echo "tvkit: ${tcmd[*]}" | sed "s#$BUILD/##g; s#$root/##g; s#$work/##g" >>"$work/commands.txt"
    local tok=1 pok=$PEER
    EXPECT=$expect
    log "$title"
    [ "$PEER" = 1 ] && echo "peer:  ${pcmd[*]}" | sed "s#$root/##g; s#$work/##g" >>"$work/commands.txt"
    if [ "${VALIDATE:-1}" = 1 ]; then
        validate "$case" tvkit "$expect" "${tcmd[@]}" || tok=0
        if [ "$PEER" = 1 ]; then validate "$case" peer "$expect" "${pcmd[@]}" || pok=0; fi
    fi
    local r
    for r in $(seq 1 "$RUNS"); do
        if [ $((r % 2)) = 1 ]; then
            [ $tok = 1 ] && record "$case" tvkit "$r" "$first" "${tcmd[@]}"
            [ "$pok" = 1 ] && record "$case" peer "$r" "$first" "${pcmd[@]}"
        else
            [ "$pok" = 1 ] && record "$case" peer "$r" "$first" "${pcmd[@]}"
            [ $tok = 1 ] && record "$case" tvkit "$r" "$first" "${tcmd[@]}"
        fi
    done
    return 0
}

peer_env() { # peer_env URL DEFLATE [CA]: the env prefix for a peer command
    local e=(env "TVK_BENCH_URL=$1" "TVK_BENCH_DEFLATE=$2" "TVK_BENCH_TIMEOUT=$TIMEOUT"
             "TVK_BENCH_NODE_MODULES=$NODE_MODULES")
    [ -n "${3:-}" ] && e+=("TVK_BENCH_CA=$3")
    printf '%s\n' "${e[@]}"
}

seq_syms() { # seq_syms PREFIX N: SIM:PREFIX000 ...
    local i
    for i in $(seq 0 $(($2 - 1))); do printf 'SIM:%s%03d\n' "$1" "$i"; done
}

start_all=$(date +%s)

# ---------------------------------------------------------------- meta
{
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    # Which sources were built: this checkout's working tree (then say when it differs from the
    # commit), or another directory, e.g. a clean `git archive` export that carries the commit
    # it came from in .bench-commit.
    src=$(grep -m1 '^CMAKE_HOME_DIRECTORY:' "$BUILD/CMakeCache.txt" 2>/dev/null | cut -d= -f2- || true)
    if [ -n "$src" ] && [ "$(cd "$src" 2>/dev/null && pwd -P)" != "$(cd "$root" && pwd -P)" ]; then
        if [ -f "$src/.bench-commit" ]; then
            echo "commit=$(cat "$src/.bench-commit")"
            echo "source=a clean export of that commit (git archive), not the working tree"
        else
            echo "commit=unknown"
            echo "source=$src"
        fi
        echo "dirty=0"
    else
        echo "commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
        echo "dirty=$(git -C "$root" status --porcelain --untracked-files=no -- src cli sim include 2>/dev/null | wc -l)"
    fi
    echo "mode=$([ "$QUICK" = 1 ] && echo quick || echo full)"
    echo "runs=$RUNS"
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "nproc=$(nproc)"
    echo "memory=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "kernel=$(uname -sr)"
    echo "compiler=$(grep -m1 CMAKE_C_COMPILER: "$BUILD/CMakeCache.txt" 2>/dev/null | cut -d= -f2) ($(grep -m1 CMAKE_BUILD_TYPE: "$BUILD/CMakeCache.txt" 2>/dev/null | cut -d= -f2))"
    if [ "$PEER" = 1 ]; then
        echo "node=$(node --version)"
        echo "peer=@mathieuc/tradingview $(node -p "require('$NODE_MODULES/@mathieuc/tradingview/package.json').version") (its ws $(node -p "require('$NODE_MODULES/@mathieuc/tradingview/node_modules/ws/package.json').version" 2>/dev/null || echo '?'))"
    else
        echo "peer=skipped (node or the package missing, or BENCH_PEER=0)"
    fi
    echo "load=$(cut -d' ' -f1-3 /proc/loadavg) at the start (1, 5, 15 min)"
    echo "settings=firehose $FH_N packets over $FH_SYMS symbols; history $HIST_SMALL and $HIST_BIG bars; multi $MULTI_SYMS symbols x $MULTI_BARS bars at ${LATENCY} ms: 1 connection with $PAR1 series in flight, $CONNS connections with $PARC each (tvkit; the peer opens every chart at once)"
} >"$work/meta.txt"

# ---------------------------------------------------------------- 1. decode in process
find_bench() { # the first executable among the names the decode/firehose benches may have
    local n
    for n in "$@"; do [ -x "$BUILD/$n" ] && { echo "$BUILD/$n"; return 0; }; done
    return 1
}
CAPTURES=$(grep -m1 '^TVK_CAPTURES:' "$BUILD/CMakeCache.txt" 2>/dev/null | cut -d= -f2- || true)
[ -d "$CAPTURES" ] || CAPTURES=$root/../shared/protocol/captures
if want decode; then
    if dec=$(find_bench bench_decode tvk-bench-decode bench-decode); then
        dec_args=("$CAPTURES" "$RUNS" "$([ "$QUICK" = 1 ] && echo 200000 || echo 1000000)")
        log "decode in process (${dec#"$BUILD"/} ${dec_args[*]})"
        "$dec" "${dec_args[@]}" >"$work/decode.txt" 2>&1 || log "decode benchmark failed (output kept)"
        echo "# decode in process" >>"$work/commands.txt"
        echo "${dec#"$BUILD"/} ${dec_args[*]}" | sed "s#$root/##g" >>"$work/commands.txt"
    else
        log "decode benchmark (bench_decode) not built: skipped"
    fi
fi
if want firehose-sim; then
    if fh=$(find_bench bench_firehose tvk-bench-firehose bench-firehose); then
        fh_args=("$FH_N" "$FH_SYMS" "$RUNS")
        log "sim firehose production (${fh#"$BUILD"/})"
        "$fh" "${fh_args[@]}" >"$work/firehose.txt" 2>&1 || log "firehose benchmark failed (output kept)"
        echo "# sim packet production" >>"$work/commands.txt"
        echo "${fh#"$BUILD"/} ${fh_args[*]}" >>"$work/commands.txt"
    else
        log "sim firehose benchmark (bench_firehose) not built: skipped"
    fi
fi

# ---------------------------------------------------------------- start-up (reference only)
# What each client costs before it does anything: tvkit --version against Node loading the
# package. Not a target; it shows how much of the small cases is the runtime starting.
if want startup; then
    pair startup startup 0 "start-up only (tvkit --version / node loading the package)" 1 0 -- \
        "$TVKIT" --version --- \
        node -e "require('$NODE_MODULES/@mathieuc/tradingview'); console.log('loaded')"
fi

# ---------------------------------------------------------------- 2. quote firehose
mapfile -t FH_SYMBOLS < <(seq_syms F "$FH_SYMS")
fh_expect=$((FH_N + FH_SYMS))
# Throwaway certificate for the wss cases (loopback names only).
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
    -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' \
    -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1 ||
    { log "openssl could not make a certificate"; exit 1; }
for scheme in ws wss; do
    want "fh-$scheme" || continue
    tls=()
    [ $scheme = wss ] && tls=(--tls-cert "$work/cert.pem" --tls-key "$work/key.pem")
    start_sim url --firehose "$FH_N" --symbols "$FH_SYMS" --firehose-batch 20 "${tls[@]}"
    for defl in 0 1; do
        c=fh-$scheme
        [ $defl = 1 ] && c=$c-deflate
        want "$c" || continue
        copts=(--url "$url")
        [ $scheme = wss ] && copts+=(--ca-file "$work/cert.pem")
        [ $defl = 0 ] && copts+=(--no-compress)
        mapfile -t penv < <(peer_env "$url" $defl "$([ $scheme = wss ] && echo "$work/cert.pem")")
        # The stream is the same in every variant: its output is validated once (fh-ws); the
        # others are checked by the exit status (tvkit exits 0 only after --count quotes) and
        # the peer's own count.
        VALIDATE=1
        [ "$c" != fh-ws ] && [ "${BENCH_VALIDATE_ALL:-0}" != 1 ] && VALIDATE=0
        pair "$c" firehose "$FH_N" "firehose $FH_N pkts, $scheme, $([ $defl = 1 ] && echo deflate || echo no deflate)" \
            "$fh_expect" 0 -- \
            "$TVKIT" "${copts[@]}" quotes "${FH_SYMBOLS[@]}" --count "$fh_expect" --- \
            "${penv[@]}" node "$here/peer/quotes.js" "${FH_SYMBOLS[@]}"
    done
    stop_sims
done
VALIDATE=1

# ---------------------------------------------------------------- time to first quote
# Three latencies: 0 gives the absolute time; the slope between LATENCY and 4*LATENCY gives the
# round trips the client waits (fixed costs cancel out in the difference, and the wide gap keeps
# scheduling noise on a busy machine small against it).
for lat in 0 "$LATENCY" $((4 * LATENCY)); do
    want ttfq || break
    start_sim url --latency "$lat"
    mapfile -t penv < <(peer_env "$url" 1)
    pair "ttfq-$lat" ttfq "$lat" "first quote, ${lat} ms latency" 1 1 -- \
        "$TVKIT" --url "$url" quotes NASDAQ:AAPL --count 1 --- \
        "${penv[@]}" node "$here/peer/quotes.js" --count 1 NASDAQ:AAPL
    stop_sims
done

# ---------------------------------------------------------------- 3. history
if want hist-; then
    start_sim url
    mapfile -t penv < <(peer_env "$url" 1)
    for n in "$HIST_SMALL" "$HIST_BIG"; do
        want "hist-$n" || continue
        pair "hist-$n" history "$n" "history 1 symbol x $n daily bars" "$n" 0 -- \
            "$TVKIT" --url "$url" history SIM:HIST -i 1D -n "$n" -f csv --epoch -o /dev/stdout --- \
            "${penv[@]}" node "$here/peer/history.js" --bars "$n" SIM:HIST
    done
    stop_sims
fi
if want multi-; then
    start_sim url --latency "$LATENCY"
    mapfile -t penv < <(peer_env "$url" 1)
    mapfile -t MSYMS < <(seq_syms M "$MULTI_SYMS")
    mexpect=$((MULTI_SYMS * MULTI_BARS))
    if want multi-1; then
        pair multi-1 multi "$mexpect" "history $MULTI_SYMS symbols x $MULTI_BARS bars, ${LATENCY} ms, 1 connection ($PAR1 series in flight)" "$mexpect" 0 -- \
            "$TVKIT" --url "$url" history "${MSYMS[@]}" -i 1D -n "$MULTI_BARS" -f csv --epoch -o /dev/stdout --parallel "$PAR1" --- \
            "${penv[@]}" node "$here/peer/history.js" --bars "$MULTI_BARS" --conns 1 "${MSYMS[@]}"
    fi
    if want "multi-$CONNS"; then
        pair "multi-$CONNS" multi "$mexpect" "history $MULTI_SYMS symbols x $MULTI_BARS bars, ${LATENCY} ms, $CONNS connections ($PARC series in flight on each)" "$mexpect" 0 -- \
            "$TVKIT" --url "$url" history "${MSYMS[@]}" -i 1D -n "$MULTI_BARS" -f csv --epoch -o /dev/stdout --connections "$CONNS" --parallel "$PARC" --- \
            "${penv[@]}" node "$here/peer/history.js" --bars "$MULTI_BARS" --conns "$CONNS" "${MSYMS[@]}"
    fi
    stop_sims
fi

echo "elapsed=$(($(date +%s) - start_all)) s" >>"$work/meta.txt"
echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$work/meta.txt"
"$PY" "$here/lib/report.py" "$work" "$OUT"
log "wrote $OUT ($(($(date +%s) - start_all)) s)"
