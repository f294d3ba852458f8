//! The auth settings a socket's authorizer reads on every request, replaceable while it
//! runs (a new token, endpoint or headers) without touching anything else.

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::config::AuthSettings;

/// Shared, replaceable [`AuthSettings`].
#[derive(Clone, Default)]
pub(crate) struct SharedAuth(Arc<RwLock<AuthSettings>>);

impl SharedAuth {
    pub(crate) fn new(settings: AuthSettings) -> Self {
        Self(Arc::new(RwLock::new(settings)))
    }

    /// The current settings. A panic while writing cannot leave them half-written: every
    /// write replaces or edits them in one step.
    pub(crate) fn get(&self) -> RwLockReadGuard<'_, AuthSettings> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn edit(&self) -> RwLockWriteGuard<'_, AuthSettings> {
        self.0.write().unwrap_or_else(|e| e.into_inner())
    }
}
