//! Waiting for the next event of a command, its deadline, or Ctrl-C.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use futures::{Stream, StreamExt};

use crate::interrupt::Interrupt;

/// What woke a command up.
pub(crate) enum Woken<T> {
    /// The next item (`None`: the stream ended).
    Item(Option<T>),
    /// The `--timeout` passed.
    Deadline,
    /// Ctrl-C.
    Interrupted,
}

/// Waits for the next item of `stream`, the deadline or Ctrl-C, whichever comes first.
pub(crate) async fn next<S: Stream + Unpin>(
    stream: &mut S,
    deadline: &mut Pin<Box<impl Future<Output = ()>>>,
    interrupt: &mut Interrupt,
) -> Woken<S::Item> {
    futures::future::poll_fn(|cx| {
        if interrupt.poll_pressed(cx).is_ready() {
            return Poll::Ready(Woken::Interrupted);
        }
        if let Poll::Ready(item) = stream.poll_next_unpin(cx) {
            return Poll::Ready(Woken::Item(item));
        }
        if deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Woken::Deadline);
        }
        // Nothing is waiting: what was printed goes out now.
        crate::output::flush();
        Poll::Pending
    })
    .await
}
