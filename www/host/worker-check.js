// Runs in a dedicated Web Worker: activates the plugin with the in-memory host (the same
// HostApi the Node host uses), exercises it, and posts a report. Proves the shim loads
// the wasm without a window or a document.
import { createMemoryHost } from "./memory-host.js";

async function check() {
  const report = { ok: false, inWorker: typeof document === "undefined" && typeof self.importScripts === "function" };
  const host = await createMemoryHost({ seed: true, locale: "fr-FR" });
  const { activate } = await import(new URL("/plugin/index.js", self.location.href).href);
  const { plugin, manifest, deactivate } = await activate(host.hostApi, { pluginRoot: new URL("/plugin/", self.location.href).href, allowDevHosts: true });
  report.manifestId = manifest.id;
  report.version = plugin.version();
  report.defaultSettingsKeys = Object.keys(plugin.defaultSettings()).length;
  report.status = await plugin.status();
  try {
    await plugin.saveSettings({ "sync.enabled": "not a boolean" });
    report.malformed = { rejected: false };
  } catch (error) {
    report.malformed = { rejected: true, isError: error instanceof Error, code: error.code ?? null };
  }
  // Still working after the refusal.
  report.afterMalformed = (await plugin.getSettings().then(() => "ok", (e) => e.code ?? "uncoded"));
  await plugin.handleEvent({ type: "crm.opened" });
  report.subscribersBefore = host.subscriberCount;
  deactivate();
  report.subscribersAfter = host.subscriberCount;
  report.ok = report.inWorker && typeof report.version === "string" && report.malformed.rejected && report.malformed.isError && typeof report.malformed.code === "string";
  return report;
}

check().then(
  (report) => self.postMessage(report),
  (error) => self.postMessage({ ok: false, error: error.message, code: error.code ?? null }),
);
