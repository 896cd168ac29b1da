// The manifest's network allowlist, checked on every request the plugin makes. An origin
// not listed is refused before anything leaves the machine (Figma and Extism do the same):
// an operator reading plugin.json knows every place the plugin can reach.
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
 * @param {object} manifest plugin.json
 * @param {{allowDevHosts?: boolean}} options devAllowedHosts apply only when true
 * @returns {{check(url: string): URL, origins: string[]}}
 * @example createAllowlist(manifest, {allowDevHosts: false}).check("https://evil.example/") // throws NOT_ALLOWED_HOST
 */
export function createAllowlist(manifest, { allowDevHosts = false } = {}) {
  const network = manifest?.permissions?.network ?? {};
  const entries = [
    ...parseEntries(network.allowedHosts, false),
    ...(allowDevHosts ? parseEntries(network.devAllowedHosts, true) : []),
  ];
  return {
    origins: entries.map((e) => (e.anyPort ? `${e.protocol}//${e.hostname}:*` : e.origin)),
    /** Returns the parsed URL when allowed; throws BAD_INPUT or NOT_ALLOWED_HOST otherwise. */
    check(rawUrl) {
      let url;
      try {
        url = new URL(String(rawUrl));
      } catch {
        throw codedError("BAD_INPUT", "The request URL is not a valid absolute URL.", {
          remedy: "Check the server address in the settings.",
        });
      }
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
}
