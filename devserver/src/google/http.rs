//! A small request/response model, independent of the HTTP server library, so handlers are
//! plain functions that tests and the fault injector can reason about.

use serde_json::Value;

/// An HTTP request as the emulator sees it: the path is percent-decoded per segment later,
/// the query is kept as ordered pairs because Google's repeated parameters are repeated keys.
#[derive(Debug, Clone, Default)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub raw_query: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    /// The value of a header (case-insensitive name), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The last value of a query parameter.
    pub fn query_one(&self, name: &str) -> Option<&str> {
        self.query.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// All values of a (repeated) query parameter, in order.
    pub fn query_all(&self, name: &str) -> Vec<&str> {
        self.query.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }
}

/// An HTTP response before it is written to the socket.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    /// A JSON response with Google's content type.
    pub fn json(status: u16, value: &Value) -> Resp {
        let body = serde_json::to_vec_pretty(value).unwrap_or_else(|_| b"{}".to_vec());
        Resp {
            status,
            headers: vec![("Content-Type".into(), "application/json; charset=UTF-8".into())],
            body,
        }
    }

    /// A JSON response without indentation (`prettyPrint=false`).
    pub fn json_compact(status: u16, value: &Value) -> Resp {
        let mut r = Resp::json(status, value);
        r.body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
        r
    }

    /// An HTML page.
    pub fn html(status: u16, body: String) -> Resp {
        Resp {
            status,
            headers: vec![
                ("Content-Type".into(), "text/html; charset=utf-8".into()),
                (
                    "Content-Security-Policy".into(),
                    "default-src 'none'; style-src 'self'; img-src 'self'".into(),
                ),
                ("X-Frame-Options".into(), "DENY".into()),
            ],
            body: body.into_bytes(),
        }
    }

    /// A plain-text or other typed body.
    pub fn typed(status: u16, content_type: &str, body: Vec<u8>) -> Resp {
        Resp { status, headers: vec![("Content-Type".into(), content_type.into())], body }
    }

    /// A 302 redirect.
    pub fn redirect(location: &str) -> Resp {
        Resp {
            status: 302,
            headers: vec![("Location".into(), location.into()), ("Cache-Control".into(), "no-store".into())],
            body: Vec::new(),
        }
    }

    /// Adds or replaces a header.
    pub fn set_header(&mut self, name: &str, value: &str) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value.to_string()));
    }

    /// The value of a header, if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Percent-decodes a URL component; `plus_as_space` for form bodies and query strings.
/// Invalid escapes are kept literally rather than rejected (browsers do the same).
pub fn percent_decode(s: &str, plus_as_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes.get(i) {
            Some(b'%') => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            Some(b'+') if plus_as_space => {
                out.push(b' ');
                i += 1;
            }
            Some(&b) => {
                out.push(b);
                i += 1;
            }
            None => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a URL component (unreserved characters kept).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Parses `a=1&b=2` (query strings and form bodies).
pub fn parse_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k, true), percent_decode(v, true)),
            None => (percent_decode(p, true), String::new()),
        })
        .collect()
}

/// Builds `a=1&b=2` with encoding.
pub fn encode_form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Escapes text for HTML.
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
