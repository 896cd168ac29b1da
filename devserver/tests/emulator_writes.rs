#![cfg(not(target_arch = "wasm32"))]
//! Writes: create (singletons, clientData, computed fields), update (mask replace/clear,
//! etag required and checked), delete, the batch calls with their limits and per-item
//! results, photos, batchGet, and search with its warm-up.

mod common;
use common::*;
use serde_json::{json, Value};

const STALE: &str = "Request person.etag is different than the current person.etag. Clear local cache and get the latest person.";

fn create(c: &Client, body: &Value) -> Value {
    let r = c.post("/v1/people:createContact?personFields=names,emailAddresses,phoneNumbers,clientData,memberships,organizations", body);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

#[test]
fn create_stores_client_data_computes_display_name_and_joins_my_contacts() {
    let emu = start_demo();
    let c = api(&emu);
    let p = create(&c, &json!({"names": [{"givenName": "Élodie", "familyName": "Garnier"}], "clientData": [{"key": "crmId", "value": "crm-42"}]}));
    assert_eq!(p["names"][0]["displayName"], "Élodie Garnier");
    assert_eq!(p["names"][0]["displayNameLastFirst"], "Garnier, Élodie");
    assert_eq!(p["clientData"][0]["key"], "crmId");
    assert_eq!(p["clientData"][0]["value"], "crm-42");
    assert_eq!(p["memberships"][0]["contactGroupMembership"]["contactGroupResourceName"], "contactGroups/myContacts");
    assert_eq!(p["metadata"]["sources"][0]["type"], "CONTACT");
}

#[test]
fn create_rejects_two_names_because_names_is_a_singleton() {
    let emu = start_demo();
    let c = api(&emu);
    let r = c.post("/v1/people:createContact", &json!({"names": [{"givenName": "A"}, {"givenName": "B"}]}));
    assert_eq!((r.status, r.error_status()), (400, "INVALID_ARGUMENT".to_string()));
}

#[test]
fn update_replaces_listed_fields_clears_empty_ones_and_leaves_others() {
    let emu = start_demo();
    let c = api(&emu);
    let p = create(&c, &json!({"names": [{"givenName": "Marc"}], "emailAddresses": [{"value": "marc@a.fr"}, {"value": "marc@b.fr"}], "phoneNumbers": [{"value": "+33 1 00 00 00 00"}]}));
    let rn = p["resourceName"].as_str().unwrap_or("");
    let r = c.json(
        "PATCH",
        &format!("/v1/{rn}:updateContact?updatePersonFields=emailAddresses,phoneNumbers&personFields=names,emailAddresses,phoneNumbers"),
        &json!({"etag": p["etag"], "emailAddresses": [{"value": "marc@c.fr"}], "phoneNumbers": []}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let u = r.json();
    assert_eq!(u["emailAddresses"].as_array().map(Vec::len), Some(1));
    assert_eq!(u["emailAddresses"][0]["value"], "marc@c.fr");
    assert!(u.get("phoneNumbers").is_none(), "an empty list clears");
    assert_eq!(u["names"][0]["givenName"], "Marc", "fields not in the mask are untouched");
    assert_ne!(u["etag"], p["etag"], "every mutation changes the etag");
}

#[test]
fn update_requires_the_current_etag() {
    let emu = start_demo();
    let c = api(&emu);
    let p = create(&c, &new_person("Eve", "eve@example.fr"));
    let rn = p["resourceName"].as_str().unwrap_or("");
    let path = format!("/v1/{rn}:updateContact?updatePersonFields=names");
    let r = c.json("PATCH", &path, &json!({"names": [{"givenName": "Eva"}]}));
    assert_eq!((r.status, r.error_status()), (400, "INVALID_ARGUMENT".to_string()), "etag missing");
    let ok = c.json("PATCH", &path, &json!({"etag": p["etag"], "names": [{"givenName": "Eva"}]}));
    assert_eq!(ok.status, 200);
    let stale = c.json("PATCH", &path, &json!({"etag": p["etag"], "names": [{"givenName": "Evita"}]}));
    assert_eq!((stale.status, stale.error_status()), (400, "FAILED_PRECONDITION".to_string()));
    assert_eq!(stale.error_message(), STALE);
    // The source etag in metadata.sources is accepted too.
    let cur = ok.json();
    let by_source = c.json("PATCH", &path, &json!({"metadata": {"sources": [{"type": "CONTACT", "id": cur["metadata"]["sources"][0]["id"], "etag": cur["metadata"]["sources"][0]["etag"]}]}, "names": [{"givenName": "Evelyne"}]}));
    assert_eq!(by_source.status, 200, "{}", by_source.body);
}

#[test]
fn admin_can_make_the_next_update_see_a_stale_etag() {
    let emu = start_demo();
    let c = api(&emu);
    let p = create(&c, &new_person("Sam", "sam@example.fr"));
    admin(&emu).post(&format!("/__admin/accounts/{DEMO}/stale-next-update"), &json!({}));
    let path = format!("/v1/{}:updateContact?updatePersonFields=names", p["resourceName"].as_str().unwrap_or(""));
    let body = json!({"etag": p["etag"], "names": [{"givenName": "Samuel"}]});
    assert_eq!(c.json("PATCH", &path, &body).error_message(), STALE);
    assert_eq!(c.json("PATCH", &path, &body).status, 200, "only the next one");
}

#[test]
fn photos_cannot_be_updated_through_update_contact_but_through_the_photo_call() {
    let emu = start_demo();
    let c = api(&emu);
    let p = create(&c, &new_person("Pia", "pia@example.fr"));
    let rn = p["resourceName"].as_str().unwrap_or("");
    let r = c.json("PATCH", &format!("/v1/{rn}:updateContact?updatePersonFields=photos"), &json!({"etag": p["etag"]}));
    assert_eq!(r.status, 400);
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    let r = c.json("PATCH", &format!("/v1/{rn}:updateContactPhoto"), &json!({"photoBytes": png, "personFields": "photos"}));
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert!(v["person"]["photos"][0].get("default").is_none());
    assert_ne!(v["person"]["etag"], p["etag"]);
    let r = c.json("PATCH", &format!("/v1/{rn}:updateContactPhoto"), &json!({"photoBytes": "aGVsbG8="}));
    assert_eq!(r.status, 400, "not an image");
    assert_eq!(c.delete(&format!("/v1/{rn}:deleteContactPhoto?personFields=photos")).status, 200);
    assert_eq!(c.delete(&format!("/v1/{rn}:deleteContactPhoto")).status, 404, "no photo left");
}

#[test]
fn delete_of_a_missing_contact_is_404_not_found() {
    let emu = start_demo();
    let c = api(&emu);
    let p = create(&c, &new_person("Del", "del@example.fr"));
    let rn = p["resourceName"].as_str().unwrap_or("");
    assert_eq!(c.delete(&format!("/v1/{rn}:deleteContact")).status, 200);
    let r = c.delete(&format!("/v1/{rn}:deleteContact"));
    assert_eq!((r.status, r.error_status()), (404, "NOT_FOUND".to_string()));
    assert_eq!(c.get(&format!("/v1/{rn}?personFields=names")).status, 404);
}

#[test]
fn batch_create_up_to_200_with_per_item_results() {
    let emu = start_demo();
    let c = api(&emu);
    let items: Vec<Value> = (0..200).map(|i| json!({"contactPerson": new_person(&format!("B{i}"), &format!("b{i}@example.fr"))})).collect();
    let r = c.post("/v1/people:batchCreateContacts", &json!({"contacts": items, "readMask": "names,emailAddresses"}));
    assert_eq!(r.status, 200, "{}", &r.body[..r.body.len().min(500)]);
    let created = r.json()["createdPeople"].as_array().cloned().unwrap_or_default();
    assert_eq!(created.len(), 200);
    assert!(created.iter().all(|p| p["httpStatusCode"] == 200 && p["person"]["resourceName"].as_str().is_some()));
    let too_many: Vec<Value> = (0..201).map(|i| json!({"contactPerson": new_person("X", &format!("x{i}@e.fr"))})).collect();
    let r = c.post("/v1/people:batchCreateContacts", &json!({"contacts": too_many, "readMask": "names"}));
    assert_eq!((r.status, r.error_status()), (400, "INVALID_ARGUMENT".to_string()));
    let r = c.post("/v1/people:batchCreateContacts", &json!({"contacts": [{"contactPerson": new_person("Y", "y@e.fr")}]}));
    assert_eq!(r.status, 400, "readMask is required");
}

#[test]
fn batch_create_with_one_bad_item_writes_nothing_and_reports_it_by_index() {
    let emu = start_demo();
    let c = api(&emu);
    let before = admin(&emu).get(&format!("/__admin/accounts/{DEMO}/contacts")).json()["total"].clone();
    let items = json!([{"contactPerson": new_person("Ok", "ok@e.fr")}, {"contactPerson": {"names": [{"givenName": "A"}, {"givenName": "B"}]}}]);
    let r = c.post("/v1/people:batchCreateContacts", &json!({"contacts": items, "readMask": "names"}));
    assert_eq!(r.status, 400);
    let details = &r.json()["error"]["details"][0];
    assert!(details["contactErrors"].get("1").is_some(), "{details}");
    assert!(details["contactErrors"].get("0").is_none());
    assert_eq!(admin(&emu).get(&format!("/__admin/accounts/{DEMO}/contacts")).json()["total"], before);
}

#[test]
fn batch_update_checks_every_etag_and_applies_all_or_nothing() {
    let emu = start_demo();
    let c = api(&emu);
    let a = create(&c, &new_person("A", "a@e.fr"));
    let b = create(&c, &new_person("B", "b@e.fr"));
    let (ra, rb) = (a["resourceName"].as_str().unwrap_or(""), b["resourceName"].as_str().unwrap_or(""));
    let mut contacts = serde_json::Map::new();
    contacts.insert(ra.into(), json!({"etag": a["etag"], "names": [{"givenName": "A2"}]}));
    contacts.insert(rb.into(), json!({"etag": "%EgStale", "names": [{"givenName": "B2"}]}));
    let r = c.post("/v1/people:batchUpdateContacts", &json!({"contacts": contacts, "updateMask": "names", "readMask": "names"}));
    assert_eq!((r.status, r.error_status()), (400, "FAILED_PRECONDITION".to_string()));
    assert!(r.json()["error"]["details"][0]["contactErrors"].get(rb).is_some());
    let still = c.get(&format!("/v1/{ra}?personFields=names")).json();
    assert_eq!(still["names"][0]["givenName"], "A", "nothing applied");
    let b_now = c.get(&format!("/v1/{rb}?personFields=names")).json();
    contacts.insert(rb.into(), json!({"etag": b_now["etag"], "names": [{"givenName": "B2"}]}));
    let r = c.post("/v1/people:batchUpdateContacts", &json!({"contacts": contacts, "updateMask": "names", "readMask": "names"}));
    assert_eq!(r.status, 200, "{}", r.body);
    let res = r.json()["updateResult"].clone();
    assert_eq!(res[ra]["person"]["names"][0]["givenName"], "A2");
    assert_eq!(res[rb]["httpStatusCode"], 200);
}

#[test]
fn batch_delete_up_to_500_and_batch_get_reports_missing_per_item() {
    let emu = start_demo();
    let c = api(&emu);
    let a = create(&c, &new_person("A", "a@e.fr"));
    let ra = a["resourceName"].as_str().unwrap_or("").to_string();
    let names: Vec<String> = (0..501).map(|i| format!("people/c{}", 1000 + i)).collect();
    assert_eq!(c.post("/v1/people:batchDeleteContacts", &json!({"resourceNames": names})).status, 400);
    assert_eq!(c.post("/v1/people:batchDeleteContacts", &json!({"resourceNames": [ra]})).status, 200);
    let r = c.get(&format!("/v1/people:batchGet?personFields=names&resourceNames={}&resourceNames=people/me", enc(&ra)));
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["responses"][0]["httpStatusCode"], 404);
    assert_eq!(v["responses"][0]["status"]["code"], 5);
    assert_eq!(v["responses"][1]["httpStatusCode"], 200);
    let many: String = (0..201).map(|i| format!("&resourceNames=people/c{i}")).collect();
    assert_eq!(c.get(&format!("/v1/people:batchGet?personFields=names{many}")).status, 400, "batchGet is limited to 200");
}

#[test]
fn search_returns_nothing_until_warmed_up() {
    let emu = start_demo();
    let c = api(&emu);
    let r = c.get("/v1/people:searchContacts?query=martin&readMask=names,emailAddresses");
    assert_eq!(r.status, 200);
    assert!(r.json().get("results").is_none(), "cold cache: empty");
    assert_eq!(c.get("/v1/people:searchContacts?query=&readMask=names").status, 200);
    let v = c.get("/v1/people:searchContacts?query=martin&readMask=names,emailAddresses").json();
    let results = v["results"].as_array().cloned().unwrap_or_default();
    assert!(!results.is_empty());
    assert!(results.iter().all(|r| r["person"].to_string().to_lowercase().contains("martin")));
    assert_eq!(c.get("/v1/people:searchContacts?query=a&readMask=names&pageSize=31").status, 400);
}

#[test]
fn get_people_me_returns_the_account_profile() {
    let emu = start_demo();
    let c = api(&emu);
    let v = c.get("/v1/people/me?personFields=names,emailAddresses").json();
    assert_eq!(v["emailAddresses"][0]["value"], DEMO);
    assert_eq!(v["names"][0]["displayName"], "Démo Utilisateur");
}

#[test]
fn client_data_is_private_to_the_app_that_wrote_it() {
    let emu = start_demo();
    let a = api(&emu);
    admin(&emu).post("/__admin/clients", &json!({"clientId": "other-app", "clientSecret": "o-secret", "name": "Other app"}));
    let r = consent(emu.url(), "other-app", DEMO, CONTACTS, false, "allow");
    let code = param(&location_params(r.header("Location").unwrap_or("")), "code").expect("code");
    let t = Client::new(emu.url()).form("/token", &[("grant_type", "authorization_code"), ("code", &code), ("client_id", "other-app"), ("client_secret", "o-secret"), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)]);
    let b = Client::with_token(emu.url(), t.json()["access_token"].as_str().unwrap_or(""));

    let p = create(&a, &json!({"names": [{"givenName": "Priv"}], "clientData": [{"key": "crmId", "value": "A-1"}]}));
    let rn = p["resourceName"].as_str().unwrap_or("").to_string();
    let seen_by_b = b.get(&format!("/v1/{rn}?personFields=names,clientData")).json();
    assert!(seen_by_b.get("clientData").is_none(), "another app does not see it: {seen_by_b}");
    let seen_by_a = a.get(&format!("/v1/{rn}?personFields=clientData")).json();
    assert_eq!(seen_by_a["clientData"][0]["value"], "A-1");
    // B writes its own; A still sees only A's.
    let r = b.json("PATCH", &format!("/v1/{rn}:updateContact?updatePersonFields=clientData&personFields=clientData"), &json!({"etag": seen_by_b["etag"], "clientData": [{"key": "bId", "value": "B-9"}]}));
    assert_eq!(r.json()["clientData"][0]["value"], "B-9");
    assert_eq!(a.get(&format!("/v1/{rn}?personFields=clientData")).json()["clientData"], json!([{"key": "crmId", "value": "A-1", "metadata": {"source": {"type": "CONTACT", "id": p["metadata"]["sources"][0]["id"]}}}]));
}
