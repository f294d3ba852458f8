//! Running blocking work (HTTP calls to a server, process control) from any async runtime.

use futures::channel::oneshot;

/// Runs `work` on a new thread and awaits its result, without blocking the executor.
pub async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = oneshot::channel();
    std::thread::spawn(move || {
        let _ = sender.send(work());
    });
    receiver.await.expect("the blocking work panicked")
}
