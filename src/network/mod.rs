//! The plugin's network rules, in the core so that every platform (browser, Worker, Node,
//! a host's proxy) gets the same answers: [`url`] parses the addresses strictly and spells
//! origins as the shim does; [`redirect`] decides every redirect (same origin followed,
//! another refused).

pub mod redirect;
pub mod url;
