//! The library's receiver of the drain, run in a process of its own (`tbi-bench
//! receive`): one socket subscribed to a public channel, counting application events
//! through an `on_event` handler or an event stream, on tokio or async-std.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::channel::oneshot;
use tbi_driver::tbi_proto::Event;
use tbi_driver::{Runtime, SocketConfig, TbiSocket};
use tbi_test_support::app::APP_KEY;

use crate::child::{say, websocket_limits};

/// Which runtime the receiver runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RuntimeKind {
    /// tbi-tokio.
    Tokio,
    /// tbi-async-std.
    AsyncStd,
}

/// How the application takes the events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Delivery {
    /// `on_event`.
    Handler,
    /// `socket.events()`.
    Stream,
}

impl RuntimeKind {
    /// Its name on the command line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Tokio => "tokio",
            Self::AsyncStd => "async-std",
        }
    }
}

impl Delivery {
    /// Its name on the command line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Handler => "handler",
            Self::Stream => "stream",
        }
    }
}

/// Receives `count` application events on `channel` from the server at `url`; says
/// `subscribed` once subscribed and `done N` at the end, on stdout.
pub(crate) fn receive(
    runtime: RuntimeKind,
    delivery: Delivery,
    url: &str,
    channel: &str,
    count: u64,
) {
    let outcome = match runtime {
        RuntimeKind::Tokio => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
            .and_then(|rt| rt.block_on(run::<tbi_tokio::Tokio>(delivery, url, channel, count))),
        RuntimeKind::AsyncStd => async_std::task::block_on(run::<tbi_async_std::AsyncStd>(
            delivery, url, channel, count,
        )),
    };
    match outcome {
        Ok(received) => say(&format!("done {received}")),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

async fn run<R: Runtime>(
    delivery: Delivery,
    url: &str,
    channel: &str,
    count: u64,
) -> Result<u64, String> {
    let buffer = usize::try_from(count)
        .unwrap_or(usize::MAX)
        .saturating_add(16);
    let config = SocketConfig::builder(APP_KEY)
        .url(url)
        .event_buffer(buffer)
        .websocket(websocket_limits()?)
        .build()
        .map_err(|e| e.to_string())?;
    let socket = TbiSocket::<R>::new(config);
    let mut events = (delivery == Delivery::Stream).then(|| socket.events());
    let (done, finished) = oneshot::channel::<()>();
    if delivery == Delivery::Handler {
        let handled = AtomicU64::new(0);
        let done = Mutex::new(Some(done));
        socket.on_event(move |_| {
            if handled.fetch_add(1, Ordering::Relaxed) + 1 == count
                && let Some(done) = done.lock().unwrap_or_else(|e| e.into_inner()).take()
            {
                let _ = done.send(());
            }
        });
    }
    let subscription = socket.subscribe(channel).await.map_err(|e| e.to_string())?;
    socket.connect().await.map_err(|e| e.to_string())?;
    subscription.subscribed().await.map_err(|e| e.to_string())?;
    say("subscribed");
    let received = match &mut events {
        Some(events) => {
            let mut received = 0;
            while received < count {
                match events.next().await {
                    Some(Event::Message { .. }) => received += 1,
                    Some(Event::Lagged { missed }) => return Err(format!("lost {missed} events")),
                    Some(_) => {}
                    None => return Err("the socket stopped".into()),
                }
            }
            received
        }
        None => {
            finished.await.map_err(|_| "the socket stopped")?;
            count
        }
    };
    socket.shutdown().await;
    Ok(received)
}
