// A HostApi (hostApi "1") over in-memory parts: the headless Node host builds on it, and
// so does the Web Worker check page. The CRM is the shared ContactBook; persistence is
// whatever `MemoryPersistence`/`MemoryStorage` were given (plain memory, or a file saver).
import { createHostEvents } from "./crm/host-events.js";
import { ContactBook, MemoryPersistence } from "./crm/contact-book.js";
import { hostError } from "./crm/host-error.js";
import { MemoryStorage } from "./storage/memory-storage.js";
import { logRecord } from "./log-record.js";
import { seedContactBook } from "./sample-contacts.js";

export const HOST_API_VERSION = "1";

/**
 * Secrets in memory: readable through the contract only, never listed with their values.
 * `entries` and `onCommit(entries)` let the Node host keep them in a file (see there).
 */
export function createMemorySecrets(entries = {}, { onCommit = async () => {} } = {}) {
  const secrets = new Map(Object.entries(entries));
  // Saves in call order; a failed save leaves the previous value in memory too.
  let queue = Promise.resolve();
  const commit = (change) => {
    const run = async () => {
      const next = new Map(secrets);
      change(next);
      await onCommit(Object.fromEntries(next));
      secrets.clear();
      for (const [k, v] of next) secrets.set(k, v);
    };
    const result = queue.then(run, run);
    queue = result.catch(() => {});
    return result;
  };
  return {
    names: () => [...secrets.keys()],
    api: {
      async get(name) {
        if (typeof name !== "string") throw hostError("BAD_INPUT", "A secret name must be a string.");
        return secrets.has(name) ? secrets.get(name) : null;
      },
      async set(name, value) {
        if (typeof name !== "string" || !name) throw hostError("BAD_INPUT", "A secret name must be a non-empty string.");
        if (typeof value !== "string") throw hostError("BAD_INPUT", "A secret value must be a string.");
        await commit((next) => next.set(name, value));
      },
      async delete(name) {
        await commit((next) => next.delete(name));
      },
    },
  };
}

/**
 * @param {object} [options]
 * @param {MemoryStorage} [options.storage]
 * @param {MemoryPersistence} [options.persistence]
 * @param {boolean} [options.seed]
 * @param {string} [options.locale]
 * @param {string} [options.hostVersion]
 * @param {string} [options.hostApiVersion]
 * @param {(url: string, redirectUri: string) => Promise<string>} [options.openAuthWindow]
 * @param {ReturnType<typeof createMemorySecrets>} [options.secrets] memory by default
 * @param {object} [options.http] optional fetch proxy
 * @param {object} [options.oauth] optional OAuth broker
 * @param {(record: object) => void} [options.onLog]
 * @param {() => Date} [options.now]
 */
export async function createMemoryHost({
  storage = new MemoryStorage(), persistence = new MemoryPersistence(), seed = false, locale = "en-GB",
  hostVersion = "1.0.0", hostApiVersion = HOST_API_VERSION, openAuthWindow, http, oauth, onLog = () => {},
  now = () => new Date(), secrets = createMemorySecrets(),
} = {}) {
  const book = await ContactBook.open(persistence, { now });
  if (seed) await seedContactBook(book);
  const logs = [];
  const notifications = [];

  const events = createHostEvents(book);
  const emit = events.emit;

  const hostApi = {
    hostApi: hostApiVersion,
    hostVersion,
    storage: {
      get: (keys) => storage.get(keys),
      write: (ops) => storage.write(ops),
      compareAndSet: (key, expected, value) => storage.compareAndSet(key, expected, value),
      list: (prefix) => storage.list(prefix),
    },
    secrets: secrets.api,
    crm: {
      listChanges: (cursor, limit) => book.listChanges(cursor, limit),
      get: (ids) => book.get(ids),
      create: (contact) => book.create(contact, "api"),
      update: (id, expectedVersion, patch) => book.update(id, expectedVersion, patch, "api"),
      delete: (id, expectedVersion) => book.delete(id, expectedVersion, "api"),
      lists: () => book.lists(),
      createList: (name) => book.createList(name, "api"),
      tags: () => book.tags(),
      fieldSchema: () => book.fieldSchema(locale),
      users: () => book.users(),
      currentUser: () => book.currentUser(),
    },
    locale: () => locale,
    ui: {
      notify(level, message) { notifications.push({ level, message: String(message) }); },
      async openAuthWindow(url, redirectUri) {
        if (!openAuthWindow) throw hostError("AUTH_DENIED", "This host cannot show a consent page.", { remedy: "Connect from the CRM in a browser." });
        return openAuthWindow(url, redirectUri);
      },
    },
    log(level, message, fields) {
      const record = logRecord(level, message, fields, now());
      logs.push(record);
      onLog(record);
    },
    onEvent: events.onEvent,
  };
  if (http) hostApi.http = http;
  if (oauth) hostApi.oauth = oauth;

  return {
    hostApi,
    book,
    storage,
    /** Secret names only: values are not exposed beyond the contract. */
    secretNames: secrets.names,
    logs,
    notifications,
    /** Delivers a host event to the plugin (e.g. {type: "crm.opened"}). */
    emit,
    /** Number of event subscribers (the plugin unsubscribes on deactivate). */
    get subscriberCount() { return events.subscriberCount; },
    /** The CRM as a user edits it: these writes raise contact.* events. */
    user: {
      create: (contact) => book.create(contact, "ui"),
      update: (id, version, patch) => book.update(id, version, patch, "ui"),
      delete: (id, version) => book.delete(id, version, "ui"),
    },
  };
}
