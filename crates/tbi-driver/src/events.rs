//! Event streams: every event, as a `futures::Stream`.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::Stream;
use futures::channel::mpsc;

/// A stream of every event of a connection, from the moment it was created: a
/// [`tbi_proto::Event`] of a [`TbiSocket`](crate::TbiSocket) by default, an
/// [`iris_proto::Event`] of an [`IrisConnection`](crate::IrisConnection). Ends when the
/// connection shuts down. Take one per consumer; each gets every event. Unbounded: consume
/// it (or drop it) — events are small and rare, but a stream nobody reads keeps them all.
#[must_use = "a stream does nothing unless polled"]
pub struct EventStream<E = tbi_proto::Event> {
    receiver: mpsc::UnboundedReceiver<E>,
}

impl<E> Stream for EventStream<E> {
    type Item = E;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<E>> {
        Pin::new(&mut self.receiver).poll_next(cx)
    }
}

/// The senders of every live stream.
pub(crate) struct Subscribers<E> {
    senders: Arc<Mutex<Vec<mpsc::UnboundedSender<E>>>>,
}

impl<E> Default for Subscribers<E> {
    fn default() -> Self {
        Self {
            senders: Arc::default(),
        }
    }
}

impl<E: Clone> Subscribers<E> {
    pub(crate) fn subscribe(&self) -> EventStream<E> {
        let (sender, receiver) = mpsc::unbounded();
        if let Ok(mut senders) = self.senders.lock() {
            senders.push(sender);
        }
        EventStream { receiver }
    }

    /// Sends to every stream, forgetting the dropped ones.
    pub(crate) fn publish(&self, event: &E) {
        if let Ok(mut senders) = self.senders.lock() {
            senders.retain(|s| s.unbounded_send(event.clone()).is_ok());
        }
    }

    /// Ends every stream.
    pub(crate) fn close(&self) {
        if let Ok(mut senders) = self.senders.lock() {
            senders.clear();
        }
    }
}
