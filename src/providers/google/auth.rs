//! Google credentials over the host: connect (through the host's OAuth broker, or the
//! authorization-code flow with PKCE), hand out a valid access token, refresh it when it
//! expires or is refused, disconnect.
//!
//! Refresh and access tokens and the client secret live only in host secrets (names in
//! [`SecretNames`]); nothing here logs, stores or formats them. A dead refresh token
//! (`invalid_grant`) ends in `AUTH_EXPIRED` with the remedy to reconnect, once: both
//! tokens are forgotten, so later calls fail at once with `NOT_CONNECTED` instead of
//! asking the token endpoint again (no retry loop).

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, PluginError, PluginResult};
use crate::host::{Host, HttpRequest};
use crate::network::redirect;
use crate::providers::google::oauth::{self, PendingAuthorization};
use crate::providers::google::protocol::SCOPE_CONTACTS;

/// Google's endpoints, or an emulator's (development only, through `devAllowedHosts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleEndpoints {
    /// Consent page.
    pub auth: String,
    /// Token endpoint.
    pub token: String,
    /// People API root.
    pub api: String,
    /// Revocation endpoint.
    pub revoke: Option<String>,
}

impl Default for GoogleEndpoints {
    fn default() -> Self {
        GoogleEndpoints {
            auth: oauth::AUTH_ENDPOINT.into(),
            token: oauth::TOKEN_ENDPOINT.into(),
            api: crate::providers::google::protocol::API_BASE.into(),
            revoke: Some(oauth::REVOKE_ENDPOINT.into()),
        }
    }
}

/// Names of a spoke's secrets in host secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretNames {
    /// The long-lived refresh token.
    pub refresh_token: String,
    /// The current access token with its expiry (JSON).
    pub access_token: String,
    /// The company's OAuth client secret, entered by the administrator.
    pub client_secret: String,
}

impl SecretNames {
    /// The names for spoke `spoke_id`.
    pub fn for_spoke(spoke_id: &str) -> Self {
        SecretNames {
            refresh_token: format!("google.{spoke_id}.refreshToken"),
            access_token: format!("google.{spoke_id}.accessToken"),
            client_secret: format!("google.{spoke_id}.clientSecret"),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredAccess {
    token: String,
    expires_at: f64,
}

/// Margin before expiry at which a token is refreshed (clock skew, request time).
const EXPIRY_MARGIN_MS: f64 = 60_000.0;

/// The provider name given to a host broker.
pub const BROKER_PROVIDER: &str = "google";

/// Credentials of one Google spoke.
#[derive(Debug, Clone)]
pub struct GoogleAuth {
    /// Spoke id.
    pub spoke_id: String,
    /// The company's client id (empty when the host brokers).
    pub client_id: String,
    /// Endpoints.
    pub endpoints: GoogleEndpoints,
    /// Secret names.
    pub secrets: SecretNames,
}

fn not_connected() -> PluginError {
    PluginError::new(ErrorCode::NotConnected, "The Google account is not connected.")
        .with_remedy("Connect the Google account in the plugin's settings.")
}

impl GoogleAuth {
    /// Credentials for a spoke.
    pub fn new(spoke_id: &str, client_id: &str, endpoints: GoogleEndpoints) -> Self {
        GoogleAuth {
            spoke_id: spoke_id.to_string(),
            client_id: client_id.to_string(),
            endpoints,
            secrets: SecretNames::for_spoke(spoke_id),
        }
    }

    /// Connects the account: through the host's broker when there is one, otherwise the
    /// authorization-code flow with PKCE and state (random bytes from the host), consent
    /// in the host's auth window, and the code exchange with the client secret from host
    /// secrets. Returns the account name when known.
    pub async fn connect<H: Host>(&self, host: &H, redirect_uri: &str) -> PluginResult<Option<String>> {
        if host.has_oauth_broker() {
            let grant = host.oauth_authorize(BROKER_PROVIDER, &[SCOPE_CONTACTS.to_string()]).await?;
            if let Some(refresh) = &grant.refresh_token {
                host.secret_set(&self.secrets.refresh_token, refresh).await?;
            }
            self.save_access(host, &grant.access_token, grant.expires_at).await?;
            return Ok(grant.account);
        }
        if self.client_id.trim().is_empty() {
            return Err(PluginError::new(ErrorCode::InvalidSettings, "No Google OAuth client id is set for this spoke.")
                .with_remedy("Enter your company's Google OAuth client id and secret in the spoke's settings."));
        }
        let verifier = host.random_bytes(32)?;
        let state = host.random_bytes(16)?;
        let pending = PendingAuthorization::new(&verifier, &state, redirect_uri).map_err(PluginError::from)?;
        let url = pending.authorization_url(&self.endpoints.auth, &self.client_id);
        let final_url = host.open_auth_window(&url, redirect_uri).await?;
        let code = pending.parse_callback(&final_url).map_err(PluginError::from)?;
        let secret = host.secret_get(&self.secrets.client_secret).await?;
        let body = oauth::code_exchange_body(&pending, &code, &self.client_id, secret.as_deref());
        let response = redirect::fetch(host, &self.token_request(body)).await?;
        let tokens = oauth::parse_token_response(response.status, &response.body).map_err(PluginError::from)?;
        match &tokens.refresh_token {
            Some(refresh) => host.secret_set(&self.secrets.refresh_token, refresh).await?,
            None => {
                return Err(PluginError::new(ErrorCode::AuthDenied, "Google granted no offline access (no refresh token).")
                    .with_remedy("Connect again and accept the consent screen."))
            }
        }
        let expires_at = host.now_ms() + (tokens.expires_in_secs as f64) * 1000.0;
        self.save_access(host, &tokens.access_token, expires_at).await?;
        Ok(None)
    }

    fn token_request(&self, body: String) -> HttpRequest {
        let mut request = HttpRequest {
            method: "POST".into(),
            url: self.endpoints.token.clone(),
            body: Some(body),
            ..HttpRequest::default()
        };
        request.headers.insert("content-type".into(), "application/x-www-form-urlencoded".into());
        request
    }

    async fn save_access<H: Host>(&self, host: &H, token: &str, expires_at: f64) -> PluginResult<()> {
        let stored = StoredAccess { token: token.to_string(), expires_at };
        let text = serde_json::to_string(&stored).map_err(|e| PluginError::internal(e.to_string()))?;
        host.secret_set(&self.secrets.access_token, &text).await
    }

    /// Whether a refresh token (or a brokered access token) is held.
    pub async fn is_connected<H: Host>(&self, host: &H) -> PluginResult<bool> {
        Ok(host.secret_get(&self.secrets.refresh_token).await?.is_some()
            || host.secret_get(&self.secrets.access_token).await?.is_some())
    }

    /// A valid access token: the stored one while it has more than a minute left,
    /// otherwise a refreshed one. `force` refreshes even so (after a 401).
    pub async fn access_token<H: Host>(&self, host: &H, force: bool) -> PluginResult<String> {
        if !force {
            if let Some(text) = host.secret_get(&self.secrets.access_token).await? {
                if let Ok(stored) = serde_json::from_str::<StoredAccess>(&text) {
                    if stored.expires_at - EXPIRY_MARGIN_MS > host.now_ms() {
                        return Ok(stored.token);
                    }
                }
            }
        }
        self.refresh(host).await
    }

    async fn refresh<H: Host>(&self, host: &H) -> PluginResult<String> {
        let refresh = host.secret_get(&self.secrets.refresh_token).await?.ok_or_else(not_connected)?;
        if host.has_oauth_broker() {
            let grant = host.oauth_refresh(BROKER_PROVIDER, &refresh).await?;
            self.save_access(host, &grant.access_token, grant.expires_at).await?;
            return Ok(grant.access_token);
        }
        let secret = host.secret_get(&self.secrets.client_secret).await?;
        let body = oauth::refresh_body(&refresh, &self.client_id, secret.as_deref());
        let response = redirect::fetch(host, &self.token_request(body)).await?;
        match oauth::parse_token_response(response.status, &response.body) {
            Ok(tokens) => {
                if let Some(rotated) = &tokens.refresh_token {
                    host.secret_set(&self.secrets.refresh_token, rotated).await?;
                }
                let expires_at = host.now_ms() + (tokens.expires_in_secs as f64) * 1000.0;
                self.save_access(host, &tokens.access_token, expires_at).await?;
                Ok(tokens.access_token)
            }
            Err(e) if e.code == "AUTH_EXPIRED" => {
                // The grant is dead: forget it, so that no later call retries it.
                host.secret_delete(&self.secrets.refresh_token).await?;
                host.secret_delete(&self.secrets.access_token).await?;
                Err(PluginError::from(e))
            }
            Err(e) => Err(PluginError::from(e)),
        }
    }

    /// Revokes (best effort) and forgets the tokens. The client secret stays: it belongs
    /// to the company's OAuth app, not to the connection.
    pub async fn disconnect<H: Host>(&self, host: &H) -> PluginResult<()> {
        if let (Some(revoke), Some(refresh)) =
            (&self.endpoints.revoke, host.secret_get(&self.secrets.refresh_token).await?)
        {
            let mut request = self.token_request(oauth::revoke_body(&refresh));
            request.url = revoke.clone();
            // A failed revocation must not keep the tokens here: forget them anyway.
            let _ = redirect::fetch(host, &request).await;
        }
        host.secret_delete(&self.secrets.refresh_token).await?;
        host.secret_delete(&self.secrets.access_token).await?;
        Ok(())
    }
}
