#![cfg(target_arch = "wasm32")]
//! The engine benchmark in headless Chromium (25,000 x 25,000 contacts). Ignored by
//! default; run it with:
//! `CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=600 cargo test --release
//!  --target wasm32-unknown-unknown --test wasm_bench_engine -- --include-ignored`

#[path = "../examples/bench_engine/workload.rs"]
mod workload;

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
#[ignore]
fn bench_engine_25k_in_wasm() {
    // performance.now() (sub-millisecond; Date.now() counts whole milliseconds, too coarse
    // for the incremental run), Date.now() where it is missing.
    let perf = js_sys::Reflect::get(&js_sys::global(), &"performance".into()).ok();
    let perf_now = perf.as_ref().and_then(|p| js_sys::Reflect::get(p, &"now".into()).ok()).and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    let now = || match (&perf, &perf_now) {
        (Some(p), Some(f)) => f.call0(p).ok().and_then(|v| v.as_f64()).unwrap_or_else(js_sys::Date::now),
        _ => js_sys::Date::now(),
    };
    let _warm = workload::run(&now);
    let f = workload::run(&now);
    let pages = core::arch::wasm32::memory_size(0);
    console_log!("sync engine in wasm (Chromium), {} x {} contacts ({} shared)", workload::CONTACTS, workload::CONTACTS, workload::SHARED);
    console_log!("first run plan: {:.0} ms ({} writes, {} linked by e-mail), of which feeding the listings {:.0} ms", f.first_plan_ms, f.first_writes, f.linked_by_email, f.first_feed_ms);
    console_log!("confirming writes: {:.0} ms", f.confirm_ms);
    console_log!("state: {} bytes, save {:.0} ms, load {:.0} ms", f.state_bytes, f.state_save_ms, f.state_load_ms);
    console_log!("incremental (1% changed): plan {:.1} ms, {} writes ({:.1} ms counting the copies of the records out of the simulated sides)", f.incremental_plan_ms, f.incremental_writes, f.incremental_with_copies_ms);
    console_log!("wasm linear memory at the end (peak, memory never shrinks): {:.1} MB", pages as f64 * 65536.0 / 1e6);
    assert!(f.first_writes > 0);
}
