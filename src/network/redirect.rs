//! The one redirect rule of every request the core sends: a redirect on the same origin
//! is followed (a few times at most, never in a loop), one to another origin is refused with
//! the target named. The shim fetches with `redirect: "manual"` and a host proxy must not
//! follow either, so this is where redirects are decided: a `307` to another server never
//! takes the method, the body or the credentials there.
//!
//! [`Redirects`] is the step, sans-IO: after each answer it says "that is the answer",
//! "send this next" or "refuse". Each client drives it in its own loop (the CardDAV client
//! over its `Fetch`, [`fetch`] over the [`Host`] for the Google spoke).
//!
//! ```
//! use contact_sync::network::redirect::Redirects;
//! let mut redirects = Redirects::new("https://dav.example.com/.well-known/carddav");
//! let hop = redirects.after("PROPFIND", 301, Some("/remote.php/dav/")).unwrap().unwrap();
//! assert_eq!(hop.url, "https://dav.example.com/remote.php/dav/");
//! assert!(redirects.after("PROPFIND", 307, Some("https://elsewhere.example/")).is_err());
//! ```

use super::url::HttpUrl;
use crate::error::{ErrorCode, PluginError, PluginResult};
use crate::host::{Host, HttpRequest, HttpResponse};

/// Same-origin redirects followed for one request. A well-known URI redirects once, a
/// moved collection rarely twice; a chain longer than this is a misconfiguration.
pub const MAX_REDIRECTS: usize = 5;

/// Why a redirect was not followed. Addresses are origins only: a path or query may hold
/// a code or a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectRefusal {
    /// To another origin (NOT_ALLOWED_HOST).
    OtherOrigin {
        /// The origin that answered.
        from: String,
        /// The origin it pointed to.
        to: String,
    },
    /// A `Location` that is not a usable http(s) address (BAD_RESPONSE).
    Unusable {
        /// The origin that answered.
        from: String,
    },
    /// Back to an address already asked in this chain (BAD_RESPONSE).
    Loop {
        /// The origin that answered.
        from: String,
    },
    /// More than [`MAX_REDIRECTS`] (BAD_RESPONSE).
    TooMany {
        /// The origin that answered.
        from: String,
    },
}

impl RedirectRefusal {
    /// The contract's code: NOT_ALLOWED_HOST for another origin, BAD_RESPONSE otherwise.
    pub fn code(&self) -> ErrorCode {
        match self {
            RedirectRefusal::OtherOrigin { .. } => ErrorCode::NotAllowedHost,
            _ => ErrorCode::BadResponse,
        }
    }

    /// What happened, for people.
    pub fn message(&self) -> String {
        match self {
            RedirectRefusal::OtherOrigin { from, to } => {
                format!("The server at {from} redirected the request to {to}, another server; the plugin follows redirects only on the same server.")
            }
            RedirectRefusal::Unusable { from } => format!("The server at {from} answered with a redirect to an unusable address."),
            RedirectRefusal::Loop { from } => format!("The server at {from} redirects in a loop."),
            RedirectRefusal::TooMany { from } => format!("The server at {from} redirected more than {MAX_REDIRECTS} times."),
        }
    }

    /// What to do about it.
    pub fn remedy(&self) -> String {
        match self {
            RedirectRefusal::OtherOrigin { to, .. } => format!(
                "If {to} is where the service now lives, enter that address in the settings; otherwise ask the server's administrator about the redirect."
            ),
            _ => "Check the server address in the settings; if it is right, ask the server's administrator about its redirects.".into(),
        }
    }
}

impl From<RedirectRefusal> for PluginError {
    fn from(refusal: RedirectRefusal) -> Self {
        PluginError::new(refusal.code(), refusal.message()).with_remedy(refusal.remedy()).with_retryable(false)
    }
}

/// The next request of a followed redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// Where to send it.
    pub url: String,
    /// 303, and 301/302 after a POST: send a GET without body (what browsers do); every
    /// other redirect repeats the method and the body.
    pub becomes_get: bool,
}

/// The redirect chain of one request.
#[derive(Debug, Clone)]
pub struct Redirects {
    current: String,
    /// (method, URL) of every request of the chain.
    asked: Vec<(String, String)>,
}

impl Redirects {
    /// A chain starting with a request to `url`.
    pub fn new(url: &str) -> Redirects {
        Redirects { current: url.to_string(), asked: Vec::new() }
    }

    /// The URL of the latest request (where the final answer came from).
    pub fn url(&self) -> &str {
        &self.current
    }

    /// Reads the answer to the latest request (sent with `method`): `Ok(None)` when it is
    /// the answer (not a redirect, or a redirect without `Location`), `Ok(Some(hop))` to
    /// send next, `Err` to refuse.
    #[must_use = "a redirect must be followed or refused"]
    pub fn after(&mut self, method: &str, status: u16, location: Option<&str>) -> Result<Option<Hop>, RedirectRefusal> {
        if !matches!(status, 301 | 302 | 303 | 307 | 308) {
            return Ok(None);
        }
        let Some(location) = location else { return Ok(None) };
        let here = HttpUrl::parse(&self.current);
        let from = here.as_ref().map(HttpUrl::origin).unwrap_or_else(|_| "an unusable address".into());
        let next = here.and_then(|h| h.join(location.trim())).map_err(|_| RedirectRefusal::Unusable { from: from.clone() })?;
        if next.origin() != from {
            return Err(RedirectRefusal::OtherOrigin { from, to: next.origin() });
        }
        let becomes_get = (status == 303 && method != "HEAD") || (matches!(status, 301 | 302) && method == "POST");
        let next_method = if becomes_get { "GET" } else { method };
        let url = next.to_string();
        self.asked.push((method.to_string(), self.current.clone()));
        if self.asked.iter().any(|(m, u)| m == next_method && *u == url) {
            return Err(RedirectRefusal::Loop { from });
        }
        if self.asked.len() > MAX_REDIRECTS {
            return Err(RedirectRefusal::TooMany { from });
        }
        self.current = url.clone();
        Ok(Some(Hop { url, becomes_get }))
    }
}

/// `host.fetch` with the redirect rule: same-origin redirects followed (with the same
/// headers, credentials included), others refused before anything is sent there.
pub async fn fetch<H: Host>(host: &H, request: &HttpRequest) -> PluginResult<HttpResponse> {
    let mut redirects = Redirects::new(&request.url);
    let mut request = request.clone();
    loop {
        let response = host.fetch(&request).await?;
        let location = response.headers.get("location").map(String::as_str);
        match redirects.after(&request.method, response.status, location)? {
            None => return Ok(response),
            Some(hop) => {
                if hop.becomes_get {
                    request.method = "GET".into();
                    request.body = None;
                    request.headers.remove("content-type");
                }
                request.url = hop.url;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::MemoryHost;
    use std::collections::BTreeMap;

    fn answer(status: u16, location: &str) -> HttpResponse {
        HttpResponse { status, headers: BTreeMap::from([("location".to_string(), location.to_string())]), body: String::new() }
    }

    #[test]
    fn a_same_origin_307_repeats_method_body_and_headers_a_303_becomes_a_get() {
        let host = MemoryHost::new();
        host.set_fetch(|r| match r.url.as_str() {
            "https://api.example.com/a" => Ok(answer(307, "/b")),
            "https://api.example.com/b" => Ok(answer(303, "https://API.example.com:443/c?done=1")),
            _ => Ok(HttpResponse { status: 200, ..HttpResponse::default() }),
        });
        let mut request = HttpRequest { method: "PUT".into(), url: "https://api.example.com/a".into(), body: Some("card".into()), ..HttpRequest::default() };
        request.headers.insert("authorization".into(), "Basic x".into());
        request.headers.insert("content-type".into(), "text/vcard".into());
        let got = pollster::block_on(fetch(&host, &request)).unwrap();
        assert_eq!(got.status, 200);
        let sent = host.requests();
        assert_eq!(sent.len(), 3);
        assert_eq!((sent[1].method.as_str(), sent[1].body.as_deref()), ("PUT", Some("card")));
        assert_eq!(sent[1].headers.get("authorization").map(String::as_str), Some("Basic x"));
        assert_eq!((sent[2].method.as_str(), sent[2].body.as_deref()), ("GET", None));
        assert_eq!(sent[2].url, "https://api.example.com/c?done=1");
        assert!(!sent[2].headers.contains_key("content-type"));
    }

    #[test]
    fn another_origin_is_refused_naming_only_its_origin() {
        let mut chain = Redirects::new("https://dav.example.com/dav/");
        for elsewhere in ["https://evil.example/x?token=1", "http://dav.example.com/dav/", "https://dav.example.com:8443/", "//evil.example/"] {
            let refusal = chain.after("PROPFIND", 302, Some(elsewhere)).unwrap_err();
            assert_eq!(refusal.code(), ErrorCode::NotAllowedHost, "{elsewhere}");
            assert!(!refusal.message().contains("token=1"), "{}", refusal.message());
        }
        let refusal = chain.after("GET", 301, Some("https://evil.example/x?token=1")).unwrap_err();
        assert_eq!(refusal, RedirectRefusal::OtherOrigin { from: "https://dav.example.com".into(), to: "https://evil.example".into() });
        let error = PluginError::from(refusal);
        assert!(error.remedy.contains("https://evil.example") && !error.retryable);
    }

    #[test]
    fn unusable_locations_loops_and_long_chains_are_bad_responses() {
        let mut chain = Redirects::new("https://dav.example.com/a");
        for bad in ["https://user:pw@dav.example.com/", "/\\evil.example/", "https://[::1/", "ftp://dav.example.com/"] {
            assert!(matches!(chain.after("GET", 302, Some(bad)), Err(RedirectRefusal::Unusable { .. })), "{bad}");
        }
        assert_eq!(chain.after("GET", 200, Some("/b")), Ok(None), "not a redirect");
        assert_eq!(chain.after("GET", 302, None), Ok(None), "a redirect without Location is the answer");
        assert!(matches!(chain.after("GET", 302, Some("/a")), Err(RedirectRefusal::Loop { .. })));

        let mut chain = Redirects::new("https://dav.example.com/0");
        for n in 1..=MAX_REDIRECTS {
            assert!(chain.after("GET", 302, Some(&format!("/{n}"))).unwrap().is_some());
        }
        assert!(matches!(chain.after("GET", 302, Some("/last")), Err(RedirectRefusal::TooMany { .. })));
        // Post, redirect, get on one address is not a loop.
        let mut chain = Redirects::new("https://api.example.com/form");
        let hop = chain.after("POST", 303, Some("/form")).unwrap().unwrap();
        assert!(hop.becomes_get);
    }
}
