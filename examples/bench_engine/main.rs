//! `cargo run --release --example bench_engine`: the sync engine on 25,000 CRM contacts
//! against 25,000 remote contacts (native). The wasm figures come from
//! `tests/wasm_bench_engine.rs` (see docs/benchmarks.md).

mod workload;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts live and peak heap bytes.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = LIVE.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() {
    // `--cpu`: time on the CPU of this thread (Linux schedstat) instead of the wall clock,
    // for a machine shared with other builds (waiting for a core is then not counted).
    let cpu = std::env::args().any(|a| a == "--cpu");
    let start = std::time::Instant::now();
    let now = move || if cpu { thread_cpu_ms() } else { start.elapsed().as_secs_f64() * 1000.0 };
    // Warm-up (lazy phone metadata), then the measured run.
    let _ = workload::run(&now);
    PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
    let base = LIVE.load(Ordering::Relaxed);
    let f = workload::run(&now);
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    println!("sync engine, {} CRM x {} remote contacts ({} shared), native release, {}", workload::CONTACTS, workload::CONTACTS, workload::SHARED, if cpu { "thread CPU time" } else { "wall clock" });
    println!("first run: plan (normalize + match + merge) {:.1} ms, {} writes, {} linked by e-mail; of which feeding the listings {:.1} ms", f.first_plan_ms, f.first_writes, f.linked_by_email, f.first_feed_ms);
    println!("first run: reporting {} + {} confirmed writes {:.1} ms", f.first_writes, f.second_round_writes, f.confirm_ms);
    println!("state: {} bytes ({:.2} MB), save {:.1} ms, load {:.1} ms", f.state_bytes, f.state_bytes as f64 / 1e6, f.state_save_ms, f.state_load_ms);
    println!("incremental run, 1% changed on each side: plan {:.2} ms ({} writes; {:.2} ms counting the copies of the records out of the simulated sides); with state load {:.2} ms", f.incremental_plan_ms, f.incremental_writes, f.incremental_with_copies_ms, f.incremental_plan_ms + f.state_load_ms);
    println!("peak heap during the run: {:.1} MB", peak as f64 / 1e6);
}

/// Milliseconds this thread has run on a CPU (`/proc/thread-self/schedstat`, first field in
/// nanoseconds).
fn thread_cpu_ms() -> f64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").expect("--cpu needs Linux /proc/thread-self/schedstat");
    let ns: f64 = s.split_whitespace().next().and_then(|n| n.parse().ok()).expect("schedstat's first field");
    ns / 1e6
}
