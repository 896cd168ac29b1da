//! What a run of one spoke is configured with: the settings of `host-api.d.ts` that the
//! engine obeys, plus what the remote can hold. Built by the runner from the validated
//! settings; the engine never reads storage itself.

use super::carried_id::IdKey;
use super::mapping::{FieldMappingRow, LabelMappingRow};
use super::report::Side;
use crate::crm::CrmFieldSchema;
use serde::{Deserialize, Serialize};

/// `filter.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FilterMode {
    /// Every CRM contact is exported.
    #[default]
    All,
    /// Only members of `filter.lists`.
    Lists,
    /// Only contacts with one of `filter.tags`.
    Tags,
}

/// `filter.onLeave`: what happens to a linked remote copy when its CRM contact leaves the
/// export filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OnLeave {
    /// The pair stays linked and keeps syncing: the filter only decides what is exported
    /// for the first time.
    #[default]
    Keep,
    /// The link is dropped and the remote copy left as it is; the engine remembers the
    /// pair as released so the copy is not imported back (it re-links if the contact
    /// re-enters the filter).
    Unlink,
    /// The remote copy is deleted (counted by the delete guard).
    Delete,
}

/// The export filter (`filter.*` settings).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExportFilter {
    /// `filter.mode`.
    pub mode: FilterMode,
    /// `filter.lists`.
    pub lists: Vec<String>,
    /// `filter.tags`.
    pub tags: Vec<String>,
    /// `filter.validMobileOnly`: only contacts with a valid mobile number.
    pub valid_mobile_only: bool,
    /// `filter.onLeave`.
    pub on_leave: OnLeave,
}

/// `deletion.policy`: what a deletion on one side does to the other, when the other side
/// did not edit the contact since the last run (edit beats delete).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DeletionPolicy {
    /// Delete the other copy too.
    Propagate,
    /// Remote deleted: set the CRM's flag field to true and unlink. CRM deleted: unlink,
    /// leave the remote copy.
    #[default]
    Flag,
    /// Unlink and leave the other copy alone.
    Ignore,
}

/// What the remote can hold (a provider capability). A field it cannot hold is never read
/// as "cleared" there and never written there.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RemoteCapabilities {
    /// Canonical field ids the remote cannot hold at all (e.g. `"labels"` over CardDAV).
    pub unsupported: Vec<String>,
    /// Most e-mails it can hold (None: unlimited).
    pub max_emails: Option<usize>,
    /// Most phones it can hold.
    pub max_phones: Option<usize>,
    /// Most addresses it can hold.
    pub max_addresses: Option<usize>,
    /// Whether the remote copy can carry the CRM id (People `clientData`).
    pub carries_crm_id: bool,
}

/// Everything a run of one spoke obeys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SyncConfig {
    /// The spoke's id (`SpokeSettings.id`).
    pub spoke_id: String,
    /// `sync.import`: remote → CRM writes allowed.
    pub import: bool,
    /// `sync.export`: CRM → remote writes allowed.
    pub export: bool,
    /// `SpokeSettings.allowCreate`: the hub may create contacts in this spoke.
    pub allow_create: bool,
    /// The export filter.
    pub filter: ExportFilter,
    /// `deletion.policy`.
    pub deletion: DeletionPolicy,
    /// `deletion.flagField`: the CRM boolean field set when policy is `flag`.
    pub flag_field: String,
    /// `guard.maxDeleteShare` (0..1).
    pub max_delete_share: f64,
    /// `phone.defaultRegion` (ISO 3166 alpha-2), for numbers typed without `+`.
    pub default_region: String,
    /// `mapping.fields`; empty means [`super::mapping::default_mapping`].
    pub fields: Vec<FieldMappingRow>,
    /// `mapping.labels`.
    pub labels: Vec<LabelMappingRow>,
    /// The CRM's field schema (type checks, read-only fields).
    pub crm_schema: Vec<CrmFieldSchema>,
    /// Which side wins a "newest" conflict when both update times are equal.
    pub tie_winner: Side,
    /// What the remote can hold.
    pub capabilities: RemoteCapabilities,
    /// The installation's key signing the CRM id carried on remote copies (the runner
    /// reads it from the host's secrets; never serialized). Without one, ids are written
    /// bare and every carried id is unverified ([`super::carried_id`]).
    #[serde(skip)]
    pub id_key: Option<IdKey>,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            spoke_id: String::new(),
            import: true,
            export: true,
            allow_create: true,
            filter: ExportFilter::default(),
            deletion: DeletionPolicy::Flag,
            flag_field: String::new(),
            max_delete_share: 0.1,
            default_region: "FR".to_string(),
            fields: Vec::new(),
            labels: Vec::new(),
            crm_schema: Vec::new(),
            tie_winner: Side::Crm,
            capabilities: RemoteCapabilities { carries_crm_id: true, ..RemoteCapabilities::default() },
            id_key: None,
        }
    }
}
