//! The Iris side of the test support: the loopback Iris server (from `tbi-loopback`), waits
//! on what it recorded, a client under test, and the scenarios every adapter runs.

pub mod client;
mod network_changed;
pub mod scenarios;
mod wait;

pub use tbi_loopback::iris::{EvmCall, EvmMode, IrisServer, Recorded, SocketLog, Upgrade, stanzas};
pub use wait::ServerWait;
