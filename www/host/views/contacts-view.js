// The contacts screen: search and filters, the list, and the detail/edit form.
import { h, replaceChildren } from "../dom.js";
import { t } from "../i18n.js";
import { displayName, matchesQuery, sortContacts } from "./contact-display.js";
import { renderContactForm } from "./contact-form.js";

/**
 * @param {HTMLElement} root
 * @param {{book: object, notify: Function}} deps
 * @returns {{refresh(): Promise<void>, render(): void}}
 */
export function createContactsView(root, { book, notify }) {
  const state = { contacts: [], lists: [], tags: [], users: [], query: "", list: "", tag: "", selected: null, formOpen: false };
  const listEl = h("ul", { class: "contact-list", id: "contact-list", "aria-label": "contacts" });
  const countEl = h("p", { class: "muted", id: "contact-count" });
  const detail = h("div", { class: "panel", id: "contact-detail" });
  const search = h("input", { type: "search", id: "contact-search", oninput: () => { state.query = search.value; drawList(); } });
  const listFilter = h("select", { id: "list-filter", onchange: () => { state.list = listFilter.value; drawList(); } });
  const tagFilter = h("select", { id: "tag-filter", onchange: () => { state.tag = tagFilter.value; drawList(); } });
  const newButton = h("button", { type: "button", class: "button primary", id: "new-contact", onclick: () => openForm(null) });
  const searchLabel = h("label", { for: "contact-search", class: "muted" });

  root.append(h("div", { class: "contacts-layout" },
    h("div", { class: "panel" }, h("div", { class: "toolbar" }, searchLabel, search), h("div", { class: "toolbar" }, listFilter, tagFilter, newButton), countEl, listEl),
    detail));

  function visible() {
    return sortContacts(state.contacts.filter((c) =>
      matchesQuery(c, state.query) && (!state.list || c.lists.includes(state.list)) && (!state.tag || c.tags.includes(state.tag))));
  }

  function drawList() {
    const shown = visible();
    replaceChildren(listEl, ...shown.map((c) => h("li", {},
      h("button", { type: "button", "data-contact-id": c.id, "aria-current": c.id === state.selected ? "true" : "false", onclick: () => openForm(c.id) },
        h("div", { class: "contact-name" }, displayName(c)),
        h("div", { class: "contact-sub" }, [c.fields.company, c.fields.emails?.[0]?.value].filter(Boolean).join(" · "))))));
    if (shown.length === 0) listEl.append(h("li", { class: "muted" }, t("noContacts")));
    countEl.textContent = t("contactCount", { n: shown.length });
  }

  function drawChrome() {
    searchLabel.textContent = t("search");
    search.placeholder = t("searchPlaceholder");
    newButton.textContent = t("newContact");
    replaceChildren(listFilter, h("option", { value: "" }, t("allLists")), ...state.lists.map((l) => h("option", { value: l.id, selected: l.id === state.list }, l.name)));
    replaceChildren(tagFilter, h("option", { value: "" }, t("allTags")), ...state.tags.map((tag) => h("option", { value: tag, selected: tag === state.tag }, tag)));
    listFilter.setAttribute("aria-label", t("listsLabel"));
    tagFilter.setAttribute("aria-label", t("tagsLabel"));
  }

  function drawEmptyDetail() {
    replaceChildren(detail, h("p", { class: "muted" }, t("selectContact")));
  }

  function openForm(id) {
    state.selected = id;
    state.formOpen = true;
    const contact = id ? state.contacts.find((c) => c.id === id) ?? null : null;
    renderContactForm({
      container: detail, contact, lists: state.lists, tags: state.tags, users: state.users, book, notify,
      onDone: async (doneId, { reload } = {}) => {
        state.formOpen = false;
        await refresh();
        if (doneId && state.contacts.some((c) => c.id === doneId)) openForm(doneId);
        else { state.selected = null; drawEmptyDetail(); drawList(); }
        if (reload) detail.querySelector("#field-firstName")?.focus();
      },
    });
    drawList();
  }

  async function refresh() {
    const [contacts, lists, tags, users] = await Promise.all([book.all(), book.lists(), book.tags(), book.users()]);
    Object.assign(state, { contacts, lists, tags, users });
    drawChrome();
    drawList();
  }

  function render() {
    drawChrome();
    drawList();
    // An open form is left alone: the operator's unsaved typing matters more than a redraw.
    if (!state.formOpen) drawEmptyDetail();
    else if (state.selected) openForm(state.selected);
    else openForm(null);
  }

  drawEmptyDetail();
  return { refresh, render, get formOpen() { return state.formOpen; } };
}
