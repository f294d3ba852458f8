//! The consultation's payload parsers, the `Consultation` object, and the watcher fed
//! with arbitrary API answers and socket events.

use std::time::{Duration, Instant};

use arbitrary::Unstructured;
use tbi_proto::consultation::{
    ApiResponse, CallStatus, Consultation, ConsultationEvent, SocketParams, WatchConfig,
    WatchOutput, Watcher,
};
use tbi_proto::{ChannelName, Event};

use crate::pick;

const EVENTS: [&str; 6] = [
    "call-status",
    "chat-conference-ready",
    "voip-conference-ready",
    "video-conference-ready",
    "pusher:error",
    "other",
];

/// A consultation object: one that parses, or the fuzzer's text.
fn consultation_body(u: &mut Unstructured<'_>) -> String {
    if pick::number(u, 0..=2) == 0 {
        return pick::text(u, 200);
    }
    let status = pick::one(
        u,
        &["new", "accepted", "in_progress", "closed", "", "sooner"],
    );
    let medium = pick::one(u, &["chat", "voip", "video", "gsm", "pigeon"]);
    serde_json::json!({
        "id": pick::number(u, 0..=u64::MAX),
        "status": status,
        "medium": medium,
        "pusherAppKey": pick::one(u, &["key", ""]),
        "pusherChannel": pick::one(u, &["private-consultation-42", "not a channel", ""]),
        "socketParams": {"apiKey": "key", "cluster": pick::one(u, &["eu", "e u"]), "authEndpoint": pick::one(u, &["https://api/auth?access-token=t", "::"])},
        "chatConfig": {"id": 1, "group_id": pick::text(u, 4), "chat_user_id": "u", "app_id": "a", "chat_user_token": "t"},
        "voipConfig": {"apiKey": pick::text(u, 4), "callId": "c", "token": "t"},
    })
    .to_string()
}

/// Runs the parsers and the watcher on the fuzzer's bytes.
pub fn consultation(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let payload = pick::text(&mut u, 120);
    let _ = CallStatus::parse(&payload);
    let _ = ConsultationEvent::parse(pick::one(&mut u, &EVENTS), &payload);
    if let Ok(consultation) = serde_json::from_str::<Consultation>(&consultation_body(&mut u)) {
        let _ = consultation.ready_config();
    }
    if let Ok(params) = serde_json::from_str::<SocketParams>(&pick::text(&mut u, 120)) {
        let _ = params.api_base_and_token();
        let _ = params.config_builder().build();
    }

    let mut config = WatchConfig::new("https://api.example.com", 42);
    config.refresh_token = pick::number(&mut u, 0..=1) == 1;
    let mut watcher = Watcher::new(config, "token");
    let mut now = Instant::now();
    watcher.start(now);
    let mut fetches = Vec::new();
    let mut refreshes = Vec::new();
    for _ in 0..200 {
        while let Some(output) = watcher.poll_output() {
            match output {
                WatchOutput::Fetch(request) => fetches.push(request.id),
                WatchOutput::RefreshToken(id) => refreshes.push(id),
                _ => {}
            }
        }
        if u.is_empty() || watcher.is_done() {
            break;
        }
        match pick::number(&mut u, 0..=5) {
            0 | 1 => {
                if let Some(id) = fetches.pop() {
                    let status = *pick::one(&mut u, &[&200u16, &200, &401, &404, &500]);
                    let body = consultation_body(&mut u).into_bytes();
                    watcher.handle_fetched(now, id, Ok(ApiResponse { status, body }));
                }
            }
            2 => {
                let channel = ChannelName::parse("private-consultation-42").expect("valid");
                let event = match pick::number(&mut u, 0..=3) {
                    0 => Event::Resubscribed {
                        channel,
                        gap: Duration::from_secs(1),
                    },
                    1 => Event::Lagged { missed: 3 },
                    _ => Event::Message {
                        channel,
                        event: pick::one(&mut u, &EVENTS).to_owned(),
                        data: pick::text(&mut u, 60),
                        user_id: None,
                    },
                };
                watcher.handle_socket_event(now, &event);
            }
            3 => {
                let jump = *pick::one(&mut u, &[&0u64, &1_000, &30_000, &u64::MAX]);
                now = tbi_common::deadline(now, Duration::from_millis(jump));
                watcher.handle_timeout(now);
            }
            4 => {
                if let Some(id) = refreshes.pop() {
                    watcher.handle_token(now, id, Ok(pick::text(&mut u, 8)));
                }
            }
            _ => watcher.update_token(now, &pick::text(&mut u, 8)),
        }
    }
}
