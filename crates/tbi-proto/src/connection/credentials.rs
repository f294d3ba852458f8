//! Refused credentials: channels (and the sign-in) that wait for new ones, the refresh the
//! core asks for, and the re-authorization once new credentials are in place.

use std::time::{Duration, Instant};

use super::{AuthPurpose, Connection};
use crate::channel::ChannelName;
use crate::channel::table::Phase;
use crate::credentials::{Answer, RefreshId, Step};
use crate::event::{ErrorKind, Event, SubscriptionErrorKind};
use crate::output::Output;
use tbi_common::human;

impl Connection {
    /// New credentials are in place: the application replaced the auth endpoint, its token,
    /// its headers or the authorizer. Every channel waiting for credentials (see
    /// [`Event::AuthRejected`]) is authorized again, once, with the current `socket_id`
    /// (or subscribed on the next connection), and a refused sign-in is tried again.
    /// Channels already subscribed are not touched.
    ///
    /// ```
    /// use std::time::Instant;
    /// use tbi_proto::{AuthResponse, Config, Connection, Event, Output, SubscriptionStatus};
    ///
    /// let now = Instant::now();
    /// let mut conn = Connection::new(Config::builder("key").url("ws://127.0.0.1:6001").build()?);
    /// conn.subscribe(now, "private-consultation-42")?;
    /// conn.connect(now);
    /// conn.handle_ws_text(now, r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.2\"}"}"#);
    /// let request = std::iter::from_fn(|| conn.poll_output())
    ///     .find_map(|o| match o { Output::Authorize(r) => Some(r), _ => None })
    ///     .expect("an auth request");
    /// // The token in the auth endpoint has expired.
    /// conn.handle_auth(now, request.id, AuthResponse::from_http(401, b"token expired"));
    /// assert!(std::iter::from_fn(|| conn.poll_output())
    ///     .any(|o| matches!(o, Output::Event(Event::AuthRejected { status: 401, .. }))));
    /// assert_eq!(conn.channels()[0].status, SubscriptionStatus::AwaitingCredentials);
    ///
    /// // The application put a fresh token in the endpoint: authorized again, once.
    /// conn.credentials_updated(now);
    /// let again = std::iter::from_fn(|| conn.poll_output())
    ///     .filter(|o| matches!(o, Output::Authorize(_)))
    ///     .count();
    /// assert_eq!(again, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn credentials_updated(&mut self, now: Instant) {
        self.refresher.supplied();
        self.credentials_epoch += 1;
        self.reauthorize_waiting(now);
    }

    /// The answer to an [`Output::RefreshCredentials`]: `Ok` once fresh credentials are in
    /// place (the waiting channels are then authorized again), or why none could be had
    /// (each waiting channel gets a [`SubscriptionErrorKind::CredentialsRefresh`] error and
    /// the refresh is tried again after a backoff). Answers to an older refresh are
    /// ignored.
    pub fn handle_credentials(&mut self, now: Instant, id: RefreshId, answer: Result<(), String>) {
        let ok = answer.is_ok();
        match self.refresher.answered(now, id, ok) {
            None => {}
            Some(Answer::Refreshed) => {
                self.credentials_epoch += 1;
                self.reauthorize_waiting(now);
            }
            Some(Answer::Failed { retry_in }) => {
                let reason = answer.err().unwrap_or_default();
                self.refresh_failed(&reason, retry_in);
            }
        }
    }

    /// Whether an auth endpoint status means the credentials were refused.
    pub(super) fn refuses_credentials(&self, status: Option<u16>) -> bool {
        status.is_some_and(|s| self.config.credentials_rejected().contains(&s))
    }

    /// Tells the application, and refreshes when it may. The caller has already put the
    /// channel (or the sign-in) in its waiting phase.
    pub(super) fn credentials_refused(
        &mut self,
        now: Instant,
        channel: Option<ChannelName>,
        status: u16,
        message: String,
    ) {
        let waiting = self.waiting_channels();
        self.push_event(Event::AuthRejected {
            channel,
            waiting,
            status,
            message,
        });
        let step = self.refresher.refused(now);
        self.refresh_step(step);
    }

    /// An authorization worked: the credentials are good.
    pub(super) fn credentials_accepted(&mut self) {
        self.refresher.authorized();
    }

    /// A scheduled refresh is due, or the one under way took too long.
    pub(super) fn check_refresh(&mut self, now: Instant) {
        let waiting = !self.waiting_channels().is_empty() || self.signin_awaits_credentials();
        let step = self.refresher.on_timeout(now, waiting);
        self.refresh_step(step);
    }

    pub(super) fn refresh_deadline(&self) -> Option<Instant> {
        self.refresher.deadline()
    }

    fn refresh_step(&mut self, step: Step) {
        match step {
            Step::Wait => {}
            Step::Request(id) => self.out.push_back(Output::RefreshCredentials(id)),
            Step::Expired { retry_in } => {
                let reason = format!(
                    "no fresh credentials within {}",
                    human(self.config.auth_timeout())
                );
                self.refresh_failed(&reason, retry_in);
            }
        }
    }

    fn refresh_failed(&mut self, reason: &str, retry_in: Duration) {
        let message = format!(
            "refreshing the auth credentials failed: {reason}; trying again in {}",
            human(Duration::from_secs(retry_in.as_secs().max(1)))
        );
        for channel in self.waiting_channels() {
            self.push_event(Event::SubscriptionError {
                channel,
                kind: SubscriptionErrorKind::CredentialsRefresh,
                message: message.clone(),
                status: None,
            });
        }
        if self.signin_awaits_credentials() {
            self.error(ErrorKind::SigninFailed, None, message);
        }
    }

    /// Visible channels waiting for credentials, in subscription order.
    fn waiting_channels(&self) -> Vec<ChannelName> {
        self.channels
            .names_in_order()
            .into_iter()
            .filter(|name| {
                self.channels
                    .get(name)
                    .is_some_and(|e| e.visible() && e.awaits_credentials())
            })
            .collect()
    }

    fn reauthorize_waiting(&mut self, now: Instant) {
        let live = self.live().is_some();
        for name in self.channels.names_in_order() {
            let Some(entry) = self.channels.get_mut(&name) else {
                continue;
            };
            if entry.rekey.as_ref().is_some_and(|r| r.request.is_none()) {
                // Subscribed, and its fresh key was refused: fetch it again (the socket is
                // live: losing it ends the key refresh).
                if let Some(id) = self.request_auth(now, AuthPurpose::Rekey(name.clone()))
                    && let Some(rekey) = self.channels.get_mut(&name).and_then(|e| e.rekey.as_mut())
                {
                    rekey.request = Some(id);
                }
                continue;
            }
            if entry.phase != Phase::AwaitingCredentials {
                continue;
            }
            entry.phase = Phase::Waiting;
            if live {
                self.start_subscription(now, &name);
            }
        }
        self.signin_credentials_updated(now);
    }
}
