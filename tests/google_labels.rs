#![cfg(not(target_arch = "wasm32"))]
//! Labels: CRM lists and tags ↔ Google contact groups as mapped in `mapping.labels`,
//! run by the runner against the in-process emulator. Mapped groups are created when
//! missing, memberships sync as a set against the base in both directions, unmapped
//! labels are left alone, a contact keeps `myContacts`, and a mapped group deleted in
//! Google trips the guard instead of emptying the CRM list.

mod google_support;

use std::cell::Cell;
use std::collections::BTreeSet;

use contact_sync::crm::{CrmContact, CrmPatch, NewCrmContact};
use contact_sync::host::Host;
use contact_sync::providers::google::client::GoogleSpoke;
use contact_sync::providers::google::pacing::Quota;
use contact_sync::providers::google::protocol::{ApiRequest, RequestKind};
use contact_sync::runner::{self, RunOptions, RunReport, SpokeRun};
use contact_sync::settings::{Settings, SpokeSettings};
use devserver::google::{EmulatorConfig, QuotaConfig};
use google_support::{Emu, RealHost, ACCOUNT, CLIENT_SECRET, REDIRECT};
use pollster::block_on;
use serde_json::{json, Map, Value};

fn settings(vip_list: &str, guard: f64) -> (Settings, SpokeSettings) {
    let mut v = serde_json::to_value(Settings::default()).unwrap();
    v["spokes"] = json!([{"id": "g1", "kind": "google", "name": "Work", "allowCreate": true, "clientId": google_support::CLIENT_ID}]);
    v["mapping.labels"] = json!([
        {"crm": {"kind": "list", "id": vip_list}, "remoteLabel": "VIP"},
        {"crm": {"kind": "tag", "id": "press"}, "remoteLabel": "Press"},
    ]);
    v["guard.maxDeleteShare"] = json!(guard);
    let s = Settings::from_value(&v).expect("valid settings");
    let spoke = s.spokes[0].clone();
    (s, spoke)
}

fn connected(emu: &Emu) -> RealHost {
    let host = RealHost::new(emu, true);
    let auth = emu.auth("g1");
    block_on(host.secret_set(&auth.secrets.client_secret, CLIENT_SECRET)).unwrap();
    block_on(auth.connect(&host, REDIRECT)).expect("connect");
    host
}

fn run_with(emu: &Emu, host: &RealHost, vip: &str, guard: f64) -> RunReport {
    let (settings, spoke) = settings(vip, guard);
    let mut provider = GoogleSpoke::new(host, emu.auth("g1"), Quota::unlimited());
    let schema = block_on(host.crm_field_schema()).unwrap();
    let config = runner::sync_config(&settings, &spoke, schema, &provider).unwrap();
    let cancel = Cell::new(false);
    let mut run = SpokeRun::new(host, &mut provider, "g1", &cancel).unwrap();
    let (report, journal) = block_on(run.run(config, &RunOptions::default())).expect("run");
    block_on(runner::record_run(host, &report, &journal)).unwrap();
    report
}

fn run(emu: &Emu, host: &RealHost, vip: &str) -> RunReport {
    let r = run_with(emu, host, vip, 0.5);
    assert!(r.errors.is_empty(), "run errors: {:?}", r.errors);
    r
}

fn crm_person(given: &str, email: &str, lists: &[&str], tags: &[&str]) -> NewCrmContact {
    let mut fields = Map::new();
    fields.insert("firstName".into(), json!(given));
    fields.insert("lastName".into(), json!("Crm"));
    fields.insert("emails".into(), json!([{"value": email, "type": "work"}]));
    NewCrmContact {
        fields,
        lists: lists.iter().map(|s| s.to_string()).collect(),
        tags: tags.iter().map(|s| s.to_string()).collect(),
    }
}

fn crm_by_email(host: &RealHost, email: &str) -> CrmContact {
    host.inner
        .live_contacts()
        .into_iter()
        .find(|c| c.fields.get("emails").and_then(|e| e[0]["value"].as_str()) == Some(email))
        .unwrap_or_else(|| panic!("{email} not in the CRM"))
}

/// Group name → resource name, user groups of the account.
fn groups(emu: &Emu) -> Vec<(String, String)> {
    let v = emu.admin("GET", &format!("/accounts/{ACCOUNT}/groups"), Value::Null);
    let list = v.get("groups").cloned().or_else(|| v.as_array().map(|a| Value::Array(a.clone()))).unwrap_or(Value::Null);
    list.as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|g| !g["system"].as_bool().unwrap_or(false) && !g["deleted"].as_bool().unwrap_or(false))
        .map(|g| (g["name"].as_str().unwrap_or("").to_string(), g["resourceName"].as_str().unwrap_or("").to_string()))
        .collect()
}

fn group_id(emu: &Emu, name: &str) -> String {
    let (_, resource) = groups(emu).into_iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no group {name}"));
    resource.trim_start_matches("contactGroups/").to_string()
}

/// The Google contact with this e-mail (raw admin view).
fn google_by_email(emu: &Emu, email: &str) -> Value {
    emu.contacts()
        .into_iter()
        .find(|c| c["emailAddresses"][0]["value"].as_str() == Some(email))
        .unwrap_or_else(|| panic!("{email} not in Google"))
}

/// Group ids the contact is a member of.
fn memberships(c: &Value) -> BTreeSet<String> {
    c["emulator"]["memberships"].as_array().cloned().unwrap_or_default().iter().filter_map(|m| m.as_str().map(String::from)).collect()
}

fn contact_id(c: &Value) -> String {
    c["resourceName"].as_str().unwrap_or("").trim_start_matches("people/").to_string()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

struct World {
    emu: Emu,
    host: RealHost,
    vip: String,
    family: String,
}

/// An empty emulator without quota, connected, and Google holding a group `group` with one
/// member (given name `given`); the group's resource name.
fn with_google_group(group: &str, given: &str) -> (Emu, RealHost, String) {
    let mut c = EmulatorConfig::empty();
    c.quota = QuotaConfig { enabled: false, ..QuotaConfig::default() };
    let emu = Emu::start(c);
    let host = connected(&emu);
    let mut client = GoogleSpoke::new(&host, emu.auth("g1"), Quota::unlimited());
    let resource = block_on(client.create_group(group)).expect("create the group");
    let mut member = google_support::person(given, "Google", &format!("{}@example.org", given.to_lowercase()), None);
    member["memberships"] = json!([{"contactGroupMembership": {"contactGroupResourceName": resource}}]);
    emu.seed(vec![member]);
    (emu, host, resource)
}

/// CRM: Ann in list VIP, Bob tagged press, Cy in nothing. Google: Dee in the unmapped
/// label Bowling. One run.
fn world() -> (World, RunReport) {
    let (emu, host, family) = with_google_group("Bowling", "Dee");
    let vip = block_on(host.crm_create_list("VIP")).unwrap().id;
    block_on(host.crm_create(&crm_person("Ann", "ann@example.org", &[&vip], &[]))).unwrap();
    block_on(host.crm_create(&crm_person("Bob", "bob@example.org", &[], &["press"]))).unwrap();
    block_on(host.crm_create(&crm_person("Cy", "cy@example.org", &[], &[]))).unwrap();
    let family = family.trim_start_matches("contactGroups/").to_string();
    let w = World { emu, host, vip, family };
    let first = run(&w.emu, &w.host, &w.vip);
    (w, first)
}

#[test]
fn mapped_groups_are_created_and_crm_lists_and_tags_become_memberships() {
    let (w, first) = world();
    assert_eq!(first.counts.remote.created, 3, "{first:?}");
    let names: BTreeSet<String> = groups(&w.emu).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, set(&["Bowling", "Press", "VIP"]), "each mapped group made once, unmapped one kept");
    let (vip, press) = (group_id(&w.emu, "VIP"), group_id(&w.emu, "Press"));
    assert_eq!(memberships(&google_by_email(&w.emu, "ann@example.org")), set(&["myContacts", &vip]));
    assert_eq!(memberships(&google_by_email(&w.emu, "bob@example.org")), set(&["myContacts", &press]));
    assert_eq!(memberships(&google_by_email(&w.emu, "cy@example.org")), set(&["myContacts"]));
    assert_eq!(memberships(&google_by_email(&w.emu, "dee@example.org")), set(&[&w.family]), "unmapped label untouched");
    let dee = crm_by_email(&w.host, "dee@example.org");
    assert!(dee.lists.is_empty() && dee.tags.is_empty(), "an unmapped label brings no list: {dee:?}");

    // The echo of the first run's writes settles; then a run with nothing changed writes
    // nothing, creates no group again and costs two requests (groups list + delta).
    run(&w.emu, &w.host, &w.vip);
    w.emu.clear_log();
    let again = run(&w.emu, &w.host, &w.vip);
    let methods: Vec<String> = w.emu.log().iter().map(|l| l["apiMethod"].as_str().unwrap_or("").to_string()).collect();
    assert_eq!(methods, vec!["contactGroups.list", "people.connections.list"], "requests of a quiet run");
    assert_eq!(again.counts.remote.updated + again.counts.crm.updated + again.counts.remote.created, 0, "{again:?}");
    assert_eq!(groups(&w.emu).len(), 3);
}

#[test]
fn membership_changes_on_either_side_sync_as_a_set_and_keep_my_contacts() {
    let (w, _) = world();
    let (vip, press) = (group_id(&w.emu, "VIP"), group_id(&w.emu, "Press"));
    // Google: Dee joins VIP (keeps Bowling).
    let dee = google_by_email(&w.emu, "dee@example.org");
    w.emu.admin(
        "PATCH",
        &format!("/accounts/{ACCOUNT}/contacts/{}", contact_id(&dee)),
        json!({"memberships": [
            {"contactGroupMembership": {"contactGroupResourceName": format!("contactGroups/{}", w.family)}},
            {"contactGroupMembership": {"contactGroupResourceName": format!("contactGroups/{vip}")}}]}),
    );
    // CRM: Ann leaves the VIP list; Cy gets the press tag.
    let ann = crm_by_email(&w.host, "ann@example.org");
    block_on(w.host.crm_update(&ann.id, ann.version, &CrmPatch { lists: Some(vec![]), ..CrmPatch::default() })).unwrap();
    let cy = crm_by_email(&w.host, "cy@example.org");
    block_on(w.host.crm_update(&cy.id, cy.version, &CrmPatch { tags: Some(vec!["press".into(), "golf".into()]), ..CrmPatch::default() }))
        .unwrap();

    run(&w.emu, &w.host, &w.vip);

    assert_eq!(crm_by_email(&w.host, "dee@example.org").lists, vec![w.vip.clone()], "Google add → CRM list");
    let cy_tags: BTreeSet<String> = crm_by_email(&w.host, "cy@example.org").tags.into_iter().collect();
    assert_eq!(cy_tags, set(&["golf", "press"]), "an unmapped tag stays");
    assert_eq!(memberships(&google_by_email(&w.emu, "ann@example.org")), set(&["myContacts"]), "CRM removal → group left, myContacts kept");
    assert_eq!(memberships(&google_by_email(&w.emu, "cy@example.org")), set(&["myContacts", &press]), "CRM tag → group");
    assert_eq!(memberships(&google_by_email(&w.emu, "dee@example.org")), set(&[&w.family, &vip]), "unmapped Bowling kept");

    let quiet = run(&w.emu, &w.host, &w.vip);
    assert_eq!(quiet.counts.remote.updated + quiet.counts.crm.updated, 0, "converged: {quiet:?}");
}

#[test]
fn a_membership_removed_in_google_removes_the_crm_tag() {
    let (w, _) = world();
    let bob = google_by_email(&w.emu, "bob@example.org");
    w.emu.admin(
        "PATCH",
        &format!("/accounts/{ACCOUNT}/contacts/{}", contact_id(&bob)),
        json!({"memberships": [{"contactGroupMembership": {"contactGroupResourceName": "contactGroups/myContacts"}}]}),
    );
    run(&w.emu, &w.host, &w.vip);
    assert!(!crm_by_email(&w.host, "bob@example.org").tags.contains(&"press".to_string()), "Google removal → CRM tag removed");
    assert_eq!(memberships(&google_by_email(&w.emu, "bob@example.org")), set(&["myContacts"]), "not put back in Google");
}

#[test]
fn a_mapped_group_deleted_in_google_trips_the_guard_instead_of_emptying_the_list() {
    let (w, _) = world();
    let vip = group_id(&w.emu, "VIP");
    let mut client = GoogleSpoke::new(&w.host, w.emu.auth("g1"), Quota::unlimited());
    let delete = ApiRequest {
        method: "DELETE",
        path_and_query: format!("/v1/contactGroups/{vip}?deleteContacts=false"),
        body: None,
        kind: RequestKind::Groups,
    };
    block_on(client.send(&delete)).map_err(|(_, e)| e).expect("delete the VIP group");

    let tripped = run_with(&w.emu, &w.host, &w.vip, 0.5);
    assert_eq!(tripped.outcome, "guard", "{tripped:?}");
    assert!(tripped.errors.iter().any(|e| e.message.contains("VIP")), "{:?}", tripped.errors);
    assert_eq!(crm_by_email(&w.host, "ann@example.org").lists, vec![w.vip.clone()], "nothing removed in the CRM");
    // Still tripped on the next run: the guard does not forget by itself.
    assert_eq!(run_with(&w.emu, &w.host, &w.vip, 0.5).outcome, "guard");

    // Released for one run, the deletion is synced like any removal.
    let released = run_with(&w.emu, &w.host, &w.vip, 1.0);
    assert_ne!(released.outcome, "guard", "{released:?}");
    assert!(released.errors.is_empty(), "{:?}", released.errors);
    assert_eq!(run_with(&w.emu, &w.host, &w.vip, 0.5).outcome, "ok", "the recreated group is the known one now");
}

#[test]
fn a_mapped_crm_list_that_does_not_exist_trips_the_guard_and_leaves_google_alone() {
    let (w, _) = world();
    let vip = group_id(&w.emu, "VIP");
    let tripped = run_with(&w.emu, &w.host, "list-that-was-deleted", 0.5);
    assert_eq!(tripped.outcome, "guard", "{tripped:?}");
    assert!(tripped.errors.iter().any(|e| e.message.contains("VIP (CRM list)")), "{:?}", tripped.errors);
    assert_eq!(memberships(&google_by_email(&w.emu, "ann@example.org")), set(&["myContacts", &vip]), "Ann stays in VIP");
}

#[test]
fn a_google_group_whose_name_differs_only_in_case_is_the_mapped_label() {
    // Google already has "PRESS" (names are unique regardless of case); the mapping says
    // "Press". It is that group: no second one, both sides' members meet, and nothing is
    // read as removed on the next runs.
    let (emu, host, press) = with_google_group("PRESS", "Eve");
    let vip = block_on(host.crm_create_list("VIP")).unwrap().id;
    block_on(host.crm_create(&crm_person("Bob", "bob@example.org", &[], &["press"]))).unwrap();
    for _ in 0..3 {
        run(&emu, &host, &vip);
    }
    let names: BTreeSet<String> = groups(&emu).into_iter().map(|(n, _)| n).filter(|n| n.eq_ignore_ascii_case("press")).collect();
    assert_eq!(names, set(&["PRESS"]), "no second group");
    let press = press.trim_start_matches("contactGroups/").to_string();
    assert!(memberships(&google_by_email(&emu, "bob@example.org")).contains(&press), "CRM tag → the existing group");
    assert_eq!(crm_by_email(&host, "bob@example.org").tags, vec!["press".to_string()], "the CRM tag stays");
    assert_eq!(crm_by_email(&host, "eve@example.org").tags, vec!["press".to_string()], "the group's member gets the tag");
    let quiet = run(&emu, &host, &vip);
    assert_eq!(quiet.counts.remote.updated + quiet.counts.crm.updated, 0, "converged: {quiet:?}");
}
