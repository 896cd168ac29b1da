#![cfg(not(target_arch = "wasm32"))]
//! The CardDAV protocol client against a real Radicale: discovery, error codes,
//! sync-collection, the PROPFIND fallback listing, multiget and conditional writes.

mod carddav_support;

use carddav_support::{radicale_or_skip, Proxy, UreqFetch, PASSWORD, USER};
use contact_sync::providers::carddav::{url, CardDavClient, CardDavErrorCode, SyncOutcome};
use pollster::block_on;

fn card(uid: &str, name: &str) -> String {
    format!("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nN:{name};;;;\r\nEND:VCARD\r\n")
}

#[test]
fn discovery_finds_principal_home_and_address_books() {
    let Some(server) = radicale_or_skip("discovery_finds_principal_home_and_address_books") else { return };
    let book = server.create_address_book("contacts");
    let client = CardDavClient::new(UreqFetch::new(), USER, PASSWORD);
    let found = block_on(client.discover(&server.url)).expect("discovery");
    assert!(found.principal.ends_with(&format!("/{USER}/")), "{found:?}");
    assert_eq!(found.address_books.len(), 1, "{found:?}");
    assert_eq!(found.address_books[0].url, book);
    assert_eq!(found.address_books[0].display_name, "contacts");
    assert!(found.address_books[0].supports_sync);
    // The same from a URL deep inside the server, through /.well-known/carddav.
    let again = block_on(client.discover(&format!("{}/{USER}/contacts/", server.url))).expect("discovery");
    assert_eq!(again.address_books, found.address_books);
}

#[test]
fn wrong_password_is_auth_denied_and_the_password_is_not_in_the_error() {
    let Some(server) = radicale_or_skip("wrong_password_is_auth_denied") else { return };
    let client = CardDavClient::new(UreqFetch::new(), USER, "not-the-password");
    let err = block_on(client.discover(&server.url)).expect_err("must fail");
    assert_eq!(err.code, CardDavErrorCode::AuthDenied);
    assert!(!err.message.contains("not-the-password") && !err.remedy.contains("not-the-password"));
    assert!(!format!("{client:?}").contains("not-the-password"));
}

#[test]
fn missing_address_book_is_not_found() {
    let Some(server) = radicale_or_skip("missing_address_book_is_not_found") else { return };
    server.create_address_book("contacts");
    let client = CardDavClient::new(UreqFetch::new(), USER, PASSWORD);
    let err = block_on(client.address_book(&format!("{}/{USER}/nope/", server.url))).expect_err("must fail");
    assert_eq!(err.code, CardDavErrorCode::NotFound, "{err}");
}

#[test]
fn a_web_server_without_carddav_is_a_bad_response_with_a_remedy() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        use std::io::{Read, Write};
        // Answers the principal lookup on the URL and on /.well-known/carddav.
        for _ in 0..2 {
            let Ok((mut s, _)) = listener.accept() else { return };
            let mut buf = [0u8; 8192];
            let _ = s.read(&mut buf);
            let body = "<html><body>Welcome</body></html>";
            let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        }
    });
    let client = CardDavClient::new(UreqFetch::new(), USER, PASSWORD);
    let err = block_on(client.discover(&format!("http://127.0.0.1:{port}/"))).expect_err("must fail");
    assert_eq!(err.code, CardDavErrorCode::BadResponse, "{err}");
    assert!(err.remedy.contains("server URL"), "{}", err.remedy);
    let _ = handle.join();
}

#[test]
fn sync_collection_returns_all_cards_in_one_request_then_only_changes() {
    let Some(server) = radicale_or_skip("sync_collection_returns_all_cards_in_one_request") else { return };
    let book = server.create_address_book("contacts");
    for i in 0..20 {
        server.put_card(&book, &format!("c{i}.vcf"), &card(&format!("u{i}"), &format!("Person {i}")));
    }
    let client = CardDavClient::new(UreqFetch::new(), USER, PASSWORD);
    let SyncOutcome::Delta { changed, removed, token } = block_on(client.sync_collection(&book, None, true)).unwrap() else {
        panic!("sync-collection must be supported by Radicale")
    };
    assert_eq!(client.request_count(), 1);
    assert_eq!(changed.len(), 20);
    assert!(removed.is_empty());
    assert!(changed.iter().all(|c| c.data.as_deref().is_some_and(|d| d.contains("BEGIN:VCARD"))));

    server.put_card(&book, "c3.vcf", &card("u3", "Person Three"));
    server.delete_card(&format!("{book}c4.vcf"));
    let SyncOutcome::Delta { changed, removed, token: next } = block_on(client.sync_collection(&book, Some(&token), true)).unwrap() else {
        panic!("delta expected")
    };
    assert_eq!(changed.len(), 1);
    assert!(changed[0].href.ends_with("/c3.vcf") && changed[0].data.as_deref().unwrap().contains("Person Three"));
    assert_eq!(removed.len(), 1);
    assert!(removed[0].ends_with("/c4.vcf"));
    assert_ne!(next, token);

    let SyncOutcome::Delta { changed, removed, .. } = block_on(client.sync_collection(&book, Some(&next), true)).unwrap() else {
        panic!("delta expected")
    };
    assert!(changed.is_empty() && removed.is_empty());
}

#[test]
fn an_unknown_sync_token_asks_for_a_full_listing() {
    let Some(server) = radicale_or_skip("an_unknown_sync_token_asks_for_a_full_listing") else { return };
    let book = server.create_address_book("contacts");
    let client = CardDavClient::new(UreqFetch::new(), USER, PASSWORD);
    let outcome = block_on(client.sync_collection(&book, Some("http://radicale.org/ns/sync/deadbeef"), true)).unwrap();
    assert_eq!(outcome, SyncOutcome::TokenInvalid);
}

#[test]
fn propfind_listing_and_multiget_fetch_what_changed() {
    let Some(server) = radicale_or_skip("propfind_listing_and_multiget") else { return };
    let book = server.create_address_book("contacts");
    for i in 0..5 {
        server.put_card(&book, &format!("c{i}.vcf"), &card(&format!("u{i}"), &format!("Person {i}")));
    }
    let client = CardDavClient::new(UreqFetch::new(), USER, PASSWORD);
    let listed = block_on(client.list(&book)).unwrap();
    assert_eq!(listed.len(), 5);
    let hrefs: Vec<String> = listed.iter().map(|c| c.href.clone()).collect();
    let fetched = block_on(client.multiget(&book, &hrefs)).unwrap();
    assert_eq!(fetched.len(), 5);
    for c in &fetched {
        let listed_etag = &listed.iter().find(|l| l.href == c.href).unwrap().etag;
        assert_eq!(&c.etag, listed_etag);
    }
}

#[test]
fn conditional_writes_create_update_and_delete_and_report_412_as_conflict() {
    let Some(server) = radicale_or_skip("conditional_writes") else { return };
    let book = server.create_address_book("contacts");
    let client = CardDavClient::new(UreqFetch::new(), USER, PASSWORD);
    let name = url::card_name("new-1");
    let created = block_on(client.create(&book, &name, &card("new-1", "New One"))).unwrap();
    assert!(created.href.ends_with("/new-1.vcf") && !created.etag.is_empty());
    // Creating again at the same name must not overwrite.
    let err = block_on(client.create(&book, &name, &card("new-1", "Other"))).expect_err("If-None-Match");
    assert_eq!(err.code, CardDavErrorCode::Conflict);

    let updated = block_on(client.update(&book, &created.href, &created.etag, &card("new-1", "New Name"))).unwrap();
    assert_ne!(updated.etag, created.etag);
    // A stale etag: someone else wrote in between.
    let err = block_on(client.update(&book, &created.href, &created.etag, &card("new-1", "Stale"))).expect_err("412");
    assert_eq!(err.code, CardDavErrorCode::Conflict);
    assert!(server.get_card(&created.href).unwrap().contains("New Name"));

    let err = block_on(client.delete(&book, &created.href, &created.etag)).expect_err("412 on delete");
    assert_eq!(err.code, CardDavErrorCode::Conflict);
    block_on(client.delete(&book, &created.href, &updated.etag)).unwrap();
    assert!(server.get_card(&created.href).is_none());
    // Deleting what is gone is not an error.
    block_on(client.delete(&book, &created.href, &updated.etag)).unwrap();
}

#[test]
fn a_server_that_renames_on_create_is_followed_and_its_etag_fetched() {
    let Some(server) = radicale_or_skip("a_server_that_renames_on_create") else { return };
    let book = server.create_address_book("contacts");
    let proxy = Proxy::start(&server.url);
    proxy.rules.rename_on_create.store(true, std::sync::atomic::Ordering::SeqCst);
    let book_via_proxy = book.replace(&server.url, &proxy.url);
    let client = CardDavClient::new(UreqFetch::new(), USER, PASSWORD);
    let written = block_on(client.create(&book_via_proxy, "mine.vcf", &card("mine", "Renamed"))).unwrap();
    assert!(written.href.ends_with("/srv-mine.vcf"), "{written:?}");
    // The proxy hid the ETag: the client fetched it, and it is the real one.
    let listed = block_on(client.list(&book_via_proxy)).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].etag, written.etag);
    assert_eq!(server.stored_names("contacts"), vec!["srv-mine.vcf".to_string()]);
}
