//! People API answers as Google (or anything in between) sends them: every parser gives a
//! value or a coded BAD_RESPONSE; parsed people map to records without a panic.
#![no_main]
use contact_sync::providers::google::person::{to_record, GroupDirectory};
use contact_sync::providers::google::protocol;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else { return };
    let groups = GroupDirectory::default();
    match protocol::parse_connections(body) {
        Ok(page) => {
            for p in &page.people {
                let _ = to_record(p, &groups);
            }
        }
        Err(e) => assert_eq!(e.code, "BAD_RESPONSE"),
    }
    if let Ok(items) = protocol::parse_batch_get(body) {
        for (_, outcome) in items {
            if let protocol::ItemOutcome::Done(p) = outcome {
                let _ = to_record(&p, &groups);
            }
        }
    }
    let _ = protocol::parse_batch_update(body, &["people/c1".to_string()]);
    let _ = protocol::parse_batch_create(body, 1);
    if let Ok(page) = protocol::parse_groups(body) {
        let _ = GroupDirectory::new(&page.groups);
    }
    let _ = protocol::classify_failure(protocol::RequestKind::Update, 400, Some("3"), body);
});
