//! Tokens that expire while the patient waits (issue 5), against a real server and a
//! loopback auth endpoint whose accepted token changes during the test.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tbi_driver::{FetchError, Runtime, TokenFuture};
use tbi_proto::{Event, SubscriptionErrorKind, SubscriptionStatus};

use super::{publish_on, wait_for_log};
use crate::auth_endpoint::AuthEndpoint;
use crate::block::blocking;
use crate::client::{Client, config, unique};
use crate::publish::publish_encrypted_with;
use crate::servers::Server;

fn with_token(url: &str, token: &str) -> String {
    format!("{url}?access-token={token}")
}

/// The endpoint starts refusing the token: a new channel (and the sign-in) wait with an
/// `AuthRejected`; `update_token` authorizes them again, once, on the same connection;
/// the channel subscribed before is left alone.
pub async fn token_expires_while_waiting<R: Runtime>(server: &Server) {
    let auth = AuthEndpoint::start();
    auth.require_token(Some("t1"));
    let before = unique("private-before-");
    let after = unique("private-after-");
    let mut client = Client::<R>::new(
        config(&server.ws_url(), None, "u")
            .auth_endpoint(with_token(&auth.url(), "t1"))
            .user_auth_endpoint(with_token(&auth.user_url(), "t1"))
            .auth_token_param("access-token")
            .build()
            .expect("config"),
    );
    let log = Arc::new(Mutex::new(Vec::new()));
    {
        let (l1, l2) = (log.clone(), log.clone());
        client
            .socket
            .on_auth_rejected(move |channel, _, status| {
                let channel = channel.map_or("user".to_owned(), |c| c.to_string());
                l1.lock()
                    .expect("log")
                    .push(format!("rejected {channel} {status}"));
            })
            .on_subscription_error(move |channel, _, failure| {
                l2.lock().expect("log").push(format!(
                    "error {channel} {:?} {:?}",
                    failure.kind, failure.status
                ));
            });
    }
    client.connect().await;
    client.subscribed(&before).await;
    let socket_id = client.socket.socket_id().await.expect("running");

    // The API token expires.
    auth.require_token(Some("t2"));
    client.socket.subscribe(&after).await.expect("valid");
    client.socket.signin().await.expect("signin");
    let mut refused = Vec::new();
    while refused.len() < 2 {
        match client
            .expect("auth rejected", |e| matches!(e, Event::AuthRejected { .. }))
            .await
        {
            Event::AuthRejected {
                channel, status, ..
            } => {
                assert_eq!(status, 401);
                refused.push(channel.map(|c| c.to_string()));
            }
            _ => unreachable!(),
        }
    }
    refused.sort();
    assert_eq!(refused, [None, Some(after.clone())]);
    let status = |client: &Client<R>, channel: String| {
        let socket = client.socket.clone();
        async move {
            socket
                .channel_info(&channel)
                .await
                .expect("running")
                .map(|c| c.status)
        }
    };
    assert_eq!(
        status(&client, after.clone()).await,
        Some(SubscriptionStatus::AwaitingCredentials)
    );

    wait_for_log::<R>(
        &log,
        &[
            format!("rejected {after} 401"),
            "rejected user 401".to_owned(),
            format!("error {after} CredentialsRejected Some(401)"),
        ],
    )
    .await;
    client
        .socket
        .update_token("t2")
        .await
        .expect("a token placement");
    client.all_subscribed(&[&after]).await;
    // The sign-in may have been confirmed first.
    if !client
        .seen()
        .iter()
        .any(|e| matches!(e, Event::SignedIn { .. }))
    {
        client
            .expect("signed in", |e| matches!(e, Event::SignedIn { .. }))
            .await;
    }
    assert_eq!(
        client.socket.socket_id().await.expect("running"),
        socket_id,
        "no reconnect"
    );
    let calls = auth.calls();
    let for_channel = |name: &str| -> Vec<String> {
        calls
            .iter()
            .filter(|c| c.channel == name)
            .map(|c| {
                c.query
                    .iter()
                    .find(|(k, _)| k == "access-token")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            })
            .collect()
    };
    assert_eq!(
        for_channel(&before),
        ["t1"],
        "the subscribed channel is left alone"
    );
    assert_eq!(for_channel(&after), ["t1", "t2"], "once with the new token");
    let user_calls: Vec<_> = calls
        .iter()
        .filter(|c| c.path.ends_with("/user-auth"))
        .collect();
    assert_eq!(user_calls.len(), 2);
    assert!(
        user_calls
            .iter()
            .all(|c| c.socket_id == socket_id.clone().unwrap_or_default())
    );

    publish_on(server, &before, "call-status", r#"{"status":"accepted"}"#).await;
    assert_eq!(
        client.message(&before, "call-status").await,
        r#"{"status":"accepted"}"#
    );
    publish_on(server, &after, "call-status", r#"{"status":"in_progress"}"#).await;
    assert_eq!(
        client.message(&after, "call-status").await,
        r#"{"status":"in_progress"}"#
    );
    let resubscribed_before = client.seen().iter().filter(
        |e| matches!(e, Event::SubscriptionSucceeded { channel, .. } if channel.as_str() == before),
    );
    assert_eq!(resubscribed_before.count(), 1, "subscribed once");
    client.socket.shutdown().await;
}

/// With a token provider: both refused channels share one refresh; a failing provider is
/// a subscription error and is asked again after a backoff; the fresh token subscribes
/// both.
pub async fn token_provider_refreshes_once<R: Runtime>(server: &Server) {
    let auth = AuthEndpoint::start();
    auth.require_token(Some("fresh"));
    let calls = Arc::new(AtomicUsize::new(0));
    let provider = {
        let calls = calls.clone();
        move || -> TokenFuture {
            let call = calls.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                if call == 0 {
                    Err(FetchError::new("the login service is down"))
                } else {
                    Ok("fresh".to_owned())
                }
            })
        }
    };
    let (a, b) = (unique("private-a-"), unique("presence-b-"));
    let mut client = Client::<R>::new(
        config(&server.ws_url(), None, "u")
            .auth_endpoint(with_token(&auth.url(), "stale"))
            .auth_token_param("access-token")
            .auth_param("user", "patient")
            .token_provider(provider)
            .build()
            .expect("config"),
    );
    client.socket.subscribe(&a).await.expect("valid");
    client.socket.subscribe(&b).await.expect("valid");
    client.connect().await;
    // The provider fails first: the channels refused by then hear about it (a channel
    // refused while the retry is scheduled just waits for it).
    let failure = client.subscription_error().await;
    assert_eq!(
        failure.kind,
        SubscriptionErrorKind::CredentialsRefresh,
        "{failure:?}"
    );
    assert!(
        failure.message.contains("the login service is down"),
        "{failure:?}"
    );
    assert!([&a, &b].contains(&&failure.channel), "{failure:?}");
    client.all_subscribed(&[&a, &b]).await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "one refresh at a time, then one retry"
    );
    let tokens = auth.tokens();
    assert_eq!(tokens, ["stale", "stale", "fresh", "fresh"]);
    client.socket.shutdown().await;
}

/// The key of an encrypted channel rotates while the token expires: the key refresh is
/// refused, the event is held (not dropped as a decryption failure), and `update_token`
/// fetches the new key on the same subscription and delivers it.
pub async fn encrypted_key_refresh_waits_for_a_new_token<R: Runtime>(server: &Server) {
    let auth = AuthEndpoint::start();
    auth.require_token(Some("t1"));
    let channel = unique("private-encrypted-consultation-");
    let mut client = Client::<R>::new(
        config(&server.ws_url(), None, "u")
            .auth_endpoint(with_token(&auth.url(), "t1"))
            .auth_token_param("access-token")
            .build()
            .expect("config"),
    );
    client.connect().await;
    client.subscribed(&channel).await;

    // The backend rotates its master key; the patient's token expires.
    let rotated = [9; 32];
    auth.rotate_master_key(rotated);
    auth.require_token(Some("t2"));
    let (url, ch) = (server.http_url(), channel.clone());
    blocking(move || {
        publish_encrypted_with(
            &rotated,
            &url,
            &ch,
            "call-status",
            r#"{"status":"in_progress"}"#,
        )
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    match client
        .expect("auth rejected", |e| matches!(e, Event::AuthRejected { .. }))
        .await
    {
        Event::AuthRejected {
            channel: refused,
            status,
            ..
        } => {
            assert_eq!(refused.map(|c| c.to_string()), Some(channel.clone()));
            assert_eq!(status, 401);
        }
        _ => unreachable!(),
    }
    client
        .socket
        .update_token("t2")
        .await
        .expect("a token placement");
    assert_eq!(
        client.message(&channel, "call-status").await,
        r#"{"status":"in_progress"}"#
    );
    let seen = client.seen();
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, Event::DecryptionFailure { .. })),
        "nothing dropped: {seen:#?}"
    );
    let subscribed = seen
        .iter()
        .filter(|e| matches!(e, Event::SubscriptionSucceeded { .. }))
        .count();
    assert_eq!(
        subscribed, 1,
        "the key was fetched, the channel not re-subscribed"
    );
    let tokens = auth.tokens();
    assert_eq!(
        tokens,
        ["t1", "t1", "t2"],
        "subscribe, refused key, new key"
    );
    client.socket.shutdown().await;
}
