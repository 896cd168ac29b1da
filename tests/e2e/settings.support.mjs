// Support for the settings tab's browser tests: a static server with a strict CSP (no
// inline script or style allowed), Debian's Chromium through playwright-core, a page that
// fails the test on any console error, page error or CSP violation, and the scenario data
// (a realistic field catalogue, settings, statuses and reports) the scripted plugin serves.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, normalize, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const HOSTILE = `<img src=x onerror="window.__pwned=1">`;
export const STRICT_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const TYPES = { ".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json", ".css": "text/css", ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml" };
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Settings tab</title>
<link rel="icon" href="data:,"><link rel="stylesheet" href="/tests/e2e/settings.page.css"></head>
<body><main id="app"></main><script type="module" src="/tests/e2e/settings.page.js"></script></body></html>`;
const PAGE_CSS = "body { font-family: system-ui, sans-serif; margin: 1.5rem; background: #fff; }";

/** Serves www/ and the test page on 127.0.0.1 (free port) with the strict CSP; resolves {url, close}. */
export async function startStaticServer({ devConfig } = {}) {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const headers = { "content-security-policy": STRICT_CSP, "cache-control": "no-store" };
    if (path === "/" || path === "/settings.html") {
      res.writeHead(200, { ...headers, "content-type": TYPES[".html"] }).end(PAGE);
      return;
    }
    if (path === "/tests/e2e/settings.page.css") {
      res.writeHead(200, { ...headers, "content-type": TYPES[".css"] }).end(PAGE_CSS);
      return;
    }
    if (path === "/dev-config.json" && devConfig) {
      res.writeHead(200, { ...headers, "content-type": TYPES[".json"] }).end(JSON.stringify(devConfig));
      return;
    }
    const allowed = path.startsWith("/www/") || path === "/tests/e2e/settings.fake-plugin.js" || path === "/tests/e2e/settings.page.js";
    const file = normalize(join(ROOT, path));
    if (!allowed || !file.startsWith(ROOT)) {
      res.writeHead(404, headers).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { ...headers, "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404, headers).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) };
}

/** Debian's Chromium, headless, with the flags the project uses everywhere. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

/**
 * Opens the tab with `scenario` in a new context (Paris time, the scenario's locale) and
 * collects console errors, page errors, CSP violations and dialogs into `problems`.
 */
export async function openTab(browser, baseUrl, scenario) {
  const context = await browser.newContext({ locale: scenario.locale, timezoneId: "Europe/Paris", viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("dialog", (d) => { problems.push(`dialog: ${d.message()}`); d.dismiss().catch(() => {}); });
  await page.addInitScript((s) => {
    window.__scenario = s;
    document.addEventListener("securitypolicyviolation", (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  }, scenario);
  await page.goto(`${baseUrl}/settings.html`);
  await page.locator('.cs-tab[data-state="ready"]').waitFor();
  return { context, page, problems };
}

/** Everything visible in the tab as text (to check sentences and that no token leaks). */
export function tabText(page) {
  return page.locator(".cs-tab").innerText();
}

// ---------- scenario data ----------
const CRM_FIELDS = [
  { id: "firstName", label: "First name", type: "text" },
  { id: "lastName", label: "Last name", type: "text" },
  { id: "company", label: "Company", type: "text" },
  { id: "jobTitle", label: "Job title", type: "text" },
  { id: "emails", label: "E-mail addresses", type: "email-list" },
  { id: "phones", label: "Phone numbers", type: "phone-list" },
  { id: "addresses", label: "Postal addresses", type: "address-list" },
  { id: "birthday", label: "Birthday", type: "date" },
  { id: "notes", label: "Notes", type: "longtext" },
  { id: "website", label: "Website", type: "url" },
  { id: "doNotContact", label: "Do not contact", type: "boolean" },
  { id: "deletedRemotely", label: "Deleted in the address book", type: "boolean", custom: true },
  { id: "owner", label: "Owner", type: "user", readOnly: true },
  { id: "custom_hostile", label: `Custom ${HOSTILE}`, type: "text", custom: true },
];
const REMOTE_FIELDS = [
  { id: "name.given", label: "Given name", type: "text" },
  { id: "name.family", label: "Family name", type: "text" },
  { id: "organization.name", label: "Organisation", type: "text" },
  { id: "organization.title", label: "Title", type: "text" },
  { id: "emails", label: "E-mails", type: "email-list" },
  { id: "phones", label: "Phones", type: "phone-list" },
  { id: "addresses", label: "Addresses", type: "address-list" },
  { id: "birthday", label: "Birthday", type: "date" },
  { id: "biography", label: "Notes", type: "longtext" },
  { id: "urls", label: "Web site", type: "url" },
];
const row = (crmField, remoteField) => ({ crmField, remoteField, direction: "both", priority: "newest", fillEmpty: true });
const DEFAULT_MAPPING = [
  row("firstName", "name.given"), row("lastName", "name.family"), row("company", "organization.name"),
  row("jobTitle", "organization.title"), row("emails", "emails"), row("phones", "phones"),
  row("addresses", "addresses"), row("birthday", "birthday"), row("notes", "biography"),
];

export function defaultSettings() {
  return {
    "sync.enabled": true, "sync.import": true, "sync.export": true, "sync.onOpen": false, "sync.onChange": true,
    "filter.mode": "all", "filter.lists": [], "filter.tags": [], "filter.validMobileOnly": false, "filter.onLeave": "keep",
    "deletion.policy": "propagate", "deletion.flagField": "deletedRemotely", "guard.maxDeleteShare": 0.2,
    "phone.defaultRegion": "FR", "mapping.fields": structuredClone(DEFAULT_MAPPING), "mapping.labels": [], spokes: [],
  };
}

const counts = (crm, remote, extra = {}) => ({
  crm: { created: crm[0], updated: crm[1], deleted: crm[2] }, remote: { created: remote[0], updated: remote[1], deleted: remote[2] },
  linkedByEmail: 0, linkedByPhone: 0, linkedById: 0, conflicts: 0, ambiguous: 0, unchanged: 0, skippedByFilter: 0, ...extra,
});

/** A report as the plugin returns it; `at` is the finish instant. */
export function report(spokeId, at, overrides = {}) {
  const finished = new Date(at);
  return {
    runId: `run-${finished.getTime()}`, spokeId, trigger: "schedule", dryRun: false,
    startedAt: new Date(finished.getTime() - 2400).toISOString(), finishedAt: finished.toISOString(),
    outcome: "ok", counts: counts([1, 2, 0], [3, 1, 0]), conflicts: [], ambiguities: [], samples: [], notices: [], errors: [],
    undoable: false, more: false, ...overrides,
  };
}

/** 14:45 in Paris on 23/11/2026 (the examples of SETTINGS-UX.md). */
export const NEXT_RUN = "2026-11-23T13:45:00.000Z";

/**
 * A scenario: `fresh` (nothing connected, first run) or `running` (a connected Google
 * account with history, a conflict and hostile names everywhere a contact value shows).
 */
export function scenario(kind, locale, extra = {}) {
  const defaults = defaultSettings();
  const base = {
    locale, defaults, settings: structuredClone(defaults),
    catalogue: { crm: CRM_FIELDS, remote: REMOTE_FIELDS, defaults: DEFAULT_MAPPING },
    lists: [{ id: "l1", name: "Customers" }, { id: "l2", name: "Suppliers" }, { id: "l3", name: HOSTILE }],
    tags: ["vip", "prospect", HOSTILE],
    status: { running: false, spokes: [] },
    history: {},
    previewReport: report("google-1", "2026-11-23T13:30:00Z", {
      dryRun: true, trigger: "manual",
      counts: counts([12, 3, 0], [47, 5, 0], { linkedByEmail: 290, linkedByPhone: 20, linkedById: 0, ambiguous: 3, conflicts: 1, unchanged: 310 }),
      samples: [
        { contactName: "Marie Dupont", side: "remote", action: "create" },
        { contactName: HOSTILE, side: "crm", action: "update", fields: ["phones"] },
      ],
      ambiguities: [{ key: "contact@acme.example", crmIds: ["c1", "c2"], remoteIds: ["p1"], reason: "same e-mail on two contacts" }],
      conflicts: [{ contactName: "Jean Martin", field: "phones", crmValue: [{ value: "+33 6 12 34 56 78" }], remoteValue: [{ value: "+33 6 98 76 54 32" }], kept: "remote", rule: "newest" }],
    }),
    syncReports: [report("google-1", "2026-11-23T13:31:00Z", { trigger: "manual", counts: counts([12, 3, 0], [47, 5, 0]) })],
    progress: [
      { spokeId: "google-1", phase: "pull", done: 120, total: 400 },
      { spokeId: "google-1", phase: "match", done: 400, total: 400 },
      { spokeId: "google-1", phase: "write", done: 20, total: 67 },
      { spokeId: "google-1", phase: "write", done: 67, total: 67 },
    ],
    undoReport: report("google-1", "2026-11-23T13:40:00Z", { trigger: "undo", counts: counts([0, 3, 12], [0, 5, 47]) }),
    failures: {},
  };
  if (kind === "running") {
    const spoke = { id: "google-1", kind: "google", name: "Google", allowCreate: true, clientId: "demo-client.apps.googleusercontent.com" };
    base.settings.spokes = [spoke];
    const last = report("google-1", "2026-11-23T13:30:00Z", {
      undoable: true,
      counts: counts([1, 2, 0], [3, 1, 0], { conflicts: 1 }),
      conflicts: [{ contactName: HOSTILE, field: "phones", crmValue: [{ value: "+33 6 12 34 56 78" }], remoteValue: [{ value: "+33 6 98 76 54 32" }], kept: "crm", rule: "crm" }],
    });
    base.status.spokes = [{
      id: "google-1", kind: "google", name: "Google", state: "connected", account: "demo@example.com",
      lastRun: last, lastSuccessAt: last.finishedAt, nextRunAt: NEXT_RUN, linked: 412,
    }];
    base.history["google-1"] = [
      last,
      report("google-1", "2026-11-23T13:15:00Z", { counts: counts([0, 1, 0], [0, 0, 0]) }),
      report("google-1", "2026-11-23T13:00:00Z", { outcome: "failed", counts: counts([0, 0, 0], [0, 0, 0]), errors: [{ code: "NETWORK", message: "connect ECONNREFUSED", remedy: "Check the network." }] }),
      report("google-1", "2026-11-23T12:45:00Z", { counts: counts([5, 8, 1], [2, 9, 0]) }),
    ];
  }
  return { ...base, ...extra };
}
