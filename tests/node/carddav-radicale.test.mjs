// A CardDAV spoke end to end, headless: the built wasm plugin activated through the shim in
// the Node host (global fetch, dev mode for the loopback server), against a real Radicale
// started on a free loopback port. Connect (wrong, then right password), choose the book,
// sync both ways, a quiet second run, status, disconnect. Needs the built wasm
// (scripts/build.sh) and .venv/bin/radicale (scripts/setup.sh).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { access, mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createNodeHost, loadPlugin } from "../../www/node-host/node-host.mjs";

const RADICALE = fileURLToPath(new URL("../../.venv/bin/radicale", import.meta.url));
const USER = "alice";
const PASSWORD = "wonderland";
const auth = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;

let dir;
let child;
let base;

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port, deadline) {
  for (;;) {
    const open = await new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => { socket.destroy(); resolve(true); });
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error("Radicale did not start");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

before(async () => {
  await access(RADICALE).catch(() => assert.fail(`${RADICALE} is missing: run scripts/setup.sh`));
  dir = await mkdtemp(join(tmpdir(), "carddav-node-"));
  const port = await freePort();
  await writeFile(join(dir, "users"), `${USER}:${PASSWORD}\n`);
  await writeFile(join(dir, "config"), [
    "[server]", `hosts = 127.0.0.1:${port}`,
    "[auth]", "type = htpasswd", `htpasswd_filename = ${join(dir, "users")}`, "htpasswd_encryption = plain", "delay = 0",
    "[rights]", "type = owner_only",
    "[storage]", `filesystem_folder = ${join(dir, "collections")}`,
    "[logging]", "level = warning", "mask_passwords = True", "",
  ].join("\n"));
  child = spawn(RADICALE, ["--config", join(dir, "config")], { stdio: "ignore" });
  base = `http://127.0.0.1:${port}`;
  await waitForPort(port, Date.now() + 20_000);
});

after(async () => {
  child?.kill();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function dav(method, url, body = "", headers = {}) {
  const response = await fetch(url, { method, body: body || undefined, headers: { authorization: auth, ...headers } });
  return { status: response.status, text: await response.text() };
}

async function makeBook(name) {
  await dav("PROPFIND", `${base}/${USER}/`, "", { depth: "0" });
  const url = `${base}/${USER}/${name}/`;
  const body = `<?xml version="1.0"?><d:mkcol xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><d:set><d:prop>`
    + `<d:resourcetype><d:collection/><c:addressbook/></d:resourcetype><d:displayname>${name}</d:displayname></d:prop></d:set></d:mkcol>`;
  const made = await dav("MKCOL", url, body, { "content-type": "application/xml" });
  assert.equal(made.status, 201, made.text);
  return url;
}

const card = (uid, given, family, email) =>
  `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:${given} ${family}\r\nN:${family};${given};;;\r\nEMAIL;TYPE=INTERNET:${email}\r\nEND:VCARD\r\n`;

async function cardsOn(book) {
  const listed = await dav("PROPFIND", book, "", { depth: "1" });
  const hrefs = [...listed.text.matchAll(/<(?:\w+:)?href>([^<]+\.vcf)<\/(?:\w+:)?href>/g)].map((m) => m[1]);
  const texts = await Promise.all(hrefs.map(async (h) => (await dav("GET", new URL(h, base).href)).text));
  return texts.map((t) => /\nN:([^;\r\n]*)/.exec(t)?.[1] ?? "").sort();
}

async function familiesInCrm(host) {
  const page = await host.hostApi.crm.listChanges(null, 1000);
  return page.contacts.filter((c) => !c.deleted).map((c) => c.fields.lastName).sort();
}

test("a Radicale address book syncs both ways through the shim and the wasm plugin", async () => {
  const book = await makeBook("contacts");
  assert.equal((await dav("PUT", `${book}bob.vcf`, card("bob", "Bob", "Baker", "bob@x.org"), { "content-type": "text/vcard" })).status, 201);
  const host = await createNodeHost();
  await host.hostApi.crm.create({ fields: { firstName: "Dee", lastName: "Dunn", emails: [{ value: "dee@x.org", type: "work", primary: true }] } });
  const { plugin, deactivate } = await loadPlugin(host, { allowDevHosts: true });
  try {
    const spoke = { id: "dav", kind: "carddav", name: "Radicale", allowCreate: true, serverUrl: base, username: USER };
    await plugin.saveSettings({ ...plugin.defaultSettings(), spokes: [spoke] });

    await assert.rejects(plugin.connectCardDav("dav", "wrong"), (e) => e instanceof Error && e.code === "AUTH_DENIED" && e.remedy.length > 0);
    assert.deepEqual(host.secretNames(), [], "no password kept after a refusal");

    const { addressBooks } = await plugin.connectCardDav("dav", PASSWORD);
    assert.deepEqual(addressBooks.map((b) => [b.url, b.displayName]), [[book, "contacts"]]);
    assert.deepEqual(host.secretNames(), ["carddav.dav.password"]);
    assert.equal((await plugin.spokeStatus("dav")).state, "disconnected", "no book chosen yet");

    await plugin.saveSettings({ ...plugin.defaultSettings(), spokes: [{ ...spoke, addressBook: addressBooks[0].url }] });
    const status = await plugin.spokeStatus("dav");
    assert.equal(status.state, "connected");
    assert.equal(status.account, `${USER} @ ${base.slice("http://".length)}`);
    assert.equal((await plugin.testConnection("dav")).state, "connected");

    const [first] = await plugin.sync({ trigger: "manual" });
    assert.equal(first.outcome, "ok", JSON.stringify(first.errors));
    assert.equal(first.counts.crm.created, 1, "Bob imported");
    assert.equal(first.counts.remote.created, 1, "Dee exported");
    assert.deepEqual(await familiesInCrm(host), ["Baker", "Dunn"]);
    assert.deepEqual(await cardsOn(book), ["Baker", "Dunn"]);

    const [second] = await plugin.sync({ spokeId: "dav" });
    const c = second.counts;
    assert.deepEqual([c.crm.created, c.crm.updated, c.crm.deleted, c.remote.created, c.remote.updated, c.remote.deleted], [0, 0, 0, 0, 0, 0]);
    assert.equal((await plugin.history("dav", 10)).length, 2);
    assert.equal((await plugin.spokeStatus("dav")).linked, 2);

    await plugin.disconnect("dav");
    // The password is gone; the key signing the CRM ids on cards stays (it belongs to the
    // installation, not to the connection).
    assert.deepEqual(host.secretNames(), ["sync.idKey"]);
    assert.equal((await plugin.spokeStatus("dav")).state, "disconnected");
    assert.equal((await plugin.getSettings()).spokes[0].addressBook, book, "settings kept");
  } finally {
    deactivate();
  }
});
