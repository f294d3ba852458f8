//! Event streams: every event, as a `futures::Stream`, each with a bounded buffer.
//!
//! A stream nobody reads must not grow without bound, and one slow consumer must not slow
//! the connection, its handlers or the other streams. So each stream holds at most its
//! capacity of events; when a new event finds it full, the oldest is dropped, and before
//! the next event it hands out, the stream says how many it lost with one `Lagged { missed
//! }` event. Events are never reordered: everything lost is older than everything kept.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};

use futures::Stream;

/// How many events an [`EventStream`] holds for its consumer by default before it drops
/// the oldest: enough for a burst of a busy connection, small enough that a stream
/// nobody reads stays small (about 100 KiB of typical events).
pub const DEFAULT_EVENT_BUFFER: usize = 1024;

/// An event type that can say "this stream lost `missed` events".
pub trait Lagging {
    /// The event telling a consumer it lost `missed` events.
    fn lagged(missed: u64) -> Self;
}

impl Lagging for tbi_proto::Event {
    fn lagged(missed: u64) -> Self {
        Self::Lagged { missed }
    }
}

#[cfg(feature = "iris")]
impl Lagging for iris_proto::Event {
    fn lagged(missed: u64) -> Self {
        Self::Lagged { missed }
    }
}

/// A stream of every event of a connection, from the moment it was created: a
/// [`tbi_proto::Event`] of a [`TbiSocket`](crate::TbiSocket) by default, an
/// [`iris_proto::Event`] of an [`IrisConnection`](crate::IrisConnection). Ends when the
/// connection shuts down, after the events it still holds. Take one per consumer; each
/// gets every event.
///
/// It holds at most its capacity of events (the configuration's `event_buffer`,
/// [`DEFAULT_EVENT_BUFFER`] unless set). A consumer that falls that far behind loses the
/// oldest events and then receives one `Lagged { missed }` event
/// ([`tbi_proto::Event::Lagged`], [`iris_proto::Event::Lagged`]) before the events that
/// were kept: treat it as a gap, like `Resubscribed`, and re-fetch what the channels
/// carry. The handlers and the other streams are not affected. A stream from
/// [`TbiSocket::lossless_events`](crate::TbiSocket::lossless_events) never drops one:
/// while it is full, the socket reads nothing more.
///
/// A consumer waiting for events is woken as soon as they come after a quiet spell of
/// the connection. While events keep coming, the connection's waiting consumers are
/// woken together about once per millisecond (a consumer whose stream is half full at
/// once), with all that came meanwhile: an event that arrives less than a millisecond
/// after the last wake-up waits until that millisecond ends (plus the runtime timer's
/// granularity, a millisecond on tokio, and however late a busy runtime runs it). Each
/// wake-up is a thread hand-off that costs more than tens of events; the `on_*`
/// handlers, called on the socket's own task, never wait.
#[must_use = "a stream does nothing unless polled"]
pub struct EventStream<E = tbi_proto::Event> {
    queue: Arc<Mutex<Queue<E>>>,
}

impl<E> std::fmt::Debug for EventStream<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let queue = lock(&self.queue);
        f.debug_struct("EventStream")
            .field("buffered", &queue.events.len())
            .field("capacity", &queue.capacity)
            .field("missed", &queue.missed)
            .field("ended", &queue.ended)
            .finish()
    }
}

struct Queue<E> {
    events: VecDeque<E>,
    capacity: usize,
    /// Events dropped since the consumer last heard of it.
    missed: u64,
    waker: Option<Waker>,
    /// Its consumer's waker went to the connection's list of consumers to wake, and the
    /// consumer has not looked at the queue since.
    listed: bool,
    ended: bool,
    /// Never drops: a full queue holds the socket's reading instead.
    lossless: bool,
    /// The socket's task, waiting for room in this full lossless queue.
    room: Option<Waker>,
}

impl<E> Drop for EventStream<E> {
    /// A dropped lossless stream holds the socket back no more: ended under the lock
    /// first, so a socket's task that looks again before the queue is freed finds it
    /// ended rather than full (and does not wait on a waker nobody will call).
    fn drop(&mut self) {
        let room = {
            let mut queue = lock(&self.queue);
            queue.ended = true;
            queue.room.take()
        };
        if let Some(room) = room {
            room.wake();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; recover anyway rather than spread a panic.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<E: Lagging> EventStream<E> {
    /// The next event, or `None` once the connection has shut down and every held event
    /// was taken: `while let Some(event) = events.next().await`, without importing
    /// `futures::StreamExt` (which gives the same method, and the stream combinators).
    ///
    /// ```no_run
    /// # async fn run(socket: tbi_driver::TbiSocket<impl tbi_driver::Runtime>) {
    /// let mut events = socket.events();
    /// while let Some(event) = events.next().await {
    ///     println!("{event:?}");
    /// }
    /// # }
    /// ```
    pub async fn next(&mut self) -> Option<E> {
        futures::StreamExt::next(self).await
    }

    /// How many events it holds now, waiting for its consumer.
    pub fn len(&self) -> usize {
        lock(&self.queue).events.len()
    }

    /// Whether it holds no event now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<E: Lagging> Stream for EventStream<E> {
    type Item = E;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<E>> {
        let mut queue = lock(&self.queue);
        queue.listed = false;
        if queue.missed > 0 {
            let missed = std::mem::take(&mut queue.missed);
            return Poll::Ready(Some(E::lagged(missed)));
        }
        if let Some(event) = queue.events.pop_front() {
            if queue.lossless && queue.events.len() < queue.capacity {
                let room = queue.room.take();
                drop(queue);
                if let Some(room) = room {
                    room.wake();
                }
            }
            return Poll::Ready(Some(event));
        }
        if queue.ended {
            return Poll::Ready(None);
        }
        match &queue.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => queue.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

/// The consumers of a connection's events, as its task sees them (see
/// `Engine::with_consumers`).
pub(crate) trait Consumers: Send + Sync {
    /// Whether every consumer that holds the socket back has room for more events; when
    /// one has not, `cx` is woken once it has.
    fn poll_room(&self, cx: &mut Context<'_>) -> bool;
    /// Whether a consumer was given events while it waited, since the last wake.
    fn waiting(&self) -> bool;
    /// Wakes the consumers that were given events since the last call.
    fn wake(&self);
}

/// Which events a stream takes; `None`: every one.
pub(crate) type Filter<E> = Option<Box<dyn Fn(&E) -> bool + Send + Sync>>;

/// A live stream's queue, and which events it takes.
struct Entry<E> {
    queue: Weak<Mutex<Queue<E>>>,
    filter: Filter<E>,
    lossless: bool,
}

/// The queues of every live stream.
pub(crate) struct Subscribers<E> {
    queues: Mutex<Vec<Entry<E>>>,
    /// How many of them are lossless: without any, the socket's reading never asks.
    lossless: AtomicUsize,
    /// The consumers given an event while they waited, to wake at [`wake`](Self::wake).
    /// Bounded by the events of one batch: a stream's waker is taken when it is put here,
    /// and the stream registers another only after it found its queue empty again (in
    /// practice, one per stream).
    woken: Mutex<Vec<Waker>>,
}

impl<E> Default for Subscribers<E> {
    fn default() -> Self {
        Self {
            queues: Mutex::default(),
            lossless: AtomicUsize::new(0),
            woken: Mutex::default(),
        }
    }
}

impl<E> Subscribers<E> {
    /// Whether every lossless stream has room for more events; when one is full, the
    /// caller (the socket's task) is woken once its consumer takes one, or drops it.
    pub(crate) fn poll_room(&self, cx: &mut Context<'_>) -> bool {
        if self.lossless.load(Ordering::Relaxed) == 0 {
            return true;
        }
        for entry in lock(&self.queues).iter().filter(|e| e.lossless) {
            let Some(queue) = entry.queue.upgrade() else {
                continue;
            };
            let mut queue = lock(&queue);
            if queue.events.len() >= queue.capacity && !queue.ended {
                match &queue.room {
                    Some(room) if room.will_wake(cx.waker()) => {}
                    _ => queue.room = Some(cx.waker().clone()),
                }
                return false;
            }
        }
        true
    }

    /// Whether a consumer was given events while it waited, since the last
    /// [`wake`](Self::wake).
    pub(crate) fn waiting(&self) -> bool {
        !lock(&self.woken).is_empty()
    }

    /// Wakes the consumers that were given events since the last call: the socket's
    /// task calls it when it waits, and every few inputs of a burst (see `wakes.rs`).
    pub(crate) fn wake(&self) {
        // Each woken outside the lock (a waker may do anything), and the list keeps its
        // room: no allocation per batch.
        loop {
            let Some(waker) = lock(&self.woken).pop() else {
                return;
            };
            waker.wake();
        }
    }
}

impl<E: Clone> Subscribers<E> {
    /// A new stream holding at most `capacity` events (at least one).
    pub(crate) fn subscribe(&self, capacity: usize) -> EventStream<E> {
        self.subscribe_filtered(capacity, None)
    }

    /// A new stream of the events `filter` takes, holding at most `capacity` of them: the
    /// others neither fill it nor count as missed.
    pub(crate) fn subscribe_filtered(&self, capacity: usize, filter: Filter<E>) -> EventStream<E> {
        self.subscribe_with(capacity, filter, false)
    }

    /// A new stream that never drops an event: while it holds `capacity`, the socket
    /// reads nothing more (see [`poll_room`](Self::poll_room)).
    pub(crate) fn subscribe_lossless(&self, capacity: usize) -> EventStream<E> {
        self.subscribe_with(capacity, None, true)
    }

    fn subscribe_with(&self, capacity: usize, filter: Filter<E>, lossless: bool) -> EventStream<E> {
        let capacity = capacity.max(1);
        let queue = Arc::new(Mutex::new(Queue {
            events: VecDeque::new(),
            capacity,
            missed: 0,
            waker: None,
            listed: false,
            ended: false,
            lossless,
            room: None,
        }));
        lock(&self.queues).push(Entry {
            queue: Arc::downgrade(&queue),
            filter,
            lossless,
        });
        if lossless {
            self.lossless.fetch_add(1, Ordering::Relaxed);
        }
        EventStream { queue }
    }

    /// Gives every stream the event, dropping the oldest of a full one; forgets the
    /// streams that were dropped.
    pub(crate) fn publish(&self, event: &E) {
        if !lock(&self.queues).is_empty() {
            self.publish_owned(event.clone());
        }
    }

    /// [`publish`](Self::publish), the last stream taking `event` itself: one copy fewer
    /// than there are streams, none with a single one.
    pub(crate) fn publish_owned(&self, event: E) {
        let mut last: Option<Arc<Mutex<Queue<E>>>> = None;
        let mut wake_listed = false;
        lock(&self.queues).retain(|entry| {
            let Some(queue) = entry.queue.upgrade() else {
                if entry.lossless {
                    self.lossless.fetch_sub(1, Ordering::Relaxed);
                }
                return false;
            };
            if entry.filter.as_ref().is_none_or(|takes| takes(&event))
                && let Some(previous) = last.replace(queue)
            {
                wake_listed |= push(&previous, event.clone(), &self.woken);
            }
            true
        });
        if let Some(last) = last {
            wake_listed |= push(&last, event, &self.woken);
        }
        if wake_listed {
            self.wake();
        }
    }

    /// Ends every stream once it has handed out what it holds.
    pub(crate) fn close(&self) {
        self.wake();
        self.lossless.store(0, Ordering::Relaxed);
        for entry in lock(&self.queues).drain(..) {
            if let Some(queue) = entry.queue.upgrade() {
                let waker = {
                    let mut queue = lock(&queue);
                    queue.ended = true;
                    queue.waker.take()
                };
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
        }
    }
}

/// Adds `event` to a stream's queue (dropping its oldest when full, unless it is
/// lossless: a lossless queue goes past its capacity by the events of the input under
/// way at most, as the socket reads nothing more until it has room); a consumer that
/// waited for it goes into `woken`, to be woken with the others of the batch.
///
/// A consumer whose queue is now half full is woken at once, not at the end of the
/// batch or of its wake-up window: before it could lose events. Its own waker when the
/// queue holds it; when that waker is already in `woken`, the answer is `true`: wake
/// the listed ones now. A half-full queue whose consumer does not wait (a stream read
/// now and then) wakes nobody, so the other consumers keep their window.
fn push<E>(queue: &Mutex<Queue<E>>, event: E, woken: &Mutex<Vec<Waker>>) -> bool {
    let (waker, half_full, listed) = {
        let mut queue = lock(queue);
        if queue.events.len() >= queue.capacity && !queue.lossless {
            queue.events.pop_front();
            queue.missed += 1;
        }
        queue.events.push_back(event);
        let half_full = queue.events.len() * 2 >= queue.capacity;
        let waker = queue.waker.take();
        // A consumer with a waker here has looked since it was listed: not both.
        let listed = queue.listed;
        queue.listed |= waker.is_some() && !half_full;
        (waker, half_full, listed)
    };
    match waker {
        Some(waker) if half_full => waker.wake(),
        Some(waker) => lock(woken).push(waker),
        None => {}
    }
    half_full && listed
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;
    use futures::executor::block_on;

    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Test {
        N(u64),
        Lagged(u64),
    }

    impl Lagging for Test {
        fn lagged(missed: u64) -> Self {
            Self::Lagged(missed)
        }
    }

    #[test]
    fn a_full_stream_drops_its_oldest_then_says_how_many() {
        let subscribers = Subscribers::default();
        let mut slow = subscribers.subscribe(3);
        let mut fast = subscribers.subscribe(100);
        for n in 0..10 {
            subscribers.publish(&Test::N(n));
        }
        subscribers.close();
        let slow: Vec<Test> = block_on(slow.by_ref().collect());
        assert_eq!(slow, [Test::Lagged(7), Test::N(7), Test::N(8), Test::N(9)]);
        let fast: Vec<Test> = block_on(fast.by_ref().collect());
        assert_eq!(fast, (0..10).map(Test::N).collect::<Vec<_>>());
    }

    #[test]
    fn a_stream_that_catches_up_hears_of_each_gap_once() {
        let subscribers = Subscribers::default();
        let mut stream = subscribers.subscribe(2);
        for n in 0..4 {
            subscribers.publish(&Test::N(n));
        }
        assert_eq!(block_on(stream.next()), Some(Test::Lagged(2)));
        assert_eq!(block_on(stream.next()), Some(Test::N(2)));
        assert_eq!(block_on(stream.next()), Some(Test::N(3)));
        subscribers.publish(&Test::N(4));
        assert_eq!(block_on(stream.next()), Some(Test::N(4)));
    }

    #[test]
    fn a_filtered_stream_holds_only_what_it_takes() {
        let subscribers = Subscribers::default();
        let even = subscribers.subscribe_filtered(
            2,
            Some(Box::new(|e: &Test| matches!(e, Test::N(n) if n % 2 == 0))),
        );
        for n in 0..4 {
            subscribers.publish(&Test::N(n));
        }
        subscribers.close();
        let even: Vec<Test> = block_on(even.collect());
        assert_eq!(
            even,
            [Test::N(0), Test::N(2)],
            "the odd ones neither fill nor lag it"
        );
    }

    #[test]
    fn dropped_streams_are_forgotten() {
        let subscribers = Subscribers::<Test>::default();
        let stream = subscribers.subscribe(2);
        drop(stream);
        subscribers.publish(&Test::N(1));
        assert!(lock(&subscribers.queues).is_empty());
    }

    /// A waker that counts its wakes.
    struct Counter(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A stream of `capacity` whose consumer found it empty and waits, with its waker's
    /// count of wakes.
    fn waiting(capacity: usize) -> (Subscribers<Test>, EventStream<Test>, Arc<Counter>, Waker) {
        let subscribers = Subscribers::default();
        let mut stream = subscribers.subscribe(capacity);
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut stream).poll_next(&mut cx).is_pending());
        (subscribers, stream, counter, waker)
    }

    #[test]
    fn a_waiting_consumer_is_woken_once_per_batch_not_per_event() {
        let (subscribers, mut stream, counter, waker) = waiting(16);
        let mut cx = Context::from_waker(&waker);
        for n in 0..5 {
            subscribers.publish(&Test::N(n));
        }
        assert_eq!(counter.0.load(Ordering::Relaxed), 0, "held back until wake");
        subscribers.wake();
        subscribers.wake();
        assert_eq!(
            counter.0.load(Ordering::Relaxed),
            1,
            "one wake for the batch"
        );
        for n in 0..5 {
            assert_eq!(
                Pin::new(&mut stream).poll_next(&mut cx),
                Poll::Ready(Some(Test::N(n)))
            );
        }
        // Closing wakes what is held back too.
        assert!(Pin::new(&mut stream).poll_next(&mut cx).is_pending());
        subscribers.publish(&Test::N(5));
        subscribers.close();
        assert_eq!(counter.0.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn a_half_full_stream_wakes_its_consumer_at_once() {
        let (subscribers, _stream, counter, _waker) = waiting(4);
        subscribers.publish(&Test::N(0));
        assert_eq!(counter.0.load(Ordering::Relaxed), 0);
        subscribers.publish(&Test::N(1));
        assert_eq!(counter.0.load(Ordering::Relaxed), 1, "two of four: woken");
    }

    #[test]
    fn a_half_full_stream_nobody_waits_on_holds_nobody_elses_wake_up() {
        let (subscribers, _stream, counter, _waker) = waiting(64);
        // Read now and then: not waiting, and half full from the first event.
        let _idle = subscribers.subscribe(2);
        for n in 0..10 {
            subscribers.publish(&Test::N(n));
        }
        assert_eq!(
            counter.0.load(Ordering::Relaxed),
            0,
            "the waiting consumer keeps its window"
        );
        subscribers.wake();
        assert_eq!(counter.0.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_listed_consumer_whose_stream_fills_to_half_is_woken_at_once() {
        let (subscribers, _stream, counter, _waker) = waiting(8);
        for n in 0..3 {
            subscribers.publish(&Test::N(n));
        }
        assert_eq!(counter.0.load(Ordering::Relaxed), 0, "listed, held back");
        subscribers.publish(&Test::N(3));
        assert_eq!(counter.0.load(Ordering::Relaxed), 1, "four of eight: woken");
        subscribers.publish(&Test::N(4));
        subscribers.wake();
        assert_eq!(counter.0.load(Ordering::Relaxed), 1, "once");
    }

    #[test]
    fn a_full_lossless_stream_holds_the_reader_back_and_lets_it_go_when_read() {
        let subscribers = Subscribers::default();
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(subscribers.poll_room(&mut cx), "no stream: always room");
        let mut lossless = subscribers.subscribe_lossless(2);
        let mut lossy = subscribers.subscribe(2);
        subscribers.publish(&Test::N(0));
        assert!(subscribers.poll_room(&mut cx));
        // An input may carry more events than there is room for: none is dropped.
        for n in 1..4 {
            subscribers.publish(&Test::N(n));
        }
        assert!(!subscribers.poll_room(&mut cx), "full: the reader waits");
        assert_eq!(block_on(lossless.next()), Some(Test::N(0)));
        assert!(!subscribers.poll_room(&mut cx), "three left, still full");
        assert_eq!(block_on(lossless.next()), Some(Test::N(1)));
        assert_eq!(block_on(lossless.next()), Some(Test::N(2)));
        assert_eq!(
            counter.0.load(Ordering::Relaxed),
            1,
            "woken once there was room"
        );
        assert!(subscribers.poll_room(&mut cx));
        assert_eq!(block_on(lossless.next()), Some(Test::N(3)));
        assert_eq!(
            block_on(lossy.next()),
            Some(Test::Lagged(2)),
            "the others are unchanged"
        );

        for n in 4..6 {
            subscribers.publish(&Test::N(n));
        }
        assert!(!subscribers.poll_room(&mut cx));
        drop(lossless);
        assert_eq!(
            counter.0.load(Ordering::Relaxed),
            2,
            "a dropped stream lets it go"
        );
        assert!(subscribers.poll_room(&mut cx));
        subscribers.publish(&Test::N(6));
        assert_eq!(
            subscribers.lossless.load(Ordering::Relaxed),
            0,
            "and is forgotten"
        );
    }
}
