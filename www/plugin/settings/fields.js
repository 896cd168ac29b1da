// Field mapping: CRM field | direction (↔ → ← ∅) | address-book field | conflict rule |
// fill empty values. A pairing whose types cannot hold each other's values is refused
// here, with the reason, before anything is saved; the plugin validates again on save.
import { el, button, select } from "./dom.js";

const DIRECTIONS = ["both", "toRemote", "toCrm", "none"];
const PRIORITIES = ["newest", "crm", "remote"];
/** Types that convert to one another as text (a CRM user only maps to a user). */
const TEXTLIKE = new Set(["text", "longtext", "url", "number"]);
/** The address-book field that fills a marked block of a CRM text ("work details"). */
export const WORK_DETAILS = "workDetails";

/**
 * Why a CRM field and an address-book field cannot be paired in this direction, or null.
 * The same rules as the plugin's own check (src/engine/mapping.rs, check_rows), so the
 * operator hears the reason at once instead of after a refused save: same types pair;
 * text, long text, web address and number pair with each other; a user only with a
 * user; a read-only CRM field only flows out; work details only into a CRM text.
 */
export function mappingProblem(crmField, remoteField, direction) {
  if (!crmField || !remoteField) return null;
  if (crmField.readOnly && (direction === "both" || direction === "toCrm")) return "readOnly";
  if (remoteField.id === WORK_DETAILS) {
    if (crmField.type !== "text" && crmField.type !== "longtext") return "mismatch";
    return direction === "toCrm" || direction === "none" ? null : "workDetails";
  }
  if (crmField.type === remoteField.type) return null;
  if (TEXTLIKE.has(crmField.type) && TEXTLIKE.has(remoteField.type)) return null;
  return "mismatch";
}

export function renderFields(ctx) {
  const { t, state } = ctx;
  const s = state.settings;
  const cat = state.catalogue;
  if (!s) return el("p", { text: t("section.unavailable") });
  if (!cat) return el("p", { id: "cs-fields-unavailable", text: t("fields.unavailable") });
  // An empty stored table means "the default mapping" (the plugin applies it): show those rows.
  const rows = effectiveRows(s, cat);
  const crmById = new Map((cat.crm ?? []).map((f) => [f.id, f]));
  const remoteById = new Map((cat.remote ?? []).map((f) => [f.id, f]));
  const crmOptions = (cat.crm ?? []).map((f) => ({ value: f.id, label: String(f.label ?? f.id) }));
  const remoteOptions = (cat.remote ?? []).map((f) => ({ value: f.id, label: String(f.label ?? f.id) }));
  const refusal = state.fieldRefusal;

  const body = el("tbody");
  rows.forEach((row, index) => {
    const crm = crmById.get(row.crmField);
    const crmLabel = String(crm?.label ?? row.crmField);
    const rid = (k) => `cs-map-${index}-${k}`;
    const change = (patch) => changeRow(ctx, index, patch);
    body.append(el("tr", { "data-row": String(index), "data-crm-field": row.crmField }, [
      el("td", {}, [select(rid("crm"), t("fields.crmFieldOf", { n: index + 1 }), crmOptions, row.crmField, (v) => change({ crmField: v }), { hideLabel: true })]),
      el("td", {}, [select(rid("direction"), t("fields.directionOf", { field: crmLabel }), DIRECTIONS.map((d) => ({ value: d, label: t(`direction.${d}`) })), row.direction, (v) => change({ direction: v }), { hideLabel: true })]),
      el("td", {}, [select(rid("remote"), t("fields.remoteFieldOf", { field: crmLabel }), remoteOptions, row.remoteField, (v) => change({ remoteField: v }), { hideLabel: true })]),
      el("td", {}, [select(rid("priority"), t("fields.priorityOf", { field: crmLabel }), PRIORITIES.map((p) => ({ value: p, label: t(`priority.${p}`) })), row.priority, (v) => change({ priority: v }), { hideLabel: true })]),
      el("td", { class: "cs-center" }, [el("input", { type: "checkbox", id: rid("fill"), checked: !!row.fillEmpty, "aria-label": t("fields.fillEmptyOf", { field: crmLabel }), on: { change: (e) => change({ fillEmpty: e.target.checked }) } })]),
      el("td", {}, [button(t("fields.remove"), () => ctx.save((d) => { editableRows(d, cat).splice(index, 1); }, "fields"), { id: rid("remove"), "aria-label": t("fields.removeOf", { field: crmLabel }) })]),
    ]));
    if (refusal && refusal.index === index) {
      body.append(el("tr", { class: "cs-refusal-row" }, [el("td", { colspan: "6" }, [
        el("p", { class: "cs-refusal", role: "alert", id: "cs-map-refusal", text: refusal.message }),
      ])]));
    }
  });

  return [
    el("p", { class: "cs-hint", text: t("fields.intro") }),
    el("div", { class: "cs-table-wrap" }, [el("table", { class: "cs-table", id: "cs-mapping" }, [
      el("caption", { class: "cs-visually-hidden", text: t("fields.caption") }),
      el("thead", {}, [el("tr", {}, ["crmField", "direction", "remoteField", "priority", "fillEmpty", "actions"].map((k) => el("th", { scope: "col", text: t(`fields.col.${k}`) })))]),
      body,
    ])]),
    refusal && refusal.index === -1 ? el("p", { class: "cs-refusal", role: "alert", id: "cs-map-refusal", text: refusal.message }) : null,
    el("div", { class: "cs-actions" }, [
      button(t("fields.add"), () => addRow(ctx, crmById, remoteById), { id: "cs-map-add" }),
      button(t("fields.reset"), () => { state.fieldRefusal = null; return ctx.save((d) => { d["mapping.fields"] = structuredClone(cat.defaults ?? []); }, "fields"); }, { id: "cs-map-reset" }),
    ]),
    el("p", { class: "cs-hint", text: t("fields.legend") }),
  ];

  function changeRow(ctx, index, patch) {
    const next = { ...rows[index], ...patch };
    const twice = rows.some((r, n) => n !== index && r.remoteField === next.remoteField);
    const problem = mappingProblem(crmById.get(next.crmField), remoteById.get(next.remoteField), next.direction) ?? (twice ? "twice" : null);
    if (problem) {
      state.fieldRefusal = { index, message: explain(ctx, problem, crmById.get(next.crmField), remoteById.get(next.remoteField)) };
      ctx.render();
      return;
    }
    state.fieldRefusal = null;
    return ctx.save((d) => { editableRows(d, cat)[index] = next; }, "fields");
  }
}

function explain(ctx, problem, crm, remote) {
  const { t } = ctx;
  if (problem === "readOnly") return t("fields.readOnly", { crm: String(crm?.label ?? "") });
  if (problem === "twice") return t("fields.twice", { remote: String(remote?.label ?? "") });
  if (problem === "workDetails") return t("fields.workDetails", { remote: String(remote?.label ?? "") });
  return t("fields.mismatch", {
    crm: String(crm?.label ?? ""), crmType: t(`type.${crm?.type}`),
    remote: String(remote?.label ?? ""), remoteType: t(`type.${remote?.type}`),
  });
}

/** The rows in force: the stored ones, or the default mapping while none are stored. */
function effectiveRows(settings, catalogue) {
  const stored = settings["mapping.fields"] ?? [];
  return stored.length ? stored : (catalogue?.defaults ?? []);
}

/** The stored rows, first filled with the defaults in force when empty, ready to edit. */
function editableRows(draft, catalogue) {
  if (!draft["mapping.fields"]?.length) draft["mapping.fields"] = structuredClone(catalogue?.defaults ?? []);
  return draft["mapping.fields"];
}

function addRow(ctx, crmById, remoteById) {
  const { state, t } = ctx;
  const rows = effectiveRows(state.settings, state.catalogue);
  const usedCrm = new Set(rows.map((r) => r.crmField));
  const usedRemote = new Set(rows.map((r) => r.remoteField));
  for (const crm of crmById.values()) {
    if (usedCrm.has(crm.id)) continue;
    const direction = crm.readOnly ? "toRemote" : "both";
    const remote = [...remoteById.values()].find((r) => !usedRemote.has(r.id) && r.id !== WORK_DETAILS && !mappingProblem(crm, r, direction));
    if (!remote) continue;
    state.fieldRefusal = null;
    return ctx.save((d) => {
      d["mapping.fields"] = [...editableRows(d, state.catalogue), { crmField: crm.id, remoteField: remote.id, direction, priority: "newest", fillEmpty: true }];
    }, "fields");
  }
  state.fieldRefusal = { index: -1, message: t("fields.nothingToAdd") };
  ctx.render();
  return undefined;
}
