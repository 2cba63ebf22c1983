#!/usr/bin/env bash
# README command (a): install what is missing, build, migrate, seed the demo
# retailer and serve Keel at http://127.0.0.1:3000 on SQLite (data/keel.db).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

build_release

export KEEL_SITE_ROOT="${KEEL_SITE_ROOT:-target/site}"
say "migrating and seeding"
target/release/keel migrate
target/release/keel seed
say "starting"
exec target/release/keel serve
