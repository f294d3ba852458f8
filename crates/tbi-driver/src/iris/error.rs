//! Errors of the Iris connection's commands.

use iris_proto::{ParameterError, RejectError};

/// Why an [`IrisConnection`](crate::IrisConnection) command failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IrisError {
    /// `connect` or `update_token` refused an argument (the reference's -101).
    #[error(transparent)]
    Parameter(#[from] ParameterError),
    /// `reject_session` could not send the reject.
    #[error(transparent)]
    Reject(#[from] RejectError),
    /// The connection was shut down.
    #[error("the Iris connection was shut down; create a new IrisConnection")]
    Closed,
}
