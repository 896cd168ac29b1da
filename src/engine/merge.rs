//! Field-level three-way merge of one linked pair against its base.
//!
//! Single-valued fields: unchanged on both → nothing; changed on one side → copied over;
//! changed on both to the same normal form → nothing; changed differently → the row's
//! rule (newest / CRM / remote), the loser reported. Blank is not clear: with no base,
//! or with "fill empty", a non-empty value beats an empty one. Multi-valued fields merge as
//! sets keyed by the normalized value, each element's kind and primary mark merged per
//! attribute, removal beaten by an attribute edit on the other side.

use super::mapping::{Direction, Item, Priority, Shape, Value};
use super::normalize;
use super::report::Side;
use super::model::ValueKind;
use super::state::{base36, base36_eq, hash36, hash53, push_base36, Base};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What to do with one field of one pair.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldOutcome {
    /// Write this value to the CRM.
    pub to_crm: Option<Value>,
    /// Write this value to the remote.
    pub to_remote: Option<Value>,
    /// The base once both sides hold the merged value.
    pub base: String,
    /// A conflict was settled: the side kept.
    pub conflict: Option<Side>,
    /// Elements a capacity-limited remote could not hold (for the notice).
    pub dropped: usize,
}

/// The rules of one field for one merge.
#[derive(Debug, Clone, Copy)]
pub struct FieldRules {
    /// Comparison shape.
    pub shape: Shape,
    /// Which way it flows.
    pub direction: Direction,
    /// Conflict rule.
    pub priority: Priority,
    /// Non-empty beats empty regardless of priority.
    pub fill_empty: bool,
    /// The side whose record is newer (each side's own clock; ties → configured side).
    pub newest: Side,
    /// How many elements the remote can hold (None: any).
    pub remote_capacity: Option<usize>,
}

fn winner_by_rule(r: &FieldRules) -> Side {
    match r.priority {
        Priority::Crm => Side::Crm,
        Priority::Remote => Side::Remote,
        Priority::Newest => r.newest,
    }
}

/// The base encoding of a value (single: hash of the normal form, "" when empty; lists:
/// `hash:kind:primary` per element, sorted).
pub fn encode_base(shape: Shape, v: &Value) -> String {
    match v {
        Value::Items(items) => {
            let mut parts: Vec<String> = items.iter().map(|i| format!("{}:{}:{}", hash36(&i.key), kind_code(i), u8::from(i.primary))).collect();
            parts.sort();
            parts.join(",")
        }
        Value::Text(t) if shape == Shape::Text => {
            // The common case, without copying the normal form.
            let n = normalize::text_ref(t);
            if n.is_empty() {
                String::new()
            } else {
                hash36(&n)
            }
        }
        other => {
            let n = super::mapping::norm_of(shape, other);
            if n.is_empty() {
                String::new()
            } else {
                hash36(&n)
            }
        }
    }
}

fn kind_code(i: &Item) -> String {
    let k = normalize::kind(&i.kind);
    match k.as_str() {
        "home" => "h".into(),
        "work" => "w".into(),
        "mobile" => "m".into(),
        "other" => "o".into(),
        _ => hash36(&k),
    }
}

/// Merges one field. `base` is None for a pair with no agreed values yet (a first match).
pub fn merge_field(rules: &FieldRules, crm: &Value, remote: &Value, base: Option<&str>) -> FieldOutcome {
    match (crm, remote) {
        (Value::Items(c), Value::Items(r)) => merge_items(rules, c, r, base),
        _ => merge_single(rules, crm, remote, base),
    }
}

/// A value's base encoding before it is written out as text: comparisons on the hot path
/// need no allocation. Equal encodings ⇔ equal [`encode_base`] strings (base 36 is a
/// bijection on the 53-bit hashes, which never encode to "" nor contain the `:` every
/// list encoding has).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enc {
    /// "" (an empty value).
    Empty,
    /// A single value's hash.
    Hash(u64),
    /// A list's encoding (a list met a single value).
    Text(String),
}

impl Enc {
    /// The encoding of a single value given as borrowed text, as [`Enc::of`] gives for
    /// `Value::Text(t)`: the merge's fast path compares two sides without building
    /// either value.
    pub fn of_text(shape: Shape, t: &str) -> Enc {
        let hash = |n: &str| if n.is_empty() { Enc::Empty } else { Enc::Hash(hash53(n)) };
        // The normal forms of `mapping::norm_of` for a text.
        match shape {
            Shape::Date => hash(&normalize::date(t)),
            Shape::Url => hash(&normalize::url(t)),
            _ => hash(&normalize::text_ref(t)),
        }
    }

    fn of(shape: Shape, v: &Value) -> Enc {
        let hash = |n: &str| if n.is_empty() { Enc::Empty } else { Enc::Hash(hash53(n)) };
        match v {
            Value::Text(t) => Enc::of_text(shape, t),
            Value::Items(_) => match encode_base(shape, v) {
                e if e.is_empty() => Enc::Empty,
                e => Enc::Text(e),
            },
            other => hash(&super::mapping::norm_of(shape, other)),
        }
    }

    fn is_empty(&self) -> bool {
        *self == Enc::Empty
    }

    /// Whether a stored base holds this encoding.
    pub fn is(&self, base: &str) -> bool {
        match self {
            Enc::Empty => base.is_empty(),
            Enc::Hash(h) => base36_eq(*h, base),
            Enc::Text(t) => t == base,
        }
    }

    /// Whether a link holds this encoding as its base.
    pub fn is_base(&self, base: &Base) -> bool {
        match (self, base) {
            (Enc::Empty, b) => b.is(""),
            (Enc::Hash(h), Base::Hash(n)) => h == n,
            (Enc::Hash(h), Base::Text(t)) => base36_eq(*h, t),
            (Enc::Text(t), b) => b.is(t),
        }
    }

    /// The encoding as a link holds it (None: empty, no base).
    pub fn into_stored(self) -> Option<Base> {
        match self {
            Enc::Empty => None,
            Enc::Hash(h) => Some(Base::Hash(h)),
            Enc::Text(t) => Base::from_string(t),
        }
    }

    /// The encoding as the base stores it.
    pub fn into_base(self) -> String {
        match self {
            Enc::Empty => String::new(),
            Enc::Hash(h) => base36(h),
            Enc::Text(t) => t,
        }
    }
}

fn merge_single(rules: &FieldRules, crm: &Value, remote: &Value, base: Option<&str>) -> FieldOutcome {
    let ch = Enc::of(rules.shape, crm);
    let rh = Enc::of(rules.shape, remote);
    let crm_changed = base.is_none_or(|b| !ch.is(b));
    let remote_changed = base.is_none_or(|b| !rh.is(b));
    // The base is written out once, at the end.
    let mut new_base: Option<Enc> = None;
    let mut out = FieldOutcome { to_crm: None, to_remote: None, base: String::new(), conflict: None, dropped: 0 };
    match rules.direction {
        Direction::None => {}
        Direction::ToRemote => {
            if crm_changed {
                if ch != rh && !(ch.is_empty() && base.is_none()) {
                    out.to_remote = Some(crm.clone());
                }
                new_base = Some(ch);
            }
        }
        Direction::ToCrm => {
            if remote_changed {
                if ch != rh && !(rh.is_empty() && base.is_none()) {
                    out.to_crm = Some(remote.clone());
                }
                new_base = Some(rh);
            }
        }
        Direction::Both => {
            if ch == rh {
                out.base = ch.into_base();
                return out;
            }
            let winner = match (crm_changed, remote_changed) {
                (true, false) => Side::Crm,
                (false, true) => Side::Remote,
                _ => {
                    let (ce, re) = (ch.is_empty(), rh.is_empty());
                    let w = if (base.is_none() || rules.fill_empty) && (ce || re) {
                        if ce { Side::Remote } else { Side::Crm }
                    } else {
                        winner_by_rule(rules)
                    };
                    if !(base.is_none() && (ce || re)) {
                        out.conflict = Some(w);
                    }
                    w
                }
            };
            match winner {
                Side::Crm => {
                    out.to_remote = Some(crm.clone());
                    new_base = Some(ch);
                }
                Side::Remote => {
                    out.to_crm = Some(remote.clone());
                    new_base = Some(rh);
                }
            }
        }
    }
    out.base = match new_base {
        Some(e) => e.into_base(),
        None => base.unwrap_or_default().to_string(),
    };
    out
}

/// A base element: kind code and primary mark, by key hash.
fn parse_base(base: &str) -> (Vec<String>, HashMap<String, (String, bool)>) {
    let mut order = Vec::new();
    let mut map = HashMap::new();
    for part in base.split(',').filter(|p| !p.is_empty()) {
        let mut it = part.split(':');
        let (Some(h), Some(k), Some(p)) = (it.next(), it.next(), it.next()) else { continue };
        order.push(h.to_string());
        map.insert(h.to_string(), (k.to_string(), p == "1"));
    }
    (order, map)
}

/// The elements a side with `capacity` slots keeps, deterministically: see [`kept_indices`].
pub fn project(items: &[Item], capacity: Option<usize>) -> Vec<Item> {
    let Some(cap) = capacity else { return items.to_vec() };
    if items.len() <= cap {
        return items.to_vec();
    }
    let codes: Vec<String> = items.iter().map(kind_code).collect();
    let kept = kept_indices(items.iter().zip(&codes).map(|(i, code)| (i.primary, code.as_str())), cap);
    kept.iter().filter_map(|&n| items.get(n).cloned()).collect()
}

/// Which of a list's elements (primary mark, kind code) a side with `cap` slots keeps, as
/// indices in list order: primary first, then by kind (work, home, mobile, other, custom),
/// then in their order. One rule for what is written to such a side and for what a base
/// says could not fit there.
fn kept_indices<'a>(elements: impl Iterator<Item = (bool, &'a str)>, cap: usize) -> Vec<usize> {
    let rank = |code: &str| match code {
        "w" => 0,
        "h" => 1,
        "m" => 2,
        "o" => 3,
        _ => 4,
    };
    let mut order: Vec<(bool, u8, usize)> = elements.enumerate().map(|(n, (primary, code))| (!primary, rank(code), n)).collect();
    order.sort_unstable();
    order.truncate(cap);
    let mut kept: Vec<usize> = order.into_iter().map(|(_, _, n)| n).collect();
    kept.sort_unstable();
    kept
}

fn merge_items(rules: &FieldRules, crm: &[Item], remote: &[Item], base: Option<&str>) -> FieldOutcome {
    // Fast path: both sides hold the same elements with the same attributes in the same
    // order (and the remote can hold them all). Whatever the base and the direction, the
    // full merge below then keeps every element as it is, writes nothing and agrees on
    // that list; most pairs of most runs are in this case.
    if rules.direction != Direction::None && rules.remote_capacity.is_none_or(|cap| remote.len() <= cap) && same_ordered_encoding(crm, remote) {
        return FieldOutcome { to_crm: None, to_remote: None, base: encode_base_ordered(crm), conflict: None, dropped: 0 };
    }
    let hashed = |v: &[Item]| -> Vec<(String, Item)> { v.iter().map(|i| (hash36(&i.key), i.clone())).collect() };
    let c = hashed(crm);
    let r = hashed(remote);
    let c_map: HashMap<&str, &Item> = c.iter().map(|(h, i)| (h.as_str(), i)).collect();
    let r_map: HashMap<&str, &Item> = r.iter().map(|(h, i)| (h.as_str(), i)).collect();
    let (base_order, base_map) = match base {
        Some(b) => parse_base(b),
        None => (Vec::new(), HashMap::new()),
    };
    let attrs = |i: &Item| (kind_code(i), i.primary);
    let changed_vs_base = |h: &str, i: &Item| base_map.get(h).is_some_and(|b| *b != attrs(i));
    // Elements of the base the remote could not hold are not removals made there.
    let unfit: HashSet<String> = match (rules.remote_capacity, base.is_some()) {
        (Some(cap), true) if base_order.len() > cap && remote.len() >= cap => {
            let attrs_of = |h: &String| base_map.get(h).map(|(code, primary)| (*primary, code.as_str())).unwrap_or((false, ""));
            let fit: HashSet<usize> = kept_indices(base_order.iter().map(attrs_of), cap).into_iter().collect();
            base_order.iter().enumerate().filter(|(n, _)| !fit.contains(n)).map(|(_, h)| h.clone()).collect()
        }
        _ => HashSet::new(),
    };
    let in_remote = |h: &str| r_map.contains_key(h) || unfit.contains(h);
    let one_way = matches!(rules.direction, Direction::ToRemote | Direction::ToCrm);
    if rules.direction == Direction::None {
        return FieldOutcome { to_crm: None, to_remote: None, base: base.unwrap_or_default().to_string(), conflict: None, dropped: 0 };
    }

    // Which keys survive, and with which attributes.
    let mut keep: BTreeMap<String, (super::model::ValueKind, bool)> = BTreeMap::new();
    let mut conflict = None;
    let mut all: Vec<&str> = c.iter().map(|(h, _)| h.as_str()).collect();
    all.extend(r.iter().map(|(h, _)| h.as_str()));
    all.extend(base_order.iter().map(String::as_str));
    let mut seen = HashSet::new();
    for h in all {
        if !seen.insert(h) {
            continue;
        }
        let ci = c_map.get(h).copied();
        let ri = r_map.get(h).copied();
        let in_base = base_map.contains_key(h);
        let (src, other) = match rules.direction {
            Direction::ToCrm => (ri, ci),
            _ => (ci, ri),
        };
        let survive = if one_way {
            // The source decides; the target's own additions stay.
            match (src, other) {
                (Some(_), _) => true,
                (None, Some(_)) => !in_base,
                (None, None) => false,
            }
        } else {
            match (ci, ri, in_base) {
                (Some(_), Some(_), _) => true,
                (Some(_), None, false) | (None, Some(_), false) => true,
                // Removed on the remote (unless it could not hold it): gone, unless the
                // CRM edited its attributes meanwhile (edit beats delete).
                (Some(i), None, true) => in_remote(h) || changed_vs_base(h, i),
                (None, Some(i), true) => changed_vs_base(h, i),
                (None, None, _) => false,
            }
        };
        if !survive {
            continue;
        }
        let attrs_of = match (ci, ri) {
            (Some(a), Some(b)) if one_way => match rules.direction {
                Direction::ToCrm => (b.kind.clone(), b.primary),
                _ => (a.kind.clone(), a.primary),
            },
            (Some(a), Some(b)) => {
                let b0 = base_map.get(h);
                // Per attribute: equal → kept; one side still at the base → the other
                // side's edit; both edited → the row's rule (a conflict).
                let pick = |ca: bool, ra: bool, same: bool| -> (Option<Side>, bool) {
                    if same {
                        (None, false)
                    } else if ca {
                        (Some(Side::Remote), false)
                    } else if ra {
                        (Some(Side::Crm), false)
                    } else {
                        (Some(winner_by_rule(rules)), b0.is_some())
                    }
                };
                let (kc, kr) = (kind_code(a), kind_code(b));
                let (kind_w, kind_ruled) = pick(b0.is_some_and(|x| x.0 == kc), b0.is_some_and(|x| x.0 == kr), kc == kr);
                let (prim_w, prim_ruled) = pick(b0.is_some_and(|x| x.1 == a.primary), b0.is_some_and(|x| x.1 == b.primary), a.primary == b.primary);
                if kind_ruled {
                    conflict = conflict.or(kind_w);
                }
                if prim_ruled {
                    conflict = conflict.or(prim_w);
                }
                let kind = if kind_w == Some(Side::Remote) { b.kind.clone() } else { a.kind.clone() };
                let primary = if prim_w == Some(Side::Remote) { b.primary } else { a.primary };
                (kind, primary)
            }
            (Some(a), None) => (a.kind.clone(), a.primary),
            (None, Some(b)) => (b.kind.clone(), b.primary),
            (None, None) => continue,
        };
        keep.insert(h.to_string(), attrs_of);
    }

    // Render each side: its own surviving elements in its order, then the others appended.
    let render = |own: &[(String, Item)], other: &[(String, Item)]| -> Vec<Item> {
        let mut out = Vec::new();
        let mut placed = HashSet::new();
        for (h, i) in own.iter().chain(other.iter()) {
            if let Some((k, p)) = keep.get(h) {
                if placed.insert(h.clone()) {
                    out.push(Item { kind: k.clone(), primary: *p, ..i.clone() });
                }
            }
        }
        out
    };
    let new_crm = render(&c, &r);
    let new_remote_full = render(&r, &c);
    let new_remote = project(&new_remote_full, rules.remote_capacity);
    let dropped = new_remote_full.len() - new_remote.len();
    let same = |a: &[Item], b: &[Item]| super::mapping::norm_of(rules.shape, &Value::Items(a.to_vec())) == super::mapping::norm_of(rules.shape, &Value::Items(b.to_vec()));
    let mut out = FieldOutcome { to_crm: None, to_remote: None, base: String::new(), conflict, dropped };
    let may_crm = matches!(rules.direction, Direction::Both | Direction::ToCrm);
    let may_remote = matches!(rules.direction, Direction::Both | Direction::ToRemote);
    if may_crm && !same(&new_crm, crm) {
        out.to_crm = Some(Value::Items(new_crm.clone()));
    }
    if may_remote && !same(&new_remote, remote) {
        out.to_remote = Some(Value::Items(new_remote));
    }
    // The base remembers the whole merged set, in the CRM's order (projection order).
    let base_items = match rules.direction {
        Direction::ToCrm => r.iter().map(|(_, i)| i.clone()).collect::<Vec<_>>(),
        Direction::ToRemote => c.iter().map(|(_, i)| i.clone()).collect::<Vec<_>>(),
        _ => new_crm,
    };
    out.base = encode_base_ordered(&base_items);
    out
}

/// Whether two lists have equal [`encode_base_ordered`] encodings, compared element by
/// element without writing either out: same length, and per position the same key hash,
/// kind code and primary mark.
fn same_ordered_encoding(a: &[Item], b: &[Item]) -> bool {
    let same_kind = |x: &Item, y: &Item| match (&x.kind, &y.kind) {
        // A custom label is encoded by its own code, which may equal a standard one.
        (ValueKind::Custom(_), _) | (_, ValueKind::Custom(_)) => kind_code(x) == kind_code(y),
        (k, l) => k == l,
    };
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.primary == y.primary && same_kind(x, y) && hash53(&x.key) == hash53(&y.key))
}

/// Like [`encode_base`] for lists but keeping the order (the projection needs it).
fn encode_base_ordered(items: &[Item]) -> String {
    let mut out = String::with_capacity(items.len() * 16);
    for (n, i) in items.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        push_base36(&mut out, hash53(&i.key));
        out.push(':');
        match &i.kind {
            super::model::ValueKind::Home => out.push('h'),
            super::model::ValueKind::Work => out.push('w'),
            super::model::ValueKind::Mobile => out.push('m'),
            super::model::ValueKind::Other => out.push('o'),
            super::model::ValueKind::Custom(_) => out.push_str(&kind_code(i)),
        }
        out.push(':');
        out.push(if i.primary { '1' } else { '0' });
    }
    out
}

/// The base of a value as [`merge_field`] writes it (ordered for lists).
pub fn base_of(shape: Shape, v: &Value) -> String {
    match v {
        Value::Items(items) => encode_base_ordered(items),
        other => encode_base(shape, other),
    }
}

/// [`base_of`] as a link holds it, `Base::from_string(base_of(shape, v))`, without writing
/// a single value's hash out in base 36 and parsing it back.
pub fn stored_base_of(shape: Shape, v: &Value) -> Option<Base> {
    match v {
        Value::Items(items) => Base::from_string(encode_base_ordered(items)),
        other => Enc::of(shape, other).into_stored(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::mapping::ItemValue;

    #[test]
    fn stored_base_of_is_the_parsed_base_of() {
        let texts = ["", " ", "Amélie", " Ame\u{301}lie ", "1985-04-12T10:00:00Z", "--04-12", "HTTPS://Example.FR/a/", "x", "0"];
        let item = |key: &str, kind: ValueKind, primary: bool| Item { key: key.into(), kind, primary, original: ItemValue::Text(key.into()) };
        let mut values: Vec<Value> = texts.iter().map(|t| Value::Text((*t).into())).collect();
        values.extend([Value::Bool(true), Value::Bool(false), Value::Items(Vec::new())]);
        values.push(Value::Items(vec![item("+33612345678", ValueKind::Mobile, true), item("a@b.fr", ValueKind::Custom("Assistant".into()), false)]));
        for shape in [Shape::Text, Shape::Date, Shape::Url, Shape::Bool, Shape::Emails, Shape::Phones, Shape::Addresses, Shape::Labels] {
            for v in &values {
                assert_eq!(stored_base_of(shape, v), Base::from_string(base_of(shape, v)), "{shape:?} {v:?}");
            }
        }
    }
}
