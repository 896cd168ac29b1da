//! The declarative field-mapping table between the CRM's fields and the canonical model.

use serde::{Deserialize, Serialize};

/// `Direction` in `host-api.d.ts`: which way a mapped field flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Direction {
    /// Both ways, three-way merged.
    Both,
    /// CRM → remote only.
    ToRemote,
    /// Remote → CRM only.
    ToCrm,
    /// Not synced.
    None,
}

/// `Priority`: who wins when both sides changed a field differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Priority {
    /// The side whose record was updated last (each side's own clock).
    Newest,
    /// The CRM.
    Crm,
    /// The remote.
    Remote,
}

/// `FieldMappingRow`: one CRM field ↔ one canonical field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldMappingRow {
    /// CRM field id (from `crm.fieldSchema()`).
    pub crm_field: String,
    /// Canonical field id, e.g. `"name.given"`, `"emails"`, `"organization.name"`.
    pub remote_field: String,
    /// Which way it flows.
    pub direction: Direction,
    /// Conflict rule.
    pub priority: Priority,
    /// A non-empty value fills an empty one even against the priority.
    pub fill_empty: bool,
}

/// `LabelMappingRow`: a CRM list or tag ↔ a remote label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelMappingRow {
    /// The CRM side: a list id or a tag name.
    pub crm: CrmLabelRef,
    /// The remote label (group) name.
    pub remote_label: String,
}

/// The CRM side of a [`LabelMappingRow`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrmLabelRef {
    /// "list" or "tag".
    pub kind: CrmLabelKind,
    /// List id or tag name.
    pub id: String,
}

/// A CRM list or a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CrmLabelKind {
    /// A static list.
    List,
    /// A tag.
    Tag,
}
