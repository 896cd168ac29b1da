// The settings tab in Debian's Chromium under a strict CSP, driven by a scripted plugin
// (settings.fake-plugin.js) so every screen and error can be reached on purpose. Each test
// runs in English and French and fails on any console error, CSP violation or dialog.
// The same tab against the real wasm plugin, devserver and Google emulator: settings.e2e.test.mjs.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createI18n } from "../../www/plugin/settings/i18n.js";
import { ERROR_CODES } from "../../www/plugin/settings/errors.js";
import { startStaticServer, launchChromium, openTab, scenario, tabText, HOSTILE, ROOT, report } from "./settings.support.mjs";

const LOCALES = ["en-GB", "fr-FR"];
const catalogue = (locale) => JSON.parse(readFileSync(`${ROOT}www/plugin/i18n/${locale.slice(0, 2)}.json`, "utf8"));
const i18nFor = (locale) => createI18n(locale, catalogue(locale));
const TOKEN = "ya29.a0AfH6SMBxSECRETtokenVALUE1234567890abcdefghijkl";

let server;
let devServer;
let browser;
before(async () => {
  server = await startStaticServer();
  devServer = await startStaticServer({ devConfig: { googleEmulator: "http://127.0.0.1:9" } });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
  await devServer?.close();
});

/** Opens the tab, runs `body`, then checks nothing went wrong on the page. */
async function withTab(kind, locale, extra, body, base = server) {
  const s = scenario(kind, locale, extra);
  const { context, page, problems } = await openTab(browser, base.url, s);
  try {
    await body(page, i18nFor(locale), s);
    assert.equal(await page.evaluate(() => window.__pwned), undefined, "a hostile value ran as HTML");
    assert.equal(await page.locator(".cs-tab img").count(), 0, "a hostile value became an element");
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
}

const calls = (page, method) => page.evaluate((m) => window.__calls.filter((c) => c.method === m), method);
const openSection = async (page, id) => {
  const details = page.locator(`#cs-section-${id}`);
  if (!(await details.evaluate((d) => d.open))) await page.locator(`#cs-section-${id}-summary`).click();
};
const lastSaved = async (page) => (await calls(page, "saveSettings")).at(-1)?.args[0];
/** Matches waiting for a decision, as a report lists them: an ambiguity, a possible match. */
const PENDING = [
  { kind: "ambiguous", key: "contact@acme.example", crm: [{ side: "crm", id: "c1", name: HOSTILE, emails: ["contact@acme.example"] }],
    remote: [{ side: "remote", id: "people/c1", name: "Accueil Acme", emails: ["Contact@Acme.example"] }, { side: "remote", id: "people/c2", name: "", emails: ["contact@acme.example"], phones: ["01 42 68 53 00"] }] },
  { kind: "possible", key: "+33698765432", crm: [{ side: "crm", id: "c7", name: "Julie Durand", emails: ["julie.durand@pharmacie-durand.fr"], phones: ["+33 6 98 76 54 32"] }],
    remote: [{ side: "remote", id: "people/c24", name: "Paul Lambert", emails: ["paul.lambert@gmail.com"], phones: ["06 98 76 54 32"] }] },
];

for (const locale of LOCALES) {
  describe(`settings tab (${locale})`, () => {
    test("the summary states the last run, its counts per side and the next run in the operator's locale", async () => {
      await withTab("running", locale, {}, async (page, i) => {
        const text = await tabText(page);
        assert.ok(text.includes(i.t("run.schedule", { minutes: 15, time: "14:45" })), "next run at 14:45 (Paris)");
        assert.ok(text.includes("23/11/2026 14:30"), "last run date in dd/mm/yyyy");
        const crmLine = await page.locator('#cs-summary [data-side="crm"]').innerText();
        assert.equal(crmLine, i.t("counts.crm", { counts: [i.t("counts.created", { count: 1 }), i.t("counts.updated", { count: 2 }), i.t("counts.deleted", { count: 0 })].join(", ") }));
        assert.ok(text.includes("demo@example.com"));
        assert.equal(await page.locator("#cs-guide").count(), 0, "no first-run guide once a sync succeeded");
      });
    });

    test("contact values, list and tag names and field labels are shown as text, never as HTML", async () => {
      await withTab("running", locale, {}, async (page, i) => {
        await openSection(page, "flows");
        await page.locator("#cs-filter-mode-lists").check();
        await page.locator("#cs-filter-lists").waitFor();
        await openSection(page, "history");
        await openSection(page, "fields");
        await openSection(page, "run");
        await page.locator("#cs-run-preview").click();
        await page.locator("#cs-preview").waitFor();
        const text = await tabText(page);
        const occurrences = text.split(HOSTILE).length - 1;
        assert.ok(occurrences >= 3, `hostile text shown literally (list, conflict, sample): ${occurrences}`);
        assert.ok((await page.locator("#cs-filter-lists").innerText()).includes(HOSTILE));
        assert.ok((await page.locator("#cs-history-conflicts-" + "run-" + Date.parse("2026-11-23T13:30:00Z")).innerText()).includes(HOSTILE));
        assert.ok((await page.locator("#cs-preview-samples").innerText()).includes(HOSTILE));
      });
    });

    test("the first sync offers a preview first, then runs with a progress bar that counts", async () => {
      const extra = { status: { running: false, spokes: [{ id: "google-1", kind: "google", name: "Google", state: "connected", account: "demo@example.com", linked: 0 }] }, stepMs: 250 };
      await withTab("fresh", locale, extra, async (page, i, s) => {
        s.settings.spokes = [];
        await page.locator("#cs-guide-preview").click();
        assert.equal(await page.locator("#cs-run-sync").count(), 0, "no Sync before a preview");
        assert.equal(await page.locator("#cs-run-first").innerText(), i.t("run.firstHint"));
        await page.locator("#cs-run-preview").click();
        await page.locator("#cs-preview").waitFor();
        assert.equal(await page.locator('#cs-preview-counts [data-side="remote"] [data-count="created"]').innerText(), "47");
        assert.equal(await page.locator('#cs-preview-counts [data-side="crm"] [data-count="created"]').innerText(), "12");
        assert.equal(await page.locator("#cs-preview-linked").innerText(), i.t("preview.linked", { count: 310, email: "290", phone: "20", id: "0" }));
        assert.equal(await page.locator("#cs-preview-ambiguous").innerText(), i.t("preview.ambiguous", { count: 3 }));
        assert.ok((await page.locator("#cs-preview-ambiguities").innerText()).includes("contact@acme.example"));
        assert.ok((await page.locator("#cs-preview-conflict-list").innerText()).includes("+33 6 98 76 54 32"));
        assert.equal((await calls(page, "sync")).length, 0, "a preview writes nothing");
        assert.ok(await page.locator("#cs-progress-box").isHidden(), "no progress bar outside a run");
        await page.locator("#cs-run-sync").click();
        await page.locator("#cs-progress-box:not([hidden])").waitFor();
        await page.waitForFunction((expected) => document.querySelector("#cs-progress-text")?.textContent === expected, i.t("progress.write", { done: "20", total: "67" }));
        assert.equal(await page.locator("#cs-progress").evaluate((p) => [p.value, p.max].join("/")), "20/67");
        await page.locator("#cs-run-result").waitFor();
        const sync = await calls(page, "sync");
        assert.deepEqual(sync.map((c) => c.args[0]), [{ trigger: "manual", spokeId: "google-1" }]);
        assert.ok((await page.locator("#cs-run-result").innerText()).includes(i.t("outcome.ok")));
      });
    });

    test("matches waiting for a decision show each contact and its side; a decision taken with the keyboard is previewed again", async () => {
      const extra = {
        status: { running: false, spokes: [{ id: "google-1", kind: "google", name: "Google", state: "connected", account: "demo@example.com", linked: 0 }] },
        previewReport: { ...scenario("fresh", locale).previewReport, pendingMatches: PENDING },
      };
      await withTab("fresh", locale, extra, async (page, i) => {
        await page.locator("#cs-guide-preview").click();
        await page.locator("#cs-run-preview").click();
        const box = page.locator("#cs-preview-matches");
        await box.waitFor();
        assert.equal(await page.locator("#cs-preview-matches-title").innerText(), i.t("matches.waiting", { count: 5 }));
        const text = await box.innerText();
        for (const value of ["Julie Durand", "julie.durand@pharmacie-durand.fr", "+33 6 98 76 54 32", "Paul Lambert", "06 98 76 54 32", HOSTILE, "contact@acme.example"]) {
          assert.ok(text.includes(value), `${value} shown: ${text}`);
        }
        assert.ok(text.includes(i.t("matches.possible", { key: "+33698765432" })));
        assert.ok(text.includes(i.t("matches.contact", { side: "Google", details: "Paul Lambert · paul.lambert@gmail.com · 06 98 76 54 32" })), "which side each contact is on");
        assert.equal(await page.locator("#cs-preview-ambiguities").count(), 0, "held ambiguities are shown once, with their buttons");
        // Keyboard only: focus "Different people", press Enter.
        const refuse = page.locator("#cs-preview-matches-1-refuse");
        assert.equal(await refuse.innerText(), i.t("matches.refuse", { name: "Julie Durand", other: "Paul Lambert" }));
        await refuse.focus();
        await page.keyboard.press("Enter");
        await page.waitForFunction(() => window.__calls.filter((c) => c.method === "preview").length === 2);
        assert.deepEqual((await calls(page, "resolveMatch")).map((c) => c.args), [["google-1", { action: "refuse", crmId: "c7", remoteId: "people/c24" }]]);
        assert.equal((await calls(page, "sync")).length, 0, "before the first sync a decision is previewed, not synced");
        await page.waitForFunction(() => document.activeElement?.id === "cs-preview-matches-title");
        assert.equal(await page.locator("#cs-preview-matches-title").innerText(), i.t("matches.waiting", { count: 3 }));
        // Link the CRM contact to one of the two cards of the ambiguity.
        await page.locator("#cs-preview-matches-0-0-link-1").click();
        await page.waitForFunction(() => window.__calls.filter((c) => c.method === "preview").length === 3);
        assert.deepEqual((await calls(page, "resolveMatch")).at(-1).args, ["google-1", { action: "link", crmId: "c1", remoteId: "people/c2" }]);
      });
    });

    test("after the first sync the summary lists what waits, and a decision there syncs that address book at once", async () => {
      const base = scenario("running", locale);
      const last = { ...base.status.spokes[0].lastRun, pendingMatches: PENDING, ignored: [{ side: "crm", id: "c9", name: "Ignoré Contact", emails: ["ignore@x.fr"] }] };
      const status = { running: false, spokes: [{ ...base.status.spokes[0], lastRun: last }] };
      await withTab("running", locale, { status, syncReports: [{ ...base.syncReports[0], pendingMatches: structuredClone(PENDING) }] }, async (page, i) => {
        const box = page.locator("#cs-summary-google-1-matches");
        await box.waitFor();
        assert.ok((await box.innerText()).includes(i.t("matches.ignored", { count: 1, remote: "Google" })));
        assert.ok((await box.innerText()).includes("Ignoré Contact"), "ignored contacts are shown");
        await page.locator("#cs-summary-google-1-matches-ignored-0-unignore").click();
        await page.waitForFunction(() => window.__calls.some((c) => c.method === "sync"));
        assert.deepEqual((await calls(page, "resolveMatch")).map((c) => c.args), [["google-1", { action: "unignore", side: "crm", id: "c9" }]]);
        assert.deepEqual((await calls(page, "sync")).map((c) => c.args[0]), [{ trigger: "manual", spokeId: "google-1" }], "applied at once by a sync of that address book");
        await page.locator("#cs-summary-google-1-matches-0-1-create").click();
        await page.waitForFunction(() => window.__calls.filter((c) => c.method === "sync").length === 2);
        assert.deepEqual((await calls(page, "resolveMatch")).at(-1).args, ["google-1", { action: "createNew", side: "remote", id: "people/c1" }]);
      });
    });

    test("Cancel stops a running sync and the result says it was cancelled", async () => {
      await withTab("running", locale, { stepMs: 600 }, async (page, i) => {
        await openSection(page, "run");
        await page.locator("#cs-run-sync").click();
        await page.locator("#cs-run-cancel:not([disabled])").click();
        await page.locator("#cs-run-result").waitFor();
        assert.equal((await calls(page, "cancel")).length, 1);
        assert.ok((await page.locator("#cs-run-result").innerText()).includes(i.t("outcome.cancelled")));
        assert.ok(await page.locator("#cs-run-cancel").isDisabled(), "Cancel is off once the run ended");
      });
    });

    test("connect, test, forget links (after stating the consequence) and disconnect a Google account", async () => {
      await withTab("fresh", locale, {}, async (page, i) => {
        await page.locator("#cs-guide-connect").click();
        await page.locator("#cs-add-google").click();
        await page.locator("#cs-spoke-google-1-connect").click();
        await page.locator('#cs-spoke-google-1-card .cs-light[data-state="connected"]').waitFor();
        assert.ok((await page.locator("#cs-spoke-google-1-account").innerText()).includes("demo@example.com"));
        assert.ok(await page.locator('#cs-guide [data-step="connect"].cs-step-done').count(), "the guide ticks the connect step");
        await page.locator("#cs-spoke-google-1-test").click();
        await page.locator("#cs-spoke-google-1-tested").waitFor();
        await page.locator("#cs-spoke-google-1-forget").click();
        assert.equal(await page.locator("#cs-spoke-google-1-forget-text").innerText(), i.t("connections.forgetConsequence", { name: "Google Contacts" }));
        assert.equal((await calls(page, "forgetLinks")).length, 0, "nothing forgotten before confirming");
        await page.locator("#cs-spoke-google-1-forget-confirm").click();
        await page.waitForFunction(() => window.__calls.some((c) => c.method === "forgetLinks"));
        await page.locator("#cs-spoke-google-1-disconnect").click();
        await page.locator('#cs-spoke-google-1-card .cs-light[data-state="disconnected"]').waitFor();
        assert.deepEqual((await calls(page, "disconnect")).map((c) => c.args), [["google-1"]]);
        await page.locator("#cs-spoke-google-1-allow-create").uncheck();
        await page.waitForFunction(() => window.__calls.filter((c) => c.method === "saveSettings").at(-1)?.args[0].spokes[0].allowCreate === false);
      });
    });

    test("the company's own Google app: the client id goes to settings, the secret only to host secrets", async () => {
      await withTab("fresh", locale, {}, async (page) => {
        await page.locator("#cs-guide-connect").click();
        await page.locator("#cs-add-google").click();
        await page.locator("#cs-spoke-google-1-client-id").fill("1234-abc.apps.googleusercontent.com");
        await page.locator("#cs-spoke-google-1-client-id").press("Enter");
        await page.waitForFunction(() => window.__calls.filter((c) => c.method === "saveSettings").at(-1)?.args[0].spokes[0].clientId === "1234-abc.apps.googleusercontent.com");
        await page.locator("#cs-spoke-google-1-client-secret").fill("GOCSPX-very-secret");
        await page.locator("#cs-spoke-google-1-client-secret").press("Enter");
        await page.waitForFunction(() => window.__secrets.get("google.google-1.clientSecret") === "GOCSPX-very-secret");
        assert.equal(await page.locator("#cs-spoke-google-1-client-secret").inputValue(), "", "the secret field is emptied");
        const saved = JSON.stringify(await calls(page, "saveSettings"));
        assert.ok(!saved.includes("GOCSPX"), "the secret never reaches the settings");
        assert.ok(!(await tabText(page)).includes("GOCSPX"));
      });
    });

    test("in development a new Google account starts on the emulator announced by /dev-config.json", async () => {
      await withTab("fresh", locale, { devConfig: true }, async (page) => {
        await page.locator("#cs-guide-connect").click();
        await page.locator("#cs-add-google").click();
        await page.locator("#cs-spoke-google-1-endpoints").waitFor();
        const spoke = (await lastSaved(page)).spokes[0];
        assert.deepEqual(spoke.endpoints, { auth: "http://127.0.0.1:9/o/oauth2/v2/auth", token: "http://127.0.0.1:9/token", api: "http://127.0.0.1:9", revoke: "http://127.0.0.1:9/revoke" });
        assert.equal(spoke.clientId, "demo-client.apps.googleusercontent.com");
        await page.waitForFunction(() => window.__secrets.get("google.google-1.clientSecret") === "demo-secret");
        await page.locator("#cs-spoke-google-1-use-emulator").uncheck();
        await page.waitForFunction(() => !window.__calls.filter((c) => c.method === "saveSettings").at(-1)?.args[0].spokes[0].endpoints);
      }, devServer);
    });

    test("what flows: the master switch, directions and an export filter by chosen CRM lists are saved", async () => {
      await withTab("running", locale, {}, async (page, i) => {
        await openSection(page, "flows");
        await page.locator("#cs-sync-import").uncheck();
        await page.waitForFunction(() => window.__calls.filter((c) => c.method === "saveSettings").at(-1)?.args[0]["sync.import"] === false);
        assert.equal(await page.locator("#cs-section-flows .cs-group .cs-hint").first().innerText(), i.t("flows.exportOnly.hint"));
        await page.locator("#cs-filter-mobile").check();
        const count = (await calls(page, "saveSettings")).length;
        await page.locator("#cs-filter-mode-lists").check();
        assert.equal(await page.locator("#cs-filter-pending").innerText(), i.t("flows.lists.pending"));
        assert.equal((await calls(page, "saveSettings")).length, count, "a lists filter with no list is not saved");
        await page.getByLabel("Customers", { exact: true }).check();
        await page.waitForFunction(() => JSON.stringify(window.__calls.filter((c) => c.method === "saveSettings").at(-1)?.args[0]["filter.lists"]) === '["l1"]');
        await page.locator("#cs-filter-onleave").selectOption("delete");
        await page.waitForFunction(() => window.__calls.filter((c) => c.method === "saveSettings").at(-1)?.args[0]["filter.onLeave"] === "delete");
        const saved = await lastSaved(page);
        assert.equal(saved["filter.mode"], "lists");
        assert.equal(saved["filter.validMobileOnly"], true);
        await page.locator("#cs-filter-mode-tags").check();
        await page.getByLabel("vip", { exact: true }).check();
        await page.waitForFunction(() => JSON.stringify(window.__calls.filter((c) => c.method === "saveSettings").at(-1)?.args[0]["filter.tags"]) === '["vip"]');
        await page.locator("#cs-sync-enabled").uncheck();
        await page.waitForFunction(() => window.__calls.filter((c) => c.method === "saveSettings").at(-1)?.args[0]["sync.enabled"] === false);
        assert.ok(await page.locator("#cs-sync-export").isDisabled(), "directions are off while the master switch is off");
      });
    });

    test("the mapping refuses a type mismatch with an explanation, saves a valid change and resets to default", async () => {
      await withTab("running", locale, {}, async (page, i) => {
        await openSection(page, "fields");
        const before = (await calls(page, "saveSettings")).length;
        const birthday = page.locator('#cs-mapping tr[data-crm-field="birthday"]');
        const index = await birthday.getAttribute("data-row");
        await page.locator(`#cs-map-${index}-remote`).selectOption("emails");
        const refusal = await page.locator("#cs-map-refusal").innerText();
        assert.equal(refusal, i.t("fields.mismatch", { crm: "Birthday", crmType: i.t("type.date"), remote: "E-mails", remoteType: i.t("type.email-list") }));
        assert.equal((await calls(page, "saveSettings")).length, before, "a refused pairing is not saved");
        assert.equal(await page.locator(`#cs-map-${index}-remote`).inputValue(), "birthday", "the control shows the saved value again");
        await page.locator("#cs-map-0-remote").selectOption("name.family");
        assert.equal(await page.locator("#cs-map-refusal").innerText(), i.t("fields.twice", { remote: "Family name" }));
        assert.equal((await calls(page, "saveSettings")).length, before, "a second row for the same address-book field is not saved");
        await page.locator(`#cs-map-0-direction`).selectOption("toRemote");
        await page.waitForFunction(() => window.__calls.filter((c) => c.method === "saveSettings").at(-1)?.args[0]["mapping.fields"][0].direction === "toRemote");
        await page.locator(`#cs-map-0-priority`).selectOption("crm");
        await page.locator(`#cs-map-0-fill`).uncheck();
        await page.waitForFunction(() => window.__calls.filter((c) => c.method === "saveSettings").at(-1)?.args[0]["mapping.fields"][0].fillEmpty === false);
        await page.locator("#cs-map-add").click();
        await page.waitForFunction(() => window.__calls.filter((c) => c.method === "saveSettings").at(-1)?.args[0]["mapping.fields"].length === 10);
        // A read-only CRM field cannot receive values.
        await page.locator("#cs-map-9-crm").selectOption("owner");
        assert.equal(await page.locator("#cs-map-refusal").innerText(), i.t("fields.readOnly", { crm: "Owner" }));
        await page.locator("#cs-map-reset").click();
        await page.waitForFunction(() => window.__calls.filter((c) => c.method === "saveSettings").at(-1)?.args[0]["mapping.fields"].length === 9);
        const saved = await lastSaved(page);
        assert.equal(saved["mapping.fields"][0].direction, "both");
      });
    });

    test("labels pair CRM lists and tags with address-book labels", async () => {
      await withTab("running", locale, {}, async (page) => {
        await openSection(page, "labels");
        await page.locator("#cs-label-add").click();
        await page.locator("#cs-label-0-remote").waitFor();
        await page.locator("#cs-label-0-crm").selectOption("l2");
        await page.waitForFunction(() => window.__calls.filter((c) => c.method === "saveSettings").at(-1)?.args[0]["mapping.labels"][0]?.crm.id === "l2");
        await page.locator("#cs-label-0-remote").fill("Fournisseurs");
        await page.locator("#cs-label-0-remote").press("Enter");
        await page.waitForFunction(() => window.__calls.filter((c) => c.method === "saveSettings").at(-1)?.args[0]["mapping.labels"][0]?.remoteLabel === "Fournisseurs");
        await page.locator("#cs-label-0-kind").selectOption("tag");
        await page.waitForFunction(() => window.__calls.filter((c) => c.method === "saveSettings").at(-1)?.args[0]["mapping.labels"][0]?.crm.kind === "tag");
        await page.locator("#cs-label-0-remove").click();
        await page.locator("#cs-labels-empty").waitFor();
      });
    });

    test("deletions: the policy and the guard threshold are explained in one sentence each and saved", async () => {
      await withTab("running", locale, {}, async (page, i) => {
        await openSection(page, "deletions");
        assert.equal(await page.locator("#cs-deletion-policy-propagate-hint").innerText(), i.t("deletions.propagate.hint"));
        await page.locator("#cs-deletion-policy-flag").check();
        await page.locator("#cs-deletion-flag").waitFor();
        await page.locator("#cs-deletion-flag").selectOption("deletedRemotely");
        const guard = page.locator("#cs-guard-share");
        await guard.fill("5");
        await guard.press("Enter");
        await page.waitForFunction(() => window.__calls.filter((c) => c.method === "saveSettings").at(-1)?.args[0]["guard.maxDeleteShare"] === 0.05);
        assert.equal(await page.locator("#cs-guard-share-hint").innerText(), i.t("deletions.guard.hint", { share: i.percent(0.05) }));
        const count = (await calls(page, "saveSettings")).length;
        await page.locator("#cs-guard-share").fill("150");
        await page.locator("#cs-guard-share").press("Enter");
        await page.locator('#cs-section-deletions .cs-error[data-code="BAD_INPUT"]').waitFor();
        assert.equal((await calls(page, "saveSettings")).length, count, "an out-of-range guard is not saved");
        assert.equal((await lastSaved(page))["deletion.policy"], "flag");
      });
    });

    test("history: a chart of changes per run, a conflict with both values and the kept one, and undo on the latest run", async () => {
      await withTab("running", locale, {}, async (page, i) => {
        await openSection(page, "history");
        assert.equal(await page.locator("#cs-history-chart rect.cs-chart-bar").count(), 4);
        assert.deepEqual(await page.locator("#cs-history-chart rect").evaluateAll((r) => r.map((x) => x.getAttribute("data-total"))), ["25", "0", "1", "7"]);
        assert.equal(await page.locator("#cs-history tbody tr").count(), 4);
        const failed = await page.locator('#cs-history tr[data-outcome="failed"]').innerText();
        assert.ok(failed.includes(i.t("error.NETWORK")) && failed.includes(i.t("error.NETWORK.remedy")));
        assert.ok(!failed.includes("ECONNREFUSED"), "the raw network message is not shown");
        const conflict = page.locator(".cs-history-conflicts .cs-conflict").first();
        const text = await conflict.innerText();
        assert.ok(text.includes("+33 6 12 34 56 78") && text.includes("+33 6 98 76 54 32"), "both values");
        assert.equal(await conflict.locator(".cs-kept").innerText(), "+33 6 12 34 56 78");
        assert.ok(text.includes(i.t("conflict.kept", { side: i.t("side.crm"), rule: i.t("priority.crm") })));
        assert.equal(await page.locator("#cs-history-undo").count(), 1, "undo only on the latest run");
        await page.locator("#cs-history-undo").click();
        await page.waitForFunction(() => window.__calls.some((c) => c.method === "undoLastRun"));
        await page.waitForFunction(() => document.querySelectorAll("#cs-history tbody tr").length === 5);
        assert.ok((await page.locator("#cs-history tbody tr").first().innerText()).includes(i.t("trigger.undo")));
      });
    });

    test("invalid stored settings are reported with their reasons and replaced only on request", async () => {
      await withTab("running", locale, { invalidStored: "guard.maxDeleteShare: 7 is more than 1" }, async (page, i) => {
        const banner = page.locator("#cs-settings-problem");
        const text = await banner.innerText();
        assert.ok(text.includes(i.t("error.INVALID_SETTINGS")) && text.includes("guard.maxDeleteShare: 7 is more than 1"));
        assert.equal((await calls(page, "saveSettings")).length, 0, "never silently replaced");
        await openSection(page, "flows");
        assert.equal(await page.locator("#cs-section-flows .cs-section-body").innerText(), i.t("section.unavailable"));
        await page.locator("#cs-settings-defaults").click();
        await banner.waitFor({ state: "detached" });
        assert.equal((await calls(page, "saveSettings")).length, 1);
        await page.locator("#cs-sync-enabled").waitFor();
      });
    });

    test("a save the plugin refuses is shown in its section and the control returns to the saved value", async () => {
      const failures = { saveSettings: { code: "INVALID_SETTINGS", message: "filter.tags: tag \"ghost\" does not exist" } };
      await withTab("running", locale, { failures }, async (page, i) => {
        await openSection(page, "flows");
        // click, not check(): check() would click again when the refused box springs back.
        await page.locator("#cs-filter-mobile").click();
        const error = page.locator('#cs-section-flows .cs-error[data-code="INVALID_SETTINGS"]');
        await error.waitFor();
        assert.ok((await error.innerText()).includes('filter.tags: tag "ghost" does not exist'));
        assert.equal(await page.locator("#cs-filter-mobile").isChecked(), false);
        assert.equal((await calls(page, "saveSettings")).length, 1);
      });
    });

    test("every error code reads as a sentence with its remedy, without tokens or stack traces", async () => {
      for (const code of ERROR_CODES) {
        const problem = { code, message: `Bearer ${TOKEN}\n    at sync (runner.rs:42)`, remedy: "raw remedy" };
        const sc = scenario("running", locale);
        sc.status.spokes[0].problem = problem;
        sc.status.spokes[0].state = "error";
        const { context, page, problems } = await openTab(browser, server.url, sc);
        try {
          const i = i18nFor(locale);
          const box = page.locator(`#cs-summary .cs-error[data-code="${code}"]`);
          const text = await box.innerText();
          assert.ok(text.includes(i.t(`error.${code}`)), `${code}: sentence`);
          assert.ok(text.includes(i.t(`error.${code}.remedy`)), `${code}: remedy`);
          const all = await tabText(page);
          assert.ok(!all.includes(TOKEN) && !all.includes("ya29") && !all.includes("runner.rs"), `${code}: no token or stack trace`);
          assert.deepEqual(problems, []);
        } finally {
          await context.close();
        }
      }
    });

    test("a CardDAV spoke's problem reads in the summary in CardDAV's words, not Google's", async () => {
      const sc = scenario("running", locale);
      Object.assign(sc.status.spokes[0], { kind: "carddav", state: "error", problem: { code: "AUTH_DENIED", message: "refused", remedy: "raw remedy" } });
      const { context, page, problems } = await openTab(browser, server.url, sc);
      try {
        const i = i18nFor(locale);
        const text = await page.locator('#cs-summary .cs-error[data-code="AUTH_DENIED"]').innerText();
        assert.ok(text.includes(i.t("carddav.error.AUTH_DENIED")), text);
        assert.ok(!text.includes(i.t("error.AUTH_DENIED")), text);
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });

    test("errors name their specific remedy: reconnect, test-user list, next try at HH:MM, the guard's list", async () => {
      const sc = scenario("running", locale);
      const spoke = sc.status.spokes[0];
      spoke.state = "error";
      spoke.problem = { code: "AUTH_EXPIRED", message: "invalid_grant", remedy: "" };
      spoke.lastRun = report("google-1", "2026-11-23T13:30:00Z", {
        outcome: "guard",
        errors: [
          { code: "RATE_LIMITED", message: "429", remedy: "", retryAt: "2026-11-23T14:05:00Z" },
          { code: "GUARD_TRIPPED", message: "would delete 180 of 412", remedy: "" },
          { code: "AUTH_DENIED", message: "access_denied: the user is not on the app's test users list", remedy: "" },
        ],
        samples: [{ contactName: "Marie Dupont", side: "remote", action: "delete" }, { contactName: HOSTILE, side: "crm", action: "delete" }],
      });
      const { context, page, problems } = await openTab(browser, server.url, sc);
      try {
        const i = i18nFor(locale);
        const summary = await page.locator("#cs-summary").innerText();
        assert.ok(summary.includes(i.t("error.RATE_LIMITED.at", { time: "15:05" })), "next try at 15:05 Paris time");
        assert.ok(summary.includes(i.t("error.AUTH_DENIED.testUser")), "not on the test-user list");
        assert.ok(summary.includes(i.t("error.AUTH_DENIED.testUser.remedy")));
        const guard = await page.locator('#cs-summary .cs-error[data-code="GUARD_TRIPPED"] .cs-guard-list').innerText();
        assert.ok(guard.includes("Marie Dupont") && guard.includes(HOSTILE), "what it would have deleted");
        await page.locator('#cs-summary .cs-error[data-code="AUTH_EXPIRED"] button[data-action="reconnect"]').click();
        await page.waitForFunction(() => window.__calls.some((c) => c.method === "connect"));
        await page.locator('#cs-summary .cs-error[data-code="RATE_LIMITED"] button[data-action="retry"]').click();
        await page.waitForFunction(() => window.__calls.some((c) => c.method === "sync"));
        await page.locator('#cs-summary .cs-error[data-code="GUARD_TRIPPED"] button[data-action="guard"]').click();
        assert.ok(await page.locator("#cs-section-history").evaluate((d) => d.open), "the guard's button opens the history");
        assert.equal(await page.evaluate(() => window.__pwned), undefined);
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });

    test("keyboard only: every control is labelled, sections open with Enter, switches toggle with Space, focus is visible", async () => {
      await withTab("running", locale, {}, async (page, i) => {
        await page.evaluate(() => document.querySelectorAll("details.cs-section").forEach((d) => { d.open = true; }));
        await page.waitForTimeout(100);
        const unlabelled = await page.evaluate(() => {
          const named = (node) => {
            if (node.getAttribute("aria-label") || node.getAttribute("aria-labelledby")) return true;
            if (node.labels && node.labels.length && [...node.labels].some((l) => l.textContent.trim())) return true;
            return node.tagName === "BUTTON" || node.tagName === "SUMMARY" ? node.textContent.trim().length > 0 : false;
          };
          return [...document.querySelectorAll(".cs-tab input, .cs-tab select, .cs-tab button, .cs-tab summary")].filter((n) => !named(n)).map((n) => n.outerHTML.slice(0, 80));
        });
        assert.deepEqual(unlabelled, []);
        await page.evaluate(() => document.querySelectorAll("details.cs-section").forEach((d) => { d.open = false; }));
        await page.waitForTimeout(100);
        // Tab from the top of the page to the "What flows" section, open it, toggle a switch.
        await page.locator("body").focus();
        let reached = false;
        for (let n = 0; n < 40 && !reached; n += 1) {
          await page.keyboard.press("Tab");
          reached = await page.evaluate(() => document.activeElement?.id === "cs-section-flows-summary");
        }
        assert.ok(reached, "the section heading is reachable with Tab");
        const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
        assert.notEqual(outline, "none", "focus is visible");
        await page.keyboard.press("Enter");
        assert.ok(await page.locator("#cs-section-flows").evaluate((d) => d.open));
        await page.keyboard.press("Tab");
        assert.equal(await page.evaluate(() => document.activeElement?.id), "cs-sync-enabled");
        await page.keyboard.press("Space");
        await page.waitForFunction(() => window.__calls.filter((c) => c.method === "saveSettings").at(-1)?.args[0]["sync.enabled"] === false);
        await page.waitForFunction(() => document.activeElement?.id === "cs-sync-enabled");
        assert.ok(true, i.t("tab.saved"));
      });
    });
  });
}
