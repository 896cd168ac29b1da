//! What a run (or a preview) tells the operator: the engine's part of `RunReport` in
//! `host-api.d.ts` (counts, conflicts with the losing values, ambiguities, matches waiting
//! for a decision, samples, notices). Field names match the contract (serde camelCase).

use serde::{Deserialize, Serialize};

/// Which side a write, a value or a winner belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Side {
    /// The CRM (the hub).
    Crm,
    /// The remote address book (a spoke).
    Remote,
}

impl Side {
    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::Crm => Side::Remote,
            Side::Remote => Side::Crm,
        }
    }
}

/// `SideCounts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SideCounts {
    /// Contacts created on this side.
    pub created: u32,
    /// Contacts updated on this side.
    pub updated: u32,
    /// Contacts deleted on this side.
    pub deleted: u32,
}

/// `RunCounts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunCounts {
    /// Writes to the CRM.
    pub crm: SideCounts,
    /// Writes to the remote.
    pub remote: SideCounts,
    /// Pairs linked by a shared e-mail this run.
    pub linked_by_email: u32,
    /// Pairs linked by a shared phone this run.
    pub linked_by_phone: u32,
    /// Pairs linked by the CRM id carried on the remote copy (or a pending-create intent).
    pub linked_by_id: u32,
    /// Fields changed differently on both sides.
    pub conflicts: u32,
    /// Matches refused because they were ambiguous.
    pub ambiguous: u32,
    /// Linked pairs that needed nothing.
    pub unchanged: u32,
    /// CRM contacts not exported because of the filter.
    pub skipped_by_filter: u32,
    /// Contacts (on either side) waiting for the operator's decision: see
    /// [`PlanSummary::pending`]. Absent from reports of earlier versions.
    #[serde(default)]
    pub waiting: u32,
    /// Operator decisions this run applied.
    #[serde(default)]
    pub decided: u32,
}

/// `ConflictRecord`: a field both sides changed differently, and the losing value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConflictRecord {
    /// CRM id of the pair.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crm_id: Option<String>,
    /// Remote id of the pair.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<String>,
    /// Display name, for people.
    pub contact_name: String,
    /// The mapping row's CRM field id.
    pub field: String,
    /// The CRM's value (as typed).
    pub crm_value: serde_json::Value,
    /// The remote's value (as typed).
    pub remote_value: serde_json::Value,
    /// Which side's value was kept.
    pub kept: Side,
    /// The rule that decided: "newest" | "crm" | "remote".
    pub rule: String,
}

/// `AmbiguityRecord`: a match refused because it was not one-to-one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AmbiguityRecord {
    /// The shared key (normalized e-mail or E.164 phone).
    pub key: String,
    /// CRM contacts carrying it.
    pub crm_ids: Vec<String>,
    /// Remote contacts carrying it.
    pub remote_ids: Vec<String>,
    /// Why no link was made.
    pub reason: String,
}

/// `MatchCandidate`: one contact of a pending match, as the operator recognises it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchCandidate {
    /// Its side.
    pub side: Side,
    /// Its id there (what a decision names).
    pub id: String,
    /// Display name (empty when the run did not read it).
    pub name: String,
    /// E-mails as typed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
    /// Phones as typed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<String>,
}

/// `PendingMatch`: contacts held until the operator decides (invariants 18 and 19).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingMatch {
    /// `ambiguous` (several candidates share a key) or `possible` (a shared phone,
    /// names that do not agree).
    pub kind: String,
    /// The keys they share now (normalized e-mails, E.164 phones, or a carried CRM id);
    /// empty when an edit removed them (they stay held: an edit never releases a contact).
    pub key: String,
    /// The CRM contacts.
    pub crm: Vec<MatchCandidate>,
    /// The address-book contacts.
    pub remote: Vec<MatchCandidate>,
}

/// `ChangeSample`: one example of what a run does, for the preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeSample {
    /// Display name.
    pub contact_name: String,
    /// The side written.
    pub side: Side,
    /// "create" | "update" | "delete" | "link".
    pub action: String,
    /// The CRM field ids changed, for updates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

/// The engine's part of a `RunReport`: what a plan will do (preview) or did (run).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanSummary {
    /// Counts.
    pub counts: RunCounts,
    /// Conflicts and their losing values.
    pub conflicts: Vec<ConflictRecord>,
    /// Refused matches.
    pub ambiguities: Vec<AmbiguityRecord>,
    /// Up to [`MAX_SAMPLES`] examples.
    pub samples: Vec<ChangeSample>,
    /// E.g. "2 phone numbers cannot be stored in this address book".
    pub notices: Vec<String>,
    /// Matches waiting for the operator's decision.
    #[serde(default)]
    pub pending_matches: Vec<PendingMatch>,
    /// Contacts the operator chose never to sync with this spoke.
    #[serde(default)]
    pub ignored: Vec<MatchCandidate>,
}

/// How many samples a summary keeps.
pub const MAX_SAMPLES: usize = 20;
