// Page tests of the reference host against the development server in headless Chromium:
// the CRM itself (seeded contacts, add/edit/delete, conflict on concurrent edit), the
// Plugins area with the plugin's settings tab, and the plugin called through the shim.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, openHost } from "./harness.mjs";

let h;
before(async () => { h = await startHarness(); });
after(async () => { await h?.stop(); });

const contactButton = (page, name) => page.locator("#contact-list button", { hasText: name });

test("the reference host starts with the 30 seeded sample contacts", async () => {
  const page = await openHost(h);
  await page.waitForSelector("#contact-list button");
  assert.equal(await page.locator("#contact-list button").count(), 30);
  await page.fill("#contact-search", "dupont");
  assert.equal(await page.locator("#contact-list button").count(), 1);
  assert.match(await page.locator("#contact-list button").first().textContent(), /Marie Dupont/);
  await page.close();
});

test("a contact added in the form is listed and survives a reload (IndexedDB)", async () => {
  const page = await openHost(h);
  await page.click("#new-contact");
  await page.fill("#field-firstName", "Zoé");
  await page.fill("#field-lastName", "Testeur");
  await page.fill('[data-rows="emails"] input[data-part="value"]', "zoe.testeur@example.org");
  await page.fill("#field-address-city", "Nancy");
  await page.click("#save-contact");
  await contactButton(page, "Zoé Testeur").waitFor();
  await page.reload();
  await page.waitForSelector('body[data-state="ready"]');
  await contactButton(page, "Zoé Testeur").click();
  assert.equal(await page.inputValue('[data-rows="emails"] input[data-part="value"]'), "zoe.testeur@example.org");
  assert.equal(await page.inputValue("#field-address-city"), "Nancy");
  await page.close();
});

test("editing a contact saves it with a new version", async () => {
  const page = await openHost(h);
  await contactButton(page, "Jean Martin").click();
  assert.match(await page.textContent("#contact-version"), /Version 1\b/);
  await page.fill("#field-jobTitle", "Directeur général");
  await page.click("#save-contact");
  await page.waitForFunction(() => /Version 2\b/.test(document.querySelector("#contact-version")?.textContent ?? ""));
  const stored = await page.evaluate(async () => {
    const id = document.querySelector("#contact-form").dataset.contactId;
    const [c] = await window.referenceHost.hostApi.crm.get([id]);
    return { version: c.version, jobTitle: c.fields.jobTitle, email: c.fields.emails[0].value };
  });
  assert.deepEqual(stored, { version: 2, jobTitle: "Directeur général", email: "j.martin@martin-fils.fr" });
  await page.close();
});

test("a contact changed elsewhere while open in the form surfaces a conflict instead of being overwritten", async () => {
  const page = await openHost(h);
  await contactButton(page, "Sophie Bernard").click();
  // Meanwhile the plugin (or another tab) writes the same contact through the host API.
  await page.evaluate(async () => {
    const id = document.querySelector("#contact-form").dataset.contactId;
    const [c] = await window.referenceHost.hostApi.crm.get([id]);
    await window.referenceHost.hostApi.crm.update(id, c.version, { fields: { jobTitle: "Bâtonnière" } });
  });
  await page.fill("#field-jobTitle", "Associée gérante");
  await page.click("#save-contact");
  const alert = page.locator("#form-alert");
  await alert.waitFor({ state: "visible" });
  assert.match(await alert.textContent(), /changed this contact meanwhile \(now version 2\)/);
  await page.click("#reload-contact");
  await page.waitForFunction(() => /Version 2\b/.test(document.querySelector("#contact-version")?.textContent ?? ""));
  assert.equal(await page.inputValue("#field-jobTitle"), "Bâtonnière", "the other writer's value was kept");
  await page.close();
});

test("deleting a contact removes it from the list and leaves a tombstone for the plugin", async () => {
  const page = await openHost(h);
  await contactButton(page, "Luc Petit").click();
  const id = await page.getAttribute("#contact-form", "data-contact-id");
  page.once("dialog", (dialog) => dialog.accept());
  await page.click("#delete-contact");
  await contactButton(page, "Luc Petit").waitFor({ state: "detached" });
  const tomb = await page.evaluate(async (contactId) => {
    let cursor = null; let page; const all = [];
    do { page = await window.referenceHost.hostApi.crm.listChanges(cursor, 100); all.push(...page.contacts); cursor = page.nextCursor; } while (page.hasMore);
    return { live: all.some((c) => c.id === contactId), gone: (await window.referenceHost.hostApi.crm.get([contactId])).length === 0 };
  }, id);
  assert.deepEqual(tomb, { live: false, gone: true });
  await page.close();
});

test("the Plugins area lists the installed plugin with its schedule and mounts its settings tab", async () => {
  const page = await openHost(h);
  assert.equal(await page.getAttribute("body", "data-plugin"), "active", await page.textContent("#plugin-card"));
  await page.click("#nav-plugins");
  assert.equal(await page.textContent("#plugin-name"), "Contact Sync");
  assert.match(await page.textContent("#plugin-version"), /Version 0\.\d+\.\d+/);
  assert.match(await page.textContent("#plugin-schedule"), /every 15 minutes · next run at \d{2}:\d{2}/);
  const mountPoint = page.locator('[data-plugin-tab="contact-sync.settings"]');
  await mountPoint.waitFor();
  await page.waitForFunction(() => document.querySelector('[data-plugin-tab="contact-sync.settings"]')?.childElementCount > 0);
  await page.close();
});

test("the page calls the plugin through the shim; malformed input rejects with a coded Error and the plugin keeps working", async () => {
  const page = await openHost(h);
  const result = await page.evaluate(async () => {
    const { plugin } = window.referenceHost;
    const out = { version: plugin.version(), defaults: plugin.defaultSettings() };
    try {
      await plugin.saveSettings({ "sync.enabled": "yes please" });
      out.malformed = "accepted";
    } catch (error) {
      out.malformed = { isError: error instanceof Error, code: error.code, message: error.message };
    }
    out.after = await plugin.getSettings().then((s) => typeof s["sync.enabled"], (e) => `rejected ${e.code}`);
    out.status = await plugin.status();
    return out;
  });
  assert.equal(typeof result.version, "string");
  assert.equal(result.defaults["filter.mode"], "all");
  assert.equal(result.malformed.isError, true);
  assert.equal(typeof result.malformed.code, "string");
  assert.equal(result.after, "boolean");
  assert.equal(typeof result.status.running, "boolean");
  await page.close();
});

test("the language switch puts the CRM in French", async () => {
  const page = await openHost(h);
  await page.selectOption("#language-switch", "fr");
  assert.equal(await page.textContent("#nav-contacts"), "Contacts");
  assert.equal(await page.textContent("#nav-plugins"), "Extensions");
  assert.equal(await page.textContent("#new-contact"), "Nouveau contact");
  await page.selectOption("#language-switch", "en");
  await page.close();
});

test("the plugin loads and runs in a Web Worker", async () => {
  const page = await h.newPage();
  await page.goto(h.url("/host/worker-check.html"));
  await page.waitForSelector('#worker-result:not([data-state="running"])', { timeout: 30_000 });
  const report = JSON.parse(await page.textContent("#worker-result"));
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.equal(report.inWorker, true);
  assert.equal(report.manifestId, "contact-sync");
  assert.equal(report.afterMalformed, "ok");
  assert.equal(report.subscribersAfter, report.subscribersBefore - 1, "deactivate unsubscribed from host events");
  await page.close();
});
