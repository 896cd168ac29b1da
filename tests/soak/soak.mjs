// The soak of the whole stack: the Node host running the built plugin in a child process per
// sync run, the Google emulator, Radicale behind a fault proxy. Random edits on all three
// sides, faults on about a fifth of the requests, runs killed (SIGKILL) at random moments and
// restarted; then faults off, runs until quiet, and the end state checked (checker.mjs).
//
//   node tests/soak/soak.mjs [--minutes N] [--seed S] [--people N] [--fault-share F]
//                            [--kill-share K] [--keep] [--trace S0001,S0002]
//
// --minutes (default 2, at most 60) bounds the whole command, final runs included. Exit 0
// when every check passes, 1 on a violation (each printed, with the command that replays the
// seed), 2 on bad arguments or a stack that would not start. scripts/soak.sh is the front door.
import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkEndState, mergedPairs } from "./checker.mjs";
import { SoakModel } from "./model.mjs";
import { seededRandom } from "./random.mjs";
import { asTyped, planRound, seedPeople, valueSource } from "./scenarios.mjs";
import { carddavSide, crmSide, googleSide, SIDES } from "./sides.mjs";
import { connectSpokes, GOOGLE_ACCOUNT, SPOKES, startStack } from "./stack.mjs";
import { killSyncChild, runSyncChild } from "./sync-child.mjs";

/** A killed run's lease blocks its spoke this long (src/runner.rs LEASE_TTL_MS). */
const LEASE_TTL_MS = 5 * 60_000;
/** A run still going after this long is killed and counted as hung. */
const HANG_MS = 180_000;
/** Google faults (the emulator's own API): about a fifth of People API and token requests. */
const GOOGLE_FAULTS = [
  { pathPrefix: "/v1", fraction: 0.03, kind: "status", status: 429 },
  { pathPrefix: "/v1", fraction: 0.04, kind: "status", status: 500 },
  { pathPrefix: "/v1", fraction: 0.04, kind: "status", status: 503 },
  { pathPrefix: "/v1", fraction: 0.03, kind: "latency", ms: 1500 },
  { pathPrefix: "/v1", fraction: 0.03, kind: "drop" },
  { pathPrefix: "/v1", fraction: 0.02, kind: "malformed" },
  { pathPrefix: "/v1", fraction: 0.02, kind: "truncated" },
  { pathPrefix: "/token", fraction: 0.1, kind: "status", status: 503 },
  { pathPrefix: "/token", fraction: 0.1, kind: "drop" },
];
const GOOGLE_WRITE = /^people\.(createContact|updateContact|deleteContact|batchCreateContacts|batchUpdateContacts|batchDeleteContacts)$/;
const USAGE = "usage: scripts/soak.sh [--minutes N] [--seed S] [--people N] [--fault-share F] [--kill-share K] [--keep] [--trace S0001,…]";

function parseArgs(argv) {
  const flags = new Set(["--keep"]);
  const valued = new Set(["--minutes", "--seed", "--people", "--fault-share", "--kill-share", "--trace"]);
  const given = {};
  const problems = [];
  for (let i = 0; i < argv.length; i++) {
    if (flags.has(argv[i])) given[argv[i]] = true;
    else if (valued.has(argv[i]) && argv[i + 1] !== undefined) given[argv[i]] = argv[++i];
    else problems.push(`unknown option or missing value: ${argv[i]}`);
  }
  const options = {
    minutes: Number(given["--minutes"] ?? 2),
    seed: Number(given["--seed"] ?? Math.floor(Math.random() * 2 ** 32)),
    people: Number(given["--people"] ?? 300),
    faultShare: Number(given["--fault-share"] ?? 0.2),
    killShare: Number(given["--kill-share"] ?? 0.3),
    keep: !!given["--keep"],
    /** Soak ids whose records on every side go to runs.log at each round (to reduce a violation). */
    trace: String(given["--trace"] ?? "").split(",").filter(Boolean),
  };
  if (!(options.minutes > 0 && options.minutes <= 60)) problems.push("--minutes must be more than 0 and at most 60");
  if (!Number.isInteger(options.seed) || options.seed < 0 || options.seed >= 2 ** 32) problems.push("--seed must be an integer in [0, 2^32)");
  if (!Number.isInteger(options.people) || options.people < 10 || options.people > 5000) problems.push("--people must be an integer in [10, 5000]");
  if (!(options.faultShare >= 0 && options.faultShare <= 0.5)) problems.push("--fault-share must be in [0, 0.5]");
  if (!(options.killShare >= 0 && options.killShare <= 1)) problems.push("--kill-share must be in [0, 1]");
  return { options, problems };
}

const median = (xs) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : null);
const sum = (xs) => xs.reduce((a, b) => a + b, 0);

function countBy(keys) {
  const out = {};
  for (const k of keys) out[k] = (out[k] ?? 0) + 1;
  return out;
}

function groupBySoakId(records) {
  const out = new Map();
  for (const r of records) if (r.soakId) out.set(r.soakId, [...(out.get(r.soakId) ?? []), r]);
  return out;
}

function describeAction(a) {
  if (a.kind === "create") return `create ${a.id} on ${a.sides.join(" and ")}`;
  if (a.kind === "delete") return `delete ${a.person.id} on ${a.side}`;
  const change = a.removed ? `-${JSON.stringify(a.removed)} +${JSON.stringify(a.added)}` : JSON.stringify(a.changes[a.field]);
  return `${a.side} edits ${a.person.id} ${a.field} ${change}`;
}

/** Everything one soak needs while it runs: the stack, the sides, the model, the tallies. */
class Soak {
  constructor(options, dir) {
    this.options = options;
    this.dir = dir;
    this.files = { storage: join(dir, "storage.json"), crm: join(dir, "crm.json"), secrets: join(dir, "secrets.json"), log: join(dir, "runs.log") };
    const root = seededRandom(options.seed);
    this.rng = { plan: root.fork(), typing: root.fork(), kill: root.fork(), proxy: root.fork(), values: root.fork() };
    this.clockOffsetMs = 0;
    this.now = () => new Date(Date.now() + this.clockOffsetMs);
    this.model = new SoakModel();
    this.values = valueSource(this.rng.values);
    this.reports = new Map();
    this.crmIdOwner = new Map();
    this.tally = { rounds: 0, runs: 0, killed: 0, hung: 0, failedRuns: 0, runMs: [], googleFaults: {}, googleRequests: 0, googleWriteRequests: 0, crmRecordWrites: 0, actions: {} };
  }

  log(text) {
    return appendFile(this.files.log, `${text}\n`);
  }

  async start() {
    this.stack = await startStack({ seed: this.options.seed, rng: this.rng.proxy, faultFraction: this.options.faultShare });
    this.sides = {
      crm: crmSide({ crmFile: this.files.crm, now: this.now }),
      google: googleSide({ admin: this.stack.admin, account: GOOGLE_ACCOUNT }),
      carddav: carddavSide({ radicale: this.stack.radicale }),
    };
  }

  async stop() {
    killSyncChild();
    await this.stack?.stop();
  }

  /** Seeds the three sides, then connects both spokes through the plugin (no faults yet). */
  async seedAndConnect() {
    const seeded = seedPeople({ rng: this.rng.values, model: this.model, values: this.values, count: this.options.people, strangerPairs: Math.max(3, Math.round(this.options.people / 60)) });
    for (const { person, fields } of seeded) {
      for (const side of person.sides) await this.sides[side].create(asTyped(this.rng.typing, side, fields), `seed-${person.id}`);
    }
    await connectSpokes({ stack: this.stack, files: this.files, now: this.now });
    await this.drainGoogleLog();
    this.tally.googleRequests = 0;
    this.tally.googleWriteRequests = 0;
    return Object.fromEntries(SIDES.map((s) => [s, seeded.filter(({ person }) => person.sides.includes(s)).length]));
  }

  setFaults(on) {
    this.stack.proxy.setFaults(on);
    const scale = this.options.faultShare / 0.2;
    return on ? this.stack.admin("POST", "faults", GOOGLE_FAULTS.map((f) => ({ ...f, fraction: f.fraction * scale }))) : this.stack.admin("DELETE", "faults");
  }

  /** The emulator's request log since the last call (then cleared): faults by kind, requests, writes. */
  async drainGoogleLog() {
    const text = await this.stack.admin("GET", "log");
    await this.stack.admin("DELETE", "log");
    const out = { api: 0, writes: 0, kinds: {} };
    for (const line of text.split("\n").filter(Boolean)) {
      const entry = JSON.parse(line);
      if (entry.path?.startsWith("/v1")) out.api += 1;
      const kind = entry.apiMethod ?? entry.path;
      out.kinds[kind] = (out.kinds[kind] ?? 0) + 1;
      if (GOOGLE_WRITE.test(entry.apiMethod ?? "") && entry.status < 400) out.writes += 1;
      if (entry.fault) {
        const key = `${entry.path?.startsWith("/token") ? "token " : ""}${entry.fault}`;
        this.tally.googleFaults[key] = (this.tally.googleFaults[key] ?? 0) + 1;
      }
    }
    this.tally.googleRequests += out.api;
    this.tally.googleWriteRequests += out.writes;
    return out;
  }

  async readStorage() {
    return JSON.parse(await readFile(this.files.storage, "utf8").catch(() => "{}"));
  }

  /** Every side's records now; remembers which CRM id belongs to whom (conflict records name CRM ids). */
  async readSides() {
    const [crm, google, carddav] = await Promise.all(SIDES.map((s) => this.sides[s].read()));
    const records = { crm: crm.records, google: google.records, carddav: carddav.records };
    for (const r of records.crm) if (r.soakId) this.crmIdOwner.set(r.key, r.soakId);
    const traced = SIDES.flatMap((side) => records[side].filter((r) => this.options.trace.includes(r.soakId))
      .map((r) => `trace ${r.soakId} ${side} ${r.key} v=${r.version} ${JSON.stringify(r.fields)}`));
    if (traced.length) await this.log(traced.join("\n"));
    return records;
  }

  /**
   * The people whose CRM contact both spokes have linked, from the link tables in the
   * plugin's stored state (`spoke.{id}.state`, src/engine/state.rs): the soak changes keys
   * and deletes only those. Unreadable tables count as empty (and are said once).
   */
  async linkedEverywhere(crmRecords) {
    const storage = await this.readStorage();
    const tables = SPOKES.map((s) => {
      try {
        return new Set(Object.keys(JSON.parse(storage[`spoke.${s}.state`] ?? "{}").links ?? {}));
      } catch {
        return new Set();
      }
    });
    const linked = new Set(crmRecords.filter((r) => r.soakId && tables.every((t) => t.has(r.key))).map((r) => r.soakId));
    if (!linked.size && this.tally.runMs.length > 3 && !this.warnedLinks) {
      this.warnedLinks = true;
      console.log("soak: no CRM contact is linked on both spokes (unreadable link tables?): no e-mail, phone or delete edits until there is");
    }
    return linked;
  }

  /**
   * One sync run in a child process, SIGKILLed after `killAfterMs` when given; collects its
   * reports (a killed run's finished spokes are in the stored history) and what it cost.
   */
  async runOnce({ killAfterMs = null, deadline }) {
    const storage = await this.readStorage();
    // A spoke's first sync is the operator's (manual); afterwards the schedule's.
    const trigger = SPOKES.every((s) => storage[`spoke.${s}.state`]) ? "schedule" : "manual";
    const crmBefore = (await this.sides.crm.read()).seq;
    const proxyBefore = this.stack.proxy.snapshot();
    const limitMs = Math.max(10_000, Math.min(HANG_MS, deadline - Date.now()));
    const run = await runSyncChild({ files: this.files, trigger, clockOffsetMs: this.clockOffsetMs, killAfterMs, limitMs });
    this.tally.runs += 1;
    await this.log(`--- run ${this.tally.runs} (${trigger}, ${run.why ? `${run.why} after ${run.durationMs} ms` : `${run.durationMs} ms, exit ${run.code}`})\n${run.stderr}${run.stdout}`);
    let printed = [];
    if (run.why) {
      this.tally[run.why] += 1;
      // The next run comes once the killed run's lease has expired, as a scheduler's would.
      this.clockOffsetMs += LEASE_TTL_MS + 1000;
      await this.stack.admin("POST", "clock/advance", { ms: LEASE_TTL_MS + 1000 });
    } else {
      this.tally.runMs.push(run.durationMs);
      try {
        printed = JSON.parse(run.stdout);
      } catch {
        printed = null;
      }
      if (!Array.isArray(printed)) {
        this.tally.failedRuns += 1;
        printed = [];
      }
    }
    const stored = await this.readStorage();
    for (const report of [...SPOKES.flatMap((s) => stored[`spoke.${s}.history`] ?? []), ...printed]) {
      if (report?.runId && !this.reports.has(report.runId)) this.reports.set(report.runId, report);
    }
    const crmAfter = (await this.sides.crm.read()).seq;
    this.tally.crmRecordWrites += crmAfter - crmBefore;
    const google = await this.drainGoogleLog();
    const proxyAfter = this.stack.proxy.snapshot();
    const carddavRequests = proxyAfter.requests - proxyBefore.requests;
    return {
      killed: !!run.why, reports: printed,
      writes: { crm: crmAfter - crmBefore, google: google.writes, carddav: proxyAfter.acceptedWrites - proxyBefore.acceptedWrites },
      requests: { google: google.api, carddav: carddavRequests },
      requestKinds: { google: google.kinds, carddav: this.stack.proxy.recent(Math.min(50, carddavRequests)) },
    };
  }

  /** Makes one planned edit on its side and records it in the model once the side took it. */
  async apply(action, bySide, round) {
    this.tally.actions[action.kind] = (this.tally.actions[action.kind] ?? 0) + 1;
    await this.log(`round ${round}: ${describeAction(action)}`);
    if (action.kind === "create") {
      const person = this.model.addPerson({ id: action.id, fields: action.fields, sides: action.sides, round, how: "created" });
      for (const side of action.sides) {
        await this.sides[side].create(asTyped(this.rng.typing, side, action.fields), `soak-${person.id}`);
        this.model.editsBySide[side] += 1;
      }
      return;
    }
    const rec = bySide[action.side].get(action.person.id)[0];
    if (action.kind === "delete") {
      await this.sides[action.side].delete(rec);
      this.model.deletePerson(action.person, action.side, round);
      return;
    }
    await this.sides[action.side].update(rec, action.changes);
    if (action.removed) this.model.changeList(action.person, action.side, action.field, action.removed, action.added, round);
    else this.model.setField(action.person, action.side, action.field, action.changes[action.field], round);
  }

  /** Rounds of edits and (sometimes killed) runs until `loopDeadline`. */
  async loop(loopDeadline, deadline) {
    const started = Date.now();
    while (Date.now() < loopDeadline) {
      const round = ++this.tally.rounds;
      if (round > 1) {
        const records = await this.readSides();
        for (const pair of mergedPairs(this.model, records).keys()) if (!this.model.mergesSeen.has(pair)) this.model.mergesSeen.set(pair, round);
        const bySide = Object.fromEntries(SIDES.map((s) => [s, groupBySoakId(records[s])]));
        const linked = await this.linkedEverywhere(records.crm);
        const actions = planRound({ rng: this.rng.plan, model: this.model, values: this.values, bySide, linked, round, actions: this.rng.plan.between(2, 6) });
        for (const action of actions) await this.apply(action, bySide, round);
      }
      // Killed at a random moment of a typical run (from the start of the process on).
      const typical = median(this.tally.runMs.slice(-15)) ?? 3000;
      const kill = this.rng.kill.chance(this.options.killShare) ? Math.round(this.rng.kill.next() * typical * 1.1) : null;
      await this.runOnce({ killAfterMs: kill, deadline });
      if (round % 20 === 0) console.log(`soak: round ${round}, ${this.tally.runs} runs (${this.tally.killed} killed), ${Math.round((Date.now() - started) / 1000)} s`);
    }
    return Date.now() - started;
  }

  /** Faults off; runs until one writes nothing and ends ok everywhere; then one more, for its cost. */
  async settle(deadline) {
    await this.setFaults(false);
    let runs = 0;
    while (runs < 12 && Date.now() < deadline) {
      runs += 1;
      const run = await this.runOnce({ deadline });
      if (sum(Object.values(run.writes)) === 0 && run.reports.length === SPOKES.length && run.reports.every((r) => r.outcome === "ok")) break;
    }
    const extra = Date.now() < deadline ? await this.runOnce({ deadline }) : null;
    return { runs, extra };
  }

  check(end, { runs, extra }) {
    const outcome = (r) => (r.outcome === "ok" ? "ok" : `${r.spokeId}:${r.outcome}${r.errors?.length ? ` (${r.errors.map((e) => e.code).join(",")})` : ""}`);
    const result = checkEndState({
      model: this.model, sides: end, reports: [...this.reports.values()], crmIdOwner: this.crmIdOwner,
      openAmbiguities: (extra?.reports ?? []).flatMap((r) => r.ambiguities ?? []),
      quiet: extra && {
        lastRunWrites: extra.writes, lastRunOutcomes: extra.reports.map(outcome),
        extraRunRequests: extra.requests, extraRunRequestKinds: extra.requestKinds,
      },
    });
    if (!extra) result.violations.push({ code: "NOT_QUIET", expected: "runs until quiet, then one more, within the time bound", found: `time ran out after ${runs} settling runs` });
    return result;
  }

  figures(end, { runs, extra }, loopMs, startedAt, checked) {
    const all = [...this.reports.values()];
    const reported = (side) => sum(all.map((r) => {
      const c = side === "crm" ? r.counts.crm : r.spokeId === side ? r.counts.remote : null;
      return c ? c.created + c.updated + c.deleted : 0;
    }));
    const proxy = this.stack.proxy.snapshot();
    const people = [...this.model.persons.values()];
    const deleted = people.filter((p) => p.deletion);
    return {
      seed: this.options.seed, minutes: this.options.minutes, people: this.options.people,
      durationSeconds: Math.round((Date.now() - startedAt) / 1000), loopSeconds: Math.round(loopMs / 1000),
      rounds: this.tally.rounds, runs: this.tally.runs, killed: this.tally.killed, hung: this.tally.hung, failedRuns: this.tally.failedRuns,
      settleRuns: runs + (extra ? 1 : 0), medianRunMs: median(this.tally.runMs),
      faults: { google: this.tally.googleFaults, carddav: Object.fromEntries(Object.entries(proxy.faults).filter(([, n]) => n)) },
      requests: { google: this.tally.googleRequests, carddav: proxy.requests },
      edits: { ...this.model.editsBySide }, actions: this.tally.actions,
      writes: {
        reported: { crm: reported("crm"), google: reported("google"), carddav: reported("carddav") },
        measured: { crm: this.tally.crmRecordWrites, google: this.tally.googleWriteRequests, carddav: proxy.acceptedWrites },
      },
      conflictsRecorded: sum(all.map((r) => (r.conflicts ?? []).length)),
      outcomes: countBy(all.map((r) => r.outcome)),
      reportErrors: countBy(all.flatMap((r) => (r.errors ?? []).map((e) => e.code))),
      final: {
        people: people.length, alive: people.filter(SoakModel.alive).length, deleted: deleted.length, restored: deleted.filter(SoakModel.alive).length,
        records: Object.fromEntries(SIDES.map((s) => [s, end[s].length])),
        lastRunWrites: extra?.writes ?? null, extraRunRequests: extra?.requests ?? null,
      },
      held: checked.held,
      violations: checked.violations,
    };
  }
}

function printFigures(r) {
  const kv = (o) => Object.entries(o ?? {}).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
  const lines = [
    "",
    `duration          ${r.durationSeconds} s (edit-and-sync loop ${r.loopSeconds} s), seed ${r.seed}, ${r.people} people seeded`,
    `rounds / runs     ${r.rounds} rounds, ${r.runs} runs: ${r.killed} killed (SIGKILL), ${r.hung} hung, ${r.failedRuns} without reports; ${r.settleRuns} to settle and measure; median run ${r.medianRunMs} ms`,
    `faults injected   Google: ${kv(r.faults.google)}`,
    `                  CardDAV: ${kv(r.faults.carddav)}`,
    `requests          Google API ${r.requests.google}, CardDAV ${r.requests.carddav}`,
    `edits by side     ${kv(r.edits)} (actions: ${kv(r.actions)})`,
    `writes by side    reported by runs: ${kv(r.writes.reported)}; measured at the servers: ${kv(r.writes.measured)} (CRM records, Google write requests, CardDAV PUT/DELETE)`,
    `conflicts         ${r.conflictsRecorded} recorded with their losing value`,
    `spoke runs        ${kv(r.outcomes)}; errors reported: ${kv(r.reportErrors)}`,
    `final             ${r.final.people} people, ${r.final.alive} alive, ${r.final.deleted} deleted (${r.final.restored} restored: edited elsewhere meanwhile); records ${kv(r.final.records)}`,
    `last run          writes ${kv(r.final.lastRunWrites)}; one more run's requests ${kv(r.final.extraRunRequests)}`,
  ];
  if (r.held.length) lines.push(`held              ${r.held.length}: ${r.held.slice(0, 5).join("; ")}${r.held.length > 5 ? "; …" : ""}`);
  const byCode = countBy(r.violations.map((v) => v.code));
  lines.push(`checks            ${r.violations.length ? `FAILED: ${kv(byCode)}` : "all passed (duplicates, e-mails, missing, resurrections, strangers, lost edits, lists, notes, convergence, quiet, one request per spoke, internal errors)"}`);
  for (const v of r.violations.slice(0, 60)) {
    lines.push(`  ${v.code}${v.person ? ` ${v.person}` : ""}${v.side ? ` on ${v.side}` : ""}${v.field ? ` field ${v.field}` : ""}: expected ${v.expected}; found ${v.found}`);
  }
  if (r.violations.length > 60) lines.push(`  … ${r.violations.length - 60} more in result.json`);
  console.log(lines.join("\n"));
}

async function main() {
  const { options, problems } = parseArgs(process.argv.slice(2));
  if (problems.length) {
    process.stderr.write(`soak: ${problems.join("; ")}\n${USAGE}\n`);
    return 2;
  }
  const startedAt = Date.now();
  const deadline = startedAt + options.minutes * 60_000;
  // The final runs get the end of the time: at least 40 s, at most 5 minutes.
  const loopDeadline = deadline - Math.min(5 * 60_000, Math.max(40_000, options.minutes * 60_000 * 0.15));
  const replay = `scripts/soak.sh --minutes ${options.minutes} --seed ${options.seed}${options.people !== 300 ? ` --people ${options.people}` : ""}`;
  console.log(`soak: seed ${options.seed}, ${options.minutes} min, ${options.people} people, faults on ${Math.round(options.faultShare * 100)}% of requests, ${Math.round(options.killShare * 100)}% of runs killed`);
  const dir = await mkdtemp(join(tmpdir(), "contact-sync-soak-"));
  const soak = new Soak(options, dir);
  // Ctrl-C: the servers and the run in progress stop at once; whatever the soak was waiting
  // for then fails, and the normal ending below cleans up.
  let interrupted = null;
  const interrupt = (signal) => {
    interrupted = signal;
    console.log(`soak: ${signal}: stopping everything`);
    soak.stop();
    setTimeout(() => process.exit(130), 15_000).unref();
  };
  process.once("SIGINT", () => interrupt("SIGINT"));
  process.once("SIGTERM", () => interrupt("SIGTERM"));
  try {
    await soak.start();
  } catch (error) {
    process.stderr.write(`soak: the stack did not start: ${error.message}\n`);
    await soak.stop();
    await rm(dir, { recursive: true, force: true });
    return 2;
  }

  let exitCode = 1;
  try {
    const counts = await soak.seedAndConnect();
    console.log(`soak: seeded CRM ${counts.crm}, Google ${counts.google}, CardDAV ${counts.carddav}; both spokes connected; faults on`);
    await soak.setFaults(true);
    const loopMs = await soak.loop(loopDeadline, deadline);
    const settled = await soak.settle(deadline);
    const end = await soak.readSides();
    const checked = soak.check(end, settled);
    const result = soak.figures(end, settled, loopMs, startedAt, checked);
    printFigures(result);
    await writeFile(join(dir, "result.json"), JSON.stringify(result, null, 2));
    if (checked.violations.length) {
      console.log(`\nsoak: ${checked.violations.length} violation(s). Replay: ${replay}`);
    } else {
      console.log("\nsoak: every check passed");
      exitCode = 0;
    }
  } catch (error) {
    if (interrupted) exitCode = 130;
    else console.log(`soak: stopped by an error: ${error.stack ?? error}\nReplay: ${replay}`);
  } finally {
    await soak.stop();
    if ((exitCode === 0 || interrupted) && !options.keep) await rm(dir, { recursive: true, force: true });
    else console.log(`soak: files kept in ${dir} (runs.log: each round's edits and each run's output; result.json: figures and violations with each person's history; crm.json, storage.json; secrets.json: the soak's test tokens)`);
  }
  return exitCode;
}

main().then((code) => process.exit(code), (error) => {
  console.error(`soak: ${error.stack ?? error}`);
  process.exit(1);
});
