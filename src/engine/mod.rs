//! The sync engine: a pure core that reconciles CRM contacts with one remote address book
//! (a spoke) field by field.
//!
//! Sans-IO, like quinn-proto: no JS, network, clock or storage in here. Inputs are pages of
//! records and the results of writes; outputs are plans of writes and a new state.
//! `tests/engine_purity.rs` fails the build if a file under `src/engine/` names a JS binding
//! crate.
//!
//! Modules: [`model`] (the canonical contact), [`normalize`] (comparison forms; phones
//! through [`phone_table`] and a registered [`phone_service`]),
//! [`mapping`] (the field-mapping table, catalogue, type checks, note block), [`matching`]
//! (e-mail / phone first match, ambiguities and possible matches; [`names`] tells whether
//! names agree), [`held`] (matches held for the operator's decision), [`carried_id`] (the
//! signed CRM id on remote copies), [`merge`] (field-level three-way
//! merge), [`state`] (links, bases, cursors, intents; versioned serialized form),
//! [`guard`], [`filter`], [`plan`] (writes and results), [`journal`] (undo), [`lease`]
//! (one run per spoke), [`report`] (the engine's part of `RunReport`), and [`session`],
//! the state machine a runner drives (its module documentation gives the call order).

pub mod carried_id;
pub mod config;
pub mod error;
pub mod plan;
pub mod matching;
pub mod lease;
pub mod journal;
pub mod guard;
pub mod held;
pub mod filter;
pub mod mapping;
pub mod merge;
pub mod model;
pub mod names;
pub mod normalize;
pub mod phone_service;
pub mod phone_table;
#[cfg(not(target_arch = "wasm32"))]
pub mod phonenumber_service;
pub mod report;
pub mod session;
pub mod state;

pub use config::{DeletionPolicy, ExportFilter, FilterMode, OnLeave, RemoteCapabilities, SyncConfig};
pub use error::EngineError;
pub use model::{Address, Contact, Email, Name, Organization, Phone, RemoteRecord, Url, ValueKind};
pub use report::{PlanSummary, Side};
