#![cfg(not(target_arch = "wasm32"))]
//! Text values with commas and semicolons (issue 11, defect 1): single text properties
//! are read whole whatever the producer escaped, and what we write back is escaped so
//! that another client (Radicale's vobject here) reads it whole too.

mod carddav_support;

use carddav_support::driver::run;
use carddav_support::{crm_contact, radicale_or_skip, UreqFetch, PASSWORD, USER};
use contact_sync::crm::CrmPatch;
use contact_sync::engine::state::SpokeState;
use contact_sync::engine::{DeletionPolicy, SyncConfig};
use contact_sync::host::{Host, MemoryHost};
use contact_sync::providers::carddav::{vcard, CardDavProvider};
use pollster::block_on;
use serde_json::{json, Map};

fn config() -> SyncConfig {
    SyncConfig { spoke_id: "dav".into(), deletion: DeletionPolicy::Propagate, max_delete_share: 1.0, ..SyncConfig::default() }
}

#[test]
fn raw_commas_and_semicolons_in_single_text_values_are_read_whole() {
    for version in ["2.1", "3.0", "4.0"] {
        let card = format!(
            "BEGIN:VCARD\r\nVERSION:{version}\r\nFN:Smith, John; Jr\r\nNOTE:Met at the fair, booth 12; call back\r\n\
             TITLE:Head of sales, EMEA; interim\r\nX-ASSISTANT:Jane, Doe; Ms\r\nEND:VCARD\r\n"
        );
        let c = vcard::read(&card).unwrap().contact;
        assert_eq!(c.note, "Met at the fair, booth 12; call back", "{version}");
        assert_eq!(c.name.given, "Smith, John; Jr", "{version}: FN alone names the contact");
        assert_eq!(c.organization.title, "Head of sales, EMEA; interim", "{version}");
        assert_eq!(c.custom.get("X-ASSISTANT").map(String::as_str), Some("Jane, Doe; Ms"), "{version}");
    }
}

#[test]
fn structured_and_list_values_still_split_where_they_should() {
    let card = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Smith;John;;;\r\nORG:Acme, Inc.;Sales, EMEA\r\n\
                ADR;TYPE=WORK:;;1 Main St, Suite 4;Springfield;;12345;USA\r\nCATEGORIES:VIP,Press\\, TV\r\nEND:VCARD\r\n";
    let c = vcard::read(card).unwrap().contact;
    assert_eq!((c.organization.name.as_str(), c.organization.department.as_str()), ("Acme, Inc.", "Sales, EMEA"));
    assert_eq!(c.addresses[0].street, "1 Main St, Suite 4");
    assert_eq!(c.addresses[0].city, "Springfield");
    assert_eq!(c.labels, vec!["VIP".to_string(), "Press, TV".to_string()]);
}

/// Radicale, as a client other than us: what it serves after our write.
fn server_card(server: &carddav_support::Radicale, book: &str, family: &str) -> vcard::CardContent {
    server
        .stored_names("contacts")
        .iter()
        .filter_map(|n| server.get_card(&format!("{book}{n}")))
        .map(|t| vcard::read(&t).unwrap())
        .find(|c| c.contact.name.family == family)
        .unwrap_or_else(|| panic!("no card of {family} on the server"))
}

#[test]
fn a_url_with_an_escaped_comma_survives_an_edit_of_another_field_through_radicale() {
    let Some(server) = radicale_or_skip("a_url_with_an_escaped_comma_survives") else { return };
    let book = server.create_address_book("contacts");
    // Apple and Google escape commas in URLs; Radicale keeps them escaped.
    let url = "https://maps.example.com/?q=48.8566,2.3522&z=12";
    server.put_card(
        &book,
        "map.vcf",
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:map\r\nFN:Ann Archer\r\nN:Archer;Ann;;;\r\n\
         URL:https://maps.example.com/?q=48.8566\\,2.3522&z=12\r\nNOTE:one\\, two\\; three\r\nEND:VCARD\r\n",
    );
    assert_eq!(server_card(&server, &book, "Archer").contact.urls[0].value, url, "Radicale keeps an escaped comma");
    let host = MemoryHost::new();
    let mut p = CardDavProvider::new(UreqFetch::new(), USER, PASSWORD, &book);
    let mut state = SpokeState::new();
    run(&host, &mut p, &config(), &mut state);
    let ann = host.live_contacts().into_iter().next().unwrap();
    assert_eq!(ann.fields.get("website"), Some(&json!(url)), "imported whole");

    let mut f = Map::new();
    f.insert("jobTitle".into(), json!("Captain"));
    block_on(host.crm_update(&ann.id, ann.version, &CrmPatch { fields: Some(f), ..CrmPatch::default() })).unwrap();
    let out = run(&host, &mut p, &config(), &mut state);
    assert_eq!(out.writes()[1], 1, "the edit is written: {:?}", out.summaries);
    let after = server_card(&server, &book, "Archer").contact;
    assert_eq!(after.organization.title, "Captain");
    assert_eq!(after.urls[0].value, url, "the URL we carried over is read whole by Radicale");
    assert_eq!(after.note, "one, two; three");
    let quiet = run(&host, &mut p, &config(), &mut state);
    assert_eq!(quiet.writes(), [0; 6], "and nothing flows back: {:?}", quiet.summaries);
}

#[test]
fn crm_texts_and_urls_with_commas_and_semicolons_reach_radicale_whole() {
    let Some(server) = radicale_or_skip("crm_texts_and_urls_with_commas") else { return };
    let book = server.create_address_book("contacts");
    let host = MemoryHost::new();
    let mut new = crm_contact("Bob", "Baker", "bob@x.org");
    let note = "Met at the fair, booth 12; call back\nSecond line, with \\ a backslash";
    let url = "https://maps.example.com/?q=48.8566,2.3522;z=12";
    new.fields.insert("notes".into(), json!(note));
    new.fields.insert("website".into(), json!(url));
    new.fields.insert("jobTitle".into(), json!("Head of sales, EMEA; interim"));
    new.fields.insert("company".into(), json!("Acme, Inc.; Paris"));
    block_on(host.crm_create(&new)).unwrap();
    let mut p = CardDavProvider::new(UreqFetch::new(), USER, PASSWORD, &book);
    let mut state = SpokeState::new();
    run(&host, &mut p, &config(), &mut state);
    let card = server_card(&server, &book, "Baker").contact;
    assert_eq!(card.note, note);
    assert_eq!(card.urls[0].value, url);
    assert_eq!(card.organization.title, "Head of sales, EMEA; interim");
    assert_eq!(card.organization.name, "Acme, Inc.; Paris");
    let quiet = run(&host, &mut p, &config(), &mut state);
    assert_eq!(quiet.writes(), [0; 6], "{:?}", quiet.summaries);
}
