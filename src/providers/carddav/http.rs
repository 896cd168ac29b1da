//! The HTTP exchange the CardDAV client needs, as plain data: the client builds
//! [`HttpRequest`]s and reads [`HttpResponse`]s, and whoever runs it (the host's fetch in
//! the plugin, a native client in tests and benchmarks) moves the bytes.

use super::error::CardDavError;

/// One HTTP request (mirrors the contract's `HttpRequest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `PROPFIND`, `REPORT`, `PUT`, …
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Header name → value (names lower-case).
    pub headers: Vec<(String, String)>,
    /// Request body, empty for none.
    pub body: String,
}

/// One HTTP response (mirrors the contract's `HttpResponse`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header name → value.
    pub headers: Vec<(String, String)>,
    /// Body as text.
    pub body: String,
}

impl HttpResponse {
    /// A header's value, names compared without case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Moves one request over the network. Implemented over the host's `fetch` in the plugin
/// and over a native HTTP client in tests; transport failures come back as `NETWORK`.
#[allow(async_fn_in_trait)]
pub trait Fetch {
    /// Sends the request and returns whatever status the server answered (redirects are
    /// not required to be followed: the client handles them itself).
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, CardDavError>;
}

impl<T: Fetch + ?Sized> Fetch for &T {
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, CardDavError> {
        (**self).fetch(request).await
    }
}
