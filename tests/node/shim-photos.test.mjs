// The shim's half of photo sync: `responseEncoding: "base64"` returns the raw bytes of a
// response as base64 (binary-safe, large bodies included), a proxy receives the field,
// and anything else than "text" or "base64" is refused before a request leaves.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { createAllowlist } from "../../www/plugin/allowlist.js";
import { adaptHost, bytesToBase64, createTimerSet } from "../../www/plugin/host-adapter.js";
import { createNodeHost } from "../../www/node-host/node-host.mjs";

// Every byte value, then a body large enough to need chunked encoding.
const SMALL = Buffer.from([0xff, 0xd8, 0xff, 0xe0, ...Array.from({ length: 256 }, (_, i) => i), 0xff, 0xd9]);
const LARGE = Buffer.alloc(300_000, 0).map((_, i) => (i * 31) & 0xff);

let server;
let port;
let hits = 0;
before(async () => {
  server = http.createServer((req, res) => {
    hits += 1;
    const body = req.url === "/large" ? LARGE : SMALL;
    res.writeHead(200, { "Content-Type": "image/jpeg" });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = server.address().port;
});
after(() => new Promise((resolve) => server.close(resolve)));

const manifestWith = (allowedHosts) => ({ hostApi: "1", permissions: { network: { allowedHosts, devAllowedHosts: [] } } });

async function adapted(options = {}) {
  const { hostApi } = await createNodeHost(options);
  return adaptHost(hostApi, { allowlist: createAllowlist(manifestWith([`http://127.0.0.1:${port}`])), timers: createTimerSet() });
}

test("base64 responses carry every byte, small and large", async () => {
  const host = await adapted();
  for (const [path, expected] of [["/small", SMALL], ["/large", LARGE]]) {
    const response = await host.fetch({ method: "GET", url: `http://127.0.0.1:${port}${path}`, responseEncoding: "base64" });
    assert.equal(response.status, 200);
    assert.equal(response.headers["content-type"], "image/jpeg");
    assert.deepEqual(Buffer.from(response.body, "base64"), expected);
  }
  // Text stays text (the default): the bytes are not base64 then.
  const text = await host.fetch({ method: "GET", url: `http://127.0.0.1:${port}/small` });
  assert.notEqual(text.body, SMALL.toString("base64"));
});

test("bytesToBase64 agrees with Node's encoder", () => {
  for (const bytes of [new Uint8Array(0), new Uint8Array([0]), new Uint8Array([1, 2]), new Uint8Array(LARGE)]) {
    assert.equal(bytesToBase64(bytes), Buffer.from(bytes).toString("base64"));
  }
});

test("a host proxy receives responseEncoding and answers for it", async () => {
  const seen = [];
  const host = await adapted({
    http: { fetch: async (request) => { seen.push(request.responseEncoding); return { status: 200, headers: {}, body: SMALL.toString("base64") }; } },
  });
  const response = await host.fetch({ method: "GET", url: `http://127.0.0.1:${port}/small`, responseEncoding: "base64" });
  assert.deepEqual(seen, ["base64"]);
  assert.deepEqual(Buffer.from(response.body, "base64"), SMALL);
});

test("an unknown responseEncoding is refused before anything is sent", async () => {
  const host = await adapted();
  const before = hits;
  await assert.rejects(host.fetch({ method: "GET", url: `http://127.0.0.1:${port}/small`, responseEncoding: "binary" }), { code: "BAD_INPUT" });
  assert.equal(hits, before);
});
