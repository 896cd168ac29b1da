// Deletions: what a deletion on one side does on the other, and the mass-deletion guard,
// one sentence each.
import { el, radios, select, input } from "./dom.js";

export function renderDeletions(ctx) {
  const { t, i18n, state } = ctx;
  const s = state.settings;
  if (!s) return el("p", { text: t("section.unavailable") });
  const share = Number(s["guard.maxDeleteShare"]) || 0;
  const booleanFields = (state.catalogue?.crm ?? []).filter((f) => f.type === "boolean" && !f.readOnly);
  return [
    radios("cs-deletion-policy", t("deletions.policy"), ["propagate", "flag", "ignore"].map((v) => ({
      value: v, label: t(`deletions.${v}`), hint: t(`deletions.${v}.hint`),
    })), s["deletion.policy"], (v) => ctx.save((d) => { d["deletion.policy"] = v; }, "deletions")),
    s["deletion.policy"] === "flag" ? select("cs-deletion-flag", t("deletions.flagField"),
      (booleanFields.length ? booleanFields : [{ id: s["deletion.flagField"], label: s["deletion.flagField"] }]).map((f) => ({ value: f.id, label: String(f.label ?? f.id) })),
      s["deletion.flagField"], (v) => ctx.save((d) => { d["deletion.flagField"] = v; }, "deletions")) : null,
    input("cs-guard-share", t("deletions.guard"), String(Math.round(share * 1000) / 10), (v, field) => {
      const pct = Number(String(v).replace(",", "."));
      if (!Number.isFinite(pct) || pct < 0 || pct > 100) {
        state.errors.deletions = { code: "BAD_INPUT", message: t("deletions.guard.invalid") };
        field.value = String(Math.round(share * 1000) / 10);
        ctx.render();
        return undefined;
      }
      return ctx.save((d) => { d["guard.maxDeleteShare"] = pct / 100; }, "deletions");
    }, { type: "number", min: "0", max: "100", step: "1", inputmode: "decimal", hint: t("deletions.guard.hint", { share: i18n.percent(share) }) }),
  ];
}
