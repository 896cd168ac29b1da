//! The connector methods of `ContactSyncPlugin` (thin wrappers over `connectors`, which
//! dispatches by spoke kind, and the kinds' own connect): connect (Google),
//! connectCardDav, testConnection, disconnect, forgetLinks, sync, preview, cancel,
//! history, undoLastRun.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Function, Promise, Reflect};
use serde::Deserialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::convert::{to_js, to_js_error, to_json};
use super::plugin::ContactSyncPlugin;
use crate::error::{PluginError, PluginResult};
use crate::connectors;
use crate::runner::{Progress, ProgressSink, RunOptions};

thread_local! {
    /// Set by `cancel()`, read between batches by the running sync; reset when a sync starts.
    static CANCEL: Rc<Cell<bool>> = Rc::new(Cell::new(false));
}

pub(super) fn cancel_flag() -> Rc<Cell<bool>> {
    CANCEL.with(Rc::clone)
}

fn promise<T: serde::Serialize + 'static>(future: impl std::future::Future<Output = PluginResult<T>> + 'static) -> Promise {
    future_to_promise(async move {
        match future.await {
            Ok(value) => to_js(&value).map_err(|e| to_js_error(&e)),
            Err(e) => Err(to_js_error(&e)),
        }
    })
}

/// The OAuth callback the reference host catches, on this page's origin; hosts with
/// another callback pass `redirectUri` to `connect`.
fn default_redirect() -> PluginResult<String> {
    let location = Reflect::get(&js_sys::global(), &JsValue::from_str("location")).ok();
    let origin = location
        .and_then(|l| Reflect::get(&l, &JsValue::from_str("origin")).ok())
        .and_then(|o| o.as_string())
        .filter(|o| o.starts_with("http"));
    origin
        .map(|o| format!("{o}/host/oauth-callback.html"))
        .ok_or_else(|| PluginError::bad_input("No redirect URI: pass connect(spokeId, redirectUri) outside a web page."))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SyncRequest {
    #[serde(default)]
    trigger: Option<String>,
    #[serde(default)]
    spoke_id: Option<String>,
    #[serde(default)]
    budget_ms: Option<f64>,
    #[serde(default)]
    contact_ids: Vec<String>,
}

/// Forwards progress to the page's callback; an exception thrown there is the page's
/// problem, never the run's.
fn progress_sink(callback: Option<Function>) -> Option<ProgressSink> {
    let callback = callback?;
    Some(ProgressSink(Rc::new(move |p: &Progress| {
        if let Ok(value) = to_js(p) {
            let _ = callback.call1(&JsValue::NULL, &value);
        }
    })))
}

#[wasm_bindgen(js_class = ContactSyncPlugin)]
impl ContactSyncPlugin {
    /// Connects a Google spoke: consent through `host.ui.openAuthWindow` (PKCE + state)
    /// or the host's OAuth broker; resolves the account when known.
    #[wasm_bindgen(js_name = connect, unchecked_return_type = "Promise<SpokeStatus>")]
    pub fn connect_google(&self, spoke_id: String, redirect_uri: Option<String>) -> Promise {
        let core = self.core();
        promise(async move {
            let redirect = match redirect_uri {
                Some(r) => r,
                None => default_redirect()?,
            };
            core.connect_google(&spoke_id, &redirect).await
        })
    }

    /// Connects a saved CardDAV spoke (`serverUrl` and `username` in the settings): runs
    /// discovery with `password` (empty: the stored one) and stores it only when that
    /// worked; resolves `{ addressBooks: [{ url, displayName }] }` or rejects with a coded
    /// Error (AUTH_DENIED, BAD_RESPONSE for a server without CardDAV, NOT_FOUND, NETWORK,
    /// NOT_ALLOWED_HOST).
    ///
    /// ```js
    /// const { addressBooks } = await plugin.connectCardDav("dav", password);
    /// ```
    #[wasm_bindgen(js_name = connectCardDav, unchecked_return_type = "Promise<CardDavConnection>")]
    pub fn connect_carddav(&self, spoke_id: String, password: String) -> Promise {
        let core = self.core();
        promise(async move { core.connect_carddav(&spoke_id, &password).await })
    }

    /// One cheap authenticated request; resolves the spoke's status (state `error` with
    /// the problem when the request failed).
    #[wasm_bindgen(js_name = testConnection, unchecked_return_type = "Promise<SpokeStatus>")]
    pub fn test_connection(&self, spoke_id: String) -> Promise {
        let core = self.core();
        promise(async move { core.test_connection(&spoke_id).await })
    }

    /// Forgets the spoke's credentials (Google: revokes the tokens; CardDAV: the password).
    #[wasm_bindgen(js_name = disconnect, unchecked_return_type = "Promise<void>")]
    pub fn disconnect(&self, spoke_id: String) -> Promise {
        let core = self.core();
        promise(async move { connectors::disconnect(core.host(), &spoke_id).await })
    }

    /// Forgets links, bases and cursors of a spoke; the next run matches again.
    #[wasm_bindgen(js_name = forgetLinks, unchecked_return_type = "Promise<void>")]
    pub fn forget_links(&self, spoke_id: String) -> Promise {
        let core = self.core();
        promise(async move { connectors::forget_links(core.host(), &spoke_id).await })
    }

    /// Runs the spokes, Google and CardDAV (all, or `request.spokeId`); resolves their reports.
    #[wasm_bindgen(js_name = sync, unchecked_return_type = "Promise<RunReport[]>")]
    pub fn sync(&self, #[wasm_bindgen(unchecked_param_type = "SyncRequest")] request: JsValue, on_progress: Option<Function>) -> Promise {
        let parsed: PluginResult<SyncRequest> = to_json(&request).and_then(|v| {
            serde_json::from_value(v).map_err(|e| PluginError::bad_input(format!("Not a sync request: {e}")))
        });
        let core = self.core();
        let cancel = cancel_flag();
        let progress = progress_sink(on_progress);
        promise(async move {
            let request = parsed?;
            let _running = core.running_guard();
            cancel.set(false);
            let options = RunOptions {
                trigger: request.trigger.unwrap_or_else(|| "manual".into()),
                dry_run: false,
                budget_ms: request.budget_ms,
                contact_ids: request.contact_ids,
                progress,
            };
            connectors::sync_all(core.host(), request.spoke_id.as_deref(), &options, &cancel).await
        })
    }

    /// What a sync of the spoke would do, without writing.
    #[wasm_bindgen(js_name = preview, unchecked_return_type = "Promise<RunReport>")]
    pub fn preview(&self, spoke_id: String) -> Promise {
        let core = self.core();
        promise(async move { connectors::preview(core.host(), &spoke_id).await })
    }

    /// Stops the running sync between two batches (what is left continues next run).
    #[wasm_bindgen(js_name = cancel)]
    pub fn cancel(&self) {
        cancel_flag().set(true);
    }

    /// Undoes the latest run of the spoke that changed contacts.
    #[wasm_bindgen(js_name = undoLastRun, unchecked_return_type = "Promise<RunReport>")]
    pub fn undo_last_run(&self, spoke_id: String) -> Promise {
        let core = self.core();
        promise(async move { connectors::undo_last_run(core.host(), &spoke_id).await })
    }

    /// The last `limit` runs of a spoke, newest first.
    #[wasm_bindgen(js_name = history, unchecked_return_type = "Promise<RunReport[]>")]
    pub fn history(&self, spoke_id: String, limit: u32) -> Promise {
        let core = self.core();
        promise(async move {
            let runs = crate::runner::history(core.host(), &spoke_id, limit as usize).await?;
            Ok(runs.into_iter().map(|r| serde_json::to_value(r).unwrap_or(Value::Null)).collect::<Vec<_>>())
        })
    }
}
