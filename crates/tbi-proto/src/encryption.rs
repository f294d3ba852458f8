//! Opening the events of `private-encrypted-` channels (NaCl secretbox, XSalsa20-Poly1305).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use crypto_secretbox::XSalsa20Poly1305;
use crypto_secretbox::aead::{Aead, KeyInit};
use zeroize::Zeroizing;

use crate::wire::inbound::{Data, EncryptedPayload};

const NONCE_LEN: usize = 24;
const MAC_LEN: usize = 16;

/// The 32-byte key of one encrypted channel; wiped on drop, never printed.
#[derive(Clone)]
pub(crate) struct ChannelKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for ChannelKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChannelKey(<redacted>)")
    }
}

impl ChannelKey {
    /// Decodes the `shared_secret` of an auth answer.
    pub(crate) fn from_base64(text: &str) -> Result<Self, String> {
        let bytes = Zeroizing::new(
            BASE64
                .decode(text.trim())
                .map_err(|e| format!("shared_secret is not base64: {e}"))?,
        );
        let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            format!(
                "shared_secret decodes to {} bytes; an encrypted channel key has 32",
                bytes.len()
            )
        })?;
        Ok(Self(Zeroizing::new(key)))
    }
}

/// Why an event could not be opened.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum OpenError {
    /// The payload is not `{nonce, ciphertext}` with valid base64 and lengths; a new key
    /// would not help.
    Malformed(String),
    /// Authentication failed: wrong key (rotated) or tampered data.
    Mac,
}

/// Opens one event's data. A plaintext that is a JSON string is unwrapped, as an unencrypted
/// channel's double-encoded data is; any other plaintext is delivered as-is.
pub(crate) fn open(key: &ChannelKey, data: &Data<'_>) -> Result<String, OpenError> {
    let payload: EncryptedPayload = data
        .parse()
        .map_err(|e| OpenError::Malformed(format!("not an encrypted payload: {}", e.0)))?;
    let nonce = BASE64
        .decode(&payload.nonce)
        .map_err(|e| OpenError::Malformed(format!("nonce is not base64: {e}")))?;
    let ciphertext = BASE64
        .decode(&payload.ciphertext)
        .map_err(|e| OpenError::Malformed(format!("ciphertext is not base64: {e}")))?;
    let nonce: [u8; NONCE_LEN] = nonce.as_slice().try_into().map_err(|_| {
        OpenError::Malformed(format!(
            "nonce has {} bytes, expected {NONCE_LEN}",
            nonce.len()
        ))
    })?;
    if ciphertext.len() < MAC_LEN {
        return Err(OpenError::Malformed(format!(
            "ciphertext has {} bytes, shorter than the {MAC_LEN}-byte authenticator",
            ciphertext.len()
        )));
    }
    let cipher = XSalsa20Poly1305::new((&*key.0).into());
    let plain = cipher
        .decrypt((&nonce).into(), ciphertext.as_slice())
        .map_err(|_| OpenError::Mac)?;
    let text = String::from_utf8(plain)
        .map_err(|_| OpenError::Malformed("decrypted payload is not UTF-8".into()))?;
    if text.starts_with('"')
        && let Ok(inner) = serde_json::from_str::<String>(&text)
    {
        return Ok(inner);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::backend::{seal, shared_secret};

    fn key_for(channel: &str, byte: u8) -> ([u8; 32], ChannelKey) {
        let raw = shared_secret(channel, &[byte; 32]);
        (raw, ChannelKey::from_base64(&BASE64.encode(raw)).unwrap())
    }

    fn key(byte: u8) -> ([u8; 32], ChannelKey) {
        key_for("private-encrypted-c", byte)
    }

    #[test]
    fn opens_what_seal_closed() {
        let (raw, key) = key(1);
        let sealed = seal(&raw, &[5; 24], r#"{"status":"in_progress"}"#);
        assert_eq!(
            open(&key, &Data::Text(Cow::Owned(sealed))).unwrap(),
            r#"{"status":"in_progress"}"#
        );
    }

    #[test]
    fn opens_what_libsodium_sealed() {
        // Sealed by PyNaCl (libsodium's crypto_secretbox) with the key of
        // private-encrypted-consultation-42 under a master key of 32 bytes of 1.
        let (_, key) = key_for("private-encrypted-consultation-42", 1);
        let sealed = r#"{"nonce":"BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUF","ciphertext":"TvWA5EhbMPWkZx+Fg3to3wjZom7CNSjueo1CweZnhgseoTNxx25yjw=="}"#;
        assert_eq!(
            open(&key, &Data::Text(Cow::Borrowed(sealed))).unwrap(),
            r#"{"status":"in_progress"}"#
        );
    }

    #[test]
    fn json_string_plaintext_is_unwrapped() {
        let (raw, key) = key(1);
        let sealed = seal(&raw, &[5; 24], r#""hello""#);
        assert_eq!(
            open(&key, &Data::Text(Cow::Owned(sealed))).unwrap(),
            "hello"
        );
    }

    #[test]
    fn wrong_key_is_a_mac_failure() {
        let (raw, _) = key(1);
        let (_, other) = key(2);
        let sealed = seal(&raw, &[5; 24], "{}");
        assert_eq!(
            open(&other, &Data::Text(Cow::Owned(sealed))),
            Err(OpenError::Mac)
        );
    }

    #[test]
    fn malformed_payloads_are_named() {
        let (_, key) = key(1);
        for data in [
            "not json",
            r#"{"nonce":"AAAA"}"#,
            r#"{"nonce":"***","ciphertext":"AAAA"}"#,
            r#"{"nonce":"AAAA","ciphertext":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#,
            r#"{"nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","ciphertext":"AAAA"}"#,
        ] {
            assert!(
                matches!(
                    open(&key, &Data::Text(Cow::Borrowed(data))),
                    Err(OpenError::Malformed(_))
                ),
                "{data}"
            );
        }
    }

    #[test]
    fn shared_secret_must_be_32_bytes_of_base64() {
        assert!(ChannelKey::from_base64("!!").is_err());
        assert!(
            ChannelKey::from_base64(&BASE64.encode([0u8; 16]))
                .unwrap_err()
                .contains("16 bytes")
        );
        assert!(format!("{:?}", key(1).1).contains("redacted"));
    }
}
