#![cfg(not(target_arch = "wasm32"))]
//! Normal forms: idempotent, round-trip stable, formatting-insensitive (invariant 9).
//! Case count: PROPTEST_CASES (default 2,000).

use contact_sync::engine::model::{Address, ValueKind};
use contact_sync::engine::normalize::{self, PhoneNormalizer};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// French mobile and fixed numbers written the ways people and providers write them.
fn fr_number() -> impl Strategy<Value = (String, String)> {
    (prop::sample::select(vec!['1', '2', '3', '4', '5', '6', '7', '9']), prop::collection::vec(0u8..10, 8)).prop_map(|(first, rest)| {
        let digits: String = std::iter::once(first).chain(rest.iter().map(|d| char::from(b'0' + d))).collect();
        (digits.clone(), format!("+33{digits}"))
    })
}

fn written(digits: &str, style: u8) -> String {
    let pairs: Vec<String> = format!("0{digits}").as_bytes().chunks(2).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    match style % 6 {
        0 => pairs.join(" "),
        1 => pairs.join("."),
        2 => format!("0{digits}"),
        3 => format!("+33 {} {}", &digits[..1], digits[1..].as_bytes().chunks(2).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")),
        4 => format!("+33 (0){digits}"),
        _ => format!("  +33{digits} "),
    }
}

#[test]
fn phone_formats_of_one_number_normalize_equal() {
    let fr = PhoneNormalizer::new("FR");
    for s in ["+33 6 12 34 56 78", "06 12 34 56 78", "0612345678", "06.12.34.56.78", "+33 (0)6 12 34 56 78", "0033 6 12 34 56 78", "06-12-34-56-78"] {
        assert_eq!(fr.phone(s), "+33612345678", "{s}");
    }
}

#[test]
fn default_region_decides_numbers_without_plus() {
    assert_eq!(PhoneNormalizer::new("FR").phone("01 42 68 53 00"), "+33142685300");
    assert_eq!(PhoneNormalizer::new("BE").phone("02 555 12 12"), "+3225551212");
    assert_eq!(PhoneNormalizer::new("US").phone("(202) 555-0143"), "+12025550143");
}

#[test]
fn common_french_forms_take_the_fast_path() {
    // The fast path once declined every number (the crate's general descriptor lists no
    // lengths): the benchmark's phones all went through the regex parser.
    let fr = PhoneNormalizer::new("FR");
    for s in ["06 12 34 56 78", "0612345678", "06.12.34.56.78", "06-12-34-56-78", "+33 6 12 34 56 78", "+33612345678", "01 42 68 53 00"] {
        assert!(fr.fast_e164(s).is_some(), "{s}");
    }
    // What the fast path must leave to the parser.
    for s in ["00 33 6 12 34 56 78", "+33 06 12 34 56 78", "+33 (0)6 12 34 56 78", "06 12 34 56 78 ext. 12", "0 6", "+33 6 12"] {
        assert_eq!(fr.fast_e164(s), None, "{s}");
    }
}

#[test]
fn url_without_a_trailing_slash_or_the_space_before_it() {
    // Found by the 100,000-case soak: "🌀 /" gave "🌀 ", which normalized again to "🌀".
    for (s, n) in [("🌀 /", "🌀"), ("a/ /", "a"), ("HTTPS://Example.FR/ ", "https://example.fr"), ("a:// /", "a://")] {
        assert_eq!(normalize::url(s), n, "{s}");
        assert_eq!(normalize::url(n), n, "{n}");
    }
}

#[test]
fn base_hashes_keep_their_stored_form() {
    // Stored states hold these strings: the encoding must never change.
    use contact_sync::engine::state::{base36, base36_eq, hash36, hash53};
    assert_eq!(hash36(""), "1fl38ktp1yd");
    assert_eq!(hash36("a"), "ap6mcnqjkc");
    assert_eq!(hash36("+33612345678"), "gi81b6ty56");
    assert_eq!(base36(0), "0");
    assert_eq!(base36(u64::MAX), "3w5e11264sgsf");
    for s in ["", "a", "+33612345678", "Élodie"] {
        let h = hash53(s);
        assert!(base36_eq(h, &hash36(s)));
        assert!(!base36_eq(h, &format!("{}0", hash36(s))));
        assert!(!base36_eq(h, ""));
    }
}

#[test]
fn unparseable_phone_keeps_a_stable_form() {
    let fr = PhoneNormalizer::new("FR");
    let once = fr.phone("ask the front desk");
    assert!(once.starts_with('~'));
    assert_eq!(fr.phone(&once), once);
    assert_eq!(fr.phone(""), fr.phone(&fr.phone("")));
}

#[test]
fn without_a_phone_service_the_fast_path_still_reads_plain_numbers() {
    // The wasm plugin before (or without) its libphonenumber-js service.
    let bare = PhoneNormalizer::with_service("FR", None);
    for s in ["06 12 34 56 78", "+33 6 12 34 56 78", "06.12.34.56.78"] {
        assert_eq!(bare.phone(s), "+33612345678", "{s}");
    }
    // What the fast path leaves to a parser keeps a stable, idempotent form.
    for s in ["0033 6 12 34 56 78", "+33 (0)6 12 34 56 78", "06 12 34 56 78 ext. 12"] {
        let once = bare.phone(s);
        assert!(once.starts_with('~'), "{s} gave {once}");
        assert_eq!(bare.phone(&once), once);
    }
    assert!(!bare.is_valid_mobile("06 12 34 56 78"));
    assert_eq!(PhoneNormalizer::new("FR").phone("0033 6 12 34 56 78"), "+33612345678");
}

#[test]
fn a_service_answer_that_would_not_normalize_to_itself_is_refused() {
    use contact_sync::engine::phone_service::PhoneService;
    // A national number starting with 0 is not a fixed point: read again it gives another
    // number. Not E.164 at all is refused too.
    static NOT_A_FIXED_POINT: PhoneService = PhoneService {
        name: "test",
        e164: |t, _| Some(if t.starts_with("+330") { "+33612345678".into() } else { "+330612345678".into() }),
        is_valid_mobile: |_, _| true,
    };
    static NOT_E164: PhoneService = PhoneService { name: "test", e164: |_, _| Some("+33 6 12".into()), is_valid_mobile: |_, _| false };
    let n = PhoneNormalizer::with_service("FR", Some(&NOT_A_FIXED_POINT));
    assert_eq!(n.phone("0033 6 12 34 56 78"), "~0033612345678");
    assert!(n.is_valid_mobile("0033 6 12 34 56 78"));
    assert!(!n.is_valid_mobile("no digits"), "the service is not asked about text without a digit");
    let n = PhoneNormalizer::with_service("FR", Some(&NOT_E164));
    assert_eq!(n.phone("0033 6 12 34 56 78"), "~0033612345678");
    // Without a default region only `+` numbers reach the service.
    assert!(!PhoneNormalizer::with_service("XX", Some(&NOT_A_FIXED_POINT)).is_valid_mobile("06 12 34 56 78"));
}

#[test]
fn valid_mobile_predicate_tells_mobiles_from_landlines() {
    let fr = PhoneNormalizer::new("FR");
    assert!(fr.is_valid_mobile("+33 7 81 23 45 67"));
    assert!(fr.is_valid_mobile("06 12 34 56 78"));
    assert!(!fr.is_valid_mobile("01 42 68 53 00"));
    assert!(!fr.is_valid_mobile("not a number"));
    assert!(!fr.is_valid_mobile(""));
}

#[test]
fn email_case_and_spacing_are_not_changes() {
    assert_eq!(normalize::email("  Marie.CURIE@Sorbonne.FR"), normalize::email("marie.curie@sorbonne.fr "));
    assert_eq!(normalize::email("ÉLODIE@exemple.fr"), "élodie@exemple.fr");
}

#[test]
fn address_tuple_ignores_case_spacing_and_postal_code_spaces() {
    let a = Address { street: "12  rue de la Paix".into(), city: "PARIS".into(), postal_code: "75 002".into(), country: "France".into(), kind: ValueKind::Work, ..Address::default() };
    let b = Address { street: "12 rue de la paix ".into(), city: "Paris".into(), postal_code: "75002".into(), country: "france".into(), kind: ValueKind::Home, ..Address::default() };
    assert_eq!(normalize::address(&a), normalize::address(&b));
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn text_normalization_is_idempotent(s in "\\PC{0,30}") {
        let once = normalize::text(&s);
        prop_assert_eq!(normalize::text(&once), once.clone());
        let e = normalize::email(&s);
        prop_assert_eq!(normalize::email(&e), e);
        let u = normalize::url(&s);
        prop_assert_eq!(normalize::url(&u), u);
    }

    #[test]
    fn phone_normalization_is_idempotent_on_any_text(s in "[0-9 +().\\-/a-z#*]{0,20}") {
        let fr = PhoneNormalizer::new("FR");
        let once = fr.phone(&s);
        prop_assert_eq!(fr.phone(&once), once);
    }

    #[test]
    fn phone_normalization_is_idempotent_on_numbers_of_any_country(cc in prop::sample::select(vec!["1", "33", "44", "49", "32", "39", "352", "81", "55", "54", "7"]), rest in "[0-9]{4,12}") {
        let fr = PhoneNormalizer::new("FR");
        let s = format!("+{cc} {rest}");
        let once = fr.phone(&s);
        prop_assert_eq!(fr.phone(&once), once.clone());
        if let Some(slow) = fr.phone_by_libphonenumber(&s) {
            prop_assert_eq!(once, slow);
        }
    }

    #[test]
    fn fast_path_agrees_with_libphonenumber_in_any_region(
        region in prop::sample::select(vec!["FR", "BE", "CH", "DE", "IT", "ES", "NL", "LU", "US", "GB", "RU", "BR", "JP"]),
        plus in any::<bool>(),
        cc in prop::sample::select(vec!["1", "7", "32", "33", "34", "39", "41", "44", "49", "55", "81", "352"]),
        lead in prop::sample::select(vec!["", "0", "00", "8", "810", "1", "011", "33", "7"]),
        rest in "[0-9]{1,13}",
        sep in prop::sample::select(vec!["", " ", ".", "-"]),
    ) {
        // Leads: national prefixes, international prefixes (00, 011, 810) and country codes
        // typed without `+`, each of which the parser treats specially.
        let n = PhoneNormalizer::new(region);
        let s = if plus { format!("+{cc}{sep}{lead}{rest}") } else { format!("{lead}{sep}{rest}") };
        if let Some(fast) = n.fast_e164(&s) {
            prop_assert_eq!(Some(fast.clone()), n.phone_by_libphonenumber(&s), "{} in {}", s, region);
            prop_assert_eq!(n.phone(&fast), fast);
        }
    }

    #[test]
    fn every_written_form_of_a_french_number_normalizes_like_libphonenumber((digits, e164) in fr_number(), style in 0u8..6) {
        let fr = PhoneNormalizer::new("FR");
        let s = written(&digits, style);
        let fast = fr.phone(&s);
        let slow = fr.phone_by_libphonenumber(&s);
        prop_assert_eq!(Some(fast.clone()), slow);
        prop_assert_eq!(fast.clone(), e164);
        prop_assert_eq!(fr.phone(&fast), fast);
    }

    #[test]
    fn phone_render_then_parse_round_trips((digits, _e164) in fr_number()) {
        // norm(parse(render(x))) == norm(x): render in libphonenumber's national and
        // international formats, then normalize again.
        let fr = PhoneNormalizer::new("FR");
        let norm = fr.phone(&format!("0{digits}"));
        if let Ok(n) = phonenumber::parse(None, &norm) {
            for mode in [phonenumber::Mode::National, phonenumber::Mode::International, phonenumber::Mode::Rfc3966] {
                let rendered = n.format().mode(mode).to_string();
                prop_assert_eq!(fr.phone(&rendered), norm.clone(), "{}", rendered);
            }
        }
    }

    #[test]
    fn address_normalization_is_idempotent(street in "\\PC{0,20}", city in "\\PC{0,10}", pc in "[0-9 A-Za-z]{0,8}") {
        let a = Address { street, city, postal_code: pc, ..Address::default() };
        let n = normalize::address(&a);
        let parts: Vec<&str> = n.split('\u{1f}').collect();
        let b = Address { street: parts[0].into(), city: parts[1].into(), postal_code: parts[2].into(), region: parts[3].into(), country: parts[4].into(), ..Address::default() };
        prop_assert_eq!(normalize::address(&b), n);
    }
}

/// The normal forms as they were written before the allocation-free fast paths, kept
/// verbatim as the reference those paths must match byte for byte (stored bases hash
/// these forms: a difference would make every saved pair look edited).
mod reference {
    use contact_sync::engine::model::{Address, ValueKind};
    use contact_sync::engine::normalize::PhoneRegion;
    use contact_sync::engine::phone_table::REGIONS;

    /// `normalize::text` by its definition: NFC, outer white space trimmed (before and
    /// after composing).
    pub fn text(s: &str) -> String {
        use unicode_normalization::UnicodeNormalization;
        let n: String = s.trim().nfc().collect();
        n.trim().to_string()
    }

    pub fn email(s: &str) -> String {
        let t = text(s);
        if t.is_ascii() {
            t.to_ascii_lowercase()
        } else {
            let lower = t.to_lowercase();
            text(&lower)
        }
    }

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

    pub fn date(s: &str) -> String {
        let t = text(s);
        match t.find('T') {
            Some(i) if i >= 7 => t[..i].to_string(),
            _ => t,
        }
    }

    pub fn parse_kind(label: &str) -> ValueKind {
        let t = label.trim();
        if t.is_ascii() {
            let is = |names: &[&str]| names.iter().any(|n| t.eq_ignore_ascii_case(n));
            return if is(&["", "other"]) {
                ValueKind::Other
            } else if is(&["home", "private", "personal"]) {
                ValueKind::Home
            } else if is(&["work", "business", "office"]) {
                ValueKind::Work
            } else if is(&["mobile", "cell", "cellphone", "portable"]) {
                ValueKind::Mobile
            } else {
                ValueKind::Custom(t.to_string())
            };
        }
        match t.to_lowercase().as_str() {
            "" | "other" => ValueKind::Other,
            "home" | "private" | "personal" => ValueKind::Home,
            "work" | "business" | "office" => ValueKind::Work,
            "mobile" | "cell" | "cellphone" | "portable" => ValueKind::Mobile,
            _ => ValueKind::Custom(t.to_string()),
        }
    }

    pub fn kind(k: &ValueKind) -> String {
        match k {
            ValueKind::Custom(s) => text(s).to_lowercase(),
            other => other.as_str().to_string(),
        }
    }

    pub fn address(a: &Address) -> String {
        fn squash(s: &str) -> String {
            text(s).to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ")
        }
        let postal: String = text(&a.postal_code).to_uppercase().split_whitespace().collect();
        [squash(&a.street), squash(&a.city), postal, squash(&a.region), squash(&a.country)].join("\u{1f}")
    }

    fn regions_of(code: u16) -> &'static [PhoneRegion] {
        let start = REGIONS.partition_point(|r| r.code < code);
        let end = start + REGIONS[start..].partition_point(|r| r.code == code);
        &REGIONS[start..end]
    }

    fn starts_with_idd(region: &PhoneRegion, digits: &[u8]) -> bool {
        region.idd.iter().any(|alt| alt.len() <= digits.len() && alt.iter().zip(digits).all(|(class, d)| class.as_bytes().contains(d)))
    }

    /// `PhoneNormalizer::fast_e164` with `region` as the default region.
    pub fn fast_e164(region: Option<&PhoneRegion>, t: &str) -> Option<String> {
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
            let k = (1..=3).find(|&k| digits.get(..k).and_then(|cc| cc.parse::<u16>().ok()).is_some_and(|cc| !regions_of(cc).is_empty()))?;
            (digits.get(..k)?.parse::<u16>().ok()?, digits.get(k..)?)
        } else {
            let region = region?;
            if region.national_prefix.is_empty() {
                return None;
            }
            if digits.starts_with(&region.code.to_string()) {
                return None;
            }
            if starts_with_idd(region, digits.as_bytes()) {
                return None;
            }
            (region.code, digits.strip_prefix(region.national_prefix)?)
        };
        if national.is_empty() || national.starts_with('0') {
            return None;
        }
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
            if !r.national_prefix.is_empty() && national.starts_with(r.national_prefix) {
                return None;
            }
            length_ok = length_ok || r.lengths & (1 << len) != 0;
        }
        if !length_ok {
            return None;
        }
        Some(format!("+{code}{national}"))
    }

    /// `PhoneNormalizer::phone` without a phone service.
    pub fn phone_without_service(region: Option<&PhoneRegion>, s: &str) -> String {
        let t = text(s);
        if t.starts_with('~') {
            return t;
        }
        if let Some(fast) = fast_e164(region, &t) {
            return fast;
        }
        let mut out = String::with_capacity(t.len() + 1);
        out.push('~');
        out.extend(t.chars().filter(|c| c.is_alphanumeric() || matches!(c, '+' | '*' | '#')).flat_map(|c| c.to_lowercase()));
        out
    }
}

#[test]
fn characters_below_u0300_are_nfc_with_combining_class_0() {
    // What `normalize::text` relies on to skip the NFC quick check for such text.
    use unicode_normalization::char::canonical_combining_class;
    use unicode_normalization::{is_nfc_quick, IsNormalized};
    for c in (0..0x300u32).filter_map(char::from_u32) {
        assert_eq!(canonical_combining_class(c), 0, "{c:?}");
        assert_eq!(is_nfc_quick(std::iter::once(c)), IsNormalized::Yes, "{c:?}");
    }
    // The first character past it is a combining mark.
    assert_ne!(canonical_combining_class('\u{300}'), 0);
}

/// Text built from the characters the fast paths treat specially: ASCII of both cases,
/// every ASCII white space (vertical tab included: `char::is_whitespace` counts it,
/// `u8::is_ascii_whitespace` does not), non-ASCII spaces, combining marks (NFC composes
/// them), precomposed letters, final sigma (context-sensitive lowercasing), letters whose
/// case mapping changes length (ß, İ, ﬁ), separators and the address joiner.
fn adversarial_text(max: usize) -> impl Strategy<Value = String> {
    let chars = vec![
        'a', 'Z', 'e', 'E', 'q', '0', '6', '9', ' ', ' ', '\t', '\n', '\u{b}', '\u{c}', '\r', '\u{a0}', '\u{85}', '\u{3000}', '\u{2028}', '\u{301}', '\u{327}', '\u{308}', 'É',
        'é', 'Σ', 'σ', 'ß', 'İ', 'ﬁ', 'Å', '\u{212b}', '.', '@', ':', '/', '-', '+', '(', ')', 'T', '~', '\u{1f}', '#', '*',
    ];
    prop::collection::vec(prop::sample::select(chars), 0..max).prop_map(|v| v.into_iter().collect())
}

/// Written phone numbers, plain and less plain: separators, brackets, `(0`, a `+` in the
/// middle, letters, and runs of digits longer than any number (past the fast path's
/// digit buffer).
fn adversarial_phone() -> impl Strategy<Value = String> {
    let chars = vec!['0', '0', '1', '2', '3', '3', '4', '5', '6', '7', '8', '9', ' ', '.', '-', '/', '\u{a0}', '(', ')', '+', 'a', 'É', '~', '\u{301}', '\t'];
    prop_oneof![
        prop::collection::vec(prop::sample::select(chars), 0..24).prop_map(|v| v.into_iter().collect::<String>()),
        (any::<bool>(), "[0-9]{0,8}", "[0-9 ]{20,90}").prop_map(|(plus, a, b)| format!("{}{a}{b}", if plus { "+" } else { "" })),
        (any::<bool>(), "[0-9]{1,3}", "[0-9 .()-]{4,16}").prop_map(|(plus, a, b)| format!("{}{a} {b}", if plus { "+" } else { "" })),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn text_matches_nfc_and_trim(s in prop_oneof![adversarial_text(24), "\\PC{0,30}", "[\\u{0}-\\u{400}]{0,12}"]) {
        prop_assert_eq!(normalize::text(&s), reference::text(&s));
    }

    #[test]
    fn text_forms_match_their_reference(s in prop_oneof![adversarial_text(24), "\\PC{0,30}"]) {
        prop_assert_eq!(normalize::email(&s), reference::email(&s));
        prop_assert_eq!(normalize::url(&s), reference::url(&s));
        prop_assert_eq!(normalize::date(&s), reference::date(&s));
        let k = ValueKind::parse(&s);
        prop_assert_eq!(normalize::kind(&k), reference::kind(&k));
        prop_assert_eq!(normalize::kind_ref(&k), reference::kind(&k));
        let custom = ValueKind::Custom(s.clone());
        prop_assert_eq!(normalize::kind(&custom), reference::kind(&custom));
    }

    #[test]
    fn kind_labels_parse_like_their_reference(
        name in prop::sample::select(vec!["", "other", "home", "private", "personal", "work", "business", "office", "mobile", "cell", "cellphone", "portable", "cellphones", "wor", "assistant"]),
        case in prop::collection::vec(any::<bool>(), 10),
        pad in prop::sample::select(vec!["", " ", "\t", "\u{a0}", "\u{301}", "x", "É"]),
        other in adversarial_text(12),
    ) {
        let cased: String = name.chars().zip(case.iter().cycle()).map(|(c, &up)| if up { c.to_ascii_uppercase() } else { c }).collect();
        for label in [cased.clone(), format!("{pad}{cased}{pad}"), format!("{cased}{pad}"), other.clone()] {
            prop_assert_eq!(ValueKind::parse(&label), reference::parse_kind(&label), "{:?}", label);
        }
    }

    #[test]
    fn address_form_matches_its_reference(parts in prop::collection::vec(prop_oneof![adversarial_text(16), "\\PC{0,12}"], 5)) {
        let a = Address { street: parts[0].clone(), city: parts[1].clone(), postal_code: parts[2].clone(), region: parts[3].clone(), country: parts[4].clone(), ..Address::default() };
        prop_assert_eq!(normalize::address(&a), reference::address(&a));
        // Each component through the postal-code rule and the others' rule.
        let b = Address { street: parts[2].clone(), city: parts[3].clone(), postal_code: parts[0].clone(), region: parts[1].clone(), country: parts[4].clone(), ..Address::default() };
        prop_assert_eq!(normalize::address(&b), reference::address(&b));
    }

    #[test]
    fn phone_fast_path_matches_its_reference(s in adversarial_phone(), region in 0..contact_sync::engine::phone_table::REGIONS.len()) {
        use contact_sync::engine::phone_table::REGIONS;
        let r = &REGIONS[region];
        // Regions are looked up by their alpha-2 code ("001" is no default region).
        let default = (r.id.len() == 2).then_some(r);
        let n = PhoneNormalizer::with_service(r.id, None);
        prop_assert_eq!(n.fast_e164(&s), reference::fast_e164(default, &s), "{:?} in {}", s, r.id);
        prop_assert_eq!(n.phone(&s), reference::phone_without_service(default, &s), "{:?} in {}", s, r.id);
    }
}
