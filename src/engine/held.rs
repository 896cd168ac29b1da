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
use serde_json::Value;
use std::collections::BTreeSet;

/// An operator's decision about held contacts (`resolveMatch`). Its JSON form
/// (`MatchDecision` in host-api.d.ts) is read and written by hand: a derived reader of
/// the tagged form would add its own generic code to the wasm for five small variants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Link these two (link to a candidate; confirm a possible match): `{action: "link", crmId, remoteId}`.
    Link {
        /// The CRM contact.
        crm_id: String,
        /// The remote contact.
        remote_id: String,
    },
    /// This contact is none of its candidates: create it on the other side (`createNew`).
    CreateNew {
        /// Its side.
        side: Side,
        /// Its id there.
        id: String,
    },
    /// A possible match refused: two people, each created on the other side (`refuse`).
    Refuse {
        /// The CRM contact.
        crm_id: String,
        /// The remote contact.
        remote_id: String,
    },
    /// Never sync this contact with this spoke, until un-ignored (`ignore`).
    Ignore {
        /// Its side.
        side: Side,
        /// Its id there.
        id: String,
    },
    /// Sync an ignored contact again: it is matched as any unlinked contact (`unignore`).
    Unignore {
        /// Its side.
        side: Side,
        /// Its id there.
        id: String,
    },
}

impl Decision {
    /// Reads the contract's form; the reason when it is not one (unknown action or field,
    /// a missing or empty id, a side other than "crm" or "remote").
    ///
    /// ```
    /// use contact_sync::engine::held::Decision;
    /// let d = Decision::from_json(&serde_json::json!({"action": "link", "crmId": "c1", "remoteId": "people/c7"})).unwrap();
    /// assert_eq!(Decision::from_json(&d.to_json()), Ok(d));
    /// ```
    pub fn from_json(v: &Value) -> Result<Decision, String> {
        let o = v.as_object().ok_or("a decision is an object")?;
        let action = o.get("action").and_then(Value::as_str).ok_or("a decision names its action")?;
        let pair = matches!(action, "link" | "refuse");
        let fields: &[&str] = if pair { &["action", "crmId", "remoteId"] } else { &["action", "side", "id"] };
        if let Some(k) = o.keys().find(|k| !fields.contains(&k.as_str())) {
            return Err(format!("{action} takes no {k}"));
        }
        let id = |k: &str| o.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string).ok_or(format!("{k} is missing"));
        let side = || match o.get("side").and_then(Value::as_str) {
            Some("crm") => Ok(Side::Crm),
            Some("remote") => Ok(Side::Remote),
            _ => Err("side is \"crm\" or \"remote\"".to_string()),
        };
        Ok(match action {
            "link" => Decision::Link { crm_id: id("crmId")?, remote_id: id("remoteId")? },
            "refuse" => Decision::Refuse { crm_id: id("crmId")?, remote_id: id("remoteId")? },
            "createNew" => Decision::CreateNew { side: side()?, id: id("id")? },
            "ignore" => Decision::Ignore { side: side()?, id: id("id")? },
            "unignore" => Decision::Unignore { side: side()?, id: id("id")? },
            other => return Err(format!("no action {other}")),
        })
    }

    /// The contract's form.
    pub fn to_json(&self) -> Value {
        let side = |s: &Side| if *s == Side::Crm { "crm" } else { "remote" };
        let fields: [(&str, &str); 3] = match self {
            Decision::Link { crm_id, remote_id } => [("action", "link"), ("crmId", crm_id), ("remoteId", remote_id)],
            Decision::Refuse { crm_id, remote_id } => [("action", "refuse"), ("crmId", crm_id), ("remoteId", remote_id)],
            Decision::CreateNew { side: s, id } => [("action", "createNew"), ("side", side(s)), ("id", id)],
            Decision::Ignore { side: s, id } => [("action", "ignore"), ("side", side(s)), ("id", id)],
            Decision::Unignore { side: s, id } => [("action", "unignore"), ("side", side(s)), ("id", id)],
        };
        Value::Object(fields.iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect())
    }
}

type Node = (Side, String);

/// What [`regroup`] decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Regrouped {
    /// Positions in the pairs given of those to link: matched one-to-one with neither held,
    /// or with both held.
    pub links: Vec<usize>,
    /// The held groups from now on, ordered by their first contact.
    pub held: Vec<HeldMatch>,
}

/// Carries the `stored` held groups through this run's matching: its one-to-one `pairs`
/// (CRM id, remote id) and the groups it `found` (see the module documentation).
/// `stays(side, id)` says whether a held contact is still there and unlinked.
pub fn regroup(stored: &[HeldMatch], stays: impl Fn(Side, &str) -> bool, pairs: &[(&str, &str)], found: Vec<HeldMatch>) -> Regrouped {
    let mut sets = Sets::default();
    for g in stored {
        let members: Vec<Node> = members(g).filter(|(side, id)| stays(*side, id)).collect();
        sets.join(&members, Some((g.kind, g.key.clone(), false)));
    }
    let mut out = Regrouped::default();
    let was_held = node_set(sets.nodes.iter().cloned());
    let held = |side: Side, id: &str| !was_held.is_empty() && was_held.contains(&(side, id.to_string()));
    let mut linked: BTreeSet<Node> = BTreeSet::new();
    for (n, (c, r)) in pairs.iter().enumerate() {
        match (held(Side::Crm, c), held(Side::Remote, r)) {
            (false, false) => out.links.push(n),
            (true, true) => {
                linked.insert((Side::Crm, c.to_string()));
                linked.insert((Side::Remote, r.to_string()));
                out.links.push(n);
            }
            // The newcomer joins the held contact's group, as it is.
            _ => sets.join(&[(Side::Crm, c.to_string()), (Side::Remote, r.to_string())], None),
        }
    }
    for g in &found {
        sets.join(&members(g).collect::<Vec<_>>(), Some((g.kind, g.key.clone(), true)));
    }
    out.held = sets.groups(&linked);
    out
}

/// A set of contacts, filled one by one (collecting would bring in a sort of its own).
pub fn node_set(nodes: impl IntoIterator<Item = (Side, String)>) -> BTreeSet<(Side, String)> {
    let mut set = BTreeSet::new();
    for n in nodes {
        set.insert(n);
    }
    set
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

/// Disjoint sets of contacts, each with what its group was (kind, key) when stored or
/// found. Held contacts are few: plain vectors, searched in place.
#[derive(Default)]
struct Sets {
    nodes: Vec<Node>,
    parent: Vec<usize>,
    /// (kind, key, found this run) of the group each node came in with.
    from: Vec<Option<(GroupKind, String, bool)>>,
}

impl Sets {
    fn add(&mut self, n: &Node, from: Option<(GroupKind, String, bool)>) -> usize {
        let i = match self.nodes.iter().position(|x| x == n) {
            Some(i) => i,
            None => {
                self.nodes.push(n.clone());
                self.parent.push(self.parent.len());
                self.from.push(None);
                self.nodes.len() - 1
            }
        };
        // What was found this run wins over what was stored.
        if let (Some(slot), Some(f)) = (self.from.get_mut(i), from) {
            if slot.as_ref().is_none_or(|s| !s.2 || f.2) {
                *slot = Some(f);
            }
        }
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

    /// Puts all of `nodes` in one set; `from`: the group they came in (none: a pair).
    fn join(&mut self, nodes: &[Node], from: Option<(GroupKind, String, bool)>) {
        let mut first: Option<usize> = None;
        for n in nodes {
            let i = self.add(n, from.clone());
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

    /// The groups, but for the `linked` contacts: ordered by their first contact, ids in
    /// order (CRM ones first); more than one contact on a side, or any ambiguous part,
    /// makes a group ambiguous; its key is one found this run, else one stored.
    fn groups(mut self, linked: &BTreeSet<Node>) -> Vec<HeldMatch> {
        let sorted = node_set(self.nodes.iter().cloned());
        let mut out: Vec<(usize, HeldMatch)> = Vec::new();
        for node in sorted {
            let Some(i) = self.nodes.iter().position(|x| *x == node) else { continue };
            if linked.contains(&node) {
                continue;
            }
            let root = self.find(i);
            let at = match out.iter().position(|(r, _)| *r == root) {
                Some(at) => at,
                None => {
                    out.push((root, HeldMatch { kind: GroupKind::Possible, crm_ids: vec![], remote_ids: vec![], key: String::new() }));
                    out.len() - 1
                }
            };
            let Some((_, g)) = out.get_mut(at) else { continue };
            if let Some(Some((kind, key, found))) = self.from.get(i) {
                if *kind == GroupKind::Ambiguous {
                    g.kind = GroupKind::Ambiguous;
                }
                if g.key.is_empty() || *found {
                    g.key = key.clone();
                }
            }
            match node.0 {
                Side::Crm => g.crm_ids.push(node.1),
                Side::Remote => g.remote_ids.push(node.1),
            }
            if g.crm_ids.len() > 1 || g.remote_ids.len() > 1 {
                g.kind = GroupKind::Ambiguous;
            }
        }
        out.into_iter().map(|(_, g)| g).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    fn decisions_read_and_write_the_contract_form() {
        let read = |v: Value| Decision::from_json(&v);
        assert_eq!(read(json!({"action": "createNew", "side": "remote", "id": "people/1"})), Ok(Decision::CreateNew { side: Side::Remote, id: "people/1".into() }));
        for d in [
            Decision::Link { crm_id: "c1".into(), remote_id: "r1".into() },
            Decision::Refuse { crm_id: "c1".into(), remote_id: "r1".into() },
            Decision::Ignore { side: Side::Crm, id: "c1".into() },
            Decision::Unignore { side: Side::Remote, id: "r1".into() },
        ] {
            assert_eq!(read(d.to_json()), Ok(d));
        }
        for bad in [
            json!(null),
            json!({"action": "link", "crmId": "c1"}),
            json!({"action": "merge", "crmId": "c1", "remoteId": "r1"}),
            json!({"action": "ignore", "side": "crm", "id": ""}),
            json!({"action": "ignore", "side": "both", "id": "c1"}),
            json!({"action": "ignore", "side": "crm", "id": "c1", "crmId": "c1"}),
        ] {
            assert!(read(bad.clone()).is_err(), "{bad}");
        }
    }
}
