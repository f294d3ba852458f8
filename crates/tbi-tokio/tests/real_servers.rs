//! The shared scenarios against real sockudo and soketi servers on loopback, on tokio.

tbi_test_support::real_server_tests!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    tbi_tokio::Tokio
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_instance_keeps_one_socket() {
    let server =
        tbi_test_support::servers::Server::shared(tbi_test_support::servers::ServerKind::Sockudo);
    tbi_test_support::scenarios::shared_instance(&tbi_tokio::shared::INSTANCE, &server).await;
}

/// An auth endpoint that takes every connection and never answers: the process's places
/// for its origin fill up, and a request that finds none in time says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_a_place_says_it_was_never_sent() {
    use std::time::{Duration, Instant};
    use tbi_tokio::tbi_proto::{Config, Connection, Output};
    use tbi_tokio::{Authorizer, HttpAuthorizer};

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let endpoint = format!(
        "http://{}/pusher/auth",
        listener.local_addr().expect("bound")
    );
    // Holds what it accepted for at most 10 s, then lets go.
    std::thread::spawn(move || {
        listener.set_nonblocking(true).expect("nonblocking");
        let until = Instant::now() + Duration::from_secs(10);
        let mut held = Vec::new();
        while Instant::now() < until {
            match listener.accept() {
                Ok((stream, _)) => held.push(stream),
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });

    // Auth requests as a core asks them.
    let now = Instant::now();
    let mut conn = Connection::new(
        Config::builder("key")
            .url("ws://127.0.0.1:1/app/key")
            .build()
            .expect("config"),
    );
    let places = 32;
    for n in 0..=places {
        conn.subscribe(now, &format!("private-room-{n}"))
            .expect("valid");
    }
    conn.connect(now);
    conn.handle_ws_open(now);
    conn.handle_ws_text(
        now,
        r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.2\",\"activity_timeout\":120}"}"#,
    );
    let mut requests = Vec::new();
    while let Some(output) = conn.poll_output() {
        if let Output::Authorize(request) = output {
            requests.push(request);
        }
    }
    assert_eq!(requests.len(), places + 1);

    let mut settings = tbi_tokio::AuthSettings::default();
    settings.channel_endpoint = Some(endpoint.parse().expect("a URL"));
    let patient = HttpAuthorizer::new(
        settings.clone(),
        tbi_tokio::default_tls_config(),
        Duration::from_secs(8),
    );
    let hurried = HttpAuthorizer::new(
        settings,
        tbi_tokio::default_tls_config(),
        Duration::from_millis(500),
    );
    let last = requests.pop().expect("one more");
    let hanging: Vec<_> = requests
        .iter()
        .map(|request| tokio::spawn(patient.authorize(request)))
        .collect();
    // Every place taken (the endpoint accepted them all, or is about to).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let failure = hurried.authorize(&last).await.expect_err("no place");
    let message = failure.to_string();
    assert!(
        message.contains("could be sent within") && message.contains("32 requests"),
        "{message}"
    );
    for request in hanging {
        request.abort();
    }
}
