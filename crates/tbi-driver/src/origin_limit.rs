//! How many HTTP exchanges may be open to one origin at once, in this process.
//!
//! Every auth request is a connection of its own (`http`), and a process may hold
//! thousands of sockets that subscribe at the same moment: after a server restart, every
//! private channel of every socket asks its auth endpoint again. Unlimited, that is one
//! file descriptor per pending request next to each WebSocket's own (the hard limit here
//! is 20,000 per process, so 10,000 sockets could run out in the middle of a reconnect),
//! and a burst of buffers the allocator cannot give back. So, like a browser's
//! per-host connection limit or OkHttp's dispatcher, requests to one origin (scheme, host
//! and port) wait for one of [`PER_ORIGIN`] places; a request to another origin is not
//! held up.
//!
//! The waiting requests form a queue that is bounded by the requests themselves: each
//! socket's core asks at most one authorization per channel at a time and fails it at its
//! auth timeout, and the HTTP timeout counts the wait (a request that gave up leaves the
//! queue). Waiters are served in the order they came, one woken per place given back:
//! tokio's semaphore (its `sync` part needs no tokio runtime). async-lock's, used for the
//! command queues, wakes one waiter per release only if the last one woken has already
//! run, so places given back together could sit free while requests waited.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

/// HTTP exchanges open to one origin at once, per process.
pub(crate) const PER_ORIGIN: usize = 32;

/// Origins remembered beyond which the forgotten ones (no request open or waiting) are
/// swept out of the table.
const SWEEP_ABOVE: usize = 64;

/// The origins with a request open or waiting, each with its places.
static ORIGINS: Mutex<BTreeMap<String, Weak<Semaphore>>> = Mutex::new(BTreeMap::new());

/// The origin of `url` (the URL standard's: scheme, host and port) as the table's key.
fn key(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// The places of `url`'s origin: the ones in use, or new ones.
fn places(url: &Url) -> Arc<Semaphore> {
    let key = key(url);
    let mut origins = ORIGINS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(places) = origins.get(&key).and_then(Weak::upgrade) {
        return places;
    }
    let places = Arc::new(Semaphore::new(PER_ORIGIN));
    // A scan under the lock, bounded by the origins in use, and only for a new one.
    if origins.len() >= SWEEP_ABOVE {
        origins.retain(|_, places| places.strong_count() > 0);
    }
    origins.insert(key, Arc::downgrade(&places));
    places
}

/// Waits for a place to open an exchange with `url`'s origin; the place is given back
/// when the permit is dropped. `None` only if the places were closed, which they never
/// are (the exchange then goes ahead without one).
pub(crate) async fn enter(url: &Url) -> Option<OwnedSemaphorePermit> {
    places(url).acquire_owned().await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("a URL")
    }

    /// Every place of `origin`'s, taken.
    fn every_place(origin: &Url) -> Vec<Option<OwnedSemaphorePermit>> {
        (0..PER_ORIGIN)
            .map(|_| enter(origin).now_or_never().expect("a free place"))
            .collect()
    }

    #[test]
    fn an_origin_has_its_places_and_another_origin_is_not_held_up() {
        // Port numbers no other test uses: the table is the process's.
        let first = url("http://127.0.0.1:1/pusher/auth");
        let same = url("http://127.0.0.1:1/other?x=1");
        let guards = every_place(&first);
        let mut waiting = Box::pin(enter(&same));
        assert!(
            (&mut waiting).now_or_never().is_none(),
            "the origin is full"
        );
        // Another port, another scheme: other origins.
        assert!(enter(&url("http://127.0.0.1:2/")).now_or_never().is_some());
        assert!(enter(&url("https://127.0.0.1:1/")).now_or_never().is_some());
        drop(guards);
        assert!(waiting.now_or_never().is_some(), "a place was given back");
    }

    #[test]
    fn a_waiter_that_gives_up_leaves_the_queue() {
        let origin = url("http://127.0.0.1:3/");
        let guards = every_place(&origin);
        let mut gave_up = Box::pin(enter(&origin));
        assert!((&mut gave_up).now_or_never().is_none());
        drop(gave_up);
        let mut next = Box::pin(enter(&origin));
        assert!((&mut next).now_or_never().is_none());
        drop(guards.into_iter().next());
        assert!(
            next.now_or_never().is_some(),
            "the place went to the next waiter"
        );
    }

    #[test]
    fn places_given_back_together_go_to_as_many_waiters() {
        let origin = url("http://127.0.0.1:4/");
        let mut guards = every_place(&origin);
        let mut first = Box::pin(enter(&origin));
        let mut second = Box::pin(enter(&origin));
        assert!((&mut first).now_or_never().is_none());
        assert!((&mut second).now_or_never().is_none());
        guards.truncate(PER_ORIGIN - 2);
        let first = first.now_or_never().expect("the first waiter has a place");
        let second = second.now_or_never().expect("so has the second");
        assert!(first.is_some() && second.is_some());
    }

    #[test]
    fn a_newcomer_does_not_take_the_place_of_a_waiter() {
        let origin = url("http://127.0.0.1:5/");
        let mut guards = every_place(&origin);
        let mut waiting = Box::pin(enter(&origin));
        assert!((&mut waiting).now_or_never().is_none());
        drop(guards.pop());
        let mut newcomer = Box::pin(enter(&origin));
        assert!(
            (&mut newcomer).now_or_never().is_none(),
            "the place is the waiter's"
        );
        assert!(waiting.now_or_never().is_some());
    }

    #[test]
    fn origins_with_nothing_open_are_forgotten() {
        for port in 1000..1000 + 2 * SWEEP_ABOVE as u16 {
            let guard = enter(&url(&format!("http://127.0.0.1:{port}/")))
                .now_or_never()
                .expect("a free place");
            drop(guard);
        }
        let origins = ORIGINS.lock().unwrap_or_else(|e| e.into_inner());
        let remembered = origins.len();
        assert!(remembered <= SWEEP_ABOVE + 8, "{remembered} origins kept");
    }
}
