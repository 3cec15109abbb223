#!/usr/bin/env bash
# The whole test suite: the Rust tests on SQLite and PostgreSQL, then the browser tests, then
# the schema fuzzer over the OpenAPI document.
# Needs PostgreSQL at 127.0.0.1:5432 (or KASSE_TEST_POSTGRES_URL); installs Chromium if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*"; }

log "cargo test (SQLite and PostgreSQL)"
cargo test

# Real-browser tests of the checkout pages: Debian's chromium driven by playwright-core
# (never a downloaded browser), axe-core for accessibility. They start target/debug/kasse,
# which cargo test has just built (a separate `cargo build` would rebuild it with other features).
ensure_chromium() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  dpkg -s fonts-dejavu-core >/dev/null 2>&1 || missing+=(fonts-dejavu-core)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || true
  fi
  if [ ! -x /usr/bin/chromium ]; then
    echo "/usr/bin/chromium is required for the browser tests and could not be installed (apt-get install -y chromium)" >&2
    return 1
  fi
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "Node.js 20+ and npm are required for the browser tests" >&2
    return 1
  fi
}

log "browser tests (tests/browser: node --test)"
ensure_chromium
/usr/bin/chromium --version 2>/dev/null | grep -o 'Chromium [0-9.]*' || true
(cd tests/browser && npm ci --no-audit --no-fund)
browser_log=$(mktemp)
set +e
KASSE_BIN="$PWD/target/debug/kasse" node --test --test-reporter=tap tests/browser/ 2>&1 | tee "$browser_log"
browser_status=${PIPESTATUS[0]}
set -e
browser_passed=$(sed -n 's/^# pass \([0-9][0-9]*\)$/\1/p' "$browser_log" | tail -n 1)
browser_failed=$(sed -n 's/^# fail \([0-9][0-9]*\)$/\1/p' "$browser_log" | tail -n 1)
rm -f "$browser_log"
echo "browser: ${browser_passed:-0} passed, ${browser_failed:-0} failed"

log "schema fuzzer (schemathesis over every operation of /api/openapi.json)"
set +e
KASSE_BIN="$PWD/target/debug/kasse" tests/schema/run.sh
schema_status=$?
set -e
[ "$schema_status" -eq 0 ] || echo "schema fuzzer: failures above" >&2
[ "$browser_status" -eq 0 ] || exit "$browser_status"
exit "$schema_status"
