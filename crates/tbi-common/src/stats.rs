//! A connection's running figures, kept by either core and read with `stats(now)`.

use std::time::{Duration, Instant};

/// What a connection did since it was created: its reconnects, the last round trip of a
/// ping, what it received, how long the current connection has been up and how long the
/// last outage lasted. A snapshot: take a new one to see new figures.
///
/// ```
/// use std::time::{Duration, Instant};
/// use tbi_common::StatsTracker;
///
/// let t0 = Instant::now();
/// let mut tracker = StatsTracker::default();
/// tracker.on_established(t0);
/// tracker.on_ping_sent(t0 + Duration::from_secs(120));
/// tracker.on_pong(t0 + Duration::from_millis(120_040));
/// let stats = tracker.stats(t0 + Duration::from_secs(121));
/// assert_eq!(stats.round_trip, Some(Duration::from_millis(40)));
/// assert_eq!(stats.connected_for, Some(Duration::from_secs(121)));
/// assert_eq!(stats.reconnects, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Connections established, the first included.
    pub connections: u64,
    /// Connections established again after one was lost (not after the application
    /// disconnected).
    pub reconnects: u64,
    /// The time from the last answered ping to its answer.
    pub round_trip: Option<Duration>,
    /// Application events received (Pusher messages, Iris notifications).
    pub events: u64,
    /// Bytes of every frame received.
    pub bytes_received: u64,
    /// How long the current connection has been up; `None` when not connected.
    pub connected_for: Option<Duration>,
    /// How long the last outage lasted, from the loss to the next connection.
    pub last_gap: Option<Duration>,
}

/// Keeps [`Stats`] up to date as a core sees its connection; every method takes the
/// core's `now`. Counters saturate instead of overflowing.
#[derive(Debug, Clone, Default)]
pub struct StatsTracker {
    stats: Stats,
    connected_at: Option<Instant>,
    lost_at: Option<Instant>,
    ping_sent_at: Option<Instant>,
}

impl StatsTracker {
    /// A frame of `bytes` arrived.
    pub fn on_bytes(&mut self, bytes: usize) {
        let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
        self.stats.bytes_received = self.stats.bytes_received.saturating_add(bytes);
    }

    /// An application event arrived.
    pub fn on_event(&mut self) {
        self.stats.events = self.stats.events.saturating_add(1);
    }

    /// A ping went out; a ping still unanswered keeps its time.
    pub fn on_ping_sent(&mut self, now: Instant) {
        self.ping_sent_at.get_or_insert(now);
    }

    /// The answer to the ping arrived.
    pub fn on_pong(&mut self, now: Instant) {
        if let Some(sent) = self.ping_sent_at.take() {
            self.stats.round_trip = Some(now.saturating_duration_since(sent));
        }
    }

    /// The connection is established (the handshake finished).
    pub fn on_established(&mut self, now: Instant) {
        self.stats.connections = self.stats.connections.saturating_add(1);
        self.connected_at = Some(now);
        self.ping_sent_at = None;
        if let Some(lost) = self.lost_at.take() {
            self.stats.reconnects = self.stats.reconnects.saturating_add(1);
            self.stats.last_gap = Some(now.saturating_duration_since(lost));
        }
    }

    /// The established connection was lost; the outage starts (once, however many
    /// attempts fail during it).
    pub fn on_lost(&mut self, now: Instant) {
        if self.connected_at.take().is_some() {
            self.lost_at.get_or_insert(now);
        }
        self.ping_sent_at = None;
    }

    /// The application closed the connection: no outage.
    pub fn on_closed(&mut self) {
        self.connected_at = None;
        self.lost_at = None;
        self.ping_sent_at = None;
    }

    /// The figures as of `now`.
    pub fn stats(&self, now: Instant) -> Stats {
        Stats {
            connected_for: self
                .connected_at
                .map(|at| now.saturating_duration_since(at)),
            ..self.stats
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn an_outage_is_one_gap_however_many_attempts_fail() {
        let t0 = Instant::now();
        let mut t = StatsTracker::default();
        t.on_established(t0);
        t.on_lost(t0 + s(10));
        t.on_lost(t0 + s(12)); // a failed attempt: not established, no new outage
        t.on_established(t0 + s(15));
        let stats = t.stats(t0 + s(20));
        assert_eq!((stats.connections, stats.reconnects), (2, 1));
        assert_eq!(stats.last_gap, Some(s(5)));
        assert_eq!(stats.connected_for, Some(s(5)));
    }

    #[test]
    fn an_application_close_is_not_an_outage() {
        let t0 = Instant::now();
        let mut t = StatsTracker::default();
        t.on_established(t0);
        t.on_closed();
        t.on_established(t0 + s(60));
        let stats = t.stats(t0 + s(60));
        assert_eq!(
            (stats.connections, stats.reconnects, stats.last_gap),
            (2, 0, None)
        );
    }

    #[test]
    fn a_lost_ping_gives_no_round_trip_and_counters_saturate() {
        let t0 = Instant::now();
        let mut t = StatsTracker::default();
        t.on_established(t0);
        t.on_ping_sent(t0 + s(1));
        t.on_lost(t0 + s(2));
        t.on_pong(t0 + s(3));
        assert_eq!(t.stats(t0).round_trip, None);
        t.on_bytes(usize::MAX);
        t.on_bytes(usize::MAX);
        assert_eq!(t.stats(t0).bytes_received, u64::MAX);
    }
}
