// JSON value helpers shared by the storage and CRM implementations of both reference hosts
// (IndexedDB in the page, memory or a file in Node): one definition of "equal" and "copy".

/** Deep equality of JSON values; object key order does not matter. */
export function jsonEqual(a, b) {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    if (a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  const keysA = Object.keys(a).filter((k) => a[k] !== undefined);
  const keysB = Object.keys(b).filter((k) => b[k] !== undefined);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual(a[k], b[k]));
}

/**
 * A detached copy of a JSON-serialisable value; throws a TypeError for what JSON cannot
 * hold (functions, cycles, BigInt), so that storage never keeps something it cannot give back.
 */
export function jsonCopy(value) {
  if (value === undefined) return null;
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError("The value is not JSON-serialisable.");
  return JSON.parse(text);
}
