#![cfg(not(target_arch = "wasm32"))]
//! The optional photo sync of a Google spoke, through the connector's `sync` (the run and
//! then the photo pass) against the strict emulator: both directions, clearing, both sides
//! changed, a CRM write conflict, refused images, the switch off; and the emulator's photo
//! routes (`/__photos/<token>`, the admin set/clear).

mod google_support;

use std::cell::Cell;
use std::io::Read;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use contact_sync::crm::{CrmContact, CrmFieldSchema, CrmFieldType, CrmPatch, NewCrmContact};
use contact_sync::error::{ErrorCode, PluginError, PluginResult};
use contact_sync::host::{standard_field_schema, Host, HttpRequest, HttpResponse, ResponseEncoding};
use contact_sync::plugin_core::SETTINGS_KEY;
use contact_sync::providers::google::connector;
use contact_sync::providers::google::photos::{memory_key, MAX_PHOTO_BYTES};
use contact_sync::runner::{RunOptions, RunReport};
use devserver::google::{EmulatorConfig, QuotaConfig};
use google_support::{Emu, RealHost, ACCOUNT, CLIENT_SECRET, REDIRECT};
use pollster::block_on;
use serde_json::{json, Map, Value};

/// A tiny JPEG-signed image (the emulator and the plugin check signatures, not pixels).
fn jpeg(tag: u8, len: usize) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
    b.extend((0..len).map(|i| tag.wrapping_add(i as u8)));
    b.extend([0xFF, 0xD9]);
    b
}

fn png(tag: u8) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend([tag; 40]);
    b
}

fn data_url(bytes: &[u8], mime: &str) -> String {
    format!("data:{mime};base64,{}", STANDARD.encode(bytes))
}

/// A binary-safe fetch that honours `responseEncoding` as the shim does.
fn fetch(request: &HttpRequest) -> PluginResult<HttpResponse> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut builder = ureq::http::Request::builder().method(request.method.as_str()).uri(request.url.as_str());
    for (k, v) in &request.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let built = builder.body(request.body.clone().unwrap_or_default()).map_err(|e| PluginError::new(ErrorCode::BadInput, e.to_string()))?;
    let mut response = agent.run(built).map_err(|e| PluginError::new(ErrorCode::Network, e.to_string()))?;
    let status = response.status().as_u16();
    let headers = response.headers().iter().map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.to_str().unwrap_or("").to_string())).collect();
    let mut bytes = Vec::new();
    response.body_mut().with_config().limit(64 * 1024 * 1024).reader().read_to_end(&mut bytes).map_err(|e| PluginError::new(ErrorCode::Network, e.to_string()))?;
    let body = match request.response_encoding {
        Some(ResponseEncoding::Base64) => STANDARD.encode(&bytes),
        _ => String::from_utf8_lossy(&bytes).into_owned(),
    };
    Ok(HttpResponse { status, headers, body })
}

fn emulator() -> Emu {
    let mut c = EmulatorConfig::empty();
    c.quota = QuotaConfig { enabled: false, ..QuotaConfig::default() };
    Emu::start(c)
}

fn schema_with_photo() -> Vec<CrmFieldSchema> {
    let mut fields = standard_field_schema();
    fields.push(CrmFieldSchema { id: "photo".into(), label: "Photo".into(), field_type: CrmFieldType::Image, custom: false, read_only: false });
    fields
}

/// A connected host whose settings point the spoke `g1` at the emulator.
fn connected(emu: &Emu, photos: bool) -> RealHost {
    let host = RealHost::new(emu, true);
    host.inner.set_fetch(fetch);
    host.inner.set_field_schema(schema_with_photo());
    let auth = emu.auth("g1");
    block_on(host.secret_set(&auth.secrets.client_secret, CLIENT_SECRET)).unwrap();
    block_on(auth.connect(&host, REDIRECT)).expect("connect");
    let base = emu.url();
    let mut settings = serde_json::to_value(contact_sync::settings::Settings::default()).unwrap();
    settings["sync.photos"] = json!(photos);
    settings["spokes"] = json!([{
        "id": "g1", "kind": "google", "name": "Work", "allowCreate": true, "clientId": google_support::CLIENT_ID,
        "endpoints": {"auth": format!("{base}/o/oauth2/v2/auth"), "token": format!("{base}/token"), "api": base, "revoke": format!("{base}/revoke")}
    }]);
    contact_sync::settings::Settings::from_value(&settings).expect("valid settings");
    let mut put = Map::new();
    put.insert(SETTINGS_KEY.into(), settings);
    block_on(host.storage_write(&put, &[])).unwrap();
    host
}

fn sync(host: &RealHost) -> RunReport {
    let report = block_on(connector::sync(host, "g1", &RunOptions::default(), &Cell::new(false))).expect("sync");
    assert!(matches!(report.outcome.as_str(), "ok" | "partial"), "{report:?}");
    report
}

fn crm_contact(given: &str, email: &str, photo: Option<String>) -> NewCrmContact {
    let mut fields = Map::new();
    fields.insert("firstName".into(), json!(given));
    fields.insert("lastName".into(), json!("Photo"));
    fields.insert("emails".into(), json!([{"value": email, "type": "work", "primary": true}]));
    if let Some(p) = photo {
        fields.insert("photo".into(), json!(p));
    }
    NewCrmContact { fields, ..NewCrmContact::default() }
}

fn crm_by_email(host: &RealHost, email: &str) -> CrmContact {
    host.inner
        .live_contacts()
        .into_iter()
        .find(|c| c.fields.get("emails").and_then(|e| e[0]["value"].as_str()) == Some(email))
        .unwrap_or_else(|| panic!("no CRM contact {email}"))
}

fn set_crm_photo(host: &RealHost, email: &str, value: Value) {
    let c = crm_by_email(host, email);
    let mut fields = Map::new();
    fields.insert("photo".into(), value);
    block_on(host.crm_update(&c.id, c.version, &CrmPatch { fields: Some(fields), ..CrmPatch::default() })).unwrap();
}

fn google_by_email(emu: &Emu, email: &str) -> Value {
    emu.contacts()
        .into_iter()
        .find(|c| c["emailAddresses"][0]["value"].as_str() == Some(email))
        .unwrap_or_else(|| panic!("no Google contact {email}"))
}

fn google_id(emu: &Emu, email: &str) -> String {
    google_by_email(emu, email)["resourceName"].as_str().unwrap().trim_start_matches("people/").to_string()
}

/// The person's own photo URL, if it has one.
fn google_photo_url(emu: &Emu, email: &str) -> Option<String> {
    let c = google_by_email(emu, email);
    let photo = &c["photos"][0];
    if photo["default"].as_bool() == Some(true) {
        return None;
    }
    photo["url"].as_str().map(str::to_string)
}

fn download(url: &str) -> (u16, Vec<u8>, Map<String, Value>) {
    let r = fetch(&HttpRequest { method: "GET".into(), url: url.into(), response_encoding: Some(ResponseEncoding::Base64), ..HttpRequest::default() }).unwrap();
    let headers = r.headers.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    (r.status, STANDARD.decode(&r.body).unwrap_or_default(), headers)
}

fn set_google_photo(emu: &Emu, email: &str, bytes: &[u8]) {
    let id = google_id(emu, email);
    emu.admin("PUT", &format!("/accounts/{ACCOUNT}/contacts/{id}/photo"), json!({"photoBytes": STANDARD.encode(bytes)}));
}

/// Photo calls and photo downloads in the emulator's log.
fn photo_requests(emu: &Emu) -> Vec<String> {
    emu.log()
        .into_iter()
        .map(|l| format!("{} {}", l["method"].as_str().unwrap_or(""), l["path"].as_str().unwrap_or("")))
        .filter(|l| l.contains("ContactPhoto") || l.contains("/__photos/"))
        .collect()
}

/// Gina in Google and Carl in the CRM, each with a photo, on a connected host.
fn gina_and_carl(photos: bool, gina: &[u8], carl: &[u8]) -> (Emu, RealHost) {
    let emu = emulator();
    emu.seed(vec![google_support::person("Gina", "Photo", "gina@example.org", None)]);
    set_google_photo(&emu, "gina@example.org", gina);
    let host = connected(&emu, photos);
    let mime = if carl.starts_with(b"\x89PNG") { "image/png" } else { "image/jpeg" };
    block_on(host.crm_create(&crm_contact("Carl", "carl@example.org", Some(data_url(carl, mime))))).unwrap();
    (emu, host)
}

#[test]
fn photos_flow_both_ways_then_a_quiet_run_costs_nothing() {
    let (gina, carl) = (jpeg(1, 300), png(7));
    let (emu, host) = gina_and_carl(true, &gina, &carl);

    let first = sync(&host);
    assert_eq!(first.outcome, "ok", "{first:?}");
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    // Google → CRM: the bytes, as a data URL in the image field.
    assert_eq!(crm_by_email(&host, "gina@example.org").fields["photo"], json!(data_url(&gina, "image/jpeg")));
    // CRM → Google: updateContactPhoto; the photo URL serves the same bytes.
    let url = google_photo_url(&emu, "carl@example.org").expect("Carl has a photo in Google");
    let (status, bytes, headers) = download(&url);
    assert_eq!((status, bytes), (200, carl.clone()));
    assert_eq!(headers["content-type"], json!("image/png"));
    // The run's counts include the photo writes, and the history entry says so.
    assert_eq!(first.counts.remote.created, 1);
    let history = block_on(host.storage_get(&["spoke.g1.history".to_string()])).unwrap();
    let last = history["spoke.g1.history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["runId"], json!(first.run_id));
    assert_eq!(last["counts"], serde_json::to_value(first.counts).unwrap());
    // The memory holds hashes and URLs, never image bytes.
    let memory = host.inner.storage_snapshot()[&memory_key("g1")].to_string();
    assert!(!memory.contains(&STANDARD.encode(&gina)) && memory.len() < 1000, "{memory}");

    // Nothing changed: no photo request at all, and no write.
    emu.clear_log();
    let quiet = sync(&host);
    assert_eq!(photo_requests(&emu), Vec::<String>::new());
    assert_eq!((quiet.counts.crm.updated, quiet.counts.remote.updated), (0, 0), "{quiet:?}");
    emu.clear_log();
    let quieter = sync(&host);
    assert_eq!((quieter.counts.crm.updated, quieter.counts.remote.updated), (0, 0), "{quieter:?}");
    // With photos on, a run with nothing changed still costs one request (the delta).
    let api = emu.log().iter().filter(|l| l["path"].as_str().unwrap_or("").starts_with("/v1/")).count();
    assert_eq!((api, photo_requests(&emu).len()), (1, 0));

    // A new photo in Google reaches the CRM; a new one in the CRM reaches Google.
    let gina2 = jpeg(50, 500);
    set_google_photo(&emu, "gina@example.org", &gina2);
    let carl2 = jpeg(90, 200);
    set_crm_photo(&host, "carl@example.org", json!(data_url(&carl2, "image/jpeg")));
    emu.clear_log();
    let third = sync(&host);
    let calls = photo_requests(&emu);
    assert_eq!(calls.iter().filter(|c| c.contains("updateContactPhoto")).count(), 1, "{calls:?}");
    assert_eq!(calls.iter().filter(|c| c.contains("/__photos/")).count(), 1, "{calls:?}");
    assert!(third.conflicts.is_empty(), "{:?}", third.conflicts);
    assert_eq!(crm_by_email(&host, "gina@example.org").fields["photo"], json!(data_url(&gina2, "image/jpeg")));
    assert_eq!(download(&google_photo_url(&emu, "carl@example.org").unwrap()).1, carl2);
}

#[test]
fn clearing_a_photo_clears_it_on_the_other_side() {
    let (emu, host) = gina_and_carl(true, &jpeg(3, 100), &png(4));
    sync(&host);
    assert!(google_photo_url(&emu, "carl@example.org").is_some());
    assert!(crm_by_email(&host, "gina@example.org").fields["photo"].is_string());

    // Cleared in the CRM → deleteContactPhoto; removed in Google → the CRM field cleared.
    set_crm_photo(&host, "carl@example.org", Value::Null);
    let id = google_id(&emu, "gina@example.org");
    emu.admin("DELETE", &format!("/accounts/{ACCOUNT}/contacts/{id}/photo"), Value::Null);
    emu.clear_log();
    let report = sync(&host);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(google_photo_url(&emu, "carl@example.org"), None);
    assert!(crm_by_email(&host, "gina@example.org").fields.get("photo").is_none_or(Value::is_null));
    let calls = photo_requests(&emu);
    assert_eq!(calls.iter().filter(|c| c.contains("deleteContactPhoto")).count(), 1, "{calls:?}");
    // And it stays settled.
    emu.clear_log();
    sync(&host);
    assert_eq!(photo_requests(&emu), Vec::<String>::new());
}

#[test]
fn both_changed_the_newer_change_wins_and_is_reported() {
    let emu = emulator();
    emu.seed(vec![google_support::person("Dana", "Photo", "dana@example.org", None)]);
    let host = connected(&emu, true);
    sync(&host);

    // The CRM's clock (virtual, early 2026) is behind the emulator's real one: Google newer.
    set_crm_photo(&host, "dana@example.org", json!(data_url(&jpeg(10, 100), "image/jpeg")));
    let google_side = jpeg(20, 100);
    set_google_photo(&emu, "dana@example.org", &google_side);
    let report = sync(&host);
    let conflict = report.conflicts.iter().find(|c| c.field == "photo").unwrap_or_else(|| panic!("{report:?}"));
    assert_eq!(serde_json::to_value(conflict.kept).unwrap(), json!("remote"));
    assert_eq!(crm_by_email(&host, "dana@example.org").fields["photo"], json!(data_url(&google_side, "image/jpeg")));
    assert_eq!(download(&google_photo_url(&emu, "dana@example.org").unwrap()).1, google_side);

    // Move the CRM's clock a year ahead: now the CRM's change is the newer one.
    host.inner.advance(365.0 * 86_400_000.0);
    set_google_photo(&emu, "dana@example.org", &jpeg(30, 100));
    let crm_side = png(40);
    set_crm_photo(&host, "dana@example.org", json!(data_url(&crm_side, "image/png")));
    let report = sync(&host);
    let conflict = report.conflicts.iter().find(|c| c.field == "photo").unwrap_or_else(|| panic!("{report:?}"));
    assert_eq!(serde_json::to_value(conflict.kept).unwrap(), json!("crm"));
    assert_eq!(download(&google_photo_url(&emu, "dana@example.org").unwrap()).1, crm_side);
    assert_eq!(crm_by_email(&host, "dana@example.org").fields["photo"], json!(data_url(&crm_side, "image/png")));
    // Recorded in the run's history entry.
    let history = block_on(host.storage_get(&["spoke.g1.history".to_string()])).unwrap();
    let last = history["spoke.g1.history"].as_array().unwrap().last().unwrap().clone();
    assert!(last["conflicts"].as_array().unwrap().iter().any(|c| c["field"] == json!("photo")), "{last}");
}

#[test]
fn a_crm_write_conflict_waits_for_the_next_run() {
    let emu = emulator();
    emu.seed(vec![google_support::person("Gina", "Photo", "gina@example.org", None)]);
    let host = connected(&emu, true);
    sync(&host);
    let photo = jpeg(60, 80);
    set_google_photo(&emu, "gina@example.org", &photo);
    // The run itself writes nothing to the CRM (only the photo changed): the first
    // crm.update is the photo pass's.
    host.inner.fail_next("crm.update", PluginError::new(ErrorCode::Conflict, "changed meanwhile"));
    let report = sync(&host);
    assert!(report.notices.iter().any(|n| n.contains("waits for the next run")), "{report:?}");
    assert!(crm_by_email(&host, "gina@example.org").fields.get("photo").is_none_or(Value::is_null));
    let next = sync(&host);
    assert!(next.errors.is_empty(), "{:?}", next.errors);
    assert_eq!(crm_by_email(&host, "gina@example.org").fields["photo"], json!(data_url(&photo, "image/jpeg")));
}

#[test]
fn refused_images_are_reported_per_contact_once_and_the_run_goes_on() {
    let emu = emulator();
    emu.seed(vec![google_support::person("Huge", "Photo", "huge@example.org", None)]);
    // 3 MiB: Google takes it (the emulator's limit is 5 MiB), the plugin does not.
    set_google_photo(&emu, "huge@example.org", &jpeg(1, 3 * 1024 * 1024));
    let host = connected(&emu, true);
    let gif = data_url(b"GIF89a\x01\x00\x01\x00", "image/gif");
    block_on(host.crm_create(&crm_contact("Gif", "gif@example.org", Some(gif)))).unwrap();
    let big = data_url(&jpeg(2, MAX_PHOTO_BYTES + 10), "image/jpeg");
    block_on(host.crm_create(&crm_contact("Big", "big@example.org", Some(big)))).unwrap();
    let fine = png(9);
    block_on(host.crm_create(&crm_contact("Fine", "fine@example.org", Some(data_url(&fine, "image/png"))))).unwrap();

    let report = sync(&host);
    assert_eq!(report.outcome, "ok", "image problems do not fail or degrade the run: {report:?}");
    let codes: Vec<&str> = report.errors.iter().map(|e| e.message.split(':').next().unwrap_or("")).collect();
    assert_eq!(codes.iter().filter(|c| **c == "PHOTO_UNSUPPORTED_TYPE").count(), 1, "{:?}", report.errors);
    assert_eq!(codes.iter().filter(|c| **c == "PHOTO_TOO_LARGE").count(), 2, "{:?}", report.errors);
    for e in &report.errors {
        assert_eq!(e.code, ErrorCode::BadInput);
        assert!(e.remedy.contains("JPEG or PNG"), "{e:?}");
    }
    assert!(report.errors.iter().any(|e| e.message.contains("Huge Photo") && e.message.contains("(Google)")), "{:?}", report.errors);
    assert_eq!(google_photo_url(&emu, "gif@example.org"), None);
    assert_eq!(google_photo_url(&emu, "big@example.org"), None);
    assert_eq!(download(&google_photo_url(&emu, "fine@example.org").unwrap()).1, fine);
    assert!(crm_by_email(&host, "huge@example.org").fields.get("photo").is_none_or(Value::is_null));
    // Reported once per image, not at every run.
    let again = sync(&host);
    assert!(again.errors.is_empty(), "{:?}", again.errors);
}

#[test]
fn with_the_switch_off_not_a_single_photo_request() {
    let (emu, host) = gina_and_carl(false, &jpeg(5, 100), &png(1));
    emu.clear_log();
    let report = sync(&host);
    assert_eq!(report.outcome, "ok");
    sync(&host);
    assert_eq!(photo_requests(&emu), Vec::<String>::new());
    assert_eq!(google_photo_url(&emu, "carl@example.org"), None);
    assert!(crm_by_email(&host, "gina@example.org").fields.get("photo").is_none_or(Value::is_null));
    assert!(!host.inner.storage_snapshot().contains_key(&memory_key("g1")));
    assert!(!host.inner.requests().iter().any(|r| r.response_encoding.is_some()));
}

#[test]
fn without_an_image_field_the_pass_says_so_and_sends_nothing() {
    let emu = emulator();
    emu.seed(vec![google_support::person("Gina", "Photo", "gina@example.org", None)]);
    set_google_photo(&emu, "gina@example.org", &jpeg(5, 100));
    let host = connected(&emu, true);
    host.inner.set_field_schema(standard_field_schema());
    emu.clear_log();
    let report = sync(&host);
    assert!(report.notices.iter().any(|n| n.contains("no image field")), "{report:?}");
    assert_eq!(photo_requests(&emu), Vec::<String>::new());
}

// ---------- the emulator's photo routes ----------

#[test]
fn emulator_serves_photos_on_its_loopback_origin_with_cors() {
    let emu = emulator();
    emu.seed(vec![google_support::person("Eve", "Photo", "eve@example.org", None)]);
    let id = google_id(&emu, "eve@example.org");
    let before = google_by_email(&emu, "eve@example.org");
    assert_eq!(before["photos"][0]["default"], json!(true));
    let bytes = jpeg(8, 64);
    let after = emu.admin("PUT", &format!("/accounts/{ACCOUNT}/contacts/{id}/photo"), json!({"photoBytes": STANDARD.encode(&bytes)}));
    let url = after["photos"][0]["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("{}/__photos/", emu.url())), "{url}");
    assert_ne!(after["etag"], before["etag"], "a photo change is a change of the person");

    let mut headers = std::collections::BTreeMap::new();
    headers.insert("origin".to_string(), "http://127.0.0.1:9".to_string());
    let r = fetch(&HttpRequest { method: "GET".into(), url: url.clone(), headers, response_encoding: Some(ResponseEncoding::Base64), ..HttpRequest::default() }).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(STANDARD.decode(&r.body).unwrap(), bytes);
    assert_eq!(r.headers["content-type"], "image/jpeg");
    assert_eq!(r.headers["access-control-allow-origin"], "http://127.0.0.1:9");

    // Replaced: the old URL is dead, the new one serves the new bytes.
    emu.admin("PUT", &format!("/accounts/{ACCOUNT}/contacts/{id}/photo"), json!({"photoBytes": STANDARD.encode(png(2))}));
    assert_eq!(download(&url).0, 404);
    assert_eq!(download(&format!("{}/__photos/..%2Fetc", emu.url())).0, 404);
    // Removed: the default avatar again; removing twice is a 404.
    emu.admin("DELETE", &format!("/accounts/{ACCOUNT}/contacts/{id}/photo"), Value::Null);
    assert_eq!(google_by_email(&emu, "eve@example.org")["photos"][0]["default"], json!(true));
    let r = fetch(&HttpRequest { method: "DELETE".into(), url: format!("{}/__admin/accounts/{ACCOUNT}/contacts/{id}/photo", emu.url()), ..HttpRequest::default() }).unwrap();
    assert_eq!(r.status, 404);
    // Not an image, or not base64: refused as Google refuses them.
    for body in [json!({"photoBytes": STANDARD.encode(b"GIF89a....")}), json!({"photoBytes": "***"}), json!({})] {
        let r = fetch(&HttpRequest {
            method: "PUT".into(),
            url: format!("{}/__admin/accounts/{ACCOUNT}/contacts/{id}/photo", emu.url()),
            body: Some(body.to_string()),
            ..HttpRequest::default()
        })
        .unwrap();
        assert_eq!(r.status, 400, "{body}: {}", r.body);
    }
}

#[test]
fn an_event_run_handles_only_its_contacts_and_a_budget_stops_the_pass() {
    let emu = emulator();
    let host = connected(&emu, true);
    for name in ["Ann", "Bob"] {
        block_on(host.crm_create(&crm_contact(name, &format!("{}@example.org", name.to_lowercase()), None))).unwrap();
    }
    sync(&host);
    // The echo of our creates comes back in this run's delta; after it, Google is quiet.
    sync(&host);
    set_crm_photo(&host, "ann@example.org", json!(data_url(&jpeg(1, 50), "image/jpeg")));
    set_crm_photo(&host, "bob@example.org", json!(data_url(&jpeg(2, 50), "image/jpeg")));

    // A run after an event on Ann only: Bob's photo waits.
    let ann = crm_by_email(&host, "ann@example.org").id;
    let options = RunOptions { trigger: "event".into(), contact_ids: vec![ann], ..RunOptions::default() };
    let report = block_on(connector::sync(&host, "g1", &options, &Cell::new(false))).unwrap();
    assert_eq!(report.counts.remote.updated, 1, "{report:?}");
    assert!(google_photo_url(&emu, "ann@example.org").is_some());
    assert_eq!(google_photo_url(&emu, "bob@example.org"), None);

    // A run whose budget is already spent leaves the photo work for the next run.
    let options = RunOptions { budget_ms: Some(0.0), ..RunOptions::default() };
    let report = block_on(connector::sync(&host, "g1", &options, &Cell::new(false))).unwrap();
    assert!(report.more, "{report:?}");
    assert!(report.notices.iter().any(|n| n.contains("time budget")), "{report:?}");
    assert_eq!(google_photo_url(&emu, "bob@example.org"), None);

    sync(&host);
    assert!(google_photo_url(&emu, "bob@example.org").is_some());
}

#[test]
fn photo_writes_are_paced_to_their_own_quota_without_429s() {
    use contact_sync::providers::google::client::GoogleSpoke;
    use contact_sync::providers::google::pacing::Quota;
    use contact_sync::providers::google::photos::{run_pass, PassScope};
    const N: usize = 120;
    const WINDOW_MS: u64 = 1000;
    let mut config = EmulatorConfig::empty();
    config.quota = QuotaConfig { enabled: true, window_ms: WINDOW_MS, ..QuotaConfig::default() };
    let emu = Emu::start(config);
    let host = connected(&emu, false);
    for i in 0..N {
        block_on(host.crm_create(&crm_contact(&format!("P{i}"), &format!("p{i}@example.org"), None))).unwrap();
    }
    // Links first (photos off), then a photo on every CRM contact.
    block_on(connector::sync(&host, "g1", &RunOptions::default(), &Cell::new(false))).unwrap();
    for i in 0..N {
        set_crm_photo(&host, &format!("p{i}@example.org"), json!(data_url(&jpeg(i as u8, 64), "image/jpeg")));
    }
    let settings = contact_sync::settings::Settings { sync_photos: true, ..Default::default() };
    emu.clear_log();
    emu.admin("POST", "/quota/reset", Value::Null);
    let mut client = GoogleSpoke::new(&host, emu.auth("g1"), Quota::default().with_window(WINDOW_MS as f64));
    let started = std::time::Instant::now();
    let out = block_on(run_pass(&mut client, "g1", &settings, &schema_with_photo(), &PassScope::default(), &Cell::new(false))).unwrap();
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(out.uploaded as usize, N, "{:?}", out.errors);
    let summary = emu.admin("GET", "/log/summary", Value::Null);
    let rate_limited = summary["rateLimited"].as_u64().unwrap_or(0);
    let bound_ms = summary["quota"]["quotaBoundMs"].as_f64().unwrap();
    println!(
        "FIGURE photo pass: {N} uploads + {} batchGet in {wall_ms:.0} ms, quota bound {bound_ms:.0} ms ({:.0}% of the quota-bound rate), {rate_limited} answers 429",
        out.requests as usize - N,
        100.0 * bound_ms / wall_ms
    );
    assert_eq!(rate_limited, 0, "the pacer keeps under the photo quota");
    // 50 photo writes per window: 120 uploads need at least two full windows.
    assert!(wall_ms >= 2.0 * WINDOW_MS as f64, "{wall_ms}");
    assert!(bound_ms / wall_ms >= 0.8, "paced close to the quota: {bound_ms} / {wall_ms}");
}

#[test]
fn the_pass_waits_while_another_run_holds_the_spoke_and_releases_its_lease() {
    use contact_sync::providers::google::client::GoogleSpoke;
    use contact_sync::providers::google::pacing::Quota;
    use contact_sync::providers::google::photos::{run_pass, PassScope};
    let emu = emulator();
    let host = connected(&emu, true);
    block_on(host.crm_create(&crm_contact("Ann", "ann@example.org", None))).unwrap();
    sync(&host);
    set_crm_photo(&host, "ann@example.org", json!(data_url(&jpeg(1, 50), "image/jpeg")));
    let settings = contact_sync::settings::Settings { sync_photos: true, ..Default::default() };
    let lease_key = "spoke.g1.lease".to_string();
    let live = json!({"runId": "run-other", "expiresAt": (host.now_ms() as u64) + 60_000});
    let mut put = Map::new();
    put.insert(lease_key.clone(), live.clone());
    block_on(host.storage_write(&put, &[])).unwrap();
    emu.clear_log();
    let mut client = GoogleSpoke::new(&host, emu.auth("g1"), Quota::unlimited());
    let out = block_on(run_pass(&mut client, "g1", &settings, &schema_with_photo(), &PassScope::default(), &Cell::new(false))).unwrap();
    assert!(out.notices.iter().any(|n| n.contains("another run")), "{out:?}");
    assert_eq!(photo_requests(&emu), Vec::<String>::new());
    assert_eq!(block_on(host.storage_get(std::slice::from_ref(&lease_key))).unwrap()[&lease_key], live, "the other run's lease is untouched");

    // Once it is released, the pass runs and leaves no lease behind.
    block_on(host.storage_write(&Map::new(), std::slice::from_ref(&lease_key))).unwrap();
    let out = block_on(run_pass(&mut client, "g1", &settings, &schema_with_photo(), &PassScope::default(), &Cell::new(false))).unwrap();
    assert_eq!(out.uploaded, 1, "{out:?}");
    assert!(!block_on(host.storage_get(std::slice::from_ref(&lease_key))).unwrap().contains_key(&lease_key));
}

#[test]
fn a_photo_host_the_shim_refuses_is_reported_once_not_retried_every_run() {
    let emu = emulator();
    emu.seed(vec![google_support::person("Gina", "Photo", "gina@example.org", None)]);
    set_google_photo(&emu, "gina@example.org", &jpeg(5, 100));
    let host = connected(&emu, true);
    let refused = std::rc::Rc::new(Cell::new(0));
    let count = refused.clone();
    host.inner.set_fetch(move |r| {
        if r.url.contains("/__photos/") {
            count.set(count.get() + 1);
            return Err(PluginError::new(ErrorCode::NotAllowedHost, "http://127.0.0.1 is not in the allowlist"));
        }
        fetch(r)
    });
    let report = sync(&host);
    assert_eq!(report.outcome, "ok", "{report:?}");
    assert_eq!(report.errors.iter().map(|e| e.code).collect::<Vec<_>>(), vec![ErrorCode::NotAllowedHost], "{:?}", report.errors);
    assert!(report.errors[0].message.contains("Gina Photo") && !report.errors[0].remedy.is_empty());
    let again = sync(&host);
    assert!(again.errors.is_empty(), "{:?}", again.errors);
    assert_eq!(refused.get(), 1, "not retried while Google's photo stays the same");
}
