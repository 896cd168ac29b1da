//! Matches held for the operator (invariants 18 and 19): how a run's matching carries the
//! held groups forward, and how the operator's decisions apply to them. Pure functions
//! over ids; the session gives them what it read and applies what they return.
//!
//! Each run, every held contact still unlinked and not deleted takes part in matching with
//! the others, on its current e-mails and phones. Then:
//! - a held contact matching one-to-one with another held contact (for a phone, with
//!   names that agree) is linked: the ambiguity dissolved by itself (the other candidate
//!   was deleted, or the addresses were made unique);
//! - a held contact matching one-to-one with a contact that was not held is not linked:
//!   the newcomer joins its group;
//! - groups that now share contacts become one, and contacts newly found ambiguous join;
//! - a held contact that matches nothing stays held where it was: an edit, even one that
//!   removes the shared key, never releases a contact (the operator decides; creating it
//!   on the other side could duplicate a person). So does one whose group has no one
//!   left on the other side (after a link decision or a deletion): it waits to be created
//!   or ignored.
//!   A deleted contact leaves its group; a group with no one left ends.

use super::matching::GroupKind;
use super::report::Side;
use super::state::HeldMatch;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// An operator's decision about held contacts (`resolveMatch`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "camelCase", deny_unknown_fields)]
pub enum Decision {
    /// Link these two (link to a candidate; confirm a possible match).
    Link {
        /// The CRM contact.
        #[serde(rename = "crmId")]
        crm_id: String,
        /// The remote contact.
        #[serde(rename = "remoteId")]
        remote_id: String,
    },
    /// This contact is none of its candidates: create it on the other side.
    CreateNew {
        /// Its side.
        side: Side,
        /// Its id there.
        id: String,
    },
    /// A possible match refused: two people, each created on the other side.
    Refuse {
        /// The CRM contact.
        #[serde(rename = "crmId")]
        crm_id: String,
        /// The remote contact.
        #[serde(rename = "remoteId")]
        remote_id: String,
    },
    /// Never sync this contact with this spoke (until un-ignored).
    Ignore {
        /// Its side.
        side: Side,
        /// Its id there.
        id: String,
    },
    /// Sync an ignored contact again: it is matched as any unlinked contact.
    Unignore {
        /// Its side.
        side: Side,
        /// Its id there.
        id: String,
    },
}

impl Decision {
    /// Whether the ids are usable (not empty).
    pub fn is_well_formed(&self) -> bool {
        match self {
            Decision::Link { crm_id, remote_id } | Decision::Refuse { crm_id, remote_id } => !crm_id.is_empty() && !remote_id.is_empty(),
            Decision::CreateNew { id, .. } | Decision::Ignore { id, .. } | Decision::Unignore { id, .. } => !id.is_empty(),
        }
    }
}

type Node = (Side, String);

/// What [`regroup`] decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Regrouped {
    /// Positions in the pairs given of those to link: matched one-to-one with neither held,
    /// or with both held.
    pub links: Vec<usize>,
    /// The held groups from now on, sorted.
    pub held: Vec<HeldMatch>,
}

/// Carries the `stored` held groups through this run's matching: its one-to-one `pairs`
/// (CRM id, remote id) and the groups it `found` (see the module documentation).
/// `stays(side, id)` says whether a held contact is still there and unlinked.
pub fn regroup(stored: &[HeldMatch], stays: impl Fn(Side, &str) -> bool, pairs: &[(&str, &str)], found: Vec<HeldMatch>) -> Regrouped {
    let mut sets = Sets::default();
    // Each held contact's group as stored, by side: its kind and key go on with it.
    let mut was: [BTreeMap<String, (GroupKind, String)>; 2] = Default::default();
    for g in stored {
        let members: Vec<Node> = members(g).filter(|(side, id)| stays(*side, id)).collect();
        for (side, id) in &members {
            was[slot(*side)].insert(id.clone(), (g.kind, g.key.clone()));
        }
        sets.join(&members);
    }
    let held = |side: Side, id: &str| was[slot(side)].contains_key(id);
    let mut out = Regrouped::default();
    let mut linked: BTreeSet<Node> = BTreeSet::new();
    for (n, (c, r)) in pairs.iter().enumerate() {
        match (held(Side::Crm, c), held(Side::Remote, r)) {
            (false, false) => out.links.push(n),
            (true, true) => {
                linked.insert((Side::Crm, c.to_string()));
                linked.insert((Side::Remote, r.to_string()));
                out.links.push(n);
            }
            _ => sets.join(&[(Side::Crm, c.to_string()), (Side::Remote, r.to_string())]),
        }
    }
    let mut found_of: BTreeMap<Node, (GroupKind, String)> = BTreeMap::new();
    for g in &found {
        let members: Vec<Node> = members(g).collect();
        for m in &members {
            found_of.insert(m.clone(), (g.kind, g.key.clone()));
        }
        sets.join(&members);
    }
    let mut groups: BTreeMap<usize, HeldMatch> = BTreeMap::new();
    for node in sets.nodes() {
        if linked.contains(&node) {
            continue;
        }
        let root = sets.root_of(&node);
        let g = groups.entry(root).or_insert_with(|| HeldMatch { kind: GroupKind::Possible, crm_ids: vec![], remote_ids: vec![], key: String::new() });
        // A group's kind and key: what was found this run, else what was stored; any
        // ambiguity makes the whole group ambiguous.
        let found_here = found_of.get(&node);
        if let Some((kind, key)) = found_here.or_else(|| was[slot(node.0)].get(&node.1)) {
            if *kind == GroupKind::Ambiguous {
                g.kind = GroupKind::Ambiguous;
            }
            if g.key.is_empty() || found_here.is_some() {
                g.key = key.clone();
            }
        }
        match node.0 {
            Side::Crm => g.crm_ids.push(node.1),
            Side::Remote => g.remote_ids.push(node.1),
        }
    }
    out.held = groups.into_values().map(tidy).collect();
    out.held.sort();
    out
}

fn slot(side: Side) -> usize {
    match side {
        Side::Crm => 0,
        Side::Remote => 1,
    }
}

/// Sorted ids; more than one on a side is an ambiguity whatever it came from.
fn tidy(mut g: HeldMatch) -> HeldMatch {
    g.crm_ids.sort();
    g.remote_ids.sort();
    if g.crm_ids.len() > 1 || g.remote_ids.len() > 1 {
        g.kind = GroupKind::Ambiguous;
    }
    g
}

fn members(g: &HeldMatch) -> impl Iterator<Item = Node> + '_ {
    g.crm_ids.iter().map(|c| (Side::Crm, c.clone())).chain(g.remote_ids.iter().map(|r| (Side::Remote, r.clone())))
}

/// What the operator's decisions do this run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Pairs to link.
    pub links: Vec<(String, String)>,
    /// Contacts to create on the other side (they match none of their candidates).
    pub create: Vec<(Side, String)>,
    /// Contacts never to sync with this spoke.
    pub ignore: Vec<(Side, String)>,
    /// Decisions that name no held contact (decided already, or from an old preview).
    pub stale: Vec<Decision>,
}

/// Applies `decisions` to the `held` groups (taking the contacts decided out of them).
/// [`Decision::Unignore`] is not about held contacts: the session applies it itself.
pub fn apply(held: &mut Vec<HeldMatch>, decisions: &[Decision]) -> Applied {
    let mut out = Applied::default();
    for d in decisions {
        let taken = match d {
            Decision::Link { crm_id, remote_id } | Decision::Refuse { crm_id, remote_id } => take(held, &[(Side::Crm, crm_id), (Side::Remote, remote_id)]),
            Decision::CreateNew { side, id } | Decision::Ignore { side, id } => take(held, &[(*side, id)]),
            Decision::Unignore { .. } => continue,
        };
        if !taken {
            out.stale.push(d.clone());
            continue;
        }
        match d {
            Decision::Link { crm_id, remote_id } => out.links.push((crm_id.clone(), remote_id.clone())),
            Decision::Refuse { crm_id, remote_id } => out.create.extend([(Side::Crm, crm_id.clone()), (Side::Remote, remote_id.clone())]),
            Decision::CreateNew { side, id } => out.create.push((*side, id.clone())),
            Decision::Ignore { side, id } => out.ignore.push((*side, id.clone())),
            Decision::Unignore { .. } => {}
        }
    }
    held.retain(|g| !g.crm_ids.is_empty() || !g.remote_ids.is_empty());
    out
}

/// Takes the contacts out of the one group holding them all; false when none does.
fn take(held: &mut [HeldMatch], contacts: &[(Side, &String)]) -> bool {
    let Some(g) = held.iter_mut().find(|g| contacts.iter().all(|(side, id)| g.holds(*side, id))) else { return false };
    for (side, id) in contacts {
        match side {
            Side::Crm => g.crm_ids.retain(|x| x != *id),
            Side::Remote => g.remote_ids.retain(|x| x != *id),
        }
    }
    true
}

/// Disjoint sets of contacts.
#[derive(Default)]
struct Sets {
    index: BTreeMap<Node, usize>,
    parent: Vec<usize>,
}

impl Sets {
    fn add(&mut self, n: &Node) -> usize {
        if let Some(i) = self.index.get(n) {
            return *i;
        }
        let i = self.parent.len();
        self.parent.push(i);
        self.index.insert(n.clone(), i);
        i
    }

    fn find(&mut self, mut i: usize) -> usize {
        while let Some(&p) = self.parent.get(i) {
            if p == i {
                break;
            }
            // Path halving keeps the trees flat.
            let grand = self.parent.get(p).copied().unwrap_or(p);
            if let Some(slot) = self.parent.get_mut(i) {
                *slot = grand;
            }
            i = p;
        }
        i
    }

    /// Puts all of `nodes` in one set.
    fn join(&mut self, nodes: &[Node]) {
        let mut first: Option<usize> = None;
        for n in nodes {
            let i = self.add(n);
            let root = self.find(i);
            match first {
                None => first = Some(root),
                Some(f) if f != root => {
                    if let Some(slot) = self.parent.get_mut(root) {
                        *slot = f;
                    }
                }
                Some(_) => {}
            }
        }
    }

    fn nodes(&self) -> Vec<Node> {
        self.index.keys().cloned().collect()
    }

    fn root_of(&mut self, n: &Node) -> usize {
        let i = self.index.get(n).copied().unwrap_or(usize::MAX);
        self.find(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(kind: GroupKind, crm: &[&str], remote: &[&str]) -> HeldMatch {
        HeldMatch { kind, crm_ids: crm.iter().map(|s| s.to_string()).collect(), remote_ids: remote.iter().map(|s| s.to_string()).collect(), key: String::new() }
    }


    #[test]
    fn a_group_dissolves_only_into_one_to_one_matches_among_held_contacts() {
        let stored = [held(GroupKind::Ambiguous, &["c1"], &["r1", "r2"])];
        // r2 deleted: c1 and r1 now match one-to-one.
        let out = regroup(&stored, |_, id| id != "r2", &[("c1", "r1")], vec![]);
        assert_eq!((out.links, out.held), (vec![0], vec![]));
        // r2's address made unique: c1 and r1 link, r2 waits on its own.
        let out = regroup(&stored, |_, _| true, &[("c1", "r1")], vec![]);
        assert_eq!(out.links, vec![0]);
        assert_eq!(out.held, vec![held(GroupKind::Ambiguous, &[], &["r2"])]);
        // The shared address removed from c1: nothing matches, all stay held.
        let out = regroup(&stored, |_, _| true, &[], vec![]);
        assert_eq!(out.held, vec![held(GroupKind::Ambiguous, &["c1"], &["r1", "r2"])]);
    }

    #[test]
    fn a_newcomer_matching_a_held_contact_joins_its_group() {
        let stored = [held(GroupKind::Possible, &["c1"], &["r1"])];
        let out = regroup(&stored, |_, _| true, &[("c1", "r9"), ("c5", "r5")], vec![]);
        assert_eq!(out.links, vec![1], "only the pair with no held contact links");
        assert_eq!(out.held, vec![held(GroupKind::Ambiguous, &["c1"], &["r1", "r9"])]);
        // Two groups found sharing a contact become one.
        let found = vec![held(GroupKind::Ambiguous, &["c1", "c2"], &["r7"])];
        let out = regroup(&stored, |_, _| true, &[], found);
        assert_eq!(out.held, vec![held(GroupKind::Ambiguous, &["c1", "c2"], &["r1", "r7"])]);
    }

    #[test]
    fn decisions_take_contacts_out_of_their_group_and_stale_ones_are_told() {
        let mut groups = vec![held(GroupKind::Ambiguous, &["c1"], &["r1", "r2"]), held(GroupKind::Possible, &["c3"], &["r3"])];
        let decisions = [
            Decision::Link { crm_id: "c1".into(), remote_id: "r1".into() },
            Decision::Ignore { side: Side::Remote, id: "r2".into() },
            Decision::Refuse { crm_id: "c3".into(), remote_id: "r3".into() },
            Decision::Link { crm_id: "c1".into(), remote_id: "r3".into() },
            Decision::Unignore { side: Side::Crm, id: "c9".into() },
        ];
        let out = apply(&mut groups, &decisions);
        assert!(groups.is_empty(), "{groups:?}");
        assert_eq!(out.links, vec![("c1".to_string(), "r1".to_string())]);
        assert_eq!(out.ignore, vec![(Side::Remote, "r2".to_string())]);
        assert_eq!(out.create, vec![(Side::Crm, "c3".to_string()), (Side::Remote, "r3".to_string())]);
        assert_eq!(out.stale, vec![decisions[3].clone()], "c1 and r3 are in no group together");
    }

    #[test]
    fn decisions_read_the_contract_form() {
        let d: Decision = serde_json::from_str(r#"{"action":"createNew","side":"remote","id":"people/1"}"#).unwrap();
        assert_eq!(d, Decision::CreateNew { side: Side::Remote, id: "people/1".into() });
        let d: Decision = serde_json::from_str(r#"{"action":"link","crmId":"c1","remoteId":"r1"}"#).unwrap();
        assert!(d.is_well_formed());
        assert!(serde_json::from_str::<Decision>(r#"{"action":"link","crmId":"c1"}"#).is_err());
        assert!(serde_json::from_str::<Decision>(r#"{"action":"merge","crmId":"c1","remoteId":"r1"}"#).is_err());
        assert!(!Decision::Ignore { side: Side::Crm, id: String::new() }.is_well_formed());
    }
}
