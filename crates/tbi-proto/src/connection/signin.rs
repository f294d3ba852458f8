//! User sign-in (`pusher:signin`) and the `#server-to-user-{id}` channel it opens.
//!
//! Once asked for, the sign-in is redone after every reconnect: a `socket_id` is signed, so
//! each connection needs its own. The server-to-user channel is subscribed only after the
//! server confirms the sign-in on that connection.

use std::time::Instant;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{AuthPurpose, Connection};
use crate::auth::{AuthFailure, AuthRequestId, AuthResponse};
use crate::channel::{ChannelName, SERVER_TO_USER_PREFIX};
use crate::event::{ErrorKind, Event};
use crate::wire::inbound::{Data, SigninSuccess, scalar_to_string};
use crate::wire::outbound;

#[derive(Debug, Default)]
pub(super) struct Signin {
    /// The application asked to sign in.
    wanted: bool,
    phase: Phase,
}

#[derive(Debug, Default)]
enum Phase {
    #[default]
    Idle,
    Authorizing(AuthRequestId),
    /// `pusher:signin` sent; `order` places it among subscribe frames, to match a server
    /// error that names neither.
    SigningIn {
        order: u64,
    },
    SignedIn {
        user_id: String,
    },
    /// The auth endpoint refused the credentials; tried again when they change.
    AwaitingCredentials,
}

impl Signin {
    pub(super) fn user_id(&self) -> Option<&str> {
        match &self.phase {
            Phase::SignedIn { user_id } => Some(user_id),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct UserData {
    id: Box<RawValue>,
}

impl Connection {
    /// Signs the user in (`pusher:signin`), now if connected, else once connected, and again
    /// after every reconnect. The core asks for a user signature with
    /// [`Output::Authorize`](crate::Output::Authorize) (target
    /// [`AuthTarget::User`](crate::AuthTarget::User)); the answer needs `auth` and
    /// `user_data`. Success is [`Event::SignedIn`]; failures are errors of kind
    /// [`ErrorKind::SigninFailed`].
    pub fn signin(&mut self, now: Instant) {
        self.signin.wanted = true;
        if matches!(self.signin.phase, Phase::Idle | Phase::AwaitingCredentials) {
            self.signin.phase = Phase::Idle;
            self.signin_on_connected(now);
        }
    }

    pub(super) fn signin_on_connected(&mut self, now: Instant) {
        if !self.signin.wanted || !matches!(self.signin.phase, Phase::Idle) {
            return;
        }
        if let Some(id) = self.request_auth(now, AuthPurpose::User) {
            self.signin.phase = Phase::Authorizing(id);
        }
    }

    pub(super) fn signin_on_connection_lost(&mut self) {
        if !matches!(self.signin.phase, Phase::AwaitingCredentials) {
            self.signin.phase = Phase::Idle;
        }
    }

    /// Whether the sign-in waits for new credentials.
    pub(super) fn signin_awaits_credentials(&self) -> bool {
        matches!(self.signin.phase, Phase::AwaitingCredentials)
    }

    /// New credentials: a refused sign-in is tried again (now, or once connected).
    pub(super) fn signin_credentials_updated(&mut self, now: Instant) {
        if self.signin_awaits_credentials() {
            self.signin.phase = Phase::Idle;
            self.signin_on_connected(now);
        }
    }

    /// The order of the `pusher:signin` frame awaiting its answer.
    pub(super) fn signin_in_flight(&self) -> Option<u64> {
        match self.signin.phase {
            Phase::SigningIn { order } => Some(order),
            _ => None,
        }
    }

    /// The user request `id` was refused with credentials since replaced: ask again.
    pub(super) fn signin_authorize_again(&mut self, now: Instant, id: AuthRequestId) {
        if matches!(self.signin.phase, Phase::Authorizing(expected) if expected == id) {
            self.signin.phase = Phase::Idle;
            self.signin_on_connected(now);
        }
    }

    pub(super) fn on_user_auth(
        &mut self,
        now: Instant,
        id: AuthRequestId,
        answer: Result<AuthResponse, AuthFailure>,
    ) {
        if !matches!(self.signin.phase, Phase::Authorizing(expected) if expected == id) {
            return;
        }
        let answer = match answer {
            Ok(answer) => answer,
            Err(failure) if self.refuses_credentials(failure.status) => {
                self.signin.phase = Phase::AwaitingCredentials;
                let status = failure.status.unwrap_or_default();
                let message = format!("user authentication was refused: {}", failure.message);
                return self.credentials_refused(now, None, status, message);
            }
            Err(failure) => {
                self.signin.phase = Phase::Idle;
                let code = failure.status.map(i32::from);
                return self.error(
                    ErrorKind::SigninFailed,
                    code,
                    format!("user authentication failed: {}", failure.message),
                );
            }
        };
        self.credentials_accepted();
        let Some(user_data) = answer.user_data.filter(|d| !d.is_empty()) else {
            self.signin.phase = Phase::Idle;
            return self.error(
                ErrorKind::SigninFailed,
                None,
                "the user auth answer has no user_data".into(),
            );
        };
        let order = self.next_request_order;
        self.next_request_order += 1;
        self.signin.phase = Phase::SigningIn { order };
        self.send(outbound::signin(&answer.auth, &user_data));
    }

    pub(super) fn signin_rejected(&mut self, code: Option<i32>, message: String) {
        self.signin.phase = Phase::Idle;
        self.error(
            ErrorKind::SigninFailed,
            code,
            format!("server rejected the sign-in: {message}"),
        );
    }

    pub(super) fn on_signin_success(&mut self, now: Instant, data: &Data<'_>) {
        if !matches!(self.signin.phase, Phase::SigningIn { .. }) {
            return;
        }
        let user_data = match data.parse::<SigninSuccess>() {
            Ok(success) => success.user_data,
            Err(e) => {
                self.signin.phase = Phase::Idle;
                return self.error(
                    ErrorKind::SigninFailed,
                    None,
                    format!("pusher:signin_success with bad data: {}", e.0),
                );
            }
        };
        let user_id = serde_json::from_str::<UserData>(&user_data)
            .ok()
            .and_then(|d| scalar_to_string(d.id.get()))
            .filter(|id| !id.is_empty());
        let Some(user_id) = user_id else {
            self.signin.phase = Phase::Idle;
            return self.error(
                ErrorKind::SigninFailed,
                None,
                "pusher:signin_success: user_data has no id".into(),
            );
        };
        self.signin.phase = Phase::SignedIn {
            user_id: user_id.clone(),
        };
        let channel = ChannelName::from_server(&format!("{SERVER_TO_USER_PREFIX}{user_id}"));
        self.channels.insert(channel.clone());
        // The server authorizes this channel by the signed-in connection: no signature.
        self.start_subscription(now, &channel);
        self.push_event(Event::SignedIn { user_id, user_data });
    }
}
