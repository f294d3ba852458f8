//! The consultation watch against a real server, the loopback consultation API and a
//! signing auth endpoint, with the user's token expiring mid-wait.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use tbi_driver::{ConsultationWatch, Runtime, TokenFuture, WatchUpdate};
use tbi_loopback::consultation_api::ConsultationApi;
use tbi_loopback::replay::ReplayServer;
use tbi_proto::Event;
use tbi_proto::consultation::{Medium, WatchConfig, WatchEvent};

use super::publish_on;
use crate::app::APP_KEY;
use crate::auth_endpoint::AuthEndpoint;
use crate::client::{WAIT, unique, within};
use crate::servers::Server;

/// The waiting room: new → accepted → in_progress over the channel, the token refreshed
/// when the API and the auth endpoint stop taking the old one, and the chat configuration
/// fetched at the end.
pub async fn consultation_watch<R: Runtime>(server: &Server) {
    let channel = unique("private-consultation-");
    let auth = AuthEndpoint::start();
    auth.require_token(Some("t1"));
    let api = ConsultationApi::start("t1").expect("the API starts");
    let consultation = json!({
        "id": 42, "status": "new", "medium": "chat", "pusherAppKey": APP_KEY,
        "pusherChannel": channel,
        "socketParams": {"apiKey": APP_KEY, "cluster": "eu",
            "authEndpoint": format!("{}?access-token=t1", auth.url())},
    });
    api.set(42, consultation.clone());
    let provided = Arc::new(AtomicUsize::new(0));
    let provider = {
        let provided = provided.clone();
        move || -> TokenFuture {
            provided.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { Ok("t2".to_owned()) })
        }
    };
    let ws_url = server.ws_url();
    let mut config = WatchConfig::new(api.base_url(), 42);
    config.poll_interval = std::time::Duration::from_millis(200);
    let watch = ConsultationWatch::<R>::new(config, "t1")
        .token_provider(provider)
        .socket_config(move |builder| builder.url(ws_url));
    let (updates, mut seen) = futures::channel::mpsc::unbounded::<String>();
    let run = watch.run(move |update| {
        let line = match update {
            WatchUpdate::Watch(event) => serde_json::to_string(event).unwrap_or_default(),
            WatchUpdate::Socket(event) => serde_json::to_string(event).unwrap_or_default(),
            _ => String::new(),
        };
        let _ = updates.unbounded_send(line);
    });
    let script = async {
        let mut lines = Vec::new();
        let mut wait_for = async |what: &str, lines: &mut Vec<String>| {
            loop {
                match within::<R, _>(WAIT, futures::StreamExt::next(&mut seen)).await {
                    Some(Some(line)) => {
                        let found = line.contains(what);
                        lines.push(line);
                        if found {
                            return;
                        }
                    }
                    _ => panic!("no {what} in {lines:#?}"),
                }
            }
        };
        wait_for("\"type\":\"subscribed\"", &mut lines).await;
        publish_on(server, &channel, "call-status", r#"{"status":"accepted"}"#).await;
        wait_for("\"status\":\"accepted\"", &mut lines).await;
        // The user's token expires; the doctor starts the chat.
        api.set_token("t2");
        auth.require_token(Some("t2"));
        let mut started = consultation.clone();
        started["status"] = json!("in_progress");
        started["chatConfig"] = json!({"id": 5, "consultation_id": 42, "group_id": "g-1",
            "chat_user_id": "u-1", "app_id": "app", "chat_user_token": "tok"});
        api.set(42, started);
        publish_on(
            server,
            &channel,
            "call-status",
            r#"{"status":"in_progress"}"#,
        )
        .await;
        lines
    };
    let (end, lines) = futures::join!(within::<R, _>(WAIT * 2, run), script);
    let end = end
        .expect("the watch ends in time")
        .expect("the watch runs");
    match end {
        WatchEvent::Ready { medium, .. } => assert_eq!(medium, Medium::Chat),
        other => panic!("expected ready, got {other:?}; lines {lines:#?}"),
    }
    let calls = api.calls();
    assert_eq!(
        calls.last().and_then(|c| c.authorization.as_deref()),
        Some("Bearer t2")
    );
    assert!(calls.iter().any(|c| c.status == 401), "{calls:#?}");
    assert!(
        calls[0]
            .query
            .iter()
            .any(|(k, v)| k == "expand" && v.contains("pusherChannel")),
        "{calls:#?}"
    );
    assert!(provided.load(Ordering::SeqCst) >= 1);
}

/// A watch stopped before the consultation is ready (the app's deadline, the user leaving
/// the waiting room) closes its socket with a close frame before `run_until` returns: the
/// recorded session below ends with the client's close, which the replay server checks.
pub async fn stopped_watch_closes_its_socket<R: Runtime>() {
    let (replay, api) = left_waiting_room();
    let ws_url = replay.ws_url();
    let watch = ConsultationWatch::<R>::new(WatchConfig::new(api.base_url(), 42), "t1")
        .socket_config(move |builder| builder.url(ws_url).jitter_seed(1));
    let (subscribed_tx, subscribed_rx) = futures::channel::oneshot::channel::<()>();
    let mut subscribed_tx = Some(subscribed_tx);
    // The user leaves the waiting room as soon as the channel is followed.
    let stop = async {
        let _ = subscribed_rx.await;
    };
    let ended = within::<R, _>(
        WAIT,
        watch.run_until(stop, |update| {
            if let WatchUpdate::Socket(Event::SubscriptionSucceeded { .. }) = update
                && let Some(tx) = subscribed_tx.take()
            {
                let _ = tx.send(());
            }
        }),
    )
    .await
    .expect("the watch stops in time")
    .expect("the watch runs");
    assert_eq!(ended, None, "stopped, not over");
    // The socket is closed by now: the server saw the close frame.
    let until = std::time::Instant::now() + WAIT;
    while !replay.played() && std::time::Instant::now() < until {
        R::sleep_until(std::time::Instant::now() + std::time::Duration::from_millis(10)).await;
    }
    replay
        .finish()
        .unwrap_or_else(|e| panic!("the client differed from the recording: {e}"));
}

/// A Pusher server replaying the consultation session until the subscription, then
/// expecting the client's close frame; and the consultation API (token `t1`) of a
/// consultation 42 that stays `new`: a patient who leaves the waiting room.
pub fn left_waiting_room() -> (ReplayServer, ConsultationApi) {
    let fixture = crate::fixture_replay::closed_after_subscription("consultation-flow");
    let replay = ReplayServer::start_autonomous(fixture, Box::new(|_| {}), 0.0)
        .expect("the replay server starts");
    let api = ConsultationApi::start("t1").expect("the API starts");
    api.set(
        42,
        json!({"id": 42, "status": "new", "medium": "chat", "pusherAppKey": "app-key",
            "pusherChannel": "private-consultation-42",
            "socketParams": {"apiKey": "app-key", "cluster": "eu",
                "authEndpoint": format!("{}?access-token=t1", replay.auth_url())}}),
    );
    (replay, api)
}
