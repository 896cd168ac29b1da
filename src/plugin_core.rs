//! The plugin's methods, platform-neutral: generic over [`Host`], so native tests call
//! exactly what the wasm class calls (the class in `wasm::plugin` is a thin wrapper that
//! converts JS values and errors).
//!
//! Inputs from outside arrive as JSON values and are validated here, so every caller
//! gets the same BAD_INPUT / INVALID_SETTINGS answers.

use crate::crm::CrmFieldSchema;
use crate::error::{ErrorCode, PluginError, PluginResult};
use crate::host::{Host, HostEvent, LogLevel};
use crate::engine::held::Decision;
use crate::engine::mapping::{self, CanonicalField, FieldMappingRow};
use crate::manifest::Manifest;
use crate::connectors;
use crate::providers::carddav::connector as carddav;
use crate::providers::google::connector;
use crate::settings::{Settings, SpokeKind, SpokeSettings};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;

/// Storage key of the operator's settings.
pub const SETTINGS_KEY: &str = "settings";

/// Connection state of a spoke (`SpokeStatus.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpokeState {
    /// Credentials work.
    Connected,
    /// No credentials yet.
    Disconnected,
    /// The last attempt failed; see `problem`.
    Error,
}

/// A problem shown with its remedy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// Stable code.
    pub code: ErrorCode,
    /// For people.
    pub message: String,
    /// What to do.
    pub remedy: String,
}

/// `SpokeStatus` of host-api.d.ts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpokeStatus {
    /// Spoke id.
    pub id: String,
    /// `google` or `carddav`.
    pub kind: SpokeKind,
    /// Shown to the operator.
    pub name: String,
    /// Connection state.
    pub state: SpokeState,
    /// The connected account, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The latest run's report (a `RunReport`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<Value>,
    /// ISO time of the last successful run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success_at: Option<String>,
    /// ISO time of the next scheduled run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_run_at: Option<String>,
    /// What is wrong, with its remedy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
    /// Linked contact pairs.
    pub linked: u64,
}

/// A settings problem shown at the top of the tab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsProblem {
    /// INVALID_SETTINGS or STORAGE.
    pub code: ErrorCode,
    /// For people.
    pub message: String,
}

/// `PluginStatus` of host-api.d.ts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginStatus {
    /// A run is in progress in this instance.
    pub running: bool,
    /// One entry per configured spoke.
    pub spokes: Vec<SpokeStatus>,
    /// Present when the stored settings cannot be used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings_problem: Option<SettingsProblem>,
}

/// `FieldCatalogue` of host-api.d.ts: what the mapping editor offers on each side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldCatalogue {
    /// The CRM's fields (`crm.fieldSchema()`).
    pub crm: Vec<CrmFieldSchema>,
    /// The canonical address-book fields.
    pub remote: Vec<CanonicalField>,
    /// The rows a fresh install starts with.
    pub defaults: Vec<FieldMappingRow>,
}

/// Storage key of the account a spoke was connected as. The account name is shown on
/// the tab and is not a credential; a host broker is the only source that tells it.
pub fn account_key(spoke_id: &str) -> String {
    format!("account.{spoke_id}")
}

/// ISO time `minutes` after the ISO time `after`; None when `after` does not parse.
fn iso_plus_minutes(after: &str, minutes: u32) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(after).ok()?;
    let next = t.checked_add_signed(chrono::Duration::minutes(i64::from(minutes)))?;
    Some(next.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// Held while a run is in progress; see [`PluginCore::running_guard`].
pub struct RunningGuard<'a>(&'a Cell<u32>);

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

/// Host events received and not yet handled by a run: the runner takes them to limit
/// an event-triggered run to the contacts concerned (and debounces bursts).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PendingEvents {
    /// CRM contacts created, changed or deleted.
    pub contact_ids: BTreeSet<String>,
    /// The CRM was opened.
    pub crm_opened: bool,
    /// Virtual time of the first and the latest event (host clock, ms).
    pub first_at_ms: Option<f64>,
    /// Time of the latest event.
    pub last_at_ms: Option<f64>,
}

/// The plugin, over any host.
pub struct PluginCore<H: Host> {
    host: H,
    pending: RefCell<PendingEvents>,
    /// Runs in progress in this instance.
    running: Cell<u32>,
}

impl<H: Host> PluginCore<H> {
    /// A plugin instance talking to `host`.
    pub fn new(host: H) -> Self {
        PluginCore { host, pending: RefCell::new(PendingEvents::default()), running: Cell::new(0) }
    }

    /// The host, for layers built on this one (the runner).
    pub fn host(&self) -> &H {
        &self.host
    }

    /// The plugin's version (plugin.json `version`).
    pub fn version() -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    /// The settings before the operator changes anything.
    pub fn default_settings() -> Settings {
        Settings::default()
    }

    /// The stored settings, or the defaults when none are stored. Stored settings that
    /// no longer validate (edited by hand, or from an older version) fail with
    /// INVALID_SETTINGS listing every reason, rather than being silently replaced.
    pub async fn get_settings(&self) -> PluginResult<Settings> {
        let keys = [SETTINGS_KEY.to_string()];
        let stored = self.host.storage_get(&keys).await?;
        match stored.get(SETTINGS_KEY) {
            None | Some(Value::Null) => Ok(Settings::default()),
            Some(value) => Settings::from_value(value),
        }
    }

    /// Validates `value` against the manifest schema, the rules beyond it and the CRM's
    /// field schema and lists; saves it; returns the saved settings.
    pub async fn save_settings(&self, value: &Value) -> PluginResult<Settings> {
        let settings = Settings::from_value(value)?;
        let fields: Vec<CrmFieldSchema> = self.host.crm_field_schema().await?;
        let lists = self.host.crm_lists().await?;
        let reasons = settings.crm_problems(&fields, &lists);
        if !reasons.is_empty() {
            return Err(PluginError::invalid_settings(reasons));
        }
        let stored = serde_json::to_value(&settings).map_err(|e| PluginError::internal(e.to_string()))?;
        let put = Map::from_iter([(SETTINGS_KEY.to_string(), stored)]);
        self.host.storage_write(&put, &[]).await?;
        let mut fields = Map::new();
        fields.insert("spokes".into(), Value::from(settings.spokes.len()));
        self.host.log(LogLevel::Info, "settings saved", &fields);
        Ok(settings)
    }

    /// The state of each spoke; unusable stored settings are reported, not thrown, so
    /// the tab can still show the problem.
    pub async fn status(&self) -> PluginResult<PluginStatus> {
        let (settings, settings_problem) = match self.get_settings().await {
            Ok(s) => (s, None),
            Err(e) if matches!(e.code, ErrorCode::InvalidSettings | ErrorCode::Storage) => {
                (Settings::default(), Some(SettingsProblem { code: e.code, message: e.message }))
            }
            Err(e) => return Err(e),
        };
        let mut spokes = Vec::with_capacity(settings.spokes.len());
        for spoke in &settings.spokes {
            spokes.push(self.status_of(&settings, spoke).await);
        }
        Ok(PluginStatus { running: self.running.get() > 0, spokes, settings_problem })
    }

    /// The status of one configured spoke (what `connect` and `testConnection` resolve).
    pub async fn spoke_status(&self, spoke_id: &str) -> PluginResult<SpokeStatus> {
        let settings = self.get_settings().await?;
        let spoke = connectors::find_spoke(&settings, spoke_id, None)?;
        Ok(self.status_of(&settings, &spoke).await)
    }

    /// Remembers when a spoke was connected and as which account (when known): a run
    /// that failed on auth before this connection no longer marks the spoke in error.
    pub async fn remember_account(&self, spoke_id: &str, account: Option<&str>) -> PluginResult<()> {
        let record = serde_json::json!({ "account": account, "connectedAtMs": self.host.now_ms() });
        self.host.storage_write(&Map::from_iter([(account_key(spoke_id), record)]), &[]).await
    }

    /// Connects a Google spoke and remembers the account: the broker's name when it
    /// gives one, otherwise the e-mail of the connected profile (`people/me`, one cheap
    /// request; left unknown when it fails, as the connection itself succeeded).
    pub async fn connect_google(&self, spoke_id: &str, redirect_uri: &str) -> PluginResult<SpokeStatus> {
        let account = match connector::connect(&self.host, spoke_id, redirect_uri).await? {
            Some(a) => Some(a),
            None => self.own_email(spoke_id).await,
        };
        self.remember_account(spoke_id, account.as_deref()).await?;
        self.spoke_status(spoke_id).await
    }

    /// Connects a saved CardDAV spoke with `password` (empty: the stored one): runs
    /// discovery, stores the password only when it worked, remembers the connection time
    /// (older auth failures no longer show) and resolves the account's address books.
    ///
    /// ```no_run
    /// # async fn demo(core: &contact_sync::plugin_core::PluginCore<contact_sync::host::MemoryHost>) {
    /// let connected = core.connect_carddav("dav", "app-password").await.unwrap();
    /// assert!(!connected.address_books.is_empty());
    /// # }
    /// ```
    pub async fn connect_carddav(&self, spoke_id: &str, password: &str) -> PluginResult<carddav::Connected> {
        let address_books = carddav::connect(&self.host, spoke_id, password).await?;
        let settings = self.get_settings().await?;
        let account = settings.spokes.iter().find(|s| s.id == spoke_id).and_then(carddav::account);
        self.remember_account(spoke_id, account.as_deref()).await?;
        Ok(carddav::Connected { address_books })
    }

    /// Tests a spoke's connection; a failure resolves as the spoke's `error` state with
    /// the problem and its remedy (what the tab shows), not as a rejection.
    pub async fn test_connection(&self, spoke_id: &str) -> PluginResult<SpokeStatus> {
        let tested = connectors::test_connection(&self.host, spoke_id).await;
        let mut status = self.spoke_status(spoke_id).await?;
        if let Err(e) = tested {
            if e.code == ErrorCode::BadInput {
                return Err(e);
            }
            status.state = SpokeState::Error;
            status.problem = Some(Problem { code: e.code, message: e.message, remedy: e.remedy });
        }
        Ok(status)
    }

    async fn own_email(&self, spoke_id: &str) -> Option<String> {
        use crate::providers::google::{client::GoogleSpoke, pacing::Quota, protocol};
        let settings = self.get_settings().await.ok()?;
        let spoke = settings.spokes.iter().find(|s| s.id == spoke_id)?;
        let mut client = GoogleSpoke::new(&self.host, connector::auth_of(spoke), Quota::default());
        let response = client.send(&protocol::own_profile()).await.ok()?;
        let person: Value = serde_json::from_str(&response.body).ok()?;
        let emails = person.get("emailAddresses")?.as_array()?;
        let primary = emails
            .iter()
            .find(|e| e.pointer("/metadata/primary").and_then(Value::as_bool) == Some(true))
            .or_else(|| emails.first())?;
        primary.get("value")?.as_str().map(str::to_string)
    }

    /// Marks a run as in progress (`PluginStatus.running`) until the guard is dropped,
    /// so an early return or error cannot leave the flag set.
    pub fn running_guard(&self) -> RunningGuard<'_> {
        self.running.set(self.running.get() + 1);
        RunningGuard(&self.running)
    }

    /// A spoke's status. Failures reading it become the spoke's `problem` (state
    /// `error`) instead of failing the whole status, so other spokes still show.
    async fn status_of(&self, settings: &Settings, spoke: &SpokeSettings) -> SpokeStatus {
        let mut out = SpokeStatus {
            id: spoke.id.clone(),
            kind: spoke.kind,
            name: spoke.name.clone(),
            state: SpokeState::Disconnected,
            account: None,
            last_run: None,
            last_success_at: None,
            next_run_at: None,
            problem: None,
            linked: 0,
        };
        let mut shared = match connectors::status(&self.host, spoke).await {
            Ok(g) => g,
            Err(e) => {
                out.state = SpokeState::Error;
                out.problem = Some(Problem { code: e.code, message: e.message, remedy: e.remedy });
                return out;
            }
        };
        let key = account_key(&spoke.id);
        let connection = self.host.storage_get(std::slice::from_ref(&key)).await.ok().and_then(|mut got| got.remove(&key));
        let connected_at = connection.as_ref().and_then(|c| c.get("connectedAtMs")).and_then(Value::as_f64);
        // An auth failure of a run older than the latest connection is resolved.
        let run_before_connection = shared.last_run.as_ref().is_some_and(|run| {
            let finished = chrono::DateTime::parse_from_rfc3339(&run.finished_at).ok().map(|t| t.timestamp_millis() as f64);
            matches!((finished, connected_at), (Some(f), Some(c)) if f <= c)
        });
        if run_before_connection && shared.connected {
            shared.problem = None;
        }
        out.linked = shared.linked;
        out.last_success_at = shared.last_success_at;
        out.state = match (&shared.problem, shared.connected) {
            (Some(_), _) => SpokeState::Error,
            (None, true) => SpokeState::Connected,
            (None, false) => SpokeState::Disconnected,
        };
        out.problem = shared.problem.map(|(code, message, remedy)| Problem { code, message, remedy });
        if let Some(run) = &shared.last_run {
            out.last_run = serde_json::to_value(run).ok();
            // The host's scheduler runs every `intervalMinutes` while sync is enabled.
            if settings.sync_enabled && out.state == SpokeState::Connected {
                if let Ok(manifest) = Manifest::bundled() {
                    out.next_run_at = iso_plus_minutes(&run.finished_at, manifest.schedule.interval_minutes);
                }
            }
        }
        if shared.connected {
            out.account = connectors::known_account(spoke)
                .or_else(|| connection.as_ref().and_then(|c| c.get("account")).and_then(Value::as_str).map(str::to_string));
        }
        out
    }

    /// The mapping editor's catalogue: the CRM's fields, the canonical address-book
    /// fields and the default rows.
    pub async fn field_catalogue(&self) -> PluginResult<FieldCatalogue> {
        let crm = self.host.crm_field_schema().await?;
        Ok(FieldCatalogue { crm, remote: mapping::CATALOGUE.to_vec(), defaults: mapping::default_mapping() })
    }

    /// Records a host event (`HostEvent`); malformed events fail with BAD_INPUT.
    pub async fn handle_event(&self, value: &Value) -> PluginResult<()> {
        let event: HostEvent = serde_json::from_value(value.clone())
            .map_err(|e| PluginError::bad_input(format!("Not a host event: {e}")))?;
        if let Some(id) = event.contact_id() {
            if id.is_empty() {
                return Err(PluginError::bad_input("A contact event needs a contactId."));
            }
        }
        let now = self.host.now_ms();
        let mut pending = self.pending.borrow_mut();
        match &event {
            HostEvent::CrmOpened => pending.crm_opened = true,
            other => {
                if let Some(id) = other.contact_id() {
                    pending.contact_ids.insert(id.to_string());
                }
            }
        }
        pending.first_at_ms.get_or_insert(now);
        pending.last_at_ms = Some(now);
        Ok(())
    }

    /// Records the operator's decision about a match waiting in spoke `spoke_id`
    /// (`resolveMatch`: link to a candidate, create new, refuse a possible match, ignore,
    /// un-ignore). It is queued, not applied here: the spoke's next run applies it under
    /// its lease (a run the tab starts right after applies it at once, a preview shows its
    /// effect). BAD_INPUT for an unknown spoke or a malformed decision.
    ///
    /// ```no_run
    /// # async fn demo(core: &contact_sync::plugin_core::PluginCore<contact_sync::host::MemoryHost>) {
    /// let decision = serde_json::json!({"action": "link", "crmId": "c1", "remoteId": "people/c7"});
    /// core.resolve_match("g1", &decision).await.unwrap();
    /// # }
    /// ```
    pub async fn resolve_match(&self, spoke_id: &str, decision: &Value) -> PluginResult<()> {
        let settings = self.get_settings().await?;
        connectors::find_spoke(&settings, spoke_id, None)?;
        let remedy = "Send {action: \"link\", crmId, remoteId}, {action: \"refuse\", crmId, remoteId}, or {action: \"createNew\" | \"ignore\" | \"unignore\", side: \"crm\" | \"remote\", id}.";
        let parsed = Decision::from_json(decision).map_err(|why| PluginError::bad_input(format!("Not a match decision: {why}.")).with_remedy(remedy))?;
        crate::match_decisions::queue(&self.host, spoke_id, parsed).await
    }

    /// The events recorded so far, without removing them.
    pub fn pending_events(&self) -> PendingEvents {
        self.pending.borrow().clone()
    }

    /// Takes the recorded events (a run that handles them calls this).
    pub fn take_pending_events(&self) -> PendingEvents {
        std::mem::take(&mut *self.pending.borrow_mut())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::MemoryHost;
    use pollster::block_on;
    use serde_json::json;

    #[test]
    fn settings_default_until_saved_then_round_trip() {
        let core = PluginCore::new(MemoryHost::new());
        assert_eq!(block_on(core.get_settings()).unwrap(), Settings::default());
        let mut v = serde_json::to_value(Settings::default()).unwrap();
        v["sync.onOpen"] = json!(false);
        v["spokes"] = json!([{"id": "g1", "kind": "google", "name": "Work", "allowCreate": true}]);
        let saved = block_on(core.save_settings(&v)).unwrap();
        assert!(!saved.sync_on_open);
        assert_eq!(block_on(core.get_settings()).unwrap(), saved);
        let status = block_on(core.status()).unwrap();
        assert_eq!(status.spokes.len(), 1);
        assert_eq!(status.spokes[0].state, SpokeState::Disconnected);
    }

    fn google_core() -> PluginCore<MemoryHost> {
        let core = PluginCore::new(MemoryHost::new());
        let mut v = serde_json::to_value(Settings::default()).unwrap();
        v["spokes"] = json!([{"id": "g1", "kind": "google", "name": "Work", "allowCreate": true, "clientId": "cid"}]);
        block_on(core.save_settings(&v)).unwrap();
        core
    }

    fn failed_run(finished_at: &str) -> crate::runner::RunReport {
        serde_json::from_value(json!({
            "runId": "r1", "spokeId": "g1", "trigger": "manual", "dryRun": false,
            "startedAt": finished_at, "finishedAt": finished_at, "outcome": "failed",
            "counts": {"crm": {"created": 0, "updated": 0, "deleted": 0}, "remote": {"created": 0, "updated": 0, "deleted": 0},
                "linkedByEmail": 0, "linkedByPhone": 0, "linkedById": 0, "conflicts": 0, "ambiguous": 0, "unchanged": 0, "skippedByFilter": 0},
            "conflicts": [], "ambiguities": [], "samples": [], "notices": [],
            "errors": [{"code": "AUTH_EXPIRED", "message": "expired", "remedy": "Reconnect."}],
            "undoable": false, "more": false
        }))
        .unwrap()
    }

    #[test]
    fn a_google_spoke_reads_connected_with_its_account_once_tokens_are_held() {
        let core = google_core();
        assert_eq!(block_on(core.spoke_status("g1")).unwrap().state, SpokeState::Disconnected);
        block_on(core.host().secret_set("google.g1.refreshToken", "r")).unwrap();
        block_on(core.remember_account("g1", Some("ada@example.com"))).unwrap();
        let status = block_on(core.status()).unwrap();
        assert_eq!(status.spokes[0].state, SpokeState::Connected);
        assert_eq!(status.spokes[0].account.as_deref(), Some("ada@example.com"));
        assert_eq!(block_on(core.spoke_status("nope")).unwrap_err().code, ErrorCode::BadInput);
    }

    #[test]
    fn an_auth_failure_shows_as_error_until_the_spoke_is_connected_again() {
        let core = google_core();
        block_on(core.host().secret_set("google.g1.refreshToken", "r")).unwrap();
        let report = failed_run("2020-01-01T00:00:00.000Z");
        block_on(crate::runner::record_run(core.host(), &report, &crate::engine::journal::Journal::default())).unwrap();
        let status = block_on(core.spoke_status("g1")).unwrap();
        assert_eq!(status.state, SpokeState::Error);
        assert_eq!(status.problem.unwrap().code, ErrorCode::AuthExpired);
        assert!(status.last_run.is_some());
        block_on(core.remember_account("g1", None)).unwrap();
        let status = block_on(core.spoke_status("g1")).unwrap();
        assert_eq!(status.state, SpokeState::Connected, "{status:?}");
        assert!(status.problem.is_none());
        let expected = Settings::default().sync_enabled.then(|| "2020-01-01T00:15:00.000Z".to_string());
        assert_eq!(status.next_run_at, expected, "the host's schedule after the last run");
    }

    #[test]
    fn the_field_catalogue_lists_crm_fields_remote_fields_and_defaults() {
        let core = PluginCore::new(MemoryHost::new());
        let catalogue = block_on(core.field_catalogue()).unwrap();
        assert_eq!(catalogue.crm, block_on(core.host().crm_field_schema()).unwrap());
        assert!(catalogue.remote.iter().any(|f| f.id == "name.given"));
        assert_eq!(catalogue.defaults, mapping::default_mapping());
        assert!(!catalogue.crm.is_empty());
    }

    #[test]
    fn next_run_is_one_interval_after_the_last_run() {
        assert_eq!(iso_plus_minutes("2026-01-01T10:00:00.000Z", 15).as_deref(), Some("2026-01-01T10:15:00.000Z"));
        assert_eq!(iso_plus_minutes("yesterday", 15), None);
    }

    #[test]
    fn invalid_settings_are_not_saved() {
        let core = PluginCore::new(MemoryHost::new());
        let mut v = serde_json::to_value(Settings::default()).unwrap();
        v["mapping.fields"] = json!([{"crmField": "shoeSize", "remoteField": "x", "direction": "both", "priority": "crm", "fillEmpty": false}]);
        let err = block_on(core.save_settings(&v)).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidSettings);
        assert!(err.reasons[0].contains("shoeSize"), "{:?}", err.reasons);
        assert!(core.host().storage_snapshot().is_empty());
    }

    #[test]
    fn broken_stored_settings_show_as_a_problem_in_status() {
        let host = MemoryHost::new();
        block_on(host.storage_write(&Map::from_iter([(SETTINGS_KEY.into(), json!({"sync.enabled": 3}))]), &[])).unwrap();
        let core = PluginCore::new(host);
        assert_eq!(block_on(core.get_settings()).unwrap_err().code, ErrorCode::InvalidSettings);
        let status = block_on(core.status()).unwrap();
        assert_eq!(status.settings_problem.unwrap().code, ErrorCode::InvalidSettings);
    }

    #[test]
    fn a_storage_failure_while_saving_is_reported() {
        let host = MemoryHost::new();
        host.fail_next("storage.write", PluginError::new(ErrorCode::Storage, "quota exceeded"));
        let core = PluginCore::new(host);
        let v = serde_json::to_value(Settings::default()).unwrap();
        assert_eq!(block_on(core.save_settings(&v)).unwrap_err().code, ErrorCode::Storage);
        assert!(block_on(core.save_settings(&v)).is_ok());
    }

    #[test]
    fn a_match_decision_is_queued_for_the_next_run_and_a_malformed_one_refused() {
        let core = google_core();
        let link = json!({"action": "link", "crmId": "c1", "remoteId": "people/c7"});
        block_on(core.resolve_match("g1", &link)).unwrap();
        let queued = block_on(crate::match_decisions::queued(core.host(), "g1")).unwrap();
        assert_eq!(queued.len(), 1);
        assert_eq!(queued[0].decision.to_json(), link);
        for bad in [json!(null), json!({"action": "link", "crmId": "c1"}), json!({"action": "merge", "crmId": "c1", "remoteId": "r"}), json!({"action": "ignore", "side": "crm", "id": ""}), json!({"action": "ignore", "side": "both", "id": "c1"})] {
            let err = block_on(core.resolve_match("g1", &bad)).unwrap_err();
            assert_eq!(err.code, ErrorCode::BadInput, "{bad}");
            assert!(!err.remedy.is_empty());
        }
        assert_eq!(block_on(core.resolve_match("nope", &link)).unwrap_err().code, ErrorCode::BadInput);
        assert_eq!(block_on(crate::match_decisions::queued(core.host(), "g1")).unwrap().len(), 1, "nothing else queued");
    }

    #[test]
    fn events_are_recorded_and_malformed_ones_refused() {
        let core = PluginCore::new(MemoryHost::new());
        block_on(core.handle_event(&json!({"type": "contact.updated", "contactId": "c1"}))).unwrap();
        block_on(core.handle_event(&json!({"type": "contact.deleted", "contactId": "c2"}))).unwrap();
        block_on(core.handle_event(&json!({"type": "contact.updated", "contactId": "c1"}))).unwrap();
        block_on(core.handle_event(&json!({"type": "crm.opened"}))).unwrap();
        for bad in [json!(null), json!({"type": "contact.updated"}), json!({"type": "boom"}), json!({"type": "contact.created", "contactId": ""})] {
            assert_eq!(block_on(core.handle_event(&bad)).unwrap_err().code, ErrorCode::BadInput, "{bad}");
        }
        let pending = core.take_pending_events();
        assert_eq!(pending.contact_ids.into_iter().collect::<Vec<_>>(), vec!["c1", "c2"]);
        assert!(pending.crm_opened);
        assert_eq!(core.pending_events(), PendingEvents::default());
    }
}
