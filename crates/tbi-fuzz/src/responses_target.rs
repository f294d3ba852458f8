//! The answers of the auth endpoint and of the Iris event manager, as they come over
//! HTTP: any status, any body. Errors must never quote a secret the body carries.

use std::time::{Instant, SystemTime};

use arbitrary::Unstructured;
use iris_proto::{Config, ConnectParams, Connection, Event, HttpResponse, Output};
use tbi_proto::AuthResponse;

use crate::pick;

/// A secret that, as the value of a credential-like name (`auth`, `shared_secret`,
/// `websocket_server_token`, `access-token=`, `Bearer`), must not reach an error message.
/// (Prose is quoted as it is: a server that writes a token into a sentence is not
/// guessed at.)
const SECRET: &str = "S3CR3T0";

fn body(u: &mut Unstructured<'_>) -> String {
    let head = pick::text(u, 40);
    let template = pick::one(
        u,
        &[
            r#"{"auth":"app-key:S3CR3T0","channel_data":"{\"user_id\":\"1\"}"}"#,
            r#"{"auth":"app-key:S3CR3T0","shared_secret":"S3CR3T0"#,
            r#"{"websocket_server":"w","websocket_server_token":"S3CR3T0","websocket_server_token_expiry_time":1"#,
            r#"{"error":{"code":401,"message":"token expired","token":"S3CR3T0"}}"#,
            "<h1>error</h1> GET /auth?access-token=S3CR3T0&x=1",
            "Authorization: Bearer S3CR3T0",
            "",
        ],
    );
    format!("{head}{template}{}", pick::text(u, 40))
}

/// Reads the bytes as answers of the auth endpoint and the event manager.
pub fn responses(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let status = *pick::one(&mut u, &[&200u16, &201, &204, &401, &403, &404, &500, &0]);
    let body = body(&mut u);
    if let Err(failure) = AuthResponse::from_http(status, body.as_bytes()) {
        assert!(
            !failure.message.contains(SECRET),
            "an auth error quotes a secret: {}",
            failure.message
        );
    }
    let _ = AuthResponse::from_json(&body);

    let now = Instant::now();
    let mut conn = Connection::new(Config::default());
    let params = ConnectParams::new("token", "a@example.com", "evm.example.net", "T");
    if conn.connect(now, SystemTime::now(), params).is_err() {
        return;
    }
    let mut request = None;
    while let Some(output) = conn.poll_output() {
        if let Output::Http(r) = output {
            request = Some(r.id);
        }
    }
    let Some(id) = request else { return };
    conn.handle_http(
        now,
        id,
        Ok(HttpResponse {
            status,
            body: body.clone().into_bytes(),
        }),
    );
    while let Some(output) = conn.poll_output() {
        if let Output::Event(Event::ConnectionError { message, .. }) = output {
            assert!(
                !message.contains(SECRET),
                "an event-manager error quotes a secret: {message}"
            );
        }
    }
}
