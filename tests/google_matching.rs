#![cfg(not(target_arch = "wasm32"))]
//! Matching that never guesses, through whole runs of the Google spoke (the runner, the
//! strict emulator, MemoryHost's CRM): issue 11's defects 2 (an ambiguity forgotten by a
//! later incremental run), 3 (strangers merged by a shared phone, on the demo's own data)
//! and 14 (a CRM id in `clientData` trusted without a check).

mod google_support;

use std::cell::Cell;

use contact_sync::crm::{CrmContact, CrmPatch, NewCrmContact};
use contact_sync::engine::normalize;
use contact_sync::engine::state::SpokeState;
use contact_sync::host::Host;
use contact_sync::providers::google::client::GoogleSpoke;
use contact_sync::providers::google::pacing::Quota;
use contact_sync::runner::{self, RunOptions, RunReport, SpokeKeys, SpokeRun};
use contact_sync::settings::Settings;
use devserver::google::{EmulatorConfig, QuotaConfig};
use google_support::{Emu, RealHost, CLIENT_SECRET, REDIRECT};
use pollster::block_on;
use serde_json::{json, Map, Value};

fn emulator(config: EmulatorConfig) -> Emu {
    let mut c = config;
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

/// One recorded run of spoke `g1`; `change` adjusts the default settings.
fn run(emu: &Emu, host: &RealHost, change: impl Fn(&mut Value)) -> RunReport {
    let mut v = serde_json::to_value(Settings::default()).unwrap();
    v["spokes"] = json!([{"id": "g1", "kind": "google", "name": "Work", "allowCreate": true, "clientId": google_support::CLIENT_ID}]);
    change(&mut v);
    let settings = Settings::from_value(&v).expect("valid settings");
    let spoke = settings.spokes[0].clone();
    let mut provider = GoogleSpoke::new(host, emu.auth("g1"), Quota::unlimited());
    let schema = block_on(host.crm_field_schema()).unwrap();
    let config = runner::sync_config(&settings, &spoke, schema, &provider).unwrap();
    let cancel = Cell::new(false);
    let mut run = SpokeRun::new(host, &mut provider, "g1", &cancel).unwrap();
    let (report, journal) = block_on(run.run(config, &RunOptions::default())).expect("run");
    block_on(runner::record_run(host, &report, &journal)).unwrap();
    assert!(report.errors.is_empty(), "run errors: {:?}", report.errors);
    report
}

fn defaults(_: &mut Value) {}

fn state(host: &RealHost) -> SpokeState {
    let key = SpokeKeys::for_spoke("g1").state;
    let got = block_on(host.storage_get(std::slice::from_ref(&key))).unwrap();
    SpokeState::from_json(got[&key].as_str().expect("a stored state")).unwrap()
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

fn emails_of(p: &Value) -> Vec<String> {
    p["emailAddresses"].as_array().map(|a| a.iter().filter_map(|e| e["value"].as_str()).map(normalize::email).collect()).unwrap_or_default()
}

fn people_with_email(emu: &Emu, email: &str) -> Vec<Value> {
    emu.contacts().into_iter().filter(|p| emails_of(p).contains(&email.to_string())).collect()
}

#[test]
fn defect2_an_ambiguity_still_holds_after_the_crm_contact_is_edited() {
    let emu = emulator(EmulatorConfig::empty());
    emu.seed(vec![
        google_support::person("Camille", "Roux", "accueil@roux.example.fr", None),
        google_support::person("Hélène", "Roux", "accueil@roux.example.fr", None),
    ]);
    let host = connected(&emu);
    let crm = block_on(host.crm_create(&crm_person("Camille", "Roux", "Accueil@Roux.example.fr", None))).unwrap();

    let first = run(&emu, &host, defaults);
    assert_eq!(first.counts.ambiguous, 1, "{first:?}");
    assert_eq!(people_with_email(&emu, "accueil@roux.example.fr").len(), 2, "nothing created");

    // Edited in the CRM: the next (incremental) run still holds it.
    let patch = CrmPatch { fields: Some(Map::from_iter([("jobTitle".to_string(), json!("Gérante"))])), ..CrmPatch::default() };
    block_on(host.crm_update(&crm.id, crm.version, &patch)).unwrap();
    for _ in 0..2 {
        let later = run(&emu, &host, defaults);
        assert_eq!(later.counts.remote.created, 0, "{later:?}");
        assert_eq!(later.counts.ambiguous, 1, "the report still lists the ambiguity: {later:?}");
        assert_eq!(people_with_email(&emu, "accueil@roux.example.fr").len(), 2, "no third card with that e-mail");
        assert_eq!(host.inner.live_contacts().len(), 1, "nothing imported either");
        assert!(state(&host).links.is_empty(), "nothing linked");
    }
}
