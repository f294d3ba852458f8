//! Time arithmetic that never overflows: deadlines come from configurations and from
//! peers (a token's `exp`, a server's timeout), and no value of either may panic.

use std::time::{Duration, Instant, SystemTime};

/// `now + delay`; when that is beyond what an [`Instant`] can hold, the furthest instant
/// it can (a deadline centuries away means "never" all the same).
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let now = Instant::now();
/// assert_eq!(tbi_common::deadline(now, Duration::from_secs(3)), now + Duration::from_secs(3));
/// assert!(tbi_common::deadline(now, Duration::MAX) > now + Duration::from_secs(86_400 * 365 * 100));
/// ```
pub fn deadline(now: Instant, delay: Duration) -> Instant {
    let mut delay = delay;
    loop {
        if let Some(at) = now.checked_add(delay) {
            return at;
        }
        delay /= 2;
    }
}

/// `time + delay` on the wall clock, saturating the same way.
///
/// ```
/// use std::time::{Duration, SystemTime};
///
/// let now = SystemTime::now();
/// assert!(tbi_common::wall_deadline(now, Duration::MAX) > now);
/// ```
pub fn wall_deadline(time: SystemTime, delay: Duration) -> SystemTime {
    let mut delay = delay;
    loop {
        if let Some(at) = time.checked_add(delay) {
            return at;
        }
        delay /= 2;
    }
}
