//! The plan of a run: writes per side, each naming the version or etag it was computed
//! against, in a deterministic order, cut into batches by the runner's batch sizes.

use super::model::RemoteRecord;
use super::report::{PlanSummary, Side};
use crate::crm::{CrmContact, CrmPatch, NewCrmContact};
use serde::{Deserialize, Serialize};

/// One write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "op")]
pub enum WriteOp {
    /// Create a CRM contact copying a remote record.
    CrmCreate {
        /// The remote record it copies.
        remote_id: String,
        /// The contact to create.
        contact: NewCrmContact,
    },
    /// Patch a CRM contact; the CRM refuses (CONFLICT) if its version moved on.
    CrmUpdate {
        /// CRM id.
        crm_id: String,
        /// The version the patch was computed against.
        expected_version: u64,
        /// Only the changed fields (and lists/tags when labels changed).
        patch: CrmPatch,
    },
    /// Delete a CRM contact.
    CrmDelete {
        /// CRM id.
        crm_id: String,
        /// The version the decision was made against.
        expected_version: u64,
    },
    /// Create a remote record (its `crm_id` set, its `id` and `etag` empty: the server's
    /// answer gives them).
    RemoteCreate {
        /// The CRM contact it copies.
        crm_id: String,
        /// The record to create.
        record: RemoteRecord,
    },
    /// Replace a remote record's content; `record.etag` is the etag it was computed
    /// against. `fields` lists the canonical fields that changed (People
    /// `updatePersonFields`); empty when only the carried CRM id is stamped.
    RemoteUpdate {
        /// Remote id.
        remote_id: String,
        /// The full new record.
        record: RemoteRecord,
        /// Canonical fields changed.
        fields: Vec<String>,
    },
    /// Delete a remote record.
    RemoteDelete {
        /// Remote id.
        remote_id: String,
        /// The etag the decision was made against.
        etag: String,
    },
}

impl WriteOp {
    /// The side written.
    pub fn side(&self) -> Side {
        match self {
            WriteOp::CrmCreate { .. } | WriteOp::CrmUpdate { .. } | WriteOp::CrmDelete { .. } => Side::Crm,
            _ => Side::Remote,
        }
    }
}

/// A write with the id its result is reported under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedWrite {
    /// Report the outcome with [`super::session::SyncSession::handle_write_result`].
    pub id: u32,
    /// The write.
    pub op: WriteOp,
}

/// What the side answered to a write.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteResult {
    /// A CRM create or update succeeded: the record as the CRM returned it.
    Crm(CrmContact),
    /// A remote create or update succeeded: the record as the server returned it (its
    /// id is the one to keep, scenario 2).
    Remote(RemoteRecord),
    /// A delete succeeded (or the record was already gone).
    Deleted,
    /// The write failed; the pair stays as it was and is looked at again next run.
    Failed(super::error::EngineError),
}

/// The writes of one round, sorted: CRM creates, updates, deletes, then remote creates,
/// updates, deletes, each by id.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncPlan {
    /// The writes.
    pub writes: Vec<PlannedWrite>,
    /// Counts, conflicts, ambiguities, samples and notices.
    pub summary: PlanSummary,
}

impl SyncPlan {
    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }


    /// The writes to one side cut into batches of at most `size` (People batch calls take
    /// 200 contacts; a CRM may take one at a time).
    ///
    /// ```
    /// use contact_sync::engine::plan::SyncPlan;
    /// use contact_sync::engine::Side;
    /// assert!(SyncPlan::default().batches(Side::Crm, 10).is_empty());
    /// ```
    pub fn batches(&self, side: Side, size: usize) -> Vec<Vec<&PlannedWrite>> {
        let mine: Vec<&PlannedWrite> = self.writes.iter().filter(|w| w.op.side() == side).collect();
        mine.chunks(size.max(1)).map(<[&PlannedWrite]>::to_vec).collect()
    }
}
