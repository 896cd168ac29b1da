// The Node host's file-backed secrets (`secretsFile`, `run-once --secrets FILE`): what lets
// one `run-once` process after another (cron, the soak) use the tokens a connect stored.
// Unencrypted, for tests and the soak only: the file is created 0600, a file other users
// may read is refused, and secrets never reach the storage file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createNodeHost } from "../../www/node-host/node-host.mjs";

const NODE_HOST = fileURLToPath(new URL("../../www/node-host/node-host.mjs", import.meta.url));

async function tempDir(t) {
  const dir = await mkdtemp(join(tmpdir(), "secrets-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test("secrets kept in a secrets file survive a restart, in a file only its owner can read", async (t) => {
  const dir = await tempDir(t);
  const secretsFile = join(dir, "secrets.json");
  const storageFile = join(dir, "storage.json");
  const one = await createNodeHost({ secretsFile, storageFile });
  await one.hostApi.secrets.set("google.g1.refreshToken", "1//very-secret-token");
  await one.hostApi.secrets.set("carddav.d1.password", "wonderland");
  await one.hostApi.storage.write({ put: { "spoke.g1.state": "{}" } });
  assert.equal((await stat(secretsFile)).mode & 0o777, 0o600);

  const two = await createNodeHost({ secretsFile, storageFile });
  assert.equal(await two.hostApi.secrets.get("google.g1.refreshToken"), "1//very-secret-token");
  assert.deepEqual(two.secretNames().sort(), ["carddav.d1.password", "google.g1.refreshToken"]);
  await two.hostApi.secrets.delete("carddav.d1.password");
  const three = await createNodeHost({ secretsFile });
  assert.equal(await three.hostApi.secrets.get("carddav.d1.password"), null);
  assert.ok(!(await readFile(storageFile, "utf8")).includes("very-secret-token"), "secrets never reach the storage file");
  assert.equal((await stat(secretsFile)).mode & 0o777, 0o600, "still 0600 after a rewrite");
});

test("a secrets file other users may read is refused with STORAGE and a remedy, and not read", async (t) => {
  const dir = await tempDir(t);
  const secretsFile = join(dir, "secrets.json");
  await writeFile(secretsFile, JSON.stringify({ "google.g1.refreshToken": "1//x" }));
  await chmod(secretsFile, 0o644);
  await assert.rejects(createNodeHost({ secretsFile }), (e) => {
    assert.equal(e.code, "STORAGE");
    assert.match(e.remedy, /chmod 600/);
    assert.ok(!e.message.includes("1//x"));
    return true;
  });
});

test("an unreadable secrets file is a STORAGE error naming the file, not a crash", async (t) => {
  const dir = await tempDir(t);
  const secretsFile = join(dir, "secrets.json");
  await writeFile(secretsFile, '{"google.g1.refreshToken": "1//trunc', { mode: 0o600 });
  await assert.rejects(createNodeHost({ secretsFile }), (e) => e.code === "STORAGE" && e.message.includes(secretsFile) && !e.message.includes("1//trunc"));
  await writeFile(secretsFile, JSON.stringify({ a: 1 }), { mode: 0o600 });
  await assert.rejects(createNodeHost({ secretsFile }), { code: "STORAGE" });
});

test("run-once --secrets refuses a readable secrets file before running anything", async (t) => {
  const dir = await tempDir(t);
  const secretsFile = join(dir, "secrets.json");
  await writeFile(secretsFile, "{}");
  await chmod(secretsFile, 0o640);
  const run = spawnSync(process.execPath, [NODE_HOST, "run-once", "--secrets", secretsFile, "--storage", join(dir, "s.json")], { encoding: "utf8" });
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stdout, /"code": "STORAGE"/);
});
