#![cfg(not(target_arch = "wasm32"))]
//! In a real browser (Debian's Chromium through playwright-core): the consent page is clicked
//! through without CSP errors, and a page on another loopback origin calls the token endpoint
//! and the People API (CORS preflight included); an injected dropped connection is a network
//! error to fetch, and an injected 429's Retry-After is readable.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// A second loopback origin standing in for the CRM page: `/callback` and `/blank`.
fn app_server() -> devserver::http_server::HttpServer {
    devserver::http_server::start(0, "app", |_| devserver::http_server::Reply::Response {
        status: 200,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: b"<!doctype html><title>app</title><p>app</p>".to_vec(),
    })
    .expect("bind")
}

#[test]
fn chromium_clicks_through_consent_and_calls_the_api_cross_origin() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let has_browser = Path::new("/usr/bin/chromium").exists() || std::env::var("CHROMIUM_BIN").is_ok();
    if !repo.join("node_modules/playwright-core").exists() || !has_browser {
        eprintln!("SKIPPED: needs node_modules/playwright-core (npm install) and Chromium");
        return;
    }
    let emu = start_demo();
    let server = app_server();
    let app = server.url();
    let out = Command::new("node")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/consent_and_cors.mjs"))
        .arg(emu.url())
        .arg(&app)
        .output()
        .expect("node runs");
    drop(server);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or("");
    let r: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert!(r.get("failure").is_none(), "{r}");
    assert!(r["appName"].as_str().unwrap_or("").contains("Contact Sync (demo)"), "{r}");
    assert!(r["code"].as_str().is_some_and(|c| c.starts_with("4/")), "{r}");
    assert_eq!(r["state"], "browser-state");
    let t = &r["token"];
    assert_eq!(t["tokenStatus"], 200, "{r}");
    assert_eq!(t["hasRefresh"], true);
    assert_eq!(t["listStatus"], 200);
    assert_eq!(t["listed"], 5);
    assert_eq!(t["patchStatus"], 200, "PATCH with JSON and Authorization passes the preflight");
    assert_eq!(t["dropped"], "TypeError", "a dropped connection is a network error to fetch");
    assert_eq!(t["limitedStatus"], 429);
    assert_eq!(t["retryAfter"], "1", "Retry-After is exposed to the page");
    let errors: Vec<String> = r["consoleErrors"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect())
        .unwrap_or_default();
    let unexpected: Vec<&String> = errors.iter().filter(|e| !e.contains("ERR_") && !e.contains("429")).collect();
    assert!(unexpected.is_empty(), "console errors (CSP?): {unexpected:?}");
}
