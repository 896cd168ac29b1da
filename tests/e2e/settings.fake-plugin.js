// A scripted ContactSyncPlugin (host-api.d.ts) for the settings tab's component tests in
// Chromium: it keeps settings in memory, validates them the way the plugin's contract says
// (type-compatible mapping, known keys), and returns the reports, statuses and errors a
// test scenario asks for. Every call is recorded in window.__calls. The end-to-end tests
// (settings.e2e.test.mjs) use the real wasm plugin instead.

/** An Error with a stable code, like the ones crossing the real contract. */
function coded(code, message, extra = {}) {
  const error = new Error(message);
  error.code = code;
  Object.assign(error, extra);
  return error;
}

const clone = (v) => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

export function createFakePlugin(scenario) {
  const calls = (window.__calls = []);
  let settings = clone(scenario.settings);
  let status = clone(scenario.status);
  let history = clone(scenario.history ?? {});
  let cancelled = false;
  const failures = scenario.failures ?? {};

  function record(method, args) {
    calls.push({ method, args: clone(args) });
    const failure = failures[method];
    if (failure) {
      if (!failure.always) delete failures[method];
      throw coded(failure.code, failure.message ?? "failed", failure.extra ?? {});
    }
  }

  function spokeStatus(id) {
    return status.spokes.find((s) => s.id === id);
  }

  function validate(candidate) {
    const reasons = [];
    const allowed = new Set(Object.keys(scenario.defaults));
    for (const key of Object.keys(candidate)) if (!allowed.has(key)) reasons.push(`unknown setting ${key}`);
    const crm = new Map(scenario.catalogue.crm.map((f) => [f.id, f]));
    const remote = new Map(scenario.catalogue.remote.map((f) => [f.id, f]));
    for (const row of candidate["mapping.fields"] ?? []) {
      const a = crm.get(row.crmField);
      const b = remote.get(row.remoteField);
      if (!a || !b) reasons.push(`mapping.fields: unknown field ${row.crmField} or ${row.remoteField}`);
    }
    for (const kind of ["lists", "tags"]) {
      if (candidate["filter.mode"] === kind && !(candidate[`filter.${kind}`] ?? []).length) reasons.push(`filter.${kind}: choose at least one, or export all contacts`);
    }
    const share = candidate["guard.maxDeleteShare"];
    if (typeof share !== "number" || share < 0 || share > 1) reasons.push("guard.maxDeleteShare must be between 0 and 1");
    if (reasons.length) throw coded("INVALID_SETTINGS", reasons.join("; "));
  }

  return {
    version: () => "0.1.0-test",
    defaultSettings: () => clone(scenario.defaults),
    async getSettings() {
      record("getSettings", []);
      if (scenario.invalidStored) throw coded("INVALID_SETTINGS", scenario.invalidStored);
      return clone(settings);
    },
    async saveSettings(candidate) {
      record("saveSettings", [candidate]);
      validate(candidate);
      settings = clone(candidate);
      scenario.invalidStored = null;
      // Spokes added in settings appear in the status, disconnected.
      for (const spoke of settings.spokes) {
        if (!spokeStatus(spoke.id)) status.spokes.push({ id: spoke.id, kind: spoke.kind, name: spoke.name, state: "disconnected", linked: 0 });
      }
      status.spokes = status.spokes.filter((s) => settings.spokes.some((x) => x.id === s.id));
      for (const s of status.spokes) s.name = settings.spokes.find((x) => x.id === s.id).name;
      return clone(settings);
    },
    async fieldCatalogue() {
      record("fieldCatalogue", []);
      return clone(scenario.catalogue);
    },
    async status() {
      record("status", []);
      return clone(status);
    },
    async connect(spokeId) {
      record("connect", [spokeId]);
      const s = spokeStatus(spokeId);
      if (!s) throw coded("NOT_FOUND", `no spoke ${spokeId}`);
      Object.assign(s, { state: "connected", account: scenario.account ?? "demo@example.com" });
      delete s.problem;
      return clone(s);
    },
    async testConnection(spokeId) {
      record("testConnection", [spokeId]);
      return clone(spokeStatus(spokeId));
    },
    async disconnect(spokeId) {
      record("disconnect", [spokeId]);
      const s = spokeStatus(spokeId);
      if (s) { s.state = "disconnected"; delete s.account; }
    },
    async forgetLinks(spokeId) {
      record("forgetLinks", [spokeId]);
      const s = spokeStatus(spokeId);
      if (s) s.linked = 0;
    },
    async sync(request, onProgress) {
      record("sync", [request]);
      cancelled = false;
      const steps = scenario.progress ?? [];
      for (const p of steps) {
        await new Promise((r) => setTimeout(r, scenario.stepMs ?? 150));
        if (cancelled) break;
        onProgress?.(p);
      }
      const reports = clone(scenario.syncReports ?? []).map((r) => (cancelled ? { ...r, outcome: "cancelled" } : r));
      for (const r of reports) {
        const s = spokeStatus(r.spokeId);
        if (s && r.outcome === "ok") { s.lastRun = r; s.lastSuccessAt = r.finishedAt; }
        history[r.spokeId] = [{ ...r, undoable: true }, ...(history[r.spokeId] ?? []).map((h) => ({ ...h, undoable: false }))];
      }
      return reports;
    },
    async preview(spokeId) {
      record("preview", [spokeId]);
      return clone(scenario.previewReport);
    },
    cancel() {
      calls.push({ method: "cancel", args: [] });
      cancelled = true;
    },
    async history(spokeId, limit) {
      record("history", [spokeId, limit]);
      return clone((history[spokeId] ?? []).slice(0, limit));
    },
    async undoLastRun(spokeId) {
      record("undoLastRun", [spokeId]);
      const runs = history[spokeId] ?? [];
      const undone = { ...clone(scenario.undoReport), spokeId };
      history[spokeId] = [undone, ...runs.map((h) => ({ ...h, undoable: false }))];
      return undone;
    },
    async handleEvent() {},
    async resolveMatch(spokeId, decision) {
      record("resolveMatch", [spokeId, decision]);
      // The next preview or run shows the decision applied: its contacts wait no more.
      const decided = new Set([decision.crmId, decision.remoteId, decision.id].filter(Boolean));
      const settle = (r) => {
        if (!r?.pendingMatches) return;
        r.pendingMatches = r.pendingMatches
          .map((g) => ({ ...g, crm: g.crm.filter((c) => !decided.has(c.id)), remote: g.remote.filter((c) => !decided.has(c.id)) }))
          .filter((g) => g.crm.length + g.remote.length > 0);
      };
      settle(scenario.previewReport);
      for (const r of scenario.syncReports ?? []) settle(r);
    },
  };
}

/** A minimal in-page HostApi: CRM lists/tags from the scenario, secrets in memory. */
export function createFakeHost(scenario) {
  const secrets = (window.__secrets = new Map());
  return {
    hostApi: "1",
    hostVersion: "1.0.0",
    locale: () => scenario.locale,
    crm: {
      lists: async () => clone(scenario.lists ?? []),
      tags: async () => clone(scenario.tags ?? []),
    },
    secrets: {
      get: async (name) => secrets.get(name) ?? null,
      set: async (name, value) => { secrets.set(name, value); },
      delete: async (name) => { secrets.delete(name); },
    },
    ui: { notify() {} },
  };
}
