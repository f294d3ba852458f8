//! A process-wide socket, for code ported from TBISocket's `getInstance()`.

use std::sync::{Mutex, MutexGuard};

use crate::config::SocketConfig;
use crate::error::SocketError;
use crate::runtime::Runtime;
use crate::socket::TbiSocket;

/// A slot for one process-wide [`TbiSocket`]; each adapter declares one as a `static`.
///
/// Prefer creating and passing sockets; this exists so a port of the React Native code can
/// keep its `getInstance()` shape. [`init`](Self::init) creates the socket once; calling it
/// again reconfigures the same socket, keeping subscriptions and handlers (the React Native
/// wrapper lost subscriptions and stacked handlers on every `init`).
pub struct SharedInstance<R> {
    slot: Mutex<Option<TbiSocket<R>>>,
}

impl<R> Default for SharedInstance<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R> SharedInstance<R> {
    /// An empty slot.
    pub const fn new() -> Self {
        Self {
            slot: Mutex::new(None),
        }
    }

    fn slot(&self) -> MutexGuard<'_, Option<TbiSocket<R>>> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The socket, once [`init`](Self::init) was called.
    pub fn get(&self) -> Option<TbiSocket<R>> {
        self.slot().clone()
    }
}

impl<R: Runtime> SharedInstance<R> {
    /// Creates the socket, or reconfigures the existing one with
    /// [`TbiSocket::reinit`].
    pub async fn init(&self, config: SocketConfig) -> Result<TbiSocket<R>, SocketError> {
        let existing = {
            let mut slot = self.slot();
            match &*slot {
                Some(socket) => Some(socket.clone()),
                None => {
                    *slot = Some(TbiSocket::new(config.clone()));
                    None
                }
            }
        };
        match existing {
            Some(socket) => {
                socket.reinit(config).await?;
                Ok(socket)
            }
            None => self.get().ok_or(SocketError::Closed),
        }
    }

    /// Shuts the socket down and empties the slot; the next `init` creates a new socket.
    pub async fn reset(&self) {
        let socket = self.slot().take();
        if let Some(socket) = socket {
            socket.shutdown().await;
        }
    }
}
