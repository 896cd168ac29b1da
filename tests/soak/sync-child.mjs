// One sync run as a server-side scheduler makes it: a fresh `node-host.mjs run-once` process
// over the soak's storage, CRM and secrets files, its clock shifted by the soak's offset
// (clock-shift.mjs), optionally SIGKILLed after `killAfterMs`, always after `limitMs`.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const NODE_HOST = fileURLToPath(new URL("../../www/node-host/node-host.mjs", import.meta.url));
const CLOCK_SHIFT = new URL("./clock-shift.mjs", import.meta.url).href;

/** The child of the run in progress, so that Ctrl-C can stop it. */
let current = null;

/** Kills the run in progress, if any. */
export function killSyncChild() {
  current?.kill("SIGKILL");
}

/**
 * @param {{files: {storage: string, crm: string, secrets: string}, trigger: "schedule"|"manual",
 *   clockOffsetMs: number, killAfterMs?: number|null, limitMs: number}} options
 * @returns {Promise<{why: "killed"|"hung"|null, code: number|null, stdout: string, stderr: string, durationMs: number}>}
 */
export function runSyncChild({ files, trigger, clockOffsetMs, killAfterMs = null, limitMs }) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", CLOCK_SHIFT, NODE_HOST, "run-once", "--dev", "--trigger", trigger,
      "--storage", files.storage, "--crm", files.crm, "--secrets", files.secrets], {
      env: { ...process.env, SOAK_CLOCK_OFFSET_MS: String(clockOffsetMs) }, stdio: ["ignore", "pipe", "pipe"],
    });
    current = child;
    let stdout = "";
    let stderr = "";
    let why = null;
    child.stdout.on("data", (c) => { stdout += c; });
    child.stderr.on("data", (c) => { stderr += c; });
    const kill = (reason) => { why = reason; child.kill("SIGKILL"); };
    const killTimer = killAfterMs === null ? null : setTimeout(() => kill("killed"), killAfterMs);
    const limitTimer = setTimeout(() => kill("hung"), limitMs);
    child.once("exit", (code) => {
      clearTimeout(killTimer);
      clearTimeout(limitTimer);
      current = null;
      resolve({ why, code, stdout, stderr, durationMs: Date.now() - started });
    });
  });
}
