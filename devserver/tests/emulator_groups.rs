#![cfg(not(target_arch = "wasm32"))]
//! contactGroups: list with sync token, unique names (409), get/batchGet, members:modify with
//! its limit and the last-membership rule, deletes; label changes change contact etags.

mod common;
use common::*;
use serde_json::{json, Value};

fn create_group(c: &Client, name: &str) -> Value {
    let r = c.post("/v1/contactGroups", &json!({"contactGroup": {"name": name}}));
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

#[test]
fn list_has_system_and_user_groups_and_a_sync_token() {
    let emu = start_demo();
    let c = api(&emu);
    let v = c.get("/v1/contactGroups?pageSize=100").json();
    let groups = v["contactGroups"].as_array().cloned().unwrap_or_default();
    assert!(groups.iter().any(|g| g["resourceName"] == "contactGroups/myContacts" && g["groupType"] == "SYSTEM_CONTACT_GROUP"));
    assert!(groups.iter().any(|g| g["name"] == "Clients" && g["groupType"] == "USER_CONTACT_GROUP"));
    let sync = v["nextSyncToken"].as_str().expect("sync token").to_string();
    let quiet = c.get(&format!("/v1/contactGroups?syncToken={}", enc(&sync))).json();
    assert!(quiet.get("contactGroups").is_none());
    let g = create_group(&c, "Salon 2026");
    let delta = c.get(&format!("/v1/contactGroups?syncToken={}", enc(quiet["nextSyncToken"].as_str().unwrap_or("")))).json();
    assert_eq!(delta["contactGroups"][0]["resourceName"], g["resourceName"]);
    assert_eq!(c.get("/v1/contactGroups?groupFields=bogus").status, 400);
}

#[test]
fn duplicate_group_name_is_409_already_exists() {
    let emu = start_demo();
    let c = api(&emu);
    create_group(&c, "VIP");
    let r = c.post("/v1/contactGroups", &json!({"contactGroup": {"name": "VIP"}}));
    assert_eq!((r.status, r.error_status()), (409, "ALREADY_EXISTS".to_string()));
}

#[test]
fn members_modify_adds_removes_and_keeps_the_last_membership() {
    let emu = start_demo();
    let c = api(&emu);
    let g = create_group(&c, "Newsletter");
    let gid = g["resourceName"].as_str().unwrap_or("").to_string();
    let p = c.post("/v1/people:createContact?personFields=memberships", &new_person("M", "m@e.fr")).json();
    let rn = p["resourceName"].as_str().unwrap_or("").to_string();
    let r = c.post(&format!("/v1/{gid}/members:modify"), &json!({"resourceNamesToAdd": [rn, "people/c1"]}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["notFoundResourceNames"], json!(["people/c1"]));
    let after = c.get(&format!("/v1/{rn}?personFields=memberships")).json();
    assert_ne!(after["etag"], p["etag"], "a label change changes the etag");
    assert_eq!(after["memberships"].as_array().map(Vec::len), Some(2));
    let got = c.get(&format!("/v1/{gid}?maxMembers=10")).json();
    assert_eq!(got["memberResourceNames"], json!([rn]));
    assert_eq!(got["memberCount"], 1);
    // Remove from My Contacts: allowed, Newsletter remains.
    let r = c.post("/v1/contactGroups/myContacts/members:modify", &json!({"resourceNamesToRemove": [rn]}));
    assert_eq!(r.json(), json!({}));
    // Newsletter is now the last group: it stays.
    let r = c.post(&format!("/v1/{gid}/members:modify"), &json!({"resourceNamesToRemove": [rn]}));
    assert_eq!(r.json()["canNotRemoveLastContactGroupResourceNames"], json!([rn]));
    let too_many: Vec<String> = (0..1001).map(|i| format!("people/c{i}")).collect();
    assert_eq!(c.post(&format!("/v1/{gid}/members:modify"), &json!({"resourceNamesToAdd": too_many})).status, 400);
    assert_eq!(c.post("/v1/contactGroups/friends/members:modify", &json!({"resourceNamesToAdd": [rn]})).status, 400, "deprecated system group");
}

#[test]
fn batch_get_and_delete_groups() {
    let emu = start_demo();
    let c = api(&emu);
    let g = create_group(&c, "Temp");
    let gid = g["resourceName"].as_str().unwrap_or("").to_string();
    let v = c.get(&format!("/v1/contactGroups:batchGet?resourceNames={}&resourceNames=contactGroups/nope", enc(&gid))).json();
    assert_eq!(v["responses"][0]["contactGroup"]["name"], "Temp");
    assert_eq!(v["responses"][1]["status"]["code"], 5);
    assert_eq!(c.delete(&format!("/v1/{gid}")).status, 200);
    assert_eq!(c.get(&format!("/v1/{gid}")).status, 404);
    assert_eq!(c.delete("/v1/contactGroups/myContacts").status, 400, "system groups stay");
}

#[test]
fn group_rename_checks_etag_and_uniqueness() {
    let emu = start_demo();
    let c = api(&emu);
    let g = create_group(&c, "Old");
    create_group(&c, "Taken");
    let gid = g["resourceName"].as_str().unwrap_or("");
    let r = c.json("PUT", &format!("/v1/{gid}"), &json!({"contactGroup": {"name": "Taken", "etag": g["etag"]}}));
    assert_eq!(r.status, 409);
    let r = c.json("PUT", &format!("/v1/{gid}"), &json!({"contactGroup": {"name": "New", "etag": g["etag"]}}));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = c.json("PUT", &format!("/v1/{gid}"), &json!({"contactGroup": {"name": "Newer", "etag": g["etag"]}}));
    assert_eq!(r.status, 400, "stale etag");
}
