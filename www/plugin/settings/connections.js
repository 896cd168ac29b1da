// Connections: each address book (spoke) with its status light, account, last good run and
// next run; connect, test, disconnect, forget links (consequence stated first), whether the
// CRM may create contacts in it; the company's own Google Cloud app; emulator endpoints in
// development. The client secret goes to host secrets, never into settings.
import { el, button, checkbox, input } from "./dom.js";
import { statusLight } from "./summary.js";
import { renderError } from "./errors.js";
import { remoteName } from "./reports.js";
import { renderCardDavForm, renderCardDavAccount, openCardDavForm, cardDavI18n, forgetCardDavSpoke } from "./carddav.js";

/** Name of the host secret holding a spoke's OAuth client secret. */
export function clientSecretName(spokeId) {
  return `google.${spokeId}.clientSecret`;
}

/** Name of the host secret holding a CardDAV spoke's password. */
export function passwordSecretName(spokeId) {
  return `carddav.${spokeId}.password`;
}

export function renderConnections(ctx) {
  const { t, state } = ctx;
  if (!state.settings) return el("p", { text: t("section.unavailable") });
  const spokes = state.settings.spokes ?? [];
  return [
    el("p", { class: "cs-hint", text: t("connections.intro") }),
    ...spokes.map((spoke) => spokeCard(ctx, spoke)),
    renderCardDavForm(ctx),
    el("div", { class: "cs-actions" }, [
      button(t("connections.addGoogle"), () => addSpoke(ctx, "google"), { id: "cs-add-google", kind: spokes.length ? "secondary" : "primary" }),
      button(t("connections.addCarddav"), () => openCardDavForm(ctx), { id: "cs-add-carddav", disabled: !!state.carddavDraft, "aria-controls": "cs-carddav-new" }),
    ]),
    networkAccess(ctx),
  ].filter(Boolean);
}

/** Every address the plugin may contact now (the core's admittedOrigins()), one line each with why. */
function networkAccess(ctx) {
  const { t, state } = ctx;
  const access = state.network;
  if (!Array.isArray(access?.origins)) return null;
  const byOrigin = new Map();
  for (const entry of access.origins) {
    if (typeof entry?.origin !== "string") continue;
    byOrigin.set(entry.origin, [...(byOrigin.get(entry.origin) ?? []), entry]);
  }
  const why = (entry) => {
    if (entry.source === "manifest") return t("network.manifest");
    if (entry.source === "development") return t("network.development");
    return t(entry.privateNetwork ? "network.serverPrivate" : "network.server", { name: remoteName(ctx, entry.spokeId) });
  };
  return el("section", { class: "cs-subsection", id: "cs-network", "aria-labelledby": "cs-network-title" }, [
    el("h4", { id: "cs-network-title", text: t("network.title") }),
    el("p", { class: "cs-hint", text: t(access.devMode ? "network.intro.dev" : "network.intro") }),
    el("ul", { class: "cs-network-list" }, [...byOrigin].map(([origin, entries]) => el("li", {
      "data-origin": origin, "data-private": String(entries.some((e) => e.privateNetwork === true)),
    }, [
      el("code", { text: entries.some((e) => e.anyPort) ? t("network.anyPort", { origin }) : origin }),
      ` — ${entries.map(why).join("; ")}`,
    ]))),
  ]);
}

function spokeCard(ctx, spoke) {
  const { t, i18n, state } = ctx;
  const status = state.status?.spokes?.find((s) => s.id === spoke.id) ?? { id: spoke.id, state: "disconnected", linked: 0 };
  const busy = !!state.busy;
  const id = (suffix) => `cs-spoke-${spoke.id}-${suffix}`;
  const connected = status.state === "connected";
  const carddav = spoke.kind === "carddav";
  const card = el("article", { class: "cs-spoke", id: id("card"), "data-spoke": spoke.id, "aria-labelledby": id("title") }, [
    el("h4", { id: id("title"), text: remoteName(ctx, spoke.id) }),
    el("p", { class: "cs-spoke-state" }, [
      statusLight(ctx, status),
      status.account ? el("span", { class: "cs-account", id: id("account"), text: ` ${t("connections.account", { account: status.account })}` }) : null,
    ]),
    el("dl", { class: "cs-facts" }, [
      el("dt", { text: t("connections.lastSuccess") }), el("dd", { text: status.lastSuccessAt ? i18n.dateTime(status.lastSuccessAt) : t("connections.never") }),
      el("dt", { text: t("connections.nextRun") }), el("dd", { text: status.nextRunAt ? i18n.dateTime(status.nextRunAt) : t("connections.notScheduled") }),
      el("dt", { text: t("connections.linked") }), el("dd", { text: i18n.number(status.linked ?? 0) }),
    ]),
  ]);
  if (status.problem) card.append(renderError(status.problem, carddav ? cardDavI18n(i18n) : i18n, { onAction: (a) => ctx.remedy(a, spoke.id) }));
  const tested = state.tested?.[spoke.id];
  if (tested) card.append(el("p", { class: "cs-ok", role: "status", id: id("tested"), text: t("connections.testOk", { account: tested.account ?? "" }) }));

  card.append(el("div", { class: "cs-actions" }, [
    // A CardDAV spoke connects with "Find address books" in its account fields below.
    carddav ? null : button(t(connected ? "connections.reconnect" : "connections.connect"), () => connect(ctx, spoke.id), { id: id("connect"), kind: connected ? "secondary" : "primary", disabled: busy }),
    button(t("connections.test"), () => test(ctx, spoke.id), { id: id("test"), disabled: busy || !connected }),
    button(t("connections.disconnect"), () => disconnect(ctx, spoke.id), { id: id("disconnect"), disabled: busy || !connected }),
    button(t("connections.forget"), () => { state.confirmForget = spoke.id; ctx.render(); ctx.root.querySelector(`#${CSS.escape(id("forget-confirm"))}`)?.focus(); }, { id: id("forget"), disabled: busy }),
  ]));
  if (state.confirmForget === spoke.id) {
    card.append(el("div", { class: "cs-confirm", role: "group", "aria-labelledby": id("forget-text") }, [
      el("p", { id: id("forget-text"), text: t("connections.forgetConsequence", { name: remoteName(ctx, spoke.id) }) }),
      button(t("connections.forgetConfirm"), () => forget(ctx, spoke.id), { id: id("forget-confirm"), kind: "danger" }),
      button(t("common.cancel"), () => { state.confirmForget = null; ctx.render(); }, { id: id("forget-cancel") }),
    ]));
  }

  const setSpoke = (mutate) => ctx.save((s) => {
    const target = s.spokes.find((x) => x.id === spoke.id);
    if (target) mutate(target);
  }, "connections");
  card.append(
    input(id("name"), t("connections.name"), spoke.name, (value) => setSpoke((x) => { x.name = value.trim(); })),
    checkbox(id("allow-create"), t("connections.allowCreate", { name: remoteName(ctx, spoke.id) }), spoke.allowCreate, (v) => setSpoke((x) => { x.allowCreate = v; })),
  );
  if (spoke.kind === "google") card.append(...[ownApp(ctx, spoke, id, setSpoke), devEndpoints(ctx, spoke, id, setSpoke)].filter(Boolean));
  if (carddav) card.append(renderCardDavAccount(ctx, spoke, id, setSpoke, connected));
  card.append(el("div", { class: "cs-actions" }, [
    button(t("connections.remove"), () => removeSpoke(ctx, spoke.id), { id: id("remove"), kind: "danger", disabled: busy || connected, "aria-describedby": id("remove-hint") }),
    el("span", { class: "cs-hint", id: id("remove-hint"), text: t(connected ? "connections.removeHintConnected" : "connections.removeHint") }),
  ]));
  return card;
}

/** The company's own Google Cloud OAuth client: id in settings, secret in host secrets. */
function ownApp(ctx, spoke, id, setSpoke) {
  const { t, host } = ctx;
  const brokered = !!host?.oauth;
  return el("details", { class: "cs-subsection", id: id("own-app"), open: !brokered && !spoke.clientId }, [
    el("summary", { text: t("connections.ownApp") }),
    el("p", { class: "cs-hint", text: t(brokered ? "connections.ownApp.brokered" : "connections.ownApp.required") }),
    el("ol", { class: "cs-guide-steps" }, ["1", "2", "3", "4"].map((n) => el("li", { text: t(`connections.ownApp.step${n}`) }))),
    input(id("client-id"), t("connections.clientId"), spoke.clientId ?? "", (value) => setSpoke((x) => { x.clientId = value.trim(); }), { autocomplete: "off", spellcheck: "false" }),
    input(id("client-secret"), t("connections.clientSecret"), "", (value, field) => storeSecret(ctx, clientSecretName(spoke.id), value, field), {
      type: "password", autocomplete: "new-password", hint: t("connections.clientSecret.hint"),
    }),
  ]);
}

/** Development: the emulator endpoints the host announces in /dev-config.json. */
function devEndpoints(ctx, spoke, id, setSpoke) {
  const { t, state } = ctx;
  const dev = emulatorConfig(state.devConfig);
  if (!dev && !spoke.endpoints) return null;
  const using = !!spoke.endpoints;
  return el("details", { class: "cs-subsection", id: id("dev"), open: using }, [
    el("summary", { text: t("connections.dev") }),
    el("p", { class: "cs-hint", text: t("connections.dev.hint") }),
    using ? el("ul", { class: "cs-endpoints", id: id("endpoints") }, ["auth", "token", "api", "revoke"].filter((k) => spoke.endpoints[k]).map((k) => el("li", { text: `${t(`connections.dev.${k}`)}: ${spoke.endpoints[k]}` }))) : null,
    dev ? checkbox(id("use-emulator"), t("connections.dev.use"), using, async (on) => {
      const saved = await setSpoke((x) => {
        if (on) {
          x.endpoints = { ...dev.endpoints };
          if (dev.clientId) x.clientId = dev.clientId;
        } else delete x.endpoints;
      });
      if (saved && on && dev.clientSecret) await storeSecret(ctx, clientSecretName(spoke.id), dev.clientSecret, null);
    }) : null,
  ]);
}

/** The local emulator's demo OAuth client (devserver's demo configuration; development only). */
const EMULATOR_CLIENT = { clientId: "demo-client.apps.googleusercontent.com", clientSecret: "demo-secret" };

/**
 * The emulator announced by the development server's /dev-config.json
 * ({"googleEmulator": "http://127.0.0.1:<port>"}, or null), as spoke endpoints that
 * mimic Google's paths on one origin. Explicit endpoints ({google: {auth, token, api}})
 * are accepted too.
 */
export function emulatorConfig(devConfig) {
  if (typeof devConfig?.googleEmulator === "string" && /^https?:\/\//.test(devConfig.googleEmulator)) {
    const base = devConfig.googleEmulator.replace(/\/+$/, "");
    return {
      endpoints: { auth: `${base}/o/oauth2/v2/auth`, token: `${base}/token`, api: base, revoke: `${base}/revoke` },
      ...EMULATOR_CLIENT,
    };
  }
  const g = devConfig?.google;
  if (!g || typeof g !== "object") return null;
  const endpoints = {};
  for (const k of ["auth", "token", "api", "revoke"]) if (typeof g[k] === "string" && g[k]) endpoints[k] = g[k];
  if (!endpoints.auth || !endpoints.token || !endpoints.api) return null;
  return { endpoints, clientId: typeof g.clientId === "string" ? g.clientId : undefined, clientSecret: typeof g.clientSecret === "string" ? g.clientSecret : undefined };
}

/** Secrets go straight to the host's secret store; the field is emptied afterwards. */
async function storeSecret(ctx, name, value, field) {
  if (!value) return;
  try {
    await ctx.host.secrets.set(name, value);
    if (field) field.value = "";
    ctx.announce(ctx.t("connections.secretSaved"));
  } catch (error) {
    ctx.state.errors.connections = error;
    ctx.render();
  }
}

function addSpoke(ctx, kind) {
  const existing = new Set((ctx.state.settings.spokes ?? []).map((s) => s.id));
  let n = 1;
  while (existing.has(`${kind}-${n}`)) n += 1;
  const spoke = { id: `${kind}-${n}`, kind, name: ctx.t(`kind.${kind}`) + (n > 1 ? ` ${n}` : ""), allowCreate: true };
  if (kind === "google") spoke.clientId = "";
  const dev = kind === "google" ? emulatorConfig(ctx.state.devConfig) : null;
  return ctx.save((s) => { s.spokes = [...(s.spokes ?? []), spoke]; }, "connections").then(async (saved) => {
    if (saved) ctx.state.open.add("connections");
    if (saved && dev?.clientSecret && !ctx.host?.oauth) {
      // A freshly added Google spoke in development starts on the emulator.
      await ctx.save((s) => {
        const x = s.spokes.find((y) => y.id === spoke.id);
        if (x) { x.endpoints = { ...dev.endpoints }; if (dev.clientId) x.clientId = dev.clientId; }
      }, "connections");
      await storeSecret(ctx, clientSecretName(spoke.id), dev.clientSecret, null);
    }
    ctx.render();
  });
}

function removeSpoke(ctx, spokeId) {
  forgetCardDavSpoke(ctx.state, spokeId);
  return ctx.save((s) => { s.spokes = (s.spokes ?? []).filter((x) => x.id !== spokeId); }, "connections");
}

function connect(ctx, spokeId) {
  delete ctx.state.tested?.[spokeId];
  return ctx.connect(spokeId);
}

function test(ctx, spokeId) {
  return ctx.act("test", "connections", async () => {
    const status = await ctx.plugin.testConnection(spokeId);
    ctx.state.tested = { ...(ctx.state.tested ?? {}), [spokeId]: status ?? {} };
    if (status?.problem) {
      delete ctx.state.tested[spokeId];
      ctx.state.errors.connections = status.problem;
    }
  });
}

function disconnect(ctx, spokeId) {
  delete ctx.state.tested?.[spokeId];
  forgetCardDavSpoke(ctx.state, spokeId);
  return ctx.act("disconnect", "connections", async () => {
    await ctx.plugin.disconnect(spokeId);
    ctx.announce(ctx.t("connections.disconnected"));
  });
}

function forget(ctx, spokeId) {
  ctx.state.confirmForget = null;
  return ctx.act("forget", "connections", async () => {
    await ctx.plugin.forgetLinks(spokeId);
    ctx.announce(ctx.t("connections.forgotten"));
  });
}
