//! The emulator's data: OAuth clients, accounts with their contacts and groups, grants and
//! tokens, sync/page token registries. Everything sits behind one mutex: Google serialises
//! mutations per user too, and a single lock keeps etags and change sequence numbers exact.

use super::config::EmulatorConfig;
use super::faults::Fault;
use super::quota::QuotaMeter;
use super::random::{person_etag, source_etag, SeededRng};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// An OAuth client registered in the emulated Cloud console.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    pub client_id: String,
    pub client_secret: String,
    pub name: String,
    /// Exact URIs, or loopback patterns `http://127.0.0.1:*/` / `http://localhost:*/` that
    /// accept any port and path.
    pub redirect_uris: Vec<String>,
    /// Consent screen in "Testing" status: only test users, refresh tokens last 7 days.
    pub testing: bool,
    pub test_users: Vec<String>,
}

impl OAuthClient {
    /// Whether `uri` is registered for this client.
    pub fn redirect_allowed(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|p| {
            if let Some(prefix) = p.strip_suffix(":*/") {
                uri.strip_prefix(prefix)
                    .and_then(|rest| rest.strip_prefix(':'))
                    .map(|rest| {
                        let port_end = rest.find('/').unwrap_or(rest.len());
                        let port = &rest[..port_end];
                        !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && !rest[port_end..].contains('#')
                    })
                    .unwrap_or(false)
            } else {
                p == uri
            }
        })
    }
}

/// A stored contact. `fields` holds the writable Person fields as the client wrote them
/// (output-only parts and field metadata stripped); memberships are kept as group ids.
#[derive(Debug, Clone)]
pub struct Contact {
    pub id: u64,
    pub fields: Map<String, Value>,
    pub memberships: BTreeSet<String>,
    pub etag: String,
    pub source_etag: String,
    pub update_ms: i64,
    /// Change sequence number of the last mutation (orders deltas).
    pub seq: u64,
    /// When the last mutation becomes visible to sync-token deltas.
    pub visible_ms: i64,
    pub deleted: bool,
    pub previous_resource_names: Vec<String>,
    /// Photo URL when a photo was uploaded.
    pub photo_url: Option<String>,
    /// The uploaded photo's bytes, served under `/__photos/`.
    pub photo: Option<super::photos::StoredPhoto>,
    /// `clientData` per OAuth client id: private to the app that wrote it. `"*"` holds data
    /// seeded through the admin API, shown to apps that wrote none of their own.
    pub client_data: BTreeMap<String, Vec<Value>>,
}

impl Contact {
    pub fn resource_name(&self) -> String {
        format!("people/c{}", self.id)
    }
    pub fn source_id(&self) -> String {
        format!("{:x}", self.id)
    }
}

/// A contact group (label). System groups have fixed ids.
#[derive(Debug, Clone)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub system: bool,
    pub etag: String,
    pub update_ms: i64,
    pub seq: u64,
    pub visible_ms: i64,
    pub deleted: bool,
    pub client_data: Vec<Value>,
}

/// System groups every account has: (id, formatted name, whether contacts may be added).
pub const SYSTEM_GROUPS: &[(&str, &str, bool)] = &[
    ("myContacts", "My Contacts", true),
    ("starred", "Starred", true),
    ("friends", "Friends", false),
    ("family", "Family", false),
    ("coworkers", "Coworkers", false),
    ("chatBuddies", "Chat contacts", false),
    ("all", "All Contacts", false),
    ("blocked", "Blocked", false),
];

/// A Google account.
#[derive(Debug, Clone)]
pub struct Account {
    pub email: String,
    pub display_name: String,
    pub numeric_id: u64,
    pub contacts: BTreeMap<u64, Contact>,
    pub groups: BTreeMap<String, Group>,
    /// Last change sequence number handed out.
    pub seq: u64,
    /// searchContacts answers only after a warm-up request.
    pub search_warm: bool,
    /// Sync tokens issued before this instant are expired (admin "expire all").
    pub tokens_valid_after_ms: i64,
    /// The next update's etag check fails (admin fault).
    pub stale_next_update: bool,
}

impl Account {
    pub fn new(email: &str, display_name: &str, numeric_id: u64, now: i64) -> Account {
        let mut groups = BTreeMap::new();
        for (id, name, _) in SYSTEM_GROUPS {
            groups.insert(
                id.to_string(),
                Group {
                    id: id.to_string(),
                    name: name.to_string(),
                    system: true,
                    etag: source_etag(),
                    update_ms: now,
                    seq: 0,
                    visible_ms: now,
                    deleted: false,
                    client_data: Vec::new(),
                },
            );
        }
        Account {
            email: email.to_string(),
            display_name: display_name.to_string(),
            numeric_id,
            contacts: BTreeMap::new(),
            groups,
            seq: 0,
            search_warm: false,
            tokens_valid_after_ms: i64::MIN,
            stale_next_update: false,
        }
    }

    /// The contact `people/c<id>` if it exists and is not deleted.
    pub fn live(&self, resource_name: &str) -> Option<&Contact> {
        let id = parse_person_id(resource_name)?;
        self.contacts.get(&id).filter(|c| !c.deleted)
    }

    /// Records a mutation of a contact: new etags, update time, change sequence.
    pub fn touch(&mut self, id: u64, now: i64, delay_ms: u64) {
        self.seq += 1;
        let seq = self.seq;
        if let Some(c) = self.contacts.get_mut(&id) {
            c.etag = person_etag();
            c.source_etag = source_etag();
            c.update_ms = now.max(c.update_ms + 1);
            c.seq = seq;
            c.visible_ms = now.saturating_add(delay_ms.min(i64::MAX as u64) as i64);
        }
    }

    /// Records a mutation of a group.
    pub fn touch_group(&mut self, id: &str, now: i64, delay_ms: u64) {
        self.seq += 1;
        let seq = self.seq;
        if let Some(g) = self.groups.get_mut(id) {
            g.etag = source_etag();
            g.update_ms = now;
            g.seq = seq;
            g.visible_ms = now.saturating_add(delay_ms.min(i64::MAX as u64) as i64);
        }
    }

    /// The highest sequence number such that every change up to it is visible to deltas.
    pub fn visible_cutoff(&self, now: i64) -> u64 {
        let pending_contacts = self.contacts.values().filter(|c| c.visible_ms > now).map(|c| c.seq);
        let pending_groups = self.groups.values().filter(|g| g.visible_ms > now).map(|g| g.seq);
        match pending_contacts.chain(pending_groups).min() {
            Some(s) => s.saturating_sub(1),
            None => self.seq,
        }
    }

    /// Creates a contact from sanitized fields; returns its id.
    /// `app` is the OAuth client id whose private `clientData` the fields carry (`"*"` for seeds).
    pub fn insert_contact(&mut self, id: u64, mut fields: Map<String, Value>, memberships: BTreeSet<String>, app: &str, now: i64, delay_ms: u64) -> u64 {
        let mut client_data = BTreeMap::new();
        if let Some(Value::Array(items)) = fields.remove("clientData") {
            client_data.insert(app.to_string(), items);
        }
        self.contacts.insert(
            id,
            Contact {
                id,
                fields,
                memberships,
                etag: String::new(),
                source_etag: String::new(),
                update_ms: now,
                seq: 0,
                visible_ms: now,
                deleted: false,
                previous_resource_names: Vec::new(),
                photo_url: None,
                photo: None,
                client_data,
            },
        );
        self.touch(id, now, delay_ms);
        id
    }

    /// Turns a contact into a tombstone.
    pub fn delete_contact(&mut self, id: u64, now: i64, delay_ms: u64) -> bool {
        match self.contacts.get_mut(&id) {
            Some(c) if !c.deleted => {
                c.deleted = true;
                c.fields.clear();
                c.memberships.clear();
                c.photo_url = None;
                c.photo = None;
                c.client_data.clear();
                self.touch(id, now, delay_ms);
                true
            }
            _ => false,
        }
    }

    /// Group id → number of live members.
    pub fn member_count(&self, group_id: &str) -> usize {
        self.contacts.values().filter(|c| !c.deleted && c.memberships.contains(group_id)).count()
    }
}

/// `people/c123` → 123.
pub fn parse_person_id(resource_name: &str) -> Option<u64> {
    resource_name.strip_prefix("people/c")?.parse().ok()
}

/// One consent: the tokens derived from it die together on revocation.
#[derive(Debug, Clone)]
pub struct Grant {
    pub client_id: String,
    pub email: String,
    pub scopes: Vec<String>,
    pub created_ms: i64,
    pub revoked: bool,
}

/// A pending authorization code.
#[derive(Debug, Clone)]
pub struct AuthCode {
    pub client_id: String,
    pub email: String,
    pub scopes: Vec<String>,
    pub redirect_uri: String,
    pub challenge: Option<(String, String)>,
    pub offline: bool,
    /// The consent screen was forced (`prompt=consent`): a new refresh token is issued.
    pub force_consent: bool,
    pub expires_ms: i64,
}

#[derive(Debug, Clone)]
pub struct AccessToken {
    pub grant: u64,
    pub expires_ms: i64,
}

#[derive(Debug, Clone)]
pub struct RefreshToken {
    pub grant: u64,
    pub issued_ms: i64,
    pub last_used_ms: i64,
    /// Testing-status apps: the token dies at this instant.
    pub hard_expiry_ms: Option<i64>,
}

/// What a sync token stands for.
#[derive(Debug, Clone)]
pub struct SyncTokenInfo {
    pub email: String,
    /// Changes with a sequence number above this are "since".
    pub seq: u64,
    /// When the full sync that started this chain ran (expiry is counted from it).
    pub chain_start_ms: i64,
    pub issued_ms: i64,
    /// `people` or `groups`.
    pub kind: &'static str,
}

/// What a page token stands for: the parameters it is bound to and where to continue.
#[derive(Debug, Clone)]
pub struct PageTokenInfo {
    pub email: String,
    pub method: String,
    /// Every query parameter of the call except `pageToken`, sorted.
    pub params: Vec<(String, String)>,
    /// Continue after this sequence number (seq-ordered listings) ...
    pub after_seq: u64,
    /// ... or at this offset (name-ordered listings).
    pub offset: usize,
    /// Snapshot of the delta cutoff taken on the first page.
    pub cutoff: u64,
    pub chain_start_ms: i64,
}

/// The whole mutable state.
pub struct State {
    pub config: EmulatorConfig,
    pub clients: BTreeMap<String, OAuthClient>,
    pub accounts: BTreeMap<String, Account>,
    pub codes: HashMap<String, AuthCode>,
    pub grants: HashMap<u64, Grant>,
    pub next_grant: u64,
    pub access_tokens: HashMap<String, AccessToken>,
    pub refresh_tokens: HashMap<String, RefreshToken>,
    pub sync_tokens: HashMap<String, SyncTokenInfo>,
    pub page_tokens: HashMap<String, PageTokenInfo>,
    pub faults: Vec<Fault>,
    pub quota: QuotaMeter,
    pub rng: SeededRng,
    pub next_contact_id: u64,
    pub next_account_id: u64,
    pub next_group_id: u64,
}

impl State {
    pub fn new(config: EmulatorConfig) -> State {
        let rng = SeededRng::new(config.rng_seed);
        State {
            config,
            clients: BTreeMap::new(),
            accounts: BTreeMap::new(),
            codes: HashMap::new(),
            grants: HashMap::new(),
            next_grant: 1,
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            sync_tokens: HashMap::new(),
            page_tokens: HashMap::new(),
            faults: Vec::new(),
            quota: QuotaMeter::default(),
            rng,
            next_contact_id: 6_100_000_000_000_000_000,
            next_account_id: 104_000_000_000_000_000,
            next_group_id: 0x3a1f_0000,
        }
    }

    /// A fresh contact id (digits, like Google's `c<digits>`).
    pub fn new_contact_id(&mut self) -> u64 {
        self.next_contact_id += 1 + (self.rng.next_u64() % 997);
        self.next_contact_id
    }

    /// A fresh user-group id (hex, like Google's).
    pub fn new_group_id(&mut self) -> String {
        self.next_group_id += 1 + (self.rng.next_u64() % 4093);
        format!("{:x}", self.next_group_id)
    }

    /// Creates (or replaces) an account.
    pub fn add_account(&mut self, email: &str, display_name: &str, now: i64) {
        self.next_account_id += 7919;
        let acct = Account::new(email, display_name, self.next_account_id, now);
        self.accounts.insert(email.to_ascii_lowercase(), acct);
    }

    pub fn account_mut(&mut self, email: &str) -> Option<&mut Account> {
        self.accounts.get_mut(&email.to_ascii_lowercase())
    }

    pub fn account(&self, email: &str) -> Option<&Account> {
        self.accounts.get(&email.to_ascii_lowercase())
    }
}
