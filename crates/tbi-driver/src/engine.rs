//! The IO half of every driver, for any sans-IO core: one WebSocket (connecting, then a
//! reader and a writer), the core's timer, and the requests it asked for. A driver feeds
//! commands itself and hands the rest of the inputs here. No protocol decisions.

use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use async_tungstenite::WebSocketReceiver;
use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use async_tungstenite::tungstenite::{Error as WsError, Message};
use futures::channel::{mpsc, oneshot};
use futures::future::{BoxFuture, Either, select};
use futures::stream::FuturesUnordered;
use futures::{FutureExt, Sink, SinkExt, StreamExt};
use rustls::ClientConfig;
use url::Url;

use crate::runtime::Runtime;
use crate::transport::Transport;
use crate::websocket::{self, WebSocket};

/// A reply channel for a command.
pub(crate) type Reply<T> = oneshot::Sender<T>;

/// How long a closing socket may take to send its close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// What a core asks of the engine, in the engine's terms.
pub(crate) enum Work<Request, Event> {
    /// Open the WebSocket, with this subprotocol when given.
    Open {
        url: String,
        subprotocol: Option<&'static str>,
    },
    Send(String),
    Close {
        code: u16,
        reason: &'static str,
    },
    /// Perform this request and feed its answer back.
    Request(Request),
    Event(Event),
}

/// A sans-IO core, as the engine drives it.
pub(crate) trait Core: Send + 'static {
    type Request;
    /// A finished request, ready to feed back.
    type Answer: Send + 'static;
    type Event;

    fn poll_work(&mut self) -> Option<Work<Self::Request, Self::Event>>;
    fn poll_timeout(&self) -> Option<Instant>;
    fn handle_open(&mut self, now: Instant);
    fn handle_text(&mut self, now: Instant, text: &str);
    fn handle_binary(&mut self, now: Instant, data: &[u8]);
    fn handle_closed(&mut self, now: Instant, code: u16, reason: &str);
    fn handle_timeout(&mut self, now: Instant);
    fn handle_answer(&mut self, now: Instant, answer: Self::Answer);
}

/// Performs a core's request; `None` when it was abandoned (the core gives up on its own).
pub(crate) type Performer<Request, Answer> =
    Box<dyn Fn(Request) -> BoxFuture<'static, Option<Answer>> + Send>;

enum Socket<R: Runtime> {
    None,
    Connecting(BoxFuture<'static, Result<Box<WebSocket<R>>, String>>),
    Open {
        frames: WebSocketReceiver<Transport<R::TcpStream>>,
        outgoing: mpsc::UnboundedSender<Message>,
        writer: BoxFuture<'static, ()>,
    },
}

/// One input for a driver: a command for it to apply, or anything else for the engine.
pub(crate) enum Input<Command, R: Runtime, Answer> {
    Command(Option<Command>),
    Io(Io<R, Answer>),
}

/// An input only the engine handles.
pub(crate) enum Io<R: Runtime, Answer> {
    /// Boxed: a socket is large, and inputs are moved around.
    Connected(Result<Box<WebSocket<R>>, String>),
    Frame(Option<Result<Message, WsError>>),
    WriterDone,
    Timer,
    Answer(Option<Answer>),
}

pub(crate) struct Engine<R: Runtime, C: Core> {
    pub(crate) core: C,
    socket: Socket<R>,
    timer: Option<(Instant, Pin<Box<R::Sleep>>)>,
    requests: FuturesUnordered<BoxFuture<'static, Option<C::Answer>>>,
    pub(crate) performer: Performer<C::Request, C::Answer>,
    /// Sockets still sending their close frame.
    closing: Vec<oneshot::Receiver<()>>,
    pub(crate) tls: Arc<ClientConfig>,
    pub(crate) websocket: WebSocketConfig,
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

impl<R: Runtime, C: Core> Engine<R, C> {
    pub(crate) fn new(
        core: C,
        performer: Performer<C::Request, C::Answer>,
        tls: Arc<ClientConfig>,
        websocket: WebSocketConfig,
    ) -> Self {
        Self {
            core,
            socket: Socket::None,
            timer: None,
            requests: FuturesUnordered::new(),
            performer,
            closing: Vec::new(),
            tls,
            websocket,
        }
    }

    /// Performs everything the core asked for; events go to `on_event`. Then re-arms the
    /// timer.
    pub(crate) fn perform(&mut self, mut on_event: impl FnMut(C::Event)) {
        while let Some(work) = self.core.poll_work() {
            match work {
                Work::Open { url, subprotocol } => {
                    let (tls, config) = (self.tls.clone(), self.websocket);
                    let connect = async move {
                        // Only the host is logged: the path and query may carry tokens.
                        let url = Url::parse(&url)
                            .map_err(|e| format!("the WebSocket URL is not valid: {e}"))?;
                        tracing::debug!(host = url.host_str().unwrap_or_default(), "opening");
                        websocket::connect::<R>(url, subprotocol, tls, config)
                            .await
                            .map(Box::new)
                    };
                    self.socket = Socket::Connecting(connect.boxed());
                }
                Work::Send(text) => {
                    if let Socket::Open { outgoing, .. } = &self.socket {
                        let _ = outgoing.unbounded_send(Message::text(text));
                    }
                }
                Work::Close { code, reason } => self.close_socket(code, reason),
                Work::Request(request) => {
                    let answer = (self.performer)(request);
                    self.requests.push(answer);
                }
                Work::Event(event) => on_event(event),
            }
        }
        match self.core.poll_timeout() {
            None => self.timer = None,
            Some(deadline) => {
                if self.timer.as_ref().map(|(d, _)| *d) != Some(deadline) {
                    self.timer = Some((deadline, Box::pin(R::sleep_until(deadline))));
                }
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
            let (done, finished) = oneshot::channel();
            R::spawn(async move {
                let _ = select(writer, Box::pin(grace)).await;
                let _ = done.send(());
            });
            self.closing
                .retain_mut(|closing| matches!(closing.try_recv(), Ok(None)));
            self.closing.push(finished);
        }
        // A socket still connecting is abandoned by dropping its future.
    }

    /// Waits until every socket being closed has sent its close frame (or its grace time
    /// ran out): what a shutdown waits for, so a process can exit right after.
    pub(crate) async fn closed(&mut self) {
        for closing in self.closing.drain(..) {
            let _ = closing.await;
        }
    }

    /// Waits for the next input: a command first, then the socket, the timer, requests.
    pub(crate) async fn next<Command>(
        &mut self,
        commands: &mut mpsc::UnboundedReceiver<Command>,
    ) -> Input<Command, R, C::Answer> {
        futures::future::poll_fn(|cx| {
            if let Poll::Ready(command) = commands.poll_next_unpin(cx) {
                return Poll::Ready(Input::Command(command));
            }
            match &mut self.socket {
                Socket::None => {}
                Socket::Connecting(connect) => {
                    if let Poll::Ready(result) = connect.poll_unpin(cx) {
                        return Poll::Ready(Input::Io(Io::Connected(result)));
                    }
                }
                Socket::Open { frames, writer, .. } => {
                    if let Poll::Ready(frame) = frames.poll_next_unpin(cx) {
                        return Poll::Ready(Input::Io(Io::Frame(frame)));
                    }
                    if writer.poll_unpin(cx).is_ready() {
                        return Poll::Ready(Input::Io(Io::WriterDone));
                    }
                }
            }
            if let Some((_, sleep)) = &mut self.timer
                && sleep.as_mut().poll(cx).is_ready()
            {
                self.timer = None;
                return Poll::Ready(Input::Io(Io::Timer));
            }
            if !self.requests.is_empty()
                && let Poll::Ready(Some(answer)) = self.requests.poll_next_unpin(cx)
            {
                return Poll::Ready(Input::Io(Io::Answer(answer)));
            }
            Poll::Pending
        })
        .await
    }

    /// Feeds one input into the core.
    pub(crate) fn feed(&mut self, now: Instant, io: Io<R, C::Answer>) {
        match io {
            Io::Connected(Ok(socket)) => {
                let (sink, frames) = (*socket).split();
                let (outgoing, queue) = mpsc::unbounded();
                self.socket = Socket::Open {
                    frames,
                    outgoing,
                    writer: write_frames(sink, queue).boxed(),
                };
                self.core.handle_open(now);
            }
            Io::Connected(Err(reason)) => {
                tracing::debug!(%reason, "connecting failed");
                self.socket = Socket::None;
                self.core.handle_closed(now, 1006, &reason);
            }
            Io::Frame(Some(Ok(message))) => match message {
                Message::Text(text) => self.core.handle_text(now, text.as_str()),
                Message::Binary(data) => self.core.handle_binary(now, &data),
                Message::Close(frame) => {
                    let (code, reason) = match &frame {
                        Some(frame) => (u16::from(frame.code), frame.reason.to_string()),
                        // 1005: closed without a status code.
                        None => (1005, String::new()),
                    };
                    self.socket = Socket::None;
                    self.core.handle_closed(now, code, &reason);
                }
                // tungstenite answers pings itself.
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            },
            Io::Frame(Some(Err(error))) => {
                self.socket = Socket::None;
                self.core.handle_closed(now, 1006, &error.to_string());
            }
            Io::Frame(None) => {
                self.socket = Socket::None;
                self.core.handle_closed(now, 1006, "the connection ended");
            }
            Io::WriterDone => {
                self.socket = Socket::None;
                self.core
                    .handle_closed(now, 1006, "writing to the socket failed");
            }
            Io::Timer => self.core.handle_timeout(now),
            Io::Answer(Some(answer)) => self.core.handle_answer(now, answer),
            Io::Answer(None) => {}
        }
    }
}

/// Waits for `future` at most `limit`; `None` after that.
pub(crate) fn bounded<R: Runtime, T: Send + 'static>(
    future: BoxFuture<'static, T>,
    limit: Duration,
) -> BoxFuture<'static, Option<T>> {
    let give_up = R::sleep_until(Instant::now() + limit);
    async move {
        match select(future, Box::pin(give_up)).await {
            Either::Left((value, _)) => Some(value),
            Either::Right(_) => None,
        }
    }
    .boxed()
}

/// A driver: a core's commands and events around an [`Engine`].
pub(crate) trait Drive<R: Runtime>: Send + 'static {
    type Core: Core;
    type Command: Send + 'static;

    fn engine(&mut self) -> &mut Engine<R, Self::Core>;
    /// Applies a command; returns the reply of a shutdown, which ends the loop.
    fn apply(&mut self, now: Instant, command: Self::Command) -> Option<Reply<()>>;
    /// Every handle is gone: nobody can use the connection any more.
    fn abandon(&mut self, now: Instant);
    /// Performs the core's work; delivers its events.
    fn perform(&mut self);
    /// The loop ended: end the event streams.
    fn finish(&mut self);
}

/// Runs a driver until it shuts down or every handle is gone.
pub(crate) async fn drive<R: Runtime, D: Drive<R>>(
    mut driver: D,
    mut commands: mpsc::UnboundedReceiver<D::Command>,
) {
    loop {
        driver.perform();
        let input = driver.engine().next(&mut commands).await;
        let now = Instant::now();
        match input {
            Input::Command(None) => {
                driver.abandon(now);
                break;
            }
            Input::Command(Some(command)) => {
                if let Some(reply) = driver.apply(now, command) {
                    // Shutdown: close, and answer once the close frame is out.
                    driver.perform();
                    driver.engine().closed().await;
                    let _ = reply.send(());
                    break;
                }
            }
            Input::Io(io) => driver.engine().feed(now, io),
        }
    }
    driver.perform();
    driver.finish();
}
