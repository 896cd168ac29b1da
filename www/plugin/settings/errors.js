// Errors as sentences an operator can act on. Every code of the contract has a message and
// a remedy in the catalogues; the plugin's own wording is shown only as detail for the
// codes where it carries the reasons (invalid settings), and even then opaque strings
// that could be tokens are masked.
import { el, button } from "./dom.js";

/** Every ErrorCode of www/plugin/host-api.d.ts; the i18n test checks each has messages. */
export const ERROR_CODES = [
  "AUTH_EXPIRED", "AUTH_DENIED", "NOT_CONNECTED", "RATE_LIMITED", "NETWORK",
  "NOT_ALLOWED_HOST", "BAD_RESPONSE", "BAD_INPUT", "INVALID_SETTINGS", "CONFLICT",
  "NOT_FOUND", "GUARD_TRIPPED", "ALREADY_RUNNING", "CANCELLED", "HOST_API_MISMATCH",
  "STORAGE", "INTERNAL",
];

/** What the button next to an error does. */
const ACTIONS = {
  AUTH_EXPIRED: "reconnect",
  AUTH_DENIED: "reconnect",
  NOT_CONNECTED: "reconnect",
  RATE_LIMITED: "retry",
  NETWORK: "retry",
  BAD_RESPONSE: "retry",
  GUARD_TRIPPED: "guard",
  INVALID_SETTINGS: "settings",
  ALREADY_RUNNING: "refresh",
};

/** Codes whose plugin message lists reasons worth showing (after masking). */
const DETAILED = new Set(["INVALID_SETTINGS", "BAD_INPUT", "NOT_ALLOWED_HOST"]);

/** Keeps the first line (no stack trace) and masks long opaque strings (tokens, codes). */
export function redact(text) {
  return String(text ?? "").split("\n")[0]
    .replace(/\s+at\s+\S+\s*\([^)]*\)/g, "")
    .replace(/\b(Bearer|token|secret|code)([=:\s]+)\S+/gi, "$1$2…")
    .replace(/[A-Za-z0-9._~+/-]{32,}={0,2}/g, "…")
    .slice(0, 500);
}

/** Whether an AUTH_DENIED means the account is not on the Google app's test-user list. */
function isNotTestUser(text) {
  return /test[\s_-]?user|tester|not\s+(been\s+)?verified|developer-approved|access_denied.*test/i.test(String(text ?? ""));
}

/**
 * Normalises anything thrown or reported ({code, message, remedy, retryAt}) into
 * {code, key, params, detail, action}.
 */
export function describe(error, i18n) {
  const raw = error && typeof error === "object" ? error : { message: String(error ?? "") };
  const code = ERROR_CODES.includes(raw.code) ? raw.code : "INTERNAL";
  let key = `error.${code}`;
  const params = {};
  if (code === "AUTH_DENIED" && isNotTestUser(raw.message)) key = "error.AUTH_DENIED.testUser";
  if (code === "RATE_LIMITED") {
    if (raw.retryAt) {
      key = "error.RATE_LIMITED.at";
      params.time = i18n.time(raw.retryAt);
    }
  }
  return {
    code,
    key,
    params,
    detail: DETAILED.has(code) && raw.message ? redact(raw.message) : null,
    action: ACTIONS[code] ?? null,
  };
}

/**
 * Renders an error: the sentence, its remedy, an optional detail and an action button.
 * `onAction(action)` runs the remedy (reconnect, retry, open the guard's list...);
 * `guardSamples` are sentences naming what a stopped mass deletion would have deleted.
 */
export function renderError(error, i18n, { onAction, guardSamples, without = [] } = {}) {
  const d = describe(error, i18n);
  const t = i18n.t;
  const box = el("div", { class: "cs-error", role: "alert", "data-code": d.code }, [
    el("p", { class: "cs-error-message", text: t(d.key, d.params) }),
    el("p", { class: "cs-error-remedy", text: t(`${d.key}.remedy`, d.params) }),
    d.detail ? el("p", { class: "cs-error-detail", text: t("error.detail", { detail: d.detail }) }) : null,
  ]);
  if (d.code === "GUARD_TRIPPED" && guardSamples && guardSamples.length) {
    box.append(el("p", { text: t("error.GUARD_TRIPPED.list") }),
      el("ul", { class: "cs-guard-list" }, guardSamples.map((line) => el("li", { text: line }))));
  }
  if (d.action && onAction && !without.includes(d.action)) {
    box.append(button(t(`action.${d.action}`), () => onAction(d.action), { kind: "primary", "data-action": d.action }));
  }
  return box;
}
