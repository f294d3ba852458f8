//! Shared test support for the adapters: real servers on loopback, a signing auth endpoint,
//! a signed HTTP API publisher, a scriptable Iris server, and the scenarios every adapter
//! runs on every server.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod app;
pub mod auth_endpoint;
mod block;
pub mod client;
pub mod fault_proxy;
pub mod fixture_replay;
pub mod http_proxy;
pub mod iris;
mod macros;
pub mod memory;
pub mod ports;
pub mod process;
pub mod publish;
pub mod scenarios;
pub mod servers;
pub mod tls_proxy;
pub mod watch;

pub use block::blocking;
