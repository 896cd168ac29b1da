#![cfg(not(target_arch = "wasm32"))]
//! The paths servers other than Radicale take us down: a server without `sync-collection`
//! (ctag + PROPFIND listing + multiget, against a real Radicale whose REPORT we refuse), and
//! a `sync-collection` answer truncated with 507 that continues on a second request.

mod carddav_support;

use std::cell::RefCell;
use std::sync::atomic::Ordering;

use carddav_support::{radicale_or_skip, UreqFetch, PASSWORD, USER};
use contact_sync::providers::carddav::{CardDavClient, CardDavError, CardDavProvider, Fetch, HttpRequest, HttpResponse, SyncOutcome};
use contact_sync::providers::{ListError, PageNext, Provider};
use pollster::block_on;

fn card(uid: &str, family: &str) -> String {
    format!("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:Ann {family}\r\nN:{family};Ann;;;\r\nEMAIL:{uid}@example.org\r\nEND:VCARD\r\n")
}

/// Radicale as a server without RFC 6578: every `sync-collection` REPORT is refused the
/// way such servers refuse an unknown report.
struct WithoutSyncCollection(UreqFetch);

impl Fetch for WithoutSyncCollection {
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, CardDavError> {
        if request.method == "REPORT" && request.body.contains("sync-collection") {
            self.0.requests.fetch_add(1, Ordering::SeqCst);
            return Ok(HttpResponse { status: 501, headers: Vec::new(), body: "Not Implemented".into() });
        }
        self.0.fetch(request).await
    }
}

fn requests(p: &CardDavProvider<WithoutSyncCollection>) -> u64 {
    p.client().fetch().0.requests.load(Ordering::SeqCst)
}

fn families(records: &[contact_sync::engine::model::RemoteRecord]) -> Vec<String> {
    let mut out: Vec<String> = records.iter().map(|r| r.contact.name.family.clone()).collect();
    out.sort();
    out
}

#[test]
fn without_sync_collection_the_ctag_says_nothing_changed_in_one_request_and_a_change_relists() {
    let Some(server) = radicale_or_skip("without_sync_collection") else { return };
    let book = server.create_address_book("contacts");
    server.put_card(&book, "a.vcf", &card("a", "Able"));
    server.put_card(&book, "b.vcf", &card("b", "Baker"));
    let mut p = CardDavProvider::new(WithoutSyncCollection(UreqFetch::new()), USER, PASSWORD, &book);

    // First listing: the refused REPORT, the book's ctag, the href/etag listing, one multiget.
    let page = block_on(p.list_page(None, None)).expect("full listing");
    assert_eq!(families(&page.records), ["Able", "Baker"]);
    let PageNext::Done(cursor) = page.next else { panic!("one page expected") };
    assert!(cursor.starts_with("ctag:") && cursor.len() > "ctag:".len(), "{cursor}");
    assert_eq!(requests(&p), 4);

    // Nothing changed: one PROPFIND of the book, no records, the same cursor.
    let quiet = block_on(p.list_page(Some(&cursor), None)).expect("quiet listing");
    assert!(quiet.records.is_empty());
    assert!(matches!(&quiet.next, PageNext::Done(c) if *c == cursor));
    assert_eq!(requests(&p), 5);

    // A card changed and another deleted: the ctag moved, so the cursor is dead (a ctag
    // cannot say what changed) and the full listing shows the book as it now is; the
    // known "sync-collection unsupported" is not asked again.
    server.put_card(&book, "a.vcf", &card("a", "Abel"));
    server.delete_card(&format!("{book}b.vcf"));
    let err = block_on(p.list_page(Some(&cursor), None)).expect_err("changed ctag");
    assert!(matches!(err, ListError::CursorDead), "{err:?}");
    let before = requests(&p);
    let again = block_on(p.list_page(None, None)).expect("relisting");
    assert_eq!(families(&again.records), ["Abel"]);
    assert_eq!(requests(&p) - before, 3, "book, listing, multiget: no second REPORT");
    assert!(matches!(&again.next, PageNext::Done(c) if *c != cursor));
}

/// Answers sync-collection REPORTs from a script, one answer per request, and records
/// the requests' bodies.
struct Scripted {
    answers: RefCell<Vec<String>>,
    bodies: RefCell<Vec<String>>,
}

impl Fetch for Scripted {
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, CardDavError> {
        self.bodies.borrow_mut().push(request.body);
        let body = self.answers.borrow_mut().remove(0);
        Ok(HttpResponse { status: 207, headers: vec![("content-type".into(), "application/xml".into())], body })
    }
}

fn multistatus(responses: &str, token: &str) -> String {
    format!(r#"<?xml version="1.0"?><D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">{responses}<D:sync-token>{token}</D:sync-token></D:multistatus>"#)
}

fn found(name: &str, etag: &str) -> String {
    format!(
        r#"<D:response><D:href>/u/book/{name}</D:href><D:propstat><D:prop><D:getetag>"{etag}"</D:getetag><C:address-data>{}</C:address-data></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"#,
        card(name, name)
    )
}

fn gone(name: &str) -> String {
    format!(r#"<D:response><D:href>/u/book/{name}</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response>"#)
}

const TRUNCATED: &str = r#"<D:response><D:href>/u/book/</D:href><D:status>HTTP/1.1 507 Insufficient Storage</D:status></D:response>"#;

#[test]
fn a_sync_collection_answer_truncated_with_507_continues_from_its_token_until_complete() {
    let answers = vec![
        multistatus(&format!("{}{}{TRUNCATED}", found("a", "1"), found("b", "1")), "t1"),
        // The second page: b deleted meanwhile, c new; no 507, so this is the end.
        multistatus(&format!("{}{}", gone("b"), found("c", "1")), "t2"),
    ];
    let fetch = Scripted { answers: RefCell::new(answers), bodies: RefCell::new(Vec::new()) };
    let client = CardDavClient::new(fetch, USER, PASSWORD);
    let outcome = block_on(client.sync_collection("http://dav.example/u/book/", None, true)).expect("sync");
    let SyncOutcome::Delta { changed, removed, token } = outcome else { panic!("delta expected: {outcome:?}") };
    let hrefs: Vec<&str> = changed.iter().map(|c| c.href.as_str()).collect();
    assert_eq!(hrefs, ["/u/book/a", "/u/book/c"]);
    assert!(changed.iter().all(|c| c.data.as_deref().is_some_and(|d| d.contains("BEGIN:VCARD"))));
    assert_eq!(removed, ["/u/book/b"]);
    assert_eq!(token, "t2");
    let bodies = client.fetch().bodies.borrow();
    assert_eq!(bodies.len(), 2);
    assert!(bodies[1].contains("<D:sync-token>t1</D:sync-token>") || bodies[1].contains(">t1<"), "{}", bodies[1]);
}

#[test]
fn a_507_that_does_not_advance_the_token_stops_instead_of_looping() {
    let page = multistatus(&format!("{}{TRUNCATED}", found("a", "1")), "t1");
    let answers = vec![page.clone(), page.clone(), page];
    let fetch = Scripted { answers: RefCell::new(answers), bodies: RefCell::new(Vec::new()) };
    let client = CardDavClient::new(fetch, USER, PASSWORD);
    let outcome = block_on(client.sync_collection("http://dav.example/u/book/", Some("t0"), true)).expect("sync");
    assert!(matches!(outcome, SyncOutcome::Delta { ref token, .. } if token == "t1"), "{outcome:?}");
    assert_eq!(client.fetch().bodies.borrow().len(), 2, "the second answer repeats t1: stop there");
}
