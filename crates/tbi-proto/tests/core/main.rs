//! Behaviour tests of the core, with fake time. One module per behaviour of the spec.

#![allow(unreachable_pub, clippy::unwrap_used)]

mod support;

mod auth;
mod client_events;
mod close_codes;
mod config;
mod credentials;
mod encrypted;
mod events;
mod frames;
mod heartbeat;
mod limits;
mod network;
mod presence;
mod resubscribed;
mod signin;
mod states;
mod stats;
mod subscriptions;
