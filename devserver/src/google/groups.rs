//! contactGroups: list (with its own sync token), get, batchGet, create (unique names),
//! update, delete, and members:modify with the last-membership rule.

use super::api::Ctx;
use super::clock::rfc3339;
use super::connections::{bound_params, issue_page_token, issue_sync_token, page_size, resume, sync_base};
use super::error::{ApiError, ApiResult};
use super::state::{parse_person_id, Account, Group, PageTokenInfo, SyncTokenInfo, SYSTEM_GROUPS};
use serde_json::{json, Map, Value};

const GROUP_FIELDS: &[&str] = &["clientData", "groupType", "memberCount", "metadata", "name"];
const DEFAULT_FIELDS: &[&str] = &["metadata", "groupType", "memberCount", "name"];

fn group_mask(raw: Option<&str>) -> ApiResult<Vec<String>> {
    match raw.map(str::trim) {
        None | Some("") => Ok(DEFAULT_FIELDS.iter().map(|s| s.to_string()).collect()),
        Some(r) => r
            .split(',')
            .map(str::trim)
            .map(|p| {
                if GROUP_FIELDS.contains(&p) {
                    Ok(p.to_string())
                } else {
                    Err(ApiError::invalid(format!("Invalid groupFields mask path: \"{p}\". Valid paths are documented at https://developers.google.com/people/api/rest/v1/contactGroups/get.")))
                }
            })
            .collect(),
    }
}

fn group_id(ctx: &Ctx) -> String {
    ctx.vars.get("contactGroupsId").cloned().unwrap_or_default()
}

/// Renders a group; `max_members` > 0 adds member resource names (get/batchGet only).
fn render_group(g: &Group, acct: &Account, mask: &[String], max_members: usize) -> Value {
    let mut out = Map::new();
    out.insert("resourceName".into(), json!(format!("contactGroups/{}", g.id)));
    out.insert("etag".into(), json!(g.etag));
    if g.deleted {
        out.insert("metadata".into(), json!({"updateTime": rfc3339(g.update_ms), "deleted": true}));
        return Value::Object(out);
    }
    for f in mask {
        match f.as_str() {
            "metadata" => {
                out.insert("metadata".into(), json!({"updateTime": rfc3339(g.update_ms)}));
            }
            "groupType" => {
                out.insert("groupType".into(), json!(if g.system { "SYSTEM_CONTACT_GROUP" } else { "USER_CONTACT_GROUP" }));
            }
            "name" => {
                let formatted = SYSTEM_GROUPS.iter().find(|(id, _, _)| *id == g.id).map(|(_, n, _)| n.to_string());
                out.insert("name".into(), json!(if g.system { g.id.clone() } else { g.name.clone() }));
                out.insert("formattedName".into(), json!(formatted.unwrap_or_else(|| g.name.clone())));
            }
            "memberCount" => {
                let n = acct.member_count(&g.id);
                if n > 0 {
                    out.insert("memberCount".into(), json!(n));
                }
            }
            "clientData" if !g.client_data.is_empty() => {
                out.insert("clientData".into(), json!(g.client_data));
            }
            _ => {}
        }
    }
    if max_members > 0 {
        let members: Vec<String> = acct
            .contacts
            .values()
            .filter(|c| !c.deleted && c.memberships.contains(&g.id))
            .take(max_members)
            .map(|c| c.resource_name())
            .collect();
        if !members.is_empty() {
            out.insert("memberResourceNames".into(), json!(members));
        }
    }
    Value::Object(out)
}

pub fn list(ctx: &mut Ctx) -> ApiResult<Value> {
    let mask = group_mask(ctx.q("groupFields"))?;
    let size = page_size(ctx, 30, 1000)?;
    let base = match ctx.q("syncToken") {
        Some(t) if !t.is_empty() => Some(sync_base(ctx.st, &ctx.email, "groups", t, ctx.now)?),
        _ => None,
    };
    let resumed = match ctx.q("pageToken") {
        Some(p) if !p.is_empty() => Some(resume(ctx, p)?),
        _ => None,
    };
    let now = ctx.now;
    let acct = ctx.acct()?;
    let cutoff = resumed.as_ref().map(|r| r.cutoff).unwrap_or_else(|| acct.visible_cutoff(now));
    let chain_start = resumed.as_ref().map(|r| r.chain_start_ms).or(base.as_ref().map(|b| b.chain_start_ms)).unwrap_or(now);
    let offset = resumed.as_ref().map(|r| r.offset).unwrap_or(0);
    let items: Vec<&Group> = match &base {
        Some(b) => acct.groups.values().filter(|g| g.seq > b.seq && g.seq <= cutoff).collect(),
        None => acct.groups.values().filter(|g| !g.deleted).collect(),
    };
    let total = items.len();
    let page: Vec<Value> = items.iter().skip(offset).take(size).map(|g| render_group(g, acct, &mask, 0)).collect();
    let more = offset + page.len() < total;
    let mut out = Map::new();
    if !page.is_empty() {
        out.insert("contactGroups".into(), json!(page));
    }
    if base.is_none() {
        out.insert("totalItems".into(), json!(total));
    }
    if more {
        let info = PageTokenInfo {
            email: ctx.email.clone(),
            method: ctx.method.id.clone(),
            params: bound_params(ctx),
            after_seq: 0,
            offset: offset + page.len(),
            cutoff,
            chain_start_ms: chain_start,
        };
        out.insert("nextPageToken".into(), json!(issue_page_token(ctx.st, info)));
    } else {
        let info = SyncTokenInfo { email: ctx.email.clone(), seq: cutoff, chain_start_ms: chain_start, issued_ms: now, kind: "groups" };
        out.insert("nextSyncToken".into(), json!(issue_sync_token(ctx.st, info)));
    }
    Ok(Value::Object(out))
}

pub fn get(ctx: &mut Ctx) -> ApiResult<Value> {
    let mask = group_mask(ctx.q("groupFields"))?;
    let max = ctx.q_int("maxMembers").unwrap_or(0).max(0) as usize;
    let id = group_id(ctx);
    let acct = ctx.acct()?;
    let g = acct.groups.get(&id).filter(|g| !g.deleted).ok_or_else(ApiError::not_found)?;
    Ok(render_group(g, acct, &mask, max))
}

pub fn batch_get(ctx: &mut Ctx) -> ApiResult<Value> {
    let mask = group_mask(ctx.q("groupFields"))?;
    let max = ctx.q_int("maxMembers").unwrap_or(0).max(0) as usize;
    let names = ctx.batch_get_names()?;
    let acct = ctx.acct()?;
    let responses: Vec<Value> = names
        .iter()
        .map(|n| {
            let id = n.strip_prefix("contactGroups/").unwrap_or("");
            match acct.groups.get(id).filter(|g| !g.deleted) {
                Some(g) => json!({"requestedResourceName": n, "contactGroup": render_group(g, acct, &mask, max), "status": {}}),
                None => json!({"requestedResourceName": n, "status": ApiError::not_found().item_status()}),
            }
        })
        .collect();
    Ok(json!({ "responses": responses }))
}

fn name_taken(acct: &Account, name: &str, except: Option<&str>) -> bool {
    acct.groups.values().any(|g| {
        !g.deleted
            && Some(g.id.as_str()) != except
            && (g.name.eq_ignore_ascii_case(name) || (g.system && g.id.eq_ignore_ascii_case(name)))
    })
}

fn already_exists() -> ApiError {
    ApiError::new(409, "ALREADY_EXISTS", "Contact group name already exists.")
}

pub fn create(ctx: &mut Ctx) -> ApiResult<Value> {
    let mask = group_mask(ctx.body.get("readGroupFields").and_then(Value::as_str))?;
    let group = ctx.body.get("contactGroup").cloned().unwrap_or(Value::Null);
    let name = group.get("name").and_then(Value::as_str).unwrap_or("").trim().to_string();
    if name.is_empty() {
        return Err(ApiError::invalid("contactGroup.name is required."));
    }
    let client_data = group.get("clientData").and_then(Value::as_array).cloned().unwrap_or_default();
    let id = ctx.st.new_group_id();
    let (now, delay) = (ctx.now, ctx.delay());
    let acct = ctx.acct_mut()?;
    if name_taken(acct, &name, None) {
        return Err(already_exists());
    }
    acct.groups.insert(
        id.clone(),
        Group { id: id.clone(), name, system: false, etag: String::new(), update_ms: now, seq: 0, visible_ms: now, deleted: false, client_data },
    );
    acct.touch_group(&id, now, delay);
    let acct = ctx.acct()?;
    let g = acct.groups.get(&id).ok_or_else(ApiError::not_found)?;
    Ok(render_group(g, acct, &mask, 0))
}

pub fn update(ctx: &mut Ctx) -> ApiResult<Value> {
    let mask = group_mask(ctx.body.get("readGroupFields").and_then(Value::as_str))?;
    let fields: Vec<String> = ctx
        .body
        .get("updateGroupFields")
        .and_then(Value::as_str)
        .unwrap_or("name")
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    if let Some(bad) = fields.iter().find(|f| f.as_str() != "name" && f.as_str() != "clientData") {
        return Err(ApiError::invalid(format!("Invalid updateGroupFields mask path: \"{bad}\".")));
    }
    let id = group_id(ctx);
    let group = ctx.body.get("contactGroup").cloned().unwrap_or(Value::Null);
    let (now, delay) = (ctx.now, ctx.delay());
    let acct = ctx.acct_mut()?;
    let g = acct.groups.get(&id).filter(|g| !g.deleted).ok_or_else(ApiError::not_found)?;
    if g.system {
        return Err(ApiError::precondition("System contact groups cannot be updated."));
    }
    if let Some(etag) = group.get("etag").and_then(Value::as_str) {
        if etag != g.etag {
            return Err(ApiError::precondition("Request contactGroup.etag is different than the current contactGroup.etag. Clear local cache and get the latest contact group."));
        }
    }
    let new_name = group.get("name").and_then(Value::as_str).unwrap_or("").trim().to_string();
    if fields.iter().any(|f| f == "name") {
        if new_name.is_empty() {
            return Err(ApiError::invalid("contactGroup.name is required."));
        }
        if name_taken(acct, &new_name, Some(&id)) {
            return Err(already_exists());
        }
    }
    if let Some(g) = acct.groups.get_mut(&id) {
        if fields.iter().any(|f| f == "name") {
            g.name = new_name;
        }
        if fields.iter().any(|f| f == "clientData") {
            g.client_data = group.get("clientData").and_then(Value::as_array).cloned().unwrap_or_default();
        }
    }
    acct.touch_group(&id, now, delay);
    let acct = ctx.acct()?;
    let g = acct.groups.get(&id).ok_or_else(ApiError::not_found)?;
    Ok(render_group(g, acct, &mask, 0))
}

pub fn delete(ctx: &mut Ctx) -> ApiResult<Value> {
    let id = group_id(ctx);
    let delete_contacts = ctx.q_bool("deleteContacts");
    let (now, delay) = (ctx.now, ctx.delay());
    let acct = ctx.acct_mut()?;
    let g = acct.groups.get(&id).filter(|g| !g.deleted).ok_or_else(ApiError::not_found)?;
    if g.system {
        return Err(ApiError::precondition("System contact groups cannot be deleted."));
    }
    let members: Vec<u64> = acct.contacts.values().filter(|c| !c.deleted && c.memberships.contains(&id)).map(|c| c.id).collect();
    for cid in members {
        if delete_contacts {
            acct.delete_contact(cid, now, delay);
        } else {
            if let Some(c) = acct.contacts.get_mut(&cid) {
                c.memberships.remove(&id);
            }
            acct.touch(cid, now, delay);
        }
    }
    if let Some(g) = acct.groups.get_mut(&id) {
        g.deleted = true;
        g.client_data.clear();
    }
    acct.touch_group(&id, now, delay);
    Ok(json!({}))
}

pub fn modify_members(ctx: &mut Ctx) -> ApiResult<Value> {
    let id = group_id(ctx);
    let list = |k: &str| -> Vec<String> {
        ctx.body.get(k).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect()).unwrap_or_default()
    };
    let add = list("resourceNamesToAdd");
    let remove = list("resourceNamesToRemove");
    if add.len() + remove.len() > 1000 {
        return Err(ApiError::invalid("Too many resource names: resourceNamesToAdd and resourceNamesToRemove together must not exceed 1000."));
    }
    let (now, delay) = (ctx.now, ctx.delay());
    let acct = ctx.acct_mut()?;
    let g = acct.groups.get(&id).filter(|g| !g.deleted).ok_or_else(ApiError::not_found)?;
    let may_add = !g.system || id == "myContacts" || id == "starred";
    if !add.is_empty() && !may_add {
        return Err(ApiError::precondition(format!("Cannot add contacts to system contact group \"contactGroups/{id}\".")));
    }
    let mut not_found = Vec::new();
    let mut last = Vec::new();
    let mut changed = false;
    for n in &add {
        match parse_person_id(n).filter(|cid| acct.contacts.get(cid).is_some_and(|c| !c.deleted)) {
            Some(cid) => {
                let inserted = acct.contacts.get_mut(&cid).map(|c| c.memberships.insert(id.clone())).unwrap_or(false);
                if inserted {
                    acct.touch(cid, now, delay);
                    changed = true;
                }
            }
            None => not_found.push(n.clone()),
        }
    }
    for n in &remove {
        match parse_person_id(n).filter(|cid| acct.contacts.get(cid).is_some_and(|c| !c.deleted)) {
            Some(cid) => {
                let Some(c) = acct.contacts.get_mut(&cid) else { continue };
                if !c.memberships.contains(&id) {
                    continue;
                }
                if c.memberships.len() == 1 {
                    last.push(n.clone());
                    continue;
                }
                c.memberships.remove(&id);
                acct.touch(cid, now, delay);
                changed = true;
            }
            None => not_found.push(n.clone()),
        }
    }
    if changed {
        acct.touch_group(&id, now, delay);
    }
    let mut out = Map::new();
    if !not_found.is_empty() {
        out.insert("notFoundResourceNames".into(), json!(not_found));
    }
    if !last.is_empty() {
        out.insert("canNotRemoveLastContactGroupResourceNames".into(), json!(last));
    }
    Ok(Value::Object(out))
}
