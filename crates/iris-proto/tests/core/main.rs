//! Behaviour tests of the Iris core, with fake time. One module per behaviour of the issue.

#![allow(unreachable_pub, clippy::unwrap_used)]

mod support;

mod connect;
mod hostile;
mod keepalive;
mod network;
mod notifications;
mod reconnect;
mod reject;
mod stats;
mod stream;
mod token;
