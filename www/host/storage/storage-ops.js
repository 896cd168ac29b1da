// Validation of HostApi.storage calls, shared by the IndexedDB and in-memory stores so both
// refuse the same bad input the same way (BAD_INPUT), before anything is written.
import { jsonCopy } from "../crm/json-values.js";
import { hostError } from "../crm/host-error.js";

export function checkKey(key) {
  if (typeof key !== "string" || key.length === 0 || key.length > 512) {
    throw hostError("BAD_INPUT", "Storage keys are non-empty strings of at most 512 characters.");
  }
  return key;
}

export function checkKeys(keys) {
  if (!Array.isArray(keys)) throw hostError("BAD_INPUT", "storage.get takes a list of keys.");
  return keys.map(checkKey);
}

/** A detached JSON copy, or BAD_INPUT when the value cannot be stored as JSON. */
export function storableValue(key, value) {
  try {
    return jsonCopy(value);
  } catch {
    throw hostError("BAD_INPUT", `The value for storage key "${key}" is not JSON-serialisable.`);
  }
}

/**
 * Normalises storage.write ops into {puts: [key, value][], deletes: key[]}. A put of null
 * is a delete (a missing key reads as null). A key both put and deleted is refused.
 */
export function normaliseWrite(ops) {
  if (!ops || typeof ops !== "object" || Array.isArray(ops)) throw hostError("BAD_INPUT", "storage.write takes {put?, delete?}.");
  const put = ops.put ?? {};
  const del = ops.delete ?? [];
  if (typeof put !== "object" || Array.isArray(put) || put === null) throw hostError("BAD_INPUT", "storage.write `put` must be an object.");
  if (!Array.isArray(del)) throw hostError("BAD_INPUT", "storage.write `delete` must be a list of keys.");
  const puts = [];
  const deletes = new Set(del.map(checkKey));
  for (const [key, value] of Object.entries(put)) {
    checkKey(key);
    if (deletes.has(key)) throw hostError("BAD_INPUT", `Storage key "${key}" is both put and deleted in one write.`);
    const stored = storableValue(key, value);
    if (stored === null) deletes.add(key);
    else puts.push([key, stored]);
  }
  return { puts, deletes: [...deletes] };
}
