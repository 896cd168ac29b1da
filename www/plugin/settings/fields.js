// Field mapping: CRM field | direction (↔ → ← ∅) | address-book field | conflict rule |
// fill empty values. A pairing whose types cannot hold each other's values is refused
// here, with the reason, before anything is saved; the plugin validates again on save.
import { el, button, select } from "./dom.js";

const DIRECTIONS = ["both", "toRemote", "toCrm", "none"];
const PRIORITIES = ["newest", "crm", "remote"];
const TEXTUAL = new Set(["text", "longtext", "url"]);

/**
 * Why a CRM field and an address-book field cannot be paired in this direction, or null.
 * Same types pair; text-like types pair with each other; a date, number, boolean or user
 * may be written out as text (CRM → address book only), never read back from free text.
 */
export function mappingProblem(crmField, remoteField, direction) {
  if (!crmField || !remoteField) return null;
  if (crmField.readOnly && (direction === "both" || direction === "toCrm")) return "readOnly";
  if (crmField.type === remoteField.type) return null;
  if (TEXTUAL.has(crmField.type) && TEXTUAL.has(remoteField.type)) return null;
  if (TEXTUAL.has(remoteField.type) && direction === "toRemote") return null;
  if (TEXTUAL.has(remoteField.type) && direction === "none") return null;
  return "mismatch";
}

export function renderFields(ctx) {
  const { t, state } = ctx;
  const s = state.settings;
  const cat = state.catalogue;
  if (!s || !cat) return el("p", { text: t("section.unavailable") });
  const rows = s["mapping.fields"] ?? [];
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
      el("td", {}, [button(t("fields.remove"), () => ctx.save((d) => { d["mapping.fields"].splice(index, 1); }, "fields"), { id: rid("remove"), "aria-label": t("fields.removeOf", { field: crmLabel }) })]),
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
    const problem = mappingProblem(crmById.get(next.crmField), remoteById.get(next.remoteField), next.direction);
    if (problem) {
      state.fieldRefusal = { index, message: explain(ctx, problem, crmById.get(next.crmField), remoteById.get(next.remoteField)) };
      ctx.render();
      return;
    }
    state.fieldRefusal = null;
    return ctx.save((d) => { d["mapping.fields"][index] = next; }, "fields");
  }
}

function explain(ctx, problem, crm, remote) {
  const { t } = ctx;
  if (problem === "readOnly") return t("fields.readOnly", { crm: String(crm?.label ?? "") });
  return t("fields.mismatch", {
    crm: String(crm?.label ?? ""), crmType: t(`type.${crm?.type}`),
    remote: String(remote?.label ?? ""), remoteType: t(`type.${remote?.type}`),
  });
}

function addRow(ctx, crmById, remoteById) {
  const { state, t } = ctx;
  const rows = state.settings["mapping.fields"] ?? [];
  const usedCrm = new Set(rows.map((r) => r.crmField));
  const usedRemote = new Set(rows.map((r) => r.remoteField));
  for (const crm of crmById.values()) {
    if (usedCrm.has(crm.id)) continue;
    const direction = crm.readOnly ? "toRemote" : "both";
    const remote = [...remoteById.values()].find((r) => !usedRemote.has(r.id) && !mappingProblem(crm, r, direction));
    if (!remote) continue;
    state.fieldRefusal = null;
    return ctx.save((d) => {
      d["mapping.fields"] = [...(d["mapping.fields"] ?? []), { crmField: crm.id, remoteField: remote.id, direction, priority: "newest", fillEmpty: true }];
    }, "fields");
  }
  state.fieldRefusal = { index: -1, message: t("fields.nothingToAdd") };
  ctx.render();
  return undefined;
}
