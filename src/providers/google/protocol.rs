//! Google People API v1 as data: request builders and response parsers, no I/O.
//!
//! Paths, parameter names and body fields follow Google's discovery document
//! (`people.v1.json`, revision 20251117). The runner adds the base URL and the
//! `Authorization` header (tokens never go into a URL); everything else is here.
//!
//! Order of use for one sync: [`list_connections`] page by page (same parameters on every
//! page, `requestSyncToken` on every page of a full listing), keep `nextSyncToken` from
//! the last page; write with [`batch_create`], [`batch_update`], [`batch_delete`] at the
//! sizes below, one request at a time; on any failure call [`classify_failure`].

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::providers::error::ProviderError;
use crate::providers::form;

/// Fields we read from every person. `metadata` carries deletions, sources (update
/// times) and `previousResourceNames`.
pub const PERSON_FIELDS: &str = "names,emailAddresses,phoneNumbers,addresses,organizations,biographies,birthdays,urls,memberships,clientData,userDefined,photos,metadata";
/// Fields our updates replace (photos are not updatable through `updateContact`).
pub const UPDATE_FIELDS: &str = "names,emailAddresses,phoneNumbers,addresses,organizations,biographies,birthdays,urls,memberships,clientData,userDefined";
/// The largest page `connections.list` serves.
pub const PAGE_SIZE: u32 = 1000;
/// `batchCreateContacts` limit.
pub const MAX_BATCH_CREATE: usize = 200;
/// `batchUpdateContacts` limit.
pub const MAX_BATCH_UPDATE: usize = 200;
/// `batchDeleteContacts` limit.
pub const MAX_BATCH_DELETE: usize = 500;
/// `people:batchGet` limit.
pub const MAX_BATCH_GET: usize = 200;
/// `contactGroups/{id}/members:modify` limit per list.
pub const MAX_MEMBERS_MODIFY: usize = 1000;
/// The read-write contacts scope.
pub const SCOPE_CONTACTS: &str = "https://www.googleapis.com/auth/contacts";
/// Google's production API root (the manifest's allowlist names it).
pub const API_BASE: &str = "https://people.googleapis.com";

/// A request to the People API, relative to the API root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRequest {
    /// `GET`, `POST`, `PATCH`, `PUT` or `DELETE`.
    pub method: &'static str,
    /// Path and query, starting with `/v1/`.
    pub path_and_query: String,
    /// JSON body, if any.
    pub body: Option<String>,
    /// What the request does, for classifying its failures.
    pub kind: RequestKind,
}

impl ApiRequest {
    /// The absolute URL under `base` (e.g. [`API_BASE`] or an emulator's root).
    pub fn url(&self, base: &str) -> String {
        format!("{}{}", base.trim_end_matches('/'), self.path_and_query)
    }
}

/// A request: `body`, when given, is sent as JSON.
fn request(method: &'static str, path_and_query: impl Into<String>, body: Option<Value>, kind: RequestKind) -> ApiRequest {
    ApiRequest { method, path_and_query: path_and_query.into(), body: body.map(|b| b.to_string()), kind }
}

/// The kind of a request: the same status means different things on different calls
/// (a 400 on a sync-token listing is a dead token; on an update, a stale etag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// `connections.list` without a sync token.
    ListFull,
    /// `connections.list` with a sync token.
    ListIncremental,
    /// `people:batchGet` / `people.get`.
    Read,
    /// `batchCreateContacts`.
    Create,
    /// `batchUpdateContacts` / `updateContact`.
    Update,
    /// `batchDeleteContacts` / `deleteContact`.
    Delete,
    /// Contact group reads and writes.
    Groups,
    /// `updateContactPhoto` / `deleteContactPhoto` (their own quota bucket).
    Photo,
}

/// How a listing is made: the whole address book, or changes since a sync token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListMode {
    /// Every contact; asks for a sync token on every page.
    Full,
    /// Changes since the token (tombstones included).
    Incremental(String),
}

/// One page of `people/me/connections`. The page token, when given, is sent with
/// exactly the parameters of the call that produced it (Google rejects anything else).
///
/// ```
/// use contact_sync::providers::google::protocol::*;
/// let r = list_connections(&ListMode::Full, None);
/// assert!(r.path_and_query.contains("requestSyncToken=true"));
/// ```
pub fn list_connections(mode: &ListMode, page_token: Option<&str>) -> ApiRequest {
    let page_size = PAGE_SIZE.to_string();
    let mut pairs: Vec<(&str, &str)> = vec![("personFields", PERSON_FIELDS), ("pageSize", &page_size)];
    let kind = match mode {
        ListMode::Full => {
            pairs.push(("requestSyncToken", "true"));
            RequestKind::ListFull
        }
        ListMode::Incremental(token) => {
            pairs.push(("syncToken", token));
            RequestKind::ListIncremental
        }
    };
    if let Some(token) = page_token {
        pairs.push(("pageToken", token));
    }
    request("GET", format!("/v1/people/me/connections?{}", form::encode_pairs(pairs)), None, kind)
}

/// One contact of `people/me/connections` and no sync token: the cheapest authenticated
/// request, to test a connection.
pub fn probe_connections() -> ApiRequest {
    let pairs = [("personFields", PERSON_FIELDS), ("pageSize", "1")];
    request("GET", format!("/v1/people/me/connections?{}", form::encode_pairs(pairs)), None, RequestKind::ListFull)
}

/// The connected account's own e-mail addresses (`people/me`).
pub fn own_profile() -> ApiRequest {
    request("GET", "/v1/people/me?personFields=emailAddresses", None, RequestKind::Read)
}

/// `people:batchGet` for up to [`MAX_BATCH_GET`] resource names (the caller splits).
pub fn batch_get(resource_names: &[String]) -> ApiRequest {
    let mut pairs: Vec<(&str, &str)> = vec![("personFields", PERSON_FIELDS)];
    pairs.extend(resource_names.iter().map(|n| ("resourceNames", n.as_str())));
    request("GET", format!("/v1/people:batchGet?{}", form::encode_pairs(pairs)), None, RequestKind::Read)
}

/// `people:batchCreateContacts`; results come back in the same order.
pub fn batch_create(people: &[Person]) -> ApiRequest {
    let contacts: Vec<Value> = people
        .iter()
        .map(|p| serde_json::json!({ "contactPerson": p.for_write() }))
        .collect();
    let body = serde_json::json!({ "contacts": contacts, "readMask": PERSON_FIELDS });
    request("POST", "/v1/people:batchCreateContacts", Some(body), RequestKind::Create)
}

/// `people:batchUpdateContacts`: each person must carry its resource name and current
/// etag; the fields in [`UPDATE_FIELDS`] are replaced wholesale (empty clears).
pub fn batch_update(people: &[Person]) -> ApiRequest {
    let mut contacts = serde_json::Map::new();
    for p in people {
        let mut value = p.for_write();
        if let Value::Object(map) = &mut value {
            if let Some(etag) = &p.etag {
                map.insert("etag".into(), Value::String(etag.clone()));
            }
        }
        contacts.insert(p.resource_name.clone().unwrap_or_default(), value);
    }
    let body = serde_json::json!({
        "contacts": contacts,
        "updateMask": UPDATE_FIELDS,
        "readMask": PERSON_FIELDS,
    });
    request("POST", "/v1/people:batchUpdateContacts", Some(body), RequestKind::Update)
}

/// `people:batchDeleteContacts` for up to [`MAX_BATCH_DELETE`] resource names.
pub fn batch_delete(resource_names: &[String]) -> ApiRequest {
    let body = serde_json::json!({ "resourceNames": resource_names });
    request("POST", "/v1/people:batchDeleteContacts", Some(body), RequestKind::Delete)
}

/// `people/{id}:deleteContact`: used to find out which items of a failed batch delete
/// are already gone (404 means deleted).
pub fn delete_contact(resource_name: &str) -> ApiRequest {
    request("DELETE", format!("/v1/{}:deleteContact", path_of(resource_name, "people/")), None, RequestKind::Delete)
}

/// Fields asked back from the photo calls: the new photo URL and update time.
pub const PHOTO_FIELDS: &str = "photos,metadata";

/// `people/{id}:updateContactPhoto` with the image bytes (JPEG or PNG), base64.
pub fn update_photo(resource_name: &str, photo_base64: &str) -> ApiRequest {
    let body = serde_json::json!({ "photoBytes": photo_base64, "personFields": PHOTO_FIELDS });
    request("PATCH", format!("/v1/{}:updateContactPhoto", path_of(resource_name, "people/")), Some(body), RequestKind::Photo)
}

/// `people/{id}:deleteContactPhoto` (404 when the contact has no photo).
pub fn delete_photo(resource_name: &str) -> ApiRequest {
    let query = form::encode_pairs([("personFields", PHOTO_FIELDS)]);
    request("DELETE", format!("/v1/{}:deleteContactPhoto?{query}", path_of(resource_name, "people/")), None, RequestKind::Photo)
}

/// The person in an `updateContactPhoto` / `deleteContactPhoto` answer (`{"person": …}`;
/// an empty object when no field mask was asked).
pub fn parse_photo_answer(body: &str) -> Result<Option<Person>, ProviderError> {
    #[derive(Deserialize)]
    struct Answer {
        #[serde(default)]
        person: Option<Person>,
    }
    let answer: Answer = read_json("updateContactPhoto", body)?;
    Ok(answer.person)
}

/// The URL of a person's own photo (not Google's generated placeholder), or "".
pub fn own_photo_url(person: &Person) -> &str {
    person.photos.iter().find(|p| !p.default && !p.url.is_empty()).map(|p| p.url.as_str()).unwrap_or("")
}

/// `contactGroups` list (one page).
pub fn list_groups(page_token: Option<&str>) -> ApiRequest {
    let mut pairs: Vec<(&str, &str)> = vec![("pageSize", "1000"), ("groupFields", "name,groupType,metadata")];
    if let Some(t) = page_token {
        pairs.push(("pageToken", t));
    }
    request("GET", format!("/v1/contactGroups?{}", form::encode_pairs(pairs)), None, RequestKind::Groups)
}

/// Creates a user contact group (names are unique: a duplicate answers 409).
pub fn create_group(name: &str) -> ApiRequest {
    let body = serde_json::json!({ "contactGroup": { "name": name } });
    request("POST", "/v1/contactGroups", Some(body), RequestKind::Groups)
}

/// Adds and removes members of a group (each list at most [`MAX_MEMBERS_MODIFY`]).
pub fn modify_group_members(group: &str, add: &[String], remove: &[String]) -> ApiRequest {
    let body = serde_json::json!({ "resourceNamesToAdd": add, "resourceNamesToRemove": remove });
    request("POST", format!("/v1/{}/members:modify", path_of(group, "contactGroups/")), Some(body), RequestKind::Groups)
}

/// Keeps a resource name usable as a path: it must start with the expected collection,
/// and each segment is percent-encoded (a hostile name cannot escape the path).
fn path_of(resource_name: &str, collection: &str) -> String {
    let id = resource_name.strip_prefix(collection).unwrap_or(resource_name);
    format!("{}{}", collection, form::encode(id))
}

// ---------- the Person resource (the parts we map) ----------

/// A person as the People API sends and accepts it, limited to the fields we map.
/// Unknown fields are dropped on read; server decoration (`formattedType`,
/// `canonicalForm`, `displayName`) is read but never written back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    /// `people/c123…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// Changes on every mutation; required on update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Deletion, sources, previous names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<PersonMetadata>,
    /// Singleton.
    #[serde(default)]
    pub names: Vec<Name>,
    /// E-mail addresses (the first is primary when we write).
    #[serde(default)]
    pub email_addresses: Vec<EmailAddress>,
    /// Phone numbers.
    #[serde(default)]
    pub phone_numbers: Vec<PhoneNumber>,
    /// Postal addresses.
    #[serde(default)]
    pub addresses: Vec<Address>,
    /// Employers.
    #[serde(default)]
    pub organizations: Vec<Organization>,
    /// Singleton: the note.
    #[serde(default)]
    pub biographies: Vec<Biography>,
    /// Singleton.
    #[serde(default)]
    pub birthdays: Vec<Birthday>,
    /// Web addresses.
    #[serde(default)]
    pub urls: Vec<Url>,
    /// Contact group memberships.
    #[serde(default)]
    pub memberships: Vec<Membership>,
    /// App-private key/values: the CRM id lives here.
    #[serde(default)]
    pub client_data: Vec<KeyValue>,
    /// User-visible custom fields.
    #[serde(default)]
    pub user_defined: Vec<KeyValue>,
    /// Read only here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<Photo>,
}

impl Person {
    /// True for a tombstone in a delta.
    pub fn is_deleted(&self) -> bool {
        self.metadata.as_ref().is_some_and(|m| m.deleted)
    }

    /// The latest `updateTime` of the person's CONTACT source (RFC 3339), for
    /// "newest wins": Google's clock, compared only with Google's clock.
    pub fn update_time(&self) -> Option<&str> {
        self.metadata
            .as_ref()?
            .sources
            .iter()
            .filter(|s| s.source_type.as_deref() == Some("CONTACT"))
            .filter_map(|s| s.update_time.as_deref())
            .max()
    }

    /// Resource names this person had before a merge.
    pub fn previous_resource_names(&self) -> &[String] {
        self.metadata.as_ref().map(|m| m.previous_resource_names.as_slice()).unwrap_or(&[])
    }

    /// The value of a `clientData` key.
    pub fn client_value(&self, key: &str) -> Option<&str> {
        self.client_data.iter().find(|kv| kv.key == key).map(|kv| kv.value.as_str())
    }

    /// The JSON written on create/update: no resource name, etag, metadata, photos or
    /// server decoration; singletons cut to one value; empty memberships omitted so that
    /// Google keeps its default `myContacts`.
    pub fn for_write(&self) -> Value {
        let clean = Person {
            resource_name: None,
            etag: None,
            metadata: None,
            names: self.names.iter().take(1).map(Name::for_write).collect(),
            email_addresses: self
                .email_addresses
                .iter()
                .map(|e| EmailAddress { formatted_type: None, display_name: None, metadata: None, ..e.clone() })
                .collect(),
            phone_numbers: self
                .phone_numbers
                .iter()
                .map(|p| PhoneNumber { formatted_type: None, canonical_form: None, metadata: None, ..p.clone() })
                .collect(),
            addresses: self
                .addresses
                .iter()
                .map(|a| Address { formatted_type: None, formatted_value: None, metadata: None, ..a.clone() })
                .collect(),
            organizations: self
                .organizations
                .iter()
                .map(|o| Organization { formatted_type: None, metadata: None, ..o.clone() })
                .collect(),
            biographies: self
                .biographies
                .iter()
                .take(1)
                .map(|b| Biography { metadata: None, ..b.clone() })
                .collect(),
            birthdays: self
                .birthdays
                .iter()
                .take(1)
                .map(|b| Birthday { metadata: None, ..b.clone() })
                .collect(),
            urls: self
                .urls
                .iter()
                .map(|u| Url { formatted_type: None, metadata: None, ..u.clone() })
                .collect(),
            memberships: self
                .memberships
                .iter()
                .filter(|m| m.contact_group_membership.is_some())
                .map(|m| Membership { metadata: None, ..m.clone() })
                .collect(),
            client_data: self.client_data.iter().map(KeyValue::for_write).collect(),
            user_defined: self.user_defined.iter().map(KeyValue::for_write).collect(),
            photos: Vec::new(),
        };
        let mut value = serde_json::to_value(&clean).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut value {
            if clean.memberships.is_empty() {
                map.remove("memberships");
            }
        }
        value
    }
}

/// Person-level metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonMetadata {
    /// Tombstone marker.
    #[serde(default)]
    pub deleted: bool,
    /// Where the data comes from, with update times.
    #[serde(default)]
    pub sources: Vec<Source>,
    /// Names before a merge (sync-token requests only).
    #[serde(default)]
    pub previous_resource_names: Vec<String>,
}

/// One source of a person's data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    /// `CONTACT`, `PROFILE`, …
    #[serde(rename = "type", default)]
    pub source_type: Option<String>,
    /// Source id.
    #[serde(default)]
    pub id: Option<String>,
    /// Source etag.
    #[serde(default)]
    pub etag: Option<String>,
    /// RFC 3339.
    #[serde(default)]
    pub update_time: Option<String>,
}

/// Per-field metadata; only `primary` matters to us.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldMetadata {
    /// The person's primary value of this field.
    #[serde(default)]
    pub primary: bool,
}

fn is_primary(m: &Option<FieldMetadata>) -> bool {
    m.as_ref().is_some_and(|m| m.primary)
}

/// A structured name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Name {
    /// Given name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Middle name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// Prefix, e.g. "Dr.".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub honorific_prefix: Option<String>,
    /// Suffix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub honorific_suffix: Option<String>,
    /// Computed by the server; never written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Field metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<FieldMetadata>,
}

impl Name {
    fn for_write(&self) -> Name {
        Name { display_name: None, metadata: None, ..self.clone() }
    }
}

/// An e-mail address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailAddress {
    /// The address as typed.
    #[serde(default)]
    pub value: String,
    /// `home`, `work`, `other` or a custom label.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Server decoration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted_type: Option<String>,
    /// Display name for the address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Primary mark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<FieldMetadata>,
}

impl EmailAddress {
    /// Google's primary mark.
    pub fn primary(&self) -> bool {
        is_primary(&self.metadata)
    }
}

/// A phone number.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneNumber {
    /// The number as typed.
    #[serde(default)]
    pub value: String,
    /// `mobile`, `home`, `work`, … or custom.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Server decoration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted_type: Option<String>,
    /// Server decoration (E.164).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical_form: Option<String>,
    /// Primary mark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<FieldMetadata>,
}

impl PhoneNumber {
    /// Google's primary mark.
    pub fn primary(&self) -> bool {
        is_primary(&self.metadata)
    }
}

/// A postal address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// Street.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Region / state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Country name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// `home`, `work`, …
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Server decoration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted_type: Option<String>,
    /// Server decoration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted_value: Option<String>,
    /// Primary mark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<FieldMetadata>,
}

impl Address {
    /// Google's primary mark.
    pub fn primary(&self) -> bool {
        is_primary(&self.metadata)
    }
}

/// An employer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    /// Company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Server decoration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted_type: Option<String>,
    /// Primary mark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<FieldMetadata>,
}

/// The note.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Biography {
    /// Text.
    #[serde(default)]
    pub value: String,
    /// `TEXT_PLAIN` or `TEXT_HTML`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Field metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<FieldMetadata>,
}

/// A birthday: a date (year may be absent) or free text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Birthday {
    /// Structured date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<Date>,
    /// Free text (deprecated by Google, read only for display).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Field metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<FieldMetadata>,
}

/// `google.type.Date`: any part may be 0/absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Date {
    /// Year, 0 or absent when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// Month 1..12.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<u32>,
    /// Day 1..31.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<u32>,
}

/// A web address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Url {
    /// The URL.
    #[serde(default)]
    pub value: String,
    /// `homePage`, `work`, …
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Server decoration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted_type: Option<String>,
    /// Field metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<FieldMetadata>,
}

/// A contact group membership.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    /// Absent for domain memberships.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_group_membership: Option<GroupMembership>,
    /// Field metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<FieldMetadata>,
}

/// The group of a membership.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupMembership {
    /// `contactGroups/myContacts`, `contactGroups/abc…`.
    #[serde(default)]
    pub contact_group_resource_name: String,
}

/// `clientData` and `userDefined` entries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyValue {
    /// Key.
    #[serde(default)]
    pub key: String,
    /// Value.
    #[serde(default)]
    pub value: String,
    /// Field metadata (dropped on write).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<FieldMetadata>,
}

impl KeyValue {
    fn for_write(&self) -> KeyValue {
        KeyValue { metadata: None, ..self.clone() }
    }
}

/// A photo reference (URL only; photo bytes are not synced through this field).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Photo {
    /// Where Google serves it.
    #[serde(default)]
    pub url: String,
    /// True for the generated placeholder.
    #[serde(default)]
    pub default: bool,
}

// ---------- responses ----------

/// The largest answer read: a full page of 1,000 people is 2 to 5 MB (photos are URLs,
/// not bytes). Depth needs no limit of ours: serde_json refuses nesting past 128 levels.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Reads a JSON answer of `what` (an API method name) within [`MAX_BODY_BYTES`].
pub fn read_json<T: DeserializeOwned>(what: &str, body: &str) -> Result<T, ProviderError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ProviderError::bad_response(what, format!("the answer is larger than {} MiB", MAX_BODY_BYTES / (1024 * 1024))));
    }
    serde_json::from_str(body).map_err(|e| ProviderError::bad_response(what, e))
}

/// A parsed page of `connections.list`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectionsPage {
    /// People, tombstones included; empty for a quiet delta.
    pub people: Vec<Person>,
    /// Continue with it (same parameters).
    pub next_page_token: Option<String>,
    /// On the last page only.
    pub next_sync_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawConnections {
    #[serde(default)]
    connections: Vec<Person>,
    #[serde(default)]
    next_page_token: Option<String>,
    #[serde(default)]
    next_sync_token: Option<String>,
}

/// Parses a `ListConnectionsResponse`. A quiet delta (`{"nextSyncToken": …}` with no
/// `connections` key) is an empty page, not an error.
pub fn parse_connections(body: &str) -> Result<ConnectionsPage, ProviderError> {
    let raw: RawConnections =
        read_json("connections.list", body)?;
    Ok(ConnectionsPage {
        people: raw.connections,
        next_page_token: raw.next_page_token.filter(|t| !t.is_empty()),
        next_sync_token: raw.next_sync_token.filter(|t| !t.is_empty()),
    })
}

/// The outcome of one item of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemOutcome {
    /// Done; the person as Google now holds it (new etag, resource name).
    Done(Box<Person>),
    /// Failed; a classified error.
    Failed(ProviderError),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPersonResponse {
    #[serde(default)]
    http_status_code: Option<u16>,
    #[serde(default)]
    person: Option<Person>,
    #[serde(default)]
    requested_resource_name: Option<String>,
    #[serde(default)]
    status: Option<RawStatus>,
}

#[derive(Deserialize, Default)]
struct RawStatus {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    message: String,
}

impl RawPersonResponse {
    fn outcome(self, kind: RequestKind) -> ItemOutcome {
        let failed_status = self.status.as_ref().filter(|s| s.code != 0);
        match (self.person, failed_status) {
            (Some(person), None) if self.http_status_code.unwrap_or(200) < 300 => ItemOutcome::Done(Box::new(person)),
            (_, status) => {
                let http = self.http_status_code.unwrap_or(match status.map(|s| s.code) {
                    Some(5) => 404,
                    Some(9) => 400,
                    Some(8) => 429,
                    _ => 500,
                });
                let rpc = status.map(|s| rpc_status_name(s.code)).unwrap_or("UNKNOWN");
                let message = status.map(|s| s.message.clone()).unwrap_or_default();
                ItemOutcome::Failed(classify_item(kind, http, rpc, &message))
            }
        }
    }
}

/// The `google.rpc.Code` name of a numeric code.
fn rpc_status_name(code: i64) -> &'static str {
    match code {
        3 => "INVALID_ARGUMENT",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        16 => "UNAUTHENTICATED",
        _ => "UNKNOWN",
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBatchCreate {
    #[serde(default)]
    created_people: Vec<RawPersonResponse>,
}

/// Parses `BatchCreateContactsResponse`: one outcome per requested contact, in request
/// order. A response with fewer results than requested is a bad response (we cannot
/// know which were created, so the caller refetches instead of guessing).
pub fn parse_batch_create(body: &str, requested: usize) -> Result<Vec<ItemOutcome>, ProviderError> {
    let raw: RawBatchCreate =
        read_json("batchCreateContacts", body)?;
    if raw.created_people.len() != requested {
        return Err(ProviderError::bad_response(
            "batchCreateContacts",
            format!("{} results for {} contacts", raw.created_people.len(), requested),
        ));
    }
    Ok(raw.created_people.into_iter().map(|r| r.outcome(RequestKind::Create)).collect())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBatchUpdate {
    #[serde(default)]
    update_result: BTreeMap<String, RawPersonResponse>,
}

/// Parses `BatchUpdateContactsResponse`: resource name → outcome. A requested name with
/// no result is reported failed (retryable) rather than assumed done.
pub fn parse_batch_update(body: &str, requested: &[String]) -> Result<BTreeMap<String, ItemOutcome>, ProviderError> {
    let raw: RawBatchUpdate =
        read_json("batchUpdateContacts", body)?;
    let mut results: BTreeMap<String, ItemOutcome> =
        raw.update_result.into_iter().map(|(k, v)| (k, v.outcome(RequestKind::Update))).collect();
    for name in requested {
        results.entry(name.clone()).or_insert_with(|| {
            ItemOutcome::Failed(
                ProviderError::bad_response("batchUpdateContacts", "a contact is missing from the results")
                    .retryable(),
            )
        });
    }
    Ok(results)
}

#[derive(Deserialize)]
struct RawGetPeople {
    #[serde(default)]
    responses: Vec<RawPersonResponse>,
}

/// Parses `GetPeopleResponse`: (requested name, outcome); a missing person is
/// `Failed` with code `NOT_FOUND`.
pub fn parse_batch_get(body: &str) -> Result<Vec<(String, ItemOutcome)>, ProviderError> {
    let raw: RawGetPeople =
        read_json("people:batchGet", body)?;
    Ok(raw
        .responses
        .into_iter()
        .map(|r| {
            let name = r
                .requested_resource_name
                .clone()
                .or_else(|| r.person.as_ref().and_then(|p| p.resource_name.clone()))
                .unwrap_or_default();
            (name, r.outcome(RequestKind::Read))
        })
        .collect())
}

/// A contact group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactGroup {
    /// `contactGroups/…`.
    #[serde(default)]
    pub resource_name: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// `USER_CONTACT_GROUP` or `SYSTEM_CONTACT_GROUP`.
    #[serde(default)]
    pub group_type: Option<String>,
}

/// A parsed page of `contactGroups.list`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupsPage {
    /// Groups.
    pub groups: Vec<ContactGroup>,
    /// Continue with it.
    pub next_page_token: Option<String>,
}

/// Parses `ListContactGroupsResponse`.
pub fn parse_groups(body: &str) -> Result<GroupsPage, ProviderError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Raw {
        #[serde(default)]
        contact_groups: Vec<ContactGroup>,
        #[serde(default)]
        next_page_token: Option<String>,
    }
    let raw: Raw = read_json("contactGroups.list", body)?;
    Ok(GroupsPage { groups: raw.contact_groups, next_page_token: raw.next_page_token.filter(|t| !t.is_empty()) })
}

/// Parses a created `ContactGroup`.
pub fn parse_group(body: &str) -> Result<ContactGroup, ProviderError> {
    read_json("contactGroups.create", body)
}

// ---------- errors ----------

/// What the runner should do about a failed request.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The sync token is dead: drop it and relist everything.
    SyncTokenUnusable,
    /// Over quota: wait (`retry_after_ms` when the server said) and try again.
    RateLimited(Option<u64>),
    /// The access token was refused: refresh it once and retry once.
    Unauthenticated,
    /// The etag of an update is stale: refetch, re-merge, retry.
    StaleEtag,
    /// Deleting what is not there: already deleted.
    NotFound,
    /// 5xx or a dropped/garbled answer: retry with backoff.
    Transient,
    /// Anything else: stop and report.
    Fatal,
}

/// Google's error envelope, as far as we read it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GoogleError {
    /// HTTP code.
    pub http: u16,
    /// `google.rpc.Code` name, e.g. `FAILED_PRECONDITION`.
    pub status: String,
    /// Google's message.
    pub message: String,
    /// `ErrorInfo.reason` values.
    pub reasons: Vec<String>,
}

/// Reads the error envelope; tolerant of missing parts (a proxy's HTML page is not an
/// envelope: the status code alone then decides).
pub fn parse_error(http: u16, body: &str) -> GoogleError {
    let value: Value = read_json("error", body).unwrap_or(Value::Null);
    let err = value.get("error");
    let text = |key: &str| err.and_then(|e| e.get(key)).and_then(Value::as_str).unwrap_or("").to_string();
    let reasons = err
        .and_then(|e| e.get("details"))
        .and_then(Value::as_array)
        .map(|details| {
            details
                .iter()
                .filter_map(|d| d.get("reason").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    GoogleError { http, status: text("status"), message: text("message"), reasons }
}

/// Decides what a failed response means for a request of `kind`.
///
/// ```
/// use contact_sync::providers::google::protocol::*;
/// let body = r#"{"error":{"code":400,"status":"FAILED_PRECONDITION","message":"Sync token is expired.","details":[{"reason":"EXPIRED_SYNC_TOKEN"}]}}"#;
/// assert_eq!(classify_failure(RequestKind::ListIncremental, 400, None, body).0, Failure::SyncTokenUnusable);
/// ```
pub fn classify_failure(kind: RequestKind, http: u16, retry_after: Option<&str>, body: &str) -> (Failure, ProviderError) {
    let envelope = parse_error(http, body);
    let failure = failure_of(kind, &envelope, retry_after);
    let error = error_for(&failure, &envelope, retry_after_ms(retry_after));
    (failure, error)
}

fn failure_of(kind: RequestKind, e: &GoogleError, retry_after: Option<&str>) -> Failure {
    let reason = |r: &str| e.reasons.iter().any(|x| x == r);
    if reason("EXPIRED_SYNC_TOKEN") || (kind == RequestKind::ListIncremental && e.http == 400) {
        return Failure::SyncTokenUnusable;
    }
    match e.http {
        429 => Failure::RateLimited(retry_after_ms(retry_after)),
        401 => Failure::Unauthenticated,
        403 if e.status == "RESOURCE_EXHAUSTED" || reason("RATE_LIMIT_EXCEEDED") => {
            Failure::RateLimited(retry_after_ms(retry_after))
        }
        400 if kind == RequestKind::Update && e.status == "FAILED_PRECONDITION" => Failure::StaleEtag,
        404 if kind == RequestKind::Delete => Failure::NotFound,
        404 => Failure::NotFound,
        500..=599 | 408 => Failure::Transient,
        _ => Failure::Fatal,
    }
}

fn classify_item(kind: RequestKind, http: u16, rpc: &str, message: &str) -> ProviderError {
    let envelope = GoogleError { http, status: rpc.to_string(), message: message.to_string(), reasons: Vec::new() };
    let failure = failure_of(kind, &envelope, None);
    error_for(&failure, &envelope, None)
}

/// `Retry-After` in seconds (Google sends seconds; an HTTP date is not used by Google
/// and reads as "not said").
pub fn retry_after_ms(header: Option<&str>) -> Option<u64> {
    let secs: f64 = header?.trim().parse().ok()?;
    if secs.is_finite() && secs >= 0.0 {
        Some((secs * 1000.0).round() as u64)
    } else {
        None
    }
}

/// The coded error of a classified failure (what the operator sees if it stops the run).
pub fn error_for(failure: &Failure, e: &GoogleError, retry_after: Option<u64>) -> ProviderError {
    let detail = if e.message.is_empty() { format!("HTTP {}", e.http) } else { format!("HTTP {}: {}", e.http, e.message) };
    match failure {
        Failure::SyncTokenUnusable => ProviderError::new(
            "BAD_RESPONSE",
            format!("Google refused the sync token ({detail})"),
            "Nothing to do: the next run lists the whole address book again.",
        )
        .retryable(),
        Failure::RateLimited(_) => {
            let mut err = ProviderError::new(
                "RATE_LIMITED",
                format!("Google's per-minute quota is used up ({detail})"),
                "Nothing to do: the sync slows down and continues.",
            )
            .retryable();
            err.retry_after_ms = retry_after;
            err
        }
        Failure::Unauthenticated => ProviderError::new(
            "AUTH_EXPIRED",
            format!("Google refused the access token ({detail})"),
            "Reconnect the Google account in the plugin's settings.",
        ),
        Failure::StaleEtag => ProviderError::new(
            "CONFLICT",
            format!("the contact changed in Google meanwhile ({detail})"),
            "Nothing to do: the contact is fetched again and merged.",
        )
        .retryable(),
        Failure::NotFound => ProviderError::new(
            "NOT_FOUND",
            format!("the contact no longer exists in Google ({detail})"),
            "Nothing to do.",
        ),
        Failure::Transient => ProviderError::new(
            "NETWORK",
            format!("Google is unavailable ({detail})"),
            "Nothing to do: the sync retries later.",
        )
        .retryable(),
        Failure::Fatal if e.http == 403 => ProviderError::new(
            "AUTH_DENIED",
            format!("Google denied access ({detail})"),
            "Reconnect the Google account and grant access to contacts.",
        ),
        Failure::Fatal => ProviderError::new(
            "BAD_RESPONSE",
            format!("Google rejected a request ({detail})"),
            "Report it with the run's history.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(r: &ApiRequest) -> Vec<(String, String)> {
        let q = r.path_and_query.split_once('?').map(|(_, q)| q).unwrap_or("");
        form::decode_pairs(q)
    }

    #[test]
    fn every_page_of_a_full_listing_repeats_the_parameters_and_asks_for_a_sync_token() {
        let first = query(&list_connections(&ListMode::Full, None));
        let next = query(&list_connections(&ListMode::Full, Some("tok/1")));
        assert!(first.contains(&("requestSyncToken".into(), "true".into())));
        assert!(first.contains(&("pageSize".into(), "1000".into())));
        assert!(first.contains(&("personFields".into(), PERSON_FIELDS.into())));
        let without_token: Vec<_> = next.iter().filter(|(k, _)| k != "pageToken").cloned().collect();
        assert_eq!(first, without_token);
        assert!(next.contains(&("pageToken".into(), "tok/1".into())));
        assert!(!first.iter().any(|(k, _)| k == "sortOrder"));
    }

    #[test]
    fn incremental_listing_sends_the_sync_token_and_no_request_flag() {
        let q = query(&list_connections(&ListMode::Incremental("s+1".into()), Some("p")));
        assert!(q.contains(&("syncToken".into(), "s+1".into())));
        assert!(!q.iter().any(|(k, _)| k == "requestSyncToken"));
    }

    #[test]
    fn quiet_delta_without_connections_key_is_an_empty_page() {
        let page = parse_connections(r#"{"nextSyncToken":"abc"}"#).unwrap();
        assert!(page.people.is_empty());
        assert_eq!(page.next_sync_token.as_deref(), Some("abc"));
        assert_eq!(page.next_page_token, None);
    }

    #[test]
    fn tombstones_and_previous_names_are_read() {
        let page = parse_connections(
            r#"{"connections":[{"resourceName":"people/c1","etag":"e","metadata":{"deleted":true}},
                {"resourceName":"people/c2","etag":"f","metadata":{"previousResourceNames":["people/c3"],
                 "sources":[{"type":"CONTACT","id":"2","updateTime":"2024-01-02T00:00:00Z"}]}}],
               "nextPageToken":"n"}"#,
        )
        .unwrap();
        assert!(page.people[0].is_deleted());
        assert!(!page.people[1].is_deleted());
        assert_eq!(page.people[1].previous_resource_names(), ["people/c3".to_string()]);
        assert_eq!(page.people[1].update_time(), Some("2024-01-02T00:00:00Z"));
    }

    #[test]
    fn malformed_or_truncated_json_is_a_retryable_bad_response() {
        let err = parse_connections(r#"{"connections":[{"resourceName":"#).unwrap_err();
        assert_eq!(err.code, "BAD_RESPONSE");
        assert!(err.retryable);
    }

    #[test]
    fn writes_drop_decoration_metadata_and_extra_singleton_values() {
        let p = Person {
            resource_name: Some("people/c1".into()),
            etag: Some("e1".into()),
            names: vec![
                Name { given_name: Some("A".into()), display_name: Some("A".into()), ..Default::default() },
                Name { given_name: Some("B".into()), ..Default::default() },
            ],
            phone_numbers: vec![PhoneNumber {
                value: "06 12".into(),
                canonical_form: Some("+3312".into()),
                formatted_type: Some("Mobile".into()),
                ..Default::default()
            }],
            biographies: vec![Biography { value: "x".into(), ..Default::default() }; 2],
            ..Default::default()
        };
        let v = p.for_write();
        assert_eq!(v["names"].as_array().unwrap().len(), 1);
        assert!(v["names"][0].get("displayName").is_none());
        assert_eq!(v["biographies"].as_array().unwrap().len(), 1);
        assert!(v["phoneNumbers"][0].get("canonicalForm").is_none());
        assert!(v.get("etag").is_none() && v.get("resourceName").is_none() && v.get("metadata").is_none());
        assert!(v.get("memberships").is_none());
        assert_eq!(v["emailAddresses"], serde_json::json!([]));
    }

    #[test]
    fn batch_update_keys_people_by_resource_name_with_their_etag() {
        let p = Person { resource_name: Some("people/c9".into()), etag: Some("E".into()), ..Default::default() };
        let r = batch_update(&[p]);
        let body: Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["contacts"]["people/c9"]["etag"], "E");
        assert_eq!(body["updateMask"], UPDATE_FIELDS);
        assert!(!UPDATE_FIELDS.contains("photos") && !UPDATE_FIELDS.contains("metadata"));
    }

    #[test]
    fn batch_create_results_keep_request_order_and_per_item_errors() {
        let out = parse_batch_create(
            r#"{"createdPeople":[{"httpStatusCode":200,"person":{"resourceName":"people/a","etag":"1"}},
                {"httpStatusCode":400,"status":{"code":3,"message":"names has more than one value"}}]}"#,
            2,
        )
        .unwrap();
        assert!(matches!(&out[0], ItemOutcome::Done(p) if p.resource_name.as_deref() == Some("people/a")));
        assert!(matches!(&out[1], ItemOutcome::Failed(e) if e.code == "BAD_RESPONSE"));
        assert!(parse_batch_create(r#"{"createdPeople":[]}"#, 2).is_err());
    }

    #[test]
    fn stale_etag_items_of_a_batch_update_are_conflicts() {
        let out = parse_batch_update(
            r#"{"updateResult":{"people/a":{"httpStatusCode":400,"status":{"code":9,"message":"Request person.etag is different than the current person.etag."}}}}"#,
            &["people/a".to_string(), "people/b".to_string()],
        )
        .unwrap();
        assert!(matches!(&out["people/a"], ItemOutcome::Failed(e) if e.code == "CONFLICT"));
        assert!(matches!(&out["people/b"], ItemOutcome::Failed(e) if e.retryable));
    }

    #[test]
    fn expired_sync_token_is_recognised_by_reason_or_by_any_400_on_a_token_request() {
        let expired = r#"{"error":{"code":400,"message":"Sync token is expired. Clear local cache and retry call without the sync token.","status":"FAILED_PRECONDITION","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"EXPIRED_SYNC_TOKEN","domain":"people.googleapis.com"}]}}"#;
        assert_eq!(classify_failure(RequestKind::ListIncremental, 400, None, expired).0, Failure::SyncTokenUnusable);
        let invalid = r#"{"error":{"code":400,"status":"INVALID_ARGUMENT","message":"bad"}}"#;
        assert_eq!(classify_failure(RequestKind::ListIncremental, 400, None, invalid).0, Failure::SyncTokenUnusable);
        assert_eq!(classify_failure(RequestKind::ListFull, 400, None, invalid).0, Failure::Fatal);
    }

    #[test]
    fn rate_limit_carries_retry_after_in_milliseconds() {
        let body = r#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"reason":"RATE_LIMIT_EXCEEDED"}]}}"#;
        let (failure, err) = classify_failure(RequestKind::Create, 429, Some("2"), body);
        assert_eq!(failure, Failure::RateLimited(Some(2000)));
        assert_eq!(err.code, "RATE_LIMITED");
        assert_eq!(err.retry_after_ms, Some(2000));
    }

    #[test]
    fn statuses_map_to_their_actions() {
        let c = |kind, http, body: &str| classify_failure(kind, http, None, body).0;
        assert_eq!(c(RequestKind::Read, 401, "{}"), Failure::Unauthenticated);
        assert_eq!(
            c(RequestKind::Update, 400, r#"{"error":{"status":"FAILED_PRECONDITION"}}"#),
            Failure::StaleEtag
        );
        assert_eq!(c(RequestKind::Delete, 404, "{}"), Failure::NotFound);
        assert_eq!(c(RequestKind::ListFull, 503, "<html>"), Failure::Transient);
        let (f, e) = classify_failure(RequestKind::ListFull, 403, None, r#"{"error":{"status":"PERMISSION_DENIED"}}"#);
        assert_eq!((f, e.code), (Failure::Fatal, "AUTH_DENIED"));
    }

    #[test]
    fn resource_names_cannot_escape_their_path() {
        let r = delete_contact("people/../../x?y");
        assert_eq!(r.path_and_query, "/v1/people/..%2F..%2Fx%3Fy:deleteContact");
    }
}
