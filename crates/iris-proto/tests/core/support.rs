//! A scripted event manager and XMPP server around one `Connection`, with a fake clock.

#![allow(dead_code)]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use iris_proto::{
    Config, ConnectParams, Connection, Event, HttpRequest, HttpRequestId, HttpResponse, Output,
};

pub const ROUTING_ID: &str = "a1b2c3@Example.COM";
pub const UNIX_NOW: u64 = 1_700_000_000;

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

/// A JWT whose `exp` is `UNIX_NOW + lifetime` seconds.
pub fn jwt(lifetime: u64) -> String {
    let claims = format!(r#"{{"sub":"a1b2c3","exp":{}}}"#, UNIX_NOW + lifetime);
    format!(
        "eyJhbGciOiJIUzI1NiJ9.{}.sig",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims)
    )
}

pub fn evm_answer(ws_token: &str) -> String {
    serde_json::json!({
        "websocket_server": "ws.example.net",
        "websocket_server_token": ws_token,
        "websocket_server_token_expiry_time": "1700003600",
        "turn_credentials": "{\"ttl\":86400,\"ice_servers\":[{\"urls\":[\"turn:t.example.net:3478?transport=udp\"],\"username\":\"u\",\"credential\":\"p\"}]}"
    })
    .to_string()
}

pub const SERVER_HEADER: &str = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='example.com' version='1.0'>";
pub const MECHANISMS: &str = "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>NOAUTH</mechanism></mechanisms></stream:features>";
pub const SUCCESS: &str = "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";
pub const BIND_FEATURES: &str = "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></stream:features>";
pub const BIND_ONLY_FEATURES: &str =
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>";
pub const BOUND: &str = "<iq type='result' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>a1b2c3@example.com/res123</jid></bind></iq>";
pub const SESSION_OK: &str = "<iq type='result' id='sess'/>";
pub const PONG: &str = "<iq type='result' id='c2s1' from='example.com'/>";

pub fn notify(kind: &str, room: &str) -> String {
    format!(
        r#"<iq type="set" id="n-{room}" from="callcontrol@example.com" to="a1b2c3@example.com/res123"><query xmlns="jabber:iq:private" strict="false"><data xmlns="urn:xmpp:comcast:info" type="{kind}" roomid="{room}" routingid="caller@example.com" traceid="T1" roomtoken="RT" roomtokenexpirytime="1700000100" rtcserver="xmpp-a.example.net" userdata="{{&quot;data&quot;:{{&quot;cname&quot;:&quot;Bob&quot;,&quot;cid&quot;:&quot;caller@example.com&quot;}},&quot;notification&quot;:{{&quot;srcTN&quot;:&quot;+15551234567&quot;,&quot;topic&quot;:&quot;federation/pstn&quot;,&quot;type&quot;:&quot;pstn&quot;}}}}"/></query></iq>"#
    )
}

#[derive(Default, Debug)]
pub struct Log {
    pub http: Vec<HttpRequest>,
    pub opens: Vec<String>,
    pub sent: Vec<String>,
    pub closes: Vec<u16>,
    pub cancels: Vec<HttpRequestId>,
    pub events: Vec<Event>,
}

pub struct Harness {
    pub conn: Connection,
    pub t0: Instant,
    pub now: Instant,
    pub log: Log,
}

impl Harness {
    pub fn new() -> Self {
        Self::with(Config::default())
    }

    pub fn with(config: Config) -> Self {
        let t0 = Instant::now();
        Self {
            conn: Connection::new(config),
            t0,
            now: t0,
            log: Log::default(),
        }
    }

    pub fn unix_now(&self) -> SystemTime {
        UNIX_EPOCH + secs(UNIX_NOW) + (self.now - self.t0)
    }

    pub fn drain(&mut self) {
        while let Some(output) = self.conn.poll_output() {
            match output {
                Output::Http(request) => self.log.http.push(request),
                Output::Open { url } => self.log.opens.push(url),
                Output::SendText(text) => self.log.sent.push(text),
                Output::Close { code, .. } => self.log.closes.push(code),
                Output::Event(event) => self.log.events.push(event),
                Output::CancelHttp(id) => self.log.cancels.push(id),
                other => panic!("unknown output {other:?}"),
            }
        }
    }

    pub fn take(&mut self) -> Log {
        self.drain();
        std::mem::take(&mut self.log)
    }

    pub fn events(&mut self) -> Vec<Event> {
        self.drain();
        std::mem::take(&mut self.log.events)
    }

    pub fn sent(&mut self) -> Vec<String> {
        self.drain();
        std::mem::take(&mut self.log.sent)
    }

    pub fn params(token: &str) -> ConnectParams {
        ConnectParams::new(token, ROUTING_ID, "evm.example.net", "T-1")
    }

    pub fn connect(&mut self) {
        let token = jwt(3600);
        self.connect_with(&token);
    }

    pub fn connect_with(&mut self, token: &str) {
        let unix = self.unix_now();
        self.conn
            .connect(self.now, unix, Self::params(token))
            .unwrap();
        self.drain();
    }

    /// Answers the last event-manager request.
    pub fn answer(&mut self, status: u16, body: &str) {
        let id = self.log.http.last().expect("a request").id;
        self.conn.handle_http(
            self.now,
            id,
            Ok(HttpResponse {
                status,
                body: body.as_bytes().to_vec(),
            }),
        );
        self.drain();
    }

    pub fn answer_ok(&mut self) {
        self.answer(200, &evm_answer("WSTOKEN"));
    }

    pub fn server(&mut self, text: &str) {
        self.conn.handle_ws_text(self.now, text);
        self.drain();
    }

    pub fn open(&mut self) {
        self.conn.handle_ws_open(self.now);
        self.drain();
    }

    /// The server side of the negotiation, with or without a session.
    pub fn handshake(&mut self, session: bool) {
        self.open();
        for frame in [SERVER_HEADER, MECHANISMS, SUCCESS, SERVER_HEADER] {
            self.server(frame);
        }
        if session {
            self.server(BIND_FEATURES);
            self.server(BOUND);
            self.server(SESSION_OK);
        } else {
            self.server(BIND_ONLY_FEATURES);
            self.server(BOUND);
        }
    }

    /// Connected and online.
    pub fn online(&mut self) {
        self.connect();
        self.answer_ok();
        self.handshake(true);
        assert!(self.conn.is_connection_alive());
    }

    pub fn server_close(&mut self, code: u16) {
        self.conn.handle_ws_closed(self.now, code, "");
        self.drain();
    }

    pub fn fire_next_timeout(&mut self) -> Duration {
        let deadline = self.conn.poll_timeout().expect("a timer");
        let moved = deadline.saturating_duration_since(self.now);
        self.now = self.now.max(deadline);
        self.conn.handle_timeout(self.now);
        self.drain();
        moved
    }

    /// Like [`advance`](Self::advance), answering every keep-alive ping, so the
    /// connection stays up.
    pub fn advance_online(&mut self, d: Duration) {
        let target = self.now + d;
        while let Some(deadline) = self.conn.poll_timeout() {
            if deadline > target {
                break;
            }
            self.now = self.now.max(deadline);
            self.conn.handle_timeout(self.now);
            self.drain();
            if self.log.sent.iter().any(|s| s.contains("urn:xmpp:ping")) {
                self.log.sent.retain(|s| !s.contains("urn:xmpp:ping"));
                self.server(PONG);
            }
        }
        self.now = target;
    }

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
}

pub fn errors(events: &[Event]) -> Vec<(i32, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ConnectionError { code, message } => Some((code.code(), message.clone())),
            _ => None,
        })
        .collect()
}

pub fn kinds(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            Event::Sdk(sdk) => sdk.state.as_str().to_owned(),
            other => serde_json::to_value(other).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned(),
        })
        .collect()
}
