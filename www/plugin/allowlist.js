// The manifest's network allowlist, checked on every request the plugin makes. An origin
// not listed is refused before anything leaves the machine (Figma and Extism do the same):
// an operator reading plugin.json knows every place the plugin can reach. The one addition
// is the server of each address book the operator saved, when the core admits it (its
// admittedOrigins(), read again on each request it decides: the rules — https://, no
// private network without the operator's choice — are the core's, and this module knows no
// kind of address book).
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

/**
 * @param {object} manifest plugin.json
 * @param {{allowDevHosts?: boolean, networkAccess?: () => Promise<import("./host-api").NetworkAccess>}} options
 *   devAllowedHosts apply only when allowDevHosts is true; networkAccess is the core's
 *   admittedOrigins(), asked again on every request the manifest does not admit (so a
 *   server saved, removed or refused counts at once)
 * @returns {{check(url: string): URL, admit(url: string): Promise<URL>, origins: string[], devMode: boolean}}
 * @example createAllowlist(manifest, {allowDevHosts: false}).check("https://evil.example/") // throws NOT_ALLOWED_HOST
 * @example await createAllowlist(manifest, {networkAccess: () => plugin.admittedOrigins()}).admit("https://dav.example.com/dav/")
 */
export function createAllowlist(manifest, { allowDevHosts = false, networkAccess } = {}) {
  const network = manifest?.permissions?.network ?? {};
  const entries = [
    ...parseEntries(network.allowedHosts, false),
    ...(allowDevHosts ? parseEntries(network.devAllowedHosts, true) : []),
  ];
  const allowlist = {
    origins: entries.map((e) => (e.anyPort ? `${e.protocol}//${e.hostname}:*` : e.origin)),
    devMode: allowDevHosts === true,
    /**
     * check(), also admitting the exact origins the core admits (saved servers). A server
     * the core refuses is refused with the core's reason and remedy. Resolves the parsed
     * URL; rejects BAD_INPUT or NOT_ALLOWED_HOST.
     */
    async admit(rawUrl) {
      try {
        return allowlist.check(rawUrl);
      } catch (error) {
        if (error?.code !== "NOT_ALLOWED_HOST" || typeof networkAccess !== "function") throw error;
        const url = parseRequestUrl(rawUrl);
        let access = null;
        try { access = await networkAccess(); } catch { access = null; }
        const listed = (list) => (Array.isArray(list) ? list : []).filter((entry) => entry && entry.origin === url.origin);
        if (listed(access?.origins).some((entry) => entry.anyPort !== true)) return url;
        const refused = listed(access?.refused)[0];
        if (refused && typeof refused.message === "string") {
          throw codedError("NOT_ALLOWED_HOST", refused.message, { remedy: String(refused.remedy ?? ""), retryable: false });
        }
        throw codedError("NOT_ALLOWED_HOST", `The plugin may not contact ${url.origin}: it is neither in the manifest's network allowlist nor the server of a saved address book.`, {
          remedy: "Save the address book with this server's https:// address first; otherwise use an address listed in plugin.json permissions.network.",
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
