#![cfg(not(target_arch = "wasm32"))]
//! OAuth 2.0: consent page, deny, PKCE, client secret, refresh tokens (offline only),
//! revocation, Testing-status rules, access-token expiry on the emulator clock.

mod common;
use common::*;
use serde_json::json;

#[test]
fn consent_page_is_a_script_free_form_naming_app_account_and_scopes() {
    let emu = start_demo();
    let c = Client::new(emu.url());
    let path = format!(
        "/o/oauth2/v2/auth?client_id={}&redirect_uri={}&response_type=code&scope={}&state=xyz&access_type=offline&code_challenge={}&code_challenge_method=S256",
        enc(CLIENT_ID), enc(REDIRECT), enc(CONTACTS), challenge(VERIFIER)
    );
    let r = c.get(&path);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Contact Sync (demo)"));
    assert!(r.body.contains("demo@example.com"));
    assert!(r.body.contains("Démo Utilisateur"));
    assert!(r.body.contains(CONTACTS));
    assert!(r.body.contains("id=\"allow\"") && r.body.contains("id=\"deny\""));
    assert!(r.body.contains("method=\"post\""));
    assert!(!r.body.to_lowercase().contains("<script"), "no scripts on the consent page");
    let csp = r.header("Content-Security-Policy").unwrap_or("");
    assert!(csp.contains("default-src 'none'"), "{csp}");
}

#[test]
fn unknown_client_and_foreign_redirect_uri_get_error_pages_not_redirects() {
    let emu = start_demo();
    let c = Client::new(emu.url());
    let r = c.get(&format!("/o/oauth2/v2/auth?client_id=nope&redirect_uri={}&response_type=code&scope={}", enc(REDIRECT), enc(CONTACTS)));
    assert_eq!(r.status, 401);
    assert!(r.body.contains("invalid_client"));
    let r = c.get(&format!("/o/oauth2/v2/auth?client_id={}&redirect_uri={}&response_type=code&scope={}", enc(CLIENT_ID), enc("https://evil.example/cb"), enc(CONTACTS)));
    assert_eq!(r.status, 400);
    assert!(r.body.contains("redirect_uri_mismatch"));
    assert!(r.header("Location").is_none());
}

#[test]
fn unknown_authorization_parameters_are_refused() {
    let emu = start_demo();
    let r = Client::new(emu.url()).get(&format!(
        "/o/oauth2/v2/auth?client_id={}&redirect_uri={}&response_type=code&scope={}&approval_prompt=force",
        enc(CLIENT_ID), enc(REDIRECT), enc(CONTACTS)
    ));
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Parameter not allowed for this message type: approval_prompt"), "{}", r.body);
}

#[test]
fn deny_redirects_with_access_denied_and_state() {
    let emu = start_demo();
    let r = consent(emu.url(), CLIENT_ID, DEMO, CONTACTS, true, "deny");
    assert_eq!(r.status, 302);
    let p = location_params(r.header("Location").unwrap_or(""));
    assert_eq!(param(&p, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&p, "state").as_deref(), Some("st-123"));
    assert!(param(&p, "code").is_none());
}

#[test]
fn code_exchange_needs_matching_pkce_verifier_and_secret_and_is_single_use() {
    let emu = start_demo();
    let get_code = || {
        let r = consent(emu.url(), CLIENT_ID, DEMO, CONTACTS, true, "allow");
        param(&location_params(r.header("Location").unwrap_or("")), "code").expect("code")
    };
    let c = Client::new(emu.url());
    let exchange = |code: &str, secret: &str, verifier: Option<&str>| {
        let mut f = vec![("grant_type", "authorization_code"), ("code", code), ("client_id", CLIENT_ID), ("client_secret", secret), ("redirect_uri", REDIRECT)];
        if let Some(v) = verifier {
            f.push(("code_verifier", v));
        }
        c.form("/token", &f)
    };
    let wrong = "x".repeat(50);
    let r = exchange(&get_code(), CLIENT_SECRET, Some(&wrong));
    assert_eq!((r.status, r.json()["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(r.json()["error_description"], "Invalid code verifier.");
    let r = exchange(&get_code(), CLIENT_SECRET, None);
    assert_eq!(r.json()["error_description"], "Missing code verifier.");
    let r = exchange(&get_code(), "wrong-secret", Some(VERIFIER));
    assert_eq!((r.status, r.json()["error"].as_str()), (401, Some("invalid_client")));
    let code = get_code();
    let ok = exchange(&code, CLIENT_SECRET, Some(VERIFIER));
    assert_eq!(ok.status, 200, "{}", ok.body);
    let v = ok.json();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3599);
    assert!(v["refresh_token"].as_str().is_some());
    let again = exchange(&code, CLIENT_SECRET, Some(VERIFIER));
    assert_eq!(again.json()["error"], "invalid_grant", "a code works once");
}

#[test]
fn refresh_token_only_with_offline_access() {
    let emu = start_demo();
    let online = tokens(emu.url(), CONTACTS, false);
    assert!(online.get("refresh_token").is_none());
    let offline = tokens(emu.url(), CONTACTS, true);
    let rt = offline["refresh_token"].as_str().expect("refresh token");
    let c = Client::new(emu.url());
    let r = c.form("/token", &[("grant_type", "refresh_token"), ("refresh_token", rt), ("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json().get("refresh_token").is_none());
    let at = r.json()["access_token"].as_str().unwrap_or("").to_string();
    assert_eq!(Client::with_token(emu.url(), &at).get("/v1/people/me?personFields=names").status, 200);
}

#[test]
fn revoked_refresh_token_is_invalid_grant_and_kills_access_tokens() {
    let emu = start_demo();
    let t = tokens(emu.url(), CONTACTS, true);
    let (rt, at) = (t["refresh_token"].as_str().unwrap_or(""), t["access_token"].as_str().unwrap_or(""));
    let c = Client::new(emu.url());
    assert_eq!(c.form("/revoke", &[("token", rt)]).status, 200);
    let r = c.form("/token", &[("grant_type", "refresh_token"), ("refresh_token", rt), ("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)]);
    assert_eq!(r.status, 400);
    assert_eq!(r.json(), json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."}));
    let api = Client::with_token(emu.url(), at);
    let r = api.get("/v1/people/me/connections?personFields=names");
    assert_eq!((r.status, r.error_status()), (401, "UNAUTHENTICATED".to_string()));
    assert_eq!(c.form("/revoke", &[("token", rt)]).status, 400, "revoking twice: invalid_token");
}

#[test]
fn admin_revocation_of_refresh_tokens() {
    let emu = start_demo();
    let t = tokens(emu.url(), CONTACTS, true);
    let rt = t["refresh_token"].as_str().unwrap_or("");
    let a = admin(&emu);
    assert_eq!(a.post("/__admin/revoke-refresh-tokens", &json!({"email": DEMO})).json()["revokedGrants"], 1);
    let r = Client::new(emu.url()).form("/token", &[("grant_type", "refresh_token"), ("refresh_token", rt), ("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)]);
    assert_eq!(r.json()["error"], "invalid_grant");
}

#[test]
fn testing_status_app_refuses_non_test_users_and_expires_refresh_tokens_after_7_days() {
    let emu = start_demo();
    let a = admin(&emu);
    a.post("/__admin/accounts", &json!({"email": "tester@example.com", "displayName": "Testeur"}));
    a.post("/__admin/clients", &json!({"clientId": "testing-app", "clientSecret": "s3", "name": "Test App", "publishingStatus": "testing", "testUsers": ["tester@example.com"]}));
    let denied = consent(emu.url(), "testing-app", DEMO, CONTACTS, true, "allow");
    assert_eq!(denied.status, 403);
    assert!(denied.body.contains("access_denied"));
    let page = Client::new(emu.url()).get(&format!(
        "/o/oauth2/v2/auth?client_id=testing-app&redirect_uri={}&response_type=code&scope={}&login_hint={}",
        enc(REDIRECT), enc(CONTACTS), enc(DEMO)
    ));
    assert_eq!(page.status, 403, "the page itself refuses a user not on the test list");

    let tester_page = Client::new(emu.url()).get(&format!(
        "/o/oauth2/v2/auth?client_id=testing-app&redirect_uri={}&response_type=code&scope={}&login_hint={}",
        enc(REDIRECT), enc(CONTACTS), enc("tester@example.com")
    ));
    assert_eq!(tester_page.status, 200);
    assert!(tester_page.body.contains("Google hasn't verified this app"));
    let r = consent(emu.url(), "testing-app", "tester@example.com", CONTACTS, true, "allow");
    assert_eq!(r.status, 302);
    let code = param(&location_params(r.header("Location").unwrap_or("")), "code").expect("code");
    let c = Client::new(emu.url());
    let t = c.form("/token", &[("grant_type", "authorization_code"), ("code", &code), ("client_id", "testing-app"), ("client_secret", "s3"), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)]).json();
    let rt = t["refresh_token"].as_str().expect("refresh token").to_string();
    let refresh = || c.form("/token", &[("grant_type", "refresh_token"), ("refresh_token", &rt), ("client_id", "testing-app"), ("client_secret", "s3")]);
    a.post("/__admin/clock/advance", &json!({"days": 6}));
    assert_eq!(refresh().status, 200, "still valid on day 6");
    a.post("/__admin/clock/advance", &json!({"days": 1, "seconds": 1}));
    let r = refresh();
    assert_eq!((r.status, r.json()["error_description"].as_str()), (400, Some("Token has been expired or revoked.")));
}

#[test]
fn access_token_expires_after_an_hour_of_emulator_time() {
    let emu = start_demo();
    let c = api(&emu);
    assert_eq!(c.get("/v1/people/me/connections?personFields=names").status, 200);
    admin(&emu).post("/__admin/clock/advance", &json!({"seconds": 3600}));
    let r = c.get("/v1/people/me/connections?personFields=names");
    assert_eq!(r.status, 401);
    assert_eq!(r.error_status(), "UNAUTHENTICATED");
    assert!(r.header("WWW-Authenticate").is_some());
}

#[test]
fn missing_token_is_401_and_readonly_scope_cannot_write() {
    let emu = start_demo();
    let anon = Client::new(emu.url());
    let r = anon.get("/v1/people/me/connections?personFields=names");
    assert_eq!((r.status, r.error_status()), (401, "UNAUTHENTICATED".to_string()));
    let t = tokens(emu.url(), READONLY, false);
    let ro = Client::with_token(emu.url(), t["access_token"].as_str().unwrap_or(""));
    assert_eq!(ro.get("/v1/people/me/connections?personFields=names").status, 200);
    let r = ro.post("/v1/people:createContact", &new_person("Ro", "ro@example.com"));
    assert_eq!((r.status, r.error_status()), (403, "PERMISSION_DENIED".to_string()));
    assert_eq!(r.json()["error"]["details"][0]["reason"], "ACCESS_TOKEN_SCOPE_INSUFFICIENT");
}

/// Reads the consent form the way a browser would: every `<input>` and the chosen button.
fn form_fields(html: &str, decision: &str) -> Vec<(String, String)> {
    let unescape = |s: &str| s.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    let attr = |tag: &str, name: &str| {
        let key = format!("{name}=\"");
        tag.find(&key).map(|i| {
            let rest = &tag[i + key.len()..];
            unescape(&rest[..rest.find('"').unwrap_or(rest.len())])
        })
    };
    let mut out = Vec::new();
    for piece in html.split("<input").skip(1) {
        let tag = &piece[..piece.find('>').unwrap_or(piece.len())];
        if let (Some(n), Some(v)) = (attr(tag, "name"), attr(tag, "value")) {
            out.push((n, v));
        }
    }
    out.push(("decision".into(), decision.into()));
    out
}

#[test]
fn the_consent_form_round_trips_state_and_pkce_exactly_as_a_browser_submits_it() {
    let emu = start_demo();
    let c = Client::new(emu.url());
    let state = "a&b=\"c\"<d> é";
    let page = c.get(&format!(
        "/o/oauth2/v2/auth?client_id={}&redirect_uri={}&response_type=code&scope={}&state={}&access_type=offline&prompt=consent&code_challenge={}&code_challenge_method=S256",
        enc(CLIENT_ID), enc("http://localhost:5173/oauth/callback?x=1"), enc(&format!("{CONTACTS} email")), enc(state), challenge(VERIFIER)
    ));
    assert_eq!(page.status, 200, "{}", page.body);
    let fields = form_fields(&page.body, "allow");
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = c.form("/o/oauth2/v2/auth/consent", &pairs);
    assert_eq!(r.status, 302, "{}", r.body);
    let loc = r.header("Location").unwrap_or("").to_string();
    assert!(loc.starts_with("http://localhost:5173/oauth/callback?x=1&"), "{loc}");
    let p = location_params(&loc);
    assert_eq!(param(&p, "state").as_deref(), Some(state));
    let code = param(&p, "code").expect("code");
    let t = c.form("/token", &[("grant_type", "authorization_code"), ("code", &code), ("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET), ("redirect_uri", "http://localhost:5173/oauth/callback?x=1"), ("code_verifier", VERIFIER)]);
    assert_eq!(t.status, 200, "{}", t.body);
    assert!(t.json()["scope"].as_str().unwrap_or("").contains("userinfo.email"));
}

#[test]
fn a_second_offline_consent_gets_a_refresh_token_only_with_prompt_consent() {
    let emu = start_demo();
    let first = tokens(emu.url(), CONTACTS, true);
    assert!(first["refresh_token"].as_str().is_some());
    let again = tokens(emu.url(), CONTACTS, true);
    assert!(again.get("refresh_token").is_none(), "already granted: Google sends no new refresh token");
    let c = Client::new(emu.url());
    let r = c.form(
        "/o/oauth2/v2/auth/consent",
        &[("client_id", CLIENT_ID), ("redirect_uri", REDIRECT), ("response_type", "code"), ("scope", CONTACTS), ("access_type", "offline"),
          ("prompt", "consent"), ("account", DEMO), ("decision", "allow")],
    );
    let code = param(&location_params(r.header("Location").unwrap_or("")), "code").expect("code");
    let t = c.form("/token", &[("grant_type", "authorization_code"), ("code", &code), ("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET), ("redirect_uri", REDIRECT)]);
    assert_eq!(t.status, 200, "{}", t.body);
    assert!(t.json()["refresh_token"].as_str().is_some(), "prompt=consent forces a new one");
}
