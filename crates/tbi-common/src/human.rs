//! Durations in messages for people.

use std::time::Duration;

/// "30 s" for whole seconds, "250 ms" otherwise.
///
/// ```
/// use std::time::Duration;
///
/// assert_eq!(tbi_common::human(Duration::from_secs(30)), "30 s");
/// assert_eq!(tbi_common::human(Duration::from_millis(250)), "250 ms");
/// ```
pub fn human(d: Duration) -> String {
    if d.subsec_millis() == 0 && d.as_secs() > 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}
