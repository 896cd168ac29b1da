#![cfg(not(target_arch = "wasm32"))]
//! The Google spoke's I/O edge against a scripted stand-in for Google inside MemoryHost:
//! OAuth connect with PKCE and state, token refresh on 401 (once), invalid_grant stops
//! without a retry loop, Retry-After honoured, dead sync tokens reported as such, stale
//! etags read as conflicts, batch deletes with missing contacts, and no token ever in a
//! URL, a log line, storage or an error message.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use contact_sync::engine::model::{Contact, Email, Name, RemoteRecord};
use contact_sync::error::{ErrorCode, PluginResult};
use contact_sync::host::{Host, HttpRequest, HttpResponse, MemoryHost};
use contact_sync::providers::form;
use contact_sync::providers::google::auth::{GoogleAuth, GoogleEndpoints};
use contact_sync::providers::google::client::GoogleSpoke;
use contact_sync::providers::google::pacing::Quota;
use contact_sync::providers::{ItemResult, ListError, NewRemote, PageNext, Provider};
use pollster::block_on;
use sha2::{Digest, Sha256};

const ACCESS: &str = "ya29.ACCESS-TOKEN-SECRET";
const FRESH: &str = "ya29.FRESH-TOKEN-SECRET";
const REFRESH: &str = "1//REFRESH-TOKEN-SECRET";
const CLIENT_SECRET: &str = "GOCSPX-CLIENT-SECRET";

fn endpoints() -> GoogleEndpoints {
    GoogleEndpoints {
        auth: "http://127.0.0.1:1/o/oauth2/v2/auth".into(),
        token: "http://127.0.0.1:1/token".into(),
        api: "http://127.0.0.1:1".into(),
        revoke: Some("http://127.0.0.1:1/revoke".into()),
    }
}

fn json(status: u16, body: &str) -> PluginResult<HttpResponse> {
    Ok(HttpResponse { status, headers: Default::default(), body: body.to_string() })
}

/// A canned answer: status, headers, body.
type Canned = (u16, Vec<(String, String)>, String);

/// Answers queued per path prefix; every request is recorded.
#[derive(Default)]
struct FakeGoogle {
    answers: Vec<(String, VecDeque<Canned>)>,
    seen: Vec<HttpRequest>,
}

impl FakeGoogle {
    fn answer(&mut self, prefix: &str, status: u16, headers: &[(&str, &str)], body: &str) {
        let headers = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        match self.answers.iter_mut().find(|(p, _)| p == prefix) {
            Some((_, q)) => q.push_back((status, headers, body.to_string())),
            None => self.answers.push((prefix.to_string(), VecDeque::from([(status, headers, body.to_string())]))),
        }
    }

    fn count(&self, prefix: &str) -> usize {
        self.seen.iter().filter(|r| r.url.starts_with(&format!("http://127.0.0.1:1{prefix}"))).count()
    }
}

fn install(host: &MemoryHost) -> Rc<RefCell<FakeGoogle>> {
    let fake = Rc::new(RefCell::new(FakeGoogle::default()));
    let inner = fake.clone();
    host.set_fetch(move |req| {
        let mut g = inner.borrow_mut();
        g.seen.push(req.clone());
        let path = req.url.trim_start_matches("http://127.0.0.1:1").to_string();
        let slot = g.answers.iter_mut().filter(|(p, _)| path.starts_with(p.as_str())).max_by_key(|(p, _)| p.len());
        match slot.and_then(|(_, q)| q.pop_front()) {
            Some((status, headers, body)) => Ok(HttpResponse {
                status,
                headers: headers.into_iter().map(|(k, v)| (k.to_lowercase(), v)).collect(),
                body,
            }),
            None => json(500, r#"{"error":{"code":500,"status":"INTERNAL","message":"no scripted answer"}}"#),
        }
    });
    fake
}

fn connected_host() -> (MemoryHost, GoogleAuth) {
    let host = MemoryHost::new();
    let auth = GoogleAuth::new("g1", "client-1", endpoints());
    let access = format!(r#"{{"token":"{ACCESS}","expiresAt":{}}}"#, host.now_ms() + 3_600_000.0);
    block_on(host.secret_set(&auth.secrets.access_token, &access)).unwrap();
    block_on(host.secret_set(&auth.secrets.refresh_token, REFRESH)).unwrap();
    block_on(host.secret_set(&auth.secrets.client_secret, CLIENT_SECRET)).unwrap();
    (host, auth)
}

const EMPTY_PAGE: &str = r#"{"connections":[],"nextSyncToken":"sync-1"}"#;

fn assert_no_secret_leaks(host: &MemoryHost, fake: &FakeGoogle, errors: &[String]) {
    let secrets = [ACCESS, FRESH, REFRESH, CLIENT_SECRET];
    let storage = serde_json::to_string(&host.storage_snapshot()).unwrap();
    let logs = format!("{:?}", host.logs());
    for s in secrets {
        assert!(!storage.contains(s), "a secret in storage");
        assert!(!logs.contains(s), "a secret in the logs");
        for r in &fake.seen {
            assert!(!r.url.contains(s), "a secret in a URL: {}", r.url);
        }
        for e in errors {
            assert!(!e.contains(s), "a secret in an error: {e}");
        }
    }
}

#[test]
fn connect_runs_the_pkce_code_flow_and_keeps_tokens_only_in_secrets() {
    let host = MemoryHost::new();
    let auth = GoogleAuth::new("g1", "client-1", endpoints());
    block_on(host.secret_set(&auth.secrets.client_secret, CLIENT_SECRET)).unwrap();
    let challenge = Rc::new(RefCell::new(String::new()));
    let seen_challenge = challenge.clone();
    host.set_auth_window(move |url, redirect| {
        let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
        let pairs = form::decode_pairs(query);
        let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).unwrap_or_default();
        assert_eq!(get("access_type"), "offline");
        assert_eq!(get("code_challenge_method"), "S256");
        *seen_challenge.borrow_mut() = get("code_challenge");
        Ok(format!("{redirect}?code=auth-code-1&state={}", get("state")))
    });
    let fake = install(&host);
    fake.borrow_mut().answer(
        "/token",
        200,
        &[],
        &format!(r#"{{"access_token":"{ACCESS}","refresh_token":"{REFRESH}","expires_in":3599}}"#),
    );
    block_on(auth.connect(&host, "http://127.0.0.1:2/host/oauth-callback.html")).unwrap();

    let g = fake.borrow();
    let token_request = g.seen.iter().find(|r| r.url.ends_with("/token")).unwrap();
    let body = form::decode_pairs(token_request.body.as_deref().unwrap());
    let get = |k: &str| body.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).unwrap_or_default();
    assert_eq!(get("code"), "auth-code-1");
    assert_eq!(get("client_secret"), CLIENT_SECRET);
    let verifier = get("code_verifier");
    assert_eq!(URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())), *challenge.borrow());
    let secrets = host.secrets_snapshot();
    assert_eq!(secrets.get(&auth.secrets.refresh_token).map(String::as_str), Some(REFRESH));
    assert!(block_on(auth.access_token(&host, false)).unwrap() == ACCESS);
    assert_no_secret_leaks(&host, &g, &[]);
}

#[test]
fn a_forged_redirect_state_is_refused_before_any_token_request() {
    let host = MemoryHost::new();
    let auth = GoogleAuth::new("g1", "client-1", endpoints());
    host.set_auth_window(|_, redirect| Ok(format!("{redirect}?code=c&state=forged")));
    let fake = install(&host);
    let err = block_on(auth.connect(&host, "http://127.0.0.1:2/cb")).unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthDenied);
    assert_eq!(fake.borrow().count("/token"), 0);
}

#[test]
fn consent_denied_is_auth_denied() {
    let host = MemoryHost::new();
    let auth = GoogleAuth::new("g1", "client-1", endpoints());
    host.set_auth_window(|_, redirect| Ok(format!("{redirect}?error=access_denied")));
    install(&host);
    assert_eq!(block_on(auth.connect(&host, "http://127.0.0.1:2/cb")).unwrap_err().code, ErrorCode::AuthDenied);
}

#[test]
fn a_refused_access_token_is_refreshed_once_and_the_request_retried() {
    let (host, auth) = connected_host();
    let fake = install(&host);
    {
        let mut g = fake.borrow_mut();
        g.answer("/v1/people/me/connections", 401, &[], r#"{"error":{"code":401,"status":"UNAUTHENTICATED"}}"#);
        g.answer("/token", 200, &[], &format!(r#"{{"access_token":"{FRESH}","expires_in":3599}}"#));
        g.answer("/v1/people/me/connections", 200, &[], EMPTY_PAGE);
    }
    let mut spoke = GoogleSpoke::new(&host, auth, Quota::default());
    let page = block_on(spoke.list_page(None, None)).unwrap();
    assert_eq!(page.next, PageNext::Done("sync-1".into()));
    let g = fake.borrow();
    assert_eq!(g.count("/token"), 1);
    let last = g.seen.last().unwrap();
    assert_eq!(last.headers.get("authorization").map(String::as_str), Some(&*format!("Bearer {FRESH}")));
    assert_no_secret_leaks(&host, &g, &[]);
}

#[test]
fn a_second_401_after_refreshing_stops_instead_of_looping() {
    let (host, auth) = connected_host();
    let fake = install(&host);
    {
        let mut g = fake.borrow_mut();
        for _ in 0..5 {
            g.answer("/v1/people/me/connections", 401, &[], r#"{"error":{"code":401,"status":"UNAUTHENTICATED"}}"#);
            g.answer("/token", 200, &[], &format!(r#"{{"access_token":"{FRESH}","expires_in":3599}}"#));
        }
    }
    let mut spoke = GoogleSpoke::new(&host, auth, Quota::default());
    let err = match block_on(spoke.list_page(None, None)) {
        Err(ListError::Failed(e)) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(err.code, "AUTH_EXPIRED");
    assert_eq!(fake.borrow().count("/token"), 1);
    assert_eq!(fake.borrow().count("/v1/"), 2);
}

#[test]
fn invalid_grant_is_auth_expired_once_and_never_retried() {
    let (host, auth) = connected_host();
    let fake = install(&host);
    host.advance(4_000_000.0); // the access token has expired
    for _ in 0..3 {
        fake.borrow_mut().answer(
            "/token",
            400,
            &[],
            r#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#,
        );
    }
    let mut spoke = GoogleSpoke::new(&host, auth.clone(), Quota::default());
    let first = match block_on(spoke.list_page(None, None)) {
        Err(ListError::Failed(e)) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(first.code, "AUTH_EXPIRED");
    assert!(first.remedy.to_lowercase().contains("reconnect the google account"));
    assert!(!first.retryable);
    let again = match block_on(spoke.list_page(None, None)) {
        Err(ListError::Failed(e)) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(again.code, "NOT_CONNECTED");
    assert_eq!(fake.borrow().count("/token"), 1, "the dead grant is not tried again");
    assert_eq!(fake.borrow().count("/v1/"), 0);
    assert!(!block_on(auth.is_connected(&host)).unwrap());
    assert_no_secret_leaks(&host, &fake.borrow(), &[first.message, again.message]);
}

/// The error of a listing that must fail.
fn listing_failure(spoke: &mut GoogleSpoke<'_, MemoryHost>) -> contact_sync::providers::ProviderError {
    match block_on(spoke.list_page(None, None)) {
        Err(ListError::Failed(e)) => e,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_redirect_on_googles_origin_is_followed_with_the_token() {
    let (host, auth) = connected_host();
    let fake = install(&host);
    {
        let mut g = fake.borrow_mut();
        g.answer("/v1/people/me/connections", 307, &[("Location", "/v1/moved/connections?personFields=names")], "");
        g.answer("/v1/moved/connections", 200, &[], EMPTY_PAGE);
    }
    let mut spoke = GoogleSpoke::new(&host, auth, Quota::default());
    let page = block_on(spoke.list_page(None, None)).unwrap();
    assert_eq!(page.next, PageNext::Done("sync-1".into()));
    let g = fake.borrow();
    let last = g.seen.last().unwrap();
    assert_eq!(last.url, "http://127.0.0.1:1/v1/moved/connections?personFields=names");
    assert_eq!(last.method, "GET");
    assert_eq!(last.headers.get("authorization").map(String::as_str), Some(&*format!("Bearer {ACCESS}")));
}

#[test]
fn a_redirect_to_another_origin_is_refused_naming_it_and_neither_token_is_sent_there() {
    let (host, auth) = connected_host();
    let fake = install(&host);
    fake.borrow_mut().answer("/v1/people/me/connections", 307, &[("Location", "https://evil.example/collect?x=1")], "");
    let mut spoke = GoogleSpoke::new(&host, auth.clone(), Quota::default());
    let err = listing_failure(&mut spoke);
    assert_eq!(err.code, "NOT_ALLOWED_HOST", "{err:?}");
    assert!(err.message.contains("https://evil.example"), "the target is named: {}", err.message);
    assert!(!err.retryable);
    // The token endpoint redirecting elsewhere must not carry the refresh token there either.
    host.advance(4_000_000.0);
    fake.borrow_mut().answer("/token", 308, &[("Location", "https://evil.example/token")], "");
    let err = listing_failure(&mut spoke);
    assert_eq!(err.code, "NOT_ALLOWED_HOST", "{err:?}");
    let g = fake.borrow();
    assert!(g.seen.iter().all(|r| r.url.starts_with("http://127.0.0.1:1/")), "a request left Google's origin: {:?}", g.seen.iter().map(|r| &r.url).collect::<Vec<_>>());
    assert_no_secret_leaks(&host, &g, std::slice::from_ref(&err.message));
}

#[test]
fn a_redirect_loop_and_a_long_chain_stop_with_bad_response() {
    let (host, auth) = connected_host();
    let fake = install(&host);
    {
        let mut g = fake.borrow_mut();
        g.answer("/v1/people/me/connections", 302, &[("Location", "/v1/x")], "");
        g.answer("/v1/x", 302, &[("Location", "http://127.0.0.1:1/v1/y")], "");
        g.answer("/v1/y", 302, &[("Location", "x")], "");
    }
    let mut spoke = GoogleSpoke::new(&host, auth, Quota::default());
    let looped = listing_failure(&mut spoke);
    assert_eq!(looped.code, "BAD_RESPONSE", "{looped:?}");
    assert!(looped.message.contains("loop"), "{}", looped.message);
    assert_eq!(fake.borrow().seen.len(), 3, "nothing sent twice");
    {
        let mut g = fake.borrow_mut();
        g.seen.clear();
        g.answers.clear();
        for n in 0..20 {
            g.answer(&format!("/hop{n}/"), 302, &[("Location", &format!("/hop{}/", n + 1))], "");
        }
        g.answer("/v1/people/me/connections", 302, &[("Location", "/hop0/")], "");
    }
    let long = listing_failure(&mut spoke);
    assert_eq!(long.code, "BAD_RESPONSE", "{long:?}");
    assert!(fake.borrow().seen.len() <= 6, "a small cap: {} requests", fake.borrow().seen.len());
}

#[test]
fn rate_limit_waits_for_retry_after_then_continues() {
    let (host, auth) = connected_host();
    let fake = install(&host);
    {
        let mut g = fake.borrow_mut();
        g.answer(
            "/v1/people/me/connections",
            429,
            &[("Retry-After", "7")],
            r#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"reason":"RATE_LIMIT_EXCEEDED"}]}}"#,
        );
        g.answer("/v1/people/me/connections", 200, &[], EMPTY_PAGE);
    }
    let start = host.now_ms();
    let mut spoke = GoogleSpoke::new(&host, auth, Quota::default());
    block_on(spoke.list_page(None, None)).unwrap();
    assert!(host.now_ms() - start >= 7_000.0, "waited {} ms", host.now_ms() - start);
    assert_eq!(spoke.stats().rate_limited, 1);
}

#[test]
fn server_errors_back_off_and_retry() {
    let (host, auth) = connected_host();
    let fake = install(&host);
    {
        let mut g = fake.borrow_mut();
        g.answer("/v1/people/me/connections", 503, &[], "<html>unavailable</html>");
        g.answer("/v1/people/me/connections", 200, &[], r#"{"connections":[{"resourceName":"#);
        g.answer("/v1/people/me/connections", 200, &[], EMPTY_PAGE);
    }
    let mut spoke = GoogleSpoke::new(&host, auth, Quota::default());
    // The 503 is retried; the truncated body is a retryable bad response for the caller.
    match block_on(spoke.list_page(None, None)) {
        Err(ListError::Failed(e)) => assert!(e.code == "BAD_RESPONSE" && e.retryable),
        other => panic!("{other:?}"),
    }
    assert!(block_on(spoke.list_page(None, None)).is_ok());
    assert_eq!(spoke.stats().retries, 1);
}

#[test]
fn an_expired_sync_token_is_a_dead_cursor_not_a_failure() {
    let (host, auth) = connected_host();
    let fake = install(&host);
    fake.borrow_mut().answer(
        "/v1/people/me/connections",
        400,
        &[],
        r#"{"error":{"code":400,"message":"Sync token is expired. Clear local cache and retry call without the sync token.","status":"FAILED_PRECONDITION","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"EXPIRED_SYNC_TOKEN","domain":"people.googleapis.com"}]}}"#,
    );
    let mut spoke = GoogleSpoke::new(&host, auth, Quota::default());
    assert_eq!(block_on(spoke.list_page(Some("old"), None)).unwrap_err(), ListError::CursorDead);
    assert_eq!(fake.borrow().count("/v1/"), 1, "a dead token is not resent");
}

#[test]
fn every_page_of_a_listing_repeats_its_parameters_and_tombstones_come_back_deleted() {
    let (host, auth) = connected_host();
    let fake = install(&host);
    {
        let mut g = fake.borrow_mut();
        g.answer(
            "/v1/people/me/connections",
            200,
            &[],
            r#"{"connections":[{"resourceName":"people/c1","etag":"e1","names":[{"givenName":"Ada"}]}],"nextPageToken":"p2"}"#,
        );
        g.answer(
            "/v1/people/me/connections",
            200,
            &[],
            r#"{"connections":[{"resourceName":"people/c2","etag":"e2","metadata":{"deleted":true}}],"nextSyncToken":"s2"}"#,
        );
    }
    let mut spoke = GoogleSpoke::new(&host, auth, Quota::default());
    let first = block_on(spoke.list_page(Some("s1"), None)).unwrap();
    let PageNext::More(token) = first.next else { panic!() };
    let second = block_on(spoke.list_page(Some("s1"), Some(&token))).unwrap();
    assert!(second.records[0].deleted);
    assert_eq!(second.next, PageNext::Done("s2".into()));
    let g = fake.borrow();
    let q = |i: usize| {
        let mut pairs = form::decode_pairs(g.seen[i].url.split_once('?').unwrap().1);
        pairs.retain(|(k, _)| k != "pageToken");
        pairs
    };
    assert_eq!(q(0), q(1));
}

fn record(id: &str, etag: &str) -> RemoteRecord {
    RemoteRecord {
        id: id.into(),
        etag: etag.into(),
        contact: Contact {
            name: Name { given: "Ada".into(), ..Default::default() },
            emails: vec![Email { value: "ada@example.org".into(), ..Default::default() }],
            ..Default::default()
        },
        crm_id: Some("crm-1".into()),
        ..Default::default()
    }
}

#[test]
fn an_update_computed_against_an_old_etag_is_a_conflict_without_writing() {
    let (host, auth) = connected_host();
    let fake = install(&host);
    fake.borrow_mut().answer(
        "/v1/people:batchGet",
        200,
        &[],
        r#"{"responses":[{"requestedResourceName":"people/c1","httpStatusCode":200,"person":{"resourceName":"people/c1","etag":"NEW"}}]}"#,
    );
    let mut spoke = GoogleSpoke::new(&host, auth, Quota::default());
    let results = block_on(spoke.update(&[record("people/c1", "OLD")])).unwrap();
    assert_eq!(results, vec![ItemResult::Conflict]);
    assert_eq!(fake.borrow().count("/v1/people:batchUpdateContacts"), 0);
}

#[test]
fn a_stale_etag_answer_from_google_is_a_conflict() {
    let (host, auth) = connected_host();
    let fake = install(&host);
    {
        let mut g = fake.borrow_mut();
        g.answer(
            "/v1/people:batchGet",
            200,
            &[],
            r#"{"responses":[{"requestedResourceName":"people/c1","httpStatusCode":200,"person":{"resourceName":"people/c1","etag":"E1","memberships":[{"contactGroupMembership":{"contactGroupResourceName":"contactGroups/myContacts"}}]}}]}"#,
        );
        g.answer(
            "/v1/people:batchUpdateContacts",
            200,
            &[],
            r#"{"updateResult":{"people/c1":{"httpStatusCode":400,"status":{"code":9,"message":"Request person.etag is different than the current person.etag."}}}}"#,
        );
    }
    let mut spoke = GoogleSpoke::new(&host, auth, Quota::default());
    let results = block_on(spoke.update(&[record("people/c1", "E1")])).unwrap();
    assert_eq!(results, vec![ItemResult::Conflict]);
    let g = fake.borrow();
    let update = g.seen.iter().find(|r| r.url.contains("batchUpdateContacts")).unwrap();
    let body: serde_json::Value = serde_json::from_str(update.body.as_deref().unwrap()).unwrap();
    let person = &body["contacts"]["people/c1"];
    assert_eq!(person["etag"], "E1");
    assert_eq!(person["memberships"][0]["contactGroupMembership"]["contactGroupResourceName"], "contactGroups/myContacts");
    assert_eq!(person["clientData"][0]["key"], "contactSync.crmId");
}

#[test]
fn creates_carry_the_crm_id_and_come_back_with_googles_ids() {
    let (host, auth) = connected_host();
    let fake = install(&host);
    fake.borrow_mut().answer(
        "/v1/people:batchCreateContacts",
        200,
        &[],
        r#"{"createdPeople":[{"httpStatusCode":200,"person":{"resourceName":"people/c77","etag":"e","clientData":[{"key":"contactSync.crmId","value":"crm-1"}]}}]}"#,
    );
    let mut spoke = GoogleSpoke::new(&host, auth, Quota::default());
    let item = NewRemote { crm_id: "crm-1".into(), contact: record("", "").contact };
    let results = block_on(spoke.create(&[item])).unwrap();
    match &results[0] {
        ItemResult::Done(r) => assert_eq!((r.id.as_str(), r.crm_id.as_deref()), ("people/c77", Some("crm-1"))),
        other => panic!("{other:?}"),
    }
    let g = fake.borrow();
    let body: serde_json::Value = serde_json::from_str(g.seen[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(body["contacts"][0]["contactPerson"]["clientData"][0]["value"], "crm-1");
}

#[test]
fn a_batch_delete_with_a_missing_contact_settles_each_item() {
    let (host, auth) = connected_host();
    let fake = install(&host);
    {
        let mut g = fake.borrow_mut();
        g.answer("/v1/people:batchDeleteContacts", 404, &[], r#"{"error":{"code":404,"status":"NOT_FOUND","message":"Requested entity was not found."}}"#);
        g.answer("/v1/people/c1:deleteContact", 200, &[], "{}");
        g.answer("/v1/people/c2:deleteContact", 404, &[], r#"{"error":{"code":404,"status":"NOT_FOUND"}}"#);
    }
    let mut spoke = GoogleSpoke::new(&host, auth, Quota::default());
    let results = block_on(spoke.delete(&["people/c1".into(), "people/c2".into()])).unwrap();
    assert_eq!(results, vec![ItemResult::Gone, ItemResult::Gone]);
}

#[test]
fn pacing_spaces_batch_writes_to_the_quota_without_429() {
    let (host, auth) = connected_host();
    let fake = install(&host);
    let created = r#"{"createdPeople":[{"httpStatusCode":200,"person":{"resourceName":"people/cX","etag":"e"}}]}"#;
    for _ in 0..11 {
        fake.borrow_mut().answer("/v1/people:batchCreateContacts", 200, &[], created);
    }
    let mut spoke = GoogleSpoke::new(&host, auth, Quota::default().with_window(1_000.0));
    let start = host.now_ms();
    for _ in 0..11 {
        let item = NewRemote { crm_id: "crm".into(), contact: Contact::default() };
        block_on(spoke.create(&[item])).unwrap();
    }
    // 30 write units per window and 6 per batch: 11 batches need two full windows.
    let elapsed = host.now_ms() - start;
    assert!((2_000.0..2_200.0).contains(&elapsed), "elapsed {elapsed}");
}
