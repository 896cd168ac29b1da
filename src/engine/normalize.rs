//! Normal forms used for every comparison ("compare normalized, write original").
//!
//! Each function is idempotent (`f(f(x)) == f(x)`) and total: text that is not a valid
//! phone number or e-mail still gets a stable normal form, so a typo never panics and never
//! reads as a change on every run. Phones go through libphonenumber (a maintained port of
//! it, [`super::phone_service`]) rather than hand-written rules; plainly written numbers
//! take a fast path driven by libphonenumber's own metadata ([`super::phone_table`]).

use super::phone_service::{self, PhoneService};
use super::phone_table::REGIONS;
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// Prefix of the normal form of a phone that libphonenumber cannot parse (or that no
/// parser was there to read). Never produced
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
    // Every character below U+0300 (UTF-8 bytes below 0xCC) is NFC on its own with
    // combining class 0, so text made of them only (ASCII, Latin-1, Latin Extended) is
    // NFC without the quick check's table lookups.
    if t.bytes().fold(0, u8::max) < 0xCC || is_nfc_quick(t.chars()) == IsNormalized::Yes {
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
    // One allocation for the common ASCII address: the trimmed text is borrowed, and
    // lowercased as it is copied.
    match text_ref(s) {
        std::borrow::Cow::Borrowed(t) if t.is_ascii() => t.to_ascii_lowercase(),
        std::borrow::Cow::Owned(mut t) if t.is_ascii() => {
            t.make_ascii_lowercase();
            t
        }
        t => {
            // Lowercasing can (rarely) leave text to trim or compose: normalized again then.
            let lower = t.to_lowercase();
            if matches!(text_ref(&lower), std::borrow::Cow::Borrowed(n) if n.len() == lower.len()) {
                lower
            } else {
                text(&lower)
            }
        }
    }
}

/// A URL: trimmed, NFC, scheme and host case-folded, one trailing slash dropped.
pub fn url(s: &str) -> String {
    let t = text_ref(s);
    let mut out = match t.find("://") {
        Some(i) => {
            let after = i + 3;
            let host_end = t[after..].find('/').map(|j| after + j).unwrap_or(t.len());
            let head = &t[..host_end];
            let mut out = String::with_capacity(t.len());
            if head.is_ascii() {
                out.extend(head.bytes().map(|b| char::from(b.to_ascii_lowercase())));
            } else {
                out.push_str(&head.to_lowercase());
            }
            out.push_str(&t[host_end..]);
            out
        }
        None => t.into_owned(),
    };
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
    let t = text_ref(s);
    match t.find('T') {
        Some(i) if i >= 7 => t[..i].to_string(),
        _ => t.into_owned(),
    }
}

/// The kind label of an e-mail, phone or address, as compared.
pub fn kind(k: &super::model::ValueKind) -> String {
    kind_ref(k).into_owned()
}

/// [`kind`] without a copy for the standard kinds (a custom label is case-folded).
pub fn kind_ref(k: &super::model::ValueKind) -> std::borrow::Cow<'_, str> {
    match k {
        super::model::ValueKind::Custom(s) => std::borrow::Cow::Owned(text_ref(s).to_lowercase()),
        other => std::borrow::Cow::Borrowed(other.as_str()),
    }
}

/// A postal address as a normalized tuple (street, city, postal code, region, country),
/// joined with U+001F: case-folded, inner white space collapsed, postal code without spaces.
pub fn address(a: &super::model::Address) -> String {
    let mut out = String::with_capacity(a.street.len() + a.city.len() + a.postal_code.len() + a.region.len() + a.country.len() + 4);
    push_squashed(&mut out, &a.street);
    out.push('\u{1f}');
    push_squashed(&mut out, &a.city);
    out.push('\u{1f}');
    push_postal_code(&mut out, &a.postal_code);
    out.push('\u{1f}');
    push_squashed(&mut out, &a.region);
    out.push('\u{1f}');
    push_squashed(&mut out, &a.country);
    out
}

/// White space as `char::is_whitespace` (and so `str::trim`, `split_whitespace`) sees it
/// among ASCII bytes: tab, line feed, vertical tab, form feed, carriage return, space.
fn is_ascii_space(b: u8) -> bool {
    matches!(b, b'\t'..=b'\r' | b' ')
}

/// An address component: [`text`], lowercased, its words joined by one space; appended
/// to `out` without an intermediate copy for ASCII text.
fn push_squashed(out: &mut String, s: &str) {
    if s.is_ascii() {
        // ASCII text is its own NFC; trimming is what skipping leading and trailing white
        // space does.
        let start = out.len();
        let mut space = false;
        for b in s.bytes() {
            if is_ascii_space(b) {
                space = out.len() > start;
            } else {
                if space {
                    out.push(' ');
                    space = false;
                }
                out.push(char::from(b.to_ascii_lowercase()));
            }
        }
    } else {
        let lower = text_ref(s).to_lowercase();
        for (n, w) in lower.split_whitespace().enumerate() {
            if n > 0 {
                out.push(' ');
            }
            out.push_str(w);
        }
    }
}

/// A postal code: [`text`], uppercased, without white space; appended to `out`.
fn push_postal_code(out: &mut String, s: &str) {
    if s.is_ascii() {
        out.extend(s.bytes().filter(|&b| !is_ascii_space(b)).map(|b| char::from(b.to_ascii_uppercase())));
    } else {
        out.extend(text_ref(s).to_uppercase().split_whitespace());
    }
}

/// Phone normalization with a default region for numbers typed without `+`.
#[derive(Clone, Copy)]
pub struct PhoneNormalizer {
    /// Index in [`REGIONS`] of the default region.
    region: Option<u16>,
    service: ServiceChoice,
}

/// Which libphonenumber answers what the fast path declines.
#[derive(Clone, Copy)]
enum ServiceChoice {
    /// The one registered when asked ([`phone_service::current`]).
    Current,
    /// A given one, or none (tests).
    Given(Option<&'static PhoneService>),
}

impl std::fmt::Debug for PhoneNormalizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let region = self.region.map(|i| REGIONS[usize::from(i)].id);
        f.debug_struct("PhoneNormalizer").field("region", &region).field("service", &self.service().map(|s| s.name)).finish()
    }
}

impl PartialEq for PhoneNormalizer {
    fn eq(&self, other: &Self) -> bool {
        let same_service = match (self.service, other.service) {
            (ServiceChoice::Current, ServiceChoice::Current) => true,
            (ServiceChoice::Given(a), ServiceChoice::Given(b)) => match (a, b) {
                (Some(a), Some(b)) => std::ptr::eq(a, b),
                (None, None) => true,
                _ => false,
            },
            _ => false,
        };
        self.region == other.region && same_service
    }
}

impl Eq for PhoneNormalizer {}

impl Default for PhoneNormalizer {
    fn default() -> Self {
        PhoneNormalizer::new("FR")
    }
}

/// The index of a region by its ISO 3166 alpha-2 code.
fn region_index(id: &str) -> Option<u16> {
    if id.len() != 2 || !id.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    REGIONS.iter().position(|r| r.id.eq_ignore_ascii_case(id)).and_then(|i| u16::try_from(i).ok())
}

/// One region of the metadata (`"001"` for the non-geographic calling codes).
#[derive(Debug)]
pub struct PhoneRegion {
    /// ISO 3166 alpha-2 code, or `"001"`.
    pub id: &'static str,
    /// The country calling code.
    pub code: u16,
    /// The national (trunk) prefix, `""` when the region has none.
    pub national_prefix: &'static str,
    /// Stripping the national prefix is all national-prefix parsing does (no parsing
    /// pattern other than the prefix itself, no transform rule).
    pub plain_prefix: bool,
    /// Possible national-number lengths of every number type: bit n set for length n.
    pub lengths: u32,
    /// The international (IDD) prefix as alternatives, each a sequence of digit classes
    /// (the digits each position allows): a run of digits starts with the international
    /// prefix when some alternative matches its first digits.
    pub idd: &'static [&'static [&'static str]],
}

/// The regions sharing a calling code (empty for an unknown code).
fn regions_of(code: u16) -> &'static [PhoneRegion] {
    fn search(code: u16) -> (usize, usize) {
        let start = REGIONS.partition_point(|r| r.code < code);
        (start, start + REGIONS[start..].partition_point(|r| r.code == code))
    }
    // Calling codes have at most 3 digits: a table of where each one's regions start and
    // end in `REGIONS` (sorted by code), made once, answers without a search.
    static BY_CODE: std::sync::OnceLock<Vec<(usize, usize)>> = std::sync::OnceLock::new();
    let table = BY_CODE.get_or_init(|| (0..1000).map(search).collect());
    let (start, end) = table.get(usize::from(code)).copied().unwrap_or_else(|| search(code));
    &REGIONS[start..end]
}

/// `n` in decimal ASCII digits, written at the end of `buf`.
fn decimal(mut n: u16, buf: &mut [u8; 5]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

/// Whether `digits` (ASCII digits) begin with one of the region's international prefixes.
fn starts_with_idd(region: &PhoneRegion, digits: &[u8]) -> bool {
    region.idd.iter().any(|alt| alt.len() <= digits.len() && alt.iter().zip(digits).all(|(class, d)| class.as_bytes().contains(d)))
}

impl PhoneNormalizer {
    /// `region` is an ISO 3166 alpha-2 code (`phone.defaultRegion`); an unknown code means
    /// no default region (only `+` numbers parse). Numbers the fast path declines go to
    /// the registered [`PhoneService`] (natively `phonenumber` when none is registered).
    ///
    /// ```
    /// use contact_sync::engine::normalize::PhoneNormalizer;
    /// let fr = PhoneNormalizer::new("FR");
    /// assert_eq!(fr.phone("06 12 34 56 78"), "+33612345678");
    /// assert_eq!(fr.phone("+33 6 12 34 56 78"), "+33612345678");
    /// ```
    pub fn new(region: &str) -> Self {
        PhoneNormalizer { region: region_index(region.trim()), service: ServiceChoice::Current }
    }

    /// Like [`new`](Self::new) with a given service, or none: then only the fast path
    /// reads numbers and the rest take the stable `~` form.
    ///
    /// ```
    /// use contact_sync::engine::normalize::PhoneNormalizer;
    /// let bare = PhoneNormalizer::with_service("FR", None);
    /// assert_eq!(bare.phone("06 12 34 56 78"), "+33612345678");
    /// assert_eq!(bare.phone("0033 6 12 34 56 78"), "~0033612345678");
    /// assert!(!bare.is_valid_mobile("06 12 34 56 78"));
    /// ```
    pub fn with_service(region: &str, service: Option<&'static PhoneService>) -> Self {
        PhoneNormalizer { region: region_index(region.trim()), service: ServiceChoice::Given(service) }
    }

    fn service(&self) -> Option<&'static PhoneService> {
        match self.service {
            ServiceChoice::Current => phone_service::current(),
            ServiceChoice::Given(s) => s,
        }
    }

    fn region(&self) -> Option<&'static PhoneRegion> {
        self.region.map(|i| &REGIONS[usize::from(i)])
    }

    /// The E.164 form when libphonenumber can parse the number, otherwise a stable
    /// fallback (`~` and the digits, `+`, `*`, `#` and letters, lowercased).
    pub fn phone(&self, s: &str) -> String {
        let t = text_ref(s);
        if t.starts_with(UNPARSED_PHONE) {
            return t.into_owned();
        }
        if let Some(fast) = self.fast_e164(&t) {
            return fast;
        }
        if let Some(e164) = self.by_service(&t) {
            return e164;
        }
        let mut out = String::with_capacity(t.len() + 1);
        out.push(UNPARSED_PHONE);
        out.extend(t.chars().filter(|c| c.is_alphanumeric() || matches!(c, '+' | '*' | '#')).flat_map(|c| c.to_lowercase()));
        out
    }

    /// True for a number libphonenumber considers valid and mobile (or "fixed line or
    /// mobile" where a region cannot tell, as in the USA): the export filter's test. False
    /// when no service is there to tell.
    ///
    /// ```
    /// use contact_sync::engine::normalize::PhoneNormalizer;
    /// let fr = PhoneNormalizer::new("FR");
    /// assert!(fr.is_valid_mobile("06 12 34 56 78"));
    /// assert!(!fr.is_valid_mobile("01 42 68 53 00"));
    /// assert!(!fr.is_valid_mobile("12"));
    /// ```
    pub fn is_valid_mobile(&self, s: &str) -> bool {
        let t = text(s);
        match (self.service(), self.service_region(&t)) {
            (Some(service), Some(region)) => (service.is_valid_mobile)(&t, region),
            _ => false,
        }
    }

    /// The region to read `t` with: none for a `+` number; the default region otherwise
    /// (`None` when there is none, or when `t` has no digit: nothing to read).
    fn service_region(&self, t: &str) -> Option<Option<&'static str>> {
        if t.is_empty() || !t.bytes().any(|b| b.is_ascii_digit()) {
            return None;
        }
        if t.starts_with('+') {
            Some(None)
        } else {
            Some(Some(self.region()?.id))
        }
    }

    /// E.164 through the service, kept only when it is a fixed point: normalizing the
    /// answer again (fast path or service) must give it back, or the form would not be
    /// stable (libphonenumber re-strips a national prefix from some invalid numbers).
    fn by_service(&self, t: &str) -> Option<String> {
        let service = self.service()?;
        let e164 = (service.e164)(t, self.service_region(t)?)?;
        if e164.len() < 3 || !e164.starts_with('+') || !e164[1..].bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let again = match self.fast_e164(&e164) {
            Some(fast) => fast,
            None => (service.e164)(&e164, None)?,
        };
        (again == e164).then_some(e164)
    }

    /// The E.164 form of a plainly written number without running libphonenumber's
    /// parser (its regex-driven parse costs microseconds natively and far more in wasm,
    /// too slow for 50,000 contacts; the wasm plugin does not link a Rust port at all):
    /// `+` and the digits, or the default region's national prefix followed by the
    /// digits, with only spaces, dots, dashes, slashes and brackets between them. Declines
    /// (None), leaving the number to the full parser, whenever the parser could do more
    /// than "take the country code" or "strip the national prefix": a region with a
    /// prefix-parsing rule or transform, a national number starting with `0` or with a
    /// national prefix, digits starting with the region's international prefix or its
    /// country code, or a length none of the number types of the country allows. Driven
    /// by libphonenumber's metadata through [`super::phone_table`];
    /// `tests/engine_normalize.rs` checks that it agrees with the full parser and that it
    /// does serve the common forms.
    #[doc(hidden)]
    pub fn fast_e164(&self, t: &str) -> Option<String> {
        let plus = t.starts_with('+');
        // The digits, on the stack: more than fit means a national number of 62 digits or
        // more (the country code takes at most 3, a national prefix at most 2), which the
        // length check below declines anyway.
        let mut buf = [0u8; 64];
        let mut n = 0;
        for (i, c) in t.char_indices() {
            match c {
                '0'..='9' => {
                    *buf.get_mut(n)? = c as u8;
                    n += 1;
                }
                ' ' | '.' | '-' | '/' | '\u{a0}' => {}
                '(' | ')' if !t.contains("(0") => {}
                '+' if i == 0 => {}
                _ => return None,
            }
        }
        let digits = &buf[..n];
        let (code, national) = if plus {
            // The shortest prefix of 1 to 3 digits that is a known calling code.
            let mut cc = 0u16;
            let mut found = None;
            for (k, &d) in digits.iter().enumerate().take(3) {
                cc = cc * 10 + u16::from(d - b'0');
                if !regions_of(cc).is_empty() {
                    found = Some(k + 1);
                    break;
                }
            }
            let k = found?;
            (cc, &digits[k..])
        } else {
            let region = self.region()?;
            if region.national_prefix.is_empty() {
                return None;
            }
            let mut code = [0u8; 5];
            if digits.starts_with(decimal(region.code, &mut code)) {
                return None;
            }
            if starts_with_idd(region, digits) {
                return None;
            }
            (region.code, digits.strip_prefix(region.national_prefix.as_bytes())?)
        };
        if national.is_empty() || national[0] == b'0' {
            return None;
        }
        // Every region sharing the country code must parse the same way (the parser picks
        // one by leading digits).
        let regions = regions_of(code);
        if regions.is_empty() {
            return None;
        }
        let len = u32::try_from(national.len()).ok().filter(|&l| l < 32)?;
        let mut length_ok = false;
        for r in regions {
            if !r.plain_prefix {
                return None;
            }
            if !r.national_prefix.is_empty() && national.starts_with(r.national_prefix.as_bytes()) {
                return None;
            }
            length_ok = length_ok || r.lengths & (1 << len) != 0;
        }
        if !length_ok {
            return None;
        }
        // `+`, the code and the national number written on the stack (at most 1 + 5 + 31
        // bytes), then copied out once.
        let mut code_digits = [0u8; 5];
        let code_digits = decimal(code, &mut code_digits);
        let mut out = [0u8; 40];
        let total = 1 + code_digits.len() + national.len();
        out[0] = b'+';
        out[1..=code_digits.len()].copy_from_slice(code_digits);
        out.get_mut(1 + code_digits.len()..total)?.copy_from_slice(national);
        std::str::from_utf8(&out[..total]).ok().map(str::to_owned)
    }

    /// The slow path: E.164 through the service, without the fast path (None when the
    /// service cannot read the number, or when there is no service).
    #[doc(hidden)]
    pub fn phone_by_libphonenumber(&self, s: &str) -> Option<String> {
        self.by_service(&text(s))
    }
}
