#!/usr/bin/env bash
# Fuzzes the parsers of outside data (docs/robustness.md) with cargo-fuzz: each target of
# fuzz/ runs RUNS executions (1,000,000 unless told) from the committed seeds in
# fuzz/seeds/<target>, growing a working corpus in fuzz/corpus/<target> (not committed).
# Installs cargo-fuzz when missing. With a nightly toolchain AddressSanitizer is on;
# without one, `-s none` on stable. A crash leaves its input in fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh                          # every target, 1,000,000 executions each
#   RUNS=20000 scripts/fuzz.sh vcard_roundtrip people_json
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${RUNS:-1000000}"
ALL=(webdav_multistatus vcard_roundtrip people_json oauth_callback settings_json)
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL[@]}")

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  TOOLCHAIN=(+nightly); SANITIZER=address
else
  TOOLCHAIN=(); SANITIZER=none
fi

mkdir -p fuzz/target
summary=()
status=0
for t in "${TARGETS[@]}"; do
  mkdir -p "fuzz/corpus/$t"
  log="fuzz/target/$t.log"
  echo "== $t: $RUNS executions (sanitizer: $SANITIZER)"
  if ! (cd fuzz && cargo "${TOOLCHAIN[@]}" fuzz run -s "$SANITIZER" -O "$t" "corpus/$t" "seeds/$t" -- \
        -runs="$RUNS" -max_len=16384 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1) >"$log" 2>&1; then
    status=1
    grep -E "panicked|ERROR|SUMMARY|Test unit written" "$log" | head -20 || true
    summary+=("$t: CRASH (see $log and fuzz/artifacts/$t/)")
    continue
  fi
  # libFuzzer's last lines: "Done 1000000 runs in 123 second(s)".
  done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1)
  runs=$(echo "$done_line" | awk '{print $2}')
  secs=$(echo "$done_line" | awk '{print $5}')
  rate=$(awk -v r="$runs" -v s="$secs" 'BEGIN { printf "%d", (s > 0 ? r / s : r) }')
  summary+=("$t: $runs executions in $secs s, $rate exec/s, no crash")
done
echo "== fuzz summary"
printf '%s\n' "${summary[@]}"
exit $status
