//! The plugin methods of a CardDAV spoke, platform-neutral (generic over [`Host`]):
//! connect (discovery, and the password stored only when it worked), test, disconnect,
//! sync, preview, undo and status. Running, recording and the shared status parts are
//! [`crate::connectors`]'s; this module handles the password and builds the provider.
//!
//! Every request stays on the origin of the spoke's `serverUrl`: the shim admits that
//! origin only, and a server that redirects discovery elsewhere is refused here with
//! NOT_ALLOWED_HOST and a remedy, rather than failing later with a vaguer error.
//!
//! ```no_run
//! # async fn demo<H: contact_sync::host::Host>(host: &H) -> contact_sync::error::PluginResult<()> {
//! use contact_sync::providers::carddav::connector;
//! // The spoke "dav" is saved with serverUrl and username; the password comes from the tab.
//! let books = connector::connect(host, "dav", "app-password").await?;
//! println!("{} address books", books.len());
//! # Ok(()) }
//! ```

use std::cell::Cell;

use serde::Serialize;

use super::client::CardDavClient;
use super::error::{CardDavError, CardDavErrorCode};
use super::http::{Fetch, HttpRequest, HttpResponse};
use super::provider::{from_host, password_secret_name, HostFetch};
use super::url;
use crate::connectors::{self, find_spoke, RunStatus};
use crate::error::{ErrorCode, PluginError, PluginResult};
use crate::host::Host;
use crate::network::url::HttpUrl;
use crate::runner::{RunOptions, RunReport};
use crate::settings::{SpokeKind, SpokeSettings};

/// An address book found by discovery, as `connectCardDav` resolves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressBookChoice {
    /// The book's URL (what `addressBook` in the settings holds once chosen).
    pub url: String,
    /// Its name on the server.
    pub display_name: String,
}

/// `connectCardDav`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Connected {
    /// The account's address books.
    pub address_books: Vec<AddressBookChoice>,
}

/// The server URL and user name of a saved CardDAV spoke.
struct Account {
    server_url: String,
    username: String,
    origin: String,
}

fn account_of(spoke: &SpokeSettings) -> PluginResult<Account> {
    let server_url = spoke.server_url.as_deref().map(str::trim).unwrap_or_default();
    let username = spoke.username.as_deref().map(str::trim).unwrap_or_default();
    if server_url.is_empty() || username.is_empty() {
        return Err(PluginError::bad_input(format!("The CardDAV spoke {} has no server URL or user name yet.", spoke.id))
            .with_remedy("Enter the server address and the user name, save, then connect."));
    }
    // The message names the problem, never the URL: it may hold a password.
    let origin = HttpUrl::parse(server_url).map(|u| u.origin()).map_err(|problem| {
        PluginError::bad_input(format!("The CardDAV server URL {problem}."))
            .with_remedy("Enter the full server address, e.g. https://cloud.example.com/remote.php/dav.")
    })?;
    Ok(Account { server_url: server_url.to_string(), username: username.to_string(), origin })
}

/// The origin of an http(s) URL as browsers compare them: lower case, without the
/// scheme's default port (`https://Dav.example.com:443/x` → `https://dav.example.com`).
fn origin_of(u: &str) -> Option<String> {
    HttpUrl::parse(u).ok().map(|u| u.origin())
}

/// `username @ host[:port]` of a spoke with a usable server URL and a user name (never
/// the URL's user info: such a URL is not usable).
pub fn account(spoke: &SpokeSettings) -> Option<String> {
    let a = account_of(spoke).ok()?;
    let host = a.origin.split_once("://").map(|(_, h)| h.to_string()).unwrap_or(a.origin);
    Some(format!("{} @ {host}", a.username))
}

/// The host's fetch kept to one origin: a request elsewhere (a redirect to another
/// server) is refused with NOT_ALLOWED_HOST before it leaves.
struct SameOriginFetch<'h, H: Host> {
    inner: HostFetch<'h, H>,
    origin: String,
}

impl<'h, H: Host> SameOriginFetch<'h, H> {
    fn new(host: &'h H, origin: &str) -> Self {
        SameOriginFetch { inner: HostFetch(host), origin: origin.to_string() }
    }
}

impl<H: Host> Fetch for SameOriginFetch<'_, H> {
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, CardDavError> {
        let target = origin_of(&request.url);
        if target.as_deref() != Some(self.origin.as_str()) {
            let elsewhere = target.unwrap_or_else(|| "an unusable address".into());
            return Err(CardDavError::new(
                CardDavErrorCode::NotAllowedHost,
                format!("The CardDAV server at {} sent us to {elsewhere}, another server.", self.origin),
                format!("Enter the address the server points to ({elsewhere}) as the server URL, then connect again."),
            ));
        }
        self.inner.fetch(request).await
    }
}

/// A CardDAV error as the plugin's.
pub fn carddav_error(e: CardDavError) -> PluginError {
    crate::providers::ProviderError::from(e).into()
}

/// The stored password, or None.
async fn stored_password<H: Host>(host: &H, spoke_id: &str) -> PluginResult<Option<String>> {
    Ok(host.secret_get(&password_secret_name(spoke_id)).await?.filter(|p| !p.is_empty()))
}

fn not_connected(spoke_id: &str) -> PluginError {
    PluginError::new(ErrorCode::NotConnected, format!("No password is stored for the CardDAV spoke {spoke_id}."))
        .with_remedy("Enter the password in the spoke's settings and connect.")
        .with_retryable(false)
}

/// Runs discovery for the saved spoke `spoke_id` with `password` (empty: the stored one)
/// and, only when it worked, stores the password. Resolves the account's address books.
pub async fn connect<H: Host>(host: &H, spoke_id: &str, password: &str) -> PluginResult<Vec<AddressBookChoice>> {
    let s = connectors::settings(host).await?;
    let spoke = find_spoke(&s, spoke_id, Some(SpokeKind::Carddav))?;
    let account = account_of(&spoke)?;
    let password = match password {
        "" => stored_password(host, spoke_id).await?.ok_or_else(|| not_connected(spoke_id))?,
        given => given.to_string(),
    };
    let fetch = SameOriginFetch::new(host, &account.origin);
    let client = CardDavClient::new(&fetch, &account.username, &password);
    let discovery = client.discover(&account.server_url).await.map_err(carddav_error)?;
    host.secret_set(&password_secret_name(spoke_id), &password).await?;
    Ok(discovery
        .address_books
        .into_iter()
        .map(|b| AddressBookChoice { url: b.url, display_name: b.display_name })
        .collect())
}

/// The chosen address book; NOT_CONNECTED until one is chosen, NOT_ALLOWED_HOST when it
/// is on another origin than the server URL.
fn chosen_book(spoke: &SpokeSettings, account: &Account) -> PluginResult<String> {
    let book = spoke.address_book.as_deref().map(str::trim).unwrap_or_default();
    if book.is_empty() {
        return Err(PluginError::new(ErrorCode::NotConnected, format!("No address book is chosen for the CardDAV spoke {}.", spoke.id))
            .with_remedy("Connect, then choose one of the account's address books.")
            .with_retryable(false));
    }
    let book = url::resolve(&account.server_url, book).unwrap_or_else(|| book.to_string());
    if origin_of(&book).as_deref() != Some(account.origin.as_str()) {
        return Err(PluginError::new(ErrorCode::NotAllowedHost, format!("The address book {book} is not on the server {}.", account.origin))
            .with_remedy("Choose the address book again from the list the server gives.")
            .with_retryable(false));
    }
    Ok(book)
}

/// Whether the spoke can run: a password is stored and an address book chosen.
pub async fn is_set_up<H: Host>(host: &H, spoke: &SpokeSettings) -> PluginResult<bool> {
    let chosen = account_of(spoke).and_then(|a| chosen_book(spoke, &a)).is_ok();
    Ok(chosen && stored_password(host, &spoke.id).await?.is_some())
}

/// Checks the connection with one request: the chosen address book's properties.
pub async fn test_connection<H: Host>(host: &H, spoke_id: &str) -> PluginResult<()> {
    let s = connectors::settings(host).await?;
    let spoke = find_spoke(&s, spoke_id, Some(SpokeKind::Carddav))?;
    let account = account_of(&spoke)?;
    let book = chosen_book(&spoke, &account)?;
    let password = stored_password(host, spoke_id).await?.ok_or_else(|| not_connected(spoke_id))?;
    let fetch = SameOriginFetch::new(host, &account.origin);
    let client = CardDavClient::new(&fetch, &account.username, &password);
    client.address_book(&book).await.map(|_| ()).map_err(carddav_error)
}

/// Forgets the password; the settings and links stay (connecting again resumes).
pub async fn disconnect<H: Host>(host: &H, spoke_id: &str) -> PluginResult<()> {
    let s = connectors::settings(host).await?;
    find_spoke(&s, spoke_id, Some(SpokeKind::Carddav))?;
    host.secret_delete(&password_secret_name(spoke_id)).await
}

/// One run (or a preview with `options.dry_run`), recorded in the history.
pub async fn sync<H: Host>(host: &H, spoke_id: &str, options: &RunOptions, cancel: &Cell<bool>) -> PluginResult<RunReport> {
    let s = connectors::settings(host).await?;
    let spoke = find_spoke(&s, spoke_id, Some(SpokeKind::Carddav))?;
    let account = account_of(&spoke)?;
    let book = chosen_book(&spoke, &account)?;
    let mut provider = from_host(host, spoke_id, &account.username, &book).await.map_err(PluginError::from)?;
    connectors::run_with(host, &s, &spoke, &mut provider, options, cancel).await
}

/// Undoes the latest run of the spoke that changed contacts.
pub async fn undo_last_run<H: Host>(host: &H, spoke_id: &str) -> PluginResult<RunReport> {
    let s = connectors::settings(host).await?;
    let spoke = find_spoke(&s, spoke_id, Some(SpokeKind::Carddav))?;
    let account = account_of(&spoke)?;
    let book = chosen_book(&spoke, &account)?;
    let mut provider = from_host(host, spoke_id, &account.username, &book).await.map_err(PluginError::from)?;
    connectors::undo_with(host, &mut provider, spoke_id).await
}

/// The status of a CardDAV spoke: connected when a password is stored and an address
/// book chosen. Besides refused credentials, a latest run that found no address book
/// (deleted or renamed on the server) is the spoke's problem: only the operator can
/// choose another.
pub async fn status<H: Host>(host: &H, spoke: &SpokeSettings) -> PluginResult<RunStatus> {
    let connected = is_set_up(host, spoke).await?;
    let mut status = connectors::run_status(host, &spoke.id, connected).await?;
    if status.problem.is_none() {
        status.problem = status
            .last_run
            .as_ref()
            .filter(|r| r.outcome == "failed")
            .and_then(|r| r.errors.iter().find(|e| e.code == ErrorCode::NotFound))
            .map(|e| (e.code, e.message.clone(), e.remedy.clone()));
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spoke(server: &str, user: &str, book: Option<&str>) -> SpokeSettings {
        SpokeSettings {
            id: "dav".into(),
            kind: SpokeKind::Carddav,
            name: "Dav".into(),
            allow_create: true,
            client_id: None,
            endpoints: None,
            server_url: Some(server.into()),
            username: Some(user.into()),
            address_book: book.map(str::to_string),
            allow_private_network: false,
        }
    }

    #[test]
    fn the_account_reads_user_at_host() {
        assert_eq!(account(&spoke("https://dav.example.com/dav/", "ada", None)).as_deref(), Some("ada @ dav.example.com"));
        assert_eq!(account(&spoke("http://127.0.0.1:5232", "ada", None)).as_deref(), Some("ada @ 127.0.0.1:5232"));
        assert_eq!(account(&spoke("https://dav.example.com", "", None)), None);
        assert_eq!(account(&spoke("dav.example.com", "ada", None)), None);
    }

    #[test]
    fn origins_compare_without_case_or_default_port() {
        assert_eq!(origin_of("https://Dav.Example.com:443/dav/").as_deref(), Some("https://dav.example.com"));
        assert_eq!(origin_of("http://127.0.0.1:80").as_deref(), Some("http://127.0.0.1"));
        assert_eq!(origin_of("https://dav.example.com:8443/").as_deref(), Some("https://dav.example.com:8443"));
        assert_eq!(origin_of("http://dav.example.com:443/").as_deref(), Some("http://dav.example.com:443"));
        assert_eq!(origin_of("ftp://dav.example.com/"), None);
        let s = spoke("https://dav.example.com:443/dav/", "ada", Some("https://DAV.example.com/dav/ada/book/"));
        assert!(chosen_book(&s, &account_of(&s).unwrap()).is_ok());
    }

    #[test]
    fn the_chosen_book_must_be_on_the_server() {
        let s = spoke("https://dav.example.com/dav/", "ada", Some("/dav/ada/book/"));
        let a = account_of(&s).unwrap();
        assert_eq!(chosen_book(&s, &a).unwrap(), "https://dav.example.com/dav/ada/book/");
        let s = spoke("https://dav.example.com/dav/", "ada", Some("https://elsewhere.example/book/"));
        assert_eq!(chosen_book(&s, &account_of(&s).unwrap()).unwrap_err().code, ErrorCode::NotAllowedHost);
        let s = spoke("https://dav.example.com/dav/", "ada", None);
        assert_eq!(chosen_book(&s, &account_of(&s).unwrap()).unwrap_err().code, ErrorCode::NotConnected);
    }
}
