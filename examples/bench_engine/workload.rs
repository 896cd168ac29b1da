//! The engine benchmark's workload, shared by the native example and the wasm test:
//! 25,000 CRM contacts against 25,000 remote contacts, 20,000 of them the same people
//! (matched by e-mail; phones written differently on each side), 5,000 only on each side.
//! No clock inside: `now` (milliseconds) is passed in.

use contact_sync::crm::{CrmContact, CrmPatch};
use contact_sync::engine::model::{Address, Contact, Email, Phone, RemoteRecord, ValueKind};
use contact_sync::engine::plan::{SyncPlan, WriteOp, WriteResult};
use contact_sync::engine::session::{Listing, SyncSession};
use contact_sync::engine::state::SpokeState;
use contact_sync::engine::SyncConfig;
use serde_json::{json, Map};
use std::collections::BTreeMap;

pub const CONTACTS: usize = 25_000;
pub const SHARED: usize = 20_000;

const FIRST: &[&str] = &["Camille", "Léa", "Louis", "Chloé", "Hugo", "Inès", "Jules", "Zoé", "Arthur", "Manon", "Élodie", "Noé"];
const LAST: &[&str] = &["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent"];

fn phone_digits(i: usize) -> String {
    format!("6{:08}", 10_000_000 + i)
}

fn crm_contact(i: usize) -> CrmContact {
    let first = FIRST[i % FIRST.len()];
    let last = LAST[(i / 7) % LAST.len()];
    let d = phone_digits(i);
    let mut f = Map::new();
    f.insert("firstName".into(), json!(first));
    f.insert("lastName".into(), json!(format!("{last}{i}")));
    f.insert("company".into(), json!(format!("Société {}", i % 900)));
    if i % 3 == 0 {
        f.insert("jobTitle".into(), json!("Responsable achats"));
    }
    f.insert("emails".into(), json!([{ "value": format!("{}.{}{}@societe{}.fr", first.to_lowercase(), last.to_lowercase(), i, i % 900), "type": "work", "primary": true }]));
    f.insert("phones".into(), json!([{ "value": format!("0{} {} {} {} {}", &d[..1], &d[1..3], &d[3..5], &d[5..7], &d[7..9]), "type": "mobile" }]));
    if i % 4 == 0 {
        f.insert("addresses".into(), json!([{ "street": format!("{} rue de la Paix", i % 200), "city": "Paris", "postalCode": "75002", "country": "France", "type": "work" }]));
    }
    if i % 10 == 0 {
        f.insert("notes".into(), json!("Rencontré au salon."));
    }
    CrmContact { id: format!("crm-{i}"), version: 3, updated_at: "2025-03-01T10:00:00Z".into(), deleted: false, fields: f, lists: vec![], tags: vec![] }
}

fn remote_record(i: usize) -> RemoteRecord {
    let first = FIRST[i % FIRST.len()];
    let last = LAST[(i / 7) % LAST.len()];
    let d = phone_digits(i);
    let mut c = Contact::default();
    c.name.given = first.into();
    c.name.family = format!("{last}{i}");
    c.organization.name = format!("Société {}", i % 900);
    if i % 3 == 0 {
        c.organization.title = "Responsable achats".into();
    }
    c.emails = vec![Email { value: format!("{}.{}{}@Societe{}.fr", first, last, i, i % 900), kind: ValueKind::Work, primary: true }];
    c.phones = vec![Phone { value: format!("+33 {} {} {} {} {}", &d[..1], &d[1..3], &d[3..5], &d[5..7], &d[7..9]), kind: ValueKind::Mobile, primary: false }];
    if i % 4 == 0 {
        c.addresses = vec![Address { street: format!("{} Rue de la Paix", i % 200), city: "PARIS".into(), postal_code: "75002".into(), country: "France".into(), kind: ValueKind::Work, ..Address::default() }];
    }
    if i % 10 == 0 {
        c.note = "Rencontré au salon.".into();
    }
    RemoteRecord { id: format!("people/c{i}"), etag: format!("%E{i}"), updated_at: "2025-03-02T10:00:00Z".into(), ..RemoteRecord { contact: c, ..RemoteRecord::default() } }
}

/// The two sides, in memory.
pub struct World {
    pub crm: BTreeMap<String, CrmContact>,
    pub remote: BTreeMap<String, RemoteRecord>,
    next: usize,
}

impl World {
    /// 25,000 on each side, 20,000 shared.
    pub fn generate() -> World {
        let crm = (0..CONTACTS).map(crm_contact).map(|c| (c.id.clone(), c)).collect();
        // Remote: the shared people 0..SHARED plus 5,000 people only the remote has.
        let remote = (0..SHARED).chain(CONTACTS..CONTACTS + (CONTACTS - SHARED)).map(remote_record).map(|r| (r.id.clone(), r)).collect();
        World { crm, remote, next: 0 }
    }

    /// Applies a write as the sides would, answering like them.
    pub fn apply(&mut self, op: &WriteOp) -> WriteResult {
        self.next += 1;
        let n = self.next;
        match op {
            WriteOp::CrmCreate { contact, .. } => {
                let c = CrmContact { id: format!("crm-new-{n}"), version: 1, updated_at: "2025-03-03T10:00:00Z".into(), deleted: false, fields: contact.fields.clone(), lists: contact.lists.clone(), tags: contact.tags.clone() };
                self.crm.insert(c.id.clone(), c.clone());
                WriteResult::Crm(c)
            }
            WriteOp::CrmUpdate { crm_id, patch, .. } => match self.crm.get_mut(crm_id) {
                Some(c) => {
                    apply_patch(c, patch);
                    c.version += 1;
                    WriteResult::Crm(c.clone())
                }
                None => WriteResult::Deleted,
            },
            WriteOp::RemoteCreate { record, .. } => {
                let r = RemoteRecord { id: format!("people/new{n}"), etag: format!("%N{n}"), ..record.clone() };
                self.remote.insert(r.id.clone(), r.clone());
                WriteResult::Remote(r)
            }
            WriteOp::RemoteUpdate { remote_id, record, .. } => {
                let r = RemoteRecord { id: remote_id.clone(), etag: format!("%U{n}"), ..record.clone() };
                self.remote.insert(r.id.clone(), r.clone());
                WriteResult::Remote(r)
            }
            WriteOp::CrmDelete { crm_id, .. } => {
                self.crm.remove(crm_id);
                WriteResult::Deleted
            }
            WriteOp::RemoteDelete { remote_id, .. } => {
                self.remote.remove(remote_id);
                WriteResult::Deleted
            }
        }
    }
}

fn apply_patch(c: &mut CrmContact, p: &CrmPatch) {
    if let Some(f) = &p.fields {
        for (k, v) in f {
            c.fields.insert(k.clone(), v.clone());
        }
    }
}

/// What the benchmark measured.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub first_plan_ms: f64,
    /// Of `first_plan_ms`: handing both listings to the session (before `plan`).
    pub first_feed_ms: f64,
    pub first_writes: usize,
    pub linked_by_email: u32,
    pub confirm_ms: f64,
    pub state_bytes: usize,
    pub state_save_ms: f64,
    pub state_load_ms: f64,
    pub incremental_plan_ms: f64,
    /// The same, counting the copies of the changed and fetched records out of the
    /// simulated sides (how it was measured before 2026-11-24's speed pass).
    pub incremental_with_copies_ms: f64,
    pub incremental_writes: usize,
    pub second_round_writes: usize,
}

/// Runs the first sync and an incremental one with 1% of each side changed.
pub fn run(now: &dyn Fn() -> f64) -> Figures {
    let mut f = Figures::default();
    let (mut world, cfg, json) = first_run(now, &mut f);
    incremental(now, &mut world, &cfg, &json, &mut f);
    f
}

/// The first sync: both sides listed in full, matched, merged, every write confirmed, the
/// state saved. Returns the sides after it, the configuration and the saved state.
pub fn first_run(now: &dyn Fn() -> f64, f: &mut Figures) -> (World, SyncConfig, String) {
    let mut world = World::generate();
    let cfg = SyncConfig { max_delete_share: 0.1, ..SyncConfig::default() };

    // First run: full listings, matching and merge of everything. The pages are owned
    // values, as the runner gets them from decoding the sides' answers: copying them out of
    // the simulated sides is not the engine's work and happens before the clock starts.
    let crm_page: Vec<CrmContact> = world.crm.values().cloned().collect();
    let remote_page: Vec<RemoteRecord> = world.remote.values().cloned().collect();
    let t0 = now();
    let (mut s, plan, fed_at) = first_plan(now, &cfg, crm_page, remote_page);
    f.first_plan_ms = now() - t0;
    f.first_feed_ms = fed_at - t0;
    f.first_writes = plan.writes.len();
    f.linked_by_email = plan.summary.counts.linked_by_email;

    let t1 = now();
    for w in &plan.writes {
        let r = world.apply(&w.op);
        s.handle_write_result(w.id, r);
    }
    // Second round: CRM contacts created from remote records are stamped with their id.
    let plan2 = s.plan().expect("second round");
    f.second_round_writes = plan2.writes.len();
    for w in &plan2.writes {
        let r = world.apply(&w.op);
        s.handle_write_result(w.id, r);
    }
    f.confirm_ms = now() - t1;
    let t2 = now();
    let json = s.checkpoint().to_json();
    f.state_save_ms = now() - t2;
    f.state_bytes = json.len();
    drop(s);
    (world, cfg, json)
}

/// The measured part of the first run: a session fed both full listings, and its plan.
/// Not inlined, so that a profiler can count this part alone
/// (`valgrind --tool=callgrind --toggle-collect='*first_plan*'`).
#[inline(never)]
fn first_plan(now: &dyn Fn() -> f64, cfg: &SyncConfig, crm_page: Vec<CrmContact>, remote_page: Vec<RemoteRecord>) -> (SyncSession, SyncPlan, f64) {
    let mut s = SyncSession::new(cfg.clone(), SpokeState::new()).expect("default config");
    s.handle_crm_page(crm_page, Listing::Full);
    s.handle_crm_listing_done("crm-cursor-1", Listing::Full);
    s.handle_remote_page(remote_page, Listing::Full);
    s.handle_remote_listing_done("token-1", Listing::Full);
    let fed_at = now();
    let plan = s.plan().expect("first plan");
    (s, plan, fed_at)
}

/// The incremental run after [`run`]'s first run: 1% of each side changed, the state
/// loaded from `json`, the changed records and their counterparts fed, plan.
pub fn incremental(now: &dyn Fn() -> f64, world: &mut World, cfg: &SyncConfig, json: &str, f: &mut Figures) {
    // Incremental run: 1% of each side changed.
    let changed_crm: Vec<String> = world.crm.keys().step_by(100).cloned().collect();
    for id in &changed_crm {
        if let Some(c) = world.crm.get_mut(id) {
            c.fields.insert("jobTitle".into(), json!("Directrice commerciale"));
            c.version += 1;
            c.updated_at = "2025-03-04T10:00:00Z".into();
        }
    }
    let changed_remote: Vec<String> = world.remote.keys().skip(50).step_by(100).cloned().collect();
    for id in &changed_remote {
        if let Some(r) = world.remote.get_mut(id) {
            r.contact.note = "Appeler en avril".into();
            r.etag.push('x');
            r.updated_at = "2025-03-04T11:00:00Z".into();
        }
    }
    let t3 = now();
    let state = SpokeState::from_json(json).expect("state loads");
    f.state_load_ms = now() - t3;
    // As on the first run, the pages are owned copies made before the clock starts, and
    // the copies of the records the session asks to fetch are timed apart and left out.
    let crm_page: Vec<CrmContact> = changed_crm.iter().filter_map(|id| world.crm.get(id).cloned()).collect();
    let remote_page: Vec<RemoteRecord> = changed_remote.iter().filter_map(|id| world.remote.get(id).cloned()).collect();
    let t4 = now();
    let (session, plan, copy_ms) = incremental_plan(now, world, cfg, state, crm_page, remote_page);
    let total = now() - t4;
    f.incremental_with_copies_ms = total;
    f.incremental_plan_ms = total - copy_ms;
    // Dropping the session (the whole state) is not part of the plan.
    drop(session);
    f.incremental_writes = plan.writes.len();
}

/// The measured part of the incremental run (not inlined, like [`first_plan`]): the
/// changed records fed, their counterparts fetched, the plan; the session is returned so
/// that its drop is not timed, with the time spent copying the fetched records.
#[inline(never)]
fn incremental_plan(now: &dyn Fn() -> f64, world: &World, cfg: &SyncConfig, state: SpokeState, crm_page: Vec<CrmContact>, remote_page: Vec<RemoteRecord>) -> (SyncSession, SyncPlan, f64) {
    let mut s = SyncSession::new(cfg.clone(), state).expect("config");
    s.handle_crm_page(crm_page, Listing::Incremental);
    s.handle_crm_listing_done("crm-cursor-2", Listing::Incremental);
    s.handle_remote_page(remote_page, Listing::Incremental);
    s.handle_remote_listing_done("token-2", Listing::Incremental);
    let fetch = s.poll_fetch();
    let c0 = now();
    let fetched_crm: Vec<CrmContact> = fetch.crm_ids.iter().filter_map(|id| world.crm.get(id).cloned()).collect();
    let fetched_remote: Vec<RemoteRecord> = fetch.remote_ids.iter().filter_map(|id| world.remote.get(id).cloned()).collect();
    let copy_ms = now() - c0;
    s.handle_crm_page(fetched_crm, Listing::Fetched);
    s.handle_remote_page(fetched_remote, Listing::Fetched);
    let plan = s.plan().expect("incremental plan");
    (s, plan, copy_ms)
}
