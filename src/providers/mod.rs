//! The seam between the sync runner and a remote address book (a spoke).
//!
//! A provider declares what it can do ([`Capabilities`]) and offers the five operations a
//! run needs ([`Provider`]): list changes page by page from a cursor, fetch by ids, and
//! create / update / delete in batches with one result per item. Records cross the seam
//! as the engine's [`RemoteRecord`], so the engine never sees a provider's JSON.
//! Google is the first spoke; CardDAV, Microsoft Graph and Salesforce fit the same shape
//! (sync-collection / delta links / `updated` windows are all "a cursor").

pub mod carddav;
pub mod error;
pub mod form;
pub mod google;

pub use error::ProviderError;

use crate::engine::model::{Contact, RemoteRecord};
use crate::engine::RemoteCapabilities;

/// How a provider tracks changes between runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorKind {
    /// People API / Calendar sync tokens.
    SyncToken,
    /// WebDAV sync-collection (RFC 6578) tokens.
    SyncCollection,
    /// Microsoft Graph delta links.
    DeltaLink,
    /// A modified-since timestamp window (Salesforce `updated/`).
    ModifiedSince,
}

/// How a provider rejects a write computed against an old version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConcurrencyControl {
    /// An etag the write must carry (People `etag`, CardDAV `If-Match`).
    Etag,
    /// `If-Unmodified-Since`.
    UnmodifiedSince,
    /// None: last writer wins (the runner refetches before writing).
    None,
}

/// What a provider can do; the runner sizes and paces its work by it and the engine
/// plans within `fields`.
#[derive(Debug, Clone, PartialEq)]
pub struct Capabilities {
    /// Incremental mechanism.
    pub cursor: CursorKind,
    /// Records per listing page.
    pub page_size: usize,
    /// Largest create batch.
    pub max_create: usize,
    /// Largest update batch.
    pub max_update: usize,
    /// Largest delete batch.
    pub max_delete: usize,
    /// Largest fetch-by-ids batch.
    pub max_fetch: usize,
    /// Write requests that may be in flight at once for one account (Google: 1).
    pub write_concurrency: usize,
    /// Optimistic concurrency.
    pub concurrency: ConcurrencyControl,
    /// What the remote can represent (engine's view).
    pub fields: RemoteCapabilities,
    /// How a dead cursor shows, for people reading a report.
    pub dead_cursor: &'static str,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangePage {
    /// Records (tombstones included on incremental listings).
    pub records: Vec<RemoteRecord>,
    /// Where the listing goes next.
    pub next: PageNext,
}

/// After a page: more pages, or the cursor of the next incremental listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageNext {
    /// Ask again with this page token (same cursor).
    More(String),
    /// The listing is complete; store this cursor once the run's state is saved.
    Done(String),
}

/// Why a listing failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ListError {
    /// The cursor is refused (expired, garbage): drop it and list everything again.
    CursorDead,
    /// Anything else: stop, and never read it as "everything was deleted".
    Failed(ProviderError),
}

/// A contact to create remotely, carrying the CRM id so a lost state re-links.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRemote {
    /// The CRM contact's id.
    pub crm_id: String,
    /// The content.
    pub contact: Contact,
}

/// The result of one item of a batch write or fetch.
#[allow(clippy::large_enum_variant)] // short-lived, one per item of a batch
#[derive(Debug, Clone, PartialEq)]
pub enum ItemResult {
    /// Written (or read); the record as the remote now holds it (new id, new etag).
    Done(RemoteRecord),
    /// The record changed remotely since it was read: refetch and merge again.
    Conflict,
    /// The record does not exist (for a delete: already deleted).
    Gone,
    /// Failed; retry later if the error says so.
    Failed(ProviderError),
}

/// A mapped label as the remote holds it, after [`Provider::prepare_labels`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteLabel {
    /// The label name (as mapped in settings).
    pub name: String,
    /// The remote id (Google: `contactGroups/…`); empty when missing and not created.
    pub id: String,
    /// It did not exist before this call.
    pub missing: bool,
}

/// The operations a run needs from a spoke. Calls for one account are made one at a time
/// (the runner never overlaps them).
#[allow(async_fn_in_trait)]
pub trait Provider {
    /// What the provider can do.
    fn capabilities(&self) -> Capabilities;

    /// One page of changes: `cursor` None lists everything; `page` continues a listing.
    async fn list_page(&mut self, cursor: Option<&str>, page: Option<&str>) -> Result<ChangePage, ListError>;

    /// Current records by id (at most `max_fetch`), in any order, keyed by requested id.
    async fn fetch(&mut self, ids: &[String]) -> Result<Vec<(String, ItemResult)>, ProviderError>;

    /// Creates (at most `max_create`); results in input order.
    async fn create(&mut self, items: &[NewRemote]) -> Result<Vec<ItemResult>, ProviderError>;

    /// Updates (at most `max_update`), each carrying the etag it was computed against;
    /// results in input order.
    async fn update(&mut self, items: &[RemoteRecord]) -> Result<Vec<ItemResult>, ProviderError>;

    /// Deletes (at most `max_delete`); results in input order.
    async fn delete(&mut self, ids: &[String]) -> Result<Vec<ItemResult>, ProviderError>;

    /// Loads the remote labels (groups) so records read and write memberships by name,
    /// creating each of `names` that does not exist yet when `create` (never in a
    /// preview). Providers without labels keep this default: nothing to prepare.
    async fn prepare_labels(&mut self, names: &[String], create: bool) -> Result<Vec<RemoteLabel>, ProviderError> {
        let _ = (names, create);
        Ok(Vec::new())
    }
}
