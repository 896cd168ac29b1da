#![cfg(target_arch = "wasm32")]
//! The sync engine compiled to wasm and run in headless Chromium: normalization (phones
//! through the generated table and libphonenumber-js), a first run, quiescence, a
//! conflict rule, the guards and the state's round trip. Example tests only (proptest
//! runs natively).

use contact_sync::crm::CrmContact;
use contact_sync::engine::mapping::{default_mapping, Priority};
use contact_sync::engine::model::{Contact, Email, RemoteRecord, ValueKind};
use contact_sync::engine::normalize::{self, PhoneNormalizer};
use contact_sync::engine::plan::{WriteOp, WriteResult};
use contact_sync::engine::session::{Listing, SyncSession};
use contact_sync::engine::state::SpokeState;
use contact_sync::engine::SyncConfig;
use serde_json::{json, Map};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn crm(id: &str, version: u64, first: &str, email: &str) -> CrmContact {
    let mut f = Map::new();
    f.insert("firstName".into(), json!(first));
    f.insert("emails".into(), json!([{ "value": email, "type": "work" }]));
    f.insert("phones".into(), json!([{ "value": "06 12 34 56 78", "type": "mobile" }]));
    CrmContact { id: id.into(), version, updated_at: "2025-01-01T00:00:00Z".into(), deleted: false, fields: f, lists: vec![], tags: vec![] }
}

fn remote(id: &str, etag: &str, first: &str, email: &str) -> RemoteRecord {
    let mut c = Contact::default();
    c.name.given = first.into();
    c.emails = vec![Email { value: email.into(), kind: ValueKind::Work, primary: false }];
    c.phones = vec![contact_sync::engine::Phone { value: "+33 6 12 34 56 78".into(), kind: ValueKind::Mobile, primary: false }];
    RemoteRecord { id: id.into(), etag: etag.into(), updated_at: "2025-01-02T00:00:00Z".into(), contact: c, ..RemoteRecord::default() }
}

fn session(cfg: SyncConfig, state: SpokeState, c: Vec<CrmContact>, r: Vec<RemoteRecord>) -> SyncSession {
    let mut s = SyncSession::new(cfg, state).unwrap();
    s.handle_crm_page(c, Listing::Full);
    s.handle_crm_listing_done("1", Listing::Full);
    s.handle_remote_page(r, Listing::Full);
    s.handle_remote_listing_done("1", Listing::Full);
    s
}

#[wasm_bindgen_test]
fn phones_normalize_to_e164_in_wasm() {
    // The wasm links no Rust libphonenumber: the fast path reads plain numbers from the
    // generated table, libphonenumber-js (the shim's snippet) the rest.
    contact_sync::wasm::register_phone_service();
    let fr = PhoneNormalizer::new("FR");
    assert_eq!(fr.phone("06 12 34 56 78"), "+33612345678");
    assert!(fr.fast_e164("06 12 34 56 78").is_some());
    for s in ["+33 (0)6 12 34 56 78", "0033 6 12 34 56 78", "06 12 34 56 78 ext. 12"] {
        assert_eq!(fr.fast_e164(s), None, "{s} is left to libphonenumber-js");
        assert_eq!(fr.phone_by_libphonenumber(s).as_deref(), Some("+33612345678"), "{s}");
        assert_eq!(fr.phone(s), "+33612345678", "{s}");
    }
    assert_eq!(PhoneNormalizer::new("US").phone("(202) 555-0143"), "+12025550143");
    assert_eq!(PhoneNormalizer::new("BE").phone("02 555 12 12"), "+3225551212");
    assert_eq!(normalize::email(" A@B.FR "), "a@b.fr");
}

#[wasm_bindgen_test]
fn valid_mobile_is_answered_by_libphonenumber_js() {
    contact_sync::wasm::register_phone_service();
    let fr = PhoneNormalizer::new("FR");
    assert!(fr.is_valid_mobile("07 81 23 45 67"));
    assert!(fr.is_valid_mobile("+33 6 12 34 56 78"));
    assert!(!fr.is_valid_mobile("01 42 68 53 00"));
    assert!(!fr.is_valid_mobile("06 12"));
    assert!(!fr.is_valid_mobile("ask the front desk"));
    assert!(PhoneNormalizer::new("US").is_valid_mobile("(202) 555-0143"), "fixed line or mobile counts");
    assert!(PhoneNormalizer::new("GB").is_valid_mobile("07400 123456"));
    assert!(!PhoneNormalizer::new("GB").is_valid_mobile("020 7946 0018"));
}

#[wasm_bindgen_test]
fn without_the_service_unusual_phones_keep_a_stable_form() {
    let bare = PhoneNormalizer::with_service("FR", None);
    assert_eq!(bare.phone("06 12 34 56 78"), "+33612345678");
    let once = bare.phone("0033 6 12 34 56 78");
    assert_eq!(once, "~0033612345678");
    assert_eq!(bare.phone(&once), once);
    assert!(!bare.is_valid_mobile("06 12 34 56 78"));
}

#[wasm_bindgen_test]
fn first_run_links_by_email_and_second_run_is_quiet() {
    let cfg = SyncConfig::default();
    let mut s = session(cfg.clone(), SpokeState::new(), vec![crm("c1", 1, "Ada", "ada@x.fr")], vec![remote("people/1", "e1", "Ada", "ADA@x.fr")]);
    let plan = s.plan().unwrap();
    assert_eq!(plan.summary.counts.linked_by_email, 1);
    // Only the CRM id is stamped on the remote copy; formatting differences write nothing.
    assert_eq!(plan.writes.len(), 1);
    let WriteOp::RemoteUpdate { record, fields, .. } = &plan.writes[0].op else { panic!("stamp expected") };
    assert!(fields.is_empty());
    assert_eq!(record.crm_id.as_deref(), Some("c1"));
    let confirmed = RemoteRecord { etag: "e2".into(), ..record.clone() };
    s.handle_write_result(plan.writes[0].id, WriteResult::Remote(confirmed.clone()));
    assert!(s.plan().unwrap().is_empty());
    let state = s.checkpoint().to_json();
    let mut again = session(cfg, SpokeState::from_json(&state).unwrap(), vec![crm("c1", 1, "Ada", "ada@x.fr")], vec![confirmed]);
    assert!(again.plan().unwrap().is_empty());
    assert_eq!(again.checkpoint().to_json(), state);
}

#[wasm_bindgen_test]
fn conflict_goes_to_the_configured_side() {
    let mut cfg = SyncConfig::default();
    let mut rows = default_mapping();
    for r in &mut rows {
        r.priority = Priority::Crm;
    }
    cfg.fields = rows;
    let mut s = session(cfg, SpokeState::new(), vec![crm("c1", 1, "Ada", "ada@x.fr")], vec![remote("people/1", "e1", "Adèle", "ada@x.fr")]);
    let plan = s.plan().unwrap();
    assert_eq!(plan.summary.counts.conflicts, 1);
    assert_eq!(plan.summary.conflicts[0].remote_value, json!("Adèle"));
    let WriteOp::RemoteUpdate { record, .. } = &plan.writes[0].op else { panic!() };
    assert_eq!(record.contact.name.given, "Ada");
}

#[wasm_bindgen_test]
fn an_empty_remote_listing_trips_the_guard() {
    let mut s = session(SyncConfig::default(), SpokeState::new(), vec![crm("c1", 1, "Ada", "ada@x.fr")], vec![remote("people/1", "e1", "Ada", "ada@x.fr")]);
    let plan = s.plan().unwrap();
    for w in &plan.writes {
        let WriteOp::RemoteUpdate { record, .. } = &w.op else { panic!() };
        s.handle_write_result(w.id, WriteResult::Remote(record.clone()));
    }
    let state = s.checkpoint();
    let mut next = session(SyncConfig::default(), state, vec![crm("c1", 1, "Ada", "ada@x.fr")], vec![]);
    assert_eq!(next.plan().unwrap_err().code, "GUARD_TRIPPED");
}

#[wasm_bindgen_test]
fn version_one_state_migrates() {
    let s = SpokeState::from_json(r#"{"v":1,"links":{"c1":"people/1"},"crmCursor":"9"}"#).unwrap();
    assert_eq!(s.remote_of("c1"), Some("people/1"));
    assert_eq!(s.crm_cursor.as_deref(), Some("9"));
    assert!(SpokeState::from_json("{not json").is_err());
}
