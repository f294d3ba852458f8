//! Keep-alive: a ping every interval; after the last allowed miss, one more wait.

use std::time::{Duration, Instant};

use tbi_common::deadline;

/// What the keep-alive wants done at a timeout.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Send a ping (`c2s1`).
    Ping,
    /// No answer to any of the pings, nor within the grace: the socket is dead.
    Dead,
}

#[derive(Debug)]
pub(crate) struct KeepAlive {
    interval: Duration,
    max_misses: u32,
    grace: Duration,
    misses: u32,
    next_ping: Instant,
    dead_at: Option<Instant>,
}

impl KeepAlive {
    pub(crate) fn new(interval: Duration, max_misses: u32, grace: Duration, now: Instant) -> Self {
        Self {
            interval,
            max_misses: max_misses.max(1),
            grace,
            misses: 0,
            next_ping: deadline(now, interval),
            dead_at: None,
        }
    }

    pub(crate) fn deadline(&self) -> Instant {
        self.dead_at.unwrap_or(self.next_ping)
    }

    /// An answer to a ping (any IQ with the ping's id). Unlike the reference, which never
    /// pinged again after a late answer to the last ping, pinging resumes.
    pub(crate) fn on_pong(&mut self, now: Instant) {
        self.misses = 0;
        if self.dead_at.take().is_some() {
            self.next_ping = deadline(now, self.interval);
        }
    }

    /// Checks the socket now (the network changed): true when a ping is to be sent, whose
    /// answer must come within the grace, as for the last allowed miss. With the last
    /// ping already unanswered, its deadline stands.
    pub(crate) fn probe(&mut self, now: Instant) -> bool {
        if self.dead_at.is_some() {
            return false;
        }
        self.misses = self.max_misses;
        self.dead_at = Some(deadline(now, self.grace));
        true
    }

    pub(crate) fn poll(&mut self, now: Instant) -> Option<Action> {
        if let Some(dead_at) = self.dead_at {
            return (now >= dead_at).then_some(Action::Dead);
        }
        if now < self.next_ping {
            return None;
        }
        self.misses += 1;
        if self.misses >= self.max_misses {
            self.dead_at = Some(deadline(now, self.grace));
        } else {
            self.next_ping = deadline(now, self.interval);
        }
        Some(Action::Ping)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn four_unanswered_pings_then_three_seconds_is_dead_at_fifteen() {
        let t0 = Instant::now();
        let mut ka = KeepAlive::new(s(3), 4, s(3), t0);
        let mut log = vec![];
        let dead_at = loop {
            let now = ka.deadline();
            match ka.poll(now) {
                Some(Action::Ping) => log.push((now - t0).as_secs()),
                Some(Action::Dead) => break now,
                None => {}
            }
        };
        assert_eq!(log, [3, 6, 9, 12]);
        assert_eq!(dead_at - t0, s(15));
    }

    #[test]
    fn answers_keep_it_alive_and_a_late_last_answer_resumes_pinging() {
        let t0 = Instant::now();
        let mut ka = KeepAlive::new(s(3), 4, s(3), t0);
        for t in [3, 6, 9, 12] {
            assert_eq!(ka.poll(t0 + s(t)), Some(Action::Ping));
        }
        ka.on_pong(t0 + s(14));
        assert_eq!(
            ka.deadline(),
            t0 + s(17),
            "pinging resumes after the late answer"
        );
        assert_eq!(ka.poll(t0 + s(15)), None, "not dead");
        assert_eq!(ka.poll(t0 + s(17)), Some(Action::Ping));
    }

    #[test]
    fn a_probe_pings_at_once_and_waits_the_grace() {
        let t0 = Instant::now();
        let mut ka = KeepAlive::new(s(30), 4, s(3), t0);
        assert!(ka.probe(t0 + s(10)));
        assert_eq!(ka.deadline(), t0 + s(13));
        assert!(!ka.probe(t0 + s(11)), "one ping at a time");
        assert_eq!(ka.deadline(), t0 + s(13));
        assert_eq!(ka.poll(t0 + s(12)), None);
        assert_eq!(ka.poll(t0 + s(13)), Some(Action::Dead));
    }

    #[test]
    fn an_answered_probe_resumes_the_interval() {
        let t0 = Instant::now();
        let mut ka = KeepAlive::new(s(30), 4, s(3), t0);
        assert!(ka.probe(t0 + s(10)));
        ka.on_pong(t0 + s(11));
        assert_eq!(ka.deadline(), t0 + s(41));
        assert_eq!(ka.poll(t0 + s(41)), Some(Action::Ping));
        assert_eq!(ka.deadline(), t0 + s(71), "misses were reset");
    }

    #[test]
    fn early_polls_do_nothing() {
        let t0 = Instant::now();
        let mut ka = KeepAlive::new(s(3), 4, s(3), t0);
        assert_eq!(ka.poll(t0 + s(2)), None);
        assert_eq!(ka.poll(t0 + s(3)), Some(Action::Ping));
        assert_eq!(ka.poll(t0 + s(3)), None);
    }
}
