#![cfg(not(target_arch = "wasm32"))]
//! Scale: 25,000 contacts (Google's commonly quoted account limit) list in 25 pages and a
//! full batch write round stays fast enough for benchmarks to measure the client, not us.

mod common;
use common::*;
use serde_json::{json, Value};
use std::time::Instant;

#[test]
fn twenty_five_thousand_contacts_list_in_twenty_five_pages_then_a_quiet_delta() {
    let emu = start_demo();
    let a = admin(&emu);
    let t = Instant::now();
    a.post(&format!("/__admin/accounts/{DEMO}/contacts"), &json!({"generate": 24_975}));
    let seeded = t.elapsed();
    let c = api(&emu);
    let t = Instant::now();
    let (people, sync, pages) = list_all(&c, "&requestSyncToken=true", 1000);
    let listed = t.elapsed();
    assert_eq!(people.len(), 25_000);
    assert_eq!(pages, 25, "⌈25000/1000⌉ pages");
    let t = Instant::now();
    let items: Vec<Value> = (0..200).map(|i| json!({"contactPerson": new_person("S", &format!("s{i}@e.fr"))})).collect();
    for _ in 0..5 {
        assert_eq!(c.post("/v1/people:batchCreateContacts", &json!({"contacts": items, "readMask": "names"})).status, 200);
    }
    let written = t.elapsed();
    let (delta, _, _) = list_all(&c, &format!("&syncToken={}", enc(&sync.expect("token"))), 1000);
    assert_eq!(delta.len(), 1000);
    eprintln!("seed 24,975: {seeded:?}; list 25,000 in 25 pages: {listed:?}; 5 batches of 200: {written:?}");
    assert!(listed.as_secs() < 60, "listing took {listed:?}");
}
