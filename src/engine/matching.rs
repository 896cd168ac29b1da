//! First-run matching of unlinked contacts by normalized e-mail (any of a contact's
//! addresses), then E.164 phone. A match is made only when it is one-to-one on both
//! sides; otherwise the contacts form an ambiguous group (scenario 11: never guess). A
//! one-to-one match on a phone links only when the names agree ([`super::names`]);
//! otherwise it is a possible match (invariant 19, scenario 14). Groups are held until
//! the operator decides (the session and [`super::held`]). The CRM id carried on the
//! remote copy and the link table come first and are handled by the session.

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

/// Why a group of contacts was not linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    /// More than one candidate on a side.
    Ambiguous,
    /// One contact on each side sharing a phone, whose names do not agree.
    Possible,
}

/// Contacts matching could not link, as positions in the slices given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Why.
    pub kind: GroupKind,
    /// The key kind that grouped them.
    pub by: LinkedBy,
    /// CRM candidates, ascending.
    pub crm: Vec<usize>,
    /// Remote candidates, ascending.
    pub remote: Vec<usize>,
    /// The keys held by more than one of them, sorted.
    pub keys: Vec<String>,
}

/// The outcome of matching.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matches {
    /// (CRM candidate, remote candidate, how): positions in the slices given, in the
    /// CRM candidates' order.
    pub pairs: Vec<(usize, usize, LinkedBy)>,
    /// Refused or proposed matches.
    pub groups: Vec<Group>,
}

/// Matches by e-mail, then by phone among what is left. `names_agree(crm, remote)` (two
/// positions) is asked only of a one-to-one phone match.
///
/// ```
/// use contact_sync::engine::matching::{match_unlinked, Candidate, GroupKind, LinkedBy};
/// let c = vec![Candidate { id: "c1", emails: vec!["a@x.fr"], phones: vec!["+33612345678"] }];
/// let r = vec![Candidate { id: "r0", emails: vec![], phones: vec![] }, Candidate { id: "r1", emails: vec!["a@x.fr"], phones: vec![] }];
/// assert_eq!(match_unlinked(&c, &r, |_, _| true).pairs, vec![(0, 1, LinkedBy::Email)]);
/// let strangers = vec![Candidate { id: "r2", emails: vec![], phones: vec!["+33612345678"] }];
/// assert_eq!(match_unlinked(&c, &strangers, |_, _| false).groups[0].kind, GroupKind::Possible);
/// ```
pub fn match_unlinked(crm: &[Candidate], remote: &[Candidate], names_agree: impl Fn(usize, usize) -> bool) -> Matches {
    // Contacts are numbered by their position (no id is copied while matching).
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
        // A one-to-one match: linked, unless it is by phone and the names disagree.
        let one_to_one = |m: &mut Matches, c: usize, r: usize, key: &str| {
            let (c, r) = (crm_left[c], remote_left[r]);
            if stage == LinkedBy::Email || names_agree(c, r) {
                m.pairs.push((c, r, stage));
            } else {
                m.groups.push(Group { kind: GroupKind::Possible, by: stage, crm: vec![c], remote: vec![r], keys: vec![key.to_string()] });
            }
        };
        // Connected groups through shared keys: a group with exactly one contact on each
        // side matches; anything larger is ambiguous.
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
                    one_to_one(&mut m, *c, *r, key);
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
            let shared: Vec<String> = group_keys.iter().filter(|k| by_key.get(*k).is_some_and(|(a, b)| a.len() + b.len() > 1)).map(|k| k.to_string()).collect();
            match (group_c.first(), group_r.first()) {
                (Some(c), Some(r)) if group_c.len() == 1 && group_r.len() == 1 => one_to_one(&mut m, *c, *r, key),
                _ => m.groups.push(Group {
                    kind: GroupKind::Ambiguous,
                    by: stage,
                    crm: group_c.iter().map(|c| crm_left[*c]).collect(),
                    remote: group_r.iter().map(|r| remote_left[*r]).collect(),
                    keys: shared,
                }),
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
