// Run: the schedule, Sync now, Preview (a dry run: counts per side, links, conflicts,
// ambiguities, samples), a progress bar with counts and Cancel. Until a first sync has
// succeeded, Sync now is offered only after a preview, so nothing is written unseen.
import { el, button, select } from "./dom.js";
import { renderError } from "./errors.js";
import { countsLines, remoteName, sampleText, deletionSamples } from "./reports.js";
import { renderMatches } from "./matches.js";

export function renderRun(ctx) {
  const { t, i18n, state } = ctx;
  const spokes = state.status?.spokes ?? [];
  if (!spokes.length) return el("p", { id: "cs-run-nospoke", text: t("run.noSpoke") });
  const first = !spokes.some((s) => s.lastSuccessAt);
  const spokeId = state.spokeId;
  const busy = !!state.busy;
  const next = spokes.map((s) => Date.parse(s.nextRunAt)).filter(Number.isFinite).sort((a, b) => a - b)[0];
  const previewReady = state.preview && !state.preview.error && state.preview.spokeId === spokeId;

  const parts = [
    el("p", { id: "cs-run-schedule", text: next ? t("run.schedule", { minutes: state.scheduleMinutes, time: i18n.time(next) }) : t("run.scheduleOff", { minutes: state.scheduleMinutes }) }),
    spokes.length > 1 ? select("cs-run-spoke", t("run.spoke"), spokes.map((s) => ({ value: s.id, label: remoteName(ctx, s.id) })), spokeId, (v) => { state.spokeId = v; state.preview = null; ctx.render(); }) : null,
    first ? el("p", { class: "cs-hint", id: "cs-run-first", text: t("run.firstHint") }) : null,
    el("div", { class: "cs-actions" }, [
      button(t("run.preview"), () => preview(ctx, spokeId), { id: "cs-run-preview", kind: first && !previewReady ? "primary" : "secondary", disabled: busy }),
      first && !previewReady ? null : button(t(first ? "run.confirm" : "run.syncNow"), () => ctx.syncNow(first || spokes.length > 1 ? spokeId : undefined), { id: "cs-run-sync", kind: "primary", disabled: busy }),
      button(t("run.cancel"), () => cancel(ctx), { id: "cs-run-cancel", disabled: !state.running }),
    ]),
    progressView(ctx),
  ];
  if (state.preview?.report && state.preview.spokeId === spokeId) parts.push(previewView(ctx, state.preview.report));
  if (state.lastRun) parts.push(lastRunView(ctx, state.lastRun));
  return parts;
}

function progressView(ctx) {
  const { t, state } = ctx;
  const p = state.progress;
  return el("div", { class: "cs-progress", id: "cs-progress-box", hidden: !state.running }, [
    el("label", { for: "cs-progress", text: t("run.progress") }),
    el("progress", { id: "cs-progress", max: String(Math.max(1, p?.total ?? 1)), value: String(p?.done ?? 0) }),
    el("p", { id: "cs-progress-text", "aria-live": "polite", text: progressText(ctx, p) }),
  ]);
}

function progressText(ctx, p) {
  if (!p) return ctx.t("progress.starting");
  return ctx.t(`progress.${p.phase}`, { done: ctx.i18n.number(p.done), total: ctx.i18n.number(p.total), name: remoteName(ctx, p.spokeId) });
}

/** Updates the progress bar in place (no redraw) for each onProgress callback. */
export function updateProgress(root, ctx) {
  const p = ctx.state.progress;
  const bar = root.querySelector("#cs-progress");
  const text = root.querySelector("#cs-progress-text");
  const box = root.querySelector("#cs-progress-box");
  if (box) box.hidden = false;
  if (bar && p) {
    bar.max = Math.max(1, Number(p.total) || 1);
    bar.value = Math.min(Number(p.done) || 0, bar.max);
  }
  if (text) text.textContent = progressText(ctx, p);
}

/** A preview (dry run) of one spoke, shown in the Run section. */
export async function preview(ctx, spokeId) {
  const { state } = ctx;
  state.preview = null;
  state.lastRun = null;
  const report = await ctx.act("preview", "run", () => ctx.plugin.preview(spokeId));
  if (report) {
    state.preview = { spokeId, report };
    ctx.announce(ctx.t("run.previewReady"));
  }
  ctx.render();
}

function cancel(ctx) {
  try {
    ctx.plugin.cancel();
    ctx.announce(ctx.t("run.cancelling"));
  } catch (error) {
    ctx.state.errors.run = error;
    ctx.render();
  }
}

function previewView(ctx, report) {
  const { t, i18n } = ctx;
  const c = report.counts ?? {};
  const linked = (c.linkedByEmail || 0) + (c.linkedByPhone || 0) + (c.linkedById || 0);
  const name = remoteName(ctx, report.spokeId);
  const rows = [
    ["crm", t("side.crm"), c.crm],
    ["remote", name, c.remote],
  ];
  return el("section", { class: "cs-preview", id: "cs-preview", "aria-labelledby": "cs-preview-title" }, [
    el("h4", { id: "cs-preview-title", text: t("preview.title") }),
    el("p", { class: "cs-hint", text: t("preview.nothingWritten") }),
    el("table", { class: "cs-table", id: "cs-preview-counts" }, [
      el("caption", { class: "cs-visually-hidden", text: t("preview.caption") }),
      el("thead", {}, [el("tr", {}, [el("th", { scope: "col", text: t("preview.side") }), ...["created", "updated", "deleted"].map((k) => el("th", { scope: "col", text: t(`preview.${k}`) }))])]),
      el("tbody", {}, rows.map(([side, label, counts]) => el("tr", { "data-side": side }, [
        el("th", { scope: "row", text: label }),
        ...["created", "updated", "deleted"].map((k) => el("td", { "data-count": k, text: i18n.number(counts?.[k] ?? 0) })),
      ]))),
    ]),
    el("p", { id: "cs-preview-linked", text: t("preview.linked", { count: linked, email: i18n.number(c.linkedByEmail || 0), phone: i18n.number(c.linkedByPhone || 0), id: i18n.number(c.linkedById || 0) }) }),
    el("p", { id: "cs-preview-unchanged", text: t("preview.unchanged", { count: c.unchanged || 0, skipped: i18n.number(c.skippedByFilter || 0) }) }),
    el("p", { id: "cs-preview-conflicts", text: t("preview.conflicts", { count: c.conflicts || (report.conflicts ?? []).length }) }),
    conflictList(ctx, report.conflicts ?? [], "cs-preview-conflict-list", report.spokeId),
    el("p", { id: "cs-preview-ambiguous", text: t("preview.ambiguous", { count: c.ambiguous || (report.ambiguities ?? []).length }) }),
    unheldAmbiguities(report).length ? el("ul", { class: "cs-samples", id: "cs-preview-ambiguities" }, unheldAmbiguities(report).slice(0, 10).map((a) => el("li", {
      text: t("preview.ambiguity", { key: String(a.key ?? ""), crm: i18n.number((a.crmIds ?? []).length), remote: i18n.number((a.remoteIds ?? []).length), name, reason: String(a.reason ?? "") }),
    }))) : null,
    renderMatches(ctx, report, "preview"),
    (report.samples ?? []).length ? el("div", {}, [
      el("h5", { text: t("preview.samples") }),
      el("ul", { class: "cs-samples", id: "cs-preview-samples" }, report.samples.slice(0, 20).map((s) => el("li", { text: sampleText(ctx, s, report.spokeId) }))),
    ]) : null,
    ...(report.notices ?? []).map((n) => el("p", { class: "cs-notice", text: String(n) })),
    ...(report.errors ?? []).map((e) => renderError(e, i18n, { guardSamples: e.code === "GUARD_TRIPPED" ? deletionSamples(report).map((s) => sampleText(ctx, s, report.spokeId)) : undefined, onAction: (a) => ctx.remedy(a, report.spokeId) })),
  ]);
}

/** Ambiguities that wait for no decision (a copy carrying a linked contact's id): the
 *  others are shown with their contacts and buttons by renderMatches. */
function unheldAmbiguities(report) {
  const held = new Set((report.pendingMatches ?? []).flatMap((g) => [...(g.crm ?? []), ...(g.remote ?? [])].map((c) => c.id)));
  return (report.ambiguities ?? []).filter((a) => ![...(a.crmIds ?? []), ...(a.remoteIds ?? [])].some((id) => held.has(id)));
}

/** Conflicts with both values and the one kept; values are shown as text. */
export function conflictList(ctx, conflicts, id = "cs-preview-conflict-list", spokeId = ctx.state.spokeId) {
  const { t } = ctx;
  if (!conflicts.length) return null;
  const remote = remoteName(ctx, spokeId);
  return el("ul", { class: "cs-conflicts", id }, conflicts.slice(0, 20).map((c) => el("li", { class: "cs-conflict" }, [
    el("strong", { text: String(c.contactName ?? "") }),
    el("span", { text: ` — ${t("conflict.field", { field: String(c.field ?? "") })}` }),
    el("dl", {}, [
      el("dt", { text: t("side.crm") }), el("dd", { class: c.kept === "crm" ? "cs-kept" : "", text: valueText(ctx, c.crmValue) }),
      el("dt", { text: remote }), el("dd", { class: c.kept === "remote" ? "cs-kept" : "", text: valueText(ctx, c.remoteValue) }),
    ]),
    el("p", { class: "cs-hint", text: t("conflict.kept", { side: c.kept === "crm" ? t("side.crm") : remote, rule: t(`priority.${c.rule}`) }) }),
  ])));
}

/** A field value as plain text: lists joined, objects by their value, empty shown as such. */
export function valueText(ctx, value) {
  if (value === null || value === undefined || value === "") return ctx.t("conflict.empty");
  if (Array.isArray(value)) return value.map((v) => valueText(ctx, v)).join(", ");
  if (typeof value === "object") {
    if ("value" in value) return String(value.value);
    return Object.values(value).filter((v) => v !== null && v !== undefined && v !== "").map(String).join(" ");
  }
  return String(value);
}

function lastRunView(ctx, reports) {
  const { t, i18n } = ctx;
  return el("section", { class: "cs-run-result", id: "cs-run-result", "aria-labelledby": "cs-run-result-title" }, [
    el("h4", { id: "cs-run-result-title", text: t("run.result") }),
    ...reports.map((r) => el("div", { class: "cs-run-report", "data-spoke": r.spokeId, "data-outcome": r.outcome }, [
      el("p", { text: t("run.resultLine", { name: remoteName(ctx, r.spokeId), outcome: t(`outcome.${r.outcome}`) }) }),
      countsLines(ctx, r),
      r.more ? el("p", { class: "cs-hint", text: t("run.more") }) : null,
      ...(r.notices ?? []).map((n) => el("p", { class: "cs-notice", text: String(n) })),
      ...(r.errors ?? []).map((e) => renderError(e, i18n, { guardSamples: e.code === "GUARD_TRIPPED" ? deletionSamples(r).map((s) => sampleText(ctx, s, r.spokeId)) : undefined, onAction: (a) => ctx.remedy(a, r.spokeId) })),
    ])),
  ]);
}
