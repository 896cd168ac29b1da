//! A small native driver of one sync run — the engine's [`SyncSession`] between a
//! [`MemoryHost`] CRM and the CardDAV provider — following the call order documented in
//! `src/engine/session.rs`. The plugin's own runner (src/runner.rs) does the same for the
//! host; this one exists so the CardDAV tests and benchmark can run the real engine
//! natively before and independently of it.

use contact_sync::engine::error::EngineError;
use contact_sync::engine::plan::{WriteOp, WriteResult};
use contact_sync::engine::report::PlanSummary;
use contact_sync::engine::session::{Listing, SyncSession};
use contact_sync::engine::state::SpokeState;
use contact_sync::engine::SyncConfig;
use contact_sync::host::{Host, MemoryHost};
use contact_sync::providers::carddav::{CardDavProvider, Fetch};
use contact_sync::providers::{ItemResult, ListError, PageNext, Provider};
use pollster::block_on;

/// What one run did.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// Counts, conflicts, notices of every planning round added up.
    pub summaries: Vec<PlanSummary>,
    /// Errors the engine recorded.
    pub errors: Vec<EngineError>,
    /// Remote writes answered with a conflict (412).
    pub conflicts_412: usize,
}

impl RunOutcome {
    /// (remote created, updated, deleted, crm created, updated, deleted) over all rounds.
    pub fn writes(&self) -> [u32; 6] {
        let mut w = [0u32; 6];
        for s in &self.summaries {
            let c = &s.counts;
            w[0] += c.remote.created;
            w[1] += c.remote.updated;
            w[2] += c.remote.deleted;
            w[3] += c.crm.created;
            w[4] += c.crm.updated;
            w[5] += c.crm.deleted;
        }
        w
    }
}

fn failed(code: &str, message: String) -> WriteResult {
    WriteResult::Failed(EngineError::new(code, message, "The next run tries again.").retryable())
}

/// One run: pull both sides, plan, write, checkpoint. `state` is replaced by the
/// checkpoint at the end.
pub fn run<F: Fetch>(host: &MemoryHost, provider: &mut CardDavProvider<F>, cfg: &SyncConfig, state: &mut SpokeState) -> RunOutcome {
    // As the runner does: the engine plans within what the provider can hold.
    let mut cfg = cfg.clone();
    cfg.capabilities = provider.capabilities().fields;
    let mut session = SyncSession::new(cfg, state.clone()).expect("session");
    let trace = std::env::var_os("CARDDAV_TRACE").is_some();
    let t0 = std::time::Instant::now();
    let phase = |name: &str| {
        if trace {
            eprintln!("[driver] {name} at {:.2} s", t0.elapsed().as_secs_f64());
        }
    };
    // CRM side.
    let crm_cursor = state.crm_cursor.clone();
    let mut cursor = crm_cursor.clone();
    loop {
        let page = block_on(host.crm_list_changes(cursor.as_deref(), 1000)).expect("crm listing");
        let listing = if crm_cursor.is_some() { Listing::Incremental } else { Listing::Full };
        session.handle_crm_page(page.contacts, listing);
        if !page.has_more {
            session.handle_crm_listing_complete(&page.next_cursor);
            break;
        }
        cursor = Some(page.next_cursor);
    }
    phase("crm listed");
    // Remote side.
    let remote_cursor = state.remote_cursor.clone();
    let first = block_on(provider.list_page(remote_cursor.as_deref(), None));
    let (page, listing) = match first {
        Ok(p) => (p, if remote_cursor.is_some() { Listing::Incremental } else { Listing::Full }),
        Err(ListError::CursorDead) => (block_on(provider.list_page(None, None)).expect("full listing"), Listing::Full),
        Err(ListError::Failed(e)) => panic!("remote listing failed: {e}"),
    };
    session.handle_remote_page(page.records, listing);
    match page.next {
        PageNext::Done(c) => session.handle_remote_listing_complete(&c),
        PageNext::More(_) => panic!("the CardDAV provider lists in one page"),
    }
    phase("remote listed");
    // Fetches the engine asks for.
    for _ in 0..3 {
        let want = session.poll_fetch();
        if want.is_empty() {
            break;
        }
        if trace {
            eprintln!("[driver] fetch {} crm, {} remote", want.crm_ids.len(), want.remote_ids.len());
        }
        if !want.crm_ids.is_empty() {
            let got = block_on(host.crm_get(&want.crm_ids)).expect("crm get");
            let missing: Vec<String> = want.crm_ids.iter().filter(|id| !got.iter().any(|c| &c.id == *id)).cloned().collect();
            session.handle_crm_page(got, Listing::Fetched);
            session.handle_crm_missing(&missing);
        }
        if !want.remote_ids.is_empty() {
            let got = block_on(provider.fetch(&want.remote_ids)).expect("remote fetch");
            let mut records = Vec::new();
            let mut missing = Vec::new();
            for (id, r) in got {
                match r {
                    ItemResult::Done(rec) => records.push(rec),
                    _ => missing.push(id),
                }
            }
            session.handle_remote_page(records, Listing::Fetched);
            session.handle_remote_missing(&missing);
        }
    }
    // Plan and write, round after round.
    let mut outcome = RunOutcome { summaries: Vec::new(), errors: Vec::new(), conflicts_412: 0 };
    for _ in 0..4 {
        phase("planning");
        let plan = session.plan().expect("plan");
        phase(&format!("planned {} writes", plan.writes.len()));
        if plan.is_empty() {
            break;
        }
        outcome.summaries.push(plan.summary.clone());
        for w in &plan.writes {
            let result = match &w.op {
                WriteOp::CrmCreate { contact, .. } => match block_on(host.crm_create(contact)) {
                    Ok(c) => WriteResult::Crm(c),
                    Err(e) => failed(e.code.as_str(), e.message),
                },
                WriteOp::CrmUpdate { crm_id, expected_version, patch } => {
                    match block_on(host.crm_update(crm_id, *expected_version, patch)) {
                        Ok(c) => WriteResult::Crm(c),
                        Err(e) => failed(e.code.as_str(), e.message),
                    }
                }
                WriteOp::CrmDelete { crm_id, expected_version } => match block_on(host.crm_delete(crm_id, *expected_version)) {
                    Ok(()) => WriteResult::Deleted,
                    Err(e) => failed(e.code.as_str(), e.message),
                },
                WriteOp::RemoteCreate { crm_id, record } => {
                    let item = contact_sync::providers::NewRemote { crm_id: crm_id.clone(), contact: record.contact.clone() };
                    item_result(&mut outcome, block_on(provider.create(&[item])).map(|mut v| v.remove(0)))
                }
                WriteOp::RemoteUpdate { record, .. } => {
                    item_result(&mut outcome, block_on(provider.update(std::slice::from_ref(record))).map(|mut v| v.remove(0)))
                }
                WriteOp::RemoteDelete { remote_id, .. } => {
                    item_result(&mut outcome, block_on(provider.delete(std::slice::from_ref(remote_id))).map(|mut v| v.remove(0)))
                }
            };
            session.handle_write_result(w.id, result);
        }
    }
    phase("written");
    outcome.errors = session.errors().to_vec();
    *state = session.checkpoint();
    outcome
}

fn item_result(outcome: &mut RunOutcome, r: Result<ItemResult, contact_sync::providers::ProviderError>) -> WriteResult {
    match r {
        Ok(ItemResult::Done(rec)) if rec.deleted => WriteResult::Deleted,
        Ok(ItemResult::Done(rec)) => WriteResult::Remote(rec),
        Ok(ItemResult::Gone) => WriteResult::Deleted,
        Ok(ItemResult::Conflict) => {
            outcome.conflicts_412 += 1;
            failed("CONFLICT", "the card changed on the server; read again next run".into())
        }
        Ok(ItemResult::Failed(e)) | Err(e) => failed(e.code, e.message),
    }
}
