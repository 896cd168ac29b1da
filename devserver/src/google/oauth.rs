//! Google's OAuth 2.0 endpoints: the consent page (`/o/oauth2/v2/auth`, a plain HTML form,
//! no scripts), the token endpoint (`/token`: authorization code with PKCE and client
//! secret, refresh tokens) and revocation (`/revoke`), with Google's error bodies.

use super::http::{encode_form, html_escape, parse_form, Req, Resp};
use super::random::token;
use super::state::{AccessToken, AuthCode, Grant, RefreshToken, State};
use super::Shared;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const SCOPE_CONTACTS: &str = "https://www.googleapis.com/auth/contacts";
pub const SCOPE_CONTACTS_READONLY: &str = "https://www.googleapis.com/auth/contacts.readonly";

/// Scopes the emulated consent screen grants, with the sentence Google shows for them.
const KNOWN_SCOPES: &[(&str, &str)] = &[
    (SCOPE_CONTACTS, "See, edit, download, and permanently delete your contacts"),
    (SCOPE_CONTACTS_READONLY, "See and download your contacts"),
    ("https://www.googleapis.com/auth/contacts.other.readonly", "See and download contact info automatically saved in your \"Other contacts\""),
    ("https://www.googleapis.com/auth/userinfo.email", "See your primary Google Account email address"),
    ("https://www.googleapis.com/auth/userinfo.profile", "See your personal info, including any personal info you've made publicly available"),
    ("openid", "Associate you with your personal info on Google"),
];

const CODE_TTL_MS: i64 = 10 * 60 * 1000;

/// Parameters Google's authorization endpoint accepts; anything else is refused.
const AUTH_PARAMS: &[&str] = &[
    "client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge", "code_challenge_method",
    "access_type", "prompt", "login_hint", "include_granted_scopes", "hd", "nonce", "enable_granular_consent", "authuser",
];

/// Google's answer to an unknown authorization parameter (an error page, no redirect).
fn unknown_auth_param(pairs: &[(String, String)], extra: &[&str]) -> Option<Resp> {
    pairs.iter().find(|(k, _)| !AUTH_PARAMS.contains(&k.as_str()) && !extra.contains(&k.as_str())).map(|(k, _)| {
        error_page(400, "invalid_request", &format!("Parameter not allowed for this message type: {k}"))
    })
}

/// The stylesheet of the consent page (served from the same origin: CSP allows 'self').
pub const CONSENT_CSS: &str = "body{font-family:system-ui,sans-serif;background:#f0f4f9;margin:0}\
main{max-width:460px;margin:48px auto;background:#fff;border-radius:24px;padding:36px}\
h1{font-size:22px;font-weight:400}.account{border:1px solid #c4c7c5;border-radius:16px;padding:8px 14px;display:inline-block}\
ul{padding-left:20px}li{margin:8px 0}.buttons{display:flex;gap:12px;justify-content:flex-end;margin-top:28px}\
button{border-radius:20px;padding:10px 24px;font-size:14px;border:1px solid #747775;background:#fff;cursor:pointer}\
button#allow{background:#0b57d0;color:#fff;border-color:#0b57d0}.error{color:#b3261e}";

fn normalize_scope(s: &str) -> String {
    match s {
        "email" => "https://www.googleapis.com/auth/userinfo.email".into(),
        "profile" => "https://www.googleapis.com/auth/userinfo.profile".into(),
        other => other.to_string(),
    }
}

fn error_page(status: u16, error: &str, detail: &str) -> Resp {
    Resp::html(
        status,
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error {status}: {e}</title>\
<link rel=\"stylesheet\" href=\"/o/oauth2/consent.css\"></head><body><main><h1>Access blocked: authorization error</h1>\
<p class=\"error\" id=\"error-code\">Error {status}: {e}</p><p id=\"error-detail\">{d}</p></main></body></html>",
            e = html_escape(error),
            d = html_escape(detail)
        ),
    )
}

fn redirect_with(uri: &str, params: &[(&str, &str)]) -> Resp {
    let sep = if uri.contains('?') { '&' } else { '?' };
    Resp::redirect(&format!("{uri}{sep}{}", encode_form(params)))
}

/// The fields of an authorization request, from the query (GET) or the form (POST).
struct AuthRequest {
    client_id: String,
    redirect_uri: String,
    response_type: String,
    scopes: Vec<String>,
    state: Option<String>,
    challenge: Option<String>,
    challenge_method: Option<String>,
    access_type: String,
    login_hint: Option<String>,
    prompt: Option<String>,
}

impl AuthRequest {
    fn from_pairs(p: &[(String, String)]) -> AuthRequest {
        let get = |k: &str| p.iter().rev().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        AuthRequest {
            client_id: get("client_id").unwrap_or_default(),
            redirect_uri: get("redirect_uri").unwrap_or_default(),
            response_type: get("response_type").unwrap_or_default(),
            scopes: get("scope").unwrap_or_default().split([' ', '+']).filter(|s| !s.is_empty()).map(normalize_scope).collect(),
            state: get("state"),
            challenge: get("code_challenge").filter(|s| !s.is_empty()),
            challenge_method: get("code_challenge_method").filter(|s| !s.is_empty()),
            access_type: get("access_type").unwrap_or_else(|| "online".into()),
            login_hint: get("login_hint").filter(|s| !s.is_empty()).or_else(|| get("account")),
            prompt: get("prompt").filter(|s| !s.is_empty()),
        }
    }

    /// Validates against the registered client. `Err(Resp)` is either an error page (client or
    /// redirect URI unusable) or a redirect carrying the error.
    fn check(&self, st: &State) -> Result<(), Resp> {
        let Some(client) = st.clients.get(&self.client_id) else {
            return Err(error_page(401, "invalid_client", "The OAuth client was not found."));
        };
        if !client.redirect_allowed(&self.redirect_uri) {
            return Err(error_page(
                400,
                "redirect_uri_mismatch",
                &format!("You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. redirect_uri={}", self.redirect_uri),
            ));
        }
        let redirect_err = |e: &str, d: &str| {
            let mut p = vec![("error", e), ("error_description", d)];
            if let Some(s) = &self.state {
                p.push(("state", s.as_str()));
            }
            redirect_with(&self.redirect_uri, &p)
        };
        if self.response_type != "code" {
            return Err(redirect_err("unsupported_response_type", "Only response_type=code is supported."));
        }
        if self.scopes.is_empty() {
            return Err(error_page(400, "invalid_request", "Missing required parameter: scope"));
        }
        if let Some(bad) = self.scopes.iter().find(|s| !KNOWN_SCOPES.iter().any(|(k, _)| k == *s)) {
            return Err(error_page(400, "invalid_scope", &format!("Some requested scopes were invalid. {{invalid={bad}}}")));
        }
        match (&self.challenge, self.challenge_method.as_deref()) {
            (None, Some(_)) => return Err(redirect_err("invalid_request", "Missing code_challenge.")),
            (Some(_), Some(m)) if m != "S256" && m != "plain" => {
                return Err(redirect_err("invalid_request", "Invalid code_challenge_method."))
            }
            (Some(c), _) if c.len() < 43 || c.len() > 128 => {
                return Err(redirect_err("invalid_request", "Invalid code_challenge."))
            }
            _ => {}
        }
        if self.access_type != "online" && self.access_type != "offline" {
            return Err(error_page(400, "invalid_request", "Invalid access_type: must be online or offline."));
        }
        Ok(())
    }

    fn hidden_fields(&self) -> String {
        let mut out = String::new();
        let mut add = |k: &str, v: &str| {
            out.push_str(&format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", html_escape(k), html_escape(v)));
        };
        add("client_id", &self.client_id);
        add("redirect_uri", &self.redirect_uri);
        add("response_type", &self.response_type);
        add("scope", &self.scopes.join(" "));
        add("access_type", &self.access_type);
        if let Some(s) = &self.state {
            add("state", s);
        }
        if let Some(c) = &self.challenge {
            add("code_challenge", c);
        }
        if let Some(m) = &self.challenge_method {
            add("code_challenge_method", m);
        }
        if let Some(p) = &self.prompt {
            add("prompt", p);
        }
        out
    }
}

fn testing_denied(st: &State, client_id: &str, email: &str) -> Option<Resp> {
    let client = st.clients.get(client_id)?;
    let listed = client.test_users.iter().any(|u| u.eq_ignore_ascii_case(email));
    (client.testing && !listed).then(|| {
        error_page(
            403,
            "access_denied",
            &format!(
                "{} has not completed the Google verification process. The app is currently being tested, and can only be accessed by developer-approved testers. If you think you should have access, contact the developer.",
                client.name
            ),
        )
    })
}

/// GET /o/oauth2/v2/auth: the consent page.
pub fn authorize_page(sh: &Shared, req: &Req) -> Resp {
    if let Some(resp) = unknown_auth_param(&req.query, &[]) {
        return resp;
    }
    let ar = AuthRequest::from_pairs(&req.query);
    let st = sh.lock();
    if let Err(resp) = ar.check(&st) {
        return resp;
    }
    let accounts: Vec<(&String, &String)> = match &ar.login_hint {
        Some(h) => st.accounts.values().filter(|a| a.email.eq_ignore_ascii_case(h)).map(|a| (&a.email, &a.display_name)).collect(),
        None => st.accounts.values().map(|a| (&a.email, &a.display_name)).collect(),
    };
    if accounts.is_empty() {
        return error_page(400, "invalid_request", "No Google account is available to sign in (none matches login_hint).");
    }
    if accounts.len() == 1 {
        if let Some(resp) = accounts.first().and_then(|(e, _)| testing_denied(&st, &ar.client_id, e)) {
            return resp;
        }
    }
    let app = st.clients.get(&ar.client_id).map(|c| c.name.clone()).unwrap_or_default();
    let unverified = if st.clients.get(&ar.client_id).is_some_and(|c| c.testing) {
        "<p class=\"error\" id=\"unverified\">Google hasn't verified this app. You've been given access to an app that's currently being tested. You should only continue if you know the developer that invited you.</p>"
    } else {
        ""
    };
    let account_html = if let ([(email, name)], true) = (accounts.as_slice(), accounts.len() == 1) {
        format!(
            "<p class=\"account\" id=\"account\">{} &lt;{}&gt;</p><input type=\"hidden\" name=\"account\" value=\"{}\">",
            html_escape(name),
            html_escape(email),
            html_escape(email)
        )
    } else {
        let opts: String = accounts
            .iter()
            .map(|(e, n)| format!("<option value=\"{}\">{} &lt;{}&gt;</option>", html_escape(e), html_escape(n), html_escape(e)))
            .collect();
        format!("<label>Account <select name=\"account\" id=\"account\">{opts}</select></label>")
    };
    let scopes: String = ar
        .scopes
        .iter()
        .map(|s| {
            let text = KNOWN_SCOPES.iter().find(|(k, _)| k == s).map(|(_, t)| *t).unwrap_or("");
            format!("<li data-scope=\"{}\">{}</li>", html_escape(s), html_escape(text))
        })
        .collect();
    Resp::html(
        200,
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in - Google Accounts</title>\
<link rel=\"stylesheet\" href=\"/o/oauth2/consent.css\"></head><body><main>\
<h1 id=\"app-name\">{app} wants access to your Google Account</h1>{unverified}\
<form method=\"post\" action=\"/o/oauth2/v2/auth/consent\">{account_html}\
<p>This will allow <strong>{app}</strong> to:</p><ul id=\"scopes\">{scopes}</ul>{hidden}\
<p>Make sure you trust {app}. You can remove access at any time in your Google Account.</p>\
<div class=\"buttons\"><button type=\"submit\" name=\"decision\" value=\"deny\" id=\"deny\">Cancel</button>\
<button type=\"submit\" name=\"decision\" value=\"allow\" id=\"allow\">Allow</button></div></form></main></body></html>",
            app = html_escape(&app),
            hidden = ar.hidden_fields(),
        ),
    )
}

/// POST /o/oauth2/v2/auth/consent: the user's decision.
pub fn consent(sh: &Shared, req: &Req) -> Resp {
    let form = parse_form(&String::from_utf8_lossy(&req.body));
    if let Some(resp) = unknown_auth_param(&form, &["account", "decision"]) {
        return resp;
    }
    let ar = AuthRequest::from_pairs(&form);
    let decision = form.iter().rev().find(|(k, _)| k == "decision").map(|(_, v)| v.as_str()).unwrap_or("");
    let now = sh.clock.now_ms();
    let mut st = sh.lock();
    if let Err(resp) = ar.check(&st) {
        return resp;
    }
    let Some(email) = ar.login_hint.clone().filter(|e| st.account(e).is_some()) else {
        return error_page(400, "invalid_request", "Unknown account.");
    };
    let mut params: Vec<(&str, String)> = Vec::new();
    if decision != "allow" {
        params.push(("error", "access_denied".into()));
    } else {
        if let Some(resp) = testing_denied(&st, &ar.client_id, &email) {
            return resp;
        }
        let code = format!("4/0A{}", token(32));
        let canonical_email = st.account(&email).map(|a| a.email.clone()).unwrap_or(email.clone());
        st.codes.insert(
            code.clone(),
            AuthCode {
                client_id: ar.client_id.clone(),
                email: canonical_email,
                scopes: ar.scopes.clone(),
                redirect_uri: ar.redirect_uri.clone(),
                challenge: ar.challenge.clone().map(|c| (ar.challenge_method.clone().unwrap_or_else(|| "plain".into()), c)),
                offline: ar.access_type == "offline",
                force_consent: ar.prompt.as_deref().is_some_and(|p| p.split(' ').any(|p| p == "consent")),
                expires_ms: now + CODE_TTL_MS,
            },
        );
        params.push(("code", code));
        params.push(("scope", ar.scopes.join(" ")));
        params.push(("authuser", "0".into()));
        params.push(("prompt", "consent".into()));
    }
    if let Some(s) = &ar.state {
        params.push(("state", s.clone()));
    }
    let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    redirect_with(&ar.redirect_uri, &pairs)
}

fn token_error(status: u16, error: &str, description: &str) -> Resp {
    let mut r = Resp::json(status, &json!({"error": error, "error_description": description}));
    r.set_header("Cache-Control", "no-store");
    r
}

fn token_ok(v: Value) -> Resp {
    let mut r = Resp::json(200, &v);
    r.set_header("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate");
    r.set_header("Pragma", "no-cache");
    r
}

/// Form or JSON body pairs, plus HTTP Basic client credentials.
fn token_params(req: &Req) -> Vec<(String, String)> {
    let body = String::from_utf8_lossy(&req.body).to_string();
    let is_json = req.header("Content-Type").is_some_and(|c| c.contains("json"));
    let mut p: Vec<(String, String)> = if is_json {
        serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .map(|o| o.into_iter().filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string()))).collect())
            .unwrap_or_default()
    } else {
        parse_form(&body)
    };
    if let Some(basic) = req.header("Authorization").and_then(|h| h.strip_prefix("Basic ")) {
        if let Some((id, secret)) = STANDARD
            .decode(basic.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.split_once(':').map(|(a, b)| (a.to_string(), b.to_string())))
        {
            p.push(("client_id".into(), super::http::percent_decode(&id, true)));
            p.push(("client_secret".into(), super::http::percent_decode(&secret, true)));
        }
    }
    p
}

fn issue_access(st: &mut State, grant: u64, now: i64) -> (String, i64) {
    let t = format!("ya29.a0{}", token(48));
    let ttl = st.config.access_token_ttl_s;
    st.access_tokens.insert(t.clone(), AccessToken { grant, expires_ms: now.saturating_add(ttl.saturating_mul(1000)) });
    (t, ttl - 1)
}

/// POST /token.
pub fn token_endpoint(sh: &Shared, req: &Req) -> Resp {
    if req.method != "POST" {
        return token_error(405, "invalid_request", "Method not allowed: use POST.");
    }
    let p = token_params(req);
    let get = |k: &str| p.iter().rev().find(|(n, _)| n == k).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    let now = sh.clock.now_ms();
    let mut st = sh.lock();
    let Some(client) = get("client_id").and_then(|id| st.clients.get(&id).cloned()) else {
        return token_error(401, "invalid_client", "The OAuth client was not found.");
    };
    match get("client_secret") {
        None => return token_error(400, "invalid_request", "client_secret is missing."),
        Some(s) if s != client.client_secret => return token_error(401, "invalid_client", "Unauthorized"),
        Some(_) => {}
    }
    match get("grant_type").as_deref() {
        Some("authorization_code") => {
            let Some(code) = get("code") else { return token_error(400, "invalid_request", "Missing required parameter: code") };
            let Some(ac) = st.codes.remove(&code) else { return token_error(400, "invalid_grant", "Malformed auth code.") };
            if ac.expires_ms <= now || ac.client_id != client.client_id {
                return token_error(400, "invalid_grant", "Bad Request");
            }
            if get("redirect_uri").as_deref() != Some(ac.redirect_uri.as_str()) {
                return token_error(400, "redirect_uri_mismatch", "Bad Request");
            }
            if let Some((method, challenge)) = &ac.challenge {
                let Some(verifier) = get("code_verifier") else { return token_error(400, "invalid_grant", "Missing code verifier.") };
                let computed = if method == "S256" { URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) } else { verifier.clone() };
                let well_formed = (43..=128).contains(&verifier.len())
                    && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
                if !well_formed || &computed != challenge {
                    return token_error(400, "invalid_grant", "Invalid code verifier.");
                }
            } else if get("code_verifier").is_some() {
                return token_error(400, "invalid_grant", "code_verifier or verifier is not needed.");
            }
            let grant_id = st.next_grant;
            st.next_grant += 1;
            st.grants.insert(grant_id, Grant { client_id: client.client_id.clone(), email: ac.email.clone(), scopes: ac.scopes.clone(), created_ms: now, revoked: false });
            let (access, expires_in) = issue_access(&mut st, grant_id, now);
            let mut out = json!({"access_token": access, "expires_in": expires_in, "scope": ac.scopes.join(" "), "token_type": "Bearer"});
            // Google returns a refresh token on the first offline consent of a user to a client,
            // and again only when the consent screen was forced with prompt=consent.
            let has_live_refresh = {
                let grants = &st.grants;
                st.refresh_tokens.values().any(|r| {
                    grants.get(&r.grant).is_some_and(|g| !g.revoked && g.email == ac.email && g.client_id == client.client_id)
                })
            };
            if ac.offline && (ac.force_consent || !has_live_refresh) {
                let rt = format!("1//0g{}", token(40));
                // Beyond the per-client limit, the oldest refresh token of this user dies silently.
                let max = st.config.max_refresh_tokens_per_client.max(1);
                let grants = st.grants.clone();
                let mut mine: Vec<(String, i64)> = st
                    .refresh_tokens
                    .iter()
                    .filter(|(_, r)| grants.get(&r.grant).is_some_and(|g| g.email == ac.email && g.client_id == client.client_id))
                    .map(|(k, r)| (k.clone(), r.issued_ms))
                    .collect();
                mine.sort_by_key(|(_, t)| *t);
                while mine.len() >= max {
                    let (old, _) = mine.remove(0);
                    st.refresh_tokens.remove(&old);
                }
                let hard = client.testing.then(|| now.saturating_add(st.config.testing_refresh_token_ttl_ms));
                st.refresh_tokens.insert(rt.clone(), RefreshToken { grant: grant_id, issued_ms: now, last_used_ms: now, hard_expiry_ms: hard });
                out["refresh_token"] = json!(rt);
            }
            token_ok(out)
        }
        Some("refresh_token") => {
            let Some(rt) = get("refresh_token") else { return token_error(400, "invalid_request", "Missing required parameter: refresh_token") };
            let idle = st.config.refresh_token_idle_ttl_ms;
            let expired_or_revoked = token_error(400, "invalid_grant", "Token has been expired or revoked.");
            let Some(r) = st.refresh_tokens.get(&rt).cloned() else { return expired_or_revoked };
            let Some(grant) = st.grants.get(&r.grant).cloned() else { return expired_or_revoked };
            if grant.client_id != client.client_id {
                return token_error(400, "unauthorized_client", "Unauthorized");
            }
            let dead = grant.revoked || r.hard_expiry_ms.is_some_and(|t| t <= now) || r.last_used_ms.saturating_add(idle) <= now;
            if dead {
                st.refresh_tokens.remove(&rt);
                return expired_or_revoked;
            }
            if let Some(r) = st.refresh_tokens.get_mut(&rt) {
                r.last_used_ms = now;
            }
            let (access, expires_in) = issue_access(&mut st, r.grant, now);
            token_ok(json!({"access_token": access, "expires_in": expires_in, "scope": grant.scopes.join(" "), "token_type": "Bearer"}))
        }
        Some(other) => token_error(400, "unsupported_grant_type", &format!("Invalid grant_type: {other}")),
        None => token_error(400, "unsupported_grant_type", "Invalid grant_type: "),
    }
}

/// Revokes a grant and every token derived from it.
pub fn revoke_grant(st: &mut State, grant: u64) {
    if let Some(g) = st.grants.get_mut(&grant) {
        g.revoked = true;
    }
    st.refresh_tokens.retain(|_, r| r.grant != grant);
    st.access_tokens.retain(|_, a| a.grant != grant);
}

/// POST /revoke: an access or a refresh token; either revokes the whole grant, like Google.
pub fn revoke(sh: &Shared, req: &Req) -> Resp {
    let mut p = parse_form(&String::from_utf8_lossy(&req.body));
    p.extend(req.query.iter().cloned());
    let tok = p.iter().find(|(k, _)| k == "token").map(|(_, v)| v.clone()).unwrap_or_default();
    let mut st = sh.lock();
    let grant = st.access_tokens.get(&tok).map(|a| a.grant).or_else(|| st.refresh_tokens.get(&tok).map(|r| r.grant));
    match grant {
        Some(g) => {
            revoke_grant(&mut st, g);
            Resp::json(200, &json!({}))
        }
        None => token_error(400, "invalid_token", "Token expired or revoked"),
    }
}
