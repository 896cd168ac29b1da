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
