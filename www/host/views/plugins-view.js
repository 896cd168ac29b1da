// The Plugins area: each installed plugin with its version, network access and schedule,
// and its settings tab mounted below (contributes.settingsTab.module exports mount()).
import { h, replaceChildren } from "../dom.js";
import { t, currentLanguage, currentLocale, formatTime } from "../i18n.js";

export function createPluginsView(root, { hostApi }) {
  const state = { status: "loading", error: null, installed: null, nextRunAt: null, lastRun: null, running: false, unmount: null, tabError: null };
  const card = h("article", { class: "panel plugin-card", id: "plugin-card" });
  const tabContainer = h("div", { class: "plugin-tab", id: "plugin-tab" });
  root.append(h("h2", { id: "plugins-heading" }), card);

  function scheduleLine() {
    const { manifest } = state.installed;
    const every = t("scheduleEvery", { n: manifest.schedule?.intervalMinutes ?? 15 });
    return state.nextRunAt ? `${every} · ${t("nextRun", { time: formatTime(state.nextRunAt) })}` : every;
  }

  function lastRunLine() {
    if (!state.lastRun) return null;
    const time = formatTime(state.lastRun.at);
    if (!state.lastRun.ok) return t("lastRunFailed", { time, message: state.lastRun.error?.message ?? "" });
    const outcomes = (state.lastRun.reports ?? []).map((r) => r.outcome).join(", ") || "ok";
    return t("lastRun", { time, outcome: outcomes });
  }

  async function mountTab() {
    if (state.unmount) { try { state.unmount(); } catch { /* the tab's problem */ } state.unmount = null; }
    replaceChildren(tabContainer);
    state.tabError = null;
    const { manifest, plugin, pluginRoot } = state.installed;
    const tab = manifest.contributes?.settingsTab;
    if (!tab) return;
    let module;
    try {
      module = await import(new URL(tab.module, pluginRoot).href);
    } catch {
      replaceChildren(tabContainer, h("p", { class: "plugin-error", id: "plugin-tab-missing" }, t("tabMissing", { module: tab.module })));
      return;
    }
    try {
      // The tab draws its own heading; the title names the region for assistive technology.
      const mountPoint = h("section", { id: `plugin-tab-${tab.id}`, "data-plugin-tab": tab.id, "aria-label": tab.title?.[currentLanguage()] ?? tab.title?.en ?? t("settingsTab") });
      replaceChildren(tabContainer, mountPoint);
      const unmount = await module.mount(mountPoint, { plugin, host: hostApi, locale: currentLocale(), scheduleMinutes: manifest.schedule?.intervalMinutes });
      state.unmount = typeof unmount === "function" ? unmount : null;
    } catch (error) {
      replaceChildren(tabContainer, h("p", { class: "plugin-error", id: "plugin-tab-failed" }, t("tabFailed", { message: error.message })));
    }
  }

  function render() {
    root.querySelector("#plugins-heading").textContent = t("plugins");
    if (state.status === "loading") { replaceChildren(card, h("p", { class: "muted" }, t("pluginLoading"))); return; }
    if (state.status === "failed") {
      replaceChildren(card, h("p", { class: "plugin-error", id: "plugin-install-error", role: "alert" }, t("pluginFailed", { message: state.error.message }),
        state.error.remedy ? ` ${state.error.remedy}` : ""));
      return;
    }
    const { manifest, plugin, scheduler, allowDevHosts } = state.installed;
    let coreVersion = "";
    try { coreVersion = plugin.version(); } catch { coreVersion = "?"; }
    const network = manifest.permissions?.network ?? {};
    const runButton = h("button", { type: "button", class: "button", id: "plugin-run-now", disabled: state.running, onclick: runNow }, state.running ? t("running") : t("runNow"));
    replaceChildren(card,
      h("div", { class: "plugin-head" },
        h("div", {}, h("h3", { id: "plugin-name" }, manifest.name), h("p", { class: "muted" }, manifest.description)),
        h("span", { class: "muted", id: "plugin-version" }, `${t("pluginVersion", { version: manifest.version })} · ${t("coreVersion", { version: coreVersion })}`)),
      h("div", { class: "plugin-meta" },
        h("div", {}, h("strong", {}, t("networkAccess")), h("ul", {}, ...(network.allowedHosts ?? []).map((o) => h("li", {}, o)),
          allowDevHosts ? h("li", { class: "muted" }, `${t("devHosts")}: ${(network.devAllowedHosts ?? []).join(", ")}`) : null),
          network.reasoning ? h("p", { class: "muted" }, network.reasoning) : null),
        h("div", {}, h("strong", {}, t("schedule")), " ", h("span", { id: "plugin-schedule" }, scheduleLine()), " ", runButton),
        lastRunLine() ? h("div", { class: "muted", id: "plugin-last-run" }, lastRunLine()) : null),
      tabContainer);
    void scheduler;
  }

  async function runNow() {
    state.running = true;
    render();
    await state.installed.scheduler.runNow("manual");
    state.running = false;
    render();
  }

  return {
    render,
    installed(installed) {
      state.status = "active";
      state.installed = installed;
      state.nextRunAt = installed.scheduler.nextRunAt;
      render();
      return mountTab();
    },
    failed(error) { state.status = "failed"; state.error = error; render(); },
    nextRun(date) { state.nextRunAt = date; if (state.status === "active") render(); },
    lastRun(result) { state.lastRun = { ...result, at: new Date() }; if (state.status === "active") render(); },
    /** Language switch: redraw and remount the tab in the new locale. */
    relocalise() { render(); if (state.status === "active") return mountTab(); return undefined; },
  };
}
