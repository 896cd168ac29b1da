//! Contact sync: a CRM plugin core that reconciles the CRM's contacts with remote
//! address books (Google Contacts, CardDAV) field by field.
//!
//! The library does no networking, storage or clock reading in its core: inputs are
//! snapshots and changes, outputs are plans of writes and new states. I/O lives at the
//! edges: [`host`] describes what the host offers, [`runner`] drives a run through it,
//! and the `wasm` module exposes the plugin class to JavaScript.
#![warn(missing_docs)]

pub mod connectors;
pub mod crm;
pub mod engine;
pub mod providers;
pub mod runner;
pub mod error;
pub mod host;
pub mod manifest;
pub mod match_decisions;
pub mod network;
pub mod plugin_core;
pub mod settings;
pub mod signing_key;
#[cfg(target_arch = "wasm32")]
pub mod wasm;
