// What the soak writes: the seeded people (overlapping by e-mail across the three sides, a few
// strangers sharing a phone number), and each round's edits as users make them. Values are
// the kind people type: accents (some in NFD, as macOS clients write them), commas and
// semicolons in company names, e-mails in mixed case, phones in every French format.
import { normalize, SoakModel } from "./model.mjs";
import { LIST_FIELDS, SIDES, TEXT_FIELDS } from "./sides.mjs";

const GIVEN = ["Marie", "Hélène", "Karim", "Anne", "Paul", "Zoé", "François", "Léa", "Jean-Baptiste", "Chloé", "Mathis", "Inès", "Noël", "Amélie",
  "Yasmine", "Loïc", "Sébastien", "Camille", "Océane", "Bjørn", "Ana", "Siobhán", "Thibault", "Maëlle", "Hugo", "Aurélie", "Cédric", "Élodie"];
const FAMILY = ["Dupont", "Garnier", "Benali", "Lemoine", "Fontaine", "Müller", "O'Brien", "Nguyễn", "Lefèvre", "Da Silva", "Rousseau", "Bønsdorff",
  "Girard", "Moreau", "Chevalier", "Perrin", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Roux", "Vincent", "Morel", "Gauthier"];
const COMPANY = ["Boulangeries Dupont", "Atelier Garnier", "Benali Transport", "Lemoine Architectes", "Fontaine Bio", "Dupont, Fils & Cie",
  "Café de la Gare", "L'Épicerie fine", "Menuiserie Roux; Bois", "Agence Éclair", "Transports Perrin SARL", "Cabinet Mercier, avocats",
  "Ferme du Moulin", "Imprimerie Blanc", "Garage Vincent", "Studio Morel", "Clinique Vétérinaire Faure", "Librairie Guérin", "Éditions Boyer"];
const TITLE = ["Gérante", "Directeur commercial", "Responsable achats", "Comptable", "Chef de projet", "Assistante de direction", "CEO",
  "Office manager", "Technicien SAV", "Directrice financière", "Commercial terrain", "Responsable RH", "Artisan", "Fondatrice"];
const DEPARTMENT = ["Ventes", "Achats", "Comptabilité", "Direction", "Ventes, Export", "R&D; Paris", "Logistique", "Service client", "Atelier", "Marketing"];
const DOMAINS = ["exemple.fr", "boulangeries-dupont.fr", "atelier-garnier.fr", "example.com", "poste.net", "entreprise.fr"];

/** The share of people starting on each combination of sides (the rest of a hundred: CRM only). */
const PLACEMENT = [[["google"], 12], [["carddav"], 10], [["crm", "google"], 18], [["crm", "carddav"], 12], [["google", "carddav"], 5], [["crm", "google", "carddav"], 8]];

function slug(text) {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/ø/g, "o").replace(/æ/g, "ae").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

/** Unique e-mail addresses and phone numbers for the whole soak. */
export function valueSource(rng) {
  let emails = 0;
  let phones = 0;
  return {
    email(first, last) {
      emails += 1;
      return `${slug(first)}.${slug(last)}.${emails}@${rng.pick(DOMAINS)}`;
    },
    /** A French mobile number, unique, as +33 6 xx xx xx xx. */
    phone() {
      phones += 1;
      const n = String(10_000_000 + phones * 7919).slice(-8);
      return `+33 6 ${n.slice(0, 2)} ${n.slice(2, 4)} ${n.slice(4, 6)} ${n.slice(6, 8)}`;
    },
  };
}

/** One number written as people on each side type it. */
export function phoneAsTyped(rng, e164) {
  const digits = normalize.phone(e164).slice(3);
  const pairs = `0${digits}`.match(/../g);
  return rng.pick([`${pairs.join(" ")}`, `+33 ${digits[0]} ${pairs.slice(1).join(" ")}`, `+33${digits}`, `${pairs.join(".")}`, `0033 ${digits}`]);
}

/** A side's spelling of an e-mail address (as typed: some in mixed case). */
function emailAsTyped(rng, email) {
  return rng.chance(0.2) ? email.replace(/^(.)/, (c) => c.toUpperCase()).replace(/@(.)/, (m) => m.toUpperCase()) : email;
}

/** Text as a side writes it: NFD on some CardDAV cards. */
function textAsTyped(rng, side, text) {
  return side === "carddav" && rng.chance(0.2) ? text.normalize("NFD") : text;
}

/** The fields a side holds for a person, written as that side's users type them. */
export function asTyped(rng, side, fields) {
  const out = {};
  for (const k of TEXT_FIELDS) if (fields[k]) out[k] = textAsTyped(rng, side, fields[k]);
  out.emails = (fields.emails ?? []).map((e) => emailAsTyped(rng, e));
  out.phones = (fields.phones ?? []).map((p) => phoneAsTyped(rng, p));
  out.notes = fields.notes;
  return out;
}

function newPersonFields(rng, values, id, where) {
  const firstName = rng.pick(GIVEN);
  const lastName = rng.pick(FAMILY);
  const fields = { firstName, lastName, emails: [values.email(firstName, lastName)], phones: rng.chance(0.7) ? [values.phone()] : [], notes: `soak:${id} — ${where}, edited by the soak; do not edit this line` };
  if (rng.chance(0.8)) fields.company = rng.pick(COMPANY);
  if (rng.chance(0.6)) fields.jobTitle = rng.pick(TITLE);
  if (rng.chance(0.3)) fields.department = rng.pick(DEPARTMENT);
  return fields;
}

/**
 * The people the soak starts with: `count` people placed on one, two or three sides (the same
 * e-mail wherever they are, so the first sync links them), plus `strangerPairs` pairs of
 * different people on different sides who share one phone number and nothing else.
 * @returns {{people: {person: object, fields: object}[]}} added to `model`
 */
export function seedPeople({ rng, model, values, count, strangerPairs }) {
  const placements = PLACEMENT.flatMap(([sides, share]) => Array(share).fill(sides));
  while (placements.length < 100) placements.push(["crm"]);
  const out = [];
  for (let i = 0; i < count; i++) {
    const id = model.newId();
    const sides = rng.pick(placements);
    const fields = newPersonFields(rng, values, id, `seeded on ${sides.join(", ")}`);
    out.push({ person: model.addPerson({ id, fields, sides }), fields });
  }
  const pairSides = [["crm", "google"], ["crm", "carddav"], ["google", "carddav"]];
  for (let i = 0; i < strangerPairs; i++) {
    const [sideA, sideB] = pairSides[i % pairSides.length];
    const shared = values.phone();
    const a = model.newId();
    const b = model.newId();
    const fa = { ...newPersonFields(rng, values, a, `seeded on ${sideA}, shares a switchboard number with ${b}`), phones: [shared] };
    const fb = { ...newPersonFields(rng, values, b, `seeded on ${sideB}, shares a switchboard number with ${a}`), phones: [shared] };
    fb.lastName = FAMILY[(FAMILY.indexOf(fa.lastName) + 1) % FAMILY.length];
    out.push({ person: model.addPerson({ id: a, fields: fa, sides: [sideA], stranger: b }), fields: fa });
    out.push({ person: model.addPerson({ id: b, fields: fb, sides: [sideB], stranger: a }), fields: fb });
  }
  return out;
}

// ---------- a round's edits ----------

/** A value for `field` this person never had (so a conflict's loser is known by its value). */
function freshText(rng, person, field) {
  const pool = { firstName: GIVEN, lastName: FAMILY, company: COMPANY, jobTitle: TITLE, department: DEPARTMENT }[field];
  const known = new Set(SoakModel.knownValues(person, field));
  for (let i = 0; i < 8; i++) {
    const v = rng.pick(pool);
    if (!known.has(normalize.text(v))) return v;
  }
  let n = 2;
  while (known.has(normalize.text(`${pool[0]} ${n}`))) n += 1;
  return `${pool[0]} ${n}`;
}

function converged(records) {
  const [first, ...rest] = records;
  const same = (a, b) => TEXT_FIELDS.every((f) => normalize.text(a.fields[f]) === normalize.text(b.fields[f]))
    && LIST_FIELDS.every((f) => JSON.stringify(normalizeListOf(f, a)) === JSON.stringify(normalizeListOf(f, b)));
  return rest.every((r) => same(first, r));
}
const normalizeListOf = (field, r) => [...new Set(r.fields[field].map(field === "emails" ? normalize.email : normalize.phone))].sort();

const ACTIONS = [["single", 40], ["twoFields", 12], ["conflict", 12], ["email", 12], ["phone", 8], ["create", 8], ["delete", 8]];

/**
 * This round's actions, from what each side holds now (`bySide[side]`: soak id → records).
 * Each person gets at most one action a round; a deleted person gets none afterwards. A
 * matching key (e-mail, phone) changes, and a deletion happens, only once the person is
 * `linked` on both spokes: before its first match a spoke has no link to keep, so a key
 * changed meanwhile would leave two people (a first match is by key; see docs/robustness.md).
 * @returns {object[]} {kind: "update", person, side, changes} | {kind: "delete", person, side}
 *   | {kind: "create", id, sides, fields}
 */
export function planRound({ rng, model, values, bySide, linked, round, actions }) {
  const everywhere = [...model.persons.values()].filter((p) => !p.frozen && SIDES.every((s) => bySide[s].get(p.id)?.length === 1));
  const touched = new Set();
  const pickPerson = (filter = () => true) => {
    const candidates = everywhere.filter((p) => !touched.has(p.id) && filter(p));
    if (!candidates.length) return null;
    const p = rng.pick(candidates);
    touched.add(p.id);
    return p;
  };
  const twoSides = () => {
    const a = rng.pick(SIDES);
    return [a, rng.pick(SIDES.filter((s) => s !== a))];
  };
  const recordOf = (p, side) => bySide[side].get(p.id)[0];
  const textEdit = (p, side, field) => ({ kind: "update", person: p, side, field, changes: { [field]: textAsTyped(rng, side, freshText(rng, p, field)) } });
  const weighted = ACTIONS.flatMap(([k, w]) => Array(w).fill(k));
  const out = [];
  for (let i = 0; i < actions; i++) {
    const kind = rng.pick(weighted);
    if (kind === "create") {
      const id = model.newId();
      const sides = rng.chance(0.1) ? twoSides() : [rng.pick(SIDES)];
      out.push({ kind: "create", id, sides, fields: newPersonFields(rng, values, id, `created on ${sides.join(" and ")} in round ${round}`) });
      continue;
    }
    if (kind === "delete") {
      const p = pickPerson((q) => linked.has(q.id) && converged(SIDES.map((s) => recordOf(q, s))));
      if (!p) continue;
      const [side, other] = twoSides();
      out.push({ kind: "delete", person: p, side });
      // Half the time someone edits the person elsewhere before the deletion has reached them.
      if (rng.chance(0.5)) out.push(textEdit(p, other, rng.pick(TEXT_FIELDS)));
      continue;
    }
    const p = pickPerson((q) => kind !== "email" && kind !== "phone" || linked.has(q.id));
    if (!p) continue;
    if (kind === "single") {
      out.push(textEdit(p, rng.pick(SIDES), rng.pick(TEXT_FIELDS)));
    } else if (kind === "twoFields") {
      const [a, b] = twoSides();
      const f = rng.pick(TEXT_FIELDS);
      out.push(textEdit(p, a, f), textEdit(p, b, rng.pick(TEXT_FIELDS.filter((x) => x !== f))));
    } else if (kind === "conflict") {
      const [a, b] = twoSides();
      const f = rng.pick(TEXT_FIELDS);
      const first = textEdit(p, a, f);
      out.push(first);
      // The second side's value differs from the first's and from every earlier one.
      let v = freshText(rng, p, f);
      for (let n = 0; normalize.text(v) === normalize.text(first.changes[f]) && n < 8; n++) v = freshText(rng, p, f);
      if (normalize.text(v) !== normalize.text(first.changes[f])) out.push({ kind: "update", person: p, side: b, field: f, changes: { [f]: v } });
    } else {
      const field = kind === "email" ? "emails" : "phones";
      const side = rng.pick(SIDES);
      const current = recordOf(p, side).fields[field];
      const fresh = field === "emails" ? emailAsTyped(rng, values.email(p.initial.firstName, p.initial.lastName)) : phoneAsTyped(rng, values.phone());
      // Replace one value (an address change), or add one.
      const removed = current.length && rng.chance(0.7) ? [rng.pick(current)] : [];
      out.push({ kind: "update", person: p, side, field, removed, added: [fresh], changes: { [field]: [...current.filter((v) => !removed.includes(v)), fresh] } });
    }
  }
  return out;
}
