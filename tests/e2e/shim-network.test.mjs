// The shim's network guards in a real browser (Chromium, the page served by the development
// server): a browser hides the target of a manual redirect, so a 307 to another origin is
// refused there without reaching it, while an answer that is not a redirect comes through.
// Two local servers on free loopback ports, with the CORS headers a browser needs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startHarness, openHost } from "./harness.mjs";

let h;
let page;
let redirecting;
let elsewhere;
const received = [];

const cors = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, PUT, PROPFIND, OPTIONS",
  "access-control-allow-headers": "authorization, content-type, depth",
};

function listen(server) {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${server.address().port}`)));
}

before(async () => {
  elsewhere = http.createServer((req, res) => {
    received.push(`${req.method} ${req.url}`);
    res.writeHead(200, cors);
    res.end("thanks");
  });
  const target = await listen(elsewhere);
  redirecting = http.createServer((req, res) => {
    req.resume();
    if (req.method === "OPTIONS") { res.writeHead(204, cors); res.end(); return; }
    if (req.url === "/plain") { res.writeHead(200, { ...cors, "content-type": "text/plain" }); res.end("hello"); return; }
    res.writeHead(307, { ...cors, location: `${target}/steal` });
    res.end();
  });
  await listen(redirecting);
  h = await startHarness();
  page = await openHost(h);
});

after(async () => {
  try {
    await h?.stop();
  } finally {
    await new Promise((resolve) => redirecting?.close(resolve) ?? resolve());
    await new Promise((resolve) => elsewhere?.close(resolve) ?? resolve());
  }
});

/** Fetches through the shim's adapted host in the page (development mode: loopback allowed). */
function shimFetch(request) {
  return page.evaluate(async (req) => {
    const { createAllowlist } = await import("/plugin/allowlist.js");
    const { adaptHost, createTimerSet } = await import("/plugin/host-adapter.js");
    const manifest = { permissions: { network: { allowedHosts: [], devAllowedHosts: ["http://127.0.0.1"] } } };
    const host = adaptHost(window.referenceHost.hostApi, { allowlist: createAllowlist(manifest, { allowDevHosts: true }), timers: createTimerSet() });
    try {
      const { status, body } = await host.fetch(req);
      return { status, body };
    } catch (e) {
      return { code: e.code, message: e.message, remedy: e.remedy };
    }
  }, request);
}

test("a browser's opaque redirect is refused, naming the server, and the other origin receives nothing", async () => {
  const origin = `http://127.0.0.1:${redirecting.address().port}`;
  const answer = await shimFetch({ method: "PUT", url: `${origin}/card.vcf`, headers: { authorization: "Basic c2VjcmV0", "content-type": "text/vcard" }, body: "BEGIN:VCARD" });
  assert.equal(answer.code, "NOT_ALLOWED_HOST", JSON.stringify(answer));
  assert.ok(answer.message.includes(origin), answer.message);
  assert.ok(answer.remedy.length > 0);
  assert.deepEqual(received, [], "nothing reached the other origin");
});

test("an answer that is not a redirect comes through", async () => {
  const answer = await shimFetch({ method: "GET", url: `http://127.0.0.1:${redirecting.address().port}/plain` });
  assert.deepEqual(answer, { status: 200, body: "hello" });
});
