//! The plugin methods every spoke has, dispatched by its kind in one place: status, test,
//! sync (one spoke or all), preview, undo, forget links, disconnect and the debounced
//! run after host events. What is the same for every kind lives here too: reading the
//! settings, running and recording a run over any [`Provider`], and the status parts the
//! history and the stored state tell. Each kind's connector (`providers::google::connector`,
//! `providers::carddav::connector`) only builds its provider and handles its credentials.
//!
//! ```no_run
//! # async fn demo<H: contact_sync::host::Host>(host: &H) -> contact_sync::error::PluginResult<()> {
//! use contact_sync::connectors;
//! // Every configured spoke, Google and CardDAV alike.
//! let reports = connectors::sync_all(host, None, &Default::default(), &std::cell::Cell::new(false)).await?;
//! # Ok(()) }
//! ```

use std::cell::Cell;

use serde_json::Value;

use crate::engine::journal::Journal;
use crate::error::{ErrorCode, PluginError, PluginResult};
use crate::host::{Host, LogLevel};
use crate::plugin_core::SETTINGS_KEY;
use crate::providers::carddav::connector as carddav;
use crate::providers::google::connector as google;
use crate::providers::Provider;
use crate::runner::{self, RunOptions, RunReport, SpokeKeys, SpokeRun};
use crate::settings::{Settings, SpokeKind, SpokeSettings};

/// Quiet time after the last contact event before an event-triggered run starts: a burst
/// of edits becomes one run, and an edit still reaches the address books within seconds.
pub const DEBOUNCE_MS: f64 = 3_000.0;

/// The stored settings, or the defaults when none are stored.
pub async fn settings<H: Host>(host: &H) -> PluginResult<Settings> {
    let got = host.storage_get(&[SETTINGS_KEY.to_string()]).await?;
    match got.get(SETTINGS_KEY) {
        Some(v) if !v.is_null() => Settings::from_value(v),
        _ => Ok(Settings::default()),
    }
}

/// The spoke `spoke_id` of the settings; BAD_INPUT when there is none, or when `kind` is
/// given and the spoke is of another kind.
pub fn find_spoke(settings: &Settings, spoke_id: &str, kind: Option<SpokeKind>) -> PluginResult<SpokeSettings> {
    let spoke = settings
        .spokes
        .iter()
        .find(|s| s.id == spoke_id)
        .cloned()
        .ok_or_else(|| PluginError::bad_input(format!("No spoke with id {spoke_id}.")))?;
    match kind {
        Some(k) if spoke.kind != k => {
            let what = match k {
                SpokeKind::Google => "a Google account",
                SpokeKind::Carddav => "a CardDAV address book",
            };
            Err(PluginError::bad_input(format!("Spoke {spoke_id} is not {what}.")))
        }
        _ => Ok(spoke),
    }
}

/// One run (or a preview with `options.dry_run`) of `spoke` over `provider`, recorded in
/// the history (with the state before it, for undo) unless it is a preview.
pub async fn run_with<H: Host, P: Provider>(
    host: &H,
    settings: &Settings,
    spoke: &SpokeSettings,
    provider: &mut P,
    options: &RunOptions,
    cancel: &Cell<bool>,
) -> PluginResult<RunReport> {
    let schema = host.crm_field_schema().await?;
    let config = runner::sync_config(settings, spoke, schema, &*provider)?;
    let mut run = SpokeRun::new(host, provider, &spoke.id, cancel)?;
    let (report, journal) = run.run(config, options).await?;
    if !options.dry_run && report.outcome != "alreadyRunning" {
        runner::record_run_with_base(host, &report, &journal, run.pre_run_state()).await?;
    }
    Ok(report)
}

/// Undoes the latest run of `spoke_id` that changed contacts, over `provider`, and
/// records the undo in the history (see [`SpokeRun::undo`]).
pub async fn undo_with<H: Host, P: Provider>(host: &H, provider: &mut P, spoke_id: &str) -> PluginResult<RunReport> {
    let cancel = Cell::new(false);
    let mut run = SpokeRun::new(host, provider, spoke_id, &cancel)?;
    let report = run.undo(spoke_id).await?;
    if report.outcome != "alreadyRunning" {
        runner::record_run(host, &report, &Journal::default()).await?;
    }
    Ok(report)
}

/// The status parts every kind shares; `connected` comes from the kind's credentials.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStatus {
    /// Credentials are held (and, for CardDAV, an address book is chosen).
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

/// What the history and the stored state of `spoke_id` say: the latest run, the last
/// success, an auth problem of the latest run, the number of links.
pub async fn run_status<H: Host>(host: &H, spoke_id: &str, connected: bool) -> PluginResult<RunStatus> {
    let runs = runner::history(host, spoke_id, runner::HISTORY_KEEP).await?;
    let last_run = runs.first().cloned();
    let last_success_at = runs.iter().find(|r| r.outcome == "ok").map(|r| r.finished_at.clone());
    let problem = last_run
        .as_ref()
        .and_then(|r| r.errors.iter().find(|e| matches!(e.code, ErrorCode::AuthExpired | ErrorCode::AuthDenied | ErrorCode::NotConnected)))
        .map(|e| (e.code, e.message.clone(), e.remedy.clone()));
    let keys = SpokeKeys::for_spoke(spoke_id);
    let got = host.storage_get(std::slice::from_ref(&keys.state)).await?;
    let linked = match got.get(&keys.state) {
        Some(Value::String(text)) => crate::engine::state::SpokeState::from_json(text).map(|s| s.links.len() as u64).unwrap_or(0),
        _ => 0,
    };
    Ok(RunStatus { connected, last_run, last_success_at, problem, linked })
}

/// The status of a spoke of either kind.
pub async fn status<H: Host>(host: &H, spoke: &SpokeSettings) -> PluginResult<RunStatus> {
    match spoke.kind {
        SpokeKind::Google => google::status(host, spoke).await,
        SpokeKind::Carddav => carddav::status(host, spoke).await,
    }
}

/// The account shown for a spoke when its kind knows it without asking the remote
/// (CardDAV: `username @ host`); None for Google (the connection records it).
pub fn known_account(spoke: &SpokeSettings) -> Option<String> {
    match spoke.kind {
        SpokeKind::Google => None,
        SpokeKind::Carddav => carddav::account(spoke),
    }
}

/// Checks a spoke's connection with one cheap request.
pub async fn test_connection<H: Host>(host: &H, spoke_id: &str) -> PluginResult<()> {
    let s = settings(host).await?;
    match find_spoke(&s, spoke_id, None)?.kind {
        SpokeKind::Google => google::test_connection(host, spoke_id).await,
        SpokeKind::Carddav => carddav::test_connection(host, spoke_id).await,
    }
}

/// Forgets a spoke's credentials (links and settings stay).
pub async fn disconnect<H: Host>(host: &H, spoke_id: &str) -> PluginResult<()> {
    let s = settings(host).await?;
    match find_spoke(&s, spoke_id, None)?.kind {
        SpokeKind::Google => google::disconnect(host, spoke_id).await,
        SpokeKind::Carddav => carddav::disconnect(host, spoke_id).await,
    }
}

/// Forgets links, bases and cursors of any spoke (and the matches held for the operator,
/// with the decisions queued about them): the next run matches again (CRM id carried on
/// the remote copy, then e-mail, then phone), so nothing is duplicated.
pub async fn forget_links<H: Host>(host: &H, spoke_id: &str) -> PluginResult<()> {
    let keys = SpokeKeys::for_spoke(spoke_id);
    host.storage_write(&serde_json::Map::new(), &[keys.state, keys.journal, keys.undo_base, keys.labels, keys.decisions]).await
}

/// One run (or a preview with `options.dry_run`) of a spoke of either kind.
pub async fn sync<H: Host>(host: &H, spoke_id: &str, options: &RunOptions, cancel: &Cell<bool>) -> PluginResult<RunReport> {
    let s = settings(host).await?;
    match find_spoke(&s, spoke_id, None)?.kind {
        SpokeKind::Google => google::sync(host, spoke_id, options, cancel).await,
        SpokeKind::Carddav => carddav::sync(host, spoke_id, options, cancel).await,
    }
}

/// Whether the spoke's first sync has happened: it left a stored state (links, cursors).
/// A preview writes none, and forgetting the links removes it.
pub async fn has_synced<H: Host>(host: &H, spoke_id: &str) -> PluginResult<bool> {
    let key = SpokeKeys::for_spoke(spoke_id).state;
    Ok(host.storage_get(std::slice::from_ref(&key)).await?.get(&key).is_some_and(|v| !v.is_null()))
}

/// Runs every spoke (or only `only`), in the settings' order. CardDAV spokes not set up
/// yet (no password stored or no address book chosen) are left out of an all-spokes run;
/// named alone they fail with NOT_CONNECTED. A first sync is the operator's to confirm
/// (after a preview): runs nobody asked for (schedule, contact events, CRM opened) leave
/// out every spoke that has not synced yet, and log why.
pub async fn sync_all<H: Host>(host: &H, only: Option<&str>, options: &RunOptions, cancel: &Cell<bool>) -> PluginResult<Vec<RunReport>> {
    let s = settings(host).await?;
    let spokes = match only {
        Some(id) => vec![find_spoke(&s, id, None)?],
        None => s.spokes,
    };
    let automatic = !matches!(options.trigger.as_str(), "manual" | "undo");
    let mut reports = Vec::new();
    for spoke in &spokes {
        if only.is_none() && spoke.kind == SpokeKind::Carddav && !carddav::is_set_up(host, spoke).await? {
            continue;
        }
        if automatic && !has_synced(host, &spoke.id).await? {
            let mut fields = serde_json::Map::new();
            fields.insert("spokeId".into(), Value::String(spoke.id.clone()));
            fields.insert("trigger".into(), Value::String(options.trigger.clone()));
            host.log(LogLevel::Info, "The first sync of this address book waits for the operator to preview and confirm it in the settings tab.", &fields);
            continue;
        }
        reports.push(sync(host, &spoke.id, options, cancel).await?);
    }
    Ok(reports)
}

/// What a sync of the spoke would do, without writing.
pub async fn preview<H: Host>(host: &H, spoke_id: &str) -> PluginResult<RunReport> {
    let options = RunOptions { dry_run: true, ..RunOptions::default() };
    sync(host, spoke_id, &options, &Cell::new(false)).await
}

/// Undoes the latest run of the spoke that changed contacts.
pub async fn undo_last_run<H: Host>(host: &H, spoke_id: &str) -> PluginResult<RunReport> {
    let s = settings(host).await?;
    match find_spoke(&s, spoke_id, None)?.kind {
        SpokeKind::Google => google::undo_last_run(host, spoke_id).await,
        SpokeKind::Carddav => carddav::undo_last_run(host, spoke_id).await,
    }
}

/// Call after `PluginCore::handle_event` recorded an event: waits [`DEBOUNCE_MS`] on the
/// host's clock; if no later event arrived meanwhile (that event's call takes over), takes
/// the pending events and runs every spoke that is set up — trigger `event` for contact
/// changes when `sync.onChange`, `startup` for `crm.opened` when `sync.onOpen`. The run
/// is incremental: only the changed CRM contacts and one delta request per address book.
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
    // Shown as running (`status().running`) like a run the page started.
    let _running = core.running_guard();
    sync_all(host, None, &options, cancel).await
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

    fn host_with_a_google_spoke() -> crate::host::MemoryHost {
        let host = crate::host::MemoryHost::new();
        let mut s = Settings::default();
        s.spokes.push(SpokeSettings {
            id: "g1".into(),
            kind: SpokeKind::Google,
            name: "Google".into(),
            allow_create: true,
            client_id: Some("client".into()),
            endpoints: None,
            server_url: None,
            username: None,
            address_book: None,
            allow_private_network: false,
        });
        let mut put = serde_json::Map::new();
        put.insert(SETTINGS_KEY.into(), serde_json::to_value(&s).unwrap());
        pollster::block_on(host.storage_write(&put, &[])).unwrap();
        host
    }

    #[test]
    fn runs_nobody_asked_for_never_make_the_first_sync() {
        let host = host_with_a_google_spoke();
        for trigger in ["schedule", "event", "startup"] {
            let options = RunOptions { trigger: trigger.into(), ..RunOptions::default() };
            let reports = pollster::block_on(sync_all(&host, None, &options, &Cell::new(false))).unwrap();
            assert!(reports.is_empty(), "{trigger}: {reports:?}");
            let named = pollster::block_on(sync_all(&host, Some("g1"), &options, &Cell::new(false))).unwrap();
            assert!(named.is_empty(), "{trigger}: {named:?}");
        }
        assert!(host.logs().iter().any(|l| l.message.contains("waits for the operator")));
        // Sync now does start it (here it stops at the missing tokens).
        let manual = pollster::block_on(sync_all(&host, None, &RunOptions::default(), &Cell::new(false)));
        assert!(!matches!(&manual, Ok(r) if r.is_empty()), "{manual:?}");
    }

    #[test]
    fn a_stored_state_means_the_first_sync_happened() {
        let host = host_with_a_google_spoke();
        assert!(!pollster::block_on(has_synced(&host, "g1")).unwrap());
        let mut put = serde_json::Map::new();
        put.insert(SpokeKeys::for_spoke("g1").state, Value::String("state".into()));
        pollster::block_on(host.storage_write(&put, &[])).unwrap();
        assert!(pollster::block_on(has_synced(&host, "g1")).unwrap());
    }
}
