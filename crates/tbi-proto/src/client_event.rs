//! The client-event rate limit: at most 10 per second per connection.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Client events allowed per [`WINDOW`].
pub(crate) const MAX_PER_WINDOW: usize = 10;
/// The sliding window of the limit.
pub(crate) const WINDOW: Duration = Duration::from_secs(1);

/// A sliding-window limiter over the send times of recent client events.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    sent: VecDeque<Instant>,
}

impl RateLimiter {
    /// Records a send at `now`, or says how long to wait.
    pub(crate) fn try_acquire(&mut self, now: Instant) -> Result<(), Duration> {
        while self
            .sent
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= WINDOW)
        {
            self.sent.pop_front();
        }
        if self.sent.len() >= MAX_PER_WINDOW {
            let oldest = self.sent.front().copied().unwrap_or(now);
            return Err(WINDOW.saturating_sub(now.saturating_duration_since(oldest)));
        }
        self.sent.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_ten_per_second_then_says_when() {
        let t0 = Instant::now();
        let mut limiter = RateLimiter::default();
        for i in 0..10 {
            assert_eq!(
                limiter.try_acquire(t0 + Duration::from_millis(i * 10)),
                Ok(())
            );
        }
        let wait = limiter
            .try_acquire(t0 + Duration::from_millis(500))
            .unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        assert_eq!(
            limiter.try_acquire(t0 + Duration::from_millis(1000)),
            Ok(())
        );
        assert!(
            limiter
                .try_acquire(t0 + Duration::from_millis(1005))
                .is_err()
        );
        assert_eq!(
            limiter.try_acquire(t0 + Duration::from_millis(1010)),
            Ok(())
        );
    }
}
