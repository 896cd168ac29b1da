//! Emulator configuration: what is seeded at start, quotas, delays and expiries. Every
//! behaviour the notes mark as uncertain or environment-dependent is a setting here.

use serde::{Deserialize, Serialize};

/// Which data the emulator starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Seed {
    /// No clients, no accounts: tests create what they need through the admin API.
    Empty,
    /// The demo client and the demo account with sample contacts.
    Demo,
}

/// Per-user, per-window quota limits (Google's defaults are per minute).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QuotaConfig {
    pub enabled: bool,
    /// Length of the quota window in milliseconds (60 000 like Google; shrink for benchmarks).
    pub window_ms: u64,
    pub critical_reads: u32,
    pub critical_writes: u32,
    pub deletes_and_group_writes: u32,
    pub photo_writes: u32,
    pub group_reads: u32,
    /// Extra read units charged for the first page of a full sync (Google: "costs extra").
    pub full_sync_first_page_extra: u32,
    /// Write units per user per day (Google: 100,000; a batch create/update costs 200).
    /// Always counted over a real day of emulator time, whatever `window_ms` is.
    pub daily_writes: u32,
}

impl Default for QuotaConfig {
    fn default() -> Self {
        QuotaConfig {
            enabled: true,
            window_ms: 60_000,
            critical_reads: 60,
            critical_writes: 30,
            deletes_and_group_writes: 30,
            photo_writes: 50,
            group_reads: 90,
            full_sync_first_page_extra: 1,
            daily_writes: 100_000,
        }
    }
}

/// Configuration of a Google emulator instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EmulatorConfig {
    pub seed: Seed,
    /// Extra generated contacts added to the demo account (0 = only the sample contacts).
    pub generated_contacts: usize,
    pub quota: QuotaConfig,
    /// Delay before a write shows up in sync-token deltas (get/batchGet see it at once).
    pub propagation_delay_ms: u64,
    /// Access-token lifetime in seconds (Google: 3600).
    pub access_token_ttl_s: i64,
    /// Sync-token lifetime, counted from the full sync that started the chain (Google: 7 days).
    pub sync_token_ttl_ms: i64,
    /// Refresh-token lifetime for apps in Testing status (Google: 7 days).
    pub testing_refresh_token_ttl_ms: i64,
    /// Refresh tokens unused for this long die (Google: 6 months).
    pub refresh_token_idle_ttl_ms: i64,
    /// Refresh tokens per account per client; the oldest dies silently beyond it (Google: 100).
    pub max_refresh_tokens_per_client: usize,
    /// Seed of the generator used for fault fractions and generated contacts.
    pub rng_seed: u64,
    /// Answer 409 ABORTED to a write for a user while another write for that user is in
    /// flight (overlaps are always flagged in the request log).
    pub reject_concurrent_mutations: bool,
}

/// One day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            seed: Seed::Demo,
            generated_contacts: 0,
            quota: QuotaConfig::default(),
            propagation_delay_ms: 0,
            access_token_ttl_s: 3600,
            sync_token_ttl_ms: 7 * DAY_MS,
            testing_refresh_token_ttl_ms: 7 * DAY_MS,
            refresh_token_idle_ttl_ms: 182 * DAY_MS,
            max_refresh_tokens_per_client: 100,
            rng_seed: 0x5EED_C0DE,
            reject_concurrent_mutations: false,
        }
    }
}

impl EmulatorConfig {
    /// The demo: one client, one account with ~25 sample contacts.
    pub fn demo() -> Self {
        EmulatorConfig::default()
    }

    /// Nothing seeded; quotas on with Google's defaults.
    pub fn empty() -> Self {
        EmulatorConfig { seed: Seed::Empty, ..EmulatorConfig::default() }
    }
}
