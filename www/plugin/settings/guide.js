// The first-run path (connect → what flows → mapping → preview → first sync), shown until
// a first sync has succeeded, so a new operator never faces a blank form.
import { el, button } from "./dom.js";

const STEPS = ["connect", "flows", "fields", "preview", "sync"];

/** Which steps are done, from the plugin's status and what the operator has opened. */
export function guideProgress(state) {
  const spokes = state.status?.spokes ?? [];
  return {
    connect: spokes.some((s) => s.state === "connected"),
    flows: !!state.guide.flows,
    fields: !!state.guide.fields,
    preview: !!state.preview && !state.preview.error,
    sync: spokes.some((s) => s.lastSuccessAt),
  };
}

export function renderGuide(ctx) {
  const { t, state } = ctx;
  const done = guideProgress(state);
  if (done.sync) return null;
  const current = STEPS.find((step) => !done[step]);
  const target = { connect: "connections", flows: "flows", fields: "fields", preview: "run", sync: "run" };
  return el("nav", { class: "cs-guide", id: "cs-guide", "aria-labelledby": "cs-guide-title" }, [
    el("h3", { id: "cs-guide-title", text: t("guide.title") }),
    el("p", { text: t("guide.intro") }),
    el("ol", { class: "cs-steps" }, STEPS.map((step, index) => el("li", {
      class: ["cs-step", done[step] && "cs-step-done", step === current && "cs-step-current"],
      "aria-current": step === current ? "step" : undefined,
      "data-step": step,
    }, [
      el("span", { class: "cs-step-number", "aria-hidden": "true", text: ctx.i18n.number(index + 1) }),
      el("span", { class: "cs-step-text" }, [
        el("strong", { text: t(`guide.${step}`) }),
        el("span", { class: "cs-hint", text: ` ${t(`guide.${step}.hint`)}` }),
        el("span", { class: "cs-visually-hidden", text: ` ${t(done[step] ? "guide.done" : "guide.todo")}` }),
      ]),
      button(t("guide.go"), () => ctx.openSection(target[step]), { id: `cs-guide-${step}`, "aria-label": `${t("guide.go")}: ${t(`guide.${step}`)}` }),
    ]))),
  ]);
}
