#![cfg(not(target_arch = "wasm32"))]
//! Whole runs of the Google spoke: the runner drives the engine through MemoryHost's CRM
//! and the strict emulator. Full sync then incremental, echo suppression, the issue's
//! acceptance scenario (2,000 + 2,000 contacts, 600 overlapping), faults on a fifth of the
//! requests, an expired sync token, the lease, and no token anywhere it must not be.

mod google_support;

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};

use contact_sync::connectors;
use contact_sync::crm::NewCrmContact;
use contact_sync::engine::normalize;
use contact_sync::host::Host;
use contact_sync::providers::google::client::GoogleSpoke;
use contact_sync::providers::google::pacing::Quota;
use contact_sync::runner::{self, RunOptions, RunReport, SpokeRun};
use contact_sync::settings::{Settings, SpokeSettings};
use devserver::google::{EmulatorConfig, QuotaConfig};
use google_support::{Emu, RealHost, ACCOUNT, CLIENT_SECRET, REDIRECT};
use pollster::block_on;
use serde_json::{json, Map, Value};

fn settings() -> (Settings, SpokeSettings) {
    let mut v = serde_json::to_value(Settings::default()).unwrap();
    v["spokes"] = json!([{"id": "g1", "kind": "google", "name": "Work", "allowCreate": true, "clientId": google_support::CLIENT_ID}]);
    v["deletion.policy"] = json!("propagate");
    v["guard.maxDeleteShare"] = json!(0.5);
    let s = Settings::from_value(&v).expect("valid settings");
    let spoke = s.spokes[0].clone();
    (s, spoke)
}

fn emulator() -> Emu {
    let mut c = EmulatorConfig::empty();
    c.quota = QuotaConfig { enabled: false, ..QuotaConfig::default() };
    Emu::start(c)
}

fn connected(emu: &Emu) -> RealHost {
    let host = RealHost::new(emu, true);
    let auth = emu.auth("g1");
    block_on(host.secret_set(&auth.secrets.client_secret, CLIENT_SECRET)).unwrap();
    block_on(auth.connect(&host, REDIRECT)).expect("connect");
    host
}

fn run(emu: &Emu, host: &RealHost) -> RunReport {
    let (settings, spoke) = settings();
    let mut provider = GoogleSpoke::new(host, emu.auth("g1"), Quota::unlimited());
    let schema = block_on(host.crm_field_schema()).unwrap();
    let config = runner::sync_config(&settings, &spoke, schema, &provider).unwrap();
    let cancel = Cell::new(false);
    let mut run = SpokeRun::new(host, &mut provider, "g1", &cancel).unwrap();
    let (report, journal) = block_on(run.run(config, &RunOptions::default())).expect("run");
    block_on(runner::record_run(host, &report, &journal)).unwrap();
    report
}

fn crm_person(given: &str, family: &str, email: &str, phone: Option<&str>) -> NewCrmContact {
    let mut fields = Map::new();
    fields.insert("firstName".into(), json!(given));
    fields.insert("lastName".into(), json!(family));
    fields.insert("emails".into(), json!([{"value": email, "type": "work", "primary": true}]));
    if let Some(p) = phone {
        fields.insert("phones".into(), json!([{"value": p, "type": "mobile"}]));
    }
    NewCrmContact { fields, ..NewCrmContact::default() }
}

/// Every person on a side, keyed by normalized e-mail.
fn google_people(emu: &Emu) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for c in emu.contacts() {
        let email = c["emailAddresses"][0]["value"].as_str().map(normalize::email).unwrap_or_default();
        assert!(out.insert(email.clone(), c).is_none(), "duplicate in Google: {email}");
    }
    out
}

fn crm_people(host: &RealHost) -> BTreeMap<String, contact_sync::crm::CrmContact> {
    let mut out = BTreeMap::new();
    for c in host.inner.live_contacts() {
        let email = c.fields.get("emails").and_then(|e| e[0]["value"].as_str()).map(normalize::email).unwrap_or_default();
        assert!(out.insert(email.clone(), c).is_none(), "duplicate in the CRM: {email}");
    }
    out
}

fn total_writes(r: &RunReport) -> u32 {
    let c = &r.counts;
    c.crm.created + c.crm.updated + c.crm.deleted + c.remote.created + c.remote.updated + c.remote.deleted
}

#[test]
fn full_sync_then_incremental_without_echo_writes() {
    let emu = emulator();
    emu.seed((0..30).map(|i| google_support::person(&format!("G{i}"), "Google", &format!("g{i}@example.org"), None)).collect());
    let host = connected(&emu);
    for i in 0..20 {
        block_on(host.crm_create(&crm_person(&format!("C{i}"), "Crm", &format!("c{i}@example.org"), None))).unwrap();
    }
    let first = run(&emu, &host);
    assert_eq!(first.outcome, "ok", "{first:?}");
    assert_eq!((first.counts.remote.created, first.counts.crm.created), (20, 30));
    assert_eq!(google_people(&emu).len(), 50);
    assert_eq!(crm_people(&host).len(), 50);

    // Our own writes come back in the next delta: no write back.
    let second = run(&emu, &host);
    assert_eq!(total_writes(&second), 0, "{second:?}");
    emu.clear_log();
    let third = run(&emu, &host);
    assert_eq!(total_writes(&third), 0);
    let api = emu.log().into_iter().filter(|l| l["path"].as_str().unwrap_or("").starts_with("/v1/")).count();
    assert_eq!(api, 1, "a run with nothing changed costs one request");

    // An edit in Google reaches the CRM; an edit in the CRM reaches Google.
    let g = google_people(&emu);
    let id = g["g3@example.org"]["resourceName"].as_str().unwrap().trim_start_matches("people/").to_string();
    emu.admin("PATCH", &format!("/accounts/{ACCOUNT}/contacts/{id}"), json!({"names": [{"givenName": "Gina", "familyName": "Google"}]}));
    let c = crm_people(&host)["c4@example.org"].clone();
    let patch = contact_sync::crm::CrmPatch { fields: Some(Map::from_iter([("lastName".to_string(), json!("Changed"))])), ..Default::default() };
    block_on(host.crm_update(&c.id, c.version, &patch)).unwrap();
    let fourth = run(&emu, &host);
    assert_eq!((fourth.counts.crm.updated, fourth.counts.remote.updated), (1, 1), "{fourth:?}");
    assert_eq!(crm_people(&host)["g3@example.org"].fields["firstName"], json!("Gina"));
    assert_eq!(google_people(&emu)["c4@example.org"]["names"][0]["familyName"], json!("Changed"));
    assert_eq!(block_on(runner::history(&host, "g1", 100)).unwrap().len(), 4);
}

#[test]
fn a_concurrent_run_answers_already_running() {
    let emu = emulator();
    let host = connected(&emu);
    let lease = json!({"runId": "run-other", "expiresAt": (host.now_ms() as u64) + 60_000});
    block_on(host.storage_write(&Map::from_iter([("spoke.g1.lease".to_string(), lease)]), &[])).unwrap();
    let report = run(&emu, &host);
    assert_eq!(report.outcome, "alreadyRunning");
    assert_eq!(report.errors[0].code, contact_sync::error::ErrorCode::AlreadyRunning);
}

/// The acceptance scenario of issue 4.
#[test]
fn two_thousand_each_side_six_hundred_overlapping_converge_to_three_thousand_four_hundred() {
    let emu = emulator();
    let host = connected(&emu);
    // Google: 2,000 people, g0..g1999. CRM: 2,000 people; the first 300 share an e-mail
    // with g0..g299, the next 300 a phone with g300..g599 (with a different e-mail), and
    // differ in other fields.
    let phone = |i: usize| format!("+33 6 12 {:02} {:02} {:02}", (i / 10_000) % 100, (i / 100) % 100, i % 100);
    let mut google = Vec::new();
    for i in 0..2_000 {
        let mut p = google_support::person(&format!("G{i}"), "Gfamily", &format!("p{i}@example.org"), Some(&phone(i)));
        p["organizations"] = json!([{"name": format!("Org{i}")}]);
        google.push(p);
    }
    emu.seed(google);
    for i in 0..2_000 {
        let c = if i < 300 {
            let mut c = crm_person(&format!("G{i}"), "Gfamily", &format!("P{i}@Example.org"), None);
            c.fields.insert("jobTitle".into(), json!(format!("Title{i}")));
            c
        } else if i < 600 {
            let mut c = crm_person(&format!("G{i}"), "Gfamily", &format!("other{i}@crm.example.org"), Some(&phone(i).replace("+33 6", "06")));
            c.fields.insert("notes".into(), json!(format!("Note{i}")));
            c
        } else {
            crm_person(&format!("C{i}"), "Cfamily", &format!("c{i}@crm.example.org"), None)
        };
        block_on(host.crm_create(&c)).unwrap();
    }
    let first = run(&emu, &host);
    assert!(matches!(first.outcome.as_str(), "ok" | "partial"), "{first:?}");
    let mut rounds = 0;
    while rounds < 3 && total_writes(&run(&emu, &host)) > 0 {
        rounds += 1;
    }
    let g = emu.contacts();
    let crm = host.inner.live_contacts();
    assert_eq!(g.len(), 3_400, "Google holds 3,400 people");
    assert_eq!(crm.len(), 3_400, "the CRM holds 3,400 people");
    // Overlaps merged field by field: the e-mail overlap got the CRM's title in Google and
    // Google's organization in the CRM; the phone overlap has both e-mails on both sides.
    let gp = google_people_all(&emu);
    let p5 = gp.iter().find(|c| emails_of(c).contains("p5@example.org")).expect("p5");
    assert_eq!(p5["organizations"][0]["title"], json!("Title5"));
    assert_eq!(p5["organizations"][0]["name"], json!("Org5"));
    let p305 = gp.iter().find(|c| emails_of(c).contains("p305@example.org")).expect("p305");
    assert!(emails_of(p305).contains("other305@crm.example.org"), "{p305}");
    assert_eq!(p305["biographies"][0]["value"], json!("Note305"));
    let crm305 = crm.iter().find(|c| c.fields.get("notes") == Some(&json!("Note305"))).unwrap();
    assert_eq!(crm305.fields.get("company"), Some(&json!("Org305")));

    // Random edits on both sides, faults on a fifth of the API requests.
    let before = crm.len();
    for (n, c) in crm.iter().enumerate().filter(|(n, _)| n % 37 == 0) {
        let patch = contact_sync::crm::CrmPatch { fields: Some(Map::from_iter([("department".to_string(), json!(format!("Dept{n}")))])), ..Default::default() };
        block_on(host.crm_update(&c.id, c.version, &patch)).unwrap();
    }
    let google_edits: Vec<(String, String)> = g
        .iter()
        .enumerate()
        .filter(|(n, _)| n % 41 == 0)
        .map(|(n, c)| (c["resourceName"].as_str().unwrap().trim_start_matches("people/").to_string(), format!("Edited{n}")))
        .collect();
    for (id, note) in &google_edits {
        emu.admin("PATCH", &format!("/accounts/{ACCOUNT}/contacts/{id}"), json!({"biographies": [{"value": note}]}));
    }
    emu.admin("POST", "/faults", json!([
        {"pathPrefix": "/v1/", "fraction": 0.07, "kind": "status", "status": 503},
        {"pathPrefix": "/v1/", "fraction": 0.07, "kind": "status", "status": 429},
        {"pathPrefix": "/v1/", "fraction": 0.06, "kind": "truncated"}
    ]));
    for _ in 0..8 {
        let r = run(&emu, &host);
        if r.outcome == "ok" && total_writes(&r) == 0 {
            break;
        }
    }
    emu.admin("DELETE", "/faults", json!({}));
    for _ in 0..3 {
        if total_writes(&run(&emu, &host)) == 0 {
            break;
        }
    }
    let gp = google_people_all(&emu);
    assert_eq!(gp.len(), before);
    assert_eq!(host.inner.live_contacts().len(), before);
    for (id, note) in &google_edits {
        let c = host
            .inner
            .live_contacts()
            .into_iter()
            .find(|c| c.fields.get("notes") == Some(&json!(note)))
            .unwrap_or_else(|| panic!("the Google edit {note} of {id} reached the CRM"));
        assert!(!c.id.is_empty());
    }
    let depts = gp.iter().filter(|c| c["organizations"][0]["department"].as_str().is_some_and(|d| d.starts_with("Dept"))).count();
    assert_eq!(depts, crm.iter().enumerate().filter(|(n, _)| n % 37 == 0).count(), "every CRM edit reached Google");

    // An expired sync token: a full resync, no duplicate.
    emu.admin("POST", &format!("/accounts/{ACCOUNT}/expire-sync-tokens"), json!({}));
    let r = run(&emu, &host);
    assert!(r.notices.iter().any(|n| n.contains("sync token")), "{r:?}");
    assert_eq!(total_writes(&r), 0, "{r:?}");
    assert_eq!(google_people_all(&emu).len(), before);
    assert_eq!(host.inner.live_contacts().len(), before);
}

fn google_people_all(emu: &Emu) -> Vec<Value> {
    emu.contacts()
}

fn emails_of(c: &Value) -> BTreeSet<String> {
    c["emailAddresses"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["value"].as_str()).map(normalize::email).collect())
        .unwrap_or_default()
}

#[test]
fn no_token_ever_reaches_storage_logs_journal_urls_or_errors() {
    let emu = emulator();
    emu.seed((0..5).map(|i| google_support::person(&format!("G{i}"), "Google", &format!("g{i}@example.org"), None)).collect());
    let host = connected(&emu);
    block_on(host.crm_create(&crm_person("Ada", "Crm", "ada@crm.example.org", None))).unwrap();
    run(&emu, &host);
    // Every token the host ever held: the current ones, and a stale access token.
    let secrets = host.inner.secrets_snapshot();
    let signing_key = secrets.get(contact_sync::signing_key::SECRET).cloned().expect("the key signing carried CRM ids");
    let mut tokens: Vec<String> = secrets
        .iter()
        .filter(|(name, s)| !s.contains(CLIENT_SECRET) && name.as_str() != contact_sync::signing_key::SECRET)
        .map(|(_, s)| {
            let v: Value = serde_json::from_str(s).unwrap_or(Value::String(s.clone()));
            v["token"].as_str().map(str::to_string).unwrap_or_else(|| s.clone())
        })
        .collect();
    assert_eq!(tokens.len(), 2, "an access and a refresh token");
    tokens.push("ya29.expired-but-secret".into());
    tokens.push(CLIENT_SECRET.into());
    tokens.push(signing_key);
    // A revoked grant: the run fails with AUTH_EXPIRED, and still leaks nothing.
    emu.admin("POST", "/revoke-refresh-tokens", json!({"email": ACCOUNT}));
    let auth = emu.auth("g1");
    let expired = json!({"token": "ya29.expired-but-secret", "expiresAt": 0}).to_string();
    block_on(host.secret_set(&auth.secrets.access_token, &expired)).unwrap();
    let failed = run(&emu, &host);
    assert!(failed.errors.iter().any(|e| e.code == contact_sync::error::ErrorCode::AuthExpired), "{failed:?}");
    let errors = serde_json::to_string(&failed.errors).unwrap();
    for t in &tokens {
        assert!(!errors.contains(t.as_str()), "token in an error");
    }

    let storage = serde_json::to_string(&host.inner.storage_snapshot()).unwrap();
    let logs = format!("{:?}", host.inner.logs());
    let reports = serde_json::to_string(&block_on(runner::history(&host, "g1", 100)).unwrap()).unwrap();
    let urls: Vec<String> = emu.log().iter().map(|l| format!("{}?{}", l["path"], l["query"])).collect();
    for t in &tokens {
        assert!(!storage.contains(t.as_str()), "token in storage");
        assert!(!logs.contains(t.as_str()), "token in logs");
        assert!(!reports.contains(t.as_str()), "token in the journal/history");
        assert!(urls.iter().all(|u| !u.contains(t.as_str())), "token in a URL");
    }
}

#[test]
fn the_connector_methods_connect_preview_sync_and_relink_after_forgotten_links() {
    use contact_sync::providers::google::connector;
    let emu = emulator();
    emu.seed((0..40).map(|i| google_support::person(&format!("G{i}"), "Google", &format!("g{i}@example.org"), None)).collect());
    let host = RealHost::new(&emu, true);
    let e = emu.endpoints();
    let mut v = serde_json::to_value(Settings::default()).unwrap();
    v["spokes"] = json!([{"id": "g1", "kind": "google", "name": "Work", "allowCreate": true,
        "clientId": google_support::CLIENT_ID,
        "endpoints": {"auth": e.auth, "token": e.token, "api": e.api, "revoke": e.revoke}}]);
    let settings = Settings::from_value(&v).expect("settings with emulator endpoints");
    let stored = serde_json::to_value(&settings).unwrap();
    block_on(host.storage_write(&Map::from_iter([("settings".to_string(), stored)]), &[])).unwrap();
    block_on(host.secret_set("google.g1.clientSecret", CLIENT_SECRET)).unwrap();
    for i in 0..10 {
        block_on(host.crm_create(&crm_person(&format!("C{i}"), "Crm", &format!("c{i}@example.org"), None))).unwrap();
    }

    block_on(connector::connect(&host, "g1", REDIRECT)).expect("connect");
    block_on(connector::test_connection(&host, "g1")).expect("connection works");

    let preview = block_on(connector::preview(&host, "g1")).unwrap();
    assert!(preview.dry_run);
    assert_eq!((preview.counts.remote.created, preview.counts.crm.created), (10, 40), "{preview:?}");
    assert_eq!(emu.contacts().len(), 40, "a preview writes nothing");

    let cancel = Cell::new(false);
    let report = block_on(connector::sync(&host, "g1", &RunOptions::default(), &cancel)).unwrap();
    assert_eq!(report.outcome, "ok", "{report:?}");
    let spoke = settings.spokes[0].clone();
    let status = block_on(connector::status(&host, &spoke)).unwrap();
    assert!(status.connected);
    assert_eq!(status.linked, 50);
    assert_eq!(status.last_run.map(|r| r.run_id), Some(report.run_id));

    // Lost state: the next run re-links through the CRM id carried in clientData and
    // by e-mail; nothing is duplicated on either side.
    block_on(connector::forget_links(&host, "g1")).unwrap();
    let again = block_on(connector::sync(&host, "g1", &RunOptions::default(), &cancel)).unwrap();
    assert_eq!(total_writes(&again) - again.counts.remote.updated, 0, "{again:?}");
    assert_eq!(google_people(&emu).len(), 50);
    assert_eq!(crm_people(&host).len(), 50);

    block_on(connector::disconnect(&host, "g1")).unwrap();
    assert!(!block_on(connector::status(&host, &spoke)).unwrap().connected);
    let after = block_on(connector::sync(&host, "g1", &RunOptions::default(), &cancel)).unwrap();
    assert_eq!(after.errors[0].code, contact_sync::error::ErrorCode::NotConnected);
}

#[test]
fn undo_of_the_latest_run_removes_what_it_created_on_both_sides() {
    use contact_sync::providers::google::connector;
    let emu = emulator();
    emu.seed((0..6).map(|i| google_support::person(&format!("G{i}"), "Google", &format!("g{i}@example.org"), None)).collect());
    let host = RealHost::new(&emu, true);
    let e = emu.endpoints();
    let mut v = serde_json::to_value(Settings::default()).unwrap();
    v["spokes"] = json!([{"id": "g1", "kind": "google", "name": "Work", "allowCreate": true,
        "clientId": google_support::CLIENT_ID,
        "endpoints": {"auth": e.auth, "token": e.token, "api": e.api, "revoke": e.revoke}}]);
    let settings = Settings::from_value(&v).unwrap();
    block_on(host.storage_write(&Map::from_iter([("settings".to_string(), serde_json::to_value(&settings).unwrap())]), &[])).unwrap();
    block_on(host.secret_set("google.g1.clientSecret", CLIENT_SECRET)).unwrap();
    for i in 0..4 {
        block_on(host.crm_create(&crm_person(&format!("C{i}"), "Crm", &format!("c{i}@example.org"), None))).unwrap();
    }
    block_on(connector::connect(&host, "g1", REDIRECT)).unwrap();
    let report = block_on(connector::sync(&host, "g1", &RunOptions::default(), &Cell::new(false))).unwrap();
    assert_eq!((report.counts.remote.created, report.counts.crm.created), (4, 6));
    assert!(block_on(runner::history(&host, "g1", 1)).unwrap()[0].undoable);

    let undo = block_on(connector::undo_last_run(&host, "g1")).unwrap();
    assert_eq!(undo.outcome, "ok", "{undo:?}");
    assert_eq!((undo.counts.remote.deleted, undo.counts.crm.deleted), (4, 6));
    assert_eq!(emu.contacts().len(), 6, "Google as before the run");
    assert_eq!(host.inner.live_contacts().len(), 4, "the CRM as before the run");
    assert!(block_on(runner::history(&host, "g1", 5)).unwrap().iter().all(|r| !r.undoable));
    let again = block_on(connector::undo_last_run(&host, "g1")).unwrap_err();
    assert_eq!(again.code, contact_sync::error::ErrorCode::NotFound);
}

#[test]
fn a_crm_change_event_runs_a_debounced_sync_that_reaches_google() {
    use contact_sync::plugin_core::PluginCore;
    use contact_sync::providers::google::connector;
    let emu = emulator();
    let host = RealHost::new(&emu, true);
    let e = emu.endpoints();
    let mut v = serde_json::to_value(Settings::default()).unwrap();
    v["spokes"] = json!([{"id": "g1", "kind": "google", "name": "Work", "allowCreate": true,
        "clientId": google_support::CLIENT_ID,
        "endpoints": {"auth": e.auth, "token": e.token, "api": e.api, "revoke": e.revoke}}]);
    let settings = Settings::from_value(&v).unwrap();
    block_on(host.storage_write(&Map::from_iter([("settings".to_string(), serde_json::to_value(&settings).unwrap())]), &[])).unwrap();
    block_on(host.secret_set("google.g1.clientSecret", CLIENT_SECRET)).unwrap();
    let core = PluginCore::new(host);
    block_on(connector::connect(core.host(), "g1", REDIRECT)).unwrap();
    block_on(connector::sync(core.host(), "g1", &RunOptions::default(), &Cell::new(false))).unwrap();

    let c = block_on(core.host().crm_create(&crm_person("Eve", "Event", "eve@example.org", None))).unwrap();
    block_on(core.handle_event(&json!({"type": "contact.created", "contactId": c.id}))).unwrap();
    let started = core.host().now_ms();
    let reports = block_on(connectors::after_event(&core, &Cell::new(false))).unwrap();
    assert!(core.host().now_ms() - started >= connectors::DEBOUNCE_MS);
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].trigger, "event");
    assert_eq!(reports[0].counts.remote.created, 1);
    assert!(emu.contacts().iter().any(|p| p["emailAddresses"][0]["value"] == "eve@example.org"));
    // Nothing pending any more: a second call does nothing.
    assert!(block_on(connectors::after_event(&core, &Cell::new(false))).unwrap().is_empty());
}
