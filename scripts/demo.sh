#!/usr/bin/env bash
# Sets up, builds, and starts the demo: the reference CRM with the plugin installed and
# the Google emulator seeded with sample contacts. Runs until Ctrl-C.
#   PORT=8080 (default) picks the host's port; GOOGLE_PORT=0 (default) a free one.
set -euo pipefail
source "$(dirname "$0")/common.sh"
scripts/setup.sh
scripts/build.sh
port="${PORT:-8080}"
say "starting the development server; open the URL printed below (Ctrl-C stops it)"
exec target/debug/devserver serve --port "$port" --google-port "${GOOGLE_PORT:-0}" --google-seed demo
