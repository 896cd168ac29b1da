//! The People API front door: routing against the discovery document, authentication,
//! scopes, request validation, quotas, then the handler of the method.

use super::discovery::{discovery, MethodInfo, Route};
use super::error::{ApiError, ApiResult};
use super::http::{Req, Resp};
use super::quota::cost_of;
use super::state::State;
use super::{connections, groups, people, Shared};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Methods of the discovery document that the emulator deliberately does not implement,
/// with the reason (a sync client of a user's own contacts never calls them).
pub const NOT_IMPLEMENTED: &[(&str, &str)] = &[
    ("otherContacts.list", "'Other contacts' (auto-saved interaction addresses) are out of scope for CRM sync"),
    ("otherContacts.search", "'Other contacts' are out of scope for CRM sync"),
    ("otherContacts.copyOtherContactToMyContactsGroup", "'Other contacts' are out of scope for CRM sync"),
    ("people.listDirectoryPeople", "Workspace domain directory: needs a Workspace domain, not a personal account"),
    ("people.searchDirectoryPeople", "Workspace domain directory: needs a Workspace domain, not a personal account"),
];

/// Everything a handler needs: the locked state, who is calling, and the parsed request.
pub struct Ctx<'a> {
    pub st: &'a mut State,
    pub email: String,
    /// The OAuth client of the access token (clientData is private to it).
    pub client_id: String,
    pub now: i64,
    pub req: &'a Req,
    pub vars: BTreeMap<String, String>,
    pub body: Value,
    pub method: &'a MethodInfo,
}

impl Ctx<'_> {
    /// The caller's account (it can vanish through the admin API).
    pub fn acct(&self) -> ApiResult<&super::state::Account> {
        self.st.account(&self.email).ok_or_else(unauthenticated_invalid)
    }
    pub fn acct_mut(&mut self) -> ApiResult<&mut super::state::Account> {
        let email = self.email.clone();
        self.st.account_mut(&email).ok_or_else(unauthenticated_invalid)
    }
    pub fn q(&self, name: &str) -> Option<&str> {
        self.req.query_one(name)
    }
    /// An integer query parameter (already type-checked by the discovery validation).
    pub fn q_int(&self, name: &str) -> Option<i64> {
        self.q(name).and_then(|v| v.trim().parse().ok())
    }
    /// The `resourceNames` of a batchGet: at least one, at most 200, as Google checks them.
    pub fn batch_get_names(&self) -> ApiResult<Vec<String>> {
        let names: Vec<String> = self.req.query_all("resourceNames").into_iter().map(String::from).collect();
        if names.is_empty() {
            return Err(ApiError::invalid("Request must contain at least one resourceNames value."));
        }
        if names.len() > 200 {
            return Err(ApiError::invalid("Request exceeds the maximum of 200 resourceNames."));
        }
        Ok(names)
    }
    pub fn q_bool(&self, name: &str) -> bool {
        self.q(name) == Some("true")
    }
    pub fn delay(&self) -> u64 {
        self.st.config.propagation_delay_ms
    }
}

fn unauthenticated_missing() -> ApiError {
    let mut e = ApiError::new(401, "UNAUTHENTICATED", "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")
        .with_reason("CREDENTIALS_MISSING", "googleapis.com", json!({"service": "people.googleapis.com"}));
    e.headers.push(("WWW-Authenticate".into(), "Bearer realm=\"https://accounts.google.com/\"".into()));
    e
}

fn unauthenticated_invalid() -> ApiError {
    let mut e = ApiError::new(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")
        .with_reason("ACCESS_TOKEN_EXPIRED", "googleapis.com", json!({"service": "people.googleapis.com"}));
    e.headers.push(("WWW-Authenticate".into(), "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"".into()));
    e
}

/// Serves one `/v1/...` request.
/// Google pretty-prints unless `prettyPrint=false`.
pub fn handle(sh: &Shared, req: &Req) -> Resp {
    let compact = req.query_one("prettyPrint") == Some("false");
    match serve(sh, req) {
        Ok(v) if compact => Resp::json_compact(200, &v),
        Ok(v) => Resp::json(200, &v),
        Err(e) if compact => {
            let mut r = e.clone().into_resp();
            r.body = serde_json::to_vec(&e.body()).unwrap_or_default();
            r
        }
        Err(e) => e.into_resp(),
    }
}

/// The access token of a request: `Authorization: Bearer`, or the `access_token` /
/// `oauth_token` query parameters Google also accepts.
pub fn bearer(req: &Req) -> Option<String> {
    if let Some(h) = req.header("Authorization") {
        let (scheme, tok) = h.trim().split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| tok.trim().to_string());
    }
    req.query_one("access_token").or_else(|| req.query_one("oauth_token")).map(String::from)
}

fn serve(sh: &Shared, req: &Req) -> ApiResult<Value> {
    let d = discovery();
    let (method, vars) = match d.route(&req.method, &req.path) {
        Route::Found(m, v) => (m, v),
        Route::WrongMethod => return Err(ApiError::new(404, "NOT_FOUND", "Method not found.")),
        Route::NotFound => {
            return Err(ApiError::new(404, "NOT_FOUND", format!("The requested URL {} was not found on this server.", req.path)))
        }
    };
    if let Some((_, why)) = NOT_IMPLEMENTED.iter().find(|(id, _)| *id == method.id) {
        return Err(ApiError::new(501, "UNIMPLEMENTED", format!("{} is not implemented by the emulator: {why}.", method.id)));
    }
    let now = sh.clock.now_ms();
    let token = bearer(req).ok_or_else(unauthenticated_missing)?;
    let mut guard = sh.lock();
    let st: &mut State = &mut guard;
    let grant_id = match st.access_tokens.get(&token) {
        Some(t) if t.expires_ms > now => t.grant,
        _ => return Err(unauthenticated_invalid()),
    };
    let grant = st.grants.get(&grant_id).filter(|g| !g.revoked).cloned().ok_or_else(unauthenticated_invalid)?;
    if !grant.scopes.iter().any(|s| method.scopes.contains(s)) {
        let mut e = ApiError::new(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.").with_reason(
            "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
            "googleapis.com",
            json!({"service": "people.googleapis.com", "method": format!("google.people.v1.{}", method.id)}),
        );
        e.headers.push((
            "WWW-Authenticate".into(),
            format!("Bearer realm=\"https://accounts.google.com/\", error=\"insufficient_scope\", scope=\"{}\"", method.scopes.join(" ")),
        ));
        return Err(e);
    }
    d.check_query(method, &req.query)?;
    let body = d.check_body(method, &req.body)?.unwrap_or(Value::Null);
    if st.account(&grant.email).is_none() {
        return Err(unauthenticated_invalid());
    }
    let full_first = method.id == "people.connections.list"
        && req.query_one("pageToken").is_none()
        && req.query_one("syncToken").is_none();
    let costs = cost_of(&method.id, full_first, &st.config.quota);
    let quota_cfg = st.config.quota.clone();
    st.quota.charge(&grant.email, &costs, &quota_cfg, now)?;
    let mut ctx = Ctx { st, email: grant.email.clone(), client_id: grant.client_id.clone(), now, req, vars, body, method };
    dispatch(&mut ctx)
}

fn dispatch(ctx: &mut Ctx) -> ApiResult<Value> {
    match ctx.method.id.as_str() {
        "people.connections.list" => connections::list(ctx),
        "people.get" => people::get(ctx),
        "people.getBatchGet" => people::batch_get(ctx),
        "people.createContact" => people::create(ctx),
        "people.updateContact" => people::update(ctx),
        "people.deleteContact" => people::delete(ctx),
        "people.batchCreateContacts" => people::batch_create(ctx),
        "people.batchUpdateContacts" => people::batch_update(ctx),
        "people.batchDeleteContacts" => people::batch_delete(ctx),
        "people.updateContactPhoto" => people::update_photo(ctx),
        "people.deleteContactPhoto" => people::delete_photo(ctx),
        "people.searchContacts" => people::search(ctx),
        "contactGroups.list" => groups::list(ctx),
        "contactGroups.get" => groups::get(ctx),
        "contactGroups.batchGet" => groups::batch_get(ctx),
        "contactGroups.create" => groups::create(ctx),
        "contactGroups.update" => groups::update(ctx),
        "contactGroups.delete" => groups::delete(ctx),
        "contactGroups.members.modify" => groups::modify_members(ctx),
        other => Err(ApiError::new(501, "UNIMPLEMENTED", format!("{other} is not implemented by the emulator."))),
    }
}

/// The ids of the methods the emulator serves (for the coverage test).
pub const IMPLEMENTED: &[&str] = &[
    "people.connections.list", "people.get", "people.getBatchGet", "people.createContact", "people.updateContact",
    "people.deleteContact", "people.batchCreateContacts", "people.batchUpdateContacts", "people.batchDeleteContacts",
    "people.updateContactPhoto", "people.deleteContactPhoto", "people.searchContacts", "contactGroups.list",
    "contactGroups.get", "contactGroups.batchGet", "contactGroups.create", "contactGroups.update",
    "contactGroups.delete", "contactGroups.members.modify",
];
