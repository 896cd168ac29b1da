//! The canonical contact: the one shape every provider converts to and from, and the
//! remote copy of it as a spoke holds it.
//!
//! Providers never compare their own JSON; they convert to [`Contact`] and the engine
//! compares normalized values (see [`super::normalize`]). Values here are kept as a
//! person typed them, so that a write carries the original text, not our normal form.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The kind of an e-mail, phone, address or URL.
///
/// Serialized as a plain string: `"home"`, `"work"`, `"mobile"`, `"other"`, or any other
/// text for a custom label (so a provider's own labels survive a round trip).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum ValueKind {
    /// Private.
    Home,
    /// Professional.
    Work,
    /// A mobile phone.
    Mobile,
    /// No particular kind.
    #[default]
    Other,
    /// A label a person typed (e.g. "Assistant").
    Custom(String),
}

impl ValueKind {
    /// Reads a provider's or CRM's type label; unknown labels become [`ValueKind::Custom`],
    /// an empty label is [`ValueKind::Other`].
    ///
    /// ```
    /// use contact_sync::engine::model::ValueKind;
    /// assert_eq!(ValueKind::parse(" Work "), ValueKind::Work);
    /// assert_eq!(ValueKind::parse("cell"), ValueKind::Mobile);
    /// assert_eq!(ValueKind::parse("Assistant"), ValueKind::Custom("Assistant".into()));
    /// ```
    pub fn parse(label: &str) -> ValueKind {
        let t = label.trim();
        if t.is_ascii() {
            // The same table, lowercased into a stack buffer instead of a copy (ASCII
            // case-folding is all `to_lowercase` does to ASCII text); no name is longer
            // than the buffer.
            let mut buf = [0u8; 9];
            let lower = match buf.get_mut(..t.len()) {
                Some(b) => {
                    b.copy_from_slice(t.as_bytes());
                    b.make_ascii_lowercase();
                    &*b
                }
                None => return ValueKind::Custom(t.to_string()),
            };
            return match lower {
                b"" | b"other" => ValueKind::Other,
                b"home" | b"private" | b"personal" => ValueKind::Home,
                b"work" | b"business" | b"office" => ValueKind::Work,
                b"mobile" | b"cell" | b"cellphone" | b"portable" => ValueKind::Mobile,
                _ => ValueKind::Custom(t.to_string()),
            };
        }
        match t.to_lowercase().as_str() {
            "" | "other" => ValueKind::Other,
            "home" | "private" | "personal" => ValueKind::Home,
            "work" | "business" | "office" => ValueKind::Work,
            "mobile" | "cell" | "cellphone" | "portable" => ValueKind::Mobile,
            _ => ValueKind::Custom(t.to_string()),
        }
    }

    /// The label written to a side: the lowercase names, or the custom text.
    pub fn as_str(&self) -> &str {
        match self {
            ValueKind::Home => "home",
            ValueKind::Work => "work",
            ValueKind::Mobile => "mobile",
            ValueKind::Other => "other",
            ValueKind::Custom(s) => s,
        }
    }
}

impl Serialize for ValueKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ValueKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(ValueKind::parse(&s))
    }
}

/// A structured name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Name {
    /// "Dr", "Mme".
    pub prefix: String,
    /// First name.
    pub given: String,
    /// Middle name(s).
    pub middle: String,
    /// Last name.
    pub family: String,
    /// "Jr", "PhD".
    pub suffix: String,
}

/// An e-mail address as typed, with its kind and primary mark.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Email {
    /// The address as typed (compared after [`super::normalize::email`]).
    pub value: String,
    /// Home, work, ...
    pub kind: ValueKind,
    /// The preferred address.
    pub primary: bool,
}

/// A phone number as typed, with its kind and primary mark.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Phone {
    /// The number as typed (compared in E.164).
    pub value: String,
    /// Home, work, mobile, ...
    pub kind: ValueKind,
    /// The preferred number.
    pub primary: bool,
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Address {
    /// Street lines, newline separated.
    pub street: String,
    /// City or locality.
    pub city: String,
    /// Postal code.
    pub postal_code: String,
    /// Region, state, department.
    pub region: String,
    /// Country name or ISO code as typed.
    pub country: String,
    /// Home, work, ...
    pub kind: ValueKind,
    /// The preferred address.
    pub primary: bool,
}

/// A web address.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Url {
    /// The URL as typed.
    pub value: String,
    /// Home page, blog, work ...
    pub kind: ValueKind,
}

/// Employer details.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Organization {
    /// Company name.
    pub name: String,
    /// Job title.
    pub title: String,
    /// Department.
    pub department: String,
}

/// The canonical contact every provider converts to and from.
///
/// Empty strings and empty lists mean "no value"; whether a side *can* hold a field is a
/// provider capability ([`super::RemoteCapabilities`]), not something read from here.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Contact {
    /// Structured name.
    pub name: Name,
    /// E-mail addresses, in the side's order.
    pub emails: Vec<Email>,
    /// Phone numbers, in the side's order.
    pub phones: Vec<Phone>,
    /// Postal addresses.
    pub addresses: Vec<Address>,
    /// Employer.
    pub organization: Organization,
    /// Free text.
    pub note: String,
    /// `YYYY-MM-DD`, or `--MM-DD` when the year is unknown; empty when none.
    pub birthday: String,
    /// Web addresses.
    pub urls: Vec<Url>,
    /// Custom fields: key → value (People `userDefined`, vCard `X-` properties).
    pub custom: BTreeMap<String, String>,
    /// Labels / groups (names as the remote shows them).
    pub labels: Vec<String>,
    /// A reference to the photo (URL or provider id); never the bytes.
    pub photo: String,
    /// The person asked not to be contacted.
    pub do_not_contact: bool,
    /// The owner (a CRM user id), when the side knows one.
    pub owner: String,
    /// A deleted marker, for sides that keep soft-deleted records.
    pub deleted: bool,
}

/// A contact as a spoke (remote address book) holds it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RemoteRecord {
    /// The remote's id (People `resourceName`, a CardDAV href). Always the one the
    /// server returned, never one we made up (scenario 2).
    pub id: String,
    /// The remote's version (People `etag`, CardDAV `getetag`); updates name it.
    pub etag: String,
    /// ISO 8601 time of the record's last change on the remote's own clock (People
    /// `metadata.sources[].updateTime`); compared only with other remote times... and,
    /// for "newest wins", with the CRM's `updatedAt` of the same pair.
    pub updated_at: String,
    /// A tombstone from an incremental listing.
    pub deleted: bool,
    /// The content.
    pub contact: Contact,
    /// The CRM id stored on the remote copy (People `clientData`, a vCard `X-` property):
    /// lets a lost or interrupted state re-link instead of duplicating (invariant 7).
    pub crm_id: Option<String>,
    /// Ids this record had before (People `previousResourceNames` after a merge): moves a
    /// link instead of reading a delete and a create.
    pub previous_ids: Vec<String>,
}
