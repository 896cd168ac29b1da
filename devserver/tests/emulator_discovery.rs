#![cfg(not(target_arch = "wasm32"))]
//! Strictness against Google's discovery document: every method is implemented or listed
//! with a reason; responses validate against the response schemas; unknown parameters and
//! body fields, bad enum values and bad types are rejected the way Google rejects them.

mod common;
use common::*;
use devserver::google::api::{IMPLEMENTED, NOT_IMPLEMENTED};
use devserver::google::discovery::discovery;
use serde_json::{json, Value};

#[test]
fn every_discovery_method_is_implemented_or_deliberately_listed_with_a_reason() {
    let d = discovery();
    assert!(d.methods().len() >= 24, "the document was loaded");
    for m in d.methods() {
        let implemented = IMPLEMENTED.contains(&m.id.as_str());
        let listed = NOT_IMPLEMENTED.iter().find(|(id, _)| *id == m.id);
        assert!(implemented ^ listed.is_some(), "{} must be implemented or listed, not both/neither", m.id);
        if let Some((_, why)) = listed {
            assert!(why.len() > 10, "{} needs a reason", m.id);
        }
    }
    for id in IMPLEMENTED {
        assert!(d.method(id).is_some(), "{id} is not a method of the document");
    }
    for group in ["people.connections.", "people.", "contactGroups."] {
        assert!(d.methods().iter().filter(|m| m.id.starts_with(group)).all(|m| IMPLEMENTED.contains(&m.id.as_str()) || NOT_IMPLEMENTED.iter().any(|(id, _)| *id == m.id)));
    }
}

#[test]
fn every_implemented_method_is_routed_to_a_handler() {
    let emu = start_demo();
    let c = api(&emu);
    for m in discovery().methods() {
        let mut path = format!("/{}", m.flat_path);
        for (var, val) in [("{peopleId}", "c999"), ("{contactGroupsId}", "nope"), ("{otherContactsId}", "c1")] {
            path = path.replace(var, val);
        }
        if m.id == "people.connections.list" {
            path = path.replace("c999", "me");
        }
        let body = m.request_ref.as_ref().map(|_| b"{}".to_vec());
        let r = c.send(&m.http_method, &path, &[("Content-Type", "application/json")], body);
        if IMPLEMENTED.contains(&m.id.as_str()) {
            assert_ne!(r.status, 501, "{} {}: {}", m.http_method, path, r.body);
            assert!(!r.body.contains("Method not found") && !r.body.contains("was not found on this server"), "{}: {}", m.id, r.body);
        } else {
            assert_eq!(r.status, 501, "{}", m.id);
        }
    }
}

fn check(method: &str, r: &Res) -> Value {
    assert_eq!(r.status, 200, "{method}: {}", r.body);
    let v = r.json();
    let m = discovery().method(method).unwrap_or_else(|| panic!("{method}"));
    let schema = m.response_ref.clone().unwrap_or_else(|| "Empty".into());
    if let Err(e) = discovery().validate(&schema, &v) {
        panic!("{method} response does not fit {schema}: {e}\n{v}");
    }
    v
}

#[test]
fn responses_of_every_implemented_method_validate_against_their_schemas() {
    let emu = start_demo();
    let c = api(&emu);
    let all = "addresses,biographies,birthdays,clientData,emailAddresses,events,memberships,metadata,names,nicknames,organizations,phoneNumbers,photos,urls,userDefined";
    let list = check("people.connections.list", &c.get(&format!("/v1/people/me/connections?personFields={all}&requestSyncToken=true")));
    let first = list["connections"][0]["resourceName"].as_str().unwrap_or("").to_string();
    check("people.get", &c.get(&format!("/v1/{first}?personFields={all}")));
    check("people.getBatchGet", &c.get(&format!("/v1/people:batchGet?personFields={all}&resourceNames={first}&resourceNames=people/c1")));
    let created = check(
        "people.createContact",
        &c.post(
            &format!("/v1/people:createContact?personFields={all}"),
            &json!({"names": [{"givenName": "Valid", "familyName": "Schema"}], "birthdays": [{"date": {"year": 1990, "month": 5, "day": 17}}],
                    "emailAddresses": [{"value": "v@s.fr", "type": "work"}], "clientData": [{"key": "crmId", "value": "7"}],
                    "userDefined": [{"key": "k", "value": "v"}], "urls": [{"value": "https://s.fr"}]}),
        ),
    );
    let rn = created["resourceName"].as_str().unwrap_or("").to_string();
    let updated = check(
        "people.updateContact",
        &c.json("PATCH", &format!("/v1/{rn}:updateContact?updatePersonFields=biographies&personFields={all}"), &json!({"etag": created["etag"], "biographies": [{"value": "Note", "contentType": "TEXT_PLAIN"}]})),
    );
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    check("people.updateContactPhoto", &c.json("PATCH", &format!("/v1/{rn}:updateContactPhoto"), &json!({"photoBytes": png, "personFields": all})));
    check("people.deleteContactPhoto", &c.delete(&format!("/v1/{rn}:deleteContactPhoto?personFields={all}")));
    check("people.searchContacts", &c.get("/v1/people:searchContacts?query=&readMask=names"));
    check("people.searchContacts", &c.get(&format!("/v1/people:searchContacts?query=valid&readMask={all}")));
    let batch = check(
        "people.batchCreateContacts",
        &c.post("/v1/people:batchCreateContacts", &json!({"contacts": [{"contactPerson": new_person("Bc", "bc@e.fr")}], "readMask": all})),
    );
    let brn = batch["createdPeople"][0]["person"]["resourceName"].as_str().unwrap_or("").to_string();
    let betag = batch["createdPeople"][0]["person"]["etag"].clone();
    let mut contacts = serde_json::Map::new();
    contacts.insert(brn.clone(), json!({"etag": betag, "nicknames": [{"value": "Bee"}]}));
    check("people.batchUpdateContacts", &c.post("/v1/people:batchUpdateContacts", &json!({"contacts": contacts, "updateMask": "nicknames", "readMask": all})));
    check("people.batchDeleteContacts", &c.post("/v1/people:batchDeleteContacts", &json!({"resourceNames": [brn]})));
    let _ = updated;
    check("people.deleteContact", &c.delete(&format!("/v1/{rn}:deleteContact")));
    let all_groups = "clientData,groupType,memberCount,metadata,name";
    check("contactGroups.list", &c.get(&format!("/v1/contactGroups?groupFields={all_groups}")));
    let g = check("contactGroups.create", &c.post("/v1/contactGroups", &json!({"contactGroup": {"name": "Schema", "clientData": [{"key": "k", "value": "v"}]}, "readGroupFields": all_groups})));
    let gid = g["resourceName"].as_str().unwrap_or("").to_string();
    check("contactGroups.update", &c.json("PUT", &format!("/v1/{gid}"), &json!({"contactGroup": {"name": "Schema 2", "etag": g["etag"]}})));
    check("contactGroups.members.modify", &c.post(&format!("/v1/{gid}/members:modify"), &json!({"resourceNamesToAdd": [first], "resourceNamesToRemove": ["people/c1"]})));
    check("contactGroups.get", &c.get(&format!("/v1/{gid}?maxMembers=5&groupFields={all_groups}")));
    check("contactGroups.batchGet", &c.get(&format!("/v1/contactGroups:batchGet?resourceNames={gid}&resourceNames=contactGroups/zz")));
    check("contactGroups.delete", &c.delete(&format!("/v1/{gid}")));
}

#[test]
fn unknown_query_parameter_is_rejected_like_google() {
    let emu = start_demo();
    let c = api(&emu);
    let r = c.get("/v1/people/me/connections?personFields=names&pagesize=10");
    assert_eq!((r.status, r.error_status()), (400, "INVALID_ARGUMENT".to_string()));
    assert_eq!(
        r.error_message(),
        "Invalid JSON payload received. Unknown name \"pagesize\": Cannot bind query parameter. Field 'pagesize' could not be found in request message."
    );
    let compact = c.get("/v1/people/me/connections?personFields=names&prettyPrint=false");
    assert_eq!(compact.status, 200, "global parameters are fine");
    assert!(!compact.body.contains('\n'), "prettyPrint=false gives compact JSON");
    assert!(c.get("/v1/people/me/connections?personFields=names").body.contains('\n'), "pretty by default, like Google");
}

#[test]
fn bad_enum_integer_and_boolean_values_are_rejected() {
    let emu = start_demo();
    let c = api(&emu);
    let r = c.get("/v1/people/me/connections?personFields=names&sortOrder=RANDOM");
    assert_eq!(r.status, 400);
    assert!(r.error_message().contains("sort_order"), "{}", r.body);
    assert_eq!(c.get("/v1/people/me/connections?personFields=names&pageSize=ten").status, 400);
    assert_eq!(c.get("/v1/people/me/connections?personFields=names&requestSyncToken=yes").status, 400);
    assert_eq!(c.get("/v1/people/me/connections?personFields=names&sortOrder=FIRST_NAME_ASCENDING").status, 200);
}

#[test]
fn unknown_body_fields_are_rejected_at_any_depth() {
    let emu = start_demo();
    let c = api(&emu);
    let r = c.post("/v1/people:createContact", &json!({"names": [{"givenName": "A", "nickName": "x"}]}));
    assert_eq!(r.status, 400);
    assert_eq!(r.error_message(), "Invalid JSON payload received. Unknown name \"nickName\" at 'person.names[0]': Cannot find field.");
    let r = c.post("/v1/people:batchCreateContacts", &json!({"contacts": [{"person": {}}], "readMask": "names"}));
    assert_eq!(r.status, 400);
    assert!(r.error_message().contains("Unknown name \"person\" at 'contacts[0]'"), "{}", r.body);
    let r = c.post("/v1/people:createContact", &json!({"emailAddresses": [{"value": 42}]}));
    assert_eq!(r.status, 400, "a number where a string is due");
    let r = c.post("/v1/people:createContact", &json!({"biographies": [{"value": "x", "contentType": "TEXT_RTF"}]}));
    assert_eq!(r.status, 400, "enum values in bodies are checked");
    let r = c.send("POST", "/v1/people:createContact", &[("Content-Type", "application/json")], Some(b"{not json".to_vec()));
    assert_eq!(r.status, 400);
}

#[test]
fn unknown_paths_and_wrong_methods_are_404() {
    let emu = start_demo();
    let c = api(&emu);
    assert_eq!(c.get("/v1/people:frobnicate").status, 404);
    assert_eq!(c.send("DELETE", "/v1/people/me/connections", &[], None).status, 404);
    assert_eq!(c.get("/v2/people/me").status, 404);
}

#[test]
fn the_response_validator_itself_rejects_what_does_not_fit() {
    let d = discovery();
    assert!(d.validate("Person", &json!({"resourceName": "people/c1"})).is_ok());
    assert!(d.validate("Person", &json!({"bogus": 1})).is_err());
    assert!(d.validate("Person", &json!({"names": {"givenName": "not a list"}})).is_err());
    assert!(d.validate("ListConnectionsResponse", &json!({"totalPeople": "many"})).is_err());
    assert!(d.validate("Source", &json!({"type": "NOT_A_TYPE"})).is_err());
}

#[test]
fn every_api_error_uses_googles_envelope_with_matching_code_and_status() {
    let emu = start_demo();
    let c = api(&emu);
    let anon = Client::new(emu.url());
    let cases: Vec<Res> = vec![
        anon.get("/v1/people/me/connections?personFields=names"),
        c.get("/v1/people/me/connections"),
        c.get("/v1/people/me/connections?personFields=names&foo=1"),
        c.get("/v1/people/c1?personFields=names"),
        c.delete("/v1/people/c1:deleteContact"),
        c.get("/v1/people:nothing"),
        c.post("/v1/contactGroups", &json!({"contactGroup": {"name": "Clients"}})),
        c.get("/v1/otherContacts?readMask=names"),
        c.get("/v1/people/me/connections?personFields=names&syncToken=zzz"),
    ];
    let known = ["INVALID_ARGUMENT", "FAILED_PRECONDITION", "NOT_FOUND", "ALREADY_EXISTS", "UNAUTHENTICATED", "PERMISSION_DENIED", "UNIMPLEMENTED", "RESOURCE_EXHAUSTED"];
    for r in &cases {
        let v = r.json();
        let e = &v["error"];
        assert_eq!(e["code"].as_u64(), Some(r.status as u64), "{v}");
        assert!(known.contains(&e["status"].as_str().unwrap_or("")), "{v}");
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
        assert_eq!(v.as_object().map(|o| o.len()), Some(1), "only the error key: {v}");
        assert!(r.header("Content-Type").unwrap_or("").starts_with("application/json"));
    }
}
