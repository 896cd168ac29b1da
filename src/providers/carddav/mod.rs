//! CardDAV address books (RFC 6352) as a spoke: Nextcloud, iCloud, Fastmail, Google's
//! CardDAV, Radicale.
//!
//! Layers, bottom up: [`xml`] (request bodies, multi-status answers), [`url`] (href
//! arithmetic), [`http`] (the request/response data and the [`http::Fetch`] seam),
//! [`client`] (discovery, sync-collection, multiget, conditional PUT/DELETE), [`vcard`]
//! (vCard 2.1/3.0/4.0 through `calcard`, to and from the CRM's fields, unmapped properties
//! kept) over [`content_lines`] (a card's lines as written), [`provider`] (the spoke behind the provider seam), [`connector`] (the plugin's
//! methods for a CardDAV spoke: connect with discovery, test, sync, status).

pub mod client;
pub mod connector;
pub mod content_lines;
pub mod error;
pub mod http;
pub mod provider;
pub mod url;
pub mod vcard;
pub mod xml;

pub use client::{AddressBookInfo, CardDavClient, Discovery, RemoteCard, SyncOutcome, Written};
pub use error::{CardDavError, CardDavErrorCode};
pub use http::{Fetch, HttpRequest, HttpResponse};
pub use provider::{from_host, password_secret_name, CardDavProvider, HostFetch};
