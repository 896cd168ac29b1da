//! Shared by the Google tests and the benchmark: the emulator started in-process, its
//! admin API, a blocking native fetch for the host, a host on the real clock, and the
//! OAuth consent page clicked through by plain HTTP.
#![allow(dead_code)]

use std::io::Read;
use std::time::{Duration, Instant};

use contact_sync::crm::{CrmContact, CrmFieldSchema, CrmList, CrmPage, CrmPatch, CrmUser, NewCrmContact};
use contact_sync::error::{ErrorCode, PluginError, PluginResult};
use contact_sync::host::{Host, HttpRequest, HttpResponse, LogLevel, MemoryHost, NotifyLevel, OAuthGrant};
use contact_sync::providers::form;
use contact_sync::providers::google::auth::{GoogleAuth, GoogleEndpoints};
use devserver::google::{EmulatorConfig, GoogleEmulator};
use serde_json::{json, Map, Value};

pub const CLIENT_ID: &str = "contact-sync-test.apps.googleusercontent.com";
pub const CLIENT_SECRET: &str = "GOCSPX-test-client-secret";
pub const ACCOUNT: &str = "ada@example.com";
pub const REDIRECT: &str = "http://127.0.0.1:9/host/oauth-callback.html";

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// One blocking HTTP exchange; transport failures read as NETWORK, like the shim's fetch.
pub fn http(request: &HttpRequest) -> PluginResult<HttpResponse> {
    let mut builder = ureq::http::Request::builder().method(request.method.as_str()).uri(request.url.as_str());
    for (k, v) in &request.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let built = builder
        .body(request.body.clone().unwrap_or_default())
        .map_err(|e| PluginError::new(ErrorCode::BadInput, e.to_string()))?;
    let mut response = agent().run(built).map_err(|e| PluginError::new(ErrorCode::Network, e.to_string()))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let mut body = String::new();
    response
        .body_mut()
        .as_reader()
        .read_to_string(&mut body)
        .map_err(|e| PluginError::new(ErrorCode::Network, e.to_string()))?;
    Ok(HttpResponse { status, headers, body })
}

/// The emulator and its admin API.
pub struct Emu {
    pub server: GoogleEmulator,
}

impl Emu {
    /// An empty emulator with our OAuth client and one account.
    pub fn start(config: EmulatorConfig) -> Emu {
        let server = devserver::google::start(0, config).expect("emulator starts");
        let emu = Emu { server };
        emu.admin("POST", "/clients", json!({"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET, "name": "Contact sync"}));
        emu.admin("POST", "/accounts", json!({"email": ACCOUNT, "displayName": "Ada"}));
        emu
    }

    pub fn url(&self) -> String {
        self.server.url().to_string()
    }

    pub fn endpoints(&self) -> GoogleEndpoints {
        let base = self.url();
        GoogleEndpoints {
            auth: format!("{base}/o/oauth2/v2/auth"),
            token: format!("{base}/token"),
            api: base.clone(),
            revoke: Some(format!("{base}/revoke")),
        }
    }

    pub fn auth(&self, spoke_id: &str) -> GoogleAuth {
        GoogleAuth::new(spoke_id, CLIENT_ID, self.endpoints())
    }

    /// Calls the admin API; panics on a non-2xx answer (a broken test setup).
    pub fn admin(&self, method: &str, path: &str, body: Value) -> Value {
        let mut headers = std::collections::BTreeMap::new();
        headers.insert("content-type".to_string(), "application/json".to_string());
        let response = http(&HttpRequest {
            method: method.into(),
            url: format!("{}/__admin{path}", self.url()),
            headers,
            body: Some(body.to_string()),
            ..HttpRequest::default()
        })
        .expect("admin call");
        assert!((200..300).contains(&response.status), "admin {method} {path}: {} {}", response.status, response.body);
        serde_json::from_str(&response.body).unwrap_or(Value::Null)
    }

    /// Seeds contacts (People API JSON) into the account.
    pub fn seed(&self, contacts: Vec<Value>) {
        for chunk in contacts.chunks(500) {
            self.admin("POST", &format!("/accounts/{ACCOUNT}/contacts"), json!({"contacts": chunk}));
        }
    }

    /// The account's live contacts as the API renders them.
    pub fn contacts(&self) -> Vec<Value> {
        let v = self.admin("GET", &format!("/accounts/{ACCOUNT}/contacts"), Value::Null);
        let list = v.get("contacts").cloned().or_else(|| v.as_array().map(|a| Value::Array(a.clone()))).unwrap_or(Value::Null);
        list.as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|c| !c.pointer("/emulator/deleted").and_then(Value::as_bool).unwrap_or(false))
            .collect()
    }

    /// The request log, one JSON object per API request.
    pub fn log(&self) -> Vec<Value> {
        let response = http(&HttpRequest {
            method: "GET".into(),
            url: format!("{}/__admin/log", self.url()),
            ..HttpRequest::default()
        })
        .expect("log");
        response.body.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    pub fn clear_log(&self) {
        self.admin("DELETE", "/log", Value::Null);
    }

    /// Clicks through the consent page (see [`consent_via`]).
    pub fn consent(&self, url: &str, allow: bool) -> PluginResult<String> {
        consent_via(&self.url(), url, allow)
    }
}

/// A MemoryHost whose fetch reaches the emulator, whose clock is real and whose sleep
/// really waits: quotas measured by the emulator in real time then bind.
pub struct RealHost {
    pub inner: MemoryHost,
    start: Instant,
    epoch_ms: f64,
    pub slept_ms: std::cell::Cell<f64>,
}

impl RealHost {
    pub fn new(emu: &Emu, allow_consent: bool) -> RealHost {
        let inner = MemoryHost::new();
        inner.set_fetch(http);
        let url = emu.url();
        inner.set_auth_window(move |consent_url, _redirect| {
            let emu_url = url.clone();
            consent_via(&emu_url, consent_url, allow_consent)
        });
        let epoch_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as f64)
            .unwrap_or(0.0);
        RealHost { inner, start: Instant::now(), epoch_ms, slept_ms: std::cell::Cell::new(0.0) }
    }
}

/// GETs the consent page (it must render), POSTs the decision as the browser form would,
/// and returns the redirect's Location.
pub fn consent_via(emu_url: &str, url: &str, allow: bool) -> PluginResult<String> {
    let page = http(&HttpRequest { method: "GET".into(), url: url.to_string(), ..HttpRequest::default() })?;
    if page.status != 200 {
        return Err(PluginError::new(ErrorCode::AuthDenied, format!("consent page answered {}", page.status)));
    }
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    let mut pairs = form::decode_pairs(query);
    pairs.push(("account".into(), ACCOUNT.into()));
    pairs.push(("decision".into(), if allow { "allow" } else { "deny" }.into()));
    let body = form::encode_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut headers = std::collections::BTreeMap::new();
    headers.insert("content-type".to_string(), "application/x-www-form-urlencoded".to_string());
    let answer = http(&HttpRequest {
        method: "POST".into(),
        url: format!("{emu_url}/o/oauth2/v2/auth/consent"),
        headers,
        body: Some(body),
        ..HttpRequest::default()
    })?;
    answer
        .headers
        .get("location")
        .cloned()
        .ok_or_else(|| PluginError::new(ErrorCode::AuthDenied, format!("consent answered {} without a redirect", answer.status)))
}

impl Host for RealHost {
    async fn storage_get(&self, keys: &[String]) -> PluginResult<Map<String, Value>> {
        self.inner.storage_get(keys).await
    }
    async fn storage_write(&self, put: &Map<String, Value>, delete: &[String]) -> PluginResult<()> {
        self.inner.storage_write(put, delete).await
    }
    async fn storage_compare_and_set(&self, key: &str, expected: Option<&Value>, value: Option<&Value>) -> PluginResult<bool> {
        self.inner.storage_compare_and_set(key, expected, value).await
    }
    async fn storage_list(&self, prefix: &str) -> PluginResult<Vec<String>> {
        self.inner.storage_list(prefix).await
    }
    async fn secret_get(&self, name: &str) -> PluginResult<Option<String>> {
        self.inner.secret_get(name).await
    }
    async fn secret_set(&self, name: &str, value: &str) -> PluginResult<()> {
        self.inner.secret_set(name, value).await
    }
    async fn secret_delete(&self, name: &str) -> PluginResult<()> {
        self.inner.secret_delete(name).await
    }
    async fn crm_list_changes(&self, cursor: Option<&str>, limit: u32) -> PluginResult<CrmPage> {
        self.inner.crm_list_changes(cursor, limit).await
    }
    async fn crm_get(&self, ids: &[String]) -> PluginResult<Vec<CrmContact>> {
        self.inner.crm_get(ids).await
    }
    async fn crm_create(&self, contact: &NewCrmContact) -> PluginResult<CrmContact> {
        self.inner.crm_create(contact).await
    }
    async fn crm_update(&self, id: &str, expected_version: u64, patch: &CrmPatch) -> PluginResult<CrmContact> {
        self.inner.crm_update(id, expected_version, patch).await
    }
    async fn crm_delete(&self, id: &str, expected_version: u64) -> PluginResult<()> {
        self.inner.crm_delete(id, expected_version).await
    }
    async fn crm_lists(&self) -> PluginResult<Vec<CrmList>> {
        self.inner.crm_lists().await
    }
    async fn crm_create_list(&self, name: &str) -> PluginResult<CrmList> {
        self.inner.crm_create_list(name).await
    }
    async fn crm_tags(&self) -> PluginResult<Vec<String>> {
        self.inner.crm_tags().await
    }
    async fn crm_field_schema(&self) -> PluginResult<Vec<CrmFieldSchema>> {
        self.inner.crm_field_schema().await
    }
    async fn crm_users(&self) -> PluginResult<Vec<CrmUser>> {
        self.inner.crm_users().await
    }
    async fn crm_current_user(&self) -> PluginResult<CrmUser> {
        self.inner.crm_current_user().await
    }
    fn locale(&self) -> String {
        self.inner.locale()
    }
    async fn fetch(&self, request: &HttpRequest) -> PluginResult<HttpResponse> {
        self.inner.fetch(request).await
    }
    fn has_oauth_broker(&self) -> bool {
        self.inner.has_oauth_broker()
    }
    async fn oauth_authorize(&self, provider: &str, scopes: &[String]) -> PluginResult<OAuthGrant> {
        self.inner.oauth_authorize(provider, scopes).await
    }
    async fn oauth_refresh(&self, provider: &str, refresh_token: &str) -> PluginResult<OAuthGrant> {
        self.inner.oauth_refresh(provider, refresh_token).await
    }
    fn notify(&self, level: NotifyLevel, message: &str) {
        self.inner.notify(level, message)
    }
    async fn open_auth_window(&self, url: &str, redirect_uri: &str) -> PluginResult<String> {
        self.inner.open_auth_window(url, redirect_uri).await
    }
    fn log(&self, level: LogLevel, message: &str, fields: &Map<String, Value>) {
        self.inner.log(level, message, fields)
    }
    fn now_ms(&self) -> f64 {
        self.epoch_ms + self.start.elapsed().as_secs_f64() * 1000.0
    }
    async fn sleep(&self, ms: u32) {
        self.slept_ms.set(self.slept_ms.get() + f64::from(ms));
        std::thread::sleep(Duration::from_millis(u64::from(ms)));
    }
    fn random_bytes(&self, len: usize) -> PluginResult<Vec<u8>> {
        self.inner.random_bytes(len)
    }
}

/// A host connected to `emu` as spoke `g1` with our OAuth client (consent given).
pub fn connected(emu: &Emu) -> RealHost {
    let host = RealHost::new(emu, true);
    let auth = emu.auth("g1");
    pollster::block_on(host.secret_set(&auth.secrets.client_secret, CLIENT_SECRET)).expect("client secret stored");
    pollster::block_on(auth.connect(&host, REDIRECT)).expect("connect");
    host
}

/// A People API person as seeded JSON.
pub fn person(given: &str, family: &str, email: &str, phone: Option<&str>) -> Value {
    let mut p = json!({
        "names": [{"givenName": given, "familyName": family}],
        "emailAddresses": [{"value": email, "type": "work"}],
    });
    if let Some(phone) = phone {
        p["phoneNumbers"] = json!([{"value": phone, "type": "mobile"}]);
    }
    p
}
