//! The CRM id a remote copy carries (People `clientData`, vCard `X-CRM-ID`), signed so that
//! only copies this plugin wrote re-link by it (invariant 7; issue 11, defect 14).
//!
//! Anyone who can write to a shared address book can put any text there. The engine
//! therefore writes `<crm id>.<mac>`: the id and 128 bits of HMAC-SHA256 over it (and the
//! spoke) under a per-installation key the runner keeps in the host's secrets. Reading
//! tells a [`Carried::Signed`] id (ours, for this spoke) from an [`Carried::Unverified`]
//! one (a bare id from an earlier version, or one forged, copied from another spoke, or
//! signed under a lost key); the session decides what an unverified id may do. Providers
//! only store and return the text: one mechanism for every spoke.

use sha2::{Digest, Sha256};

/// Bytes of MAC kept in a token (written as twice as many hex digits).
const MAC_BYTES: usize = 16;

/// The installation's signing key. Its bytes never leave this type except through
/// [`IdKey::to_hex`] (for the host's secret store); `Debug` does not show them.
#[derive(Clone, PartialEq, Eq)]
pub struct IdKey([u8; 32]);

impl std::fmt::Debug for IdKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdKey(…)")
    }
}

impl IdKey {
    /// A key from 32 random bytes; None for any other length.
    pub fn from_bytes(bytes: &[u8]) -> Option<IdKey> {
        bytes.try_into().ok().map(IdKey)
    }

    /// The key as stored in the host's secrets: 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// Reads [`IdKey::to_hex`]'s form; None for anything else.
    pub fn from_hex(s: &str) -> Option<IdKey> {
        let s = s.trim();
        if s.len() != 64 || !s.is_ascii() {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..32).map(|i| s.get(i * 2..i * 2 + 2).and_then(|d| u8::from_str_radix(d, 16).ok())).collect();
        IdKey::from_bytes(&bytes?)
    }

    fn mac(&self, spoke_id: &str, crm_id: &str) -> String {
        let mut message = Vec::with_capacity(32 + spoke_id.len() + crm_id.len());
        message.extend_from_slice(b"contact-sync crm id v1\n");
        message.extend_from_slice(spoke_id.as_bytes());
        message.push(b'\n');
        message.extend_from_slice(crm_id.as_bytes());
        let full = hmac_sha256(&self.0, &message);
        hex(full.get(..MAC_BYTES).unwrap_or_default())
    }
}

/// What a carried id says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carried<'a> {
    /// Signed by this installation for this spoke: a copy this plugin wrote (or a copy of one).
    Signed(&'a str),
    /// A bare id, or one whose signature does not check: anyone could have written it.
    Unverified(&'a str),
}

impl<'a> Carried<'a> {
    /// The CRM id named, whatever the signature says.
    pub fn crm_id(self) -> &'a str {
        match self {
            Carried::Signed(id) | Carried::Unverified(id) => id,
        }
    }
}

/// The text a remote copy of CRM contact `crm_id` carries: signed with `key`, or the
/// bare id without one.
///
/// ```
/// use contact_sync::engine::carried_id::{read, token, Carried, IdKey};
/// let key = IdKey::from_bytes(&[7; 32]).unwrap();
/// let t = token(Some(&key), "g1", "crm-42");
/// assert_eq!(read(Some(&key), "g1", &t), Carried::Signed("crm-42"));
/// assert_eq!(read(Some(&key), "other-spoke", &t), Carried::Unverified(t.as_str()));
/// assert_eq!(read(Some(&key), "g1", "crm-42"), Carried::Unverified("crm-42"));
/// ```
pub fn token(key: Option<&IdKey>, spoke_id: &str, crm_id: &str) -> String {
    match key {
        Some(k) => format!("{crm_id}.{}", k.mac(spoke_id, crm_id)),
        None => crm_id.to_string(),
    }
}

/// Reads a carried id (see [`token`]). Text that is not a well-signed token is an
/// unverified id as a whole.
pub fn read<'a>(key: Option<&IdKey>, spoke_id: &str, text: &'a str) -> Carried<'a> {
    if let (Some(k), Some((id, mac))) = (key, text.rsplit_once('.')) {
        if !id.is_empty() && constant_time_eq(mac.as_bytes(), k.mac(spoke_id, id).as_bytes()) {
            return Carried::Signed(id);
        }
    }
    Carried::Unverified(text)
}

/// Whether `text` is what this engine would write for `crm_id`, or that bare id (written
/// by versions before signing: accepted on a pair already linked, so an upgrade does not
/// rewrite every remote copy).
pub fn names(key: Option<&IdKey>, spoke_id: &str, text: &str, crm_id: &str) -> bool {
    text == crm_id || read(key, spoke_id, text) == Carried::Signed(crm_id)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for d in [b >> 4, b & 15] {
            out.push(char::from(DIGITS.get(usize::from(d)).copied().unwrap_or(b'0')));
        }
    }
    out
}

/// HMAC-SHA256 (RFC 2104) over `sha2`.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test cases 1 and 2 of RFC 4231.
        assert_eq!(hex(&hmac_sha256(&[0x0b; 20], b"Hi There")), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
        assert_eq!(hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        // Test case 6: a key longer than the block.
        assert_eq!(hex(&hmac_sha256(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First")), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    }

    #[test]
    fn a_token_checks_only_for_its_id_its_spoke_and_its_key() {
        let key = IdKey::from_bytes(&[1; 32]).unwrap();
        let other = IdKey::from_bytes(&[2; 32]).unwrap();
        let t = token(Some(&key), "dav", "c.7");
        assert_eq!(read(Some(&key), "dav", &t), Carried::Signed("c.7"), "an id holding dots");
        assert_eq!(read(Some(&other), "dav", &t).crm_id(), t, "another installation's key");
        assert_eq!(read(None, "dav", &t), Carried::Unverified(t.as_str()));
        let moved = t.replacen("c.7", "c.8", 1);
        assert_eq!(read(Some(&key), "dav", &moved), Carried::Unverified(moved.as_str()), "the MAC of another id");
        for forged in ["", ".", "c1.", ".0123456789abcdef0123456789abcdef", "c1.zz"] {
            assert!(matches!(read(Some(&key), "dav", forged), Carried::Unverified(_)), "{forged}");
        }
        assert!(names(Some(&key), "dav", &t, "c.7") && names(Some(&key), "dav", "c.7", "c.7"));
        assert!(!names(Some(&key), "dav", &t, "c.8"));
        assert_eq!(token(None, "dav", "c1"), "c1");
    }

    #[test]
    fn the_key_round_trips_through_its_stored_form_and_hides_in_debug() {
        let key = IdKey::from_bytes(&(0..32).collect::<Vec<u8>>()).unwrap();
        assert_eq!(IdKey::from_hex(&key.to_hex()), Some(key.clone()));
        assert_eq!(IdKey::from_hex("00"), None);
        assert_eq!(IdKey::from_hex(&"zz".repeat(32)), None);
        assert_eq!(IdKey::from_bytes(&[0; 31]), None);
        assert!(!format!("{key:?}").contains(&key.to_hex()[..8]));
    }
}
