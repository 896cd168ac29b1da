//! The plugin's network rules, in the core so that every platform (browser, Worker, Node,
//! a host's proxy) gets the same answers: [`url`] parses the addresses strictly and spells
//! origins as the shim does; [`redirect`] decides every redirect (same origin followed,
//! another refused); [`private`] tells hosts on a private network; [`admission`] computes
//! the origins the plugin may contact (the shim admits by it, the tab shows it).

pub mod admission;
pub mod private;
pub mod redirect;
pub mod url;
