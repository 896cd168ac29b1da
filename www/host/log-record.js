// One structured log record, the same in both reference hosts. Field names that look like
// credentials are masked: the plugin should never log a secret, and the host makes sure.

const SECRET_NAME = /(token|secret|password|passwd|authorization|cookie|apikey|api_key|code_verifier|refresh)/i;

function redact(value, depth = 0) {
  if (depth > 4 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out = {};
  for (const [key, v] of Object.entries(value)) out[key] = SECRET_NAME.test(key) ? "[redacted]" : redact(v, depth + 1);
  return out;
}

const LEVELS = new Set(["debug", "info", "warn", "error"]);

/** @returns {{time: string, level: string, message: string, fields: object}} */
export function logRecord(level, message, fields, now = new Date()) {
  let safeFields = {};
  if (fields && typeof fields === "object") {
    try { safeFields = redact(JSON.parse(JSON.stringify(fields))); } catch { safeFields = { note: "fields were not serialisable" }; }
  }
  return {
    time: now.toISOString(),
    level: LEVELS.has(level) ? level : "info",
    message: String(message),
    fields: safeFields,
  };
}
