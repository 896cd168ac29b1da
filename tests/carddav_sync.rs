#![cfg(not(target_arch = "wasm32"))]
//! Whole runs of the engine between an in-memory CRM and a real Radicale through the
//! CardDAV spoke: first sync with overlaps, quiescence, edits both ways, deletions, and a
//! card edited on the server between our listing and our write (412).

mod carddav_support;

use std::cell::RefCell;

use carddav_support::driver::run;
use carddav_support::{card, crm_contact, radicale_or_skip, Radicale, UreqFetch, PASSWORD, USER};
use contact_sync::crm::CrmPatch;
use contact_sync::engine::state::SpokeState;
use contact_sync::engine::{DeletionPolicy, SyncConfig};
use contact_sync::host::{Host, MemoryHost};
use contact_sync::providers::carddav::{vcard, CardDavError, CardDavProvider, Fetch, HttpRequest, HttpResponse};
use pollster::block_on;
use serde_json::{json, Map, Value};

fn config() -> SyncConfig {
    SyncConfig {
        spoke_id: "dav".into(),
        deletion: DeletionPolicy::Propagate,
        max_delete_share: 1.0,
        ..SyncConfig::default()
    }
}

fn field(host: &MemoryHost, last: &str, key: &str) -> Value {
    host.live_contacts()
        .into_iter()
        .find(|c| c.fields.get("lastName") == Some(&json!(last)))
        .and_then(|c| c.fields.get(key).cloned())
        .unwrap_or(Value::Null)
}

fn cards(server: &Radicale, book: &str) -> Vec<vcard::CardContent> {
    server
        .stored_names("contacts")
        .iter()
        .filter_map(|n| server.get_card(&format!("{book}{n}")))
        .map(|t| vcard::read(&t).unwrap())
        .collect()
}

/// Server: Ann (ann@x.org), Bob, Cid. CRM: ANN@X.ORG (same person), Dee, Eve.
fn overlapping(server: &Radicale) -> (String, MemoryHost) {
    let book = server.create_address_book("contacts");
    server.put_card(&book, "ann.vcf", &card("ann", "Ann", "Archer", "ann@x.org"));
    server.put_card(&book, "bob.vcf", &card("bob", "Bob", "Baker", "bob@x.org"));
    server.put_card(&book, "cid.vcf", &card("cid", "Cid", "Cooper", "cid@x.org"));
    let host = MemoryHost::new();
    for (f, l, e) in [("Ann", "Archer", "ann@x.org"), ("Dee", "Dunn", "dee@x.org"), ("Eve", "Evans", "eve@x.org")] {
        block_on(host.crm_create(&crm_contact(f, l, e))).unwrap();
    }
    (book, host)
}

#[test]
fn a_first_sync_with_overlaps_links_by_email_creates_the_rest_and_a_second_run_is_one_request() {
    let Some(server) = radicale_or_skip("a_first_sync_with_overlaps") else { return };
    let (book, host) = overlapping(&server);
    let mut p = CardDavProvider::new(UreqFetch::new(), USER, PASSWORD, &book);
    let mut state = SpokeState::new();
    let first = run(&host, &mut p, &config(), &mut state);
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    assert_eq!(host.live_contacts().len(), 5, "Bob and Cid imported, Ann linked");
    let on_server = cards(&server, &book);
    assert_eq!(on_server.len(), 5, "Dee and Eve exported, Ann not duplicated");
    let ours: Vec<_> = on_server.iter().filter(|c| matches!(c.contact.name.family.as_str(), "Dunn" | "Evans")).collect();
    assert!(ours.len() == 2 && ours.iter().all(|c| c.crm_id.is_some()), "cards we created carry their CRM id");
    let imported: Vec<_> = on_server.iter().filter(|c| matches!(c.contact.name.family.as_str(), "Baker" | "Cooper")).collect();
    assert!(imported.iter().all(|c| c.crm_id.is_none()), "imported cards are not rewritten by default");
    let linked_by_email: u32 = first.summaries.iter().map(|s| s.counts.linked_by_email).sum();
    assert_eq!(linked_by_email, 1);

    // Nothing changed: the next run writes nothing and asks the server once, although the
    // CRM lists the contacts we created and the server the cards we wrote (the echoes of
    // our own writes are known by their version and etag, not fetched again).
    for _ in 0..2 {
        let before = p.client().request_count();
        let quiet = run(&host, &mut p, &config(), &mut state);
        assert_eq!(quiet.writes(), [0; 6], "{:?}", quiet.summaries);
        assert_eq!(p.client().request_count() - before, 1, "one sync-collection REPORT");
    }
}

#[test]
fn with_stamping_on_every_card_carries_its_crm_id_and_a_lost_state_relinks_without_duplicates() {
    let Some(server) = radicale_or_skip("with_stamping_on_every_card_carries_its_crm_id") else { return };
    let (book, host) = overlapping(&server);
    let mut p = CardDavProvider::new(UreqFetch::new(), USER, PASSWORD, &book).with_crm_id_stamping(true);
    let mut state = SpokeState::new();
    run(&host, &mut p, &config(), &mut state);
    let on_server = cards(&server, &book);
    assert_eq!(on_server.len(), 5);
    assert!(on_server.iter().all(|c| c.crm_id.is_some()), "every card carries its CRM id");
    // The state is lost: a new run links everything again by CRM id, creating nothing.
    let mut lost = SpokeState::new();
    let out = run(&host, &mut p, &config(), &mut lost);
    let linked_by_id: u32 = out.summaries.iter().map(|s| s.counts.linked_by_id).sum();
    assert_eq!((out.writes()[0], out.writes()[3]), (0, 0), "no create on either side");
    assert_eq!((host.live_contacts().len(), cards(&server, &book).len()), (5, 5));
    assert!(linked_by_id == 5 || out.summaries.is_empty(), "{:?}", out.summaries);
}

#[test]
fn edits_flow_both_ways_and_different_fields_of_one_contact_both_survive() {
    let Some(server) = radicale_or_skip("edits_flow_both_ways") else { return };
    let (book, host) = overlapping(&server);
    let mut p = CardDavProvider::new(UreqFetch::new(), USER, PASSWORD, &book);
    let mut state = SpokeState::new();
    run(&host, &mut p, &config(), &mut state);
    run(&host, &mut p, &config(), &mut state);

    // CRM: Ann's job title. Server: Ann's e-mail (another field of the same contact) and Bob's family name.
    let ann = host.live_contacts().into_iter().find(|c| c.fields.get("lastName") == Some(&json!("Archer"))).unwrap();
    let mut patch_fields = Map::new();
    patch_fields.insert("jobTitle".into(), json!("Captain"));
    block_on(host.crm_update(&ann.id, ann.version, &CrmPatch { fields: Some(patch_fields), ..CrmPatch::default() })).unwrap();
    let ann_text = server.get_card(&format!("{book}ann.vcf")).unwrap();
    server.put_card(&book, "ann.vcf", &ann_text.replace("ann@x.org", "ann@new.org"));
    let bob_text = server.get_card(&format!("{book}bob.vcf")).unwrap();
    server.put_card(&book, "bob.vcf", &bob_text.replace("Baker", "Brewer"));

    let out = run(&host, &mut p, &config(), &mut state);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let ann_card = vcard::read(&server.get_card(&format!("{book}ann.vcf")).unwrap()).unwrap().contact;
    assert_eq!(ann_card.organization.title, "Captain");
    assert_eq!(ann_card.emails[0].value, "ann@new.org");
    let emails = field(&host, "Archer", "emails");
    assert!(emails.as_array().unwrap().iter().any(|e| e["value"] == json!("ann@new.org")), "{emails}");
    assert_eq!(field(&host, "Archer", "jobTitle"), json!("Captain"));
    assert!(host.live_contacts().iter().any(|c| c.fields.get("lastName") == Some(&json!("Brewer"))));
    assert_eq!(host.live_contacts().len(), 5);
}

#[test]
fn an_email_changed_on_the_server_replaces_the_old_one_in_the_crm() {
    let Some(server) = radicale_or_skip("an_email_changed_on_the_server") else { return };
    let (book, host) = overlapping(&server);
    let mut p = CardDavProvider::new(UreqFetch::new(), USER, PASSWORD, &book);
    let mut state = SpokeState::new();
    run(&host, &mut p, &config(), &mut state);
    run(&host, &mut p, &config(), &mut state);
    let cid_text = server.get_card(&format!("{book}cid.vcf")).unwrap();
    server.put_card(&book, "cid.vcf", &cid_text.replace("cid@x.org", "cid@new.org"));
    let out = run(&host, &mut p, &config(), &mut state);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(field(&host, "Cooper", "emails"), json!([{ "value": "cid@new.org", "type": "other" }]));
}

#[test]
fn deletions_propagate_both_ways_and_stay_deleted() {
    let Some(server) = radicale_or_skip("deletions_propagate_both_ways") else { return };
    let (book, host) = overlapping(&server);
    let mut p = CardDavProvider::new(UreqFetch::new(), USER, PASSWORD, &book);
    let mut state = SpokeState::new();
    run(&host, &mut p, &config(), &mut state);
    run(&host, &mut p, &config(), &mut state);

    server.delete_card(&format!("{book}cid.vcf"));
    let dee = host.live_contacts().into_iter().find(|c| c.fields.get("lastName") == Some(&json!("Dunn"))).unwrap();
    block_on(host.crm_delete(&dee.id, dee.version)).unwrap();
    let out = run(&host, &mut p, &config(), &mut state);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let names: Vec<String> = host.live_contacts().iter().map(|c| c.fields["lastName"].as_str().unwrap().to_string()).collect();
    assert!(!names.contains(&"Cooper".to_string()) && !names.contains(&"Dunn".to_string()), "{names:?}");
    let on_server = cards(&server, &book);
    assert_eq!(on_server.len(), 3);
    assert!(on_server.iter().all(|c| c.contact.name.family != "Dunn"));
    let again = run(&host, &mut p, &config(), &mut state);
    assert_eq!(again.writes(), [0; 6]);
    assert_eq!((host.live_contacts().len(), cards(&server, &book).len()), (3, 3));
}

/// A fetch that lets another client edit a card right before our first conditional PUT.
struct RacingFetch {
    inner: UreqFetch,
    before_first_update: RefCell<Option<Box<dyn FnOnce()>>>,
}

impl Fetch for RacingFetch {
    async fn fetch(&self, request: HttpRequest) -> Result<HttpResponse, CardDavError> {
        if request.method == "PUT" && request.headers.iter().any(|(k, _)| k == "if-match") {
            if let Some(edit) = self.before_first_update.borrow_mut().take() {
                edit();
            }
        }
        self.inner.fetch(request).await
    }
}

#[test]
fn a_card_edited_on_the_server_during_our_run_is_refused_with_412_then_merged_next_run() {
    let Some(server) = radicale_or_skip("a_card_edited_during_our_run") else { return };
    let (book, host) = overlapping(&server);
    let mut p = CardDavProvider::new(
        RacingFetch { inner: UreqFetch::new(), before_first_update: RefCell::new(None) },
        USER,
        PASSWORD,
        &book,
    );
    let mut state = SpokeState::new();
    run(&host, &mut p, &config(), &mut state);
    run(&host, &mut p, &config(), &mut state);

    // The CRM changes Bob's job title; someone changes Bob's e-mail on the server just
    // after our listing, before our PUT.
    let bob = host.live_contacts().into_iter().find(|c| c.fields.get("lastName") == Some(&json!("Baker"))).unwrap();
    let mut f = Map::new();
    f.insert("jobTitle".into(), json!("Chef"));
    block_on(host.crm_update(&bob.id, bob.version, &CrmPatch { fields: Some(f), ..CrmPatch::default() })).unwrap();
    let url = format!("{}{}", book, "bob.vcf");
    let book2 = book.clone();
    *p_fetch(&p).before_first_update.borrow_mut() = Some(Box::new(move || {
        let current = get(&url);
        put(&book2, "bob.vcf", &current.replace("bob@x.org", "bob@other.org"));
    }));
    let out = run(&host, &mut p, &config(), &mut state);
    assert_eq!(out.conflicts_412, 1, "{:?}", out.summaries);
    let bob_card = vcard::read(&server.get_card(&format!("{book}bob.vcf")).unwrap()).unwrap().contact;
    assert_eq!(bob_card.emails[0].value, "bob@other.org", "their edit is not overwritten");

    // The next run reads their change and writes ours on top of it.
    let out = run(&host, &mut p, &config(), &mut state);
    assert_eq!(out.conflicts_412, 0);
    let bob_card = vcard::read(&server.get_card(&format!("{book}bob.vcf")).unwrap()).unwrap().contact;
    assert_eq!((bob_card.organization.title.as_str(), bob_card.emails[0].value.as_str()), ("Chef", "bob@other.org"));
    let emails = field(&host, "Baker", "emails");
    assert!(emails.as_array().unwrap().iter().any(|e| e["value"] == json!("bob@other.org")), "{emails}");
}

fn p_fetch(p: &CardDavProvider<RacingFetch>) -> &RacingFetch {
    p.client().fetch()
}

fn get(url: &str) -> String {
    let f = UreqFetch::new();
    let auth = carddav_support::basic(USER, PASSWORD);
    let r = block_on(f.fetch(HttpRequest { method: "GET".into(), url: url.into(), headers: vec![("authorization".into(), auth)], body: String::new() })).unwrap();
    r.body
}

fn put(book: &str, name: &str, text: &str) {
    let f = UreqFetch::new();
    let auth = carddav_support::basic(USER, PASSWORD);
    let r = block_on(f.fetch(HttpRequest {
        method: "PUT".into(),
        url: format!("{book}{name}"),
        headers: vec![("authorization".into(), auth), ("content-type".into(), "text/vcard".into())],
        body: text.into(),
    }))
    .unwrap();
    assert!(matches!(r.status, 201 | 204), "{}", r.status);
}
