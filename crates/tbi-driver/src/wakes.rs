//! When a connection's event-stream consumers are woken: at once after a quiet spell, at
//! most once per [`WAKE_WINDOW`] while events keep coming.
//!
//! A consumer that keeps up finds its stream empty after every batch the socket reads and
//! waits again; each wake-up is then a thread hand-off (a futex wake, a context switch,
//! the consumer's cold caches), which costs more than tens of events. Through a flood,
//! the socket reads a batch every few tens of events, and waking the consumer for each
//! was most of what an event stream cost beyond an `on_event` handler. So, like a network
//! card's interrupt coalescing: the first events after a quiet spell wake the consumer at
//! once; events arriving less than a window after that wake it when the window ends (a
//! timer of the runtime sees to it), all together. A stream that fills to half its
//! capacity still wakes its consumer at once (see `events::push`), so no event is lost
//! to the window, and the handlers are not concerned: they run on the socket's task.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::events::Consumers;

/// The longest a consumer waits for events that arrived less than this after its last
/// wake-up (plus the runtime timer's granularity: tokio's is a millisecond).
pub(crate) const WAKE_WINDOW: Duration = Duration::from_millis(1);

/// The consumers' last wake-up, and the timer of a wake-up held back.
pub(crate) struct Wakes<S> {
    /// When the consumers were last woken.
    woke_at: Option<Instant>,
    /// Ends with the window, while a wake-up waits for it.
    held: Option<Pin<Box<S>>>,
}

impl<S> Default for Wakes<S> {
    fn default() -> Self {
        Self {
            woke_at: None,
            held: None,
        }
    }
}

impl<S: Future<Output = ()>> Wakes<S> {
    /// Wakes the consumers given events while they waited: now, unless they were woken
    /// less than a [`WAKE_WINDOW`] before `now` (read only when one waits); then when
    /// the window ends (the timer from `sleep_until` wakes `cx`'s task for it, which
    /// calls this again).
    pub(crate) fn soon(
        &mut self,
        now: impl FnOnce() -> Instant,
        consumers: &dyn Consumers,
        cx: &mut Context<'_>,
        sleep_until: impl FnOnce(Instant) -> S,
    ) {
        if !consumers.waiting() {
            self.held = None;
            return;
        }
        let now = now();
        if let Some(end) = self.woke_at.and_then(|at| at.checked_add(WAKE_WINDOW))
            && now < end
        {
            let held = self.held.get_or_insert_with(|| Box::pin(sleep_until(end)));
            if held.as_mut().poll(cx) == Poll::Pending {
                return;
            }
        }
        self.now(now, consumers);
    }

    /// Wakes the consumers given events while they waited, now.
    pub(crate) fn now(&mut self, now: Instant, consumers: &dyn Consumers) {
        self.held = None;
        if consumers.waiting() {
            consumers.wake();
            self.woke_at = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::task::{Wake, Waker};

    use super::*;

    /// Consumers that count their wake-ups, waiting while `waiting` says so.
    #[derive(Default)]
    struct Counted {
        waiting: AtomicBool,
        woken: AtomicUsize,
    }

    impl Consumers for Counted {
        fn poll_room(&self, _: &mut Context<'_>) -> bool {
            true
        }
        fn waiting(&self) -> bool {
            self.waiting.load(Ordering::Relaxed)
        }
        fn wake(&self) {
            self.waiting.store(false, Ordering::Relaxed);
            self.woken.fetch_add(1, Ordering::Relaxed);
        }
    }

    impl Counted {
        /// A consumer found its stream empty, and was given an event since.
        fn given(&self) -> &Self {
            self.waiting.store(true, Ordering::Relaxed);
            self
        }
        fn woken(&self) -> usize {
            self.woken.load(Ordering::Relaxed)
        }
    }

    /// A timer that ends when its flag is set, and says when it was asked to end.
    struct Flagged {
        fired: Arc<AtomicBool>,
    }

    impl Future for Flagged {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            if self.fired.load(Ordering::Relaxed) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }

    struct Task;

    impl Wake for Task {
        fn wake(self: Arc<Self>) {}
    }

    #[test]
    fn a_burst_wakes_the_consumer_first_at_once_then_once_per_window() {
        let t0 = Instant::now();
        let consumers = Counted::default();
        let mut wakes = Wakes::default();
        let waker = Waker::from(Arc::new(Task));
        let mut cx = Context::from_waker(&waker);
        let fired = Arc::new(AtomicBool::new(false));
        let armed = std::cell::Cell::new(None);
        let timer = |end| {
            armed.set(Some(end));
            Flagged {
                fired: fired.clone(),
            }
        };

        wakes.soon(|| t0, &consumers, &mut cx, timer);
        assert_eq!(consumers.woken(), 0, "nobody waited: nothing to wake");
        wakes.soon(|| t0, consumers.given(), &mut cx, timer);
        assert_eq!(consumers.woken(), 1, "after a quiet spell: at once");
        assert_eq!(armed.get(), None);

        let later = t0 + WAKE_WINDOW / 4;
        wakes.soon(|| later, consumers.given(), &mut cx, timer);
        wakes.soon(|| later, &consumers, &mut cx, timer);
        assert_eq!(consumers.woken(), 1, "within the window: held back");
        assert_eq!(armed.get(), Some(t0 + WAKE_WINDOW), "until the window ends");
        fired.store(true, Ordering::Relaxed);
        wakes.soon(|| later, &consumers, &mut cx, timer);
        assert_eq!(consumers.woken(), 2, "the timer ended: woken");

        let end = t0 + WAKE_WINDOW / 4 + WAKE_WINDOW;
        wakes.soon(|| end, consumers.given(), &mut cx, timer);
        assert_eq!(consumers.woken(), 3, "a window after the last: at once");
    }

    #[test]
    fn a_wake_now_is_not_held_back_and_starts_a_window() {
        let t0 = Instant::now();
        let consumers = Counted::default();
        let mut wakes = Wakes::default();
        let waker = Waker::from(Arc::new(Task));
        let mut cx = Context::from_waker(&waker);
        let never = || Flagged {
            fired: Arc::new(AtomicBool::new(false)),
        };
        wakes.now(t0, consumers.given());
        wakes.now(t0, consumers.given());
        assert_eq!(consumers.woken(), 2);
        wakes.soon(
            || t0 + WAKE_WINDOW / 2,
            consumers.given(),
            &mut cx,
            |_| never(),
        );
        assert_eq!(consumers.woken(), 2, "held back");
        wakes.now(t0 + WAKE_WINDOW / 2, &consumers);
        assert_eq!(consumers.woken(), 3, "a wake now takes the held one along");
    }
}
