// A CardDAV address book end to end, in both languages: a real Radicale on a free loopback
// port (htpasswd user, CORS headers; scripts/radicale-dev.mjs), the reference host served by
// the development server, the real wasm plugin. The operator adds the address book in the
// settings tab by clicking (an empty field, an http:// server outside development, a wrong
// password and a server that does not answer each read as a sentence with its remedy, and
// no password is kept until the server accepted it), chooses the book, previews and syncs; then cards are CRM contacts and CRM contacts are
// cards, the contact on both sides (same e-mail) once each; a field edited on each side
// arrives on the other after Sync now. Radicale is stopped after the run, also on failure.
// Requires the built devserver and wasm (scripts/build.sh) and .venv's Radicale.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { startHarness, openHost, DEVSERVER_BIN } from "./harness.mjs";
import { createI18n } from "../../www/plugin/settings/i18n.js";
import { startRadicale, vcard, freePort, RADICALE_BIN } from "../../scripts/radicale-dev.mjs";
import { ROOT } from "./settings.support.mjs";

const WASM = `${ROOT}www/plugin/pkg/contact_sync_bg.wasm`;
const lacking = [DEVSERVER_BIN, WASM, RADICALE_BIN].filter((p) => !existsSync(p));
const skip = lacking.length ? `needs ${lacking.join(", ")}: run scripts/setup.sh and scripts/build.sh` : false;
const LONG = 60_000;
const USER = "alice";
const PASSWORD = "wonderland-7";
const NEW_PASSWORD = "looking-glass-8";
const SPOKE = "carddav-1";

/** Cards on the server before the first sync; "shared" has the same e-mail as a CRM contact. */
const CARDS = [
  { name: "card-one.vcf", vcard: vcard({ uid: "card-one", first: "Carla", last: "Onecard", email: "carla.onecard@example.org", phone: "+33 6 11 11 11 11", org: "Carte & Cie" }) },
  { name: "card-two.vcf", vcard: vcard({ uid: "card-two", first: "Denis", last: "Twocard", email: "denis.twocard@example.org", org: "Deux SARL" }) },
  { name: "shared.vcf", vcard: vcard({ uid: "shared", first: "Sam", last: "Shared", email: "sam.shared@example.org", phone: "+33 6 22 22 22 22" }) },
];
/** CRM contacts created before the first sync. */
const CRM = [
  { firstName: "Rita", lastName: "Crmonly", emails: [{ value: "rita.crmonly@example.org" }], jobTitle: "Acheteuse" },
  { firstName: "Sam", lastName: "Shared", emails: [{ value: "sam.shared@example.org" }] },
];

/** The e-mail addresses of a vCard, lower-cased. */
function cardEmails(text) {
  return [...unfold(text).matchAll(/^(?:[\w-]+\.)?EMAIL[^:\r\n]*:(.+)$/gim)].map((m) => m[1].trim().toLowerCase());
}

/** The value of a vCard property (first occurrence), unescaped. */
function cardValue(text, property) {
  const m = unfold(text).match(new RegExp(`^(?:[\\w-]+\\.)?${property}[;:][^\\r\\n]*$`, "im"));
  if (!m) return null;
  const value = m[0].slice(m[0].indexOf(":", property.length) + 1);
  return value.replace(/\\([,;\\])/g, "$1").replace(/\\n/gi, "\n").trim();
}

function unfold(text) {
  return String(text).replace(/\r?\n[ \t]/g, "");
}

const crmEmails = (contact) => (contact.fields.emails ?? []).map((e) => String(e.value).toLowerCase());

for (const lang of ["en", "fr"]) {
  describe(`CardDAV address book end to end (${lang})`, { skip, timeout: 10 * LONG }, () => {
    let h;
    let page;
    let radicale;
    let missing = [];
    const i = createI18n(lang === "fr" ? "fr-FR" : "en-GB", JSON.parse(readFileSync(`${ROOT}www/plugin/i18n/${lang}.json`, "utf8")));
    const card = (suffix) => `#cs-spoke-${SPOKE}-${suffix}`;
    const openSection = async (id) => {
      if (!(await page.locator(`#cs-section-${id}`).evaluate((d) => d.open))) await page.locator(`#cs-section-${id}-summary`).click();
    };
    const crmContacts = () => page.evaluate(async () => await window.referenceHost.book.all());
    const settings = () => page.evaluate(() => window.referenceHost.plugin.getSettings());
    const storedPassword = () => page.evaluate((name) => window.referenceHost.hostApi.secrets.get(name), `carddav.${SPOKE}.password`);
    /** The test's CRM edits send host events; the plugin starts its debounced background run
     *  3 s after the last one (DEBOUNCE_MS, src/connectors.rs), and a click on Sync now during
     *  that run is rightly skipped as "already running". Wait until that run is over: no
     *  run lease (spoke.<id>.lease in the plugin's storage) twice in a row. status().running
     *  does not tell: it counts only sync() calls, not event runs. */
    let lastEdit = 0;
    const quiet = async () => {
      const wait = lastEdit + 4_000 - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const leased = () => page.evaluate(async () => (await window.referenceHost.hostApi.storage.list("spoke.")).some((k) => k.endsWith(".lease")));
      for (let free = 0, deadline = Date.now() + LONG; free < 2;) {
        assert.ok(Date.now() < deadline, "the background run ended");
        free = (await leased()) ? 0 : free + 1;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    };
    const syncNow = async () => {
      await openSection("run");
      await page.locator("#cs-run-sync:not([disabled])").click();
      await page.locator("#cs-run-sync:not([disabled])").waitFor({ timeout: LONG });
      await page.locator("#cs-run-result").waitFor({ timeout: LONG });
      assert.equal(await page.locator('#cs-section-run .cs-error, #cs-summary .cs-error').count(), 0,
        `the run reported no error: ${await page.locator("#cs-section-run").innerText()}`);
    };
    /** While the built plugin lacks a method a step needs, say which and skip the step. */
    const needsPlugin = (t, ...methods) => {
      const absent = missing.filter((m) => methods.includes(m));
      if (absent.length) t.skip(`the plugin does not export ${absent.join(", ")} yet (rebuild with scripts/build.sh once it does)`);
      return absent.length > 0;
    };

    before(async () => {
      radicale = await startRadicale({ user: USER, password: PASSWORD, bookName: "Contacts", cards: CARDS });
      h = await startHarness();
      page = await openHost(h);
      if (lang === "fr") await page.locator("#language-switch").selectOption("fr");
      await page.locator("#nav-plugins").click();
      await page.locator(`.cs-tab[lang="${lang}"][data-state="ready"]`).waitFor({ timeout: LONG });
      missing = await page.evaluate(async () => {
        const wasm = await import("/plugin/pkg/contact_sync.js");
        const names = ["connectCardDav", "saveSettings", "status", "testConnection", "sync", "preview", "disconnect"];
        return names.filter((m) => typeof wasm.ContactSyncPlugin?.prototype?.[m] !== "function" || typeof window.referenceHost.plugin?.[m] !== "function");
      });
      await page.evaluate(async (contacts) => {
        for (const fields of contacts) await window.referenceHost.book.create({ fields, lists: [], tags: [] }, "ui");
      }, CRM);
      // Their events' background run passes while no address book is connected yet, so the
      // first exchange is the operator's, after the preview.
      lastEdit = Date.now();
      await quiet();
    });
    after(async () => {
      try {
        await h?.stop();
      } finally {
        await radicale?.stop();
      }
    });

    test("a wrong password reads as a sentence with its remedy and is not kept; the right one lists the address books", async (t) => {
      if (needsPlugin(t, "connectCardDav", "saveSettings")) return;
      await openSection("connections");
      await page.locator("#cs-add-carddav").click();
      await page.locator("#cs-carddav-new-find").click();
      const empty = await page.locator("#cs-carddav-new-missing").innerText();
      assert.ok(empty.includes(i.t("carddav.missing")) && empty.includes(i.t("carddav.missing.remedy")), `empty fields named: ${empty}`);
      assert.equal((await settings()).spokes.length, 0, "nothing saved from an incomplete form");
      // A password never travels unencrypted: outside development hosts the plugin wants https.
      await page.locator("#cs-carddav-new-server").fill("http://dav.example.org/dav");
      await page.locator("#cs-carddav-new-username").fill(USER);
      await page.locator("#cs-carddav-new-password").fill(PASSWORD);
      await page.locator("#cs-carddav-new-find").click();
      const refused = page.locator('#cs-section-connections .cs-error[data-code="INVALID_SETTINGS"]');
      await refused.waitFor({ timeout: LONG });
      assert.match(await refused.innerText(), /https:\/\//, "the plugin's reason is shown");
      assert.equal((await settings()).spokes.length, 0, "the refused address book is not saved");
      assert.equal(await page.locator("#cs-carddav-new-username").inputValue(), USER, "the form keeps what was typed");
      assert.ok(!(await page.locator(".cs-tab").innerHTML()).includes(PASSWORD), "the password is not drawn again");
      await page.locator("#cs-carddav-new-server").fill(radicale.url);
      await page.locator("#cs-carddav-new-username").fill(USER);
      await page.locator("#cs-carddav-new-password").fill("not-the-password");
      const since = h.problems.length;
      await page.locator("#cs-carddav-new-find").click();
      const denied = page.locator(`${card("card")} .cs-error[data-code="AUTH_DENIED"]`);
      await denied.waitFor({ timeout: LONG });
      const text = await denied.innerText();
      assert.ok(text.includes(i.t("carddav.error.AUTH_DENIED")) && text.includes(i.t("carddav.error.AUTH_DENIED.remedy")), `localized error: ${text}`);
      // Radicale's 401 answers to the wrong password are expected: only those are dropped.
      for (let n = h.problems.length - 1; n >= since; n -= 1) {
        const p = h.problems[n];
        if ((p.startsWith(`HTTP 401 for ${radicale.url}/`)) || /status of 401/.test(p)) h.problems.splice(n, 1);
      }
      const saved = (await settings()).spokes.find((s) => s.id === SPOKE);
      assert.equal(saved.kind, "carddav");
      assert.equal(saved.serverUrl, radicale.url);
      assert.equal(saved.username, USER);
      assert.equal(saved.addressBook, undefined, "no address book before the server accepted the account");
      assert.equal(await storedPassword(), null, "a refused password is not kept");
      assert.equal(await page.locator(card("password")).inputValue(), "", "the password is not drawn again");

      // A server that does not answer: the CardDAV wording of NETWORK, with its remedy.
      const closed = `http://127.0.0.1:${await freePort()}`;
      await page.locator(card("server")).fill(closed);
      await page.locator(card("server")).press("Tab");
      await page.waitForFunction(async ([id, url]) => (await window.referenceHost.plugin.getSettings()).spokes.find((s) => s.id === id)?.serverUrl === url, [SPOKE, closed], { timeout: LONG, polling: 100 });
      const before = h.problems.length;
      await page.locator(card("password")).fill(PASSWORD);
      await page.locator(card("find")).click();
      const unreachable = page.locator(`${card("card")} .cs-error[data-code="NETWORK"]`);
      await unreachable.waitFor({ timeout: LONG });
      assert.ok((await unreachable.innerText()).includes(i.t("carddav.error.NETWORK.remedy")));
      assert.equal(await storedPassword(), null, "a password the server never saw is not kept");
      for (let n = h.problems.length - 1; n >= before; n -= 1) if (h.problems[n].includes(closed) || /ERR_CONNECTION_REFUSED/.test(h.problems[n])) h.problems.splice(n, 1);
      await page.locator(card("server")).fill(radicale.url);
      await page.locator(card("server")).press("Tab");
      await page.waitForFunction(async ([id, url]) => (await window.referenceHost.plugin.getSettings()).spokes.find((s) => s.id === id)?.serverUrl === url, [SPOKE, radicale.url], { timeout: LONG, polling: 100 });

      // Keyboard use: Enter in the password field finds the address books.
      await page.locator(card("password")).fill(PASSWORD);
      await page.locator(card("password")).press("Enter");
      const first = page.locator(card("book-0"));
      await first.waitFor({ timeout: LONG });
      assert.equal(await page.locator(`${card("books")} input[type="radio"]`).count(), 1, "Radicale has one address book for this user");
      assert.equal(await page.locator(`label[for="cs-spoke-${SPOKE}-book-0"]`).innerText(), "Contacts");
      assert.equal(await page.locator(`${card("card")} .cs-error`).count(), 0, "the earlier error is gone");
      await first.check();
      await page.waitForFunction(async (id) => (await window.referenceHost.plugin.getSettings()).spokes.find((s) => s.id === id)?.addressBook, SPOKE, { timeout: LONG, polling: 100 });
      assert.equal((await settings()).spokes.find((s) => s.id === SPOKE).addressBook.replace(/^https?:\/\/[^/]+/, ""), `/${USER}/contacts/`);
      await page.locator(`${card("card")} .cs-light[data-state="connected"]`).waitFor({ timeout: LONG });
      assert.ok((await page.locator(card("account")).innerText()).includes(USER), "the account names the user");

      assert.equal(await storedPassword(), PASSWORD, "the accepted password is in host secrets");
      const stored = JSON.stringify([await settings(), await page.evaluate(() => window.referenceHost.hostApi.storage.list(""))]);
      assert.ok(!stored.includes(PASSWORD) && !stored.includes("not-the-password"), "no password in settings or storage keys");
      assert.ok(!(await page.locator(".cs-tab").innerHTML()).includes(PASSWORD), "no password in the tab's markup");
      assert.deepEqual(await page.locator('.cs-tab input[type="password"]').evaluateAll((fields) => fields.map((f) => f.value).filter(Boolean)), []);
    });

    test("Test connection answers from the server", async (t) => {
      if (needsPlugin(t, "connectCardDav", "testConnection")) return;
      await openSection("connections");
      await page.locator(card("test")).click();
      await page.locator(card("tested")).waitFor({ timeout: LONG });
    });

    test("the first sync (after a preview) makes every card a CRM contact and every CRM contact a card, the shared one once", async (t) => {
      if (needsPlugin(t, "connectCardDav", "preview", "sync")) return;
      await quiet();
      const runs = await page.evaluate((id) => window.referenceHost.plugin.history(id, 10).catch((e) => (e?.code === "NOT_FOUND" ? [] : Promise.reject(e))), SPOKE);
      assert.deepEqual(runs, [], "nothing ran before the operator's first sync");
      assert.equal((await radicale.cards()).length, CARDS.length, "nothing written to the server before it");
      await openSection("run");
      await page.locator("#cs-run-preview").click();
      await page.locator("#cs-preview").waitFor({ timeout: LONG });
      await page.locator("#cs-run-sync:not([disabled])").click();
      await page.locator("#cs-run-result").waitFor({ timeout: LONG });
      assert.ok((await page.locator("#cs-run-result").innerText()).includes(i.t("outcome.ok")), await page.locator("#cs-run-result").innerText());

      const cards = await radicale.cards();
      const contacts = await crmContacts();
      const onServer = cards.flatMap((c) => cardEmails(c.vcard));
      const inCrm = contacts.flatMap(crmEmails);
      for (const contact of contacts) {
        const emails = crmEmails(contact);
        if (emails.length) assert.ok(emails.some((e) => onServer.includes(e)), `CRM contact ${emails[0]} is a card on the server`);
      }
      assert.equal(cards.length, contacts.length, "as many cards as CRM contacts");
      assert.deepEqual([...new Set(onServer)].sort(), [...new Set(inCrm)].sort(), "the same addresses on both sides");
      for (const email of CARDS.flatMap((c) => cardEmails(c.vcard))) assert.ok(inCrm.includes(email), `card ${email} is a CRM contact`);
      const shared = "sam.shared@example.org";
      assert.equal(onServer.filter((e) => e === shared).length, 1, "one card for the contact on both sides");
      assert.equal(inCrm.filter((e) => e === shared).length, 1, "one CRM contact for the contact on both sides");
      const sam = contacts.find((c) => crmEmails(c).includes(shared));
      assert.ok(JSON.stringify(sam.fields.phones ?? []).includes("22 22 22"), "the card's phone filled the linked CRM contact");
      assert.ok(onServer.includes("rita.crmonly@example.org"));
    });

    test("a field edited on each side arrives on the other after Sync now", async (t) => {
      if (needsPlugin(t, "connectCardDav", "sync")) return;
      const [carla] = (await radicale.cards()).filter((c) => cardEmails(c.vcard).includes("carla.onecard@example.org"));
      assert.ok(carla, "Carla's card is still there");
      const edited = unfold(carla.vcard).replace(/^TITLE[;:].*\r?\n/gim, "").replace(/^END:VCARD/im, "TITLE:Cheffe de projet\r\nEND:VCARD");
      await radicale.put(decodeURIComponent(carla.href.split("/").filter(Boolean).pop()), edited, { "if-match": carla.etag });
      const rita = (await crmContacts()).find((c) => crmEmails(c).includes("rita.crmonly@example.org"));
      await page.evaluate(async ({ id, version }) => {
        await window.referenceHost.book.update(id, version, { fields: { jobTitle: "Directrice des achats" } }, "ui");
      }, { id: rita.id, version: rita.version });
      lastEdit = Date.now();

      // At once, before the edit's debounced background run: this Sync now carries both edits.
      await syncNow();
      const carlaInCrm = (await crmContacts()).find((c) => crmEmails(c).includes("carla.onecard@example.org"));
      assert.equal(carlaInCrm.fields.jobTitle, "Cheffe de projet", "the server's edit is in the CRM");
      const ritaCard = (await radicale.cards()).find((c) => cardEmails(c.vcard).includes("rita.crmonly@example.org"));
      assert.equal(cardValue(ritaCard.vcard, "TITLE"), "Directrice des achats", "the CRM's edit is on the server");
      assert.equal((await radicale.cards()).filter((c) => cardEmails(c.vcard).includes("carla.onecard@example.org")).length, 1, "still one card");
    });

    test("a password changed on the server reads as refused credentials; Reconnect leads to the password field and the new one resumes the sync", async (t) => {
      if (needsPlugin(t, "connectCardDav", "sync", "status")) return;
      await quiet();
      const since = h.problems.length;
      await radicale.setPassword(NEW_PASSWORD);
      await openSection("run");
      await page.locator("#cs-run-sync:not([disabled])").click();
      await page.locator("#cs-run-sync:not([disabled])").waitFor({ timeout: LONG });
      await openSection("connections");
      const denied = page.locator(`${card("card")} .cs-error[data-code="AUTH_DENIED"]`);
      await denied.waitFor({ timeout: LONG });
      assert.ok((await denied.innerText()).includes(i.t("carddav.error.AUTH_DENIED.remedy")), "the CardDAV wording in the address book's card");
      for (let n = h.problems.length - 1; n >= since; n -= 1) {
        const p = h.problems[n];
        if (p.startsWith(`HTTP 401 for ${radicale.url}/`) || /status of 401/.test(p)) h.problems.splice(n, 1);
      }
      await denied.locator('button[data-action="reconnect"]').click();
      await page.waitForFunction((id) => document.activeElement?.id === id, `cs-spoke-${SPOKE}-password`, { timeout: LONG });
      await page.keyboard.type(NEW_PASSWORD);
      await page.keyboard.press("Enter");
      await page.locator(card("book-0")).waitFor({ timeout: LONG });
      assert.equal(await page.locator(card("book-0")).isChecked(), true, "the chosen address book is kept");
      assert.equal(await storedPassword(), NEW_PASSWORD, "the new password replaced the old one");
      await syncNow();
      await page.locator(`${card("card")} .cs-error`).waitFor({ state: "detached", timeout: LONG });
    });

    test("Disconnect forgets the password and keeps the settings", async (t) => {
      if (needsPlugin(t, "connectCardDav", "disconnect")) return;
      await openSection("connections");
      await page.locator(card("disconnect")).click();
      await page.locator(`${card("card")} .cs-light:not([data-state="connected"])`).waitFor({ timeout: LONG });
      const spoke = (await settings()).spokes.find((s) => s.id === SPOKE);
      assert.equal(spoke.serverUrl, radicale.url, "the settings are kept");
      assert.equal(await storedPassword(), null, "the password is forgotten");
      assert.equal(await page.locator(card("remove")).isDisabled(), false, "a disconnected address book can be removed");
      await page.locator(card("remove")).click();
      await page.locator(card("card")).waitFor({ state: "detached", timeout: LONG });
      assert.equal((await settings()).spokes.some((s) => s.id === SPOKE), false);
    });
  });
}
