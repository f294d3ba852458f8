//! Properties: arbitrary input never panics, and the channel table keeps its invariants
//! whatever happens in whatever order.

#![allow(unreachable_pub, clippy::unwrap_used)]

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use serde_json::{Value, json};
use tbi_proto::backend::AuthSigner;
use tbi_proto::{
    AuthRequest, AuthRequestId, Config, Connection, ConnectionState, Event, Output, RefreshId,
};

const CHANNELS: [&str; 6] = [
    "public-a",
    "cache-b",
    "private-c",
    "presence-d",
    "private-encrypted-e",
    "private-cache-f",
];

fn new_connection() -> Connection {
    Connection::new(
        Config::builder("app-key")
            .url("ws://127.0.0.1:6001")
            .jitter_seed(5)
            .refresh_credentials(true)
            .build()
            .expect("valid"),
    )
}

/// Everything observed, per connection ("epoch" = one socket).
#[derive(Default)]
struct World {
    now_ms: u64,
    epoch: u64,
    socket_id: String,
    pending_auth: Vec<AuthRequest>,
    /// Every auth request ever asked for.
    issued_auth: Vec<AuthRequestId>,
    /// Refreshes asked for and not answered, with when (ms).
    pending_refresh: Vec<(RefreshId, u64)>,
    /// Subscribe frames per channel in the current epoch.
    subscribes: HashMap<String, u32>,
    /// Channels the app left while their subscribe frame was unanswered: the core sends
    /// nothing until the server answers, and a rejection then ends them silently.
    orphans: HashSet<String>,
    state: Option<ConnectionState>,
    signer: Option<AuthSigner>,
}

impl World {
    fn drain(&mut self, conn: &mut Connection) -> Result<(), TestCaseError> {
        while let Some(output) = conn.poll_output() {
            match output {
                Output::Open { .. } => {
                    self.epoch += 1;
                    self.subscribes.clear();
                    self.orphans.clear();
                    self.pending_auth.clear();
                }
                Output::Close { .. } => {
                    self.subscribes.clear();
                    self.orphans.clear();
                    self.pending_auth.clear();
                }
                Output::SendText(text) => {
                    let frame: Value = serde_json::from_str(text.as_str()).expect("client JSON");
                    let channel = frame["data"]["channel"].as_str().unwrap_or("").to_owned();
                    match frame["event"].as_str() {
                        Some("pusher:subscribe") => {
                            let count = self.subscribes.entry(channel.clone()).or_default();
                            *count += 1;
                            prop_assert!(*count <= 1, "duplicate subscribe frame for {channel}");
                        }
                        Some("pusher:unsubscribe") => {
                            self.subscribes.remove(&channel);
                            self.orphans.remove(&channel);
                        }
                        _ => {}
                    }
                }
                Output::Authorize(request) => {
                    self.issued_auth.push(request.id);
                    self.pending_auth.push(request);
                }
                Output::CancelAuthorize(id) => {
                    prop_assert!(
                        self.issued_auth.contains(&id),
                        "cancelled {id} that was never asked for"
                    );
                    self.pending_auth.retain(|r| r.id != id);
                }
                Output::RefreshCredentials(id) => {
                    // A refresh unanswered for the auth timeout (10 s) has expired.
                    let now = self.now_ms;
                    prop_assert!(
                        self.pending_refresh
                            .iter()
                            .all(|(_, at)| now >= at + 10_000),
                        "one refresh at a time: {:?} then {id:?} at {now} ms",
                        self.pending_refresh
                    );
                    self.pending_refresh = vec![(id, now)];
                }
                Output::Event(Event::ConnectionStateChanged { current, previous }) => {
                    let expected = self.state.unwrap_or(ConnectionState::Disconnected);
                    prop_assert_eq!(previous, expected, "state events chain");
                    self.state = Some(current);
                }
                Output::Event(Event::SubscriptionError { channel, .. }) => {
                    // A rejected subscription may be tried again on this socket.
                    self.subscribes.remove(channel.as_str());
                }
                Output::Event(_) => {}
                other => prop_assert!(false, "unknown output {other:?}"),
            }
        }
        Ok(())
    }

    /// What the server's frame means for the subscriptions it holds: a rejection ends one.
    /// A `pusher:error` names no channel, so it may have ended any orphan.
    fn heard(&mut self, text: &str) {
        let Ok(frame) = serde_json::from_str::<Value>(text) else {
            return;
        };
        match frame["event"].as_str() {
            Some("pusher:subscription_error") => {
                if let Some(channel) = frame["channel"].as_str() {
                    self.subscribes.remove(channel);
                    self.orphans.remove(channel);
                }
            }
            Some("pusher:error") => {
                for channel in self.orphans.drain() {
                    self.subscribes.remove(&channel);
                }
            }
            _ => {}
        }
    }

    fn now(&self, t0: Instant) -> Instant {
        t0 + Duration::from_millis(self.now_ms)
    }

    fn answer_all(&mut self, conn: &mut Connection, t0: Instant) -> Result<(), TestCaseError> {
        let signer = self
            .signer
            .get_or_insert_with(|| AuthSigner::new("app-key", "secret").with_master_key([1; 32]))
            .clone();
        while !self.pending_auth.is_empty() {
            let request = self.pending_auth.remove(0);
            let answer = match request.channel() {
                Some(c) => {
                    signer.authorize_channel(&request.socket_id, c, Some(r#"{"user_id":"u"}"#))
                }
                None => signer.authorize_user(&request.socket_id, r#"{"id":"u"}"#),
            };
            conn.handle_auth(self.now(t0), request.id, Ok(answer));
            self.drain(conn)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
enum Op {
    Connect,
    Disconnect,
    Subscribe(usize),
    Unsubscribe(usize),
    Open,
    Established,
    Succeed(usize),
    Reject4009,
    RejectChannel(usize),
    Close(u16),
    Timeout,
    AuthOk(usize),
    AuthFail(usize),
    Refresh(bool),
    CredentialsUpdated,
    Signin,
    Advance(u64),
    Frame(String),
}

fn op() -> impl Strategy<Value = Op> {
    let channel = 0..CHANNELS.len();
    prop_oneof![
        Just(Op::Connect),
        Just(Op::Disconnect),
        channel.clone().prop_map(Op::Subscribe),
        channel.clone().prop_map(Op::Unsubscribe),
        Just(Op::Open),
        Just(Op::Established),
        channel.clone().prop_map(Op::Succeed),
        Just(Op::Reject4009),
        channel.clone().prop_map(Op::RejectChannel),
        prop::sample::select(vec![1000u16, 1006, 4000, 4001, 4100, 4200, 4201, 4301])
            .prop_map(Op::Close),
        Just(Op::Timeout),
        (0..4usize).prop_map(Op::AuthOk),
        (0..4usize).prop_map(Op::AuthFail),
        any::<bool>().prop_map(Op::Refresh),
        Just(Op::CredentialsUpdated),
        Just(Op::Signin),
        (0..200_000u64).prop_map(Op::Advance),
        frame().prop_map(Op::Frame),
    ]
}

/// Frames that look like the protocol, with every shape of data, plus garbage.
fn frame() -> impl Strategy<Value = String> {
    let event = prop::sample::select(vec![
        "pusher:connection_established",
        "pusher:error",
        "pusher:ping",
        "pusher:pong",
        "pusher:subscription_error",
        "pusher:cache_miss",
        "pusher:signin_success",
        "pusher_internal:subscription_succeeded",
        "pusher_internal:member_added",
        "pusher_internal:member_removed",
        "pusher_internal:subscription_count",
        "pusher_internal:watchlist_events",
        "call-status",
        "client-typing",
    ]);
    let channel = prop::option::of(prop::sample::select(CHANNELS.to_vec()));
    let data = prop_oneof![
        Just(Value::Null),
        Just(json!("{}")),
        Just(json!({"code": 4009, "message": "Channel requires authentication"})),
        Just(json!(r#"{"socket_id":"9.9","activity_timeout":30}"#)),
        Just(json!(
            r#"{"presence":{"ids":["u"],"hash":{"u":{}},"count":1}}"#
        )),
        Just(json!(r#"{"user_id":"x","user_info":{"n":1}}"#)),
        Just(json!(r#"{"subscription_count":"many"}"#)),
        Just(json!(r#"{"nonce":"AAAA","ciphertext":"AAAA"}"#)),
        Just(json!({"user_data": "{\"id\":\"u\"}"})),
        Just(json!(
            r#"{"events":[{"name":"online","user_ids":[1,"2",null]}]}"#
        )),
        ".{0,40}".prop_map(Value::String),
        any::<i64>().prop_map(|n| json!(n)),
    ];
    let structured = (event, channel, data).prop_map(|(event, channel, data)| {
        let mut frame = json!({"event": event, "data": data});
        if let Some(channel) = channel {
            frame["channel"] = json!(channel);
        }
        frame.to_string()
    });
    prop_oneof![3 => structured, 1 => ".{0,60}", 1 => "\\{\"event\":.{0,30}"]
}

fn apply(
    conn: &mut Connection,
    world: &mut World,
    t0: Instant,
    op: &Op,
) -> Result<(), TestCaseError> {
    let now = world.now(t0);
    match op {
        Op::Connect => conn.connect(now),
        Op::Disconnect => conn.disconnect(now),
        Op::Subscribe(i) => conn.subscribe(now, CHANNELS[*i]).map_err(|e| TestCaseError::fail(e.to_string()))?,
        Op::Unsubscribe(i) => {
            let _ = conn.unsubscribe(now, CHANNELS[*i]);
            world.drain(conn)?;
            if world.subscribes.get(CHANNELS[*i]).is_some_and(|n| *n > 0) {
                world.orphans.insert(CHANNELS[*i].to_owned());
            }
        }
        Op::Open => conn.handle_ws_open(now),
        Op::Established => {
            world.socket_id = format!("{}.{}", world.epoch, world.now_ms);
            let data = json!({"socket_id": world.socket_id, "activity_timeout": 120}).to_string();
            conn.handle_ws_text(now, &json!({"event":"pusher:connection_established","data":data}).to_string());
        }
        Op::Succeed(i) => conn.handle_ws_text(
            now,
            &json!({"event":"pusher_internal:subscription_succeeded","channel":CHANNELS[*i],"data":"{}"}).to_string(),
        ),
        Op::Reject4009 => {
            let text = r#"{"event":"pusher:error","data":{"message":"Authentication error: Channel requires authentication","code":4009}}"#;
            conn.handle_ws_text(now, text);
            world.heard(text);
        }
        Op::RejectChannel(i) => {
            let text = json!({"event":"pusher:subscription_error","channel":CHANNELS[*i],"data":{"type":"AuthError","error":"no","status":401}}).to_string();
            conn.handle_ws_text(now, &text);
            world.heard(&text);
        }
        Op::Close(code) => conn.handle_ws_closed(now, *code, ""),
        Op::Timeout => {
            if let Some(deadline) = conn.poll_timeout() {
                world.now_ms = (deadline - t0).as_millis() as u64 + 1;
                conn.handle_timeout(world.now(t0));
            }
        }
        Op::AuthOk(k) | Op::AuthFail(k) => {
            if !world.pending_auth.is_empty() {
                let request = world.pending_auth.remove(k % world.pending_auth.len());
                let answer = if matches!(op, Op::AuthOk(_)) {
                    let signer = AuthSigner::new("app-key", "secret").with_master_key([1; 32]);
                    Ok(match request.channel() {
                        Some(c) => signer.authorize_channel(&request.socket_id, c, Some(r#"{"user_id":"u"}"#)),
                        None => signer.authorize_user(&request.socket_id, r#"{"id":"u"}"#),
                    })
                } else if k % 2 == 0 {
                    // Refused credentials: the channel waits for new ones.
                    tbi_proto::AuthResponse::from_http(403, b"no")
                } else {
                    tbi_proto::AuthResponse::from_http(500, b"broken")
                };
                conn.handle_auth(now, request.id, answer);
            }
        }
        Op::Refresh(ok) => {
            if let Some((id, _)) = world.pending_refresh.pop() {
                let answer = if *ok { Ok(()) } else { Err("no token".to_owned()) };
                conn.handle_credentials(now, id, answer);
            }
        }
        Op::CredentialsUpdated => conn.credentials_updated(now),
        Op::Signin => conn.signin(now),
        Op::Advance(ms) => {
            let target_ms = world.now_ms + ms;
            let target = t0 + Duration::from_millis(target_ms);
            while let Some(deadline) = conn.poll_timeout() {
                if deadline > target {
                    break;
                }
                let at = deadline.max(now);
                // The world's clock follows each timer, so what it records is timed right.
                world.now_ms = u64::try_from((at - t0).as_millis()).unwrap_or(u64::MAX);
                conn.handle_timeout(at);
                world.drain(conn)?;
            }
            world.now_ms = target_ms;
        }
        Op::Frame(text) => {
            conn.handle_ws_text(now, text);
            world.heard(text);
        }
    }
    world.drain(conn)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Garbage and protocol-shaped frames on a live connection never panic, never drop the
    /// connection, and never lose a channel the application subscribed to.
    #[test]
    fn arbitrary_frames_never_panic_or_lose_channels(frames in prop::collection::vec(frame(), 1..40)) {
        let t0 = Instant::now();
        let mut conn = new_connection();
        let mut world = World::default();
        for c in CHANNELS {
            conn.subscribe(t0, c).unwrap();
        }
        apply(&mut conn, &mut world, t0, &Op::Connect)?;
        apply(&mut conn, &mut world, t0, &Op::Open)?;
        apply(&mut conn, &mut world, t0, &Op::Established)?;
        world.answer_all(&mut conn, t0)?;
        for text in &frames {
            apply(&mut conn, &mut world, t0, &Op::Frame(text.clone()))?;
            prop_assert_eq!(conn.state(), ConnectionState::Connected);
            prop_assert_eq!(conn.channels().len(), CHANNELS.len());
        }
    }

    /// Any order of commands, server frames, closes, timeouts, auth answers (refused ones
    /// included) and credential refreshes keeps the channel table consistent, never has two
    /// refreshes in flight, and once new credentials are in place a fresh connection
    /// re-subscribes every channel once.
    #[test]
    fn arbitrary_sequences_keep_the_channel_invariants(ops in prop::collection::vec(op(), 1..60)) {
        let t0 = Instant::now();
        let mut conn = new_connection();
        let mut world = World::default();
        let mut wanted = BTreeSet::new();
        for op in &ops {
            apply(&mut conn, &mut world, t0, op)?;
            match op {
                Op::Subscribe(i) => { wanted.insert(CHANNELS[*i]); }
                Op::Unsubscribe(i) => { wanted.remove(CHANNELS[*i]); }
                _ => {}
            }
            let listed: BTreeSet<&str> = conn.channels().iter().map(|c| CHANNELS.iter().copied().find(|n| *n == c.name.as_str()).unwrap()).collect();
            prop_assert_eq!(&listed, &wanted, "channels() is what the app asked for");
        }

        // Settle: with new credentials, a fresh connection must subscribe every wanted
        // channel exactly once.
        apply(&mut conn, &mut world, t0, &Op::CredentialsUpdated)?;
        apply(&mut conn, &mut world, t0, &Op::Disconnect)?;
        apply(&mut conn, &mut world, t0, &Op::Connect)?;
        apply(&mut conn, &mut world, t0, &Op::Open)?;
        apply(&mut conn, &mut world, t0, &Op::Established)?;
        world.answer_all(&mut conn, t0)?;
        let subscribed: BTreeSet<&str> = world.subscribes.keys().map(|k| CHANNELS.iter().copied().find(|n| n == k).unwrap_or("#internal")).filter(|n| *n != "#internal").collect();
        prop_assert_eq!(subscribed, wanted);
        prop_assert!(world.subscribes.values().all(|n| *n == 1));
    }
}
