#!/usr/bin/env bash
# Started by Playwright: a fresh SQLite database with the demo retailer, served
# on the port Playwright waits for. The staff password is fixed for the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
export KEEL_DATABASE_URL="sqlite://$dir/keel.db"
export KEEL_ADDR="127.0.0.1:${KEEL_E2E_PORT:-3100}"
export KEEL_SITE_ROOT=target/site
export KEEL_SEED_PASSWORD="${KEEL_SEED_PASSWORD:-e2e password 1234}"
# Playwright sets X-Forwarded-For per project, as a proxy in front of Keel would.
export KEEL_TRUSTED_PROXIES=127.0.0.1
target/release/keel seed >/dev/null
exec target/release/keel serve
