//! The engine's error: a stable code (the host contract's `ErrorCode`), a sentence for
//! people and a remedy. Never carries contact data beyond ids, never a secret.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An error the engine reports or receives about a write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EngineError {
    /// A stable code from `ErrorCode` in `host-api.d.ts` (e.g. `GUARD_TRIPPED`, `CONFLICT`).
    pub code: String,
    /// What happened, for people.
    pub message: String,
    /// What a person can do about it.
    pub remedy: String,
    /// Whether trying again later may help.
    #[serde(default)]
    pub retryable: bool,
    /// For a guard stop: examples of what the run would have deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub would_delete: Vec<super::report::ChangeSample>,
}

impl EngineError {
    /// Builds an error; `code` must be one of the contract's codes.
    ///
    /// ```
    /// use contact_sync::engine::EngineError;
    /// let e = EngineError::new("CONFLICT", "stale version", "Run the sync again.");
    /// assert_eq!(e.code, "CONFLICT");
    /// ```
    pub fn new(code: &str, message: impl Into<String>, remedy: impl Into<String>) -> Self {
        EngineError { code: code.to_string(), message: message.into(), remedy: remedy.into(), retryable: false, would_delete: Vec::new() }
    }

    /// The same error, marked as worth retrying.
    pub fn retryable(mut self) -> Self {
        self.retryable = true;
        self
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.code, self.message, self.remedy)
    }
}

impl std::error::Error for EngineError {}
