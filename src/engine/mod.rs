//! The sync engine: a pure core that reconciles CRM contacts with one remote address book
//! (a spoke) field by field.
//!
//! Sans-IO, like quinn-proto: no JS, network, clock or storage in here. Inputs are pages of
//! records and the results of writes; outputs are plans of writes and a new state.
//! `tests/engine_purity.rs` fails the build if a file under `src/engine/` names a JS binding
//! crate.
//!
//! Modules: [`model`] (the canonical contact), `normalize`, [`mapping`], `matching`,
//! `merge`, `state`, `guard`, `plan`, `journal`, `lease`, `filter`, `session`.

pub mod config;
pub mod error;
pub mod plan;
pub mod matching;
pub mod lease;
pub mod journal;
pub mod guard;
pub mod filter;
pub mod mapping;
pub mod merge;
pub mod model;
pub mod normalize;
pub mod report;
pub mod session;
pub mod state;

pub use config::{DeletionPolicy, ExportFilter, FilterMode, OnLeave, RemoteCapabilities, SyncConfig};
pub use error::EngineError;
pub use model::{Address, Contact, Email, Name, Organization, Phone, RemoteRecord, Url, ValueKind};
pub use report::{PlanSummary, Side};
