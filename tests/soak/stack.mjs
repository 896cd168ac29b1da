// The servers a soak runs against, all on free 127.0.0.1 ports: the Google emulator (the
// built devserver, empty seed, its own OAuth client and account), Radicale (through
// scripts/radicale-dev.mjs) and the fault proxy in front of Radicale. `stop()` stops them
// all; it is safe to call twice, and the soak calls it on Ctrl-C too.
import { spawn } from "node:child_process";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createNodeHost, loadPlugin } from "../../www/node-host/node-host.mjs";
import { startRadicale } from "../../scripts/radicale-dev.mjs";
import { startFaultProxy } from "./fault-proxy.mjs";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));
const DEVSERVER_BIN = process.env.DEVSERVER_BIN ?? join(REPO, "target", "debug", "devserver");
export const GOOGLE_ACCOUNT = "soak.tester@example.com";
export const GOOGLE_CLIENT = { clientId: "contact-sync-soak.apps.googleusercontent.com", clientSecret: "soak-client-secret" };
export const CARDDAV_USER = { user: "soak", password: "soak-carddav-password" };

/** Starts the devserver with the Google emulator; resolves with {child, google: origin}. */
async function startEmulator() {
  await access(DEVSERVER_BIN).catch(() => {
    throw new Error(`The development server is not built (${DEVSERVER_BIN}): run scripts/build.sh`);
  });
  const child = spawn(DEVSERVER_BIN, ["serve", "--port", "0", "--google-port", "0", "--google-seed", "empty"], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => { stderr += chunk; });
  const ready = await new Promise((resolve, reject) => {
    let buffer = "";
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`devserver printed no READY line within 30 s: ${stderr}`)); }, 30_000);
    child.stdout.on("data", (chunk) => {
      buffer += chunk;
      const line = buffer.split("\n").find((l) => l.startsWith("READY "));
      if (!line) return;
      clearTimeout(timer);
      resolve(JSON.parse(line.slice("READY ".length)));
    });
    child.once("exit", (code) => { clearTimeout(timer); reject(new Error(`devserver exited at start (${code}): ${stderr}`)); });
  });
  child.stdout.resume();
  return { child, google: ready.google };
}

function stopChild(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => { clearTimeout(timer); resolve(); });
    child.kill("SIGTERM");
  });
}

/** The emulator's admin API: `admin(method, path, body)` → parsed JSON (or text for NDJSON). */
export function googleAdmin(origin) {
  return async (method, path, body) => {
    const response = await fetch(`${origin}/__admin/${path}`, {
      method, headers: body === undefined ? {} : { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`emulator admin ${method} ${path}: ${response.status} ${text}`);
    return (response.headers.get("content-type") ?? "").includes("ndjson") ? text : (text ? JSON.parse(text) : null);
  };
}

/**
 * Starts everything. `seed` seeds the emulator's generator (its fault rolls) and the proxy's.
 * @param {{seed: number, rng: object, faultFraction: number}} options
 */
export async function startStack({ seed, rng, faultFraction }) {
  const parts = {};
  const stop = async () => {
    await Promise.allSettled([parts.proxy?.stop(), parts.radicale?.stop(), stopChild(parts.emulator)]);
  };
  try {
    const { child, google } = await startEmulator();
    parts.emulator = child;
    const admin = googleAdmin(google);
    // The soak runs a sync every few seconds where a host runs one every 15 minutes: time is
    // compressed, so Google's per-minute quotas apply per 5 s and the daily one is lifted.
    await admin("PATCH", "config", { rngSeed: seed, quota: { windowMs: 5000, dailyWrites: 100_000_000 } });
    await admin("POST", "reset", { seed: "empty" });
    await admin("POST", "clients", { ...GOOGLE_CLIENT, name: "Contact sync soak", redirectUris: ["http://127.0.0.1:*/"] });
    await admin("POST", "accounts", { email: GOOGLE_ACCOUNT, displayName: "Soak Tester" });
    parts.radicale = await startRadicale({ ...CARDDAV_USER, book: "soak", bookName: "Soak contacts" });
    parts.proxy = await startFaultProxy({ target: parts.radicale.url, rng, fraction: faultFraction });
    return { google, admin, radicale: parts.radicale, proxy: parts.proxy, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The spoke ids the soak connects. */
export const SPOKES = ["google", "carddav"];
const REDIRECT_URI = "http://127.0.0.1:1/oauth-callback";

/** Answers the emulator's consent page as a person choosing Allow (the form's own fields). */
async function allow(page) {
  const decode = (v) => v.replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  const inputs = Object.fromEntries([...page.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], decode(m[2])]));
  return {
    method: "POST", url: "/o/oauth2/v2/auth/consent", headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ ...inputs, decision: "allow" }).toString(),
  };
}

/**
 * Connects both spokes through the plugin's real flows in a Node host over the soak's files:
 * the Google consent page followed headlessly, CardDAV discovery through the fault proxy
 * (faults off). The tokens and the password end in the secrets file the sync children read.
 * @param {{stack: object, files: {storage: string, crm: string, secrets: string}, now: () => Date}} options
 */
export async function connectSpokes({ stack, files, now }) {
  const host = await createNodeHost({ storageFile: files.storage, crmFile: files.crm, secretsFile: files.secrets, now, consent: allow });
  const { plugin, deactivate } = await loadPlugin(host, { allowDevHosts: true });
  try {
    const g = stack.google;
    const spokes = [
      { id: "google", kind: "google", name: "Google (emulator)", allowCreate: true, clientId: GOOGLE_CLIENT.clientId, endpoints: { auth: `${g}/o/oauth2/v2/auth`, token: `${g}/token`, api: g, revoke: `${g}/revoke` } },
      { id: "carddav", kind: "carddav", name: "Radicale (behind the fault proxy)", allowCreate: true, serverUrl: stack.proxy.url, username: CARDDAV_USER.user },
    ];
    await plugin.saveSettings({ ...plugin.defaultSettings(), spokes });
    await host.hostApi.secrets.set("google.google.clientSecret", GOOGLE_CLIENT.clientSecret);
    await plugin.connect("google", REDIRECT_URI);
    const { addressBooks } = await plugin.connectCardDav("carddav", CARDDAV_USER.password);
    const book = addressBooks.find((b) => b.url.startsWith(`${stack.proxy.url}/${CARDDAV_USER.user}/soak/`)) ?? addressBooks[0];
    if (!book) throw new Error("CardDAV discovery found no address book");
    spokes[1].addressBook = book.url;
    await plugin.saveSettings({ ...plugin.defaultSettings(), spokes });
  } finally {
    deactivate();
  }
}
