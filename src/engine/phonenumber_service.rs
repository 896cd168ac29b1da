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
    // Whether the answer is a stable normal form (the crate strips a national prefix again
    // from its own output for some invalid numbers) is the normalizer's check, for every
    // service: `PhoneNormalizer::by_service`.
    phonenumber::parse(region, text).ok()
}
