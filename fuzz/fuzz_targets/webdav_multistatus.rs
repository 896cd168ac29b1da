//! A WebDAV multistatus from a server: parsed within its limits or refused with a code,
//! never a panic; what parses is read as the client reads it.
#![no_main]
use contact_sync::providers::carddav::xml::{self, CARDDAV, DAV};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(ms) = xml::parse_multistatus(text) {
        for r in &ms.resources {
            let _ = (r.etag(), r.prop_text(CARDDAV, "address-data"), r.prop_href(DAV, "current-user-principal"));
            let _ = r.has_type(CARDDAV, "addressbook");
        }
    }
});
