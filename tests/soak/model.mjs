// What the soak did, person by person: where each person started, every edit (side, field,
// order), deletions. The checker compares the end state of every side against it. Order is
// the soak's own sequence number: edits are made one at a time, between sync runs.

/** Normal forms used to compare values (the engine's: text NFC trimmed, e-mail case-folded, phone E.164). */
export const normalize = {
  text: (v) => String(v ?? "").normalize("NFC").trim(),
  email: (v) => String(v ?? "").normalize("NFC").trim().toLowerCase(),
  /** The soak writes French numbers only: 06 12 34 56 78, +33 6 12 34 56 78, 0033…, 06.12.34.56.78. */
  phone: (v) => {
    const t = String(v ?? "").trim();
    let digits = t.replace(/[^\d]/g, "");
    if (t.startsWith("+")) return `+${digits}`;
    if (digits.startsWith("00")) return `+${digits.slice(2)}`;
    if (digits.length === 10 && digits.startsWith("0")) digits = `33${digits.slice(1)}`;
    return `+${digits}`;
  },
};
export const normalizeList = (field, values) => [...new Set(values.map(field === "emails" ? normalize.email : normalize.phone))].sort();

export class SoakModel {
  constructor() {
    /** @type {Map<string, object>} soak id → person */
    this.persons = new Map();
    this.seq = 0;
    this.editsBySide = { crm: 0, google: 0, carddav: 0 };
    this.nextId = 1;
    /** Pairs of people seen in one record ("S0001+S0002" → the first round it was seen). */
    this.mergesSeen = new Map();
  }

  newId() {
    return `S${String(this.nextId++).padStart(4, "0")}`;
  }

  /**
   * A person as seeded or created: `fields` (what every side it starts on holds, up to
   * formatting), `sides` where it starts, `stranger` the id of the person it shares a phone with.
   */
  addPerson({ id, fields, sides, round = 0, stranger = null, how = "seeded" }) {
    const person = { id, initial: structuredClone(fields), sides, bornRound: round, stranger, how, edits: [], deletion: null, frozen: false };
    this.persons.set(id, person);
    return person;
  }

  /** A single-valued field set on one side. */
  setField(person, side, field, value, round) {
    person.edits.push({ seq: ++this.seq, round, side, field, op: "set", value });
    this.editsBySide[side] += 1;
  }

  /** Elements removed from and added to a list field on one side. */
  changeList(person, side, field, removed, added, round) {
    person.edits.push({ seq: ++this.seq, round, side, field, op: "list", removed, added });
    this.editsBySide[side] += 1;
  }

  deletePerson(person, side, round) {
    person.deletion = { seq: ++this.seq, round, side };
    person.frozen = true;
    this.editsBySide[side] += 1;
  }

  /**
   * Alive at the end: never deleted, or edited on another side in the deletion's round (edit
   * beats delete). The soak deletes only a person all sides agree on at the start of a round
   * and edits it no more after that round, so an edit elsewhere in that round is exactly an
   * edit the deleting side had not seen.
   */
  static alive(person) {
    const d = person.deletion;
    return !d || person.edits.some((e) => e.side !== d.side && e.round >= d.round);
  }

  /** The edits of one field, in order. */
  static editsOf(person, field) {
    return person.edits.filter((e) => e.field === field);
  }

  /** The expected set of a list field: the initial set, then each removal and addition in order. */
  static expectedList(person, field) {
    const set = new Set(normalizeList(field, person.initial[field] ?? []));
    const norm = field === "emails" ? normalize.email : normalize.phone;
    for (const e of SoakModel.editsOf(person, field)) {
      for (const v of e.removed) set.delete(norm(v));
      for (const v of e.added) set.add(norm(v));
    }
    return [...set].sort();
  }

  /** Every value a text field held in the soak's writes (the initial one first). */
  static knownValues(person, field) {
    return [person.initial[field] ?? "", ...SoakModel.editsOf(person, field).map((e) => e.value)].map(normalize.text);
  }
}
