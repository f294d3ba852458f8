//! Plays a fixture to a real client over loopback: the server side of every step (frames,
//! closes, the auth endpoint's answers), checking every frame and auth request the client
//! sends.
//!
//! Two ways to run it. In a test ([`ReplayServer::start`]), application steps (commands,
//! expected events, the token provider's part) are handed to the test, in order, and the
//! server waits for each. In a demo ([`ReplayServer::start_autonomous`]) the client runs its
//! own flow: application steps are skipped, an observer sees every step before it is
//! played, and the socket stays open after the last step until the server is dropped.
//!
//! Time is ordering only: each step waits for the previous ones, never for its `at`.
//! Fixtures whose client output comes from a timer far in the future (the 120 s heartbeat
//! of `ping-pong` and `pong-timeout`) are for the core's fake-time replay.

use std::collections::HashMap;
use std::io::{self, ErrorKind};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use futures::channel::{mpsc, oneshot};
use tbi_proto::replay::{Action, AuthSubject, Fixture, Step, frames_match, urls_match};
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, WebSocket};

/// How long the server waits for anything the client must do.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// An application step for the test to perform; answer with `done` when finished.
pub struct AppStep {
    /// The fixture line.
    pub line: usize,
    /// A command or an `event` expectation.
    pub action: Action,
    /// Tell the server the step is done (or why it failed).
    pub done: oneshot::Sender<Result<(), String>>,
}

/// Sees every step just before the server plays it (a demo updates its other servers).
pub type Observer = Box<dyn FnMut(&Step) + Send>;

/// The running replay. Its thread ends after the last step or the first mismatch (in
/// autonomous mode: once dropped or finished).
pub struct ReplayServer {
    ws_port: u16,
    auth_port: u16,
    steps: mpsc::UnboundedReceiver<AppStep>,
    stop: Option<std_mpsc::Sender<()>>,
    played: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<(), String>>>,
}

fn bind() -> io::Result<(TcpListener, tiny_http::Server, u16, u16)> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let auth = tiny_http::Server::http("127.0.0.1:0").map_err(io::Error::other)?;
    let ws_port = listener.local_addr()?.port();
    let auth_port = auth
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .ok_or_else(|| io::Error::other("the auth endpoint has no IP address"))?;
    Ok((listener, auth, ws_port, auth_port))
}

impl ReplayServer {
    /// Starts playing `fixture` for a test: application steps come out of
    /// [`next_step`](Self::next_step), and each must be answered.
    pub fn start(fixture: Fixture) -> io::Result<Self> {
        Self::spawn(fixture, true, None, 0.0)
    }

    /// Starts playing `fixture` for a client that runs its own flow (a demo): application
    /// steps are skipped, `observer` sees each step before it is played, and the last
    /// socket stays open until the server is dropped. Server steps keep the recording's
    /// pace scaled by `time_scale` (0.01: a 95 s session in under a second; 0: as fast
    /// as the client answers).
    ///
    /// ```
    /// use tbi_loopback::replay::ReplayServer;
    /// use tbi_proto::replay::Fixture;
    ///
    /// let fixture = Fixture::parse(r#"{"fixture":"f","config":{"key":"k","url":"ws://127.0.0.1:1"}}
    /// {"at":0,"connect":{}}"#)?;
    /// let server = ReplayServer::start_autonomous(fixture, Box::new(|step| println!("line {}", step.line)), 0.0)?;
    /// assert!(server.ws_url().starts_with("ws://127.0.0.1:"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn start_autonomous(
        fixture: Fixture,
        observer: Observer,
        time_scale: f64,
    ) -> io::Result<Self> {
        Self::spawn(fixture, false, Some(observer), time_scale)
    }

    fn spawn(
        fixture: Fixture,
        with_app: bool,
        observer: Option<Observer>,
        time_scale: f64,
    ) -> io::Result<Self> {
        let (listener, auth, ws_port, auth_port) = bind()?;
        let (sender, steps) = mpsc::unbounded();
        let (stop, stopped) = std_mpsc::channel();
        let played = Arc::new(AtomicBool::new(false));
        let done = played.clone();
        let thread = std::thread::spawn(move || {
            let mut player = Player {
                listener,
                auth,
                app: with_app.then_some(sender),
                observer,
                tcp: None,
                ws: None,
                expected_url: None,
                held_auth: HashMap::new(),
            };
            let start = Instant::now();
            let scale = if time_scale.is_finite() && time_scale > 0.0 {
                time_scale
            } else {
                0.0
            };
            let result = fixture.steps.iter().try_for_each(|step| {
                if scale > 0.0 && step.action.is_server_input() {
                    let at = start + step.at.mul_f64(scale);
                    std::thread::sleep(at.saturating_duration_since(Instant::now()));
                }
                player
                    .step(step)
                    .map_err(|e| format!("{} line {}: {e}", fixture.name, step.line))
            });
            done.store(true, Ordering::SeqCst);
            if player.app.is_none() {
                // A demo's client keeps its socket until the demo is over.
                let _ = stopped.recv();
            }
            // Nothing more is expected: close like a server shutting down, so the client stops.
            if let Some(mut ws) = player.ws.take() {
                let _ = ws.close(None);
                let _ = ws.flush();
            }
            result
        });
        Ok(Self {
            ws_port,
            auth_port,
            steps,
            stop: Some(stop),
            played,
            thread: Some(thread),
        })
    }

    /// Whether every step was played (or the replay stopped at a difference).
    pub fn played(&self) -> bool {
        self.played.load(Ordering::SeqCst)
    }

    /// The WebSocket base URL for the client.
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.ws_port)
    }

    /// The channel auth endpoint.
    pub fn auth_url(&self) -> String {
        format!("http://127.0.0.1:{}/pusher/auth", self.auth_port)
    }

    /// The user auth endpoint.
    pub fn user_auth_url(&self) -> String {
        format!("http://127.0.0.1:{}/pusher/user-auth", self.auth_port)
    }

    /// The next application step; `None` once the server is done (or in autonomous mode).
    pub async fn next_step(&mut self) -> Option<AppStep> {
        futures::StreamExt::next(&mut self.steps).await
    }

    /// Stops the server and returns its verdict: `Ok` when the client did everything the
    /// fixture recorded.
    pub fn finish(mut self) -> Result<(), String> {
        self.stop.take();
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err("the replay server panicked".to_owned()),
            None => Ok(()),
        }
    }
}

impl Drop for ReplayServer {
    fn drop(&mut self) {
        // Ends the autonomous mode's wait; the thread finishes on its own.
        self.stop.take();
    }
}

struct Player {
    listener: TcpListener,
    auth: tiny_http::Server,
    /// The test, when one performs the application steps.
    app: Option<mpsc::UnboundedSender<AppStep>>,
    observer: Option<Observer>,
    /// Accepted, not yet upgraded.
    tcp: Option<TcpStream>,
    ws: Option<WebSocket<TcpStream>>,
    expected_url: Option<String>,
    /// Auth requests received (before or at their step), not answered yet.
    held_auth: HashMap<AuthSubject, HeldRequest>,
}

/// An auth request with its form read.
struct HeldRequest {
    request: tiny_http::Request,
    form: Vec<(String, String)>,
}

impl HeldRequest {
    fn new(mut request: tiny_http::Request) -> Self {
        let mut body = String::new();
        let _ = request.as_reader().read_to_string(&mut body);
        let form = url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
        Self { request, form }
    }

    fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn subject(&self) -> AuthSubject {
        if self.request.url().starts_with("/pusher/user-auth") {
            AuthSubject::User
        } else {
            AuthSubject::Channel(self.field("channel_name").unwrap_or_default().to_owned())
        }
    }
}

impl Player {
    // tungstenite's handshake callback type fixes the large error variant.
    #[allow(clippy::result_large_err)]
    fn step(&mut self, step: &Step) -> Result<(), String> {
        if let Some(observer) = &mut self.observer {
            observer(step);
        }
        match &step.action {
            Action::ClientOpen { url } => {
                self.expected_url = url.clone();
                self.tcp = Some(self.accept()?);
            }
            Action::ServerOpen => {
                let tcp = self.tcp.take().ok_or("server_open without a client_open")?;
                let expected = self.expected_url.take();
                let mut seen = None;
                let ws = tungstenite::accept_hdr(
                    tcp,
                    |request: &tungstenite::handshake::server::Request, response| {
                        seen = Some(request.uri().to_string());
                        Ok(response)
                    },
                )
                .map_err(|e| format!("WebSocket handshake failed: {e}"))?;
                if let (Some(expected), Some(seen)) = (expected, seen) {
                    let expected_path = url::Url::parse(&expected).map_err(|e| e.to_string())?;
                    let expected_tail = match expected_path.query() {
                        Some(q) => format!("{}?{q}", expected_path.path()),
                        None => expected_path.path().to_owned(),
                    };
                    let base = "ws://127.0.0.1";
                    if !urls_match(&format!("{base}{expected_tail}"), &format!("{base}{seen}")) {
                        return Err(format!(
                            "expected the client to open {expected_tail}, it opened {seen}"
                        ));
                    }
                }
                ws.get_ref()
                    .set_read_timeout(Some(STEP_TIMEOUT))
                    .map_err(|e| e.to_string())?;
                self.ws = Some(ws);
            }
            Action::ServerText(text) => {
                let ws = self
                    .ws
                    .as_mut()
                    .ok_or("server_text without an open socket")?;
                ws.send(Message::text(text.clone()))
                    .map_err(|e| format!("sending: {e}"))?;
            }
            Action::ClientText(expected) => {
                let text = self.read_text()?;
                if !frames_match(expected, &text) {
                    return Err(format!(
                        "expected the client to send {expected}, it sent {text}"
                    ));
                }
            }
            Action::ServerClose { code, reason } => {
                self.tcp = None;
                // 1006: the connection just ends, as when the network drops it.
                if let Some(mut ws) = self.ws.take()
                    && *code != 1006
                {
                    let frame = CloseFrame {
                        code: CloseCode::from(*code),
                        reason: reason.clone().into(),
                    };
                    let _ = ws.close(Some(frame));
                    let _ = ws.flush();
                }
            }
            Action::ClientClose { code } => {
                let ws = self
                    .ws
                    .as_mut()
                    .ok_or("client_close without an open socket")?;
                loop {
                    match ws.read() {
                        Ok(Message::Close(frame)) => {
                            let got = frame.map(|f| u16::from(f.code));
                            if code.is_some() && got != *code {
                                return Err(format!("expected a close with {code:?}, got {got:?}"));
                            }
                            break;
                        }
                        Ok(Message::Text(text)) => {
                            return Err(format!("expected a close, the client sent {text}"));
                        }
                        Ok(_) => {}
                        Err(e) => return Err(format!("expected a close frame, got {e}")),
                    }
                }
                self.ws = None;
            }
            Action::AuthRequest { subject, socket_id } => {
                let request = self.auth_request(subject)?;
                if let Some(expected) = socket_id {
                    let got = request.field("socket_id");
                    if got != Some(expected.as_str()) {
                        return Err(format!(
                            "auth request for {subject:?} had socket_id {got:?}, expected {expected}"
                        ));
                    }
                }
                self.held_auth.insert(subject.clone(), request);
            }
            Action::AuthResponse {
                subject,
                status,
                body,
            } => {
                let held = self
                    .held_auth
                    .remove(subject)
                    .ok_or_else(|| format!("auth_response for {subject:?} without its request"))?;
                let response = tiny_http::Response::from_string(body.clone())
                    .with_status_code(*status)
                    .with_header(crate::json_content_type());
                held.request.respond(response).map_err(|e| e.to_string())?;
            }
            app => {
                let Some(test) = &self.app else {
                    // Autonomous: the client does its part on its own.
                    return Ok(());
                };
                let (done, answer) = oneshot::channel();
                test.unbounded_send(AppStep {
                    line: step.line,
                    action: app.clone(),
                    done,
                })
                .map_err(|_| "the test stopped listening")?;
                futures::executor::block_on(answer).map_err(|_| "the test dropped the step")??;
            }
        }
        Ok(())
    }

    fn accept(&mut self) -> Result<TcpStream, String> {
        self.listener
            .set_nonblocking(true)
            .map_err(|e| e.to_string())?;
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    stream.set_nonblocking(false).map_err(|e| e.to_string())?;
                    return Ok(stream);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(format!("the client did not connect: {e}")),
            }
        }
    }

    fn read_text(&mut self) -> Result<String, String> {
        let ws = self
            .ws
            .as_mut()
            .ok_or("client_text without an open socket")?;
        loop {
            match ws.read() {
                Ok(Message::Text(text)) => return Ok(text.as_str().to_owned()),
                Ok(Message::Close(frame)) => {
                    return Err(format!("expected a frame, the client closed: {frame:?}"));
                }
                Ok(_) => {}
                Err(e) => return Err(format!("expected a frame from the client: {e}")),
            }
        }
    }

    fn auth_request(&mut self, subject: &AuthSubject) -> Result<HeldRequest, String> {
        if let Some(request) = self.held_auth.remove(subject) {
            return Ok(request);
        }
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let request = self
                .auth
                .recv_timeout(left)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no auth request for {subject:?}"))?;
            let request = HeldRequest::new(request);
            let got = request.subject();
            if &got == subject {
                return Ok(request);
            }
            // Requests run concurrently; another one may come first.
            self.held_auth.insert(got, request);
        }
    }
}
