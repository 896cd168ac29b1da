// The settings tab's pure rules, without a browser: which field pairings are refused,
// how errors are named and cleaned of tokens and stack traces, how the emulator announced
// by the development server becomes spoke endpoints.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mappingProblem } from "../../www/plugin/settings/fields.js";
import { describe as describeError, redact } from "../../www/plugin/settings/errors.js";
import { emulatorConfig, clientSecretName } from "../../www/plugin/settings/connections.js";
import { createI18n } from "../../www/plugin/settings/i18n.js";

const fr = createI18n("fr-FR", JSON.parse(readFileSync(new URL("../../www/plugin/i18n/fr.json", import.meta.url), "utf8")));
const f = (type, extra = {}) => ({ id: type, label: type, type, ...extra });

test("pairings of the same kind are accepted, text-like types pair with each other", () => {
  assert.equal(mappingProblem(f("email-list"), f("email-list"), "both"), null);
  assert.equal(mappingProblem(f("text"), f("longtext"), "both"), null);
  assert.equal(mappingProblem(f("url"), f("text"), "toCrm"), null);
});

test("numbers pair with text; dates and users pair only with their own kind (as the plugin checks)", () => {
  assert.equal(mappingProblem(f("number"), f("text"), "toCrm"), null);
  assert.equal(mappingProblem(f("date"), f("text"), "toRemote"), "mismatch");
  assert.equal(mappingProblem(f("user"), f("text"), "toRemote"), "mismatch");
  assert.equal(mappingProblem(f("user"), f("user"), "both"), null);
});

test("work details fill a CRM text, from the address book only", () => {
  const work = { id: "workDetails", label: "Work details", type: "longtext" };
  assert.equal(mappingProblem(f("longtext"), work, "toCrm"), null);
  assert.equal(mappingProblem(f("longtext"), work, "both"), "workDetails");
  assert.equal(mappingProblem(f("date"), work, "toCrm"), "mismatch");
});

test("lists of different things never pair, in any direction", () => {
  for (const direction of ["both", "toRemote", "toCrm"]) {
    assert.equal(mappingProblem(f("date"), f("email-list"), direction), "mismatch");
    assert.equal(mappingProblem(f("phone-list"), f("email-list"), direction), "mismatch");
  }
});

test("a read-only CRM field can only flow out or not at all", () => {
  const owner = f("user", { readOnly: true });
  assert.equal(mappingProblem(owner, f("user"), "both"), "readOnly");
  assert.equal(mappingProblem(owner, f("user"), "toCrm"), "readOnly");
  assert.equal(mappingProblem(owner, f("user"), "toRemote"), null);
});

test("tokens, codes and stack traces are cut from any detail shown", () => {
  const shown = redact("invalid_grant for Bearer ya29.a0AfH6SMBxSECRETtokenVALUE12345678901234 code=4/0AXyz\n    at refresh (auth.rs:201)");
  assert.ok(!shown.includes("ya29") && !shown.includes("4/0AXyz") && !shown.includes("auth.rs"), shown);
  assert.ok(shown.startsWith("invalid_grant"));
});

test("an access_denied about test users names the test-user list; others stay generic", () => {
  const testUser = describeError({ code: "AUTH_DENIED", message: "Demo has not completed the Google verification process. The app is currently being tested, and can only be accessed by developer-approved testers." }, fr);
  assert.equal(testUser.key, "error.AUTH_DENIED.testUser");
  assert.equal(describeError({ code: "AUTH_DENIED", message: "access_denied" }, fr).key, "error.AUTH_DENIED");
});

test("a quota error with retryAt says when the next try is, in the operator's time", () => {
  const d = describeError({ code: "RATE_LIMITED", retryAt: new Date(2026, 10, 23, 15, 5).toISOString() }, fr);
  assert.equal(fr.t(d.key, d.params), "Le quota du carnet d'adresses est atteint pour le moment ; prochain essai à 15:05.");
  assert.equal(d.action, "retry");
});

test("unknown codes and thrown strings become INTERNAL, never a raw message", () => {
  const d = describeError("TypeError: x is undefined\n at foo.js:1", fr);
  assert.equal(d.code, "INTERNAL");
  assert.equal(d.detail, null);
});

test("the devserver's googleEmulator URL becomes Google-shaped endpoints with the demo client", () => {
  const c = emulatorConfig({ googleEmulator: "http://127.0.0.1:4567/" });
  assert.deepEqual(c.endpoints, { auth: "http://127.0.0.1:4567/o/oauth2/v2/auth", token: "http://127.0.0.1:4567/token", api: "http://127.0.0.1:4567", revoke: "http://127.0.0.1:4567/revoke" });
  assert.equal(c.clientId, "demo-client.apps.googleusercontent.com");
  assert.equal(emulatorConfig({ googleEmulator: null }), null);
  assert.equal(emulatorConfig(null), null);
  assert.equal(emulatorConfig({ googleEmulator: "javascript:alert(1)" }), null);
});

test("the client secret is stored under the name the Google spoke reads", () => {
  assert.equal(clientSecretName("google-1"), "google.google-1.clientSecret");
});
