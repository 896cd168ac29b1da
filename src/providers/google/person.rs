//! A People API `Person` ↔ the engine's canonical [`RemoteRecord`].
//!
//! Reading drops server decoration (`formattedType`, `canonicalForm`, `displayName`,
//! field metadata other than the primary mark), so a value Google merely reformatted
//! compares equal. Writing starts from the person as Google last sent it (to keep what
//! we do not map, e.g. system group memberships) and replaces only mapped fields, with
//! at most one value for singleton fields.

use std::collections::BTreeMap;

use crate::engine::model::{self, Contact, RemoteRecord, ValueKind};
use crate::providers::google::protocol::{
    self as p, Biography, Birthday, Date, EmailAddress, GroupMembership, KeyValue, Membership, Person, PhoneNumber,
};

/// The `clientData` key under which the CRM id travels on every contact we create or link.
/// Never changes: a lost local state re-links through it.
pub const CRM_ID_KEY: &str = "contactSync.crmId";

/// Contact group names ↔ resource names, for the labels of user groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupDirectory {
    by_resource: BTreeMap<String, String>,
    by_name: BTreeMap<String, String>,
}

impl GroupDirectory {
    /// Builds one from listed groups; system groups (`myContacts`, `starred`, …) are not
    /// labels the operator maps and stay out.
    pub fn new(groups: &[p::ContactGroup]) -> Self {
        let mut dir = GroupDirectory::default();
        for g in groups.iter().filter(|g| g.group_type.as_deref() != Some("SYSTEM_CONTACT_GROUP")) {
            dir.insert(&g.resource_name, &g.name);
        }
        dir
    }

    /// Adds (or renames) a group.
    pub fn insert(&mut self, resource_name: &str, name: &str) {
        if let Some(old) = self.by_resource.insert(resource_name.to_string(), name.to_string()) {
            self.by_name.remove(&name_key(&old));
        }
        self.by_name.insert(name_key(name), resource_name.to_string());
    }

    /// The resource name of a label (Google group names are unique regardless of case).
    pub fn resource_of(&self, name: &str) -> Option<&str> {
        self.by_name.get(&name_key(name)).map(String::as_str)
    }

    /// The label of a resource name (user groups only).
    pub fn name_of(&self, resource_name: &str) -> Option<&str> {
        self.by_resource.get(resource_name).map(String::as_str)
    }
}

/// How group names compare: trimmed, case-insensitive (as Google enforces uniqueness).
fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

fn text(v: &Option<String>) -> String {
    v.as_deref().map(str::trim).unwrap_or("").to_string()
}

fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn kind_of(v: &Option<String>) -> ValueKind {
    ValueKind::parse(v.as_deref().unwrap_or(""))
}

/// Google's type label of a canonical kind (Google spells home page `homePage`, and
/// knows `other`; custom labels pass as typed).
fn google_kind(kind: &ValueKind) -> Option<String> {
    match kind {
        ValueKind::Other => None,
        k => Some(k.as_str().to_string()),
    }
}

/// `YYYY-MM-DD` or `--MM-DD` from Google's date (year 0/absent = unknown).
fn birthday_text(b: &Birthday) -> String {
    match &b.date {
        Some(Date { year, month: Some(m), day: Some(d) }) if (1..=12).contains(m) && (1..=31).contains(d) => {
            match year.filter(|y| *y > 0) {
                Some(y) => format!("{y:04}-{m:02}-{d:02}"),
                None => format!("--{m:02}-{d:02}"),
            }
        }
        _ => String::new(),
    }
}

fn birthday_date(text: &str) -> Option<Date> {
    let t = text.trim();
    let (year, rest) = if let Some(rest) = t.strip_prefix("--") {
        (None, rest)
    } else {
        let (y, rest) = t.split_once('-')?;
        (Some(y.parse::<i32>().ok()?), rest)
    };
    let (m, d) = rest.split_once('-')?;
    let month: u32 = m.parse().ok()?;
    let day: u32 = d.parse().ok()?;
    ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some(Date { year, month: Some(month), day: Some(day) })
}

/// Reads a person (live or tombstone) as the engine's remote record.
///
/// ```
/// use contact_sync::providers::google::{person::*, protocol::Person};
/// let p: Person = serde_json::from_str(r#"{"resourceName":"people/c1","etag":"e",
///   "names":[{"givenName":"Ada","displayName":"Ada"}],
///   "clientData":[{"key":"contactSync.crmId","value":"crm-7"}]}"#).unwrap();
/// let r = to_record(&p, &GroupDirectory::default());
/// assert_eq!((r.id.as_str(), r.crm_id.as_deref(), r.contact.name.given.as_str()), ("people/c1", Some("crm-7"), "Ada"));
/// ```
pub fn to_record(person: &Person, groups: &GroupDirectory) -> RemoteRecord {
    let name = person.names.first();
    let org = person.organizations.first();
    let contact = Contact {
        name: model::Name {
            prefix: name.map(|n| text(&n.honorific_prefix)).unwrap_or_default(),
            given: name.map(|n| text(&n.given_name)).unwrap_or_default(),
            middle: name.map(|n| text(&n.middle_name)).unwrap_or_default(),
            family: name.map(|n| text(&n.family_name)).unwrap_or_default(),
            suffix: name.map(|n| text(&n.honorific_suffix)).unwrap_or_default(),
        },
        emails: person
            .email_addresses
            .iter()
            .filter(|e| !e.value.trim().is_empty())
            .map(|e| model::Email { value: e.value.trim().to_string(), kind: kind_of(&e.kind), primary: e.primary() })
            .collect(),
        phones: person
            .phone_numbers
            .iter()
            .filter(|ph| !ph.value.trim().is_empty())
            .map(|ph| model::Phone { value: ph.value.trim().to_string(), kind: kind_of(&ph.kind), primary: ph.primary() })
            .collect(),
        addresses: person
            .addresses
            .iter()
            .map(|a| model::Address {
                street: text(&a.street_address),
                city: text(&a.city),
                postal_code: text(&a.postal_code),
                region: text(&a.region),
                country: text(&a.country),
                kind: kind_of(&a.kind),
                primary: a.primary(),
            })
            .filter(|a| !(a.street.is_empty() && a.city.is_empty() && a.postal_code.is_empty() && a.region.is_empty() && a.country.is_empty()))
            .collect(),
        organization: model::Organization {
            name: org.map(|o| text(&o.name)).unwrap_or_default(),
            title: org.map(|o| text(&o.title)).unwrap_or_default(),
            department: org.map(|o| text(&o.department)).unwrap_or_default(),
        },
        note: person.biographies.first().map(|b| b.value.clone()).unwrap_or_default(),
        birthday: person.birthdays.first().map(birthday_text).unwrap_or_default(),
        urls: person
            .urls
            .iter()
            .filter(|u| !u.value.trim().is_empty())
            .map(|u| model::Url { value: u.value.trim().to_string(), kind: kind_of(&u.kind) })
            .collect(),
        custom: person
            .user_defined
            .iter()
            .filter(|kv| !kv.key.trim().is_empty())
            .map(|kv| (kv.key.trim().to_string(), kv.value.clone()))
            .collect(),
        labels: {
            let mut labels: Vec<String> = person
                .memberships
                .iter()
                .filter_map(|m| m.contact_group_membership.as_ref())
                .filter_map(|g| groups.name_of(&g.contact_group_resource_name))
                .map(str::to_string)
                .collect();
            labels.sort();
            labels.dedup();
            labels
        },
        photo: person.photos.iter().find(|ph| !ph.default).map(|ph| ph.url.clone()).unwrap_or_default(),
        do_not_contact: false,
        owner: String::new(),
        deleted: person.is_deleted(),
    };
    RemoteRecord {
        id: person.resource_name.clone().unwrap_or_default(),
        etag: person.etag.clone().unwrap_or_default(),
        updated_at: person.update_time().unwrap_or("").to_string(),
        deleted: person.is_deleted(),
        contact,
        crm_id: person.client_value(CRM_ID_KEY).and_then(non_empty),
        previous_ids: person.previous_resource_names().to_vec(),
    }
}

/// Puts the primary element first (Google takes the first value as primary on write).
fn primary_first<T: Clone>(items: &[T], primary: impl Fn(&T) -> bool) -> Vec<T> {
    let mut out: Vec<T> = items.iter().filter(|i| primary(i)).take(1).cloned().collect();
    let mut seen_primary = !out.is_empty();
    for item in items {
        if primary(item) && seen_primary {
            seen_primary = false;
            continue;
        }
        out.push(item.clone());
    }
    out
}

/// Builds the person to write for a canonical contact: `base` is the person as Google last
/// sent it (None on create), so memberships of system groups and `clientData` of other
/// apps survive; the CRM id is set under [`CRM_ID_KEY`].
pub fn to_person(contact: &Contact, crm_id: Option<&str>, base: Option<&Person>, groups: &GroupDirectory) -> Person {
    let mut person = base.cloned().unwrap_or_default();
    let n = &contact.name;
    person.names = if [&n.prefix, &n.given, &n.middle, &n.family, &n.suffix].iter().all(|s| s.trim().is_empty()) {
        Vec::new()
    } else {
        vec![p::Name {
            given_name: non_empty(&n.given),
            family_name: non_empty(&n.family),
            middle_name: non_empty(&n.middle),
            honorific_prefix: non_empty(&n.prefix),
            honorific_suffix: non_empty(&n.suffix),
            display_name: None,
            metadata: None,
        }]
    };
    person.email_addresses = primary_first(&contact.emails, |e| e.primary)
        .iter()
        .map(|e| EmailAddress { value: e.value.clone(), kind: google_kind(&e.kind), ..Default::default() })
        .collect();
    person.phone_numbers = primary_first(&contact.phones, |ph| ph.primary)
        .iter()
        .map(|ph| PhoneNumber { value: ph.value.clone(), kind: google_kind(&ph.kind), ..Default::default() })
        .collect();
    person.addresses = primary_first(&contact.addresses, |a| a.primary)
        .iter()
        .map(|a| p::Address {
            street_address: non_empty(&a.street),
            city: non_empty(&a.city),
            postal_code: non_empty(&a.postal_code),
            region: non_empty(&a.region),
            country: non_empty(&a.country),
            kind: google_kind(&a.kind),
            ..Default::default()
        })
        .collect();
    let o = &contact.organization;
    person.organizations = if [&o.name, &o.title, &o.department].iter().all(|s| s.trim().is_empty()) {
        Vec::new()
    } else {
        vec![p::Organization {
            name: non_empty(&o.name),
            title: non_empty(&o.title),
            department: non_empty(&o.department),
            ..Default::default()
        }]
    };
    person.biographies = if contact.note.trim().is_empty() {
        Vec::new()
    } else {
        vec![Biography { value: contact.note.clone(), content_type: Some("TEXT_PLAIN".into()), metadata: None }]
    };
    person.birthdays = birthday_date(&contact.birthday)
        .map(|date| vec![Birthday { date: Some(date), text: None, metadata: None }])
        .unwrap_or_default();
    person.urls = contact
        .urls
        .iter()
        .map(|u| p::Url { value: u.value.clone(), kind: google_kind(&u.kind), ..Default::default() })
        .collect();
    person.user_defined = contact
        .custom
        .iter()
        .map(|(k, v)| KeyValue { key: k.clone(), value: v.clone(), metadata: None })
        .collect();
    // Memberships: keep those we do not map (system groups, unknown groups), replace
    // those of known user groups by the contact's labels.
    let mut memberships: Vec<Membership> = person
        .memberships
        .iter()
        .filter(|m| {
            m.contact_group_membership
                .as_ref()
                .is_some_and(|g| groups.name_of(&g.contact_group_resource_name).is_none())
        })
        .cloned()
        .collect();
    for label in &contact.labels {
        if let Some(resource) = groups.resource_of(label) {
            memberships.push(Membership {
                contact_group_membership: Some(GroupMembership { contact_group_resource_name: resource.to_string() }),
                metadata: None,
            });
        }
    }
    if base.is_none() && !memberships.is_empty() {
        // Ours go to My Contacts as well (a label alone would hide them from the list).
        memberships.insert(
            0,
            Membership {
                contact_group_membership: Some(GroupMembership {
                    contact_group_resource_name: "contactGroups/myContacts".into(),
                }),
                metadata: None,
            },
        );
    }
    if memberships.is_empty() && base.is_some() {
        // A contact must keep one membership; myContacts is where Google puts ours.
        memberships.push(Membership {
            contact_group_membership: Some(GroupMembership {
                contact_group_resource_name: "contactGroups/myContacts".into(),
            }),
            metadata: None,
        });
    }
    person.memberships = memberships;
    person.client_data.retain(|kv| kv.key != CRM_ID_KEY);
    if let Some(id) = crm_id.filter(|id| !id.is_empty()) {
        person.client_data.push(KeyValue { key: CRM_ID_KEY.into(), value: id.to_string(), metadata: None });
    }
    person
}

/// The canonical fields Google cannot hold (never read as cleared there). Labels are
/// supported: the runner loads (and creates) the mapped contact groups before it lists
/// contacts, so a membership never reads as absent for want of the group directory.
pub const UNSUPPORTED_FIELDS: &[&str] = &["doNotContact", "owner"];

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Person {
        serde_json::from_str(
            r#"{"resourceName":"people/c1","etag":"%E1",
            "metadata":{"sources":[{"type":"CONTACT","id":"1","updateTime":"2025-01-01T10:00:00Z"}]},
            "names":[{"givenName":"Ada","familyName":"Lovelace","displayName":"Ada Lovelace","metadata":{"primary":true}}],
            "emailAddresses":[{"value":"a@x.org","type":"work","formattedType":"Work"},
                              {"value":"ada@home.org","type":"home","metadata":{"primary":true}}],
            "phoneNumbers":[{"value":"06 12 34 56 78","canonicalForm":"+33612345678","type":"mobile","formattedType":"Mobile"}],
            "organizations":[{"name":"Analytical","title":"Engineer"}],
            "biographies":[{"value":"Note","contentType":"TEXT_PLAIN"}],
            "birthdays":[{"date":{"month":12,"day":10}}],
            "memberships":[{"contactGroupMembership":{"contactGroupResourceName":"contactGroups/myContacts"}},
                           {"contactGroupMembership":{"contactGroupResourceName":"contactGroups/abc"}}],
            "clientData":[{"key":"contactSync.crmId","value":"crm-1"},{"key":"other.app","value":"keep"}],
            "userDefined":[{"key":"Badge","value":"42"}]}"#,
        )
        .unwrap()
    }

    fn groups() -> GroupDirectory {
        let mut g = GroupDirectory::default();
        g.insert("contactGroups/abc", "VIP");
        g.insert("contactGroups/def", "Press");
        g
    }

    #[test]
    fn reading_ignores_server_decoration() {
        let a = to_record(&sample(), &groups());
        let mut decorated = sample();
        decorated.phone_numbers[0].formatted_type = Some("Portable".into());
        decorated.names[0].display_name = Some("Something else".into());
        decorated.email_addresses[0].formatted_type = None;
        assert_eq!(to_record(&decorated, &groups()).contact, a.contact);
    }

    #[test]
    fn reading_maps_every_field() {
        let r = to_record(&sample(), &groups());
        assert_eq!(r.id, "people/c1");
        assert_eq!(r.crm_id.as_deref(), Some("crm-1"));
        assert_eq!(r.updated_at, "2025-01-01T10:00:00Z");
        assert_eq!(r.contact.name.family, "Lovelace");
        assert_eq!(r.contact.emails.len(), 2);
        assert!(r.contact.emails[1].primary);
        assert_eq!(r.contact.phones[0].kind, ValueKind::Mobile);
        assert_eq!(r.contact.birthday, "--12-10");
        assert_eq!(r.contact.labels, vec!["VIP".to_string()]);
        assert_eq!(r.contact.custom.get("Badge").map(String::as_str), Some("42"));
        assert_eq!(r.contact.organization.title, "Engineer");
    }

    #[test]
    fn round_trip_through_a_write_is_stable() {
        let r = to_record(&sample(), &groups());
        let written = to_person(&r.contact, Some("crm-1"), Some(&sample()), &groups());
        let mut echoed = written.clone();
        echoed.resource_name = Some("people/c1".into());
        assert_eq!(to_record(&echoed, &groups()).contact.emails.len(), 2);
        let back = to_record(&written, &groups()).contact;
        let mut expected = r.contact.clone();
        // Written primary-first: same set, primary moved to the front.
        expected.emails.rotate_right(1);
        // Google sets the primary mark itself; our write carries none.
        for e in &mut expected.emails {
            e.primary = false;
        }
        assert_eq!(back.emails, expected.emails);
        assert_eq!(back.name, expected.name);
        assert_eq!(back.birthday, expected.birthday);
        assert_eq!(back.labels, expected.labels);
    }

    #[test]
    fn writing_keeps_system_groups_and_other_apps_client_data_and_replaces_labels() {
        let mut c = to_record(&sample(), &groups()).contact;
        c.labels = vec!["Press".into()];
        let p = to_person(&c, Some("crm-9"), Some(&sample()), &groups());
        let names: Vec<&str> = p
            .memberships
            .iter()
            .filter_map(|m| m.contact_group_membership.as_ref())
            .map(|g| g.contact_group_resource_name.as_str())
            .collect();
        assert_eq!(names, vec!["contactGroups/myContacts", "contactGroups/def"]);
        assert_eq!(p.client_value(CRM_ID_KEY), Some("crm-9"));
        assert_eq!(p.client_value("other.app"), Some("keep"));
        assert_eq!(p.client_data.iter().filter(|kv| kv.key == CRM_ID_KEY).count(), 1);
    }

    #[test]
    fn singletons_never_get_more_than_one_value() {
        let c = Contact {
            name: model::Name { given: "A".into(), ..Default::default() },
            note: "n".into(),
            birthday: "1990-02-03".into(),
            ..Default::default()
        };
        let p = to_person(&c, None, None, &GroupDirectory::default());
        assert_eq!((p.names.len(), p.biographies.len(), p.birthdays.len()), (1, 1, 1));
        assert_eq!(p.birthdays[0].date, Some(Date { year: Some(1990), month: Some(2), day: Some(3) }));
        let empty = to_person(&Contact::default(), None, None, &GroupDirectory::default());
        assert!(empty.names.is_empty() && empty.biographies.is_empty() && empty.birthdays.is_empty());
    }

    #[test]
    fn bad_birthdays_are_dropped_not_panicking() {
        for t in ["", "1990", "1990-13-01", "--00-10", "x-y-z", "--1-"] {
            assert!(birthday_date(t).is_none(), "{t}");
        }
    }

    #[test]
    fn tombstones_read_as_deleted_records() {
        let t: Person = serde_json::from_str(r#"{"resourceName":"people/c2","etag":"e","metadata":{"deleted":true}}"#).unwrap();
        let r = to_record(&t, &GroupDirectory::default());
        assert!(r.deleted && r.contact.deleted);
        assert_eq!(r.id, "people/c2");
    }
}
