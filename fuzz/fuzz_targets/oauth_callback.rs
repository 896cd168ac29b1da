//! The redirect URL of an OAuth consent, as a browser or a forger hands it over: a code,
//! or a coded refusal; the code, when given, is what the URL carried for our state.
#![no_main]
use contact_sync::providers::google::oauth::PendingAuthorization;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(url) = std::str::from_utf8(data) else { return };
    let Ok(p) = PendingAuthorization::new(&[1; 32], &[2; 16], "http://127.0.0.1:9/callback") else { return };
    for candidate in [url.to_string(), url.replace("STATE", &p.state)] {
        match p.parse_callback(&candidate) {
            Ok(code) => {
                assert!(!code.is_empty() && code.bytes().all(|b| b.is_ascii_graphic()));
                assert!(candidate.contains(&p.state), "a code is only taken with our state");
            }
            Err(e) => assert!(matches!(e.code, "AUTH_DENIED" | "BAD_RESPONSE") && !e.remedy.is_empty()),
        }
    }
});
