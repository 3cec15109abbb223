#!/usr/bin/env bash
# Kasse HTTP benchmark: release build, wrk, SQLite and PostgreSQL, the hot routes, webhook delivery.
#
#   bash bench/run.sh
#
# For each store it seeds the demo merchant, starts `kasse serve` (release), creates one checkout
# session with curl, warms up, then measures with wrk, for each connection count:
#   healthz      GET  /healthz                                  the ceiling: no store, no template
#   readyz       GET  /readyz                                   one `SELECT 1`: the yardstick of the ratios
#   page         GET  /checkout/{token}                         the hosted page
#   contract     GET  /contracts/{token}                        a signer's page (document, order, signers)
#   invoice      GET  /invoices/{token}                         a hosted invoice (invoice, company, customer)
#   create       POST /api/v1/companies/{id}/checkout           API key, pricing, one INSERT
#   create_idem  the same with a fresh Idempotency-Key per request
#   preview      POST /api/v1/companies/{id}/pricing/preview    API key, pricing, nothing stored
# then, on the same server: the RSS after BENCH_RSS_DURATION at 64 connections on the page; the
# contract page again after 1,000,000 rows of other contracts' events (contract_1m); and on a
# restarted server the delivery of BENCH_WEBHOOKS pending webhook events to a local receiver.
# Prints one table with each route's ratio to readyz (same store, same connections), the server's
# CPU per request, and the SQL statements per request as the server counts them (the
# Kasse-Statements header, KASSE_STATEMENT_HEADER=1). Raw outputs go to bench/out/ (gitignored).
# Not part of .ci/run.
#
# Knobs (environment):
#   BENCH_STORES       stores to run                      (default: "sqlite postgres")
#   BENCH_CONNECTIONS  wrk connection counts              (default: "1 16 64")
#   BENCH_THREADS      wrk threads, at most connections   (default: 2)
#   BENCH_DURATION     one measurement                    (default: 10s)
#   BENCH_WARMUP       warm-up per route and store        (default: 3s)
#   BENCH_PORT         server port on 127.0.0.1           (default: 18480)
#   BENCH_PG_URL       PostgreSQL server, no database     (default: postgres://postgres@127.0.0.1:5432)
#   BENCH_PG_DB        scratch database, dropped at exit  (default: kasse_bench)
#   BENCH_RUST_LOG     server RUST_LOG                    (default: warn; "info" logs a line per request)
#   BENCH_RSS_DURATION the RSS run at 64 connections     (default: 60s)
#   BENCH_EVENTS       contract_events rows added         (default: 1000000)
#   BENCH_WEBHOOKS     pending webhook deliveries         (default: 10000)
#   BENCH_SKIP_BUILD=1 use target/release/kasse as it is
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
OUT="$BENCH_DIR/out"
STORES="${BENCH_STORES:-sqlite postgres}"
CONNECTIONS="${BENCH_CONNECTIONS:-1 16 64}"
THREADS="${BENCH_THREADS:-2}"
DURATION="${BENCH_DURATION:-10s}"
WARMUP="${BENCH_WARMUP:-3s}"
PORT="${BENCH_PORT:-18480}"
PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
PG_DB="${BENCH_PG_DB:-kasse_bench}"
SERVER_LOG_LEVEL="${BENCH_RUST_LOG:-warn}"
RSS_DURATION="${BENCH_RSS_DURATION:-60s}"
EVENTS="${BENCH_EVENTS:-1000000}"
WEBHOOKS="${BENCH_WEBHOOKS:-10000}"
RECEIVER_PORT=$((PORT + 1))
BASE="http://127.0.0.1:$PORT"
KASSE="${CARGO_TARGET_DIR:-$ROOT/target}/release/kasse"

# CPU time (user + system) the server process has used so far, in clock ticks.
server_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
# Busy ticks of the whole machine (user nice system irq softirq steal; not idle, not iowait).
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
CLK_TCK="$(getconf CLK_TCK)"

pg() { PGOPTIONS="--client-min-messages=warning" psql "$@"; }  # no NOTICE from DROP ... IF EXISTS
log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- cleanup
SERVER_PID=""
TMP_DIR="$(mktemp -d -t kasse-bench.XXXXXX)"
PG_CREATED=""

stop_server() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}

cleanup() {
    stop_server
    stop_receiver
    if [[ -n "$PG_CREATED" ]]; then
        pg "$PG_URL/postgres" -qAtc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$TMP_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- tools
# wrk rather than oha: Debian ships wrk as a ~100 kB binary that installs in seconds, while
# `cargo install oha` compiles a few hundred crates (many minutes on a 2-core machine, and the
# same two cores the benchmark then uses). wrk's Lua hooks also give us the POST body and headers
# and an exact non-2xx count.
need_apt() { # command package
    command -v "$1" >/dev/null 2>&1 && return 0
    log "installing $2 (apt-get)"
    if [[ $(id -u) -eq 0 ]]; then
        apt-get install -y "$2" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y "$2" >/dev/null; }
    else
        sudo apt-get install -y "$2" >/dev/null 2>&1 || { sudo apt-get update -qq && sudo apt-get install -y "$2" >/dev/null; }
    fi
    command -v "$1" >/dev/null 2>&1 || die "$1 is still missing"
}
need_apt wrk wrk
need_apt curl curl
need_apt jq jq
[[ " $STORES " == *" sqlite "* ]] && need_apt sqlite3 sqlite3
[[ " $STORES " == *" postgres "* ]] && need_apt psql postgresql-client

# ---------------------------------------------------------------- build (release only)
if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    log "cargo build --release (a no-op when up to date)"
    (cd "$ROOT" && cargo build --release --quiet)
fi
[[ -x "$KASSE" ]] || die "$KASSE not found: build with cargo build --release"

# Is anything else running? Sample the whole machine's CPU for a second before starting.
IDLE_CHECK0="$(machine_ticks)"; sleep 1; IDLE_CHECK1="$(machine_ticks)"
BUSY_BEFORE=$(((IDLE_CHECK1 - IDLE_CHECK0) * 100 / CLK_TCK))
if ((BUSY_BEFORE > 30)); then
    log "warning: before the start the machine was already ${BUSY_BEFORE}% busy (% of one core, $(nproc) cores):" \
        "other processes will take CPU from the server and wrk; watch other_cpu in the table"
fi
mkdir -p "$OUT"
rm -f "$OUT"/*.txt "$OUT"/*.log "$OUT"/*.tsv "$OUT"/*.json
RESULTS="$OUT/results.tsv"
printf 'store\troute\tconns\treq/s\tp50\tp90\tp99\terrors\tserver_cpu\tother_cpu\n' >"$RESULTS"
STATEMENTS="$OUT/statements.tsv"
printf 'store\troute\tstatements\ttransactions\n' >"$STATEMENTS"
NOTES="$OUT/notes.txt"
: >"$NOTES"

{
    echo "date:      $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit:    $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "nproc:     $(nproc)"
    echo "cpu:       $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
    echo "memory:    $(free -g 2>/dev/null | awk '/Mem:/ {print $2 " GiB"}')"
    echo "binary:    $KASSE (release profile), $(stat -c %y "$KASSE" | cut -d. -f1)"
    echo "wrk:       $(wrk -v 2>&1 | head -1)"
    echo "settings:  connections=[$CONNECTIONS] threads<=$THREADS duration=$DURATION warmup=$WARMUP RUST_LOG=$SERVER_LOG_LEVEL"
} >"$OUT/machine.txt"

# ---------------------------------------------------------------- helpers
port_free() { ! curl -s -o /dev/null --max-time 1 "$BASE/healthz"; }

start_server() { # store url
    local store="$1" url="$2"
    port_free || die "something already answers on $BASE: set BENCH_PORT"
    RUST_LOG="$SERVER_LOG_LEVEL" KASSE_STATEMENT_HEADER=1 "$KASSE" serve --bind "127.0.0.1:$PORT" --database-url "$url" \
        >"$OUT/server-$store.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        if curl -sf -o /dev/null --max-time 1 "$BASE/healthz"; then return 0; fi
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT/server-$store.log" >&2; die "server exited"; }
        sleep 0.1
    done
    die "server did not answer /healthz within 10 s"
}

# wrk_run store route conns duration url [script] -> appends a row (unless it is a warm-up)
wrk_run() {
    local store="$1" route="$2" conns="$3" duration="$4" url="$5" script="${6:-$BENCH_DIR/report.lua}"
    local threads=$((conns < THREADS ? conns : THREADS))
    local raw="$OUT/wrk-$store-$route-c$conns.txt"
    [[ "$route" == warmup-* ]] && raw="$OUT/$route-$store.txt"
    local ticks0 ticks1 stat0 stat1 wrk_cpu
    ticks0="$(server_ticks)"
    stat0="$(machine_ticks)"
    local TIMEFORMAT='%3U %3S'
    { time wrk -t"$threads" -c"$conns" -d"$duration" --timeout 10s --latency -s "$script" "$url" >"$raw" 2>&1; } \
        2>"$raw.time" || { cat "$raw" >&2; die "wrk failed ($store $route c$conns)"; }
    ticks1="$(server_ticks)"
    stat1="$(machine_ticks)"
    wrk_cpu="$(awk '{print $1 + $2}' "$raw.time")"
    rm -f "$raw.time"
    [[ "$route" == warmup-* ]] && return 0
    local line
    line="$(grep '^BENCH ' "$raw")" || die "no BENCH line in $raw"
    # shellcheck disable=SC2086
    local $(echo "${line#BENCH }")
    local errors=$((non2xx + connect_err + read_err + write_err + timeout_err))
    # CPU over the run in % of one core (200% = the whole 2-core machine):
    #   server_cpu  the kasse process
    #   other_cpu   everything else on the machine except wrk: PostgreSQL's processes, and any
    #               foreign load (another build or test run) that makes the numbers unreliable
    awk -v s="$store" -v r="$route" -v c="$conns" -v n="$requests" -v d="$duration_us" \
        -v p50="$p50_us" -v p90="$p90_us" -v p99="$p99_us" -v e="$errors" -v hz="$CLK_TCK" \
        -v srv="$((ticks1 - ticks0))" -v busy="$(($(cut -d' ' -f1 <<<"$stat1") - $(cut -d' ' -f1 <<<"$stat0")))" \
        -v wrk="$wrk_cpu" -v raw="$raw" 'BEGIN {
            secs = d / 1e6
            srv_pct = 100 * (srv / hz) / secs
            wrk_pct = 100 * wrk / secs
            other_pct = 100 * (busy / hz) / secs - srv_pct - wrk_pct
            if (other_pct < 0) other_pct = 0
            printf "%s\t%s\t%s\t%.0f\t%.2fms\t%.2fms\t%.2fms\t%d\t%.0f%%\t%.0f%%\n", s, r, c, n / secs,
                p50 / 1e3, p90 / 1e3, p99 / 1e3, e, srv_pct, other_pct
            printf "cpu_pct_of_one_core server=%.0f wrk=%.0f other=%.0f\n", srv_pct, wrk_pct, other_pct >> raw
        }' >>"$RESULTS"
    if [[ "$route" == create* ]]; then
        CREATED_OK=$((CREATED_OK + requests - non2xx))
    fi
    log "$store $route c$conns: $(tail -1 "$RESULTS" | cut -f4-)"
}

session_count() { # store
    case "$1" in
        sqlite) sqlite3 "$SQLITE_PATH" 'SELECT count(*) FROM checkout_sessions' ;;
        postgres) pg "$PG_URL/$PG_DB" -qAtc 'SELECT count(*) FROM checkout_sessions' ;;
    esac
}

store_sql() { # store sql -> rows
    case "$1" in
        sqlite) sqlite3 -cmd '.timeout 10000' "$SQLITE_PATH" "$2" ;;
        postgres) pg "$PG_URL/$PG_DB" -qAt -c "$2" ;;
    esac
}

# statements_of store route method url [body [idempotent]]: one request, its Kasse-Statements header
statements_of() {
    local store="$1" route="$2" method="$3" url="$4" body="${5:-}" idem="${6:-}" headers
    local args=(-s -o /dev/null -D - --max-time 10 -X "$method" "$url")
    if [[ -n "$body" ]]; then
        args+=(-H "Authorization: Bearer $KASSE_BENCH_API_KEY" -H 'Content-Type: application/json' -d "$body")
    fi
    [[ -n "$idem" ]] && args+=(-H "Idempotency-Key: statements-$route-$RANDOM$RANDOM")
    headers="$(curl "${args[@]}" | tr -d '\r')"
    local n t
    n="$(awk -F': ' 'tolower($1) == "kasse-statements" {print $2}' <<<"$headers")"
    t="$(awk -F': ' 'tolower($1) == "kasse-transactions" {print $2}' <<<"$headers")"
    printf '%s\t%s\t%s\t%s\n' "$store" "$route" "${n:-?}" "${t:-?}" >>"$STATEMENTS"
}

# The webhook receiver: answers every POST 200 and counts them (python3's threading HTTP server,
# HTTP/1.1 keep-alive, so Kasse's pooled client reuses its connections).
RECEIVER_PID=""
start_receiver() {
    python3 - "$RECEIVER_PORT" >"$OUT/receiver.log" 2>&1 <<'PY' &
import http.server, sys, threading
count = 0
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        global count
        self.rfile.read(int(self.headers.get("content-length", 0)))
        with lock:
            count += 1
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()
    def do_GET(self):
        body = str(count).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
    RECEIVER_PID=$!
    for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$RECEIVER_PORT/" && return 0; sleep 0.1; done
    die "the webhook receiver did not start"
}
stop_receiver() {
    [[ -n "$RECEIVER_PID" ]] && kill "$RECEIVER_PID" 2>/dev/null || true
    RECEIVER_PID=""
}

store_size() { # store
    case "$1" in
        sqlite) echo "$(du -h "$SQLITE_PATH" | cut -f1) db + $(du -h "$SQLITE_PATH-wal" 2>/dev/null | cut -f1 || echo 0) wal" ;;
        postgres) pg "$PG_URL/$PG_DB" -qAtc "SELECT pg_size_pretty(pg_database_size('$PG_DB'))" ;;
    esac
}

# ---------------------------------------------------------------- one store
bench_store() { # store
    local store="$1" url
    case "$store" in
        sqlite)
            SQLITE_PATH="$TMP_DIR/kasse-bench.db"
            url="sqlite://$SQLITE_PATH"
            ;;
        postgres)
            pg_isready -q -d "$PG_URL/postgres" 2>/dev/null || pg "$PG_URL/postgres" -qAtc 'SELECT 1' >/dev/null \
                || die "PostgreSQL at $PG_URL is not reachable (or run with BENCH_STORES=sqlite)"
            pg "$PG_URL/postgres" -qAtc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
            pg "$PG_URL/postgres" -qAtc "CREATE DATABASE $PG_DB" >/dev/null
            PG_CREATED=1
            url="$PG_URL/$PG_DB"
            ;;
        *) die "unknown store '$store' (sqlite or postgres)" ;;
    esac

    log "$store: seeding"
    "$KASSE" seed-demo --json --database-url "$url" >"$OUT/seed-$store.json" 2>"$OUT/seed-$store.log" \
        || { cat "$OUT/seed-$store.log" >&2; die "seed-demo failed"; }
    local company key team
    company="$(jq -r .company_id "$OUT/seed-$store.json")"
    key="$(jq -r .api_key "$OUT/seed-$store.json")"
    team="$(jq -r '.product_pricing_ids.Team' "$OUT/seed-$store.json")"
    [[ -n "$company" && "$company" != null && -n "$team" && "$team" != null ]] || die "unexpected seed output"

    start_server "$store" "$url"
    local create_url="$BASE/api/v1/companies/$company/checkout"
    local body
    body="$(jq -cn --arg team "$team" '{
        product_pricing_ids: [$team],
        config_items: [{product_pricing_id: $team, num_licenses: 5}],
        options: {allow_promo_code: true}
    }')"

    # One session for the page route, made the way a merchant would.
    local created status page_url
    created="$(curl -sS --max-time 10 -w '\n%{http_code}' -X POST "$create_url" \
        -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$body")"
    status="${created##*$'\n'}"
    [[ "$status" == 2* ]] || die "creating a checkout answered $status: ${created%$'\n'*}"
    page_url="$(jq -r .url <<<"${created%$'\n'*}")"
    [[ "$page_url" == "$BASE/checkout/"* ]] || die "unexpected checkout url '$page_url'"
    local page_bytes page_status
    read -r page_status page_bytes < <(curl -s -o /dev/null --max-time 10 -w '%{http_code} %{size_download}\n' "$page_url")
    [[ "$page_status" == 200 ]] || die "GET $page_url answered $page_status"
    log "$store: page $page_url ($page_bytes bytes)"

    # One contract for the signing-page route: the demo customer signs the Team plan.
    local customer contract_body contract_url
    customer="$(jq -r '.customer_ids["crm-1001"]' "$OUT/seed-$store.json")"
    contract_body="$(jq -cn --arg team "$team" --arg customer "$customer" '{
        customer_id: $customer, product_pricing_ids: [$team], status: "PENDING_SIGNATURES",
        config_items: [{product_pricing_id: $team, num_licenses: 12}], term: {count: 12, frequency: "MONTH"},
        signatories: [{name: "Ada Lovelace", title: "Managing Director"}]
    }')"
    created="$(curl -sS --max-time 10 -w '\n%{http_code}' -X POST "$BASE/api/v1/companies/$company/contracts" \
        -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$contract_body")"
    status="${created##*$'\n'}"
    [[ "$status" == 2* ]] || die "creating a contract answered $status: ${created%$'\n'*}"
    contract_url="$(jq -r '.signatories[0].signature_link' <<<"${created%$'\n'*}")"
    [[ "$contract_url" == "$BASE/contracts/"* ]] || die "unexpected signature link '$contract_url'"

    # One open invoice for the invoice-page route: onboarding for the demo customer.
    local invoice_body invoice_url onboarding
    onboarding="$(jq -r '.product_pricing_ids.Onboarding' "$OUT/seed-$store.json")"
    invoice_body="$(jq -cn --arg customer "$customer" --arg onboarding "$onboarding" '{
        customer_id: $customer, type: "IMMEDIATE", invoice_due_date_from_creation: 14,
        onetime_items: [{product_pricing_id: $onboarding, aggregate: 1}], notes: "Thank you"
    }')"
    created="$(curl -sS --max-time 10 -w '\n%{http_code}' -X POST "$BASE/api/v1/companies/$company/one_times" \
        -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$invoice_body")"
    status="${created##*$'\n'}"
    [[ "$status" == 2* ]] || die "creating a one-time charge answered $status: ${created%$'\n'*}"
    invoice_url="$(jq -r '.[0].invoice_url' <<<"${created%$'\n'*}")"
    [[ "$invoice_url" == "$BASE/invoices/"* ]] || die "unexpected invoice url '$invoice_url'"

    local preview_url="$BASE/api/v1/companies/$company/pricing/preview" preview_body
    preview_body="$(jq -c 'del(.options)' <<<"$body")"
    export KASSE_BENCH_API_KEY="$key" KASSE_BENCH_BODY="$body"

    # SQL statements per request, as the server counts them (a warm request: the second one).
    local pass
    for pass in 1 2; do
        statements_of "$store" healthz GET "$BASE/healthz"
        statements_of "$store" readyz GET "$BASE/readyz"
        statements_of "$store" page GET "$page_url"
        statements_of "$store" contract GET "$contract_url"
        statements_of "$store" invoice GET "$invoice_url"
        statements_of "$store" create POST "$create_url" "$body"
        statements_of "$store" create_idem POST "$create_url" "$body" idem
        statements_of "$store" preview POST "$preview_url" "$preview_body"
        # Only the second pass stays: the first warmed what a long run has warm.
        [[ $pass == 2 ]] || sed -i "/^$store\t/d" "$STATEMENTS"
    done

    log "$store: warm-up ($WARMUP per route)"
    wrk_run "$store" warmup-healthz 16 "$WARMUP" "$BASE/healthz"
    wrk_run "$store" warmup-readyz 16 "$WARMUP" "$BASE/readyz"
    wrk_run "$store" warmup-page 16 "$WARMUP" "$page_url"
    wrk_run "$store" warmup-contract 16 "$WARMUP" "$contract_url"
    wrk_run "$store" warmup-invoice 16 "$WARMUP" "$invoice_url"
    wrk_run "$store" warmup-create 16 "$WARMUP" "$create_url" "$BENCH_DIR/post.lua"
    KASSE_BENCH_BODY="$preview_body" wrk_run "$store" warmup-preview 16 "$WARMUP" "$preview_url" "$BENCH_DIR/post.lua"

    local before after c
    before="$(session_count "$store")"
    CREATED_OK=0
    for c in $CONNECTIONS; do
        wrk_run "$store" healthz "$c" "$DURATION" "$BASE/healthz"
        wrk_run "$store" readyz "$c" "$DURATION" "$BASE/readyz"
        wrk_run "$store" page "$c" "$DURATION" "$page_url"
        wrk_run "$store" contract "$c" "$DURATION" "$contract_url"
        wrk_run "$store" invoice "$c" "$DURATION" "$invoice_url"
        wrk_run "$store" create "$c" "$DURATION" "$create_url" "$BENCH_DIR/post.lua"
        KASSE_BENCH_IDEMPOTENT=1 wrk_run "$store" create_idem "$c" "$DURATION" "$create_url" "$BENCH_DIR/post.lua"
        KASSE_BENCH_BODY="$preview_body" wrk_run "$store" preview "$c" "$DURATION" "$preview_url" "$BENCH_DIR/post.lua"
    done
    after="$(session_count "$store")"

    # Memory: the resident set after a long run at 64 connections.
    log "$store: $RSS_DURATION at 64 connections on the page, then the server's RSS"
    wrk_run "$store" rss-page 64 "$RSS_DURATION" "$page_url"
    local rss_kb
    rss_kb="$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status")"

    # The contract page at scale: other contracts' events fill contract_events.
    log "$store: adding $EVENTS rows to contract_events (another contract's signer), then the contract page again"
    local other other_signer
    other="$(curl -sS --max-time 10 -X POST "$BASE/api/v1/companies/$company/contracts" \
        -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$contract_body" | jq -r .id)"
    other_signer="$(store_sql "$store" "SELECT id FROM contract_signers WHERE contract_id = '$other'")"
    local series
    case "$store" in
        sqlite) series="WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $EVENTS) SELECT i FROM n" ;;
        postgres) series="SELECT generate_series(1, $EVENTS) AS i" ;;
    esac
    store_sql "$store" "INSERT INTO contract_events (id, company_id, contract_id, kind, signer_id, ip, user_agent, detail, at)
        SELECT 'cev_bench_' || s.i, c.company_id, c.id, CASE WHEN s.i % 2 = 0 THEN 'VIEWED' ELSE 'SENT' END, '$other_signer',
               '127.0.0.1', 'bench', NULL, c.created_at
        FROM ($series) s, contracts c WHERE c.id = '$other'" >/dev/null
    [[ "$store" == postgres ]] && store_sql "$store" "ANALYZE contract_events" >/dev/null
    local rows
    rows="$(store_sql "$store" "SELECT COUNT(*) FROM contract_events")"
    wrk_run "$store" warmup-contract_1m 16 "$WARMUP" "$contract_url"
    wrk_run "$store" contract_1m 16 "$DURATION" "$contract_url"
    statements_of "$store" contract_1m GET "$contract_url"
    {
        echo "$store: the page is $page_bytes bytes of HTML."
        echo "$store: checkout_sessions grew from $before to $after rows during the measured POST runs" \
             "(+$((after - before)); wrk counted $CREATED_OK 2xx answers, the rest were in flight when wrk stopped);" \
             "store size at the end: $(store_size "$store")."
        echo "$store: RSS of the server after $RSS_DURATION at 64 connections: $((rss_kb / 1024)) MB ($rss_kb kB)."
        echo "$store: contract_1m is the contract page with $rows rows in contract_events."
    } >>"$NOTES"

    # Webhook delivery: WEBHOOKS pending deliveries written while the server is down, then the
    # time a fresh server takes to deliver them all to a local receiver.
    start_receiver
    local endpoint
    endpoint="$(curl -sS --max-time 10 -X POST "$BASE/api/v1/companies/$company/webhook_endpoints" \
        -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
        -d "{\"url\": \"http://127.0.0.1:$RECEIVER_PORT/hook\", \"event_types\": [\"invoice.paid\"]}" | jq -r .id)"
    [[ -n "$endpoint" && "$endpoint" != null ]] || die "creating the webhook endpoint failed"
    stop_server
    case "$store" in
        sqlite) series="WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $WEBHOOKS) SELECT i FROM n" ;;
        postgres) series="SELECT generate_series(1, $WEBHOOKS) AS i" ;;
    esac
    # Cloned from the invoice.created event the one-time charge raised, so every stored value
    # (timestamps included) has exactly the server's own format.
    local template
    template="$(store_sql "$store" "SELECT id FROM outbox_events WHERE company_id = '$company' ORDER BY id LIMIT 1")"
    store_sql "$store" "INSERT INTO outbox_events (id, company_id, event_type, payload, created_at)
        SELECT 'evt_bench_' || s.i, e.company_id, e.event_type, e.payload, e.created_at FROM ($series) s, outbox_events e
        WHERE e.id = '$template'" >/dev/null
    store_sql "$store" "INSERT INTO webhook_deliveries (id, company_id, event_id, endpoint_id, status, attempts,
            next_attempt_at, created_at, updated_at)
        SELECT 'whd_bench_' || s.i, e.company_id, 'evt_bench_' || s.i, '$endpoint', 'PENDING', 0, e.created_at,
               e.created_at, e.created_at FROM ($series) s, outbox_events e WHERE e.id = '$template'" >/dev/null
    local t0 t1 delivered=0 received
    t0="$(date +%s.%N)"
    start_server "$store" "$url"
    for _ in $(seq 1 1200); do
        delivered="$(store_sql "$store" "SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = '$endpoint' AND status = 'DELIVERED'")"
        [[ "$delivered" -ge "$WEBHOOKS" ]] && break
        sleep 0.1
    done
    t1="$(date +%s.%N)"
    received="$(curl -s "http://127.0.0.1:$RECEIVER_PORT/")"
    stop_receiver
    awk -v s="$store" -v n="$delivered" -v r="$received" -v t0="$t0" -v t1="$t1" 'BEGIN {
        secs = t1 - t0
        printf "%s: webhooks: %d of the pending deliveries delivered in %.1f s (from the server start): %.0f/s; the receiver counted %d POSTs.\n",
            s, n, secs, n / secs, r
    }' >>"$NOTES"
    log "$(tail -1 "$NOTES")"
    stop_server
}

for store in $STORES; do
    bench_store "$store"
done

# ---------------------------------------------------------------- report
{
    echo
    cat "$OUT/machine.txt"
    echo
    # Each row's req/s as a share of readyz's (same store and connections), and the server's
    # CPU time per request in microseconds.
    awk -F'\t' 'NR == FNR { if ($2 == "readyz") ready[$1 "/" $3] = $4; next }
        FNR == 1 { print $0 "\tvs_readyz\tcpu_us/req"; next }
        {
            base = ready[$1 "/" $3]
            if ($2 == "contract_1m") base = ready[$1 "/16"]
            cpu = $9; sub(/%/, "", cpu)
            printf "%s\t%s\t%.0f\n", $0, (base > 0 ? sprintf("%.0f%%", 100 * $4 / base) : "-"), ($4 > 0 ? cpu / 100 / $4 * 1e6 : 0)
        }' "$RESULTS" "$RESULTS" | column -t -s $'\t'
    echo
    echo "SQL statements per request (counted by the server; BEGIN/COMMIT are counted as transactions):"
    column -t -s $'\t' "$STATEMENTS"
    echo
    cat "$NOTES"
    echo "errors = non-2xx answers + socket errors (connect/read/write/timeout). Latencies are wrk's, closed loop."
    echo "server_cpu = CPU of the kasse process during the run, other_cpu = the rest of the machine but wrk"
    echo "(PostgreSQL, and any foreign load), both in % of one core; the machine has $(nproc)."
    echo "machine busy in the second before the start: ${BUSY_BEFORE}% of one core."
    echo "raw outputs: $OUT/"
} | tee "$OUT/report.txt"
