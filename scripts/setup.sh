#!/usr/bin/env bash
# Installs what building and testing need, skipping whatever is already present:
# the wasm32 target, wasm-bindgen-cli at the Cargo.lock version, Debian's chromium,
# chromium-driver and binaryen, npm packages from package-lock.json, and the Python test
# servers in .venv. Safe to run again; a no-op when everything is there.
set -euo pipefail
source "$(dirname "$0")/common.sh"

if ! command -v cargo >/dev/null || ! command -v rustup >/dev/null; then
  say "Rust is missing: install it with rustup (https://rustup.rs), then run this again."
  exit 1
fi
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

want="$(wasm_bindgen_lock_version)"
have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
if [ -z "$want" ]; then
  say "Cargo.lock names no wasm-bindgen version"; exit 1
fi
if [ "$have" != "$want" ] || ! command -v wasm-bindgen-test-runner >/dev/null; then
  say "installing wasm-bindgen-cli $want (found: ${have:-none})"
  cargo install wasm-bindgen-cli --version "$want"
fi

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v wasm-opt >/dev/null || missing+=(binaryen)
if [ -f requirements-test.txt ] && ! python3 -c 'import ensurepip' 2>/dev/null; then
  missing+=(python3-venv)
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

if [ -f package-lock.json ]; then
  stamp="node_modules/.setup-lock-sha256"
  sum="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [ ! -d node_modules ] || [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
    say "installing npm packages (npm ci)"
    npm ci --no-audit --no-fund
    echo "$sum" > "$stamp"
  fi
fi

if [ -f requirements-test.txt ]; then
  stamp=".venv/.setup-requirements-sha256"
  sum="$(sha256sum requirements-test.txt | cut -d' ' -f1)"
  if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
    say "installing the Python test tools into .venv"
    python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
    echo "$sum" > "$stamp"
  fi
fi
say "ready"
