// The CRM half of the host contract, as the headless Node host implements it (the page host
// shares the same ContactBook): versions, CONFLICT, NOT_FOUND, tombstones, paging, events.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeHost } from "../../www/node-host/node-host.mjs";

async function listAll(crm, cursor, limit = 7) {
  const contacts = [];
  let page;
  do {
    page = await crm.listChanges(cursor, limit);
    contacts.push(...page.contacts);
    cursor = page.nextCursor;
  } while (page.hasMore);
  return { contacts, cursor };
}

test("create starts at version 1 and every change increments the version", async () => {
  const { hostApi } = await createNodeHost();
  const c = await hostApi.crm.create({ fields: { firstName: "Ada", emails: [{ value: "ada@example.com" }] } });
  assert.equal(c.version, 1);
  const u = await hostApi.crm.update(c.id, 1, { fields: { lastName: "Lovelace" } });
  assert.equal(u.version, 2);
  assert.equal(u.fields.firstName, "Ada", "fields not named in the patch are kept");
  assert.equal(u.fields.lastName, "Lovelace");
  const [got] = await hostApi.crm.get([c.id]);
  assert.deepEqual(got, u);
});

test("an update with a stale version rejects CONFLICT carrying the current version", async () => {
  const { hostApi } = await createNodeHost();
  const c = await hostApi.crm.create({ fields: { firstName: "Ada" } });
  await hostApi.crm.update(c.id, 1, { fields: { firstName: "Ada B." } });
  await assert.rejects(hostApi.crm.update(c.id, 1, { fields: { firstName: "Other" } }), (e) => {
    assert.ok(e instanceof Error);
    assert.equal(e.code, "CONFLICT");
    assert.equal(e.currentVersion, 2);
    return true;
  });
  const [got] = await hostApi.crm.get([c.id]);
  assert.equal(got.fields.firstName, "Ada B.", "the stale write changed nothing");
});

test("delete with a stale version rejects CONFLICT, and a gone contact rejects NOT_FOUND", async () => {
  const { hostApi } = await createNodeHost();
  const c = await hostApi.crm.create({ fields: { firstName: "Ada" } });
  await hostApi.crm.update(c.id, 1, { tags: ["x"] });
  await assert.rejects(hostApi.crm.delete(c.id, 1), { code: "CONFLICT", currentVersion: 2 });
  await hostApi.crm.delete(c.id, 2);
  await assert.rejects(hostApi.crm.delete(c.id, 3), { code: "NOT_FOUND" });
  await assert.rejects(hostApi.crm.update(c.id, 3, { fields: { firstName: "B" } }), { code: "NOT_FOUND" });
  assert.deepEqual(await hostApi.crm.get([c.id]), []);
});

test("a full listing pages through every live contact once; the next listing returns only changes and tombstones", async () => {
  const { hostApi } = await createNodeHost({ seed: true });
  const full = await listAll(hostApi.crm, null);
  assert.equal(full.contacts.length, 30);
  assert.equal(new Set(full.contacts.map((c) => c.id)).size, 30);
  assert.ok(full.contacts.every((c) => !c.deleted));

  const [a, b, d] = full.contacts;
  await hostApi.crm.update(a.id, a.version, { fields: { jobTitle: "CEO" } });
  await hostApi.crm.delete(b.id, b.version);
  const created = await hostApi.crm.create({ fields: { lastName: "Nouveau" } });
  const changes = await listAll(hostApi.crm, full.cursor, 2);
  const byId = new Map(changes.contacts.map((c) => [c.id, c]));
  assert.equal(changes.contacts.length, 3);
  assert.equal(byId.get(a.id).fields.jobTitle, "CEO");
  assert.deepEqual({ id: byId.get(b.id).id, deleted: byId.get(b.id).deleted, version: byId.get(b.id).version }, { id: b.id, deleted: true, version: b.version + 1 });
  assert.ok(byId.has(created.id));
  assert.ok(!byId.has(d.id));

  const none = await hostApi.crm.listChanges(changes.cursor, 10);
  assert.deepEqual(none.contacts, []);
  assert.equal(none.hasMore, false);
  // A later full listing no longer shows the deleted contact.
  const again = await listAll(hostApi.crm, null);
  assert.equal(again.contacts.length, 30);
  assert.ok(!again.contacts.some((c) => c.id === b.id));
});

test("a contact deleted in the middle of a full listing is reported as a tombstone before the listing ends", async () => {
  const { hostApi } = await createNodeHost({ seed: true });
  const first = await hostApi.crm.listChanges(null, 5);
  const seen = first.contacts[0];
  await hostApi.crm.delete(seen.id, seen.version);
  const rest = await listAll(hostApi.crm, first.nextCursor, 5);
  const tomb = rest.contacts.find((c) => c.id === seen.id);
  assert.ok(tomb && tomb.deleted === true);
});

test("a cursor the CRM did not issue is refused with BAD_INPUT", async () => {
  const { hostApi } = await createNodeHost();
  await assert.rejects(hostApi.crm.listChanges("garbage", 10), { code: "BAD_INPUT" });
  await assert.rejects(hostApi.crm.listChanges("v1.i.999.999", 10), { code: "BAD_INPUT" });
  await assert.rejects(hostApi.crm.listChanges(null, 0), { code: "BAD_INPUT" });
});

test("wrongly typed or unknown fields are refused with BAD_INPUT and nothing is written", async () => {
  const { hostApi } = await createNodeHost();
  await assert.rejects(hostApi.crm.create({ fields: { emails: "a@b.c" } }), { code: "BAD_INPUT" });
  await assert.rejects(hostApi.crm.create({ fields: { nickname: "x" } }), { code: "BAD_INPUT" });
  await assert.rejects(hostApi.crm.create({ fields: { firstName: "A" }, lists: ["no-such-list"] }), { code: "NOT_FOUND" });
  const page = await hostApi.crm.listChanges(null, 10);
  assert.equal(page.contacts.length, 0);
});

test("an update that changes nothing keeps the version", async () => {
  const { hostApi } = await createNodeHost();
  const c = await hostApi.crm.create({ fields: { firstName: "Ada" }, tags: ["t"] });
  const same = await hostApi.crm.update(c.id, 1, { fields: { firstName: "Ada" }, tags: ["t"] });
  assert.equal(same.version, 1);
});

test("lists, tags, the field schema with the deletedInRemote custom field, users", async () => {
  const { hostApi } = await createNodeHost({ locale: "fr-FR" });
  const list = await hostApi.crm.createList("Clients");
  assert.deepEqual(await hostApi.crm.createList("clients"), list, "the same name returns the existing list");
  const c = await hostApi.crm.create({ fields: { firstName: "A" }, lists: [list.id], tags: ["vip"] });
  assert.deepEqual(c.lists, [list.id]);
  assert.deepEqual(await hostApi.crm.tags(), ["vip"]);
  const schema = await hostApi.crm.fieldSchema();
  const flag = schema.find((f) => f.id === "deletedInRemote");
  assert.deepEqual({ type: flag.type, custom: flag.custom }, { type: "boolean", custom: true });
  assert.equal(schema.find((f) => f.id === "firstName").label, "Prénom");
  const user = await hostApi.crm.currentUser();
  assert.ok((await hostApi.crm.users()).some((u) => u.id === user.id));
});

test("edits by a CRM user raise contact events; the plugin's own API writes do not", async () => {
  const host = await createNodeHost();
  const events = [];
  const unsubscribe = host.hostApi.onEvent((e) => events.push(e));
  const c = await host.user.create({ fields: { firstName: "Ada" } });
  await host.hostApi.crm.update(c.id, 1, { fields: { lastName: "L" } });
  await host.user.update(c.id, 2, { fields: { lastName: "Lovelace" } });
  await host.user.delete(c.id, 3);
  assert.deepEqual(events, [
    { type: "contact.created", contactId: c.id },
    { type: "contact.updated", contactId: c.id },
    { type: "contact.deleted", contactId: c.id },
  ]);
  unsubscribe();
  await host.user.create({ fields: { firstName: "B" } });
  assert.equal(events.length, 3);
});

test("the CRM persisted to a file comes back with its versions and change cursor", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "crm-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const crmFile = join(dir, "crm.json");
  const one = await createNodeHost({ crmFile, seed: true });
  const { cursor } = await listAll(one.hostApi.crm, null);
  const [c] = await one.hostApi.crm.get([(await one.hostApi.crm.listChanges(null, 1)).contacts[0].id]);
  await one.hostApi.crm.update(c.id, c.version, { fields: { notes: "persisted" } });
  const two = await createNodeHost({ crmFile });
  const changes = await two.hostApi.crm.listChanges(cursor, 10);
  assert.deepEqual(changes.contacts.map((x) => [x.id, x.version, x.fields.notes]), [[c.id, c.version + 1, "persisted"]]);
  assert.ok(JSON.parse(await readFile(crmFile, "utf8")).contacts.length >= 30);
});
