//! The one error type a provider returns. Codes are the contract's `ErrorCode` strings,
//! so the runner passes them to the host unchanged.

use std::fmt;

/// A failure talking to a remote address book: a stable code, a sentence for people,
/// what to do about it, and whether trying again later may help.
///
/// Never carries a token: messages are built from status codes and Google's own
/// `error.message`, which does not echo credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    /// One of the contract's `ErrorCode` values, e.g. `"RATE_LIMITED"`.
    pub code: &'static str,
    /// What happened.
    pub message: String,
    /// What the operator can do.
    pub remedy: String,
    /// Whether a later attempt may succeed.
    pub retryable: bool,
    /// For `RATE_LIMITED`: how long the server asked us to wait.
    pub retry_after_ms: Option<u64>,
}

impl ProviderError {
    /// A new error; `retryable` false, no wait.
    pub fn new(code: &'static str, message: impl Into<String>, remedy: impl Into<String>) -> Self {
        ProviderError {
            code,
            message: message.into(),
            remedy: remedy.into(),
            retryable: false,
            retry_after_ms: None,
        }
    }

    /// Marks it retryable.
    pub fn retryable(mut self) -> Self {
        self.retryable = true;
        self
    }

    /// A response body that does not parse as the API says it should.
    pub fn bad_response(what: &str, detail: impl fmt::Display) -> Self {
        ProviderError::new(
            "BAD_RESPONSE",
            format!("unexpected answer from the address book ({what}): {detail}"),
            "Try again later; if it persists, report it with the run's history.",
        )
        .retryable()
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ProviderError {}

/// The contract's error for a provider's (unknown codes read as INTERNAL; an empty remedy
/// takes the code's default one).
impl From<ProviderError> for crate::error::PluginError {
    fn from(e: ProviderError) -> Self {
        use crate::error::{ErrorCode, PluginError};
        let code = ErrorCode::parse(e.code).unwrap_or(ErrorCode::Internal);
        let mut out = PluginError::new(code, e.message).with_retryable(e.retryable);
        if !e.remedy.is_empty() {
            out = out.with_remedy(e.remedy);
        }
        if let Some(ms) = e.retry_after_ms {
            out = out.with_retry_after_ms(ms);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorCode, PluginError};

    #[test]
    fn provider_errors_keep_code_remedy_and_retry() {
        let e = PluginError::from(ProviderError::new("AUTH_DENIED", "refused", "Check the password.").retryable());
        assert_eq!(e.code, ErrorCode::AuthDenied);
        assert_eq!(e.remedy, "Check the password.");
        assert!(e.retryable);
        assert_eq!(PluginError::from(ProviderError::new("WHAT", "x", "")).code, ErrorCode::Internal);
    }
}
