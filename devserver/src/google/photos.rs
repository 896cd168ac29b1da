//! Contact photos: the bytes `updateContactPhoto` (or the admin API) stored, checked as
//! JPEG or PNG, and served back from the emulator's own origin under `/__photos/<token>`.
//!
//! Google hands out `https://lh3.googleusercontent.com/...` URLs that a client downloads
//! without a bearer token. The emulator cannot serve that host, so when the request that
//! stored the photo reached it on a loopback address, the URL points at that address
//! instead (the dev allowlist admits it); otherwise it keeps Google's host.

use super::error::{ApiError, ApiResult};
use super::http::{Req, Resp};
use super::random::token;
use super::state::{Account, State};
use base64::Engine;

/// Google's limit for a contact photo upload is not documented; the emulator refuses
/// uploads above this size, as Google refuses very large images.
pub const MAX_PHOTO_BYTES: usize = 5 * 1024 * 1024;

/// A stored photo.
#[derive(Debug, Clone)]
pub struct StoredPhoto {
    /// The URL the API renders (unique per upload).
    pub url: String,
    /// The image bytes.
    pub bytes: Vec<u8>,
    /// `image/jpeg` or `image/png`.
    pub mime: &'static str,
}

/// The image type of `bytes` by its signature: JPEG or PNG, nothing else.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else {
        None
    }
}

/// Decodes `photoBytes` (standard or URL-safe base64) and checks the image, answering as
/// Google does.
pub fn decode(raw: &str) -> ApiResult<(Vec<u8>, &'static str)> {
    if raw.is_empty() {
        return Err(ApiError::invalid("photoBytes is required."));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(raw)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(raw))
        .map_err(|_| ApiError::invalid("Invalid value at 'photo_bytes' (TYPE_BYTES), Base64 decoding failed"))?;
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(ApiError::invalid(format!("Photo is too large: {} bytes, at most {MAX_PHOTO_BYTES}.", bytes.len())));
    }
    let mime = sniff(&bytes).ok_or_else(|| ApiError::invalid("Photo is not a supported image: send JPEG or PNG bytes."))?;
    Ok((bytes, mime))
}

/// `host[:port]` when it names a loopback address, the only origins the emulator serves.
fn loopback_authority(host: &str) -> Option<&str> {
    let name = match host.rsplit_once(':') {
        Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    matches!(name, "127.0.0.1" | "localhost" | "[::1]").then_some(host)
}

/// A fresh photo URL for a request that reached the emulator as `req`.
pub fn new_url(req: &Req) -> String {
    let tok = token(24);
    match req.header("Host").and_then(loopback_authority) {
        Some(authority) => format!("http://{authority}/__photos/{tok}"),
        None => format!("https://lh3.googleusercontent.com/cm/{tok}"),
    }
}

/// Stores a photo on a live contact and records the change (new etag, update time, delta).
pub fn set(acct: &mut Account, id: u64, bytes: Vec<u8>, mime: &'static str, url: String, now: i64, delay_ms: u64) -> ApiResult<()> {
    let c = acct.contacts.get_mut(&id).filter(|c| !c.deleted).ok_or_else(ApiError::not_found)?;
    c.photo_url = Some(url.clone());
    c.photo = Some(StoredPhoto { url, bytes, mime });
    acct.touch(id, now, delay_ms);
    Ok(())
}

/// Removes a contact's photo; false when it had none (Google answers 404 then).
pub fn clear(acct: &mut Account, id: u64, now: i64, delay_ms: u64) -> bool {
    let Some(c) = acct.contacts.get_mut(&id).filter(|c| !c.deleted) else { return false };
    let had = c.photo_url.take().is_some();
    c.photo = None;
    if had {
        acct.touch(id, now, delay_ms);
    }
    had
}

/// `GET /__photos/<token>`: the bytes of a live contact's current photo, with its type.
/// A replaced or deleted photo's URL answers 404, as Google's stale URLs stop working.
pub fn serve(st: &State, req: &Req) -> Resp {
    let tok = req.path.trim_start_matches("/__photos/");
    let valid = !tok.is_empty() && tok.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let found = valid
        .then(|| {
            st.accounts.values().flat_map(|a| a.contacts.values()).filter(|c| !c.deleted).find_map(|c| {
                c.photo.as_ref().filter(|p| p.url.rsplit('/').next() == Some(tok))
            })
        })
        .flatten();
    match found {
        Some(p) if req.method == "GET" || req.method == "HEAD" => {
            let mut r = Resp::typed(200, p.mime, if req.method == "HEAD" { Vec::new() } else { p.bytes.clone() });
            r.set_header("Cache-Control", "private, max-age=86400");
            r
        }
        Some(_) => Resp::typed(405, "text/plain; charset=utf-8", b"Method not allowed".to_vec()),
        None => Resp::typed(404, "text/plain; charset=utf-8", b"Not found".to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_jpeg_and_png_signatures_pass() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn photo_urls_stay_on_loopback_hosts() {
        assert_eq!(loopback_authority("127.0.0.1:8080"), Some("127.0.0.1:8080"));
        assert_eq!(loopback_authority("localhost"), Some("localhost"));
        assert_eq!(loopback_authority("evil.example:80"), None);
        assert_eq!(loopback_authority("127.0.0.1.evil.example"), None);
    }
}
