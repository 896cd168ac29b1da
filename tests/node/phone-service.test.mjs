// The wasm plugin's phone normalization (the engine's fast path over its generated table,
// libphonenumber-js for the rest) against libphonenumber-js's own answers with its full
// ("max") metadata, on generated French, Belgian, Swiss, US and UK numbers written the
// ways people write them, so the two paths cannot silently disagree. Also: the committed
// bundle is what scripts/vendor-phone.mjs makes, and it loads in Node on its own.
// Needs the built wasm (scripts/build.sh).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import parseMax from "libphonenumber-js/max";
import { loadWasm } from "../../www/plugin/load-wasm.js";
import { bundlePath, bundlePhoneService } from "../../scripts/vendor-phone.mjs";

const WASM = new URL("../../www/plugin/pkg/contact_sync_bg.wasm", import.meta.url);

/** A small deterministic generator (xorshift32), so failures reproduce. */
function rng(seed) {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x % n;
  };
}

const digits = (random, n) => Array.from({ length: n }, () => random(10)).join("");
const groups = (s, size, sep) => s.match(new RegExp(`.{1,${size}}`, "g")).join(sep);

/** National significant numbers per country: mobile and fixed-line shapes, some invalid. */
const COUNTRIES = {
  FR: { cc: "33", prefix: "0", make: (r) => ["6", "7", "1", "2", "3", "4", "5", "9"][r(8)] + digits(r, 8), group: 2 },
  BE: { cc: "32", prefix: "0", make: (r) => (r(2) ? "4" + ["7", "8", "9", "6"][r(4)] + digits(r, 7) : ["2", "3", "9"][r(3)] + digits(r, 7)), group: 2 },
  CH: { cc: "41", prefix: "0", make: (r) => ["7", "4", "3", "2"][r(4)] + ["6", "7", "8", "9", "1", "4"][r(6)] + digits(r, 7), group: 3 },
  US: { cc: "1", prefix: "1", make: (r) => String(2 + r(8)) + digits(r, 2) + String(2 + r(8)) + digits(r, 6), group: 3 },
  GB: {
    cc: "44",
    prefix: "0",
    make: (r) => {
      const lead = ["7", "20", "1", "3", "7"][r(5)];
      return lead + digits(r, 10 - lead.length);
    },
    group: 4,
  },
};

/** The ways a national number `nsn` of `country` gets written, dialled from `country`. */
function writings(country, nsn, random) {
  const { cc, prefix, group } = COUNTRIES[country];
  const national = prefix + nsn;
  const forms = [
    national,
    groups(national, group, " "),
    groups(national, group, "."),
    groups(national, group, "-"),
    `+${cc}${nsn}`,
    `+${cc} ${groups(nsn, group, " ")}`,
    ` +${cc}-${groups(nsn, 3, "-")} `,
  ];
  if (country === "US") {
    forms.push(`(${nsn.slice(0, 3)}) ${nsn.slice(3, 6)}-${nsn.slice(6)}`, `1-${nsn.slice(0, 3)}-${nsn.slice(3, 6)}-${nsn.slice(6)}`, `011 ${cc} ${nsn}`);
  } else {
    forms.push(`+${cc} (0)${nsn}`, `00 ${cc} ${groups(nsn, group, " ")}`, `00${cc}${nsn}`);
  }
  forms.push(`${groups(national, group, " ")} ext. ${1 + random(99)}`);
  return forms;
}

function generated() {
  const random = rng(20261124);
  const cases = [];
  for (const country of Object.keys(COUNTRIES)) {
    for (let i = 0; i < 12; i += 1) {
      const nsn = COUNTRIES[country].make(random);
      for (const text of writings(country, nsn, random)) cases.push({ text, region: country });
      // The same number in international form read with another default region.
      cases.push({ text: `+${COUNTRIES[country].cc} ${nsn}`, region: country === "FR" ? "BE" : "FR" });
    }
    // Too short, too long, not a number.
    cases.push({ text: COUNTRIES[country].prefix + digits(random, 3), region: country });
    cases.push({ text: `+${COUNTRIES[country].cc}${digits(random, 14)}`, region: country });
    cases.push({ text: "ask the front desk", region: country });
  }
  return cases;
}

/** libphonenumber-js alone, with its full metadata. */
function reference(text, region) {
  const t = text.trim();
  const number = parseMax(t, t.startsWith("+") ? {} : { defaultCountry: region });
  return {
    e164: number?.number,
    validMobile: Boolean(number?.isValid() && ["MOBILE", "FIXED_LINE_OR_MOBILE"].includes(number.getType())),
  };
}

test("the committed phone bundle is what scripts/vendor-phone.mjs makes", async () => {
  const committed = await readFile(bundlePath, "utf8");
  assert.ok(committed === (await bundlePhoneService()), "www/plugin/vendor/phone.js is stale: run `node scripts/vendor-phone.mjs` and commit it");
});

test("the phone bundle loads in Node on its own and never throws", async () => {
  const phone = await import("../../www/plugin/vendor/phone.js");
  assert.equal(phone.phoneE164("06 12 34 56 78", "FR"), "+33612345678");
  assert.equal(phone.phoneE164("+33 6 12 34 56 78", undefined), "+33612345678");
  assert.equal(phone.phoneIsValidMobile("06 12 34 56 78", "FR"), true);
  assert.equal(phone.phoneIsValidMobile("01 42 68 53 00", "FR"), false);
  for (const [text, region] of [["", "FR"], ["not a number", "FR"], ["06", "ZZ"], [null, null], [{}, 3]]) {
    assert.equal(phone.phoneE164(text, region), undefined);
    assert.equal(phone.phoneIsValidMobile(text, region), false);
  }
});

test("the wasm plugin's E.164 and 'valid mobile' agree with libphonenumber-js on generated numbers", async () => {
  const glue = await loadWasm(WASM);
  const cases = generated();
  assert.ok(cases.length >= 400, `${cases.length} cases`);
  const disagreements = [];
  let parsed = 0;
  let mobiles = 0;
  for (const { text, region } of cases) {
    const ours = glue.normalizePhone(text, region);
    const theirs = reference(text, region);
    // libphonenumber-js parses the number: the plugin gives the same E.164; it does not:
    // the plugin keeps its stable `~` form.
    const expected = theirs.e164 ?? "~";
    if (theirs.e164 ? ours !== expected : !ours.startsWith("~")) disagreements.push(`${JSON.stringify(text)} in ${region}: plugin ${ours}, libphonenumber-js ${expected}`);
    if (glue.normalizePhone(ours, region) !== ours) disagreements.push(`${JSON.stringify(text)} in ${region}: ${ours} is not a fixed point`);
    const validMobile = glue.isValidMobilePhone(text, region);
    if (validMobile !== theirs.validMobile) disagreements.push(`${JSON.stringify(text)} in ${region}: valid mobile ${validMobile}, libphonenumber-js ${theirs.validMobile}`);
    if (theirs.e164) parsed += 1;
    if (validMobile) mobiles += 1;
  }
  assert.deepEqual(disagreements, []);
  // The generator does exercise both answers.
  assert.ok(parsed > cases.length * 0.8, `${parsed} of ${cases.length} parsed`);
  assert.ok(mobiles > cases.length * 0.2 && mobiles < cases.length * 0.8, `${mobiles} of ${cases.length} valid mobiles`);
});
