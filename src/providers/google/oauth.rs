//! Google OAuth 2.0 (authorization code + PKCE) as data: no I/O, no clock, no randomness.
//!
//! Order of use: [`PendingAuthorization::new`] with random bytes from the host →
//! [`PendingAuthorization::authorization_url`] opened by the host →
//! [`PendingAuthorization::parse_callback`] on the final redirect URL →
//! [`code_exchange_body`] POSTed to the token endpoint → [`parse_token_response`].
//! Later, [`refresh_body`] → [`parse_token_response`]; `invalid_grant` is final
//! (`AUTH_EXPIRED`, no retry loop).
//!
//! Tokens and the client secret only ever travel in request bodies, never in URLs, and
//! never in the text of an error.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::providers::error::ProviderError;
use crate::providers::form;
use crate::providers::google::protocol::SCOPE_CONTACTS;

/// Google's authorization endpoint.
pub const AUTH_ENDPOINT: &str = "https://accounts.google.com/o/oauth2/v2/auth";
/// Google's token endpoint.
pub const TOKEN_ENDPOINT: &str = "https://oauth2.googleapis.com/token";
/// Google's revocation endpoint.
pub const REVOKE_ENDPOINT: &str = "https://oauth2.googleapis.com/revoke";
/// The remedy for a dead refresh token, shown as is to the operator.
pub const RECONNECT_REMEDY: &str = "Reconnect the Google account in the plugin's settings.";

/// An authorization in progress: the PKCE verifier and the state are kept by the caller
/// (in memory) until the redirect comes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAuthorization {
    /// Sent back by Google unchanged; anything else is a forged or stale redirect.
    pub state: String,
    /// The PKCE secret (43..128 chars); sent only to the token endpoint.
    pub code_verifier: String,
    /// Where Google redirects with the code.
    pub redirect_uri: String,
}

impl PendingAuthorization {
    /// Builds one from 32 random bytes for the verifier and 16 for the state (both from
    /// the host's cryptographic random source).
    pub fn new(verifier_bytes: &[u8], state_bytes: &[u8], redirect_uri: &str) -> Result<Self, ProviderError> {
        if verifier_bytes.len() < 32 || state_bytes.len() < 16 {
            return Err(ProviderError::new(
                "INTERNAL",
                "not enough random bytes for the OAuth state and PKCE verifier",
                "Report it: the host's random source returned too little.",
            ));
        }
        Ok(PendingAuthorization {
            state: URL_SAFE_NO_PAD.encode(state_bytes),
            code_verifier: URL_SAFE_NO_PAD.encode(verifier_bytes),
            redirect_uri: redirect_uri.to_string(),
        })
    }

    /// The S256 code challenge of the verifier.
    pub fn code_challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.code_verifier.as_bytes()))
    }

    /// The consent URL: offline access (a refresh token), consent forced (Google only
    /// returns a refresh token on consent), the contacts scope, PKCE S256 and the state.
    ///
    /// ```
    /// use contact_sync::providers::google::oauth::*;
    /// let p = PendingAuthorization::new(&[7; 32], &[9; 16], "http://127.0.0.1/cb").unwrap();
    /// let url = p.authorization_url(AUTH_ENDPOINT, "client-1");
    /// assert!(url.contains("access_type=offline") && url.contains("code_challenge_method=S256"));
    /// ```
    pub fn authorization_url(&self, endpoint: &str, client_id: &str) -> String {
        let challenge = self.code_challenge();
        let query = form::encode_pairs([
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("scope", SCOPE_CONTACTS),
            ("access_type", "offline"),
            ("prompt", "consent"),
            ("include_granted_scopes", "true"),
            ("state", self.state.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ]);
        let sep = if endpoint.contains('?') { '&' } else { '?' };
        format!("{endpoint}{sep}{query}")
    }

    /// Reads the final redirect URL: the authorization code, after checking the state.
    /// `error=access_denied` (the user said no, or is not a test user of the app) →
    /// `AUTH_DENIED`; a missing or different state → `AUTH_DENIED` without using the code.
    pub fn parse_callback(&self, redirect_url: &str) -> Result<String, ProviderError> {
        if redirect_url.len() > MAX_CALLBACK_BYTES {
            return Err(ProviderError::new(
                "BAD_RESPONSE",
                format!("the sign-in answer is longer than {} KiB", MAX_CALLBACK_BYTES / 1024),
                "Start the connection again from the settings tab; if it happens again, report it.",
            ));
        }
        let query = redirect_url
            .split_once('?')
            .map(|(_, q)| q.split('#').next().unwrap_or(""))
            .unwrap_or("");
        let pairs = form::decode_pairs(query);
        let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        if let Some(error) = get("error") {
            let message = if error == "access_denied" {
                "access to the Google account was not granted".to_string()
            } else {
                format!("Google refused the authorization ({})", sanitize(error))
            };
            return Err(ProviderError::new(
                "AUTH_DENIED",
                message,
                "Connect again and allow access to contacts; if the app is in Testing status, add the account as a test user.",
            ));
        }
        if get("state") != Some(self.state.as_str()) {
            return Err(ProviderError::new(
                "AUTH_DENIED",
                "the authorization answer does not belong to this connection attempt",
                "Start the connection again from the settings tab.",
            ));
        }
        match get("code") {
            Some(code) if usable_code(code) => Ok(code.to_string()),
            _ => Err(ProviderError::new(
                "AUTH_DENIED",
                "Google returned no usable authorization code",
                "Start the connection again from the settings tab.",
            )),
        }
    }
}

/// The longest redirect URL read. Google's is a few hundred bytes (the code, the state,
/// the scopes); browsers allow megabytes, so a bound of ours keeps a forged one cheap.
pub const MAX_CALLBACK_BYTES: usize = 8 * 1024;

/// The longest authorization code accepted (Google's are under 100 characters).
pub const MAX_CODE_BYTES: usize = 2 * 1024;

/// A code we may send to the token endpoint: printable ASCII, no blanks, bounded.
fn usable_code(code: &str) -> bool {
    !code.is_empty() && code.len() <= MAX_CODE_BYTES && code.bytes().all(|b| b.is_ascii_graphic())
}

/// Keeps an error string from the outside short and printable.
fn sanitize(text: &str) -> String {
    text.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(40).collect()
}

/// The form body that exchanges an authorization code (client secret included: Google
/// wants it for Web and Desktop clients even with PKCE).
pub fn code_exchange_body(
    pending: &PendingAuthorization,
    code: &str,
    client_id: &str,
    client_secret: Option<&str>,
) -> String {
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", pending.redirect_uri.as_str()),
        ("client_id", client_id),
        ("code_verifier", pending.code_verifier.as_str()),
    ];
    if let Some(secret) = client_secret {
        pairs.push(("client_secret", secret));
    }
    form::encode_pairs(pairs)
}

/// The form body that refreshes an access token.
pub fn refresh_body(refresh_token: &str, client_id: &str, client_secret: Option<&str>) -> String {
    let mut pairs = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", client_id),
    ];
    if let Some(secret) = client_secret {
        pairs.push(("client_secret", secret));
    }
    form::encode_pairs(pairs)
}

/// The form body of a revocation.
pub fn revoke_body(token: &str) -> String {
    form::encode_pairs([("token", token)])
}

/// Tokens from the token endpoint. Deliberately no `Debug`/`Serialize`: it must not end
/// up in a log line or in storage by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    /// Bearer token for API calls.
    pub access_token: String,
    /// Only on the first exchange (with offline access).
    pub refresh_token: Option<String>,
    /// Lifetime in seconds.
    pub expires_in_secs: u64,
    /// Granted scopes.
    pub scope: Option<String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("access_token", &"<redacted>")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "<redacted>"))
            .field("expires_in_secs", &self.expires_in_secs)
            .finish()
    }
}

#[derive(Deserialize)]
struct RawTokens {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// Reads the token endpoint's answer. `invalid_grant` (revoked, expired, or a Testing
/// app's 7-day limit) → `AUTH_EXPIRED`, not retryable; 5xx → `NETWORK`, retryable;
/// other errors → `AUTH_DENIED`. The text never includes the body (it may hold tokens).
pub fn parse_token_response(http: u16, body: &str) -> Result<Tokens, ProviderError> {
    let raw: Option<RawTokens> = crate::providers::google::protocol::read_json("token endpoint", body).ok();
    if (500..600).contains(&http) {
        return Err(ProviderError::new(
            "NETWORK",
            format!("Google's sign-in service is unavailable (HTTP {http})"),
            "Nothing to do: the sync retries later.",
        )
        .retryable());
    }
    let error = raw.as_ref().and_then(|r| r.error.clone());
    if http >= 400 || error.is_some() {
        let error = error.unwrap_or_default();
        if error == "invalid_grant" {
            return Err(ProviderError::new(
                "AUTH_EXPIRED",
                "the Google authorization has expired or was revoked",
                RECONNECT_REMEDY,
            ));
        }
        return Err(ProviderError::new(
            "AUTH_DENIED",
            format!("Google refused the sign-in (HTTP {http}, {})", sanitize(&error)),
            "Check the OAuth client id and secret in the settings, then reconnect.",
        ));
    }
    match raw {
        Some(RawTokens { access_token: Some(access_token), refresh_token, expires_in, scope, .. })
            if !access_token.is_empty() =>
        {
            Ok(Tokens { access_token, refresh_token, expires_in_secs: expires_in.unwrap_or(3600), scope })
        }
        _ => Err(ProviderError::bad_response("token endpoint", "no access token in the answer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending() -> PendingAuthorization {
        PendingAuthorization::new(&[1; 32], &[2; 16], "http://127.0.0.1:9/callback").unwrap()
    }

    #[test]
    fn pkce_challenge_matches_the_rfc_7636_example() {
        let p = PendingAuthorization {
            state: "s".into(),
            code_verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into(),
            redirect_uri: String::new(),
        };
        assert_eq!(p.code_challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn authorization_url_asks_for_offline_consent_with_pkce_and_state() {
        let p = pending();
        let url = p.authorization_url(AUTH_ENDPOINT, "cid");
        let pairs = form::decode_pairs(url.split_once('?').unwrap().1);
        let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        assert_eq!(get("response_type").as_deref(), Some("code"));
        assert_eq!(get("access_type").as_deref(), Some("offline"));
        assert_eq!(get("prompt").as_deref(), Some("consent"));
        assert_eq!(get("scope").as_deref(), Some(SCOPE_CONTACTS));
        assert_eq!(get("state"), Some(p.state.clone()));
        assert_eq!(get("code_challenge"), Some(p.code_challenge()));
        assert_eq!(get("code_challenge_method").as_deref(), Some("S256"));
        assert!(!url.contains(&p.code_verifier));
    }

    #[test]
    fn callback_with_the_wrong_state_is_refused() {
        let err = pending().parse_callback("http://127.0.0.1:9/callback?code=abc&state=other").unwrap_err();
        assert_eq!(err.code, "AUTH_DENIED");
        assert!(!err.message.contains("abc"));
    }

    #[test]
    fn callback_with_access_denied_is_auth_denied() {
        let p = pending();
        let url = format!("http://127.0.0.1:9/callback?error=access_denied&state={}", p.state);
        assert_eq!(p.parse_callback(&url).unwrap_err().code, "AUTH_DENIED");
    }

    #[test]
    fn callback_with_the_right_state_yields_the_code() {
        let p = pending();
        let url = format!("http://127.0.0.1:9/callback?state={}&code=4%2F0Ab", p.state);
        assert_eq!(p.parse_callback(&url).unwrap(), "4/0Ab");
    }

    #[test]
    fn too_few_random_bytes_are_refused() {
        assert!(PendingAuthorization::new(&[0; 8], &[0; 16], "x").is_err());
    }

    #[test]
    fn invalid_grant_is_auth_expired_without_retry_and_without_the_body() {
        let body = r#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#;
        let err = parse_token_response(400, body).unwrap_err();
        assert_eq!(err.code, "AUTH_EXPIRED");
        assert!(!err.retryable);
        assert_eq!(err.remedy, RECONNECT_REMEDY);
    }

    #[test]
    fn token_response_is_read_and_redacted_in_debug() {
        let t = parse_token_response(
            200,
            r#"{"access_token":"ya29.SECRET","refresh_token":"1//R","expires_in":3599,"token_type":"Bearer"}"#,
        )
        .unwrap();
        assert_eq!(t.access_token, "ya29.SECRET");
        assert_eq!(t.expires_in_secs, 3599);
        let shown = format!("{t:?}");
        assert!(!shown.contains("SECRET") && !shown.contains("1//R"));
    }

    #[test]
    fn token_bodies_carry_the_verifier_and_secret_in_the_body() {
        let p = pending();
        let body = code_exchange_body(&p, "c0de", "cid", Some("s3cret"));
        let pairs = form::decode_pairs(&body);
        assert!(pairs.contains(&("code_verifier".into(), p.code_verifier.clone())));
        assert!(pairs.contains(&("client_secret".into(), "s3cret".into())));
        assert!(pairs.contains(&("grant_type".into(), "authorization_code".into())));
        let refresh = form::decode_pairs(&refresh_body("1//R", "cid", None));
        assert!(refresh.contains(&("grant_type".into(), "refresh_token".into())));
        assert!(!refresh.iter().any(|(k, _)| k == "client_secret"));
    }
}
