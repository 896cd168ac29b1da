// The summary at the top: one glance answers "is it working?" — last run, next run, and
// any problem as a sentence with its remedy and a button for it.
import { el } from "./dom.js";
import { renderError } from "./errors.js";
import { cardDavI18n } from "./carddav.js";
import { countsLines, runMillis, remoteName, sampleText, deletionSamples } from "./reports.js";
import { renderMatches } from "./matches.js";

export function renderSummary(ctx) {
  const { t, i18n, state } = ctx;
  const spokes = state.status?.spokes ?? [];
  const box = el("section", { class: "cs-summary", id: "cs-summary", "aria-labelledby": "cs-summary-title" }, [
    el("h3", { id: "cs-summary-title", text: t("summary.title") }),
  ]);
  if (state.errors.summary) box.append(renderError(state.errors.summary, i18n, { onAction: () => ctx.refresh() }));
  if (state.status?.running || state.running) box.append(el("p", { class: "cs-running", text: t("summary.running") }));
  if (!spokes.length) {
    box.append(el("p", { id: "cs-summary-empty", text: t("summary.noSpoke") }));
    return box;
  }
  const next = nextRun(spokes);
  box.append(el("p", { id: "cs-summary-next", text: next
    ? t("run.schedule", { minutes: state.scheduleMinutes, time: i18n.time(next) })
    : t("run.scheduleOff", { minutes: state.scheduleMinutes }) }));
  for (const spoke of spokes) box.append(spokeSummary(ctx, spoke));
  return box;
}

function spokeSummary(ctx, spoke) {
  const { t, i18n } = ctx;
  const last = spoke.lastRun;
  const item = el("div", { class: "cs-summary-spoke", "data-spoke": spoke.id }, [
    el("p", { class: "cs-summary-name" }, [
      statusLight(ctx, spoke),
      el("strong", { text: remoteName(ctx, spoke.id) }),
      spoke.account ? el("span", { class: "cs-account", text: ` ${spoke.account}` }) : null,
    ]),
  ]);
  if (last) {
    item.append(el("p", { class: "cs-summary-last", text: t("summary.lastRun", {
      when: i18n.dateTime(last.finishedAt || last.startedAt),
      duration: i18n.duration(runMillis(last)),
      outcome: t(`outcome.${last.outcome}`),
    }) }), countsLines(ctx, last));
  } else {
    item.append(el("p", { class: "cs-summary-last", text: t("summary.neverRun") }));
  }
  if (spoke.lastSuccessAt) item.append(el("p", { text: t("summary.lastSuccess", { when: i18n.dateTime(spoke.lastSuccessAt) }) }));
  const matches = last ? renderMatches(ctx, { ...last, spokeId: spoke.id }, `summary-${spoke.id}`) : null;
  if (matches) item.append(matches);
  const problems = [];
  if (spoke.problem) problems.push(spoke.problem);
  for (const e of last?.errors ?? []) if (!problems.some((p) => p.code === e.code)) problems.push(e);
  for (const problem of problems) {
    const guard = problem.code === "GUARD_TRIPPED" ? deletionSamples(last).map((s) => sampleText(ctx, s, spoke.id)) : undefined;
    const wording = spoke.kind === "carddav" ? cardDavI18n(i18n) : i18n;
    item.append(renderError(problem, wording, { guardSamples: guard, onAction: (a) => ctx.remedy(a, spoke.id) }));
  }
  return item;
}

/** A status light that does not rely on colour alone: a shape plus the state in words. */
export function statusLight(ctx, spoke) {
  const state = spoke?.state ?? "disconnected";
  return el("span", { class: `cs-light cs-light-${state}`, "data-state": state }, [
    el("span", { class: "cs-light-dot", "aria-hidden": "true" }),
    el("span", { class: "cs-light-text", text: ctx.t(`state.${state}`) }),
  ]);
}

function nextRun(spokes) {
  const times = spokes.map((s) => Date.parse(s.nextRunAt)).filter(Number.isFinite);
  return times.length ? new Date(Math.min(...times)) : null;
}
