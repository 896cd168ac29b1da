#!/usr/bin/env bash
# CardDAV benchmark: this project's engine + CardDAV spoke against vdirsyncer 0.21, on one
# Radicale 3.9 started on a free loopback port. Prints wall time and HTTP request counts
# (from Radicale's log) for runs (a) N_A cards on the server -> empty side, (b) N_B contacts
# on the other side -> empty address book, (c) the next run with nothing changed, and the
# ratios. Usage: scripts/bench-carddav.sh [N_A] [N_B]   (defaults 5000 1000)
# Needs .venv with requirements-test.txt (scripts/setup.sh installs it).
# BENCH_PROFILE=release builds with the release profile (slow to build: LTO); the default
# dev profile of this workspace already optimises every dependency (opt-level 2) and this
# script raises the crate itself to opt-level 2 too.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/radicale ] || [ ! -x .venv/bin/vdirsyncer ]; then
  echo "bench-carddav: .venv is missing radicale/vdirsyncer; installing requirements-test.txt" >&2
  python3 -m venv .venv
  .venv/bin/pip install -q -r requirements-test.txt
fi
if [ "${BENCH_PROFILE:-dev}" = release ]; then
  exec cargo run ${CARGO_JOBS:+-j "$CARGO_JOBS"} --release -q --example bench_carddav -- "$@"
else
  CARGO_PROFILE_DEV_OPT_LEVEL=2 CARGO_PROFILE_DEV_DEBUG=0 \
    exec cargo run ${CARGO_JOBS:+-j "$CARGO_JOBS"} -q --example bench_carddav -- "$@"
fi
