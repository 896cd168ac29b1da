// The soak's own checker (tests/soak/checker.mjs) and the vCard edits it relies on: a clean
// end state passes, and each planted fault — a duplicate, a lost edit, a removal undone, a
// resurrection, two strangers merged, a noisy last run — is caught by its named check.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkEndState } from "../soak/checker.mjs";
import { SoakModel } from "../soak/model.mjs";
import { editCard, newCard, readCard } from "../soak/vcard-text.mjs";

const base = (id, extra = {}) => ({
  firstName: "Marie", lastName: "Dupont", company: "Boulangeries Dupont", department: "", jobTitle: "Gérante",
  emails: [`marie.${id}@exemple.fr`], phones: ["+33 6 12 34 56 78"], notes: `soak:${id} — seeded, do not edit this line`, ...extra,
});

/** Every side holding `fields` for each person (as records the soak reads), with per-side overrides. */
function world(people, overrides = {}) {
  const sides = {};
  for (const side of ["crm", "google", "carddav"]) {
    sides[side] = Object.entries(people).map(([id, fields], n) => {
      const f = { ...fields, ...(overrides[side]?.[id] ?? {}) };
      return { side, key: `${side}-${n}`, version: 1, soakId: /soak:(S\d+)/.exec(f.notes)?.[1] ?? null, fields: f };
    });
  }
  return sides;
}

function modelOf(ids) {
  const model = new SoakModel();
  for (const id of ids) model.addPerson({ id, fields: base(id), sides: ["crm", "google", "carddav"] });
  return model;
}

const codes = (result) => result.violations.map((v) => v.code).sort();
const quiet = { lastRunWrites: { crm: 0, google: 0, carddav: 0 }, lastRunOutcomes: ["ok", "ok"], extraRunRequests: { google: 1, carddav: 1 } };

test("an end state where every edit arrived and the sides agree passes every check", () => {
  const model = modelOf(["S0001", "S0002"]);
  const p = model.persons.get("S0001");
  model.setField(p, "google", "jobTitle", "Directrice", 2);
  model.changeList(p, "carddav", "emails", ["marie.S0001@exemple.fr"], ["Marie.Nouvelle@Exemple.fr"], 3);
  const now = { ...base("S0001"), jobTitle: "Directrice", emails: ["marie.nouvelle@exemple.fr"], phones: ["06 12 34 56 78"] };
  const result = checkEndState({ model, sides: world({ S0001: now, S0002: base("S0002") }), quiet });
  assert.deepEqual(result.violations, []);
});

test("a planted duplicate is caught, by soak id and by e-mail", () => {
  const model = modelOf(["S0001"]);
  const sides = world({ S0001: base("S0001") });
  sides.google.push({ ...sides.google[0], key: "google-copy" });
  assert.deepEqual(codes(checkEndState({ model, sides })), ["DUPLICATE", "DUPLICATE_EMAIL"]);
});

test("a planted lost edit is caught with the edit it lost, unless a conflict recorded it as the loser", () => {
  const model = modelOf(["S0001"]);
  const p = model.persons.get("S0001");
  model.setField(p, "crm", "company", "Dupont, Fils & Cie", 2);
  model.setField(p, "google", "company", "Café de la Gare", 2);
  const sides = world({ S0001: { ...base("S0001"), company: "Dupont, Fils & Cie" } });
  const lost = checkEndState({ model, sides });
  assert.deepEqual(codes(lost), ["LOST_EDIT"]);
  assert.match(lost.violations[0].expected, /Café de la Gare.*google.*round 2/);
  assert.match(lost.violations[0].found, /Dupont, Fils & Cie/);
  assert.equal(lost.violations[0].history.edits.length, 2, "the person's history goes with it");

  const conflict = { crmId: "c7", field: "company", crmValue: "Dupont, Fils & Cie", remoteValue: "Café de la Gare", kept: "crm", rule: "newest" };
  const recorded = checkEndState({ model, sides, reports: [{ spokeId: "google", conflicts: [conflict] }], crmIdOwner: new Map([["c7", "S0001"]]) });
  assert.deepEqual(recorded.violations, []);
});

test("sides that disagree, a removed e-mail back, and a changed note are each caught", () => {
  const model = modelOf(["S0001"]);
  const p = model.persons.get("S0001");
  model.changeList(p, "crm", "emails", ["marie.S0001@exemple.fr"], ["marie.new@exemple.fr"], 2);
  const sides = world({ S0001: { ...base("S0001"), emails: ["marie.new@exemple.fr", "marie.S0001@exemple.fr"] } }, {
    carddav: { S0001: { emails: ["marie.new@exemple.fr"], firstName: "Marie-Anne", notes: "soak:S0001 — seeded" } },
  });
  const result = checkEndState({ model, sides });
  assert.deepEqual(codes(result), ["LIST_MISMATCH", "LOST_EDIT", "NOTE_CHANGED", "NOT_CONVERGED"]);
  assert.equal(result.violations.find((v) => v.code === "LIST_MISMATCH").side, "crm+google", "one violation for the sides that hold the same wrong list");
});

test("a deletion sticks unless another side edited the person meanwhile", () => {
  const model = modelOf(["S0001", "S0002"]);
  model.deletePerson(model.persons.get("S0001"), "google", 4);
  const two = model.persons.get("S0002");
  model.deletePerson(two, "crm", 4);
  model.setField(two, "carddav", "jobTitle", "Comptable", 4);
  const back = checkEndState({ model, sides: world({ S0001: base("S0001") }) });
  assert.deepEqual(codes(back), ["RESURRECTED", "RESURRECTED", "RESURRECTED", ...Array(3).fill("MISSING")].sort());
  const right = checkEndState({ model, sides: world({ S0002: { ...base("S0002"), jobTitle: "Comptable" } }) });
  assert.deepEqual(right.violations, []);
});

test("two strangers sharing a phone merged into one record is STRANGERS_MERGED, once per pair", () => {
  const model = new SoakModel();
  model.addPerson({ id: "S0001", fields: base("S0001"), sides: ["crm"], stranger: "S0002" });
  model.addPerson({ id: "S0002", fields: base("S0002", { firstName: "Paul", lastName: "Benali" }), sides: ["google"], stranger: "S0001" });
  const mergedRecord = { ...base("S0001"), emails: ["marie.S0001@exemple.fr", "marie.S0002@exemple.fr"] };
  const result = checkEndState({ model, sides: world({ S0001: mergedRecord }) });
  assert.deepEqual(codes(result), ["STRANGERS_MERGED"]);
  assert.equal(result.violations[0].side, "crm+google+carddav");
  model.mergesSeen.set("S0001+S0002", 5);
  const hidden = checkEndState({ model, sides: world({ S0002: base("S0002", { firstName: "Paul", lastName: "Benali" }) }) });
  assert.deepEqual(codes(hidden), ["STRANGERS_MERGED"], "a merge seen at a round and hidden since is still the merge, not a missing person");
  assert.match(hidden.violations[0].found, /round 5/);
  model.mergesSeen.clear();
  const held = checkEndState({ model, sides: world({ S0001: base("S0001") }), openAmbiguities: [{ key: "+33612345678" }] });
  assert.deepEqual(held.violations, [], "kept apart and held by an open ambiguity is no violation");
  assert.equal(held.held.length, 3);
});

test("a last run that writes, fails or costs more than one request per spoke is caught", () => {
  const model = modelOf(["S0001"]);
  const sides = world({ S0001: base("S0001") });
  const noisy = { lastRunWrites: { crm: 0, google: 2, carddav: 0 }, lastRunOutcomes: ["ok", "carddav:partial (NETWORK)"], extraRunRequests: { google: 1, carddav: 2 } };
  assert.deepEqual(codes(checkEndState({ model, sides, quiet: noisy })), ["EXTRA_REQUESTS", "NOT_QUIET", "NOT_QUIET"]);
  const internal = checkEndState({ model, sides, reports: [{ spokeId: "carddav", errors: [{ code: "INTERNAL", message: "a bug" }] }] });
  assert.deepEqual(codes(internal), ["INTERNAL_ERROR"]);
});

test("a record the soak never made is reported", () => {
  const model = modelOf(["S0001"]);
  const sides = world({ S0001: base("S0001") });
  sides.crm.push({ side: "crm", key: "c99", version: 1, soakId: null, fields: { ...base("S9"), notes: "", emails: [] } });
  assert.deepEqual(codes(checkEndState({ model, sides })), ["UNKNOWN_RECORD"]);
});

test("a card edited by the soak changes only the edited properties and keeps every other line", () => {
  const card = `${newCard({ uid: "u1", firstName: "Zoé", lastName: "Dupont", company: "Dupont, Fils & Cie", department: "R&D; Paris", emails: ["z@x.fr"], phones: ["06 12 34 56 78"], notes: "soak:S0001 — a, b; c" })
    .replace("END:VCARD", "X-CRM-ID:c12\r\nTEL;TYPE=WORK:+33 1 45 67 89 10\r\nEND:VCARD")}`;
  const read = readCard(card);
  assert.deepEqual([read.company, read.department, read.notes], ["Dupont, Fils & Cie", "R&D; Paris", "soak:S0001 — a, b; c"]);
  const edited = editCard(card, { jobTitle: "Gérante", phones: ["+33 1 45 67 89 10", "07 00 00 00 01"], company: "Café de la Gare" });
  const after = readCard(edited);
  assert.deepEqual(after, { ...read, jobTitle: "Gérante", phones: ["+33 1 45 67 89 10", "07 00 00 00 01"], company: "Café de la Gare" });
  assert.match(edited, /X-CRM-ID:c12\r\n/);
  assert.match(edited, /TEL;TYPE=WORK:\+33 1 45 67 89 10\r\n/, "a kept value keeps its line and parameters");
  const folded = card.replace("NOTE:soak:S0001", "NOTE:soak:S00\r\n 01");
  assert.equal(readCard(folded).notes, read.notes, "folded lines are read unfolded");
});
