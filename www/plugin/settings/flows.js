// What flows: the master switch, import and export, photos (Google), and the export filters
// (valid mobile only; all contacts, chosen lists or chosen tags; what happens when a contact
// leaves).
import { el, checkbox, radios, select, input } from "./dom.js";

export function renderFlows(ctx) {
  const { t, state } = ctx;
  const s = state.settings;
  if (!s) return el("p", { text: t("section.unavailable") });
  const set = (key) => (value) => ctx.save((draft) => { draft[key] = value; }, "flows");
  const off = !s["sync.enabled"];
  // Lists or tags mode is saved together with the first chosen list or tag: the plugin
  // refuses a filter that would export nothing.
  const mode = state.pendingFilterMode ?? s["filter.mode"];
  const chooseMode = (value) => {
    const key = `filter.${value}`;
    if (value !== "all" && !(s[key] ?? []).length) {
      state.pendingFilterMode = value;
      ctx.render();
      return undefined;
    }
    state.pendingFilterMode = null;
    return set("filter.mode")(value);
  };
  const parts = [
    checkbox("cs-sync-enabled", t("flows.enabled"), s["sync.enabled"], set("sync.enabled")),
    el("p", { class: "cs-hint", text: t(off ? "flows.enabled.off" : "flows.enabled.on") }),
    el("fieldset", { class: "cs-group", disabled: off }, [
      el("legend", { text: t("flows.directions") }),
      checkbox("cs-sync-import", t("flows.import"), s["sync.import"], set("sync.import")),
      checkbox("cs-sync-export", t("flows.export"), s["sync.export"], set("sync.export")),
      el("p", { class: "cs-hint", id: "cs-flows-direction-hint", text: t(directionHint(s)) }),
      checkbox("cs-sync-onopen", t("flows.onOpen"), s["sync.onOpen"], set("sync.onOpen")),
      checkbox("cs-sync-onchange", t("flows.onChange"), s["sync.onChange"], set("sync.onChange")),
      checkbox("cs-sync-photos", t("flows.photos"), s["sync.photos"] === true, set("sync.photos")),
      el("p", { class: "cs-hint", id: "cs-sync-photos-hint", text: t("flows.photos.hint") }),
    ]),
    el("fieldset", { class: "cs-group", disabled: off || !s["sync.export"] }, [
      el("legend", { text: t("flows.filters") }),
      checkbox("cs-filter-mobile", t("flows.validMobileOnly"), s["filter.validMobileOnly"], set("filter.validMobileOnly")),
      input("cs-phone-region", t("flows.defaultRegion"), s["phone.defaultRegion"], (v) => set("phone.defaultRegion")(v.trim().toUpperCase()), {
        hint: t("flows.defaultRegion.hint"), maxlength: "2", size: "3", autocomplete: "off",
      }),
      radios("cs-filter-mode", t("flows.filterMode"), [
        { value: "all", label: t("flows.filterMode.all") },
        { value: "lists", label: t("flows.filterMode.lists") },
        { value: "tags", label: t("flows.filterMode.tags") },
      ], mode, chooseMode),
      state.pendingFilterMode ? el("p", { class: "cs-hint", id: "cs-filter-pending", role: "status", text: t(`flows.${mode}.pending`) }) : null,
      mode === "lists" ? choices(ctx, "lists", state.lists.map((l) => ({ value: String(l.id), label: String(l.name ?? l.id) })), s["filter.lists"], mode) : null,
      mode === "tags" ? choices(ctx, "tags", state.tags.map((tag) => ({ value: String(tag), label: String(tag) })), s["filter.tags"], mode) : null,
      select("cs-filter-onleave", t("flows.onLeave"), ["keep", "unlink", "delete"].map((v) => ({ value: v, label: t(`flows.onLeave.${v}`) })), s["filter.onLeave"], set("filter.onLeave")),
      el("p", { class: "cs-hint", text: t(`flows.onLeave.${s["filter.onLeave"]}.hint`) }),
    ]),
  ];
  return parts;
}

function directionHint(s) {
  if (s["sync.import"] && s["sync.export"]) return "flows.both.hint";
  if (s["sync.import"]) return "flows.importOnly.hint";
  if (s["sync.export"]) return "flows.exportOnly.hint";
  return "flows.none.hint";
}

/** Checkboxes for the CRM lists or tags a filter keeps (names from the CRM, shown as text). */
function choices(ctx, kind, options, chosen, mode) {
  const { t } = ctx;
  const key = `filter.${kind}`;
  const selected = new Set(chosen ?? []);
  if (!options.length) return el("p", { class: "cs-hint", id: `cs-filter-${kind}-empty`, text: t(`flows.${kind}.none`) });
  return el("fieldset", { class: "cs-choices", id: `cs-filter-${kind}` }, [
    el("legend", { text: t(`flows.${kind}.choose`) }),
    ...options.map((o, index) => checkbox(`cs-filter-${kind}-${index}`, o.label, selected.has(o.value), (on) => ctx.save((draft) => {
      const set = new Set(draft[key] ?? []);
      if (on) set.add(o.value); else set.delete(o.value);
      draft[key] = [...set];
      draft["filter.mode"] = mode;
    }, "flows").then((saved) => {
      if (saved) ctx.state.pendingFilterMode = null;
      ctx.render();
    }), { "data-value": o.value })),
  ]);
}
