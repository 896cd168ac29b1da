// The settings tab's message catalogues: same keys in every language, every key the code
// uses present, every value of the contract's enumerations (error codes, outcomes, field
// types...) given a message, and dates/numbers in the operator's locale.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createI18n } from "../../www/plugin/settings/i18n.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const settingsDir = `${root}www/plugin/settings/`;
const contract = readFileSync(`${root}www/plugin/host-api.d.ts`, "utf8");
const catalogues = Object.fromEntries(["en", "fr"].map((lang) => [lang, JSON.parse(readFileSync(`${root}www/plugin/i18n/${lang}.json`, "utf8"))]));
const sources = readdirSync(settingsDir).filter((f) => f.endsWith(".js")).map((f) => ({ file: f, text: readFileSync(settingsDir + f, "utf8") }));

/** The string members of a union in the contract, e.g. union("ErrorCode") or union("outcome:"). */
function union(name) {
  const at = contract.indexOf(name.endsWith(":") ? name : `type ${name} =`);
  assert.ok(at >= 0, `${name} not found in host-api.d.ts`);
  const rest = contract.slice(at + name.length);
  const end = rest.search(/;/);
  return [...rest.slice(0, end).matchAll(/"([^"]+)"/g)].map((m) => m[1]);
}

/** Keys of the Settings interface: dotted strings in the code that are settings, not messages. */
const settingsKeys = new Set([...contract.slice(contract.indexOf("export interface Settings")).matchAll(/^\s+"([a-z]+\.[A-Za-z]+)":/gm)].map((m) => m[1]));

test("every catalogue has exactly the same keys", () => {
  const en = Object.keys(catalogues.en).sort();
  const fr = Object.keys(catalogues.fr).sort();
  assert.deepEqual(fr.filter((k) => !en.includes(k)), [], "keys only in fr.json");
  assert.deepEqual(en.filter((k) => !fr.includes(k)), [], "keys only in en.json");
});

test("plural messages have the same forms in every language and no message is empty", () => {
  for (const [lang, cat] of Object.entries(catalogues)) {
    for (const [key, value] of Object.entries(cat)) {
      if (typeof value === "object") {
        assert.ok(value.other, `${lang}:${key} lacks the "other" form`);
        assert.equal(typeof catalogues.en[key], "object", `${key} is plural in ${lang} only`);
      } else assert.ok(String(value).trim(), `${lang}:${key} is empty`);
    }
  }
});

test("placeholders are the same in every language", () => {
  const names = (v) => [...JSON.stringify(v).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().filter((x, i, a) => a.indexOf(x) === i);
  for (const key of Object.keys(catalogues.en)) assert.deepEqual(names(catalogues.fr[key]), names(catalogues.en[key]), `placeholders of ${key}`);
});

test("every message key written literally in the settings code exists", () => {
  const missing = [];
  for (const { file, text } of sources) {
    const code = text.replace(/^\s*(\/\/|\*).*$/gm, "");
    for (const m of code.matchAll(/"([a-z][A-Za-z]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)+)"/g)) {
      const key = m[1];
      if (settingsKeys.has(key) || /\.(js|css|json)$/.test(key)) continue;
      if (!(key in catalogues.en)) missing.push(`${file}: ${key}`);
    }
  }
  assert.deepEqual(missing, []);
});

test("every template key in the code has a message for each value it can take", () => {
  const values = {
    "error": union("ErrorCode"),
    "outcome": union("outcome:"),
    "trigger": union("Trigger"),
    "type": union("CrmFieldType"),
    "direction": union("Direction"),
    "priority": union("Priority"),
    "progress": union("phase:"),
    "state": union("state:"),
    "kind": [...(contract.match(/kind: ("google"[^;]*);/)?.[1] ?? "").matchAll(/"([^"]+)"/g)].map((m) => m[1]),
  };
  const expected = [];
  for (const code of values.error) expected.push(`error.${code}`, `error.${code}.remedy`);
  expected.push("error.AUTH_DENIED.testUser", "error.AUTH_DENIED.testUser.remedy", "error.RATE_LIMITED.at", "error.RATE_LIMITED.at.remedy");
  for (const [prefix, list] of Object.entries(values)) if (prefix !== "error") for (const v of list) expected.push(`${prefix}.${v}`);
  for (const side of ["crm", "remote"]) for (const action of ["create", "update", "delete", "link"]) expected.push(`sample.${side}.${action}`);
  for (const s of ["connections", "flows", "fields", "labels", "deletions", "run", "history"]) expected.push(`section.${s}`);
  for (const a of ["reconnect", "retry", "guard", "settings", "refresh"]) expected.push(`action.${a}`);
  for (const step of ["connect", "flows", "fields", "preview", "sync"]) expected.push(`guide.${step}`, `guide.${step}.hint`);
  for (const c of ["crmField", "direction", "remoteField", "priority", "fillEmpty", "actions"]) expected.push(`fields.col.${c}`);
  for (const v of ["keep", "unlink", "delete"]) expected.push(`flows.onLeave.${v}`, `flows.onLeave.${v}.hint`);
  for (const v of ["propagate", "flag", "ignore"]) expected.push(`deletions.${v}`, `deletions.${v}.hint`);
  for (const k of ["lists", "tags"]) expected.push(`flows.${k}.choose`, `flows.${k}.none`, `flows.${k}.pending`);
  for (const k of ["created", "updated", "deleted"]) expected.push(`preview.${k}`);
  for (const k of ["auth", "token", "api", "revoke"]) expected.push(`connections.dev.${k}`);
  for (const n of [1, 2, 3, 4]) expected.push(`connections.ownApp.step${n}`);
  assert.ok(values.error.length >= 17 && values.outcome.includes("guard") && values.type.includes("phone-list") && values.kind.includes("google"), "contract unions were read");
  // Each template in the code must be covered by the list above, so a new one cannot slip by.
  const templates = new Set();
  for (const { text } of sources) for (const m of text.matchAll(/\bt\(`([^`]+)`/g)) templates.add(m[1].replace(/\$\{[^}]+\}/g, "*"));
  for (const pattern of templates) {
    const re = new RegExp(`^${pattern.replace(/[.]/g, "\\.").replace(/\*/g, "[^]+")}$`);
    assert.ok(expected.some((k) => re.test(k)), `template t(\`${pattern}\`) has no expected values listed in this test`);
  }
  const missing = expected.filter((k) => !(k in catalogues.en) || !(k in catalogues.fr));
  assert.deepEqual(missing, []);
});

test("French formats times as 14:45 and dates as 23/11/2026; English keeps its own", () => {
  const at = new Date(2026, 10, 23, 14, 45);
  const fr = createI18n("fr-FR", catalogues.fr);
  assert.equal(fr.time(at), "14:45");
  assert.equal(fr.date(at), "23/11/2026");
  assert.equal(fr.number(1234567), "1 234 567".replace(/ /g, "\u202f"));
  assert.equal(fr.t("run.schedule", { minutes: 15, time: fr.time(at) }), "S'exécute toutes les 15 minutes ; prochaine exécution à 14:45.");
  const en = createI18n("en-US", catalogues.en);
  assert.equal(en.date(at), "11/23/2026");
  assert.equal(en.number(1234567), "1,234,567");
});

test("plural forms follow the language's rules", () => {
  const fr = createI18n("fr-FR", catalogues.fr);
  const en = createI18n("en-GB", catalogues.en);
  assert.match(fr.t("preview.conflicts", { count: 0 }), /^0 conflit \(/);
  assert.match(en.t("preview.conflicts", { count: 0 }), /^0 conflicts/);
  assert.match(en.t("preview.conflicts", { count: 1 }), /^1 conflict \(/);
  assert.match(fr.t("preview.conflicts", { count: 3 }), /^3 conflits/);
});
