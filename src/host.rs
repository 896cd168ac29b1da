//! The I/O seam: everything the plugin needs from its host (`PluginHost` in
//! `www/plugin/host-api.d.ts`), as an async trait the core is generic over.
//!
//! In the browser and in Node the implementation is `wasm::JsHost`, which calls the JS
//! object the shim hands over. Native tests use [`MemoryHost`], an in-memory host with
//! the same semantics as a real one — versions and CONFLICT on stale updates, tombstones
//! in incremental listings, atomic writes, compare-and-set — plus failure injection.
//! The futures are not `Send`: wasm is single-threaded and the JS host is not shareable.

use crate::crm::{CrmContact, CrmFieldSchema, CrmList, CrmPage, CrmPatch, CrmUser, NewCrmContact};
use crate::error::{ErrorCode, PluginError, PluginResult};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// An HTTP request, sent by the shim after its allowlist check.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRequest {
    /// Upper-case method, e.g. `GET`.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Header name → value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Request body (text: JSON, form or XML).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// How the host hands the response body back: text (the default) or base64 of the
    /// raw bytes (images).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_encoding: Option<ResponseEncoding>,
}

/// `HttpRequest.responseEncoding`: how the response body is returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResponseEncoding {
    /// The body decoded as UTF-8 text.
    Text,
    /// The raw body bytes, base64 (standard alphabet, padded).
    Base64,
}

/// An HTTP response with its whole body read.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header name (lower case) → value.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Body text.
    #[serde(default)]
    pub body: String,
}

/// Log levels of `host.log`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Details for developers.
    Debug,
    /// Normal progress.
    Info,
    /// Something an operator may want to know.
    Warn,
    /// A failure.
    Error,
}

/// Levels of `host.ui.notify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyLevel {
    /// Information.
    Info,
    /// Warning.
    Warning,
    /// Error.
    Error,
}

/// An event the host delivers (`HostEvent`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum HostEvent {
    /// A contact was created in the CRM.
    #[serde(rename = "contact.created", rename_all = "camelCase")]
    ContactCreated {
        /// The contact.
        contact_id: String,
    },
    /// A contact changed in the CRM.
    #[serde(rename = "contact.updated", rename_all = "camelCase")]
    ContactUpdated {
        /// The contact.
        contact_id: String,
    },
    /// A contact was deleted in the CRM.
    #[serde(rename = "contact.deleted", rename_all = "camelCase")]
    ContactDeleted {
        /// The contact.
        contact_id: String,
    },
    /// The CRM was opened.
    #[serde(rename = "crm.opened")]
    CrmOpened,
}

impl HostEvent {
    /// The contact concerned, if any.
    pub fn contact_id(&self) -> Option<&str> {
        match self {
            HostEvent::ContactCreated { contact_id }
            | HostEvent::ContactUpdated { contact_id }
            | HostEvent::ContactDeleted { contact_id } => Some(contact_id),
            HostEvent::CrmOpened => None,
        }
    }
}

/// Tokens returned by a host's OAuth broker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthGrant {
    /// Bearer token.
    pub access_token: String,
    /// Refresh token, when the broker hands it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Expiry, milliseconds since the epoch.
    pub expires_at: f64,
    /// The account's address, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

/// What the plugin needs from its host. Mirrors `PluginHost` in host-api.d.ts; every
/// failure is a [`PluginError`] with the code the host gave (CONFLICT, NOT_FOUND, …).
#[allow(async_fn_in_trait)]
pub trait Host {
    /// Reads keys; a missing key is absent from the map.
    async fn storage_get(&self, keys: &[String]) -> PluginResult<Map<String, Value>>;
    /// Atomic: every put and delete happens, or none does.
    async fn storage_write(&self, put: &Map<String, Value>, delete: &[String]) -> PluginResult<()>;
    /// Writes `value` (None deletes) only if the current value equals `expected`
    /// (None = absent). Returns whether it wrote.
    async fn storage_compare_and_set(&self, key: &str, expected: Option<&Value>, value: Option<&Value>) -> PluginResult<bool>;
    /// Keys starting with `prefix`.
    async fn storage_list(&self, prefix: &str) -> PluginResult<Vec<String>>;

    /// A secret, or None.
    async fn secret_get(&self, name: &str) -> PluginResult<Option<String>>;
    /// Stores a secret.
    async fn secret_set(&self, name: &str, value: &str) -> PluginResult<()>;
    /// Forgets a secret.
    async fn secret_delete(&self, name: &str) -> PluginResult<()>;

    /// `cursor` None: a full listing of live contacts; otherwise changes since the
    /// cursor, deletions as tombstones.
    async fn crm_list_changes(&self, cursor: Option<&str>, limit: u32) -> PluginResult<CrmPage>;
    /// Contacts by id; unknown ids are left out.
    async fn crm_get(&self, ids: &[String]) -> PluginResult<Vec<CrmContact>>;
    /// Creates a contact.
    async fn crm_create(&self, contact: &NewCrmContact) -> PluginResult<CrmContact>;
    /// Updates a contact computed against `expected_version`; CONFLICT when stale.
    async fn crm_update(&self, id: &str, expected_version: u64, patch: &CrmPatch) -> PluginResult<CrmContact>;
    /// Deletes a contact; CONFLICT when stale, NOT_FOUND when gone.
    async fn crm_delete(&self, id: &str, expected_version: u64) -> PluginResult<()>;
    /// The CRM's lists.
    async fn crm_lists(&self) -> PluginResult<Vec<CrmList>>;
    /// Creates a list.
    async fn crm_create_list(&self, name: &str) -> PluginResult<CrmList>;
    /// Known tag names.
    async fn crm_tags(&self) -> PluginResult<Vec<String>>;
    /// The CRM's contact fields.
    async fn crm_field_schema(&self) -> PluginResult<Vec<CrmFieldSchema>>;
    /// CRM users (owners).
    async fn crm_users(&self) -> PluginResult<Vec<CrmUser>>;
    /// The signed-in user.
    async fn crm_current_user(&self) -> PluginResult<CrmUser>;

    /// The operator's locale, e.g. `fr-FR`.
    fn locale(&self) -> String;
    /// Sends a request (allowlist already enforced by the shim: NOT_ALLOWED_HOST).
    async fn fetch(&self, request: &HttpRequest) -> PluginResult<HttpResponse>;
    /// Whether the host activated the plugin in development mode (`PluginHost.devMode`):
    /// development hosts are reachable and private servers need no operator's choice.
    fn dev_mode(&self) -> bool {
        false
    }
    /// Whether the host brokers OAuth for providers.
    fn has_oauth_broker(&self) -> bool;
    /// Asks the host's broker for tokens (NOT_CONNECTED when there is no broker).
    async fn oauth_authorize(&self, provider: &str, scopes: &[String]) -> PluginResult<OAuthGrant>;
    /// Asks the host's broker to refresh a token.
    async fn oauth_refresh(&self, provider: &str, refresh_token: &str) -> PluginResult<OAuthGrant>;
    /// Shows a message to the operator.
    fn notify(&self, level: NotifyLevel, message: &str);
    /// Opens a consent page; resolves with the final redirect URL.
    async fn open_auth_window(&self, url: &str, redirect_uri: &str) -> PluginResult<String>;
    /// Structured log; callers never pass secrets.
    fn log(&self, level: LogLevel, message: &str, fields: &Map<String, Value>);
    /// Milliseconds since the epoch (the core never reads a clock itself).
    fn now_ms(&self) -> f64;
    /// Waits `ms` milliseconds.
    async fn sleep(&self, ms: u32);
    /// Cryptographically random bytes.
    fn random_bytes(&self, len: usize) -> PluginResult<Vec<u8>>;
}

/// A fetch handler a test installs on [`MemoryHost`].
pub type FetchHandler = Box<dyn Fn(&HttpRequest) -> PluginResult<HttpResponse>>;

/// A record in [`MemoryHost`]'s CRM: the contact and the change sequence of its last
/// change (which orders incremental listings).
#[derive(Debug, Clone)]
struct StoredContact {
    contact: CrmContact,
    seq: u64,
}

#[derive(Default)]
struct MemoryState {
    storage: BTreeMap<String, Value>,
    secrets: BTreeMap<String, String>,
    contacts: BTreeMap<String, StoredContact>,
    seq: u64,
    next_id: u64,
    lists: Vec<CrmList>,
    tags: BTreeSet<String>,
    fields: Vec<CrmFieldSchema>,
    users: Vec<CrmUser>,
    failures: BTreeMap<String, VecDeque<PluginError>>,
    logs: Vec<LogEntry>,
    notices: Vec<(NotifyLevel, String)>,
    requests: Vec<HttpRequest>,
    calls: Vec<String>,
}

/// A line `MemoryHost` logged.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    /// Level.
    pub level: LogLevel,
    /// Message.
    pub message: String,
    /// Structured fields.
    pub fields: Map<String, Value>,
}

/// An in-memory host with a real host's semantics, for native tests of the runner.
///
/// Time is virtual: [`Host::now_ms`] reads a clock that [`Host::sleep`] and
/// [`MemoryHost::advance`] move forward, so tests of backoff run instantly. Random bytes
/// come from a seeded generator (reproducible, not cryptographic: tests only).
///
/// ```
/// use contact_sync::host::{Host, MemoryHost};
/// use contact_sync::crm::NewCrmContact;
/// let host = MemoryHost::new();
/// let c = pollster::block_on(host.crm_create(&NewCrmContact::default())).unwrap();
/// assert_eq!(c.version, 1);
/// ```
pub struct MemoryHost {
    state: RefCell<MemoryState>,
    clock_ms: Cell<f64>,
    rng: Cell<u64>,
    locale: RefCell<String>,
    fetch: RefCell<Option<FetchHandler>>,
    oauth: RefCell<Option<OAuthGrant>>,
    auth_redirect: RefCell<Option<Box<dyn Fn(&str, &str) -> PluginResult<String>>>>,
    dev_mode: Cell<bool>,
}

impl Default for MemoryHost {
    fn default() -> Self {
        MemoryHost::new()
    }
}

/// The CRM fields a plain CRM offers (those of `CrmFields` in host-api.d.ts).
pub fn standard_field_schema() -> Vec<CrmFieldSchema> {
    use crate::crm::CrmFieldType as T;
    let f = |id: &str, label: &str, t: T| CrmFieldSchema {
        id: id.to_string(),
        label: label.to_string(),
        field_type: t,
        custom: false,
        read_only: false,
    };
    vec![
        f("firstName", "First name", T::Text),
        f("lastName", "Last name", T::Text),
        f("middleName", "Middle name", T::Text),
        f("prefix", "Prefix", T::Text),
        f("suffix", "Suffix", T::Text),
        f("company", "Company", T::Text),
        f("jobTitle", "Job title", T::Text),
        f("department", "Department", T::Text),
        f("emails", "E-mails", T::EmailList),
        f("phones", "Phones", T::PhoneList),
        f("addresses", "Addresses", T::AddressList),
        f("notes", "Notes", T::Longtext),
        f("birthday", "Birthday", T::Date),
        f("website", "Website", T::Url),
        f("doNotContact", "Do not contact", T::Boolean),
        f("owner", "Owner", T::User),
    ]
}

impl MemoryHost {
    /// An empty CRM with the standard field schema, one user, locale `en-GB`, clock at
    /// 2026-01-01T00:00:00Z.
    pub fn new() -> Self {
        let state = MemoryState {
            fields: standard_field_schema(),
            users: vec![CrmUser { id: "u1".into(), name: "Ada Admin".into(), email: Some("ada@example.com".into()) }],
            next_id: 1,
            ..MemoryState::default()
        };
        MemoryHost {
            state: RefCell::new(state),
            clock_ms: Cell::new(1_767_225_600_000.0),
            rng: Cell::new(0x9E37_79B9_7F4A_7C15),
            locale: RefCell::new("en-GB".into()),
            fetch: RefCell::new(None),
            oauth: RefCell::new(None),
            auth_redirect: RefCell::new(None),
            dev_mode: Cell::new(false),
        }
    }

    /// Activates the plugin in development mode or not ([`Host::dev_mode`], false at first).
    pub fn set_dev_mode(&self, on: bool) {
        self.dev_mode.set(on);
    }

    /// Makes the next call(s) of `operation` fail with `error`, in order. Operation
    /// names are the contract's: `storage.write`, `crm.update`, `fetch`, ….
    pub fn fail_next(&self, operation: &str, error: PluginError) {
        self.state.borrow_mut().failures.entry(operation.to_string()).or_default().push_back(error);
    }

    /// Installs the handler `fetch` calls (by default fetch fails with NETWORK).
    pub fn set_fetch(&self, handler: impl Fn(&HttpRequest) -> PluginResult<HttpResponse> + 'static) {
        *self.fetch.borrow_mut() = Some(Box::new(handler));
    }

    /// Makes the host an OAuth broker answering with `grant`.
    pub fn set_oauth_broker(&self, grant: OAuthGrant) {
        *self.oauth.borrow_mut() = Some(grant);
    }

    /// Installs what `open_auth_window` answers (by default it fails with AUTH_DENIED).
    pub fn set_auth_window(&self, handler: impl Fn(&str, &str) -> PluginResult<String> + 'static) {
        *self.auth_redirect.borrow_mut() = Some(Box::new(handler));
    }

    /// Sets the operator's locale.
    pub fn set_locale(&self, locale: &str) {
        *self.locale.borrow_mut() = locale.to_string();
    }

    /// Replaces the CRM's field schema (e.g. to add custom or read-only fields).
    pub fn set_field_schema(&self, fields: Vec<CrmFieldSchema>) {
        self.state.borrow_mut().fields = fields;
    }

    /// Moves the virtual clock forward.
    pub fn advance(&self, ms: f64) {
        self.clock_ms.set(self.clock_ms.get() + ms);
    }

    /// Everything logged so far.
    pub fn logs(&self) -> Vec<LogEntry> {
        self.state.borrow().logs.clone()
    }

    /// Notifications shown so far.
    pub fn notices(&self) -> Vec<(NotifyLevel, String)> {
        self.state.borrow().notices.clone()
    }

    /// Requests passed to `fetch`, in order.
    pub fn requests(&self) -> Vec<HttpRequest> {
        self.state.borrow().requests.clone()
    }

    /// Names of the host operations called, in order (e.g. to assert a run wrote once).
    pub fn calls(&self) -> Vec<String> {
        self.state.borrow().calls.clone()
    }

    /// The whole storage, to assert on what a run persisted (and that no secret is in it).
    pub fn storage_snapshot(&self) -> BTreeMap<String, Value> {
        self.state.borrow().storage.clone()
    }

    /// The secrets store.
    pub fn secrets_snapshot(&self) -> BTreeMap<String, String> {
        self.state.borrow().secrets.clone()
    }

    /// Live contacts, by id.
    pub fn live_contacts(&self) -> Vec<CrmContact> {
        self.state
            .borrow()
            .contacts
            .values()
            .filter(|s| !s.contact.deleted)
            .map(|s| s.contact.clone())
            .collect()
    }

    /// Records the call and returns an injected failure, if one is queued.
    fn enter(&self, operation: &str) -> PluginResult<()> {
        let mut state = self.state.borrow_mut();
        state.calls.push(operation.to_string());
        match state.failures.get_mut(operation).and_then(VecDeque::pop_front) {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    fn timestamp(&self) -> String {
        let ms = self.clock_ms.get() as i64;
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default()
    }

    fn check_lists(state: &MemoryState, lists: &[String]) -> PluginResult<()> {
        let unknown: Vec<&String> = lists.iter().filter(|id| !state.lists.iter().any(|l| &l.id == *id)).collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(PluginError::bad_input(format!("Unknown list ids: {unknown:?}")))
        }
    }

    fn next_random(&self) -> u64 {
        // xorshift64*: reproducible test randomness.
        let mut x = self.rng.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn parse_cursor(cursor: &str, current: u64) -> PluginResult<u64> {
    match cursor.parse::<u64>() {
        Ok(n) if n <= current => Ok(n),
        _ => Err(PluginError::bad_input("The CRM does not know this cursor.")
            .with_remedy("List again from the start (cursor null).")),
    }
}

impl Host for MemoryHost {
    async fn storage_get(&self, keys: &[String]) -> PluginResult<Map<String, Value>> {
        self.enter("storage.get")?;
        let state = self.state.borrow();
        Ok(keys
            .iter()
            .filter_map(|k| state.storage.get(k).map(|v| (k.clone(), v.clone())))
            .collect())
    }

    async fn storage_write(&self, put: &Map<String, Value>, delete: &[String]) -> PluginResult<()> {
        // An injected failure happens before any change: the write is all-or-nothing.
        self.enter("storage.write")?;
        let mut state = self.state.borrow_mut();
        for key in delete {
            state.storage.remove(key);
        }
        for (key, value) in put {
            state.storage.insert(key.clone(), value.clone());
        }
        Ok(())
    }

    async fn storage_compare_and_set(&self, key: &str, expected: Option<&Value>, value: Option<&Value>) -> PluginResult<bool> {
        self.enter("storage.compareAndSet")?;
        let mut state = self.state.borrow_mut();
        if state.storage.get(key) != expected {
            return Ok(false);
        }
        match value {
            Some(v) => state.storage.insert(key.to_string(), v.clone()),
            None => state.storage.remove(key),
        };
        Ok(true)
    }

    async fn storage_list(&self, prefix: &str) -> PluginResult<Vec<String>> {
        self.enter("storage.list")?;
        Ok(self.state.borrow().storage.keys().filter(|k| k.starts_with(prefix)).cloned().collect())
    }

    async fn secret_get(&self, name: &str) -> PluginResult<Option<String>> {
        self.enter("secrets.get")?;
        Ok(self.state.borrow().secrets.get(name).cloned())
    }

    async fn secret_set(&self, name: &str, value: &str) -> PluginResult<()> {
        self.enter("secrets.set")?;
        self.state.borrow_mut().secrets.insert(name.to_string(), value.to_string());
        Ok(())
    }

    async fn secret_delete(&self, name: &str) -> PluginResult<()> {
        self.enter("secrets.delete")?;
        self.state.borrow_mut().secrets.remove(name);
        Ok(())
    }

    async fn crm_list_changes(&self, cursor: Option<&str>, limit: u32) -> PluginResult<CrmPage> {
        self.enter("crm.listChanges")?;
        if limit == 0 {
            return Err(PluginError::bad_input("listChanges needs a limit of at least 1."));
        }
        let state = self.state.borrow();
        let (after, full) = match cursor {
            None => (0, true),
            Some(c) => (parse_cursor(c, state.seq)?, false),
        };
        let mut changed: Vec<&StoredContact> = state
            .contacts
            .values()
            .filter(|s| s.seq > after && !(full && s.contact.deleted))
            .collect();
        changed.sort_by_key(|s| s.seq);
        let has_more = changed.len() > limit as usize;
        changed.truncate(limit as usize);
        // The last page hands over the cursor of everything seen so far; a middle page
        // continues after its last item (continuations include tombstones).
        let next_cursor = match (has_more, changed.last()) {
            (true, Some(last)) => last.seq,
            _ => state.seq,
        };
        Ok(CrmPage {
            contacts: changed.into_iter().map(|s| s.contact.clone()).collect(),
            next_cursor: next_cursor.to_string(),
            has_more,
        })
    }

    async fn crm_get(&self, ids: &[String]) -> PluginResult<Vec<CrmContact>> {
        self.enter("crm.get")?;
        let state = self.state.borrow();
        Ok(ids
            .iter()
            .filter_map(|id| state.contacts.get(id))
            .filter(|s| !s.contact.deleted)
            .map(|s| s.contact.clone())
            .collect())
    }

    async fn crm_create(&self, contact: &NewCrmContact) -> PluginResult<CrmContact> {
        self.enter("crm.create")?;
        let now = self.timestamp();
        let mut state = self.state.borrow_mut();
        Self::check_lists(&state, &contact.lists)?;
        let id = format!("c{}", state.next_id);
        state.next_id += 1;
        state.seq += 1;
        let seq = state.seq;
        let fields = contact.fields.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect();
        let created = CrmContact {
            id: id.clone(),
            version: 1,
            updated_at: now,
            deleted: false,
            fields,
            lists: contact.lists.clone(),
            tags: contact.tags.clone(),
        };
        state.tags.extend(contact.tags.iter().cloned());
        state.contacts.insert(id, StoredContact { contact: created.clone(), seq });
        Ok(created)
    }

    async fn crm_update(&self, id: &str, expected_version: u64, patch: &CrmPatch) -> PluginResult<CrmContact> {
        self.enter("crm.update")?;
        let now = self.timestamp();
        let mut state = self.state.borrow_mut();
        if let Some(lists) = &patch.lists {
            Self::check_lists(&state, lists)?;
        }
        let next_seq = state.seq + 1;
        let stored = match state.contacts.get_mut(id) {
            Some(s) if !s.contact.deleted => s,
            _ => return Err(PluginError::new(ErrorCode::NotFound, format!("Contact {id} does not exist."))),
        };
        if stored.contact.version != expected_version {
            let current = stored.contact.version;
            return Err(PluginError::new(ErrorCode::Conflict, format!("Contact {id} changed since it was read.")).with_current_version(current));
        }
        let contact = &mut stored.contact;
        if let Some(fields) = &patch.fields {
            for (key, value) in fields {
                // null clears a field.
                if value.is_null() {
                    contact.fields.remove(key);
                } else {
                    contact.fields.insert(key.clone(), value.clone());
                }
            }
        }
        if let Some(lists) = &patch.lists {
            contact.lists = lists.clone();
        }
        if let Some(tags) = &patch.tags {
            contact.tags = tags.clone();
        }
        contact.version += 1;
        contact.updated_at = now;
        stored.seq = next_seq;
        let updated = stored.contact.clone();
        state.seq = next_seq;
        state.tags.extend(updated.tags.iter().cloned());
        Ok(updated)
    }

    async fn crm_delete(&self, id: &str, expected_version: u64) -> PluginResult<()> {
        self.enter("crm.delete")?;
        let now = self.timestamp();
        let mut state = self.state.borrow_mut();
        let next_seq = state.seq + 1;
        let stored = match state.contacts.get_mut(id) {
            Some(s) if !s.contact.deleted => s,
            _ => return Err(PluginError::new(ErrorCode::NotFound, format!("Contact {id} does not exist."))),
        };
        if stored.contact.version != expected_version {
            let current = stored.contact.version;
            return Err(PluginError::new(ErrorCode::Conflict, format!("Contact {id} changed since it was read.")).with_current_version(current));
        }
        // A tombstone keeps only what an incremental listing reports.
        stored.contact = CrmContact {
            id: id.to_string(),
            version: stored.contact.version + 1,
            updated_at: now,
            deleted: true,
            fields: Map::new(),
            lists: Vec::new(),
            tags: Vec::new(),
        };
        stored.seq = next_seq;
        state.seq = next_seq;
        Ok(())
    }

    async fn crm_lists(&self) -> PluginResult<Vec<CrmList>> {
        self.enter("crm.lists")?;
        Ok(self.state.borrow().lists.clone())
    }

    async fn crm_create_list(&self, name: &str) -> PluginResult<CrmList> {
        self.enter("crm.createList")?;
        if name.trim().is_empty() {
            return Err(PluginError::bad_input("A list needs a name."));
        }
        let mut state = self.state.borrow_mut();
        let list = CrmList { id: format!("l{}", state.next_id), name: name.to_string() };
        state.next_id += 1;
        state.lists.push(list.clone());
        Ok(list)
    }

    async fn crm_tags(&self) -> PluginResult<Vec<String>> {
        self.enter("crm.tags")?;
        Ok(self.state.borrow().tags.iter().cloned().collect())
    }

    async fn crm_field_schema(&self) -> PluginResult<Vec<CrmFieldSchema>> {
        self.enter("crm.fieldSchema")?;
        Ok(self.state.borrow().fields.clone())
    }

    async fn crm_users(&self) -> PluginResult<Vec<CrmUser>> {
        self.enter("crm.users")?;
        Ok(self.state.borrow().users.clone())
    }

    async fn crm_current_user(&self) -> PluginResult<CrmUser> {
        self.enter("crm.currentUser")?;
        self.state
            .borrow()
            .users
            .first()
            .cloned()
            .ok_or_else(|| PluginError::new(ErrorCode::NotFound, "No user is signed in."))
    }

    fn locale(&self) -> String {
        self.locale.borrow().clone()
    }

    async fn fetch(&self, request: &HttpRequest) -> PluginResult<HttpResponse> {
        self.state.borrow_mut().requests.push(request.clone());
        self.enter("fetch")?;
        match self.fetch.borrow().as_ref() {
            Some(handler) => handler(request),
            None => Err(PluginError::new(ErrorCode::Network, "This test host has no network.")),
        }
    }

    fn dev_mode(&self) -> bool {
        self.dev_mode.get()
    }

    fn has_oauth_broker(&self) -> bool {
        self.oauth.borrow().is_some()
    }

    async fn oauth_authorize(&self, _provider: &str, _scopes: &[String]) -> PluginResult<OAuthGrant> {
        self.enter("oauth.authorize")?;
        self.oauth
            .borrow()
            .clone()
            .ok_or_else(|| PluginError::new(ErrorCode::NotConnected, "The host does not broker OAuth."))
    }

    async fn oauth_refresh(&self, _provider: &str, _refresh_token: &str) -> PluginResult<OAuthGrant> {
        self.enter("oauth.refresh")?;
        self.oauth
            .borrow()
            .clone()
            .ok_or_else(|| PluginError::new(ErrorCode::NotConnected, "The host does not broker OAuth."))
    }

    fn notify(&self, level: NotifyLevel, message: &str) {
        self.state.borrow_mut().notices.push((level, message.to_string()));
    }

    async fn open_auth_window(&self, url: &str, redirect_uri: &str) -> PluginResult<String> {
        self.enter("ui.openAuthWindow")?;
        match self.auth_redirect.borrow().as_ref() {
            Some(handler) => handler(url, redirect_uri),
            None => Err(PluginError::new(ErrorCode::AuthDenied, "The consent window was closed.")),
        }
    }

    fn log(&self, level: LogLevel, message: &str, fields: &Map<String, Value>) {
        self.state.borrow_mut().logs.push(LogEntry { level, message: message.to_string(), fields: fields.clone() });
    }

    fn now_ms(&self) -> f64 {
        self.clock_ms.get()
    }

    async fn sleep(&self, ms: u32) {
        self.advance(f64::from(ms));
    }

    fn random_bytes(&self, len: usize) -> PluginResult<Vec<u8>> {
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            out.extend(self.next_random().to_le_bytes());
        }
        out.truncate(len);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollster::block_on;
    use serde_json::json;

    fn new_contact(first: &str) -> NewCrmContact {
        let mut fields = Map::new();
        fields.insert("firstName".into(), json!(first));
        NewCrmContact { fields, ..NewCrmContact::default() }
    }

    #[test]
    fn a_stale_update_is_a_conflict_with_the_current_version() {
        let h = MemoryHost::new();
        let c = block_on(h.crm_create(&new_contact("Ada"))).unwrap();
        let patch = CrmPatch { fields: Some(Map::from_iter([("lastName".into(), json!("L"))])), ..CrmPatch::default() };
        let c2 = block_on(h.crm_update(&c.id, 1, &patch)).unwrap();
        assert_eq!(c2.version, 2);
        assert_eq!(c2.fields["firstName"], json!("Ada"));
        let err = block_on(h.crm_update(&c.id, 1, &patch)).unwrap_err();
        assert_eq!(err.code, ErrorCode::Conflict);
        assert_eq!(err.current_version, Some(2));
        let err = block_on(h.crm_delete(&c.id, 1)).unwrap_err();
        assert_eq!(err.code, ErrorCode::Conflict);
        block_on(h.crm_delete(&c.id, 2)).unwrap();
        assert_eq!(block_on(h.crm_delete(&c.id, 3)).unwrap_err().code, ErrorCode::NotFound);
        assert_eq!(block_on(h.crm_update(&c.id, 3, &patch)).unwrap_err().code, ErrorCode::NotFound);
    }

    #[test]
    fn incremental_listing_pages_and_reports_tombstones() {
        let h = MemoryHost::new();
        let a = block_on(h.crm_create(&new_contact("A"))).unwrap();
        let b = block_on(h.crm_create(&new_contact("B"))).unwrap();
        let _c = block_on(h.crm_create(&new_contact("C"))).unwrap();
        block_on(h.crm_delete(&b.id, 1)).unwrap();

        // Full listing: live contacts only, in pages.
        let p1 = block_on(h.crm_list_changes(None, 1)).unwrap();
        assert!(p1.has_more);
        let p2 = block_on(h.crm_list_changes(Some(&p1.next_cursor), 5)).unwrap();
        assert!(!p2.has_more);
        let seen: Vec<String> = p1.contacts.iter().chain(&p2.contacts).filter(|c| !c.deleted).map(|c| c.id.clone()).collect();
        assert_eq!(seen.len(), 2);

        // Since the last cursor: nothing; then an update and a deletion.
        let empty = block_on(h.crm_list_changes(Some(&p2.next_cursor), 5)).unwrap();
        assert!(empty.contacts.is_empty());
        block_on(h.crm_delete(&a.id, 1)).unwrap();
        let next = block_on(h.crm_list_changes(Some(&empty.next_cursor), 5)).unwrap();
        assert_eq!(next.contacts.len(), 1);
        assert!(next.contacts[0].deleted);
        assert_eq!(next.contacts[0].id, a.id);
        assert_eq!(block_on(h.crm_list_changes(Some("999"), 5)).unwrap_err().code, ErrorCode::BadInput);
        assert_eq!(block_on(h.crm_list_changes(Some("x"), 5)).unwrap_err().code, ErrorCode::BadInput);
    }

    #[test]
    fn an_injected_write_failure_changes_nothing() {
        let h = MemoryHost::new();
        let put = Map::from_iter([("a".into(), json!(1)), ("b".into(), json!(2))]);
        block_on(h.storage_write(&put, &[])).unwrap();
        h.fail_next("storage.write", PluginError::new(ErrorCode::Storage, "disk full"));
        let put2 = Map::from_iter([("a".into(), json!(9))]);
        let err = block_on(h.storage_write(&put2, &["b".into()])).unwrap_err();
        assert_eq!(err.code, ErrorCode::Storage);
        let got = block_on(h.storage_get(&["a".into(), "b".into(), "c".into()])).unwrap();
        assert_eq!(got, Map::from_iter([("a".into(), json!(1)), ("b".into(), json!(2))]));
        // Only the next call fails.
        block_on(h.storage_write(&put2, &["b".into()])).unwrap();
        assert_eq!(h.storage_snapshot().len(), 1);
    }

    #[test]
    fn compare_and_set_writes_only_over_the_expected_value() {
        let h = MemoryHost::new();
        assert!(block_on(h.storage_compare_and_set("lease", None, Some(&json!({"owner": "x"})))).unwrap());
        assert!(!block_on(h.storage_compare_and_set("lease", None, Some(&json!({"owner": "y"})))).unwrap());
        assert!(!block_on(h.storage_compare_and_set("lease", Some(&json!({"owner": "y"})), None)).unwrap());
        assert!(block_on(h.storage_compare_and_set("lease", Some(&json!({"owner": "x"})), None)).unwrap());
        assert!(h.storage_snapshot().is_empty());
        assert_eq!(block_on(h.storage_list("le")).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn fetch_fails_until_a_handler_is_installed() {
        let h = MemoryHost::new();
        let req = HttpRequest { method: "GET".into(), url: "https://people.googleapis.com/x".into(), ..HttpRequest::default() };
        assert_eq!(block_on(h.fetch(&req)).unwrap_err().code, ErrorCode::Network);
        h.set_fetch(|r| Ok(HttpResponse { status: 200, headers: BTreeMap::new(), body: r.url.clone() }));
        assert_eq!(block_on(h.fetch(&req)).unwrap().body, req.url);
        assert_eq!(h.requests().len(), 2);
    }

    #[test]
    fn unknown_list_memberships_are_refused() {
        let h = MemoryHost::new();
        let mut c = new_contact("A");
        c.lists = vec!["nope".into()];
        assert_eq!(block_on(h.crm_create(&c)).unwrap_err().code, ErrorCode::BadInput);
        let l = block_on(h.crm_create_list("VIP")).unwrap();
        c.lists = vec![l.id];
        assert!(block_on(h.crm_create(&c)).is_ok());
    }

    #[test]
    fn sleeping_moves_the_virtual_clock() {
        let h = MemoryHost::new();
        let t0 = h.now_ms();
        block_on(h.sleep(1500));
        assert_eq!(h.now_ms() - t0, 1500.0);
        assert_eq!(h.random_bytes(5).unwrap().len(), 5);
        assert_ne!(h.random_bytes(8).unwrap(), h.random_bytes(8).unwrap());
    }
}
