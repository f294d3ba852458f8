//! A process-wide socket, for code ported from TBISocket's `getInstance()`.
//!
//! Prefer creating and passing [`TbiSocket`](crate::TbiSocket)s. [`INSTANCE.init`](tbi_driver::SharedInstance::init)
//! creates the shared socket once; calling it again reconfigures the same socket —
//! subscriptions and handlers are kept, never duplicated.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use tbi_tokio::{SocketConfig, shared::INSTANCE};
//!
//! let socket = INSTANCE.init(SocketConfig::builder("app-key").cluster("eu").build()?).await?;
//! socket.on_event(|e| println!("{}", e.event_name));
//! // Later, anywhere:
//! let same = INSTANCE.get().expect("initialised");
//! same.subscribe("consultation-42").await?;
//! # Ok(()) }
//! ```

use tbi_driver::SharedInstance;

use crate::Tokio;

/// The process-wide socket.
pub static INSTANCE: SharedInstance<Tokio> = SharedInstance::new();
