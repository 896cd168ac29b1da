//! `application/x-www-form-urlencoded` and query-string encoding, shared by the providers.
//! Written here rather than pulled in as a crate: a dozen lines, and every byte of the
//! wasm build counts.

/// Percent-encodes everything except RFC 3986 unreserved characters, so a value is safe
/// in a query string, a form body and a path segment alike.
///
/// ```
/// assert_eq!(contact_sync::providers::form::encode("a b/c"), "a%20b%2Fc");
/// ```
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte))
            }
            other => {
                out.push('%');
                out.push(hex_digit(other >> 4));
                out.push(hex_digit(other & 0x0f));
            }
        }
    }
    out
}

fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble), 16)
        .map(|c| c.to_ascii_uppercase())
        .unwrap_or('0')
}

/// Joins pairs into `k=v&k=v`, encoding both sides.
pub fn encode_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    pairs
        .into_iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Decodes one component (`+` as space, `%XX`). Malformed escapes are kept literally
/// instead of failing: the caller validates the decoded value anyway.
pub fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|c| char::from(*c).to_digit(16));
                let lo = bytes.get(i + 2).and_then(|c| char::from(*c).to_digit(16));
                match (hi, lo) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses `k=v&k=v` (a query string or a form body) into decoded pairs, in order.
pub fn decode_pairs(input: &str) -> Vec<(String, String)> {
    input
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| match part.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(part), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_reserved_and_unicode_characters() {
        let raw = "personFields=names,emailAddresses & é/+";
        assert_eq!(decode(&encode(raw)), raw);
        assert!(!encode(raw).contains(','));
    }

    #[test]
    fn decoding_keeps_malformed_escapes_literally() {
        assert_eq!(decode("100%zz"), "100%zz");
        assert_eq!(decode("a+b%2"), "a b%2");
    }

    #[test]
    fn pairs_parse_in_order_with_empty_values() {
        let pairs = decode_pairs("code=abc&state=x%2Fy&flag");
        assert_eq!(
            pairs,
            vec![
                ("code".into(), "abc".into()),
                ("state".into(), "x/y".into()),
                ("flag".into(), String::new())
            ]
        );
    }
}
