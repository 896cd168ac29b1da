// The reference CRM page: boots the contact book from IndexedDB (seeding it on first
// start), builds the host API, draws the screens, and installs the contact-sync plugin.
import { h, replaceChildren } from "./dom.js";
import { t, currentLanguage, setLanguage, onLanguageChange } from "./i18n.js";
import { ContactBook } from "./crm/contact-book.js";
import { fieldSchemaFor } from "./crm/field-schema.js";
import { openDatabase, IndexedDbPersistence } from "./storage/indexeddb.js";
import { seedContactBook } from "./sample-contacts.js";
import { createPageHostApi } from "./page-host-api.js";
import { installPlugin } from "./plugin-install.js";
import { logRecord } from "./log-record.js";
import { createContactsView } from "./views/contacts-view.js";
import { setFieldLabels } from "./views/contact-form.js";
import { createListsView } from "./views/lists-view.js";
import { createPluginsView } from "./views/plugins-view.js";
import { createLogView } from "./views/log-view.js";

const PLUGIN_ROOT = new URL("/plugin/", window.location.href);
const VIEWS = [["contacts", "navContacts"], ["lists", "navLists"], ["plugins", "navPlugins"], ["log", "navLog"]];
/** Development mode (the plugin may reach loopback emulators) only when served locally. */
const DEV_MODE = ["127.0.0.1", "localhost", "[::1]"].includes(window.location.hostname);

function toaster() {
  const region = document.getElementById("toasts");
  return (level, message) => {
    const toast = h("div", { class: `toast ${level}` }, h("p", {}, message),
      h("button", { type: "button", "aria-label": t("dismiss"), onclick: () => toast.remove() }, "×"));
    region.append(toast);
    setTimeout(() => toast.remove(), level === "error" ? 12000 : 6000);
  };
}

function labelFields() {
  const schema = new Map(fieldSchemaFor(currentLanguage()).map((f) => [f.id, f.label]));
  setFieldLabels((id) => schema.get(id));
}

async function boot() {
  const notify = toaster();
  const db = await openDatabase();
  const book = await ContactBook.open(new IndexedDbPersistence(db));
  await seedContactBook(book);
  document.documentElement.lang = currentLanguage();
  labelFields();

  const logView = createLogView(document.getElementById("view-log"));
  const { hostApi, emit } = createPageHostApi({ book, db, pluginId: "contact-sync", notify, onLog: (record) => logView.add(record) });
  const hostLog = (level, message, fields) => logView.add(logRecord(level, message, fields));

  const contacts = createContactsView(document.getElementById("view-contacts"), { book, notify });
  const lists = createListsView(document.getElementById("view-lists"), { book, notify });
  const plugins = createPluginsView(document.getElementById("view-plugins"), { hostApi });

  let current = "contacts";
  const nav = document.getElementById("main-nav");
  function show(view) {
    current = view;
    for (const section of document.querySelectorAll("main > section")) section.hidden = section.dataset.view !== view;
    for (const button of nav.querySelectorAll("button")) button.setAttribute("aria-current", button.dataset.view === view ? "page" : "false");
    if (view === "lists") lists.render();
    if (view === "log") logView.render();
  }
  function drawChrome() {
    document.title = t("appTitle");
    document.getElementById("app-title").textContent = t("appTitle");
    document.getElementById("language-label").textContent = t("language");
    const badge = document.getElementById("dev-badge");
    badge.hidden = !DEV_MODE;
    badge.textContent = t("devMode");
    replaceChildren(nav, ...VIEWS.map(([view, key]) => h("button", { type: "button", "data-view": view, id: `nav-${view}`, "aria-current": view === current ? "page" : "false", onclick: () => show(view) }, t(key))));
  }

  const languageSwitch = document.getElementById("language-switch");
  languageSwitch.value = currentLanguage();
  languageSwitch.addEventListener("change", () => setLanguage(languageSwitch.value));
  onLanguageChange(() => {
    labelFields();
    drawChrome();
    contacts.render();
    if (current === "lists") lists.render();
    logView.render();
    plugins.relocalise();
  });

  // Any committed change (this tab's edits, the plugin's writes) redraws what shows it,
  // once per burst: a sync writing hundreds of contacts must not redraw hundreds of times.
  let redraw = null;
  book.subscribe(() => {
    if (redraw !== null) return;
    redraw = setTimeout(() => {
      redraw = null;
      contacts.refresh();
      if (current === "lists") lists.render();
    }, 50);
  });

  drawChrome();
  await contacts.refresh();
  plugins.render();
  show("contacts");

  const exposed = { hostApi, book, plugin: null, manifest: null, scheduler: null, devMode: DEV_MODE };
  if (DEV_MODE) window.referenceHost = exposed;
  document.body.dataset.state = "ready";

  try {
    const installed = await installPlugin({
      hostApi, emit, pluginRoot: PLUGIN_ROOT, allowDevHosts: DEV_MODE, log: hostLog,
      onRun: (result) => plugins.lastRun(result),
      onNextRun: (date) => plugins.nextRun(date),
    });
    Object.assign(exposed, { plugin: installed.plugin, manifest: installed.manifest, scheduler: installed.scheduler });
    window.addEventListener("pagehide", () => installed.deactivate());
    document.body.dataset.plugin = "active";
    await plugins.installed({ ...installed, pluginRoot: PLUGIN_ROOT, allowDevHosts: DEV_MODE });
  } catch (error) {
    hostLog("error", "The plugin could not be installed.", { code: error.code, error: error.message });
    console.warn("Plugin installation failed:", error.code ?? "", error.message);
    document.body.dataset.plugin = "failed";
    plugins.failed(error);
  }
}

boot().catch((error) => {
  document.body.dataset.state = "failed";
  replaceChildren(document.querySelector("main"), h("p", { class: "panel plugin-error", role: "alert" }, `The CRM could not start: ${error.message}`));
  console.error(error);
});
