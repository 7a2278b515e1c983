#!/usr/bin/env bash
# The project's test command (README): every crate's tests, the store and API
# suites on both SQLite and PostgreSQL.
#
# PostgreSQL is expected at TEST_DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/test). If a local cluster is installed but
# stopped, it is started. Without PostgreSQL the PostgreSQL tests print that
# they were skipped — except under CI=true, where that fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"

if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "starting the local PostgreSQL cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  fi
fi

# The notification tests run a real SMTP server: aiosmtpd from PyPI.
if ! python3 -c 'import aiosmtpd' >/dev/null 2>&1; then
  echo "installing aiosmtpd (SMTP server for the notification tests)"
  python3 -m pip install --quiet aiosmtpd 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages aiosmtpd 2>/dev/null \
    || { apt-get update -qq && apt-get install -y -qq python3-aiosmtpd >/dev/null; }
fi

cargo test --workspace --locked "$@"

# Browser tests of the admin pages (e2e/): the real `calos` binary driven
# through Debian's Chromium by playwright-core from npm (never a downloaded
# browser). Installs what is missing on a fresh machine. Skipped when extra
# arguments select a subset of the cargo tests.
if [ "$#" -eq 0 ]; then
  if [ ! -x /usr/bin/chromium ]; then
    echo "installing Debian's chromium for the browser tests"
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "installing node and npm for the browser tests"
    apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
  fi
  cargo build --locked --bin calos
  (cd e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error \
    && CALOS_BIN="$PWD/../target/debug/calos" node --test tests/admin.test.js tests/security.test.js)

  # The OpenAPI contract against the running server (schemathesis from PyPI):
  # no 5xx, every response as /api/openapi.json describes it. A few minutes.
  CALOS_BIN="$PWD/target/debug/calos" ./scripts/schemathesis.sh
fi
