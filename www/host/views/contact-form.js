// The contact detail and edit form. It saves with the version it was loaded at, so a
// change made elsewhere meanwhile (another tab, the plugin's sync) surfaces as a conflict
// instead of being silently overwritten.
import { h, replaceChildren } from "../dom.js";
import { t, formatDateTime } from "../i18n.js";
import { displayName } from "./contact-display.js";
import { MAX_IMAGE_URL_LENGTH } from "../crm/field-values.js";

/** The largest image file the form takes (its data: URL must fit the CRM's limit). */
const MAX_PHOTO_FILE = Math.floor(MAX_IMAGE_URL_LENGTH / 4 * 3) - 64;

function readAsDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/**
 * The photo block: the image (or "no photo"), a file picker for a JPEG or PNG, and a
 * remove button. `value()` is undefined while unchanged, the new data: URL, or null.
 */
function photoPicker(current, label, onProblem) {
  let photo = current ?? null;
  let changed = false;
  const img = h("img", { id: "contact-photo", class: "contact-photo", alt: label, src: photo, hidden: !photo });
  const none = h("span", { class: "muted", id: "contact-no-photo", hidden: Boolean(photo) }, t("noPhoto"));
  const file = h("input", { type: "file", id: "field-photo", accept: "image/jpeg,image/png", "aria-label": t("choosePhoto"), onchange: pick });
  const remove = h("button", { type: "button", class: "button", id: "remove-photo", hidden: !photo, onclick: () => show(null) }, t("removePhoto"));
  function show(url) {
    photo = url;
    changed = true;
    if (url) img.setAttribute("src", url); else img.removeAttribute("src");
    img.hidden = !url;
    none.hidden = Boolean(url);
    remove.hidden = !url;
    if (!url) file.value = "";
  }
  async function pick() {
    const chosen = file.files?.[0];
    if (!chosen) return;
    if (chosen.type !== "image/jpeg" && chosen.type !== "image/png") {
      file.value = "";
      onProblem(t("photoType"));
      return;
    }
    if (chosen.size > MAX_PHOTO_FILE) {
      file.value = "";
      onProblem(t("photoTooLarge", { size: Math.floor(MAX_PHOTO_FILE / 1024 / 1024) }));
      return;
    }
    show(await readAsDataUrl(chosen));
  }
  const node = h("div", { class: "field photo-field" }, h("span", { class: "field-label" }, label), img, none, h("div", {}, file, remove));
  return { node, value: () => (changed ? photo : undefined) };
}

const TEXT_FIELDS = ["prefix", "firstName", "lastName", "company", "jobTitle", "department", "website", "birthday"];
const EMAIL_TYPES = ["work", "home", "other"];
const PHONE_TYPES = ["mobile", "work", "home", "other"];

function textInput(id, label, value, type = "text") {
  return h("label", { class: "field" }, h("span", {}, label), h("input", { type, name: id, id: `field-${id}`, value: value ?? "" }));
}

/** Editable rows of {value, type} for e-mails or phones; one empty row to add to. */
function valueRows(name, label, addLabel, entries, types, inputType) {
  const rows = h("div", { class: "rows", "data-rows": name });
  const addRow = (entry = {}) => {
    const typeSelect = h("select", { "data-part": "type", "aria-label": `${label} · ${t("type")}` },
      ...[...new Set([...(entry.type ? [entry.type] : []), ...types])].map((ty) => h("option", { value: ty, selected: ty === (entry.type ?? types[0]) }, ty)));
    const row = h("div", { class: "row" },
      h("input", { type: inputType, "data-part": "value", value: entry.value ?? "", "aria-label": `${label} · ${t("value")}` }),
      typeSelect,
      h("button", { type: "button", class: "button", "aria-label": `${t("remove")} ${label}`, onclick: () => row.remove() }, "×"));
    rows.append(row);
  };
  for (const entry of entries ?? []) addRow(entry);
  if (!entries?.length) addRow();
  return h("div", { class: "field" },
    h("span", { class: "field-label" }, label),
    rows,
    h("div", {}, h("button", { type: "button", class: "button", "data-add": name, onclick: () => addRow() }, addLabel)));
}

function readRows(form, name, original) {
  const values = [...form.querySelectorAll(`[data-rows="${name}"] .row`)].map((row) => ({
    value: row.querySelector('[data-part="value"]').value.trim(),
    type: row.querySelector('[data-part="type"]').value,
  })).filter((e) => e.value);
  // The first entry is the primary one, as shown.
  return values.map((e, i) => {
    const before = (original ?? []).find((o) => o.value === e.value);
    const entry = { ...(before ?? {}), value: e.value, type: e.type };
    if (i === 0) entry.primary = true; else delete entry.primary;
    return entry;
  });
}

/**
 * Renders the form for `contact` (null: a new contact) into `container`.
 * @param {{container: HTMLElement, contact: object|null, lists: object[], tags: string[], users: object[],
 *          book: object, notify: Function, onDone: (id: string|null) => void}} options
 */
export function renderContactForm({ container, contact, lists, tags, users, book, notify, onDone }) {
  const f = contact?.fields ?? {};
  const address = f.addresses?.[0] ?? {};
  const alert = h("div", { class: "alert", id: "form-alert", role: "alert", tabindex: "-1", hidden: true });
  const heading = h("h2", {}, contact ? t("editContact") : t("createContact"));
  const form = h("form", { id: "contact-form", "data-contact-id": contact?.id ?? "", "data-version": contact?.version ?? "", novalidate: true });
  const photo = photoPicker(f.photo, FIELD_LABEL("photo"), (message) => showAlert(message, null, false));

  form.append(
    photo.node,
    h("div", { class: "form-grid" },
      textInput("firstName", FIELD_LABEL("firstName"), f.firstName),
      textInput("lastName", FIELD_LABEL("lastName"), f.lastName),
      textInput("prefix", FIELD_LABEL("prefix"), f.prefix),
      textInput("company", FIELD_LABEL("company"), f.company),
      textInput("jobTitle", FIELD_LABEL("jobTitle"), f.jobTitle),
      textInput("department", FIELD_LABEL("department"), f.department),
      textInput("website", FIELD_LABEL("website"), f.website, "url"),
      textInput("birthday", FIELD_LABEL("birthday"), f.birthday, "date"),
      h("label", { class: "field" }, h("span", {}, FIELD_LABEL("owner")),
        h("select", { name: "owner", id: "field-owner" },
          h("option", { value: "" }, "—"),
          ...users.map((u) => h("option", { value: u.id, selected: u.id === f.owner }, u.name))))),
    h("div", { class: "pair-grid" },
      valueRows("emails", t("emailsLabel"), t("addEmail"), f.emails, EMAIL_TYPES, "email"),
      valueRows("phones", t("phonesLabel"), t("addPhone"), f.phones, PHONE_TYPES, "tel")),
    h("h3", {}, t("addressLabel")),
    h("div", { class: "form-grid" },
      ...["street", "postalCode", "city", "region", "country"].map((part) =>
        h("label", { class: "field" }, h("span", {}, t(part)), h("input", { type: "text", name: `address.${part}`, id: `field-address-${part}`, value: address[part] ?? "" })))),
    h("h3", {}, t("listsLabel")),
    h("div", { class: "choices", id: "field-lists" },
      ...lists.map((l) => h("label", { class: "field inline" },
        h("input", { type: "checkbox", name: "lists", value: l.id, checked: contact?.lists.includes(l.id) }), l.name))),
    h("label", { class: "field" }, h("span", {}, `${t("tagsLabel")} (${t("tagsHint")})`),
      h("input", { type: "text", name: "tags", id: "field-tags", list: "known-tags", value: (contact?.tags ?? []).join(", ") }),
      h("datalist", { id: "known-tags" }, ...tags.map((tag) => h("option", { value: tag })))),
    h("label", { class: "field" }, h("span", {}, FIELD_LABEL("notes")), h("textarea", { name: "notes", id: "field-notes" }, f.notes ?? "")),
    h("div", { class: "choices" },
      h("label", { class: "field inline" }, h("input", { type: "checkbox", name: "doNotContact", checked: f.doNotContact === true }), FIELD_LABEL("doNotContact")),
      h("label", { class: "field inline" }, h("input", { type: "checkbox", name: "deletedInRemote", checked: f.deletedInRemote === true }), FIELD_LABEL("deletedInRemote"))),
  );

  const saveButton = h("button", { type: "submit", class: "button primary", id: "save-contact" }, t("save"));
  const actions = h("div", { class: "form-actions" },
    saveButton,
    h("button", { type: "button", class: "button", onclick: () => onDone(contact?.id ?? null) }, t("cancel")),
    h("span", { class: "spacer" }),
    contact ? h("span", { class: "muted", id: "contact-version" }, t("version", { version: contact.version, date: formatDateTime(new Date(contact.updatedAt)) })) : null,
    contact ? h("button", { type: "button", class: "button danger", id: "delete-contact", onclick: remove }, t("delete")) : null);
  form.append(actions);

  function showAlert(message, remedy, withReload) {
    replaceChildren(alert, h("p", {}, message, remedy ? h("br") : null, remedy ?? ""),
      withReload ? h("button", { type: "button", class: "button", id: "reload-contact", onclick: () => onDone(contact.id, { reload: true }) }, t("reload")) : null);
    alert.hidden = false;
    alert.focus?.();
  }

  function collect() {
    const data = new FormData(form);
    const fields = {};
    for (const id of TEXT_FIELDS) fields[id] = String(data.get(id) ?? "").trim() || null;
    fields.owner = String(data.get("owner") ?? "") || null;
    fields.notes = String(data.get("notes") ?? "") || null;
    fields.emails = readRows(form, "emails", f.emails);
    fields.phones = readRows(form, "phones", f.phones);
    const edited = { ...address };
    for (const part of ["street", "postalCode", "city", "region", "country"]) {
      const v = String(data.get(`address.${part}`) ?? "").trim();
      if (v) edited[part] = v; else delete edited[part];
    }
    const others = (f.addresses ?? []).slice(1);
    fields.addresses = [edited, ...others].filter((a) => ["street", "postalCode", "city", "region", "country"].some((p) => a[p]));
    fields.doNotContact = data.get("doNotContact") !== null;
    fields.deletedInRemote = data.get("deletedInRemote") !== null;
    // Unchecked boxes that were never set stay absent rather than becoming `false`.
    if (!fields.doNotContact && f.doNotContact === undefined) fields.doNotContact = null;
    if (!fields.deletedInRemote && f.deletedInRemote === undefined) fields.deletedInRemote = null;
    const photoValue = photo.value();
    if (photoValue !== undefined) fields.photo = photoValue;
    const tagsValue = String(data.get("tags") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    return { fields, lists: data.getAll("lists").map(String), tags: [...new Set(tagsValue)] };
  }

  async function save(event) {
    event.preventDefault();
    saveButton.disabled = true;
    try {
      const patch = collect();
      if (contact) {
        const saved = await book.update(contact.id, contact.version, patch, "ui");
        notify("info", t("saved", { name: displayName(saved) }));
        onDone(saved.id);
      } else {
        const created = await book.create(patch, "ui");
        notify("info", t("created", { name: displayName(created) }));
        onDone(created.id);
      }
    } catch (error) {
      if (error.code === "CONFLICT") showAlert(t("conflict", { version: error.currentVersion }), t("conflictRemedy"), true);
      else if (error.code === "NOT_FOUND") showAlert(t("goneContact"), null, false);
      else showAlert(error.message, error.remedy, false);
    } finally {
      saveButton.disabled = false;
    }
  }

  async function remove() {
    if (!window.confirm(t("confirmDelete", { name: displayName(contact) }))) return;
    try {
      await book.delete(contact.id, contact.version, "ui");
      notify("info", t("deleted", { name: displayName(contact) }));
      onDone(null);
    } catch (error) {
      if (error.code === "CONFLICT") showAlert(t("conflict", { version: error.currentVersion }), t("conflictRemedy"), true);
      else if (error.code === "NOT_FOUND") showAlert(t("goneContact"), null, false);
      else showAlert(error.message, error.remedy, false);
    }
  }

  form.addEventListener("submit", save);
  replaceChildren(container, heading, alert, form);
  form.querySelector("#field-firstName")?.focus();
}

let labelSource = () => null;
/** The field labels come from the CRM's field schema in the current language. */
export function setFieldLabels(lookup) { labelSource = lookup; }
function FIELD_LABEL(id) { return labelSource(id) ?? id; }
