//! The CardDAV address book as a spoke: [`Provider`] over [`CardDavClient`].
//!
//! Listing uses one `sync-collection` REPORT that asks for the cards' data (the whole
//! book in one request on a first run, only the changes after), falling back to the
//! collection's ctag plus a PROPFIND listing and multiget on servers without RFC 6578.
//! Writes are one conditional request per card (CardDAV has no batch write): creates at
//! a name derived from the CRM id with `If-None-Match: *` (so a retried create cannot
//! duplicate), updates and deletes with `If-Match`. The last text seen of every card is
//! kept so an update rewrites only what changed and carries the rest over untouched.

use std::collections::HashMap;

use super::client::{CardDavClient, RemoteCard, SyncOutcome, Written};
use super::error::{CardDavError, CardDavErrorCode};
use super::http::{Fetch, HttpRequest, HttpResponse};
use super::{url, vcard};
use crate::engine::model::RemoteRecord;
use crate::engine::RemoteCapabilities;
use crate::host::Host;
use crate::providers::error::ProviderError;
use crate::providers::{
    Capabilities, ChangePage, ConcurrencyControl, CursorKind, ItemResult, ListError, NewRemote, PageNext, Provider,
};

/// Canonical fields a vCard cannot carry here: photos stay as they are on the server
/// (never sent, never read as cleared); the CRM-only fields have no vCard property.
pub const UNSUPPORTED_FIELDS: &[&str] = &["photo", "doNotContact", "owner"];

/// Cursor prefix for sync-collection tokens.
const SYNC_PREFIX: &str = "sync:";
/// Cursor prefix for the ctag fallback.
const CTAG_PREFIX: &str = "ctag:";

/// The host secret holding a CardDAV spoke's password.
pub fn password_secret_name(spoke_id: &str) -> String {
    format!("carddav.{spoke_id}.password")
}

impl From<CardDavError> for ProviderError {
    fn from(e: CardDavError) -> Self {
        ProviderError {
            code: e.code.as_str(),
            message: e.message,
            remedy: e.remedy,
            retryable: e.retryable,
            retry_after_ms: None,
        }
    }
}

/// [`Fetch`] over the host's `fetch` (the shim checks the manifest allowlist).
pub struct HostFetch<'h, H: Host>(pub &'h H);

impl<H: Host> Fetch for HostFetch<'_, H> {
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, CardDavError> {
        let req = crate::host::HttpRequest {
            method: request.method,
            url: request.url,
            headers: request.headers.into_iter().collect(),
            body: if request.body.is_empty() { None } else { Some(request.body) },
            ..crate::host::HttpRequest::default()
        };
        match self.0.fetch(&req).await {
            Ok(r) => Ok(HttpResponse { status: r.status, headers: r.headers.into_iter().collect(), body: r.body }),
            Err(e) => {
                let mut err = CardDavError::network(format!("{} ({})", e.message, e.code.as_str()));
                if e.code == crate::error::ErrorCode::NotAllowedHost {
                    err.code = CardDavErrorCode::NotAllowedHost;
                }
                if !e.remedy.is_empty() {
                    err.remedy = e.remedy;
                }
                err.retryable = e.retryable;
                Err(err)
            }
        }
    }
}

/// A CardDAV address book as a spoke.
pub struct CardDavProvider<F: Fetch> {
    client: CardDavClient<F>,
    book_url: String,
    /// Whether the book does sync-collection (None until first asked).
    supports_sync: Option<bool>,
    /// Last seen text and etag of each card, by decoded path.
    seen: HashMap<String, (String, String)>,
    /// Rewrite imported cards just to add `X-CRM-ID` (see [`Self::with_crm_id_stamping`]).
    stamp_imported: bool,
}

/// Builds the provider for a spoke from its settings and the password in host secrets.
pub async fn from_host<'h, H: Host>(
    host: &'h H,
    spoke_id: &str,
    username: &str,
    address_book: &str,
) -> Result<CardDavProvider<HostFetch<'h, H>>, ProviderError> {
    let password = host
        .secret_get(&password_secret_name(spoke_id))
        .await
        .map_err(|e| ProviderError::new(e.code.as_str(), e.message, e.remedy))?
        .ok_or_else(|| {
            ProviderError::new(
                "NOT_CONNECTED",
                "no password is stored for this CardDAV address book",
                "Enter the password in the spoke's settings and connect again.",
            )
        })?;
    Ok(CardDavProvider::new(HostFetch(host), username, &password, address_book))
}

fn key(href: &str) -> String {
    url::percent_decode(url::path(href))
}

impl<F: Fetch> CardDavProvider<F> {
    /// A provider for the address book at `book_url`.
    pub fn new(fetch: F, username: &str, password: &str, book_url: &str) -> Self {
        CardDavProvider {
            client: CardDavClient::new(fetch, username, password),
            book_url: url::as_collection(book_url),
            supports_sync: None,
            seen: HashMap::new(),
            stamp_imported: false,
        }
    }

    /// Whether cards imported into the CRM are rewritten to carry the new CRM id.
    ///
    /// Off by default: cards this spoke creates always carry `X-CRM-ID`, but stamping the
    /// cards it imports costs one PUT per card (5,000 PUTs after a first import) and
    /// rewrites cards other people own; after a lost state those re-link by e-mail and
    /// phone instead. On: the engine stamps them (its `carries_crm_id`).
    pub fn with_crm_id_stamping(mut self, on: bool) -> Self {
        self.stamp_imported = on;
        self
    }

    /// The protocol client (request counts, discovery).
    pub fn client(&self) -> &CardDavClient<F> {
        &self.client
    }

    /// The address book's URL.
    pub fn book_url(&self) -> &str {
        &self.book_url
    }

    /// Reads a fetched card into a record and remembers its text as the base of updates.
    fn remember(&mut self, card: &RemoteCard) -> Result<RemoteRecord, ProviderError> {
        let text = card.data.as_deref().unwrap_or_default();
        let content = vcard::read(text)?;
        self.seen.insert(key(&card.href), (card.etag.clone(), text.to_string()));
        Ok(RemoteRecord {
            id: card.href.clone(),
            etag: card.etag.clone(),
            updated_at: String::new(),
            deleted: false,
            contact: content.contact,
            crm_id: content.crm_id,
            previous_ids: Vec::new(),
        })
    }

    fn tombstone(&mut self, href: &str) -> RemoteRecord {
        self.seen.remove(&key(href));
        RemoteRecord { id: href.to_string(), deleted: true, ..RemoteRecord::default() }
    }

    /// Records for fetched cards; a card that does not parse is skipped with its href in
    /// the error list rather than failing the whole listing.
    fn records(&mut self, cards: &[RemoteCard]) -> Result<Vec<RemoteRecord>, ProviderError> {
        let mut out = Vec::with_capacity(cards.len());
        let mut bad = 0usize;
        for card in cards {
            match self.remember(card) {
                Ok(r) => out.push(r),
                Err(_) => bad += 1,
            }
        }
        if bad > 0 && out.is_empty() && !cards.is_empty() {
            return Err(ProviderError::bad_response("vCard", format!("{bad} cards could not be read")));
        }
        Ok(out)
    }

    async fn fill_data(&mut self, changed: Vec<RemoteCard>) -> Result<Vec<RemoteCard>, CardDavError> {
        let (mut with, without): (Vec<RemoteCard>, Vec<RemoteCard>) = changed.into_iter().partition(|c| c.data.is_some());
        if !without.is_empty() {
            let hrefs: Vec<String> = without.iter().map(|c| c.href.clone()).collect();
            with.extend(self.client.multiget(&self.book_url, &hrefs).await?);
        }
        Ok(with)
    }

    /// Full listing for servers without sync-collection: PROPFIND, multiget, ctag cursor.
    async fn list_by_propfind(&mut self) -> Result<ChangePage, ListError> {
        let info = self.client.address_book(&self.book_url).await.map_err(|e| ListError::Failed(e.into()))?;
        let listed = self.client.list(&self.book_url).await.map_err(|e| ListError::Failed(e.into()))?;
        let hrefs: Vec<String> = listed.iter().map(|c| c.href.clone()).collect();
        let cards = self.client.multiget(&self.book_url, &hrefs).await.map_err(|e| ListError::Failed(e.into()))?;
        let records = self.records(&cards).map_err(ListError::Failed)?;
        Ok(ChangePage { records, next: PageNext::Done(format!("{CTAG_PREFIX}{}", info.ctag.unwrap_or_default())) })
    }

    async fn write_one_create(&mut self, item: &NewRemote) -> ItemResult {
        let uid = format!("contact-sync-{}", item.crm_id);
        let text = vcard::render_new(&item.contact, &item.crm_id, &uid);
        let name = url::card_name(&uid);
        match self.client.create(&self.book_url, &name, &text).await {
            Ok(w) => self.written(&w, text),
            Err(e) if e.code == CardDavErrorCode::Conflict => {
                // Something is already at our name: ours from an interrupted run (same CRM
                // id) is adopted; anything else is reported.
                let href = format!("{}{name}", url::path(&self.book_url));
                match self.client.get(&self.book_url, &href).await {
                    Ok(Some(card)) => match self.remember(&card) {
                        Ok(r) if r.crm_id.as_deref() == Some(item.crm_id.as_str()) && !r.etag.is_empty() => ItemResult::Done(r),
                        Ok(_) => ItemResult::Conflict,
                        Err(e) => ItemResult::Failed(e),
                    },
                    Ok(None) => ItemResult::Conflict,
                    Err(e) => ItemResult::Failed(e.into()),
                }
            }
            Err(e) => ItemResult::Failed(e.into()),
        }
    }

    fn written(&mut self, w: &Written, text: String) -> ItemResult {
        let card = RemoteCard { href: w.href.clone(), etag: w.etag.clone(), data: Some(text) };
        match self.remember(&card) {
            Ok(r) => ItemResult::Done(r),
            Err(e) => ItemResult::Failed(e),
        }
    }

    async fn base_of(&mut self, href: &str) -> Result<Option<(String, String)>, CardDavError> {
        if let Some(found) = self.seen.get(&key(href)) {
            return Ok(Some(found.clone()));
        }
        let cards = self.client.multiget(&self.book_url, &[href.to_string()]).await?;
        for c in &cards {
            if let Some(data) = &c.data {
                self.seen.insert(key(&c.href), (c.etag.clone(), data.clone()));
            }
        }
        Ok(self.seen.get(&key(href)).cloned())
    }

    async fn write_one_update(&mut self, record: &RemoteRecord) -> ItemResult {
        let (etag, text) = match self.base_of(&record.id).await {
            Ok(Some(base)) => base,
            Ok(None) => return ItemResult::Gone,
            Err(e) => return ItemResult::Failed(e.into()),
        };
        if etag != record.etag && !record.etag.is_empty() {
            // The plan was computed against another version than the one we hold.
            return ItemResult::Conflict;
        }
        let rendered = match vcard::render_update(&text, &record.contact, record.crm_id.as_deref()) {
            Ok(Some(t)) => t,
            Ok(None) => {
                let card = RemoteCard { href: record.id.clone(), etag, data: Some(text) };
                return match self.remember(&card) {
                    Ok(r) => ItemResult::Done(r),
                    Err(e) => ItemResult::Failed(e),
                };
            }
            Err(e) => return ItemResult::Failed(e.into()),
        };
        match self.client.update(&self.book_url, &record.id, &etag, &rendered).await {
            Ok(w) => self.written(&w, rendered),
            Err(e) if e.code == CardDavErrorCode::Conflict => {
                self.seen.remove(&key(&record.id));
                ItemResult::Conflict
            }
            Err(e) if e.code == CardDavErrorCode::NotFound => {
                self.seen.remove(&key(&record.id));
                ItemResult::Gone
            }
            Err(e) => ItemResult::Failed(e.into()),
        }
    }

    async fn delete_one(&mut self, href: &str) -> ItemResult {
        let etag = match self.base_of(href).await {
            Ok(Some((etag, _))) => etag,
            Ok(None) => return ItemResult::Gone,
            Err(e) => return ItemResult::Failed(e.into()),
        };
        match self.client.delete(&self.book_url, href, &etag).await {
            Ok(()) => ItemResult::Done(self.tombstone(href)),
            Err(e) if e.code == CardDavErrorCode::Conflict => {
                self.seen.remove(&key(href));
                ItemResult::Conflict
            }
            Err(e) => ItemResult::Failed(e.into()),
        }
    }
}

impl<F: Fetch> Provider for CardDavProvider<F> {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            cursor: CursorKind::SyncCollection,
            page_size: usize::MAX,
            max_create: 100,
            max_update: 100,
            max_delete: 100,
            max_fetch: super::client::MULTIGET_CHUNK,
            write_concurrency: 1,
            concurrency: ConcurrencyControl::Etag,
            fields: RemoteCapabilities {
                unsupported: UNSUPPORTED_FIELDS.iter().map(|s| s.to_string()).collect(),
                max_emails: None,
                max_phones: None,
                max_addresses: None,
                carries_crm_id: self.stamp_imported,
            },
            dead_cursor: "sync-collection refused with 403/409 valid-sync-token (or the ctag changed on servers without it)",
        }
    }

    async fn list_page(&mut self, cursor: Option<&str>, _page: Option<&str>) -> Result<ChangePage, ListError> {
        if let Some(c) = cursor.filter(|c| !c.is_empty()) {
            if let Some(ctag) = c.strip_prefix(CTAG_PREFIX) {
                // Servers without sync-collection: an unchanged ctag means nothing changed;
                // a changed one needs a full listing (deletions are only visible that way).
                let info = self.client.address_book(&self.book_url).await.map_err(|e| ListError::Failed(e.into()))?;
                return match info.ctag {
                    Some(now) if !ctag.is_empty() && now == ctag => {
                        Ok(ChangePage { records: Vec::new(), next: PageNext::Done(c.to_string()) })
                    }
                    _ => Err(ListError::CursorDead),
                };
            }
            let Some(token) = c.strip_prefix(SYNC_PREFIX) else { return Err(ListError::CursorDead) };
            return match self.client.sync_collection(&self.book_url, Some(token), true).await {
                Ok(SyncOutcome::Delta { changed, removed, token }) => {
                    let cards = self.fill_data(changed).await.map_err(|e| ListError::Failed(e.into()))?;
                    let mut records = self.records(&cards).map_err(ListError::Failed)?;
                    for href in &removed {
                        records.push(self.tombstone(href));
                    }
                    Ok(ChangePage { records, next: PageNext::Done(format!("{SYNC_PREFIX}{token}")) })
                }
                Ok(SyncOutcome::TokenInvalid) | Ok(SyncOutcome::Unsupported) => Err(ListError::CursorDead),
                Err(e) => Err(ListError::Failed(e.into())),
            };
        }
        if self.supports_sync != Some(false) {
            match self.client.sync_collection(&self.book_url, None, true).await {
                Ok(SyncOutcome::Delta { changed, token, .. }) => {
                    self.supports_sync = Some(true);
                    let cards = self.fill_data(changed).await.map_err(|e| ListError::Failed(e.into()))?;
                    let records = self.records(&cards).map_err(ListError::Failed)?;
                    return Ok(ChangePage { records, next: PageNext::Done(format!("{SYNC_PREFIX}{token}")) });
                }
                Ok(_) => self.supports_sync = Some(false),
                Err(e) => return Err(ListError::Failed(e.into())),
            }
        }
        self.list_by_propfind().await
    }

    async fn fetch(&mut self, ids: &[String]) -> Result<Vec<(String, ItemResult)>, ProviderError> {
        let cards = self.client.multiget(&self.book_url, ids).await?;
        let by_key: HashMap<String, RemoteCard> = cards.into_iter().map(|c| (key(&c.href), c)).collect();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let result = match by_key.get(&key(id)) {
                Some(card) => match self.remember(card) {
                    Ok(mut r) => {
                        r.id = id.clone();
                        ItemResult::Done(r)
                    }
                    Err(e) => ItemResult::Failed(e),
                },
                None => {
                    self.seen.remove(&key(id));
                    ItemResult::Gone
                }
            };
            out.push((id.clone(), result));
        }
        Ok(out)
    }

    async fn create(&mut self, items: &[NewRemote]) -> Result<Vec<ItemResult>, ProviderError> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let r = self.write_one_create(item).await;
            if let ItemResult::Failed(e) = &r {
                if matches!(e.code, "AUTH_DENIED" | "NOT_FOUND") {
                    return Err(e.clone());
                }
            }
            out.push(r);
        }
        Ok(out)
    }

    async fn update(&mut self, items: &[RemoteRecord]) -> Result<Vec<ItemResult>, ProviderError> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let r = self.write_one_update(item).await;
            if let ItemResult::Failed(e) = &r {
                if e.code == "AUTH_DENIED" {
                    return Err(e.clone());
                }
            }
            out.push(r);
        }
        Ok(out)
    }

    async fn delete(&mut self, ids: &[String]) -> Result<Vec<ItemResult>, ProviderError> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let r = self.delete_one(id).await;
            if let ItemResult::Failed(e) = &r {
                if e.code == "AUTH_DENIED" {
                    return Err(e.clone());
                }
            }
            out.push(r);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorCode, PluginError};
    use crate::host::MemoryHost;

    fn get(url: &str) -> HttpRequest {
        HttpRequest { method: "GET".into(), url: url.into(), headers: Vec::new(), body: String::new() }
    }

    #[test]
    fn a_refused_origin_keeps_its_code_and_the_hosts_remedy() {
        let host = MemoryHost::new();
        host.set_fetch(|_| Err(PluginError::new(ErrorCode::NotAllowedHost, "not listed").with_remedy("Add it.")));
        let err = pollster::block_on(HostFetch(&host).fetch(get("https://elsewhere.example/"))).unwrap_err();
        assert_eq!(err.code, CardDavErrorCode::NotAllowedHost);
        assert_eq!(err.remedy, "Add it.");
    }

    #[test]
    fn a_transport_failure_reads_as_network() {
        let host = MemoryHost::new();
        host.set_fetch(|_| Err(PluginError::new(ErrorCode::Network, "offline")));
        let err = pollster::block_on(HostFetch(&host).fetch(get("https://dav.example/"))).unwrap_err();
        assert_eq!(err.code, CardDavErrorCode::Network);
    }
}
