//! Exponential backoff with seeded jitter.

use std::time::Duration;

use crate::config::ReconnectPolicy;

/// Counts consecutive failed attempts and draws the next delay.
#[derive(Debug)]
pub(crate) struct Backoff {
    policy: ReconnectPolicy,
    rng: fastrand::Rng,
    attempts: u32,
}

impl Backoff {
    pub(crate) fn new(policy: ReconnectPolicy) -> Self {
        let rng = fastrand::Rng::with_seed(policy.jitter_seed);
        Self {
            policy,
            rng,
            attempts: 0,
        }
    }

    /// Counts one more attempt; `None` when the attempt limit is used up.
    pub(crate) fn next_attempt(&mut self) -> Option<u32> {
        if self
            .policy
            .max_attempts
            .is_some_and(|max| self.attempts >= max)
        {
            return None;
        }
        self.attempts += 1;
        Some(self.attempts)
    }

    /// The delay before the current attempt: uniform in `[base/2, base)`,
    /// `base = min(max_delay, initial_delay * 2^(attempts-1))`.
    pub(crate) fn delay(&mut self) -> Duration {
        let exponent = self.attempts.saturating_sub(1).min(30);
        let base = self
            .policy
            .initial_delay
            .saturating_mul(1 << exponent)
            .min(self.policy.max_delay);
        let half = base / 2;
        half + half.mul_f64(self.rng.f64())
    }

    /// Consecutive failed attempts so far.
    pub(crate) fn attempts(&self) -> u32 {
        self.attempts
    }

    /// A connection was established: the next failure starts from the first delay again.
    pub(crate) fn reset(&mut self) {
        self.attempts = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(max_attempts: Option<u32>) -> ReconnectPolicy {
        ReconnectPolicy {
            max_attempts,
            jitter_seed: 7,
            ..ReconnectPolicy::default()
        }
    }

    #[test]
    fn delays_double_within_jitter_bounds_up_to_the_cap() {
        let mut backoff = Backoff::new(policy(None));
        let mut bases = vec![];
        for _ in 0..10 {
            backoff.next_attempt().unwrap();
            let delay = backoff.delay();
            let base = Duration::from_secs(1 << (backoff.attempts() - 1).min(5))
                .min(Duration::from_secs(30));
            assert!(delay >= base / 2 && delay < base, "{delay:?} vs {base:?}");
            bases.push(base);
        }
        assert_eq!(bases[9], Duration::from_secs(30));
    }

    #[test]
    fn same_seed_same_delays() {
        let draw = || {
            let mut b = Backoff::new(policy(None));
            (0..5)
                .map(|_| {
                    b.next_attempt();
                    b.delay()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(), draw());
    }

    #[test]
    fn attempt_limit_is_enforced_and_reset() {
        let mut backoff = Backoff::new(policy(Some(2)));
        assert_eq!(backoff.next_attempt(), Some(1));
        assert_eq!(backoff.next_attempt(), Some(2));
        assert_eq!(backoff.next_attempt(), None);
        backoff.reset();
        assert_eq!(backoff.next_attempt(), Some(1));
    }
}
