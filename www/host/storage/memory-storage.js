// HostApi.storage in memory, optionally saved to a file after each write by `onCommit`
// (the Node host). Every write is applied to a copy first, so a failing save changes nothing.
import { jsonCopy, jsonEqual } from "../crm/json-values.js";
import { checkKey, checkKeys, normaliseWrite, storableValue } from "./storage-ops.js";
import { hostError } from "../crm/host-error.js";

export class MemoryStorage {
  /** @param {Record<string, unknown>} [entries] @param {{onCommit?: (entries: object) => Promise<void>|void}} [options] */
  constructor(entries = {}, { onCommit } = {}) {
    this.entries = new Map(Object.entries(jsonCopy(entries) ?? {}));
    this.onCommit = onCommit;
    this.queue = Promise.resolve();
  }

  /** Serialises writes so a compare-and-set cannot interleave with a write. */
  serial(fn) {
    const result = this.queue.then(fn, fn);
    this.queue = result.catch(() => {});
    return result;
  }

  async commit(next) {
    if (this.onCommit) {
      try {
        await this.onCommit(Object.fromEntries(next));
      } catch (error) {
        throw hostError("STORAGE", `The plugin's data could not be saved: ${error.message}`, { retryable: true, remedy: "Check the disk, then try again." });
      }
    }
    this.entries = next;
  }

  async get(keys) {
    const out = {};
    for (const key of checkKeys(keys)) out[key] = this.entries.has(key) ? jsonCopy(this.entries.get(key)) : null;
    return out;
  }

  write(ops) {
    return this.serial(async () => {
      const { puts, deletes } = normaliseWrite(ops);
      const next = new Map(this.entries);
      for (const key of deletes) next.delete(key);
      for (const [key, value] of puts) next.set(key, value);
      await this.commit(next);
    });
  }

  compareAndSet(key, expected, value) {
    return this.serial(async () => {
      checkKey(key);
      const wanted = storableValue(key, expected);
      const stored = storableValue(key, value);
      const current = this.entries.has(key) ? this.entries.get(key) : null;
      if (!jsonEqual(current, wanted)) return false;
      const next = new Map(this.entries);
      if (stored === null) next.delete(key);
      else next.set(key, stored);
      await this.commit(next);
      return true;
    });
  }

  async list(prefix) {
    if (typeof prefix !== "string") throw hostError("BAD_INPUT", "storage.list takes a key prefix string.");
    return [...this.entries.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  /** All entries, for saving or inspection in tests. */
  snapshot() {
    return Object.fromEntries([...this.entries].map(([k, v]) => [k, jsonCopy(v)]));
  }
}
