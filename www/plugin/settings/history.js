// History: the last runs (time, duration, counts per side, errors), a small chart of changes
// per run (SVG elements with attributes, no inline style), conflicts with both values and
// the one kept, and "Undo this run" on the latest undoable run.
import { el, svg, button, select } from "./dom.js";
import { renderError } from "./errors.js";
import { changeTotal, runMillis, remoteName, sideCountsText, sampleText, deletionSamples } from "./reports.js";
import { conflictList } from "./run.js";

export function renderHistory(ctx) {
  const { t, state } = ctx;
  const spokes = state.status?.spokes ?? [];
  if (!spokes.length) return el("p", { text: t("history.empty") });
  const spokeId = state.historySpoke && spokes.some((s) => s.id === state.historySpoke) ? state.historySpoke : spokes[0].id;
  const runs = state.history[spokeId] ?? [];
  return [
    spokes.length > 1 ? select("cs-history-spoke", t("history.spoke"), spokes.map((s) => ({ value: s.id, label: remoteName(ctx, s.id) })), spokeId, (v) => { state.historySpoke = v; ctx.render(); }) : null,
    runs.length ? chart(ctx, runs) : el("p", { id: "cs-history-none", text: t("history.empty") }),
    runs.length ? table(ctx, runs, spokeId) : null,
    ...runs.filter((r) => (r.conflicts ?? []).length).slice(0, 5).map((r) => el("div", { class: "cs-history-conflicts" }, [
      el("h5", { text: t("history.conflictsOf", { when: ctx.i18n.dateTime(r.startedAt) }) }),
      conflictList(ctx, r.conflicts, `cs-history-conflicts-${r.runId}`, spokeId),
    ])),
  ];
}

function table(ctx, runs, spokeId) {
  const { t, i18n, state } = ctx;
  const name = remoteName(ctx, spokeId);
  return el("div", { class: "cs-table-wrap" }, [el("table", { class: "cs-table", id: "cs-history" }, [
    el("caption", { class: "cs-visually-hidden", text: t("history.caption") }),
    el("thead", {}, [el("tr", {}, [
      el("th", { scope: "col", text: t("history.col.when") }),
      el("th", { scope: "col", text: t("history.col.duration") }),
      el("th", { scope: "col", text: t("side.crm") }),
      el("th", { scope: "col", text: name }),
      el("th", { scope: "col", text: t("history.col.outcome") }),
      el("th", { scope: "col", text: t("history.col.actions") }),
    ])]),
    el("tbody", {}, runs.map((r) => el("tr", { "data-run": r.runId, "data-outcome": r.outcome }, [
      el("td", { text: `${i18n.dateTime(r.startedAt)} · ${t(`trigger.${r.trigger}`)}${r.dryRun ? ` · ${t("history.dryRun")}` : ""}` }),
      el("td", { text: i18n.duration(runMillis(r)) }),
      el("td", { text: sideCountsText(i18n, r.counts?.crm) }),
      el("td", { text: sideCountsText(i18n, r.counts?.remote) }),
      el("td", {}, [
        el("span", { text: t(`outcome.${r.outcome}`) }),
        ...(r.errors ?? []).map((e) => renderError(e, i18n, {
          guardSamples: e.code === "GUARD_TRIPPED" ? deletionSamples(r).map((s) => sampleText(ctx, s, spokeId)) : undefined,
        })),
      ]),
      el("td", {}, [r.undoable ? button(t("history.undo"), () => undo(ctx, spokeId), { id: `cs-history-undo`, kind: "danger", disabled: !!state.busy, "aria-describedby": "cs-history-undo-hint" }) : null]),
    ]))),
  ]), runs.some((r) => r.undoable) ? el("p", { class: "cs-hint", id: "cs-history-undo-hint", text: t("history.undo.hint", { name }) }) : null]);
}

/** Bars of changes per run, oldest on the left; heights scaled to the busiest run. */
function chart(ctx, runs) {
  const { t, i18n } = ctx;
  const ordered = [...runs].reverse();
  const totals = ordered.map(changeTotal);
  const max = Math.max(1, ...totals);
  const width = 24 * ordered.length + 8;
  const height = 64;
  const label = t("history.chart", { count: runs.length, max: i18n.number(max) });
  return el("figure", { class: "cs-chart", id: "cs-history-chart" }, [
    svg("svg", { viewBox: `0 0 ${width} ${height + 4}`, width, height: height + 4, role: "img", "aria-label": label }, [
      svg("line", { x1: 0, y1: height, x2: width, y2: height, class: "cs-chart-axis" }),
      ...ordered.map((r, i) => {
        const h = Math.max(totals[i] ? 2 : 0, Math.round((totals[i] / max) * (height - 4)));
        return svg("rect", { x: 8 + i * 24, y: height - h, width: 16, height: h, class: `cs-chart-bar cs-chart-${r.outcome}`, "data-total": totals[i] }, [
          svg("title", { text: t("history.chartBar", { when: i18n.dateTime(r.startedAt), count: totals[i] }) }),
        ]);
      }),
    ]),
    el("figcaption", { text: label }),
  ]);
}

function undo(ctx, spokeId) {
  return ctx.act("undo", "history", async () => {
    const report = await ctx.plugin.undoLastRun(spokeId);
    ctx.state.lastRun = report ? [report] : null;
    ctx.announce(ctx.t("history.undone"));
  });
}
