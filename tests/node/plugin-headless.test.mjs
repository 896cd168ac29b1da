// The plugin loaded headless in Node through the shim and the Node host, as a server-side
// scheduler would run it. Needs the built wasm (scripts/build.sh, or
// `wasm-bindgen --target web --out-dir www/plugin/pkg ...`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { access } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { createNodeHost, loadPlugin, readManifest, createScheduler } from "../../www/node-host/node-host.mjs";
import { activate } from "../../www/plugin/index.js";

const WASM = new URL("../../www/plugin/pkg/contact_sync_bg.wasm", import.meta.url);

test("the wasm is built where the manifest's entry points", async () => {
  const manifest = await readManifest();
  assert.equal(manifest.entry.wasm, "pkg/contact_sync_bg.wasm");
  await access(WASM).catch(() => assert.fail(`${fileURLToPath(WASM)} is missing: build the plugin first (scripts/build.sh)`));
});

test("activate loads the plugin headless and its methods answer", async () => {
  const host = await createNodeHost({ seed: true });
  const { plugin, manifest, deactivate } = await loadPlugin(host);
  try {
    assert.equal(manifest.id, "contact-sync");
    assert.match(plugin.version(), /^\d+\.\d+\.\d+/);
    const defaults = plugin.defaultSettings();
    assert.deepEqual(defaults, manifest.contributes.settings.defaults);
    const status = await plugin.status();
    assert.equal(typeof status.running, "boolean");
    assert.ok(Array.isArray(status.spokes));
  } finally {
    deactivate();
  }
});

test("a host offering another hostApi version is refused with HOST_API_MISMATCH", async () => {
  const host = await createNodeHost({ hostApiVersion: "2" });
  await assert.rejects(loadPlugin(host), (e) => {
    assert.ok(e instanceof Error);
    assert.equal(e.code, "HOST_API_MISMATCH");
    assert.match(e.message, /"2".*"1"/);
    return true;
  });
});

test("a host lacking a required part of the contract is refused with HOST_API_MISMATCH naming it", async () => {
  const host = await createNodeHost();
  const incomplete = { ...host.hostApi, crm: { ...host.hostApi.crm, update: undefined } };
  await assert.rejects(activate(incomplete, { pluginRoot: new URL("../../www/plugin/", import.meta.url), manifest: await readManifest() }),
    (e) => e.code === "HOST_API_MISMATCH" && /crm\.update/.test(e.message));
});

test("malformed settings reject with a coded Error and the plugin keeps working", async () => {
  const host = await createNodeHost();
  const { plugin, deactivate } = await loadPlugin(host);
  try {
    for (const bad of [{ "sync.enabled": "yes" }, null, 42, { ...plugin.defaultSettings(), "guard.maxDeleteShare": 7 }]) {
      await assert.rejects(plugin.saveSettings(bad), (e) => {
        assert.ok(e instanceof Error, `an Error, not ${typeof e}`);
        assert.equal(typeof e.code, "string");
        return true;
      });
    }
    await assert.rejects(plugin.handleEvent({ type: "contact.exploded" }), (e) => e instanceof Error && typeof e.code === "string");
    await assert.rejects(plugin.handleEvent("crm.opened"), (e) => e instanceof Error && typeof e.code === "string");
    const saved = await plugin.saveSettings({ ...plugin.defaultSettings(), "sync.onOpen": false });
    assert.equal(saved["sync.onOpen"], false);
    assert.equal((await plugin.getSettings())["sync.onOpen"], false);
  } finally {
    deactivate();
  }
});

test("host events reach the plugin, and deactivate unsubscribes and frees it", async () => {
  const host = await createNodeHost({ seed: true });
  const { plugin, deactivate } = await loadPlugin(host);
  assert.equal(host.subscriberCount, 1);
  host.emit({ type: "crm.opened" });
  const c = await host.user.create({ fields: { firstName: "Ada" } });
  await plugin.handleEvent({ type: "contact.updated", contactId: c.id });
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(!host.logs.some((l) => /could not handle a host event/.test(l.message)), JSON.stringify(host.logs));
  deactivate();
  assert.equal(host.subscriberCount, 0);
  assert.throws(() => plugin.version(), { code: "CANCELLED" }, "a deactivated plugin answers with a coded Error");
  await assert.rejects(plugin.status(), { code: "CANCELLED" });
});

test("the scheduler runs the manifest's command with trigger schedule and skips overlapping ticks", async () => {
  const calls = [];
  let release;
  const fake = { sync: (request) => { calls.push(request); return new Promise((r) => { release = () => r([]); }); } };
  const manifest = await readManifest();
  const scheduler = createScheduler(fake, manifest);
  assert.equal(scheduler.intervalMs, manifest.schedule.intervalMinutes * 60_000);
  const first = scheduler.runNow();
  const second = await scheduler.runNow();
  assert.deepEqual(second, { ok: true, skipped: true });
  release();
  assert.deepEqual(await first, { ok: true, reports: [] });
  assert.deepEqual(calls, [{ trigger: "schedule" }]);
  scheduler.start();
  assert.ok(scheduler.nextRunAt instanceof Date);
  scheduler.stop();
  assert.equal(scheduler.nextRunAt, null);
});
