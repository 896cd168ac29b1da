//! One run per spoke at a time: the pure logic of a lease kept in host storage with
//! compare-and-set and an expiry (so that a crashed run does not block forever). The
//! runner reads the key, asks [`acquire`], and writes with `storage.compareAndSet(key,
//! expected, value)`; a `false` answer means another run won the race: "already running".

use serde::{Deserialize, Serialize};

/// The stored lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lease {
    /// The run holding it.
    pub run_id: String,
    /// Milliseconds since the epoch (host clock) after which it is void.
    pub expires_at: u64,
}

/// What the runner should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseDecision {
    /// compareAndSet(key, `expected`, `lease`); on `true` the run holds the lease.
    Acquire {
        /// The value read (None: absent).
        expected: Option<Lease>,
        /// The value to write.
        lease: Lease,
    },
    /// Another run holds a live lease: answer "already running".
    AlreadyRunning {
        /// Its run id.
        run_id: String,
        /// When it expires.
        expires_at: u64,
    },
}

/// Decides on taking the lease given what storage holds. An expired lease, or our own,
/// may be taken over; a live one of another run may not.
///
/// ```
/// use contact_sync::engine::lease::{acquire, LeaseDecision};
/// let d = acquire(None, "run-1", 1_000, 60_000);
/// assert!(matches!(d, LeaseDecision::Acquire { expected: None, .. }));
/// ```
pub fn acquire(current: Option<Lease>, run_id: &str, now: u64, ttl_ms: u64) -> LeaseDecision {
    match current {
        Some(l) if l.expires_at > now && l.run_id != run_id => LeaseDecision::AlreadyRunning { run_id: l.run_id, expires_at: l.expires_at },
        other => LeaseDecision::Acquire { expected: other, lease: Lease { run_id: run_id.to_string(), expires_at: now.saturating_add(ttl_ms) } },
    }
}

/// Extends a lease we hold (between batches of a long run). None when we lost it (it
/// expired and another run took it): stop writing.
pub fn renew(current: Option<&Lease>, run_id: &str, now: u64, ttl_ms: u64) -> Option<(Lease, Lease)> {
    match current {
        Some(l) if l.run_id == run_id => Some((l.clone(), Lease { run_id: run_id.to_string(), expires_at: now.saturating_add(ttl_ms) })),
        _ => None,
    }
}

/// Whether the lease read is ours, so that releasing it (compareAndSet to null) is ours to do.
pub fn is_ours(current: Option<&Lease>, run_id: &str) -> bool {
    current.is_some_and(|l| l.run_id == run_id)
}
