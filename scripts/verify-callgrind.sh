#!/usr/bin/env bash
# Instructions per request of verify (`calos serve`) and of its floor
# (`bench floor`), counted by callgrind: unlike wall-clock figures, the counts
# repeat on a loaded machine. Uses the SQLite database a verify benchmark
# left behind:
#
#   BENCH_DIR=/tmp/verify-bench cargo run --release -p calos-bench --bin bench -- verify-wrk --rounds 1
#   scripts/verify-callgrind.sh /tmp/verify-bench
#
# Each server runs under `valgrind --tool=callgrind` with instrumentation off
# while wrk asks about every license once (cache, instances) and its first
# write batch is flushed; then the counters are switched on for SECONDS of
# wrk load (1 thread, 8 connections) and dumped. Prints Ir per request for
# both and leaves the profiles (callgrind_annotate) in BENCH_DIR/callgrind.
#
# CACHE_SIM=1 also simulates the CPU caches (`--cache-sim=yes`) and prints
# last-level data misses per request: what verify pays over the floor for
# touching 10 000 installs' data, which instruction counts do not show and
# wall-clock runs on a shared host are too noisy to resolve. The process
# totals include whatever SQLite work falls in the window (under valgrind
# the warm-up may not reach every install, and a write flush may land), so
# read the verify path per function:
#   callgrind_annotate --show=DLmr,DLmw --sort=DLmr BENCH_DIR/callgrind/verify.callgrind.1
set -euo pipefail
cd "$(dirname "$0")/.."

dir="${1:?usage: scripts/verify-callgrind.sh BENCH_DIR [SECONDS]}"
seconds="${2:-20}"
db="$dir/sqlite/bench.db"
script="$dir/sqlite/verify.lua"
[ -f "$db" ] && [ -f "$script" ] || { echo "no seeded database in $dir/sqlite (run the bench with BENCH_DIR=$dir first)"; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install -y valgrind"; exit 1; }
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk"; exit 1; }
out="$dir/callgrind"
mkdir -p "$out"

export CALOS_DATABASE_URL="sqlite://$db" CALOS_DATA_DIR="$dir/sqlite" CALOS_BIND=127.0.0.1 \
  CALOS_MASTER_KEY="BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=" \
  CALOS_VERIFY_PER_INSTALL_PER_MINUTE=1000000 CALOS_VERIFY_PER_IP_PER_MINUTE=4294967295
unset CALOS_CONFIG DATABASE_URL PORT

# measure NAME PORT PROGRAM ARGS...: prints "NAME: Ir/request".
measure() {
  local name=$1 port=$2
  shift 2
  rm -f "$out/$name.callgrind"*
  local sim=()
  [ "${CACHE_SIM:-0}" = 1 ] && sim=(--cache-sim=yes)
  CALOS_PORT=$port valgrind --tool=callgrind "${sim[@]}" --instr-atstart=no \
    --callgrind-out-file="$out/$name.callgrind" "$@" \
    >"$out/$name.stdout" 2>"$out/$name.stderr" </dev/null &
  local pid=$!
  local url="http://127.0.0.1:$port/api/v1/license/verify"
  for _ in $(seq 1 600); do
    curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
    sleep 0.5
  done
  # Every license once, then past the first write flush (every 5 s).
  wrk -t1 -c8 -d30s -s "$script" "$url" >/dev/null
  sleep 12
  callgrind_control -i on "$pid" >/dev/null
  callgrind_control -z "$pid" >/dev/null
  local requests
  requests=$(wrk -t1 -c8 -d"${seconds}s" -s "$script" "$url" | sed -n 's/.*CALOS_WRK requests=\([0-9]*\).*/\1/p')
  callgrind_control -d "$pid" >/dev/null
  kill -TERM "$pid"
  wait "$pid" || true
  # The largest dump is the measured window; its summary holds every event.
  local summary ir
  summary=$(grep -h '^summary:' "$out/$name.callgrind".* 2>/dev/null | sort -k2,2n | tail -1)
  ir=$(echo "$summary" | awk '{print $2}')
  echo "$name: $requests requests, $ir Ir, $((ir / requests)) Ir/request"
  if [ "${CACHE_SIM:-0}" = 1 ]; then
    # Events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw.
    echo "$summary" | awk -v n="$requests" -v name="$name" \
      '{printf "%s: %.1f last-level data read misses, %.1f write misses per request\n", name, $9 / n, $10 / n}'
  fi
}

measure verify 5611 target/release/calos serve
measure floor 5612 target/release/bench floor --until-signal
