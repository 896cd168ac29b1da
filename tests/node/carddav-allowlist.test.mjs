// The shim admits a saved CardDAV server only when the core admits it (admittedOrigins(),
// asked on each request): https:// only, never a server on a private network outside
// development unless the operator said it is theirs, and never a redirect elsewhere; the
// wasm core's connectCardDav goes through it headless in Node. These fail if the shim
// admitted an unsaved or refused origin, kept admitting a removed one, or let http:// or a
// private address (in any spelling a browser accepts) through.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { createAllowlist } from "../../www/plugin/allowlist.js";
import { createNodeHost, loadPlugin, readManifest } from "../../www/node-host/node-host.mjs";

const manifestWith = (allowedHosts, devAllowedHosts = []) => ({ hostApi: "1", permissions: { network: { allowedHosts, devAllowedHosts } } });
const davSpoke = (id, serverUrl, extra = {}) => ({ id, kind: "carddav", name: id, allowCreate: true, serverUrl, username: "alice", ...extra });

test("admit() lets through exactly the origins the core admits, asked again on every request, and refuses a refused server with the core's reason", async () => {
  let access = { devMode: false, origins: [{ origin: "https://dav.example.com", source: "server", spokeId: "dav", anyPort: false, privateNetwork: false }], refused: [] };
  let asked = 0;
  const allow = createAllowlist(manifestWith(["https://people.googleapis.com"]), { networkAccess: async () => { asked += 1; return access; } });
  assert.equal((await allow.admit("https://dav.example.com/dav/alice/")).origin, "https://dav.example.com");
  assert.equal((await allow.admit("https://people.googleapis.com/v1/x")).origin, "https://people.googleapis.com", "the manifest still counts");
  assert.equal(asked, 1, "the manifest's origins need no question");
  assert.throws(() => allow.check("https://dav.example.com/"), { code: "NOT_ALLOWED_HOST" }, "check() stays the manifest alone");
  await assert.rejects(allow.admit("https://dav.example.com:8443/"), { code: "NOT_ALLOWED_HOST" }, "another port is another origin");
  await assert.rejects(allow.admit("https://dav.example.com.evil.example/"), { code: "NOT_ALLOWED_HOST" });
  await assert.rejects(allow.admit("not a url"), { code: "BAD_INPUT" });
  // An any-port entry is the shim's own development rule, never widened by the core's answer.
  access = { devMode: true, origins: [{ origin: "http://127.0.0.1", source: "development", anyPort: true, privateNetwork: true }], refused: [] };
  await assert.rejects(allow.admit("http://127.0.0.1/"), { code: "NOT_ALLOWED_HOST" });
  // A server removed or refused counts at once.
  const refusal = { spokeId: "dav", origin: "https://dav.example.com", privateNetwork: true, code: "NOT_ALLOWED_HOST", message: "The plugin may not contact https://dav.example.com: it is on a private network.", remedy: "Tick it." };
  access = { devMode: false, origins: [], refused: [refusal] };
  await assert.rejects(allow.admit("https://dav.example.com/dav/"), (e) => {
    assert.deepEqual([e.code, e.message, e.remedy, e.retryable], ["NOT_ALLOWED_HOST", refusal.message, "Tick it.", false]);
    return true;
  });
  access = { devMode: false, origins: [], refused: [] };
  await assert.rejects(allow.admit("https://dav.example.com/dav/"), (e) => e.code === "NOT_ALLOWED_HOST" && /https:\/\//.test(e.remedy) && !/CardDAV/.test(e.message + e.remedy));
});

test("when the core cannot answer (its storage failing), nothing beyond the manifest is admitted", async () => {
  for (const networkAccess of [async () => { throw Object.assign(new Error("disk gone"), { code: "STORAGE" }); }, async () => null, async () => ({ origins: "x" }), () => { throw new TypeError("no plugin yet"); }]) {
    const allow = createAllowlist(manifestWith(["https://people.googleapis.com"]), { networkAccess });
    await assert.rejects(allow.admit("https://dav.example.com/"), { code: "NOT_ALLOWED_HOST" });
    assert.ok(await allow.admit("https://people.googleapis.com/"));
  }
  const host = await createNodeHost();
  let broken = false;
  const get = host.hostApi.storage.get.bind(host.hostApi.storage);
  host.hostApi.storage.get = async (keys) => { if (broken) throw Object.assign(new Error("disk gone"), { code: "STORAGE" }); return get(keys); };
  const { plugin, deactivate } = await loadPlugin(host, { manifest: await readManifest() });
  try {
    await plugin.saveSettings({ ...plugin.defaultSettings(), spokes: [davSpoke("dav", "https://dav.example.com/dav/")] });
    assert.ok((await plugin.admittedOrigins()).origins.some((o) => o.origin === "https://dav.example.com"));
    broken = true;
    await assert.rejects(plugin.admittedOrigins(), { code: "STORAGE" });
  } finally {
    deactivate();
  }
});

test("connectCardDav through the shim: the saved server is reached, a refusal is AUTH_DENIED and no password is kept", async () => {
  const seen = [];
  const http = {
    async fetch(request) {
      seen.push({ method: request.method, url: request.url, auth: request.headers?.authorization ?? "" });
      return { status: 401, headers: { "www-authenticate": 'Basic realm="dav"' }, body: "" };
    },
  };
  const host = await createNodeHost({ http });
  const { plugin, deactivate } = await loadPlugin(host, { manifest: await readManifest() });
  try {
    assert.equal(typeof plugin.connectCardDav, "function");
    const settings = { ...plugin.defaultSettings(), spokes: [davSpoke("dav", "https://dav.example.com/dav/")] };
    await plugin.saveSettings(settings);
    await assert.rejects(plugin.connectCardDav("dav", "wrong-password"), (e) => {
      assert.ok(e instanceof Error);
      assert.equal(e.code, "AUTH_DENIED");
      assert.ok(e.remedy.length > 0);
      assert.ok(!e.message.includes("wrong-password"));
      return true;
    });
    assert.ok(seen.length >= 1 && seen.every((r) => r.url.startsWith("https://dav.example.com/")), JSON.stringify(seen));
    assert.equal(seen[0].method, "PROPFIND");
    assert.match(seen[0].auth, /^Basic /);
    assert.equal(await host.hostApi.secrets.get("carddav.dav.password"), null);
    const status = await plugin.status();
    assert.equal(status.spokes[0].state, "disconnected");
    assert.equal(status.spokes[0].kind, "carddav");

    // A spoke whose server is not https:// cannot be saved outside development.
    await assert.rejects(plugin.saveSettings({ ...settings, spokes: [davSpoke("dav", "http://dav.example.com/")] }), { code: "INVALID_SETTINGS" });
  } finally {
    deactivate();
  }
});

test("a CardDAV server answering 307 to another origin: the core refuses it, naming the target, and the other origin receives nothing", async () => {
  const received = [];
  const elsewhere = http.createServer((req, res) => { received.push(`${req.method} ${req.url} ${req.headers.authorization ?? ""}`); res.writeHead(207); res.end(); });
  await new Promise((resolve) => elsewhere.listen(0, "127.0.0.1", resolve));
  const target = `http://127.0.0.1:${elsewhere.address().port}/dav/`;
  const seen = [];
  const server = http.createServer((req, res) => {
    req.resume();
    seen.push(`${req.method} ${req.url}`);
    // Same origin first (followed by the core), then another origin (refused).
    res.writeHead(307, { location: req.url === "/" ? "/dav/" : target });
    res.end();
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const host = await createNodeHost();
  // Development mode admits every loopback port: only the core's same-origin rule stands
  // between the redirect and the other server.
  const { plugin, deactivate } = await loadPlugin(host, { allowDevHosts: true, manifest: await readManifest() });
  try {
    await plugin.saveSettings({ ...plugin.defaultSettings(), spokes: [davSpoke("dav", `http://127.0.0.1:${server.address().port}/`)] });
    await assert.rejects(plugin.connectCardDav("dav", "pw-never-elsewhere"), (e) => {
      assert.equal(e.code, "NOT_ALLOWED_HOST", `${e.code}: ${e.message}`);
      assert.ok(e.message.includes(`http://127.0.0.1:${elsewhere.address().port}`), e.message);
      assert.ok(e.remedy.includes(`http://127.0.0.1:${elsewhere.address().port}`), e.remedy);
      return true;
    });
    assert.deepEqual(received, [], "nothing reached the other origin");
    assert.ok(seen.includes("PROPFIND /dav/"), `the same-origin redirect was followed with its method: ${seen}`);
    assert.equal(await host.hostApi.secrets.get("carddav.dav.password"), null);
  } finally {
    deactivate();
    await new Promise((resolve) => server.close(resolve));
    await new Promise((resolve) => elsewhere.close(resolve));
  }
});

test("saveSettings refuses a server URL with a user name or password without repeating it, and dev hosts spelt as another host's userinfo", async () => {
  const host = await createNodeHost();
  const { plugin, deactivate } = await loadPlugin(host, { manifest: await readManifest() });
  try {
    const settings = plugin.defaultSettings();
    await assert.rejects(plugin.saveSettings({ ...settings, spokes: [davSpoke("dav", "https://alice:pw-in-url@dav.example.com/dav/")] }), (e) => {
      assert.equal(e.code, "INVALID_SETTINGS");
      assert.match(e.message, /serverUrl/);
      assert.ok(!e.message.includes("pw-in-url") && !JSON.stringify(e.reasons ?? []).includes("pw-in-url"), e.message);
      return true;
    });
    const google = { id: "g", kind: "google", name: "G", allowCreate: true, endpoints: { auth: "http://127.0.0.1:1@evil.example/auth", token: "http://127.0.0.1:9/token", api: "http://127.0.0.1:9" } };
    await assert.rejects(plugin.saveSettings({ ...settings, spokes: [google] }), (e) => e.code === "INVALID_SETTINGS" && /endpoints\.auth/.test(e.message));
    await assert.rejects(plugin.saveSettings({ ...settings, spokes: [davSpoke("dav", "http://127.0.0.1:1@evil.example/")] }), { code: "INVALID_SETTINGS" });
    assert.deepEqual((await plugin.getSettings()).spokes, [], "nothing was saved");
  } finally {
    deactivate();
  }
});

/** Servers on a private network, in the spellings a browser reads as such (WHATWG URL turns
 *  2130706433, 0x7f.1, 0177.0.0.1 and 127.1 into 127.0.0.1). */
const PRIVATE_SERVERS = [
  "https://10.1.2.3/dav/", "https://172.16.0.1/", "https://172.31.255.254/", "https://192.168.1.20/remote.php/dav/",
  "https://169.254.169.254/latest/", "https://127.0.0.1:8443/", "https://0.0.0.0/", "https://100.64.0.1/",
  "https://2130706433/", "https://0x7f.1/", "https://0177.0.0.1/", "https://127.1/", "https://0xa9fea9fe/",
  "https://[::1]/", "https://[::]/", "https://[::ffff:127.0.0.1]/", "https://[::ffff:a9fe:a9fe]/", "https://[fe80::1]/",
  "https://[febf::1]/", "https://[fd12:3456::1]/", "https://[fc00::1]/",
  "https://localhost/", "https://dav.localhost/", "https://LOCALHOST./", "https://nas.local/", "https://nas/",
];

test("a saved server on a private network is not admitted outside development until the operator says it is theirs", async () => {
  const handed = [];
  const host = await createNodeHost({ http: { async fetch(request) { handed.push(request.url); return { status: 401, headers: {}, body: "" }; } } });
  const { plugin, deactivate } = await loadPlugin(host, { manifest: await readManifest() });
  const save = (spoke) => plugin.saveSettings({ ...plugin.defaultSettings(), spokes: [spoke] });
  try {
    for (const serverUrl of PRIVATE_SERVERS) {
      const origin = new URL(serverUrl).origin;
      await save(davSpoke("dav", serverUrl));
      await assert.rejects(plugin.connectCardDav("dav", "pw"), (e) => {
        assert.equal(e.code, "NOT_ALLOWED_HOST", `${serverUrl}: ${e.code} ${e.message}`);
        assert.ok(e.message.includes(origin) && /private network/.test(e.message), e.message);
        assert.match(e.remedy, /private network/);
        return true;
      }, serverUrl);
      assert.deepEqual(handed, [], `${serverUrl}: nothing sent`);
      const access = await plugin.admittedOrigins();
      assert.ok(!access.origins.some((o) => o.origin === origin), `${serverUrl} is not admitted`);
      assert.ok(access.refused.some((r) => r.spokeId === "dav" && r.origin === origin && r.privateNetwork), `${serverUrl} is listed as refused`);

      await save(davSpoke("dav", serverUrl, { allowPrivateNetwork: true }));
      await assert.rejects(plugin.connectCardDav("dav", "pw"), { code: "AUTH_DENIED" }, serverUrl);
      assert.ok(handed.length >= 1 && handed.every((u) => u.startsWith(`${origin}/`)), `${serverUrl}: ${handed}`);
      handed.length = 0;
      assert.ok((await plugin.admittedOrigins()).origins.some((o) => o.origin === origin && o.spokeId === "dav" && o.privateNetwork === true));
    }
  } finally {
    deactivate();
  }
});

test("admittedOrigins: the manifest's origins, the development hosts in development only, and each saved public server", async () => {
  const manifest = await readManifest();
  for (const devMode of [false, true]) {
    const host = await createNodeHost();
    const { plugin, deactivate } = await loadPlugin(host, { manifest, allowDevHosts: devMode });
    try {
      await plugin.saveSettings({ ...plugin.defaultSettings(), spokes: [davSpoke("dav", "https://DAV.example.com:443/dav/"), davSpoke("lan", "https://192.168.1.20/")] });
      const access = await plugin.admittedOrigins();
      assert.equal(access.devMode, devMode);
      const by = (source) => access.origins.filter((o) => o.source === source).map((o) => o.origin);
      assert.deepEqual(by("manifest"), manifest.permissions.network.allowedHosts);
      assert.deepEqual(by("development"), devMode ? manifest.permissions.network.devAllowedHosts : []);
      assert.ok(access.origins.filter((o) => o.source === "development").every((o) => o.anyPort && o.privateNetwork));
      // In development a private server needs no choice: the emulators and test servers are local.
      assert.deepEqual(by("server"), devMode ? ["https://dav.example.com", "https://192.168.1.20"] : ["https://dav.example.com"]);
      assert.deepEqual(access.refused.map((r) => r.spokeId), devMode ? [] : ["lan"]);
    } finally {
      deactivate();
    }
  }
});
