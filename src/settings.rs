//! The operator's settings (`Settings` in `www/plugin/host-api.d.ts`): typed, with their
//! defaults, and validated against the schema the manifest contributes.
//!
//! Keys are namespaced and dotted (`"sync.enabled"`) as the manifest's settings schema
//! declares them, so a host can show or store them without knowing this crate. The
//! manifest's `contributes.settings.defaults` must equal [`Settings::default`] (a test
//! pins this): one source of truth.

pub mod schema_check;

use crate::crm::{CrmFieldSchema, CrmFieldType, CrmList};
use crate::error::{PluginError, PluginResult};
use crate::manifest::Manifest;
use crate::network::url::HttpUrl;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;

// The field-mapping types are the engine's (one definition for the settings, their schema
// and the sync engine).
pub use crate::engine::mapping::{Direction, FieldMappingRow, Priority};

/// Whether a label row names a CRM list or a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum LabelSource {
    /// A CRM list, by id.
    List,
    /// A CRM tag, by name.
    Tag,
}

/// The CRM side of a label row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LabelRef {
    /// List or tag.
    pub kind: LabelSource,
    /// List id or tag name.
    pub id: String,
}

/// CRM list or tag ↔ address-book label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelMappingRow {
    /// The CRM list or tag.
    pub crm: LabelRef,
    /// The label (contact group) name in the address book.
    pub remote_label: String,
}

/// The kind of address book a spoke connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum SpokeKind {
    /// Google Contacts (People API).
    Google,
    /// A CardDAV server.
    Carddav,
}

/// Development endpoints of a local emulator; they must match `devAllowedHosts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SpokeEndpoints {
    /// Authorization (consent) endpoint.
    pub auth: String,
    /// Token endpoint.
    pub token: String,
    /// API base URL.
    pub api: String,
    /// Token revocation endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke: Option<String>,
}

/// One connected (or to-be-connected) address book.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SpokeSettings {
    /// Stable id chosen when the spoke is added; keys its state and history.
    pub id: String,
    /// Google or CardDAV.
    pub kind: SpokeKind,
    /// Shown to the operator.
    pub name: String,
    /// The CRM (hub) may create contacts in this address book.
    pub allow_create: bool,
    /// Google: the company's own OAuth client id (its secret lives in host secrets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Development only: a local emulator's endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<SpokeEndpoints>,
    /// CardDAV server URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_url: Option<String>,
    /// CardDAV user name (the password lives in host secrets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// CardDAV: the chosen address book's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_book: Option<String>,
    /// CardDAV: the operator says the server is theirs, on their private network; such a
    /// server (a loopback, private or link-local address, or a local-only name) is contacted
    /// outside development mode only then.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_private_network: bool,
}

/// Which CRM contacts are exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum FilterMode {
    /// Every contact.
    All,
    /// Members of `filter.lists`.
    Lists,
    /// Contacts with one of `filter.tags`.
    Tags,
}

/// What happens to a linked remote copy when its CRM contact leaves the export filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum OnLeave {
    /// Keep the copy and the link.
    Keep,
    /// Keep the copy, forget the link.
    Unlink,
    /// Delete the copy.
    Delete,
}

/// What a deletion on one side does to the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum DeletionPolicy {
    /// Delete the linked copy.
    Propagate,
    /// Keep the CRM contact and set `deletion.flagField` to true.
    Flag,
    /// Only forget the link.
    Ignore,
}

/// The plugin's settings, as stored by the host and edited in the settings tab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Master switch: no run happens when false.
    #[serde(rename = "sync.enabled")]
    pub sync_enabled: bool,
    /// Address books → CRM.
    #[serde(rename = "sync.import")]
    pub sync_import: bool,
    /// CRM → address books.
    #[serde(rename = "sync.export")]
    pub sync_export: bool,
    /// Run when the CRM is opened.
    #[serde(rename = "sync.onOpen")]
    pub sync_on_open: bool,
    /// Run (debounced) when the host reports a contact change.
    #[serde(rename = "sync.onChange")]
    pub sync_on_change: bool,
    /// Google spokes also sync contact photos (off by default: photo writes cost quota).
    /// Optional in stored settings, so settings saved before it existed stay valid.
    #[serde(rename = "sync.photos", default)]
    pub sync_photos: bool,
    /// Which CRM contacts are exported.
    #[serde(rename = "filter.mode")]
    pub filter_mode: FilterMode,
    /// List ids for `filter.mode = "lists"`.
    #[serde(rename = "filter.lists")]
    pub filter_lists: Vec<String>,
    /// Tag names for `filter.mode = "tags"`.
    #[serde(rename = "filter.tags")]
    pub filter_tags: Vec<String>,
    /// Export only contacts with a valid mobile number.
    #[serde(rename = "filter.validMobileOnly")]
    pub filter_valid_mobile_only: bool,
    /// What happens to a remote copy whose CRM contact leaves the filter.
    #[serde(rename = "filter.onLeave")]
    pub filter_on_leave: OnLeave,
    /// What a deletion does to the other side.
    #[serde(rename = "deletion.policy")]
    pub deletion_policy: DeletionPolicy,
    /// CRM boolean field set to true when the policy is `flag`.
    #[serde(rename = "deletion.flagField")]
    pub deletion_flag_field: String,
    /// Share (0..1) of linked contacts a run may delete before the guard stops it.
    #[serde(rename = "guard.maxDeleteShare")]
    pub guard_max_delete_share: f64,
    /// ISO 3166 region for phone numbers written without a country code.
    #[serde(rename = "phone.defaultRegion")]
    pub phone_default_region: String,
    /// The field mapping table.
    #[serde(rename = "mapping.fields")]
    pub mapping_fields: Vec<FieldMappingRow>,
    /// Lists and tags ↔ labels.
    #[serde(rename = "mapping.labels")]
    pub mapping_labels: Vec<LabelMappingRow>,
    /// Connected address books.
    pub spokes: Vec<SpokeSettings>,
}

impl Default for Settings {
    /// Safe defaults: both ways, everything exported, deletions propagated behind a 10 %
    /// guard. The default field mapping comes from the engine's field catalogue once it
    /// exists; until then the table starts empty.
    fn default() -> Self {
        Settings {
            sync_enabled: true,
            sync_import: true,
            sync_export: true,
            sync_on_open: true,
            sync_on_change: true,
            sync_photos: false,
            filter_mode: FilterMode::All,
            filter_lists: Vec::new(),
            filter_tags: Vec::new(),
            filter_valid_mobile_only: false,
            filter_on_leave: OnLeave::Keep,
            deletion_policy: DeletionPolicy::Propagate,
            deletion_flag_field: String::new(),
            guard_max_delete_share: 0.1,
            phone_default_region: "FR".to_string(),
            mapping_fields: Vec::new(),
            mapping_labels: Vec::new(),
            spokes: Vec::new(),
        }
    }
}

impl Settings {
    /// Validates a JSON value from outside (host storage, the settings tab) against the
    /// manifest's settings schema, then the rules a schema cannot say. Fails with
    /// INVALID_SETTINGS listing every reason at once, so the operator fixes all in one go.
    ///
    /// ```
    /// use contact_sync::settings::Settings;
    /// let mut v = serde_json::to_value(Settings::default()).unwrap();
    /// v["guard.maxDeleteShare"] = serde_json::json!(3);
    /// let err = Settings::from_value(&v).unwrap_err();
    /// assert_eq!(err.code.as_str(), "INVALID_SETTINGS");
    /// ```
    pub fn from_value(value: &Value) -> PluginResult<Settings> {
        let manifest = Manifest::bundled()?;
        let schema = &manifest.contributes.settings.schema;
        let reasons = schema_check::check(schema, value);
        if !reasons.is_empty() {
            return Err(PluginError::invalid_settings(reasons));
        }
        let settings: Settings = serde_json::from_value(value.clone())
            .map_err(|e| PluginError::invalid_settings(vec![e.to_string()]))?;
        let reasons = settings.rule_problems(&manifest.permissions.network.dev_allowed_hosts);
        if !reasons.is_empty() {
            return Err(PluginError::invalid_settings(reasons));
        }
        Ok(settings)
    }

    /// Problems a JSON Schema cannot express: uniqueness across rows, fields required by
    /// another field's value, development endpoints outside `devAllowedHosts`.
    pub fn rule_problems(&self, dev_allowed_hosts: &[String]) -> Vec<String> {
        let mut reasons = Vec::new();
        if self.filter_mode == FilterMode::Lists && self.filter_lists.is_empty() {
            reasons.push("filter.lists: choose at least one list, or export all contacts".into());
        }
        if self.filter_mode == FilterMode::Tags && self.filter_tags.is_empty() {
            reasons.push("filter.tags: choose at least one tag, or export all contacts".into());
        }
        if self.deletion_policy == DeletionPolicy::Flag && self.deletion_flag_field.trim().is_empty() {
            reasons.push("deletion.flagField: name the CRM field to set when deletions are flagged".into());
        }
        let mut pairs = BTreeSet::new();
        for (i, row) in self.mapping_fields.iter().enumerate() {
            if !pairs.insert((row.crm_field.as_str(), row.remote_field.as_str())) {
                reasons.push(format!(
                    "mapping.fields[{i}]: {} ↔ {} is mapped twice",
                    row.crm_field, row.remote_field
                ));
            }
        }
        let mut labels = BTreeSet::new();
        for (i, row) in self.mapping_labels.iter().enumerate() {
            if !labels.insert((row.crm.kind as u8, row.crm.id.as_str())) {
                reasons.push(format!("mapping.labels[{i}]: {} is mapped twice", row.crm.id));
            }
        }
        let mut ids = BTreeSet::new();
        for (i, spoke) in self.spokes.iter().enumerate() {
            if !ids.insert(spoke.id.as_str()) {
                reasons.push(format!("spokes[{i}].id: \"{}\" is used by another spoke", spoke.id));
            }
            if let Some(endpoints) = &spoke.endpoints {
                let urls = [
                    ("auth", Some(&endpoints.auth)),
                    ("token", Some(&endpoints.token)),
                    ("api", Some(&endpoints.api)),
                    ("revoke", endpoints.revoke.as_ref()),
                ];
                for (name, url) in urls {
                    if let Some(url) = url {
                        if !matches_dev_host(url, dev_allowed_hosts) {
                            reasons.push(format!(
                                "spokes[{i}].endpoints.{name}: development endpoints must be on {}",
                                dev_allowed_hosts.join(" or ")
                            ));
                        }
                    }
                }
            }
            if spoke.kind == SpokeKind::Carddav {
                // The reasons never repeat the URL: it may hold a password.
                match spoke.server_url.as_deref().map(str::trim) {
                    None | Some("") => reasons.push(format!("spokes[{i}].serverUrl: a CardDAV spoke needs its server address")),
                    Some(url) => match HttpUrl::parse(url) {
                        Err(problem) => reasons.push(format!("spokes[{i}].serverUrl: {problem}")),
                        Ok(parsed) if parsed.scheme() != "https" && !matches_dev_host(url, dev_allowed_hosts) => {
                            reasons.push(format!("spokes[{i}].serverUrl: must start with https:// (passwords never travel unencrypted)"))
                        }
                        Ok(_) => {}
                    },
                }
            }
        }
        reasons
    }

    /// Problems against the CRM itself: mapped fields and lists that do not exist, a
    /// read-only field the mapping would write, a deletion flag that is not a boolean.
    pub fn crm_problems(&self, fields: &[CrmFieldSchema], lists: &[CrmList]) -> Vec<String> {
        let mut reasons = Vec::new();
        let field = |id: &str| fields.iter().find(|f| f.id == id);
        for (i, row) in self.mapping_fields.iter().enumerate() {
            match field(&row.crm_field) {
                None => reasons.push(format!(
                    "mapping.fields[{i}].crmField: the CRM has no field \"{}\"",
                    row.crm_field
                )),
                Some(f) if f.read_only && matches!(row.direction, Direction::Both | Direction::ToCrm) => {
                    reasons.push(format!(
                        "mapping.fields[{i}].direction: \"{}\" is read-only in the CRM; choose CRM → address book",
                        f.label
                    ))
                }
                Some(_) => {}
            }
        }
        if self.deletion_policy == DeletionPolicy::Flag && !self.deletion_flag_field.is_empty() {
            match field(&self.deletion_flag_field) {
                None => reasons.push(format!(
                    "deletion.flagField: the CRM has no field \"{}\"",
                    self.deletion_flag_field
                )),
                Some(f) if f.field_type != CrmFieldType::Boolean || f.read_only => reasons.push(format!(
                    "deletion.flagField: \"{}\" must be a writable yes/no field",
                    f.label
                )),
                Some(_) => {}
            }
        }
        let list_known = |id: &str| lists.iter().any(|l| l.id == id);
        for (i, id) in self.filter_lists.iter().enumerate() {
            if !list_known(id) {
                reasons.push(format!("filter.lists[{i}]: the CRM has no list \"{id}\""));
            }
        }
        for (i, row) in self.mapping_labels.iter().enumerate() {
            if row.crm.kind == LabelSource::List && !list_known(&row.crm.id) {
                reasons.push(format!("mapping.labels[{i}].crm.id: the CRM has no list \"{}\"", row.crm.id));
            }
        }
        reasons
    }
}

/// Whether `url` is on one of the development origins (any port), by its parsed scheme and
/// host, never by prefix: `http://127.0.0.1` matches `http://127.0.0.1:8123/token` but not
/// `http://127.0.0.10` nor `http://127.0.0.1:1@evil.example` (user info, refused anyway).
pub fn matches_dev_host(url: &str, dev_allowed_hosts: &[String]) -> bool {
    let Ok(url) = HttpUrl::parse(url) else { return false };
    dev_allowed_hosts
        .iter()
        .filter_map(|host| HttpUrl::parse(host).ok())
        .any(|dev| dev.scheme() == url.scheme() && dev.host() == url.host())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defaults() -> Value {
        serde_json::to_value(Settings::default()).unwrap()
    }

    #[test]
    fn defaults_validate() {
        assert_eq!(Settings::from_value(&defaults()).unwrap(), Settings::default());
    }

    #[test]
    fn keys_are_the_dotted_names_of_the_contract() {
        let v = defaults();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        let dts = include_str!("../www/plugin/host-api.d.ts");
        let start = dts.find("export interface Settings {").unwrap();
        let body = &dts[start..start + dts[start..].find("\n}").unwrap()];
        for key in &keys {
            let quoted = format!("\"{key}\":");
            let bare = format!("  {key}:");
            assert!(body.contains(&quoted) || body.contains(&bare), "{key} not in the contract");
        }
        let declared = body
            .lines()
            .skip(1)
            .map(str::trim)
            .filter(|l| !l.starts_with("/**") && !l.starts_with('*') && l.contains(':'))
            .count();
        assert_eq!(declared, keys.len(), "the contract has keys this type lacks");
    }

    #[test]
    fn every_reason_is_listed_at_once() {
        let mut v = defaults();
        v["sync.enabled"] = json!("yes");
        v["filter.mode"] = json!("some");
        v["guard.maxDeleteShare"] = json!(1.5);
        v["spokes"] = json!([{"id": "g", "kind": "google", "name": "G", "allowCreate": true, "colour": "red"}]);
        v["extra.key"] = json!(1);
        let err = Settings::from_value(&v).unwrap_err();
        assert_eq!(err.code, crate::error::ErrorCode::InvalidSettings);
        assert_eq!(err.reasons.len(), 5, "{:#?}", err.reasons);
        assert!(err.reasons.iter().any(|r| r.starts_with("spokes[0].colour")));
        assert!(err.reasons.iter().any(|r| r.starts_with("extra.key")));
    }

    #[test]
    fn rules_beyond_the_schema_are_checked() {
        let mut v = defaults();
        v["filter.mode"] = json!("lists");
        v["deletion.policy"] = json!("flag");
        v["spokes"] = json!([
            {"id": "a", "kind": "google", "name": "A", "allowCreate": true,
             "endpoints": {"auth": "http://127.0.0.1:9/auth", "token": "https://evil.example/token", "api": "http://localhost:9"}},
            {"id": "a", "kind": "carddav", "name": "B", "allowCreate": false, "serverUrl": "http://dav.example"}
        ]);
        let err = Settings::from_value(&v).unwrap_err();
        let r = err.reasons.join("\n");
        assert!(r.contains("filter.lists"), "{r}");
        assert!(r.contains("deletion.flagField"), "{r}");
        assert!(r.contains("spokes[1].id"), "{r}");
        assert!(r.contains("spokes[0].endpoints.token"), "{r}");
        assert!(!r.contains("endpoints.auth") && !r.contains("endpoints.api"), "{r}");
        assert!(r.contains("spokes[1].serverUrl"), "{r}");
        assert_eq!(err.reasons.len(), 5, "{r}");
    }

    #[test]
    fn dev_hosts_match_any_port_but_not_a_longer_host() {
        let hosts = vec!["http://127.0.0.1".to_string(), "http://localhost".to_string()];
        assert!(matches_dev_host("http://127.0.0.1:8080/x", &hosts));
        assert!(matches_dev_host("http://localhost", &hosts));
        assert!(!matches_dev_host("http://127.0.0.10:80", &hosts));
        assert!(!matches_dev_host("http://localhost.evil.example/", &hosts));
        assert!(!matches_dev_host("http://127.0.0.1:1@evil.example/", &hosts));
        assert!(!matches_dev_host("https://127.0.0.1/", &hosts), "the scheme counts");
        assert!(matches_dev_host("HTTP://LocalHost:9/", &hosts));
    }

    #[test]
    fn crm_problems_name_unknown_and_read_only_fields() {
        let mut s = Settings::default();
        s.mapping_fields = vec![
            FieldMappingRow { crm_field: "nope".into(), remote_field: "x".into(), direction: Direction::Both, priority: Priority::Newest, fill_empty: true },
            FieldMappingRow { crm_field: "owner".into(), remote_field: "y".into(), direction: Direction::ToCrm, priority: Priority::Crm, fill_empty: false },
        ];
        s.deletion_policy = DeletionPolicy::Flag;
        s.deletion_flag_field = "company".into();
        s.filter_lists = vec!["l9".into()];
        let fields = vec![
            CrmFieldSchema { id: "owner".into(), label: "Owner".into(), field_type: CrmFieldType::User, custom: false, read_only: true },
            CrmFieldSchema { id: "company".into(), label: "Company".into(), field_type: CrmFieldType::Text, custom: false, read_only: false },
        ];
        let r = s.crm_problems(&fields, &[CrmList { id: "l1".into(), name: "VIP".into() }]);
        assert_eq!(r.len(), 4, "{r:#?}");
    }
}
