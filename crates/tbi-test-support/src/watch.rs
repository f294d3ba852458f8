//! Deadline-bounded waits on an event stream, for any connection's events.

use std::fmt::Debug;
use std::time::{Duration, Instant};

use futures::future::{Either, select};
use tbi_driver::{EventStream, Runtime};

/// How long any single expectation may take.
pub const WAIT: Duration = Duration::from_secs(10);

/// Waits for `future`, at most `timeout`.
pub async fn within<R: Runtime, T>(
    timeout: Duration,
    future: impl std::future::Future<Output = T>,
) -> Option<T> {
    let deadline = Box::pin(R::sleep_until(Instant::now() + timeout));
    match select(Box::pin(future), deadline).await {
        Either::Left((value, _)) => Some(value),
        Either::Right(_) => None,
    }
}

/// Sleeps on the runtime's timer.
pub async fn pause<R: Runtime>(duration: Duration) {
    R::sleep_until(Instant::now() + duration).await;
}

/// An event stream and every event it produced so far.
pub struct EventWatch<R, E> {
    events: EventStream<E>,
    /// Every event seen so far, in order.
    pub seen: Vec<E>,
    runtime: std::marker::PhantomData<fn() -> R>,
}

impl<R: Runtime, E: Debug + Clone + tbi_driver::Lagging> EventWatch<R, E> {
    /// Watches `events`.
    pub fn new(events: EventStream<E>) -> Self {
        Self {
            events,
            seen: Vec::new(),
            runtime: std::marker::PhantomData,
        }
    }

    /// Waits for an event matching `wanted`, skipping others; panics with everything seen
    /// when none comes within [`WAIT`].
    pub async fn expect(&mut self, what: &str, wanted: impl Fn(&E) -> bool) -> E {
        self.expect_within(what, WAIT, wanted).await
    }

    /// [`expect`](Self::expect) with another limit.
    pub async fn expect_within(
        &mut self,
        what: &str,
        limit: Duration,
        wanted: impl Fn(&E) -> bool,
    ) -> E {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match within::<R, _>(left, self.events.next()).await {
                Some(Some(event)) => {
                    self.seen.push(event.clone());
                    if wanted(&event) {
                        return event;
                    }
                }
                Some(None) => panic!(
                    "expected {what}, but the event stream ended; seen: {:#?}",
                    self.seen
                ),
                None => panic!("expected {what} within {limit:?}; seen: {:#?}", self.seen),
            }
        }
    }

    /// Checks that nothing matching `unwanted` arrives within `quiet`.
    pub async fn expect_none(
        &mut self,
        what: &str,
        quiet: Duration,
        unwanted: impl Fn(&E) -> bool,
    ) {
        let deadline = Instant::now() + quiet;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            if let Some(Some(event)) = within::<R, _>(left, self.events.next()).await {
                assert!(!unwanted(&event), "did not expect {what}, got {event:?}");
                self.seen.push(event);
            }
        }
    }
}
