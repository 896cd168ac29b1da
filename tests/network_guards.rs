#![cfg(not(target_arch = "wasm32"))]
//! The network rules the core applies to addresses from outside (the settings an operator
//! typed, what a server answered): server URLs validated (scheme, no user name or password,
//! no backslash, control character or space), development hosts compared by parsed host
//! and never by prefix, and no user name or password ever shown in an account label or an
//! error.

use contact_sync::error::ErrorCode;
use contact_sync::host::{Host, MemoryHost};
use contact_sync::plugin_core::{PluginCore, SETTINGS_KEY};
use contact_sync::providers::carddav::connector;
use contact_sync::settings::{Settings, SpokeSettings};
use pollster::block_on;
use serde_json::{json, Map, Value};

const PASSWORD: &str = "s3cret-pw";

fn with_spokes(spokes: Value) -> Value {
    let mut v = serde_json::to_value(Settings::default()).unwrap();
    v["spokes"] = spokes;
    v
}

fn carddav(server_url: &str) -> Value {
    json!({"id": "dav", "kind": "carddav", "name": "Dav", "allowCreate": true, "serverUrl": server_url, "username": "ada"})
}

/// The settings reasons, or a panic when the settings were accepted.
fn refused(v: &Value) -> Vec<String> {
    match Settings::from_value(v) {
        Ok(_) => panic!("accepted: {v}"),
        Err(e) => {
            assert_eq!(e.code, ErrorCode::InvalidSettings);
            e.reasons
        }
    }
}

#[test]
fn a_development_host_is_compared_by_its_parsed_host_never_by_prefix() {
    for endpoint in ["http://127.0.0.1:1@evil.example/token", "http://localhost:1@evil.example/", "http://127.0.0.1.evil.example/", "http://127.0.0.1\\@evil.example/"] {
        let v = with_spokes(json!([{"id": "g", "kind": "google", "name": "G", "allowCreate": true,
            "endpoints": {"auth": "http://127.0.0.1:9/auth", "token": endpoint, "api": "http://localhost:9"}}]));
        let reasons = refused(&v);
        assert!(reasons.iter().any(|r| r.starts_with("spokes[0].endpoints.token")), "{endpoint}: {reasons:?}");
        assert_eq!(reasons.len(), 1, "{endpoint}: {reasons:?}");
    }
    // An http:// CardDAV server passes only on a development host, by its real host.
    let reasons = refused(&with_spokes(json!([carddav("http://127.0.0.1:1@evil.example/dav/")])));
    assert!(reasons.iter().any(|r| r.starts_with("spokes[0].serverUrl")), "{reasons:?}");
    assert!(Settings::from_value(&with_spokes(json!([carddav("http://127.0.0.1:5232/")]))).is_ok());
    assert!(Settings::from_value(&with_spokes(json!([carddav("HTTP://LOCALHOST:5232/")]))).is_ok());
}

#[test]
fn a_server_url_with_a_user_name_or_password_or_ambiguous_characters_is_refused_without_repeating_it() {
    for url in [
        format!("https://ada:{PASSWORD}@dav.example.com/dav/"),
        "https://ada@dav.example.com/dav/".to_string(),
        "https://dav.example.com\\@evil.example/".to_string(),
        "https://dav.example.com/dav/\r\nHost: evil.example".to_string(),
        "https://dav.example.com/my dav/".to_string(),
        "https://dav.example.com:99999/".to_string(),
        "ftp://dav.example.com/".to_string(),
        "dav.example.com".to_string(),
    ] {
        let reasons = refused(&with_spokes(json!([carddav(&url)])));
        assert!(reasons.iter().any(|r| r.starts_with("spokes[0].serverUrl")), "{url:?}: {reasons:?}");
        assert!(reasons.iter().all(|r| !r.contains(PASSWORD) && !r.contains("evil.example")), "the URL is not repeated: {reasons:?}");
    }
    assert!(Settings::from_value(&with_spokes(json!([carddav("https://dav.example.com:8443/remote.php/dav/")]))).is_ok());
}

#[test]
fn the_account_label_never_shows_a_user_name_or_password_from_the_url() {
    // Built directly, as settings stored before validation refused such URLs would read.
    let spoke = |server: &str| -> SpokeSettings { serde_json::from_value(carddav(server)).unwrap() };
    let label = connector::account(&spoke(&format!("https://ada:{PASSWORD}@dav.example.com/dav/")));
    assert!(label.as_deref().is_none_or(|l| !l.contains(PASSWORD)), "{label:?}");
    assert_eq!(connector::account(&spoke("https://DAV.example.com:443/dav/")).as_deref(), Some("ada @ dav.example.com"));
    assert_eq!(connector::account(&spoke("http://127.0.0.1:5232/")).as_deref(), Some("ada @ 127.0.0.1:5232"));
}

#[test]
fn settings_stored_with_a_password_in_the_url_are_a_problem_that_does_not_show_it() {
    let host = MemoryHost::new();
    let stored = with_spokes(json!([carddav(&format!("https://ada:{PASSWORD}@dav.example.com/dav/"))]));
    block_on(host.storage_write(&Map::from_iter([(SETTINGS_KEY.to_string(), stored)]), &[])).unwrap();
    host.set_fetch(|r| panic!("nothing may be sent: {}", r.url));
    let core = PluginCore::new(host);
    let err = block_on(core.connect_carddav("dav", "pw")).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidSettings, "{err:?}");
    let shown = format!("{} {} {:?}", err.message, err.remedy, err.reasons);
    assert!(!shown.contains(PASSWORD), "{shown}");
    let status = block_on(core.status()).unwrap();
    let problem = status.settings_problem.expect("the stored settings are reported");
    assert!(!problem.message.contains(PASSWORD), "{}", problem.message);
}

#[test]
fn the_admitted_origins_follow_the_stored_settings_and_the_hosts_mode() {
    use contact_sync::network::admission::{network_access_of, OriginSource};
    let host = MemoryHost::new();
    let store = |v: Value| block_on(host.storage_write(&Map::from_iter([(SETTINGS_KEY.to_string(), v)]), &[])).unwrap();
    let servers = |host: &MemoryHost| -> Vec<String> {
        let access = block_on(network_access_of(host)).unwrap();
        access.origins.iter().filter(|o| o.source == OriginSource::Server).map(|o| o.origin.clone()).collect()
    };
    let mut lan = carddav("https://[::ffff:c0a8:114]/");
    lan["id"] = json!("lan");
    store(with_spokes(json!([carddav("https://dav.example.com/dav/"), lan])));
    assert_eq!(servers(&host), vec!["https://dav.example.com"]);
    let access = block_on(network_access_of(&host)).unwrap();
    assert_eq!(access.refused.iter().map(|r| r.origin.as_deref()).collect::<Vec<_>>(), vec![Some("https://[::ffff:c0a8:114]")]);
    host.set_dev_mode(true);
    assert_eq!(servers(&host), vec!["https://dav.example.com", "https://[::ffff:c0a8:114]"]);
    host.set_dev_mode(false);
    let mut allowed = carddav("https://[::ffff:c0a8:114]/");
    allowed["allowPrivateNetwork"] = json!(true);
    store(with_spokes(json!([allowed])));
    assert_eq!(servers(&host), vec!["https://[::ffff:c0a8:114]"]);
    // Settings that do not validate admit no server; the manifest's origins stay.
    store(json!({"spokes": "broken"}));
    let access = block_on(network_access_of(&host)).unwrap();
    assert!(servers(&host).is_empty());
    assert!(access.origins.iter().any(|o| o.origin == "https://people.googleapis.com"));
}
