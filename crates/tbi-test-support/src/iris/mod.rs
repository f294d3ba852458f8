//! The Iris side of the test support: a scriptable loopback Iris server (event manager and
//! XMPP WebSocket endpoint), its stanzas, a client under test, and the scenarios every
//! adapter runs.

pub mod client;
pub mod scenarios;
pub mod server;
pub mod stanzas;
mod xmpp;

pub use server::{EvmCall, EvmMode, IrisServer, Recorded, SocketLog, Upgrade};
