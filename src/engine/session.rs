//! A sync run of one spoke, as a sans-IO state machine.
//!
//! Call order (the runner in `src/runner.rs` drives it; nothing here does I/O):
//!
//! 1. [`SyncSession::new`] with the [`SyncConfig`] and the stored [`SpokeState`]
//!    ([`SpokeState::from_json`], or [`SpokeState::new`] on a first run); then, if the
//!    operator decided about held matches, [`handle_decisions`](SyncSession::handle_decisions).
//! 2. Pull both sides, pages in any order:
//!    [`handle_crm_page`](SyncSession::handle_crm_page) /
//!    [`handle_remote_page`](SyncSession::handle_remote_page) with [`Listing::Full`] (no
//!    cursor, or the cursor expired) or [`Listing::Incremental`], then
//!    [`handle_crm_listing_done`](SyncSession::handle_crm_listing_done) /
//!    [`handle_remote_listing_done`](SyncSession::handle_remote_listing_done) with
//!    the next cursor and the listing kind, or `handle_*_listing_failed` (a failed listing is never deletions).
//! 3. While [`poll_fetch`](SyncSession::poll_fetch) names ids, fetch them and feed them with
//!    [`Listing::Fetched`] pages and `handle_*_missing` for ids that are gone.
//! 4. [`plan`](SyncSession::plan): the writes of this round, or an error (a guard).
//!    For a preview stop here. Otherwise save [`checkpoint`](SyncSession::checkpoint)
//!    (it holds the pending-create intents) before writing.
//! 5. Execute the writes in batches; report each outcome with
//!    [`handle_write_result`](SyncSession::handle_write_result); save a checkpoint after
//!    each confirmed batch.
//! 6. Call [`plan`](SyncSession::plan) again until it is empty (a CRM contact created from
//!    a remote record is stamped with its CRM id in a second round); failed pairs are not
//!    retried in the same run. Save the final checkpoint; read
//!    [`summary`](SyncSession::summary) and [`journal`](SyncSession::journal), and drop
//!    the [`settled_decisions`](SyncSession::settled_decisions) from where they were queued.
//!
//! A crash between any two steps is safe: the checkpoint holds only confirmed writes,
//! keeps the old cursors while writes are unresolved, marks their pairs to be looked at
//! again, and keeps pending-create intents, so the resumed run re-links what was created.
//!
//! ```
//! use contact_sync::crm::CrmContact;
//! use contact_sync::engine::{session::{Listing, SyncSession}, state::SpokeState, SyncConfig, RemoteRecord};
//! use contact_sync::engine::plan::{WriteOp, WriteResult};
//! let mut s = SyncSession::new(SyncConfig::default(), SpokeState::new()).unwrap();
//! let mut fields = serde_json::Map::new();
//! fields.insert("firstName".into(), "Ada".into());
//! s.handle_crm_page(vec![CrmContact { id: "c1".into(), version: 1, updated_at: "2025-01-01T00:00:00Z".into(), deleted: false, fields, lists: vec![], tags: vec![] }], Listing::Full);
//! s.handle_crm_listing_done("crm-cursor-1", Listing::Full);
//! s.handle_remote_page(vec![], Listing::Full);
//! s.handle_remote_listing_done("sync-token-1", Listing::Full);
//! let plan = s.plan().unwrap();
//! assert_eq!(plan.writes.len(), 1);
//! let WriteOp::RemoteCreate { record, .. } = &plan.writes[0].op else { panic!() };
//! let created = RemoteRecord { id: "people/1".into(), etag: "e1".into(), ..record.clone() };
//! s.handle_write_result(plan.writes[0].id, WriteResult::Remote(created));
//! assert!(s.plan().unwrap().is_empty());
//! let state = s.checkpoint();
//! assert_eq!(state.remote_of("c1"), Some("people/1"));
//! assert_eq!(state.remote_cursor.as_deref(), Some("sync-token-1"));
//! ```

use super::carried_id::{self, Carried};
use super::config::{DeletionPolicy, FilterMode, OnLeave, SyncConfig};
use super::error::EngineError;
use super::filter;
use super::held::{self, Decision};
use super::journal::{crm_before, Journal, JournalRecord};
use super::mapping::{self, BlockUse, Codec, Direction, FieldMappingRow, Shape, Value};
use super::matching::{match_unlinked, Candidate, GroupKind, LinkedBy};
use super::merge::{base_of, merge_field, stored_base_of, Enc, FieldOutcome, FieldRules};
use super::model::RemoteRecord;
use super::plan::{PlannedWrite, SyncPlan, WriteOp, WriteResult};
use super::names::{self, NameWords};
use super::report::{AmbiguityRecord, ChangeSample, ConflictRecord, MatchCandidate, PendingMatch, PlanSummary, Side, MAX_SAMPLES};
use super::state::{base36, hash36, Base, Bases, Hash53, HeldMatch, Link, PendingCreate, RowKey, SpokeState, UNKNOWN_BASE};
use crate::crm::{CrmContact, CrmPatch, NewCrmContact};
use serde_json::{Map, Value as Json};
use std::collections::{BTreeMap, BTreeSet};

/// How a page of records was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Part of a full listing of live records: once complete, a linked record that is
    /// absent is deleted.
    Full,
    /// Part of an incremental listing: only changed records and tombstones.
    Incremental,
    /// Records fetched by id on [`SyncSession::poll_fetch`]'s request.
    Fetched,
}

/// Ids the runner must fetch before planning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchRequest {
    /// CRM ids (`crm.get`).
    pub crm_ids: Vec<String>,
    /// Remote ids (People `people:batchGet`).
    pub remote_ids: Vec<String>,
}

impl FetchRequest {
    /// Nothing to fetch.
    pub fn is_empty(&self) -> bool {
        self.crm_ids.is_empty() && self.remote_ids.is_empty()
    }
}

/// Values of a record's rows already read this round, by row index (the matching keys'
/// rows): the merge takes them instead of reading the record again.
#[derive(Debug, Default)]
struct ReadRows(Vec<(usize, Value)>);

impl ReadRows {
    /// The value of row `n` if it was read (moved out: each is used once). Only the
    /// rows read are held (two of a default mapping's fifteen): 50,000 records' worth
    /// of empty slots would be fresh memory to touch.
    fn take(&mut self, n: usize) -> Option<Value> {
        let at = self.0.iter().position(|(row, _)| *row == n)?;
        Some(self.0.swap_remove(at).1)
    }
}

/// A compiled mapping row.
#[derive(Debug, Clone)]
struct Row {
    crm_field: String,
    remote_field: String,
    key: RowKey,
    shape: Shape,
    direction: Direction,
    priority: mapping::Priority,
    fill_empty: bool,
    block: BlockUse,
    /// A single text on both sides (no work block): the merge can compare the two sides'
    /// normal forms on the stored text without building values.
    plain_text: bool,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct SideListing {
    full: bool,
    complete: bool,
    cursor: Option<String>,
    failed: Option<EngineError>,
    gone: BTreeSet<String>,
}

/// Base values waiting for writes to be confirmed, per pair (CRM id).
#[derive(Debug, Clone, Default)]
struct PendingBases {
    /// field key → (base, CRM write outstanding, remote write outstanding)
    fields: BTreeMap<RowKey, (Option<Base>, bool, bool)>,
}

#[derive(Debug, Clone)]
enum OpContext {
    CrmCreate { remote_id: String, remote_etag: String, base: Bases, replaces: Option<String> },
    CrmUpdate { crm_id: String, before: CrmPatch, after: CrmPatch, flag: bool },
    CrmDelete { crm_id: String, before: Option<CrmContact> },
    RemoteCreate { crm_id: String, crm_version: u64, base: Bases, replaces: Option<String> },
    /// `before` is None while the record planned against is still the session's copy
    /// (`remote[remote_id]`): the journal takes it from there when the write is confirmed,
    /// so planning copies no record for it. A page or a missing-report that replaces that
    /// copy first moves it here ([`hold_befores`]).
    RemoteUpdate { crm_id: String, remote_id: String, before: Option<RemoteRecord> },
    RemoteDelete { crm_id: Option<String>, before: Option<RemoteRecord> },
}

/// Changes to the state decided while planning, applied only when no guard trips.
enum Deferred {
    Unlink(String),
    RetireCrm(String),
    RetireRemote(String),
    Release(String, String),
    Link(String, Link),
    Agree(String, Vec<(RowKey, Option<Base>)>, u64, String, bool),
    InFilter(String, bool),
    Clean(Option<String>, Option<String>),
    Dirty(Option<String>, Option<String>),
    Intent(PendingCreate),
    Move(String, String),
    /// The held matches from now on.
    Held(Vec<HeldMatch>),
    /// Never sync this contact (`true`) or again (`false`).
    Ignore(Side, String, bool),
    /// The operator said it matches none of its candidates.
    Unmatched(Side, String),
    /// A contact gone: it is neither ignored nor unmatched any more.
    Forget(Side, String),
}

/// What matching, the held matches and the operator's decisions settled in one plan.
struct MatchOutcome {
    /// Pairs to link (positions in the unlinked contacts read), and how (None: the
    /// operator linked them).
    links: Vec<(usize, usize, Option<LinkedBy>)>,
    /// The held matches from now on.
    held: Vec<HeldMatch>,
    /// The operator's decisions applied (or stale).
    applied: held::Applied,
    /// Decisions about contacts this run did not read: kept for the next run.
    postponed: Vec<Decision>,
}

/// One spoke's run. See the module documentation for the call order.
pub struct SyncSession {
    cfg: SyncConfig,
    codec: Codec,
    rows: Vec<Row>,
    phones_field: String,
    /// The CRM fields holding the given name, the family name and the company (names are
    /// compared for phone matches).
    name_fields: [String; 3],
    state: SpokeState,
    crm: BTreeMap<String, CrmContact>,
    remote: BTreeMap<String, RemoteRecord>,
    crm_listing: SideListing,
    remote_listing: SideListing,
    ops: BTreeMap<u32, OpContext>,
    next_op: u32,
    pending_bases: BTreeMap<String, PendingBases>,
    failed_crm: BTreeSet<String>,
    failed_remote: BTreeSet<String>,
    summary: PlanSummary,
    /// Plans made so far in this session (a run plans again after its writes).
    plans_made: u32,
    journal: Journal,
    errors: Vec<EngineError>,
    /// A plan failed (guard, failed listing): the cursors must not move past what was
    /// not acted on.
    aborted: bool,
    /// The operator's decisions not applied yet (the first plan applies them).
    decisions: Vec<Decision>,
    /// Ignored contacts the operator wants synced again (fetched, then matched).
    unignored: BTreeSet<(Side, String)>,
    /// The first plan applied the decisions given.
    decisions_applied: bool,
    /// Decisions about contacts the first plan did not read (not settled).
    postponed: Vec<Decision>,
}

fn display_name_crm(c: &CrmContact) -> String {
    let get = |k: &str| c.fields.get(k).and_then(Json::as_str).unwrap_or("").trim().to_string();
    let n = format!("{} {}", get("firstName"), get("lastName")).trim().to_string();
    if n.is_empty() {
        get("company")
    } else {
        n
    }
}

fn display_name_remote(r: &RemoteRecord) -> String {
    let n = format!("{} {}", r.contact.name.given, r.contact.name.family).trim().to_string();
    if n.is_empty() {
        r.contact.organization.name.clone()
    } else {
        n
    }
}

fn newer(a: &str, b: &str) -> std::cmp::Ordering {
    match (chrono::DateTime::parse_from_rfc3339(a), chrono::DateTime::parse_from_rfc3339(b)) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

impl SyncSession {
    /// A session over `state`. Fails with `INVALID_SETTINGS` when the mapping does not
    /// type-check against the CRM schema (when a schema is given).
    pub fn new(cfg: SyncConfig, state: SpokeState) -> Result<Self, EngineError> {
        let table: Vec<FieldMappingRow> = if cfg.fields.is_empty() { mapping::default_mapping() } else { cfg.fields.clone() };
        if !cfg.crm_schema.is_empty() {
            let problems = mapping::check_rows(&table, &cfg.crm_schema);
            if !problems.is_empty() {
                return Err(EngineError::new("INVALID_SETTINGS", format!("the field mapping does not fit the CRM: {}", problems.join("; ")), "Fix the field mapping in the settings."));
            }
        }
        let block_fields: BTreeSet<String> = table.iter().filter(|r| r.remote_field == mapping::WORK_DETAILS).map(|r| r.crm_field.clone()).collect();
        let mut rows = Vec::new();
        let mut keys = BTreeSet::new();
        for r in &table {
            let unsupported = cfg.capabilities.unsupported.contains(&r.remote_field);
            if r.direction == Direction::None || unsupported {
                continue;
            }
            let read_only = cfg.crm_schema.iter().any(|f| f.id == r.crm_field && f.read_only);
            let direction = match (r.direction, read_only) {
                (Direction::Both, true) => Direction::ToRemote,
                (Direction::ToCrm, true) => continue,
                (d, _) => d,
            };
            let mut key = r.remote_field.clone();
            if !keys.insert(key.clone()) {
                key = format!("{}#{}", r.remote_field, r.crm_field);
                keys.insert(key.clone());
            }
            let block = if r.remote_field == mapping::WORK_DETAILS {
                BlockUse::Block
            } else if block_fields.contains(&r.crm_field) {
                BlockUse::Outside
            } else {
                BlockUse::None
            };
            let shape = Codec::shape(&r.remote_field);
            rows.push(Row {
                crm_field: r.crm_field.clone(),
                remote_field: r.remote_field.clone(),
                key: RowKey::from(key),
                shape,
                plain_text: matches!(shape, Shape::Text | Shape::Date | Shape::Url) && block == BlockUse::None && r.remote_field != mapping::WORK_DETAILS,
                direction: if r.remote_field == mapping::WORK_DETAILS { Direction::ToCrm } else { direction },
                priority: r.priority,
                fill_empty: r.fill_empty,
                block,
            });
        }
        if !cfg.labels.is_empty() && !cfg.capabilities.unsupported.iter().any(|u| u == "labels") {
            rows.push(Row {
                crm_field: String::new(),
                remote_field: "labels".into(),
                key: RowKey::from("labels"),
                shape: Shape::Labels,
                direction: Direction::Both,
                priority: mapping::Priority::Newest,
                fill_empty: false,
                block: BlockUse::None,
                plain_text: false,
            });
        }
        let crm_field_of = |remote: &str, default: &str| table.iter().find(|r| r.remote_field == remote).map(|r| r.crm_field.clone()).unwrap_or_else(|| default.into());
        let phones_field = crm_field_of("phones", "phones");
        let name_fields = [crm_field_of("name.given", "firstName"), crm_field_of("name.family", "lastName"), crm_field_of("organization.name", "company")];
        let codec = Codec::new(&cfg.default_region);
        Ok(SyncSession {
            cfg,
            codec,
            rows,
            phones_field,
            name_fields,
            state,
            crm: BTreeMap::new(),
            remote: BTreeMap::new(),
            crm_listing: SideListing::default(),
            remote_listing: SideListing::default(),
            ops: BTreeMap::new(),
            next_op: 1,
            pending_bases: BTreeMap::new(),
            failed_crm: BTreeSet::new(),
            failed_remote: BTreeSet::new(),
            summary: PlanSummary::default(),
            plans_made: 0,
            journal: Journal::default(),
            errors: Vec::new(),
            aborted: false,
            decisions: Vec::new(),
            unignored: BTreeSet::new(),
            decisions_applied: false,
            postponed: Vec::new(),
        })
    }

    /// The operator's decisions about held matches (`resolveMatch`), applied by the next
    /// [`plan`](Self::plan) (call before pulling: an un-ignored contact is fetched).
    /// Decisions are idempotent: one applied already, or naming contacts no longer held,
    /// does nothing but say so in the summary's notices.
    pub fn handle_decisions(&mut self, decisions: Vec<Decision>) {
        for d in decisions {
            if let Decision::Unignore { side, id } = &d {
                self.unignored.insert((*side, id.clone()));
            }
            self.decisions.push(d);
        }
    }

    /// The decisions handed in that a plan settled: applied, or stale (about contacts no
    /// longer held). They may be dropped once the state holding their effect is saved; the
    /// others (about contacts this run did not read) wait for another run.
    pub fn settled_decisions(&self) -> Vec<Decision> {
        if !self.decisions_applied {
            return Vec::new();
        }
        self.decisions.iter().filter(|d| !self.postponed.contains(d)).cloned().collect()
    }

    /// A page of CRM contacts (tombstones included on incremental listings).
    pub fn handle_crm_page(&mut self, contacts: Vec<CrmContact>, listing: Listing) {
        if listing == Listing::Full {
            self.crm_listing.full = true;
        }
        add_page(&mut self.crm, &mut self.crm_listing.gone, contacts, |c| (c.deleted, &c.id));
    }

    /// The CRM listing is complete; `next_cursor` is stored once this run's writes are all
    /// resolved.
    /// Prefer [`handle_crm_listing_done`](Self::handle_crm_listing_done): this one cannot
    /// tell a full listing that delivered no page at all from an empty incremental one.
    pub fn handle_crm_listing_complete(&mut self, next_cursor: &str) {
        self.handle_crm_listing_done(next_cursor, Listing::Incremental);
    }

    /// The CRM listing is complete. `listing` says what kind of listing it was: a full
    /// listing that delivered no page at all is an empty side (the guard's case), not
    /// "no news".
    pub fn handle_crm_listing_done(&mut self, next_cursor: &str, listing: Listing) {
        if listing == Listing::Full {
            self.crm_listing.full = true;
        }
        self.crm_listing.complete = true;
        self.crm_listing.cursor = Some(next_cursor.to_string());
    }

    /// The CRM listing failed: the run plans nothing (never reads it as deletions).
    pub fn handle_crm_listing_failed(&mut self, error: EngineError) {
        self.crm_listing.failed = Some(error);
    }

    /// CRM ids fetched on request that do not exist any more.
    pub fn handle_crm_missing(&mut self, ids: &[String]) {
        for id in ids {
            self.crm.remove(id);
            self.crm_listing.gone.insert(id.clone());
        }
    }

    /// A page of remote records (tombstones included on incremental listings).
    pub fn handle_remote_page(&mut self, records: Vec<RemoteRecord>, listing: Listing) {
        if listing == Listing::Full {
            self.remote_listing.full = true;
        }
        if !self.ops.is_empty() {
            let ids: BTreeSet<&str> = records.iter().map(|r| r.id.as_str()).collect();
            hold_befores(&mut self.ops, &self.remote, |id| ids.contains(id));
        }
        add_page(&mut self.remote, &mut self.remote_listing.gone, records, |r| (r.deleted, &r.id));
    }

    /// The remote listing is complete.
    /// Prefer [`handle_remote_listing_done`](Self::handle_remote_listing_done) (see
    /// [`handle_crm_listing_complete`](Self::handle_crm_listing_complete)).
    pub fn handle_remote_listing_complete(&mut self, next_cursor: &str) {
        self.handle_remote_listing_done(next_cursor, Listing::Incremental);
    }

    /// The remote listing is complete; `listing` as for
    /// [`handle_crm_listing_done`](Self::handle_crm_listing_done).
    pub fn handle_remote_listing_done(&mut self, next_cursor: &str, listing: Listing) {
        if listing == Listing::Full {
            self.remote_listing.full = true;
        }
        self.remote_listing.complete = true;
        self.remote_listing.cursor = Some(next_cursor.to_string());
    }

    /// The remote listing failed (an error status, an expired cursor the runner could not
    /// recover from with a full listing): the run plans nothing.
    pub fn handle_remote_listing_failed(&mut self, error: EngineError) {
        self.remote_listing.failed = Some(error);
    }

    /// Remote ids fetched on request that do not exist any more.
    pub fn handle_remote_missing(&mut self, ids: &[String]) {
        if !self.ops.is_empty() {
            let ids: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
            hold_befores(&mut self.ops, &self.remote, |id| ids.contains(id));
        }
        for id in ids {
            self.remote.remove(id);
            self.remote_listing.gone.insert(id.clone());
        }
    }

    fn crm_gone(&self, id: &str) -> bool {
        self.crm_listing.gone.contains(id) || (self.crm_listing.full && self.crm_listing.complete && !self.crm.contains_key(id))
    }

    fn remote_gone(&self, id: &str) -> bool {
        self.remote_listing.gone.contains(id) || (self.remote_listing.full && self.remote_listing.complete && !self.remote.contains_key(id))
    }

    /// A listed CRM contact exactly as last agreed (same version, e.g. the echo of our own
    /// write): on an incremental run it says nothing, and its counterpart need not be read.
    fn echo_crm(&self, c: &CrmContact) -> bool {
        match self.state.links.get(&c.id) {
            Some(link) => !link.fresh && c.version == link.crm_version && !self.state.dirty_crm.contains(&c.id),
            None => false,
        }
    }

    /// A listed remote record exactly as last agreed (same etag) and carrying the CRM id
    /// where the side holds one (else the pair still owes it): see [`Self::echo_crm`].
    fn echo_remote(&self, r: &RemoteRecord) -> bool {
        let Some(crm_id) = self.state.crm_of(&r.id) else { return false };
        let Some(link) = self.state.links.get(crm_id) else { return false };
        let stamped = !(self.cfg.capabilities.carries_crm_id && self.cfg.export) || r.crm_id.as_deref().is_some_and(|t| self.carries(t, crm_id));
        !link.fresh && stamped && !r.etag.is_empty() && r.etag == link.remote_etag && !self.state.dirty_remote.contains(&r.id)
    }

    /// The records to fetch before planning: the other side of every changed linked pair,
    /// the pairs marked to be looked at again, and the CRM contacts named by unlinked
    /// remote copies.
    #[must_use]
    pub fn poll_fetch(&self) -> FetchRequest {
        let mut req = FetchRequest::default();
        let mut crm_ids = BTreeSet::new();
        let mut remote_ids = BTreeSet::new();
        // After incremental listings only the pairs with news need a look; after a full
        // listing of one side every pair may need the other side's record.
        let any_full = self.crm_listing.full || self.remote_listing.full;
        let mut around: BTreeSet<&str> = BTreeSet::new();
        if !any_full {
            around.extend(self.crm.values().filter(|c| !self.echo_crm(c)).map(|c| c.id.as_str()));
            around.extend(self.crm_listing.gone.iter().map(String::as_str));
            around.extend(self.state.dirty_crm.iter().map(String::as_str));
            let remote_news = self.remote.values().filter(|r| !self.echo_remote(r)).map(|r| &r.id);
            for r in remote_news.chain(self.remote_listing.gone.iter()).chain(self.state.dirty_remote.iter()) {
                if let Some(c) = self.state.crm_of(r) {
                    around.insert(c);
                }
            }
        }
        let pairs: Box<dyn Iterator<Item = (&String, &Link)>> = if any_full {
            Box::new(self.state.links.iter())
        } else {
            Box::new(around.iter().filter_map(|c| self.state.links.get_key_value(*c)))
        };
        for (crm_id, link) in pairs {
            let c_here = self.crm.contains_key(crm_id) || self.crm_gone(crm_id);
            let r_here = self.remote.contains_key(&link.remote_id) || self.remote_gone(&link.remote_id);
            let dirty = self.state.dirty_crm.contains(crm_id) || self.state.dirty_remote.contains(&link.remote_id);
            if (c_here || dirty) && !r_here {
                remote_ids.insert(link.remote_id.clone());
            }
            if (r_here || dirty) && !c_here {
                crm_ids.insert(crm_id.clone());
            }
        }
        for id in &self.state.dirty_crm {
            if !self.state.links.contains_key(id) && !self.crm.contains_key(id) && !self.crm_gone(id) {
                crm_ids.insert(id.clone());
            }
        }
        for id in &self.state.dirty_remote {
            if self.state.crm_of(id).is_none() && !self.remote.contains_key(id) && !self.remote_gone(id) {
                remote_ids.insert(id.clone());
            }
        }
        for r in self.remote.values() {
            if let Some(text) = &r.crm_id {
                let c = self.read_carried(text).crm_id();
                if self.state.crm_of(&r.id).is_none() && !self.crm.contains_key(c) && !self.crm_gone(c) && !c.is_empty() {
                    crm_ids.insert(c.to_string());
                }
            }
        }
        // Held and ignored contacts: every run re-reads them (a held match is decided again
        // on the current records, and the report shows them).
        let held = self.state.held.iter().flat_map(|g| g.crm_ids.iter().map(|c| (Side::Crm, c)).chain(g.remote_ids.iter().map(|r| (Side::Remote, r))));
        let ignored = self.state.ignored_crm.iter().map(|c| (Side::Crm, c)).chain(self.state.ignored_remote.iter().map(|r| (Side::Remote, r)));
        for (side, id) in held.chain(ignored).chain(self.unignored.iter().map(|(s, id)| (*s, id))) {
            match side {
                Side::Crm if !self.crm.contains_key(id) && !self.crm_gone(id) => {
                    crm_ids.insert(id.clone());
                }
                Side::Remote if !self.remote.contains_key(id) && !self.remote_gone(id) => {
                    remote_ids.insert(id.clone());
                }
                _ => {}
            }
        }
        req.crm_ids = crm_ids.into_iter().collect();
        req.remote_ids = remote_ids.into_iter().collect();
        req
    }

    fn fingerprint(&self, c: &CrmContact) -> String {
        self.fingerprint_fields(&c.fields)
    }

    /// The fingerprint of a CRM contact's fields (labels are not part of it): the hash of
    /// the rows' normal forms joined by U+001C, hashed as they are made.
    fn fingerprint_fields(&self, fields: &Map<String, Json>) -> String {
        let mut hash = Hash53::default();
        let rows = self.rows.iter().filter(|row| matches!(row.direction, Direction::Both | Direction::ToCrm) && row.shape != Shape::Labels);
        for (n, row) in rows.enumerate() {
            if n > 0 {
                hash.write("\u{1c}");
            }
            // A plain text's normal form, read without copying it (what `norm_of` gives).
            match mapping::crm_text_in(fields, &row.crm_field).filter(|_| row.plain_text && row.shape == Shape::Text) {
                Some(t) => hash.write(&super::normalize::text_ref(t)),
                None => hash.write(&mapping::norm_of(row.shape, &self.codec.read_crm_fields(fields, &row.crm_field, row.shape, row.block))),
            }
        }
        base36(hash.finish())
    }

    /// The fingerprint the contact will have once created (read from its fields, not a
    /// copy of them).
    fn fingerprint_new(&self, n: &NewCrmContact) -> String {
        self.fingerprint_fields(&n.fields)
    }

    fn passes_filter(&self, c: &CrmContact) -> bool {
        filter::passes(&self.cfg.filter, c, &self.codec, &self.phones_field)
    }

    /// What a CRM id carried on a remote copy says ([`carried_id::read`]).
    fn read_carried<'a>(&self, text: &'a str) -> Carried<'a> {
        carried_id::read(self.cfg.id_key.as_ref(), &self.cfg.spoke_id, text)
    }

    /// The text a remote copy of `crm_id` carries.
    fn token(&self, crm_id: &str) -> String {
        carried_id::token(self.cfg.id_key.as_ref(), &self.cfg.spoke_id, crm_id)
    }

    /// Whether carried text `t` names `crm_id` as this engine writes it (or bare).
    fn carries(&self, t: &str, crm_id: &str) -> bool {
        carried_id::names(self.cfg.id_key.as_ref(), &self.cfg.spoke_id, t, crm_id)
    }

    /// A carried id proven ours: signed, or, with no key to sign (ids then written bare),
    /// the id of a create of ours whose confirmation was lost (its intent is pending).
    /// With a key our creates are signed, so a bare id naming a contact being created is
    /// someone else's.
    fn ours(&self, carried: Carried) -> bool {
        match carried {
            Carried::Signed(_) => true,
            Carried::Unverified(id) => self.cfg.id_key.is_none() && self.state.pending.contains(&PendingCreate::Remote { crm_id: id.to_string() }),
        }
    }

    /// Whether the CRM id carried by `r` may link it to `c` (invariant 7; issue 11, defect
    /// 14): ours, or else an unverified id (a bare one from an earlier version, or anyone's)
    /// only for a contact inside the export filter whose e-mail, or phone with agreeing
    /// names, is on `r` too: what matching would accept, and no more.
    fn vouches(&self, carried: Carried, c: &CrmContact, r: &RemoteRecord) -> bool {
        if self.ours(carried) {
            return true;
        }
        if !self.passes_filter(c) {
            return false;
        }
        let (read_c, read_r) = (self.read_key_rows(|row| self.read_crm_row(c, row)), self.read_key_rows(|row| self.read_remote_row(r, row)));
        let (kc, kr) = (self.candidate(&c.id, &read_c), self.candidate(&r.id, &read_r));
        kc.emails.iter().any(|e| kr.emails.contains(e)) || (kc.phones.iter().any(|p| p.starts_with('+') && kr.phones.contains(p)) && names::compatible(&self.crm_name(c), &self.remote_name(r)))
    }

    fn crm_name(&self, c: &CrmContact) -> NameWords {
        let [given, family, company] = self.name_fields.each_ref().map(|f| c.fields.get(f.as_str()).and_then(Json::as_str).unwrap_or(""));
        NameWords::new(given, family, company)
    }

    fn remote_name(&self, r: &RemoteRecord) -> NameWords {
        NameWords::new(&r.contact.name.given, &r.contact.name.family, &r.contact.organization.name)
    }

    fn read_crm_row(&self, c: &CrmContact, row: &Row) -> Value {
        if row.shape == Shape::Labels {
            self.codec.read_crm_labels(c, &self.cfg.labels)
        } else {
            self.codec.read_crm(c, &row.crm_field, row.shape, row.block)
        }
    }

    fn read_remote_row(&self, r: &RemoteRecord, row: &Row) -> Value {
        self.codec.read_remote(&r.contact, &row.remote_field, &self.cfg.labels)
    }

    /// For a plain text row whose two sides hold the same normal form, that form's
    /// encoding; None otherwise (the row then takes the full merge).
    fn same_text_on_both_sides(&self, c: &CrmContact, r: &RemoteRecord, row: &Row) -> Option<Enc> {
        if !row.plain_text {
            return None;
        }
        let crm = mapping::crm_text(c, &row.crm_field)?;
        let remote = mapping::remote_text(&r.contact, &row.remote_field)?;
        let enc = Enc::of_text(row.shape, crm);
        // Equal stored texts need one normalization, not two.
        (crm == remote || enc == Enc::of_text(row.shape, remote)).then_some(enc)
    }

    fn capacity(&self, row: &Row) -> Option<usize> {
        match row.shape {
            Shape::Emails => self.cfg.capabilities.max_emails,
            Shape::Phones => self.cfg.capabilities.max_phones,
            Shape::Addresses => self.cfg.capabilities.max_addresses,
            _ => None,
        }
    }

    /// A remote record built from a CRM contact (for creates).
    /// `read`: rows of `c` already read this round (see [`ReadRows`]).
    fn remote_from_crm(&self, c: &CrmContact, mut read: ReadRows) -> (RemoteRecord, Bases) {
        // A copy the CRM creates always carries its (signed) id: People `clientData`, or the
        // vCard `X-CRM-ID` every new card gets.
        let mut rec = RemoteRecord { crm_id: Some(self.token(&c.id)), ..RemoteRecord::default() };
        let mut base = Vec::with_capacity(self.rows.len());
        for (n, row) in self.rows.iter().enumerate() {
            if matches!(row.direction, Direction::Both | Direction::ToRemote) {
                let full = read.take(n).unwrap_or_else(|| self.read_crm_row(c, row));
                base.push((row.key.clone(), stored_base_of(row.shape, &full)));
                let v = match (full, self.capacity(row)) {
                    (Value::Items(items), cap) => Value::Items(super::merge::project(&items, cap)),
                    (other, _) => other,
                };
                self.codec.write_remote(&mut rec.contact, &row.remote_field, &v, &self.cfg.labels);
            } else {
                base.push((row.key.clone(), unknown_base()));
            }
        }
        (rec, base.into_iter().collect())
    }

    /// A new CRM contact built from a remote record (for creates).
    /// `read`: rows of `r` already read this round (see [`ReadRows`]).
    fn crm_from_remote(&self, r: &RemoteRecord, mut read: ReadRows) -> (NewCrmContact, Bases) {
        let mut n = NewCrmContact::default();
        let mut base = Vec::with_capacity(self.rows.len());
        for (at, row) in self.rows.iter().enumerate() {
            if !matches!(row.direction, Direction::Both | Direction::ToCrm) {
                base.push((row.key.clone(), unknown_base()));
                continue;
            }
            let v = read.take(at).unwrap_or_else(|| self.read_remote_row(r, row));
            base.push((row.key.clone(), stored_base_of(row.shape, &v)));
            if v.is_empty() {
                continue;
            }
            if row.shape == Shape::Labels {
                let (lists, tags) = self.labels_to_crm(&[], &[], &v);
                n.lists = lists;
                n.tags = tags;
            } else {
                let cur = n.fields.get(&row.crm_field).cloned();
                self.codec.write_crm(&mut n.fields, &row.crm_field, cur.as_ref(), &v, row.block);
            }
        }
        // Keep the new contact inside the export filter, or it would "leave" it at once.
        match self.cfg.filter.mode {
            FilterMode::Lists => {
                if let Some(l) = self.cfg.filter.lists.first() {
                    if !n.lists.contains(l) {
                        n.lists.push(l.clone());
                    }
                }
            }
            FilterMode::Tags => {
                if let Some(t) = self.cfg.filter.tags.first() {
                    if !n.tags.contains(t) {
                        n.tags.push(t.clone());
                    }
                }
            }
            FilterMode::All => {}
        }
        (n, base.into_iter().collect())
    }

    /// Lists and tags after replacing the mapped memberships with `labels`.
    fn labels_to_crm(&self, lists: &[String], tags: &[String], labels: &Value) -> (Vec<String>, Vec<String>) {
        let wanted: BTreeSet<String> = match labels {
            Value::Items(items) => items.iter().map(|i| i.key.clone()).collect(),
            _ => BTreeSet::new(),
        };
        let mut out_l: Vec<String> = lists.to_vec();
        let mut out_t: Vec<String> = tags.to_vec();
        for r in &self.cfg.labels {
            let on = wanted.contains(&super::normalize::text(&r.remote_label));
            let (target, id) = match r.crm.kind {
                mapping::CrmLabelKind::List => (&mut out_l, &r.crm.id),
                mapping::CrmLabelKind::Tag => (&mut out_t, &r.crm.id),
            };
            if on && !target.contains(id) {
                target.push(id.clone());
            } else if !on {
                target.retain(|x| x != id);
            }
        }
        (out_l, out_t)
    }

    fn content_changed_since_base_crm(&self, c: &CrmContact, link: &Link) -> bool {
        if c.version == link.crm_version {
            return false;
        }
        link.fresh || self.rows.iter().any(|row| link.base.get(&row.key).is_none_or(|b| !b.is_unknown() && !b.is(&base_of(row.shape, &self.read_crm_row(c, row)))))
    }

    fn content_changed_since_base_remote(&self, r: &RemoteRecord, link: &Link) -> bool {
        if r.etag == link.remote_etag {
            return false;
        }
        link.fresh || self.rows.iter().any(|row| link.base.get(&row.key).is_none_or(|b| !b.is_unknown() && !b.is(&base_of(row.shape, &self.read_remote_row(r, row)))))
    }

    /// The writes of this round. Errors: a failed listing (its own error), a guard
    /// (`GUARD_TRIPPED`), or writes of the previous round not reported yet (`INTERNAL`).
    /// Nothing in the state changes when it fails.
    pub fn plan(&mut self) -> Result<SyncPlan, EngineError> {
        let planned = self.plan_round();
        if planned.is_err() {
            self.aborted = true;
        }
        planned
    }

    fn plan_round(&mut self) -> Result<SyncPlan, EngineError> {
        if let Some(e) = self.crm_listing.failed.clone().or_else(|| self.remote_listing.failed.clone()) {
            return Err(e);
        }
        if !self.ops.is_empty() {
            return Err(EngineError::new("INTERNAL", "planned again before every write of the previous round was reported", "Report every write's outcome first."));
        }
        let linked = self.state.links.len();
        if self.crm_listing.full && self.crm_listing.complete {
            super::guard::empty_side("CRM", self.crm.len(), linked)?;
        }
        if self.remote_listing.full && self.remote_listing.complete {
            super::guard::empty_side("address book", self.remote.len(), linked)?;
        }

        let mut deferred: Vec<Deferred> = Vec::new();
        let mut ops: Vec<(WriteOp, OpContext)> = Vec::new();
        let mut summary = PlanSummary::default();
        let mut new_pending: BTreeMap<String, PendingBases> = BTreeMap::new();
        let mut deletes = 0usize;
        // Examples of the deletions, shown when the guard stops the run.
        let mut would_delete: Vec<ChangeSample> = Vec::new();
        let mut note_delete = |name: String, side: Side| {
            if would_delete.len() < MAX_SAMPLES {
                would_delete.push(ChangeSample { contact_name: name, side, action: "delete".into(), fields: vec![] });
            }
        };

        // Identity moves (People previousResourceNames): the link follows.
        let mut moved: BTreeMap<String, String> = BTreeMap::new();
        for r in self.remote.values() {
            if self.state.crm_of(&r.id).is_some() {
                continue;
            }
            for p in &r.previous_ids {
                if self.state.crm_of(p).is_some() && !self.remote.contains_key(p) {
                    moved.insert(p.clone(), r.id.clone());
                    break;
                }
            }
        }
        for (old, new) in &moved {
            deferred.push(Deferred::Move(old.clone(), new.clone()));
        }
        let remote_id_of = |link: &Link| moved.get(&link.remote_id).cloned().unwrap_or_else(|| link.remote_id.clone());

        // Copies made by a write whose confirmation was lost (a crash): a remote record
        // carrying the CRM id of a pair whose remote copy is gone, or a CRM contact matching
        // a pending-create intent for a pair whose CRM contact is gone. They take over the
        // link instead of being created again (invariant 7).
        // Only an id proven ours takes over a link (a card anyone wrote must not).
        let mut carried: BTreeMap<String, String> = BTreeMap::new();
        for r in self.remote.values() {
            let Some(text) = r.crm_id.as_deref() else { continue };
            let id = self.read_carried(text);
            if self.ours(id) && self.state.crm_of(&r.id).is_none() && !moved.values().any(|v| *v == r.id) {
                carried.entry(id.crm_id().to_string()).or_insert_with(|| r.id.clone());
            }
        }
        let mut recreated_crm: BTreeMap<String, String> = BTreeMap::new();
        for p in &self.state.pending {
            if let PendingCreate::Crm { remote_id, fingerprint } = p {
                if let Some(c) = self.crm.values().find(|c| !self.state.links.contains_key(&c.id) && self.fingerprint(c) == *fingerprint) {
                    recreated_crm.entry(remote_id.clone()).or_insert_with(|| c.id.clone());
                }
            }
        }
        let mut new_links: Vec<(String, String)> = Vec::new();
        let mut claimed_crm: BTreeSet<String> = BTreeSet::new();
        let mut claimed_remote: BTreeSet<String> = BTreeSet::new();

        // Linked pairs.
        // Only the pairs this round can say something about: all of them after a full
        // listing, otherwise those with a record, a tombstone or a mark to look again.
        let everything = (self.crm_listing.full && self.crm_listing.complete) || (self.remote_listing.full && self.remote_listing.complete);
        // Borrowed, not copied: nothing below changes the state until the decisions are
        // applied at the end.
        let links: Vec<(&String, &Link)> = if everything {
            self.state.links.iter().collect()
        } else {
            let mut t: BTreeSet<&str> = BTreeSet::new();
            t.extend(self.crm.values().filter(|c| self.state.links.contains_key(&c.id) && !self.echo_crm(c)).map(|c| c.id.as_str()));
            t.extend(self.crm_listing.gone.iter().map(String::as_str).filter(|id| self.state.links.contains_key(*id)));
            let remote_news = self.remote.values().filter(|r| !self.echo_remote(r)).map(|r| &r.id);
            t.extend(remote_news.chain(self.remote_listing.gone.iter()).filter_map(|r| self.state.crm_of(r)));
            t.extend(moved.keys().filter_map(|r| self.state.crm_of(r)));
            t.extend(self.state.dirty_crm.iter().map(String::as_str).filter(|id| self.state.links.contains_key(*id)));
            t.extend(self.state.dirty_remote.iter().filter_map(|r| self.state.crm_of(r)));
            t.into_iter().filter_map(|k| self.state.links.get_key_value(k)).collect()
        };
        let mut linked_remote: BTreeSet<String> = BTreeSet::new();
        for &(crm_id, link) in &links {
            let rid = remote_id_of(link);
            linked_remote.insert(rid.clone());
            if self.failed_crm.contains(crm_id) || self.failed_remote.contains(&rid) {
                continue;
            }
            let c = self.crm.get(crm_id);
            let r = self.remote.get(&rid);
            let cg = self.crm_gone(crm_id);
            let rg = self.remote_gone(&rid);
            if rg && !cg {
                if let Some(r2) = carried.get(crm_id).filter(|r2| **r2 != rid && self.remote.contains_key(*r2)) {
                    deferred.push(Deferred::Unlink(crm_id.clone()));
                    new_links.push((crm_id.clone(), r2.clone()));
                    claimed_remote.insert(r2.clone());
                    summary.counts.linked_by_id += 1;
                    continue;
                }
            }
            if cg && !rg {
                if let Some(c2) = recreated_crm.get(&rid).filter(|c2| self.crm.contains_key(*c2)) {
                    deferred.push(Deferred::Unlink(crm_id.clone()));
                    new_links.push((c2.clone(), rid.clone()));
                    claimed_crm.insert(c2.clone());
                    summary.counts.linked_by_id += 1;
                    continue;
                }
            }
            match (cg, rg) {
                (true, true) => deferred.push(Deferred::Unlink(crm_id.clone())),
                (true, false) => {
                    let edited = r.is_some_and(|r| self.content_changed_since_base_remote(r, link));
                    match (edited, r) {
                        (true, Some(r)) if self.cfg.import => {
                            // Edit beats delete: the remote copy was edited, bring it back.
                            let (n, base) = self.crm_from_remote(r, ReadRows::default());
                            deferred.push(Deferred::Intent(PendingCreate::Crm { remote_id: rid.clone(), fingerprint: self.fingerprint_new(&n) }));
                            summary.counts.crm.created += 1;
                            ops.push((WriteOp::CrmCreate { remote_id: rid.clone(), contact: n }, OpContext::CrmCreate { remote_id: rid.clone(), remote_etag: r.etag.clone(), base, replaces: Some(crm_id.clone()) }));
                        }
                        _ => match self.cfg.deletion {
                            DeletionPolicy::Propagate if self.cfg.export => {
                                deletes += 1;
                                summary.counts.remote.deleted += 1;
                                note_delete(r.map(display_name_remote).unwrap_or_else(|| rid.clone()), Side::Remote);
                                let etag = r.map(|r| r.etag.clone()).unwrap_or_else(|| link.remote_etag.clone());
                                ops.push((WriteOp::RemoteDelete { remote_id: rid.clone(), etag }, OpContext::RemoteDelete { crm_id: Some(crm_id.clone()), before: r.cloned() }));
                            }
                            _ => {
                                deferred.push(Deferred::Unlink(crm_id.clone()));
                                deferred.push(Deferred::RetireRemote(rid.clone()));
                            }
                        },
                    }
                }
                (false, true) => {
                    let edited = c.is_some_and(|c| self.content_changed_since_base_crm(c, link));
                    match (edited, c) {
                        (true, Some(c)) if self.cfg.export => {
                            let (rec, base) = self.remote_from_crm(c, ReadRows::default());
                            deferred.push(Deferred::Intent(PendingCreate::Remote { crm_id: crm_id.clone() }));
                            summary.counts.remote.created += 1;
                            ops.push((WriteOp::RemoteCreate { crm_id: crm_id.clone(), record: rec }, OpContext::RemoteCreate { crm_id: crm_id.clone(), crm_version: c.version, base, replaces: Some(crm_id.clone()) }));
                        }
                        _ => match self.cfg.deletion {
                            DeletionPolicy::Propagate if self.cfg.import => {
                                deletes += 1;
                                summary.counts.crm.deleted += 1;
                                note_delete(c.map(display_name_crm).unwrap_or_else(|| crm_id.clone()), Side::Crm);
                                let v = c.map(|c| c.version).unwrap_or(link.crm_version);
                                ops.push((WriteOp::CrmDelete { crm_id: crm_id.clone(), expected_version: v }, OpContext::CrmDelete { crm_id: crm_id.clone(), before: c.cloned() }));
                            }
                            DeletionPolicy::Flag if self.cfg.import && !self.cfg.flag_field.is_empty() => {
                                let mut fields = Map::new();
                                fields.insert(self.cfg.flag_field.clone(), Json::Bool(true));
                                let patch = CrmPatch { fields: Some(fields), lists: None, tags: None };
                                let before = c.map(|c| crm_before(c, &patch)).unwrap_or_default();
                                let v = c.map(|c| c.version).unwrap_or(link.crm_version);
                                summary.counts.crm.updated += 1;
                                ops.push((WriteOp::CrmUpdate { crm_id: crm_id.clone(), expected_version: v, patch: patch.clone() }, OpContext::CrmUpdate { crm_id: crm_id.clone(), before, after: patch, flag: true }));
                            }
                            _ => {
                                deferred.push(Deferred::Unlink(crm_id.clone()));
                                deferred.push(Deferred::RetireCrm(crm_id.clone()));
                            }
                        },
                    }
                }
                (false, false) => {
                    let (Some(c), Some(r)) = (c, r) else {
                        if c.is_some() || r.is_some() {
                            // The counterpart was not fetched: look again next run.
                            deferred.push(Deferred::Dirty(Some(crm_id.clone()), Some(rid.clone())));
                        }
                        continue;
                    };
                    // Export filter: a linked contact leaving it.
                    let inside = self.passes_filter(c);
                    if link.in_filter && !inside {
                        match self.cfg.filter.on_leave {
                            OnLeave::Keep => deferred.push(Deferred::InFilter(crm_id.clone(), false)),
                            OnLeave::Unlink => {
                                deferred.push(Deferred::Release(crm_id.clone(), rid.clone()));
                                continue;
                            }
                            OnLeave::Delete if self.cfg.export => {
                                deletes += 1;
                                summary.counts.remote.deleted += 1;
                                note_delete(display_name_remote(r), Side::Remote);
                                ops.push((WriteOp::RemoteDelete { remote_id: rid.clone(), etag: r.etag.clone() }, OpContext::RemoteDelete { crm_id: Some(crm_id.clone()), before: Some(r.clone()) }));
                                continue;
                            }
                            OnLeave::Delete => {}
                        }
                    } else if !link.in_filter && inside {
                        deferred.push(Deferred::InFilter(crm_id.clone(), true));
                    }
                    self.merge_pair(c, r, link, Default::default(), &mut ops, &mut deferred, &mut summary, &mut new_pending);
                }
            }
        }

        // Unlinked contacts: CRM id carried on the remote copy, pending creates, released
        // pairs, then e-mail and phone, with the matches held for the operator and the
        // operator's decisions. Records borrowed, by id (no copy of 50,000 ids on a first
        // run, and no search of the listings to find them again). Ignored contacts take
        // no part.
        let ignored = |side: Side, id: &str| {
            let set = match side {
                Side::Crm => &self.state.ignored_crm,
                Side::Remote => &self.state.ignored_remote,
            };
            set.contains(id) && !self.unignored.contains(&(side, id.to_string()))
        };
        let mut unlinked_crm: BTreeMap<&str, &CrmContact> = self
            .crm
            .iter()
            .filter(|(id, _)| !self.state.links.contains_key(*id) && !self.failed_crm.contains(*id) && !claimed_crm.contains(*id) && !ignored(Side::Crm, id))
            .map(|(id, c)| (id.as_str(), c))
            .collect();
        let mut unlinked_remote: BTreeMap<&str, &RemoteRecord> = self
            .remote
            .iter()
            .filter(|(id, _)| {
                !linked_remote.contains(*id) && !claimed_remote.contains(*id) && self.state.crm_of(id).is_none() && !self.state.retired_remote.contains(*id) && !self.failed_remote.contains(*id) && !ignored(Side::Remote, id)
            })
            .map(|(id, r)| (id.as_str(), r))
            .collect();
        // A carried CRM id links one copy (see `vouches`); two copies vouched for one
        // contact (a card duplicated by hand) are held as an ambiguity.
        let mut vouched: BTreeMap<&str, &RemoteRecord> = BTreeMap::new();
        let mut more_copies: Vec<(&str, &str)> = Vec::new();
        let mut second_copies: Vec<(&str, &str)> = Vec::new();
        for (rid, r) in &unlinked_remote {
            let Some(carried) = r.crm_id.as_deref().filter(|t| !t.is_empty()).map(|t| self.read_carried(t)) else { continue };
            let cid = carried.crm_id();
            if self.state.links.contains_key(cid) {
                second_copies.push((rid, cid));
            } else if unlinked_crm.get(cid).is_some_and(|c| self.vouches(carried, c, r)) {
                if vouched.contains_key(cid) {
                    more_copies.push((cid, rid));
                } else {
                    vouched.insert(cid, r);
                }
            }
        }
        for (rid, cid) in second_copies {
            // A second copy of a linked contact (copied by hand, or an older copy):
            // importing it would duplicate the contact.
            unlinked_remote.remove(rid);
            summary.ambiguities.push(AmbiguityRecord {
                key: cid.to_string(),
                crm_ids: vec![cid.to_string()],
                remote_ids: vec![rid.to_string()],
                reason: "this address-book contact carries the CRM id of a contact already linked to another one; it was not imported".into(),
            });
            summary.counts.ambiguous += 1;
        }
        let mut copied: Vec<HeldMatch> = Vec::new();
        for (cid, r) in vouched {
            let others: Vec<String> = more_copies.iter().filter(|(c, _)| *c == cid).map(|(_, rid)| rid.to_string()).collect();
            if others.is_empty() {
                unlinked_crm.remove(cid);
                unlinked_remote.remove(r.id.as_str());
                new_links.push((cid.to_string(), r.id.clone()));
                summary.counts.linked_by_id += 1;
            } else {
                copied.push(HeldMatch { kind: GroupKind::Ambiguous, crm_ids: vec![cid.to_string()], remote_ids: std::iter::once(r.id.clone()).chain(others).collect(), key: String::new() });
            }
        }
        let intents: Vec<(String, String)> = self
            .state
            .pending
            .iter()
            .filter_map(|p| match p {
                PendingCreate::Crm { remote_id, fingerprint } => Some((remote_id.clone(), fingerprint.clone())),
                PendingCreate::Remote { .. } => None,
            })
            .collect();
        if !intents.is_empty() {
            for (cid, c) in unlinked_crm.clone() {
                let fp = self.fingerprint(c);
                if let Some((rid, _)) = intents.iter().find(|(rid, f)| *f == fp && unlinked_remote.contains_key(rid.as_str())) {
                    unlinked_crm.remove(cid);
                    unlinked_remote.remove(rid.as_str());
                    new_links.push((cid.to_string(), rid.clone()));
                    summary.counts.linked_by_id += 1;
                }
            }
        }
        for (cid, rid) in self.state.released.clone() {
            if let Some(c) = unlinked_crm.get(cid.as_str()) {
                if self.passes_filter(c) && (self.remote.contains_key(&rid) || !self.remote_gone(&rid)) {
                    unlinked_crm.remove(cid.as_str());
                    unlinked_remote.remove(rid.as_str());
                    new_links.push((cid.clone(), rid.clone()));
                }
            }
        }
        // Released pairs whose CRM contact is still unlinked are neither matched nor created.
        // The matching keys are read once: the values they come from are kept, by record,
        // for the merge of the pairs matching links and for the creates.
        let mut crm_read: Vec<Option<(&CrmContact, ReadRows)>> =
            unlinked_crm.values().filter(|c| !self.state.released.contains_key(&c.id)).map(|c| Some((*c, self.read_key_rows(|row| self.read_crm_row(c, row))))).collect();
        let mut remote_read: Vec<Option<(&RemoteRecord, ReadRows)>> = unlinked_remote.values().map(|r| Some((*r, self.read_key_rows(|row| self.read_remote_row(r, row))))).collect();
        let mut linked_now: [BTreeSet<&str>; 2] = Default::default();
        for (c, r) in &new_links {
            linked_now[0].insert(c);
            linked_now[1].insert(r);
        }
        let outcome = self.match_and_hold(&crm_read, &remote_read, &linked_now, copied);
        let mut matched = Vec::with_capacity(outcome.links.len());
        for &(c_at, r_at, how) in &outcome.links {
            let (Some((c, read_c)), Some((r, read_r))) = (crm_read.get_mut(c_at).and_then(Option::take), remote_read.get_mut(r_at).and_then(Option::take)) else { continue };
            matched.push((c, r, (read_c, read_r)));
            match how {
                Some(LinkedBy::Email) => summary.counts.linked_by_email += 1,
                Some(LinkedBy::Phone) => summary.counts.linked_by_phone += 1,
                None => {}
            }
        }
        let by_id = new_links.iter().filter_map(|(cid, rid)| Some((self.crm.get(cid)?, self.remote.get(rid)?, Default::default())));
        for (c, r, read) in by_id.chain(matched) {
            let link = Link { remote_id: r.id.clone(), crm_version: c.version, remote_etag: r.etag.clone(), base: Bases::default(), in_filter: self.passes_filter(c), fresh: true };
            if self.summary.samples.len() + summary.samples.len() < MAX_SAMPLES {
                summary.samples.push(ChangeSample { contact_name: display_name_crm(c), side: Side::Remote, action: "link".into(), fields: vec![] });
            }
            deferred.push(Deferred::Link(c.id.clone(), link.clone()));
            self.merge_pair(c, r, &link, read, &mut ops, &mut deferred, &mut summary, &mut new_pending);
        }
        self.report_held(&outcome, &mut summary, &mut deferred);
        let held_crm: BTreeSet<&str> = outcome.held.iter().flat_map(|g| g.crm_ids.iter().map(String::as_str)).collect();
        let held_remote: BTreeSet<&str> = outcome.held.iter().flat_map(|g| g.remote_ids.iter().map(String::as_str)).collect();
        let ignored_now = |side: Side, id: &str| outcome.applied.ignore.iter().any(|(s, x)| *s == side && x == id);

        // Creates: the candidates left (no released, held or ignored contact).
        for (c, read) in crm_read.into_iter().flatten() {
            let cid = c.id.as_str();
            if held_crm.contains(cid) || ignored_now(Side::Crm, cid) || self.state.retired_crm.contains(cid) {
                continue;
            }
            if !self.passes_filter(c) {
                summary.counts.skipped_by_filter += 1;
                continue;
            }
            if !(self.cfg.export && self.cfg.allow_create) {
                continue;
            }
            let (rec, base) = self.remote_from_crm(c, read);
            deferred.push(Deferred::Intent(PendingCreate::Remote { crm_id: cid.to_string() }));
            summary.counts.remote.created += 1;
            if summary.samples.len() < MAX_SAMPLES {
                summary.samples.push(ChangeSample { contact_name: display_name_crm(c), side: Side::Remote, action: "create".into(), fields: vec![] });
            }
            ops.push((WriteOp::RemoteCreate { crm_id: cid.to_string(), record: rec }, OpContext::RemoteCreate { crm_id: cid.to_string(), crm_version: c.version, base, replaces: None }));
        }
        for (r, read) in remote_read.into_iter().flatten() {
            let rid = r.id.as_str();
            if held_remote.contains(rid) || ignored_now(Side::Remote, rid) || !self.cfg.import {
                continue;
            }
            let (n, base) = self.crm_from_remote(r, read);
            deferred.push(Deferred::Intent(PendingCreate::Crm { remote_id: rid.to_string(), fingerprint: self.fingerprint_new(&n) }));
            summary.counts.crm.created += 1;
            if summary.samples.len() < MAX_SAMPLES {
                summary.samples.push(ChangeSample { contact_name: display_name_remote(r), side: Side::Crm, action: "create".into(), fields: vec![] });
            }
            ops.push((WriteOp::CrmCreate { remote_id: rid.to_string(), contact: n }, OpContext::CrmCreate { remote_id: rid.to_string(), remote_etag: r.etag.clone(), base, replaces: None }));
        }

        super::guard::delete_share(deletes, linked, self.cfg.max_delete_share).map_err(|mut e| {
            e.would_delete = would_delete;
            e
        })?;

        // Commit the decisions that need no write, then register the writes.
        for d in deferred {
            self.apply(d);
        }
        if !self.decisions_applied {
            self.decisions_applied = true;
            self.postponed = outcome.postponed;
        }
        for (k, v) in new_pending {
            self.pending_bases.insert(k, v);
        }
        let mut writes: Vec<PlannedWrite> = Vec::with_capacity(ops.len());
        // Stable, on borrowed keys, and on positions: no id is copied and no write (a whole
        // record each) is moved around to sort 30,000 writes.
        let mut order: Vec<usize> = (0..ops.len()).collect();
        order.sort_by(|a, b| op_rank(&ops[*a].0).cmp(&op_rank(&ops[*b].0)));
        let mut slots: Vec<Option<(WriteOp, OpContext)>> = ops.into_iter().map(Some).collect();
        for (op, ctx) in order.into_iter().filter_map(|at| slots[at].take()) {
            let id = self.next_op;
            self.next_op += 1;
            self.ops.insert(id, ctx);
            writes.push(PlannedWrite { id, op });
        }
        self.merge_summary(&summary);
        self.journal.conflicts.extend(summary.conflicts.iter().cloned());
        Ok(SyncPlan { writes, summary })
    }

    /// Adds one plan's summary to the run's. Writes, links, conflicts and notices add up
    /// over the run's plans; what a plan finds standing (ambiguities, contacts the filter
    /// leaves out, pairs needing no write) is counted from the run's first plan only, as
    /// each later plan finds it again.
    fn merge_summary(&mut self, s: &PlanSummary) {
        let first_plan = self.plans_made == 0;
        self.plans_made += 1;
        let t = &mut self.summary;
        let c = &s.counts;
        t.counts.crm.created += c.crm.created;
        t.counts.crm.updated += c.crm.updated;
        t.counts.crm.deleted += c.crm.deleted;
        t.counts.remote.created += c.remote.created;
        t.counts.remote.updated += c.remote.updated;
        t.counts.remote.deleted += c.remote.deleted;
        t.counts.linked_by_email += c.linked_by_email;
        t.counts.linked_by_phone += c.linked_by_phone;
        t.counts.linked_by_id += c.linked_by_id;
        t.counts.conflicts += c.conflicts;
        t.counts.decided += c.decided;
        if first_plan {
            t.counts.ambiguous = c.ambiguous;
            t.counts.unchanged = c.unchanged;
            t.counts.skipped_by_filter = c.skipped_by_filter;
            t.counts.waiting = c.waiting;
            t.ambiguities = s.ambiguities.clone();
            t.pending_matches = s.pending_matches.clone();
            t.ignored = s.ignored.clone();
        }
        t.conflicts.extend(s.conflicts.iter().cloned());
        for x in &s.samples {
            if t.samples.len() < MAX_SAMPLES {
                t.samples.push(x.clone());
            }
        }
        for n in &s.notices {
            if !t.notices.contains(n) {
                t.notices.push(n.clone());
            }
        }
    }

    /// The values of the rows matching reads (e-mails, phones) of one record.
    fn read_key_rows(&self, read: impl Fn(&Row) -> Value) -> ReadRows {
        ReadRows(self.rows.iter().enumerate().filter(|(_, row)| matches!(row.shape, Shape::Emails | Shape::Phones)).map(|(n, row)| (n, read(row))).collect())
    }

    /// A record's matching keys from its read rows: every e-mail and phone key.
    fn candidate<'a>(&self, id: &'a str, read: &'a ReadRows) -> Candidate<'a> {
        let mut cand = Candidate { id, ..Candidate::default() };
        for (n, value) in &read.0 {
            let (Some(row), Value::Items(items)) = (self.rows.get(*n), value) else { continue };
            let keys = items.iter().map(|i| i.key.as_str());
            match row.shape {
                Shape::Emails => cand.emails.extend(keys),
                Shape::Phones => cand.phones.extend(keys),
                _ => {}
            }
        }
        cand
    }

    /// Matches the unlinked contacts read, carries the held matches forward and applies
    /// the operator's decisions ([`held`]). Contacts the operator said match none of their
    /// candidates, and copies held for one carried id (`copied`), take part with no key.
    fn match_and_hold(&self, crm_read: &[Option<(&CrmContact, ReadRows)>], remote_read: &[Option<(&RemoteRecord, ReadRows)>], linked_now: &[BTreeSet<&str>; 2], copied: Vec<HeldMatch>) -> MatchOutcome {
        let no_keys = held::node_set(copied.iter().flat_map(held_ids));
        let no_keys = |side: Side, id: &str| {
            let unmatched = match side {
                Side::Crm => &self.state.unmatched_crm,
                Side::Remote => &self.state.unmatched_remote,
            };
            unmatched.contains(id) || (!no_keys.is_empty() && no_keys.contains(&(side, id.to_string())))
        };
        let mut out = MatchOutcome { links: Vec::new(), held: Vec::new(), applied: held::Applied::default(), postponed: Vec::new() };
        let mut decisions: Vec<Decision> = if self.decisions_applied { Vec::new() } else { self.decisions.clone() };
        let mut stored = self.state.held.clone();
        let mut found_first = copied;
        // Positions linked or decided so far (out of the next matching), and the held
        // contacts among them (no longer held).
        let (mut done_crm, mut done_remote) = (vec![false; crm_read.len()], vec![false; remote_read.len()]);
        let mut done_held: BTreeSet<(Side, String)> = BTreeSet::new();
        loop {
            let crm_in: Vec<(usize, &CrmContact, &ReadRows)> = crm_read.iter().enumerate().filter(|(i, _)| !done_crm.get(*i).copied().unwrap_or(true)).filter_map(|(i, x)| x.as_ref().map(|(c, read)| (i, *c, read))).collect();
            let remote_in: Vec<(usize, &RemoteRecord, &ReadRows)> = remote_read.iter().enumerate().filter(|(i, _)| !done_remote.get(*i).copied().unwrap_or(true)).filter_map(|(i, x)| x.as_ref().map(|(r, read)| (i, *r, read))).collect();
            let cands_c: Vec<Candidate> = crm_in.iter().map(|(_, c, read)| if no_keys(Side::Crm, &c.id) { Candidate { id: &c.id, ..Candidate::default() } } else { self.candidate(&c.id, read) }).collect();
            let cands_r: Vec<Candidate> = remote_in.iter().map(|(_, r, read)| if no_keys(Side::Remote, &r.id) { Candidate { id: &r.id, ..Candidate::default() } } else { self.candidate(&r.id, read) }).collect();
            let m = match_unlinked(&cands_c, &cands_r, |c, r| match (crm_in.get(c), remote_in.get(r)) {
                (Some((_, c, _)), Some((_, r, _))) => names::compatible(&self.crm_name(c), &self.remote_name(r)),
                _ => false,
            });
            // (position in crm_read, in remote_read, how, CRM id, remote id)
            let pairs: Vec<(usize, usize, LinkedBy, &str, &str)> = m.pairs.iter().filter_map(|&(c, r, by)| {
                let ((ci, c, _), (ri, r, _)) = (crm_in.get(c)?, remote_in.get(r)?);
                Some((*ci, *ri, by, c.id.as_str(), r.id.as_str()))
            }).collect();
            let mut found: Vec<HeldMatch> = m
                .groups
                .iter()
                .map(|g| HeldMatch {
                    kind: g.kind,
                    crm_ids: g.crm.iter().filter_map(|c| crm_in.get(*c)).map(|(_, c, _)| c.id.clone()).collect(),
                    remote_ids: g.remote.iter().filter_map(|r| remote_in.get(*r)).map(|(_, r, _)| r.id.clone()).collect(),
                    key: String::new(),
                })
                .collect();
            found.append(&mut found_first);
            let stays = |side: Side, id: &str| {
                let (gone, linked, now) = match side {
                    Side::Crm => (self.crm_gone(id), self.state.links.contains_key(id), &linked_now[0]),
                    Side::Remote => (self.remote_gone(id), self.state.crm_of(id).is_some(), &linked_now[1]),
                };
                !gone && !linked && !now.contains(id) && !done_held.contains(&(side, id.to_string()))
            };
            let ids: Vec<(&str, &str)> = pairs.iter().map(|p| (p.3, p.4)).collect();
            let regrouped = held::regroup(&stored, stays, &ids, found);
            let was_held = held::node_set(stored.iter().flat_map(held_ids));
            for (ci, ri, by, c, r) in regrouped.links.iter().filter_map(|n| pairs.get(*n)) {
                mark(&mut done_crm, *ci);
                mark(&mut done_remote, *ri);
                for node in [(Side::Crm, c.to_string()), (Side::Remote, r.to_string())] {
                    if was_held.contains(&node) {
                        done_held.insert(node);
                    }
                }
                out.links.push((*ci, *ri, Some(*by)));
            }
            let mut now = regrouped.held;
            if decisions.is_empty() {
                out.held = now;
                return out;
            }
            let at = |side: Side, id: &str| match side {
                Side::Crm => crm_in.iter().find(|(_, c, _)| c.id == id).map(|(i, _, _)| *i),
                Side::Remote => remote_in.iter().find(|(_, r, _)| r.id == id).map(|(i, _, _)| *i),
            };
            // A decision about a held contact this run did not read waits for a run that
            // does (one about no held contact is stale whatever was read).
            let unread = |d: &Decision| decision_contacts(d).iter().any(|(side, id)| at(*side, id).is_none() && now.iter().any(|g| g.holds(*side, id)));
            let (later, ready): (Vec<Decision>, Vec<Decision>) = decisions.drain(..).partition(unread);
            out.postponed = later;
            let applied = held::apply(&mut now, &ready);
            for (c, r) in &applied.links {
                if let (Some(ci), Some(ri)) = (at(Side::Crm, c), at(Side::Remote, r)) {
                    mark(&mut done_crm, ci);
                    mark(&mut done_remote, ri);
                    out.links.push((ci, ri, None));
                }
                done_held.extend([(Side::Crm, c.clone()), (Side::Remote, r.clone())]);
            }
            for (side, id) in applied.create.iter().chain(&applied.ignore) {
                match (side, at(*side, id)) {
                    (Side::Crm, Some(i)) => mark(&mut done_crm, i),
                    (Side::Remote, Some(i)) => mark(&mut done_remote, i),
                    _ => {}
                }
                done_held.insert((*side, id.clone()));
            }
            let changed = !(applied.links.is_empty() && applied.create.is_empty() && applied.ignore.is_empty());
            out.applied = applied;
            stored = now;
            if !changed {
                out.held = stored;
                return out;
            }
            // Match again without the contacts decided: those they leave behind in a group
            // may now pair up on their own.
        }
    }

    /// The held matches into the summary (each with its contacts as the operator knows
    /// them) and the state; the operator's decisions into the counts, the notices and the
    /// state.
    fn report_held(&self, outcome: &MatchOutcome, summary: &mut PlanSummary, deferred: &mut Vec<Deferred>) {
        let mut held = outcome.held.clone();
        for g in &mut held {
            let shared = self.shared_keys(g);
            if !shared.is_empty() {
                g.key = hash36(&shared.join("\u{1c}"));
            }
            let key = shared.join(", ");
            summary.counts.waiting += (g.crm_ids.len() + g.remote_ids.len()) as u32;
            if g.kind == GroupKind::Ambiguous {
                let what = if key.contains('@') { "an e-mail" } else if key.starts_with('+') { "a phone number" } else { "a key" };
                summary.ambiguities.push(AmbiguityRecord {
                    key: key.clone(),
                    crm_ids: g.crm_ids.clone(),
                    remote_ids: g.remote_ids.clone(),
                    reason: format!("{} CRM contact(s) and {} address-book contact(s) share {what}; nothing is linked or created until you choose in the settings tab (link, create new or ignore)", g.crm_ids.len(), g.remote_ids.len()),
                });
                summary.counts.ambiguous += 1;
            }
            summary.pending_matches.push(PendingMatch {
                kind: if g.kind == GroupKind::Ambiguous { "ambiguous" } else { "possible" }.into(),
                key,
                crm: g.crm_ids.iter().map(|id| self.match_candidate(Side::Crm, id)).collect(),
                remote: g.remote_ids.iter().map(|id| self.match_candidate(Side::Remote, id)).collect(),
            });
        }
        deferred.push(Deferred::Held(held));
        let applied = &outcome.applied;
        for (side, id) in &applied.create {
            deferred.push(Deferred::Unmatched(*side, id.clone()));
        }
        let st = &self.state;
        let was_ignored = |side: Side, id: &str| match side {
            Side::Crm => st.ignored_crm.contains(id),
            Side::Remote => st.ignored_remote.contains(id),
        };
        let unignored: Vec<&(Side, String)> = self.unignored.iter().filter(|(side, id)| was_ignored(*side, id)).collect();
        for (side, id) in &unignored {
            deferred.push(Deferred::Ignore(*side, id.clone(), false));
        }
        for (side, id) in &applied.ignore {
            deferred.push(Deferred::Ignore(*side, id.clone(), true));
        }
        if !self.decisions_applied {
            let stale_unignore = self.decisions.iter().filter(|d| matches!(d, Decision::Unignore { side, id } if !was_ignored(*side, id)));
            let stale: Vec<&Decision> = applied.stale.iter().chain(stale_unignore).collect();
            summary.counts.decided += self.decisions.len().saturating_sub(stale.len() + outcome.postponed.len()) as u32;
            for d in stale {
                let note = format!("A decision about {} no longer applies (already applied, or the contacts changed since): nothing was done.", decision_ids(d));
                if !summary.notices.contains(&note) {
                    summary.notices.push(note);
                }
            }
        }
        // Ignored contacts, shown so they can be synced again; gone ones are forgotten.
        let now_ignored = |side: Side, id: &str| (was_ignored(side, id) && !unignored.iter().any(|(s, x)| *s == side && x == id)) || applied.ignore.iter().any(|(s, x)| *s == side && x == id);
        // (A contact ignored by this run's decision was held, so not ignored before.)
        for (side, id) in st.ignored_crm.iter().map(|c| (Side::Crm, c)).chain(st.ignored_remote.iter().map(|r| (Side::Remote, r))).chain(applied.ignore.iter().map(|(s, id)| (*s, id))) {
            if now_ignored(side, id) {
                summary.ignored.push(self.match_candidate(side, id));
            }
        }
        let marked = st.ignored_crm.iter().chain(&st.unmatched_crm).map(|c| (Side::Crm, c)).chain(st.ignored_remote.iter().chain(&st.unmatched_remote).map(|r| (Side::Remote, r)));
        for (side, id) in marked {
            let gone = match side {
                Side::Crm => self.crm_gone(id),
                Side::Remote => self.remote_gone(id),
            };
            if gone {
                deferred.push(Deferred::Forget(side, id.clone()));
            }
        }
    }

    /// The keys that more than one contact of a held match holds now: normalized e-mails,
    /// E.164 phones, a carried CRM id.
    fn shared_keys(&self, g: &HeldMatch) -> Vec<String> {
        // Each contact's keys once; a key seen a second time is shared.
        let (mut seen, mut shared) = (BTreeSet::new(), BTreeSet::new());
        let mut add = |keys: BTreeSet<String>| {
            for k in keys {
                if !seen.insert(k.clone()) {
                    shared.insert(k);
                }
            }
        };
        let key_set = |read: &ReadRows, id: &str, carried: Option<&str>| {
            let cand = self.candidate(id, read);
            let mut keys: BTreeSet<String> = cand.emails.iter().chain(cand.phones.iter().filter(|p| p.starts_with('+'))).map(|k| k.to_string()).collect();
            keys.extend(carried.map(|c| format!("CRM id {c}")));
            keys
        };
        for id in &g.crm_ids {
            if let Some(c) = self.crm.get(id) {
                add(key_set(&self.read_key_rows(|row| self.read_crm_row(c, row)), id, Some(id)));
            }
        }
        for id in &g.remote_ids {
            if let Some(r) = self.remote.get(id) {
                let carried = r.crm_id.as_deref().map(|t| self.read_carried(t).crm_id());
                add(key_set(&self.read_key_rows(|row| self.read_remote_row(r, row)), id, carried));
            }
        }
        shared.into_iter().collect()
    }

    /// A contact of a held match as the operator recognises it: name, e-mails and phones
    /// as typed (the name is empty when this run did not read it).
    fn match_candidate(&self, side: Side, id: &str) -> MatchCandidate {
        let (name, read) = match side {
            Side::Crm => match self.crm.get(id) {
                Some(c) => (display_name_crm(c), self.read_key_rows(|row| self.read_crm_row(c, row))),
                None => (String::new(), ReadRows::default()),
            },
            Side::Remote => match self.remote.get(id) {
                Some(r) => (display_name_remote(r), self.read_key_rows(|row| self.read_remote_row(r, row))),
                None => (String::new(), ReadRows::default()),
            },
        };
        let mut out = MatchCandidate { side, id: id.to_string(), name, emails: Vec::new(), phones: Vec::new() };
        for (n, value) in read.0 {
            let (Some(row), Value::Items(items)) = (self.rows.get(n), value) else { continue };
            let typed = items.into_iter().filter_map(|i| match i.original {
                mapping::ItemValue::Text(t) => Some(t),
                mapping::ItemValue::Address(_) => None,
            });
            match row.shape {
                Shape::Emails => out.emails.extend(typed),
                Shape::Phones => out.phones.extend(typed),
                _ => {}
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn merge_pair(&self, c: &CrmContact, r: &RemoteRecord, link: &Link, read: (ReadRows, ReadRows), ops: &mut Vec<(WriteOp, OpContext)>, deferred: &mut Vec<Deferred>, summary: &mut PlanSummary, pending: &mut BTreeMap<String, PendingBases>) {
        let newest = match newer(&c.updated_at, &r.updated_at) {
            std::cmp::Ordering::Greater => Side::Crm,
            std::cmp::Ordering::Less => Side::Remote,
            std::cmp::Ordering::Equal => self.cfg.tie_winner,
        };
        let mut crm_fields = Map::new();
        let mut crm_lists: Option<(Vec<String>, Vec<String>)> = None;
        // The remote record to write, copied only when something is written to it.
        let mut remote_new: Option<RemoteRecord> = None;
        let mut remote_fields: Vec<String> = Vec::new();
        let mut crm_changed_fields: Vec<String> = Vec::new();
        let mut agreed: Vec<(RowKey, Option<Base>)> = Vec::with_capacity(self.rows.len());
        let mut waiting: BTreeMap<RowKey, (Option<Base>, bool, bool)> = BTreeMap::new();
        let (mut read_c, mut read_r) = read;
        for (n, row) in self.rows.iter().enumerate() {
            // The agreed value, looked up once per row.
            let current = link.base.get(&row.key);
            if let Some(same) = self.same_text_on_both_sides(c, r, row) {
                // Both sides hold the same normal form: whatever the base, the direction
                // and the rule, nothing is written and the base becomes that form (what
                // `merge_field` decides, without building either value).
                if link.fresh || !current.is_some_and(|b| same.is_base(b)) {
                    agreed.push((row.key.clone(), same.into_stored()));
                }
                continue;
            }
            let cv = read_c.take(n).unwrap_or_else(|| self.read_crm_row(c, row));
            let rv = read_r.take(n).unwrap_or_else(|| self.read_remote_row(r, row));
            // The merge reads bases as their stored text (lists are parsed from it).
            let base_text = if link.fresh { None } else { Some(current.map_or(std::borrow::Cow::Borrowed(""), Base::text)) };
            let base = base_text.as_deref().filter(|b| *b != UNKNOWN_BASE);
            let rules = FieldRules { shape: row.shape, direction: row.direction, priority: row.priority, fill_empty: row.fill_empty, newest, remote_capacity: self.capacity(row) };
            let FieldOutcome { mut to_crm, mut to_remote, base: new_base, conflict, dropped } = merge_field(&rules, &cv, &rv, base);
            let new_base = Base::from_string(new_base);
            let mut suppressed = false;
            if to_crm.is_some() && !self.cfg.import {
                to_crm = None;
                suppressed = true;
            }
            if to_remote.is_some() && !self.cfg.export {
                to_remote = None;
                suppressed = true;
            }
            if dropped > 0 {
                let n = format!("{dropped} {} cannot be stored in this address book", row.remote_field);
                if !summary.notices.contains(&n) {
                    summary.notices.push(n);
                }
            }
            if let Some(kept) = conflict {
                summary.counts.conflicts += 1;
                summary.conflicts.push(ConflictRecord {
                    crm_id: Some(c.id.clone()),
                    remote_id: Some(r.id.clone()),
                    contact_name: display_name_crm(c),
                    field: if row.crm_field.is_empty() { row.remote_field.clone() } else { row.crm_field.clone() },
                    crm_value: cv.to_json(),
                    remote_value: rv.to_json(),
                    kept,
                    rule: match row.priority {
                        mapping::Priority::Newest => "newest",
                        mapping::Priority::Crm => "crm",
                        mapping::Priority::Remote => "remote",
                    }
                    .into(),
                });
            }
            if let Some(v) = &to_crm {
                if row.shape == Shape::Labels {
                    crm_lists = Some(self.labels_to_crm(&c.lists, &c.tags, v));
                } else {
                    self.codec.write_crm(&mut crm_fields, &row.crm_field, c.fields.get(&row.crm_field), v, row.block);
                }
                crm_changed_fields.push(row.crm_field.clone());
            }
            if let Some(v) = &to_remote {
                self.codec.write_remote(&mut remote_new.get_or_insert_with(|| r.clone()).contact, &row.remote_field, v, &self.cfg.labels);
                remote_fields.push(row.remote_field.clone());
            }
            if suppressed {
                // Not written: the base stays, so the change is still seen next time.
                if link.fresh {
                    agreed.push((row.key.clone(), unknown_base()));
                }
            } else if to_crm.is_none() && to_remote.is_none() {
                // (No base and an empty one are the same agreement.)
                let same = match (current, &new_base) {
                    (Some(c), Some(n)) => c == n,
                    (Some(c), None) => c.is(""),
                    (None, n) => n.is_none(),
                };
                if !same || link.fresh {
                    agreed.push((row.key.clone(), new_base));
                }
            } else {
                waiting.insert(row.key.clone(), (new_base, to_crm.is_some(), to_remote.is_some()));
                if link.fresh {
                    agreed.push((row.key.clone(), unknown_base()));
                }
            }
        }
        // The remote copy carries the CRM id, signed; a bare one from an earlier version is
        // accepted as it is, and signed when the copy is written anyway.
        let stamping = self.cfg.capabilities.carries_crm_id && self.cfg.export;
        let stamp = stamping && !r.crm_id.as_deref().is_some_and(|t| self.carries(t, &c.id));
        if stamping && (stamp || remote_new.is_some()) {
            let own = self.token(&c.id);
            if r.crm_id.as_deref() != Some(own.as_str()) {
                remote_new.get_or_insert_with(|| r.clone()).crm_id = Some(own);
            }
        }
        let crm_write = !crm_fields.is_empty() || crm_lists.is_some();
        let remote_write = !remote_fields.is_empty() || stamp;
        if !crm_write && !remote_write {
            summary.counts.unchanged += 1;
        }
        deferred.push(Deferred::Agree(c.id.clone(), agreed, if crm_write { link.crm_version } else { c.version }, if remote_write { link.remote_etag.clone() } else { r.etag.clone() }, crm_write || remote_write));
        deferred.push(Deferred::Clean(Some(c.id.clone()), Some(r.id.clone())));
        if crm_write {
            let (lists, tags) = match crm_lists {
                Some((l, t)) => (Some(l), Some(t)),
                None => (None, None),
            };
            let patch = CrmPatch { fields: if crm_fields.is_empty() { None } else { Some(crm_fields) }, lists, tags };
            let before = crm_before(c, &patch);
            summary.counts.crm.updated += 1;
            if summary.samples.len() < MAX_SAMPLES {
                summary.samples.push(ChangeSample { contact_name: display_name_crm(c), side: Side::Crm, action: "update".into(), fields: crm_changed_fields });
            }
            ops.push((WriteOp::CrmUpdate { crm_id: c.id.clone(), expected_version: c.version, patch: patch.clone() }, OpContext::CrmUpdate { crm_id: c.id.clone(), before, after: patch, flag: false }));
        }
        if remote_write {
            summary.counts.remote.updated += 1;
            if summary.samples.len() < MAX_SAMPLES {
                summary.samples.push(ChangeSample { contact_name: display_name_crm(c), side: Side::Remote, action: "update".into(), fields: remote_fields.clone() });
            }
            ops.push((WriteOp::RemoteUpdate { remote_id: r.id.clone(), record: remote_new.unwrap_or_else(|| r.clone()), fields: remote_fields }, OpContext::RemoteUpdate { crm_id: c.id.clone(), remote_id: r.id.clone(), before: None }));
        }
        if !waiting.is_empty() {
            pending.insert(c.id.clone(), PendingBases { fields: waiting });
        }
    }

    fn apply(&mut self, d: Deferred) {
        let st = &mut self.state;
        match d {
            Deferred::Unlink(c) => {
                st.unlink(&c);
            }
            Deferred::RetireCrm(c) => {
                st.retired_crm.insert(c);
            }
            Deferred::RetireRemote(r) => {
                st.retired_remote.insert(r);
            }
            Deferred::Release(c, r) => {
                st.unlink(&c);
                st.released.insert(c, r);
            }
            Deferred::Link(c, l) => {
                st.released.remove(&c);
                st.unmatched_crm.remove(&c);
                st.unmatched_remote.remove(&l.remote_id);
                st.retired_crm.remove(&c);
                st.retired_remote.remove(&l.remote_id);
                if !st.pending.is_empty() {
                    st.pending.remove(&PendingCreate::Remote { crm_id: c.clone() });
                    let start = PendingCreate::Crm { remote_id: l.remote_id.clone(), fingerprint: String::new() };
                    let stale: Vec<PendingCreate> =
                        st.pending.range(start..).take_while(|p| matches!(p, PendingCreate::Crm { remote_id, .. } if *remote_id == l.remote_id)).cloned().collect();
                    for p in stale {
                        st.pending.remove(&p);
                    }
                }
                st.link(&c, l);
            }
            Deferred::Agree(c, fields, crm_version, remote_etag, writes_follow) => {
                if let Some(l) = st.link_mut(&c) {
                    if l.fresh {
                        // A first merge: the whole base at once (one entry per mapping row,
                        // row keys are unique), built in bulk rather than entry by entry.
                        l.base = fields.into_iter().collect();
                    } else {
                        for (k, v) in fields {
                            l.base.set(&k, v);
                        }
                    }
                    l.fresh = false;
                    l.crm_version = crm_version;
                    l.remote_etag = remote_etag;
                    let _ = writes_follow;
                }
            }
            Deferred::InFilter(c, v) => {
                if let Some(l) = st.link_mut(&c) {
                    l.in_filter = v;
                }
            }
            Deferred::Clean(c, r) => {
                if let Some(c) = c {
                    st.dirty_crm.remove(&c);
                }
                if let Some(r) = r {
                    st.dirty_remote.remove(&r);
                }
            }
            Deferred::Dirty(c, r) => {
                if let Some(c) = c {
                    st.dirty_crm.insert(c);
                }
                if let Some(r) = r {
                    st.dirty_remote.insert(r);
                }
            }
            Deferred::Intent(p) => {
                st.pending.insert(p);
            }
            Deferred::Move(old, new) => {
                st.move_remote(&old, &new);
            }
            Deferred::Held(held) => st.held = held,
            Deferred::Ignore(side, id, on) => {
                let set = match side {
                    Side::Crm => &mut st.ignored_crm,
                    Side::Remote => &mut st.ignored_remote,
                };
                if on {
                    set.insert(id);
                } else {
                    set.remove(&id);
                }
            }
            Deferred::Unmatched(side, id) => {
                match side {
                    Side::Crm => st.unmatched_crm.insert(id),
                    Side::Remote => st.unmatched_remote.insert(id),
                };
            }
            Deferred::Forget(side, id) => {
                let (ignored, unmatched) = match side {
                    Side::Crm => (&mut st.ignored_crm, &mut st.unmatched_crm),
                    Side::Remote => (&mut st.ignored_remote, &mut st.unmatched_remote),
                };
                ignored.remove(&id);
                unmatched.remove(&id);
            }
        }
    }

    fn confirm_bases(&mut self, crm_id: &str, side: Side) {
        let Some(p) = self.pending_bases.get_mut(crm_id) else { return };
        let mut done = Vec::new();
        for (k, (base, need_crm, need_remote)) in p.fields.iter_mut() {
            match side {
                Side::Crm => *need_crm = false,
                Side::Remote => *need_remote = false,
            }
            if !*need_crm && !*need_remote {
                done.push((k.clone(), base.clone()));
            }
        }
        for (k, _) in &done {
            p.fields.remove(k);
        }
        if p.fields.is_empty() {
            self.pending_bases.remove(crm_id);
        }
        if let Some(l) = self.state.link_mut(crm_id) {
            for (k, v) in done {
                l.base.set(&k, v);
            }
        }
    }

    /// Reports the outcome of a planned write. Unknown ids are ignored (reported twice).
    pub fn handle_write_result(&mut self, id: u32, result: WriteResult) {
        let Some(ctx) = self.ops.remove(&id) else { return };
        if let WriteResult::Failed(e) = &result {
            let (c, r) = match &ctx {
                OpContext::CrmCreate { remote_id, .. } => (None, Some(remote_id.clone())),
                OpContext::CrmUpdate { crm_id, .. } | OpContext::CrmDelete { crm_id, .. } => (Some(crm_id.clone()), self.state.remote_of(crm_id).map(String::from)),
                OpContext::RemoteCreate { crm_id, .. } => (Some(crm_id.clone()), None),
                OpContext::RemoteUpdate { crm_id, remote_id, .. } => (Some(crm_id.clone()), Some(remote_id.clone())),
                OpContext::RemoteDelete { crm_id, before } => (crm_id.clone(), before.as_ref().map(|b| b.id.clone()).or_else(|| crm_id.as_ref().and_then(|c| self.state.remote_of(c).map(String::from)))),
            };
            if let Some(c) = c {
                self.state.dirty_crm.insert(c.clone());
                self.failed_crm.insert(c.clone());
                self.pending_bases.remove(&c);
            }
            if let Some(r) = r {
                self.state.dirty_remote.insert(r.clone());
                self.failed_remote.insert(r);
            }
            if !self.errors.iter().any(|x| x.code == e.code) {
                self.errors.push(e.clone());
            }
            return;
        }
        match (ctx, result) {
            (OpContext::CrmCreate { remote_id, remote_etag, base, replaces }, WriteResult::Crm(created)) => {
                if let Some(old) = replaces {
                    self.state.unlink(&old);
                    self.crm.remove(&old);
                }
                let link = Link { remote_id: remote_id.clone(), crm_version: created.version, remote_etag, base, in_filter: self.passes_filter(&created), fresh: false };
                self.apply(Deferred::Link(created.id.clone(), link));
                self.journal.records.push(JournalRecord::CrmCreated { crm_id: created.id.clone(), version: created.version });
                self.crm.insert(created.id.clone(), created);
            }
            (OpContext::RemoteCreate { crm_id, crm_version, base, replaces }, WriteResult::Remote(created)) => {
                if let Some(old) = replaces {
                    if let Some(l) = self.state.unlink(&old) {
                        self.remote.remove(&l.remote_id);
                    }
                }
                let in_filter = self.crm.get(&crm_id).is_none_or(|c| self.passes_filter(c));
                let link = Link { remote_id: created.id.clone(), crm_version, remote_etag: created.etag.clone(), base, in_filter, fresh: false };
                self.apply(Deferred::Link(crm_id.clone(), link));
                self.journal.records.push(JournalRecord::RemoteCreated { remote_id: created.id.clone(), etag: created.etag.clone() });
                self.remote.insert(created.id.clone(), created);
            }
            (OpContext::CrmUpdate { crm_id, before, after, flag }, WriteResult::Crm(updated)) => {
                if flag {
                    self.state.unlink(&crm_id);
                    self.state.retired_crm.insert(crm_id.clone());
                } else {
                    if let Some(l) = self.state.link_mut(&crm_id) {
                        l.crm_version = updated.version;
                    }
                    self.confirm_bases(&crm_id, Side::Crm);
                }
                self.journal.records.push(JournalRecord::CrmUpdated { crm_id: crm_id.clone(), version: updated.version, before, after });
                self.crm.insert(crm_id, updated);
            }
            (OpContext::RemoteUpdate { crm_id, remote_id, before }, WriteResult::Remote(updated)) => {
                if let Some(l) = self.state.link_mut(&crm_id) {
                    l.remote_etag = updated.etag.clone();
                }
                self.confirm_bases(&crm_id, Side::Remote);
                let after = updated.clone();
                let replaced = if updated.id == remote_id {
                    self.remote.insert(remote_id, updated)
                } else {
                    // Answered under another id: the planned copy stays where it was.
                    let planned = self.remote.get(&remote_id).cloned();
                    self.remote.insert(updated.id.clone(), updated);
                    planned
                };
                if let Some(before) = before.or(replaced) {
                    self.journal.records.push(JournalRecord::RemoteUpdated { before, after });
                }
            }
            (OpContext::CrmDelete { crm_id, before }, WriteResult::Deleted) => {
                self.state.unlink(&crm_id);
                self.crm.remove(&crm_id);
                self.crm_listing.gone.insert(crm_id);
                if let Some(b) = before {
                    self.journal.records.push(JournalRecord::CrmDeleted { before: b });
                }
            }
            (OpContext::RemoteDelete { crm_id, before }, WriteResult::Deleted) => {
                if let Some(c) = crm_id {
                    if let Some(l) = self.state.unlink(&c) {
                        self.remote.remove(&l.remote_id);
                        self.remote_listing.gone.insert(l.remote_id);
                    }
                }
                if let Some(b) = before {
                    self.journal.records.push(JournalRecord::RemoteDeleted { before: b });
                }
            }
            (_, _) => {
                self.errors.push(EngineError::new("INTERNAL", "a write was reported with a result of the wrong kind", "Report the runner bug."));
            }
        }
    }

    /// The state to save now: confirmed writes only. While writes are unresolved the old
    /// cursors are kept and the pairs involved are marked to be looked at again.
    pub fn checkpoint(&self) -> SpokeState {
        let mut s = self.state.clone();
        let unresolved = !self.ops.is_empty();
        for ctx in self.ops.values() {
            match ctx {
                OpContext::CrmCreate { remote_id, .. } => {
                    s.dirty_remote.insert(remote_id.clone());
                }
                OpContext::CrmUpdate { crm_id, .. } | OpContext::CrmDelete { crm_id, .. } | OpContext::RemoteCreate { crm_id, .. } => {
                    s.dirty_crm.insert(crm_id.clone());
                }
                OpContext::RemoteUpdate { crm_id, remote_id, .. } => {
                    s.dirty_crm.insert(crm_id.clone());
                    s.dirty_remote.insert(remote_id.clone());
                }
                OpContext::RemoteDelete { crm_id, .. } => {
                    if let Some(c) = crm_id {
                        s.dirty_crm.insert(c.clone());
                    }
                }
            }
        }
        if !unresolved && !self.aborted {
            if self.crm_listing.complete && self.crm_listing.failed.is_none() {
                s.crm_cursor = self.crm_listing.cursor.clone();
            }
            if self.remote_listing.complete && self.remote_listing.failed.is_none() {
                s.remote_cursor = self.remote_listing.cursor.clone();
            }
        }
        s
    }

    /// What the run did (or, before any write, what it will do).
    pub fn summary(&self) -> &PlanSummary {
        &self.summary
    }

    /// Confirmed writes and conflicts, for the history and undo.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// Write failures reported this run (one per code).
    pub fn errors(&self) -> &[EngineError] {
        &self.errors
    }

    /// The live state (confirmed writes applied).
    pub fn state(&self) -> &SpokeState {
        &self.state
    }
}

/// Adds a page to the records held, as taking its records one by one in order would: a
/// tombstone drops its record and marks the id gone; a live record is held (the last copy
/// of an id winning) and its id is gone no more.
fn add_page<T>(held: &mut BTreeMap<String, T>, gone: &mut BTreeSet<String>, page: Vec<T>, read: impl Fn(&T) -> (bool, &String)) {
    if page.iter().any(|x| read(x).0) {
        for x in page {
            let (deleted, id) = read(&x);
            let id = id.clone();
            if deleted {
                held.remove(&id);
                gone.insert(id);
            } else {
                gone.remove(&id);
                held.insert(id, x);
            }
        }
        return;
    }
    // The common page, with no tombstone: sorted and built in one go, then merged into
    // what is held in one pass when it is large against it (a first listing).
    let mut live: BTreeMap<String, T> = page.into_iter().map(|x| (read(&x).1.clone(), x)).collect();
    if !gone.is_empty() {
        for id in live.keys() {
            gone.remove(id);
        }
    }
    if live.len() * 8 >= held.len() {
        held.append(&mut live);
    } else {
        held.extend(live);
    }
}

/// Before the session's copies of the records `touched` says are replaced or dropped, the
/// unresolved remote updates planned against them keep a copy as their journal "before"
/// (see [`OpContext::RemoteUpdate`]).
fn hold_befores(ops: &mut BTreeMap<u32, OpContext>, remote: &BTreeMap<String, RemoteRecord>, touched: impl Fn(&str) -> bool) {
    for ctx in ops.values_mut() {
        if let OpContext::RemoteUpdate { remote_id, before: before @ None, .. } = ctx {
            if touched(remote_id) {
                *before = remote.get(remote_id.as_str()).cloned();
            }
        }
    }
}

/// The base of a field whose agreed value is not known ([`UNKNOWN_BASE`]).
fn unknown_base() -> Option<Base> {
    Base::parse(UNKNOWN_BASE)
}

fn op_rank(op: &WriteOp) -> (u8, &str) {
    match op {
        WriteOp::CrmCreate { remote_id, .. } => (0, remote_id),
        WriteOp::CrmUpdate { crm_id, .. } => (1, crm_id),
        WriteOp::CrmDelete { crm_id, .. } => (2, crm_id),
        WriteOp::RemoteCreate { crm_id, .. } => (3, crm_id),
        WriteOp::RemoteUpdate { remote_id, .. } => (4, remote_id),
        WriteOp::RemoteDelete { remote_id, .. } => (5, remote_id),
    }
}

/// The contacts a decision is about (none for an un-ignore: it is about ignored ones).
fn decision_contacts(d: &Decision) -> Vec<(Side, &str)> {
    match d {
        Decision::Link { crm_id, remote_id } | Decision::Refuse { crm_id, remote_id } => vec![(Side::Crm, crm_id), (Side::Remote, remote_id)],
        Decision::CreateNew { side, id } | Decision::Ignore { side, id } => vec![(*side, id)],
        Decision::Unignore { .. } => vec![],
    }
}

/// The contacts a decision names, for a notice.
fn decision_ids(d: &Decision) -> String {
    match d {
        Decision::Link { crm_id, remote_id } | Decision::Refuse { crm_id, remote_id } => format!("{crm_id} and {remote_id}"),
        Decision::CreateNew { id, .. } | Decision::Ignore { id, .. } | Decision::Unignore { id, .. } => id.clone(),
    }
}

/// The contacts of a held match.
fn held_ids(g: &HeldMatch) -> impl Iterator<Item = (Side, String)> + '_ {
    g.crm_ids.iter().map(|c| (Side::Crm, c.clone())).chain(g.remote_ids.iter().map(|r| (Side::Remote, r.clone())))
}

fn mark(done: &mut [bool], at: usize) {
    if let Some(slot) = done.get_mut(at) {
        *slot = true;
    }
}
