//! A strict local emulator of Google's OAuth 2.0 and People API v1, on 127.0.0.1 only.
//!
//! Every People API request is checked against Google's discovery document (method, path,
//! parameters, body fields), answered with Google's error envelope, metered against per-user
//! quotas, and logged. An admin API under `/__admin/` seeds data, edits contacts as a user
//! would, injects faults and moves the clock.
//!
//! ```no_run
//! let emu = devserver::google::start(0, devserver::google::EmulatorConfig::demo()).unwrap();
//! println!("Google emulator at {}", emu.url());
//! // dropped at the end of scope: the server stops.
//! ```

pub mod admin;
pub mod api;
pub mod clock;
pub mod config;
pub mod concurrency;
pub mod connections;
pub mod cors;
pub mod discovery;
pub mod error;
pub mod faults;
pub mod groups;
pub mod http;
pub mod oauth;
pub mod people;
pub mod person;
pub mod photos;
pub mod quota;
pub mod random;
pub mod request_log;
pub mod seed;
pub mod state;

pub use config::{EmulatorConfig, QuotaConfig, Seed};

use faults::FaultKind;
use http::{Req, Resp};
use serde_json::Value;
use state::State;
use crate::http_server::{self, HttpRequest, HttpServer, Reply};
use std::sync::{Arc, Mutex, MutexGuard};

/// State shared by the worker threads.
pub struct Shared {
    state: Mutex<State>,
    pub clock: clock::Clock,
    log: Mutex<Vec<Value>>,
    inflight: concurrency::InFlight,
}

impl Shared {
    /// The account e-mail an access token belongs to, if the token is live.
    pub fn user_of_token(&self, token: &str) -> Option<String> {
        let st = self.lock();
        let grant = st.access_tokens.get(token)?.grant;
        st.grants.get(&grant).filter(|g| !g.revoked).map(|g| g.email.clone())
    }

    /// Locks the state; a panicked holder does not make the emulator unusable.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running emulator. Dropping it stops the server.
pub struct GoogleEmulator {
    url: String,
    port: u16,
    server: HttpServer,
    shared: Arc<Shared>,
}

impl GoogleEmulator {
    /// Base URL, e.g. `http://127.0.0.1:43123` (no trailing slash). OAuth, token, revoke,
    /// People API (`/v1/...`) and admin (`/__admin/...`) all live on this origin.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Direct access to the shared state (for in-process tests and tools).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Stops the server (also done on drop).
    pub fn stop(&mut self) {
        self.server.stop()
    }
}

/// Starts the emulator on `127.0.0.1:port` (0 picks a free port).
pub fn start(port: u16, config: EmulatorConfig) -> Result<GoogleEmulator, String> {
    let shared = Arc::new(Shared {
        state: Mutex::new(State::new(config.clone())),
        clock: clock::Clock::default(),
        log: Mutex::new(Vec::new()),
        inflight: concurrency::InFlight::default(),
    });
    admin::reset(&shared, config);
    let handler_shared = shared.clone();
    let server = http_server::start(port, "google-emu", move |rq| serve_one(&handler_shared, rq))?;
    let port = server.port();
    Ok(GoogleEmulator { url: format!("http://127.0.0.1:{port}"), port, server, shared })
}

fn to_req(rq: HttpRequest) -> Req {
    let (path, raw_query) = match rq.target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (rq.target.clone(), String::new()),
    };
    Req { method: rq.method, query: http::parse_form(&raw_query), raw_query, path, headers: rq.headers, body: rq.body }
}

fn respond(resp: Resp) -> Reply {
    Reply::Response { status: resp.status, headers: resp.headers, body: resp.body }
}

/// Routes a request that is not an admin request.
fn route(sh: &Shared, req: &Req) -> Resp {
    match (req.method.as_str(), req.path.as_str()) {
        ("OPTIONS", _) => cors::preflight(req),
        ("GET", "/o/oauth2/v2/auth") | ("GET", "/o/oauth2/auth") => oauth::authorize_page(sh, req),
        ("POST", "/o/oauth2/v2/auth/consent") => oauth::consent(sh, req),
        ("GET", "/favicon.ico") => Resp::typed(204, "image/x-icon", Vec::new()),
        ("GET", "/o/oauth2/consent.css") => Resp::typed(200, "text/css; charset=utf-8", oauth::CONSENT_CSS.as_bytes().to_vec()),
        (_, "/token") => oauth::token_endpoint(sh, req),
        ("POST", "/revoke") | ("POST", "/o/oauth2/revoke") => oauth::revoke(sh, req),
        (_, p) if p.starts_with("/v1/") => api::handle(sh, req),
        (_, p) if p.starts_with("/__photos/") => photos::serve(&sh.lock(), req),
        _ => error::ApiError::new(404, "NOT_FOUND", format!("The requested URL {} was not found on this server.", req.path)).into_resp(),
    }
}

fn serve_one(sh: &Shared, rq: HttpRequest) -> Reply {
    let start_ms = clock::real_now_ms();
    let req = to_req(rq);
    if req.path.starts_with("/__admin/") || req.path == "/__admin" {
        let mut resp = admin::handle(sh, &req);
        cors::decorate(&req, &mut resp);
        if req.method == "OPTIONS" {
            resp = cors::preflight(&req);
        }
        return respond(resp);
    }
    let fault = if req.method == "OPTIONS" {
        None
    } else {
        let mut st = sh.lock();
        let st = &mut *st;
        let rng = &mut st.rng;
        faults::pick(&mut st.faults, &req.method, &req.path, || rng.unit())
    };
    let log_body = request_log::redact_body(&req.body, req.header("Content-Type"));
    // A People API write for a known user is tracked while in flight (latency included).
    let is_mutation = req.path.starts_with("/v1/") && !matches!(req.method.as_str(), "GET" | "OPTIONS" | "HEAD");
    let writer = if is_mutation { api::bearer(&req).and_then(|t| sh.user_of_token(&t)) } else { None };
    let (guard, concurrent) = match &writer {
        Some(user) => {
            let (g, c) = sh.inflight.enter(user);
            (Some(g), c)
        }
        None => (None, false),
    };
    if concurrent && sh.lock().config.reject_concurrent_mutations {
        let mut resp = error::ApiError::new(409, "ABORTED", "Concurrent mutations for the same user: send mutate requests for one user sequentially.").into_resp();
        drop(guard);
        cors::decorate(&req, &mut resp);
        log_line(sh, &req, log_body, resp.status, start_ms, None, true);
        return respond(resp);
    }
    let fault_name = fault.as_ref().map(|f| match f {
        FaultKind::Status { status } => format!("status:{status}"),
        FaultKind::Latency { ms } => format!("latency:{ms}"),
        FaultKind::Drop => "drop".into(),
        FaultKind::Malformed => "malformed".into(),
        FaultKind::Truncated => "truncated".into(),
    });
    let mut resp = match &fault {
        Some(FaultKind::Status { status }) => {
            let st = error::status_for_http(*status);
            let msg = match status {
                429 => "Resource has been exhausted (e.g. check quota).",
                503 => "The service is currently unavailable.",
                500 => "Internal error encountered.",
                _ => "Injected fault.",
            };
            let mut e = error::ApiError::new(*status, st, msg);
            if *status == 429 {
                e = e.with_reason("RATE_LIMIT_EXCEEDED", "googleapis.com", serde_json::json!({"service": "people.googleapis.com"}));
                e.headers.push(("Retry-After".into(), "1".into()));
            }
            e.into_resp()
        }
        Some(FaultKind::Drop) => {
            drop(guard);
            log_line(sh, &req, log_body, 0, start_ms, fault_name.as_deref(), concurrent);
            // A bare close on a reused socket is retried by browsers, which would hide the
            // fault; a response head every client must refuse (two different Content-Lengths)
            // fails browsers' fetch and native clients alike with a network error, at once.
            return Reply::Raw(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 1\r\n\r\n".to_vec());
        }
        Some(FaultKind::Latency { ms }) => {
            std::thread::sleep(std::time::Duration::from_millis(*ms));
            route(sh, &req)
        }
        _ => route(sh, &req),
    };
    match &fault {
        Some(FaultKind::Malformed) => {
            resp.body = b"{\"connections\": [{\"resourceName\": \"people/c1\",, <html>".to_vec();
        }
        Some(FaultKind::Truncated) => {
            let half = resp.body.len() / 2;
            resp.body.truncate(half);
        }
        _ => {}
    }
    cors::decorate(&req, &mut resp);
    // Out of flight before the client can read the answer and send its next write.
    drop(guard);
    log_line(sh, &req, log_body, resp.status, start_ms, fault_name.as_deref(), concurrent);
    respond(resp)
}

fn log_line(sh: &Shared, req: &Req, body: Value, status: u16, start_ms: i64, fault: Option<&str>, concurrent: bool) {
    let mut line = request_log::entry(&req.method, &req.path, &req.raw_query, body, status, start_ms, clock::real_now_ms(), fault);
    if concurrent {
        line["concurrentMutation"] = Value::Bool(true);
    }
    sh.log.lock().unwrap_or_else(|e| e.into_inner()).push(line);
}
