// Drives Debian's Chromium (playwright-core, no downloaded browser) against the Google
// emulator: clicks through the consent page, then calls the emulator from a page on another
// loopback origin (CORS, preflight), and checks that a dropped connection is a network error.
// Usage: node consent_and_cors.mjs <emulator url> <app url>; prints one JSON line.
import { chromium } from "playwright-core";

const [emu, app] = process.argv.slice(2);
const result = { consoleErrors: [] };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_BIN ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
});
try {
  const page = await browser.newPage();
  page.on("console", (m) => { if (m.type() === "error") result.consoleErrors.push(m.text()); });
  const auth = new URL("/o/oauth2/v2/auth", emu);
  auth.search = new URLSearchParams({
    client_id: "demo-client.apps.googleusercontent.com",
    redirect_uri: `${app}/callback`,
    response_type: "code",
    scope: "https://www.googleapis.com/auth/contacts",
    access_type: "offline",
    state: "browser-state",
  }).toString();
  await page.goto(auth.toString());
  result.title = await page.title();
  result.appName = await page.textContent("#app-name");
  await Promise.all([page.waitForURL(`${app}/callback**`), page.click("#allow")]);
  const back = new URL(page.url());
  result.code = back.searchParams.get("code");
  result.state = back.searchParams.get("state");

  await page.goto(`${app}/blank`);
  result.token = await page.evaluate(async ([emu, app, code]) => {
    const body = new URLSearchParams({
      grant_type: "authorization_code", code, client_id: "demo-client.apps.googleusercontent.com",
      client_secret: "demo-secret", redirect_uri: `${app}/callback`,
    });
    const r = await fetch(`${emu}/token`, { method: "POST", body });
    const j = await r.json();
    const list = await fetch(`${emu}/v1/people/me/connections?personFields=names&pageSize=5`, {
      headers: { Authorization: `Bearer ${j.access_token}` },
    });
    const listed = await list.json();
    const patch = await fetch(`${emu}/v1/${listed.connections[0].resourceName}:updateContact?updatePersonFields=nicknames`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${j.access_token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ etag: listed.connections[0].etag, nicknames: [{ value: "from the browser" }] }),
    });
    await fetch(`${emu}/__admin/faults`, { method: "POST", body: JSON.stringify({ pathPrefix: "/v1/", count: 1, kind: "drop" }) });
    let dropped = "no error";
    try {
      await fetch(`${emu}/v1/people/me?personFields=names`, { headers: { Authorization: `Bearer ${j.access_token}` } });
    } catch (e) {
      dropped = e.name;
    }
    await fetch(`${emu}/__admin/faults`, { method: "POST", body: JSON.stringify({ pathPrefix: "/v1/", count: 1, kind: "status", status: 429 }) });
    const limited = await fetch(`${emu}/v1/people/me?personFields=names`, { headers: { Authorization: `Bearer ${j.access_token}` } });
    return {
      tokenStatus: r.status, hasRefresh: typeof j.refresh_token === "string",
      listStatus: list.status, listed: listed.connections.length, patchStatus: patch.status,
      dropped, limitedStatus: limited.status, retryAfter: limited.headers.get("Retry-After"),
    };
  }, [emu, app, result.code]);
} catch (e) {
  result.failure = String(e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
