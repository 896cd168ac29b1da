//! The installation's key signing the CRM id carried on remote copies
//! ([`crate::engine::carried_id`]): kept in the host's secrets and nowhere else, created
//! with the host's random bytes the first time a run needs it.

use crate::engine::carried_id::IdKey;
use crate::error::{PluginError, PluginResult};
use crate::host::Host;

/// The secret holding the key (64 hex digits).
pub const SECRET: &str = "sync.idKey";

/// The stored key; with `create`, a new one is made and stored when there is none (or the
/// stored text is unreadable: ids signed under it then read as unverified, which is safe).
/// A preview passes `create: false`: it writes nothing, and without a key nothing can be
/// signed yet.
pub async fn load<H: Host>(host: &H, create: bool) -> PluginResult<Option<IdKey>> {
    if let Some(key) = host.secret_get(SECRET).await?.as_deref().and_then(IdKey::from_hex) {
        return Ok(Some(key));
    }
    if !create {
        return Ok(None);
    }
    let made = IdKey::from_bytes(&host.random_bytes(32)?).ok_or_else(|| PluginError::internal("the host gave fewer random bytes than asked"))?;
    host.secret_set(SECRET, &made.to_hex()).await?;
    // Two instances creating it at once: the one stored last is the key from now on.
    Ok(Some(host.secret_get(SECRET).await?.as_deref().and_then(IdKey::from_hex).unwrap_or(made)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::MemoryHost;
    use pollster::block_on;

    #[test]
    fn a_key_is_made_once_kept_in_secrets_and_never_made_by_a_preview() {
        let host = MemoryHost::new();
        assert_eq!(block_on(load(&host, false)).unwrap(), None);
        assert!(host.secrets_snapshot().is_empty());
        let key = block_on(load(&host, true)).unwrap().unwrap();
        assert_eq!(host.secrets_snapshot().get(SECRET), Some(&key.to_hex()));
        assert_eq!(block_on(load(&host, true)).unwrap(), Some(key.clone()), "the same key every run");
        assert_eq!(block_on(load(&host, false)).unwrap(), Some(key));
        assert!(host.storage_snapshot().is_empty(), "never in storage");
    }
}
