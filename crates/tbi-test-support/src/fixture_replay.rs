//! Replaying the repository's fixtures through a real adapter over loopback sockets.

use std::path::PathBuf;

use futures::StreamExt;
use futures::channel::{mpsc, oneshot};
use tbi_driver::{FetchError, Runtime, SocketConfig, TokenFuture};
use tbi_proto::replay::{Action, Fixture, event_matches};

use crate::client::{Client, WAIT, within};
use tbi_loopback::replay::ReplayServer;

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

/// `fixtures/{name}.jsonl` cut right after its first subscription, ending with the
/// client's close (1000): for clients that leave once subscribed, which the replay server
/// checks send their close frame.
pub fn closed_after_subscription(name: &str) -> Fixture {
    let mut fixture = load(name);
    let subscribed = fixture
        .steps
        .iter()
        .position(|s| matches!(&s.action, Action::Event(e) if e["type"] == "subscribed"))
        .unwrap_or_else(|| panic!("{name} has no subscription"));
    fixture.steps.truncate(subscribed + 1);
    let mut close = fixture.steps[subscribed].clone();
    close.action = Action::ClientClose { code: Some(1000) };
    fixture.steps.push(close);
    fixture
}

/// The fixtures that replay over real sockets: all but the two whose client output comes
/// from the 120 s heartbeat timer (the core replays those with fake time).
pub const REAL_TIME_FIXTURES: [&str; 11] = [
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
    "token-refresh",
];

/// Plays `fixtures/{name}.jsonl` to a real socket on runtime `R`, performing the
/// application's steps and checking its events, and panics at the first difference.
pub async fn replay<R: Runtime>(name: &str) {
    replay_fixture::<R>(name, load(name)).await;
}

/// Plays `fixture` (named `name` in the failures) like [`replay`]: a recording, say.
pub async fn replay_fixture<R: Runtime>(name: &str, fixture: Fixture) {
    let mut server = ReplayServer::start(fixture.clone()).expect("the replay server starts");
    let mut settings = fixture.config.clone();
    settings.url = server.ws_url();
    let core = settings.to_config().expect("fixture config");
    let mut builder = SocketConfig::from_core(&core)
        .auth_endpoint(server.auth_url())
        .user_auth_endpoint(server.user_auth_url())
        .auth_token_param("access-token");
    // The token provider's part is the fixture's: each call waits for its answer there.
    let (calls, mut provider_calls) = mpsc::unbounded::<oneshot::Sender<Result<String, String>>>();
    if fixture.config.refresh_credentials {
        builder = builder.token_provider(move || -> TokenFuture {
            let (answer, answered) = oneshot::channel();
            let _ = calls.unbounded_send(answer);
            Box::pin(async move {
                answered
                    .await
                    .unwrap_or_else(|_| Err("the test ended".into()))
                    .map_err(FetchError::new)
            })
        });
    }
    let mut client = Client::<R>::new(builder.build().expect("fixture config"));
    let mut refreshing = None;

    while let Some(step) = server.next_step().await {
        let result = match &step.action {
            Action::Connect => client.socket.connect().await.map_err(|e| e.to_string()),
            Action::Disconnect => client.socket.disconnect().await.map_err(|e| e.to_string()),
            Action::Signin => client.socket.signin().await.map_err(|e| e.to_string()),
            Action::NetworkChanged => client
                .socket
                .network_changed()
                .await
                .map_err(|e| e.to_string()),
            Action::Subscribe(channel) => client
                .socket
                .subscribe(channel)
                .await
                .map(drop)
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
            Action::CredentialsUpdated => client
                .socket
                .update_token("token-from-the-app")
                .await
                .map_err(|e| e.to_string()),
            Action::RefreshRequest => match within::<R, _>(WAIT, provider_calls.next()).await {
                Some(Some(answer)) => {
                    refreshing = Some(answer);
                    Ok(())
                }
                _ => Err("the token provider was not called".to_owned()),
            },
            Action::RefreshResponse(result) => match refreshing.take() {
                Some(answer) => {
                    let token = result
                        .clone()
                        .map(|()| "token-from-the-provider".to_owned());
                    answer
                        .send(token)
                        .map_err(|_| "the socket stopped waiting for the token".to_owned())
                }
                None => Err("refresh_response without a refresh_request".to_owned()),
            },
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
