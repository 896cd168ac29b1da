//! The plugin methods of a Google spoke, platform-neutral (generic over [`Host`]), for
//! `PluginCore` and the wasm class to call: connect, test, disconnect, forget links,
//! sync, preview, history, status, and the debounce of host events.
//!
//! ```no_run
//! # async fn demo<H: contact_sync::host::Host>(host: &H) -> contact_sync::error::PluginResult<()> {
//! use contact_sync::providers::google::connector;
//! connector::connect(host, "g1", "https://crm.example.com/host/oauth-callback.html").await?;
//! let report = connector::sync(host, "g1", &Default::default(), &std::cell::Cell::new(false)).await?;
//! # Ok(()) }
//! ```

use std::cell::Cell;

use serde_json::Value;

use crate::error::{ErrorCode, PluginError, PluginResult};
use crate::host::Host;
use crate::plugin_core::SETTINGS_KEY;
use crate::providers::google::auth::{GoogleAuth, GoogleEndpoints};
use crate::providers::google::client::GoogleSpoke;
use crate::providers::google::pacing::Quota;
use crate::providers::google::protocol::ListMode;
use crate::providers::google::protocol as p;
use crate::runner::{self, RunOptions, RunReport, SpokeKeys, SpokeRun};
use crate::settings::{Settings, SpokeKind, SpokeSettings};

/// Quiet time after the last contact event before an event-triggered run starts: a burst
/// of edits becomes one run, and an edit still reaches Google within seconds.
pub const DEBOUNCE_MS: f64 = 3_000.0;

async fn settings<H: Host>(host: &H) -> PluginResult<Settings> {
    let got = host.storage_get(&[SETTINGS_KEY.to_string()]).await?;
    match got.get(SETTINGS_KEY) {
        Some(v) if !v.is_null() => Settings::from_value(v),
        _ => Ok(Settings::default()),
    }
}

fn google_spoke(settings: &Settings, spoke_id: &str) -> PluginResult<SpokeSettings> {
    let spoke = settings
        .spokes
        .iter()
        .find(|s| s.id == spoke_id)
        .cloned()
        .ok_or_else(|| PluginError::bad_input(format!("No spoke with id {spoke_id}.")))?;
    if spoke.kind != SpokeKind::Google {
        return Err(PluginError::bad_input(format!("Spoke {spoke_id} is not a Google account.")));
    }
    Ok(spoke)
}

/// The credentials of a spoke, with its development endpoints when set.
pub fn auth_of(spoke: &SpokeSettings) -> GoogleAuth {
    let endpoints = match &spoke.endpoints {
        Some(e) => GoogleEndpoints { auth: e.auth.clone(), token: e.token.clone(), api: e.api.clone(), revoke: e.revoke.clone() },
        None => GoogleEndpoints::default(),
    };
    GoogleAuth::new(&spoke.id, spoke.client_id.as_deref().unwrap_or(""), endpoints)
}

/// Connects the Google account of `spoke_id` (broker, or consent + code exchange).
pub async fn connect<H: Host>(host: &H, spoke_id: &str, redirect_uri: &str) -> PluginResult<Option<String>> {
    let s = settings(host).await?;
    let spoke = google_spoke(&s, spoke_id)?;
    auth_of(&spoke).connect(host, redirect_uri).await
}

/// Checks the connection with one cheap request (a one-contact listing).
pub async fn test_connection<H: Host>(host: &H, spoke_id: &str) -> PluginResult<()> {
    let s = settings(host).await?;
    let spoke = google_spoke(&s, spoke_id)?;
    let mut client = GoogleSpoke::new(host, auth_of(&spoke), Quota::default());
    let mut request = p::list_connections(&ListMode::Full, None);
    request.path_and_query = request.path_and_query.replace("pageSize=1000", "pageSize=1").replace("&requestSyncToken=true", "");
    client.send(&request).await.map(|_| ()).map_err(|(_, e)| crate::providers::google::auth::plugin_error(e))
}

/// Revokes and forgets the tokens. Links stay (a reconnect of the same account resumes).
pub async fn disconnect<H: Host>(host: &H, spoke_id: &str) -> PluginResult<()> {
    let s = settings(host).await?;
    let spoke = google_spoke(&s, spoke_id)?;
    auth_of(&spoke).disconnect(host).await
}

/// Forgets links, bases and cursors: the next run matches again (CRM id carried in
/// `clientData`, then e-mail, then phone), so nothing is duplicated.
pub async fn forget_links<H: Host>(host: &H, spoke_id: &str) -> PluginResult<()> {
    let keys = SpokeKeys::for_spoke(spoke_id);
    host.storage_write(&serde_json::Map::new(), &[keys.state, keys.journal, keys.undo_base, keys.labels]).await
}

/// One run (or a preview with `options.dry_run`), recorded in the history.
pub async fn sync<H: Host>(host: &H, spoke_id: &str, options: &RunOptions, cancel: &Cell<bool>) -> PluginResult<RunReport> {
    let s = settings(host).await?;
    let spoke = google_spoke(&s, spoke_id)?;
    let mut provider = GoogleSpoke::new(host, auth_of(&spoke), Quota::default());
    let schema = host.crm_field_schema().await?;
    let config = runner::sync_config(&s, &spoke, schema, &provider)?;
    let mut run = SpokeRun::new(host, &mut provider, spoke_id, cancel)?;
    let (report, journal) = run.run(config, options).await?;
    if !options.dry_run && report.outcome != "alreadyRunning" {
        runner::record_run_with_base(host, &report, &journal, run.pre_run_state()).await?;
    }
    Ok(report)
}

/// Undoes the latest run of the spoke that changed contacts (see [`SpokeRun::undo`]).
pub async fn undo_last_run<H: Host>(host: &H, spoke_id: &str) -> PluginResult<RunReport> {
    let s = settings(host).await?;
    let spoke = google_spoke(&s, spoke_id)?;
    let mut provider = GoogleSpoke::new(host, auth_of(&spoke), Quota::default());
    let cancel = Cell::new(false);
    let mut run = SpokeRun::new(host, &mut provider, spoke_id, &cancel)?;
    let report = run.undo(spoke_id).await?;
    if report.outcome != "alreadyRunning" {
        runner::record_run(host, &report, &crate::engine::journal::Journal::default()).await?;
    }
    Ok(report)
}

/// A dry run: what a sync would do, without writing.
pub async fn preview<H: Host>(host: &H, spoke_id: &str) -> PluginResult<RunReport> {
    let options = RunOptions { dry_run: true, ..RunOptions::default() };
    sync(host, spoke_id, &options, &Cell::new(false)).await
}

/// `SpokeStatus` parts this connector knows: connected or not, the last run, its
/// problem with the remedy, the number of links.
#[derive(Debug, Clone, PartialEq)]
pub struct GoogleStatus {
    /// Tokens are held.
    pub connected: bool,
    /// The latest run.
    pub last_run: Option<RunReport>,
    /// ISO time of the last run that ended ok.
    pub last_success_at: Option<String>,
    /// An auth problem of the latest run (code, message, remedy).
    pub problem: Option<(ErrorCode, String, String)>,
    /// Linked pairs.
    pub linked: u64,
}

/// The status of a spoke.
pub async fn status<H: Host>(host: &H, spoke: &SpokeSettings) -> PluginResult<GoogleStatus> {
    let connected = auth_of(spoke).is_connected(host).await?;
    let runs = runner::history(host, &spoke.id, runner::HISTORY_KEEP).await?;
    let last_run = runs.first().cloned();
    let last_success_at = runs.iter().find(|r| r.outcome == "ok").map(|r| r.finished_at.clone());
    let problem = last_run
        .as_ref()
        .and_then(|r| r.errors.iter().find(|e| matches!(e.code, ErrorCode::AuthExpired | ErrorCode::AuthDenied | ErrorCode::NotConnected)))
        .map(|e| (e.code, e.message.clone(), e.remedy.clone()));
    let keys = SpokeKeys::for_spoke(&spoke.id);
    let got = host.storage_get(std::slice::from_ref(&keys.state)).await?;
    let linked = match got.get(&keys.state) {
        Some(Value::String(text)) => crate::engine::state::SpokeState::from_json(text).map(|s| s.links.len() as u64).unwrap_or(0),
        _ => 0,
    };
    Ok(GoogleStatus { connected, last_run, last_success_at, problem, linked })
}

/// Call after `PluginCore::handle_event` recorded an event: waits [`DEBOUNCE_MS`] on the
/// host's clock; if no later event arrived meanwhile (that event's call takes over), takes
/// the pending events and runs every Google spoke — trigger `event` for contact changes
/// when `sync.onChange`, `startup` for `crm.opened` when `sync.onOpen`. The run is
/// incremental: only the changed CRM contacts and one delta request to Google.
pub async fn after_event<H: Host>(core: &crate::plugin_core::PluginCore<H>, cancel: &Cell<bool>) -> PluginResult<Vec<RunReport>> {
    let host = core.host();
    let Some(at) = core.pending_events().last_at_ms else { return Ok(Vec::new()) };
    host.sleep(DEBOUNCE_MS as u32).await;
    if core.pending_events().last_at_ms != Some(at) {
        return Ok(Vec::new());
    }
    let pending = core.take_pending_events();
    let s = settings(host).await?;
    if !s.sync_enabled {
        return Ok(Vec::new());
    }
    let trigger = if !pending.contact_ids.is_empty() && s.sync_on_change {
        "event"
    } else if pending.crm_opened && s.sync_on_open {
        "startup"
    } else {
        return Ok(Vec::new());
    };
    // Changed contacts only, unless the CRM was opened too (that asks for a whole run).
    let contact_ids = if trigger == "event" && !(pending.crm_opened && s.sync_on_open) {
        pending.contact_ids.iter().cloned().collect()
    } else {
        Vec::new()
    };
    let options = RunOptions { trigger: trigger.into(), contact_ids, ..RunOptions::default() };
    let mut reports = Vec::new();
    for spoke in s.spokes.iter().filter(|sp| sp.kind == SpokeKind::Google) {
        reports.push(sync(host, &spoke.id, &options, cancel).await?);
    }
    Ok(reports)
}

/// Whether an event-triggered run is due: the last event is at least [`DEBOUNCE_MS`] old.
pub fn debounce_due(last_event_ms: Option<f64>, now_ms: f64) -> bool {
    last_event_ms.is_some_and(|t| now_ms - t >= DEBOUNCE_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_events_waits_for_quiet() {
        assert!(!debounce_due(None, 10_000.0));
        assert!(!debounce_due(Some(9_000.0), 10_000.0));
        assert!(debounce_due(Some(7_000.0), 10_000.0));
    }
}
