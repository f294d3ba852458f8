//! A server that misbehaves ([`FloodServer`]) and an application that does not keep up:
//! every queue stays bounded, the slow part loses only what its policy says, and nothing
//! else is held up.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::{FutureExt, StreamExt};
use tbi_driver::{AuthFuture, Runtime, SocketConfig, SocketConfigBuilder, TbiSocket};
use tbi_loopback::flood::FloodServer;
use tbi_proto::backend::AuthSigner;
use tbi_proto::{AuthRequest, ConnectionState, ErrorKind, Event};

use crate::app::{APP_KEY, APP_SECRET};
use crate::client::{Client, within};
use crate::watch::pause;

/// A client of the flood server: no auth endpoint (the server checks no signature), a
/// signer instead, and short timeouts.
fn flood_config(server: &FloodServer) -> SocketConfigBuilder {
    let signer = AuthSigner::new(APP_KEY, APP_SECRET);
    SocketConfig::builder(APP_KEY)
        .url(server.ws_url())
        .jitter_seed(fastrand::u64(..))
        .handshake_timeout(Duration::from_secs(5))
        .auth_timeout(Duration::from_secs(2))
        .max_reconnect_delay(Duration::from_secs(1))
        .authorizer(move |request: &AuthRequest| -> AuthFuture {
            let answer = match request.channel() {
                Some(channel) => signer.authorize_channel(
                    &request.socket_id,
                    channel,
                    Some(r#"{"user_id":"patient"}"#),
                ),
                None => signer.authorize_user(&request.socket_id, r#"{"id":"patient"}"#),
            };
            Box::pin(async move { Ok(answer) })
        })
}

fn message_on(channel: &str, n: u64) -> String {
    serde_json::json!({"event": "call-status", "channel": channel, "data": n.to_string()})
        .to_string()
}

/// A flood server that sends `count` events on `channel`, their data `0`, `1`, … in
/// order.
fn numbered_flood(channel: &str, count: u64) -> FloodServer {
    let frames: Vec<String> = (0..count).map(|n| message_on(channel, n)).collect();
    FloodServer::builder()
        .flood(channel, frames, Some(count))
        .start()
        .expect("the flood server starts")
}

/// Counts the handler's events on a channel.
fn count_messages<R>(socket: &TbiSocket<R>, channel: &str) -> Arc<AtomicU64> {
    let count = Arc::new(AtomicU64::new(0));
    let (counter, channel) = (count.clone(), channel.to_owned());
    socket.on_event(move |event| {
        if event.channel_name == channel {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    count
}

async fn until<R: Runtime>(what: &str, limit: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "not within {limit:?}: {what}");
        pause::<R>(Duration::from_millis(20)).await;
    }
}

/// A stream nobody reads holds its capacity of events and no more; when it is read at
/// last it says how many it lost, then hands out the newest. The handlers and a stream
/// that keeps up get every event.
pub async fn a_stream_nobody_reads_stays_bounded<R: Runtime>() {
    const FLOOD: u64 = 20_000;
    let channel = "consultation-flood";
    let server = numbered_flood(channel, FLOOD);
    let socket = TbiSocket::<R>::new(flood_config(&server).build().expect("config"));
    let handled = count_messages(&socket, channel);
    let unread = socket.events_with_capacity(256);
    let mut reader = socket.events_with_capacity(FLOOD as usize + 100);
    let read = Arc::new(AtomicU64::new(0));
    let reading = {
        let read = read.clone();
        async move {
            while let Some(event) = reader.next().await {
                match event {
                    Event::Message { .. } => {
                        read.fetch_add(1, Ordering::Relaxed);
                    }
                    Event::Lagged { missed } => panic!("a stream that keeps up lagged ({missed})"),
                    _ => {}
                }
            }
        }
    };
    R::spawn(reading);
    socket.subscribe(channel).await.expect("valid");
    socket.connect().await.expect("running");
    until::<R>("every event handled", Duration::from_secs(30), || {
        handled.load(Ordering::Relaxed) == FLOOD && read.load(Ordering::Relaxed) == FLOOD
    })
    .await;
    socket.shutdown().await;
    let unread: Vec<Event> = within::<R, _>(Duration::from_secs(5), unread.collect())
        .await
        .expect("the stream ends after shutdown");
    let Some(Event::Lagged { missed }) = unread.first() else {
        panic!("no Lagged first: {:?}", unread.first());
    };
    // Everything but the 256 newest (the flood and the state changes around it).
    assert!(*missed >= FLOOD - 256, "missed {missed}");
    assert_eq!(unread.len(), 257, "the lag, then the capacity");
    let last_message = unread.iter().rev().find_map(|e| match e {
        Event::Message { data, .. } => Some(data.clone()),
        _ => None,
    });
    assert_eq!(
        last_message,
        Some((FLOOD - 1).to_string()),
        "the newest are kept"
    );
}

/// A lossless stream whose consumer is slower than the flood gets every event, in order,
/// and never a `Lagged`: while it is full the socket reads nothing more. The handler
/// still gets every event, and so does a small ordinary stream read as slowly, minus
/// what it drops (so the flood did outrun its consumer).
pub async fn a_slow_lossless_stream_gets_every_event<R: Runtime>() {
    const FLOOD: u64 = 20_000;
    let channel = "consultation-flood";
    let server = numbered_flood(channel, FLOOD);
    let config = flood_config(&server)
        .event_buffer(64)
        .build()
        .expect("config");
    let socket = TbiSocket::<R>::new(config);
    let handled = count_messages(&socket, channel);
    let mut lossless = socket.lossless_events();
    let mut lossy = socket.events_with_capacity(64);
    socket.subscribe(channel).await.expect("valid");
    socket.connect().await.expect("running");
    let (mut next, mut lagged, mut most) = (0u64, 0u64, 0usize);
    let deadline = Instant::now() + Duration::from_secs(60);
    while next < FLOOD {
        assert!(
            Instant::now() < deadline,
            "only {next} of {FLOOD} events in time"
        );
        let event = within::<R, _>(Duration::from_secs(10), lossless.next())
            .await
            .expect("the next event in time");
        most = most.max(lossless.len());
        match event {
            Some(Event::Message { data, .. }) => {
                assert_eq!(data, next.to_string(), "in order, none missing");
                next += 1;
                // Slower than the flood: a pause every 500 events.
                if next % 500 == 0 {
                    pause::<R>(Duration::from_millis(5)).await;
                    while let Some(Some(event)) = lossy.next().now_or_never() {
                        if let Event::Lagged { missed } = event {
                            lagged += missed;
                        }
                    }
                }
            }
            Some(Event::Lagged { missed }) => panic!("a lossless stream lagged ({missed})"),
            Some(_) => {}
            None => panic!("the stream ended after {next} events"),
        }
    }
    assert!(
        lagged > 0,
        "the ordinary stream never fell behind: the test proves nothing"
    );
    // Its capacity, and the events of the frame under way past it at most.
    assert!(most <= 64 + 4, "the lossless stream held {most} events");
    until::<R>("every event handled", Duration::from_secs(10), || {
        handled.load(Ordering::Relaxed) == FLOOD
    })
    .await;
    assert_eq!(
        socket.state(),
        ConnectionState::Connected,
        "no reconnect on the way"
    );
    socket.shutdown().await;
}

/// Bursts into a stream whose consumer keeps up: the consumer is woken at most once per
/// wake-up window while events keep coming, and the wake-ups held back for the window
/// are not lost. The consumer only ever waits to be woken (polling again would find the
/// events without a wake-up); the stream never gets half full (which wakes it at once);
/// nothing else comes after a burst to wake it. A wake-up held back comes within a few
/// milliseconds, and a whole round's flood takes about 60 ms; a lost one leaves the
/// consumer waiting until something else polls it.
pub async fn a_burst_reaches_a_waiting_stream_to_its_last_event<R: Runtime>() {
    const ROUNDS: usize = 8;
    const FLOOD: u64 = 5_000;
    let channel = "consultation-burst";
    for round in 0..ROUNDS {
        let server = numbered_flood(channel, FLOOD);
        let config = flood_config(&server)
            .event_buffer(4 * FLOOD as usize)
            .build()
            .expect("config");
        let socket = TbiSocket::<R>::new(config);
        let mut events = socket.events();
        socket.subscribe(channel).await.expect("valid");
        socket.connect().await.expect("running");
        let mut next = 0u64;
        while next < FLOOD {
            // The wait's own timeout would poll the stream again: time each wait.
            let waiting = Instant::now();
            let event = within::<R, _>(Duration::from_secs(10), events.next()).await;
            let waited = waiting.elapsed();
            // From the first event on: connecting may take longer on a loaded machine.
            assert!(
                next == 0 || waited < Duration::from_millis(500),
                "round {round}: no wake-up for {waited:?} after {next} of {FLOOD} events"
            );
            match event {
                Some(Some(Event::Message { data, .. })) => {
                    assert_eq!(data, next.to_string(), "in order, none missing");
                    next += 1;
                }
                Some(Some(Event::Lagged { missed })) => panic!("the stream lagged ({missed})"),
                Some(Some(_)) => {}
                Some(None) => panic!("the stream ended after {next} events"),
                None => panic!("round {round}: no event for 10 s after {next} of {FLOOD}"),
            }
        }
        socket.shutdown().await;
    }
}

/// A server that stops reading: once nothing could be written for the pong timeout (or
/// the outgoing queue is full), the socket is dropped and the client reconnects.
pub async fn a_server_that_stops_reading_is_dropped<R: Runtime>() {
    let server = FloodServer::builder()
        .stop_reading_after_subscribe()
        .start()
        .expect("the flood server starts");
    let mut client = Client::<R>::new(
        flood_config(&server)
            .pong_timeout(Duration::from_secs(2))
            .max_client_event_bytes(1 << 20)
            .build()
            .expect("config"),
    );
    let channel = "private-consultation-1";
    client.socket.subscribe(channel).await.expect("valid");
    client.connect().await;
    client.subscribed(channel).await;
    // Client events of almost 1 MiB each, as fast as the rate limit lets them out: the
    // socket buffers fill, then the queue, then writing blocks.
    let data = "x".repeat((1 << 20) - 1024);
    let started = Instant::now();
    let lost = loop {
        let _ = client.socket.trigger(channel, "client-big", &data).await;
        let lost = within::<R, _>(
            Duration::from_millis(120),
            client.watch.expect_within(
                "the socket dropped",
                Duration::from_secs(60),
                |e| matches!(e, Event::Error(e) if e.kind == ErrorKind::ConnectionClosed),
            ),
        )
        .await;
        if let Some(lost) = lost {
            break lost;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "a server that reads nothing was never dropped"
        );
    };
    let Event::Error(error) = lost else {
        unreachable!()
    };
    assert!(
        error.message.contains("stopped reading"),
        "{}",
        error.message
    );
    assert_eq!(error.code, Some(1006));
    client.connected().await;
    assert_eq!(server.connections(), 2);
    client.socket.shutdown().await;
}

/// A sustained inbound stream delays neither auth answers nor the core's timers.
pub async fn a_flood_does_not_starve_auth_answers_or_timers<R: Runtime>() {
    let flooded = "consultation-busy";
    let server = FloodServer::builder()
        .flood(flooded, vec![message_on(flooded, 1)], None)
        .start()
        .expect("the flood server starts");
    // An authorizer that answers one channel at once and never answers another.
    let signer = AuthSigner::new(APP_KEY, APP_SECRET);
    let config = flood_config(&server)
        .authorizer(move |request: &AuthRequest| -> AuthFuture {
            let channel = request.channel().cloned();
            let never = channel
                .as_ref()
                .is_some_and(|c| c.as_str().contains("never"));
            let answer = channel
                .map(|c| signer.authorize_channel(&request.socket_id, &c, None))
                .unwrap_or_default();
            Box::pin(async move {
                if never {
                    futures::future::pending::<()>().await;
                }
                Ok(answer)
            })
        })
        .build()
        .expect("config");
    let socket = TbiSocket::<R>::new(config);
    let handled = count_messages(&socket, flooded);
    let answered = "private-answered";
    let never = "private-never-answered";
    let (confirmed, timed_out) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    {
        let confirmed = confirmed.clone();
        socket.on_subscription_succeeded(move |channel, _| {
            if channel.as_str() == answered {
                confirmed.fetch_add(1, Ordering::Relaxed);
            }
        });
        // The auth timeout (2 s) is a core timer.
        let timed_out = timed_out.clone();
        socket.on_subscription_error(move |channel, _, _| {
            if channel.as_str() == never {
                timed_out.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    socket.subscribe(flooded).await.expect("valid");
    socket.connect().await.expect("running");
    until::<R>("the flood under way", Duration::from_secs(10), || {
        handled.load(Ordering::Relaxed) > 10_000
    })
    .await;
    socket.subscribe(answered).await.expect("valid");
    socket.subscribe(never).await.expect("valid");
    let started = Instant::now();
    until::<R>(
        "the auth answer and the auth timeout, during the flood",
        Duration::from_secs(10),
        || confirmed.load(Ordering::Relaxed) == 1 && timed_out.load(Ordering::Relaxed) == 1,
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    let before = handled.load(Ordering::Relaxed);
    pause::<R>(Duration::from_millis(200)).await;
    assert!(
        handled.load(Ordering::Relaxed) > before,
        "the flood went on meanwhile"
    );
    socket.shutdown().await;
}

/// The auth requests of a socket that is lost are aborted at once, not left running until
/// their timeout: a flapping server must not pile up requests on the auth endpoint.
pub async fn auth_requests_of_a_lost_socket_are_cancelled<R: Runtime>() {
    struct Dropped(Arc<AtomicU64>);
    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
    let server = FloodServer::builder()
        .drop_after_established()
        .start()
        .expect("the flood server starts");
    let (asked, dropped) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let (counter, drops) = (asked.clone(), dropped.clone());
    let config = flood_config(&server)
        .auth_timeout(Duration::from_secs(30))
        .authorizer(move |_: &AuthRequest| -> AuthFuture {
            counter.fetch_add(1, Ordering::Relaxed);
            let guard = Dropped(drops.clone());
            Box::pin(async move {
                let _guard = guard;
                futures::future::pending().await
            })
        })
        .build()
        .expect("config");
    let socket = TbiSocket::<R>::new(config);
    socket
        .subscribe("private-consultation-1")
        .await
        .expect("valid");
    socket.connect().await.expect("running");
    until::<R>("three requests asked", Duration::from_secs(15), || {
        asked.load(Ordering::Relaxed) >= 3
    })
    .await;
    // Every request but the newest has been dropped, long before the 30 s auth timeout.
    until::<R>(
        "the lost sockets' requests dropped",
        Duration::from_secs(5),
        || dropped.load(Ordering::Relaxed) + 1 >= asked.load(Ordering::Relaxed),
    )
    .await;
    socket.shutdown().await;
}

/// WebSocket pings (and pongs) prove the server alive: no `pusher:ping` is needed and
/// the connection is never dropped for silence.
pub async fn websocket_pings_count_as_activity<R: Runtime>() {
    let server = FloodServer::builder()
        .activity_timeout(1)
        .ws_ping_every(Duration::from_millis(300))
        .start()
        .expect("the flood server starts");
    let mut client = Client::<R>::new(
        flood_config(&server)
            .activity_timeout(Duration::from_secs(1))
            .pong_timeout(Duration::from_secs(1))
            .build()
            .expect("config"),
    );
    client.connect().await;
    client
        .watch
        .expect_none("a dropped connection", Duration::from_secs(4), |e| {
            matches!(
                e,
                Event::Error(_)
                    | Event::ConnectionStateChanged {
                        current: ConnectionState::Reconnecting,
                        ..
                    }
            )
        })
        .await;
    assert!(
        !server.received().iter().any(|f| f.contains("pusher:ping")),
        "{:?}",
        server.received()
    );
    assert_eq!(server.connections(), 1);
    client.socket.shutdown().await;
}

/// Floods `channel` with `frames` (`FLOOD` in all) to a socket that `counting`
/// instruments; asserts the live heap grew by at most 64 KiB between the counter's
/// reaching a tenth of `total` and `total`. Returns the socket, still running.
async fn flat_under_flood<R: Runtime>(
    what: &str,
    channel: &str,
    frames: Vec<String>,
    total: u64,
    counting: impl FnOnce(&TbiSocket<R>) -> Arc<AtomicU64>,
) -> (TbiSocket<R>, FloodServer) {
    const FLOOD: u64 = 20_000;
    let heap = || dhat::HeapStats::get().curr_bytes;
    let server = FloodServer::builder()
        .flood(channel, frames, Some(FLOOD))
        .start()
        .expect("the flood server starts");
    let socket = TbiSocket::<R>::new(flood_config(&server).build().expect("config"));
    let counter = counting(&socket);
    socket.subscribe(channel).await.expect("valid");
    socket.connect().await.expect("running");
    until::<R>("a tenth of the flood", Duration::from_secs(60), || {
        counter.load(Ordering::Relaxed) >= total / 10
    })
    .await;
    let early = heap();
    until::<R>("the whole flood", Duration::from_secs(120), || {
        counter.load(Ordering::Relaxed) == total
    })
    .await;
    let late = heap();
    #[allow(clippy::print_stderr, reason = "the figures behind the assertion")]
    {
        eprintln!("{what}: live heap {early} B early, {late} B late");
    }
    assert!(
        late <= early + 64 * 1024,
        "{what}: the live heap grew from {early} B to {late} B"
    );
    (socket, server)
}

/// The live heap (dhat's count: the caller runs [`crate::memory::count_heap`]) while a
/// server floods a channel nobody's stream reads, then a presence channel with members
/// beyond the limit: it grows to what the bounds allow, then stays flat.
pub async fn the_live_heap_stays_flat_under_floods<R: Runtime>() {
    const FLOOD: u64 = 20_000;
    // A channel's events, into a stream nobody reads (1024 events at most).
    let channel = "consultation-flood";
    let frames: Vec<String> = (0..1000).map(|n| message_on(channel, n)).collect();
    let mut unread = None;
    let (socket, _server) = flat_under_flood::<R>(
        "events into an unread stream",
        channel,
        frames,
        FLOOD,
        |socket| {
            unread = Some(socket.events());
            count_messages(socket, channel)
        },
    )
    .await;
    socket.shutdown().await;

    // A presence channel whose server announces ever more members (100 kept at most).
    let presence = "presence-flood";
    let frames: Vec<String> = (0..FLOOD)
        .map(|n| {
            serde_json::json!({
                "event": "pusher_internal:member_added",
                "channel": presence,
                "data": serde_json::json!({"user_id": format!("user-{n}"), "user_info": {"n": n}}).to_string(),
            })
            .to_string()
        })
        .collect();
    let (socket, _server) = flat_under_flood::<R>(
        "members beyond the limit",
        presence,
        frames,
        FLOOD - 100,
        |socket| {
            let refused = Arc::new(AtomicU64::new(0));
            let counter = refused.clone();
            socket.on_error(move |_, _, error| {
                if error.kind == ErrorKind::LimitExceeded {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            });
            refused
        },
    )
    .await;
    let members = socket
        .members(presence)
        .await
        .expect("running")
        .expect("presence");
    assert_eq!(members.len(), 100);
    socket.shutdown().await;
}
