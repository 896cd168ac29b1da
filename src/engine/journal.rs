//! The journal of a run: every confirmed write with the values before and after, and the
//! losing values of conflicts, so the last run can be undone. Contact data only: never a
//! token or a password.

use super::model::RemoteRecord;
use super::plan::WriteOp;
use crate::crm::{CrmContact, CrmPatch, NewCrmContact};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One confirmed write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum JournalRecord {
    /// A CRM contact was created.
    CrmCreated {
        /// Its id.
        crm_id: String,
        /// Its version after the create.
        version: u64,
    },
    /// CRM fields changed: their values before and after.
    CrmUpdated {
        /// CRM id.
        crm_id: String,
        /// Version after the update.
        version: u64,
        /// Field values before (absent fields as null), lists and tags when they changed.
        before: CrmPatch,
        /// The patch applied.
        after: CrmPatch,
    },
    /// A CRM contact was deleted: all of it, to re-create it.
    CrmDeleted {
        /// The contact as it was.
        before: CrmContact,
    },
    /// A remote record was created.
    RemoteCreated {
        /// Its id.
        remote_id: String,
        /// Its etag after the create.
        etag: String,
    },
    /// A remote record changed.
    RemoteUpdated {
        /// Before.
        before: RemoteRecord,
        /// After (with the new etag).
        after: RemoteRecord,
    },
    /// A remote record was deleted.
    RemoteDeleted {
        /// The record as it was.
        before: RemoteRecord,
    },
}

/// The journal of one run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Journal {
    /// Confirmed writes, in the order they were confirmed.
    pub records: Vec<JournalRecord>,
    /// Conflicts settled, with the losing values.
    pub conflicts: Vec<super::report::ConflictRecord>,
}

impl Journal {
    /// The writes that undo this run, newest first. Each names the version or etag the run
    /// left, so an undo over a later edit is refused by the side (CONFLICT) instead of
    /// overwriting it.
    pub fn inverse(&self) -> Vec<WriteOp> {
        let mut ops = Vec::new();
        for r in self.records.iter().rev() {
            match r {
                JournalRecord::CrmCreated { crm_id, version } => ops.push(WriteOp::CrmDelete { crm_id: crm_id.clone(), expected_version: *version }),
                JournalRecord::CrmUpdated { crm_id, version, before, .. } => {
                    ops.push(WriteOp::CrmUpdate { crm_id: crm_id.clone(), expected_version: *version, patch: before.clone() })
                }
                JournalRecord::CrmDeleted { before } => ops.push(WriteOp::CrmCreate {
                    remote_id: String::new(),
                    contact: NewCrmContact { fields: before.fields.clone(), lists: before.lists.clone(), tags: before.tags.clone() },
                }),
                JournalRecord::RemoteCreated { remote_id, etag } => ops.push(WriteOp::RemoteDelete { remote_id: remote_id.clone(), etag: etag.clone() }),
                JournalRecord::RemoteUpdated { before, after } => {
                    let mut record = before.clone();
                    record.etag = after.etag.clone();
                    ops.push(WriteOp::RemoteUpdate { remote_id: after.id.clone(), record, fields: Vec::new() })
                }
                JournalRecord::RemoteDeleted { before } => {
                    let mut record = before.clone();
                    record.id = String::new();
                    record.etag = String::new();
                    ops.push(WriteOp::RemoteCreate { crm_id: before.crm_id.clone().unwrap_or_default(), record })
                }
            }
        }
        ops
    }
}

/// The "before" of a CRM patch: the current values of the fields it touches.
pub fn crm_before(c: &CrmContact, patch: &CrmPatch) -> CrmPatch {
    let fields = patch.fields.as_ref().map(|f| f.keys().map(|k| (k.clone(), c.fields.get(k).cloned().unwrap_or(Value::Null))).collect::<Map<_, _>>());
    CrmPatch { fields, lists: patch.lists.as_ref().map(|_| c.lists.clone()), tags: patch.tags.as_ref().map(|_| c.tags.clone()) }
}
