//! CORS for loopback origins, so the plugin on a page served from another loopback port can
//! call the emulator (preflights included). Other origins get no CORS headers.

use super::http::{Req, Resp};

/// Whether an Origin is `http://127.0.0.1[:port]`, `http://localhost[:port]` or `http://[::1][:port]`.
pub fn is_loopback_origin(origin: &str) -> bool {
    let Some(rest) = origin.strip_prefix("http://") else { return false };
    let host_port = rest;
    let (host, port) = if let Some(r) = host_port.strip_prefix("[::1]") {
        ("[::1]", r)
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) => (h, p),
            None => (host_port, ""),
        }
    };
    let port = port.strip_prefix(':').unwrap_or(port);
    matches!(host, "127.0.0.1" | "localhost" | "[::1]") && port.bytes().all(|b| b.is_ascii_digit()) && port.len() <= 5
}

const ALLOWED_METHODS: &str = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
const ALLOWED_HEADERS: &[&str] = &["authorization", "content-type", "x-goog-api-client", "x-goog-request-params", "x-requested-with"];

/// Adds CORS response headers when the request comes from a loopback origin.
pub fn decorate(req: &Req, resp: &mut Resp) {
    if let Some(origin) = req.header("Origin").filter(|o| is_loopback_origin(o)) {
        resp.set_header("Access-Control-Allow-Origin", origin);
        resp.set_header("Vary", "Origin");
        resp.set_header("Access-Control-Expose-Headers", "Retry-After, Content-Type, WWW-Authenticate");
    }
}

/// Answers an OPTIONS preflight.
pub fn preflight(req: &Req) -> Resp {
    let origin = req.header("Origin").filter(|o| is_loopback_origin(o));
    let method_ok = req
        .header("Access-Control-Request-Method")
        .is_none_or(|m| ALLOWED_METHODS.split(", ").any(|a| a.eq_ignore_ascii_case(m.trim())));
    let headers_ok = req
        .header("Access-Control-Request-Headers")
        .is_none_or(|h| h.split(',').map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()).all(|s| ALLOWED_HEADERS.contains(&s.as_str())));
    match origin {
        Some(o) if method_ok && headers_ok => {
            let mut r = Resp::typed(204, "text/plain", Vec::new());
            r.set_header("Access-Control-Allow-Origin", o);
            r.set_header("Access-Control-Allow-Methods", ALLOWED_METHODS);
            r.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Goog-Api-Client, X-Goog-Request-Params, X-Requested-With");
            r.set_header("Access-Control-Max-Age", "3600");
            r.set_header("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
            r
        }
        _ => Resp::typed(403, "text/plain", b"CORS preflight refused: origin, method or headers not allowed".to_vec()),
    }
}
