//! Per-user quotas over a sliding window, with the costs Google charges per method, so a
//! client's pacing can be measured against a limit that actually binds.

use super::config::QuotaConfig;
use super::error::ApiError;
use serde_json::json;
use std::collections::{HashMap, VecDeque};

/// Quota buckets (Google's console names them per metric).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    CriticalReads,
    CriticalWrites,
    DeletesAndGroupWrites,
    PhotoWrites,
    GroupReads,
    DailyWrites,
}

impl Bucket {
    fn limit(self, q: &QuotaConfig) -> u32 {
        match self {
            Bucket::CriticalReads => q.critical_reads,
            Bucket::CriticalWrites => q.critical_writes,
            Bucket::DeletesAndGroupWrites => q.deletes_and_group_writes,
            Bucket::PhotoWrites => q.photo_writes,
            Bucket::GroupReads => q.group_reads,
            Bucket::DailyWrites => q.daily_writes,
        }
    }

    fn metric(self) -> &'static str {
        match self {
            Bucket::CriticalReads => "people.googleapis.com/read_requests",
            Bucket::CriticalWrites => "people.googleapis.com/write_requests",
            Bucket::DeletesAndGroupWrites => "people.googleapis.com/contact_group_and_delete_requests",
            Bucket::PhotoWrites => "people.googleapis.com/photo_write_requests",
            Bucket::GroupReads => "people.googleapis.com/contact_group_read_requests",
            Bucket::DailyWrites => "people.googleapis.com/daily_write_requests",
        }
    }

    fn window_ms(self, q: &QuotaConfig) -> i64 {
        match self {
            Bucket::DailyWrites => super::config::DAY_MS,
            _ => q.window_ms.max(1) as i64,
        }
    }
}

/// The cost of a method: units per bucket.
pub fn cost_of(method_id: &str, full_sync_first_page: bool, q: &QuotaConfig) -> Vec<(Bucket, u32)> {
    use Bucket::*;
    match method_id {
        "people.connections.list" => {
            let extra = if full_sync_first_page { q.full_sync_first_page_extra } else { 0 };
            vec![(CriticalReads, 1 + extra)]
        }
        "people.get" | "people.getBatchGet" | "people.searchContacts" => vec![(CriticalReads, 1)],
        "people.createContact" | "people.updateContact" => vec![(CriticalWrites, 1), (DailyWrites, 1)],
        "people.batchCreateContacts" | "people.batchUpdateContacts" => {
            vec![(CriticalReads, 6), (CriticalWrites, 6), (DailyWrites, 200)]
        }
        "people.deleteContact" => vec![(DeletesAndGroupWrites, 1), (DailyWrites, 1)],
        "people.batchDeleteContacts" => vec![(DeletesAndGroupWrites, 10), (DailyWrites, 10)],
        "people.updateContactPhoto" | "people.deleteContactPhoto" => vec![(PhotoWrites, 1)],
        "contactGroups.create" | "contactGroups.update" | "contactGroups.delete" | "contactGroups.members.modify" => {
            vec![(DeletesAndGroupWrites, 1)]
        }
        "contactGroups.list" | "contactGroups.get" | "contactGroups.batchGet" => vec![(GroupReads, 1)],
        _ => Vec::new(),
    }
}

/// The least wall time the quota allows for the requests of a log: per bucket, `U` units
/// under a limit `L` per window `W` need at least `(ceil(U/L) - 1) * W` (the first `L` units
/// can go at once). Requests answered 429 are not counted: they did no work.
pub fn quota_bound(lines: &[serde_json::Value], q: &QuotaConfig) -> serde_json::Value {
    use Bucket::*;
    let mut units: HashMap<Bucket, u64> = HashMap::new();
    for l in lines.iter().filter(|l| l["status"] != 429) {
        let Some(method) = l["apiMethod"].as_str() else { continue };
        let query = l["query"].as_str().unwrap_or("");
        let first = method == "people.connections.list" && !query.contains("pageToken=") && !query.contains("syncToken=");
        for (b, u) in cost_of(method, first, q) {
            *units.entry(b).or_default() += u as u64;
        }
    }
    let mut per_bucket = serde_json::Map::new();
    let mut bound_ms = 0i64;
    for b in [CriticalReads, CriticalWrites, DeletesAndGroupWrites, PhotoWrites, GroupReads, DailyWrites] {
        let u = units.get(&b).copied().unwrap_or(0);
        let limit = b.limit(q).max(1) as u64;
        let windows = u.div_ceil(limit).saturating_sub(1) as i64;
        let ms = windows * b.window_ms(q);
        bound_ms = bound_ms.max(ms);
        per_bucket.insert(b.metric().to_string(), json!({"units": u, "limit": limit, "windowMs": b.window_ms(q), "minMs": ms}));
    }
    json!({"quotaBoundMs": bound_ms, "buckets": per_bucket})
}

/// Usage log per (user, bucket): (time ms, units).
#[derive(Debug, Default)]
pub struct QuotaMeter {
    usage: HashMap<(String, Bucket), VecDeque<(i64, u32)>>,
}

impl QuotaMeter {
    /// Charges `costs` to `user` atomically, or refuses with 429 and a Retry-After.
    pub fn charge(&mut self, user: &str, costs: &[(Bucket, u32)], q: &QuotaConfig, now: i64) -> Result<(), ApiError> {
        if !q.enabled {
            return Ok(());
        }
        for (bucket, units) in costs {
            let window = bucket.window_ms(q);
            let log = self.usage.entry((user.to_string(), *bucket)).or_default();
            while log.front().is_some_and(|(t, _)| *t <= now.saturating_sub(window)) {
                log.pop_front();
            }
            let used: u64 = log.iter().map(|(_, u)| *u as u64).sum();
            let limit = bucket.limit(q);
            let (units64, limit64) = (*units as u64, limit as u64);
            if used + units64 > limit64 {
                // Wait until enough old usage leaves the window.
                let mut freed = 0u64;
                let mut wait_ms = window;
                for (t, u) in log.iter() {
                    freed += *u as u64;
                    if used + units64 - freed.min(used + units64) <= limit64 {
                        wait_ms = t.saturating_add(window).saturating_sub(now).max(1);
                        break;
                    }
                }
                let retry_s = (wait_ms.saturating_add(999) / 1000).max(1);
                let mut err = ApiError::new(
                    429,
                    "RESOURCE_EXHAUSTED",
                    format!(
                        "Quota exceeded for quota metric '{}' and limit '{} per user per {}' of service 'people.googleapis.com' for consumer 'project_number:emulator'.",
                        bucket.metric(),
                        limit,
                        if *bucket == Bucket::DailyWrites { "day" } else { "window" }
                    ),
                )
                .with_reason(
                    "RATE_LIMIT_EXCEEDED",
                    "googleapis.com",
                    json!({
                        "service": "people.googleapis.com",
                        "quota_metric": bucket.metric(),
                        "quota_limit_value": limit.to_string(),
                        "retry_after_ms": wait_ms.to_string(),
                    }),
                );
                err.headers.push(("Retry-After".into(), retry_s.to_string()));
                return Err(err);
            }
        }
        for (bucket, units) in costs {
            if let Some(log) = self.usage.get_mut(&(user.to_string(), *bucket)) {
                log.push_back((now, *units));
            }
        }
        Ok(())
    }

    pub fn clear(&mut self) {
        self.usage.clear();
    }
}
