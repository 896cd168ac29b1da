// A headless host for Node >= 20 implementing the whole HostApi (hostApi "1"): what a CRM
// runs server-side so that scheduled syncs happen when nobody has the CRM open, and what
// the Node tests drive. The CRM semantics are the reference page host's own
// (www/host/crm/contact-book.js); only persistence differs: memory, or JSON files.
import { readFile, rename, stat, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { MemoryPersistence } from "../host/crm/contact-book.js";
import { hostError } from "../host/crm/host-error.js";
import { MemoryStorage } from "../host/storage/memory-storage.js";
import { createMemoryHost, createMemorySecrets, HOST_API_VERSION } from "../host/memory-host.js";
import { createScheduler } from "../host/scheduler.js";

export { HOST_API_VERSION };
export const NODE_HOST_VERSION = "1.0.0";
const REPO_ROOT = new URL("../../", import.meta.url);

async function readJsonFile(path) {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    if (error.code === "ENOENT") return null;
    throw error;
  }
}

/** Saves atomically: a crash mid-write leaves the previous file, never half a file. */
async function writeJsonFile(path, value, mode = 0o666) {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(value), { encoding: "utf8", mode });
  await rename(tmp, path);
}

/**
 * Secrets in a JSON file, so that one `run-once` process after another can use the tokens
 * a connect stored. UNENCRYPTED: for tests, the soak and a developer's cron job only, until
 * the encrypted store for servers exists. The file is written 0600 (atomically, like the
 * others); a file that other users may read is refused rather than used.
 */
async function fileSecrets(path) {
  const refuse = (message, remedy) => hostError("STORAGE", message, { remedy });
  const info = await stat(path).catch((error) => {
    if (error.code === "ENOENT") return null;
    throw refuse(`The secrets file ${path} cannot be read (${error.code}).`, "Check the file's owner and permissions.");
  });
  if (info && (info.mode & 0o077) !== 0) {
    throw refuse(`The secrets file ${path} may be read by other users (mode ${(info.mode & 0o777).toString(8)}).`, `Run chmod 600 ${path}, or remove the file and connect again.`);
  }
  let entries = {};
  if (info) {
    try {
      entries = JSON.parse(await readFile(path, "utf8"));
    } catch {
      throw refuse(`The secrets file ${path} is not valid JSON.`, "Remove the file and connect the address books again.");
    }
    const valid = entries && typeof entries === "object" && !Array.isArray(entries) && Object.values(entries).every((v) => typeof v === "string");
    if (!valid) throw refuse(`The secrets file ${path} is not an object of strings.`, "Remove the file and connect the address books again.");
  }
  return createMemorySecrets(entries, { onCommit: (next) => writeJsonFile(path, next, 0o600) });
}

/**
 * Follows the consent flow without a browser: GET the URL, follow redirects, and on each
 * page ask `consent(page)` what to do (a request to send, a URL to open, or null to refuse),
 * until a redirect lands on `redirectUri`.
 */
async function followConsent(url, redirectUri, consent, maxSteps = 12) {
  const target = new URL(redirectUri);
  const landsOnRedirect = (u) => u.origin === target.origin && u.pathname === target.pathname;
  let request = { method: "GET", url, headers: {} };
  for (let step = 0; step < maxSteps; step++) {
    const current = new URL(request.url);
    if (landsOnRedirect(current)) return current.href;
    let response;
    try {
      response = await fetch(current, { method: request.method, headers: request.headers, body: request.body, redirect: "manual" });
    } catch {
      throw hostError("NETWORK", `The consent page at ${current.origin} could not be reached.`, { retryable: true });
    }
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      request = { method: "GET", url: new URL(location, current).href, headers: {} };
      continue;
    }
    const page = { url: current.href, status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
    const next = consent ? await consent(page) : null;
    if (!next) throw hostError("AUTH_DENIED", "Consent was not given.", { remedy: "Connect again and accept the requested access." });
    request = typeof next === "string" ? { method: "GET", url: new URL(next, current).href, headers: {} } : { headers: {}, ...next, url: new URL(next.url, current).href };
  }
  throw hostError("AUTH_DENIED", "The consent flow did not come back to the redirect address.", { remedy: "Check the OAuth redirect URI." });
}

/**
 * Creates a headless host.
 * @param {object} [options]
 * @param {string} [options.storageFile] persist plugin storage (JSON) here; memory only when absent
 * @param {string} [options.crmFile] persist the CRM (JSON) here; memory only when absent
 * @param {string} [options.secretsFile] keep secrets in this file, unencrypted (tests and the soak
 *        only; mode 0600, a readable file is refused); memory only when absent
 * @param {boolean} [options.seed] fill an empty CRM with the sample contacts
 * @param {string} [options.locale] the operator's locale
 * @param {(page: {url: string, status: number, headers: object, body: string}) => Promise<object|string|null>} [options.consent]
 *        scripted consent for ui.openAuthWindow
 * @param {object} [options.http] an optional fetch proxy ({fetch(request)})
 * @param {object} [options.oauth] an optional OAuth broker
 * @param {boolean} [options.echoLogs] also print log records to stderr
 * @param {string} [options.hostApiVersion] to test refusals ("1" by default)
 * @example
 *   const host = await createNodeHost({ seed: true });
 *   const { plugin } = await loadPlugin(host);
 */
export async function createNodeHost({
  storageFile, crmFile, secretsFile, seed = false, locale = "en-GB", consent, http, oauth, echoLogs = false,
  hostApiVersion = HOST_API_VERSION, now = () => new Date(),
} = {}) {
  const secrets = secretsFile ? await fileSecrets(secretsFile) : createMemorySecrets();
  const storage = new MemoryStorage((storageFile && (await readJsonFile(storageFile))) ?? {}, {
    onCommit: storageFile ? (entries) => writeJsonFile(storageFile, entries) : undefined,
  });
  const persistence = new MemoryPersistence(crmFile ? await readJsonFile(crmFile) : null, {
    onCommit: crmFile ? (snapshot) => writeJsonFile(crmFile, snapshot) : undefined,
  });
  return createMemoryHost({
    storage, persistence, secrets, seed, locale, http, oauth, now, hostApiVersion, hostVersion: NODE_HOST_VERSION,
    openAuthWindow: (url, redirectUri) => followConsent(url, redirectUri, consent),
    onLog: echoLogs ? (record) => process.stderr.write(`${JSON.stringify(record)}\n`) : undefined,
  });
}

/** Reads plugin.json from the repository root (where the build keeps it). */
export async function readManifest(path = new URL("plugin.json", REPO_ROOT)) {
  return JSON.parse(await readFile(path, "utf8"));
}

/**
 * Activates the plugin (www/plugin/index.js) in this host.
 * @param {Awaited<ReturnType<typeof createNodeHost>>} host
 * @param {{allowDevHosts?: boolean, manifest?: object, pluginRoot?: URL}} [options]
 */
export async function loadPlugin(host, { allowDevHosts = false, manifest, pluginRoot = new URL("www/plugin/", REPO_ROOT) } = {}) {
  const { activate } = await import(new URL("index.js", pluginRoot).href);
  return activate(host.hostApi, { pluginRoot, manifest: manifest ?? (await readManifest()), allowDevHosts });
}

export { createScheduler };

// `node www/node-host/node-host.mjs run-once [--storage f.json] [--crm c.json] [--secrets s.json]
// [--trigger schedule|manual] [--seed] [--dev]`: one run, as a server-side cron job would do
// it (trigger schedule), or the host's own "Run now" (manual: also a spoke's first sync);
// prints the reports as JSON, or {code, message} and exit code 1.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const option = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
  const command = args[0];
  const trigger = option("--trigger") ?? "schedule";
  if (command !== "run-once" || !["schedule", "manual"].includes(trigger)) {
    process.stderr.write("usage: node www/node-host/node-host.mjs run-once [--storage FILE] [--crm FILE] [--secrets FILE] [--trigger schedule|manual] [--seed] [--dev]\n");
    process.exit(2);
  }
  const fail = (error) => {
    process.stdout.write(`${JSON.stringify({ code: error?.code ?? "INTERNAL", message: error?.message, remedy: error?.remedy }, null, 2)}\n`);
    process.exit(1);
  };
  const host = await createNodeHost({
    storageFile: option("--storage"), crmFile: option("--crm"), secretsFile: option("--secrets"), seed: args.includes("--seed"), echoLogs: true,
  }).catch(fail);
  const { plugin, manifest, deactivate } = await loadPlugin(host, { allowDevHosts: args.includes("--dev") }).catch(fail);
  const scheduler = createScheduler(plugin, manifest, { log: host.hostApi.log });
  const result = await scheduler.runNow(trigger);
  deactivate();
  if (!result.ok) fail(result.error);
  process.stdout.write(`${JSON.stringify(result.reports, null, 2)}\n`);
  process.exit(0);
}
