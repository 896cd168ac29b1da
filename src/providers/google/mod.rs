//! Google Contacts through the People API v1: the protocol as pure data
//! ([`protocol`], [`oauth`]), the Person ↔ canonical mapping ([`person`]).

pub mod oauth;
pub mod person;
pub mod protocol;
