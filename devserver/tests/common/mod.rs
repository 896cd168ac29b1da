//! Shared helpers for the emulator tests: an HTTP client that never follows redirects nor
//! turns statuses into errors, and the OAuth dance that yields tokens.
#![allow(dead_code)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use devserver::google::{self, EmulatorConfig, GoogleEmulator};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::time::Duration;

pub const CLIENT_ID: &str = "demo-client.apps.googleusercontent.com";
pub const CLIENT_SECRET: &str = "demo-secret";
pub const DEMO: &str = "demo@example.com";
pub const CONTACTS: &str = "https://www.googleapis.com/auth/contacts";
pub const READONLY: &str = "https://www.googleapis.com/auth/contacts.readonly";
pub const REDIRECT: &str = "http://127.0.0.1:9/callback";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-emulator-tests";

/// A response, read fully.
#[derive(Debug)]
pub struct Res {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Res {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// `error.status` of Google's envelope.
    pub fn error_status(&self) -> String {
        self.json()["error"]["status"].as_str().unwrap_or("").to_string()
    }
    pub fn error_message(&self) -> String {
        self.json()["error"]["message"].as_str().unwrap_or("").to_string()
    }
}

/// A test client bound to one emulator.
pub struct Client {
    agent: ureq::Agent,
    pub base: String,
    pub token: Option<String>,
}

impl Client {
    pub fn new(base: &str) -> Client {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .allow_non_standard_methods(true)
            .timeout_global(Some(Duration::from_secs(20)))
            .build();
        Client { agent: ureq::Agent::new_with_config(config), base: base.trim_end_matches('/').to_string(), token: None }
    }

    pub fn with_token(base: &str, token: &str) -> Client {
        let mut c = Client::new(base);
        c.token = Some(token.to_string());
        c
    }

    /// Sends a request; `Err` only for transport failures (dropped connections and the like).
    pub fn try_send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<Vec<u8>>) -> Result<Res, String> {
        let mut b = ureq::http::Request::builder().method(method).uri(format!("{}{}", self.base, path));
        if let Some(t) = &self.token {
            b = b.header("Authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b.body(body.unwrap_or_default()).map_err(|e| e.to_string())?;
        let mut res = self.agent.run(req).map_err(|e| e.to_string())?;
        let status = res.status().as_u16();
        let headers = res
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let body = res.body_mut().with_config().limit(256 * 1024 * 1024).read_to_string().map_err(|e| e.to_string())?;
        Ok(Res { status, headers, body })
    }

    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<Vec<u8>>) -> Res {
        self.try_send(method, path, headers, body).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    pub fn get(&self, path: &str) -> Res {
        self.send("GET", path, &[], None)
    }
    pub fn delete(&self, path: &str) -> Res {
        self.send("DELETE", path, &[], None)
    }
    pub fn json(&self, method: &str, path: &str, body: &Value) -> Res {
        self.send(method, path, &[("Content-Type", "application/json")], Some(body.to_string().into_bytes()))
    }
    pub fn post(&self, path: &str, body: &Value) -> Res {
        self.json("POST", path, body)
    }
    pub fn form(&self, path: &str, pairs: &[(&str, &str)]) -> Res {
        let body = pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&");
        self.send("POST", path, &[("Content-Type", "application/x-www-form-urlencoded")], Some(body.into_bytes()))
    }
}

/// Percent-encodes a query or form component.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes a query component.
pub fn dec(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?'));
            i += 3;
        } else if b[i] == b'+' {
            out.push(b' ');
            i += 1;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).to_string()
}

/// Query parameters of a Location header.
pub fn location_params(loc: &str) -> Vec<(String, String)> {
    let q = loc.split_once('?').map(|(_, q)| q).unwrap_or("");
    q.split('&').filter_map(|p| p.split_once('=')).map(|(k, v)| (dec(k), dec(v))).collect()
}

pub fn param(pairs: &[(String, String)], k: &str) -> Option<String> {
    pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
}

pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Starts an emulator with quotas off (tests that measure quotas turn them on).
pub fn start_demo() -> GoogleEmulator {
    let mut cfg = EmulatorConfig::demo();
    cfg.quota.enabled = false;
    google::start(0, cfg).expect("emulator starts")
}

pub fn start_with(cfg: EmulatorConfig) -> GoogleEmulator {
    google::start(0, cfg).expect("emulator starts")
}

/// Posts the consent form as a browser would after the page; returns the redirect Location.
pub fn consent(base: &str, client_id: &str, account: &str, scope: &str, offline: bool, decision: &str) -> Res {
    let c = Client::new(base);
    let ch = challenge(VERIFIER);
    c.form(
        "/o/oauth2/v2/auth/consent",
        &[
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", scope),
            ("access_type", if offline { "offline" } else { "online" }),
            ("state", "st-123"),
            ("code_challenge", &ch),
            ("code_challenge_method", "S256"),
            ("account", account),
            ("decision", decision),
        ],
    )
}

/// The whole flow for the demo account: returns the token response.
pub fn tokens(base: &str, scope: &str, offline: bool) -> Value {
    let r = consent(base, CLIENT_ID, DEMO, scope, offline, "allow");
    assert_eq!(r.status, 302, "{}", r.body);
    let loc = location_params(r.header("Location").unwrap_or(""));
    let code = param(&loc, "code").expect("code in redirect");
    let c = Client::new(base);
    let t = c.form(
        "/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    );
    assert_eq!(t.status, 200, "{}", t.body);
    t.json()
}

/// A client holding a read/write access token for the demo account.
pub fn api(emu: &GoogleEmulator) -> Client {
    let t = tokens(emu.url(), CONTACTS, true);
    Client::with_token(emu.url(), t["access_token"].as_str().unwrap_or(""))
}

/// Lists every connection page by page; returns (people, nextSyncToken, requests made).
pub fn list_all(c: &Client, extra: &str, page_size: usize) -> (Vec<Value>, Option<String>, usize) {
    let mut people = Vec::new();
    let mut page: Option<String> = None;
    let mut n = 0;
    loop {
        let mut path = format!("/v1/people/me/connections?personFields=names,emailAddresses,phoneNumbers,memberships,clientData&pageSize={page_size}{extra}");
        if let Some(p) = &page {
            path.push_str(&format!("&pageToken={}", enc(p)));
        }
        let r = c.get(&path);
        n += 1;
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json();
        people.extend(v["connections"].as_array().cloned().unwrap_or_default());
        match v["nextPageToken"].as_str() {
            Some(p) => {
                assert!(v.get("nextSyncToken").is_none(), "nextSyncToken only on the last page");
                page = Some(p.to_string());
            }
            None => return (people, v["nextSyncToken"].as_str().map(String::from), n),
        }
    }
}

pub fn admin(emu: &GoogleEmulator) -> Client {
    Client::new(emu.url())
}

pub fn new_person(given: &str, email: &str) -> Value {
    json!({"names": [{"givenName": given, "familyName": "Test"}], "emailAddresses": [{"value": email}]})
}
