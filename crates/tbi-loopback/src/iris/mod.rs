//! A scriptable Iris server on loopback: the event manager over HTTP and the XMPP
//! WebSocket endpoint, following the wire spec (`iris.md`), with everything the client
//! sent recorded. Its stanzas and the client frames it expects are in [`stanzas`].

mod server;
pub mod stanzas;
mod xmpp;

pub use server::{EvmCall, EvmMode, IrisServer, NoLiveSocket, Recorded, SocketLog, Upgrade};
