//! `JsHost`: the [`Host`] seam over the JS `PluginHost` object (host-api.d.ts).
//!
//! Every call looks the method up at call time (a host may add `oauth` later), awaits
//! whatever it returns (promise or plain value), and turns a throw or rejection into a
//! [`PluginError`] with the host's code — or, when the host gave none, the code that
//! fits the operation (STORAGE for storage, NETWORK for fetch).

use super::convert::{from_js, from_js_error, to_js};
use crate::crm::{CrmContact, CrmFieldSchema, CrmList, CrmPage, CrmPatch, CrmUser, NewCrmContact};
use crate::error::{ErrorCode, PluginError, PluginResult};
use crate::host::{Host, HttpRequest, HttpResponse, LogLevel, NotifyLevel, OAuthGrant};
use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use serde_json::{Map, Value};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The JS host object, as handed to the plugin's constructor.
pub struct JsHost {
    host: JsValue,
}

impl JsHost {
    /// Wraps the `PluginHost` object; fails with HOST_API_MISMATCH when it is not an object.
    pub fn new(host: JsValue) -> PluginResult<JsHost> {
        if !host.is_object() {
            return Err(PluginError::new(ErrorCode::HostApiMismatch, "The plugin needs a PluginHost object."));
        }
        Ok(JsHost { host })
    }

    /// `this` and the function at `path` (e.g. `["storage", "get"]`).
    fn method(&self, path: &[&str]) -> PluginResult<(JsValue, Function)> {
        let missing = || {
            PluginError::new(ErrorCode::HostApiMismatch, format!("The host lacks {}.", path.join(".")))
                .with_retryable(false)
        };
        let (name, parents) = path.split_last().ok_or_else(missing)?;
        let mut this = self.host.clone();
        for part in parents {
            this = Reflect::get(&this, &JsValue::from_str(part)).map_err(|_| missing())?;
            if !this.is_object() {
                return Err(missing());
            }
        }
        let f = Reflect::get(&this, &JsValue::from_str(name)).map_err(|_| missing())?;
        let f = f.dyn_into::<Function>().map_err(|_| missing())?;
        Ok((this, f))
    }

    /// Calls without awaiting (for the synchronous parts of the contract).
    fn call_sync(&self, path: &[&str], args: &[JsValue], fallback: ErrorCode) -> PluginResult<JsValue> {
        let (this, f) = self.method(path)?;
        let list: Array = args.iter().collect();
        f.apply(&this, &list).map_err(|e| from_js_error(&e, fallback, &path.join(".")))
    }

    /// Calls and awaits the answer.
    async fn call(&self, path: &[&str], args: &[JsValue], fallback: ErrorCode) -> PluginResult<JsValue> {
        let result = self.call_sync(path, args, fallback)?;
        JsFuture::from(Promise::resolve(&result))
            .await
            .map_err(|e| from_js_error(&e, fallback, &path.join(".")))
    }

    /// Calls and reads the answer as `T` (BAD_RESPONSE when the host answered another shape).
    async fn call_typed<T: serde::de::DeserializeOwned>(&self, path: &[&str], args: &[JsValue], fallback: ErrorCode) -> PluginResult<T> {
        let answer = self.call(path, args, fallback).await?;
        from_js(&answer).map_err(|e| {
            PluginError::new(ErrorCode::BadResponse, format!("The host's {} answered an unexpected shape: {}", path.join("."), e.message))
                .with_remedy("Check that the host implements hostApi \"1\" (host-api.d.ts).")
        })
    }
}

fn strings(items: &[String]) -> JsValue {
    items.iter().map(|s| JsValue::from_str(s)).collect::<Array>().into()
}

fn json_or_null(value: Option<&Value>) -> PluginResult<JsValue> {
    match value {
        Some(v) => to_js(v),
        None => Ok(JsValue::NULL),
    }
}

impl Host for JsHost {
    async fn storage_get(&self, keys: &[String]) -> PluginResult<Map<String, Value>> {
        let got: Map<String, Value> = self.call_typed(&["storage", "get"], &[strings(keys)], ErrorCode::Storage).await?;
        // A missing key reads as null: leave it out, as MemoryHost does.
        Ok(got.into_iter().filter(|(k, v)| !v.is_null() && keys.contains(k)).collect())
    }

    async fn storage_write(&self, put: &Map<String, Value>, delete: &[String]) -> PluginResult<()> {
        let ops = serde_json::json!({ "put": put, "delete": delete });
        self.call(&["storage", "write"], &[to_js(&ops)?], ErrorCode::Storage).await.map(drop)
    }

    async fn storage_compare_and_set(&self, key: &str, expected: Option<&Value>, value: Option<&Value>) -> PluginResult<bool> {
        let args = [JsValue::from_str(key), json_or_null(expected)?, json_or_null(value)?];
        let wrote = self.call(&["storage", "compareAndSet"], &args, ErrorCode::Storage).await?;
        wrote.as_bool().ok_or_else(|| PluginError::new(ErrorCode::BadResponse, "storage.compareAndSet must resolve a boolean."))
    }

    async fn storage_list(&self, prefix: &str) -> PluginResult<Vec<String>> {
        self.call_typed(&["storage", "list"], &[JsValue::from_str(prefix)], ErrorCode::Storage).await
    }

    async fn secret_get(&self, name: &str) -> PluginResult<Option<String>> {
        self.call_typed(&["secrets", "get"], &[JsValue::from_str(name)], ErrorCode::Storage).await
    }

    async fn secret_set(&self, name: &str, value: &str) -> PluginResult<()> {
        let args = [JsValue::from_str(name), JsValue::from_str(value)];
        self.call(&["secrets", "set"], &args, ErrorCode::Storage).await.map(drop)
    }

    async fn secret_delete(&self, name: &str) -> PluginResult<()> {
        self.call(&["secrets", "delete"], &[JsValue::from_str(name)], ErrorCode::Storage).await.map(drop)
    }

    async fn crm_list_changes(&self, cursor: Option<&str>, limit: u32) -> PluginResult<CrmPage> {
        let cursor = cursor.map(JsValue::from_str).unwrap_or(JsValue::NULL);
        self.call_typed(&["crm", "listChanges"], &[cursor, JsValue::from(limit)], ErrorCode::Internal).await
    }

    async fn crm_get(&self, ids: &[String]) -> PluginResult<Vec<CrmContact>> {
        self.call_typed(&["crm", "get"], &[strings(ids)], ErrorCode::Internal).await
    }

    async fn crm_create(&self, contact: &NewCrmContact) -> PluginResult<CrmContact> {
        self.call_typed(&["crm", "create"], &[to_js(contact)?], ErrorCode::Internal).await
    }

    async fn crm_update(&self, id: &str, expected_version: u64, patch: &CrmPatch) -> PluginResult<CrmContact> {
        let args = [JsValue::from_str(id), JsValue::from_f64(expected_version as f64), to_js(patch)?];
        self.call_typed(&["crm", "update"], &args, ErrorCode::Internal).await
    }

    async fn crm_delete(&self, id: &str, expected_version: u64) -> PluginResult<()> {
        let args = [JsValue::from_str(id), JsValue::from_f64(expected_version as f64)];
        self.call(&["crm", "delete"], &args, ErrorCode::Internal).await.map(drop)
    }

    async fn crm_lists(&self) -> PluginResult<Vec<CrmList>> {
        self.call_typed(&["crm", "lists"], &[], ErrorCode::Internal).await
    }

    async fn crm_create_list(&self, name: &str) -> PluginResult<CrmList> {
        self.call_typed(&["crm", "createList"], &[JsValue::from_str(name)], ErrorCode::Internal).await
    }

    async fn crm_tags(&self) -> PluginResult<Vec<String>> {
        self.call_typed(&["crm", "tags"], &[], ErrorCode::Internal).await
    }

    async fn crm_field_schema(&self) -> PluginResult<Vec<CrmFieldSchema>> {
        self.call_typed(&["crm", "fieldSchema"], &[], ErrorCode::Internal).await
    }

    async fn crm_users(&self) -> PluginResult<Vec<CrmUser>> {
        self.call_typed(&["crm", "users"], &[], ErrorCode::Internal).await
    }

    async fn crm_current_user(&self) -> PluginResult<CrmUser> {
        self.call_typed(&["crm", "currentUser"], &[], ErrorCode::Internal).await
    }

    fn locale(&self) -> String {
        self.call_sync(&["locale"], &[], ErrorCode::Internal)
            .ok()
            .and_then(|v| v.as_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "en".to_string())
    }

    async fn fetch(&self, request: &HttpRequest) -> PluginResult<HttpResponse> {
        self.call_typed(&["fetch"], &[to_js(request)?], ErrorCode::Network).await
    }

    fn dev_mode(&self) -> bool {
        // Only a real `true` counts: anything else is production.
        Reflect::get(&self.host, &JsValue::from_str("devMode")).map(|v| v.as_bool() == Some(true)).unwrap_or(false)
    }

    fn has_oauth_broker(&self) -> bool {
        Reflect::get(&self.host, &JsValue::from_str("oauth")).map(|o| o.is_object()).unwrap_or(false)
    }

    async fn oauth_authorize(&self, provider: &str, scopes: &[String]) -> PluginResult<OAuthGrant> {
        if !self.has_oauth_broker() {
            return Err(PluginError::new(ErrorCode::NotConnected, "The host does not broker OAuth."));
        }
        self.call_typed(&["oauth", "authorize"], &[JsValue::from_str(provider), strings(scopes)], ErrorCode::AuthDenied).await
    }

    async fn oauth_refresh(&self, provider: &str, refresh_token: &str) -> PluginResult<OAuthGrant> {
        if !self.has_oauth_broker() {
            return Err(PluginError::new(ErrorCode::NotConnected, "The host does not broker OAuth."));
        }
        let args = [JsValue::from_str(provider), JsValue::from_str(refresh_token)];
        self.call_typed(&["oauth", "refresh"], &args, ErrorCode::AuthExpired).await
    }

    fn notify(&self, level: NotifyLevel, message: &str) {
        let level = match level {
            NotifyLevel::Info => "info",
            NotifyLevel::Warning => "warning",
            NotifyLevel::Error => "error",
        };
        // A host that cannot show a notice must not stop a run.
        let _ = self.call_sync(&["ui", "notify"], &[JsValue::from_str(level), JsValue::from_str(message)], ErrorCode::Internal);
    }

    async fn open_auth_window(&self, url: &str, redirect_uri: &str) -> PluginResult<String> {
        let answer = self
            .call(&["ui", "openAuthWindow"], &[JsValue::from_str(url), JsValue::from_str(redirect_uri)], ErrorCode::AuthDenied)
            .await?;
        answer.as_string().ok_or_else(|| PluginError::new(ErrorCode::BadResponse, "ui.openAuthWindow must resolve the redirect URL."))
    }

    fn log(&self, level: LogLevel, message: &str, fields: &Map<String, Value>) {
        let level = match level {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        };
        let fields = to_js(fields).unwrap_or_else(|_| Object::new().into());
        // Logging never fails a run.
        let _ = self.call_sync(&["log"], &[JsValue::from_str(level), JsValue::from_str(message), fields], ErrorCode::Internal);
    }

    fn now_ms(&self) -> f64 {
        self.call_sync(&["now"], &[], ErrorCode::Internal)
            .ok()
            .and_then(|v| v.as_f64())
            .filter(|t| t.is_finite())
            .unwrap_or_else(js_sys::Date::now)
    }

    async fn sleep(&self, ms: u32) {
        let _ = self.call(&["sleep"], &[JsValue::from(ms)], ErrorCode::Internal).await;
    }

    fn random_bytes(&self, len: usize) -> PluginResult<Vec<u8>> {
        let answer = self.call_sync(&["randomBytes"], &[JsValue::from_f64(len as f64)], ErrorCode::Internal)?;
        let bytes = answer
            .dyn_into::<Uint8Array>()
            .map_err(|_| PluginError::new(ErrorCode::BadResponse, "randomBytes must return a Uint8Array."))?;
        if bytes.length() as usize != len {
            return Err(PluginError::new(ErrorCode::BadResponse, "randomBytes returned the wrong number of bytes."));
        }
        Ok(bytes.to_vec())
    }
}

