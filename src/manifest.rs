//! The plugin manifest, `plugin.json`: what a CRM reads before it installs the plugin.
//!
//! This type is the source of truth for the manifest's shape: `plugin.schema.json` is
//! generated from it (feature `schema`; `BLESS=1 cargo test --test manifest` rewrites it)
//! and a test fails when the checked-in schema drifts or `plugin.json` does not validate.
//! Unknown fields are refused everywhere, so a typo cannot silently drop a permission.
//! The manifest is compiled into the wasm ([`Manifest::bundled`]) so the plugin validates
//! settings against exactly the schema the host was shown.

use crate::error::{ErrorCode, PluginError, PluginResult};
use crate::network::url::HttpUrl;
use crate::settings::{matches_dev_host, schema_check, Settings};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::OnceLock;

/// The text of `plugin.json` this build was made with.
pub const BUNDLED_JSON: &str = include_str!("../plugin.json");

/// `plugin.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    /// Editor hint: the path of the JSON Schema describing this file.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub json_schema: Option<String>,
    /// Stable identifier; never changes after the first release (settings and state are
    /// keyed by it).
    pub id: String,
    /// Name shown in the CRM's plugin list.
    pub name: String,
    /// The plugin's own version (semver), independent of the host contract's.
    pub version: String,
    /// One sentence shown before installation.
    pub description: String,
    /// The host contract version the plugin speaks (`www/plugin/host-api.d.ts`).
    pub host_api: HostApiVersion,
    /// The oldest host release known to implement `hostApi` fully.
    pub min_host_version: String,
    /// Files the host loads, relative to the plugin root.
    pub entry: Entry,
    /// What the plugin may touch; the host enforces it and shows it before installing.
    pub permissions: Permissions,
    /// What the plugin adds to the CRM's interface and configuration.
    pub contributes: Contributes,
    /// The host's scheduler runs this command periodically.
    pub schedule: Schedule,
}

/// The host contract versions this manifest format knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum HostApiVersion {
    /// hostApi "1".
    #[serde(rename = "1")]
    V1,
}

/// The plugin's files, relative to the plugin root (`www/plugin/` in development, the
/// zip's root when packaged).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The ES module exporting `activate(hostApi)`.
    pub module: String,
    /// The WebAssembly module (its wasm-bindgen glue sits beside it).
    pub wasm: String,
}

/// Permissions requested from the host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Permissions {
    /// Access to the CRM's contacts, lists and tags.
    pub contacts: ContactsPermission,
    /// Names of the secrets the plugin keeps in the host's secret store (`*` matches
    /// any run of characters, e.g. `google.*`). Tokens and passwords live there only.
    pub secrets: Vec<String>,
    /// Where the plugin may send requests.
    pub network: NetworkPermission,
}

/// Contact access.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ContactsPermission {
    /// Read contacts, lists, tags, the field schema and users.
    pub read: bool,
    /// Create, update and delete contacts and lists.
    pub write: bool,
}

/// The network allowlist: the shim refuses any other origin (code NOT_ALLOWED_HOST).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkPermission {
    /// Exact origins (scheme, host, port) the plugin may reach; empty means no network.
    pub allowed_hosts: Vec<String>,
    /// Why each origin is needed, for the administrator approving the installation.
    pub reasoning: String,
    /// Loopback origins for local emulators, any port; honoured only by development hosts.
    pub dev_allowed_hosts: Vec<String>,
}

/// Contributions to the CRM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Contributes {
    /// The tab the host shows in its plugin settings area.
    pub settings_tab: SettingsTab,
    /// The plugin's settings: their schema and defaults.
    pub settings: SettingsContribution,
}

/// A settings tab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SettingsTab {
    /// Stable id of the tab.
    pub id: String,
    /// Title per language.
    pub title: LocalizedText,
    /// ES module, relative to the plugin root, exporting `mount(container, context)`.
    pub module: String,
}

/// Text in each language the plugin ships.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LocalizedText {
    /// English.
    pub en: String,
    /// French.
    pub fr: String,
}

/// Settings declared to the host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SettingsContribution {
    /// A JSON Schema (the subset in `settings::schema_check`) of the settings object:
    /// `additionalProperties: false`, namespaced keys.
    pub schema: Value,
    /// The settings before the operator changes anything.
    pub defaults: Settings,
}

/// The periodic job the host runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Schedule {
    /// The plugin method the host calls.
    pub command: ScheduledCommand,
    /// Minutes between runs.
    pub interval_minutes: u32,
    /// The shortest interval a host or operator may configure (remote quotas).
    pub minimum_interval_minutes: u32,
}

/// Commands a host may schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum ScheduledCommand {
    /// `plugin.sync({trigger: "schedule"})`.
    Sync,
}

static BUNDLED: OnceLock<Result<Manifest, PluginError>> = OnceLock::new();

impl Manifest {
    /// The manifest compiled into this build, parsed once.
    pub fn bundled() -> PluginResult<&'static Manifest> {
        BUNDLED
            .get_or_init(|| {
                serde_json::from_str(BUNDLED_JSON).map_err(|e| {
                    PluginError::new(ErrorCode::Internal, format!("The bundled plugin.json is invalid: {e}"))
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Rules the type alone cannot state. Returns every problem found.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.id.is_empty() || !self.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            problems.push("id: lower-case letters, digits and '-' only".to_string());
        }
        let semver = |v: &str| {
            let parts: Vec<&str> = v.split('.').collect();
            parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        };
        if !semver(&self.version) {
            problems.push(format!("version: \"{}\" is not MAJOR.MINOR.PATCH", self.version));
        }
        if !semver(&self.min_host_version) {
            problems.push(format!("minHostVersion: \"{}\" is not MAJOR.MINOR.PATCH", self.min_host_version));
        }
        for (name, path) in [("entry.module", &self.entry.module), ("entry.wasm", &self.entry.wasm), ("contributes.settingsTab.module", &self.contributes.settings_tab.module)] {
            if path.starts_with('/') || path.contains("..") || path.contains("://") {
                problems.push(format!("{name}: must be a path inside the plugin root"));
            }
        }
        for host in &self.permissions.network.allowed_hosts {
            let rest = host.strip_prefix("https://").unwrap_or("");
            if rest.is_empty() || rest.contains('/') || rest.contains('*') {
                problems.push(format!("permissions.network.allowedHosts: \"{host}\" must be an https origin without path or wildcard"));
            }
        }
        if !self.permissions.network.allowed_hosts.is_empty() && self.permissions.network.reasoning.trim().is_empty() {
            problems.push("permissions.network.reasoning: explain why each host is needed".to_string());
        }
        for host in &self.permissions.network.dev_allowed_hosts {
            let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"];
            if !loopback.contains(&host.as_str()) {
                problems.push(format!("permissions.network.devAllowedHosts: \"{host}\" is not a loopback origin"));
            }
        }
        if self.schedule.minimum_interval_minutes == 0
            || self.schedule.interval_minutes < self.schedule.minimum_interval_minutes
        {
            problems.push("schedule: intervalMinutes must be at least minimumIntervalMinutes (> 0)".to_string());
        }
        let schema = &self.contributes.settings.schema;
        for keyword in schema_check::unsupported_keywords(schema) {
            problems.push(format!("contributes.settings.schema: unsupported keyword {keyword}"));
        }
        if schema.get("additionalProperties") != Some(&Value::Bool(false)) {
            problems.push("contributes.settings.schema: additionalProperties must be false".to_string());
        }
        match serde_json::to_value(&self.contributes.settings.defaults) {
            Ok(defaults) => {
                for reason in schema_check::check(schema, &defaults) {
                    problems.push(format!("contributes.settings.defaults: {reason}"));
                }
            }
            Err(e) => problems.push(format!("contributes.settings.defaults: {e}")),
        }
        for reason in self.contributes.settings.defaults.rule_problems(&self.permissions.network.dev_allowed_hosts) {
            problems.push(format!("contributes.settings.defaults: {reason}"));
        }
        problems
    }

    /// Whether `url` may be fetched: an allowed origin exactly, or (development hosts
    /// only) a loopback origin on any port, by parsed origin, never by prefix. The shim
    /// enforces the same rule in JS.
    pub fn allows_url(&self, url: &str, development: bool) -> bool {
        let network = &self.permissions.network;
        let Ok(origin) = HttpUrl::parse(url).map(|u| u.origin()) else { return false };
        let exact = network.allowed_hosts.iter().any(|allowed| HttpUrl::parse(allowed).is_ok_and(|a| a.origin() == origin));
        exact || (development && matches_dev_host(url, &network.dev_allowed_hosts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_manifest_parses_and_has_no_problems() {
        let m = Manifest::bundled().unwrap();
        assert_eq!(m.id, "contact-sync");
        assert_eq!(m.problems(), Vec::<String>::new());
    }

    #[test]
    fn urls_outside_the_allowlist_are_refused() {
        let m = Manifest::bundled().unwrap();
        assert!(m.allows_url("https://people.googleapis.com/v1/people/me", false));
        assert!(!m.allows_url("https://people.googleapis.com.evil.example/", false));
        assert!(!m.allows_url("http://people.googleapis.com/v1", false));
        assert!(!m.allows_url("http://127.0.0.1:8080/token", false));
        assert!(m.allows_url("http://127.0.0.1:8080/token", true));
        assert!(m.allows_url("HTTPS://People.googleapis.com:443/v1", false));
        assert!(!m.allows_url("https://people.googleapis.com@evil.example/", false));
        assert!(!m.allows_url("https://people.googleapis.com\\@evil.example/", false));
    }
}
