//! The one error type that crosses the host contract (`CodedError` in
//! `www/plugin/host-api.d.ts`).
//!
//! Every failure carries a stable [`ErrorCode`] the host and the settings tab branch on,
//! a message for people, a remedy they can act on, and whether retrying may help. The
//! message must never hold a secret: `Display` prints only code and message, and callers
//! build messages from names and statuses, never from tokens or request bodies.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The stable error codes of hostApi "1". Never renamed once released: hosts and the
/// settings tab match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// The access token expired and could not be refreshed: reconnect.
    AuthExpired,
    /// The account refused access (consent denied, scope removed).
    AuthDenied,
    /// The spoke has no credentials yet.
    NotConnected,
    /// The remote asked us to slow down; see `retry_after_ms`.
    RateLimited,
    /// The request did not reach the server or no answer came back.
    Network,
    /// The URL is not in the manifest's network allowlist.
    NotAllowedHost,
    /// The remote answered something we cannot read.
    BadResponse,
    /// A caller passed malformed input.
    BadInput,
    /// Settings do not validate; `reasons` lists every problem.
    InvalidSettings,
    /// The record changed since it was read (optimistic concurrency).
    Conflict,
    /// The record does not exist (any more).
    NotFound,
    /// A safety guard stopped the run (e.g. too many deletions).
    GuardTripped,
    /// Another run holds the lease.
    AlreadyRunning,
    /// The run was cancelled.
    Cancelled,
    /// The host speaks another contract version, or lacks a required part of it.
    HostApiMismatch,
    /// The host's storage failed.
    Storage,
    /// A bug on our side.
    Internal,
}

impl ErrorCode {
    /// Every code, in declaration order (the contract's list).
    pub const ALL: [ErrorCode; 17] = [
        ErrorCode::AuthExpired,
        ErrorCode::AuthDenied,
        ErrorCode::NotConnected,
        ErrorCode::RateLimited,
        ErrorCode::Network,
        ErrorCode::NotAllowedHost,
        ErrorCode::BadResponse,
        ErrorCode::BadInput,
        ErrorCode::InvalidSettings,
        ErrorCode::Conflict,
        ErrorCode::NotFound,
        ErrorCode::GuardTripped,
        ErrorCode::AlreadyRunning,
        ErrorCode::Cancelled,
        ErrorCode::HostApiMismatch,
        ErrorCode::Storage,
        ErrorCode::Internal,
    ];

    /// The wire spelling, e.g. `"RATE_LIMITED"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::AuthExpired => "AUTH_EXPIRED",
            ErrorCode::AuthDenied => "AUTH_DENIED",
            ErrorCode::NotConnected => "NOT_CONNECTED",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::Network => "NETWORK",
            ErrorCode::NotAllowedHost => "NOT_ALLOWED_HOST",
            ErrorCode::BadResponse => "BAD_RESPONSE",
            ErrorCode::BadInput => "BAD_INPUT",
            ErrorCode::InvalidSettings => "INVALID_SETTINGS",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::GuardTripped => "GUARD_TRIPPED",
            ErrorCode::AlreadyRunning => "ALREADY_RUNNING",
            ErrorCode::Cancelled => "CANCELLED",
            ErrorCode::HostApiMismatch => "HOST_API_MISMATCH",
            ErrorCode::Storage => "STORAGE",
            ErrorCode::Internal => "INTERNAL",
        }
    }

    /// Parses the wire spelling; unknown codes (a newer host) read as `None`.
    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// Whether trying again later may help, when the raiser did not say.
    pub fn retryable_by_default(self) -> bool {
        matches!(
            self,
            ErrorCode::RateLimited
                | ErrorCode::Network
                | ErrorCode::AlreadyRunning
                | ErrorCode::Storage
                | ErrorCode::Conflict
        )
    }

    /// A generic remedy, used when the raiser has no better one.
    pub fn default_remedy(self) -> &'static str {
        match self {
            ErrorCode::AuthExpired => "Reconnect the account in the plugin's settings.",
            ErrorCode::AuthDenied => {
                "Reconnect the account and grant access to its contacts."
            }
            ErrorCode::NotConnected => "Connect the account in the plugin's settings.",
            ErrorCode::RateLimited => "Wait; the next run continues where this one stopped.",
            ErrorCode::Network => "Check the network connection; the next run tries again.",
            ErrorCode::NotAllowedHost => {
                "Use an address listed in the plugin's network permissions."
            }
            ErrorCode::BadResponse => {
                "Try again later; if it persists, report it with the run history."
            }
            ErrorCode::BadInput => "Check the values passed to the plugin.",
            ErrorCode::InvalidSettings => "Correct the settings listed and save again.",
            ErrorCode::Conflict => "Reload the record; the next run retries with fresh data.",
            ErrorCode::NotFound => "Reload: the record no longer exists.",
            ErrorCode::GuardTripped => {
                "Review the preview; raise the guard in settings only if the change is intended."
            }
            ErrorCode::AlreadyRunning => "Wait for the running sync to finish.",
            ErrorCode::Cancelled => "Start the sync again when ready.",
            ErrorCode::HostApiMismatch => "Update the CRM or install a matching plugin version.",
            ErrorCode::Storage => "Try again; if it persists, check the CRM's storage.",
            ErrorCode::Internal => "Report this problem with the run history.",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure with a stable code (the contract's `CodedError`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginError {
    /// Stable code to branch on.
    pub code: ErrorCode,
    /// For people; never holds a secret.
    pub message: String,
    /// A sentence a person can act on.
    pub remedy: String,
    /// Whether trying again later may help.
    pub retryable: bool,
    /// For RATE_LIMITED: how long to wait, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// For CONFLICT: the record's current version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_version: Option<u64>,
    /// For INVALID_SETTINGS and BAD_INPUT: every problem found, one per entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

/// Shorthand for results of fallible plugin operations.
pub type PluginResult<T> = Result<T, PluginError>;

impl PluginError {
    /// An error with the code's default remedy and retryability.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        PluginError {
            code,
            message: message.into(),
            remedy: code.default_remedy().to_string(),
            retryable: code.retryable_by_default(),
            retry_after_ms: None,
            current_version: None,
            reasons: Vec::new(),
        }
    }

    /// Replaces the remedy with a more specific one.
    pub fn with_remedy(mut self, remedy: impl Into<String>) -> Self {
        self.remedy = remedy.into();
        self
    }

    /// Overrides whether retrying may help.
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    /// Sets the wait a RATE_LIMITED answer asked for.
    pub fn with_retry_after_ms(mut self, ms: u64) -> Self {
        self.retry_after_ms = Some(ms);
        self
    }

    /// Sets the current version of a record that caused a CONFLICT.
    pub fn with_current_version(mut self, version: u64) -> Self {
        self.current_version = Some(version);
        self
    }

    /// Attaches the list of problems (INVALID_SETTINGS, BAD_INPUT).
    pub fn with_reasons(mut self, reasons: Vec<String>) -> Self {
        self.reasons = reasons;
        self
    }

    /// BAD_INPUT with a message.
    pub fn bad_input(message: impl Into<String>) -> Self {
        PluginError::new(ErrorCode::BadInput, message)
    }

    /// INTERNAL with a message.
    pub fn internal(message: impl Into<String>) -> Self {
        PluginError::new(ErrorCode::Internal, message)
    }

    /// INVALID_SETTINGS listing every reason; the message sums them up.
    pub fn invalid_settings(reasons: Vec<String>) -> Self {
        let message = match reasons.as_slice() {
            [] => "The settings are not valid.".to_string(),
            [one] => format!("The settings are not valid: {one}"),
            many => format!("The settings are not valid ({} problems): {}", many.len(), many.join("; ")),
        };
        PluginError::new(ErrorCode::InvalidSettings, message).with_reasons(reasons)
    }
}

impl fmt::Display for PluginError {
    /// `CODE: message` — remedy and details stay in their own fields.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for PluginError {}

impl From<serde_json::Error> for PluginError {
    /// A JSON value of the wrong shape is the caller's input problem; serde's message
    /// names the field and the expected type, never the value itself.
    fn from(err: serde_json::Error) -> Self {
        PluginError::bad_input(format!("Malformed input: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_their_wire_spelling() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, serde_json::Value::String(code.as_str().to_string()));
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(ErrorCode::parse("NOPE"), None);
    }

    #[test]
    fn every_contract_code_is_known() {
        let dts = include_str!("../www/plugin/host-api.d.ts");
        let start = dts.find("export type ErrorCode =").unwrap();
        let end = start + dts[start..].find(';').unwrap();
        let listed: Vec<&str> = dts[start..end]
            .split('"')
            .skip(1)
            .step_by(2)
            .collect();
        assert_eq!(listed.len(), ErrorCode::ALL.len());
        for code in listed {
            assert!(ErrorCode::parse(code).is_some(), "{code} missing in ErrorCode");
        }
    }

    #[test]
    fn display_shows_code_and_message_only() {
        let e = PluginError::new(ErrorCode::Conflict, "Contact c1 changed").with_current_version(4);
        assert_eq!(e.to_string(), "CONFLICT: Contact c1 changed");
        assert!(e.retryable);
    }

    #[test]
    fn invalid_settings_lists_every_reason_in_the_message() {
        let e = PluginError::invalid_settings(vec!["a is wrong".into(), "b is wrong".into()]);
        assert_eq!(e.code, ErrorCode::InvalidSettings);
        assert_eq!(e.reasons.len(), 2);
        assert!(e.message.contains("a is wrong") && e.message.contains("b is wrong"));
    }
}
