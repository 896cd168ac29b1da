//! The CRM's contact records as the host hands them over (hostApi "1", see
//! `www/plugin/host-api.d.ts`). Plain data: shared by the engine, the host seam and tests.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A CRM contact. `fields` keys are the ids of the CRM's field schema; values stay JSON
/// so that custom fields pass through untouched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrmContact {
    /// The CRM's id, stable for the life of the record.
    pub id: String,
    /// Increases on every change; updates name the version they were computed against.
    pub version: u64,
    /// ISO 8601 time of the last change, on the CRM's clock.
    #[serde(default)]
    pub updated_at: String,
    /// True on tombstones returned by an incremental listing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// Field id → value.
    #[serde(default)]
    pub fields: Map<String, Value>,
    /// Ids of the lists the contact belongs to.
    #[serde(default)]
    pub lists: Vec<String>,
    /// Tag names.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A contact to create in the CRM.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewCrmContact {
    /// Field id → value.
    pub fields: Map<String, Value>,
    /// List ids.
    #[serde(default)]
    pub lists: Vec<String>,
    /// Tag names.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A partial update: absent parts are left as they are.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrmPatch {
    /// Only the listed fields change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Map<String, Value>>,
    /// Replaces the list memberships when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lists: Option<Vec<String>>,
    /// Replaces the tags when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

/// One page of `crm.listChanges`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrmPage {
    /// Live contacts, and tombstones on incremental listings.
    pub contacts: Vec<CrmContact>,
    /// Continue with it; after the last page, the cursor of the next incremental listing.
    pub next_cursor: String,
    /// More pages follow.
    pub has_more: bool,
}

/// The type of a CRM field, for the mapping editor's type checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CrmFieldType {
    /// One line of text.
    Text,
    /// Several lines of text.
    Longtext,
    /// `[{value, type, primary}]` e-mail addresses.
    EmailList,
    /// `[{value, type, primary}]` phone numbers.
    PhoneList,
    /// `[{street, city, postalCode, region, country, type}]`.
    AddressList,
    /// `YYYY-MM-DD`.
    Date,
    /// true / false.
    Boolean,
    /// A web address.
    Url,
    /// A CRM user id.
    User,
    /// A number.
    Number,
    /// An image as a `data:image/jpeg;base64,…` or `data:image/png;base64,…` URL.
    Image,
}

/// One field of the CRM's field schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrmFieldSchema {
    /// Field id, the key in [`CrmContact::fields`].
    pub id: String,
    /// Label in the operator's locale.
    pub label: String,
    /// Value type.
    #[serde(rename = "type")]
    pub field_type: CrmFieldType,
    /// A field the CRM's users added.
    #[serde(default)]
    pub custom: bool,
    /// The plugin may not write it.
    #[serde(default)]
    pub read_only: bool,
}

/// A CRM list (a static segment contacts belong to).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrmList {
    /// List id.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A CRM user (contact owner).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrmUser {
    /// User id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// E-mail, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}
