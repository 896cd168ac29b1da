//! First-run matching of unlinked contacts by normalized e-mail (any of a contact's
//! addresses), then E.164 phone. A match is made only when it is one-to-one on both
//! sides; otherwise the ambiguity is reported and neither side is linked or created
//! (scenario 11: never guess). The CRM id carried on the remote copy and the link table
//! come first and are handled by the session.

use super::report::AmbiguityRecord;
use std::collections::{BTreeMap, BTreeSet};

/// An unlinked contact's matching keys, borrowed from the values read for it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Candidate<'a> {
    /// Its id on its side.
    pub id: &'a str,
    /// Normalized e-mails.
    pub emails: Vec<&'a str>,
    /// E.164 phones (unparseable numbers are not keys).
    pub phones: Vec<&'a str>,
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
    /// (CRM candidate, remote candidate, how): positions in the slices given, in the
    /// CRM candidates' order.
    pub pairs: Vec<(usize, usize, LinkedBy)>,
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
/// use contact_sync::engine::matching::{match_unlinked, Candidate, LinkedBy};
/// let c = vec![Candidate { id: "c1", emails: vec!["a@x.fr"], phones: vec![] }];
/// let r = vec![Candidate { id: "r0", emails: vec![], phones: vec![] }, Candidate { id: "r1", emails: vec!["a@x.fr"], phones: vec![] }];
/// assert_eq!(match_unlinked(&c, &r).pairs, vec![(0, 1, LinkedBy::Email)]);
/// ```
pub fn match_unlinked(crm: &[Candidate], remote: &[Candidate]) -> Matches {
    // Contacts are numbered by their position (no id is copied while matching); groups
    // are turned back into ids, sorted, at the end.
    let mut m = Matches::default();
    // Positions in `crm` and `remote` of the contacts not matched yet.
    let mut crm_left: Vec<usize> = (0..crm.len()).collect();
    let mut remote_left: Vec<usize> = (0..remote.len()).collect();
    for stage in [LinkedBy::Email, LinkedBy::Phone] {
        fn keys<'a>(c: &Candidate<'a>, stage: LinkedBy) -> Vec<&'a str> {
            match stage {
                LinkedBy::Email => c.emails.clone(),
                LinkedBy::Phone => c.phones.iter().copied().filter(|p| p.starts_with('+')).collect(),
            }
        }
        let crm_keys: Vec<Vec<&str>> = crm_left.iter().map(|c| keys(&crm[*c], stage)).collect();
        let remote_keys: Vec<Vec<&str>> = remote_left.iter().map(|r| keys(&remote[*r], stage)).collect();
        // Contacts holding each key, on each side: ascending and without repeats
        // (contacts are visited in order, so a repeat can only be the last one pushed).
        fn add(holders: &mut Vec<usize>, n: usize) {
            if holders.last() != Some(&n) {
                holders.push(n);
            }
        }
        let mut by_key: BTreeMap<&str, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
        for (n, ks) in crm_keys.iter().enumerate() {
            for k in ks {
                add(&mut by_key.entry(k).or_default().0, n);
            }
        }
        for (n, ks) in remote_keys.iter().enumerate() {
            for k in ks {
                add(&mut by_key.entry(k).or_default().1, n);
            }
        }
        // Connected groups through shared keys: a group with exactly one contact on each
        // side links; anything larger is ambiguous.
        let mut done_c = vec![false; crm_left.len()];
        let mut done_r = vec![false; remote_left.len()];
        for (key, (cs, rs)) in &by_key {
            if cs.is_empty() || rs.is_empty() {
                continue;
            }
            if cs.iter().any(|c| done_c[*c]) || rs.iter().any(|r| done_r[*r]) {
                continue;
            }
            // The common case: one contact on each side, whose keys lead to no one else.
            if let ([c], [r]) = (cs.as_slice(), rs.as_slice()) {
                let only_pair = |(cc, rr): &(Vec<usize>, Vec<usize>)| cc.iter().all(|x| x == c) && rr.iter().all(|x| x == r);
                let closed = |ks: &Vec<&str>| ks.iter().all(|k| by_key.get(k).is_some_and(only_pair));
                if closed(&crm_keys[*c]) && closed(&remote_keys[*r]) {
                    done_c[*c] = true;
                    done_r[*r] = true;
                    m.pairs.push((crm_left[*c], remote_left[*r], stage));
                    continue;
                }
            }
            // Widen to everything reachable through the other keys of these contacts.
            let mut group_c: BTreeSet<usize> = cs.iter().copied().collect();
            let mut group_r: BTreeSet<usize> = rs.iter().copied().collect();
            let mut group_keys: BTreeSet<&str> = BTreeSet::from([*key]);
            loop {
                let before = (group_c.len(), group_r.len());
                for c in group_c.clone() {
                    for k in &crm_keys[c] {
                        group_keys.insert(k);
                        if let Some((_, rr)) = by_key.get(k) {
                            group_r.extend(rr.iter().copied());
                        }
                    }
                }
                for r in group_r.clone() {
                    for k in &remote_keys[r] {
                        group_keys.insert(k);
                        if let Some((cc, _)) = by_key.get(k) {
                            group_c.extend(cc.iter().copied());
                        }
                    }
                }
                if (group_c.len(), group_r.len()) == before {
                    break;
                }
            }
            for c in &group_c {
                done_c[*c] = true;
            }
            for r in &group_r {
                done_r[*r] = true;
            }
            if let (1, 1, Some(c), Some(r)) = (group_c.len(), group_r.len(), group_c.first(), group_r.first()) {
                m.pairs.push((crm_left[*c], remote_left[*r], stage));
            } else {
                let ids_c: BTreeSet<String> = group_c.iter().map(|c| crm[crm_left[*c]].id.to_string()).collect();
                let ids_r: BTreeSet<String> = group_r.iter().map(|r| remote[remote_left[*r]].id.to_string()).collect();
                let shared: Vec<&str> = group_keys.iter().filter(|k| by_key.get(*k).is_some_and(|(a, b)| a.len() + b.len() > 1)).copied().collect();
                m.ambiguities.push(AmbiguityRecord {
                    key: shared.join(", "),
                    crm_ids: ids_c.iter().cloned().collect(),
                    remote_ids: ids_r.iter().cloned().collect(),
                    reason: format!(
                        "{} CRM contact(s) and {} address-book contact(s) share this {}; link them by hand or make the {} unique",
                        ids_c.len(),
                        ids_r.len(),
                        if stage == LinkedBy::Email { "e-mail" } else { "phone number" },
                        if stage == LinkedBy::Email { "addresses" } else { "numbers" }
                    ),
                });
                m.ambiguous_crm.extend(ids_c);
                m.ambiguous_remote.extend(ids_r);
            }
        }
        let mut n = 0;
        crm_left.retain(|_| {
            n += 1;
            !done_c[n - 1]
        });
        let mut n = 0;
        remote_left.retain(|_| {
            n += 1;
            !done_r[n - 1]
        });
    }
    m.pairs.sort();
    m
}
