#![cfg(not(target_arch = "wasm32"))]
//! Property tests of the invariants in the sync design note (SYNC-INVARIANTS): random
//! histories of edits on both sides, random write failures, random crash points, random
//! page orders. Cases: PROPTEST_CASES (default 2,000). Soak:
//! `PROPTEST_CASES=100000 cargo test --release -p contact-sync --test engine_properties`.

mod engine_support;

use contact_sync::engine::mapping::{default_mapping, Direction, FieldMappingRow, Priority};
use contact_sync::engine::state::SpokeState;
use contact_sync::engine::{DeletionPolicy, FilterMode, SyncConfig};
use engine_support::*;
use proptest::prelude::*;
use serde_json::json;

#[derive(Debug, Clone)]
enum Edit {
    CreateCrm { first: u8, with_email: bool, with_phone: bool },
    CreateRemote { first: u8, with_email: bool, with_phone: bool },
    /// The same person typed on both sides (matched by e-mail or phone).
    CreateBoth { first: u8, by_phone: bool },
    SetFirst { crm: bool, who: u8, v: u8 },
    SetLast { crm: bool, who: u8, v: u8 },
    AddEmail { crm: bool, who: u8 },
    RemoveEmails { crm: bool, who: u8 },
    Delete { crm: bool, who: u8 },
}

const NAMES: &[&str] = &["Ada", "Léa", "Zoé", "Jean", "Ève", "", "Marc", "Inès"];

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<u8>(), any::<bool>(), any::<bool>()).prop_map(|(first, with_email, with_phone)| Edit::CreateCrm { first, with_email, with_phone }),
        (any::<u8>(), any::<bool>(), any::<bool>()).prop_map(|(first, with_email, with_phone)| Edit::CreateRemote { first, with_email, with_phone }),
        (any::<u8>(), any::<bool>()).prop_map(|(first, by_phone)| Edit::CreateBoth { first, by_phone }),
        (any::<bool>(), any::<u8>(), any::<u8>()).prop_map(|(crm, who, v)| Edit::SetFirst { crm, who, v }),
        (any::<bool>(), any::<u8>(), any::<u8>()).prop_map(|(crm, who, v)| Edit::SetLast { crm, who, v }),
        (any::<bool>(), any::<u8>()).prop_map(|(crm, who)| Edit::AddEmail { crm, who }),
        (any::<bool>(), any::<u8>()).prop_map(|(crm, who)| Edit::RemoveEmails { crm, who }),
        (any::<bool>(), any::<u8>()).prop_map(|(crm, who)| Edit::Delete { crm, who }),
    ]
}

fn pick<T: Clone>(v: &[T], i: u8) -> Option<T> {
    if v.is_empty() {
        None
    } else {
        v.get(i as usize % v.len()).cloned()
    }
}

/// Applies a history; unique e-mails and phones per creation (no ambiguity by design here).
fn apply(world: &mut World, edits: &[Edit], counter: &mut u32) {
    for e in edits {
        *counter += 1;
        let k = *counter;
        let email = format!("U{k}@Example.fr");
        let phone_crm = format!("06 12 {:02} {:02} {:02}", (k / 10000) % 100, (k / 100) % 100, k % 100);
        let phone_remote = format!("+33 6 12 {:02} {:02} {:02}", (k / 10000) % 100, (k / 100) % 100, k % 100);
        let name = |i: u8| NAMES[i as usize % NAMES.len()];
        match e {
            Edit::CreateCrm { first, with_email, with_phone } => {
                let emails: Vec<&str> = if *with_email { vec![email.as_str()] } else { vec![] };
                let phones: Vec<&str> = if *with_phone { vec![phone_crm.as_str()] } else { vec![] };
                world.crm.create(crm_fields(name(*first), &format!("N{k}"), &emails, &phones, ""));
            }
            Edit::CreateRemote { first, with_email, with_phone } => {
                let emails: Vec<&str> = if *with_email { vec![email.as_str()] } else { vec![] };
                let phones: Vec<&str> = if *with_phone { vec![phone_remote.as_str()] } else { vec![] };
                world.remote.create(remote_contact(name(*first), &format!("N{k}"), &emails, &phones, ""));
            }
            Edit::CreateBoth { first, by_phone } => {
                if *by_phone {
                    world.crm.create(crm_fields(name(*first), "Same", &[], &[&phone_crm], ""));
                    world.remote.create(remote_contact(name(*first), "Same", &[], &[&phone_remote], ""));
                } else {
                    world.crm.create(crm_fields(name(*first), "Same", &[&email], &[], ""));
                    world.remote.create(remote_contact(name(*first), "Same", &[&email.to_lowercase()], &[], ""));
                }
            }
            Edit::SetFirst { crm, who, v } | Edit::SetLast { crm, who, v } => {
                let field = if matches!(e, Edit::SetFirst { .. }) { "firstName" } else { "lastName" };
                let value = format!("{}{}", name(*v), k);
                if *crm {
                    let ids: Vec<String> = world.crm.contacts.keys().cloned().collect();
                    if let Some(id) = pick(&ids, *who) {
                        world.crm.set(&id, field, json!(value));
                    }
                } else {
                    let ids: Vec<String> = world.remote.records.keys().cloned().collect();
                    if let Some(id) = pick(&ids, *who) {
                        world.remote.edit(&id, |c| if field == "firstName" { c.name.given = value } else { c.name.family = value });
                    }
                }
            }
            Edit::AddEmail { crm, who } => {
                let extra = format!("extra{k}@example.fr");
                if *crm {
                    let ids: Vec<String> = world.crm.contacts.keys().cloned().collect();
                    if let Some(id) = pick(&ids, *who) {
                        let mut list = world.crm.contacts[&id].fields.get("emails").and_then(|v| v.as_array().cloned()).unwrap_or_default();
                        list.push(json!({"value": extra, "type": "home"}));
                        world.crm.set(&id, "emails", json!(list));
                    }
                } else {
                    let ids: Vec<String> = world.remote.records.keys().cloned().collect();
                    if let Some(id) = pick(&ids, *who) {
                        world.remote.edit(&id, |c| c.emails.push(contact_sync::engine::Email { value: extra, kind: contact_sync::engine::ValueKind::Home, primary: false }));
                    }
                }
            }
            Edit::RemoveEmails { crm, who } => {
                if *crm {
                    let ids: Vec<String> = world.crm.contacts.keys().cloned().collect();
                    if let Some(id) = pick(&ids, *who) {
                        world.crm.set(&id, "emails", json!([]));
                    }
                } else {
                    let ids: Vec<String> = world.remote.records.keys().cloned().collect();
                    if let Some(id) = pick(&ids, *who) {
                        world.remote.edit(&id, |c| c.emails.clear());
                    }
                }
            }
            Edit::Delete { crm, who } => {
                if *crm {
                    let ids: Vec<String> = world.crm.contacts.keys().cloned().collect();
                    if let Some(id) = pick(&ids, *who) {
                        world.crm.delete(&id);
                    }
                } else {
                    let ids: Vec<String> = world.remote.records.keys().cloned().collect();
                    if let Some(id) = pick(&ids, *who) {
                        world.remote.delete(&id);
                    }
                }
            }
        }
    }
}

fn faults() -> impl Strategy<Value = Faults> {
    (prop::collection::vec(0usize..30, 0..4), prop::option::of(0usize..30), any::<u64>()).prop_map(|(fail, crash_after, shuffle)| Faults { fail, crash_after, shuffle, ..Faults::default() })
}

/// Runs clean until nothing is written (at most `n` runs); returns the last state.
fn settle(world: &mut World, cfg: &SyncConfig, mut state: String, n: usize) -> Result<String, TestCaseError> {
    for _ in 0..n {
        let o = run(world, cfg, &state, &Faults::default());
        prop_assert!(o.error.is_none(), "clean run failed: {:?}", o.error);
        state = o.state;
        if o.writes == 0 {
            return Ok(state);
        }
    }
    Ok(state)
}

proptest! {
    #![proptest_config(config())]

    /// Invariants 1, 2, 7, 8, 10, 15: random histories on both sides, a run with random
    /// write failures and a random crash point, then clean runs: every linked pair agrees,
    /// nothing is duplicated, links stay a bijection, and quiet runs write nothing and
    /// leave the state byte-identical.
    #[test]
    fn random_histories_with_failures_and_crashes_converge_without_duplicates(
        first in prop::collection::vec(edit(), 0..10),
        second in prop::collection::vec(edit(), 0..10),
        f in faults(),
        f2 in faults(),
    ) {
        let cfg = open_config();
        let mut world = World::default();
        let mut k = 0;
        apply(&mut world, &first, &mut k);
        let o = run(&mut world, &cfg, "", &f);
        let state = settle(&mut world, &cfg, o.state, 4)?;
        converged(&world, &cfg, &state).map_err(TestCaseError::fail)?;
        one_to_one(&world, &state).map_err(TestCaseError::fail)?;
        apply(&mut world, &second, &mut k);
        let o = run(&mut world, &cfg, &state, &f2);
        let state = settle(&mut world, &cfg, o.state, 4)?;
        converged(&world, &cfg, &state).map_err(TestCaseError::fail)?;
        one_to_one(&world, &state).map_err(TestCaseError::fail)?;
        // Quiescence: nothing written, state byte-identical.
        let q = run(&mut world, &cfg, &state, &Faults { shuffle: f.shuffle ^ 1, ..Faults::default() });
        prop_assert_eq!(q.writes, 0);
        prop_assert_eq!(q.state, state);
    }

    /// Invariant 3: a field changed on one side only reaches the other side and is never
    /// reverted, also through failures and a crash; two sides changing different fields of
    /// one contact both keep their change.
    #[test]
    fn one_sided_edits_reach_the_other_side_and_different_fields_both_survive(
        n in 1usize..6,
        plan in prop::collection::vec((0u8..4, 0u8..4), 6),
        f in faults(),
    ) {
        let cfg = open_config();
        let mut world = World::default();
        for i in 0..n {
            world.crm.create(crm_fields("A", &format!("L{i}"), &[&format!("p{i}@x.fr")], &[], ""));
        }
        let state = settle(&mut world, &cfg, String::new(), 3)?;
        let ids: Vec<String> = world.crm.contacts.keys().cloned().collect();
        let st = SpokeState::from_json(&state).unwrap();
        let mut expect = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let (crm_edit, remote_edit) = plan[i % plan.len()];
            let rid = st.remote_of(id).unwrap().to_string();
            // 0: none, 1: first name, 2: last name, 3: company (4: e-mails removed on the
            // remote) — never the same field on both sides.
            let fields = ["", "firstName", "lastName", "company"];
            let remote_edit = if remote_edit == crm_edit { 0 } else { remote_edit };
            if crm_edit > 0 {
                let v = format!("crm-{i}-{crm_edit}");
                world.crm.set(id, fields[crm_edit as usize], json!(v));
                expect.push((id.clone(), fields[crm_edit as usize], v));
            }
            if remote_edit > 0 {
                let v = format!("remote-{i}-{remote_edit}");
                let vv = v.clone();
                world.remote.edit(&rid, |c| match remote_edit { 1 => c.name.given = vv, 2 => c.name.family = vv, _ => c.organization.name = vv });
                expect.push((id.clone(), fields[remote_edit as usize], v));
            }
        }
        // A multi-valued removal: the remote drops the first contact's e-mail.
        let first_rid = st.remote_of(&ids[0]).unwrap().to_string();
        world.remote.edit(&first_rid, |c| c.emails.clear());
        let o = run(&mut world, &cfg, &state, &f);
        let state = settle(&mut world, &cfg, o.state, 4)?;
        converged(&world, &cfg, &state).map_err(TestCaseError::fail)?;
        let emails = world.crm.contacts[&ids[0]].fields.get("emails").and_then(|v| v.as_array().map(|a| a.len())).unwrap_or(0);
        prop_assert_eq!(emails, 0, "the remote's removal reached the CRM");
        for (id, field, v) in expect {
            prop_assert_eq!(world.crm.contacts[&id].fields.get(field).and_then(|x| x.as_str()), Some(v.as_str()), "{} {}", id, field);
        }
    }

    /// Invariant 4: the same field changed differently on both sides is settled by the
    /// field's rule, and the losing value is in the run's journal.
    #[test]
    fn conflicts_follow_the_field_rule_and_journal_the_loser(crm_wins in any::<bool>(), a in "[a-z]{1,6}", b in "[A-Z]{1,6}") {
        let mut cfg = open_config();
        let mut rows = default_mapping();
        for r in &mut rows { r.priority = if crm_wins { Priority::Crm } else { Priority::Remote }; }
        cfg.fields = rows;
        let mut world = World::default();
        let id = world.crm.create(crm_fields("Start", "X", &["c@x.fr"], &[], ""));
        let state = settle(&mut world, &cfg, String::new(), 3)?;
        let rid = SpokeState::from_json(&state).unwrap().remote_of(&id).unwrap().to_string();
        world.crm.set(&id, "firstName", json!(a.clone()));
        let bb = b.clone();
        world.remote.edit(&rid, |c| c.name.given = bb);
        let o = run(&mut world, &cfg, &state, &Faults::default());
        prop_assert_eq!(o.conflicts, 1);
        let (win, lose) = if crm_wins { (a, b) } else { (b, a) };
        prop_assert_eq!(world.crm.contacts[&id].fields["firstName"].as_str(), Some(win.as_str()));
        prop_assert_eq!(world.remote.records[&rid].contact.name.given.as_str(), win.as_str());
        let j = o.journal.unwrap();
        let c = &j.conflicts[0];
        let lost = if crm_wins { &c.remote_value } else { &c.crm_value };
        prop_assert_eq!(lost.as_str(), Some(lose.as_str()));
    }

    /// Invariants 5 and 6: deleted on one side and edited on the other → restored; deleted
    /// and untouched → the policy, and later runs are no-ops (it never comes back).
    #[test]
    fn edit_beats_delete_and_deletes_stick(delete_crm in any::<bool>(), edit_other in any::<bool>(), policy in 0u8..3) {
        let mut cfg = open_config();
        cfg.deletion = [DeletionPolicy::Propagate, DeletionPolicy::Flag, DeletionPolicy::Ignore][policy as usize];
        cfg.flag_field = "deletedInGoogle".into();
        let mut world = World::default();
        let id = world.crm.create(crm_fields("Del", "Me", &["d@x.fr"], &[], ""));
        world.crm.create(crm_fields("Keep", "Me", &["k@x.fr"], &[], ""));
        let state = settle(&mut world, &cfg, String::new(), 3)?;
        let rid = SpokeState::from_json(&state).unwrap().remote_of(&id).unwrap().to_string();
        if delete_crm {
            world.crm.delete(&id);
            if edit_other { world.remote.edit(&rid, |c| c.name.given = "Edited".into()); }
        } else {
            world.remote.delete(&rid);
            if edit_other { world.crm.set(&id, "firstName", json!("Edited")); }
        }
        let o = run(&mut world, &cfg, &state, &Faults::default());
        prop_assert!(o.error.is_none());
        let state = settle(&mut world, &cfg, o.state, 3)?;
        let has_crm = world.crm.contacts.values().any(|c| c.fields.get("lastName") == Some(&json!("Me")) && c.fields.get("firstName") != Some(&json!("Keep")));
        let has_remote = world.remote.records.values().any(|r| r.contact.name.family == "Me" && r.contact.name.given != "Keep");
        if edit_other {
            prop_assert!(has_crm && has_remote, "restored on both sides");
            converged(&world, &cfg, &state).map_err(TestCaseError::fail)?;
        } else {
            match cfg.deletion {
                DeletionPolicy::Propagate => prop_assert!(!has_crm && !has_remote),
                _ => prop_assert!(has_crm != has_remote, "the other copy is left alone"),
            }
            if !delete_crm && cfg.deletion == DeletionPolicy::Flag {
                prop_assert_eq!(world.crm.contacts[&id].fields.get("deletedInGoogle"), Some(&json!(true)));
            }
        }
        // Later runs are no-ops; nothing comes back by itself.
        let (nc, nr) = (world.crm.contacts.len(), world.remote.records.len());
        let q = run(&mut world, &cfg, &state, &Faults::default());
        prop_assert_eq!(q.writes, 0);
        prop_assert_eq!((world.crm.contacts.len(), world.remote.records.len()), (nc, nr));
    }

    /// Invariant 9 and scenario 6: a provider reformatting phone numbers and an e-mail case
    /// change cause zero writes.
    #[test]
    fn provider_reformatting_causes_no_writes(n in 1usize..8, seed in any::<u64>()) {
        let cfg = open_config();
        let mut world = World::default();
        world.remote.reformat_phones = true;
        for i in 0..n {
            world.crm.create(crm_fields("P", &format!("{i}"), &[&format!("MiXed{i}@Example.FR")], &[&format!("06 {:02} 34 56 78", 10 + i)], ""));
        }
        let state = settle(&mut world, &cfg, String::new(), 3)?;
        let q = run(&mut world, &cfg, &state, &Faults { shuffle: seed, ..Faults::default() });
        prop_assert_eq!(q.writes, 0);
        prop_assert_eq!(q.state, state);
    }

    /// Invariant 11: a field mapped one way is never written the other way; a side with
    /// import or export off is never written.
    #[test]
    fn direction_and_switches_are_obeyed(edits in prop::collection::vec(edit(), 1..8), import in any::<bool>(), export in any::<bool>()) {
        let mut cfg = open_config();
        let mut rows = default_mapping();
        for r in &mut rows {
            if r.crm_field == "lastName" { r.direction = Direction::ToRemote; }
            if r.crm_field == "firstName" { r.direction = Direction::ToCrm; }
        }
        cfg.fields = rows;
        cfg.import = import;
        cfg.export = export;
        let mut world = World::default();
        let mut k = 0;
        apply(&mut world, &edits, &mut k);
        let before = world.clone();
        let o = run(&mut world, &cfg, "", &Faults::default());
        prop_assert!(o.error.is_none());
        if !import { prop_assert_eq!(world.crm.writes, 0); }
        if !export { prop_assert_eq!(world.remote.writes, 0); }
        for (id, c) in &world.crm.contacts {
            if let Some(b) = before.crm.contacts.get(id) {
                prop_assert_eq!(c.fields.get("lastName"), b.fields.get("lastName"), "lastName is toRemote");
            }
        }
        for (id, r) in &world.remote.records {
            if let Some(b) = before.remote.records.get(id) {
                prop_assert_eq!(&r.contact.name.given, &b.contact.name.given, "firstName is toCrm");
            }
        }
    }

    /// Invariant 12: with no base (first match) an empty value never erases a filled one.
    #[test]
    fn blank_is_not_clear_on_first_match(crm_has_title in any::<bool>(), title in "[A-Za-z]{1,8}") {
        let cfg = open_config();
        let mut world = World::default();
        let mut f = crm_fields("Bo", "Same", &["same@x.fr"], &[], "");
        let mut rc = remote_contact("Bo", "Same", &["same@x.fr"], &[], "");
        if crm_has_title { f.insert("jobTitle".into(), json!(title.clone())); } else { rc.organization.title = title.clone(); }
        let id = world.crm.create(f);
        let rid = world.remote.create(rc);
        let o = run(&mut world, &cfg, "", &Faults::default());
        prop_assert_eq!(o.summary.unwrap().counts.linked_by_email, 1);
        prop_assert_eq!(world.crm.contacts[&id].fields.get("jobTitle").and_then(|v| v.as_str()), Some(title.as_str()));
        prop_assert_eq!(world.remote.records[&rid].contact.organization.title.as_str(), title.as_str());
    }

    /// Invariant 13: a side listing empty while links exist, a failed listing, or too many
    /// deletions → no write at all, a GUARD_TRIPPED (or the listing's) error, state unchanged.
    #[test]
    fn guards_fire_before_any_write(n in 2usize..12, wipe_remote in any::<bool>(), fail_listing in any::<bool>()) {
        let mut cfg = open_config();
        let mut world = World::default();
        for i in 0..n { world.crm.create(crm_fields("G", &format!("{i}"), &[&format!("g{i}@x.fr")], &[], "")); }
        let state = settle(&mut world, &cfg, String::new(), 3)?;
        cfg.max_delete_share = 0.1;
        let ids: Vec<String> = world.remote.records.keys().cloned().collect();
        if wipe_remote { for id in &ids { world.remote.delete(id); } } else { for id in ids.iter().take(n / 2 + 1) { world.remote.delete(id); } }
        let (cw, rw) = (world.crm.writes, world.remote.writes);
        let o = run(&mut world, &cfg, &state, &Faults { remote_listing_fails: fail_listing, full: wipe_remote, ..Faults::default() });
        let e = o.error.expect("guard");
        prop_assert_eq!(e.code.as_str(), if fail_listing { "BAD_RESPONSE" } else { "GUARD_TRIPPED" });
        prop_assert_eq!((world.crm.writes, world.remote.writes), (cw, rw));
        prop_assert_eq!(world.crm.contacts.len(), n);
        prop_assert_eq!(o.state, state);
    }

    /// Invariant 14: after a cursor expires, the full resync reaches the same state as the
    /// incremental sync would have, without duplicates.
    #[test]
    fn full_resync_equals_incremental(first in prop::collection::vec(edit(), 0..8), second in prop::collection::vec(edit(), 0..8)) {
        let cfg = open_config();
        let mut world = World::default();
        let mut k = 0;
        apply(&mut world, &first, &mut k);
        let state = settle(&mut world, &cfg, String::new(), 4)?;
        apply(&mut world, &second, &mut k);
        let mut w_full = world.clone();
        let inc = run(&mut world, &cfg, &state, &Faults::default());
        let full = run(&mut w_full, &cfg, &state, &Faults { full: true, ..Faults::default() });
        prop_assert!(inc.error.is_none());
        if let Some(e) = &full.error {
            // Both sides listing empty with links left is exactly what the guard is for.
            prop_assert_eq!(e.code.as_str(), "GUARD_TRIPPED");
            prop_assert!(w_full.crm.contacts.is_empty() || w_full.remote.records.is_empty());
            return Ok(());
        }
        let a = SpokeState::from_json(&inc.state).unwrap();
        let b = SpokeState::from_json(&full.state).unwrap();
        prop_assert_eq!(&a.links, &b.links);
        prop_assert_eq!(&world.crm.contacts, &w_full.crm.contacts);
        prop_assert_eq!(&world.remote.records, &w_full.remote.records);
        one_to_one(&w_full, &full.state).map_err(TestCaseError::fail)?;
    }

    /// Invariant 15 (order): permuting page order and listing order changes nothing.
    #[test]
    fn page_order_changes_nothing(edits in prop::collection::vec(edit(), 0..12), s1 in any::<u64>(), s2 in any::<u64>()) {
        let cfg = open_config();
        let mut world = World::default();
        let mut k = 0;
        apply(&mut world, &edits, &mut k);
        let mut w2 = world.clone();
        let a = run(&mut world, &cfg, "", &Faults { shuffle: s1, ..Faults::default() });
        let b = run(&mut w2, &cfg, "", &Faults { shuffle: s2, ..Faults::default() });
        prop_assert_eq!(a.state, b.state);
        prop_assert_eq!(world.crm.contacts, w2.crm.contacts);
        prop_assert_eq!(world.remote.records, w2.remote.records);
    }

    /// Invariant 16: a contact outside the export filter is not exported; one leaving it
    /// follows filter.onLeave.
    #[test]
    fn export_filter_is_respected(tags in prop::collection::vec(any::<bool>(), 1..10), on_leave in 0u8..3) {
        let mut cfg = open_config();
        cfg.filter.mode = FilterMode::Tags;
        cfg.filter.tags = vec!["sync".into()];
        cfg.filter.on_leave = [contact_sync::engine::OnLeave::Keep, contact_sync::engine::OnLeave::Unlink, contact_sync::engine::OnLeave::Delete][on_leave as usize];
        let mut world = World::default();
        for (i, t) in tags.iter().enumerate() {
            let id = world.crm.create(crm_fields("F", &format!("{i}"), &[&format!("f{i}@x.fr")], &[], ""));
            if *t { world.crm.contacts.get_mut(&id).unwrap().tags = vec!["sync".into()]; }
        }
        let state = settle(&mut world, &cfg, String::new(), 3)?;
        let exported = tags.iter().filter(|t| **t).count();
        prop_assert_eq!(world.remote.records.len(), exported);
        // One contact leaves the filter.
        let Some(leaving) = world.crm.contacts.values().find(|c| !c.tags.is_empty()).map(|c| c.id.clone()) else { return Ok(()) };
        world.crm.touch_for_test(&leaving);
        world.crm.contacts.get_mut(&leaving).unwrap().tags.clear();
        let o = run(&mut world, &cfg, &state, &Faults::default());
        prop_assert!(o.error.is_none());
        let st = SpokeState::from_json(&o.state).unwrap();
        match cfg.filter.on_leave {
            contact_sync::engine::OnLeave::Keep => { prop_assert!(st.remote_of(&leaving).is_some()); prop_assert_eq!(world.remote.records.len(), exported); }
            contact_sync::engine::OnLeave::Unlink => { prop_assert!(st.remote_of(&leaving).is_none()); prop_assert_eq!(world.remote.records.len(), exported); }
            contact_sync::engine::OnLeave::Delete => { prop_assert!(st.remote_of(&leaving).is_none()); prop_assert_eq!(world.remote.records.len(), exported - 1); }
        }
        let q = run(&mut world, &cfg, &o.state, &Faults::default());
        prop_assert_eq!(q.writes, 0, "leaving is handled once");
    }
}

/// An edit of a held contact that keeps the e-mail it shares with the others.
#[derive(Debug, Clone)]
enum HeldEdit {
    Rename { crm: bool, who: u8, v: u8 },
    AddEmail { crm: bool, who: u8 },
    AddPhone { crm: bool, who: u8 },
    /// A contact with nothing in common with the group (it must sync as usual).
    Unrelated { crm: bool },
}

fn held_edit() -> impl Strategy<Value = HeldEdit> {
    prop_oneof![
        (any::<bool>(), any::<u8>(), any::<u8>()).prop_map(|(crm, who, v)| HeldEdit::Rename { crm, who, v }),
        (any::<bool>(), any::<u8>()).prop_map(|(crm, who)| HeldEdit::AddEmail { crm, who }),
        (any::<bool>(), any::<u8>()).prop_map(|(crm, who)| HeldEdit::AddPhone { crm, who }),
        any::<bool>().prop_map(|crm| HeldEdit::Unrelated { crm }),
    ]
}

fn apply_held(world: &mut World, crm: &[String], remote: &[String], e: &HeldEdit, k: u32) {
    let pick_id = |ids: &[String], who: u8| ids[who as usize % ids.len()].clone();
    match e {
        HeldEdit::Rename { crm: true, who, v } => world.crm.set(&pick_id(crm, *who), "firstName", json!(format!("{}{k}", NAMES[*v as usize % NAMES.len()]))),
        HeldEdit::Rename { crm: false, who, v } => world.remote.edit(&pick_id(remote, *who), |c| c.name.given = format!("{}{k}", NAMES[*v as usize % NAMES.len()])),
        HeldEdit::AddEmail { crm: true, who } => {
            let id = pick_id(crm, *who);
            let mut list = world.crm.contacts[&id].fields["emails"].as_array().cloned().unwrap_or_default();
            list.push(json!({"value": format!("own{k}@x.fr"), "type": "home"}));
            world.crm.set(&id, "emails", json!(list));
        }
        HeldEdit::AddEmail { crm: false, who } => world.remote.edit(&pick_id(remote, *who), |c| c.emails.push(contact_sync::engine::Email { value: format!("own{k}@x.fr"), ..Default::default() })),
        HeldEdit::AddPhone { crm: true, who } => world.crm.set(&pick_id(crm, *who), "phones", json!([{"value": format!("06 55 00 {:02} {:02}", k / 100 % 100, k % 100), "type": "mobile"}])),
        HeldEdit::AddPhone { crm: false, who } => world.remote.edit(&pick_id(remote, *who), |c| c.phones = vec![contact_sync::engine::Phone { value: format!("+33 7 55 00 {:02} {:02}", k / 100 % 100, k % 100), ..Default::default() }]),
        HeldEdit::Unrelated { crm: true } => {
            world.crm.create(crm_fields("Other", &format!("O{k}"), &[&format!("other{k}@y.fr")], &[], ""));
        }
        HeldEdit::Unrelated { crm: false } => {
            world.remote.create(remote_contact("Other", &format!("R{k}"), &[&format!("remote{k}@y.fr")], &[], ""));
        }
    }
}

/// A person for the phone-matching property: (given, family). No family name holds
/// another's words, so two different entries are two people by any reading.
const GIVEN: &[&str] = &["Julie", "Paul", "Jean", "Marie", "Élodie", "Jean-Pierre", "Léa"];
const FAMILY: &[&str] = &["Durand", "Lambert", "Dupont", "Lefèvre", "Bernard", "Le Gall"];

/// The same name as a person might type it elsewhere: case, accents, spacing, parts.
fn typed(given: &str, family: &str, how: u8) -> (String, String) {
    let plain = |s: &str| s.replace(['é', 'è'], "e").replace('É', "E");
    match how % 6 {
        0 => (given.to_string(), family.to_string()),
        1 => (given.to_uppercase(), family.to_lowercase()),
        2 => (plain(given), format!("  {}  ", plain(family))),
        3 => (family.to_string(), given.to_string()),
        4 => (format!("{given} {family}"), String::new()),
        _ => (given.to_lowercase(), family.to_uppercase()),
    }
}

proptest! {
    #![proptest_config(config())]

    /// Invariant 18 (issue 11, defect 2): contacts sharing an e-mail with more than one
    /// candidate are held on every later run, incremental or full, whatever is edited on
    /// either side (the shared e-mail kept): never linked, never created on the other side,
    /// never deleted, and the report lists them all. Unrelated contacts still sync.
    #[test]
    fn an_ambiguity_holds_across_incremental_runs_with_random_edits(
        two_in_crm in any::<bool>(),
        edits in prop::collection::vec((held_edit(), any::<bool>(), any::<u64>()), 1..10),
    ) {
        let cfg = open_config();
        let mut world = World::default();
        let mut crm = vec![world.crm.create(crm_fields("Lou", "Roux", &["accueil@roux.fr"], &[], ""))];
        let mut remote = vec![world.remote.create(remote_contact("Lou", "Roux", &["Accueil@Roux.fr"], &[], ""))];
        if two_in_crm {
            crm.push(world.crm.create(crm_fields("Max", "Roux", &["ACCUEIL@roux.fr"], &[], "")));
        } else {
            remote.push(world.remote.create(remote_contact("Max", "Roux", &[" accueil@roux.fr"], &[], "")));
        }
        let held = |state: &str, summary: &Option<contact_sync::engine::PlanSummary>| -> Result<(), TestCaseError> {
            let st = SpokeState::from_json(state).unwrap();
            for id in &crm {
                prop_assert!(st.remote_of(id).is_none(), "{} linked", id);
            }
            for id in &remote {
                prop_assert!(st.crm_of(id).is_none(), "{} linked", id);
            }
            prop_assert_eq!(st.held.len(), 1);
            prop_assert_eq!((&st.held[0].crm_ids, &st.held[0].remote_ids), (&crm, &remote));
            let pending = &summary.as_ref().unwrap().pending_matches;
            prop_assert_eq!(pending.len(), 1, "the report lists them");
            prop_assert_eq!(pending[0].crm.len() + pending[0].remote.len(), 3);
            Ok(())
        };
        let o = run(&mut world, &cfg, "", &Faults::default());
        held(&o.state, &o.summary)?;
        let mut state = o.state;
        for (k, (e, full, shuffle)) in edits.iter().enumerate() {
            apply_held(&mut world, &crm, &remote, e, k as u32 + 1);
            let o = run(&mut world, &cfg, &state, &Faults { full: *full, shuffle: *shuffle, ..Faults::default() });
            prop_assert!(o.error.is_none());
            held(&o.state, &o.summary)?;
            state = o.state;
            let shared = |emails: Vec<&str>| emails.iter().any(|e| e.trim().eq_ignore_ascii_case("accueil@roux.fr"));
            prop_assert_eq!(world.crm.contacts.values().filter(|c| shared(c.fields["emails"].as_array().map(|a| a.iter().filter_map(|e| e["value"].as_str()).collect()).unwrap_or_default())).count(), crm.len(), "no CRM copy made");
            prop_assert_eq!(world.remote.records.values().filter(|r| shared(r.contact.emails.iter().map(|e| e.value.as_str()).collect())).count(), remote.len(), "no card made");
        }
        // Everything else is linked as usual.
        let state = settle(&mut world, &cfg, state, 3)?;
        one_to_one(&world, &state).map_err(TestCaseError::fail)?;
    }

    /// Invariant 19 (issue 11, defect 3, scenario 14): two people sharing a phone and no
    /// e-mail are never linked when their names belong to two different people, however
    /// each side types them; neither name nor e-mail crosses. The same person typed two ways
    /// links (or, at worst, is proposed).
    #[test]
    fn a_phone_only_match_never_merges_incompatible_names(
        a in (0..GIVEN.len(), 0..FAMILY.len()),
        b in (0..GIVEN.len(), 0..FAMILY.len()),
        how_crm in any::<u8>(),
        how_remote in any::<u8>(),
        crm_local_format in any::<bool>(),
    ) {
        let cfg = open_config();
        let mut world = World::default();
        let (cg, cf) = typed(GIVEN[a.0], FAMILY[a.1], how_crm);
        let (rg, rf) = typed(GIVEN[b.0], FAMILY[b.1], how_remote);
        let phone = if crm_local_format { "06 98 76 54 32" } else { "+33698765432" };
        let c = world.crm.create(crm_fields(&cg, &cf, &["crm.side@x.fr"], &[phone], ""));
        let r = world.remote.create(remote_contact(&rg, &rf, &["remote.side@y.fr"], &["+33 6 98 76 54 32"], ""));
        let state = settle(&mut world, &cfg, String::new(), 3)?;
        let st = SpokeState::from_json(&state).unwrap();
        if a != b {
            prop_assert!(st.remote_of(&c).is_none(), "{} {} linked to {} {}", cg, cf, rg, rf);
            prop_assert_eq!(world.remote.records[&r].contact.name.given.as_str(), rg.as_str());
            prop_assert_eq!(world.remote.records[&r].contact.emails.len(), 1);
            prop_assert_eq!(world.crm.contacts[&c].fields["firstName"].as_str().unwrap_or(""), cg.as_str());
            prop_assert_eq!(world.crm.contacts[&c].fields["emails"].as_array().map(Vec::len), Some(1));
            prop_assert_eq!(st.held.len(), 1, "proposed to the operator");
        } else {
            prop_assert!(st.remote_of(&c) == Some(r.as_str()) || st.held.len() == 1);
        }
        one_to_one(&world, &state).map_err(TestCaseError::fail)?;
    }

    /// Issue 11, defect 14 (invariant 7's other face): a CRM id on a remote copy that this
    /// installation did not sign for this spoke — bare, with a made-up MAC, signed under
    /// another key or for another spoke — never links that copy to the contact it names
    /// unless the copy shares that contact's e-mail (and the contact is exported) — what
    /// matching alone would do. The named contact is never overwritten from the copy.
    #[test]
    fn a_forged_crm_id_never_links(
        n in 1usize..5,
        target in any::<u8>(),
        form in 0u8..4,
        outside_filter in any::<bool>(),
        mac in "[0-9a-f]{32}",
        crash in prop::option::of(0usize..6),
    ) {
        let mut cfg = open_config();
        cfg.filter.mode = FilterMode::Tags;
        cfg.filter.tags = vec!["export".into()];
        let mut world = World::default();
        let ids: Vec<String> = (0..n).map(|i| world.crm.create(crm_fields("Real", &format!("P{i}"), &[&format!("p{i}@x.fr")], &[], ""))).collect();
        for id in &ids {
            world.crm.contacts.get_mut(id).unwrap().tags = vec!["export".into()];
        }
        let named = ids[target as usize % n].clone();
        if outside_filter {
            world.crm.contacts.get_mut(&named).unwrap().tags.clear();
        }
        let before = world.crm.contacts[&named].fields.clone();
        let other_key = contact_sync::engine::carried_id::IdKey::from_bytes(&[7; 32]);
        let token = match form {
            0 => named.clone(),
            1 => format!("{named}.{mac}"),
            2 => contact_sync::engine::carried_id::token(other_key.as_ref(), &cfg.spoke_id, &named),
            _ => contact_sync::engine::carried_id::token(cfg.id_key.as_ref(), "another-spoke", &named),
        };
        let forged = world.remote.create(remote_contact("Mallory", "Intrus", &["mallory@z.net"], &[], ""));
        world.remote.records.get_mut(&forged).unwrap().crm_id = Some(token);
        let o = run(&mut world, &cfg, "", &Faults { crash_after: crash, ..Faults::default() });
        let state = settle(&mut world, &cfg, o.state, 4)?;
        let st = SpokeState::from_json(&state).unwrap();
        prop_assert_ne!(st.remote_of(&named), Some(forged.as_str()));
        prop_assert_eq!(&world.crm.contacts[&named].fields, &before, "the named contact is untouched");
        prop_assert_eq!(world.remote.records[&forged].contact.name.family.as_str(), "Intrus");
    }
}

#[test]
fn mirrored_policy_mirrors_the_result() {
    // Invariant 15 (symmetry): a conflict settled "CRM wins" with the edit on the CRM
    // equals the mirror of "remote wins" with the edit on the remote.
    let run_case = |crm_side: bool| {
        let mut cfg = open_config();
        let mut rows: Vec<FieldMappingRow> = default_mapping();
        for r in &mut rows {
            r.priority = if crm_side { Priority::Crm } else { Priority::Remote };
        }
        cfg.fields = rows;
        let mut world = World::default();
        let id = world.crm.create(crm_fields("S", "T", &["s@x.fr"], &[], ""));
        let o = run(&mut world, &cfg, "", &Faults::default());
        let rid = SpokeState::from_json(&o.state).unwrap().remote_of(&id).unwrap().to_string();
        world.crm.set(&id, "firstName", json!(if crm_side { "winner" } else { "loser" }));
        world.remote.edit(&rid, |c| c.name.given = if crm_side { "loser" } else { "winner" }.into());
        let o2 = run(&mut world, &cfg, &o.state, &Faults::default());
        (world.crm.contacts[&id].fields["firstName"].clone(), world.remote.records[&rid].contact.name.given.clone(), o2.conflicts)
    };
    assert_eq!(run_case(true), run_case(false));
    assert_eq!(run_case(true).0, json!("winner"));
}
