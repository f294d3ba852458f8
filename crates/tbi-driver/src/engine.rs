//! The IO half of every driver, for any sans-IO core: one WebSocket (connecting, then a
//! reader and a writer), the core's timer, and the requests it asked for. A driver feeds
//! commands itself and hands the rest of the inputs here. No protocol decisions.
//!
//! Everything it holds is bounded, and no source of input can starve the others:
//!
//! * Outgoing frames wait in a queue of at most [`MAX_QUEUED_FRAMES`] frames and
//!   [`MAX_QUEUED_BYTES`] bytes. A peer that stops reading is dead: when nothing could be
//!   written for the core's stall limit (the Pusher pong timeout), or when the queue
//!   overflows, the socket is dropped and reported closed (1006), so the core reconnects.
//! * Requests the core no longer wants (a lost socket's auth requests) are aborted.
//! * Commands and the socket take turns, and the timer and the finished requests come
//!   first after every [`RARE_INPUTS_EVERY`] of their inputs, so a sustained inbound
//!   stream delays neither the core's timers nor its auth answers; after
//!   [`INPUTS_PER_TURN`] inputs in a row the loop yields to the executor, so tasks
//!   consuming events run too.
//! * A connection waiting for IO holds only its state: the core frees its drained output
//!   queue (`shrink_to_fit`), and there is no request set or cancel map while no request
//!   runs (an emptied one keeps its allocation). A process may hold thousands of idle
//!   sockets.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_tungstenite::tungstenite::protocol::CloseFrame;
use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::{Error as WsError, Message};
use async_tungstenite::{WebSocketReceiver, WebSocketSender};
use futures::channel::oneshot;
use futures::future::{AbortHandle, Abortable, BoxFuture, Either, select};
use futures::stream::FuturesUnordered;
use futures::{FutureExt, Sink, SinkExt, Stream, StreamExt};
use rustls::ClientConfig;
use url::Url;

use crate::events::Consumers;
use crate::proxy::ProxySetting;
use crate::runtime::Runtime;
use crate::wakes::Wakes;
use crate::websocket::{self, ByteStream, WebSocket};
use crate::websocket_limits::WebSocketLimits;

/// A reply channel for a command.
pub(crate) type Reply<T> = oneshot::Sender<T>;

/// How long a closing socket may take to send its close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Frames waiting to be written, at most. The protocols send little (pongs, subscribes,
/// client events at 10 per second): a queue this long means the peer stopped reading.
pub const MAX_QUEUED_FRAMES: usize = 1024;

/// Bytes of frames waiting to be written, at most.
pub const MAX_QUEUED_BYTES: usize = 1 << 20;

/// Inputs handled in a row before the loop lets other tasks of the executor run (tokio
/// makes a busy socket yield on its own; other executors do not).
pub const INPUTS_PER_TURN: u32 = 4096;

/// Inputs from the commands or the socket after which the timer and the finished
/// requests are looked at first.
pub const RARE_INPUTS_EVERY: u32 = 16;

/// During a burst, the event streams' consumers are looked at after this many times
/// [`RARE_INPUTS_EVERY`] inputs (64), and whenever the socket has nothing more for now:
/// woken then, or at the end of the [`WAKE_WINDOW`](crate::wakes::WAKE_WINDOW) of their
/// last wake-up (a stream half full wakes its consumer at once). Waking a consumer
/// (often a thread parked on a futex) costs more than tens of events.
const WAKE_EVERY_RARE: u32 = 4;

/// What a core asks of the engine, in the engine's terms.
pub(crate) enum Work<Key, Request, Event> {
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
    /// Perform this request and feed its answer back; with a key, it can be cancelled.
    Request(Option<Key>, Request),
    /// The request with this key is no longer wanted.
    Cancel(Key),
    Event(Event),
}

/// A sans-IO core, as the engine drives it.
pub(crate) trait Core: Send + 'static {
    /// What names a cancellable request.
    type Key: Copy + Eq + Hash + Send + 'static;
    type Request;
    /// A finished request, ready to feed back.
    type Answer: Send + 'static;
    type Event;

    fn poll_work(&mut self) -> Option<Work<Self::Key, Self::Request, Self::Event>>;
    fn poll_timeout(&self) -> Option<Instant>;
    /// How long writes may be blocked before the peer counts as gone.
    fn write_stall_limit(&self) -> Duration;
    fn handle_open(&mut self, now: Instant);
    fn handle_text(&mut self, now: Instant, text: &str);
    /// What a received frame is, for the trace log: never its content, which may carry a
    /// secret (an Iris room token, a signature a server quotes back).
    fn frame_name(text: &str) -> &str;
    fn handle_binary(&mut self, now: Instant, data: &[u8]);
    /// A WebSocket ping or pong arrived (the WebSocket layer answers pings itself).
    fn handle_ping_pong(&mut self, now: Instant);
    fn handle_closed(&mut self, now: Instant, code: u16, reason: &str);
    fn handle_timeout(&mut self, now: Instant);
    fn handle_answer(&mut self, now: Instant, answer: Self::Answer);
    /// The engine waits for IO: the core frees what it holds and does not use.
    fn shrink_to_fit(&mut self);
}

/// Performs a core's request; `None` when it was abandoned (the core gives up on its own).
pub(crate) type Performer<Request, Answer> =
    Box<dyn Fn(Request) -> BoxFuture<'static, Option<Answer>> + Send>;

type Sender<R> = WebSocketSender<ByteStream<R>>;

/// The write half of an open socket and the frames waiting for it.
struct Writer<R: Runtime> {
    sender: Sender<R>,
    queue: VecDeque<Message>,
    queued_bytes: usize,
    /// A frame was handed to the sender and not flushed yet.
    unflushed: bool,
    /// Since when nothing could be written, while something waits; and the timer that
    /// fires at the stall limit.
    blocked: Option<(Instant, Pin<Box<R::Sleep>>)>,
}

impl<R: Runtime> Writer<R> {
    fn new(sender: Sender<R>) -> Self {
        Self {
            sender,
            queue: VecDeque::new(),
            queued_bytes: 0,
            unflushed: false,
            blocked: None,
        }
    }

    /// Queues a frame; `Err` with why when the queue is full.
    fn push(&mut self, message: Message) -> Result<(), String> {
        let len = message.len();
        if self.queue.len() >= MAX_QUEUED_FRAMES || self.queued_bytes + len > MAX_QUEUED_BYTES {
            return Err(format!(
                "the server stopped reading: {} frames ({} KiB) wait to be written",
                self.queue.len(),
                self.queued_bytes >> 10
            ));
        }
        self.queued_bytes += len;
        self.queue.push_back(message);
        Ok(())
    }

    /// Writes what it can; `Ready` with why when the socket is unusable: a write failed,
    /// or nothing could be written for `limit`.
    fn poll_write(&mut self, cx: &mut Context<'_>, limit: Duration) -> Poll<String> {
        loop {
            let step = if !self.queue.is_empty() {
                match Pin::new(&mut self.sender).poll_ready(cx) {
                    Poll::Ready(Ok(())) => {
                        let Some(message) = self.queue.pop_front() else {
                            continue;
                        };
                        self.queued_bytes -= message.len();
                        self.unflushed = true;
                        Poll::Ready(Pin::new(&mut self.sender).start_send(message))
                    }
                    other => other,
                }
            } else if self.unflushed {
                let flushed = Pin::new(&mut self.sender).poll_flush(cx);
                if let Poll::Ready(Ok(())) = flushed {
                    self.unflushed = false;
                }
                flushed
            } else {
                self.blocked = None;
                // Frames out are rare (subscriptions, pongs): an idle socket keeps no
                // queue (224 bytes per socket otherwise).
                if self.queue.capacity() != 0 {
                    self.queue = VecDeque::new();
                }
                return Poll::Pending;
            };
            match step {
                Poll::Ready(Ok(())) => self.blocked = None,
                Poll::Ready(Err(error)) => return Poll::Ready(format!("writing failed: {error}")),
                Poll::Pending => break,
            }
        }
        let (since, stall) = self.blocked.get_or_insert_with(|| {
            let since = Instant::now();
            (
                since,
                Box::pin(R::sleep_until(tbi_common::deadline(since, limit))),
            )
        });
        if stall.as_mut().poll(cx).is_ready() {
            return Poll::Ready(format!(
                "the server stopped reading: nothing could be written for {}",
                tbi_common::human(since.elapsed())
            ));
        }
        Poll::Pending
    }

    /// Sends what is queued, then the close frame, in the background, for at most the
    /// close grace.
    fn close(mut self, close: Message) -> oneshot::Receiver<()> {
        let (done, finished) = oneshot::channel();
        let grace = R::sleep_until(tbi_common::deadline(Instant::now(), CLOSE_GRACE));
        R::spawn(async move {
            let send = async move {
                while let Some(message) = self.queue.pop_front() {
                    if self.sender.feed(message).await.is_err() {
                        return;
                    }
                }
                let _ = self.sender.send(close).await;
                let _ = SinkExt::close(&mut self.sender).await;
            };
            let _ = select(Box::pin(send), Box::pin(grace)).await;
            let _ = done.send(());
        });
        finished
    }
}

enum Socket<R: Runtime> {
    None,
    Connecting(BoxFuture<'static, Result<Box<WebSocket<R>>, String>>),
    Open {
        frames: WebSocketReceiver<ByteStream<R>>,
        writer: Writer<R>,
    },
}

/// One input for a driver: a command for it to apply, or anything else for the engine.
pub(crate) enum Input<Command, R: Runtime, Key, Answer> {
    Command(Option<Command>),
    Io(Io<R, Key, Answer>),
}

/// An input only the engine handles.
pub(crate) enum Io<R: Runtime, Key, Answer> {
    /// Boxed: a socket is large, and inputs are moved around.
    Connected(Result<Box<WebSocket<R>>, String>),
    Frame(Option<Result<Message, WsError>>),
    /// The socket cannot be written to any more: why.
    WriterFailed(String),
    Timer,
    Answer(Option<Key>, Option<Answer>),
}

/// A request under way, with its key when it can be cancelled.
type Running<Key, Answer> = BoxFuture<'static, (Option<Key>, Option<Answer>)>;

pub(crate) struct Engine<R: Runtime, C: Core> {
    pub(crate) core: C,
    socket: Socket<R>,
    /// The socket failed while outputs were performed (its queue overflowed): reported
    /// as the next input.
    failed: Option<String>,
    timer: Option<Timer<R>>,
    /// Requests under way; `None` while there are none (an empty set still holds an
    /// allocation, and most sockets are idle).
    requests: Option<FuturesUnordered<Running<C::Key, C::Answer>>>,
    /// Replaced when emptied: a drained map keeps its slots.
    cancels: HashMap<C::Key, AbortHandle>,
    pub(crate) performer: Performer<C::Request, C::Answer>,
    /// Sockets still sending their close frame.
    closing: Vec<oneshot::Receiver<()>>,
    /// Whose turn it is first: the commands or the socket.
    commands_first: bool,
    /// Inputs from the commands or the socket since the timer and the requests were
    /// looked at first.
    busy_turns: u32,
    /// Times the timer and requests came first since the consumers were last woken.
    rare_turns: u32,
    pub(crate) tls: Arc<ClientConfig>,
    pub(crate) websocket: WebSocketLimits,
    pub(crate) proxy: ProxySetting,
    /// The connection's event consumers: whether the socket may be read now (`false`
    /// while a lossless event stream is full; they wake the task when it has room:
    /// timers, commands and writes go on meanwhile), and their wake-ups, held back for
    /// their window (`wakes.rs`; looked at every [`WAKE_EVERY_RARE`] rare turns of a
    /// busy run).
    consumers: Option<Arc<dyn Consumers>>,
    /// When the consumers were woken, and the timer of a wake-up held back.
    wakes: Wakes<R::Sleep>,
}

/// The core's timer, re-armed lazily. Most frames move the core's deadline later (the
/// activity timeout starts again): instead of a new sleep for every frame, the armed one
/// is kept and only notes the deadline it should have; when it fires early it is armed
/// again for that deadline. Only a deadline earlier than the armed one replaces it.
struct Timer<R: Runtime> {
    /// The core's deadline now.
    wanted: Instant,
    /// When `sleep` ends: never after `wanted`.
    armed: Instant,
    sleep: Pin<Box<R::Sleep>>,
}

impl<R: Runtime> Timer<R> {
    fn new(deadline: Instant) -> Self {
        Self {
            wanted: deadline,
            armed: deadline,
            sleep: Box::pin(R::sleep_until(deadline)),
        }
    }

    /// Ready when the core's deadline has come.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        while self.sleep.as_mut().poll(cx).is_ready() {
            if self.wanted <= self.armed {
                return Poll::Ready(());
            }
            *self = Self::new(self.wanted);
        }
        Poll::Pending
    }

    /// The core's deadline became `deadline`.
    fn want(slot: &mut Option<Self>, deadline: Instant) {
        match slot {
            Some(timer) if timer.armed <= deadline => timer.wanted = deadline,
            _ => *slot = Some(Self::new(deadline)),
        }
    }
}

impl<R: Runtime, C: Core> Engine<R, C> {
    pub(crate) fn new(
        core: C,
        performer: Performer<C::Request, C::Answer>,
        tls: Arc<ClientConfig>,
        websocket: WebSocketLimits,
        proxy: ProxySetting,
    ) -> Self {
        Self {
            core,
            socket: Socket::None,
            failed: None,
            timer: None,
            requests: None,
            cancels: HashMap::new(),
            performer,
            closing: Vec::new(),
            commands_first: true,
            busy_turns: 0,
            rare_turns: 0,
            tls,
            websocket,
            proxy,
            consumers: None,
            wakes: Wakes::default(),
        }
    }

    /// Reads the socket only while `consumers` have room (the consumer of a lossless
    /// event stream holds the socket back, and the server's writes wait in TCP), and
    /// wakes them at most once per wake-up window while events keep coming rather than
    /// once per event (see `wakes.rs`): a consumer that keeps up would otherwise be
    /// woken, often on another thread, for every frame.
    pub(crate) fn with_consumers(mut self, consumers: Arc<dyn Consumers>) -> Self {
        self.consumers = Some(consumers);
        self
    }

    /// Wakes the consumers given events since the last time, now.
    pub(crate) fn wake_consumers(&mut self) {
        if let Some(consumers) = &self.consumers {
            self.wakes.now(Instant::now(), &**consumers);
        }
    }

    /// Wakes the consumers given events since the last time, now or at the end of
    /// their wake-up window (see `wakes.rs`).
    fn wake_consumers_soon(&mut self, cx: &mut Context<'_>) {
        if let Some(consumers) = &self.consumers {
            self.wakes
                .soon(Instant::now, &**consumers, cx, R::sleep_until);
        }
    }

    /// Performs everything the core asked for; events go to `on_event`. Then re-arms the
    /// timer.
    pub(crate) fn perform(&mut self, mut on_event: impl FnMut(C::Event)) {
        while let Some(work) = self.core.poll_work() {
            match work {
                Work::Open { url, subprotocol } => {
                    let (tls, config, proxy) =
                        (self.tls.clone(), self.websocket, self.proxy.clone());
                    let connect = async move {
                        // Only the host is logged: the path and query may carry tokens.
                        let url = Url::parse(&url)
                            .map_err(|e| format!("the WebSocket URL is not valid: {e}"))?;
                        tracing::debug!(host = url.host_str().unwrap_or_default(), "opening");
                        websocket::connect::<R>(url, subprotocol, tls, config, proxy)
                            .await
                            .map(Box::new)
                    };
                    self.failed = None;
                    self.socket = Socket::Connecting(connect.boxed());
                }
                Work::Send(text) => {
                    if let Socket::Open { writer, .. } = &mut self.socket
                        && self.failed.is_none()
                        && let Err(why) = writer.push(Message::text(text))
                    {
                        self.failed = Some(why);
                    }
                }
                Work::Close { code, reason } => self.close_socket(code, reason),
                Work::Request(key, request) => {
                    let answer = (self.performer)(request);
                    let running = match key {
                        Some(key) => {
                            let (handle, registration) = AbortHandle::new_pair();
                            self.cancels.insert(key, handle);
                            Abortable::new(answer, registration)
                                .map(move |answer| (Some(key), answer.ok().flatten()))
                                .boxed()
                        }
                        None => answer.map(|answer| (None, answer)).boxed(),
                    };
                    self.requests
                        .get_or_insert_with(FuturesUnordered::new)
                        .push(running);
                }
                Work::Cancel(key) => {
                    if let Some(handle) = self.forget_cancel(&key) {
                        handle.abort();
                    }
                }
                Work::Event(event) => on_event(event),
            }
        }
        match self.core.poll_timeout() {
            None => self.timer = None,
            Some(deadline) => Timer::want(&mut self.timer, deadline),
        }
    }

    fn close_socket(&mut self, code: u16, reason: &'static str) {
        self.failed = None;
        if let Socket::Open { writer, .. } = std::mem::replace(&mut self.socket, Socket::None) {
            let close = Message::Close(Some(CloseFrame {
                code: CloseCode::from(code),
                reason: reason.into(),
            }));
            // Finish the close in the background; a new socket may open meanwhile.
            let finished = writer.close(close);
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

    /// Waits for the next input. Commands and the socket take turns; the timer and the
    /// finished requests are looked at whenever neither has anything, and first after
    /// every [`RARE_INPUTS_EVERY`] inputs of theirs, so a sustained stream delays them by
    /// that many inputs at most (looking at them on every input would cost more than
    /// the input). Writes go out meanwhile.
    pub(crate) async fn next<Command>(
        &mut self,
        commands: &mut (impl Stream<Item = Command> + Unpin),
    ) -> Input<Command, R, C::Key, C::Answer> {
        let limit = self.core.write_stall_limit();
        futures::future::poll_fn(|cx| {
            if let Some(why) = self.failed.take() {
                return Poll::Ready(Input::Io(Io::WriterFailed(why)));
            }
            let rare_first = self.busy_turns >= RARE_INPUTS_EVERY;
            if rare_first {
                self.busy_turns = 0;
                self.rare_turns += 1;
                if self.rare_turns >= WAKE_EVERY_RARE {
                    self.rare_turns = 0;
                    self.wake_consumers_soon(cx);
                }
                if let Poll::Ready(io) = self.poll_rare(cx) {
                    return Poll::Ready(Input::Io(io));
                }
            }
            if let Socket::Open { writer, .. } = &mut self.socket
                && let Poll::Ready(why) = writer.poll_write(cx, limit)
            {
                return Poll::Ready(Input::Io(Io::WriterFailed(why)));
            }
            self.commands_first = !self.commands_first;
            let busy = if self.commands_first {
                match commands.poll_next_unpin(cx) {
                    Poll::Ready(command) => Poll::Ready(Input::Command(command)),
                    Poll::Pending => self.poll_socket(cx).map(Input::Io),
                }
            } else {
                match self.poll_socket(cx) {
                    Poll::Ready(io) => Poll::Ready(Input::Io(io)),
                    Poll::Pending => commands.poll_next_unpin(cx).map(Input::Command),
                }
            };
            if busy.is_ready() {
                self.busy_turns += 1;
                return busy;
            }
            if !rare_first && let Poll::Ready(io) = self.poll_rare(cx) {
                return Poll::Ready(Input::Io(io));
            }
            // Nothing more for now: the consumers get what this batch gave them (now or
            // when their wake-up window ends), and the core frees what it held for it.
            self.wake_consumers_soon(cx);
            self.core.shrink_to_fit();
            Poll::Pending
        })
        .await
    }

    /// The timer, then the finished requests.
    fn poll_rare(&mut self, cx: &mut Context<'_>) -> Poll<Io<R, C::Key, C::Answer>> {
        if let Some(timer) = &mut self.timer
            && timer.poll(cx).is_ready()
        {
            self.timer = None;
            return Poll::Ready(Io::Timer);
        }
        if let Some(requests) = &mut self.requests
            && let Poll::Ready(next) = requests.poll_next_unpin(cx)
        {
            if requests.is_empty() {
                self.requests = None;
            }
            if let Some((key, answer)) = next {
                if let Some(key) = &key {
                    self.forget_cancel(key);
                }
                return Poll::Ready(Io::Answer(key, answer));
            }
        }
        Poll::Pending
    }

    /// Takes `key`'s cancel handle out; the map's slots go with the last one.
    fn forget_cancel(&mut self, key: &C::Key) -> Option<AbortHandle> {
        let handle = self.cancels.remove(key);
        if self.cancels.is_empty() {
            self.cancels = HashMap::new();
        }
        handle
    }

    fn poll_socket(&mut self, cx: &mut Context<'_>) -> Poll<Io<R, C::Key, C::Answer>> {
        match &mut self.socket {
            Socket::None => Poll::Pending,
            Socket::Connecting(connect) => connect.poll_unpin(cx).map(Io::Connected),
            Socket::Open { .. } if self.consumers.as_ref().is_some_and(|c| !c.poll_room(cx)) => {
                Poll::Pending
            }
            Socket::Open { frames, .. } => frames.poll_next_unpin(cx).map(Io::Frame),
        }
    }

    /// Feeds one input into the core.
    pub(crate) fn feed(&mut self, now: Instant, io: Io<R, C::Key, C::Answer>) {
        match io {
            Io::Connected(Ok(socket)) => {
                let (sender, frames) = (*socket).split();
                self.socket = Socket::Open {
                    frames,
                    writer: Writer::new(sender),
                };
                self.core.handle_open(now);
            }
            Io::Connected(Err(reason)) => {
                tracing::debug!(%reason, "connecting failed");
                self.socket = Socket::None;
                self.core.handle_closed(now, 1006, &reason);
            }
            Io::Frame(Some(Ok(message))) => match message {
                Message::Text(text) => {
                    crate::trace::received(text.as_str(), C::frame_name);
                    self.core.handle_text(now, text.as_str());
                }
                Message::Binary(data) => self.core.handle_binary(now, &data),
                Message::Close(frame) => {
                    let (code, reason) = match &frame {
                        Some(frame) => (u16::from(frame.code), frame.reason.to_string()),
                        // 1005: closed without a status code.
                        None => (1005, String::new()),
                    };
                    tracing::debug!(code, %reason, "closed by the server");
                    self.socket = Socket::None;
                    self.core.handle_closed(now, code, &reason);
                }
                // tungstenite answers pings itself; both prove the peer alive.
                Message::Ping(_) | Message::Pong(_) => self.core.handle_ping_pong(now),
                Message::Frame(_) => {}
            },
            Io::Frame(Some(Err(error))) => {
                tracing::debug!(%error, "the socket failed");
                self.socket = Socket::None;
                self.core.handle_closed(now, 1006, &error.to_string());
            }
            Io::Frame(None) => {
                self.socket = Socket::None;
                self.core.handle_closed(now, 1006, "the connection ended");
            }
            Io::WriterFailed(why) => {
                tracing::debug!(%why, "the socket is dropped");
                // Not closed gracefully: nothing can be written to it.
                self.socket = Socket::None;
                self.core.handle_closed(now, 1006, &why);
            }
            Io::Timer => self.core.handle_timeout(now),
            Io::Answer(_, Some(answer)) => self.core.handle_answer(now, answer),
            Io::Answer(_, None) => {}
        }
    }
}

/// Waits for `future` at most `limit`; `None` after that.
pub(crate) fn bounded<R: Runtime, T: Send + 'static>(
    future: BoxFuture<'static, T>,
    limit: Duration,
) -> BoxFuture<'static, Option<T>> {
    let give_up = R::sleep_until(tbi_common::deadline(Instant::now(), limit));
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

/// Lets the executor run other tasks once.
async fn yield_now() {
    let mut yielded = false;
    futures::future::poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await;
}

/// Runs a driver until it shuts down or every handle is gone. One future, not nested
/// async fns: the task's future holds the driver once (a nested call would hold room for
/// it twice). And an `async move` block, not an `async fn`: an async fn's future keeps
/// its arguments and the locals they are moved into in separate slots, so the driver
/// took its room twice even so (5,328 bytes of task for a 2,496-byte driver).
#[allow(clippy::manual_async_fn, reason = "an async fn keeps the driver twice")]
pub(crate) fn drive<R: Runtime, D: Drive<R>>(
    mut driver: D,
    mut commands: crate::handle::CommandQueue<D::Command>,
) -> impl std::future::Future<Output = ()> + Send {
    async move {
        let mut in_a_row = 0;
        loop {
            driver.perform();
            in_a_row += 1;
            if in_a_row >= INPUTS_PER_TURN {
                in_a_row = 0;
                driver.engine().wake_consumers();
                yield_now().await;
            }
            let input = driver.engine().next(&mut commands).await;
            let now = Instant::now();
            match input {
                Input::Command(None) => {
                    driver.abandon(now);
                    break;
                }
                Input::Command(Some(queued)) => {
                    // Taking the command gives its room in the queue back.
                    if let Some(reply) = driver.apply(now, queued.command) {
                        // Shutdown: close, and answer once the close frame is out.
                        driver.perform();
                        driver.engine().wake_consumers();
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
        // Dropping the queue fails the commands sent from now on and drops the ones still
        // queued, which answers their callers (the connection is closed).
        drop(commands);
    }
}
