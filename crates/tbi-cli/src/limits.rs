//! The `--timeout` of a command, as a future on the command's runtime.

use std::time::{Duration, Instant};

use tbi_driver::Runtime;

/// Resolves at the deadline; never without one.
pub(crate) async fn deadline<R: Runtime>(timeout: Option<f64>) {
    match timeout {
        Some(secs) => R::sleep_until(Instant::now() + Duration::from_secs_f64(secs)).await,
        None => futures::future::pending::<()>().await,
    }
}
