// The plugin's settings tab, drawn inside the host's settings area.
//
//   import { mount } from "./settings/tab.js";
//   const unmount = mount(container, { plugin, host, locale: host.locale() });
//
// It talks to the rest only through the plugin's methods (host-api.d.ts,
// ContactSyncPlugin) and, for the filter choices, the host's crm.lists()/tags(); the only
// other request is the host's optional /dev-config.json (emulator endpoints in development).
// The whole tab is redrawn from `state` after each change; focus and open sections are
// kept across redraws so keyboard use is not disturbed.
import { el } from "./dom.js";
import { createI18n, languageOf, loadCatalogue } from "./i18n.js";
import { renderSummary } from "./summary.js";
import { renderGuide } from "./guide.js";
import { renderConnections } from "./connections.js";
import { renderFlows } from "./flows.js";
import { renderFields } from "./fields.js";
import { renderLabels } from "./labels.js";
import { renderDeletions } from "./deletions.js";
import { renderRun, updateProgress, preview } from "./run.js";
import { renderHistory } from "./history.js";
import { renderError } from "./errors.js";
import { isCardDavSpoke, focusCardDavPassword } from "./carddav.js";

/** Sections below the summary, in order; each can be opened and closed. */
const SECTIONS = [
  ["connections", renderConnections],
  ["flows", renderFlows],
  ["fields", renderFields],
  ["labels", renderLabels],
  ["deletions", renderDeletions],
  ["run", renderRun],
  ["history", renderHistory],
];

/**
 * Draws the tab into `container`; returns the function that removes it.
 * Options: plugin (ContactSyncPlugin), host (HostApi), locale (defaults to host.locale()),
 * scheduleMinutes (the manifest's interval, 15), devConfigUrl ("/dev-config.json", null to skip).
 */
export function mount(container, options = {}) {
  const { plugin, host } = options;
  const locale = options.locale || host?.locale?.() || navigator.language || "en";
  const root = el("div", { class: "cs-tab", "data-state": "loading", "aria-busy": "true", lang: languageOf(locale) });
  const stylesheet = el("link", { rel: "stylesheet", href: new URL("./tab.css", import.meta.url).href });
  container.append(stylesheet, root);

  const state = {
    settings: null,
    settingsError: null,
    catalogue: null,
    status: null,
    lists: [],
    tags: [],
    devConfig: null,
    network: null,
    history: {},
    errors: {},
    open: new Set(),
    busy: null,
    running: false,
    progress: null,
    preview: null,
    lastRun: null,
    guide: { flows: false, fields: false },
    confirmForget: null,
    spokeId: null,
    scheduleMinutes: options.scheduleMinutes ?? 15,
  };
  let alive = true;
  let ctx = null;

  function render() {
    if (!alive || !ctx) return;
    const active = root.contains(document.activeElement) ? document.activeElement.id : null;
    // Sub-sections (own Google app, emulator) the operator opened stay open.
    const subOpen = new Map([...root.querySelectorAll("details.cs-subsection[id]")].map((d) => [d.id, d.open]));
    const { t } = ctx;
    const children = [
      el("header", { class: "cs-header" }, [
        el("h2", { id: "cs-title", text: t("tab.title") }),
        el("p", { class: "cs-version", text: t("tab.version", { version: safeVersion(plugin) }) }),
      ]),
      el("div", { id: "cs-announce", class: "cs-visually-hidden", role: "status", "aria-live": "polite" }),
    ];
    if (state.settingsError) children.push(renderSettingsProblem(ctx));
    children.push(renderSummary(ctx));
    const guide = renderGuide(ctx);
    if (guide) children.push(guide);
    for (const [id, draw] of SECTIONS) children.push(section(ctx, id, draw));
    root.replaceChildren(...children);
    for (const details of root.querySelectorAll("details.cs-subsection[id]")) {
      if (subOpen.get(details.id)) details.open = true;
    }
    if (active) {
      const again = root.querySelector(`#${CSS.escape(active)}`);
      if (again) again.focus();
    }
  }

  function section(ctx, id, draw) {
    const details = el("details", { id: `cs-section-${id}`, class: "cs-section", open: state.open.has(id), "data-section": id }, [
      el("summary", { id: `cs-section-${id}-summary`, text: ctx.t(`section.${id}`) }),
    ]);
    details.addEventListener("toggle", () => {
      if (details.open) state.open.add(id); else state.open.delete(id);
      if (details.open && (id === "flows" || id === "fields") && !state.guide[id]) {
        state.guide[id] = true;
        // Redraw only while the first-run guide is on screen, to tick its step.
        if (root.querySelector("#cs-guide")) render();
      }
    });
    const body = el("div", { class: "cs-section-body" });
    // Inside a section, "open the settings" would lead nowhere: the settings are here.
    if (state.errors[id]) body.append(renderError(state.errors[id], ctx.i18n, { onAction: (a) => ctx.remedy(a, state.spokeId), without: ["settings"] }));
    const content = draw(ctx);
    if (content) body.append(...[].concat(content).filter(Boolean));
    details.append(body);
    return details;
  }

  function announce(message) {
    const region = root.querySelector("#cs-announce");
    if (region) region.textContent = message;
  }

  /** Saves a modified copy of the settings; a refusal is shown in `sectionId` and the controls go back to the saved values. */
  async function save(mutate, sectionId) {
    if (!state.settings) return false;
    const draft = structuredClone(state.settings);
    mutate(draft);
    delete state.errors[sectionId];
    try {
      state.settings = await plugin.saveSettings(draft);
      // A server saved, changed or allowed on a private network changes what is admitted.
      state.network = await loadNetwork();
      render();
      announce(ctx.t("tab.saved"));
      return true;
    } catch (error) {
      state.errors[sectionId] = error;
      render();
      return false;
    }
  }

  /** Runs a plugin operation with the tab marked busy; its error lands in `sectionId`. */
  async function act(name, sectionId, operation) {
    state.busy = name;
    delete state.errors[sectionId];
    render();
    try {
      return await operation();
    } catch (error) {
      state.errors[sectionId] = error;
      return undefined;
    } finally {
      state.busy = null;
      await refresh();
    }
  }

  /** What the plugin may contact (null when the plugin cannot say: the list is not drawn). */
  function loadNetwork() {
    return quiet(() => plugin.admittedOrigins?.(), null);
  }

  async function refresh() {
    if (!alive) return;
    try {
      state.status = await plugin.status();
      if (state.status?.settingsProblem && !state.settingsError) state.settingsError = state.status.settingsProblem;
    } catch (error) {
      state.errors.summary = error;
    }
    state.network = await loadNetwork();
    const spokes = state.status?.spokes ?? [];
    if (!state.spokeId || !spokes.some((s) => s.id === state.spokeId)) state.spokeId = spokes[0]?.id ?? null;
    await Promise.all(spokes.map(async (spoke) => {
      try {
        state.history[spoke.id] = await plugin.history(spoke.id, 10);
      } catch (error) {
        // A spoke that never ran or is not connected simply has no history yet.
        if (error?.code === "NOT_CONNECTED" || error?.code === "NOT_FOUND") state.history[spoke.id] = [];
        else state.errors.history = error;
      }
    }));
    render();
  }

  /** The button next to an error: reconnect, retry, open the guard's list, open settings. */
  function remedy(action, spokeId) {
    const id = spokeId ?? state.spokeId;
    if (action === "reconnect" && id) return ctx.connect(id);
    if (action === "retry") return ctx.syncNow(id);
    if (action === "guard") return ctx.openSection("history");
    if (action === "settings") return ctx.openSection("flows");
    return refresh();
  }

  function openSection(id) {
    state.open.add(id);
    render();
    const summary = root.querySelector(`#cs-section-${id}-summary`);
    if (summary) {
      summary.focus();
      summary.scrollIntoView({ block: "start" });
    }
  }

  async function start() {
    const lang = languageOf(locale);
    const messages = await loadCatalogue(lang);
    const i18n = createI18n(locale, messages);
    ctx = {
      plugin, host, root, state, i18n, t: i18n.t, render, save, act, refresh, remedy, openSection, announce,
      // A CardDAV spoke reconnects by typing its password again, next to "Find address books".
      connect: (id) => (isCardDavSpoke(state, id) ? focusCardDavPassword(ctx, id)
        : act("connect", "connections", async () => { await plugin.connect(id); announce(i18n.t("connections.connected")); })),
      syncNow: (id) => runSync(id),
      preview: (id) => preview(ctx, id),
      updateProgress: () => updateProgress(root, ctx),
    };
    // Promise.resolve().then: a method that throws at once still becomes a shown error.
    const [settings, catalogue, lists, tags, devConfig] = await Promise.all([
      Promise.resolve().then(() => plugin.getSettings()).catch((error) => { state.settingsError = error; return null; }),
      Promise.resolve().then(() => plugin.fieldCatalogue()).catch((error) => { state.errors.fields = error; return null; }),
      quiet(() => host?.crm?.lists?.(), []),
      quiet(() => host?.crm?.tags?.(), []),
      devConfigWanted(options) ? quiet(() => loadDevConfig(options.devConfigUrl ?? "/dev-config.json"), null) : null,
    ]);
    state.settings = settings;
    state.catalogue = catalogue;
    state.lists = Array.isArray(lists) ? lists : [];
    state.tags = Array.isArray(tags) ? tags : [];
    state.devConfig = devConfig;
    await refresh();
    root.dataset.state = "ready";
    root.removeAttribute("aria-busy");
  }

  /** Sync now: one spoke or all; progress drawn in place; the reports kept for the summary. */
  async function runSync(spokeId) {
    state.running = true;
    state.progress = null;
    state.preview = null;
    const reports = await act("sync", "run", async () => {
      const request = { trigger: "manual" };
      if (spokeId) request.spokeId = spokeId;
      return plugin.sync(request, (progress) => {
        state.progress = progress;
        ctx.updateProgress();
      });
    });
    state.running = false;
    state.progress = null;
    if (reports) {
      state.lastRun = reports;
      announce(ctx.t("run.finished"));
    }
    render();
    return reports;
  }

  start().catch((error) => {
    // The catalogue itself failed: nothing can be said in the operator's language.
    root.dataset.state = "failed";
    root.removeAttribute("aria-busy");
    root.replaceChildren(el("p", { class: "cs-error", role: "alert", text: `Settings could not be loaded (${error?.code ?? "INTERNAL"}). Reload the page.` }));
  });

  return function unmount() {
    alive = false;
    root.remove();
    stylesheet.remove();
  };
}

function renderSettingsProblem(ctx) {
  const { t, state } = ctx;
  // An Error's message is not enumerable: copy the fields rather than spreading it.
  const problem = { code: state.settingsError?.code ?? "INVALID_SETTINGS", message: state.settingsError?.message ?? "" };
  return el("div", { class: "cs-banner", id: "cs-settings-problem" }, [
    renderError(problem, ctx.i18n),
    el("p", { text: t("settingsProblem.explain") }),
    el("button", { type: "button", id: "cs-settings-defaults", class: "cs-btn cs-btn-secondary", on: { click: () => useDefaults(ctx) } }, [t("settingsProblem.useDefaults")]),
  ]);
}

/** Replaces invalid stored settings with the defaults, only when the operator asks (never silently). */
async function useDefaults(ctx) {
  const { plugin, state } = ctx;
  try {
    const defaults = plugin.defaultSettings();
    state.settings = await plugin.saveSettings(defaults);
    state.settingsError = null;
    ctx.announce(ctx.t("tab.saved"));
  } catch (error) {
    state.settingsError = error;
  }
  await ctx.refresh();
}

function safeVersion(plugin) {
  try {
    return String(plugin?.version?.() ?? "");
  } catch {
    return "";
  }
}

async function quiet(load, fallback) {
  try {
    const value = await load();
    return value ?? fallback;
  } catch {
    return fallback;
  }
}

/** The development server's /dev-config.json is read only where one runs: on loopback. */
function devConfigWanted(options) {
  if (options.devConfigUrl === null) return false;
  if (options.devConfigUrl) return true;
  return ["127.0.0.1", "localhost", "[::1]"].includes(globalThis.location?.hostname);
}

async function loadDevConfig(url) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) return null;
  return response.json();
}
