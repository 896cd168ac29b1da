//! Person rendering and sanitizing: field masks, server-computed fields (displayName,
//! formattedType, canonicalForm), field metadata, memberships and tombstones.

use super::clock::rfc3339;
use super::discovery::discovery;
use super::error::{ApiError, ApiResult};
use super::state::{Account, Contact};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// Paths accepted in `personFields` / `readMask`.
pub const PERSON_FIELDS: &[&str] = &[
    "addresses", "ageRanges", "biographies", "birthdays", "calendarUrls", "clientData", "coverPhotos",
    "emailAddresses", "events", "externalIds", "genders", "imClients", "interests", "locales", "locations",
    "memberships", "metadata", "miscKeywords", "names", "nicknames", "occupations", "organizations",
    "phoneNumbers", "photos", "relations", "sipAddresses", "skills", "urls", "userDefined",
];

/// Paths accepted in `updatePersonFields` / `updateMask`.
pub const UPDATE_FIELDS: &[&str] = &[
    "addresses", "biographies", "birthdays", "calendarUrls", "clientData", "emailAddresses", "events",
    "externalIds", "genders", "imClients", "interests", "locales", "locations", "memberships", "miscKeywords",
    "names", "nicknames", "occupations", "organizations", "phoneNumbers", "relations", "sipAddresses", "urls",
    "userDefined",
];

/// Fields that hold at most one value on a contact.
pub const SINGLETONS: &[&str] = &["names", "biographies", "birthdays", "genders"];

/// Parses a `personFields`-style mask. `what` names the parameter in messages.
pub fn parse_mask(raw: Option<&str>, what: &str, allowed: &[&str], doc: &str) -> ApiResult<Vec<String>> {
    let raw = raw.unwrap_or("").trim();
    if raw.is_empty() {
        return Err(ApiError::invalid(format!(
            "{what} mask is required. Please specify one or more valid paths. Valid paths are documented at https://developers.google.com/people/api/rest/v1/{doc}."
        )));
    }
    let mut out = Vec::new();
    for p in raw.split(',').map(str::trim) {
        let p = p.strip_prefix("person.").unwrap_or(p);
        if !allowed.contains(&p) {
            return Err(ApiError::invalid(format!(
                "Invalid {what} mask path: \"{p}\". Valid paths are documented at https://developers.google.com/people/api/rest/v1/{doc}."
            )));
        }
        if !out.iter().any(|o| o == p) {
            out.push(p.to_string());
        }
    }
    Ok(out)
}

/// Removes output-only fields (per the discovery document) and field metadata from a value
/// of schema `schema`, so stored contacts only hold what a client may write.
fn strip_output_only(schema: &str, value: &mut Value) {
    let Some(obj) = value.as_object_mut() else { return };
    let Some(props) = discovery().schema(schema).and_then(|s| s.get("properties")).and_then(Value::as_object) else {
        return;
    };
    obj.retain(|k, _| {
        let p = props.get(k);
        k != "metadata" && !p.and_then(|p| p.get("readOnly")).and_then(Value::as_bool).unwrap_or(false)
    });
    for (k, v) in obj.iter_mut() {
        let Some(p) = props.get(k) else { continue };
        let item_ref = p.get("items").and_then(|i| i.get("$ref")).and_then(Value::as_str);
        let direct_ref = p.get("$ref").and_then(Value::as_str);
        match (v, item_ref, direct_ref) {
            (Value::Array(items), Some(r), _) => items.iter_mut().for_each(|i| strip_output_only(r, i)),
            (v @ Value::Object(_), _, Some(r)) => strip_output_only(r, v),
            _ => {}
        }
    }
}

/// A person as sent by a client, split into storable fields and group memberships.
pub struct Incoming {
    pub fields: Map<String, Value>,
    /// `None` when the person carries no `memberships` key.
    pub memberships: Option<BTreeSet<String>>,
    pub etag: Option<String>,
}

/// Sanitizes a Person body: output-only parts dropped, singletons checked, memberships parsed.
pub fn incoming(person: &Value, account: &Account) -> ApiResult<Incoming> {
    let mut p = person.clone();
    let etag = p
        .get("etag")
        .and_then(Value::as_str)
        .map(String::from)
        .or_else(|| {
            p.pointer("/metadata/sources")
                .and_then(Value::as_array)
                .and_then(|s| s.iter().find(|s| s.get("type").and_then(Value::as_str) == Some("CONTACT")))
                .and_then(|s| s.get("etag"))
                .and_then(Value::as_str)
                .map(String::from)
        });
    strip_output_only("Person", &mut p);
    let mut fields = match p {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    fields.remove("resourceName");
    fields.remove("etag");
    for s in SINGLETONS {
        if fields.get(*s).and_then(Value::as_array).is_some_and(|a| a.len() > 1) {
            return Err(ApiError::invalid(format!("Only one {} field is allowed per contact. person.{s} has more than one value.", s.trim_end_matches('s'))));
        }
    }
    let memberships = match fields.remove("memberships") {
        None => None,
        Some(Value::Array(items)) => {
            let mut set = BTreeSet::new();
            for m in items {
                let cgm = m.get("contactGroupMembership");
                let name = cgm
                    .and_then(|c| c.get("contactGroupResourceName"))
                    .and_then(Value::as_str)
                    .map(|n| n.trim_start_matches("contactGroups/").to_string())
                    .or_else(|| cgm.and_then(|c| c.get("contactGroupId")).and_then(Value::as_str).map(String::from));
                let Some(id) = name else { continue };
                let group = account.groups.get(&id).filter(|g| !g.deleted);
                match group {
                    None => return Err(ApiError::invalid(format!("Contact group resource name \"contactGroups/{id}\" is invalid or does not exist."))),
                    Some(g) if g.system && id != "myContacts" && id != "starred" => {
                        return Err(ApiError::invalid(format!("Cannot add contacts to system contact group \"contactGroups/{id}\".")))
                    }
                    Some(_) => {
                        set.insert(id);
                    }
                }
            }
            Some(set)
        }
        Some(_) => Some(BTreeSet::new()),
    };
    // Empty lists are the same as absent fields on a stored contact.
    fields.retain(|_, v| !v.as_array().is_some_and(|a| a.is_empty()));
    Ok(Incoming { fields, memberships, etag })
}

fn formatted_type(t: &str) -> String {
    let mut c = t.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// E.164 form of a phone number when it is unambiguous (international prefix given).
fn canonical_phone(v: &str) -> Option<String> {
    let t = v.trim();
    let intl = t.starts_with('+') || t.starts_with("00");
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    let digits = if t.starts_with("00") { digits.get(2..)?.to_string() } else { digits };
    (intl && (8..=15).contains(&digits.len())).then(|| format!("+{digits}"))
}

fn display_names(name: &Map<String, Value>) -> (String, String) {
    let g = |k: &str| name.get(k).and_then(Value::as_str).unwrap_or("").trim().to_string();
    let parts: Vec<String> = [g("honorificPrefix"), g("givenName"), g("middleName"), g("familyName"), g("honorificSuffix")]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    let display = if parts.is_empty() { g("unstructuredName") } else { parts.join(" ") };
    let first: Vec<String> = [g("givenName"), g("middleName")].into_iter().filter(|s| !s.is_empty()).collect();
    let last_first = match (g("familyName").is_empty(), first.is_empty()) {
        (false, false) => format!("{}, {}", g("familyName"), first.join(" ")),
        (false, true) => g("familyName"),
        _ => display.clone(),
    };
    (display, last_first)
}

/// Renders a contact for the API with the given field mask.
/// `app` is the calling OAuth client: it sees only its own `clientData` (or seeded data).
pub fn render(c: &Contact, account: &Account, mask: &[String], with_previous: bool, app: &str) -> Value {
    let source = json!({"type": "CONTACT", "id": c.source_id()});
    let mut out = Map::new();
    out.insert("resourceName".into(), json!(c.resource_name()));
    out.insert("etag".into(), json!(c.etag));
    let mut meta = Map::new();
    meta.insert(
        "sources".into(),
        json!([{"type": "CONTACT", "id": c.source_id(), "etag": c.source_etag, "updateTime": rfc3339(c.update_ms)}]),
    );
    if c.deleted {
        meta.insert("deleted".into(), json!(true));
        out.insert("metadata".into(), Value::Object(meta));
        return Value::Object(out);
    }
    if with_previous && !c.previous_resource_names.is_empty() {
        meta.insert("previousResourceNames".into(), json!(c.previous_resource_names));
    }
    meta.insert("objectType".into(), json!("PERSON"));
    out.insert("metadata".into(), Value::Object(meta));
    for field in mask {
        match field.as_str() {
            "metadata" => {}
            "clientData" => {
                let items = c.client_data.get(app).or_else(|| c.client_data.get("*")).cloned().unwrap_or_default();
                let rendered: Vec<Value> = items
                    .into_iter()
                    .map(|mut item| {
                        if let Some(o) = item.as_object_mut() {
                            o.insert("metadata".into(), json!({"source": source}));
                        }
                        item
                    })
                    .collect();
                if !rendered.is_empty() {
                    out.insert("clientData".into(), Value::Array(rendered));
                }
            }
            "memberships" => {
                let items: Vec<Value> = c
                    .memberships
                    .iter()
                    .filter(|g| account.groups.get(*g).is_some_and(|g| !g.deleted))
                    .map(|g| {
                        json!({"metadata": {"source": source},
                               "contactGroupMembership": {"contactGroupId": g, "contactGroupResourceName": format!("contactGroups/{g}")}})
                    })
                    .collect();
                if !items.is_empty() {
                    out.insert("memberships".into(), Value::Array(items));
                }
            }
            "photos" => {
                let (url, default) = match &c.photo_url {
                    Some(u) => (u.clone(), false),
                    None => (format!("https://lh3.googleusercontent.com/cm/default-{}", c.source_id()), true),
                };
                let mut p = json!({"metadata": {"primary": true, "source": source}, "url": url});
                if default {
                    p["default"] = json!(true);
                }
                out.insert("photos".into(), json!([p]));
            }
            f => {
                let Some(items) = c.fields.get(f).and_then(Value::as_array) else { continue };
                let rendered: Vec<Value> = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let mut item = item.as_object().cloned().unwrap_or_default();
                        let mut md = json!({"source": source});
                        if i == 0 && f != "clientData" && f != "userDefined" {
                            md["primary"] = json!(true);
                        }
                        item.insert("metadata".into(), md);
                        if let Some(t) = item.get("type").and_then(Value::as_str).map(String::from) {
                            item.insert("formattedType".into(), json!(formatted_type(&t)));
                        }
                        if f == "names" {
                            let (d, lf) = display_names(&item);
                            item.insert("displayName".into(), json!(d));
                            item.insert("displayNameLastFirst".into(), json!(lf));
                            if !item.contains_key("unstructuredName") {
                                item.insert("unstructuredName".into(), json!(d));
                            }
                        }
                        if f == "phoneNumbers" {
                            if let Some(cf) = item.get("value").and_then(Value::as_str).and_then(canonical_phone) {
                                item.insert("canonicalForm".into(), json!(cf));
                            }
                        }
                        Value::Object(item)
                    })
                    .collect();
                if !rendered.is_empty() {
                    out.insert(f.to_string(), Value::Array(rendered));
                }
            }
        }
    }
    Value::Object(out)
}

/// Text of a contact that searchContacts matches against (names, nicknames, e-mails,
/// phones, organizations), lower-cased.
pub fn search_text(c: &Contact) -> Vec<String> {
    let mut out = Vec::new();
    for (field, keys) in [
        ("names", &["givenName", "familyName", "middleName", "unstructuredName"][..]),
        ("nicknames", &["value"][..]),
        ("emailAddresses", &["value"][..]),
        ("phoneNumbers", &["value"][..]),
        ("organizations", &["name", "title"][..]),
    ] {
        for item in c.fields.get(field).and_then(Value::as_array).into_iter().flatten() {
            for k in keys {
                if let Some(s) = item.get(*k).and_then(Value::as_str) {
                    out.push(s.to_lowercase());
                }
            }
        }
    }
    out
}
