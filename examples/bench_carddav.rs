//! CardDAV against vdirsyncer, on the same Radicale, in one go.
//!
//! `scripts/bench-carddav.sh` (or `cargo run --example bench_carddav [N_A] [N_B]`, defaults
//! 5000 and 1000). Needs `.venv/bin/radicale` and `.venv/bin/vdirsyncer`
//! (requirements-test.txt).
//!
//! Runs, each tool on its own address book of one Radicale started here:
//! (a) N_A cards on the server, nothing on the other side;
//! (b) N_B contacts on the other side (vdirsyncer: .vcf files in a local folder; us: CRM
//!     contacts in an in-memory CRM), an empty address book on the server;
//! (c) a second run after (b) with nothing changed.
//! We run the engine's sync session with the CardDAV spoke in-process (the driver of
//! tests/carddav_support/driver.rs); vdirsyncer runs as its own process (`vdirsyncer sync`,
//! after an untimed `discover`). Wall time is measured around each run; HTTP requests
//! are counted from Radicale's own log (one line per request), so both tools are counted
//! the same way and nothing sits between them and the server. Radicale's item cache is
//! warmed by one untimed PROPFIND before (a); (a) is then run a second time with fresh
//! clients, because Radicale builds a collection's sync-token state on the first
//! sync-collection ever asked of it (seconds for 5,000 cards), a cost the first run pays.

#[path = "../tests/carddav_support/mod.rs"]
mod carddav_support;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use carddav_support::driver::run;
use carddav_support::{Radicale, UreqFetch, PASSWORD, USER};
use contact_sync::crm::NewCrmContact;
use contact_sync::engine::state::SpokeState;
use contact_sync::engine::SyncConfig;
use contact_sync::host::{Host, MemoryHost};
use contact_sync::providers::carddav::CardDavProvider;
use pollster::block_on;
use serde_json::{json, Map};

fn vcard(i: usize, prefix: &str) -> String {
    format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{prefix}-{i}\r\nFN:Person{i} {prefix}\r\nN:{prefix};Person{i};;;\r\n\
EMAIL;TYPE=INTERNET,WORK:person{i}@{prefix}.example.com\r\nTEL;TYPE=CELL:+33 6 12 {:02} {:02} {:02}\r\n\
ORG:Company {}\r\nNOTE:Benchmark card number {i}\r\nEND:VCARD\r\n",
        i / 10000 % 100,
        i / 100 % 100,
        i % 100,
        i % 97
    )
}

fn crm_contact(i: usize) -> NewCrmContact {
    let mut fields = Map::new();
    fields.insert("firstName".into(), json!(format!("Crm{i}")));
    fields.insert("lastName".into(), json!("Export"));
    fields.insert("emails".into(), json!([{ "value": format!("crm{i}@crm.example.com"), "type": "work" }]));
    fields.insert("phones".into(), json!([{ "value": format!("+33 6 98 {:02} {:02} {:02}", i / 10000 % 100, i / 100 % 100, i % 100), "type": "mobile" }]));
    fields.insert("company".into(), json!(format!("Company {}", i % 97)));
    NewCrmContact { fields, ..NewCrmContact::default() }
}

#[derive(Clone, Copy)]
struct Measure {
    seconds: f64,
    requests: usize,
}

fn venv(bin: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin").join(bin)
}

struct Vdir {
    config: std::path::PathBuf,
}

impl Vdir {
    fn new(server: &Radicale, name: &str, book_url: &str) -> (Vdir, std::path::PathBuf) {
        let root = server.scratch(&format!("vdir-{name}"));
        let local = root.join("local");
        std::fs::create_dir_all(&local).expect("local dir");
        let config = root.join("config");
        std::fs::write(
            &config,
            format!(
                "[general]\nstatus_path = \"{status}/\"\n\n[pair bench]\na = \"bench_local\"\nb = \"bench_remote\"\ncollections = null\nconflict_resolution = \"b wins\"\n\n\
                 [storage bench_local]\ntype = \"filesystem\"\npath = \"{local}/\"\nfileext = \".vcf\"\n\n\
                 [storage bench_remote]\ntype = \"carddav\"\nurl = \"{book_url}\"\nusername = \"{USER}\"\npassword = \"{PASSWORD}\"\n",
                status = root.join("status").display(),
                local = local.display(),
            ),
        )
        .expect("vdirsyncer config");
        let v = Vdir { config };
        v.cmd("discover");
        (v, local)
    }

    fn cmd(&self, what: &str) {
        let out = Command::new(venv("vdirsyncer")).arg("-c").arg(&self.config).arg(what).output().expect("run vdirsyncer");
        assert!(out.status.success(), "vdirsyncer {what} failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn sync(&self, server: &Radicale) -> Measure {
        let before = server.request_count();
        let t = Instant::now();
        self.cmd("sync");
        let seconds = t.elapsed().as_secs_f64();
        Measure { seconds, requests: server.request_count() - before }
    }
}

fn ours(server: &Radicale, host: &MemoryHost, p: &mut CardDavProvider<UreqFetch>, state: &mut SpokeState) -> Measure {
    let cfg = SyncConfig { spoke_id: "bench".into(), ..SyncConfig::default() };
    let before = server.request_count();
    let t = Instant::now();
    let out = run(host, p, &cfg, state);
    let seconds = t.elapsed().as_secs_f64();
    assert!(out.errors.is_empty(), "our run failed: {:?}", out.errors);
    Measure { seconds, requests: server.request_count() - before }
}

fn fill_on_disk(server: &Radicale, book: &str, n: usize) {
    let folder = server.book_folder(book);
    for i in 0..n {
        std::fs::write(folder.join(format!("card-{i}.vcf")), vcard(i, "server")).expect("write card");
    }
}

fn line(label: &str, v: Measure, o: Measure) {
    println!(
        "{label:<34} {:>9.2} s {:>7} req | {:>9.2} s {:>7} req | time x{:<6.2} requests x{:.3}",
        v.seconds,
        v.requests,
        o.seconds,
        o.requests,
        o.seconds / v.seconds.max(1e-9),
        o.requests as f64 / (v.requests.max(1)) as f64
    );
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n_a = args.first().copied().unwrap_or(5000);
    let n_b = args.get(1).copied().unwrap_or(1000);
    for bin in ["radicale", "vdirsyncer"] {
        if !venv(bin).exists() {
            eprintln!("bench_carddav: .venv/bin/{bin} is missing; run scripts/setup.sh (requirements-test.txt)");
            std::process::exit(2);
        }
    }
    let server = Radicale::start();
    println!("Radicale at {} ; N_A = {n_a}, N_B = {n_b}", server.url);

    // (a) N_A cards on the server, nothing on the other side (one book, read by both).
    let big = server.create_address_book("big");
    fill_on_disk(&server, "big", n_a);
    // Warm Radicale's item cache once so neither tool pays for it.
    let warm = CardDavProvider::new(UreqFetch::new(), USER, PASSWORD, &big);
    block_on(warm.client().list(&big)).expect("warm-up listing");

    let (vdir_a, local_a) = Vdir::new(&server, "a", &big);
    let va = vdir_a.sync(&server);
    let local_files = std::fs::read_dir(&local_a).map(|d| d.count()).unwrap_or(0);
    assert_eq!(local_files, n_a, "vdirsyncer copied every card");

    let host_a = MemoryHost::new();
    let mut p_a = CardDavProvider::new(UreqFetch::new(), USER, PASSWORD, &big);
    let mut state_a = SpokeState::new();
    let oa = ours(&server, &host_a, &mut p_a, &mut state_a);
    assert_eq!(host_a.live_contacts().len(), n_a, "every card reached the CRM");

    // (a) again with fresh clients (new local folder / new CRM and state): Radicale builds
    // its sync-token state for a collection on the first sync-collection ever asked of it;
    // a server that other clients already sync with has it.
    let (vdir_a2, _) = Vdir::new(&server, "a2", &big);
    let va2 = vdir_a2.sync(&server);
    let host_a2 = MemoryHost::new();
    let mut p_a2 = CardDavProvider::new(UreqFetch::new(), USER, PASSWORD, &big);
    let mut state_a2 = SpokeState::new();
    let oa2 = ours(&server, &host_a2, &mut p_a2, &mut state_a2);
    assert_eq!(host_a2.live_contacts().len(), n_a);

    // (b) N_B contacts on the other side, an empty address book on the server.
    let vb_url = server.create_address_book("vdir-b");
    let (vdir_b, local_b) = Vdir::new(&server, "b", &vb_url);
    for i in 0..n_b {
        std::fs::write(local_b.join(format!("local-{i}.vcf")), vcard(i, "local")).expect("local card");
    }
    let vb = vdir_b.sync(&server);
    assert_eq!(server.stored_names("vdir-b").len(), n_b);

    let ob_url = server.create_address_book("ours-b");
    let host_b = MemoryHost::new();
    for i in 0..n_b {
        block_on(host_b.crm_create(&crm_contact(i))).expect("crm contact");
    }
    let mut p_b = CardDavProvider::new(UreqFetch::new(), USER, PASSWORD, &ob_url);
    let mut state_b = SpokeState::new();
    let ob = ours(&server, &host_b, &mut p_b, &mut state_b);
    assert_eq!(server.stored_names("ours-b").len(), n_b);

    // (c) the next run, nothing changed (after (b)); and once more.
    let vc = vdir_b.sync(&server);
    let oc = ours(&server, &host_b, &mut p_b, &mut state_b);
    let vc2 = vdir_b.sync(&server);
    let oc2 = ours(&server, &host_b, &mut p_b, &mut state_b);
    // (c) after (a) too: the 5,000-card book, nothing changed.
    let vca = vdir_a.sync(&server);
    let oca = ours(&server, &host_a, &mut p_a, &mut state_a);

    println!();
    println!("{:<34} {:>24} | {:>24} | ours / vdirsyncer", "run", "vdirsyncer 0.21", "contact-sync (engine+CardDAV)");
    line(&format!("(a) {n_a} on server -> empty side"), va, oa);
    line("(a) again, fresh clients", va2, oa2);
    line(&format!("(b) {n_b} on other side -> empty book"), vb, ob);
    line("(c) next run after (b), no change", vc, oc);
    line("(c') the run after that", vc2, oc2);
    line("(c\") next run after (a), no change", vca, oca);
    println!();
    println!("requests per card in (b): vdirsyncer {:.3}, ours {:.3}", vb.requests as f64 / n_b as f64, ob.requests as f64 / n_b as f64);
}
