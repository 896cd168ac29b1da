#![cfg(target_arch = "wasm32")]
//! The wasm boundary in a real browser: the class is called from JavaScript with a JS
//! host object, failures arrive as `Error`s carrying a `code`, and bad input never
//! breaks the instance.

use contact_sync::wasm::{ContactSyncPlugin, PluginHostObject};
use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
export function makeHost(options = {}) {
  const store = new Map();
  const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
  const coded = (code, message) => Object.assign(new Error(message), { code, remedy: "test remedy" });
  const host = {
    calls: [],
    storage: {
      async get(keys) { const out = {}; for (const k of keys) out[k] = store.has(k) ? clone(store.get(k)) : null; return out; },
      async write({ put = {}, delete: del = [] }) {
        host.calls.push("storage.write");
        if (options.failWrite === "coded") throw coded("STORAGE", "The disk is full.");
        if (options.failWrite === "string") throw "nope";
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
    secrets: { async get() { return null; }, async set() {}, async delete() {} },
    crm: {
      async listChanges() { return { contacts: [], nextCursor: "0", hasMore: false }; },
      async get() { return []; },
      async create() { throw coded("INTERNAL", "not in this test"); },
      async update() { throw coded("CONFLICT", "stale"); },
      async delete() {},
      async lists() { return [{ id: "l1", name: "VIP" }]; },
      async createList(name) { return { id: "l2", name }; },
      async tags() { return []; },
      async fieldSchema() {
        if (options.badFieldSchema) return [{ id: 3 }];
        return [{ id: "firstName", label: "First name", type: "text" }, { id: "gone", label: "Gone", type: "boolean" }];
      },
      async users() { return []; },
      async currentUser() { return { id: "u1", name: "Ada" }; },
    },
    locale() { return "fr-FR"; },
    async fetch() { throw coded("NETWORK", "offline"); },
    ui: { notify() {}, async openAuthWindow() { return ""; } },
    log(level, message) { host.calls.push("log:" + message); },
    now() { return 1767225600000; },
    async sleep() {},
    randomBytes(n) { return new Uint8Array(n); },
  };
  if (options.noStorageGet) delete host.storage.get;
  return host;
}

export async function callMethod(plugin, name, args) {
  try {
    const value = await plugin[name](...args);
    return { ok: true, value };
  } catch (e) {
    return { ok: false, isError: e instanceof Error, code: e?.code, reasons: e?.reasons, message: e?.message, remedy: e?.remedy };
  }
}

export function cyclic() { const o = { "sync.enabled": true }; o.self = o; return o; }
export function bigint() { return { type: "crm.opened", n: 10n }; }
export function hostCalls(host) { return host.calls.slice(); }
"#)]
extern "C" {
    #[wasm_bindgen(js_name = makeHost)]
    fn make_host(options: JsValue) -> JsValue;
    #[wasm_bindgen(js_name = callMethod)]
    async fn call_method(plugin: &JsValue, name: &str, args: Array) -> JsValue;
    fn cyclic() -> JsValue;
    fn bigint() -> JsValue;
    #[wasm_bindgen(js_name = hostCalls)]
    fn host_calls(host: &JsValue) -> Array;
}

fn options(json: &str) -> JsValue {
    js_sys::JSON::parse(json).unwrap()
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap()
}

fn plugin_with(host: &JsValue) -> JsValue {
    let plugin = ContactSyncPlugin::new(host.clone().unchecked_into::<PluginHostObject>(), None)
        .unwrap_or_else(|e| panic!("constructor failed: {:?}", e));
    JsValue::from(plugin)
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

fn settings_with(key: &str, value: JsValue) -> JsValue {
    let defaults = js_sys::JSON::parse(&serde_json::to_string(&contact_sync::settings::Settings::default()).unwrap()).unwrap();
    Reflect::set(&defaults, &JsValue::from_str(key), &value).unwrap();
    defaults
}

#[wasm_bindgen_test]
async fn the_plugin_answers_from_javascript_with_plain_objects() {
    let host = make_host(options("{}"));
    let plugin = plugin_with(&host);
    let version = assert_ok(&call(&plugin, "version", &[]).await);
    assert_eq!(version.as_string().as_deref(), Some(env!("CARGO_PKG_VERSION")));
    let defaults = assert_ok(&call(&plugin, "defaultSettings", &[]).await);
    assert_eq!(get(&defaults, "sync.enabled"), JsValue::TRUE);
    assert!(Array::is_array(&get(&defaults, "spokes")));

    let stored = assert_ok(&call(&plugin, "getSettings", &[]).await);
    assert_eq!(js_sys::JSON::stringify(&stored).unwrap(), js_sys::JSON::stringify(&defaults).unwrap());

    let spokes = js_sys::JSON::parse(r#"[{"id":"g1","kind":"google","name":"Work","allowCreate":true}]"#).unwrap();
    let saved = assert_ok(&call(&plugin, "saveSettings", &[settings_with("spokes", spokes)]).await);
    assert_eq!(Array::from(&get(&saved, "spokes")).length(), 1);
    let status = assert_ok(&call(&plugin, "status", &[]).await);
    let first = Array::from(&get(&status, "spokes")).get(0);
    assert_eq!(get(&first, "state").as_string().as_deref(), Some("disconnected"));
    assert_eq!(get(&status, "running"), JsValue::FALSE);
    assert!(host_calls(&host).includes(&JsValue::from_str("storage.write"), 0));

    let event = js_sys::JSON::parse(r#"{"type":"contact.updated","contactId":"c1"}"#).unwrap();
    assert_ok(&call(&plugin, "handleEvent", &[event]).await);
}

#[wasm_bindgen_test]
async fn malformed_input_rejects_with_a_coded_error_and_the_plugin_keeps_working() {
    let host = make_host(options("{}"));
    let plugin = plugin_with(&host);

    let invalid = call(&plugin, "saveSettings", &[settings_with("sync.enabled", JsValue::from_str("yes"))]).await;
    assert_coded(&invalid, "INVALID_SETTINGS");
    let reasons = Array::from(&get(&invalid, "reasons"));
    assert_eq!(reasons.length(), 1);
    assert!(reasons.get(0).as_string().unwrap().starts_with("sync.enabled"));

    assert_coded(&call(&plugin, "saveSettings", &[cyclic()]).await, "BAD_INPUT");
    assert_coded(&call(&plugin, "saveSettings", &[JsValue::UNDEFINED]).await, "INVALID_SETTINGS");
    assert_coded(&call(&plugin, "saveSettings", &[JsValue::from_f64(42.0)]).await, "INVALID_SETTINGS");
    assert_coded(&call(&plugin, "handleEvent", &[JsValue::from_f64(42.0)]).await, "BAD_INPUT");
    assert_coded(&call(&plugin, "handleEvent", &[bigint()]).await, "BAD_INPUT");
    assert_coded(&call(&plugin, "handleEvent", &[options(r#"{"type":"contact.updated"}"#)]).await, "BAD_INPUT");

    // Unknown CRM field in the mapping: validated against the host's field schema.
    let rows = js_sys::JSON::parse(r#"[{"crmField":"shoeSize","remoteField":"x","direction":"both","priority":"crm","fillEmpty":false}]"#).unwrap();
    assert_coded(&call(&plugin, "saveSettings", &[settings_with("mapping.fields", rows)]).await, "INVALID_SETTINGS");

    // Still working, and nothing invalid was stored.
    let settings = assert_ok(&call(&plugin, "getSettings", &[]).await);
    assert_eq!(get(&settings, "sync.enabled"), JsValue::TRUE);
    assert!(!host_calls(&host).includes(&JsValue::from_str("storage.write"), 0));
    assert_ok(&call(&plugin, "saveSettings", &[settings_with("sync.onOpen", JsValue::FALSE)]).await);
}

#[wasm_bindgen_test]
async fn host_failures_arrive_with_the_host_code_or_the_operation_code() {
    let coded = plugin_with(&make_host(options(r#"{"failWrite":"coded"}"#)));
    let result = call(&coded, "saveSettings", &[settings_with("sync.onOpen", JsValue::FALSE)]).await;
    assert_coded(&result, "STORAGE");
    assert_eq!(get(&result, "message").as_string().as_deref(), Some("The disk is full."));

    let thrown_string = plugin_with(&make_host(options(r#"{"failWrite":"string"}"#)));
    assert_coded(&call(&thrown_string, "saveSettings", &[settings_with("sync.onOpen", JsValue::FALSE)]).await, "STORAGE");

    let bad_shape = plugin_with(&make_host(options(r#"{"badFieldSchema":true}"#)));
    assert_coded(&call(&bad_shape, "saveSettings", &[settings_with("sync.onOpen", JsValue::FALSE)]).await, "BAD_RESPONSE");

    let incomplete = plugin_with(&make_host(options(r#"{"noStorageGet":true}"#)));
    assert_coded(&call(&incomplete, "getSettings", &[]).await, "HOST_API_MISMATCH");
    // status() reports what it can instead of failing on a settings problem, but a
    // host without storage.get is not a settings problem.
    assert_coded(&call(&incomplete, "status", &[]).await, "HOST_API_MISMATCH");
}

#[wasm_bindgen_test]
fn a_missing_host_or_a_foreign_manifest_throws_a_coded_error() {
    let err = match ContactSyncPlugin::new(JsValue::from_f64(42.0).unchecked_into(), None) {
        Err(e) => e,
        Ok(_) => panic!("a number is not a host"),
    };
    assert!(err.is_instance_of::<js_sys::Error>());
    assert_eq!(get(&err, "code").as_string().as_deref(), Some("HOST_API_MISMATCH"));

    let foreign = options(r#"{"id":"contact-sync","version":"9.9.9","hostApi":"1"}"#);
    let err = match ContactSyncPlugin::new(make_host(options("{}")).unchecked_into(), Some(foreign.unchecked_into())) {
        Err(e) => e,
        Ok(_) => panic!("a manifest from another build was accepted"),
    };
    assert!(err.is_instance_of::<js_sys::Error>());
    assert_eq!(get(&err, "code").as_string().as_deref(), Some("INTERNAL"));

    let own = options(&format!(r#"{{"id":"contact-sync","version":"{}","hostApi":"1"}}"#, env!("CARGO_PKG_VERSION")));
    assert!(ContactSyncPlugin::new(make_host(options("{}")).unchecked_into(), Some(own.unchecked_into())).is_ok());
}
