//! The operator's decisions about held matches (`resolveMatch`), queued in host storage
//! (`spoke.{id}.decisions`) and applied by the next run, which holds the run lease: a
//! decision never rewrites the sync state behind a running run's back. A run takes the
//! queue when it starts and removes what it applied once the state holding their effect
//! is saved; decisions added meanwhile wait for the next run. Applying one twice does
//! nothing more (see [`crate::engine::held`]).

use serde_json::Value;

use crate::engine::held::Decision;
use crate::error::{ErrorCode, PluginError, PluginResult};
use crate::host::Host;
use crate::runner::SpokeKeys;

/// A decision waiting in the queue (stored as `{id, decision}`, the decision in the
/// contract's form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// Unique in the queue.
    pub id: String,
    /// What the operator decided.
    pub decision: Decision,
}

impl Queued {
    fn to_json(&self) -> Value {
        Value::Object([("id".to_string(), Value::String(self.id.clone())), ("decision".to_string(), self.decision.to_json())].into_iter().collect())
    }

    fn from_json(v: &Value) -> Option<Queued> {
        Some(Queued { id: v.get("id")?.as_str()?.to_string(), decision: Decision::from_json(v.get("decision")?).ok()? })
    }
}

/// Attempts at a compare-and-set before giving up (another tab writing the queue).
const ATTEMPTS: usize = 8;

/// The decisions queued for spoke `spoke_id`, oldest first. An unreadable entry is left
/// out (the decision is lost, the held match is not: it is shown again).
pub async fn queued<H: Host>(host: &H, spoke_id: &str) -> PluginResult<Vec<Queued>> {
    Ok(read(host, &SpokeKeys::for_spoke(spoke_id).decisions).await?.1)
}

/// Adds a decision (an identical one already queued is not added twice).
pub async fn queue<H: Host>(host: &H, spoke_id: &str, decision: Decision) -> PluginResult<()> {
    let bytes = host.random_bytes(6)?;
    let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    update(host, spoke_id, |list| {
        if !list.iter().any(|q| q.decision == decision) {
            list.push(Queued { id: id.clone(), decision: decision.clone() });
        }
    })
    .await
}

/// Removes the decisions a run applied.
pub async fn remove<H: Host>(host: &H, spoke_id: &str, applied: &[Queued]) -> PluginResult<()> {
    if applied.is_empty() {
        return Ok(());
    }
    update(host, spoke_id, |list| list.retain(|q| !applied.iter().any(|a| a.id == q.id))).await
}

async fn read<H: Host>(host: &H, key: &str) -> PluginResult<(Option<Value>, Vec<Queued>)> {
    let got = host.storage_get(&[key.to_string()]).await?;
    let raw = got.get(key).filter(|v| !v.is_null()).cloned();
    let list = raw.as_ref().and_then(Value::as_array).map(|a| a.iter().filter_map(Queued::from_json).collect()).unwrap_or_default();
    Ok((raw, list))
}

async fn update<H: Host>(host: &H, spoke_id: &str, change: impl Fn(&mut Vec<Queued>)) -> PluginResult<()> {
    let key = SpokeKeys::for_spoke(spoke_id).decisions;
    for _ in 0..ATTEMPTS {
        let (raw, mut list) = read(host, &key).await?;
        change(&mut list);
        let value = (!list.is_empty()).then(|| Value::Array(list.iter().map(Queued::to_json).collect()));
        if value == raw || host.storage_compare_and_set(&key, raw.as_ref(), value.as_ref()).await? {
            return Ok(());
        }
    }
    Err(PluginError::new(ErrorCode::Storage, "The decision could not be saved: the settings were being changed at the same time.")
        .with_remedy("Try again.")
        .with_retryable(true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Side;
    use crate::host::MemoryHost;
    use pollster::block_on;

    #[test]
    fn decisions_queue_once_each_and_only_those_applied_are_removed() {
        let host = MemoryHost::new();
        let link = Decision::Link { crm_id: "c1".into(), remote_id: "r1".into() };
        let ignore = Decision::Ignore { side: Side::Remote, id: "r2".into() };
        block_on(queue(&host, "g1", link.clone())).unwrap();
        block_on(queue(&host, "g1", link.clone())).unwrap();
        let taken = block_on(queued(&host, "g1")).unwrap();
        assert_eq!(taken.iter().map(|q| &q.decision).collect::<Vec<_>>(), vec![&link]);
        block_on(queue(&host, "g1", ignore.clone())).unwrap();
        block_on(remove(&host, "g1", &taken)).unwrap();
        assert_eq!(block_on(queued(&host, "g1")).unwrap().into_iter().map(|q| q.decision).collect::<Vec<_>>(), vec![ignore]);
        assert!(block_on(queued(&host, "other")).unwrap().is_empty());
        let all = block_on(queued(&host, "g1")).unwrap();
        block_on(remove(&host, "g1", &all)).unwrap();
        assert!(host.storage_snapshot().is_empty(), "an empty queue is no key at all");
    }
}
