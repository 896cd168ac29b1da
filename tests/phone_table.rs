#![cfg(not(target_arch = "wasm32"))]
//! `src/engine/phone_table.rs` is generated from the `phonenumber` crate's metadata (one
//! source of truth for the fast path, which the wasm plugin runs without that crate).
//! This test regenerates it and fails on drift: after upgrading `phonenumber`, run
//! `BLESS=1 cargo test --test phone_table` and commit the file. It also checks that the
//! precomputed international-prefix alternatives say exactly what the metadata's regexes
//! say, on every digit string up to the longest alternative's length plus one.

use phonenumber::metadata::{Metadata, DATABASE};
use regex_syntax::hir::{Class, Hir, HirKind};
use std::fmt::Write as _;
use std::path::PathBuf;

const TABLE: &str = "src/engine/phone_table.rs";

/// A digit class: bit d set when digit d is allowed.
type DigitSet = u16;

/// The metadata entries, by calling code, in the crate's order within a code.
fn entries() -> Vec<&'static Metadata> {
    let mut out = Vec::new();
    for code in 1u16..1000 {
        if let Some(metas) = DATABASE.by_code(&code) {
            out.extend(metas);
        }
    }
    out
}

/// Every sequence of digit classes the (finite) pattern matches. Alternatives that need
/// a non-digit can never match a run of digits and are dropped.
fn expand(h: &Hir) -> Vec<Vec<DigitSet>> {
    match h.kind() {
        HirKind::Empty => vec![vec![]],
        HirKind::Literal(lit) => {
            let mut seq = Vec::new();
            for b in lit.0.iter() {
                if !b.is_ascii_digit() {
                    return vec![];
                }
                seq.push(1 << (b - b'0'));
            }
            vec![seq]
        }
        HirKind::Class(class) => {
            let mut set: DigitSet = 0;
            for d in 0..10u8 {
                let c = char::from(b'0' + d);
                let hit = match class {
                    Class::Unicode(u) => u.ranges().iter().any(|r| r.start() <= c && c <= r.end()),
                    Class::Bytes(b) => b.ranges().iter().any(|r| r.start() <= b'0' + d && b'0' + d <= r.end()),
                };
                if hit {
                    set |= 1 << d;
                }
            }
            if set == 0 {
                vec![]
            } else {
                vec![vec![set]]
            }
        }
        HirKind::Capture(c) => expand(&c.sub),
        HirKind::Concat(parts) => {
            let mut acc = vec![vec![]];
            for p in parts {
                let tails = expand(p);
                let mut next = Vec::new();
                for head in &acc {
                    for tail in &tails {
                        let mut s: Vec<DigitSet> = head.clone();
                        s.extend(tail);
                        next.push(s);
                    }
                }
                acc = next;
            }
            acc
        }
        HirKind::Alternation(alts) => alts.iter().flat_map(expand).collect(),
        HirKind::Repetition(r) => {
            let max = r.max.expect("international prefix patterns are finite");
            let once = expand(&r.sub);
            let mut out = Vec::new();
            for n in r.min..=max {
                let mut acc = vec![vec![]];
                for _ in 0..n {
                    acc = acc.iter().flat_map(|h| once.iter().map(move |t| h.iter().chain(t).copied().collect())).collect();
                }
                out.extend(acc);
            }
            out
        }
        HirKind::Look(_) => panic!("an international prefix pattern with an assertion: extend the generator"),
    }
}

fn idd_alternatives(pattern: &str) -> Vec<Vec<DigitSet>> {
    let hir = regex_syntax::Parser::new().parse(pattern).expect("the metadata's regex parses");
    let mut alts = expand(&hir);
    assert!(alts.iter().all(|a| !a.is_empty()), "{pattern}: an empty alternative would match every number");
    alts.sort();
    alts.dedup();
    alts
}

fn class_text(set: DigitSet) -> String {
    (0..10u8).filter(|d| set & (1 << d) != 0).map(|d| char::from(b'0' + d)).collect()
}

/// The national-number lengths the number types allow (the crate leaves the general
/// descriptor's list empty; libphonenumber's build step fills it with this union).
fn lengths(meta: &Metadata) -> u32 {
    let d = meta.descriptors();
    let mut mask = 0u32;
    for desc in [d.fixed_line(), d.mobile(), d.toll_free(), d.premium_rate(), d.shared_cost(), d.personal_number(), d.voip(), d.pager(), d.uan(), d.voicemail()].into_iter().flatten().chain(std::iter::once(d.general())) {
        for &l in desc.possible_length() {
            assert!(l < 32, "a possible length over 31 does not fit the table's mask");
            mask |= 1 << l;
        }
    }
    mask
}

fn generate() -> String {
    let mut rows = String::new();
    let all = entries();
    for m in all.iter().copied() {
        let np = m.national_prefix().unwrap_or("");
        // "Plain": the prefix-parsing rule is absent or the national prefix itself, and
        // no transform rule: stripping the prefix is all the parser would do.
        let plain = match (m.national_prefix(), m.national_prefix_for_parsing()) {
            (_, None) => true,
            (Some(np), Some(re)) => re.as_str() == np,
            (None, Some(_)) => false,
        } && m.national_prefix_transform_rule().is_none();
        let idd = match m.international_prefix() {
            Some(re) => idd_alternatives(re.as_str())
                .iter()
                .map(|alt| format!("&[{}]", alt.iter().map(|s| format!("{:?}", class_text(*s))).collect::<Vec<_>>().join(", ")))
                .collect::<Vec<_>>()
                .join(", "),
            None => String::new(),
        };
        writeln!(
            rows,
            "    PhoneRegion {{ id: {:?}, code: {}, national_prefix: {:?}, plain_prefix: {}, lengths: 0x{:x}, idd: &[{}] }},",
            m.id(),
            m.country_code(),
            np,
            plain,
            lengths(m),
            idd
        )
        .unwrap();
    }
    format!(
        "//! Generated by `BLESS=1 cargo test --test phone_table` from the `phonenumber` crate's
//! metadata (Google's libphonenumber data): do not edit. `tests/phone_table.rs` fails when
//! this file and the metadata disagree.
//!
//! The facts the phone fast path needs per region, so that the wasm plugin reads plainly
//! written numbers without linking a libphonenumber port.

use super::normalize::PhoneRegion;

/// Every region, sorted by calling code.
pub static REGIONS: [PhoneRegion; {}] = [
{}];
",
        all.len(),
        rows
    )
}

#[test]
fn phone_table_is_generated_from_the_phonenumber_metadata() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(TABLE);
    let generated = generate();
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(checked_in == generated, "{TABLE} is out of date: run `BLESS=1 cargo test --test phone_table` and commit it");
}

fn starts_with_alternative(alts: &[Vec<DigitSet>], digits: &[u8]) -> bool {
    alts.iter().any(|a| a.len() <= digits.len() && a.iter().zip(digits).all(|(set, d)| set & (1 << (d - b'0')) != 0))
}

#[test]
fn international_prefix_alternatives_match_like_the_metadata_regexes() {
    // Every digit string up to 5 digits, then, for the longer alternatives (up to 8
    // digits), strings drawn from each alternative with digits mostly inside and sometimes
    // outside its classes, followed by random digits. (Every string up to the longest
    // alternative would be 3.5 billion regex calls.)
    let mut checked = 0u64;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut random = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for m in entries() {
        let Some(pattern) = m.international_prefix() else { continue };
        // Compiled here once: the metadata's cached regexes are slow to call in a loop.
        let re = regex::Regex::new(pattern.as_str()).unwrap();
        let alts = idd_alternatives(re.as_str());
        let mut check = |digits: &[u8]| {
            let text = std::str::from_utf8(digits).unwrap();
            let by_regex = re.find(text).is_some_and(|found| found.start() == 0);
            assert_eq!(starts_with_alternative(&alts, digits), by_regex, "{} ({}) on {text}", m.id(), re.as_str());
            checked += 1;
        };
        let mut digits = Vec::new();
        for len in 1..=5u32 {
            for n in 0..10u64.pow(len) {
                digits.clear();
                let mut x = n;
                for _ in 0..len {
                    digits.push(b'0' + (x % 10) as u8);
                    x /= 10;
                }
                check(&digits);
            }
        }
        for alt in alts.iter().filter(|a| a.len() >= 4) {
            for _ in 0..2_000 {
                digits.clear();
                for &set in alt {
                    let allowed: Vec<u8> = (0..10u8).filter(|d| set & (1 << d) != 0).collect();
                    let d = if random(10) == 0 { random(10) as u8 } else { allowed[random(allowed.len() as u64) as usize] };
                    digits.push(b'0' + d);
                }
                for _ in 0..random(3) {
                    digits.push(b'0' + random(10) as u8);
                }
                check(&digits);
            }
        }
    }
    assert!(checked > 1_000_000, "only {checked} strings checked");
}
