//! Exit codes: the contract scripts rely on.

use std::process::ExitCode;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Done: the events counted, the consultation ready, the demo through.
    Ok,
    /// A timeout or a fatal error (the message is on stderr).
    Failed,
    /// Bad usage (clap's own errors exit 2 as well).
    Usage,
    /// `watch`: the consultation was closed before it was ready.
    Closed,
    /// Ctrl-C: disconnected cleanly.
    Interrupted,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(match exit {
            Exit::Ok => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::Closed => 3,
            Exit::Interrupted => 130,
        })
    }
}
