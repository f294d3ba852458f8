//! The Iris RTC connection: the handle, its configuration, handlers, the event manager
//! client and the driver of the [`iris_proto`] core.

pub(crate) mod config;
pub(crate) mod connection;
pub(crate) mod driver;
pub(crate) mod error;
pub(crate) mod event_manager;
pub(crate) mod handlers;
pub(crate) mod recording;
pub(crate) mod trace_id;
