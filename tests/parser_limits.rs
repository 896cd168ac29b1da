#![cfg(not(target_arch = "wasm32"))]
//! Every parser of outside data has depth and size limits and answers hostile input with
//! a coded error and a remedy, never a panic or a stack overflow (a panic in wasm kills
//! the plugin instance). The limits are documented in docs/robustness.md.

use contact_sync::error::ErrorCode;
use contact_sync::providers::carddav::error::CardDavErrorCode;
use contact_sync::providers::carddav::{vcard, xml};
use contact_sync::providers::google::oauth::{self, PendingAuthorization};
use contact_sync::providers::google::protocol;
use contact_sync::settings::Settings;
use serde_json::{json, Value};

/// `levels` nested elements inside a DAV multistatus, as a hostile server could send.
fn nested_multistatus(levels: usize) -> String {
    let mut s = String::with_capacity(levels * 7 + 64);
    s.push_str(r#"<d:multistatus xmlns:d="DAV:">"#);
    for _ in 0..levels {
        s.push_str("<a>");
    }
    for _ in 0..levels {
        s.push_str("</a>");
    }
    s.push_str("</d:multistatus>");
    s
}

#[test]
fn xml_nested_100k_levels_deep_is_a_bad_response_not_a_stack_overflow() {
    let bomb = nested_multistatus(100_000);
    assert!(bomb.len() > 690_000, "the 700 KB document of the report");
    let err = xml::parse_multistatus(&bomb).unwrap_err();
    assert_eq!(err.code, CardDavErrorCode::BadResponse);
    assert!(err.message.contains("deeper"), "{}", err.message);
    assert!(!err.remedy.is_empty());
}

#[test]
fn xml_nested_up_to_the_depth_limit_still_parses() {
    // The root counts as one level.
    let ok = nested_multistatus(xml::MAX_DEPTH - 1);
    assert!(xml::parse_multistatus(&ok).is_ok());
    let over = nested_multistatus(xml::MAX_DEPTH);
    assert_eq!(xml::parse_multistatus(&over).unwrap_err().code, CardDavErrorCode::BadResponse);
}

#[test]
fn xml_with_more_elements_than_any_carddav_answer_is_a_bad_response() {
    // Empty elements (4 bytes each): more than a sync-collection of 150,000 cards has.
    let mut many = String::from(r#"<d:multistatus xmlns:d="DAV:">"#);
    many.push_str(&"<a/>".repeat(xml::XmlLimits::DEFAULT.max_elements));
    many.push_str("</d:multistatus>");
    let err = xml::parse_multistatus(&many).unwrap_err();
    assert_eq!(err.code, CardDavErrorCode::BadResponse);
    assert!(err.message.contains("elements"), "{}", err.message);
}

#[test]
fn xml_larger_than_the_byte_limit_is_a_bad_response() {
    let xml = r#"<d:multistatus xmlns:d="DAV:"><d:response><d:href>/c/1.vcf</d:href></d:response></d:multistatus>"#;
    let small = xml::XmlLimits { max_bytes: xml.len() - 1, ..xml::XmlLimits::DEFAULT };
    let err = xml::parse_with_limits(xml, &small).unwrap_err();
    assert_eq!(err.code, CardDavErrorCode::BadResponse);
    assert!(err.message.contains("larger"), "{}", err.message);
    assert!(xml::parse_with_limits(xml, &xml::XmlLimits { max_bytes: xml.len(), ..small }).is_ok());
}

#[test]
fn xml_entity_definitions_are_not_expanded() {
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
<d:multistatus xmlns:d="DAV:"><d:response><d:href>&b;</d:href></d:response></d:multistatus>"#;
    assert_eq!(xml::parse_multistatus(laughs).unwrap_err().code, CardDavErrorCode::BadResponse);
}

fn card_with(lines: &str) -> String {
    format!("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u\r\nFN:Big\r\nN:Big;;;;\r\n{lines}END:VCARD\r\n")
}

#[test]
fn a_card_larger_than_the_limit_is_a_bad_response_with_a_remedy() {
    let note = "x".repeat(vcard::MAX_CARD_BYTES);
    let err = vcard::read(&card_with(&format!("NOTE:{note}\r\n"))).unwrap_err();
    assert_eq!(err.code, CardDavErrorCode::BadResponse);
    assert!(err.message.contains("MiB"), "{}", err.message);
    assert!(err.remedy.contains("photo"), "{}", err.remedy);
    // A large but real card (a 1 MB inline photo) reads.
    let photo = "A".repeat(1_000_000);
    assert!(vcard::read(&card_with(&format!("PHOTO;ENCODING=b;TYPE=JPEG:{photo}\r\n"))).is_ok());
}

#[test]
fn a_card_with_more_properties_than_the_limit_is_a_bad_response() {
    let many: String = (0..vcard::MAX_PROPERTIES).map(|i| format!("EMAIL:a{i}@x.org\r\n")).collect();
    let err = vcard::read(&card_with(&many)).unwrap_err();
    assert_eq!(err.code, CardDavErrorCode::BadResponse);
    assert!(err.message.contains("properties"), "{}", err.message);
    let fewer: String = (0..100).map(|i| format!("EMAIL:a{i}@x.org\r\n")).collect();
    assert_eq!(vcard::read(&card_with(&fewer)).unwrap().contact.emails.len(), 100);
}

#[test]
fn an_update_of_an_over_limit_card_is_refused_not_written() {
    let note = "x".repeat(vcard::MAX_CARD_BYTES);
    let card = card_with(&format!("NOTE:{note}\r\n"));
    let contact = contact_sync::engine::model::Contact::default();
    assert_eq!(vcard::render_update(&card, &contact, None).unwrap_err().code, CardDavErrorCode::BadResponse);
}

#[test]
fn people_json_nested_100k_levels_deep_is_a_bad_response() {
    let mut body = String::from(r#"{"connections":[{"resourceName":"people/c1","etag":"e","userDefined":"#);
    body.push_str(&"[".repeat(100_000));
    body.push_str(&"]".repeat(100_000));
    body.push_str("}]}");
    let err = protocol::parse_connections(&body).unwrap_err();
    assert_eq!(err.code, "BAD_RESPONSE");
    // The error envelope reader is as careful.
    let e = protocol::parse_error(500, &body);
    assert_eq!(e.http, 500);
}

#[test]
fn people_json_larger_than_the_limit_is_a_bad_response() {
    let big = "x".repeat(protocol::MAX_BODY_BYTES);
    let body = format!(r#"{{"connections":[],"padding":"{big}"}}"#);
    let err = protocol::parse_connections(&body).unwrap_err();
    assert_eq!(err.code, "BAD_RESPONSE");
    assert!(err.message.contains("MiB"), "{}", err.message);
    for parse in [
        |b: &str| protocol::parse_batch_get(b).map(|_| ()),
        |b: &str| protocol::parse_groups(b).map(|_| ()),
        |b: &str| protocol::parse_batch_create(b, 0).map(|_| ()),
        |b: &str| protocol::parse_batch_update(b, &[]).map(|_| ()),
        |b: &str| protocol::parse_photo_answer(b).map(|_| ()),
        |b: &str| protocol::parse_group(b).map(|_| ()),
    ] {
        assert_eq!(parse(&body).unwrap_err().code, "BAD_RESPONSE");
    }
    assert!(oauth::parse_token_response(200, &body).is_err());
}

fn pending() -> PendingAuthorization {
    PendingAuthorization::new(&[1; 32], &[2; 16], "http://127.0.0.1:9/callback").unwrap()
}

#[test]
fn an_oauth_callback_longer_than_the_limit_is_refused_with_a_code() {
    let p = pending();
    let padding = "a".repeat(oauth::MAX_CALLBACK_BYTES);
    let url = format!("http://127.0.0.1:9/callback?state={}&code=abc&x={padding}", p.state);
    let err = p.parse_callback(&url).unwrap_err();
    assert_eq!(err.code, "BAD_RESPONSE");
    assert!(!err.remedy.is_empty());
    assert!(!err.message.contains("abc"), "the code never appears in an error");
}

#[test]
fn an_oauth_callback_with_an_unusable_code_is_refused() {
    let p = pending();
    for code in ["a%0Ab", "%00", &"c".repeat(oauth::MAX_CODE_BYTES + 1)] {
        let url = format!("http://127.0.0.1:9/callback?state={}&code={code}", p.state);
        let err = p.parse_callback(&url).unwrap_err();
        assert_eq!(err.code, "AUTH_DENIED", "{code}");
    }
    // Many pairs within the length limit are read without trouble.
    let pairs: String = (0..1000).map(|i| format!("k{i}=v&")).collect();
    let url = format!("http://127.0.0.1:9/callback?{pairs}state={}&code=4%2F0Ab", p.state);
    assert_eq!(p.parse_callback(&url).unwrap(), "4/0Ab");
}

fn settings() -> Value {
    serde_json::to_value(Settings::default()).unwrap()
}

#[test]
fn settings_nested_deeper_than_their_schema_are_invalid_settings() {
    let mut deep = json!("x");
    for _ in 0..200 {
        deep = json!([deep]);
    }
    let mut v = settings();
    v["filter.tags"] = deep;
    let err = Settings::from_value(&v).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidSettings);
}

#[test]
fn settings_with_oversized_lists_or_texts_are_invalid_settings() {
    let mut v = settings();
    v["filter.tags"] = json!(vec!["t"; 10_000]);
    assert_eq!(Settings::from_value(&v).unwrap_err().code, ErrorCode::InvalidSettings);
    let mut v = settings();
    v["filter.lists"] = json!(["l".repeat(1_000_000)]);
    assert_eq!(Settings::from_value(&v).unwrap_err().code, ErrorCode::InvalidSettings);
}

/// Every string, list and object of the settings schema is bounded, so settings from
/// storage or the tab cannot be arbitrarily large.
#[test]
fn every_string_list_and_object_of_the_settings_schema_is_bounded() {
    let manifest = contact_sync::manifest::Manifest::bundled().unwrap();
    let schema = serde_json::to_value(&manifest.contributes.settings.schema).unwrap();
    let mut unbounded = Vec::new();
    let mut todo = vec![("#".to_string(), &schema)];
    while let Some((path, s)) = todo.pop() {
        let Some(obj) = s.as_object() else { continue };
        let types: Vec<&str> = match obj.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let has = |k: &str| obj.contains_key(k);
        let closed = obj.get("additionalProperties") == Some(&Value::Bool(false));
        if types.contains(&"string") && !has("maxLength") && !has("enum") && !has("const") {
            unbounded.push(format!("{path}: string without maxLength"));
        }
        if types.contains(&"array") && !has("maxItems") {
            unbounded.push(format!("{path}: array without maxItems"));
        }
        if types.contains(&"object") && !closed {
            unbounded.push(format!("{path}: object open to any property"));
        }
        if let Some(Value::Object(props)) = obj.get("properties") {
            for (k, sub) in props {
                todo.push((format!("{path}/{k}"), sub));
            }
        }
        for k in ["items", "additionalProperties"] {
            if let Some(sub) = obj.get(k) {
                todo.push((format!("{path}/{k}"), sub));
            }
        }
    }
    assert!(unbounded.is_empty(), "{unbounded:#?}");
}
