// Screenshots of the settings tab's main screens, in English and French, for the README:
//   SCREENSHOTS=1 node --test tests/e2e/settings.screenshots.test.mjs
// They are drawn by the real tab in Chromium with the scripted plugin of the component
// tests (settings.fake-plugin.js), so every screen shows realistic, repeatable data.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir, stat } from "node:fs/promises";
import { startStaticServer, launchChromium, openTab, scenario as hostileScenario, report, ROOT, HOSTILE } from "./settings.support.mjs";

/** The test scenarios with plain names instead of the hostile ones (those are for the tests). */
function scenario(...args) {
  const s = hostileScenario(...args);
  s.lists = s.lists.map((l) => (l.name === HOSTILE ? { ...l, name: "Partners" } : l));
  s.tags = s.tags.map((tag) => (tag === HOSTILE ? "newsletter" : tag));
  return JSON.parse(JSON.stringify(s).replaceAll(JSON.stringify(HOSTILE).slice(1, -1), "Camille Leroy"));
}

const OUT = `${ROOT}docs/screenshots/`;
const enabled = process.env.SCREENSHOTS === "1";
let server;
let browser;
before(async () => {
  if (!enabled) return;
  await mkdir(OUT, { recursive: true });
  server = await startStaticServer();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** Opens a scenario, lets `prepare` bring the screen up, saves the tab (or `selector`) as PNG. */
async function shoot(name, kind, locale, extra, prepare, selector = ".cs-tab") {
  const { context, page, problems } = await openTab(browser, server.url, scenario(kind, locale, extra));
  try {
    await prepare(page);
    await page.evaluate(() => document.activeElement?.blur());
    const file = `${OUT}${name}.png`;
    await page.locator(selector).screenshot({ path: file });
    assert.ok((await stat(file)).size > 10_000, `${name}.png looks empty`);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
}
const open = (page, id) => page.locator(`#cs-section-${id}-summary`).click();
const opts = { skip: enabled ? false : "set SCREENSHOTS=1 to regenerate docs/screenshots/" };

test("first run: the guided path (English)", opts, () => shoot("settings-first-run-en", "fresh", "en-GB", {}, async () => {}));

test("summary and connections of a working Google account (French)", opts, () => shoot("settings-summary-connections-fr", "running", "fr-FR", {}, async (page) => {
  await open(page, "connections");
}));

test("preview before the first sync (English)", opts, () => {
  const status = { running: false, spokes: [{ id: "google-1", kind: "google", name: "Google", state: "connected", account: "demo@example.com", linked: 0 }] };
  return shoot("settings-preview-en", "fresh", "en-GB", { status }, async (page) => {
    await page.locator("#cs-guide-preview").click();
    await page.locator("#cs-run-preview").click();
    await page.locator("#cs-preview").waitFor();
  }, "#cs-section-run");
});

test("a sync in progress with counts and Cancel (English)", opts, () => shoot("settings-progress-en", "running", "en-GB", { stepMs: 1500 }, async (page) => {
  await open(page, "run");
  await page.locator("#cs-run-sync").click();
  await page.waitForFunction(() => /67/.test(document.querySelector("#cs-progress-text")?.textContent ?? ""), null, { timeout: 10_000 });
}, "#cs-section-run"));

test("what flows with an export filter by lists (English)", opts, () => shoot("settings-flows-en", "running", "en-GB", {}, async (page) => {
  await open(page, "flows");
  await page.locator("#cs-filter-mode-lists").check();
  await page.getByLabel("Customers", { exact: true }).check();
  await page.locator("#cs-filter-lists").waitFor();
}, "#cs-section-flows"));

test("field mapping refusing a type mismatch (French)", opts, () => shoot("settings-mapping-fr", "running", "fr-FR", {}, async (page) => {
  await open(page, "fields");
  const index = await page.locator('#cs-mapping tr[data-crm-field="birthday"]').getAttribute("data-row");
  await page.locator(`#cs-map-${index}-remote`).selectOption("emails");
  await page.locator("#cs-map-refusal").waitFor();
}, "#cs-section-fields"));

test("history with the chart, a conflict and undo (English)", opts, () => shoot("settings-history-en", "running", "en-GB", {}, async (page) => {
  await open(page, "history");
  await page.locator("#cs-history-chart").waitFor();
}, "#cs-section-history"));

test("errors with their remedies: expired account, quota, mass-deletion guard (French)", opts, () => {
  const sc = scenario("running", "fr-FR");
  const spoke = sc.status.spokes[0];
  spoke.state = "error";
  spoke.problem = { code: "AUTH_EXPIRED", message: "invalid_grant", remedy: "" };
  spoke.lastRun = report("google-1", "2026-11-23T13:30:00Z", {
    outcome: "guard",
    errors: [
      { code: "RATE_LIMITED", message: "429", remedy: "", retryAt: "2026-11-23T14:05:00Z" },
      { code: "GUARD_TRIPPED", message: "would delete 180 of 412", remedy: "" },
    ],
    samples: [{ contactName: "Marie Dupont", side: "remote", action: "delete" }, { contactName: "Jean Martin", side: "remote", action: "delete" }],
  });
  return shoot("settings-errors-fr", "running", "fr-FR", { status: sc.status }, async () => {}, "#cs-summary");
});
