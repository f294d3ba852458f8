//! What a connection's handles (`TbiSocket`, `IrisConnection`) and its driver task share,
//! and how a handle sends the task a command.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use async_lock::{Semaphore, SemaphoreGuardArc};
use futures::channel::{mpsc, oneshot};

use crate::events::{Consumers, EventStream, Subscribers};

/// Commands waiting for the driver task, at most; a command finding the queue full waits
/// for room (every command is async).
pub const COMMAND_QUEUE: usize = 32;

/// A command with its room in the queue, given back when the driver task takes it.
pub(crate) struct Queued<C> {
    pub(crate) command: C,
    _room: SemaphoreGuardArc,
}

/// The sending side of a connection's command queue, shared by every handle: a queue
/// that allocates nothing up front (a socket's memory matters when there are thousands)
/// and a semaphore that bounds it.
pub(crate) struct Commands<C> {
    queue: mpsc::UnboundedSender<Queued<C>>,
    room: Arc<Semaphore>,
}

impl<C> Clone for Commands<C> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
            room: self.room.clone(),
        }
    }
}

impl<C> Commands<C> {
    /// Whether the driver task is gone.
    pub(crate) fn is_closed(&self) -> bool {
        self.queue.is_closed()
    }

    /// Queues a command once there is room; `Err` when the driver task is gone.
    pub(crate) async fn send(&self, command: C) -> Result<(), C> {
        if self.queue.is_closed() {
            return Err(command);
        }
        let room = self.room.acquire_arc().await;
        self.queue
            .unbounded_send(Queued {
                command,
                _room: room,
            })
            .map_err(|e| e.into_inner().command)
    }
}

/// The receiving side, the driver task's. Dropping it drops the queued commands, which
/// answers their callers (the connection is gone).
pub(crate) type CommandQueue<C> = mpsc::UnboundedReceiver<Queued<C>>;

/// The handlers, the event streams and the last connection state of one connection.
pub(crate) struct Shared<H, E, S> {
    /// Replaced whole on each change, so the event path takes one reference count, not a
    /// copy of every handler.
    handlers: Mutex<Arc<H>>,
    subscribers: Subscribers<E>,
    /// The capacity of new event streams.
    event_buffer: AtomicUsize,
    state: Mutex<Option<S>>,
}

impl<H: Default, E, S> Shared<H, E, S> {
    pub(crate) fn new(event_buffer: usize) -> Self {
        Self {
            handlers: Mutex::default(),
            subscribers: Subscribers::default(),
            event_buffer: AtomicUsize::new(event_buffer),
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
    /// The handlers as they are now, to call outside the lock.
    pub(crate) fn handlers(&self) -> Arc<H> {
        lock(&self.handlers).clone()
    }

    /// Changes the handlers (a new set replaces the old; a dispatch under way keeps the
    /// set it took).
    pub(crate) fn update_handlers(&self, update: impl FnOnce(&mut H)) {
        let mut current = lock(&self.handlers);
        let mut next = H::clone(&current);
        update(&mut next);
        *current = Arc::new(next);
    }

    pub(crate) fn set_state(&self, state: S) {
        *lock(&self.state) = Some(state);
    }

    /// The last state set; `None` before the first.
    pub(crate) fn state(&self) -> Option<S> {
        *lock(&self.state)
    }

    /// Sets the capacity of new event streams.
    pub(crate) fn set_event_buffer(&self, capacity: usize) {
        self.event_buffer.store(capacity, Ordering::Relaxed);
    }
}

impl<H, E: Clone, S> Shared<H, E, S> {
    /// A new event stream holding `capacity` events, or the configured number.
    pub(crate) fn events(&self, capacity: Option<usize>) -> EventStream<E> {
        let capacity = capacity.unwrap_or_else(|| self.event_buffer.load(Ordering::Relaxed));
        self.subscribers.subscribe(capacity)
    }

    /// A new event stream of the events `filter` takes, holding the configured number.
    pub(crate) fn events_filtered(&self, filter: crate::events::Filter<E>) -> EventStream<E> {
        let capacity = self.event_buffer.load(Ordering::Relaxed);
        self.subscribers.subscribe_filtered(capacity, filter)
    }

    /// A new lossless event stream holding the configured number before the socket
    /// waits for its consumer.
    pub(crate) fn events_lossless(&self) -> EventStream<E> {
        let capacity = self.event_buffer.load(Ordering::Relaxed);
        self.subscribers.subscribe_lossless(capacity)
    }

    /// Gives every event stream the event, the last one this very event.
    pub(crate) fn publish_owned(&self, event: E) {
        self.subscribers.publish_owned(event);
    }

    /// Gives every event stream the event.
    pub(crate) fn publish(&self, event: &E) {
        self.subscribers.publish(event);
    }

    /// Ends every event stream.
    pub(crate) fn end_streams(&self) {
        self.subscribers.close();
    }
}

impl<H: Send + Sync, E: Send, S: Send + Sync> Consumers for Shared<H, E, S> {
    /// Every lossless stream has room.
    fn poll_room(&self, cx: &mut std::task::Context<'_>) -> bool {
        self.subscribers.poll_room(cx)
    }

    fn waiting(&self) -> bool {
        self.subscribers.waiting()
    }

    fn wake(&self) {
        self.subscribers.wake();
    }
}

/// The command queue of one connection: handles send, the driver task receives.
pub(crate) fn commands<C>() -> (Commands<C>, CommandQueue<C>) {
    let (queue, received) = mpsc::unbounded();
    let room = Arc::new(Semaphore::new(COMMAND_QUEUE));
    (Commands { queue, room }, received)
}

/// Sends the driver task a command carrying a reply slot (waiting for room in the queue),
/// and waits for the reply; `None` when the task is gone.
pub(crate) async fn call<C, T>(
    commands: &Commands<C>,
    command: impl FnOnce(oneshot::Sender<T>) -> C,
) -> Option<T> {
    let (reply, answer) = oneshot::channel();
    commands.send(command(reply)).await.ok()?;
    answer.await.ok()
}

#[cfg(test)]
mod tests {
    use std::pin::pin;
    use std::task::Poll;

    use futures::StreamExt;
    use futures::executor::block_on;

    use super::*;

    #[test]
    fn a_full_command_queue_makes_callers_wait_for_room() {
        block_on(async {
            let (commands, mut received) = commands::<oneshot::Sender<u32>>();
            let mut first = None;
            for _ in 0..COMMAND_QUEUE {
                let (reply, answer) = oneshot::channel();
                commands.send(reply).await.expect("room");
                first.get_or_insert(answer);
            }
            // The queue is full: the next command waits for room, it is not queued.
            let mut waiting = pin!(call(&commands, |reply| reply));
            assert_eq!(futures::poll!(waiting.as_mut()), Poll::Pending);
            assert_eq!(commands.room.try_acquire().map(drop), None);
            // The task takes one: the waiting command goes in and waits for its answer.
            let Queued { command, _room } = received.next().await.expect("a command");
            let _ = command.send(1);
            drop(_room);
            assert_eq!(futures::poll!(waiting.as_mut()), Poll::Pending);
            let mut queued = 0;
            while let Ok(queued_command) = received.try_recv() {
                queued += 1;
                let _ = queued_command.command.send(7);
            }
            assert_eq!(queued, COMMAND_QUEUE, "the 31 left and the one that waited");
            assert_eq!(waiting.await, Some(7));
            assert_eq!(first.expect("a command").await, Ok(1));
        });
    }

    #[test]
    fn commands_for_a_gone_task_fail_and_queued_ones_are_answered() {
        block_on(async {
            let (commands, received) = commands::<oneshot::Sender<u32>>();
            let mut queued = pin!(call(&commands, |reply| reply));
            assert_eq!(futures::poll!(queued.as_mut()), Poll::Pending);
            drop(received);
            assert_eq!(
                queued.await,
                None,
                "dropped with the queue: answered as closed"
            );
            assert_eq!(call(&commands, |reply| reply).await, None);
            assert!(commands.is_closed());
        });
    }
}
