#![cfg(target_arch = "wasm32")]
//! The Google connector's pure protocol compiled to wasm and run in Chromium: request
//! builders, response parsers, error classification, OAuth PKCE/state, and the Person ↔
//! canonical mapping behave in the browser exactly as natively.

use contact_sync::engine::model::{Contact, Email, Name};
use contact_sync::providers::form;
use contact_sync::providers::google::oauth::{self, PendingAuthorization};
use contact_sync::providers::google::person::{self, GroupDirectory, CRM_ID_KEY};
use contact_sync::providers::google::protocol::{self as p, Failure, ListMode, RequestKind};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn listing_pages_repeat_their_parameters_in_the_browser() {
    let first = p::list_connections(&ListMode::Full, None);
    let next = p::list_connections(&ListMode::Full, Some("page-2"));
    let q = |r: &p::ApiRequest| {
        let mut pairs = form::decode_pairs(r.path_and_query.split_once('?').map(|(_, q)| q).unwrap_or(""));
        pairs.retain(|(k, _)| k != "pageToken");
        pairs
    };
    assert_eq!(q(&first), q(&next));
    assert!(first.path_and_query.contains("requestSyncToken=true"));
    assert!(first.path_and_query.contains("pageSize=1000"));
}

#[wasm_bindgen_test]
fn quiet_deltas_tombstones_and_truncated_bodies_parse_safely() {
    assert!(p::parse_connections(r#"{"nextSyncToken":"t"}"#).unwrap().people.is_empty());
    let page = p::parse_connections(r#"{"connections":[{"resourceName":"people/c1","metadata":{"deleted":true}}],"nextSyncToken":"t"}"#).unwrap();
    assert!(page.people[0].is_deleted());
    let err = p::parse_connections(r#"{"connections":[{"resour"#).unwrap_err();
    assert_eq!(err.code, "BAD_RESPONSE");
}

#[wasm_bindgen_test]
fn google_errors_are_classified_in_the_browser() {
    let expired = r#"{"error":{"code":400,"status":"FAILED_PRECONDITION","details":[{"reason":"EXPIRED_SYNC_TOKEN"}]}}"#;
    assert_eq!(p::classify_failure(RequestKind::ListIncremental, 400, None, expired).0, Failure::SyncTokenUnusable);
    let (f, e) = p::classify_failure(RequestKind::Create, 429, Some("3"), r#"{"error":{"status":"RESOURCE_EXHAUSTED"}}"#);
    assert_eq!(f, Failure::RateLimited(Some(3000)));
    assert_eq!(e.code, "RATE_LIMITED");
    assert_eq!(p::classify_failure(RequestKind::Update, 400, None, r#"{"error":{"status":"FAILED_PRECONDITION"}}"#).0, Failure::StaleEtag);
    assert_eq!(p::classify_failure(RequestKind::Delete, 404, None, "").0, Failure::NotFound);
}

#[wasm_bindgen_test]
fn pkce_and_state_work_in_the_browser() {
    let pending = PendingAuthorization::new(&[3; 32], &[4; 16], "https://crm.example.com/cb").unwrap();
    let url = pending.authorization_url(oauth::AUTH_ENDPOINT, "client");
    assert!(url.contains("code_challenge_method=S256") && url.contains("access_type=offline"));
    let rfc = PendingAuthorization {
        state: String::new(),
        code_verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into(),
        redirect_uri: String::new(),
    };
    assert_eq!(rfc.code_challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    assert_eq!(pending.parse_callback("https://crm.example.com/cb?code=c&state=forged").unwrap_err().code, "AUTH_DENIED");
    let good = format!("https://crm.example.com/cb?code=c1&state={}", pending.state);
    assert_eq!(pending.parse_callback(&good).unwrap(), "c1");
    let dead = oauth::parse_token_response(400, r#"{"error":"invalid_grant"}"#).unwrap_err();
    assert_eq!((dead.code, dead.retryable), ("AUTH_EXPIRED", false));
}

#[wasm_bindgen_test]
fn person_mapping_round_trips_and_carries_the_crm_id() {
    let contact = Contact {
        name: Name { given: "Ada".into(), family: "Lovelace".into(), ..Default::default() },
        emails: vec![Email { value: "ada@example.org".into(), primary: true, ..Default::default() }],
        note: "Analyst".into(),
        birthday: "--12-10".into(),
        ..Default::default()
    };
    let person = person::to_person(&contact, Some("crm-1"), None, &GroupDirectory::default());
    assert_eq!(person.client_value(CRM_ID_KEY), Some("crm-1"));
    assert_eq!(person.names.len(), 1);
    let back = person::to_record(&person, &GroupDirectory::default());
    assert_eq!(back.contact.name, contact.name);
    assert_eq!(back.contact.birthday, "--12-10");
    assert_eq!(back.contact.note, "Analyst");
    assert_eq!(back.crm_id.as_deref(), Some("crm-1"));
}
