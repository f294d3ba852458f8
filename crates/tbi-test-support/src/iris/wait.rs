//! Deadline-bounded waits on what the Iris server recorded.

use std::time::{Duration, Instant};

use tbi_driver::Runtime;
use tbi_loopback::iris::{IrisServer, Recorded};

use crate::watch::{WAIT, pause};

/// Waits and checks on an [`IrisServer`] from a test.
pub trait ServerWait {
    /// Waits until `done` holds for the recording, or panics with it after [`WAIT`].
    fn wait_for<R: Runtime>(
        &self,
        what: &str,
        done: impl Fn(&Recorded) -> bool,
    ) -> impl std::future::Future<Output = Recorded>;

    /// Panics if the client broke the protocol anywhere.
    fn assert_no_violations(&self);
}

impl ServerWait for IrisServer {
    async fn wait_for<R: Runtime>(&self, what: &str, done: impl Fn(&Recorded) -> bool) -> Recorded {
        let deadline = Instant::now() + WAIT;
        loop {
            let recorded = self.recorded();
            if done(&recorded) {
                return recorded;
            }
            if Instant::now() >= deadline {
                panic!("the Iris server did not see {what} within {WAIT:?}: {recorded:#?}");
            }
            pause::<R>(Duration::from_millis(20)).await;
        }
    }

    fn assert_no_violations(&self) {
        let violations = self.violations();
        assert!(
            violations.is_empty(),
            "protocol violations: {violations:#?}"
        );
    }
}
