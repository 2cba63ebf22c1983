#!/usr/bin/env bash
# README command (b): every test. Domain and store tests (on SQLite and, when
# PostgreSQL's server binaries exist, on a throwaway cluster), HTTP tests, then
# the Playwright journeys against a release build in Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

work=$(mktemp -d)
chmod 755 "$work"
cleanup() { scripts/pg.sh stop "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

if url=$(scripts/pg.sh start "$work/pg" 2>"$work/pg-error"); then
  export KEEL_TEST_PG_URL="$url"
  say "PostgreSQL: throwaway cluster at ${url%/postgres}"
else
  if [ "${CI:-}" = "true" ]; then
    echo "CI=true and PostgreSQL could not be started: $(cat "$work/pg-error")" >&2
    exit 1
  fi
  unset KEEL_TEST_PG_URL
  say "PostgreSQL: SKIPPED, no server binaries here ($(cat "$work/pg-error")). The store suite runs on SQLite only."
fi

say "formatting"
cargo fmt --all --check

say "domain, store (SQLite + PostgreSQL) and HTTP tests"
cargo test --workspace --exclude frontend

build_release

say "Playwright: desktop, tablet and phone, with JavaScript on and off"
if [ ! -x /usr/bin/chromium ]; then
  echo "Debian's chromium is missing: apt-get install -y chromium (.ci/run does this)" >&2
  exit 1
fi
npx playwright test
