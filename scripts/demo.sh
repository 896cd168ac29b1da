#!/usr/bin/env bash
# Sets up, builds, and starts the demo: the reference CRM with the plugin installed, the
# Google emulator seeded with sample contacts, and a Radicale CardDAV server with a demo
# user and a few cards (scripts/radicale-dev.mjs). Runs until Ctrl-C, which stops both.
#   PORT=8080 (default) picks the host's port; GOOGLE_PORT=0 (default) a free one;
#   CARDDAV_PORT=0 (default) a free one for Radicale.
set -euo pipefail
source "$(dirname "$0")/common.sh"
scripts/setup.sh
scripts/build.sh
port="${PORT:-8080}"

say "starting the CardDAV server (Radicale)"
radicale_log="$(mktemp)"
node scripts/radicale-dev.mjs --seed demo --port "${CARDDAV_PORT:-0}" >"$radicale_log" 2>&1 &
radicale_pid=$!
stop_radicale() {
  kill "$radicale_pid" 2>/dev/null && wait "$radicale_pid" 2>/dev/null
  rm -f "$radicale_log"
}
trap stop_radicale EXIT
for _ in $(seq 1 200); do
  grep -q '^RADICALE ' "$radicale_log" && break
  kill -0 "$radicale_pid" 2>/dev/null || { cat "$radicale_log" >&2; say "Radicale did not start"; exit 1; }
  sleep 0.1
done
line="$(grep -m1 '^RADICALE ' "$radicale_log")" || { cat "$radicale_log" >&2; say "Radicale did not start"; exit 1; }
echo "$line"
field() { node -e 'const r = JSON.parse(process.argv[1].slice(9)); process.stdout.write(String(r[process.argv[2]]))' "$line" "$1"; }
say "CardDAV server: $(field url)   user: $(field user)   password: $(field password)"
say "  connect it in the plugin's settings tab: Connections > Add a CardDAV address book"

say "starting the development server; open the URL printed below (Ctrl-C stops it)"
target/debug/devserver serve --port "$port" --google-port "${GOOGLE_PORT:-0}" --google-seed demo
