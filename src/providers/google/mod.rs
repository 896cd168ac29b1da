//! Google Contacts through the People API v1: the protocol as pure data
//! ([`protocol`], [`oauth`]), the Person ↔ canonical mapping ([`person`]), and at the
//! I/O edge the credentials ([`auth`]), quota pacing ([`pacing`]) and the spoke itself
//! ([`client`]).

pub mod auth;
pub mod client;
pub mod connector;
pub mod oauth;
pub mod pacing;
pub mod person;
pub mod protocol;
