//! Replaying the repository's fixtures through a real adapter over loopback sockets.

use std::path::PathBuf;

use tbi_driver::{Runtime, SocketConfig};
use tbi_proto::replay::{Action, Fixture, event_matches};

use crate::client::{Client, WAIT};
use crate::replay_server::ReplayServer;

/// The fixtures directory of the repository.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// Loads `fixtures/{name}.jsonl`.
pub fn load(name: &str) -> Fixture {
    let path = fixtures_dir().join(format!("{name}.jsonl"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Fixture::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The fixtures that replay over real sockets: all but the two whose client output comes
/// from the 120 s heartbeat timer (the core replays those with fake time).
pub const REAL_TIME_FIXTURES: [&str; 10] = [
    "public-subscribe",
    "private-auth",
    "presence",
    "encrypted-rekey",
    "reconnect-4200",
    "reconnect-4100",
    "reconnect-1006",
    "refused-4001",
    "auth-failure",
    "consultation-flow",
];

/// Plays `fixtures/{name}.jsonl` to a real socket on runtime `R`, performing the
/// application's steps and checking its events, and panics at the first difference.
pub async fn replay<R: Runtime>(name: &str) {
    let fixture = load(name);
    let mut server = ReplayServer::start(fixture.clone());
    let mut settings = fixture.config.clone();
    settings.url = server.ws_url();
    let core = settings.to_config().expect("fixture config");
    let builder = SocketConfig::from_core(&core)
        .auth_endpoint(server.auth_url())
        .user_auth_endpoint(server.user_auth_url());
    let mut client = Client::<R>::new(builder.build().expect("fixture config"));

    while let Some(step) = server.next_step().await {
        let result = match &step.action {
            Action::Connect => client.socket.connect().await.map_err(|e| e.to_string()),
            Action::Disconnect => client.socket.disconnect().await.map_err(|e| e.to_string()),
            Action::Signin => client.socket.signin().await.map_err(|e| e.to_string()),
            Action::Subscribe(channel) => client
                .socket
                .subscribe(channel)
                .await
                .map_err(|e| e.to_string()),
            Action::Unsubscribe(channel) => client
                .socket
                .unsubscribe(channel)
                .await
                .map_err(|e| e.to_string()),
            Action::Trigger {
                channel,
                event,
                data,
            } => client
                .socket
                .trigger(channel, event, data)
                .await
                .map_err(|e| e.to_string()),
            Action::Event(expected) => {
                // Over real sockets time is real: durations in expectations (the gap of a
                // re-subscription) are checked by the core's fake-time replay, not here.
                let mut expected = expected.clone();
                if let Some(fields) = expected.as_object_mut() {
                    fields.remove("gap_ms");
                }
                let expected = &expected;
                client
                    .expect_within(&format!("line {}: {expected}", step.line), WAIT, |e| {
                        event_matches(expected, e)
                    })
                    .await;
                Ok(())
            }
            other => Err(format!("not an application step: {other:?}")),
        };
        let failed = result.as_ref().err().cloned();
        let _ = step.done.send(result);
        if let Some(error) = failed {
            panic!("{name} line {}: {error}", step.line);
        }
    }
    client.socket.shutdown().await;
    if let Err(error) = crate::blocking(move || server.finish()).await {
        panic!("{error}\nevents seen: {:#?}", client.seen());
    }
}
