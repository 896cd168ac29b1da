// Shared set-up for the page tests: starts the built development server on free ports,
// launches Debian's Chromium through playwright-core (never a downloaded browser), watches
// every page for console errors, uncaught exceptions and CSP violations, and stops it all.
//
//   const h = await startHarness();
//   const page = await h.newPage();
//   await page.goto(h.url("/host/index.html"));
//   ...
//   await h.stop();          // throws if any page logged an error or a CSP violation
import { spawn } from "node:child_process";
import { mkdtemp, rm, access } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const DEVSERVER_BIN = process.env.DEVSERVER_BIN ?? join(REPO, "target", "debug", "devserver");
export const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run",
];

/** Starts the devserver and resolves with the parsed READY line ({host, google}). */
async function startServer({ google }) {
  try {
    await access(DEVSERVER_BIN);
  } catch {
    throw new Error(`The development server is not built (${DEVSERVER_BIN}). Run: cargo build -p devserver`);
  }
  const args = ["serve", "--port", "0", ...(google ? ["--google-port", "0"] : [])];
  const child = spawn(DEVSERVER_BIN, args, { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => { stderr += chunk; });
  const ready = await new Promise((resolve, reject) => {
    let buffer = "";
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`devserver printed no READY line within 30 s. stderr: ${stderr}`)); }, 30_000);
    child.stdout.on("data", (chunk) => {
      buffer += chunk;
      const line = buffer.split("\n").find((l) => l.startsWith("READY "));
      if (!line) return;
      clearTimeout(timer);
      try { resolve(JSON.parse(line.slice("READY ".length))); } catch (error) { reject(new Error(`Unreadable READY line: ${line}`)); }
    });
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`devserver exited early (${code}). stderr: ${stderr}`)); });
  });
  child.stdout.resume();
  return { child, ready };
}

function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => { clearTimeout(timer); resolve(); });
    child.kill("SIGTERM");
  });
}

/**
 * @param {{google?: boolean, hostName?: string}} [options] google: also start the Google
 *   emulator; hostName: open the pages at http://<hostName>:<port>/ (Chromium resolves the
 *   name to 127.0.0.1), so the reference host runs as in production, not in development mode
 * @returns {Promise<{hostUrl: string, googleUrl: string|null, url(path: string): string, context: import("playwright-core").BrowserContext,
 *   newPage(): Promise<import("playwright-core").Page>, problems: string[], assertClean(): void, stop(): Promise<void>}>}
 */
export async function startHarness({ google = false, hostName = null } = {}) {
  const { child, ready } = await startServer({ google });
  const profile = await mkdtemp(join(tmpdir(), "contact-sync-chromium-"));
  const hostUrl = hostName ? ready.host.replace("//127.0.0.1:", `//${hostName}:`) : ready.host;
  const args = hostName ? [...CHROMIUM_ARGS, `--host-resolver-rules=MAP ${hostName} 127.0.0.1`] : CHROMIUM_ARGS;
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, args, locale: "en-GB",
    });
  } catch (error) {
    await stopProcess(child);
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
  const problems = [];
  // CSP violations are reported as events too: surface them even if Chromium's console
  // message changes wording.
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} in ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  const watch = (page) => {
    page.on("console", (msg) => { if (msg.type() === "error") problems.push(`console error on ${page.url()}: ${msg.text()}`); });
    page.on("response", (response) => { if (response.status() >= 400) problems.push(`HTTP ${response.status()} for ${response.url()} (from ${page.url()})`); });
    page.on("pageerror", (error) => problems.push(`uncaught exception on ${page.url()}: ${error.message}`));
    page.on("worker", (worker) => worker.on("console", (msg) => { if (msg.type() === "error") problems.push(`worker console error: ${msg.text()}`); }));
  };
  context.on("page", watch);
  for (const page of context.pages()) watch(page);

  const harness = {
    hostUrl,
    googleUrl: ready.google ?? null,
    context,
    problems,
    url: (path) => new URL(path, hostUrl).href,
    async newPage() {
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      return page;
    },
    /** Throws when any page logged an error or a CSP violation so far. */
    assertClean() {
      if (problems.length) throw new Error(`Pages reported problems:\n${problems.join("\n")}`);
    },
    async stop() {
      try { await context.close(); } catch { /* already closed */ }
      await stopProcess(child);
      await rm(profile, { recursive: true, force: true });
      harness.assertClean();
    },
  };
  return harness;
}

/** Opens the reference host and waits until the CRM and the plugin have started. */
export async function openHost(harness, page = null) {
  const p = page ?? (await harness.newPage());
  await p.goto(harness.url("/host/index.html"));
  await p.waitForSelector('body[data-state="ready"]');
  await p.waitForSelector("body[data-plugin]");
  return p;
}
