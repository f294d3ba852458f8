//! A loopback consultation API: `GET /v1/consultations/{id}` with `Authorization: Bearer`,
//! answering with the consultation the caller set, as the Altibbi API does.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use serde_json::{Value, json};

use crate::json_content_type;

/// One request the API received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCall {
    /// The path, without the query.
    pub path: String,
    /// The query parameters (`expand=…`).
    pub query: Vec<(String, String)>,
    /// The `Authorization` header.
    pub authorization: Option<String>,
    /// The status it was answered with.
    pub status: u16,
}

#[derive(Default)]
struct State {
    token: String,
    consultations: HashMap<u64, Value>,
    calls: Vec<ApiCall>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// The API. Stopped on drop.
pub struct ConsultationApi {
    server: Arc<tiny_http::Server>,
    port: u16,
    state: Arc<Mutex<State>>,
    thread: Option<JoinHandle<()>>,
}

impl ConsultationApi {
    /// Starts on a free loopback port, accepting `Bearer {token}`.
    pub fn start(token: &str) -> io::Result<Self> {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").map_err(io::Error::other)?);
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .ok_or_else(|| io::Error::other("the API has no IP address"))?;
        let state = Arc::new(Mutex::new(State {
            token: token.to_owned(),
            ..State::default()
        }));
        let thread = {
            let (server, state) = (server.clone(), state.clone());
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    answer(request, &state);
                }
            })
        };
        Ok(Self {
            server,
            port,
            state,
            thread: Some(thread),
        })
    }

    /// The API base URL, `http://127.0.0.1:{port}`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Serves this consultation from now on.
    pub fn set(&self, id: u64, consultation: Value) {
        lock(&self.state).consultations.insert(id, consultation);
    }

    /// Changes the consultation served under `id`, if there is one.
    pub fn update(&self, id: u64, change: impl FnOnce(&mut Value)) {
        if let Some(consultation) = lock(&self.state).consultations.get_mut(&id) {
            change(consultation);
        }
    }

    /// Accepts only this token from now on (the previous one has expired).
    pub fn set_token(&self, token: &str) {
        token.clone_into(&mut lock(&self.state).token);
    }

    /// Every request so far.
    pub fn calls(&self) -> Vec<ApiCall> {
        lock(&self.state).calls.clone()
    }
}

impl Drop for ConsultationApi {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn answer(request: tiny_http::Request, state: &Mutex<State>) {
    let (path, query) = match request.url().split_once('?') {
        Some((path, query)) => (
            path.to_owned(),
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        ),
        None => (request.url().to_owned(), Vec::new()),
    };
    let authorization = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Authorization"))
        .map(|h| h.value.as_str().to_owned());
    let (status, body) = {
        let mut state = lock(state);
        let id = path
            .strip_prefix("/v1/consultations/")
            .and_then(|id| id.parse::<u64>().ok());
        let expected = format!("Bearer {}", state.token);
        let (status, body) = if *request.method() != tiny_http::Method::Get {
            (405, json!({"message": "Method Not Allowed", "status": 405}))
        } else if authorization.as_deref() != Some(expected.as_str()) {
            (
                401,
                json!({"name": "Unauthorized", "message": "Your request was made with invalid credentials.", "status": 401}),
            )
        } else {
            match id.and_then(|id| state.consultations.get(&id)) {
                Some(consultation) => (200, consultation.clone()),
                None => (
                    404,
                    json!({"name": "Not Found", "message": "Consultation not found", "status": 404}),
                ),
            }
        };
        state.calls.push(ApiCall {
            path,
            query,
            authorization,
            status,
        });
        (status, body.to_string())
    };
    let response = tiny_http::Response::from_string(body)
        .with_status_code(status)
        .with_header(json_content_type());
    let _ = request.respond(response);
}
