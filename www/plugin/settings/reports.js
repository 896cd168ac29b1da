// Reading run reports in the operator's words: counts per side, durations, side names.
import { el } from "./dom.js";

/** "3 created, 1 updated, 0 deleted" for one side of a run. */
export function sideCountsText(i18n, side) {
  const c = side ?? { created: 0, updated: 0, deleted: 0 };
  return i18n.t("counts.side", {
    created: i18n.t("counts.created", { count: c.created || 0 }),
    updated: i18n.t("counts.updated", { count: c.updated || 0 }),
    deleted: i18n.t("counts.deleted", { count: c.deleted || 0 }),
  });
}

/** Milliseconds between a report's start and finish (0 when unreadable). */
export function runMillis(report) {
  const ms = Date.parse(report?.finishedAt) - Date.parse(report?.startedAt);
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

/** Total writes of a run on both sides, for the history chart. */
export function changeTotal(report) {
  const sum = (s) => (s ? (s.created || 0) + (s.updated || 0) + (s.deleted || 0) : 0);
  return sum(report?.counts?.crm) + sum(report?.counts?.remote);
}

/** The address book's name as the operator named it ("Google" by default). */
export function remoteName(ctx, spokeId) {
  const spoke = ctx.state.status?.spokes?.find((s) => s.id === spokeId)
    ?? ctx.state.settings?.spokes?.find((s) => s.id === spokeId);
  return spoke?.name || ctx.t(`kind.${spoke?.kind ?? "google"}`);
}

/** Two lines, "CRM: …" and "<address book>: …", for a report's counts. */
export function countsLines(ctx, report) {
  return el("ul", { class: "cs-counts" }, [
    el("li", { "data-side": "crm", text: ctx.t("counts.crm", { counts: sideCountsText(ctx.i18n, report?.counts?.crm) }) }),
    el("li", { "data-side": "remote", text: ctx.t("counts.remote", { name: remoteName(ctx, report?.spokeId), counts: sideCountsText(ctx.i18n, report?.counts?.remote) }) }),
  ]);
}

/** A change sample in words: "Marie Dupont: created in Google". */
export function sampleText(ctx, sample, spokeId) {
  return ctx.t(`sample.${sample?.side === "crm" ? "crm" : "remote"}.${sample?.action ?? "update"}`, {
    name: sample?.contactName ?? "",
    remote: remoteName(ctx, spokeId),
    fields: (sample?.fields ?? []).join(", "),
  });
}

/** Samples of deletions a guard stopped (what it would have deleted). */
export function deletionSamples(report) {
  return (report?.samples ?? []).filter((s) => s?.action === "delete");
}
