// Lists and tags management: create, rename and delete lists; create and delete tags.
import { h, replaceChildren } from "../dom.js";
import { t } from "../i18n.js";

export function createListsView(root, { book, notify }) {
  const body = h("div", { class: "admin-grid" });
  root.append(body);

  const failed = (error) => notify("error", error.remedy ? `${error.message} ${error.remedy}` : error.message);

  async function render() {
    const [lists, tags, contacts] = await Promise.all([book.lists(), book.tags(), book.all()]);
    const listCount = (id) => contacts.filter((c) => c.lists.includes(id)).length;
    const tagCount = (tag) => contacts.filter((c) => c.tags.includes(tag)).length;

    const newList = h("input", { type: "text", id: "new-list-name", "aria-label": t("newList"), placeholder: t("newList") });
    const listForm = h("form", { class: "toolbar", id: "new-list-form", onsubmit: async (e) => {
      e.preventDefault();
      try { await book.createList(newList.value, "ui"); newList.value = ""; } catch (error) { failed(error); }
    } }, newList, h("button", { type: "submit", class: "button primary" }, t("createList")));

    const newTag = h("input", { type: "text", id: "new-tag-name", "aria-label": t("newTag"), placeholder: t("newTag") });
    const tagForm = h("form", { class: "toolbar", id: "new-tag-form", onsubmit: async (e) => {
      e.preventDefault();
      try { await book.createTag(newTag.value, "ui"); newTag.value = ""; } catch (error) { failed(error); }
    } }, newTag, h("button", { type: "submit", class: "button primary" }, t("createTag")));

    replaceChildren(body,
      h("section", { class: "panel", "aria-labelledby": "lists-heading" },
        h("h2", { id: "lists-heading" }, t("lists")), listForm,
        h("table", { class: "item-table", id: "lists-table" }, h("tbody", {}, ...lists.map((list) => {
          const name = h("input", { type: "text", value: list.name, "aria-label": `${t("rename")} ${list.name}` });
          return h("tr", { "data-list-id": list.id },
            h("td", {}, name), h("td", { class: "muted" }, t("members", { n: listCount(list.id) })),
            h("td", {},
              h("button", { type: "button", class: "button", onclick: async () => { try { await book.renameList(list.id, name.value, "ui"); } catch (error) { failed(error); } } }, t("rename")),
              " ",
              h("button", { type: "button", class: "button danger", onclick: async () => {
                if (!window.confirm(t("confirmDeleteList", { name: list.name }))) return;
                try { await book.deleteList(list.id, "ui"); } catch (error) { failed(error); }
              } }, t("delete"))));
        })))),
      h("section", { class: "panel", "aria-labelledby": "tags-heading" },
        h("h2", { id: "tags-heading" }, t("tags")), tagForm,
        h("table", { class: "item-table", id: "tags-table" }, h("tbody", {}, ...tags.map((tag) => h("tr", { "data-tag": tag },
          h("td", {}, tag), h("td", { class: "muted" }, t("members", { n: tagCount(tag) })),
          h("td", {}, h("button", { type: "button", class: "button danger", onclick: async () => {
            if (!window.confirm(t("confirmDeleteTag", { name: tag }))) return;
            try { await book.deleteTag(tag, "ui"); } catch (error) { failed(error); }
          } }, t("delete")))))))));
  }

  return { render };
}
