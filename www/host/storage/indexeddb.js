// The page host's IndexedDB database: the CRM (meta, contacts, lists), the plugins'
// key/value storage and their secrets, each in its own object store. Every contract write
// is one IndexedDB transaction, so it happens entirely or not at all.
import { hostError } from "../crm/host-error.js";
import { jsonEqual } from "../crm/json-values.js";
import { checkKey, checkKeys, normaliseWrite, storableValue } from "./storage-ops.js";

const DB_VERSION = 1;

function storageError(error) {
  return hostError("STORAGE", `The browser's database refused the operation${error?.name ? ` (${error.name})` : ""}.`, {
    retryable: true, remedy: "Check the browser's storage space and permissions, then try again.",
  });
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(storageError(req.error));
  });
}

/** Resolves when the transaction commits (with `result()`), rejects when it fails. */
function completion(tx, result = () => undefined) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve(result());
    tx.onerror = () => reject(storageError(tx.error));
    tx.onabort = () => (tx.error ? reject(storageError(tx.error)) : resolve(result()));
  });
}

export function openDatabase(name = "reference-crm") {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      db.createObjectStore("meta");
      db.createObjectStore("contacts", { keyPath: "id" });
      db.createObjectStore("lists", { keyPath: "id" });
      db.createObjectStore("pluginStorage");
      db.createObjectStore("pluginSecrets");
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(storageError(req.error));
    req.onblocked = () => reject(hostError("STORAGE", "The CRM's database is held open by an older tab.", { remedy: "Close the other CRM tabs and reload." }));
  });
}

/** ContactBook persistence (see crm/contact-book.js) in IndexedDB. */
export class IndexedDbPersistence {
  constructor(db) { this.db = db; }

  async load() {
    const tx = this.db.transaction(["meta", "contacts", "lists"], "readonly");
    const [meta, contacts, lists] = await Promise.all([
      request(tx.objectStore("meta").get("book")),
      request(tx.objectStore("contacts").getAll()),
      request(tx.objectStore("lists").getAll()),
    ]);
    if (!meta) return null;
    return { rev: meta.rev, seq: meta.seq, nextId: meta.nextId, tags: meta.tags ?? [], contacts, lists };
  }

  async currentRev() {
    const meta = await request(this.db.transaction("meta", "readonly").objectStore("meta").get("book"));
    return meta?.rev ?? 0;
  }

  /** Writes the changes only if no other tab moved the book's revision meanwhile. */
  commit(expectedRev, changes) {
    const tx = this.db.transaction(["meta", "contacts", "lists"], "readwrite");
    let committed = false;
    const metaStore = tx.objectStore("meta");
    const done = completion(tx, () => committed);
    metaStore.get("book").onsuccess = (event) => {
      const meta = event.target.result;
      if ((meta?.rev ?? 0) !== expectedRev) {
        tx.abort();
        return;
      }
      const contacts = tx.objectStore("contacts");
      const lists = tx.objectStore("lists");
      for (const c of changes.contacts) contacts.put(c);
      for (const l of changes.lists) lists.put(l);
      for (const id of changes.deletedLists) lists.delete(id);
      metaStore.put({ ...changes.meta, tags: changes.tags ?? meta?.tags ?? [] }, "book");
      committed = true;
    };
    return done;
  }
}

/** HostApi.storage for one plugin, namespaced by its id. */
export function indexedDbStorage(db, pluginId) {
  const ns = `${pluginId}/`;
  const store = (mode) => db.transaction("pluginStorage", mode).objectStore("pluginStorage");
  return {
    async get(keys) {
      const list = checkKeys(keys);
      const os = store("readonly");
      const values = await Promise.all(list.map((k) => request(os.get(ns + k))));
      return Object.fromEntries(list.map((k, i) => [k, values[i] ?? null]));
    },
    async write(ops) {
      const { puts, deletes } = normaliseWrite(ops);
      const tx = db.transaction("pluginStorage", "readwrite");
      const os = tx.objectStore("pluginStorage");
      for (const key of deletes) os.delete(ns + key);
      for (const [key, value] of puts) os.put(value, ns + key);
      await completion(tx);
    },
    async compareAndSet(key, expected, value) {
      checkKey(key);
      const wanted = storableValue(key, expected);
      const next = storableValue(key, value);
      // Read, compare and write in one readwrite transaction: IndexedDB serialises
      // overlapping readwrite transactions, across tabs too, so two contenders cannot both win.
      const tx = db.transaction("pluginStorage", "readwrite");
      const os = tx.objectStore("pluginStorage");
      let wrote = false;
      const done = completion(tx, () => wrote);
      os.get(ns + key).onsuccess = (event) => {
        const current = event.target.result ?? null;
        if (!jsonEqual(current, wanted)) return;
        if (next === null) os.delete(ns + key);
        else os.put(next, ns + key);
        wrote = true;
      };
      return done;
    },
    async list(prefix) {
      if (typeof prefix !== "string") throw hostError("BAD_INPUT", "storage.list takes a key prefix string.");
      const range = IDBKeyRange.bound(ns + prefix, `${ns}${prefix}\uffff`);
      const keys = await request(store("readonly").getAllKeys(range));
      return keys.map((k) => String(k).slice(ns.length)).sort();
    },
  };
}

/** HostApi.secrets for one plugin: its own object store, never shown in the UI. */
export function indexedDbSecrets(db, pluginId) {
  const ns = `${pluginId}/`;
  const store = (mode) => db.transaction("pluginSecrets", mode).objectStore("pluginSecrets");
  const checkName = (name) => {
    if (typeof name !== "string" || !name) throw hostError("BAD_INPUT", "A secret name must be a non-empty string.");
    return name;
  };
  return {
    async get(name) {
      const value = await request(store("readonly").get(ns + checkName(name)));
      return typeof value === "string" ? value : null;
    },
    async set(name, value) {
      checkName(name);
      if (typeof value !== "string") throw hostError("BAD_INPUT", "A secret value must be a string.");
      const tx = db.transaction("pluginSecrets", "readwrite");
      tx.objectStore("pluginSecrets").put(value, ns + name);
      await completion(tx);
    },
    async delete(name) {
      const tx = db.transaction("pluginSecrets", "readwrite");
      tx.objectStore("pluginSecrets").delete(ns + checkName(name));
      await completion(tx);
    },
  };
}
