//! Detection of overlapping mutations for one user. Google asks clients to send mutate
//! requests for a user sequentially; the emulator flags (and optionally refuses) overlaps so
//! tests can prove a client never sends two writes for one user at once.

use std::collections::HashMap;
use std::sync::Mutex;

/// Mutations in flight per user.
#[derive(Debug, Default)]
pub struct InFlight {
    per_user: Mutex<HashMap<String, usize>>,
}

/// Marks one mutation in flight until dropped.
pub struct Guard<'a> {
    inflight: &'a InFlight,
    user: String,
}

impl InFlight {
    /// Registers a mutation; `true` when another one for the same user is still in flight.
    pub fn enter(&self, user: &str) -> (Guard<'_>, bool) {
        let mut map = self.per_user.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(user.to_string()).or_insert(0);
        let concurrent = *n > 0;
        *n += 1;
        (Guard { inflight: self, user: user.to_string() }, concurrent)
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        let mut map = self.inflight.per_user.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.user);
            }
        }
    }
}
