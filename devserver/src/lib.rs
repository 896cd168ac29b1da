//! The development server: serves the reference host and the built plugin, and hosts the
//! provider emulators (Google OAuth and People API) on loopback only.
pub mod google;
pub mod http_server;
pub mod static_site;
