// CardDAV address books in Connections: the "add" form (name, server address, user name,
// password), discovery through the plugin's connectCardDav, the choice of the address book,
// and the account fields of an existing CardDAV spoke. The password is read from its field
// at the moment it is sent and handed to the plugin only (which keeps it in host secrets
// when the server accepted it): it never enters the tab's state, the settings or the DOM's
// value after a redraw.
import { el, button, checkbox, input } from "./dom.js";
import { renderError } from "./errors.js";

/** Whether `spokeId` names a CardDAV spoke in the saved settings. */
export function isCardDavSpoke(state, spokeId) {
  return (state.settings?.spokes ?? []).some((s) => s.id === spokeId && s.kind === "carddav");
}

/**
 * An i18n whose error messages use the CardDAV wording where the catalogue has one
 * ("carddav.error.AUTH_DENIED": the server refused the user name or password) instead of
 * the Google wording (consent page, test users).
 * @example renderError(error, cardDavI18n(ctx.i18n))
 */
export function cardDavI18n(i18n) {
  const t = (key, params) => {
    const own = "carddav." + key;
    return key.startsWith("error.") && i18n.has(own) ? i18n.t(own, params) : i18n.t(key, params);
  };
  return { ...i18n, t };
}

/** Opens the "add a CardDAV address book" form and focuses its first field. */
export function openCardDavForm(ctx) {
  const n = Number(nextSpokeId(ctx.state.settings).split("-")[1]);
  ctx.state.carddavDraft = ctx.state.carddavDraft ?? { name: ctx.t("kind.carddav") + (n > 1 ? ` ${n}` : ""), serverUrl: "", username: "" };
  ctx.state.open.add("connections");
  ctx.render();
  ctx.root.querySelector("#cs-carddav-new-server")?.focus();
}

/** The form that adds a CardDAV spoke; null when it is closed. */
export function renderCardDavForm(ctx) {
  const { t, state } = ctx;
  const draft = state.carddavDraft;
  if (!draft) return null;
  const busy = !!state.busy;
  const set = (key) => (value) => { draft[key] = value.trim(); };
  return el("form", { class: "cs-spoke cs-carddav-new", id: "cs-carddav-new", "aria-labelledby": "cs-carddav-new-title", novalidate: "", on: {
    submit: (e) => { e.preventDefault(); findFromForm(ctx); },
  } }, [
    el("h4", { id: "cs-carddav-new-title", text: t("carddav.new.title") }),
    el("p", { class: "cs-hint", text: t("carddav.new.intro") }),
    input("cs-carddav-new-name", t("connections.name"), draft.name, set("name")),
    input("cs-carddav-new-server", t("connections.serverUrl"), draft.serverUrl, set("serverUrl"), {
      type: "url", spellcheck: "false", autocomplete: "url", placeholder: "https://cloud.example.com/remote.php/dav", hint: t("carddav.serverUrl.hint"),
    }),
    input("cs-carddav-new-username", t("connections.username"), draft.username, set("username"), { autocomplete: "username", spellcheck: "false" }),
    passwordField(ctx, "cs-carddav-new-password", false),
    state.carddavMissing ? notice(ctx, "cs-carddav-new-missing", "carddav.missing", "carddav.missing.remedy", "BAD_INPUT") : null,
    el("div", { class: "cs-actions" }, [
      el("button", { type: "submit", id: "cs-carddav-new-find", class: "cs-btn cs-btn-primary", disabled: busy }, [t("carddav.find")]),
      button(t("common.cancel"), () => { state.carddavDraft = null; state.carddavMissing = false; ctx.render(); ctx.root.querySelector("#cs-add-carddav")?.focus(); }, { id: "cs-carddav-new-cancel", disabled: busy }),
    ]),
  ]);
}

/** The account part of an existing CardDAV spoke's card: server, user, password, address book. */
export function renderCardDavAccount(ctx, spoke, id, setSpoke, connected) {
  const { t, state } = ctx;
  const busy = !!state.busy;
  const error = state.carddavErrors?.[spoke.id];
  const books = state.carddavBooks?.[spoke.id];
  // Books listed means the server accepted the password, and the plugin kept it.
  const stored = connected || !!spoke.addressBook || !!books;
  return el("div", { class: "cs-subsection", id: id("carddav") }, [
    input(id("server"), t("connections.serverUrl"), spoke.serverUrl ?? "", (v) => setSpoke((x) => { x.serverUrl = v.trim(); }), {
      type: "url", spellcheck: "false", autocomplete: "url", hint: t("carddav.serverUrl.hint"),
    }),
    privateChoice(ctx, spoke, id, setSpoke),
    input(id("username"), t("connections.username"), spoke.username ?? "", (v) => setSpoke((x) => { x.username = v.trim(); }), { autocomplete: "username", spellcheck: "false" }),
    passwordField(ctx, id("password"), stored, () => findForSpoke(ctx, spoke.id, id("password"))),
    error ? renderError(error, cardDavI18n(ctx.i18n)) : null,
    el("div", { class: "cs-actions" }, [
      button(t(books || stored ? "carddav.findAgain" : "carddav.find"), () => findForSpoke(ctx, spoke.id, id("password")), {
        id: id("find"), kind: connected || books ? "secondary" : "primary", disabled: busy,
      }),
    ]),
    books ? bookChoice(ctx, spoke, id, books, setSpoke) : currentBook(ctx, spoke, id),
  ]);
}

/**
 * "This is a server on my private network", with what it allows, for a server the plugin
 * finds on a private network (admittedOrigins()). In development mode such servers are
 * admitted anyway, so the choice shows only once made.
 */
function privateChoice(ctx, spoke, id, setSpoke) {
  const { t, state } = ctx;
  const access = state.network;
  const mine = (list) => (Array.isArray(list) ? list : []).find((entry) => entry?.spokeId === spoke.id);
  const onPrivateNetwork = !!(mine(access?.origins)?.privateNetwork || mine(access?.refused)?.privateNetwork);
  if (!spoke.allowPrivateNetwork && (!onPrivateNetwork || access?.devMode)) return null;
  return el("div", { class: "cs-private", id: id("private-choice") }, [
    checkbox(id("private"), t("carddav.private.label"), !!spoke.allowPrivateNetwork, (on) => setSpoke((x) => {
      if (on) x.allowPrivateNetwork = true;
      else delete x.allowPrivateNetwork;
    }), { "aria-describedby": id("private-warning"), disabled: !!state.busy }),
    el("p", { class: "cs-warning", id: id("private-warning"), text: t("carddav.private.warning") }),
  ]);
}

/** The password field: never given a value, so what was typed is not drawn again after a
 *  redraw. `onEnter` (outside a form) makes Enter run "Find address books", as in the form. */
function passwordField(ctx, fieldId, stored, onEnter = null) {
  const { t } = ctx;
  const keys = onEnter ? { keydown: (e) => { if (e.key === "Enter") { e.preventDefault(); onEnter(); } } } : {};
  return input(fieldId, t("connections.password"), "", () => {}, {
    type: "password", autocomplete: "current-password", hint: t(stored ? "carddav.password.hintStored" : "carddav.password.hint"), on: keys,
  });
}

function currentBook(ctx, spoke, id) {
  if (!spoke.addressBook) return el("p", { class: "cs-hint", id: id("book-none"), text: ctx.t("carddav.book.none") });
  return el("p", { class: "cs-carddav-book", id: id("book") }, [ctx.t("carddav.book.current", { book: spoke.addressBook })]);
}

function bookChoice(ctx, spoke, id, books, setSpoke) {
  const { t } = ctx;
  if (!books.length) {
    return notice(ctx, id("books-empty"), "carddav.books.empty", "carddav.books.empty.remedy", "NOT_FOUND");
  }
  const name = id("book");
  return el("fieldset", { class: "cs-radios", id: id("books") }, [
    el("legend", { text: t("carddav.books.choose") }),
    ...books.map((book, n) => {
      const optionId = `${name}-${n}`;
      const label = book.displayName?.trim() || book.url;
      const hint = [book.description?.trim(), book.url].filter(Boolean).join(" — ");
      return el("div", { class: "cs-radio" }, [
        el("input", {
          type: "radio", id: optionId, name, value: book.url, checked: book.url === spoke.addressBook, "aria-describedby": `${optionId}-hint`,
          on: { change: () => chooseBook(ctx, spoke.id, book, setSpoke) },
        }),
        el("label", { for: optionId, text: label }),
        el("p", { id: `${optionId}-hint`, class: "cs-hint", text: hint }),
      ]);
    }),
  ]);
}

/** A problem the tab finds itself, drawn like the plugin's errors: a sentence and its remedy. */
function notice(ctx, noticeId, messageKey, remedyKey, code) {
  return el("div", { class: "cs-error", role: "alert", id: noticeId, "data-code": code }, [
    el("p", { class: "cs-error-message", text: ctx.t(messageKey) }),
    el("p", { class: "cs-error-remedy", text: ctx.t(remedyKey) }),
  ]);
}

async function chooseBook(ctx, spokeId, book, setSpoke) {
  const saved = await setSpoke((x) => { x.addressBook = book.url; });
  if (!saved) return;
  ctx.announce(ctx.t("carddav.book.chosen", { book: book.displayName?.trim() || book.url }));
  await ctx.refresh();
}

/** Focuses the password field of a CardDAV spoke (its "reconnect": type the password again). */
export function focusCardDavPassword(ctx, spokeId) {
  ctx.state.open.add("connections");
  ctx.render();
  const field = ctx.root.querySelector(`#${CSS.escape(`cs-spoke-${spokeId}-password`)}`);
  if (field) {
    field.scrollIntoView({ block: "center" });
    field.focus();
  }
}

/** "Find address books" in the add form: saves the new spoke, then runs discovery. */
async function findFromForm(ctx) {
  const { state, root, t } = ctx;
  const draft = state.carddavDraft;
  if (!draft || state.busy) return;
  // The change event of the last field typed may not have fired yet: read every field now.
  for (const [key, fieldId] of [["name", "cs-carddav-new-name"], ["serverUrl", "cs-carddav-new-server"], ["username", "cs-carddav-new-username"]]) {
    const field = root.querySelector(`#${fieldId}`);
    if (field) draft[key] = field.value.trim();
  }
  const password = root.querySelector("#cs-carddav-new-password")?.value ?? "";
  const missing = !draft.serverUrl ? "cs-carddav-new-server" : !draft.username ? "cs-carddav-new-username" : !password ? "cs-carddav-new-password" : null;
  state.carddavMissing = !!missing;
  if (missing) {
    ctx.render();
    root.querySelector(`#${missing}`)?.focus();
    return;
  }
  const spokeId = nextSpokeId(state.settings);
  const spoke = {
    id: spokeId, kind: "carddav", name: draft.name || t("kind.carddav"), allowCreate: true,
    serverUrl: draft.serverUrl, username: draft.username,
  };
  const saved = await ctx.save((s) => { s.spokes = [...(s.spokes ?? []), spoke]; }, "connections");
  if (!saved) {
    // The plugin refused the settings (e.g. http:// outside development): its reasons are
    // shown at the top of Connections; the form stays open with what was typed.
    ctx.root.querySelector("#cs-carddav-new-server")?.focus();
    return;
  }
  state.carddavDraft = null;
  await discover(ctx, spokeId, password);
}

/** "Find address books" on an existing spoke; an empty password means the stored one. */
function findForSpoke(ctx, spokeId, fieldId) {
  if (ctx.state.busy) return undefined;
  const password = ctx.root.querySelector(`#${CSS.escape(fieldId)}`)?.value ?? "";
  return discover(ctx, spokeId, password);
}

async function discover(ctx, spokeId, password) {
  const { state, plugin, t } = ctx;
  state.carddavErrors = state.carddavErrors ?? {};
  state.carddavBooks = state.carddavBooks ?? {};
  delete state.carddavErrors[spokeId];
  delete state.carddavBooks[spokeId];
  delete state.tested?.[spokeId];
  state.busy = "carddav";
  ctx.render();
  let found = false;
  try {
    if (typeof plugin?.connectCardDav !== "function") {
      throw Object.assign(new Error("The plugin core lacks connectCardDav()."), { code: "INTERNAL" });
    }
    const answer = await plugin.connectCardDav(spokeId, password);
    const books = Array.isArray(answer?.addressBooks) ? answer.addressBooks.filter((b) => b && typeof b.url === "string" && b.url) : [];
    state.carddavBooks[spokeId] = books;
    found = true;
    ctx.announce(t("carddav.books.found", { count: books.length }));
  } catch (error) {
    state.carddavErrors[spokeId] = error;
  } finally {
    state.busy = null;
  }
  await ctx.refresh();
  const focus = found
    ? ctx.root.querySelector(`#${CSS.escape(`cs-spoke-${spokeId}-book-0`)}`) ?? ctx.root.querySelector(`#${CSS.escape(`cs-spoke-${spokeId}-find`)}`)
    : ctx.root.querySelector(`#${CSS.escape(`cs-spoke-${spokeId}-password`)}`);
  focus?.focus();
}

/** Forgets what the tab learnt about a spoke's server (the books listed, the last error). */
export function forgetCardDavSpoke(state, spokeId) {
  delete state.carddavBooks?.[spokeId];
  delete state.carddavErrors?.[spokeId];
}

/** carddav-1, carddav-2 … : the first id not yet taken. */
export function nextSpokeId(settings) {
  const existing = new Set((settings?.spokes ?? []).map((s) => s.id));
  let n = 1;
  while (existing.has(`carddav-${n}`)) n += 1;
  return `carddav-${n}`;
}
