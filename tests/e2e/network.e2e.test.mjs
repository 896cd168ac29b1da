// What the plugin may contact, as an operator sees it in a CRM running in production (the
// reference host opened as http://crm.test:<port>, not a loopback address: no development
// mode, no emulators), in both languages: Connections lists the admitted origins (the
// manifest's, then each saved server's); a CardDAV server on a private network is saved but
// not contacted (Find address books reads as a refusal naming the private network, and
// nothing leaves the browser: a request would be a CSP violation the harness reports) until
// the operator ticks "this is a server on my private network", whose warning says what it
// allows; unticking it takes the server off the list again. Real wasm plugin, real tab.
// Requires the built devserver and wasm: scripts/build.sh.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { startHarness, openHost, DEVSERVER_BIN } from "./harness.mjs";
import { createI18n } from "../../www/plugin/settings/i18n.js";
import { ROOT } from "./settings.support.mjs";

const WASM = `${ROOT}www/plugin/pkg/contact_sync_bg.wasm`;
const lacking = [DEVSERVER_BIN, WASM].filter((p) => !existsSync(p));
const skip = lacking.length ? `needs ${lacking.join(", ")}: run scripts/build.sh` : false;
const LONG = 60_000;
const SPOKE = "carddav-1";
const PRIVATE_SERVER = "https://192.168.1.20/remote.php/dav/";
const PRIVATE_ORIGIN = "https://192.168.1.20";
const MANIFEST = JSON.parse(readFileSync(`${ROOT}plugin.json`, "utf8"));

for (const lang of ["en", "fr"]) {
  describe(`network access in the settings tab, production host (${lang})`, { skip, timeout: 5 * LONG }, () => {
    let h;
    let page;
    const i = createI18n(lang === "fr" ? "fr-FR" : "en-GB", JSON.parse(readFileSync(`${ROOT}www/plugin/i18n/${lang}.json`, "utf8")));
    const card = (suffix) => `#cs-spoke-${SPOKE}-${suffix}`;
    const listed = () => page.locator("#cs-network li[data-origin]").evaluateAll((items) => items.map((li) => ({ origin: li.dataset.origin, private: li.dataset.private === "true" })));
    const openSection = async (id) => {
      if (!(await page.locator(`#cs-section-${id}`).evaluate((d) => d.open))) await page.locator(`#cs-section-${id}-summary`).click();
    };

    before(async () => {
      h = await startHarness({ hostName: "crm.test" });
      page = await openHost(h);
      assert.equal(await page.evaluate(() => window.location.hostname), "crm.test");
      assert.equal(await page.locator("#dev-badge").isHidden(), true, "not in development mode");
      if (lang === "fr") await page.locator("#language-switch").selectOption("fr");
      await page.locator("#nav-plugins").click();
      await page.locator(`.cs-tab[lang="${lang}"][data-state="ready"]`).waitFor({ timeout: LONG });
      await openSection("connections");
    });
    after(async () => { await h?.stop(); });

    test("Connections lists the manifest's origins and no development host", async () => {
      await page.locator("#cs-network").waitFor({ timeout: LONG });
      const origins = await listed();
      assert.deepEqual(origins.map((o) => o.origin), MANIFEST.permissions.network.allowedHosts);
      assert.ok(origins.every((o) => !o.private));
      assert.ok((await page.locator("#cs-network").innerText()).includes(i.t("network.title")));
    });

    test("a server on a private network is saved but not contacted until the operator says it is theirs", async () => {
      await page.locator("#cs-add-carddav").click();
      await page.locator("#cs-carddav-new-server").fill(PRIVATE_SERVER);
      await page.locator("#cs-carddav-new-username").fill("alice");
      await page.locator("#cs-carddav-new-password").fill("never-sent-7");
      await page.locator("#cs-carddav-new-find").click();
      const refused = page.locator(`${card("card")} .cs-error[data-code="NOT_ALLOWED_HOST"]`);
      await refused.waitFor({ timeout: LONG });
      assert.match(await refused.innerText(), new RegExp(PRIVATE_ORIGIN.replace(/[./]/g, "\\$&")), "the refusal names the server");
      const choice = page.locator(card("private"));
      assert.equal(await choice.isChecked(), false);
      const warning = await page.locator(card("private-warning")).innerText();
      assert.equal(warning, i.t("carddav.private.warning"));
      assert.ok(!(await listed()).some((o) => o.origin === PRIVATE_ORIGIN), "not admitted");

      await choice.check();
      await page.locator(`#cs-network li[data-origin="${PRIVATE_ORIGIN}"]`).waitFor({ timeout: LONG });
      assert.deepEqual((await listed()).find((o) => o.origin === PRIVATE_ORIGIN), { origin: PRIVATE_ORIGIN, private: true });
      assert.equal(await page.locator(card("private")).isChecked(), true, "the choice is kept after the redraw");

      await page.locator(card("private")).uncheck();
      await page.locator(`#cs-network li[data-origin="${PRIVATE_ORIGIN}"]`).waitFor({ state: "detached", timeout: LONG });
      assert.equal(await page.locator(card("private")).isChecked(), false);
    });
  });
}
