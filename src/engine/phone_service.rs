//! The full phone-number parser the engine asks about numbers its own fast path declines
//! (unusual writing, "valid mobile"), as a capability registered from outside.
//!
//! The engine stays pure: it holds two plain functions, not a binding to any runtime.
//! Natively the built-in service is the `phonenumber` crate (a Rust port of Google's
//! libphonenumber, [`super::phonenumber_service`]). The wasm plugin does not link that
//! crate (its regex engine and metadata weigh ~400 KB gzipped); its boundary registers a
//! service that calls libphonenumber-js (the maintained JavaScript port, mobile metadata)
//! once, when the plugin is constructed. With no service at all, numbers the fast path
//! cannot read keep the stable `~digits` form.

use std::sync::OnceLock;

/// A libphonenumber implementation, as two functions.
#[derive(Clone, Copy)]
pub struct PhoneService {
    /// Names the implementation (diagnostics and tests).
    pub name: &'static str,
    /// The E.164 form of `text` (already trimmed NFC), read with `region` (an ISO 3166
    /// alpha-2 code) as the default region, `None` for a number written with `+`.
    /// `None` when the number cannot be parsed.
    pub e164: fn(text: &str, region: Option<&str>) -> Option<String>,
    /// True when `text` is a valid mobile number (or "fixed line or mobile" where a region
    /// cannot tell them apart, as in the USA).
    pub is_valid_mobile: fn(text: &str, region: Option<&str>) -> bool,
}

impl std::fmt::Debug for PhoneService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneService").field("name", &self.name).finish()
    }
}

static REGISTERED: OnceLock<PhoneService> = OnceLock::new();

/// Registers the process-wide service. The first registration wins (a plugin constructed
/// twice registers the same one); returns false when one was already there.
pub fn register(service: PhoneService) -> bool {
    REGISTERED.set(service).is_ok()
}

/// The registered service, else the built-in one (natively `phonenumber`; none in wasm).
pub fn current() -> Option<&'static PhoneService> {
    REGISTERED.get().or_else(builtin)
}

#[cfg(not(target_arch = "wasm32"))]
fn builtin() -> Option<&'static PhoneService> {
    Some(&super::phonenumber_service::SERVICE)
}

#[cfg(target_arch = "wasm32")]
fn builtin() -> Option<&'static PhoneService> {
    None
}
