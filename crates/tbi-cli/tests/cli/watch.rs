//! `tbi watch` against the loopback consultation API, a signing auth endpoint and sockudo:
//! the waiting room until the chat is ready (with the token refreshed mid-wait), a closed
//! consultation, and a consultation file.

use std::time::Duration;

use serde_json::{Value, json};
use tbi_loopback::consultation_api::ConsultationApi;
use tbi_test_support::app::APP_KEY;
use tbi_test_support::auth_endpoint::AuthEndpoint;
use tbi_test_support::client::unique;
use tbi_test_support::publish::publish;
use tbi_test_support::scenarios::left_waiting_room;
use tbi_test_support::servers::{Server, ServerKind};

use crate::support::{WAIT, json, spawn};

struct World {
    server: std::sync::Arc<Server>,
    auth: AuthEndpoint,
    api: ConsultationApi,
    channel: String,
    dir: std::path::PathBuf,
}

impl World {
    fn new() -> Self {
        let auth = AuthEndpoint::start();
        auth.require_token(Some("t1"));
        let api = ConsultationApi::start("t1").unwrap();
        let channel = unique("private-consultation-");
        let dir = std::env::temp_dir().join(unique("tbi-watch-"));
        std::fs::create_dir_all(&dir).unwrap();
        let world = Self {
            server: Server::shared(ServerKind::Sockudo),
            auth,
            api,
            channel,
            dir,
        };
        world.api.set(42, world.consultation("new", json!({})));
        world
    }

    fn consultation(&self, status: &str, extra: Value) -> Value {
        let mut c = json!({
            "id": 42, "status": status, "medium": "voip", "pusherAppKey": APP_KEY,
            "pusherChannel": self.channel,
            "socketParams": {"apiKey": APP_KEY, "cluster": "eu",
                "authEndpoint": format!("{}/v1/auth/pusher?access-token=t1", self.auth_base())},
        });
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    }

    /// The auth endpoint answers on any path: `{base}/v1/auth/pusher` is fine.
    fn auth_base(&self) -> String {
        format!("http://127.0.0.1:{}", self.auth.port())
    }

    fn publish(&self, status: &str) {
        publish(
            &self.server.http_url(),
            &self.channel,
            "call-status",
            &json!({"status": status}).to_string(),
        )
        .unwrap();
    }

    fn token_file(&self, token: &str) -> String {
        let path = self.dir.join("token");
        std::fs::write(&path, format!("{token}\n")).unwrap();
        path.to_string_lossy().into_owned()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn the_waiting_room_ends_ready_even_when_the_token_is_refreshed_mid_wait() {
    let world = World::new();
    let api_base = world.api.base_url();
    let token_file = world.token_file("t1");
    let ws_url = world.server.ws_url();
    let mut watch = spawn(&[
        "watch",
        "--api-base",
        &api_base,
        "--consultation-id",
        "42",
        "--token-file",
        &token_file,
        "--ws-url",
        &ws_url,
        "--poll-interval",
        "0.2",
        "--timeout",
        "30",
        "--json",
    ]);
    let first = watch.expect_line("the first status", |l| l.contains(r#""type":"status""#));
    assert_eq!(
        json(&first),
        json!({"type": "status", "status": "new", "previous": null, "source": "api"})
    );
    // The subscription is confirmed once the auth endpoint signed it: then publish.
    std::thread::sleep(Duration::from_millis(300));
    let signed = || {
        world
            .auth
            .calls()
            .iter()
            .any(|c| c.channel == world.channel)
    };
    for _ in 0..100 {
        if signed() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(signed(), "the channel was authorized");
    std::thread::sleep(Duration::from_millis(300));
    world.publish("accepted");
    watch.expect_line("accepted", |l| l.contains(r#""status":"accepted""#));
    // The user's token expires and the app writes a fresh one; the doctor starts.
    world.api.set_token("t2");
    world.auth.require_token(Some("t2"));
    world.token_file("t2");
    world.api.set(
        42,
        world.consultation(
            "in_progress",
            json!({"voipConfig": {"id": 9, "consultation_id": 42, "api_key": "k", "call_id": "c-1", "token": "vt"}}),
        ),
    );
    world.publish("in_progress");
    let done = watch.finish(Duration::from_secs(30));
    assert_eq!(done.code, Some(0), "{done:#?}");
    let lines: Vec<Value> = done.stdout.iter().map(|l| json(l)).collect();
    assert!(
        lines.iter().any(|l| l["type"] == "token_rejected"),
        "{lines:#?}"
    );
    let ready = lines.last().unwrap();
    assert_eq!(ready["type"], "ready");
    assert_eq!(ready["medium"], "voip");
    assert_eq!(ready["config"]["call_id"], "c-1");
    let calls = world.api.calls();
    assert_eq!(
        calls.last().unwrap().authorization.as_deref(),
        Some("Bearer t2")
    );
}

#[test]
fn a_closed_consultation_exits_3() {
    let world = World::new();
    let api_base = world.api.base_url();
    let ws_url = world.server.ws_url();
    let mut watch = spawn(&[
        "watch",
        "--api-base",
        &api_base,
        "--consultation-id",
        "42",
        "--token",
        "t1",
        "--ws-url",
        &ws_url,
        "--timeout",
        "30",
    ]);
    watch.expect_line("the first status", |l| l.starts_with("status       new"));
    for _ in 0..100 {
        if world
            .auth
            .calls()
            .iter()
            .any(|c| c.channel == world.channel)
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    world.publish("closed");
    let done = watch.finish(Duration::from_secs(30));
    assert_eq!(done.code, Some(3), "{done:#?}");
    assert!(
        done.stdout.iter().any(|l| l.starts_with("closed")),
        "{:#?}",
        done.stdout
    );
}

#[test]
fn a_consultation_file_tells_the_api_the_token_and_the_channel() {
    let world = World::new();
    // The file's authEndpoint points at the API base, as the SDKs make it; the API serves
    // the consultation already in progress with its configuration.
    let mut consultation = world.consultation(
        "in_progress",
        json!({"chatConfig": {"id": 1, "group_id": "g", "chat_user_id": "u", "app_id": "a", "chat_user_token": "t"}}),
    );
    consultation["medium"] = json!("chat");
    world.api.set(42, consultation.clone());
    consultation["socketParams"]["authEndpoint"] = json!(format!(
        "{}/v1/auth/pusher?access-token=t1",
        world.api.base_url()
    ));
    let file = world.dir.join("consultation.json");
    std::fs::write(&file, consultation.to_string()).unwrap();
    let ws_url = world.server.ws_url();
    let done = crate::support::run(
        &[
            "watch",
            "--consultation",
            &file.to_string_lossy(),
            "--ws-url",
            &ws_url,
            "--json",
            "--timeout",
            "20",
        ],
        Duration::from_secs(30),
    );
    assert_eq!(done.code, Some(0), "{done:#?}");
    assert_eq!(json(done.stdout.last().unwrap())["medium"], "chat");
    assert_eq!(
        world.api.calls()[0].authorization.as_deref(),
        Some("Bearer t1")
    );
}

fn watch_args<'a>(api_base: &'a str, ws_url: &'a str, timeout: &'a str) -> Vec<&'a str> {
    vec![
        "watch",
        "--api-base",
        api_base,
        "--consultation-id",
        "42",
        "--token",
        "t1",
        "--ws-url",
        ws_url,
        "--timeout",
        timeout,
    ]
}

#[test]
fn a_timed_out_watch_closes_its_socket_before_exiting() {
    let (replay, api) = left_waiting_room();
    let (api_base, ws_url) = (api.base_url(), replay.ws_url());
    let finished = crate::support::run(&watch_args(&api_base, &ws_url, "2"), WAIT);
    assert_eq!(finished.code, Some(1), "{finished:#?}");
    assert!(finished.stderr.contains("timed out"), "{finished:#?}");
    assert!(
        finished.stdout.iter().any(|l| l.contains("subscribed")),
        "{finished:#?}"
    );
    replay
        .finish()
        .unwrap_or_else(|e| panic!("no clean close: {e}; {finished:#?}"));
}

#[test]
fn ctrl_c_closes_the_socket_before_exiting() {
    let (replay, api) = left_waiting_room();
    let (api_base, ws_url) = (api.base_url(), replay.ws_url());
    let mut watch = spawn(&watch_args(&api_base, &ws_url, "20"));
    watch.expect_line("the subscription", |l| l.contains("subscribed"));
    watch.interrupt();
    let finished = watch.finish(WAIT);
    assert_eq!(finished.code, Some(130), "{finished:#?}");
    replay
        .finish()
        .unwrap_or_else(|e| panic!("no clean close: {e}; {finished:#?}"));
}
