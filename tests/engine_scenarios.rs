#![cfg(not(target_arch = "wasm32"))]
//! The scenarios that broke real sync tools (SYNC-INVARIANTS, "Scenarios"), one named test
//! each, on the simulated CRM and address book; plus the work-details note block, undo,
//! label mapping, identity moves, state migration and the run lease.

mod engine_support;

use contact_sync::engine::lease::{acquire, LeaseDecision};
use contact_sync::engine::mapping::{self, default_mapping, CrmLabelKind, CrmLabelRef, LabelMappingRow};
use contact_sync::engine::plan::WriteOp;
use contact_sync::engine::state::SpokeState;
use contact_sync::engine::DeletionPolicy;
use engine_support::*;
use serde_json::json;

fn linked(state: &str, crm_id: &str) -> String {
    SpokeState::from_json(state).unwrap().remote_of(crm_id).unwrap().to_string()
}

#[test]
fn s01_email_changed_on_one_side_keeps_the_link_and_creates_no_duplicate() {
    let cfg = open_config();
    let mut w = World::default();
    let id = w.crm.create(crm_fields("Ana", "Lima", &["ana@old.fr"], &[], ""));
    let st = run(&mut w, &cfg, "", &Faults::default()).state;
    let rid = linked(&st, &id);
    w.crm.set(&id, "emails", json!([{ "value": "ana@new.fr", "type": "work" }]));
    let st = run(&mut w, &cfg, &st, &Faults::default()).state;
    assert_eq!(linked(&st, &id), rid);
    assert_eq!(w.remote.records.len(), 1);
    assert_eq!(w.remote.records[&rid].contact.emails[0].value, "ana@new.fr");
}

#[test]
fn s02_the_id_the_server_assigns_is_the_one_kept() {
    let cfg = open_config();
    let mut w = World::default();
    let id = w.crm.create(crm_fields("Bo", "Ng", &["bo@x.fr"], &[], ""));
    let st = run(&mut w, &cfg, "", &Faults::default()).state;
    let rid = linked(&st, &id);
    assert!(w.remote.records.contains_key(&rid), "the link names the server's id");
    let again = run(&mut w, &cfg, &st, &Faults::default());
    assert_eq!(again.writes, 0, "no delete and re-upload");
}

#[test]
fn s03_incremental_pull_upserts_instead_of_inserting() {
    let cfg = open_config();
    let mut w = World::default();
    let rid = w.remote.create(remote_contact("Cy", "Ro", &["cy@x.fr"], &[], ""));
    let st = run(&mut w, &cfg, "", &Faults::default()).state;
    for n in 0..3 {
        w.remote.edit(&rid, |c| c.name.family = format!("Ro{n}"));
        let o = run(&mut w, &cfg, &st, &Faults::default());
        assert!(o.error.is_none());
    }
    assert_eq!(w.crm.contacts.len(), 1);
}

#[test]
fn s04_empty_failed_listing_or_lost_state_never_wipes_the_other_side() {
    let mut cfg = open_config();
    cfg.max_delete_share = 0.1;
    let mut w = World::default();
    for i in 0..5 {
        w.crm.create(crm_fields("D", &format!("{i}"), &[&format!("d{i}@x.fr")], &[], ""));
    }
    let st = run(&mut w, &cfg, "", &Faults::default()).state;
    let failed = run(&mut w, &cfg, &st, &Faults { remote_listing_fails: true, ..Faults::default() });
    assert_eq!(failed.error.unwrap().code, "BAD_RESPONSE");
    let mut wiped = w.clone();
    for id in wiped.remote.records.keys().cloned().collect::<Vec<_>>() {
        wiped.remote.delete(&id);
    }
    let o = run(&mut wiped, &cfg, &st, &Faults { full: true, ..Faults::default() });
    assert_eq!(o.error.unwrap().code, "GUARD_TRIPPED");
    assert_eq!(wiped.crm.contacts.len(), 5);
    // Lost state: the remote copies carry the CRM id, so everything re-links.
    let o = run(&mut w, &cfg, "", &Faults::default());
    assert!(o.error.is_none());
    assert_eq!((w.crm.contacts.len(), w.remote.records.len()), (5, 5));
    assert_eq!(o.summary.unwrap().counts.linked_by_id, 5);
}

#[test]
fn s05_expired_cursor_falls_back_to_a_full_listing_without_duplicates() {
    let cfg = open_config();
    let mut w = World::default();
    w.crm.create(crm_fields("E", "F", &["e@x.fr"], &[], ""));
    w.remote.create(remote_contact("G", "H", &["g@x.fr"], &[], ""));
    let st = run(&mut w, &cfg, "", &Faults::default()).state;
    let o = run(&mut w, &cfg, &st, &Faults { full: true, ..Faults::default() });
    assert_eq!(o.writes, 0);
    assert_eq!((w.crm.contacts.len(), w.remote.records.len()), (2, 2));
}

#[test]
fn s06_provider_reformatting_and_metadata_cause_no_updates() {
    let cfg = open_config();
    let mut w = World::default();
    w.remote.reformat_phones = true;
    let id = w.crm.create(crm_fields("I", "J", &["I.J@X.FR"], &["06 11 22 33 44"], ""));
    let st = run(&mut w, &cfg, "", &Faults::default()).state;
    let rid = linked(&st, &id);
    w.remote.edit(&rid, |c| c.emails[0].value = "i.j@x.fr".into()); // a new etag, same content
    let o = run(&mut w, &cfg, &st, &Faults::default());
    assert_eq!(o.writes, 0);
}

#[test]
fn s07_two_spokes_through_the_hub_never_duplicate() {
    let cfg_a = open_config();
    let cfg_b = open_config();
    let mut a = World::default();
    a.remote.create(remote_contact("K", "L", &["k@x.fr"], &[], ""));
    let st_a = run(&mut a, &cfg_a, "", &Faults::default()).state;
    // Spoke B shares the CRM.
    let mut b = World { crm: a.crm.clone(), remote: SimRemote::default() };
    let st_b = run(&mut b, &cfg_b, "", &Faults::default()).state;
    a.crm = b.crm.clone();
    let mut st_a2 = st_a;
    let mut st_b2 = st_b;
    for _ in 0..3 {
        st_a2 = run(&mut a, &cfg_a, &st_a2, &Faults::default()).state;
        b.crm = a.crm.clone();
        st_b2 = run(&mut b, &cfg_b, &st_b2, &Faults::default()).state;
        a.crm = b.crm.clone();
    }
    assert_eq!((a.crm.contacts.len(), a.remote.records.len(), b.remote.records.len()), (1, 1, 1));
}

#[test]
fn s08_clearing_a_field_propagates_and_no_placeholder_is_written() {
    let cfg = open_config();
    let mut w = World::default();
    let mut f = crm_fields("M", "N", &["m@x.fr"], &[], "");
    f.insert("company".into(), json!("Acme"));
    let id = w.crm.create(f);
    let st = run(&mut w, &cfg, "", &Faults::default()).state;
    let rid = linked(&st, &id);
    w.crm.set(&id, "company", json!(""));
    let st = run(&mut w, &cfg, &st, &Faults::default()).state;
    assert_eq!(w.remote.records[&rid].contact.organization.name, "");
    assert_eq!(run(&mut w, &cfg, &st, &Faults::default()).writes, 0);
}

#[test]
fn s09_created_locally_and_edited_remotely_before_the_next_run_survives() {
    let cfg = open_config();
    let mut w = World::default();
    let id = w.crm.create(crm_fields("O", "P", &["o@x.fr"], &[], ""));
    let st = run(&mut w, &cfg, "", &Faults::default()).state;
    let rid = linked(&st, &id);
    w.remote.edit(&rid, |c| c.name.family = "Pe".into());
    run(&mut w, &cfg, &st, &Faults::default());
    assert_eq!(w.crm.contacts[&id].fields["lastName"], json!("Pe"));
    assert_eq!(w.remote.records.len(), 1);
}

#[test]
fn s10_labels_one_side_cannot_represent_never_empty_the_other_sides_lists() {
    let mut cfg = open_config();
    cfg.labels = vec![LabelMappingRow { crm: CrmLabelRef { kind: CrmLabelKind::List, id: "vip".into() }, remote_label: "VIP".into() }];
    cfg.capabilities.unsupported = vec!["labels".into()];
    let mut w = World::default();
    let id = w.crm.create(crm_fields("Q", "R", &["q@x.fr"], &[], ""));
    w.crm.contacts.get_mut(&id).unwrap().lists = vec!["vip".into()];
    let st = run(&mut w, &cfg, "", &Faults::default()).state;
    run(&mut w, &cfg, &st, &Faults::default());
    assert_eq!(w.crm.contacts[&id].lists, vec!["vip".to_string()]);
    // And where labels are supported, membership syncs as a set.
    cfg.capabilities.unsupported.clear();
    let mut w2 = World::default();
    let id2 = w2.crm.create(crm_fields("Q", "R", &["q@x.fr"], &[], ""));
    w2.crm.contacts.get_mut(&id2).unwrap().lists = vec!["vip".into(), "other".into()];
    let st2 = run(&mut w2, &cfg, "", &Faults::default()).state;
    let rid2 = linked(&st2, &id2);
    assert_eq!(w2.remote.records[&rid2].contact.labels, vec!["VIP".to_string()]);
    w2.remote.edit(&rid2, |c| c.labels.push("Unmapped".into()));
    run(&mut w2, &cfg, &st2, &Faults::default());
    assert_eq!(w2.crm.contacts[&id2].lists, vec!["vip".to_string(), "other".to_string()]);
}

#[test]
fn s11_two_contacts_sharing_an_email_are_reported_not_guessed() {
    let cfg = open_config();
    let mut w = World::default();
    w.crm.create(crm_fields("S", "One", &["shared@x.fr"], &[], ""));
    w.crm.create(crm_fields("S", "Two", &["shared@x.fr"], &[], ""));
    w.remote.create(remote_contact("S", "Remote", &["Shared@x.fr"], &[], ""));
    let o = run(&mut w, &cfg, "", &Faults::default());
    let s = o.summary.unwrap();
    assert_eq!(s.counts.ambiguous, 1);
    assert_eq!(s.ambiguities[0].crm_ids.len(), 2);
    assert_eq!((w.crm.contacts.len(), w.remote.records.len()), (2, 1), "nothing linked, nothing created");
}

#[test]
fn s11_an_ambiguity_holds_across_incremental_runs_whatever_is_edited() {
    // Issue 11, defect 2: one CRM contact and two cards share an e-mail.
    let cfg = open_config();
    let mut w = World::default();
    let c = w.crm.create(crm_fields("Lou", "Roux", &["accueil@roux.fr"], &[], ""));
    let r1 = w.remote.create(remote_contact("Lou", "Roux", &["accueil@roux.fr"], &[], ""));
    let r2 = w.remote.create(remote_contact("Max", "Roux", &["Accueil@Roux.fr"], &[], ""));
    let o = run(&mut w, &cfg, "", &Faults::default());
    assert_eq!(o.ambiguous, 1);
    let mut st = o.state;
    // Edits on either side, one per incremental run, then a full listing.
    for n in 0..3 {
        match n {
            0 => w.crm.set(&c, "jobTitle", json!("Gérant")),
            1 => w.remote.edit(&r1, |x| x.note = "Rappeler".into()),
            _ => w.remote.edit(&r2, |x| x.name.given = "Maxime".into()),
        }
        let o = run(&mut w, &cfg, &st, &Faults { full: n == 2, ..Faults::default() });
        assert_eq!(o.writes, 0, "edit {n}: neither linked, nor created, nor deleted");
        assert_eq!(o.ambiguous, 1, "edit {n}: the report still lists it");
        st = o.state;
        assert!(SpokeState::from_json(&st).unwrap().links.is_empty());
    }
    assert_eq!((w.crm.contacts.len(), w.remote.records.len()), (1, 2));
}

/// One CRM contact and two cards sharing an e-mail, held after a first run.
fn held_world() -> (World, String, [String; 3]) {
    let mut w = World::default();
    let c = w.crm.create(crm_fields("Lou", "Roux", &["accueil@roux.fr"], &[], ""));
    let r1 = w.remote.create(remote_contact("Lou", "Roux", &["accueil@roux.fr"], &[], ""));
    let r2 = w.remote.create(remote_contact("Max", "Roux", &["accueil@roux.fr"], &[], ""));
    let st = run(&mut w, &open_config(), "", &Faults::default()).state;
    assert_eq!(SpokeState::from_json(&st).unwrap().held.len(), 1);
    (w, st, [c, r1, r2])
}

#[test]
fn s11_a_held_ambiguity_dissolves_only_into_a_one_to_one_match_never_into_a_duplicate() {
    let cfg = open_config();
    let held = |st: &str| SpokeState::from_json(st).unwrap().held;
    // The other candidate deleted: the one left is linked.
    let (mut w, st, [c, r1, r2]) = held_world();
    w.remote.delete(&r2);
    let o = run(&mut w, &cfg, &st, &Faults::default());
    assert_eq!((SpokeState::from_json(&o.state).unwrap().remote_of(&c), o.summary.unwrap().counts.linked_by_email), (Some(r1.as_str()), 1));
    assert!(held(&o.state).is_empty());
    assert_eq!((w.crm.contacts.len(), w.remote.records.len()), (1, 1));
    // The other card's address made unique: the pair links, that card waits on its own
    // (it is not imported behind the operator's back).
    let (mut w, st, [c, r1, r2]) = held_world();
    w.remote.edit(&r2, |x| x.emails[0].value = "max@roux.fr".into());
    let o = run(&mut w, &cfg, &st, &Faults::default());
    assert_eq!(SpokeState::from_json(&o.state).unwrap().remote_of(&c), Some(r1.as_str()));
    assert_eq!((held(&o.state)[0].crm_ids.len(), held(&o.state)[0].remote_ids.clone()), (0, vec![r2.clone()]));
    assert_eq!(w.crm.contacts.len(), 1);
    // The shared address removed from the CRM contact: nothing is released.
    let (mut w, st, [c, r1, r2]) = held_world();
    w.crm.set(&c, "emails", json!([]));
    let o = run(&mut w, &cfg, &st, &Faults::default());
    assert_eq!(o.writes, 0);
    assert_eq!((held(&o.state)[0].crm_ids.clone(), held(&o.state)[0].remote_ids.clone()), (vec![c.clone()], vec![r1.clone(), r2.clone()]));
    // A newcomer sharing the address joins the group instead of being imported.
    let (mut w, st, [c, _, _]) = held_world();
    let r3 = w.remote.create(remote_contact("Zoé", "Roux", &["accueil@roux.fr"], &[], ""));
    let o = run(&mut w, &cfg, &st, &Faults::default());
    assert_eq!(o.writes, 0);
    assert!(held(&o.state)[0].remote_ids.contains(&r3) && held(&o.state)[0].crm_ids == vec![c]);
}

#[test]
fn s14_two_people_sharing_a_switchboard_number_are_proposed_not_merged() {
    let cfg = open_config();
    let mut w = World::default();
    let c = w.crm.create(crm_fields("Julie", "Durand", &["julie.durand@pharmacie-durand.fr"], &["+33 6 98 76 54 32"], ""));
    let r = w.remote.create(remote_contact("Paul", "Lambert", &["paul.lambert@gmail.com"], &["06 98 76 54 32"], ""));
    let o = run(&mut w, &cfg, "", &Faults::default());
    assert!(SpokeState::from_json(&o.state).unwrap().remote_of(&c).is_none(), "not linked");
    assert_eq!(o.summary.as_ref().unwrap().counts.linked_by_phone, 0);
    assert_eq!(w.remote.records[&r].contact.name.given, "Paul", "the Google name is kept");
    assert_eq!(w.crm.contacts[&c].fields["emails"].as_array().unwrap().len(), 1, "no e-mail given to the CRM contact");
    assert_eq!(o.writes, 0, "a possible match waits for the operator: nothing created either");
    // Paul's number changed since: they share nothing now, and still wait (an edit never
    // releases a contact); the report says there is no shared key any more.
    w.remote.edit(&r, |x| x.phones[0].value = "07 11 22 33 44".into());
    let o = run(&mut w, &cfg, &o.state, &Faults::default());
    assert_eq!(o.writes, 0);
    let pending = o.summary.unwrap().pending_matches;
    assert_eq!((pending.len(), pending[0].key.as_str(), pending[0].kind.as_str()), (1, "", "possible"));
    // The same family name (any case, accents) is one person: linked by phone.
    let mut w = World::default();
    let c = w.crm.create(crm_fields("Julie", "Durand", &[], &["+33 6 98 76 54 32"], ""));
    w.remote.create(remote_contact("julie", "DURAND", &[], &["06 98 76 54 32"], ""));
    let o = run(&mut w, &cfg, "", &Faults::default());
    assert!(SpokeState::from_json(&o.state).unwrap().remote_of(&c).is_some());
    assert_eq!(o.summary.unwrap().counts.linked_by_phone, 1);
}

#[test]
fn a_crm_id_on_a_remote_copy_that_this_plugin_did_not_write_links_nothing() {
    // Issue 11, defect 14: a card naming a CRM contact outside the export filter, with
    // nothing else in common with it.
    let mut cfg = open_config();
    cfg.filter.mode = contact_sync::engine::FilterMode::Tags;
    cfg.filter.tags = vec!["export".into()];
    let mut w = World::default();
    let c = w.crm.create(crm_fields("Alice", "Privée", &["alice@prive.fr"], &[], ""));
    let r = w.remote.create(remote_contact("Mallory", "Intrus", &["mallory@x.net"], &[], ""));
    w.remote.records.get_mut(&r).unwrap().crm_id = Some(c.clone());
    let o = run(&mut w, &cfg, "", &Faults::default());
    assert!(SpokeState::from_json(&o.state).unwrap().remote_of(&c).is_none(), "not linked");
    assert_eq!(o.summary.unwrap().counts.linked_by_id, 0);
    assert_eq!(w.crm.contacts[&c].fields["lastName"], json!("Privée"), "untouched");
    assert_eq!(w.remote.records[&r].contact.name.family, "Intrus", "untouched");
}

#[test]
fn s12_a_run_cut_off_mid_batch_does_not_duplicate_on_retry() {
    let cfg = open_config();
    for crash in 0..6 {
        let mut w = World::default();
        for i in 0..3 {
            w.crm.create(crm_fields("T", &format!("{i}"), &[], &[], ""));
            w.remote.create(remote_contact("U", &format!("{i}"), &[], &[], ""));
        }
        let o = run(&mut w, &cfg, "", &Faults { crash_after: Some(crash), ..Faults::default() });
        assert!(o.crashed);
        let mut st = o.state;
        for _ in 0..3 {
            st = run(&mut w, &cfg, &st, &Faults::default()).state;
        }
        assert_eq!((w.crm.contacts.len(), w.remote.records.len()), (6, 6), "crash after write {crash}");
        one_to_one(&w, &st).unwrap();
    }
}

#[test]
fn work_details_go_into_a_marked_note_block_that_is_never_sent_back() {
    let mut cfg = open_config();
    let mut rows = default_mapping();
    rows.push(mapping::work_details_row("notes"));
    cfg.fields = rows;
    let mut w = World::default();
    let mut rc = remote_contact("V", "W", &["v@x.fr"], &[], "");
    rc.organization.title = "CTO".into();
    rc.organization.name = "Acme".into();
    let rid = w.remote.create(rc);
    let id = w.crm.create(crm_fields("V", "W", &["v@x.fr"], &[], "Met in Lyon."));
    let st = run(&mut w, &cfg, "", &Faults::default()).state;
    let note = w.crm.contacts[&id].fields["notes"].as_str().unwrap().to_string();
    assert!(note.starts_with("Met in Lyon."), "{note}");
    assert!(note.contains("Title: CTO") && note.contains(mapping::BLOCK_START));
    assert_eq!(w.remote.records[&rid].contact.note, "Met in Lyon.", "the block is not sent back");
    assert_eq!(run(&mut w, &cfg, &st, &Faults::default()).writes, 0);
}

#[test]
fn the_journal_inverts_the_last_run() {
    let cfg = open_config();
    let mut w = World::default();
    let id = w.crm.create(crm_fields("X", "Y", &["x@x.fr"], &[], ""));
    let st = run(&mut w, &cfg, "", &Faults::default()).state;
    w.crm.set(&id, "firstName", json!("Xavier"));
    let o = run(&mut w, &cfg, &st, &Faults::default());
    let inverse = o.journal.unwrap().inverse();
    assert_eq!(inverse.len(), 1);
    let WriteOp::RemoteUpdate { record, .. } = &inverse[0] else { panic!("{inverse:?}") };
    assert_eq!(record.contact.name.given, "X");
}

#[test]
fn a_merged_remote_contact_moves_the_link() {
    let cfg = open_config();
    let mut w = World::default();
    let id = w.crm.create(crm_fields("Z", "A", &["z@x.fr"], &[], ""));
    let st = run(&mut w, &cfg, "", &Faults::default()).state;
    let old = linked(&st, &id);
    let mut rec = w.remote.records[&old].clone();
    w.remote.delete(&old);
    rec.previous_ids = vec![old.clone()];
    rec.crm_id = None;
    let new = w.remote.create(rec.contact.clone());
    w.remote.records.get_mut(&new).unwrap().previous_ids = vec![old];
    let o = run(&mut w, &cfg, &st, &Faults::default());
    assert_eq!(linked(&o.state, &id), new);
    assert_eq!((w.crm.contacts.len(), w.remote.records.len()), (1, 1));
}

#[test]
fn deletion_guard_counts_against_the_configured_share() {
    let mut cfg = open_config();
    cfg.deletion = DeletionPolicy::Propagate;
    let mut w = World::default();
    for i in 0..20 {
        w.crm.create(crm_fields("G", &format!("{i}"), &[&format!("g{i}@x.fr")], &[], ""));
    }
    let st = run(&mut w, &cfg, "", &Faults::default()).state;
    cfg.max_delete_share = 0.1;
    let ids: Vec<String> = w.crm.contacts.keys().cloned().collect();
    w.crm.delete(&ids[0]);
    w.crm.delete(&ids[1]);
    assert!(run(&mut w, &cfg, &st, &Faults::default()).error.is_none(), "2 of 20 is within 10%");
    let mut w2 = w.clone();
    w2.crm.delete(&ids[2]);
    w2.crm.delete(&ids[3]);
    w2.crm.delete(&ids[4]);
    let o = run(&mut w2, &cfg, &st, &Faults::default());
    let e = o.error.unwrap();
    assert_eq!(e.code, "GUARD_TRIPPED");
    // The operator is shown what would have been deleted.
    assert_eq!(e.would_delete.len(), 3, "{:?}", e.would_delete);
    assert!(e.would_delete.iter().all(|s| s.action == "delete" && s.contact_name.starts_with('G')), "{:?}", e.would_delete);
}

#[test]
fn a_live_lease_of_another_run_answers_already_running() {
    let d = acquire(Some(contact_sync::engine::lease::Lease { run_id: "a".into(), expires_at: 10_000 }), "b", 5_000, 60_000);
    assert!(matches!(d, LeaseDecision::AlreadyRunning { .. }));
    let d = acquire(Some(contact_sync::engine::lease::Lease { run_id: "a".into(), expires_at: 10_000 }), "b", 10_001, 60_000);
    assert!(matches!(d, LeaseDecision::Acquire { expected: Some(_), .. }));
}

#[test]
fn mapping_type_checks_refuse_a_date_into_an_email_list() {
    use contact_sync::crm::{CrmFieldSchema, CrmFieldType};
    let schema = vec![
        CrmFieldSchema { id: "birthday".into(), label: "Birthday".into(), field_type: CrmFieldType::Date, custom: false, read_only: false },
        CrmFieldSchema { id: "emails".into(), label: "E-mails".into(), field_type: CrmFieldType::EmailList, custom: false, read_only: false },
    ];
    let good = vec![mapping::FieldMappingRow { crm_field: "birthday".into(), remote_field: "birthday".into(), direction: mapping::Direction::Both, priority: mapping::Priority::Newest, fill_empty: false }];
    assert!(mapping::check_rows(&good, &schema).is_empty());
    let bad = vec![mapping::FieldMappingRow { crm_field: "birthday".into(), remote_field: "emails".into(), direction: mapping::Direction::Both, priority: mapping::Priority::Newest, fill_empty: false }];
    assert_eq!(mapping::check_rows(&bad, &schema).len(), 1);
    let row: mapping::FieldMappingRow = serde_json::from_value(json!({"crmField": "emails", "remoteField": "emails", "direction": "toRemote", "priority": "crm", "fillEmpty": true})).unwrap();
    assert_eq!(row.direction, mapping::Direction::ToRemote);
}

#[test]
fn a_note_with_touching_markers_does_not_break_the_block_splice() {
    let tricky = format!("{} end of work details ---", mapping::BLOCK_START);
    let _ = mapping::block_of(&tricky);
    let _ = mapping::strip_block(&tricky);
    let spliced = mapping::splice_block(&tricky, "Company: Acme");
    assert!(spliced.contains("Company: Acme"));
    assert_eq!(mapping::block_of(&mapping::splice_block("Hello", "Title: CTO")), "Title: CTO");
    assert_eq!(mapping::strip_block(&mapping::splice_block("Hello", "Title: CTO")), "Hello");
}

#[test]
fn an_email_replaced_on_either_side_replaces_it_on_the_other() {
    let cfg = open_config();
    let mut w = World::default();
    let id = w.crm.create(crm_fields("Cid", "Cooper", &["cid@old.org"], &[], ""));
    let st = run(&mut w, &cfg, "", &Faults::default()).state;
    let rid = linked(&st, &id);
    w.remote.edit(&rid, |c| c.emails[0].value = "cid@new.org".into());
    let st = run(&mut w, &cfg, &st, &Faults::default()).state;
    assert_eq!(w.crm.contacts[&id].fields["emails"], json!([{ "value": "cid@new.org", "type": "work" }]));
    w.crm.set(&id, "emails", json!([{ "value": "cid@newer.org", "type": "work" }]));
    let st = run(&mut w, &cfg, &st, &Faults::default()).state;
    let emails: Vec<&str> = w.remote.records[&rid].contact.emails.iter().map(|e| e.value.as_str()).collect();
    assert_eq!(emails, vec!["cid@newer.org"]);
    assert_eq!(run(&mut w, &cfg, &st, &Faults::default()).writes, 0);
}
