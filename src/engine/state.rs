//! The per-spoke sync state: links (CRM id ↔ remote id, a bijection) with the base of each
//! mapped field and both sides' versions, the listing cursors, the ids to look at again,
//! and pending-create intents. Saved by the runner at checkpoints; it only ever records
//! writes the other side confirmed (invariant 8).
//!
//! Serialized as compact JSON (`{"v":2,...}`): bases are 53-bit hashes of normalized values
//! written in base 36 (safe as JSON numbers in any JS host, and small), lists as one hash
//! per element plus its kind and primary mark. Older versions are migrated on load.

use super::error::EngineError;
use super::matching::GroupKind;
use super::report::Side;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// The current serialized version.
pub const STATE_VERSION: u32 = 2;

/// One linked pair.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Link {
    /// Remote id.
    #[serde(rename = "r")]
    pub remote_id: String,
    /// CRM version last seen agreed.
    #[serde(rename = "cv", default)]
    pub crm_version: u64,
    /// Remote etag last seen agreed.
    #[serde(rename = "re", default, skip_serializing_if = "String::is_empty")]
    pub remote_etag: String,
    /// Base per canonical field id: the encoded normalized value both sides agreed on.
    #[serde(rename = "b", default, skip_serializing_if = "Bases::is_empty")]
    pub base: Bases,
    /// The CRM contact was inside the export filter at the last run (for `filter.onLeave`).
    #[serde(rename = "f", default = "yes", skip_serializing_if = "is_true")]
    pub in_filter: bool,
    /// Linked by matching (or migrated) and not merged yet: no base at all, the next
    /// merge works like a first match. A single field's base of [`UNKNOWN_BASE`] means the
    /// same for that field.
    #[serde(rename = "n", default, skip_serializing_if = "is_false")]
    pub fresh: bool,
}

/// The base of a field whose agreed value is not known.
pub const UNKNOWN_BASE: &str = "?";

/// A mapping row's key (the canonical field id, made unique per table): shared by the
/// session's rows and every link's bases, so that recording a base copies no text.
pub type RowKey = Arc<str>;

/// One field's agreed base. Most are a single value's hash, held as the number itself;
/// the rest (list encodings, [`UNKNOWN_BASE`], any stored form this code would not write
/// itself) as the text read. An empty base is not held at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// A single value's hash: written as its base-36 digits.
    Hash(u64),
    /// Any other form, kept as it was.
    Text(Box<str>),
}

impl Base {
    /// The base a stored text stands for; None for "" (no base).
    pub fn parse(s: &str) -> Option<Base> {
        if s.is_empty() {
            return None;
        }
        // Only the digits this code writes for a hash become a number, so that writing it
        // back gives the same text.
        let n = parse_base36(s).filter(|n| base36_eq(*n, s));
        Some(match n {
            Some(n) => Base::Hash(n),
            None => Base::Text(s.into()),
        })
    }

    /// [`Base::parse`] of a text already owned (no copy for the other forms).
    pub fn from_string(s: String) -> Option<Base> {
        match Base::parse(&s)? {
            Base::Text(_) => Some(Base::Text(s.into_boxed_str())),
            hash => Some(hash),
        }
    }

    /// Whether this is the stored text `s`.
    pub fn is(&self, s: &str) -> bool {
        match self {
            Base::Hash(n) => base36_eq(*n, s),
            Base::Text(t) => &**t == s,
        }
    }

    /// The agreed value is not known.
    pub fn is_unknown(&self) -> bool {
        self.is(UNKNOWN_BASE)
    }

    /// The stored text (written out for a hash).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Base::Hash(n) => std::borrow::Cow::Owned(base36(*n)),
            Base::Text(t) => std::borrow::Cow::Borrowed(t),
        }
    }
}

/// The bases of one link, sorted by row key (a handful per link: a sorted vector, one
/// allocation, where a map of strings took one per key and per value). Serialized as the
/// JSON object `{key: base}`, the form version 2 has always had.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bases(Vec<(RowKey, Base)>);

impl Bases {
    /// No base at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many fields have a base.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| (**k).cmp(key))
    }

    /// The base of a field.
    pub fn get(&self, key: &str) -> Option<&Base> {
        self.find(key).ok().and_then(|i| self.0.get(i)).map(|(_, b)| b)
    }

    /// Sets (`Some`) or removes (`None`: an empty base) a field's base.
    pub fn set(&mut self, key: &RowKey, base: Option<Base>) {
        match (self.find(key), base) {
            (Ok(i), Some(b)) => {
                if let Some(slot) = self.0.get_mut(i) {
                    slot.1 = b;
                }
            }
            (Ok(i), None) => {
                self.0.remove(i);
            }
            (Err(i), Some(b)) => self.0.insert(i, (key.clone(), b)),
            (Err(_), None) => {}
        }
    }

    /// Each field and its base, by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Base)> {
        self.0.iter().map(|(k, b)| (&**k, b))
    }
}

impl FromIterator<(RowKey, Option<Base>)> for Bases {
    /// Empty bases are left out; of two bases for one key the last wins.
    fn from_iter<I: IntoIterator<Item = (RowKey, Option<Base>)>>(iter: I) -> Self {
        Bases::from_unsorted(iter.into_iter().filter_map(|(k, b)| Some((k, b?))).collect())
    }
}

impl Bases {
    /// Sorted by key, the last of a repeated key kept.
    fn from_unsorted(mut v: Vec<(RowKey, Base)>) -> Bases {
        // Stable: equal keys keep their order, and the last one is kept. (A stored state
        // lists them sorted already.)
        if !v.is_sorted_by(|a, b| a.0 <= b.0) {
            v.sort_by(|a, b| a.0.cmp(&b.0));
        }
        // Of equal neighbours the earlier slot is kept with the later value.
        v.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                std::mem::swap(later, kept);
            }
            same
        });
        Bases(v)
    }
}

impl Serialize for Bases {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = ser.serialize_map(Some(self.0.len()))?;
        for (k, b) in &self.0 {
            match b {
                Base::Hash(n) => {
                    let mut buf = [0u8; 13];
                    let digits = std::str::from_utf8(base36_digits(*n, &mut buf)).unwrap_or_default();
                    m.serialize_entry(&**k, digits)?;
                }
                Base::Text(t) => m.serialize_entry(&**k, &**t)?,
            }
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Bases {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        // The same reading as the map of strings it replaces: keys in any order, the
        // last of a repeated key wins, empty texts hold no base. Keys and hashes are read
        // from the text in place: a hash base allocates nothing, a key is shared.
        de.deserialize_map(BasesVisitor)
    }
}

struct BasesVisitor;

impl<'de> serde::de::Visitor<'de> for BasesVisitor {
    type Value = Bases;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object of field bases")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Bases, A::Error> {
        // Room for a default mapping's rows at once (the reader does not say how many).
        let mut out = Vec::with_capacity(map.size_hint().unwrap_or(16));
        while let Some(key) = map.next_key_seed(Text(intern))? {
            // An empty text is kept as read (this code never stores one, but a stored one
            // reads as it always did).
            out.push((key, map.next_value_seed(Text(|v: &str| Base::parse(v).unwrap_or(Base::Text("".into()))))?));
        }
        Ok(Bases::from_unsorted(out))
    }
}

/// Reads a JSON string through `f` without owning a copy of it first.
struct Text<F>(F);

impl<'de, T, F: FnOnce(&str) -> T> serde::de::DeserializeSeed<'de> for Text<F> {
    type Value = T;

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<T, D::Error> {
        de.deserialize_str(self)
    }
}

impl<'de, T, F: FnOnce(&str) -> T> serde::de::Visitor<'de> for Text<F> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
        Ok((self.0)(v))
    }
}

/// The row keys met while loading states, and where the last one found was.
struct Interned {
    keys: Vec<RowKey>,
    last: usize,
}

std::thread_local! {
    /// The same dozen keys on every link share one allocation each (a bounded list:
    /// mapping tables are small).
    static KEYS: std::cell::RefCell<Interned> = const { std::cell::RefCell::new(Interned { keys: Vec::new(), last: 0 }) };
}

/// The shared [`RowKey`] for `key`.
fn intern(key: &str) -> RowKey {
    KEYS.with(|cell| {
        let mut t = cell.borrow_mut();
        // Every link lists its keys in the same (sorted) order: the one after the last
        // found is the likely one.
        let n = t.keys.len();
        let at = (0..n).map(|i| (t.last + 1 + i) % n).find(|&i| t.keys.get(i).is_some_and(|k| &**k == key));
        if let Some((i, k)) = at.and_then(|i| Some((i, t.keys.get(i)?.clone()))) {
            t.last = i;
            return k;
        }
        let k = RowKey::from(key);
        if n < 64 {
            t.keys.push(k.clone());
            t.last = n;
        }
        k
    })
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn yes() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}

/// A create written (or about to be) whose result is not confirmed yet. Recorded before the
/// write so that a crash between the write and its confirmation re-links instead of
/// creating twice (scenario 12).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "k")]
pub enum PendingCreate {
    /// A CRM contact created from a remote record: recognised afterwards by the
    /// fingerprint of its mapped values.
    #[serde(rename = "c")]
    Crm {
        /// The remote record it copies.
        #[serde(rename = "r")]
        remote_id: String,
        /// Hash of the created contact's normalized mapped values.
        #[serde(rename = "h")]
        fingerprint: String,
    },
    /// A remote record created from a CRM contact: recognised by the CRM id it carries.
    #[serde(rename = "r")]
    Remote {
        /// The CRM contact it copies.
        #[serde(rename = "c")]
        crm_id: String,
    },
}

/// Contacts matching could not link, waiting for the operator's decision (invariants 18
/// and 19): an ambiguity (several candidates sharing a key) or a possible match (a phone
/// shared by names that do not agree). While held they are neither linked, created on
/// the other side nor deleted, on every run; see [`super::held`].
///
/// Stored as one list of texts, `[kind, key, CRM ids…, "", remote ids…]` (`"a"`
/// ambiguous, `"p"` possible; ids are never empty): compact, and read by the reader of
/// lists of texts the state already has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldMatch {
    /// Why they were not linked.
    pub kind: GroupKind,
    /// The CRM contacts, sorted.
    pub crm_ids: Vec<String>,
    /// The remote contacts, sorted.
    pub remote_ids: Vec<String>,
    /// The shared key(s) when last found, as a hash (the state holds no contact value).
    pub key: String,
}

impl Serialize for HeldMatch {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let kind = if self.kind == GroupKind::Ambiguous { "a" } else { "p" };
        let texts: Vec<&str> = [kind, self.key.as_str()].into_iter().chain(self.crm_ids.iter().map(String::as_str)).chain([""]).chain(self.remote_ids.iter().map(String::as_str)).collect();
        texts.serialize(ser)
    }
}

impl<'de> Deserialize<'de> for HeldMatch {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let texts = Vec::<String>::deserialize(de)?;
        let bad = || serde::de::Error::custom("a held match is [kind, key, CRM ids, \"\", remote ids]");
        let mut it = texts.into_iter();
        let kind = match it.next().as_deref() {
            Some("a") => GroupKind::Ambiguous,
            Some("p") => GroupKind::Possible,
            _ => return Err(bad()),
        };
        let key = it.next().ok_or_else(bad)?;
        let crm_ids: Vec<String> = it.by_ref().take_while(|id| !id.is_empty()).collect();
        Ok(HeldMatch { kind, crm_ids, remote_ids: it.collect(), key })
    }
}

impl HeldMatch {
    /// The ids of one side.
    pub fn ids(&self, side: Side) -> &[String] {
        match side {
            Side::Crm => &self.crm_ids,
            Side::Remote => &self.remote_ids,
        }
    }

    /// Whether `id` of `side` is one of them.
    pub fn holds(&self, side: Side, id: &str) -> bool {
        self.ids(side).iter().any(|x| x == id)
    }
}

/// The sync state of one spoke.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SpokeState {
    /// Format version.
    pub v: u32,
    /// CRM id → link.
    #[serde(default)]
    pub links: BTreeMap<String, Link>,
    /// Cursor of the next incremental CRM listing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crm_cursor: Option<String>,
    /// Cursor of the next incremental remote listing (sync token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_cursor: Option<String>,
    /// CRM ids to look at again next run (a failed write, a missing counterpart).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub dirty_crm: BTreeSet<String>,
    /// Remote ids to look at again next run.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub dirty_remote: BTreeSet<String>,
    /// Creates not confirmed yet.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub pending: BTreeSet<PendingCreate>,
    /// CRM ids never to export again by themselves (their remote copy was deleted and the
    /// deletion policy kept the CRM contact).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub retired_crm: BTreeSet<String>,
    /// Remote ids never to import again by themselves (their CRM contact was deleted and
    /// the policy kept the remote copy).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub retired_remote: BTreeSet<String>,
    /// Pairs unlinked because the CRM contact left the export filter (`onLeave: unlink`):
    /// CRM id → remote id, re-linked if it comes back.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub released: BTreeMap<String, String>,
    /// Matches waiting for the operator's decision, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<HeldMatch>,
    /// CRM ids the operator chose never to sync with this spoke (until un-ignored).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub ignored_crm: BTreeSet<String>,
    /// Remote ids the operator chose never to sync (until un-ignored).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub ignored_remote: BTreeSet<String>,
    /// CRM ids the operator said match none of their candidates: not matched again,
    /// created on the other side (the mark goes once they are linked).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub unmatched_crm: BTreeSet<String>,
    /// Remote ids the operator said match none of their candidates.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub unmatched_remote: BTreeSet<String>,
    /// Remote id → CRM id (derived).
    #[serde(skip)]
    remote_index: HashMap<String, String>,
}

impl SpokeState {
    /// An empty state (first run).
    pub fn new() -> Self {
        SpokeState { v: STATE_VERSION, ..SpokeState::default() }
    }

    /// Loads a serialized state, migrating older versions.
    ///
    /// ```
    /// use contact_sync::engine::state::SpokeState;
    /// let s = SpokeState::from_json(r#"{"v":1,"links":{"c1":"people/1"}}"#).unwrap();
    /// assert_eq!(s.remote_of("c1"), Some("people/1"));
    /// ```
    pub fn from_json(text: &str) -> Result<Self, EngineError> {
        let bad = |e: serde_json::Error| EngineError::new("STORAGE", format!("the stored sync state cannot be read ({e})"), "Forget the links of this address book; the next run matches again by CRM id, e-mail and phone.");
        /// Reads only the version (the rest is skipped without building values).
        #[derive(Deserialize)]
        struct Version {
            v: Option<u64>,
        }
        let v = serde_json::from_str::<Version>(text).map_err(bad)?.v.unwrap_or(1);
        let mut state: SpokeState = match v {
            1 => migrate_v1(&serde_json::from_str(text).map_err(bad)?)?,
            2 => serde_json::from_str(text).map_err(bad)?,
            other => {
                return Err(EngineError::new("STORAGE", format!("the stored sync state has version {other}, newer than this plugin understands"), "Update the plugin."));
            }
        };
        state.v = STATE_VERSION;
        state.reindex();
        Ok(state)
    }

    /// The compact serialized form. Deterministic: equal states give equal bytes.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{\"v\":2}"))
    }

    fn reindex(&mut self) {
        self.remote_index = self.links.iter().map(|(c, l)| (l.remote_id.clone(), c.clone())).collect();
    }

    /// The remote id linked to a CRM id.
    pub fn remote_of(&self, crm_id: &str) -> Option<&str> {
        self.links.get(crm_id).map(|l| l.remote_id.as_str())
    }

    /// The CRM id linked to a remote id.
    pub fn crm_of(&self, remote_id: &str) -> Option<&str> {
        self.remote_index.get(remote_id).map(String::as_str)
    }

    /// Links a pair, keeping the bijection: any older link of either id is dropped.
    pub fn link(&mut self, crm_id: &str, link: Link) {
        // Two searches, not four: each insert hands back what it replaced.
        let remote_id = link.remote_id.clone();
        if let Some(old) = self.links.insert(crm_id.to_string(), link) {
            if old.remote_id != remote_id {
                self.remote_index.remove(&old.remote_id);
            }
        }
        if let Some(old_crm) = self.remote_index.insert(remote_id, crm_id.to_string()) {
            if old_crm != crm_id {
                self.links.remove(&old_crm);
            }
        }
    }

    /// Removes a link.
    pub fn unlink(&mut self, crm_id: &str) -> Option<Link> {
        let l = self.links.remove(crm_id)?;
        self.remote_index.remove(&l.remote_id);
        Some(l)
    }

    /// Mutable access to a link.
    pub fn link_mut(&mut self, crm_id: &str) -> Option<&mut Link> {
        self.links.get_mut(crm_id)
    }

    /// Moves a link to a new remote id (a merge or move on the remote side).
    pub fn move_remote(&mut self, old_remote: &str, new_remote: &str) -> bool {
        let Some(crm) = self.remote_index.remove(old_remote) else { return false };
        if let Some(l) = self.links.get_mut(&crm) {
            l.remote_id = new_remote.to_string();
        }
        self.remote_index.insert(new_remote.to_string(), crm);
        true
    }

    /// Checks the bijection (for tests and after loading).
    pub fn is_bijection(&self) -> bool {
        let mut seen = BTreeSet::new();
        self.links.values().all(|l| seen.insert(l.remote_id.clone())) && seen.len() == self.remote_index.len()
    }
}

/// Version 1 stored only `links: {crmId: remoteId}` and the cursors. Its pairs get no
/// base: the next run merges them like a first match (non-empty values win over empty
/// ones, differing values go by the field's rule), which loses nothing.
fn migrate_v1(raw: &serde_json::Value) -> Result<SpokeState, EngineError> {
    let mut s = SpokeState::new();
    if let Some(links) = raw.get("links").and_then(|l| l.as_object()) {
        for (crm, remote) in links {
            if let Some(r) = remote.as_str() {
                s.link(crm, Link { remote_id: r.to_string(), in_filter: true, fresh: true, ..Link::default() });
            }
        }
    }
    s.crm_cursor = raw.get("crmCursor").and_then(|c| c.as_str()).map(String::from);
    s.remote_cursor = raw.get("remoteCursor").and_then(|c| c.as_str()).map(String::from);
    Ok(s)
}

/// A stable 53-bit hash (FNV-1a 64, masked) in base 36: equal on every platform and
/// every Rust version, unlike `std`'s hasher.
pub fn hash36(s: &str) -> String {
    base36(hash53(s))
}

/// The 53-bit hash [`hash36`] writes (FNV-1a 64, masked).
pub fn hash53(s: &str) -> u64 {
    let mut h = Hash53::default();
    h.write(s);
    h.finish()
}

/// [`hash53`] fed piece by piece: the hash of the pieces' concatenation, without making it.
#[derive(Debug, Clone, Copy)]
pub struct Hash53(u64);

impl Default for Hash53 {
    fn default() -> Self {
        Hash53(0xcbf2_9ce4_8422_2325)
    }
}

impl Hash53 {
    /// Adds the next piece.
    pub fn write(&mut self, s: &str) {
        for b in s.as_bytes() {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// The hash of everything written.
    pub fn finish(&self) -> u64 {
        self.0 & ((1u64 << 53) - 1)
    }
}

/// Base-36 digits of `n`, most significant first, into a stack buffer (at most 13
/// digits for a u64): the filled tail of the buffer.
fn base36_digits(mut n: u64, buf: &mut [u8; 13]) -> &[u8] {
    let mut i = buf.len();
    loop {
        let d = (n % 36) as u8;
        i -= 1;
        if let Some(slot) = buf.get_mut(i) {
            *slot = if d < 10 { b'0' + d } else { b'a' + d - 10 };
        }
        n /= 36;
        if n == 0 || i == 0 {
            break;
        }
    }
    buf.get(i..).unwrap_or_default()
}

/// `n` in base 36 (lowercase digits).
pub fn base36(n: u64) -> String {
    let mut buf = [0u8; 13];
    String::from_utf8(base36_digits(n, &mut buf).to_vec()).unwrap_or_default()
}

/// The number whose base-36 digits (lowercase) `s` is; None for anything else or past
/// 64 bits.
fn parse_base36(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 13 {
        return None;
    }
    s.bytes().try_fold(0u64, |n, b| {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'z' => b - b'a' + 10,
            _ => return None,
        };
        n.checked_mul(36)?.checked_add(u64::from(d))
    })
}

/// Appends `n` in base 36 to `out` (no intermediate string).
pub fn push_base36(out: &mut String, n: u64) {
    let mut buf = [0u8; 13];
    for d in base36_digits(n, &mut buf) {
        out.push(char::from(*d));
    }
}

/// Whether `s` is `n` in base 36, without allocating.
pub fn base36_eq(n: u64, s: &str) -> bool {
    let mut buf = [0u8; 13];
    base36_digits(n, &mut buf) == s.as_bytes()
}
