//! Google Contacts through the People API v1: the protocol as pure data
//! ([`protocol`], [`oauth`]), the Person ↔ canonical mapping ([`person`]), and at the
//! I/O edge the credentials ([`auth`]), quota pacing ([`pacing`]), the spoke itself
//! ([`client`]) and the optional photo pass after a run ([`photos`]).

pub mod auth;
pub mod client;
pub mod connector;
pub mod oauth;
pub mod pacing;
pub mod person;
pub mod photos;
pub mod protocol;
