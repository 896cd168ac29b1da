#!/usr/bin/env bash
# Builds the plugin (release wasm + wasm-bindgen glue into www/plugin/pkg, size-optimised
# with wasm-opt when present) and the development server. The phone service the wasm
# imports (www/plugin/vendor/phone.js, libphonenumber-js) is committed; wasm-bindgen copies
# it into pkg/snippets/. CARGO_TARGET_DIR is honoured.
#   scripts/build.sh               plugin and devserver
#   scripts/build.sh --plugin-only the plugin alone (packaging)
set -euo pipefail
source "$(dirname "$0")/common.sh"

say "building the plugin (release wasm)"
cargo build --release --target wasm32-unknown-unknown -p contact-sync
release="${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release"
wasm="$release/contact_sync.wasm"
out="www/plugin/pkg"
if command -v wasm-opt >/dev/null; then
  # Optimise rustc's output before wasm-bindgen: run after it, binaryen 108 (Debian 12)
  # breaks the externref table wasm-bindgen sets up ("WebAssembly.Table.set(): Argument
  # 1 is invalid"). The flags are the features rustc's wasm32 target enables by default.
  # Same file name in its own folder: wasm-bindgen names the glue after it.
  mkdir -p "$release/opt"
  opt="$release/opt/contact_sync.wasm"
  wasm-opt -Oz --strip-producers \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    -o "$opt" "$wasm"
  wasm="$opt"
else
  say "wasm-opt not found: the wasm is not size-optimised (scripts/setup.sh installs binaryen)"
fi
rm -rf "$out"
wasm-bindgen --target web --out-dir "$out" "$wasm"
say "plugin built: $out ($(stat -c %s "$out/contact_sync_bg.wasm") bytes of wasm)"

if [ "${1:-}" != "--plugin-only" ]; then
  say "building the development server"
  cargo build -p devserver
fi
