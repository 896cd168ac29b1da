// Installs a plugin from its manifest the way a CRM would: read plugin.json, import the
// entry module, activate it with this host's API, run the declared schedule, and tell the
// plugin the CRM was opened.
import { createScheduler } from "./scheduler.js";

/**
 * @param {{hostApi: object, emit: Function, pluginRoot: URL, allowDevHosts: boolean, log: Function,
 *          onRun: Function, onNextRun: Function}} options
 * @returns {Promise<{manifest: object, plugin: object, deactivate: Function, scheduler: object}>}
 */
export async function installPlugin({ hostApi, emit, pluginRoot, allowDevHosts, log, onRun, onNextRun }) {
  const response = await fetch(new URL("plugin.json", pluginRoot), { cache: "no-store" });
  if (!response.ok) throw new Error(`plugin.json could not be read (HTTP ${response.status}).`);
  const manifest = await response.json();
  const entry = await import(new URL(manifest.entry?.module ?? "index.js", pluginRoot).href);
  const { plugin, deactivate } = await entry.activate(hostApi, { pluginRoot: pluginRoot.href, manifest, allowDevHosts });
  const scheduler = createScheduler(plugin, manifest, { log: (level, message, fields) => log(level, message, fields), onRun, onNextRun });
  scheduler.start();
  emit({ type: "crm.opened" });
  return {
    manifest, plugin, scheduler,
    deactivate() { scheduler.stop(); deactivate(); },
  };
}
