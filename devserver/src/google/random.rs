//! Token, etag and id generation. Tokens come from the OS random source so two emulator runs
//! never hand out the same token; fault selection uses a seeded generator for reproducibility.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// `n` random bytes from the OS, base64url-encoded.
pub fn token(n: usize) -> String {
    let mut buf = vec![0u8; n];
    if getrandom::getrandom(&mut buf).is_err() {
        // Fall back to time-derived bytes: never fails, still unique per call.
        let mut x = super::clock::real_now_ms() as u64 ^ (COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst) << 20);
        for b in buf.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
    }
    URL_SAFE_NO_PAD.encode(buf)
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A random u64.
pub fn u64_random() -> u64 {
    let mut buf = [0u8; 8];
    let _ = getrandom::getrandom(&mut buf);
    u64::from_le_bytes(buf) ^ COUNTER.fetch_add(0x9E37_79B9, std::sync::atomic::Ordering::SeqCst)
}

/// A Google-looking person etag (`%Eg...`).
pub fn person_etag() -> String {
    format!("%Eg{}", token(18))
}

/// A Google-looking source etag (`#...`).
pub fn source_etag() -> String {
    format!("#{}", token(9))
}

/// A deterministic generator (xorshift64*) for fault fractions and generated contacts.
#[derive(Debug, Clone)]
pub struct SeededRng(u64);

impl SeededRng {
    pub fn new(seed: u64) -> SeededRng {
        SeededRng(seed | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform index below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}
