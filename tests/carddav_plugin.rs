#![cfg(not(target_arch = "wasm32"))]
//! A CardDAV spoke through the plugin's own methods (`PluginCore`, `connectors`), with
//! `MemoryHost` as the host and a real Radicale behind its fetch: connect (wrong and right
//! password), status, sync both ways then a quiet run, testConnection, disconnect, host
//! events; and, with scripted answers, the errors of servers that are not what they seem.

mod carddav_support;

use std::cell::Cell;
use std::collections::BTreeMap;

use carddav_support::{card, crm_contact, radicale_or_skip, Radicale, UreqFetch, PASSWORD, USER};
use contact_sync::connectors;
use contact_sync::error::{ErrorCode, PluginError};
use contact_sync::host::{Host, HttpResponse, MemoryHost};
use contact_sync::plugin_core::{PluginCore, SpokeState};
use contact_sync::providers::carddav::{password_secret_name, vcard, Fetch, HttpRequest};
use contact_sync::runner::RunOptions;
use contact_sync::settings::Settings;
use pollster::block_on;
use serde_json::json;

const SECRET: &str = "carddav.dav.password";

/// A MemoryHost whose fetch goes to the network (the real Radicale) through ureq.
fn networked_host() -> MemoryHost {
    let host = MemoryHost::new();
    let fetch = UreqFetch::new();
    host.set_fetch(move |r| {
        let request = HttpRequest {
            method: r.method.clone(),
            url: r.url.clone(),
            headers: r.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            body: r.body.clone().unwrap_or_default(),
        };
        let got = block_on(fetch.fetch(request)).map_err(|e| PluginError::new(ErrorCode::Network, e.message))?;
        Ok(HttpResponse { status: got.status, headers: got.headers.into_iter().collect(), body: got.body })
    });
    host
}

/// Saves one CardDAV spoke `dav` (and optionally its chosen book) through `saveSettings`.
fn save_spoke(core: &PluginCore<MemoryHost>, server_url: &str, book: Option<&str>) {
    let mut v = serde_json::to_value(Settings::default()).unwrap();
    let mut spoke = json!({"id": "dav", "kind": "carddav", "name": "Radicale", "allowCreate": true,
        "serverUrl": server_url, "username": USER});
    if let Some(b) = book {
        spoke["addressBook"] = json!(b);
    }
    v["spokes"] = json!([spoke]);
    block_on(core.save_settings(&v)).unwrap();
}

fn families_on_server(server: &Radicale, book: &str) -> Vec<String> {
    let mut out: Vec<String> = server
        .stored_names("contacts")
        .iter()
        .filter_map(|n| server.get_card(&format!("{book}{n}")))
        .map(|t| vcard::read(&t).unwrap().contact.name.family)
        .collect();
    out.sort();
    out
}

fn families_in_crm(host: &MemoryHost) -> Vec<String> {
    let mut out: Vec<String> = host
        .live_contacts()
        .iter()
        .filter_map(|c| c.fields.get("lastName").and_then(|v| v.as_str()).map(str::to_string))
        .collect();
    out.sort();
    out
}

#[test]
fn a_wrong_password_is_refused_with_a_coded_error_and_nothing_is_stored() {
    let Some(server) = radicale_or_skip("a_wrong_password_is_refused") else { return };
    server.create_address_book("contacts");
    let core = PluginCore::new(networked_host());
    save_spoke(&core, &server.url, None);
    let before = core.host().storage_snapshot();
    let err = block_on(core.connect_carddav("dav", "not-the-password")).unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthDenied, "{err:?}");
    assert!(!err.remedy.is_empty());
    assert!(!err.message.contains("not-the-password") && !err.remedy.contains("not-the-password"));
    assert!(core.host().secrets_snapshot().is_empty(), "no password kept after a refusal");
    assert_eq!(core.host().storage_snapshot(), before, "nothing written to storage");
    // Without a stored password, an empty one asks to connect first.
    assert_eq!(block_on(core.connect_carddav("dav", "")).unwrap_err().code, ErrorCode::NotConnected);
    assert_eq!(block_on(core.spoke_status("dav")).unwrap().state, SpokeState::Disconnected);
}

#[test]
fn connecting_lists_the_books_stores_the_password_and_the_spoke_reads_connected_once_a_book_is_chosen() {
    let Some(server) = radicale_or_skip("connecting_lists_the_books") else { return };
    let book = server.create_address_book("contacts");
    let other = server.create_address_book("suppliers");
    let core = PluginCore::new(networked_host());
    save_spoke(&core, &server.url, None);

    let connected = block_on(core.connect_carddav("dav", PASSWORD)).unwrap();
    let mut urls: Vec<&str> = connected.address_books.iter().map(|b| b.url.as_str()).collect();
    urls.sort();
    assert_eq!(urls, vec![book.as_str(), other.as_str()]);
    assert!(connected.address_books.iter().any(|b| b.display_name == "contacts"));
    assert_eq!(core.host().secrets_snapshot().get(SECRET).map(String::as_str), Some(PASSWORD));
    assert_eq!(password_secret_name("dav"), SECRET);
    let stored = serde_json::to_string(&core.host().storage_snapshot()).unwrap();
    assert!(!stored.contains(PASSWORD), "the password lives in secrets only");
    // The tab's shape: {addressBooks: [{url, displayName}]}.
    let shape = serde_json::to_value(&connected).unwrap();
    assert!(shape["addressBooks"][0]["url"].is_string() && shape["addressBooks"][0]["displayName"].is_string(), "{shape}");

    // Connected only once a book is chosen.
    assert_eq!(block_on(core.spoke_status("dav")).unwrap().state, SpokeState::Disconnected);
    // An empty password re-lists with the stored one.
    assert_eq!(block_on(core.connect_carddav("dav", "")).unwrap().address_books.len(), 2);
    save_spoke(&core, &server.url, Some(&book));
    let status = block_on(core.status()).unwrap();
    let spoke = &status.spokes[0];
    assert_eq!(spoke.state, SpokeState::Connected, "{spoke:?}");
    let host = server.url.trim_start_matches("http://");
    assert_eq!(spoke.account.as_deref(), Some(format!("{USER} @ {host}").as_str()));
    let tested = block_on(core.test_connection("dav")).unwrap();
    assert_eq!(tested.state, SpokeState::Connected, "{tested:?}");
}

#[test]
fn a_sync_through_the_plugin_flows_both_ways_and_a_second_run_changes_nothing() {
    let Some(server) = radicale_or_skip("a_sync_through_the_plugin_flows_both_ways") else { return };
    let book = server.create_address_book("contacts");
    server.put_card(&book, "ann.vcf", &card("ann", "Ann", "Archer", "ann@x.org"));
    server.put_card(&book, "bob.vcf", &card("bob", "Bob", "Baker", "bob@x.org"));
    let core = PluginCore::new(networked_host());
    for (f, l, e) in [("Ann", "Archer", "ANN@X.ORG"), ("Dee", "Dunn", "dee@x.org")] {
        block_on(core.host().crm_create(&crm_contact(f, l, e))).unwrap();
    }
    save_spoke(&core, &server.url, Some(&book));
    block_on(core.connect_carddav("dav", PASSWORD)).unwrap();

    let preview = block_on(connectors::preview(core.host(), "dav")).unwrap();
    assert!(preview.dry_run);
    assert_eq!((preview.counts.crm.created, preview.counts.remote.created), (1, 1), "{:?}", preview.counts);
    assert_eq!(families_in_crm(core.host()).len(), 2, "a preview writes nothing");

    // No spokeId: every spoke that is set up runs.
    let first = block_on(connectors::sync_all(core.host(), None, &RunOptions::default(), &Cell::new(false))).unwrap();
    assert_eq!(first.len(), 1);
    let report = &first[0];
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.outcome, "ok");
    assert_eq!(report.counts.crm.created, 1, "Bob imported");
    assert_eq!(report.counts.remote.created, 1, "Dee exported");
    assert_eq!(report.counts.linked_by_email, 1, "Ann linked, not duplicated");
    assert_eq!(families_in_crm(core.host()), vec!["Archer", "Baker", "Dunn"]);
    assert_eq!(families_on_server(&server, &book), vec!["Archer", "Baker", "Dunn"]);

    for _ in 0..2 {
        let again = block_on(connectors::sync(core.host(), "dav", &RunOptions::default(), &Cell::new(false))).unwrap();
        let c = &again.counts;
        assert_eq!(
            [c.crm.created, c.crm.updated, c.crm.deleted, c.remote.created, c.remote.updated, c.remote.deleted],
            [0; 6],
            "{c:?}"
        );
        assert!(again.errors.is_empty(), "{:?}", again.errors);
    }
    assert_eq!(families_on_server(&server, &book).len(), 3);

    let status = block_on(core.spoke_status("dav")).unwrap();
    assert_eq!(status.state, SpokeState::Connected);
    assert_eq!(status.linked, 3);
    assert!(status.last_success_at.is_some());
    let history = block_on(contact_sync::runner::history(core.host(), "dav", 10)).unwrap();
    assert_eq!(history.len(), 3, "the preview is not recorded");

    // A CRM change reaches the server through the debounced event run.
    let eve = block_on(core.host().crm_create(&crm_contact("Eve", "Evans", "eve@x.org"))).unwrap();
    block_on(core.handle_event(&json!({"type": "contact.created", "contactId": eve.id}))).unwrap();
    let reports = block_on(connectors::after_event(&core, &Cell::new(false))).unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!((reports[0].trigger.as_str(), reports[0].counts.remote.created), ("event", 1));
    assert!(families_on_server(&server, &book).contains(&"Evans".to_string()));

    // Undo of that run removes the card it created.
    let undone = block_on(connectors::undo_last_run(core.host(), "dav")).unwrap();
    assert!(undone.errors.is_empty(), "{:?}", undone.errors);
    assert!(!families_on_server(&server, &book).contains(&"Evans".to_string()));
}

#[test]
fn disconnect_forgets_the_password_and_keeps_the_settings() {
    let Some(server) = radicale_or_skip("disconnect_forgets_the_password") else { return };
    let book = server.create_address_book("contacts");
    let core = PluginCore::new(networked_host());
    save_spoke(&core, &server.url, Some(&book));
    block_on(core.connect_carddav("dav", PASSWORD)).unwrap();
    assert_eq!(block_on(core.spoke_status("dav")).unwrap().state, SpokeState::Connected);

    block_on(connectors::disconnect(core.host(), "dav")).unwrap();
    assert!(core.host().secrets_snapshot().is_empty());
    assert_eq!(block_on(core.spoke_status("dav")).unwrap().state, SpokeState::Disconnected);
    assert_eq!(block_on(core.get_settings()).unwrap().spokes[0].address_book.as_deref(), Some(book.as_str()));
    // Named alone it cannot run; in an all-spokes run it is left out.
    let err = block_on(connectors::sync(core.host(), "dav", &RunOptions::default(), &Cell::new(false))).unwrap_err();
    assert_eq!(err.code, ErrorCode::NotConnected);
    assert!(block_on(connectors::sync_all(core.host(), None, &RunOptions::default(), &Cell::new(false))).unwrap().is_empty());
    assert_eq!(block_on(core.test_connection("dav")).unwrap().problem.unwrap().code, ErrorCode::NotConnected);
}

#[test]
fn a_password_changed_on_the_server_shows_as_the_spokes_problem_on_test() {
    let Some(server) = radicale_or_skip("a_password_changed_on_the_server") else { return };
    let book = server.create_address_book("contacts");
    let core = PluginCore::new(networked_host());
    save_spoke(&core, &server.url, Some(&book));
    block_on(core.host().secret_set(SECRET, "stale-password")).unwrap();
    let tested = block_on(core.test_connection("dav")).unwrap();
    assert_eq!(tested.state, SpokeState::Error);
    assert_eq!(tested.problem.unwrap().code, ErrorCode::AuthDenied);
}

/// A host whose fetch answers from a script instead of a server.
fn scripted_host(answer: impl Fn(&contact_sync::host::HttpRequest) -> Result<HttpResponse, PluginError> + 'static) -> PluginCore<MemoryHost> {
    let host = MemoryHost::new();
    host.set_fetch(answer);
    let core = PluginCore::new(host);
    save_spoke(&core, "https://dav.example.com/dav/", None);
    core
}

fn response(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    let headers: BTreeMap<String, String> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    HttpResponse { status, headers, body: body.into() }
}

#[test]
fn discovery_redirected_to_another_server_is_refused_before_anything_is_sent_there() {
    let core = scripted_host(|r| {
        assert!(r.url.starts_with("https://dav.example.com/"), "a request left the server's origin: {}", r.url);
        Ok(response(301, &[("location", "https://elsewhere.example.net/dav/")], ""))
    });
    let err = block_on(core.connect_carddav("dav", "pw")).unwrap_err();
    assert_eq!(err.code, ErrorCode::NotAllowedHost, "{err:?}");
    assert!(err.remedy.contains("https://elsewhere.example.net"), "{}", err.remedy);
    assert!(core.host().secrets_snapshot().is_empty());
}

#[test]
fn a_sync_request_redirected_to_another_origin_is_refused_before_the_password_goes_there() {
    // Another origin the host would let through (the manifest lists Google's API): the core
    // itself must refuse to follow, or the Basic credentials travel with the request.
    let sent = std::rc::Rc::new(std::cell::RefCell::new(Vec::<(String, bool)>::new()));
    let seen = sent.clone();
    let core = scripted_host(move |r| {
        seen.borrow_mut().push((r.url.clone(), r.headers.contains_key("authorization")));
        if r.url.starts_with("https://dav.example.com/") {
            return Ok(response(307, &[("location", "https://people.googleapis.com/v1/collect")], ""));
        }
        Ok(response(207, &[("content-type", "application/xml")], "<d:multistatus xmlns:d='DAV:'/>"))
    });
    save_spoke(&core, "https://dav.example.com/dav/", Some("https://dav.example.com/dav/alice/book/"));
    block_on(core.host().secret_set(SECRET, "pw")).unwrap();
    let report = block_on(connectors::sync(core.host(), "dav", &RunOptions::default(), &Cell::new(false))).unwrap();
    assert_eq!(report.outcome, "failed", "{report:?}");
    let error = &report.errors[0];
    assert_eq!(error.code, ErrorCode::NotAllowedHost, "{:?}", report.errors);
    assert!(error.message.contains("https://people.googleapis.com"), "the target is named: {}", error.message);
    let sent = sent.borrow();
    assert!(!sent.is_empty());
    assert!(sent.iter().all(|(url, _)| url.starts_with("https://dav.example.com/")), "a request left the server's origin: {sent:?}");
}

#[test]
fn a_same_origin_redirect_of_discovery_is_followed_with_its_method_and_body() {
    let sent = std::rc::Rc::new(std::cell::RefCell::new(Vec::<contact_sync::host::HttpRequest>::new()));
    let seen = sent.clone();
    let core = scripted_host(move |r| {
        seen.borrow_mut().push(r.clone());
        match r.url.as_str() {
            "https://dav.example.com/dav/" => Ok(response(308, &[("location", "/remote.php/dav/")], "")),
            _ => Ok(response(401, &[], "")),
        }
    });
    let err = block_on(core.connect_carddav("dav", "pw")).unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthDenied, "{err:?}");
    let sent = sent.borrow();
    let (first, second) = (&sent[0], &sent[1]);
    assert_eq!(second.url, "https://dav.example.com/remote.php/dav/");
    assert_eq!((second.method.as_str(), &second.body), (first.method.as_str(), &first.body), "308 keeps the method and the body");
    assert!(second.headers.contains_key("authorization"), "the same origin gets the credentials");
}

#[test]
fn a_web_page_instead_of_carddav_and_an_unreachable_server_get_their_own_codes() {
    let page = scripted_host(|_| Ok(response(200, &[("content-type", "text/html")], "<html>Welcome</html>")));
    let err = block_on(page.connect_carddav("dav", "pw")).unwrap_err();
    assert_eq!(err.code, ErrorCode::BadResponse, "{err:?}");
    assert!(err.remedy.contains("CardDAV address"), "{}", err.remedy);

    let refused = scripted_host(|r| {
        Err(PluginError::new(ErrorCode::NotAllowedHost, format!("The plugin may not contact {}.", r.url)).with_remedy("Save the spoke first."))
    });
    let err = block_on(refused.connect_carddav("dav", "pw")).unwrap_err();
    assert_eq!((err.code, err.remedy.as_str()), (ErrorCode::NotAllowedHost, "Save the spoke first."), "the host's code is kept");

    let offline = scripted_host(|_| Err(PluginError::new(ErrorCode::Network, "offline")));
    let err = block_on(offline.connect_carddav("dav", "pw")).unwrap_err();
    assert_eq!(err.code, ErrorCode::Network);
    assert!(err.retryable);
    assert!(offline.host().secrets_snapshot().is_empty());
}

#[test]
fn connect_refuses_a_google_spoke_and_a_spoke_without_a_user_name() {
    let core = PluginCore::new(MemoryHost::new());
    let mut v = serde_json::to_value(Settings::default()).unwrap();
    v["spokes"] = json!([{"id": "g1", "kind": "google", "name": "Work", "allowCreate": true},
        {"id": "dav", "kind": "carddav", "name": "Dav", "allowCreate": true, "serverUrl": "https://dav.example.com"}]);
    block_on(core.save_settings(&v)).unwrap();
    assert_eq!(block_on(core.connect_carddav("g1", "pw")).unwrap_err().code, ErrorCode::BadInput);
    let err = block_on(core.connect_carddav("dav", "pw")).unwrap_err();
    assert_eq!(err.code, ErrorCode::BadInput);
    assert!(err.remedy.contains("user name"), "{}", err.remedy);
    assert_eq!(block_on(core.connect_carddav("nope", "pw")).unwrap_err().code, ErrorCode::BadInput);
}

#[test]
fn an_address_book_deleted_on_the_server_fails_the_run_and_shows_as_the_spokes_problem() {
    let Some(server) = radicale_or_skip("an_address_book_deleted_on_the_server") else { return };
    let book = server.create_address_book("contacts");
    let core = PluginCore::new(networked_host());
    save_spoke(&core, &server.url, Some(&book));
    block_on(core.connect_carddav("dav", PASSWORD)).unwrap();
    let ok = block_on(connectors::sync(core.host(), "dav", &RunOptions::default(), &Cell::new(false))).unwrap();
    assert_eq!(ok.outcome, "ok", "{:?}", ok.errors);

    server.delete_card(&book);
    // Later than the connection (a failure from before it would count as resolved).
    core.host().advance(60_000.0);
    let failed = block_on(connectors::sync(core.host(), "dav", &RunOptions::default(), &Cell::new(false))).unwrap();
    assert_eq!(failed.outcome, "failed");
    assert_eq!(failed.errors[0].code, ErrorCode::NotFound, "{:?}", failed.errors);
    let status = block_on(core.spoke_status("dav")).unwrap();
    assert_eq!(status.state, SpokeState::Error, "{status:?}");
    let problem = status.problem.unwrap();
    assert_eq!(problem.code, ErrorCode::NotFound);
    assert!(problem.remedy.contains("address book"), "{}", problem.remedy);
}

#[test]
fn defect14_an_x_crm_id_written_by_another_client_attaches_nothing() {
    let Some(server) = radicale_or_skip("defect14_an_x_crm_id_written_by_another_client") else { return };
    let book = server.create_address_book("contacts");
    let core = PluginCore::new(networked_host());
    // A CRM contact outside the export filter (not tagged "export").
    let private = block_on(core.host().crm_create(&crm_contact("Alice", "Privée", "alice@prive.example.fr"))).unwrap();
    // Anyone who may write to the shared book can put a card naming that contact.
    let forged = card("mallory", "Mallory", "Intrus", "mallory@example.net").replace("END:VCARD", &format!("X-CRM-ID:{}\r\nEND:VCARD", private.id));
    server.put_card(&book, "mallory.vcf", &forged);
    let mut v = serde_json::to_value(Settings::default()).unwrap();
    v["spokes"] = json!([{"id": "dav", "kind": "carddav", "name": "Radicale", "allowCreate": true, "serverUrl": server.url, "username": USER, "addressBook": book}]);
    v["filter.mode"] = json!("tags");
    v["filter.tags"] = json!(["export"]);
    block_on(core.save_settings(&v)).unwrap();
    block_on(core.connect_carddav("dav", PASSWORD)).unwrap();

    let report = block_on(connectors::sync(core.host(), "dav", &RunOptions::default(), &Cell::new(false))).unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.counts.linked_by_id, 0, "{:?}", report.counts);
    let alice = core.host().live_contacts().into_iter().find(|c| c.id == private.id).unwrap();
    assert_eq!(alice.version, private.version, "Alice is not written");
    assert_eq!(alice.fields["lastName"], json!("Privée"));
    let on_server = server.get_card(&format!("{book}mallory.vcf")).expect("the card is still there");
    let read = vcard::read(&on_server).unwrap();
    assert_eq!(read.contact.name.family, "Intrus", "nothing of Alice reached the card");
    assert!(!on_server.contains("alice@prive.example.fr"));
}

#[test]
fn a_lost_state_relinks_the_cards_we_made_by_their_signed_x_crm_id() {
    let Some(server) = radicale_or_skip("a_lost_state_relinks_the_cards_we_made") else { return };
    let book = server.create_address_book("contacts");
    let core = PluginCore::new(networked_host());
    let ann = block_on(core.host().crm_create(&crm_contact("Ann", "Archer", "ann@x.org"))).unwrap();
    save_spoke(&core, &server.url, Some(&book));
    block_on(core.connect_carddav("dav", PASSWORD)).unwrap();
    let first = block_on(connectors::sync(core.host(), "dav", &RunOptions::default(), &Cell::new(false))).unwrap();
    assert_eq!(first.counts.remote.created, 1, "{:?}", first.errors);
    let names = server.stored_names("contacts");
    let text = server.get_card(&format!("{book}{}", names[0])).unwrap();
    let carried = vcard::read(&text).unwrap().crm_id.expect("X-CRM-ID");
    let mac = carried.strip_prefix(&format!("{}.", ann.id)).expect("the CRM id, signed");
    assert!(mac.len() == 32 && mac.bytes().all(|b| b.is_ascii_hexdigit()), "{carried}");

    // The state is lost and the CRM e-mail changed: the signed id alone re-links.
    block_on(connectors::forget_links(core.host(), "dav")).unwrap();
    let patch = contact_sync::crm::CrmPatch { fields: Some(serde_json::Map::from_iter([("emails".to_string(), json!([{"value": "ann.new@x.org", "type": "work"}]))])), ..Default::default() };
    block_on(core.host().crm_update(&ann.id, ann.version, &patch)).unwrap();
    let again = block_on(connectors::sync(core.host(), "dav", &RunOptions::default(), &Cell::new(false))).unwrap();
    assert_eq!((again.counts.linked_by_id, again.counts.remote.created, again.counts.crm.created), (1, 0, 0), "{:?}", again.counts);
    assert_eq!(server.stored_names("contacts").len(), 1, "no duplicate card");
}
