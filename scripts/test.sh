#!/usr/bin/env bash
# README command (b): every test. Domain and store tests (on SQLite and, when
# PostgreSQL's server binaries exist, on a throwaway cluster), HTTP tests, the
# Playwright journeys against a release build in Debian's Chromium, then
# schemathesis against that build's API.
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

# Every suite runs even when an earlier one fails; the command fails at the end
# and names what failed, so one broken suite never hides another's results.
failed=()
suite() {
  local name=$1; shift
  say "$name"
  if ! "$@"; then
    failed+=("$name")
  fi
}

suite "formatting" cargo fmt --all --check
suite "clippy (deny warnings)" cargo clippy --workspace --all-targets --locked -- -D warnings
suite "unused dependencies (cargo machete)" cargo machete
suite "domain, store (SQLite + PostgreSQL) and HTTP tests" \
  cargo test --workspace --exclude frontend --locked --no-fail-fast

playwright() {
  build_release || return 1
  if [ ! -x /usr/bin/chromium ]; then
    echo "Debian's chromium is missing: apt-get install -y chromium (.ci/run does this)" >&2
    return 1
  fi
  npx playwright test
}
suite "Playwright: desktop, tablet and phone, with JavaScript on and off" playwright
suite "API fuzzing from the OpenAPI document (schemathesis: no 5xx, no response off its schema)" \
  scripts/schemathesis.sh

if [ ${#failed[@]} -gt 0 ]; then
  printf '\033[1;31m==> failed: %s\033[0m\n' "${failed[@]}" >&2
  exit 1
fi
say "every suite passed"
