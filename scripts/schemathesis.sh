#!/usr/bin/env bash
# Property-based API testing from outside (#19): schemathesis, from PyPI, reads
# /api/v1/openapi.json and sends generated and mutated requests to every
# route of a release build serving the seeded demo, with an admin token.
# It fails on any 5xx and on any response that breaks its documented schema.
# Path parameters are real records of the demo (the first order, delivery,
# wave, …), so the requests reach the use cases instead of stopping at 404.
#
#   scripts/schemathesis.sh                 # the test command's run: 20 examples per route, seed 1
#   EXAMPLES=500 SEED=$RANDOM scripts/schemathesis.sh   # deeper, another seed
#   KEEL_BIN=target/debug/keel scripts/schemathesis.sh  # against another build
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

SCHEMATHESIS_VERSION=4.32.5
venv=target/schemathesis-venv
if [ "$("$venv/bin/schemathesis" --version 2>/dev/null | awk '{print $NF}')" != "$SCHEMATHESIS_VERSION" ]; then
  say "installing schemathesis $SCHEMATHESIS_VERSION into $venv (PyPI, once)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi
# KEEL_BIN runs another build (a debug one while iterating); by default the
# release build the Playwright suite uses.
if [ -z "${KEEL_BIN:-}" ]; then build_release; fi

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export KEEL_DATABASE_URL="sqlite://$work/keel.db?mode=rwc" KEEL_ADDR="127.0.0.1:$port" \
  KEEL_CONFIG=/nonexistent KEEL_LOG=error LEPTOS_SITE_ROOT=target/site \
  KEEL_API_RATE_PER_CREDENTIAL=0 KEEL_API_RATE_PER_ADDRESS=0
# No rate limits: one token sends thousands of requests a minute here, and
# the limits have their own test (server/tests/http_limits.rs).
keel=${KEEL_BIN:-target/release/keel}
"$keel" migrate >/dev/null
"$keel" seed >/dev/null
token=$("$keel" token create --name schemathesis --role admin | tail -1)
# A second token, so a generated DELETE /tokens/{id} revokes that one, not ours.
"$keel" token create --name spare --role admin >/dev/null
"$keel" serve >"$work/serve.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  curl -fs "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

# One real record per kind of path parameter, read from the demo database
# (the server has it open too; SQLite readers don't block it).
python3 - "$work/keel.db" >"$work/schemathesis.toml" <<'PY'
import json, sqlite3, sys

db = sqlite3.connect(sys.argv[1])

def first(sql):
    row = db.execute(sql).fetchone()
    return None if row is None or row[0] is None else str(row[0])

held = db.execute("select order_id, hold_id from order_hold where active = 1 order by placed_at").fetchone()
records = [
    (r"^/api/v1/orders/\{id\}/holds", {"path.id": held and held[0], "path.hold": held and held[1]}),
    (r"^/api/v1/orders/\{id\}", {"path.id": first("select order_id from sales_order order by placed_at"), "path.line": "1"}),
    (r"\{sku\}", {"path.sku": first("select sku from product where kind = 'item' order by sku")}),
    (r"^/api/v1/channels/\{code\}", {"path.code": first("select code from channel order by code")}),
    (r"^/webhooks/", {"path.channel": first("select code from channel order by code")}),
    (r"\{warehouse\}|^/api/v1/warehouses/\{code\}", {"path.code": first("select code from warehouse order by code"),
                                                    "path.warehouse": first("select code from warehouse order by code")}),
    (r"^/api/v1/deliveries/\{id\}", {"path.id": first("select number from delivery order by number")}),
    (r"^/api/v1/counts/\{id\}", {"path.id": first("select count_id from cycle_count order by number")}),
    (r"^/api/v1/waves/\{id\}", {"path.id": first("select wave_id from wave order by number")}),
    (r"^/api/v1/fulfillments/\{id\}", {"path.id": first("select fulfillment_id from fulfillment order by created_at"), "path.seq": "1"}),
    (r"^/api/v1/reservations/\{id\}", {"path.id": first("select reservation_id from reservation order by created_at")}),
    (r"^/api/v1/shipments/\{id\}", {"path.id": first("select shipment_id from shipment order by shipped_at")}),
    (r"^/api/v1/stock/transfers/\{id\}", {"path.id": first("select transfer_id from stock_transfer order by created_at")}),
    (r"^/api/v1/(catalog/imports|order-reports)/\{id\}", {"path.id": first("select job_id from import_job order by created_at")}),
    (r"^/api/v1/exceptions/\{id\}", {"path.id": first("select exception_id from exception_item order by opened_at")}),
    (r"^/api/v1/users/\{id\}", {"path.id": first("select user_id from app_user where role <> 'admin' order by email")}),
    (r"^/api/v1/tokens/\{id\}", {"path.id": first("select token_id from api_token where name = 'spare'")}),
]
for pattern, params in records:
    known = {k: v for k, v in params.items() if v is not None}
    if not known:
        continue
    print("[[operations]]")
    print("include-path-regex = " + json.dumps(pattern))
    print("parameters = { " + ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in known.items()) + " }\n")
PY

say "schemathesis against $base (${EXAMPLES:-20} examples per route, seed ${SEED:-1})"
status=0
# One worker: with several, CPython 3.11's ast module trips over itself in the
# coverage phase ("AST constructor recursion depth mismatch").
# From target/, so schemathesis keeps its cache of past failures (which it
# replays first) there, out of the source tree.
(cd target && "schemathesis-venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run "$base/api/v1/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "${EXAMPLES:-20}" --seed "${SEED:-1}" --workers 1 \
  --exclude-path-regex 'events/stream' --continue-on-failure --no-color) || status=$?
if grep -qi "panicked\|request failed" "$work/serve.log"; then
  echo "the server logged errors:" >&2
  grep -i "panicked\|request failed" "$work/serve.log" | head -20 >&2
  status=1
fi
exit $status
