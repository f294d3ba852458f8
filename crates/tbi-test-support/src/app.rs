//! The one app every test server is configured with.

use tbi_proto::backend::AuthSigner;

/// App id.
pub const APP_ID: &str = "app-id";
/// App key.
pub const APP_KEY: &str = "app-key";
/// App secret.
pub const APP_SECRET: &str = "app-secret";
/// Encryption master key: the loopback auth endpoint derives each encrypted channel's
/// `shared_secret` from it, and the publisher seals events with the same key.
pub const MASTER_KEY: [u8; 32] = [7; 32];

/// A signer for the test app.
pub fn signer() -> AuthSigner {
    AuthSigner::new(APP_KEY, APP_SECRET).with_master_key(MASTER_KEY)
}
