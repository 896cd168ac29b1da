// ui.openAuthWindow for the page host: the consent page opens in a popup; the provider
// redirects to oauth-callback.html on this origin, which posts the final URL back here.
import { hostError } from "./crm/host-error.js";
import { t } from "./i18n.js";

export const CALLBACK_PATH = "/host/oauth-callback.html";

/** The redirect URI this host can catch: the callback page on its own origin. */
export function callbackUrl() {
  return new URL(CALLBACK_PATH, window.location.origin).href;
}

/**
 * @param {string} url the consent URL
 * @param {string} redirectUri where the provider will redirect (must be this host's callback page)
 * @returns {Promise<string>} the final redirect URL
 */
export function openAuthWindow(url, redirectUri) {
  return new Promise((resolve, reject) => {
    let target;
    try {
      target = new URL(redirectUri);
      new URL(url);
    } catch {
      reject(hostError("BAD_INPUT", "The consent or redirect address is not a valid URL."));
      return;
    }
    if (target.origin !== window.location.origin || target.pathname !== CALLBACK_PATH) {
      reject(hostError("BAD_INPUT", `This CRM receives sign-in redirects only at ${callbackUrl()}.`, {
        remedy: `Register ${callbackUrl()} as the OAuth redirect URI.`,
      }));
      return;
    }
    const popup = window.open(url, "contact-sync-consent", "popup,width=520,height=680");
    if (!popup) {
      reject(hostError("AUTH_DENIED", t("popupBlocked"), { remedy: t("popupRemedy") }));
      return;
    }
    let settled = false;
    const finish = (fn, value) => {
      if (settled) return;
      settled = true;
      window.removeEventListener("message", onMessage);
      clearInterval(watch);
      fn(value);
    };
    const onMessage = (event) => {
      if (event.origin !== window.location.origin || event.source !== popup) return;
      if (event.data?.type !== "oauth-callback" || typeof event.data.url !== "string") return;
      finish(resolve, event.data.url);
    };
    window.addEventListener("message", onMessage);
    // A closed popup without a callback means the operator gave up.
    const watch = setInterval(() => {
      if (popup.closed) finish(reject, hostError("AUTH_DENIED", t("popupClosed"), { remedy: t("popupRemedy") }));
    }, 500);
  });
}
