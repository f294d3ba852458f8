//! The Iris driver: commands from the handles go into the core; the engine does the IO;
//! events go to the handlers and streams. No protocol decisions.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures::FutureExt;
use iris_proto::{
    ConnectParams, Connection, Event, HttpRequest, HttpRequestId, HttpResponse, Notification,
    Output, ParameterError, RejectError, SUBPROTOCOL,
};

use crate::engine::{Core, Drive, Engine, Performer, Reply, Work, bounded};
use crate::iris::config::IrisConfig;
use crate::iris::connection::IrisShared;
use crate::iris::event_manager::{EventManager, HttpEventManager};
use crate::iris::recording::IrisRecording;
use crate::runtime::Runtime;

/// What the application asks of the driver.
pub(crate) enum IrisCommand {
    Connect(Box<ConnectParams>, Reply<Result<(), ParameterError>>),
    Close(Reply<()>),
    /// The device's network changed: probe the socket, or retry now.
    NetworkChanged(Reply<()>),
    UpdateToken(String, Reply<Result<(), ParameterError>>),
    Reject(Box<Notification>, Reply<Result<(), RejectError>>),
    /// Runs against the core and sends its own answer.
    Query(Box<dyn FnOnce(&Connection) + Send>),
    Shutdown(Reply<()>),
}

type Answer = (HttpRequestId, Result<HttpResponse, String>);

/// The core as the engine drives it: the Iris [`Connection`], and the recording of the
/// session when one was asked for.
pub(crate) struct IrisCore {
    pub(crate) conn: Connection,
    pub(crate) recording: IrisRecording,
}

impl Core for IrisCore {
    type Key = HttpRequestId;
    type Request = HttpRequest;
    type Answer = Answer;
    type Event = Event;

    fn poll_work(&mut self) -> Option<Work<HttpRequestId, HttpRequest, Event>> {
        loop {
            let output = self.conn.poll_output()?;
            if self.recording.is_on() {
                self.recording.output(&output);
            }
            return Some(match output {
                Output::Http(request) => {
                    // The URL's host only: no path (the routing id), no headers (the token).
                    let host = url::Url::parse(&request.url).ok();
                    let host = host.as_ref().and_then(|u| u.host_str()).unwrap_or_default();
                    tracing::debug!(host, "asking the event manager");
                    Work::Request(Some(request.id), request)
                }
                Output::CancelHttp(id) => Work::Cancel(id),
                Output::Open { url } => Work::Open {
                    url,
                    subprotocol: Some(SUBPROTOCOL),
                },
                Output::SendText(text) => {
                    // The element only: a telemetry IQ carries the call's room token.
                    tracing::trace!(
                        element = crate::trace::element_name(&text),
                        len = text.len(),
                        "sending"
                    );
                    Work::Send(text)
                }
                Output::Close { code, reason } => Work::Close { code, reason },
                Output::Event(event) => {
                    crate::trace::iris_event(&event);
                    Work::Event(event)
                }
                // An output this driver does not know: nothing to perform.
                _ => continue,
            });
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.conn.poll_timeout()
    }

    fn write_stall_limit(&self) -> Duration {
        // As long as the keep-alive takes to give up on a silent server: every ping
        // missed, then the grace.
        let config = self.conn.config();
        config
            .ping_interval
            .saturating_mul(config.ping_misses)
            .saturating_add(config.pong_grace)
    }

    fn handle_ping_pong(&mut self, _now: Instant) {
        // The keep-alive wants an answer to its own ping IQ (`c2s1`): a WebSocket pong
        // proves the WebSocket layer alive, not the XMPP session behind it.
    }

    fn handle_open(&mut self, now: Instant) {
        self.recording.server_open();
        self.conn.handle_ws_open(now);
    }

    fn handle_text(&mut self, now: Instant, text: &str) {
        if self.recording.is_on() {
            self.recording.server_text(text);
        }
        self.conn.handle_ws_text(now, text);
    }

    fn frame_name(text: &str) -> &str {
        crate::trace::element_name(text)
    }

    fn handle_binary(&mut self, _now: Instant, _data: &[u8]) {
        // XMPP over WebSocket is text only; the reference ignores binary frames too.
    }

    fn handle_closed(&mut self, now: Instant, code: u16, reason: &str) {
        self.recording.server_close(code, reason);
        self.conn.handle_ws_closed(now, code, reason);
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.conn.handle_timeout(now);
    }

    fn shrink_to_fit(&mut self) {
        self.conn.shrink_to_fit();
    }

    fn handle_answer(&mut self, now: Instant, (id, answer): Answer) {
        self.recording.http_answer(&answer);
        self.conn.handle_http(now, id, answer);
    }
}

fn performer<R: Runtime>(config: &IrisConfig) -> Performer<HttpRequest, Answer> {
    let timeout = config.core.connect_timeout;
    let event_manager: Arc<dyn EventManager> = match &config.event_manager {
        Some(custom) => custom.clone(),
        None => Arc::new(
            HttpEventManager::<R>::new(config.tls.clone(), timeout)
                .with_proxy(config.proxy.clone()),
        ),
    };
    // The core fails an attempt at the connect timeout; an event manager that never
    // answers is abandoned a little later, not kept forever.
    let limit = timeout.saturating_add(Duration::from_secs(1));
    Box::new(move |request: HttpRequest| {
        let id = request.id;
        let answer = event_manager.get(&request);
        let answer = answer.map(move |a| (id, a.map_err(|e| e.report())));
        bounded::<R, _>(answer.boxed(), limit)
    })
}

pub(crate) struct IrisDriver<R: Runtime> {
    engine: Engine<R, IrisCore>,
    shared: Arc<IrisShared>,
}

impl<R: Runtime> IrisDriver<R> {
    pub(crate) fn new(config: IrisConfig, shared: Arc<IrisShared>) -> Self {
        let core = IrisCore {
            conn: Connection::new(config.core.clone()),
            recording: IrisRecording::new(config.record.clone(), &config.core),
        };
        let engine = Engine::new(
            core,
            performer::<R>(&config),
            config.tls.clone(),
            config.websocket,
            config.proxy.clone(),
        )
        .with_consumers(shared.clone());
        Self { engine, shared }
    }
}

impl<R: Runtime> Drive<R> for IrisDriver<R> {
    type Core = IrisCore;
    type Command = IrisCommand;

    fn engine(&mut self) -> &mut Engine<R, IrisCore> {
        &mut self.engine
    }

    fn apply(&mut self, now: Instant, command: IrisCommand) -> Option<Reply<()>> {
        let IrisCore { conn, recording } = &mut self.engine.core;
        match command {
            IrisCommand::Connect(params, reply) => {
                let for_recording = recording.is_on().then(|| params.clone());
                let connected = conn.connect(now, SystemTime::now(), *params);
                if let (Ok(()), Some(params)) = (&connected, for_recording) {
                    recording.connect(&params);
                }
                let _ = reply.send(connected);
            }
            IrisCommand::Close(reply) => {
                recording.close();
                conn.close(now);
                let _ = reply.send(());
            }
            IrisCommand::NetworkChanged(reply) => {
                tracing::info!(state = ?conn.state(), "the network changed: checking the connection");
                recording.network_changed();
                conn.network_changed(now);
                let _ = reply.send(());
            }
            IrisCommand::UpdateToken(token, reply) => {
                let updated = conn.update_token(now, SystemTime::now(), &token);
                if updated.is_ok() {
                    recording.update_token(&token);
                }
                let _ = reply.send(updated);
            }
            IrisCommand::Reject(notification, reply) => {
                let rejected = conn.reject_session(now, &notification);
                if rejected.is_ok() {
                    recording.reject();
                }
                let _ = reply.send(rejected);
            }
            IrisCommand::Query(query) => query(conn),
            IrisCommand::Shutdown(reply) => {
                recording.close();
                conn.close(now);
                return Some(reply);
            }
        }
        None
    }

    fn abandon(&mut self, now: Instant) {
        self.engine.core.conn.close(now);
    }

    fn perform(&mut self) {
        // The state first, so handlers asking `is_connection_alive` see the new one.
        self.shared.set_state(self.engine.core.conn.state());
        let shared = &self.shared;
        self.engine.perform(|event| {
            shared.handlers().dispatch(&event);
            shared.publish_owned(event);
        });
    }

    fn finish(&mut self) {
        self.shared.end_streams();
    }
}
