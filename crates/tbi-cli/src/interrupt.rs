//! Ctrl-C, as a future any runtime can wait on.

use std::task::{Context, Poll};

use futures::StreamExt;
use futures::channel::mpsc;

/// Resolves when the user presses Ctrl-C.
pub(crate) struct Interrupt {
    presses: mpsc::UnboundedReceiver<()>,
}

impl Interrupt {
    /// Installs the handler. Without one (it can be installed once per process), Ctrl-C
    /// keeps its default meaning: the process ends.
    pub(crate) fn install() -> Self {
        let (press, presses) = mpsc::unbounded();
        if let Err(e) = ctrlc::set_handler(move || {
            let _ = press.unbounded_send(());
        }) {
            tracing::warn!("cannot handle Ctrl-C: {e}");
        }
        Self { presses }
    }

    /// Ready once Ctrl-C was pressed.
    pub(crate) fn poll_pressed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match self.presses.poll_next_unpin(cx) {
            Poll::Ready(Some(())) => Poll::Ready(()),
            // No handler, or pressed already handled: wait for the next press.
            Poll::Ready(None) | Poll::Pending => Poll::Pending,
        }
    }
}
