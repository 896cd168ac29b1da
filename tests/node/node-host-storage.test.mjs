// The storage and secrets half of the host contract in the headless Node host:
// atomic multi-key writes, compare-and-set (the lease primitive), file persistence.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, chmod, rm, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeHost } from "../../www/node-host/node-host.mjs";

test("a missing key reads as null; write puts and deletes several keys at once", async () => {
  const { hostApi } = await createNodeHost();
  assert.deepEqual(await hostApi.storage.get(["a"]), { a: null });
  await hostApi.storage.write({ put: { a: 1, b: { x: [1, 2] } } });
  await hostApi.storage.write({ put: { c: "three" }, delete: ["a"] });
  assert.deepEqual(await hostApi.storage.get(["a", "b", "c"]), { a: null, b: { x: [1, 2] }, c: "three" });
  assert.deepEqual(await hostApi.storage.list(""), ["b", "c"]);
});

test("a write with one bad value writes nothing (atomic)", async () => {
  const { hostApi } = await createNodeHost();
  await hostApi.storage.write({ put: { keep: 1 } });
  await assert.rejects(hostApi.storage.write({ put: { a: 1, b: 10n }, delete: ["keep"] }), { code: "BAD_INPUT" });
  assert.deepEqual(await hostApi.storage.get(["a", "keep"]), { a: null, keep: 1 });
});

test("a write whose save fails changes nothing in memory either", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "kv-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const storageFile = join(dir, "sub", "storage.json");
  await mkdir(join(dir, "sub"));
  const { hostApi } = await createNodeHost({ storageFile });
  await hostApi.storage.write({ put: { a: 1 } });
  await rm(join(dir, "sub"), { recursive: true });
  await assert.rejects(hostApi.storage.write({ put: { a: 2, b: 3 } }), { code: "STORAGE" });
  assert.deepEqual(await hostApi.storage.get(["a", "b"]), { a: 1, b: null });
});

test("compareAndSet writes only when the current value deep-equals the expected one", async () => {
  const { hostApi } = await createNodeHost();
  assert.equal(await hostApi.storage.compareAndSet("lease", null, { owner: "tab", until: 10 }), true);
  assert.equal(await hostApi.storage.compareAndSet("lease", null, { owner: "server", until: 20 }), false);
  assert.equal(await hostApi.storage.compareAndSet("lease", { until: 10, owner: "tab" }, { owner: "tab", until: 30 }), true, "key order does not matter");
  assert.equal(await hostApi.storage.compareAndSet("lease", { owner: "tab", until: 30 }, null), true, "null deletes");
  assert.deepEqual(await hostApi.storage.get(["lease"]), { lease: null });
});

test("of many concurrent compareAndSet calls for the same lease exactly one wins", async () => {
  const { hostApi } = await createNodeHost();
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => hostApi.storage.compareAndSet("lease", null, { owner: i })));
  assert.equal(results.filter(Boolean).length, 1);
});

test("storage persisted to a file survives a restart; secrets never reach that file", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "kv-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const storageFile = join(dir, "storage.json");
  const one = await createNodeHost({ storageFile });
  await one.hostApi.storage.write({ put: { "state/google": { cursor: "abc" } } });
  await one.hostApi.secrets.set("google.refreshToken", "1//very-secret-token");
  const two = await createNodeHost({ storageFile });
  assert.deepEqual(await two.hostApi.storage.get(["state/google"]), { "state/google": { cursor: "abc" } });
  assert.ok(!(await readFile(storageFile, "utf8")).includes("very-secret-token"));
  assert.equal(await two.hostApi.secrets.get("google.refreshToken"), null, "secrets live in memory only");
  assert.equal(await one.hostApi.secrets.get("google.refreshToken"), "1//very-secret-token");
  await one.hostApi.secrets.delete("google.refreshToken");
  assert.equal(await one.hostApi.secrets.get("google.refreshToken"), null);
});

test("log records mask fields that look like credentials", async () => {
  const host = await createNodeHost();
  host.hostApi.log("info", "token refreshed", { accessToken: "ya29.secret", spoke: "g1", nested: { password: "pw" } });
  const [record] = host.logs;
  assert.equal(record.fields.accessToken, "[redacted]");
  assert.equal(record.fields.nested.password, "[redacted]");
  assert.equal(record.fields.spoke, "g1");
  assert.ok(!JSON.stringify(host.logs).includes("ya29.secret"));
});
