#![cfg(not(target_arch = "wasm32"))]
//! plugin.json, plugin.schema.json and the Rust types must agree.
//!
//! When the manifest type changes on purpose, regenerate the schema with
//! `BLESS=1 cargo test --test manifest` and commit plugin.schema.json.

use contact_sync::manifest::Manifest;
use contact_sync::settings::Settings;
use serde_json::{json, Value};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_json(name: &str) -> Value {
    let text = std::fs::read_to_string(root().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn generated_schema() -> String {
    let schema = schemars::schema_for!(Manifest);
    serde_json::to_string_pretty(&schema).unwrap() + "\n"
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&read_json("plugin.schema.json")).expect("plugin.schema.json is a valid JSON Schema")
}

#[test]
fn checked_in_schema_matches_the_manifest_type() {
    let generated = generated_schema();
    let path = root().join("plugin.schema.json");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "plugin.schema.json is out of date: run `BLESS=1 cargo test --test manifest` and commit it"
    );
}

#[test]
fn plugin_json_validates_against_the_schema() {
    let manifest = read_json("plugin.json");
    let validator = validator();
    let errors: Vec<String> = validator.iter_errors(&manifest).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn the_schema_refuses_unknown_fields_and_missing_permissions() {
    let validator = validator();
    let mut extra = read_json("plugin.json");
    extra["permissions"]["camera"] = json!(true);
    assert!(!validator.is_valid(&extra));
    assert!(serde_json::from_value::<Manifest>(extra).is_err());

    let mut missing = read_json("plugin.json");
    missing["permissions"]["network"].as_object_mut().unwrap().remove("reasoning");
    assert!(!validator.is_valid(&missing));

    let mut wrong_api = read_json("plugin.json");
    wrong_api["hostApi"] = json!("2");
    assert!(!validator.is_valid(&wrong_api));
}

#[test]
fn plugin_json_is_the_manifest_compiled_in_and_has_no_problems() {
    let on_disk: Manifest = serde_json::from_value(read_json("plugin.json")).unwrap();
    let bundled = Manifest::bundled().unwrap();
    assert_eq!(&on_disk, bundled);
    assert_eq!(on_disk.problems(), Vec::<String>::new());
    assert_eq!(on_disk.version, env!("CARGO_PKG_VERSION"), "plugin.json and Cargo.toml versions differ");
    assert_eq!(on_disk.entry.wasm, "pkg/contact_sync_bg.wasm");
    assert_eq!(on_disk.schedule.interval_minutes, 15);
}

#[test]
fn manifest_defaults_equal_the_settings_defaults() {
    let manifest = read_json("plugin.json");
    let defaults = &manifest["contributes"]["settings"]["defaults"];
    assert_eq!(defaults, &serde_json::to_value(Settings::default()).unwrap());
}

#[test]
fn the_settings_schema_declares_exactly_the_settings_keys() {
    let manifest = read_json("plugin.json");
    let schema = &manifest["contributes"]["settings"]["schema"];
    let defaults = serde_json::to_value(Settings::default()).unwrap();
    let mut keys: Vec<&String> = defaults.as_object().unwrap().keys().collect();
    let mut declared: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
    let mut required: Vec<&str> = schema["required"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    keys.sort();
    declared.sort();
    required.sort();
    assert_eq!(keys, declared);
    // Keys added after the first release are optional (serde default), so settings stored
    // before them stay valid; every other key is required.
    const OPTIONAL: &[&str] = &["sync.photos"];
    let expected: Vec<&str> = keys.iter().map(|k| k.as_str()).filter(|k| !OPTIONAL.contains(k)).collect();
    assert_eq!(expected, required);
    let mut old = defaults.clone();
    for k in OPTIONAL {
        old.as_object_mut().unwrap().remove(*k);
    }
    let read = Settings::from_value(&old).expect("settings stored before the optional keys existed stay valid");
    assert_eq!(read, Settings::default());
    assert_eq!(schema["additionalProperties"], json!(false));
}

#[test]
fn the_small_validator_agrees_with_a_full_json_schema_implementation() {
    // The wasm validates with a subset validator; a full one must judge the same values
    // the same way, so the subset cannot drift into accepting what the schema refuses.
    let manifest = read_json("plugin.json");
    let schema = manifest["contributes"]["settings"]["schema"].clone();
    let full = jsonschema::validator_for(&schema).unwrap();
    let base = serde_json::to_value(Settings::default()).unwrap();
    let spoke = json!({"id": "g", "kind": "google", "name": "Work", "allowCreate": true, "clientId": "abc"});
    let row = json!({"crmField": "firstName", "remoteField": "name.given", "direction": "both", "priority": "newest", "fillEmpty": true});
    let cases: Vec<(&str, Value)> = vec![
        ("sync.enabled", json!("true")),
        ("sync.enabled", json!(false)),
        ("filter.mode", json!("lists")),
        ("filter.mode", json!("everyone")),
        ("filter.lists", json!(["a", "a"])),
        ("filter.lists", json!(["a", ""])),
        ("guard.maxDeleteShare", json!(-0.1)),
        ("guard.maxDeleteShare", json!(1)),
        ("phone.defaultRegion", json!("FRA")),
        ("mapping.fields", json!([row])),
        ("mapping.fields", json!([{"crmField": "x"}])),
        ("mapping.labels", json!([{"crm": {"kind": "list", "id": "l1"}, "remoteLabel": "VIP"}])),
        ("mapping.labels", json!([{"crm": {"kind": "group", "id": "l1"}, "remoteLabel": "VIP"}])),
        ("spokes", json!([spoke])),
        ("spokes", json!([{"id": "g", "kind": "outlook", "name": "W", "allowCreate": true}])),
        ("spokes", json!([{"id": "g", "kind": "google", "name": "W", "allowCreate": true, "password": "x"}])),
        ("spokes", json!([{"id": "g", "kind": "google", "name": "W", "allowCreate": true, "endpoints": {"auth": "http://127.0.0.1:1"}}])),
        ("unknown.key", json!(1)),
    ];
    for (key, value) in cases {
        let mut candidate = base.clone();
        candidate[key] = value.clone();
        let small = contact_sync::settings::schema_check::check(&schema, &candidate);
        assert_eq!(small.is_empty(), full.is_valid(&candidate), "{key} = {value}: subset said {small:?}");
    }
    let mut missing = base.clone();
    missing.as_object_mut().unwrap().remove("spokes");
    assert!(!full.is_valid(&missing));
    assert!(!contact_sync::settings::schema_check::check(&schema, &missing).is_empty());
}
