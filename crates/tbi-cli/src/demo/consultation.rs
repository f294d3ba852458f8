//! The waiting room: a consultation from `new` to its chat, against the consultation API,
//! the auth endpoint and a Pusher server replaying the recorded consultation session.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tbi_driver::{
    ApiFuture, ConsultationApi, ConsultationWatch, HttpConsultationApi, Runtime, WatchUpdate,
    default_tls_config,
};
use tbi_loopback::consultation_api::ConsultationApi as LoopbackApi;
use tbi_loopback::replay::ReplayServer;
use tbi_proto::consultation::{ApiRequest, WatchConfig, WatchEvent};
use tbi_proto::replay::{Action, Fixture};

use crate::exit::Exit;
use crate::interrupt::Interrupt;
use crate::output::{Out, error, tagged};
use crate::watch::{Ended, run_watch};

/// The recorded session the Pusher server plays.
const SESSION: &str = include_str!("../../fixtures/consultation-flow.jsonl");
const ID: u64 = 42;
const TOKEN: &str = "demo-user-token";
/// The recording's pace, scaled: its 95 s take about a second.
const PACE: f64 = 0.01;
/// The demo's limit: it takes about a second.
const LIMIT: Duration = Duration::from_secs(20);

/// The consultation API client, narrating each fetch.
fn narrated<R: Runtime>(out: Out) -> impl ConsultationApi {
    let http = HttpConsultationApi::<R>::new(default_tls_config(), Duration::from_secs(10));
    move |request: &ApiRequest| -> ApiFuture {
        let path = request.url.split('?').next().unwrap_or_default();
        let path = path.rsplit_once("/v1/").map_or(path, |(_, p)| p);
        out.note(&tagged("api", format!("GET /v1/{path}")));
        http.get(request)
    }
}

pub(crate) async fn run<R: Runtime>(interrupt: &mut Interrupt) -> Exit {
    let out = Out::new(false);
    let fixture = match Fixture::parse(SESSION) {
        Ok(fixture) => fixture,
        Err(e) => {
            error(&format!("the recorded session does not parse: {e}"));
            return Exit::Failed;
        }
    };
    let api = match LoopbackApi::start(TOKEN) {
        Ok(api) => Arc::new(api),
        Err(e) => {
            error(&format!("cannot start the consultation API: {e}"));
            return Exit::Failed;
        }
    };
    // When the doctor starts the consultation, its chat exists in the API.
    let started = api.clone();
    let observer = Box::new(move |step: &tbi_proto::replay::Step| {
        if let Action::ServerText(frame) = &step.action
            && frame.contains("call-status")
            && frame.contains("in_progress")
        {
            started.update(ID, |c| {
                c["status"] = json!("in_progress");
                c["accepted_at"] = json!("2026-11-22 10:01:05");
                c["doctor_name"] = json!("Dr. Salma");
                c["chatConfig"] = json!({"id": 5, "consultation_id": ID, "group_id": "consultation-42",
                    "chat_user_id": "patient-7", "app_id": "demo-chat-app", "chat_user_token": "demo-chat-token"});
            });
        }
    });
    let replay = match ReplayServer::start_autonomous(fixture, observer, PACE) {
        Ok(replay) => replay,
        Err(e) => {
            error(&format!("cannot start the Pusher replay server: {e}"));
            return Exit::Failed;
        }
    };
    api.set(
        ID,
        json!({
            "id": ID, "question": "My daughter has a fever since yesterday", "medium": "chat",
            "status": "new", "pusherAppKey": "app-key", "pusherChannel": "private-consultation-42",
            "chatConfig": {},
            "socketParams": {"apiKey": "app-key", "cluster": "eu",
                "authEndpoint": format!("{}?access-token={TOKEN}", replay.auth_url())},
        }),
    );
    out.note(&tagged(
        "demo",
        "the waiting room of consultation 42, offline: the consultation API, the auth endpoint",
    ));
    out.note(&tagged(
        "",
        "and a Pusher server replaying fixtures/consultation-flow.jsonl run on 127.0.0.1",
    ));
    out.note(&tagged("api", format!("base {}", api.base_url())));
    let ws_url = replay.ws_url();
    let mut config = WatchConfig::new(api.base_url(), ID);
    config.poll_interval = Duration::from_millis(200);
    let watch = ConsultationWatch::<R>::new(config, TOKEN)
        .api(narrated::<R>(out))
        .socket_config(move |builder| builder.url(ws_url).jitter_seed(1));
    let limit = R::sleep_until(Instant::now() + LIMIT);
    let ended = run_watch(watch, limit, interrupt, |update| match update {
        WatchUpdate::Watch(event) => out.note(&crate::watch::human(event)),
        WatchUpdate::Socket(event) => {
            if let Some(line) = crate::watch::socket_line(event, true) {
                out.note(&line);
            }
        }
        _ => {}
    })
    .await;
    let exit = match ended {
        Ended::Interrupted => return Exit::Interrupted,
        Ended::TimedOut => {
            error(&format!(
                "the demo did not finish within {} s",
                LIMIT.as_secs()
            ));
            Exit::Failed
        }
        Ended::Over(Ok(WatchEvent::Ready { medium, .. })) => {
            out.note(&tagged(
                "demo",
                format!("the {medium} configuration is ready: the app opens the consultation"),
            ));
            Exit::Ok
        }
        Ended::Over(Ok(other)) => {
            error(&format!("the consultation did not become ready: {other:?}"));
            Exit::Failed
        }
        Ended::Over(Err(e)) => {
            error(&e.to_string());
            Exit::Failed
        }
    };
    // The rest of the session (the chat's readiness) may still be on its way.
    let until = Instant::now() + Duration::from_secs(3);
    while !replay.played() && Instant::now() < until {
        R::sleep_until(Instant::now() + Duration::from_millis(20)).await;
    }
    match replay.finish() {
        Ok(()) if exit == Exit::Ok => {
            out.note(&tagged(
                "demo",
                "the client sent exactly the frames the recording expects",
            ));
            Exit::Ok
        }
        Ok(()) => exit,
        Err(difference) => {
            error(&format!(
                "the client differed from the recording: {difference}"
            ));
            Exit::Failed
        }
    }
}

#[cfg(test)]
mod tests {
    /// The demo's copy of the session (a package cannot reach outside its directory) is
    /// the project's recorded fixture, byte for byte.
    #[test]
    fn the_embedded_session_is_the_projects_fixture() {
        let project = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/consultation-flow.jsonl"
        );
        match std::fs::read_to_string(project) {
            Ok(fixture) => assert_eq!(
                super::SESSION,
                fixture,
                "copy {project} into crates/tbi-cli/fixtures/"
            ),
            // Built from its package: the workspace is not there.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => panic!("{project}: {e}"),
        }
    }
}
