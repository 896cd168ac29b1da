// The plugin's entry module (manifest entry.module). A host calls activate() with its
// HostApi; the shim reads the manifest, checks the contract version, loads the wasm core,
// hands it an adapted PluginHost, forwards host events, and tears everything down on
// deactivate. It decides nothing about contacts: that is the core's job.
import { createAllowlist } from "./allowlist.js";
import { codedError, toCodedError } from "./coded-error.js";
import { adaptHost, createTimerSet } from "./host-adapter.js";
import { loadWasm } from "./load-wasm.js";
import { createPluginFacade } from "./plugin-facade.js";

export { codedError } from "./coded-error.js";

const REQUIRED_PARTS = {
  storage: ["get", "write", "compareAndSet", "list"],
  secrets: ["get", "set", "delete"],
  crm: ["listChanges", "get", "create", "update", "delete", "lists", "createList", "tags", "fieldSchema", "users", "currentUser"],
  ui: ["notify", "openAuthWindow"],
};

/** Reads plugin.json beside the plugin root (fetch on http(s), the file system on file:). */
async function readManifest(manifestUrl) {
  try {
    if (manifestUrl.protocol === "file:") {
      const { readFile } = await import("node:fs/promises");
      return JSON.parse(await readFile(manifestUrl, "utf8"));
    }
    const response = await fetch(manifestUrl, { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return await response.json();
  } catch (error) {
    throw codedError("INTERNAL", `The plugin manifest could not be read from ${manifestUrl.href}: ${error.message}`, {
      remedy: "Reinstall the plugin: plugin.json must sit at the plugin's root.",
    });
  }
}

/** Refuses a host that speaks another contract version or lacks a required part. */
function checkHostApi(hostApi, manifest) {
  if (!hostApi || typeof hostApi !== "object") {
    throw codedError("HOST_API_MISMATCH", "activate() needs the host's API object.");
  }
  if (hostApi.hostApi !== manifest.hostApi) {
    throw codedError("HOST_API_MISMATCH", `The host offers hostApi "${hostApi.hostApi}" but the plugin needs "${manifest.hostApi}".`, {
      remedy: "Install a plugin version made for this CRM version, or update the CRM.",
    });
  }
  const missing = [];
  for (const [part, methods] of Object.entries(REQUIRED_PARTS)) {
    for (const method of methods) {
      if (typeof hostApi[part]?.[method] !== "function") missing.push(`${part}.${method}`);
    }
  }
  for (const fn of ["locale", "log", "onEvent"]) if (typeof hostApi[fn] !== "function") missing.push(fn);
  if (missing.length > 0) {
    throw codedError("HOST_API_MISMATCH", `The host's API lacks ${missing.join(", ")} (required by hostApi "${manifest.hostApi}").`, {
      remedy: "The CRM must implement the whole host contract (docs/host-api.md).",
    });
  }
}

/** Creates the core's plugin object, whichever construction the boundary exposes. */
async function createPlugin(glue, pluginHost, manifest) {
  const PluginClass = glue.ContactSyncPlugin;
  if (typeof PluginClass !== "function") {
    throw codedError("INTERNAL", "The wasm module does not export ContactSyncPlugin.", {
      remedy: "Rebuild the plugin with scripts/build.sh.",
    });
  }
  try {
    if (typeof PluginClass.create === "function") return await PluginClass.create(pluginHost, manifest);
    return new PluginClass(pluginHost, manifest);
  } catch (error) {
    throw toCodedError(error, "INTERNAL");
  }
}

/**
 * Activates the plugin for a host.
 * @param {import("./host-api").HostApi} hostApi
 * @param {{pluginRoot?: string|URL, manifest?: object, allowDevHosts?: boolean}} [options]
 *   pluginRoot: the folder holding index.js and pkg/ (default: this module's folder);
 *   manifest: plugin.json already read by the host (default: read from pluginRoot);
 *   allowDevHosts: let the plugin reach the manifest's devAllowedHosts (loopback emulators).
 * @returns {Promise<{plugin: import("./host-api").ContactSyncPlugin, manifest: object, deactivate: () => void}>}
 * @example
 *   const { plugin, deactivate } = await activate(hostApi, { allowDevHosts: true });
 *   await plugin.sync({ trigger: "manual" });
 *   deactivate();
 */
export async function activate(hostApi, { pluginRoot, manifest, allowDevHosts = false } = {}) {
  const root = new URL(pluginRoot ?? ".", import.meta.url);
  if (!root.pathname.endsWith("/")) root.pathname += "/";
  const theManifest = manifest ?? (await readManifest(new URL("plugin.json", root)));
  checkHostApi(hostApi, theManifest);
  const wasmPath = theManifest?.entry?.wasm;
  if (typeof wasmPath !== "string" || !wasmPath) {
    throw codedError("INTERNAL", "The manifest names no wasm entry (entry.wasm).");
  }

  // Saved servers are admitted when the core says so (its admittedOrigins(): the plugin is
  // created below, and a request comes only from it).
  let plugin = null;
  const allowlist = createAllowlist(theManifest, { allowDevHosts, networkAccess: () => plugin.admittedOrigins() });
  const timers = createTimerSet();
  const pluginHost = adaptHost(hostApi, { allowlist, timers });
  const glue = await loadWasm(new URL(wasmPath, root));
  const core = await createPlugin(glue, pluginHost, theManifest);
  const { facade, retire } = createPluginFacade(core);
  plugin = facade;

  let active = true;
  const unsubscribe = hostApi.onEvent((event) => {
    if (!active) return;
    Promise.resolve()
      .then(() => plugin.handleEvent(event))
      .catch((error) => {
        const coded = toCodedError(error);
        pluginHost.log("warn", "The plugin could not handle a host event.", { event: event?.type, code: coded.code, error: coded.message });
      });
  });

  function deactivate() {
    if (!active) return;
    active = false;
    try { if (typeof unsubscribe === "function") unsubscribe(); } catch { /* the host's problem */ }
    try { core.cancel?.(); } catch { /* nothing running */ }
    retire();
    timers.clear();
    try { core.free?.(); } catch { /* already freed */ }
  }

  return { plugin, manifest: theManifest, deactivate, allowedOrigins: allowlist.origins };
}
