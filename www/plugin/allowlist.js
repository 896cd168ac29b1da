// The manifest's network allowlist, checked on every request the plugin makes. An origin
// not listed is refused before anything leaves the machine (Figma and Extism do the same):
// an operator reading plugin.json knows every place the plugin can reach. The one
// addition is the https:// server of each CardDAV spoke the operator saved in the settings
// (an address the operator typed, read from the host's storage on each request).
import { codedError } from "./coded-error.js";

/**
 * Parses allowlist entries ("https://people.googleapis.com", "http://127.0.0.1").
 * Production entries match an exact origin (scheme, host and port). Development entries
 * (devAllowedHosts, loopback emulators) match scheme and host on any port, because
 * emulators bind free ports.
 */
function parseEntries(entries, anyPort) {
  const parsed = [];
  for (const entry of Array.isArray(entries) ? entries : []) {
    if (typeof entry !== "string") continue;
    let url;
    try { url = new URL(entry); } catch { continue; }
    parsed.push({ protocol: url.protocol, hostname: url.hostname, origin: url.origin, anyPort });
  }
  return parsed;
}

/**
 * Characters a request URL must not carry. WHATWG URL parsing drops or rewrites them (tab,
 * CR and LF removed, a backslash read as "/", C0 controls and spaces trimmed at both ends),
 * so the address checked here and the address another parser reads (a host's proxy, a
 * server's access log) could differ: `https://allowed.example\@evil.example/` is
 * allowed.example to WHATWG and evil.example to many others.
 */
const AMBIGUOUS = /[\u0000-\u001f\u007f\\]|^ | $/;

/**
 * Parses a request URL strictly: an absolute http:// or https:// URL without user name or
 * password, without backslashes, control characters or surrounding spaces. The fragment is
 * dropped (never sent). The messages never repeat the URL (it may carry a code or a password).
 * @param {unknown} rawUrl
 * @returns {URL}
 * @example parseRequestUrl("HTTPS://Dav.Example.com:443/a/../b").href // "https://dav.example.com/b"
 */
export function parseRequestUrl(rawUrl) {
  const text = String(rawUrl);
  const refuse = (message, remedy = "Check the server address in the settings.") =>
    codedError("BAD_INPUT", message, { remedy, retryable: false });
  if (AMBIGUOUS.test(text)) {
    throw refuse("The request URL contains a backslash, a control character or spaces around it, which URL parsers read differently.",
      "Type the server address again in the settings, without spaces or backslashes.");
  }
  let url;
  try {
    url = new URL(text);
  } catch {
    throw refuse("The request URL is not a valid absolute URL.");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw refuse(`The plugin contacts only http:// and https:// addresses, not ${url.protocol}.`);
  }
  if (url.username || url.password) {
    throw refuse("The request URL carries a user name or password.",
      "Enter the server address without user name or password; they have their own fields.");
  }
  url.hash = "";
  return url;
}

/** Storage key of the operator's settings (src/plugin_core.rs SETTINGS_KEY). */
export const SETTINGS_KEY = "settings";

/**
 * The origins of the saved CardDAV spokes' `serverUrl`s that the shim admits: https://
 * only (a password never travels unencrypted; loopback http:// servers in development
 * are the manifest's devAllowedHosts, admitted only in dev mode). Malformed settings
 * admit nothing.
 * @param {unknown} settings the stored settings value
 * @returns {string[]}
 * @example carddavServerOrigins({spokes: [{kind: "carddav", serverUrl: "https://dav.example.com/dav/"}]}) // ["https://dav.example.com"]
 */
export function carddavServerOrigins(settings) {
  const spokes = Array.isArray(settings?.spokes) ? settings.spokes : [];
  const origins = new Set();
  for (const spoke of spokes) {
    if (spoke?.kind !== "carddav" || typeof spoke.serverUrl !== "string") continue;
    let url;
    try { url = new URL(spoke.serverUrl); } catch { continue; }
    if (url.protocol === "https:") origins.add(url.origin);
  }
  return [...origins];
}

/**
 * Reads the saved CardDAV server origins from the host's storage (a failure admits none).
 * @param {{get(keys: string[]): Promise<Record<string, unknown>>}} storage the host's storage
 * @returns {Promise<string[]>}
 */
export async function savedCardDavOrigins(storage) {
  try {
    const got = await storage.get([SETTINGS_KEY]);
    return carddavServerOrigins(got?.[SETTINGS_KEY]);
  } catch {
    return [];
  }
}

/**
 * @param {object} manifest plugin.json
 * @param {{allowDevHosts?: boolean, savedOrigins?: () => Promise<string[]>}} options
 *   devAllowedHosts apply only when true; savedOrigins lists the origins of saved CardDAV
 *   spokes (read again on every request it decides, so a spoke saved or removed counts at once)
 * @returns {{check(url: string): URL, admit(url: string): Promise<URL>, origins: string[]}}
 * @example createAllowlist(manifest, {allowDevHosts: false}).check("https://evil.example/") // throws NOT_ALLOWED_HOST
 * @example await createAllowlist(manifest, {savedOrigins: () => savedCardDavOrigins(hostApi.storage)}).admit("https://dav.example.com/dav/")
 */
export function createAllowlist(manifest, { allowDevHosts = false, savedOrigins } = {}) {
  const network = manifest?.permissions?.network ?? {};
  const entries = [
    ...parseEntries(network.allowedHosts, false),
    ...(allowDevHosts ? parseEntries(network.devAllowedHosts, true) : []),
  ];
  const allowlist = {
    origins: entries.map((e) => (e.anyPort ? `${e.protocol}//${e.hostname}:*` : e.origin)),
    /**
     * check(), also admitting the origins of saved CardDAV spokes (https:// only).
     * Resolves the parsed URL; rejects BAD_INPUT or NOT_ALLOWED_HOST.
     */
    async admit(rawUrl) {
      try {
        return allowlist.check(rawUrl);
      } catch (error) {
        if (error?.code !== "NOT_ALLOWED_HOST" || typeof savedOrigins !== "function") throw error;
        const url = parseRequestUrl(rawUrl);
        let saved = [];
        try { saved = await savedOrigins(); } catch { saved = []; }
        if (Array.isArray(saved) && saved.includes(url.origin)) return url;
        if (url.protocol === "http:") {
          throw codedError("NOT_ALLOWED_HOST", `The plugin may not contact ${url.origin}: servers are reached over https:// only (http:// only for loopback servers in development mode).`, {
            remedy: "Use the server's https:// address: passwords never travel unencrypted.",
            retryable: false,
          });
        }
        throw codedError("NOT_ALLOWED_HOST", `The plugin may not contact ${url.origin}: it is neither in the manifest's network allowlist nor a saved CardDAV server.`, {
          remedy: "For a CardDAV server, save the spoke with its https:// address first; otherwise use an address listed in plugin.json permissions.network.",
          retryable: false,
        });
      }
    },
    /** Returns the parsed URL when allowed; throws BAD_INPUT or NOT_ALLOWED_HOST otherwise. */
    check(rawUrl) {
      const url = parseRequestUrl(rawUrl);
      const allowed = entries.some((e) =>
        e.anyPort ? e.protocol === url.protocol && e.hostname === url.hostname : e.origin === url.origin,
      );
      if (!allowed) {
        throw codedError("NOT_ALLOWED_HOST", `The plugin may not contact ${url.origin}: it is not in the manifest's network allowlist.`, {
          remedy: "Use an address listed in plugin.json permissions.network, or ask the plugin's publisher to add it.",
          retryable: false,
        });
      }
      return url;
    },
  };
  return allowlist;
}
