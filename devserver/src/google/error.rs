//! Google's error envelope (`{"error":{"code","message","status","details"}}`) and the
//! canonical google.rpc status strings, so clients can key on the same values as in production.

use super::http::Resp;
use serde_json::{json, Value};

/// An API error as Google renders it.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: u16,
    pub status: &'static str,
    pub message: String,
    pub details: Vec<Value>,
    /// Extra response headers (e.g. `Retry-After`, `WWW-Authenticate`).
    pub headers: Vec<(String, String)>,
}

/// Result type of every API handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: u16, status: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { code, status, message: message.into(), details: Vec::new(), headers: Vec::new() }
    }

    /// 400 INVALID_ARGUMENT.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "INVALID_ARGUMENT", message)
    }

    /// 400 FAILED_PRECONDITION.
    pub fn precondition(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "FAILED_PRECONDITION", message)
    }

    /// 404 NOT_FOUND with Google's usual message.
    pub fn not_found() -> ApiError {
        ApiError::new(404, "NOT_FOUND", "Requested entity was not found.")
    }

    /// Adds a `google.rpc.ErrorInfo` detail.
    pub fn with_reason(mut self, reason: &str, domain: &str, metadata: Value) -> ApiError {
        let mut info = json!({
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": reason,
            "domain": domain,
        });
        if metadata.as_object().is_some_and(|m| !m.is_empty()) {
            info["metadata"] = metadata;
        }
        self.details.push(info);
        self
    }

    /// Adds a `google.rpc.BadRequest` detail with one field violation per entry.
    pub fn with_field_violations(mut self, violations: &[(String, String)]) -> ApiError {
        let v: Vec<Value> = violations
            .iter()
            .map(|(f, d)| json!({"field": f, "description": d}))
            .collect();
        self.details.push(json!({"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": v}));
        self
    }

    /// The numeric google.rpc.Code of the status string (used in per-item `Status`).
    pub fn rpc_code(&self) -> i64 {
        rpc_code(self.status)
    }

    /// The `{"error":{...}}` body.
    pub fn body(&self) -> Value {
        let mut err = json!({"code": self.code, "message": self.message, "status": self.status});
        if !self.details.is_empty() {
            err["details"] = Value::Array(self.details.clone());
        }
        json!({ "error": err })
    }

    /// The per-item `Status` object used inside batch responses.
    pub fn item_status(&self) -> Value {
        let mut s = json!({"code": self.rpc_code(), "message": self.message});
        if !self.details.is_empty() {
            s["details"] = Value::Array(self.details.clone());
        }
        s
    }

    pub fn into_resp(self) -> Resp {
        let mut r = Resp::json(self.code, &self.body());
        for (k, v) in &self.headers {
            r.set_header(k, v);
        }
        r
    }
}

/// Maps google.rpc status names to their numeric codes.
pub fn rpc_code(status: &str) -> i64 {
    match status {
        "OK" => 0,
        "CANCELLED" => 1,
        "UNKNOWN" => 2,
        "INVALID_ARGUMENT" => 3,
        "DEADLINE_EXCEEDED" => 4,
        "NOT_FOUND" => 5,
        "ALREADY_EXISTS" => 6,
        "PERMISSION_DENIED" => 7,
        "RESOURCE_EXHAUSTED" => 8,
        "FAILED_PRECONDITION" => 9,
        "ABORTED" => 10,
        "OUT_OF_RANGE" => 11,
        "UNIMPLEMENTED" => 12,
        "INTERNAL" => 13,
        "UNAVAILABLE" => 14,
        "DATA_LOSS" => 15,
        "UNAUTHENTICATED" => 16,
        _ => 2,
    }
}

/// The status string Google uses for an HTTP status (for injected faults).
pub fn status_for_http(code: u16) -> &'static str {
    match code {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        500 => "INTERNAL",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "UNKNOWN",
    }
}
