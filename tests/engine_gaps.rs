#![cfg(not(target_arch = "wasm32"))]
//! Engine behaviour that issue #3 and the merge rules require but no other test checked
//! (the "Gaps" section of `docs/engine-invariants.md`): newest-wins times and ties,
//! "update empty values", multi-valued set merging, capacity projection, matching order,
//! do-not-contact, list and valid-mobile filters, "allow the hub to create", read-only
//! CRM fields, plan determinism, batching and versions, the preview summary, checkpoints
//! holding only confirmed writes, state migration and refusal, the lease's renew/release,
//! the default delete share, and "compare normalized, write original".

mod engine_support;

use contact_sync::crm::{CrmFieldSchema, CrmFieldType};
use contact_sync::engine::carried_id::{self, IdKey};
use contact_sync::engine::lease::{acquire, is_ours, renew, Lease, LeaseDecision};
use contact_sync::engine::mapping::{check_rows, default_mapping, Direction, FieldMappingRow, Priority};
use contact_sync::engine::journal::JournalRecord;
use contact_sync::engine::model::{Contact, RemoteRecord};
use contact_sync::engine::plan::{WriteOp, WriteResult};
use contact_sync::engine::session::{Listing, SyncSession};
use contact_sync::engine::state::{PendingCreate, SpokeState};
use contact_sync::engine::{DeletionPolicy, Email, EngineError, FilterMode, Side, SyncConfig, ValueKind};
use engine_support::*;
use serde_json::json;

fn linked(state: &str, crm_id: &str) -> String {
    SpokeState::from_json(state).unwrap().remote_of(crm_id).unwrap().to_string()
}

/// Clean runs until one writes nothing (at most 4); the last state.
fn settle(w: &mut World, cfg: &SyncConfig, state: &str) -> String {
    let mut st = state.to_string();
    for _ in 0..4 {
        let o = run(w, cfg, &st, &Faults::default());
        assert!(o.error.is_none(), "{:?}", o.error);
        st = o.state;
        if o.writes == 0 {
            break;
        }
    }
    st
}

/// A session fed full listings of both sides (pages as given), ready to plan.
fn listed(w: &World, cfg: &SyncConfig, state: &str, reverse_pages: bool) -> SyncSession {
    let st = if state.is_empty() { SpokeState::new() } else { SpokeState::from_json(state).unwrap() };
    let mut s = SyncSession::new(cfg.clone(), st).unwrap();
    let mut crm = w.crm.list(None);
    let mut remote = w.remote.list(None);
    if reverse_pages {
        crm.reverse();
        remote.reverse();
        for c in crm.chunks(2) {
            s.handle_crm_page(c.to_vec(), Listing::Full);
        }
        for r in remote.chunks(2) {
            s.handle_remote_page(r.to_vec(), Listing::Full);
        }
    } else {
        s.handle_crm_page(crm, Listing::Full);
        s.handle_remote_page(remote, Listing::Full);
    }
    s.handle_crm_listing_done(&w.crm.seq.to_string(), Listing::Full);
    s.handle_remote_listing_done(&w.remote.seq.to_string(), Listing::Full);
    s
}

fn email_values(list: &serde_json::Value) -> Vec<String> {
    list.as_array().map(|a| a.iter().filter_map(|e| e["value"].as_str().map(str::to_lowercase)).collect()).unwrap_or_default()
}

fn rows_with(f: impl Fn(&mut FieldMappingRow)) -> Vec<FieldMappingRow> {
    let mut rows = default_mapping();
    rows.iter_mut().for_each(f);
    rows
}

// ---------------------------------------------------------------------------------------
// Merge rules

#[test]
fn newest_wins_compares_each_sides_own_update_time_and_a_tie_goes_to_the_configured_side() {
    // (CRM time, remote time, tie winner, expected winner)
    let cases = [
        ("2025-03-01T10:00:00Z", "2025-03-01T09:00:00Z", Side::Remote, "crm"),
        ("2025-03-01T09:00:00Z", "2025-03-01T10:00:00Z", Side::Crm, "remote"),
        // Same instant written with another offset: still a tie.
        ("2025-03-01T10:00:00Z", "2025-03-01T12:00:00+02:00", Side::Crm, "crm"),
        ("2025-03-01T10:00:00Z", "2025-03-01T10:00:00Z", Side::Remote, "remote"),
    ];
    for (crm_time, remote_time, tie, expect) in cases {
        let mut cfg = open_config();
        cfg.tie_winner = tie;
        let mut w = World::default();
        let id = w.crm.create(crm_fields("Start", "X", &["n@x.fr"], &[], ""));
        let st = settle(&mut w, &cfg, "");
        let rid = linked(&st, &id);
        w.crm.set(&id, "firstName", json!("crm"));
        w.crm.contacts.get_mut(&id).unwrap().updated_at = crm_time.into();
        w.remote.edit(&rid, |c| c.name.given = "remote".into());
        w.remote.records.get_mut(&rid).unwrap().updated_at = remote_time.into();
        let o = run(&mut w, &cfg, &st, &Faults::default());
        assert_eq!(o.conflicts, 1, "{crm_time} vs {remote_time}");
        assert_eq!(w.crm.contacts[&id].fields["firstName"], json!(expect), "{crm_time} vs {remote_time}");
        assert_eq!(w.remote.records[&rid].contact.name.given, expect, "{crm_time} vs {remote_time}");
        let c = &o.journal.unwrap().conflicts[0];
        assert_eq!(c.rule, "newest");
        assert_eq!(c.kept, if expect == "crm" { Side::Crm } else { Side::Remote });
    }
}

#[test]
fn update_empty_values_fills_an_empty_field_against_the_priority_and_never_erases() {
    for fill_empty in [false, true] {
        // CRM wins by rule; the CRM cleared the company while the remote changed it.
        let mut cfg = open_config();
        cfg.fields = rows_with(|r| {
            r.priority = Priority::Crm;
            r.fill_empty = fill_empty;
        });
        let mut w = World::default();
        let mut f = crm_fields("E", "V", &["ev@x.fr"], &[], "");
        f.insert("company".into(), json!("Old"));
        let id = w.crm.create(f);
        let st = settle(&mut w, &cfg, "");
        let rid = linked(&st, &id);
        w.crm.set(&id, "company", json!(""));
        w.remote.edit(&rid, |c| c.organization.name = "New".into());
        let st = settle(&mut w, &cfg, &st);
        let expect = if fill_empty { "New" } else { "" };
        assert_eq!(w.crm.contacts[&id].fields["company"], json!(expect), "fill_empty={fill_empty}");
        assert_eq!(w.remote.records[&rid].contact.organization.name, expect, "fill_empty={fill_empty}");
        assert_eq!(run(&mut w, &cfg, &st, &Faults::default()).writes, 0);
    }
}

#[test]
fn the_same_change_on_both_sides_is_no_conflict_and_no_write() {
    let cfg = open_config();
    let mut w = World::default();
    let id = w.crm.create(crm_fields("Zoe", "S", &["z@x.fr"], &[], ""));
    let st = settle(&mut w, &cfg, "");
    let rid = linked(&st, &id);
    // The same value, composed and decomposed, with outer spaces on one side.
    w.crm.set(&id, "firstName", json!("Zoé"));
    w.remote.edit(&rid, |c| c.name.given = " Zoe\u{301} ".into());
    let o = run(&mut w, &cfg, &st, &Faults::default());
    assert!(o.error.is_none());
    assert_eq!((o.conflicts, o.writes), (0, 0));
    assert_eq!(run(&mut w, &cfg, &o.state, &Faults::default()).writes, 0);
}

#[test]
fn the_same_email_added_on_both_sides_is_one_element() {
    let cfg = open_config();
    let mut w = World::default();
    let id = w.crm.create(crm_fields("A", "B", &["a@x.fr"], &[], ""));
    let st = settle(&mut w, &cfg, "");
    let rid = linked(&st, &id);
    w.crm.set(&id, "emails", json!([{ "value": "a@x.fr", "type": "work" }, { "value": "new@x.fr", "type": "work" }]));
    w.remote.edit(&rid, |c| c.emails.push(Email { value: "NEW@x.fr".into(), kind: ValueKind::Work, primary: false }));
    let st = settle(&mut w, &cfg, &st);
    assert_eq!(email_values(&w.crm.contacts[&id].fields["emails"]), vec!["a@x.fr", "new@x.fr"]);
    assert_eq!(w.remote.records[&rid].contact.emails.len(), 2);
    converged(&w, &cfg, &st).unwrap();
}

#[test]
fn an_email_removed_on_one_side_while_its_type_changed_on_the_other_is_kept() {
    let cfg = open_config();
    let mut w = World::default();
    let id = w.crm.create(crm_fields("A", "B", &["a@x.fr", "b@x.fr"], &[], ""));
    let st = settle(&mut w, &cfg, "");
    let rid = linked(&st, &id);
    // The CRM drops b@; the remote retypes it as home.
    w.crm.set(&id, "emails", json!([{ "value": "a@x.fr", "type": "work" }]));
    w.remote.edit(&rid, |c| c.emails[1].kind = ValueKind::Home);
    let st = settle(&mut w, &cfg, &st);
    let crm = w.crm.contacts[&id].fields["emails"].clone();
    assert_eq!(email_values(&crm), vec!["a@x.fr", "b@x.fr"], "edit beats delete: {crm}");
    assert_eq!(crm[1]["type"], json!("home"));
    converged(&w, &cfg, &st).unwrap();
}

#[test]
fn an_email_type_change_crosses_without_touching_the_other_elements() {
    let cfg = open_config();
    let mut w = World::default();
    let id = w.crm.create(crm_fields("A", "B", &["a@x.fr", "b@x.fr"], &[], ""));
    let st = settle(&mut w, &cfg, "");
    let rid = linked(&st, &id);
    // The remote writes its first address its own way (case): equal, not a change.
    w.remote.edit(&rid, |c| c.emails[0].value = "A@X.FR".into());
    let st = settle(&mut w, &cfg, &st);
    w.crm.set(&id, "emails", json!([{ "value": "a@x.fr", "type": "work" }, { "value": "b@x.fr", "type": "home" }]));
    settle(&mut w, &cfg, &st);
    let r = &w.remote.records[&rid].contact.emails;
    assert_eq!(r[0].value, "A@X.FR", "the untouched element keeps the remote's own writing");
    assert_eq!(r[1].kind, ValueKind::Home);
}

#[test]
fn reordering_emails_on_one_side_writes_nothing() {
    let cfg = open_config();
    let mut w = World::default();
    let id = w.crm.create(crm_fields("A", "B", &["a@x.fr", "b@x.fr", "c@x.fr"], &[], ""));
    let st = settle(&mut w, &cfg, "");
    let rid = linked(&st, &id);
    w.remote.edit(&rid, |c| c.emails.reverse());
    let o = run(&mut w, &cfg, &st, &Faults::default());
    assert!(o.error.is_none());
    assert_eq!(o.writes, 0, "order carries no meaning");
    assert_eq!(run(&mut w, &cfg, &o.state, &Faults::default()).writes, 0);
}

// ---------------------------------------------------------------------------------------
// What a side cannot represent

#[test]
fn a_remote_with_one_email_slot_gets_the_first_and_the_crm_keeps_the_others() {
    let mut cfg = open_config();
    cfg.capabilities.max_emails = Some(1);
    let mut w = World::default();
    let id = w.crm.create(crm_fields("Cap", "A", &["a@x.fr", "b@x.fr"], &[], ""));
    let st = settle(&mut w, &cfg, "");
    let rid = linked(&st, &id);
    let remote: Vec<&str> = w.remote.records[&rid].contact.emails.iter().map(|e| e.value.as_str()).collect();
    assert_eq!(remote, vec!["a@x.fr"]);
    assert_eq!(email_values(&w.crm.contacts[&id].fields["emails"]), vec!["a@x.fr", "b@x.fr"], "absence on the remote is not a removal");
    assert_eq!(run(&mut w, &cfg, &st, &Faults::default()).writes, 0);
    // A third address added in the CRM: the preview says what does not fit.
    w.crm.set(&id, "emails", json!([{ "value": "a@x.fr", "type": "work" }, { "value": "b@x.fr", "type": "work" }, { "value": "c@x.fr", "type": "work" }]));
    let o = run(&mut w, &cfg, &st, &Faults::default());
    let notices = o.summary.unwrap().notices;
    assert!(notices.iter().any(|n| n.contains("cannot be stored")), "{notices:?}");
    assert_eq!(email_values(&w.crm.contacts[&id].fields["emails"]).len(), 3);
}

#[test]
fn a_remote_with_one_email_slot_keeps_the_primary_and_the_crm_keeps_the_others() {
    let mut cfg = open_config();
    cfg.capabilities.max_emails = Some(1);
    let mut w = World::default();
    let mut f = crm_fields("Cap", "B", &[], &[], "");
    f.insert("emails".into(), json!([{ "value": "home@x.fr", "type": "home" }, { "value": "work@x.fr", "type": "work", "primary": true }]));
    let id = w.crm.create(f);
    let st = settle(&mut w, &cfg, "");
    let rid = linked(&st, &id);
    let remote: Vec<&str> = w.remote.records[&rid].contact.emails.iter().map(|e| e.value.as_str()).collect();
    assert_eq!(remote, vec!["work@x.fr"], "primary first");
    assert_eq!(email_values(&w.crm.contacts[&id].fields["emails"]), vec!["home@x.fr", "work@x.fr"], "the CRM keeps what the remote cannot hold");
    assert_eq!(run(&mut w, &cfg, &st, &Faults::default()).writes, 0);
}

// ---------------------------------------------------------------------------------------
// Matching

#[test]
fn matching_order_is_carried_crm_id_then_email_then_phone() {
    let mut cfg = open_config();
    cfg.spoke_id = "g1".into();
    cfg.id_key = IdKey::from_bytes(&[9; 32]);
    // 1. The CRM id carried on a remote copy, signed by this plugin, beats a shared e-mail.
    let world = |carried: &dyn Fn(&str) -> String| {
        let mut w = World::default();
        let c1 = w.crm.create(crm_fields("One", "A", &["one@x.fr"], &[], ""));
        let c2 = w.crm.create(crm_fields("Two", "B", &["two@x.fr"], &[], ""));
        let r = w.remote.create(remote_contact("One", "A", &["two@x.fr"], &[], ""));
        w.remote.records.get_mut(&r).unwrap().crm_id = Some(carried(&c1));
        (w, c1, c2, r)
    };
    let (mut w, c1, c2, r) = world(&|c| carried_id::token(cfg.id_key.as_ref(), "g1", c));
    let o = run(&mut w, &cfg, "", &Faults::default());
    assert_eq!(SpokeState::from_json(&o.state).unwrap().remote_of(&c1), Some(r.as_str()));
    let s = o.summary.unwrap();
    assert_eq!((s.counts.linked_by_id, s.counts.linked_by_email), (1, 0));
    assert_ne!(SpokeState::from_json(&o.state).unwrap().remote_of(&c2), Some(r.as_str()));
    // The same id unsigned (an earlier version's, or anyone's) does not: the copy's e-mail
    // is c2's, not c1's, so e-mail matching decides.
    let (mut w, c1, c2, r) = world(&|c| c.to_string());
    let o = run(&mut w, &cfg, "", &Faults::default());
    let st = SpokeState::from_json(&o.state).unwrap();
    assert_eq!(st.remote_of(&c2), Some(r.as_str()));
    assert_ne!(st.remote_of(&c1), Some(r.as_str()), "c1 gets a copy of its own");

    // 2. A shared e-mail beats a shared phone.
    let mut w = World::default();
    let c = w.crm.create(crm_fields("Em", "P", &["em@x.fr"], &["06 12 34 56 78"], ""));
    let by_email = w.remote.create(remote_contact("Em", "P", &["EM@x.fr"], &[], ""));
    w.remote.create(remote_contact("Other", "Q", &[], &["+33 6 12 34 56 78"], ""));
    let o = run(&mut w, &cfg, "", &Faults::default());
    assert_eq!(SpokeState::from_json(&o.state).unwrap().remote_of(&c), Some(by_email.as_str()));
    assert_eq!(o.summary.unwrap().counts.linked_by_email, 1);

    // 3. No e-mail: the E.164 phone links, whatever the formatting.
    let mut w = World::default();
    let c = w.crm.create(crm_fields("Ph", "O", &[], &["06 98 76 54 32"], ""));
    let rr = w.remote.create(remote_contact("Ph", "O", &[], &["+33 6 98 76 54 32"], ""));
    let o = run(&mut w, &cfg, "", &Faults::default());
    assert_eq!(SpokeState::from_json(&o.state).unwrap().remote_of(&c), Some(rr.as_str()));
    assert_eq!(o.summary.unwrap().counts.linked_by_phone, 1);
    assert_eq!((w.crm.contacts.len(), w.remote.records.len()), (1, 1));
}

#[test]
fn a_decision_about_a_contact_the_run_did_not_read_waits_for_a_run_that_does() {
    let cfg = open_config();
    let mut w = World::default();
    let c = w.crm.create(crm_fields("Lou", "Roux", &["accueil@roux.fr"], &[], ""));
    let r1 = w.remote.create(remote_contact("Lou", "Roux", &["accueil@roux.fr"], &[], ""));
    w.remote.create(remote_contact("Max", "Roux", &["accueil@roux.fr"], &[], ""));
    let st = run(&mut w, &cfg, "", &Faults::default()).state;
    let decisions = vec![
        contact_sync::engine::held::Decision::Link { crm_id: c.clone(), remote_id: r1.clone() },
        contact_sync::engine::held::Decision::Ignore { side: Side::Crm, id: "c404".into() },
    ];
    // An incremental run that reads the CRM contact but not the cards (their fetch is not
    // answered): the link waits, the decision about no held contact is settled as stale.
    let mut s = SyncSession::new(cfg.clone(), SpokeState::from_json(&st).unwrap()).unwrap();
    s.handle_decisions(decisions.clone());
    s.handle_crm_page(vec![w.crm.contacts[&c].clone()], Listing::Incremental);
    s.handle_crm_listing_done(&w.crm.seq.to_string(), Listing::Incremental);
    s.handle_remote_listing_done(&w.remote.seq.to_string(), Listing::Incremental);
    assert!(s.poll_fetch().remote_ids.contains(&r1), "held contacts are read every run");
    let plan = s.plan().unwrap();
    assert!(plan.is_empty());
    assert_eq!(s.settled_decisions(), vec![decisions[1].clone()]);
    assert!(plan.summary.notices.iter().any(|n| n.contains("c404")), "{:?}", plan.summary.notices);
    assert_eq!(s.checkpoint().held.len(), 1, "still held");
    // The next run reads them all: the link is made.
    let mut s = listed(&w, &cfg, &s.checkpoint().to_json(), false);
    s.handle_decisions(vec![decisions[0].clone()]);
    let plan = s.plan().unwrap();
    assert_eq!(plan.summary.counts.decided, 1);
    assert_eq!(s.state().remote_of(&c), Some(r1.as_str()));
    assert_eq!(s.settled_decisions(), vec![decisions[0].clone()]);
}

// ---------------------------------------------------------------------------------------
// Do not contact, filters, switches, hub-and-spoke

#[test]
fn do_not_contact_is_mapped_newest_wins_and_a_set_flag_is_never_lost() {
    let row = default_mapping().into_iter().find(|r| r.crm_field == "doNotContact").expect("mapped by default");
    assert_eq!((row.direction, row.priority), (Direction::Both, Priority::Newest));
    let cfg = open_config();
    let mut w = World::default();
    // First match: the CRM's "do not contact" survives an older-looking "false" remote.
    let mut f = crm_fields("D", "N", &["dnc@x.fr"], &[], "");
    f.insert("doNotContact".into(), json!(true));
    let id = w.crm.create(f);
    let rid = w.remote.create(remote_contact("D", "N", &["dnc@x.fr"], &[], ""));
    let st = settle(&mut w, &cfg, "");
    assert!(w.remote.records[&rid].contact.do_not_contact);
    // Lifted on the remote: reaches the CRM.
    w.remote.edit(&rid, |c| c.do_not_contact = false);
    let st = settle(&mut w, &cfg, &st);
    assert_eq!(w.crm.contacts[&id].fields["doNotContact"], json!(false));
    // Set again in the CRM: reaches the remote.
    w.crm.set(&id, "doNotContact", json!(true));
    settle(&mut w, &cfg, &st);
    assert!(w.remote.records[&rid].contact.do_not_contact);
}

#[test]
fn export_filter_by_list_with_a_valid_mobile_required() {
    let mut cfg = open_config();
    cfg.filter.mode = FilterMode::Lists;
    cfg.filter.lists = vec!["l1".into()];
    cfg.filter.valid_mobile_only = true;
    let mut w = World::default();
    let ok = w.crm.create(crm_fields("In", "Mobile", &["in@x.fr"], &["06 12 34 56 78"], ""));
    let landline = w.crm.create(crm_fields("In", "Landline", &["ll@x.fr"], &["01 42 68 53 00"], ""));
    let outside = w.crm.create(crm_fields("Out", "Mobile", &["out@x.fr"], &["07 81 23 45 67"], ""));
    for id in [&ok, &landline] {
        w.crm.contacts.get_mut(id).unwrap().lists = vec!["l1".into()];
    }
    let _ = outside;
    let plan = listed(&w, &cfg, "", false).plan().unwrap();
    assert_eq!(plan.summary.counts.skipped_by_filter, 2);
    assert_eq!(plan.writes.len(), 1);
    let o = run(&mut w, &cfg, "", &Faults::default());
    assert!(o.error.is_none());
    let families: Vec<&str> = w.remote.records.values().map(|r| r.contact.name.family.as_str()).collect();
    assert_eq!(families, vec!["Mobile"]);
    let carried = w.remote.records.values().next().unwrap().crm_id.clone().unwrap();
    assert_eq!(carried_id::read(cfg.id_key.as_ref(), &cfg.spoke_id, &carried), carried_id::Carried::Signed(ok.as_str()));
}

#[test]
fn without_allow_create_the_hub_creates_nothing_in_the_spoke_but_still_links_and_imports() {
    let mut cfg = open_config();
    cfg.allow_create = false;
    let mut w = World::default();
    let both = w.crm.create(crm_fields("Both", "Sides", &["both@x.fr"], &[], ""));
    w.crm.create(crm_fields("Crm", "Only", &["crm@x.fr"], &[], ""));
    let rid = w.remote.create(remote_contact("Both", "Sides", &["both@x.fr"], &[], ""));
    w.remote.create(remote_contact("Remote", "Only", &["remote@x.fr"], &[], ""));
    let st = settle(&mut w, &cfg, "");
    assert_eq!(w.remote.records.len(), 2, "nothing created in the spoke");
    assert_eq!(w.crm.contacts.len(), 3, "the spoke's contact was imported");
    assert_eq!(linked(&st, &both), rid);
    w.crm.set(&both, "lastName", json!("Edited"));
    let st = settle(&mut w, &cfg, &st);
    assert_eq!(w.remote.records[&rid].contact.name.family, "Edited", "linked pairs still sync");
    assert_eq!(w.remote.records.len(), 2);
    assert_eq!(run(&mut w, &cfg, &st, &Faults::default()).writes, 0);
}

#[test]
fn a_read_only_crm_field_is_never_written_and_a_mapping_into_it_is_refused() {
    let schema = vec![
        CrmFieldSchema { id: "firstName".into(), label: "First".into(), field_type: CrmFieldType::Text, custom: false, read_only: false },
        CrmFieldSchema { id: "emails".into(), label: "E-mails".into(), field_type: CrmFieldType::EmailList, custom: false, read_only: false },
        CrmFieldSchema { id: "company".into(), label: "Company".into(), field_type: CrmFieldType::Text, custom: false, read_only: true },
    ];
    let row = |c: &str, r: &str, d: Direction| FieldMappingRow { crm_field: c.into(), remote_field: r.into(), direction: d, priority: Priority::Newest, fill_empty: false };
    let refused = vec![row("firstName", "name.given", Direction::Both), row("emails", "emails", Direction::Both), row("company", "organization.name", Direction::Both)];
    assert_eq!(check_rows(&refused, &schema).len(), 1, "{:?}", check_rows(&refused, &schema));
    let mut cfg = open_config();
    cfg.crm_schema = schema.clone();
    cfg.fields = refused;
    let e = SyncSession::new(cfg.clone(), SpokeState::new()).err().expect("refused");
    assert_eq!(e.code, "INVALID_SETTINGS");
    assert!(!e.remedy.is_empty());
    // Allowed one way: the remote's edits never reach the read-only field.
    cfg.fields = vec![row("firstName", "name.given", Direction::Both), row("emails", "emails", Direction::Both), row("company", "organization.name", Direction::ToRemote)];
    let mut w = World::default();
    let mut f = crm_fields("Ro", "", &["ro@x.fr"], &[], "");
    f.insert("company".into(), json!("Acme"));
    let id = w.crm.create(f);
    let st = settle(&mut w, &cfg, "");
    let rid = linked(&st, &id);
    assert_eq!(w.remote.records[&rid].contact.organization.name, "Acme");
    let crm_writes = w.crm.writes;
    w.remote.edit(&rid, |c| c.organization.name = "Other".into());
    settle(&mut w, &cfg, &st);
    assert_eq!(w.crm.contacts[&id].fields["company"], json!("Acme"));
    assert_eq!(w.crm.writes, crm_writes);
}

#[test]
fn a_runs_report_counts_each_skipped_contact_and_each_ambiguity_once() {
    let mut cfg = open_config();
    cfg.filter.mode = FilterMode::Tags;
    cfg.filter.tags = vec!["sync".into()];
    let mut w = World::default();
    w.crm.create(crm_fields("Not", "Tagged", &["nt@x.fr"], &[], ""));
    for last in ["One", "Two"] {
        let id = w.crm.create(crm_fields("Amb", last, &["amb@x.fr"], &[], ""));
        w.crm.contacts.get_mut(&id).unwrap().tags = vec!["sync".into()];
    }
    w.remote.create(remote_contact("Amb", "R", &["amb@x.fr"], &[], ""));
    // One write, so the runner plans a second round.
    w.remote.create(remote_contact("New", "Here", &["new@x.fr"], &[], ""));
    let o = run(&mut w, &cfg, "", &Faults::default());
    assert_eq!(o.writes, 2, "the import, then its CRM id stamped on the remote copy");
    let s = o.summary.unwrap();
    assert_eq!(s.counts.ambiguous, 1, "{:?}", s.ambiguities);
    assert_eq!(s.ambiguities.len(), 1);
    assert_eq!(s.counts.skipped_by_filter, 1, "{:?}", s.counts);
}

// ---------------------------------------------------------------------------------------
// The plan: determinism, batches, versions, preview

/// A world with creates on both sides, a link by e-mail with a conflict, and an ambiguity.
fn busy_world() -> World {
    let mut w = World::default();
    for i in 0..5 {
        w.crm.create(crm_fields("Crm", &format!("N{i}"), &[&format!("c{i}@x.fr")], &[], ""));
    }
    for i in 0..3 {
        w.remote.create(remote_contact("Rem", &format!("N{i}"), &[&format!("r{i}@x.fr")], &[], ""));
    }
    w.crm.create(crm_fields("Ana", "Link", &["link@x.fr"], &[], ""));
    w.remote.create(remote_contact("Anna", "Link", &["LINK@x.fr"], &[], ""));
    w.crm.create(crm_fields("Amb", "One", &["amb@x.fr"], &[], ""));
    w.crm.create(crm_fields("Amb", "Two", &["amb@x.fr"], &[], ""));
    w.remote.create(remote_contact("Amb", "R", &["amb@x.fr"], &[], ""));
    w
}

#[test]
fn the_plan_is_the_same_whatever_the_page_order() {
    let cfg = open_config();
    let w = busy_world();
    let a = listed(&w, &cfg, "", false).plan().unwrap();
    let b = listed(&w, &cfg, "", true).plan().unwrap();
    assert!(!a.is_empty());
    assert_eq!(a, b);
}

#[test]
fn batches_cut_each_sides_writes_in_plan_order() {
    let cfg = open_config();
    let w = busy_world();
    let plan = listed(&w, &cfg, "", false).plan().unwrap();
    let remote: Vec<u32> = plan.writes.iter().filter(|x| x.op.side() == Side::Remote).map(|x| x.id).collect();
    let crm: Vec<u32> = plan.writes.iter().filter(|x| x.op.side() == Side::Crm).map(|x| x.id).collect();
    assert!(crm.len() >= 3 && remote.len() >= 5, "3 imports, 5 exports at least");
    let b = plan.batches(Side::Remote, 4);
    let sizes: Vec<usize> = b.iter().map(Vec::len).collect();
    assert!(sizes.iter().all(|n| *n <= 4) && sizes.iter().rev().skip(1).all(|n| *n == 4), "{sizes:?}");
    assert!(b.iter().flatten().all(|x| x.op.side() == Side::Remote));
    assert_eq!(b.iter().flatten().map(|x| x.id).collect::<Vec<_>>(), remote);
    assert_eq!(plan.batches(Side::Crm, 0).len(), crm.len(), "a size of 0 is taken as 1");
    assert_eq!(plan.batches(Side::Crm, 0).iter().flatten().map(|x| x.id).collect::<Vec<_>>(), crm);
}

#[test]
fn the_preview_counts_creates_links_conflicts_and_ambiguities_with_samples() {
    let cfg = open_config();
    let w = busy_world();
    let plan = listed(&w, &cfg, "", false).plan().unwrap();
    let s = &plan.summary;
    assert_eq!((s.counts.remote.created, s.counts.crm.created), (5, 3));
    assert_eq!((s.counts.linked_by_email, s.counts.ambiguous, s.counts.conflicts), (1, 1, 1));
    assert_eq!(s.ambiguities[0].crm_ids.len(), 2);
    assert!(!s.ambiguities[0].reason.is_empty());
    let c = &s.conflicts[0];
    assert_eq!((c.crm_value.clone(), c.remote_value.clone()), (json!("Ana"), json!("Anna")));
    assert!(s.samples.iter().any(|x| x.action == "create" && x.side == Side::Remote));
    assert!(s.samples.iter().any(|x| x.action == "create" && x.side == Side::Crm));
    assert!(s.samples.iter().any(|x| x.action == "link"));
}

#[test]
fn a_write_computed_against_an_old_version_is_refused_and_both_edits_survive() {
    let cfg = open_config();
    let mut w = World::default();
    let id = w.crm.create(crm_fields("Ver", "Old", &["ver@x.fr"], &[], ""));
    let st = settle(&mut w, &cfg, "");
    let rid = linked(&st, &id);
    let base_before = SpokeState::from_json(&st).unwrap().links[&id].base.clone();
    w.remote.edit(&rid, |c| c.name.family = "FromRemote".into());
    let mut s = listed(&w, &cfg, &st, false);
    let plan = s.plan().unwrap();
    assert_eq!(plan.writes.len(), 1);
    let WriteOp::CrmUpdate { crm_id, expected_version, .. } = &plan.writes[0].op else { panic!("{:?}", plan.writes) };
    assert_eq!((crm_id.as_str(), *expected_version), (id.as_str(), w.crm.contacts[&id].version));
    // A person edits the CRM contact between the plan and the write: the CRM refuses it.
    w.crm.set(&id, "firstName", json!("FromPerson"));
    assert_ne!(w.crm.contacts[&id].version, *expected_version);
    s.handle_write_result(plan.writes[0].id, WriteResult::Failed(EngineError::new("CONFLICT", "version moved on", "Run again.")));
    let after = s.checkpoint();
    assert_eq!(after.links[&id].base, base_before, "a refused write changes no base");
    assert!(after.dirty_crm.contains(&id), "the pair is looked at again");
    let st = settle(&mut w, &cfg, &after.to_json());
    assert_eq!(w.crm.contacts[&id].fields["firstName"], json!("FromPerson"));
    assert_eq!(w.crm.contacts[&id].fields["lastName"], json!("FromRemote"));
    assert_eq!(w.remote.records[&rid].contact.name.given, "FromPerson");
    converged(&w, &cfg, &st).unwrap();
}

// ---------------------------------------------------------------------------------------
// State: checkpoints, versions, migrations

#[test]
fn a_checkpoint_holds_only_confirmed_writes() {
    let cfg = open_config();
    let mut w = World::default();
    let id = w.crm.create(crm_fields("Cp", "A", &["cp@x.fr"], &[], ""));
    let mut s = listed(&w, &cfg, "", false);
    let plan = s.plan().unwrap();
    let WriteOp::RemoteCreate { record, .. } = &plan.writes[0].op else { panic!("{:?}", plan.writes) };
    let record = record.clone();
    // Planned, not reported: no link, no cursor, an intent to re-link by the carried id.
    let cp = s.checkpoint();
    assert!(cp.links.is_empty());
    assert_eq!((cp.crm_cursor.as_deref(), cp.remote_cursor.as_deref()), (None, None));
    assert!(cp.pending.contains(&PendingCreate::Remote { crm_id: id.clone() }));
    // Failed: still no link; the contact is looked at again.
    s.handle_write_result(plan.writes[0].id, WriteResult::Failed(EngineError::new("NETWORK", "offline", "Retry.").retryable()));
    let cp = s.checkpoint();
    assert!(cp.links.is_empty());
    assert!(cp.dirty_crm.contains(&id));
    // The next run creates it exactly once.
    let st = settle(&mut w, &cfg, &cp.to_json());
    assert_eq!(w.remote.records.len(), 1);
    one_to_one(&w, &st).unwrap();
    // Confirmed: the link is in the checkpoint, with the server's id.
    let mut w2 = World::default();
    w2.crm.create(crm_fields("Cp", "A", &["cp@x.fr"], &[], ""));
    let mut s2 = listed(&w2, &cfg, "", false);
    let plan2 = s2.plan().unwrap();
    let created = contact_sync::engine::RemoteRecord { id: "people/server-chosen".into(), etag: "e9".into(), ..record };
    s2.handle_write_result(plan2.writes[0].id, WriteResult::Remote(created));
    assert_eq!(s2.checkpoint().remote_of(&id), Some("people/server-chosen"));
}

#[test]
fn the_journal_keeps_the_remote_record_each_update_was_planned_against() {
    let cfg = open_config();
    let mut w = World::default();
    let id = w.crm.create(crm_fields("Jo", "Urnal", &["jo@x.fr"], &[], ""));
    let st = settle(&mut w, &cfg, "");
    let rid = linked(&st, &id);
    w.crm.set(&id, "jobTitle", json!("Acheteuse"));
    let planned = w.remote.records[&rid].clone();
    for page_between in [false, true] {
        let mut s = listed(&w, &cfg, &st, false);
        let plan = s.plan().unwrap();
        let write = plan.writes.iter().find(|x| matches!(x.op, WriteOp::RemoteUpdate { .. })).expect("an update of the remote copy");
        let WriteOp::RemoteUpdate { record, .. } = &write.op else { unreachable!() };
        if page_between {
            // A later copy arrives before the write is reported (the runner never does
            // this, the session's API allows it): the journal still holds the planned one.
            let later = RemoteRecord { etag: "e-later".into(), contact: Contact { note: "later".into(), ..planned.contact.clone() }, ..planned.clone() };
            s.handle_remote_page(vec![later], Listing::Fetched);
        }
        let confirmed = RemoteRecord { etag: "e-after".into(), ..record.clone() };
        s.handle_write_result(write.id, WriteResult::Remote(confirmed.clone()));
        let updates: Vec<(RemoteRecord, RemoteRecord)> = s
            .journal()
            .records
            .iter()
            .filter_map(|r| match r {
                JournalRecord::RemoteUpdated { before, after } => Some((before.clone(), after.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(updates, vec![(planned.clone(), confirmed)], "a page between the plan and the report: {page_between}");
    }
}

#[test]
fn a_version_one_state_migrates_and_merges_like_a_first_match() {
    let cfg = open_config();
    let mut w = World::default();
    let mut f = crm_fields("Mig", "Rate", &["mig@x.fr"], &[], "");
    f.insert("company".into(), json!("Acme"));
    let id = w.crm.create(f);
    let mut rc = remote_contact("Mig", "Rate", &["mig@x.fr"], &[], "");
    rc.organization.title = "CTO".into();
    let rid = w.remote.create(rc);
    let v1 = format!(r#"{{"v":1,"links":{{"{id}":"{rid}"}}}}"#);
    let st = SpokeState::from_json(&v1).unwrap();
    assert_eq!(st.v, 2);
    assert_eq!(st.remote_of(&id), Some(rid.as_str()));
    let st = settle(&mut w, &cfg, &st.to_json());
    // Nothing lost on either side, nothing duplicated.
    assert_eq!(w.crm.contacts[&id].fields["jobTitle"], json!("CTO"));
    assert_eq!(w.remote.records[&rid].contact.organization.name, "Acme");
    assert_eq!((w.crm.contacts.len(), w.remote.records.len()), (1, 1));
    converged(&w, &cfg, &st).unwrap();
}

#[test]
fn a_state_from_a_newer_plugin_or_a_corrupt_one_is_refused_with_a_remedy() {
    for text in [r#"{"v":3,"links":{}}"#, "{not json", r#"{"v":2,"links":{"c1":{"cv":"x"}}}"#] {
        let e = SpokeState::from_json(text).expect_err(text);
        assert_eq!(e.code, "STORAGE", "{text}");
        assert!(!e.remedy.is_empty(), "{text}");
    }
    // The current form round-trips byte for byte.
    let cfg = open_config();
    let mut w = World::default();
    w.crm.create(crm_fields("Rt", "A", &["rt@x.fr"], &["06 12 34 56 78"], ""));
    let st = settle(&mut w, &cfg, "");
    assert_eq!(SpokeState::from_json(&st).unwrap().to_json(), st);
}

#[test]
fn the_stored_state_holds_hashes_not_contact_values() {
    let cfg = open_config();
    let mut w = World::default();
    let mut f = crm_fields("Hortense", "Quesnel", &["Hortense.Quesnel@Example.FR"], &["06 12 34 56 78"], "Rencontrée à Lyon");
    f.insert("company".into(), json!("Boulangerie Quesnel"));
    w.crm.create(f);
    let st = settle(&mut w, &cfg, "");
    for needle in ["Hortense", "hortense", "Quesnel", "quesnel", "0612345678", "+33612345678", "Lyon", "Boulangerie", "example.fr"] {
        assert!(!st.contains(needle), "{needle} in {st}");
    }
}

// ---------------------------------------------------------------------------------------
// Compare normalized, write original

#[test]
fn values_are_written_as_typed_on_the_side_they_came_from() {
    let cfg = open_config();
    let mut w = World::default();
    let id = w.crm.create(crm_fields("Élodie", "Typed", &["Elodie.Typed@Example.FR"], &["06 12 34 56 78"], ""));
    let rid = w.remote.create(remote_contact("Rémi", "Typed", &["Remi@Example.FR"], &["+33 7 81 23 45 67"], ""));
    let st = settle(&mut w, &cfg, "");
    let out = &w.remote.records[&linked(&st, &id)].contact;
    assert_eq!((out.emails[0].value.as_str(), out.phones[0].value.as_str()), ("Elodie.Typed@Example.FR", "06 12 34 56 78"));
    let back = w.crm.contacts.values().find(|c| c.fields.get("firstName") == Some(&json!("Rémi"))).expect("imported");
    assert_eq!(back.fields["emails"][0]["value"], json!("Remi@Example.FR"));
    assert_eq!(back.fields["phones"][0]["value"], json!("+33 7 81 23 45 67"));
    let _ = rid;
}

// ---------------------------------------------------------------------------------------
// Guards and the lease

#[test]
fn the_default_delete_share_is_ten_percent() {
    let cfg = SyncConfig { deletion: DeletionPolicy::Propagate, ..SyncConfig::default() };
    assert_eq!(cfg.max_delete_share, 0.1);
    let mut w = World::default();
    for i in 0..10 {
        w.crm.create(crm_fields("G", &format!("{i}"), &[&format!("g{i}@x.fr")], &[], ""));
    }
    let st = settle(&mut w, &cfg, "");
    let ids: Vec<String> = w.crm.contacts.keys().cloned().collect();
    let mut two = w.clone();
    two.crm.delete(&ids[0]);
    two.crm.delete(&ids[1]);
    let o = run(&mut two, &cfg, &st, &Faults::default());
    assert_eq!(o.error.map(|e| e.code), Some("GUARD_TRIPPED".to_string()), "2 of 10 is over 10%");
    assert_eq!(two.remote.records.len(), 10);
    w.crm.delete(&ids[0]);
    let o = run(&mut w, &cfg, &st, &Faults::default());
    assert!(o.error.is_none(), "1 of 10 is within 10%");
    assert_eq!(w.remote.records.len(), 9);
}

#[test]
fn a_lease_is_renewed_and_released_only_by_its_holder() {
    let mine = Lease { run_id: "me".into(), expires_at: 5_000 };
    let other = Lease { run_id: "other".into(), expires_at: 5_000 };
    // Our own live lease may be taken again (a resumed run); another's may not.
    assert!(matches!(acquire(Some(mine.clone()), "me", 1_000, 60_000), LeaseDecision::Acquire { .. }));
    assert!(matches!(acquire(Some(other.clone()), "me", 1_000, 60_000), LeaseDecision::AlreadyRunning { .. }));
    let LeaseDecision::Acquire { lease, .. } = acquire(None, "me", 1_000, 60_000) else { panic!() };
    assert_eq!(lease.expires_at, 61_000);
    let (expected, renewed) = renew(Some(&mine), "me", 4_000, 60_000).expect("ours");
    assert_eq!((expected, renewed.expires_at), (mine.clone(), 64_000));
    assert!(renew(Some(&other), "me", 4_000, 60_000).is_none(), "lost to another run: stop writing");
    assert!(renew(None, "me", 4_000, 60_000).is_none());
    assert!(is_ours(Some(&mine), "me"));
    assert!(!is_ours(Some(&other), "me"));
    assert!(!is_ours(None, "me"));
}

#[test]
fn the_stored_lease_refuses_a_live_one_takes_over_an_expired_one_and_is_released() {
    use contact_sync::host::{Host, MemoryHost};
    use contact_sync::runner::StoredLease;
    use pollster::block_on;
    let host = MemoryHost::new();
    let key = "spoke.s1.lease".to_string();
    let mut a = block_on(StoredLease::take(&host, "s1", "run-a")).unwrap().expect("free");
    assert!(block_on(StoredLease::take(&host, "s1", "run-b")).unwrap().is_none(), "already running");
    // run-a crashed: once its lease has expired, another run takes it over.
    host.advance(StoredLease::TTL_MS as f64 + 1.0);
    let mut b = block_on(StoredLease::take(&host, "s1", "run-b")).unwrap().expect("an expired lease is taken over");
    assert!(!block_on(a.renew(&host)).unwrap(), "the crashed run, back, cannot renew");
    assert!(block_on(b.renew(&host)).unwrap());
    block_on(a.release(&host)).unwrap();
    assert!(block_on(StoredLease::take(&host, "s1", "run-c")).unwrap().is_none(), "releasing a lost lease leaves the holder's");
    block_on(b.release(&host)).unwrap();
    let stored = block_on(host.storage_get(std::slice::from_ref(&key))).unwrap();
    assert!(stored.get(&key).is_none_or(|v| v.is_null()), "{stored:?}");
    assert!(block_on(StoredLease::take(&host, "s1", "run-c")).unwrap().is_some());
}

#[test]
fn every_default_mapped_field_crosses_both_ways_with_no_configuration() {
    let cfg = SyncConfig { deletion: DeletionPolicy::Propagate, ..SyncConfig::default() };
    assert!(cfg.fields.is_empty(), "the default mapping is used");
    let mut w = World::default();
    let mut f = crm_fields("Jeanne", "Martin", &["jeanne@x.fr"], &["06 12 34 56 78"], "Vue au salon.");
    for (k, v) in [("middleName", json!("Claire")), ("prefix", json!("Dr")), ("suffix", json!("PhD")), ("company", json!("Acme")), ("jobTitle", json!("CTO")), ("department", json!("R&D")), ("birthday", json!("1990-05-17")), ("website", json!("https://acme.example")), ("doNotContact", json!(true))] {
        f.insert(k.into(), v);
    }
    f.insert("addresses".into(), json!([{ "street": "12 rue de la Paix", "city": "Paris", "postalCode": "75002", "country": "France", "type": "work" }]));
    let id = w.crm.create(f);
    let mut rc = remote_contact("Rémi", "Durand", &["remi@x.fr"], &["+33 7 81 23 45 67"], "Client depuis 2019.");
    rc.name.middle = "Paul".into();
    rc.name.prefix = "M.".into();
    rc.name.suffix = "Jr".into();
    rc.organization = contact_sync::engine::Organization { name: "Bâtir".into(), title: "Gérant".into(), department: "Ventes".into() };
    rc.birthday = "--03-14".into();
    rc.urls = vec![contact_sync::engine::Url { value: "https://batir.example".into(), kind: ValueKind::Work }];
    rc.addresses = vec![contact_sync::engine::Address { street: "3 quai Gailleton".into(), city: "Lyon".into(), postal_code: "69002".into(), country: "France".into(), kind: ValueKind::Home, ..Default::default() }];
    rc.do_not_contact = true;
    let rid = w.remote.create(rc.clone());
    let st = settle(&mut w, &cfg, "");
    // CRM → remote: every field.
    let out = &w.remote.records[&linked(&st, &id)].contact;
    assert_eq!((out.name.given.as_str(), out.name.middle.as_str(), out.name.family.as_str(), out.name.prefix.as_str(), out.name.suffix.as_str()), ("Jeanne", "Claire", "Martin", "Dr", "PhD"));
    assert_eq!((out.organization.name.as_str(), out.organization.title.as_str(), out.organization.department.as_str()), ("Acme", "CTO", "R&D"));
    assert_eq!((out.note.as_str(), out.birthday.as_str(), out.urls[0].value.as_str()), ("Vue au salon.", "1990-05-17", "https://acme.example"));
    assert_eq!((out.emails[0].value.as_str(), out.phones[0].value.as_str(), out.addresses[0].city.as_str()), ("jeanne@x.fr", "06 12 34 56 78", "Paris"));
    assert!(out.do_not_contact);
    // Remote → CRM: every field.
    let back = w.crm.contacts.values().find(|c| c.id != id).expect("imported");
    let f = &back.fields;
    for (k, v) in [("firstName", "Rémi"), ("middleName", "Paul"), ("lastName", "Durand"), ("prefix", "M."), ("suffix", "Jr"), ("company", "Bâtir"), ("jobTitle", "Gérant"), ("department", "Ventes"), ("notes", "Client depuis 2019."), ("birthday", "--03-14"), ("website", "https://batir.example")] {
        assert_eq!(f.get(k), Some(&json!(v)), "{k}: {f:?}");
    }
    assert_eq!(f["doNotContact"], json!(true));
    assert_eq!((f["emails"][0]["value"].clone(), f["phones"][0]["value"].clone(), f["addresses"][0]["city"].clone()), (json!("remi@x.fr"), json!("+33 7 81 23 45 67"), json!("Lyon")));
    assert_eq!(w.remote.records[&rid].contact.name.given, "Rémi");
    converged(&w, &cfg, &st).unwrap();
    assert_eq!(run(&mut w, &cfg, &st, &Faults::default()).writes, 0);
}

#[test]
fn a_failed_crm_listing_is_never_read_as_deletions() {
    let cfg = open_config();
    let mut w = World::default();
    for i in 0..3 {
        w.crm.create(crm_fields("L", &format!("{i}"), &[&format!("l{i}@x.fr")], &[], ""));
    }
    let st = settle(&mut w, &cfg, "");
    let mut s = SyncSession::new(cfg.clone(), SpokeState::from_json(&st).unwrap()).unwrap();
    // The CRM answered one page, then failed: what it did not list is not deleted.
    s.handle_crm_page(w.crm.list(None).into_iter().take(1).collect(), Listing::Full);
    s.handle_crm_listing_failed(EngineError::new("NETWORK", "the CRM did not answer", "Try again later.").retryable());
    s.handle_remote_page(w.remote.list(None), Listing::Full);
    s.handle_remote_listing_done(&w.remote.seq.to_string(), Listing::Full);
    let e = s.plan().expect_err("a failed listing stops the run");
    assert_eq!(e.code, "NETWORK");
    let cp = s.checkpoint();
    assert_eq!(cp.to_json(), st, "nothing recorded, cursors kept");
    assert_eq!(run(&mut w, &cfg, &st, &Faults::default()).writes, 0);
    assert_eq!((w.crm.contacts.len(), w.remote.records.len()), (3, 3));
}

#[test]
fn one_way_fields_never_flow_backwards_on_later_runs() {
    let mut cfg = open_config();
    cfg.fields = rows_with(|r| match r.crm_field.as_str() {
        "lastName" => r.direction = Direction::ToRemote,
        "firstName" => r.direction = Direction::ToCrm,
        _ => {}
    });
    let mut w = World::default();
    let id = w.crm.create(crm_fields("CrmGiven", "Last", &["ow@x.fr"], &[], ""));
    let rid = w.remote.create(remote_contact("First", "RemoteFamily", &["ow@x.fr"], &[], ""));
    let st = settle(&mut w, &cfg, "");
    assert_eq!(linked(&st, &id), rid);
    // First match: each field came from its source side.
    assert_eq!(w.crm.contacts[&id].fields["firstName"], json!("First"));
    assert_eq!(w.remote.records[&rid].contact.name.family, "Last");
    // Edits against the direction stay where they were made.
    w.remote.edit(&rid, |c| c.name.family = "RemoteLast".into());
    w.crm.set(&id, "firstName", json!("CrmFirst"));
    let st = settle(&mut w, &cfg, &st);
    assert_eq!(w.crm.contacts[&id].fields["lastName"], json!("Last"));
    assert_eq!(w.remote.records[&rid].contact.name.given, "First");
    // Edits along the direction cross.
    w.crm.set(&id, "lastName", json!("CrmLast"));
    w.remote.edit(&rid, |c| c.name.given = "RemoteFirst".into());
    let st = settle(&mut w, &cfg, &st);
    assert_eq!(w.remote.records[&rid].contact.name.family, "CrmLast");
    assert_eq!(w.crm.contacts[&id].fields["firstName"], json!("RemoteFirst"));
    assert_eq!(run(&mut w, &cfg, &st, &Faults::default()).writes, 0);
}
