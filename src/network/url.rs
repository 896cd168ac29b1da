//! Absolute `http:`/`https:` URLs parsed strictly, with hosts read the way WHATWG URL
//! parsing (browsers, Node, the shim) reads them, so that an origin the core computes is the
//! origin the shim compares: `https://Dav.Example.com:443` is `https://dav.example.com`,
//! `http://2130706433/` and `http://0x7f.1/` are `http://127.0.0.1`, `[::ffff:127.0.0.1]` is
//! `[::ffff:7f00:1]`.
//!
//! Stricter than WHATWG where it tolerates ambiguity: a user name or password, a backslash,
//! a control character or a space, a percent-encoded or non-ASCII host are refused rather
//! than rewritten (two parsers could read them as two different hosts).
//!
//! ```
//! use contact_sync::network::url::HttpUrl;
//! let url = HttpUrl::parse("HTTPS://Dav.Example.com:443/dav/").unwrap();
//! assert_eq!(url.origin(), "https://dav.example.com");
//! assert_eq!(url.join("/remote.php/dav/").unwrap().to_string(), "https://dav.example.com/remote.php/dav/");
//! ```

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a text is not a usable http(s) URL. The reasons never repeat the URL (it may carry a
/// password or a code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlProblem {
    /// Not `http://` or `https://` followed by a host.
    NotHttp,
    /// A backslash, a control character (CR, LF, tab…) or a space.
    Ambiguous,
    /// A user name or password before the host (`https://user:pass@host`).
    UserInfo,
    /// An empty, percent-encoded or malformed host, or a malformed IP address.
    BadHost,
    /// A host with non-ASCII letters (an internationalised name).
    NonAsciiHost,
    /// A port that is not a number up to 65535.
    BadPort,
}

impl UrlProblem {
    /// A sentence for people, e.g. in a settings reason.
    pub fn reason(self) -> &'static str {
        match self {
            UrlProblem::NotHttp => "must be a full address starting with https:// (or http:// in development)",
            UrlProblem::Ambiguous => "must not contain spaces, backslashes or control characters",
            UrlProblem::UserInfo => "must not contain a user name or password (enter them in their own fields)",
            UrlProblem::BadHost => "has no valid server name or IP address",
            UrlProblem::NonAsciiHost => "has a server name with non-ASCII letters: enter its ASCII form (xn--…)",
            UrlProblem::BadPort => "has a port that is not a number from 0 to 65535",
        }
    }
}

impl fmt::Display for UrlProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

/// The host of a URL, as WHATWG URL parsing reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A DNS name, lower case (a trailing dot kept, as browsers keep it).
    Domain(String),
    /// An IPv4 address, whichever way it was spelt (`127.1`, `0x7f.1`, `2130706433`).
    Ipv4(Ipv4Addr),
    /// An IPv6 address (written in brackets).
    Ipv6(Ipv6Addr),
}

impl fmt::Display for Host {
    /// As WHATWG serialises it: `dav.example.com`, `127.0.0.1`, `[::ffff:7f00:1]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(name) => f.write_str(name),
            Host::Ipv4(ip) => write!(f, "{ip}"),
            Host::Ipv6(ip) => write!(f, "[{}]", ipv6_text(ip)),
        }
    }
}

/// An absolute http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    https: bool,
    host: Host,
    /// None for the scheme's default port.
    port: Option<u16>,
    /// Path and query, starting with `/`; the fragment is dropped (never sent).
    rest: String,
}

impl HttpUrl {
    /// Parses an absolute http(s) URL (scheme in any case, default port dropped).
    pub fn parse(text: &str) -> Result<HttpUrl, UrlProblem> {
        if text.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\') {
            return Err(UrlProblem::Ambiguous);
        }
        let (scheme, after) = text.split_once("://").ok_or(UrlProblem::NotHttp)?;
        let https = if scheme.eq_ignore_ascii_case("https") {
            true
        } else if scheme.eq_ignore_ascii_case("http") {
            false
        } else {
            return Err(UrlProblem::NotHttp);
        };
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let (authority, rest) = after.split_at(end);
        if authority.contains('@') {
            return Err(UrlProblem::UserInfo);
        }
        let (host, port) = split_host_port(authority)?;
        let default_port = if https { 443 } else { 80 };
        let rest = rest.split('#').next().unwrap_or_default();
        let rest = if rest.starts_with('/') { rest.to_string() } else { format!("/{rest}") };
        Ok(HttpUrl { https, host: parse_host(host)?, port: port.filter(|p| *p != default_port), rest })
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &'static str {
        if self.https { "https" } else { "http" }
    }

    /// The host.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The explicit port, None for the scheme's default.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// `host[:port]`, what people read in an account label (`dav.example.com:8443`).
    pub fn authority(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.host),
            None => self.host.to_string(),
        }
    }

    /// `scheme://host[:port]`, as the shim's `URL.origin` spells it.
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme(), self.authority())
    }

    /// Resolves a reference (a `Location` header, an href) against this URL: absolute,
    /// scheme-relative (`//host/x`), absolute path, query or relative path; `.` and `..`
    /// segments removed.
    pub fn join(&self, reference: &str) -> Result<HttpUrl, UrlProblem> {
        if reference.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\') {
            return Err(UrlProblem::Ambiguous);
        }
        if has_scheme(reference) {
            return HttpUrl::parse(reference);
        }
        if let Some(after) = reference.strip_prefix("//") {
            return HttpUrl::parse(&format!("{}://{after}", self.scheme()));
        }
        let reference = reference.split('#').next().unwrap_or_default();
        let path_end = self.rest.find('?').unwrap_or(self.rest.len());
        let (base_path, _) = self.rest.split_at(path_end);
        let rest = if reference.is_empty() {
            self.rest.clone()
        } else if reference.starts_with('?') {
            format!("{base_path}{reference}")
        } else {
            let (path, query) = reference.split_at(reference.find('?').unwrap_or(reference.len()));
            let merged = if path.starts_with('/') {
                path.to_string()
            } else {
                let dir = base_path.rfind('/').map_or("/", |i| base_path.get(..=i).unwrap_or("/"));
                format!("{dir}{path}")
            };
            format!("{}{query}", remove_dot_segments(&merged))
        };
        Ok(HttpUrl { https: self.https, host: self.host.clone(), port: self.port, rest })
    }
}

impl fmt::Display for HttpUrl {
    /// The href: `scheme://host[:port]/path?query`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.origin(), self.rest)
    }
}

/// Whether a reference starts with `scheme:` (RFC 3986: a letter, then letters, digits,
/// `+`, `-` or `.`), which makes it absolute: `https:evil.example` is not a relative path.
fn has_scheme(reference: &str) -> bool {
    let Some((scheme, _)) = reference.split_once(':') else { return false };
    let mut bytes = scheme.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic()) && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

fn split_host_port(authority: &str) -> Result<(&str, Option<u16>), UrlProblem> {
    let (host, port) = if authority.starts_with('[') {
        let close = authority.find(']').ok_or(UrlProblem::BadHost)?;
        let (host, after) = authority.split_at(close + 1);
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':').ok_or(UrlProblem::BadHost)?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        // `https://host:/` is the default port to WHATWG.
        None | Some("") => None,
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => Some(p.parse::<u16>().map_err(|_| UrlProblem::BadPort)?),
        Some(_) => return Err(UrlProblem::BadPort),
    };
    Ok((host, port))
}

fn parse_host(host: &str) -> Result<Host, UrlProblem> {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<Ipv6Addr>().map(Host::Ipv6).map_err(|_| UrlProblem::BadHost);
    }
    if host.is_empty() || host.contains('%') {
        return Err(UrlProblem::BadHost);
    }
    if !host.is_ascii() {
        return Err(UrlProblem::NonAsciiHost);
    }
    if !host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')) {
        return Err(UrlProblem::BadHost);
    }
    if ends_in_a_number(host) {
        return parse_ipv4(host).map(Host::Ipv4).ok_or(UrlProblem::BadHost);
    }
    Ok(Host::Domain(host.to_ascii_lowercase()))
}

/// WHATWG's "ends in a number": the last label (a trailing dot ignored) is decimal digits
/// or `0x` hex, so the whole host is read as an IPv4 address.
fn ends_in_a_number(host: &str) -> bool {
    let host = host.strip_suffix('.').filter(|h| !h.is_empty()).unwrap_or(host);
    let last = host.rsplit('.').next().unwrap_or_default();
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    ipv4_number(last).is_some()
}

/// One part of a WHATWG IPv4 address: decimal, `0x` hex or `0`-prefixed octal.
fn ipv4_number(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) = if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
        (hex, 16)
    } else if part.len() > 1 && part.starts_with('0') {
        (part.get(1..).unwrap_or_default(), 8)
    } else {
        (part, 10)
    };
    if digits.is_empty() {
        return Some(0);
    }
    // Longer than any valid part: refuse rather than overflow.
    if digits.len() > 32 {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// WHATWG's IPv4 parser: up to four parts, the last one filling the remaining bytes
/// (`127.1` is 127.0.0.1, `2130706433` too).
fn parse_ipv4(host: &str) -> Option<Ipv4Addr> {
    let host = host.strip_suffix('.').filter(|h| !h.is_empty()).unwrap_or(host);
    let parts: Vec<u64> = host.split('.').map(ipv4_number).collect::<Option<_>>()?;
    let (last, first) = parts.split_last()?;
    if parts.len() > 4 || first.iter().any(|p| *p > 255) || *last >= 256u64.pow(5 - parts.len() as u32) {
        return None;
    }
    let value = first.iter().enumerate().fold(*last, |acc, (i, p)| acc + p * 256u64.pow(3 - i as u32));
    u32::try_from(value).ok().map(Ipv4Addr::from)
}

/// IPv6 as WHATWG writes it: lower-case hex pieces, the first longest run of two or more
/// zero pieces as `::`, never a dotted IPv4 tail.
fn ipv6_text(ip: &Ipv6Addr) -> String {
    let pieces = ip.segments();
    let mut best: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < pieces.len() {
        let run = pieces.iter().skip(i).take_while(|p| **p == 0).count();
        if run >= 2 && best.is_none_or(|(_, len)| run > len) {
            best = Some((i, run));
        }
        i += run.max(1);
    }
    let hex = |range: &[u16]| range.iter().map(|p| format!("{p:x}")).collect::<Vec<_>>().join(":");
    match best {
        Some((start, len)) => {
            let head = pieces.get(..start).map(hex).unwrap_or_default();
            let tail = pieces.get(start + len..).map(hex).unwrap_or_default();
            format!("{head}::{tail}")
        }
        None => hex(&pieces),
    }
}

/// RFC 3986 section 5.2.4 on a path starting with `/`.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    for (n, segment) in segments.iter().enumerate() {
        let last = n + 1 == segments.len();
        match *segment {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(text: &str) -> String {
        HttpUrl::parse(text).map(|u| u.origin()).unwrap_or_else(|p| format!("{p:?}"))
    }

    #[test]
    fn origins_are_spelt_as_whatwg_url_spells_them() {
        assert_eq!(origin("HTTPS://Dav.Example.COM:443/dav/"), "https://dav.example.com");
        assert_eq!(origin("http://dav.example.com:80"), "http://dav.example.com");
        assert_eq!(origin("http://dav.example.com:443/"), "http://dav.example.com:443");
        assert_eq!(origin("https://dav.example.com:/x"), "https://dav.example.com");
        assert_eq!(origin("https://dav.example.com.:8443?x"), "https://dav.example.com.:8443");
        assert_eq!(origin("http://[::1]:5232/"), "http://[::1]:5232");
        assert_eq!(origin("http://[0:0:0:0:0:0:0:1]/"), "http://[::1]");
        assert_eq!(origin("http://[::FFFF:127.0.0.1]/"), "http://[::ffff:7f00:1]");
        assert_eq!(origin("http://[2001:db8:0:0:1:0:0:1]/"), "http://[2001:db8::1:0:0:1]");
        assert_eq!(origin("http://[fe80:0:0:1:0:0:0:0]/"), "http://[fe80:0:0:1::]");
        assert_eq!(origin("http://[fe80::1:0:0:0]/"), "http://[fe80::1:0:0:0]");
    }

    #[test]
    fn ipv4_spellings_are_read_as_their_address() {
        for spelling in ["127.0.0.1", "2130706433", "0x7f.1", "0x7F000001", "0177.0.0.1", "127.1", "127.0.1", "0x7f.0.0.1", "127.0.0.1.", "0177.0x0.00.1"] {
            assert_eq!(origin(&format!("http://{spelling}/")), "http://127.0.0.1", "{spelling}");
        }
        assert_eq!(origin("http://0/"), "http://0.0.0.0");
        assert_eq!(origin("http://0x/"), "http://0.0.0.0");
        for bad in ["256.0.0.1", "1.2.3.4.5", "127.0.0.09", "0x1g.1", "4294967296", "1.2.65536", "999999999999999999999999999999999999"] {
            assert_eq!(origin(&format!("http://{bad}/")), "BadHost", "{bad}");
        }
        // A last label that is not a number is a DNS name.
        assert_eq!(origin("http://127.0.0.1.nip.example/"), "http://127.0.0.1.nip.example");
    }

    #[test]
    fn ambiguous_and_foreign_urls_are_refused() {
        assert_eq!(origin("https://alice:s3cret@dav.example.com/"), "UserInfo");
        assert_eq!(origin("http://127.0.0.1:1@evil.example/"), "UserInfo");
        assert_eq!(origin("https://dav.example.com\\@evil.example/"), "Ambiguous");
        assert_eq!(origin("https://dav.example.com/a\r\nb"), "Ambiguous");
        assert_eq!(origin("https://dav.example.com/a b"), "Ambiguous");
        assert_eq!(origin(" https://dav.example.com/"), "Ambiguous");
        assert_eq!(origin("https://dav.example.com/\u{0}"), "Ambiguous");
        assert_eq!(origin("ftp://dav.example.com/"), "NotHttp");
        assert_eq!(origin("https:dav.example.com"), "NotHttp");
        assert_eq!(origin("dav.example.com"), "NotHttp");
        assert_eq!(origin("https://"), "BadHost");
        assert_eq!(origin("https://%31%32%37.0.0.1/"), "BadHost");
        assert_eq!(origin("https://dav.exämple.com/"), "NonAsciiHost");
        assert_eq!(origin("https://dav.example.com:99999/"), "BadPort");
        assert_eq!(origin("https://dav.example.com:8o/"), "BadPort");
        assert_eq!(origin("https://[::1/"), "BadHost");
        assert_eq!(origin("https://[::g]/"), "BadHost");
        assert_eq!(origin("https://[::1]x/"), "BadHost");
        assert_eq!(origin("https://a<b/"), "BadHost");
    }

    #[test]
    fn references_resolve_like_a_browser_resolves_them() {
        let base = HttpUrl::parse("https://dav.example.com/dav/ada/book/?x=1#f").unwrap();
        let join = |r: &str| base.join(r).map(|u| u.to_string()).unwrap_or_else(|p| format!("{p:?}"));
        assert_eq!(base.to_string(), "https://dav.example.com/dav/ada/book/?x=1");
        assert_eq!(join("/remote.php/dav/"), "https://dav.example.com/remote.php/dav/");
        assert_eq!(join("card.vcf"), "https://dav.example.com/dav/ada/book/card.vcf");
        assert_eq!(join("../other/"), "https://dav.example.com/dav/ada/other/");
        assert_eq!(join("../../../../x"), "https://dav.example.com/x");
        assert_eq!(join("./"), "https://dav.example.com/dav/ada/book/");
        assert_eq!(join("?page=2"), "https://dav.example.com/dav/ada/book/?page=2");
        assert_eq!(join(""), "https://dav.example.com/dav/ada/book/?x=1");
        assert_eq!(join("#top"), "https://dav.example.com/dav/ada/book/?x=1");
        assert_eq!(join("//evil.example/x"), "https://evil.example/x");
        assert_eq!(join("http://evil.example:8080/x"), "http://evil.example:8080/x");
        assert_eq!(join("/\\evil.example/"), "Ambiguous");
        assert_eq!(join("a/b?c=d://e"), "https://dav.example.com/dav/ada/book/a/b?c=d://e");
        assert_eq!(join("javascript://x"), "NotHttp");
        assert_eq!(join("https:evil.example"), "NotHttp");
        assert_eq!(join("mailto:ada@example.com"), "NotHttp");
    }
}
