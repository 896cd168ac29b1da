// Photo sync end to end: the reference host with the real wasm plugin and the Google
// emulator. The operator connects Google, switches "Also sync contact photos" on in the
// settings tab, gives a CRM contact a photo in the contact form; a Google contact has a
// photo of its own. One sync later each photo is on the other side, byte for byte: the
// CRM's went up with updateContactPhoto, Google's came down as base64 through the shim's
// fetch (responseEncoding) into the CRM's image field, and the contact form shows it.
// Requires the built devserver and wasm: scripts/build.sh.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { startHarness, openHost, DEVSERVER_BIN } from "./harness.mjs";
import { ROOT } from "./settings.support.mjs";

const WASM = `${ROOT}www/plugin/pkg/contact_sync_bg.wasm`;
const ready = existsSync(DEVSERVER_BIN) && existsSync(WASM);
const skip = ready ? false : "needs the built devserver and plugin: run scripts/build.sh";
const ACCOUNT = "demo@example.com";
const LONG = 60_000;

/** Image bytes with a valid signature (the plugin and the emulator check signatures). */
const PNG = Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), Buffer.alloc(200, 7)]);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(300, 9), Buffer.from([0xff, 0xd9])]);

describe("photo sync end to end", { skip, timeout: 5 * LONG }, () => {
  let h;
  let page;
  const admin = async (method, path, body) => {
    const response = await fetch(`${h.googleUrl}/__admin/${path}`, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    assert.ok(response.ok, `admin ${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  const googleByEmail = async (email) => (await admin("GET", `accounts/${ACCOUNT}/contacts`)).contacts
    .find((c) => (c.emailAddresses ?? []).some((e) => e.value === email));

  before(async () => {
    h = await startHarness({ google: true });
    page = await openHost(h);
  });
  after(async () => { await h?.stop(); });

  test("a photo set in the CRM form reaches Google, a Google photo reaches the CRM form", async () => {
    // Google side: a contact with a photo set as its owner would.
    const seeded = await admin("POST", `accounts/${ACCOUNT}/contacts`, { contacts: [{ names: [{ givenName: "Gail", familyName: "Photo" }], emailAddresses: [{ value: "gail.photo@example.org" }] }] });
    const gail = seeded.resourceNames[0].split("/")[1];
    await admin("PUT", `accounts/${ACCOUNT}/contacts/${gail}/photo`, { photoBytes: JPEG.toString("base64") });

    // CRM side: a new contact with a photo chosen in the form.
    await page.click("#new-contact");
    await page.fill("#field-firstName", "Pia");
    await page.fill("#field-lastName", "Photo");
    await page.fill('[data-rows="emails"] input[data-part="value"]', "pia.photo@example.org");
    await page.setInputFiles("#field-photo", { name: "pia.png", mimeType: "image/png", buffer: PNG });
    await page.locator("#contact-photo:not([hidden])").waitFor();
    await page.click("#save-contact");
    await page.locator("#contact-list button", { hasText: "Pia Photo" }).waitFor();
    const pia = await page.evaluate(async () => (await window.referenceHost.book.all()).find((c) => c.fields.firstName === "Pia"));
    assert.equal(pia.fields.photo, `data:image/png;base64,${PNG.toString("base64")}`);

    // Connect Google and switch photos on, through the settings tab.
    await page.locator("#nav-plugins").click();
    await page.locator('.cs-tab[data-state="ready"]').waitFor({ timeout: LONG });
    const openSection = async (id) => {
      if (!(await page.locator(`#cs-section-${id}`).evaluate((d) => d.open))) await page.locator(`#cs-section-${id}-summary`).click();
    };
    await openSection("connections");
    await page.locator("#cs-add-google").click();
    await page.locator("#cs-spoke-google-1-endpoints").waitFor();
    const [popup] = await Promise.all([h.context.waitForEvent("page"), page.locator("#cs-spoke-google-1-connect").click()]);
    await popup.locator("#allow").click();
    await page.locator('#cs-spoke-google-1-card .cs-light[data-state="connected"]').waitFor({ timeout: LONG });
    await openSection("flows");
    assert.equal(await page.locator("#cs-sync-photos").isChecked(), false, "off by default");
    await page.locator("#cs-sync-photos").click();
    await page.waitForFunction(async () => (await window.referenceHost.plugin.getSettings())["sync.photos"] === true, null, { timeout: LONG, polling: 100 });

    const reports = await page.evaluate(() => window.referenceHost.plugin.sync({ trigger: "manual" }));
    assert.deepEqual(reports.map((r) => r.outcome), ["ok"], JSON.stringify(reports));
    assert.deepEqual(reports[0].errors, []);

    // CRM → Google: the emulator serves Pia's photo, byte for byte.
    const piaGoogle = await googleByEmail("pia.photo@example.org");
    const url = piaGoogle?.photos?.[0]?.url;
    assert.ok(url && !piaGoogle.photos[0].default, JSON.stringify(piaGoogle?.photos));
    const served = Buffer.from(await (await fetch(url)).arrayBuffer());
    assert.deepEqual(served, PNG);

    // Google → CRM: Gail's photo in the image field, shown by the contact form.
    const gailCrm = await page.evaluate(async () => (await window.referenceHost.book.all()).find((c) => c.fields.firstName === "Gail"));
    assert.equal(gailCrm?.fields.photo, `data:image/jpeg;base64,${JPEG.toString("base64")}`);
    await page.locator("#nav-contacts").click();
    await page.locator("#contact-list button", { hasText: "Gail Photo" }).click();
    await page.locator("#contact-photo:not([hidden])").waitFor();
    assert.equal(await page.locator("#contact-photo").getAttribute("src"), gailCrm.fields.photo);

    // The operator removes Gail's photo in the CRM: the next sync removes it in Google.
    await page.click("#remove-photo");
    await page.locator("#contact-no-photo:not([hidden])").waitFor();
    await page.click("#save-contact");
    await page.waitForFunction(async () => !(await window.referenceHost.book.all()).find((c) => c.fields.firstName === "Gail").fields.photo);
    const again = await page.evaluate(() => window.referenceHost.plugin.sync({ trigger: "manual" }));
    assert.deepEqual(again.map((r) => r.outcome), ["ok"], JSON.stringify(again));
    assert.equal((await googleByEmail("gail.photo@example.org")).photos[0].default, true, "Google shows the default avatar again");
  });
});
