// Loads the wasm-bindgen output (built with `--target web`) in any of the three places the
// plugin runs: a page, a Web Worker (fetch + instantiateStreaming, the glue's own path) and
// Node >= 20 (the bytes read from disk: Node's fetch does not read file: URLs).
import { codedError } from "./coded-error.js";

/** The glue module beside the wasm file: pkg/contact_sync_bg.wasm -> pkg/contact_sync.js. */
export function glueUrlFor(wasmUrl) {
  const url = new URL(wasmUrl);
  url.pathname = url.pathname.replace(/_bg\.wasm$/, ".js");
  if (url.pathname.endsWith(".wasm")) url.pathname = url.pathname.replace(/\.wasm$/, ".js");
  return url;
}

/**
 * @param {URL} wasmUrl absolute URL of the .wasm file (http(s): or file:)
 * @returns {Promise<object>} the glue module's exports, initialised
 */
export async function loadWasm(wasmUrl) {
  let glue;
  try {
    glue = await import(glueUrlFor(wasmUrl).href);
  } catch (error) {
    throw codedError("INTERNAL", `The plugin's JavaScript glue could not be loaded: ${error.message}`, {
      remedy: "Build the plugin (scripts/build.sh) and reinstall it.",
    });
  }
  try {
    if (wasmUrl.protocol === "file:") {
      const { readFile } = await import("node:fs/promises");
      const bytes = await readFile(wasmUrl);
      await glue.default({ module_or_path: bytes });
    } else {
      await glue.default({ module_or_path: wasmUrl });
    }
  } catch (error) {
    throw codedError("INTERNAL", `The plugin's WebAssembly module could not be started: ${error.message}`, {
      remedy: "Check that the host serves .wasm files as application/wasm and allows 'wasm-unsafe-eval'.",
    });
  }
  return glue;
}
