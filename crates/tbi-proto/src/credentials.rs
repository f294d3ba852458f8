//! Refreshing the auth credentials: when the auth endpoint refuses them (HTTP 401 or 403:
//! the token in the endpoint has expired), at most one refresh at a time, with a backoff
//! between refreshes that did not help.

use std::time::{Duration, Instant};

use crate::backoff::Backoff;
use crate::config::ReconnectPolicy;

/// Identifies one credentials refresh, from
/// [`Output::RefreshCredentials`](crate::Output::RefreshCredentials); the answer quotes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RefreshId(pub(crate) u64);

/// The first wait between two refreshes that did not help; it doubles up to
/// [`MAX_REFRESH_DELAY`].
pub const FIRST_REFRESH_DELAY: Duration = Duration::from_secs(1);

/// The longest wait between two refreshes.
pub const MAX_REFRESH_DELAY: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No refresh under way; the next one may start at `not_before`.
    Idle { not_before: Option<Instant> },
    /// Asked for; fails at `deadline`.
    InFlight { id: RefreshId, deadline: Instant },
    /// Wanted, but waiting out the backoff until `at`.
    Scheduled { at: Instant },
}

/// What the refresher decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Nothing to do now.
    Wait,
    /// Ask the caller for fresh credentials.
    Request(RefreshId),
    /// The refresh under way took too long: it failed; retry after `retry_in`.
    Expired { retry_in: Duration },
}

/// The refresh state machine. It knows nothing of channels: the connection tells it when
/// credentials were refused, when a refresh answered, and when an authorization worked.
#[derive(Debug)]
pub(crate) struct Refresher {
    enabled: bool,
    state: State,
    /// Counts refreshes since the last authorization that worked.
    backoff: Backoff,
    next_id: u64,
    timeout: Duration,
}

impl Refresher {
    pub(crate) fn new(enabled: bool, timeout: Duration, jitter_seed: u64) -> Self {
        Self {
            enabled,
            state: State::Idle { not_before: None },
            backoff: Backoff::new(ReconnectPolicy {
                initial_delay: FIRST_REFRESH_DELAY,
                max_delay: MAX_REFRESH_DELAY,
                max_attempts: None,
                jitter_seed,
            }),
            next_id: 0,
            timeout,
        }
    }

    pub(crate) fn configure(&mut self, enabled: bool, timeout: Duration) {
        self.enabled = enabled;
        self.timeout = timeout;
        if !enabled {
            self.state = State::Idle { not_before: None };
        }
    }

    fn start(&mut self, now: Instant) -> Step {
        let id = RefreshId(self.next_id);
        self.next_id += 1;
        self.backoff.next_attempt();
        self.state = State::InFlight {
            id,
            deadline: tbi_common::deadline(now, self.timeout),
        };
        Step::Request(id)
    }

    /// Credentials were refused: refresh now, later, or not (one is under way, or
    /// refreshing is off).
    pub(crate) fn refused(&mut self, now: Instant) -> Step {
        if !self.enabled {
            return Step::Wait;
        }
        match self.state {
            State::Idle { not_before } => match not_before {
                Some(at) if at > now => {
                    self.state = State::Scheduled { at };
                    Step::Wait
                }
                _ => self.start(now),
            },
            State::InFlight { .. } | State::Scheduled { .. } => Step::Wait,
        }
    }

    /// The answer to refresh `id`; `None` when `id` is not the refresh under way.
    pub(crate) fn answered(&mut self, now: Instant, id: RefreshId, ok: bool) -> Option<Answer> {
        if !matches!(self.state, State::InFlight { id: current, .. } if current == id) {
            return None;
        }
        let delay = self.backoff.delay();
        if ok {
            // Fresh credentials: use them at once. Should they be refused too, the next
            // refresh waits (no refresh storm against an endpoint that keeps refusing).
            self.state = State::Idle {
                not_before: Some(tbi_common::deadline(now, delay)),
            };
            Some(Answer::Refreshed)
        } else {
            self.state = State::Scheduled {
                at: tbi_common::deadline(now, delay),
            };
            Some(Answer::Failed { retry_in: delay })
        }
    }

    /// An authorization worked: the credentials are good; the next refusal refreshes at
    /// once.
    pub(crate) fn authorized(&mut self) {
        self.backoff.reset();
        if let State::Idle { .. } = self.state {
            self.state = State::Idle { not_before: None };
        }
    }

    /// The application supplied credentials itself: no backoff for them.
    pub(crate) fn supplied(&mut self) {
        self.backoff.reset();
        match self.state {
            State::Idle { .. } | State::Scheduled { .. } => {
                self.state = State::Idle { not_before: None };
            }
            State::InFlight { .. } => {}
        }
    }

    /// When [`on_timeout`](Self::on_timeout) has something to do.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        match self.state {
            State::Idle { .. } => None,
            State::InFlight { deadline, .. } => Some(deadline),
            State::Scheduled { at } => Some(at),
        }
    }

    /// Time passed: a scheduled refresh starts (when something still waits for
    /// credentials), a refresh under way may expire.
    pub(crate) fn on_timeout(&mut self, now: Instant, waiting: bool) -> Step {
        match self.state {
            State::Scheduled { at } if at <= now => {
                if waiting && self.enabled {
                    self.start(now)
                } else {
                    self.state = State::Idle { not_before: None };
                    Step::Wait
                }
            }
            State::InFlight { deadline, .. } if deadline <= now => {
                let retry_in = self.backoff.delay();
                self.state = State::Scheduled {
                    at: tbi_common::deadline(now, retry_in),
                };
                Step::Expired { retry_in }
            }
            _ => Step::Wait,
        }
    }
}

/// How a refresh ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    Refreshed,
    Failed { retry_in: Duration },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refresher() -> (Refresher, Instant) {
        (
            Refresher::new(true, Duration::from_secs(10), 1),
            Instant::now(),
        )
    }

    #[test]
    fn one_refresh_at_a_time() {
        let (mut r, t0) = refresher();
        assert_eq!(r.refused(t0), Step::Request(RefreshId(0)));
        assert_eq!(r.refused(t0), Step::Wait);
        assert_eq!(r.answered(t0, RefreshId(1), true), None);
        assert_eq!(r.answered(t0, RefreshId(0), true), Some(Answer::Refreshed));
        assert_eq!(r.answered(t0, RefreshId(0), true), None, "answered once");
    }

    #[test]
    fn refused_again_after_a_refresh_waits_and_backs_off() {
        let (mut r, t0) = refresher();
        r.refused(t0);
        r.answered(t0, RefreshId(0), true);
        // Refused again at once: the next refresh waits.
        assert_eq!(r.refused(t0), Step::Wait);
        let first = r.deadline().expect("scheduled") - t0;
        assert!(first <= FIRST_REFRESH_DELAY, "{first:?}");
        assert_eq!(r.on_timeout(t0 + first, true), Step::Request(RefreshId(1)));
        r.answered(t0 + first, RefreshId(1), true);
        r.refused(t0 + first);
        let second = r.deadline().expect("scheduled") - (t0 + first);
        assert!(second >= FIRST_REFRESH_DELAY, "doubles: {second:?}");
    }

    #[test]
    fn an_authorization_that_works_resets_the_backoff() {
        let (mut r, t0) = refresher();
        r.refused(t0);
        r.answered(t0, RefreshId(0), true);
        r.authorized();
        assert_eq!(r.refused(t0), Step::Request(RefreshId(1)));
    }

    #[test]
    fn failures_and_timeouts_schedule_the_next_refresh() {
        let (mut r, t0) = refresher();
        r.refused(t0);
        let Some(Answer::Failed { retry_in }) = r.answered(t0, RefreshId(0), false) else {
            panic!("a failure")
        };
        assert_eq!(r.deadline(), Some(t0 + retry_in));
        assert_eq!(
            r.on_timeout(t0 + retry_in, true),
            Step::Request(RefreshId(1))
        );
        let late = t0 + retry_in + Duration::from_secs(10);
        assert!(matches!(r.on_timeout(late, true), Step::Expired { .. }));
        // Nothing waits any more when the retry is due: no refresh.
        let at = r.deadline().expect("scheduled");
        assert_eq!(r.on_timeout(at, false), Step::Wait);
        assert_eq!(r.deadline(), None);
    }

    #[test]
    fn off_means_never() {
        let mut r = Refresher::new(false, Duration::from_secs(10), 1);
        assert_eq!(r.refused(Instant::now()), Step::Wait);
        assert_eq!(r.deadline(), None);
    }
}
