// The soak's fault proxy (tests/soak/fault-proxy.mjs) does what each fault kind claims: a
// refused request never reaches the server, a truncated answer comes after the server did the
// write, and without faults the request and answer pass untouched.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startFaultProxy } from "../soak/fault-proxy.mjs";
import { seededRandom } from "../soak/random.mjs";

let server;
let proxy;
const seen = [];

before(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => { body += c; });
    req.on("end", () => {
      seen.push({ method: req.method, url: req.url, host: req.headers.host, body });
      res.writeHead(req.method === "PUT" ? 201 : 207, { "content-type": "text/plain", etag: '"e1"' });
      res.end(`answer to ${req.method} ${req.url}: ${"x".repeat(200)}`);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy = await startFaultProxy({ target: `http://127.0.0.1:${server.address().port}`, rng: seededRandom(3), fraction: 1, slowMs: [300, 300] });
});
after(async () => {
  await proxy.stop();
  await new Promise((resolve) => server.close(resolve));
});

test("without faults a request and its answer pass untouched, the Host header naming the proxy", async () => {
  seen.length = 0;
  const r = await fetch(`${proxy.url}/book/a.vcf`, { method: "PUT", body: "BEGIN:VCARD" });
  assert.equal(r.status, 201);
  assert.equal(r.headers.get("etag"), '"e1"');
  assert.match(await r.text(), /^answer to PUT \/book\/a.vcf/);
  assert.deepEqual(seen, [{ method: "PUT", url: "/book/a.vcf", host: new URL(proxy.url).host, body: "BEGIN:VCARD" }]);
});

test("refusals answer at once and never reach the server", async () => {
  seen.length = 0;
  proxy.forceNext("PUT", "503-retry-after");
  const busy = await fetch(`${proxy.url}/book/b.vcf`, { method: "PUT", body: "x" });
  assert.equal(busy.status, 503);
  assert.match(busy.headers.get("retry-after"), /^[1-3]$/);
  proxy.forceNext("DELETE", "500");
  assert.equal((await fetch(`${proxy.url}/book/b.vcf`, { method: "DELETE" })).status, 500);
  proxy.forceNext("REPORT", "reset");
  await assert.rejects(fetch(`${proxy.url}/book/`, { method: "REPORT", body: "<x/>" }));
  assert.deepEqual(seen, []);
});

test("a truncated answer comes after the server handled the request; a slow one is late but whole", async () => {
  seen.length = 0;
  const writesBefore = proxy.snapshot().acceptedWrites;
  proxy.forceNext("PUT", "truncated");
  await assert.rejects(async () => (await fetch(`${proxy.url}/book/c.vcf`, { method: "PUT", body: "y" })).text());
  assert.equal(seen.length, 1, "the write happened");
  assert.equal(proxy.snapshot().acceptedWrites, writesBefore + 1);
  proxy.forceNext("GET", "slow");
  const started = Date.now();
  const slow = await fetch(`${proxy.url}/book/c.vcf`);
  assert.match(await slow.text(), /^answer to GET/);
  assert.ok(Date.now() - started >= 290);
});

test("with faults on, a share of requests get a fault, counted by kind", async () => {
  proxy.setFaults(true);
  try {
    const before = proxy.snapshot();
    for (let i = 0; i < 12; i++) await fetch(`${proxy.url}/book/`, { method: "PROPFIND" }).then((r) => r.text()).catch(() => null);
    const after = proxy.snapshot();
    const faults = Object.keys(after.faults).reduce((n, k) => n + after.faults[k] - before.faults[k], 0);
    assert.equal(faults, 12, "fraction 1: every request");
    assert.ok(Object.values(after.faults).filter((n) => n > 0).length >= 3, "several kinds");
  } finally {
    proxy.setFaults(false);
  }
});
