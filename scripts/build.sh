#!/usr/bin/env bash
# Builds the plugin (release wasm + wasm-bindgen glue into www/plugin/pkg, size-optimised
# with wasm-opt when present) and the development server.
#   scripts/build.sh               plugin and devserver
#   scripts/build.sh --plugin-only the plugin alone (packaging)
set -euo pipefail
source "$(dirname "$0")/common.sh"

say "building the plugin (release wasm)"
cargo build --release --target wasm32-unknown-unknown -p contact-sync
wasm="target/wasm32-unknown-unknown/release/contact_sync.wasm"
out="www/plugin/pkg"
rm -rf "$out"
wasm-bindgen --target web --out-dir "$out" "$wasm"
if command -v wasm-opt >/dev/null; then
  # The features rustc's wasm32 target enables by default; wasm-opt must accept them.
  wasm-opt -Oz --strip-debug --strip-producers \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    -o "$out/contact_sync_bg.opt.wasm" "$out/contact_sync_bg.wasm"
  mv "$out/contact_sync_bg.opt.wasm" "$out/contact_sync_bg.wasm"
else
  say "wasm-opt not found: the wasm is not size-optimised (scripts/setup.sh installs binaryen)"
fi
say "plugin built: $out ($(stat -c %s "$out/contact_sync_bg.wasm") bytes of wasm)"

if [ "${1:-}" != "--plugin-only" ]; then
  say "building the development server"
  cargo build -p devserver
fi
