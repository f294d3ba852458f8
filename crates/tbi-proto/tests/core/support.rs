//! A fake server and clock around one `Connection`: every test drives time by jumping to
//! `poll_timeout()`, never by sleeping.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tbi_proto::backend::AuthSigner;
use tbi_proto::{
    AuthFailure, AuthRequest, AuthRequestId, AuthResponse, Config, ConfigBuilder, Connection,
    ConnectionState, Event, Output, RefreshId,
};

pub const KEY: &str = "app-key";
pub const SECRET: &str = "app-secret";
pub const URL: &str = "ws://127.0.0.1:6001";

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

pub fn builder() -> ConfigBuilder {
    Config::builder(KEY).url(URL).jitter_seed(1)
}

/// Everything the connection produced since the last `take`.
#[derive(Default, Debug)]
pub struct Log {
    pub opens: Vec<String>,
    pub sent: Vec<Value>,
    pub closes: Vec<u16>,
    pub auths: Vec<AuthRequest>,
    pub refreshes: Vec<RefreshId>,
    pub cancels: Vec<AuthRequestId>,
    pub events: Vec<Event>,
    /// Every output in order, as a short tag (`open`, `send:pusher:subscribe`, `close`,
    /// `auth`, `event:state`…), for order checks.
    pub order: Vec<String>,
}

pub struct Harness {
    pub conn: Connection,
    pub t0: Instant,
    pub now: Instant,
    pub log: Log,
    pub signer: AuthSigner,
}

impl Harness {
    pub fn new() -> Self {
        Self::with(builder().build().expect("valid config"))
    }

    pub fn with(config: Config) -> Self {
        let t0 = Instant::now();
        Self {
            conn: Connection::new(config),
            t0,
            now: t0,
            log: Log::default(),
            signer: AuthSigner::new(KEY, SECRET).with_master_key([42; 32]),
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.now - self.t0
    }

    pub fn drain(&mut self) {
        while let Some(output) = self.conn.poll_output() {
            match output {
                Output::Open { url } => {
                    self.log.order.push("open".into());
                    self.log.opens.push(url.to_string());
                }
                Output::SendText(text) => {
                    let value: Value =
                        serde_json::from_str(text.as_str()).expect("client frames are JSON");
                    self.log
                        .order
                        .push(format!("send:{}", value["event"].as_str().unwrap_or("?")));
                    self.log.sent.push(value);
                }
                Output::Close { code, .. } => {
                    self.log.order.push("close".into());
                    self.log.closes.push(code);
                }
                Output::Authorize(request) => {
                    self.log.order.push("auth".into());
                    self.log.auths.push(request);
                }
                Output::RefreshCredentials(id) => {
                    self.log.order.push("refresh".into());
                    self.log.refreshes.push(id);
                }
                Output::CancelAuthorize(id) => {
                    self.log.order.push("cancel".into());
                    self.log.cancels.push(id);
                }
                Output::Event(event) => {
                    let tag = serde_json::to_value(&event).expect("events serialize")["type"]
                        .as_str()
                        .unwrap_or("?")
                        .to_owned();
                    self.log.order.push(format!("event:{tag}"));
                    self.log.events.push(event);
                }
                other => panic!("unknown output {other:?}"),
            }
        }
    }

    pub fn take(&mut self) -> Log {
        self.drain();
        std::mem::take(&mut self.log)
    }

    pub fn sent(&mut self) -> Vec<Value> {
        self.drain();
        std::mem::take(&mut self.log.sent)
    }

    pub fn events(&mut self) -> Vec<Event> {
        self.drain();
        std::mem::take(&mut self.log.events)
    }

    pub fn auths(&mut self) -> Vec<AuthRequest> {
        self.drain();
        std::mem::take(&mut self.log.auths)
    }

    pub fn refreshes(&mut self) -> Vec<RefreshId> {
        self.drain();
        std::mem::take(&mut self.log.refreshes)
    }

    /// Jumps to the next deadline and fires it; returns how far time moved.
    pub fn fire_next_timeout(&mut self) -> Duration {
        let deadline = self.conn.poll_timeout().expect("a timer is running");
        let moved = deadline.saturating_duration_since(self.now);
        self.now = self.now.max(deadline);
        self.conn.handle_timeout(self.now);
        self.drain();
        moved
    }

    /// Moves time forward by `d`, firing every timer due on the way at its own deadline.
    pub fn advance(&mut self, d: Duration) {
        let target = self.now + d;
        while let Some(deadline) = self.conn.poll_timeout() {
            if deadline > target {
                break;
            }
            self.now = self.now.max(deadline);
            self.conn.handle_timeout(self.now);
            self.drain();
        }
        self.now = target;
    }

    pub fn connect(&mut self) {
        self.conn.connect(self.now);
        self.drain();
    }

    pub fn server(&mut self, frame: Value) {
        self.server_text(&frame.to_string());
    }

    pub fn server_text(&mut self, text: &str) {
        self.conn.handle_ws_text(self.now, text);
        self.drain();
    }

    pub fn server_close(&mut self, code: u16) {
        self.conn.handle_ws_closed(self.now, code, "");
        self.drain();
    }

    /// Connect, open, and `connection_established` with this socket id.
    pub fn establish(&mut self, socket_id: &str) {
        if matches!(
            self.conn.state(),
            ConnectionState::Disconnected | ConnectionState::Reconnecting
        ) {
            self.connect();
        }
        self.conn.handle_ws_open(self.now);
        self.server(established(socket_id, 120));
        assert_eq!(self.conn.state(), ConnectionState::Connected);
    }

    /// Answers an auth request as a correct auth endpoint would.
    pub fn authorize(&mut self, request: &AuthRequest, channel_data: Option<&str>) {
        let answer = match request.channel() {
            Some(channel) => {
                self.signer
                    .authorize_channel(&request.socket_id, channel, channel_data)
            }
            None => self.signer.authorize_user(
                &request.socket_id,
                channel_data.unwrap_or(r#"{"id":"user-1"}"#),
            ),
        };
        self.conn.handle_auth(self.now, request.id, Ok(answer));
        self.drain();
    }

    pub fn answer(&mut self, request: &AuthRequest, answer: Result<AuthResponse, AuthFailure>) {
        self.conn.handle_auth(self.now, request.id, answer);
        self.drain();
    }

    pub fn succeed(&mut self, channel: &str) {
        self.server(
            json!({"event":"pusher_internal:subscription_succeeded","channel":channel,"data":"{}"}),
        );
    }

    /// Subscribes to a public channel on a live connection and confirms it.
    pub fn subscribed_public(&mut self, channel: &str) {
        self.conn
            .subscribe(self.now, channel)
            .expect("valid channel");
        self.succeed(channel);
    }

    /// Subscribes to an authorized channel on a live connection, answers its auth and
    /// confirms it.
    pub fn subscribed_authorized(&mut self, channel: &str, channel_data: Option<&str>) {
        self.conn
            .subscribe(self.now, channel)
            .expect("valid channel");
        let auths = self.auths();
        let request = auths.last().expect("an auth request");
        self.authorize(request, channel_data);
        self.succeed(channel);
    }

    pub fn state_changes(events: &[Event]) -> Vec<(ConnectionState, ConnectionState)> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::ConnectionStateChanged { current, previous } => Some((*previous, *current)),
                _ => None,
            })
            .collect()
    }
}

pub fn established(socket_id: &str, activity_timeout: u64) -> Value {
    json!({
        "event": "pusher:connection_established",
        "data": json!({"socket_id": socket_id, "activity_timeout": activity_timeout}).to_string(),
    })
}

pub fn event_types(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            serde_json::to_value(e).expect("serializes")["type"]
                .as_str()
                .unwrap_or("?")
                .to_owned()
        })
        .collect()
}

pub fn errors(events: &[Event]) -> Vec<&tbi_proto::ErrorEvent> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Error(error) => Some(error),
            _ => None,
        })
        .collect()
}

pub fn subscribe_frames(sent: &[Value]) -> Vec<String> {
    sent.iter()
        .filter(|f| f["event"] == "pusher:subscribe")
        .map(|f| f["data"]["channel"].as_str().unwrap_or("").to_owned())
        .collect()
}
