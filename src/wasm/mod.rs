//! The wasm boundary: the `ContactSyncPlugin` class JavaScript sees, and `JsHost`, the
//! [`Host`](crate::host::Host) that calls the JS `PluginHost` object the shim hands over.
//!
//! No business logic here: every method converts its JS arguments, calls the same
//! platform-neutral function native tests call (`plugin_core`), and converts the answer.
//! Values cross as JSON (`JSON.stringify` / `JSON.parse`), which gives one predictable
//! mapping (plain objects, `null` for absent) and turns malformed input — cycles,
//! BigInts — into a BAD_INPUT rejection instead of a panic.

mod connector;
mod convert;
mod js_host;
mod phone;
mod plugin;

pub use js_host::JsHost;
pub use phone::register_phone_service;
pub use plugin::{ContactSyncPlugin, PluginHostObject};

use wasm_bindgen::prelude::*;

// The generated .d.ts types the class with the contract's own interfaces (never `any`).
// `pkg/` sits beside host-api.d.ts both in www/plugin/ and in the packaged zip.
#[wasm_bindgen(typescript_custom_section)]
const TS_CONTRACT: &'static str = r#"
import type {
  PluginHost, Settings, PluginStatus, SpokeStatus, HostEvent, FieldCatalogue, RunReport, SyncRequest, Progress,
  CardDavConnection, NetworkAccess,
} from "../host-api";
"#;
