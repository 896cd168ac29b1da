//! The request log: one JSON line per request (method, path, query, body, status, start and
//! end times), with tokens, codes and secrets redacted before anything is stored.

use super::http::percent_decode;
use serde_json::{json, Value};

/// Names whose values are secrets wherever they appear (query, form or JSON body).
const SECRET_NAMES: &[&str] = &[
    "access_token", "oauth_token", "token", "refresh_token", "code", "client_secret", "code_verifier", "id_token", "password",
];

const REDACTED: &str = "REDACTED";
const MAX_BODY: usize = 256 * 1024;

fn is_secret(name: &str) -> bool {
    SECRET_NAMES.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// Redacts secret values in `a=1&b=2` text, keeping every other pair exactly as sent.
pub fn redact_form(text: &str) -> String {
    text.split('&')
        .map(|pair| {
            let key = pair.split_once('=').map(|(k, _)| k).unwrap_or(pair);
            if is_secret(&percent_decode(key, true)) {
                format!("{key}={REDACTED}")
            } else {
                pair.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn redact_json(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                if is_secret(k) {
                    *val = json!(REDACTED);
                } else {
                    redact_json(val);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(redact_json),
        _ => {}
    }
}

/// The body as it is logged: JSON redacted by key, forms by name, other text as is.
pub fn redact_body(body: &[u8], content_type: Option<&str>) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX_BODY)]).to_string();
    if let Ok(mut v) = serde_json::from_slice::<Value>(body) {
        redact_json(&mut v);
        return v;
    }
    if content_type.is_some_and(|c| c.contains("x-www-form-urlencoded")) || text.contains('=') {
        return json!(redact_form(&text));
    }
    json!(text)
}

/// One log line.
#[allow(clippy::too_many_arguments)]
pub fn entry(method: &str, path: &str, raw_query: &str, body: Value, status: u16, start_ms: i64, end_ms: i64, fault: Option<&str>) -> Value {
    let mut e = json!({
        "method": method,
        "path": path,
        "query": redact_form(raw_query),
        "body": body,
        "status": status,
        "startMs": start_ms,
        "endMs": end_ms,
    });
    if let Some(f) = fault {
        e["fault"] = json!(f);
    }
    if let Some(id) = api_method(method, path) {
        e["apiMethod"] = json!(id);
    }
    e
}

/// The discovery method id of a People API request (`people.connections.list`), if any.
fn api_method(method: &str, path: &str) -> Option<String> {
    if !path.starts_with("/v1/") {
        return None;
    }
    match super::discovery::discovery().route(method, path) {
        super::discovery::Route::Found(m, _) => Some(m.id.clone()),
        _ => None,
    }
}

/// Counts for benchmarks: requests by API method and by status, 429s, and the time span.
pub fn summary(lines: &[Value]) -> Value {
    use std::collections::BTreeMap;
    let mut by_method: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    let mut api_requests = 0u64;
    for l in lines.iter().filter(|l| l["method"] != "OPTIONS") {
        let key = l["apiMethod"].as_str().map(String::from).unwrap_or_else(|| l["path"].as_str().unwrap_or("").to_string());
        if l.get("apiMethod").is_some() {
            api_requests += 1;
        }
        *by_method.entry(key).or_default() += 1;
        *by_status.entry(l["status"].to_string()).or_default() += 1;
        first = first.min(l["startMs"].as_i64().unwrap_or(first));
        last = last.max(l["endMs"].as_i64().unwrap_or(last));
    }
    let total: u64 = by_method.values().sum();
    json!({
        "requests": total,
        "apiRequests": api_requests,
        "preflights": lines.iter().filter(|l| l["method"] == "OPTIONS").count(),
        "byMethod": by_method,
        "byStatus": by_status,
        "rateLimited": by_status.get("429").copied().unwrap_or(0),
        "concurrentMutations": lines.iter().filter(|l| l["concurrentMutation"] == true).count(),
        "firstStartMs": if total > 0 { json!(first) } else { Value::Null },
        "lastEndMs": if total > 0 { json!(last) } else { Value::Null },
    })
}
