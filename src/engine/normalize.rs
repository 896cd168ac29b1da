//! Normal forms used for every comparison ("compare normalized, write original").
//!
//! Each function is idempotent (`f(f(x)) == f(x)`) and total: text that is not a valid
//! phone number or e-mail still gets a stable normal form, so a typo never panics and never
//! reads as a change on every run. Phones go through `phonenumber`, a port of Google's
//! libphonenumber, rather than hand-written rules.

use phonenumber::country::Id as CountryId;
use phonenumber::{Mode, Type};
use std::str::FromStr;
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// Prefix of the normal form of a phone that libphonenumber cannot parse. Never produced
/// by E.164 formatting, so such values stay what they are when normalized again.
const UNPARSED_PHONE: char = '~';

/// Text: NFC, outer white space trimmed (inner spacing is the person's).
///
/// ```
/// use contact_sync::engine::normalize::text;
/// assert_eq!(text("  Ame\u{301}lie "), "Amélie");
/// ```
pub fn text(s: &str) -> String {
    text_ref(s).into_owned()
}

/// [`text`] without a copy when the text is already normal (trimmed NFC).
pub fn text_ref(s: &str) -> std::borrow::Cow<'_, str> {
    let t = s.trim();
    if t.is_ascii() || is_nfc_quick(t.chars()) == IsNormalized::Yes {
        std::borrow::Cow::Borrowed(t)
    } else {
        // NFC can expose white space at the edges (a lone combining mark after a space).
        let n: String = t.nfc().collect();
        std::borrow::Cow::Owned(n.trim().to_string())
    }
}

/// An e-mail: trimmed, NFC, case-folded (the whole address: providers treat local parts
/// case-insensitively in practice, and a case change is not a person's edit).
///
/// ```
/// use contact_sync::engine::normalize::email;
/// assert_eq!(email(" Jean.Dupont@Example.FR "), "jean.dupont@example.fr");
/// ```
pub fn email(s: &str) -> String {
    let t = text(s);
    if t.is_ascii() {
        t.to_ascii_lowercase()
    } else {
        let lower = t.to_lowercase();
        text(&lower)
    }
}

/// A URL: trimmed, NFC, scheme and host case-folded, one trailing slash dropped.
pub fn url(s: &str) -> String {
    let t = text(s);
    let (head, rest) = match t.find("://") {
        Some(i) => {
            let after = i + 3;
            let host_end = t[after..].find('/').map(|j| after + j).unwrap_or(t.len());
            (t[..host_end].to_lowercase(), t[host_end..].to_string())
        }
        None => (String::new(), t.clone()),
    };
    let mut out = head + &rest;
    // Every trailing slash, not one: `//` must normalize like `/` (idempotence); and the
    // white space a dropped slash uncovers (`"x /"`), which `text` would trim next time.
    loop {
        let kept = out.trim_end().len();
        out.truncate(kept);
        if out.ends_with('/') && !out.ends_with("://") {
            out.pop();
        } else {
            break;
        }
    }
    out
}

/// A birthday: `YYYY-MM-DD` or `--MM-DD` kept; a time part after a `T` dropped.
pub fn date(s: &str) -> String {
    let t = text(s);
    match t.find('T') {
        Some(i) if i >= 7 => t[..i].to_string(),
        _ => t,
    }
}

/// The kind label of an e-mail, phone or address, as compared.
pub fn kind(k: &super::model::ValueKind) -> String {
    match k {
        super::model::ValueKind::Custom(s) => text(s).to_lowercase(),
        other => other.as_str().to_string(),
    }
}

/// A postal address as a normalized tuple (street, city, postal code, region, country),
/// joined with U+001F: case-folded, inner white space collapsed, postal code without spaces.
pub fn address(a: &super::model::Address) -> String {
    fn squash(s: &str) -> String {
        text(s).to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ")
    }
    let postal: String = text(&a.postal_code).to_uppercase().split_whitespace().collect();
    [squash(&a.street), squash(&a.city), postal, squash(&a.region), squash(&a.country)].join("\u{1f}")
}

/// Phone normalization with a default region for numbers typed without `+`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneNormalizer {
    region: Option<CountryId>,
}

impl Default for PhoneNormalizer {
    fn default() -> Self {
        PhoneNormalizer { region: Some(CountryId::FR) }
    }
}

impl PhoneNormalizer {
    /// `region` is an ISO 3166 alpha-2 code (`phone.defaultRegion`); an unknown code means
    /// no default region (only `+` numbers parse).
    ///
    /// ```
    /// use contact_sync::engine::normalize::PhoneNormalizer;
    /// let fr = PhoneNormalizer::new("FR");
    /// assert_eq!(fr.phone("06 12 34 56 78"), "+33612345678");
    /// assert_eq!(fr.phone("+33 6 12 34 56 78"), "+33612345678");
    /// ```
    pub fn new(region: &str) -> Self {
        PhoneNormalizer { region: CountryId::from_str(&region.trim().to_uppercase()).ok() }
    }

    /// The E.164 form when libphonenumber can parse the number, otherwise a stable
    /// fallback (`~` and the digits, `+`, `*`, `#` and letters, lowercased).
    pub fn phone(&self, s: &str) -> String {
        let t = text(s);
        if t.starts_with(UNPARSED_PHONE) {
            return t;
        }
        if let Some(fast) = self.fast_e164(&t) {
            return fast;
        }
        if let Some(e164) = self.parse(&t) {
            return e164.format().mode(Mode::E164).to_string();
        }
        let mut out = String::with_capacity(t.len() + 1);
        out.push(UNPARSED_PHONE);
        out.extend(t.chars().filter(|c| c.is_alphanumeric() || matches!(c, '+' | '*' | '#')).flat_map(|c| c.to_lowercase()));
        out
    }

    /// True for a number libphonenumber considers valid and mobile (or "fixed line or
    /// mobile" where a region cannot tell, as in the USA): the export filter's test.
    ///
    /// ```
    /// use contact_sync::engine::normalize::PhoneNormalizer;
    /// let fr = PhoneNormalizer::new("FR");
    /// assert!(fr.is_valid_mobile("06 12 34 56 78"));
    /// assert!(!fr.is_valid_mobile("01 42 68 53 00"));
    /// assert!(!fr.is_valid_mobile("12"));
    /// ```
    pub fn is_valid_mobile(&self, s: &str) -> bool {
        match self.parse(&text(s)) {
            Some(n) => {
                n.is_valid() && matches!(n.number_type(&phonenumber::metadata::DATABASE), Type::Mobile | Type::FixedLineOrMobile)
            }
            None => false,
        }
    }

    /// The E.164 form of a plainly written number without running libphonenumber's
    /// parser (its regex-driven parse costs microseconds natively and far more in wasm,
    /// too slow for 50,000 contacts): `+` and the digits, or the default region's national
    /// prefix followed by the digits, with only spaces, dots, dashes, slashes and brackets
    /// between them. Declines (None), leaving the number to the full parser, whenever the
    /// parser could do more than "take the country code" or "strip the national prefix":
    /// a region with a prefix-parsing rule or transform, a national number starting with
    /// `0` or with a national prefix, digits starting with the region's international
    /// prefix or its country code, or a length none of the number types of the country
    /// allows. `tests/engine_normalize.rs` checks that it agrees with the full parser and
    /// that it does serve the common forms.
    #[doc(hidden)]
    pub fn fast_e164(&self, t: &str) -> Option<String> {
        let db = &*phonenumber::metadata::DATABASE;
        let plus = t.starts_with('+');
        let mut digits = String::with_capacity(t.len());
        for (i, c) in t.char_indices() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '.' | '-' | '/' | '\u{a0}' => {}
                '(' | ')' if !t.contains("(0") => {}
                '+' if i == 0 => {}
                _ => return None,
            }
        }
        let (code, national) = if plus {
            let k = (1..=3).find(|&k| {
                digits.get(..k).and_then(|cc| cc.parse::<u16>().ok()).and_then(|cc| db.by_code(&cc)).is_some()
            })?;
            (digits.get(..k)?.parse::<u16>().ok()?, digits.get(k..)?)
        } else {
            let region = self.region?;
            let meta = db.by_id(region.as_ref())?;
            let prefix = meta.national_prefix()?;
            if digits.starts_with(&meta.country_code().to_string()) {
                return None;
            }
            if meta.international_prefix().is_some_and(|idd| idd.find(&digits).is_some_and(|m| m.start() == 0)) {
                return None;
            }
            (meta.country_code(), digits.strip_prefix(prefix)?)
        };
        if national.is_empty() || national.starts_with('0') {
            return None;
        }
        // Every region sharing the country code must parse the same way (the parser picks
        // one by leading digits).
        let metas = db.by_code(&code)?;
        let len = u16::try_from(national.len()).ok()?;
        let mut length_ok = false;
        for meta in &metas {
            let simple_prefix = match (meta.national_prefix(), meta.national_prefix_for_parsing()) {
                (_, None) => true,
                (Some(np), Some(re)) => re.as_str() == np,
                (None, Some(_)) => false,
            };
            if !simple_prefix || meta.national_prefix_transform_rule().is_some() {
                return None;
            }
            if meta.national_prefix().is_some_and(|np| national.starts_with(np)) {
                return None;
            }
            length_ok = length_ok || possible_lengths(meta).any(|l| l == len);
        }
        if !length_ok {
            return None;
        }
        Some(format!("+{code}{national}"))
    }

    /// The slow path: E.164 through libphonenumber, without the fast path.
    #[doc(hidden)]
    pub fn phone_by_libphonenumber(&self, s: &str) -> Option<String> {
        self.parse(&text(s)).map(|n| n.format().mode(Mode::E164).to_string())
    }

    fn parse(&self, t: &str) -> Option<phonenumber::PhoneNumber> {
        if t.is_empty() || !t.chars().any(|c| c.is_ascii_digit()) {
            return None;
        }
        // A number with `+` needs no region; without one, only the default region applies.
        let region = if t.starts_with('+') { None } else { Some(self.region?) };
        let n = phonenumber::parse(region, t).ok()?;
        // E.164 output must parse back to itself, or the form would not be stable.
        let e164 = n.format().mode(Mode::E164).to_string();
        if e164.len() < 3 {
            return None;
        }
        // libphonenumber is not idempotent on some invalid numbers (it strips a national
        // prefix again from its own output): such numbers take the stable fallback.
        let again = phonenumber::parse(None, &e164).ok()?;
        if again.format().mode(Mode::E164).to_string() != e164 {
            return None;
        }
        Some(n)
    }
}

/// The national-number lengths a country's number types allow. The `phonenumber` crate
/// leaves the general descriptor's list empty (libphonenumber's build step fills it with
/// this union), so it is computed here.
fn possible_lengths(meta: &phonenumber::metadata::Metadata) -> impl Iterator<Item = u16> + '_ {
    let d = meta.descriptors();
    [d.fixed_line(), d.mobile(), d.toll_free(), d.premium_rate(), d.shared_cost(), d.personal_number(), d.voip(), d.pager(), d.uan(), d.voicemail()]
        .into_iter()
        .flatten()
        .chain(std::iter::once(d.general()))
        .flat_map(|x| x.possible_length().iter().copied())
}
