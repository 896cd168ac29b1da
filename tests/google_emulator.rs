#![cfg(not(target_arch = "wasm32"))]
//! The Google spoke against the strict emulator (started in-process on a free loopback
//! port): every request it builds must pass the emulator's discovery-document checks.

mod google_support;

use contact_sync::host::Host;
use contact_sync::providers::google::client::GoogleSpoke;
use contact_sync::providers::google::pacing::Quota;
use contact_sync::providers::{ItemResult, ListError, NewRemote, PageNext, Provider};
use devserver::google::{EmulatorConfig, QuotaConfig};
use google_support::{person, Emu, RealHost, REDIRECT};
use pollster::block_on;
use serde_json::{json, Value};

fn config() -> EmulatorConfig {
    let mut c = EmulatorConfig::empty();
    c.quota = QuotaConfig { enabled: false, ..QuotaConfig::default() };
    c
}

/// Lists everything from `cursor`; returns (records, pages, new cursor).
fn list_all(spoke: &mut GoogleSpoke<'_, RealHost>, cursor: Option<&str>) -> Result<(Vec<contact_sync::engine::model::RemoteRecord>, usize, String), ListError> {
    let mut records = Vec::new();
    let mut page: Option<String> = None;
    let mut pages = 0;
    loop {
        let got = block_on(spoke.list_page(cursor, page.as_deref()))?;
        pages += 1;
        records.extend(got.records);
        match got.next {
            PageNext::More(token) => page = Some(token),
            PageNext::Done(sync) => return Ok((records, pages, sync)),
        }
    }
}

fn connected(emu: &Emu) -> (RealHost, contact_sync::providers::google::auth::GoogleAuth) {
    let host = RealHost::new(emu, true);
    let auth = emu.auth("g1");
    block_on(host.secret_set(&auth.secrets.client_secret, google_support::CLIENT_SECRET)).unwrap();
    block_on(auth.connect(&host, REDIRECT)).expect("connects through the consent page");
    (host, auth)
}

#[test]
fn connects_through_the_consent_page_and_lists_all_pages_then_only_changes() {
    let emu = Emu::start(config());
    emu.seed((0..2_300).map(|i| person(&format!("P{i}"), "Seed", &format!("p{i}@example.org"), None)).collect());
    let (host, auth) = connected(&emu);
    assert!(host.inner.storage_snapshot().is_empty(), "connecting stores nothing in storage");
    let mut spoke = GoogleSpoke::new(&host, auth, Quota::default());
    let (records, pages, cursor) = list_all(&mut spoke, None).expect("full listing");
    assert_eq!((records.len(), pages), (2_300, 3));

    // Every page of the listing carried the same parameters.
    let log: Vec<Value> = emu.log().into_iter().filter(|l| l["path"] == "/v1/people/me/connections").collect();
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|l| l["status"] == 200), "{log:?}");

    // A quiet delta, then one edit made by the user in Google.
    let (quiet, _, cursor) = list_all(&mut spoke, Some(&cursor)).unwrap();
    assert!(quiet.is_empty());
    let target = records.iter().find(|r| r.contact.name.given == "P7").unwrap();
    let id = target.id.trim_start_matches("people/");
    emu.admin("PATCH", &format!("/accounts/{}/contacts/{id}", google_support::ACCOUNT), json!({"names": [{"givenName": "Seven"}]}));
    let (delta, _, _) = list_all(&mut spoke, Some(&cursor)).unwrap();
    assert_eq!(delta.len(), 1);
    assert_eq!(delta[0].contact.name.given, "Seven");
}

#[test]
fn a_denied_consent_is_auth_denied() {
    let emu = Emu::start(config());
    let host = RealHost::new(&emu, false);
    let auth = emu.auth("g1");
    let err = block_on(auth.connect(&host, REDIRECT)).unwrap_err();
    assert_eq!(err.code, contact_sync::error::ErrorCode::AuthDenied);
    assert!(!block_on(auth.is_connected(&host)).unwrap());
}

#[test]
fn an_expired_sync_token_is_a_dead_cursor_and_the_full_relisting_finds_everyone_once() {
    let emu = Emu::start(config());
    emu.seed((0..50).map(|i| person(&format!("P{i}"), "Seed", &format!("p{i}@example.org"), None)).collect());
    let (host, auth) = connected(&emu);
    let mut spoke = GoogleSpoke::new(&host, auth, Quota::default());
    let (_, _, cursor) = list_all(&mut spoke, None).unwrap();
    emu.admin("POST", &format!("/accounts/{}/expire-sync-tokens", google_support::ACCOUNT), json!({}));
    assert_eq!(list_all(&mut spoke, Some(&cursor)).unwrap_err(), ListError::CursorDead);
    let (again, _, _) = list_all(&mut spoke, None).unwrap();
    let mut ids: Vec<&str> = again.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 50);
}

#[test]
fn writes_pass_the_emulators_checks_and_stale_etags_and_missing_contacts_are_recognised() {
    let emu = Emu::start(config());
    let (host, auth) = connected(&emu);
    let mut spoke = GoogleSpoke::new(&host, auth, Quota::default());
    let mut contact = contact_sync::engine::model::Contact::default();
    contact.name.given = "Grace".into();
    contact.name.family = "Hopper".into();
    contact.note = "Admiral".into();
    contact.birthday = "1906-12-09".into();
    contact.emails.push(contact_sync::engine::model::Email { value: "grace@navy.mil".into(), ..Default::default() });
    let items: Vec<NewRemote> =
        (0..3).map(|i| NewRemote { crm_id: format!("crm-{i}"), contact: contact.clone() }).collect();
    let created: Vec<_> = block_on(spoke.create(&items))
        .unwrap()
        .into_iter()
        .map(|r| match r {
            ItemResult::Done(rec) => rec,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(created.len(), 3);
    assert_eq!(created[1].crm_id.as_deref(), Some("crm-1"));
    assert_eq!(emu.contacts().len(), 3);

    let mut edited = created[0].clone();
    edited.contact.organization.name = "US Navy".into();
    let updated = block_on(spoke.update(std::slice::from_ref(&edited))).unwrap();
    let ItemResult::Done(after) = &updated[0] else { panic!("{updated:?}") };
    assert_eq!(after.contact.organization.name, "US Navy");
    assert_ne!(after.etag, created[0].etag);

    // Computed against the old etag: a conflict, not an overwrite.
    assert_eq!(block_on(spoke.update(std::slice::from_ref(&edited))).unwrap(), vec![ItemResult::Conflict]);
    // A refusal although nothing changed (the etag Google holds is ours): refetched,
    // found current, sent again.
    emu.admin("POST", &format!("/accounts/{}/stale-next-update", google_support::ACCOUNT), json!({}));
    let mut fresh = after.clone();
    fresh.contact.note = "Rear admiral".into();
    let ItemResult::Done(after) = block_on(spoke.update(&[fresh])).unwrap().remove(0) else { panic!() };
    assert_eq!(after.contact.note, "Rear admiral");
    // The user edits the contact in Google meanwhile: Google refuses our etag, the
    // refetch shows a newer copy, the item is a conflict (merged again by the runner).
    let id = after.id.trim_start_matches("people/").to_string();
    emu.admin("PATCH", &format!("/accounts/{}/contacts/{id}", google_support::ACCOUNT), json!({"biographies": [{"value": "Edited in Google"}]}));
    let mut ours = after.clone();
    ours.contact.organization.title = "Admiral".into();
    assert_eq!(block_on(spoke.update(&[ours])).unwrap(), vec![ItemResult::Conflict]);
    assert!(emu.contacts().iter().any(|c| c["biographies"][0]["value"] == "Edited in Google"), "not overwritten");

    let ids = vec![created[1].id.clone(), created[2].id.clone()];
    assert_eq!(block_on(spoke.delete(&ids)).unwrap(), vec![ItemResult::Gone, ItemResult::Gone]);
    // Deleting again: already gone, no error.
    assert_eq!(block_on(spoke.delete(&ids[..1])).unwrap(), vec![ItemResult::Gone]);
    assert_eq!(emu.contacts().len(), 1);
    let rejected: Vec<Value> = emu.log().into_iter().filter(|l| l["status"] == 400 && l["fault"].is_null()).collect();
    assert!(rejected.iter().all(|l| l["path"].as_str().unwrap_or("").contains("batchUpdateContacts")), "{rejected:?}");
}

#[test]
fn an_injected_429_is_waited_out_with_retry_after() {
    let emu = Emu::start(config());
    let (host, auth) = connected(&emu);
    emu.admin("POST", "/faults", json!({"pathPrefix": "/v1/people/me/connections", "count": 1, "kind": "status", "status": 429}));
    let mut spoke = GoogleSpoke::new(&host, auth, Quota::default());
    let started = host.now_ms();
    list_all(&mut spoke, None).unwrap();
    assert!(host.now_ms() - started >= 1_000.0, "Retry-After: 1 honoured");
    assert_eq!(spoke.stats().rate_limited, 1);
}

#[test]
fn a_revoked_grant_is_auth_expired_without_a_retry_loop() {
    let emu = Emu::start(config());
    let (host, auth) = connected(&emu);
    emu.admin("POST", "/revoke-refresh-tokens", json!({"email": google_support::ACCOUNT}));
    emu.clear_log();
    let err = block_on(auth.access_token(&host, true)).unwrap_err();
    assert_eq!(err.code, contact_sync::error::ErrorCode::AuthExpired);
    assert!(err.remedy.contains("Reconnect the Google account"));
    let again = block_on(auth.access_token(&host, true)).unwrap_err();
    assert_eq!(again.code, contact_sync::error::ErrorCode::NotConnected);
    let token_calls = emu.log().into_iter().filter(|l| l["path"] == "/token").count();
    assert_eq!(token_calls, 1);
}
