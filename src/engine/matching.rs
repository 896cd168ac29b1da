//! First-run matching of unlinked contacts by normalized e-mail (any of a contact's
//! addresses), then E.164 phone. A match is made only when it is one-to-one on both
//! sides; otherwise the ambiguity is reported and neither side is linked or created
//! (scenario 11: never guess). The CRM id carried on the remote copy and the link table
//! come first and are handled by the session.

use super::report::AmbiguityRecord;
use std::collections::{BTreeMap, BTreeSet};

/// An unlinked contact's matching keys.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Candidate {
    /// Its id on its side.
    pub id: String,
    /// Normalized e-mails.
    pub emails: Vec<String>,
    /// E.164 phones (unparseable numbers are not keys).
    pub phones: Vec<String>,
}

/// How a pair was linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LinkedBy {
    /// A shared e-mail.
    Email,
    /// A shared phone.
    Phone,
}

/// The outcome of matching.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matches {
    /// (CRM id, remote id, how), sorted by CRM id.
    pub pairs: Vec<(String, String, LinkedBy)>,
    /// Refused matches.
    pub ambiguities: Vec<AmbiguityRecord>,
    /// CRM ids involved in an ambiguity: neither linked nor exported this run.
    pub ambiguous_crm: BTreeSet<String>,
    /// Remote ids involved in an ambiguity: neither linked nor imported this run.
    pub ambiguous_remote: BTreeSet<String>,
}

/// Matches by e-mail, then by phone among what is left.
///
/// ```
/// use contact_sync::engine::matching::{match_unlinked, Candidate};
/// let c = vec![Candidate { id: "c1".into(), emails: vec!["a@x.fr".into()], phones: vec![] }];
/// let r = vec![Candidate { id: "r1".into(), emails: vec!["a@x.fr".into()], phones: vec![] }];
/// assert_eq!(match_unlinked(&c, &r).pairs.len(), 1);
/// ```
pub fn match_unlinked(crm: &[Candidate], remote: &[Candidate]) -> Matches {
    let mut m = Matches::default();
    let mut crm_left: Vec<&Candidate> = crm.iter().collect();
    let mut remote_left: Vec<&Candidate> = remote.iter().collect();
    for stage in [LinkedBy::Email, LinkedBy::Phone] {
        let keys = |c: &Candidate| -> Vec<String> {
            match stage {
                LinkedBy::Email => c.emails.clone(),
                LinkedBy::Phone => c.phones.iter().filter(|p| p.starts_with('+')).cloned().collect(),
            }
        };
        let mut by_key: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
        for c in &crm_left {
            for k in keys(c) {
                by_key.entry(k).or_default().0.insert(c.id.clone());
            }
        }
        for r in &remote_left {
            for k in keys(r) {
                by_key.entry(k).or_default().1.insert(r.id.clone());
            }
        }
        // Connected groups through shared keys: a group with exactly one contact on each
        // side links; anything larger is ambiguous.
        let crm_keys: BTreeMap<&str, Vec<String>> = crm_left.iter().map(|c| (c.id.as_str(), keys(c))).collect();
        let remote_keys: BTreeMap<&str, Vec<String>> = remote_left.iter().map(|r| (r.id.as_str(), keys(r))).collect();
        let mut done_c = BTreeSet::new();
        let mut done_r = BTreeSet::new();
        for (key, (cs, rs)) in &by_key {
            if cs.is_empty() || rs.is_empty() {
                continue;
            }
            if cs.iter().any(|c| done_c.contains(c)) || rs.iter().any(|r| done_r.contains(r)) {
                continue;
            }
            // Widen to everything reachable through the other keys of these contacts.
            let mut group_c: BTreeSet<String> = cs.clone();
            let mut group_r: BTreeSet<String> = rs.clone();
            let mut group_keys: BTreeSet<String> = BTreeSet::from([key.clone()]);
            loop {
                let before = (group_c.len(), group_r.len());
                for c in group_c.clone() {
                    for k in crm_keys.get(c.as_str()).into_iter().flatten() {
                        group_keys.insert(k.clone());
                        if let Some((_, rr)) = by_key.get(k) {
                            group_r.extend(rr.iter().cloned());
                        }
                    }
                }
                for r in group_r.clone() {
                    for k in remote_keys.get(r.as_str()).into_iter().flatten() {
                        group_keys.insert(k.clone());
                        if let Some((cc, _)) = by_key.get(k) {
                            group_c.extend(cc.iter().cloned());
                        }
                    }
                }
                if (group_c.len(), group_r.len()) == before {
                    break;
                }
            }
            done_c.extend(group_c.iter().cloned());
            done_r.extend(group_r.iter().cloned());
            if group_c.len() == 1 && group_r.len() == 1 {
                if let (Some(c), Some(r)) = (group_c.iter().next(), group_r.iter().next()) {
                    m.pairs.push((c.clone(), r.clone(), stage));
                }
            } else {
                let shared: Vec<String> = group_keys.iter().filter(|k| by_key.get(*k).is_some_and(|(a, b)| a.len() + b.len() > 1)).cloned().collect();
                m.ambiguities.push(AmbiguityRecord {
                    key: shared.join(", "),
                    crm_ids: group_c.iter().cloned().collect(),
                    remote_ids: group_r.iter().cloned().collect(),
                    reason: format!(
                        "{} CRM contact(s) and {} address-book contact(s) share this {}; link them by hand or make the {} unique",
                        group_c.len(),
                        group_r.len(),
                        if stage == LinkedBy::Email { "e-mail" } else { "phone number" },
                        if stage == LinkedBy::Email { "addresses" } else { "numbers" }
                    ),
                });
                m.ambiguous_crm.extend(group_c);
                m.ambiguous_remote.extend(group_r);
            }
        }
        crm_left.retain(|c| !done_c.contains(&c.id));
        remote_left.retain(|r| !done_r.contains(&r.id));
    }
    m.pairs.sort();
    m
}
