#!/usr/bin/env bash
# The soak of the whole stack (tests/soak/soak.mjs): the Node host running the built plugin
# in a fresh process per sync run, the Google emulator and Radicale behind a fault proxy;
# random edits on all three sides, faults on a fifth of the requests, runs killed at random
# points and restarted; then the end state checked (no lost edit, no duplicate, convergence).
# docs/robustness.md says what it checks and gives the figures of past runs.
#
#   scripts/soak.sh                       a short run (2 minutes, a random seed it prints)
#   scripts/soak.sh --minutes 60 --seed 7 at most an hour; the same seed replays the same edits
#   scripts/soak.sh --no-build ...        skip the build (the wasm and devserver are current)
# Other options: --people N (300), --fault-share F (0.2), --kill-share K (0.3), --keep (keep
# the run's folder even when it passes), --trace S0001,S0002 (those people's records on every
# side after each round, in runs.log). The minutes bound the soak itself, not the build.
# Exit 0 when every check passes, 1 on a violation (printed with the command to replay it).
set -euo pipefail
source "$(dirname "$0")/common.sh"

build=1
args=()
for arg in "$@"; do
  if [ "$arg" = "--no-build" ]; then build=0; else args+=("$arg"); fi
done
scripts/setup.sh
# Always built by default: a soak of a stale plugin would report on code that is gone.
if [ "$build" -eq 1 ]; then scripts/build.sh; fi
exec node tests/soak/soak.mjs "${args[@]+"${args[@]}"}"
