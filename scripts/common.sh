# Shared by the scripts: repository root, PATH for rustup's tools, and small helpers.
# Sourced, not run.
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
# A fresh shell (CI, cron) may not have sourced ~/.cargo/env.
export PATH="$HOME/.cargo/bin:$PATH"
say() { printf '\033[1m%s:\033[0m %s\n' "$(basename "$0" .sh)" "$*" >&2; }
# The wasm-bindgen version the plugin is built with: the CLI must match it exactly.
wasm_bindgen_lock_version() {
  awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' "$REPO/Cargo.lock"
}
