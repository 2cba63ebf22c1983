#!/usr/bin/env bash
# Installs the pinned build tools when missing (or at another version):
# the wasm32 target, cargo-leptos, wasm-bindgen-cli (the Cargo.lock version),
# and the npm packages (Tailwind, binaryen's wasm-opt, Playwright).
# Sourced by start.sh and test.sh; safe to run again: it skips what is present.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10
CARGO_MACHETE_VERSION=0.9.2
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(cargo-leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 15 minutes on 2 cores, once)"
  cargo install cargo-leptos@"$CARGO_LEPTOS_VERSION" --locked
fi

if [ "$(cargo-machete --version 2>/dev/null | awk '{print $NF}')" != "$CARGO_MACHETE_VERSION" ]; then
  say "installing cargo-machete $CARGO_MACHETE_VERSION (the unused-dependency check)"
  cargo install cargo-machete@"$CARGO_MACHETE_VERSION" --locked
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (matches Cargo.lock)"
  # Not --locked: its lock file pins a yanked dependency.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ ! -x node_modules/.bin/tailwindcss ] || [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/@playwright/test ] \
   || [ package.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (Tailwind, binaryen, Playwright)"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi

# Builds the release site and binary unless nothing that feeds them changed since
# the last successful build. cargo-leptos always re-runs wasm-bindgen and wasm-opt
# (about 25 s on 2 cores), so an unchanged tree skips it to start in seconds.
build_release() {
  local stamp=target/.keel-release-stamp
  if [ -f "$stamp" ] && [ -x target/release/keel ] && [ -f target/site/pkg/keel.wasm ] \
     && [ -z "$(find Cargo.toml Cargo.lock package.json app crates server frontend style public migrations -newer "$stamp" -print -quit)" ]; then
    say "release build is up to date"
    return
  fi
  say "building Keel (release)"
  # Explicit: callers may run this where `set -e` is off (inside an `if`),
  # and a failed build must never leave the stamp that says it is current.
  cargo leptos build --release || return 1
  touch "$stamp"
}
