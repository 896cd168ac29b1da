// The visible host log: structured records from the plugin (and the host), newest first.
import { h, replaceChildren } from "../dom.js";
import { t, formatDateTime } from "../i18n.js";

const MAX_RECORDS = 500;

export function createLogView(root) {
  const records = [];
  const table = h("table", { class: "log-table", id: "log-table" });
  const title = h("h2", {});
  const clear = h("button", { type: "button", class: "button", onclick: () => { records.length = 0; render(); } });
  root.append(h("section", { class: "panel" }, h("div", { class: "toolbar" }, title, h("span", { class: "spacer" }), clear), table));

  function render() {
    title.textContent = t("logTitle");
    clear.textContent = t("clearLog");
    if (records.length === 0) {
      replaceChildren(table, h("tbody", {}, h("tr", {}, h("td", { class: "muted" }, t("logEmpty")))));
      return;
    }
    replaceChildren(table, h("tbody", {}, ...records.map((r) => h("tr", { class: `level-${r.level}` },
      h("td", {}, formatDateTime(new Date(r.time))), h("td", {}, r.level), h("td", {}, r.message),
      h("td", { class: "fields" }, Object.keys(r.fields).length ? JSON.stringify(r.fields) : "")))));
  }

  return {
    add(record) {
      records.unshift(record);
      if (records.length > MAX_RECORDS) records.length = MAX_RECORDS;
      if (!root.hidden) render();
    },
    render,
    get size() { return records.length; },
  };
}
