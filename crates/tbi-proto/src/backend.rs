//! What an app's backend computes with the app secret: auth signatures, the keys of encrypted
//! channels, and encrypted event payloads.
//!
//! A client never needs the secret. These helpers exist for auth endpoints, for test servers
//! (our loopback endpoints sign with them) and for users' own backends written in Rust.
//! Signatures follow Pusher's "auth signatures" reference; the tests pin its test vectors.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use crypto_secretbox::XSalsa20Poly1305;
use crypto_secretbox::aead::{Aead, KeyInit as _};
use hmac::{Hmac, KeyInit as HmacKeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::auth::AuthResponse;
use crate::channel::{ChannelKind, ChannelName};

/// Signs with an app's key and secret. `Debug` hides the secret and the master key.
///
/// ```
/// use tbi_proto::backend::AuthSigner;
///
/// let signer = AuthSigner::new("278d425bdf160c739803", "7ad3773142a6692b25b8");
/// assert_eq!(
///     signer.channel_auth("1234.1234", "private-foobar"),
///     "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"
/// );
/// ```
#[derive(Clone)]
pub struct AuthSigner {
    key: String,
    secret: String,
    master_key: Option<[u8; 32]>,
}

impl fmt::Debug for AuthSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthSigner")
            .field("key", &self.key)
            .field("secret", &"<redacted>")
            .field("master_key", &self.master_key.map(|_| "<redacted>"))
            .finish()
    }
}

fn hex_hmac(secret: &str, message: &str) -> String {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail.
    let mut mac = <Hmac<Sha256> as HmacKeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    mac.update(message.as_bytes());
    let bytes = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(64);
    for byte in bytes.iter() {
        use fmt::Write as _;
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

impl AuthSigner {
    /// A signer for the app with this key and secret.
    pub fn new(key: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            secret: secret.into(),
            master_key: None,
        }
    }

    /// Adds the encryption master key, so answers for `private-encrypted-` channels carry
    /// their `shared_secret`.
    pub fn with_master_key(mut self, master_key: [u8; 32]) -> Self {
        self.master_key = Some(master_key);
        self
    }

    /// The app key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// `auth` for a private or encrypted channel: `key:hex(HMAC-SHA256(secret, "socket_id:channel"))`.
    pub fn channel_auth(&self, socket_id: &str, channel: &str) -> String {
        let sig = hex_hmac(&self.secret, &format!("{socket_id}:{channel}"));
        format!("{}:{sig}", self.key)
    }

    /// `auth` for a presence channel; `channel_data` is the exact JSON string the client
    /// will send.
    pub fn presence_auth(&self, socket_id: &str, channel: &str, channel_data: &str) -> String {
        let sig = hex_hmac(
            &self.secret,
            &format!("{socket_id}:{channel}:{channel_data}"),
        );
        format!("{}:{sig}", self.key)
    }

    /// `auth` for a user sign-in; `user_data` is the exact JSON string the client will send.
    pub fn user_auth(&self, socket_id: &str, user_data: &str) -> String {
        let sig = hex_hmac(&self.secret, &format!("{socket_id}::user::{user_data}"));
        format!("{}:{sig}", self.key)
    }

    /// The whole answer an auth endpoint gives for a channel: presence channels need
    /// `channel_data`; encrypted channels get their `shared_secret` when a master key is set.
    pub fn authorize_channel(
        &self,
        socket_id: &str,
        channel: &ChannelName,
        channel_data: Option<&str>,
    ) -> AuthResponse {
        match (channel.kind(), channel_data) {
            (ChannelKind::Presence, Some(data)) => AuthResponse {
                auth: self.presence_auth(socket_id, channel, data),
                channel_data: Some(data.to_owned()),
                ..AuthResponse::default()
            },
            (ChannelKind::PrivateEncrypted, _) => AuthResponse {
                auth: self.channel_auth(socket_id, channel),
                shared_secret: self
                    .master_key
                    .map(|master| BASE64.encode(shared_secret(channel, &master))),
                ..AuthResponse::default()
            },
            _ => AuthResponse::new(self.channel_auth(socket_id, channel)),
        }
    }

    /// The answer for a user sign-in.
    pub fn authorize_user(&self, socket_id: &str, user_data: &str) -> AuthResponse {
        AuthResponse {
            auth: self.user_auth(socket_id, user_data),
            user_data: Some(user_data.to_owned()),
            ..AuthResponse::default()
        }
    }
}

/// The key of an encrypted channel: `SHA-256(channel name ‖ master key)`, as Pusher's server
/// libraries derive it.
pub fn shared_secret(channel: &str, master_key: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(channel.as_bytes());
    hasher.update(master_key);
    hasher.finalize().into()
}

/// Encrypts an event payload for an encrypted channel: the JSON text
/// `{"nonce":"<base64>","ciphertext":"<base64>"}` to publish as the event's `data`.
///
/// `plaintext` is what subscribers receive as the event's data. Pusher's server libraries
/// encrypt `JSON.stringify(data)`; pass a JSON text to match them. The nonce must never
/// repeat for a key: draw it from a cryptographic random source.
///
/// ```
/// use tbi_proto::backend::{seal, shared_secret};
///
/// let key = shared_secret("private-encrypted-room", &[7; 32]);
/// let data = seal(&key, &[1; 24], r#"{"status":"in_progress"}"#);
/// assert!(data.starts_with(r#"{"nonce":""#));
/// ```
pub fn seal(key: &[u8; 32], nonce: &[u8; 24], plaintext: &str) -> String {
    let cipher = XSalsa20Poly1305::new(key.into());
    // Encryption into a Vec only fails for messages longer than the cipher allows (2^38 bytes).
    let ciphertext = cipher
        .encrypt(nonce.into(), plaintext.as_bytes())
        .unwrap_or_default();
    #[derive(serde::Serialize)]
    struct Sealed {
        nonce: String,
        ciphertext: String,
    }
    // Field order as Pusher's server libraries write it.
    serde_json::to_string(&Sealed {
        nonce: BASE64.encode(nonce),
        ciphertext: BASE64.encode(ciphertext),
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "278d425bdf160c739803";
    const SECRET: &str = "7ad3773142a6692b25b8";

    #[test]
    fn private_channel_vector_from_the_docs() {
        let signer = AuthSigner::new(KEY, SECRET);
        assert_eq!(
            signer.channel_auth("1234.1234", "private-foobar"),
            format!("{KEY}:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4")
        );
    }

    #[test]
    fn user_vector_from_the_docs() {
        let signer = AuthSigner::new(KEY, SECRET);
        assert_eq!(
            signer.user_auth("1234.1234", r#"{"id":"12345"}"#),
            format!("{KEY}:4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba")
        );
    }

    #[test]
    fn presence_vector_recomputed_not_the_docs_typo() {
        // The docs print afaed369…, which does not reproduce (spec §7.2).
        let signer = AuthSigner::new(KEY, SECRET);
        assert_eq!(
            signer.presence_auth(
                "1234.1234",
                "presence-foobar",
                r#"{"user_id":10,"user_info":{"name":"Mr. Channels"}}"#
            ),
            format!("{KEY}:31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80")
        );
    }

    #[test]
    fn authorize_channel_fills_the_fields_each_kind_needs() {
        let signer = AuthSigner::new(KEY, SECRET).with_master_key([3; 32]);
        let enc = ChannelName::parse("private-encrypted-x").unwrap();
        let r = signer.authorize_channel("1.1", &enc, None);
        let secret = BASE64.decode(r.shared_secret.unwrap()).unwrap();
        assert_eq!(secret, shared_secret("private-encrypted-x", &[3; 32]));

        let presence = ChannelName::parse("presence-x").unwrap();
        let r = signer.authorize_channel("1.1", &presence, Some(r#"{"user_id":"u"}"#));
        assert_eq!(r.channel_data.as_deref(), Some(r#"{"user_id":"u"}"#));
        assert_eq!(
            r.auth,
            signer.presence_auth("1.1", "presence-x", r#"{"user_id":"u"}"#)
        );
    }

    #[test]
    fn debug_hides_the_secret() {
        let debug = format!(
            "{:?}",
            AuthSigner::new(KEY, SECRET).with_master_key([9; 32])
        );
        assert!(!debug.contains(SECRET), "{debug}");
    }
}
