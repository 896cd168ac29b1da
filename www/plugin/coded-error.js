// Every failure that crosses the host contract is an Error with a stable `code`
// (host-api.d.ts CodedError): callers branch on the code, people read the message and remedy.

/**
 * Builds a coded Error.
 * @example throw codedError("NOT_FOUND", "Contact c12 does not exist.", { remedy: "Reload the list." })
 */
export function codedError(code, message, extra = {}) {
  const error = new Error(message);
  error.code = code;
  if (extra.remedy !== undefined) error.remedy = extra.remedy;
  if (extra.retryable !== undefined) error.retryable = extra.retryable;
  if (extra.currentVersion !== undefined) error.currentVersion = extra.currentVersion;
  return error;
}

/** Whether `value` already is an Error carrying a string code. */
export function isCodedError(value) {
  return value instanceof Error && typeof value.code === "string" && value.code.length > 0;
}

/**
 * Turns anything thrown (a string from a careless host, a plain object, an Error without a
 * code) into a coded Error, so nothing reaches the core or the host uncoded.
 */
export function toCodedError(value, fallbackCode = "INTERNAL") {
  if (isCodedError(value)) return value;
  if (value instanceof Error) {
    const wrapped = codedError(fallbackCode, value.message || String(value));
    wrapped.cause = value;
    return wrapped;
  }
  if (value && typeof value === "object" && typeof value.code === "string") {
    return codedError(value.code, String(value.message ?? value.code), value);
  }
  return codedError(fallbackCode, typeof value === "string" ? value : "Unexpected failure.");
}
