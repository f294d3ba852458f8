//! What a connection's handles (`TbiSocket`, `IrisConnection`) and its driver task share,
//! and how a handle sends the task a command.

use std::sync::{Mutex, MutexGuard};

use futures::channel::{mpsc, oneshot};

use crate::events::Subscribers;

/// The handlers, the event streams and the last connection state of one connection.
pub(crate) struct Shared<H, E, S> {
    handlers: Mutex<H>,
    pub(crate) subscribers: Subscribers<E>,
    state: Mutex<Option<S>>,
}

impl<H: Default, E, S> Default for Shared<H, E, S> {
    fn default() -> Self {
        Self {
            handlers: Mutex::default(),
            subscribers: Subscribers::default(),
            state: Mutex::new(None),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking handler cannot poison these: handlers run outside the locks.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<H: Clone, E, S: Copy> Shared<H, E, S> {
    /// A copy of the handlers, to call outside the lock.
    pub(crate) fn handlers(&self) -> H {
        lock(&self.handlers).clone()
    }

    /// Changes the handlers.
    pub(crate) fn update_handlers(&self, update: impl FnOnce(&mut H)) {
        update(&mut lock(&self.handlers));
    }

    pub(crate) fn set_state(&self, state: S) {
        *lock(&self.state) = Some(state);
    }

    /// The last state set; `None` before the first.
    pub(crate) fn state(&self) -> Option<S> {
        *lock(&self.state)
    }
}

/// Sends the driver task a command carrying a reply slot, and waits for the reply;
/// `None` when the task is gone.
pub(crate) async fn call<C, T>(
    commands: &mpsc::UnboundedSender<C>,
    command: impl FnOnce(oneshot::Sender<T>) -> C,
) -> Option<T> {
    let (reply, answer) = oneshot::channel();
    commands.unbounded_send(command(reply)).ok()?;
    answer.await.ok()
}
