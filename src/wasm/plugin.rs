//! The `ContactSyncPlugin` class exported to JavaScript.
//!
//! Each method is a thin wrapper over `PluginCore` (platform-neutral, tested natively
//! with `MemoryHost`). Async methods return Promises that reject with a coded `Error`
//! (`code`, `remedy`, `retryable`), never a string; bad arguments reject the same way,
//! and the instance keeps working afterwards.

use super::convert::{to_js, to_js_error, to_json};
use super::js_host::JsHost;
use crate::error::{ErrorCode, PluginError, PluginResult};
use crate::manifest::Manifest;
use crate::host::{Host, LogLevel};
use crate::plugin_core::PluginCore;
use crate::connectors;
use js_sys::Promise;
use serde::Serialize;
use std::future::Future;
use std::rc::Rc;
use std::sync::Once;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

#[wasm_bindgen]
extern "C" {
    /// The host object the shim builds (`PluginHost` in host-api.d.ts).
    #[wasm_bindgen(typescript_type = "PluginHost")]
    pub type PluginHostObject;
}

static PANIC_HOOK: Once = Once::new();

/// A panic would poison the instance until the host reloads it; at least say where.
fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            web_sys::console::error_1(&JsValue::from_str(&format!("contact-sync: internal error (panic): {info}")));
        }));
    });
}

/// Runs `future` and settles a Promise with its JSON-converted answer or coded Error.
fn promise<T, F>(future: F) -> Promise
where
    T: Serialize,
    F: Future<Output = PluginResult<T>> + 'static,
{
    future_to_promise(async move {
        match future.await {
            Ok(value) => to_js(&value).map_err(|e| to_js_error(&e)),
            Err(e) => Err(to_js_error(&e)),
        }
    })
}

fn rejected(err: PluginError) -> Promise {
    Promise::reject(&to_js_error(&err))
}

/// Refuses a manifest from another build: the settings schema compiled in must be the
/// one the host showed the operator.
fn check_manifest(given: &JsValue) -> PluginResult<()> {
    if given.is_undefined() || given.is_null() {
        return Ok(());
    }
    let given = to_json(given)?;
    let bundled = Manifest::bundled()?;
    let field = |name: &str| given.get(name).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    if field("hostApi") != "1" {
        return Err(PluginError::new(ErrorCode::HostApiMismatch, "The manifest does not declare hostApi \"1\".").with_retryable(false));
    }
    if field("id") != bundled.id || field("version") != bundled.version {
        return Err(PluginError::new(
            ErrorCode::Internal,
            format!(
                "plugin.json ({} {}) does not match the wasm module ({} {}).",
                field("id"),
                field("version"),
                bundled.id,
                bundled.version
            ),
        )
        .with_remedy("Rebuild the plugin (scripts/build.sh) or reinstall it from one package.")
        .with_retryable(false));
    }
    Ok(())
}

/// The contact-sync plugin: settings, status, sync runs and their history.
///
/// ```js
/// const plugin = new ContactSyncPlugin(pluginHost, manifest);
/// const settings = await plugin.getSettings();
/// ```
#[wasm_bindgen(js_name = ContactSyncPlugin)]
pub struct ContactSyncPlugin {
    core: Rc<PluginCore<JsHost>>,
}

impl ContactSyncPlugin {
    /// The platform-neutral core, for boundary methods added in other modules.
    pub fn core(&self) -> Rc<PluginCore<JsHost>> {
        Rc::clone(&self.core)
    }
}

#[wasm_bindgen(js_class = ContactSyncPlugin)]
impl ContactSyncPlugin {
    /// Creates the plugin over the shim's `PluginHost`. `manifest` (plugin.json as read
    /// by the host) is optional; when given it must come from the same build.
    /// Throws a coded Error (HOST_API_MISMATCH) when `host` is not an object.
    #[wasm_bindgen(constructor)]
    pub fn new(
        host: PluginHostObject,
        manifest: Option<js_sys::Object>,
    ) -> Result<ContactSyncPlugin, JsValue> {
        install_panic_hook();
        super::phone::register_phone_service();
        let manifest: JsValue = manifest.map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
        check_manifest(&manifest).map_err(|e| to_js_error(&e))?;
        let host = JsHost::new(host.into()).map_err(|e| to_js_error(&e))?;
        Ok(ContactSyncPlugin { core: Rc::new(PluginCore::new(host)) })
    }

    /// The plugin's version, e.g. `"0.1.0"`.
    pub fn version(&self) -> String {
        PluginCore::<JsHost>::version().to_string()
    }

    /// The settings before the operator changes anything.
    #[wasm_bindgen(js_name = defaultSettings, unchecked_return_type = "Settings")]
    pub fn default_settings(&self) -> Result<JsValue, JsValue> {
        to_js(&PluginCore::<JsHost>::default_settings()).map_err(|e| to_js_error(&e))
    }

    /// The stored settings (defaults when none); rejects INVALID_SETTINGS with `reasons`
    /// when the stored ones do not validate.
    #[wasm_bindgen(js_name = getSettings, unchecked_return_type = "Promise<Settings>")]
    pub fn get_settings(&self) -> Promise {
        let core = self.core();
        promise(async move { core.get_settings().await })
    }

    /// Validates (manifest schema, rules, CRM field schema) and saves; resolves the saved
    /// settings or rejects INVALID_SETTINGS listing every reason.
    #[wasm_bindgen(js_name = saveSettings, unchecked_return_type = "Promise<Settings>")]
    pub fn save_settings(&self, #[wasm_bindgen(unchecked_param_type = "Settings")] settings: JsValue) -> Promise {
        let value = match to_json(&settings) {
            Ok(v) => v,
            Err(e) => return rejected(e),
        };
        let core = self.core();
        promise(async move { core.save_settings(&value).await })
    }

    /// The state of each spoke and of the settings.
    #[wasm_bindgen(unchecked_return_type = "Promise<PluginStatus>")]
    pub fn status(&self) -> Promise {
        let core = self.core();
        promise(async move { core.status().await })
    }

    /// The status of one configured spoke; rejects BAD_INPUT for an unknown id.
    ///
    /// ```js
    /// const { state, account } = await plugin.spokeStatus("dav");
    /// ```
    #[wasm_bindgen(js_name = spokeStatus, unchecked_return_type = "Promise<SpokeStatus>")]
    pub fn spoke_status(&self, spoke_id: String) -> Promise {
        let core = self.core();
        promise(async move { core.spoke_status(&spoke_id).await })
    }

    /// Receives a host event (a contact changed, the CRM was opened); rejects BAD_INPUT
    /// when the event is malformed.
    #[wasm_bindgen(js_name = handleEvent, unchecked_return_type = "Promise<void>")]
    pub fn handle_event(&self, #[wasm_bindgen(unchecked_param_type = "HostEvent")] event: JsValue) -> Promise {
        let value = match to_json(&event) {
            Ok(v) => v,
            Err(e) => return rejected(e),
        };
        let core = self.core();
        promise(async move {
            core.handle_event(&value).await?;
            // The debounced run goes on in the background: the host's event call returns
            // at once, and a later event supersedes this wait (see `after_event`).
            let background = Rc::clone(&core);
            wasm_bindgen_futures::spawn_local(async move {
                let cancel = super::connector::cancel_flag();
                if let Err(e) = connectors::after_event(&background, &cancel).await {
                    let mut fields = serde_json::Map::new();
                    fields.insert("code".into(), serde_json::Value::from(e.code.as_str()));
                    background.host().log(LogLevel::Warn, &format!("event-triggered sync failed: {}", e.message), &fields);
                }
            });
            Ok(())
        })
    }

    /// The origins the plugin may contact now (the manifest's, the development hosts in
    /// development mode, each saved server the rules admit) and the saved servers it will
    /// not contact, with why. The shim admits requests by it; the tab shows it.
    ///
    /// ```js
    /// const { origins, refused } = await plugin.admittedOrigins();
    /// ```
    #[wasm_bindgen(js_name = admittedOrigins, unchecked_return_type = "Promise<NetworkAccess>")]
    pub fn admitted_origins(&self) -> Promise {
        let core = self.core();
        promise(async move { crate::network::admission::network_access_of(core.host()).await })
    }

    /// Records the operator's decision about a match waiting in a spoke; the spoke's next
    /// run applies it. Rejects BAD_INPUT for an unknown spoke or a malformed decision.
    ///
    /// ```js
    /// await plugin.resolveMatch("g1", { action: "link", crmId: "c1", remoteId: "people/c7" });
    /// await plugin.sync({ trigger: "manual", spokeId: "g1" }); // applies it now
    /// ```
    #[wasm_bindgen(js_name = resolveMatch, unchecked_return_type = "Promise<void>")]
    pub fn resolve_match(&self, spoke_id: String, #[wasm_bindgen(unchecked_param_type = "MatchDecision")] decision: JsValue) -> Promise {
        let value = match to_json(&decision) {
            Ok(v) => v,
            Err(e) => return rejected(e),
        };
        let core = self.core();
        promise(async move { core.resolve_match(&spoke_id, &value).await })
    }

    /// The mapping editor's catalogue: the CRM's fields, the canonical address-book
    /// fields and the default rows.
    #[wasm_bindgen(js_name = fieldCatalogue, unchecked_return_type = "Promise<FieldCatalogue>")]
    pub fn field_catalogue(&self) -> Promise {
        let core = self.core();
        promise(async move { core.field_catalogue().await })
    }
}
