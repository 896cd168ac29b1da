//! A simulated CRM and a simulated remote address book, and a small runner that drives a
//! `SyncSession` against them with injected write failures, crash points and shuffled
//! page orders. Shared by the engine's property and scenario tests.
#![allow(dead_code)]

use contact_sync::crm::{CrmContact, CrmPatch};
use contact_sync::engine::model::{Contact, Email, Phone, RemoteRecord, ValueKind};
use contact_sync::engine::plan::{WriteOp, WriteResult};
use contact_sync::engine::session::{Listing, SyncSession};
use contact_sync::engine::state::SpokeState;
use contact_sync::engine::{EngineError, Side, SyncConfig};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Proptest case count: PROPTEST_CASES, default 2,000.
pub fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000)
}

pub fn config() -> proptest::test_runner::Config {
    proptest::test_runner::Config { cases: cases(), failure_persistence: None, max_shrink_iters: 2000, ..proptest::test_runner::Config::default() }
}

fn iso(t: u64) -> String {
    format!("2025-01-01T00:{:02}:{:02}Z", (t / 60) % 60, t % 60)
}

/// A CRM with versions, a change log (cursor = sequence number) and tombstones.
#[derive(Debug, Clone, Default)]
pub struct SimCrm {
    pub contacts: BTreeMap<String, CrmContact>,
    pub seq: u64,
    pub changed_at: BTreeMap<String, u64>,
    pub next_id: u64,
    pub clock: u64,
    pub writes: usize,
}

impl SimCrm {
    fn touch(&mut self, id: &str) {
        self.seq += 1;
        self.clock += 1;
        self.changed_at.insert(id.to_string(), self.seq);
    }

    /// A person creates a contact.
    pub fn create(&mut self, fields: Map<String, Value>) -> String {
        self.next_id += 1;
        let id = format!("c{}", self.next_id);
        self.touch(&id);
        self.contacts.insert(id.clone(), CrmContact { id: id.clone(), version: 1, updated_at: iso(self.clock), deleted: false, fields, lists: vec![], tags: vec![] });
        id
    }

    /// A person (or the plugin) edits a field.
    pub fn set(&mut self, id: &str, field: &str, v: Value) {
        if self.contacts.contains_key(id) {
            self.touch(id);
            let clock = self.clock;
            if let Some(c) = self.contacts.get_mut(id) {
                c.fields.insert(field.into(), v);
                c.version += 1;
                c.updated_at = iso(clock);
            }
        }
    }

    /// Marks a contact changed (after editing `contacts` directly in a test).
    pub fn touch_for_test(&mut self, id: &str) {
        self.touch(id);
        let clock = self.clock;
        if let Some(c) = self.contacts.get_mut(id) {
            c.version += 1;
            c.updated_at = iso(clock);
        }
    }

    pub fn delete(&mut self, id: &str) {
        if self.contacts.remove(id).is_some() {
            self.touch(id);
        }
    }

    /// The listing: full (live only) or since `cursor` (with tombstones).
    pub fn list(&self, cursor: Option<u64>) -> Vec<CrmContact> {
        match cursor {
            None => self.contacts.values().cloned().collect(),
            Some(c) => self
                .changed_at
                .iter()
                .filter(|(_, s)| **s > c)
                .map(|(id, _)| self.contacts.get(id).cloned().unwrap_or(CrmContact { id: id.clone(), version: 0, updated_at: String::new(), deleted: true, fields: Map::new(), lists: vec![], tags: vec![] }))
                .collect(),
        }
    }

    fn apply(&mut self, op: &WriteOp) -> WriteResult {
        self.writes += 1;
        match op {
            WriteOp::CrmCreate { contact, .. } => {
                let id = self.create(contact.fields.clone());
                if let Some(c) = self.contacts.get_mut(&id) {
                    c.lists = contact.lists.clone();
                    c.tags = contact.tags.clone();
                }
                WriteResult::Crm(self.contacts[&id].clone())
            }
            WriteOp::CrmUpdate { crm_id, expected_version, patch } => {
                let Some(c) = self.contacts.get(crm_id) else { return WriteResult::Failed(EngineError::new("NOT_FOUND", "gone", "")) };
                if c.version != *expected_version {
                    return WriteResult::Failed(EngineError::new("CONFLICT", "stale", ""));
                }
                self.touch(crm_id);
                let clock = self.clock;
                let Some(c) = self.contacts.get_mut(crm_id) else { return WriteResult::Failed(EngineError::new("NOT_FOUND", "gone", "")) };
                apply_patch(c, patch);
                c.version += 1;
                c.updated_at = iso(clock);
                WriteResult::Crm(c.clone())
            }
            WriteOp::CrmDelete { crm_id, expected_version } => match self.contacts.get(crm_id) {
                Some(c) if c.version != *expected_version => WriteResult::Failed(EngineError::new("CONFLICT", "stale", "")),
                Some(_) => {
                    self.delete(crm_id);
                    WriteResult::Deleted
                }
                None => WriteResult::Deleted,
            },
            _ => WriteResult::Failed(EngineError::new("INTERNAL", "wrong side", "")),
        }
    }
}

fn apply_patch(c: &mut CrmContact, p: &CrmPatch) {
    if let Some(f) = &p.fields {
        for (k, v) in f {
            c.fields.insert(k.clone(), v.clone());
        }
    }
    if let Some(l) = &p.lists {
        c.lists = l.clone();
    }
    if let Some(t) = &p.tags {
        c.tags = t.clone();
    }
}

/// A remote address book: server-assigned ids and etags, a change log, tombstones, and
/// optional reformatting of phone numbers (as providers do).
#[derive(Debug, Clone, Default)]
pub struct SimRemote {
    pub records: BTreeMap<String, RemoteRecord>,
    pub seq: u64,
    pub changed_at: BTreeMap<String, u64>,
    pub next_id: u64,
    pub clock: u64,
    pub writes: usize,
    pub reformat_phones: bool,
}

impl SimRemote {
    fn touch(&mut self, id: &str) {
        self.seq += 1;
        self.clock += 1;
        self.changed_at.insert(id.to_string(), self.seq);
    }

    fn store(&mut self, id: &str, mut rec: RemoteRecord) -> RemoteRecord {
        self.touch(id);
        rec.id = id.to_string();
        rec.etag = format!("e{}", self.seq);
        rec.updated_at = iso(self.clock + 1000);
        rec.deleted = false;
        if self.reformat_phones {
            for p in &mut rec.contact.phones {
                let digits: String = p.value.chars().filter(|c| c.is_ascii_digit()).collect();
                if let Some(rest) = digits.strip_prefix('0').filter(|r| r.len() == 9) {
                    p.value = format!("+33 {} {} {} {} {}", &rest[..1], &rest[1..3], &rest[3..5], &rest[5..7], &rest[7..9]);
                }
            }
        }
        self.records.insert(id.to_string(), rec.clone());
        rec
    }

    pub fn create(&mut self, contact: Contact) -> String {
        self.next_id += 1;
        let id = format!("people/{}", self.next_id);
        self.store(&id, RemoteRecord { contact, ..RemoteRecord::default() });
        id
    }

    pub fn edit(&mut self, id: &str, f: impl FnOnce(&mut Contact)) {
        if let Some(mut r) = self.records.get(id).cloned() {
            f(&mut r.contact);
            self.store(id, r);
        }
    }

    pub fn delete(&mut self, id: &str) {
        if self.records.remove(id).is_some() {
            self.touch(id);
        }
    }

    pub fn list(&self, cursor: Option<u64>) -> Vec<RemoteRecord> {
        match cursor {
            None => self.records.values().cloned().collect(),
            Some(c) => self
                .changed_at
                .iter()
                .filter(|(_, s)| **s > c)
                .map(|(id, _)| self.records.get(id).cloned().unwrap_or(RemoteRecord { id: id.clone(), deleted: true, ..RemoteRecord::default() }))
                .collect(),
        }
    }

    fn apply(&mut self, op: &WriteOp) -> WriteResult {
        self.writes += 1;
        match op {
            WriteOp::RemoteCreate { record, .. } => {
                self.next_id += 1;
                let id = format!("people/{}", self.next_id);
                WriteResult::Remote(self.store(&id, record.clone()))
            }
            WriteOp::RemoteUpdate { remote_id, record, .. } => match self.records.get(remote_id) {
                None => WriteResult::Failed(EngineError::new("NOT_FOUND", "gone", "")),
                Some(cur) if cur.etag != record.etag => WriteResult::Failed(EngineError::new("CONFLICT", "etag", "")),
                Some(_) => WriteResult::Remote(self.store(remote_id, record.clone())),
            },
            WriteOp::RemoteDelete { remote_id, etag } => match self.records.get(remote_id) {
                Some(cur) if cur.etag != *etag => WriteResult::Failed(EngineError::new("CONFLICT", "etag", "")),
                Some(_) => {
                    self.delete(remote_id);
                    WriteResult::Deleted
                }
                None => WriteResult::Deleted,
            },
            _ => WriteResult::Failed(EngineError::new("INTERNAL", "wrong side", "")),
        }
    }
}

/// Both sides.
#[derive(Debug, Clone, Default)]
pub struct World {
    pub crm: SimCrm,
    pub remote: SimRemote,
}

/// Faults for one run.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Write number n (0-based, in execution order) fails.
    pub fail: Vec<usize>,
    /// After applying write n to the world, the run dies before reporting it.
    pub crash_after: Option<usize>,
    /// The remote listing answers an error.
    pub remote_listing_fails: bool,
    /// Seed for page order.
    pub shuffle: u64,
    /// Force a full listing of both sides (cursor expired).
    pub full: bool,
}

#[derive(Debug, Clone, Default)]
pub struct RunOutcome {
    pub state: String,
    pub writes: usize,
    pub crashed: bool,
    pub error: Option<EngineError>,
    pub conflicts: usize,
    pub ambiguous: usize,
    pub summary: Option<contact_sync::engine::PlanSummary>,
    pub journal: Option<contact_sync::engine::journal::Journal>,
}

fn shuffled<T>(mut v: Vec<T>, seed: u64) -> Vec<Vec<T>> {
    // Deterministic Fisher-Yates with an LCG, then pages of 3.
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    for i in (1..v.len()).rev() {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let j = (x >> 33) as usize % (i + 1);
        v.swap(i, j);
    }
    let mut pages = Vec::new();
    while !v.is_empty() {
        let rest = v.split_off(v.len().min(3));
        pages.push(v);
        v = rest;
    }
    pages
}

/// One run of the test runner: the call order documented in `engine::session`.
pub fn run(world: &mut World, cfg: &SyncConfig, state_json: &str, faults: &Faults) -> RunOutcome {
    let state = if state_json.is_empty() { SpokeState::new() } else { SpokeState::from_json(state_json).expect("state loads") };
    let crm_cursor = if faults.full { None } else { state.crm_cursor.as_ref().and_then(|c| c.parse().ok()) };
    let remote_cursor = if faults.full { None } else { state.remote_cursor.as_ref().and_then(|c| c.parse().ok()) };
    let mut saved = state.to_json();
    let mut s = SyncSession::new(cfg.clone(), state).expect("config valid");
    let kind = |c: Option<u64>| if c.is_some() { Listing::Incremental } else { Listing::Full };
    for page in shuffled(world.crm.list(crm_cursor), faults.shuffle) {
        s.handle_crm_page(page, kind(crm_cursor));
    }
    s.handle_crm_listing_done(&world.crm.seq.to_string(), kind(crm_cursor));
    if faults.remote_listing_fails {
        s.handle_remote_listing_failed(EngineError::new("BAD_RESPONSE", "500", "retry"));
    } else {
        for page in shuffled(world.remote.list(remote_cursor), faults.shuffle.wrapping_add(7)) {
            s.handle_remote_page(page, kind(remote_cursor));
        }
        s.handle_remote_listing_done(&world.remote.seq.to_string(), kind(remote_cursor));
    }
    for _ in 0..4 {
        let f = s.poll_fetch();
        if f.is_empty() {
            break;
        }
        let (found, missing): (Vec<_>, Vec<_>) = f.crm_ids.iter().partition(|id| world.crm.contacts.contains_key(*id));
        s.handle_crm_page(found.iter().map(|id| world.crm.contacts[*id].clone()).collect(), Listing::Fetched);
        s.handle_crm_missing(&missing.into_iter().cloned().collect::<Vec<_>>());
        let (found, missing): (Vec<_>, Vec<_>) = f.remote_ids.iter().partition(|id| world.remote.records.contains_key(*id));
        s.handle_remote_page(found.iter().map(|id| world.remote.records[*id].clone()).collect(), Listing::Fetched);
        s.handle_remote_missing(&missing.into_iter().cloned().collect::<Vec<_>>());
    }
    let mut out = RunOutcome::default();
    let mut n = 0usize;
    for _round in 0..4 {
        let plan = match s.plan() {
            Ok(p) => p,
            Err(e) => {
                out.error = Some(e);
                break;
            }
        };
        if plan.is_empty() {
            break;
        }
        saved = s.checkpoint().to_json();
        for w in &plan.writes {
            let result = if faults.fail.contains(&n) {
                WriteResult::Failed(EngineError::new("NETWORK", "injected", "retry").retryable())
            } else {
                match w.op.side() {
                    contact_sync::engine::Side::Crm => world.crm.apply(&w.op),
                    contact_sync::engine::Side::Remote => world.remote.apply(&w.op),
                }
            };
            if faults.crash_after == Some(n) {
                out.state = saved;
                out.crashed = true;
                out.writes = n + 1;
                return out;
            }
            n += 1;
            s.handle_write_result(w.id, result);
            if n % 2 == 0 {
                saved = s.checkpoint().to_json();
            }
        }
    }
    let _ = saved;
    out.state = s.checkpoint().to_json();
    out.writes = n;
    out.conflicts = s.summary().counts.conflicts as usize;
    out.ambiguous = s.summary().counts.ambiguous as usize;
    out.summary = Some(s.summary().clone());
    out.journal = Some(s.journal().clone());
    out
}

pub fn crm_fields(first: &str, last: &str, emails: &[&str], phones: &[&str], note: &str) -> Map<String, Value> {
    let mut m = Map::new();
    if !first.is_empty() {
        m.insert("firstName".into(), json!(first));
    }
    if !last.is_empty() {
        m.insert("lastName".into(), json!(last));
    }
    if !emails.is_empty() {
        m.insert("emails".into(), Value::Array(emails.iter().map(|e| json!({"value": e, "type": "work"})).collect()));
    }
    if !phones.is_empty() {
        m.insert("phones".into(), Value::Array(phones.iter().map(|p| json!({"value": p, "type": "mobile"})).collect()));
    }
    if !note.is_empty() {
        m.insert("notes".into(), json!(note));
    }
    m
}

pub fn remote_contact(first: &str, last: &str, emails: &[&str], phones: &[&str], note: &str) -> Contact {
    let mut c = Contact::default();
    c.name.given = first.into();
    c.name.family = last.into();
    c.emails = emails.iter().map(|e| Email { value: (*e).into(), kind: ValueKind::Work, primary: false }).collect();
    c.phones = phones.iter().map(|p| Phone { value: (*p).into(), kind: ValueKind::Mobile, primary: false }).collect();
    c.note = note.into();
    c
}

/// Config used by most tests: everything allowed, guard wide open (tests of the guard set
/// it), CRM ids on remote copies signed as the runner has them signed.
pub fn open_config() -> SyncConfig {
    SyncConfig {
        max_delete_share: 1.0,
        deletion: contact_sync::engine::DeletionPolicy::Propagate,
        spoke_id: "spoke".into(),
        id_key: contact_sync::engine::carried_id::IdKey::from_bytes(&[42; 32]),
        ..SyncConfig::default()
    }
}

/// Checks every linked pair agrees on every default-mapped field (normalized).
pub fn converged(world: &World, cfg: &SyncConfig, state_json: &str) -> Result<(), String> {
    use contact_sync::engine::mapping::{default_mapping, norm_of, BlockUse, Codec};
    let state = SpokeState::from_json(state_json).map_err(|e| e.to_string())?;
    let codec = Codec::new(&cfg.default_region);
    for (cid, link) in &state.links {
        let c = world.crm.contacts.get(cid).ok_or(format!("linked CRM {cid} missing"))?;
        let r = world.remote.records.get(&link.remote_id).ok_or(format!("linked remote {} missing", link.remote_id))?;
        for row in default_mapping() {
            let shape = Codec::shape(&row.remote_field);
            let a = norm_of(shape, &codec.read_crm(c, &row.crm_field, shape, BlockUse::None));
            let b = norm_of(shape, &codec.read_remote(&r.contact, &row.remote_field, &[]));
            if a != b {
                return Err(format!("{cid}/{} field {}: crm {a:?} remote {b:?}", link.remote_id, row.crm_field));
            }
        }
    }
    Ok(())
}

/// No duplicates: every contact on each side is linked, once, or left unlinked on purpose
/// (retired, or held for the operator's decision: a possible match on a shared phone);
/// a held contact is never linked.
pub fn one_to_one(world: &World, state_json: &str) -> Result<(), String> {
    let state = SpokeState::from_json(state_json).map_err(|e| e.to_string())?;
    if !state.is_bijection() {
        return Err("links are not a bijection".into());
    }
    let linked_remote: std::collections::BTreeSet<&str> = state.links.values().map(|l| l.remote_id.as_str()).collect();
    let held = |side: Side, id: &str| state.held.iter().any(|g| g.holds(side, id));
    for id in world.crm.contacts.keys() {
        let linked = state.links.contains_key(id);
        if linked && held(Side::Crm, id) {
            return Err(format!("CRM contact {id} is held and linked"));
        }
        if !linked && !state.retired_crm.contains(id) && !held(Side::Crm, id) {
            return Err(format!("CRM contact {id} is not linked"));
        }
    }
    for id in world.remote.records.keys() {
        let linked = linked_remote.contains(id.as_str());
        if linked && held(Side::Remote, id) {
            return Err(format!("remote record {id} is held and linked"));
        }
        if !linked && !state.retired_remote.contains(id) && !held(Side::Remote, id) {
            return Err(format!("remote record {id} is not linked (a duplicate?) crm={} remote={}", world.crm.contacts.len(), world.remote.records.len()));
        }
    }
    Ok(())
}
