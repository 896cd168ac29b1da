//! Quota-aware pacing: Google charges each method against per-user buckets over a
//! sliding window (critical reads 60, critical writes 30, deletes and group writes 30,
//! group reads 90 per minute by default; a batch create/update costs 6 reads + 6 writes,
//! a batch delete 10). Waiting *before* a request that would overrun a bucket keeps the
//! rate at the limit without 429s; `Retry-After` remains the backstop.

use std::collections::VecDeque;

use crate::providers::google::protocol::RequestKind;

/// The quota the pacer keeps under. Defaults are Google's console defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quota {
    /// Window length (Google: one minute).
    pub window_ms: f64,
    /// Critical read units per window.
    pub reads: u32,
    /// Critical write units per window.
    pub writes: u32,
    /// Delete and group-write units per window.
    pub deletes: u32,
    /// Group read units per window.
    pub group_reads: u32,
    /// Photo write units per window (`updateContactPhoto`, `deleteContactPhoto`).
    pub photo_writes: u32,
    /// Safety margin added to every wait (our clock and Google's differ by the request's
    /// travel time).
    pub margin_ms: f64,
}

impl Default for Quota {
    fn default() -> Self {
        Quota { window_ms: 60_000.0, reads: 60, writes: 30, deletes: 30, group_reads: 90, photo_writes: 50, margin_ms: 250.0 }
    }
}

impl Quota {
    /// No pacing at all (a server without quotas, e.g. an emulator with quotas off).
    pub fn unlimited() -> Self {
        Quota { window_ms: 1.0, reads: u32::MAX / 4, writes: u32::MAX / 4, deletes: u32::MAX / 4, group_reads: u32::MAX / 4, photo_writes: u32::MAX / 4, margin_ms: 0.0 }
    }

    /// The same limits over a shorter window (benchmarks, tests); the margin scales too.
    pub fn with_window(mut self, window_ms: f64) -> Self {
        self.margin_ms = (window_ms / 240.0).max(2.0);
        self.window_ms = window_ms;
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bucket {
    Reads,
    Writes,
    Deletes,
    GroupReads,
    PhotoWrites,
}

/// Units a request costs, per bucket.
fn costs(kind: RequestKind, first_full_page: bool, is_write_group: bool) -> Vec<(Bucket, u32)> {
    match kind {
        RequestKind::ListFull => vec![(Bucket::Reads, if first_full_page { 2 } else { 1 })],
        RequestKind::ListIncremental | RequestKind::Read => vec![(Bucket::Reads, 1)],
        RequestKind::Create | RequestKind::Update => vec![(Bucket::Reads, 6), (Bucket::Writes, 6)],
        RequestKind::Delete => vec![(Bucket::Deletes, 10)],
        RequestKind::Groups if is_write_group => vec![(Bucket::Deletes, 1)],
        RequestKind::Groups => vec![(Bucket::GroupReads, 1)],
        RequestKind::Photo => vec![(Bucket::PhotoWrites, 1)],
    }
}

/// Remembers what was spent in the current window and says how long to wait.
#[derive(Debug, Clone, Default)]
pub struct Pacer {
    quota: Quota,
    spent: Vec<(Bucket, VecDeque<(f64, u32)>)>,
}

impl Pacer {
    /// A pacer for `quota`.
    pub fn new(quota: Quota) -> Self {
        Pacer { quota, spent: Vec::new() }
    }

    fn limit(&self, bucket: Bucket) -> u32 {
        match bucket {
            Bucket::Reads => self.quota.reads,
            Bucket::Writes => self.quota.writes,
            Bucket::Deletes => self.quota.deletes,
            Bucket::GroupReads => self.quota.group_reads,
            Bucket::PhotoWrites => self.quota.photo_writes,
        }
    }

    fn log(&mut self, bucket: Bucket) -> &mut VecDeque<(f64, u32)> {
        let index = match self.spent.iter().position(|(b, _)| *b == bucket) {
            Some(i) => i,
            None => {
                self.spent.push((bucket, VecDeque::new()));
                self.spent.len() - 1
            }
        };
        &mut self.spent[index].1
    }

    /// Milliseconds to wait at `now` before sending a request of `kind` (0: send now).
    pub fn wait_ms(&mut self, kind: RequestKind, first_full_page: bool, group_write: bool, now: f64) -> f64 {
        let window = self.quota.window_ms;
        let margin = self.quota.margin_ms;
        let mut wait: f64 = 0.0;
        for (bucket, units) in costs(kind, first_full_page, group_write) {
            let limit = self.limit(bucket);
            let log = self.log(bucket);
            while log.front().is_some_and(|(t, _)| *t + window <= now) {
                log.pop_front();
            }
            let used: u32 = log.iter().map(|(_, u)| *u).sum();
            if used + units <= limit {
                continue;
            }
            let mut freed = 0;
            for (t, u) in log.iter() {
                freed += u;
                if used + units - freed <= limit {
                    wait = wait.max(t + window - now + margin);
                    break;
                }
            }
        }
        wait.max(0.0)
    }

    /// Records a request sent at `now`.
    pub fn record(&mut self, kind: RequestKind, first_full_page: bool, group_write: bool, now: f64) {
        for (bucket, units) in costs(kind, first_full_page, group_write) {
            self.log(bucket).push_back((now, units));
        }
    }

    /// After a 429: treat the window as full until `until` so the next requests wait.
    pub fn saturate(&mut self, until: f64) {
        let window = self.quota.window_ms;
        for bucket in [Bucket::Reads, Bucket::Writes, Bucket::Deletes, Bucket::PhotoWrites] {
            let limit = self.limit(bucket);
            self.log(bucket).push_back((until - window, limit));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_writes_are_spaced_to_the_write_quota() {
        let mut p = Pacer::new(Quota::default().with_window(1000.0));
        let mut now = 0.0;
        let mut sent = Vec::new();
        for _ in 0..12 {
            now += p.wait_ms(RequestKind::Create, false, false, now);
            p.record(RequestKind::Create, false, false, now);
            sent.push(now);
        }
        // 30 write units per window, 6 per batch: 5 batches per window.
        for pair in sent.windows(6) {
            assert!(pair[5] - pair[0] >= 1000.0, "{sent:?}");
        }
        assert!(sent[5] < 1100.0, "waits no longer than needed: {sent:?}");
    }

    #[test]
    fn photo_writes_have_their_own_bucket() {
        let mut p = Pacer::new(Quota::default().with_window(1000.0));
        // Batch writes do not slow photo writes down, and 50 photo writes fit a window.
        for _ in 0..5 {
            p.record(RequestKind::Create, false, false, 0.0);
        }
        for i in 0..50 {
            assert_eq!(p.wait_ms(RequestKind::Photo, false, false, f64::from(i)), 0.0);
            p.record(RequestKind::Photo, false, false, f64::from(i));
        }
        assert!(p.wait_ms(RequestKind::Photo, false, false, 50.0) >= 950.0);
    }

    #[test]
    fn nothing_waits_under_the_limit() {
        let mut p = Pacer::new(Quota::default());
        for i in 0..50 {
            assert_eq!(p.wait_ms(RequestKind::ListIncremental, false, false, f64::from(i)), 0.0);
            p.record(RequestKind::ListIncremental, false, false, f64::from(i));
        }
    }
}
