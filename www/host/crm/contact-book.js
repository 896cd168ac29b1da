// The reference CRM's contact book: contacts, lists and tags with the semantics the host
// contract promises (versions, optimistic concurrency, a change sequence with tombstones).
// One source of truth for both reference hosts: the page persists it in IndexedDB, the
// Node host in memory or a JSON file, through the small persistence interface below.
//
// Persistence interface:
//   load(): Promise<Snapshot | null>            Snapshot = {rev, seq, nextId, contacts, lists, tags}
//   commit(expectedRev, changes): Promise<boolean>
//       changes = {meta: {rev, seq, nextId}, contacts: Record[], lists: List[], deletedLists: id[], tags: string[]}
//       Writes all of it atomically, only if the stored rev still equals expectedRev
//       (another tab may have written meanwhile); resolves false when it did not.
//   currentRev(): Promise<number>
import { jsonCopy, jsonEqual } from "./json-values.js";
import { hostError } from "./host-error.js";
import { patchFields } from "./field-values.js";
import { fieldSchemaFor } from "./field-schema.js";

const MAX_PAGE = 500;
const CURSOR = /^v1\.(f|i)\.(\d+)\.(\d+)$/;

/** The contract's view of a stored record: internal bookkeeping (seq) stays inside. */
function publicContact(record) {
  if (record.deleted) {
    return { id: record.id, version: record.version, updatedAt: record.updatedAt, deleted: true, fields: {}, lists: [], tags: [] };
  }
  return {
    id: record.id,
    version: record.version,
    updatedAt: record.updatedAt,
    fields: jsonCopy(record.fields),
    lists: [...record.lists],
    tags: [...record.tags],
  };
}

function badInput(message, remedy) {
  return hostError("BAD_INPUT", message, remedy ? { remedy } : {});
}

function cleanTags(tags) {
  if (tags === undefined) return undefined;
  if (!Array.isArray(tags) || tags.some((t) => typeof t !== "string")) throw badInput("`tags` must be a list of tag names.");
  const out = [];
  for (const tag of tags) {
    const name = tag.trim();
    if (name && !out.includes(name)) out.push(name);
  }
  return out;
}

export const DEFAULT_USERS = [
  { id: "u1", name: "Camille Laurent", email: "camille.laurent@exemple-crm.fr" },
  { id: "u2", name: "Hugo Martin", email: "hugo.martin@exemple-crm.fr" },
  { id: "u3", name: "Sarah Collins", email: "sarah.collins@example-crm.com" },
];

export class ContactBook {
  /**
   * @param {object} persistence see the interface at the top of this file
   * @param {{now?: () => Date, users?: object[], currentUserId?: string}} [options]
   */
  constructor(persistence, { now = () => new Date(), users = DEFAULT_USERS, currentUserId = "u1" } = {}) {
    this.persistence = persistence;
    this.now = now;
    this.userList = users;
    this.currentUserId = currentUserId;
    this.listeners = new Set();
    this.queue = Promise.resolve();
    this.state = ContactBook.emptyState();
  }

  static emptyState() {
    return { rev: 0, seq: 0, nextId: 1, contacts: new Map(), lists: new Map(), tags: new Set() };
  }

  /** Opens a book on its persistence (loads what is stored). */
  static async open(persistence, options) {
    const book = new ContactBook(persistence, options);
    await book.reload();
    return book;
  }

  async reload() {
    const snapshot = await this.persistence.load();
    const state = ContactBook.emptyState();
    if (snapshot) {
      state.rev = snapshot.rev ?? 0;
      state.seq = snapshot.seq ?? 0;
      state.nextId = snapshot.nextId ?? 1;
      for (const c of snapshot.contacts ?? []) state.contacts.set(c.id, c);
      for (const l of snapshot.lists ?? []) state.lists.set(l.id, l);
      for (const t of snapshot.tags ?? []) state.tags.add(t);
    }
    this.state = state;
  }

  /** Listens to every committed change: {type, contactId?, origin}. Returns an unsubscribe. */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event) {
    for (const listener of [...this.listeners]) {
      try { listener(event); } catch { /* a listener's failure is its own */ }
    }
  }

  /** Another writer (a second tab) may have committed: reload when the stored rev moved. */
  async refreshIfStale() {
    const rev = await this.persistence.currentRev();
    if (rev !== this.state.rev) await this.reload();
  }

  /** Runs reads after pending writes, on fresh state. */
  read(fn) {
    const run = async () => { await this.refreshIfStale(); return fn(this.state); };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => {});
    return result;
  }

  /**
   * Runs a mutation: `fn(tx)` validates and stages changes synchronously (throwing a coded
   * error leaves everything untouched); the staged changes are committed atomically, and
   * retried on fresh state when another writer got there first. Mutations are serialised.
   */
  mutate(fn, origin) {
    const run = async () => {
      for (let attempt = 0; attempt < 5; attempt++) {
        await this.refreshIfStale();
        const tx = this.stage();
        const result = fn(tx);
        if (tx.isEmpty()) return result;
        const changes = tx.changes();
        const committed = await this.persistence.commit(this.state.rev, changes);
        if (committed) {
          this.applyChanges(changes);
          for (const event of tx.events) this.emit({ ...event, origin });
          return result;
        }
        await this.reload();
      }
      throw hostError("STORAGE", "The contact book is busy: another window keeps writing.", { retryable: true, remedy: "Try again in a moment." });
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => {});
    return result;
  }

  stage() {
    const state = this.state;
    let seq = state.seq;
    let nextId = state.nextId;
    const contacts = new Map();
    const lists = new Map();
    const deletedLists = new Set();
    let tags = null;
    const events = [];
    return {
      events,
      now: this.now().toISOString(),
      contact: (id) => contacts.get(id) ?? state.contacts.get(id),
      allContacts: () => {
        const merged = new Map(state.contacts);
        for (const [id, c] of contacts) merged.set(id, c);
        return [...merged.values()];
      },
      list: (id) => (deletedLists.has(id) ? undefined : lists.get(id) ?? state.lists.get(id)),
      allLists: () => {
        const merged = new Map(state.lists);
        for (const [id, l] of lists) merged.set(id, l);
        for (const id of deletedLists) merged.delete(id);
        return [...merged.values()];
      },
      tags: () => tags ?? new Set(state.tags),
      newId: (prefix) => `${prefix}${nextId++}`,
      putContact(record, event) {
        seq += 1;
        contacts.set(record.id, { ...record, seq });
        if (event) events.push(event);
      },
      putList(list) { deletedLists.delete(list.id); lists.set(list.id, list); events.push({ type: "lists.changed" }); },
      deleteList(id) { lists.delete(id); deletedLists.add(id); events.push({ type: "lists.changed" }); },
      setTags(next) { tags = next; events.push({ type: "tags.changed" }); },
      isEmpty: () => contacts.size === 0 && lists.size === 0 && deletedLists.size === 0 && tags === null,
      changes: () => ({
        meta: { rev: state.rev + 1, seq, nextId },
        contacts: [...contacts.values()],
        lists: [...lists.values()],
        deletedLists: [...deletedLists],
        tags: tags ? [...tags].sort() : null,
      }),
    };
  }

  applyChanges(changes) {
    const s = this.state;
    s.rev = changes.meta.rev;
    s.seq = changes.meta.seq;
    s.nextId = changes.meta.nextId;
    for (const c of changes.contacts) s.contacts.set(c.id, c);
    for (const l of changes.lists) s.lists.set(l.id, l);
    for (const id of changes.deletedLists) s.lists.delete(id);
    if (changes.tags) s.tags = new Set(changes.tags);
  }

  // ---------- the contract (HostApi.crm) ----------

  /** Full listing (cursor null) or changes since the cursor, with tombstones; paged by change sequence. */
  listChanges(cursor, limit) {
    return this.read((state) => {
      if (!Number.isInteger(limit) || limit < 1) throw badInput("`limit` must be a positive integer.");
      const pageSize = Math.min(limit, MAX_PAGE);
      let mode = "f";
      let pos = 0;
      let start = state.seq;
      if (cursor !== null && cursor !== undefined) {
        const m = typeof cursor === "string" ? CURSOR.exec(cursor) : null;
        if (!m) throw badInput("The listing cursor is not one this CRM issued.", "Start again with a full listing (cursor null).");
        mode = m[1];
        pos = Number(m[2]);
        start = Number(m[3]);
        if (pos > state.seq || start > state.seq) {
          throw badInput("The listing cursor is ahead of this CRM's history (was the CRM reset?).", "Start again with a full listing (cursor null).");
        }
      }
      // A full listing skips records deleted before it began; a deletion during the
      // listing is still reported, so a contact seen on page 1 and deleted before page 3
      // is not left behind.
      const candidates = [...state.contacts.values()]
        .filter((c) => c.seq > pos && !(mode === "f" && c.deleted && c.seq <= start))
        .sort((a, b) => a.seq - b.seq);
      const page = candidates.slice(0, pageSize);
      const hasMore = candidates.length > pageSize;
      const last = page.length ? page[page.length - 1].seq : pos;
      const nextCursor = hasMore ? `v1.${mode}.${last}.${start}` : `v1.i.${state.seq}.${state.seq}`;
      return { contacts: page.map(publicContact), nextCursor, hasMore };
    });
  }

  get(ids) {
    return this.read((state) => {
      if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string")) throw badInput("`ids` must be a list of contact ids.");
      return ids.map((id) => state.contacts.get(id)).filter((c) => c && !c.deleted).map(publicContact);
    });
  }

  /** Every live contact, for the host's own UI. */
  all() {
    return this.read((state) => [...state.contacts.values()].filter((c) => !c.deleted).map(publicContact));
  }

  checkMemberships(tx, lists) {
    if (lists === undefined) return undefined;
    if (!Array.isArray(lists) || lists.some((l) => typeof l !== "string")) throw badInput("`lists` must be a list of list ids.");
    const unique = [...new Set(lists)];
    for (const id of unique) {
      if (!tx.list(id)) throw hostError("NOT_FOUND", `List "${id}" does not exist.`, { remedy: "Use an id from crm.lists() or create the list first." });
    }
    return unique;
  }

  registerTags(tx, tags) {
    const known = tx.tags();
    if (tags.some((t) => !known.has(t))) tx.setTags(new Set([...known, ...tags]));
  }

  create(contact, origin = "api") {
    return this.mutate((tx) => {
      if (!contact || typeof contact !== "object" || Array.isArray(contact)) throw badInput("A new contact must be an object {fields, lists?, tags?}.");
      const fields = patchFields({}, contact.fields ?? {});
      const lists = this.checkMemberships(tx, contact.lists) ?? [];
      const tags = cleanTags(contact.tags) ?? [];
      const record = { id: tx.newId("c"), version: 1, createdAt: tx.now, updatedAt: tx.now, fields, lists, tags };
      tx.putContact(record, { type: "contact.created", contactId: record.id });
      this.registerTags(tx, tags);
      return publicContact({ ...record });
    }, origin);
  }

  /** Finds a live record or throws NOT_FOUND; checks the expected version (CONFLICT). */
  checkVersion(tx, id, expectedVersion) {
    if (typeof id !== "string") throw badInput("A contact id must be a string.");
    if (!Number.isInteger(expectedVersion)) throw badInput("`expectedVersion` must be an integer version.");
    const current = tx.contact(id);
    if (!current || current.deleted) {
      throw hostError("NOT_FOUND", `Contact ${id} does not exist (it may have been deleted).`, { remedy: "Reload the contacts." });
    }
    if (current.version !== expectedVersion) {
      throw hostError("CONFLICT", `Contact ${id} changed meanwhile (version ${current.version}, not ${expectedVersion}).`, {
        currentVersion: current.version, retryable: true, remedy: "Reload the contact and apply the change again.",
      });
    }
    return current;
  }

  update(id, expectedVersion, patch, origin = "api") {
    return this.mutate((tx) => {
      const current = this.checkVersion(tx, id, expectedVersion);
      if (!patch || typeof patch !== "object" || Array.isArray(patch)) throw badInput("A patch must be an object {fields?, lists?, tags?}.");
      const fields = patchFields(current.fields, patch.fields);
      const lists = this.checkMemberships(tx, patch.lists) ?? current.lists;
      const tags = cleanTags(patch.tags) ?? current.tags;
      // An update that changes nothing keeps the version: re-saving identical values must
      // not look like an edit to anyone listing changes.
      if (jsonEqual(fields, current.fields) && jsonEqual(lists, current.lists) && jsonEqual(tags, current.tags)) {
        return publicContact(current);
      }
      const record = { ...current, version: current.version + 1, updatedAt: tx.now, fields, lists, tags };
      tx.putContact(record, { type: "contact.updated", contactId: id });
      this.registerTags(tx, tags);
      return publicContact(record);
    }, origin);
  }

  delete(id, expectedVersion, origin = "api") {
    return this.mutate((tx) => {
      const current = this.checkVersion(tx, id, expectedVersion);
      const tombstone = { id, version: current.version + 1, updatedAt: tx.now, deleted: true, fields: {}, lists: [], tags: [] };
      tx.putContact(tombstone, { type: "contact.deleted", contactId: id });
    }, origin);
  }

  lists() {
    return this.read((state) => [...state.lists.values()].map((l) => ({ id: l.id, name: l.name })).sort((a, b) => a.name.localeCompare(b.name)));
  }

  /** Creates a list; a list of that name (ignoring case) that already exists is returned instead. */
  createList(name, origin = "api") {
    return this.mutate((tx) => {
      if (typeof name !== "string" || !name.trim()) throw badInput("A list needs a non-empty name.");
      const clean = name.trim();
      const existing = tx.allLists().find((l) => l.name.toLocaleLowerCase() === clean.toLocaleLowerCase());
      if (existing) return { id: existing.id, name: existing.name };
      const list = { id: tx.newId("l"), name: clean };
      tx.putList(list);
      return { ...list };
    }, origin);
  }

  renameList(id, name, origin = "ui") {
    return this.mutate((tx) => {
      const list = tx.list(id);
      if (!list) throw hostError("NOT_FOUND", `List "${id}" does not exist.`);
      if (typeof name !== "string" || !name.trim()) throw badInput("A list needs a non-empty name.");
      if (tx.allLists().some((l) => l.id !== id && l.name.toLocaleLowerCase() === name.trim().toLocaleLowerCase())) {
        throw badInput(`A list named "${name.trim()}" already exists.`);
      }
      tx.putList({ ...list, name: name.trim() });
    }, origin);
  }

  /** Deletes a list and removes it from its members (each member's version moves on). */
  deleteList(id, origin = "ui") {
    return this.mutate((tx) => {
      if (!tx.list(id)) throw hostError("NOT_FOUND", `List "${id}" does not exist.`);
      for (const c of tx.allContacts()) {
        if (!c.deleted && c.lists.includes(id)) {
          tx.putContact({ ...c, version: c.version + 1, updatedAt: tx.now, lists: c.lists.filter((l) => l !== id) }, { type: "contact.updated", contactId: c.id });
        }
      }
      tx.deleteList(id);
    }, origin);
  }

  tags() {
    return this.read((state) => [...state.tags].sort((a, b) => a.localeCompare(b)));
  }

  createTag(name, origin = "ui") {
    return this.mutate((tx) => {
      const [clean] = cleanTags([name]) ?? [];
      if (!clean) throw badInput("A tag needs a non-empty name.");
      this.registerTags(tx, [clean]);
    }, origin);
  }

  /** Deletes a tag and removes it from the contacts carrying it. */
  deleteTag(name, origin = "ui") {
    return this.mutate((tx) => {
      const known = tx.tags();
      if (!known.has(name)) throw hostError("NOT_FOUND", `Tag "${name}" does not exist.`);
      for (const c of tx.allContacts()) {
        if (!c.deleted && c.tags.includes(name)) {
          tx.putContact({ ...c, version: c.version + 1, updatedAt: tx.now, tags: c.tags.filter((t) => t !== name) }, { type: "contact.updated", contactId: c.id });
        }
      }
      known.delete(name);
      tx.setTags(known);
    }, origin);
  }

  async fieldSchema(locale) {
    return fieldSchemaFor(locale);
  }

  async users() {
    return this.userList.map((u) => ({ ...u }));
  }

  async currentUser() {
    const user = this.userList.find((u) => u.id === this.currentUserId) ?? this.userList[0];
    return { ...user };
  }
}

/** A persistence that keeps the snapshot in memory; `onCommit(snapshot)` may save it elsewhere. */
export class MemoryPersistence {
  constructor(snapshot = null, { onCommit } = {}) {
    this.snapshot = snapshot ? jsonCopy(snapshot) : null;
    this.onCommit = onCommit;
  }

  async load() {
    return this.snapshot ? jsonCopy(this.snapshot) : null;
  }

  async currentRev() {
    return this.snapshot?.rev ?? 0;
  }

  async commit(expectedRev, changes) {
    if ((this.snapshot?.rev ?? 0) !== expectedRev) return false;
    const s = this.snapshot ? jsonCopy(this.snapshot) : { rev: 0, seq: 0, nextId: 1, contacts: [], lists: [], tags: [] };
    const contacts = new Map(s.contacts.map((c) => [c.id, c]));
    for (const c of changes.contacts) contacts.set(c.id, jsonCopy(c));
    const lists = new Map(s.lists.map((l) => [l.id, l]));
    for (const l of changes.lists) lists.set(l.id, jsonCopy(l));
    for (const id of changes.deletedLists) lists.delete(id);
    const next = { ...changes.meta, contacts: [...contacts.values()], lists: [...lists.values()], tags: changes.tags ?? s.tags };
    if (this.onCommit) await this.onCommit(next);
    this.snapshot = next;
    return true;
  }
}
