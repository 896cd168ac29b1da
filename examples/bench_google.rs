//! Request efficiency and quota pacing of the Google spoke, read from the emulator's
//! request log.
//!
//! `cargo run --release --example bench_google [N ...]` (default N = 5000 25000).
//!
//! For each N: the emulated account holds N contacts and the CRM N others. The initial
//! sync lists the account (full listing with `requestSyncToken`) and creates the CRM's N
//! contacts in Google; its People API requests are compared with the lower bound
//! ⌈N/1000⌉ list pages + ⌈N/200⌉ batch writes. The next run absorbs the echoes of our own
//! writes (one delta); the run after it has nothing to do and must cost exactly one
//! request. Then, with the emulator's quota window shrunk to 1 s so that quotas bind, the
//! initial sync of 5,000 is timed against what the quota allows, and 429s are counted.

#[path = "../tests/google_support/mod.rs"]
mod google_support;

use std::time::Instant;

use contact_sync::engine::model::{Contact, Email, Name};
use contact_sync::host::Host;
use contact_sync::providers::google::client::GoogleSpoke;
use contact_sync::providers::google::pacing::Quota;
use contact_sync::providers::{ItemResult, NewRemote, PageNext, Provider};
use devserver::google::{EmulatorConfig, QuotaConfig};
use google_support::{Emu, RealHost, ACCOUNT, CLIENT_SECRET, REDIRECT};
use pollster::block_on;
use serde_json::{json, Value};

fn crm_contact(i: usize) -> NewRemote {
    NewRemote {
        crm_id: format!("crm-{i}"),
        contact: Contact {
            name: Name { given: format!("Crm{i}"), family: "Export".into(), ..Default::default() },
            emails: vec![Email { value: format!("crm{i}@crm.example.com"), ..Default::default() }],
            ..Default::default()
        },
    }
}

fn api_requests(log: &[Value]) -> Vec<&Value> {
    log.iter().filter(|l| l["path"].as_str().is_some_and(|p| p.starts_with("/v1/"))).collect()
}

struct Run {
    requests: usize,
    rate_limited: usize,
    seconds: f64,
    cursor: String,
}

/// Lists everything from `cursor` then creates `creates` in batches of 200.
fn sync(emu: &Emu, spoke: &mut GoogleSpoke<'_, RealHost>, cursor: Option<&str>, creates: &[NewRemote]) -> Run {
    emu.clear_log();
    let started = Instant::now();
    let mut page: Option<String> = None;
    let next_cursor = loop {
        let got = block_on(spoke.list_page(cursor, page.as_deref())).expect("listing");
        match got.next {
            PageNext::More(t) => page = Some(t),
            PageNext::Done(s) => break s,
        }
    };
    for chunk in creates.chunks(200) {
        let results = block_on(spoke.create(chunk)).expect("batch create");
        assert!(results.iter().all(|r| matches!(r, ItemResult::Done(_))), "every contact created");
    }
    let seconds = started.elapsed().as_secs_f64();
    let log = emu.log();
    let api = api_requests(&log);
    Run {
        requests: api.len(),
        rate_limited: api.iter().filter(|l| l["status"] == 429).count(),
        seconds,
        cursor: next_cursor,
    }
}

fn connect(emu: &Emu) -> (RealHost, contact_sync::providers::google::auth::GoogleAuth) {
    let host = RealHost::new(emu, true);
    let auth = emu.auth("g1");
    block_on(host.secret_set(&auth.secrets.client_secret, CLIENT_SECRET)).expect("secret");
    block_on(auth.connect(&host, REDIRECT)).expect("connect");
    (host, auth)
}

fn efficiency(n: usize) {
    let mut config = EmulatorConfig::empty();
    config.quota = QuotaConfig { enabled: false, ..QuotaConfig::default() };
    let emu = Emu::start(config);
    emu.admin("POST", &format!("/accounts/{ACCOUNT}/contacts"), json!({"generate": n}));
    let (host, auth) = connect(&emu);
    let mut spoke = GoogleSpoke::new(&host, auth, Quota::unlimited());
    let creates: Vec<NewRemote> = (0..n).map(crm_contact).collect();
    let initial = sync(&emu, &mut spoke, None, &creates);
    let bound = n.div_ceil(1000) + n.div_ceil(200);
    let echo = sync(&emu, &mut spoke, Some(&initial.cursor), &[]);
    let quiet = sync(&emu, &mut spoke, Some(&echo.cursor), &[]);
    println!(
        "N={n:>6}: initial sync {} requests, lower bound {bound} ({}/1000 pages + {n}/200 batches), ratio {:.3} (target <= 1.1), {:.1} s",
        initial.requests,
        n,
        initial.requests as f64 / bound as f64,
        initial.seconds
    );
    println!(
        "          next run (our {n} writes echo back): {} requests; run with nothing changed: {} request(s) (target 1)",
        echo.requests, quiet.requests
    );
}

fn quota_bound(n: usize, window_ms: u64) {
    let mut config = EmulatorConfig::empty();
    config.quota = QuotaConfig { enabled: true, window_ms, ..QuotaConfig::default() };
    let limits = config.quota.clone();
    let emu = Emu::start(config);
    emu.admin("POST", &format!("/accounts/{ACCOUNT}/contacts"), json!({"generate": n}));
    let (host, auth) = connect(&emu);
    emu.admin("POST", "/quota/reset", json!({}));
    let mut spoke = GoogleSpoke::new(&host, auth, Quota::default().with_window(window_ms as f64));
    let creates: Vec<NewRemote> = (0..n).map(crm_contact).collect();
    let run = sync(&emu, &mut spoke, None, &creates);
    // Units the run needs per bucket (Google's costs): list pages 1 read (+1 for the first
    // page of a full sync); a batch create 6 reads + 6 writes.
    let pages = n.div_ceil(1000) as f64;
    let batches = n.div_ceil(200) as f64;
    let reads = pages + 1.0 + 6.0 * batches;
    let writes = 6.0 * batches;
    let window = window_ms as f64 / 1000.0;
    // A sliding window lets a full window's worth go at once, then `limit` per window.
    let need = |units: f64, limit: u32| ((units - f64::from(limit)).max(0.0) / f64::from(limit)) * window;
    let allowed_burst = need(reads, limits.critical_reads).max(need(writes, limits.critical_writes));
    // The quota-bound rate: `limit` units per window on the binding bucket.
    let allowed_rate = (reads / f64::from(limits.critical_reads)).max(writes / f64::from(limits.critical_writes)) * window;
    println!(
        "Quota window {window_ms} ms, N={n}: initial sync {:.2} s; at the quota-bound rate it takes {:.2} s -> {:.0}% of the quota-bound rate (target >= 90%); \
         against the shortest time a sliding window permits (first window's burst included, {:.2} s): {:.0}%; {} of {} requests answered 429 ({:.2}%, target < 1%)",
        run.seconds,
        allowed_rate,
        100.0 * allowed_rate / run.seconds.max(1e-9),
        allowed_burst,
        100.0 * allowed_burst / run.seconds.max(1e-9),
        run.rate_limited,
        run.requests,
        100.0 * run.rate_limited as f64 / run.requests.max(1) as f64
    );
}

fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![5_000, 25_000] } else { sizes };
    for n in &sizes {
        efficiency(*n);
    }
    quota_bound(5_000, 1_000);
}
