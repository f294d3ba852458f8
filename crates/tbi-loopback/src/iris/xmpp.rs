//! The XMPP WebSocket endpoint: checks the upgrade (path, token, subprotocol), runs the
//! handshake of spec §3.3 with the client's frames checked literally, answers pings, and
//! does what the scenario asks.

use std::io::ErrorKind;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tungstenite::http::HeaderValue;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Error, Message, WebSocket};

use crate::iris::server::{Action, Script, Shared, SocketLog, Upgrade, lock};
use crate::iris::stanzas;

pub(crate) fn accept_loop(listener: &TcpListener, state: &Shared, stop: &AtomicBool) {
    let mut sockets = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let state = state.clone();
                sockets.push(std::thread::spawn(move || serve(stream, &state)));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    for socket in sockets {
        let _ = socket.join();
    }
}

/// `/xmpp-websocket/routingid/{rid}/timestamp/{exp}/token/{token}` → (rid, token).
fn parse_path(path: &str) -> Option<(String, String)> {
    let rest = path.strip_prefix("/xmpp-websocket/routingid/")?;
    let (routing_id, rest) = rest.split_once("/timestamp/")?;
    let (expiry, token) = rest.split_once("/token/")?;
    (!routing_id.is_empty() && !expiry.is_empty() && !token.is_empty() && !token.contains('/'))
        .then(|| (routing_id.to_owned(), token.to_owned()))
}

// The callback's signature is tungstenite's.
#[allow(clippy::result_large_err)]
fn upgrade(stream: TcpStream, state: &Shared) -> Option<(WebSocket<TcpStream>, String)> {
    let mut routing_id = None;
    let callback = |request: &Request, mut response: Response| -> Result<Response, ErrorResponse> {
        let path = request.uri().path().to_owned();
        let subprotocol = request
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let parsed = parse_path(&path);
        let mut state = lock(state);
        let token = parsed.as_ref().map(|(_, t)| t.clone()).unwrap_or_default();
        let accepted = !state.script.refuse_upgrades
            && parsed.is_some()
            && subprotocol.as_deref() == Some("xmpp")
            && state.tokens.remove(&token);
        state.recorded.upgrades.push(Upgrade {
            path,
            subprotocol,
            token,
            accepted,
        });
        if !accepted {
            let mut refusal = ErrorResponse::new(Some("invalid token".to_owned()));
            *refusal.status_mut() = tungstenite::http::StatusCode::UNAUTHORIZED;
            return Err(refusal);
        }
        routing_id = parsed.map(|(rid, _)| rid);
        response
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("xmpp"));
        Ok(response)
    };
    let ws = tungstenite::accept_hdr(stream, callback).ok()?;
    Some((ws, routing_id?))
}

fn serve(stream: TcpStream, state: &Shared) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Some((mut ws, routing_id)) = upgrade(stream, state) else {
        return;
    };
    let _ = ws
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(10)));
    let (sender, actions) = mpsc::channel();
    let index = {
        let mut state = lock(state);
        state.sockets.push(Some(sender));
        state.recorded.sockets.push(SocketLog::default());
        state.sockets.len() - 1
    };
    let mut session = Session::new(index, &routing_id);
    session.run(&mut ws, state, &actions);
    let mut state = lock(state);
    state.sockets[index] = None;
    state.recorded.sockets[index].ended = true;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Header,
    Auth,
    Restart,
    Bind,
    Session,
    Online,
    /// SASL failed: everything is ignored until the socket ends.
    Refused,
}

struct Session {
    index: usize,
    bare: String,
    domain: String,
    phase: Phase,
    /// The server sent a close frame: the client's close is an echo.
    closing: bool,
}

impl Session {
    fn new(index: usize, routing_id: &str) -> Self {
        let bare = routing_id.to_lowercase();
        let domain = bare
            .split_once('@')
            .map(|(_, d)| d.to_owned())
            .unwrap_or_default();
        Self {
            index,
            bare,
            domain,
            phase: Phase::Header,
            closing: false,
        }
    }

    fn run(&mut self, ws: &mut WebSocket<TcpStream>, state: &Shared, actions: &Receiver<Action>) {
        loop {
            while let Ok(action) = actions.try_recv() {
                match action {
                    Action::Push(stanza) => send(ws, &stanza),
                    Action::Close(code) => {
                        self.closing = true;
                        let _ = ws.close(Some(CloseFrame {
                            code: CloseCode::from(code),
                            reason: "".into(),
                        }));
                    }
                    // Dropping the socket ends the TCP connection without a close frame.
                    Action::Drop => return,
                }
            }
            match ws.read() {
                Ok(Message::Text(text)) => {
                    let text = text.as_str().to_owned();
                    lock(state).recorded.sockets[self.index]
                        .frames
                        .push(text.clone());
                    self.on_frame(ws, state, &text);
                }
                Ok(Message::Close(frame)) => {
                    if !self.closing {
                        lock(state).recorded.sockets[self.index].client_close =
                            Some(frame.map_or(1005, |f| u16::from(f.code)));
                    }
                }
                Ok(_) => {}
                Err(Error::Io(e))
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    let _ = ws.flush();
                }
                Err(_) => return,
            }
        }
    }

    fn violation(&mut self, state: &Shared, expected: &str, got: &str) {
        lock(state).recorded.violations.push(format!(
            "socket {} in {:?}: expected {expected}, got {got}",
            self.index, self.phase
        ));
    }

    fn on_frame(&mut self, ws: &mut WebSocket<TcpStream>, state: &Shared, text: &str) {
        let script: Script = lock(state).script.clone();
        let header = || {
            if script.rfc7395 {
                stanzas::server_open(&self.domain, self.index)
            } else {
                stanzas::server_header(&self.domain, self.index)
            }
        };
        let features = |f: &str| {
            if script.rfc7395 {
                f.replacen(
                    "<stream:features>",
                    "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>",
                    1,
                )
            } else {
                f.to_owned()
            }
        };
        match self.phase {
            Phase::Header | Phase::Restart => {
                let expected = stanzas::client_header(&self.domain);
                if text != expected {
                    return self.violation(state, &expected, text);
                }
                if self.phase == Phase::Header {
                    // Header and features joined in one frame.
                    send(
                        ws,
                        &format!("{}{}", header(), features(stanzas::MECHANISMS)),
                    );
                    self.phase = Phase::Auth;
                } else {
                    // Header alone, then the features split across two frames.
                    send(ws, &header());
                    let all = features(&stanzas::bind_features(script.offer_session));
                    let (first, second) = all.split_at(all.len() / 2);
                    send(ws, first);
                    send(ws, second);
                    self.phase = Phase::Bind;
                }
            }
            Phase::Auth => {
                let expected = stanzas::client_auth(&self.bare);
                if text != expected {
                    return self.violation(state, &expected, text);
                }
                if script.fail_sasl {
                    send(ws, stanzas::FAILURE);
                    self.phase = Phase::Refused;
                } else {
                    send(ws, stanzas::SUCCESS);
                    self.phase = Phase::Restart;
                }
            }
            Phase::Bind => {
                if text != stanzas::CLIENT_BIND {
                    return self.violation(state, stanzas::CLIENT_BIND, text);
                }
                let jid = format!("{}/res{}", self.bare, self.index + 1);
                send(ws, &stanzas::bound(&jid));
                if script.offer_session {
                    self.phase = Phase::Session;
                } else {
                    self.online(state, jid);
                }
            }
            Phase::Session => {
                let expected = stanzas::client_session(&self.domain);
                if text != expected {
                    return self.violation(state, &expected, text);
                }
                send(ws, stanzas::SESSION_OK);
                let jid = format!("{}/res{}", self.bare, self.index + 1);
                self.online(state, jid);
            }
            Phase::Online => {
                if text == stanzas::CLIENT_PING {
                    lock(state).recorded.sockets[self.index].pings += 1;
                    if script.answer_pings {
                        send(ws, &stanzas::pong(&self.domain));
                    }
                } else if text.contains("<stream:stream") || text.contains("<close") {
                    self.violation(state, "no stream element once online", text);
                }
            }
            Phase::Refused => {}
        }
    }

    fn online(&mut self, state: &Shared, jid: String) {
        lock(state).recorded.sockets[self.index].jid = Some(jid);
        self.phase = Phase::Online;
    }
}

fn send(ws: &mut WebSocket<TcpStream>, text: &str) {
    let _ = ws.send(Message::text(text));
}
