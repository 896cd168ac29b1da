//! A vCard as any client writes it: read within the limits or refused with a code; an
//! edit of one field written back re-reads as the edited contact (the other properties
//! kept as written), or is refused with a code; a new card made of what was read
//! reads, and reads the same once written.
#![no_main]
use contact_sync::providers::carddav::{content_lines, vcard, CardDavErrorCode};
use libfuzzer_sys::fuzz_target;

const EDITED_TITLE: &str = "Fuzz, edited; title \\ with a backslash";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    assert_eq!(content_lines::split(text).concat(), text, "the lines of a card are the card");
    let read = match vcard::read(text) {
        Ok(read) => read,
        Err(e) => return assert_eq!(e.code, CardDavErrorCode::BadResponse),
    };
    let contact = read.contact;
    assert_eq!(vcard::render_update(text, &contact, None).expect("it read once"), None, "nothing changed, nothing written");

    if contact.organization.title != EDITED_TITLE {
        let mut edited = contact.clone();
        edited.organization.title = EDITED_TITLE.to_string();
        // Written so that it reads back as edited, or refused with a code (a card whose
        // lines calcard and we group differently), never written wrong.
        match vcard::render_update(text, &edited, Some("crm-1")) {
            Ok(Some(out)) => {
                let back = vcard::read(&out).expect("what we write reads");
                assert_eq!(back.contact, edited, "only the edited field changed:\n{text:?}\n{out:?}");
                assert_eq!(back.crm_id.as_deref(), Some("crm-1"));
            }
            Ok(None) => panic!("an edit is written or refused"),
            Err(e) => assert_eq!(e.code, CardDavErrorCode::BadResponse),
        }
    }

    // A new card reads, and says the same once written: what the model cannot carry
    // (a birthday of junk after a date) goes at the first write, never on and on.
    let fresh = vcard::render_new(&contact, "crm-1", "uid-1");
    let once = vcard::read(&fresh).expect("a new card reads").contact;
    let twice = vcard::read(&vcard::render_new(&once, "crm-1", "uid-1")).expect("a new card reads").contact;
    assert_eq!(twice, once, "a new card says what it was made of:\n{text:?}\n{fresh:?}");
});
