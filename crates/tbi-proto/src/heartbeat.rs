//! The activity check: ping after silence, give up when no answer comes.

use std::time::{Duration, Instant};
use tbi_common::deadline;

/// What the heartbeat wants done at a timeout.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HeartbeatAction {
    /// Send `pusher:ping`.
    Ping,
    /// Nothing arrived within the pong timeout: the connection is dead.
    Dead,
}

/// Tracks inbound activity on a live connection.
#[derive(Debug)]
pub(crate) struct Heartbeat {
    interval: Duration,
    pong_timeout: Duration,
    last_activity: Instant,
    ping_sent_at: Option<Instant>,
}

impl Heartbeat {
    pub(crate) fn new(interval: Duration, pong_timeout: Duration, now: Instant) -> Self {
        Self {
            interval,
            pong_timeout,
            last_activity: now,
            ping_sent_at: None,
        }
    }

    /// Any inbound frame proves the connection alive.
    pub(crate) fn on_activity(&mut self, now: Instant) {
        self.last_activity = now;
        self.ping_sent_at = None;
    }

    /// Checks the connection now instead of at the next silence (the network changed):
    /// true when a ping is to be sent, which must then be answered (by any frame) within
    /// the pong timeout. With a ping already unanswered, that ping's deadline stands.
    pub(crate) fn probe(&mut self, now: Instant) -> bool {
        if self.ping_sent_at.is_some() {
            return false;
        }
        self.ping_sent_at = Some(now);
        true
    }

    /// When the heartbeat next needs `poll`.
    pub(crate) fn deadline(&self) -> Instant {
        match self.ping_sent_at {
            Some(sent) => deadline(sent, self.pong_timeout),
            None => deadline(self.last_activity, self.interval),
        }
    }

    /// Acts when the deadline has passed; a call before it does nothing.
    pub(crate) fn poll(&mut self, now: Instant) -> Option<HeartbeatAction> {
        if now < self.deadline() {
            return None;
        }
        if self.ping_sent_at.is_some() {
            return Some(HeartbeatAction::Dead);
        }
        self.ping_sent_at = Some(now);
        Some(HeartbeatAction::Ping)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pings_after_silence_then_declares_dead_without_answer() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(Duration::from_secs(120), Duration::from_secs(30), t0);
        assert_eq!(hb.deadline(), t0 + Duration::from_secs(120));
        assert_eq!(hb.poll(t0 + Duration::from_secs(119)), None);
        assert_eq!(
            hb.poll(t0 + Duration::from_secs(120)),
            Some(HeartbeatAction::Ping)
        );
        assert_eq!(hb.deadline(), t0 + Duration::from_secs(150));
        assert_eq!(hb.poll(t0 + Duration::from_secs(149)), None);
        assert_eq!(
            hb.poll(t0 + Duration::from_secs(150)),
            Some(HeartbeatAction::Dead)
        );
    }

    #[test]
    fn a_probe_pings_at_once_and_an_unanswered_one_is_dead_after_the_pong_timeout() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(Duration::from_secs(120), Duration::from_secs(30), t0);
        assert!(hb.probe(t0 + Duration::from_secs(5)));
        assert_eq!(hb.deadline(), t0 + Duration::from_secs(35));
        assert!(!hb.probe(t0 + Duration::from_secs(6)), "one ping at a time");
        assert_eq!(
            hb.deadline(),
            t0 + Duration::from_secs(35),
            "its deadline stands"
        );
        assert_eq!(hb.poll(t0 + Duration::from_secs(34)), None);
        assert_eq!(
            hb.poll(t0 + Duration::from_secs(35)),
            Some(HeartbeatAction::Dead)
        );
    }

    #[test]
    fn an_answered_probe_goes_back_to_the_activity_timeout() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(Duration::from_secs(120), Duration::from_secs(30), t0);
        assert!(hb.probe(t0 + Duration::from_secs(5)));
        hb.on_activity(t0 + Duration::from_secs(6));
        assert_eq!(hb.deadline(), t0 + Duration::from_secs(126));
        assert_eq!(hb.poll(t0 + Duration::from_secs(35)), None);
    }

    #[test]
    fn any_frame_resets_the_check() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(Duration::from_secs(10), Duration::from_secs(5), t0);
        assert_eq!(
            hb.poll(t0 + Duration::from_secs(10)),
            Some(HeartbeatAction::Ping)
        );
        hb.on_activity(t0 + Duration::from_secs(12));
        assert_eq!(hb.deadline(), t0 + Duration::from_secs(22));
        assert_eq!(hb.poll(t0 + Duration::from_secs(16)), None);
    }
}
