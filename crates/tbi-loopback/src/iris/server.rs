//! A scriptable Iris server on loopback: the event manager (HTTP) and the XMPP WebSocket
//! endpoint, with everything the client sent recorded for the test to check.

use std::collections::HashSet;
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::iris::xmpp;
use crate::json_content_type;

/// How the event manager answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvmMode {
    /// 200 with a fresh WebSocket token.
    Ok,
    /// 401 with `{"error":{"code":401,"message":…}}`.
    Unauthorized,
    /// 404 with a text body.
    NotFound,
    /// 500 with a JSON error body.
    ServerError,
    /// 200 with a body that is not JSON.
    Garbage,
    /// 200 with JSON lacking `websocket_server_token`.
    MissingFields,
    /// Never answers (until the server stops).
    Hang,
}

/// One event-manager request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvmCall {
    /// The request path.
    pub path: String,
    /// The `Authorization` header.
    pub authorization: Option<String>,
    /// The `Trace-Id` header.
    pub trace_id: Option<String>,
    /// How it was answered.
    pub answered: EvmMode,
}

/// One WebSocket upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    /// The request path.
    pub path: String,
    /// The `Sec-WebSocket-Protocol` header.
    pub subprotocol: Option<String>,
    /// The token in the path.
    pub token: String,
    /// Whether the upgrade was accepted.
    pub accepted: bool,
}

/// What happened on one XMPP socket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SocketLog {
    /// Every text frame the client sent, in order.
    pub frames: Vec<String>,
    /// The JID bound, once the stream went online.
    pub jid: Option<String>,
    /// Keep-alive pings received.
    pub pings: usize,
    /// How the socket ended: `Some(code)` for a close frame from the client, `None` while
    /// open or when the server or the network ended it.
    pub client_close: Option<u16>,
    /// Whether the socket has ended.
    pub ended: bool,
}

/// Everything the server saw.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    /// Event-manager requests.
    pub evm_calls: Vec<EvmCall>,
    /// WebSocket upgrades.
    pub upgrades: Vec<Upgrade>,
    /// One entry per accepted socket.
    pub sockets: Vec<SocketLog>,
    /// Frames that broke the protocol (must stay empty).
    pub violations: Vec<String>,
}

impl Recorded {
    /// Sockets whose stream went online.
    pub fn online(&self) -> usize {
        self.sockets.iter().filter(|s| s.jid.is_some()).count()
    }
}

/// What the scenario tells the live socket to do.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    Push(String),
    Close(u16),
    Drop,
}

/// The script: how the server behaves.
#[derive(Debug, Clone)]
pub(crate) struct Script {
    pub(crate) evm: EvmMode,
    pub(crate) answer_pings: bool,
    pub(crate) offer_session: bool,
    pub(crate) rfc7395: bool,
    pub(crate) refuse_upgrades: bool,
    pub(crate) fail_sasl: bool,
    /// The `websocket_server` the event manager names; the plain endpoint by default.
    pub(crate) websocket_server: Option<String>,
}

pub(crate) struct State {
    pub(crate) script: Script,
    pub(crate) recorded: Recorded,
    /// WebSocket tokens issued and not used yet: each is good for one upgrade.
    pub(crate) tokens: HashSet<String>,
    issued: usize,
    /// The action channel of each socket, by index.
    pub(crate) sockets: Vec<Option<Sender<Action>>>,
}

pub(crate) type Shared = Arc<Mutex<State>>;

pub(crate) fn lock(state: &Shared) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// No socket is connected to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no XMPP socket is connected")]
pub struct NoLiveSocket;

/// The server. Stopped on drop.
pub struct IrisServer {
    state: Shared,
    stop: Arc<AtomicBool>,
    evm: Arc<tiny_http::Server>,
    evm_port: u16,
    ws_port: u16,
    threads: Vec<JoinHandle<()>>,
}

impl IrisServer {
    /// Starts both endpoints on free loopback ports: answers 200, pings and session on.
    ///
    /// ```
    /// use tbi_loopback::iris::{EvmMode, IrisServer};
    ///
    /// let server = IrisServer::start()?;
    /// server.set_evm(EvmMode::Unauthorized);
    /// assert!(server.evm_url().starts_with("http://127.0.0.1:"));
    /// assert!(server.recorded().evm_calls.is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start() -> io::Result<Self> {
        let evm = Arc::new(tiny_http::Server::http("127.0.0.1:0").map_err(io::Error::other)?);
        let evm_port = evm
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .ok_or_else(|| io::Error::other("the event manager has no IP address"))?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let ws_port = listener.local_addr()?.port();
        listener.set_nonblocking(true)?;
        let state = Arc::new(Mutex::new(State {
            script: Script {
                evm: EvmMode::Ok,
                answer_pings: true,
                offer_session: true,
                rfc7395: false,
                refuse_upgrades: false,
                fail_sasl: false,
                websocket_server: None,
            },
            recorded: Recorded::default(),
            tokens: HashSet::new(),
            issued: 0,
            sockets: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let evm_thread = {
            let (evm, state, stop) = (evm.clone(), state.clone(), stop.clone());
            std::thread::spawn(move || {
                for request in evm.incoming_requests() {
                    let (state, stop) = (state.clone(), stop.clone());
                    std::thread::spawn(move || answer_evm(request, &state, &stop, ws_port));
                }
            })
        };
        let ws_thread = {
            let (state, stop) = (state.clone(), stop.clone());
            std::thread::spawn(move || xmpp::accept_loop(&listener, &state, &stop))
        };
        Ok(Self {
            state,
            stop,
            evm,
            evm_port,
            ws_port,
            threads: vec![evm_thread, ws_thread],
        })
    }

    /// The event-manager URL to pass to `connect`.
    pub fn evm_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.evm_port)
    }

    /// The event manager's port.
    pub fn evm_port(&self) -> u16 {
        self.evm_port
    }

    /// The XMPP WebSocket endpoint's port.
    pub fn ws_port(&self) -> u16 {
        self.ws_port
    }

    fn script(&self, change: impl FnOnce(&mut Script)) {
        change(&mut lock(&self.state).script);
    }

    /// How the event manager answers from now on.
    pub fn set_evm(&self, mode: EvmMode) {
        self.script(|s| s.evm = mode);
    }

    /// Whether pings are answered.
    pub fn set_answer_pings(&self, answer: bool) {
        self.script(|s| s.answer_pings = answer);
    }

    /// Whether the session feature is offered after bind.
    pub fn set_offer_session(&self, offer: bool) {
        self.script(|s| s.offer_session = offer);
    }

    /// Speak RFC 7395 framing (`<open/>`) instead of `<stream:stream>`.
    pub fn set_rfc7395(&self, on: bool) {
        self.script(|s| s.rfc7395 = on);
    }

    /// Refuse every WebSocket upgrade with 401.
    pub fn set_refuse_upgrades(&self, refuse: bool) {
        self.script(|s| s.refuse_upgrades = refuse);
    }

    /// Answer SASL with `<failure/>`.
    pub fn set_fail_sasl(&self, fail: bool) {
        self.script(|s| s.fail_sasl = fail);
    }

    /// The `websocket_server` the event manager names (a host, `host:port` or URL).
    pub fn set_websocket_server(&self, server: &str) {
        let server = server.to_owned();
        self.script(|s| s.websocket_server = Some(server));
    }

    fn act(&self, action: Action) -> Result<(), NoLiveSocket> {
        let state = lock(&self.state);
        let live = state.sockets.iter().rev().flatten().next();
        match live {
            Some(sender) => sender.send(action).map_err(|_| NoLiveSocket),
            None => Err(NoLiveSocket),
        }
    }

    /// Sends a stanza on the newest socket.
    pub fn push(&self, stanza: &str) -> Result<(), NoLiveSocket> {
        self.act(Action::Push(stanza.to_owned()))
    }

    /// Closes the newest socket with a close frame.
    pub fn close_socket(&self, code: u16) -> Result<(), NoLiveSocket> {
        self.act(Action::Close(code))
    }

    /// Drops the newest socket's TCP connection without a close frame.
    pub fn drop_socket(&self) -> Result<(), NoLiveSocket> {
        self.act(Action::Drop)
    }

    /// A copy of everything recorded so far.
    pub fn recorded(&self) -> Recorded {
        lock(&self.state).recorded.clone()
    }

    /// Every frame that broke the protocol so far (empty for a correct client).
    pub fn violations(&self) -> Vec<String> {
        lock(&self.state).recorded.violations.clone()
    }
}

impl Drop for IrisServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.evm.unblock();
        for sender in lock(&self.state).sockets.iter().flatten() {
            let _ = sender.send(Action::Drop);
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn header(request: &tiny_http::Request, name: &str) -> Option<String> {
    request
        .headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str().to_owned())
}

fn answer_evm(request: tiny_http::Request, state: &Shared, stop: &AtomicBool, ws_port: u16) {
    let path = request.url().to_owned();
    let (mode, server, token) = {
        let mut state = lock(state);
        let mode = if path.starts_with("/v1/wsturnserverinfo/routingid/") {
            state.script.evm.clone()
        } else {
            EvmMode::NotFound
        };
        state.recorded.evm_calls.push(EvmCall {
            path: path.clone(),
            authorization: header(&request, "Authorization"),
            trace_id: header(&request, "Trace-Id"),
            answered: mode.clone(),
        });
        let token = (mode == EvmMode::Ok).then(|| {
            state.issued += 1;
            let token = format!("wst-{}", state.issued);
            state.tokens.insert(token.clone());
            token
        });
        let server = state
            .script
            .websocket_server
            .clone()
            .unwrap_or_else(|| format!("ws://127.0.0.1:{ws_port}"));
        (mode, server, token)
    };
    let (status, body) = match mode {
        EvmMode::Ok => (
            200,
            json!({
                "websocket_server": server,
                "websocket_server_token": token,
                "websocket_server_token_expiry_time": "1700003600",
                "turn_credentials": json!({
                    "ttl": 86400,
                    "ice_servers": [{"urls": ["turn:127.0.0.1:3478?transport=udp"], "username": "u", "credential": "p"}],
                }).to_string(),
            })
            .to_string(),
        ),
        EvmMode::Unauthorized => (
            401,
            json!({"error": {"code": 401, "message": "token expired"}}).to_string(),
        ),
        EvmMode::NotFound => (404, "no such routing id".to_owned()),
        EvmMode::ServerError => (
            500,
            json!({"error": {"code": 500, "message": "internal"}}).to_string(),
        ),
        EvmMode::Garbage => (200, "<html>maintenance</html>".to_owned()),
        EvmMode::MissingFields => (200, json!({"websocket_server": server}).to_string()),
        EvmMode::Hang => {
            let until = Instant::now() + Duration::from_secs(60);
            while !stop.load(Ordering::SeqCst) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(20));
            }
            return;
        }
    };
    let response = tiny_http::Response::from_string(body)
        .with_status_code(status)
        .with_header(json_content_type());
    let _ = request.respond(response);
}
