// The host contract as the page host implements it on IndexedDB: atomic writes,
// compare-and-set that holds across tabs (the lease), secrets kept apart, the CRM's
// versions and cursor seen consistently from two tabs, lists and tags management.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, openHost } from "./harness.mjs";

let h;
before(async () => { h = await startHarness(); });
after(async () => { await h?.stop(); });

test("storage.write is atomic and a missing key reads as null", async () => {
  const page = await openHost(h);
  const result = await page.evaluate(async () => {
    const { storage } = window.referenceHost.hostApi;
    await storage.write({ put: { "t/a": 1, "t/b": { nested: [1, 2] } } });
    let refused = null;
    try { await storage.write({ put: { "t/c": 3, "t/d": 10n }, delete: ["t/a"] }); } catch (e) { refused = e.code; }
    return { refused, values: await storage.get(["t/a", "t/b", "t/c", "t/missing"]), keys: await storage.list("t/") };
  });
  assert.deepEqual(result, { refused: "BAD_INPUT", values: { "t/a": 1, "t/b": { nested: [1, 2] }, "t/c": null, "t/missing": null }, keys: ["t/a", "t/b"] });
  await page.close();
});

test("compareAndSet lets exactly one of two tabs take the lease", async () => {
  const one = await openHost(h);
  const two = await openHost(h);
  const take = (page, owner) => page.evaluate(async (who) => {
    const { storage } = window.referenceHost.hostApi;
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => storage.compareAndSet("lease", null, { owner: who, n: i })));
    return results.filter(Boolean).length;
  }, owner);
  const [a, b] = await Promise.all([take(one, "tab-1"), take(two, "tab-2")]);
  assert.equal(a + b, 1);
  const released = await one.evaluate(async () => {
    const { storage } = window.referenceHost.hostApi;
    const { lease } = await storage.get(["lease"]);
    return storage.compareAndSet("lease", lease, null);
  });
  assert.equal(released, true);
  await one.close();
  await two.close();
});

test("secrets live apart from storage and are not shown anywhere in the page", async () => {
  const page = await openHost(h);
  const result = await page.evaluate(async () => {
    const { secrets, storage } = window.referenceHost.hostApi;
    await secrets.set("google.refreshToken", "1//secret-refresh-token-value");
    const keys = await storage.list("");
    const got = await secrets.get("google.refreshToken");
    return { keys, got, inPage: document.body.innerText.includes("secret-refresh-token-value") };
  });
  assert.equal(result.got, "1//secret-refresh-token-value");
  assert.ok(!result.keys.some((k) => k.includes("google")), "not in plugin storage");
  assert.equal(result.inPage, false);
  await page.click("#nav-log");
  assert.ok(!(await page.textContent("body")).includes("secret-refresh-token-value"));
  await page.evaluate(() => window.referenceHost.hostApi.secrets.delete("google.refreshToken"));
  assert.equal(await page.evaluate(() => window.referenceHost.hostApi.secrets.get("google.refreshToken")), null);
  await page.close();
});

test("a write in one tab makes the other tab's stale update a CONFLICT, and its cursor sees the change", async () => {
  const one = await openHost(h);
  const two = await openHost(h);
  const { id, version, cursor } = await two.evaluate(async () => {
    const crm = window.referenceHost.hostApi.crm;
    let cursor = null; let page;
    do { page = await crm.listChanges(cursor, 50); cursor = page.nextCursor; } while (page.hasMore);
    const c = (await crm.listChanges(null, 1)).contacts[0];
    return { id: c.id, version: c.version, cursor };
  });
  await one.evaluate(async ([cid, v]) => window.referenceHost.hostApi.crm.update(cid, v, { fields: { notes: "from tab one" } }), [id, version]);
  const outcome = await two.evaluate(async ([cid, v, cur]) => {
    const crm = window.referenceHost.hostApi.crm;
    let conflict = null;
    try { await crm.update(cid, v, { fields: { notes: "from tab two" } }); } catch (e) { conflict = { code: e.code, currentVersion: e.currentVersion }; }
    const changes = await crm.listChanges(cur, 50);
    return { conflict, changed: changes.contacts.map((c) => [c.id, c.fields.notes]) };
  }, [id, version, cursor]);
  assert.deepEqual(outcome, { conflict: { code: "CONFLICT", currentVersion: version + 1 }, changed: [[id, "from tab one"]] });
  await one.close();
  await two.close();
});

test("lists and tags are managed in their screen and offered in the contact form", async () => {
  const page = await openHost(h);
  await page.click("#nav-lists");
  await page.fill("#new-list-name", "Fournisseurs 2027");
  await page.click('#new-list-form button[type="submit"]');
  await page.waitForFunction(() => [...document.querySelectorAll("#lists-table input")].some((i) => i.value === "Fournisseurs 2027"));
  await page.fill("#new-tag-name", "à-rappeler");
  await page.click('#new-tag-form button[type="submit"]');
  await page.locator('#tags-table tr[data-tag="à-rappeler"]').waitFor();
  assert.ok((await page.evaluate(() => window.referenceHost.hostApi.crm.tags())).includes("à-rappeler"));
  await page.click("#nav-contacts");
  await page.click("#new-contact");
  assert.equal(await page.locator("#field-lists label", { hasText: "Fournisseurs 2027" }).count(), 1);
  await page.close();
});

test("ui.openAuthWindow opens a popup and resolves with the URL the callback page receives", async () => {
  const page = await openHost(h);
  const callback = h.url("/host/oauth-callback.html");
  const finalUrl = await page.evaluate(([cb]) => window.referenceHost.hostApi.ui.openAuthWindow(`${cb}?code=c0de&state=s7`, cb), [callback]);
  assert.equal(finalUrl, `${callback}?code=c0de&state=s7`);
  await page.close();
});

test("ui.openAuthWindow rejects AUTH_DENIED when the popup is closed, BAD_INPUT for a redirect it cannot catch", async () => {
  const page = await openHost(h);
  const popupOpened = page.waitForEvent("popup");
  const pending = page.evaluate(([cb]) => window.referenceHost.hostApi.ui.openAuthWindow("about:blank", cb).then(
    () => "resolved", (e) => e.code), [h.url("/host/oauth-callback.html")]);
  const popup = await popupOpened;
  await popup.close();
  assert.equal(await pending, "AUTH_DENIED");
  const elsewhere = await page.evaluate(() => window.referenceHost.hostApi.ui.openAuthWindow("https://accounts.google.com/o/oauth2/v2/auth", "https://elsewhere.example/cb").then(() => "resolved", (e) => e.code));
  assert.equal(elsewhere, "BAD_INPUT");
  await page.close();
});
