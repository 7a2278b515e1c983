#!/usr/bin/env bash
# The verify benchmark (BENCHMARKS.md, "Verify"): installs its load generator
# `wrk` from Debian when missing, builds the release `calos` and `bench`
# binaries, then runs `bench verify` — wrk against a `calos serve` process
# and the floor process, SQLite and PostgreSQL, medians of interleaved rounds.
# Extra arguments go to the bench (`--no-pin`, `--rounds N`).
#
# PostgreSQL is taken from TEST_DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/postgres); it is skipped when unreachable.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk (the load generator)"
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
  else
    sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null
  fi
fi

cargo build --release --locked -p calos-server --bin calos -p calos-bench --bin bench
exec target/release/bench verify-wrk "$@"
