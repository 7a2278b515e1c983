#!/usr/bin/env bash
# The OpenAPI contract against the running server: schemathesis (PyPI) sends
# generated requests, valid and invalid, to every operation of
# /api/openapi.json — the public API anonymously and the admin API with an
# owner's API token — and fails on any 5xx or any response (status, content
# type, headers, body) the document does not describe.
#
# The server is the real `calos` binary with the demo data on a throwaway
# SQLite database. Bounded: SCHEMATHESIS_MAX_EXAMPLES cases per operation
# (default 40) and SCHEMATHESIS_TIMEOUT seconds in all (default 300).
#
#   scripts/schemathesis.sh            # builds target/debug/calos first
#   CALOS_BIN=path/to/calos scripts/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-40}"
TIME_LIMIT="${SCHEMATHESIS_TIMEOUT:-300}"
SEED="${SCHEMATHESIS_SEED:-}"

if ! command -v st >/dev/null 2>&1 && ! python3 -c 'import schemathesis' >/dev/null 2>&1; then
  echo "installing schemathesis (OpenAPI contract tests)"
  python3 -m pip install --quiet 'schemathesis>=4.32,<5' 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages 'schemathesis>=4.32,<5'
fi
ST=(python3 -m schemathesis.cli)
command -v st >/dev/null 2>&1 && ST=(st)

if [ -z "${CALOS_BIN:-}" ]; then
  cargo build --locked --bin calos
  CALOS_BIN="$PWD/target/debug/calos"
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

export DATABASE_URL="sqlite://$work/calos.db"
export CALOS_DATA_DIR="$work"
export CALOS_ADMIN_PASSWORD="schemathesis-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export CALOS_LOG_FORMAT=text
export RUST_LOG="${RUST_LOG:-warn}"
# Generated verify and telemetry calls come fast; the limits are tested elsewhere.
export CALOS_VERIFY_PER_IP_PER_MINUTE=0
export CALOS_VERIFY_PER_INSTALL_PER_MINUTE=0

"$CALOS_BIN" setup --demo >"$work/setup.log" 2>&1 || { cat "$work/setup.log"; exit 1; }
# The documented examples name id 1 (and the demo install): token 1 is a decoy,
# so the revoke example does not revoke the token the run works with.
"$CALOS_BIN" admin token create --name decoy --username admin >/dev/null 2>&1
token="$("$CALOS_BIN" admin token create --name schemathesis --username admin 2>/dev/null | tail -n 1)"
case "$token" in calos_at_*) ;; *) echo "could not create an API token: $token"; exit 1 ;; esac

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$CALOS_BIN" serve --bind 127.0.0.1 --port "$port" >"$work/server.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "$base/healthz" >/dev/null || { echo "the server did not start"; cat "$work/server.log"; exit 1; }

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
args=(run "$base/api/openapi.json"
  --checks "$checks"
  --phases examples,coverage,fuzzing
  --max-examples "$MAX_EXAMPLES"
  --header "Authorization: Bearer $token"
  --request-timeout 10
  --generation-database none
  --no-color
  --warnings off
  --report junit,har --report-dir "$(realpath -m "${SCHEMATHESIS_REPORT_DIR:-$work/report}")")
[ -n "$SEED" ] && args+=(--seed "$SEED")

status=0
# From the throwaway directory: schemathesis keeps a cache in ./.schemathesis.
(cd "$work" && timeout --signal=INT "$TIME_LIMIT" "${ST[@]}" "${args[@]}") || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log (errors) ---"
  grep -E "ERROR|panicked" "$work/server.log" | tail -n 40 || true
  [ "$status" -eq 124 ] && echo "schemathesis ran over ${TIME_LIMIT}s"
fi
exit "$status"
