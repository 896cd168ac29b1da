// Matches that wait for the operator, end to end on the demo's own data: the reference CRM
// (its sample contacts), the real wasm plugin and the Google emulator (its demo account).
// CRM "Julie Durand" and Google "Paul Lambert" share a mobile number: the preview lists
// them as a possible match, nothing else happens to them; "Different people" is previewed
// again, then the confirmed sync creates each on the other side and leaves both names as
// they were. After the first sync, a decision in the summary (ignore) is applied at once by
// a sync of that address book. Requires the built devserver and wasm: scripts/build.sh.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { startHarness, openHost, DEVSERVER_BIN } from "./harness.mjs";
import { createI18n } from "../../www/plugin/settings/i18n.js";
import { ROOT } from "./settings.support.mjs";

const WASM = `${ROOT}www/plugin/pkg/contact_sync_bg.wasm`;
const ready = existsSync(DEVSERVER_BIN) && existsSync(WASM);
const skip = ready ? false : `needs the built devserver and plugin (${existsSync(DEVSERVER_BIN) ? WASM : DEVSERVER_BIN} missing): run scripts/build.sh`;
const ACCOUNT = "demo@example.com";
const LONG = 60_000;

for (const lang of ["en", "fr"]) {
  describe(`matches waiting for a decision, end to end (${lang})`, { skip, timeout: 6 * LONG }, () => {
    let h;
    let page;
    const i = createI18n(lang === "fr" ? "fr-FR" : "en-GB", JSON.parse(readFileSync(`${ROOT}www/plugin/i18n/${lang}.json`, "utf8")));
    const googleContacts = async () => {
      const response = await fetch(`${h.googleUrl}/__admin/accounts/${ACCOUNT}/contacts`);
      assert.ok(response.ok);
      return (await response.json()).contacts.filter((c) => !c.emulator?.deleted);
    };
    const named = (contacts, given, family) => contacts.filter((c) => c.names?.[0]?.givenName === given && c.names?.[0]?.familyName === family);
    const crmContacts = () => page.evaluate(async () => await window.referenceHost.book.all());
    /** The group of the matches list `box` holding a contact named `name`. */
    const groupOf = (box, name) => page.locator(`${box} .cs-match`).filter({ hasText: name });

    before(async () => {
      h = await startHarness({ google: true });
      page = await openHost(h);
      if (lang === "fr") await page.locator("#language-switch").selectOption("fr");
      await page.locator("#nav-plugins").click();
      await page.locator(`.cs-tab[lang="${lang}"][data-state="ready"]`).waitFor({ timeout: LONG });
    });
    after(async () => {
      await h?.stop();
    });

    test("a possible match is previewed, refused with a click, and the confirmed sync keeps the two people apart", async () => {
      await page.locator("#cs-guide-connect").click();
      await page.locator("#cs-add-google").click();
      const [popup] = await Promise.all([h.context.waitForEvent("page"), page.locator("#cs-spoke-google-1-connect").click()]);
      await popup.locator("#allow").click();
      await page.locator('#cs-spoke-google-1-card .cs-light[data-state="connected"]').waitFor({ timeout: LONG });

      await page.locator("#cs-guide-preview").click();
      await page.locator("#cs-run-preview").click();
      const box = page.locator("#cs-preview-matches");
      await box.waitFor({ timeout: LONG });
      const pair = groupOf("#cs-preview-matches", "Julie Durand");
      await pair.waitFor();
      const text = await pair.innerText();
      assert.ok(text.includes("Paul Lambert") && text.includes("06 98 76 54 32") && text.includes("+33 6 98 76 54 32"), text);
      assert.ok(text.includes(i.t("matches.possible", { key: "+33698765432" })), text);
      const created = async () => Number(await page.locator('#cs-preview-counts [data-side="remote"] [data-count="created"]').innerText());
      const before = await created();

      await pair.locator('button[data-action="refuse"]').click();
      await page.waitForFunction(() => !document.querySelector("#cs-preview-matches")?.textContent.includes("Julie Durand"), null, { timeout: LONG });
      assert.equal(await created(), before + 1, "previewed: Julie Durand would now be created in Google");
      assert.equal(named(await googleContacts(), "Julie", "Durand").length, 0, "a preview writes nothing");

      await page.locator("#cs-run-sync").click();
      await page.locator("#cs-run-result").waitFor({ timeout: LONG });
      assert.ok((await page.locator("#cs-run-result").innerText()).includes(i.t("outcome.ok")));
      const google = await googleContacts();
      assert.equal(named(google, "Julie", "Durand").length, 1, "Julie has her own card");
      const paul = named(google, "Paul", "Lambert");
      assert.equal(paul.length, 1, "Paul keeps his name");
      assert.deepEqual(paul[0].emailAddresses.map((e) => e.value), ["paul.lambert@gmail.com"], "and only his e-mail");
      const crm = await crmContacts();
      const julie = crm.filter((c) => c.fields.firstName === "Julie" && c.fields.lastName === "Durand");
      assert.deepEqual(julie.map((c) => c.fields.emails.map((e) => e.value)), [["julie.durand@pharmacie-durand.fr"]], "Julie keeps her e-mail");
      assert.equal(crm.filter((c) => c.fields.firstName === "Paul" && c.fields.lastName === "Lambert").length, 1, "Paul imported as a contact of his own");
    });

    test("after the first sync the summary lists what still waits, and ignoring one is applied by the sync it starts", async () => {
      const summary = page.locator(".cs-summary .cs-matches");
      await summary.waitFor({ timeout: LONG });
      const waiting = page.locator(".cs-summary .cs-match").filter({ hasText: "Camille Martin" });
      await waiting.waitFor();
      const google = await googleContacts();
      const camille = named(google, "Camille", "Martin")[0];
      assert.ok(camille, "Camille Martin is in Google");
      await waiting.locator(`.cs-match-contact[data-id="${camille.resourceName}"] button[data-action="ignore"]`).click();
      const ignored = page.locator(".cs-summary .cs-match-ignored");
      await ignored.waitFor({ timeout: LONG });
      assert.ok((await ignored.innerText()).includes("Camille Martin"), "shown as ignored, so it can be synced again");
      const history = await page.evaluate(() => window.referenceHost.plugin.history("google-1", 1));
      assert.equal(history[0].counts.decided, 1, "the sync the tab started applied the decision");
      assert.ok(history[0].ignored.some((c) => c.id === camille.resourceName));
      assert.ok(!history[0].pendingMatches.some((g) => g.remote.some((c) => c.id === camille.resourceName)));
    });
  });
}
