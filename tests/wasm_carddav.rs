#![cfg(target_arch = "wasm32")]
//! `connectCardDav` in a real browser, called from JavaScript with a JS host whose fetch
//! plays the server (or the shim refusing it): a server the shim does not admit or cannot
//! reach rejects with the host's code and a remedy, wrong credentials reject AUTH_DENIED
//! with no password kept, and a discovery that works resolves the books and stores the
//! password; afterwards the spoke reads connected once a book is chosen.

use contact_sync::wasm::{ContactSyncPlugin, PluginHostObject};
use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
const SERVER = "https://dav.example.com";
const multistatus = (inner) => `<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav">${inner}</d:multistatus>`;
const ok = (href, props) => `<d:response><d:href>${href}</d:href><d:propstat><d:prop>${props}</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`;

export function makeHost(mode) {
  const store = new Map();
  const secrets = new Map();
  const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
  const coded = (code, message, remedy) => Object.assign(new Error(message), { code, remedy, retryable: code === "NETWORK" });
  const host = {
    requests: [],
    secretSets: 0,
    storage: {
      async get(keys) { const out = {}; for (const k of keys) out[k] = store.has(k) ? clone(store.get(k)) : null; return out; },
      async write({ put = {}, delete: del = [] }) {
        for (const k of del) store.delete(k);
        for (const [k, v] of Object.entries(put)) store.set(k, clone(v));
      },
      async compareAndSet(key, expected, value) {
        const cur = store.has(key) ? store.get(key) : null;
        if (JSON.stringify(cur) !== JSON.stringify(expected)) return false;
        if (value === null) store.delete(key); else store.set(key, clone(value));
        return true;
      },
      async list(prefix) { return [...store.keys()].filter((k) => k.startsWith(prefix)); },
    },
    secrets: {
      async get(name) { return secrets.has(name) ? secrets.get(name) : null; },
      async set(name, value) { host.secretSets += 1; secrets.set(name, value); },
      async delete(name) { secrets.delete(name); },
    },
    crm: {
      async listChanges() { return { contacts: [], nextCursor: "0", hasMore: false }; },
      async get() { return []; },
      async create() { throw coded("INTERNAL", "not in this test", "none"); },
      async update() { throw coded("CONFLICT", "stale", "none"); },
      async delete() {},
      async lists() { return []; },
      async createList(name) { return { id: "l1", name }; },
      async tags() { return []; },
      async fieldSchema() { return [{ id: "firstName", label: "First name", type: "text" }]; },
      async users() { return []; },
      async currentUser() { return { id: "u1", name: "Ada" }; },
    },
    locale() { return "en"; },
    async fetch(request) {
      host.requests.push(request.url);
      if (mode === "unallowed") throw coded("NOT_ALLOWED_HOST", `The plugin may not contact ${new URL(request.url).origin}.`, "Save the spoke with its https:// address first.");
      if (mode === "unreachable") throw coded("NETWORK", `Could not reach ${new URL(request.url).origin}.`, "Check the network connection and the server address, then try again.");
      if (!request.headers.authorization?.startsWith("Basic ")) return { status: 401, headers: {}, body: "" };
      if (mode === "refused") return { status: 401, headers: { "www-authenticate": 'Basic realm="dav"' }, body: "" };
      const path = new URL(request.url).pathname;
      if (request.method !== "PROPFIND") return { status: 405, headers: {}, body: "" };
      if (path === "/dav/" || path === "/.well-known/carddav") {
        return { status: 207, headers: {}, body: multistatus(ok(path, "<d:current-user-principal><d:href>/dav/alice/</d:href></d:current-user-principal>")) };
      }
      if (path === "/dav/alice/" && request.headers.depth === "0") {
        return { status: 207, headers: {}, body: multistatus(ok(path, "<c:addressbook-home-set><d:href>/dav/alice/</d:href></c:addressbook-home-set>")) };
      }
      if (path === "/dav/alice/") {
        return { status: 207, headers: {}, body: multistatus(
          ok("/dav/alice/", "<d:resourcetype><d:collection/></d:resourcetype>") +
          ok("/dav/alice/contacts/", "<d:resourcetype><d:collection/><c:addressbook/></d:resourcetype><d:displayname>Contacts</d:displayname>")) };
      }
      return { status: 404, headers: {}, body: "" };
    },
    ui: { notify() {}, async openAuthWindow() { return ""; } },
    log() {},
    now() { return 1767225600000; },
    async sleep() {},
    randomBytes(n) { return new Uint8Array(n); },
  };
  return host;
}

export async function callMethod(plugin, name, args) {
  try {
    const value = await plugin[name](...args);
    return { ok: true, value };
  } catch (e) {
    return { ok: false, isError: e instanceof Error, code: e?.code, message: e?.message, remedy: e?.remedy };
  }
}

export function settingsWith(defaults, addressBook) {
  const spoke = { id: "dav", kind: "carddav", name: "Dav", allowCreate: true, serverUrl: SERVER + "/dav/", username: "alice" };
  if (addressBook) spoke.addressBook = addressBook;
  return { ...defaults, spokes: [spoke] };
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = makeHost)]
    fn make_host(mode: &str) -> JsValue;
    #[wasm_bindgen(js_name = callMethod)]
    async fn call_method(plugin: &JsValue, name: &str, args: Array) -> JsValue;
    #[wasm_bindgen(js_name = settingsWith)]
    fn settings_with(defaults: &JsValue, address_book: Option<String>) -> JsValue;
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap()
}

async fn call(plugin: &JsValue, name: &str, args: &[JsValue]) -> JsValue {
    call_method(plugin, name, args.iter().collect()).await
}

fn assert_ok(result: &JsValue) -> JsValue {
    assert_eq!(get(result, "ok"), JsValue::TRUE, "expected success, got {:?}", get(result, "message"));
    get(result, "value")
}

fn assert_coded(result: &JsValue, code: &str) {
    assert_eq!(get(result, "ok"), JsValue::FALSE, "expected a rejection with {code}");
    assert_eq!(get(result, "isError"), JsValue::TRUE, "rejected with something that is not an Error");
    assert_eq!(get(result, "code").as_string().as_deref(), Some(code), "message: {:?}", get(result, "message"));
    assert!(get(result, "remedy").as_string().is_some_and(|r| !r.is_empty()), "no remedy");
}

/// A plugin over a host in `mode`, with the CardDAV spoke saved.
async fn plugin_in(mode: &str, address_book: Option<&str>) -> (JsValue, JsValue) {
    let host = make_host(mode);
    let plugin = ContactSyncPlugin::new(host.clone().unchecked_into::<PluginHostObject>(), None)
        .unwrap_or_else(|e| panic!("constructor failed: {:?}", e));
    let plugin = JsValue::from(plugin);
    let defaults = assert_ok(&call(&plugin, "defaultSettings", &[]).await);
    assert_ok(&call(&plugin, "saveSettings", &[settings_with(&defaults, address_book.map(str::to_string))]).await);
    (host, plugin)
}

fn secret_sets(host: &JsValue) -> f64 {
    get(host, "secretSets").as_f64().unwrap_or(-1.0)
}

#[wasm_bindgen_test]
async fn a_server_the_shim_refuses_rejects_not_allowed_host_with_its_remedy() {
    let (host, plugin) = plugin_in("unallowed", None).await;
    let result = call(&plugin, "connectCardDav", &[JsValue::from_str("dav"), JsValue::from_str("pw")]).await;
    assert_coded(&result, "NOT_ALLOWED_HOST");
    assert_eq!(get(&result, "remedy").as_string().as_deref(), Some("Save the spoke with its https:// address first."));
    assert_eq!(secret_sets(&host), 0.0);
}

#[wasm_bindgen_test]
async fn an_unreachable_server_rejects_network_and_keeps_no_password() {
    let (host, plugin) = plugin_in("unreachable", None).await;
    let result = call(&plugin, "connectCardDav", &[JsValue::from_str("dav"), JsValue::from_str("pw")]).await;
    assert_coded(&result, "NETWORK");
    assert_eq!(secret_sets(&host), 0.0);
    assert_eq!(Array::from(&get(&host, "requests")).length(), 1, "gave up after the first failure");
}

#[wasm_bindgen_test]
async fn wrong_credentials_reject_auth_denied() {
    let (host, plugin) = plugin_in("refused", None).await;
    let result = call(&plugin, "connectCardDav", &[JsValue::from_str("dav"), JsValue::from_str("wrong")]).await;
    assert_coded(&result, "AUTH_DENIED");
    assert!(!get(&result, "message").as_string().unwrap_or_default().contains("wrong"));
    assert_eq!(secret_sets(&host), 0.0);
    // An unknown spoke and a missing password are refused too.
    assert_coded(&call(&plugin, "connectCardDav", &[JsValue::from_str("nope"), JsValue::from_str("pw")]).await, "BAD_INPUT");
    assert_coded(&call(&plugin, "connectCardDav", &[JsValue::from_str("dav"), JsValue::from_str("")]).await, "NOT_CONNECTED");
}

#[wasm_bindgen_test]
async fn a_working_discovery_lists_the_books_stores_the_password_and_the_spoke_connects() {
    let (host, plugin) = plugin_in("server", None).await;
    let answer = assert_ok(&call(&plugin, "connectCardDav", &[JsValue::from_str("dav"), JsValue::from_str("pw")]).await);
    let books = Array::from(&get(&answer, "addressBooks"));
    assert_eq!(books.length(), 1);
    assert_eq!(get(&books.get(0), "url").as_string().as_deref(), Some("https://dav.example.com/dav/alice/contacts/"));
    assert_eq!(get(&books.get(0), "displayName").as_string().as_deref(), Some("Contacts"));
    assert_eq!(secret_sets(&host), 1.0);

    let defaults = assert_ok(&call(&plugin, "defaultSettings", &[]).await);
    let chosen = settings_with(&defaults, Some("https://dav.example.com/dav/alice/contacts/".into()));
    assert_ok(&call(&plugin, "saveSettings", &[chosen]).await);
    let status = assert_ok(&call(&plugin, "spokeStatus", &[JsValue::from_str("dav")]).await);
    assert_eq!(get(&status, "state").as_string().as_deref(), Some("connected"));
    assert_eq!(get(&status, "account").as_string().as_deref(), Some("alice @ dav.example.com"));
    assert_ok(&call(&plugin, "disconnect", &[JsValue::from_str("dav")]).await);
    let status = assert_ok(&call(&plugin, "status", &[]).await);
    let first = Array::from(&get(&status, "spokes")).get(0);
    assert_eq!(get(&first, "state").as_string().as_deref(), Some("disconnected"));
}
