//! The little URL arithmetic CardDAV needs: hrefs in answers are usually absolute paths
//! on the server's origin, sometimes full URLs, rarely relative; card names must be safe
//! path segments.

/// `scheme://host[:port]` of an absolute http(s) URL, or None.
pub fn origin(url: &str) -> Option<&str> {
    let rest_at = url.find("://")? + 3;
    let scheme = url.get(..rest_at - 3)?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let after = url.get(rest_at..)?;
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    if end == 0 {
        return None;
    }
    url.get(..rest_at + end)
}

/// The path part of an absolute URL ("/" when empty).
pub fn path(url: &str) -> &str {
    match origin(url) {
        Some(o) => match url.get(o.len()..) {
            Some("") | None => "/",
            Some(p) => p,
        },
        None => url,
    }
}

/// Resolves `href` (absolute URL, absolute path or relative path) against `base`.
pub fn resolve(base: &str, href: &str) -> Option<String> {
    if origin(href).is_some() {
        return Some(href.to_string());
    }
    let o = origin(base)?;
    if href.starts_with('/') {
        return Some(format!("{o}{href}"));
    }
    let base_path = path(base);
    let dir = match base_path.rfind('/') {
        Some(i) => base_path.get(..=i).unwrap_or("/"),
        None => "/",
    };
    Some(format!("{o}{dir}{href}"))
}

/// Ensures a collection URL ends with one slash.
pub fn as_collection(url: &str) -> String {
    if url.ends_with('/') { url.to_string() } else { format!("{url}/") }
}

/// Two hrefs/URLs naming the same resource (origin ignored, percent-decoding and a
/// trailing slash ignored).
pub fn same_resource(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        let p = percent_decode(path(s));
        p.trim_end_matches('/').to_string()
    };
    norm(a) == norm(b)
}

/// Percent-decodes a path (invalid escapes are kept as they are).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes.get(i).copied().unwrap_or(0);
        if b == b'%' {
            let hex = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A safe file name for a new card from its UID: unreserved characters kept, others
/// percent-encoded, `.vcf` appended.
pub fn card_name(uid: &str) -> String {
    let mut out = String::with_capacity(uid.len() + 4);
    for b in uid.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.push_str(".vcf");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_resolve_against_the_server_origin() {
        assert_eq!(origin("http://127.0.0.1:5232/u/"), Some("http://127.0.0.1:5232"));
        assert_eq!(origin("ftp://x/"), None);
        assert_eq!(resolve("http://h:1/a/b/", "/c/d.vcf").unwrap(), "http://h:1/c/d.vcf");
        assert_eq!(resolve("http://h:1/a/b/", "d.vcf").unwrap(), "http://h:1/a/b/d.vcf");
        assert_eq!(resolve("http://h:1/a/b/", "https://o/x").unwrap(), "https://o/x");
        assert_eq!(path("http://h:1"), "/");
    }

    #[test]
    fn same_resource_ignores_encoding_and_trailing_slash() {
        assert!(same_resource("http://h/u/book/", "/u/book"));
        assert!(same_resource("/u/a%40b.vcf", "/u/a@b.vcf"));
        assert!(!same_resource("/u/a.vcf", "/u/b.vcf"));
    }

    #[test]
    fn card_names_are_safe_path_segments() {
        assert_eq!(card_name("abc-1"), "abc-1.vcf");
        assert_eq!(card_name("a/b c"), "a%2Fb%20c.vcf");
    }
}
