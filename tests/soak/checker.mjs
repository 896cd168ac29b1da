// The soak's end-state checks, as a pure function of what the soak did (the model), what
// every side holds at the end, the run reports and the last runs' costs. Each violation
// names its check, the person, the side and field, what was expected and what was found.
//
// Checks (codes):
//   DUPLICATE          a person more than once on a side (by soak id)
//   DUPLICATE_EMAIL    one e-mail address on two records of a side
//   MISSING            a living person absent from a side
//   RESURRECTED        a person deleted (and not edited elsewhere meanwhile) is back
//   STRANGERS_MERGED   two different people who share only a phone number became one record
//   MERGED_PEOPLE      one record carries the e-mails of two people (not a stranger pair)
//   UNKNOWN_RECORD     a record the soak never made (no soak id, or an unknown one)
//   LOST_EDIT          a field's last edit is not there and no conflict recorded it as the loser
//   LIST_MISMATCH      e-mails / phones differ from the soak's additions and removals
//   NOTE_CHANGED       the note (which nobody edits) is not the one seeded
//   NOT_CONVERGED      the sides disagree on a field
//   NOT_QUIET          the last run wrote something, or did not end ok
//   EXTRA_REQUESTS     one more run cost more than one request on a spoke
//   INTERNAL_ERROR     a run reported an INTERNAL error (a bug by its own account)
import { normalize, normalizeList, SoakModel } from "./model.mjs";
import { LIST_FIELDS, SIDES, TEXT_FIELDS } from "./sides.mjs";

const show = (v) => JSON.stringify(v);

function loserIndex(reports, crmIdOwner) {
  const losers = new Set();
  for (const report of reports) {
    for (const c of report.conflicts ?? []) {
      const owner = crmIdOwner.get(c.crmId);
      const lost = c.kept === "crm" ? c.remoteValue : c.crmValue;
      if (owner && typeof lost === "string") losers.add(`${owner}|${c.field}|${normalize.text(lost)}`);
    }
  }
  return losers;
}

/** Which persons an e-mail address belongs to in the soak's model (every address it ever had). */
function emailOwners(model) {
  const owners = new Map();
  for (const p of model.persons.values()) {
    const all = [...(p.initial.emails ?? []), ...p.edits.filter((e) => e.field === "emails").flatMap((e) => e.added)];
    for (const e of all) owners.set(normalize.email(e), p.id);
  }
  return owners;
}

/**
 * Records holding the e-mails of two people: pair ("S0001+S0002") → [{side, record}]. The
 * soak looks at every round (`model.mergesSeen`), so that a merge later hidden (the absorbed
 * address removed, the record deleted) still names the people it took.
 */
export function mergedPairs(model, sides) {
  const owners = emailOwners(model);
  const pairs = new Map();
  for (const side of SIDES) {
    for (const r of sides[side] ?? []) {
      const people = new Set(r.fields.emails.map((e) => owners.get(normalize.email(e))).filter(Boolean));
      people.delete(r.soakId);
      for (const other of people) {
        const pair = [r.soakId, other].sort().join("+");
        pairs.set(pair, [...(pairs.get(pair) ?? []), { side, record: r }]);
      }
    }
  }
  return pairs;
}

/**
 * @param {{model: SoakModel, sides: Record<string, object[]>, reports?: object[], crmIdOwner?: Map<string, string>,
 *   openAmbiguities?: object[], quiet?: {lastRunWrites: Record<string, number>, lastRunOutcomes: string[],
 *   extraRunRequests: Record<string, number>, extraRunRequestKinds?: Record<string, object>}}} input
 * @returns {{violations: object[], held: string[]}} held: people an open ambiguity keeps off a side
 */
export function checkEndState({ model, sides, reports = [], crmIdOwner = new Map(), openAmbiguities = [], quiet }) {
  const violations = [];
  const held = [];
  const add = (code, fields) => {
    const person = model.persons.get(fields.person);
    // The person's history goes with the violation (result.json), to reduce it to a repro.
    const history = person && { how: person.how, sides: person.sides, deletion: person.deletion, edits: person.edits };
    violations.push({ code, ...fields, ...(history ? { history } : {}) });
  };
  const losers = loserIndex(reports, crmIdOwner);
  const ambiguousKeys = new Set(openAmbiguities.map((a) => a.key));

  // Records by soak id, per side; records that are nobody's.
  const bySide = {};
  for (const side of SIDES) {
    bySide[side] = new Map();
    for (const r of sides[side] ?? []) {
      if (!r.soakId || !model.persons.has(r.soakId)) {
        add("UNKNOWN_RECORD", { side, found: `${r.key}: ${show(r.fields)}` });
        continue;
      }
      bySide[side].set(r.soakId, [...(bySide[side].get(r.soakId) ?? []), r]);
    }
    // One address, one record.
    const seen = new Map();
    for (const r of sides[side] ?? []) {
      for (const e of new Set(r.fields.emails.map(normalize.email))) {
        if (seen.has(e)) add("DUPLICATE_EMAIL", { side, expected: `${e} on one record`, found: `on ${seen.get(e)} and ${r.key} (${r.soakId})` });
        else seen.set(e, `${r.key} (${r.soakId})`);
      }
    }
  }
  // Two people in one record, now or at any round before: one violation a pair, and neither
  // person's other checks (they would only repeat it).
  const merged = new Set();
  const pairs = mergedPairs(model, sides);
  for (const [pair, round] of model.mergesSeen) if (!pairs.has(pair)) pairs.set(pair, round);
  for (const [pair, found] of pairs) {
    const [a, b] = pair.split("+");
    merged.add(a).add(b);
    const stranger = model.persons.get(a)?.stranger === b;
    add(stranger ? "STRANGERS_MERGED" : "MERGED_PEOPLE", {
      person: pair, side: Array.isArray(found) ? found.map((f) => f.side).join("+") : undefined,
      expected: stranger ? "two records (they share only a phone number)" : "two records",
      found: Array.isArray(found)
        ? found.map((f) => `one record ${f.record.key} with the e-mails ${show(f.record.fields.emails)}`).join("; ")
        : `one record from round ${found} on (no longer visible at the end: the other's address was removed or the record deleted)`,
    });
  }

  for (const person of model.persons.values()) {
    const alive = SoakModel.alive(person);
    const found = Object.fromEntries(SIDES.map((s) => [s, bySide[s].get(person.id) ?? []]));
    if (merged.has(person.id)) continue;
    if (!alive) {
      for (const side of SIDES) {
        if (found[side].length) add("RESURRECTED", { person: person.id, side, expected: `deleted on ${person.deletion.side} in round ${person.deletion.round}, untouched elsewhere`, found: found[side][0].key });
      }
      continue;
    }
    for (const side of SIDES) {
      if (found[side].length > 1) add("DUPLICATE", { person: person.id, side, expected: "one record", found: found[side].map((r) => r.key).join(", ") });
      if (found[side].length === 0) {
        const keys = [...normalizeList("emails", SoakModel.expectedList(person, "emails")), ...normalizeList("phones", SoakModel.expectedList(person, "phones"))];
        const heldBy = keys.find((k) => ambiguousKeys.has(k));
        if (person.stranger && heldBy) {
          held.push(`${person.id} held on ${side}: an open ambiguity on ${heldBy} waits for the operator`);
        } else if (person.stranger && (bySide[side].get(person.stranger) ?? []).length > 0) {
          add("STRANGERS_MERGED", { person: person.id, side, expected: `${person.id} and ${person.stranger} as two records (they share only a phone number)`, found: `only ${person.stranger}` });
        } else {
          add("MISSING", { person: person.id, side, expected: `present (${person.how} on ${person.sides.join("+")} in round ${person.bornRound}${person.deletion ? `; deleted on ${person.deletion.side} but edited elsewhere` : ""})`, found: "absent" });
        }
      }
    }
    const records = SIDES.map((s) => found[s][0]).filter(Boolean);
    if (!records.length) continue;

    for (const field of TEXT_FIELDS) {
      const values = Object.fromEntries(records.map((r) => [r.side, normalize.text(r.fields[field])]));
      if (new Set(Object.values(values)).size > 1) add("NOT_CONVERGED", { person: person.id, field, expected: "the same value on every side", found: show(values) });
      const edits = SoakModel.editsOf(person, field);
      const last = edits[edits.length - 1];
      const expected = normalize.text(last ? last.value : person.initial[field]);
      const wrong = Object.entries(values).filter(([, v]) => v !== expected);
      if (!wrong.length) continue;
      if (!last) {
        add("LOST_EDIT", { person: person.id, field, expected: `${show(expected)} (as seeded, never edited)`, found: show(Object.fromEntries(wrong)) });
      } else if (losers.has(`${person.id}|${field}|${expected}`)) {
        const known = SoakModel.knownValues(person, field);
        const unknown = wrong.filter(([, v]) => !known.includes(v));
        if (unknown.length) add("LOST_EDIT", { person: person.id, field, expected: `one of the edits ${show(known)} (the last lost a recorded conflict)`, found: show(Object.fromEntries(unknown)) });
      } else {
        add("LOST_EDIT", {
          person: person.id, field,
          expected: `${show(last.value)} (edited on ${last.side} in round ${last.round}, #${last.seq}; no conflict recorded it as the loser)`,
          found: show(Object.fromEntries(wrong)),
        });
      }
    }
    for (const field of LIST_FIELDS) {
      const expected = SoakModel.expectedList(person, field);
      // Sides holding the same wrong list make one violation.
      const wrong = new Map();
      for (const r of records) {
        const got = normalizeList(field, r.fields[field]);
        if (show(got) !== show(expected)) wrong.set(show(got), [...(wrong.get(show(got)) ?? []), r.side]);
      }
      for (const [text, where] of wrong) {
        const got = JSON.parse(text);
        const missing = expected.filter((v) => !got.includes(v));
        const extra = got.filter((v) => !expected.includes(v));
        add("LIST_MISMATCH", { person: person.id, side: where.join("+"), field, expected: show(expected), found: `${text} (missing ${show(missing)}, unexpected ${show(extra)})` });
      }
    }
    for (const r of records) {
      if (normalize.text(r.fields.notes) !== normalize.text(person.initial.notes)) {
        add("NOTE_CHANGED", { person: person.id, side: r.side, field: "notes", expected: show(person.initial.notes), found: show(r.fields.notes) });
      }
    }
  }

  const internal = new Map();
  for (const report of reports) {
    for (const e of report.errors ?? []) {
      if (e.code === "INTERNAL") internal.set(`${report.spokeId}: ${e.message}`, (internal.get(`${report.spokeId}: ${e.message}`) ?? 0) + 1);
    }
  }
  for (const [what, n] of internal) add("INTERNAL_ERROR", { side: what.split(":")[0], expected: "no INTERNAL error in any run", found: `${n}× "${what.slice(what.indexOf(":") + 2)}"` });

  if (quiet) {
    const wrote = Object.entries(quiet.lastRunWrites).filter(([, n]) => n > 0);
    if (wrote.length) add("NOT_QUIET", { expected: "the last run writes nothing", found: `writes ${show(Object.fromEntries(wrote))}` });
    const bad = quiet.lastRunOutcomes.filter((o) => o !== "ok");
    if (bad.length) add("NOT_QUIET", { expected: "the last run ends ok on every spoke", found: show(quiet.lastRunOutcomes) });
    for (const [spoke, n] of Object.entries(quiet.extraRunRequests)) {
      if (n !== 1) add("EXTRA_REQUESTS", { side: spoke, expected: "one more run costs one request", found: `${n} requests ${show(quiet.extraRunRequestKinds?.[spoke] ?? {})}` });
    }
  }
  return { violations, held };
}
