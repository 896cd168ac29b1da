//! The admin API under `/__admin/` (JSON): seed and reset, edit contacts as a Google user
//! would (merges included), inject faults, advance the clock, revoke tokens, read the log.

use super::config::{EmulatorConfig, Seed};
use super::error::{ApiError, ApiResult};
use super::faults::Fault;
use super::http::{percent_decode, Req, Resp};
use super::oauth::revoke_grant;
use super::person::{incoming, render, PERSON_FIELDS};
use super::seed;
use super::state::{parse_person_id, Account, Contact, OAuthClient, State};
use super::Shared;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Serves `/__admin/...`.
pub fn handle(sh: &Shared, req: &Req) -> Resp {
    match serve(sh, req) {
        Ok(r) => r,
        Err(e) => e.into_resp(),
    }
}

fn body_json(req: &Req) -> ApiResult<Value> {
    if req.body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(json!({}));
    }
    serde_json::from_slice(&req.body).map_err(|e| ApiError::invalid(format!("Admin body is not JSON: {e}")))
}

fn parse<T: for<'de> Deserialize<'de>>(v: Value) -> ApiResult<T> {
    serde_json::from_value(v).map_err(|e| ApiError::invalid(format!("Admin body does not fit: {e}")))
}

fn ok(v: Value) -> ApiResult<Resp> {
    Ok(Resp::json(200, &v))
}

fn all_fields() -> Vec<String> {
    PERSON_FIELDS.iter().map(|s| s.to_string()).collect()
}

/// The raw view of a contact: the API rendering plus bookkeeping.
fn raw_contact(c: &Contact, acct: &Account) -> Value {
    let mut v = render(c, acct, &all_fields(), true, "*");
    v["emulator"] = json!({
        "deleted": c.deleted,
        "seq": c.seq,
        "updateMs": c.update_ms,
        "visibleInDeltasAtMs": c.visible_ms,
        "memberships": c.memberships,
        "previousResourceNames": c.previous_resource_names,
        "clientDataByApp": c.client_data,
    });
    v
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClientBody {
    client_id: String,
    client_secret: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    redirect_uris: Option<Vec<String>>,
    /// "production" (default) or "testing".
    #[serde(default)]
    publishing_status: Option<String>,
    #[serde(default)]
    test_users: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountBody {
    email: String,
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct SeedBody {
    contacts: Vec<Value>,
    generate: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MergeBody {
    survivor: String,
    merged: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct AdvanceBody {
    ms: i64,
    seconds: i64,
    days: i64,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RevokeBody {
    email: Option<String>,
    client_id: Option<String>,
}

/// Upper bound of one `generate` call (Google's account limit is 25,000 contacts).
const MAX_GENERATE: usize = 100_000;

fn account_missing(email: &str) -> ApiError {
    ApiError::new(404, "NOT_FOUND", format!("No emulated account {email}."))
}

/// Resets the state to a configuration (keeps the clock and the log).
pub fn reset(sh: &Shared, config: EmulatorConfig) {
    let now = sh.clock.now_ms();
    let mut fresh = State::new(config.clone());
    seed::apply(&mut fresh, &config, now);
    *sh.lock() = fresh;
}

fn serve(sh: &Shared, req: &Req) -> ApiResult<Resp> {
    let rest = req.path.trim_start_matches("/__admin").trim_matches('/');
    let parts: Vec<String> = rest.split('/').map(|p| percent_decode(p, false)).collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let m = req.method.as_str();
    let now = sh.clock.now_ms();
    match (m, parts.as_slice()) {
        ("GET", ["health"]) => ok(json!({"ok": true})),
        ("POST", ["reset"]) => {
            let b = body_json(req)?;
            let mut config = sh.lock().config.clone();
            if let Some(s) = b.get("seed") {
                config.seed = parse::<Seed>(s.clone())?;
            }
            if let Some(n) = b.get("generatedContacts").and_then(Value::as_u64) {
                config.generated_contacts = n as usize;
            }
            reset(sh, config);
            ok(json!({"reset": true}))
        }
        ("GET", ["config"]) => ok(serde_json::to_value(&sh.lock().config).unwrap_or(Value::Null)),
        ("POST", ["config"]) | ("PATCH", ["config"]) => {
            let patch = body_json(req)?;
            let mut st = sh.lock();
            let mut current = serde_json::to_value(&st.config).unwrap_or(json!({}));
            merge_patch(&mut current, &patch);
            st.config = parse::<EmulatorConfig>(current)?;
            ok(serde_json::to_value(&st.config).unwrap_or(Value::Null))
        }
        ("POST", ["quota", "reset"]) => {
            sh.lock().quota.clear();
            ok(json!({}))
        }
        ("POST", ["clients"]) => {
            let b: ClientBody = parse(body_json(req)?)?;
            let testing = b.publishing_status.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("testing"));
            let client = OAuthClient {
                client_id: b.client_id.clone(),
                client_secret: b.client_secret,
                name: b.name.unwrap_or_else(|| "Emulated app".into()),
                redirect_uris: b.redirect_uris.unwrap_or_else(|| vec!["http://127.0.0.1:*/".into(), "http://localhost:*/".into()]),
                testing,
                test_users: b.test_users,
            };
            sh.lock().clients.insert(b.client_id.clone(), client);
            ok(json!({"clientId": b.client_id, "testing": testing}))
        }
        ("GET", ["clients"]) => {
            let st = sh.lock();
            let list: Vec<Value> = st
                .clients
                .values()
                .map(|c| json!({"clientId": c.client_id, "name": c.name, "redirectUris": c.redirect_uris, "testing": c.testing, "testUsers": c.test_users}))
                .collect();
            ok(json!({ "clients": list }))
        }
        ("POST", ["accounts"]) => {
            let b: AccountBody = parse(body_json(req)?)?;
            let name = b.display_name.unwrap_or_else(|| b.email.clone());
            sh.lock().add_account(&b.email, &name, now);
            ok(json!({"email": b.email}))
        }
        ("GET", ["accounts"]) => {
            let st = sh.lock();
            let list: Vec<Value> = st
                .accounts
                .values()
                .map(|a| json!({"email": a.email, "displayName": a.display_name, "contacts": a.contacts.values().filter(|c| !c.deleted).count()}))
                .collect();
            ok(json!({ "accounts": list }))
        }
        ("DELETE", ["accounts", email]) => {
            let removed = sh.lock().accounts.remove(&email.to_ascii_lowercase()).is_some();
            if removed { ok(json!({})) } else { Err(account_missing(email)) }
        }
        ("POST", ["accounts", email, "contacts"]) => {
            let b: SeedBody = parse(body_json(req)?)?;
            if b.generate > MAX_GENERATE {
                return Err(ApiError::invalid(format!("generate at most {MAX_GENERATE} contacts per call.")));
            }
            let mut st = sh.lock();
            if st.account(email).is_none() {
                return Err(account_missing(email));
            }
            for (i, p) in b.contacts.iter().enumerate() {
                check_person(p).map_err(|e| ApiError::invalid(format!("contacts[{i}]: {e}")))?;
            }
            let mut names = Vec::new();
            for p in &b.contacts {
                let inc = incoming(p, st.account(email).ok_or_else(|| account_missing(email))?)?;
                let id = st.new_contact_id();
                let delay = st.config.propagation_delay_ms;
                let acct = st.account_mut(email).ok_or_else(|| account_missing(email))?;
                let groups = inc.memberships.filter(|m| !m.is_empty()).unwrap_or_else(|| BTreeSet::from(["myContacts".to_string()]));
                acct.insert_contact(id, inc.fields, groups, "*", now, delay);
                names.push(format!("people/c{id}"));
            }
            names.extend(seed::generate_contacts(&mut st, email, b.generate, now));
            ok(json!({ "resourceNames": names }))
        }
        ("GET", ["accounts", email, "contacts"]) => {
            let include_deleted = req.query_one("includeDeleted") == Some("true");
            let st = sh.lock();
            let acct = st.account(email).ok_or_else(|| account_missing(email))?;
            let list: Vec<Value> = acct.contacts.values().filter(|c| include_deleted || !c.deleted).map(|c| raw_contact(c, acct)).collect();
            ok(json!({ "contacts": list, "total": list.len() }))
        }
        ("GET", ["accounts", email, "groups"]) => {
            let st = sh.lock();
            let acct = st.account(email).ok_or_else(|| account_missing(email))?;
            let list: Vec<Value> = acct
                .groups
                .values()
                .map(|g| json!({"resourceName": format!("contactGroups/{}", g.id), "name": g.name, "system": g.system, "deleted": g.deleted, "memberCount": acct.member_count(&g.id)}))
                .collect();
            ok(json!({ "groups": list }))
        }
        ("GET", ["accounts", email, "contacts", id]) => {
            let st = sh.lock();
            let acct = st.account(email).ok_or_else(|| account_missing(email))?;
            let c = contact_ref(acct, id)?;
            ok(raw_contact(c, acct))
        }
        ("PATCH", ["accounts", email, "contacts", id]) => {
            // An edit in the Contacts UI: listed fields replaced (null/[] clears).
            let b = body_json(req)?;
            check_person(&b).map_err(ApiError::invalid)?;
            let mut st = sh.lock();
            let delay = st.config.propagation_delay_ms;
            let acct = st.account_mut(email).ok_or_else(|| account_missing(email))?;
            let target = contact_ref(acct, id)?;
            if target.deleted {
                return Err(ApiError::precondition("The contact is deleted; it cannot be edited."));
            }
            let cid = target.id;
            let inc = incoming(&b, acct)?;
            let keys: Vec<String> = b.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
            if let Some(c) = acct.contacts.get_mut(&cid) {
                for k in keys.iter().filter(|k| k.as_str() != "etag" && k.as_str() != "resourceName") {
                    if k == "memberships" {
                        c.memberships = inc.memberships.clone().unwrap_or_default();
                    } else if k == "clientData" {
                        let items = inc.fields.get("clientData").and_then(Value::as_array).cloned().unwrap_or_default();
                        c.client_data.insert("*".into(), items);
                    } else if let Some(v) = inc.fields.get(k) {
                        c.fields.insert(k.clone(), v.clone());
                    } else {
                        c.fields.remove(k);
                    }
                }
            }
            acct.touch(cid, now, delay);
            let c = acct.contacts.get(&cid).ok_or_else(ApiError::not_found)?;
            ok(raw_contact(c, acct))
        }
        ("PUT", ["accounts", email, "contacts", id, "photo"]) => {
            // A photo set in the Contacts UI: {"photoBytes": base64 JPEG or PNG}.
            let b = body_json(req)?;
            let (bytes, mime) = super::photos::decode(b.get("photoBytes").and_then(Value::as_str).unwrap_or(""))?;
            let url = super::photos::new_url(req);
            let mut st = sh.lock();
            let delay = st.config.propagation_delay_ms;
            let acct = st.account_mut(email).ok_or_else(|| account_missing(email))?;
            let cid = contact_ref(acct, id)?.id;
            super::photos::set(acct, cid, bytes, mime, url, now, delay)?;
            let c = acct.contacts.get(&cid).ok_or_else(ApiError::not_found)?;
            ok(raw_contact(c, acct))
        }
        ("DELETE", ["accounts", email, "contacts", id, "photo"]) => {
            // The photo removed in the Contacts UI (the default avatar shows again).
            let mut st = sh.lock();
            let delay = st.config.propagation_delay_ms;
            let acct = st.account_mut(email).ok_or_else(|| account_missing(email))?;
            let cid = contact_ref(acct, id)?.id;
            if !super::photos::clear(acct, cid, now, delay) {
                return Err(ApiError::new(404, "NOT_FOUND", "The contact has no photo."));
            }
            let c = acct.contacts.get(&cid).ok_or_else(ApiError::not_found)?;
            ok(raw_contact(c, acct))
        }
        ("DELETE", ["accounts", email, "contacts", id]) => {
            let mut st = sh.lock();
            let delay = st.config.propagation_delay_ms;
            let acct = st.account_mut(email).ok_or_else(|| account_missing(email))?;
            let cid = contact_ref(acct, id)?.id;
            acct.delete_contact(cid, now, delay);
            ok(json!({}))
        }
        ("POST", ["accounts", email, "merge"]) => {
            let b: MergeBody = parse(body_json(req)?)?;
            let mut st = sh.lock();
            let delay = st.config.propagation_delay_ms;
            let acct = st.account_mut(email).ok_or_else(|| account_missing(email))?;
            let survivor = contact_ref(acct, &b.survivor)?.clone();
            let merged = contact_ref(acct, &b.merged)?.clone();
            if survivor.id == merged.id {
                return Err(ApiError::invalid("Cannot merge a contact with itself."));
            }
            let mut fields = survivor.fields.clone();
            for (k, v) in &merged.fields {
                let Some(items) = v.as_array() else { continue };
                if k == "clientData" {
                    continue;
                }
                let singleton = super::person::SINGLETONS.contains(&k.as_str());
                let entry = fields.entry(k.clone()).or_insert_with(|| json!([]));
                if let Some(arr) = entry.as_array_mut() {
                    for it in items {
                        if !arr.contains(it) && (!singleton || arr.is_empty()) {
                            arr.push(it.clone());
                        }
                    }
                }
            }
            if let Some(c) = acct.contacts.get_mut(&survivor.id) {
                c.fields = fields;
                c.memberships.extend(merged.memberships.iter().cloned());
                for (app, items) in &merged.client_data {
                    c.client_data.entry(app.clone()).or_default().extend(items.iter().cloned());
                }
                c.previous_resource_names.push(merged.resource_name());
                c.previous_resource_names.extend(merged.previous_resource_names.iter().cloned());
            }
            acct.touch(survivor.id, now, delay);
            acct.delete_contact(merged.id, now, delay);
            let c = acct.contacts.get(&survivor.id).ok_or_else(ApiError::not_found)?;
            ok(raw_contact(c, acct))
        }
        ("POST", ["accounts", email, "expire-sync-tokens"]) => {
            let mut st = sh.lock();
            let acct = st.account_mut(email).ok_or_else(|| account_missing(email))?;
            acct.tokens_valid_after_ms = now;
            ok(json!({"expiredBeforeMs": now}))
        }
        ("POST", ["accounts", email, "stale-next-update"]) => {
            let mut st = sh.lock();
            let acct = st.account_mut(email).ok_or_else(|| account_missing(email))?;
            acct.stale_next_update = true;
            ok(json!({}))
        }
        ("POST", ["faults"]) => {
            let b = body_json(req)?;
            let faults: Vec<Fault> = if b.is_array() { parse(b)? } else { vec![parse(b)?] };
            for f in &faults {
                if f.count.is_none() && f.fraction.is_none() {
                    return Err(ApiError::invalid("A fault needs either count or fraction."));
                }
            }
            let mut st = sh.lock();
            st.faults.extend(faults);
            ok(json!({ "faults": st.faults }))
        }
        ("GET", ["faults"]) => ok(json!({ "faults": sh.lock().faults })),
        ("DELETE", ["faults"]) => {
            sh.lock().faults.clear();
            ok(json!({}))
        }
        ("GET", ["clock"]) => ok(json!({"nowMs": now, "now": super::clock::rfc3339(now), "offsetMs": sh.clock.offset_ms()})),
        ("POST", ["clock", "advance"]) => {
            let b: AdvanceBody = parse(body_json(req)?)?;
            let ms = b.ms.saturating_add(b.seconds.saturating_mul(1000)).saturating_add(b.days.saturating_mul(super::config::DAY_MS));
            if ms <= 0 {
                return Err(ApiError::invalid("Advance by a positive amount (ms, seconds or days)."));
            }
            sh.clock.advance(ms);
            let now = sh.clock.now_ms();
            ok(json!({"nowMs": now, "now": super::clock::rfc3339(now), "offsetMs": sh.clock.offset_ms()}))
        }
        ("POST", ["revoke-refresh-tokens"]) => {
            let b: RevokeBody = parse(body_json(req)?)?;
            let mut st = sh.lock();
            let ids: Vec<u64> = st
                .grants
                .iter()
                .filter(|(_, g)| !g.revoked)
                .filter(|(_, g)| b.email.as_ref().is_none_or(|e| g.email.eq_ignore_ascii_case(e)))
                .filter(|(_, g)| b.client_id.as_ref().is_none_or(|c| &g.client_id == c))
                .map(|(id, _)| *id)
                .collect();
            for id in &ids {
                revoke_grant(&mut st, *id);
            }
            ok(json!({"revokedGrants": ids.len()}))
        }
        ("GET", ["log"]) => {
            let log = sh.log.lock().unwrap_or_else(|e| e.into_inner());
            let mut text = String::new();
            for line in log.iter() {
                text.push_str(&line.to_string());
                text.push('\n');
            }
            Ok(Resp::typed(200, "application/x-ndjson; charset=utf-8", text.into_bytes()))
        }
        ("GET", ["log", "summary"]) => {
            let quota = sh.lock().config.quota.clone();
            let log = sh.log.lock().unwrap_or_else(|e| e.into_inner());
            let mut sum = super::request_log::summary(&log);
            sum["quota"] = super::quota::quota_bound(&log, &quota);
            ok(sum)
        }
        ("DELETE", ["log"]) => {
            sh.log.lock().unwrap_or_else(|e| e.into_inner()).clear();
            ok(json!({}))
        }
        _ => Err(ApiError::new(404, "NOT_FOUND", format!("No admin route {} /__admin/{rest}", req.method))),
    }
}

/// `c123`, `people/c123` → the contact (tombstones included, for raw views).
fn contact_ref<'a>(acct: &'a Account, id: &str) -> ApiResult<&'a Contact> {
    let name = if id.starts_with("people/") { id.to_string() } else { format!("people/{id}") };
    parse_person_id(&name).and_then(|i| acct.contacts.get(&i)).ok_or_else(ApiError::not_found)
}

/// Seeded and edited contacts must be valid People API persons too, or the emulator would
/// serve responses Google never sends.
fn check_person(p: &Value) -> Result<(), String> {
    if !p.is_object() {
        return Err("a contact must be a JSON object (a People API Person)".into());
    }
    super::discovery::discovery().validate("Person", p)
}

/// RFC 7396 JSON merge patch.
fn merge_patch(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}
