// ui.openAuthWindow in the headless host: it follows redirects, lets a scripted consent
// answer the consent page, and resolves with the redirect URL (code and state).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { createNodeHost } from "../../www/node-host/node-host.mjs";

let server;
let base;
before(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url, base);
    if (url.pathname === "/auth") {
      res.writeHead(302, { location: `/consent?state=${url.searchParams.get("state")}` });
      res.end();
    } else if (url.pathname === "/consent" && req.method === "GET") {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(`<form method="post" action="/consent/approve"><input name="state" value="${url.searchParams.get("state")}"></form>`);
    } else if (url.pathname === "/consent/approve" && req.method === "POST") {
      let body = "";
      req.on("data", (c) => { body += c; });
      req.on("end", () => {
        const state = new URLSearchParams(body).get("state");
        res.writeHead(302, { location: `http://127.0.0.1:1/callback?code=abc&state=${state}` });
        res.end();
      });
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => new Promise((resolve) => server.close(resolve)));

test("a scripted consent is followed through redirects to the redirect URI", async () => {
  const pages = [];
  const { hostApi } = await createNodeHost({
    consent: async (page) => {
      pages.push(page.url);
      const state = /value="([^"]+)"/.exec(page.body)[1];
      return { method: "POST", url: "/consent/approve", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `state=${state}` };
    },
  });
  const final = await hostApi.ui.openAuthWindow(`${base}/auth?state=s123`, "http://127.0.0.1:1/callback");
  assert.equal(final, "http://127.0.0.1:1/callback?code=abc&state=s123");
  assert.deepEqual(pages, [`${base}/consent?state=s123`]);
});

test("no consent given rejects AUTH_DENIED", async () => {
  const { hostApi } = await createNodeHost({ consent: async () => null });
  await assert.rejects(hostApi.ui.openAuthWindow(`${base}/auth?state=x`, "http://127.0.0.1:1/callback"), { code: "AUTH_DENIED" });
  const bare = await createNodeHost();
  await assert.rejects(bare.hostApi.ui.openAuthWindow(`${base}/auth?state=x`, "http://127.0.0.1:1/callback"), { code: "AUTH_DENIED" });
});
