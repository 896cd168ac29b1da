//! `people.connections.list`: full listings and sync-token deltas, with page tokens bound to
//! the parameters of the call that produced them and the exact expiry answer Google gives.

use super::api::Ctx;
use super::error::{ApiError, ApiResult};
use super::person::{parse_mask, render, PERSON_FIELDS};
use super::random::token;
use super::state::{PageTokenInfo, State, SyncTokenInfo};
use serde_json::{json, Map, Value};

/// Google's answer to an expired sync token: HTTP 400, FAILED_PRECONDITION, EXPIRED_SYNC_TOKEN.
pub fn expired_sync_token() -> ApiError {
    ApiError::precondition("Sync token is expired. Clear local cache and retry call without the sync token.")
        .with_reason("EXPIRED_SYNC_TOKEN", "people.googleapis.com", json!({}))
}

/// The query parameters a page token is bound to: all but `pageToken`, sorted.
pub fn bound_params(ctx: &Ctx) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = ctx.req.query.iter().filter(|(k, _)| k != "pageToken").cloned().collect();
    p.sort();
    p
}

/// Resolves a page token for this call, or explains why it cannot be used.
pub fn resume(ctx: &Ctx, page_token: &str) -> ApiResult<PageTokenInfo> {
    let info = ctx
        .st
        .page_tokens
        .get(page_token)
        .filter(|i| i.email == ctx.email && i.method == ctx.method.id)
        .cloned()
        .ok_or_else(|| ApiError::invalid("Page token is not valid."))?;
    if info.params != bound_params(ctx) {
        return Err(ApiError::invalid(
            "Parameters of the request do not match the parameters of the request that produced the page token. All parameters except pageToken must be the same.",
        ));
    }
    Ok(info)
}

/// Resolves a sync token of `kind` for the caller: garbage is INVALID_ARGUMENT, an old one
/// the expiry error.
pub fn sync_base(st: &State, email: &str, kind: &str, tok: &str, now: i64) -> ApiResult<SyncTokenInfo> {
    let info = st
        .sync_tokens
        .get(tok)
        .filter(|i| i.email == email && i.kind == kind)
        .cloned()
        .ok_or_else(|| ApiError::invalid("Request contains an invalid argument.").with_field_violations(&[(
            "sync_token".into(),
            "Sync token is invalid.".into(),
        )]))?;
    let valid_after = st.account(email).map(|a| a.tokens_valid_after_ms).unwrap_or(i64::MIN);
    if info.chain_start_ms.saturating_add(st.config.sync_token_ttl_ms) <= now || info.issued_ms <= valid_after {
        return Err(expired_sync_token());
    }
    Ok(info)
}

/// Registers a sync token and returns its opaque string.
pub fn issue_sync_token(st: &mut State, info: SyncTokenInfo) -> String {
    let t = format!("E{}", token(30));
    st.sync_tokens.insert(t.clone(), info);
    t
}

/// Registers a page token and returns its opaque string.
pub fn issue_page_token(st: &mut State, info: PageTokenInfo) -> String {
    let t = format!("G{}", token(24));
    st.page_tokens.insert(t.clone(), info);
    t
}

/// Checks `pageSize` against Google's range; 0 or absent means the default.
pub fn page_size(ctx: &Ctx, default: i64, max: i64) -> ApiResult<usize> {
    match ctx.q_int("pageSize") {
        None | Some(0) => Ok(default as usize),
        Some(n) if (1..=max).contains(&n) => Ok(n as usize),
        Some(n) => Err(ApiError::invalid(format!("Invalid pageSize {n}: must be between 1 and {max}, inclusive."))),
    }
}

pub fn list(ctx: &mut Ctx) -> ApiResult<Value> {
    if ctx.vars.get("peopleId").map(String::as_str) != Some("me") {
        return Err(ApiError::invalid("Must be a person resource name 'people/me'."));
    }
    let mask_raw = ctx.q("personFields").or_else(|| ctx.q("requestMask.includeField")).map(String::from);
    let mask = parse_mask(mask_raw.as_deref(), "personFields", PERSON_FIELDS, "people.connections/list")?;
    let size = page_size(ctx, 100, 1000)?;
    let sort = ctx.q("sortOrder").unwrap_or("LAST_MODIFIED_ASCENDING").to_string();
    let sync_token = ctx.q("syncToken").map(String::from);
    let want_sync = ctx.q_bool("requestSyncToken") || sync_token.is_some();
    let base = match &sync_token {
        Some(t) => Some(sync_base(ctx.st, &ctx.email, "people", t, ctx.now)?),
        None => None,
    };
    let resumed = match ctx.q("pageToken") {
        Some(p) if !p.is_empty() => Some(resume(ctx, p)?),
        _ => None,
    };
    let now = ctx.now;
    let app = ctx.client_id.clone();
    let acct = ctx.acct()?;
    let cutoff = resumed.as_ref().map(|r| r.cutoff).unwrap_or_else(|| acct.visible_cutoff(now));
    let chain_start = resumed
        .as_ref()
        .map(|r| r.chain_start_ms)
        .or(base.as_ref().map(|b| b.chain_start_ms))
        .unwrap_or(now);
    let after_seq = resumed.as_ref().map(|r| r.after_seq).unwrap_or(0);
    let offset = resumed.as_ref().map(|r| r.offset).unwrap_or(0);

    // Candidates, in listing order.
    let mut items: Vec<&super::state::Contact> = match &base {
        Some(b) => acct.contacts.values().filter(|c| c.seq > b.seq && c.seq <= cutoff).collect(),
        None => acct.contacts.values().filter(|c| !c.deleted).collect(),
    };
    let by_seq = base.is_some() || sort.starts_with("LAST_MODIFIED");
    let name_key = |c: &super::state::Contact, key: &str| {
        c.fields
            .get("names")
            .and_then(|n| n.get(0))
            .and_then(|n| n.get(key))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_lowercase()
    };
    match sort.as_str() {
        "FIRST_NAME_ASCENDING" if base.is_none() => items.sort_by_key(|c| (name_key(c, "givenName"), c.id)),
        "LAST_NAME_ASCENDING" if base.is_none() => items.sort_by_key(|c| (name_key(c, "familyName"), c.id)),
        "LAST_MODIFIED_DESCENDING" if base.is_none() => items.sort_by_key(|c| std::cmp::Reverse(c.seq)),
        _ => items.sort_by_key(|c| c.seq),
    }
    let total_live = acct.contacts.values().filter(|c| !c.deleted).count();
    let descending = sort == "LAST_MODIFIED_DESCENDING" && base.is_none();
    let remaining: Vec<&super::state::Contact> = if by_seq && !descending {
        items.into_iter().filter(|c| c.seq > after_seq).collect()
    } else {
        items.into_iter().skip(offset).collect()
    };
    let page: Vec<&super::state::Contact> = remaining.iter().take(size).copied().collect();
    let more = remaining.len() > page.len();
    let with_previous = base.is_some();
    let rendered: Vec<Value> = page.iter().map(|c| render(c, acct, &mask, with_previous, &app)).collect();
    let last_seq = page.last().map(|c| c.seq).unwrap_or(after_seq);
    let page_len = page.len();

    let mut out = Map::new();
    if !rendered.is_empty() {
        out.insert("connections".into(), Value::Array(rendered));
    }
    if more {
        let info = PageTokenInfo {
            email: ctx.email.clone(),
            method: ctx.method.id.clone(),
            params: bound_params(ctx),
            after_seq: last_seq,
            offset: offset + page_len,
            cutoff,
            chain_start_ms: chain_start,
        };
        out.insert("nextPageToken".into(), json!(issue_page_token(ctx.st, info)));
    } else if want_sync {
        let info = SyncTokenInfo {
            email: ctx.email.clone(),
            seq: cutoff,
            chain_start_ms: chain_start,
            issued_ms: now,
            kind: "people",
        };
        out.insert("nextSyncToken".into(), json!(issue_sync_token(ctx.st, info)));
    }
    if base.is_none() {
        out.insert("totalPeople".into(), json!(total_live));
        out.insert("totalItems".into(), json!(total_live));
    }
    Ok(Value::Object(out))
}
