//! One sync run of one spoke, at the I/O edge: drives the engine's sans-IO
//! [`SyncSession`] through the host and a [`Provider`].
//!
//! Order: take the lease (compare-and-set with expiry; a live lease of another run →
//! `alreadyRunning`) → load the state → pull the CRM since its cursor and the remote since
//! its sync token (a refused token → a full listing, which re-links instead of
//! duplicating) → fetch what the engine asks for → plan (a dry run stops here) →
//! checkpoint → execute in batches at the provider's maximum sizes, one request at a time,
//! checkpointing after each confirmed batch and renewing the lease → re-plan until
//! nothing is left, the time budget is spent or the run is cancelled → journal → release.
//! Tokens never pass through here: the provider asks the host's secrets for them.

use std::cell::Cell;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::crm::CrmContact;
use crate::engine::journal::Journal;
use crate::engine::lease::{self, Lease, LeaseDecision};
use crate::engine::mapping::CrmLabelKind;
use crate::engine::plan::{PlannedWrite, WriteOp, WriteResult};
use crate::engine::report::{AmbiguityRecord, ChangeSample, ConflictRecord, MatchCandidate, PendingMatch, RunCounts};
use crate::engine::session::{Listing, SyncSession};
use crate::engine::state::SpokeState;
use crate::engine::{EngineError, PlanSummary, Side, SyncConfig};
use crate::error::{ErrorCode, PluginError, PluginResult};
use crate::host::{Host, LogLevel};
use crate::providers::{ItemResult, ListError, NewRemote, PageNext, Provider, ProviderError};
use crate::settings::{Settings, SpokeSettings};

/// CRM contacts per `crm.listChanges` page.
const CRM_PAGE: u32 = 500;
/// A lease outlives a crashed run by this much at most.
const LEASE_TTL_MS: u64 = 5 * 60_000;
/// Runs kept in the history of a spoke.
pub const HISTORY_KEEP: usize = 20;
/// Plan rounds per run (a second round stamps CRM ids on copies created in the first).
const MAX_ROUNDS: usize = 4;

/// Storage keys of one spoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpokeKeys {
    /// The engine's state (links, bases, cursors).
    pub state: String,
    /// The run lease.
    pub lease: String,
    /// `RunReport`s, newest last.
    pub history: String,
    /// The journal of the latest run, for undo.
    pub journal: String,
    /// The state before the latest run that wrote, restored by its undo.
    pub undo_base: String,
    /// Remote ids of the mapped labels at the last run (tells a deleted group from a new one).
    pub labels: String,
    /// The operator's match decisions waiting for the next run ([`crate::match_decisions`]).
    pub decisions: String,
}

impl SpokeKeys {
    /// Keys for spoke `id`.
    pub fn for_spoke(id: &str) -> Self {
        SpokeKeys {
            state: format!("spoke.{id}.state"),
            lease: format!("spoke.{id}.lease"),
            history: format!("spoke.{id}.history"),
            journal: format!("spoke.{id}.journal"),
            undo_base: format!("spoke.{id}.undoBase"),
            labels: format!("spoke.{id}.labels"),
            decisions: format!("spoke.{id}.decisions"),
        }
    }
}

/// `SideCounts`/`RunCounts` etc. come from the engine; this is the contract's `RunReport`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    /// Unique per run.
    pub run_id: String,
    /// The spoke.
    pub spoke_id: String,
    /// What started it.
    pub trigger: String,
    /// A preview.
    pub dry_run: bool,
    /// ISO 8601.
    pub started_at: String,
    /// ISO 8601.
    pub finished_at: String,
    /// `ok` | `partial` | `failed` | `guard` | `cancelled` | `alreadyRunning`.
    pub outcome: String,
    /// Counts.
    pub counts: RunCounts,
    /// Conflicts with the losing values.
    pub conflicts: Vec<ConflictRecord>,
    /// Refused matches.
    pub ambiguities: Vec<AmbiguityRecord>,
    /// Matches waiting for the operator's decision (absent from older reports).
    #[serde(default)]
    pub pending_matches: Vec<PendingMatch>,
    /// Contacts the operator chose never to sync with this spoke.
    #[serde(default)]
    pub ignored: Vec<MatchCandidate>,
    /// Examples.
    pub samples: Vec<ChangeSample>,
    /// What a side cannot hold.
    pub notices: Vec<String>,
    /// Errors with remedies.
    pub errors: Vec<ReportError>,
    /// The latest completed run while undo is possible.
    pub undoable: bool,
    /// Work left for the next run.
    pub more: bool,
}

/// An error line of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportError {
    /// Stable code.
    pub code: ErrorCode,
    /// For people.
    pub message: String,
    /// What to do.
    pub remedy: String,
    /// When a retry makes sense (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<String>,
}

/// One step of a run, the contract's `Progress`. During `pull` the total is not known
/// yet: `total` equals `done` (records read so far).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// The spoke.
    pub spoke_id: String,
    /// `pull` | `match` | `write` | `done`.
    pub phase: &'static str,
    /// Records read (pull), writes planned (match) or writes made (write, done).
    pub done: u64,
    /// See `done`; for `write` the writes planned.
    pub total: u64,
}

/// Where a run reports progress (the wasm boundary forwards to the JS callback). It is
/// called between awaits, with no borrow of the run's state held.
#[derive(Clone)]
pub struct ProgressSink(pub Rc<dyn Fn(&Progress)>);

impl std::fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressSink")
    }
}

impl PartialEq for ProgressSink {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// How a run is asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// `schedule` | `manual` | `startup` | `event` | `undo`.
    pub trigger: String,
    /// Stop after planning.
    pub dry_run: bool,
    /// Stop writing after this long (host clock); the next run continues.
    pub budget_ms: Option<f64>,
    /// When not empty and the spoke has a CRM cursor: read only these CRM contacts
    /// instead of the CRM's change listing (host change events). The CRM cursor stays
    /// where it was, so the next full run still sees every change.
    pub contact_ids: Vec<String>,
    /// Progress reports, if someone listens.
    pub progress: Option<ProgressSink>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { trigger: "manual".into(), dry_run: false, budget_ms: None, contact_ids: Vec::new(), progress: None }
    }
}

impl RunOptions {
    fn report(&self, spoke_id: &str, phase: &'static str, done: u64, total: u64) {
        if let Some(sink) = &self.progress {
            (sink.0)(&Progress { spoke_id: spoke_id.to_string(), phase, done, total });
        }
    }
}

fn iso(ms: f64) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

fn from_provider(e: &ProviderError) -> EngineError {
    let mut out = EngineError::new(e.code, e.message.clone(), e.remedy.clone());
    out.retryable = e.retryable;
    out
}

fn from_plugin(e: &PluginError) -> EngineError {
    let mut out = EngineError::new(e.code.as_str(), e.message.clone(), e.remedy.clone());
    out.retryable = e.retryable;
    out
}

fn report_error(e: &EngineError) -> ReportError {
    ReportError {
        code: ErrorCode::parse(&e.code).unwrap_or(ErrorCode::Internal),
        message: e.message.clone(),
        remedy: e.remedy.clone(),
        retry_at: None,
    }
}

fn storage_error(e: serde_json::Error) -> PluginError {
    PluginError::new(ErrorCode::Storage, format!("stored data does not read back: {e}"))
}

/// The engine's configuration of a spoke run, from the validated settings (the settings
/// types serialize exactly as the engine's: camelCase, the contract's spelling).
pub fn sync_config<P: Provider>(
    settings: &Settings,
    spoke: &SpokeSettings,
    schema: Vec<crate::crm::CrmFieldSchema>,
    provider: &P,
) -> PluginResult<SyncConfig> {
    let mut cfg = SyncConfig {
        spoke_id: spoke.id.clone(),
        import: settings.sync_import,
        export: settings.sync_export,
        allow_create: spoke.allow_create,
        flag_field: settings.deletion_flag_field.clone(),
        max_delete_share: settings.guard_max_delete_share,
        default_region: settings.phone_default_region.clone(),
        crm_schema: schema,
        capabilities: provider.capabilities().fields,
        ..SyncConfig::default()
    };
    cfg.filter.mode = via_json(&settings.filter_mode)?;
    cfg.filter.lists = settings.filter_lists.clone();
    cfg.filter.tags = settings.filter_tags.clone();
    cfg.filter.valid_mobile_only = settings.filter_valid_mobile_only;
    cfg.filter.on_leave = via_json(&settings.filter_on_leave)?;
    cfg.deletion = via_json(&settings.deletion_policy)?;
    cfg.fields = settings.mapping_fields.clone();
    cfg.labels = via_json(&settings.mapping_labels)?;
    Ok(cfg)
}

/// Converts a settings part to the engine's type of the same JSON shape.
fn via_json<T: Serialize, U: serde::de::DeserializeOwned>(value: &T) -> PluginResult<U> {
    let v = serde_json::to_value(value).map_err(|e| PluginError::internal(format!("settings: {e}")))?;
    serde_json::from_value(v).map_err(|e| PluginError::internal(format!("settings: {e}")))
}

/// Selects the remote writes of one kind (creates, updates or deletes).
type KindFilter = fn(&WriteOp) -> bool;

/// A spoke's run lease in host storage (`spoke.{id}.lease`): taken by compare-and-set (a
/// live lease of another run refuses), extended between batches, given back at the end.
/// Runs and the photo pass hold the same lease, so they never overlap.
pub struct StoredLease {
    key: String,
    run_id: String,
    held: Lease,
}

impl StoredLease {
    /// Takes the lease of spoke `spoke_id` for `run_id`; None while another run holds it.
    pub async fn take<H: Host>(host: &H, spoke_id: &str, run_id: &str) -> PluginResult<Option<StoredLease>> {
        let key = SpokeKeys::for_spoke(spoke_id).lease;
        let got = host.storage_get(std::slice::from_ref(&key)).await?;
        let raw = got.get(&key).filter(|v| !v.is_null()).cloned();
        let current: Option<Lease> = raw.clone().and_then(|v| serde_json::from_value(v).ok());
        match lease::acquire(current, run_id, host.now_ms() as u64, LEASE_TTL_MS) {
            LeaseDecision::AlreadyRunning { .. } => Ok(None),
            LeaseDecision::Acquire { lease: held, .. } => {
                let value = serde_json::to_value(&held).map_err(storage_error)?;
                let won = host.storage_compare_and_set(&key, raw.as_ref(), Some(&value)).await?;
                Ok(won.then(|| StoredLease { key, run_id: run_id.to_string(), held }))
            }
        }
    }

    /// When the lease runs out, on the host's clock (ms).
    pub fn expires_at(&self) -> u64 {
        self.held.expires_at
    }

    /// How long a lease outlives a crashed holder (ms).
    pub const TTL_MS: u64 = LEASE_TTL_MS;

    /// Extends the lease; false when another run took it over.
    pub async fn renew<H: Host>(&mut self, host: &H) -> PluginResult<bool> {
        let Some((old, new)) = lease::renew(Some(&self.held), &self.run_id, host.now_ms() as u64, LEASE_TTL_MS) else {
            return Ok(false);
        };
        let old_v = serde_json::to_value(&old).map_err(storage_error)?;
        let new_v = serde_json::to_value(&new).map_err(storage_error)?;
        let ok = host.storage_compare_and_set(&self.key, Some(&old_v), Some(&new_v)).await?;
        if ok {
            self.held = new;
        }
        Ok(ok)
    }

    /// Gives the lease back (if it is still ours).
    pub async fn release<H: Host>(self, host: &H) -> PluginResult<()> {
        let v = serde_json::to_value(&self.held).map_err(storage_error)?;
        host.storage_compare_and_set(&self.key, Some(&v), None).await.map(|_| ())
    }
}

/// One run of one spoke.
pub struct SpokeRun<'a, H: Host, P: Provider> {
    host: &'a H,
    provider: &'a mut P,
    keys: SpokeKeys,
    run_id: String,
    spoke_id: String,
    lease: Option<StoredLease>,
    cancel: &'a Cell<bool>,
    started_ms: f64,
    pre_state: Option<String>,
}

impl<'a, H: Host, P: Provider> SpokeRun<'a, H, P> {
    /// Prepares a run of spoke `spoke_id`; `cancel` set to true stops it between batches.
    pub fn new(host: &'a H, provider: &'a mut P, spoke_id: &str, cancel: &'a Cell<bool>) -> PluginResult<Self> {
        let bytes = host.random_bytes(6)?;
        let suffix: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let started_ms = host.now_ms();
        Ok(SpokeRun {
            host,
            provider,
            keys: SpokeKeys::for_spoke(spoke_id),
            run_id: format!("run-{}-{suffix}", started_ms as u64),
            spoke_id: spoke_id.to_string(),
            lease: None,
            cancel,
            started_ms,
            pre_state: None,
        })
    }

    /// The state as it was before this run (what its undo restores).
    pub fn pre_run_state(&self) -> Option<&str> {
        self.pre_state.as_deref()
    }

    /// Undoes the latest run that wrote: applies the inverse of its journal (each write
    /// naming the version the run left, so a later edit refuses it with CONFLICT rather
    /// than being overwritten), then restores the state from before that run. When some
    /// inverse write is refused, the state is left as it is and the report says which.
    pub async fn undo(&mut self, spoke_id: &str) -> PluginResult<RunReport> {
        let options = RunOptions { trigger: "undo".into(), ..RunOptions::default() };
        if !self.take_lease().await? {
            let mut report = self.empty_report(spoke_id, &options, "alreadyRunning");
            report.errors.push(ReportError {
                code: ErrorCode::AlreadyRunning,
                message: "A sync of this address book is running.".into(),
                remedy: "Undo once it has finished.".into(),
                retry_at: None,
            });
            return Ok(report);
        }
        let result = self.undo_leased(spoke_id, &options).await;
        let released = self.release_lease().await;
        let report = result?;
        released?;
        Ok(report)
    }

    async fn undo_leased(&mut self, spoke_id: &str, options: &RunOptions) -> PluginResult<RunReport> {
        let journal: Journal = match self.read_json(&self.keys.journal).await? {
            Some(v) => serde_json::from_value(v).map_err(storage_error)?,
            None => {
                return Err(PluginError::new(ErrorCode::NotFound, "There is no run to undo.")
                    .with_remedy("Only the latest run that changed contacts can be undone."))
            }
        };
        let base = self.read_json(&self.keys.undo_base).await?;
        let mut report = self.empty_report(spoke_id, options, "ok");
        let writes: Vec<PlannedWrite> =
            journal.inverse().into_iter().enumerate().map(|(i, op)| PlannedWrite { id: i as u32, op }).collect();
        let caps = self.provider.capabilities();
        let mut results: Vec<(u32, WriteResult)> = Vec::new();
        // Remote writes go in batches of one kind (consecutive in the journal's order);
        // CRM writes one at a time.
        let mut i = 0;
        while let Some(first) = writes.get(i) {
            if first.op.side() == Side::Crm {
                results.push((first.id, self.write_crm(first).await));
                i += 1;
                continue;
            }
            let same = |w: &PlannedWrite| std::mem::discriminant(&w.op) == std::mem::discriminant(&first.op);
            let size = match first.op {
                WriteOp::RemoteCreate { .. } => caps.max_create,
                WriteOp::RemoteUpdate { .. } => caps.max_update,
                _ => caps.max_delete,
            };
            let batch: Vec<&PlannedWrite> = writes[i..].iter().take_while(|w| same(w)).take(size.max(1)).collect();
            i += batch.len();
            match self.write_remote(&batch).await {
                Ok(done) => results.extend(done),
                Err(e) => results.extend(batch.iter().map(|w| (w.id, WriteResult::Failed(from_provider(&e))))),
            }
        }
        for (id, result) in results {
            let Some(write) = writes.iter().find(|w| w.id == id) else { continue };
            let counts = if write.op.side() == Side::Crm { &mut report.counts.crm } else { &mut report.counts.remote };
            match (&write.op, result) {
                (_, WriteResult::Failed(e)) => report.errors.push(report_error(&e)),
                (WriteOp::CrmCreate { .. } | WriteOp::RemoteCreate { .. }, _) => counts.created += 1,
                (WriteOp::CrmUpdate { .. } | WriteOp::RemoteUpdate { .. }, _) => counts.updated += 1,
                (WriteOp::CrmDelete { .. } | WriteOp::RemoteDelete { .. }, _) => counts.deleted += 1,
            }
        }
        let mut put = Map::new();
        let mut delete = vec![self.keys.journal.clone(), self.keys.undo_base.clone()];
        if report.errors.is_empty() {
            match base {
                Some(state) => {
                    put.insert(self.keys.state.clone(), state);
                }
                None => delete.push(self.keys.state.clone()),
            }
        } else {
            report.outcome = "partial".into();
        }
        self.host.storage_write(&put, &delete).await?;
        report.finished_at = iso(self.host.now_ms());
        Ok(report)
    }

    fn empty_report(&self, spoke_id: &str, options: &RunOptions, outcome: &str) -> RunReport {
        RunReport {
            run_id: self.run_id.clone(),
            spoke_id: spoke_id.to_string(),
            trigger: options.trigger.clone(),
            dry_run: options.dry_run,
            started_at: iso(self.started_ms),
            finished_at: iso(self.host.now_ms()),
            outcome: outcome.to_string(),
            counts: RunCounts::default(),
            conflicts: Vec::new(),
            ambiguities: Vec::new(),
            pending_matches: Vec::new(),
            ignored: Vec::new(),
            samples: Vec::new(),
            notices: Vec::new(),
            errors: Vec::new(),
            undoable: false,
            more: false,
        }
    }

    async fn read_json(&self, key: &str) -> PluginResult<Option<Value>> {
        let got = self.host.storage_get(&[key.to_string()]).await?;
        Ok(got.get(key).filter(|v| !v.is_null()).cloned())
    }

    async fn take_lease(&mut self) -> PluginResult<bool> {
        self.lease = StoredLease::take(self.host, &self.spoke_id, &self.run_id).await?;
        Ok(self.lease.is_some())
    }

    /// Extends the lease between batches; false when another run took it over.
    async fn renew_lease(&mut self) -> PluginResult<bool> {
        match self.lease.as_mut() {
            Some(held) => held.renew(self.host).await,
            None => Ok(false),
        }
    }

    async fn release_lease(&mut self) -> PluginResult<()> {
        match self.lease.take() {
            Some(held) => held.release(self.host).await,
            None => Ok(()),
        }
    }

    /// Loads (and outside previews creates) the remote groups of the mapped labels before
    /// anything is listed, so a membership never reads as absent for want of its group.
    /// A mapped group that existed at the last run and is gone now (deleted remotely, or
    /// deleted and made again), a mapped CRM list that does not exist, or a mapped tag
    /// the CRM knew at the last run and no longer lists would remove the label from every member
    /// on the other side: that trips the guard unless `guard.maxDeleteShare` is raised to
    /// 100% for the run.
    async fn prepare_labels(&mut self, config: &mut SyncConfig, options: &RunOptions) -> PluginResult<Result<(), EngineError>> {
        if config.labels.is_empty() || config.capabilities.unsupported.iter().any(|u| u == "labels") {
            return Ok(Ok(()));
        }
        let mut names: Vec<String> = Vec::new();
        for row in &config.labels {
            let name = row.remote_label.trim().to_string();
            if !name.is_empty() && !names.iter().any(|n| n.to_lowercase() == name.to_lowercase()) {
                names.push(name);
            }
        }
        let prepared = match self.provider.prepare_labels(&names, !options.dry_run).await {
            Ok(p) => p,
            Err(e) => return Ok(Err(from_provider(&e))),
        };
        let remembered: Map<String, Value> = match self.read_json(&self.keys.labels).await? {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        let mut vanished: Vec<String> = prepared
            .iter()
            .filter(|l| {
                remembered
                    .get(&l.name.to_lowercase())
                    .and_then(Value::as_str)
                    .is_some_and(|id| l.missing || id != l.id)
            })
            .map(|l| l.name.clone())
            .collect();
        // The CRM side: a mapped list that does not exist, or a mapped tag the CRM knew
        // at the last run and no longer lists (`crm.tags()` is the CRM's tag registry).
        let (lists, tags) = match (self.host.crm_lists().await, self.host.crm_tags().await) {
            (Ok(l), Ok(t)) => (l, t),
            (Err(e), _) | (_, Err(e)) => return Ok(Err(from_plugin(&e))),
        };
        let mut crm_present: Vec<String> = Vec::new();
        for row in &config.labels {
            let (key, present) = match row.crm.kind {
                CrmLabelKind::List => (format!("crm:list:{}", row.crm.id), lists.iter().any(|l| l.id == row.crm.id)),
                CrmLabelKind::Tag => (format!("crm:tag:{}", row.crm.id), tags.contains(&row.crm.id)),
            };
            if present {
                crm_present.push(key);
            } else if remembered.contains_key(&key) || row.crm.kind == CrmLabelKind::List {
                vanished.push(format!("{} (CRM {})", row.remote_label.trim(), if row.crm.kind == CrmLabelKind::List { "list" } else { "tag" }));
            }
        }
        if !vanished.is_empty() && config.max_delete_share < 1.0 {
            let list: Vec<&str> = vanished.iter().map(String::as_str).collect();
            return Ok(Err(EngineError::new(
                "GUARD_TRIPPED",
                format!(
                    "the label(s) {} were deleted on one side since the last run; syncing would remove them from every member on the other side; nothing was written",
                    list.join(", ")
                ),
                "If the deletion is intended, raise guard.maxDeleteShare to 100% for one run; otherwise remove the label's mapping row.",
            )));
        }
        if !options.dry_run {
            let mut map = Map::new();
            for l in prepared.iter().filter(|l| !l.id.is_empty()) {
                map.insert(l.name.to_lowercase(), Value::String(l.id.clone()));
            }
            for key in crm_present {
                map.insert(key, Value::Bool(true));
            }
            let mut put = Map::new();
            put.insert(self.keys.labels.clone(), Value::Object(map));
            self.host.storage_write(&put, &[]).await?;
        }
        Ok(Ok(()))
    }

    async fn load_state(&self) -> PluginResult<SpokeState> {
        match self.read_json(&self.keys.state).await? {
            Some(Value::String(text)) => SpokeState::from_json(&text).map_err(|e| {
                PluginError::new(ErrorCode::Storage, e.message).with_remedy("Forget the links of this spoke and sync again.")
            }),
            Some(other) => SpokeState::from_json(&other.to_string())
                .map_err(|e| PluginError::new(ErrorCode::Storage, e.message)),
            None => Ok(SpokeState::new()),
        }
    }

    /// Saves the session's checkpoint atomically.
    async fn checkpoint(&self, session: &SyncSession) -> PluginResult<()> {
        let mut put = Map::new();
        put.insert(self.keys.state.clone(), Value::String(session.checkpoint().to_json()));
        self.host.storage_write(&put, &[]).await
    }

    /// Pulls the CRM side; returns the records read.
    async fn pull_crm(&self, session: &mut SyncSession, cursor: Option<String>, options: &RunOptions, spoke_id: &str) -> u64 {
        let listing = if cursor.is_some() { Listing::Incremental } else { Listing::Full };
        let mut read = 0u64;
        if let (Some(kept), false) = (&cursor, options.contact_ids.is_empty()) {
            // An event run: only the named contacts, the cursor unchanged.
            for chunk in options.contact_ids.chunks(CRM_PAGE as usize) {
                match self.host.crm_get(chunk).await {
                    Ok(found) => {
                        let missing: Vec<String> =
                            chunk.iter().filter(|id| !found.iter().any(|c| &c.id == *id)).cloned().collect();
                        read += found.len() as u64;
                        session.handle_crm_page(found, Listing::Incremental);
                        session.handle_crm_missing(&missing);
                        options.report(spoke_id, "pull", read, read);
                    }
                    Err(e) => {
                        session.handle_crm_listing_failed(from_plugin(&e));
                        return read;
                    }
                }
            }
            session.handle_crm_listing_done(kept, Listing::Incremental);
            return read;
        }
        let mut cursor = cursor;
        loop {
            match self.host.crm_list_changes(cursor.as_deref(), CRM_PAGE).await {
                Ok(page) => {
                    read += page.contacts.len() as u64;
                    session.handle_crm_page(page.contacts, listing);
                    options.report(spoke_id, "pull", read, read);
                    if !page.has_more {
                        session.handle_crm_listing_done(&page.next_cursor, listing);
                        return read;
                    }
                    cursor = Some(page.next_cursor);
                }
                Err(e) => {
                    session.handle_crm_listing_failed(from_plugin(&e));
                    return read;
                }
            }
        }
    }

    /// Pulls the remote side; a dead cursor restarts as a full listing (once).
    async fn pull_remote(
        &mut self,
        session: &mut SyncSession,
        cursor: Option<String>,
        progress: (&RunOptions, &str, u64),
    ) -> Result<bool, ProviderError> {
        let (options, spoke_id, mut read) = progress;
        let mut cursor = cursor;
        let mut relisted = false;
        'listing: loop {
            let listing = if cursor.is_some() { Listing::Incremental } else { Listing::Full };
            let mut page: Option<String> = None;
            loop {
                match self.provider.list_page(cursor.as_deref(), page.as_deref()).await {
                    Ok(got) => {
                        read += got.records.len() as u64;
                        session.handle_remote_page(got.records, listing);
                        options.report(spoke_id, "pull", read, read);
                        match got.next {
                            PageNext::More(token) => page = Some(token),
                            PageNext::Done(sync) => {
                                session.handle_remote_listing_done(&sync, listing);
                                return Ok(relisted);
                            }
                        }
                    }
                    Err(ListError::CursorDead) if !relisted => {
                        self.log(LogLevel::Info, "sync token refused: listing the whole address book again");
                        cursor = None;
                        relisted = true;
                        continue 'listing;
                    }
                    Err(ListError::CursorDead) => {
                        session.handle_remote_listing_failed(EngineError::new(
                            "BAD_RESPONSE",
                            "the address book refused a full listing's cursor",
                            "Try again later.",
                        ));
                        return Ok(relisted);
                    }
                    Err(ListError::Failed(e)) => {
                        session.handle_remote_listing_failed(from_provider(&e));
                        return Err(e);
                    }
                }
            }
        }
    }

    async fn fetch_requested(&mut self, session: &mut SyncSession) {
        for _ in 0..3 {
            let request = session.poll_fetch();
            if request.is_empty() {
                return;
            }
            if !request.crm_ids.is_empty() {
                match self.host.crm_get(&request.crm_ids).await {
                    Ok(found) => {
                        let missing: Vec<String> = request
                            .crm_ids
                            .iter()
                            .filter(|id| !found.iter().any(|c: &CrmContact| &c.id == *id))
                            .cloned()
                            .collect();
                        session.handle_crm_page(found, Listing::Fetched);
                        session.handle_crm_missing(&missing);
                    }
                    Err(e) => session.handle_crm_listing_failed(from_plugin(&e)),
                }
            }
            if !request.remote_ids.is_empty() {
                let size = self.provider.capabilities().max_fetch.max(1);
                for chunk in request.remote_ids.chunks(size) {
                    match self.provider.fetch(chunk).await {
                        Ok(results) => {
                            let mut records = Vec::new();
                            let mut missing = Vec::new();
                            for (id, result) in results {
                                match result {
                                    ItemResult::Done(r) => records.push(r),
                                    ItemResult::Gone => missing.push(id),
                                    _ => {}
                                }
                            }
                            session.handle_remote_page(records, Listing::Fetched);
                            session.handle_remote_missing(&missing);
                        }
                        Err(e) => session.handle_remote_listing_failed(from_provider(&e)),
                    }
                }
            }
        }
    }

    fn log(&self, level: LogLevel, message: &str) {
        let mut fields = Map::new();
        fields.insert("runId".into(), Value::String(self.run_id.clone()));
        self.host.log(level, message, &fields);
    }

    fn out_of_time(&self, options: &RunOptions) -> bool {
        self.cancel.get() || options.budget_ms.is_some_and(|b| self.host.now_ms() - self.started_ms >= b)
    }

    async fn write_crm(&self, write: &PlannedWrite) -> WriteResult {
        let failed = |e: PluginError| WriteResult::Failed(from_plugin(&e));
        match &write.op {
            WriteOp::CrmCreate { contact, .. } => self.host.crm_create(contact).await.map(WriteResult::Crm).unwrap_or_else(failed),
            WriteOp::CrmUpdate { crm_id, expected_version, patch } => self
                .host
                .crm_update(crm_id, *expected_version, patch)
                .await
                .map(WriteResult::Crm)
                .unwrap_or_else(failed),
            WriteOp::CrmDelete { crm_id, expected_version } => match self.host.crm_delete(crm_id, *expected_version).await {
                Ok(()) => WriteResult::Deleted,
                Err(e) if e.code == ErrorCode::NotFound => WriteResult::Deleted,
                Err(e) => failed(e),
            },
            _ => WriteResult::Failed(EngineError::new("INTERNAL", "a remote write on the CRM side", "Report it.")),
        }
    }

    /// Executes a batch of same-kind remote writes in one provider call.
    async fn write_remote(&mut self, batch: &[&PlannedWrite]) -> Result<Vec<(u32, WriteResult)>, ProviderError> {
        let ids: Vec<u32> = batch.iter().map(|w| w.id).collect();
        let results: Vec<ItemResult> = match batch.first().map(|w| &w.op) {
            Some(WriteOp::RemoteCreate { .. }) => {
                let items: Vec<NewRemote> = batch
                    .iter()
                    .filter_map(|w| match &w.op {
                        // The id as the engine has it carried (signed).
                        WriteOp::RemoteCreate { crm_id, record } => {
                            Some(NewRemote { crm_id: record.crm_id.clone().unwrap_or_else(|| crm_id.clone()), contact: record.contact.clone() })
                        }
                        _ => None,
                    })
                    .collect();
                self.provider.create(&items).await?
            }
            Some(WriteOp::RemoteUpdate { .. }) => {
                let items: Vec<_> = batch
                    .iter()
                    .filter_map(|w| match &w.op {
                        WriteOp::RemoteUpdate { record, remote_id, .. } => {
                            let mut r = record.clone();
                            r.id = remote_id.clone();
                            Some(r)
                        }
                        _ => None,
                    })
                    .collect();
                self.provider.update(&items).await?
            }
            Some(WriteOp::RemoteDelete { .. }) => {
                let items: Vec<String> = batch
                    .iter()
                    .filter_map(|w| match &w.op {
                        WriteOp::RemoteDelete { remote_id, .. } => Some(remote_id.clone()),
                        _ => None,
                    })
                    .collect();
                self.provider.delete(&items).await?
            }
            _ => Vec::new(),
        };
        Ok(ids
            .into_iter()
            .zip(results.into_iter().map(Some).chain(std::iter::repeat_with(|| None)))
            .map(|(id, r)| {
                let result = match r {
                    Some(ItemResult::Done(record)) => WriteResult::Remote(record),
                    Some(ItemResult::Gone) => WriteResult::Deleted,
                    Some(ItemResult::Conflict) => WriteResult::Failed(
                        EngineError::new(
                            "CONFLICT",
                            "the contact changed in the address book meanwhile",
                            "Nothing to do: it is merged again on the next run.",
                        )
                        .retryable(),
                    ),
                    Some(ItemResult::Failed(e)) => WriteResult::Failed(from_provider(&e)),
                    None => WriteResult::Failed(EngineError::new("BAD_RESPONSE", "no result for this write", "Try again later.")),
                };
                (id, result)
            })
            .collect())
    }

    /// Runs the spoke. Errors only when the host itself fails (storage); everything
    /// else ends up in the report.
    pub async fn run(&mut self, config: SyncConfig, options: &RunOptions) -> PluginResult<(RunReport, Journal)> {
        let spoke_id = config.spoke_id.clone();
        if !self.take_lease().await? {
            let mut report = self.empty_report(&spoke_id, options, "alreadyRunning");
            report.errors.push(ReportError {
                code: ErrorCode::AlreadyRunning,
                message: "Another sync of this address book is running.".into(),
                remedy: "Wait for it to finish.".into(),
                retry_at: None,
            });
            return Ok((report, Journal::default()));
        }
        let result = self.run_leased(config, options).await;
        if let Ok((report, _)) = &result {
            let c = &report.counts;
            let made = u64::from(c.crm.created + c.crm.updated + c.crm.deleted + c.remote.created + c.remote.updated + c.remote.deleted);
            options.report(&spoke_id, "done", made, made);
        }
        let released = self.release_lease().await;
        let out = result?;
        released?;
        Ok(out)
    }

    async fn run_leased(&mut self, config: SyncConfig, options: &RunOptions) -> PluginResult<(RunReport, Journal)> {
        let spoke_id = config.spoke_id.clone();
        let state = self.load_state().await?;
        self.pre_state = Some(state.to_json());
        let (crm_cursor, remote_cursor) = (state.crm_cursor.clone(), state.remote_cursor.clone());
        let mut config = config;
        config.id_key = crate::signing_key::load(self.host, !options.dry_run).await?;
        let decisions = crate::match_decisions::queued(self.host, &spoke_id).await?;
        if let Err(e) = self.prepare_labels(&mut config, options).await? {
            let mut report = self.empty_report(&spoke_id, options, if e.code == "GUARD_TRIPPED" { "guard" } else { "failed" });
            report.errors.push(report_error(&e));
            return Ok((report, Journal::default()));
        }
        let mut session = match SyncSession::new(config, state) {
            Ok(s) => s,
            Err(e) => {
                let mut report = self.empty_report(&spoke_id, options, "failed");
                report.errors.push(report_error(&e));
                return Ok((report, Journal::default()));
            }
        };
        session.handle_decisions(decisions.iter().map(|q| q.decision.clone()).collect());
        let read = self.pull_crm(&mut session, crm_cursor, options, &spoke_id).await;
        let relisted = match self.pull_remote(&mut session, remote_cursor, (options, &spoke_id, read)).await {
            Ok(relisted) => relisted,
            // A failed listing is never read as deletions: the run stops before planning.
            Err(e) => {
                let mut report = self.empty_report(&spoke_id, options, "failed");
                report.errors.push(report_error(&from_provider(&e)));
                return Ok((report, Journal::default()));
            }
        };
        self.fetch_requested(&mut session).await;

        let mut summary = PlanSummary::default();
        let mut outcome = "ok";
        let mut more = false;
        let mut fatal: Option<EngineError> = None;
        let (mut planned, mut written) = (0u64, 0u64);
        for round in 0..MAX_ROUNDS {
            let plan = match session.plan() {
                Ok(p) => p,
                Err(e) => {
                    outcome = if e.code == "GUARD_TRIPPED" { "guard" } else { "failed" };
                    fatal = Some(e);
                    break;
                }
            };
            if round == 0 {
                summary = plan.summary.clone();
            }
            planned += plan.writes.len() as u64;
            options.report(&spoke_id, "match", planned, planned);
            if options.dry_run || plan.is_empty() {
                break;
            }
            self.checkpoint(&session).await?;
            // CRM writes one at a time (the host API has no batch), then remote writes
            // grouped by kind at the provider's maximum batch sizes.
            let caps = self.provider.capabilities();
            for batch in plan.batches(Side::Crm, 50) {
                if self.out_of_time(options) {
                    more = true;
                    break;
                }
                for write in &batch {
                    let result = self.write_crm(write).await;
                    session.handle_write_result(write.id, result);
                }
                written += batch.len() as u64;
                options.report(&spoke_id, "write", written, planned);
                self.checkpoint(&session).await?;
                if !self.renew_lease().await? {
                    fatal = Some(EngineError::new("ALREADY_RUNNING", "another run took over", "Nothing to do."));
                    break;
                }
            }
            let remote: Vec<&PlannedWrite> = plan.writes.iter().filter(|w| w.op.side() == Side::Remote).collect();
            let kinds: [(KindFilter, usize); 3] = [
                (|op| matches!(op, WriteOp::RemoteCreate { .. }), caps.max_create),
                (|op| matches!(op, WriteOp::RemoteUpdate { .. }), caps.max_update),
                (|op| matches!(op, WriteOp::RemoteDelete { .. }), caps.max_delete),
            ];
            'kinds: for (is_kind, size) in kinds {
                let of_kind: Vec<&PlannedWrite> = remote.iter().copied().filter(|w| is_kind(&w.op)).collect();
                for batch in of_kind.chunks(size.max(1)) {
                    if fatal.is_some() || self.out_of_time(options) {
                        more = more || !self.cancel.get();
                        break 'kinds;
                    }
                    written += batch.len() as u64;
                    match self.write_remote(batch).await {
                        Ok(results) => {
                            for (id, result) in results {
                                session.handle_write_result(id, result);
                            }
                        }
                        Err(e) => {
                            for w in batch {
                                session.handle_write_result(w.id, WriteResult::Failed(from_provider(&e)));
                            }
                            if !e.retryable || e.code == "RATE_LIMITED" || e.code.starts_with("AUTH") {
                                fatal = Some(from_provider(&e));
                            }
                        }
                    }
                    options.report(&spoke_id, "write", written, planned);
                    self.checkpoint(&session).await?;
                    if !self.renew_lease().await? {
                        fatal = Some(EngineError::new("ALREADY_RUNNING", "another run took over", "Nothing to do."));
                    }
                }
            }
            if fatal.is_some() || more || self.cancel.get() {
                break;
            }
        }
        if !options.dry_run {
            self.checkpoint(&session).await?;
            // Their effect is in the saved state: the queue lets them go.
            let settled = session.settled_decisions();
            let done: Vec<_> = decisions.into_iter().filter(|q| settled.contains(&q.decision)).collect();
            crate::match_decisions::remove(self.host, &spoke_id, &done).await?;
        }
        if self.cancel.get() {
            outcome = "cancelled";
        } else if outcome == "ok" && (fatal.is_some() || !session.errors().is_empty() || more) {
            outcome = "partial";
        }
        let mut report = self.empty_report(&spoke_id, options, outcome);
        let final_summary = if options.dry_run { summary } else { merge_summaries(summary, session.summary()) };
        report.counts = final_summary.counts;
        report.conflicts = final_summary.conflicts;
        report.ambiguities = final_summary.ambiguities;
        report.pending_matches = final_summary.pending_matches;
        report.ignored = final_summary.ignored;
        report.samples = final_summary.samples;
        if let Some(e) = fatal.as_ref().filter(|e| !e.would_delete.is_empty()) {
            // A guard stop: show what it would have deleted.
            report.samples = e.would_delete.clone();
        }
        report.notices = final_summary.notices;
        if relisted {
            report.notices.push("Google refused the sync token: the whole address book was listed again.".into());
        }
        report.errors = session.errors().iter().chain(fatal.iter()).map(report_error).collect();
        report.more = more;
        report.finished_at = iso(self.host.now_ms());
        Ok((report, session.journal().clone()))
    }
}

/// The engine's summary after writing is the authority on counts; the first plan's
/// summary keeps what was known before writing (ambiguities, samples).
fn merge_summaries(first: PlanSummary, after: &PlanSummary) -> PlanSummary {
    let mut out = after.clone();
    if out.samples.is_empty() {
        out.samples = first.samples;
    }
    if out.ambiguities.is_empty() {
        out.ambiguities = first.ambiguities;
    }
    if out.conflicts.is_empty() {
        out.conflicts = first.conflicts;
    }
    out
}

/// Appends a run to the spoke's history (keeping the last [`HISTORY_KEEP`]) and, for a
/// completed run that wrote, stores its journal for undo; one atomic write.
pub async fn record_run<H: Host>(host: &H, report: &RunReport, journal: &Journal) -> PluginResult<()> {
    record_run_with_base(host, report, journal, None).await
}

/// [`record_run`], also keeping the state from before the run for its undo.
pub async fn record_run_with_base<H: Host>(
    host: &H,
    report: &RunReport,
    journal: &Journal,
    pre_state: Option<&str>,
) -> PluginResult<()> {
    let keys = SpokeKeys::for_spoke(&report.spoke_id);
    let got = host.storage_get(std::slice::from_ref(&keys.history)).await?;
    let mut history: Vec<Value> = got.get(&keys.history).and_then(Value::as_array).cloned().unwrap_or_default();
    let wrote = !journal.records.is_empty() && report.trigger != "undo";
    let mut report_v = serde_json::to_value(report).map_err(storage_error)?;
    if wrote && !report.dry_run {
        report_v["undoable"] = Value::Bool(true);
        for old in history.iter_mut() {
            old["undoable"] = Value::Bool(false);
        }
    }
    history.push(report_v);
    let excess = history.len().saturating_sub(HISTORY_KEEP);
    history.drain(..excess);
    let mut put = Map::new();
    put.insert(keys.history, Value::Array(history));
    let mut delete = Vec::new();
    if wrote && !report.dry_run {
        put.insert(keys.journal, serde_json::to_value(journal).map_err(storage_error)?);
        match pre_state {
            Some(state) => {
                put.insert(keys.undo_base, Value::String(state.to_string()));
            }
            None => delete.push(keys.undo_base),
        }
    }
    if report.trigger == "undo" {
        for old in history_mut(&mut put) {
            old["undoable"] = Value::Bool(false);
        }
    }
    host.storage_write(&put, &delete).await
}

fn history_mut(put: &mut Map<String, Value>) -> impl Iterator<Item = &mut Value> {
    put.values_mut().filter_map(Value::as_array_mut).flat_map(|a| a.iter_mut())
}

/// The last `limit` runs of a spoke, newest first.
pub async fn history<H: Host>(host: &H, spoke_id: &str, limit: usize) -> PluginResult<Vec<RunReport>> {
    let keys = SpokeKeys::for_spoke(spoke_id);
    let got = host.storage_get(std::slice::from_ref(&keys.history)).await?;
    let list: Vec<RunReport> = match got.get(&keys.history) {
        Some(v) if !v.is_null() => serde_json::from_value(v.clone()).map_err(storage_error)?,
        _ => Vec::new(),
    };
    Ok(list.into_iter().rev().take(limit).collect())
}
