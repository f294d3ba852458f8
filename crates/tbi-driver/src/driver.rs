//! The Pusher driver: commands from the handles go into the core; the engine does the IO;
//! events go to the handlers and streams. No protocol decisions.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use tbi_proto::{AuthFailure, AuthRequest, AuthRequestId, AuthResponse, Connection, Event, Output};

use crate::authorizer::{Authorizer, HttpAuthorizer};
use crate::config::SocketConfig;
use crate::engine::{Core, Drive, Engine, Performer, Reply, Work, bounded};
use crate::error::SocketError;
use crate::runtime::Runtime;
use crate::socket::Shared;

/// What the application asks of the driver.
pub(crate) enum Command {
    Connect(Reply<()>),
    Disconnect(Reply<()>),
    Subscribe(String, Reply<Result<(), SocketError>>),
    Unsubscribe(String, Reply<Result<(), SocketError>>),
    Trigger {
        channel: String,
        event: String,
        data: String,
        reply: Reply<Result<(), SocketError>>,
    },
    Signin(Reply<()>),
    Reconfigure(Box<SocketConfig>, Reply<()>),
    /// Runs against the core and sends its own answer.
    Query(Box<dyn FnOnce(&Connection) + Send>),
    Shutdown(Reply<()>),
}

type Answer = (AuthRequestId, Result<AuthResponse, AuthFailure>);

impl Core for Connection {
    type Request = AuthRequest;
    type Answer = Answer;
    type Event = Event;

    fn poll_work(&mut self) -> Option<Work<AuthRequest, Event>> {
        loop {
            return Some(match self.poll_output()? {
                Output::Open { url } => Work::Open {
                    url: url.into(),
                    subprotocol: None,
                },
                Output::SendText(text) => Work::Send(text.into_string()),
                Output::Close { code, reason } => Work::Close { code, reason },
                Output::Authorize(request) => Work::Request(request),
                Output::Event(event) => Work::Event(event),
                // An output this driver does not know: nothing to perform.
                _ => continue,
            });
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        Connection::poll_timeout(self)
    }

    fn handle_open(&mut self, now: Instant) {
        self.handle_ws_open(now);
    }

    fn handle_text(&mut self, now: Instant, text: &str) {
        self.handle_ws_text(now, text);
    }

    fn handle_binary(&mut self, now: Instant, data: &[u8]) {
        self.handle_ws_binary(now, data);
    }

    fn handle_closed(&mut self, now: Instant, code: u16, reason: &str) {
        self.handle_ws_closed(now, code, reason);
    }

    fn handle_timeout(&mut self, now: Instant) {
        Connection::handle_timeout(self, now);
    }

    fn handle_answer(&mut self, now: Instant, (id, answer): Answer) {
        self.handle_auth(now, id, answer);
    }
}

fn performer<R: Runtime>(config: &SocketConfig) -> Performer<AuthRequest, Answer> {
    let authorizer: Arc<dyn Authorizer> = match &config.authorizer {
        Some(custom) => custom.clone(),
        None => Arc::new(HttpAuthorizer::<R>::new(
            config.auth.clone(),
            config.tls.clone(),
            config.core.auth_timeout(),
        )),
    };
    // The core fails a request at the auth timeout; an authorizer that never answers is
    // abandoned a little later, not kept forever.
    let limit = config.core.auth_timeout() + Duration::from_secs(1);
    Box::new(move |request: AuthRequest| {
        let id = request.id;
        let answer = authorizer.authorize(&request);
        bounded::<R, _>(answer.map(move |a| (id, a)).boxed(), limit)
    })
}

pub(crate) struct Driver<R: Runtime> {
    engine: Engine<R, Connection>,
    shared: Arc<Shared>,
}

impl<R: Runtime> Driver<R> {
    pub(crate) fn new(config: SocketConfig, shared: Arc<Shared>) -> Self {
        let engine = Engine::new(
            Connection::new(config.core.clone()),
            performer::<R>(&config),
            config.tls.clone(),
            config.websocket,
        );
        Self { engine, shared }
    }
}

impl<R: Runtime> Drive<R> for Driver<R> {
    type Core = Connection;
    type Command = Command;

    fn engine(&mut self) -> &mut Engine<R, Connection> {
        &mut self.engine
    }

    fn abandon(&mut self, now: Instant) {
        self.engine.core.disconnect(now);
    }

    fn perform(&mut self) {
        let shared = &self.shared;
        self.engine.perform(|event| dispatch(shared, event));
    }

    fn finish(&mut self) {
        self.shared.subscribers.close();
    }

    /// Applies a command; returns the reply of a shutdown, which ends the loop.
    fn apply(&mut self, now: Instant, command: Command) -> Option<Reply<()>> {
        let conn = &mut self.engine.core;
        match command {
            Command::Connect(reply) => {
                conn.connect(now);
                let _ = reply.send(());
            }
            Command::Disconnect(reply) => {
                conn.disconnect(now);
                let _ = reply.send(());
            }
            Command::Subscribe(channel, reply) => {
                let _ = reply.send(conn.subscribe(now, &channel).map_err(SocketError::from));
            }
            Command::Unsubscribe(channel, reply) => {
                let _ = reply.send(conn.unsubscribe(now, &channel).map_err(SocketError::from));
            }
            Command::Trigger {
                channel,
                event,
                data,
                reply,
            } => {
                let result = conn.trigger(now, &channel, &event, &data);
                let _ = reply.send(result.map_err(SocketError::from));
            }
            Command::Signin(reply) => {
                conn.signin(now);
                let _ = reply.send(());
            }
            Command::Reconfigure(config, reply) => {
                conn.reconfigure(now, config.core.clone());
                self.engine.performer = performer::<R>(&config);
                self.engine.tls = config.tls.clone();
                self.engine.websocket = config.websocket;
                let _ = reply.send(());
            }
            Command::Query(query) => query(conn),
            Command::Shutdown(reply) => {
                conn.disconnect(now);
                return Some(reply);
            }
        }
        None
    }
}

fn dispatch(shared: &Shared, event: Event) {
    if let Event::ConnectionStateChanged { current, .. } = &event {
        shared.set_state(*current);
    }
    shared.handlers().dispatch(&event);
    shared.subscribers.publish(&event);
}
