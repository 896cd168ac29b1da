#![cfg(not(target_arch = "wasm32"))]
//! connections.list: paging, page tokens bound to their parameters, sync tokens, deltas with
//! tombstones, quiet deltas, expiry answered exactly like Google, merges, propagation delay.

mod common;
use common::*;
use devserver::google::EmulatorConfig;
use serde_json::{json, Value};

fn names_of(people: &[Value]) -> Vec<String> {
    people.iter().map(|p| p["resourceName"].as_str().unwrap_or("").to_string()).collect()
}

#[test]
fn full_listing_pages_through_every_contact_with_sync_token_on_last_page_only() {
    let emu = start_demo();
    let c = api(&emu);
    let (people, sync, pages) = list_all(&c, "&requestSyncToken=true", 10);
    assert_eq!(people.len(), 25);
    assert_eq!(pages, 3);
    assert!(sync.is_some());
    let mut names = names_of(&people);
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 25, "no duplicates across pages");
    for p in &people {
        let rn = p["resourceName"].as_str().unwrap_or("");
        assert!(rn.starts_with("people/c") && rn[8..].bytes().all(|b| b.is_ascii_digit()), "{rn}");
        assert_eq!(p["metadata"]["sources"][0]["type"], "CONTACT");
        assert!(p["metadata"]["sources"][0]["updateTime"].as_str().is_some());
        assert!(p["etag"].as_str().is_some_and(|e| !e.is_empty()));
    }
    let (_, no_sync, _) = list_all(&c, "", 100);
    assert!(no_sync.is_none(), "no sync token unless requested");
}

#[test]
fn page_token_must_be_sent_with_the_same_parameters() {
    let emu = start_demo();
    let c = api(&emu);
    let first = c.get("/v1/people/me/connections?personFields=names&pageSize=5&requestSyncToken=true").json();
    let tok = first["nextPageToken"].as_str().expect("page token").to_string();
    let r = c.get(&format!("/v1/people/me/connections?personFields=names&pageSize=5&pageToken={}", enc(&tok)));
    assert_eq!((r.status, r.error_status()), (400, "INVALID_ARGUMENT".to_string()), "requestSyncToken dropped");
    let r = c.get(&format!("/v1/people/me/connections?personFields=names,emailAddresses&pageSize=5&requestSyncToken=true&pageToken={}", enc(&tok)));
    assert_eq!(r.status, 400, "personFields changed");
    let r = c.get(&format!("/v1/people/me/connections?personFields=names&pageSize=5&requestSyncToken=true&pageToken={}", enc(&tok)));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = c.get("/v1/people/me/connections?personFields=names&pageToken=garbage");
    assert_eq!(r.status, 400);
}

#[test]
fn person_fields_and_page_size_are_checked() {
    let emu = start_demo();
    let c = api(&emu);
    let r = c.get("/v1/people/me/connections");
    assert_eq!(r.status, 400);
    assert!(r.error_message().starts_with("personFields mask is required"), "{}", r.body);
    let r = c.get("/v1/people/me/connections?personFields=names,shoeSize");
    assert_eq!(r.status, 400);
    assert!(r.error_message().contains("shoeSize"));
    assert_eq!(c.get("/v1/people/me/connections?personFields=names&pageSize=1001").status, 400);
    assert_eq!(c.get("/v1/people/me/connections?personFields=names&pageSize=1000").status, 200);
    let r = c.get("/v1/people/me/connections?personFields=names&pageSize=0").json();
    assert_eq!(r["connections"].as_array().map(Vec::len), Some(25), "0 means the default of 100");
    assert_eq!(c.get("/v1/people/c123/connections?personFields=names").status, 400, "only people/me");
}

#[test]
fn delta_returns_changes_and_tombstones_then_a_quiet_delta_is_only_the_token() {
    let emu = start_demo();
    let c = api(&emu);
    let (people, sync, _) = list_all(&c, "&requestSyncToken=true", 100);
    let sync = sync.expect("sync token");
    let quiet = c.get(&format!("/v1/people/me/connections?personFields=names&syncToken={}", enc(&sync)));
    assert_eq!(quiet.status, 200);
    let q = quiet.json();
    assert_eq!(q.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()), Some(vec!["nextSyncToken".to_string()]), "{q}");

    let created = c.post("/v1/people:createContact", &new_person("Nouveau", "nouveau@example.fr")).json();
    let victim = people[3]["resourceName"].as_str().unwrap_or("").to_string();
    assert_eq!(c.delete(&format!("/v1/{victim}:deleteContact")).status, 200);
    let edited = &people[5];
    let r = c.json(
        "PATCH",
        &format!("/v1/{}:updateContact?updatePersonFields=nicknames", edited["resourceName"].as_str().unwrap_or("")),
        &json!({"etag": edited["etag"], "nicknames": [{"value": "Nick"}]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);

    let next = q["nextSyncToken"].as_str().unwrap_or("").to_string();
    let (delta, sync2, _) = list_all(&c, &format!("&syncToken={}", enc(&next)), 100);
    let mut got = names_of(&delta);
    got.sort();
    let mut want = vec![created["resourceName"].as_str().unwrap_or("").to_string(), victim.clone(), edited["resourceName"].as_str().unwrap_or("").to_string()];
    want.sort();
    assert_eq!(got, want);
    let tomb = delta.iter().find(|p| p["resourceName"] == victim.as_str()).expect("tombstone");
    assert_eq!(tomb["metadata"]["deleted"], true);
    assert!(tomb.get("names").is_none() && tomb.get("emailAddresses").is_none());
    let again = c.get(&format!("/v1/people/me/connections?personFields=names&syncToken={}", enc(&sync2.expect("token"))));
    assert_eq!(again.json().as_object().map(|o| o.len()), Some(1), "quiet again");
}

#[test]
fn expired_sync_token_is_400_failed_precondition_with_expired_sync_token_reason() {
    let emu = start_demo();
    let c = api(&emu);
    let (_, sync, _) = list_all(&c, "&requestSyncToken=true", 100);
    let sync = sync.expect("token");
    admin(&emu).post("/__admin/clock/advance", &json!({"days": 7}));
    let t = tokens(emu.url(), CONTACTS, false);
    let c = Client::with_token(emu.url(), t["access_token"].as_str().unwrap_or(""));
    let r = c.get(&format!("/v1/people/me/connections?personFields=names&syncToken={}", enc(&sync)));
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"error": {"code": 400, "message": "Sync token is expired. Clear local cache and retry call without the sync token.", "status": "FAILED_PRECONDITION",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "EXPIRED_SYNC_TOKEN", "domain": "people.googleapis.com"}]}})
    );
}

#[test]
fn admin_can_expire_all_sync_tokens_and_garbage_tokens_are_invalid_argument() {
    let emu = start_demo();
    let c = api(&emu);
    let (_, sync, _) = list_all(&c, "&requestSyncToken=true", 100);
    let sync = sync.expect("token");
    admin(&emu).post(&format!("/__admin/accounts/{DEMO}/expire-sync-tokens"), &json!({}));
    let r = c.get(&format!("/v1/people/me/connections?personFields=names&syncToken={}", enc(&sync)));
    assert_eq!(r.json()["error"]["details"][0]["reason"], "EXPIRED_SYNC_TOKEN");
    let r = c.get("/v1/people/me/connections?personFields=names&syncToken=not-a-token");
    assert_eq!((r.status, r.error_status()), (400, "INVALID_ARGUMENT".to_string()));
}

#[test]
fn merge_in_the_ui_shows_as_survivor_update_with_previous_names_plus_tombstone() {
    let emu = start_demo();
    let c = api(&emu);
    let (people, sync, _) = list_all(&c, "&requestSyncToken=true", 100);
    let (a, b) = (people[0]["resourceName"].as_str().unwrap_or(""), people[1]["resourceName"].as_str().unwrap_or(""));
    let r = admin(&emu).post(&format!("/__admin/accounts/{DEMO}/merge"), &json!({"survivor": a, "merged": b}));
    assert_eq!(r.status, 200, "{}", r.body);
    let (delta, _, _) = list_all(&c, &format!("&syncToken={}", enc(&sync.expect("t"))), 100);
    let survivor = delta.iter().find(|p| p["resourceName"] == a).expect("survivor in delta");
    assert_eq!(survivor["metadata"]["previousResourceNames"], json!([b]));
    assert_eq!(survivor["emailAddresses"].as_array().map(Vec::len), Some(2), "e-mails of both");
    let gone = delta.iter().find(|p| p["resourceName"] == b).expect("tombstone");
    assert_eq!(gone["metadata"]["deleted"], true);
    let full = c.get(&format!("/v1/{a}?personFields=names")).json();
    assert!(full["metadata"].get("previousResourceNames").is_none(), "only on sync-token requests");
}

#[test]
fn writes_reach_deltas_after_the_propagation_delay_but_get_sees_them_at_once() {
    let mut cfg = EmulatorConfig::demo();
    cfg.quota.enabled = false;
    cfg.propagation_delay_ms = 10_000;
    let emu = start_with(cfg);
    let c = api(&emu);
    let (_, sync, _) = list_all(&c, "&requestSyncToken=true", 100);
    let created = c.post("/v1/people:createContact", &new_person("Lent", "lent@example.fr")).json();
    let rn = created["resourceName"].as_str().unwrap_or("").to_string();
    assert_eq!(c.get(&format!("/v1/{rn}?personFields=names")).status, 200);
    let r = c.get(&format!("/v1/people/me/connections?personFields=names&syncToken={}", enc(sync.as_deref().unwrap_or(""))));
    let early = r.json();
    assert!(early.get("connections").is_none(), "not yet visible: {early}");
    admin(&emu).post("/__admin/clock/advance", &json!({"seconds": 11}));
    let next = early["nextSyncToken"].as_str().unwrap_or("").to_string();
    let late = c.get(&format!("/v1/people/me/connections?personFields=names&syncToken={}", enc(&next))).json();
    assert_eq!(names_of(late["connections"].as_array().map(Vec::as_slice).unwrap_or(&[])), vec![rn], "the delayed write is not lost");
}

#[test]
fn user_edit_through_admin_changes_etag_and_update_time_and_shows_in_delta() {
    let emu = start_demo();
    let c = api(&emu);
    let (people, sync, _) = list_all(&c, "&requestSyncToken=true", 100);
    let p = &people[2];
    let rn = p["resourceName"].as_str().unwrap_or("");
    let id = rn.trim_start_matches("people/");
    let edited = admin(&emu).json("PATCH", &format!("/__admin/accounts/{DEMO}/contacts/{id}"), &json!({"phoneNumbers": [{"value": "+33 6 00 00 00 01"}]})).json();
    assert_ne!(edited["etag"], p["etag"]);
    assert_ne!(edited["metadata"]["sources"][0]["updateTime"], p["metadata"]["sources"][0]["updateTime"]);
    let (delta, _, _) = list_all(&c, &format!("&syncToken={}", enc(&sync.expect("t"))), 100);
    assert_eq!(names_of(&delta), vec![rn.to_string()]);
    assert_eq!(delta[0]["phoneNumbers"][0]["canonicalForm"], "+33600000001");
}

#[test]
fn name_ordered_listings_page_without_gaps_or_duplicates() {
    let emu = start_demo();
    let c = api(&emu);
    for order in ["FIRST_NAME_ASCENDING", "LAST_NAME_ASCENDING", "LAST_MODIFIED_DESCENDING"] {
        let (people, _, pages) = list_all(&c, &format!("&sortOrder={order}"), 7);
        assert_eq!(pages, 4, "{order}");
        let mut names = names_of(&people);
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 25, "{order}");
        if order == "FIRST_NAME_ASCENDING" {
            let given: Vec<String> = people.iter().map(|p| p["names"][0]["givenName"].as_str().unwrap_or("").to_lowercase()).collect();
            let mut sorted = given.clone();
            sorted.sort();
            assert_eq!(given, sorted);
        }
    }
}
