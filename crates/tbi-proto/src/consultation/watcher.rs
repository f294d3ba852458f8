//! The consultation watcher: every decision of "wait in the waiting room until the doctor
//! starts the consultation", without IO.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};
use tbi_common::deadline;

use super::watch_types::{ApiRequest, ApiResponse, FetchId, StatusSource, WatchEvent, WatchOutput};
use super::{Consultation, ConsultationEvent, SocketParams, Status};
use crate::backoff::Backoff;
use crate::config::ReconnectPolicy;
use crate::credentials::{Answer, RefreshId, Refresher, Step};
use crate::event::Event;

/// The fields the consultation is fetched with, as the SDKs' `getConsultationInfo`.
pub const EXPAND: &str = "pusherAppKey,parentConsultation,consultations,user,media,pusherChannel,chatConfig,chatHistory,voipConfig,videoConfig,recommendation";

/// The watcher's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WatchConfig {
    /// The API base URL, such as `https://api.example.com` (requests go to
    /// `{api_base}/v1/consultations/{id}`).
    pub api_base: String,
    /// The consultation.
    pub consultation_id: u64,
    /// How often the consultation is fetched again while it is `in_progress` but its
    /// medium's configuration is not there yet. Default 2 s.
    pub poll_interval: Duration,
    /// The first wait after a failed fetch; it doubles up to 30 s. Default 1 s.
    pub retry_delay: Duration,
    /// How long a fetch may take. Default 30 s (the SDKs' timeout).
    pub fetch_timeout: Duration,
    /// Ask for a fresh token ([`WatchOutput::RefreshToken`]) when the API refuses it.
    /// Default off: the watch waits for [`Watcher::update_token`].
    pub refresh_token: bool,
    /// `Accept-Language`, when set (the SDKs send `ar` by default).
    pub language: Option<String>,
    /// Seed of the retry jitter.
    pub jitter_seed: u64,
}

impl WatchConfig {
    /// The defaults for this API and consultation.
    pub fn new(api_base: impl Into<String>, consultation_id: u64) -> Self {
        Self {
            api_base: api_base.into(),
            consultation_id,
            poll_interval: Duration::from_secs(2),
            retry_delay: Duration::from_secs(1),
            fetch_timeout: Duration::from_secs(30),
            refresh_token: false,
            language: None,
            jitter_seed: 0,
        }
    }
}

/// Follows one consultation until its medium's configuration is ready, or it is closed.
///
/// It fetches the consultation, asks the caller to subscribe a socket to its
/// `pusherChannel`, reports every status change, fetches again on `in_progress`, on the
/// `*-conference-ready` events, on the first confirmation of the subscription (events sent
/// before it are lost), after every re-subscription (events sent while disconnected are
/// lost) and after [`Event::Lagged`] (events the event stream dropped are lost), polls while `in_progress` without a configuration, and retries failed fetches
/// with a backoff. No IO, no clock: the caller performs [`WatchOutput`]s and feeds answers
/// and socket events back.
///
/// ```
/// use std::time::Instant;
/// use tbi_proto::consultation::{ApiResponse, WatchConfig, WatchEvent, WatchOutput, Watcher};
///
/// let now = Instant::now();
/// let mut watcher = Watcher::new(WatchConfig::new("https://api.example.com", 42), "user-token");
/// watcher.start(now);
/// let Some(WatchOutput::Fetch(request)) = watcher.poll_output() else { panic!() };
/// assert!(request.url.starts_with("https://api.example.com/v1/consultations/42?expand="));
///
/// let body = br#"{"id":42,"status":"in_progress","medium":"gsm","pusherAppKey":"key",
///                 "pusherChannel":"private-consultation-42"}"#;
/// watcher.handle_fetched(now, request.id, Ok(ApiResponse { status: 200, body: body.to_vec() }));
/// let outputs: Vec<WatchOutput> = std::iter::from_fn(|| watcher.poll_output()).collect();
/// assert!(matches!(&outputs[0], WatchOutput::Subscribe { channel, .. } if channel == "private-consultation-42"));
/// assert!(matches!(outputs.last(), Some(WatchOutput::Event(WatchEvent::Ready { .. }))));
/// assert!(watcher.is_done());
/// ```
pub struct Watcher {
    config: WatchConfig,
    token: String,
    started: bool,
    done: bool,
    channel: Option<String>,
    status: Option<Status>,
    fetch: Option<(FetchId, Instant)>,
    /// Another fetch is wanted once the one under way answers.
    fetch_again: bool,
    next_fetch: Option<Instant>,
    retry: Backoff,
    /// The API refused the token; no fetch until a new one.
    awaiting_token: bool,
    refresher: Refresher,
    next_id: u64,
    out: VecDeque<WatchOutput>,
}

impl fmt::Debug for Watcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watcher")
            .field("consultation_id", &self.config.consultation_id)
            .field("token", &"<redacted>")
            .field("channel", &self.channel)
            .field("status", &self.status)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl Watcher {
    /// A watcher that fetches with this bearer token.
    pub fn new(config: WatchConfig, token: &str) -> Self {
        let retry = Backoff::new(ReconnectPolicy {
            initial_delay: config.retry_delay,
            max_delay: Duration::from_secs(30).max(config.retry_delay),
            max_attempts: None,
            jitter_seed: config.jitter_seed,
        });
        let refresher = Refresher::new(
            config.refresh_token,
            config.fetch_timeout,
            config.jitter_seed,
        );
        Self {
            config,
            token: token.to_owned(),
            started: false,
            done: false,
            channel: None,
            status: None,
            fetch: None,
            fetch_again: false,
            next_fetch: None,
            retry,
            awaiting_token: false,
            refresher,
            next_id: 0,
            out: VecDeque::new(),
        }
    }

    /// Starts: the first fetch. Calling it again does nothing.
    pub fn start(&mut self, now: Instant) {
        if !self.started {
            self.started = true;
            self.fetch_now(now);
        }
    }

    /// Whether the watch is over (ready, closed or failed).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The consultation's last known status.
    pub fn status(&self) -> Option<&Status> {
        self.status.as_ref()
    }

    /// The channel followed, once the first fetch told it.
    pub fn channel(&self) -> Option<&str> {
        self.channel.as_deref()
    }

    /// The next piece of work.
    pub fn poll_output(&mut self) -> Option<WatchOutput> {
        self.out.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.done {
            return None;
        }
        [
            self.next_fetch,
            self.fetch.map(|(_, deadline)| deadline),
            self.refresher.deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Time passed: a scheduled fetch, a fetch that took too long, a token refresh.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.done {
            return;
        }
        if let Some((_, deadline)) = self.fetch
            && deadline <= now
        {
            self.fetch = None;
            let message = format!(
                "no answer from the consultation API within {} s",
                self.config.fetch_timeout.as_secs()
            );
            self.fetch_failed(now, None, message);
        }
        if self.next_fetch.is_some_and(|at| at <= now) {
            self.next_fetch = None;
            self.want_fetch(now);
        }
        let step = self.refresher.on_timeout(now, self.awaiting_token);
        self.refresh_step(step);
    }

    /// A new token for the API (the user logged in again). A watch waiting for one fetches
    /// at once.
    pub fn update_token(&mut self, now: Instant, token: &str) {
        token.clone_into(&mut self.token);
        self.refresher.supplied();
        if self.awaiting_token {
            self.awaiting_token = false;
            self.want_fetch(now);
        }
    }

    /// The answer to a [`WatchOutput::RefreshToken`]: the fresh token, or why there is
    /// none (reported, and asked again after a backoff).
    pub fn handle_token(&mut self, now: Instant, id: RefreshId, answer: Result<String, String>) {
        let ok = answer.is_ok();
        match self.refresher.answered(now, id, ok) {
            None => {}
            Some(Answer::Refreshed) => {
                if let Ok(token) = answer {
                    self.token = token;
                }
                if self.awaiting_token {
                    self.awaiting_token = false;
                    self.want_fetch(now);
                }
            }
            Some(Answer::Failed { retry_in }) => {
                let reason = answer.err().unwrap_or_default();
                self.push(WatchEvent::FetchFailed {
                    status: Some(401),
                    message: format!("getting a fresh token failed: {reason}"),
                    retry_in,
                });
            }
        }
    }

    /// The answer to a [`WatchOutput::Fetch`] (an `Err` for a network failure).
    pub fn handle_fetched(
        &mut self,
        now: Instant,
        id: FetchId,
        answer: Result<ApiResponse, String>,
    ) {
        if self.done || !matches!(self.fetch, Some((current, _)) if current == id) {
            return;
        }
        self.fetch = None;
        match answer {
            Err(reason) => self.fetch_failed(now, None, format!("cannot reach the API: {reason}")),
            Ok(response) => match response.status {
                200 => match serde_json::from_slice::<Consultation>(&response.body) {
                    Ok(consultation) => self.on_consultation(now, &consultation),
                    Err(e) => self.fetch_failed(
                        now,
                        Some(200),
                        format!(
                            "the consultation is not valid JSON: {}",
                            tbi_common::parse_error(&e.to_string())
                        ),
                    ),
                },
                401 => {
                    self.awaiting_token = true;
                    self.push(WatchEvent::TokenRejected {
                        message: format!(
                            "the API refused the token (401): {}",
                            excerpt(&response.body)
                        ),
                    });
                    let step = self.refresher.refused(now);
                    self.refresh_step(step);
                }
                404 => self.fail(format!(
                    "consultation {} does not exist (404): {}",
                    self.config.consultation_id,
                    excerpt(&response.body)
                )),
                status => self.fetch_failed(
                    now,
                    Some(status),
                    format!(
                        "the API answered HTTP {status}: {}",
                        excerpt(&response.body)
                    ),
                ),
            },
        }
        if self.fetch_again && !self.done && !self.awaiting_token && self.fetch.is_none() {
            self.fetch_now(now);
        }
    }

    /// An event of the socket subscribed for [`WatchOutput::Subscribe`].
    pub fn handle_socket_event(&mut self, now: Instant, event: &Event) {
        if self.done {
            return;
        }
        let ours = |channel: &str| self.channel.as_deref() == Some(channel);
        match event {
            Event::Message {
                channel,
                event,
                data,
                ..
            } if ours(channel.as_str()) => match ConsultationEvent::parse(event, data) {
                Ok(Some(ConsultationEvent::CallStatus(call))) => {
                    self.report(call.status.clone(), StatusSource::Event);
                    if call.status == Status::Closed {
                        self.finish(WatchEvent::Closed {
                            status: call.status,
                        });
                    } else if call.status == Status::InProgress {
                        self.want_fetch(now);
                    }
                }
                // The medium's session exists: its configuration is in the consultation.
                Ok(Some(_)) => self.want_fetch(now),
                Ok(None) => {}
                // Untrusted payload: say so, and ask the API what the event meant.
                Err(e) => {
                    self.push(WatchEvent::BadEvent {
                        event: e.event,
                        reason: e.reason,
                    });
                    self.want_fetch(now);
                }
            },
            // Events sent before the first confirmation, or while disconnected, are lost:
            // the consultation tells what happened meanwhile.
            Event::SubscriptionSucceeded { channel, .. } | Event::Resubscribed { channel, .. }
                if ours(channel.as_str()) =>
            {
                self.want_fetch(now);
            }
            // The event stream feeding the watcher fell behind and lost events: a gap like
            // a disconnection's.
            Event::Lagged { .. } => self.want_fetch(now),
            _ => {}
        }
    }

    // ----- internals -----

    fn push(&mut self, event: WatchEvent) {
        self.out.push_back(WatchOutput::Event(event));
    }

    fn finish(&mut self, event: WatchEvent) {
        self.done = true;
        self.fetch = None;
        self.next_fetch = None;
        self.push(event);
    }

    fn fail(&mut self, message: String) {
        self.finish(WatchEvent::Failed { message });
    }

    /// Reports a new status. An API answer that is behind what the events already said
    /// (`new` after an `in_progress` event: the API has not caught up) is not a change.
    fn report(&mut self, status: Status, source: StatusSource) {
        let behind = matches!(
            (self.status.as_ref().and_then(rank), rank(&status)),
            (Some(known), Some(fetched)) if fetched < known
        );
        if behind {
            return;
        }
        if self.status.as_ref() != Some(&status) {
            let previous = self.status.replace(status.clone());
            self.push(WatchEvent::Status {
                status,
                previous,
                source,
            });
        }
    }

    fn want_fetch(&mut self, now: Instant) {
        if self.awaiting_token {
            return;
        }
        if self.fetch.is_some() {
            self.fetch_again = true;
        } else {
            self.fetch_now(now);
        }
    }

    fn fetch_now(&mut self, now: Instant) {
        let id = FetchId(self.next_id);
        self.next_id += 1;
        self.fetch = Some((id, deadline(now, self.config.fetch_timeout)));
        self.fetch_again = false;
        self.next_fetch = None;
        let mut headers = vec![
            ("Authorization".to_owned(), format!("Bearer {}", self.token)),
            ("Accept".to_owned(), "application/json".to_owned()),
        ];
        if let Some(language) = &self.config.language {
            headers.push(("Accept-Language".to_owned(), language.clone()));
        }
        let url = format!(
            "{}/v1/consultations/{}?expand={EXPAND}",
            self.config.api_base.trim_end_matches('/'),
            self.config.consultation_id
        );
        self.out
            .push_back(WatchOutput::Fetch(ApiRequest { id, url, headers }));
    }

    fn fetch_failed(&mut self, now: Instant, status: Option<u16>, message: String) {
        self.retry.next_attempt();
        let retry_in = self.retry.delay();
        self.next_fetch = Some(deadline(now, retry_in));
        self.fetch_again = false;
        self.push(WatchEvent::FetchFailed {
            status,
            message,
            retry_in,
        });
    }

    fn refresh_step(&mut self, step: Step) {
        match step {
            Step::Wait => {}
            Step::Request(id) => self.out.push_back(WatchOutput::RefreshToken(id)),
            Step::Expired { retry_in } => self.push(WatchEvent::FetchFailed {
                status: Some(401),
                message: "no fresh token in time".to_owned(),
                retry_in,
            }),
        }
    }

    fn on_consultation(&mut self, now: Instant, consultation: &Consultation) {
        self.retry.reset();
        self.refresher.authorized();
        if self.channel.is_none() {
            let Some(channel) = consultation
                .pusher_channel
                .clone()
                .filter(|c| !c.is_empty())
            else {
                return self.fail(format!(
                    "consultation {} has no pusherChannel to follow",
                    self.config.consultation_id
                ));
            };
            let params = consultation
                .socket_params
                .clone()
                .filter(|p| p.api_key.as_deref().is_some_and(|k| !k.is_empty()))
                .or_else(|| {
                    consultation
                        .pusher_app_key
                        .as_deref()
                        .filter(|k| !k.is_empty())
                        .map(|key| {
                            SocketParams::for_consultation(&self.config.api_base, key, &self.token)
                        })
                });
            let Some(params) = params else {
                return self.fail(format!(
                    "consultation {} has neither socketParams nor pusherAppKey",
                    self.config.consultation_id
                ));
            };
            self.channel = Some(channel.clone());
            self.out
                .push_back(WatchOutput::Subscribe { params, channel });
        }
        if let Some(status) = consultation.status.clone() {
            self.report(status, StatusSource::Api);
        }
        // The status as far as anyone told: the events may be ahead of the API.
        match self.status.clone() {
            Some(Status::Closed) => self.finish(WatchEvent::Closed {
                status: Status::Closed,
            }),
            Some(Status::InProgress) => match consultation.ready_config() {
                Some(config) => self.finish(WatchEvent::Ready {
                    medium: config.medium(),
                    config,
                }),
                None => self.next_fetch = Some(deadline(now, self.config.poll_interval)),
            },
            _ => {}
        }
    }
}

/// Where a status stands in a consultation's life, for the ones with an order.
fn rank(status: &Status) -> Option<u8> {
    match status {
        Status::New | Status::Scheduled => Some(0),
        Status::Accepted => Some(1),
        Status::InProgress => Some(2),
        Status::Closed => Some(3),
        _ => None,
    }
}

/// The start of a body, for messages; consultations carry chat and call tokens, which
/// are hidden.
fn excerpt(body: &[u8]) -> String {
    tbi_common::excerpt(body, 200)
}
