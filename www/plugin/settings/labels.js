// Labels: CRM lists and tags paired with address-book labels (Google contact groups).
import { el, button, select, input } from "./dom.js";

export function renderLabels(ctx) {
  const { t, state } = ctx;
  const s = state.settings;
  if (!s) return el("p", { text: t("section.unavailable") });
  const rows = s["mapping.labels"] ?? [];
  const listOptions = state.lists.map((l) => ({ value: String(l.id), label: String(l.name ?? l.id) }));
  const tagOptions = state.tags.map((tag) => ({ value: String(tag), label: String(tag) }));
  const saveRow = (index, mutate) => ctx.save((d) => { mutate(d["mapping.labels"][index]); }, "labels");

  const list = el("ul", { class: "cs-label-rows", id: "cs-labels" }, rows.map((row, index) => {
    const id = (k) => `cs-label-${index}-${k}`;
    const kind = row?.crm?.kind === "tag" ? "tag" : "list";
    const options = kind === "list" ? listOptions : tagOptions;
    const known = options.some((o) => o.value === row?.crm?.id);
    const shown = known ? options : [{ value: row?.crm?.id ?? "", label: t("labels.missing", { id: row?.crm?.id ?? "" }) }, ...options];
    return el("li", { class: "cs-label-row", "data-row": String(index) }, [
      select(id("kind"), t("labels.kind"), [{ value: "list", label: t("labels.kind.list") }, { value: "tag", label: t("labels.kind.tag") }], kind,
        (v) => saveRow(index, (r) => { r.crm = { kind: v, id: (v === "list" ? listOptions : tagOptions)[0]?.value ?? "" }; })),
      select(id("crm"), t(kind === "list" ? "labels.list" : "labels.tag"), shown, row?.crm?.id ?? "", (v) => saveRow(index, (r) => { r.crm = { kind, id: v }; })),
      el("span", { class: "cs-arrow", "aria-hidden": "true", text: "↔" }),
      input(id("remote"), t("labels.remote"), row?.remoteLabel ?? "", (v) => saveRow(index, (r) => { r.remoteLabel = v.trim(); })),
      button(t("labels.remove"), () => ctx.save((d) => { d["mapping.labels"].splice(index, 1); }, "labels"), { id: id("remove") }),
    ]);
  }));

  return [
    el("p", { class: "cs-hint", text: t("labels.intro") }),
    rows.length ? list : el("p", { id: "cs-labels-empty", text: t("labels.empty") }),
    el("div", { class: "cs-actions" }, [
      button(t("labels.add"), () => {
        const first = listOptions[0] ? { kind: "list", id: listOptions[0].value, name: listOptions[0].label }
          : tagOptions[0] ? { kind: "tag", id: tagOptions[0].value, name: tagOptions[0].label } : null;
        if (!first) {
          state.errors.labels = { code: "BAD_INPUT", message: t("labels.nothing") };
          ctx.render();
          return undefined;
        }
        return ctx.save((d) => {
          d["mapping.labels"] = [...(d["mapping.labels"] ?? []), { crm: { kind: first.kind, id: first.id }, remoteLabel: first.name }];
        }, "labels");
      }, { id: "cs-label-add" }),
    ]),
  ];
}
