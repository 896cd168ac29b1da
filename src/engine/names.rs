//! Whether two contacts' names allow a match on a key people share (a phone number:
//! switchboards, households). Invariant 19: such a match links only when the names agree;
//! otherwise it is proposed to the operator, never applied.
//!
//! Names are compared as words: decomposed (NFD), accents and other combining marks
//! dropped, lowercased; anything that is not a letter or a digit separates words, so
//! "DURAND", "Durand" and " durand " are one word, "Jean-Pierre" is "jean pierre" and
//! "D'Arc" is "d arc". The rules, chosen never to merge strangers:
//!
//! - a side with no name at all (no given name, family name nor company) agrees with
//!   anything: the number is all there is to go by;
//! - between two people, every part named on both sides must be the same words and at
//!   least one part must be named on both. So "Jean Dupont" and "Marie Dupont" sharing a
//!   home number are two people; "Julie" and "Julie Durand" are one; "Durand" (family name
//!   only) and "Julie" (given name only) cannot be told apart and are proposed;
//! - failing that, the same words in the same order, given name then family name, or
//!   family name then given name: the two parts swapped ("DURAND Julie" typed into the
//!   given-name field), or a whole name held in one field (a card with only `FN`);
//! - a person and a company with no person's name do not agree; two companies agree when
//!   their names are the same words.
//!
//! Not guessed, so proposed: a compound family name against one of its parts
//! ("Dupont-Moreau" and "Dupont"), initials ("J. Durand" and "Julie Durand"), the same
//! words in another order ("Jean-Pierre" and "Pierre-Jean").

use unicode_normalization::{char::canonical_combining_class, UnicodeNormalization};

/// A contact's name as the matching compares it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameWords {
    given: Vec<String>,
    family: Vec<String>,
    company: Vec<String>,
}

impl NameWords {
    /// The words of a given name, a family name and a company name.
    pub fn new(given: &str, family: &str, company: &str) -> NameWords {
        NameWords { given: words(given), family: words(family), company: words(company) }
    }

    fn is_person(&self) -> bool {
        !self.given.is_empty() || !self.family.is_empty()
    }

    fn is_empty(&self) -> bool {
        !self.is_person() && self.company.is_empty()
    }

    /// The words of the whole name, given name first or family name first.
    fn in_order(&self, family_first: bool) -> Vec<&str> {
        let (a, b) = if family_first { (&self.family, &self.given) } else { (&self.given, &self.family) };
        a.iter().chain(b).map(String::as_str).collect()
    }
}

/// The normalized words of a name.
///
/// ```
/// use contact_sync::engine::names::words;
/// assert_eq!(words(" Hélène  DUPONT-Moreau "), ["helene", "dupont", "moreau"]);
/// ```
pub fn words(s: &str) -> Vec<String> {
    // Canonical decomposition and combining classes: the tables NFC already links in (the
    // compatibility ones would add some 60 KB of wasm for ligatures and full-width forms).
    let folded: String = s.nfd().filter(|c| canonical_combining_class(*c) == 0).flat_map(char::to_lowercase).collect();
    folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_string).collect()
}

/// Whether a match on a shared phone may link contacts named `a` and `b` (see the module
/// documentation for the rules).
///
/// ```
/// use contact_sync::engine::names::{compatible, NameWords};
/// let julie = NameWords::new("Julie", "Durand", "Pharmacie Durand");
/// assert!(compatible(&julie, &NameWords::new("julie", "DURAND", "")));
/// assert!(!compatible(&julie, &NameWords::new("Paul", "Lambert", "")));
/// ```
pub fn compatible(a: &NameWords, b: &NameWords) -> bool {
    if a.is_empty() || b.is_empty() {
        return true;
    }
    match (a.is_person(), b.is_person()) {
        (true, true) => {
            let (given_first, family_first) = (a.in_order(false), a.in_order(true));
            parts_agree(a, b) || given_first == b.in_order(false) || given_first == b.in_order(true) || family_first == b.in_order(false)
        }
        (false, false) => a.company == b.company,
        _ => false,
    }
}

fn parts_agree(a: &NameWords, b: &NameWords) -> bool {
    let both = |x: &[String], y: &[String]| !x.is_empty() && !y.is_empty();
    let agree = |x: &[String], y: &[String]| !both(x, y) || x == y;
    agree(&a.family, &b.family) && agree(&a.given, &b.given) && (both(&a.family, &b.family) || both(&a.given, &b.given))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(given: &str, family: &str) -> NameWords {
        NameWords::new(given, family, "")
    }

    #[test]
    fn the_same_person_written_differently_agrees() {
        for (a, b) in [
            (n("Julie", "Durand"), n("JULIE", "durand")),
            (n("Élodie", "Lefèvre"), n("Elodie", "Lefevre")),
            (n("E\u{301}lodie", "Lefe\u{300}vre"), n("Élodie", "Lefèvre")),
            (n("Jean-Pierre", "Dupont"), n("Jean Pierre", " Dupont ")),
            (n("Durand", "Julie"), n("Julie", "Durand")),
            (n("Julie Durand", ""), n("Julie", "Durand")),
            (n("DURAND Julie", ""), n("Julie", "Durand")),
            (n("Julie", ""), n("Julie", "Durand")),
            (n("", "Durand"), n("Julie", "Durand")),
            (n("", ""), n("Paul", "Lambert")),
            (NameWords::new("", "", "Boulangerie Martin"), NameWords::new("", "", "BOULANGERIE MARTIN")),
        ] {
            assert!(compatible(&a, &b) && compatible(&b, &a), "{a:?} / {b:?}");
        }
    }

    #[test]
    fn strangers_sharing_a_number_do_not_agree() {
        for (a, b) in [
            (n("Julie", "Durand"), n("Paul", "Lambert")),
            (n("Jean", "Dupont"), n("Marie", "Dupont")),
            (n("Jean", "Dupont"), n("Jean-Pierre", "Dupont")),
            (n("", "Durand"), n("Julie", "")),
            (n("J.", "Durand"), n("Julie", "Durand")),
            (n("Marie", "Dupont-Moreau"), n("Marie", "Dupont")),
            (n("Durand", "Jean"), n("Durand", "Jean-Pierre")),
            (n("Pierre-Jean", "Dupont"), n("Jean-Pierre", "Dupont")),
            (n("Sophie", "Bernard"), NameWords::new("", "", "Cabinet Bernard")),
            (NameWords::new("", "", "Cabinet Bernard"), NameWords::new("", "", "Pharmacie Durand")),
        ] {
            assert!(!compatible(&a, &b) && !compatible(&b, &a), "{a:?} / {b:?}");
        }
    }
}
