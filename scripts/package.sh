#!/usr/bin/env bash
# Builds the release plugin and writes dist/<id>-<version>.zip holding exactly what a CRM
# installs: plugin.json, the shim modules, settings/, i18n/, pkg/ (glue, wasm, typings)
# and host-api.d.ts. Prints the raw and gzipped wasm sizes.
set -euo pipefail
source "$(dirname "$0")/common.sh"
scripts/build.sh --plugin-only
python3 - <<'PY'
import gzip, json, pathlib, zipfile
root = pathlib.Path(".")
manifest = json.loads((root / "plugin.json").read_text())
plugin = root / "www" / "plugin"
files = {"plugin.json": root / "plugin.json"}
for path in sorted(plugin.rglob("*")):
    rel = path.relative_to(plugin).as_posix()
    if not path.is_file() or any(part.startswith(".") for part in path.relative_to(plugin).parts):
        continue
    top = rel.split("/")[0]
    if "/" not in rel and (rel.endswith(".js") or rel == "host-api.d.ts"):
        files[rel] = path
    elif top in ("settings", "i18n"):
        files[rel] = path
    elif top == "pkg" and rel.endswith((".js", ".wasm", ".d.ts")):
        files[rel] = path
for required in ("index.js", manifest["entry"]["wasm"], manifest["contributes"]["settingsTab"]["module"], "host-api.d.ts"):
    if required not in files:
        raise SystemExit(f"package: {required} is missing; the package would not install")
dist = root / "dist"
dist.mkdir(exist_ok=True)
out = dist / f"{manifest['id']}-{manifest['version']}.zip"
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for name, path in sorted(files.items()):
        z.write(path, name)
wasm = (plugin / manifest["entry"]["wasm"]).read_bytes()
print(f"wrote {out} ({out.stat().st_size} bytes, {len(files)} files)")
print(f"wasm: {len(wasm)} bytes raw, {len(gzip.compress(wasm, 9))} bytes gzipped")
PY
