#![cfg(not(target_arch = "wasm32"))]
//! Progress reports of a run (`pull` → `match` → `write` → `done`) and event runs limited
//! to the changed CRM contacts (`SyncRequest.contactIds`), against the emulator.

mod google_support;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use contact_sync::crm::{CrmContact, CrmPatch, NewCrmContact};
use contact_sync::host::Host;
use contact_sync::providers::google::client::GoogleSpoke;
use contact_sync::providers::google::pacing::Quota;
use contact_sync::runner::{self, Progress, ProgressSink, RunOptions, RunReport, SpokeRun};
use contact_sync::settings::Settings;
use devserver::google::{EmulatorConfig, QuotaConfig};
use google_support::{Emu, RealHost, CLIENT_SECRET, REDIRECT};
use pollster::block_on;
use serde_json::{json, Map};

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

fn run(emu: &Emu, host: &RealHost, options: &RunOptions) -> RunReport {
    let mut v = serde_json::to_value(Settings::default()).unwrap();
    v["spokes"] = json!([{"id": "g1", "kind": "google", "name": "Work", "allowCreate": true, "clientId": google_support::CLIENT_ID}]);
    let settings = Settings::from_value(&v).expect("valid settings");
    let spoke = settings.spokes[0].clone();
    let mut provider = GoogleSpoke::new(host, emu.auth("g1"), Quota::unlimited());
    let schema = block_on(host.crm_field_schema()).unwrap();
    let config = runner::sync_config(&settings, &spoke, schema, &provider).unwrap();
    let cancel = Cell::new(false);
    let mut run = SpokeRun::new(host, &mut provider, "g1", &cancel).unwrap();
    let (report, journal) = block_on(run.run(config, options)).expect("run");
    block_on(runner::record_run(host, &report, &journal)).unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    report
}

fn crm_person(given: &str, email: &str) -> NewCrmContact {
    let mut fields = Map::new();
    fields.insert("firstName".into(), json!(given));
    fields.insert("lastName".into(), json!("Crm"));
    fields.insert("emails".into(), json!([{"value": email, "type": "work"}]));
    NewCrmContact { fields, ..NewCrmContact::default() }
}

fn rename(host: &RealHost, c: &CrmContact, family: &str) {
    let current = block_on(host.crm_get(std::slice::from_ref(&c.id))).unwrap().remove(0);
    let mut fields = Map::new();
    fields.insert("lastName".into(), json!(family));
    block_on(host.crm_update(&current.id, current.version, &CrmPatch { fields: Some(fields), ..CrmPatch::default() })).unwrap();
}

fn google_family(emu: &Emu, email: &str) -> String {
    emu.contacts()
        .into_iter()
        .find(|c| c["emailAddresses"][0]["value"].as_str() == Some(email))
        .and_then(|c| c["names"][0]["familyName"].as_str().map(String::from))
        .unwrap_or_default()
}

#[test]
fn a_run_reports_pull_match_write_and_done_in_order_with_counts() {
    let emu = emulator();
    emu.seed((0..7).map(|i| google_support::person(&format!("G{i}"), "Google", &format!("g{i}@example.org"), None)).collect());
    let host = connected(&emu);
    for i in 0..5 {
        block_on(host.crm_create(&crm_person(&format!("C{i}"), &format!("c{i}@example.org")))).unwrap();
    }
    let seen: Rc<RefCell<Vec<Progress>>> = Rc::default();
    let sink = Rc::clone(&seen);
    let options = RunOptions { progress: Some(ProgressSink(Rc::new(move |p: &Progress| sink.borrow_mut().push(p.clone())))), ..RunOptions::default() };
    let report = run(&emu, &host, &options);
    let steps = seen.borrow().clone();
    assert!(steps.iter().all(|p| p.spoke_id == "g1"));
    let phases: Vec<&str> = steps.iter().map(|p| p.phase).collect();
    let first = |ph: &str| phases.iter().position(|p| *p == ph).unwrap_or_else(|| panic!("no {ph} in {phases:?}"));
    assert!(first("pull") < first("match") && first("match") < first("write") && first("write") < first("done"), "{phases:?}");
    assert_eq!(phases.last(), Some(&"done"));
    let last_pull = steps.iter().rfind(|p| p.phase == "pull").unwrap();
    assert_eq!(last_pull.done, 12, "5 CRM contacts + 7 Google people read");
    let writes: Vec<&Progress> = steps.iter().filter(|p| p.phase == "write").collect();
    assert!(writes.windows(2).all(|w| w[0].done <= w[1].done), "write progress only grows");
    assert!(writes.iter().all(|p| p.done <= p.total));
    let c = &report.counts;
    assert_eq!(c.crm.created + c.remote.created, 12);
    let made = c.crm.created + c.crm.updated + c.crm.deleted + c.remote.created + c.remote.updated + c.remote.deleted;
    let done = steps.last().unwrap();
    assert_eq!((done.done, done.total), (u64::from(made), u64::from(made)));
}

#[test]
fn an_event_run_with_contact_ids_writes_only_those_and_loses_nothing_else() {
    let emu = emulator();
    let host = connected(&emu);
    let ann = block_on(host.crm_create(&crm_person("Ann", "ann@example.org"))).unwrap();
    let bob = block_on(host.crm_create(&crm_person("Bob", "bob@example.org"))).unwrap();
    run(&emu, &host, &RunOptions::default());
    // Settles the echoes of the first run's writes (Google lists them as news once).
    run(&emu, &host, &RunOptions::default());
    rename(&host, &ann, "Annson");
    rename(&host, &bob, "Bobson");

    let event = RunOptions { trigger: "event".into(), contact_ids: vec![ann.id.clone()], ..RunOptions::default() };
    let limited = run(&emu, &host, &event);
    assert_eq!(limited.counts.remote.updated, 1, "{limited:?}");
    assert_eq!(google_family(&emu, "ann@example.org"), "Annson");
    assert_eq!(google_family(&emu, "bob@example.org"), "Crm", "not part of the event run");

    // The CRM cursor did not move past Bob's change: the next whole run carries it.
    let next = run(&emu, &host, &RunOptions::default());
    assert_eq!(next.counts.remote.updated, 1, "{next:?}");
    assert_eq!(google_family(&emu, "bob@example.org"), "Bobson");
    assert_eq!(google_family(&emu, "ann@example.org"), "Annson");
}

#[test]
fn an_event_run_for_a_deleted_crm_contact_follows_the_deletion_policy() {
    let emu = emulator();
    let host = connected(&emu);
    let ann = block_on(host.crm_create(&crm_person("Ann", "ann@example.org"))).unwrap();
    for i in 0..19 {
        block_on(host.crm_create(&crm_person(&format!("C{i}"), &format!("c{i}@example.org")))).unwrap();
    }
    run(&emu, &host, &RunOptions::default());
    run(&emu, &host, &RunOptions::default());
    let current = block_on(host.crm_get(std::slice::from_ref(&ann.id))).unwrap().remove(0);
    block_on(host.crm_delete(&ann.id, current.version)).unwrap();
    let event = RunOptions { trigger: "event".into(), contact_ids: vec![ann.id.clone()], ..RunOptions::default() };
    let report = run(&emu, &host, &event);
    // The default policy (propagate) deletes Ann's copy; nothing is re-created.
    assert_eq!(report.counts.remote.deleted, 1, "{report:?}");
    assert_eq!(report.counts.crm.created, 0, "{report:?}");
    assert!(host.inner.live_contacts().iter().all(|c| c.id != ann.id));
    assert_eq!(emu.contacts().len(), 19);
    assert!(emu.contacts().iter().all(|c| c["emailAddresses"][0]["value"] != "ann@example.org"));
}
