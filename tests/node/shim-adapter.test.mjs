// The shim's guards without the wasm core: the manifest allowlist on every request, the
// fetch adaptation (global fetch or the host's proxy), coded errors, and the timers that
// deactivate clears. These would fail if the allowlist or the adapter broke.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { createAllowlist } from "../../www/plugin/allowlist.js";
import { adaptHost, createTimerSet } from "../../www/plugin/host-adapter.js";
import { createNodeHost, readManifest } from "../../www/node-host/node-host.mjs";
import { createPluginFacade } from "../../www/plugin/plugin-facade.js";

let server;
let port;
let hits = 0;
before(async () => {
  server = http.createServer((req, res) => {
    hits += 1;
    if (req.url === "/redirect-away") {
      res.writeHead(302, { location: `http://localhost:${port}/landed` });
      res.end();
      return;
    }
    let body = "";
    req.on("data", (c) => { body += c; });
    req.on("end", () => {
      res.writeHead(200, { "Content-Type": "application/json", "X-Echo": req.method });
      res.end(JSON.stringify({ path: req.url, body }));
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = server.address().port;
});
after(() => new Promise((resolve) => server.close(resolve)));

const manifestWith = (allowedHosts, devAllowedHosts = []) => ({ hostApi: "1", permissions: { network: { allowedHosts, devAllowedHosts } } });

test("the real manifest allows Google's origins and refuses any other, naming the origin", async () => {
  const allow = createAllowlist(await readManifest(), { allowDevHosts: false });
  assert.equal(allow.check("https://people.googleapis.com/v1/people/me/connections?x=1").origin, "https://people.googleapis.com");
  assert.throws(() => allow.check("https://evil.example/steal?token=abc"), (e) => {
    assert.equal(e.code, "NOT_ALLOWED_HOST");
    assert.match(e.message, /https:\/\/evil\.example/);
    assert.doesNotMatch(e.message, /token=abc/, "the query is not echoed");
    return true;
  });
  assert.throws(() => allow.check("https://people.googleapis.com:8443/"), { code: "NOT_ALLOWED_HOST" }, "another port is another origin");
  assert.throws(() => allow.check("http://people.googleapis.com/"), { code: "NOT_ALLOWED_HOST" }, "another scheme is another origin");
  assert.throws(() => allow.check("https://people.googleapis.com.evil.example/"), { code: "NOT_ALLOWED_HOST" });
  assert.throws(() => allow.check("not a url"), { code: "BAD_INPUT" });
});

test("loopback development hosts are allowed on any port only in development mode", async () => {
  const manifest = await readManifest();
  assert.throws(() => createAllowlist(manifest, { allowDevHosts: false }).check(`http://127.0.0.1:${port}/`), { code: "NOT_ALLOWED_HOST" });
  const dev = createAllowlist(manifest, { allowDevHosts: true });
  assert.equal(dev.check(`http://127.0.0.1:${port}/x`).port, String(port));
  assert.ok(dev.check("http://localhost:9/"));
  assert.throws(() => dev.check("https://127.0.0.1:443/"), { code: "NOT_ALLOWED_HOST" }, "dev entries keep their scheme");
});

test("a request to a listed origin passes and returns status, lower-cased headers and the body", async () => {
  const { hostApi } = await createNodeHost();
  const host = adaptHost(hostApi, { allowlist: createAllowlist(manifestWith([`http://127.0.0.1:${port}`])), timers: createTimerSet() });
  const response = await host.fetch({ method: "POST", url: `http://127.0.0.1:${port}/echo`, headers: { "content-type": "text/plain" }, body: "hello" });
  assert.equal(response.status, 200);
  assert.equal(response.headers["x-echo"], "POST");
  assert.deepEqual(JSON.parse(response.body), { path: "/echo", body: "hello" });
});

test("a request to an unlisted origin rejects NOT_ALLOWED_HOST and never leaves the machine", async () => {
  const { hostApi } = await createNodeHost();
  const host = adaptHost(hostApi, { allowlist: createAllowlist(manifestWith(["https://people.googleapis.com"])), timers: createTimerSet() });
  const before = hits;
  await assert.rejects(host.fetch({ method: "GET", url: `http://127.0.0.1:${port}/secret` }), (e) => e instanceof Error && e.code === "NOT_ALLOWED_HOST");
  assert.equal(hits, before, "the server saw no request");
});

test("a 307 from a listed origin to an unlisted one is handed back to the core: the other origin receives nothing", async () => {
  const received = [];
  const elsewhere = http.createServer((req, res) => { received.push(`${req.method} ${req.url}`); res.end("thanks"); });
  await new Promise((resolve) => elsewhere.listen(0, "127.0.0.1", resolve));
  const listed = http.createServer((req, res) => {
    req.resume();
    res.writeHead(307, { location: `http://127.0.0.1:${elsewhere.address().port}/steal` });
    res.end();
  });
  await new Promise((resolve) => listed.listen(0, "127.0.0.1", resolve));
  try {
    const { hostApi } = await createNodeHost();
    const origin = `http://127.0.0.1:${listed.address().port}`;
    const host = adaptHost(hostApi, { allowlist: createAllowlist(manifestWith([origin])), timers: createTimerSet() });
    const answer = await host.fetch({ method: "PUT", url: `${origin}/card.vcf`, headers: { authorization: "Basic c2VjcmV0", "content-type": "text/vcard" }, body: "BEGIN:VCARD" });
    assert.equal(answer.status, 307, "the redirect itself comes back: the core decides");
    assert.equal(answer.headers.location, `http://127.0.0.1:${elsewhere.address().port}/steal`);
    assert.deepEqual(received, [], "neither the method, the body nor the credentials reached the other origin");
  } finally {
    await new Promise((resolve) => listed.close(resolve));
    await new Promise((resolve) => elsewhere.close(resolve));
  }
});

test("a network failure rejects with code NETWORK and is marked retryable", async () => {
  const closed = http.createServer();
  await new Promise((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const deadPort = closed.address().port;
  await new Promise((resolve) => closed.close(resolve));
  const { hostApi } = await createNodeHost();
  const host = adaptHost(hostApi, { allowlist: createAllowlist(manifestWith([], ["http://127.0.0.1"]), { allowDevHosts: true }), timers: createTimerSet() });
  await assert.rejects(host.fetch({ method: "GET", url: `http://127.0.0.1:${deadPort}/` }), (e) => e.code === "NETWORK" && e.retryable === true);
});

test("the host's http proxy is used when present, and the allowlist is still checked first", async () => {
  const seen = [];
  const { hostApi } = await createNodeHost({
    http: { fetch: async (request) => { seen.push(request.url); return { status: 207, headers: { "Content-Type": "text/xml" }, body: "<multistatus/>" }; } },
  });
  const host = adaptHost(hostApi, { allowlist: createAllowlist(manifestWith(["https://dav.example.com"])), timers: createTimerSet() });
  const response = await host.fetch({ method: "PROPFIND", url: "https://dav.example.com/addressbooks/", headers: { depth: "1" }, body: "" });
  assert.deepEqual(response, { status: 207, headers: { "content-type": "text/xml" }, body: "<multistatus/>" });
  await assert.rejects(host.fetch({ method: "GET", url: "https://other.example.com/" }), { code: "NOT_ALLOWED_HOST" });
  assert.deepEqual(seen, ["https://dav.example.com/addressbooks/"]);
});

test("the host's proxy is handed the checked, parsed href, never the raw URL the core gave", async () => {
  const handed = [];
  const hostApi = { http: { async fetch(request) { handed.push(request.url); return { status: 200, headers: {}, body: "" }; } } };
  const host = adaptHost(hostApi, { allowlist: createAllowlist(manifestWith(["https://dav.example.com"])), timers: createTimerSet() });
  await host.fetch({ method: "GET", url: "HTTPS://DAV.Example.com:443/a/./b/../c?q=1" });
  assert.deepEqual(handed, ["https://dav.example.com/a/c?q=1"], "what the allowlist checked is what the proxy sends");
});

test("userinfo, backslashes, control characters, spaces around the URL and schemes other than http(s) are refused before anything leaves", async () => {
  const handed = [];
  const hostApi = { http: { async fetch(request) { handed.push(request.url); return { status: 200, headers: {}, body: "" }; } } };
  const host = adaptHost(hostApi, { allowlist: createAllowlist(manifestWith(["https://dav.example.com"])), timers: createTimerSet() });
  const hostile = [
    // WHATWG URL reads the host as dav.example.com, other parsers (a proxy's) as evil.example.
    "https://dav.example.com\\@evil.example/",
    "https://dav.example.com\\evil.example/",
    // A decoded href with CR/LF: WHATWG drops them, a careless proxy writes them into its request.
    "https://dav.example.com/card.vcf\r\nHost: evil.example",
    "https://dav.example.com/\tcard.vcf",
    "https://dav.example.com/\u0000",
    "https://dav.example.com/\u007f",
    " https://dav.example.com/",
    "https://dav.example.com/ ",
    "https://alice:s3cret@dav.example.com/",
    "https://dav.example.com@evil.example/",
    "ftp://dav.example.com/",
    "file:///etc/passwd",
  ];
  for (const url of hostile) {
    await assert.rejects(host.fetch({ method: "GET", url }), (e) => {
      assert.equal(e.code, "BAD_INPUT", `${JSON.stringify(url)}: ${e.code} ${e.message}`);
      assert.ok(!e.message.includes("s3cret") && !(e.remedy ?? "").includes("s3cret"), "the password is not repeated");
      assert.ok(e.remedy, "a remedy");
      return true;
    }, JSON.stringify(url));
  }
  assert.deepEqual(handed, [], "the proxy was handed nothing");
});

test("ui.openAuthWindow opens only consent pages the allowlist admits, handing the host the checked href", async () => {
  const opened = [];
  const hostApi = { ui: { notify() {}, async openAuthWindow(url, redirectUri) { opened.push(url); return `${redirectUri}?code=c&state=s`; } } };
  const host = adaptHost(hostApi, { allowlist: createAllowlist(await readManifest()), timers: createTimerSet() });
  const back = await host.ui.openAuthWindow("HTTPS://accounts.google.com/o/oauth2/v2/auth?client_id=x", "https://crm.example.com/cb");
  assert.equal(back, "https://crm.example.com/cb?code=c&state=s");
  for (const [url, code] of [
    ["https://evil.example/o/oauth2/v2/auth?client_id=x", "NOT_ALLOWED_HOST"],
    ["http://127.0.0.1:9/o/oauth2/v2/auth", "NOT_ALLOWED_HOST"], // an emulator, outside development mode
    ["https://accounts.google.com\\@evil.example/", "BAD_INPUT"],
    ["https://accounts.google.com@evil.example/", "BAD_INPUT"],
    ["javascript:alert(1)", "BAD_INPUT"],
  ]) {
    await assert.rejects(host.ui.openAuthWindow(url, "https://crm.example.com/cb"), { code }, url);
  }
  assert.deepEqual(opened, ["https://accounts.google.com/o/oauth2/v2/auth?client_id=x"], "no other page was opened");
});

test("malformed requests from the core are refused with BAD_INPUT", async () => {
  const { hostApi } = await createNodeHost();
  const host = adaptHost(hostApi, { allowlist: createAllowlist(manifestWith(["https://a.example"])), timers: createTimerSet() });
  await assert.rejects(host.fetch(null), { code: "BAD_INPUT" });
  await assert.rejects(host.fetch({ method: "get", url: "https://a.example/" }), { code: "BAD_INPUT" });
  await assert.rejects(host.fetch({ method: "GET", url: "https://a.example/", body: 42 }), { code: "BAD_INPUT" });
});

test("whatever a host part throws reaches the core as a coded Error", async () => {
  const { hostApi } = await createNodeHost();
  const careless = { ...hostApi, storage: { ...hostApi.storage, get: async () => { throw "disk full"; } } };
  const host = adaptHost(careless, { allowlist: createAllowlist(manifestWith([])), timers: createTimerSet() });
  await assert.rejects(host.storage.get(["a"]), (e) => e instanceof Error && e.code === "STORAGE" && e.message === "disk full");
  await assert.rejects(host.crm.update("nope", 1, {}), { code: "NOT_FOUND" }, "coded host errors pass through unchanged");
});

test("now, randomBytes and sleep; clearing the timers cancels pending sleeps", async () => {
  const { hostApi } = await createNodeHost();
  const timers = createTimerSet();
  const host = adaptHost(hostApi, { allowlist: createAllowlist(manifestWith([])), timers });
  assert.ok(Math.abs(host.now() - Date.now()) < 1000);
  const a = host.randomBytes(32);
  assert.ok(a instanceof Uint8Array && a.length === 32);
  assert.notDeepEqual(a, host.randomBytes(32));
  await host.sleep(5);
  const pending = host.sleep(60_000);
  assert.equal(timers.size, 1);
  timers.clear();
  await assert.rejects(pending, { code: "CANCELLED" });
  assert.equal(timers.size, 0);
  await assert.rejects(host.sleep(1), { code: "CANCELLED" });
});

test("the plugin facade turns uncoded failures of the core into coded Errors and refuses calls once retired", async () => {
  const core = {
    version: () => "1.2.3",
    status: async () => { throw new Error("null pointer passed to rust"); },
    getSettings: async () => { throw "a bare string"; },
    saveSettings: async () => { const e = new Error("bad"); e.code = "INVALID_SETTINGS"; throw e; },
  };
  const { facade, retire } = createPluginFacade(core);
  assert.equal(facade.version(), "1.2.3");
  await assert.rejects(facade.status(), (e) => e instanceof Error && e.code === "INTERNAL");
  await assert.rejects(facade.getSettings(), (e) => e instanceof Error && e.code === "INTERNAL" && e.message === "a bare string");
  await assert.rejects(facade.saveSettings({}), { code: "INVALID_SETTINGS" });
  await assert.rejects(facade.preview("g1"), { code: "INTERNAL" }, "a method the core lacks");
  retire();
  assert.throws(() => facade.version(), { code: "CANCELLED" });
});
