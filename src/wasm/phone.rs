//! The engine's [`PhoneService`] in the wasm plugin: libphonenumber-js (mobile metadata),
//! bundled into `www/plugin/vendor/phone.js`, which wasm-bindgen copies beside the glue
//! as a snippet and imports statically (so the calls are synchronous, as the engine's
//! normalization is). The wasm does not link the `phonenumber` crate.
//!
//! Also exported to JavaScript: `normalizePhone` and `isValidMobilePhone`, the engine's
//! own answers, so that tests (and a host's diagnostics) can compare them with
//! libphonenumber-js directly.

use crate::engine::normalize::PhoneNormalizer;
use crate::engine::phone_service::{self, PhoneService};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/www/plugin/vendor/phone.js")]
extern "C" {
    #[wasm_bindgen(js_name = phoneE164, catch)]
    fn js_phone_e164(text: &str, region: JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = phoneIsValidMobile, catch)]
    fn js_phone_is_valid_mobile(text: &str, region: JsValue) -> Result<JsValue, JsValue>;
}

fn region_value(region: Option<&str>) -> JsValue {
    region.map(JsValue::from_str).unwrap_or(JsValue::UNDEFINED)
}

fn e164(text: &str, region: Option<&str>) -> Option<String> {
    // A throw or a non-string answer reads as "cannot parse": the stable fallback.
    js_phone_e164(text, region_value(region)).ok()?.as_string()
}

fn is_valid_mobile(text: &str, region: Option<&str>) -> bool {
    js_phone_is_valid_mobile(text, region_value(region)).ok().and_then(|v| v.as_bool()).unwrap_or(false)
}

/// libphonenumber-js as the engine's phone service.
pub static SERVICE: PhoneService = PhoneService { name: "libphonenumber-js", e164, is_valid_mobile };

/// Registers [`SERVICE`] (idempotent). Called when the plugin is constructed; tests that
/// use the engine alone call it themselves.
pub fn register_phone_service() {
    phone_service::register(SERVICE);
}

/// The engine's normal form of a phone number, with `region` as the default region:
/// E.164, or `~` and the characters kept when it cannot be read.
///
/// ```js
/// normalizePhone("06 12 34 56 78", "FR"); // "+33612345678"
/// ```
#[wasm_bindgen(js_name = normalizePhone)]
pub fn normalize_phone(text: &str, region: &str) -> String {
    register_phone_service();
    PhoneNormalizer::new(region).phone(text)
}

/// The export filter's "valid mobile" test, with `region` as the default region.
#[wasm_bindgen(js_name = isValidMobilePhone)]
pub fn is_valid_mobile_phone(text: &str, region: &str) -> bool {
    register_phone_service();
    PhoneNormalizer::new(region).is_valid_mobile(text)
}
