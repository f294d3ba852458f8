//! Why a fetch the connection asked for (a fresh token, an event-manager or consultation
//! request) has no answer.

use std::error::Error;
use std::fmt::Write as _;

use crate::http::HttpError;

/// The error of a [`TokenFuture`](crate::TokenFuture),
/// [`EventManagerFuture`](crate::EventManagerFuture) or [`ApiFuture`](crate::ApiFuture):
/// the built-in HTTP clients fail with [`FetchError::Http`], an application's own fetch
/// with [`FetchError::new`] or [`FetchError::with_source`], which keeps its cause.
///
/// It must not contain the token: the message is logged and reported.
///
/// ```
/// use tbi_driver::{FetchError, TokenFuture};
///
/// fn from_the_login_service() -> TokenFuture {
///     Box::pin(async {
///         let io = std::io::Error::other("connection refused");
///         Err(FetchError::with_source("the login service is unreachable", io))
///     })
/// }
/// let error = futures::executor::block_on(from_the_login_service()).unwrap_err();
/// assert_eq!(error.to_string(), "the login service is unreachable");
/// assert!(std::error::Error::source(&error).is_some());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The request of a built-in HTTP client got no response.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// An application's own fetch failed.
    #[error("{message}")]
    Failed {
        /// What failed, for a person.
        message: String,
        /// The cause, when there is one.
        #[source]
        source: Option<Box<dyn Error + Send + Sync>>,
    },
}

impl FetchError {
    /// A failure described by `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self::Failed {
            message: message.into(),
            source: None,
        }
    }

    /// A failure described by `message`, caused by `source`.
    pub fn with_source(
        message: impl Into<String>,
        source: impl Into<Box<dyn Error + Send + Sync>>,
    ) -> Self {
        Self::Failed {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// The message followed by its causes (`message: cause: cause's cause`), as the cores
    /// report it.
    pub(crate) fn report(&self) -> String {
        let mut report = self.to_string();
        let mut cause = self.source();
        while let Some(error) = cause {
            let _ = write!(report, ": {error}");
            cause = error.source();
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_keeps_every_cause() {
        let io = std::io::Error::other("connection refused");
        let error = FetchError::with_source("the login service is unreachable", io);
        assert_eq!(
            error.report(),
            "the login service is unreachable: connection refused"
        );
        assert_eq!(FetchError::new("no").report(), "no");
        let http = FetchError::from(HttpError::InvalidUrl("x".into()));
        assert_eq!(http.report(), "invalid request URL: x");
    }
}
