//! Errors of the CardDAV spoke. Each carries a stable `code` from the host contract's
//! `ErrorCode` list, a message and a remedy a person can act on; none ever contains the
//! password or the Authorization header.

use std::fmt;

use crate::network::redirect::RedirectRefusal;

/// Stable error codes used by this module (a subset of the contract's `ErrorCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardDavErrorCode {
    /// The server refused the user name or password (401/403 on a login request).
    AuthDenied,
    /// The address book (or the card) does not exist.
    NotFound,
    /// The server answered something that is not CardDAV (or malformed XML / vCard).
    BadResponse,
    /// The card changed on the server since we read it (412 Precondition Failed).
    Conflict,
    /// The connection failed or the server had a transient error (5xx).
    Network,
    /// The server asks us to slow down (429/503 with Retry-After).
    RateLimited,
    /// Bad input from the settings (an unusable URL, an empty user name).
    BadInput,
    /// The host refused to contact the server (not in the plugin's network allowlist).
    NotAllowedHost,
}

impl CardDavErrorCode {
    /// The contract's spelling, e.g. `"AUTH_DENIED"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthDenied => "AUTH_DENIED",
            Self::NotFound => "NOT_FOUND",
            Self::BadResponse => "BAD_RESPONSE",
            Self::Conflict => "CONFLICT",
            Self::Network => "NETWORK",
            Self::RateLimited => "RATE_LIMITED",
            Self::BadInput => "BAD_INPUT",
            Self::NotAllowedHost => "NOT_ALLOWED_HOST",
        }
    }
}

/// A CardDAV failure with a code, a message and a remedy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardDavError {
    /// Stable code.
    pub code: CardDavErrorCode,
    /// What happened (no secrets).
    pub message: String,
    /// What a person can do about it.
    pub remedy: String,
    /// Whether trying again later may help.
    pub retryable: bool,
}

impl CardDavError {
    /// A new error; `retryable` follows from the code.
    pub fn new(code: CardDavErrorCode, message: impl Into<String>, remedy: impl Into<String>) -> Self {
        let retryable = matches!(
            code,
            CardDavErrorCode::Network | CardDavErrorCode::RateLimited | CardDavErrorCode::Conflict
        );
        Self { code, message: message.into(), remedy: remedy.into(), retryable }
    }

    /// The server refused the credentials.
    pub fn auth_denied(url: &str) -> Self {
        Self::new(
            CardDavErrorCode::AuthDenied,
            format!("the CardDAV server at {url} refused the user name or password"),
            "Check the user name and password (some providers, e.g. iCloud and Fastmail, need an app-specific password).",
        )
    }

    /// Something that should be a WebDAV/CardDAV answer is not.
    pub fn not_carddav(url: &str, what: impl fmt::Display) -> Self {
        Self::new(
            CardDavErrorCode::BadResponse,
            format!("{url} did not answer as a CardDAV server: {what}"),
            "Check the server URL: it must be the CardDAV address of the server (e.g. https://cloud.example.com/remote.php/dav), not its web page.",
        )
    }

    /// A malformed answer from a server that otherwise speaks CardDAV.
    pub fn bad_response(message: impl Into<String>) -> Self {
        Self::new(
            CardDavErrorCode::BadResponse,
            message,
            "The server sent an answer we could not read; try again later and report it if it persists.",
        )
    }

    /// The chosen address book is gone.
    pub fn no_address_book(url: &str) -> Self {
        Self::new(
            CardDavErrorCode::NotFound,
            format!("there is no address book at {url}"),
            "Choose an address book again in the settings (it may have been deleted or renamed).",
        )
    }

    /// 412 on a conditional write.
    pub fn conflict(href: &str) -> Self {
        Self::new(
            CardDavErrorCode::Conflict,
            format!("the card {href} changed on the server while we were writing it"),
            "Nothing to do: the next run reads it again and merges.",
        )
    }

    /// Transport failures and server errors.
    pub fn network(message: impl Into<String>) -> Self {
        Self::new(
            CardDavErrorCode::Network,
            message,
            "Check the network connection and that the server is up; the next run tries again.",
        )
    }
}

impl From<RedirectRefusal> for CardDavError {
    fn from(refusal: RedirectRefusal) -> Self {
        let code = match refusal {
            RedirectRefusal::OtherOrigin { .. } => CardDavErrorCode::NotAllowedHost,
            _ => CardDavErrorCode::BadResponse,
        };
        Self::new(code, refusal.message(), refusal.remedy())
    }
}

impl fmt::Display for CardDavError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for CardDavError {}
