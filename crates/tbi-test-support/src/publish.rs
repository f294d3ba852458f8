//! Publishing events through a server's HTTP API, signed as Pusher's server libraries do.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use serde_json::json;
use sha2::Sha256;
use tbi_proto::backend::{seal, shared_secret};

use crate::app::{APP_ID, APP_KEY, APP_SECRET, MASTER_KEY};

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The query string of a signed HTTP API request:
/// `auth_signature = HMAC-SHA256(secret, "POST\n{path}\n{sorted params}")`.
pub fn signed_query(method: &str, path: &str, body: &str, timestamp: u64) -> String {
    let body_md5 = hex(&Md5::digest(body.as_bytes()));
    let query = format!(
        "auth_key={APP_KEY}&auth_timestamp={timestamp}&auth_version=1.0&body_md5={body_md5}"
    );
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(APP_SECRET.as_bytes()).expect("any key length");
    mac.update(format!("{method}\n{path}\n{query}").as_bytes());
    format!(
        "{query}&auth_signature={}",
        hex(&mac.finalize().into_bytes())
    )
}

/// Triggers `event` on `channel` with `data` (a string, as the HTTP API takes it).
/// Blocking; call it through [`blocking`](crate::blocking) from async code.
pub fn publish(http_url: &str, channel: &str, event: &str, data: &str) -> Result<(), String> {
    let body = json!({"name": event, "channels": [channel], "data": data}).to_string();
    post(http_url, "events", &body).map_err(|e| format!("publishing {event} on {channel}: {e}"))
}

/// Triggers `event` on `channel` once per item of `data`, in one request to the batch
/// API (`/batch_events`; the server bounds how many one batch may hold). Blocking.
pub fn publish_batch(
    http_url: &str,
    channel: &str,
    event: &str,
    data: &[String],
) -> Result<(), String> {
    let batch: Vec<_> = data
        .iter()
        .map(|data| json!({"name": event, "channel": channel, "data": data}))
        .collect();
    let body = json!({ "batch": batch }).to_string();
    post(http_url, "batch_events", &body).map_err(|e| {
        format!(
            "publishing a batch of {} {event} on {channel}: {e}",
            data.len()
        )
    })
}

/// A signed `POST /apps/{id}/{endpoint}` with this JSON body.
fn post(http_url: &str, endpoint: &str, body: &str) -> Result<(), String> {
    let path = format!("/apps/{APP_ID}/{endpoint}");
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let url = format!(
        "{http_url}{path}?{}",
        signed_query("POST", &path, body, timestamp)
    );
    let response = ureq::post(&url)
        .header("Content-Type", "application/json")
        .config()
        .http_status_as_error(false)
        .build()
        .send(body)
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    if status == 200 {
        Ok(())
    } else {
        let text = response.into_body().read_to_string().unwrap_or_default();
        Err(format!("HTTP {status}: {text}"))
    }
}

/// Triggers an event on an encrypted channel: `plaintext` sealed with the channel's key
/// (derived from the test master key), as Pusher's server libraries do.
pub fn publish_encrypted(
    http_url: &str,
    channel: &str,
    event: &str,
    plaintext: &str,
) -> Result<(), String> {
    publish_encrypted_with(&MASTER_KEY, http_url, channel, event, plaintext)
}

/// [`publish_encrypted`] with another master key (after
/// [`AuthEndpoint::rotate_master_key`](crate::auth_endpoint::AuthEndpoint::rotate_master_key)).
pub fn publish_encrypted_with(
    master_key: &[u8; 32],
    http_url: &str,
    channel: &str,
    event: &str,
    plaintext: &str,
) -> Result<(), String> {
    let key = shared_secret(channel, master_key);
    let mut nonce = [0u8; 24];
    nonce.iter_mut().for_each(|b| *b = fastrand::u8(..));
    publish(http_url, channel, event, &seal(&key, &nonce, plaintext))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_pushers_documented_example() {
        // The HTTP API reference's example, recomputed with this app's secret: the shape is
        // what matters (sorted params, body_md5, the signed string).
        let query = signed_query("POST", "/apps/app-id/events", "{}", 1_353_088_179);
        assert!(query.starts_with(
            "auth_key=app-key&auth_timestamp=1353088179&auth_version=1.0&body_md5=99914b932bd37a50b983c5e7c90ae93b&auth_signature="
        ));
        assert_eq!(query.rsplit('=').next().map(str::len), Some(64));
    }
}
