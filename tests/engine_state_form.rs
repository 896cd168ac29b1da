#![cfg(not(target_arch = "wasm32"))]
//! The serialized sync state keeps its form: a state written by the engine before the
//! bases were held as typed values in memory (`tests/engine_fixtures/state-v2.json`,
//! produced by that code) loads and saves back byte for byte, and today's engine still
//! writes exactly that state for the same history. `BLESS=1` rewrites the fixture (only
//! when the form changes on purpose, with a version bump and a migration).

mod engine_support;

use contact_sync::engine::mapping::{default_mapping, Direction};
use contact_sync::engine::model::{Address, ValueKind};
use contact_sync::engine::state::SpokeState;
use contact_sync::engine::SyncConfig;
use engine_support::*;
use serde_json::json;

const FIXTURE: &str = "tests/engine_fixtures/state-v2.json";

/// A history touching every kind of base: matched pairs (texts, e-mail, phone and address
/// lists, kinds and primary marks), creates both ways, a one-way row (its base unknown on
/// the side it does not flow to), a custom element kind, an edit on each side, a write that
/// failed (a pair marked to look at again), a crash before a create was confirmed (a
/// pending intent).
fn history() -> String {
    let mut cfg = open_config();
    let mut rows = default_mapping();
    if let Some(r) = rows.iter_mut().find(|r| r.crm_field == "jobTitle") {
        r.direction = Direction::ToRemote;
    }
    cfg.fields = rows;
    let mut w = World::default();
    let mut f = crm_fields("Ada", "Lovelace", &["ada@x.fr", "ada.l@y.fr"], &["06 12 34 56 78"], "Maths");
    f.insert("jobTitle".into(), json!("Analyste"));
    f.insert("birthday".into(), json!("1815-12-10"));
    f.insert("addresses".into(), json!([{ "street": "1 rue de la Paix", "city": "Paris", "postalCode": "75002", "type": "home", "primary": true }]));
    w.crm.create(f);
    let mut r = remote_contact("Ada", "Lovelace", &["ADA@x.fr"], &["+33 6 12 34 56 78"], "");
    r.addresses = vec![Address { street: "1 Rue de la Paix".into(), city: "PARIS".into(), postal_code: "75002".into(), kind: ValueKind::Custom("Atelier".into()), ..Address::default() }];
    w.remote.create(r);
    w.crm.create(crm_fields("Only", "Crm", &["only.crm@x.fr"], &[], ""));
    w.remote.create(remote_contact("Only", "Remote", &["only.remote@x.fr"], &["07 81 23 45 67"], "Vu au salon"));
    let st = run(&mut w, &cfg, "", &Faults::default()).state;
    // An edit on each side, one failed write, then a crash before a create is confirmed.
    w.crm.set("c1", "lastName", json!("King"));
    w.remote.edit("people/2", |c| c.note = "Rappeler".into());
    let st = run(&mut w, &cfg, &st, &Faults { fail: vec![0], ..Faults::default() }).state;
    w.remote.create(remote_contact("Late", "Comer", &["late@x.fr"], &[], ""));
    run(&mut w, &cfg, &st, &Faults { crash_after: Some(0), ..Faults::default() }).state
}

#[test]
fn a_state_written_before_typed_bases_loads_and_saves_unchanged() {
    let fixture = std::fs::read_to_string(FIXTURE).expect("the fixture is committed");
    let fixture = fixture.trim_end();
    let state = SpokeState::from_json(fixture).expect("loads");
    assert!(state.links.values().any(|l| !l.base.is_empty()), "the fixture holds bases");
    assert_eq!(state.to_json(), fixture, "saved back byte for byte");
}

#[test]
fn the_engine_still_writes_the_same_state() {
    let written = history();
    if std::env::var("BLESS").is_ok() {
        std::fs::write(FIXTURE, format!("{written}\n")).expect("fixture written");
    }
    let fixture = std::fs::read_to_string(FIXTURE).expect("the fixture is committed");
    assert_eq!(written, fixture.trim_end());
    // What the history was built to reach: list bases with kinds and marks, a pending
    // create, pairs marked to look at again.
    for needle in [":w:0", ",", "\"pending\"", "\"dirty_crm\"", "\"dirty_remote\""] {
        assert!(written.contains(needle), "the history covers {needle}: {written}");
    }
}

#[test]
fn default_config_is_what_the_fixture_does_not_depend_on() {
    // The fixture's history sets its own mapping; the default one must still load it.
    let fixture = std::fs::read_to_string(FIXTURE).expect("the fixture is committed");
    let state = SpokeState::from_json(fixture.trim_end()).expect("loads");
    assert!(contact_sync::engine::session::SyncSession::new(SyncConfig::default(), state).is_ok());
}

#[test]
fn every_stored_base_form_survives_a_load_and_save() {
    // Hashes, the unknown base, list encodings, and forms this code never writes itself
    // (a leading zero, upper case, a value past 53 bits, text) are kept as they were read.
    let json = r#"{"v":2,"links":{"c1":{"r":"people/1","cv":2,"re":"e1","b":{"a":"0","b":"?","c":"1586odcjijf","d":"155gezeopvf:w:0,gi81b6ty56:q674l7q3wv:1","e":"007","f":"ABC","g":"3w5e11264sgsf","h":"3w5e11264sgsg","i":"x y"}},"c2":{"r":"people/2","cv":0,"n":true}}}"#;
    let state = SpokeState::from_json(json).expect("loads");
    assert_eq!(state.to_json(), json);
}

#[test]
fn bases_read_in_any_order_keep_the_last_of_a_repeated_key() {
    // What the map of strings did: keys sorted on save, the last of a repeat kept, an
    // empty text kept as read.
    let json = r#"{"v":2,"links":{"c1":{"r":"p1","cv":1,"b":{"z":"1","a":"2","m":"3","a":"4","e":""}}}}"#;
    let state = SpokeState::from_json(json).expect("loads");
    assert_eq!(state.to_json(), r#"{"v":2,"links":{"c1":{"r":"p1","cv":1,"b":{"a":"4","e":"","m":"3","z":"1"}}}}"#);
}

#[test]
fn a_state_holding_matches_for_the_operator_saves_back_byte_for_byte() {
    // Fields added with the held matches (issue 11): absent when empty, so the fixture
    // above keeps its bytes; present, they read back as written.
    let json = r#"{"v":2,"links":{},"held":[["a","1x2y","c1","","people/1","people/2"],["p","","c3","","people/9"],["a","","","people/4","people/5"]],"ignored_crm":["c7"],"ignored_remote":["people/8"],"unmatched_crm":["c5"],"unmatched_remote":["people/6"]}"#;
    let state = SpokeState::from_json(json).expect("loads");
    assert_eq!((state.held[0].crm_ids.clone(), state.held[0].remote_ids.clone()), (vec!["c1".to_string()], vec!["people/1".to_string(), "people/2".to_string()]));
    assert!(state.held[2].crm_ids.is_empty(), "a group left with one side");
    assert_eq!(state.to_json(), json);
    for bad in [r#"{"v":2,"held":[["x","k","c1",""]]}"#, r#"{"v":2,"held":[[]]}"#] {
        assert_eq!(SpokeState::from_json(bad).unwrap_err().code, "STORAGE", "{bad}");
    }
}
