//! A loopback auth endpoint that signs with the test app's secret, as an app's backend
//! does, and can be told to refuse, sign wrongly, or require a token.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::json;
use tbi_proto::{ChannelKind, ChannelName};

use crate::app::signer;

/// One request the endpoint received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCall {
    /// `/pusher/auth` or `/pusher/user-auth`.
    pub path: String,
    /// The `socket_id` field.
    pub socket_id: String,
    /// The `channel_name` field (empty for user auth).
    pub channel: String,
    /// Every form field.
    pub form: Vec<(String, String)>,
    /// Every query parameter.
    pub query: Vec<(String, String)>,
    /// Every header, names lower-cased.
    pub headers: Vec<(String, String)>,
}

#[derive(Default)]
struct Policy {
    /// Canned answers: status and body.
    answers: HashMap<String, (u16, String)>,
    wrong_signature: HashSet<String>,
    token: Option<String>,
    delay: HashMap<String, Duration>,
    /// The encryption master key, when rotated away from the app's.
    master_key: Option<[u8; 32]>,
}

/// The endpoint. Stopped on drop.
pub struct AuthEndpoint {
    server: Arc<tiny_http::Server>,
    port: u16,
    policy: Arc<Mutex<Policy>>,
    calls: Arc<Mutex<Vec<AuthCall>>>,
    thread: Option<JoinHandle<()>>,
}

impl AuthEndpoint {
    /// Starts on a free loopback port.
    pub fn start() -> Self {
        let server =
            Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind the auth endpoint"));
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .expect("an IP listener");
        let policy = Arc::new(Mutex::new(Policy::default()));
        let calls = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (server, policy, calls) = (server.clone(), policy.clone(), calls.clone());
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    let (policy, calls) = (policy.clone(), calls.clone());
                    // Each request on its own thread, so a delayed answer delays only itself.
                    std::thread::spawn(move || answer(request, &policy, &calls));
                }
            })
        };
        Self {
            server,
            port,
            policy,
            calls,
            thread: Some(thread),
        }
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The channel auth URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/pusher/auth", self.port)
    }

    /// The user auth URL.
    pub fn user_url(&self) -> String {
        format!("http://127.0.0.1:{}/pusher/user-auth", self.port)
    }

    /// Answers requests for `channel` with this HTTP status.
    pub fn deny(&self, channel: &str, status: u16) {
        self.answer(
            channel,
            status,
            &json!({"error": "not allowed"}).to_string(),
        );
    }

    /// Answers requests for `channel` with this status and body, whatever they are.
    pub fn answer(&self, channel: &str, status: u16, body: &str) {
        self.policy
            .lock()
            .expect("policy")
            .answers
            .insert(channel.to_owned(), (status, body.to_owned()));
    }

    /// Signs `channel` with a wrong signature (the server then rejects the subscription).
    pub fn sign_wrongly(&self, channel: &str) {
        self.policy
            .lock()
            .expect("policy")
            .wrong_signature
            .insert(channel.to_owned());
    }

    /// Back to signing `channel` normally: no canned answer, no wrong signature, no
    /// delay.
    pub fn heal(&self, channel: &str) {
        let mut policy = self.policy.lock().expect("policy");
        policy.answers.remove(channel);
        policy.wrong_signature.remove(channel);
        policy.delay.remove(channel);
    }

    /// Answers requests for `channel` only after `delay`.
    pub fn delay(&self, channel: &str, delay: Duration) {
        self.policy
            .lock()
            .expect("policy")
            .delay
            .insert(channel.to_owned(), delay);
    }

    /// Requires `?access-token={token}` (401 otherwise), as the production endpoint does;
    /// `None` accepts every request.
    pub fn require_token(&self, token: Option<&str>) {
        self.policy.lock().expect("policy").token = token.map(str::to_owned);
    }

    /// Rotates the encryption master key: encrypted channels get shared secrets derived
    /// from `key` from now on (publish with
    /// [`publish_encrypted_with`](crate::publish::publish_encrypted_with) and the same key).
    pub fn rotate_master_key(&self, key: [u8; 32]) {
        self.policy.lock().expect("policy").master_key = Some(key);
    }

    /// Every request so far.
    pub fn calls(&self) -> Vec<AuthCall> {
        self.calls.lock().expect("calls").clone()
    }

    /// The `access-token` of every request so far, in order (requests without one left
    /// out).
    pub fn tokens(&self) -> Vec<String> {
        self.calls()
            .iter()
            .filter_map(|c| {
                c.query
                    .iter()
                    .find(|(k, _)| k == "access-token")
                    .map(|(_, v)| v.clone())
            })
            .collect()
    }
}

impl Drop for AuthEndpoint {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn pairs(text: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

fn answer(mut request: tiny_http::Request, policy: &Mutex<Policy>, calls: &Mutex<Vec<AuthCall>>) {
    let mut body = String::new();
    let _ = request.as_reader().read_to_string(&mut body);
    let (path, query) = match request.url().split_once('?') {
        Some((path, query)) => (path.to_owned(), pairs(query)),
        None => (request.url().to_owned(), Vec::new()),
    };
    let form = pairs(&body);
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let call = AuthCall {
        path: path.clone(),
        socket_id: field("socket_id"),
        channel: field("channel_name"),
        headers: request
            .headers()
            .iter()
            .map(|h| {
                (
                    h.field.as_str().as_str().to_ascii_lowercase(),
                    h.value.as_str().to_owned(),
                )
            })
            .collect(),
        form: form.clone(),
        query: query.clone(),
    };
    calls.lock().expect("calls").push(call.clone());

    let (canned, wrong, token, delay, master_key) = {
        let policy = policy.lock().expect("policy");
        (
            policy.answers.get(&call.channel).cloned(),
            policy.wrong_signature.contains(&call.channel),
            policy.token.clone(),
            policy.delay.get(&call.channel).copied(),
            policy.master_key,
        )
    };
    if let Some(delay) = delay {
        std::thread::sleep(delay);
    }
    let respond = |status: u16, body: String| {
        let response = tiny_http::Response::from_string(body)
            .with_status_code(status)
            .with_header(
                tiny_http::Header::from_bytes("Content-Type", "application/json").expect("header"),
            );
        let _ = request.respond(response);
    };
    if let Some(token) = token
        && !query
            .iter()
            .any(|(k, v)| k == "access-token" && *v == token)
    {
        return respond(
            401,
            json!({"error": "access token expired or invalid"}).to_string(),
        );
    }
    if let Some((status, body)) = canned {
        return respond(status, body);
    }
    // The user the client acts as: the `user` form field (tests add it), else `user-1`.
    let user = Some(field("user"))
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "user-1".to_owned());
    let signer = match master_key {
        Some(key) => signer().with_master_key(key),
        None => signer(),
    };
    let answer = if path.ends_with("/user-auth") {
        signer.authorize_user(&call.socket_id, &json!({"id": user}).to_string())
    } else {
        let Ok(channel) = ChannelName::parse(&call.channel) else {
            return respond(400, json!({"error": "bad channel_name"}).to_string());
        };
        let channel_data = (channel.kind() == ChannelKind::Presence)
            .then(|| json!({"user_id": user, "user_info": {"name": user}}).to_string());
        let mut answer =
            signer.authorize_channel(&call.socket_id, &channel, channel_data.as_deref());
        if wrong {
            answer.auth = format!("{}:{}", crate::app::APP_KEY, "0".repeat(64));
        }
        answer
    };
    respond(200, answer.to_json());
}
