#!/usr/bin/env bash
# The schema fuzzer: schemathesis (PyPI, pinned) generates requests for every operation of
# /api/openapi.json against `kasse demo` and checks every answer against the document: no
# server error, every status documented, bodies, headers and content types as documented.
# (Not "schema-valid request accepted": the API has cross-field rules a schema cannot state,
# so a request the schema allows may still be refused with a documented 422.)
set -euo pipefail
cd "$(dirname "$0")/../.."

KASSE_BIN="${KASSE_BIN:-$PWD/target/debug/kasse}"
SCHEMATHESIS_VERSION=4.32.5
EXAMPLES="${SCHEMA_EXAMPLES:-20}"
venv="$PWD/target/schemathesis-venv"

if [ ! -x "$venv/bin/schemathesis" ] || ! "$venv/bin/schemathesis" --version | grep -q "$SCHEMATHESIS_VERSION"; then
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

work=$(mktemp -d)
trap 'kill "$demo_pid" 2>/dev/null || true; wait "$demo_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
DATABASE_URL="sqlite://$work/kasse.db" "$KASSE_BIN" demo --bind 127.0.0.1:0 >"$work/demo.txt" 2>"$work/demo.err" &
demo_pid=$!
for _ in $(seq 1 600); do
  grep -q "Stop with Ctrl-C" "$work/demo.txt" 2>/dev/null && break
  kill -0 "$demo_pid" 2>/dev/null || { cat "$work/demo.err" >&2; echo "kasse demo did not start" >&2; exit 1; }
  sleep 0.1
done
field() { sed -n "s/^ *$1: *//p" "$work/demo.txt" | head -n 1; }
base=$(field Open | sed 's:/*$::')
key=$(field "API key")
company=$(field Company)
[ -n "$base" ] && [ -n "$key" ] && [ -n "$company" ] || { cat "$work/demo.txt" >&2; echo "no URL, key or company in the demo's output" >&2; exit 1; }

# Every operation's company is the demo's, so requests reach the handlers instead of a 404.
printf '[parameters]\n"company_id" = "%s"\n' "$company" >"$work/schemathesis.toml"
cd "$work"
"$venv/bin/schemathesis" run "$base/api/openapi.json" \
  --header "Authorization: Bearer $key" \
  --max-examples "$EXAMPLES" \
  --generation-deterministic \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
