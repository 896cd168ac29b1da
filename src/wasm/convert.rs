//! Value and error conversion across the boundary.

use crate::error::{ErrorCode, PluginError, PluginResult};
use js_sys::{Array, Reflect, JSON};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};

/// A Rust value as a plain JS value.
pub fn to_js<T: Serialize>(value: &T) -> PluginResult<JsValue> {
    let text = serde_json::to_string(value).map_err(|e| PluginError::internal(format!("Could not encode a value: {e}")))?;
    JSON::parse(&text).map_err(|_| PluginError::internal("Could not decode a value in JavaScript."))
}

/// A JS value as JSON; `undefined` reads as `null`. Cycles and BigInts fail with BAD_INPUT.
pub fn to_json(value: &JsValue) -> PluginResult<Value> {
    if value.is_undefined() {
        return Ok(Value::Null);
    }
    let text = JSON::stringify(value)
        .map_err(|_| PluginError::bad_input("The value cannot be converted to JSON (a cycle or a BigInt)."))?;
    match text.as_string() {
        Some(text) => serde_json::from_str(&text).map_err(PluginError::from),
        // JSON.stringify answers undefined for functions and symbols.
        None => Err(PluginError::bad_input("The value is not data (a function or a symbol).")),
    }
}

/// A JS value as a typed Rust value (BAD_INPUT when the shape is wrong).
pub fn from_js<T: DeserializeOwned>(value: &JsValue) -> PluginResult<T> {
    let json = to_json(value)?;
    serde_json::from_value(json).map_err(PluginError::from)
}

/// The coded JS `Error` for a [`PluginError`]: `code`, `remedy`, `retryable` and, when
/// present, `retryAfterMs`, `currentVersion` and `reasons` as properties.
pub fn to_js_error(err: &PluginError) -> JsValue {
    let error = js_sys::Error::new(&err.message);
    error.set_name("ContactSyncError");
    let obj: &JsValue = error.as_ref();
    let set = |key: &str, value: JsValue| {
        // Setting a property on a fresh Error cannot fail; ignore the impossible.
        let _ = Reflect::set(obj, &JsValue::from_str(key), &value);
    };
    set("code", JsValue::from_str(err.code.as_str()));
    set("remedy", JsValue::from_str(&err.remedy));
    set("retryable", JsValue::from_bool(err.retryable));
    if let Some(ms) = err.retry_after_ms {
        set("retryAfterMs", JsValue::from_f64(ms as f64));
    }
    if let Some(v) = err.current_version {
        set("currentVersion", JsValue::from_f64(v as f64));
    }
    if !err.reasons.is_empty() {
        let reasons: Array = err.reasons.iter().map(|r| JsValue::from_str(r)).collect();
        set("reasons", reasons.into());
    }
    error.into()
}

fn string_prop(obj: &JsValue, key: &str) -> Option<String> {
    Reflect::get(obj, &JsValue::from_str(key)).ok().and_then(|v| v.as_string())
}

fn number_prop(obj: &JsValue, key: &str) -> Option<f64> {
    Reflect::get(obj, &JsValue::from_str(key)).ok().and_then(|v| v.as_f64())
}

/// Reads whatever a JS host threw (a coded Error, a plain Error, a string…) into a
/// [`PluginError`]; `fallback` is the code when the thrown value has none we know.
pub fn from_js_error(thrown: &JsValue, fallback: ErrorCode, operation: &str) -> PluginError {
    if !thrown.is_object() {
        let text = thrown.as_string().unwrap_or_else(|| "an unknown value".to_string());
        return PluginError::new(fallback, format!("{operation} failed: {text}"));
    }
    let code = string_prop(thrown, "code").and_then(|c| ErrorCode::parse(&c)).unwrap_or(fallback);
    let message = string_prop(thrown, "message").unwrap_or_else(|| format!("{operation} failed."));
    let mut err = PluginError::new(code, message);
    if let Some(remedy) = string_prop(thrown, "remedy") {
        err = err.with_remedy(remedy);
    }
    if let Ok(r) = Reflect::get(thrown, &JsValue::from_str("retryable")) {
        if let Some(b) = r.as_bool() {
            err = err.with_retryable(b);
        }
    }
    if let Some(v) = number_prop(thrown, "currentVersion").filter(|v| *v >= 0.0 && v.fract() == 0.0) {
        err = err.with_current_version(v as u64);
    }
    if let Some(ms) = number_prop(thrown, "retryAfterMs").filter(|v| *v >= 0.0) {
        err = err.with_retry_after_ms(ms as u64);
    }
    if let Ok(reasons) = Reflect::get(thrown, &JsValue::from_str("reasons")) {
        if let Some(list) = reasons.dyn_ref::<Array>() {
            err = err.with_reasons(list.iter().filter_map(|r| r.as_string()).collect());
        }
    }
    err
}
