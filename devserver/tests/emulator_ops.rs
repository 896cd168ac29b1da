#![cfg(not(target_arch = "wasm32"))]
//! Operations: quotas with Retry-After, fault injection, CORS, the request log (redacted),
//! admin seeding and reset.

mod common;
use common::*;
use devserver::google::EmulatorConfig;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn quota_emulator(reads: u32, writes: u32) -> devserver::google::GoogleEmulator {
    let mut cfg = EmulatorConfig::demo();
    cfg.quota.window_ms = 1000;
    cfg.quota.critical_reads = reads;
    cfg.quota.critical_writes = writes;
    start_with(cfg)
}

#[test]
fn reads_over_quota_get_429_resource_exhausted_with_retry_after_then_recover() {
    let emu = quota_emulator(5, 30);
    let c = api(&emu);
    let start = Instant::now();
    for _ in 0..5 {
        assert_eq!(c.get("/v1/people/me?personFields=names").status, 200);
    }
    let r = c.get("/v1/people/me?personFields=names");
    assert!(start.elapsed() < Duration::from_millis(900), "test machine too slow for a 1 s window");
    assert_eq!((r.status, r.error_status()), (429, "RESOURCE_EXHAUSTED".to_string()));
    assert_eq!(r.json()["error"]["details"][0]["reason"], "RATE_LIMIT_EXCEEDED");
    assert_eq!(r.header("Retry-After"), Some("1"));
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(c.get("/v1/people/me?personFields=names").status, 200, "the window slid");
}

#[test]
fn a_batch_create_costs_six_reads_and_six_writes() {
    let emu = quota_emulator(60, 30);
    let c = api(&emu);
    let batch = json!({"contacts": [{"contactPerson": new_person("Q", "q@e.fr")}], "readMask": "names"});
    for i in 0..5 {
        assert_eq!(c.post("/v1/people:batchCreateContacts", &batch).status, 200, "batch {i}");
    }
    let r = c.post("/v1/people:batchCreateContacts", &batch);
    assert_eq!(r.status, 429, "30 writes per window = 5 batches");
    assert!(r.error_message().contains("write_requests"), "{}", r.body);
}

#[test]
fn daily_writes_are_counted_over_a_day_whatever_the_window() {
    let mut cfg = EmulatorConfig::demo();
    cfg.quota.window_ms = 1000;
    cfg.quota.daily_writes = 400;
    let emu = start_with(cfg);
    let c = api(&emu);
    let batch = json!({"contacts": [{"contactPerson": new_person("D", "d@e.fr")}], "readMask": "names"});
    assert_eq!(c.post("/v1/people:batchCreateContacts", &batch).status, 200);
    assert_eq!(c.post("/v1/people:batchCreateContacts", &batch).status, 200);
    std::thread::sleep(Duration::from_millis(1100));
    let r = c.post("/v1/people:batchCreateContacts", &batch);
    assert_eq!(r.status, 429, "200 daily units per batch, 400 a day");
    assert!(r.error_message().contains("per day"), "{}", r.body);
    admin(&emu).post("/__admin/clock/advance", &json!({"days": 1}));
    let c = api(&emu);
    assert_eq!(c.post("/v1/people:batchCreateContacts", &batch).status, 200, "a new day");
}

#[test]
fn log_summary_gives_the_least_time_the_quota_allows() {
    let emu = quota_emulator(60, 30);
    let c = api(&emu);
    admin(&emu).delete("/__admin/log");
    let batch = json!({"contacts": [{"contactPerson": new_person("W", "w@e.fr")}], "readMask": "names"});
    let mut sent = 0;
    while sent < 12 {
        let r = c.post("/v1/people:batchCreateContacts", &batch);
        if r.status == 429 {
            std::thread::sleep(Duration::from_millis(200));
            continue;
        }
        assert_eq!(r.status, 200);
        sent += 1;
    }
    let sum = admin(&emu).get("/__admin/log/summary").json();
    // 12 batches x 6 write units = 72 units at 30 per 1 s window: at least 2 windows.
    assert_eq!(sum["quota"]["buckets"]["people.googleapis.com/write_requests"]["units"], 72);
    assert_eq!(sum["quota"]["quotaBoundMs"], 2000);
    let wall = sum["lastEndMs"].as_i64().unwrap_or(0) - sum["firstStartMs"].as_i64().unwrap_or(0);
    assert!(wall >= 2000, "the emulator really enforced it: {wall} ms");
    assert!(sum["rateLimited"].as_u64().unwrap_or(0) > 0);
}

#[test]
fn the_first_page_of_a_full_sync_costs_extra() {
    let emu = quota_emulator(4, 30);
    let c = api(&emu);
    assert_eq!(c.get("/v1/people/me/connections?personFields=names").status, 200);
    assert_eq!(c.get("/v1/people/me/connections?personFields=names").status, 200);
    assert_eq!(c.get("/v1/people/me/connections?personFields=names").status, 429, "2 + 2 units used");
}

#[test]
fn counted_status_faults_hit_the_next_requests_then_stop() {
    let emu = start_demo();
    let c = api(&emu);
    let a = admin(&emu);
    assert_eq!(a.post("/__admin/faults", &json!({"pathPrefix": "/v1/people", "count": 2, "kind": "status", "status": 503})).status, 200);
    let r = c.get("/v1/people/me?personFields=names");
    assert_eq!((r.status, r.error_status()), (503, "UNAVAILABLE".to_string()));
    assert_eq!(c.get("/v1/people/me?personFields=names").status, 503);
    assert_eq!(c.get("/v1/people/me?personFields=names").status, 200);
    a.post("/__admin/faults", &json!({"pathPrefix": "/token", "count": 1, "kind": "status", "status": 500}));
    let r = c.form("/token", &[("grant_type", "refresh_token")]);
    assert_eq!(r.status, 500);
}

#[test]
fn fractional_faults_hit_about_that_fraction() {
    let emu = start_demo();
    let c = api(&emu);
    admin(&emu).post("/__admin/faults", &json!({"pathPrefix": "/v1/", "fraction": 0.2, "kind": "status", "status": 429}));
    let hits = (0..300).filter(|_| c.get("/v1/people/me?personFields=names").status == 429).count();
    assert!((30..=90).contains(&hits), "{hits} of 300 at 20%");
    admin(&emu).delete("/__admin/faults");
    assert_eq!(c.get("/v1/people/me?personFields=names").status, 200);
}

#[test]
fn dropped_connections_malformed_and_truncated_bodies_and_latency() {
    let emu = start_demo();
    let c = api(&emu);
    let a = admin(&emu);
    a.post("/__admin/faults", &json!({"pathPrefix": "/v1/", "count": 1, "kind": "drop"}));
    assert!(c.try_send("GET", "/v1/people/me?personFields=names", &[], None).is_err(), "connection dropped");
    a.post("/__admin/faults", &json!({"pathPrefix": "/v1/", "count": 1, "kind": "malformed"}));
    let r = c.get("/v1/people/me/connections?personFields=names");
    assert_eq!(r.status, 200);
    assert!(serde_json::from_str::<Value>(&r.body).is_err());
    a.post("/__admin/faults", &json!({"pathPrefix": "/v1/", "count": 1, "kind": "truncated"}));
    let r = c.get("/v1/people/me/connections?personFields=names");
    assert!(serde_json::from_str::<Value>(&r.body).is_err(), "truncated JSON");
    a.post("/__admin/faults", &json!({"pathPrefix": "/v1/", "count": 1, "kind": "latency", "ms": 300}));
    let t = Instant::now();
    assert_eq!(c.get("/v1/people/me?personFields=names").status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(c.get("/v1/people/me?personFields=names").status, 200, "back to normal");
}

#[test]
fn cors_preflight_and_headers_for_loopback_origins_only() {
    let emu = start_demo();
    let c = Client::new(emu.url());
    let pre = c.send(
        "OPTIONS",
        "/v1/people/c1:updateContact",
        &[("Origin", "http://127.0.0.1:5173"), ("Access-Control-Request-Method", "PATCH"), ("Access-Control-Request-Headers", "authorization, content-type")],
        None,
    );
    assert_eq!(pre.status, 204);
    assert_eq!(pre.header("Access-Control-Allow-Origin"), Some("http://127.0.0.1:5173"));
    assert!(pre.header("Access-Control-Allow-Headers").unwrap_or("").contains("Authorization"));
    assert!(pre.header("Access-Control-Allow-Methods").unwrap_or("").contains("PATCH"));
    let foreign = c.send("OPTIONS", "/v1/people/me", &[("Origin", "https://evil.example"), ("Access-Control-Request-Method", "GET")], None);
    assert_eq!(foreign.status, 403);
    assert!(foreign.header("Access-Control-Allow-Origin").is_none());
    let t = tokens(emu.url(), CONTACTS, false);
    let api = Client::with_token(emu.url(), t["access_token"].as_str().unwrap_or(""));
    let r = api.send("GET", "/v1/people/me?personFields=names", &[("Origin", "http://localhost:8080")], None);
    assert_eq!(r.header("Access-Control-Allow-Origin"), Some("http://localhost:8080"));
    assert!(r.header("Access-Control-Expose-Headers").unwrap_or("").contains("Retry-After"));
    let tok = c.send("POST", "/token", &[("Origin", "http://127.0.0.1:5173"), ("Content-Type", "application/x-www-form-urlencoded")], Some(b"grant_type=x".to_vec()));
    assert_eq!(tok.header("Access-Control-Allow-Origin"), Some("http://127.0.0.1:5173"), "the token endpoint too");
}

#[test]
fn request_log_has_one_redacted_line_per_request() {
    let emu = start_demo();
    let a = admin(&emu);
    let t = tokens(emu.url(), CONTACTS, true);
    let (at, rt) = (t["access_token"].as_str().unwrap_or("").to_string(), t["refresh_token"].as_str().unwrap_or("").to_string());
    let c = Client::with_token(emu.url(), &at);
    c.get("/v1/people/me/connections?personFields=names&pageSize=5");
    Client::new(emu.url()).get(&format!("/v1/people/me?personFields=names&access_token={at}"));
    Client::new(emu.url()).form("/token", &[("grant_type", "refresh_token"), ("refresh_token", &rt), ("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)]);
    let log = a.get("/__admin/log");
    assert_eq!(log.status, 200);
    let lines: Vec<Value> = log.body.lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    assert_eq!(lines.len(), 5, "consent, token, list, get, refresh: {}", log.body);
    let list = &lines[2];
    assert_eq!(list["method"], "GET");
    assert_eq!(list["path"], "/v1/people/me/connections");
    assert_eq!(list["query"], "personFields=names&pageSize=5", "the query as sent");
    assert_eq!(list["status"], 200);
    assert!(list["startMs"].as_i64().unwrap_or(0) <= list["endMs"].as_i64().unwrap_or(-1));
    for secret in [at.as_str(), rt.as_str(), CLIENT_SECRET, VERIFIER] {
        assert!(!log.body.contains(secret), "secret leaked into the log");
    }
    assert!(log.body.contains("REDACTED"));
    assert_eq!(list["apiMethod"], "people.connections.list");
    let sum = a.get("/__admin/log/summary").json();
    assert_eq!(sum["requests"], 5);
    assert_eq!(sum["apiRequests"], 2);
    assert_eq!(sum["byMethod"]["people.get"], 1);
    assert_eq!(sum["byMethod"]["/token"], 2);
    assert_eq!(sum["rateLimited"], 0);
    a.delete("/__admin/log");
    assert_eq!(a.get("/__admin/log").body, "");
}

#[test]
fn admin_seeds_generated_contacts_and_resets() {
    let emu = start_demo();
    let a = admin(&emu);
    let r = a.post(&format!("/__admin/accounts/{DEMO}/contacts"), &json!({"generate": 1500}));
    assert_eq!(r.json()["resourceNames"].as_array().map(Vec::len), Some(1500));
    let c = api(&emu);
    let (people, _, pages) = list_all(&c, "", 1000);
    assert_eq!(people.len(), 1525);
    assert_eq!(pages, 2);
    let emails: std::collections::BTreeSet<String> = people.iter().map(|p| p["emailAddresses"][0]["value"].as_str().unwrap_or("").to_string()).collect();
    assert_eq!(emails.len(), 1525, "generated e-mails are unique");
    a.post("/__admin/reset", &json!({"seed": "empty"}));
    assert_eq!(a.get("/__admin/accounts").json()["accounts"], json!([]));
    a.post("/__admin/reset", &json!({"seed": "demo"}));
    assert_eq!(a.get("/__admin/accounts").json()["accounts"][0]["contacts"], 25);
}

#[test]
fn admin_refuses_seed_contacts_that_are_not_valid_people() {
    let emu = start_demo();
    let a = admin(&emu);
    let r = a.post(&format!("/__admin/accounts/{DEMO}/contacts"), &json!({"contacts": [{"names": [{"givenName": "Ok"}]}, {"name": "typo"}]}));
    assert_eq!(r.status, 400);
    assert!(r.error_message().contains("contacts[1]"), "{}", r.body);
    assert_eq!(a.get(&format!("/__admin/accounts/{DEMO}/contacts")).json()["total"], 25, "nothing seeded from a refused batch");
    let ok = a.post(&format!("/__admin/accounts/{DEMO}/contacts"), &json!({"contacts": [{"names": [{"givenName": "Ok"}], "clientData": [{"key": "crmId", "value": "9"}]}]}));
    assert_eq!(ok.status, 200, "{}", ok.body);
}

fn overlapping_creates(emu: &devserver::google::GoogleEmulator) -> (u16, u16) {
    let c = api(emu);
    let token = c.token.clone().unwrap_or_default();
    admin(emu).post("/__admin/faults", &json!({"pathPrefix": "/v1/people:createContact", "count": 1, "kind": "latency", "ms": 500}));
    let base = emu.url().to_string();
    let slow = std::thread::spawn(move || Client::with_token(&base, &token).post("/v1/people:createContact", &new_person("Slow", "slow@e.fr")).status);
    std::thread::sleep(Duration::from_millis(150));
    let fast = c.post("/v1/people:createContact", &new_person("Fast", "fast@e.fr")).status;
    (slow.join().unwrap_or(0), fast)
}

#[test]
fn overlapping_writes_for_one_user_are_flagged_in_the_log() {
    let emu = start_demo();
    admin(&emu).delete("/__admin/log");
    let (slow, fast) = overlapping_creates(&emu);
    assert_eq!((slow, fast), (200, 200));
    let sum = admin(&emu).get("/__admin/log/summary").json();
    assert_eq!(sum["concurrentMutations"], 1, "{sum}");
    let c = api(&emu);
    c.post("/v1/people:createContact", &new_person("A", "a@e.fr"));
    c.post("/v1/people:createContact", &new_person("B", "b@e.fr"));
    assert_eq!(admin(&emu).get("/__admin/log/summary").json()["concurrentMutations"], 1, "sequential writes are not flagged");
}

#[test]
fn overlapping_writes_can_be_refused_with_409_aborted() {
    let mut cfg = EmulatorConfig::demo();
    cfg.quota.enabled = false;
    cfg.reject_concurrent_mutations = true;
    let emu = start_with(cfg);
    let (slow, fast) = overlapping_creates(&emu);
    assert_eq!((slow, fast), (200, 409));
}
