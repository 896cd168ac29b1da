//! People API contact methods: get, batchGet, create, update (mask replace/clear, etag
//! check), delete, the three batch calls with their limits, photos and search.

use super::api::Ctx;
use super::error::{ApiError, ApiResult};
use super::photos;
use super::person::{incoming, parse_mask, render, search_text, Incoming, PERSON_FIELDS, UPDATE_FIELDS};
use super::state::{parse_person_id, Account};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

const STALE_ETAG: &str =
    "Request person.etag is different than the current person.etag. Clear local cache and get the latest person.";

fn all_fields() -> Vec<String> {
    PERSON_FIELDS.iter().map(|s| s.to_string()).collect()
}

/// A mask given as an optional parameter: all fields when absent.
fn optional_mask(raw: Option<&str>, what: &str) -> ApiResult<Vec<String>> {
    match raw {
        Some(r) if !r.trim().is_empty() => parse_mask(Some(r), what, PERSON_FIELDS, "people"),
        _ => Ok(all_fields()),
    }
}

fn resource_name(ctx: &Ctx) -> String {
    format!("people/{}", ctx.vars.get("peopleId").map(String::as_str).unwrap_or(""))
}

fn self_profile(acct: &Account, mask: &[String]) -> Value {
    let id = acct.numeric_id.to_string();
    let src = json!({"type": "PROFILE", "id": id});
    let mut p = json!({
        "resourceName": format!("people/{id}"),
        "etag": format!("%EgUBAi43PRoEAQIFByIM{}", &id[..id.len().min(8)]),
        "metadata": {"sources": [{"type": "PROFILE", "id": id, "etag": "#profile"}], "objectType": "PERSON"},
    });
    if mask.iter().any(|m| m == "names") {
        p["names"] = json!([{"metadata": {"primary": true, "source": src}, "displayName": acct.display_name, "unstructuredName": acct.display_name}]);
    }
    if mask.iter().any(|m| m == "emailAddresses") {
        p["emailAddresses"] = json!([{"metadata": {"primary": true, "verified": true, "source": src}, "value": acct.email}]);
    }
    p
}

pub fn get(ctx: &mut Ctx) -> ApiResult<Value> {
    let mask_raw = ctx.q("personFields").or_else(|| ctx.q("requestMask.includeField")).map(String::from);
    let mask = parse_mask(mask_raw.as_deref(), "personFields", PERSON_FIELDS, "people/get")?;
    let name = resource_name(ctx);
    let acct = ctx.acct()?;
    if name == "people/me" {
        return Ok(self_profile(acct, &mask));
    }
    let c = acct.live(&name).ok_or_else(ApiError::not_found)?;
    Ok(render(c, acct, &mask, false, &ctx.client_id))
}

pub fn batch_get(ctx: &mut Ctx) -> ApiResult<Value> {
    let mask_raw = ctx.q("personFields").or_else(|| ctx.q("requestMask.includeField")).map(String::from);
    let mask = parse_mask(mask_raw.as_deref(), "personFields", PERSON_FIELDS, "people/getBatchGet")?;
    let names = ctx.batch_get_names()?;
    let acct = ctx.acct()?;
    let responses: Vec<Value> = names
        .iter()
        .map(|n| {
            if n == "people/me" {
                return json!({"requestedResourceName": n, "httpStatusCode": 200, "person": self_profile(acct, &mask), "status": {}});
            }
            match acct.live(n) {
                Some(c) => json!({"requestedResourceName": n, "httpStatusCode": 200, "person": render(c, acct, &mask, false, &ctx.client_id), "status": {}}),
                None => json!({"requestedResourceName": n, "httpStatusCode": 404, "status": ApiError::not_found().item_status()}),
            }
        })
        .collect();
    Ok(json!({ "responses": responses }))
}

/// Creates one contact from a Person; memberships default to My Contacts.
fn create_one(ctx: &mut Ctx, inc: Incoming) -> ApiResult<u64> {
    let id = ctx.st.new_contact_id();
    let (now, delay) = (ctx.now, ctx.delay());
    let app = ctx.client_id.clone();
    let acct = ctx.acct_mut()?;
    let memberships = match inc.memberships {
        Some(m) if !m.is_empty() => m,
        _ => BTreeSet::from(["myContacts".to_string()]),
    };
    Ok(acct.insert_contact(id, inc.fields, memberships, &app, now, delay))
}

pub fn create(ctx: &mut Ctx) -> ApiResult<Value> {
    let mask = optional_mask(ctx.q("personFields"), "personFields")?;
    let body = ctx.body.clone();
    let inc = incoming(&body, ctx.acct()?)?;
    let id = create_one(ctx, inc)?;
    let acct = ctx.acct()?;
    let c = acct.contacts.get(&id).ok_or_else(ApiError::not_found)?;
    Ok(render(c, acct, &mask, false, &ctx.client_id))
}

/// Checks that `name` exists and that the etag is current; returns the contact id.
/// Consumes the admin "stale next update" fault.
fn check_update(acct: &mut Account, name: &str, inc: &Incoming) -> ApiResult<u64> {
    let id = parse_person_id(name).ok_or_else(ApiError::not_found)?;
    let c = acct.contacts.get(&id).filter(|c| !c.deleted).ok_or_else(ApiError::not_found)?;
    let Some(etag) = &inc.etag else {
        return Err(ApiError::invalid(
            "Request must set person.etag or person.metadata.sources.etag for the source that is being updated.",
        ));
    };
    let stale = acct.stale_next_update || (*etag != c.etag && *etag != c.source_etag);
    if stale {
        acct.stale_next_update = false;
        return Err(ApiError::precondition(STALE_ETAG));
    }
    Ok(id)
}

/// Applies `mask`: listed fields replaced, absent or empty ones cleared. The caller touches.
fn write_update(acct: &mut Account, id: u64, inc: Incoming, mask: &[String], app: &str) {
    let Some(c) = acct.contacts.get_mut(&id) else { return };
    for field in mask {
        if field == "memberships" {
            c.memberships = inc.memberships.clone().unwrap_or_default();
            continue;
        }
        if field == "clientData" {
            // Private to the app: an empty list hides seeded data from it too.
            let items = inc.fields.get("clientData").and_then(Value::as_array).cloned().unwrap_or_default();
            c.client_data.insert(app.to_string(), items);
            continue;
        }
        match inc.fields.get(field.as_str()) {
            Some(v) => {
                c.fields.insert(field.clone(), v.clone());
            }
            None => {
                c.fields.remove(field.as_str());
            }
        }
    }
}

pub fn update(ctx: &mut Ctx) -> ApiResult<Value> {
    let update_mask = parse_mask(ctx.q("updatePersonFields"), "updatePersonFields", UPDATE_FIELDS, "people/updateContact")?;
    let read_mask = optional_mask(ctx.q("personFields"), "personFields")?;
    let name = resource_name(ctx);
    let body = ctx.body.clone();
    if let Some(rn) = body.get("resourceName").and_then(Value::as_str) {
        if rn != name {
            return Err(ApiError::invalid("Request person.resourceName does not match the resource name in the URL."));
        }
    }
    let inc = incoming(&body, ctx.acct()?)?;
    let (now, delay) = (ctx.now, ctx.delay());
    let app = ctx.client_id.clone();
    let acct = ctx.acct_mut()?;
    let id = check_update(acct, &name, &inc)?;
    write_update(acct, id, inc, &update_mask, &app);
    acct.touch(id, now, delay);
    let acct = ctx.acct()?;
    let c = acct.contacts.get(&id).ok_or_else(ApiError::not_found)?;
    Ok(render(c, acct, &read_mask, false, &ctx.client_id))
}

pub fn delete(ctx: &mut Ctx) -> ApiResult<Value> {
    let name = resource_name(ctx);
    let (now, delay) = (ctx.now, ctx.delay());
    let acct = ctx.acct_mut()?;
    let id = parse_person_id(&name).ok_or_else(ApiError::not_found)?;
    if !acct.delete_contact(id, now, delay) {
        return Err(ApiError::not_found());
    }
    Ok(json!({}))
}

fn batch_error(kind: &str, errors: Map<String, Value>, first: &ApiError) -> ApiError {
    let mut e = ApiError::new(first.code, first.status, first.message.clone());
    e.details.push(json!({"@type": format!("type.googleapis.com/google.people.v1.{kind}"), "contactErrors": errors}));
    e
}

/// Atomic like Google's: every item is checked first; one bad item fails the whole batch
/// with the per-item errors (keyed by index) in the error details, and nothing is written.
pub fn batch_create(ctx: &mut Ctx) -> ApiResult<Value> {
    let read_mask = parse_mask(ctx.body.get("readMask").and_then(Value::as_str), "readMask", PERSON_FIELDS, "people/batchCreateContacts")?;
    let contacts = ctx.body.get("contacts").and_then(Value::as_array).cloned().unwrap_or_default();
    if contacts.is_empty() {
        return Err(ApiError::invalid("Request must contain at least one contact."));
    }
    if contacts.len() > 200 {
        return Err(ApiError::invalid("Too many contacts in the request. The maximum is 200."));
    }
    let mut parsed = Vec::new();
    let mut errors = Map::new();
    let mut first: Option<ApiError> = None;
    for (i, c) in contacts.iter().enumerate() {
        let person = c.get("contactPerson").cloned().unwrap_or(Value::Null);
        let result = if person.is_object() {
            incoming(&person, ctx.acct()?)
        } else {
            Err(ApiError::invalid("contactPerson is required."))
        };
        match result {
            Ok(inc) => parsed.push(inc),
            Err(e) => {
                errors.insert(i.to_string(), e.item_status());
                first.get_or_insert(e);
            }
        }
    }
    if let Some(f) = first {
        return Err(batch_error("BatchCreateContactsErrorDetails", errors, &f));
    }
    let mut ids = Vec::new();
    for inc in parsed {
        ids.push(create_one(ctx, inc)?);
    }
    let acct = ctx.acct()?;
    let created: Vec<Value> = ids
        .iter()
        .filter_map(|id| acct.contacts.get(id))
        .map(|c| json!({"httpStatusCode": 200, "person": render(c, acct, &read_mask, false, &ctx.client_id), "status": {}}))
        .collect();
    Ok(json!({ "createdPeople": created }))
}

/// Atomic like `batch_create`: stale etags, missing contacts or bad fields fail the batch with
/// per-resource errors in the details; otherwise every contact is updated.
pub fn batch_update(ctx: &mut Ctx) -> ApiResult<Value> {
    let update_mask = parse_mask(ctx.body.get("updateMask").and_then(Value::as_str), "updateMask", UPDATE_FIELDS, "people/batchUpdateContacts")?;
    let read_mask = parse_mask(ctx.body.get("readMask").and_then(Value::as_str), "readMask", PERSON_FIELDS, "people/batchUpdateContacts")?;
    let contacts = ctx.body.get("contacts").and_then(Value::as_object).cloned().unwrap_or_default();
    if contacts.is_empty() {
        return Err(ApiError::invalid("Request must contain at least one contact."));
    }
    if contacts.len() > 200 {
        return Err(ApiError::invalid("Too many contacts in the request. The maximum is 200."));
    }
    let (now, delay) = (ctx.now, ctx.delay());
    // Check every item first, so a failure leaves the account untouched.
    let mut errors = Map::new();
    let mut first: Option<ApiError> = None;
    let mut ready = Vec::new();
    {
        let acct = ctx.acct_mut()?;
        for (name, person) in &contacts {
            let result = incoming(person, acct).and_then(|inc| check_update(acct, name, &inc).map(|id| (id, inc)));
            match result {
                Ok((id, inc)) => ready.push((name.clone(), id, inc)),
                Err(e) => {
                    errors.insert(name.clone(), e.item_status());
                    first.get_or_insert(e);
                }
            }
        }
    }
    if let Some(f) = first {
        return Err(batch_error("BatchUpdateContactsErrorDetails", errors, &f));
    }
    let mut ids = BTreeMap::new();
    let app = ctx.client_id.clone();
    let acct = ctx.acct_mut()?;
    for (name, id, inc) in ready {
        write_update(acct, id, inc, &update_mask, &app);
        acct.touch(id, now, delay);
        ids.insert(name, id);
    }
    let acct = ctx.acct()?;
    let mut result = Map::new();
    for (name, id) in &ids {
        if let Some(c) = acct.contacts.get(id) {
            result.insert(
                name.clone(),
                json!({"requestedResourceName": name, "httpStatusCode": 200, "person": render(c, acct, &read_mask, false, &ctx.client_id), "status": {}}),
            );
        }
    }
    Ok(json!({ "updateResult": result }))
}

/// Deletes up to 500 contacts. Names already gone are skipped, so a retried batch (after a
/// lost response) succeeds; malformed names fail the whole request.
pub fn batch_delete(ctx: &mut Ctx) -> ApiResult<Value> {
    let names: Vec<String> = ctx
        .body
        .get("resourceNames")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect())
        .unwrap_or_default();
    if names.is_empty() {
        return Err(ApiError::invalid("Request must contain at least one resourceNames value."));
    }
    if names.len() > 500 {
        return Err(ApiError::invalid("Too many resource names in the request. The maximum is 500."));
    }
    let mut ids = Vec::new();
    for n in &names {
        ids.push(parse_person_id(n).ok_or_else(|| ApiError::invalid(format!("Resource name \"{n}\" is not a valid contact resource name.")))?);
    }
    let (now, delay) = (ctx.now, ctx.delay());
    let acct = ctx.acct_mut()?;
    for id in ids {
        acct.delete_contact(id, now, delay);
    }
    Ok(json!({}))
}

pub fn update_photo(ctx: &mut Ctx) -> ApiResult<Value> {
    let name = resource_name(ctx);
    let raw = ctx.body.get("photoBytes").and_then(Value::as_str).unwrap_or("").to_string();
    let (bytes, mime) = photos::decode(&raw)?;
    let mask = match ctx.body.get("personFields").and_then(Value::as_str) {
        Some(m) => parse_mask(Some(m), "personFields", PERSON_FIELDS, "people/updateContactPhoto")?,
        None => vec!["photos".to_string()],
    };
    let (now, delay) = (ctx.now, ctx.delay());
    let acct = ctx.acct_mut()?;
    let id = acct.live(&name).map(|c| c.id).ok_or_else(ApiError::not_found)?;
    let url = photos::new_url(ctx.req);
    let acct = ctx.acct_mut()?;
    photos::set(acct, id, bytes, mime, url, now, delay)?;
    let acct = ctx.acct()?;
    let c = acct.contacts.get(&id).ok_or_else(ApiError::not_found)?;
    Ok(json!({ "person": render(c, acct, &mask, false, &ctx.client_id) }))
}

pub fn delete_photo(ctx: &mut Ctx) -> ApiResult<Value> {
    let name = resource_name(ctx);
    let mask = match ctx.q("personFields") {
        Some(m) => Some(parse_mask(Some(m), "personFields", PERSON_FIELDS, "people/deleteContactPhoto")?),
        None => None,
    };
    let (now, delay) = (ctx.now, ctx.delay());
    let acct = ctx.acct_mut()?;
    let id = acct.live(&name).map(|c| c.id).ok_or_else(ApiError::not_found)?;
    if !photos::clear(acct, id, now, delay) {
        return Err(ApiError::not_found());
    }
    let acct = ctx.acct()?;
    match (mask, acct.contacts.get(&id)) {
        (Some(m), Some(c)) => Ok(json!({ "person": render(c, acct, &m, false, &ctx.client_id) })),
        _ => Ok(json!({})),
    }
}

/// searchContacts: an empty query warms the cache (and returns nothing); until then every
/// search returns nothing, as Google documents.
pub fn search(ctx: &mut Ctx) -> ApiResult<Value> {
    let mask = parse_mask(ctx.q("readMask"), "readMask", PERSON_FIELDS, "people/searchContacts")?;
    let size = match ctx.q_int("pageSize") {
        None | Some(0) => 10,
        Some(n) if (1..=30).contains(&n) => n as usize,
        Some(n) => return Err(ApiError::invalid(format!("Invalid pageSize {n}: must be between 1 and 30, inclusive."))),
    };
    let query = ctx.q("query").unwrap_or("").trim().to_lowercase();
    let acct = ctx.acct_mut()?;
    if query.is_empty() {
        acct.search_warm = true;
        return Ok(json!({}));
    }
    if !acct.search_warm {
        return Ok(json!({}));
    }
    let acct = ctx.acct()?;
    let results: Vec<Value> = acct
        .contacts
        .values()
        .filter(|c| !c.deleted)
        .filter(|c| {
            search_text(c).iter().any(|t| t.starts_with(&query) || t.split([' ', '@', '.', '-']).any(|w| w.starts_with(&query)))
        })
        .take(size)
        .map(|c| json!({"person": render(c, acct, &mask, false, &ctx.client_id)}))
        .collect();
    if results.is_empty() {
        return Ok(json!({}));
    }
    Ok(json!({ "results": results }))
}
