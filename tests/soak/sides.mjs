// The three sides as their users see and edit them: the CRM through the Node host's contact
// book (a user's edits, the file the sync child reads), Google through the emulator's admin
// API (edits as in Google Contacts), CardDAV with real GET/PUT/DELETE on Radicale, not
// through the fault proxy. Each side reads as records of one shape:
//   {side, key, version, soakId, fields: {firstName, lastName, company, department, jobTitle,
//    emails: string[], phones: string[], notes}, raw}
import { readFile } from "node:fs/promises";
import { createNodeHost } from "../../www/node-host/node-host.mjs";
import { editCard, newCard, readCard } from "./vcard-text.mjs";

export const SIDES = ["crm", "google", "carddav"];
/** The fields the soak edits and checks (CRM field ids), and the note that carries the soak id. */
export const TEXT_FIELDS = ["firstName", "lastName", "company", "department", "jobTitle"];
export const LIST_FIELDS = ["emails", "phones"];
const SOAK_ID = /\bsoak:(S\d+)\b/;

/** The soak id a note carries ("soak:S0042 …"), or null. */
export function soakIdOf(notes) {
  return SOAK_ID.exec(notes ?? "")?.[1] ?? null;
}

function record(side, key, version, fields, raw) {
  return { side, key, version, soakId: soakIdOf(fields.notes), fields, raw };
}

// ---------- CRM ----------

export function crmSide({ crmFile, now }) {
  // One host for a series of edits; dropped at each read, because a sync child may have
  // written the file since (a host holds the book it loaded and would write over it).
  let open = null;
  const host = async () => (open ??= await createNodeHost({ crmFile, now }));
  const crmFields = (f) => ({
    firstName: f.firstName ?? "", lastName: f.lastName ?? "", company: f.company ?? "", department: f.department ?? "",
    jobTitle: f.jobTitle ?? "", emails: (f.emails ?? []).map((e) => e.value), phones: (f.phones ?? []).map((p) => p.value), notes: f.notes ?? "",
  });
  const listPatch = (existing = [], values, type) => values.map((v) => existing.find((e) => e.value === v) ?? { value: v, type });
  const patchOf = (raw, changes) => {
    const fields = {};
    for (const k of TEXT_FIELDS) if (k in changes) fields[k] = changes[k];
    if ("emails" in changes) {
      fields.emails = listPatch(raw?.fields.emails, changes.emails, "work");
      if (fields.emails.length && !fields.emails.some((e) => e.primary)) fields.emails[0] = { ...fields.emails[0], primary: true };
    }
    if ("phones" in changes) fields.phones = listPatch(raw?.fields.phones, changes.phones, "mobile");
    if ("notes" in changes) fields.notes = changes.notes;
    return fields;
  };
  return {
    name: "crm",
    async read() {
      open = null;
      const snapshot = JSON.parse(await readFile(crmFile, "utf8").catch(() => "null"));
      const contacts = (snapshot?.contacts ?? []).filter((c) => !c.deleted);
      return { records: contacts.map((c) => record("crm", c.id, c.version, crmFields(c.fields), c)), seq: snapshot?.seq ?? 0 };
    },
    async create(fields) {
      const h = await host();
      await h.user.create({ fields: patchOf(null, fields) });
    },
    async update(rec, changes) {
      const h = await host();
      await h.user.update(rec.key, rec.version, { fields: patchOf(rec.raw, changes) });
    },
    async delete(rec) {
      const h = await host();
      await h.user.delete(rec.key, rec.version);
    },
  };
}

// ---------- Google ----------

export function googleSide({ admin, account }) {
  const path = (suffix = "") => `accounts/${encodeURIComponent(account)}/contacts${suffix}`;
  const googleFields = (p) => {
    const name = p.names?.[0] ?? {};
    const org = p.organizations?.[0] ?? {};
    return {
      firstName: name.givenName ?? "", lastName: name.familyName ?? "", company: org.name ?? "", department: org.department ?? "",
      jobTitle: org.title ?? "", emails: (p.emailAddresses ?? []).map((e) => e.value), phones: (p.phoneNumbers ?? []).map((x) => x.value),
      notes: p.biographies?.[0]?.value ?? "",
    };
  };
  const pick = (obj, keys) => Object.fromEntries(keys.filter((k) => obj?.[k] !== undefined && obj[k] !== "").map((k) => [k, obj[k]]));
  const listPatch = (existing = [], values, type) => values.map((v) => {
    const old = existing.find((e) => e.value === v);
    return old ? pick(old, ["value", "type"]) : { value: v, type };
  });
  const personOf = (raw, changes) => {
    const person = {};
    if ("firstName" in changes || "lastName" in changes) {
      const name = pick(raw?.names?.[0], ["givenName", "familyName", "middleName", "honorificPrefix", "honorificSuffix"]);
      if ("firstName" in changes) name.givenName = changes.firstName;
      if ("lastName" in changes) name.familyName = changes.lastName;
      person.names = [name];
    }
    if ("company" in changes || "jobTitle" in changes || "department" in changes) {
      const [first, ...rest] = raw?.organizations ?? [];
      const org = pick(first, ["name", "title", "department", "type"]);
      if ("company" in changes) org.name = changes.company;
      if ("jobTitle" in changes) org.title = changes.jobTitle;
      if ("department" in changes) org.department = changes.department;
      for (const k of ["name", "title", "department"]) if (!org[k]) delete org[k];
      person.organizations = [org, ...rest.map((o) => pick(o, ["name", "title", "department", "type"]))].filter((o) => Object.keys(o).length);
    }
    if ("emails" in changes) person.emailAddresses = listPatch(raw?.emailAddresses, changes.emails, "work");
    if ("phones" in changes) person.phoneNumbers = listPatch(raw?.phoneNumbers, changes.phones, "mobile");
    if ("notes" in changes) person.biographies = changes.notes ? [{ value: changes.notes, contentType: "TEXT_PLAIN" }] : [];
    return person;
  };
  return {
    name: "google",
    async read() {
      const { contacts } = await admin("GET", path());
      return { records: contacts.map((p) => record("google", p.resourceName, p.etag, googleFields(p), p)) };
    },
    async create(fields) {
      await admin("POST", path(), { contacts: [personOf(null, fields)] });
    },
    async update(rec, changes) {
      await admin("PATCH", path(`/${rec.key.replace(/^people\//, "")}`), personOf(rec.raw, changes));
    },
    async delete(rec) {
      await admin("DELETE", path(`/${rec.key.replace(/^people\//, "")}`));
    },
  };
}

// ---------- CardDAV ----------

export function carddavSide({ radicale }) {
  const expectWrite = async (response, what) => {
    if (![200, 201, 204].includes(response.status)) throw new Error(`CardDAV ${what}: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  };
  return {
    name: "carddav",
    async read() {
      const cards = await radicale.cards();
      return { records: cards.map((c) => record("carddav", c.href, c.etag, readCard(c.vcard), c)) };
    },
    async create(fields, uid) {
      const r = await radicale.request("PUT", `${radicale.bookUrl}${uid}.vcf`, {
        headers: { "content-type": "text/vcard; charset=utf-8", "if-none-match": "*" }, body: newCard({ uid, ...fields }),
      });
      await expectWrite(r, `PUT ${uid}`);
    },
    async update(rec, changes) {
      const r = await radicale.request("PUT", new URL(rec.key, radicale.url).href, {
        headers: { "content-type": "text/vcard; charset=utf-8", "if-match": rec.version }, body: editCard(rec.raw.vcard, changes),
      });
      await expectWrite(r, `PUT ${rec.key}`);
    },
    async delete(rec) {
      const r = await radicale.request("DELETE", new URL(rec.key, radicale.url).href, { headers: { "if-match": rec.version } });
      await expectWrite(r, `DELETE ${rec.key}`);
    },
  };
}
