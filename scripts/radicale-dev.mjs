// A Radicale CardDAV server for the demo and the page tests: a free 127.0.0.1 port, a
// temporary storage folder, one htpasswd user, the CORS headers a page on another origin
// needs (Authorization, Depth, If-Match, If-None-Match, Content-Type; PROPFIND, REPORT,
// PUT, DELETE; ETag exposed), one address book, optionally seeded with cards.
//
// As a module:
//   const r = await startRadicale({ user: "alice", password: "…", cards: [{ name: "a.vcf", vcard }] });
//   r.url, r.bookUrl, await r.cards(), await r.put("b.vcf", vcard), await r.stop();
// As a command (scripts/demo.sh): node scripts/radicale-dev.mjs [--seed demo]
//   prints one line RADICALE {"url", "user", "password", "addressBook"} and runs until
//   SIGINT/SIGTERM (or until its parent process is gone), then stops Radicale and removes
//   the folder. Options: --port N (0: a free one), --user, --password, --seed demo|none.
import { spawn } from "node:child_process";
import { openSync, closeSync, rmSync } from "node:fs";
import { mkdtemp, rm, writeFile, readFile } from "node:fs/promises";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../", import.meta.url));
export const RADICALE_BIN = process.env.RADICALE_BIN ?? join(REPO, ".venv", "bin", "radicale");

/** A handful of cards for the demo; Marie Dupont shares her e-mail with a sample CRM contact. */
export const DEMO_CARDS = [
  ["Marie", "Dupont", "marie.dupont@boulangeries-dupont.fr", "+33 6 12 34 56 78", "Boulangeries Dupont"],
  ["Hélène", "Garnier", "helene.garnier@atelier-garnier.fr", "+33 6 45 12 78 90", "Atelier Garnier"],
  ["Karim", "Benali", "karim.benali@benali-transport.fr", "+33 4 91 22 33 44", "Benali Transport"],
  ["Anne", "Lemoine", "anne.lemoine@lemoine-architectes.fr", "+33 1 45 67 89 10", "Lemoine Architectes"],
  ["Paul", "Fontaine", "paul.fontaine@fontaine-bio.fr", "+33 5 56 78 90 12", "Fontaine Bio"],
].map(([first, last, email, phone, org], n) => ({ name: `demo-${n + 1}.vcf`, vcard: vcard({ uid: `demo-${n + 1}`, first, last, email, phone, org }) }));

/**
 * A vCard 3.0 with CRLF line ends.
 * @example vcard({ uid: "x", first: "Ada", last: "Lovelace", email: "ada@example.org" })
 */
export function vcard({ uid, first, last, email, phone, org, title }) {
  const esc = (v) => String(v).replace(/\\/g, "\\\\").replace(/([,;])/g, "\\$1").replace(/\n/g, "\\n");
  const lines = ["BEGIN:VCARD", "VERSION:3.0", `UID:${uid}`, `FN:${esc(`${first} ${last}`.trim())}`, `N:${esc(last ?? "")};${esc(first ?? "")};;;`];
  if (email) lines.push(`EMAIL;TYPE=INTERNET:${esc(email)}`);
  if (phone) lines.push(`TEL;TYPE=CELL:${esc(phone)}`);
  if (org) lines.push(`ORG:${esc(org)}`);
  if (title) lines.push(`TITLE:${esc(title)}`);
  lines.push("END:VCARD");
  return `${lines.join("\r\n")}\r\n`;
}

/** A free loopback port (taken, then released: nothing listens on it afterwards). */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function listening(port) {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => { socket.destroy(); resolve(true); });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Starts Radicale; resolves once it answers and the address book exists with its cards.
 * @param {{port?: number, user?: string, password?: string, book?: string, bookName?: string,
 *   cards?: {name: string, vcard: string}[]}} [options]
 */
export async function startRadicale(options = {}) {
  const user = options.user ?? "alice";
  const password = options.password ?? "wonderland-7";
  const book = options.book ?? "contacts";
  const port = options.port || (await freePort());
  const dir = await mkdtemp(join(tmpdir(), "contact-sync-radicale-"));
  const users = join(dir, "users");
  const config = join(dir, "config");
  const log = join(dir, "radicale.log");
  await writeFile(users, `${user}:${password}\n`, { mode: 0o600 });
  await writeFile(config, [
    "[server]", `hosts = 127.0.0.1:${port}`,
    "[auth]", "type = htpasswd", `htpasswd_filename = ${users}`, "htpasswd_encryption = plain", "delay = 0",
    "[rights]", "type = owner_only",
    "[storage]", `filesystem_folder = ${join(dir, "collections")}`,
    "[headers]",
    "Access-Control-Allow-Origin = *",
    "Access-Control-Allow-Methods = GET, PUT, DELETE, PROPFIND, REPORT, OPTIONS",
    "Access-Control-Allow-Headers = Authorization, Content-Type, Depth, If-Match, If-None-Match",
    "Access-Control-Expose-Headers = ETag, Location",
    "Access-Control-Max-Age = 600",
    "[logging]", "level = info", "mask_passwords = True",
    "",
  ].join("\n"));
  const logFd = openSync(log, "a");
  const child = spawn(RADICALE_BIN, ["--config", config], { stdio: ["ignore", "ignore", logFd] });
  closeSync(logFd);
  let exited = null;
  child.once("exit", (code, signal) => { exited = { code, signal }; });
  child.once("error", (error) => { exited = { error }; });
  // A test runner or script that ends without calling stop() must not leave Radicale behind.
  const onExit = () => {
    if (!exited) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", onExit);

  const url = `http://127.0.0.1:${port}`;
  let auth = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  const logText = () => readFile(log, "utf8").catch(() => "");

  const stop = async () => {
    process.removeListener("exit", onExit);
    if (!exited) {
      await new Promise((resolve) => {
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        child.once("exit", () => { clearTimeout(timer); resolve(); });
        child.kill("SIGTERM");
      });
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + 20_000;
    while (!(await listening(port))) {
      if (exited) throw new Error(`Radicale exited at start (${JSON.stringify(exited)}): ${await logText()}`);
      if (Date.now() > deadline) throw new Error(`Radicale did not listen on ${url} within 20 s: ${await logText()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (error) {
    await stop();
    if (String(error?.message).includes("ENOENT") || exited?.error) {
      throw new Error(`Radicale is not installed at ${RADICALE_BIN}: run scripts/setup.sh`);
    }
    throw error;
  }

  const request = async (method, path, { headers = {}, body } = {}) => {
    const target = path.startsWith("http") ? path : `${url}${path}`;
    return fetch(target, { method, headers: { authorization: auth, ...headers }, body });
  };
  const bookUrl = `${url}/${user}/${book}/`;
  const radicale = {
    url, user, password, bookUrl, dir, log: logText, stop, request,
    /** Writes a card as another client would; returns its ETag. */
    async put(name, text, headers = {}) {
      const r = await request("PUT", `${bookUrl}${name}`, { headers: { "content-type": "text/vcard; charset=utf-8", ...headers }, body: text });
      if (![201, 204].includes(r.status)) throw new Error(`PUT ${name}: ${r.status} ${await r.text()}`);
      return r.headers.get("etag");
    },
    /** Changes the user's password on the server (as its administrator would). */
    async setPassword(next) {
      await writeFile(users, `${user}:${next}\n`, { mode: 0o600 });
      radicale.password = next;
      auth = `Basic ${Buffer.from(`${user}:${next}`).toString("base64")}`;
    },
    /** Every card of the address book: [{href, etag, vcard}] (one addressbook-query REPORT). */
    async cards() {
      const r = await request("REPORT", bookUrl, {
        headers: { depth: "1", "content-type": "application/xml; charset=utf-8" },
        body: '<?xml version="1.0" encoding="utf-8"?><C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data/></D:prop></C:addressbook-query>',
      });
      const text = await r.text();
      if (r.status !== 207) throw new Error(`REPORT ${bookUrl}: ${r.status} ${text}`);
      return [...text.matchAll(/<(?:\w+:)?response\b[^>]*>([\s\S]*?)<\/(?:\w+:)?response>/g)].map(([, part]) => ({
        href: decodeXml(part.match(/<(?:\w+:)?href>([^<]*)</)?.[1] ?? ""),
        etag: decodeXml(part.match(/<(?:\w+:)?getetag>([^<]*)</)?.[1] ?? ""),
        vcard: decodeXml(part.match(/<(?:\w+:)?address-data[^>]*>([\s\S]*?)<\/(?:\w+:)?address-data>/)?.[1] ?? ""),
      })).filter((c) => c.vcard);
    },
  };
  try {
    // Radicale creates the principal's collection on the first authenticated PROPFIND.
    await request("PROPFIND", `/${user}/`, { headers: { depth: "0" } }).then((r) => r.arrayBuffer());
    const mkcol = await request("MKCOL", bookUrl, {
      headers: { "content-type": "application/xml; charset=utf-8" },
      body: `<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype><D:displayname>${escapeXml(options.bookName ?? "Contacts")}</D:displayname></D:prop></D:set></D:mkcol>`,
    });
    if (mkcol.status !== 201) throw new Error(`MKCOL ${bookUrl}: ${mkcol.status} ${await mkcol.text()}`);
    for (const card of options.cards ?? []) await radicale.put(card.name, card.vcard);
  } catch (error) {
    await stop();
    throw error;
  }
  return radicale;
}

function escapeXml(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function decodeXml(text) {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#13;/g, "\r").replace(/&#x?[0-9a-fA-F]+;/g, (e) => {
    const code = e.startsWith("&#x") ? parseInt(e.slice(3, -1), 16) : parseInt(e.slice(2, -1), 10);
    return String.fromCodePoint(code);
  }).replace(/&amp;/g, "&");
}

/** Command line: start, print the RADICALE line, wait for a signal, stop. */
async function main(argv) {
  const arg = (name, fallback) => {
    const at = argv.indexOf(`--${name}`);
    return at >= 0 && argv[at + 1] !== undefined ? argv[at + 1] : fallback;
  };
  const seed = arg("seed", "none");
  const radicale = await startRadicale({
    port: Number(arg("port", "0")) || 0,
    user: arg("user", "demo"),
    password: arg("password", "demo-carddav"),
    bookName: "Demo contacts",
    cards: seed === "demo" ? DEMO_CARDS : [],
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await radicale.stop();
    process.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, stop);
  console.log(`RADICALE ${JSON.stringify({ url: radicale.url, user: radicale.user, password: radicale.password, addressBook: radicale.bookUrl })}`);
  // Started from a script that was killed without a chance to stop us: when the parent
  // process is gone (we were re-parented), stop Radicale rather than leave it running.
  const parent = process.ppid;
  setInterval(() => { if (process.ppid !== parent) stop(); }, 1000);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(`radicale-dev: ${error?.message ?? error}`);
    process.exit(1);
  });
}
