// The page host's HostApi (hostApi "1"): the CRM is the shared ContactBook persisted in
// IndexedDB, storage and secrets are IndexedDB stores namespaced by plugin id, ui goes to
// toasts and a consent popup, log goes to the visible log panel and the console.
import { createHostEvents } from "./crm/host-events.js";
import { logRecord } from "./log-record.js";
import { indexedDbSecrets, indexedDbStorage } from "./storage/indexeddb.js";
import { openAuthWindow } from "./auth-window.js";
import { currentLocale } from "./i18n.js";

export const HOST_VERSION = "1.0.0";

/**
 * @param {{book: import("./crm/contact-book.js").ContactBook, db: IDBDatabase, pluginId: string,
 *          notify: (level: string, message: string) => void, onLog: (record: object) => void}} parts
 * @returns {{hostApi: object, emit: (event: object) => void}}
 */
export function createPageHostApi({ book, db, pluginId, notify, onLog }) {
  const events = createHostEvents(book);
  const emit = events.emit;

  const hostApi = {
    hostApi: "1",
    hostVersion: HOST_VERSION,
    storage: indexedDbStorage(db, pluginId),
    secrets: indexedDbSecrets(db, pluginId),
    crm: {
      listChanges: (cursor, limit) => book.listChanges(cursor, limit),
      get: (ids) => book.get(ids),
      create: (contact) => book.create(contact, "api"),
      update: (id, expectedVersion, patch) => book.update(id, expectedVersion, patch, "api"),
      delete: (id, expectedVersion) => book.delete(id, expectedVersion, "api"),
      lists: () => book.lists(),
      createList: (name) => book.createList(name, "api"),
      tags: () => book.tags(),
      fieldSchema: () => book.fieldSchema(currentLocale()),
      users: () => book.users(),
      currentUser: () => book.currentUser(),
    },
    locale: () => currentLocale(),
    ui: {
      notify: (level, message) => notify(["info", "warning", "error"].includes(level) ? level : "info", String(message)),
      openAuthWindow,
    },
    log(level, message, fields) {
      const record = logRecord(level, message, fields);
      onLog(record);
      // console.error is kept for the host's own failures; plugin records go to info/warn.
      const line = `[plugin ${record.level}] ${record.message}`;
      if (record.level === "warn" || record.level === "error") console.warn(line, record.fields);
      else console.info(line, record.fields);
    },
    onEvent: events.onEvent,
  };
  return { hostApi, emit };
}
