//! The Pusher core, driven by arbitrary frames, commands, auth answers, closes and time
//! jumps.

use std::time::{Duration, Instant};

use arbitrary::Unstructured;
use serde_json::{Value, json};
use tbi_proto::backend::{AuthSigner, seal, shared_secret};
use tbi_proto::{AuthRequest, AuthResponse, Config, Connection, Output, RefreshId};

use crate::pick;

const CHANNELS: [&str; 7] = [
    "consultation-1",
    "private-consultation-1",
    "presence-room",
    "private-encrypted-room",
    "cache-news",
    "#server-to-user-u",
    "not a channel",
];

const EVENTS: [&str; 16] = [
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
    "chat-conference-ready",
    "client-typing",
    "pusher:",
];

const MASTER_KEY: [u8; 32] = [1; 32];

/// A frame that looks like the protocol (with every shape of data), or garbage.
fn frame(u: &mut Unstructured<'_>) -> String {
    let garbage = pick::number(u, 0..=9) == 0;
    if garbage {
        return pick::text(u, 80);
    }
    let event = pick::one(u, &EVENTS);
    let channel = pick::one(u, &CHANNELS);
    let n = pick::number(u, 0..=1 << 40);
    let data: Value = match pick::number(u, 0..=16) {
        0 => Value::Null,
        1 => json!("{}"),
        2 => json!({"code": pick::one(u, &[&4009, &4301, &4302, &4001, &4200, &-1]), "message": pick::text(u, 40)}),
        3 => json!(json!({"socket_id": format!("{n}.{n}"), "activity_timeout": pick::one(u, &[&json!(120), &json!(0), &json!(1e300), &json!(-5), &json!("x")])}).to_string()),
        4 => {
            let ids: Vec<String> = (0..pick::number(u, 0..=8)).map(|i| format!("u{i}")).collect();
            json!(json!({"presence": {"ids": ids, "hash": {"u0": {"n": n}}, "count": ids.len()}}).to_string())
        }
        5 => json!(json!({"user_id": format!("u{}", n % 10), "user_info": {"n": n}}).to_string()),
        6 => json!(json!({"subscription_count": pick::one(u, &[&json!(n), &json!("many"), &json!(-1)])}).to_string()),
        7 => json!(json!({"nonce": pick::text(u, 32), "ciphertext": pick::text(u, 64)}).to_string()),
        8 => {
            // A sealed event: with the channel's key (it opens) or another's (a key refresh).
            let master = if pick::number(u, 0..=1) == 0 { MASTER_KEY } else { [2; 32] };
            let key = shared_secret(channel, &master);
            let nonce = [pick::number(u, 0..=255) as u8; 24];
            json!(seal(&key, &nonce, &pick::text(u, 40)))
        }
        9 => json!({"user_data": json!({"id": pick::text(u, 8)}).to_string()}),
        10 => json!(json!({"events": [{"name": "online", "user_ids": [1, "2", null]}]}).to_string()),
        11 => json!({"type": "AuthError", "error": pick::text(u, 20), "status": pick::number(u, 0..=600)}),
        12 => json!(json!({"status": pick::one(u, &["new", "accepted", "in_progress", "closed", ""])}).to_string()),
        13 => json!(n),
        14 => json!(pick::text(u, 60)),
        15 => json!({"nested": [[[[{"deep": n}]]]]}),
        _ => json!("x".repeat(pick::number(u, 0..=20_000) as usize)),
    };
    let mut frame = json!({"event": event, "data": data});
    if pick::number(u, 0..=3) != 0 {
        frame["channel"] = json!(channel);
    }
    if pick::number(u, 0..=7) == 0 {
        frame["user_id"] = json!(pick::text(u, 8));
    }
    frame.to_string()
}

/// The core's outputs, kept to answer them later; every frame it sends must be JSON.
#[derive(Default)]
struct Pending {
    auth: Vec<AuthRequest>,
    refreshes: Vec<RefreshId>,
}

fn drain(conn: &mut Connection, pending: &mut Pending) {
    while let Some(output) = conn.poll_output() {
        match output {
            Output::SendText(text) => {
                assert!(
                    serde_json::from_str::<Value>(text.as_str()).is_ok(),
                    "the client sent a frame that is not JSON: {}",
                    text.as_str()
                );
            }
            Output::Authorize(request) => pending.auth.push(request),
            Output::CancelAuthorize(id) => pending.auth.retain(|r| r.id != id),
            Output::RefreshCredentials(id) => pending.refreshes.push(id),
            Output::Open { .. } | Output::Close { .. } | Output::Event(_) => {}
            _ => {}
        }
    }
}

/// Runs the Pusher core on the fuzzer's bytes.
pub fn pusher_core(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let config = Config::builder("app-key")
        .url("ws://127.0.0.1:6001")
        .jitter_seed(1)
        .refresh_credentials(pick::number(&mut u, 0..=1) == 1)
        .max_presence_members(4)
        .build()
        .expect("a valid config");
    let signer = AuthSigner::new("app-key", "secret").with_master_key(MASTER_KEY);
    let mut conn = Connection::new(config);
    let mut now = Instant::now();
    let mut pending = Pending::default();
    for _ in 0..400 {
        if u.is_empty() {
            break;
        }
        match pick::number(&mut u, 0..=16) {
            0 => conn.connect(now),
            1 => conn.disconnect(now),
            2 => {
                let _ = conn.subscribe(now, pick::one(&mut u, &CHANNELS));
            }
            3 => {
                let _ = conn.unsubscribe(now, pick::one(&mut u, &CHANNELS));
            }
            4 => {
                let channel = pick::one(&mut u, &CHANNELS);
                let event = pick::one(&mut u, &["client-typing", "typing", "client-"]);
                let _ = conn.trigger(now, channel, event, &pick::text(&mut u, 30));
            }
            5 => conn.signin(now),
            6 => conn.handle_ws_open(now),
            7 | 8 => {
                let text = frame(&mut u);
                conn.handle_ws_text(now, &text);
            }
            9 => {
                let code = *pick::one(
                    &mut u,
                    &[
                        &1000u16, &1005, &1006, &4000, &4001, &4100, &4200, &4301, &0,
                    ],
                );
                conn.handle_ws_closed(now, code, "");
            }
            10 => match pick::number(&mut u, 0..=2) {
                0 => conn.handle_ws_ping(now),
                1 => conn.handle_ws_pong(now),
                _ => conn.handle_ws_binary(now, &[0; 8]),
            },
            11 | 12 => {
                let jump = *pick::one(
                    &mut u,
                    &[
                        &0u64,
                        &1,
                        &999,
                        &10_000,
                        &31_000,
                        &121_000,
                        &3_600_000,
                        &u64::MAX,
                    ],
                );
                now = tbi_common::deadline(now, Duration::from_millis(jump));
                conn.handle_timeout(now);
                drain(&mut conn, &mut pending);
                // Handling a timeout never leaves a deadline that is already due: the core
                // never asks to be woken in a busy loop.
                if let Some(next) = conn.poll_timeout() {
                    assert!(next > now, "handle_timeout left a deadline already due");
                }
            }
            13 => {
                if !pending.auth.is_empty() {
                    let index = u.choose_index(pending.auth.len()).unwrap_or(0);
                    let request = pending.auth.remove(index);
                    let answer = match pick::number(&mut u, 0..=3) {
                        0 => match request.channel() {
                            Some(channel) => Ok(signer.authorize_channel(
                                &request.socket_id,
                                channel,
                                Some(r#"{"user_id":"u0"}"#),
                            )),
                            None => Ok(signer.authorize_user(&request.socket_id, r#"{"id":"u"}"#)),
                        },
                        1 => {
                            let status =
                                *pick::one(&mut u, &[&200u16, &201, &401, &403, &500, &204]);
                            AuthResponse::from_http(status, pick::text(&mut u, 80).as_bytes())
                        }
                        2 => Ok(AuthResponse::new(pick::text(&mut u, 20))),
                        _ => Err(tbi_proto::AuthFailure::other("unreachable")),
                    };
                    conn.handle_auth(now, request.id, answer);
                }
            }
            14 => conn.credentials_updated(now),
            15 => {
                if let Some(id) = pending.refreshes.pop() {
                    let ok = pick::number(&mut u, 0..=1) == 0;
                    conn.handle_credentials(now, id, if ok { Ok(()) } else { Err("no".into()) });
                }
            }
            _ => {
                let key = pick::one(&mut u, &["app-key", "other-key"]);
                if let Ok(config) = Config::builder(key).url("ws://127.0.0.1:6001").build() {
                    conn.reconfigure(now, config);
                }
            }
        }
        drain(&mut conn, &mut pending);
    }
}
