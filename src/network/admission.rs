//! The origins the plugin may contact, computed in one place from the manifest, the saved
//! settings and the development mode: the shim admits a request to a saved server only when
//! this list holds its origin (`admittedOrigins()`, read again on every request it decides),
//! and the settings tab shows the same list to the operator. The shim itself knows no kind
//! of address book.
//!
//! A spoke's server is admitted when it is `https://` (`http://` only on a development host
//! in development mode) and, outside development mode, not on a private network
//! ([`super::private`]) unless the operator set `allowPrivateNetwork` on that spoke ("this
//! is a server on my private network"). Refused servers are listed with the reason and the
//! remedy the shim gives when a request is refused.
//!
//! ```
//! use contact_sync::manifest::Manifest;
//! use contact_sync::network::admission::network_access;
//! use contact_sync::settings::Settings;
//! let access = network_access(Manifest::bundled().unwrap(), &Settings::default(), false);
//! assert!(access.origins.iter().any(|o| o.origin == "https://people.googleapis.com"));
//! ```

use serde::Serialize;

use super::private::is_private;
use super::url::HttpUrl;
use crate::connectors;
use crate::error::{ErrorCode, PluginResult};
use crate::host::Host;
use crate::manifest::Manifest;
use crate::settings::{matches_dev_host, Settings, SpokeKind, SpokeSettings};

/// Why an origin is admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum OriginSource {
    /// `permissions.network.allowedHosts`.
    Manifest,
    /// `permissions.network.devAllowedHosts`, in development mode only.
    Development,
    /// The server of a saved spoke.
    Server,
}

/// An origin the plugin may contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmittedOrigin {
    /// `https://dav.example.com`, as the shim's `URL.origin` spells it.
    pub origin: String,
    /// Why it is admitted.
    pub source: OriginSource,
    /// The spoke whose server it is (source `server`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spoke_id: Option<String>,
    /// Any port of the origin's host (development hosts: emulators bind free ports).
    pub any_port: bool,
    /// The host is on a private network.
    pub private_network: bool,
}

/// A saved server the plugin will not contact, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefusedServer {
    /// The spoke.
    pub spoke_id: String,
    /// The server's origin (None when its address does not parse).
    pub origin: Option<String>,
    /// The host is on a private network.
    pub private_network: bool,
    /// NOT_ALLOWED_HOST.
    pub code: ErrorCode,
    /// Why, naming the origin.
    pub message: String,
    /// What to do.
    pub remedy: String,
}

/// `admittedOrigins()`'s answer (`NetworkAccess` in host-api.d.ts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkAccess {
    /// The host activated the plugin in development mode.
    pub dev_mode: bool,
    /// Every origin the plugin may contact now.
    pub origins: Vec<AdmittedOrigin>,
    /// Saved servers it will not contact.
    pub refused: Vec<RefusedServer>,
}

/// The origins `settings` and `manifest` admit, in development mode or not.
pub fn network_access(manifest: &Manifest, settings: &Settings, dev_mode: bool) -> NetworkAccess {
    let network = &manifest.permissions.network;
    let listed = |entries: &[String], source: OriginSource| -> Vec<AdmittedOrigin> {
        entries
            .iter()
            .filter_map(|entry| HttpUrl::parse(entry).ok())
            .map(|url| AdmittedOrigin {
                origin: url.origin(),
                source,
                spoke_id: None,
                any_port: source == OriginSource::Development,
                private_network: is_private(url.host()),
            })
            .collect()
    };
    let mut origins = listed(&network.allowed_hosts, OriginSource::Manifest);
    if dev_mode {
        origins.extend(listed(&network.dev_allowed_hosts, OriginSource::Development));
    }
    let mut refused = Vec::new();
    for spoke in &settings.spokes {
        match server_of(spoke).map(|server| admit_server(server, spoke, dev_mode, &network.dev_allowed_hosts)) {
            Some(Ok(origin)) => origins.push(origin),
            Some(Err(refusal)) => refused.push(refusal),
            None => {}
        }
    }
    NetworkAccess { dev_mode, origins, refused }
}

/// [`network_access`] for the stored settings and the host's mode. Settings that do not
/// validate admit no server (the tab shows their problem).
pub async fn network_access_of<H: Host>(host: &H) -> PluginResult<NetworkAccess> {
    let settings = match connectors::settings(host).await {
        Err(e) if e.code == ErrorCode::InvalidSettings => Settings::default(),
        other => other?,
    };
    Ok(network_access(Manifest::bundled()?, &settings, host.dev_mode()))
}

/// The server a spoke's settings name, when its kind has one. Google's endpoints are the
/// manifest's origins, or development hosts (settings refuse others).
fn server_of(spoke: &SpokeSettings) -> Option<&str> {
    match spoke.kind {
        SpokeKind::Carddav => spoke.server_url.as_deref().map(str::trim).filter(|s| !s.is_empty()),
        SpokeKind::Google => None,
    }
}

fn admit_server(server: &str, spoke: &SpokeSettings, dev_mode: bool, dev_hosts: &[String]) -> Result<AdmittedOrigin, RefusedServer> {
    let refuse = |origin: Option<String>, private_network: bool, message: String, remedy: &str| RefusedServer {
        spoke_id: spoke.id.clone(),
        origin,
        private_network,
        code: ErrorCode::NotAllowedHost,
        message,
        remedy: remedy.to_string(),
    };
    let url = HttpUrl::parse(server).map_err(|problem| {
        refuse(None, false, format!("The server address of {} {problem}.", spoke.name), "Correct the server address in Connections.")
    })?;
    let origin = url.origin();
    let private_network = is_private(url.host());
    if url.scheme() != "https" && !(dev_mode && matches_dev_host(server, dev_hosts)) {
        return Err(refuse(
            Some(origin.clone()),
            private_network,
            format!("The plugin may not contact {origin}: servers are reached over https:// only (http:// only on development hosts in development mode)."),
            "Use the server's https:// address: passwords never travel unencrypted.",
        ));
    }
    if private_network && !dev_mode && !spoke.allow_private_network {
        return Err(refuse(
            Some(origin.clone()),
            true,
            format!("The plugin may not contact {origin}: it is on a private network (a loopback, private or link-local address, or a name that only resolves locally)."),
            "If it is your own server on your private network, tick \"This is a server on my private network\" for this address book in Connections; otherwise enter the server's public https:// address.",
        ));
    }
    Ok(AdmittedOrigin { origin, source: OriginSource::Server, spoke_id: Some(spoke.id.clone()), any_port: false, private_network })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(spokes: serde_json::Value) -> Settings {
        let mut v = serde_json::to_value(Settings::default()).unwrap();
        v["spokes"] = spokes;
        Settings::from_value(&v).unwrap()
    }

    fn dav(id: &str, server: &str, allow_private: bool) -> serde_json::Value {
        json!({"id": id, "kind": "carddav", "name": id, "allowCreate": true, "serverUrl": server, "username": "ada", "allowPrivateNetwork": allow_private})
    }

    fn servers(access: &NetworkAccess) -> Vec<(&str, bool)> {
        access.origins.iter().filter(|o| o.source == OriginSource::Server).map(|o| (o.origin.as_str(), o.private_network)).collect()
    }

    #[test]
    fn a_private_server_is_admitted_only_when_the_operator_allows_it_or_in_development() {
        let manifest = Manifest::bundled().unwrap();
        let s = settings(json!([
            dav("pub", "https://DAV.example.com:443/dav/", false),
            dav("lan", "https://0xc0.0xa8.1.20/dav/", false),
            dav("mine", "https://[fd00::20]:8443/", true),
            dav("dev", "http://127.0.0.1:5232/", false),
            {"id": "g", "kind": "google", "name": "G", "allowCreate": true, "serverUrl": "https://ignored.example/"},
        ]));
        let access = network_access(manifest, &s, false);
        assert_eq!(servers(&access), vec![("https://dav.example.com", false), ("https://[fd00::20]:8443", true)]);
        let refused: Vec<(&str, Option<&str>, bool)> = access.refused.iter().map(|r| (r.spoke_id.as_str(), r.origin.as_deref(), r.private_network)).collect();
        assert_eq!(refused, vec![("lan", Some("https://192.168.1.20"), true), ("dev", Some("http://127.0.0.1:5232"), true)]);
        assert!(access.refused.iter().all(|r| r.code == ErrorCode::NotAllowedHost && !r.remedy.is_empty()));
        assert!(access.refused[0].message.contains("private network") && access.refused[1].message.contains("https://"));
        assert!(!access.origins.iter().any(|o| o.source == OriginSource::Development));

        let dev = network_access(manifest, &s, true);
        assert_eq!(
            servers(&dev),
            vec![("https://dav.example.com", false), ("https://192.168.1.20", true), ("https://[fd00::20]:8443", true), ("http://127.0.0.1:5232", true)]
        );
        assert!(dev.refused.is_empty());
        let development: Vec<&str> = dev.origins.iter().filter(|o| o.source == OriginSource::Development).map(|o| o.origin.as_str()).collect();
        assert_eq!(development, vec!["http://127.0.0.1", "http://localhost"]);
    }

    #[test]
    fn the_answer_is_the_contracts_shape() {
        let access = network_access(Manifest::bundled().unwrap(), &settings(json!([dav("lan", "https://10.0.0.2/", false)])), false);
        let v = serde_json::to_value(&access).unwrap();
        assert_eq!(v["devMode"], json!(false));
        assert_eq!(v["origins"][0], json!({"origin": "https://people.googleapis.com", "source": "manifest", "anyPort": false, "privateNetwork": false}));
        assert_eq!(v["refused"][0]["spokeId"], json!("lan"));
        assert_eq!(v["refused"][0]["code"], json!("NOT_ALLOWED_HOST"));
        assert_eq!(v["refused"][0]["privateNetwork"], json!(true));
    }
}
