//! The CardDAV protocol client: discovery, listing (sync-collection with a PROPFIND
//! fallback), bulk fetch (addressbook-multiget) and conditional writes. It keeps no state
//! between calls: hrefs, etags and sync tokens are returned to the caller, which stores
//! them. Every request goes through a [`Fetch`], so the same code runs in the browser (the
//! host's fetch) and natively (tests, benchmarks).

use std::cell::Cell;

use base64::Engine as _;

use super::error::{CardDavError, CardDavErrorCode};
use super::http::{Fetch, HttpRequest, HttpResponse};
use super::url;
use super::xml::{self, DavResource, PropName, CALSERVER, CARDDAV, DAV};
use crate::network::redirect::Redirects;

/// How many hrefs go into one addressbook-multiget.
pub const MULTIGET_CHUNK: usize = 5000;

/// An address book found by discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressBookInfo {
    /// Absolute URL, ending with a slash.
    pub url: String,
    /// Display name (the last path segment when the server has none).
    pub display_name: String,
    /// The server lists `sync-collection` among its supported reports.
    pub supports_sync: bool,
    /// The collection's ctag, when the server keeps one.
    pub ctag: Option<String>,
}

/// What discovery found for an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    /// The principal URL.
    pub principal: String,
    /// The address-book home set URL.
    pub home: String,
    /// Address books under the home set.
    pub address_books: Vec<AddressBookInfo>,
}

/// A card as listed or fetched: its href (as the server spells it), its etag and, when
/// fetched, its vCard text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteCard {
    /// Href as the server sent it.
    pub href: String,
    /// Etag, verbatim (quotes kept).
    pub etag: String,
    /// The vCard, when fetched.
    pub data: Option<String>,
}

/// The result of one `sync-collection` round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    /// Changes since the token (everything on an initial sync).
    Delta {
        /// Cards added or changed (with data when the server included it).
        changed: Vec<RemoteCard>,
        /// Hrefs removed since the token.
        removed: Vec<String>,
        /// Token for the next round.
        token: String,
    },
    /// The server no longer accepts the token: list everything again.
    TokenInvalid,
    /// The server does not do sync-collection: use [`CardDavClient::list`].
    Unsupported,
}

/// Where a write landed: the href and etag the server reports (which may differ from the
/// href we chose).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Href of the stored card.
    pub href: String,
    /// Its etag after the write.
    pub etag: String,
}

/// A CardDAV client for one account. Holds the Authorization header (never printed).
pub struct CardDavClient<F: Fetch> {
    fetch: F,
    authorization: String,
    requests: Cell<u64>,
}

impl<F: Fetch> std::fmt::Debug for CardDavClient<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardDavClient")
            .field("authorization", &"<redacted>")
            .field("requests", &self.requests.get())
            .finish()
    }
}

const CARD_PROPS: &[PropName] = &[(DAV, "getetag"), (CARDDAV, "address-data")];
const ETAG_PROPS: &[PropName] = &[(DAV, "getetag"), (DAV, "getcontenttype"), (DAV, "resourcetype")];

impl<F: Fetch> CardDavClient<F> {
    /// A client using Basic authentication.
    pub fn new(fetch: F, username: &str, password: &str) -> Self {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        Self { fetch, authorization: format!("Basic {token}"), requests: Cell::new(0) }
    }

    /// The transport (tests reach their instrumented fetch through it).
    pub fn fetch(&self) -> &F {
        &self.fetch
    }

    /// HTTP requests sent so far (redirect hops included).
    pub fn request_count(&self) -> u64 {
        self.requests.get()
    }

    /// Sends one request with authentication, following same-origin redirects (the shared
    /// rule, [`Redirects`]); returns the URL that answered and its answer.
    async fn send(
        &self,
        method: &str,
        target: &str,
        extra: &[(&str, &str)],
        body: Option<(&str, String)>,
    ) -> Result<(String, HttpResponse), CardDavError> {
        let mut redirects = Redirects::new(target);
        let mut method = method.to_string();
        let mut body = body;
        loop {
            let target = redirects.url().to_string();
            let mut headers = vec![("authorization".to_string(), self.authorization.clone())];
            for (k, v) in extra {
                headers.push((k.to_string(), v.to_string()));
            }
            let mut text = String::new();
            if let Some((content_type, b)) = &body {
                headers.push(("content-type".to_string(), content_type.to_string()));
                text = b.clone();
            }
            self.requests.set(self.requests.get() + 1);
            let response = self
                .fetch
                .fetch(HttpRequest { method: method.clone(), url: target.clone(), headers, body: text })
                .await?;
            if let Some(hop) = redirects.after(&method, response.status, response.header("location")).map_err(CardDavError::from)? {
                if hop.becomes_get {
                    method = "GET".into();
                    body = None;
                }
                continue;
            }
            return match response.status {
                401 => Err(CardDavError::auth_denied(&target)),
                429 => Err(CardDavError::new(
                    CardDavErrorCode::RateLimited,
                    format!("the CardDAV server asked us to slow down ({method} {target})"),
                    "Nothing to do: the next run continues.",
                )),
                // 501 Not Implemented is an answer, not an outage: a server without
                // sync-collection says so, and the caller falls back.
                500 | 502..=599 => Err(CardDavError::network(format!(
                    "the CardDAV server failed with status {} on {method} {target}",
                    response.status
                ))),
                _ => Ok((target, response)),
            };
        }
    }

    async fn propfind(&self, target: &str, depth: &str, props: &[PropName]) -> Result<(String, HttpResponse), CardDavError> {
        self.send("PROPFIND", target, &[("depth", depth)], Some(("application/xml; charset=utf-8", xml::propfind_body(props))))
            .await
    }

    /// Finds the principal, the address-book home and the address books of the account
    /// behind `server_url` (tries the URL itself, then `/.well-known/carddav`).
    pub async fn discover(&self, server_url: &str) -> Result<Discovery, CardDavError> {
        if url::origin(server_url).is_none() {
            return Err(CardDavError::new(
                CardDavErrorCode::BadInput,
                "the CardDAV server URL must start with http:// or https://",
                "Enter the full server address, e.g. https://cloud.example.com/remote.php/dav.",
            ));
        }
        let principal_props: &[PropName] = &[(DAV, "current-user-principal"), (CARDDAV, "addressbook-home-set")];
        let mut principal = None;
        let mut candidates = vec![server_url.to_string()];
        if let Some(o) = url::origin(server_url) {
            candidates.push(format!("{o}/.well-known/carddav"));
        }
        let mut last_problem = String::from("no answer");
        for candidate in &candidates {
            let (at, response) = self.propfind(candidate, "0", principal_props).await?;
            if response.status != 207 {
                last_problem = format!("PROPFIND answered {}", response.status);
                continue;
            }
            let ms = match xml::parse_multistatus(&response.body) {
                Ok(ms) => ms,
                Err(e) => {
                    last_problem = e.message;
                    continue;
                }
            };
            let found = ms.resources.iter().find_map(|r| r.prop_href(DAV, "current-user-principal"));
            if let Some(p) = found.and_then(|h| url::resolve(&at, &h)) {
                principal = Some(p);
                break;
            }
            last_problem = "no current-user-principal".into();
        }
        let principal = principal.ok_or_else(|| CardDavError::not_carddav(server_url, last_problem))?;

        let (at, response) = self.propfind(&principal, "0", &[(CARDDAV, "addressbook-home-set")]).await?;
        if response.status != 207 {
            return Err(CardDavError::not_carddav(&principal, format!("PROPFIND on the principal answered {}", response.status)));
        }
        let ms = xml::parse_multistatus(&response.body)?;
        let home = ms
            .resources
            .iter()
            .find_map(|r| r.prop_href(CARDDAV, "addressbook-home-set"))
            .and_then(|h| url::resolve(&at, &h))
            .ok_or_else(|| CardDavError::not_carddav(&principal, "the account has no addressbook-home-set (no CardDAV)"))?;
        let address_books = self.list_address_books(&home).await?;
        Ok(Discovery { principal, home, address_books })
    }

    /// The address books directly under `home`.
    pub async fn list_address_books(&self, home: &str) -> Result<Vec<AddressBookInfo>, CardDavError> {
        let home = url::as_collection(home);
        let (at, response) = self.propfind(&home, "1", BOOK_PROPS).await?;
        if response.status == 404 {
            return Err(CardDavError::no_address_book(&home));
        }
        if response.status != 207 {
            return Err(CardDavError::not_carddav(&home, format!("PROPFIND answered {}", response.status)));
        }
        let ms = xml::parse_multistatus(&response.body)?;
        Ok(ms.resources.iter().filter_map(|r| book_info(&at, r)).collect())
    }

    /// Checks that `book_url` is an address book and reads its properties.
    pub async fn address_book(&self, book_url: &str) -> Result<AddressBookInfo, CardDavError> {
        let book_url = url::as_collection(book_url);
        let (at, response) = self.propfind(&book_url, "0", BOOK_PROPS).await?;
        match response.status {
            207 => {}
            404 | 410 => return Err(CardDavError::no_address_book(&book_url)),
            403 => return Err(CardDavError::auth_denied(&book_url)),
            s => return Err(CardDavError::not_carddav(&book_url, format!("PROPFIND answered {s}"))),
        }
        let ms = xml::parse_multistatus(&response.body)?;
        ms.resources
            .iter()
            .find_map(|r| book_info(&at, r))
            .ok_or_else(|| CardDavError::no_address_book(&book_url))
    }

    /// One `sync-collection` round (RFC 6578) on `book_url`; `token` None for the initial
    /// sync. With `with_data` the cards come in the same answer (one request for a whole
    /// address book on servers that allow it). Follows truncated answers (507) to the end.
    pub async fn sync_collection(&self, book_url: &str, token: Option<&str>, with_data: bool) -> Result<SyncOutcome, CardDavError> {
        let book_url = url::as_collection(book_url);
        let props: &[PropName] = if with_data { CARD_PROPS } else { &[(DAV, "getetag")] };
        // Keyed by decoded path: a later answer page overrides an earlier one (linear, not
        // a scan per response: a first sync of a large book is one answer of thousands).
        let mut changed: std::collections::HashMap<String, RemoteCard> = std::collections::HashMap::new();
        let mut removed: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        let mut order: Vec<String> = Vec::new();
        let mut token = token.map(str::to_string);
        let book_key = url::percent_decode(url::path(&book_url)).trim_end_matches('/').to_string();
        loop {
            let body = xml::sync_collection_body(token.as_deref(), props);
            let (_, response) = self
                .send("REPORT", &book_url, &[("depth", "0")], Some(("application/xml; charset=utf-8", body)))
                .await?;
            match response.status {
                207 => {}
                404 | 410 => return Err(CardDavError::no_address_book(&book_url)),
                403 | 409 if response.body.contains("valid-sync-token") => return Ok(SyncOutcome::TokenInvalid),
                400 | 403 | 405 | 409 | 415 | 501 => {
                    if token.is_some() && response.body.contains("sync-token") {
                        return Ok(SyncOutcome::TokenInvalid);
                    }
                    return Ok(SyncOutcome::Unsupported);
                }
                s => return Err(CardDavError::bad_response(format!("sync-collection answered {s}"))),
            }
            let ms = xml::parse_multistatus(&response.body)?;
            let mut truncated = false;
            for r in ms.resources {
                let key = url::percent_decode(url::path(&r.href)).trim_end_matches('/').to_string();
                if key == book_key {
                    truncated |= r.status == Some(507);
                    continue;
                }
                if r.status == Some(404) {
                    changed.remove(&key);
                    removed.insert(key, r.href.clone());
                    continue;
                }
                let Some(etag) = r.etag() else { continue };
                let data = r.prop_text(CARDDAV, "address-data").filter(|d| !d.is_empty());
                removed.remove(&key);
                if !changed.contains_key(&key) {
                    order.push(key.clone());
                }
                changed.insert(key, RemoteCard { href: r.href, etag, data });
            }
            let next = ms
                .sync_token
                .filter(|t| !t.is_empty())
                .ok_or_else(|| CardDavError::bad_response("sync-collection answer without a sync-token"))?;
            let progressed = token.as_deref() != Some(next.as_str());
            token = Some(next);
            if !(truncated && progressed) {
                break;
            }
        }
        let changed: Vec<RemoteCard> = order.into_iter().filter_map(|k| changed.remove(&k)).collect();
        let removed: Vec<String> = removed.into_values().collect();
        let token = token.unwrap_or_default();
        Ok(SyncOutcome::Delta { changed, removed, token })
    }

    /// Lists every card's href and etag with a depth-1 PROPFIND (the fallback for servers
    /// without sync-collection; compare etags with the stored ones to find changes).
    pub async fn list(&self, book_url: &str) -> Result<Vec<RemoteCard>, CardDavError> {
        let book_url = url::as_collection(book_url);
        let (_, response) = self.propfind(&book_url, "1", ETAG_PROPS).await?;
        match response.status {
            207 => {}
            404 | 410 => return Err(CardDavError::no_address_book(&book_url)),
            s => return Err(CardDavError::not_carddav(&book_url, format!("PROPFIND answered {s}"))),
        }
        let ms = xml::parse_multistatus(&response.body)?;
        Ok(ms
            .resources
            .iter()
            .filter(|r| !url::same_resource(&r.href, &book_url) && !r.has_type(DAV, "collection"))
            .filter_map(|r| Some(RemoteCard { href: r.href.clone(), etag: r.etag()?, data: None }))
            .collect())
    }

    /// Fetches cards in bulk with addressbook-multiget; hrefs the server no longer has are
    /// simply absent from the result.
    pub async fn multiget(&self, book_url: &str, hrefs: &[String]) -> Result<Vec<RemoteCard>, CardDavError> {
        let book_url = url::as_collection(book_url);
        let mut out = Vec::with_capacity(hrefs.len());
        for chunk in hrefs.chunks(MULTIGET_CHUNK) {
            let body = xml::multiget_body(chunk, CARD_PROPS);
            let (_, response) = self
                .send("REPORT", &book_url, &[("depth", "1")], Some(("application/xml; charset=utf-8", body)))
                .await?;
            match response.status {
                207 => {}
                404 | 410 => return Err(CardDavError::no_address_book(&book_url)),
                s => return Err(CardDavError::bad_response(format!("addressbook-multiget answered {s}"))),
            }
            for r in xml::parse_multistatus(&response.body)?.resources {
                let (Some(etag), Some(data)) = (r.etag(), r.prop_text(CARDDAV, "address-data")) else { continue };
                out.push(RemoteCard { href: r.href, etag, data: Some(data) });
            }
        }
        Ok(out)
    }

    /// Reads one card with GET (None when it is gone).
    pub async fn get(&self, book_url: &str, href: &str) -> Result<Option<RemoteCard>, CardDavError> {
        let target = url::resolve(book_url, href).ok_or_else(|| CardDavError::bad_response(format!("unusable href {href}")))?;
        let (_, response) = self.send("GET", &target, &[("accept", "text/vcard")], None).await?;
        match response.status {
            200 => {
                let etag = response.header("etag").map(str::to_string).unwrap_or_default();
                Ok(Some(RemoteCard { href: href.to_string(), etag, data: Some(response.body) }))
            }
            404 | 410 => Ok(None),
            s => Err(CardDavError::bad_response(format!("GET {href} answered {s}"))),
        }
    }

    /// Creates a card named `name` (a file name from [`url::card_name`]) in `book_url`,
    /// only if nothing exists there (If-None-Match: *). Returns where the server stored it.
    pub async fn create(&self, book_url: &str, name: &str, vcard: &str) -> Result<Written, CardDavError> {
        let book_url = url::as_collection(book_url);
        let target = format!("{book_url}{name}");
        let (_, response) = self
            .send("PUT", &target, &[("if-none-match", "*")], Some(("text/vcard; charset=utf-8", vcard.to_string())))
            .await?;
        self.after_write(&book_url, url::path(&target), response).await
    }

    /// Replaces the card at `href` if its etag is still `etag` (If-Match); a 412 comes back
    /// as a `CONFLICT` error: read it again and merge.
    pub async fn update(&self, book_url: &str, href: &str, etag: &str, vcard: &str) -> Result<Written, CardDavError> {
        let target = url::resolve(book_url, href).ok_or_else(|| CardDavError::bad_response(format!("unusable href {href}")))?;
        let (_, response) = self
            .send("PUT", &target, &[("if-match", etag)], Some(("text/vcard; charset=utf-8", vcard.to_string())))
            .await?;
        self.after_write(book_url, href, response).await
    }

    /// Deletes the card at `href` if its etag is still `etag`. A card already gone is fine.
    pub async fn delete(&self, book_url: &str, href: &str, etag: &str) -> Result<(), CardDavError> {
        let target = url::resolve(book_url, href).ok_or_else(|| CardDavError::bad_response(format!("unusable href {href}")))?;
        let (_, response) = self.send("DELETE", &target, &[("if-match", etag)], None).await?;
        match response.status {
            200 | 202 | 204 | 404 | 410 => Ok(()),
            412 => Err(CardDavError::conflict(href)),
            403 => Err(CardDavError::auth_denied(&target)),
            s => Err(CardDavError::bad_response(format!("DELETE {href} answered {s}"))),
        }
    }

    /// Reads the href and etag a PUT produced: the Location header when the server renamed
    /// the card, the ETag header when sent, else a PROPFIND on the card for its etag.
    async fn after_write(&self, book_url: &str, href: &str, response: HttpResponse) -> Result<Written, CardDavError> {
        match response.status {
            200 | 201 | 204 => {}
            412 => return Err(CardDavError::conflict(href)),
            404 | 409 => return Err(CardDavError::no_address_book(book_url)),
            403 => return Err(CardDavError::auth_denied(book_url)),
            s => return Err(CardDavError::bad_response(format!("PUT {href} answered {s}"))),
        }
        let href = match response.header("location") {
            Some(loc) if !loc.is_empty() => url::path(&url::resolve(book_url, loc).unwrap_or_else(|| loc.to_string())).to_string(),
            _ => href.to_string(),
        };
        if let Some(etag) = response.header("etag").filter(|e| !e.is_empty()) {
            return Ok(Written { href, etag: etag.to_string() });
        }
        let target = url::resolve(book_url, &href).ok_or_else(|| CardDavError::bad_response(format!("unusable href {href}")))?;
        let (_, answer) = self.propfind(&target, "0", &[(DAV, "getetag")]).await?;
        if answer.status != 207 {
            return Err(CardDavError::bad_response(format!("PROPFIND for the etag of {href} answered {}", answer.status)));
        }
        let etag = xml::parse_multistatus(&answer.body)?
            .resources
            .iter()
            .find_map(DavResource::etag)
            .ok_or_else(|| CardDavError::bad_response(format!("no etag for {href} after writing it")))?;
        Ok(Written { href, etag })
    }
}

const BOOK_PROPS: &[PropName] = &[
    (DAV, "resourcetype"),
    (DAV, "displayname"),
    (DAV, "supported-report-set"),
    (CALSERVER, "getctag"),
    (DAV, "sync-token"),
];

fn book_info(at: &str, r: &DavResource) -> Option<AddressBookInfo> {
    if !r.has_type(CARDDAV, "addressbook") {
        return None;
    }
    let full = url::as_collection(&url::resolve(at, &r.href)?);
    let supports_sync = r.prop(DAV, "supported-report-set").is_some_and(|set| {
        set.children.iter().any(|sr| {
            sr.child(DAV, "report").is_some_and(|rep| rep.child(DAV, "sync-collection").is_some())
        })
    }) || r.prop_text(DAV, "sync-token").is_some_and(|t| !t.is_empty());
    let display_name = r
        .prop_text(DAV, "displayname")
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| {
            url::percent_decode(url::path(&full).trim_end_matches('/').rsplit('/').next().unwrap_or(""))
        });
    Some(AddressBookInfo { url: full, display_name, supports_sync, ctag: r.prop_text(CALSERVER, "getctag") })
}
