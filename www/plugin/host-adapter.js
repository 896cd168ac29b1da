// Adapts the host's HostApi to the PluginHost the wasm core expects (host-api.d.ts):
// network checked against the allowlist, a clock, timers the shim can clear on
// deactivate, randomness, and every failure turned into a coded Error.
import { codedError, toCodedError } from "./coded-error.js";

/** Wraps each method of `part` so that whatever it throws arrives as a coded Error. */
function codedMethods(part, fallbackCode) {
  const wrapped = {};
  for (const [name, fn] of Object.entries(part ?? {})) {
    if (typeof fn !== "function") continue;
    wrapped[name] = async (...args) => {
      try {
        return await fn.apply(part, args);
      } catch (error) {
        throw toCodedError(error, fallbackCode);
      }
    };
  }
  return wrapped;
}

/** Checks the shape of an HttpRequest coming from the core. */
function validateRequest(request) {
  if (!request || typeof request !== "object") {
    throw codedError("BAD_INPUT", "An HTTP request must be an object {method, url, headers?, body?}.");
  }
  if (typeof request.method !== "string" || !/^[A-Z]+$/.test(request.method)) {
    throw codedError("BAD_INPUT", "An HTTP request needs an upper-case method such as GET or POST.");
  }
  if (typeof request.url !== "string") throw codedError("BAD_INPUT", "An HTTP request needs a url string.");
  if (request.headers !== undefined && (typeof request.headers !== "object" || request.headers === null)) {
    throw codedError("BAD_INPUT", "HTTP request headers must be an object of strings.");
  }
  if (request.body !== undefined && request.body !== null && typeof request.body !== "string") {
    throw codedError("BAD_INPUT", "An HTTP request body must be a string.");
  }
  if (request.responseEncoding !== undefined && request.responseEncoding !== null
    && request.responseEncoding !== "text" && request.responseEncoding !== "base64") {
    throw codedError("BAD_INPUT", "An HTTP request's responseEncoding must be \"text\" or \"base64\".");
  }
}

/** Standard base64 (padded) of bytes, in chunks so that large images do not overflow the stack. */
export function bytesToBase64(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Sends through the global fetch and reads the whole body as text (or base64 of its bytes).
 *  Redirects are not followed here: a 3xx goes back to the core, which follows it only on
 *  the same origin (src/network/redirect.rs), so a 307 never takes the method, the body
 *  or the credentials to another server. */
async function globalFetch(request) {
  const origin = new URL(request.url).origin;
  let response;
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers: request.headers ?? {},
      body: request.body ?? undefined,
      redirect: "manual",
      credentials: "omit",
      cache: "no-store",
    });
  } catch (error) {
    // The URL may carry a code or a query: name only the origin.
    throw codedError("NETWORK", `Could not reach ${origin}.`, {
      remedy: "Check the network connection and the server address, then try again.",
      retryable: true,
    });
  }
  if (response.type === "opaqueredirect") {
    // A browser answers a manual redirect without its status or Location: the target
    // cannot be checked, so it is not followed.
    throw codedError("NOT_ALLOWED_HOST", `The server at ${origin} answered with a redirect that a browser does not let the plugin check, so it was not followed.`, {
      remedy: "Enter the address the server redirects to (for CardDAV, its full address, e.g. https://cloud.example.com/remote.php/dav/), or run the plugin in a host that relays its requests.",
      retryable: false,
    });
  }
  const headers = {};
  response.headers.forEach((value, name) => { headers[name.toLowerCase()] = value; });
  let body;
  try {
    body = request.responseEncoding === "base64"
      ? bytesToBase64(new Uint8Array(await response.arrayBuffer()))
      : await response.text();
  } catch {
    throw codedError("NETWORK", `The connection to ${origin} broke while reading the response.`, {
      remedy: "Try again.", retryable: true,
    });
  }
  return { status: response.status, headers, body };
}

/** Sends through the host's proxy (which honours `responseEncoding` itself); anything it
 *  throws without a code is a network failure. */
async function proxyFetch(hostApi, request) {
  let response;
  try {
    response = await hostApi.http.fetch(request);
  } catch (error) {
    throw toCodedError(error, "NETWORK");
  }
  if (!response || typeof response.status !== "number" || typeof response.body !== "string") {
    throw codedError("BAD_RESPONSE", "The host's HTTP proxy returned a malformed response.");
  }
  const headers = {};
  for (const [name, value] of Object.entries(response.headers ?? {})) headers[name.toLowerCase()] = String(value);
  return { status: response.status, headers, body: response.body };
}

/**
 * Timers the shim owns (sleep), cleared on deactivate so that nothing fires into a freed
 * plugin (Obsidian's rule: timers registered through the host are cleared on unload).
 */
export function createTimerSet() {
  const pending = new Map();
  let closed = false;
  return {
    sleep(ms) {
      if (closed) return Promise.reject(codedError("CANCELLED", "The plugin was deactivated."));
      const delay = Number.isFinite(ms) && ms > 0 ? Math.min(ms, 2 ** 31 - 1) : 0;
      return new Promise((resolve, reject) => {
        const handle = setTimeout(() => { pending.delete(handle); resolve(); }, delay);
        pending.set(handle, reject);
      });
    },
    get size() { return pending.size; },
    clear() {
      closed = true;
      for (const [handle, reject] of pending) {
        clearTimeout(handle);
        reject(codedError("CANCELLED", "The plugin was deactivated."));
      }
      pending.clear();
    },
  };
}

/**
 * @param {object} hostApi the host's HostApi
 * @param {{allowlist: ReturnType<import("./allowlist.js").createAllowlist>, timers: ReturnType<typeof createTimerSet>}} parts
 * @returns {object} a PluginHost
 */
export function adaptHost(hostApi, { allowlist, timers }) {
  const pluginHost = {
    devMode: allowlist.devMode === true,
    storage: codedMethods(hostApi.storage, "STORAGE"),
    secrets: codedMethods(hostApi.secrets, "STORAGE"),
    crm: codedMethods(hostApi.crm, "INTERNAL"),
    locale: () => {
      try {
        const locale = hostApi.locale();
        return typeof locale === "string" && locale ? locale : "en";
      } catch {
        return "en";
      }
    },
    async fetch(request) {
      validateRequest(request);
      // The manifest's origins, and the saved servers the core admits. What leaves is the
      // href that was checked, never the core's raw string.
      const url = await allowlist.admit(request.url);
      const checked = { ...request, url: url.href };
      return hostApi.http && typeof hostApi.http.fetch === "function"
        ? proxyFetch(hostApi, checked)
        : globalFetch(checked);
    },
    ui: {
      notify(level, message) {
        try { hostApi.ui.notify(level, String(message)); } catch { /* a notice is best effort */ }
      },
      async openAuthWindow(url, redirectUri) {
        // A consent page is a place the plugin sends the operator: the manifest's origins
        // only (development hosts in development), and the host gets the checked href.
        const checked = allowlist.check(url);
        try {
          return await hostApi.ui.openAuthWindow(checked.href, redirectUri);
        } catch (error) {
          throw toCodedError(error, "AUTH_DENIED");
        }
      },
    },
    log(level, message, fields) {
      try { hostApi.log(level, String(message), fields); } catch { /* logging never breaks a run */ }
    },
    now: () => Date.now(),
    sleep: (ms) => timers.sleep(ms),
    randomBytes(length) {
      const n = Number.isInteger(length) && length > 0 ? Math.min(length, 65536) : 0;
      return globalThis.crypto.getRandomValues(new Uint8Array(n));
    },
  };
  if (hostApi.oauth) pluginHost.oauth = codedMethods(hostApi.oauth, "AUTH_DENIED");
  return pluginHost;
}
