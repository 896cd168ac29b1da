// Matches waiting for the operator's decision (a report's `pendingMatches`): each group
// with its contacts on both sides (name, e-mails, phones) and the decisions the plugin
// takes through resolveMatch (link to a candidate, same person, different people, create
// new, ignore); then the ignored contacts, each of which can be synced again. A decision
// is applied by a run: from the preview the tab previews again (nothing is written
// unseen), from the summary it syncs that address book at once.
import { el, button } from "./dom.js";
import { remoteName } from "./reports.js";

/**
 * The pending matches and ignored contacts of `report`, or null when there are none.
 * `scope` names the place ("preview", or "summary-<spokeId>") for ids and for what a
 * decision runs next.
 */
export function renderMatches(ctx, report, scope) {
  const pending = report?.pendingMatches ?? [];
  const ignored = report?.ignored ?? [];
  if (!pending.length && !ignored.length) return null;
  const { t } = ctx;
  const id = `cs-${scope}-matches`;
  const place = { spokeId: report.spokeId, remote: remoteName(ctx, report.spokeId), preview: scope === "preview", section: scope === "preview" ? "run" : "summary", titleId: `${id}-title` };
  const waiting = pending.reduce((n, g) => n + (g.crm?.length ?? 0) + (g.remote?.length ?? 0), 0);
  return el("section", { class: "cs-matches", id, "data-spoke": report.spokeId, "aria-labelledby": place.titleId }, [
    el("h5", { id: place.titleId, tabindex: "-1", text: t("matches.waiting", { count: waiting }) }),
    pending.length ? el("p", { class: "cs-hint", text: t("matches.explain") }) : null,
    ...pending.map((group, n) => groupView(ctx, group, `${id}-${n}`, place)),
    ignored.length ? el("div", { class: "cs-match-ignored", id: `${id}-ignored` }, [
      el("p", { text: t("matches.ignored", { count: ignored.length, remote: place.remote }) }),
      el("ul", { class: "cs-match-contacts" }, ignored.map((c, n) => el("li", { class: "cs-match-contact", "data-side": c.side }, [
        el("span", { text: contactText(ctx, c, place) }),
        decisionButton(ctx, place, t("matches.unignore", { name: nameOf(ctx, c) }), { action: "unignore", side: c.side, id: c.id }, `${id}-ignored-${n}-unignore`),
      ]))),
    ]) : null,
  ]);
}

function groupView(ctx, group, id, place) {
  const { t } = ctx;
  const crm = group.crm ?? [];
  const remote = group.remote ?? [];
  const possible = group.kind === "possible";
  const what = !group.key ? t("matches.keyGone") : t(possible ? "matches.possible" : "matches.ambiguous", { key: group.key });
  const contact = (c, n) => {
    const buttons = [];
    if (c.side === "crm" && !possible) {
      remote.forEach((r, m) => buttons.push(decisionButton(ctx, place, t("matches.link", { name: nameOf(ctx, c), other: nameOf(ctx, r), remote: place.remote }),
        { action: "link", crmId: c.id, remoteId: r.id }, `${id}-${n}-link-${m}`, "primary")));
    }
    if (!possible) {
      const label = c.side === "crm" ? t("matches.createInRemote", { name: nameOf(ctx, c), remote: place.remote }) : t("matches.createInCrm", { name: nameOf(ctx, c) });
      buttons.push(decisionButton(ctx, place, label, { action: "createNew", side: c.side, id: c.id }, `${id}-${n}-create`));
    }
    buttons.push(decisionButton(ctx, place, t("matches.ignore", { name: nameOf(ctx, c) }), { action: "ignore", side: c.side, id: c.id }, `${id}-${n}-ignore`));
    return el("li", { class: "cs-match-contact", "data-side": c.side, "data-id": c.id }, [
      el("span", { text: contactText(ctx, c, place) }),
      el("div", { class: "cs-actions" }, buttons),
    ]);
  };
  const pair = possible && crm.length === 1 && remote.length === 1 ? el("div", { class: "cs-actions" }, [
    decisionButton(ctx, place, t("matches.same", { name: nameOf(ctx, crm[0]), other: nameOf(ctx, remote[0]) }), { action: "link", crmId: crm[0].id, remoteId: remote[0].id }, `${id}-same`, "primary"),
    decisionButton(ctx, place, t("matches.refuse", { name: nameOf(ctx, crm[0]), other: nameOf(ctx, remote[0]) }), { action: "refuse", crmId: crm[0].id, remoteId: remote[0].id }, `${id}-refuse`),
  ]) : null;
  return el("div", { class: "cs-match", id, "data-kind": group.kind }, [
    el("p", { class: "cs-match-what", text: what }),
    el("ul", { class: "cs-match-contacts" }, [...crm, ...remote].map(contact)),
    pair,
  ]);
}

/** "CRM: Julie Durand · julie@… · +33 6 …" (values as typed on that side). */
function contactText(ctx, c, place) {
  const side = c.side === "crm" ? ctx.t("side.crm") : place.remote;
  const details = [nameOf(ctx, c), ...(c.emails ?? []), ...(c.phones ?? [])].join(" · ");
  return ctx.t("matches.contact", { side, details });
}

function nameOf(ctx, c) {
  return String(c?.name || "") || ctx.t("matches.noName");
}

function decisionButton(ctx, place, label, decision, id, kind = "secondary") {
  return button(label, () => decide(ctx, place, decision), {
    id, kind, disabled: !!ctx.state.busy, "data-action": decision.action,
  });
}

async function decide(ctx, place, decision) {
  const saved = await ctx.act("decide", place.section, async () => {
    await ctx.plugin.resolveMatch(place.spokeId, decision);
    return true;
  });
  if (!saved) return;
  ctx.announce(ctx.t("matches.saved"));
  if (place.preview) await ctx.preview(place.spokeId);
  else await ctx.syncNow(place.spokeId);
  // The button is gone with its decision: keyboard focus goes back to the list's title.
  ctx.root.querySelector(`#${CSS.escape(place.titleId)}`)?.focus();
}
