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

use crate::error::{PluginError, PluginResult};
use crate::host::Host;
use crate::providers::google::auth::{GoogleAuth, GoogleEndpoints};
use crate::providers::google::client::GoogleSpoke;
use crate::providers::google::pacing::Quota;
use crate::providers::google::protocol as p;
use crate::runner::{RunOptions, RunReport};
use crate::settings::{Settings, SpokeKind, SpokeSettings};

async fn settings<H: Host>(host: &H) -> PluginResult<Settings> {
    crate::connectors::settings(host).await
}

fn google_spoke(settings: &Settings, spoke_id: &str) -> PluginResult<SpokeSettings> {
    crate::connectors::find_spoke(settings, spoke_id, Some(SpokeKind::Google))
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
    client.send(&p::probe_connections()).await.map(|_| ()).map_err(|(_, e)| PluginError::from(e))
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
    crate::connectors::forget_links(host, spoke_id).await
}

/// One run (or a preview with `options.dry_run`), recorded in the history.
pub async fn sync<H: Host>(host: &H, spoke_id: &str, options: &RunOptions, cancel: &Cell<bool>) -> PluginResult<RunReport> {
    let s = settings(host).await?;
    let spoke = google_spoke(&s, spoke_id)?;
    let mut provider = GoogleSpoke::new(host, auth_of(&spoke), Quota::default());
    let report = crate::connectors::run_with(host, &s, &spoke, &mut provider, options, cancel).await?;
    crate::providers::google::photos::after_run(&mut provider, &s, options, report, cancel).await
}

/// Undoes the latest run of the spoke that changed contacts (see [`SpokeRun::undo`]).
pub async fn undo_last_run<H: Host>(host: &H, spoke_id: &str) -> PluginResult<RunReport> {
    let s = settings(host).await?;
    let spoke = google_spoke(&s, spoke_id)?;
    let mut provider = GoogleSpoke::new(host, auth_of(&spoke), Quota::default());
    crate::connectors::undo_with(host, &mut provider, spoke_id).await
}

/// A dry run: what a sync would do, without writing.
pub async fn preview<H: Host>(host: &H, spoke_id: &str) -> PluginResult<RunReport> {
    let options = RunOptions { dry_run: true, ..RunOptions::default() };
    sync(host, spoke_id, &options, &Cell::new(false)).await
}

/// The status of a spoke: connected when tokens are held.
pub async fn status<H: Host>(host: &H, spoke: &SpokeSettings) -> PluginResult<crate::connectors::RunStatus> {
    let connected = auth_of(spoke).is_connected(host).await?;
    crate::connectors::run_status(host, &spoke.id, connected).await
}
