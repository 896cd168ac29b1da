// Errors the reference hosts return through the contract: Errors with a stable `code`
// (host-api.d.ts CodedError), a message for people and, where useful, a remedy.

export function hostError(code, message, extra = {}) {
  const error = new Error(message);
  error.code = code;
  for (const key of ["remedy", "retryable", "currentVersion"]) {
    if (extra[key] !== undefined) error[key] = extra[key];
  }
  return error;
}
