//! The native [`PhoneService`]: the `phonenumber` crate, a Rust port of Google's
//! libphonenumber. Not compiled into the wasm plugin (see [`super::phone_service`]); native
//! tests and benchmarks use it as the reference the fast path and its table are checked
//! against.

use super::phone_service::PhoneService;
use phonenumber::country::Id as CountryId;
use phonenumber::{Mode, Type};
use std::str::FromStr;

/// The service natively built in.
pub static SERVICE: PhoneService = PhoneService { name: "phonenumber", e164, is_valid_mobile };

fn e164(text: &str, region: Option<&str>) -> Option<String> {
    parse(text, region).map(|n| n.format().mode(Mode::E164).to_string())
}

fn is_valid_mobile(text: &str, region: Option<&str>) -> bool {
    match parse(text, region) {
        Some(n) => n.is_valid() && matches!(n.number_type(&phonenumber::metadata::DATABASE), Type::Mobile | Type::FixedLineOrMobile),
        None => false,
    }
}

fn parse(text: &str, region: Option<&str>) -> Option<phonenumber::PhoneNumber> {
    let region = match region {
        Some(r) => Some(CountryId::from_str(r).ok()?),
        None => None,
    };
    let n = phonenumber::parse(region, text).ok()?;
    // E.164 output must parse back to itself, or the form would not be stable: the crate
    // is not idempotent on some invalid numbers (it strips a national prefix again from
    // its own output).
    let e164 = n.format().mode(Mode::E164).to_string();
    if e164.len() < 3 {
        return None;
    }
    let again = phonenumber::parse(None, &e164).ok()?;
    if again.format().mode(Mode::E164).to_string() != e164 {
        return None;
    }
    Some(n)
}
