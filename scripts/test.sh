#!/usr/bin/env bash
# Runs every test: native Rust, wasm in headless Chromium, Node, and end-to-end pages.
# Each stage runs even when an earlier one failed; the script prints each runner's
# summary, ends with "N passed, N failed" (stages), and exits non-zero on any failure.
set -uo pipefail
source "$(dirname "$0")/common.sh"

# Everything the run writes to a temporary folder (Chromium profiles left by ChromeDriver,
# test servers' folders) goes into one folder that is removed when the run ends, so
# repeated runs do not fill the disk. A non-incremental build keeps target/ smaller too.
run_tmp="$(mktemp -d "${TMPDIR:-/tmp}/contact-sync-test.XXXXXX")"
trap 'rm -rf "$run_tmp"' EXIT
export TMPDIR="$run_tmp"
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

scripts/setup.sh || { say "setup failed"; echo "0 passed, 1 failed"; exit 1; }
scripts/build.sh || { say "build failed"; echo "0 passed, 1 failed"; exit 1; }

export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver || echo /usr/bin/chromedriver)}"
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}"
logs="$run_tmp/logs"
mkdir -p "$logs"
passed=0
failed=0
summaries=()

# Runs one stage, keeps its output, and records a one-line summary of its counts.
stage() {
  local name="$1"; shift
  say "stage: $name: $*"
  local log="$logs/$name.log" status
  "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  local counts
  if grep -q '^test result:' "$log"; then
    counts="$(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } } END { printf "%d tests passed, %d failed", p, f }' "$log")"
  else
    counts="$(grep -E '^(# |ℹ )(tests|pass|fail|cancelled) [0-9]+' "$log" | sed -E 's/^(# |ℹ )//' | paste -sd' ' -)"
  fi
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1)); summaries+=("PASS  $name: ${counts:-no counts}")
  else
    failed=$((failed + 1)); summaries+=("FAIL  $name (exit $status): ${counts:-no counts}")
  fi
}

stage native cargo test --workspace --no-fail-fast
stage wasm cargo test -p contact-sync --no-fail-fast --target wasm32-unknown-unknown --test 'wasm_*'
stage node node --test tests/node/
stage e2e node --test --test-concurrency=1 tests/e2e/

echo
for line in "${summaries[@]}"; do echo "$line"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
