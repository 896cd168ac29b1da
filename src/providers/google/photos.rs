//! The optional photo pass of a Google spoke, after the main run (setting `sync.photos`).
//!
//! Photos do not go through the engine: its model holds a photo *reference*, never bytes,
//! and Google only takes photos through their own calls. Per linked pair the pass
//! remembers (storage key `spoke.{id}.photos`) a hash of the CRM image and the Google
//! photo URL both sides last agreed on, then:
//!
//! - the CRM image changed → `updateContactPhoto` (or `deleteContactPhoto` when cleared);
//! - the Google URL changed → the bytes are downloaded (a base64 response) and written to
//!   the CRM image field against the contact's version (CONFLICT: retried next run);
//! - both changed → the newer change wins (the CRM contact's `updatedAt` against the
//!   person's `updateTime`; a tie keeps the CRM's, the hub), recorded as a conflict;
//! - an image over [`MAX_PHOTO_BYTES`] or neither JPEG nor PNG → one report line with
//!   its code, once per image, and the run goes on.
//!
//! The decisions ([`decide`], [`check_image`], the data-URL helpers) are pure; the I/O
//! is in [`run_pass`]. Directions follow `sync.import` / `sync.export`.

use std::collections::{BTreeMap, BTreeSet};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::crm::{CrmContact, CrmFieldSchema, CrmFieldType, CrmPatch};
use crate::engine::journal::Journal;
use crate::engine::report::{ConflictRecord, Side};
use crate::engine::state::SpokeState;
use crate::error::{ErrorCode, PluginError, PluginResult};
use crate::host::{Host, HttpRequest, ResponseEncoding};
use crate::network::redirect;
use crate::providers::google::client::GoogleSpoke;
use crate::providers::google::protocol::{self as p, Failure};
use crate::providers::{ItemResult, Provider, ProviderError};
use crate::runner::{ReportError, RunReport, SpokeKeys, StoredLease};
use crate::settings::Settings;

/// Largest image the pass moves either way (decoded bytes). Contact photos are shown
/// small; a larger image is almost always a scan or a camera original pasted by mistake.
pub const MAX_PHOTO_BYTES: usize = 2 * 1024 * 1024;

/// CRM contacts read per `crm.get` call.
const CRM_CHUNK: usize = 200;

/// The storage key of a spoke's photo memory.
pub fn memory_key(spoke_id: &str) -> String {
    format!("spoke.{spoke_id}.photos")
}

/// What both sides last agreed on for one pair.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreed {
    /// The Google resource name the pair had.
    #[serde(rename = "r")]
    pub remote_id: String,
    /// Hash of the CRM image's data URL ("" = no image).
    #[serde(rename = "c", default)]
    pub crm: String,
    /// Google's photo URL ("" = no photo of its own).
    #[serde(rename = "g", default)]
    pub google: String,
    /// A write for this pair did not happen (CONFLICT, a failure): the next run reads the
    /// person again even if it is not in the delta.
    #[serde(rename = "x", default, skip_serializing_if = "std::ops::Not::not")]
    pub recheck: bool,
}

/// The photo memory of a spoke: CRM id → what was agreed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoMemory {
    /// Format version.
    pub v: u32,
    /// CRM id → agreed state.
    #[serde(default)]
    pub pairs: BTreeMap<String, Agreed>,
}

/// What to do for one pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoAction {
    /// Nothing changed.
    Nothing,
    /// Nothing to write; record the current state as agreed.
    Remember,
    /// Send the CRM image to Google.
    Upload,
    /// Remove Google's photo.
    DeleteRemote,
    /// Download Google's photo into the CRM.
    Download,
    /// Clear the CRM image.
    ClearCrm,
}

/// A pair as the pass sees it.
#[derive(Debug, Clone, Copy)]
pub struct PairView<'a> {
    /// Hash of the CRM image ("" = none).
    pub crm_hash: &'a str,
    /// The CRM contact's last change, ms since the epoch.
    pub crm_updated_ms: Option<f64>,
    /// Google's photo URL ("" = none).
    pub google_url: &'a str,
    /// The person's last change, ms since the epoch.
    pub google_updated_ms: Option<f64>,
    /// What was agreed last time, if anything.
    pub agreed: Option<&'a Agreed>,
}

/// Which ways photos may flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    /// Google → CRM (`sync.import`).
    pub to_crm: bool,
    /// CRM → Google (`sync.export`).
    pub to_google: bool,
}

/// The decision for a pair, and the side kept when both changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// What to do.
    pub action: PhotoAction,
    /// Both sides changed: the side whose photo was kept.
    pub conflict: Option<Side>,
}

/// Decides one pair. Without memory (first meeting), a present photo counts as a change.
pub fn decide(view: &PairView<'_>, flow: Flow) -> Decision {
    let crm_has = !view.crm_hash.is_empty();
    let google_has = !view.google_url.is_empty();
    let (crm_changed, google_changed) = match view.agreed {
        Some(a) => (a.crm != view.crm_hash, a.google != view.google_url),
        None => (crm_has, google_has),
    };
    let to_google = || {
        if !flow.to_google {
            PhotoAction::Nothing
        } else if crm_has {
            PhotoAction::Upload
        } else if google_has {
            PhotoAction::DeleteRemote
        } else {
            PhotoAction::Remember
        }
    };
    let to_crm = || {
        if !flow.to_crm {
            PhotoAction::Nothing
        } else if google_has {
            PhotoAction::Download
        } else if crm_has {
            PhotoAction::ClearCrm
        } else {
            PhotoAction::Remember
        }
    };
    let plain = |action| Decision { action, conflict: None };
    match (crm_changed, google_changed) {
        (false, false) if view.agreed.is_none() => plain(PhotoAction::Remember),
        (false, false) => plain(PhotoAction::Nothing),
        (true, false) => plain(to_google()),
        (false, true) => plain(to_crm()),
        // Both removed their photo: nothing to settle.
        (true, true) if !crm_has && !google_has => plain(PhotoAction::Remember),
        (true, true) => {
            let google_newer = match (view.google_updated_ms, view.crm_updated_ms) {
                (Some(g), Some(c)) => g > c,
                (Some(_), None) => true,
                _ => false,
            };
            let kept = if google_newer { Side::Remote } else { Side::Crm };
            let action = if kept == Side::Remote { to_crm() } else { to_google() };
            Decision { action, conflict: (action != PhotoAction::Nothing).then_some(kept) }
        }
    }
}

/// Why an image cannot be moved: `(code, English reason)`. Codes: `PHOTO_TOO_LARGE`,
/// `PHOTO_UNSUPPORTED_TYPE`, `PHOTO_UNREADABLE`.
pub type ImageProblem = (&'static str, String);

/// The image type by signature, `image/jpeg` or `image/png`.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else {
        None
    }
}

/// Checks image bytes: at most [`MAX_PHOTO_BYTES`], JPEG or PNG by signature.
pub fn check_image(bytes: &[u8]) -> Result<&'static str, ImageProblem> {
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(("PHOTO_TOO_LARGE", format!("the image has {} KiB, more than the {} KiB allowed", bytes.len() / 1024, MAX_PHOTO_BYTES / 1024)));
    }
    sniff(bytes).ok_or_else(|| ("PHOTO_UNSUPPORTED_TYPE", "the image is neither JPEG nor PNG".to_string()))
}

/// The bytes of a `data:<type>;base64,<data>` URL, checked.
pub fn decode_data_url(url: &str) -> Result<Vec<u8>, ImageProblem> {
    let unreadable = || ("PHOTO_UNREADABLE", "the image field does not hold a base64 data: URL".to_string());
    let rest = url.trim().strip_prefix("data:").ok_or_else(unreadable)?;
    let (meta, data) = rest.split_once(',').ok_or_else(unreadable)?;
    if !meta.ends_with(";base64") {
        return Err(unreadable());
    }
    // Checked on the encoded length first: never decode a huge value.
    if data.len() / 4 * 3 > MAX_PHOTO_BYTES + 3 {
        return Err(("PHOTO_TOO_LARGE", format!("the image has about {} KiB, more than the {} KiB allowed", data.len() / 4 * 3 / 1024, MAX_PHOTO_BYTES / 1024)));
    }
    let bytes = STANDARD.decode(data.trim()).map_err(|_| unreadable())?;
    check_image(&bytes)?;
    Ok(bytes)
}

/// A data URL for checked image bytes.
pub fn data_url(bytes: &[u8], mime: &str) -> String {
    format!("data:{mime};base64,{}", STANDARD.encode(bytes))
}

/// The hash the memory keeps for a CRM image value ("" for none).
pub fn image_hash(value: Option<&Value>) -> String {
    match value.and_then(Value::as_str).map(str::trim) {
        Some(s) if !s.is_empty() => {
            let digest = Sha256::digest(s.as_bytes());
            digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
        }
        _ => String::new(),
    }
}

/// The CRM field that holds photos: the writable image field `photo`, else the first
/// writable image field.
pub fn image_field(schema: &[CrmFieldSchema]) -> Option<&CrmFieldSchema> {
    let writable = |f: &&CrmFieldSchema| f.field_type == CrmFieldType::Image && !f.read_only;
    schema.iter().filter(writable).find(|f| f.id == "photo").or_else(|| schema.iter().find(writable))
}

fn iso_ms(iso: &str) -> Option<f64> {
    chrono::DateTime::parse_from_rfc3339(iso).ok().map(|t| t.timestamp_millis() as f64)
}

/// What the pass did, merged into the run's report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhotoOutcome {
    /// Photos sent to Google.
    pub uploaded: u32,
    /// Photos removed from Google.
    pub removed_remote: u32,
    /// Photos written into the CRM.
    pub downloaded: u32,
    /// CRM images cleared.
    pub cleared_crm: u32,
    /// Both sides changed.
    pub conflicts: Vec<ConflictRecord>,
    /// Per-contact problems and failures, with remedies.
    pub errors: Vec<ReportError>,
    /// For the operator.
    pub notices: Vec<String>,
    /// Photo requests sent to Google and downloads (for tests and figures).
    pub requests: u32,
    /// Stopped by the time budget: work is left for the next run.
    pub more: bool,
}

impl PhotoOutcome {
    /// Adds the pass to a run's report and journal: counts, conflicts, errors, notices.
    /// A failure that the next run retries makes an `ok` run `partial`.
    pub fn merge_into(self, report: &mut RunReport, journal: &mut Journal) {
        report.counts.remote.updated += self.uploaded + self.removed_remote;
        report.counts.crm.updated += self.downloaded + self.cleared_crm;
        report.counts.conflicts += self.conflicts.len() as u32;
        report.conflicts.extend(self.conflicts.iter().cloned());
        journal.conflicts.extend(self.conflicts);
        let retried = self.errors.iter().any(|e| !matches!(e.code, ErrorCode::BadInput | ErrorCode::NotAllowedHost));
        report.errors.extend(self.errors);
        report.notices.extend(self.notices);
        report.more |= self.more;
        if retried && report.outcome == "ok" {
            report.outcome = "partial".into();
        }
    }
}

fn display_name(contact: &CrmContact) -> String {
    let part = |k: &str| contact.fields.get(k).and_then(Value::as_str).unwrap_or("").trim().to_string();
    let name = [part("firstName"), part("lastName")].iter().filter(|s| !s.is_empty()).cloned().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        contact.id.clone()
    } else {
        name
    }
}

fn image_error(who: &str, side: &str, (code, reason): ImageProblem) -> ReportError {
    ReportError {
        code: ErrorCode::BadInput,
        message: format!("{code}: the photo of {who} ({side}) was not synced: {reason}."),
        remedy: format!(
            "Replace the photo of {who} with a JPEG or PNG image of at most {} KiB; it syncs at the next run.",
            MAX_PHOTO_BYTES / 1024
        ),
        retry_at: None,
    }
}

fn failure_error(who: &str, e: &ProviderError) -> ReportError {
    ReportError {
        code: ErrorCode::parse(e.code).unwrap_or(ErrorCode::BadResponse),
        message: format!("The photo of {who} was not synced: {}", e.message),
        remedy: if e.remedy.is_empty() { "Nothing to do: the next run tries again.".into() } else { e.remedy.clone() },
        retry_at: None,
    }
}

/// One pair the pass works on.
struct Pair {
    crm_id: String,
    remote_id: String,
}

async fn load_memory<H: Host>(host: &H, key: &str) -> PluginResult<PhotoMemory> {
    let got = host.storage_get(&[key.to_string()]).await?;
    Ok(match got.get(key) {
        // A memory we cannot read is started again: the pass then meets every pair anew.
        Some(v) if !v.is_null() => serde_json::from_value(v.clone()).unwrap_or_default(),
        _ => PhotoMemory::default(),
    })
}

async fn linked_pairs<H: Host>(host: &H, spoke_id: &str) -> PluginResult<Vec<Pair>> {
    let key = SpokeKeys::for_spoke(spoke_id).state;
    let got = host.storage_get(std::slice::from_ref(&key)).await?;
    let state = match got.get(&key) {
        Some(Value::String(text)) => SpokeState::from_json(text).map_err(|e| PluginError::new(ErrorCode::Storage, e.to_string()))?,
        _ => return Ok(Vec::new()),
    };
    Ok(state.links.into_iter().map(|(crm_id, link)| Pair { crm_id, remote_id: link.remote_id }).collect())
}

/// Limits of one pass.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PassScope {
    /// Stop starting photo work at this host time (the run's budget); the next run goes on.
    pub deadline_ms: Option<f64>,
    /// A run after CRM contact events: only these CRM contacts, the people the run saw
    /// change in Google, and pairs waiting for a retry.
    pub crm_ids: Option<BTreeSet<String>>,
}

/// The photo pass of a Google spoke after its run. Does nothing (not a single request)
/// when `sync.photos` is off, for previews, or when the CRM has no image field.
/// Failures of single contacts are report lines; a storage failure fails the call.
pub async fn run_pass<H: Host>(
    client: &mut GoogleSpoke<'_, H>,
    spoke_id: &str,
    settings: &Settings,
    schema: &[CrmFieldSchema],
    scope: &PassScope,
    cancel: &std::cell::Cell<bool>,
) -> PluginResult<PhotoOutcome> {
    let mut out = PhotoOutcome::default();
    if !settings.sync_photos {
        return Ok(out);
    }
    let Some(field) = image_field(schema) else {
        out.notices.push("Photo sync is on, but the CRM has no image field to hold photos: photos were not synced.".into());
        return Ok(out);
    };
    let field = field.id.clone();
    let flow = Flow { to_crm: settings.sync_import, to_google: settings.sync_export };
    let host = client.host();
    // One pass (and one run) per spoke at a time: the run's lease, under our own id.
    let run_id = format!("photos-{}", host.now_ms() as u64);
    let Some(mut lease) = StoredLease::take(host, spoke_id, &run_id).await? else {
        out.notices.push("Photo sync waits for the next run: another run of this address book is in progress.".into());
        return Ok(out);
    };
    let result = pass(client, spoke_id, &field, flow, scope, cancel, &mut lease, out).await;
    let released = lease.release(host).await;
    let out = result?;
    released?;
    Ok(out)
}

/// The pass itself, under the lease.
#[allow(clippy::too_many_arguments)]
async fn pass<H: Host>(
    client: &mut GoogleSpoke<'_, H>,
    spoke_id: &str,
    field: &str,
    flow: Flow,
    scope: &PassScope,
    cancel: &std::cell::Cell<bool>,
    lease: &mut StoredLease,
    mut out: PhotoOutcome,
) -> PluginResult<PhotoOutcome> {
    let field = field.to_string();
    let host = client.host();
    let key = memory_key(spoke_id);
    let before = load_memory(host, &key).await?;
    let mut memory = PhotoMemory { v: 1, pairs: BTreeMap::new() };
    let pairs = linked_pairs(host, spoke_id).await?;
    // Keep what is still linked to the same person; forget the rest.
    for pair in &pairs {
        if let Some(a) = before.pairs.get(&pair.crm_id).filter(|a| a.remote_id == pair.remote_id) {
            memory.pairs.insert(pair.crm_id.clone(), a.clone());
        }
    }
    let pairs: Vec<Pair> = match &scope.crm_ids {
        None => pairs,
        Some(ids) => pairs
            .into_iter()
            .filter(|pr| {
                ids.contains(&pr.crm_id)
                    || client.seen_person(&pr.remote_id).is_some()
                    || memory.pairs.get(&pr.crm_id).is_some_and(|a| a.recheck)
            })
            .collect(),
    };
    // People neither seen this run nor remembered: read them (one batchGet per 200).
    let unknown: Vec<String> = pairs
        .iter()
        .filter(|pr| memory.pairs.get(&pr.crm_id).is_none_or(|a| a.recheck) && client.seen_person(&pr.remote_id).is_none())
        .map(|pr| pr.remote_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut gone: BTreeSet<String> = BTreeSet::new();
    for chunk in unknown.chunks(p::MAX_BATCH_GET) {
        out.requests += 1;
        match client.fetch(chunk).await {
            Ok(results) => gone.extend(results.into_iter().filter(|(_, r)| matches!(r, ItemResult::Gone)).map(|(id, _)| id)),
            Err(e) => {
                out.errors.push(failure_error("the linked contacts", &e));
                save(host, &key, &memory).await?;
                return Ok(out);
            }
        }
    }
    let crm_ids: Vec<String> = pairs.iter().map(|pr| pr.crm_id.clone()).collect();
    let mut contacts: BTreeMap<String, CrmContact> = BTreeMap::new();
    for chunk in crm_ids.chunks(CRM_CHUNK) {
        for c in host.crm_get(chunk).await? {
            contacts.insert(c.id.clone(), c);
        }
    }
    for pair in &pairs {
        if cancel.get() {
            out.notices.push("Photo sync was cancelled; it continues at the next run.".into());
            break;
        }
        // Renewed when half its time has passed.
        let half_gone = host.now_ms() as u64 + StoredLease::TTL_MS / 2 >= lease.expires_at();
        if half_gone && !lease.renew(host).await? {
            out.notices.push("Photo sync stopped: another run of this address book took over; the next run continues.".into());
            break;
        }
        if scope.deadline_ms.is_some_and(|d| host.now_ms() >= d) {
            out.more = true;
            out.notices.push("Photo sync stopped at the end of the run's time budget; the next run continues.".into());
            break;
        }
        let Some(contact) = contacts.get(&pair.crm_id) else { continue };
        if gone.contains(&pair.remote_id) {
            continue;
        }
        let agreed = memory.pairs.get(&pair.crm_id).cloned();
        let crm_value = contact.fields.get(&field);
        let crm_hash = image_hash(crm_value);
        let (google_url, google_updated_ms) = match client.seen_person(&pair.remote_id) {
            Some(person) => (p::own_photo_url(person).to_string(), person.update_time().and_then(iso_ms)),
            None => match &agreed {
                Some(a) => (a.google.clone(), None),
                None => continue,
            },
        };
        let view = PairView {
            crm_hash: &crm_hash,
            crm_updated_ms: iso_ms(&contact.updated_at),
            google_url: &google_url,
            google_updated_ms,
            agreed: agreed.as_ref(),
        };
        let decision = decide(&view, flow);
        let who = display_name(contact);
        let target = Target { pair, contact, field: &field, who: &who, crm_hash: &crm_hash, google_url: &google_url, agreed: agreed.as_ref() };
        match apply(client, &target, decision.action, &mut out).await {
            Ok(Some((crm, google))) => {
                let changed = agreed.as_ref().is_none_or(|a| a.crm != crm || a.google != google);
                memory.pairs.insert(pair.crm_id.clone(), Agreed { remote_id: pair.remote_id.clone(), crm, google, recheck: false });
                if let (Some(kept), true) = (decision.conflict, changed) {
                    out.conflicts.push(ConflictRecord {
                        crm_id: Some(pair.crm_id.clone()),
                        remote_id: Some(pair.remote_id.clone()),
                        contact_name: who.clone(),
                        field: field.clone(),
                        crm_value: Value::String(if crm_hash.is_empty() { "(no photo)".into() } else { format!("image sha256:{crm_hash}") }),
                        remote_value: Value::String(if google_url.is_empty() { "(no photo)".into() } else { "Google photo".into() }),
                        kept,
                        rule: "newest".into(),
                    });
                }
            }
            Ok(None) => {
                if decision.action != PhotoAction::Nothing {
                    mark_recheck(&mut memory, &pair.crm_id);
                }
            }
            Err((failure, e)) => {
                mark_recheck(&mut memory, &pair.crm_id);
                out.errors.push(failure_error(&who, &e));
                // Quota used up for good or the account unusable: the rest waits for the
                // next run (the memory keeps what was done).
                if matches!(failure, Failure::RateLimited(_) | Failure::Unauthenticated) || e.code == "AUTH_EXPIRED" || e.code == "NOT_CONNECTED" {
                    break;
                }
            }
        }
    }
    save(host, &key, &memory).await?;
    Ok(out)
}

/// The photo pass after a Google run, for the connector's `sync`: runs [`run_pass`]
/// when `sync.photos` is on and the run was a real one that went through (`ok` or
/// `partial`), merges what it did into the report, and amends the run's entry in the
/// history (photo conflicts included) so the History tab shows it. Returns the report.
pub async fn after_run<H: Host>(
    client: &mut GoogleSpoke<'_, H>,
    settings: &Settings,
    options: &crate::runner::RunOptions,
    mut report: RunReport,
    cancel: &std::cell::Cell<bool>,
) -> PluginResult<RunReport> {
    if !settings.sync_photos || options.dry_run || !matches!(report.outcome.as_str(), "ok" | "partial") {
        return Ok(report);
    }
    let host = client.host();
    let schema = host.crm_field_schema().await?;
    let scope = PassScope {
        deadline_ms: options.budget_ms.and_then(|budget| iso_ms(&report.started_at).map(|start| start + budget)),
        crm_ids: (!options.contact_ids.is_empty()).then(|| options.contact_ids.iter().cloned().collect()),
    };
    let outcome = run_pass(client, &report.spoke_id, settings, &schema, &scope, cancel).await?;
    if outcome == (PhotoOutcome { requests: outcome.requests, ..PhotoOutcome::default() }) {
        return Ok(report);
    }
    outcome.merge_into(&mut report, &mut Journal::default());
    let key = SpokeKeys::for_spoke(&report.spoke_id).history;
    let got = host.storage_get(std::slice::from_ref(&key)).await?;
    let mut history: Vec<Value> = got.get(&key).and_then(Value::as_array).cloned().unwrap_or_default();
    if let Some(entry) = history.iter_mut().rev().find(|e| e.get("runId").and_then(Value::as_str) == Some(report.run_id.as_str())) {
        let undoable = entry.get("undoable").cloned();
        *entry = serde_json::to_value(&report).map_err(|e| PluginError::internal(e.to_string()))?;
        if let Some(u) = undoable {
            entry["undoable"] = u;
        }
        let mut put = Map::new();
        put.insert(key, Value::Array(history));
        host.storage_write(&put, &[]).await?;
    }
    Ok(report)
}

/// One pair's inputs for [`apply`].
struct Target<'a> {
    pair: &'a Pair,
    contact: &'a CrmContact,
    field: &'a str,
    who: &'a str,
    crm_hash: &'a str,
    google_url: &'a str,
    agreed: Option<&'a Agreed>,
}

/// Carries out one decision. `Ok(Some((crm hash, google url)))`: the new agreed state;
/// `Ok(None)`: nothing to remember (unchanged, or waits for the next run).
async fn apply<H: Host>(
    client: &mut GoogleSpoke<'_, H>,
    t: &Target<'_>,
    action: PhotoAction,
    out: &mut PhotoOutcome,
) -> Result<Option<(String, String)>, (Failure, ProviderError)> {
    let host = client.host();
    let crm_value = t.contact.fields.get(t.field);
    let waits = |out: &mut PhotoOutcome| {
        out.notices.push(format!("The photo of {} waits for the next run: the contact changed in the CRM meanwhile.", t.who));
    };
    match action {
        PhotoAction::Nothing => Ok(None),
        PhotoAction::Remember => Ok(Some((t.crm_hash.to_string(), t.google_url.to_string()))),
        PhotoAction::Upload => match decode_data_url(crm_value.and_then(Value::as_str).unwrap_or("")) {
            Err(problem) => {
                out.errors.push(image_error(t.who, "CRM", problem));
                // Reported once per image: remembered as agreed until it changes.
                let google = t.agreed.map(|a| a.google.clone()).unwrap_or_else(|| t.google_url.to_string());
                Ok(Some((t.crm_hash.to_string(), google)))
            }
            Ok(bytes) => {
                out.requests += 1;
                let response = client.send(&p::update_photo(&t.pair.remote_id, &STANDARD.encode(&bytes))).await?;
                let person = p::parse_photo_answer(&response.body).map_err(|e| (Failure::Transient, e))?;
                out.uploaded += 1;
                Ok(Some((t.crm_hash.to_string(), person.map(|p| p::own_photo_url(&p).to_string()).unwrap_or_default())))
            }
        },
        PhotoAction::DeleteRemote => {
            out.requests += 1;
            match client.send(&p::delete_photo(&t.pair.remote_id)).await {
                Ok(_) | Err((Failure::NotFound, _)) => {
                    out.removed_remote += 1;
                    Ok(Some((String::new(), String::new())))
                }
                Err(e) => Err(e),
            }
        }
        PhotoAction::Download => {
            out.requests += 1;
            let downloaded = match download(host, t.google_url).await {
                // The shim refuses the photo's host: retrying cannot help until it changes.
                Err(e) if e.code == ErrorCode::NotAllowedHost.as_str() => {
                    out.errors.push(ReportError {
                        code: ErrorCode::NotAllowedHost,
                        message: format!("The photo of {} was not synced: Google serves it from a host the plugin may not contact ({}).", t.who, e.message),
                        remedy: "Nothing to do for this contact; tell the plugin's publisher which host Google uses for photos so it can be allowed.".into(),
                        retry_at: None,
                    });
                    let crm = t.agreed.map(|a| a.crm.clone()).unwrap_or_else(|| t.crm_hash.to_string());
                    return Ok(Some((crm, t.google_url.to_string())));
                }
                other => other.map_err(|e| (Failure::Transient, e))?,
            };
            match downloaded {
                Ok((bytes, mime)) => match write_crm(host, t.contact, t.field, Value::String(data_url(&bytes, mime))).await? {
                    Some(written) => {
                        out.downloaded += 1;
                        Ok(Some((image_hash(written.fields.get(t.field)), t.google_url.to_string())))
                    }
                    None => {
                        waits(out);
                        Ok(None)
                    }
                },
                Err(problem) => {
                    out.errors.push(image_error(t.who, "Google", problem));
                    let crm = t.agreed.map(|a| a.crm.clone()).unwrap_or_else(|| t.crm_hash.to_string());
                    Ok(Some((crm, t.google_url.to_string())))
                }
            }
        }
        PhotoAction::ClearCrm => match write_crm(host, t.contact, t.field, Value::Null).await? {
            Some(_) => {
                out.cleared_crm += 1;
                Ok(Some((String::new(), String::new())))
            }
            None => {
                waits(out);
                Ok(None)
            }
        },
    }
}

fn mark_recheck(memory: &mut PhotoMemory, crm_id: &str) {
    if let Some(a) = memory.pairs.get_mut(crm_id) {
        a.recheck = true;
    }
}

async fn save<H: Host>(host: &H, key: &str, memory: &PhotoMemory) -> PluginResult<()> {
    let mut put = Map::new();
    put.insert(key.to_string(), serde_json::to_value(memory).map_err(|e| PluginError::internal(e.to_string()))?);
    host.storage_write(&put, &[]).await
}

/// Downloads a photo URL without credentials (Google's photo URLs need none; a token
/// must never leave for another host). Outer error: the download failed (retried next
/// run); inner error: the bytes are not an image we move.
async fn download<H: Host>(host: &H, url: &str) -> Result<Result<(Vec<u8>, &'static str), ImageProblem>, ProviderError> {
    let request = HttpRequest {
        method: "GET".into(),
        url: url.to_string(),
        response_encoding: Some(ResponseEncoding::Base64),
        ..HttpRequest::default()
    };
    let response = redirect::fetch(host, &request)
        .await
        .map_err(|e| ProviderError::new(e.code.as_str(), e.message, e.remedy).retryable())?;
    if !(200..300).contains(&response.status) {
        return Err(ProviderError::new(
            "BAD_RESPONSE",
            format!("Google answered HTTP {} to the photo download", response.status),
            "Nothing to do: the next run tries again.",
        )
        .retryable());
    }
    if response.body.len() / 4 * 3 > MAX_PHOTO_BYTES + 3 {
        return Ok(Err(("PHOTO_TOO_LARGE", format!("the image has about {} KiB, more than the {} KiB allowed", response.body.len() / 4 * 3 / 1024, MAX_PHOTO_BYTES / 1024))));
    }
    let bytes = match STANDARD.decode(response.body.trim()) {
        Ok(b) => b,
        Err(_) => return Ok(Err(("PHOTO_UNREADABLE", "the host did not hand the image back as base64".into()))),
    };
    Ok(check_image(&bytes).map(|mime| (bytes, mime)))
}

/// Writes the image field against the contact's version. `None`: the contact changed
/// meanwhile (CONFLICT) or is gone; the next run sees it again.
async fn write_crm<H: Host>(
    host: &H,
    contact: &CrmContact,
    field: &str,
    value: Value,
) -> Result<Option<CrmContact>, (Failure, ProviderError)> {
    let mut fields = Map::new();
    fields.insert(field.to_string(), value);
    let patch = CrmPatch { fields: Some(fields), ..CrmPatch::default() };
    match host.crm_update(&contact.id, contact.version, &patch).await {
        Ok(c) => Ok(Some(c)),
        Err(e) if matches!(e.code, ErrorCode::Conflict | ErrorCode::NotFound) => Ok(None),
        Err(e) => Err((Failure::Transient, ProviderError::new(e.code.as_str(), e.message, e.remedy))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: Flow = Flow { to_crm: true, to_google: true };

    fn view<'a>(crm: &'a str, google: &'a str, agreed: Option<&'a Agreed>) -> PairView<'a> {
        PairView { crm_hash: crm, crm_updated_ms: Some(1000.0), google_url: google, google_updated_ms: Some(2000.0), agreed }
    }

    fn agreed(crm: &str, google: &str) -> Agreed {
        Agreed { remote_id: "people/c1".into(), crm: crm.into(), google: google.into(), recheck: false }
    }

    #[test]
    fn one_side_changed_flows_to_the_other() {
        let a = agreed("h1", "u1");
        assert_eq!(decide(&view("h1", "u1", Some(&a)), BOTH).action, PhotoAction::Nothing);
        assert_eq!(decide(&view("h2", "u1", Some(&a)), BOTH).action, PhotoAction::Upload);
        assert_eq!(decide(&view("", "u1", Some(&a)), BOTH).action, PhotoAction::DeleteRemote);
        assert_eq!(decide(&view("h1", "u2", Some(&a)), BOTH).action, PhotoAction::Download);
        assert_eq!(decide(&view("h1", "", Some(&a)), BOTH).action, PhotoAction::ClearCrm);
    }

    #[test]
    fn first_meeting_fills_the_empty_side() {
        assert_eq!(decide(&view("", "", None), BOTH).action, PhotoAction::Remember);
        assert_eq!(decide(&view("h1", "", None), BOTH).action, PhotoAction::Upload);
        assert_eq!(decide(&view("", "u1", None), BOTH).action, PhotoAction::Download);
    }

    #[test]
    fn both_changed_the_newer_wins_and_a_tie_keeps_the_crm() {
        let a = agreed("h1", "u1");
        let d = decide(&view("h2", "u2", Some(&a)), BOTH);
        assert_eq!((d.action, d.conflict), (PhotoAction::Download, Some(Side::Remote)));
        let mut v = view("h2", "u2", Some(&a));
        v.crm_updated_ms = Some(3000.0);
        let d = decide(&v, BOTH);
        assert_eq!((d.action, d.conflict), (PhotoAction::Upload, Some(Side::Crm)));
        v.crm_updated_ms = Some(2000.0);
        assert_eq!(decide(&v, BOTH).conflict, Some(Side::Crm));
        assert_eq!(decide(&view("", "", Some(&a)), BOTH).action, PhotoAction::Remember);
    }

    #[test]
    fn directions_are_honoured() {
        let a = agreed("h1", "u1");
        let import_only = Flow { to_crm: true, to_google: false };
        assert_eq!(decide(&view("h2", "u1", Some(&a)), import_only).action, PhotoAction::Nothing);
        let export_only = Flow { to_crm: false, to_google: true };
        assert_eq!(decide(&view("h1", "u2", Some(&a)), export_only).action, PhotoAction::Nothing);
    }

    #[test]
    fn images_are_checked_by_size_and_signature() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3];
        assert_eq!(check_image(&jpeg), Ok("image/jpeg"));
        assert_eq!(check_image(b"GIF89a....").unwrap_err().0, "PHOTO_UNSUPPORTED_TYPE");
        let mut big = vec![0u8; MAX_PHOTO_BYTES + 1];
        big[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
        assert_eq!(check_image(&big).unwrap_err().0, "PHOTO_TOO_LARGE");
        let url = data_url(&jpeg, "image/jpeg");
        assert_eq!(decode_data_url(&url), Ok(jpeg.to_vec()));
        assert_eq!(decode_data_url("https://example.com/a.jpg").unwrap_err().0, "PHOTO_UNREADABLE");
        assert_eq!(decode_data_url("data:image/png;base64,@@@").unwrap_err().0, "PHOTO_UNREADABLE");
        assert_eq!(decode_data_url(&data_url(b"GIF89a", "image/gif")).unwrap_err().0, "PHOTO_UNSUPPORTED_TYPE");
    }

    #[test]
    fn the_hash_ignores_nothing_but_absence() {
        assert_eq!(image_hash(None), "");
        assert_eq!(image_hash(Some(&Value::Null)), "");
        assert_eq!(image_hash(Some(&Value::String(" ".into()))), "");
        let a = image_hash(Some(&Value::String("data:image/png;base64,AAAA".into())));
        assert_eq!(a.len(), 32);
        assert_ne!(a, image_hash(Some(&Value::String("data:image/png;base64,AAAB".into()))));
    }
}
