//! Event streams: every event, as a `futures::Stream`.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::Stream;
use futures::channel::mpsc;
use tbi_proto::Event;

/// A stream of every [`Event`] of a socket, from the moment it was created. Ends when the
/// socket shuts down. Take one per consumer; each gets every event. Unbounded: consume it
/// (or drop it) — events are small and rare, but a stream nobody reads keeps them all.
#[must_use = "a stream does nothing unless polled"]
pub struct EventStream {
    receiver: mpsc::UnboundedReceiver<Event>,
}

impl Stream for EventStream {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        Pin::new(&mut self.receiver).poll_next(cx)
    }
}

/// The senders of every live stream.
#[derive(Default, Clone)]
pub(crate) struct Subscribers {
    senders: Arc<Mutex<Vec<mpsc::UnboundedSender<Event>>>>,
}

impl Subscribers {
    pub(crate) fn subscribe(&self) -> EventStream {
        let (sender, receiver) = mpsc::unbounded();
        if let Ok(mut senders) = self.senders.lock() {
            senders.push(sender);
        }
        EventStream { receiver }
    }

    /// Sends to every stream, forgetting the dropped ones.
    pub(crate) fn publish(&self, event: &Event) {
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
