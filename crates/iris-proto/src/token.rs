//! The Iris token: when it expires, read from its JWT `exp` without verifying it.

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::Value;

/// The `exp` claim (Unix seconds) of a JWT, or `None` when the token is not a JWT with
/// a numeric `exp`.
pub(crate) fn jwt_expiry(token: &str) -> Option<u64> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .or_else(|_| URL_SAFE.decode(payload))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    match claims.get("exp")? {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        format!(
            "eyJhbGciOiJIUzI1NiJ9.{}.c2ln",
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    #[test]
    fn reads_exp_without_verifying() {
        assert_eq!(
            jwt_expiry(&jwt(r#"{"sub":"x","exp":1700000000}"#)),
            Some(1_700_000_000)
        );
        assert_eq!(
            jwt_expiry(&jwt(r#"{"exp":1700000000.5}"#)),
            Some(1_700_000_000)
        );
    }

    #[test]
    fn tokens_without_exp_have_no_expiry() {
        assert_eq!(jwt_expiry("opaque-token"), None);
        assert_eq!(jwt_expiry(&jwt(r#"{"sub":"x"}"#)), None);
        assert_eq!(jwt_expiry(&jwt(r#"{"exp":"soon"}"#)), None);
        assert_eq!(jwt_expiry("a.!!!.c"), None);
        assert_eq!(jwt_expiry("a.b.c.d"), None);
    }
}
