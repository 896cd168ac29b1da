#![cfg(not(target_arch = "wasm32"))]
//! The CardDAV spoke behind the provider seam, against a real Radicale: listings in one
//! request, incremental changes and tombstones, creates that carry the CRM id and cannot
//! duplicate, updates that keep what we do not map, 412 races, deletions, renamed hrefs.

mod carddav_support;

use carddav_support::{radicale_or_skip, Proxy, UreqFetch, PASSWORD, USER};
use contact_sync::engine::model::{Contact, Email, Phone, RemoteRecord, ValueKind};
use contact_sync::providers::carddav::{vcard, CardDavProvider};
use contact_sync::providers::{ItemResult, ListError, NewRemote, PageNext, Provider};
use pollster::block_on;

fn card(uid: &str, given: &str, family: &str, email: &str) -> String {
    format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{given} {family}\r\nN:{family};{given};;;\r\nEMAIL;TYPE=INTERNET,WORK:{email}\r\nEND:VCARD\r\n"
    )
}

/// Folded lines, non-ASCII, several TYPE parameters, an inline PHOTO, Apple grouped
/// labels, an IMPP: valid vCard 3.0 that a sync must carry over untouched.
const UNUSUAL: &str = "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Apple Inc.//iPhone OS 17.0//EN\r\nUID:unusual-1\r\n\
FN:Zoë Ångström-Øster\r\nN:Ångström-Øster;Zoë;Maria;Dr.;\r\n\
EMAIL;type=INTERNET;type=WORK;type=pref:zoe@example.org\r\n\
TEL;TYPE=CELL;TYPE=VOICE;TYPE=pref:+33 6 12 34 56 78\r\nTEL;TYPE=WORK,FAX:+33 1 23 45 67 89\r\n\
item1.ADR;type=HOME:;;12 rue de l'Église\\nBâtiment B;Paris;Île-de-France;75004;France\r\nitem1.X-ABADR:fr\r\n\
item2.X-ABLabel:_$!<Anniversary>!$_\r\nitem2.X-ABDATE:2010-06-12\r\n\
NOTE:Une très longue note qui dépasse largement soixante-quinze octets et qui\r\n  doit donc être pliée sur plusieurs lignes — avec des accents.\r\n\
IMPP;X-SERVICE-TYPE=Skype;type=HOME:skype:zoe.example\r\n\
PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP////////////////////////\r\n ////////////////////////////////////////////////////////////wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==\r\n\
END:VCARD\r\n";

fn provider(url: &str) -> CardDavProvider<UreqFetch> {
    CardDavProvider::new(UreqFetch::new(), USER, PASSWORD, url)
}

fn done(r: &ItemResult) -> RemoteRecord {
    match r {
        ItemResult::Done(rec) => rec.clone(),
        other => panic!("expected Done, got {other:?}"),
    }
}

fn full_listing(p: &mut CardDavProvider<UreqFetch>) -> (Vec<RemoteRecord>, String) {
    let page = block_on(p.list_page(None, None)).expect("listing");
    let PageNext::Done(cursor) = page.next else { panic!("one page expected") };
    (page.records, cursor)
}

#[test]
fn a_first_listing_returns_every_card_in_one_request() {
    let Some(server) = radicale_or_skip("a_first_listing_returns_every_card_in_one_request") else { return };
    let book = server.create_address_book("contacts");
    for i in 0..30 {
        server.put_card(&book, &format!("c{i}.vcf"), &card(&format!("u{i}"), "Ann", &format!("Lee{i}"), &format!("ann{i}@x.org")));
    }
    let mut p = provider(&book);
    let (records, cursor) = full_listing(&mut p);
    assert_eq!(p.client().request_count(), 1, "one sync-collection REPORT with address-data");
    assert_eq!(records.len(), 30);
    assert!(records.iter().all(|r| !r.etag.is_empty() && r.id.ends_with(".vcf") && !r.deleted));
    assert!(records.iter().any(|r| r.contact.name.family == "Lee7" && r.contact.emails[0].value == "ann7@x.org"));

    // Nothing changed: one request, no records, same cursor shape.
    let page = block_on(p.list_page(Some(&cursor), None)).unwrap();
    assert!(page.records.is_empty());
    assert_eq!(p.client().request_count(), 2);
}

#[test]
fn an_incremental_listing_returns_changes_and_tombstones_only() {
    let Some(server) = radicale_or_skip("an_incremental_listing_returns_changes_and_tombstones_only") else { return };
    let book = server.create_address_book("contacts");
    for i in 0..5 {
        server.put_card(&book, &format!("c{i}.vcf"), &card(&format!("u{i}"), "Ann", &format!("Lee{i}"), "a@x.org"));
    }
    let mut p = provider(&book);
    let (_, cursor) = full_listing(&mut p);
    server.put_card(&book, "c1.vcf", &card("u1", "Anne", "Lee1", "a@x.org"));
    server.delete_card(&format!("{book}c2.vcf"));
    server.put_card(&book, "new.vcf", &card("u-new", "Bob", "New", "b@x.org"));
    let page = block_on(p.list_page(Some(&cursor), None)).unwrap();
    let mut seen: Vec<(String, bool, String)> = page
        .records
        .iter()
        .map(|r| (r.id.rsplit('/').next().unwrap().to_string(), r.deleted, r.contact.name.given.clone()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![("c1.vcf".into(), false, "Anne".into()), ("c2.vcf".into(), true, "".into()), ("new.vcf".into(), false, "Bob".into())]
    );
}

#[test]
fn a_refused_sync_token_is_a_dead_cursor_not_an_empty_book() {
    let Some(server) = radicale_or_skip("a_refused_sync_token_is_a_dead_cursor") else { return };
    let book = server.create_address_book("contacts");
    let mut p = provider(&book);
    let err = block_on(p.list_page(Some("sync:http://radicale.org/ns/sync/0000"), None)).expect_err("dead cursor");
    assert!(matches!(err, ListError::CursorDead), "{err:?}");
    let err = block_on(p.list_page(Some("garbage"), None)).expect_err("dead cursor");
    assert!(matches!(err, ListError::CursorDead));
}

#[test]
fn created_cards_carry_the_crm_id_and_a_retried_create_does_not_duplicate() {
    let Some(server) = radicale_or_skip("created_cards_carry_the_crm_id") else { return };
    let book = server.create_address_book("contacts");
    let mut p = provider(&book);
    let mut contact = Contact::default();
    contact.name.given = "Léa".into();
    contact.name.family = "Durand".into();
    contact.emails.push(Email { value: "lea@x.org".into(), kind: ValueKind::Work, primary: true });
    contact.phones.push(Phone { value: "06 12 34 56 78".into(), kind: ValueKind::Mobile, primary: false });
    let item = NewRemote { crm_id: "crm-42".into(), contact: contact.clone() };
    let first = done(&block_on(p.create(std::slice::from_ref(&item))).unwrap()[0]);
    assert_eq!(first.crm_id.as_deref(), Some("crm-42"));
    assert_eq!(first.contact, contact);
    let stored = server.get_card(&first.id).expect("stored");
    assert!(stored.contains("X-CRM-ID:crm-42"), "{stored}");

    // A run cut off after the PUT retries it with a fresh provider (no memory): the card
    // already there is adopted, not duplicated.
    let mut again = provider(&book);
    let second = done(&block_on(again.create(&[item])).unwrap()[0]);
    assert_eq!(second.id, first.id);
    assert_eq!(server.stored_names("contacts").len(), 1);

    // A lost state re-links: a full listing shows the CRM id on the card.
    let (records, _) = full_listing(&mut again);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].crm_id.as_deref(), Some("crm-42"));
}

#[test]
fn an_update_rewrites_mapped_fields_and_leaves_unusual_content_untouched() {
    let Some(server) = radicale_or_skip("an_update_rewrites_mapped_fields") else { return };
    let book = server.create_address_book("contacts");
    server.put_card(&book, "unusual.vcf", UNUSUAL);
    let mut p = provider(&book);
    let (records, _) = full_listing(&mut p);
    let mut rec = records.into_iter().next().expect("one card");
    assert_eq!(rec.contact.name.given, "Zoë");
    assert_eq!(rec.contact.addresses[0].region, "Île-de-France");
    assert!(rec.contact.note.contains("pliée sur plusieurs lignes"));
    assert_eq!(rec.contact.phones[0].kind, ValueKind::Mobile);
    assert!(rec.contact.phones[0].primary);

    // Nothing changed: no write at all, the server's bytes stay as they are.
    let before_bytes = server.get_card(&rec.id).unwrap();
    let unchanged = done(&block_on(p.update(std::slice::from_ref(&rec))).unwrap()[0]);
    assert_eq!(unchanged.etag, rec.etag);
    assert_eq!(server.get_card(&rec.id).unwrap(), before_bytes);

    // One field changes in the CRM: only that property is rewritten.
    rec.contact.organization.title = "Directrice".into();
    rec.crm_id = Some("crm-7".into());
    let updated = done(&block_on(p.update(std::slice::from_ref(&rec))).unwrap()[0]);
    assert_ne!(updated.etag, rec.etag);
    let after_text = server.get_card(&rec.id).unwrap();
    // Radicale itself reorders properties and parameters when it stores a card, so the
    // reference is the card as the server held it before our write, order aside.
    let before = vcard::parse(&before_bytes).unwrap();
    let after = vcard::parse(&after_text).unwrap();
    let untouched = |c: &calcard::vcard::VCard| -> Vec<String> {
        let mut v: Vec<String> = c
            .entries
            .iter()
            .filter(|e| {
                !matches!(e.name, calcard::vcard::VCardProperty::Title)
                    && !matches!(&e.name, calcard::vcard::VCardProperty::Other(n) if n == "X-CRM-ID")
            })
            .map(|e| format!("{e:?}"))
            .collect();
        v.sort();
        v
    };
    assert_eq!(untouched(&before), untouched(&after), "card after update:\n{after_text}");
    // And what we sent kept the original's inline photo bytes.
    let photo = |c: &calcard::vcard::VCard| {
        c.entries.iter().find(|e| e.name == calcard::vcard::VCardProperty::Photo).map(|e| e.values.clone())
    };
    assert_eq!(photo(&vcard::parse(UNUSUAL).unwrap()), photo(&after));
    assert!(photo(&after).is_some());
    let read = vcard::read(&after_text).unwrap();
    assert_eq!(read.contact.organization.title, "Directrice");
    assert_eq!(read.crm_id.as_deref(), Some("crm-7"));
    assert!(after_text.contains("PHOTO"), "{after_text}");
}

#[test]
fn a_card_changed_on_the_server_between_listing_and_write_is_a_conflict_and_merges_after_refetch() {
    let Some(server) = radicale_or_skip("a_card_changed_between_listing_and_write") else { return };
    let book = server.create_address_book("contacts");
    server.put_card(&book, "race.vcf", &card("race", "Ann", "Lee", "ann@x.org"));
    let mut p = provider(&book);
    let (records, _) = full_listing(&mut p);
    let mut ours = records[0].clone();
    // Another client edits the card (the e-mail) after our listing.
    server.put_card(&book, "race.vcf", &card("race", "Ann", "Lee", "ann@new.org"));
    // Our write (the family name) carries the old etag: 412.
    ours.contact.name.family = "Leeds".into();
    let result = block_on(p.update(std::slice::from_ref(&ours))).unwrap();
    assert_eq!(result[0], ItemResult::Conflict);
    assert_eq!(vcard::read(&server.get_card(&ours.id).unwrap()).unwrap().contact.name.family, "Lee");

    // The runner refetches, merges field by field (here: our family name on their card)
    // and writes again with the fresh etag.
    let fetched = block_on(p.fetch(std::slice::from_ref(&ours.id))).unwrap();
    let mut fresh = done(&fetched[0].1);
    assert_eq!(fresh.contact.emails[0].value, "ann@new.org");
    fresh.contact.name.family = "Leeds".into();
    done(&block_on(p.update(&[fresh])).unwrap()[0]);
    let merged = vcard::read(&server.get_card(&ours.id).unwrap()).unwrap().contact;
    assert_eq!((merged.name.family.as_str(), merged.emails[0].value.as_str()), ("Leeds", "ann@new.org"));
}

#[test]
fn deletes_are_conditional_and_a_card_already_gone_is_gone() {
    let Some(server) = radicale_or_skip("deletes_are_conditional") else { return };
    let book = server.create_address_book("contacts");
    server.put_card(&book, "a.vcf", &card("a", "Ann", "A", "a@x.org"));
    server.put_card(&book, "b.vcf", &card("b", "Bob", "B", "b@x.org"));
    let mut p = provider(&book);
    let (records, _) = full_listing(&mut p);
    let a = records.iter().find(|r| r.id.ends_with("/a.vcf")).unwrap().id.clone();
    let b = records.iter().find(|r| r.id.ends_with("/b.vcf")).unwrap().id.clone();
    // b is edited elsewhere after our listing: deleting it would lose that edit.
    server.put_card(&book, "b.vcf", &card("b", "Bobby", "B", "b@x.org"));
    let results = block_on(p.delete(&[a.clone(), b.clone()])).unwrap();
    assert!(matches!(&results[0], ItemResult::Done(r) if r.deleted));
    assert_eq!(results[1], ItemResult::Conflict);
    assert_eq!(server.stored_names("contacts"), vec!["b.vcf".to_string()]);
    // Deleting a again: gone.
    let mut fresh = provider(&book);
    assert_eq!(block_on(fresh.delete(&[a])).unwrap()[0], ItemResult::Gone);
}

#[test]
fn a_server_that_renames_hrefs_is_followed_and_the_next_runs_use_its_href() {
    let Some(server) = radicale_or_skip("a_server_that_renames_hrefs") else { return };
    let book = server.create_address_book("contacts");
    let proxy = Proxy::start(&server.url);
    proxy.rules.rename_on_create.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut p = provider(&book.replace(&server.url, &proxy.url));
    let mut contact = Contact::default();
    contact.name.given = "Renée".into();
    let created = done(&block_on(p.create(&[NewRemote { crm_id: "crm-9".into(), contact: contact.clone() }])).unwrap()[0]);
    assert!(created.id.contains("/srv-"), "{created:?}");
    let (records, _) = full_listing(&mut p);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].id, created.id);
    assert_eq!(records[0].etag, created.etag);
    // An update goes to the server's href with the etag we fetched after the PUT.
    let mut edit = created.clone();
    edit.contact.name.family = "Martin".into();
    done(&block_on(p.update(&[edit])).unwrap()[0]);
    assert_eq!(server.stored_names("contacts").len(), 1);
}
