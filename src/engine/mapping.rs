//! The declarative field-mapping table between the CRM's fields and the canonical model.

use serde::{Deserialize, Serialize};

// `Direction`, `Priority` and `FieldMappingRow` are also the settings' types
// (`crate::settings` re-exports them): one definition, its doc comments are the settings
// schema's descriptions (`plugin.schema.json`).

/// Which way a field flows between the CRM (hub) and an address book (spoke).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum Direction {
    /// Both ways.
    Both,
    /// CRM → address book only.
    ToRemote,
    /// Address book → CRM only.
    ToCrm,
    /// Not synced.
    None,
}

/// Which side wins when both changed the same field since the last run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum Priority {
    /// The later change wins.
    Newest,
    /// The CRM wins.
    Crm,
    /// The address book wins.
    Remote,
}

/// One row of the field mapping table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldMappingRow {
    /// CRM field id (from `crm.fieldSchema()`).
    pub crm_field: String,
    /// Canonical address-book field, e.g. `name.given`, `emails`, `organization.name`.
    pub remote_field: String,
    /// Which way it flows.
    pub direction: Direction,
    /// Who wins a conflict.
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

/// The mapping row a remote label belongs to: the one spelled the same, else one spelled
/// the same regardless of case (Google keeps group names unique regardless of case, so
/// "PRESS" in the address book is the "Press" of the mapping), else none.
pub fn label_row<'a>(rows: &'a [LabelMappingRow], label: &str) -> Option<&'a LabelMappingRow> {
    let label = normalize::text(label);
    rows.iter().find(|r| normalize::text(&r.remote_label) == label).or_else(|| {
        let key = label.to_lowercase();
        rows.iter().find(|r| normalize::text(&r.remote_label).to_lowercase() == key)
    })
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

use super::model::{Address, Contact, Email, Phone, Url, ValueKind};
use super::normalize::{self, PhoneNormalizer};
use crate::crm::{CrmContact, CrmFieldSchema, CrmFieldType};
use serde_json::{json, Map, Value as Json};

/// The canonical field that holds remote work details for the CRM note block.
pub const WORK_DETAILS: &str = "workDetails";
/// First line of the CRM note block the plugin owns (asymmetric mapping).
pub const BLOCK_START: &str = "--- contact-sync: work details (address book) ---";
/// Last line of that block.
pub const BLOCK_END: &str = "--- end of work details ---";

/// One field of the canonical remote catalogue, for the mapping editor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CanonicalField {
    /// Canonical id.
    pub id: &'static str,
    /// English label (the settings tab translates).
    pub label: &'static str,
    /// The CRM field type it maps to.
    #[serde(rename = "type")]
    pub field_type: CrmFieldType,
}

/// The canonical remote fields (`FieldCatalogue.remote`). Custom fields are `custom.<key>`
/// (type text) and are accepted by [`check_rows`] without being listed.
pub const CATALOGUE: &[CanonicalField] = &[
    CanonicalField { id: "name.prefix", label: "Name prefix", field_type: CrmFieldType::Text },
    CanonicalField { id: "name.given", label: "First name", field_type: CrmFieldType::Text },
    CanonicalField { id: "name.middle", label: "Middle name", field_type: CrmFieldType::Text },
    CanonicalField { id: "name.family", label: "Last name", field_type: CrmFieldType::Text },
    CanonicalField { id: "name.suffix", label: "Name suffix", field_type: CrmFieldType::Text },
    CanonicalField { id: "organization.name", label: "Company", field_type: CrmFieldType::Text },
    CanonicalField { id: "organization.title", label: "Job title", field_type: CrmFieldType::Text },
    CanonicalField { id: "organization.department", label: "Department", field_type: CrmFieldType::Text },
    CanonicalField { id: "emails", label: "E-mail addresses", field_type: CrmFieldType::EmailList },
    CanonicalField { id: "phones", label: "Phone numbers", field_type: CrmFieldType::PhoneList },
    CanonicalField { id: "addresses", label: "Postal addresses", field_type: CrmFieldType::AddressList },
    CanonicalField { id: "note", label: "Notes", field_type: CrmFieldType::Longtext },
    CanonicalField { id: "birthday", label: "Birthday", field_type: CrmFieldType::Date },
    CanonicalField { id: "website", label: "Website (first URL)", field_type: CrmFieldType::Url },
    CanonicalField { id: "doNotContact", label: "Do not contact", field_type: CrmFieldType::Boolean },
    CanonicalField { id: "owner", label: "Owner", field_type: CrmFieldType::User },
    CanonicalField { id: "photo", label: "Photo", field_type: CrmFieldType::Url },
    CanonicalField { id: WORK_DETAILS, label: "Work details (into a marked block of a CRM text)", field_type: CrmFieldType::Longtext },
];

/// The mapping that works with no configuration: the standard CRM fields of
/// `CrmFields` in `host-api.d.ts`, both ways, newest wins, no fill-empty override.
/// `owner` is not mapped: address books have no notion of CRM users.
pub fn default_mapping() -> Vec<FieldMappingRow> {
    [
        ("firstName", "name.given"),
        ("lastName", "name.family"),
        ("middleName", "name.middle"),
        ("prefix", "name.prefix"),
        ("suffix", "name.suffix"),
        ("company", "organization.name"),
        ("jobTitle", "organization.title"),
        ("department", "organization.department"),
        ("emails", "emails"),
        ("phones", "phones"),
        ("addresses", "addresses"),
        ("notes", "note"),
        ("birthday", "birthday"),
        ("website", "website"),
        ("doNotContact", "doNotContact"),
    ]
    .iter()
    .map(|(c, r)| FieldMappingRow { crm_field: (*c).into(), remote_field: (*r).into(), direction: Direction::Both, priority: Priority::Newest, fill_empty: false })
    .collect()
}

/// The asymmetric row: remote work details into the marked block of the CRM `notes` field.
pub fn work_details_row(crm_field: &str) -> FieldMappingRow {
    FieldMappingRow { crm_field: crm_field.into(), remote_field: WORK_DETAILS.into(), direction: Direction::ToCrm, priority: Priority::Remote, fill_empty: false }
}

/// The type a canonical field id has, or None when the id is unknown.
pub fn canonical_type(id: &str) -> Option<CrmFieldType> {
    if id.strip_prefix("custom.").is_some_and(|k| !k.is_empty()) {
        return Some(CrmFieldType::Text);
    }
    CATALOGUE.iter().find(|f| f.id == id).map(|f| f.field_type)
}

fn compatible(crm: CrmFieldType, canonical: CrmFieldType) -> bool {
    use CrmFieldType::*;
    let texty = |t| matches!(t, Text | Longtext | Url | User | Number);
    crm == canonical || (texty(crm) && texty(canonical) && canonical != User && crm != User) || (crm == User && canonical == User)
}

/// Checks rows against the CRM field schema: known fields on both sides, compatible
/// types (a date maps to a date, an e-mail list to e-mails), the work-details block only
/// into a text field and only towards the CRM, no writes into read-only CRM fields, one
/// row per canonical field. Returns every problem, for `INVALID_SETTINGS`.
pub fn check_rows(rows: &[FieldMappingRow], schema: &[CrmFieldSchema]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for r in rows {
        let Some(canon) = canonical_type(&r.remote_field) else {
            problems.push(format!("unknown address-book field \"{}\"", r.remote_field));
            continue;
        };
        if !seen.insert(r.remote_field.clone()) {
            problems.push(format!("address-book field \"{}\" is mapped twice", r.remote_field));
        }
        let Some(crm) = schema.iter().find(|f| f.id == r.crm_field) else {
            problems.push(format!("unknown CRM field \"{}\"", r.crm_field));
            continue;
        };
        if r.remote_field == WORK_DETAILS {
            if !matches!(crm.field_type, CrmFieldType::Text | CrmFieldType::Longtext) {
                problems.push(format!("work details need a text CRM field, \"{}\" is {:?}", r.crm_field, crm.field_type));
            }
            if !matches!(r.direction, Direction::ToCrm | Direction::None) {
                problems.push("work details flow only from the address book to the CRM".into());
            }
        } else if !compatible(crm.field_type, canon) {
            problems.push(format!("\"{}\" ({:?}) cannot hold \"{}\" ({:?})", r.crm_field, crm.field_type, r.remote_field, canon));
        }
        if crm.read_only && matches!(r.direction, Direction::Both | Direction::ToCrm) {
            problems.push(format!("CRM field \"{}\" is read-only: map it toRemote", r.crm_field));
        }
    }
    problems
}

/// One element of a multi-valued field, as typed on its side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The normalized value: the set key.
    pub key: String,
    /// Home, work, ...
    pub kind: ValueKind,
    /// The primary mark.
    pub primary: bool,
    /// The value as typed (text, or a whole address).
    pub original: ItemValue,
}

/// What an [`Item`] holds as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemValue {
    /// An e-mail, phone, URL or label.
    Text(String),
    /// A postal address.
    Address(Address),
}

/// A field's value on one side, as typed, with its normalized comparison form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A single text (names, notes, dates, URLs, numbers, user ids).
    Text(String),
    /// true / false; false counts as empty.
    Bool(bool),
    /// A multi-valued field.
    Items(Vec<Item>),
}

impl Value {
    /// Empty: blank text, false, no items.
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Text(s) => s.trim().is_empty(),
            Value::Bool(b) => !b,
            Value::Items(v) => v.is_empty(),
        }
    }

    /// As JSON, for conflict records and the journal.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Text(s) => Json::String(s.clone()),
            Value::Bool(b) => Json::Bool(*b),
            Value::Items(v) => Json::Array(v.iter().map(item_to_crm_json).collect()),
        }
    }
}

/// How a field's values are read and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Text compared after NFC + trim.
    Text,
    /// A date.
    Date,
    /// A URL.
    Url,
    /// A boolean.
    Bool,
    /// E-mails.
    Emails,
    /// Phones.
    Phones,
    /// Postal addresses.
    Addresses,
    /// Labels ↔ lists/tags.
    Labels,
}

/// The normalized comparison form of a value (what the base hashes).
pub fn norm_of(shape: Shape, v: &Value) -> String {
    match v {
        Value::Text(s) => match shape {
            Shape::Date => normalize::date(s),
            Shape::Url => normalize::url(s),
            _ => normalize::text(s),
        },
        Value::Bool(b) => if *b { "1".into() } else { String::new() },
        Value::Items(items) => {
            // `key \u{1e} kind \u{1e} 0|1`, written without the formatter.
            let element = |i: &Item| {
                let kind = normalize::kind_ref(&i.kind);
                let mut p = String::with_capacity(i.key.len() + kind.len() + 5);
                p.push_str(&i.key);
                p.push('\u{1e}');
                p.push_str(&kind);
                p.push('\u{1e}');
                p.push(if i.primary { '1' } else { '0' });
                p
            };
            match items.as_slice() {
                // Most lists hold one element: no list of parts to sort and join.
                [] => String::new(),
                [one] => element(one),
                _ => {
                    let mut parts: Vec<String> = items.iter().map(element).collect();
                    parts.sort();
                    parts.dedup();
                    parts.join("\u{1d}")
                }
            }
        }
    }
}

fn item_to_crm_json(i: &Item) -> Json {
    match &i.original {
        ItemValue::Text(s) => {
            let mut m = Map::new();
            m.insert("value".into(), Json::String(s.clone()));
            m.insert("type".into(), Json::String(i.kind.as_str().to_string()));
            if i.primary {
                m.insert("primary".into(), Json::Bool(true));
            }
            Json::Object(m)
        }
        ItemValue::Address(a) => {
            let mut m = Map::new();
            for (k, v) in [("street", &a.street), ("city", &a.city), ("postalCode", &a.postal_code), ("region", &a.region), ("country", &a.country)] {
                if !v.is_empty() {
                    m.insert(k.into(), Json::String(v.clone()));
                }
            }
            m.insert("type".into(), Json::String(i.kind.as_str().to_string()));
            if i.primary {
                m.insert("primary".into(), Json::Bool(true));
            }
            Json::Object(m)
        }
    }
}

/// The kind of an element from its JSON `type` (read like [`json_str`], without a copy
/// for a string).
fn kind_of(v: Option<&Json>) -> ValueKind {
    match v {
        Some(Json::String(s)) => ValueKind::parse(s),
        other => ValueKind::parse(&json_str(other)),
    }
}

fn json_str(v: Option<&Json>) -> String {
    match v {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Number(n)) => n.to_string(),
        Some(Json::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// Reads and writes mapped values on both sides (one per session: it holds the phone
/// normalizer for the configured region).
#[derive(Debug, Clone)]
pub struct Codec {
    phones: PhoneNormalizer,
}

impl Codec {
    /// With `region` as the default phone region.
    pub fn new(region: &str) -> Self {
        Codec { phones: PhoneNormalizer::new(region) }
    }

    /// The phone normalizer.
    pub fn phones(&self) -> &PhoneNormalizer {
        &self.phones
    }

    /// The shape of a canonical field.
    pub fn shape(remote_field: &str) -> Shape {
        match remote_field {
            "emails" => Shape::Emails,
            "phones" => Shape::Phones,
            "addresses" => Shape::Addresses,
            "labels" => Shape::Labels,
            "birthday" => Shape::Date,
            "website" | "photo" => Shape::Url,
            "doNotContact" => Shape::Bool,
            _ => Shape::Text,
        }
    }

    fn text_items(&self, shape: Shape, list: impl IntoIterator<Item = (String, ValueKind, bool)>) -> Vec<Item> {
        let list = list.into_iter();
        let mut out: Vec<Item> = Vec::with_capacity(list.size_hint().0);
        for (value, kind, primary) in list {
            let key = match shape {
                Shape::Phones => self.phones.phone(&value),
                Shape::Emails => normalize::email(&value),
                _ => normalize::text(&value),
            };
            if key.is_empty() || key == "~" || out.iter().any(|i| i.key == key) {
                continue;
            }
            out.push(Item { key, kind, primary, original: ItemValue::Text(value) });
        }
        out
    }

    /// The items of addresses, borrowed (a remote contact's, copied only when kept) or
    /// owned (read out of CRM JSON, moved in).
    fn address_items<'a>(list: impl IntoIterator<Item = std::borrow::Cow<'a, Address>>) -> Vec<Item> {
        let list = list.into_iter();
        let mut out: Vec<Item> = Vec::with_capacity(list.size_hint().0);
        for a in list {
            let key = normalize::address(&a);
            if key.bytes().all(|b| b == 0x1f) || out.iter().any(|i| i.key == key) {
                continue;
            }
            let mut plain = a.into_owned();
            let kind = std::mem::replace(&mut plain.kind, ValueKind::Other);
            let primary = std::mem::replace(&mut plain.primary, false);
            out.push(Item { key, kind, primary, original: ItemValue::Address(plain) });
        }
        out
    }

    /// A CRM field's value. `note_block` tells whether the field holds the plugin's work
    /// block: it is cut out of what every other row reads, and is all the block row reads.
    pub fn read_crm(&self, c: &CrmContact, crm_field: &str, shape: Shape, block: BlockUse) -> Value {
        self.read_crm_fields(&c.fields, crm_field, shape, block)
    }

    /// [`Codec::read_crm`] on a CRM contact's field map (a contact about to be created has
    /// no id nor version yet).
    pub fn read_crm_fields(&self, fields: &Map<String, Json>, crm_field: &str, shape: Shape, block: BlockUse) -> Value {
        let raw = fields.get(crm_field);
        match shape {
            Shape::Bool => Value::Bool(matches!(raw, Some(Json::Bool(true)))),
            Shape::Emails | Shape::Phones => {
                let element = |e: &Json| match e {
                    Json::Object(o) => Some((json_str(o.get("value")), kind_of(o.get("type")), matches!(o.get("primary"), Some(Json::Bool(true))))),
                    Json::String(s) => Some((s.clone(), ValueKind::Other, false)),
                    _ => None,
                };
                Value::Items(match raw {
                    Some(Json::Array(a)) => self.text_items(shape, a.iter().filter_map(element)),
                    Some(Json::String(s)) => self.text_items(shape, [(s.clone(), ValueKind::Other, false)]),
                    _ => Vec::new(),
                })
            }
            Shape::Addresses => Value::Items(match raw {
                Some(Json::Array(a)) => Self::address_items(a.iter().filter_map(|e| match e {
                    Json::Object(o) => Some(std::borrow::Cow::Owned(Address {
                        street: json_str(o.get("street")),
                        city: json_str(o.get("city")),
                        postal_code: json_str(o.get("postalCode")),
                        region: json_str(o.get("region")),
                        country: json_str(o.get("country")),
                        kind: kind_of(o.get("type")),
                        primary: matches!(o.get("primary"), Some(Json::Bool(true))),
                    })),
                    _ => None,
                })),
                _ => Vec::new(),
            }),
            Shape::Labels => Value::Items(Vec::new()),
            _ => {
                let s = json_str(raw);
                Value::Text(match block {
                    BlockUse::None => s,
                    // Most texts hold no block: kept as read, not copied again.
                    BlockUse::Outside if block_range(&s).is_none() => s,
                    BlockUse::Outside => strip_block(&s),
                    BlockUse::Block => block_of(&s),
                })
            }
        }
    }

    /// The CRM-side label set of a contact under the label rows.
    pub fn read_crm_labels(&self, c: &CrmContact, rows: &[LabelMappingRow]) -> Value {
        let list: Vec<(String, ValueKind, bool)> = rows
            .iter()
            .filter(|r| match r.crm.kind {
                CrmLabelKind::List => c.lists.contains(&r.crm.id),
                CrmLabelKind::Tag => c.tags.contains(&r.crm.id),
            })
            .map(|r| (r.remote_label.clone(), ValueKind::Other, false))
            .collect();
        Value::Items(self.text_items(Shape::Labels, list))
    }

    /// A canonical field's value on the remote contact.
    pub fn read_remote(&self, c: &Contact, remote_field: &str, labels: &[LabelMappingRow]) -> Value {
        if let Some(t) = remote_text(c, remote_field) {
            return Value::Text(t.to_string());
        }
        match remote_field {
            "doNotContact" => Value::Bool(c.do_not_contact),
            "emails" => Value::Items(self.text_items(Shape::Emails, c.emails.iter().map(|e| (e.value.clone(), e.kind.clone(), e.primary)))),
            "phones" => Value::Items(self.text_items(Shape::Phones, c.phones.iter().map(|e| (e.value.clone(), e.kind.clone(), e.primary)))),
            "addresses" => Value::Items(Self::address_items(c.addresses.iter().map(std::borrow::Cow::Borrowed))),
            "labels" => {
                // A mapped label reads as the mapping spells it.
                let mapped: Vec<(String, ValueKind, bool)> = c.labels.iter().filter_map(|l| label_row(labels, l)).map(|r| (r.remote_label.clone(), ValueKind::Other, false)).collect();
                Value::Items(self.text_items(Shape::Labels, mapped))
            }
            WORK_DETAILS => Value::Text(work_details(c)),
            // Every other field is a stored text (`remote_text`).
            _ => Value::Text(String::new()),
        }
    }

    /// Writes a value into a remote contact.
    pub fn write_remote(&self, c: &mut Contact, remote_field: &str, v: &Value, labels: &[LabelMappingRow]) {
        let text = match v {
            Value::Text(s) => s.clone(),
            _ => String::new(),
        };
        match remote_field {
            "name.prefix" => c.name.prefix = text,
            "name.given" => c.name.given = text,
            "name.middle" => c.name.middle = text,
            "name.family" => c.name.family = text,
            "name.suffix" => c.name.suffix = text,
            "organization.name" => c.organization.name = text,
            "organization.title" => c.organization.title = text,
            "organization.department" => c.organization.department = text,
            "note" => c.note = text,
            "birthday" => c.birthday = text,
            "photo" => c.photo = text,
            "owner" => c.owner = text,
            "website" => match (c.urls.first_mut(), text.is_empty()) {
                (Some(u), false) => u.value = text,
                (Some(_), true) => {
                    c.urls.remove(0);
                }
                (None, false) => c.urls.push(Url { value: text, kind: ValueKind::Other }),
                (None, true) => {}
            },
            "doNotContact" => c.do_not_contact = matches!(v, Value::Bool(true)),
            "emails" | "phones" => {
                let items = items_of(v);
                if remote_field == "emails" {
                    c.emails = items.iter().map(|i| Email { value: item_text(i), kind: i.kind.clone(), primary: i.primary }).collect();
                } else {
                    c.phones = items.iter().map(|i| Phone { value: item_text(i), kind: i.kind.clone(), primary: i.primary }).collect();
                }
            }
            "addresses" => {
                c.addresses = items_of(v)
                    .iter()
                    .filter_map(|i| match &i.original {
                        ItemValue::Address(a) => Some(Address { kind: i.kind.clone(), primary: i.primary, ..a.clone() }),
                        ItemValue::Text(_) => None,
                    })
                    .collect();
            }
            "labels" => {
                // Unmapped labels are left alone; mapped ones become the merged set.
                let mapped = |l: &String| label_row(labels, l).is_some();
                let mut out: Vec<String> = c.labels.iter().filter(|l| !mapped(l)).cloned().collect();
                out.extend(items_of(v).iter().map(item_text));
                c.labels = out;
            }
            WORK_DETAILS => {}
            other => {
                if let Some(k) = other.strip_prefix("custom.") {
                    if text.is_empty() {
                        c.custom.remove(k);
                    } else {
                        c.custom.insert(k.to_string(), text);
                    }
                }
            }
        }
    }

    /// Writes a value into a CRM field map (`current` is the field's present raw value,
    /// needed to splice the work block or keep the text around it).
    pub fn write_crm(&self, fields: &mut Map<String, Json>, crm_field: &str, current: Option<&Json>, v: &Value, block: BlockUse) {
        let new = match v {
            // The current text is read only where the block is spliced.
            Value::Text(s) => match block {
                BlockUse::None => Json::String(s.clone()),
                BlockUse::Outside => Json::String(splice_outside(&json_str(current), s)),
                BlockUse::Block => Json::String(splice_block(&json_str(current), s)),
            },
            Value::Bool(b) => Json::Bool(*b),
            Value::Items(items) => Json::Array(items.iter().map(item_to_crm_json).collect()),
        };
        fields.insert(crm_field.to_string(), new);
    }
}

/// A canonical single-text field of the remote contact, borrowed (what
/// [`Codec::read_remote`] reads for it). None for the fields that are not a stored text:
/// lists, labels, the do-not-contact flag and the computed work details.
pub fn remote_text<'a>(c: &'a Contact, remote_field: &str) -> Option<&'a str> {
    Some(match remote_field {
        "name.prefix" => &c.name.prefix,
        "name.given" => &c.name.given,
        "name.middle" => &c.name.middle,
        "name.family" => &c.name.family,
        "name.suffix" => &c.name.suffix,
        "organization.name" => &c.organization.name,
        "organization.title" => &c.organization.title,
        "organization.department" => &c.organization.department,
        "note" => &c.note,
        "birthday" => &c.birthday,
        "website" => c.urls.first().map_or("", |u| u.value.as_str()),
        "photo" => &c.photo,
        "owner" => &c.owner,
        "doNotContact" | "emails" | "phones" | "addresses" | "labels" | WORK_DETAILS => return None,
        other => match other.strip_prefix("custom.") {
            Some(k) => c.custom.get(k).map_or("", String::as_str),
            // An unknown field reads as empty.
            None => "",
        },
    })
}

/// A CRM field read as a single text, borrowed (what [`Codec::read_crm`] reads for a text
/// row without the work block). None when the stored value needs converting (a number or
/// a boolean is written out as text by the full read).
pub fn crm_text<'a>(c: &'a CrmContact, crm_field: &str) -> Option<&'a str> {
    crm_text_in(&c.fields, crm_field)
}

/// [`crm_text`] on a field map (a contact about to be created).
pub fn crm_text_in<'a>(fields: &'a Map<String, Json>, crm_field: &str) -> Option<&'a str> {
    match fields.get(crm_field) {
        Some(Json::String(s)) => Some(s),
        Some(Json::Number(_) | Json::Bool(_)) => None,
        // Absent, null, a list or an object: `json_str` reads "".
        _ => Some(""),
    }
}

/// How a row uses a CRM text field that also holds the plugin's work block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockUse {
    /// The field holds no block.
    None,
    /// The row owns the text around the block.
    Outside,
    /// The row owns only the block.
    Block,
}

fn items_of(v: &Value) -> &[Item] {
    match v {
        Value::Items(i) => i,
        _ => &[],
    }
}

fn item_text(i: &Item) -> String {
    match &i.original {
        ItemValue::Text(s) => s.clone(),
        ItemValue::Address(a) => a.street.clone(),
    }
}

/// The remote's work details as the block's text ("Company: …" lines).
pub fn work_details(c: &Contact) -> String {
    let mut lines = Vec::new();
    for (label, v) in [("Company", &c.organization.name), ("Title", &c.organization.title), ("Department", &c.organization.department)] {
        if !v.trim().is_empty() {
            lines.push(format!("{label}: {}", v.trim()));
        }
    }
    lines.join("\n")
}

fn block_range(s: &str) -> Option<(usize, usize)> {
    let start = s.find(BLOCK_START)?;
    // Search the end marker after the whole start marker, so that markers sharing their
    // dashes can never give an inverted range.
    let body = start + BLOCK_START.len();
    let end_rel = s.get(body..)?.find(BLOCK_END)?;
    Some((start, body + end_rel + BLOCK_END.len()))
}

/// The content of the marked block ("" when there is none).
pub fn block_of(s: &str) -> String {
    match block_range(s) {
        Some((a, b)) => s[a + BLOCK_START.len()..b - BLOCK_END.len()].trim().to_string(),
        None => String::new(),
    }
}

/// The text with the marked block cut out.
pub fn strip_block(s: &str) -> String {
    match block_range(s) {
        Some((a, b)) => format!("{}{}", s[..a].trim_end(), &s[b..]).trim().to_string(),
        None => s.to_string(),
    }
}

/// Replaces the block's content (appends a block; removes it when `content` is empty),
/// leaving what a person wrote around it untouched.
pub fn splice_block(s: &str, content: &str) -> String {
    let block = if content.trim().is_empty() { String::new() } else { format!("{BLOCK_START}\n{}\n{BLOCK_END}", content.trim()) };
    match block_range(s) {
        Some((a, b)) => {
            let before = s[..a].trim_end();
            let after = &s[b..];
            match (before.is_empty(), block.is_empty()) {
                (true, _) => format!("{block}{after}").trim().to_string(),
                (false, true) => format!("{before}{after}"),
                (false, false) => format!("{before}\n\n{block}{after}"),
            }
        }
        None if block.is_empty() => s.to_string(),
        None if s.trim().is_empty() => block,
        None => format!("{}\n\n{block}", s.trim_end()),
    }
}

/// Replaces the text around the block, keeping the block as it is.
pub fn splice_outside(s: &str, outside: &str) -> String {
    splice_block(outside, &block_of(s))
}

/// A new CRM contact's fields as JSON, for previews and creates (`json!` re-exported for
/// callers building patches by hand).
pub fn empty_fields() -> Map<String, Json> {
    match json!({}) {
        Json::Object(m) => m,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `norm_of` for lists as first written: formatted parts, sorted, deduplicated, joined.
    fn norm_of_items_reference(items: &[Item]) -> String {
        let mut parts: Vec<String> = items.iter().map(|i| format!("{}\u{1e}{}\u{1e}{}", i.key, normalize::kind(&i.kind), u8::from(i.primary))).collect();
        parts.sort();
        parts.dedup();
        parts.join("\u{1d}")
    }

    #[test]
    fn a_label_belongs_to_the_row_spelled_the_same_then_to_one_differing_only_in_case() {
        let row = |label: &str, tag: &str| LabelMappingRow { crm: CrmLabelRef { kind: CrmLabelKind::Tag, id: tag.into() }, remote_label: label.into() };
        let rows = [row("Press", "press"), row("PRESS", "loud"), row("Clients", "clients")];
        let tag_of = |label: &str| label_row(&rows, label).map(|r| r.crm.id.as_str());
        assert_eq!(tag_of("PRESS"), Some("loud"), "the exact spelling first");
        assert_eq!(tag_of(" Press "), Some("press"));
        assert_eq!(tag_of("clients"), Some("clients"), "then regardless of case");
        assert_eq!(tag_of("Bowling"), None, "an unmapped label");
    }

    #[test]
    fn list_normal_forms_keep_their_form() {
        let item = |key: &str, kind: ValueKind, primary: bool| Item { key: key.into(), kind, primary, original: ItemValue::Text(key.into()) };
        let a = item("+33612345678", ValueKind::Mobile, true);
        let b = item("a@b.fr", ValueKind::Custom(" Assistant ".into()), false);
        let c = item("", ValueKind::Other, false);
        for list in [vec![], vec![a.clone()], vec![b.clone()], vec![c.clone()], vec![a.clone(), b.clone()], vec![b.clone(), a.clone(), b.clone()], vec![c, a]] {
            assert_eq!(norm_of(Shape::Phones, &Value::Items(list.clone())), norm_of_items_reference(&list), "{list:?}");
        }
        assert_eq!(norm_of(Shape::Emails, &Value::Items(vec![b])), "a@b.fr\u{1e}assistant\u{1e}0");
    }
}
