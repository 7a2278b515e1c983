#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time and fails on any
# crash, panic, hang (a run over 10 s) or out-of-memory.
#
#   scripts/fuzz.sh                       # 60 s per target
#   FUZZ_SECONDS=600 scripts/fuzz.sh      # longer
#   FUZZ_TARGETS="sdk_token" scripts/fuzz.sh
#
# Inputs libFuzzer finds go to fuzz/work/<target> (not committed; it grows),
# the committed seeds in fuzz/corpus/<target> are only read. A failing input
# is written to fuzz/artifacts/<target>/; replay it with
#   fuzz/target/<host triple>/release/<target> <file>
# The targets are built once, then each built binary is run: nothing is
# rebuilt between targets.
set -euo pipefail
cd "$(dirname "$0")/.."

# cargo-fuzz passes -Z flags to rustc; this machine only has stable Rust.
export RUSTC_BOOTSTRAP=1
SECONDS_EACH="${FUZZ_SECONDS:-60}"
TARGETS="${FUZZ_TARGETS:-verify_request telemetry_batch sdk_token culture_insight}"
# No AddressSanitizer: the fuzzed code is safe Rust (unsafe_code is forbidden
# in the workspace), and without it a run executes several times more inputs.
# Overflow checks and debug assertions stay on (cargo-fuzz's default).
BUILD=(--sanitizer none --target-dir fuzz/target)

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

# fuzz/ is its own workspace with its own committed Cargo.lock. cargo-fuzz has
# no --locked to pass on to cargo build (rust-fuzz/cargo-fuzz#312), so check
# the lock file first: this fails, instead of silently re-resolving, when
# fuzz/Cargo.lock is out of date; the build below then uses it as it is.
echo "== fuzz/Cargo.lock is current (--locked)"
cargo metadata --locked --format-version 1 --manifest-path fuzz/Cargo.toml >/dev/null

echo "== cargo fuzz build"
start=$(date +%s)
cargo fuzz build "${BUILD[@]}"
echo "fuzz build: $(($(date +%s) - start)) s"
host="$(rustc -vV | sed -n 's/^host: //p')"
bin_dir="fuzz/target/$host/release"

failed=()
for target in $TARGETS; do
    work="fuzz/work/$target"
    artifacts="fuzz/artifacts/$target"
    mkdir -p "$work" "$artifacts"
    args=(
        -max_total_time="$SECONDS_EACH"
        -timeout=10
        -rss_limit_mb=2048
        -print_final_stats=1
        -artifact_prefix="$artifacts/"
    )
    if [[ -f "fuzz/dict/$target.dict" ]]; then
        args+=(-dict="fuzz/dict/$target.dict")
    fi
    echo "== fuzz $target for ${SECONDS_EACH} s"
    log="fuzz/work/$target.log"
    if "$bin_dir/$target" "${args[@]}" "$work" "fuzz/corpus/$target" >"$log" 2>&1; then
        grep -E '^(#[0-9]+\s+DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' "$log" || true
    else
        tail -n 60 "$log"
        echo "!! $target FAILED; the input is in $artifacts/"
        failed+=("$target")
    fi
done

if ((${#failed[@]})); then
    echo "fuzzing found failures in: ${failed[*]}"
    exit 1
fi
echo "fuzzing: all targets ran ${SECONDS_EACH} s without a failure"
