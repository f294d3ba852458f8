//! The loop that drives the core: wait for a socket frame, the core's timer, a command or a
//! finished auth request; feed it in; perform the core's outputs. No protocol decisions.

use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use async_tungstenite::WebSocketReceiver;
use async_tungstenite::tungstenite::Message;
use async_tungstenite::tungstenite::protocol::CloseFrame;
use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use futures::channel::{mpsc, oneshot};
use futures::future::{BoxFuture, Either, select};
use futures::stream::FuturesUnordered;
use futures::{FutureExt, Sink, SinkExt, StreamExt};
use tbi_proto::{AuthFailure, AuthRequestId, AuthResponse, Connection, Event, Output};

use crate::authorizer::{Authorizer, HttpAuthorizer};
use crate::config::SocketConfig;
use crate::error::SocketError;
use crate::runtime::Runtime;
use crate::socket::Shared;
use crate::websocket::{self, WebSocket};

/// How long a closing socket may take to send its close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// A reply channel for a command.
pub(crate) type Reply<T> = oneshot::Sender<T>;

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

type AuthTask = BoxFuture<'static, Option<(AuthRequestId, Result<AuthResponse, AuthFailure>)>>;

enum Socket<R: Runtime> {
    None,
    Connecting(BoxFuture<'static, Result<WebSocket<R>, String>>),
    Open {
        frames: WebSocketReceiver<crate::transport::Transport<R::TcpStream>>,
        outgoing: mpsc::UnboundedSender<Message>,
        writer: BoxFuture<'static, ()>,
    },
}

enum Input<R: Runtime> {
    Command(Option<Command>),
    Connected(Result<WebSocket<R>, String>),
    Frame(Option<Result<Message, async_tungstenite::tungstenite::Error>>),
    WriterDone,
    Timer,
    Auth(AuthRequestId, Result<AuthResponse, AuthFailure>),
    AuthAbandoned,
}

pub(crate) struct Driver<R: Runtime> {
    conn: Connection,
    config: SocketConfig,
    authorizer: Arc<dyn Authorizer>,
    commands: mpsc::UnboundedReceiver<Command>,
    shared: Arc<Shared>,
    socket: Socket<R>,
    timer: Option<(Instant, Pin<Box<R::Sleep>>)>,
    auths: FuturesUnordered<AuthTask>,
}

fn authorizer_for<R: Runtime>(config: &SocketConfig) -> Arc<dyn Authorizer> {
    match &config.authorizer {
        Some(custom) => custom.clone(),
        None => Arc::new(HttpAuthorizer::<R>::new(
            config.auth.clone(),
            config.tls.clone(),
            config.core.auth_timeout(),
        )),
    }
}

/// Sends queued messages until the queue closes or a close frame went out.
async fn write_frames<S>(mut sink: S, mut outgoing: mpsc::UnboundedReceiver<Message>)
where
    S: Sink<Message> + Unpin,
{
    while let Some(message) = outgoing.next().await {
        let closing = matches!(message, Message::Close(_));
        if sink.send(message).await.is_err() {
            return;
        }
        if closing {
            break;
        }
    }
    let _ = sink.close().await;
}

impl<R: Runtime> Driver<R> {
    pub(crate) fn new(
        config: SocketConfig,
        commands: mpsc::UnboundedReceiver<Command>,
        shared: Arc<Shared>,
    ) -> Self {
        Self {
            conn: Connection::new(config.core.clone()),
            authorizer: authorizer_for::<R>(&config),
            config,
            commands,
            shared,
            socket: Socket::None,
            timer: None,
            auths: FuturesUnordered::new(),
        }
    }

    pub(crate) async fn run(mut self) {
        loop {
            self.perform_outputs();
            self.arm_timer();
            let input = self.next_input().await;
            let now = Instant::now();
            match input {
                Input::Command(None) => {
                    // Every handle is gone: nobody can use the socket any more.
                    self.conn.disconnect(now);
                    self.perform_outputs();
                    break;
                }
                Input::Command(Some(command)) => {
                    if let Some(reply) = self.apply(now, command) {
                        // Shutdown: close, then answer once the close is on its way.
                        self.perform_outputs();
                        let _ = reply.send(());
                        break;
                    }
                }
                Input::Connected(Ok(socket)) => {
                    let (sink, frames) = socket.split();
                    let (outgoing, queue) = mpsc::unbounded();
                    self.socket = Socket::Open {
                        frames,
                        outgoing,
                        writer: write_frames(sink, queue).boxed(),
                    };
                    self.conn.handle_ws_open(now);
                }
                Input::Connected(Err(reason)) => {
                    tracing::debug!(%reason, "connecting failed");
                    self.socket = Socket::None;
                    self.conn.handle_ws_closed(now, 1006, &reason);
                }
                Input::Frame(Some(Ok(message))) => self.on_message(now, message),
                Input::Frame(Some(Err(error))) => {
                    self.socket = Socket::None;
                    self.conn.handle_ws_closed(now, 1006, &error.to_string());
                }
                Input::Frame(None) => {
                    self.socket = Socket::None;
                    self.conn
                        .handle_ws_closed(now, 1006, "the connection ended");
                }
                Input::WriterDone => {
                    self.socket = Socket::None;
                    self.conn
                        .handle_ws_closed(now, 1006, "writing to the socket failed");
                }
                Input::Timer => self.conn.handle_timeout(now),
                Input::Auth(id, answer) => self.conn.handle_auth(now, id, answer),
                Input::AuthAbandoned => {}
            }
        }
        self.shared.subscribers.close();
    }

    fn on_message(&mut self, now: Instant, message: Message) {
        match message {
            Message::Text(text) => self.conn.handle_ws_text(now, text.as_str()),
            Message::Binary(data) => self.conn.handle_ws_binary(now, &data),
            Message::Close(frame) => {
                let (code, reason) = match &frame {
                    Some(frame) => (u16::from(frame.code), frame.reason.as_str()),
                    // 1005: closed without a status code.
                    None => (1005, ""),
                };
                let reason = reason.to_owned();
                self.socket = Socket::None;
                self.conn.handle_ws_closed(now, code, &reason);
            }
            // tungstenite answers pings itself.
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
    }

    /// Applies a command; returns the reply of a shutdown, which ends the loop.
    fn apply(&mut self, now: Instant, command: Command) -> Option<Reply<()>> {
        match command {
            Command::Connect(reply) => {
                self.conn.connect(now);
                let _ = reply.send(());
            }
            Command::Disconnect(reply) => {
                self.conn.disconnect(now);
                let _ = reply.send(());
            }
            Command::Subscribe(channel, reply) => {
                let _ = reply.send(
                    self.conn
                        .subscribe(now, &channel)
                        .map_err(SocketError::from),
                );
            }
            Command::Unsubscribe(channel, reply) => {
                let _ = reply.send(
                    self.conn
                        .unsubscribe(now, &channel)
                        .map_err(SocketError::from),
                );
            }
            Command::Trigger {
                channel,
                event,
                data,
                reply,
            } => {
                let result = self.conn.trigger(now, &channel, &event, &data);
                let _ = reply.send(result.map_err(SocketError::from));
            }
            Command::Signin(reply) => {
                self.conn.signin(now);
                let _ = reply.send(());
            }
            Command::Reconfigure(config, reply) => {
                self.authorizer = authorizer_for::<R>(&config);
                self.conn.reconfigure(now, config.core.clone());
                self.config = *config;
                let _ = reply.send(());
            }
            Command::Query(query) => query(&self.conn),
            Command::Shutdown(reply) => {
                self.conn.disconnect(now);
                return Some(reply);
            }
        }
        None
    }

    fn perform_outputs(&mut self) {
        while let Some(output) = self.conn.poll_output() {
            match output {
                Output::Open { url } => {
                    tracing::debug!(%url, "opening");
                    let connect = websocket::connect::<R>(
                        url,
                        self.config.tls.clone(),
                        self.config.websocket,
                    );
                    self.socket = Socket::Connecting(connect.boxed());
                }
                Output::SendText(text) => {
                    tracing::trace!(frame = ?text, "sending");
                    if let Socket::Open { outgoing, .. } = &self.socket {
                        let _ = outgoing.unbounded_send(Message::text(text.into_string()));
                    }
                }
                Output::Close { code, reason } => self.close_socket(code, reason),
                Output::Authorize(request) => {
                    let id = request.id;
                    let answer = self.authorizer.authorize(&request);
                    // The core fails the request at the auth timeout; a custom authorizer
                    // that never answers is abandoned a little later, not kept forever.
                    let give_up = R::sleep_until(
                        Instant::now() + self.config.core.auth_timeout() + Duration::from_secs(1),
                    );
                    self.auths.push(
                        async move {
                            match select(answer, Box::pin(give_up)).await {
                                Either::Left((answer, _)) => Some((id, answer)),
                                Either::Right(_) => None,
                            }
                        }
                        .boxed(),
                    );
                }
                Output::Event(event) => self.dispatch(event),
                _ => {}
            }
        }
    }

    fn close_socket(&mut self, code: u16, reason: &'static str) {
        if let Socket::Open {
            outgoing, writer, ..
        } = std::mem::replace(&mut self.socket, Socket::None)
        {
            let _ = outgoing.unbounded_send(Message::Close(Some(CloseFrame {
                code: CloseCode::from(code),
                reason: reason.into(),
            })));
            drop(outgoing);
            // Finish the close in the background; a new socket may open meanwhile.
            let grace = R::sleep_until(Instant::now() + CLOSE_GRACE);
            R::spawn(async move {
                let _ = select(writer, Box::pin(grace)).await;
            });
        }
        // A socket still connecting is abandoned by dropping its future.
    }

    fn dispatch(&self, event: Event) {
        if let Event::ConnectionStateChanged { current, .. } = &event {
            self.shared.set_state(*current);
        }
        self.shared.handlers().dispatch(&event);
        self.shared.subscribers.publish(&event);
    }

    fn arm_timer(&mut self) {
        match self.conn.poll_timeout() {
            None => self.timer = None,
            Some(deadline) => {
                if self.timer.as_ref().map(|(d, _)| *d) != Some(deadline) {
                    self.timer = Some((deadline, Box::pin(R::sleep_until(deadline))));
                }
            }
        }
    }

    async fn next_input(&mut self) -> Input<R> {
        futures::future::poll_fn(|cx| {
            if let Poll::Ready(command) = self.commands.poll_next_unpin(cx) {
                return Poll::Ready(Input::Command(command));
            }
            match &mut self.socket {
                Socket::None => {}
                Socket::Connecting(connect) => {
                    if let Poll::Ready(result) = connect.poll_unpin(cx) {
                        return Poll::Ready(Input::Connected(result));
                    }
                }
                Socket::Open { frames, writer, .. } => {
                    if let Poll::Ready(frame) = frames.poll_next_unpin(cx) {
                        return Poll::Ready(Input::Frame(frame));
                    }
                    if writer.poll_unpin(cx).is_ready() {
                        return Poll::Ready(Input::WriterDone);
                    }
                }
            }
            if let Some((_, sleep)) = &mut self.timer
                && sleep.as_mut().poll(cx).is_ready()
            {
                self.timer = None;
                return Poll::Ready(Input::Timer);
            }
            if !self.auths.is_empty()
                && let Poll::Ready(Some(done)) = self.auths.poll_next_unpin(cx)
            {
                return Poll::Ready(match done {
                    Some((id, answer)) => Input::Auth(id, answer),
                    None => Input::AuthAbandoned,
                });
            }
            Poll::Pending
        })
        .await
    }
}
